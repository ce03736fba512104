"""Two-state polynomial neurons, the family the source paper's N2D2 model belongs to.

Input x, states v and u. Each state's derivative is a sum of chosen monomials of (x, u, v) of
degree <= 2, each with a free coefficient, minus a linear leak:

    dv/dt = sum_i cv_i * m_i(x, u, v) - leak_v * v
    du/dt = sum_j cu_j * m_j(x, u, v) - leak_u * u
    v > threshold:  v <- reset_v * v,  u <- reset_u * u      (linear reset)

Coefficients, leaks, threshold, reset factors and the rest state are all parameters, so the
optimizer explores the family member's full dynamics. `n2d2()` is the published instance
(authors' `spiking-neurons` package): Euler step 0.1, coefficients below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, NamedTuple

import jax.numpy as jnp

from jaxplaus.errors import UsageError
from jaxplaus.models.base import Param, ParamSpace

MONOMIALS = ("1", "x", "u", "v", "x*x", "x*u", "x*v", "u*u", "u*v", "v*v")


class PolynomialState(NamedTuple):
    v: jnp.ndarray
    u: jnp.ndarray


def _monomial(term: str, x, u, v):
    factors = {"x": x, "u": u, "v": v}
    value = 1.0
    for symbol in term.split("*"):
        if symbol != "1":
            value = value * factors[symbol]
    return value


def _coefficient_name(state: str, term: str) -> str:
    return f"{state}_{term.replace('*', '')}"  # v_xu, u_xx, v_1 ...


@dataclass(frozen=True)
class PolynomialNeuron:
    v_terms: tuple[str, ...]
    u_terms: tuple[str, ...]
    defaults: tuple[tuple[str, float], ...] = ()  # overrides of parameter defaults
    name: str = "polynomial"
    current_unit: str = "dimensionless"
    current_scale: float = 0.1

    def __post_init__(self):
        for term in self.v_terms + self.u_terms:
            if term not in MONOMIALS:
                raise ValueError(f"unknown monomial {term!r}; choose from {MONOMIALS}")

    @property
    def param_space(self) -> ParamSpace:
        given = dict(self.defaults)
        coefficients = tuple(
            Param(_coefficient_name(s, t), given.get(_coefficient_name(s, t), 1.0), -4.0, 4.0,
                  doc=f"coefficient of {t} in d{s}/dt")
            for s, terms in (("v", self.v_terms), ("u", self.u_terms))
            for t in terms
        )
        rest = (
            Param("leak_v", given.get("leak_v", 0.0), 0.0, 2.0, "1/time", domain=(0.0, math.inf), doc="linear leak of v"),
            Param("leak_u", given.get("leak_u", 0.0), 0.0, 2.0, "1/time", domain=(0.0, math.inf), doc="linear leak of u"),
            Param("threshold", given.get("threshold", 1.0), 0.5, 50.0, log=True, domain=(1e-9, math.inf), doc="spike when v exceeds it"),
            Param("reset_v", given.get("reset_v", 0.0), -1.0, 1.0, doc="v <- reset_v * v after a spike"),
            Param("reset_u", given.get("reset_u", 0.0), -1.0, 1.0, doc="u <- reset_u * u after a spike"),
            Param("v0", given.get("v0", 0.0), -2.0, 2.0, doc="initial v"),
            Param("u0", given.get("u0", 0.0), -2.0, 2.0, doc="initial u"),
        )
        return ParamSpace(coefficients + rest)

    def initial_state(self, params) -> PolynomialState:
        return PolynomialState(
            jnp.asarray(params["v0"], jnp.float32), jnp.asarray(params["u0"], jnp.float32)
        )

    def threshold(self, params):
        return params["threshold"]

    def step(self, params, state: PolynomialState, current, dt):
        v, u = state
        x = current
        dv = sum(params[_coefficient_name("v", t)] * _monomial(t, x, u, v) for t in self.v_terms)
        du = sum(params[_coefficient_name("u", t)] * _monomial(t, x, u, v) for t in self.u_terms)
        v_new = v + dt * (dv - params["leak_v"] * v)
        u_new = u + dt * (du - params["leak_u"] * u)
        spiked = v_new > params["threshold"]
        state = PolynomialState(
            jnp.where(spiked, params["reset_v"] * v_new, v_new),
            jnp.where(spiked, params["reset_u"] * u_new, u_new),
        )
        return state, spiked, jnp.where(spiked, params["threshold"], v_new)


N2D2_DEFAULTS = (
    ("v_xu", 2.2999775),
    ("v_uu", 1.1182089),
    ("u_xx", 0.7606892),
    ("u_xu", 0.6316316),
    ("threshold", 9.476533797583208),
    ("reset_v", 0.098269984),
    ("reset_u", 0.0),
    ("v0", 0.9411954879760742),
    ("u0", 0.0),
)


def n2d2(**overrides: Mapping) -> PolynomialNeuron:
    """The N2D2 model: u integrates the squared input, v is driven by u and the input."""
    fixed = sorted({"v_terms", "u_terms"} & set(overrides))
    if fixed:
        raise UsageError(f"n2d2's {' and '.join(map(repr, fixed))} define it and cannot be given as options")
    return PolynomialNeuron(v_terms=("x*u", "u*u"), u_terms=("x*x", "x*u"),
                            **{"defaults": N2D2_DEFAULTS, "name": "n2d2", **overrides})
