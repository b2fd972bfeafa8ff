"""The compiler's own speed on real networks (pytest-benchmark; run with `make bench`).

Measured, never asserted: the full `mote compile` of BERT-tiny at 128 tokens for rv32imc; import
of Deeploy's microLlama8 (505 ONNX nodes) into qtfm, one
reference-interpreter run of it, and a parse of its printed IR, which is what every
`mote-opt` invocation pays.
"""

from io import StringIO

import numpy as np
from xdsl.parser import Parser
from xdsl.printer import Printer

from compiler.frontend.deeploy import import_integer_network
from compiler.frontend.onnx_model import load_onnx
from compiler.reference.interpreter import Interpreter
from compiler.tools.ir_files import mote_context
from tests.deeploy_networks import ROOT

LLAMA = ROOT / "Models" / "microLlama" / "INT8" / "microLlama8"


def _inputs() -> list[np.ndarray]:
    data = np.load(LLAMA / "inputs.npz")
    return [data[k] for k in data.files]


def test_import_microllama8(benchmark) -> None:
    model = load_onnx(LLAMA / "network.onnx")
    module, _ = benchmark(import_integer_network, model, _inputs(), "w.npz")
    assert module is not None


def test_reference_run_microllama8(benchmark) -> None:
    inputs = _inputs()
    module, weights = import_integer_network(load_onnx(LLAMA / "network.onnx"), inputs, "w")
    outputs = benchmark(Interpreter(module, weights).run, inputs)
    assert len(outputs) == 17


def test_parse_microllama8_ir(benchmark) -> None:
    module, _ = import_integer_network(load_onnx(LLAMA / "network.onnx"), _inputs(), "w")
    text = StringIO()
    Printer(text).print_op(module)
    ctx = mote_context()
    parsed = benchmark(lambda: Parser(ctx, text.getvalue()).parse_module())
    assert len(list(parsed.walk())) == len(list(module.walk()))


def test_compile_bert_tiny_128_to_rv32imc(benchmark, tmp_path) -> None:
    """`mote compile` of the zoo BERT-tiny at 128 tokens for rv32imc: import with post-training
    quantization, lowering, memory planning, C emission and the cross build (issue 4: < 20 s)."""
    from compiler.frontend.zoo import save_inputs, save_model
    from compiler.tools.compile_model import compile_model

    model = save_model("bert-tiny", tmp_path / "bert-tiny.onnx", 128)
    calib = save_inputs("bert-tiny", tmp_path / "calib.npz", 128, seed=2)
    report = benchmark.pedantic(
        compile_model, (model, tmp_path / "out", "rv32imc", calib, False), rounds=2, iterations=1
    )
    assert report["arena_bytes"] > 0
