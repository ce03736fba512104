"""Sweeps: assess many variants of one model family in one batched search.

A variant is the family's model with some parameters pinned: AdEx with `a` and `b` fixed, or a
polynomial two-state neuron whose absent monomials have their coefficient pinned at 0 (every
structure of the N2D2 family is one `PolynomialNeuron` over all monomials plus a mask). All
variants therefore share one model and one `Evaluator`; `VariantEvaluator` overwrites the
pinned coordinates of each variant's candidates, and the variant becomes one more vmapped axis
of the search: variants x patterns x restarts runs advance in one jitted loop, and that run
axis is what `jaxplaus.sharding` splits over the devices.

A variant's score is the number of patterns its search reproduces (the best candidate passes the
pattern's validator at dt and dt/2, the criterion of `jaxplaus assess`).
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

from jaxplaus import patterns, search, sharding, store
from jaxplaus.assess import CHUNK, default_population
from jaxplaus.errors import UsageError
from jaxplaus.evaluate import Evaluator
from jaxplaus.sweep.evaluator import VariantEvaluator
from jaxplaus.sweep.variants import (Variants, family_model, grid_variants, random_variants,
                                     structure_variants)

RESTARTS = 2
DEFAULT_BUDGET = 2048  # evaluations per variant and pattern
TOP = 10  # best variants listed in the results

@dataclass
class SweepConfig:
    model: str
    model_options: dict = field(default_factory=dict)
    grid: dict | None = None  # {param: [values]}: the cartesian product
    random: dict | None = None  # {param: [low, high]}: `variants` random draws
    structures: list | None = None  # [v_count, u_count]: polynomial structures
    variants: int | None = None  # how many random draws / sampled structures
    patterns: list = field(default_factory=lambda: list(patterns.names()))
    strategy: str = "cma_es"
    budget: int = DEFAULT_BUDGET  # evaluations per variant and pattern
    seed: int = 0
    bounds: str = "wide"
    dt_ms: float = 0.25
    population: int | None = None
    restarts: int = RESTARTS

    def check(self):
        """Raise UsageError for anything invalid, before any work or file is created."""
        patterns.select(self.patterns)
        search.get(self.strategy)
        if self.bounds not in ("wide", "physiological"):
            raise UsageError("--bounds must be wide or physiological")
        kinds = [k for k in ("grid", "random", "structures") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise UsageError("give exactly one of --grid, --random, --structures")
        if self.random is not None and self.variants is None:
            raise UsageError("--random needs --variants N")
        if self.variants is not None and (isinstance(self.variants, bool) or self.variants < 1):
            raise UsageError(f"--variants must be at least 1, got {self.variants}")
        if self.grid is not None and self.variants is not None:
            raise UsageError("--variants applies to --random and --structures, not --grid")
        if isinstance(self.budget, bool) or not isinstance(self.budget, int) or self.budget <= 0:
            raise UsageError(f"--budget must be a positive number of evaluations, got {self.budget}")
        if not (math.isfinite(self.dt_ms) and 0 < self.dt_ms <= 1.0):
            raise UsageError(f"--dt-ms must be in (0, 1], got {self.dt_ms}")
        if self.population is not None and self.population < 4:
            raise UsageError("--population must be at least 4")
        if self.restarts < 1:
            raise UsageError("--restarts must be at least 1")
        make_variants(self, family_model(self.model, self.model_options))


def make_variants(config: SweepConfig, model) -> Variants:
    if config.grid is not None:
        return grid_variants(model, config.grid, config.bounds)
    if config.random is not None:
        return random_variants(model, config.random, config.variants, config.seed, config.bounds)
    if not (isinstance(config.structures, list) and len(config.structures) == 2
            and all(isinstance(k, int) for k in config.structures)):
        raise UsageError("--structures takes two counts: monomials in dv/dt and in du/dt")
    return structure_variants(model, *config.structures, config.variants, config.seed)


@dataclass
class SweepPlan:
    variants: Variants
    evaluator: VariantEvaluator
    search: search.Search
    chunks: int
    mesh: object

    @property
    def generations(self) -> int:
        return self.chunks * CHUNK

    @property
    def evaluations(self) -> int:
        """Per variant and pattern."""
        return self.generations * self.search.population * self.search.restarts


def plan(config: SweepConfig, mesh=None) -> SweepPlan:
    model = family_model(config.model, config.model_options)
    variants = make_variants(config, model)
    base = Evaluator(model, patterns.select(config.patterns), dt=config.dt_ms, bounds=config.bounds)
    pinned = variants.pinned
    padded = sharding.padded_count(len(variants), mesh)
    pinned = np.concatenate([pinned, np.repeat(pinned[:1], padded - len(variants), axis=0)])  # dummies
    mask = ~np.isnan(pinned)
    unit = np.stack([base.model_space.to_unit({n: (x if m else d) for n, x, m, d in zip(
        base.model_space.names, row, row_mask, base.model_space.defaults().values())}, config.bounds)
        for row, row_mask in zip(pinned, mask)])
    evaluator = VariantEvaluator(base, unit.astype(np.float32), mask, mesh)
    population = config.population or default_population(base.dim)
    runner = search.Search(evaluator, search.get(config.strategy), population, config.restarts)
    per_chunk = CHUNK * population * config.restarts
    return SweepPlan(variants, evaluator, runner, max(1, config.budget // per_chunk), mesh)


def _starts(p: SweepPlan) -> np.ndarray:
    """Where each (variant, pattern)'s first restart begins: the model's defaults with the
    variant's pins (the other restarts start at random)."""
    base = p.evaluator.base
    starts = np.stack([base.encode_defaults(i) for i in range(len(base.patterns))])  # [P, dim]
    starts = np.broadcast_to(starts, (p.evaluator.n_variants,) + starts.shape)
    pinned = np.asarray(p.evaluator.pin(jnp.asarray(starts, jnp.float32)))
    return pinned.reshape(-1, base.dim)


