"""The main job: assess a neuron model on Izhikevich's patterns.

Two answers per pattern, each validated:
- **expressivity**: the best optimum anywhere in the search bounds;
- **plausibility**: the best optimum whose model parameters lie inside the physiological ranges
  and whose input and response stay within the model's physiological limits (`physiology.py`).

The search runs in phases. The first gives every pattern `restarts` runs of an evosax strategy
(all patterns and runs in one vmapped, jitted loop); with wide bounds, every other run searches
the physiological box (a small box inside the wide bounds that random starts would hardly ever
reach) for a physiological response. It ends when the patterns passing in the search stop
growing (or at half the budget). Its optima are validated (`validate.py`: a ladder of steps
down to dt/10, robustness, physiology). Up to two more phases spend the rest of the budget on
the patterns still unresolved (no converged optimum, or no physiological one), with fresh runs
of a larger population: the first of them half of what is left, the last the rest, so patterns
resolved in one stop consuming evaluations in the next. When most patterns are unresolved, a
program for them would cost as much to compile as the first phase's, so the first phase's runs
simply continue on all patterns instead.
`score` and `score_within_physiological` count the patterns with a converged optimum of each
kind.
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

from jaxplaus import features, models, patterns, physiology, search, simulate, store, validate
from jaxplaus.errors import UsageError
from jaxplaus.evaluate import Evaluator

RESTARTS = 8
# Differential evolution (rand/1/bin): the narrow optima of accommodation and the
# inhibition-induced patterns in Izhikevich's wide bounds are found at 4 or 5 of 5 seeds each
# in whole assessments, against 2 to 4 of 5 with CMA-ES at the same budget (docs/validation.md)
DEFAULT_STRATEGY = "de"
CHUNK = 8  # generations per jitted chunk (progress and checkpoints between chunks)
DEFAULT_BUDGET = 32768
# The first phase spends at most half the budget, and ends early once the patterns that pass in
# the search stop growing: at least an eighth of the budget, then a sixteenth without a new one.
FIRST_PHASE_SHARE = 0.5
FIRST_PHASE_MIN_SHARE = 1 / 8
FIRST_PHASE_PATIENCE_SHARE = 1 / 16
SECOND_PHASE_GENERATIONS = 256  # a run needs a few hundred generations to converge here
# After the first phase, rounds on the patterns still unresolved: each but the last spends half
# the budget left, so what one round resolves stops consuming evaluations in the next.
MAX_PHASES = 3
# Later phases' candidates must pass at dt and dt/4 (not dt/2): the patterns left for them
# are those whose optima tend to hold at the search's steps only, and one of the two steps
# nearer the ladder's finest makes its optima the ones that converge.
SECOND_PHASE_STEPS = (1, 4)
ROBUSTNESS_SAMPLES = validate.ROBUSTNESS_SAMPLES


@dataclass
class AssessConfig:
    model: str
    patterns: list = field(default_factory=lambda: list(patterns.names()))
    strategy: str = DEFAULT_STRATEGY
    budget: int = DEFAULT_BUDGET  # evaluations per pattern, on average (the whole run: budget x patterns)
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
            raise UsageError(f"bounds must be wide or physiological, got {self.bounds!r}")
        if isinstance(self.budget, bool) or not isinstance(self.budget, int) or self.budget <= 0:
            raise UsageError(f"budget must be a positive number of evaluations, got {self.budget}")
        if not (math.isfinite(self.dt_ms) and 0 < self.dt_ms <= simulate.MAX_DT_MS):
            raise UsageError(f"dt_ms must be in (0, {simulate.MAX_DT_MS:g}], got {self.dt_ms}")
        if self.population is not None and self.population < 4:
            raise UsageError(f"population must be at least 4, got {self.population}")
        if self.restarts < 1:
            raise UsageError(f"restarts must be at least 1, got {self.restarts}")
        if self.ipop and not search.get(self.strategy).supports_ipop:
            raise UsageError(f"ipop needs a strategy that adapts a search distribution; {self.strategy} does not")
        if self.ipop and self.restarts % 2:
            raise UsageError(f"ipop halves the parallel runs in each phase: restarts must be even, got {self.restarts}")


def default_population(dim: int) -> int:
    """CMA-ES's default lambda = 4 + floor(3 ln n), rounded up to an even number."""
    lam = 4 + int(3 * math.log(dim))
    return lam + lam % 2


