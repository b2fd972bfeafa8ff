"""Exact integer reference kernels: the golden semantics of mote's quantized ops.

Every function here is a pure numpy implementation of one integer operator as it
appears in integerized (QuantLib / PACT exported) networks, such as the Deeploy
test networks (RequantShift, iSoftmax, iRMSNorm, iHardswish, TrueIntegerDiv,
integer MatMul / Gemm / Add / Mul).  The formulas were checked bit-for-bit
against the golden outputs of the Deeploy integer tests (Kernels/Integer/* and
Models/microLlama/INT8/*): with these kernels plus plain reshape / transpose /
concat / slice, every output value of every network is reproduced exactly.

Conventions
-----------
* Tensors are ``np.ndarray`` of dtype int64; scalar parameters are Python ints.
  Integer inputs of a narrower integer dtype are widened to int64; float inputs
  are rejected (ONNX stores integer constants as FLOAT tensors: convert them
  exactly before calling).
* All arithmetic is exact int64 arithmetic.  ``>>`` is an arithmetic shift,
  i.e. ``a >> s == floor(a / 2**s)`` also for negative ``a``.  ``//`` is floor
  division; C-style truncating division is spelled out as :func:`trunc_div`.
* None of the intermediates of the reference networks comes close to the int64
  range; the docstrings note where an intermediate can exceed int32, which is
  what a C lowering has to care about.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "requant",
    "isqrt",
    "trunc_div",
    "softmax_ibert",
    "rmsnorm",
    "layernorm",
    "layernorm_trunc",
    "ita_softmax",
    "lut",
    "masked_mean",
    "gelu",
    "hardswish",
    "true_integer_div",
    "integer_div",
    "matmul",
    "gemm",
    "add",
    "mul",
    "clustered_offsets",
    "clustered_embedding",
    "coefficient_values",
    "pack_int4",
]


def _i64(x: np.ndarray | int) -> np.ndarray:
    """Return ``x`` as an int64 array; reject non-integer dtypes."""
    a = np.asarray(x)
    if a.dtype.kind not in "iub":
        raise TypeError(f"expected an integer array, got dtype {a.dtype}")
    return a.astype(np.int64, copy=False)


def requant(
    acc: np.ndarray,
    mul: np.ndarray | int,
    add: np.ndarray | int,
    shift: int,
    lo: int,
    hi: int,
) -> np.ndarray:
    """RequantShift: scale, round, shift and clamp an integer accumulator.

    ``y = clamp(((acc * mul + add) + r) >> shift, lo, hi)`` with rounding term
    ``r = 2**(shift-1)`` if ``shift > 0`` else ``0``.

    * ``>>`` is an arithmetic shift (floor division by ``2**shift``), so together
      with ``r`` this rounds half up (towards +inf), also for negative values.
    * ``shift = log2(div)``: the ONNX ``div`` attribute is always a power of two
      (65536 in all reference networks).  The rounding term is *not* part of the
      stored ``add`` constant; the kernel adds it (without it 40-90 % of the
      golden values differ).
    * ``mul`` and ``add`` are scalars or arrays broadcastable to ``acc``; the
      caller broadcasts per-channel / per-row constants (e.g. a ``(M, 1)``
      constant against an ``(M, N)`` Gemm output is per row; ``(1, H, 1, 1)``
      against ``(1, H, S, S)`` is per head).
    * Clamp bounds: signed output with ``n_levels`` levels is
      ``[-n_levels/2, n_levels/2 - 1]``; unsigned is ``[0, n_levels - 1]``.
      (The ONNX attribute is called ``n_levels_out`` in QuantLib exports and
      ``n_levels`` in hand-built Deeploy kernel tests; same meaning.)
    * ``acc * mul + add + r`` must be computed in a wide enough type: on the
      reference data its magnitude reaches 2.2e7; a static worst-case bound
      over the reference graphs (int8-range inputs) is 1.05e9 -- still below
      2**31 but within a factor of two, so a C lowering should either prove the
      bound per node or accumulate in int64.
    """
    acc = _i64(acc)
    mul = _i64(mul)
    add = _i64(add)
    if not 0 <= shift <= 62:
        raise ValueError(f"shift must be in [0, 62], got {shift}")
    rnd = (1 << (shift - 1)) if shift > 0 else 0
    y = (acc * mul + add + rnd) >> shift
    return np.clip(y, lo, hi)


def isqrt(x: np.ndarray) -> np.ndarray:
    """Elementwise floor integer square root of non-negative int64 values.

    ``isqrt(x) = max{ r >= 0 : r*r <= x }``, i.e. ``floor(sqrt(x))`` computed
    exactly (no floating point).  This is the value found by the binary search
    in Deeploy's ``_plp_sqrt_q32`` (with ``fracBits = 0``) and equals QuantLib's
    ``floor(sqrt(v))`` for the operands iRMSNorm produces.

    Implementation: bit-by-bit construction of the root from bit 31 down to bit
    0, accepting a candidate ``c`` iff ``c <= x // c`` (overflow free for every
    non-negative int64).
    """
    x = _i64(x)
    if np.any(x < 0):
        raise ValueError("isqrt of a negative value")
    r = np.zeros_like(x)
    for bit in range(31, -1, -1):
        cand = r | np.int64(1 << bit)
        ok = cand <= x // cand
        r = np.where(ok, cand, r)
    return r


def trunc_div(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
    """C-style integer division, truncating toward zero, elementwise.

    ``trunc_div(a, b) = sign(a*b) * (|a| // |b|)``; e.g. ``trunc_div(-7, 2) == -3``
    while ``-7 // 2 == -4``.  ``b`` must be non-zero.
    """
    a = _i64(a)
    b = _i64(b)
    if np.any(b == 0):
        raise ZeroDivisionError("trunc_div by zero")
    return (a - np.fmod(a, b)) // b


def softmax_ibert(
    x: np.ndarray,
    coeff_a: int,
    coeff_b: int,
    coeff_c: int,
    log2: int,
    n_levels: int,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """iSoftmax: I-BERT integer softmax along the last axis.

    For each row (last axis) of ``x``::

        xt = x - max(x)                      # xt <= 0
        z  = floor(-xt / log2)               # >= 0, so floor == C truncation
        p  = xt + z * log2                   # in (-log2, 0]
        e  = (coeff_a * (p + coeff_b)**2 + coeff_c) >> z     # floor(poly / 2**z)
        s  = sum(e)                          # over the row
        y  = clamp(floor(e * (n_levels - 1) / s), 0, n_levels - 1)

    * The result is *unsigned*, in ``[0, n_levels - 1]`` (no ``-n_levels/2``
      offset; the golden data has e.g. values 17..55 for a row of 8).
    * z is not clamped in the reference semantics; any clamp to ``z <= 31`` (as
      in Deeploy's C kernel) is equivalent as long as ``poly < 2**31``, since
      then ``e == 0`` for every ``z >= 31``.  Here ``z`` is clamped to 63 only to
      keep numpy's shift defined (``poly < 2**63`` gives 0 / -1 either way).
    * The final division is floor division of non-negative values (``s > 0``
      because the row maximum contributes ``coeff_a*coeff_b**2 + coeff_c > 0``).
    * ``mask`` (broadcastable to ``x``; non-zero keeps an element): masked elements take
      no part in the row maximum or the sum and their result is 0; a row with every
      element masked is all 0.
    * Magnitudes: ``poly <= coeff_a*coeff_b**2 + coeff_c`` (1.8e5 in the
      reference nets); ``e * (n_levels - 1)`` reaches 4.6e7 and the row sum
      1.2e6 -- within int32 / uint32, but ``e * (n_levels-1)`` grows with the
      coefficients, so a C lowering should use 32-bit unsigned or 64-bit.
    """
    x = _i64(x)
    keep = np.ones(x.shape, bool) if mask is None else np.broadcast_to(_i64(mask) != 0, x.shape)
    lowest = np.iinfo(np.int64).min
    rowmax = np.where(keep, x, lowest).max(axis=-1, keepdims=True)
    xt = np.where(keep, x - np.where(rowmax == lowest, 0, rowmax), 0)
    z = (-xt) // log2
    p = xt + z * log2
    poly = coeff_a * (p + coeff_b) ** 2 + coeff_c
    e = np.where(keep, poly >> np.minimum(z, 63), 0)
    s = e.sum(axis=-1, keepdims=True)
    y = (e * (n_levels - 1)) // np.maximum(s, 1)
    return np.clip(y, 0, n_levels - 1)


def lut(x: np.ndarray, table: np.ndarray, lo: int) -> np.ndarray:
    """Table lookup of an 8-bit input: ``y = table[x - lo]`` (``lo`` = the input type's
    minimum, -128 for i8 and 0 for ui8); ``table`` has 256 entries."""
    return _i64(table)[_i64(x) - lo]


def masked_mean(x: np.ndarray, axis: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Mean along ``axis`` rounded half up: ``floor((2 * sum + n) / (2 * n))`` with ``n`` the
    number of kept elements; ``mask`` (shape ``x.shape[:axis + 1]``, non-zero keeps) selects
    them; a mean over no element is 0."""
    x = _i64(x)
    keep = np.ones(x.shape[: axis + 1], np.int64) if mask is None else (_i64(mask) != 0).astype(np.int64)
    keep = keep.reshape(keep.shape + (1,) * (x.ndim - axis - 1))
    total = (x * keep).sum(axis=axis)
    n = np.broadcast_to(keep, x.shape).sum(axis=axis)
    return np.where(n > 0, (2 * total + n) // (2 * np.maximum(n, 1)), 0)


def rmsnorm(x: np.ndarray, weight: np.ndarray, log2_d: int, n_levels: int) -> np.ndarray:
    """iRMSNorm: integer RMS normalisation along the last axis (length N).

    ::

        ms  = floor(sum(x**2) / N)           # non-negative: floor == truncation
        std = isqrt(ms + 1)                  # floor integer sqrt, see isqrt()
        y   = floor(x * weight / (std * 2**log2_d))
            = (x * weight // std) >> log2_d  # identical by nested-floor identity
        y   = clamp(y, -n_levels/2, n_levels/2 - 1)   # signed clamp

    * ``weight`` has shape ``(N,)`` (broadcast along the last axis); ``log2_d``
      is ``log2`` of the ONNX ``D`` attribute (D = 65536 -> 16).
    * No rounding term anywhere (adding ``2**(log2_d-1)`` breaks ~50 % of the
      golden values).
    * This is QuantLib's floor semantics.  Deeploy's C kernel computes
      ``trunc(x*w / std) >> log2_d``, which differs only if ``x*w/std`` is
      negative, non-integral and ``ceil(x*w/std)`` is a multiple of
      ``2**log2_d`` -- never the case in the reference data, so both match it.
    * Magnitudes: ``x * weight`` reaches 5.2e8 (weights ~4e6) -- within int32
      but close (worst case 128 * 4.2e6 = 5.4e8); ``sum(x**2)`` reaches 2.5e5.
    """
    x = _i64(x)
    weight = _i64(weight)
    n = x.shape[-1]
    ms = (x * x).sum(axis=-1, keepdims=True) // n
    std = isqrt(ms + 1)
    y = ((x * weight) // std) >> log2_d
    return np.clip(y, -(n_levels // 2), n_levels // 2 - 1)


def layernorm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, shift: int, levels: int) -> np.ndarray:
    """Integer LayerNorm along the last axis (length N), in the style of iRMSNorm.

    ::

        mean = floor(sum(x) / N)
        xc   = x - mean
        var  = floor(sum(xc**2) / N)         # non-negative
        std  = isqrt(var + 1)                # floor integer sqrt; >= 1
        y    = ((xc * weight) // std + bias) >> shift
        y    = clamp(y, -levels/2, levels/2 - 1)

    * ``weight`` and ``bias`` have shape ``(N,)``; ``weight`` carries gamma and the output
      scale as a fixed-point number with ``shift`` fractional bits, ``bias`` carries beta at
      the same scale.  All divisions are floor divisions (a C lowering of ``// std`` must
      correct C's truncation for negative numerators); there is no rounding term.
    * There is no Deeploy golden data for this op: the definition follows iRMSNorm (same
      ``isqrt``, same ``+ 1`` that keeps ``std >= 1``) so that both norms share one kernel
      structure.  Magnitudes: with int8 input ``|xc| <= 255`` and ``xc * weight`` must stay
      within int32 for an int32 C lowering (the frontend bounds ``weight`` accordingly).
    """
    x = _i64(x)
    weight = _i64(weight)
    bias = _i64(bias)
    n = x.shape[-1]
    mean = x.sum(axis=-1, keepdims=True) // n
    xc = x - mean
    var = (xc * xc).sum(axis=-1, keepdims=True) // n
    std = isqrt(var + 1)
    y = ((xc * weight) // std + bias) >> shift
    return np.clip(y, -(levels // 2), levels // 2 - 1)


def layernorm_trunc(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray, shift: int, levels: int
) -> np.ndarray:
    """iLayerNorm: integer LayerNorm along the last axis (length N) with C's truncating
    divisions, as QuantLib's PACTIntegerLayerNorm and Deeploy's Layernorm_s8_s8 define it.

    ::

        mean = trunc(sum(x) / N)             # toward zero: the sum can be negative
        xc   = x - mean
        var  = sum(xc**2) // N               # non-negative: floor == truncation
        std  = isqrt(var + 1)                # floor integer sqrt; >= 1
        y    = (trunc(xc * weight / std) + bias) >> shift
        y    = clamp(y, -levels/2, levels/2 - 1)

    * It differs from :func:`layernorm` only in the two truncations (``mean`` and the
      quotient), which round toward zero where ``layernorm`` floors: for a negative
      non-integral value the results differ by one before the shift.
    * ``shift = log2(D)`` of the ONNX ``D`` attribute; ``>>`` is the arithmetic shift
      (floor), as ``floor(y / D)`` in QuantLib and ``>> log2D`` in Deeploy.
    * The clamp is QuantLib's; Deeploy's C kernel casts to int8 without clamping (it wraps
      where the value leaves the 8-bit range).
    * Magnitudes (8-bit input): ``|xc| <= 255``, ``sum(xc**2) <= N * 65025`` (int32 for
      ``N <= 33025``), ``std <= 256``; ``xc * weight`` exceeds int32 once
      ``|weight| >= 2**31 / 255`` (Deeploy computes it in int64; in Deeploy's ICCT test the
      weights reach 3.3e5 and the products 2.9e7).
    """
    x = _i64(x)
    weight = _i64(weight)
    bias = _i64(bias)
    n = x.shape[-1]
    mean = trunc_div(x.sum(axis=-1, keepdims=True), n)
    xc = x - mean
    var = (xc * xc).sum(axis=-1, keepdims=True) // n
    std = isqrt(var + 1)
    y = (trunc_div(xc * weight, std) + bias) >> shift
    return np.clip(y, -(levels // 2), levels // 2 - 1)


def ita_softmax(x: np.ndarray) -> np.ndarray:
    """ITAMax: the integer softmax of the ITA accelerator along the last axis, 256 levels,
    as QuantLib's PACTIntegerITAMax and Deeploy's ITAMax_s8 define it.

    For each row (last axis) of an 8-bit ``x``::

        d   = max(x) - x                     # in [0, 255]
        s   = (d + 16) >> 5                  # round(d / 32), ties up: in [0, 8]
        e   = 256 >> s                       # 2**(8 - s), exact since s <= 8
        inv = (255 * 256) // sum(e)          # sum(e) >= 256, so inv <= 255
        y   = inv >> s                       # in [0, 255]

    * ``1/32`` is QuantLib's ``eps_max = B / 2**B`` for ``B = log2(256)``: the input is
      first requantized (by a RequantShift) so that one unit is ``log2(e) / 32``, and
      ``2**-round(d/32)`` stands for ``exp(-d * eps)``.
    * The result is *unsigned* (``levels - 1 = 255`` stands for probability 1); Deeploy
      stores it in int8 with an offset of -128, QuantLib exports the unsigned value.
    * Magnitudes: ``sum(e) <= 256 * N``; everything else is at most 65280.
    """
    x = _i64(x)
    if x.ndim == 0:  # one row of one element
        return ita_softmax(x.reshape(1)).reshape(())
    d = x.max(axis=-1, keepdims=True) - x
    s = (d + 16) >> 5
    total = (np.int64(256) >> s).sum(axis=-1, keepdims=True)
    inv = (255 * 256) // total
    return inv >> s


def gelu(x: np.ndarray, b: int, one: int) -> np.ndarray:
    """i-GELU (I-BERT, Kim et al. 2021), exactly as Deeploy's iGELU kernel computes it.

    erf(t) is approximated by ``sgn(t) * (a * (min(|t|, -b') + b')**2 + 1)`` with
    a = -0.2888 and b' = -1.769.  With the input already in units of S/sqrt(2) (the
    frontend folds the 1/sqrt(2) into the parameters) this becomes, exactly::

        L = sgn(x) * (one - (min(|x|, -b) + b)**2)
        y = x * ((one + L) >> 1)

    where ``b = floor(b' * sqrt(2) / S)`` (negative) and ``one = floor(1 / (|a| * (S /
    sqrt(2))**2))`` is 1 at the polynomial's scale; ``>> 1`` is an arithmetic shift (the
    factor 1/2 of GELU, applied before the multiplication as Deeploy's GELU_s8_s32 does).
    The result, at scale ``S * |a| * (S / sqrt(2))**2``, is left exact for the following
    requant.  For ``|x| >= -b`` the polynomial saturates: ``y = one * x`` for positive ``x``
    and 0 for negative ``x``.  Magnitudes: ``|L| <= max(one, b**2)`` so
    ``|y| <= |x| * max(one, b**2)``; the verifier keeps ``|x| < 2**15``, ``-2**15 <= b < 0``
    and ``one < 2**31``.
    """
    x = _i64(x)
    q = np.minimum(np.abs(x), -b) + b
    erf = np.sign(x) * (one - q * q)
    return x * ((one + erf) >> 1)


def hardswish(x: np.ndarray, one_over_six: int, six: int, three: int) -> np.ndarray:
    """iHardswish: integer hard-swish, not requantized.

    ``y = x * (clamp(x + three, 0, six) * one_over_six)``

    Plain integer products, no division and no shift (the scaling by
    ``one_over_six`` is undone by the RequantShift that always follows).  The
    product order does not matter in exact arithmetic.  Magnitudes: the inner
    factor reaches 2.9e4, the result 3.7e6 (fits int32; worst case
    ``128 * six * one_over_six``).
    """
    x = _i64(x)
    return x * (np.clip(x + three, 0, six) * one_over_six)


def true_integer_div(x: np.ndarray, delta: int, eps: int, eta: int, y: int) -> np.ndarray:
    """TrueIntegerDiv: division of an integer tensor by the constant ``y``.

    ``out = x * k`` with ``k = floor(delta * eta / (y * eta + eps))``.

    I.e. the quotient is pre-computed as an integer constant with *floor*
    division and the tensor is simply multiplied by it; no per-element division,
    no rounding, no shift (the scale ``delta`` is removed by the following
    RequantShift).  For the attributes of all reference networks (delta=16384,
    eps=1, eta=200000, y=2) ``k = 3276800000 // 400001 = 8191``.

    This was verified against QuantLib's dumped intermediate activations of the
    microLlama models (exactly ``x * 8191`` for all values) and is what
    Deeploy's MergeTrueIntegerDivRequantShiftPass folds into the next
    RequantShift (``coeff = floor(Delta*eta/(y*eta+eps))``).  Note: QuantLib's
    PACTTrueIntegerDiv source reads ``floor(x*delta*eta/(y*eta+eps) + 0.5)``;
    that formula does *not* reproduce the golden outputs (42 of 1024 values of
    the TrueIntegerDiv test differ).  Magnitude: ``|out| <= 128 * k`` (1.05e6).
    """
    x = _i64(x)
    k = (delta * eta) // (y * eta + eps)
    return x * k


def integer_div(a: np.ndarray, b: np.ndarray, delta: int, eps: int, eta: int) -> np.ndarray:
    """IntegerDiv: elementwise ``a / b`` (numpy broadcasting) at output scale ``delta``.

    ::

        den = eta * b + eps                  # must be > 0
        num = delta * eta * a
        q   = sgn(num) * ((|num| + den // 2) // den)

    i.e. ``num / den`` rounded to the nearest integer, ties away from zero: Deeploy's
    ``Div_s32_s32`` / ``RQDiv_s32_s8`` compute ``(num + sgn(num) * (den >> 1)) / den`` with
    C's truncating division. QuantLib's PACTIntegerDiv writes ``floor(num / den + 0.5)``,
    which rounds ties up instead; the two differ only for a negative ``num`` that is an odd
    multiple of ``den / 2`` (``den`` even).

    * ``delta * eta`` fits int32 (Deeploy forms it in 32 bits; the verifier checks it).
    * Magnitudes: ``|num| <= 2**31 * |a|`` and ``den`` up to ``2**31 * |b|``: int64 in
      general (Deeploy computes both in int64); ``q`` must fit the i32 result.
    """
    a = _i64(a)
    b = _i64(b)
    den = eta * b + eps
    if np.any(den <= 0):
        raise ValueError(f"integer_div: the denominator eta * b + eps reaches {int(den.min())}, must be > 0")
    num = (delta * eta) * a
    num, den = np.broadcast_arrays(num, den)
    return np.sign(num) * ((np.abs(num) + den // 2) // den)


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer MatMul with numpy / ONNX semantics (batch dims broadcast), int64.

    ``out[..., i, j] = sum_k a[..., i, k] * b[..., k, j]``, exact (no
    saturation).  Accumulators reach 1.8e5 on the reference data (static
    worst case 256 * 128 * 128 = 4.2e6, fits int32).
    """
    return np.matmul(_i64(a), _i64(b))


def gemm(
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray | int = 0,
    alpha: int = 1,
    beta: int = 1,
    trans_a: bool = False,
    trans_b: bool = False,
) -> np.ndarray:
    """Integer Gemm: ``alpha * (op(a) @ op(b)) + beta * c``, exact int64.

    ``op`` transposes the 2-D operand when the corresponding flag is set.  The
    ONNX ``alpha`` / ``beta`` attributes are floats holding integers (e.g.
    alpha=2, beta=3 in Kernels/Integer/GEMM/Regular_RQPerRow) and are applied
    exactly; ``c`` broadcasts to the output.  Accumulators reach 2.8e5 on the
    reference data.
    """
    a = _i64(a)
    b = _i64(b)
    if trans_a:
        a = a.T
    if trans_b:
        b = b.T
    return alpha * np.matmul(a, b) + beta * _i64(c)


def add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer Add: plain broadcasting sum, no clamp (sums of two int8 RequantShift
    outputs, or matmul accumulator + bias, keep their full range)."""
    return _i64(a) + _i64(b)


def mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer Mul: plain broadcasting product, no clamp or shift."""
    return _i64(a) * _i64(b)


def clustered_offsets(clusters: np.ndarray, ranks: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Where every token's coefficients start in a clustered embedding's pool, and the
    per-block offsets that are stored (the pool is in token order, token ``t`` holding
    ``ranks[clusters[t]]`` coefficients). Returns (offset per token, offset per block)."""
    per_token = _i64(ranks)[_i64(clusters)]
    starts = np.concatenate([[0], np.cumsum(per_token)[:-1]]).astype(np.int64)
    return starts, starts[::block].copy()


def clustered_embedding(
    ids: np.ndarray,
    clusters: np.ndarray,
    block_offsets: np.ndarray,
    coefficients: np.ndarray,
    bases: np.ndarray,
    ranks: list[int],
    muls: list[int],
    shifts: list[int],
    block: int,
    coef_bits: int,
    lo: int,
    hi: int,
) -> np.ndarray:
    """Clustered low-rank lookup (qtfm.clustered_embedding), for ids already checked to be
    in range and offsets to stay in the pool.

    For token ``t`` of cluster ``c`` with rank ``r``: its coefficients ``a[0..r)`` start at
    ``block_offsets[t // block] + sum(ranks[clusters[u]] for u in [t - t % block, t))``
    (int8 bytes, or int4 nibbles, low nibble of a byte first, sign-extended); the basis rows
    of cluster ``c`` start at ``sum(ranks[:c])``;
    ``acc[j] = sum_k a[k] * bases[base + k, j]`` (exact, fits int32) and
    ``out[j] = clamp((acc[j] * muls[c] + round) >> shifts[c], lo, hi)`` with
    ``round = 2**(shifts[c] - 1)`` (0 when the shift is 0)."""
    ids = _i64(ids)
    clusters, rank_of = _i64(clusters), _i64(np.asarray(ranks))
    flat = ids.reshape(-1)
    dim = bases.shape[1]
    out = np.zeros((flat.size, dim), dtype=np.int64)
    per_token = rank_of[clusters]
    base_row = np.concatenate([[0], np.cumsum(rank_of)[:-1]])
    pool = coefficient_values(coefficients, coef_bits)
    b64 = _i64(bases)
    for i, t in enumerate(flat):
        start = int(t) - int(t) % block
        off = int(block_offsets[int(t) // block]) + int(per_token[start : int(t)].sum())
        c = int(clusters[t])
        r = int(rank_of[c])
        acc = pool[off : off + r] @ b64[base_row[c] : base_row[c] + r]
        s = int(shifts[c])
        rounding = (1 << (s - 1)) if s > 0 else 0
        out[i] = np.clip((acc * int(muls[c]) + rounding) >> s, lo, hi)
    return out.reshape(*ids.shape, dim)


def coefficient_values(coefficients: np.ndarray, coef_bits: int) -> np.ndarray:
    """The pool of a clustered embedding as int64 values: bytes as int8, or with
    ``coef_bits = 4`` two sign-extended nibbles per byte, the low nibble first."""
    raw = _i64(coefficients)
    if coef_bits == 8:
        return raw
    u = raw & 0xFF
    nibbles = np.stack([u & 0xF, u >> 4], axis=1).reshape(-1)
    return np.where(nibbles >= 8, nibbles - 16, nibbles)


def pack_int4(values: np.ndarray) -> np.ndarray:
    """int4 values in [-8, 7] packed two per byte (low nibble first) as int8; an odd count
    is padded with a zero nibble."""
    v = _i64(values)
    if v.size and (v.min() < -8 or v.max() > 7):
        raise ValueError(f"int4 values must be in [-8, 7], got [{v.min()}, {v.max()}]")
    if v.size % 2:
        v = np.concatenate([v, [0]])
    pairs = (v & 0xF).reshape(-1, 2)
    return (pairs[:, 0] | (pairs[:, 1] << 4)).astype(np.uint8).view(np.int8)
