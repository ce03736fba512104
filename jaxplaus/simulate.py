"""Simulation: `lax.scan` over time for one neuron; callers `vmap` it over populations/patterns.

The scan is nested: an outer scan over *blocks* of `block_len` steps and an inner scan over the
steps of a block. Only per-block summaries leave the loop (the block's spikes coded in one
integer, v at the block's end and its maximum), so memory grows with duration / block, not with
steps x population. With `block_len=1` the record is the full-resolution trace.
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxplaus import stimuli
from jaxplaus.errors import UsageError


class Recording(NamedTuple):
    spikes: jnp.ndarray  # [blocks] uint32: the block's spikes, coded by `block_spikes`
    n_spikes: jnp.ndarray  # () int32: spikes in the whole run
    n_slots: jnp.ndarray  # () int32: spike slots the run fills (`slots_of` each block's count)
    v: jnp.ndarray  # [blocks] recorded v at the block's last step (to the ulp: `with_spike_bit`)
    v_max: jnp.ndarray  # [blocks] largest recorded v in the block (likewise)
    finite: jnp.ndarray  # () False if the state ever became non-finite


# A block's spikes as one integer. The features read at most two spikes a block, its first and
# its last, each into a slot of the run's spike times; the code holds how many slots the earlier
# blocks fill and the steps of those two spikes. One array instead of four (count, first and
# last time, a running count of slots): the scoring rearranges fewer bytes and runs no
# cumulative sum (docs/performance.md, "A block's spikes in one uint32").
SLOT_BITS, STEP_BITS = 8, 12
MAX_SLOTS_BEFORE = (1 << SLOT_BITS) - 1  # the count saturates here, above every slot features read
MAX_BLOCK_LEN = 1 << STEP_BITS


def slots_of(count):
    """Spike slots a block of `count` spikes fills: its first spike and, with two or more, its last."""
    return jnp.minimum(count, 2)


def block_spikes(slots_before, count, first, last):
    """uint32 code of a block: bits 0-7 the slots earlier blocks fill (saturating at 255), bits
    8-19 the step within the block of its first spike, bits 20-31 of its last (both 0 in a block
    without spikes). Takes numpy or JAX arrays."""
    steps = (jnp.asarray(first).astype(jnp.uint32) << SLOT_BITS) | (jnp.asarray(last).astype(jnp.uint32)
                                                                    << (SLOT_BITS + STEP_BITS))
    steps = jnp.where(jnp.asarray(count) > 0, steps, jnp.uint32(0))
    return jnp.minimum(jnp.asarray(slots_before), MAX_SLOTS_BEFORE).astype(jnp.uint32) | steps


def slots_before(code):
    """Spike slots the earlier blocks fill (int32, up to MAX_SLOTS_BEFORE), from a `block_spikes` code."""
    return (jnp.asarray(code) & MAX_SLOTS_BEFORE).astype(jnp.int32)


def first_step(code):
    """Step of the block's first spike within the block (int32; 0 without spikes)."""
    return ((jnp.asarray(code) >> SLOT_BITS) & (MAX_BLOCK_LEN - 1)).astype(jnp.int32)


def last_step(code):
    """Step of the block's last spike within the block (int32; 0 without spikes)."""
    return (jnp.asarray(code) >> (SLOT_BITS + STEP_BITS)).astype(jnp.int32)


def coded_blocks(count, first, last):
    """(spikes, n_spikes, n_slots) of `Recording` from numpy arrays of each block's spike count
    and first and last spike step (blocks on the last axis), for engines that summarise their
    blocks outside `record` (the torch paths)."""
    count = np.asarray(count)
    slots = np.asarray(slots_of(count))
    spikes = block_spikes(np.cumsum(slots, -1) - slots, count, first, last)
    return spikes, count.sum(-1).astype(np.int32), slots.sum(-1).astype(np.int32)


# Longest step any run takes: the models' dynamics (ms time constants, 2-ms spikes) need no
# coarser one, and a coarser one turns every model into a numerical artefact.
MAX_DT_MS = 1.0
# A full-resolution run records every step (three 4-byte numbers a step, besides the features).
MAX_FULL_RESOLUTION_STEPS = 10_000_000


def n_steps(duration_ms: float, dt: float) -> int:
    """figure1.m's `tspan = 0:dt:T` has T/dt + 1 points."""
    return int(math.floor(duration_ms / dt + 1e-6)) + 1


