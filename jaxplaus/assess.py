"""The main job: assess a neuron model on Izhikevich's patterns.

For every pattern, `restarts` runs of an evosax strategy search the model's parameters and the
protocol's stimulus amplitudes (all patterns and runs in one vmapped, jitted loop); with wide
bounds, every other run searches the model's physiological ranges, a small box inside them that
random starts in the wide bounds would hardly ever reach. The best
candidate of each pattern is then validated: re-simulated at half the step (it must still
pass), probed with small random perturbations (the fraction that still passes is its
robustness), and checked against the model's physiological ranges. The plausibility score
is the number of patterns that pass.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from dataclasses import asdict, dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from jaxplaus import models, patterns, search, simulate, store
from jaxplaus.errors import UsageError
from jaxplaus.evaluate import Evaluator

ROBUSTNESS_SAMPLES = 32
ROBUSTNESS_WIDTH = 0.05  # perturbations uniform in +-5% of each bound's width, judged at dt and dt/2
RESTARTS = 8
CHUNK = 8  # generations per jitted chunk (progress and checkpoints between chunks)
DEFAULT_BUDGET = 32768


@dataclass
class AssessConfig:
    model: str
    patterns: list = field(default_factory=lambda: list(patterns.names()))
    strategy: str = "cma_es"
    budget: int = DEFAULT_BUDGET  # evaluations per pattern
    seed: int = 0
    bounds: str = "wide"
    dt_ms: float = 0.25
    model_options: dict = field(default_factory=dict)
    population: int | None = None  # per run; default from the dimension
    restarts: int = RESTARTS
    ipop: bool = False  # restart in phases of doubled population and halved parallel runs
    # with wide bounds, every other run of a pattern searches inside the physiological ranges
    physiological_runs: bool = True

    def check(self):
        """Raise UsageError for anything invalid, before any work or file is created."""
        models.get(self.model, **self.model_options)
        patterns.select(self.patterns)
        search.get(self.strategy)
        if self.bounds not in ("wide", "physiological"):
            raise UsageError("--bounds must be wide or physiological")
        if not isinstance(self.budget, int) or self.budget <= 0:
            raise UsageError(f"--budget must be a positive number of evaluations, got {self.budget}")
        if not (math.isfinite(self.dt_ms) and 0 < self.dt_ms <= 1.0):
            raise UsageError(f"--dt-ms must be in (0, 1], got {self.dt_ms}")
        if self.population is not None and self.population < 4:
            raise UsageError("--population must be at least 4")
        if self.restarts < 1:
            raise UsageError("--restarts must be at least 1")
        if self.ipop and not search.get(self.strategy).supports_ipop:
            raise UsageError(f"--ipop needs a strategy that adapts a search distribution; {self.strategy} does not")
        if self.ipop and self.restarts % 2:
            raise UsageError(f"--ipop halves the parallel runs in each phase: --restarts must be even, got {self.restarts}")


def default_population(dim: int) -> int:
    """CMA-ES's default lambda = 4 + floor(3 ln n), rounded up to an even number."""
    lam = 4 + int(3 * math.log(dim))
    return lam + lam % 2


@dataclass
class Plan:
    evaluator: Evaluator
    search: search.Search
    chunks: int

    @property
    def generations(self) -> int:
        return self.chunks * CHUNK

    @property
    def evaluations(self) -> int:
        return self.generations * self.search.population * self.search.restarts


def plan(config: AssessConfig) -> Plan:
    model = models.get(config.model, **config.model_options)
    evaluator = Evaluator(model, patterns.select(config.patterns), dt=config.dt_ms, bounds=config.bounds)
    population = config.population or default_population(evaluator.dim)
    strategy = search.get(config.strategy)
    per_chunk = CHUNK * population * config.restarts
    chunks = max(1, config.budget // per_chunk)
    runner = search.Search(evaluator, strategy, population, config.restarts,
                           ipop_generations=chunks * CHUNK if config.ipop else None,
                           sub_box=evaluator.physiological_box() if config.physiological_runs else None)
    return Plan(evaluator, runner, chunks)


def _progress(total, initial, enabled):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="gen", desc="assess", file=sys.stderr,
                disable=not enabled, leave=False)


def _validation_candidates(p: Plan, z, seed: int):
    """Each optimum [patterns, dim] followed by its ROBUSTNESS_SAMPLES perturbations."""
    ev = p.evaluator
    noise = jax.random.uniform(jax.random.PRNGKey(seed + 1), (len(ev.patterns), ROBUSTNESS_SAMPLES, ev.dim),
                               minval=-ROBUSTNESS_WIDTH, maxval=ROBUSTNESS_WIDTH)
    noise = jnp.concatenate([jnp.zeros((len(ev.patterns), 1, ev.dim)), noise], axis=1)
    return jnp.clip(jnp.asarray(z, jnp.float32)[:, None, :] + noise, 0.0, 1.0)


