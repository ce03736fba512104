"""The batched pattern simulation written the Norse way: a PyTorch loop over time steps.

One Python-level iteration per time step, tensors batched over [patterns, population], the
stimulus computed from t inside the loop. Each step mirrors the jaxplaus model's `step`
operation for operation (same order, float32), and the per-block summaries are those of
`jaxplaus.simulate.record`, so jaxplaus's features and objectives can score the result.
Used only by benchmarks/throughput.py (and its smoke test); not part of the package.
"""

from __future__ import annotations

import numpy as np
import torch

from jaxplaus import simulate
from jaxplaus.models import AdEx, Izhikevich, LIF, PolynomialNeuron
from jaxplaus.models.adex import _EXP_CAP
from jaxplaus.models.izhikevich import V_PEAK
from jaxplaus.models.polynomial import _coefficient_name, _monomial


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


# --------------------------------------------------------------------------- model steps
# Each: (model, params {name: [P, pop]}, state tuple, current [P, pop], dt float) -> (state, spiked, v)


def _izhikevich_init(model: Izhikevich, p):
    v0 = p["v0"]
    u0 = p["u0"] if model.u_equation == "accommodation" else p["b"] * v0
    return (v0, u0)


def _izhikevich_step(model: Izhikevich, p, state, current, dt):
    k2, k1, k0 = model.quadratic
    a, b = p["a"], p["b"]
    v, u = state
    v_new = v + dt * (k2 * v * v + k1 * v + k0 - u + current)  # figure1.m: v first
    v_for_u = v_new if model.u_uses_new_v else v
    if model.u_equation == "accommodation":
        u_new = u + dt * a * b * (v_for_u + 65.0)
    else:
        u_new = u + dt * a * (b * v_for_u - u)
    spiked = v_new > V_PEAK
    state = (torch.where(spiked, p["c"], v_new), torch.where(spiked, u_new + p["d"], u_new))
    return state, spiked, torch.where(spiked, torch.full_like(v_new, V_PEAK), v_new)


def _adex_init(model: AdEx, p):
    return (p["EL"], torch.zeros_like(p["EL"]))


def _adex_step(model: AdEx, p, state, current, dt):
    v, w = state
    gl, el, delta_t = p["gL"], p["EL"], p["DeltaT"]
    exponent = torch.clamp_max((v - p["VT"]) / delta_t, _EXP_CAP)
    dv = (-gl * (v - el) + gl * delta_t * torch.exp(exponent) - w + current) / p["C"]
    dw = (p["a"] * (v - el) - w) / p["tauw"]
    v_new = v + dt * dv
    w_new = w + dt * dw
    spiked = v_new > p["Vpeak"]
    state = (torch.where(spiked, p["Vr"], v_new), torch.where(spiked, w_new + p["b"], w_new))
    return state, spiked, torch.where(spiked, p["Vpeak"], v_new)


def _lif_init(model: LIF, p):
    return (p["EL"], torch.zeros_like(p["EL"]))


def _lif_step(model: LIF, p, state, current, dt):
    v, left = state
    refractory = left > 0.0
    if model.integrator == "exact":
        v_inf = p["EL"] + current / p["gL"]
        v_free = v_inf + (v - v_inf) * torch.exp(-dt * p["gL"] / p["C"])
    else:
        v_free = v + dt * (-p["gL"] * (v - p["EL"]) + current) / p["C"]
    v_new = torch.where(refractory, p["Vr"], v_free)
    spiked = ~refractory & (v_new > p["VT"])
    left = torch.where(spiked, p["t_ref"], torch.clamp_min(left - dt, 0.0))
    state = (torch.where(spiked, p["Vr"], v_new), left)
    return state, spiked, torch.where(spiked, p["VT"], v_new)


def _polynomial_init(model: PolynomialNeuron, p):
    return (p["v0"], p["u0"])


def _polynomial_step(model: PolynomialNeuron, p, state, current, dt):
    v, u = state
    x = current
    dv = sum(p[_coefficient_name("v", t)] * _monomial(t, x, u, v) for t in model.v_terms)
    du = sum(p[_coefficient_name("u", t)] * _monomial(t, x, u, v) for t in model.u_terms)
    v_new = v + dt * (dv - p["leak_v"] * v)
    u_new = u + dt * (du - p["leak_u"] * u)
    spiked = v_new > p["threshold"]
    state = (torch.where(spiked, p["reset_v"] * v_new, v_new), torch.where(spiked, p["reset_u"] * u_new, u_new))
    return state, spiked, torch.where(spiked, p["threshold"], v_new)


