"""The float ONNX graph of a BERT encoder, node for node as torch.onnx exports HF `BertModel`.

Inputs `input_ids` and `attention_mask` (int64 [1, L]); outputs `last_hidden_state` [1, L, H],
then `pooler_output` [1, H] and/or `sentence_embedding` [1, H] as the config asks. The patterns:

- embeddings: Gather(word table, input_ids) + Gather(token-type table, zeros [1, L]) +
  Gather(position table, position ids), the ids a Slice of the `embeddings.position_ids` buffer
  or a constant, then LayerNorm;
- extended mask: Unsqueeze 1, Unsqueeze 2, Cast to float, Sub(1, m), Mul by -10000 ([1, 1, 1, L]);
- Linear on [1, L, in]: MatMul by an `onnx::MatMul_<n>` [in, out] initializer, then Add bias;
- heads: Reshape [1, L, h, d] (or [1, L, -1, d]), Transpose [0, 2, 1, 3]; K^T by a further
  Transpose [0, 1, 3, 2] (or one Transpose [0, 2, 3, 1]); MatMul, Div by sqrt(d) (or Mul by
  1/sqrt(d)), Add mask, Softmax(-1), MatMul V, Transpose [0, 2, 1, 3], Reshape [1, L, H] (or
  [1, L, -1]);
- LayerNorm: `LayerNormalization` or ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div,
  Mul gamma, Add beta;
- GELU: Div by sqrt(2), Erf, Add 1, Mul x, Mul 0.5;
- pooler: Gather index 0 on axis 1, Gemm (transB=1), Tanh;
- mean pooling (sentence-transformers): Unsqueeze -1, Expand, Cast, Mul, ReduceSum 1,
  ReduceSum of the mask, Clip min 1e-9, Div.
"""

from __future__ import annotations

import math

import numpy as np
import onnx

from compiler.frontend.zoo.configs import BertConfig, BertStyle
from compiler.frontend.zoo.onnx_builder import FLOAT, INT64, GraphBuilder, tensor_info
from compiler.frontend.zoo.weights import Weights

MASK_NEG = -10000.0


