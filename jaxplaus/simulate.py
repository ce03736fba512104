"""Simulation: `lax.scan` over time for one neuron; callers `vmap` it over populations/patterns.

The scan is nested: an outer scan over *blocks* of `block_len` steps and an inner scan over the
steps of a block. Only per-block summaries leave the loop (spike count, first and last spike
time, v at the block's end and its maximum), so memory grows with duration / block, not with
steps x population. With `block_len=1` the record is the full-resolution trace.
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxplaus import stimuli


class Recording(NamedTuple):
    spike_count: jnp.ndarray  # [blocks] spikes in the block
    first_spike: jnp.ndarray  # [blocks] time of the block's first spike (inf if none)
    last_spike: jnp.ndarray  # [blocks] time of the block's last spike (inf if none)
    v: jnp.ndarray  # [blocks] recorded v at the block's last step
    v_max: jnp.ndarray  # [blocks] largest recorded v in the block
    finite: jnp.ndarray  # () False if the state ever became non-finite


def n_steps(duration_ms: float, dt: float) -> int:
    """figure1.m's `tspan = 0:dt:T` has T/dt + 1 points."""
    return int(math.floor(duration_ms / dt + 1e-6)) + 1


def n_blocks(steps: int, block_len: int) -> int:
    return -(-steps // block_len)


def record(model, params, wave: stimuli.Waveform, gains, dt, t_end, blocks: int, block_len: int) -> Recording:
    """Simulate one neuron for `blocks * block_len` steps of size dt; spikes after t_end are ignored."""
    state0 = model.initial_state(params)
    inf = jnp.float32(jnp.inf)

    def step(carry, k):
        state, count, first, last, _, v_max = carry
        t = k.astype(jnp.float32) * dt
        state, spiked, v = model.step(params, state, stimuli.current(wave, gains, t, dt), dt)
        spiked = spiked & (t <= t_end + 1e-3 * dt)
        count = count + spiked.astype(jnp.int32)
        first = jnp.where(spiked & (first == inf), t, first)
        last = jnp.where(spiked, t, last)
        return (state, count, first, last, v, jnp.maximum(v_max, v)), None

    def block(state, b):
        ks = b * block_len + jnp.arange(block_len)
        (state, count, first, last, v, v_max), _ = jax.lax.scan(
            step, (state, jnp.int32(0), inf, inf, -inf, -inf), ks
        )
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(state)]))
        return state, (count, first, last, v, v_max, finite)

    _, (count, first, last, v, v_max, finite) = jax.lax.scan(block, state0, jnp.arange(blocks))
    return Recording(count, first, last, v, v_max, jnp.all(finite))


@partial(jax.jit, static_argnames=("model", "blocks", "block_len"))
def record_batch(model, params, wave, gains, dt, t_end, blocks: int, block_len: int) -> Recording:
    """`record` vmapped over a leading population axis of params/gains (wave, dt, t_end shared)."""
    one = partial(record, model, blocks=blocks, block_len=block_len)
    return jax.vmap(one, in_axes=(0, None, 0, None, None))(params, wave, gains, dt, t_end)


def single(model, params, pieces, gains, dt: float, duration_ms: float, block_len: int = 1):
    """One neuron under one stimulus, as a `features.Response` (full resolution by default)."""
    from jaxplaus import features  # features imports Recording from here

    steps = n_steps(duration_ms, dt)
    params = {k: jnp.asarray(v, jnp.float32)[None] for k, v in params.items()}
    gains = jnp.asarray(gains, jnp.float32)[None]
    rec = record_batch(model, params, stimuli.waveform(pieces), gains, jnp.float32(dt),
                       jnp.float32(duration_ms), n_blocks(steps, block_len), block_len)
    return features.response(jax.tree.map(lambda x: x[0], rec), dt, block_len)
