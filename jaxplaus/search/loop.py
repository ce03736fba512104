"""The generation loop: evosax ask/evaluate/tell inside `lax.scan`, vmapped over independent
runs (patterns x restarts), in jitted chunks so progress can be shown and checkpoints written
between them. The whole loop state is a pytree of arrays: saving it after a chunk and loading
it later continues the run bit for bit (same seed, same result on CPU).

With IPOP (restarts with increasing population, Auger & Hansen 2005) the search runs in phases:
each phase doubles the population of a run and halves the number of parallel runs, so every
generation still evaluates the same number of candidates, one batch of one shape. Each phase
has its own strategy states; `lax.switch` picks the phase's ask and tell, and the evaluator,
which dominates the compiled program, is traced once for all phases.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxplaus.evaluate import Evaluator
from jaxplaus.search.strategies import Strategy


# A population-based run given a start draws its population within +-SEEDED_SPREAD (of the
# cube's side) of it.
SEEDED_SPREAD = 0.05


class LoopState(NamedTuple):
    """Per-run arrays have one entry per run slot (patterns x restarts); in later IPOP phases,
    with fewer runs, slot j of a pattern holds run j, and the other slots keep their bests."""

    key: jnp.ndarray
    strategy: tuple  # evosax states of each phase, leading axis = that phase's runs
    best_z: jnp.ndarray  # [runs, dim], in the evaluator's cube
    best_loss: jnp.ndarray  # [runs]
    best_passed: jnp.ndarray  # [runs] bool
    pass_generation: jnp.ndarray  # [runs] generation of the first passing candidate (-1: none yet)
    generation: jnp.ndarray  # ()
    restart_best: jnp.ndarray  # [runs] best loss since the run's last restart
    stalled: jnp.ndarray  # [runs] generations since restart_best last improved
    restarts_done: jnp.ndarray  # [runs]


class Phase(NamedTuple):
    runs: int  # parallel runs per pattern
    population: int  # candidates per run and generation
    start: int  # first generation


@dataclass(frozen=True, eq=False)
class Search:
    """`restarts` independent runs of `strategy` for each of the evaluator's patterns; with
    `ipop_generations` (the search's length), IPOP phases share those generations equally,
    one phase per halving of the runs (8 runs: phases of 8, 4, 2 and 1)."""

    evaluator: Evaluator
    strategy: Strategy
    population: int
    restarts: int
    patience: int = 25  # generations without progress before a run restarts elsewhere
    ipop_generations: int | None = None
    # (low, high) [dim] of a box inside the cube (e.g. a model's physiological ranges inside its
    # wide bounds): the physiological runs (without any, the odd-numbered runs) search it instead
    # of the whole cube
    sub_box: tuple | None = None
    # which runs of each pattern are physiological: they search `sub_box` and minimise the
    # objective with the model's physiological limits added (the evaluator's `objectives`):
    # "none", "odd" (the odd-numbered runs) or "all"; one mode for every pattern, or one each
    physiological: str | tuple[str, ...] = "none"

    def __post_init__(self):
        if not set(self.modes) <= {"none", "odd", "all"}:
            raise ValueError("physiological must be none, odd or all (or one of them per pattern)")

    @property
    def modes(self) -> tuple[str, ...]:
        if isinstance(self.physiological, str):
            return (self.physiological,) * self.n_patterns
        if len(self.physiological) != self.n_patterns:
            raise ValueError("physiological needs one mode per pattern")
        return tuple(self.physiological)

    def physiological_runs(self, runs: int) -> np.ndarray:
        """[patterns, runs] bool: the physiological runs of each pattern."""
        odd = np.arange(runs) % 2 == 1
        return np.stack([np.full(runs, m == "all") | (odd & (m == "odd")) for m in self.modes])

    @property
    def n_patterns(self) -> int:
        return len(self.evaluator.patterns)

    @property
    def n_runs(self) -> int:
        return self.n_patterns * self.restarts

    @cached_property
    def phases(self) -> tuple[Phase, ...]:
        sizes = [(self.restarts, self.population)]
        # halve while the runs are even and each phase still gets a generation
        while sizes[-1][0] % 2 == 0 and len(sizes) < (self.ipop_generations or 0):
            sizes.append((sizes[-1][0] // 2, sizes[-1][1] * 2))
        length = max(1, (self.ipop_generations or 0) // len(sizes))
        return tuple(Phase(runs, population, k * length) for k, (runs, population) in enumerate(sizes))

    @cached_property
    def algos(self):
        return tuple(self.strategy.build(ph.population, self.evaluator.dim) for ph in self.phases)

    def phase_at(self, generation):
        """Index of the phase that `generation` (traced or not) belongs to."""
        starts = jnp.asarray([ph.start for ph in self.phases])
        return jnp.sum(generation >= starts) - 1

    def init(self, seed: int, start=None, stream: int = 0) -> LoopState:
        """Initial state; `start` [patterns, dim] (optional) is where each pattern's first restart
        begins (e.g. the model's published defaults), the other restarts begin at random; or
        [patterns, restarts, dim], where each run begins, NaN rows at random.
        `stream` > 0 draws an independent random stream of the same seed (a later search phase)."""
        key = jax.random.PRNGKey(seed)
        if stream:
            key = jax.random.fold_in(key, stream)
        self.algos  # built outside the trace: the strategies' parameters are cached arrays
        return self._initial(key, None if start is None else jnp.asarray(start, jnp.float32))

    @partial(jax.jit, static_argnames=("self",))
    def _initial(self, key, start) -> LoopState:
        # jitted: evaluated op by op, the strategies' initialisation took seconds
        key, k_init = jax.random.split(key)
        states = tuple(self._fresh(k, jax.random.fold_in(k_init, k) if k else k_init, start if k == 0 else None)
                       for k in range(len(self.phases)))
        state = LoopState(
            key, states, jnp.full((self.n_runs, self.evaluator.dim), 0.5), jnp.full(self.n_runs, jnp.inf),
            jnp.zeros(self.n_runs, bool), jnp.full(self.n_runs, -1, jnp.int32), jnp.int32(0),
            jnp.full(self.n_runs, jnp.inf), jnp.zeros(self.n_runs, jnp.int32), jnp.zeros(self.n_runs, jnp.int32),
        )
        # strong dtypes everywhere, as the scan returns them: otherwise the second chunk recompiles
        return jax.tree.map(lambda x: jnp.asarray(x).astype(jnp.asarray(x).dtype), state)

    def _starts(self, runs: int, start):
        """`start` as [patterns, runs, dim], NaN where a run begins at random."""
        if start is None:
            return None
        if start.ndim == 2:
            return jnp.full((self.n_patterns, runs, self.evaluator.dim), jnp.nan).at[:, 0].set(start)
        return start[:, :runs]

    def _fresh(self, phase: int, key, start=None):
        """New strategy states for all runs of `phase`, at random points of the cube (or where
        `start` says, see `init`)."""
        algo, params = self.algos[phase]
        runs, population, _ = self.phases[phase]
        n, dim = self.n_patterns * runs, self.evaluator.dim
        k_init, k_start = jax.random.split(key)
        init_keys = jax.random.split(k_init, n)
        given = self._starts(runs, start)
        if self.strategy.population_based:
            pop = jax.random.uniform(k_start, (n, population, dim))
            if given is not None:
                # a run given a start begins with its whole population near it, the start itself
                # first: one seeded member among random ones would be moved by the random ones'
                # differences (DE) and its neighbourhood hardly searched
                pop = pop.reshape(self.n_patterns, runs, population, dim)
                near = jnp.clip(given[:, :, None] + SEEDED_SPREAD * (2.0 * pop - 1.0), 0.0, 1.0).at[:, :, 0].set(given)
                pop = jnp.where(jnp.isnan(given)[:, :, None], pop, near).reshape(n, population, dim)
            fitness = jnp.full((n, population), jnp.inf)
            states = jax.vmap(algo.init, in_axes=(0, 0, 0, None))(init_keys, pop, fitness, params)
        else:  # each restart starts from its own random point of the cube's interior
            means = jax.random.uniform(k_start, (n, dim), minval=0.25, maxval=0.75)
            if given is not None:
                means = jnp.where(jnp.isnan(given), means.reshape(given.shape), given).reshape(n, dim)
            states = jax.vmap(algo.init, in_axes=(0, 0, None))(init_keys, means, params)
        return states

    def _ask(self, phase: int, key, states):
        """Candidates of `phase`'s runs, as one batch [patterns, restarts x population, dim]."""
        algo, params = self.algos[phase]
        n = self.n_patterns * self.phases[phase].runs
        z, asked = jax.vmap(algo.ask, in_axes=(0, 0, None))(jax.random.split(key, n), states[phase], params)
        states = states[:phase] + (asked,) + states[phase + 1:]
        return z.reshape(self.n_patterns, self.restarts * self.population, -1), states

    def _place(self, phase: int, z):
        """Candidates of the search strategies' cube [patterns, runs x population, dim] -> points of
        the evaluator's cube: runs in `sub_box` are clipped to their cube and mapped into the box."""
        runs, population, _ = self.phases[phase]
        low, high = (jnp.asarray(b, z.dtype) for b in self.sub_box)
        z = z.reshape(self.n_patterns, runs, population, -1)
        boxed = low + jnp.clip(z, 0.0, 1.0) * (high - low)
        boxed_runs = self.physiological_runs(runs) if set(self.modes) != {"none"} else \
            np.tile(np.arange(runs) % 2 == 1, (self.n_patterns, 1))
        in_box = boxed_runs[:, :, None, None]
        return jnp.where(in_box, boxed, z).reshape(self.n_patterns, runs * population, -1)

    def _objective(self, phase, x):
        """(loss, passed) [patterns, runs x population] of each candidate under its run's objective."""
        if set(self.modes) == {"none"}:
            return self.evaluator(x)
        loss, passed, phys_loss, phys_passed = self.evaluator.objectives(x)
        masks = np.stack([np.repeat(self.physiological_runs(ph.runs), ph.population, axis=1)
                          for ph in self.phases])  # [phases, patterns, runs x population]
        physiological = jnp.asarray(masks)[phase]
        return jnp.where(physiological, phys_loss, loss), jnp.where(physiological, phys_passed, passed)

    def _run_best(self, phase: int, z, loss, passed):
        """Each run's best candidate of the generation (a passing one beats any failing one, then
        lower loss wins), as (loss, passed, z) per run slot; slots without a run get inf/False."""
        runs, population, _ = self.phases[phase]
        z = z.reshape(self.n_patterns * runs, population, -1)
        loss, passed = loss.reshape(-1, population), passed.reshape(-1, population)
        i = jnp.argmin(loss + jnp.where(passed, 0.0, 1e6), axis=1)
        best = (jnp.take_along_axis(loss, i[:, None], 1)[:, 0], jnp.take_along_axis(passed, i[:, None], 1)[:, 0],
                jnp.take_along_axis(z, i[:, None, None], 1)[:, 0])
        pad = self.restarts - runs
        fill = (jnp.inf, False, 0.5)
        return tuple(
            jnp.pad(x.reshape((self.n_patterns, runs) + x.shape[1:]), ((0, 0), (0, pad)) + ((0, 0),) * (x.ndim - 1),
                    constant_values=f).reshape((self.n_runs,) + x.shape[1:])
            for x, f in zip(best, fill))

    def _tell(self, phase: int, k_tell, k_restart, z, loss, states, restart):
        """Update `phase`'s runs with their candidates' losses; runs flagged in `restart` (per
        slot) start afresh."""
        algo, params = self.algos[phase]
        runs, population, _ = self.phases[phase]
        n = self.n_patterns * runs
        told, _ = jax.vmap(algo.tell, in_axes=(0, 0, 0, 0, None))(
            jax.random.split(k_tell, n), z.reshape(n, population, -1), loss.reshape(n, population),
            states[phase], params)
        restart = restart.reshape(self.n_patterns, self.restarts)[:, :runs].reshape(n)
        told = jax.tree.map(lambda new, old: jnp.where(restart.reshape((-1,) + (1,) * (old.ndim - 1)), new, old),
                            self._fresh(phase, k_restart), told)
        return states[:phase] + (told,) + states[phase + 1:]

    def _by_phase(self, method, phase, *operands):
        return jax.lax.switch(phase, [partial(method, k) for k in range(len(self.phases))], *operands)

    def _generation(self, state: LoopState, _):
        key, k_ask, k_tell, k_restart = jax.random.split(state.key, 4)
        phase = self.phase_at(state.generation)
        z, strategy = self._by_phase(self._ask, phase, k_ask, state.strategy)
        z = jnp.nan_to_num(z, nan=0.5)  # a degenerate proposal is still a point of the cube
        # without a sub-box the strategies' cube is the evaluator's: no per-phase switch to trace
        x = z if self.sub_box is None else self._by_phase(self._place, phase, z)
        loss, passed = self._objective(phase, x)
        gen_loss, gen_passed, gen_z = self._by_phase(self._run_best, phase, x, loss, passed)
        better = (gen_passed & ~state.best_passed) | ((gen_passed == state.best_passed) & (gen_loss < state.best_loss))
        first_pass = (state.pass_generation < 0) & gen_passed
        # restart runs that stopped making progress (and those that already passed: a pass is kept
        # in best_*, and a fresh start may find a more robust optimum)
        active = jnp.tile(jnp.arange(self.restarts) < jnp.asarray([ph.runs for ph in self.phases])[phase],
                          self.n_patterns)
        improved = gen_loss < state.restart_best - 1e-6
        restart_best = jnp.minimum(state.restart_best, gen_loss)
        stalled = jnp.where(improved, 0, state.stalled + 1)
        restart = active & (stalled >= self.patience)
        strategy = self._by_phase(self._tell, phase, k_tell, k_restart, z, loss, strategy, restart)
        # a new phase's runs begin with fresh bookkeeping
        reset = restart | (self.phase_at(state.generation + 1) != phase)
        new = LoopState(
            key, strategy,
            jnp.where(better[:, None], gen_z, state.best_z),
            jnp.where(better, gen_loss, state.best_loss),
            state.best_passed | gen_passed,
            jnp.where(first_pass, state.generation, state.pass_generation),
            state.generation + 1,
            jnp.where(reset, jnp.inf, restart_best),
            jnp.where(reset, 0, stalled),
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
