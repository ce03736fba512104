"""Norse-faithful LIF, AdEx and Izhikevich, and the mapping from jaxplaus's models to them.

Each model here repeats one feed-forward step function of Norse 1.1
(`norse.torch.functional`: `lif_feed_forward_step`, `lif_adex_feed_forward_step`,
`izhikevich_feed_forward_step`) operation for operation, in the same order, with Norse's
parameter names and dimensionless units, so float32 traces agree with Norse's to rounding:

- time: jaxplaus's clock is in ms (stimuli, patterns, `dt`); Norse's rates are per second
  and its `dt` is in seconds, so each step converts `dt_s = dt * 1e-3`. A Norse simulation at
  its default dt = 0.001 s is a jaxplaus simulation at dt = 1 ms.
- input: LIF and AdEx add the input to the synaptic current `i` (`i <- i + x`), which then
  drives v and decays with `tau_syn_inv`; Izhikevich adds the input to dv/dt directly.
- spike: strict `v - v_th > 0` on the freshly integrated v; reset on the same step written as
  Norse writes it, `v <- (1 - z) v + z v_reset` (so an infinite v becomes NaN, as in Norse).
- state starts at `v = v_leak`, the other variables zero; Izhikevich starts at (v0, u0), the
  state Norse's presets give explicitly.

`norse_counterpart(model, params, dt)` maps a jaxplaus LIF, AdEx or Izhikevich parameter set
onto these models (tables in docs/norse.md) and names the scheme differences that remain.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import jax.numpy as jnp

from jaxplaus.models.adex import AdEx
from jaxplaus.models.base import Param, ParamSpace
from jaxplaus.models.izhikevich import Izhikevich
from jaxplaus.models.lif import LIF

SECONDS_PER_MS = 1e-3
_POSITIVE = (1e-9, float("inf"))


def _seconds(dt_ms):
    return dt_ms * SECONDS_PER_MS


def _rounded(x):
    """`x`, rounded to float32 on its own. The select is an identity (NaN stays NaN) that XLA
    keeps, so the CPU backend cannot contract `a*b + c` into a fused multiply-add: FMA rounds
    once where torch rounds twice, and those ulps grow into visible differences on a spike's
    upstroke."""
    return jnp.where(x != x, jnp.float32(jnp.nan), x)


def _reset(z, value, reset_value):
    """Norse's arithmetic reset (not a select): keeps its NaN-on-inf behaviour."""
    return (1 - z) * value + z * reset_value


def _rate(name, default, low, high, doc):
    return Param(name, default, low, high, "1/s", log=True, domain=_POSITIVE, doc=doc)


_VOLTAGES = (
    Param("v_leak", 0.0, -1.0, 1.0, doc="leak (rest) potential"),
    Param("v_th", 1.0, 0.6, 3.0, doc="spike threshold"),
    Param("v_reset", 0.0, -1.0, 0.5, doc="reset potential"),
)


class NorseLIFState(NamedTuple):
    v: jnp.ndarray
    i: jnp.ndarray


# Input scale: at dt = 0.25 ms a constant input x per step holds i near x / (dt_s tau_syn_inv)
# = 20 x, so 0.02 per figure1.m unit puts the figure1.m amplitudes around threshold.
_NORSE_INPUT_SCALE = 0.02
_INPUT_UNIT = "dimensionless, added to the synaptic current i each step (Norse)"


@dataclass(frozen=True)
class NorseLIF:
    """`lif_feed_forward_step` of Norse: Euler, current-based synapse, no refractory period."""

    name: str = "norse_lif"
    current_unit: str = _INPUT_UNIT
    current_scale: float = _NORSE_INPUT_SCALE
    param_space: ParamSpace = ParamSpace((
        _rate("tau_syn_inv", 200.0, 10.0, 10000.0, "inverse synaptic time constant"),
        _rate("tau_mem_inv", 100.0, 10.0, 1000.0, "inverse membrane time constant"),
    ) + _VOLTAGES)

    def initial_state(self, params) -> NorseLIFState:
        v = jnp.asarray(params["v_leak"], jnp.float32)
        return NorseLIFState(v, jnp.zeros_like(v))

    def threshold(self, params):
        return params["v_th"]

    def step(self, params, state: NorseLIFState, current, dt):
        dt_s = _seconds(dt)
        i_jump = state.i + current
        dv = _rounded(dt_s * params["tau_mem_inv"] * ((params["v_leak"] - state.v) + i_jump))
        v_decayed = state.v + dv
        di = _rounded(-dt_s * params["tau_syn_inv"] * i_jump)
        i_decayed = i_jump + di
        spiked = (v_decayed - params["v_th"]) > 0
        z = spiked.astype(v_decayed.dtype)
        v_new = _reset(z, v_decayed, params["v_reset"])
        return NorseLIFState(v_new, i_decayed), spiked, jnp.where(spiked, params["v_th"], v_decayed)


class NorseAdExState(NamedTuple):
    v: jnp.ndarray
    i: jnp.ndarray
    a: jnp.ndarray  # adaptation, in voltage units