@dataclass
class Phase:
    """One search phase: which patterns (indices into the assessment's), its search and length."""

    indices: tuple[int, ...]
    evaluator: Evaluator
    search: search.Search
    chunks: int
    continues: bool = False  # the first phase's runs, continued (generations count on from it)

    @property
    def generations(self) -> int:
        return self.chunks * CHUNK

    @property
    def evaluations_per_generation(self) -> int:
        """Per pattern."""
        return self.search.population * self.search.restarts

    @property
    def evaluations(self) -> int:
        """Per pattern of the phase."""
        return self.generations * self.evaluations_per_generation

    def describe(self) -> dict:
        return {"patterns": [self.evaluator.patterns[k].name for k in range(len(self.indices))],
                "restarts": self.search.restarts, "population": self.search.population,
                "generations": self.generations, "evaluations_per_pattern": self.evaluations}


@dataclass
class Plan:
    evaluator: Evaluator  # all patterns: the validator's cube
    first: Phase
    validator: validate.Validator
    has_physiology: bool

    @property
    def search(self) -> search.Search:  # the first phase's (kept for callers of plan())
        return self.first.search

    @property
    def generations(self) -> int:
        return self.first.generations


def _physiological_mode(config: AssessConfig, evaluator: Evaluator) -> str:
    """Which runs minimise the objective with the physiological limits (see search.Search)."""
    if physiology.of(evaluator.model) is None or not evaluator.model_space.has_physiological():
        return "none"
    if config.bounds == "physiological":
        return "all"
    return "odd" if config.physiological_runs else "none"


def _phase(config: AssessConfig, model, indices, population: int, evaluations_per_pattern: int,
           ipop: bool, modes=None, steps=None) -> Phase:
    """A search phase on the patterns `indices`; `modes` (one per pattern) says which runs are
    physiological (default: the configuration's, see `_physiological_mode`); `steps`, the step
    divisors a candidate must pass at (default dt and dt/2)."""
    selected = patterns.select(config.patterns)
    evaluator = Evaluator(model, tuple(selected[i] for i in indices), dt=config.dt_ms, bounds=config.bounds,
                          refinements=steps, limit_margin=physiology.SEARCH_MARGIN)
    modes = tuple(modes) if modes is not None else (_physiological_mode(config, evaluator),) * len(indices)
    per_chunk = CHUNK * population * config.restarts
    chunks = max(1, evaluations_per_pattern // per_chunk)
    in_sub_box = config.bounds == "wide" and set(modes) != {"none"}
    runner = search.Search(
        evaluator, search.get(config.strategy), population, config.restarts,
        ipop_generations=chunks * CHUNK if ipop else None,
        sub_box=evaluator.physiological_box() if in_sub_box else None, physiological=modes)
    return Phase(tuple(indices), evaluator, runner, chunks)


def plan(config: AssessConfig) -> Plan:
    model = models.get(config.model, **config.model_options)
    evaluator = Evaluator(model, patterns.select(config.patterns), dt=config.dt_ms, bounds=config.bounds)
    population = config.population or default_population(evaluator.dim)
    first = _phase(config, model, range(len(evaluator.patterns)), population,
                   int(config.budget * FIRST_PHASE_SHARE), config.ipop)
    has_physiology = physiology.of(model) is not None and evaluator.model_space.has_physiological()
    box = None
    if has_physiology:
        box = evaluator.physiological_box() or (np.zeros(evaluator.dim), np.ones(evaluator.dim))
    return Plan(evaluator, first, validate.Validator(evaluator, config.restarts, box), has_physiology)


def _next_phase(config: AssessConfig, p: Plan, verdicts: validate.Verdicts, spent: int, last: bool) -> Phase | None:
    """A round on the patterns still unresolved after `verdicts` (all phases so far, joined):
    half the budget left (all of it when `last`), a larger population (doubled while each run
    still gets SECOND_PHASE_GENERATIONS); a pattern that lacks only its physiological answer gets
    only physiological runs. With half the patterns or more unresolved, the first phase continues
    instead, on the whole budget left (no second program to compile)."""
    unresolved = _unresolved(p, verdicts)
    left = config.budget * len(p.evaluator.patterns) - spent
    if not unresolved or left <= 0:
        return None
    if 2 * len(unresolved) >= len(p.evaluator.patterns):
        per_chunk = CHUNK * p.first.evaluations_per_generation * len(p.evaluator.patterns)
        chunks = left // per_chunk
        return Phase(p.first.indices, p.first.evaluator, p.first.search, chunks, continues=True) if chunks else None
    population = p.first.search.population
    smallest = CHUNK * population * config.restarts * len(unresolved)
    share = left if last or left // 2 < smallest else left // 2
    per_pattern = share // len(unresolved)
    while per_pattern // (2 * population * config.restarts) >= SECOND_PHASE_GENERATIONS:
        population *= 2
    if per_pattern < CHUNK * population * config.restarts:
        return None
    mode = _physiological_mode(config, p.evaluator)
    wide_found = verdicts.converged.any(axis=1)
    modes = ["all" if mode == "odd" and wide_found[i] else mode for i in unresolved]
    return _phase(config, p.evaluator.model, unresolved, population, per_pattern, ipop=False, modes=modes,
                  steps=SECOND_PHASE_STEPS)


def _progress(total, initial, enabled, desc="assess"):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="gen", desc=desc, file=sys.stderr,
                disable=not enabled, leave=False)


def _start_state(config: AssessConfig, ph: Phase, stream: int, start=None):
    """Initial search state; the first run of each pattern starts from the model's defaults
    unless `start` ([patterns, restarts, dim], NaN rows at random) says otherwise."""
    if start is None:
        start = np.stack([ph.evaluator.encode_defaults(i) for i in range(len(ph.evaluator.patterns))])
    return ph.search.init(config.seed, jnp.asarray(start, jnp.float32), stream=stream)


def _next_phase_starts(p: Plan, second: Phase, outcome: dict, verdicts: validate.Verdicts) -> np.ndarray:
    """Where a later phase's runs begin, [its patterns, restarts, its dim] in its strategies'
    cube (NaN: at random), from the phases before (`outcome`, `verdicts`: see `_joined`). Optima
    tend to cluster across patterns of one model, so each pattern's runs of each kind (wide,
    physiological) begin at its own best candidate of that kind so far, then at the validated
    optima of other patterns (their model parameters with its own stimulus), the last one at
    random. The other optima are taken farthest first (`_spread`): a pattern the first phase
    missed often lives in a region of its own, such as Izhikevich's a < 0 cells, and the
    optima nearest its own best would start it where it failed."""
    n_model, dim2 = p.evaluator.n_model, second.evaluator.dim
    restarts = second.search.restarts
    wide_opt, phys_opt = validate.choose(verdicts, False), validate.choose(verdicts, True)
    low, high = second.search.sub_box if second.search.sub_box is not None else (np.zeros(dim2), np.ones(dim2))
    rows = {int(i): k for k, i in enumerate(outcome["indices"])}
    starts = np.full((len(second.indices), restarts, dim2), np.nan, np.float32)
    for j, i in enumerate(second.indices):
        own = outcome["z"][rows[i]]
        kinds = second.search.physiological_runs(restarts)[j]
        for physiological in (False, True):
            runs = np.nonzero(kinds == physiological)[0][:-1]  # the last one of a kind: at random
            mine = (outcome["physiological_runs"][rows[i]] == physiological) & np.isfinite(outcome["loss"][rows[i]])
            if not len(runs) or not mine.any():
                continue
            best_own = own[np.argmin(np.where(mine, outcome["loss"][rows[i]], np.inf))]
            chosen = phys_opt if physiological else wide_opt
            others = [outcome["z"][rows[q], chosen[q], :n_model]
                      for q in range(len(p.evaluator.patterns)) if q != i and chosen[q] >= 0 and q in rows]
            points = [best_own] + [np.concatenate([z, best_own[n_model:]])
                                   for z in _spread(best_own[:n_model], others, len(runs) - 1)]
            for run, z in zip(runs, points):
                if physiological and second.search.sub_box is not None:
                    z = np.concatenate([(z[:n_model] - low[:n_model]) / (high[:n_model] - low[:n_model]), z[n_model:]])
                starts[j, run] = np.clip(z[:dim2], 0.0, 1.0)
    return starts


