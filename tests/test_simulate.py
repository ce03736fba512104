"""Simulation records: what happens after a run's own end does not count."""

from typing import NamedTuple

import jax.numpy as jnp

from jaxplaus import simulate, stimuli


class Accumulator(NamedTuple):
    """dv/dt = I without leak or reset: a large input drives v to inf."""

    def initial_state(self, params):
        return jnp.float32(0.0)

    def step(self, params, v, current, dt):
        v = v + dt * current
        return v, v > 1.0, v


def _record(t_end):
    wave = stimuli.waveform([stimuli.Piece(150.0, 400.0, 3e38)])  # v overflows a few steps after 150 ms
    return simulate.record(Accumulator(), {}, wave, jnp.float32([1.0]), jnp.float32(0.25), jnp.float32(t_end),
                           blocks=200, block_len=4)


def test_a_blow_up_inside_the_run_is_recorded():
    assert not bool(_record(t_end=200.0).finite)


def test_a_blow_up_in_the_padding_after_the_run_is_not():
    # batches pad shorter protocols to the longest one; the padded steps are not part of the run
    assert bool(_record(t_end=100.0).finite)
