"""Analytic checks of the plasticity rules (no simulation)."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from jaxplaus.errors import UsageError
from jaxplaus.plasticity import rules as R


def test_coactive_updates_match_spec_formulas():
    theta = jnp.array([R.param_from_tau(0.03), R.param_from_tau(0.07), -0.3, 0.2, 0.5, 1.5])
    w = jnp.array([[0.1, 0.2]])
    x_pre, x_post = jnp.array([[0.4]]), jnp.array([[0.9, 1.1]])
    on_pre = R._coactive_on_pre(theta, w, {"traces": x_pre[None]}, {"traces": x_post[None]})
    on_post = R._coactive_on_post(theta, w, {"traces": x_post[None]}, {"traces": x_pre[None]})
    np.testing.assert_allclose(on_pre, 0.01 * (-0.3 + 1.5 * np.array([[0.9, 1.1]])), rtol=1e-6)
    np.testing.assert_allclose(on_post, 0.01 * (0.2 + 0.5 * np.array([[0.9, 1.1]])), rtol=1e-6)
    pre_tau, post_tau = R._coactive_taus(theta)
    np.testing.assert_allclose([float(pre_tau[0]), float(post_tau[0])], [0.03, 0.07], rtol=1e-5)


def test_vogels_fixed_point_is_rho0_and_independent_of_presynaptic_rate():
    theta = R.vogels2011(rho0=10.0)
    for rate_pre in (2.0, 10.0, 50.0):
        assert R.coactive_fixed_point(theta, rate_pre) == pytest.approx(10.0, rel=1e-5)
    assert R.coactive_fixed_point(R.vogels2011(rho0=4.0), 7.0) == pytest.approx(4.0, rel=1e-5)


def test_published_ie_rule_fixed_point_near_spec_value():
    # Confavreux et al. 2025: tau_pre 54 ms, tau_post 98 ms, alpha -1.41, beta 0.015, gamma 0.72,
    # kappa 1.08 -> 9.8 Hz
    theta = R.confavreux2025_ie()
    assert R.coactive_fixed_point(theta, 50.0) == pytest.approx(9.8, rel=0.02)


def test_no_fixed_point_is_nan():
    assert math.isnan(R.coactive_fixed_point([0, 0, 0.5, 0, 1, 1], 10.0))  # always potentiates


def test_polynomial_contains_the_coactive_rule():
    c = R.vogels2011()
    theta = np.zeros(21)
    theta[0], theta[1] = c[0], c[1]
    theta[3], theta[5] = c[2], c[5]  # pre: constant alpha, kappa * x_post
    theta[12], theta[14] = c[3], c[4]  # post: constant beta, gamma * x_pre
    theta = jnp.asarray(theta)
    rng = np.random.default_rng(0)
    w = jnp.asarray(rng.uniform(0, 1, (3, 5)))
    post = {"traces": jnp.asarray(rng.uniform(0, 2, (2, 3, 5))), "v": jnp.full((3, 1), -55.0), "i_exc": jnp.ones((3, 1)), "i_inh": -jnp.ones((3, 1))}
    pre = {"traces": jnp.asarray(rng.uniform(0, 2, (1, 3, 5)))}
    coactive = jnp.asarray(c)
    np.testing.assert_allclose(R._poly_on_pre(theta, w, pre, post), R._coactive_on_pre(coactive, w, pre, post), rtol=1e-5)
    np.testing.assert_allclose(R._poly_on_post(theta, w, pre, post), R._coactive_on_post(coactive, w, pre, post), rtol=1e-5)


def test_mlp_at_zero_is_no_plasticity_and_shapes_broadcast():
    rule = R.get_rule("mlp")
    theta = jnp.zeros(rule.n_params)
    w = jnp.ones((4, 6))
    dw = rule.on_pre(theta, w, {"traces": jnp.ones((1, 4, 1))}, {"traces": jnp.ones((1, 4, 6))})
    assert dw.shape == (4, 6) and float(jnp.abs(dw).max()) == 0.0


def test_registry_sizes_and_split():
    assert {name: R.get_rule(name).n_params for name in ("ie6", "eeie12", "all24", "poly21")} == {
        "ie6": 6,
        "eeie12": 12,
        "all24": 24,
        "poly21": 21,
    }
    parts = R.get_rule("eeie12").split(jnp.arange(12.0))
    assert list(parts) == ["EE", "IE"] and float(parts["IE"][0]) == 6.0
    with pytest.raises(UsageError):
        R.get_rule("nope")


def test_extreme_time_constants_are_clipped():
    assert float(R.tau_from_param(-1e6)) == pytest.approx(1e-4)
    assert float(R.tau_from_param(1e6)) == pytest.approx(R.TAU_MAX)
