"""Integer emission of the blocks that patterns.py recognises (a mixin of the Quantizer).

- linear: int8 weights per output channel; a per-channel input scale is folded into the
  weight rows before they are quantized;
- norms: `qtfm.layernorm` / `qtfm.rmsnorm` on the int16 residual stream, gamma and beta
  divided by the (per-channel) output scale as fixed-point weights;
- softmax: Q.K^T requantized to int16 scores (the 1/sqrt(d) folded into the multiplier), the
  I-BERT exp polynomial fitted to the score scale, the attention mask applied exactly;
- activation functions: f = L + g with L one of 0, relu(x) or x, chosen so that g is
  constant outside the smallest interval [-T, T]; g is a 256-entry table on x clamped to
  [-T, T], L is computed exactly from the int16 input (so GELU, SiLU and tanh keep int16
  precision where it matters and the table only covers the curved part);
- rotary embeddings: x*cos + swap_halves(x)*sin' with the rotate_half sign folded into sin';
- masked mean pooling: `qtfm.mean` over the tokens the input mask keeps.
"""

from __future__ import annotations

import math

import numpy as np
from xdsl.dialects.builtin import IntegerAttr, IntegerType, i32
from xdsl.ir import SSAValue

from compiler.frontend.patterns import Block
from compiler.frontend.ptq_core import (
    ACCUMULATOR_16X8_K,
    I8,
    QTensor,
    QuantizerCore,
    Scale,
    qmax,
    signed_type,
)
from compiler.frontend.qtfm_builder import levels_type, tensor
from dialects import qtfm

NORM_SHIFT = 16


