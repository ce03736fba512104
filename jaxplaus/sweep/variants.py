"""Sweep variants: restrictions of one model with some parameters pinned.

A grid or a random draw of pinned values (AdEx with `a`, `b` fixed), or structures of the
polynomial two-state family: one `PolynomialNeuron` over every monomial whose absent monomials
have their coefficient pinned at 0, so all structures share one model and one evaluator.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from jaxplaus import models
from jaxplaus.errors import UsageError
from jaxplaus.models.polynomial import MONOMIALS, N2D2_DEFAULTS, PolynomialNeuron, _coefficient_name

FAMILY = "polynomial"  # `--model polynomial`: the two-state polynomial family over all monomials

@dataclass(frozen=True, eq=False)
class Variants:
    """Restrictions of one model: `pinned[v, k]` is the value of parameter k in variant v (model
    units), NaN where the search leaves it free."""

    labels: tuple[str, ...]
    pinned: np.ndarray  # [variants, n_model]

    def __len__(self) -> int:
        return len(self.labels)

    def pins(self, names, v: int) -> dict[str, float]:
        return {n: float(x) for n, x in zip(names, self.pinned[v]) if not math.isnan(x)}


def family_model(name: str, options: dict):
    """The shared model of a sweep; `polynomial` is the N2D2 family over every monomial."""
    if name == FAMILY:
        if options:
            raise UsageError("--model polynomial takes no --model-options")
        return PolynomialNeuron(MONOMIALS, MONOMIALS, defaults=N2D2_DEFAULTS, name=FAMILY)
    return models.get(name, **options)


def _check_value(space, name, value, bounds):
    if name not in space.names:
        raise UsageError(f"unknown parameter {name!r} to pin; choose from {', '.join(space.names)}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UsageError(f"pinned value of {name} must be a finite number, got {value!r}")
    low, high = space.bounds(bounds)
    i = space.names.index(name)
    if not low[i] <= value <= high[i]:
        raise UsageError(f"pinned {name}={value} is outside its {bounds} bounds [{low[i]:g}, {high[i]:g}]")
    return float(value)


def grid_variants(model, grid: dict, bounds: str = "wide") -> Variants:
    """Every combination of the listed values, e.g. {"a": [0, 2, 4], "b": [0, 0.05]} -> 6 variants."""
    space = model.param_space
    if not isinstance(grid, dict) or not grid:
        raise UsageError("--grid must be a JSON object of parameter: [values]")
    axes = []
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise UsageError(f"--grid values of {name!r} must be a non-empty list")
        axes.append([_check_value(space, name, x, bounds) for x in values])
    pinned, labels = [], []
    for combo in itertools.product(*axes):
        row = np.full(len(space), np.nan)
        for name, x in zip(grid, combo):
            row[space.names.index(name)] = x
        pinned.append(row)
        labels.append(" ".join(f"{n}={x:g}" for n, x in zip(grid, combo)))
    return Variants(tuple(labels), np.array(pinned))


def random_variants(model, ranges: dict, count: int, seed: int, bounds: str = "wide") -> Variants:
    """`count` variants with each named parameter drawn in [low, high] (log-uniform where the
    parameter is searched on a log scale), e.g. {"a": [0, 4], "tauw": [10, 300]}."""
    space = model.param_space
    if not isinstance(ranges, dict) or not ranges:
        raise UsageError("--random must be a JSON object of parameter: [low, high]")
    rng = np.random.default_rng(seed)
    pinned = np.full((count, len(space)), np.nan)
    for name, pair in ranges.items():
        if not isinstance(pair, list) or len(pair) != 2:
            raise UsageError(f"--random range of {name!r} must be [low, high]")
        low, high = (_check_value(space, name, x, bounds) for x in pair)
        if not low < high:
            raise UsageError(f"--random range of {name!r} must have low < high, got {pair}")
        u = rng.uniform(size=count)
        log = space[name].log
        pinned[:, space.names.index(name)] = (np.exp(np.log(low) + u * np.log(high / low)) if log
                                              else low + u * (high - low))
    labels = tuple(" ".join(f"{n}={pinned[v, space.names.index(n)]:.4g}" for n in ranges) for v in range(count))
    return Variants(labels, pinned)


def structure_variants(model, v_count: int, u_count: int, count: int | None, seed: int) -> Variants:
    """Polynomial structures with `v_count` monomials in dv/dt and `u_count` in du/dt (all of them,
    or `count` drawn without replacement); an absent monomial's coefficient is pinned at 0."""
    if getattr(model, "name", None) != FAMILY:
        raise UsageError("--structures needs --model polynomial")
    n = len(MONOMIALS)
    if not (1 <= v_count <= n and 1 <= u_count <= n):
        raise UsageError(f"--structures counts must be between 1 and {n}")
    combos = list(itertools.product(itertools.combinations(MONOMIALS, v_count),
                                    itertools.combinations(MONOMIALS, u_count)))
    if count is not None and count < len(combos):
        picked = np.sort(np.random.default_rng(seed).choice(len(combos), count, replace=False))
        combos = [combos[i] for i in picked]
    names = model.param_space.names
    pinned = np.full((len(combos), len(names)), np.nan)
    for v, (v_terms, u_terms) in enumerate(combos):
        for state, present in (("v", v_terms), ("u", u_terms)):
            for term in MONOMIALS:
                if term not in present:
                    pinned[v, names.index(_coefficient_name(state, term))] = 0.0
    labels = tuple(f"dv: {' + '.join(a)} | du: {' + '.join(b)}" for a, b in combos)
    return Variants(labels, pinned)