def _spread(origin, points, k: int) -> list:
    """Up to k of `points` [dim] chosen one by one, each the farthest (Euclidean, in the cube)
    from `origin` and those chosen before it: a maximin design over the known optima."""
    chosen, left = [np.asarray(origin)], [np.asarray(x) for x in points]
    picked = []
    while left and len(picked) < k:
        gaps = [min(np.linalg.norm(x - c) for c in chosen) for x in left]
        best = left.pop(int(np.argmax(gaps)))
        chosen.append(best)
        picked.append(best)
    return picked


def _resolved_in_search(ph: Phase, state) -> int:
    """Patterns passing in the search so far, counted once per answer (wide, physiological)."""
    passed = np.asarray(state.best_passed).reshape(len(ph.indices), -1)
    physiological = passed & ph.search.physiological_runs(passed.shape[1])
    return int(passed.any(1).sum()) + int(physiological.any(1).sum())


def _stalled(progress: list[int], min_chunks: int, patience: int, total: int) -> bool:
    """The first phase may end: every answer found, or none new in `patience` chunks."""
    if not progress:
        return False
    if progress[-1] == total:
        return True
    return len(progress) >= max(min_chunks, patience + 1) and progress[-1] == progress[-1 - patience]


def _run_phase(config, ph: Phase, state, history, done, timings, progress, checkpoint, stop_after, desc,
               compiled: dict, progress_log=None, stall=None):
    """Advance a phase chunk by chunk from chunk `done`; returns (state, history, chunks done,
    finished). `compiled` keeps the compiled chunks by what each program depends on (a
    continued phase reuses the first's, a round on the same patterns the round's before); with
    `stall` (min chunks, patience, total), the phase also finishes when the answers found in
    the search (logged per chunk in `progress_log`) stop growing."""
    t0 = time.perf_counter()
    key = _program_key(ph)
    if key not in compiled:
        compiled[key] = ph.search.compile_chunk(state, CHUNK)
    step = compiled[key]
    timings["compile_s"] += time.perf_counter() - t0
    with _progress(ph.generations, done * CHUNK, progress, desc) as bar:
        for chunk in range(done, ph.chunks):
            if stop_after is not None and stop_after():
                return state, history, done, False
            if stall is not None and _stalled(progress_log, *stall):
                return state, history, done, True
            t0 = time.perf_counter()
            state, losses = step(state)
            losses = np.asarray(losses)
            timings["search_s"] += time.perf_counter() - t0
            history.append(losses)
            done = chunk + 1
            if progress_log is not None:
                progress_log.append(_resolved_in_search(ph, state))
            bar.update(CHUNK)
            bar.set_postfix(passed=int(np.asarray(state.best_passed).reshape(len(ph.indices), -1).any(1).sum()))
            checkpoint(state, history, done)
    return state, history, done, True


def _program_key(ph: Phase) -> tuple:
    """What a phase's compiled chunk depends on beyond the assessment's configuration (phases
    with equal keys run the same program)."""
    s = ph.search
    return ph.indices, s.population, s.modes, ph.evaluator.divisors, s.ipop_generations, s.sub_box is None


def _to_full_cube(p: Plan, ph: Phase, z):
    """Candidates [len(phase patterns), k, phase dim] -> the assessment's cube (unused gain
    coordinates at the centre)."""
    z = np.asarray(z)
    out = np.full(z.shape[:2] + (p.evaluator.dim,), 0.5, np.float32)
    out[..., : z.shape[-1]] = z
    return out


def _outcome(p: Plan, ph: Phase, state) -> dict:
    """A phase's per-run optima in the assessment's cube, [patterns of the phase, restarts, ...]."""
    n, r = len(ph.indices), ph.search.restarts
    return {"indices": np.asarray(ph.indices),
            "z": _to_full_cube(p, ph, np.asarray(state.best_z).reshape(n, r, -1)),
            "pass_generation": np.asarray(state.pass_generation).reshape(n, r),
            "loss": np.asarray(state.best_loss).reshape(n, r),
            "physiological_runs": ph.search.physiological_runs(r),
            "evaluations_per_generation": ph.evaluations_per_generation}


