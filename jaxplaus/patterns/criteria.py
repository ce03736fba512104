"""Criteria: one measured quantity with its allowed range.

A pattern is a tuple of criteria. Its **validator** passes when every criterion holds; its
**objective** is the sum of each criterion's graded violation: 0 inside the range, x/(1+x) at a
distance of x scales outside it (so it keeps growing, and an optimizer keeps climbing, however
far away it is), and 1 when the quantity is undefined (e.g. an interval ratio with too few spikes).
Deriving both from the same criteria keeps them consistent: objective 0 implies a pass. The
objective evaluates the range shrunk by a small margin so optima sit inside the validator's
range rather than on its edge (they must survive re-simulation at half the step).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax.numpy as jnp

MARGIN = 0.05  # fraction of a criterion's scale by which the objective tightens its range


class Criterion(NamedTuple):
    name: str
    value: jnp.ndarray
    low: float = -math.inf
    high: float = math.inf
    scale: float = 1.0
    integer: bool = False  # counts need no margin


def holds(c: Criterion):
    return ~jnp.isnan(c.value) & (c.value >= c.low) & (c.value <= c.high)


def violation(c: Criterion):
    margin = 0.0 if c.integer else MARGIN * c.scale
    below = jnp.maximum(c.low + margin - c.value, 0.0)
    above = jnp.maximum(c.value - (c.high - margin), 0.0)
    x = (below + above) / c.scale
    return jnp.where(jnp.isnan(c.value) | jnp.isinf(x), 1.0, x / (1.0 + x))


# ------------------------------------------------------------------ constructors


def count_at_least(name, n, k):
    return Criterion(name, n.astype(jnp.float32), low=k, scale=max(k, 1), integer=True)


def count_at_most(name, n, k):
    return Criterion(name, n.astype(jnp.float32), high=k, scale=k + 2.0, integer=True)


def count_exactly(name, n, k):
    return Criterion(name, n.astype(jnp.float32), low=k, high=k, scale=k + 1.0, integer=True)


def ratio_at_least(name, ratio, r):
    """log(ratio) >= log(r), graded in units of log(r)."""
    return Criterion(name, jnp.log(ratio), low=math.log(r), scale=abs(math.log(r)))


def ratio_at_most(name, ratio, r):
    return Criterion(name, jnp.log(ratio), high=math.log(r), scale=abs(math.log(r)) or 1.0)


def ratio_near_one(name, ratio, tolerance):
    """|log(ratio)| <= log(1 + tolerance)."""
    bound = math.log(1 + tolerance)
    return Criterion(name, jnp.abs(jnp.log(ratio)), high=bound, scale=bound)


def fraction_at_most(name, value, f):
    return Criterion(name, value, high=f, scale=f)


def fraction_at_least(name, value, f):
    return Criterion(name, value, low=f, scale=f)


def not_applicable(reason: str):
    """The stimulus lacks what this pattern's definition needs: never passes."""
    return Criterion(f"stimulus has {reason}", jnp.float32(jnp.nan))
