"""The real all-MiniLM-L6-v2: the ONNX graph built from the package's weights gives the same
sentence embeddings of the shipped sentences as the numpy forward pass and as
sentence-transformers itself (stored once in tests/zoo/data), and they make semantic sense."""

from pathlib import Path

import numpy as np
import pytest

from compiler.frontend.zoo import example_inputs, zoo_forward
from compiler.frontend.zoo.minilm import minilm_weights, model_dir
from tests.zoo.zoo_helpers import run_samples, session, zoo_model_bytes

SEQ_LEN = 32
GOLDEN = Path(__file__).parent / "data" / "minilm_sentence_transformers_L32.npz"
CLOSE_PAIRS = [(0, 1), (2, 3), (4, 5), (6, 7)]


def unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def embeddings():
    inputs = example_inputs("minilm", SEQ_LEN)
    onnx_out = run_samples(session(zoo_model_bytes("minilm", SEQ_LEN)), inputs)
    numpy_out = zoo_forward("minilm", inputs)
    return onnx_out, numpy_out


def test_package_files():
    folder = model_dir()
    assert (folder / "model.safetensors").stat().st_size > 80_000_000
    assert len((folder / "vocab.txt").read_text(encoding="utf-8").splitlines()) == 30522
    w = minilm_weights()
    assert w["embeddings.word_embeddings.weight"].shape == (30522, 384)
    assert len([k for k in w if k.startswith("encoder.layer.")]) == 6 * 16


def test_onnx_matches_numpy(embeddings):
    onnx_out, numpy_out = embeddings
    for name in ("last_hidden_state", "sentence_embedding"):
        assert np.abs(onnx_out[name] - numpy_out[name]).max() < 1e-4, name
    cos = (unit(onnx_out["sentence_embedding"][:, 0]) * unit(numpy_out["sentence_embedding"][:, 0])).sum(-1)
    assert cos.min() > 0.9999


def test_matches_sentence_transformers(embeddings):
    golden = np.load(GOLDEN)["sentence_embedding"]
    cos = (unit(embeddings[0]["sentence_embedding"][:, 0]) * unit(golden)).sum(-1)
    assert cos.shape == (16,) and cos.min() > 0.9999


def test_semantic_sanity(embeddings):
    e = unit(embeddings[0]["sentence_embedding"][:, 0])
    sim = e @ e.T
    for a, b in CLOSE_PAIRS:
        others = [j for j in range(len(e)) if j not in (a, b)]
        assert sim[a, b] > 0.5
        assert sim[a, b] > sim[a, others].max() + 0.2
        assert sim[a, b] > sim[b, others].max() + 0.2
