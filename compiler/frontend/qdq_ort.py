"""What onnxruntime's CPU provider computes for a QDQ model, in numpy, bit for bit.

onnxruntime does not run a QDQ graph as written: it fuses `DequantizeLinear -> op ->
QuantizeLinear` groups into integer kernels (QLinearAdd, QLinearMul, QLinearMatMul/QGemm,
QLinearSoftmax, lookup tables for unary ops) whose float32 arithmetic differs from the ONNX
reference formula in the last bit, and it runs the remaining ops (LayerNormalization, Erf,
Sqrt, reductions) in float32 between a dequantize and a quantize. Quantized transformers are
chaotic at that level: one output that rounds the other way early in the network changes
whole rows a few layers later. So the importer reproduces the kernels themselves: the
functions here give, for every input an op can receive, the integer onnxruntime produces
(x86-64 with AVX2/FMA, the MLAS kernels of onnxruntime 1.18+), and the importer fits its
fixed-point parameters (`#qtfm.requant`, lookup tables) to them.

Conventions: quantized values are int64 numpy arrays; float32 arithmetic is spelled out
(`f32`), and a fused multiply-add is computed exactly in float64 (the products of an 8-bit
value and a float32 are exact there) and rounded once to float32.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import onnx
from onnx.reference import ReferenceEvaluator

F32 = np.float32


def f32(x: object) -> np.float32:
    return np.float32(x)


def rne(x: np.ndarray) -> np.ndarray:
    """Round half to even (what `cvtps2dq` and `nearbyintf` do), as int64."""
    return np.round(np.asarray(x, np.float64)).astype(np.int64)


@dataclass(frozen=True)
class QParams:
    """The scale and zero point of a quantized tensor (one value, or one per `axis`)."""

    scale: np.ndarray
    """float32, shape () or (C,)"""
    zero_point: np.ndarray
    """int64, same shape as scale"""
    signed: bool
    axis: int | None = None

    @property
    def lo(self) -> int:
        return -128 if self.signed else 0

    @property
    def hi(self) -> int:
        return 127 if self.signed else 255

    @property
    def per_tensor(self) -> bool:
        return self.scale.size == 1

    @property
    def s(self) -> np.float32:
        """The scale of a per-tensor quantization."""
        assert self.per_tensor
        return F32(self.scale.reshape(()))

    @property
    def z(self) -> int:
        assert self.per_tensor
        return int(self.zero_point.reshape(()))

    def same_as(self, other: QParams) -> bool:
        return (
            self.signed == other.signed
            and self.scale.shape == other.scale.shape
            and bool(np.all(self.scale == other.scale))
            and bool(np.all(self.zero_point == other.zero_point))
            and (self.per_tensor or self.axis == other.axis)
        )

    def domain(self) -> np.ndarray:
        """Every value of the quantized type, ascending."""
        return np.arange(self.lo, self.hi + 1, dtype=np.int64)

    def broadcast(self, values: np.ndarray, rank: int) -> np.ndarray:
        """Per-axis parameters shaped to broadcast against a rank-`rank` tensor."""
        if self.per_tensor or self.axis is None:
            return values.reshape(())
        shape = [1] * rank
        shape[self.axis] = -1
        return values.reshape(shape)


def dequantize(q: np.ndarray, p: QParams) -> np.ndarray:
    """DequantizeLinear: `(q - zp) * scale` in float32."""
    q = np.asarray(q, np.int64)
    zp = p.broadcast(p.zero_point, q.ndim)
    scale = p.broadcast(p.scale.astype(F32), q.ndim)
    with np.errstate(over="ignore"):
        return ((q - zp).astype(F32) * scale).astype(F32)


def quantize(x: np.ndarray, p: QParams) -> np.ndarray:
    """QuantizeLinear (MLAS): `x / scale` in float32, round half to even, add zp, saturate."""
    x = np.asarray(x, F32)
    scale = p.broadcast(p.scale.astype(F32), x.ndim)
    zp = p.broadcast(p.zero_point, x.ndim)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        v = (x / scale).astype(F32).astype(np.float64)
    v = np.where(np.isnan(v), -(2.0**31), v)  # cvtps2dq turns NaN into INT32_MIN
    v = np.clip(v, -(2.0**31), 2.0**31 - 1)
    return np.clip(rne(v) + zp, p.lo, p.hi)


def fma32(a: np.ndarray, b: np.float32, c: np.ndarray) -> np.ndarray:
    """float32 fused multiply-add of small integers `a` (exact in float64) and floats."""
    return (np.asarray(a, np.float64) * np.float64(b) + np.asarray(c, np.float64)).astype(F32)


# -- QLinearAdd ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddKernel:
    """MLAS QLinearAdd (AVX2): `t = fma(inner, r_inner, fixed)`, `v = fma(outer, r_outer, t)`,
    round half to even, saturate. The operand that is a scalar of its broadcast span is the
    inner one; otherwise B is inner."""

    r_a: np.float32
    r_b: np.float32
    fixed: np.float32
    lo: int
    hi: int

    @staticmethod
    def of(pa: QParams, pb: QParams, pc: QParams) -> AddKernel:
        r_a = f32(pa.s / pc.s)
        r_b = f32(pb.s / pc.s)
        # `zc - (r_a * za + r_b * zb)`, the first product contracted into an fma
        inner = np.float64(r_a) * pa.z + np.float64(f32(r_b * f32(pb.z)))
        fixed = f32(np.float64(f32(pc.z)) - np.float64(f32(inner)))
        return AddKernel(r_a, r_b, fixed, pc.lo, pc.hi)

    def inner_term(self, values: np.ndarray, inner_is_a: bool) -> np.ndarray:
        r = self.r_a if inner_is_a else self.r_b
        return fma32(values, r, np.full(np.shape(values), self.fixed, np.float64))

    def apply(self, outer: np.ndarray, inner_term: np.ndarray, inner_is_a: bool) -> np.ndarray:
        r = self.r_b if inner_is_a else self.r_a
        v = fma32(outer, r, inner_term)
        return np.clip(rne(np.clip(v.astype(np.float64), -(2.0**31), 2.0**31 - 1)), self.lo, self.hi)


# -- QLinearMul ------------------------------------------------------------------------------


def mul_kernel(p_values: np.ndarray, pa: QParams, pb: QParams, pc: QParams) -> np.ndarray:
    """MLAS QLinearMul (SSE2): `rne(float(P) * (sa * sb / sc) + zc)` with
    `P = (a - za) * (b - zb)`, saturated."""
    ratio = f32(f32(pa.s * pb.s) / pc.s)
    v = (np.asarray(p_values, np.int64).astype(F32) * ratio).astype(F32)
    v = (v + f32(pc.z)).astype(F32)
    return np.clip(rne(np.clip(v.astype(np.float64), -(2.0**31), 2.0**31 - 1)), pc.lo, pc.hi)


# -- QLinearMatMul / QGemm -------------------------------------------------------------------


def gemm_multipliers(sa: np.float32, sb: np.ndarray, sy: np.float32) -> np.ndarray:
    """The float32 output scales of QLinearMatMul: `sa * sb / sy` per column."""
    return ((F32(sa) * np.asarray(sb, F32)).astype(F32) / F32(sy)).astype(F32)


def gemm_requant(acc: np.ndarray, multiplier: np.ndarray, zp: int, lo: int, hi: int) -> np.ndarray:
    """MLAS requantization of an int32 accumulator: `rne(float(acc) * scale) + zp`, saturated."""
    v = (np.asarray(acc, np.int64).astype(F32) * np.asarray(multiplier, F32)).astype(F32)
    v = np.clip(v.astype(np.float64), lo - zp, hi - zp)
    return rne(v) + zp


# -- QLinearSoftmax --------------------------------------------------------------------------


def softmax_table(x_scale: np.float32, reduce_len: int) -> np.ndarray:
    """QLinearSoftmax's exp table: entry `i` is `exp((i - 255 + shift) * x_scale)` (float32)
    with `shift` keeping the row sum below FLT_MAX."""
    bit_shift = math.log(float(np.finfo(F32).max) / reduce_len)
    bit_shift = max(0.0, bit_shift - 5.0) / float(x_scale)
    i = np.arange(256, dtype=np.float64)
    with np.errstate(over="ignore"):
        return np.exp((i - 255 + bit_shift) * float(x_scale)).astype(F32)


def softmax_output_multiplier(y_scale: np.float32) -> np.float32:
    """QLinearSoftmax multiplies by `floor(1 / y_scale)`, not by `1 / y_scale`."""
    return f32(math.floor(f32(1.0) / F32(y_scale)))


def softmax_rows(x: np.ndarray, px: QParams, py: QParams) -> np.ndarray:
    """QLinearSoftmax along the last axis of quantized rows."""
    x = np.asarray(x, np.int64)
    d = x.shape[-1]
    table = softmax_table(px.s, d)
    idx = x - x.max(axis=-1, keepdims=True) + 255
    e = table[idx]
    total = np.zeros(x.shape[:-1] + (1,), F32)
    for j in range(d):  # sequential float32 sum, as the kernel does
        total = (total + e[..., j : j + 1]).astype(F32)
    c = softmax_output_multiplier(py.s)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = ((e * c).astype(F32) / total).astype(F32)
    return np.clip(rne(v) + py.z, py.lo, py.hi)


def softmax_is_saturated(px: QParams, reduce_len: int) -> bool:
    """Whether every non-maximal element of a row is negligible: then the result depends only
    on which elements equal the row maximum (true whenever calibration folded an attention
    mask of -10000 or -inf into the input scale)."""
    table = softmax_table(px.s, reduce_len)
    top, next_ = float(table[255]), float(table[254])
    return top > 0 and math.isfinite(top) and next_ * reduce_len < top * 2.0**-26


def saturated_softmax_values(px: QParams, py: QParams, reduce_len: int) -> np.ndarray:
    """For a saturated softmax: the output of a maximal element when `n` elements of the row
    share the maximum, for n = 1..reduce_len (index n - 1)."""
    table = softmax_table(px.s, reduce_len)
    top = table[255]
    c = softmax_output_multiplier(py.s)
    out = []
    total = F32(0)
    for _ in range(reduce_len):
        total = f32(total + top)
        out.append(int(np.clip(rne(f32(f32(top * c) / total)) + py.z, py.lo, py.hi)))
    return np.asarray(out, np.int64)


# -- float regions ---------------------------------------------------------------------------


def evaluate(
    nodes: Sequence[onnx.NodeProto],
    feeds: dict[str, np.ndarray],
    consts: dict[str, np.ndarray],
    outputs: Sequence[str],
    opsets: Sequence[onnx.OperatorSetIdProto],
) -> list[np.ndarray]:
    """Runs float nodes (ONNX reference semantics, float32) on given inputs."""
    used = {i for n in nodes for i in n.input if i}
    values = {**{k: v for k, v in consts.items() if k in used and k not in feeds}, **feeds}
    inputs = [
        onnx.helper.make_tensor_value_info(k, onnx.helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
        for k, v in values.items()
    ]
    graph = onnx.helper.make_graph(
        list(nodes), "region", inputs, [onnx.helper.make_empty_tensor_value_info(o) for o in outputs]
    )
    model = onnx.helper.make_model(graph, opset_imports=list(opsets))
    with np.errstate(all="ignore"):
        return [np.asarray(r) for r in ReferenceEvaluator(model).run(list(outputs), values)]
