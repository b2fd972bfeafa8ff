"""The Deeploy / QuantLib integer ops that no network in shared/deeploy_tests uses: iGELU,
iLayerNorm, ITAMax, RQIntegerDiv and RequantizedGemm.

Each op is imported from a small ONNX graph built here (default domain, attributes as
QuantLib exports them, integer constants stored as FLOAT tensors), run on the reference
interpreter and compared, element by element, with a scalar Python transcription of the C
kernel that defines it in Deeploy (TargetLibraries/Generic/src/*.c, pulp-nn for
RequantizedGemm): Python ints, C's truncating `/`, explicit int8/int16/uint32 conversions,
and an assertion wherever the C code would overflow a signed int32 (undefined behaviour,
so such inputs are outside the kernel's domain). Hypothesis property tests compare the new
numpy kernels with independent scalar formulas; the error tests check that a missing or
invalid attribute is refused with the node named.
"""

from __future__ import annotations

from fractions import Fraction
from io import StringIO
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from onnx import TensorProto, helper, numpy_helper
from xdsl.parser import Parser
from xdsl.printer import Printer

from compiler.frontend import import_model
from compiler.frontend.deeploy import import_integer_network
from compiler.frontend.onnx_model import FrontendError, load_onnx
from compiler.reference import kernels as K
from compiler.reference.interpreter import Interpreter, ReferenceError
from compiler.tools.ir_files import mote_context
from tests.frontend.float_helpers import mote
from tests.reference._strategies import FEW, PROP, edgy

I8, I32, F32 = TensorProto.INT8, TensorProto.INT32, TensorProto.FLOAT
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
RNG = np.random.default_rng(20240611)

# ---------------------------------------------------------------------------------------------
# C semantics, one scalar at a time
# ---------------------------------------------------------------------------------------------


def c_div(a: int, b: int) -> int:
    """C's `/` on integers: the quotient truncated toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def i32(v: int) -> int:
    """A signed int32 result of C arithmetic; overflow would be undefined behaviour."""
    assert INT32_MIN <= v <= INT32_MAX, f"int32 overflow ({v}): outside the C kernel's domain"
    return v


def to_int8(v: int) -> int:
    """`(int8_t)v`: conversion modulo 2^8 (implementation-defined; GCC and Clang wrap)."""
    return ((v + 128) & 0xFF) - 128


def to_int16(v: int) -> int:
    return ((v + (1 << 15)) & 0xFFFF) - (1 << 15)


def u32(v: int) -> int:
    return v & 0xFFFFFFFF


def plp_sqrt_q32(number: int) -> int:
    """Deeploy's _plp_sqrt_q32 with fracBits = 0, as written (binary search)."""
    root, start, end = 0, 0, 46342
    if number <= 0:
        return 0
    while start <= end:
        mid = (start + end) >> 1
        sq = i32(mid * mid)
        if sq == number:
            return mid
        if sq < number:
            start, root = mid + 1, mid
        else:
            end = mid - 1
    return root


# ---------------------------------------------------------------------------------------------
# Transcriptions of the kernels (row-major flat lists in, flat lists out)
# ---------------------------------------------------------------------------------------------


def c_gelu_s8_s32(data_in: list[int], b: int, one: int) -> list[int]:
    """GELU_s8_s32(data_in, data_out, size, int8_t b, int16_t one, input_offset = 0)."""
    assert b == to_int8(b) and one == to_int16(one), "the kernel's parameter types"
    out = []
    for v in data_in:
        x = v
        sign = (x > 0) - (x < 0)
        x_abs = sign * x
        q = -b if x_abs > -b else x_abs
        d = q + b
        big_l = i32(sign * i32(-(d * d) + one))
        out.append(i32(x * ((one + big_l) >> 1)))
    return out


def c_layernorm_s8_s8(
    data_in: list[int], weight: list[int], bias: list[int], size: int, n: int, log2d: int
) -> tuple[list[int], list[int]]:
    """Layernorm_s8_s8 with input_offset = 0. Returns the values before the final
    `(int8_t)` conversion and the kernel's int8 outputs."""
    raw, out = [], []
    for start in range(0, size, n):
        mean = 0
        for j in range(n):
            mean = i32(mean + data_in[start + j])
        mean = c_div(mean, n)
        total = 0
        for j in range(n):
            temp = to_int16(data_in[start + j] - mean)
            total = i32(total + temp * temp)
        total = c_div(total, n) + 1
        std = plp_sqrt_q32(total)
        for j in range(n):
            v = (c_div((data_in[start + j] - mean) * weight[j], std) + bias[j]) >> log2d  # int64
            raw.append(v)
            out.append(to_int8(v))
    return raw, out


