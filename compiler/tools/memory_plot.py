"""`mote report DIR --plot FILE`: draws the static memory plan of a compiled model.

A memory planner is judged by eye: schedule steps across, arena offsets up, one rectangle per
buffer over its lifetime, so that wasted space, the peak and a planner bug (two rectangles that
overlap) show at a glance. The picture is laid out once as a list of shapes in pixels; the SVG
writer serialises them with no dependency (deterministic bytes, a tooltip per buffer) and the PNG
writer rasterises the same shapes with matplotlib, imported only when a PNG is asked for.
"""

from __future__ import annotations

import colorsys
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from compiler.errors import MoteError

SUFFIXES = (".svg", ".png")

# Layout, in pixels. The plot area grows with the number of steps, within bounds.
PANEL_HEIGHT = 460
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 78, 190, 62, 46
PX_PER_STEP = 6
PLOT_WIDTH_MIN, PLOT_WIDTH_MAX = 720, 2400
DPI = 100
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
CHAR_WIDTH = 0.62  # of the font size: a safe average for DejaVu Sans, used to decide what fits
LABEL_SIZES = (11.0, 9.0, 7.5)

PLANNED_COLOUR, BOUND_COLOUR, PEAK_COLOUR, OVERLAP_COLOUR = "#1f3b73", "#2a7f3f", "#c0392b", "#e00000"


# --- the plan, read and checked --------------------------------------------------------------------


@dataclass(frozen=True)
class _Buffer:
    name: str
    size: int
    offset: int
    first: int
    last: int


@dataclass(frozen=True)
class _Level:
    level: str
    planned: int
    lower_bound: int
    buffers: list[_Buffer]


def _levels(report: dict) -> list[_Level]:
    arena = report.get("arena") if isinstance(report, dict) else None
    if not isinstance(arena, dict):
        raise MoteError(
            "the report has no memory plan (no 'arena' section); it was written by an older mote: "
            "compile the model again"
        )
    levels = []
    for level, figures in arena.items():
        plan = figures.get("plan") if isinstance(figures, dict) else None
        if not isinstance(plan, list):
            raise MoteError(
                f"the report's arena level {level} has no buffer plan; it was written by an older mote: "
                "compile the model again"
            )
        try:
            buffers = [
                _Buffer(str(b["name"]), int(b["bytes"]), int(b["offset"]), int(b["first"]), int(b["last"]))
                for b in plan
            ]
            levels.append(
                _Level(str(level), int(figures["planned_bytes"]), int(figures["lower_bound_bytes"]), buffers)
            )
        except (KeyError, TypeError, ValueError) as err:
            raise MoteError(f"the report's memory plan for level {level} is malformed: {err!r}") from None
    return levels


def peak(buffers: Sequence[_Buffer]) -> tuple[int, int, int]:
    """(step, bytes, buffers) where the live bytes are largest, the earliest such step; (0, 0, 0)
    without buffers. A buffer is live at steps first..last inclusive."""
    if not buffers:
        return 0, 0, 0
    lo = min(b.first for b in buffers)
    hi = max(b.last for b in buffers)
    live, count = [0] * (hi - lo + 2), [0] * (hi - lo + 2)
    for b in buffers:
        live[b.first - lo] += b.size
        live[b.last - lo + 1] -= b.size
        count[b.first - lo] += 1
        count[b.last - lo + 1] -= 1
    best = (-1, 0, 0)
    total = n = 0
    for k in range(hi - lo + 1):
        total += live[k]
        n += count[k]
        if total > best[0]:
            best = (total, lo + k, n)
    return best[1], best[0], best[2]


def overlaps(buffers: Sequence[_Buffer]) -> list[tuple[_Buffer, _Buffer]]:
    """Pairs of buffers live at a common step that share bytes: each one a planner bug."""
    found = []
    active: list[_Buffer] = []
    for b in sorted((b for b in buffers if b.size > 0), key=lambda b: (b.first, b.offset, b.name)):
        active = [a for a in active if a.last >= b.first]
        found += [(a, b) for a in active if a.offset < b.offset + b.size and b.offset < a.offset + a.size]
        active.append(b)
    return found