class BlockEmitters(QuantizerCore):
    # -- linear -------------------------------------------------------------------------------

    def block_linear(self, block: Block) -> QTensor:
        node = block.nodes[0]
        x = self.get(block.inputs[0], node)
        if x.scale is None:
            raise self.unsupported(node, "a linear layer on integer (unscaled) data")
        w: np.ndarray = block.params["weight"]  # type: ignore[assignment]
        bias: np.ndarray | None = block.params["bias"]  # type: ignore[assignment]
        folded = w * np.asarray(x.scale, np.float64).reshape(-1, 1) if x.per_channel else w
        absmax = np.abs(folded).max(axis=0)
        s_w = np.where(absmax > 0, absmax / 127.0, 1.0)
        w_q = np.clip(np.round(folded / s_w), -127, 127).astype(np.int64)
        name = node.inputs[1]
        operands: list[SSAValue | None] = [x.value, self.weight(name, w_q, I8), None]
        acc_scale = s_w if x.per_channel else float(x.scale) * s_w  # type: ignore[arg-type]
        if bias is not None:
            b_q = np.round(bias / acc_scale)
            if np.abs(b_q).max() >= 2**31:
                raise self.unsupported(node, "the bias does not fit int32 at the accumulator scale")
            operands[2] = self.weight(f"{name}.bias", b_q.astype(np.int64), IntegerType(32))
        s_y, bits = self.out_scale(block.output, node)
        shape = (*x.shape[:-1], w.shape[1])
        k = w.shape[0]
        if x.bits > 8 and k > ACCUMULATOR_16X8_K:
            return self._split_linear(x, w_q, operands[2], acc_scale, s_y, bits, name)
        attr = self.requant_attr(acc_scale / np.asarray(s_y, np.float64), bits, len(shape))
        op = qtfm.LinearOp.build(
            operands=operands, result_types=[tensor(shape, signed_type(bits))], properties={"requant": attr}
        )
        return QTensor(self.b.add(op), s_y)

    def _split_linear(
        self,
        x: QTensor,
        w_q: np.ndarray,
        bias: SSAValue | None,
        acc_scale: np.ndarray,
        s_y: Scale,
        bits: int,
        name: str,
    ) -> QTensor:
        """A 16x8 linear layer whose reduction is too long for one int32 accumulator: the
        reduction is cut into parts that each fit, every partial sum is rescaled to a scale
        2^8 finer than the result, and the parts are added."""
        k, n = w_q.shape
        parts = -(-k // ACCUMULATOR_16X8_K)
        step = -(-k // parts)
        s_c = float(np.min(s_y)) / (1 << 8)
        lead = list(x.shape[:-1])
        total: SSAValue | None = None
        for i, start in enumerate(range(0, k, step)):
            size = min(step, k - start)
            xs = self.slice(x, [0] * len(lead) + [start], [*lead, size])
            ws = self.weight(f"{name}.k{start}", w_q[start : start + size], I8)
            attr = self.requant_attr(acc_scale / s_c, 32, len(lead) + 1, levels=1 << 32)
            part = self.b.add(
                qtfm.LinearOp.build(
                    operands=[xs.value, ws, bias if i == 0 else None],
                    result_types=[tensor([*lead, n], i32)],
                    properties={"requant": attr},
                )
            )
            total = (
                part
                if total is None
                else self.b.add(
                    qtfm.AddOp.build(operands=[total, part], result_types=[tensor([*lead, n], i32)])
                )
            )
        assert total is not None
        attr = self.requant_attr(s_c / np.asarray(s_y, np.float64), bits, len(lead) + 1)
        out = self.b.add(
            qtfm.RequantOp.build(
                operands=[total],
                result_types=[tensor([*lead, n], signed_type(bits))],
                properties={"params": attr},
            )
        )
        return QTensor(out, s_y)

    # -- norms --------------------------------------------------------------------------------

    def _norm(self, block: Block, with_bias: bool) -> QTensor:
        node = block.nodes[0]
        x = self.scaled(block.inputs[0], node, "a norm")
        if x.bits > 16:
            x = self.requant(x, float(self.scale_of(block.inputs[0], 16)), 16)
        s_y, bits = self.out_scale(block.output, node)
        s = np.broadcast_to(np.asarray(s_y, np.float64), (x.shape[-1],))
        gamma = np.asarray(block.params["gamma"], np.float64) / s
        beta = np.asarray(block.params["beta"], np.float64) / s if with_bias else np.zeros_like(gamma)
        shift = NORM_SHIFT
        while shift > 0 and max(np.abs(gamma).max(), np.abs(beta).max()) * 2.0**shift >= 2**30:
            shift -= 1
        wv = self.weight(
            f"{block.output}.gamma", np.round(gamma * 2.0**shift).astype(np.int64), IntegerType(32)
        )
        out = tensor(x.shape, signed_type(bits))
        if with_bias:
            bv = self.weight(
                f"{block.output}.beta", np.round(beta * 2.0**shift).astype(np.int64), IntegerType(32)
            )
            op = qtfm.LayerNormOp.build(
                operands=[x.value, wv, bv],
                result_types=[out],
                properties={"params": qtfm.LayerNormAttr.get(shift=shift, levels=1 << bits)},
            )
        else:
            op = qtfm.RMSNormOp.build(
                operands=[x.value, wv],
                result_types=[out],
                properties={"params": qtfm.RMSNormAttr.get(shift=shift, levels=1 << bits)},
            )
        return QTensor(self.b.add(op), s_y)

    def block_layernorm(self, block: Block) -> QTensor:
        return self._norm(block, with_bias=True)

    def block_rmsnorm(self, block: Block) -> QTensor:
        return self._norm(block, with_bias=False)

    # -- attention ----------------------------------------------------------------------------

    def block_softmax(self, block: Block) -> QTensor:
        node = block.nodes[0]
        alpha: float = block.params["alpha"]  # type: ignore[assignment]
        s_in = float(self.scale_of(block.params["scores"], 16, node))  # type: ignore[arg-type]
        if len(block.inputs) == 2:
            q, k = (self.scaled(t, node, "attention scores") for t in block.inputs)
            shape = qtfm.matmul_shape(q.shape, k.shape)
            assert shape is not None
            attr = self.requant_attr(float(q.scale) * float(k.scale) * alpha / s_in, 16, len(shape))  # type: ignore[arg-type]
            v = self.b.add(
                qtfm.MatmulOp.build(
                    operands=[q.value, k.value],
                    result_types=[tensor(shape, IntegerType(16))],
                    properties={"requant": attr},
                )
            )
            scores = QTensor(v, s_in)
        else:
            scores = self.requant(self.scaled(block.inputs[0], node, "softmax"), s_in, 16, factor=alpha)
        log2 = math.floor(math.log(2) / s_in)
        if log2 < 1:
            raise self.unsupported(node, "attention scores span too wide a range for the integer softmax")
        levels = self._probability_levels(scores.shape[-1])
        params = qtfm.SoftmaxAttr.get(
            coeff_a=1,
            coeff_b=math.floor(1.353 / s_in),
            coeff_c=math.floor(0.344 / (0.3585 * s_in * s_in)),
            log2=log2,
            levels=levels,
        )
        mask = self._mask_operand(block)
        out = tensor(scores.shape, levels_type(levels, False))
        v = self.b.add(
            qtfm.SoftmaxOp.build(
                operands=[scores.value, mask], result_types=[out], properties={"params": params}
            )
        )
        return QTensor(v, 1.0 / (levels - 1))

    @staticmethod
    def _probability_levels(keys: int) -> int:
        """Levels of the attention probabilities: 16 bits where P.V (probabilities times int8
        values, summed over the keys) cannot overflow its int32 accumulator, fewer for long
        rows."""
        levels = 1 << 16
        while levels > 256 and (levels - 1) * 128 * keys >= 2**31:
            levels >>= 1
        return levels

    def _mask_operand(self, block: Block) -> SSAValue | None:
        mask: str | None = block.params["mask"]  # type: ignore[assignment]
        if mask is None:
            return None
        node = block.nodes[0]
        c = self.g.const(mask)
        if c is not None:
            keep = np.abs(c) < 1e-6
            if not np.all(keep | (c <= -1e3)):
                raise self.unsupported(
                    node,
                    "the additive attention bias is not a mask (values other than 0 and large negatives)",
                )
            return self.weight(f"{mask}.keep", keep.astype(np.int64), I8)
        return self._input_mask(node, mask, lambda v, t: np.where(t != 0, np.abs(v) < 1e-6, v <= -1e3))

    def _input_mask(self, node, mask: str, agrees) -> SSAValue:  # noqa: ANN001
        """The graph input a mask is computed from, reshaped to the mask's shape, after
        checking on probes that the computation only marks kept and masked positions."""
        cone, sources = self.cone(mask)
        if len(sources) != 1:
            raise self.unsupported(node, f"the mask depends on {len(sources)} inputs")
        src = sources[0]
        src_shape = self.g.shapes[src]
        m_shape = self.g.shapes.get(mask)
        if m_shape is None or int(np.prod(m_shape)) != int(np.prod(src_shape)):
            raise self.unsupported(node, "the mask is not a reshaped function of its input")
        probe = np.random.default_rng(0).integers(0, 2, size=src_shape)
        for trial in (np.ones(src_shape, np.int64), np.zeros(src_shape, np.int64), probe):
            value = self.evaluate(cone, {src: trial}, mask).reshape(src_shape)
            if not np.all(agrees(value, trial)):
                raise self.unsupported(node, "the mask does not keep exactly the positions its input marks")
        v = self.get(src, node)
        if v.shape == tuple(m_shape):
            return v.value
        return self.b.add(
            qtfm.ReshapeOp.build(
                operands=[v.value], result_types=[tensor(m_shape, v.value.type.element_type)]
            )
        )  # type: ignore[attr-defined]

    def block_mean_pool(self, block: Block) -> QTensor:
        node = block.nodes[0]
        x = self.get(block.inputs[0], node)
        axis: int = block.params["axis"]  # type: ignore[assignment]
        mask: str = block.params["mask"]  # type: ignore[assignment]
        lead = x.shape[: axis + 1]
        cone, sources = self.cone(mask)
        if len(sources) != 1 or int(np.prod(self.g.shapes[sources[0]])) != int(np.prod(lead)):
            raise self.unsupported(node, "the pooling mask must be one integer input over the pooled axis")
        src = sources[0]
        probe = np.random.default_rng(0).integers(0, 2, size=self.g.shapes[src])
        for trial in (np.ones_like(probe), np.zeros_like(probe), probe):
            value = self.evaluate(cone, {src: trial}, mask)
            expected = (trial.reshape(lead + (1,) * (value.ndim - len(lead))) != 0).astype(float)
            if value.shape[: len(lead)] != lead or not np.allclose(value, expected):
                raise self.unsupported(node, "the pooling mask is not the input mask broadcast over features")
        source = self.get(src, node)
        m = source.value
        if source.shape != lead:
            m = self.b.add(
                qtfm.ReshapeOp.build(operands=[m], result_types=[tensor(lead, m.type.element_type)])  # type: ignore[attr-defined]
            )
        elem = x.value.type.element_type  # type: ignore[attr-defined]
        shape = x.shape[:axis] + x.shape[axis + 1 :]
        v = self.b.add(
            qtfm.MeanOp.build(
                operands=[x.value, m],
                result_types=[tensor(shape, elem)],
                properties={"axis": IntegerAttr(axis, 64)},
            )
        )
        out = QTensor(v, x.scale)
        if block.params["keepdims"]:
            out = self.reshape(out, self.g.shapes[block.output])  # type: ignore[attr-defined]
        return out

    # -- activation functions -----------------------------------------------------------------

    def block_function(self, block: Block) -> QTensor:
        node = block.nodes[0]
        name = block.inputs[0]
        x = self.scaled(name, node, "an activation function")
        reach = max(self.ranges[name].absmax, float(x.scale) * 2)  # type: ignore[arg-type]
        grid = np.linspace(-reach, reach, 4097)
        f = self.evaluate(block.nodes, {name: grid.astype(np.float32)}, block.output).astype(np.float64)
        if f.shape != grid.shape or not np.all(np.isfinite(f)):
            raise self.unsupported(node, "this activation function cannot be tabulated")
        s_y, bits = self.out_scale(block.output, node)
        tol = float(np.min(s_y)) / 4
        linear, g, t = min(
            (
                (lin, f - part, self._support(grid, f - part, tol))
                for lin, part in (("zero", 0 * grid), ("relu", np.maximum(grid, 0)), ("identity", grid))
            ),
            key=lambda c: c[2],
        )
        t = max(t, float(x.scale) * 8)  # type: ignore[arg-type]
        codes = np.arange(-128, 128) * (t / 127)
        table_real = self.evaluate(block.nodes, {name: codes.astype(np.float32)}, block.output).astype(
            np.float64
        )
        table_real -= {"zero": 0 * codes, "relu": np.maximum(codes, 0), "identity": codes}[linear]
        s_g = max(float(np.abs(table_real).max()), 1e-12) / qmax(16)
        x8 = self.requant(x, t / 127, 8)
        table = self.weight(
            f"{block.output}.table", np.round(table_real / s_g).astype(np.int64), IntegerType(16)
        )
        looked = QTensor(
            self.b.add(
                qtfm.LutOp.build(operands=[x8.value, table], result_types=[tensor(x.shape, IntegerType(16))])
            ),
            s_g,
        )
        if linear == "zero":
            return self.requant(looked, s_y, bits)
        s_c = float(np.min(s_y)) / (1 << 8)
        parts = [self.rescale_to_i32(x, s_c, signed=linear == "identity"), self.rescale_to_i32(looked, s_c)]
        attr = self.requant_attr(s_c / np.asarray(s_y, np.float64), bits, len(x.shape))
        v = self.b.add(
            qtfm.AddOp.build(
                operands=parts,
                result_types=[tensor(x.shape, signed_type(bits))],
                properties={"requant": attr},
            )
        )
        return QTensor(v, s_y)

    @staticmethod
    def _support(grid: np.ndarray, g: np.ndarray, tol: float) -> float:
        """The smallest T such that clamping the input to [-T, T] changes g by <= tol."""
        best = float(np.abs(grid).max())
        for t in np.linspace(0, best, 257)[1:]:
            clamped = np.interp(np.clip(grid, -t, t), grid, g)
            if np.abs(clamped - g).max() <= tol:
                return float(t)
        return best

    # -- rotary embeddings --------------------------------------------------------------------

    def block_rope(self, block: Block) -> QTensor:
        node = block.nodes[0]
        x = self.scaled(block.inputs[0], node, "rotary embedding")
        cos: np.ndarray = block.params["cos"]  # type: ignore[assignment]
        sin: np.ndarray = block.params["sin"]  # type: ignore[assignment]
        d = x.shape[-1]
        sin_signed = np.concatenate([-sin[..., : d // 2], sin[..., d // 2 :]], axis=-1)
        # cos and sin at 16 bits: an int8 table's 1/127 steps would rotate every query and
        # key by a visible error.
        table = qmax(16)
        cq = self.weight(f"{block.output}.cos", np.round(cos * table).astype(np.int64), IntegerType(16))
        sq = self.weight(
            f"{block.output}.sin", np.round(sin_signed * table).astype(np.int64), IntegerType(16)
        )
        half = [*x.shape[:-1], d // 2]
        hi = self.slice(x, [0] * (len(half) - 1) + [d // 2], half)  # type: ignore[attr-defined]
        lo = self.slice(x, [0] * len(half), half)  # type: ignore[attr-defined]
        elem = x.value.type.element_type  # type: ignore[attr-defined]
        swapped = self.b.add(
            qtfm.ConcatOp.build(
                operands=[[hi.value, lo.value]],
                result_types=[tensor(x.shape, elem)],
                properties={"axis": IntegerAttr(len(half) - 1, 64)},
            )
        )
        shape = qtfm.broadcast_shapes(x.shape, cos.shape)
        assert shape is not None
        a = self.b.add(qtfm.MulOp.build(operands=[x.value, cq], result_types=[tensor(shape, i32)]))
        c = self.b.add(qtfm.MulOp.build(operands=[swapped, sq], result_types=[tensor(shape, i32)]))
        s_y, bits = self.out_scale(block.output, node)
        attr = self.requant_attr(float(x.scale) / table / np.asarray(s_y, np.float64), bits, len(shape))  # type: ignore[arg-type]
        v = self.b.add(
            qtfm.AddOp.build(
                operands=[a, c], result_types=[tensor(shape, signed_type(bits))], properties={"requant": attr}
            )
        )
        return QTensor(v, s_y)