def _compile_validation(p: Plan):
    """Start compiling the validation program in a thread (XLA compiles one program per core,
    so it overlaps with the search loop's compilation); returns a function giving the result."""
    shape = jax.ShapeDtypeStruct((len(p.evaluator.patterns), 1 + ROBUSTNESS_SAMPLES, p.evaluator.dim), jnp.float32)
    box = {}
    thread = threading.Thread(target=lambda: box.update(fn=jax.jit(p.evaluator.per_step).lower(shape).compile()))
    thread.start()

    def result():
        thread.join()
        return box["fn"]

    return result


def run_search(config: AssessConfig, p: Plan, out=None, resume=False, progress=True, stop_after=None,
               compile_also=None):
    """Run (or continue) the search; returns (final LoopState, history [generations, runs], timings).

    With `out`, the loop state is checkpointed after every chunk; `stop_after` (chunks) ends
    early like an interruption would (tests use it)."""
    start = np.stack([p.evaluator.encode_defaults(i) for i in range(len(p.evaluator.patterns))])
    state = p.search.init(config.seed, jnp.asarray(start, jnp.float32))
    history, done, timings = [], 0, {"compile_s": 0.0, "search_s": 0.0}
    if resume and out is not None and (out / store.CHECKPOINT).exists():
        saved = store.load_checkpoint(out)
        state = jax.tree.map(jnp.asarray, saved["state"])
        history, done, timings = saved["history"], saved["chunks_done"], saved["timings"]
    t0 = time.perf_counter()
    step = p.search.compile_chunk(state, CHUNK)
    if compile_also is not None:
        compile_also()  # wait for programs compiling alongside
    timings["compile_s"] += time.perf_counter() - t0
    with _progress(p.generations, done * CHUNK, progress) as bar:
        for chunk in range(done, p.chunks):
            if stop_after is not None and chunk >= stop_after:
                break
            t0 = time.perf_counter()
            state, losses = step(state)
            losses = np.asarray(losses)
            timings["search_s"] += time.perf_counter() - t0
            history.append(losses)
            bar.update(CHUNK)
            bar.set_postfix(passed=int(np.asarray(state.best_passed).reshape(len(p.evaluator.patterns), -1).any(1).sum()))
            if out is not None:
                store.save_checkpoint(out, {
                    "state": jax.tree.map(np.asarray, state), "history": history,
                    "chunks_done": chunk + 1, "timings": timings,
                })
    return state, np.concatenate(history) if history else np.zeros((0, p.search.n_runs)), timings


def _best_per_pattern(p: Plan, state):
    """Each pattern's best run: a passing one if any, then the lowest loss."""
    n_pat, restarts = len(p.evaluator.patterns), p.search.restarts
    loss = np.asarray(state.best_loss).reshape(n_pat, restarts)
    passed = np.asarray(state.best_passed).reshape(n_pat, restarts)
    best = np.argmin(loss + np.where(passed, 0.0, 1e6), axis=1)
    z = np.asarray(state.best_z).reshape(n_pat, restarts, -1)[np.arange(n_pat), best]
    gens = np.asarray(state.pass_generation).reshape(n_pat, restarts)
    first = np.where(gens >= 0, gens, np.iinfo(np.int32).max).min(axis=1)
    return z, loss[np.arange(n_pat), best], passed.any(axis=1), first


def validate(p: Plan, z: np.ndarray, seed: int, compiled=None):
    """Re-simulate each optimum z [patterns, dim] at dt and half dt, and small perturbations of it.

    Returns (passes at dt, passes at dt/2, fraction of perturbations passing at both)."""
    per_step = compiled or jax.jit(p.evaluator.per_step)
    _, passed = per_step(_validation_candidates(p, z, seed))  # [steps, patterns, 1 + samples]
    passed = np.asarray(passed)
    return passed[0, :, 0], passed[-1, :, 0], passed[:, :, 1:].all(axis=0).mean(axis=1)