@dataclass(frozen=True)
class NorseAdEx:
    """`lif_adex_feed_forward_step` of Norse: fires at the same v_th that sits in the exponential."""

    name: str = "norse_adex"
    current_unit: str = _INPUT_UNIT
    current_scale: float = _NORSE_INPUT_SCALE
    param_space: ParamSpace = ParamSpace((
        Param("adaptation_current", 4.0, -10.0, 50.0, doc="subthreshold adaptation coupling"),
        Param("adaptation_spike", 0.02, 0.0, 5.0, doc="jump of a at a spike"),
        Param("delta_T", 0.5, 0.05, 5.0, log=True, domain=_POSITIVE, doc="sharpness of the exponential"),
        _rate("tau_ada_inv", 2.0, 0.5, 1000.0, "inverse adaptation time constant"),
        _rate("tau_syn_inv", 200.0, 10.0, 10000.0, "inverse synaptic time constant"),
        _rate("tau_mem_inv", 100.0, 10.0, 1000.0, "inverse membrane time constant"),
    ) + _VOLTAGES)

    def initial_state(self, params) -> NorseAdExState:
        v = jnp.asarray(params["v_leak"], jnp.float32)
        return NorseAdExState(v, jnp.zeros_like(v), jnp.zeros_like(v))

    def threshold(self, params):
        return params["v_th"]

    def step(self, params, state: NorseAdExState, current, dt):
        p, dt_s = params, _seconds(dt)
        i_jump = state.i + current
        dv_leak = p["v_leak"] - state.v
        dv_exp = _rounded(p["delta_T"] * jnp.exp((state.v - p["v_th"]) / p["delta_T"]))
        dv = _rounded(dt_s * p["tau_mem_inv"] * (dv_leak + dv_exp + i_jump - state.a))
        v_decayed = state.v + dv
        di = _rounded(-dt_s * p["tau_syn_inv"] * i_jump)
        i_decayed = i_jump + di
        coupling = _rounded(p["adaptation_current"] * (state.v - p["v_leak"]))
        da = _rounded(dt_s * p["tau_ada_inv"] * (coupling - state.a))
        a_decayed = state.a + da
        spiked = (v_decayed - p["v_th"]) > 0
        z = spiked.astype(v_decayed.dtype)
        v_new = _reset(z, v_decayed, p["v_reset"])
        a_new = a_decayed + z * p["adaptation_spike"]
        return NorseAdExState(v_new, i_decayed, a_new), spiked, jnp.where(spiked, p["v_th"], v_decayed)


class NorseIzhikevichState(NamedTuple):
    v: jnp.ndarray
    u: jnp.ndarray


@dataclass(frozen=True)
class NorseIzhikevich:
    """`izhikevich_feed_forward_step` of Norse: u advances with the old v (figure1.m: the new).

    Norse scales Izhikevich's ms equations by `tau_inv * dt_s`: its presets use tau_inv = 250
    at dt = 0.001 s, i.e. a 0.25 ms Izhikevich step per 1 ms of Norse time. On jaxplaus's ms
    clock the default tau_inv = 1000 keeps Izhikevich's own time scale at any dt.
    """

    name: str = "norse_izhikevich"
    current_unit: str = "dimensionless (figure1.m units)"
    current_scale: float = 1.0
    param_space: ParamSpace = ParamSpace((
        Param("a", 0.02, -0.1, 1.0, doc="recovery rate of u"),
        Param("b", 0.2, -1.2, 1.2, doc="sensitivity of u to v"),
        Param("c", -65.0, -80.0, -40.0, doc="reset of v after a spike"),
        Param("d", 6.0, -25.0, 10.0, doc="jump of u after a spike"),
        Param("sq", 0.04, 0.02, 0.08, doc="coefficient of v^2"),
        Param("mn", 5.0, 3.0, 7.0, doc="coefficient of v"),
        Param("bias", 140.0, 80.0, 200.0, doc="constant drive"),
        Param("v_th", 30.0, 10.0, 50.0, doc="spike threshold (peak)"),
        _rate("tau_inv", 1000.0, 100.0, 10000.0, "time scale: tau_inv * dt_s is the Izhikevich step in ms"),
        Param("v0", -70.0, -80.0, -55.0, doc="initial v"),
        Param("u0", -14.0, -40.0, 10.0, doc="initial u (Norse's presets: b * v0, or -16)"),
    ))

    def initial_state(self, params) -> NorseIzhikevichState:
        return NorseIzhikevichState(jnp.asarray(params["v0"], jnp.float32), jnp.asarray(params["u0"], jnp.float32))

    def threshold(self, params):
        return params["v_th"]

    def step(self, params, state: NorseIzhikevichState, current, dt):
        p, v, u = params, state.v, state.u
        h = p["tau_inv"] * _seconds(dt)
        drive = _rounded(p["sq"] * v**2) + _rounded(p["mn"] * v) + p["bias"] - u + current
        v_ = v + _rounded(h * drive)
        u_ = u + _rounded(h * p["a"] * (_rounded(p["b"] * v) - u))
        spiked = (v_ - p["v_th"]) > 0
        z = spiked.astype(v_.dtype)
        v_new = _reset(z, v_, p["c"])
        u_new = (1 - z) * u_ + z * (u_ + p["d"])
        return NorseIzhikevichState(v_new, u_new), spiked, jnp.where(spiked, p["v_th"], v_)