def c_itamax_s8(src: list[int], size: int, n: int, n_levels: int) -> list[int]:
    """ITAMax_s8: the stored int8 outputs (value - n_levels/2)."""
    dst = []
    for i in range(size // n):
        row = src[i * n : (i + 1) * n]
        mx = -128
        for v in row:
            mx = v if v > mx else mx
        shift, exp_sum = [], 0
        for v in row:
            diff = mx - v
            shift.append(((diff + 16) >> 5) & 0xFF)  # (uint8_t)
            exp_sum = u32(exp_sum + (256 >> shift[-1]))
        inv = u32((n_levels - 1) * 256) // exp_sum
        dst.extend(to_int8((inv >> s) - n_levels // 2) for s in shift)
    return dst


def c_rqdiv_s32_s8(
    nom_in: list[int],
    denom_in: list[int],
    size_nom: int,
    nom_step: int,
    denom_step: int,
    delta: int,
    eps: int,
    eta: int,
    mul: int,
    add: int,
    shift: int,
) -> list[int]:
    """RQDiv_s32_s8, loops and index arithmetic as written."""
    inner = denom_step
    second = nom_step // inner
    third = size_nom // second
    out = []
    delta_eta = i32(delta * eta)  # int32 * int32
    for i in range(third):
        for k in range(inner):
            denom = eta * denom_in[i * inner + k] + eps  # int64
            for j in range(second):
                nom = delta_eta * nom_in[i * second * inner + j * inner + k]  # int64
                sgn = (nom >= 0) - (nom < 0)
                y = i32(c_div(nom + sgn * (denom >> 1), denom))  # (int32_t)
                inter = i32(i32(y * mul) + add)
                inter = i32(inter + (1 << (shift - 1))) >> shift
                out.append(max(-128, min(127, inter)))
    return out


def pulp_rq_gemm(
    a: np.ndarray, w_on: np.ndarray, mul: list[int], lam: list[int], d: int, signed: bool
) -> np.ndarray:
    """pulp_nn linear with flag_batch_norm: out[m][o] = clip((k[o]*sum + lambda[o]) >> d),
    sum over the weights in O x N layout (pulp_nn_bn_quant_i8 / _u8)."""
    m_rows, n = a.shape
    o_cols = w_on.shape[0]
    lo, hi = (-128, 127) if signed else (0, 255)
    out = np.zeros((m_rows, o_cols), np.int64)
    for m in range(m_rows):
        for o in range(o_cols):
            acc = 0
            for k in range(n):
                acc = i32(acc + int(a[m, k]) * int(w_on[o, k]))
            x = i32(i32(mul[o] * acc) + lam[o]) >> d
            out[m, o] = max(lo, min(hi, x))
    return out


# ---------------------------------------------------------------------------------------------
# Graph building
# ---------------------------------------------------------------------------------------------


def _tensor_attr(value: float) -> onnx.TensorProto:
    """A scalar attribute as QuantLib's `*_t` attributes export it: a 1-element FLOAT tensor."""
    return numpy_helper.from_array(np.array([value], np.float32))


def build(
    tmp_path: Path,
    nodes: list[onnx.NodeProto],
    inputs: list[tuple[str, int, list[int]]],
    outputs: list[str],
    inits: dict[str, np.ndarray] | None = None,
) -> Path:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
        [helper.make_tensor_value_info(o, F32, None) for o in outputs],
        [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in (inits or {}).items()],
    )
    path = tmp_path / "net.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def run(path: Path, inputs: list[np.ndarray]):  # noqa: ANN201
    """Imports the graph (the inputs double as representative data) and runs it."""
    module, weights = import_integer_network(load_onnx(path), inputs, "w.npz")
    module.verify()
    return Interpreter(module, weights).run(inputs), module


def import_error(path: Path, calib: list[np.ndarray] | None = None) -> str:
    with pytest.raises(FrontendError) as err:
        import_integer_network(load_onnx(path), calib, "w.npz")
    return str(err.value)


def int8_rows(rows: int, n: int) -> np.ndarray:
    """Random int8 rows plus edge rows: constant, both extremes, one spike, negative sums."""
    x = RNG.integers(-128, 128, (rows, n))
    x[0] = -128
    x[1] = 127
    x[2, ::2], x[2, 1::2] = -128, 127
    x[3] = -128
    x[3, n // 2] = 127
    x[4] = RNG.integers(-128, -60, n)  # a negative sum that N does not divide (mostly)
    x[5] = 0
    return x


def ops_in(module) -> list[str]:  # noqa: ANN001
    return [op.name for op in module.walk() if op.name.startswith("qtfm.")]


# ---------------------------------------------------------------------------------------------
# iGELU
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("b", "one"), [(-40, 1743), (-49, 2674), (-26, 722), (-128, 32767), (-1, 1)])
def test_igelu_matches_gelu_s8_s32(tmp_path, b, one):
    x = np.concatenate([np.arange(-128, 128), RNG.integers(-128, 128, 256)]).reshape(4, 128)
    node = helper.make_node("iGELU", ["x"], ["y"], name="gelu0", b=b, one=one)
    path = build(tmp_path, [node], [("x", I8, [4, 128])], ["y"])
    (y,), module = run(path, [x])
    assert ops_in(module) == ["qtfm.gelu"]
    assert y.dtype == np.int32
    assert y.ravel().tolist() == c_gelu_s8_s32(x.ravel().tolist(), b, one)


def test_igelu_then_requantshift(tmp_path):
    """iGELU feeds a RequantShift in every export; the pair runs end to end."""
    x = np.arange(-128, 128).reshape(2, 128)
    nodes = [
        helper.make_node("iGELU", ["x"], ["g"], name="gelu0", b=-40, one=1743),
        helper.make_node(
            "RequantShift", ["g", "m", "a"], ["y"], name="rq0", div=65536, n_levels_out=256, signed=1
        ),
    ]
    path = build(tmp_path, nodes, [("x", I8, [2, 128])], ["y"], {"m": [37], "a": [-900]})
    (y,), _ = run(path, [x])
    g = np.array(c_gelu_s8_s32(x.ravel().tolist(), -40, 1743)).reshape(x.shape)
    assert np.array_equal(y, np.clip((g * 37 - 900 + (1 << 15)) >> 16, -128, 127))


# ---------------------------------------------------------------------------------------------
# iLayerNorm
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "wlo", "whi", "log2d", "declared"),
    [
        (128, 200000, 330000, 14, I8),  # ICCT-like parameters
        (7, -(1 << 22), 1 << 22, 14, F32),  # negative weights, odd N, float container
        (16, -(1 << 30), 1 << 30, 16, I8),  # big weights: results leave int8 and clamp
        (1, 1, 1 << 16, 0, I8),  # a single column
    ],
)
def test_ilayernorm_matches_layernorm_s8_s8(tmp_path, n, wlo, whi, log2d, declared):
    x = int8_rows(8, n) if n > 1 else RNG.integers(-128, 128, (8, 1))
    w = RNG.integers(wlo, whi, n)
    b = RNG.integers(-(1 << 20), 1 << 20, n)
    node = helper.make_node(
        "iLayerNorm",
        ["x", "w", "b"],
        ["y"],
        name="ln0",
        D=_tensor_attr(2.0**log2d),
        n_levels=_tensor_attr(256.0),
    )
    path = build(tmp_path, [node], [("x", declared, [8, n])], ["y"], {"w": w, "b": b})
    (y,), module = run(path, [x.astype(np.float32) if declared == F32 else x])
    assert ops_in(module)[-1] == "qtfm.layernorm_trunc"
    raw, c_out = c_layernorm_s8_s8(x.ravel().tolist(), w.tolist(), b.tolist(), x.size, n, log2d)
    # QuantLib clamps to the 256 levels; Deeploy's kernel converts with (int8_t), which agrees
    # wherever the value is in range (and wraps elsewhere).
    assert y.ravel().tolist() == [max(-128, min(127, v)) for v in raw]
    in_range = [i for i, v in enumerate(raw) if -128 <= v <= 127]
    assert [y.ravel()[i] for i in in_range] == [c_out[i] for i in in_range]
    if whi == 1 << 30:
        assert len(in_range) < len(raw)  # the clamp was exercised


