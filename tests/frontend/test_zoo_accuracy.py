"""Post-training quantization keeps the zoo models' behaviour: the integer qtfm program, run
by the reference interpreter, against onnxruntime on the float model, on inputs the
quantizer was not calibrated with (the issue's bar: cosine >= 0.99; sentence embeddings of
the real MiniLM >= 0.99 for every shipped sentence)."""

from pathlib import Path

import numpy as np
import pytest

from compiler.tools.zoo_accuracy import quantized_vs_float

SEQ_LEN = 32


def _quantized_vs_float(tmp_path: Path, name: str, precision: str = "mixed"):
    return quantized_vs_float(name, SEQ_LEN, precision, tmp_path)


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _row_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a.reshape(-1, a.shape[-1]).astype(np.float64)
    b = b.reshape(-1, b.shape[-1]).astype(np.float64)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.parametrize("name", ["bert-tiny", "bert-mini", "llama-tiny"])
def test_synthetic_zoo_models_keep_cosine(tmp_path: Path, name: str) -> None:
    for output, (got, want) in _quantized_vs_float(tmp_path, name).items():
        assert _cosine(got, want) >= 0.99, output


def _decided_rows_agree(got: np.ndarray, want: np.ndarray, margin: float, share: float) -> None:
    g, w = got.reshape(-1, got.shape[-1]), want.reshape(-1, want.shape[-1])
    top2 = np.sort(w, axis=1)[:, -2:]
    decided = top2[:, 1] - top2[:, 0] > margin
    assert decided.sum() >= share * len(w)
    assert np.array_equal(g[decided].argmax(1), w[decided].argmax(1))


def test_llama_next_token_agrees_where_the_float_model_is_decided(tmp_path: Path) -> None:
    """Random weights give near-ties between the top logits; where the float model's top-2
    margin exceeds 0.3 (a third of its positions) the quantized model picks the same token."""
    got, want = _quantized_vs_float(tmp_path, "llama-tiny")["logits"]
    _decided_rows_agree(got, want, 0.3, 0.2)


def test_minilm_sentence_embeddings(tmp_path: Path) -> None:
    outputs = _quantized_vs_float(tmp_path, "minilm")
    got, want = outputs["sentence_embedding"]
    assert _row_cosines(got, want).min() >= 0.99


def test_minilm_int8_precision_stays_close(tmp_path: Path) -> None:
    """All matrix-product activations int8 (per-channel where needed): less exact than the
    default mixed precision, still close to the float model."""
    got, want = _quantized_vs_float(tmp_path, "minilm", precision="int8")["sentence_embedding"]
    assert _row_cosines(got, want).min() >= 0.97
