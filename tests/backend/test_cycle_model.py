"""The cycle model (compiler/backend/cycle_model.py) on real qemu-riscv32 runs.

Small hand-written RV32 assembly kernels, each a function called once from `_start` (which
counts as the harness), are built with the rv32imc target's GCC and run under qemu with the
block and edge counts of the mote_icount plugin. Each kernel's cycles are counted by hand in
the comments (with rv32imc's costs: alu, load, store, mul 1; mulh 5; div 35; load-use stall 1;
taken branch 3, not taken 1; jump 2) and asserted exactly, as a sum of the target's costs.
Then the model on a Deeploy network: cycles >= instructions, per-function cycles add up, the
breakdown accounts for every instruction, and single-stepping QEMU (one instruction per block,
so every stall crosses a block boundary) gives the very same cycles.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from compiler.backend.build import RUNTIME_DIR, build_model
from compiler.backend.cycle_model import CycleModelError, Program
from compiler.backend.run import Block, RunResult, is_harness_function, run_model_binary
from compiler.backend.target import TARGETS_DIR, Target, load_target
from compiler.tools.compile_model import compile_model
from compiler.tools.run_model import run_model
from tests.backend.test_build_run import toy_dir, toy_inputs
from tests.deeploy_networks import ROOT as DEEPLOY_ROOT

RV32 = load_target("rv32imc")
C = RV32.costs
FLASH_ORIGIN = RV32.level("flash").origin
STACK_LINE = "mote-stack-bytes 0\n"  # what run.py expects a bare-metal harness to print

KERNELS = rf"""
    .option norelax
    .section .text._start, "ax", @progbits
    .globl _start
_start:
    .option push
    .option norvc
    addi a0, zero, 2
    lui a1, %hi(stack_line)
    addi a1, a1, %lo(stack_line)
    addi a2, zero, {len(STACK_LINE)}
    addi a7, zero, 64
    ecall
    jal ra, straight
    jal ra, loop
    jal ra, muldiv
    jal ra, caller
    jal ra, crossing
    jal ra, penalties
    addi a0, zero, 0
    addi a7, zero, 93
    ecall
    .option pop

    .text
    .balign 4
    .type straight, @function
straight:                   # one block, run once: 5 alu + 2 load + store + stall + jump = 11
    lui  a5, %hi(data)      # alu
    addi a5, a5, %lo(data)  # alu
    lw   a4, 0(a5)          # load
    add  a3, a4, a4         # alu + load-use stall (reads a4 right after its load)
    lw   a2, 4(a5)          # load
    addi a1, a5, 8          # alu (a5 was not loaded: no stall)
    add  a0, a2, a1         # alu (a2 was loaded two instructions before: no stall)
    sw   a0, 8(a5)          # store
    jalr zero, 0(ra)        # jump
    .size straight, . - straight

    .balign 4
    .type loop, @function
loop:                       # 12 alu + 4 taken + 1 not taken + jump = 27
    addi t0, zero, 5        # alu
    addi a0, zero, 0        # alu
1:  addi a0, a0, 3          # alu x 5
    addi t0, t0, -1         # alu x 5
    bne  t0, zero, 1b       # taken 4 times (QEMU: once from the block at `loop`, then 3 times from
                            # the block at 1b), not taken once
    jalr zero, 0(ra)        # jump
    .size loop, . - loop

    .balign 4
    .type muldiv, @function
muldiv:                     # 2 alu + mul + 2 mulh + 2 div + jump = 2 + 1 + 10 + 70 + 2 = 85
    addi a0, zero, 1000     # alu
    addi a1, zero, 7        # alu
    mul   a2, a0, a1        # mul
    mulh  a3, a0, a1        # mulh
    mulhu a4, a0, a1        # mulh
    div   a5, a0, a1        # div
    rem   a6, a0, a1        # div
    jalr zero, 0(ra)        # jump
    .size muldiv, . - muldiv

    .balign 4
    .type caller, @function
caller:                     # 3 alu + 3 jumps = 9
    addi s1, ra, 0          # alu
    addi a0, zero, 2        # alu
    jal  ra, leaf           # jump
    addi a0, a0, 1          # alu
    jal  ra, leaf           # jump
    jalr zero, 0(s1)        # jump
    .size caller, . - caller

    .balign 4
    .type leaf, @function
