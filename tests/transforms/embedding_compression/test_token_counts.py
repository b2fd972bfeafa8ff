"""Token counts for weighting the compression: from a counts file or a tokenized corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from compiler.errors import MoteError
from compiler.frontend.zoo.inputs import tokenizer
from compiler.transforms.embedding_compression.token_counts import corpus_counts, read_counts


def test_corpus_is_counted_as_the_model_sees_it(tmp_path: Path) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text("The cat sat.\n\nthe dog\n")
    counts = corpus_counts(corpus, 30522)
    tok = tokenizer()
    assert counts[tok.cls_id] == counts[tok.sep_id] == 2  # one passage per non-empty line
    assert counts[tok.vocab["the"]] == 2 and counts[tok.vocab["."]] == 1
    assert counts.sum() == 2 * 2 + 6


def test_vocabulary_of_another_size_is_an_error(tmp_path: Path) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text("hello\n")
    with pytest.raises(MoteError, match="give the model's own vocabulary"):
        corpus_counts(corpus, 1000)


def test_counts_files(tmp_path: Path) -> None:
    np.savez(tmp_path / "f.npz", counts=np.arange(4))
    (tmp_path / "f.txt").write_text("3\n0\n1\n")
    assert list(read_counts(tmp_path / "f.npz")) == [0, 1, 2, 3]
    assert list(read_counts(tmp_path / "f.txt")) == [3, 0, 1]
    np.savez(tmp_path / "g.npz", other=np.arange(4))
    with pytest.raises(MoteError, match="named 'counts'"):
        read_counts(tmp_path / "g.npz")
