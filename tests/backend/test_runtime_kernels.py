"""The hand-written runtime kernels (runtime_c/) against the numpy reference, bit for bit.

The kernels are built into a host shared library (kernel_lib.py) and called exactly as
`runtime_call` says, on: hypothesis-drawn shapes, element types, verifier-accepted parameters
and edge values (type extremes, constant rows, ties, all-masked rows, rows longer than the
softmax buffer); the parameters of the Deeploy networks and zoo models; and every kernel op of
the Deeploy networks and of two zoo models, fed with the reference interpreter's own
intermediate values. Also checked: the header declares exactly the functions `runtime_call`
can name, the private division / square-root helpers, the call plans for broadcast masks, and
that every kernel file compiles for rv32imc with GCC and Clang.
"""

from __future__ import annotations

import ctypes
import math
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from xdsl.dialects.builtin import IntegerType
from xdsl.utils.exceptions import VerifyException

from compiler.backend.runtime_kernels import (
    INCLUDE_DIR,
    KernelCall,
    KernelCallError,
    kernel_names,
    kernel_sources,
    runtime_call,
)
from compiler.reference import kernels as K
from compiler.reference.interpreter import Interpreter
from dialects import qtfm
from tests.backend.kernel_lib import (
    CACHE,
    DTYPES,
    build,
    build_shim,
    cache_key,
    check_compiled,
    compile_all,
    run,
)

PROP = settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

T16 = ["i8", "ui8", "i16", "ui16"]
T32 = [*T16, "i32"]
I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1


@pytest.fixture(scope="module")
def lib() -> ctypes.CDLL:
    return build()


def trange(elem: str) -> tuple[int, int]:
    info = np.iinfo(DTYPES[elem])
    return int(info.min), int(info.max)


def ints(rng: np.random.Generator, shape: tuple[int, ...], lo: int, hi: int) -> np.ndarray:
    """Integers in [lo, hi], each row (last axis) in one of several styles: uniform, a narrow
    window, the two extremes only, constant, or few distinct values (ties at the maximum)."""
    a = rng.integers(lo, hi, size=shape, endpoint=True, dtype=np.int64)
    if a.ndim == 0 or a.size == 0:
        return a
    rows = a.reshape(-1, a.shape[-1])
    for row in rows:
        style = rng.integers(0, 6)
        n = row.size
        if style == 1:
            start = int(rng.integers(lo, hi, endpoint=True))
            width = int(rng.integers(0, 20))
            row[:] = rng.integers(start, min(hi, start + width), size=n, endpoint=True)
        elif style == 2:
            row[:] = rng.choice([lo, hi], size=n)
        elif style == 3:
            row[:] = rng.integers(lo, hi, endpoint=True)
        elif style == 4:
            row[:] = rng.choice(rng.integers(lo, hi, size=2, endpoint=True), size=n)
    return a


def shapes(max_rank: int = 4, min_rank: int = 0) -> st.SearchStrategy[tuple[int, ...]]:
    last = st.one_of(st.integers(1, 12), st.sampled_from([1, 2, 3, 16, 33, 64]), st.integers(250, 300))
    lead = st.lists(st.sampled_from([1, 1, 2, 3, 4]), min_size=max(min_rank - 1, 0), max_size=max_rank - 1)
    rare_empty = st.sampled_from([(0, 5), (3, 0)])
    main = st.tuples(lead, last).map(lambda t: (*t[0], t[1]))
    return st.one_of(
        main,
        main,
        main,
        main,
        st.just(()) if min_rank == 0 else st.nothing(),
        rare_empty if min_rank <= 2 else st.nothing(),
    )


def log_int(lo: int, hi: int) -> st.SearchStrategy[int]:
    """Integers in [lo, hi] with every magnitude (bit length) equally likely, plus the ends."""
    if lo < 0:
        return st.one_of(log_int(0, hi), log_int(0, -lo).map(lambda v: -v))

    def magnitude(k: int) -> st.SearchStrategy[int]:
        a, b = max(lo, (1 << k) >> 1), min(hi, 1 << k)
        return st.integers(a, b) if a <= b else st.integers(lo, hi)

    return st.one_of(st.sampled_from([lo, hi]), st.integers(0, hi.bit_length()).flatmap(magnitude))


def call_kernel(lib, op, params, ins, out_shape, out_elem, mask=None) -> np.ndarray:
    """runtime_call + execution; `ins` are (array, element type) in op order."""
    call = runtime_call(
        op,
        params,
        [(tuple(a.shape), e) for a, e in ins],
        (tuple(out_shape), out_elem),
        None if mask is None else (tuple(mask[0].shape), mask[1]),
    )
    arrays = [a.astype(DTYPES[e]) for a, e in ins]
    if mask is not None:
        arrays.append(mask[0].astype(DTYPES[mask[1]]))
    return run(lib, call, arrays, tuple(out_shape), out_elem).astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Declarations, helpers, cross-compilation
