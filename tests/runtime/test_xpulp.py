"""runtime_c/include/xpulp.h: its CORE-V asm (rv32imc-xcv, compiled by clang-19, executed by the
unicorn hook) and its portable C (host; rv32imc under qemu; clang with MOTE_XPULP_PORTABLE)
give bit-identical results for every intrinsic, on random operands and on the int8/int16/int32
edges (-128, 127, 0, -1, 255, INT32_MIN, INT32_MAX...).

The program is fixtures/xpulp_model, a hand-written "model" run through the ordinary harness
protocol, so the same build and run code as `mote run` is exercised. A numpy model of a few
intrinsics guards against the asm and the C sharing a misreading of the manual."""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from compiler.backend.build import build_model
from compiler.backend.run import run_model_binary
from compiler.backend.target import load_target

FIXTURE = Path(__file__).parent / "fixtures" / "xpulp_model"
HEADER = (FIXTURE / "model.h").read_text()
N = int(re.search(r"#define XP_N ([0-9]+)", HEADER).group(1))  # type: ignore[union-attr]
CALLS = int(re.search(r"#define XP_CALLS ([0-9]+)", HEADER).group(1))  # type: ignore[union-attr]
RESULTS = CALLS + 6
OFFSETS = int(re.search(r"#define XP_OFFSETS ([0-9]+)", HEADER).group(1))  # type: ignore[union-attr]
XCV = load_target("rv32imc-xcv")
# Every CORE-V instruction the intrinsics emit: all must be in the asm build.
EMITTED = {
    *"cv.sdotsp.b cv.sdotup.b cv.sdotusp.b cv.sdotsp.h cv.sdotup.h".split(),
    *"cv.dotsp.b cv.dotup.b cv.dotusp.b cv.dotsp.h cv.mac cv.msu".split(),
    *"cv.clip cv.clipu cv.clipr cv.clipur cv.min cv.max cv.minu cv.maxu".split(),
    *"cv.pack cv.packlo.b cv.packhi.b cv.shuffle.b cv.shuffle2.b cv.sdotusp.h cv.sra.sci.h".split(),
    *"cv.lb cv.lbu cv.lh cv.lhu cv.lw cv.sb cv.sh cv.sw".split(),
}
BYTE_EDGES = np.array([0x80, 0x7F, 0x00, 0xFF, 0x01, 0xFE, 0x81], np.uint32)
ACC_EDGES = np.array(
    [-(2**31), 2**31 - 1, 0, -1, 1, -(2**31) + 1, 127, -128, 255, 32767, -32768, 65535, 65536], np.int64
)