def test_ilayernorm_truncates_where_layernorm_floors(tmp_path):
    """A row with a negative sum that N does not divide: C's `/` rounds the mean toward zero
    (qtfm.layernorm would floor it), and the difference survives the shift."""
    x = np.array([[-3, -2, 0, 0]])  # sum -5: trunc(-5/4) = -1, floor = -2
    w, b = np.array([1 << 8] * 4), np.zeros(4, np.int64)
    node = helper.make_node(
        "iLayerNorm", ["x", "w", "b"], ["y"], name="ln0", D=_tensor_attr(1.0), n_levels=_tensor_attr(65536.0)
    )
    path = build(tmp_path, [node], [("x", I8, [1, 4])], ["y"], {"w": w, "b": b})
    (y,), _ = run(path, [x])
    raw, _ = c_layernorm_s8_s8(x.ravel().tolist(), w.tolist(), b.tolist(), 4, 4, 0)
    assert y.ravel().tolist() == raw
    assert y.ravel().tolist() != K.layernorm(x, w, b, 0, 65536).ravel().tolist()


def test_ilayernorm_broadcasts_scalar_weight(tmp_path):
    """QuantLib's iLayerNorm without affine parameters exports a 1-element weight and bias."""
    x = int8_rows(6, 32)
    node = helper.make_node(
        "iLayerNorm",
        ["x", "w", "b"],
        ["y"],
        name="ln0",
        D=_tensor_attr(2.0**24),
        n_levels=_tensor_attr(256.0),
    )
    path = build(tmp_path, [node], [("x", I8, [6, 32])], ["y"], {"w": [1 << 27], "b": [0]})
    (y,), _ = run(path, [x])
    raw, _ = c_layernorm_s8_s8(x.ravel().tolist(), [1 << 27] * 32, [0] * 32, x.size, 32, 24)
    assert y.ravel().tolist() == [max(-128, min(127, v)) for v in raw]


# ---------------------------------------------------------------------------------------------
# ITAMax
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1, 2, 16, 16), (1, 1, 64, 64), (3, 1), (5, 7)])
def test_itamax_matches_itamax_s8(tmp_path, shape):
    x = RNG.integers(-128, 128, shape)
    rows = x.reshape(-1, shape[-1])
    rows[0] = -128
    if len(rows) > 2:
        rows[1, :] = -128
        rows[1, 0] = 127  # one element at distance 255 from all others
        rows[2] = np.arange(rows.shape[1]) * 16 % 256 - 128  # distances on the rounding ties
    node = helper.make_node("ITAMax", ["x"], ["y"], name="ita0", n_levels=_tensor_attr(256.0))
    path = build(tmp_path, [node], [("x", I8, list(shape))], ["y"])
    (y,), module = run(path, [x])
    assert ops_in(module) == ["qtfm.ita_softmax"]
    assert y.dtype == np.uint8
    stored = c_itamax_s8(x.ravel().tolist(), x.size, shape[-1], 256)
    # Deeploy stores the unsigned result with an offset of -n_levels/2
    assert y.ravel().tolist() == [v + 128 for v in stored]


