"""evosax strategies by name, configured for search in the unit cube.

Every strategy searches [0, 1]^dim (mapped to the bounds by the evaluator): distribution-based
ones start from a mean inside the cube with a step size a fraction of its side; population-based
ones start from a uniform random population. Hyperparameters that evosax tunes for neural
networks (learning rates of the gradient-based ES) are set for this scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
import optax
from evosax import algorithms as ea

from jaxplaus.errors import UsageError

STEP_SIZE = 0.25  # initial search distribution width, in units of the cube's side


@dataclass(frozen=True)
class Strategy:
    name: str
    factory: Callable  # (population_size, solution, dim) -> evosax algorithm
    population_based: bool = False
    doc: str = ""
    # IPOP restarts suit strategies that adapt a search distribution from a population whose size
    # sets their learning rates; random search has nothing to adapt, population-based ones
    # (DE, PSO, GA) evolve the population itself
    supports_ipop: bool = True
    default_population: int = 16

    def build(self, population_size: int, dim: int):
        algo = self.factory(population_size, jnp.zeros(dim), dim)
        params = algo.default_params
        if hasattr(params, "std_init"):
            params = params.replace(std_init=jnp.asarray(STEP_SIZE))
        return algo, params


def _uniform_sampler(dim):
    return lambda key: jax.random.uniform(key, (dim,))


REGISTRY = {
    s.name: s
    for s in (
        Strategy("cma_es", lambda n, x, d: ea.CMA_ES(n, x), doc="covariance matrix adaptation ES (Hansen)"),
        Strategy("sep_cma_es", lambda n, x, d: ea.Sep_CMA_ES(n, x), doc="CMA-ES with a diagonal covariance"),
        Strategy("random_search", lambda n, x, d: ea.RandomSearch(n, x, _uniform_sampler(d)), doc="uniform sampling of the bounds (Optuna's RandomSampler)", supports_ipop=False),
        Strategy("snes", lambda n, x, d: ea.SNES(n, x), doc="separable natural ES"),
        Strategy("xnes", lambda n, x, d: ea.xNES(n, x), doc="exponential natural ES"),
        Strategy("open_es", lambda n, x, d: ea.Open_ES(n, x, optimizer=optax.adam(0.05), std_schedule=optax.constant_schedule(0.1)), doc="OpenAI-ES (antithetic, Adam)"),
        Strategy("pgpe", lambda n, x, d: ea.PGPE(n, x, optimizer=optax.adam(0.05)), doc="policy gradients with parameter-based exploration"),
        Strategy("simple_es", lambda n, x, d: ea.SimpleES(n, x), doc="elitist Gaussian ES"),
        Strategy("ma_es", lambda n, x, d: ea.MA_ES(n, x), doc="matrix adaptation ES"),
        Strategy("de", lambda n, x, d: ea.DifferentialEvolution(n, x), population_based=True, supports_ipop=False, doc="differential evolution (rand/1/bin)"),
        Strategy("pso", lambda n, x, d: ea.PSO(n, x), population_based=True, supports_ipop=False, doc="particle swarm optimisation"),
        Strategy("simple_ga", lambda n, x, d: ea.SimpleGA(n, x, std_schedule=optax.constant_schedule(0.1)), population_based=True, supports_ipop=False, doc="truncation-selection genetic algorithm"),
    )
}


def names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def get(name: str) -> Strategy:
    key = name.lower().replace("-", "_")
    aliases = {"cmaes": "cma_es", "cma": "cma_es", "random": "random_search", "sep_cmaes": "sep_cma_es",
               "openes": "open_es", "differential_evolution": "de", "ga": "simple_ga"}
    key = aliases.get(key, key)
    if key not in REGISTRY:
        raise UsageError(f"unknown strategy {name!r}; choose from {', '.join(REGISTRY)}")
    return REGISTRY[key]
