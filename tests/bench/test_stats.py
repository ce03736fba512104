"""Benchmark statistics against hand-computed values (COCO definitions)."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxplaus.bench import stats

INF = math.inf


def test_ert_counts_failed_runs_at_their_budget():
    # successes after 10 and 30 evaluations, two failures with budget 100: (10 + 30 + 200) / 2
    assert stats.ert([10, 30, INF, INF], 100) == 120.0
    assert stats.ert([10, 30], [100, 100]) == 20.0
    assert stats.ert([INF, INF], 100) == INF
    # a success beyond its run's budget is not a success
    assert stats.ert([150, 10], [100, 100]) == 110.0


def test_success_rate_and_ecdf():
    evals = np.array([5, 20, 20, INF])
    assert stats.success_rate(evals, 20) == 0.75
    np.testing.assert_allclose(stats.ecdf(evals, [1, 5, 19, 20, 1e9]), [0, 0.25, 0.25, 0.75, 0.75])


def test_ranks_break_ties_by_success_and_share_equal_places():
    ranks = stats.rank({"a": 50.0, "b": INF, "c": INF, "d": 50.0}, {"a": 0.5, "b": 0.0, "c": 0.0, "d": 0.5})
    assert ranks == {"a": 1.5, "d": 1.5, "b": 3.5, "c": 3.5}
    assert stats.rank({"a": 10.0, "b": 5.0}, {"a": 1.0, "b": 1.0}) == {"b": 1, "a": 2}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.integers(1, 1000).map(float), st.just(INF)), min_size=1, max_size=30))
def test_bootstrap_interval_brackets_the_estimate(evals):
    evals = np.array(evals)
    point = stats.ert(evals, 1000.0)
    low, high = stats.ert_interval(evals, 1000.0, samples=400)
    assert low <= point <= high or (point == INF and high == INF)
    if np.isfinite(evals).all():  # all runs succeeded: every resample's ERT is a mean of run times
        assert evals.min() <= low and high <= evals.max()
