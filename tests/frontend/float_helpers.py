"""Helpers of the float-ONNX frontend tests: a small graph builder, calibration data, and a
harness that imports a float model (post-training quantization), runs the integer program on
the reference interpreter and compares the dequantized outputs with onnxruntime's float ones."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from xdsl.dialects.builtin import ModuleOp

from compiler.frontend import import_model
from compiler.frontend.ptq_core import INPUT_SCALES_ATTR, OUTPUT_SCALES_ATTR
from compiler.frontend.qtfm_builder import INPUT_NAMES_ATTR
from compiler.reference.interpreter import Interpreter, entry_function
from compiler.tools.compile_model import io_names
from compiler.tools.run_model import _quantize

FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64
INT64_MAX = np.iinfo(np.int64).max


@dataclass
class G:
    """Nodes and initializers of a test graph; node names are `<op>_<k>` (predictable in
    error messages), outputs `t<k>`."""

    opset: int = 17
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    inits: list[onnx.TensorProto] = field(default_factory=list)
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))

    def op(self, op_type: str, *inputs: str, out: str | None = None, n_out: int = 1, **attrs: object) -> str:
        k = len(self.nodes)
        outs = [out or f"t{k}"] + [f"t{k}_{j}" for j in range(1, n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=f"{op_type}_{k}", **attrs))
        return outs[0]

    def c(self, value: object, dtype: type = np.float32) -> str:
        """An initializer holding `value`."""
        name = f"c{len(self.inits)}"
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def ints(self, *values: int) -> str:
        return self.c(list(values), np.int64)

    def randn(self, *shape: int, scale: float = 1.0) -> str:
        return self.c(self.rng.standard_normal(shape) * scale)

    def linear(self, x: str, k: int, n: int) -> str:
        """MatMul with a [k, n] weight plus a bias (torch.nn.Linear as exported)."""
        y = self.op("MatMul", x, self.randn(k, n, scale=1 / np.sqrt(k)))
        return self.op("Add", y, self.randn(n, scale=0.1))

    def reduce_mean(self, x: str, axes: list[int], keepdims: int = 1) -> str:
        """ReduceMean with `axes` as an attribute (opset < 18) or an input (opset >= 18)."""
        if self.opset >= 18:
            return self.op("ReduceMean", x, self.ints(*axes), keepdims=keepdims)
        return self.op("ReduceMean", x, axes=axes, keepdims=keepdims)

    def model(
        self,
        inputs: list[tuple[str, int, list[int | str]]],
        outputs: list[str],
        opset: int | None = None,
        check: bool = True,
    ) -> onnx.ModelProto:
        """The model; `check=False` for onnxruntime ops that ONNX's checker does not know."""
        graph = helper.make_graph(
            self.nodes,
            "test",
            [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
            [helper.make_tensor_value_info(o, FLOAT, None) for o in outputs],
            self.inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset or self.opset)])
        model.ir_version = 8
        if check:
            model = onnx.shape_inference.infer_shapes(model)  # gives the outputs their shapes
            onnx.checker.check_model(model)
        return model


def randn(*shape: int, seed: int = 1, scale: float = 1.0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def padding_mask(samples: int, seq: int, seed: int = 2) -> np.ndarray:
    """[samples, 1, seq] int64 attention masks: ones, then zeros after a random length."""
    lengths = np.random.default_rng(seed).integers(seq // 2, seq + 1, size=samples)
    lengths[0] = seq
    return (np.arange(seq)[None, :] < lengths[:, None]).astype(np.int64)[:, None, :]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30))


def onnxruntime_outputs(model: onnx.ModelProto, calib: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Float outputs of every sample (inputs carry a leading sample axis), stacked."""
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    count = next(iter(calib.values())).shape[0]
    runs = [sess.run(names, {k: v[s] for k, v in calib.items()}) for s in range(count)]
    return [np.stack([r[i] for r in runs]) for i in range(len(names))]


@dataclass
class Result:
    module: ModuleOp
    weights: dict[str, np.ndarray]
    ops: Counter[str]
    outputs: list[np.ndarray]
    """Dequantized outputs of the integer program, stacked over the samples."""
    reference: list[np.ndarray]
    """onnxruntime's float outputs."""

    def ops_of(self, name: str) -> list:
        return [op for op in entry_function(self.module).body.block.ops if op.name == name]

    def weight_of(self, value) -> np.ndarray:
        """The stored values of a qtfm.weight result."""
        return self.weights[value.owner.sym.data]

    def cosines(self) -> list[float]:
        return [cosine(a, b) for a, b in zip(self.outputs, self.reference, strict=True)]


def save(tmp_path: Path, model: onnx.ModelProto, calib: dict[str, np.ndarray]) -> tuple[Path, Path]:
    path, calib_path = tmp_path / "model.onnx", tmp_path / "calib.npz"
    onnx.save(model, path)
    np.savez(calib_path, **calib)  # type: ignore[arg-type]
    return path, calib_path


def quantize_and_run(
    tmp_path: Path,
    model: onnx.ModelProto,
    calib: dict[str, np.ndarray],
    seq_len: int | None = None,
    precision: str = "mixed",
) -> Result:
    """Imports the float model with `calib` as representative inputs, then runs the integer
    program on the same inputs as `mote run` does (quantize inputs, interpret, dequantize)."""
    path, calib_path = save(tmp_path, model, calib)
    module, weights = import_model(path, calib_path, seq_len, precision)
    module.verify()
    f = entry_function(module)
    in_scales = [a.value.data for a in f.attributes[INPUT_SCALES_ATTR].data]  # type: ignore[attr-defined]
    out_scales = [a.value.data for a in f.attributes[OUTPUT_SCALES_ATTR].data]  # type: ignore[attr-defined]
    in_types = f.function_type.inputs.data
    interp = Interpreter(module, weights)
    arrays = [calib[n] for n in io_names(f, INPUT_NAMES_ATTR, len(in_types))]
    runs = []
    for s in range(arrays[0].shape[0]):
        ints = [_quantize(a[s], sc, t) for a, sc, t in zip(arrays, in_scales, in_types, strict=True)]
        runs.append([y * sc for y, sc in zip(interp.run(ints), out_scales, strict=True)])
    outputs = [np.stack([r[i] for r in runs]) for i in range(len(out_scales))]
    ops = Counter(op.name for op in f.body.block.ops)
    return Result(module, weights, ops, outputs, onnxruntime_outputs(model, calib))


def mote(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compiler.tools.mote", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )
