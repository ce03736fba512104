"""Validation of search optima: convergence down a ladder of steps, robustness, physiology.

A search candidate that passes at the search's steps may still be a numerical artefact: a
membrane time constant of a few steps, a burst whose spike count doubles at a finer step. So
every candidate optimum is re-simulated on a ladder of steps down to a tenth of the search step
(`LADDER`), and it counts only when the validator passes at every step and the spike count
agrees with the finest step's (within 20% or one spike, `evaluate.count_stability`).

A physiological optimum is a converged one whose model parameters lie inside the model's
physiological ranges and whose input and response keep within the model's physiological limits
(`physiology.py`) at every step of the ladder.

Robustness is the fraction of small random perturbations of a chosen optimum that still
converge on the ladder: +-5% of each coordinate's range, of the wide bounds for the
expressivity optimum, of the physiological box for the physiological one (which stays inside
the box and must also keep within the limits).

One compiled program (the ladder, for `slots` candidates per pattern) serves every call: the
search's candidates, then the perturbations of the chosen optima. It compiles while the search
runs.
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


@dataclass(frozen=True, eq=False)
class Validator:
    """Validates candidates of `evaluator` (the search's evaluator), up to `slots` per pattern
    and call (at least 2 x ROBUSTNESS_SAMPLES, for the robustness of two optima).

    `box`: (low, high) [dim] of the physiological box in the evaluator's cube; None when the
    model has no physiological ranges."""

    evaluator: Evaluator
    slots: int
    box: tuple | None = None

    @cached_property
    def ladder(self) -> Evaluator:
        return replace(self.evaluator, refinements=LADDER, limit_margin=0.0)

    @property
    def shape(self) -> tuple[int, int, int]:
        return len(self.evaluator.patterns), max(self.slots, 2 * ROBUSTNESS_SAMPLES), self.evaluator.dim

    @cached_property
    def _program(self):
        return {"ladder": jax.jit(self.ladder.scores)}

    def compile_in_background(self):
        """Start compiling the ladder program in a thread (XLA compiles one program per core, so
        it overlaps with the search's compilation); returns a function that waits for it."""
        compiled = {}
        shape = jax.ShapeDtypeStruct(self.shape, jnp.float32)
        thread = threading.Thread(target=lambda: compiled.update(ladder=self._program["ladder"].lower(shape).compile()))
        thread.start()

        def wait():
            thread.join()
            self._program.update(compiled)

        return wait

    def run(self, z) -> Verdicts:
        """Verdicts of candidates z [patterns, k, dim] (the evaluator's cube), k <= the slots."""
        # a strategy may propose outside the cube; the evaluator decodes such a point at the bound
        # (`from_unit` clips), so the point judged, and tested for the box, is the clipped one
        z = np.clip(np.asarray(z, np.float32), 0.0, 1.0)
        n_pat, k, dim = z.shape
        if k > self.shape[1]:
            raise ValueError(f"{k} candidates per pattern, the validator takes at most {self.shape[1]}")
        padded = np.full(self.shape, 0.5, np.float32)
        padded[:, :k] = z
        scores = self._program["ladder"](jnp.asarray(padded))
        own = jax.tree.map(lambda x: np.moveaxis(np.asarray(x), 0, -1)[:, :k], scores)  # [patterns, k, steps]
        unstable, stable = (np.asarray(x) for x in count_stability(np.moveaxis(own.n_spikes, -1, 0)))
        converged = own.passed.all(-1) & stable
        in_box = self._in_box(z)
        return Verdicts(
            loss=own.loss.sum(-1) + unstable, passed=own.passed, limits_ok=own.limits_ok, n_spikes=own.n_spikes,
            stable=stable, converged=converged, in_box=in_box,
            physiological=converged & in_box & own.limits_ok.all(-1),
        )

    def robustness(self, wide, physiological, seed: int):
        """Fractions of perturbations that converge on the ladder, of optima wide [patterns, dim]
        (in the wide cube) and physiological [patterns, dim] (in the box, with the limits)."""
        n_pat, dim = np.shape(wide)
        # numpy's generator: jax.random would compile a program for this one draw
        noise = np.random.default_rng(seed).uniform(-ROBUSTNESS_WIDTH, ROBUSTNESS_WIDTH,
                                                    (2, n_pat, ROBUSTNESS_SAMPLES, dim)).astype(np.float32)
        low, high = self.box if self.box is not None else (np.zeros(dim), np.ones(dim))
        probes = np.concatenate([
            np.clip(np.asarray(wide)[:, None] + noise[0], 0.0, 1.0),
            np.clip(np.asarray(physiological)[:, None] + noise[1] * (high - low), low, high),
        ], axis=1)
        verdicts = self.run(probes)
        n = ROBUSTNESS_SAMPLES
        return verdicts.converged[:, :n].mean(1), verdicts.physiological[:, n:].mean(1)

    def _in_box(self, z):
        if self.box is None:
            return np.zeros(z.shape[:2], bool)
        low, high = self.box
        n = self.evaluator.n_model
        tol = 1e-4
        return np.all((z[..., :n] >= low[:n] - tol) & (z[..., :n] <= high[:n] + tol), axis=-1)


def choose(verdicts: Verdicts, physiological: bool):
    """Per pattern, the index of the chosen candidate (or -1): the converged (or physiological)
    one of lowest loss."""
    ok = verdicts.physiological if physiological else verdicts.converged
    rank = np.where(ok, verdicts.loss, np.inf)
    return np.where(ok.any(axis=1), np.argmin(rank, axis=1), -1)


def on_bounds(z, n_model: int, box=None) -> list[int]:
    """Indices of the coordinates of a candidate z [dim] that sit on a bound of their search
    range: the wide cube, or for model parameters the physiological `box`."""
    z = np.asarray(z, np.float64)
    low, high = np.zeros_like(z), np.ones_like(z)
    if box is not None:
        low[:n_model], high[:n_model] = np.asarray(box[0])[:n_model], np.asarray(box[1])[:n_model]
    rel = (z - low) / np.maximum(high - low, 1e-12)
    return [int(j) for j in np.nonzero((rel <= BOUND_TOLERANCE) | (rel >= 1 - BOUND_TOLERANCE))[0]]