def n_blocks(steps: int, block_len: int) -> int:
    return -(-steps // block_len)


class LoopShape(NamedTuple):
    """How `record` lays out its time loop: a layout choice, the records stay the same."""

    barrier: bool = True  # an optimization barrier on each step's outputs
    unroll_steps: int = 1  # `lax.scan` unroll of the steps of a block
    unroll_blocks: int = 1  # `lax.scan` unroll of the blocks


# Read when `record` is traced. Nothing unrolled on any backend: unrolling slows XLA:CPU and, on
# a GPU, multiplies the compile time (docs/performance.md, "The recording loop's layout");
# `benchmarks/throughput.py --loop-unroll-steps N ...` measures other layouts.
LOOP_SHAPE = LoopShape()


def record(model, params, wave: stimuli.Waveform, gains, dt, t_end, blocks: int, block_len: int) -> Recording:
    """Simulate one neuron for `blocks * block_len` steps of size dt; spikes after t_end are ignored."""
    if not 1 <= block_len <= MAX_BLOCK_LEN:
        raise ValueError(f"a recording block holds 1 to {MAX_BLOCK_LEN} steps, not {block_len}")
    shape = LOOP_SHAPE
    barrier = jax.lax.optimization_barrier if shape.barrier else (lambda outputs: outputs)
    # The inner scan carries only the model state and hands out each step's recorded v and spike
    # flag; the block is summarised from those afterwards. XLA:CPU has no multi-output fusion:
    # every array a step produces is its own loop that evaluates the model step again, so with
    # blocks of several steps the flag travels in v's lowest bit, one array instead of two
    # (docs/performance.md, "The spike flag in v's lowest bit"). At full resolution (one step a
    # block) v stays exact, so traces match Norse's bit for bit.
    exact = block_len == 1

    def step(state, k):
        t = k.astype(jnp.float32) * dt
        state, spiked, v = barrier(model.step(params, state, stimuli.current(wave, gains, t, dt), dt))
        spiked = spiked & (t <= t_end + 1e-3 * dt)
        return state, (v, spiked) if exact else with_spike_bit(v, spiked)

    def block(carry, b):
        state, n_spikes, n_slots, finite = carry
        start = b * block_len
        state, out = jax.lax.scan(step, state, start + jnp.arange(block_len),
                                  unroll=min(shape.unroll_steps, block_len))
        if exact:
            v, spiked = out
            v_last, v_max = v[-1], jnp.max(v)
        else:
            spiked = split_spike_bit(out)[1]
            # clearing the flag bit is monotone in v, so the maximum of the marked samples is the
            # marked maximum: no cleared copy of the block is made
            v_last, v_max = split_spike_bit(out[-1])[0], split_spike_bit(jnp.max(out))[0]
        count, first, last = spike_steps(spiked)
        spikes = block_spikes(n_slots, count, first, last)
        # blocks that start after t_end only pad a batch to a common length: what the state
        # does there is not part of this run (a blow-up there must not fail it)
        finite = finite & (jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(state)]))
                           | (start * dt > t_end))
        # the run's totals are carried: every array the loop hands out costs a pass over the
        # records afterwards
        return (state, n_spikes + count, n_slots + slots_of(count), finite), (spikes, v_last, v_max)

    carry = (model.initial_state(params), jnp.int32(0), jnp.int32(0), jnp.bool_(True))
    (_, n_spikes, n_slots, finite), (spikes, v, v_max) = jax.lax.scan(block, carry, jnp.arange(blocks),
                                                                     unroll=min(shape.unroll_blocks, blocks))
    return Recording(spikes, n_spikes, n_slots, v, v_max, finite)


MASK_STEPS = 32  # blocks up to this long summarise their spike flags through one bit mask


def spike_steps(flags):
    """(count, first step, last step) of a block's spike flags (bool or 0/1), one a step (both
    steps 0 without spikes). Up to MASK_STEPS steps one reduction makes a bit mask, read by
    population count and leading zeros: each summary of a block is a pass of its own in the loop
    (XLA:CPU), so one reduction replaces three (docs/performance.md, "A block's spike count from
    one bit mask")."""
    steps = flags.shape[0]
    if steps > MASK_STEPS:
        count = jnp.sum(flags, dtype=jnp.int32)
        first, last = jnp.argmax(flags), steps - 1 - jnp.argmax(flags[::-1])
    else:
        mask = jnp.sum(flags.astype(jnp.uint32) << jnp.arange(steps, dtype=jnp.uint32), dtype=jnp.uint32)
        count = jax.lax.population_count(mask)
        first = jax.lax.population_count((mask & -mask) - 1)  # trailing zeros
        last = 31 - jax.lax.clz(mask).astype(jnp.int32)
    count = count.astype(jnp.int32)
    return count, jnp.where(count > 0, first, 0).astype(jnp.int32), jnp.where(count > 0, last, 0).astype(jnp.int32)


