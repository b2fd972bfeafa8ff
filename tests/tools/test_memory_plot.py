"""The memory plan plots of `mote report --plot`: one rectangle per buffer where the plan puts it,
the planned size, lower bound and peak marked, identical bytes on every run, a PNG of the same
picture, and clear errors for what cannot be drawn."""

import json
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from compiler.errors import MoteError
from compiler.tools.memory_plot import _Buffer, _candidates, colour, overlaps, peak, plot_memory
from tests.deeploy_networks import ROOT

ATTENTION = ROOT / "Kernels" / "Integer" / "Attention"
SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _buf(name: str, size: int, offset: int, first: int, last: int) -> dict:
    return {"name": name, "bytes": size, "offset": offset, "first": first, "last": last}


def synthetic() -> dict:
    """Two levels; L2's peak is at step 4 (a + c + d = 40 KiB), tied later at step 6."""
    kib = 1024
    l2 = [
        _buf("_encoder_layer.0_attention_self_query_Add_output#1", 16 * kib, 0, 1, 4),
        _buf("b#2", 8 * kib, 16 * kib, 2, 3),
        _buf("c#3", 8 * kib, 16 * kib, 4, 8),
        _buf("d#4", 16 * kib, 24 * kib, 4, 6),
        _buf("e#5", 16 * kib, 0, 5, 9),
        _buf("tiny#6", 8, 40 * kib, 9, 9),
    ]
    l1 = [_buf("x#0", 100, 0, 0, 2), _buf("y#1", 60, 104, 1, 3)]
    return {
        "model": "/somewhere/tiny-model.onnx",
        "target": "rv32imc",
        "arena": {
            "L1": {
                "planned_bytes": 168,
                "lower_bound_bytes": 168,
                "buffers": 2,
                "live_at_peak": [],
                "plan": l1,
            },
            "L2": {
                "planned_bytes": 41 * kib,
                "lower_bound_bytes": 40 * kib,
                "buffers": len(l2),
                "live_at_peak": [],
                "plan": l2,
            },
        },
    }


def _svg(report: dict, path: Path) -> ET.Element:
    plot_memory(report, path)
    return ET.parse(path).getroot()


