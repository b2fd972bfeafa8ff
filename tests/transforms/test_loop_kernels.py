"""Property tests of the generated kernels: random shapes, types and parameters (including
edge values, single rows and sizes that fill no register block), each one compiled through
qtfm-to-tile, tile-to-loops, plan-memory and the C emitter, built and run on the host, and
compared bit for bit with the reference interpreter."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.transforms.c_oracle import assert_same

SETTINGS = settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
RANGES = {
    "i8": (-128, 127),
    "ui8": (0, 255),
    "i16": (-32768, 32767),
    "ui16": (0, 65535),
    "i32": (-(2**31), 2**31 - 1),
}


def _t(shape: tuple[int, ...], elem: str) -> str:
    return "tensor<" + "".join(f"{d}x" for d in shape) + elem + ">"


def _array(draw: st.DrawFn, shape: tuple[int, ...], elem: str, lo: int | None = None, hi: int | None = None):
    a, b = RANGES[elem]
    lo, hi = a if lo is None else max(a, lo), b if hi is None else min(b, hi)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    values = rng.integers(lo, hi, size=shape, endpoint=True, dtype=np.int64)
    if values.size and draw(st.booleans()):  # edge values
        values.flat[0], values.flat[-1] = lo, hi
    return values


@st.composite
def requant(draw: st.DrawFn, channels: int | None, axis: int | None, signed: bool, magnitude: int) -> str:
    """Parameters that map accumulators of up to `magnitude` onto the 8-bit range (give or
    take a factor of two, so that some values saturate and most do not)."""
    wide = draw(st.booleans())  # multipliers that force the 64-bit path
    mul_range = (2**20, 2**30) if wide else (1, 2**12)
    count = channels if channels is not None and draw(st.booleans()) else 1
    muls = [draw(st.integers(*mul_range)) for _ in range(count)]
    scaled = max(1, magnitude * max(muls))
    shift = max(0, scaled.bit_length() - 7 + draw(st.integers(-1, 1)))
    bound = min(2**shift // 2, 2**31 - 1)
    adds = [draw(st.integers(-bound, bound)) for _ in range(count)]
    rounding = ", rounding = floor" if draw(st.booleans()) else ""
    axis_text = f", axis = {axis}" if count > 1 else ""
    lists = (str(muls[0]), str(adds[0])) if count == 1 else (str(muls), str(adds))
    sign = "signed" if signed else "unsigned"
    return (
        f"#qtfm.requant<mul = {lists[0]}, add = {lists[1]}, shift = {shift}, levels = 256, {sign}"
        f"{axis_text}{rounding}>"
    )


@st.composite
def linear_case(draw: st.DrawFn):
    m, k, n = draw(st.integers(1, 9)), draw(st.integers(1, 24)), draw(st.integers(1, 11))
    lead = draw(st.sampled_from([(m,), (1, m), (2, m)]))
    xe = draw(st.sampled_from(["i8", "ui8", "i16"]))
    signed = draw(st.booleans())
    ye = "i8" if signed else "ui8"
    bias = draw(st.booleans())
    x, w = _array(draw, (*lead, k), xe), _array(draw, (k, n), "i8")
    b = _array(draw, (n,), "i32", -(2**20), 2**20)
    acc = x @ w + (b if bias else 0)
    q = draw(requant(n, len(lead), signed, int(np.abs(acc).max())))
    args = f"%x: {_t(x.shape, xe)}, %w: {_t(w.shape, 'i8')}" + (f", %b: {_t((n,), 'i32')}" if bias else "")
    operands = "%x, %w" + (", %b" if bias else "")
    types = f"{_t(x.shape, xe)}, {_t(w.shape, 'i8')}" + (f", {_t((n,), 'i32')}" if bias else "")
    out = _t((*lead, n), ye)
    src = f"""func.func @main({args}) -> {out} {{
      %y = qtfm.linear {operands} requant {q} : ({types}) -> {out}
      func.return %y : {out}
    }}"""
    return src, [x, w, *([b] if bias else [])]


@given(case=linear_case())
@SETTINGS
def test_linear(case) -> None:
    assert_same(*case)


@st.composite
def matmul_case(draw: st.DrawFn):
    m, k, n = draw(st.integers(1, 7)), draw(st.integers(1, 12)), draw(st.integers(1, 9))
    ba, bb = draw(st.sampled_from([((2, 1), (1, 3)), ((3,), (3,)), ((), (2,)), ((1, 2), (2,))]))
    ae = draw(st.sampled_from(["i8", "ui8"]))
    a, b = _array(draw, (*ba, m, k), ae), _array(draw, (*bb, k, n), "i8")
    batch = np.broadcast_shapes(ba, bb)
    fused = draw(st.booleans())
    out_shape = (*batch, m, n)
    if fused:
        q = draw(requant(None, None, True, int(np.abs(a @ b).max())))
        out, tail = _t(out_shape, "i8"), f" requant {q}"
    else:
        out, tail = _t(out_shape, "i32"), ""
    src = f"""func.func @main(%a: {_t(a.shape, ae)}, %b: {_t(b.shape, "i8")}) -> {out} {{
      %y = qtfm.matmul %a, %b{tail} : ({_t(a.shape, ae)}, {_t(b.shape, "i8")}) -> {out}
      func.return %y : {out}
    }}"""
    return src, [a, b]


@given(case=matmul_case())
@SETTINGS
def test_matmul(case) -> None:
    assert_same(*case)


@st.composite
def elementwise_case(draw: st.DrawFn):
    shape = draw(st.sampled_from([(3, 5), (2, 3, 4), (7,), (1, 6)]))
    other = draw(st.sampled_from([shape, shape[-1:], (1,) * len(shape)]))
    op = draw(st.sampled_from(["add", "mul"]))
    e1, e2 = draw(st.sampled_from(["i8", "ui8", "i16"])), draw(st.sampled_from(["i8", "i16"]))
    axis = len(shape) - 1
    a, b = _array(draw, shape, e1), _array(draw, other, e2)
    q = draw(requant(shape[axis], axis, True, int(np.abs(a + b if op == "add" else a * b).max())))
    out = _t(shape, "i8")
    src = f"""func.func @main(%a: {_t(shape, e1)}, %b: {_t(other, e2)}) -> {out} {{
      %y = qtfm.{op} %a, %b requant {q} : ({_t(shape, e1)}, {_t(other, e2)}) -> {out}
      func.return %y : {out}
    }}"""
    return src, [a, b]


@given(case=elementwise_case())
@SETTINGS
def test_add_mul(case) -> None:
    assert_same(*case)


@st.composite
def softmax_case(draw: st.DrawFn):
    shape = draw(st.sampled_from([(1, 8), (3, 5), (2, 2, 17), (1, 1)]))
    xe = draw(st.sampled_from(["i8", "ui8", "i16"]))
    b_coef, c_coef = draw(st.integers(60, 400)), draw(st.integers(1000, 80000))
    log2 = draw(st.integers(32, 256))
    x = _array(draw, shape, xe)
    if draw(st.booleans()):
        x[...] = x.flat[0]  # all-equal rows
    params = (
        f"#qtfm.softmax<coeff_a = 1, coeff_b = {b_coef}, coeff_c = {c_coef}, log2 = {log2}, levels = 256>"
    )
    out = _t(shape, "ui8")
    src = f"""func.func @main(%x: {_t(shape, xe)}) -> {out} {{
      %y = qtfm.softmax %x, {params} : {_t(shape, xe)} -> {out}
      func.return %y : {out}
    }}"""
    return src, [x]


@given(case=softmax_case())
@SETTINGS
def test_softmax_table_and_runtime_paths(case) -> None:
    assert_same(*case)


@st.composite
def movement_case(draw: st.DrawFn):
    shape = draw(st.sampled_from([(2, 3, 4), (5, 1, 3), (1, 7, 2)]))
    elem = draw(st.sampled_from(["i8", "ui8", "i16", "i32"]))
    perm = draw(st.permutations(range(3)))
    x = _array(draw, shape, elem)
    tshape = tuple(shape[p] for p in perm)
    starts = [draw(st.integers(0, d - 1)) for d in shape]
    strides = [draw(st.integers(1, 2)) for _ in shape]
    sshape = tuple(len(range(s, d, st_)) for s, d, st_ in zip(starts, shape, strides, strict=True))
    axis = draw(st.integers(0, 2))
    cshape = tuple(2 * d if i == axis else d for i, d in enumerate(shape))
    t, ts, ss, cs = _t(shape, elem), _t(tshape, elem), _t(sshape, elem), _t(cshape, elem)
    perm_text = ", ".join(map(str, perm))
    starts_text, strides_text = ", ".join(map(str, starts)), ", ".join(map(str, strides))
    src = f"""func.func @main(%x: {t}) -> ({ts}, {ss}, {cs}) {{
      %t = qtfm.transpose %x perm = array<i64: {perm_text}> : {t} -> {ts}
      %s = qtfm.slice %x starts = array<i64: {starts_text}> strides = array<i64: {strides_text}> : {t} -> {ss}
      %c = qtfm.concat %x, %x {{axis = {axis} : i64}} : ({t}, {t}) -> {cs}
      func.return %t, %s, %c : {ts}, {ss}, {cs}
    }}"""
    return src, [x]


@given(case=movement_case())
@SETTINGS
def test_transpose_slice_concat(case) -> None:
    assert_same(*case)


def test_returned_slice_of_an_input_is_written_to_its_output() -> None:
    """Regression (found by test_transpose_slice_concat): a contiguous slice is a view, but a
    slice that is itself a model output must still be written into its output buffer."""
    src = """func.func @main(%x: tensor<1x7x2xi8>) -> (tensor<1x6x2xi8>, tensor<2x7x2xi8>) {
      %s = qtfm.slice %x starts = array<i64: 0, 1, 0> strides = array<i64: 1, 1, 1>
        : tensor<1x7x2xi8> -> tensor<1x6x2xi8>
      %c = qtfm.concat %x, %x {axis = 0 : i64} : (tensor<1x7x2xi8>, tensor<1x7x2xi8>) -> tensor<2x7x2xi8>
      func.return %s, %c : tensor<1x6x2xi8>, tensor<2x7x2xi8>
    }"""
    assert_same(src, [np.arange(14).reshape(1, 7, 2)])


@st.composite
def permuted_product_case(draw: st.DrawFn):
    """A linear layer split into heads and transposed once or twice (a key or value layout):
    the product stores straight into the transposed layout."""
    m, k = draw(st.integers(1, 9)), draw(st.integers(1, 12))
    heads, d = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    n = heads * d
    x, w = _array(draw, (m, k), "i8"), _array(draw, (k, n), "i8")
    q = draw(requant(None, None, True, int(np.abs(x @ w).max())))
    perms = draw(st.lists(st.permutations([0, 1, 2]), min_size=1, max_size=2))
    lines, shape, src = [], (m, heads, d), "%h"
    for i, perm in enumerate(perms):
        out = tuple(shape[p] for p in perm)
        lines.append(
            f"%t{i} = qtfm.transpose {src} perm = array<i64: {', '.join(map(str, perm))}> : "
            f"{_t(shape, 'i8')} -> {_t(out, 'i8')}"
        )
        shape, src = out, f"%t{i}"
    # the result is read again (so the last transpose writes an arena buffer) or returned
    read_again = draw(st.booleans())
    if read_again:
        lines.append(f"%r = qtfm.requant {src}, {q} : {_t(shape, 'i8')} -> {_t(shape, 'i8')}")
        src = "%r"
    body = "\n      ".join(lines)
    text = f"""func.func @main(%x: {_t((m, k), "i8")}, %w: {_t((k, n), "i8")}) -> {_t(shape, "i8")} {{
      %y = qtfm.linear %x, %w requant {q} : ({_t((m, k), "i8")}, {_t((k, n), "i8")}) -> {_t((m, n), "i8")}
      %h = qtfm.reshape %y : {_t((m, n), "i8")} -> {_t((m, heads, d), "i8")}
      {body}
      func.return {src} : {_t(shape, "i8")}
    }}"""
    return text, [x, w]


@given(case=permuted_product_case())
@SETTINGS
def test_product_stored_in_transposed_layout(case) -> None:
    assert_same(*case)


SIMD_PIPELINE = "qtfm-to-tile,tile-to-loops{simd=xpulp},plan-memory"


@st.composite
def simd_linear_case(draw: st.DrawFn):
    """A linear layer of 8- or 16-bit activations by a constant int8 weight, K a multiple of
    4: the packed-SIMD kernels (byte dot products in 4x4 blocks, 4x2/4x1 edge columns, 1xN
    leftover rows; halfword dot products on the interleaved weight for 16-bit activations),
    whose xpulp.h intrinsics and hardware loops run as their portable C on the host."""
    m, k, n = draw(st.integers(1, 11)), 4 * draw(st.integers(1, 8)), draw(st.integers(1, 11))
    lead = draw(st.sampled_from([(m,), (1, m)]))
    xe = draw(st.sampled_from(["i8", "ui8", "i16", "ui16"]))  # 16-bit: halfword dot products
    bias = draw(st.booleans())
    x, w = _array(draw, (*lead, k), xe), _array(draw, (k, n), "i8")
    b = _array(draw, (n,), "i32", -(2**20), 2**20)
    acc = x @ w + (b if bias else 0)
    q = draw(requant(n, len(lead), True, int(np.abs(acc).max())))
    args = f"%x: {_t(x.shape, xe)}" + (f", %b: {_t((n,), 'i32')}" if bias else "")
    operands = "%x, %w" + (", %b" if bias else "")
    types = f"{_t(x.shape, xe)}, {_t(w.shape, 'i8')}" + (f", {_t((n,), 'i32')}" if bias else "")
    out = _t((*lead, n), "i8")
    src = f"""func.func @main({args}) -> {out} {{
      %w = qtfm.weight "w" : {_t(w.shape, "i8")}
      %y = qtfm.linear {operands} requant {q} : ({types}) -> {out}
      func.return %y : {out}
    }}"""
    return src, [x, *([b] if bias else [])], {"w": w.astype(np.int8)}


@given(case=simd_linear_case())
@SETTINGS
def test_simd_linear(case) -> None:
    src, inputs, weights = case
    assert_same(src, inputs, weights, SIMD_PIPELINE)


@st.composite
def simd_matmul_case(draw: st.DrawFn):
    """Q.K^T as attention writes it (K^T a transpose of the last two axes of an [.., N, K]
    tensor): the SIMD matmul reads K untransposed, the transpose disappears."""
    m, k, n = draw(st.integers(1, 9)), 4 * draw(st.integers(1, 5)), draw(st.integers(1, 9))
    ba, bb = draw(st.sampled_from([((2,), (2,)), ((1, 2), (1, 2)), ((), ()), ((2,), (1,))]))
    ae = draw(st.sampled_from(["i8", "ui8"]))
    a, bt = _array(draw, (*ba, m, k), ae), _array(draw, (*bb, n, k), "i8")
    batch = np.broadcast_shapes(ba, bb)
    rank = len(bb) + 2
    perm = [*range(rank - 2), rank - 1, rank - 2]
    q = draw(requant(None, None, True, int(np.abs(a @ np.swapaxes(bt, -1, -2)).max())))
    out, bt_type, b_type = _t((*batch, m, n), "i8"), _t(bt.shape, "i8"), _t((*bb, k, n), "i8")
    src = f"""func.func @main(%a: {_t(a.shape, ae)}, %bt: {bt_type}) -> {out} {{
      %b = qtfm.transpose %bt perm = array<i64: {", ".join(map(str, perm))}> : {bt_type} -> {b_type}
      %y = qtfm.matmul %a, %b requant {q} : ({_t(a.shape, ae)}, {_t((*bb, k, n), "i8")}) -> {out}
      func.return %y : {out}
    }}"""
    return src, [a, bt]


@given(case=simd_matmul_case())
@SETTINGS
def test_simd_matmul_reads_the_keys_untransposed(case) -> None:
    assert_same(*case, None, SIMD_PIPELINE)


@st.composite
def simd_pv_case(draw: st.DrawFn):
    """Attention's P.V: 16-bit probabilities (unsigned, or signed) times int8 values, the
    reduction a multiple of 4: halfword dot products on V stored transposed and interleaved
    (loop_nests/simd_halfword.py). V is either an input (its layout made by copies) or a linear
    layer's output split into heads (the layout folded into the linear's store)."""
    heads, m, keys = draw(st.integers(1, 2)), draw(st.integers(1, 9)), 4 * draw(st.integers(1, 5))
    d = draw(st.integers(1, 6))
    pe = draw(st.sampled_from(["ui16", "i16"]))
    p = _array(draw, (heads, m, keys), pe)
    out = _t((heads, m, d), "i8")
    v_type = _t((heads, keys, d), "i8")
    if draw(st.booleans()):
        v = _array(draw, (heads, keys, d), "i8")
        q = draw(requant(None, None, True, int(np.abs(p @ v).max())))
        src = f"""func.func @main(%p: {_t(p.shape, pe)}, %v: {v_type}) -> {out} {{
          %y = qtfm.matmul %p, %v requant {q} : ({_t(p.shape, pe)}, {v_type}) -> {out}
          func.return %y : {out}
        }}"""
        return src, [p, v]
    k = draw(st.integers(1, 8))
    x, w = _array(draw, (keys, k), "i8"), _array(draw, (k, heads * d), "i8")
    qv = draw(requant(None, None, True, int(np.abs(x @ w).max())))
    v = (x @ w).reshape(keys, heads, d).transpose(1, 0, 2)  # magnitude only: requant shrinks it
    q = draw(requant(None, None, True, int(np.abs(p @ np.clip(v, -128, 127)).max())))
    lin, split = _t((keys, heads * d), "i8"), _t((keys, heads, d), "i8")
    args = f"%p: {_t(p.shape, pe)}, %x: {_t(x.shape, 'i8')}, %w: {_t(w.shape, 'i8')}"
    src = f"""func.func @main({args}) -> {out} {{
      %l = qtfm.linear %x, %w requant {qv} : ({_t(x.shape, "i8")}, {_t(w.shape, "i8")}) -> {lin}
      %h = qtfm.reshape %l : {lin} -> {split}
      %v = qtfm.transpose %h perm = array<i64: 1, 0, 2> : {split} -> {v_type}
      %y = qtfm.matmul %p, %v requant {q} : ({_t(p.shape, pe)}, {v_type}) -> {out}
      func.return %y : {out}
    }}"""
    return src, [p, x, w]


@given(case=simd_pv_case())
@SETTINGS
def test_simd_pv_on_halfword_dot_products(case) -> None:
    assert_same(*case, None, SIMD_PIPELINE)


@st.composite
def simd_scores_case(draw: st.DrawFn):
    """Mixed precision's Q.K^T: int8 queries by int16 keys transposed, d a multiple of 4:
    computed as K.Q^T on halfword dot products (loop_nests/simd_halfword.py, `swap_scores`),
    the keys read untransposed, the queries interleaved, the results stored transposed. Q is
    an input or a linear layer's output split into heads."""
    heads, m, keys = draw(st.integers(1, 2)), draw(st.integers(1, 9)), draw(st.integers(1, 9))
    d = 4 * draw(st.integers(1, 4))
    kt = _array(draw, (heads, keys, d), "i16")
    k_type, kt_type = _t((heads, keys, d), "i16"), _t((heads, d, keys), "i16")
    out = _t((heads, m, keys), "i16")
    body = f"""%kt = qtfm.transpose %k perm = array<i64: 0, 2, 1> : {k_type} -> {kt_type}
      %y = qtfm.matmul %q, %kt requant REQ : ({_t((heads, m, d), "i8")}, {kt_type}) -> {out}
      func.return %y : {out}"""
    if draw(st.booleans()):
        q = _array(draw, (heads, m, d), "i8")
        req = draw(requant(None, None, True, int(np.abs(q @ kt.transpose(0, 2, 1)).max())))
        src = f"""func.func @main(%q: {_t(q.shape, "i8")}, %k: {k_type}) -> {out} {{
          {body.replace("REQ", req.replace("levels = 256", "levels = 65536"))}
        }}"""
        return src, [q, kt]
    kx = draw(st.integers(1, 8))
    x, w = _array(draw, (m, kx), "i8"), _array(draw, (kx, heads * d), "i8")
    qv = draw(requant(None, None, True, int(np.abs(x @ w).max())))
    q = np.clip(x @ w, -128, 127).reshape(m, heads, d).transpose(1, 0, 2)  # magnitude only
    req = draw(requant(None, None, True, int(np.abs(q @ kt.transpose(0, 2, 1)).max())))
    lin, split = _t((m, heads * d), "i8"), _t((m, heads, d), "i8")
    args = f"%x: {_t(x.shape, 'i8')}, %w: {_t(w.shape, 'i8')}, %k: {k_type}"
    src = f"""func.func @main({args}) -> {out} {{
      %l = qtfm.linear %x, %w requant {qv} : ({_t(x.shape, "i8")}, {_t(w.shape, "i8")}) -> {lin}
      %h = qtfm.reshape %l : {lin} -> {split}
      %q = qtfm.transpose %h perm = array<i64: 1, 0, 2> : {split} -> {_t((heads, m, d), "i8")}
      {body.replace("REQ", req.replace("levels = 256", "levels = 65536"))}
    }}"""
    return src, [x, w, kt]


@given(case=simd_scores_case())
@SETTINGS
def test_simd_scores_of_int8_queries_and_int16_keys(case) -> None:
    assert_same(*case, None, SIMD_PIPELINE)