# ---------------------------------------------------------------------------------------------


def test_header_declares_exactly_the_named_kernels(lib):
    header = (INCLUDE_DIR / "mote_kernels.h").read_text()
    declared = re.findall(r"^void (mote_\w+)\(", header, flags=re.M)
    assert len(declared) == len(set(declared))
    assert set(declared) == kernel_names()
    for name in declared:
        getattr(lib, name)  # defined by the sources


SHIM = """
#include "kernels_common.h"
uint32_t t_udiv64_32(uint64_t u, uint32_t d) { return mote_udiv64_32(u, d); }
uint64_t t_udiv48_by(uint64_t u, uint32_t d) {
    mote_udiv32 v = mote_udiv32_setup(d);
    return mote_udiv48_by(u, &v);
}
uint32_t t_udiv32_by(uint32_t u, uint32_t d) {
    mote_udiv32 v = mote_udiv32_setup(d);
    return mote_udiv32_by(u, &v);
}
uint32_t t_isqrt32(uint32_t v) { return mote_isqrt32(v); }
uint32_t t_clz32(uint32_t v) { return mote_clz32(v); }
"""


@pytest.fixture(scope="module")
def shim() -> ctypes.CDLL:
    s = build_shim(SHIM)
    for name, res, args in [
        ("t_udiv64_32", ctypes.c_uint32, [ctypes.c_uint64, ctypes.c_uint32]),
        ("t_udiv48_by", ctypes.c_uint64, [ctypes.c_uint64, ctypes.c_uint32]),
        ("t_udiv32_by", ctypes.c_uint32, [ctypes.c_uint32, ctypes.c_uint32]),
        ("t_isqrt32", ctypes.c_uint32, [ctypes.c_uint32]),
        ("t_clz32", ctypes.c_uint32, [ctypes.c_uint32]),
    ]:
        getattr(s, name).restype = res
        getattr(s, name).argtypes = args
    return s


@PROP
@given(
    d=st.one_of(log_int(1, (1 << 32) - 1), st.sampled_from([1, 2, 3, 0xFFFF, 0x10000, 0x10001, 0xFFFFFFFF])),
    q=log_int(0, (1 << 32) - 1),
    r=st.floats(0, 1, exclude_max=True),
)
def test_udiv64_32(shim, d, q, r):
    u = q * d + int(r * d)
    assert shim.t_udiv64_32(u, d) == u // d


@PROP
@given(u=log_int(0, (1 << 48) - 1), d=log_int(1, 0xFFFF))
def test_udiv48_by(shim, u, d):
    assert shim.t_udiv48_by(u, d) == u // d


@PROP
@given(u=log_int(0, (1 << 32) - 1), d=log_int(1, (1 << 32) - 1))
def test_udiv32_by(shim, u, d):
    assert shim.t_udiv32_by(u, d) == u // d


@PROP
@given(
    v=st.one_of(log_int(0, (1 << 32) - 1), st.integers(0, 0xFFFF).map(lambda r: r * r), st.just(0xFFFFFFFF))
)
def test_isqrt32_and_clz32(shim, v):
    for w in {v, max(v - 1, 0), min(v + 1, 0xFFFFFFFF)}:
        assert shim.t_isqrt32(w) == math.isqrt(w)
        if w:
            assert shim.t_clz32(w) == 32 - w.bit_length()


CROSS = {
    "gcc-rv32imc": [
        "riscv64-unknown-elf-gcc",
        "-march=rv32imc",
        "-mabi=ilp32",
        "-misa-spec=2.2",
        "--specs=picolibc.specs",
    ],
    "clang19-rv32imc": ["clang-19", "--target=riscv32", "-march=rv32imc"],
}


@pytest.mark.parametrize("target", sorted(CROSS))
def test_kernels_cross_compile_for_rv32(target):
    """Compile only (running on rv32 is the targets' business). A file that compiled before
    with the same compiler, flags and sources is not recompiled (its stamp is in build/)."""
    compiler, *target_flags = CROSS[target]
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} is not installed")
    flags = [*target_flags, "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", f"-I{INCLUDE_DIR}"]
    todo = []
    for src in kernel_sources():
        stamp = CACHE / f"cross_{target}_{src.stem}_{cache_key(compiler, flags, [src])}.ok"
        if not stamp.exists():
            todo.append((src, stamp))
    work = Path(tempfile.mkdtemp(prefix="mote_cross_"))
    check_compiled(
        compile_all([[compiler, *flags, "-c", str(s), "-o", str(work / f"{s.stem}.o")] for s, _ in todo])
    )
    for _, stamp in todo:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.touch()
    shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Call plans
# ---------------------------------------------------------------------------------------------