def with_spike_bit(v, spiked):
    """float32 v with its lowest mantissa bit replaced by the spike flag. `split_spike_bit` gives
    v back within one unit in the last place, towards zero; infinities exactly, and NaN as NaN
    (arithmetic NaNs are quiet: a higher mantissa bit is set)."""
    bits = jax.lax.bitcast_convert_type(jnp.asarray(v, jnp.float32), jnp.int32)
    return jax.lax.bitcast_convert_type((bits & ~1) | spiked.astype(jnp.int32), jnp.float32)


def split_spike_bit(marked):
    """(v with the lowest bit cleared, spike flag) of `with_spike_bit`'s output."""
    bits = jax.lax.bitcast_convert_type(marked, jnp.int32)
    return jax.lax.bitcast_convert_type(bits & ~1, jnp.float32), (bits & 1) == 1


@partial(jax.jit, static_argnames=("model", "blocks", "block_len"))
def record_batch(model, params, wave, gains, dt, t_end, blocks: int, block_len: int) -> Recording:
    """`record` vmapped over a leading population axis of params/gains (wave, dt, t_end shared)."""
    one = partial(record, model, blocks=blocks, block_len=block_len)
    return jax.vmap(one, in_axes=(0, None, 0, None, None))(params, wave, gains, dt, t_end)


def single(model, params, pieces, gains, dt: float, duration_ms: float):
    """One neuron under one stimulus, as a full-resolution `features.Response`."""
    return full_resolution(model, [params], [pieces], [gains], [dt], [duration_ms])[0]


def check_run(dt: float, duration_ms: float, max_steps: int = MAX_FULL_RESOLUTION_STEPS) -> int:
    """The steps of a run of `duration_ms` at step `dt`, or a UsageError naming the field out
    of its domain: dt in (0, MAX_DT_MS], a positive duration, at most `max_steps` steps."""
    if not (math.isfinite(dt) and 0 < dt <= MAX_DT_MS):
        raise UsageError(f"dt must be in (0, {MAX_DT_MS:g}] ms, got {dt:g}")
    if not (math.isfinite(duration_ms) and duration_ms > 0):
        raise UsageError(f"duration_ms must be a positive number of ms, got {duration_ms:g}")
    if duration_ms / dt + 1 > max_steps + 1e-6:  # (n_steps of a huge ratio would overflow)
        raise UsageError(f"duration_ms {duration_ms:g} at dt {dt:g} ms is {duration_ms / dt + 1:.3g} steps; a "
                         f"full-resolution run holds at most {max_steps} (about {12 * max_steps // 2**20} MB of records)")
    return n_steps(duration_ms, dt)


def full_resolution(model, params, pieces, gains, dts, durations):
    """Several runs of one model, each with its own parameters, stimulus, step and duration,
    simulated in one vmapped call at full resolution; a list of `features.Response`."""
    from jaxplaus import features  # features imports Recording from here

    for dt, duration in zip(dts, durations):
        check_run(dt, duration)
    steps = max(n_steps(d, dt) for d, dt in zip(durations, dts))
    stacked = {k: jnp.asarray([p[k] for p in params], jnp.float32) for k in params[0]}
    n_gain = max(len(g) for g in gains)
    gains = jnp.asarray([list(g) + [0.0] * (n_gain - len(g)) for g in gains], jnp.float32)
    waves = stimuli.stack([stimuli.waveform(p) for p in pieces])
    rec, resp = _full_resolution(model, stacked, waves, gains, jnp.asarray(dts, jnp.float32),
                                 jnp.asarray(durations, jnp.float32), steps)
    # split on the host and put back: indexing the jax arrays would compile a program per index
    resp = jax.tree.map(np.asarray, resp)
    return [jax.tree.map(lambda x: jnp.asarray(x[i]), resp) for i in range(len(params))]


@partial(jax.jit, static_argnames=("model", "steps"))
def _full_resolution(model, params, waves, gains, dts, durations, steps):
    from jaxplaus import features

    def one(p, w, g, dt, t_end):
        rec = record(model, p, w, g, dt, t_end, steps, 1)
        return rec, features.response(rec, dt, 1)

    return jax.vmap(one)(params, waves, gains, dts, durations)
