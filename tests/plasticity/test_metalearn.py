"""Meta-learning runs: strategies by name, interruption + resume reproduces an uninterrupted
run, results land in the run index; stratified trial draws."""

import math

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxplaus import store
from jaxplaus.errors import UsageError
from jaxplaus.plasticity import analysis
from jaxplaus.plasticity.experiment import run_experiment
from jaxplaus.plasticity.metalearn import make_evaluator, make_strategy, stratified_quantiles
from jaxplaus.plasticity.network import PRESETS, draw_trial

CONFIG = {
    "task": "stability",
    "rule": "ie6",
    "network": "small",
    "strategy": "CMA_ES",
    "generations": 3,
    "population": 3,
    "trials": 1,
    "heldout_trials": 2,
    "sigma": 0.5,
    "init": "vogels",
    "train_s": [0.3, 0.4],
    "score_s": 0.2,
    "connectivity": "generation",
    "trial_draws": "stratified",
    "seed": 3,
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("JAXPLAUS_HOME", str(home))
    whole = run_experiment(CONFIG, home / "whole", figures=False, progress=False)
    partial = run_experiment(CONFIG, home / "split", figures=False, progress=False, stop_after=1)
    with pytest.raises(UsageError):  # an unfinished run is only continued on request
        run_experiment(CONFIG, home / "split", figures=False, progress=False)
    resumed = run_experiment(CONFIG, home / "split", resume=True, figures=False, progress=False)
    rows = store.query_results(kind="metalearn")
    yield whole, partial, resumed, rows
    mp.undo()


def test_interrupted_then_resumed_run_equals_uninterrupted(runs):
    whole, partial, resumed, _ = runs
    assert partial["finished"] is False and len(partial["generations"]) == 1
    assert resumed["loss_per_generation"] == whole["loss_per_generation"]
    assert [g["mean"] for g in resumed["generations"]] == [g["mean"] for g in whole["generations"]]
    np.testing.assert_array_equal(resumed["covariance"], whole["covariance"])


def test_results_document_and_index(runs):
    whole, _, _, rows = runs
    assert len(whole["loss_per_generation"]) == 3
    assert all(np.isfinite(whole["loss_per_generation"]))
    assert set(whole["final_rule"]["params"]) == {f"IE.{n}" for n in ("log_tau_pre", "log_tau_post", "alpha", "beta", "gamma", "kappa")}
    assert np.asarray(whole["covariance"]).shape == (6, 6)
    assert {r["run_dir"] for r in rows} >= {whole["run_dir"]} and all(r["kind"] == "metalearn" for r in rows)


def test_final_rule_is_evaluated_on_fresh_trials(runs):
    whole, _, resumed, rows = runs
    check = whole["final_rule"]["heldout"]
    assert check["trials"] == 2 and len(check["losses"]) == 2
    assert len(check["blown"]) == 2 and np.isclose(check["blown_fraction"], np.mean(check["blown"]))
    assert np.isclose(check["loss"], np.mean(check["losses"])) and check["loss_sem"] >= 0
    assert resumed["final_rule"]["heldout"]["losses"] == check["losses"]  # same seed, same fresh trials
    row = next(r for r in rows if r["run_dir"] == whole["run_dir"])
    assert row["loss"] == check["loss"]


def test_correlation_and_spectrum_of_a_rank_one_covariance():
    v = np.array([1.0, -2.0, 0.5])
    cov = np.outer(v, v) + 1e-9 * np.eye(3)
    corr = analysis.correlation(cov)
    np.testing.assert_allclose(np.diag(corr), 1.0)
    assert corr[0, 1] == pytest.approx(-1.0, abs=1e-6)
    assert analysis.spectrum(cov)["largest_share"] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("name", ["CMA_ES", "sep_cma_es", "SNES", "Open_ES"])
def test_strategies_by_name(name):
    strategy, params = make_strategy(name, 6, 6, 0.3)
    assert strategy.population_size == 6


def test_unknown_strategy_is_a_usage_error():
    with pytest.raises(UsageError):
        make_strategy("NoSuchES", 6, 6, 0.3)


@settings(max_examples=25, deadline=None)
@given(n_trials=st.integers(1, 40), seed=st.integers(0, 2**31 - 1))
def test_stratified_quantiles_put_one_trial_in_each_stratum_of_every_dimension(n_trials, seed):
    q = np.asarray(stratified_quantiles(jax.random.PRNGKey(seed), n_trials))
    assert q.shape == (n_trials, 2) and np.all((q >= 0) & (q < 1))
    for column in q.T:
        assert sorted(np.floor(column * n_trials).astype(int)) == list(range(n_trials))


def test_trial_quantiles_place_w_max_and_input_rate_in_their_ranges():
    net = PRESETS["small"]
    low = draw_trial(jax.random.PRNGKey(0), net, (0.0, 0.0))
    mid = draw_trial(jax.random.PRNGKey(0), net, (0.5, 0.75))
    assert float(low.w_max) == pytest.approx(2.0) and float(low.input_rate) == pytest.approx(1.0)
    assert float(mid.w_max) == pytest.approx(math.sqrt(6.0), rel=1e-6)  # log-uniform: geometric midpoint
    assert float(mid.input_rate) == pytest.approx(4.0)
    # the rest of the trial comes from the key alone
    free = draw_trial(jax.random.PRNGKey(0), net)
    np.testing.assert_array_equal(np.asarray(mid.weights["IE"]), np.asarray(free.weights["IE"]))


def test_unknown_trial_draws_is_a_usage_error():
    with pytest.raises(UsageError):
        make_evaluator(PRESETS["small"], None, None, 2, False, "latin")
