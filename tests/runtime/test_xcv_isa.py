"""The unicorn hook's CORE-V instructions one by one, against an independent Python model of the
CV32E40P manual: every xcvalu, xcvmac, xcvbi and xcvsimd instruction the hook implements (each
SIMD operation in its .h/.b, .sc and .sci forms), in inline asm on random and edge operands.

xpulp.h's intrinsics are checked against their portable C in test_xpulp.py, and the loads and
stores clang emits on its own by the end-to-end tests; this covers the rest of the decoder, so
that a new intrinsic or a new clang pattern does not meet an untested path. The program is
generated (one row of results per case), built for rv32imc-xcv and run through the harness."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from compiler.backend.build import build_model
from compiler.backend.run import run_model_binary
from compiler.backend.target import load_target
from tests.runtime.c_programs import model_h

N = 96
M32 = 0xFFFFFFFF
Model = Callable[[int, int, int], int]  # (rd before, rs1, rs2) -> rd after, all uint32


def s(x: int, bits: int) -> int:
    x &= (1 << bits) - 1
    return x - (1 << bits) if x >> (bits - 1) else x


def lanes(x: int, w: int) -> list[int]:
    return [(x >> (w * i)) & ((1 << w) - 1) for i in range(32 // w)]


def join(values: list[int], w: int) -> int:
    return sum((v & ((1 << w) - 1)) << (w * i) for i, v in enumerate(values))


def sra32(x: int, sh: int) -> int:
    return (s(x, 32) >> sh) & M32


def rnd(sh: int) -> int:
    return (1 << sh) >> 1


# ---- Scalar cases --------------------------------------------------------------------------


def scalar_cases() -> list[tuple[str, Model]]:
    cases: list[tuple[str, Model]] = [
        ("cv.abs %0, %1", lambda d, a, b: abs(s(a, 32)) & M32),
        ("cv.slet %0, %1, %2", lambda d, a, b: int(s(a, 32) <= s(b, 32))),
        ("cv.sletu %0, %1, %2", lambda d, a, b: int(a <= b)),
        ("cv.min %0, %1, %2", lambda d, a, b: a if s(a, 32) < s(b, 32) else b),
        ("cv.minu %0, %1, %2", lambda d, a, b: min(a, b)),
        ("cv.max %0, %1, %2", lambda d, a, b: b if s(a, 32) < s(b, 32) else a),
        ("cv.maxu %0, %1, %2", lambda d, a, b: max(a, b)),
        ("cv.exths %0, %1", lambda d, a, b: s(a, 16) & M32),
        ("cv.exthz %0, %1", lambda d, a, b: a & 0xFFFF),
        ("cv.extbs %0, %1", lambda d, a, b: s(a, 8) & M32),
        ("cv.extbz %0, %1", lambda d, a, b: a & 0xFF),
        ("cv.mac %0, %1, %2", lambda d, a, b: (d + a * b) & M32),
        ("cv.msu %0, %1, %2", lambda d, a, b: (d - a * b) & M32),
    ]

    def clip(x: int, hi: int, unsigned: bool) -> int:
        lo = 0 if unsigned else -hi - 1
        return min(max(s(x, 32), lo), hi) & M32

    def bound(n: int) -> int:
        return (1 << (n - 1)) - 1 if n else 0

    for n in (0, 1, 5, 8, 9, 16, 31):
        cases.append((f"cv.clip %0, %1, {n}", lambda d, a, b, n=n: clip(a, bound(n), False)))
        cases.append((f"cv.clipu %0, %1, {n}", lambda d, a, b, n=n: clip(a, bound(n), True)))
    cases.append(("cv.clipr %0, %1, %2", lambda d, a, b: clip(a, b & 0x7FFFFFFF, False)))
    cases.append(("cv.clipur %0, %1, %2", lambda d, a, b: clip(a, b & 0x7FFFFFFF, True)))

    for op in ("add", "sub"):
        for suffix, unsigned, rounding in (("n", 0, 0), ("un", 1, 0), ("rn", 0, 1), ("urn", 1, 1)):
            for sh in (0, 1, 7, 31):

                def f(d: int, a: int, b: int, op=op, u=unsigned, r=rounding, sh=sh) -> int:
                    v = (a + b if op == "add" else a - b) + (rnd(sh) if r else 0)
                    return (v & M32) >> sh if u else sra32(v & M32, sh)

                cases.append((f"cv.{op}{suffix} %0, %1, %2, {sh}", f))

            def g(d: int, a: int, b: int, op=op, u=unsigned, r=rounding) -> int:
                sh = b & 31
                v = (d + a if op == "add" else d - a) + (rnd(sh) if r else 0)
                return (v & M32) >> sh if u else sra32(v & M32, sh)

            cases.append((f"cv.{op}{suffix}r %0, %1, %2", g))

    for kind, acc in (("mul", False), ("mac", True)):
        for sign in ("s", "u"):
            for hh in (False, True):
                for rounding in (False, True):
                    for sh in (0, 3, 16, 31):

                        def h(d: int, a: int, b: int, acc=acc, sign=sign, hh=hh, r=rounding, sh=sh) -> int:
                            x, y = (a >> 16, b >> 16) if hh else (a & 0xFFFF, b & 0xFFFF)
                            p = s(x, 16) * s(y, 16) if sign == "s" else x * y
                            v = (p + (d if acc else 0) + (rnd(sh) if r else 0)) & M32
                            return v >> sh if sign == "u" else sra32(v, sh)

                        name = f"cv.{kind}{'hh' if hh else ''}{sign}{'r' if rounding else ''}n"
                        cases.append((f"{name} %0, %1, %2, {sh}", h))
    for imm in (-16, -3, 0, 5, 15):
        for op, equal in (("beqimm", True), ("bneimm", False)):
            asm = f"cv.{op} %1, {imm}, 1f\\n li %0, 0\\n j 2f\\n1: li %0, 1\\n2:"
            cases.append((asm, lambda d, a, b, imm=imm, eq=equal: int((s(a, 32) == imm) == eq)))
    return cases


# ---- SIMD cases ------------------------------------------------------------------------------

SIGNED_IMMS = (-32, -1, 0, 7, 31)
UNSIGNED_IMMS = (0, 5, 63)


def simd_cases() -> list[tuple[str, Model]]:
    cases: list[tuple[str, Model]] = []

    def lanewise(op: Callable[[int, int, int], int]) -> Callable[[int, int, int, int], int]:
        """op(ea, eb, w) on unsigned lanes -> a binary SIMD model over (a, op2, w)."""
        return lambda d, a, op2, w: join(
            [op(x, y, w) for x, y in zip(lanes(a, w), lanes(op2, w), strict=True)], w
        )

    def smin(x: int, y: int, w: int) -> int:
        return x if s(x, w) < s(y, w) else y

    def smax(x: int, y: int, w: int) -> int:
        return x if s(x, w) > s(y, w) else y

    binary = {
        "add": lanewise(lambda x, y, w: x + y),
        "sub": lanewise(lambda x, y, w: x - y),
        "avg": lanewise(lambda x, y, w: s(x + y, w) >> 1),
        "avgu": lanewise(lambda x, y, w: ((x + y) & ((1 << w) - 1)) >> 1),
        "min": lanewise(smin),
        "minu": lanewise(lambda x, y, w: min(x, y)),
        "max": lanewise(smax),
        "maxu": lanewise(lambda x, y, w: max(x, y)),
        "srl": lanewise(lambda x, y, w: x >> (y & (w - 1))),
        "sra": lanewise(lambda x, y, w: s(x, w) >> (y & (w - 1))),
        "sll": lanewise(lambda x, y, w: x << (y & (w - 1))),
        "or": lanewise(lambda x, y, w: x | y),
        "xor": lanewise(lambda x, y, w: x ^ y),
        "and": lanewise(lambda x, y, w: x & y),
    }
    compares = {
        "cmpeq": lambda x, y, w: x == y,
        "cmpne": lambda x, y, w: x != y,
        "cmpgt": lambda x, y, w: s(x, w) > s(y, w),
        "cmpge": lambda x, y, w: s(x, w) >= s(y, w),
        "cmplt": lambda x, y, w: s(x, w) < s(y, w),
        "cmple": lambda x, y, w: s(x, w) <= s(y, w),
        "cmpgtu": lambda x, y, w: x > y,
        "cmpgeu": lambda x, y, w: x >= y,
        "cmpltu": lambda x, y, w: x < y,
        "cmpleu": lambda x, y, w: x <= y,
    }
    for name, cmp in compares.items():
        binary[name] = lanewise(lambda x, y, w, cmp=cmp: (1 << w) - 1 if cmp(x, y, w) else 0)

    def dot(signed_a: bool, signed_b: bool, acc: bool) -> Callable[[int, int, int, int], int]:
        def f(d: int, a: int, op2: int, w: int) -> int:
            total = d if acc else 0
            for x, y in zip(lanes(a, w), lanes(op2, w), strict=True):
                total += (s(x, w) if signed_a else x) * (s(y, w) if signed_b else y)
            return total & M32

        return f

    binary |= {
        "dotup": dot(False, False, False),
        "dotusp": dot(False, True, False),
        "dotsp": dot(True, True, False),
        "sdotup": dot(False, False, True),
        "sdotusp": dot(False, True, True),
        "sdotsp": dot(True, True, True),
    }
    unsigned_imm = {"avgu", "minu", "maxu", "dotup", "sdotup", "cmpgtu", "cmpgeu", "cmpltu", "cmpleu"}

    for name, model in binary.items():
        for w, suffix in ((16, "h"), (8, "b")):
            cases.append((f"cv.{name}.{suffix} %0, %1, %2", lambda d, a, b, m=model, w=w: m(d, a, b, w)))
            rep: Callable[[int, int], int] = lambda v, w: join([v] * (32 // w), w)  # noqa: E731
            cases.append(
                (
                    f"cv.{name}.sc.{suffix} %0, %1, %2",
                    lambda d, a, b, m=model, w=w, rep=rep: m(d, a, rep(b, w), w),
                )
            )
            if name in ("srl", "sra", "sll"):
                imms: tuple[int, ...] = (0, 1, w - 1)
            else:
                imms = UNSIGNED_IMMS if name in unsigned_imm else SIGNED_IMMS
            for imm in imms:
                cases.append(
                    (
                        f"cv.{name}.sci.{suffix} %0, %1, {imm}",
                        lambda d, a, b, m=model, w=w, imm=imm, rep=rep: m(d, a, rep(imm, w), w),
                    )
                )

    for w, suffix in ((16, "h"), (8, "b")):
        cases.append(
            (f"cv.abs.{suffix} %0, %1", lambda d, a, b, w=w: join([abs(s(x, w)) for x in lanes(a, w)], w))
        )
        for idx in range(32 // w):
            cases.append(
                (f"cv.extract.{suffix} %0, %1, {idx}", lambda d, a, b, w=w, i=idx: s(lanes(a, w)[i], w) & M32)
            )
            cases.append((f"cv.extractu.{suffix} %0, %1, {idx}", lambda d, a, b, w=w, i=idx: lanes(a, w)[i]))

            def insert(d: int, a: int, b: int, w: int = w, i: int = idx) -> int:
                out = lanes(d, w)
                out[i] = a & ((1 << w) - 1)
                return join(out, w)

            cases.append((f"cv.insert.{suffix} %0, %1, {idx}", insert))
        n = 32 // w

        def shuffle(d: int, a: int, b: int, w: int = w, n: int = n) -> int:
            return join([lanes(a, w)[sel & (n - 1)] for sel in lanes(b, w)], w)

        def shuffle2(d: int, a: int, b: int, w: int = w, n: int = n) -> int:
            return join([lanes(a if sel & n else d, w)[sel & (n - 1)] for sel in lanes(b, w)], w)

        cases.append((f"cv.shuffle.{suffix} %0, %1, %2", shuffle))
        cases.append((f"cv.shuffle2.{suffix} %0, %1, %2", shuffle2))
    for imm in range(4):
        cases.append(
            (
                f"cv.shuffle.sci.h %0, %1, {imm}",
                lambda d, a, b, imm=imm: join([lanes(a, 16)[imm & 1], lanes(a, 16)[imm >> 1]], 16),
            )
        )
    for k in range(4):
        for imm in (0, 27, 57, 63):
            sels = [imm & 3, (imm >> 2) & 3, (imm >> 4) & 3, k]
            cases.append(
                (
                    f"cv.shufflei{k}.sci.b %0, %1, {imm}",
                    lambda d, a, b, sels=sels: join([lanes(a, 8)[i] for i in sels], 8),
                )
            )
    cases += [
        ("cv.pack %0, %1, %2", lambda d, a, b: ((a & 0xFFFF) << 16) | (b & 0xFFFF)),
        ("cv.pack.h %0, %1, %2", lambda d, a, b: (a & 0xFFFF0000) | (b >> 16)),
        ("cv.packhi.b %0, %1, %2", lambda d, a, b: (d & 0xFFFF) | (a & 0xFF) << 24 | (b & 0xFF) << 16),
        ("cv.packlo.b %0, %1, %2", lambda d, a, b: (d & 0xFFFF0000) | (a & 0xFF) << 8 | (b & 0xFF)),
    ]
    return cases


CASES = scalar_cases() + simd_cases()


def operands(seed: int) -> np.ndarray:
    """uint32[3][N]: rd before, rs1, rs2; random words, words of edge lanes, and small values
    (so that the immediate branches are taken sometimes)."""
    rng = np.random.default_rng(seed)
    ops = rng.integers(0, 2**32, (3, N), dtype=np.uint64)
    edges = np.array([0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFE], np.uint64)
    lane_words = rng.choice(edges, (3, N // 3, 4))
    ops[:, : N // 3] = (lane_words * (np.uint64(1) << (np.arange(4, dtype=np.uint64) * np.uint64(8)))).sum(-1)
    words = np.array([0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x7FFF, 0x8000, 0xFFFF8000], np.uint64)
    ops[:, N // 3 : N // 2] = rng.choice(words, (3, N // 2 - N // 3))
    ops[1, N // 2 : 2 * N // 3] = (
        rng.integers(-17, 17, 2 * N // 3 - N // 2).astype(np.int64).astype(np.uint64) & M32
    )
    return ops.astype(np.uint32)


def write_program(root: Path) -> Path:
    """model.h/model.c computing one row of N results per case."""
    d = root / "xcv_isa"
    d.mkdir()
    (d / "model.h").write_text(model_h([4 * N] * 3, [4 * N * len(CASES)]))
    body = "".join(
        f'        r = d[i];\n        __asm__("{asm}" : "+r"(r) : "r"(a[i]), "r"(b[i]));\n'
        f"        out[{k * N} + i] = r;\n"
        for k, (asm, _) in enumerate(CASES)
    )
    (d / "model.c").write_text(
        f"""#include "model.h"