def test_softmax_mask_plans():
    p = {"coeff_a": 1, "coeff_b": 345, "coeff_c": 62395, "log2": 255, "levels": 256}
    x = ((1, 4, 16, 16), "i16")
    padding = runtime_call("qtfm.softmax", p, [x], ((1, 4, 16, 16), "ui8"), ((1, 1, 1, 16), "i32"))
    assert padding.function == "mote_softmax_mask_i16_i32_u8"
    assert [v for v, _ in padding.scalars] == [64, 16, 0, 1, 1, 345, 62395, 255, 256]
    assert padding.outer == ()
    causal = runtime_call("softmax", p, [x], ((1, 4, 16, 16), "ui16"), ((1, 1, 16, 16), "i8"))
    assert causal.function == "mote_softmax_mask_i16_i8_u16"
    assert [v for v, _ in causal.scalars[:4]] == [16, 16, 16, 1]
    assert causal.outer == (4,) and causal.strides == ((256,), (0,), (256,)) and causal.calls == 4
    per_head = runtime_call("softmax", p, [x], ((1, 4, 16, 16), "ui8"), ((4, 1, 1), "ui8"))
    assert [v for v, _ in per_head.scalars[:4]] == [16, 16, 0, 0]
    assert per_head.outer == (4,) and per_head.strides == ((256,), (1,), (256,))
    scalar = runtime_call("softmax", p, [((), "i8")], ((), "ui8"), ((), "i8"))
    assert [v for v, _ in scalar.scalars[:4]] == [1, 1, 0, 0]
    assert all(w == 32 for _, w in causal.scalars)


def test_int_div_and_mean_plans():
    p = {"delta": 65536, "eps": 1, "eta": 7}
    rows = runtime_call(
        "qtfm.int_div", p, [((1, 2, 8, 8), "i32"), ((1, 2, 8, 1), "i32")], ((1, 2, 8, 8), "i32")
    )
    assert rows.function == "mote_int_div_i32_i32_i32"
    assert [v for v, _ in rows.scalars] == [16, 8, 8, 1, 1, 0, 65536, 1, 7] and rows.outer == ()
    cols = runtime_call("int_div", p, [((3, 1), "i8"), ((4,), "ui16")], ((3, 4), "i32"))
    assert [v for v, _ in cols.scalars[:6]] == [3, 4, 1, 0, 0, 1]
    mean = runtime_call(
        "qtfm.mean", {"axis": 1}, [((1, 16, 384), "i16")], ((1, 384), "i16"), ((1, 16), "i32")
    )
    assert mean.function == "mote_mean_mask_i16_i32_i16"
    assert [v for v, _ in mean.scalars] == [1, 16, 384]


def test_norm_weights_of_any_width_use_the_int32_kernel():
    """The C reads weight and bias as int32_t; a narrower declared type only means the caller
    widens them, so the function and scalars do not change."""
    p = {"shift": 16, "levels": 256}
    calls = [
        runtime_call("qtfm.layernorm", p, [((2, 8), "i16"), ((8,), e), ((8,), e)], ((2, 8), "i8"))
        for e in ("i8", "ui8", "si16", "i32")
    ]
    assert {c.function for c in calls} == {"mote_layernorm_i16_i8"}
    assert all(c.scalars == [(2, 32), (8, 32), (16, 32), (127, 32)] for c in calls)


@pytest.mark.parametrize(
    ("op", "params", "ins", "out", "mask"),
    [
        ("qtfm.softmax", {}, [((4,), "i32")], ((4,), "ui8"), None),  # inputs are <= 16 bits
        ("qtfm.rmsnorm", {"shift": 16, "levels": 256}, [((4,), "i8"), ((4,), "ui32")], ((4,), "i8"), None),
        ("qtfm.layernorm_trunc", {"shift": 1, "levels": 256}, [((4,), "i16")] * 3, ((4,), "i8"), None),
        ("qtfm.ita_softmax", {}, [((4,), "i8")], ((4,), "i8"), None),  # cannot hold 255
        ("qtfm.gelu", {"b": -1, "one": 1}, [((4,), "i8")], ((4,), "i16"), None),
        ("qtfm.mean", {"axis": 0}, [((4,), "i8")], ((), "i16"), None),
        ("qtfm.matmul", {}, [((4,), "i8")], ((4,), "i32"), None),
    ],
)
def test_unsupported_calls_are_errors(op, params, ins, out, mask):
    with pytest.raises(KernelCallError):
        runtime_call(op, params, ins, out, mask)


# ---------------------------------------------------------------------------------------------
# qtfm.softmax
# ---------------------------------------------------------------------------------------------

