"""`jaxplaus bench samplers`: which strategy reaches a pattern, and after how many evaluations.

For every model x sampler (an evosax strategy at a population size and initial step size, or an
Optuna sampler, trial by trial), many independent runs per pattern search
until the pattern's validator passes (at dt and dt/2, as `jaxplaus assess`). A run's outcome is
its evaluations to success (inf if it failed within the budget); the statistics and figures of
`jaxplaus.bench.stats` / `.figures` are computed from these runs.

evosax runs of one sampler are one batched search: the seeds are a replicate axis (the
`VariantEvaluator` of sweeps with nothing pinned), seed-major so that adding seeds keeps the
earlier seeds' results and the run axis can be padded and sharded over devices. One search to
the largest budget gives every smaller budget of the ladder (a run's first success is recorded).
Optuna runs stop at their first success, as a COCO experiment would. Each is an Optuna study
driven by ask/tell; the studies of one sampler on one model advance in lockstep, one trial each
per round, and a round is scored in one call of jaxplaus's evaluator (`optuna_simulator="jax"`)
or trial by trial in Norse, the source paper's simulator (`"norse"`). A study's trials do not
depend on the other studies, so both give the runs `study.optimize` would.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxplaus import models, patterns, search, sharding, store
from jaxplaus.assess import CHUNK, default_population
from jaxplaus.errors import UsageError
from jaxplaus.evaluate import Evaluator
from jaxplaus.sweep.evaluator import VariantEvaluator

OPTUNA_PREFIX = "optuna-"
OPTUNA_SIMULATORS = ("jax", "norse")
DEFAULT_STRATEGIES = ("cma_es", "sep_cma_es", "random_search", "snes", "xnes", "pgpe", "de", "pso")


@dataclass(frozen=True)
class Sampler:
    """One competitor: a strategy name, and (evosax only) population size and initial step size
    (None: the defaults of `jaxplaus assess`)."""

    strategy: str
    population: int | None = None
    step_size: float | None = None

    @property
    def is_optuna(self) -> bool:
        return self.strategy.startswith(OPTUNA_PREFIX)

    @property
    def name(self) -> str:
        extras = [f"pop={self.population}"] if self.population else []
        extras += [f"step={self.step_size:g}"] if self.step_size is not None else []
        return self.strategy + (f"({', '.join(extras)})" if extras else "")


@dataclass(frozen=True, eq=False)
class TunedStrategy:
    """A `search.Strategy` with another initial step size (std_init, in units of the cube)."""

    base: search.Strategy
    step_size: float

    @property
    def name(self) -> str:
        return self.base.name

    @property
    def population_based(self) -> bool:
        return self.base.population_based

    def build(self, population_size: int, dim: int):
        algo, params = self.base.build(population_size, dim)
        return algo, params.replace(std_init=jnp.asarray(self.step_size))


def has_step_size(name: str) -> bool:
    """Whether the evosax strategy has an initial step size to tune."""
    _, params = search.get(name).build(4, 2)
    return hasattr(params, "std_init")


@dataclass
class BenchConfig:
    models: list = field(default_factory=lambda: ["izhikevich", "adex", "lif"])
    patterns: list = field(default_factory=lambda: list(patterns.names()))
    strategies: list = field(default_factory=lambda: list(DEFAULT_STRATEGIES))
    seeds: int = 10
    budgets: list = field(default_factory=lambda: [256, 1024, 4096])  # evaluations per run
    populations: list | None = None  # sweep the population size (evosax)
    step_sizes: list | None = None  # sweep the initial step size (evosax strategies that have one)
    optuna: list = field(default_factory=list)  # Optuna samplers: tpe, cmaes, random
    optuna_budget: int = 100  # trials per Optuna run
    optuna_seeds: int | None = None  # default: seeds
    optuna_simulator: str = "jax"  # who scores Optuna's trials: jax (batched) or norse (the baseline's)
    seed: int = 0
    bounds: str = "wide"
    dt_ms: float = 0.25

    def check(self):
        """Raise UsageError for anything invalid, before any work or file is created."""
        from jaxplaus.adapters.optuna_space import SAMPLERS

        for name in self.models:
            models.get(name)
        patterns.select(self.patterns)
        if not self.strategies and not self.optuna:
            raise UsageError("nothing to benchmark: give --strategies and/or --optuna")
        for name in self.strategies:
            search.get(name)
        for name in self.optuna:
            if name not in SAMPLERS:
                raise UsageError(f"unknown Optuna sampler {name!r}; choose from {', '.join(SAMPLERS)}")
        _positive_ints(self.budgets, "--budgets")
        if sorted(set(self.budgets)) != list(self.budgets):
            raise UsageError("--budgets must be increasing")
        _positive_ints([self.seeds], "--seeds")
        _positive_ints([self.optuna_budget], "--optuna-budget")
        if self.optuna_seeds is not None:
            _positive_ints([self.optuna_seeds], "--optuna-seeds")
        if self.optuna_simulator not in OPTUNA_SIMULATORS:
            raise UsageError(f"--optuna-simulator must be one of {', '.join(OPTUNA_SIMULATORS)}")
        if self.optuna:
            from jaxplaus.adapters import require

            simulator = ("torch", "norse") if self.optuna_simulator == "norse" else ()
            require("bench samplers --optuna", "optuna", *(("cmaes",) if "cmaes" in self.optuna else ()), *simulator)
        if self.populations is not None:
            _positive_ints(self.populations, "--populations")
            if min(self.populations) < 4:
                raise UsageError("--populations must be at least 4")
        if self.step_sizes is not None:
            if not self.step_sizes or not all(isinstance(s, (int, float)) and 0 < s <= 1 for s in self.step_sizes):
                raise UsageError("--step-sizes must be in (0, 1] (fractions of the search box's side)")
        if self.bounds not in ("wide", "physiological"):
            raise UsageError("--bounds must be wide or physiological")
        if not (math.isfinite(self.dt_ms) and 0 < self.dt_ms <= 1.0):
            raise UsageError(f"--dt-ms must be in (0, 1], got {self.dt_ms}")


def _positive_ints(values, flag):
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
        raise UsageError(f"{flag} must be positive integers, got {values}")


def competitors(config: BenchConfig) -> list[Sampler]:
    out = []
    for name in config.strategies:
        name = search.get(name).name
        steps = config.step_sizes if config.step_sizes and has_step_size(name) else [None]
        out += [Sampler(name, pop, step) for pop in (config.populations or [None]) for step in steps]
    return out + [Sampler(OPTUNA_PREFIX + name) for name in config.optuna]


def optuna_models(config: BenchConfig) -> list[str]:
    """The models Optuna can run: all of them with jaxplaus scoring its trials, those with a Norse
    counterpart with Norse."""
    if config.optuna_simulator == "jax":
        return list(config.models)
    from jaxplaus.models.norse import norse_counterpart

    usable = []
    for name in config.models:
        model = models.get(name)
        try:
            norse_counterpart(model, model.param_space.defaults(), config.dt_ms)
            usable.append(name)
        except TypeError:
            pass
    return usable


# --- evosax: one batched search per (model, sampler) -------------------------------------------

@dataclass
class Unit:
    evaluator: VariantEvaluator
    search: search.Search
    chunks: int
    seeds: int


def evosax_unit(config: BenchConfig, model_name: str, sampler: Sampler, mesh=None) -> Unit:
    base = Evaluator(models.get(model_name), patterns.select(config.patterns), dt=config.dt_ms, bounds=config.bounds)
    padded = sharding.padded_count(config.seeds, mesh)
    nothing = np.zeros((padded, base.n_model))
    evaluator = VariantEvaluator(base, nothing.astype(np.float32), nothing.astype(bool), mesh)
    strategy = search.get(sampler.strategy)
    if sampler.step_size is not None:
        strategy = TunedStrategy(strategy, sampler.step_size)
    population = sampler.population or default_population(base.dim)
    runner = search.Search(evaluator, strategy, population, restarts=1)
    generations = math.ceil(max(config.budgets) / population)
    return Unit(evaluator, runner, math.ceil(generations / CHUNK), config.seeds)


def unit_records(config: BenchConfig, model_name: str, sampler: Sampler, unit: Unit, state, seconds: float):
    """One record per (pattern, seed) from a finished unit's loop state (host arrays)."""
    n_pat, budget = len(unit.evaluator.base.patterns), max(config.budgets)
    keep = unit.seeds * n_pat  # seed-major; the padding seeds come last
    gens = state.pass_generation[:keep].reshape(unit.seeds, n_pat)
    loss = state.best_loss[:keep].reshape(unit.seeds, n_pat)
    evals = np.where(gens >= 0, (gens.astype(np.int64) + 1) * unit.search.population, -1)
    records = []
    for s in range(unit.seeds):
        for i, pattern in enumerate(unit.evaluator.base.patterns):
            e = int(evals[s, i])
            records.append({
                "model": model_name, "pattern": pattern.name, "sampler": sampler.name, "strategy": sampler.strategy,
                "population": unit.search.population, "step_size": sampler.step_size, "seed": s,
                "evaluations_to_success": e if 0 < e <= budget else None, "budget": budget,
                "loss": float(loss[s, i]), "seconds": seconds / keep,
            })
    return records


