"""Validation of search optima: convergence down a ladder of steps, robustness, physiology.

A search candidate that passes at dt and dt/2 may still be a numerical artefact: a membrane
time constant of a few steps, a burst whose spike count doubles at a finer step. So every
candidate optimum is re-simulated on a ladder of steps down to a tenth of the search step
(`LADDER`), and it counts only when the validator passes at every step and the spike count
agrees with the finest step's (within 20% or one spike, `evaluate.count_stability`).

Robustness is the fraction of small random perturbations of the optimum that still pass at dt
and dt/2 (the search's steps): +-5% of each coordinate's range, of the wide bounds for the
expressivity optimum, of the physiological box for the physiological one (which stays inside
the box).

A physiological optimum is a converged one whose model parameters lie inside the model's
physiological ranges and whose input and response keep within the model's physiological limits
(`physiology.py`) at every step of the ladder.

Two compiled programs validate all candidates of all patterns (the ladder for the candidates,
the search's steps for their perturbations); they compile while the search runs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from functools import cached_property
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxplaus.evaluate import Evaluator, count_stability

LADDER = (1, 2, 4, 10)  # step divisors: dt, dt/2, dt/4, dt/10
ROBUSTNESS_SAMPLES = 32
ROBUSTNESS_WIDTH = 0.05
BOUND_TOLERANCE = 1e-3  # a coordinate this close to 0 or 1 of its range sits on a search bound


class Verdicts(NamedTuple):
    """Per pattern and candidate [patterns, candidates] (per step: a trailing [steps] axis)."""

    loss: np.ndarray  # objective summed over the ladder's steps
    passed: np.ndarray  # [.., steps] validator at each step
    limits_ok: np.ndarray  # [.., steps] physiological limits at each step
    n_spikes: np.ndarray  # [.., steps]
    stable: np.ndarray  # spike counts agree down the ladder
    converged: np.ndarray  # passes at every step with stable counts
    in_box: np.ndarray  # model parameters inside the physiological ranges
    physiological: np.ndarray  # converged, in the box and within the limits at every step
    robustness: np.ndarray  # fraction of wide perturbations passing at dt and dt/2
    physiological_robustness: np.ndarray  # fraction of in-box perturbations passing with the limits


@dataclass(frozen=True, eq=False)
class Validator:
    """Validates `candidates` optima per pattern of `evaluator` (the search's evaluator).

    `box`: (low, high) [dim] of the physiological box in the evaluator's cube; None when the
    model has no physiological ranges."""

    evaluator: Evaluator
    candidates: int
    box: tuple | None = None

    @cached_property
    def ladder(self) -> Evaluator:
        return replace(self.evaluator, refinements=LADDER)

    @property
    def shape(self) -> tuple[int, int, int]:
        return len(self.evaluator.patterns), self.candidates, self.evaluator.dim

    def perturbations(self, z, seed: int):
        """z [patterns, candidates, dim] -> each candidate's wide perturbations, then its in-box
        ones, [patterns, candidates x 2 x ROBUSTNESS_SAMPLES, dim]."""
        n_pat, k, dim = z.shape
        noise = jax.random.uniform(jax.random.PRNGKey(seed + 1), (n_pat, k, 2, ROBUSTNESS_SAMPLES, dim),
                                   minval=-ROBUSTNESS_WIDTH, maxval=ROBUSTNESS_WIDTH)
        z = z[:, :, None, :]
        wide = jnp.clip(z + noise[:, :, 0], 0.0, 1.0)
        low, high = (jnp.asarray(b, jnp.float32) for b in (self.box or (np.zeros(dim), np.ones(dim))))
        boxed = jnp.clip(z + noise[:, :, 1] * (high - low), low, high)
        return jnp.concatenate([wide, boxed], axis=2).reshape(n_pat, -1, dim)

    def perturbed_scores(self, z, seed):
        """Scores of the candidates' perturbations at the search's steps."""
        return self.evaluator.scores(self.perturbations(z, seed))

    @cached_property
    def _programs(self) -> dict:
        """The two jitted programs (kept apart: XLA compiled them together much more slowly
        than one after the other)."""
        return {"ladder": jax.jit(self.ladder.scores), "perturbed": jax.jit(self.perturbed_scores)}

    def compile_in_background(self):
        """Start compiling both programs, each in a thread (XLA compiles one program per core,
        so they overlap with the search's compilation); returns a function that waits for them."""
        z = jax.ShapeDtypeStruct(self.shape, jnp.float32)
        args = {"ladder": (z,), "perturbed": (z, jax.ShapeDtypeStruct((), jnp.int32))}
        compiled = {}
        threads = [threading.Thread(target=lambda k=k: compiled.update({k: self._programs[k].lower(*args[k]).compile()}))
                   for k in self._programs]
        for thread in threads:
            thread.start()

        def wait():
            for thread in threads:
                thread.join()
            self._programs.update(compiled)

        return wait

    def run(self, z, seed: int) -> Verdicts:
        """Verdicts of candidates z [patterns, candidates, dim] (the evaluator's cube)."""
        if np.shape(z)[1] != self.candidates:
            raise ValueError(f"{np.shape(z)[1]} candidates per pattern, the validator takes {self.candidates}")
        z_ = jnp.asarray(z, jnp.float32)
        ladder, perturbed = self._programs["ladder"](z_), self._programs["perturbed"](z_, jnp.int32(seed))
        n_pat, k = len(self.evaluator.patterns), self.candidates
        own = jax.tree.map(lambda x: np.moveaxis(np.asarray(x), 0, -1), ladder)  # [patterns, k, steps]
        unstable, stable = (np.asarray(x) for x in count_stability(np.moveaxis(own.n_spikes, -1, 0)))
        converged = own.passed.all(-1) & stable
        in_box = self._in_box(np.asarray(z))
        per = jax.tree.map(lambda x: np.asarray(x).reshape(x.shape[0], n_pat, k, 2, ROBUSTNESS_SAMPLES), perturbed)
        robust = per.passed[..., 0, :].all(0).mean(-1)
        phys_ok = (per.passed & per.limits_ok)[..., 1, :].all(0).mean(-1)
        return Verdicts(
            loss=own.loss.sum(-1) + unstable, passed=own.passed, limits_ok=own.limits_ok, n_spikes=own.n_spikes,
            stable=stable, converged=converged, in_box=in_box,
            physiological=converged & in_box & own.limits_ok.all(-1),
            robustness=robust, physiological_robustness=phys_ok,
        )

    def _in_box(self, z):
        if self.box is None:
            return np.zeros(z.shape[:2], bool)
        low, high = self.box
        n = self.evaluator.n_model
        tol = 1e-4
        return np.all((z[..., :n] >= low[:n] - tol) & (z[..., :n] <= high[:n] + tol), axis=-1)


def choose(verdicts: Verdicts, physiological: bool):
    """Per pattern, the index of the chosen candidate (or -1): among the converged (or the
    physiological) ones, the most robust, then the lowest loss."""
    ok = verdicts.physiological if physiological else verdicts.converged
    robust = verdicts.physiological_robustness if physiological else verdicts.robustness
    rank = np.where(ok, -robust * 1e3 + np.minimum(verdicts.loss, 1e2), np.inf)
    best = np.argmin(rank, axis=1)
    return np.where(ok.any(axis=1), best, -1)


def on_bounds(z, n_model: int, box=None) -> list[int]:
    """Indices of the coordinates of a candidate z [dim] that sit on a bound of their search
    range: the wide cube, or for model parameters the physiological `box`."""
    z = np.asarray(z, np.float64)
    low, high = np.zeros_like(z), np.ones_like(z)
    if box is not None:
        low[:n_model], high[:n_model] = np.asarray(box[0])[:n_model], np.asarray(box[1])[:n_model]
    rel = (z - low) / np.maximum(high - low, 1e-12)
    return [int(j) for j in np.nonzero((rel <= BOUND_TOLERANCE) | (rel >= 1 - BOUND_TOLERANCE))[0]]
