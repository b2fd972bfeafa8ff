"""The npz convention of `mote run`: how input arrays meet a model's inputs, and how outputs
are written back.

Arrays are keyed by the model's input names; when the keys are not input names they are
taken in file order onto the inputs (Deeploy's test data is stored as `arr_0`, `input_0`,
...). An array with one more leading axis than the input holds several samples; outputs are
then stacked the same way, keyed by output name. Arrays that match no input are reported,
never silently ignored.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


class NpzError(Exception):
    """An input file does not fit the model's inputs."""


@dataclass
class Samples:
    """Inputs split into samples; `batched` says whether outputs get a leading sample axis."""

    samples: list[list[np.ndarray]]
    batched: bool
    notes: list[str] = field(default_factory=list)


def read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise NpzError(f"{path}: file not found") from None
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise NpzError(f"{path}: not a readable .npz file ({err})") from None


def match_inputs(
    path: Path,
    arrays: dict[str, np.ndarray],
    names: Sequence[str],
    shapes: Sequence[Sequence[int]],
) -> Samples:
    """Maps the arrays of an npz file onto inputs `names` with static `shapes`."""
    notes: list[str] = []
    if all(n in arrays for n in names):
        ordered = [arrays[n] for n in names]
        extra = [k for k in arrays if k not in names]
    else:
        keys = list(arrays)
        if len(keys) < len(names):
            raise NpzError(
                f"{path}: the model has {len(names)} inputs ({', '.join(names)}) but the file "
                f"holds {len(keys)} arrays ({', '.join(keys) or 'none'})"
            )
        ordered = [arrays[k] for k in keys[: len(names)]]
        extra = keys[len(names) :]
        notes.append(
            f"{path}: keys are not input names; taken in file order: "
            + ", ".join(f"{k} -> {n}" for k, n in zip(keys, names, strict=False))
        )
    if extra:
        notes.append(f"{path}: arrays {', '.join(extra)} match no model input and are not used")

    batched: bool | None = None
    count = 1
    for name, arr, shape in zip(names, ordered, shapes, strict=True):
        if tuple(arr.shape) == tuple(shape):
            this, n = False, 1
        elif arr.ndim == len(shape) + 1 and tuple(arr.shape[1:]) == tuple(shape):
            this, n = True, arr.shape[0]
        else:
            raise NpzError(
                f"{path}: array for input '{name}' has shape {arr.shape}; the model expects "
                f"{tuple(shape)} (or a leading sample axis)"
            )
        if batched is not None and (this != batched or (this and n != count)):
            raise NpzError(f"{path}: inputs disagree on the number of samples")
        batched, count = this, n
    if batched:
        samples = [[arr[i] for arr in ordered] for i in range(count)]
    else:
        samples = [list(ordered)]
    return Samples(samples, bool(batched), notes)


def write_outputs(
    path: Path, names: Sequence[str], results: Sequence[Sequence[np.ndarray]], batched: bool
) -> None:
    """Writes per-sample results keyed by output name, stacked when the inputs were."""
    arrays: dict[str, np.ndarray] = {}
    for i, name in enumerate(names):
        per_sample = [r[i] for r in results]
        arrays[name] = np.stack(per_sample) if batched else per_sample[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)  # type: ignore[arg-type]