_MIRRORS = {
    Izhikevich: (_izhikevich_init, _izhikevich_step),
    AdEx: (_adex_init, _adex_step),
    LIF: (_lif_init, _lif_step),
    PolynomialNeuron: (_polynomial_init, _polynomial_step),
}


def mirror(model):
    """(initial_state, step) of the torch mirror of a jaxplaus model."""
    try:
        return _MIRRORS[type(model)]
    except KeyError:
        raise ValueError(f"no torch mirror for {type(model).__name__}") from None


# --------------------------------------------------------------------------- stimulus


class TorchWaveform:
    """`jaxplaus.stimuli.Waveform` of stacked patterns ([P, pieces] arrays) as tensors."""

    def __init__(self, wave, n_channels: int, dev):
        as_t = lambda x: torch.as_tensor(np.array(x), device=dev)  # noqa: E731
        self.onset, self.offset, self.ref = as_t(wave.onset), as_t(wave.offset), as_t(wave.ref)
        self.level, self.slope = as_t(wave.level), as_t(wave.slope)
        self.closed_onset, self.closed_offset = as_t(wave.closed_onset), as_t(wave.closed_offset)
        channel = as_t(wave.channel)
        self.one_hot = channel[..., None] == torch.arange(n_channels, device=dev)  # [P, pieces, C]

    def channel_values(self, t, dt: float):
        """As `stimuli.channel_values`, for every pattern at once: [P, C]."""
        tol = 1e-3 * dt
        after_onset = torch.where(self.closed_onset, t >= self.onset - tol, t > self.onset + tol)
        before_offset = torch.where(self.closed_offset, t <= self.offset + tol, t < self.offset - tol)
        value = torch.where(after_onset & before_offset, self.level + self.slope * (t - self.ref), 0.0)
        return torch.where(self.one_hot, value[..., None], 0.0).sum(dim=-2)

    def current(self, gains, t, dt: float):
        """gains [P, pop, C] -> current [P, pop]."""
        return (self.channel_values(t, dt)[:, None, :] * gains).sum(dim=-1)


# --------------------------------------------------------------------------- recording


@torch.no_grad()
def record(model, params, wave: TorchWaveform, gains, dt: float, t_end, blocks: int, block_len: int):
    """As `jaxplaus.simulate.record`, batched over [P, pop]: a dict of arrays shaped like the
    vmapped JAX Recording (spikes/v/v_max [P, pop, blocks], n_spikes/n_slots/finite [P, pop])."""
    init, step = mirror(model)
    state = init(model, params)
    dev = gains.device
    shape = gains.shape[:-1]
    ts = torch.arange(blocks * block_len, dtype=torch.float32, device=dev) * torch.tensor(dt, dtype=torch.float32)
    late = (t_end + 1e-3 * dt)[:, None]  # [P, 1]
    out = {k: torch.empty((blocks,) + shape, dtype=torch.float32, device=dev) for k in ("v", "v_max")}
    out.update({k: torch.empty((blocks,) + shape, dtype=torch.int32, device=dev) for k in ("count", "first", "last")})
    finite = torch.ones(shape, dtype=torch.bool, device=dev)
    for b in range(blocks):
        count = torch.zeros(shape, dtype=torch.int32, device=dev)
        first = torch.zeros(shape, dtype=torch.int32, device=dev)  # steps within the block
        last = torch.zeros(shape, dtype=torch.int32, device=dev)
        v_max = torch.full(shape, -float("inf"), device=dev)
        for j in range(block_len):
            t = ts[b * block_len + j]
            state, spiked, v = step(model, params, state, wave.current(gains, t, dt), dt)
            spiked = spiked & (t <= late)
            first = torch.where(spiked & (count == 0), j, first)
            last = torch.where(spiked, j, last)
            count = count + spiked.to(torch.int32)
            v_max = torch.maximum(v_max, v)
        out["count"][b], out["first"][b], out["last"][b] = count, first, last
        out["v"][b], out["v_max"][b] = v, v_max
        for x in state:
            finite = finite & torch.isfinite(x)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    blocked = {k: x.permute(1, 2, 0).cpu().numpy() for k, x in out.items()}
    spikes, n_spikes, n_slots = simulate.coded_blocks(blocked["count"], blocked["first"], blocked["last"])
    return {"spikes": spikes, "n_spikes": n_spikes, "n_slots": n_slots, "v": blocked["v"], "v_max": blocked["v_max"],
            "finite": finite.cpu().numpy()}


def to_torch(tree, dev):
    """A dict (or array) of JAX/numpy float32 arrays as torch tensors on `dev`."""
    if isinstance(tree, dict):
        return {k: torch.as_tensor(np.array(v), dtype=torch.float32, device=dev) for k, v in tree.items()}
    return torch.as_tensor(np.array(tree), dtype=torch.float32, device=dev)
