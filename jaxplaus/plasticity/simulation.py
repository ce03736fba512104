"""Running the network: time in chunks of `lax.scan`, the E rate low-pass filtered, blow-ups
detected so a run stops early.

A run is a `lax.while_loop` over chunks; each chunk is a scan over steps. A network whose
filtered E rate leaves the allowed band (Confavreux et al. 2025), whose state stops being
finite, or that runs away synchronously (SYNCHRONY_LIMIT) is marked blown at that time and the
loop stops for it (under vmap, blown members are frozen while the others go on, and the loop
ends when all are blown or done). Tasks plug in through two functions:
`drive(t_index) -> (external_rate, learning)` and `observe(acc, t_index, filtered_rate, spiked)`.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from jaxplaus.plasticity.network import Network, State, Trial, step

TAU_FILTER = 1.0  # s, Confavreux et al. 2025
RATE_BOUNDS = (0.1, 100.0)  # Hz, Confavreux et al. 2025: outside this band the network blew up
# A runaway network is synchronous long before its filtered rate leaves the band: without
# plasticity 12% of steps have more E spikes than `max_events` (3x the 100 Hz bound in one step)
# and the filtered rate passes 100 Hz only after 1.1-1.5 s, which a batch would wait for
# (docs/performance.md, "Runaway networks stopped by their synchrony"). A chunk in which more than
# this fraction of steps is that synchronous stops the run as blown; a network near its target
# has a few such steps in a whole trial (measured, docs/metalearn.md).
SYNCHRONY_LIMIT = 0.02
STARTUP_S = 0.2  # s: the onset burst (every neuron charged at once) is synchronous in any network


class Outcome(NamedTuple):
    state: State
    acc: object  # the task's accumulator
    blown: jax.Array  # bool
    t_blowup: jax.Array  # s; meaningful when blown
    filtered_rate: jax.Array  # Hz at the end of the last chunk simulated


def _finite(tree) -> jax.Array:
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(tree) if jnp.issubdtype(x.dtype, jnp.floating)]
    return jnp.all(jnp.stack(leaves))


def run(
    net: Network,
    rule,
    theta,
    trial: Trial,
    state: State,
    n_steps: int,
    drive: Callable,
    observe: Callable,
    acc,
    chunk_steps: int = 1000,
    low_rate_grace_steps: int | None = None,
    end_step=None,
    batch_axes: tuple = (),
) -> Outcome:
    """Simulate `n_steps` (a multiple of `chunk_steps`) with blow-up detection; a traced
    `end_step` <= n_steps ends a run earlier (per trial durations under vmap).

    The filter starts at 0 Hz, so the lower bound is only enforced after `low_rate_grace_steps`
    (default: one filter time constant); the upper bound and finiteness always are, and after
    STARTUP_S so is the synchrony limit (checked at the end of each chunk).
    `batch_axes`: the caller's named vmap axes over networks (`network.step`).
    """
    if n_steps % chunk_steps:
        raise ValueError("n_steps must be a multiple of chunk_steps")
    n_chunks = n_steps // chunk_steps
    grace = int(round(TAU_FILTER / net.dt)) if low_rate_grace_steps is None else low_rate_grace_steps
    decay = math.exp(-net.dt / TAU_FILTER)
    low, high = RATE_BOUNDS
    end_step = n_steps if end_step is None else end_step
    startup = int(round(STARTUP_S / net.dt))
    synchronous_spikes = net.max_events("E")

    def one_step(carry, t_index):
        state, rate, acc, blown, t_blowup = carry
        external_rate, learning = drive(t_index)
        state, spiked = step(net, rule, theta, trial, state, t_index, external_rate, learning, blown, batch_axes)
        spikes_e = jnp.sum(spiked["E"])
        instantaneous = spikes_e / (net.n_e * net.dt)
        rate = rate * decay + (1.0 - decay) * instantaneous
        acc = observe(acc, t_index, rate, spiked)
        out_of_band = (rate > high) | ((t_index >= grace) & (rate < low)) | ~jnp.isfinite(rate)
        out_of_band = out_of_band & (t_index < end_step)
        t_blowup = jnp.where(blown | ~out_of_band, t_blowup, (t_index + 1) * net.dt)
        synchronous = (spikes_e > synchronous_spikes) & (t_index >= startup) & (t_index < end_step)
        return (state, rate, acc, blown | out_of_band, t_blowup), synchronous

    def one_chunk(carry):
        chunk, state, rate, acc, blown, t_blowup = carry
        steps = chunk * chunk_steps + jnp.arange(chunk_steps)
        (state, rate, acc, blown_now, t_blowup), synchronous = lax.scan(one_step, (state, rate, acc, blown, t_blowup), steps)
        broken = ~_finite((state, rate)) | (jnp.sum(synchronous) > SYNCHRONY_LIMIT * chunk_steps)
        t_blowup = jnp.where(broken & ~blown_now, (chunk + 1) * chunk_steps * net.dt, t_blowup)
        return chunk + 1, state, rate, acc, blown_now | broken, t_blowup

    def going(carry):
        chunk, *_, blown, _ = carry
        return (chunk < n_chunks) & (chunk * chunk_steps < end_step) & ~blown

    start = (jnp.int32(0), state, jnp.float32(0.0), acc, jnp.bool_(False), jnp.float32(n_steps * net.dt))
    _, state, rate, acc, blown, t_blowup = lax.while_loop(going, one_chunk, start)
    return Outcome(state, acc, blown, t_blowup, rate)


def record(net: Network, rule, theta, trial: Trial, state: State, n_steps: int, drive: Callable, n_raster: int = 100, batch_axes: tuple = ()):
    """Simulate without blow-up stopping and keep what figures need: per-step E and I spike
    counts and the spikes of the first `n_raster` E and I neurons."""

    def one_step(state, t_index):
        external_rate, learning = drive(t_index)
        state, spiked = step(net, rule, theta, trial, state, t_index, external_rate, learning, batch_axes=batch_axes)
        counts = (jnp.sum(spiked["E"]), jnp.sum(spiked["I"]))
        raster = (spiked["E"][:n_raster], spiked["I"][: n_raster // 4])
        return state, (counts, raster)

    state, (counts, raster) = lax.scan(one_step, state, jnp.arange(n_steps))
    return state, counts, raster
