"""The source paper's path as a baseline: Optuna proposes one candidate per trial, Norse
simulates it, jaxplaus's objective scores it.

Same search space as `jaxplaus assess` (the model's bounds, log where declared, plus the
pattern's stimulus gains), same stimulus, same objective and validator (scored on the same
1 ms blocks, at dt and dt/2, as `evaluate.Evaluator`); only the simulator (Norse, one neuron per trial, via
`norse_counterpart`'s mapping) and the optimizer differ. The result is stored like an assess
run (config.json, results.json) and indexed, so `jaxplaus runs` lists both side by side.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import optuna

from jaxplaus import models, store
from jaxplaus import patterns as P
from jaxplaus.adapters import norse as norse_adapter
from jaxplaus.adapters import torch_model
from jaxplaus.adapters.optuna_space import SAMPLERS, TrialSpace, make_sampler  # noqa: F401 (re-exported)
from jaxplaus.errors import UsageError
from jaxplaus.models.norse import norse_counterpart


class NorseObjective:
    """One trial: Optuna's values -> Norse simulation -> jaxplaus loss (and pass/fail)."""

    def __init__(self, model, pattern: P.Pattern, dt_ms: float, bounds: str = "wide", block_ms: float = 1.0,
                 half_step: bool = True):
        self.model, self.pattern, self.dt_ms, self.block_ms = model, pattern, dt_ms, block_ms
        self.half_step = half_step  # as `jaxplaus assess`: validated at dt and dt/2 (two Norse runs)
        self.space = TrialSpace(model, pattern, bounds)
        try:
            norse_counterpart(model, model.param_space.defaults(), dt_ms)
        except TypeError:
            raise UsageError(f"model {model.name!r} has no Norse counterpart; choose lif, adex, izhikevich "
                             "or a norse_* model") from None

    def suggest(self, trial) -> tuple[dict, list]:
        return self.space.suggest(trial)

    def evaluate(self, params: dict, gains: list) -> tuple[float, bool]:
        mapped = norse_counterpart(self.model, params, self.dt_ms)
        loss, passed = torch_model.evaluate(
            norse_adapter.neuron(mapped.model.name), self.pattern,
            {k: [v] for k, v in mapped.params.items()}, [gains], self.dt_ms, self.block_ms,
            drive_scale=mapped.input_gain, half_step=self.half_step)
        return float(loss[0]), bool(passed[0])

    def spike_times_ms(self, params: dict, gains: list) -> list[float]:
        mapped = norse_counterpart(self.model, params, self.dt_ms)
        resp, _ = torch_model.full_response(
            norse_adapter.neuron(mapped.model.name), self.pattern, {k: [v] for k, v in mapped.params.items()},
            [[g * mapped.input_gain for g in gains]], self.dt_ms)
        times = np.asarray(resp.spike_times)[0]
        return [round(float(t), 6) for t in times[np.isfinite(times)]]


def run(model_name: str, pattern_name: str, sampler: str, trials: int, seed: int = 0, dt_ms: float = 0.25,
        out=None, model_options=None, bounds: str = "wide", progress=None, half_step: bool = True) -> dict:
    """Run the baseline, store it (run dir + index) and return its results document."""
    if trials < 1:
        raise UsageError(f"--trials must be at least 1, got {trials}")
    if not (math.isfinite(dt_ms) and dt_ms > 0):
        raise UsageError(f"--dt-ms must be positive, got {dt_ms}")
    model_options = model_options or {}
    model, pattern = models.get(model_name, **model_options), P.get(pattern_name)
    objective = NorseObjective(model, pattern, dt_ms, bounds, half_step=half_step)
    strategy = f"optuna-{sampler}"
    make_sampler(sampler, seed)  # validates the name before anything is written
    out = Path(out) if out else store.default_run_dir(f"baseline-{strategy}-{model_name}-{pattern_name}-s{seed}")
    config = {"kind": "baseline", "model": model_name, "model_options": model_options, "strategy": strategy,
              "seed": seed, "budget": trials, "bounds": bounds, "dt_ms": dt_ms, "patterns": [pattern_name],
              "simulator": "norse", "half_step": half_step}
    store.open_run_dir(out, config, resume=False)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=make_sampler(sampler, seed))
    first_pass, best_loss = [], [math.inf]

    def trial_fn(trial):
        params, gains = objective.suggest(trial)
        loss, passed = objective.evaluate(params, gains)
        trial.set_user_attr("passed", passed)
        if passed and not first_pass:
            first_pass.append(trial.number)
        best_loss[0] = min(best_loss[0], loss)
        if progress and (trial.number + 1) % max(1, trials // 10) == 0:
            progress(f"trial {trial.number + 1}/{trials}: best loss {best_loss[0]:.4g}")
        return loss

    # compile the stimulus and scoring functions once, outside the timed trials: a one-off cost
    # of this wrapper that the paper's own loop does not pay
    objective.evaluate(objective.model.param_space.defaults(),
                       [g.default for g in pattern.protocol.gain_space(model.current_scale).params])
    start = time.perf_counter()
    study.optimize(trial_fn, n_trials=trials)
    seconds = time.perf_counter() - start

    best = study.best_trial
    params = {n: best.params[n] for n, *_ in objective.space.model_params}
    gain_names = [n for n, *_ in objective.space.gain_params]
    gains = [best.params[n] for n in gain_names]
    passed = bool(best.user_attrs["passed"])
    rate = trials / seconds
    entry = {
        "passed": passed, "loss": float(best.value), "params": params,
        "stimulus": dict(zip(gain_names, gains)),
        "spike_times_ms": objective.spike_times_ms(params, gains),
        "evaluations": trials, "best_trial": best.number,
        "first_pass_trial": first_pass[0] if first_pass else None,
    }
    results = {**config, "score": int(passed), "evaluations": trials, "seconds": seconds,
               "evals_per_second": rate, "patterns": {pattern_name: entry}}
    store.finish(out, "baseline", results)
    return {"run_dir": str(out), **results}


def index_rows(out, results: dict) -> list[dict]:
    """The run's row (its one pattern)."""
    (pattern, entry), = results["patterns"].items()
    first = entry["first_pass_trial"]
    return [{
        "run_dir": str(Path(out).resolve()), "kind": "baseline", "model": results["model"], "pattern": pattern,
        "strategy": results["strategy"], "seed": results["seed"], "budget": results["evaluations"],
        "passed": int(entry["passed"]), "loss": entry["loss"],
        # as for assess runs: evaluations until the first pass, or all of them
        "evaluations": first + 1 if first is not None else results["evaluations"],
        "seconds": results["seconds"], "evals_per_second": results["evals_per_second"],
        "simulator": results.get("simulator", "norse"), "dt_ms": results["dt_ms"],
    }]