def test_itamax_after_requantshift_float_container(tmp_path):
    """As exported: a signed RequantShift feeds ITAMax; the data arrive in FLOAT tensors."""
    acc = RNG.integers(-20000, 20000, (1, 1, 8, 8))
    nodes = [
        helper.make_node(
            "RequantShift", ["s", "m", "a"], ["q"], name="rq0", div=4096, n_levels_out=256, signed=1
        ),
        helper.make_node("ITAMax", ["q"], ["y"], name="ita0", n_levels=_tensor_attr(256.0)),
    ]
    path = build(tmp_path, nodes, [("s", F32, [1, 1, 8, 8])], ["y"], {"m": [29], "a": [-3000]})
    (y,), _ = run(path, [acc.astype(np.float32)])
    q = np.clip((acc * 29 - 3000 + 2048) >> 12, -128, 127)
    stored = c_itamax_s8(q.ravel().tolist(), q.size, 8, 256)
    assert y.ravel().tolist() == [v + 128 for v in stored]


# ---------------------------------------------------------------------------------------------
# RQIntegerDiv
# ---------------------------------------------------------------------------------------------


def _rqdiv_node(name: str = "rqdiv0", with_shift: bool = True, **attrs: object) -> onnx.NodeProto:
    base: dict[str, object] = {
        "Delta": 65536,
        "eps": 1,
        "eta": 7,
        "div": _tensor_attr(65536.0),
        "n_levels": _tensor_attr(256.0),
        "signed": _tensor_attr(1.0),
    }
    base.update(attrs)
    ins = ["a", "b", "mul", "add"] + (["shift"] if with_shift else [])
    return helper.make_node("RQIntegerDiv", ins, ["y"], name=name, **base)


@pytest.mark.parametrize(
    ("mul", "add", "with_shift"), [(37, 0, True), (3, -32768, True), (1, 5000, False), (64, -12345, True)]
)
def test_rqintegerdiv_matches_rqdiv_s32_s8(tmp_path, mul, add, with_shift):
    """Linear-attention normalisation: (1, H, S, S) numerators over (1, H, S, 1) row sums."""
    h, s = 2, 8
    a = RNG.integers(-4000, 4001, (1, h, s, s))
    b = RNG.integers(60, 5000, (1, h, s, 1))
    a[0, 0, 0, 0], a[0, 0, 1, 0] = 4000, -4000
    a[0, 1, 0, :] = [0, 60, -60, -1, 1, 59, -59, 7]
    b[0, 1, 0, 0] = 0  # the denominator is then eps = 1: the largest quotients
    # (the C kernel forms q * mul + add in int32: larger inputs overflow it)
    path = build(
        tmp_path,
        [_rqdiv_node(with_shift=with_shift)],
        [("a", I32, [1, h, s, s]), ("b", I32, [1, h, s, 1])],
        ["y"],
        {"mul": [mul], "add": [add], "shift": [16]},
    )
    (y,), module = run(path, [a, b])
    assert ops_in(module) == ["qtfm.int_div", "qtfm.requant"]
    # Deeploy's IntegerDivParser: nomStep / denomStep from the first differing dimension
    expected = c_rqdiv_s32_s8(a.ravel().tolist(), b.ravel().tolist(), a.size, s, 1, 65536, 1, 7, mul, add, 16)
    assert y.ravel().tolist() == expected


def test_rqintegerdiv_rounds_ties_away_from_zero(tmp_path):
    """den = eta*b + eps even: exact halves round away from zero, as C's kernel does
    (QuantLib's floor(x + 0.5) would round -2.5 up to -2)."""
    a = np.array([[-5, -3, -1, 1, 3, 5]])
    b = np.array([[1]])
    node = _rqdiv_node(Delta=1, eta=1, eps=1, div=_tensor_attr(2.0), n_levels=_tensor_attr(65536.0))
    path = build(
        tmp_path,
        [node],
        [("a", I32, [1, 6]), ("b", I32, [1, 1])],
        ["y"],
        {"mul": [2], "add": [0], "shift": [1]},
    )
    module, weights = import_integer_network(load_onnx(path), [a, b], "w.npz")
    q = next(op for op in module.walk() if op.name == "qtfm.int_div")
    (y,) = Interpreter(module, weights).run([a, b])
    assert K.integer_div(a, b, 1, 1, 1).ravel().tolist() == [-3, -2, -1, 1, 2, 3]  # a / 2
    # requant of 2*q with shift 1 and the half-up term gives q back
    assert y.ravel().tolist() == [-3, -2, -1, 1, 2, 3]
    assert y.ravel().tolist() == c_rqdiv_s32_s8(a.ravel().tolist(), [1], 6, 6, 1, 1, 1, 1, 2, 0, 1)
    assert q.params.as_dict() == {"delta": 1, "eps": 1, "eta": 1}