# (coeff_a, coeff_b, coeff_c, log2, levels) of real exports
SOFTMAX_REAL = [
    (1, 345, 62395, 255, 256),  # Deeploy Kernels/Integer/Softmax/Regular
    (1, 173, 15599, 127, 256),  # Deeploy Kernels/Integer/Attention
    (1, 10, 57, 8, 256),  # Deeploy microLlama1
    (1, 169, 14967, 125, 256),  # microLlama1_parallel
    (1, 84, 3735, 62, 256),  # microLlama8
    (1, 11315, 67113824, 5796, 65536),  # zoo bert-tiny (16-bit probabilities)
    (1, 9068, 43109760, 4645, 65536),  # zoo llama-tiny
    (1, 850, 379412, 435, 65536),  # zoo minilm
    (1, 6514, 22248009, 3337, 65536),  # zoo minilm
    (1, 1, 0, 1, 65536),  # the QDQ importer's saturated softmax
]


def softmax_path(p: dict[str, int], n: int, x_elem: str) -> int:
    """The arithmetic path kernels_softmax.c picks (0: 32-bit, 1: wide division, 2: 64-bit)."""
    span = 255 if x_elem in ("i8", "ui8") else 65535
    m = min(p["log2"] - 1, span)
    big = max(p["coeff_b"], abs(p["coeff_b"] - m))
    e_max = p["coeff_a"] * big * big + p["coeff_c"]
    if e_max >= 1 << 32:
        return 2
    return 0 if e_max * (p["levels"] - 1) < 1 << 32 and e_max * n < 1 << 32 else 1


def softmax_params(max_levels: int) -> st.SearchStrategy[dict[str, int]]:
    """Real exports and three synthetic families aimed at the three arithmetic paths: small
    coefficients (32-bit), zoo-like ones with many levels (wide division), and exponentials
    beyond 32 bits (64-bit; a * b^2 >= 2^32 with the verifier's bound still met)."""

    def levels(lo: int, hi: int) -> st.SearchStrategy[int]:
        hi = min(hi, max_levels)
        lo = min(lo, hi)
        return st.one_of(st.sampled_from(sorted({lo, hi, min(256, hi)})), st.integers(lo, hi))

    real = [t for t in SOFTMAX_REAL if t[4] <= max_levels]
    small = st.tuples(
        st.integers(1, 4), st.integers(0, 500), st.integers(0, 100000), st.integers(1, 300), levels(2, 256)
    )
    zoo = st.tuples(
        st.integers(1, 3),
        st.integers(0, 12000),
        log_int(0, 70_000_000),
        log_int(1, 6000),
        levels(1 << 12, 65536),
    )
    wide = st.integers(0, 26).flatmap(
        lambda k: st.tuples(
            log_int(1, 1 << k),
            log_int(1 << 16, 1 << 23),
            log_int(0, I32_MAX),
            log_int(1, I32_MAX),
            levels(2, 1 << (26 - k)),
        )
    )
    families = [small, zoo, zoo, wide, wide] + ([st.sampled_from(real)] if real else [])
    names = ("coeff_a", "coeff_b", "coeff_c", "log2", "levels")
    return st.one_of(families).map(lambda t: dict(zip(names, t, strict=True)))


def valid_softmax(p: dict[str, int], n: int) -> bool:
    try:
        attr = qtfm.SoftmaxAttr.get(**p)
        attr.verify()
    except VerifyException:
        return False
    return attr.max_exp() * max(n, p["levels"]) < 1 << 62


def mask_for(rng: np.random.Generator, x_shape: tuple[int, ...], elem: str) -> np.ndarray:
    """A mask broadcastable to x_shape: each dimension kept or 1, leading ones sometimes
    dropped; mostly 0/1, other non-zero values too, sometimes whole rows masked."""
    rank = int(rng.integers(0, len(x_shape) + 1))
    shape = tuple(d if rng.random() < 0.6 else 1 for d in x_shape[len(x_shape) - rank :])
    lo, hi = trange(elem)
    keep = rng.random(shape) < rng.choice([0.0, 0.3, 0.8, 1.0])
    values = rng.choice([v for v in (1, 2, -1, lo, hi) if v != 0], size=shape)
    return np.where(keep, values, 0)