class _Bert:
    def __init__(self, cfg: BertConfig, style: BertStyle, w: Weights, seq_len: int, opset: int) -> None:
        self.cfg, self.w, self.L = cfg, w, seq_len
        self.b = GraphBuilder(opset)
        self.fused_ln = style.fused_layernorm and opset >= 17
        self.style = style

    def param(self, name: str) -> str:
        return self.b.parameter(name, self.w[name])

    def linear(self, x: str, prefix: str) -> str:
        b = self.b
        mm = b.node("MatMul", [x, b.matmul_weight(self.w[f"{prefix}.weight"])])
        bias = self.param(f"{prefix}.bias")
        return b.node("Add", [bias, mm] if self.style.bias_first else [mm, bias])

    def layernorm(self, x: str, prefix: str, out: str | None = None) -> str:
        b, eps = self.b, self.cfg.layer_norm_eps
        gamma, beta = self.param(f"{prefix}.weight"), self.param(f"{prefix}.bias")
        if self.fused_ln:
            return b.node("LayerNormalization", [x, gamma, beta], out=out, axis=-1, epsilon=eps)
        mean = b.reduce_mean(x, [-1])
        centred = b.node("Sub", [x, mean])
        sq = b.node("Pow", [centred, b.const(2.0)])
        var = b.reduce_mean(sq, [-1])
        std = b.node("Sqrt", [b.node("Add", [var, b.const(eps)])])
        normed = b.node("Div", [centred, std])
        return b.node("Add", [b.node("Mul", [normed, gamma]), beta], out=out)

    def gelu(self, x: str) -> str:
        b = self.b
        erf = b.node("Erf", [b.node("Div", [x, b.const(math.sqrt(2.0))])])
        return b.node("Mul", [b.node("Mul", [x, b.node("Add", [erf, b.const(1.0)])]), b.const(0.5)])

    def split_heads(self, x: str, perm: list[int]) -> str:
        b, cfg = self.b, self.cfg
        heads = -1 if self.style.reshape_infer_dim else cfg.heads
        shaped = b.node("Reshape", [x, b.const([1, self.L, heads, cfg.head_dim])])
        return b.node("Transpose", [shaped], perm=perm)

    def embeddings(self) -> str:
        b, L = self.b, self.L
        with b.scope("embeddings"):
            with b.scope("word_embeddings"):
                words = b.node("Gather", [self.param("embeddings.word_embeddings.weight"), "input_ids"])
            types_ids = b.const(np.zeros((1, L), dtype=np.int64))
            with b.scope("token_type_embeddings"):
                types = b.node("Gather", [self.param("embeddings.token_type_embeddings.weight"), types_ids])
            x = b.node("Add", [words, types])
            if self.style.sliced_position_ids:
                buf = b.initializer(
                    "embeddings.position_ids", np.arange(self.cfg.max_positions, dtype=np.int64)[None]
                )
                pos_ids = b.node("Slice", [buf, b.const([0]), b.const([L]), b.const([1]), b.const([1])])
            else:
                pos_ids = b.const(np.arange(L, dtype=np.int64)[None])
            with b.scope("position_embeddings"):
                pos = b.node("Gather", [self.param("embeddings.position_embeddings.weight"), pos_ids])
            x = b.node("Add", [x, pos])
            with b.scope("LayerNorm"):
                return self.layernorm(x, "embeddings.LayerNorm")

    def extended_mask(self) -> str:
        b = self.b
        m = b.unsqueeze(b.unsqueeze("attention_mask", [1]), [2])
        m = b.node("Cast", [m], to=FLOAT)
        return b.node("Mul", [b.node("Sub", [b.const(1.0), m]), b.const(MASK_NEG)])

    def attention(self, x: str, mask: str, p: str) -> str:
        b, cfg = self.b, self.cfg
        with b.scope("self"):
            with b.scope("query"):
                q = self.linear(x, f"{p}.attention.self.query")
            with b.scope("key"):
                k = self.linear(x, f"{p}.attention.self.key")
            with b.scope("value"):
                v = self.linear(x, f"{p}.attention.self.value")
            if self.style.merged_key_transpose:
                kt = self.split_heads(k, [0, 2, 3, 1])
            else:
                kt = b.node("Transpose", [self.split_heads(k, [0, 2, 1, 3])], perm=[0, 1, 3, 2])
            vh = self.split_heads(v, [0, 2, 1, 3])
            qh = self.split_heads(q, [0, 2, 1, 3])
            scores = b.node("MatMul", [qh, kt])
            if self.style.scale_by_mul:
                scores = b.node("Mul", [scores, b.const(1.0 / math.sqrt(cfg.head_dim))])
            else:
                scores = b.node("Div", [scores, b.const(math.sqrt(cfg.head_dim))])
            scores = b.node("Add", [scores, mask])
            probs = b.node("Softmax", [scores], axis=-1)
            ctx = b.node("Transpose", [b.node("MatMul", [probs, vh])], perm=[0, 2, 1, 3])
            merged = -1 if self.style.reshape_infer_dim else cfg.hidden
            ctx = b.node("Reshape", [ctx, b.const([1, self.L, merged])])
        with b.scope("output"):
            with b.scope("dense"):
                y = self.linear(ctx, f"{p}.attention.output.dense")
            y = b.node("Add", [y, x])
            with b.scope("LayerNorm"):
                return self.layernorm(y, f"{p}.attention.output.LayerNorm")

    def layer(self, x: str, mask: str, i: int, out: str | None) -> str:
        b, p = self.b, f"encoder.layer.{i}"
        with b.scope("encoder", f"layer.{i}"):
            with b.scope("attention"):
                a = self.attention(x, mask, p)
            with b.scope("intermediate"):
                with b.scope("dense"):
                    h = self.linear(a, f"{p}.intermediate.dense")
                with b.scope("intermediate_act_fn"):
                    h = self.gelu(h)
            with b.scope("output"):
                with b.scope("dense"):
                    y = self.linear(h, f"{p}.output.dense")
                y = b.node("Add", [y, a])
                with b.scope("LayerNorm"):
                    return self.layernorm(y, f"{p}.output.LayerNorm", out=out)

    def pooler(self, hidden: str) -> str:
        b = self.b
        with b.scope("pooler"):
            first = b.node("Gather", [hidden, b.const(0)], axis=1)
            with b.scope("dense"):
                w, bias = self.param("pooler.dense.weight"), self.param("pooler.dense.bias")
                y = b.node("Gemm", [first, w, bias], alpha=1.0, beta=1.0, transB=1)
            with b.scope("activation"):
                return b.node("Tanh", [y], out="pooler_output")

    def mean_pooling(self, hidden: str) -> str:
        b, cfg = self.b, self.cfg
        with b.scope("pooling"):
            m = b.unsqueeze("attention_mask", [-1])
            m = b.node("Expand", [m, b.const([1, self.L, cfg.hidden])])
            m = b.node("Cast", [m], to=FLOAT)
            total = b.reduce_sum(b.node("Mul", [hidden, m]), [1], keepdims=0)
            count = b.reduce_sum(m, [1], keepdims=0)
            count = b.node("Clip", [count, b.const(1e-9)])
            return b.node("Div", [total, count], out="sentence_embedding")

    def build(self, graph_name: str, doc: str, metadata: dict[str, str]) -> onnx.ModelProto:
        cfg, L = self.cfg, self.L
        x = self.embeddings()
        mask = self.extended_mask()
        for i in range(cfg.layers):
            x = self.layer(x, mask, i, out="last_hidden_state" if i == cfg.layers - 1 else None)
        outputs = [tensor_info("last_hidden_state", FLOAT, [1, L, cfg.hidden])]
        if cfg.pooler:
            self.pooler(x)
            outputs.append(tensor_info("pooler_output", FLOAT, [1, cfg.hidden]))
        if cfg.mean_pooling:
            self.mean_pooling(x)
            outputs.append(tensor_info("sentence_embedding", FLOAT, [1, cfg.hidden]))
        inputs = [tensor_info("input_ids", INT64, [1, L]), tensor_info("attention_mask", INT64, [1, L])]
        return self.b.model(inputs, outputs, graph_name, doc, metadata)


def bert_graph(
    cfg: BertConfig,
    style: BertStyle,
    weights: Weights,
    seq_len: int,
    opset: int,
    graph_name: str,
    doc: str,
    metadata: dict[str, str],
) -> onnx.ModelProto:
    """The ONNX model of `cfg` with `weights` at sequence length `seq_len`."""
    if not 1 <= seq_len <= cfg.max_positions:
        raise ValueError(f"sequence length {seq_len} is outside 1..{cfg.max_positions}")
    return _Bert(cfg, style, weights, seq_len, opset).build(graph_name, doc, metadata)