def test_rqintegerdiv_nonpositive_denominator_is_a_reference_error(tmp_path):
    path = build(
        tmp_path,
        [_rqdiv_node()],
        [("a", I32, [1, 2]), ("b", I32, [1, 1])],
        ["y"],
        {"mul": [1], "add": [0], "shift": [16]},
    )
    module, weights = import_integer_network(load_onnx(path), None, "w.npz")
    with pytest.raises(ReferenceError, match="denominator"):
        Interpreter(module, weights).run([np.array([[1, 2]]), np.array([[-1]])])


# ---------------------------------------------------------------------------------------------
# RequantizedGemm (PULPOpen convention)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trans_b", "per_column", "signed"),
    [(1, True, True), (0, True, True), (1, False, True), (0, True, False)],
)
def test_requantizedgemm_matches_pulp_nn(tmp_path, trans_b, per_column, signed):
    m, n, o, log2d = 5, 24, 6, 12
    a = RNG.integers(-128, 128, (m, n))
    a[0], a[1] = -128, 127
    w_on = RNG.integers(-128, 128, (o, n))  # pulp-nn's O x N layout
    mul = RNG.integers(1, 200, o) if per_column else np.array([57])
    lam = RNG.integers(-(1 << 18), 1 << 18, o)
    b = w_on if trans_b else w_on.T
    node = helper.make_node(
        "RequantizedGemm",
        ["a", "B", "C", "mul"],
        ["y"],
        name="rqgemm0",
        transB=trans_b,
        div=_tensor_attr(float(1 << log2d)),
        n_levels=_tensor_attr(256.0),
        signed=_tensor_attr(1.0 if signed else 0.0),
        shift=_tensor_attr(float(log2d)),
    )
    path = build(tmp_path, [node], [("a", I8, [m, n])], ["y"], {"B": b, "C": lam, "mul": mul})
    (y,), module = run(path, [a])
    assert ops_in(module)[-1] == "qtfm.matmul"
    muls = mul.tolist() * (o if len(mul) == 1 else 1)
    assert np.array_equal(y, pulp_rq_gemm(a, w_on, muls, lam.tolist(), log2d, signed))


def test_requantizedgemm_equals_the_gemm_requantshift_pair(tmp_path):
    """Deeploy's PULP merge pass builds C' = C*mul + add + 2^(s-1); the fused node then
    computes exactly what Gemm + RequantShift computed (both imported by mote)."""
    m, n, o, s = 4, 16, 8, 16
    a = RNG.integers(-128, 128, (m, n))
    w = RNG.integers(-128, 128, (o, n))
    bias, mul, add = (
        RNG.integers(-5000, 5000, o),
        RNG.integers(100, 3000, o),
        RNG.integers(-(1 << 20), 1 << 20, o),
    )
    pair = [
        helper.make_node("Gemm", ["a", "W", "bias"], ["g"], name="gemm0", transB=1),
        helper.make_node(
            "RequantShift", ["g", "mul", "add"], ["y"], name="rq0", div=1 << s, n_levels_out=256, signed=1
        ),
    ]
    inits = {"W": w, "bias": bias, "mul": mul, "add": add}
    (y_pair,), _ = run(build(tmp_path, pair, [("a", I8, [m, n])], ["y"], inits), [a])
    fused = helper.make_node(
        "RequantizedGemm",
        ["a", "W", "Cp", "mul"],
        ["y"],
        name="rqgemm0",
        transB=1,
        div=_tensor_attr(float(1 << s)),
        n_levels_out=_tensor_attr(256.0),
        signed=_tensor_attr(1.0),
        shift=_tensor_attr(float(s)),
    )
    cp = bias * mul + add + (1 << (s - 1))
    (y_fused,), _ = run(
        build(tmp_path, [fused], [("a", I8, [m, n])], ["y"], {"W": w, "Cp": cp, "mul": mul}), [a]
    )
    assert np.array_equal(y_fused, y_pair)


# ---------------------------------------------------------------------------------------------
# All five together: print/parse round trip of the imported IR
# ---------------------------------------------------------------------------------------------