# ------------------------------------------------------------------ jaxplaus -> Norse mapping

@dataclass(frozen=True)
class SchemeDifference:
    """A way a jaxplaus model integrates differently from its Norse counterpart.

    `bridge(model, params) -> (model, params)` is the jaxplaus configuration without this
    difference (None where jaxplaus has no such switch); the cross-check uses it to show that
    a disagreement comes from this difference and from nothing else.
    """

    name: str
    description: str
    bridge: object = None


class NorseCounterpart(NamedTuple):
    model: object  # NorseLIF, NorseAdEx or NorseIzhikevich
    params: dict  # its parameters (floats)
    input_gain: float  # Norse input = input_gain * jaxplaus current
    differences: tuple  # SchemeDifference, those that apply to this model and parameter set


UPDATE_ORDER = SchemeDifference(
    "update_order",
    "figure1.m advances u with the new v; Norse's izhikevich_feed_forward_step with the old v",
    lambda model, params: (replace(model, u_uses_new_v=False), params),
)
U_EQUATION = SchemeDifference(
    "u_equation",
    "figure1.m case R's u' = a*b*(v+65) has no Norse counterpart; Norse uses u' = a*(b*v - u) "
    "from the same initial u (as its 'accomodation' preset does)",
)
SPIKE_DETECTION = SchemeDifference(
    "spike_detection",
    "jaxplaus AdEx detects spikes at Vpeak; Norse's AdEx fires and resets at v_th, the "
    "exponential's own threshold (VT), and has no Vpeak",
    lambda model, params: (model, {**params, "Vpeak": params["VT"]}),
)
INTEGRATOR = SchemeDifference(
    "integrator",
    "jaxplaus LIF integrates the membrane exactly over each step; Norse uses forward Euler",
    lambda model, params: (replace(model, integrator="euler"), params),
)
REFRACTORY = SchemeDifference(
    "refractory",
    "Norse's LIF has no refractory period (t_ref > 0 here)",
    lambda model, params: (model, {**params, "t_ref": 0.0}),
)


def norse_counterpart(model, params, dt_ms: float) -> NorseCounterpart:
    """The Norse model, parameters and input scaling that integrate `model` at `params`.

    LIF/AdEx: Norse's equations are the physical ones divided by gL (voltages stay in mV,
    currents become I/gL in mV, rates are per second); tau_syn_inv = 1/dt_s makes Norse's
    synaptic current carry exactly the present step's input, i.e. a direct current.
    """
    params = {k: float(v) for k, v in params.items()}
    if isinstance(model, (NorseLIF, NorseAdEx, NorseIzhikevich)):
        return NorseCounterpart(model, params, 1.0, ())
    dt_s = float(dt_ms) * SECONDS_PER_MS
    if isinstance(model, Izhikevich):
        sq, mn, bias = model.quadratic
        accommodation = model.u_equation == "accommodation"
        mapped = dict(
            a=params["a"], b=params["b"], c=params["c"], d=params["d"], sq=sq, mn=mn, bias=bias,
            v_th=30.0, tau_inv=1.0 / SECONDS_PER_MS, v0=params["v0"],
            u0=params["u0"] if accommodation else params["b"] * params["v0"],
        )
        differences = ((UPDATE_ORDER,) if model.u_uses_new_v else ()) + ((U_EQUATION,) if accommodation else ())
        return NorseCounterpart(NorseIzhikevich(), mapped, 1.0, differences)
    if not isinstance(model, (AdEx, LIF)):
        raise TypeError(f"no Norse counterpart for model {getattr(model, 'name', model)!r}")
    gl = params["gL"]
    membrane = dict(
        tau_syn_inv=1.0 / dt_s, tau_mem_inv=gl / params["C"] / SECONDS_PER_MS,
        v_leak=params["EL"], v_th=params["VT"], v_reset=params["Vr"],
    )
    if isinstance(model, AdEx):
        mapped = dict(
            adaptation_current=params["a"] / gl, adaptation_spike=params["b"] / gl,
            delta_T=params["DeltaT"], tau_ada_inv=1.0 / (params["tauw"] * SECONDS_PER_MS), **membrane,
        )
        return NorseCounterpart(NorseAdEx(), mapped, 1.0 / gl, (SPIKE_DETECTION,))
    differences = ((INTEGRATOR,) if model.integrator == "exact" else ()) + (
        (REFRACTORY,) if params.get("t_ref", 0.0) > 0 else ())
    return NorseCounterpart(NorseLIF(), membrane, 1.0 / gl, differences)
