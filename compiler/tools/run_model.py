"""`mote run`: execute a compiled model directory on the inputs of an npz file.

The runner is the target's (the report names it): the host program, or the rv32 ELF under
qemu-riscv32 with exact instruction counts. `--reference` runs the qtfm program in the
reference interpreter instead (the golden model). Figures measured by the run (instructions,
per function, stack high-water mark, peak RAM) are added to `report.json` under `run`, and,
where the runner counts blocks and edges, the cycles of the target's cycle model
(compiler/backend/cycle_model.py, docs/cycle_model.md): `cycles` (the model's), `cycles_total`,
`cycles_per_function` and `cycle_breakdown` (the model's cycles by class: events and cycles).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Attribute

from compiler.backend.cycle_model import CycleCounts
from compiler.backend.harness_io import input_bytes, output_arrays
from compiler.backend.run import RunResult
from compiler.errors import MoteError
from compiler.frontend.ptq import INPUT_SCALES_ATTR, OUTPUT_SCALES_ATTR
from compiler.frontend.qtfm_builder import INPUT_NAMES_ATTR, OUTPUT_NAMES_ATTR
from compiler.npz_io import match_inputs, read_npz, write_outputs
from compiler.reference.interpreter import Interpreter, check_input, entry_function
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


def run_model(directory: Path, inputs: Path, outputs: Path, reference: bool = False) -> dict[str, object]:
    report_path = directory / REPORT
    try:
        report = json.loads(report_path.read_text())
    except FileNotFoundError:
        raise MoteError(f"{report_path}: no report; run `mote compile` first") from None
    runner = "reference" if reference or report.get("runner") == "reference" else str(report["runner"])

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
    execute = _interpreter(module, weights) if runner == "reference" else _program(directory, report, f)
    results = []
    figures: dict[str, object] = {}
    for sample in matched.samples:
        ints = [_quantize(x, s, t) for x, s, t in zip(sample, in_scales, in_types, strict=True)]
        outs, measured = execute(ints)
        figures = figures or measured
        results.append(
            [y if s == 0 else (y * s).astype(np.float32) for y, s in zip(outs, out_scales, strict=True)]
        )
    write_outputs(outputs, out_names, results, matched.batched)

    report["run"] = {"runner": runner, "samples": len(results), "inputs": str(inputs), **figures}
    report_path.write_text(json.dumps(report, indent=2) + "\n")
    return report


Execute = Callable[[list[np.ndarray]], tuple[list[np.ndarray], dict[str, object]]]


def _interpreter(module: ModuleOp, weights: dict[str, np.ndarray]) -> Execute:
    interpreter = Interpreter(module, weights)
    return lambda ints: (interpreter.run(ints), {})


def _program(directory: Path, report: dict[str, object], f: func.FuncOp) -> Execute:
    """Runs the built program: inputs as raw little-endian bytes in, outputs out (runtime_c's
    harness protocol), with the figures of the first sample's run."""
    from compiler.backend.cycle_model import Program
    from compiler.backend.run import run_model_binary
    from compiler.backend.target import load_target

    target = load_target(str(report["target"]))
    exe = directory / str(report["program"])
    in_types = list(f.function_type.inputs.data)
    out_types = list(f.function_type.outputs.data)
    program: Program | None = None  # the decoded ELF, for the cycle model
    noted = False

    def execute(ints: list[np.ndarray]) -> tuple[list[np.ndarray], dict[str, object]]:
        nonlocal program, noted
        checked = [check_input(i, t, x) for i, (x, t) in enumerate(zip(ints, in_types, strict=True))]
        result = run_model_binary(exe, target, input_bytes(checked, in_types))
        outs = output_arrays(result.output_bytes, out_types)
        figures = _figures(result)
        if result.blocks and not result.edges:
            if not noted:
                print(f"mote: note: no cycles: the {target.runner} runner counted no edges", file=sys.stderr)
            noted = True
        elif result.blocks:
            program = program or Program(exe, target)
            figures.update(_cycle_figures(program.count(result.blocks, result.edges)))
        return outs, figures

    return execute


def _cycle_figures(counts: CycleCounts) -> dict[str, object]:
    return {
        "cycles": counts.model,
        "cycles_total": counts.total,
        "cycles_per_function": dict(counts.per_function),
        "cycle_breakdown": {k: {"events": v.events, "cycles": v.cycles} for k, v in counts.breakdown.items()},
    }


def _figures(result: RunResult) -> dict[str, object]:
    figures: dict[str, object] = {"wall_seconds": round(result.wall_seconds, 3)}
    if result.instructions_model is not None:
        per_function = dict(result.instructions_per_function or {})
        figures["instructions_model"] = result.instructions_model
        figures["instructions_total"] = result.instructions_total
        figures["instructions_per_function"] = dict(
            sorted(per_function.items(), key=lambda kv: (-kv[1], kv[0]))
        )
    if result.stack_bytes is not None:
        figures["stack_bytes"] = result.stack_bytes
    if result.sizes is not None and result.stack_bytes is not None:
        figures["peak_ram_bytes"] = result.sizes.static_ram + result.stack_bytes
        figures["peak_ram_source"] = (
            "static RAM (.data+.tdata+.tbss+.bss: arena and I/O buffers) + measured stack"
        )
    return figures
