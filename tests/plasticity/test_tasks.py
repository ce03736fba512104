"""Task losses: blow-up penalty, NaN-producing rules, the stability term."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxplaus.plasticity import network as N
from jaxplaus.plasticity import rules as R
from jaxplaus.plasticity import tasks as T
from jaxplaus.plasticity.metalearn import make_evaluator

# strong input drives the static network into the runaway state within a few hundred ms
NET = N.get_network("small", input_rate_range=(12.0, 12.0))
TASK = T.get_task("stability", "small", train_range=(1.2, 1.2), score_s=0.3)


@pytest.fixture(scope="module")
def outcome():
    rule = R.get_rule("ie6")
    evaluate = make_evaluator(NET, rule, TASK, 1, False)
    thetas = jnp.stack(
        [
            jnp.zeros(6),  # no plasticity: blows up
            jnp.array([0.0, 0.0, jnp.nan, 0.0, 0.0, 0.0]),  # NaN weights at the first I spike
            jnp.array([0.0, 0.0, 1e30, 0.0, 0.0, 0.0]),  # enormous updates: clipped, finite
        ]
    )
    losses, diagnostics = evaluate(thetas, jax.random.PRNGKey(0))
    return np.asarray(losses)[:, 0], {k: np.asarray(v)[:, 0] for k, v in diagnostics.items()}


def test_stability_term_is_zero_at_target_and_positive_elsewhere():
    assert float(T.stability_term(10.0)) == 0.0
    assert float(T.stability_term(20.0)) == pytest.approx(100 / 22)
    assert float(T.stability_term(0.0)) == pytest.approx(50.0)


def test_penalty_is_larger_for_earlier_blowups():
    early, late = T.blowup_penalty(0.1, 10.0), T.blowup_penalty(9.0, 10.0)
    assert 160 * (1 + np.exp(-1)) <= float(late) < float(early) <= 320


def test_blown_network_gets_the_spec_penalty_at_its_blowup_time(outcome):
    losses, diagnostics = outcome
    assert diagnostics["blown"][0]
    total = 1.5  # train + score
    t_blowup = diagnostics["t_blowup"][0]
    assert 0.0 < t_blowup < total
    assert losses[0] == pytest.approx(float(T.blowup_penalty(t_blowup, total)), rel=1e-5)


def test_nan_rule_gives_a_finite_penalty_not_a_nan(outcome):
    losses, diagnostics = outcome
    assert diagnostics["blown"][1]
    assert np.isfinite(losses[1]) and 160.0 < losses[1] <= T.WORST_PENALTY


def test_every_loss_is_finite(outcome):
    losses, _ = outcome
    assert np.all(np.isfinite(losses))
