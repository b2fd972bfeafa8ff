"""MCU scheduling benchmarks (issue 5): BERT models at long sequences on rv32imc, unscheduled
and under a RAM budget, with measured peak RAM and exact instruction counts; the table goes
to benchmarks/results/scheduling.md.

    python -m benchmarks.schedule_bench            # every row (about 40 minutes here)
    python -m benchmarks.schedule_bench --quick    # BERT-tiny at 256 tokens only

Each row: `mote zoo` writes the float model (with a position table as long as the sequence
when it exceeds BERT's 512), `mote compile --target rv32imc --precision int8 --output-bits 8`
either unscheduled (`--tile-rows 0`), with `--ram-budget` (the search picks the tiles), or with
fixed tiles and K/V recomputed per key tile (`--tile-rows N --recompute-kv M`), and `mote run`
measures. A budget leaves 4 KiB of the RAM figure for the stack and the harness
(the search budgets the arena and the I/O buffers; the stack is measured by the run). Every
scheduled run's outputs are checked bit for bit against the unscheduled run or, where that
does not fit the target, the reference interpreter.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compiler.frontend.zoo import save_inputs, save_model
from compiler.tools.compile_model import compile_model
from compiler.tools.run_model import run_model

RESULTS = Path(__file__).resolve().parent / "results"
KIB = 1024
STACK_HEADROOM = 4 * KIB


@dataclass(frozen=True)
class Case:
    model: str
    tokens: int
    ram_kib: int | None  # None: unscheduled (or fixed by `recompute`)
    recompute: tuple[int, int] | None = None
    """(query rows, key rows): tiles fixed, K and V recomputed per key tile (no search)."""


CASES = (
    Case("bert-tiny", 256, None),
    Case("bert-tiny", 256, 256),
    Case("bert-tiny", 512, None),
    Case("bert-tiny", 512, 224),
    Case("bert-tiny", 640, 256),
    Case("bert-tiny", 512, None, (8, 64)),
    Case("bert-tiny", 768, None, (8, 32)),
    Case("bert-mini", 256, None),
    Case("bert-mini", 256, 384),
)


@dataclass(frozen=True)
class Row:
    case: Case
    tile_rows: int | None
    key_rows: int
    instructions: int
    cycles: int | None
    peak_ram_bytes: int
    arena_bytes: int
    unplanned_bytes: int
    compile_seconds: float
    same_as: str


Outputs = dict[str, np.ndarray]


def measure(case: Case, work: Path, reference: Outputs | None) -> tuple[Row, Outputs]:
    n, positions = case.tokens, max(case.tokens, 512)
    model = save_model(case.model, work / "m.onnx", n, max_positions=positions)
    calib = save_inputs(case.model, work / "c.npz", n, seed=2, max_positions=positions)
    inputs = save_inputs(case.model, work / "i.npz", n, seed=1, n_samples=1, max_positions=positions)
    out = work / f"d{case.ram_kib}"
    options: dict[str, object] = {"precision": "int8", "output_bits": 8}
    if case.recompute is not None:
        options["tile_rows"], options["recompute_kv"] = case.recompute
    elif case.ram_kib is None:
        options["tile_rows"] = 0
    else:
        options["ram_budget"] = case.ram_kib * KIB - STACK_HEADROOM
    start = time.perf_counter()
    report = compile_model(model, out, "rv32imc", calib, False, **options)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    run = run_model(out, inputs, work / "o.npz")["run"]
    outputs = dict(np.load(work / "o.npz"))
    if reference is None:
        run_model(out, inputs, work / "ref.npz", reference=True)
        reference, same_as = dict(np.load(work / "ref.npz")), "reference interpreter"
    else:
        same_as = "unscheduled"
    for name, want in reference.items():
        if not np.array_equal(outputs[name], want):
            raise SystemExit(f"{case}: output {name} differs from the {same_as} run")
    row = Row(
        case,
        report["schedule"]["tile_rows"],  # type: ignore[index]
        report["schedule"]["recompute_kv_rows"],  # type: ignore[index]
        int(run["instructions_model"]),
        run.get("cycles"),
        int(run["peak_ram_bytes"]),
        int(report["arena_bytes"]),  # type: ignore[arg-type]
        int(report["unplanned_peak_bytes"]),  # type: ignore[arg-type]
        seconds,
        same_as,
    )
    return row, outputs


def table(rows: list[Row]) -> str:
    lines = [
        "| model | tokens | RAM budget | tiles chosen | instructions | peak RAM | arena | all tensors | "
        "compile | outputs identical to |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        budget = "unscheduled" if r.case.ram_kib is None else f"{r.case.ram_kib} KiB"
        if r.case.recompute is not None:
            budget = "fixed"
        tiles = "-" if not r.tile_rows else f"{r.tile_rows} rows"
        if r.key_rows:
            tiles += f", K/V recomputed per {r.key_rows} keys"
        lines.append(
            f"| {r.case.model} | {r.case.tokens} | {budget} | {tiles} | {r.instructions:,} | "
            f"{r.peak_ram_bytes:,} B | {r.arena_bytes:,} B | {r.unplanned_bytes:,} B | "
            f"{r.compile_seconds:.0f} s | {r.same_as} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="BERT-tiny at 256 tokens only")
    args = p.parse_args()
    cases = [c for c in CASES if not args.quick or (c.model, c.tokens) == ("bert-tiny", 256)]
    rows: list[Row] = []
    unscheduled: dict[tuple[str, int], dict[str, np.ndarray]] = {}
    for case in cases:
        with tempfile.TemporaryDirectory(prefix="mote-sched-") as tmp:
            row, outputs = measure(case, Path(tmp), unscheduled.get((case.model, case.tokens)))
        if case.ram_kib is None and case.recompute is None:
            unscheduled[(case.model, case.tokens)] = outputs
        rows.append(row)
        print(table([row]).splitlines()[-1], flush=True)
    text = table(rows)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scheduling.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