@settings(PROP, max_examples=200)
@given(
    x_elem=st.sampled_from(T16),
    y_elem=st.sampled_from(T32),
    shape=shapes(),
    data=st.data(),
    seed=st.integers(0, 2**32 - 1),
    masked=st.booleans(),
    m_elem=st.sampled_from(T32),
)
def test_softmax(lib, x_elem, y_elem, shape, data, seed, masked, m_elem):
    p = data.draw(softmax_params(min(65536, trange(y_elem)[1] + 1)))
    n = shape[-1] if shape else 1
    assume(n > 0)  # the reference has no maximum of an empty row
    assume(valid_softmax(p, n))
    event(f"path {softmax_path(p, n, x_elem)}")
    rng = np.random.default_rng(seed)
    x = ints(rng, shape, *trange(x_elem))
    mask = mask_for(rng, shape, m_elem) if masked else None
    want = K.softmax_ibert(x, p["coeff_a"], p["coeff_b"], p["coeff_c"], p["log2"], p["levels"], mask=mask)
    got = call_kernel(
        lib, "qtfm.softmax", p, [(x, x_elem)], shape, y_elem, None if mask is None else (mask, m_elem)
    )
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    ("p", "x_elem", "rows", "path"),
    [
        # path 0, rows longer than the 256-entry buffer: the tail is recomputed
        ((1, 345, 62395, 255, 256), "i8", [np.arange(300) % 256 - 128, np.zeros(300)], 0),
        # path 1: 16-bit probabilities; row sums above 2^31 (all equal) and above 2^32
        ((1, 11315, 67113824, 5796, 65536), "i16", [np.zeros(16), np.arange(16), np.zeros(30)], 1),
        ((1, 46000, 0, 1000, 256), "i8", [np.full(8, 7), np.arange(8)], 1),
        # path 1 with a row sum above (levels - 1) * 2^32: the reciprocal is 0
        ((1, 60000, 0, 1, 65536), "i16", [np.zeros(78187), np.arange(78187) % 2], 1),
        # path 1 with a row sum at most levels - 1 (one element at the maximum, tiny e)
        ((1, 0, 1, 60000, 65536), "i16", [np.array([0, -20000, -30000]), np.array([5, 5])], 1),
        # path 2: exponentials beyond 32 bits, z >= 32 and z >= 64 shifts
        ((1 << 10, 1 << 14, 5, 3, 65536), "i16", [np.array([0, -1, -100, -200, -32768, 32767])], 2),
        ((1, 1 << 20, 0, 1, 256), "ui16", [np.array([0, 31, 32, 63, 64, 65535])], 2),
    ],
)
def test_softmax_paths(lib, p, x_elem, rows, path):
    params = dict(zip(("coeff_a", "coeff_b", "coeff_c", "log2", "levels"), p, strict=True))
    for row in rows:
        x = np.asarray(row, np.int64)[None, :].repeat(2 if row.size > 1000 else 3, axis=0)
        assert valid_softmax(params, x.shape[-1]) and softmax_path(params, x.shape[-1], x_elem) == path
        for mask in (None, np.array([[1], [0], [1]][: len(x)]) * (np.arange(x.shape[-1]) % 3 != 1)):
            want = K.softmax_ibert(x, *p, mask=mask)
            got = call_kernel(
                lib, "softmax", params, [(x, x_elem)], x.shape, "i32", None if mask is None else (mask, "ui8")
            )
            np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------------------------------------
# qtfm.ita_softmax
# ---------------------------------------------------------------------------------------------


@PROP
@given(
    x_elem=st.sampled_from(["i8", "ui8"]),
    y_elem=st.sampled_from(["ui8", "i16", "ui16", "i32"]),
    shape=shapes(),
    seed=st.integers(0, 2**32 - 1),
)
def test_ita_softmax(lib, x_elem, y_elem, shape, seed):
    assume(not shape or shape[-1] > 0)
    x = ints(np.random.default_rng(seed), shape, *trange(x_elem))
    got = call_kernel(lib, "qtfm.ita_softmax", {}, [(x, x_elem)], shape, y_elem)
    np.testing.assert_array_equal(got, K.ita_softmax(x))


# ---------------------------------------------------------------------------------------------
# qtfm.rmsnorm, qtfm.layernorm, qtfm.layernorm_trunc
# ---------------------------------------------------------------------------------------------

# weight (lo, hi) ranges of real exports: Deeploy's RMSNorm (one value), the zoo's 16-bit and
# 8-bit outputs, ICCT's iLayerNorm; then synthetic ones
WEIGHTS = [
    (3957066, 3957066),
    (453429719, 649167796),
    (1992256, 4224418),
    (200000, 330000),
    (-1000, 1000),
    (-(1 << 24), 1 << 24),
    (I32_MIN, I32_MAX),
    (0, 0),
]
BIASES = [(-113970022, 70620317), (-5607676, 2157799), (-(1 << 20), 1 << 20), (0, 0), (I32_MIN, I32_MAX)]


