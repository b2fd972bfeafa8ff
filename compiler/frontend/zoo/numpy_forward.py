"""Independent float numpy forward passes of the zoo architectures, for checking the ONNX graphs.

Written from the weights and the architectures' definitions (HF BertModel, sentence-transformers
mean pooling, HF LlamaForCausalLM), never from the ONNX graph: it shares no code with the graph
builders except the state dict they both read. Computed in float64; the ONNX models run in
float32, so the two agree to float32 rounding.
"""

from __future__ import annotations

import math

import numpy as np

from compiler.frontend.zoo.configs import BertConfig, LlamaConfig
from compiler.frontend.zoo.weights import Weights


def _f64(w: Weights, name: str) -> np.ndarray:
    return np.asarray(w[name], dtype=np.float64)


def _as_f64(w: Weights) -> Weights:
    """float64 copies of the weights, except the embedding tables (gathered, then converted)."""
    return {k: v if "embed" in k else np.asarray(v, dtype=np.float64) for k, v in w.items()}


def _linear(x: np.ndarray, w: Weights, prefix: str, bias: bool = True) -> np.ndarray:
    y = x @ _f64(w, f"{prefix}.weight").T
    return y + _f64(w, f"{prefix}.bias") if bias else y


def _layer_norm(x: np.ndarray, w: Weights, prefix: str, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * _f64(w, f"{prefix}.weight") + _f64(w, f"{prefix}.bias")


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


_ERF = np.frompyfunc(math.erf, 1, 1)


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _ERF(x / math.sqrt(2.0)).astype(np.float64))


