"""Cross-compiled benchmarks: compile a model for a target, run it on the emulator, print its
figures; with `--all`, every zoo model and the Deeploy networks that have peer figures, as a
markdown table (benchmarks/results/TARGET.md).

    python -m benchmarks.rv32_bench bert-tiny --target rv32imc [--seq-len 128]
    python -m benchmarks.rv32_bench Kernels/Integer/Attention --target rv32imc
    python -m benchmarks.rv32_bench --all --target rv32imc

`make bench-MODEL TARGET=...` and `make bench` call it. The peer column is Deeploy's Generic
target for the same network (its generated Network.c + kernels, GCC 12 -O2 rv32imc, exact
qemu-riscv32 instruction counts of RunNetwork only), as given in issue 4.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from compiler.errors import MoteError
from compiler.frontend.zoo import save_inputs, save_model
from compiler.tools.compile_model import compile_model
from compiler.tools.run_model import run_model
from tests.deeploy_networks import ROOT as DEEPLOY_ROOT

ZOO = ("bert-tiny", "bert-mini", "llama-tiny", "minilm")
DEEPLOY_PEER_INSTRUCTIONS = {
    "Kernels/Integer/Attention": 5_841_989,
    "Kernels/Integer/GEMM/TransB_RQ": 149_581,
    "Kernels/Integer/Softmax/Regular": 11_217,
    "Models/microLlama/INT8/microLlama1": 5_822_342,
    "Models/microLlama/INT8/microLlama8": 6_437_442,
}
"""Deeploy's figures for the networks of ../shared/deeploy_tests. (Issue 4 also quotes
microLlama8_parallel, 47,395,658, a network that ../shared/deeploy_tests does not contain.)"""
OTHER_NETWORKS = ("Models/microLlama/INT8/microLlama1_parallel",)
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Figures:
    name: str
    macs: int
    instructions: int
    text_bytes: int
    flash_bytes: int
    static_ram_bytes: int
    stack_bytes: int
    peak_ram_bytes: int
    arena_bytes: int
    arena_lower_bound_bytes: int
    compile_seconds: float
    cycles: int = 0  # the target's cycle model (docs/cycle_model.md); 0 where not counted

    @property
    def per_mac(self) -> float | None:
        return self.instructions / self.macs if self.macs else None

    @property
    def macs_per_cycle(self) -> float | None:
        return self.macs / self.cycles if self.macs and self.cycles else None


def bench(name: str, target: str, seq_len: int, work: Path) -> Figures:
    """Compiles and runs one zoo model or Deeploy network; returns its measured figures."""
    import time

    out = work / name.replace("/", "_")
    if name in ZOO:
        model = save_model(name, work / f"{name}.onnx", seq_len)
        calib_source: dict[str, object] = {"source": "calibration"} if name == "minilm" else {"seed": 2}
        calib = save_inputs(name, work / f"{name}.calib.npz", seq_len, **calib_source)
        inputs = save_inputs(name, work / f"{name}.inputs.npz", seq_len, n_samples=1, seed=1)
    else:
        net = DEEPLOY_ROOT / name
        if not (net / "network.onnx").is_file():
            raise MoteError(
                f"{name}: neither a zoo model ({', '.join(ZOO)}) nor a network under {DEEPLOY_ROOT}"
            )
        model, calib, inputs = net / "network.onnx", net / "inputs.npz", net / "inputs.npz"
    start = time.perf_counter()
    report = compile_model(model, out, target, calib, False, None)
    seconds = time.perf_counter() - start
    run = run_model(out, inputs, work / f"{out.name}.outputs.npz")["run"]
    assert isinstance(run, dict)
    return Figures(
        name,
        int(report["macs"]),  # type: ignore[arg-type]
        int(run.get("instructions_model", 0)),
        int(report.get("text_bytes", 0)),  # type: ignore[arg-type]
        int(report.get("flash_bytes", 0)),  # type: ignore[arg-type]
        int(report.get("static_ram_bytes", 0)),  # type: ignore[arg-type]
        int(run.get("stack_bytes", 0)),
        int(run.get("peak_ram_bytes", 0)),
        int(report["arena_bytes"]),  # type: ignore[arg-type]
        int(report["arena_lower_bound_bytes"]),  # type: ignore[arg-type]
        seconds,
        int(run.get("cycles", 0)),
    )


def print_figures(f: Figures, target: str) -> None:
    print(f"{f.name} on {target}")
    per_mac = f"{f.per_mac:.2f}" if f.per_mac else "-"
    rows = [
        ("instructions (model run)", f"{f.instructions:,}"),
        ("MACs", f"{f.macs:,}"),
        ("instructions per MAC", per_mac),
        ("cycles (model run)", f"{f.cycles:,}" if f.cycles else "-"),
        ("MACs per cycle", f"{f.macs_per_cycle:.3f}" if f.macs_per_cycle else "-"),
        ("code (.text)", f"{f.text_bytes:,} B"),
        ("flash (.text + .rodata)", f"{f.flash_bytes:,} B"),
        ("static RAM (.data + .bss)", f"{f.static_ram_bytes:,} B"),
        ("stack high-water", f"{f.stack_bytes:,} B"),
        ("peak RAM (static + stack)", f"{f.peak_ram_bytes:,} B"),
        ("arena planned / lower bound", f"{f.arena_bytes:,} / {f.arena_lower_bound_bytes:,} B"),
        ("compile time", f"{f.compile_seconds:.1f} s"),
    ]
    peer = DEEPLOY_PEER_INSTRUCTIONS.get(f.name)
    if peer is not None:
        rows.append(("Deeploy Generic instructions", f"{peer:,} ({f.instructions / peer:.2f}x of it)"))
    for k, v in rows:
        print(f"  {k:30} {v}")


def table(figures: list[Figures], target: str, seq_len: int) -> str:
    lines = [
        f"Measured on {target} (zoo models at {seq_len} tokens), `python -m benchmarks.rv32_bench --all "
        f"--target {target}`.",
        "",
        "| model | MACs | instructions | instr/MAC | cycles | MAC/cycle | Deeploy Generic | mote / Deeploy | "
        ".text | flash | peak RAM | arena (lower bound) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in figures:
        peer = DEEPLOY_PEER_INSTRUCTIONS.get(f.name)
        cells = [
            f.name,
            f"{f.macs:,}",
            f"{f.instructions:,}",
            f"{f.per_mac:.2f}" if f.per_mac else "-",
            f"{f.cycles:,}" if f.cycles else "-",
            f"{f.macs_per_cycle:.3f}" if f.macs_per_cycle else "-",
            f"{peer:,}" if peer else "-",
            f"{f.instructions / peer:.2f}" if peer else "-",
            f"{f.text_bytes:,}",
            f"{f.flash_bytes:,}",
            f"{f.peak_ram_bytes:,}",
            f"{f.arena_bytes:,} ({f.arena_lower_bound_bytes:,})",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="rv32_bench", description=__doc__.split("\n\n")[0])
    p.add_argument("model", nargs="?", help="a zoo model or a Deeploy network path (Kernels/Integer/...)")
    p.add_argument("--target", default="rv32imc")
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--all", action="store_true", help="every zoo model and every peer network")
    p.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = p.parse_args(argv)
    names = [*ZOO, *DEEPLOY_PEER_INSTRUCTIONS, *OTHER_NETWORKS] if args.all else [args.model]
    if not names or names == [None]:
        p.error("name a model, or give --all")
    figures: list[Figures] = []
    failures: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="mote-bench-") as tmp:
        for name in names:
            try:
                figures.append(bench(name, args.target, args.seq_len, Path(tmp)))
            except MoteError as err:
                failures[name] = str(err).splitlines()[0]
                print(f"rv32_bench: {name}: {failures[name]}", file=sys.stderr)
                continue
            print_figures(figures[-1], args.target)
    if args.all:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{args.target}.md"
        notes = "".join(f"\n- {name}: {why}" for name, why in failures.items())
        path.write_text(table(figures, args.target, args.seq_len) + (f"\nNot run:{notes}\n" if notes else ""))
        print(f"table written to {path}")
    if args.json:
        args.json.write_text(json.dumps([f.__dict__ for f in figures], indent=2) + "\n")
    if any("does not fit the memory" not in why for why in failures.values()):
        sys.exit(1)  # a model that does not fit the target is a result, anything else an error


if __name__ == "__main__":
    main()
