"""Features that read the voltage trace give the same answer at any sampling."""

import jax.numpy as jnp
import numpy as np
import pytest

from jaxplaus import features


def _response(t, v):
    t, v = jnp.asarray(t, jnp.float32), jnp.asarray(v, jnp.float32)
    return features.Response(jnp.full(features.MAX_SPIKES, jnp.inf), jnp.int32(0), t, v, v, jnp.bool_(True))


def _damped(step_ms):
    t = np.arange(0.0, 200.0, step_ms)
    return t, -50.0 + 0.8 * np.exp(-t / 40.0) * np.cos(2 * np.pi * t / 60.0)


@pytest.mark.parametrize("step_ms", [0.125, 0.25, 1.0])
def test_turning_points_of_a_damped_oscillation_do_not_depend_on_sampling(step_ms):
    t, v = _damped(step_ms)
    # extrema every 30 ms; those whose swing exceeds 2% of the largest excursion: 30 .. 150 ms
    assert int(features.oscillation_crossings(_response(t, v), 1.0, 200.0)) == 5


def test_flat_extrema_and_rounding_wiggles_are_not_miscounted():
    t, v = _damped(0.25)
    v = np.round(v, 3)  # equal neighbouring samples at each extremum, steps of 1e-3 mV elsewhere
    rng = np.random.default_rng(0)
    noisy = v + rng.uniform(-2e-4, 2e-4, v.shape)  # wiggles far below 2% of the excursion
    assert int(features.oscillation_crossings(_response(t, v), 1.0, 200.0)) == 5
    assert int(features.oscillation_crossings(_response(t, noisy), 1.0, 200.0)) == 5


def test_an_exponential_relaxation_has_no_turning_points():
    t = np.arange(0.0, 200.0, 0.25)
    assert int(features.oscillation_crossings(_response(t, -50.0 + 5.0 * np.exp(-t / 20.0)), 1.0, 200.0)) == 0