def _heads(x: np.ndarray, heads: int) -> np.ndarray:
    """[N, L, H] -> [N, heads, L, H / heads]."""
    n, L, H = x.shape
    return x.reshape(n, L, heads, H // heads).transpose(0, 2, 1, 3)


def _merge(x: np.ndarray) -> np.ndarray:
    """[N, heads, L, d] -> [N, L, heads * d]."""
    n, h, L, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(n, L, h * d)


def _attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """q, k, v [N, heads, L, d]; `bias` broadcast onto the [N, heads, L, L] scores."""
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(q.shape[-1]) + bias
    return _softmax(scores) @ v


def _rows(ids: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """Token ids [..., L] as rows [N, L], and the leading shape to restore."""
    ids = np.asarray(ids)
    return ids.reshape(-1, ids.shape[-1]), ids.shape[:-1]


def bert_forward(
    cfg: BertConfig, w: Weights, input_ids: np.ndarray, attention_mask: np.ndarray
) -> dict[str, np.ndarray]:
    """HF BertModel on ids and mask [..., L] (e.g. [1, L], or [S, 1, L] for S samples);
    outputs [..., L, H] and [..., H], as the ONNX model's with the same leading axes."""
    ids, lead = _rows(input_ids)
    mask = np.asarray(attention_mask).reshape(ids.shape).astype(np.float64)
    L, eps = ids.shape[1], cfg.layer_norm_eps
    x = np.asarray(w["embeddings.word_embeddings.weight"][ids], dtype=np.float64)
    x = x + _f64(w, "embeddings.token_type_embeddings.weight")[0]
    x = x + _f64(w, "embeddings.position_embeddings.weight")[:L]
    x = _layer_norm(x, w, "embeddings.LayerNorm", eps)
    key_bias = (1.0 - mask)[:, None, None, :] * -10000.0
    for i in range(cfg.layers):
        p = f"encoder.layer.{i}.attention"
        q, k, v = (_heads(_linear(x, w, f"{p}.self.{n}"), cfg.heads) for n in ("query", "key", "value"))
        ctx = _merge(_attention(q, k, v, key_bias))
        x = _layer_norm(_linear(ctx, w, f"{p}.output.dense") + x, w, f"{p}.output.LayerNorm", eps)
        p = f"encoder.layer.{i}"
        h = _gelu(_linear(x, w, f"{p}.intermediate.dense"))
        x = _layer_norm(_linear(h, w, f"{p}.output.dense") + x, w, f"{p}.output.LayerNorm", eps)
    H = cfg.hidden
    out = {"last_hidden_state": x.reshape(*lead, L, H)}
    if cfg.pooler:
        out["pooler_output"] = np.tanh(_linear(x[:, 0], w, "pooler.dense")).reshape(*lead, H)
    if cfg.mean_pooling:
        total = (x * mask[:, :, None]).sum(1)
        count = np.maximum(mask.sum(1, keepdims=True), 1e-9)
        out["sentence_embedding"] = (total / count).reshape(*lead, H)
    return out


def _rms_norm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    return weight * (x / np.sqrt((x * x).mean(-1, keepdims=True) + eps))


def _rotate(x: np.ndarray, positions: np.ndarray, theta: float) -> np.ndarray:
    """Rotary embedding of [N, heads, L, d] (HF layout: the two halves of d are a complex pair)."""
    d = x.shape[-1]
    angle = positions[:, None] * theta ** (-np.arange(0, d, 2) / d)[None, :]
    cos, sin = np.cos(angle), np.sin(angle)
    a, b = x[..., : d // 2], x[..., d // 2 :]
    return np.concatenate([a * cos - b * sin, b * cos + a * sin], axis=-1)


def llama_forward(cfg: LlamaConfig, w: Weights, input_ids: np.ndarray) -> dict[str, np.ndarray]:
    """HF LlamaForCausalLM on ids [..., L]; `logits` [..., L, vocab]."""
    ids, lead = _rows(input_ids)
    L = ids.shape[1]
    pos = np.arange(L, dtype=np.float64)
    future = np.triu(np.ones((L, L), dtype=bool), k=1)
    x = np.asarray(w["model.embed_tokens.weight"][ids], dtype=np.float64)
    for i in range(cfg.layers):
        p = f"model.layers.{i}"
        h = _rms_norm(x, _f64(w, f"{p}.input_layernorm.weight"), cfg.rms_norm_eps)
        q, k, v = (_heads(_linear(h, w, f"{p}.self_attn.{n}_proj", bias=False), cfg.heads) for n in "qkv")
        q, k = _rotate(q, pos, cfg.rope_theta), _rotate(k, pos, cfg.rope_theta)
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(cfg.head_dim)
        probs = _softmax(np.where(future, -np.inf, scores))
        x = x + _linear(_merge(probs @ v), w, f"{p}.self_attn.o_proj", bias=False)
        h = _rms_norm(x, _f64(w, f"{p}.post_attention_layernorm.weight"), cfg.rms_norm_eps)
        gate = _linear(h, w, f"{p}.mlp.gate_proj", bias=False)
        up = _linear(h, w, f"{p}.mlp.up_proj", bias=False)
        x = x + _linear(gate / (1.0 + np.exp(-gate)) * up, w, f"{p}.mlp.down_proj", bias=False)
    x = _rms_norm(x, _f64(w, "model.norm.weight"), cfg.rms_norm_eps)
    logits = _linear(x, w, "lm_head", bias=False)
    return {"logits": logits.reshape(*lead, L, cfg.vocab)}


def forward(
    cfg: BertConfig | LlamaConfig, w: Weights, inputs: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The model's outputs for `inputs` keyed by the ONNX input names, each [1, L] or, for
    several samples, [S, 1, L] (outputs then get the same leading sample axis)."""
    w = _as_f64(w)
    if isinstance(cfg, LlamaConfig):
        return llama_forward(cfg, w, inputs["input_ids"])
    return bert_forward(cfg, w, inputs["input_ids"], inputs["attention_mask"])


def zoo_forward(name: str, inputs: dict[str, np.ndarray], seed: int = 0) -> dict[str, np.ndarray]:
    """`forward` for zoo model `name` with its weights (`seed` for the synthetic ones)."""
    from compiler.frontend.zoo.models import model_weights, zoo_entry

    return forward(zoo_entry(name).config, model_weights(name, seed), inputs)
