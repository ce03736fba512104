"""What makes a response physiological: limits on the input and on the response itself.

A pattern counts towards a model's plausibility score only when its optimum lies inside the
model's physiological parameter ranges *and* is driven and behaves like a measured cell: the
injected current stays inside the model's physiological input range, no interval is shorter
than a real neuron's refractoriness allows, and the membrane potential stays between the
reversal potentials that bound it. Each model declares its `Physiology` (with sources, in
`models/base.py`); a model without one has no physiological score.

The limits chosen, and why:
- input: `max_input` in the model's current units, optionally per unit of a parameter (AdEx and
  LIF: a current density per pF of membrane capacitance, so a small cell is not driven like a
  large one);
- shortest interval 2 ms (500 Hz): an absolute refractory period of 1-2 ms bounds the rate of
  cortical neurons, fast-spiking interneurons included (which reach a few hundred Hz);
- membrane potential within [-100, +60] mV: the potassium and sodium reversal potentials
  (about -90 to -100 mV and +50 to +60 mV in mammalian neurons, Hille 2001, "Ion channels of
  excitable membranes", ch. 1) bound what a membrane driven by its own conductances reaches.

A search asks for the response limits with a `margin` (`SEARCH_MARGIN`): an optimiser settles on
the edge of a constraint, and an interval of exactly 2 ms at the search's step is 1.8 ms at a
finer one, so an optimum found without slack would fail validation on the ladder of steps. The
input limit is exact (it is read off the protocol, not the simulation) and keeps no margin.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from jaxplaus import features as F
from jaxplaus.models.base import MIN_INTERVAL_MS, VOLTAGE_RANGE_MV, Physiology
from jaxplaus.patterns import criteria as C

__all__ = ["MIN_INTERVAL_MS", "SEARCH_MARGIN", "VOLTAGE_RANGE_MV", "Physiology", "breakpoint_channels", "criteria", "of",
           "peak_input", "shortest_interval", "voltage_extremes"]


def of(model) -> Physiology | None:
    """The model's declared physiology (None for models without physiological ranges)."""
    return getattr(model, "physiology", None)


def breakpoint_channels(pieces, duration_ms: float) -> np.ndarray:
    """Channel values [breakpoints, channels] just before and after every time the waveform
    changes: the input is piecewise linear, so its extremes over the protocol are among them."""
    times = {0.0, float(duration_ms)}
    for p in pieces:
        times |= {x for x in (p.onset, p.offset) if math.isfinite(x) and 0.0 <= x <= duration_ms}
    probes = np.array(sorted({min(max(t + d, 0.0), duration_ms) for t in times for d in (-1e-3, 1e-3)}))
    out = np.zeros((len(probes), max(p.channel for p in pieces) + 1))
    for p in pieces:  # static numbers (this runs while a program is traced), so numpy
        inside = (probes > p.onset) & (probes < p.offset)
        out[:, p.channel] += np.where(inside, p.level + p.slope * (probes - p.ref), 0.0)
    return out


def peak_input(channels: np.ndarray, gains):
    """Largest |input| of the protocol for channel gains [..., n_gains] (padded gains ignored);
    numpy gains are computed with numpy (a report's few optima: no program to compile)."""
    n = channels.shape[1]
    xp = np if isinstance(gains, np.ndarray) else jnp
    return xp.max(xp.abs(xp.einsum("bc,...c->...b", xp.asarray(channels, xp.float32), gains[..., :n])), axis=-1)


NO_INTERVAL = 1e9  # "shortest interval" of a response with fewer than two spikes (finite: graded)


def shortest_interval(response: F.Response):
    """The shortest inter-spike interval (NO_INTERVAL with fewer than two spikes)."""
    t = response.spike_times
    isi = jnp.where(jnp.isfinite(t[1:]) & jnp.isfinite(t[:-1]), t[1:] - t[:-1], NO_INTERVAL)
    return jnp.min(isi, axis=-1)


def voltage_extremes(response: F.Response, end: float):
    """(lowest sample of v, highest v) during the protocol."""
    inside = response.t <= end
    return (jnp.min(jnp.where(inside, response.v, jnp.inf)),
            jnp.max(jnp.where(inside, response.v_max, -jnp.inf)))


# the search's slack on the response limits: intervals 25% above the shortest, voltages 2.5 mV inside
SEARCH_MARGIN = 0.25
VOLTAGE_SCALE_MV = 10.0


def criteria(phys: Physiology, response: F.Response, peak, params, end: float,
             margin: float = 0.0) -> list[C.Criterion]:
    """The limits as criteria: graded violations for the search, holds() for validation;
    `margin` > 0 tightens the response limits (see SEARCH_MARGIN)."""
    limit = phys.input_limit(params)
    out = [
        C.Criterion("peak |input| / physiological limit", peak / limit, high=1.0, scale=1.0),
        C.Criterion("shortest interval (ms)", shortest_interval(response),
                    low=phys.min_interval_ms * (1.0 + margin), scale=phys.min_interval_ms),
    ]
    if phys.voltage_range is not None:
        lowest, highest = voltage_extremes(response, end)
        low, high = phys.voltage_range
        inset = margin * VOLTAGE_SCALE_MV
        out += [C.Criterion("lowest v (mV)", lowest, low=low + inset, scale=VOLTAGE_SCALE_MV),
                C.Criterion("highest v (mV)", highest, high=high - inset, scale=VOLTAGE_SCALE_MV)]
    return out
