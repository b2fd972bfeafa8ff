"""A pure-Python BERT WordPiece tokenizer (uncased), as HF's `BertTokenizer` does it.

Basic tokenization: NFC-normalize, drop control characters and U+FFFD, map whitespace to spaces, put spaces
around CJK ideographs, lower-case, strip accents (NFD, drop combining marks), split on
whitespace and on every punctuation character. Then WordPiece: per word, greedy
longest-match-first against the vocabulary, continuation pieces prefixed `##`; a word longer
than 100 characters or with no match becomes [UNK]. `encode` adds [CLS] / [SEP], truncates, and
pads with [PAD] to a fixed length, returning `input_ids` and `attention_mask` (int64 [1, L]).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np

MAX_WORD_CHARS = 100


def _is_whitespace(ch: str) -> bool:
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def _is_control(ch: str) -> bool:
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


def basic_tokenize(text: str) -> list[str]:
    """Whitespace- and punctuation-split, lower-cased, accent-stripped words."""
    cleaned = []
    for ch in unicodedata.normalize("NFC", text):
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        if _is_whitespace(ch):
            cleaned.append(" ")
        elif _is_cjk(cp):
            cleaned.append(f" {ch} ")
        else:
            cleaned.append(ch)
    words: list[str] = []
    for word in "".join(cleaned).split():
        word = unicodedata.normalize("NFD", word.lower())
        word = "".join(ch for ch in word if unicodedata.category(ch) != "Mn")
        current = ""
        for ch in word:
            if _is_punctuation(ch):
                if current:
                    words.append(current)
                words.append(ch)
                current = ""
            else:
                current += ch
        if current:
            words.append(current)
    return words


class WordPieceTokenizer:
    """Uncased BERT tokenization against a `vocab.txt` (one token a line, id = line number)."""

    def __init__(self, vocab_file: str | Path) -> None:
        lines = Path(vocab_file).read_text(encoding="utf-8").splitlines()
        self.vocab: dict[str, int] = {tok: i for i, tok in enumerate(lines)}
        for special in ("[PAD]", "[UNK]", "[CLS]", "[SEP]"):
            if special not in self.vocab:
                raise ValueError(f"{vocab_file}: no {special} token in the vocabulary")
        self.pad_id, self.unk_id = self.vocab["[PAD]"], self.vocab["[UNK]"]
        self.cls_id, self.sep_id = self.vocab["[CLS]"], self.vocab["[SEP]"]

    def wordpiece(self, word: str) -> list[str]:
        """Greedy longest-match-first pieces of one basic-tokenized word."""
        if len(word) > MAX_WORD_CHARS:
            return ["[UNK]"]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    break
                end -= 1
            if end == start:
                return ["[UNK]"]
            pieces.append(piece)
            start = end
        return pieces

    def tokenize(self, text: str) -> list[str]:
        """The WordPiece tokens of `text`, without special tokens."""
        return [p for word in basic_tokenize(text) for p in self.wordpiece(word)]

    def token_ids(self, text: str) -> list[int]:
        return [self.vocab.get(t, self.unk_id) for t in self.tokenize(text)]

    def encode(self, text: str, seq_len: int) -> dict[str, np.ndarray]:
        """[CLS] tokens [SEP] [PAD]..., truncated to `seq_len`: input_ids and attention_mask [1, L]."""
        if seq_len < 2:
            raise ValueError(f"sequence length {seq_len} leaves no room for [CLS] and [SEP]")
        ids = [self.cls_id, *self.token_ids(text)[: seq_len - 2], self.sep_id]
        input_ids = np.full((1, seq_len), self.pad_id, dtype=np.int64)
        input_ids[0, : len(ids)] = ids
        mask = np.zeros((1, seq_len), dtype=np.int64)
        mask[0, : len(ids)] = 1
        return {"input_ids": input_ids, "attention_mask": mask}