# --- numbers for people ----------------------------------------------------------------------------


def _bytes(n: int) -> str:
    """Exact below 10 KiB, else KiB (MiB from 10 MiB), one decimal unless whole."""
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= 10 * scale:
            v = n / scale
            return f"{v:.0f} {unit}" if v == int(v) else f"{v:.1f} {unit}"
    return f"{n} B"


def _exact(n: int) -> str:
    short = _bytes(n)
    return short if short == f"{n} B" else f"{short} ({n} B)"


def _axis_unit(top: int) -> tuple[str, int]:
    if top >= 16 << 20:
        return "MiB", 1 << 20
    if top >= 16 << 10:
        return "KiB", 1 << 10
    return "bytes", 1


def _ticks(lo: float, hi: float, want: int = 7, binary: bool = False) -> list[int]:
    """Round values from lo to hi: multiples of a power of two (memory sizes) or of 1, 2 or 5
    times a power of ten (steps); never finer than 1."""
    raw = max((hi - lo) / want, 1.0)
    if binary:
        step = 1 << math.ceil(math.log2(raw))
    else:
        mag = 10 ** math.floor(math.log10(raw))
        step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return list(range(first, math.floor(hi) + 1, step))


def colour(name: str) -> str:
    """A light colour of its own for every buffer name, the same on every run."""
    h = zlib.crc32(name.encode())
    r, g, b = colorsys.hls_to_rgb((h % 360) / 360, 0.70 + (h >> 9) % 10 / 100, 0.45 + (h >> 13) % 20 / 100)
    return "#{:02x}{:02x}{:02x}".format(*(round(255 * c) for c in (r, g, b)))


def _candidates(name: str) -> list[str]:
    """Labels for a buffer, most telling first. The `#step` suffix, leading underscores and a
    trailing `_output` go; an exported name is a module path then an op name (`encoder_layer.0_
    attention_self_query` + `Add`): shorter labels keep the end of the path, then drop the op."""
    base = name.rsplit("#", 1)[0].lstrip("_") or name
    if base.endswith("_output") and len(base) > len("_output"):
        base = base[: -len("_output")]
    parts = [p for p in base.split("_") if p]
    if len(parts) > 1 and parts[0] == "onnx":  # torch's `onnx::` tensor prefix says nothing
        parts = parts[1:]
    op_at = next((k for k, p in enumerate(parts) if p[0].isupper()), len(parts))
    path, op = parts[:op_at], "_".join(parts[op_at:])
    out = [base]
    for with_op in [True, False] if op else [False]:
        for k in range(len(path)):
            tail = "_".join(path[k:] + ([op] if with_op else []))
            out.append(("…" if k else "") + tail)
    out.append(op or parts[-1] if parts else base)
    return list(dict.fromkeys(c for c in out if c))


# --- the picture as shapes in pixels ---------------------------------------------------------------


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    stroke: str = "none"
    stroke_width: float = 0.0
    cls: str = ""
    tooltip: str = ""
    opacity: float = 1.0


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str
    width: float = 1.0
    dash: tuple[float, ...] = ()
    cls: str = ""


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    size: float = 11.0
    anchor: str = "start"  # start | middle | end
    fill: str = "#222222"
    bold: bool = False
    rotate: bool = False  # read bottom to top
    cls: str = ""


@dataclass
class Scene:
    width: int
    height: int
    shapes: list[Rect | Line | Text] = field(default_factory=list)


def _model_name(report: dict) -> str:
    model = Path(str(report.get("model", "model")))
    if model.stem in {"network", "model"} and model.parent.name:
        return f"{model.parent.name}/{model.name}"
    return model.name