def operands(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """acc int32[N], a and b uint32[N]: half of each random, half built from edge values."""
    rng = np.random.default_rng(seed)
    acc = rng.integers(-(2**31), 2**31, N, dtype=np.int64)
    acc[: N // 2] = rng.choice(ACC_EDGES, N // 2)
    words = []
    for _ in range(2):
        w = rng.integers(0, 2**32, N, dtype=np.uint64).astype(np.uint32)
        lanes = rng.choice(BYTE_EDGES, (N // 2, 4))
        w[: N // 2] = lanes[:, 0] | lanes[:, 1] << 8 | lanes[:, 2] << 16 | lanes[:, 3] << 24
        words.append(w)
    acc_edge_words = np.array([0x80000000, 0x7FFFFFFF, 0xFFFFFFFF, 0x00FF00FF, 0x7FFF8000], np.uint32)
    words[0][N // 2 : N // 2 + len(acc_edge_words)] = acc_edge_words
    return acc.astype(np.int32), words[0], words[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("xpulp")

    def get(name: str, target) -> Path:
        return build_model(FIXTURE, target, root / f"{name}.elf")

    return get


def _run(exe: Path, target, blob: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    out = run_model_binary(exe, target, blob).output_bytes
    results = np.frombuffer(out[: 4 * RESULTS * N], np.int32).reshape(RESULTS, N)
    offsets = np.frombuffer(out[4 * RESULTS * N : 4 * (RESULTS * N + OFFSETS)], np.int32)
    stored = np.frombuffer(out[4 * (RESULTS * N + OFFSETS) :], np.uint8)
    assert len(stored) == 3 * 4 * N
    return results, offsets, stored


def test_asm_build_uses_the_core_v_instructions(built):
    exe = built("xcv", XCV)
    listing = subprocess.run(
        [
            "llvm-objdump-19",
            "-d",
            "--no-show-raw-insn",
            "--mattr=+xcvsimd,+xcvmac,+xcvmem,+xcvalu,+xcvbi",
            exe,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert EMITTED <= set(re.findall(r"\s(cv\.[a-z0-9.]+)\s", listing))


@pytest.mark.parametrize("seed", [0, 1])
def test_asm_and_portable_agree(built, seed):
    acc, a, b = operands(seed)
    blob = acc.tobytes() + a.tobytes() + b.tobytes()
    asm = _run(built("xcv", XCV), XCV, blob)
    portable_clang = dataclasses.replace(XCV, cflags=(*XCV.cflags, "-DMOTE_XPULP_PORTABLE"))
    for name, target in [
        ("host", load_target("host")),
        ("rv32imc", load_target("rv32imc")),
        ("xcv-portable", portable_clang),
    ]:
        other = _run(built(name, target), target, blob)
        for got, want, what in zip(asm, other, ("results", "offsets", "stored"), strict=True):
            bad = np.argwhere(got != want)
            first = tuple(bad[0]) if len(bad) else ()
            assert not len(bad), f"{name}: {what} differ first at {first}: {got[first]} != {want[first]}"
    _check_against_numpy(asm[0], acc, a, b)


def _lanes(x: np.ndarray, signed: bool) -> np.ndarray:
    b = np.stack([(x.astype(np.int64) >> (8 * i)) & 0xFF for i in range(4)])
    return np.where(b >= 128, b - 256, b) if signed else b


def _wrap(x: np.ndarray) -> np.ndarray:
    return ((x + 2**31) % 2**32 - 2**31).astype(np.int64)


def _join(lanes: np.ndarray) -> np.ndarray:
    """Four byte lanes (any integers, lane 0 first) as the int32 word they make."""
    u = sum((lanes[i].astype(np.int64) & 0xFF) << (8 * i) for i in range(4))
    return _wrap(u)


def _halves(x: np.ndarray, signed: bool) -> np.ndarray:
    h = np.stack([(x.astype(np.int64) >> (16 * i)) & 0xFFFF for i in range(2)])
    return np.where(h >= 0x8000, h - 0x10000, h) if signed else h


def _join_halves(halves: np.ndarray) -> np.ndarray:
    h = halves & 0xFFFF
    return _wrap(h[0] | h[1] << 16)


def _shuffle2(rd: np.ndarray, src: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """cv.shuffle2.b as the manual states it: byte lane i takes byte sel[i] & 3 of rs1 if
    sel[i] & 4, else of rD; the other selector bits are ignored."""
    rd_b, src_b, s = _lanes(rd, False), _lanes(src, False), _lanes(sel, False)
    pick = lambda words, i: np.take_along_axis(words, (s[i] & 3)[None], 0)[0]  # noqa: E731
    return _join(np.stack([np.where(s[i] & 4, pick(src_b, i), pick(rd_b, i)) for i in range(4)]))


def _check_against_numpy(results: np.ndarray, acc: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Rows 0, 2, 9, 11, 15 and 29-37 of model.c: sdotsp.b, sdotusp.b, mac, clip8, clipu8, then
    pack_h, packlo.b, packhi.b, pack4_b, shuffle2.b (twice), shuffle.b (twice), then 38-41:
    sdotusp.h and sra.sci.h (by 8, by 3, and by 8 of a shifted left by 8)."""
    c = acc.astype(np.int64)
    sa, sb, ua = _lanes(a, True), _lanes(b, True), _lanes(a, False)
    np.testing.assert_array_equal(results[0], _wrap(c + (sa * sb).sum(0)))
    np.testing.assert_array_equal(results[2], _wrap(c + (ua * sb).sum(0)))
    np.testing.assert_array_equal(results[9], _wrap(c + a.astype(np.int64) * b.astype(np.int64)))
    np.testing.assert_array_equal(results[11], np.clip(c, -128, 127))
    np.testing.assert_array_equal(results[15], np.clip(c, 0, 255))
    np.testing.assert_array_equal(results[29], _wrap((c & 0xFFFF) << 16 | (a.astype(np.int64) & 0xFFFF)))
    ua_, ub_, uc = _lanes(a, False), _lanes(b, False), _lanes(acc.astype(np.uint32), False)
    np.testing.assert_array_equal(results[30], _join(np.stack([ub_[0], ua_[0], uc[2], uc[3]])))
    np.testing.assert_array_equal(results[31], _join(np.stack([uc[0], uc[1], ub_[0], ua_[0]])))
    x8 = _lanes(a >> np.uint32(8), False)
    np.testing.assert_array_equal(results[32], _join(np.stack([x8[0], uc[0], ub_[0], ua_[0]])))
    np.testing.assert_array_equal(results[33], _shuffle2(acc.astype(np.uint32), a, b))
    np.testing.assert_array_equal(results[34], _shuffle2(acc.astype(np.uint32), a, b & np.uint32(0x07070707)))
    sel = _lanes(b, False) & 3
    np.testing.assert_array_equal(results[36], _join(np.take_along_axis(ua_, sel, 0)))
    np.testing.assert_array_equal(results[37], _join(np.take_along_axis(uc, sel, 0)))
    uha, shb = _halves(a, False), _halves(b, True)
    np.testing.assert_array_equal(results[38], _wrap(c + (uha * shb).sum(0)))
    for row, word, n in ((39, a, 8), (40, b, 3), (41, a << np.uint32(8), 8)):
        np.testing.assert_array_equal(results[row], _join_halves(_halves(word, True) >> n))
