"""Models against analytic answers and published values; the model protocol for user models."""

import dataclasses
import json
import math
import re
from dataclasses import dataclass
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxplaus import models, patterns, simulate
from jaxplaus.errors import UsageError
from jaxplaus.evaluate import Evaluator
from jaxplaus.models.base import Param, ParamSpace
from jaxplaus.stimuli import Piece

LIF = models.get("lif")


def test_lif_subthreshold_relaxation_is_exact():
    params = LIF.param_space.complete({"C": 200, "gL": 10, "EL": -70, "VT": -30})
    amplitude, dt, onset = 100.0, 0.1, 10.0
    r = simulate.single(LIF, params, [Piece(onset)], [amplitude], dt, 100.0)
    t = np.arange(len(r.v)) * dt
    tau, v_inf = 200 / 10, -70 + amplitude / 10
    after = t > onset + 1e-6
    # the step's input acts from the first step after onset, exactly integrated per step
    expected = v_inf + (-70 - v_inf) * np.exp(-(t[after] - (onset + 0.0)) / tau)
    np.testing.assert_allclose(np.asarray(r.v)[after], expected, atol=2e-3)


def test_lif_rate_matches_the_analytic_interval():
    p = {"C": 200.0, "gL": 10.0, "EL": -70.0, "VT": -50.0, "Vr": -65.0, "t_ref": 2.0}
    amplitude, dt = 400.0, 0.01
    r = simulate.single(LIF, LIF.param_space.complete(p), [Piece(0.0)], [amplitude], dt, 200.0)
    times = np.asarray(r.spike_times)
    isi = np.diff(times[np.isfinite(times)])[1:]
    v_inf = p["EL"] + amplitude / p["gL"]
    tau = p["C"] / p["gL"]
    expected = p["t_ref"] + tau * math.log((v_inf - p["Vr"]) / (v_inf - p["VT"]))
    assert abs(np.median(isi) - expected) < 2 * dt


def test_adex_rests_at_el_and_fires_at_vpeak_not_vt():
    adex = models.get("adex")
    params = adex.param_space.complete({})
    rest = simulate.single(adex, params, [Piece(0.0)], [0.0], 0.1, 50.0)
    assert np.allclose(np.asarray(rest.v), params["EL"], atol=1e-3)
    assert int(rest.n_spikes) == 0
    firing = simulate.single(adex, params, [Piece(0.0)], [500.0], 0.1, 100.0)
    v = np.asarray(firing.v)
    assert int(firing.n_spikes) > 3
    assert v.max() == pytest.approx(params["Vpeak"])  # recorded spikes show the cut at Vpeak
    assert (v > params["VT"]).sum() > int(firing.n_spikes)  # upswing passes VT before the spike


def test_n2d2_one_step_is_the_published_euler_update():
    model = models.get("n2d2")
    p = {k: jnp.float32(v) for k, v in model.param_space.defaults().items()}
    state = model.initial_state(p)
    x, dt = 1.5, 0.1
    new, spiked, _ = model.step(p, state, jnp.float32(x), dt)
    v0, u0 = 0.9411954879760742, 0.0
    assert float(new.v) == pytest.approx(v0 + dt * (2.2999775 * x * u0 + 1.1182089 * u0 ** 2), rel=1e-6)
    assert float(new.u) == pytest.approx(u0 + dt * (0.7606892 * x * x + 0.6316316 * x * u0), rel=1e-6)
    assert not bool(spiked)


def test_unknown_model_and_bad_parameters_are_usage_errors():
    with pytest.raises(UsageError):
        models.get("hodgkin_huxley_9000")
    with pytest.raises(UsageError, match="unknown parameter"):
        LIF.param_space.complete({"tau": 3.0})
    with pytest.raises(UsageError, match="domain"):
        LIF.param_space.complete({"C": -1.0})
    with pytest.raises(UsageError, match="number"):
        LIF.param_space.complete({"C": "big"})


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=10, max_size=10))
def test_unit_cube_roundtrip(z):
    space = models.get("adex").param_space
    values = {k: float(v) for k, v in space.from_unit(np.array(z)).items()}
    assert space.within(values, "wide")
    np.testing.assert_allclose(space.to_unit(values), z, atol=1e-4)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-5.0, 5.0), min_size=6, max_size=6))
