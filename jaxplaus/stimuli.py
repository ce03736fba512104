"""Input currents as functions of time, evaluated inside the simulation step.

A stimulus is a `Waveform` (a fixed table of windowed linear pieces: steps, ramps, pulses,
baselines) times per-channel `gains`. The waveform's shape is the same for a whole population,
so inside a vmapped scan it is evaluated once per time step and shared; each member scales it
by its own gains (the searchable amplitudes). Computing the input from `t` this way avoids
reading a precomputed [steps, population] array, which this project's reference
measurements (not repeated in this repository) put at 4-7x slower on GPUs.

Windows follow figure1.m: `onset < t < offset` (strict) unless a bound is marked closed.
A user stimulus is JSON naming its kind, e.g. {"kind": "step", "amplitude": 500, "onset_ms": 50}.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple, Sequence

import jax.numpy as jnp
import numpy as np

from jaxplaus.errors import UsageError

INF = math.inf


@dataclass(frozen=True)
class Piece:
    """`gain[channel] * (level + slope * (t - ref))` while the window is open."""

    onset: float = -INF
    offset: float = INF
    level: float = 1.0
    slope: float = 0.0
    channel: int = 0
    closed_onset: bool = False
    closed_offset: bool = False

    @property
    def ref(self) -> float:
        return self.onset if math.isfinite(self.onset) else 0.0


class Waveform(NamedTuple):
    onset: Any
    offset: Any
    ref: Any
    level: Any
    slope: Any
    channel: Any
    closed_onset: Any
    closed_offset: Any


def waveform(pieces: Sequence[Piece], n_pieces: int | None = None) -> Waveform:
    """Pack pieces into arrays, padded with inert pieces to `n_pieces` (so waveforms stack)."""
    pieces = list(pieces)
    n_pieces = n_pieces or len(pieces)
    if len(pieces) > n_pieces:
        raise ValueError("more pieces than n_pieces")
    pieces += [Piece(onset=INF, offset=INF, level=0.0)] * (n_pieces - len(pieces))
    column = lambda attr, dtype: np.array([getattr(p, attr) for p in pieces], dtype=dtype)  # noqa: E731
    return Waveform(
        column("onset", np.float32), column("offset", np.float32), column("ref", np.float32),
        column("level", np.float32), column("slope", np.float32), column("channel", np.int32),
        column("closed_onset", bool), column("closed_offset", bool),
    )


def stack(waveforms: Sequence[Waveform]) -> Waveform:
    n = max(len(w.onset) for w in waveforms)
    padded = [_pad(w, n) for w in waveforms]
    return Waveform(*(np.stack(parts) for parts in zip(*padded)))


def _pad(w: Waveform, n: int) -> Waveform:
    extra = n - len(w.onset)
    fill = Waveform(INF, INF, 0.0, 0.0, 0.0, 0, False, False)
    return Waveform(*(np.concatenate([a, np.full(extra, f, dtype=a.dtype)]) for a, f in zip(w, fill)))


def channel_values(w: Waveform, t, dt, n_channels: int):
    """The waveform's channels at time t (shape [n_channels]); gains are applied by the caller."""
    tol = 1e-3 * dt  # t = k*dt in float32: compare with a tolerance far below one step
    after_onset = jnp.where(w.closed_onset, t >= w.onset - tol, t > w.onset + tol)
    before_offset = jnp.where(w.closed_offset, t <= w.offset + tol, t < w.offset - tol)
    value = jnp.where(after_onset & before_offset, w.level + w.slope * (t - w.ref), 0.0)
    one_hot = w.channel[:, None] == jnp.arange(n_channels)[None, :]
    return jnp.sum(jnp.where(one_hot, value[:, None], 0.0), axis=0)


def current(w: Waveform, gains, t, dt):
    """The input current at time t: sum over channels of gain * channel value."""
    values = channel_values(w, t, dt, gains.shape[-1])
    # written out per channel (there are few), not as a dot: under vmap a dot becomes a batched
    # matmul call on every step (docs/performance.md, "The stimulus summed per channel")
    terms = [values[..., c] * gains[..., c] for c in range(gains.shape[-1])]
    return functools.reduce(jnp.add, terms)


# ---------------------------------------------------------------- user-facing JSON stimuli

