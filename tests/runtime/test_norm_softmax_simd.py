"""The packed-SIMD statistics of the norms and softmax (MOTE_KSIMD: rv32imc-xcv only; forced on
the host with -DMOTE_KERNELS_SIMD and xpulp.h's portable twins), bit for bit against the numpy
reference: rows of type extremes (sums of squares that carry out of 32 bits on every pair),
odd lengths and rows starting at every alignment (scalar head and tail), n = 32768 (the last
length of the packed path) and 32769 (scalar), masked softmax rows with a mask shared by all rows
(the packed path) or per row (scalar), all-masked rows, and the unmasked softmax.

The rv32imc-xcv test builds a hand-written "model" calling the kernels on misaligned views of
its input and runs it on the unicorn emulator (CORE-V asm); docs/runtime_kernels.md has the
proofs ("Packed statistics")."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from compiler.backend.build import build_model
from compiler.backend.run import run_model_binary
from compiler.backend.target import load_target
from compiler.reference import kernels as K
from tests.backend.kernel_lib import DTYPES, build
from tests.runtime.c_programs import model_h

SM_P = (1, 9465, 46958744, 4848, 65536)  # BERT-tiny's softmax: path 1
C_TYPE = {"i8": "int8_t", "ui8": "uint8_t", "i16": "int16_t", "ui16": "uint16_t", "i32": "int32_t"}
SUFFIX = {"i8": "i8", "ui8": "u8", "i16": "i16", "ui16": "u16", "i32": "i32"}


def edge_rows(rng: np.random.Generator, elem: str, n: int) -> np.ndarray:
    lo, hi = int(np.iinfo(DTYPES[elem]).min), int(np.iinfo(DTYPES[elem]).max)
    rows = [
        np.full(n, lo),  # every pair of squares 2^31 (int16): a carry per instruction
        np.full(n, hi),
        np.where(np.arange(n) % 2 == 0, lo, hi),
        np.where(np.arange(n) % 3 == 0, hi, lo),
        rng.integers(lo, hi, n, endpoint=True),
        np.clip(rng.integers(-3, 3, n, endpoint=True) + (lo + hi) // 2, lo, hi),
    ]
    rows[-1][n // 2] = lo  # one outlier
    return np.stack(rows)


def norm_case(rng, x_elem: str, n: int):
    x = edge_rows(rng, x_elem, n)
    w = rng.integers(1_900_000, 4_100_000, n, endpoint=True) * rng.choice([-1, 1], n)
    b = rng.integers(-460_000, 460_000, n, endpoint=True)
    return x, w, b


def misaligned(a: np.ndarray, elem: str, off: int) -> np.ndarray:
    """a as a C-contiguous array whose data starts `off` elements past a 16-byte boundary."""
    dt = np.dtype(DTYPES[elem])
    size = a.size * dt.itemsize
    raw = np.zeros(size + 32 + off * dt.itemsize, np.uint8)
    start = (-raw.ctypes.data) % 16 + off * dt.itemsize
    view = raw[start : start + size].view(dt).reshape(a.shape)
    view[...] = a
    assert view.ctypes.data % 16 == off * dt.itemsize
    return view


@pytest.fixture(scope="module")
def simd_lib():
    return build("MOTE_KERNELS_SIMD")


def _ptr(a: np.ndarray):
    import ctypes

    return ctypes.c_void_p(a.ctypes.data)


def host_norms(lib, x, w, b, x_elem, y_elem, shift, levels):
    import ctypes

    rows, n = x.shape
    out = {}
    i32 = ctypes.c_int32
    hi = levels // 2 - 1
    w32, b32 = w.astype(np.int32), b.astype(np.int32)
    ops = ["layernorm", "rmsnorm"] + (["layernorm_trunc"] if x_elem in ("i8", "ui8") else [])
    for op in ops:
        y = np.zeros((rows, n), DTYPES[y_elem])
        fn = getattr(lib, f"mote_{op}_{SUFFIX[x_elem]}_{SUFFIX[y_elem]}")
        args = [_ptr(x), _ptr(w32)] + ([] if op == "rmsnorm" else [_ptr(b32)]) + [_ptr(y)]
        fn(*args, i32(rows), i32(n), i32(shift), i32(hi))
        out[op] = y.astype(np.int64)
    return out


def want_norms(x, w, b, x_elem, shift, levels):
    want = {"layernorm": K.layernorm(x, w, b, shift, levels), "rmsnorm": K.rmsnorm(x, w, shift, levels)}
    if x_elem in ("i8", "ui8"):
        want["layernorm_trunc"] = K.layernorm_trunc(x, w, b, shift, levels)
    return want


@pytest.mark.parametrize("x_elem", ["i8", "ui8", "i16", "ui16"])
def test_host_simd_norms_edges(simd_lib, x_elem):
    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 4, 5, 7, 8, 9, 128, 129):
        x, w, b = norm_case(rng, x_elem, n)
        for off in range(4):
            xa = misaligned(x, x_elem, off)
            for y_elem, shift, levels in (("i8", 16, 256), ("i16", 16, 65536)):
                got = host_norms(simd_lib, xa, w, b, x_elem, y_elem, shift, levels)
                for op, want in want_norms(x, w, b, x_elem, shift, levels).items():
                    np.testing.assert_array_equal(got[op], want, err_msg=f"{op} n={n} off={off}")


@pytest.mark.parametrize("n", [32768, 32769])
def test_host_simd_norms_longest_rows(simd_lib, n):
    """n = 32768 is the last length on the packed path: all -32768 gives sum(y^2) = 2^45."""
    rng = np.random.default_rng(n)
    x = np.stack([np.full(n, -32768), rng.integers(-32768, 32767, n, endpoint=True)])
    w = rng.integers(-4_000_000, 4_000_000, n, endpoint=True)
    b = rng.integers(-1000, 1000, n, endpoint=True)
    for off in (0, 1):
        got = host_norms(simd_lib, misaligned(x, "i16", off), w, b, "i16", "i16", 16, 65536)
        for op, want in want_norms(x, w, b, "i16", 16, 65536).items():
            np.testing.assert_array_equal(got[op], want, err_msg=op)


def host_softmax(lib, x, mask, mrs, y_elem="ui16"):
    import ctypes

    rows, n = x.shape
    i32 = ctypes.c_int32
    y = np.zeros((rows, n), DTYPES[y_elem])
    if mask is None:
        fn = getattr(lib, f"mote_softmax_i16_{SUFFIX[y_elem]}")
        fn(_ptr(x), _ptr(y), i32(rows), i32(n), *map(i32, SM_P))
    else:
        m = mask.astype(np.int32)
        fn = getattr(lib, f"mote_softmax_mask_i16_i32_{SUFFIX[y_elem]}")
        fn(_ptr(x), _ptr(m), _ptr(y), i32(rows), i32(n), i32(mrs), i32(1), *map(i32, SM_P))
    return y.astype(np.int64)


def softmax_masks(rng, n):
    return [
        np.ones(n, np.int64),
        (np.arange(n) % 3 != 0).astype(np.int64),
        np.zeros(n, np.int64),  # every row all-masked
        (np.arange(n) == 0).astype(np.int64),  # only the head kept
        (np.arange(n) == n - 1).astype(np.int64),  # only the tail kept
        rng.integers(0, 1, n, endpoint=True),
    ]


def test_host_simd_softmax_edges(simd_lib):
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 4, 5, 9, 128, 129, 170, 171, 300):
        x = edge_rows(rng, "i16", n)
        for off in (0, 1):
            xa = misaligned(x, "i16", off)
            np.testing.assert_array_equal(host_softmax(simd_lib, xa, None, 0), K.softmax_ibert(x, *SM_P))
            for m in softmax_masks(rng, n):
                want = K.softmax_ibert(x, *SM_P, mask=np.broadcast_to(m, x.shape))
                np.testing.assert_array_equal(host_softmax(simd_lib, xa, m, 0), want, err_msg=f"n={n}")
            per_row = rng.integers(0, 1, x.shape, endpoint=True)
            got = host_softmax(simd_lib, xa, per_row, n)
            np.testing.assert_array_equal(got, K.softmax_ibert(x, *SM_P, mask=per_row))


# ---------------------------------------------------------------------------------------------
# rv32imc-xcv on unicorn: the CORE-V asm
# ---------------------------------------------------------------------------------------------


def xcv_cases() -> list[dict]:
    rng = np.random.default_rng(11)
    cases = []
    for x_elem in ("i8", "ui8", "i16", "ui16"):
        for n in (1, 3, 4, 5, 7, 128, 129):
            x, w, b = norm_case(rng, x_elem, n)
            for off in (0, 1, 3):
                y_elem, shift, levels = ("i8", 16, 256) if n % 2 else ("i16", 16, 65536)
                ops = ["layernorm", "rmsnorm"] + (["layernorm_trunc"] if x_elem in ("i8", "ui8") else [])
                for op in ops:
                    cases.append(
                        dict(
                            op=op,
                            x=x,
                            w=w,
                            b=b,
                            x_elem=x_elem,
                            y_elem=y_elem,
                            off=off,
                            shift=shift,
                            levels=levels,
                        )
                    )
    n = 32768
    x = np.stack([np.full(n, -32768), rng.integers(-32768, 32767, n, endpoint=True)])
    w = rng.integers(-4_000_000, 4_000_000, n, endpoint=True)
    cases.append(
        dict(op="layernorm", x=x, w=w, b=w // 7, x_elem="i16", y_elem="i16", off=1, shift=16, levels=65536)
    )
    for n in (2, 3, 5, 128, 129, 171):
        x = edge_rows(rng, "i16", n)
        for off in (0, 1):
            cases.append(dict(op="softmax", x=x, mask=None, mrs=0, off=off))
            for m in softmax_masks(rng, n):
                cases.append(dict(op="softmax_mask", x=x, mask=m, mrs=0, off=off))
            cases.append(
                dict(op="softmax_mask", x=x, mask=rng.integers(0, 1, x.shape, endpoint=True), mrs=n, off=off)
            )
    return cases


def _expected(c: dict) -> np.ndarray:
    x = c["x"]
    if c["op"] == "layernorm":
        return K.layernorm(x, c["w"], c["b"], c["shift"], c["levels"])
    if c["op"] == "layernorm_trunc":
        return K.layernorm_trunc(x, c["w"], c["b"], c["shift"], c["levels"])
    if c["op"] == "rmsnorm":
        return K.rmsnorm(x, c["w"], c["shift"], c["levels"])
    mask = None if c["mask"] is None else np.broadcast_to(c["mask"], x.shape)
    return K.softmax_ibert(x, *SM_P, mask=mask)


def write_program(d: Path, cases: list[dict]) -> tuple[bytes, list[tuple[int, int, str]]]:
    """model.c calling each case on views of one input buffer (each array at a 16-byte boundary
    plus its offset); returns the input blob and, per case, the output offset, size and type."""
    blob = bytearray()

    def put(a: np.ndarray, elem: str, off: int = 0) -> int:
        dt = np.dtype(DTYPES[elem])
        blob.extend(b"\0" * ((-len(blob)) % 16 + off * dt.itemsize))
        at = len(blob)
        blob.extend(np.ascontiguousarray(a).astype(dt).tobytes())
        return at

    calls, outs, out_at = [], [], 0
    for c in cases:
        rows, n = c["x"].shape
        x_elem = c.get("x_elem", "i16")
        y_elem = c.get("y_elem", "ui16")
        xo = put(c["x"], x_elem, c["off"])
        x = f"(const {C_TYPE[x_elem]} *)(in + {xo})"
        out_at += (-out_at) % 16
        y = f"({C_TYPE[y_elem]} *)(out + {out_at})"
        outs.append((out_at, rows * n, y_elem))
        out_at += rows * n * np.dtype(DTYPES[y_elem]).itemsize
        if c["op"].startswith("softmax"):
            sm = ", ".join(map(str, SM_P))
            if c["op"] == "softmax":
                calls.append(f"mote_softmax_i16_u16({x}, {y}, {rows}, {n}, {sm});")
            else:
                mo = put(c["mask"], "i32")
                calls.append(
                    f"mote_softmax_mask_i16_i32_u16({x}, (const int32_t *)(in + {mo}), {y}, {rows}, {n}, "
                    f"{c['mrs']}, 1, {sm});"
                )
            continue
        wo = put(c["w"], "i32")
        fn = f"mote_{c['op']}_{SUFFIX[x_elem]}_{SUFFIX[y_elem]}"
        wb = f"(const int32_t *)(in + {wo})"
        if c["op"] != "rmsnorm":
            wb += f", (const int32_t *)(in + {put(c['b'], 'i32')})"
        calls.append(f"{fn}({x}, {wb}, {y}, {rows}, {n}, {c['shift']}, {c['levels'] // 2 - 1});")
    blob.extend(b"\0" * ((-len(blob)) % 16))
    out_bytes = out_at + (-out_at) % 16
    body = "\n    ".join(calls)
    (d / "model.h").write_text(model_h([len(blob)], [out_bytes]))
    (d / "model.c").write_text(
        f"""#include "model.h"