leaf:                       # run twice: 2 x (alu + jump) = 6; with misaligned_target: 7 (its second
                            # return lands on caller's 32-bit jalr at caller + 14: RVC before it)
    slli a0, a0, 1          # alu
    jalr zero, 0(ra)        # jump
    .size leaf, . - leaf

    .balign 4
    .type penalties, @function
    .option push
    .option norvc
penalties:                  # 3 alu + 2 jumps = 7; with jalr_stall and misaligned_target: 9
    auipc t1, 0             # alu: t1 = penalties
    addi  t1, t1, 14        # alu: t1 = penalties + 14
    jalr  zero, 0(t1)       # jump; + jalr_stall (t1 written right before); + misaligned_target
    .option rvc             #   (it lands on a 32-bit instruction at an address 2 mod 4)
    c.nop                   # skipped (penalties + 12)
    .option norvc
    addi  a0, zero, 1       # alu (penalties + 14)
    jalr  zero, 0(ra)       # jump (back to a word-aligned instruction of _start: no penalty)
    .option pop
    .size penalties, . - penalties

    # The last 12 bytes of a page: QEMU ends a translation block at the page boundary, so the
    # load and its use are in different blocks (the stall comes from the edge between them).
    .balign 4096
    .space 4096 - 12
    .type crossing, @function
    .option push
    .option norvc
crossing:                   # 3 alu + load + stall + jump = 7
    lui  a5, %hi(data)      # alu
    addi a5, a5, %lo(data)  # alu
    lw   a4, 0(a5)          # load (last instruction of the page)
    add  a3, a4, a4         # alu + load-use stall (first instruction of the next page)
    jalr zero, 0(ra)        # jump
    .option pop
    .size crossing, . - crossing

    .section .rodata
stack_line: .ascii "{STACK_LINE.strip()}\n"
    .data
data: .word 5, 6, 0
"""

EXPECTED = {
    "straight": 5 * C["alu"] + 2 * C["load"] + C["store"] + C["load_use_stall"] + C["jump"],
    "loop": 12 * C["alu"] + 4 * C["branch_taken"] + C["branch_not_taken"] + C["jump"],
    "muldiv": 2 * C["alu"] + C["mul"] + 2 * C["mulh"] + 2 * C["div"] + C["jump"],
    "caller": 3 * C["alu"] + 3 * C["jump"],
    "leaf": 2 * (C["alu"] + C["jump"]),
    "penalties": 3 * C["alu"] + 2 * C["jump"],
    "crossing": 3 * C["alu"] + C["load"] + C["load_use_stall"] + C["jump"],
}
HAND_COUNTED = {
    "straight": 11,
    "loop": 27,
    "muldiv": 85,
    "caller": 9,
    "leaf": 6,
    "penalties": 7,
    "crossing": 7,
}


def build_asm(source: str, out: Path, march: str = "rv32imc") -> Path:
    """Links an assembly program like mote's rv32 programs (rv32.ld), without the C runtime."""
    src = out.with_suffix(".S")
    src.write_text(source)
    cmd = [*RV32.cc, f"-march={march}", f"-mabi={RV32.mabi}", "-nostdlib", "-nostartfiles"]
    assert RV32.linker_script is not None
    cmd += [f"-T{RUNTIME_DIR / RV32.linker_script}", "-o", str(out), str(src)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out


@pytest.fixture(scope="module")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunResult]:
    exe = build_asm(KERNELS, tmp_path_factory.mktemp("cycles") / "kernels.elf")
    return exe, run_model_binary(exe, RV32, b"")


def test_hand_counted_kernels(kernels: tuple[Path, RunResult]) -> None:
    exe, run = kernels
    assert {k: EXPECTED[k] for k in HAND_COUNTED} == HAND_COUNTED  # the comments' figures on rv32imc
    counts = Program(exe, RV32).count(run.blocks, run.edges)
    model = {name: n for name, n in counts.per_function.items() if not is_harness_function(name)}
    assert model == EXPECTED
    assert counts.model == sum(EXPECTED.values())
    assert counts.total == sum(counts.per_function.values()) > counts.model
    events = {k: v.events for k, v in counts.breakdown.items()}
    assert events["load_use_stall"] == 2 and events["branch_taken"] == 4 and events["branch_not_taken"] == 1
    assert events["mulh"] == 2 and events["div"] == 2 and events["jump"] == 11
    assert sum(v.cycles for v in counts.breakdown.values()) == counts.model


