"""Physiological limits: the peak input of every protocol, and the response limits as criteria."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxplaus import features, models, patterns, physiology, stimuli
from jaxplaus.patterns import criteria as C


@pytest.mark.parametrize("name", patterns.names())
@given(st.lists(st.floats(0.01, 100.0), min_size=2, max_size=2))
@settings(max_examples=5, deadline=None)  # linear in the gains: a few draws per protocol suffice
def test_peak_input_is_the_largest_input_of_the_protocol(name, gains):
    protocol = patterns.get(name).protocol
    g = np.asarray(gains[: len(protocol.gains)], np.float32)
    dt = 0.05
    t = jnp.arange(0.0, protocol.duration_ms + dt, dt, dtype=jnp.float32)
    wave = stimuli.waveform(protocol.pieces)
    dense = float(jnp.max(jnp.abs(jax.vmap(lambda x: stimuli.current(wave, jnp.asarray(g), x, dt))(t))))
    peak = float(physiology.peak_input(physiology.breakpoint_channels(protocol.pieces, protocol.duration_ms), g))
    # the breakpoints bracket each change by 1e-3 ms, the dense grid by up to one of its steps
    assert peak == pytest.approx(dense, rel=1e-2, abs=1e-3)


def test_every_model_with_physiological_ranges_declares_its_limits_with_a_source():
    for name in ("lif", "adex", "izhikevich"):
        phys = physiology.of(models.get(name))
        assert phys is not None and phys.source and phys.max_input > 0
    assert physiology.of(models.get("n2d2")) is None
    adex = physiology.of(models.get("adex"))
    assert float(adex.input_limit({"C": 200.0})) == pytest.approx(2000.0)  # 10 pA per pF


def _response(spike_times, v_low=-70.0, v_high=20.0):
    times = np.full(features.MAX_SPIKES, np.inf, np.float32)
    times[: len(spike_times)] = spike_times
    t = np.arange(100, dtype=np.float32)
    v = np.full(100, -65.0, np.float32)
    v[10], v[20] = v_low, v_high
    return features.Response(jnp.asarray(times), jnp.int32(len(spike_times)), jnp.asarray(t), jnp.asarray(v),
                             jnp.asarray(v), jnp.bool_(True))


@pytest.mark.parametrize("spikes, v_low, peak, failing", [
    ([10.0, 20.0, 30.0], -70.0, 500.0, []),
    ([10.0, 11.5, 30.0], -70.0, 500.0, ["shortest interval (ms)"]),
    ([10.0, 20.0], -120.0, 500.0, ["lowest v (mV)"]),
    ([10.0], -70.0, 2500.0, ["peak |input| / physiological limit"]),
    ([], -70.0, 500.0, []),  # no interval at all is no short interval
])
def test_limits_hold_exactly_when_the_response_is_physiological(spikes, v_low, peak, failing):
    phys = physiology.of(models.get("adex"))
    criteria = physiology.criteria(phys, _response(spikes, v_low), jnp.float32(peak), {"C": jnp.float32(200.0)}, 99.0)
    assert [c.name for c in criteria if not bool(C.holds(c))] == failing
    assert all((float(C.violation(c)) > 0) == (c.name in failing) for c in criteria)


def test_the_search_margin_rejects_a_response_on_the_edge_of_a_limit_that_validation_accepts():
    # an optimiser settles on a limit's edge: a 2.0-ms interval at the search's step becomes
    # 1.8 ms at a finer one, so the search asks for slack that validation does not
    phys = physiology.of(models.get("adex"))
    edge = _response([10.0, 12.0, 30.0], v_high=59.0)
    args = (jnp.float32(500.0), {"C": jnp.float32(200.0)}, 99.0)
    exact = physiology.criteria(phys, edge, *args)
    searched = physiology.criteria(phys, edge, *args, margin=physiology.SEARCH_MARGIN)
    assert all(bool(C.holds(c)) for c in exact)
    assert [c.name for c in searched if not bool(C.holds(c))] == ["shortest interval (ms)", "highest v (mV)"]
    inside = _response([10.0, 12.5, 30.0], v_high=57.5)
    assert all(bool(C.holds(c)) for c in physiology.criteria(phys, inside, *args, margin=physiology.SEARCH_MARGIN))