def test_all_five_ops_import_and_round_trip(tmp_path):
    n = 16
    nodes = [
        helper.make_node(
            "iLayerNorm",
            ["x", "lw", "lb"],
            ["ln"],
            name="ln0",
            D=_tensor_attr(2.0**14),
            n_levels=_tensor_attr(256.0),
        ),
        helper.make_node("iGELU", ["ln"], ["g"], name="gelu0", b=-40, one=1743),
        helper.make_node(
            "RequantShift", ["g", "m1", "a1"], ["gq"], name="rq0", div=65536, n_levels_out=256, signed=1
        ),
        helper.make_node("ITAMax", ["gq"], ["p"], name="ita0", n_levels=_tensor_attr(256.0)),
        helper.make_node(
            "RequantizedGemm",
            ["p", "W", "C", "m2"],
            ["z"],
            name="rqgemm0",
            transB=1,
            div=_tensor_attr(4096.0),
            n_levels=_tensor_attr(256.0),
            signed=_tensor_attr(1.0),
            shift=_tensor_attr(12.0),
        ),
        _rqdiv_node(name="rqdiv0"),
    ]
    nodes[-1].input[:] = ["z", "den", "mul", "add", "shift"]
    inits = {
        "lw": RNG.integers(200000, 300000, n),
        "lb": RNG.integers(-9000, 9000, n),
        "m1": [3],
        "a1": [0],
        "W": RNG.integers(-128, 128, (n, n)),
        "C": RNG.integers(-1000, 1000, n),
        "m2": [5],
        "mul": [9],
        "add": [-7],
        "shift": [16],
    }
    path = build(tmp_path, nodes, [("x", I8, [4, n]), ("den", I32, [4, 1])], ["y"], inits)
    x, den = int8_rows(6, n)[:4], np.array([[3], [0], [100], [7]])
    module, weights = import_integer_network(load_onnx(path), [x, den], "w.npz")
    module.verify()
    names = ops_in(module)
    for op in ("qtfm.layernorm_trunc", "qtfm.gelu", "qtfm.ita_softmax", "qtfm.matmul", "qtfm.int_div"):
        assert op in names
    Interpreter(module, weights).run([x, den])
    for generic in (False, True):
        text = StringIO()
        Printer(text, print_generic_format=generic).print_op(module)
        assert str(Parser(mote_context(), text.getvalue()).parse_module()) == str(module)


# ---------------------------------------------------------------------------------------------
# Errors: missing and invalid attributes name the node
# ---------------------------------------------------------------------------------------------

_LN_ATTRS = {"D": _tensor_attr(16384.0), "n_levels": _tensor_attr(256.0)}
_RQ = {"div": _tensor_attr(4096.0), "n_levels": _tensor_attr(256.0), "signed": _tensor_attr(1.0)}


