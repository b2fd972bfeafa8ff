"""The float ONNX graph of a Llama decoder, node for node as torch.onnx exports HF
`LlamaForCausalLM` (eager attention, no KV cache, static length).

Input `input_ids` (int64 [1, L]); output `logits` [1, L, vocab]. The patterns:

- embedding: Gather(`model.embed_tokens.weight`, input_ids);
- RMSNorm: Pow 2, ReduceMean -1, Add eps, Sqrt, Reciprocal, Mul x, then Mul(weight, .);
- Linear (no bias): MatMul by an `onnx::MatMul_<n>` [in, out] initializer;
- heads: Reshape [1, L, h, d], Transpose [0, 2, 1, 3];
- rotary: cos/sin tables (`model.rotary_emb.cos_cached`, `sin_cached`, [max_pos, d]) gathered
  at constant position ids [1, L] and Unsqueezed to [1, 1, L, d], once for all layers;
  per head tensor `x * cos + rotate_half(x) * sin`, rotate_half = Concat(Neg(Slice(x, d/2:)),
  Slice(x, :d/2)) on the last axis;
- scores: Transpose K [0, 1, 3, 2], MatMul, Div by sqrt(d), Add of the constant causal mask
  `causal_mask` [1, 1, L, L] (0 on and below the diagonal, float32 min above, as HF builds it),
  Softmax(-1), MatMul V, Transpose [0, 2, 1, 3], Reshape [1, L, H], o_proj, residual Add;
- SwiGLU: gate MatMul, Sigmoid, Mul (SiLU as x * sigmoid(x)), up MatMul, Mul, down MatMul,
  residual Add;
- final RMSNorm, `lm_head` MatMul to the logits.
"""

from __future__ import annotations

import math

import numpy as np
import onnx

from compiler.frontend.zoo.configs import LlamaConfig
from compiler.frontend.zoo.onnx_builder import FLOAT, INT64, GraphBuilder, tensor_info
from compiler.frontend.zoo.weights import Weights

INT64_MAX = np.iinfo(np.int64).max


def rope_tables(cfg: LlamaConfig) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin [max_positions, head_dim] as HF's LlamaRotaryEmbedding computes them (float32)."""
    d = cfg.head_dim
    inv_freq = 1.0 / (cfg.rope_theta ** (np.arange(0, d, 2, dtype=np.int64).astype(np.float32) / d))
    t = np.arange(cfg.max_positions, dtype=np.float32)
    freqs = np.outer(t, inv_freq.astype(np.float32)).astype(np.float32)
    emb = np.concatenate([freqs, freqs], axis=-1)
    return np.cos(emb).astype(np.float32), np.sin(emb).astype(np.float32)


def causal_mask(seq_len: int) -> np.ndarray:
    """[1, 1, L, L]: 0 where a query may attend, float32 min where the key is in its future."""
    m = np.triu(np.full((seq_len, seq_len), np.finfo(np.float32).min, dtype=np.float32), k=1)
    return m[None, None]