def test_any_proposal_maps_inside_the_bounds(z):
    values = {k: float(v) for k, v in LIF.param_space.from_unit(np.array(z)).items()}
    assert LIF.param_space.within(values, "wide")


# ------------------------------------------------------------------- a user's model


class QIFState(NamedTuple):
    v: jnp.ndarray


@dataclass(frozen=True)
class QuadraticIF:
    """A user's model: no jaxplaus base class, just the protocol."""

    name: str = "qif"
    current_unit: str = "dimensionless"
    current_scale: float = 1.0
    param_space: ParamSpace = ParamSpace((
        Param("k", 0.04, 0.01, 0.1, log=True), Param("v_rest", -65.0, -80.0, -50.0),
        Param("v_reset", -60.0, -80.0, -40.0),
    ))

    def initial_state(self, params):
        return QIFState(jnp.asarray(params["v_rest"], jnp.float32))

    def threshold(self, params):
        return jnp.float32(30.0)

    def step(self, params, state, current, dt):
        v = state.v + dt * (params["k"] * (state.v - params["v_rest"]) * (state.v + 40.0) + current)
        spiked = v > 30.0
        return QIFState(jnp.where(spiked, params["v_reset"], v)), spiked, jnp.where(spiked, 30.0, v)


def test_a_user_model_runs_through_simulation_and_batched_evaluation():
    qif = QuadraticIF()
    assert isinstance(qif, models.NeuronModel)
    r = simulate.single(qif, qif.param_space.defaults(), [Piece(10.0)], [10.0], 0.1, 100.0)
    assert int(r.n_spikes) >= 3
    ev = Evaluator(qif, patterns.select(["tonic_spiking", "phasic_spiking"]), dt=0.25)
    loss, passed = ev.jitted(jnp.full((2, 5, ev.dim), 0.5))
    assert loss.shape == (2, 5) and bool(jnp.all(jnp.isfinite(loss)))


@pytest.mark.parametrize("name", models.names())
def test_every_option_given_as_json_builds_the_same_model(name):
    """Each model field that JSON can express, given its own default as JSON (tuples as lists),
    gives the default model back; the others (and n2d2's defining terms) are refused by name."""
    default = models.get(name)
    for field in dataclasses.fields(default):
        value = getattr(default, field.name)
        as_json = json.loads(json.dumps(value)) if isinstance(value, (bool, str, int, float, tuple)) else None
        if as_json is None or (name == "n2d2" and field.name in ("v_terms", "u_terms")):
            with pytest.raises(UsageError, match=repr(field.name)):
                models.get(name, **{field.name: value})
        else:
            assert models.get(name, **{field.name: as_json}) == default, field.name


@pytest.mark.parametrize("options, named", [
    ({"quadratic": 5}, "'quadratic' must be like [0.04, 5.0, 140.0]"),
    ({"quadratic": [1, 2]}, "'quadratic'"),
    ({"quadratic": [1, "b", 3]}, "'quadratic'"),
    ({"u_uses_new_v": 1}, "'u_uses_new_v' must be like true"),
    ({"current_scale": "x"}, "'current_scale'"),
    ({"current_scale": float("nan")}, "'current_scale'"),
    ({"nope": 1}, "no option 'nope'"),
    ({"u_equation": "x"}, "invalid options for model 'izhikevich': u_equation must be"),  # the model's own check
])
def test_an_option_of_the_wrong_kind_is_refused_by_name(options, named):
    with pytest.raises(UsageError, match=re.escape(named)):
        models.get("izhikevich", **options)


def test_json_lists_become_the_tuples_a_model_is_hashed_by():
    model = models.get("izhikevich", quadratic=[0.04, 4.1, 108])
    assert model.quadratic == (0.04, 4.1, 108.0) and hash(model)
