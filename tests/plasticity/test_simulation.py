"""Blow-up detection of `simulation.run`: a runaway network is stopped by its synchrony soon after
the onset, long before its filtered rate leaves the (0.1, 100) Hz band of Confavreux et al. 2025;
a network held by Vogels' rule, whose onset burst is just as synchronous, is not stopped."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxplaus.plasticity import network as N
from jaxplaus.plasticity import rules as R
from jaxplaus.plasticity import simulation as S

NET = N.get_network("small")
SECONDS = 0.6


def run(theta):
    rule = R.get_rule("ie6")
    trial = N.draw_trial(jax.random.PRNGKey(7), NET)._replace(input_rate=jnp.float32(3.0))

    def drive(t_index):
        return {"E": trial.input_rate, "I": trial.input_rate}, 1.0

    def observe(acc, t_index, rate, spiked):
        return acc + jnp.sum(spiked["E"])

    n_steps = int(round(SECONDS / NET.dt))
    simulate = jax.jit(lambda th: S.run(NET, rule, th, trial, N.initial_state(NET, trial, rule), n_steps, drive, observe, jnp.int32(0)))
    return simulate(jnp.asarray(theta, jnp.float32))


def test_a_runaway_network_is_stopped_by_its_synchrony_before_its_rate_leaves_the_band():
    out = run(np.zeros(6))  # no plasticity: the network runs away at ~130 Hz
    assert bool(out.blown)
    first_chunk_after_startup = S.STARTUP_S + 0.1
    assert float(out.t_blowup) == pytest.approx(first_chunk_after_startup, abs=1e-6)
    assert float(out.filtered_rate) < S.RATE_BOUNDS[1]  # the rate alone would not have stopped it yet
    rate = int(out.acc) / (NET.n_e * float(out.t_blowup))
    assert rate > 50.0


def test_a_network_held_by_vogels_rule_is_not_stopped():
    out = run(R.vogels2011())
    assert not bool(out.blown)