class _Llama:
    def __init__(self, cfg: LlamaConfig, w: Weights, seq_len: int, opset: int) -> None:
        self.cfg, self.w, self.L = cfg, w, seq_len
        self.b = GraphBuilder(opset)

    def param(self, name: str) -> str:
        return self.b.parameter(name, self.w[name])

    def linear(self, x: str, prefix: str) -> str:
        return self.b.node("MatMul", [x, self.b.matmul_weight(self.w[f"{prefix}.weight"])])

    def rmsnorm(self, x: str, weight: str) -> str:
        b = self.b
        var = b.reduce_mean(b.node("Pow", [x, b.const(2.0)]), [-1])
        inv = b.node("Reciprocal", [b.node("Sqrt", [b.node("Add", [var, b.const(self.cfg.rms_norm_eps)])])])
        return b.node("Mul", [self.param(weight), b.node("Mul", [x, inv])])

    def split_heads(self, x: str) -> str:
        b, cfg = self.b, self.cfg
        shaped = b.node("Reshape", [x, b.const([1, self.L, cfg.heads, cfg.head_dim])])
        return b.node("Transpose", [shaped], perm=[0, 2, 1, 3])

    def rotary(self, x: str, cos: str, sin: str) -> str:
        b, half = self.b, self.cfg.head_dim // 2
        x1 = b.node("Slice", [x, b.const([0]), b.const([half]), b.const([-1]), b.const([1])])
        x2 = b.node("Slice", [x, b.const([half]), b.const([INT64_MAX]), b.const([-1]), b.const([1])])
        rotated = b.node("Concat", [b.node("Neg", [x2]), x1], axis=-1)
        return b.node("Add", [b.node("Mul", [x, cos]), b.node("Mul", [rotated, sin])])

    def rope_embeddings(self) -> tuple[str, str]:
        b = self.b
        cos_table, sin_table = rope_tables(self.cfg)
        with b.scope("model", "rotary_emb"):
            pos = b.const(np.arange(self.L, dtype=np.int64)[None])
            cos = b.node("Gather", [b.initializer("model.rotary_emb.cos_cached", cos_table), pos])
            sin = b.node("Gather", [b.initializer("model.rotary_emb.sin_cached", sin_table), pos])
            return b.unsqueeze(cos, [1]), b.unsqueeze(sin, [1])

    def attention(self, x: str, p: str, cos: str, sin: str, mask: str) -> str:
        b, cfg = self.b, self.cfg
        heads = {}
        for name in ("q_proj", "k_proj", "v_proj"):
            with b.scope(name):
                heads[name] = self.linear(x, f"{p}.self_attn.{name}")
        q, k, v = (self.split_heads(heads[n]) for n in ("q_proj", "k_proj", "v_proj"))
        q, k = self.rotary(q, cos, sin), self.rotary(k, cos, sin)
        scores = b.node("MatMul", [q, b.node("Transpose", [k], perm=[0, 1, 3, 2])])
        scores = b.node("Div", [scores, b.const(math.sqrt(cfg.head_dim))])
        probs = b.node("Softmax", [b.node("Add", [scores, mask])], axis=-1)
        ctx = b.node("Transpose", [b.node("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        ctx = b.node("Reshape", [ctx, b.const([1, self.L, cfg.hidden])])
        with b.scope("o_proj"):
            return self.linear(ctx, f"{p}.self_attn.o_proj")

    def mlp(self, x: str, p: str) -> str:
        b = self.b
        with b.scope("gate_proj"):
            gate = self.linear(x, f"{p}.mlp.gate_proj")
        with b.scope("act_fn"):
            act = b.node("Mul", [gate, b.node("Sigmoid", [gate])])
        with b.scope("up_proj"):
            up = self.linear(x, f"{p}.mlp.up_proj")
        h = b.node("Mul", [act, up])
        with b.scope("down_proj"):
            return self.linear(h, f"{p}.mlp.down_proj")

    def build(self, graph_name: str, doc: str, metadata: dict[str, str]) -> onnx.ModelProto:
        b, cfg, L = self.b, self.cfg, self.L
        with b.scope("model", "embed_tokens"):
            x = b.node("Gather", [self.param("model.embed_tokens.weight"), "input_ids"])
        cos, sin = self.rope_embeddings()
        mask = b.initializer("causal_mask", causal_mask(L))
        for i in range(cfg.layers):
            p = f"model.layers.{i}"
            with b.scope("model", f"layers.{i}"):
                with b.scope("input_layernorm"):
                    h = self.rmsnorm(x, f"{p}.input_layernorm.weight")
                with b.scope("self_attn"):
                    h = self.attention(h, p, cos, sin, mask)
                x = b.node("Add", [x, h])
                with b.scope("post_attention_layernorm"):
                    h = self.rmsnorm(x, f"{p}.post_attention_layernorm.weight")
                with b.scope("mlp"):
                    h = self.mlp(h, p)
                x = b.node("Add", [x, h])
        with b.scope("model", "norm"):
            x = self.rmsnorm(x, "model.norm.weight")
        with b.scope("lm_head"):
            b.node("MatMul", [x, b.matmul_weight(self.w["lm_head.weight"])], out="logits")
        inputs = [tensor_info("input_ids", INT64, [1, L])]
        outputs = [tensor_info("logits", FLOAT, [1, L, cfg.vocab])]
        return b.model(inputs, outputs, graph_name, doc, metadata)


def llama_graph(
    cfg: LlamaConfig,
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
    return _Llama(cfg, weights, seq_len, opset).build(graph_name, doc, metadata)
