"""Every Deeploy integer network, imported into qtfm, reproduces its golden outputs exactly
in the reference interpreter, also after the fusion passes and after a print/parse trip."""

from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from xdsl.parser import Parser
from xdsl.printer import Printer

from compiler.frontend.deeploy import import_integer_network
from compiler.frontend.onnx_model import load_onnx
from compiler.reference.interpreter import Interpreter
from compiler.tools.ir_files import mote_context
from compiler.transforms.fuse_linear import FuseLinear
from compiler.transforms.fuse_requant import FuseRequant
from tests.deeploy_networks import NETWORKS, golden, network_id

assert len(NETWORKS) == 14, "../shared/deeploy_tests must sit beside the checkout"


def _import(path: Path):
    model = load_onnx(path / "network.onnx")
    inputs, outputs = golden(path)
    module, weights = import_integer_network(model, inputs, "w.npz")
    module.verify()
    return module, weights, inputs[: len(model.graph_inputs())], outputs


def _mismatches(results: list[np.ndarray], outputs: list[np.ndarray]) -> int:
    assert len(results) == len(outputs)
    return sum(
        int((r.astype(np.int64) != g.astype(np.int64).reshape(r.shape)).sum())
        for r, g in zip(results, outputs, strict=True)
    )


@pytest.mark.parametrize("path", NETWORKS, ids=network_id)
def test_reference_reproduces_golden_outputs(path: Path) -> None:
    module, weights, inputs, outputs = _import(path)
    assert _mismatches(Interpreter(module, weights).run(inputs), outputs) == 0


@pytest.mark.parametrize("path", NETWORKS, ids=network_id)
def test_fusion_passes_keep_outputs(path: Path) -> None:
    module, weights, inputs, outputs = _import(path)
    FuseLinear().apply(mote_context(), module)
    FuseRequant().apply(mote_context(), module)
    module.verify()
    assert _mismatches(Interpreter(module, weights).run(inputs), outputs) == 0


@pytest.mark.parametrize("path", NETWORKS, ids=network_id)
def test_imported_ir_round_trips(path: Path) -> None:
    module, *_ = _import(path)
    for generic in (False, True):
        text = StringIO()
        Printer(text, print_generic_format=generic).print_op(module)
        reparsed = Parser(mote_context(), text.getvalue()).parse_module()
        assert str(reparsed) == str(module)


def test_fusion_fires_on_attention() -> None:
    module, *_ = _import(next(p for p in NETWORKS if p.name == "Attention"))
    FuseLinear().apply(mote_context(), module)
    FuseRequant().apply(mote_context(), module)
    names = [op.name for op in module.walk()]
    assert names.count("qtfm.linear") == 6
    assert "qtfm.requant" in names  # the residual branch rescale stays a requant