def _validate(p: Plan, outcome: dict) -> validate.Verdicts:
    """Verdicts [all patterns, restarts] of a phase's optima (patterns outside the phase get
    placeholder candidates, marked neither converged nor physiological)."""
    n_pat = len(p.evaluator.patterns)
    verdicts = p.validator.run(_placed(p, outcome))
    outside = np.ones(n_pat, bool)
    outside[outcome["indices"]] = False
    return verdicts._replace(converged=verdicts.converged & ~outside[:, None],
                             physiological=verdicts.physiological & ~outside[:, None],
                             loss=np.where(outside[:, None], np.inf, verdicts.loss))


def _joined(verdicts: list[validate.Verdicts]) -> validate.Verdicts:
    """Verdicts of several phases side by side, [patterns, phases x restarts, ...]."""
    return validate.Verdicts(*(np.concatenate(parts, axis=1) for parts in zip(*verdicts)))


def _merged(p: Plan, outcomes: list[dict]) -> dict:
    """Several phases' outcomes as one over all patterns, in `_joined`'s order (rows of patterns
    outside a phase: placeholders of infinite loss)."""
    fills = {"z": 0.5, "loss": np.inf, "physiological_runs": False}
    return {"indices": np.arange(len(p.evaluator.patterns)),
            **{key: np.concatenate([_placed(p, o, key, fill) for o in outcomes], axis=1) for key, fill in fills.items()}}


def _unresolved(p: Plan, verdicts: validate.Verdicts) -> list[int]:
    wide = verdicts.converged.any(axis=1)
    phys = verdicts.physiological.any(axis=1) if p.has_physiology else np.ones_like(wide)
    return [i for i in range(len(p.evaluator.patterns)) if not (wide[i] and phys[i])]


def assess(config: AssessConfig, out=None, resume=False, progress=True, stop_after=None) -> dict:
    """Run an assessment; with `out`, store it (run directory + index). Returns the results.

    With `out`, the search state is checkpointed after every chunk; `stop_after` (chunks, both
    phases together) ends early like an interruption would (tests use it)."""
    config.check()
    if resume and out is not None and (done := store.resume_finished(out, asdict(config), "assess")) is not None:
        return done
    p = plan(config)
    if out is not None:
        store.open_run_dir(out, asdict(config), resume)
    saved = store.load_checkpoint(out) if resume and out is not None and (out / store.CHECKPOINT).exists() else None
    timings = saved["timings"] if saved else {"compile_s": 0.0, "search_s": 0.0, "validation_s": 0.0}
    wait_for_validator = p.validator.compile_in_background()
    chunks_run = [0]
    compiled = {}

    def stopping():
        return stop_after is not None and chunks_run[0] >= stop_after

    def checkpointer(phase_number, extra):
        def save(state, history, done):
            chunks_run[0] += 1
            if out is not None:
                store.save_checkpoint(out, {"phase": phase_number, "state": jax.tree.map(np.asarray, state),
                                            "history": history, "chunks_done": done, "timings": timings, **extra})
        return save

    # phase 1, until the answers found stop growing
    first_saved = saved if saved and saved["phase"] == 1 else None
    if saved and saved["phase"] > 1:
        outcome1, history1 = saved["first"], saved["first_history"]
        p.first.chunks = len(history1)
    else:
        state = jax.tree.map(jnp.asarray, first_saved["state"]) if first_saved else _start_state(config, p.first, 0)
        history1 = first_saved["history"] if first_saved else []
        found = first_saved["found"] if first_saved else []
        done = first_saved["chunks_done"] if first_saved else 0
        state, history1, done, finished = _run_phase(
            config, p.first, state, history1, done, timings, progress, checkpointer(1, {"found": found}),
            stopping, "assess", compiled, found, _stall_rule(config, p))
        if not finished:
            return {"interrupted": True, "generations_done": done * CHUNK}
        p.first.chunks = done
        outcome1 = _outcome(p, p.first, state)
    t0 = time.perf_counter()
    wait_for_validator()  # compiled alongside the search
    timings["compile_s"] += time.perf_counter() - t0
    t0 = time.perf_counter()
    verdicts1 = _validate(p, outcome1)
    timings["validation_s"] += time.perf_counter() - t0

    # later phases: rounds on the patterns still unresolved
    phases, outcomes, verdicts, histories = [p.first], [outcome1], [verdicts1], [history1]
    restored = saved["previous"] if saved and saved["phase"] > 2 else []  # (outcome, history) of phases 2..
    while len(phases) < MAX_PHASES:
        number = len(phases) + 1
        spent = sum(ph.evaluations * len(ph.indices) for ph in phases)
        ph = _next_phase(config, p, _joined(verdicts), spent, last=number == MAX_PHASES)
        if ph is None:
            break
        if number - 2 < len(restored):  # finished before the interruption
            outcome, history = restored[number - 2]
            ph.chunks = len(history)
        else:
            here = saved if saved and saved["phase"] == number else None
            if here:
                state = jax.tree.map(jnp.asarray, here["state"])
            elif not ph.continues:  # (a continued first phase goes on from its own state)
                start = _next_phase_starts(p, ph, _merged(p, outcomes), _joined(verdicts))
                state = _start_state(config, ph, number - 1, start)
            history = here["history"] if here else []
            done = here["chunks_done"] if here else 0
            previous = list(zip(outcomes[1:], histories[1:]))
            state, history, done, finished = _run_phase(
                config, ph, state, history, done, timings, progress,
                checkpointer(number, {"first": outcome1, "first_history": history1, "previous": previous}),
                stopping, f"assess: {len(ph.indices)} unresolved", compiled)
            if not finished:
                return {"interrupted": True,
                        "generations_done": (sum(q.chunks for q in phases) + done) * CHUNK}
            outcome = _outcome(p, ph, state)
        t0 = time.perf_counter()
        verdicts.append(_validate(p, outcome))
        timings["validation_s"] += time.perf_counter() - t0
        phases.append(ph)
        outcomes.append(outcome)
        histories.append(history)

    results = _results(config, p, phases, outcomes, verdicts, timings)
    if out is not None:
        _store(out, config, results, _history(p, list(zip(phases, histories))))
    return results


