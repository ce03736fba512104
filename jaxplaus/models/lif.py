"""Current-based leaky integrate-and-fire with an optional absolute refractory period.

    C dv/dt = -gL (v - EL) + I;   v > VT:  v <- Vr, clamped at Vr for t_ref ms

Units as AdEx (pF, nS, mV, ms, pA). With t_ref = 0 there is no refractory period.
The membrane is advanced exactly over each step for the step's input (`integrator="exact"`),
so no combination of C, gL and dt can make it oscillate numerically; `integrator="euler"` is
the forward-Euler scheme Norse uses. LIF is the
source paper's negative control: it can fire tonically, integrate, and start firing at an
arbitrarily low rate (class 1), but it cannot burst, adapt, rebound or resonate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax.numpy as jnp

from jaxplaus.models.base import CURRENT_DENSITY, Param, ParamSpace, Physiology

_POSITIVE = (1e-6, float("inf"))

PARAM_SPACE = ParamSpace(
    (
        Param("C", 200.0, 10.0, 1000.0, "pF", log=True, physiological=(50.0, 300.0), domain=_POSITIVE, doc="membrane capacitance"),
        Param("gL", 10.0, 1.0, 100.0, "nS", log=True, physiological=(5.0, 30.0), domain=_POSITIVE, doc="leak conductance"),
        Param("EL", -70.0, -90.0, -40.0, "mV", physiological=(-75.0, -55.0), doc="leak reversal (rest)"),
        Param("VT", -50.0, -60.0, -30.0, "mV", physiological=(-55.0, -40.0), doc="spike threshold"),
        # reset stays below threshold: a reset above it fires every step, which is not a LIF
        Param("Vr", -65.0, -90.0, -60.0, "mV", physiological=(-75.0, -60.0), doc="reset potential"),
        Param("t_ref", 0.0, 0.0, 10.0, "ms", physiological=(0.5, 5.0), domain=(0.0, float("inf")), doc="absolute refractory period"),
    )
)


class LIFState(NamedTuple):
    v: jnp.ndarray
    refractory_left: jnp.ndarray  # ms of clamping still to go


@dataclass(frozen=True)
class LIF:
    integrator: str = "exact"  # or "euler"
    name: str = "lif"
    current_unit: str = "pA"
    current_scale: float = 40.0
    param_space: ParamSpace = PARAM_SPACE
    physiology: Physiology = CURRENT_DENSITY

    def initial_state(self, params) -> LIFState:
        el = jnp.asarray(params["EL"], jnp.float32)
        return LIFState(el, jnp.zeros_like(el))

    def threshold(self, params):
        return params["VT"]

    def step(self, params, state: LIFState, current, dt):
        v, left = state
        refractory = left > 0.0
        if self.integrator == "exact":
            v_inf = params["EL"] + current / params["gL"]
            v_free = v_inf + (v - v_inf) * jnp.exp(-dt * params["gL"] / params["C"])
        else:
            v_free = v + dt * (-params["gL"] * (v - params["EL"]) + current) / params["C"]
        v_new = jnp.where(refractory, params["Vr"], v_free)
        spiked = ~refractory & (v_new > params["VT"])
        left = jnp.where(spiked, params["t_ref"], jnp.maximum(left - dt, 0.0))
        state = LIFState(jnp.where(spiked, params["Vr"], v_new), left)
        return state, spiked, jnp.where(spiked, params["VT"], v_new)