# --- Optuna: ask/tell studies in lockstep ----------------------------------------------------

def optuna_scorer(config: BenchConfig, model_name: str, pattern_names: list[str], seeds: list[int]):
    """(score, compile seconds): score({(pattern index, seed index): (params, gains)}) -> {key:
    (loss, passed)} scores one round of trials."""
    model = models.get(model_name)
    if config.optuna_simulator == "norse":
        from jaxplaus.adapters.optuna_baseline import NorseObjective

        objectives = [NorseObjective(model, patterns.get(p), config.dt_ms, config.bounds) for p in pattern_names]
        return (lambda round_: {key: objectives[key[0]].evaluate(*trial) for key, trial in round_.items()}), 0.0

    evaluator = Evaluator(model, patterns.select(pattern_names), dt=config.dt_ms, bounds=config.bounds)
    shape = (len(pattern_names), len(seeds), evaluator.dim)
    t0 = time.perf_counter()
    evaluate = evaluator.jitted.lower(jax.ShapeDtypeStruct(shape, jnp.float32)).compile()
    compile_s = time.perf_counter() - t0

    def score(round_):
        z = np.full(shape, 0.5, np.float32)  # the slots of finished studies are scored and ignored
        for (i, k), (params, gains) in round_.items():
            z[i, k] = evaluator.encode_defaults(i, params, dict(zip(evaluator.gain_spaces[i].names, gains)))
        loss, passed = jax.device_get(evaluate(jnp.asarray(z)))
        return {(i, k): (float(loss[i, k]), bool(passed[i, k])) for i, k in round_}

    return score, compile_s