def _progress(total, initial, enabled):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="gen", desc="sweep", file=sys.stderr,
                disable=not enabled, leave=False)


def run_search(config: SweepConfig, p: SweepPlan, out=None, resume=False, progress=True, stop_after=None):
    """Run (or continue) the batched search; returns (host copy of the final LoopState, chunks
    done, timings). With `out`, checkpoints after every chunk; `stop_after` (chunks) stops early
    as an interruption would."""
    n_runs = p.search.n_runs
    state = p.search.init(config.seed, jnp.asarray(_starts(p), jnp.float32))
    done, timings = 0, {"compile_s": 0.0, "search_s": 0.0}
    if resume and out is not None and (out / store.CHECKPOINT).exists():
        saved = store.load_checkpoint(out)
        state, done, timings = saved["state"], saved["chunks_done"], saved["timings"]
    state = sharding.shard_runs(state, p.mesh, n_runs)
    t0 = time.perf_counter()
    step = p.search.compile_chunk(state, CHUNK)
    timings["compile_s"] += time.perf_counter() - t0
    with _progress(p.generations, done * CHUNK, progress) as bar:
        for chunk in range(done, p.chunks):
            if stop_after is not None and chunk >= stop_after:
                break
            t0 = time.perf_counter()
            state, _ = step(state)
            jax.block_until_ready(state)
            timings["search_s"] += time.perf_counter() - t0
            done = chunk + 1
            bar.update(CHUNK)
            passed = sharding.to_host(state.best_passed)[: len(p.variants) * len(p.evaluator.base.patterns) * config.restarts]
            bar.set_postfix(passed=f"{passed.reshape(-1, config.restarts).any(1).mean():.0%}")
            if out is not None:
                store.save_checkpoint(out, {"state": sharding.to_host(state), "chunks_done": done, "timings": timings})
    return sharding.to_host(state), done, timings


