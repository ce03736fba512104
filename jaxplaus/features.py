"""Features of one neuron's response, on fixed-size padded arrays so they jit and vmap.

Spike times live in a `[max_spikes]` array padded with +inf; voltage in per-block samples.
Everything here is relative (ratios of intervals, counts, voltages normalised by the distance
from rest to the spike threshold) so the same rules hold for models of any units.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxplaus import simulate
from jaxplaus.simulate import Recording

MAX_SPIKES = 96  # figure1.m's busiest case has 28; more than this fails every pattern
BURST_JUMP = 3.0  # an interval this many times its predecessor ends a burst


class Response(NamedTuple):
    spike_times: jnp.ndarray  # [MAX_SPIKES] ascending, +inf padded
    n_spikes: jnp.ndarray  # () total count (may exceed MAX_SPIKES)
    t: jnp.ndarray  # [blocks] time of each voltage sample
    v: jnp.ndarray  # [blocks] voltage samples
    v_max: jnp.ndarray  # [blocks] largest voltage within each block
    finite: jnp.ndarray  # () the state stayed finite


def count_at_most(ascending, queries):
    """For each query, how many entries of the ascending array are <= it (numpy's
    `searchsorted(ascending, queries, side="right")`), by a binary search that carries one
    position and halves its step. Sorted along axis 0 ([n, *batch]); queries [k, *batch] (or
    broadcasting to it) get counts [k, *batch], each in its own column.

    `jnp.searchsorted(method="scan")` carries both ends of the interval, and XLA:CPU then gathers
    from the array once for each; this search gathers once a round (docs/performance.md, "Spike
    slots by a binary search")."""
    n = ascending.shape[0]
    levels = n.bit_length()  # 2**levels > n: every count from 0 to n is reachable
    shape = jnp.broadcast_shapes(jnp.shape(queries), (1,) + ascending.shape[1:])

    def halve(i, position):
        step = 1 << (levels - 1) >> i  # 2**(levels - 1), ..., 2, 1
        probe = position + step - 1
        below = (probe < n) & (jnp.take_along_axis(ascending, jnp.minimum(probe, n - 1), axis=0) <= queries)
        return jnp.where(below, position + step, position)

    return jax.lax.fori_loop(0, levels, halve, jnp.zeros(shape, jnp.int32))


def response(rec: Recording, dt, block_len: int, max_spikes: int = MAX_SPIKES) -> Response:
    """Spike times from per-block first/last spike (exact when no block holds more than two).

    One run's Recording, or a batch of runs with the block axis first (`spikes`, `v`, `v_max`
    [blocks, *batch], the rest [*batch]) as the simulation loop writes them; the Response has the
    batch axes first ([*batch, max_spikes], [*batch, blocks])."""
    # Each block fills a slot with its first spike and, when it holds two or more, one with its
    # last: slot k lies in the last block whose earlier blocks fill at most k (the simulation
    # counts them). A binary search over blocks finds it, with arrays [max_spikes] small, where a
    # scatter of every block's spikes to their slots is slower (docs/performance.md, "Spike slots
    # by a binary search"). Searching blocks in the loop's own layout spares a transposed copy of
    # the records (docs/performance.md, "Records read in the loop's layout").
    if max_spikes > simulate.MAX_SLOTS_BEFORE:
        raise ValueError(f"at most {simulate.MAX_SLOTS_BEFORE} spike slots, not {max_spikes}")
    batch = rec.n_slots.shape
    slot = jnp.arange(max_spikes).reshape((max_spikes,) + (1,) * len(batch))
    # searched as bytes (the count saturates at 255)
    block = count_at_most(simulate.slots_before(rec.spikes).astype(jnp.uint8), slot.astype(jnp.uint8)) - 1
    # a block's first slot holds its first spike, a second one its last (one gather of the code)
    opens_block = jnp.concatenate([jnp.ones((1,) + batch, bool), block[1:] != block[:-1]])
    code = jnp.take_along_axis(rec.spikes, block, axis=0)
    step = jnp.where(opens_block, simulate.first_step(code), simulate.last_step(code))
    times = (block * block_len + step).astype(jnp.float32) * dt
    times = jnp.where(slot < rec.n_slots, times, jnp.inf)
    blocks = rec.v.shape[0]
    sample_t = jnp.broadcast_to((jnp.arange(blocks) * block_len + block_len - 1) * dt, batch + (blocks,))
    last = lambda x: jnp.moveaxis(x, 0, -1)  # noqa: E731
    return Response(last(times), rec.n_spikes, sample_t, last(rec.v), last(rec.v_max), rec.finite)


def in_window(times, t0, t1):
    return (times > t0) & (times < t1)


def count_between(times, t0, t1):
    return jnp.sum(in_window(times, t0, t1))


def first_after(times, t0):
    return jnp.min(jnp.where(times > t0, times, jnp.inf))


def last_before(times, t1):
    return jnp.max(jnp.where(times < t1, times, -jnp.inf))


def window_intervals(times, t0, t1):
    """Inter-spike intervals between consecutive spikes inside (t0, t1); NaN elsewhere ([K-1])."""
    inside = in_window(times, t0, t1)
    both = inside[1:] & inside[:-1]
    return jnp.where(both, times[1:] - times[:-1], jnp.nan)


def first_valid(x):
    index = jnp.argmax(~jnp.isnan(x))
    return jnp.where(jnp.any(~jnp.isnan(x)), x[index], jnp.nan)


def last_valid(x):
    valid = ~jnp.isnan(x)
    index = x.shape[-1] - 1 - jnp.argmax(valid[::-1])
    return jnp.where(jnp.any(valid), x[index], jnp.nan)


def nanmedian(x):
    """`jnp.nanmedian` of a 1-D array, from the top half of a `lax.top_k`: XLA's CPU sort is
    slow (docs/performance.md, "The median from a partial top-k")."""
    n = jnp.sum(~jnp.isnan(x))
    top = jax.lax.top_k(jnp.where(jnp.isnan(x), -jnp.inf, x), x.shape[-1] // 2 + 1)[0]  # descending
    # ranks (n - 1) // 2 and n // 2 from the top are the middle ones from the bottom too
    middle = 0.5 * (top[jnp.maximum((n - 1) // 2, 0)] + top[n // 2])
    return jnp.where(n > 0, middle, jnp.nan)


def interval_cv(isi):
    n = jnp.sum(~jnp.isnan(isi))
    mean = jnp.nanmean(isi)
    return jnp.where(n >= 2, jnp.nanstd(isi) / mean, jnp.nan)


def max_jump(isi):
    """Largest ratio of an interval to the one before it (>= BURST_JUMP marks a burst's end)."""
    ratio = isi[1:] / isi[:-1]
    return jnp.where(jnp.any(~jnp.isnan(ratio)), jnp.nanmax(ratio), jnp.nan)


def regular_ending(isi, band):
    """Mask of the train's regular ending: the longest run of last intervals whose longest is at
    most `band` times their shortest. A steady tail added to the recording stays inside it, so
    what comes before it (the transient) does not depend on how long the recording runs."""
    valid = ~jnp.isnan(isi)
    longest = jax.lax.cummax(jnp.where(valid, isi, -jnp.inf), reverse=True)
    shortest = jax.lax.cummin(jnp.where(valid, isi, jnp.inf), reverse=True)
    return valid & (longest <= band * shortest)


def leading_run(mask, valid):
    """Mask of the consecutive valid entries from the first valid one on where `mask` holds."""
    return valid & (jax.lax.cummin((mask | ~valid).astype(jnp.int32)) > 0)


def trailing_run(mask, valid):
    """Mask of the consecutive valid entries up to the last valid one where `mask` holds."""
    return valid & (jax.lax.cummin((mask | ~valid).astype(jnp.int32), reverse=True) > 0)


def least_ratio_to_longest_before(isi):
    """Smallest ratio of an interval to the longest one before it: below 1 when the rate rose
    again after slowing down; NaN with fewer than two intervals."""
    valid = ~jnp.isnan(isi)
    longest = jax.lax.cummax(jnp.where(valid, isi, -jnp.inf))
    before = jnp.concatenate([jnp.full((1,), -jnp.inf, isi.dtype), longest[:-1]])
    smallest = jnp.min(jnp.where(valid & (before > 0), isi / before, jnp.inf))
    return jnp.where(jnp.isfinite(smallest), smallest, jnp.nan)


def burst_sizes(times, t0, t1):
    """Spikes per group, groups split at long intervals ([K], zeros past the last group).

    Intervals are short (intra-burst) when BURST_JUMP times shorter than the longest interval and
    the train has a sharp jump (some interval >= BURST_JUMP x its predecessor); trains without
    such a jump (tonic, adapting) are all single spikes.
    """
    inside = in_window(times, t0, t1)
    isi = window_intervals(times, t0, t1)
    bursty = max_jump(isi) >= BURST_JUMP
    short = bursty & (isi < jnp.nanmax(isi) / BURST_JUMP)
    starts_group = inside & ~jnp.concatenate([jnp.array([False]), short])
    group = jnp.cumsum(starts_group) - 1
    sizes = jnp.zeros(times.shape[-1], jnp.int32).at[jnp.where(inside, group, times.shape[-1])].add(1, mode="drop")
    return sizes


def resting_voltage(resp: Response, t_before):
    """Voltage at rest: the last sample before the stimulus, else the first sample."""
    before = resp.t < t_before
    index = jnp.maximum(jnp.sum(before) - 1, 0)
    return resp.v[index]


def drive(resp: Response, v_rest, v_threshold, t0, t1):
    """How far the voltage rose towards threshold inside (t0, t1): 0 at rest, 1 at threshold."""
    inside = (resp.t > t0) & (resp.t < t1)
    peak = jnp.max(jnp.where(inside, resp.v_max, -jnp.inf))
    return jnp.clip((peak - v_rest) / (v_threshold - v_rest), 0.0, 1.0)


def voltage_at(resp: Response, t):
    """The last voltage sample at or before time t."""
    index = jnp.maximum(jnp.sum(resp.t <= t) - 1, 0)
    return resp.v[index]


def drift(resp: Response, t0, t1):
    """Largest excursion of v in [t0, t1] from its value at t1 (small = v has settled)."""
    inside = (resp.t >= t0) & (resp.t <= t1)
    return jnp.max(jnp.where(inside, jnp.abs(resp.v - voltage_at(resp, t1)), 0.0))


def oscillation_crossings(resp: Response, t0, t1, rel_amplitude=0.02):
    """Turning points of v inside (t0, t1) whose swing (the change of v since the previous
    turning point) exceeds rel_amplitude of v's largest excursion from its final value there.

    A damped oscillation has several, an exponential relaxation has none. Counting swings
    rather than sign changes of successive differences makes the count independent of the
    sampling: at full resolution an extremum often spans two equal float32 samples, and tiny
    rounding wiggles are not turning points.
    """
    inside = (resp.t > t0) & (resp.t < t1)
    v = resp.v
    v_end = v[jnp.maximum(jnp.max(jnp.where(inside, jnp.arange(v.shape[-1]), -1)), 0)]
    largest = jnp.max(jnp.where(inside, jnp.abs(v - v_end), 0.0))
    h = rel_amplitude * largest

    def step(carry, sample):
        started, direction, extreme, count = carry  # direction: +1 rising, -1 falling, 0 not yet
        vi, ok = sample
        extreme = jnp.where(started, extreme, vi)  # the window's first sample starts the count
        up, down = vi > extreme + h, vi < extreme - h
        turned = ((direction == 1) & down) | ((direction == -1) & up)
        new_direction = jnp.where(direction == 0, jnp.where(up, 1, jnp.where(down, -1, 0)),
                                  jnp.where(turned, -direction, direction))
        further = ((new_direction == 1) & (vi > extreme)) | ((new_direction == -1) & (vi < extreme))
        new = (jnp.bool_(True), new_direction, jnp.where(turned | further, vi, extreme), count + turned)
        return jax.tree.map(lambda a, b: jnp.where(ok, a, b), new, carry), None

    carry = (jnp.bool_(False), jnp.int32(0), jnp.float32(0.0), jnp.int32(0))
    (_, _, _, count), _ = jax.lax.scan(step, carry, (v, inside))
    return jnp.where(largest > 0, count, 0)