def _all(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [e for e in root.iter(SVG + tag) if e.get("class") == cls]


def _texts(root: ET.Element, cls: str) -> list[str]:
    return ["".join(e.itertext()) for e in _all(root, "text", cls)]


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_svg_has_a_rectangle_per_buffer_and_the_markers(tmp_path: Path) -> None:
    report = synthetic()
    root = _svg(report, tmp_path / "plan.svg")
    rects = _all(root, "rect", "buffer")
    assert len(rects) == 8
    tips = {r.find(SVG + "title").text.split("\n")[0]: r for r in rects}
    assert set(tips) == {b["name"] for lv in report["arena"].values() for b in lv["plan"]}
    assert tips["b#2"].find(SVG + "title").text == "b#2\n8192 bytes at offset 16384..24576\nsteps 2..3"
    # time across, offsets up: b (steps 2..3) ends where c (from step 4) starts; b lies on a
    a, b, c = (tips[n] for n in ("_encoder_layer.0_attention_self_query_Add_output#1", "b#2", "c#3"))
    assert float(b.get("x")) + float(b.get("width")) == pytest.approx(float(c.get("x")), abs=0.02)
    assert float(b.get("y")) + float(b.get("height")) == pytest.approx(float(a.get("y")), abs=0.02)
    assert float(b.get("height")) == pytest.approx(float(a.get("height")) / 2, abs=0.02)
    assert colour("b#2") == tips["b#2"].get("fill") != tips["c#3"].get("fill")

    assert len(_all(root, "line", "planned")) == 2
    bounds = _all(root, "line", "lower-bound")
    assert len(bounds) == 2 and all(e.get("stroke-dasharray") for e in bounds)
    assert len(_all(root, "line", "peak")) == 2
    assert "peak: step 4, 40 KiB live in 3 buffers" in _texts(root, "peak-label")
    assert "peak: step 1, 160 B live in 2 buffers" in _texts(root, "peak-label")
    titles = _texts(root, "title")
    assert titles == ["tiny-model.onnx · rv32imc · L1 arena", "tiny-model.onnx · rv32imc · L2 arena"]
    assert _texts(root, "axis").count("arena offset (KiB)") == 1
    assert _texts(root, "axis").count("arena offset (bytes)") == 1
    assert "planned 41 KiB" in _texts(root, "line-label")
    assert "planned = lower bound 168 B" in _texts(root, "line-label")
    assert not _all(root, "rect", "overlap") and not _texts(root, "warning")
    labels = _texts(root, "label")
    assert "tiny" not in labels and all("#" not in t for t in labels)  # too small; no step suffix
    assert int(root.get("height")) == 2 * 460


def test_svg_is_deterministic(tmp_path: Path) -> None:
    plot_memory(synthetic(), tmp_path / "a.svg")
    plot_memory(synthetic(), tmp_path / "b.svg")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()


def test_png_is_the_same_picture(tmp_path: Path) -> None:
    root = _svg(synthetic(), tmp_path / "plan.svg")
    plot_memory(synthetic(), tmp_path / "a.png")
    plot_memory(synthetic(), tmp_path / "b.PNG")
    assert _png_size(tmp_path / "a.png") == (int(root.get("width")), int(root.get("height")))
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.PNG").read_bytes()


def test_peak_is_the_earliest_largest_step() -> None:
    bufs = [_Buffer("a", 10, 0, 0, 1), _Buffer("b", 10, 10, 1, 1), _Buffer("c", 20, 0, 3, 3)]
    assert peak(bufs) == (1, 20, 2)
    assert peak([]) == (0, 0, 0)


def test_overlapping_buffers_are_drawn_as_a_planner_bug(tmp_path: Path) -> None:
    report = synthetic()
    report["arena"]["L2"]["plan"][1]["offset"] = 8 * 1024  # b now shares bytes with a at steps 2..3
    bad = [
        (a.name, b.name) for a, b in overlaps([_Buffer(**_fields(b)) for b in report["arena"]["L2"]["plan"]])
    ]
    assert bad == [("_encoder_layer.0_attention_self_query_Add_output#1", "b#2")]
    root = _svg(report, tmp_path / "bad.svg")
    (overlap,) = _all(root, "rect", "overlap")
    assert "bytes 8192..16384, steps 2..3" in overlap.find(SVG + "title").text
    assert _texts(root, "warning") == ["1 overlapping pair(s): planner bug"]


def _fields(b: dict) -> dict:
    return {
        "name": b["name"],
        "size": b["bytes"],
        "offset": b["offset"],
        "first": b["first"],
        "last": b["last"],
    }


def test_labels_shorten_exported_names() -> None:
    got = _candidates("_encoder_layer.0_attention_self_query_Add_output#37")
    assert got[0] == "encoder_layer.0_attention_self_query_Add"
    assert "…query_Add" in got and got[-1] == "Add"
    assert _candidates("onnx__MatMul#5") == ["onnx__MatMul", "MatMul"]
    assert _candidates("buffer98#98") == ["buffer98"]


def test_an_empty_arena_draws_an_empty_panel(tmp_path: Path) -> None:
    root = _svg({"model": "m.onnx", "target": "host", "arena": {}}, tmp_path / "e.svg")
    assert not _all(root, "rect", "buffer") and _texts(root, "empty") == ["no arena buffers"]


@pytest.mark.parametrize(
    ("report", "name", "words"),
    [
        (synthetic(), "plan.gif", ["plan.gif", "'.gif'", ".svg or .png"]),
        (synthetic(), "plan", ["no suffix", ".svg or .png"]),
        ({"model": "m.onnx", "target": "host"}, "p.svg", ["no memory plan", "older mote", "compile"]),
        ({"arena": {"L2": {"planned_bytes": 8, "lower_bound_bytes": 8}}}, "p.svg", ["L2", "no buffer plan"]),
        (
            {"arena": {"L2": {"planned_bytes": 8, "lower_bound_bytes": 8, "plan": [{}]}}},
            "p.svg",
            ["malformed"],
        ),
    ],
)
def test_what_cannot_be_drawn_is_a_clear_error(
    tmp_path: Path, report: dict, name: str, words: list[str]
) -> None:
    with pytest.raises(MoteError) as err:
        plot_memory(report, tmp_path / name)
    for word in words:
        assert word in str(err.value)
    assert not (tmp_path / name).exists()


def test_svg_plots_do_not_import_matplotlib(tmp_path: Path) -> None:
    code = (
        "import sys, json; from pathlib import Path; import compiler.tools.mote;"
        "from compiler.tools.memory_plot import plot_memory;"
        f"plot_memory(json.loads(sys.argv[1]), Path({str(tmp_path / 'p.svg')!r}));"
        "assert 'matplotlib' not in sys.modules"
    )
    r = subprocess.run([sys.executable, "-c", code, json.dumps(synthetic())], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.fixture(scope="module")
def attention(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from compiler.tools.compile_model import compile_model

    out = tmp_path_factory.mktemp("attention")
    compile_model(ATTENTION / "network.onnx", out, "host", ATTENTION / "inputs.npz", False)
    return out


def test_compiled_deeploy_attention(attention: Path, tmp_path: Path) -> None:
    report = json.loads((attention / "report.json").read_text())
    (level,) = report["arena"].values()
    root = _svg(report, tmp_path / "a.svg")
    rects = _all(root, "rect", "buffer")
    assert len(rects) == level["buffers"] == len(level["plan"]) > 0
    assert not _all(root, "rect", "overlap")
    assert _texts(root, "title") == ["Attention/network.onnx · host · L2 arena"]
    (label,) = _texts(root, "peak-label")
    step, live, _ = peak([_Buffer(**_fields(b)) for b in level["plan"]])
    assert live == level["lower_bound_bytes"]  # the sizes are multiples of the alignment here
    assert label.startswith(f"peak: step {step}, {live} B live")
    plot_memory(report, tmp_path / "b.svg")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()
    plot_memory(report, tmp_path / "a.png")
    assert _png_size(tmp_path / "a.png") == (int(root.get("width")), int(root.get("height")))
    from matplotlib.image import imread

    pixels = imread(tmp_path / "a.png").reshape(-1, 4)
    assert len(np.unique(pixels, axis=0)) > len(level["plan"])  # drawn, not an empty canvas
