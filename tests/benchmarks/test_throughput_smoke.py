"""Smoke test of benchmarks/throughput.py: the torch loop and the JAX evaluator agree."""

import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import throughput  # noqa: E402

from jaxplaus import models, patterns  # noqa: E402
from jaxplaus.evaluate import Evaluator  # noqa: E402

SHORT = ("tonic_spiking", "depolarizing_after_potential")  # one duration group, 404 steps


def near_defaults(ev, population, spread=0.03):
    """Candidates jittered around the defaults (regular dynamics, so float32 rounding
    differences between XLA and torch cannot flip a spike)."""
    base = np.stack([ev.encode_defaults(i) for i in range(len(ev.patterns))])[:, None, :]
    noise = np.asarray(jax.random.uniform(jax.random.PRNGKey(3), (len(ev.patterns), population, ev.dim)))
    return jnp.asarray(np.clip(base + spread * (noise - 0.5), 0.0, 1.0), jnp.float32)


@pytest.mark.parametrize("name", ["izhikevich"])
def test_torch_loop_matches_jax_evaluator(name):
    ev = Evaluator(models.get(name), patterns.select(SHORT))
    check = throughput.agreement(ev, 8, z=near_defaults(ev, 8))
    assert check["members"] == 16
    # same per-block records up to float32 rounding (XLA may contract a*b+c into FMAs, torch
    # does not); near the defaults the dynamics are regular, so no spike moves
    assert check["fraction_same_spike_counts"] == 1.0
    assert check["fraction_same_passed"] == 1.0
    assert check["max_abs_loss_diff"] < 1e-4


def test_step_count_includes_group_padding():
    ev = Evaluator(models.get("izhikevich"), patterns.select(SHORT))
    # both pad to the 100 ms protocol: 401 steps -> 101 blocks of 4 = 404 steps at dt,
    # 801 steps -> 101 blocks of 8 = 808 at dt/2 (half_step, the Evaluator's default)
    assert ev.half_step
    assert throughput.simulated_steps(ev) == 2 * (404 + 808)
    assert throughput.protocol_steps(ev) == 401 + 201


def test_bare_kernel_runs():
    counts = np.asarray(throughput.bare_izhikevich(16, 200, 0.25, 1)())
    torch_counts = throughput.bare_izhikevich_torch(16, 200, 0.25)()
    assert counts[0] == 0 and counts[-1] > 0
    assert np.array_equal(counts, torch_counts)


def test_breakdown_times_the_simulation_alone():
    ev = Evaluator(models.get("izhikevich"), patterns.select(SHORT), chunk=2)  # 3 candidates: 2 chunks
    row = throughput.measure_jax(ev, 3, repeats=1, max_seconds=1.0, breakdown=True)
    assert 0 < row["simulation_s"] and row["scoring_s"] == pytest.approx(row["time_s"] - row["simulation_s"])
    total, finite = throughput.SimulationOnly(ev.model, ev.patterns, chunk=2).jitted(near_defaults(ev, 3))
    assert total.shape == finite.shape == (2, 3) and bool(finite.all())
