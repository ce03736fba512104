"""`jaxplaus bench samplers`: runs, resume, statistics and outputs on a tiny benchmark."""

import numpy as np
import pytest

from jaxplaus import search, store
from jaxplaus.bench import BenchConfig, bench, competitors
from jaxplaus.bench.samplers import TunedStrategy, run
from jaxplaus.cli import main
from jaxplaus.errors import UsageError
from jaxplaus.store import query_results, read_json

TINY = dict(models=["izhikevich"], patterns=["tonic_spiking", "spike_latency"], strategies=["cma_es", "random_search"],
            seeds=3, budgets=[24, 96], seed=2)


def test_competitors_sweep_hyperparameters_only_where_they_exist():
    config = BenchConfig(**{**TINY, "populations": [8, 12], "step_sizes": [0.1, 0.3]})
    names = [s.name for s in competitors(config)]
    assert names == ["cma_es(pop=8, step=0.1)", "cma_es(pop=8, step=0.3)", "cma_es(pop=12, step=0.1)",
                     "cma_es(pop=12, step=0.3)", "random_search(pop=8)", "random_search(pop=12)"]
    _, params = TunedStrategy(search.get("cma_es"), 0.1).build(8, 5)
    assert float(params.std_init) == pytest.approx(0.1)


def test_bench_resumed_equals_uninterrupted_and_is_stored(tmp_path):
    whole = run(BenchConfig(**TINY), progress=False)
    assert whole["finished"] and len(whole["records"]) == 2 * 3 * 2
    out = tmp_path / "bench"
    first = bench(BenchConfig(**TINY), out=out, progress=False, stop_after=3)
    assert first["interrupted"] and (out / store.CHECKPOINT).exists()
    results = bench(BenchConfig(**TINY), out=out, resume=True, progress=False)
    drop = lambda records: [{k: v for k, v in r.items() if k != "seconds"} for r in records]  # noqa: E731
    assert drop(read_json(out / "runs.json")) == drop(whole["records"])
    for name in ("index.html", "success_vs_budget.png", "ert.png", "ranks.png", "ranking.md", "results.json"):
        assert (out / name).exists(), name
    assert not (out / store.CHECKPOINT).exists()
    # statistics agree with the runs they summarize
    for row in results["ranking"]:
        runs = [r for r in whole["records"] if r["sampler"] == row["sampler"]]
        evals = [r["evaluations_to_success"] for r in runs]
        assert row["runs"] == 6 and row["success_rate"] == pytest.approx(np.mean([e is not None for e in evals]))
        for b in TINY["budgets"]:
            assert row["success_rate_at"][str(b)] == pytest.approx(np.mean([e is not None and e <= b for e in evals]))
        # evaluations-to-success are whole generations of a run
        pop = runs[0]["population"]
        assert all(e % pop == 0 and 0 < e <= 96 for e in evals if e is not None)
    for row in results["by_model"]:  # one model here: the same rates as the ranking's
        runs = [r for r in whole["records"] if r["sampler"] == row["sampler"] and r["model"] == row["model"]]
        assert row["success_rate_at"] == {str(b): np.mean([r["evaluations_to_success"] is not None
                                                          and r["evaluations_to_success"] <= b for r in runs])
                                          for b in TINY["budgets"]}
    assert "Success rate within the same number of evaluations" in (out / "ranking.md").read_text()
    # izhikevich reaches tonic spiking easily: someone must succeed
    assert any(r["evaluations_to_success"] for r in whole["records"] if r["pattern"] == "tonic_spiking")
    rows = [r for r in query_results(kind="bench") if r["run_dir"] == str(out.resolve())]
    assert len(rows) == 12 and {r["strategy"] for r in rows} == {"cma_es", "random_search"}


@pytest.mark.parametrize("change, message", [
    (dict(budgets=[96, 24]), "increasing"),
    (dict(strategies=["nope"]), "unknown strategy"),
    (dict(populations=[2]), "at least 4"),
    (dict(optuna=["nope"]), "Optuna sampler"),
    (dict(optuna=["tpe"], optuna_simulator="brian2"), "optuna-simulator"),
])
def test_bad_configurations(change, message):
    with pytest.raises(UsageError, match=message):
        BenchConfig(**{**TINY, **change}).check()


def test_cli_bad_arguments_exit_2(tmp_path, capsys):
    assert main(["bench", "samplers", "--budgets", "0", "--out", str(tmp_path / "x")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
    assert main(["bench", "nope"]) == 2


OPTUNA = dict(models=["izhikevich"], patterns=["tonic_spiking", "spike_latency"], strategies=[], optuna=["tpe"],
              optuna_budget=14, seeds=2, seed=1)


def test_optuna_studies_in_lockstep_are_the_studies_optimize_would_run():
    """All (pattern, seed) studies advance one trial per round and are scored in one batch; each must
    still be the study `study.optimize` runs alone (stopped at its first pass), trial for trial."""
    import optuna

    from jaxplaus import models, patterns
    from jaxplaus.adapters.optuna_space import TrialSpace, make_sampler
    from jaxplaus.bench.samplers import optuna_scorer

    config = BenchConfig(**OPTUNA)
    records = run(config, progress=False)["records"]
    assert [(r["pattern"], r["seed"]) for r in records] == [(p, k) for p in OPTUNA["patterns"] for k in (0, 1)]
    assert any(r["evaluations_to_success"] for r in records)  # some study stops early...
    assert any(r["evaluations_to_success"] is None for r in records)  # ...and some runs to its budget
    score, _ = optuna_scorer(config, "izhikevich", OPTUNA["patterns"], [0, 1])
    for record in records:
        i, k = OPTUNA["patterns"].index(record["pattern"]), record["seed"]
        space = TrialSpace(models.get("izhikevich"), patterns.get(record["pattern"]))
        study, first_pass = optuna.create_study(sampler=make_sampler("tpe", config.seed + k)), []

        def objective(trial):
            loss, passed = score({(i, k): space.suggest(trial)})[(i, k)]
            if passed:
                first_pass.append(trial.number + 1)
                trial.study.stop()
            return loss

        study.optimize(objective, n_trials=config.optuna_budget)
        assert record["evaluations_to_success"] == (first_pass[0] if first_pass else None)
        assert record["loss"] == study.best_value


def test_optuna_trials_can_be_scored_by_norse():
    pytest.importorskip("norse")
    config = BenchConfig(**{**OPTUNA, "patterns": ["tonic_spiking"], "seeds": 1, "optuna_budget": 3,
                            "optuna_simulator": "norse"})
    records = run(config, progress=False)["records"]
    assert len(records) == 1 and records[0]["budget"] == 3 and np.isfinite(records[0]["loss"])


def test_success_by_model_compares_samplers_at_equal_evaluations_within_their_budgets():
    from jaxplaus.bench.report import by_model

    config = BenchConfig(**{**TINY, "optuna": ["tpe"], "optuna_budget": 50})
    run = lambda sampler, evals, budget: {"model": "izhikevich", "sampler": sampler,  # noqa: E731
                                          "evaluations_to_success": evals, "budget": budget}
    records = [run("cma_es", 20, 96), run("cma_es", 90, 96), run("cma_es", None, 96),
               run("optuna-tpe", 10, 50), run("optuna-tpe", None, 50)]
    rows = {r["sampler"]: r["success_rate_at"] for r in by_model(config, records)}
    assert rows["cma_es"] == {"24": pytest.approx(1 / 3), "50": pytest.approx(1 / 3), "96": pytest.approx(2 / 3)}
    assert rows["optuna-tpe"] == {"24": 0.5, "50": 0.5, "96": None}  # no run had 96 evaluations
