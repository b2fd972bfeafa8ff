"""A zoo model quantized by mote next to the float model run by onnxruntime, on evaluation
inputs that differ from the calibration inputs: what the accuracy tests and the README's
PTQ table both measure."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from compiler.frontend import import_model
from compiler.frontend.ptq_core import OUTPUT_SCALES_ATTR
from compiler.frontend.zoo import save_inputs, save_model
from compiler.reference.interpreter import Interpreter, entry_function


def quantized_vs_float(
    name: str, seq_len: int, precision: str, work: Path, output_bits: int = 16
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per output: (dequantized integer-program output, onnxruntime's float output)."""
    model = save_model(name, work / f"{name}.onnx", seq_len)
    calib_kwargs: dict[str, object] = {"seed": 2} if name != "minilm" else {"source": "calibration"}
    calib = save_inputs(name, work / "calib.npz", seq_len, **calib_kwargs)
    with np.load(save_inputs(name, work / "in.npz", seq_len, seed=1)) as data:
        inputs = {k: data[k] for k in data.files}
    module, weights = import_model(model, calib, seq_len, precision, output_bits)
    return integer_vs_float(model, module, weights, inputs)


def integer_vs_float(
    model: Path, module: ModuleOp, weights: dict[str, np.ndarray], inputs: Mapping[str, np.ndarray]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per output: the integer program's output dequantized with its scale (reference
    interpreter) and onnxruntime's on the float `model`, for every sample of `inputs`."""
    import onnxruntime as ort

    scales = [s.value.data for s in entry_function(module).attributes[OUTPUT_SCALES_ATTR].data]  # type: ignore[attr-defined]
    interp = Interpreter(module, weights)
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    keys = list(inputs)
    got: dict[str, list[np.ndarray]] = {n: [] for n in names}
    want: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for i in range(next(iter(inputs.values())).shape[0]):
        sample = {k: inputs[k][i] for k in keys}
        ints = interp.run([sample[k] for k in keys])
        for n, q, s, ref in zip(names, ints, scales, session.run(names, sample), strict=True):
            got[n].append(q * s)
            want[n].append(ref)
    return {n: (np.stack(got[n]), np.stack(want[n])) for n in names}
