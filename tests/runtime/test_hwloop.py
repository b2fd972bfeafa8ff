"""CORE-V hardware loops on the unicorn hook (runtime_c/unicorn_hook/mote_unicorn.c): cv.setup,
cv.setupi and the separate cv.starti/cv.endi/cv.count forms, nested loops, and the constraint
checks that stop a run. clang-19 cannot assemble xcvhwlp, so the set-up instructions are
written as `.insn` (opcode custom-1, funct3 100, funct4 and the loop number in bits 11:7), as
compiler/backend/xpulp_asm.py emits them. Each loop body ends in a CORE-V instruction (the hook
takes the back-jump after executing it), and the results are checked against counting by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from compiler.backend.build import build_model
from compiler.backend.run import RunError, run_model_binary
from compiler.backend.target import load_target
from tests.runtime.c_programs import model_h

N = 8


def setup(loop: int, count_reg: str, end_words: int) -> str:
    """cv.setup L, rs1, uimmL: lpstart = pc + 4, lpend = pc + 4 * end_words, lpcount = rs1."""
    return f".insn i 0x2b, 4, x{14 + loop}, {count_reg}, {end_words}"


def setupi(loop: int, count: int, end_words: int) -> str:
    """cv.setupi L, uimmL, uimmS: the count in bits 31:20, the end offset in bits 19:15."""
    return f".insn i 0x2b, 4, x{12 + loop}, x{end_words}, {count}"


def starti(loop: int, words: int) -> str:
    return f".insn i 0x2b, 4, x{loop}, x0, {words}"


def endi(loop: int, words: int) -> str:
    return f".insn i 0x2b, 4, x{4 + loop}, x0, {words}"


def count(loop: int, reg: str) -> str:
    return f".insn i 0x2b, 4, x{10 + loop}, {reg}, 0"


def asm(lines: list[str]) -> str:
    text = "\\n".join([".balign 4", ".option push", ".option norvc", *lines, ".option pop"])
    return f'"{text}\\n"'


# Each case: C statements using n (1..N*8, from the input), x, y; results r0, r1 (uint32).
CASES = {
    # 3-instruction body, count in a register: r0 = n, r1 = n * x * y
    "setup": (
        asm(
            [setup(0, "%[n]", 4), "addi %[r0], %[r0], 1", "addi %[r0], %[r0], 0", "cv.mac %[r1], %[x], %[y]"]
        ),
        lambda n, x, y: (n, n * x * y),
    ),
    # immediate count 5
    "setupi": (
        asm([setupi(0, 5, 4), "addi %[r0], %[r0], 2", "xor %[r1], %[r1], %[x]", "cv.mac %[r1], %[x], %[y]"]),
        None,  # modelled below
    ),
    # start, end and count set separately (count last), loop 1
    "separate": (
        asm(
            [
                starti(1, 3),
                endi(1, 5),
                count(1, "%[n]"),
                "addi %[r0], %[r0], 3",
                "nop",
                "cv.mac %[r1], %[y], %[y]",
            ]
        ),
        lambda n, x, y: (3 * n, n * y * y),
    ),
    # nested: loop 1 runs n times a body of loop 0 (3 times: r0 += 1 each) then r1 += x * y
    "nested": (
        asm(
            [
                starti(1, 3),
                endi(1, 8),
                count(1, "%[n]"),
                setup(0, "%[three]", 4),
                "addi %[r0], %[r0], 1",
                "nop",
                "cv.mac %[r0], %[zero], %[zero]",
                "nop",
                "cv.mac %[r1], %[x], %[y]",
            ]
        ),
        lambda n, x, y: (3 * n, n * x * y),
    ),
}


def _setupi_model(n: int, x: int, y: int) -> tuple[int, int]:
    r0 = r1 = 0
    for _ in range(5):
        r0 += 2
        r1 = ((r1 ^ x) + x * y) & 0xFFFFFFFF
    return r0, r1


def write_program(root: Path, cases: dict[str, str]) -> Path:
    d = root / "hwloop"
    d.mkdir()
    (d / "model.h").write_text(model_h([3 * 4 * N], [8 * N * len(cases)]))
    body = "".join(
        f"""        r0 = r1 = 0;
        __asm__ volatile({text}
            : [r0] "+r"(r0), [r1] "+r"(r1)
            : [n] "r"(n), [x] "r"(x), [y] "r"(y), [three] "r"(3u), [zero] "r"(0u));
        out[{2 * k * N} + 2 * i] = r0;
        out[{2 * k * N} + 2 * i + 1] = r1;
"""
        for k, text in enumerate(cases.values())
    )
    (d / "model.c").write_text(
        f"""#include "model.h"
const size_t mote_model_input_sizes[MOTE_MODEL_NUM_INPUTS] = {{{3 * 4 * N}}};
const size_t mote_model_output_sizes[MOTE_MODEL_NUM_OUTPUTS] = {{{8 * N * len(cases)}}};
void mote_model_run_io(uint8_t *arena, const void *const *inputs, void *const *outputs) {{
    const uint32_t *in = inputs[0];
    uint32_t *out = outputs[0], r0, r1;
    (void)arena;
    for (int i = 0; i < {N}; i++) {{
        uint32_t n = in[3 * i], x = in[3 * i + 1], y = in[3 * i + 2];
{body}    }}
}}
"""
    )
    return d


def test_hardware_loops_repeat_their_bodies(tmp_path: Path) -> None:
    xcv = load_target("rv32imc-xcv")
    exe = build_model(write_program(tmp_path, {k: v[0] for k, v in CASES.items()}), xcv, tmp_path / "h.elf")
    rng = np.random.default_rng(0)
    ins = np.stack([rng.integers(1, 40, N), rng.integers(0, 2**16, N), rng.integers(0, 2**16, N)], 1)
    ins[0, 0] = 1  # a count of one runs the body once
    got = np.frombuffer(run_model_binary(exe, xcv, ins.astype(np.uint32).tobytes()).output_bytes, np.uint32)
    got = got.reshape(len(CASES), N, 2)
    for k, (name, (_, model)) in enumerate(CASES.items()):
        model = model or _setupi_model
        for i, (n, x, y) in enumerate(ins.tolist()):
            want = tuple(v & 0xFFFFFFFF for v in model(n, x, y))
            assert tuple(int(v) for v in got[k, i]) == want, f"{name}, n={n}"


@pytest.mark.parametrize(
    "lines, message",
    [
        (
            [setup(0, "%[n]", 4), "cv.mac %[r1], %[x], %[y]", "nop", "addi %[r0], %[r0], 1"],
            "not a CORE-V instruction",
        ),
        (
            [setup(0, "%[n]", 3), "addi %[r0], %[r0], 1", "cv.mac %[r1], %[x], %[y]"],
            "at least 3 instructions",
        ),
    ],
)
def test_a_loop_breaking_the_constraints_stops_the_run(
    tmp_path: Path, lines: list[str], message: str
) -> None:
    xcv = load_target("rv32imc-xcv")
    exe = build_model(write_program(tmp_path, {"bad": asm(lines)}), xcv, tmp_path / "bad.elf")
    ins = np.ones((N, 3), np.uint32)
    with pytest.raises(RunError, match=message):
        run_model_binary(exe, xcv, ins.tobytes())