def _error_case(kind: str):  # noqa: ANN202
    """(nodes, inputs, inits, words expected in the message) for one error path."""
    x8 = [("x", I8, [4, 16])]
    ln_inits = {"w": np.ones(16), "b": np.zeros(16)}
    gemm_inits = {"W": np.ones((16, 16)), "C": np.zeros(16), "mul": [1]}
    div_ins = [("a", I32, [4, 16]), ("den", I32, [4, 1])]
    div_inits = {"mul": [1], "add": [0], "shift": [12]}

    def gelu(**a: object) -> onnx.NodeProto:
        return helper.make_node("iGELU", ["x"], ["y"], name="bad_gelu", **a)

    def ln(**a: object) -> onnx.NodeProto:
        return helper.make_node("iLayerNorm", ["x", "w", "b"], ["y"], name="bad_ln", **a)

    def ita(**a: object) -> onnx.NodeProto:
        return helper.make_node("ITAMax", ["x"], ["y"], name="bad_ita", **a)

    def gemm(inputs=("x", "W", "C", "mul"), **a: object) -> onnx.NodeProto:  # noqa: ANN001
        return helper.make_node("RequantizedGemm", list(inputs), ["y"], name="bad_gemm", transB=1, **a)

    def rqdiv(inputs=("a", "den", "mul", "add", "shift"), **a: object) -> onnx.NodeProto:  # noqa: ANN001
        base = {"Delta": 65536, "eps": 1, "eta": 7, **_RQ}
        base.update(a)
        base = {k: v for k, v in base.items() if v is not None}
        return helper.make_node("RQIntegerDiv", list(inputs), ["y"], name="bad_rqdiv", **base)

    cases = {
        "gelu_missing_one": ([gelu(b=-40)], x8, {}, ["bad_gelu", "iGELU", "missing attributes one"]),
        "gelu_missing_both": ([gelu()], x8, {}, ["bad_gelu", "missing attributes b, one"]),
        "gelu_b_zero": (
            [gelu(b=0, one=100)],
            x8,
            {},
            ["bad_gelu", "#qtfm.gelu b must be in [-32768, -1], got 0"],
        ),
        "gelu_float_b": ([gelu(b=-1.5, one=100)], x8, {}, ["bad_gelu", "b must hold integers"]),
        "ln_missing_d": (
            [ln(n_levels=_tensor_attr(256.0))],
            x8,
            ln_inits,
            ["bad_ln", "iLayerNorm", "missing attributes D"],
        ),
        "ln_d_not_pow2": (
            [ln(D=_tensor_attr(1000.0), n_levels=_tensor_attr(256.0))],
            x8,
            ln_inits,
            ["bad_ln", "D must be a positive power of two, got 1000"],
        ),
        "ln_levels_one": (
            [ln(D=_tensor_attr(16384.0), n_levels=_tensor_attr(1.0))],
            x8,
            ln_inits,
            ["bad_ln", "#qtfm.layernorm levels must be >= 2, got 1"],
        ),
        "ln_wide_input": (
            [ln(**_LN_ATTRS)],
            [("x", TensorProto.INT16, [4, 16])],
            ln_inits,
            ["bad_ln", "at most 8 bits, got i16"],
        ),
        "ln_weight_shape": (
            [ln(**_LN_ATTRS)],
            x8,
            {"w": np.ones(3), "b": np.zeros(16)},
            ["bad_ln", "weight of shape [3] does not fit 16 channels"],
        ),
        "ita_missing_levels": ([ita()], x8, {}, ["bad_ita", "ITAMax", "missing attributes n_levels"]),
        "ita_levels_128": (
            [ita(n_levels=_tensor_attr(128.0))],
            x8,
            {},
            ["bad_ita", "n_levels must be 256, got 128"],
        ),
        "ita_axis": (
            [ita(n_levels=_tensor_attr(256.0), axis=0)],
            x8,
            {},
            ["bad_ita", "only the last axis is supported, got axis 0"],
        ),
        "ita_wide_input": (
            [ita(n_levels=_tensor_attr(256.0))],
            [("x", TensorProto.INT16, [4, 16])],
            {},
            ["bad_ita", "at most 8 bits, got i16"],
        ),
        "rqdiv_missing_delta": (
            [rqdiv(Delta=None)],
            div_ins,
            div_inits,
            ["bad_rqdiv", "RQIntegerDiv", "missing attributes Delta"],
        ),
        "rqdiv_missing_levels": (
            [rqdiv(n_levels=None)],
            div_ins,
            div_inits,
            ["bad_rqdiv", "needs an 'n_levels'"],
        ),
        "rqdiv_no_shift": (
            [rqdiv(inputs=("a", "den", "mul", "add"), div=None)],
            div_ins,
            div_inits,
            ["bad_rqdiv", "needs a 'div' attribute or a shift input"],
        ),
        "rqdiv_shift_mismatch": (
            [rqdiv()],
            div_ins,
            {**div_inits, "shift": [15]},
            ["bad_rqdiv", "shift input 15 disagrees with div = 2^12"],
        ),
        "rqdiv_vector_mul": (
            [rqdiv()],
            div_ins,
            {**div_inits, "mul": [1, 2]},
            ["bad_rqdiv", "mul (input 2) must be a single value"],
        ),
        "rqdiv_delta_eta": (
            [rqdiv(Delta=1 << 20, eta=1 << 12)],
            div_ins,
            div_inits,
            ["bad_rqdiv", "delta * eta = 4294967296 does not fit int32"],
        ),
        "rqdiv_inputs": (
            [rqdiv(inputs=("a", "den", "mul"))],
            div_ins,
            div_inits,
            ["bad_rqdiv", "got 3 inputs"],
        ),
        "gemm_missing_div": (
            [gemm(n_levels=_tensor_attr(256.0))],
            x8,
            gemm_inits,
            ["bad_gemm", "RequantizedGemm", "needs a 'div' attribute"],
        ),
        "gemm_missing_levels": (
            [gemm(div=_tensor_attr(4096.0))],
            x8,
            gemm_inits,
            ["bad_gemm", "needs an 'n_levels'"],
        ),
        "gemm_cmsis_shift": (
            [gemm(**_RQ, shift=_tensor_attr(19.0))],
            x8,
            gemm_inits,
            ["bad_gemm", "shift 19 differs from log2(div) = 12", "CMSIS"],
        ),
        "gemm_alpha": ([gemm(**_RQ, alpha=2.0)], x8, gemm_inits, ["bad_gemm", "alpha must be 1"]),
        "gemm_five_inputs": (
            [gemm(inputs=("x", "W", "C", "add", "mul"), **_RQ)],
            x8,
            {**gemm_inits, "add": [0]},
            ["bad_gemm", "expected inputs (A, B, C, mul)"],
        ),
        "gemm_c_two_axes": (
            [gemm(**_RQ)],
            x8,
            {**gemm_inits, "C": np.zeros((4, 16)), "mul": np.ones(16)},
            ["bad_gemm", "only one channel axis is supported"],
        ),
    }
    return cases[kind]


_ERROR_KINDS = [
    "gelu_missing_one",
    "gelu_missing_both",
    "gelu_b_zero",
    "gelu_float_b",
    "ln_missing_d",
    "ln_d_not_pow2",
    "ln_levels_one",
    "ln_wide_input",
    "ln_weight_shape",
    "ita_missing_levels",
    "ita_levels_128",
    "ita_axis",
    "ita_wide_input",
    "rqdiv_missing_delta",
    "rqdiv_missing_levels",
    "rqdiv_no_shift",
    "rqdiv_shift_mismatch",
    "rqdiv_vector_mul",
    "rqdiv_delta_eta",
    "rqdiv_inputs",
    "gemm_missing_div",
    "gemm_missing_levels",
    "gemm_cmsis_shift",
    "gemm_alpha",
    "gemm_five_inputs",
    "gemm_c_two_axes",
]


@pytest.mark.parametrize("kind", _ERROR_KINDS)
def test_invalid_nodes_are_refused_naming_the_node(tmp_path, kind):
    nodes, inputs, inits, words = _error_case(kind)
    path = build(tmp_path, nodes, inputs, ["y"], inits)
    message = import_error(path)
    assert str(path) in message
    assert "opset 13" in message
    for word in words:
        assert word in message, message