def optuna_runs(config: BenchConfig, model_name: str, sampler: Sampler, pattern_names: list[str],
                seeds: list[int], on_round=None) -> tuple[list[dict], float]:
    """(records, compile seconds) of one Optuna study per (pattern, seed), each stopped at its
    first passing trial or at its budget; `on_round(trial number, studies still running)`."""
    import optuna

    from jaxplaus.adapters.optuna_space import TrialSpace, make_sampler

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    model = models.get(model_name)
    spaces = [TrialSpace(model, patterns.get(p), config.bounds) for p in pattern_names]
    score, compile_s = optuna_scorer(config, model_name, pattern_names, seeds)
    name = sampler.strategy[len(OPTUNA_PREFIX):]
    studies = {(i, k): optuna.create_study(direction="minimize", sampler=make_sampler(name, config.seed + seed))
               for i in range(len(pattern_names)) for k, seed in enumerate(seeds)}
    first_pass = {}
    t0 = time.perf_counter()
    for number in range(1, config.optuna_budget + 1):
        trials = {key: study.ask() for key, study in studies.items() if key not in first_pass}
        if not trials:
            break
        if on_round:
            on_round(number, len(trials))
        outcome = score({key: spaces[key[0]].suggest(trial) for key, trial in trials.items()})
        for key, trial in trials.items():
            loss, passed = outcome[key]
            studies[key].tell(trial, loss)
            if passed:
                first_pass[key] = trial.number + 1
    seconds = (time.perf_counter() - t0) / len(studies)
    records = [{"model": model_name, "pattern": pattern_names[i], "sampler": sampler.name,
                "strategy": sampler.strategy, "population": 1, "step_size": None, "seed": seeds[k],
                "evaluations_to_success": first_pass.get((i, k)), "budget": config.optuna_budget,
                "loss": float(study.best_value), "seconds": seconds}
               for (i, k), study in studies.items()]
    return records, compile_s


# --- the benchmark -------------------------------------------------------------------------------

def work(config: BenchConfig) -> list[tuple[str, str, Sampler, object]]:
    """(key, model, sampler, detail) in running order; detail: None for an evosax unit, (pattern
    names, seeds) for Optuna studies: all of a model's at once when jaxplaus scores them, one per
    piece of work with Norse (minutes each). Keys name checkpointed pieces of work."""
    items = []
    for model_name in config.models:
        items += [(f"{model_name}/{s.name}", model_name, s, None) for s in competitors(config) if not s.is_optuna]
    seeds = list(range(config.optuna_seeds or config.seeds))
    names = [p.name for p in patterns.select(config.patterns)]
    for model_name in optuna_models(config) if config.optuna else []:
        for s in (s for s in competitors(config) if s.is_optuna):
            if config.optuna_simulator == "jax":
                items.append((f"{model_name}/{s.name}", model_name, s, (names, seeds)))
            else:
                items += [(f"{model_name}/{s.name}/{p}/{k}", model_name, s, ([p], [k])) for p in names for k in seeds]
    return items


def _progress(total, initial, enabled):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="step", desc="bench", file=sys.stderr,
                disable=not enabled, leave=False)


