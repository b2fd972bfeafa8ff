"""Embedding compression from the command line: `mote compile --embedding-budget` on BERT-tiny
runs bit-exactly against its reference program on host, rv32imc and rv32imc-xcv and reports
flash and weight bytes before and after; `mote compress --sweep` prints, plots and
recommends; bad requests are one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from compiler.frontend.zoo import save_inputs, save_model
from compiler.tools.mote import main
from tests.backend.npz_outputs import assert_same, outputs

SEQ = 8


@pytest.fixture(scope="module")
def bert_tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    d = tmp_path_factory.mktemp("bt")
    model = save_model("bert-tiny", d / "bt.onnx", SEQ)
    calib = save_inputs("bert-tiny", d / "calib.npz", SEQ, seed=2)
    inputs = save_inputs("bert-tiny", d / "in.npz", SEQ, n_samples=2, seed=1)
    return model, calib, inputs


def _mote(*args: object) -> None:
    main([str(a) for a in args])


def test_compressed_model_is_bit_exact_on_every_target(
    bert_tiny: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    model, calib, inputs = bert_tiny
    host = tmp_path / "host"
    _mote("compile", model, "-o", host, "--calib", calib, "--embedding-budget", "12x", "--clusters", "8")
    report = json.loads((host / "report.json").read_text())
    comp = report["embedding_compression"]
    assert comp["vocab"] == 30522 and comp["int8_table_bytes"] == 30522 * 128
    assert comp["compressed_bytes"] <= 30522 * 128 // 12 and report["pipeline"].startswith(
        "compress-embedding"
    )
    assert report["weight_bytes_before_compression"] / report["weight_bytes"] == pytest.approx(
        report["weight_bytes_ratio"], rel=1e-3
    )
    assert report["weight_bytes_before_compression"] - report["weight_bytes"] == (
        comp["int8_table_bytes"] - (comp["compressed_bytes"] - 12 * comp["clusters"])
    )
    _mote("run", host, "--inputs", inputs, "--outputs", tmp_path / "ref.npz", "--reference")
    _mote("run", host, "--inputs", inputs, "--outputs", tmp_path / "host.npz")
    assert_same(outputs(tmp_path / "host.npz"), outputs(tmp_path / "ref.npz"))
    for target in ("rv32imc", "rv32imc-xcv"):
        _mote("compile", host / "model.mlir", "-o", tmp_path / target, "--target", target)
        _mote("run", tmp_path / target, "--inputs", inputs, "--outputs", tmp_path / f"{target}.npz")
        assert_same(outputs(tmp_path / f"{target}.npz"), outputs(tmp_path / "ref.npz"))
        rv = json.loads((tmp_path / target / "report.json").read_text())
        assert rv["flash_bytes"] < 1_200_000  # the int8 table alone would be 3.9 MB


def test_sweep_prints_plots_and_recommends(
    bert_tiny: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model, calib, inputs = bert_tiny
    plot, js = tmp_path / "sweep.svg", tmp_path / "sweep.json"
    _mote(
        "compress", model, "--sweep", "--calib", calib, "--inputs", inputs, "--ratios", "1.5,12",
        "--clusters", "4", "--min-cosine", "0.5", "--plot", plot, "--json", js,
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "1.5x" in out and "12x" in out and "pooler_output" in out
    assert "recommended: --embedding-budget" in out
    assert plot.read_text().lstrip().startswith("<?xml")
    points = json.loads(js.read_text())
    assert [p["ratio"] for p in points] == [None, 1.5, 12.0]
    # more compression, larger reconstruction error
    assert points[1]["relative_error"] < points[2]["relative_error"]
    assert np.isfinite(points[2]["cosine"]["pooler_output"][1])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--embedding-budget", "lots"], "expected BYTES or a ratio"),
        (["--embedding-budget", "100"], "does not hold the cluster ids"),
    ],
)
def test_bad_budget_is_an_error(
    args: list[str],
    message: str,
    bert_tiny: tuple[Path, Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    model, calib, _ = bert_tiny
    with pytest.raises(SystemExit) as exit_:
        _mote("compile", model, "-o", tmp_path / "x", "--calib", calib, *args)
    assert exit_.value.code == 1
    assert message in capsys.readouterr().err


def test_sweep_needs_inputs(bert_tiny: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        _mote("compress", bert_tiny[0], "--sweep")
    assert exit_.value.code == 1
    assert "needs --calib" in capsys.readouterr().err