def _stall_rule(config: AssessConfig, p: Plan) -> tuple[int, int, int]:
    """(min chunks, patience in chunks, answers to find) of the first phase's early end."""
    per_chunk = CHUNK * p.first.evaluations_per_generation
    min_chunks = math.ceil(config.budget * FIRST_PHASE_MIN_SHARE / per_chunk)
    patience = max(1, math.ceil(config.budget * FIRST_PHASE_PATIENCE_SHARE / per_chunk))
    answers = len(p.evaluator.patterns) * (2 if set(p.first.search.modes) != {"none"} else 1)
    return min_chunks, patience, answers


def _history(p: Plan, histories) -> dict:
    """Per generation and pattern, the best loss so far over the pattern's runs and the
    evaluations spent on the pattern so far (patterns outside a phase keep theirs)."""
    n_pat = len(p.evaluator.patterns)
    best, spent = np.full(n_pat, np.inf), np.zeros(n_pat)
    rows_best, rows_spent = [], []
    for ph, chunks in histories:
        if not chunks:
            continue
        losses = np.concatenate(chunks).reshape(-1, len(ph.indices), ph.search.restarts).min(axis=2)
        for row in losses:
            best[list(ph.indices)] = np.minimum(best[list(ph.indices)], row)
            spent[list(ph.indices)] += ph.evaluations_per_generation
            rows_best.append(best.copy())
            rows_spent.append(spent.copy())
    return {"best_loss": np.asarray(rows_best), "evaluations": np.asarray(rows_spent),
            "patterns": np.array([q.name for q in p.evaluator.patterns])}


def _optimum(p: Plan, i: int, z, verdicts: validate.Verdicts, k: int, physiological: bool, box,
             robustness: float) -> dict:
    """One chosen optimum of pattern i: parameters, stimulus, validation on the ladder."""
    ev = p.evaluator
    params, gains = ev.decode(jnp.asarray(z, jnp.float32), i)
    names = ev.gain_spaces[i].names
    dt = [p.evaluator.dt / d for d in validate.LADDER]
    labels = list(ev.model_space.names) + list(names)
    on_bounds = validate.on_bounds(z[: len(labels)], ev.n_model, box if physiological else None)
    return {
        "params": {n: float(v) for n, v in params.items()},
        "stimulus": dict(zip(names, (float(g) for g in np.asarray(gains)[: len(names)]))),
        "loss": float(verdicts.loss[i, k]),
        "validation": {
            "converged": bool(verdicts.converged[i, k]),
            "ladder_dt_ms": dt,
            "passed_per_dt": [bool(x) for x in verdicts.passed[i, k]],
            "spikes_per_dt": [int(x) for x in verdicts.n_spikes[i, k]],
            "within_limits_per_dt": [bool(x) for x in verdicts.limits_ok[i, k]],
            "robustness": float(robustness),
            "robustness_samples": ROBUSTNESS_SAMPLES,
            "within_physiological": bool(verdicts.physiological[i, k]) if p.has_physiology else None,
        },
        "on_search_bound": [labels[j] for j in on_bounds],
    }