def test_a_page_boundary_splits_the_block_and_the_stall_still_counts(kernels: tuple[Path, RunResult]) -> None:
    exe, run = kernels
    program = Program(exe, RV32)
    crossing = next(
        b for b in run.blocks if program.function_of(b.address) == "crossing" and b.instructions == 3
    )
    page = crossing.address + 12
    assert page % 4096 == 0
    assert any(b.address == page and b.instructions == 2 for b in run.blocks)
    assert any(e.source == crossing.address and e.target == page and e.count == 1 for e in run.edges)


def test_branch_counts_come_from_the_edges(kernels: tuple[Path, RunResult]) -> None:
    exe, run = kernels
    program = Program(exe, RV32)
    loop = [b for b in run.blocks if program.function_of(b.address) == "loop"]
    # The block at `loop` (the first iteration), the block at 1b (the other four), the return.
    assert sorted((b.instructions, b.executions) for b in loop) == [(1, 1), (3, 4), (5, 1)]


def test_single_stepping_gives_the_same_cycles(kernels: tuple[Path, RunResult]) -> None:
    """One instruction per block: every stall is across an edge, every instruction a block."""
    exe, run = kernels
    stepped = run_model_binary(exe, dataclasses.replace(RV32, emulator=(*RV32.emulator, "-singlestep")), b"")
    assert all(b.instructions == 1 for b in stepped.blocks)
    program = Program(exe, RV32)
    assert program.count(stepped.blocks, stepped.edges) == program.count(run.blocks, run.edges)


def test_the_unicorn_runner_gives_the_same_cycles(kernels: tuple[Path, RunResult]) -> None:
    """The rv32imc-xcv target's runner (unicorn) on the same RV32IMC program: the same blocks and
    edges as qemu-user (the page-boundary split included), hence the same cycles."""
    exe, run = kernels
    unicorn = run_model_binary(exe, load_target("rv32imc-xcv"), b"")
    assert unicorn.blocks == run.blocks and unicorn.edges == run.edges
    program = Program(exe, RV32)
    assert program.count(unicorn.blocks, unicorn.edges) == program.count(run.blocks, run.edges)


def penalty_target(root: Path) -> Target:
    """rv32imc with the two optional CV32E40P penalties a target file may give."""
    text = (TARGETS_DIR / "rv32imc.target").read_text().replace("target rv32imc {", "target penalties {")
    text = text.replace("    costs {", "    costs {\n        jalr_stall = 1\n        misaligned_target = 1")
    path = root / "penalties.target"
    path.write_text(text)
    return load_target(path)


def test_optional_jalr_and_misaligned_target_penalties(
    kernels: tuple[Path, RunResult], tmp_path: Path
) -> None:
    exe, run = kernels
    target = penalty_target(tmp_path)
    counts = Program(exe, target).count(run.blocks, run.edges)
    assert counts.per_function["penalties"] == EXPECTED["penalties"] + 2
    assert counts.per_function["leaf"] == EXPECTED["leaf"] + 1
    events = {k: v.events for k, v in counts.breakdown.items()}
    assert events["jalr_stall"] == 1 and events["misaligned_target"] == 2
    assert counts.model == sum(EXPECTED.values()) + 3


def test_deeploy_network_cycles(tmp_path: Path) -> None:
    """`mote run` on rv32imc: report.json's cycle figures, consistent with the instructions."""
    net = DEEPLOY_ROOT / "Kernels" / "Integer" / "Attention"
    out = tmp_path / "attention"
    compile_model(net / "network.onnx", out, "rv32imc", net / "inputs.npz", False, None)
    run_model(out, net / "inputs.npz", tmp_path / "outputs.npz")
    run = json.loads((out / "report.json").read_text())["run"]
    assert run["cycles"] >= run["instructions_model"] > 0
    assert run["cycles_total"] == sum(run["cycles_per_function"].values()) > run["cycles"]
    model = {f: n for f, n in run["cycles_per_function"].items() if not is_harness_function(f)}
    assert sum(model.values()) == run["cycles"]
    assert set(model) == {f for f in run["instructions_per_function"] if not is_harness_function(f)}
    assert all(model[f] >= n for f, n in run["instructions_per_function"].items() if f in model)
    breakdown = run["cycle_breakdown"]
    assert sum(v["cycles"] for v in breakdown.values()) == run["cycles"]
    # Every executed instruction is one event of its class (a branch: taken or not taken).
    assert (
        sum(v["events"] for k, v in breakdown.items() if k != "load_use_stall") == run["instructions_model"]
    )
    assert breakdown["branch_taken"]["events"] > 0 and breakdown["load_use_stall"]["events"] > 0


