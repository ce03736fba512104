"""Matplotlib figures of an assessment: traces and spike intervals per input class, convergence."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import jax.numpy as jnp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from jaxplaus import stimuli  # noqa: E402

CLASSES = (("dc", "DC input"), ("ramp", "linear (ramp) input"), ("pulses", "pulse input"),
           ("inhibitory", "inhibitory input"))
PASS_COLOR, FAIL_COLOR, INPUT_COLOR = "#1f5fa8", "#b03a2e", "#555555"


def input_current(pattern, gains, dt, duration):
    t = np.arange(int(round(duration / dt)) + 1) * dt
    wave = stimuli.waveform(pattern.protocol.pieces)
    g = jnp.asarray(gains, jnp.float32)
    current = [float(stimuli.current(wave, g, jnp.float32(x), dt)) for x in t[:: max(1, len(t) // 800)]]
    return t[:: max(1, len(t) // 800)], np.asarray(current)


def _grid(n, cols=3):
    cols = min(n, cols)
    return math.ceil(n / cols), cols


def traces(entries, title, v_unit, i_unit, cols=3):
    """entries: list of (pattern, result dict, response, dt). Voltage above, input below."""
    rows, cols = _grid(len(entries), cols)
    fig = plt.figure(figsize=(4.2 * cols, 2.9 * rows), constrained_layout=True)
    sub = fig.subfigures(rows, cols, squeeze=False)
    for k, (pattern, result, resp, dt) in enumerate(entries):
        cell = sub[k // cols][k % cols]
        ax_v, ax_i = cell.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
        t = np.arange(len(resp.v)) * dt
        end = pattern.protocol.duration_ms
        keep = t <= end
        color = PASS_COLOR if result["passed"] else FAIL_COLOR
        ax_v.plot(t[keep], np.asarray(resp.v)[keep], color=color, lw=0.9)
        ax_v.set_title(f"({pattern.letter}) {pattern.title}" + ("" if result["passed"] else "  [not reproduced]"),
                       fontsize=9, loc="left")
        ax_v.set_ylabel(v_unit, fontsize=7)
        ti, cur = input_current(pattern, list(result["stimulus"].values()), dt, end)
        ax_i.plot(ti, cur, color=INPUT_COLOR, lw=0.9)
        ax_i.set_ylabel(i_unit, fontsize=7)
        ax_i.set_xlabel("time (ms)", fontsize=7)
        for ax in (ax_v, ax_i):
            ax.tick_params(labelsize=7)
            ax.spines[["top", "right"]].set_visible(False)
            ax.set_xlim(0, end)
    fig.suptitle(title, fontsize=11)
    return fig


def intervals(entries, title):
    """Spike interval vs time of the interval's second spike, per pattern."""
    rows, cols = _grid(len(entries))
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.4 * rows), squeeze=False, constrained_layout=True)
    for k, (pattern, result, resp, dt) in enumerate(entries):
        ax = axes[k // cols][k % cols]
        times = np.asarray(result["spike_times_ms"])
        if len(times) >= 2:
            ax.plot(times[1:], np.diff(times), "o-", ms=3, lw=0.8, color=PASS_COLOR if result["passed"] else FAIL_COLOR)
        else:
            ax.text(0.5, 0.5, f"{len(times)} spike(s)", ha="center", va="center", transform=ax.transAxes, fontsize=8)
        ax.set_xlim(0, pattern.protocol.duration_ms)
        ax.set_title(f"({pattern.letter}) {pattern.title}", fontsize=9, loc="left")
        ax.set_xlabel("time (ms)", fontsize=7)
        ax.set_ylabel("interval (ms)", fontsize=7)
        ax.tick_params(labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)
    for k in range(len(entries), rows * cols):
        axes[k // cols][k % cols].axis("off")
    fig.suptitle(title, fontsize=11)
    return fig


def convergence(history, names, restarts, evaluations_per_generation):
    """Best loss so far (over restarts) against evaluations, one line per pattern."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2), constrained_layout=True)
    if len(history):
        best = history.reshape(len(history), len(names), restarts).min(axis=2)
        x = (np.arange(len(history)) + 1) * evaluations_per_generation
        cmap = plt.get_cmap("tab20")
        for j, name in enumerate(names):
            ax.plot(x, best[:, j] + 1e-3, lw=1.0, color=cmap(j % 20), label=name)
    ax.set_yscale("log")
    ax.set_xlabel("evaluations per pattern")
    ax.set_ylabel("best loss + 0.001")
    ax.set_title("Convergence (loss 0 = pattern present)")
    ax.legend(fontsize=6, ncol=2, loc="upper right", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig
