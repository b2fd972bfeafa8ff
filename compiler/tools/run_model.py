"""`mote run`: execute a compiled model directory on the inputs of an npz file.

The runner is the one the report names. Today that is the reference interpreter (the
golden model); the C targets will add host binaries and the emulators, each recording its
own figures (instructions, cycles) in `report.json`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from xdsl.dialects import func
from xdsl.ir import Attribute

from compiler.errors import MoteError, NotImplementedYet
from compiler.frontend.ptq import INPUT_SCALES_ATTR, OUTPUT_SCALES_ATTR
from compiler.frontend.qtfm_builder import INPUT_NAMES_ATTR, OUTPUT_NAMES_ATTR
from compiler.npz_io import match_inputs, read_npz, write_outputs
from compiler.reference.interpreter import Interpreter, entry_function
from compiler.tools.compile_model import MODEL_IR, REPORT, io_names
from compiler.tools.ir_files import read_ir
from dialects.qtfm import int_range


def _scales(f: func.FuncOp, attr: str, count: int) -> list[float]:
    """Real value of one unit of each input/output; 0 where the model works on exact integers."""
    scales = f.attributes.get(attr)
    if scales is None:
        return [0.0] * count
    return [s.value.data for s in scales.data]  # type: ignore[attr-defined]


def _quantize(x: np.ndarray, scale: float, typ: Attribute) -> np.ndarray:
    """A float input in the model's integer units (round half to even, saturated)."""
    if scale == 0:
        return x
    lo, hi = int_range(typ.element_type)  # type: ignore[attr-defined]
    return np.clip(np.round(np.asarray(x, np.float64) / scale), lo, hi).astype(np.int64)


def run_model(directory: Path, inputs: Path, outputs: Path) -> dict[str, object]:
    report_path = directory / REPORT
    try:
        report = json.loads(report_path.read_text())
    except FileNotFoundError:
        raise MoteError(f"{report_path}: no report; run `mote compile` first") from None
    if report.get("runner") != "reference":
        raise NotImplementedYet(f"the {report.get('runner')} runner")

    module, weights = read_ir(directory / MODEL_IR)
    f = entry_function(module)
    in_types = f.function_type.inputs.data
    in_names = io_names(f, INPUT_NAMES_ATTR, len(in_types))
    out_names = io_names(f, OUTPUT_NAMES_ATTR, len(f.function_type.outputs.data))
    matched = match_inputs(
        inputs,
        read_npz(inputs),
        in_names,
        [t.get_shape() for t in in_types],  # type: ignore[attr-defined]
    )
    for note in matched.notes:
        print(f"mote: note: {note}", file=sys.stderr)
    in_scales = _scales(f, INPUT_SCALES_ATTR, len(in_types))
    out_scales = _scales(f, OUTPUT_SCALES_ATTR, len(out_names))
    interpreter = Interpreter(module, weights)
    results = []
    for sample in matched.samples:
        ints = [_quantize(x, s, t) for x, s, t in zip(sample, in_scales, in_types, strict=True)]
        outs = interpreter.run(ints)
        results.append(
            [y if s == 0 else (y * s).astype(np.float32) for y, s in zip(outs, out_scales, strict=True)]
        )
    write_outputs(outputs, out_names, results, matched.batched)

    report["run"] = {"runner": "reference", "samples": len(results), "inputs": str(inputs)}
    report_path.write_text(json.dumps(report, indent=2) + "\n")
    return report