@st.composite
def norm_case(draw, x_types: list[str], with_bias: bool):
    x_elem = draw(st.sampled_from(x_types))
    y_elem = draw(st.sampled_from(["i8", "i16", "i32"]))
    top = 2 * (trange(y_elem)[1] + 1)
    levels = draw(
        st.one_of(st.sampled_from([2, 3, 256, 257, 65536, 1 << 32]), st.integers(2, top)).filter(
            lambda v: v <= top
        )
    )
    shift = draw(st.one_of(st.sampled_from([0, 1, 14, 16, 24, 31, 32, 47, 48, 62]), st.integers(0, 62)))
    shape = draw(shapes(max_rank=3, min_rank=1))
    n = shape[-1]
    assume(n > 0)  # the reference divides by the row length
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    w = rng.integers(*draw(st.sampled_from(WEIGHTS)), size=n, endpoint=True)
    w[rng.random(n) < 0.05] = draw(st.sampled_from([I32_MIN, I32_MAX, 0, -1]))
    b = rng.integers(*draw(st.sampled_from(BIASES)), size=n, endpoint=True) if with_bias else None
    x = ints(rng, shape, *trange(x_elem))
    return x, x_elem, w, b, y_elem, shift, levels


@PROP
@given(case=norm_case(T16, with_bias=False))
def test_rmsnorm(lib, case):
    x, x_elem, w, _, y_elem, shift, levels = case
    params = {"shift": shift, "levels": levels}
    got = call_kernel(lib, "qtfm.rmsnorm", params, [(x, x_elem), (w, "i32")], x.shape, y_elem)
    np.testing.assert_array_equal(got, K.rmsnorm(x, w, shift, levels))


@PROP
@given(case=norm_case(T16, with_bias=True))
def test_layernorm(lib, case):
    x, x_elem, w, b, y_elem, shift, levels = case
    params = {"shift": shift, "levels": levels}
    got = call_kernel(lib, "qtfm.layernorm", params, [(x, x_elem), (w, "i32"), (b, "i32")], x.shape, y_elem)
    np.testing.assert_array_equal(got, K.layernorm(x, w, b, shift, levels))


@PROP
@given(case=norm_case(["i8", "ui8"], with_bias=True))
def test_layernorm_trunc(lib, case):
    x, x_elem, w, b, y_elem, shift, levels = case
    params = {"shift": shift, "levels": levels}
    got = call_kernel(
        lib, "qtfm.layernorm_trunc", params, [(x, x_elem), (w, "i32"), (b, "i32")], x.shape, y_elem
    )
    np.testing.assert_array_equal(got, K.layernorm_trunc(x, w, b, shift, levels))


