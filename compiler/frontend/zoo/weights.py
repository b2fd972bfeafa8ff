"""Seeded synthetic weights for the zoo's BERT and Llama models.

Tensors are named and laid out as in the Hugging Face checkpoints (`encoder.layer.0.attention.
self.query.weight` is [out, in]), so the graph builders and the numpy forward pass read the
same dictionary as they would read a real checkpoint (see `minilm.py`).

Scales are those of a trained network rather than of BERT's N(0, 0.02) initializer, so that
activations have a trained network's magnitude (attention that is not uniform, sublayers that
move the residual stream): the real all-MiniLM-L6-v2 has dense weights of std 0.05..0.08 at
fan-in 384 (about 1/sqrt(fan_in)), embeddings of std 0.025..0.056 and biases of std 0.04..0.26.
Here: dense weights N(0, 1/fan_in), embedding tables N(0, 0.05^2), biases N(0, 0.05^2),
LayerNorm / RMSNorm gains N(1, 0.05^2) and LayerNorm shifts N(0, 0.05^2) (not exactly 1 and 0,
so that a swapped or dropped gain shows). All draws come from one
`numpy.random.default_rng(seed)`, in a fixed order.
"""

from __future__ import annotations

import numpy as np

from compiler.frontend.zoo.configs import BertConfig, LlamaConfig

Weights = dict[str, np.ndarray]

EMBED_STD = 0.05
BIAS_STD = 0.05
NORM_GAIN_STD = 0.05
NORM_SHIFT_STD = 0.05


def dense_std(fan_in: int) -> float:
    """The std of a dense weight with `fan_in` inputs: unit gain, as in a trained network."""
    return float(fan_in) ** -0.5


class _Draw:
    """Draws float32 tensors from one generator, in call order."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def normal(self, shape: tuple[int, ...], mean: float, std: float) -> np.ndarray:
        x = self.rng.standard_normal(shape, dtype=np.float32) * np.float32(std)
        return x + np.float32(mean) if mean else x


def _bert_linear(d: _Draw, w: Weights, prefix: str, out: int, inp: int) -> None:
    w[f"{prefix}.weight"] = d.normal((out, inp), 0.0, dense_std(inp))
    w[f"{prefix}.bias"] = d.normal((out,), 0.0, BIAS_STD)


def _layernorm(d: _Draw, w: Weights, prefix: str, n: int) -> None:
    w[f"{prefix}.weight"] = d.normal((n,), 1.0, NORM_GAIN_STD)
    w[f"{prefix}.bias"] = d.normal((n,), 0.0, NORM_SHIFT_STD)


def bert_weights(cfg: BertConfig, seed: int) -> Weights:
    """A BertModel state dict (without the position-ids buffer) for `cfg`, drawn from `seed`."""
    d, w = _Draw(seed), {}
    h = cfg.hidden
    w["embeddings.word_embeddings.weight"] = d.normal((cfg.vocab, h), 0.0, EMBED_STD)
    w["embeddings.position_embeddings.weight"] = d.normal((cfg.max_positions, h), 0.0, EMBED_STD)
    w["embeddings.token_type_embeddings.weight"] = d.normal((cfg.type_vocab, h), 0.0, EMBED_STD)
    _layernorm(d, w, "embeddings.LayerNorm", h)
    for i in range(cfg.layers):
        p = f"encoder.layer.{i}"
        for name in ("query", "key", "value"):
            _bert_linear(d, w, f"{p}.attention.self.{name}", h, h)
        _bert_linear(d, w, f"{p}.attention.output.dense", h, h)
        _layernorm(d, w, f"{p}.attention.output.LayerNorm", h)
        _bert_linear(d, w, f"{p}.intermediate.dense", cfg.ffn, h)
        _bert_linear(d, w, f"{p}.output.dense", h, cfg.ffn)
        _layernorm(d, w, f"{p}.output.LayerNorm", h)
    if cfg.pooler:
        _bert_linear(d, w, "pooler.dense", h, h)
    return w


def llama_weights(cfg: LlamaConfig, seed: int) -> Weights:
    """A LlamaForCausalLM state dict for `cfg` (separate, untied lm_head), drawn from `seed`."""
    d, w = _Draw(seed), {}
    h = cfg.hidden
    w["model.embed_tokens.weight"] = d.normal((cfg.vocab, h), 0.0, EMBED_STD)
    for i in range(cfg.layers):
        p = f"model.layers.{i}"
        w[f"{p}.input_layernorm.weight"] = d.normal((h,), 1.0, NORM_GAIN_STD)
        for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
            w[f"{p}.self_attn.{name}.weight"] = d.normal((h, h), 0.0, dense_std(h))
        w[f"{p}.post_attention_layernorm.weight"] = d.normal((h,), 1.0, NORM_GAIN_STD)
        w[f"{p}.mlp.gate_proj.weight"] = d.normal((cfg.ffn, h), 0.0, dense_std(h))
        w[f"{p}.mlp.up_proj.weight"] = d.normal((cfg.ffn, h), 0.0, dense_std(h))
        w[f"{p}.mlp.down_proj.weight"] = d.normal((h, cfg.ffn), 0.0, dense_std(cfg.ffn))
    w["model.norm.weight"] = d.normal((h,), 1.0, NORM_GAIN_STD)
    w["lm_head.weight"] = d.normal((cfg.vocab, h), 0.0, dense_std(h))
    return w


def parameter_count(weights: Weights) -> int:
    """The number of parameters (elements of all tensors)."""
    return int(sum(v.size for v in weights.values()))