def test_compiled_c_single_stepped_gives_the_same_cycles(tmp_path: Path) -> None:
    """The toy model of test_build_run (GCC -O2 code, RVC, calls, loops) with one instruction per
    block: the same cycles, breakdown and per-function figures as with QEMU's own blocks."""
    src = toy_dir(tmp_path, 64)
    exe = build_model(src, RV32, src / "model.elf")
    a, b = toy_inputs(64)
    normal = run_model_binary(exe, RV32, a.tobytes() + b.tobytes())
    stepped = run_model_binary(
        exe, dataclasses.replace(RV32, emulator=(*RV32.emulator, "-singlestep")), a.tobytes() + b.tobytes()
    )
    program = Program(exe, RV32)
    counts = program.count(normal.blocks, normal.edges)
    assert program.count(stepped.blocks, stepped.edges) == counts
    assert counts.model >= normal.instructions_model and counts.total >= (normal.instructions_total or 0)


COREV = """
    .text
    .globl corev
    .type corev, @function
corev:
    cv.lb a0, (a1), 1       # post_increment_load (no cost of its own here: load's)
    cv.sdotsp.b a2, a0, a3  # simd_dot + load-use stall (a0 loaded right before)
    cv.lbu a4, (a1), a5     # post_increment_load
    addi a1, a1, 4          # alu (a1 is the incremented base, not the loaded register: no stall)
    cv.lw a6, a5(a1)        # load (register-register)
    cv.mac a2, a6, a4       # mac + load-use stall (a6)
    cv.sw a2, (a1), 4       # post_increment_store (store's cost)
    cv.clip a2, a2, 7       # clip_min_max (alu's cost)
    cv.max a3, a2, a3       # clip_min_max
    cv.add.b a3, a3, a2     # simd_alu (alu's cost)
    cv.abs a3, a3           # xcv_alu (alu's cost)
    .word 0x00a1462b        # cv.setupi 0, 10, 2 (hwloop_setup; clang-19 cannot assemble xcvhwlp)
    .word 0x00a5472b        # cv.setup 0, a0, 10 (hwloop_setup)
    jalr zero, 0(ra)        # jump
    .size corev, . - corev
"""


def corev_target(root: Path, extra_costs: str) -> Target:
    """rv32imc with clang-19 and the CORE-V extensions, and the given extra cost lines."""
    text = (TARGETS_DIR / "rv32imc.target").read_text().replace("target rv32imc {", "target corev {")
    text = text.replace('march = "rv32imc"', 'march = "rv32imc_xcvsimd_xcvmac_xcvmem_xcvalu_xcvbi"')
    text = text.replace('command = ["riscv64-unknown-elf-gcc"]', 'command = ["clang-19"]')
    text = text.replace("    costs {", "    costs {\n" + extra_costs)
    path = root / "corev.target"
    path.write_text(text)
    return load_target(path)


@pytest.fixture
def corev_elf(tmp_path: Path) -> Path:
    return _corev_elf(tmp_path, COREV)


def _corev_elf(tmp_path: Path, source: str) -> Path:
    if shutil.which("clang-19") is None or shutil.which("llvm-objdump-19") is None:
        pytest.skip("clang-19 and llvm-objdump-19 (`make setup`) assemble and decode CORE-V code")
    src = tmp_path / "corev.S"
    src.write_text(source)
    exe = tmp_path / "corev.elf"
    march = "-march=rv32imc_xcvsimd_xcvmac_xcvmem_xcvalu_xcvbi"
    cmd = ["clang-19", "--target=riscv32-unknown-elf", march, "-nostdlib", "-fuse-ld=lld", "-Wl,-e,corev"]
    assert RV32.linker_script is not None
    subprocess.run(
        [*cmd, f"-T{RUNTIME_DIR / RV32.linker_script}", "-o", exe, src], check=True, capture_output=True
    )
    return exe


