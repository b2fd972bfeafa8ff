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
    return w[name].astype(np.float64)


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


def _gelu(x: np.ndarray) -> np.ndarray:
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def _attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """q, k, v [heads, L, d]; bias broadcast onto the [heads, L, L] scores."""
    scores = np.einsum("hqd,hkd->hqk", q, k) / math.sqrt(q.shape[-1]) + bias
    return np.einsum("hqk,hkd->hqd", _softmax(scores), v)


def _heads(x: np.ndarray, heads: int) -> np.ndarray:
    """[L, H] -> [heads, L, H / heads]."""
    L, H = x.shape
    return x.reshape(L, heads, H // heads).transpose(1, 0, 2)


def _merge(x: np.ndarray) -> np.ndarray:
    """[heads, L, d] -> [L, heads * d]."""
    h, L, d = x.shape
    return x.transpose(1, 0, 2).reshape(L, h * d)


def bert_forward(
    cfg: BertConfig, w: Weights, input_ids: np.ndarray, attention_mask: np.ndarray
) -> dict[str, np.ndarray]:
    """HF BertModel on one sequence ([1, L] ids and mask); outputs shaped like the ONNX model's."""
    ids = np.asarray(input_ids).reshape(-1)
    mask = np.asarray(attention_mask).reshape(-1).astype(np.float64)
    L, eps = ids.shape[0], cfg.layer_norm_eps
    x = (
        _f64(w, "embeddings.word_embeddings.weight")[ids]
        + _f64(w, "embeddings.token_type_embeddings.weight")[0]
        + _f64(w, "embeddings.position_embeddings.weight")[:L]
    )
    x = _layer_norm(x, w, "embeddings.LayerNorm", eps)
    key_bias = (1.0 - mask)[None, None, :] * -10000.0
    for i in range(cfg.layers):
        p = f"encoder.layer.{i}.attention"
        q, k, v = (_heads(_linear(x, w, f"{p}.self.{n}"), cfg.heads) for n in ("query", "key", "value"))
        ctx = _merge(_attention(q, k, v, key_bias))
        x = _layer_norm(_linear(ctx, w, f"{p}.output.dense") + x, w, f"{p}.output.LayerNorm", eps)
        p = f"encoder.layer.{i}"
        h = _gelu(_linear(x, w, f"{p}.intermediate.dense"))
        x = _layer_norm(_linear(h, w, f"{p}.output.dense") + x, w, f"{p}.output.LayerNorm", eps)
    out = {"last_hidden_state": x[None]}
    if cfg.pooler:
        out["pooler_output"] = np.tanh(_linear(x[0], w, "pooler.dense"))[None]
    if cfg.mean_pooling:
        out["sentence_embedding"] = ((x * mask[:, None]).sum(0) / max(mask.sum(), 1e-9))[None]
    return out


def _rms_norm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    return weight * (x / np.sqrt((x * x).mean(-1, keepdims=True) + eps))


def _rotate(x: np.ndarray, positions: np.ndarray, theta: float) -> np.ndarray:
    """Rotary embedding of [heads, L, d] (HF layout: the two halves of d are a complex pair)."""
    d = x.shape[-1]
    angle = positions[:, None] * theta ** (-np.arange(0, d, 2) / d)[None, :]
    cos, sin = np.cos(angle), np.sin(angle)
    a, b = x[..., : d // 2], x[..., d // 2 :]
    return np.concatenate([a * cos - b * sin, b * cos + a * sin], axis=-1)


def llama_forward(cfg: LlamaConfig, w: Weights, input_ids: np.ndarray) -> dict[str, np.ndarray]:
    """HF LlamaForCausalLM on one sequence ([1, L] ids); `logits` [1, L, vocab]."""
    ids = np.asarray(input_ids).reshape(-1)
    L = ids.shape[0]
    pos = np.arange(L, dtype=np.float64)
    future = np.triu(np.ones((L, L), dtype=bool), k=1)
    x = _f64(w, "model.embed_tokens.weight")[ids]
    for i in range(cfg.layers):
        p = f"model.layers.{i}"
        h = _rms_norm(x, _f64(w, f"{p}.input_layernorm.weight"), cfg.rms_norm_eps)
        q, k, v = (_heads(_linear(h, w, f"{p}.self_attn.{n}_proj", bias=False), cfg.heads) for n in "qkv")
        q, k = _rotate(q, pos, cfg.rope_theta), _rotate(k, pos, cfg.rope_theta)
        scores = np.einsum("hqd,hkd->hqk", q, k) / math.sqrt(cfg.head_dim)
        probs = _softmax(np.where(future[None], -np.inf, scores))
        x = x + _linear(_merge(probs @ v), w, f"{p}.self_attn.o_proj", bias=False)
        h = _rms_norm(x, _f64(w, f"{p}.post_attention_layernorm.weight"), cfg.rms_norm_eps)
        gate = _linear(h, w, f"{p}.mlp.gate_proj", bias=False)
        up = _linear(h, w, f"{p}.mlp.up_proj", bias=False)
        x = x + _linear(gate / (1.0 + np.exp(-gate)) * up, w, f"{p}.mlp.down_proj", bias=False)
    x = _rms_norm(x, _f64(w, "model.norm.weight"), cfg.rms_norm_eps)
    return {"logits": _linear(x, w, "lm_head", bias=False)[None]}


def forward(
    cfg: BertConfig | LlamaConfig, w: Weights, inputs: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The model's outputs for one sample (`inputs` keyed by the ONNX input names)."""
    if isinstance(cfg, LlamaConfig):
        return llama_forward(cfg, w, inputs["input_ids"])
    return bert_forward(cfg, w, inputs["input_ids"], inputs["attention_mask"])


def zoo_forward(name: str, inputs: dict[str, np.ndarray], seed: int = 0) -> dict[str, np.ndarray]:
    """`forward` for zoo model `name`; inputs may hold several samples on a leading axis
    ([S, 1, L]), and the outputs are then stacked the same way."""
    from compiler.frontend.zoo.models import model_weights, zoo_entry

    cfg, w = zoo_entry(name).config, model_weights(name, seed)
    first = next(iter(inputs.values()))
    if first.ndim == 2:
        return forward(cfg, w, inputs)
    runs = [forward(cfg, w, {k: v[s] for k, v in inputs.items()}) for s in range(first.shape[0])]
    return {k: np.stack([r[k] for r in runs]) for k in runs[0]}
