"""Evaluations per second: the source paper's path vs jaxplaus's batched evaluation.

Paper's path: an Optuna sampler proposes one candidate per trial, Norse simulates it (one
neuron, eager PyTorch, 401 steps of tonic spiking at dt = 0.25 ms), jaxplaus's objective
scores it (`jaxplaus.adapters.optuna_baseline`, the code behind `jaxplaus baseline optuna`).
jaxplaus: `evaluate.Evaluator` on the same pattern, model, bounds and dt, the whole budget as
populations of unit-cube candidates in one jitted call per population (compile timed apart).

    JAX_PLATFORMS=cpu .venv/bin/python benchmarks/optuna_baseline.py [--trials 40] [--budget 65536]
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import optuna

from jaxplaus import models, patterns
from jaxplaus.adapters.optuna_baseline import NorseObjective, make_sampler
from jaxplaus.evaluate import Evaluator


def paper_path(model, pattern, sampler: str, trials: int, dt_ms: float) -> float:
    objective = NorseObjective(model, pattern, dt_ms, half_step=False)  # one Norse run per trial
    objective.evaluate(model.param_space.defaults(), [g.default for g in pattern.protocol.gain_space(model.current_scale).params])
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=make_sampler(sampler, 0))
    start = time.perf_counter()
    study.optimize(lambda t: objective.evaluate(*objective.suggest(t))[0], n_trials=trials)
    return trials / (time.perf_counter() - start)


def jaxplaus_path(model, pattern, budget: int, population: int, dt_ms: float) -> tuple[float, float]:
    evaluator = Evaluator(model, (pattern,), dt=dt_ms, half_step=False)  # the same single run per candidate
    run = jax.jit(lambda z: evaluator(z)[0])
    key = jax.random.PRNGKey(0)
    z = jax.random.uniform(key, (1, population, evaluator.dim))
    start = time.perf_counter()
    run(z).block_until_ready()
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    for k in range(budget // population):
        z = jax.random.uniform(jax.random.fold_in(key, k), (1, population, evaluator.dim))
        run(z).block_until_ready()
    return (budget // population) * population / (time.perf_counter() - start), compile_s


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="izhikevich")
    parser.add_argument("--pattern", default="tonic_spiking")
    parser.add_argument("--trials", type=int, default=40, help="Optuna trials timed (its rate is flat in N)")
    parser.add_argument("--budget", type=int, default=65536, help="jaxplaus evaluations timed")
    parser.add_argument("--population", type=int, default=8192)
    parser.add_argument("--dt-ms", type=float, default=0.25)
    args = parser.parse_args()
    model, pattern = models.get(args.model), patterns.get(args.pattern)
    print(f"{args.model} / {args.pattern}, dt {args.dt_ms} ms, {jax.devices()[0].platform}")
    rates = {}
    for sampler in ("random", "cmaes", "tpe"):
        rates[sampler] = paper_path(model, pattern, sampler, args.trials, args.dt_ms)
        print(f"paper's path  optuna-{sampler:6s} + Norse: {rates[sampler]:10.3g} evaluations/s ({args.trials} trials)")
    ours, compile_s = jaxplaus_path(model, pattern, args.budget, args.population, args.dt_ms)
    print(f"jaxplaus Evaluator, population {args.population}: {ours:10.3g} evaluations/s "
          f"({args.budget} evaluations; first call incl. compile {compile_s:.1f} s)")
    print(f"ratio jaxplaus / paper's path: {ours / max(rates.values()):.3g}x (vs the fastest sampler), "
          f"{ours / min(rates.values()):.3g}x (vs the slowest)")


if __name__ == "__main__":
    main()
