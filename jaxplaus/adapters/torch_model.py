"""PyTorch neurons as black boxes: simulate a population in torch, score it with jaxplaus.

A `TorchNeuron` is the jaxplaus model protocol with torch tensors instead of jax arrays:
`initial_state(params)`, `step(params, state, current, dt_ms) -> (state, spiked, v)` and
`threshold(params)`, every tensor of shape [population]. Nothing is ported: the step can call
Norse or any other PyTorch code. The stimulus is jaxplaus's own (same function, same float32
times), the trace is cut into the blocks `simulate.record` uses, and the same features,
objectives and validators score it, so a torch model and its JAX port give the same losses.

This is the slow path (one eager torch call per time step); it runs on the GPU when torch
sees one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import torch

from jaxplaus import features, simulate, stimuli
from jaxplaus.models.base import ParamSpace


@dataclass(frozen=True, eq=False)
class TorchNeuron:
    """A neuron whose step is PyTorch code. `v` is recorded as jaxplaus models record it (on a
    spike step, the spike's peak or threshold), so features see spikes."""

    name: str
    param_space: ParamSpace
    initial_state: Callable
    step: Callable
    threshold: Callable
    current_scale: float = 1.0
    current_unit: str = ""


class Trace(NamedTuple):
    spiked: np.ndarray  # [population, steps] bool
    v: np.ndarray  # [population, steps] recorded voltage
    state_finite: np.ndarray  # [population, steps] every state variable finite after the step


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@partial(jax.jit, static_argnames=("steps",))
def _currents(wave, gains, dt, steps):
    """[population, steps] input, computed exactly as `simulate.record` computes it."""
    t = jnp.arange(steps).astype(jnp.float32) * dt
    per_member = lambda g: jax.vmap(lambda tk: stimuli.current(wave, g, tk, dt))(t)  # noqa: E731
    return jax.vmap(per_member)(gains)


def currents(pieces, gains, dt_ms: float, steps: int) -> np.ndarray:
    gains = jnp.atleast_2d(jnp.asarray(gains, jnp.float32))
    return np.asarray(_currents(stimuli.waveform(pieces), gains, jnp.float32(dt_ms), steps))


def trace(neuron: TorchNeuron, params, input_current, dt_ms: float, device=None, dtype=np.float32) -> Trace:
    """Run `neuron` for a population: params {name: [population]}, input [population, steps].

    `dtype=np.float64` runs the same float32 inputs in double precision (the cross-check's
    measure of how far float32 rounding alone moves a trace)."""
    device = device or default_device()
    with torch.no_grad():
        p = {k: torch.as_tensor(np.array(v, np.float32).astype(dtype), device=device) for k, v in params.items()}
        drive = torch.as_tensor(np.array(input_current, np.float32).astype(dtype), device=device)
        state = neuron.initial_state(p)
        spiked, volts, finite = [], [], []
        for k in range(drive.shape[1]):
            state, z, v = neuron.step(p, state, drive[:, k], dt_ms)
            spiked.append(z > 0)
            volts.append(v)
            finite.append(torch.stack([torch.isfinite(x) for x in state]).all(0))
        as_np = lambda xs: torch.stack(xs, 1).cpu().numpy()  # noqa: E731
        return Trace(as_np(spiked), as_np(volts).astype(dtype), as_np(finite))


def recording(tr: Trace, dt_ms: float, t_end: float, block_len: int) -> simulate.Recording:
    """The trace summarised per block, with `simulate.record`'s semantics ([population, blocks])."""
    population, steps = tr.v.shape
    blocks = steps // block_len
    dt = np.float32(dt_ms)
    t = np.arange(steps, dtype=np.float32) * dt
    counted = tr.spiked & (t <= np.float32(t_end) + np.float32(1e-3) * dt)
    shape = (population, blocks, block_len)
    counted, v = counted.reshape(shape), tr.v.reshape(shape)
    first = np.argmax(counted, axis=-1)
    last = block_len - 1 - np.argmax(counted[..., ::-1], axis=-1)
    # as `simulate.record`: the state at block ends, except in blocks that start after t_end (they
    # only pad a batch to a common length; a blow-up there is not part of the run)
    padding = np.arange(blocks) * block_len * dt > np.float32(t_end)
    finite = (tr.state_finite.reshape(shape)[..., -1] | padding).all(-1)
    return simulate.Recording(*simulate.coded_blocks(counted.sum(-1), first, last), v[..., -1], v.max(-1), finite)


@lru_cache(maxsize=None)
def _scorer(pattern, dt_ms: float, block_len: int):
    def one(rec, gains, threshold):
        return pattern.score(features.response(rec, dt_ms, block_len), gains, threshold)

    return jax.jit(jax.vmap(one))


def responses(neuron: TorchNeuron, pattern, params, gains, dt_ms: float, block_len: int = 1, device=None,
              drive_scale=1.0):
    """Simulate a population under `pattern`'s protocol: (Recording, thresholds, gains) as arrays.

    `drive_scale` (scalar or [population]) converts the gains into the neuron's input units
    (e.g. 1/gL for a mapped Norse LIF); the criteria see the unscaled gains."""
    protocol = pattern.protocol
    steps = simulate.n_steps(protocol.duration_ms, dt_ms)
    padded = simulate.n_blocks(steps, block_len) * block_len  # record runs whole blocks
    gains = np.atleast_2d(np.asarray(gains, np.float32))
    scaled = gains * np.asarray(drive_scale, np.float32).reshape(-1, 1)
    tr = trace(neuron, params, currents(protocol.pieces, scaled, dt_ms, padded), dt_ms, device)
    rec = recording(tr, dt_ms, protocol.duration_ms, block_len)
    with torch.no_grad():
        p = {k: torch.as_tensor(np.array(v, np.float32)) for k, v in params.items()}
        threshold = np.broadcast_to(np.asarray(neuron.threshold(p), np.float32), (gains.shape[0],))
    return rec, np.ascontiguousarray(threshold), gains


def evaluate(neuron: TorchNeuron, pattern, params, gains, dt_ms: float, block_ms: float = 1.0, device=None,
             drive_scale=1.0, half_step: bool = True):
    """Loss and pass/fail of each member, scored exactly as `evaluate.Evaluator` scores JAX
    models: with `half_step`, simulated at dt and dt/2, losses added, a pass needs both."""
    block_len = max(1, int(round(block_ms / dt_ms)))
    steps = [(dt_ms, block_len)] + ([(dt_ms / 2, 2 * block_len)] if half_step else [])
    runs = [responses(neuron, pattern, params, gains, dt, bl, device, drive_scale) for dt, bl in steps]
    blocks = min(rec.v.shape[-1] for rec, _, _ in runs)  # as the Evaluator: equal up to the last block
    loss, passed = 0.0, True
    for (rec, threshold, g), (dt, bl) in zip(runs, steps):
        rec = simulate.Recording(*(x[:, :blocks] if x.ndim == 2 else x for x in rec))
        step_loss, step_passed = _scorer(pattern, float(dt), bl)(rec, g, threshold)
        loss, passed = loss + np.asarray(step_loss), passed & np.asarray(step_passed)
    return loss, passed


def full_response(neuron: TorchNeuron, pattern, params, gains, dt_ms: float, device=None):
    """Full-resolution `features.Response`s (one per member), like `simulate.single`."""
    rec, threshold, gains = responses(neuron, pattern, params, gains, dt_ms, 1, device)
    resp = jax.vmap(lambda r: features.response(r, dt_ms, 1))(rec)
    return resp, threshold
