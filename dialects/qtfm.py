"""The `qtfm` dialect: quantized transformer operations on integer tensors.

This is the first IR a model reaches after the ONNX frontend and the one every graph pass
(fusion, integerization, embedding compression, scheduling) works on. Ops take and produce
ranked tensors of integer type; signless `iN` is two's-complement signed, `uiN` is unsigned.
Quantization parameters are dialect attributes (`#qtfm.requant<...>`, `#qtfm.softmax<...>`),
never loose integers, and weights are referenced by name (`qtfm.weight`) from a side file so
that large models stay cheap to parse. The exact integer semantics of every op are defined in
docs/quantization.md and implemented by compiler/reference/.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from xdsl.dialects.builtin import (
    I64,
    ArrayAttr,
    DenseArrayBase,
    IntAttr,
    IntegerAttr,
    IntegerType,
    Signedness,
    StringAttr,
    TensorType,
    i64,
)
from xdsl.ir import Attribute, Dialect, Operation, ParametrizedAttribute, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException

# ---------------------------------------------------------------------------------------------
# Type helpers
# ---------------------------------------------------------------------------------------------

IntTensor = TensorType[IntegerType]


def int_range(elem: Attribute) -> tuple[int, int]:
    """The representable [lo, hi] of an integer element type (signless means signed)."""
    if not isinstance(elem, IntegerType):
        raise VerifyException(f"expected an integer element type, got {elem}")
    width = elem.width.data
    if elem.signedness.data == Signedness.UNSIGNED:
        return 0, (1 << width) - 1
    return -(1 << (width - 1)), (1 << (width - 1)) - 1


def _tensor(value: SSAValue | Attribute, what: str) -> TensorType[IntegerType]:
    typ = value.type if isinstance(value, SSAValue) else value
    if not isinstance(typ, TensorType) or not isinstance(typ.element_type, IntegerType):
        raise VerifyException(f"{what} must be a ranked tensor of integers, got {typ}")
    if any(d < 0 for d in typ.get_shape()):
        raise VerifyException(f"{what} must have a static shape, got {typ}")
    return typ


def _shape(value: SSAValue | Attribute, what: str) -> tuple[int, ...]:
    return tuple(_tensor(value, what).get_shape())


def broadcast_shapes(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...] | None:
    """Numpy broadcasting of two static shapes, or None when they do not broadcast."""
    out: list[int] = []
    for i in range(max(len(a), len(b))):
        x = a[len(a) - 1 - i] if i < len(a) else 1
        y = b[len(b) - 1 - i] if i < len(b) else 1
        if x != y and x != 1 and y != 1:
            return None
        out.append(max(x, y))
    return tuple(reversed(out))


ACCUMULATOR = IntegerType(32)


def _require_wide_accumulator(op: Operation, result: SSAValue) -> None:
    elem = _tensor(result, "result").element_type
    if elem != ACCUMULATOR:
        raise VerifyException(
            f"'{op.name}' without requant accumulates into its result, which must be i32, got {elem}"
        )


def _max_width(op: Operation, bits: int, *values: SSAValue) -> None:
    """Values at most `bits` wide: what keeps every intermediate exact in int64 (and the
    C lowering's products in 32 bits); see docs/quantization.md."""
    for v in values:
        what = "result" if v.owner is op else "operand"
        typ = v.type
        if not isinstance(typ, TensorType) or not isinstance(typ.element_type, IntegerType):
            raise VerifyException(f"'{op.name}' {what} must be a ranked tensor of integers, got {typ}")
        if typ.element_type.width.data > bits:
            raise VerifyException(
                f"'{op.name}' {what}s must be at most {bits} bits wide, got {typ.element_type}"
            )


# ---------------------------------------------------------------------------------------------
# Attributes
# ---------------------------------------------------------------------------------------------


def _parse_int_or_list(parser: AttrParser) -> list[int]:
    if parser.parse_optional_punctuation("[") is not None:
        if parser.parse_optional_punctuation("]") is not None:
            return []
        values = [parser.parse_integer()]
        while parser.parse_optional_punctuation(",") is not None:
            values.append(parser.parse_integer())
        parser.parse_punctuation("]")
        return values
    return [parser.parse_integer()]


def _print_int_or_list(printer: Printer, values: Sequence[int]) -> None:
    if len(values) == 1:
        printer.print_string(str(values[0]))
    else:
        printer.print_string("[" + ", ".join(str(v) for v in values) + "]")


def _checked(
    parser: AttrParser, start: int, build: Callable[[], ParametrizedAttribute]
) -> Sequence[Attribute]:
    """Builds a parsed attribute, turning its verifier's complaint into a located error."""
    try:
        return build().parameters
    except VerifyException as err:
        parser.raise_error(str(err), start, parser.pos)


ROUNDING_MODES = ("half_up", "floor")
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


@irdl_attr_definition
class RequantAttr(ParametrizedAttribute):
    """Fixed-point requantization: `clamp((x * mul + add + rnd) >> shift)` to n levels.

    `rnd` is `1 << (shift - 1)` for `rounding = half_up` (the default, Deeploy's
    RequantShift) when `shift > 0`, and 0 for `shift = 0` or `rounding = floor`. `mul` and
    `add` are one value per tensor or one per channel along `axis` (an index into the
    operand's dimensions). The clamp range is
    `[-levels/2, levels/2 - 1]` when signed and `[0, levels - 1]` when unsigned.

    Syntax: `#qtfm.requant<mul = 257, add = 0, shift = 16, levels = 256, signed>` and, per
    channel, `#qtfm.requant<mul = [3, 5], add = [0, -1], shift = 8, levels = 256, unsigned,
    axis = 1>`; `rounding = floor` is printed only when it is not the default.
    """

    name = "qtfm.requant"

    mul: ArrayAttr[IntAttr]
    add: ArrayAttr[IntAttr]
    shift: IntAttr
    levels: IntAttr
    signed: IntAttr
    axis: IntAttr
    """The channel axis, or -1 for per-tensor parameters."""
    rounding: StringAttr

    @staticmethod
    def get(
        mul: int | Sequence[int],
        add: int | Sequence[int],
        shift: int,
        levels: int = 256,
        signed: bool = True,
        axis: int | None = None,
        rounding: str = "half_up",
    ) -> RequantAttr:
        muls = [mul] if isinstance(mul, int) else list(mul)
        adds = [add] if isinstance(add, int) else list(add)
        return RequantAttr(
            ArrayAttr(IntAttr(int(v)) for v in muls),
            ArrayAttr(IntAttr(int(v)) for v in adds),
            IntAttr(int(shift)),
            IntAttr(int(levels)),
            IntAttr(1 if signed else 0),
            IntAttr(-1 if axis is None else int(axis)),
            StringAttr(rounding),
        )

    @property
    def muls(self) -> list[int]:
        return [v.data for v in self.mul.data]

    @property
    def adds(self) -> list[int]:
        return [v.data for v in self.add.data]

    @property
    def is_signed(self) -> bool:
        return bool(self.signed.data)

    @property
    def channel_axis(self) -> int | None:
        return None if self.axis.data < 0 else self.axis.data

    def clamp_range(self) -> tuple[int, int]:
        n = self.levels.data
        return (-(n // 2), n // 2 - 1) if self.is_signed else (0, n - 1)

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        start = parser.pos
        with parser.in_angle_brackets():
            parser.parse_keyword("mul")
            parser.parse_punctuation("=")
            mul = _parse_int_or_list(parser)
            parser.parse_punctuation(",")
            parser.parse_keyword("add")
            parser.parse_punctuation("=")
            add = _parse_int_or_list(parser)
            parser.parse_punctuation(",")
            parser.parse_keyword("shift")
            parser.parse_punctuation("=")
            shift = parser.parse_integer()
            parser.parse_punctuation(",")
            parser.parse_keyword("levels")
            parser.parse_punctuation("=")
            levels = parser.parse_integer()
            parser.parse_punctuation(",")
            signed = parser.parse_optional_keyword("signed") is not None
            if not signed and parser.parse_optional_keyword("unsigned") is None:
                parser.raise_error("expected `signed` or `unsigned`")
            axis, rounding = -1, "half_up"
            while parser.parse_optional_punctuation(",") is not None:
                if parser.parse_optional_keyword("axis") is not None:
                    parser.parse_punctuation("=")
                    axis = parser.parse_integer(allow_negative=False)
                else:
                    if parser.parse_optional_keyword("rounding") is None:
                        parser.raise_error("expected `axis` or `rounding`")
                    parser.parse_punctuation("=")
                    rounding = parser.parse_identifier()
        return _checked(
            parser, start, lambda: RequantAttr.get(mul, add, shift, levels, signed, axis, rounding)
        )

    def print_parameters(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            printer.print_string("mul = ")
            _print_int_or_list(printer, self.muls)
            printer.print_string(", add = ")
            _print_int_or_list(printer, self.adds)
            printer.print_string(f", shift = {self.shift.data}, levels = {self.levels.data}, ")
            printer.print_string("signed" if self.is_signed else "unsigned")
            if self.channel_axis is not None:
                printer.print_string(f", axis = {self.channel_axis}")
            if self.rounding.data != "half_up":
                printer.print_string(f", rounding = {self.rounding.data}")

    def verify(self) -> None:
        muls, adds = self.muls, self.adds
        if not muls or not adds:
            raise VerifyException("#qtfm.requant needs at least one `mul` and one `add`")
        if not 0 <= self.shift.data <= 62:
            raise VerifyException(
                f"#qtfm.requant shift must be in [0, 62] (a right shift), got {self.shift.data}"
            )
        if self.levels.data < 2:
            raise VerifyException(f"#qtfm.requant levels must be >= 2, got {self.levels.data}")
        if self.rounding.data not in ROUNDING_MODES:
            raise VerifyException(
                f"#qtfm.requant rounding must be one of {', '.join(ROUNDING_MODES)}, "
                f"got '{self.rounding.data}'"
            )
        for what, values in (("mul", muls), ("add", adds)):
            bad = [v for v in values if not INT32_MIN <= v <= INT32_MAX]
            if bad:
                raise VerifyException(f"#qtfm.requant {what} {bad[0]} does not fit in int32")
        per_channel = len(muls) > 1 or len(adds) > 1
        if per_channel and self.channel_axis is None:
            raise VerifyException("#qtfm.requant with several `mul`/`add` values needs `axis`")
        if len(muls) > 1 and len(adds) > 1 and len(muls) != len(adds):
            raise VerifyException(f"#qtfm.requant has {len(muls)} multipliers but {len(adds)} offsets")

    def channels(self) -> int:
        return max(len(self.mul.data), len(self.add.data))

    def verify_for(self, op: Operation, operand_shape: Sequence[int], result: SSAValue) -> None:
        """Checks the attribute against the tensor it requantizes and the result type."""
        axis = self.channel_axis
        if axis is not None:
            if axis >= len(operand_shape):
                raise VerifyException(
                    f"'{op.name}' requant axis {axis} is out of range for rank {len(operand_shape)}"
                )
            if self.channels() not in (1, operand_shape[axis]):
                raise VerifyException(
                    f"'{op.name}' requant has {self.channels()} channels but dimension {axis} "
                    f"has size {operand_shape[axis]}"
                )
        lo, hi = self.clamp_range()
        tlo, thi = int_range(_tensor(result, "result").element_type)
        if lo < tlo or hi > thi:
            raise VerifyException(
                f"'{op.name}' requant clamps to [{lo}, {hi}], which does not fit the result "
                f"element type {_tensor(result, 'result').element_type} ([{tlo}, {thi}])"
            )


class _IntRecordAttr(ParametrizedAttribute):
    """An attribute that is a fixed, ordered record of named integers: `<a = 1, b = 2>`.

    Subclasses list their fields as `IntAttr` annotations and add range checks in
    `check()`; parsing, printing and construction from keywords are shared.
    """

    FIELDS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def get(cls, **values: int):  # noqa: ANN206
        missing = [f for f in cls.FIELDS if f not in values]
        if missing:
            raise ValueError(f"#{cls.name} is missing {', '.join(missing)}")
        return cls(*(IntAttr(int(values[f])) for f in cls.FIELDS))

    def value(self, field: str) -> int:
        return getattr(self, field).data

    def as_dict(self) -> dict[str, int]:
        return {f: self.value(f) for f in self.FIELDS}

    @classmethod
    def parse_parameters(cls, parser: AttrParser) -> Sequence[Attribute]:
        start = parser.pos
        values: list[Attribute] = []
        with parser.in_angle_brackets():
            for i, field in enumerate(cls.FIELDS):
                if i:
                    parser.parse_punctuation(",")
                parser.parse_keyword(field)
                parser.parse_punctuation("=")
                values.append(IntAttr(parser.parse_integer()))
        return _checked(parser, start, lambda: cls.new(values))

    def print_parameters(self, printer: Printer) -> None:
        printer.print_string("<" + ", ".join(f"{f} = {self.value(f)}" for f in self.FIELDS) + ">")

    def verify(self) -> None:
        self.check(self.as_dict())

    def check(self, v: dict[str, int]) -> None:
        pass

    def _positive(self, v: dict[str, int], *names: str) -> None:
        for name in names:
            if v[name] <= 0:
                raise VerifyException(f"#{self.name} {name} must be positive, got {v[name]}")

    def _in_range(self, v: dict[str, int], lo: int, hi: int, *names: str) -> None:
        for name in names:
            if not lo <= v[name] <= hi:
                raise VerifyException(f"#{self.name} {name} must be in [{lo}, {hi}], got {v[name]}")


def _levels_ok(attr: _IntRecordAttr, levels: int) -> None:
    if levels < 2:
        raise VerifyException(f"#{attr.name} levels must be >= 2, got {levels}")


@irdl_attr_definition
class SoftmaxAttr(_IntRecordAttr):
    """I-BERT integer softmax parameters (Deeploy's iSoftmax): the second-order polynomial
    `coeff_a * (p + coeff_b)^2 + coeff_c` approximates exp(p) on (-log2, 0], where `log2`
    is ln 2 in the input's units; the result has `levels` levels."""

    name = "qtfm.softmax"
    FIELDS = ("coeff_a", "coeff_b", "coeff_c", "log2", "levels")
    coeff_a: IntAttr
    coeff_b: IntAttr
    coeff_c: IntAttr
    log2: IntAttr
    levels: IntAttr

    def check(self, v: dict[str, int]) -> None:
        self._positive(v, "coeff_a", "log2")
        self._in_range(v, 0, INT32_MAX, "coeff_a", "coeff_b", "coeff_c", "log2")
        _levels_ok(self, v["levels"])
        if v["levels"] > 1 << 16:
            raise VerifyException(f"#qtfm.softmax levels must be <= 65536, got {v['levels']}")
        if v["coeff_a"] * v["coeff_b"] ** 2 + v["coeff_c"] <= 0:
            raise VerifyException(
                "#qtfm.softmax needs coeff_a * coeff_b^2 + coeff_c > 0 (exp(0) must be positive)"
            )

    def max_exp(self) -> int:
        """The largest value of the exp polynomial (at the row maximum, p = 0)."""
        v = self.as_dict()
        return v["coeff_a"] * (v["log2"] + v["coeff_b"]) ** 2 + v["coeff_c"]


@irdl_attr_definition
class RMSNormAttr(_IntRecordAttr):
    """Integer RMSNorm parameters (Deeploy's iRMSNorm): the weighted, normalised value is
    shifted right by `shift` (log2 of D) and clamped to `levels` signed levels."""

    name = "qtfm.rmsnorm"
    FIELDS = ("shift", "levels")
    shift: IntAttr
    levels: IntAttr

    def check(self, v: dict[str, int]) -> None:
        if not 0 <= v["shift"] <= 62:
            raise VerifyException(f"#qtfm.rmsnorm shift must be in [0, 62], got {v['shift']}")
        _levels_ok(self, v["levels"])


@irdl_attr_definition
class LayerNormAttr(_IntRecordAttr):
    """Integer LayerNorm parameters: after centring, scaling by the integer standard deviation
    and adding the bias, the value is shifted right by `shift` and clamped to `levels` signed
    levels."""

    name = "qtfm.layernorm"
    FIELDS = ("shift", "levels")
    shift: IntAttr
    levels: IntAttr

    def check(self, v: dict[str, int]) -> None:
        if not 0 <= v["shift"] <= 62:
            raise VerifyException(f"#qtfm.layernorm shift must be in [0, 62], got {v['shift']}")
        _levels_ok(self, v["levels"])


@irdl_attr_definition
class HardswishAttr(_IntRecordAttr):
    """Integer hardswish parameters (Deeploy's iHardswish), in the input's units: `three` and
    `six` are 3 and 6 quantized, `one_over_six` is 1/6 as a fixed-point multiplier."""

    name = "qtfm.hardswish"
    FIELDS = ("one_over_six", "six", "three")
    one_over_six: IntAttr
    six: IntAttr
    three: IntAttr

    def check(self, v: dict[str, int]) -> None:
        self._in_range(v, 1, (1 << 16) - 1, "one_over_six", "six")
        self._in_range(v, 0, (1 << 16) - 1, "three")


@irdl_attr_definition
class GeluAttr(_IntRecordAttr):
    """I-BERT integer GELU (i-GELU) parameters: `b` is -1.769 in the input's units after
    dividing by sqrt(2), `one` is 1 at the polynomial's output scale."""

    name = "qtfm.gelu"
    FIELDS = ("b", "one")
    b: IntAttr
    one: IntAttr

    def check(self, v: dict[str, int]) -> None:
        self._in_range(v, -(1 << 15), -1, "b")
        self._in_range(v, 1, INT32_MAX, "one")


@irdl_attr_definition
class DivAttr(_IntRecordAttr):
    """QuantLib's TrueIntegerDiv parameters: divide by the integer `y` as a multiplication
    by a fixed-point reciprocal with `delta` (a power of two) as its scale; `eta` and `eps`
    are the reciprocal's rounding parameters."""

    name = "qtfm.div"
    FIELDS = ("delta", "eps", "eta", "y")
    delta: IntAttr
    eps: IntAttr
    eta: IntAttr
    y: IntAttr

    def check(self, v: dict[str, int]) -> None:
        self._in_range(v, 1, INT32_MAX, "delta", "eta")
        self._in_range(v, INT32_MIN, INT32_MAX, "eps", "y")
        if v["delta"] & (v["delta"] - 1):
            raise VerifyException(f"#qtfm.div delta must be a power of two, got {v['delta']}")
        if v["y"] * v["eta"] + v["eps"] <= 0:
            raise VerifyException("#qtfm.div needs y * eta + eps > 0")
        if not self.multiplier() <= INT32_MAX:
            raise VerifyException(f"#qtfm.div multiplier {self.multiplier()} does not fit int32")

    def multiplier(self) -> int:
        """The constant the input is multiplied by: floor(delta * eta / (y * eta + eps))."""
        v = self.as_dict()
        return (v["delta"] * v["eta"]) // (v["y"] * v["eta"] + v["eps"])


@irdl_attr_definition
class IntDivAttr(_IntRecordAttr):
    """QuantLib's IntegerDiv parameters (tensor by tensor): the quotient
    `delta * eta * a / (eta * b + eps)` is rounded to the nearest integer, ties away from
    zero. `delta` is the output scale, `eta` and `eps` stabilise the denominator. The
    product `delta * eta` must fit int32 (Deeploy's kernel forms it in 32 bits)."""

    name = "qtfm.int_div"
    FIELDS = ("delta", "eps", "eta")
    delta: IntAttr
    eps: IntAttr
    eta: IntAttr

    def check(self, v: dict[str, int]) -> None:
        self._in_range(v, 1, INT32_MAX, "delta", "eta")
        self._in_range(v, INT32_MIN, INT32_MAX, "eps")
        if v["delta"] * v["eta"] > INT32_MAX:
            raise VerifyException(f"#qtfm.int_div delta * eta = {v['delta'] * v['eta']} does not fit int32")


# ---------------------------------------------------------------------------------------------
# Operations
# ---------------------------------------------------------------------------------------------


class _QtfmOp(IRDLOperation):
    irdl_options = (ParsePropInAttrDict(),)

    def verify_(self) -> None:
        for name in self.properties:
            if name in self.attributes:
                raise VerifyException(f"'{self.name}' has '{name}' both as a property and as an attribute")
        stray = [n for n in self.attributes if n in type(self).get_irdl_definition().properties]
        if stray:
            raise VerifyException(
                f"'{self.name}' takes '{stray[0]}' as a property (custom syntax or <{{...}}>), "
                "not in the attribute dictionary"
            )
        _max_width(self, 32, *self.operands, *self.results)
        self.verify_op()

    def verify_op(self) -> None:
        pass


@irdl_op_definition
class WeightOp(_QtfmOp):
    """A constant tensor stored outside the IR, by name, in the module's weight file.

    The enclosing module names the file with `qtfm.weights = "file.npz"` (a path relative to
    the IR file); big tensors never appear inline. `%w = qtfm.weight "l0.wq" : tensor<64x64xi8>`
    """

    name = "qtfm.weight"
    sym = prop_def(StringAttr)
    result = result_def(IntTensor)
    traits = traits_def(Pure())
    assembly_format = "$sym attr-dict `:` type($result)"

    def __init__(self, name: str, typ: Attribute) -> None:
        super().__init__(properties={"sym": StringAttr(name)}, result_types=[typ])

    def verify_op(self) -> None:
        _tensor(self.result, "weight")
        if not self.sym.data:
            raise VerifyException("'qtfm.weight' needs a non-empty name")


@irdl_op_definition
class EmbeddingOp(_QtfmOp):
    """Row lookup: `out[i..., :] = table[ids[i...], :]`. Ids out of range are an error."""

    name = "qtfm.embedding"
    table = operand_def(IntTensor)
    ids = operand_def(IntTensor)
    result = result_def(IntTensor)
    traits = traits_def(Pure())
    assembly_format = "$table `[` $ids `]` attr-dict `:` functional-type(operands, results)"

    def verify_op(self) -> None:
        table = _shape(self.table, "table")
        ids = _shape(self.ids, "ids")
        if len(table) != 2:
            raise VerifyException(f"'qtfm.embedding' table must be 2-D, got shape {table}")
        expected = (*ids, table[1])
        if _shape(self.result, "result") != expected:
            raise VerifyException(
                f"'qtfm.embedding' result shape must be {expected}, got {_shape(self.result, 'result')}"
            )
        if self.result.type.element_type != self.table.type.element_type:
            raise VerifyException("'qtfm.embedding' result element type must match the table")


@irdl_op_definition
class ClusteredEmbeddingOp(_QtfmOp):
    """Clustered low-rank row lookup (MCUBERT's compressed embedding table).

    Token `t` belongs to cluster `c = clusters[t]` of rank `r = ranks[c]`; its `r`
    coefficients sit in the `coefficients` pool at `block_offsets[t // block]` plus the ranks
    of the tokens before it in its block; its row is their product with cluster `c`'s basis
    rows in `bases`, requantized with the cluster's `muls[c]` and `shifts[c]`. Coefficients
    are int8, or int4 packed two per byte (low nibble first) when `coef_bits = 4`. The exact
    semantics are in docs/quantization.md.

    `%e = qtfm.clustered_embedding %ids, %clusters, %offsets, %coefficients, %bases
            {block = 64 : i64, coef_bits = 8 : i64, ranks = array<i64: 3, 5>,
             muls = array<i64: 1234, 987>, shifts = array<i64: 20, 19>} : (...) -> tensor<1x8x64xi8>`
    """

    name = "qtfm.clustered_embedding"
    ids = operand_def(IntTensor)
    clusters = operand_def(IntTensor)
    block_offsets = operand_def(IntTensor)
    coefficients = operand_def(IntTensor)
    bases = operand_def(IntTensor)
    ranks = prop_def(DenseArrayBase)
    muls = prop_def(DenseArrayBase)
    shifts = prop_def(DenseArrayBase)
    block = prop_def(IntegerAttr[I64])
    coef_bits = prop_def(IntegerAttr[I64])
    result = result_def(IntTensor)
    traits = traits_def(Pure())
    assembly_format = (
        "$ids `,` $clusters `,` $block_offsets `,` $coefficients `,` $bases attr-dict `:` "
        "functional-type(operands, results)"
    )

    def cluster_ranks(self) -> list[int]:
        return [int(v) for v in self.ranks.get_values()]

    def verify_op(self) -> None:
        ranks = self.cluster_ranks()
        muls, shifts = list(self.muls.get_values()), list(self.shifts.get_values())
        where = "'qtfm.clustered_embedding'"
        if not ranks or not len(ranks) == len(muls) == len(shifts):
            raise VerifyException(
                f"{where} needs one rank, mul and shift per cluster, got {len(ranks)} ranks, "
                f"{len(muls)} muls and {len(shifts)} shifts"
            )
        bases = _shape(self.bases, "bases")
        if len(bases) != 2 or bases[0] != sum(ranks):
            raise VerifyException(
                f"{where} bases must be (sum of ranks = {sum(ranks)}) x D, got shape {bases}"
            )
        dim = bases[1]
        if any(not 0 <= r <= dim for r in ranks):
            raise VerifyException(f"{where} ranks must be in [0, {dim}], got {ranks}")
        if any(not 0 <= m <= INT32_MAX for m in muls) or any(not 0 <= s <= 62 for s in shifts):
            raise VerifyException(f"{where} muls must be in [0, 2^31) and shifts in [0, 62]")
        clusters = _shape(self.clusters, "clusters")
        if len(clusters) != 1:
            raise VerifyException(f"{where} clusters must be 1-D (one per token), got shape {clusters}")
        celem = self.clusters.type.element_type
        if celem.signedness.data != Signedness.UNSIGNED or celem.width.data > 16:
            raise VerifyException(f"{where} clusters must be ui8 or ui16, got {celem}")
        block, bits = self.block.value.data, self.coef_bits.value.data
        if block < 1 or bits not in (4, 8):
            raise VerifyException(f"{where} needs block >= 1 and coef_bits 4 or 8, got {block} and {bits}")
        blocks = -(-clusters[0] // block)
        if _shape(self.block_offsets, "block_offsets") != (blocks,):
            raise VerifyException(
                f"{where} block_offsets must have one entry per block of {block} tokens ({blocks},), "
                f"got {_shape(self.block_offsets, 'block_offsets')}"
            )
        if self.block_offsets.type.element_type != ACCUMULATOR:
            raise VerifyException(f"{where} block_offsets must be i32")
        if len(_shape(self.coefficients, "coefficients")) != 1:
            raise VerifyException(f"{where} coefficients must be a 1-D pool")
        for v, what in ((self.coefficients, "coefficients"), (self.bases, "bases")):
            if v.type.element_type != IntegerType(8):
                raise VerifyException(f"{where} {what} must be i8, got {v.type.element_type}")
        expected = (*_shape(self.ids, "ids"), dim)
        if _shape(self.result, "result") != expected:
            raise VerifyException(
                f"{where} result shape must be {expected}, got {_shape(self.result, 'result')}"
            )
        _max_width(self, 16, self.result)


def matmul_shape(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...] | None:
    """Numpy matmul result shape for operands of rank >= 2, or None when incompatible."""
    if len(a) < 2 or len(b) < 2 or a[-1] != b[-2]:
        return None
    batch = broadcast_shapes(a[:-2], b[:-2])
    return None if batch is None else (*batch, a[-2], b[-1])


class _AccumulatingOp(_QtfmOp):
    """Ops whose exact integer result is either kept (i32 or wider) or requantized."""

    requant = opt_prop_def(RequantAttr)
    result = result_def(IntTensor)

    def accumulator_shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    def _verify_result(self, shape: tuple[int, ...]) -> None:
        got = _shape(self.result, "result")
        if got != shape:
            raise VerifyException(f"'{self.name}' result shape must be {shape}, got {got}")
        if self.requant is None:
            _require_wide_accumulator(self, self.result)
        else:
            self.requant.verify_for(self, shape, self.result)


@irdl_op_definition
class MatmulOp(_AccumulatingOp):
    """Batched integer matrix product with numpy broadcasting of the batch dimensions;
    products are summed exactly (int32 accumulation on targets) and optionally requantized.

    `%y = qtfm.matmul %a, %b : (tensor<2x16x8xi8>, tensor<2x8x16xi8>) -> tensor<2x16x16xi32>`
    """

    name = "qtfm.matmul"
    lhs = operand_def(IntTensor)
    rhs = operand_def(IntTensor)
    traits = traits_def(Pure())
    assembly_format = (
        "$lhs `,` $rhs (`requant` qualified($requant)^)? attr-dict `:` functional-type(operands, results)"
    )

    def verify_op(self) -> None:
        _max_width(self, 16, self.lhs, self.rhs)
        a, b = _shape(self.lhs, "lhs"), _shape(self.rhs, "rhs")
        shape = matmul_shape(a, b)
        if shape is None:
            raise VerifyException(f"'qtfm.matmul' operand shapes {a} and {b} are incompatible")
        self._verify_result(shape)


@irdl_op_definition
class LinearOp(_AccumulatingOp):
    """A fully connected layer: `x[..., K] @ w[K, N] (+ bias[N])`, exact, then optionally
    requantized. The weight is a constant in K x N layout; the bias is int32.

    `%y = qtfm.linear %x, %w, %b requant #qtfm.requant<...> : (...) -> tensor<16x64xi8>`
    """

    name = "qtfm.linear"
    input = operand_def(IntTensor)
    weight = operand_def(IntTensor)
    bias = opt_operand_def(IntTensor)
    traits = traits_def(Pure())
    assembly_format = (
        "$input `,` $weight (`,` $bias^)? (`requant` qualified($requant)^)? attr-dict `:` "
        "functional-type(operands, results)"
    )

    def verify_op(self) -> None:
        _max_width(self, 16, self.input, self.weight)
        x, w = _shape(self.input, "input"), _shape(self.weight, "weight")
        if len(w) != 2:
            raise VerifyException(f"'qtfm.linear' weight must be 2-D (K x N), got shape {w}")
        if not x or x[-1] != w[0]:
            raise VerifyException(
                f"'qtfm.linear' input's last dimension must equal the weight's K = {w[0]}, "
                f"got input shape {x}"
            )
        if self.bias is not None and _shape(self.bias, "bias") != (w[1],):
            raise VerifyException(
                f"'qtfm.linear' bias must have shape ({w[1]},), got {_shape(self.bias, 'bias')}"
            )
        self._verify_result((*x[:-1], w[1]))


class _ElementwiseBinaryOp(_AccumulatingOp):
    lhs = operand_def(IntTensor)
    rhs = operand_def(IntTensor)
    traits = traits_def(Pure())
    assembly_format = (
        "$lhs `,` $rhs (`requant` qualified($requant)^)? attr-dict `:` functional-type(operands, results)"
    )

    def verify_op(self) -> None:
        a, b = _shape(self.lhs, "lhs"), _shape(self.rhs, "rhs")
        shape = broadcast_shapes(a, b)
        if shape is None:
            raise VerifyException(f"'{self.name}' operand shapes {a} and {b} do not broadcast")
        self._verify_result(shape)


@irdl_op_definition
class AddOp(_ElementwiseBinaryOp):
    """Elementwise exact sum with numpy broadcasting, optionally requantized."""

    name = "qtfm.add"


@irdl_op_definition
class MulOp(_ElementwiseBinaryOp):
    """Elementwise exact product with numpy broadcasting, optionally requantized."""

    name = "qtfm.mul"


class _UnaryOp(_QtfmOp):
    input = operand_def(IntTensor)
    result = result_def(IntTensor)
    traits = traits_def(Pure())

    def _same_shape(self) -> tuple[int, ...]:
        x = _shape(self.input, "input")
        if _shape(self.result, "result") != x:
            raise VerifyException(
                f"'{self.name}' result shape must equal the input shape {x}, got "
                f"{_shape(self.result, 'result')}"
            )
        return x


@irdl_op_definition
class RequantOp(_UnaryOp):
    """`%y = qtfm.requant %x, #qtfm.requant<...> : tensor<16xi32> -> tensor<16xi8>`"""

    name = "qtfm.requant"
    params = prop_def(RequantAttr)
    assembly_format = "$input `,` qualified($params) attr-dict `:` type($input) `->` type($result)"

    def verify_op(self) -> None:
        self.params.verify_for(self, self._same_shape(), self.result)


def _verify_clamped(op: IRDLOperation, levels: int, signed: bool = True) -> None:
    lo, hi = (-(levels // 2), levels // 2 - 1) if signed else (0, levels - 1)
    elem = _tensor(op.results[0], "result").element_type
    tlo, thi = int_range(elem)
    if lo < tlo or hi > thi:
        raise VerifyException(
            f"'{op.name}' produces values in [{lo}, {hi}], which do not fit the result element type {elem}"
        )


@irdl_op_definition
class SoftmaxOp(_QtfmOp):
    """Integer softmax along the last axis (I-BERT / Deeploy iSoftmax); the result is
    unsigned, in [0, levels - 1], with levels - 1 standing for probability 1.

    An optional `mask` (integers broadcastable to the input; non-zero keeps an element)
    removes elements from the row exactly: they take no part in the maximum or the sum and
    their result is 0. This is how attention masks (padding, causal) reach the integer
    program, instead of as large negative additive constants.

    `%p = qtfm.softmax %s, #qtfm.softmax<...> mask(%m : tensor<1x1x1x16xi8>) : ...`
    """

    name = "qtfm.softmax"
    input = operand_def(IntTensor)
    mask = opt_operand_def(IntTensor)
    result = result_def(IntTensor)
    params = prop_def(SoftmaxAttr)
    traits = traits_def(Pure())
    assembly_format = (
        "$input `,` qualified($params) (`mask` `(` $mask^ `:` type($mask) `)`)? attr-dict `:` "
        "type($input) `->` type($result)"
    )

    def verify_op(self) -> None:
        _max_width(self, 16, self.input)
        shape = _shape(self.input, "input")
        if _shape(self.result, "result") != shape:
            raise VerifyException(f"'qtfm.softmax' result shape must equal the input shape {shape}")
        if self.mask is not None and broadcast_shapes(shape, _shape(self.mask, "mask")) != shape:
            raise VerifyException(
                f"'qtfm.softmax' mask shape {_shape(self.mask, 'mask')} does not broadcast to {shape}"
            )
        _verify_clamped(self, self.params.value("levels"), signed=False)
        row = shape[-1] if shape else 1
        if self.params.max_exp() * max(row, self.params.value("levels")) >= 1 << 62:
            raise VerifyException(
                f"'qtfm.softmax' parameters let the exp sum of a {row}-wide row exceed 2^62"
            )


@irdl_op_definition
class LutOp(_QtfmOp):
    """Elementwise table lookup for 8-bit inputs: `y = table[x - lo]`, where `lo` is the
    smallest value of the input type (-128 for i8, 0 for ui8). The table has 256 entries
    and gives the result element type. Any elementwise function of an 8-bit value (tanh,
    sigmoid, exp...) is exact this way and costs one load on a microcontroller.

    `%y = qtfm.lut %x, %table : (tensor<16xi8>, tensor<256xi8>) -> tensor<16xi8>`
    """

    name = "qtfm.lut"
    input = operand_def(IntTensor)
    table = operand_def(IntTensor)
    result = result_def(IntTensor)
    traits = traits_def(Pure())
    assembly_format = "$input `,` $table attr-dict `:` functional-type(operands, results)"

    def verify_op(self) -> None:
        elem = _tensor(self.input, "input").element_type
        if elem.width.data != 8:
            raise VerifyException(f"'qtfm.lut' input must be 8 bits wide, got {elem}")
        if _shape(self.table, "table") != (256,):
            raise VerifyException(
                f"'qtfm.lut' table must have 256 entries, got shape {_shape(self.table, 'table')}"
            )
        if _shape(self.result, "result") != _shape(self.input, "input"):
            raise VerifyException("'qtfm.lut' result shape must equal the input shape")
        _same_element_type(self, self.table)


@irdl_op_definition
class MeanOp(_QtfmOp):
    """Mean along `axis`, rounded half up, optionally over the elements a mask keeps.

    `mask` has the input's leading dimensions up to and including `axis` (e.g. an attention
    mask `[1, L]` for hidden states `[1, L, H]` and `axis = 1`); non-zero keeps. The result
    drops `axis` and has the input's element type; an all-masked mean is 0. This is the
    masked mean pooling of sentence-embedding models.

    `%e = qtfm.mean %h mask(%m : tensor<1x16xi32>) {axis = 1 : i64} : ...`
    """

    name = "qtfm.mean"
    input = operand_def(IntTensor)
    mask = opt_operand_def(IntTensor)
    axis = prop_def(IntegerAttr[I64])
    result = result_def(IntTensor)
    traits = traits_def(Pure())
    assembly_format = (
        "$input (`mask` `(` $mask^ `:` type($mask) `)`)? attr-dict `:` type($input) `->` type($result)"
    )

    def verify_op(self) -> None:
        x = _shape(self.input, "input")
        axis = self.axis.value.data
        if not 0 <= axis < len(x):
            raise VerifyException(f"'qtfm.mean' axis {axis} is out of range for rank {len(x)}")
        expected = x[:axis] + x[axis + 1 :]
        if _shape(self.result, "result") != expected:
            raise VerifyException(
                f"'qtfm.mean' result shape must be {expected}, got {_shape(self.result, 'result')}"
            )
        if self.mask is not None and _shape(self.mask, "mask") != x[: axis + 1]:
            raise VerifyException(
                f"'qtfm.mean' mask shape must be {x[: axis + 1]}, got {_shape(self.mask, 'mask')}"
            )
        _same_element_type(self, self.input)


class _NormOp(_QtfmOp):
    """Norms over the last axis; subclasses declare `input`, `weight` (and `bias`) in order,
    so that operands appear in that order in the syntax."""

    INPUT_BITS: ClassVar[int] = 16

    def _verify_norm(self, levels: int) -> int:
        _max_width(self, self.INPUT_BITS, self.input)
        x = _shape(self.input, "input")
        if not x:
            raise VerifyException(f"'{self.name}' input must have rank >= 1")
        if _shape(self.result, "result") != x:
            raise VerifyException(f"'{self.name}' result shape must equal the input shape {x}")
        for operand, what in ((self.weight, "weight"), *self._extra_vectors()):
            if _shape(operand, what) != (x[-1],):
                raise VerifyException(
                    f"'{self.name}' {what} must have shape ({x[-1]},), got {_shape(operand, what)}"
                )
        _verify_clamped(self, levels)
        return x[-1]

    def _extra_vectors(self) -> list[tuple[SSAValue, str]]:
        return []


@irdl_op_definition
class RMSNormOp(_NormOp):
    """Integer RMSNorm along the last axis (Deeploy iRMSNorm); weight is int32."""

    name = "qtfm.rmsnorm"
    input = operand_def(IntTensor)
    weight = operand_def(IntTensor)
    result = result_def(IntTensor)
    params = prop_def(RMSNormAttr)
    traits = traits_def(Pure())
    assembly_format = (
        "$input `,` $weight `,` qualified($params) attr-dict `:` functional-type(operands, results)"
    )

    def verify_op(self) -> None:
        self._verify_norm(self.params.value("levels"))


class _LayerNormBase(_NormOp):
    """The operands, attribute and syntax shared by the two integer LayerNorms."""

    input = operand_def(IntTensor)
    weight = operand_def(IntTensor)
    bias = operand_def(IntTensor)
    result = result_def(IntTensor)
    params = prop_def(LayerNormAttr)
    traits = traits_def(Pure())
    assembly_format = (
        "$input `,` $weight `,` $bias `,` qualified($params) attr-dict `:` functional-type(operands, results)"
    )

    def _extra_vectors(self) -> list[tuple[SSAValue, str]]:
        return [(self.bias, "bias")]

    def verify_op(self) -> None:
        self._verify_norm(self.params.value("levels"))


@irdl_op_definition
class LayerNormOp(_LayerNormBase):
    """Integer LayerNorm along the last axis; weight and bias are int32."""

    name = "qtfm.layernorm"


@irdl_op_definition
class LayerNormTruncOp(_LayerNormBase):
    """Integer LayerNorm along the last axis with C's truncating divisions (QuantLib /
    Deeploy iLayerNorm): the mean and the normalised product are rounded toward zero, not
    floored as in `qtfm.layernorm`. The input is at most 8 bits wide (Deeploy's
    Layernorm_s8_s8); weight and bias are int32 by convention.

    `%y = qtfm.layernorm_trunc %x, %w, %b, #qtfm.layernorm<shift = 14, levels = 256> : ...`
    """

    name = "qtfm.layernorm_trunc"
    INPUT_BITS: ClassVar[int] = 8


@irdl_op_definition
class ItaSoftmaxOp(_UnaryOp):
    """ITA's integer softmax along the last axis (QuantLib / Deeploy ITAMax, 256 levels):
    exponentials are powers of two, `2^-round(d / 32)` for a distance `d` from the row
    maximum. The input is at most 8 bits wide; the result is unsigned, in [0, 255].

    `%p = qtfm.ita_softmax %s : tensor<1x2x16x16xi8> -> tensor<1x2x16x16xui8>`
    """

    name = "qtfm.ita_softmax"
    assembly_format = "$input attr-dict `:` type($input) `->` type($result)"

    def verify_op(self) -> None:
        _max_width(self, 8, self.input)
        self._same_shape()
        _verify_clamped(self, 256, signed=False)


@irdl_op_definition
class HardswishOp(_UnaryOp):
    """Integer hardswish (Deeploy iHardswish), exact, into an i32 result to be requantized."""

    name = "qtfm.hardswish"
    params = prop_def(HardswishAttr)
    assembly_format = "$input `,` qualified($params) attr-dict `:` type($input) `->` type($result)"

    def verify_op(self) -> None:
        _max_width(self, 16, self.input)
        self._same_shape()
        _require_wide_accumulator(self, self.result)


@irdl_op_definition
class GeluOp(_UnaryOp):
    """Integer GELU (I-BERT i-GELU), exact, into an i32 result to be requantized."""

    name = "qtfm.gelu"
    params = prop_def(GeluAttr)
    assembly_format = "$input `,` qualified($params) attr-dict `:` type($input) `->` type($result)"

    def verify_op(self) -> None:
        _max_width(self, 16, self.input)
        self._same_shape()
        _require_wide_accumulator(self, self.result)


@irdl_op_definition
class DivOp(_UnaryOp):
    """Division by a constant as a fixed-point reciprocal (QuantLib TrueIntegerDiv)."""

    name = "qtfm.div"
    params = prop_def(DivAttr)
    assembly_format = "$input `,` qualified($params) attr-dict `:` type($input) `->` type($result)"

    def verify_op(self) -> None:
        self._same_shape()
        _require_wide_accumulator(self, self.result)


@irdl_op_definition
class IntDivOp(_QtfmOp):
    """Elementwise division of two tensors (QuantLib IntegerDiv), numpy broadcasting:
    `round(delta * eta * lhs / (eta * rhs + eps))`, ties away from zero, into an i32 result
    (usually requantized next). The denominator must be positive.

    `%q = qtfm.int_div %a, %b, #qtfm.int_div<delta = 65536, eps = 1, eta = 7> : (...) -> tensor<...xi32>`
    """

    name = "qtfm.int_div"
    lhs = operand_def(IntTensor)
    rhs = operand_def(IntTensor)
    result = result_def(IntTensor)
    params = prop_def(IntDivAttr)
    traits = traits_def(Pure())
    assembly_format = "$lhs `,` $rhs `,` qualified($params) attr-dict `:` functional-type(operands, results)"

    def verify_op(self) -> None:
        a, b = _shape(self.lhs, "lhs"), _shape(self.rhs, "rhs")
        shape = broadcast_shapes(a, b)
        if shape is None:
            raise VerifyException(f"'qtfm.int_div' operand shapes {a} and {b} do not broadcast")
        got = _shape(self.result, "result")
        if got != shape:
            raise VerifyException(f"'qtfm.int_div' result shape must be {shape}, got {got}")
        _require_wide_accumulator(self, self.result)


def _same_element_type(op: Operation, *values: SSAValue) -> None:
    elem = op.results[0].type.element_type  # type: ignore[attr-defined]
    for v in values:
        if v.type.element_type != elem:  # type: ignore[attr-defined]
            raise VerifyException(
                f"'{op.name}' operand element type {v.type.element_type} must match the "  # type: ignore[attr-defined]
                f"result element type {elem}"
            )


def i64_array(values: Sequence[int]) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, list(values))


@irdl_op_definition
class TransposeOp(_UnaryOp):
    """`result.shape[i] = input.shape[perm[i]]`."""

    name = "qtfm.transpose"
    perm = prop_def(DenseArrayBase)
    assembly_format = "$input `perm` `=` qualified($perm) attr-dict `:` type($input) `->` type($result)"

    def __init__(self, input: SSAValue, perm: Sequence[int], result_type: Attribute) -> None:
        super().__init__(operands=[input], properties={"perm": i64_array(perm)}, result_types=[result_type])

    def verify_op(self) -> None:
        x = _shape(self.input, "input")
        perm = list(self.perm.get_values())
        if sorted(perm) != list(range(len(x))):
            raise VerifyException(f"'qtfm.transpose' perm {perm} is not a permutation of 0..{len(x) - 1}")
        expected = tuple(x[p] for p in perm)
        if _shape(self.result, "result") != expected:
            raise VerifyException(
                f"'qtfm.transpose' result shape must be {expected}, got {_shape(self.result, 'result')}"
            )
        _same_element_type(self, self.input)


@irdl_op_definition
class ReshapeOp(_UnaryOp):
    """Row-major reshape to the static result type; the element count is preserved."""

    name = "qtfm.reshape"
    assembly_format = "$input attr-dict `:` type($input) `->` type($result)"

    def verify_op(self) -> None:
        x, y = _shape(self.input, "input"), _shape(self.result, "result")
        nx = ny = 1
        for d in x:
            nx *= d
        for d in y:
            ny *= d
        if nx != ny:
            raise VerifyException(f"'qtfm.reshape' cannot reshape {nx} elements {x} into {ny} elements {y}")
        _same_element_type(self, self.input)


@irdl_op_definition
class SliceOp(_UnaryOp):
    """Static strided slice: dimension i keeps `starts[i] + k * strides[i]` for
    `k < result.shape[i]`; every index must be in bounds. Strides are positive."""

    name = "qtfm.slice"
    starts = prop_def(DenseArrayBase)
    strides = prop_def(DenseArrayBase)
    assembly_format = (
        "$input `starts` `=` qualified($starts) `strides` `=` qualified($strides) attr-dict `:` "
        "type($input) `->` type($result)"
    )

    def verify_op(self) -> None:
        x, y = _shape(self.input, "input"), _shape(self.result, "result")
        starts, strides = list(self.starts.get_values()), list(self.strides.get_values())
        if not len(x) == len(y) == len(starts) == len(strides):
            raise VerifyException(
                f"'qtfm.slice' needs one start and stride per dimension of the rank-{len(x)} "
                f"input, got {len(starts)} starts, {len(strides)} strides and a rank-{len(y)} "
                "result"
            )
        for i, (n, m, s, st) in enumerate(zip(x, y, starts, strides, strict=True)):
            if st <= 0:
                raise VerifyException(f"'qtfm.slice' stride {st} in dimension {i} must be > 0")
            if s < 0 or (m > 0 and s + (m - 1) * st >= n):
                raise VerifyException(
                    f"'qtfm.slice' dimension {i}: {m} elements from {s} by {st} leave the input's {n}"
                )
        _same_element_type(self, self.input)


@irdl_op_definition
class ConcatOp(_QtfmOp):
    """Concatenation along `axis` (non-negative)."""

    name = "qtfm.concat"
    inputs = var_operand_def(IntTensor)
    axis = prop_def(IntegerAttr[I64])
    result = result_def(IntTensor)
    traits = traits_def(Pure())
    assembly_format = "$inputs attr-dict `:` functional-type(operands, results)"

    def verify_op(self) -> None:
        if not self.inputs:
            raise VerifyException("'qtfm.concat' needs at least one input")
        axis = self.axis.value.data
        shapes = [_shape(v, "input") for v in self.inputs]
        rank = len(shapes[0])
        if not 0 <= axis < rank:
            raise VerifyException(f"'qtfm.concat' axis {axis} is out of range for rank {rank}")
        for s in shapes:
            if len(s) != rank or any(
                d != e for i, (d, e) in enumerate(zip(s, shapes[0], strict=True)) if i != axis
            ):
                raise VerifyException(f"'qtfm.concat' input shapes {shapes} differ outside axis {axis}")
        expected = list(shapes[0])
        expected[axis] = sum(s[axis] for s in shapes)
        if _shape(self.result, "result") != tuple(expected):
            raise VerifyException(
                f"'qtfm.concat' result shape must be {tuple(expected)}, got {_shape(self.result, 'result')}"
            )
        _same_element_type(self, *self.inputs)


@irdl_op_definition
class EmptyOp(_QtfmOp):
    """A tensor whose every element is written (by `qtfm.kv_append` updates) before any is
    read: a buffer without an initial value. The reference interpreter fills it with zeros;
    compiled code leaves its memory as it finds it. Scheduling passes use it to assemble a
    tensor piece by piece in place.

    `%s = qtfm.empty : tensor<1x2x8x64xi16>`
    """

    name = "qtfm.empty"
    result = result_def(IntTensor)
    assembly_format = "attr-dict `:` type($result)"

    def verify_op(self) -> None:
        _tensor(self.result, "result")


@irdl_op_definition
class KVAppendOp(_QtfmOp):
    """Writes `update` into a fixed-capacity cache at position `pos` along `axis`:
    `result = cache` except `result[..., pos:pos+t, ...] = update`. The cache keeps its
    shape, so targets update it in place; `pos + t` beyond the capacity is an error.

    `%k1 = qtfm.kv_append %k0[%pos], %new {axis = 2 : i64} : (...) -> tensor<1x4x128x16xi8>`
    """

    name = "qtfm.kv_append"
    cache = operand_def(IntTensor)
    pos = operand_def(TensorType[IntegerType])
    update = operand_def(IntTensor)
    axis = prop_def(IntegerAttr[I64])
    result = result_def(IntTensor)
    assembly_format = "$cache `[` $pos `]` `,` $update attr-dict `:` functional-type(operands, results)"

    def verify_op(self) -> None:
        cache, update = _shape(self.cache, "cache"), _shape(self.update, "update")
        if _shape(self.pos, "pos") != ():
            raise VerifyException("'qtfm.kv_append' pos must be a 0-d integer tensor")
        axis = self.axis.value.data
        if len(cache) != len(update) or not 0 <= axis < len(cache):
            raise VerifyException(
                f"'qtfm.kv_append' needs cache and update of equal rank and an axis in range, "
                f"got {cache}, {update}, axis {axis}"
            )
        for i, (c, u) in enumerate(zip(cache, update, strict=True)):
            if (i == axis and u > c) or (i != axis and u != c):
                raise VerifyException(
                    f"'qtfm.kv_append' update shape {update} does not fit cache {cache} along axis {axis}"
                )
        if _shape(self.result, "result") != cache:
            raise VerifyException("'qtfm.kv_append' result type must equal the cache type")
        _same_element_type(self, self.cache, self.update)


QTFM = Dialect(
    "qtfm",
    [
        WeightOp,
        EmbeddingOp,
        ClusteredEmbeddingOp,
        MatmulOp,
        LinearOp,
        AddOp,
        MulOp,
        RequantOp,
        SoftmaxOp,
        LutOp,
        MeanOp,
        RMSNormOp,
        LayerNormOp,
        LayerNormTruncOp,
        ItaSoftmaxOp,
        HardswishOp,
        GeluOp,
        DivOp,
        IntDivOp,
        TransposeOp,
        ReshapeOp,
        SliceOp,
        ConcatOp,
        EmptyOp,
        KVAppendOp,
    ],
    [
        RequantAttr,
        SoftmaxAttr,
        RMSNormAttr,
        LayerNormAttr,
        HardswishAttr,
        GeluAttr,
        DivAttr,
        IntDivAttr,
    ],
)
