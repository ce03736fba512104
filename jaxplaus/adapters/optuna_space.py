"""Optuna's samplers over jaxplaus's search space, with no simulator attached.

A trial suggests the model's parameters (its bounds, log where declared) and the pattern's
stimulus gains by name and in their own units, as the source paper's scripts do. Who scores the
trial is the caller's choice: Norse in `optuna_baseline.NorseObjective`, jaxplaus's own batched
evaluator in `jaxplaus bench samplers` (`Evaluator.encode_defaults` maps a suggestion to the
point of the evaluator's unit cube that decodes to the same values). Optuna is imported only
when a sampler is made, so this module needs neither Optuna nor torch to import.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from jaxplaus.errors import UsageError

SAMPLERS = ("random", "cmaes", "tpe")


def make_sampler(name: str, seed: int):
    import optuna

    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    raise UsageError(f"unknown sampler {name!r}; choose from {', '.join(SAMPLERS)}")


@dataclass(frozen=True, eq=False)
class TrialSpace:
    """What one trial suggests for `pattern` on `model`: (name, low, high, log) of each model
    parameter and each stimulus gain."""

    model: object
    pattern: object
    bounds: str = "wide"

    @cached_property
    def model_params(self) -> list[tuple[str, float, float, bool]]:
        space = self.model.param_space
        low, high = space.bounds(self.bounds)
        return [(p.name, float(lo), float(hi), p.log) for p, lo, hi in zip(space.params, low, high)]

    @cached_property
    def gain_params(self) -> list[tuple[str, float, float, bool]]:
        gains = self.pattern.protocol.gain_space(self.model.current_scale)
        return [(g.name, float(g.low), float(g.high), g.log) for g in gains.params]

    def suggest(self, trial) -> tuple[dict, list]:
        """(model parameters by name, stimulus gains in the protocol's order)."""
        suggest = lambda n, lo, hi, log: trial.suggest_float(n, lo, hi, log=log)  # noqa: E731
        params = {n: suggest(n, lo, hi, log) for n, lo, hi, log in self.model_params}
        gains = [suggest(n, lo, hi, log) for n, lo, hi, log in self.gain_params]
        return params, gains
