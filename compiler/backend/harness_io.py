"""The byte protocol of runtime_c's test harness, seen from Python: the model's inputs go in
as their raw little-endian elements, concatenated in model order, and the outputs come back
the same way (runtime_c/README.md)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from xdsl.ir import Attribute

from compiler.reference.weights import numpy_dtype


def _dtype(typ: Attribute) -> np.dtype:
    return numpy_dtype(typ.element_type).newbyteorder("<")  # type: ignore[attr-defined]


def input_bytes(values: Sequence[np.ndarray], types: Sequence[Attribute]) -> bytes:
    """The harness's stdin for inputs `values` (already checked against `types`)."""
    return b"".join(
        np.ascontiguousarray(x, dtype=_dtype(t)).tobytes() for x, t in zip(values, types, strict=True)
    )


def output_arrays(data: bytes, types: Sequence[Attribute]) -> list[np.ndarray]:
    """The outputs in the harness's stdout, one array per output tensor type."""
    arrays, at = [], 0
    for t in types:
        shape = t.get_shape()  # type: ignore[attr-defined]
        n = int(np.prod(shape, dtype=np.int64))
        arrays.append(np.frombuffer(data, _dtype(t), n, at).reshape(shape))
        at += n * _dtype(t).itemsize
    return arrays
