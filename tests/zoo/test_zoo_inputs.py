"""Representative inputs: shapes of the npz convention, realistic masks, determinism."""

import numpy as np
import pytest

from compiler.frontend.zoo import ZooError, example_inputs, save_inputs, sentences
from compiler.frontend.zoo.inputs import BERT_CLS, BERT_PAD, BERT_SEP, LLAMA_BOS


def test_sentences_file():
    s = sentences()
    assert len(s) == 16 and len(set(s)) == 16


@pytest.mark.parametrize("name", ["bert-tiny", "bert-mini"])
def test_random_bert_inputs(name):
    x = example_inputs(name, 24, seed=3, n_samples=8)
    ids, mask = x["input_ids"], x["attention_mask"]
    assert ids.shape == mask.shape == (8, 1, 24) and ids.dtype == mask.dtype == np.int64
    for s in range(8):
        n = int(mask[s, 0].sum())
        assert 12 <= n <= 24 and mask[s, 0, :n].all() and not mask[s, 0, n:].any()
        assert ids[s, 0, 0] == BERT_CLS and ids[s, 0, n - 1] == BERT_SEP
        assert (ids[s, 0, n:] == BERT_PAD).all() and (ids[s, 0, 1 : n - 1] >= 1996).all()
    assert (ids < 30522).all()
    again = example_inputs(name, 24, seed=3, n_samples=8)
    assert all(np.array_equal(x[k], again[k]) for k in x)
    other = example_inputs(name, 24, seed=4, n_samples=8)
    assert not np.array_equal(x["input_ids"], other["input_ids"])


def test_llama_inputs():
    x = example_inputs("llama-tiny", 20, n_samples=4)
    assert list(x) == ["input_ids"] and x["input_ids"].shape == (4, 1, 20)
    assert (x["input_ids"][:, 0, 0] == LLAMA_BOS).all() and (x["input_ids"] < 4096).all()


def test_minilm_and_bert_sentences():
    x = example_inputs("minilm", 32)
    assert x["input_ids"].shape == (16, 1, 32)
    assert (x["input_ids"][:, 0, 0] == BERT_CLS).all()
    y = example_inputs("bert-tiny", 32, source="sentences")
    assert np.array_equal(x["input_ids"], y["input_ids"])


def test_save_inputs(tmp_path):
    path = save_inputs("bert-tiny", tmp_path / "calib.npz", 16, n_samples=2)
    with np.load(path) as data:
        assert sorted(data.files) == ["attention_mask", "input_ids"]
        assert data["input_ids"].shape == (2, 1, 16)


def test_input_errors():
    with pytest.raises(ZooError, match="no WordPiece vocabulary"):
        example_inputs("llama-tiny", 16, source="sentences")
    with pytest.raises(ZooError, match="unknown input source"):
        example_inputs("bert-tiny", 16, source="web")
    with pytest.raises(ZooError, match="outside 2..512"):
        example_inputs("bert-tiny", 1)
