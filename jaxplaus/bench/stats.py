"""Benchmark statistics of the optimization-benchmarking community (COCO, IOHprofiler).

A run is summarised by its evaluations to success (`inf` if it never reached the target within
its budget) and its budget. From a set of runs of one sampler on one problem:

- success rate at a budget b: the fraction of runs that succeeded within b evaluations;
- ECDF of evaluations-to-success: success rate as a function of b (COCO's runtime ECDF);
- ERT, the expected running time (Hansen et al., COCO): evaluations spent by all runs (a failed
  run counts its whole budget) divided by the number of successes. It is the expected cost of
  reaching the target by restarting independent runs until one succeeds, and stays comparable
  between samplers run with different budgets. Its uncertainty: a percentile bootstrap over runs.
"""

from __future__ import annotations

import numpy as np

BOOTSTRAP = 1000


def success_rate(evals: np.ndarray, budget: float) -> float:
    """Fraction of runs with evaluations-to-success <= budget."""
    evals = np.asarray(evals, float)
    return float((evals <= budget).mean()) if evals.size else float("nan")


def ecdf(evals: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Success rate at each budget of `grid` (a runtime ECDF)."""
    evals = np.asarray(evals, float)
    return (evals[None, :] <= np.asarray(grid, float)[:, None]).mean(axis=1)


def ert(evals: np.ndarray, budgets: np.ndarray) -> float:
    """Expected running time: sum of spent evaluations / successes (inf without a success)."""
    evals, budgets = np.asarray(evals, float), np.broadcast_to(np.asarray(budgets, float), np.shape(evals))
    success = np.isfinite(evals) & (evals <= budgets)
    if not success.any():
        return float("inf")
    return float(np.where(success, evals, budgets).sum() / success.sum())


def ert_interval(evals: np.ndarray, budgets: np.ndarray, level: float = 0.95, seed: int = 0,
                 samples: int = BOOTSTRAP) -> tuple[float, float]:
    """Percentile bootstrap interval of the ERT (resampling runs with replacement); an upper end
    of inf means that in more than (1 - level)/2 of the resamples no run succeeded."""
    evals = np.asarray(evals, float)
    budgets = np.broadcast_to(np.asarray(budgets, float), evals.shape)
    n = evals.size
    if n == 0:
        return float("nan"), float("nan")
    pick = np.random.default_rng(seed).integers(0, n, size=(samples, n))
    e, b = evals[pick], budgets[pick]
    success = np.isfinite(e) & (e <= b)
    spent = np.where(success, e, b).sum(axis=1)
    count = success.sum(axis=1)
    values = np.where(count > 0, spent / np.maximum(count, 1), np.inf)
    tail = (1 - level) / 2
    with np.errstate(invalid="ignore"):  # quantiles between inf resamples: inf - inf
        low, high = np.quantile(values, tail), np.quantile(values, 1 - tail)
    return float(low), float(high if not np.isnan(high) else np.inf)


def rank(ert_values: dict, success: dict) -> dict:
    """Ranks of samplers on one problem: lower ERT first, ties (e.g. all inf) broken by higher
    success rate; equal keys share the mean of their positions."""
    keys = {s: (ert_values[s], -success[s]) for s in ert_values}
    ordered = sorted(keys, key=keys.get)
    ranks, i = {}, 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and keys[ordered[j + 1]] == keys[ordered[i]]:
            j += 1
        for s in ordered[i:j + 1]:
            ranks[s] = (i + j) / 2 + 1
        i = j + 1
    return ranks