def summarize(config: SweepConfig, p: SweepPlan, state, timings) -> tuple[dict, dict]:
    """(results document, arrays for sweep.npz) from the final loop state."""
    V, pats, R = len(p.variants), p.evaluator.base.patterns, config.restarts
    P = len(pats)
    keep = V * P * R  # drop the padding variants
    loss = state.best_loss[:keep].reshape(V, P, R)
    passed_runs = state.best_passed[:keep].reshape(V, P, R)
    rank = loss + np.where(passed_runs, 0.0, 1e6)
    best = rank.argmin(axis=2)
    best_loss = np.take_along_axis(loss, best[..., None], 2)[..., 0]
    passed = passed_runs.any(axis=2)
    z = state.best_z[:keep].reshape(V, P, R, -1)
    best_z = np.asarray(p.evaluator.pin(jnp.asarray(np.take_along_axis(z, best[..., None, None], 2)[:, :, 0])))
    gens = state.pass_generation[:keep].reshape(V, P, R)
    first = np.where(gens >= 0, gens, np.iinfo(np.int32).max).min(axis=2)
    per_gen = p.search.population * R
    evals_to_pass = np.where(passed, (first.astype(np.int64) + 1) * per_gen, -1)
    scores = passed.sum(axis=1)
    order = np.lexsort((best_loss.sum(axis=1), -scores))  # score first, then total loss

    base = p.evaluator.base
    names = base.model_space.names

    def variant_entry(v):
        entry = {"index": int(v), "label": p.variants.labels[v], "pinned": p.variants.pins(names, v),
                 "score": int(scores[v]), "patterns_passed": [q.name for q, ok in zip(pats, passed[v]) if ok],
                 "params": {}}
        for i, q in enumerate(pats):
            if passed[v, i]:
                params, gains = base.decode(jnp.asarray(best_z[v, i]), i)
                entry["params"][q.name] = {
                    "model": {k: float(x) for k, x in params.items()},
                    "stimulus": dict(zip(base.gain_spaces[i].names, map(float, np.asarray(gains)))),
                }
        return entry

    evaluations_total = p.evaluations * V * P
    neuron_steps = p.evaluator.neuron_steps_per_candidate() * p.generations * p.search.population * R * V
    search_s = timings["search_s"]
    results = {
        "kind": "sweep", "model": config.model, "model_options": config.model_options,
        "strategy": p.search.strategy.name, "seed": config.seed, "bounds": config.bounds, "dt_ms": config.dt_ms,
        "n_variants": V, "n_patterns": P, "population": p.search.population, "restarts": R,
        "generations": p.generations, "evaluations_per_variant_pattern": p.evaluations,
        "devices": 1 if p.mesh is None else p.mesh.size,
        "score_histogram": {str(k): int((scores == k).sum()) for k in range(P + 1)},
        "score_mean": float(scores.mean()), "score_max": int(scores.max()),
        "pattern_pass_fraction": {q.name: float(passed[:, i].mean()) for i, q in enumerate(pats)},
        "rarest_patterns": [pats[i].name for i in np.argsort(passed.mean(axis=0), kind="stable")[: min(5, P)]],
        "best_variants": [variant_entry(v) for v in order[:TOP]],
        "seconds": {k: round(x, 3) for k, x in timings.items()},
        "evaluations": evaluations_total,
        "evaluations_per_second": evaluations_total / search_s if search_s > 0 else None,
        "neuron_steps_per_second": neuron_steps / search_s if search_s > 0 else None,
    }
    arrays = {"passed": passed, "loss": best_loss, "best_z": best_z, "evaluations_to_pass": evals_to_pass,
              "scores": scores, "labels": np.array(p.variants.labels), "patterns": np.array([q.name for q in pats]),
              "pinned": p.variants.pinned, "param_names": np.array(names)}
    return results, arrays


def sweep(config: SweepConfig, out=None, resume=False, progress=True, stop_after=None, mesh=None) -> dict:
    """Run a sweep; with `out`, store it (run directory, sweep.npz, report, index rows)."""
    config.check()
    if resume and out is not None and (done := store.resume_finished(out, asdict(config), "sweep")) is not None:
        return done
    p = plan(config, mesh)
    if out is not None:
        store.open_run_dir(out, asdict(config), resume)
    state, done, timings = run_search(config, p, out, resume, progress, stop_after)
    if done < p.chunks:
        return {"interrupted": True, "generations_done": done * CHUNK}
    results, arrays = summarize(config, p, state, timings)
    if out is not None:
        _store(out, config, results, arrays)
    return results


def _store(out, config, results, arrays):
    from jaxplaus.sweep.report import write_report

    store.write_npz(out / "sweep.npz", arrays)
    write_report(out, results, arrays)
    store.finish(out, "sweep", results)


def index_rows(out, results: dict) -> list[dict]:
    """One index row per variant and pattern of a finished sweep (read from its sweep.npz)."""
    with np.load(Path(out) / "sweep.npz") as arrays:
        passed, loss, to_pass = arrays["passed"], arrays["loss"], arrays["evaluations_to_pass"]
        labels, names = arrays["labels"], arrays["patterns"]
    per_pattern_s = results["seconds"]["search_s"] / (results["n_variants"] * results["n_patterns"])
    return [
        {"run_dir": str(Path(out).resolve()), "kind": "sweep", "model": results["model"], "pattern": str(name),
         "strategy": results["strategy"], "seed": results["seed"], "budget": results["evaluations_per_variant_pattern"],
         "passed": int(passed[v, i]), "loss": float(loss[v, i]),
         "evaluations": int(to_pass[v, i]) if passed[v, i] else results["evaluations_per_variant_pattern"],
         "seconds": per_pattern_s, "evals_per_second": results["evaluations_per_second"],
         "variant": int(v), "variant_label": str(labels[v])}
        for v in range(results["n_variants"]) for i, name in enumerate(names)
    ]

