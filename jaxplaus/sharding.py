"""Spreading the run axis of a batched search over every device.

A sweep or a sampler benchmark is many independent runs (variants x patterns x restarts, or
seeds x patterns) stepped together by one jitted loop. Their loop state has a leading run axis;
placing it on a one-axis `Mesh` over all devices with `NamedSharding(mesh, P("runs"))` lets XLA
split every generation's simulations between the devices without changing the program.

Results do not depend on the device count: each run's arithmetic is the same whichever device
holds it, and when the run count must be padded to a multiple of the device count, callers
append whole dummy groups at the *end* of the run axis, so the real runs keep their indices and
therefore their random keys (jax's partitionable threefry draws `split(key, n)[:m]` equal to
`split(key, m)`).

Multi-host: call `jax.distributed.initialize()` in every process before anything else touches
jax (`initialize_distributed` below does it from `--distributed`); `jax.devices()` then lists the
devices of all hosts, the mesh spans them, and `to_host` gathers results from all processes.
"""

from __future__ import annotations

import math
import os

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxplaus.errors import UsageError

AXIS = "runs"


def initialize_distributed() -> None:
    """Join a multi-host job (coordinator address, process count and id come from the
    environment: SLURM, Open MPI, Cloud TPU, or JAX_COORDINATOR_ADDRESS/JAX_NUM_PROCESSES/
    JAX_PROCESS_ID). Must run before any computation."""
    # jax reads the coordinator's address from the environment, not (in every version) the
    # process count and id: passed on when set
    try:
        given = {key: int(os.environ[name]) for key, name in (("num_processes", "JAX_NUM_PROCESSES"),
                                                              ("process_id", "JAX_PROCESS_ID")) if os.environ.get(name)}
        jax.distributed.initialize(**given)
    except (RuntimeError, ValueError) as err:  # no cluster in the environment, or jax already running
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UsageError(f"cannot join a multi-host job ({message}); start the process under SLURM or Open MPI, "
                         "or set JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and JAX_PROCESS_ID") from None


def run_mesh(devices=None) -> Mesh:
    """A one-axis mesh over `devices` (default: all devices of all processes)."""
    devices = jax.devices() if devices is None else devices
    return Mesh(np.asarray(devices), (AXIS,))


def mesh_of(count: int | None) -> Mesh | None:
    """A run mesh over the first `count` devices (None: all); None for one device (no sharding)."""
    devices = jax.devices()
    count = len(devices) if count is None else count
    if not 1 <= count <= len(devices):
        raise UsageError(f"--devices must be between 1 and {len(devices)} (the devices jax sees)")
    return run_mesh(devices[:count]) if count > 1 else None


def fills_cpu_pool(devices, cores: int | None = None) -> bool:
    """True when `devices` include CPU devices at least as many as the cores (None: the cores this
    process may use). XLA runs each CPU device's program on a thread of its CPU pool, one thread
    per core, and jaxlib's batched LAPACK kernels (the `eigh` inside CMA-ES's update) split a large
    batch over that same pool and wait for it: with every thread running a device program, they
    wait for ever. Measured with jaxlib 0.10.2 on 2 CPU devices of 2 cores: an assessment with
    CMA-ES over 20 patterns x 8 restarts (160 runs) hangs at 0% CPU, over 10 patterns (80) it does
    not; a 20-variant CMA-ES sweep hangs too (docs/sweep.md)."""
    cores = usable_cores() if cores is None else cores
    cpus = sum(1 for d in devices if d.platform == "cpu")
    return cpus > 1 and cpus >= cores


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one, e.g. under
    `taskset`), else all the machine's."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def padded_count(count: int, mesh: Mesh | None) -> int:
    """`count` rounded up to a multiple of the mesh's size."""
    size = 1 if mesh is None else mesh.size
    return size * math.ceil(count / size)


def shard_runs(tree, mesh: Mesh | None, n_runs: int):
    """Place a pytree on the mesh: leaves whose leading axis is the run axis (length `n_runs`)
    are split along it, every other leaf (keys, counters) is replicated."""
    if mesh is None:
        return jax.tree.map(jax.numpy.asarray, tree)
    split, whole = NamedSharding(mesh, P(AXIS)), NamedSharding(mesh, P())

    def place(leaf):
        leaf = np.asarray(leaf)
        sharding = split if leaf.ndim and leaf.shape[0] == n_runs else whole
        # from a host array every process holds in full: works on one host and on many
        return jax.make_array_from_callback(leaf.shape, sharding, lambda index: leaf[index])

    return jax.tree.map(place, tree)


def constrain(x, mesh: Mesh | None, axis: int = 0):
    """Inside a jitted function: keep `x` split over the mesh along `axis` (so the expensive
    simulation of a batch is divided between devices even after reshapes and transposes)."""
    if mesh is None or mesh.size == 1:
        return x
    spec = [None] * x.ndim
    spec[axis] = AXIS
    return jax.lax.with_sharding_constraint(x, NamedSharding(mesh, P(*spec)))


def to_host(tree):
    """Numpy copies of (possibly sharded, possibly multi-process) arrays."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        return jax.tree.map(np.asarray, multihost_utils.process_allgather(tree, tiled=True))
    return jax.tree.map(np.asarray, tree)
