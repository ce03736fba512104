"""The generation loop: evosax ask/evaluate/tell inside `lax.scan`, vmapped over independent
runs (patterns x restarts), in jitted chunks so progress can be shown and checkpoints written
between them. The whole loop state is a pytree of arrays: saving it after a chunk and loading
it later continues the run bit for bit (same seed, same result on CPU).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, partial
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxplaus.evaluate import Evaluator
from jaxplaus.search.strategies import Strategy


class LoopState(NamedTuple):
    key: jnp.ndarray
    strategy: object  # evosax states, leading axis = runs
    best_z: jnp.ndarray  # [runs, dim]
    best_loss: jnp.ndarray  # [runs]
    best_passed: jnp.ndarray  # [runs] bool
    pass_generation: jnp.ndarray  # [runs] generation of the first passing candidate (-1: none yet)
    generation: jnp.ndarray  # ()
    restart_best: jnp.ndarray  # [runs] best loss since the run's last restart
    stalled: jnp.ndarray  # [runs] generations since restart_best last improved
    restarts_done: jnp.ndarray  # [runs]


@dataclass(frozen=True, eq=False)
class Search:
    """`restarts` independent runs of `strategy` for each of the evaluator's patterns."""

    evaluator: Evaluator
    strategy: Strategy
    population: int
    restarts: int
    patience: int = 25  # generations without progress before a run restarts elsewhere

    @property
    def n_patterns(self) -> int:
        return len(self.evaluator.patterns)

    @property
    def n_runs(self) -> int:
        return self.n_patterns * self.restarts

    @cached_property
    def algo(self):
        return self.strategy.build(self.population, self.evaluator.dim)

    def init(self, seed: int, start=None) -> LoopState:
        """Initial state; `start` [patterns, dim] (optional) is where each pattern's first restart
        begins (e.g. the model's published defaults), the other restarts begin at random."""
        key = jax.random.PRNGKey(seed)
        key, k_init = jax.random.split(key)
        states = self._fresh(k_init, start)
        state = LoopState(
            key, states, jnp.full((self.n_runs, self.evaluator.dim), 0.5), jnp.full(self.n_runs, jnp.inf),
            jnp.zeros(self.n_runs, bool), jnp.full(self.n_runs, -1, jnp.int32), jnp.int32(0),
            jnp.full(self.n_runs, jnp.inf), jnp.zeros(self.n_runs, jnp.int32), jnp.zeros(self.n_runs, jnp.int32),
        )
        # strong dtypes everywhere, as the scan returns them: otherwise the second chunk recompiles
        return jax.tree.map(lambda x: jnp.asarray(x).astype(jnp.asarray(x).dtype), state)

    def _fresh(self, key, start=None):
        """New strategy states for all runs, at random points of the cube (or `start`)."""
        algo, params = self.algo
        k_init, k_start = jax.random.split(key)
        init_keys = jax.random.split(k_init, self.n_runs)
        dim = self.evaluator.dim
        if self.strategy.population_based:
            population = jax.random.uniform(k_start, (self.n_runs, self.population, dim))
            if start is not None:
                population = population.reshape(self.n_patterns, self.restarts, self.population, dim)
                population = population.at[:, 0, 0].set(start).reshape(self.n_runs, self.population, dim)
            fitness = jnp.full((self.n_runs, self.population), jnp.inf)
            states = jax.vmap(algo.init, in_axes=(0, 0, 0, None))(init_keys, population, fitness, params)
        else:  # each restart starts from its own random point of the cube's interior
            means = jax.random.uniform(k_start, (self.n_runs, dim), minval=0.25, maxval=0.75)
            if start is not None:
                means = means.reshape(self.n_patterns, self.restarts, dim).at[:, 0].set(start).reshape(self.n_runs, dim)
            states = jax.vmap(algo.init, in_axes=(0, 0, None))(init_keys, means, params)
        return states

    def _generation(self, state: LoopState, _):
        algo, params = self.algo
        key, k_ask, k_tell, k_restart = jax.random.split(state.key, 4)
        z, strategy = jax.vmap(algo.ask, in_axes=(0, 0, None))(
            jax.random.split(k_ask, self.n_runs), state.strategy, params)
        z = jnp.nan_to_num(z, nan=0.5)  # a degenerate proposal is still a point of the cube
        by_pattern = z.reshape(self.n_patterns, self.restarts * self.population, -1)
        loss, passed = self.evaluator(by_pattern)
        loss = loss.reshape(self.n_runs, self.population)
        passed = passed.reshape(self.n_runs, self.population)
        strategy, _ = jax.vmap(algo.tell, in_axes=(0, 0, 0, 0, None))(
            jax.random.split(k_tell, self.n_runs), z, loss, strategy, params)
        # the best candidate: a passing one beats any failing one, then lower loss wins
        rank = loss + jnp.where(passed, 0.0, 1e6)
        i = jnp.argmin(rank, axis=1)
        gen_loss = jnp.take_along_axis(loss, i[:, None], 1)[:, 0]
        gen_passed = jnp.take_along_axis(passed, i[:, None], 1)[:, 0]
        gen_z = jnp.take_along_axis(z, i[:, None, None], 1)[:, 0]
        better = (gen_passed & ~state.best_passed) | ((gen_passed == state.best_passed) & (gen_loss < state.best_loss))
        first_pass = (state.pass_generation < 0) & jnp.any(passed, axis=1)
        # restart runs that stopped making progress (and those that already passed: a pass is kept
        # in best_*, and a fresh start may find a more robust optimum)
        improved = gen_loss < state.restart_best - 1e-6
        restart_best = jnp.minimum(state.restart_best, gen_loss)
        stalled = jnp.where(improved, 0, state.stalled + 1)
        restart = stalled >= self.patience
        fresh = self._fresh(k_restart)
        strategy = jax.tree.map(
            lambda new, old: jnp.where(restart.reshape((-1,) + (1,) * (old.ndim - 1)), new, old), fresh, strategy)
        new = LoopState(
            key, strategy,
            jnp.where(better[:, None], gen_z, state.best_z),
            jnp.where(better, gen_loss, state.best_loss),
            state.best_passed | gen_passed,
            jnp.where(first_pass, state.generation, state.pass_generation),
            state.generation + 1,
            jnp.where(restart, jnp.inf, restart_best),
            jnp.where(restart, 0, stalled),
            state.restarts_done + restart,
        )
        return new, new.best_loss

    @partial(jax.jit, static_argnames=("self", "generations"))
    def run_chunk(self, state: LoopState, generations: int):
        """Advance all runs by `generations`; returns the state and best losses [generations, runs]."""
        return jax.lax.scan(self._generation, state, None, length=generations)

    def compile_chunk(self, state: LoopState, generations: int):
        """Ahead-of-time compiled `run_chunk` (so compilation can be timed on its own)."""
        return self.run_chunk.lower(self, state, generations).compile()
