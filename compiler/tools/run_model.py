"""`mote run`: execute a compiled model directory on the inputs of an npz file.

The runner is the one the report names. Today that is the reference interpreter (the
golden model); the C targets will add host binaries and the emulators, each recording its
own figures (instructions, cycles) in `report.json`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from compiler.errors import MoteError, NotImplementedYet
from compiler.frontend.qtfm_builder import INPUT_NAMES_ATTR, OUTPUT_NAMES_ATTR
from compiler.npz_io import match_inputs, read_npz, write_outputs
from compiler.reference.interpreter import Interpreter, entry_function
from compiler.tools.compile_model import MODEL_IR, REPORT, io_names
from compiler.tools.ir_files import read_ir


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
    interpreter = Interpreter(module, weights)
    results = [interpreter.run(sample) for sample in matched.samples]
    write_outputs(outputs, out_names, results, matched.batched)

    report["run"] = {"runner": "reference", "samples": len(results), "inputs": str(inputs)}
    report_path.write_text(json.dumps(report, indent=2) + "\n")
    return report
