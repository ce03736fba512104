"""Plasticity rules: pure functions of traces, the weight and the postsynaptic neuron's state.

A rule is evaluated only at spikes. `on_pre(theta, w, pre, post)` gives the weight change of the
synapses of a presynaptic neuron that just spiked, `on_post` that of the synapses onto a
postsynaptic neuron that just spiked. `pre["traces"]`/`post["traces"]` hold the rule's own
traces ([n_traces, ...] broadcastable against w); `post` also has "v", "i_exc", "i_inh".
Traces are per neuron (jump +1 per spike, decay with the rule's time constants). The network
clips weights to [0, w_max] after every update.

Time constants are parameters `log(tau / TAU_UNIT)` so that zero is a plausible 10 ms, and are
clipped to [dt, 10 s]: a search may propose anything, the simulation must stay finite.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import jax.numpy as jnp

from jaxplaus.errors import UsageError

ETA = 0.01  # Confavreux et al. 2025: fixed learning rate of the co-active rule
TAU_UNIT = 0.01  # s
TAU_MAX = 10.0  # s


class Rule(NamedTuple):
    """A rule family applied to some synapse types, `params_per_projection` parameters each."""

    name: str
    projections: tuple
    param_names: tuple  # per projection
    n_pre_traces: int
    n_post_traces: int
    taus: Callable  # theta_projection -> (pre taus [n_pre_traces], post taus [n_post_traces]) in s
    on_pre: Callable
    on_post: Callable

    @property
    def params_per_projection(self) -> int:
        return len(self.param_names)

    @property
    def n_params(self) -> int:
        return len(self.projections) * self.params_per_projection

    def split(self, theta) -> dict:
        k = self.params_per_projection
        return {p: theta[i * k : (i + 1) * k] for i, p in enumerate(self.projections)}

    def trace_decays(self, theta_projection, dt: float):
        pre, post = self.taus(theta_projection)
        return jnp.exp(-dt / pre), jnp.exp(-dt / post)

    def names(self) -> list:
        """Flat parameter names, e.g. 'IE.alpha'."""
        return [f"{p}.{n}" for p in self.projections for n in self.param_names]


def tau_from_param(log_tau, dt: float = 1e-4):
    return jnp.clip(TAU_UNIT * jnp.exp(jnp.clip(log_tau, -20.0, 20.0)), dt, TAU_MAX)


def param_from_tau(tau_s: float) -> float:
    return math.log(tau_s / TAU_UNIT)


# --- the 6-parameter co-active rule (Confavreux et al. 2025) -------------------------------

COACTIVE_NAMES = ("log_tau_pre", "log_tau_post", "alpha", "beta", "gamma", "kappa")


def _coactive_taus(theta):
    return tau_from_param(theta[0:1]), tau_from_param(theta[1:2])


def _coactive_on_pre(theta, w, pre, post):
    return ETA * (theta[2] + theta[5] * post["traces"][0])


def _coactive_on_post(theta, w, pre, post):
    return ETA * (theta[3] + theta[4] * pre["traces"][0])


def coactive(projections: tuple) -> Rule:
    name = "".join(p.lower() for p in projections) + str(6 * len(projections))
    return Rule(name, projections, COACTIVE_NAMES, 1, 1, _coactive_taus, _coactive_on_pre, _coactive_on_post)


def vogels2011(rho0: float = 10.0, tau: float = 0.02) -> list:
    """Vogels et al. 2011 inhibitory plasticity as co-active parameters (the special case given
    by Confavreux et al. 2025)."""
    return [param_from_tau(tau), param_from_tau(tau), -2.0 * rho0 * tau, 0.0, 1.0, 1.0]


def confavreux2025_ie() -> list:
    """The I->E co-active rule Confavreux et al. 2025 meta-learned for stability (published: tau_pre
    54 ms, tau_post 98 ms, alpha -1.41, beta 0.015, gamma 0.72, kappa 1.08; fixed point 9.8 Hz)."""
    return [param_from_tau(0.054), param_from_tau(0.098), -1.41, 0.015, 0.72, 1.08]


def coactive_fixed_point(theta, rate_pre):
    """Mean-field fixed point of the postsynaptic rate for independent Poisson spiking
    (Confavreux et al. 2025):
    r_pre*alpha + r_post*beta + r_pre*r_post*(kappa*tau_post + gamma*tau_pre) = 0.
    NaN where the rule has no positive finite fixed point."""
    tau_pre, tau_post = (float(t[0]) for t in _coactive_taus(jnp.asarray(theta, jnp.float32)))
    alpha, beta, gamma, kappa = (float(x) for x in theta[2:6])
    denominator = beta + rate_pre * (kappa * tau_post + gamma * tau_pre)
    rate = -rate_pre * alpha / denominator if denominator != 0 else math.nan
    return rate if rate > 0 and math.isfinite(rate) else math.nan


# --- 21-parameter polynomial rule ----------------------------------------------------------

POLY_TERMS_PRE = ("1", "w", "x_post", "y_post", "v", "i_exc", "i_inh", "w*x_post", "x_post*y_post")
POLY_TERMS_POST = ("1", "w", "x_pre", "y_post", "v", "i_exc", "i_inh", "w*x_pre", "x_pre*y_post")
POLY_NAMES = (
    ("log_tau_pre", "log_tau_post_fast", "log_tau_post_slow")
    + tuple(f"pre:{t}" for t in POLY_TERMS_PRE)
    + tuple(f"post:{t}" for t in POLY_TERMS_POST)
)
V_SCALE = 10.0  # mV: voltage and driving-force factors enter as (v - v_rest)/10 mV, g*(E - v)/10 mV
V_REST = -60.0


def _poly_taus(theta):
    return tau_from_param(theta[0:1]), tau_from_param(theta[1:3])


def _poly_factors(w, x_pre, post):
    x_post, y_post = post["traces"][0], post["traces"][1]
    v = (post["v"] - V_REST) / V_SCALE
    return x_post, y_post, v, post["i_exc"] / V_SCALE, post["i_inh"] / V_SCALE


def _poly_on_pre(theta, w, pre, post):
    x_post, y_post, v, i_exc, i_inh = _poly_factors(w, None, post)
    c = theta[3:12]
    terms = (1.0, w, x_post, y_post, v, i_exc, i_inh, w * x_post, x_post * y_post)
    return ETA * sum(ci * t for ci, t in zip(c, terms))


def _poly_on_post(theta, w, pre, post):
    x_post, y_post, v, i_exc, i_inh = _poly_factors(w, None, post)
    x_pre = pre["traces"][0]
    c = theta[12:21]
    terms = (1.0, w, x_pre, y_post, v, i_exc, i_inh, w * x_pre, x_pre * y_post)
    return ETA * sum(ci * t for ci, t in zip(c, terms))


def polynomial(projections: tuple) -> Rule:
    return Rule("poly21", projections, POLY_NAMES, 1, 2, _poly_taus, _poly_on_pre, _poly_on_post)


# --- a small MLP rule ----------------------------------------------------------------------

MLP_HIDDEN = 4
MLP_INPUTS = ("w", "x_pre", "x_post", "event")  # event: +1 on a pre spike, -1 on a post spike
MLP_NAMES = (
    ("log_tau_pre", "log_tau_post")
    + tuple(f"W1[{h},{i}]" for h in range(MLP_HIDDEN) for i in MLP_INPUTS)
    + tuple(f"b1[{h}]" for h in range(MLP_HIDDEN))
    + tuple(f"W2[{h}]" for h in range(MLP_HIDDEN))
    + ("b2",)
)


def _mlp(theta, w, x_pre, x_post, event):
    n_in = len(MLP_INPUTS)
    w1 = theta[2 : 2 + MLP_HIDDEN * n_in].reshape(MLP_HIDDEN, n_in)
    b1 = theta[2 + MLP_HIDDEN * n_in : 2 + MLP_HIDDEN * (n_in + 1)]
    w2 = theta[2 + MLP_HIDDEN * (n_in + 1) : 2 + MLP_HIDDEN * (n_in + 2)]
    b2 = theta[-1]
    inputs = jnp.broadcast_arrays(w, x_pre, x_post, jnp.full_like(w, event))
    hidden = jnp.tanh(sum(w1[:, i, None, None] * inputs[i] for i in range(n_in)) + b1[:, None, None])
    return ETA * (jnp.tensordot(w2, hidden, axes=1) + b2)


def _mlp_on_pre(theta, w, pre, post):
    return _mlp(theta, w, pre["traces"][0], post["traces"][0], 1.0)


def _mlp_on_post(theta, w, pre, post):
    return _mlp(theta, w, pre["traces"][0], post["traces"][0], -1.0)


def mlp(projections: tuple) -> Rule:
    return Rule("mlp", projections, MLP_NAMES, 1, 1, _coactive_taus, _mlp_on_pre, _mlp_on_post)


# --- registry ------------------------------------------------------------------------------

RULES = {
    "ie6": lambda: coactive(("IE",)),
    "ee6": lambda: coactive(("EE",)),
    "ei6": lambda: coactive(("EI",)),
    "ii6": lambda: coactive(("II",)),
    "eeie12": lambda: coactive(("EE", "IE")),
    "all24": lambda: coactive(("EE", "EI", "IE", "II")),
    "poly21": lambda: polynomial(("IE",)),
    "mlp": lambda: mlp(("IE",)),
    "static": lambda: coactive(()),
}


def get_rule(name: str) -> Rule:
    if name not in RULES:
        raise UsageError(f"unknown rule {name!r}; choose from {', '.join(RULES)}")
    return RULES[name]()
