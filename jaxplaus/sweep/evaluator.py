"""Variants as one more vmapped axis of the search."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import jax.numpy as jnp
import numpy as np

from jaxplaus import sharding, simulate
from jaxplaus.evaluate import Evaluator

@dataclass(frozen=True, eq=False)
class VariantEvaluator:
    """The search-facing evaluator of variants x patterns, variant-major.

    Its `patterns` are the base patterns repeated once per variant, so `Search` runs
    variants x patterns x restarts runs with variant v's runs for pattern p at group v*P + p:
    padding dummy variants appends runs at the end, which keeps every real run's random keys."""

    base: Evaluator
    pinned_unit: np.ndarray  # [variants, n_model] unit-cube values (ignored where not masked)
    mask: np.ndarray  # [variants, n_model] bool: pinned
    mesh: object = None

    @property
    def n_variants(self) -> int:
        return self.mask.shape[0]

    @cached_property
    def patterns(self):
        return self.base.patterns * self.n_variants

    @property
    def dim(self) -> int:
        return self.base.dim

    def pin(self, z):
        """z [variants, ..., dim] with each variant's pinned coordinates overwritten."""
        n = self.base.n_model
        shape = (self.n_variants,) + (1,) * (z.ndim - 2) + (n,)
        fixed = jnp.where(self.mask.reshape(shape), jnp.asarray(self.pinned_unit, z.dtype).reshape(shape), z[..., :n])
        return jnp.concatenate([fixed, z[..., n:]], axis=-1)

    def __call__(self, z):
        """z [variants * patterns, batch, dim] -> (loss, passed) of the same leading shape."""
        n_pat, batch = len(self.base.patterns), z.shape[1]
        z = self.pin(z.reshape(self.n_variants, n_pat, batch, -1))
        z = sharding.constrain(z, self.mesh, axis=0)
        by_pattern = z.transpose(1, 0, 2, 3).reshape(n_pat, self.n_variants * batch, -1)
        loss, passed = self.base(by_pattern)
        back = lambda x: x.reshape(n_pat, self.n_variants, batch).transpose(1, 0, 2).reshape(-1, batch)  # noqa: E731
        return back(loss), back(passed)

    def neuron_steps_per_candidate(self) -> int:
        """Neuron-steps simulated per candidate and pattern set: every pattern of a duration
        group is simulated for the group's longest protocol, at dt and (with half_step) dt/2."""
        ev, total = self.base, 0
        steps = [(ev.dt, ev.block_len)] + ([(ev.dt / 2, 2 * ev.block_len)] if ev.half_step else [])
        for group in ev.groups:
            longest = max(ev.patterns[i].protocol.duration_ms for i in group)
            for dt, block_len in steps:
                total += len(group) * simulate.n_blocks(simulate.n_steps(longest, dt), block_len) * block_len
        return total


