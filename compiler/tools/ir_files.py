"""Reading and writing qtfm IR files with their weights, for the `mote` driver.

A compiled model directory holds `model.mlir` (IR that names `weights.npz`) and the weights
beside it; IR files given on the command line may name their own weight file, relative to
themselves. Parse and verifier errors come back located (file:line:col).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from xdsl.context import Context
from xdsl.dialects import get_all_dialects
from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.printer import Printer

from compiler.reference.weights import WEIGHTS_ATTR, load_weights, save_weights
from compiler.tools.diagnostics import LocatingParser, OpLocations, verify_with_locations
from compiler.universe import get_mote_dialects


def mote_context() -> Context:
    """A context that knows every upstream dialect and every mote dialect."""
    ctx = Context()
    for name, factory in {**get_all_dialects(), **get_mote_dialects()}.items():
        if name not in ctx.registered_dialect_names:
            ctx.register_dialect(name, factory)
    return ctx


def read_ir(path: Path) -> tuple[ModuleOp, dict[str, np.ndarray]]:
    """Parses and verifies an IR file and loads the weights it names."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: file not found") from None
    parser = LocatingParser(mote_context(), text, str(path))
    module = parser.parse_module()
    verify_with_locations(module, OpLocations(str(path), parser.spans))
    return module, load_weights(module, path)


def write_ir(
    module: ModuleOp, weights: dict[str, np.ndarray], path: Path, shared_weights: Path | None = None
) -> None:
    """Writes `module` to `path` with its weights in `<stem>.weights.npz` beside it, or
    referring to an existing `shared_weights` file (IR dumps of the stages of one compile)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if shared_weights is None:
        weights_file = path.with_suffix(".weights.npz")
        save_weights(weights_file, weights)
        reference = weights_file.name
    else:
        reference = os.path.relpath(shared_weights, path.parent)
    module.attributes[WEIGHTS_ATTR] = StringAttr(reference)
    with path.open("w") as f:
        Printer(stream=f).print_op(module)
        f.write("\n")