def test_corev_instructions(corev_elf: Path, tmp_path: Path) -> None:
    """CORE-V decoding and costs. No emulator here runs CORE-V code for these tests, so the run is
    one hand-made execution of the function's block (the unicorn runner gives real ones)."""
    target = corev_target(tmp_path, "        simd_dot = 1\n        mac = 1\n        hwloop_setup = 1\n")
    program = Program(corev_elf, target)
    start = FLASH_ORIGIN  # corev is the only code, and .text starts the flash (rv32.ld)
    block = program.block(start, 14)
    assert [i.kind for i in block] == [
        "post_increment_load", "simd_dot", "post_increment_load", "alu", "load", "mac",
        "post_increment_store", "clip_min_max", "clip_min_max", "simd_alu", "xcv_alu",
        "hwloop_setup", "hwloop_setup", "jump",
    ]  # fmt: skip
    lb, sdot, _, _, _, mac, sw = block[:7]
    assert lb.loaded == 10 and lb.writes == {10, 11} and lb.reads == {11}  # a0 loaded, a1 incremented
    assert sdot.reads == {10, 12, 13} and sdot.writes == {12}  # the accumulator a2 is read too
    assert mac.reads == {16, 14, 12} and sw.writes == {11} and sw.reads == {11, 12}
    assert block[11].mnemonic == "cv.setupi" and block[12].mnemonic == "cv.setup" and block[12].reads == {10}
    counts = program.count([Block(start, 14, 1)], [])
    assert counts.per_function == {
        "corev": 13 + 2 * C["load_use_stall"] + C["jump"]
    }  # 13 one-cycle + 2 stalls
    assert counts.breakdown["load_use_stall"].events == 2 and counts.breakdown["hwloop_setup"].cycles == 2


COREV_PACKING = """
    .text
    .globl corev
    .type corev, @function
corev:
    cv.pack a0, a1, a2       # simd_alu
    cv.packlo.b a0, a1, a2   # simd_alu, reads a0 (the half it keeps)
    cv.packhi.b a0, a1, a2   # simd_alu, reads a0
    cv.shuffle.b a3, a0, a2  # simd_alu
    cv.shuffle2.b a3, a0, a2 # simd_alu, reads a3 (the bytes it selects from)
    cv.sb a3, (a4), 1        # post_increment_store
    jalr zero, 0(ra)         # jump
    .size corev, . - corev
"""


def test_corev_packing_instructions(tmp_path: Path) -> None:
    """The packing and shuffling instructions of the xpulp dialect are SIMD ALU instructions; the
    ones that keep part of their destination read it."""
    program = Program(_corev_elf(tmp_path, COREV_PACKING), corev_target(tmp_path, ""))
    block = program.block(FLASH_ORIGIN, 7)
    assert [i.kind for i in block] == [*["simd_alu"] * 5, "post_increment_store", "jump"]
    pack, lo, hi, shuffle, shuffle2 = block[:5]
    assert pack.reads == {11, 12} and lo.reads == hi.reads == {10, 11, 12}
    assert shuffle.reads == {10, 12} and shuffle2.reads == {10, 12, 13}
    assert program.count([Block(FLASH_ORIGIN, 7, 1)], []).per_function == {"corev": 6 + C["jump"]}


def test_a_class_without_a_cost_is_an_error(corev_elf: Path, tmp_path: Path) -> None:
    program = Program(corev_elf, corev_target(tmp_path, ""))
    start = FLASH_ORIGIN
    with pytest.raises(CycleModelError, match=r"simd_dot.*cv\.sdotsp\.b"):
        program.count([Block(start, 14, 1)], [])


def test_unknown_instruction_is_an_error(tmp_path: Path) -> None:
    """An instruction the model has no class for (an atomic, which qemu runs) is named."""
    source = KERNELS.split("    .text\n")[0].replace("jal ra, straight", "jal ra, atomic")
    for kernel in ("loop", "muldiv", "caller", "crossing", "penalties"):
        source = source.replace(f"    jal ra, {kernel}\n", "")
    source += """
    .text
atomic:
    lui a2, %hi(data)
    addi a2, a2, %lo(data)
    amoadd.w a0, a1, (a2)
    jalr zero, 0(ra)
    .section .rodata
stack_line: .ascii "mote-stack-bytes 0\\n"
    .data
data: .word 0
"""
    exe = build_asm(source, tmp_path / "atomic.elf", march="rv32imac")
    run = run_model_binary(exe, RV32, b"")
    with pytest.raises(CycleModelError, match=r"does not know the instruction `amoadd\.w"):
        Program(exe, RV32).count(run.blocks, run.edges)


def test_a_run_without_edges_is_an_error(kernels: tuple[Path, RunResult]) -> None:
    exe, run = kernels
    with pytest.raises(CycleModelError, match="all but the last one must be followed by an edge"):
        Program(exe, RV32).count(run.blocks, ())