def assess(config: AssessConfig, out=None, resume=False, progress=True, stop_after=None) -> dict:
    """Run an assessment; with `out`, store it (run directory + index). Returns the results."""
    config.check()
    p = plan(config)
    if out is not None:
        store.open_run_dir(out, asdict(config), resume)
    validation = _compile_validation(p)
    state, history, timings = run_search(config, p, out, resume, progress, stop_after, compile_also=validation)
    if stop_after is not None and len(history) < p.generations:
        return {"interrupted": True, "generations_done": len(history)}
    t0 = time.perf_counter()
    z, loss, _, first_gen = _best_per_pattern(p, state)
    passed_dt, passed_half, robustness = validate(p, z, config.seed, validation())
    timings["validation_s"] = time.perf_counter() - t0
    results = _results(config, p, z, loss, passed_dt, first_gen, passed_half, robustness, timings)
    if out is not None:
        _store(out, config, results, history, p)
    return results


def _results(config, p, z, loss, passed_dt, first_gen, passed_half, robustness, timings) -> dict:
    ev = p.evaluator
    space = ev.model_space
    per_pattern = {}
    params_list, gains_list = [], []
    for i, pattern in enumerate(ev.patterns):
        params, gains = ev.decode(jnp.asarray(z[i], jnp.float32), i)
        params = {k: float(v) for k, v in params.items()}
        names = ev.gain_spaces[i].names
        gains = [float(g) for g in np.asarray(gains)[: len(names)]]
        params_list.append(params)
        gains_list.append(gains)
        per_gen = p.search.population * p.search.restarts
        per_pattern[pattern.name] = {
            "letter": pattern.letter,
            "input_class": pattern.input_class,
            "passed": bool(passed_dt[i] and passed_half[i]),
            "loss": float(loss[i]),
            "params": params,
            "stimulus": dict(zip(names, gains)),
            "evaluations": p.evaluations,
            "evaluations_to_pass": int((first_gen[i] + 1) * per_gen) if first_gen[i] < p.generations else None,
            "validation": {
                "passed_at_dt": bool(passed_dt[i]),
                "passed_at_half_dt": bool(passed_half[i]),
                "robustness": float(robustness[i]),
                "robustness_samples": ROBUSTNESS_SAMPLES,
                "within_physiological": bool(space.within(params, "physiological")) if space.has_physiological() else None,
            },
        }
    traces = simulate.full_resolution(
        ev.model, params_list, [q.protocol.pieces for q in ev.patterns], gains_list,
        [ev.dt] * len(ev.patterns), [q.protocol.duration_ms for q in ev.patterns])
    for pattern, resp in zip(ev.patterns, traces):
        times = np.asarray(resp.spike_times)
        per_pattern[pattern.name]["spike_times_ms"] = [round(float(t), 4) for t in times[np.isfinite(times)]]
    total_evals = p.evaluations * len(ev.patterns)
    physiological = [r for r in per_pattern.values() if r["passed"] and r["validation"]["within_physiological"]]
    return {
        "model": config.model,
        "model_options": config.model_options,
        "strategy": p.search.strategy.name,
        "seed": config.seed,
        "bounds": config.bounds,
        "dt_ms": config.dt_ms,
        "budget": config.budget,
        "population": p.search.population,
        "restarts": p.search.restarts,
        "ipop": config.ipop,
        "phases": [ph._asdict() for ph in p.search.phases],
        "generations": p.generations,
        "score": sum(r["passed"] for r in per_pattern.values()),
        "score_within_physiological": len(physiological) if ev.model_space.has_physiological() else None,
        "n_patterns": len(ev.patterns),
        "seconds": {k: round(v, 3) for k, v in timings.items()},
        "evaluations_per_second": total_evals / timings["search_s"] if timings["search_s"] > 0 else None,
        "patterns": per_pattern,
    }


def _store(out, config, results, history, p):
    from jaxplaus.report import write_report

    np.savez_compressed(out / "history.npz", best_loss=history,
                        patterns=np.array([q.name for q in p.evaluator.patterns]),
                        restarts=p.search.restarts)
    write_report(out, results, history)
    store.write_json(out / store.RESULTS, results)  # last: its presence marks the run finished
    store.index_results([
        {
            "run_dir": str(out.resolve()), "kind": "assess", "model": config.model, "pattern": name,
            "strategy": results["strategy"], "seed": config.seed, "budget": r["evaluations"],
            "passed": int(r["passed"]), "loss": r["loss"], "evaluations": r["evaluations_to_pass"] or r["evaluations"],
            "seconds": results["seconds"]["search_s"] / results["n_patterns"],
            "evals_per_second": results["evaluations_per_second"], "bounds": config.bounds,
            "robustness": r["validation"]["robustness"],
        }
        for name, r in results["patterns"].items()
    ])
    if store.CHECKPOINT and (out / store.CHECKPOINT).exists():
        (out / store.CHECKPOINT).unlink()