@pytest.mark.parametrize("x_elem", T16)
def test_norms_on_long_and_extreme_rows(lib, x_elem):
    """Rows long enough for 64-bit sums (n > 32768 for the mean, > 65536 for the squares) and
    rows of type extremes, where |x - mean| reaches the type's full range."""
    lo, hi = trange(x_elem)
    rng = np.random.default_rng(7)
    for n in (2, 33000, 66000):
        x = rng.choice([lo, hi], size=(2, n))
        x[1, : n // 3] = hi
        w = rng.integers(-(1 << 20), 1 << 20, size=n)
        b = rng.integers(-(1 << 20), 1 << 20, size=n)
        for shift, levels in ((0, 1 << 32), (8, 256), (16, 65536)):
            got = call_kernel(
                lib, "rmsnorm", {"shift": shift, "levels": levels}, [(x, x_elem), (w, "i32")], x.shape, "i32"
            )
            np.testing.assert_array_equal(got, K.rmsnorm(x, w, shift, levels))
            ins = [(x, x_elem), (w, "i32"), (b, "i32")]
            got = call_kernel(lib, "layernorm", {"shift": shift, "levels": levels}, ins, x.shape, "i32")
            np.testing.assert_array_equal(got, K.layernorm(x, w, b, shift, levels))
            if x_elem in ("i8", "ui8"):
                got = call_kernel(
                    lib, "layernorm_trunc", {"shift": shift, "levels": levels}, ins, x.shape, "i32"
                )
                np.testing.assert_array_equal(got, K.layernorm_trunc(x, w, b, shift, levels))


# ---------------------------------------------------------------------------------------------
# Elementwise: gelu, hardswish, div, int_div (results compared where the reference is defined)
# ---------------------------------------------------------------------------------------------


def fits_i32(v: np.ndarray) -> np.ndarray:
    return (v >= I32_MIN) & (v <= I32_MAX)


@PROP
@given(
    x_elem=st.sampled_from(T16),
    shape=shapes(),
    b=st.one_of(st.sampled_from([-40, -49, -26, -128, -1, -(1 << 15)]), st.integers(-(1 << 15), -1)),
    one=st.one_of(st.sampled_from([1743, 2674, 722, 32767, 1, I32_MAX]), log_int(1, I32_MAX)),
    seed=st.integers(0, 2**32 - 1),
)
def test_gelu(lib, x_elem, shape, b, one, seed):
    x = ints(np.random.default_rng(seed), shape, *trange(x_elem))
    want = K.gelu(x, b, one)
    ok = fits_i32(want)
    assume(ok.any() or x.size == 0)
    got = call_kernel(lib, "qtfm.gelu", {"b": b, "one": one}, [(x, x_elem)], shape, "i32")
    np.testing.assert_array_equal(got[ok], want[ok])


@PROP
@given(
    x_elem=st.sampled_from(T16),
    shape=shapes(),
    hs=st.one_of(
        st.sampled_from([(33, 1530, 765), (42, 360, 180), (42, 464, 232), (42, 245, 122)]),
        st.tuples(st.integers(1, 0xFFFF), st.integers(1, 0xFFFF), st.integers(0, 0xFFFF)),
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_hardswish(lib, x_elem, shape, hs, seed):
    params = dict(zip(("one_over_six", "six", "three"), hs, strict=True))
    x = ints(np.random.default_rng(seed), shape, *trange(x_elem))
    want = K.hardswish(x, **params)
    ok = fits_i32(want)
    got = call_kernel(lib, "qtfm.hardswish", params, [(x, x_elem)], shape, "i32")
    np.testing.assert_array_equal(got[ok], want[ok])


@PROP
@given(
    x_elem=st.sampled_from(T32),
    shape=shapes(),
    p=st.one_of(
        st.just((16384, 1, 200000, 2)),  # every Deeploy TrueIntegerDiv
        st.tuples(
            st.integers(0, 30).map(lambda k: 1 << k),
            log_int(-(1 << 20), I32_MAX),
            log_int(1, I32_MAX),
            st.integers(-8, 1000),
        ),
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_div(lib, x_elem, shape, p, seed):
    params = dict(zip(("delta", "eps", "eta", "y"), p, strict=True))
    try:
        qtfm.DivAttr.get(**params).verify()
    except VerifyException:
        assume(False)
    x = ints(np.random.default_rng(seed), shape, *trange(x_elem))
    want = K.true_integer_div(x, **params)
    ok = fits_i32(want)
    got = call_kernel(lib, "qtfm.div", params, [(x, x_elem)], shape, "i32")
    np.testing.assert_array_equal(got[ok], want[ok])


@st.composite
def broadcast_pair(draw):
    out = draw(shapes(max_rank=4))

    def operand() -> tuple[int, ...]:
        rank = draw(st.integers(0, len(out)))
        return tuple(d if draw(st.booleans()) else 1 for d in out[len(out) - rank :])

    a, b = operand(), operand()
    assume(np.broadcast_shapes(a, b) == out)
    return a, b, out


@PROP
@given(
    shapes_=broadcast_pair(),
    a_elem=st.sampled_from(T32),
    b_elem=st.sampled_from(T32),
    p=st.one_of(
        st.sampled_from([(65536, 1, 7), (1, 1, 1), (1, -5, 2)]),
        st.tuples(log_int(1, I32_MAX), log_int(I32_MIN, I32_MAX) | log_int(0, I32_MAX), log_int(1, I32_MAX)),
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_int_div(lib, shapes_, a_elem, b_elem, p, seed):
    a_shape, b_shape, out = shapes_
    delta, eps, eta = p
    assume(delta * eta <= I32_MAX)
    rng = np.random.default_rng(seed)
    a = ints(rng, a_shape, *trange(a_elem))
    b = ints(rng, b_shape, *trange(b_elem))
    if rng.random() < 0.5:  # moderate values, as Deeploy's RQIntegerDiv sees them
        a, b = np.clip(a, -4000, 4000), np.clip(b, 0, 5000)
    aa, bb = np.broadcast_arrays(a, b)
    ok = eta * bb + eps > 0
    want = np.zeros(out, np.int64)
    want[ok] = K.integer_div(aa[ok], bb[ok], delta, eps, eta)
    ok &= fits_i32(want)
    params = {"delta": delta, "eps": eps, "eta": eta}
    got = call_kernel(lib, "qtfm.int_div", params, [(a, a_elem), (b, b_elem)], out, "i32")
    np.testing.assert_array_equal(got[ok], want[ok])


# ---------------------------------------------------------------------------------------------
# qtfm.mean
# ---------------------------------------------------------------------------------------------


@PROP
@given(
    x_elem=st.sampled_from(T32),
    shape=shapes(max_rank=4, min_rank=1),
    data=st.data(),
    m_elem=st.sampled_from([None, *T32]),
    seed=st.integers(0, 2**32 - 1),
)
def test_mean(lib, x_elem, shape, data, m_elem, seed):
    axis = data.draw(st.integers(0, len(shape) - 1))
    rng = np.random.default_rng(seed)
    x = ints(rng, shape, *trange(x_elem))
    mask = (
        None
        if m_elem is None
        else np.where(rng.random(shape[: axis + 1]) < rng.random(), 0, trange(m_elem)[1])
    )
    want = K.masked_mean(x, axis, mask)
    got = call_kernel(
        lib,
        "qtfm.mean",
        {"axis": axis},
        [(x, x_elem)],
        want.shape,
        x_elem,
        None if mask is None else (mask, m_elem),
    )
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("x_elem", ["ui16", "i16", "i32"])
def test_mean_wide_sums(lib, x_elem):
    """len > 16383 forces the 64-bit sum for 16-bit inputs; int32 extremes for i32."""
    lo, hi = trange(x_elem)
    x = np.random.default_rng(3).choice([lo, hi, hi - 1, lo + 1], size=(2, 16400, 2))
    x[0, :, 0] = hi
    mask = np.ones((2, 16400), np.int64)
    mask[1, ::3] = 0
    for m in (None, mask):
        got = call_kernel(
            lib, "mean", {"axis": 1}, [(x, x_elem)], (2, 2), x_elem, None if m is None else (m, "i8")
        )
        np.testing.assert_array_equal(got, K.masked_mean(x, 1, m))


# ---------------------------------------------------------------------------------------------
# Every kernel op of real networks, on the interpreter's intermediate values
# ---------------------------------------------------------------------------------------------

KERNEL_OPS = (
    qtfm.SoftmaxOp,
    qtfm.ItaSoftmaxOp,
    qtfm.RMSNormOp,
    qtfm.LayerNormOp,
    qtfm.LayerNormTruncOp,
    qtfm.GeluOp,
    qtfm.HardswishOp,
    qtfm.DivOp,
    qtfm.IntDivOp,
    qtfm.MeanOp,
)


def elem_name(value) -> str:
    typ = value.type.element_type
    assert isinstance(typ, IntegerType)
    return str(typ)


class KernelChecker(Interpreter):
    """The reference interpreter, also running each kernel op's C kernel on the same operands."""

    def __init__(self, module, weights, lib: ctypes.CDLL):
        super().__init__(module, weights)
        self.lib = lib
        self.checked: Counter[str] = Counter()

    def _eval(self, op, args):
        value = super()._eval(op, args)
        if isinstance(op, KERNEL_OPS):
            mask_value = getattr(op, "mask", None)
            operands = [(v, a) for v, a in zip(op.operands, args, strict=True) if v is not mask_value]
            mask = None if mask_value is None else (args[-1], elem_name(mask_value))
            if isinstance(op, qtfm.MeanOp):
                params = {"axis": op.axis.value.data}
            else:
                params = op.params.as_dict() if hasattr(op, "params") else {}
            ins = [(a, elem_name(v)) for v, a in operands]
            got = call_kernel(self.lib, op.name, params, ins, value.shape, elem_name(op.results[0]), mask)
            np.testing.assert_array_equal(got, value, err_msg=op.name)
            self.checked[op.name] += 1
        return value


def test_deeploy_networks(lib):
    from compiler.frontend.deeploy import import_integer_network
    from compiler.frontend.onnx_model import load_onnx
    from tests.deeploy_networks import NETWORKS, golden

    checked: Counter[str] = Counter()
    for path in NETWORKS:
        model = load_onnx(path / "network.onnx")
        inputs, _ = golden(path)
        module, weights = import_integer_network(model, inputs, "w.npz")
        checker = KernelChecker(module, weights, lib)
        checker.run(inputs[: len(model.graph_inputs())])
        checked += checker.checked
    assert {"qtfm.softmax", "qtfm.rmsnorm", "qtfm.hardswish", "qtfm.div"} <= set(checked), checked


@pytest.mark.parametrize(("name", "precision"), [("bert-tiny", "int8"), ("llama-tiny", "mixed")])
def test_zoo_models(lib, tmp_path, name, precision):
    """bert-tiny: layernorms, softmax with an i32 padding mask; llama-tiny: rmsnorms and a
    causal i8 mask [1, 1, L, L] on [1, H, L, L], called once per head."""
    from compiler.frontend import import_model
    from compiler.frontend.zoo import save_inputs, save_model

    seq = 8
    model = save_model(name, tmp_path / f"{name}.onnx", seq)
    calib = save_inputs(name, tmp_path / "calib.npz", seq, seed=2)
    module, weights = import_model(model, calib, seq, precision)
    inputs = np.load(save_inputs(name, tmp_path / "in.npz", seq, seed=1, n_samples=2))
    checker = KernelChecker(module, weights, lib)
    for s in range(2):
        checker.run([inputs[k][s] for k in inputs.files])
    expected = {"qtfm.softmax", "qtfm.layernorm"} if name == "bert-tiny" else {"qtfm.softmax", "qtfm.rmsnorm"}
    assert expected <= set(checker.checked), checker.checked


def test_kernel_call_is_frozen():
    call = KernelCall("mote_div_i8_i32", [(1, 32), (4, 32), (8191, 32)])
    with pytest.raises(AttributeError):
        call.function = "x"  # type: ignore[misc]
    assert call.calls == 1