def _number(spec: Mapping, key: str, default=None, positive=False) -> float:
    if key not in spec:
        if default is None:
            raise UsageError(f"stimulus {spec.get('kind')!r} needs {key!r}")
        return default
    value = spec[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UsageError(f"stimulus field {key!r} must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise UsageError(f"stimulus field {key!r} must be positive, got {value}")
    return float(value)


def _window(spec):
    """(onset, offset) in ms; an offset at or before the onset would silently make another input."""
    on, off = _number(spec, "onset_ms", 0.0), _number(spec, "offset_ms", INF)
    if off <= on:
        raise UsageError(f"stimulus field 'offset_ms' ({off:g}) must come after 'onset_ms' ({on:g})")
    return on, off


def _step(spec):
    on, off = _window(spec)
    return [Piece(on, off, _number(spec, "amplitude"))] + _baseline(spec)


def _ramp(spec):
    on, off = _window(spec)
    return [Piece(on, off, _number(spec, "start", 0.0), _number(spec, "slope"))] + _baseline(spec)


def _pulses(spec):
    times = spec.get("times_ms")
    if not isinstance(times, list) or not times:
        raise UsageError("stimulus 'pulses' needs a non-empty list 'times_ms'")
    width, amplitude = _number(spec, "width_ms", positive=True), _number(spec, "amplitude")
    pieces = [Piece(_number({"t": t}, "t"), _number({"t": t}, "t") + width, amplitude) for t in times]
    return pieces + _baseline(spec)


def _baseline(spec):
    level = _number(spec, "baseline", 0.0)
    return [Piece(level=level)] if level else []


def _sum(spec):
    parts = spec.get("parts")
    if not isinstance(parts, list) or not parts:
        raise UsageError("stimulus 'sum' needs a non-empty list 'parts'")
    return [piece for part in parts for piece in pieces_from_json(part)]


KINDS = {
    "step": (_step, "amplitude, onset_ms=0, offset_ms=inf, baseline=0"),
    "ramp": (_ramp, "slope (per ms), start=0, onset_ms=0, offset_ms=inf, baseline=0"),
    "pulses": (_pulses, "amplitude, times_ms (list), width_ms, baseline=0"),
    "sum": (_sum, "parts (list of stimuli)"),
}
# each kind's fields, besides "kind", read off its line above: a misspelt field (onest_ms) is
# refused, not ignored
FIELDS = {kind: {item.split()[0].split("=")[0] for item in doc.split(", ")} for kind, (_, doc) in KINDS.items()}


def pieces_from_json(spec) -> list[Piece]:
    if not isinstance(spec, dict) or "kind" not in spec:
        raise UsageError('a stimulus is a JSON object with a "kind", e.g. {"kind": "step", "amplitude": 10}')
    kind = spec["kind"]
    if kind not in KINDS:
        raise UsageError(f"unknown stimulus kind {kind!r}; choose from {', '.join(KINDS)}")
    unknown = sorted(set(spec) - FIELDS[kind] - {"kind"})
    if unknown:
        raise UsageError(f"stimulus {kind!r} has no field {', '.join(map(repr, unknown))}; "
                         f"its fields: {KINDS[kind][1]}")
    return KINDS[kind][0](spec)


@dataclass(frozen=True)
class Marks:
    """The times a pattern's criteria refer to, read off a stimulus's pieces (static floats)."""

    end: float  # protocol duration
    steps: tuple[float, ...]  # onsets of positive steps that stay on
    pulses: tuple[tuple[float, float], ...]  # positive windows (onset, offset)
    inhibitions: tuple[tuple[float, float], ...]  # negative windows
    ramps: tuple[tuple[float, float, int, float], ...]  # (onset, offset, channel, height per unit gain)
    positive_bias: bool  # a constant depolarizing input is present
    ramp_slopes: tuple[float, ...] = ()  # per ramp (as ordered in `ramps`), per ms and unit gain

    @property
    def input_class(self) -> str:
        """The source paper's figure groups: ramp, inhibitory, pulses or dc."""
        if self.ramps:
            return "ramp"
        if self.inhibitions:
            return "inhibitory"
        if self.pulses:
            return "pulses"
        return "dc"


def marks(pieces: Sequence[Piece], duration: float) -> Marks:
    finite = math.isfinite
    windows = [p for p in pieces if finite(p.onset) and finite(p.offset) and p.slope == 0]
    ramps = sorted((p for p in pieces if p.slope > 0), key=lambda p: (p.onset if finite(p.onset) else 0.0, p.offset, p.channel))
    return Marks(
        end=float(duration),
        steps=tuple(sorted(p.onset for p in pieces if finite(p.onset) and not finite(p.offset) and p.slope == 0 and p.level > 0)),
        pulses=tuple(sorted((p.onset, p.offset) for p in windows if p.level > 0)),
        inhibitions=tuple(sorted((p.onset, p.offset) for p in windows if p.level < 0)),
        ramps=tuple((p.onset if finite(p.onset) else 0.0, p.offset, p.channel,
                     p.level + p.slope * ((p.offset if finite(p.offset) else duration) - p.ref))
                    for p in ramps),
        ramp_slopes=tuple(p.slope for p in ramps),
        positive_bias=any(not finite(p.onset) and not finite(p.offset) and p.level > 0 for p in pieces),
    )
