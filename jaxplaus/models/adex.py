"""Adaptive exponential integrate-and-fire (Brette & Gerstner 2005), in physical units.

    C dv/dt = -gL (v - EL) + gL DeltaT exp((v - VT)/DeltaT) - w + I
    tauw dw/dt = a (v - EL) - w
    v > Vpeak:  v <- Vr,  w <- w + b

Units: pF, nS, mV, ms, pA, so published parameter sets (e.g. Naud et al. 2008) run as
printed. The spike is detected at Vpeak, not VT. The exponent is capped so a single step
beyond Vpeak cannot overflow float32; the capped value is far above any Vpeak in the bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax.numpy as jnp

from jaxplaus.models.base import CURRENT_DENSITY, Param, ParamSpace, Physiology

_POSITIVE = (1e-6, float("inf"))
_EXP_CAP = 60.0  # exp(60) ~ 1e26: finite in float32, still an unmistakable upswing

# Physiological ranges: the span of Naud et al. (2008) Table 1 and Brette & Gerstner (2005).
PARAM_SPACE = ParamSpace(
    (
        Param("C", 200.0, 10.0, 1000.0, "pF", log=True, physiological=(50.0, 300.0), domain=_POSITIVE, doc="membrane capacitance"),
        Param("gL", 10.0, 1.0, 100.0, "nS", log=True, physiological=(5.0, 30.0), domain=_POSITIVE, doc="leak conductance"),
        Param("EL", -70.0, -90.0, -40.0, "mV", physiological=(-75.0, -55.0), doc="leak reversal (rest)"),
        Param("VT", -50.0, -65.0, -30.0, "mV", physiological=(-55.0, -45.0), doc="exponential threshold"),
        Param("DeltaT", 2.0, 0.2, 10.0, "mV", log=True, physiological=(0.5, 5.0), domain=_POSITIVE, doc="slope factor"),
        Param("a", 2.0, -20.0, 100.0, "nS", physiological=(-12.0, 20.0), doc="subthreshold adaptation"),
        Param("tauw", 30.0, 1.0, 1000.0, "ms", log=True, physiological=(10.0, 500.0), domain=_POSITIVE, doc="adaptation time constant"),
        Param("b", 0.0, 0.0, 500.0, "pA", physiological=(0.0, 150.0), doc="spike-triggered adaptation"),
        Param("Vr", -58.0, -80.0, -30.0, "mV", physiological=(-70.0, -40.0), doc="reset potential"),
        Param("Vpeak", 0.0, -20.0, 40.0, "mV", physiological=(-10.0, 30.0), doc="spike detection (cut) potential"),
    )
)


class AdExState(NamedTuple):
    v: jnp.ndarray
    w: jnp.ndarray


@dataclass(frozen=True)
class AdEx:
    name: str = "adex"
    current_unit: str = "pA"
    current_scale: float = 40.0  # pA per figure1.m unit: maps figure1.m's rheobases onto AdEx's
    param_space: ParamSpace = PARAM_SPACE
    physiology: Physiology = CURRENT_DENSITY

    def initial_state(self, params) -> AdExState:
        el = jnp.asarray(params["EL"], jnp.float32)
        return AdExState(el, jnp.zeros_like(el))

    def threshold(self, params):
        return params["Vpeak"]

    def step(self, params, state: AdExState, current, dt):
        v, w = state
        gl, el, delta_t = params["gL"], params["EL"], params["DeltaT"]
        exponent = jnp.minimum((v - params["VT"]) / delta_t, _EXP_CAP)
        dv = (-gl * (v - el) + gl * delta_t * jnp.exp(exponent) - w + current) / params["C"]
        dw = (params["a"] * (v - el) - w) / params["tauw"]
        v_new = v + dt * dv
        w_new = w + dt * dw
        spiked = v_new > params["Vpeak"]
        state = AdExState(
            jnp.where(spiked, params["Vr"], v_new), jnp.where(spiked, w_new + params["b"], w_new)
        )
        return state, spiked, jnp.where(spiked, params["Vpeak"], v_new)
