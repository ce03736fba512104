"""The run axis split over 4 simulated CPU devices (and an Evaluator's population split over 3)
gives bit-identical results to 1 device.

Each configuration runs in its own interpreter: the device count is fixed by XLA_FLAGS before
jax is first imported."""

import os
import subprocess
import sys

import numpy as np
import pytest

# 3 variants on 4 devices: the variant axis is padded with a dummy, so this also checks that
# padding leaves the real runs (and their random keys) untouched
SCRIPT = r"""
import json, sys
import jax, numpy as np
from jaxplaus import sharding, sweep
assert len(jax.devices()) == int(sys.argv[2]), jax.devices()
mesh = sharding.run_mesh() if len(jax.devices()) > 1 else None
config = sweep.SweepConfig(model="adex", grid={"a": [0.0, 2.0, 4.0]}, patterns=["tonic_spiking", "spike_latency"],
                           strategy=sys.argv[3], budget=96, population=6, restarts=2, seed=3)
p = sweep.plan(config, mesh)
state, done, _ = sweep.run_search(config, p, progress=False)
keep = len(p.variants) * 2 * config.restarts
np.savez(sys.argv[1], best_loss=state.best_loss[:keep], best_z=state.best_z[:keep],
         pass_generation=state.pass_generation[:keep], best_passed=state.best_passed[:keep],
         runs=p.search.n_runs, shards=len(sharding.shard_runs(p.search.init(0), mesh, p.search.n_runs)
                                          .best_loss.sharding.device_set))
"""


def _run(tmp_path, devices, strategy):
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}", JAX_PLATFORMS="cpu")
    path = tmp_path / f"{strategy}-{devices}.npz"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(path), str(devices), strategy], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(np.load(path))


@pytest.mark.parametrize("strategy", ["cma_es"])
def test_four_devices_match_one(tmp_path, strategy):
    one, four = _run(tmp_path, 1, strategy), _run(tmp_path, 4, strategy)
    assert one["runs"] == 3 * 2 * 2 and four["runs"] == 4 * 2 * 2  # one padding variant on 4 devices
    assert one["shards"] == 1 and four["shards"] == 4
    for key in ("best_loss", "best_z", "pass_generation", "best_passed"):
        np.testing.assert_array_equal(one[key], four[key], err_msg=key)
    assert np.isfinite(one["best_loss"]).all()


EVALUATOR_SCRIPT = r"""
import jax, numpy as np
from jaxplaus import models, patterns, sharding
from jaxplaus.evaluate import Evaluator
assert len(jax.devices()) == 3, jax.devices()
pats = patterns.select(["tonic_spiking", "spike_latency"])
z = np.random.default_rng(0).uniform(0.0, 1.0, (2, 7, 7)).astype(np.float32)
alone = jax.jit(Evaluator(models.get("izhikevich"), pats).per_step)(z)
# 7 candidates over 3 devices (padded to 9), each device's 3 in chunks of at most 2
split = Evaluator(models.get("izhikevich"), pats, chunk=2, mesh=sharding.run_mesh())
out = jax.jit(split.per_step)(z)
assert len(out[0].sharding.device_set) == 3, out[0].sharding
for a, b in zip(alone, out):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
print("ok")
"""


def test_evaluator_split_over_devices_matches_one_device():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=3", JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, "-c", EVALUATOR_SCRIPT], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]


def test_padding_helpers():
    from jaxplaus import sharding

    mesh = sharding.run_mesh()
    assert sharding.padded_count(3, None) == 3
    assert sharding.padded_count(5, mesh) % mesh.size == 0 and sharding.padded_count(5, mesh) >= 5
    tree = {"runs": np.arange(mesh.size * 2.0), "scalar": np.float32(1.0)}
    placed = sharding.shard_runs(tree, mesh, mesh.size * 2)
    np.testing.assert_array_equal(sharding.to_host(placed)["runs"], tree["runs"])


def test_fills_cpu_pool_flags_one_cpu_device_per_core_or_more():
    """The condition under which jaxlib's batched eigh deadlocked (see sharding.fills_cpu_pool)."""
    from types import SimpleNamespace

    from jaxplaus import sharding

    cpu, gpu = SimpleNamespace(platform="cpu"), SimpleNamespace(platform="gpu")
    assert sharding.fills_cpu_pool([cpu, cpu], cores=2)
    assert sharding.fills_cpu_pool([cpu] * 4, cores=2)
    assert not sharding.fills_cpu_pool([cpu, cpu], cores=8)
    assert not sharding.fills_cpu_pool([cpu], cores=1)  # one device: nothing split, nothing waits
    assert not sharding.fills_cpu_pool([gpu] * 4, cores=2)


def test_sweep_warns_when_cpu_devices_fill_the_pool():
    script = (
        "import argparse; from jaxplaus.commands.sweep import mesh_from_args; "
        "mesh = mesh_from_args(argparse.Namespace(distributed=False, devices=None)); print(mesh.size)")
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={(os.cpu_count() or 1) + 1}",
               JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == str((os.cpu_count() or 1) + 1)
    assert "jaxplaus: warning:" in done.stderr and "--devices 1" in done.stderr
