"""Shared helpers of the model-zoo tests: onnxruntime sessions and cached zoo models."""

from functools import cache

import numpy as np
import onnx
import onnxruntime as ort

from compiler.frontend.zoo import build_model


@cache
def zoo_model_bytes(name: str, seq_len: int, seed: int = 0, opset: int = 17) -> bytes:
    return build_model(name, seq_len, seed, opset=opset).SerializeToString()


def session(model: onnx.ModelProto | bytes, optimize: bool = False) -> ort.InferenceSession:
    """A CPU session; graph optimizations off by default, so that the nodes as written run."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    if not optimize:
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    data = model if isinstance(model, bytes) else model.SerializeToString()
    return ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])


def run_samples(sess: ort.InferenceSession, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Runs every sample of [S, 1, L] inputs; outputs stacked on the sample axis."""
    names = [o.name for o in sess.get_outputs()]
    count = next(iter(inputs.values())).shape[0]
    runs = [sess.run(names, {k: v[s] for k, v in inputs.items()}) for s in range(count)]
    return {n: np.stack([r[i] for r in runs]) for i, n in enumerate(names)}
