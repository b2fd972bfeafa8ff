"""rv32imc-xcv benchmarks (issue 6): the int8 linear kernel's MACs per modelled cycle against
rv32imc and the SIMD ceiling, and BERT-tiny's modelled cycles on both targets; the table goes
to benchmarks/results/xcv.md.

    python -m benchmarks.xcv_bench

The linear kernels are BERT-tiny's shapes at 128 tokens: the projections (128 inputs x 128
outputs), the FFN's up (128 x 512) and down (512 x 128) projections; int8 activations and
weights, int32 bias, per-channel requantization to int8 (30-bit multipliers, as post-training
quantization makes them). "Kernel" counts every cycle of its generated function (loops, the
requantization epilogue); "inner loop" only the blocks that do the MACs (the loads and dot
products of the reduction, with the loop's increment and branch where it is not a hardware
loop). Cycles are the cycle model's (docs/cycle_model.md) on
the emulators' exact block and edge counts (qemu-riscv32 for rv32imc, unicorn for
rv32imc-xcv). The ceiling of a CV32E40P core is 4 MACs per cycle (one `cv.sdotsp.b`).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compiler.backend.cycle_model import Program, count_cycles
from compiler.backend.harness_io import input_bytes
from compiler.backend.run import Block, Edge, run_model_binary
from compiler.backend.target import load_target
from compiler.frontend.zoo import save_inputs, save_model
from compiler.reference.interpreter import entry_function
from compiler.tools.compile_model import compile_model
from compiler.tools.ir_files import read_ir
from compiler.tools.run_model import run_model

RESULTS = Path(__file__).resolve().parent / "results"
TOKENS = 128
SHAPES = ((128, 128), (128, 512), (512, 128))
"""(inputs, outputs) of the linear kernels measured, at TOKENS tokens."""
CEILING = 4


def linear_program(work: Path, inputs: int = 128, outputs: int = 128) -> Path:
    """The linear kernel as a qtfm program with its weight file."""
    rng = np.random.default_rng(0)
    w = rng.integers(-128, 128, (inputs, outputs), dtype=np.int64).astype(np.int8)
    bias = rng.integers(-(2**16), 2**16, (outputs,), dtype=np.int64).astype(np.int32)
    stem = f"linear_{inputs}x{outputs}"
    np.savez(work / f"{stem}.weights.npz", w=w, bias=bias)
    muls = ", ".join(str(int(m)) for m in rng.integers(2**29, 2**30, outputs))
    adds = ", ".join("0" for _ in range(outputs))
    x, wt = f"tensor<{TOKENS}x{inputs}xi8>", f"tensor<{inputs}x{outputs}xi8>"
    bt, y = f"tensor<{outputs}xi32>", f"tensor<{TOKENS}x{outputs}xi8>"
    q = f"#qtfm.requant<mul = [{muls}], add = [{adds}], shift = 40, levels = 256, signed, axis = 1>"
    text = f"""builtin.module attributes {{qtfm.weights = "{stem}.weights.npz"}} {{
  func.func @main(%x: {x}) -> {y} {{
    %w = qtfm.weight "w" : {wt}
    %b = qtfm.weight "bias" : {bt}
    %y = qtfm.linear %x, %w, %b requant {q} : ({x}, {wt}, {bt}) -> {y}
    func.return %y : {y}
  }}
}}
"""
    path = work / f"{stem}.mlir"
    path.write_text(text)
    return path


@dataclass(frozen=True)
class KernelFigures:
    target: str
    shape: tuple[int, int]
    kernel_cycles: int
    inner_cycles: int
    inner_macs: int
    outputs: bytes

    @property
    def macs(self) -> int:
        return TOKENS * self.shape[0] * self.shape[1]

    @property
    def kernel_macs_per_cycle(self) -> float:
        return self.macs / self.kernel_cycles

    @property
    def inner_macs_per_cycle(self) -> float:
        return self.inner_macs / self.inner_cycles


def measure_kernel(target_name: str, work: Path, shape: tuple[int, int] = (128, 128)) -> KernelFigures:
    program = linear_program(work, *shape)
    out = work / f"{target_name}-{shape[0]}x{shape[1]}"
    compile_model(program, out, target_name, None, False)
    target = load_target(target_name)
    exe = out / "model.elf"
    module, _ = read_ir(program)
    types = list(entry_function(module).function_type.inputs.data)
    x = np.random.default_rng(1).integers(-128, 128, (TOKENS, shape[0]))
    result = run_model_binary(exe, target, input_bytes([x], types))
    decoded = Program(exe, target)
    counts = count_cycles(decoded, result.blocks, result.edges)
    kernel = [name for name in counts.per_function if "linear" in name]
    if len(kernel) != 1:
        raise SystemExit(f"expected one linear kernel function in {exe}, found {kernel}")
    # the reduction loop: its body is straight-line code (unrolled), so all of its blocks run
    # once per iteration: the kernel's blocks that run as often as its busiest multiplying one
    mac_kind = "simd_dot" if target_name == "rv32imc-xcv" else "mul"
    lanes = 4 if mac_kind == "simd_dot" else 1
    own = [b for b in result.blocks if decoded.function_of(b.address) == kernel[0]]

    def multiplies(b: Block) -> int:
        return sum(1 for ins in decoded.block(b.address, b.instructions) if ins.kind == mac_kind)

    iterations = max(b.executions for b in own if multiplies(b))
    inner = [b for b in own if b.executions == iterations]
    macs = sum(multiplies(b) * lanes * b.executions for b in inner)
    starts = {b.address for b in inner}
    edges = [Edge(e.source, e.target, e.count) for e in result.edges if e.source in starts]
    inner_counts = count_cycles(decoded, inner, edges)
    return KernelFigures(
        target_name, shape, counts.per_function[kernel[0]], inner_counts.total, macs, result.output_bytes
    )


def measure_bert(target_name: str, work: Path, precision: str) -> tuple[int, int, float]:
    """(model cycles, model instructions, emulator seconds) of BERT-tiny, 128 tokens."""
    model = save_model("bert-tiny", work / "bt.onnx", TOKENS)
    calib = save_inputs("bert-tiny", work / "c.npz", TOKENS, seed=2)
    inputs = save_inputs("bert-tiny", work / "i.npz", TOKENS, seed=1, n_samples=1)
    out = work / f"bt-{target_name}-{precision}"
    compile_model(model, out, target_name, calib, False, precision=precision)
    start = time.perf_counter()
    run = run_model(out, inputs, work / f"o-{target_name}-{precision}.npz")["run"]
    return int(run["cycles"]), int(run["instructions_model"]), time.perf_counter() - start


PRECISIONS = ("int8", "mixed")
"""BERT-tiny's precisions measured: int8 (byte dot products) and mixed, the default (int16
activations: halfword dot products)."""


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="mote-xcv-") as tmp:
        work = Path(tmp)
        kernels = []
        for shape in SHAPES:
            pair = [measure_kernel(t, work, shape) for t in ("rv32imc", "rv32imc-xcv")]
            if pair[0].outputs != pair[1].outputs:
                raise SystemExit(
                    f"the {shape} linear kernel's outputs differ between rv32imc and rv32imc-xcv"
                )
            kernels += pair
        bert = {(t, p): measure_bert(t, work, p) for p in PRECISIONS for t in ("rv32imc", "rv32imc-xcv")}
        for p in PRECISIONS:
            ours, theirs = (np.load(work / f"o-{t}-{p}.npz") for t in ("rv32imc", "rv32imc-xcv"))
            if any(not np.array_equal(ours[k], theirs[k]) for k in ours.files):
                raise SystemExit(f"BERT-tiny's outputs ({p}) differ between rv32imc and rv32imc-xcv")
    lines = [
        f"Int8 linear kernels, {TOKENS} tokens, per-channel requantization (outputs identical on both"
        ' targets); "outside" is the kernel\'s cycles beyond its inner loop per output (the',
        "requantization epilogue, the block set-up):",
        "",
        "| inputs x outputs | target | kernel cycles | kernel MACs/cycle | inner loop MACs/cycle |"
        " outside, cycles/output | ceiling |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for k in kernels:
        outside = (k.kernel_cycles - k.inner_cycles) / (TOKENS * k.shape[1])
        lines.append(
            f"| {k.shape[0]} x {k.shape[1]} | {k.target} | {k.kernel_cycles:,} | "
            f"{k.kernel_macs_per_cycle:.2f} | {k.inner_macs_per_cycle:.2f} | {outside:.1f} | "
            f"{CEILING if k.target == 'rv32imc-xcv' else 1} |"
        )
    lines += [
        "",
        f"BERT-tiny, {TOKENS} tokens (outputs identical on both targets):",
        "",
        "| precision | target | instructions | modelled cycles | cycles vs rv32imc | emulated run (s) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for p in PRECISIONS:
        (rc, ri, rs), (xc, xi, xs) = bert["rv32imc", p], bert["rv32imc-xcv", p]
        lines += [
            f"| {p} | rv32imc | {ri:,} | {rc:,} | 1.00x | {rs:.1f} |",
            f"| {p} | rv32imc-xcv | {xi:,} | {xc:,} | {rc / xc:.2f}x fewer | {xs:.1f} |",
        ]
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "xcv.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
