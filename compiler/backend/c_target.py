"""`mote-opt -t c`: the C emitter as an xDSL target, to read the C a loops-stage module becomes.

It prints model.h, model_weights.h and model.c, one after the other, each after a banner line
naming the file; with `-t 'c{weights=true}'` model_weights.c follows. The weight arrays are
read from the module's `qtfm.weights` file (relative to the current directory) to check them
against their buffers; when that file is not there, only their `extern` declarations are
printed, which is all model.c needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

import numpy as np
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.exceptions import DiagnosticException
from xdsl.utils.target import Target

from compiler.backend.c_emitter import MODEL_C, MODEL_H, WEIGHTS_C, WEIGHTS_H, c_sources
from compiler.errors import MoteError
from compiler.reference.weights import WeightFileError, load_weights


def _available_weights(module: ModuleOp) -> dict[str, np.ndarray] | None:
    try:
        return load_weights(module, None) if module.attributes.get("qtfm.weights") else None
    except (WeightFileError, OSError):
        return None


@dataclass(frozen=True)
class CTarget(Target):
    name = "c"

    weights: bool = False
    """Also print model_weights.c, the weight arrays (needs the weight file)."""

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        try:
            sources = c_sources(module, _available_weights(module), with_weights=self.weights)
        except MoteError as err:
            raise DiagnosticException(f"error: {err}") from err
        names = [MODEL_H, WEIGHTS_H, MODEL_C]
        if self.weights:
            if WEIGHTS_C not in sources.files:
                raise FileNotFoundError(
                    "c{weights=true}: the module's weight file (qtfm.weights) is not available"
                )
            names.append(WEIGHTS_C)
        for i, name in enumerate(names):
            if i:
                output.write("\n")
            output.write(f"/* ----- {name} ----- */\n")
            output.write(sources[name])