def _warnings(p: Plan, i: int, entry: dict, response) -> list[str]:
    """What a reader of this optimum should know: parameters on a search bound, more spikes than
    the feature buffer, an unphysiological input or response (for a model with a physiology)."""
    out = []
    if entry["on_search_bound"]:
        where = "the physiological box" if entry["validation"]["within_physiological"] else "the search range"
        out.append(f"on a bound of {where}: " + ", ".join(entry["on_search_bound"]))
    spikes = int(response.n_spikes)
    if spikes > features.MAX_SPIKES:
        out.append(f"{spikes} spikes, more than the feature buffer's {features.MAX_SPIKES}: only the first are judged")
    phys = physiology.of(p.evaluator.model)
    if phys is not None:
        pattern = p.evaluator.patterns[i]
        gains = np.asarray(list(entry["stimulus"].values()), np.float32)
        peak = float(physiology.peak_input(p.evaluator.input_breakpoints[i], gains))
        limit = float(phys.input_limit({k: jnp.float32(v) for k, v in entry["params"].items()}))
        if peak > limit:
            out.append(f"peak input {peak:.4g} above the physiological {limit:.4g} ({phys.input_unit})")
        shortest = float(physiology.shortest_interval(response))
        if shortest < phys.min_interval_ms:
            out.append(f"shortest interval {shortest:.3g} ms, below {phys.min_interval_ms:g} ms")
        if phys.voltage_range is not None:
            low, high = (float(x) for x in physiology.voltage_extremes(response, pattern.protocol.duration_ms))
            if low < phys.voltage_range[0] or high > phys.voltage_range[1]:
                out.append(f"v from {low:.4g} to {high:.4g} mV, outside {list(phys.voltage_range)} mV")
    return out


