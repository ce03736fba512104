"""The generation loop on a known landscape: Rastrigin's function, whose many local minima
trap small populations and which IPOP-CMA-ES (Auger & Hansen 2005) solves by growing them."""

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxplaus import search

GENERATIONS = 400


@dataclass(frozen=True, eq=False)
class Rastrigin:
    """Stands in for an Evaluator: one shifted Rastrigin function per 'pattern', minimum 0."""

    patterns: tuple = (0, 1, 2, 3)
    dim: int = 4
    batch: int = 64  # candidates per pattern and generation the loop must always send

    def __call__(self, z):
        assert z.shape == (len(self.patterns), self.batch, self.dim)  # at trace time: one shape for all phases
        x = (z - 0.37) * 10.24  # the cube's unit maps to Rastrigin's usual [-5.12, 5.12] around 0.37
        loss = 10 * self.dim + jnp.sum(x**2 - 10 * jnp.cos(2 * jnp.pi * x), axis=-1)
        return loss, loss < 1e-2


def make(ipop: bool) -> search.Search:
    return search.Search(Rastrigin(), search.get("cma_es"), population=8, restarts=8,
                         ipop_generations=GENERATIONS if ipop else None)


RUNNERS = {ipop: make(ipop) for ipop in (False, True)}  # shared, so each compiles once


@functools.cache
def run(ipop: bool, seed: int, generations: int = GENERATIONS, then: int = 0):
    """Final state after `generations`, and `then` more in a second call."""
    runner = RUNNERS[ipop]
    state, _ = runner.run_chunk(runner.init(seed), generations)
    if then:
        state, _ = runner.run_chunk(state, then)
    return state


def test_phases_halve_the_runs_and_double_the_population():
    assert [tuple(p) for p in RUNNERS[True].phases] == [(8, 8, 0), (4, 16, 100), (2, 32, 200), (1, 64, 300)]
    assert [tuple(p) for p in RUNNERS[False].phases] == [(8, 8, 0)]
    six = search.Search(Rastrigin(batch=48), search.get("cma_es"), 8, 6, ipop_generations=90)
    assert [tuple(p) for p in six.phases] == [(6, 8, 0), (3, 16, 45)]


def test_a_phase_runs_only_in_its_own_generations():
    def generations_run(state):
        return [int(np.asarray(s.generation_counter).max()) for s in state.strategy]

    halfway = generations_run(run(True, 0, GENERATIONS // 2))
    assert halfway[0] > 0 and halfway[1] > 0 and halfway[2:] == [0, 0]
    assert all(n > 0 for n in generations_run(run(True, 0)))


@pytest.mark.parametrize("seed", [0, 1])
def test_ipop_solves_rastrigin_where_fixed_population_restarts_do_not(seed):
    solved = {ipop: np.asarray(run(ipop, seed).best_passed).reshape(4, 8).any(axis=1) for ipop in (False, True)}
    assert solved[True].all()
    assert solved[False].sum() < 4


def test_chunks_continue_bit_for_bit_across_phase_boundaries():
    whole, halves = run(True, 0), run(True, 0, GENERATIONS // 2, then=GENERATIONS // 2)
    for a, b in zip(jax.tree.leaves(whole), jax.tree.leaves(halves)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@dataclass(frozen=True, eq=False)
class NarrowWell:
    """A broad basin (minimum 0.5 at 0.2) and a narrow well (minimum 0 at 0.65) inside BOX: a
    stand-in for a pattern that lives only inside a model's physiological ranges."""

    patterns: tuple = (0, 1, 2, 3)
    dim: int = 2
    batch: int = 64

    def __call__(self, z):
        broad = 0.5 + jnp.sum((z - 0.2) ** 2, axis=-1)
        narrow = 1e4 * jnp.sum((z - 0.65) ** 2, axis=-1)
        loss = jnp.minimum(broad, narrow)
        return loss, loss < 1e-3


BOX = (np.full(2, 0.6), np.full(2, 0.7))


@functools.cache
def well_search(boxed: bool):
    runner = search.Search(NarrowWell(), search.get("cma_es"), population=8, restarts=8, patience=10,
                           sub_box=BOX if boxed else None)
    state, _ = runner.run_chunk(runner.init(0), 80)
    return state


def test_odd_runs_search_inside_the_sub_box_and_find_what_lives_there():
    boxed, whole = well_search(True), well_search(False)
    best = np.asarray(boxed.best_z).reshape(4, 8, 2)
    assert ((best[:, 1::2] >= BOX[0]) & (best[:, 1::2] <= BOX[1])).all()
    assert ((best[:, 0::2] < BOX[0]) | (best[:, 0::2] > BOX[1])).any()  # the other runs roam the cube
    assert np.asarray(boxed.best_passed).reshape(4, 8)[:, 1::2].any(axis=1).all()
    assert not np.asarray(whole.best_passed).any()


def test_a_population_given_a_start_begins_around_it_and_the_others_at_random():
    runner = search.Search(Rastrigin(batch=32), search.get("de"), population=8, restarts=4)
    start = np.full((4, 4, 4), np.nan, np.float32)
    start[:, 0] = 0.9  # near a corner: the spread is clipped to the cube
    start[2, 1] = 0.3
    population = np.asarray(runner.init(0, start).strategy[0].population).reshape(4, 4, 8, 4)
    seeded = ~np.isnan(start[:, :, 0])
    np.testing.assert_array_equal(population[seeded][:, 0], start[seeded])
    gap = np.abs(population[seeded] - start[seeded][:, None])
    assert (gap <= search.loop.SEEDED_SPREAD + 1e-6).all() and (gap > 0).any()
    assert ((population >= 0) & (population <= 1)).all()
    unseeded = population[~seeded].reshape(-1, 4)
    assert unseeded.min() < 0.2 and unseeded.max() > 0.8  # the whole cube
