"""What every neuron model provides: a parameter space and a pure step function.

A model is a frozen dataclass (hashable, so it can be a static argument of `jax.jit`) with

    param_space: ParamSpace                        # names, units, defaults, bounds
    initial_state(params) -> state pytree
    step(params, state, current, dt) -> (state, spiked, v)
    threshold(params) -> voltage at which a spike is detected (for graded objectives)

`params` is a dict of scalar arrays keyed by parameter name. `step` is pure and jittable; jumps
(spike and reset) are written with `jnp.where`, so the same code vmaps over populations.
`v` is the membrane potential to record; on a spike step it is the spike's peak, as in
Izhikevich's figure1.m, so plots show spikes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, runtime_checkable

import jax.numpy as jnp
import numpy as np

from jaxplaus.errors import UsageError


@dataclass(frozen=True)
class Param:
    """One model (or stimulus) parameter.

    `low`/`high` are the wide search bounds (dynamical expressivity); `physiological`, when
    known, is the narrower range of measured cells (plausibility in the strict sense).
    `domain` is where the equations make sense at all; values outside it are user errors.
    """

    name: str
    default: float
    low: float
    high: float
    unit: str = ""
    log: bool = False
    physiological: tuple[float, float] | None = None
    domain: tuple[float, float] = (-math.inf, math.inf)
    doc: str = ""

    def __post_init__(self):
        if not self.low < self.high:
            raise ValueError(f"{self.name}: bounds must satisfy low < high")
        if self.log and self.low <= 0:
            raise ValueError(f"{self.name}: log-scale bounds must be positive")


@dataclass(frozen=True)
class ParamSpace:
    params: tuple[Param, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def __len__(self) -> int:
        return len(self.params)

    def __getitem__(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}

    def bounds(self, kind: str = "wide") -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper search bounds; `physiological` falls back to wide where unknown."""
        if kind not in ("wide", "physiological"):
            raise UsageError(f"unknown bounds kind {kind!r}; choose wide or physiological")
        pairs = [
            p.physiological if kind == "physiological" and p.physiological else (p.low, p.high)
            for p in self.params
        ]
        low, high = np.array(pairs, dtype=np.float64).T.reshape(2, len(pairs))
        return low, high

    def has_physiological(self) -> bool:
        return any(p.physiological for p in self.params)

    def from_unit(self, z, kind: str = "wide") -> dict[str, jnp.ndarray]:
        """Map points of the unit cube [..., n] to parameter dicts (log where declared).

        Values outside [0, 1] are clipped, so any proposal of a search strategy is valid."""
        low, high = self.bounds(kind)
        z = jnp.clip(jnp.asarray(z), 0.0, 1.0)
        out = {}
        for i, p in enumerate(self.params):
            if p.log:
                out[p.name] = jnp.exp(jnp.log(low[i]) + z[..., i] * (np.log(high[i]) - np.log(low[i])))
            else:
                out[p.name] = low[i] + z[..., i] * (high[i] - low[i])
        return out

    def to_unit(self, values: Mapping[str, Any], kind: str = "wide") -> np.ndarray:
        """Inverse of `from_unit` for a dict of scalars (points outside the bounds fall outside [0,1])."""
        low, high = self.bounds(kind)
        z = []
        for i, p in enumerate(self.params):
            x = float(values[p.name])
            if p.log:
                z.append((np.log(max(x, 1e-300)) - np.log(low[i])) / (np.log(high[i]) - np.log(low[i])))
            else:
                z.append((x - low[i]) / (high[i] - low[i]))
        return np.array(z)

    def within(self, values: Mapping[str, Any], kind: str) -> bool:
        low, high = self.bounds(kind)
        x = np.array([float(values[n]) for n in self.names])
        tol = 1e-5 * np.maximum(np.abs(low), np.abs(high)) + 1e-6  # values come back through float32
        return bool(np.all((x >= low - tol) & (x <= high + tol)))

    def complete(self, given: Mapping[str, Any] | None, what: str = "parameter") -> dict[str, float]:
        """Defaults overridden by `given`, checked: known names, finite numbers, inside the domain."""
        given = dict(given or {})
        unknown = sorted(set(given) - set(self.names))
        if unknown:
            raise UsageError(
                f"unknown {what}(s) {', '.join(unknown)}; known: {', '.join(self.names)}"
            )
        values = self.defaults()
        for name, value in given.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise UsageError(f"{what} {name} must be a number, got {value!r}")
            value = float(value)
            lo, hi = self[name].domain
            if not math.isfinite(value) or not lo <= value <= hi:
                raise UsageError(f"{what} {name}={value} is outside its domain [{lo}, {hi}]")
            values[name] = value
        return values

    def describe(self) -> list[dict]:
        return [
            {
                "name": p.name,
                "default": p.default,
                "bounds": [p.low, p.high],
                "unit": p.unit,
                "log": p.log,
                "physiological": list(p.physiological) if p.physiological else None,
                "doc": p.doc,
            }
            for p in self.params
        ]


# see jaxplaus/physiology.py for why these limits
MIN_INTERVAL_MS = 2.0
VOLTAGE_RANGE_MV = (-100.0, 60.0)


@dataclass(frozen=True)
class Physiology:
    """A model's physiological input range and response limits."""

    max_input: float  # largest |input| in the model's current units (per unit of `input_per`)
    input_per: str | None = None  # a parameter the input limit scales with, e.g. "C" (pA per pF)
    input_unit: str = ""
    voltage_range: tuple[float, float] | None = VOLTAGE_RANGE_MV  # None: v has no physical unit
    min_interval_ms: float = MIN_INTERVAL_MS
    source: str = ""

    def input_limit(self, params):
        """Largest physiological |input| for these parameters (traced or not)."""
        return self.max_input * (params[self.input_per] if self.input_per else 1.0)

    def describe(self) -> dict:
        return {"max_input": self.max_input, "input_unit": self.input_unit, "input_per": self.input_per,
                "voltage_range_mV": list(self.voltage_range) if self.voltage_range else None,
                "min_interval_ms": self.min_interval_ms, "source": self.source}


# Current density for the conductance-based integrate-and-fire models (AdEx, LIF): Naud et al.
# (2008, Table 1) drive their eight AdEx firing patterns with 1.1-3.1 pA/pF (110-500 pA into
# 100-200 pF); whole-cell steps on cortical neurons rarely exceed 1-2 nA into 100-200 pF. 10
# pA/pF allows both with a margin, and rejects a nanoampere injected into a 50-pF cell.
CURRENT_DENSITY = Physiology(
    max_input=10.0, input_per="C", input_unit="pA per pF of C",
    source="Naud et al. 2008 Table 1 (1.1-3.1 pA/pF); whole-cell steps up to 1-2 nA in 100-200 pF cells")


@runtime_checkable
class NeuronModel(Protocol):
    """The protocol a model meets; user models need not inherit from anything."""

    name: str
    param_space: ParamSpace
    current_unit: str
    current_scale: float  # one unit of figure1.m's (Izhikevich) input, in this model's units

    def initial_state(self, params): ...

    def step(self, params, state, current, dt): ...

    def threshold(self, params): ...


@dataclass(frozen=True)
class ModelInfo:
    """Descriptive metadata, shared by the built-in models."""

    summary: str = ""
    references: tuple[str, ...] = field(default_factory=tuple)


def as_params(values: Mapping[str, Any]) -> dict[str, jnp.ndarray]:
    return {k: jnp.asarray(v, dtype=jnp.float32) for k, v in values.items()}