def run(config: BenchConfig, out=None, resume=False, progress=True, stop_after=None, mesh=None) -> dict:
    """Run (or continue) the benchmark; returns {"records", "timings", "finished"}.

    Progress steps are evosax chunks and Optuna pieces of work (see `work`); with `out` a
    checkpoint is written after each, and `stop_after` (steps) ends early as an interruption would."""
    saved = {"records": [], "done": [], "current": None, "timings": {}}
    if resume and out is not None and (out / store.CHECKPOINT).exists():
        saved = store.load_checkpoint(out)
    items = work(config)
    units = {key: evosax_unit(config, m, s, mesh) for key, m, s, d in items if d is None}
    total = sum(u.chunks for u in units.values()) + sum(d is not None for *_, d in items)
    done_steps = sum(units[k].chunks if k in units else 1 for k in saved["done"])
    steps = 0

    def checkpoint():
        if out is not None:
            store.save_checkpoint(out, saved)

    with _progress(total, done_steps + (saved["current"] or {}).get("chunks_done", 0), progress) as bar:
        for key, model_name, sampler, detail in items:
            if key in saved["done"]:
                continue
            bar.set_description(f"bench {key}")
            timing = saved["timings"].setdefault(key, {"compile_s": 0.0, "search_s": 0.0})
            if detail is not None:
                if stop_after is not None and steps >= stop_after:
                    return {**saved, "finished": False}
                records, compile_s = optuna_runs(
                    config, model_name, sampler, *detail,
                    on_round=lambda n, left: bar.set_postfix_str(f"trial {n}/{config.optuna_budget}, {left} running"))
                timing["compile_s"] += compile_s
                timing["search_s"] += sum(r["seconds"] for r in records)
                saved["records"] += records
                saved["done"].append(key)
                steps += 1
                bar.update(1)
                checkpoint()
                continue
            unit = units[key]
            current = saved["current"] if saved["current"] and saved["current"]["key"] == key else None
            state = current["state"] if current else unit.search.init(config.seed)
            chunks_done = current["chunks_done"] if current else 0
            state = sharding.shard_runs(state, mesh, unit.search.n_runs)
            t0 = time.perf_counter()
            step = unit.search.compile_chunk(state, CHUNK)
            timing["compile_s"] += time.perf_counter() - t0
            for chunk in range(chunks_done, unit.chunks):
                if stop_after is not None and steps >= stop_after:
                    return {**saved, "finished": False}
                t0 = time.perf_counter()
                state, _ = step(state)
                jax.block_until_ready(state)
                timing["search_s"] += time.perf_counter() - t0
                steps += 1
                bar.update(1)
                host = sharding.to_host(state)
                if chunk + 1 < unit.chunks:
                    saved["current"] = {"key": key, "state": host, "chunks_done": chunk + 1}
                else:
                    saved["records"] += unit_records(config, model_name, sampler, unit, host, timing["search_s"])
                    saved["done"].append(key)
                    saved["current"] = None
                checkpoint()
    return {**saved, "finished": True}


def bench(config: BenchConfig, out=None, resume=False, progress=True, stop_after=None, mesh=None) -> dict:
    """The whole job: runs, statistics, figures, HTML page, index rows."""
    from jaxplaus.bench import report

    config.check()
    if resume and out is not None and (done := store.resume_finished(out, asdict(config), "bench")) is not None:
        return done
    if out is not None:
        store.open_run_dir(out, asdict(config), resume)
    t0 = time.perf_counter()
    outcome = run(config, out, resume, progress, stop_after, mesh)
    if not outcome["finished"]:
        return {"interrupted": True, "records": len(outcome["records"])}
    results = report.summarize(config, outcome["records"], outcome["timings"])
    results["seconds"]["wall_s_this_session"] = round(time.perf_counter() - t0, 3)
    results["devices"] = 1 if mesh is None else mesh.size
    if out is not None:
        report.write(out, results, outcome["records"])
        store.write_json(out / "runs.json", outcome["records"])
        store.finish(out, "bench", results)
    return results


def index_rows(out, results: dict) -> list[dict]:
    """One index row per run of a finished benchmark (read from its runs.json)."""
    return [
        {"run_dir": str(Path(out).resolve()), "kind": "bench", "model": r["model"], "pattern": r["pattern"],
         "strategy": r["sampler"], "seed": r["seed"], "budget": r["budget"],
         "passed": int(r["evaluations_to_success"] is not None), "loss": r["loss"],
         "evaluations": r["evaluations_to_success"] or r["budget"], "seconds": r["seconds"],
         "population": r["population"], "step_size": r["step_size"]}
        for r in store.load_json(Path(out) / "runs.json")]
