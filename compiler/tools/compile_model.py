"""`mote compile`: import a model, lower it to C for a target, build it, write its report.

The compiled directory holds the qtfm program (`model.mlir` + `model.weights.npz`: the
reference the C is checked against), the generated C (`c/`), the program built for the target
(`model.elf` on bare-metal targets, `model` on the host) and `report.json` with the memory plan
(arena, its lower bound, what is live at the peak) and the image sizes. `mote run` adds the
measured figures (instructions, stack) to the same report.
"""

from __future__ import annotations

import json
from pathlib import Path

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp

from compiler.backend.build import build_model
from compiler.backend.c_emitter import emit_c
from compiler.backend.footprint import footprint, macs
from compiler.backend.memory_check import check_memory
from compiler.backend.run import image_sizes
from compiler.backend.target import Target, load_target
from compiler.errors import MoteError, NotImplementedYet
from compiler.frontend import import_model
from compiler.reference.interpreter import entry_function
from compiler.tools.diagnostics import OpLocations, verify_with_locations
from compiler.tools.ir_files import write_ir
from compiler.tools.pipeline import GRAPH_PIPELINE, lowering_pipeline, run_pipeline, stage_path
from compiler.tools.schedule_search import choose_schedule, schedule_pipeline
from compiler.transforms.compress_embedding import (
    EmbeddingBudget,
    EmbeddingCompressionReport,
    compress_embeddings,
)

REPORT = "report.json"
MODEL_IR = "model.mlir"
C_DIR = "c"
TARGETS_WITH_C = ("host", "rv32imc", "rv32imc-xcv")


def compile_model(
    model: Path,
    out: Path,
    target: str,
    calib: Path | None,
    dump_ir: bool,
    seq_len: int | None = None,
    precision: str = "mixed",
    ram_budget: int | None = None,
    tile_rows: int | None = None,
    output_bits: int = 16,
    embedding: EmbeddingBudget | None = None,
    recompute_kv: int = 0,
) -> dict[str, object]:
    """`tile_rows` fixes the row tiling of attention and FFN (0: none); otherwise the schedule
    is searched under `ram_budget` (default: the target's RAM less its stack)."""
    if target not in TARGETS_WITH_C:
        raise NotImplementedYet(f"the {target} target (CORE-V code and its emulator)")

    tgt = load_target(target)
    module, weights = import_model(model, calib, seq_len, precision, output_bits)
    verify_with_locations(module, OpLocations(str(model)))
    out.mkdir(parents=True, exist_ok=True)
    ir_dir, shared = out / "ir", out / "model.weights.npz"
    if dump_ir:
        write_ir(module, weights, stage_path(ir_dir, 0, "import"), shared)

    def dump(index: int, name: str, stage: ModuleOp) -> None:
        if dump_ir:
            write_ir(stage, weights, stage_path(ir_dir, index, name), shared)

    weights_before = sum(int(w.nbytes) for w in weights.values())
    compressed = None
    if embedding is not None:
        compressed = compress_embeddings(module, weights, embedding)
        if compressed is None:
            raise MoteError(
                f"{model}: --embedding-budget: the model has no embedding lookup of a constant table"
            )
        module.verify()
    passes = (
        [f"compress-embedding{{budget={embedding.budget}}}"] if embedding is not None else []
    ) + run_pipeline(module, GRAPH_PIPELINE, lambda i, n, m: dump(i + (embedding is not None), n, m))
    write_ir(module, weights, out / MODEL_IR)
    budget = ram_budget if ram_budget is not None else _target_ram(tgt)
    if recompute_kv and not tile_rows:
        raise MoteError("--recompute-kv needs --tile-rows (or let --ram-budget choose)")
    key_rows = recompute_kv
    if tile_rows is not None or (ram_budget is None and not tgt.bare_metal):
        chosen, tried = (tile_rows or None), []
    else:
        best, tried = choose_schedule(module, budget, tgt)
        chosen, key_rows = best.rows, best.key_rows
    f = entry_function(module)
    unplanned = footprint(f)
    ios = {"inputs": _io(f, "inputs"), "outputs": _io(f, "outputs")}

    lowered = module.clone()
    offset = len(passes)
    spec = ",".join(p for p in (schedule_pipeline(chosen, key_rows), lowering_pipeline(tgt)) if p)
    passes += run_pipeline(lowered, spec, lambda i, n, m: dump(offset + i, n, m))
    levels = check_memory(lowered)
    emit_c(lowered, weights, out / C_DIR)
    exe = build_model(out / C_DIR, tgt, out / ("model.elf" if tgt.bare_metal else "model"))
    sizes = image_sizes(exe, tgt)

    weight_bytes = sum(int(w.nbytes) for w in weights.values())
    report: dict[str, object] = {
        "model": str(model),
        "target": target,
        "runner": tgt.runner,
        "program": exe.name,
        "pipeline": ",".join(passes),
        "precision": precision if model.suffix == ".onnx" else "as given",
        "output_bits": output_bits if model.suffix == ".onnx" else "as given",
        "ops": unplanned.ops,
        "macs": macs(f),
        "weight_bytes": weight_bytes,
        **(_compression_report(compressed, weights_before, weight_bytes) if compressed is not None else {}),
        "arena": {
            lv.level: {
                "planned_bytes": lv.arena_bytes,
                "lower_bound_bytes": lv.lower_bound,
                "buffers": lv.buffers,
                "live_at_peak": lv.live_at_peak,
                "plan": lv.plan,
            }
            for lv in levels
        },
        "schedule": {
            "tile_rows": chosen,
            "recompute_kv_rows": key_rows,
            "ram_budget_bytes": budget,
            "candidates": [
                {
                    "tile_rows": c.rows,
                    "recompute_kv_rows": c.key_rows,
                    "planned_ram_bytes": c.planned_ram_bytes,
                    "estimated_cycles": c.estimated_cycles,
                }
                for c in tried
            ],
        },
        "arena_bytes": sum(lv.arena_bytes for lv in levels),
        "arena_lower_bound_bytes": sum(lv.lower_bound for lv in levels),
        "unplanned_peak_bytes": unplanned.peak_ram_bytes,
        **ios,
    }
    if sizes is not None:
        report.update(
            {
                "text_bytes": sizes.text,
                "rodata_bytes": sizes.rodata,
                "flash_bytes": sizes.flash,
                "flash_source": f"{exe.name}: .text + .rodata (code, weights, constants)",
                "static_ram_bytes": sizes.static_ram,
                "static_ram_source": f"{exe.name}: .data + .tdata + .tbss + .bss (arena, I/O buffers)",
            }
        )
    else:
        report["flash_bytes"] = weight_bytes
        report["flash_source"] = "weights only (host build)"
    if compressed is not None:
        flash = int(report["flash_bytes"])  # type: ignore[call-overload]
        report["flash_bytes_before_compression"] = (
            flash - compressed.compressed_bytes + compressed.original_bytes
        )
        report["flash_before_source"] = (
            "flash_bytes with the compressed table's arrays replaced by the int8 table they approximate"
        )
    (out / REPORT).write_text(json.dumps(report, indent=2) + "\n")
    return report


def _compression_report(c: EmbeddingCompressionReport, before: int, after: int) -> dict[str, object]:
    return {
        "embedding_compression": c.as_dict(),
        "weight_bytes_before_compression": before,
        "weight_bytes_ratio": round(before / after, 3),
    }


def _target_ram(target: Target) -> int:
    """RAM for the model's data: the data memory level less the stack reservation."""
    if target.data_level is None:
        return 1 << 62  # the host: no budget
    return target.level(target.data_level).size - target.stack_bytes


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