def _label(b: _Buffer, x: float, y: float, w: float, h: float) -> Text | None:
    """The longest label of `b` that fits its rectangle, across or (in a tall one) upwards."""
    best: Text | None = None
    for size in LABEL_SIZES:
        for rotate, along, across in ((False, w, h), (True, h, w)):
            if across < size + 2:
                continue
            fits = [c for c in _candidates(b.name) if len(c) * CHAR_WIDTH * size <= along - 4]
            if fits and (best is None or len(fits[0]) > len(best.text)):
                best = Text(x + w / 2, y + h / 2, fits[0], size, "middle", rotate=rotate, cls="label")
        if best is not None:
            return best
    return None


def _panel(scene: Scene, top: float, plot_w: int, report: dict, lv: _Level) -> None:
    shapes = scene.shapes
    x0, y0 = MARGIN_LEFT, top + MARGIN_TOP
    plot_h = PANEL_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    bufs = lv.buffers
    steps_lo = min((b.first for b in bufs), default=0)
    steps_hi = max((b.last + 1 for b in bufs), default=1)
    y_top = max([lv.planned, lv.lower_bound, 1] + [b.offset + b.size for b in bufs])
    unit, scale = _axis_unit(y_top)
    y_max = y_top * 1.06

    def px(step: float) -> float:
        return x0 + (step - steps_lo) / (steps_hi - steps_lo) * plot_w

    def py(offset: float) -> float:
        return y0 + plot_h - offset / y_max * plot_h

    target = report.get("target", "?")
    shapes.append(
        Text(
            x0, top + 22, f"{_model_name(report)} · {target} · {lv.level} arena", 15.0, bold=True, cls="title"
        )
    )
    pk_step, pk_bytes, pk_n = peak(bufs)
    bad = overlaps(bufs)
    subtitle = f"{len(bufs)} buffers, {_exact(lv.planned)} planned, lower bound {_exact(lv.lower_bound)}"
    shapes.append(Text(x0, top + 42, subtitle, 11.0, fill="#444444", cls="subtitle"))
    if bad:
        shapes.append(
            Text(
                x0 + plot_w,
                top + 42,
                f"{len(bad)} overlapping pair(s): planner bug",
                11.0,
                "end",
                OVERLAP_COLOUR,
                bold=True,
                cls="warning",
            )
        )
    shapes.append(Rect(x0, y0, plot_w, plot_h, "#fbfbfb", "#888888", 1.0, cls="frame"))

    # grid and axes
    for v in _ticks(0, y_top / scale, binary=True):
        y = py(v * scale)
        shapes.append(Line(x0, y, x0 + plot_w, y, "#e4e4e4", 1.0, cls="grid"))
        shapes.append(Text(x0 - 6, y, str(v), 10.0, "end", cls="tick"))
    for v in _ticks(steps_lo, steps_hi, want=max(4, plot_w // 90)):
        x = px(v)
        shapes.append(Line(x, y0, x, y0 + plot_h, "#eeeeee", 1.0, cls="grid"))
        shapes.append(Text(x, y0 + plot_h + 14, str(v), 10.0, "middle", cls="tick"))
    shapes.append(Text(x0 + plot_w / 2, y0 + plot_h + 34, "schedule step", 11.0, "middle", cls="axis"))
    shapes.append(
        Text(22, y0 + plot_h / 2, f"arena offset ({unit})", 11.0, "middle", rotate=True, cls="axis")
    )

    # the buffers, then the overlaps and all labels on top
    labels: list[Text] = []
    for b in sorted(bufs, key=lambda b: (b.first, b.offset, b.name)):
        x, w = px(b.first), px(b.last + 1) - px(b.first)
        y = py(b.offset + b.size)
        h = max(py(b.offset) - y, 1.0)
        tip = f"{b.name}\n{b.size} bytes at offset {b.offset}..{b.offset + b.size}\nsteps {b.first}..{b.last}"
        shapes.append(Rect(x, y, w, h, colour(b.name), "#333333", 0.6, cls="buffer", tooltip=tip))
        label = _label(b, x, y, w, h)
        if label is not None:
            labels.append(label)
    for a, b in bad:
        lo, hi = max(a.offset, b.offset), min(a.offset + a.size, b.offset + b.size)
        first, last = max(a.first, b.first), min(a.last, b.last)
        tip = f"overlap: {a.name} and {b.name}, bytes {lo}..{hi}, steps {first}..{last}"
        shapes.append(
            Rect(px(first), py(hi), px(last + 1) - px(first), max(py(lo) - py(hi), 1.0), OVERLAP_COLOUR,
                 OVERLAP_COLOUR, 1.5, cls="overlap", tooltip=tip, opacity=0.55)
        )  # fmt: skip
    shapes += labels

    # planned size, lower bound, peak
    right = x0 + plot_w
    y_plan, y_bound = py(lv.planned), py(lv.lower_bound)
    shapes.append(Line(x0, y_plan, right, y_plan, PLANNED_COLOUR, 1.6, cls="planned"))
    shapes.append(Line(x0, y_bound, right, y_bound, BOUND_COLOUR, 1.4, (6.0, 4.0), cls="lower-bound"))
    if lv.planned == lv.lower_bound:
        shapes.append(Text(right + 8, y_plan, f"planned = lower bound {_bytes(lv.planned)}", 10.5,
                           fill=PLANNED_COLOUR, cls="line-label"))  # fmt: skip
    else:
        apart = abs(y_bound - y_plan) < 14
        shapes.append(Text(right + 8, y_plan - (7 if apart else 0), f"planned {_bytes(lv.planned)}", 10.5,
                           fill=PLANNED_COLOUR, cls="line-label"))  # fmt: skip
        shapes.append(Text(right + 8, y_bound + (7 if apart else 0), f"lower bound {_bytes(lv.lower_bound)}",
                           10.5, fill=BOUND_COLOUR, cls="line-label"))  # fmt: skip
    if bufs:
        xp = px(pk_step + 0.5)
        shapes.append(Line(xp, y0, xp, y0 + plot_h, PEAK_COLOUR, 1.4, (3.0, 2.0), cls="peak"))
        note = f"peak: step {pk_step}, {_bytes(pk_bytes)} live in {pk_n} buffers"
        anchor = "start" if xp < x0 + plot_w * 0.6 else "end"
        shapes.append(Text(xp + (5 if anchor == "start" else -5), y0 + 12, note, 10.5, anchor, PEAK_COLOUR,
                           bold=True, cls="peak-label"))  # fmt: skip
    else:
        shapes.append(Text(x0 + plot_w / 2, y0 + plot_h / 2, "no arena buffers", 13.0, "middle", cls="empty"))


def layout(report: dict) -> Scene:
    """The picture of every memory level of `report`, one panel below the other."""
    levels = _levels(report) or [_Level("(none)", 0, 0, [])]
    spans = [max((b.last + 1 for b in lv.buffers), default=1) - min((b.first for b in lv.buffers), default=0)
             for lv in levels]  # fmt: skip
    plot_w = min(PLOT_WIDTH_MAX, max(PLOT_WIDTH_MIN, PX_PER_STEP * max(spans)))
    scene = Scene(MARGIN_LEFT + plot_w + MARGIN_RIGHT, PANEL_HEIGHT * len(levels))
    scene.shapes.append(Rect(0, 0, scene.width, scene.height, "#ffffff", cls="background"))
    for k, lv in enumerate(levels):
        _panel(scene, k * PANEL_HEIGHT, plot_w, report, lv)
    return scene


# --- writers -----------------------------------------------------------------------------------------


def _f(v: float) -> str:
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def _svg_shape(s: Rect | Line | Text) -> str:
    cls = f' class="{s.cls}"' if s.cls else ""
    if isinstance(s, Rect):
        attrs = f'x="{_f(s.x)}" y="{_f(s.y)}" width="{_f(s.w)}" height="{_f(s.h)}" fill="{s.fill}"'
        if s.stroke != "none":
            attrs += f' stroke="{s.stroke}" stroke-width="{_f(s.stroke_width)}"'
        if s.opacity < 1:
            attrs += f' fill-opacity="{_f(s.opacity)}"'
        if s.tooltip:
            return f"<rect{cls} {attrs}><title>{escape(s.tooltip)}</title></rect>"
        return f"<rect{cls} {attrs}/>"
    if isinstance(s, Line):
        dash = f' stroke-dasharray="{",".join(_f(d) for d in s.dash)}"' if s.dash else ""
        return (
            f'<line{cls} x1="{_f(s.x1)}" y1="{_f(s.y1)}" x2="{_f(s.x2)}" y2="{_f(s.y2)}" '
            f'stroke="{s.stroke}" stroke-width="{_f(s.width)}"{dash}/>'
        )
    weight = ' font-weight="bold"' if s.bold else ""
    turn = f' transform="rotate(-90 {_f(s.x)} {_f(s.y)})"' if s.rotate else ""
    return (
        f'<text{cls} x="{_f(s.x)}" y="{_f(s.y)}" font-size="{_f(s.size)}" text-anchor="{s.anchor}" '
        f'dominant-baseline="central" fill="{s.fill}"{weight}{turn}>{escape(s.text)}</text>'
    )


def to_svg(scene: Scene) -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{scene.width}" height="{scene.height}" '
        f'viewBox="0 0 {scene.width} {scene.height}" font-family={quoteattr(FONT)}>',
        *(_svg_shape(s) for s in scene.shapes),
        "</svg>",
    ]
    return "\n".join(lines) + "\n"


def _write_png(scene: Scene, path: Path) -> None:
    """Rasterises the scene with matplotlib's Agg canvas (no pyplot, no global backend state),
    shape after shape in scene order, like the SVG; runs of rectangles go in one collection."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PatchCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    fig = Figure(figsize=(scene.width / DPI, scene.height / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, scene.width)
    ax.set_ylim(scene.height, 0)
    ax.set_axis_off()
    pt = 72 / DPI  # points per pixel
    ha = {"start": "left", "middle": "center", "end": "right"}
    run: list[Rect] = []

    def flush(z: int) -> None:
        if run:
            ax.add_collection(
                PatchCollection(
                    [Rectangle((r.x, r.y), r.w, r.h) for r in run],
                    facecolors=[_rgba(r.fill, r.opacity) for r in run],
                    edgecolors=[_rgba(r.stroke, 1.0) if r.stroke != "none" else (0, 0, 0, 0) for r in run],
                    linewidths=[r.stroke_width * pt for r in run],
                    zorder=z,
                )
            )
            run.clear()

    for z, s in enumerate(scene.shapes):
        if isinstance(s, Rect):
            run.append(s)
            continue
        flush(z - 1)
        if isinstance(s, Line):
            # dash lengths are in points times the line width
            style: Any = (0, tuple(d / s.width for d in s.dash)) if s.dash else "solid"
            ax.plot(
                [s.x1, s.x2], [s.y1, s.y2], color=s.stroke, linewidth=s.width * pt, linestyle=style, zorder=z
            )
        else:
            ax.text(
                s.x,
                s.y,
                s.text,
                fontsize=s.size * pt,
                ha=ha[s.anchor],
                va="center",
                color=s.fill,
                fontweight="bold" if s.bold else "normal",
                rotation=90 if s.rotate else 0,
                rotation_mode="anchor",
                zorder=z,
            )
    flush(len(scene.shapes))
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})


def _rgba(hex_colour: str, alpha: float) -> tuple[float, float, float, float]:
    v = int(hex_colour[1:], 16)
    return ((v >> 16) / 255, (v >> 8 & 255) / 255, (v & 255) / 255, alpha)


def plot_memory(report: dict, path: Path) -> None:
    """Draw the memory plan of every level of `report` (a compiled model's report.json) to
    `path`: an SVG written directly, or a PNG drawn with matplotlib."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise MoteError(
            f"{path}: cannot draw a memory plan as '{path.suffix or 'no suffix'}'; name a .svg or .png file"
        )
    scene = layout(report)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".svg":
            path.write_bytes(to_svg(scene).encode("utf-8"))
        else:
            _write_png(scene, path)
    except OSError as err:
        raise MoteError(f"{path}: cannot write the plot: {err.strerror or err}") from None