const size_t mote_model_input_sizes[MOTE_MODEL_NUM_INPUTS] = {{{4 * N}, {4 * N}, {4 * N}}};
const size_t mote_model_output_sizes[MOTE_MODEL_NUM_OUTPUTS] = {{{4 * N * len(CASES)}}};
void mote_model_run_io(uint8_t *arena, const void *const *inputs, void *const *outputs) {{
    const uint32_t *d = inputs[0], *a = inputs[1], *b = inputs[2];
    uint32_t *out = outputs[0], r;
    (void)arena;
    for (int i = 0; i < {N}; i++) {{
{body}    }}
}}
"""
    )
    return d


@pytest.mark.parametrize("seed", [0])
def test_core_v_instructions_match_the_model(tmp_path, seed):
    xcv = load_target("rv32imc-xcv")
    exe = build_model(write_program(tmp_path), xcv, tmp_path / "isa.elf")
    ops = operands(seed)
    run = run_model_binary(exe, xcv, ops.tobytes())
    got = np.frombuffer(run.output_bytes, np.uint32).reshape(len(CASES), N)
    wrong = []
    for k, (asm, model) in enumerate(CASES):
        for i in range(N):
            d, a, b = (int(x) for x in ops[:, i])
            want = model(d, a, b) & M32
            if int(got[k, i]) != want:
                name = asm.split(chr(92))[0]
                wrong.append(f"{name}: rd={d:#x} rs1={a:#x} rs2={b:#x}: {int(got[k, i]):#x} != {want:#x}")
                break
    assert not wrong, f"{len(wrong)} of {len(CASES)} cases differ:\n" + "\n".join(wrong)
