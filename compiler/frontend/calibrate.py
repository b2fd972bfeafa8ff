"""Calibration: the range of every float tensor on representative inputs.

onnxruntime (the float oracle) runs the static model with every intermediate tensor exposed
as an output; the quantizer then takes each activation's scale from the largest magnitude
seen. One sample at a time, so memory stays at one sample's activations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import onnx

from compiler.frontend.onnx_graph import FloatGraph
from compiler.frontend.onnx_model import FrontendError

HIST_BINS = 2048


@dataclass(frozen=True)
class Range:
    lo: float
    hi: float
    channels: np.ndarray
    """Largest magnitude per index of the last axis."""
    hist: np.ndarray
    """Counts of |x| in HIST_BINS equal bins over [0, absmax]."""

    @property
    def absmax(self) -> float:
        return max(abs(self.lo), abs(self.hi))

    def clip(self, levels: int) -> float:
        """The clipping threshold c that minimises the expected squared error of rounding
        to `levels` steps of c/levels plus clipping everything beyond c ("MSE
        calibration"); a few rare outliers then do not coarsen every other value."""
        total = self.hist.sum()
        if total == 0 or self.absmax == 0:
            return self.absmax
        width = self.absmax / HIST_BINS
        centers = (np.arange(HIST_BINS) + 0.5) * width
        best, best_err = self.absmax, np.inf
        for k in range(HIST_BINS // 8, HIST_BINS + 1, 8):
            c = k * width
            inside = self.hist[:k].sum()
            clipped = ((centers[k:] - c) ** 2 * self.hist[k:]).sum()
            err = inside * (c / levels) ** 2 / 12 + clipped
            if err < best_err:
                best, best_err = c, err
        return best


def calibrate(graph: FloatGraph, samples: Sequence[Sequence[np.ndarray]]) -> dict[str, Range]:
    """Min and max of every float tensor of `graph`, over all samples."""
    import onnxruntime as ort

    proto = onnx.ModelProto()
    proto.CopyFrom(graph.static)
    existing = {o.name for o in proto.graph.output}
    for v in proto.graph.value_info:
        if v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT and v.name not in existing:
            proto.graph.output.append(v)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])
    except Exception as err:
        raise FrontendError(f"{graph.model.path}: onnxruntime cannot run the model: {err}") from None
    names = [o.name for o in session.get_outputs()]
    lo: dict[str, float] = {}
    hi: dict[str, float] = {}
    chan: dict[str, np.ndarray] = {}
    for outputs in _runs(session, names, samples):
        for name, value in outputs:
            finite = value[np.isfinite(value)]
            if finite.size == 0:
                continue
            lo[name] = min(lo.get(name, np.inf), float(finite.min()))
            hi[name] = max(hi.get(name, -np.inf), float(finite.max()))
            mags = np.abs(np.where(np.isfinite(value), value, 0)).reshape(
                -1, value.shape[-1] if value.ndim else 1
            )
            per = mags.max(axis=0)
            chan[name] = per if name not in chan else np.maximum(chan[name], per)
    hist = {name: np.zeros(HIST_BINS, np.int64) for name in lo}
    for outputs in _runs(session, names, samples):
        for name, value in outputs:
            if name in hist:
                top = max(abs(lo[name]), abs(hi[name])) or 1.0
                mags = np.abs(value[np.isfinite(value)])
                hist[name] += np.histogram(mags, bins=HIST_BINS, range=(0.0, top))[0]
    return {name: Range(lo[name], hi[name], chan[name], hist[name]) for name in lo}


def _runs(session, names: list[str], samples: Sequence[Sequence[np.ndarray]]):  # noqa: ANN001, ANN202
    """Float outputs of every sample, one sample at a time."""
    feeds_meta = session.get_inputs()
    for sample in samples:
        feeds = {}
        for meta, arr in zip(feeds_meta, sample, strict=True):
            dtype = np.int64 if "int64" in meta.type else np.int32 if "int32" in meta.type else np.float32
            feeds[meta.name] = np.asarray(arr).astype(dtype)
        # Float graph inputs need a range too (their scale is the program's input scale);
        # they are no session output, so they are taken from the feeds.
        inputs = [(m.name, feeds[m.name]) for m in feeds_meta if feeds[m.name].dtype.kind == "f"]
        yield inputs + [
            (name, np.asarray(value))
            for name, value in zip(names, session.run(names, feeds), strict=True)
            if np.asarray(value).dtype.kind == "f" and np.asarray(value).size and name not in feeds
        ]
