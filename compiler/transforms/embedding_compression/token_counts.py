"""How often each token occurs: the weights of the reconstruction error (optional).

From a counts file (`.npz` with an array `counts`, or text with one count per line, line i
for token i) or from a text corpus, one passage per line, tokenized as the model sees text
([CLS] passage [SEP]) with a WordPiece vocabulary (by default the uncased BERT vocabulary that
ships with all-MiniLM-L6-v2, which the zoo's BERTs share).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from compiler.errors import MoteError
from compiler.reference.weights import WeightFileError


def read_counts(path: Path) -> np.ndarray:
    """Counts from a .npz (array `counts`) or a text file of one count per line."""
    try:
        if path.suffix == ".npz":
            with np.load(path) as data:
                if "counts" not in data.files:
                    raise MoteError(f"{path}: expected an array named 'counts', found {data.files}")
                return np.asarray(data["counts"])
        return np.loadtxt(path, dtype=np.float64, ndmin=1)
    except (OSError, ValueError) as err:
        raise WeightFileError(f"{path}: cannot read token frequencies ({err})") from None


def corpus_counts(corpus: Path, vocab: int, vocab_file: Path | None = None) -> np.ndarray:
    """Occurrences of every token id in `corpus` (one passage per line)."""
    from compiler.frontend.zoo.tokenizer import WordPieceTokenizer

    if vocab_file is None:
        from compiler.frontend.zoo.minilm import vocab_path

        vocab_file = vocab_path()
    try:
        tok = WordPieceTokenizer(vocab_file)
        lines = corpus.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise MoteError(f"token counts from {corpus}: {err}") from None
    if len(tok.vocab) != vocab:
        raise MoteError(
            f"{vocab_file} has {len(tok.vocab)} tokens, the embedding table {vocab} rows: "
            "give the model's own vocabulary"
        )
    counts = np.zeros(vocab)
    for line in lines:
        if line.strip():
            np.add.at(counts, [tok.cls_id, *tok.token_ids(line), tok.sep_id], 1)
    return counts