#include "mote_kernels.h"
const size_t mote_model_input_sizes[1] = {{{len(blob)}}};
const size_t mote_model_output_sizes[1] = {{{out_bytes}}};
void mote_model_run_io(uint8_t *arena, const void *const *inputs, void *const *outputs)
{{
    (void)arena;
    const uint8_t *in = (const uint8_t *)inputs[0];
    uint8_t *out = (uint8_t *)outputs[0];
    {body}
}}
"""
    )
    return bytes(blob), outs


def test_xcv_simd_norms_and_softmax(tmp_path):
    xcv = load_target("rv32imc-xcv")
    cases = xcv_cases()
    blob, outs = write_program(tmp_path, cases)
    exe = build_model(tmp_path, xcv, tmp_path / "simd.elf")
    listing = subprocess.run(
        ["llvm-objdump-19", "-d", "--no-show-raw-insn", "--mattr=+xcvsimd,+xcvmac,+xcvmem,+xcvalu", exe],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for insn in ("cv.sdotsp.h", "cv.sdotsp.b", "cv.max.h", "cv.min.h", "cv.max.b", "cv.min.b"):
        assert insn in listing, insn
    # the input blob must be 16-byte aligned in the target's memory for the offsets to hold
    out = run_model_binary(exe, xcv, blob).output_bytes
    for c, (at, count, y_elem) in zip(cases, outs, strict=True):
        got = np.frombuffer(out, DTYPES[y_elem], count, at).reshape(c["x"].shape).astype(np.int64)
        err = f"{c['op']} {c.get('x_elem', 'i16')} n={c['x'].shape[1]} off={c['off']}"
        np.testing.assert_array_equal(got, _expected(c), err_msg=err)
