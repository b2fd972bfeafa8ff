"""`mote compile`: import a model into qtfm, write the compiled directory and its report.

Until the C backend lands, the host build of a model is its verified qtfm program and
weights, executed by the reference interpreter; the report says so (`runner`), and its
memory figures are those of the unplanned tensor program. The rv32 targets need the C
backend and are refused with "not implemented yet".
"""

from __future__ import annotations

import json
from pathlib import Path

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp

from compiler.backend.footprint import footprint
from compiler.errors import NotImplementedYet
from compiler.frontend import import_model
from compiler.reference.interpreter import entry_function
from compiler.tools.diagnostics import OpLocations, verify_with_locations
from compiler.tools.ir_files import write_ir
from compiler.tools.pipeline import HOST_PIPELINE, run_pipeline, stage_path

REPORT = "report.json"
MODEL_IR = "model.mlir"


def compile_model(
    model: Path,
    out: Path,
    target: str,
    calib: Path | None,
    dump_ir: bool,
    seq_len: int | None = None,
    precision: str = "mixed",
) -> dict[str, object]:
    if target != "host":
        raise NotImplementedYet(
            f"the {target} target needs the C backend (progressive lowering to C); "
            "only --target host (reference runner) exists today"
        )
    module, weights = import_model(model, calib, seq_len, precision)
    verify_with_locations(module, OpLocations(str(model)))
    out.mkdir(parents=True, exist_ok=True)
    ir_dir, shared = out / "ir", out / "model.weights.npz"
    if dump_ir:
        write_ir(module, weights, stage_path(ir_dir, 0, "import"), shared)

    def dump(index: int, name: str, stage: ModuleOp) -> None:
        if dump_ir:
            write_ir(stage, weights, stage_path(ir_dir, index, name), shared)

    passes = run_pipeline(module, HOST_PIPELINE, dump)
    write_ir(module, weights, out / MODEL_IR)
    f = entry_function(module)
    fp = footprint(f)
    report: dict[str, object] = {
        "model": str(model),
        "target": target,
        "runner": "reference",
        "pipeline": ",".join(passes),
        "precision": precision if model.suffix == ".onnx" else "as given",
        "ops": fp.ops,
        "flash_bytes": fp.flash_bytes,
        "flash_source": "weights only: no code is generated yet",
        "peak_ram_bytes": fp.peak_ram_bytes,
        "peak_ram_source": "tensor liveness of the unplanned qtfm program (no memory planner yet)",
        "peak_ram_op": fp.peak_op,
        "inputs": _io(f, "inputs"),
        "outputs": _io(f, "outputs"),
    }
    (out / REPORT).write_text(json.dumps(report, indent=2) + "\n")
    return report


def _io(f: func.FuncOp, which: str) -> list[dict[str, object]]:
    from compiler.frontend.qtfm_builder import INPUT_NAMES_ATTR, OUTPUT_NAMES_ATTR

    types = f.function_type.inputs.data if which == "inputs" else f.function_type.outputs.data
    names = io_names(f, INPUT_NAMES_ATTR if which == "inputs" else OUTPUT_NAMES_ATTR, len(types))
    return [
        {"name": n, "shape": list(t.get_shape()), "type": str(t.element_type)}  # type: ignore[attr-defined]
        for n, t in zip(names, types, strict=True)
    ]


def io_names(f: func.FuncOp, attr: str, count: int) -> list[str]:
    """The model's input or output names, or positional names when the IR has none."""
    names = f.attributes.get(attr)
    if names is None:
        prefix = "input" if "input" in attr else "output"
        return [f"{prefix}_{i}" for i in range(count)]
    return [n.data for n in names.data]  # type: ignore[attr-defined]
