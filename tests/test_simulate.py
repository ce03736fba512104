"""Simulation records: per-block spike summaries, and what happens after a run's own end does not count."""

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxplaus import simulate, stimuli
from jaxplaus.errors import UsageError


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


@settings(max_examples=200, deadline=None)
@given(st.floats(width=32, allow_nan=True, allow_infinity=True), st.booleans())
def test_the_spike_bit_travels_with_v(v, spiked):
    """The recording loop hands out v with the spike flag in its lowest bit: the flag comes back
    exactly, v within one unit in the last place (towards zero), infinities and NaN as they were."""
    back, flag = simulate.split_spike_bit(simulate.with_spike_bit(jnp.float32(v), jnp.bool_(spiked)))
    assert bool(flag) == spiked
    back, v = np.float32(back), np.float32(v)
    if np.isnan(v):
        assert np.isnan(back)
    else:  # the same bits but the lowest: infinities exact, finite v moved by at most one ulp towards 0
        assert back.view(np.int32) == v.view(np.int32) & ~1


class Detector(NamedTuple):
    """Spikes on every step its input is on: the stimulus writes the spike train."""

    def initial_state(self, params):
        return jnp.float32(0.0)

    def step(self, params, v, current, dt):
        return current, current > 0.5, current


STEPS, DT = 160, 0.25


@partial(jax.jit, static_argnames="block_len")
def _detect(wave, block_len):
    return simulate.record(Detector(), {}, wave, jnp.float32([1.0]), jnp.float32(DT), jnp.float32(1e9),
                           blocks=simulate.n_blocks(STEPS, block_len), block_len=block_len)


# block lengths around 31/32 steps, where an int32 bitmask of a block's spikes would no longer fit
@settings(max_examples=40, deadline=None)
@given(st.sets(st.integers(0, STEPS - 1), max_size=48), st.sampled_from([1, 4, 8, 31, 32, 40]))
def test_each_block_records_its_spikes_and_voltage(spike_steps, block_len):
    pieces = [stimuli.Piece((k - 0.5) * DT, (k + 0.5) * DT) for k in spike_steps]
    rec = _detect(stimuli.waveform(pieces, n_pieces=48), block_len)
    blocks = simulate.n_blocks(STEPS, block_len)
    in_block = [sorted(k for k in spike_steps if k // block_len == b) for b in range(blocks)]
    assert int(rec.n_spikes) == len(spike_steps)
    slots = [min(len(ks), 2) for ks in in_block]
    assert int(rec.n_slots) == sum(slots)
    np.testing.assert_array_equal(simulate.slots_before(rec.spikes), np.cumsum(slots) - slots)
    step_in_block = lambda ks, pick: pick(ks) % block_len if ks else 0  # noqa: E731
    np.testing.assert_array_equal(simulate.first_step(rec.spikes), [step_in_block(ks, min) for ks in in_block])
    np.testing.assert_array_equal(simulate.last_step(rec.spikes), [step_in_block(ks, max) for ks in in_block])
    # the detector's recorded v is its input: 1 on spiking steps, 0 elsewhere
    np.testing.assert_array_equal(rec.v, [float((b + 1) * block_len - 1 in spike_steps) for b in range(blocks)])
    np.testing.assert_array_equal(rec.v_max, [float(bool(ks)) for ks in in_block])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=40))
def test_a_blocks_spike_flags_give_its_count_and_first_and_last_step(flags):
    """Blocks up to 32 steps read a bit mask, longer ones count and search: the same answers."""
    count, first, last = simulate.spike_steps(jnp.asarray(flags, jnp.int32))
    on = [k for k, f in enumerate(flags) if f]
    assert (int(count), int(first), int(last)) == (len(on), min(on, default=0), max(on, default=0))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 1000), st.integers(0, 50), st.integers(0, 4095), st.integers(0, 4095))
def test_a_blocks_spike_code_gives_back_its_slots_and_steps(before, count, first, last):
    code = simulate.block_spikes(jnp.int32(before), jnp.int32(count), jnp.int32(first), jnp.int32(last))
    assert code.dtype == jnp.uint32
    decoded = int(simulate.slots_before(code)), int(simulate.first_step(code)), int(simulate.last_step(code))
    # the count of earlier slots saturates far above the slots features read; no spikes, no steps
    assert decoded == (min(before, 255),) + ((first, last) if count else (0, 0))


def test_a_block_longer_than_the_code_can_hold_is_refused():
    with pytest.raises(ValueError, match="1 to 4096 steps"):
        simulate.record(Detector(), {}, stimuli.waveform([stimuli.Piece()]), jnp.float32([1.0]), jnp.float32(DT),
                        jnp.float32(1.0), blocks=1, block_len=2**12 + 1)


def test_another_loop_shape_records_the_same(monkeypatch):
    """Unrolling the loops and dropping the barrier change the layout, not the records: random
    Izhikevich neurons under a step current, recorded either way."""
    from jaxplaus import models

    model = models.get("izhikevich")
    key_a, key_b = jax.random.split(jax.random.PRNGKey(3))
    params = model.param_space.from_unit(jax.random.uniform(key_a, (32, len(model.param_space))), "wide")
    gains = jax.random.uniform(key_b, (32, 1), minval=0.0, maxval=30.0)
    wave = stimuli.waveform([stimuli.Piece(10.0, 100.0)])  # gain x 1 from 10 ms on

    def run(shape):
        monkeypatch.setattr(simulate, "LOOP_SHAPE", shape)
        one = lambda p, g: simulate.record(model, p, wave, g, 0.25, 20.0, 7, 4)  # noqa: E731
        return jax.jit(jax.vmap(one))(params, gains)

    default = run(simulate.LoopShape())
    unrolled = run(simulate.LoopShape(barrier=False, unroll_steps=4, unroll_blocks=3))
    assert int(default.n_spikes.sum()) > 0
    for a, b in zip(default, unrolled):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-4)


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True, allow_infinity=True))
def test_a_run_outside_its_domain_is_refused_by_name(dt, duration):
    ok = (np.isfinite(dt) and 0 < dt <= simulate.MAX_DT_MS and np.isfinite(duration) and duration > 0
          and duration / dt + 1 <= simulate.MAX_FULL_RESOLUTION_STEPS + 1e-6)
    if ok:
        assert simulate.check_run(dt, duration) == simulate.n_steps(duration, dt)
    else:
        with pytest.raises(UsageError, match="dt|duration_ms"):
            simulate.check_run(dt, duration)