def test_cli_refuses_a_bad_node_in_one_line(tmp_path):
    nodes, inputs, inits, _ = _error_case("ita_levels_128")
    path = build(tmp_path, nodes, inputs, ["y"], inits)
    result = mote("compile", path, "-o", tmp_path / "out")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "node 'bad_ita' (ai.onnx::ITAMax, opset 13)" in result.stderr


def test_top_level_import_recognises_the_ops(tmp_path):
    """A graph whose only custom op is one of the five is taken as an integer network."""
    node = helper.make_node("iGELU", ["x"], ["y"], name="gelu0", b=-40, one=1743)
    module, _ = import_model(build(tmp_path, [node], [("x", I8, [2, 8])], ["y"]))
    assert ops_in(module) == ["qtfm.gelu"]


# ---------------------------------------------------------------------------------------------
# Property tests of the new kernels against scalar formulas
# ---------------------------------------------------------------------------------------------


def int8_matrix(max_rows: int = 4, max_cols: int = 40) -> st.SearchStrategy[np.ndarray]:
    shape = st.tuples(st.integers(1, max_rows), st.integers(1, max_cols))
    return hnp.arrays(np.int64, shape, elements=edgy(-128, 127))


@PROP
@given(x=int8_matrix())
@example(x=np.array([[-128, 127]]))
@example(x=np.array([[5]]))
@example(x=np.array([[0, -16, -17, -48, -49]]))  # distances on the ties of round(d / 32)
def test_ita_softmax_kernel(x):
    got = K.ita_softmax(x)
    for row, out in zip(x.tolist(), got.tolist(), strict=True):
        mx = max(row)
        shifts = [int(Fraction(mx - v, 32) + Fraction(1, 2)) for v in row]  # round half up
        total = sum(Fraction(256, 2**s) for s in shifts)
        inv = int(Fraction(255 * 256) / total)
        assert out == [int(Fraction(inv, 2**s)) for s in shifts]
        assert all(0 <= v <= 255 for v in out) and max(out) >= 1


@PROP
@given(
    x=int8_matrix(3, 24),
    data=st.data(),
    shift=edgy(0, 40),
    levels=st.sampled_from([2, 16, 256, 65536]),
)
def test_layernorm_trunc_kernel(x, data, shift, levels):
    n = x.shape[1]
    w = data.draw(hnp.arrays(np.int64, n, elements=edgy(INT32_MIN, INT32_MAX)))
    b = data.draw(hnp.arrays(np.int64, n, elements=edgy(INT32_MIN, INT32_MAX)))
    got = K.layernorm_trunc(x, w, b, shift, levels)

    def trunc(q: Fraction) -> int:
        return int(q)  # int() of a Fraction truncates toward zero

    for row, out in zip(x.tolist(), got.tolist(), strict=True):
        mean = trunc(Fraction(sum(row), n))
        xc = [v - mean for v in row]
        var = sum(c * c for c in xc) // n
        std = next(r for r in range(0, 1 << 9) if (r + 1) ** 2 > var + 1)  # floor sqrt, >= 1
        expected = []
        for c, wj, bj in zip(xc, w.tolist(), b.tolist(), strict=True):
            y = (trunc(Fraction(c * wj, std)) + bj) // (1 << shift)
            expected.append(max(-(levels // 2), min(levels // 2 - 1, y)))
        assert out == expected


@PROP
@given(
    a=hnp.arrays(np.int64, st.integers(1, 12), elements=edgy(INT32_MIN, INT32_MAX)),
    b=edgy(0, INT32_MAX),
    delta=edgy(1, 1 << 16),
    eta=edgy(1, 1 << 14),
    eps=edgy(1, INT32_MAX),
)
@example(a=np.array([-5, -3, -1, 0, 1, 3, 5]), b=1, delta=1, eta=1, eps=1)  # ties of x / 2
def test_integer_div_kernel(a, b, delta, eta, eps):
    got = K.integer_div(a, np.array([b]), delta, eps, eta).tolist()
    den = eta * b + eps
    for v, q in zip(a.tolist(), got, strict=True):
        exact = Fraction(delta * eta * v, den)
        # nearest integer, ties away from zero
        mag = int(abs(exact) + Fraction(1, 2))
        assert q == (mag if exact >= 0 else -mag)
        # QuantLib's floor(x + 1/2) agrees except on negative exact halves
        ql = int((exact + Fraction(1, 2)).__floor__())
        assert q == ql or (exact < 0 and (2 * exact).denominator == 1 and q == ql - 1)


@FEW
@given(
    x=hnp.arrays(np.int64, st.integers(1, 64), elements=edgy(-128, 127)),
    b=edgy(-128, -1),
    one=edgy(1, 32767),
)
def test_gelu_kernel_is_gelu_s8_s32(x, b, one):
    """qtfm.gelu, which iGELU imports to, against the C transcription on its parameter range."""
    assert K.gelu(x, b, one).tolist() == c_gelu_s8_s32(x.tolist(), b, one)


@FEW
@given(x=int8_matrix(4, 64))
def test_ita_softmax_kernel_is_itamax_s8(x):
    stored = c_itamax_s8(x.ravel().tolist(), x.size, x.shape[1], 256)
    assert K.ita_softmax(x).ravel().tolist() == [v + 128 for v in stored]
