"""The side file that holds a module's weights, so that IR stays small and quick to parse.

A module names its weight file with the attribute `qtfm.weights = "model.weights.npz"`,
a path relative to the IR file; `qtfm.weight "name"` ops refer to arrays in it by name.
Arrays are stored in their exact integer dtype.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from xdsl.dialects.builtin import IntegerType, ModuleOp, StringAttr

from compiler.npz_io import NpzError, read_npz
from dialects.qtfm import int_range

WEIGHTS_ATTR = "qtfm.weights"


class WeightFileError(Exception):
    """A weight file is missing, unreadable, or lacks an array the IR refers to."""


def numpy_dtype(elem: IntegerType) -> np.dtype:
    """The narrowest numpy dtype that stores an integer element type exactly."""
    lo, hi = int_range(elem)
    for dt in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64):
        info = np.iinfo(dt)
        if info.min <= lo and hi <= info.max:
            return np.dtype(dt)
    raise ValueError(f"no numpy dtype holds {elem}")


def weights_path(module: ModuleOp, ir_path: Path | None) -> Path | None:
    """Where the module's weight file lives, or None when the module names none."""
    attr = module.attributes.get(WEIGHTS_ATTR)
    if attr is None:
        return None
    if not isinstance(attr, StringAttr):
        raise WeightFileError(f"module attribute {WEIGHTS_ATTR} must be a string, got {attr}")
    base = ir_path.parent if ir_path is not None else Path.cwd()
    return base / attr.data


def load_weights(module: ModuleOp, ir_path: Path | None) -> dict[str, np.ndarray]:
    """Loads every array of the module's weight file (empty when it names none)."""
    path = weights_path(module, ir_path)
    if path is None:
        return {}
    try:
        return read_npz(path)
    except NpzError as err:
        raise WeightFileError(f"weight file {err}") from None


def save_weights(path: Path, weights: Mapping[str, np.ndarray]) -> None:
    """Writes weights deterministically (sorted names, no compression timestamps)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(weights):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with zf.open(info, "w") as f:
                np.lib.format.write_array(f, np.array(weights[name], order="C"))
