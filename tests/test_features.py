"""Features: spike times and robust statistics against numpy; features that read the voltage
trace give the same answer at any sampling."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxplaus import features, simulate
from jaxplaus.simulate import Recording

BLOCKS = 80  # 160 spike candidates: more than MAX_SPIKES, so the buffer can overflow


@jax.jit
def _spike_times(spikes, n_slots):
    rec = Recording(spikes, jnp.int32(0), n_slots, jnp.zeros(BLOCKS), jnp.zeros(BLOCKS), jnp.bool_(True))
    return features.response(rec, 0.25, 4).spike_times


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=BLOCKS, max_size=BLOCKS), st.integers(0, 2**31 - 1))
def test_spike_times_are_each_blocks_first_and_last_spike_in_order(counts, seed):
    rng = np.random.default_rng(seed)
    counts = np.asarray(counts)
    # blocks of 4 steps of 0.25 ms: the first spike in the block's first half, the last in its second
    first, last = rng.integers(0, 2, BLOCKS), rng.integers(2, 4, BLOCKS)
    at = lambda b, step: np.float32(4 * b + step) * np.float32(0.25)  # noqa: E731
    expected = [at(b, s) for b in range(BLOCKS) for s, shown in ((first[b], counts[b] >= 1), (last[b], counts[b] >= 2))
                if shown]
    expected = (expected + [np.inf] * features.MAX_SPIKES)[: features.MAX_SPIKES]
    spikes, _, n_slots = simulate.coded_blocks(counts, first, last)
    times = _spike_times(spikes, n_slots)
    np.testing.assert_array_equal(np.asarray(times), np.asarray(expected, np.float32))


def test_spike_times_of_a_run_whose_slot_count_saturates_the_code():
    # 300 blocks of two spikes fill 600 slots; the code counts earlier slots only up to 255
    blocks = 300
    spikes, n_spikes, n_slots = simulate.coded_blocks(np.full(blocks, 2), np.zeros(blocks, int), np.full(blocks, 3))
    assert int(n_slots) == 600
    rec = Recording(spikes, n_spikes, n_slots, jnp.zeros(blocks), jnp.zeros(blocks), jnp.bool_(True))
    times = features.response(rec, 0.25, 4).spike_times
    expected = [t for b in range(features.MAX_SPIKES // 2) for t in (b, b + 0.75)]  # steps 0 and 3 of 0.25 ms
    np.testing.assert_array_equal(np.asarray(times), np.asarray(expected, np.float32))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 600), st.integers(0, 2**31 - 1))
def test_count_at_most_equals_numpys_searchsorted(length, seed):
    # repeated entries (blocks without spikes) and queries below, between and above them
    rng = np.random.default_rng(seed)
    ascending = np.sort(rng.integers(0, length // 2 + 2, length)).astype(np.int32)
    queries = np.arange(-2, length // 2 + 4, dtype=np.int32)
    np.testing.assert_array_equal(np.asarray(features.count_at_most(jnp.asarray(ascending), jnp.asarray(queries))),
                                  np.searchsorted(ascending, queries, side="right"))


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 300), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_count_at_most_searches_each_column_of_a_batch(length, columns, seed):
    rng = np.random.default_rng(seed)
    ascending = np.sort(rng.integers(0, length // 2 + 2, (length, columns)), axis=0).astype(np.int32)
    queries = np.arange(-2, length // 2 + 4, dtype=np.int32)
    counts = np.asarray(features.count_at_most(jnp.asarray(ascending), jnp.asarray(queries)[:, None]))
    assert counts.shape == (len(queries), columns)
    for c in range(columns):
        np.testing.assert_array_equal(counts[:, c], np.searchsorted(ascending[:, c], queries, side="right"))


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_a_batch_of_runs_gives_each_runs_own_response(seed):
    """Records with the block axis first, as the simulation loop writes them, give the Responses
    one run at a time gives, batch axes first."""
    rng = np.random.default_rng(seed)
    runs = []
    for _ in range(6):
        counts = rng.integers(0, 4, BLOCKS) * (rng.random(BLOCKS) < rng.random())
        spikes, n_spikes, n_slots = simulate.coded_blocks(counts, rng.integers(0, 2, BLOCKS), rng.integers(2, 4, BLOCKS))
        runs.append(Recording(spikes, n_spikes, n_slots, rng.normal(size=BLOCKS).astype(np.float32),
                              rng.normal(size=BLOCKS).astype(np.float32), np.bool_(rng.random() < 0.9)))
    one_by_one = [features.response(jax.tree.map(jnp.asarray, r), 0.25, 4) for r in runs]
    # a [2, 3] batch: per-block fields [blocks, 2, 3], the rest [2, 3]
    stacked = jax.tree.map(lambda *xs: np.stack(xs).reshape((2, 3) + np.shape(xs[0])), *runs)
    batch = jax.tree.map(lambda x: jnp.asarray(np.moveaxis(x, -1, 0) if x.ndim == 3 else x), stacked)
    together = features.response(batch, 0.25, 4)
    for i, alone in enumerate(one_by_one):
        for field, a, b in zip(features.Response._fields, alone, together):
            np.testing.assert_array_equal(np.asarray(b).reshape((6,) + np.shape(a))[i], a, err_msg=field)


# XLA flushes subnormals to zero, numpy does not: no subnormal inputs, and the mean of the two
# middle values may itself be subnormal (0 and the smallest normal), hence atol
@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.floats(0.0, 1e3, width=32, allow_subnormal=False), st.just(np.nan)), min_size=1, max_size=95))
def test_nanmedian_equals_numpys(values):
    x = np.asarray(values, np.float32)
    expected = np.nanmedian(x) if np.any(~np.isnan(x)) else np.nan
    np.testing.assert_allclose(float(features.nanmedian(jnp.asarray(x))), expected, rtol=1e-6,
                               atol=float(np.finfo(np.float32).tiny))


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
