"""Post-training quantization keeps the zoo models' behaviour: the integer qtfm program, run
by the reference interpreter, against onnxruntime on the float model, on inputs the
quantizer was not calibrated with (the issue's bar: cosine >= 0.99; sentence embeddings of
the real MiniLM >= 0.99 for every shipped sentence)."""

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from compiler.frontend import import_model
from compiler.frontend.ptq_core import OUTPUT_SCALES_ATTR
from compiler.frontend.zoo import save_inputs, save_model
from compiler.reference.interpreter import Interpreter, entry_function

SEQ_LEN = 32


def _quantized_vs_float(tmp_path: Path, name: str, precision: str = "mixed"):
    model = save_model(name, tmp_path / f"{name}.onnx", SEQ_LEN)
    synthetic = name != "minilm"
    calib = save_inputs(
        name, tmp_path / "calib.npz", SEQ_LEN, **({"seed": 2} if synthetic else {"source": "calibration"})
    )
    inputs = np.load(save_inputs(name, tmp_path / "in.npz", SEQ_LEN, seed=1))
    module, weights = import_model(model, calib, SEQ_LEN, precision)
    f = entry_function(module)
    scales = [s.value.data for s in f.attributes[OUTPUT_SCALES_ATTR].data]
    interp = Interpreter(module, weights)
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    got: dict[str, list[np.ndarray]] = {n: [] for n in names}
    want: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for i in range(next(iter(inputs.values())).shape[0]):
        sample = {k: inputs[k][i] for k in inputs.files}
        ints = interp.run([sample[k].astype(np.int64) for k in inputs.files])
        for n, q, s, ref in zip(names, ints, scales, session.run(names, sample), strict=True):
            got[n].append(q * s)
            want[n].append(ref)
    return {n: (np.stack(got[n]), np.stack(want[n])) for n in names}


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