def _results(config, p: Plan, phases, outcomes, verdicts, timings) -> dict:
    ev = p.evaluator
    n_pat = len(ev.patterns)
    # every candidate of every phase, side by side: [patterns, phases x restarts]
    z = np.concatenate([_placed(p, o) for o in outcomes], axis=1)
    joined = _joined(verdicts)
    wide, phys = validate.choose(joined, False), validate.choose(joined, True)
    evaluations = np.zeros(n_pat, int)
    first_pass = np.full(n_pat, -1)
    for ph, outcome in zip(phases, outcomes):
        idx = list(ph.indices)
        gens = outcome["pass_generation"]
        reached = np.where(gens >= 0, gens, np.iinfo(np.int32).max).min(axis=1)
        # a continued phase counts generations on from the first one's
        generations = ph.generations + (phases[0].generations if ph.continues else 0)
        for j, i in enumerate(idx):
            if first_pass[i] < 0 and reached[j] < generations:
                before = 0 if ph.continues else evaluations[i]
                first_pass[i] = before + (reached[j] + 1) * ph.evaluations_per_generation
        evaluations[idx] += ph.evaluations
    box = p.validator.box
    # nothing converged: show the candidate of lowest loss
    shown = np.where(wide >= 0, wide, np.argmin(joined.loss, axis=1))
    z_wide = z[np.arange(n_pat), shown]
    z_phys = np.where((phys >= 0)[:, None], z[np.arange(n_pat), np.maximum(phys, 0)], z_wide)
    t0 = time.perf_counter()
    robust, robust_phys = p.validator.robustness(z_wide, z_phys, config.seed)
    timings["validation_s"] += time.perf_counter() - t0
    chosen, per_pattern = [], {}
    for i, pattern in enumerate(ev.patterns):
        w = _optimum(p, i, z_wide[i], joined, shown[i], False, box, robust[i])
        ph_entry = (_optimum(p, i, z_phys[i], joined, phys[i], True, box, robust_phys[i]) | {"passed": True}
                    if phys[i] >= 0 else None)
        v = w["validation"]
        per_pattern[pattern.name] = {
            "letter": pattern.letter,
            "input_class": pattern.input_class,
            "passed": bool(wide[i] >= 0),
            "loss": w["loss"],
            "params": w["params"],
            "stimulus": w["stimulus"],
            "evaluations": int(evaluations[i]),
            "evaluations_to_pass": int(first_pass[i]) if first_pass[i] >= 0 else None,
            "validation": {**v, "passed_at_dt": v["passed_per_dt"][0], "passed_at_half_dt": v["passed_per_dt"][1]},
            "on_search_bound": w["on_search_bound"],
            "physiological": ph_entry if p.has_physiology else None,
        }
        chosen.append((i, per_pattern[pattern.name]))
        if ph_entry is not None:
            chosen.append((i, ph_entry))
    traces = simulate.full_resolution(
        ev.model, [e["params"] for _, e in chosen], [ev.patterns[i].protocol.pieces for i, _ in chosen],
        [list(e["stimulus"].values()) for _, e in chosen], [ev.dt] * len(chosen),
        [ev.patterns[i].protocol.duration_ms for i, _ in chosen])
    for (i, entry), resp in zip(chosen, traces):
        times = np.asarray(resp.spike_times)
        entry["spike_times_ms"] = [round(float(t), 4) for t in times[np.isfinite(times)]]
        entry["warnings"] = _warnings(p, i, entry, resp)
    total_evals = int(evaluations.sum())
    return {
        "model": config.model,
        "model_options": config.model_options,
        "strategy": p.first.search.strategy.name,
        "seed": config.seed,
        "bounds": config.bounds,
        "dt_ms": config.dt_ms,
        "budget": config.budget,
        "population": p.first.search.population,
        "restarts": p.first.search.restarts,
        "ipop": config.ipop,
        "phases": [ph._asdict() for ph in p.first.search.phases],
        "search_phases": [ph.describe() for ph in phases],
        "generations": sum(ph.generations for ph in phases),
        "evaluations": total_evals,  # what the search ran: whole chunks of generations, not the budget
        "evaluations_per_pattern": total_evals / n_pat,
        "score": int((wide >= 0).sum()),
        "score_within_physiological": int((phys >= 0).sum()) if p.has_physiology else None,
        "physiology": physiology.of(ev.model).describe() if p.has_physiology else None,
        "ladder_dt_ms": [config.dt_ms / d for d in validate.LADDER],
        "n_patterns": n_pat,
        "seconds": {k: round(v, 3) for k, v in timings.items()},
        "evaluations_per_second": total_evals / timings["search_s"] if timings["search_s"] > 0 else None,
        "patterns": per_pattern,
        "provenance": store.provenance(),
    }


def _placed(p: Plan, outcome: dict, key: str = "z", fill=0.5):
    """A phase's `outcome[key]` at its patterns' rows [all patterns, restarts, ...]; `fill` for
    the patterns outside the phase."""
    values = np.asarray(outcome[key])
    out = np.full((len(p.evaluator.patterns),) + values.shape[1:], fill, values.dtype)
    out[outcome["indices"]] = values
    return out


def _store(out, config, results, history):
    from jaxplaus.report import write_report

    store.write_npz(out / "history.npz", history)
    write_report(out, results, history)
    store.finish(out, "assess", results)


def index_rows(out, results: dict) -> list[dict]:
    """One index row per pattern of a finished assessment."""
    return [
        {
            "run_dir": str(Path(out).resolve()), "kind": "assess", "model": results["model"], "pattern": name,
            "strategy": results["strategy"], "seed": results["seed"], "budget": results["budget"],
            "passed": int(r["passed"]), "loss": r["loss"], "evaluations": r["evaluations_to_pass"] or r["evaluations"],
            "seconds": results["seconds"]["search_s"] / results["n_patterns"],
            "evals_per_second": results["evaluations_per_second"], "bounds": results["bounds"],
            "robustness": r["validation"]["robustness"],
            "physiological": None if r["physiological"] is None else int(r["physiological"]["passed"]),
        }
        for name, r in results["patterns"].items()
    ]
