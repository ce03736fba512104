"""Matplotlib figures of an assessment: traces and spike intervals per input class, convergence.

A pattern's panel shows each kind of optimum it has (`Kind`): the score optimum (best anywhere
in the search bounds) and, for a model with a physiology, the plausibility optimum. The two
kinds' colours (Okabe-Ito blue and orange) differ in lightness as well as hue, and their markers
and line styles differ too, so they stay apart in greyscale and for colour-blind readers.

Layouts are fixed grids with margins in inches rather than constrained layout, whose
measurement of every tick label dominated the time to save a figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.gridspec import GridSpecFromSubplotSpec  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullLocator  # noqa: E402

from jaxplaus import store  # noqa: E402

CLASSES = (("dc", "DC input"), ("ramp", "linear (ramp) input"), ("pulses", "pulse input"),
           ("inhibitory", "inhibitory input"))


@dataclass(frozen=True)
class Kind:
    """How one kind of optimum is named and drawn."""

    key: str  # its key in a panel's optima
    label: str  # legend
    axis_label: str  # prefix of its voltage axis' label
    color: str
    marker: str
    linestyle: str


SCORE = Kind("score", "score optimum", "score", "#0072B2", "o", "-")
PHYSIOLOGICAL = Kind("physiological", "plausibility optimum", "physiological", "#E69F00", "s", "--")
OPTIMUM = Kind("optimum", "optimum", "", "#0072B2", "o", "-")  # a single optimum per pattern
FAILED_COLOR = "#8c8c8c"  # an optimum that does not reproduce its pattern (lowest loss found)
TEXT_COLOR = "#444444"
TICK_SIZE, LABEL_SIZE, TITLE_SIZE = 7, 7, 9
Y_LABEL_GAP, X_LABEL_GAP = 0.34, 0.17  # inches from the axes to the axis labels, past the tick labels


class Shown(NamedTuple):
    """One optimum to draw: its results entry (`passed`, `stimulus`, `spike_times_ms`) and its
    full-resolution response."""

    result: dict
    response: Any


class Panel(NamedTuple):
    """One pattern: its optima keyed by `Kind.key` (None: not found) at step `dt`."""

    pattern: Any
    dt: float
    optima: dict


def input_current(pattern, gains, duration, samples=800):
    """The protocol's input for channel gains: evenly spaced samples plus one either side of
    every onset and offset, so steps and pulses keep their edges (the input is piecewise linear)."""
    pieces = pattern.protocol.pieces
    eps = 1e-6 * duration
    edges = np.array([x for p in pieces for x in (p.onset, p.offset) if math.isfinite(x) and 0 < x < duration])
    t = np.linspace(0.0, duration, samples)
    if len(edges):
        t = t[np.min(np.abs(t[:, None] - edges[None, :]), axis=1) > 2 * eps]
        t = np.sort(np.concatenate([t, edges - eps, edges + eps]))
    current = np.zeros_like(t)
    for p in pieces:
        inside = (t > p.onset) & (t < p.offset)
        current += gains[p.channel] * np.where(inside, p.level + p.slope * (t - p.ref), 0.0)
    return t, current


def _grid(n, cols=3):
    cols = min(n, cols)
    return math.ceil(n / cols), cols


def _outer(k, n, cols) -> tuple[bool, bool]:
    """Whether cell k of n is in the first column, and the lowest of its column: only those carry
    axis labels (the cells share their layout)."""
    return k % cols == 0, k + cols >= n


def _style(ax, x_ticks=True):
    """Few ticks, small labels; no x ticks at all on an axis above another of the same times (ticks
    are most of a figure's drawing time). Axis labels at fixed distances from the axes: placing
    them by the extents of the tick labels measures every tick label of every axis."""
    ax.tick_params(labelsize=TICK_SIZE, length=2.5, pad=1.5)
    ax.yaxis.set_major_locator(MaxNLocator(3))
    ax.xaxis.set_major_locator(MaxNLocator(4) if x_ticks else NullLocator())
    ax.spines[["top", "right"]].set_visible(False)
    box = ax.get_position()
    width, height = box.width * ax.figure.get_figwidth(), box.height * ax.figure.get_figheight()
    ax.yaxis.set_label_coords(-Y_LABEL_GAP / width, 0.5)
    ax.xaxis.set_label_coords(0.5, -X_LABEL_GAP / height)


def _figure(rows, cols, cell_w, cell_h, top_in, legend_kinds, title):
    """A figure with a rows x cols grid of cells (inches), a title and a legend of the kinds above."""
    left, right, bottom, gap_w, gap_h = 0.7, 0.15, 0.45, 0.45, 0.5
    width = left + right + cols * cell_w + (cols - 1) * gap_w
    height = top_in + bottom + rows * cell_h + (rows - 1) * gap_h
    fig = plt.figure(figsize=(width, height))
    grid = fig.add_gridspec(rows, cols, left=left / width, right=1 - right / width, bottom=bottom / height,
                            top=1 - top_in / height, wspace=gap_w / cell_w, hspace=gap_h / cell_h)
    fig.suptitle(title, fontsize=11, x=left / width, y=1 - 0.08 / height, ha="left", va="top")
    if legend_kinds:
        handles = [Line2D([], [], color=k.color, ls=k.linestyle, marker=k.marker, ms=4, lw=1.2, label=k.label)
                   for k in legend_kinds]
        fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(left / width, 1 - 0.38 / height),
                   ncol=len(handles), fontsize=8, frameon=False, handlelength=2.5, borderaxespad=0)
    return fig, grid


def _set_title(ax, text, loc="left", fontsize=TITLE_SIZE, color="black"):
    """A title at a fixed height (an automatic one is moved clear of every axis above it, measured)."""
    ax.set_title(text, loc=loc, fontsize=fontsize, color=color, pad=3, y=1.0)


def _title(pattern):
    return f"({pattern.letter}) {pattern.title}"


def _note(ax, text):
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=LABEL_SIZE,
            color=TEXT_COLOR)


def _same(a: dict, b: dict) -> bool:
    return a["params"] == b["params"] and a["stimulus"] == b["stimulus"]


def _color(kind, shown):
    return kind.color if shown.result.get("passed", True) else FAILED_COLOR


def traces(entries, title, v_unit, i_unit, cols=3):
    """entries: list of (pattern, result dict, response, dt), one optimum per pattern."""
    panels = [Panel(pattern, dt, {OPTIMUM.key: Shown(result, resp)}) for pattern, result, resp, dt in entries]
    return optima_traces(panels, (OPTIMUM,), title, v_unit, i_unit, cols)


def optima_traces(panels, kinds, title, v_unit, i_unit, cols=3):
    """Per pattern, the voltage of each kind of optimum, one above the other, and below them the
    inputs of all of them."""
    rows, cols = _grid(len(panels), cols)
    v_height = 2.0 if len(kinds) == 1 else 1.15
    cell_h = v_height * len(kinds) + 0.75
    legend = kinds if len(kinds) > 1 else ()
    fig, grid = _figure(rows, cols, 3.9, cell_h, 0.75 if legend else 0.45, legend, title)
    for k, panel in enumerate(panels):
        left_column, bottom_row = _outer(k, len(panels), cols)
        cell = GridSpecFromSubplotSpec(len(kinds) + 1, 1, grid[k // cols, k % cols], hspace=0.12,
                                       height_ratios=[v_height] * len(kinds) + [0.75])
        end = panel.pattern.protocol.duration_ms
        ax_i = fig.add_subplot(cell[-1])
        axes_v = [fig.add_subplot(cell[j]) for j in range(len(kinds))]
        first = panel.optima.get(kinds[0].key)
        for j, (kind, ax) in enumerate(zip(kinds, axes_v)):
            shown = panel.optima.get(kind.key)
            same = j > 0 and shown is not None and first is not None and _same(shown.result, first.result)
            _voltage(ax, kind, shown, panel, end, v_unit if left_column else "",
                     f"same as the {kinds[0].axis_label} optimum" if same else "")
        _set_title(axes_v[0], _title(panel.pattern))
        if first is not None and not first.result.get("passed", True):
            _set_title(axes_v[0], "not reproduced", loc="right", fontsize=LABEL_SIZE, color=TEXT_COLOR)
        for kind in kinds:
            shown = panel.optima.get(kind.key)
            if shown is not None:
                ti, cur = input_current(panel.pattern, list(shown.result["stimulus"].values()), end)
                ax_i.plot(ti, cur, color=_color(kind, shown), ls=kind.linestyle, lw=0.9)
        if left_column:
            ax_i.set_ylabel(i_unit, fontsize=LABEL_SIZE)
        if bottom_row:
            ax_i.set_xlabel("time (ms)", fontsize=LABEL_SIZE)
        ax_i.set_xlim(0, end)
        _style(ax_i)
    return fig


def _voltage(ax, kind, shown, panel, end, v_unit, instead=""):
    """The voltage of one optimum (axis labelled when `v_unit`); a note `instead` of it (or for want
    of it)."""
    if v_unit:
        ax.set_ylabel(f"{kind.axis_label}\n{v_unit}" if kind.axis_label else v_unit, fontsize=LABEL_SIZE)
    _style(ax, x_ticks=False)
    ax.set_xlim(0, end)
    if shown is None or instead:
        _note(ax, instead or f"{kind.axis_label} optimum not found")
        ax.set_yticks([])
        return
    v = np.asarray(shown.response.v)
    t = np.arange(len(v)) * panel.dt
    keep = t <= end
    ax.plot(t[keep], v[keep], color=_color(kind, shown), lw=0.8)


def intervals(entries, title):
    """entries: list of (pattern, result dict, response, dt), one optimum per pattern."""
    panels = [Panel(pattern, dt, {OPTIMUM.key: Shown(result, resp)}) for pattern, result, resp, dt in entries]
    return optima_intervals(panels, (OPTIMUM,), title)


def optima_intervals(panels, kinds, title, cols=3):
    """Spike interval against the time of its second spike, each kind of optimum in its style."""
    rows, cols = _grid(len(panels), cols)
    legend = kinds if len(kinds) > 1 else ()
    fig, grid = _figure(rows, cols, 3.4, 1.9, 0.75 if legend else 0.45, legend, title)
    for k, panel in enumerate(panels):
        left_column, bottom_row = _outer(k, len(panels), cols)
        ax = fig.add_subplot(grid[k // cols, k % cols])
        notes = []
        for kind in kinds:
            shown = panel.optima.get(kind.key)
            name = kind.axis_label or "optimum"
            if shown is None:
                notes.append(f"{name}: not found")
                continue
            times = np.asarray(shown.result["spike_times_ms"])
            if len(times) >= 2:
                ax.plot(times[1:], np.diff(times), marker=kind.marker, ls=kind.linestyle, ms=3, lw=0.8,
                        color=_color(kind, shown), mfc="none" if kind.marker == "s" else None)
            else:
                notes.append(f"{name}: {len(times)} spike{'' if len(times) == 1 else 's'}")
        if notes and not ax.lines:
            _note(ax, "\n".join(notes))
            ax.set_yticks([])
        elif notes:  # over the data: on a background
            ax.text(0.98, 0.95, "\n".join(notes), ha="right", va="top", transform=ax.transAxes, fontsize=6.5,
                    color=TEXT_COLOR, bbox={"fc": "white", "ec": "none", "alpha": 0.85, "pad": 1.5})
        ax.set_xlim(0, panel.pattern.protocol.duration_ms)
        _set_title(ax, _title(panel.pattern))
        if bottom_row:
            ax.set_xlabel("time (ms)", fontsize=LABEL_SIZE)
        if left_column:
            ax.set_ylabel("interval (ms)", fontsize=LABEL_SIZE)
        _style(ax)
    return fig


def convergence(history):
    """Best loss so far against the evaluations spent on each pattern (`assess._history`), one line
    per pattern; log axes, since most of the progress happens early and losses span decades."""
    best, spent, names = (np.asarray(history[k]) for k in ("best_loss", "evaluations", "patterns"))
    fig = plt.figure(figsize=(9.0, 4.6))
    ax = fig.add_axes((0.08, 0.12, 0.62, 0.8))
    cmap = plt.get_cmap("tab20")
    styles = ("-", "--")
    for j, name in enumerate(names):
        if len(best):
            ax.plot(spent[:, j], best[:, j] + 1e-3, lw=1.2, color=cmap(j % 20), ls=styles[(j // 10) % 2],
                    label=str(name).replace("_", " "))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.minorticks_off()  # decades suffice, and the minor ticks were a third of the drawing time
    for axis in (ax.xaxis, ax.yaxis):  # plain numbers: the default labels are typeset as mathtext
        axis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    ax.set_xlabel("evaluations spent on the pattern")
    ax.set_ylabel("best loss so far + 0.001")
    ax.set_title("Convergence (loss 0 = pattern present)", loc="left")
    if len(best):
        ax.legend(fontsize=7, ncol=1, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def save(fig, out, stem, dpi=150) -> str:
    """Save `fig` as stem.png (at `dpi`) and stem.svg (text kept as text, no date: reproducible
    files); close it and return the PNG's name."""
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": stem}):
        store.save_figure(fig, out / f"{stem}.png", dpi=dpi, pil_kwargs={"compress_level": 1})  # a fifth larger, faster
        store.save_figure(fig, out / f"{stem}.svg", metadata={"Date": None})
    plt.close(fig)
    return f"{stem}.png"
