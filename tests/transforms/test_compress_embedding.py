"""`compress-embedding` under mote-opt: the lookup becomes a clustered one whose factors go to a
new weight file the module then names, the reference program reads them and produces the
rows the compressed table holds; bad options are one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from compiler.reference.interpreter import Interpreter
from compiler.reference.weights import save_weights
from compiler.tools.ir_files import read_ir
from compiler.tools.mote_opt import run as mote_opt
from compiler.transforms.embedding_compression.table import TableCompression, compress_table, reconstruct

VOCAB, DIM = 200, 12

IR = f"""builtin.module attributes {{qtfm.weights = "m.weights.npz"}} {{
  func.func @main(%ids: tensor<1x6xi32>) -> tensor<1x6x{DIM}xi8> {{
    %t = qtfm.weight "emb" : tensor<{VOCAB}x{DIM}xi8>
    %e = qtfm.embedding %t[%ids] : (tensor<{VOCAB}x{DIM}xi8>, tensor<1x6xi32>) -> tensor<1x6x{DIM}xi8>
    func.return %e : tensor<1x6x{DIM}xi8>
  }}
}}
"""


def _model(tmp_path: Path) -> np.ndarray:
    rng = np.random.default_rng(1)
    table = np.clip(rng.standard_normal((VOCAB, 3)) @ rng.standard_normal((3, DIM)) * 30, -128, 127)
    table = table.astype(np.int8)
    (tmp_path / "m.mlir").write_text(IR)
    save_weights(tmp_path / "m.weights.npz", {"emb": table})
    return table


def test_pass_writes_factors_and_the_reference_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = _model(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert mote_opt(["m.mlir", "-p", "compress-embedding{budget=3x clusters=3 seed=1}", "-o", "c.mlir"]) == 0
    text = (tmp_path / "c.mlir").read_text()
    assert "qtfm.clustered_embedding" in text and "qtfm.embedding" not in text
    assert 'qtfm.weights = "m.weights.compressed.npz"' in text
    module, weights = read_ir(tmp_path / "c.mlir")
    assert "emb" not in weights
    ids = np.array([[0, 1, 57, 120, 198, 199]], dtype=np.int32)
    got = Interpreter(module, weights).run([ids])[0]
    # the same compression, directly: the op produces the rows of the compressed table
    done = compress_table(table, TableCompression(table.nbytes // 3, clusters=3, seed=1))
    assert np.array_equal(got[0], reconstruct(done.factors, VOCAB)[ids[0]])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("", "give budget=BYTES"),
        ("budget=10", "does not hold the cluster ids"),
        ("budget=lots", "expected BYTES or a ratio"),
        ("budget=2x coef_bits=5", "coef-bits must be 0, 4 or 8"),
        ('budget=2x frequencies="missing.npz"', "missing.npz"),
    ],
)
def test_bad_options_are_errors(
    options: str,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _model(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert mote_opt(["m.mlir", "-p", f"compress-embedding{{{options}}}"]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_token_frequency_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _model(tmp_path)
    counts = np.zeros(VOCAB)
    counts[:20] = 1000
    np.savez(tmp_path / "freq.npz", counts=counts)
    monkeypatch.chdir(tmp_path)
    spec = 'compress-embedding{budget=4x clusters=2 frequencies="freq.npz"}'
    assert mote_opt(["m.mlir", "-p", spec, "-o", "c.mlir"]) == 0
    assert "qtfm.clustered_embedding" in (tmp_path / "c.mlir").read_text()
