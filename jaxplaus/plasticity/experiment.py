"""A stored meta-learning run: config -> run directory, checkpoints every generation, results,
figures and a row in the run index. `config` is the validated dict of `jaxplaus metalearn`."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from jaxplaus import store
from jaxplaus.plasticity import analysis
from jaxplaus.plasticity.metalearn import Search, covariance, heldout, make_evaluator, make_strategy, run_search
from jaxplaus.plasticity.network import get_network
from jaxplaus.plasticity.rules import get_rule, vogels2011
from jaxplaus.plasticity.tasks import get_task


def build(config: dict):
    """(search, network, task) for a validated config."""
    net = get_network(config["network"])
    rule = get_rule(config["rule"])
    overrides = {}
    if config.get("train_s") is not None:
        overrides["train_range"] = tuple(config["train_s"])
    if config.get("score_s") is not None and config["task"] == "stability":
        overrides["score_s"] = config["score_s"]
    task = get_task(config["task"], config["network"], **overrides)
    strategy, params = make_strategy(config["strategy"], config["population"], rule.n_params, config["sigma"])
    # runs stored before the option existed drew their trials independently
    evaluate = make_evaluator(net, rule, task, config["trials"], config["connectivity"] == "trial",
                              config.get("trial_draws", "independent"))
    return Search(strategy, params, evaluate, rule), net, task


def initial_mean(config: dict, rule) -> np.ndarray:
    if config["init"] == "vogels":
        return np.array(vogels2011() * len(rule.projections), np.float32)
    return np.zeros(rule.n_params, np.float32)


def run_experiment(config: dict, out: Path, resume: bool = False, figures: bool = True, stop_after=None, progress=True) -> dict:
    if resume and (done := store.resume_finished(out, config, "metalearn")) is not None:
        return done
    search, net, task = build(config)
    resuming = store.open_run_dir(out, config, resume)
    checkpoint = store.load_checkpoint(out) if resuming else None
    if checkpoint is not None:
        print(f"resuming {out} at generation {len(checkpoint['history'])}", file=sys.stderr)
    t0 = time.perf_counter()
    state, history = run_search(
        search,
        config["seed"],
        config["generations"],
        initial_mean(config, search.rule),
        checkpoint=lambda doc: store.save_checkpoint(out, doc),
        resume_from=checkpoint,
        stop_after=stop_after,
        progress=progress,
    )
    if len(history) < config["generations"]:  # stopped early on purpose (tests): no results yet
        return {"run_dir": str(out), "generations": history, "finished": False}
    document = results(config, search, state, history, out, time.perf_counter() - t0)
    if config.get("heldout_trials"):
        document["final_rule"]["heldout"] = check_final_rule(config, search.rule, net, task, document["final_rule"],
                                                             progress)
    if figures:
        from jaxplaus.plasticity.figures import save_all

        document["figures"] = save_all(out, document, net, search.rule, task, initial_mean(config, search.rule))
    store.finish(out, "metalearn", document)
    return document


def index_rows(out, document: dict) -> list[dict]:
    """The run's row; the index keeps the best estimate of the final rule: the held-out one when
    there is one."""
    config = store.load_json(Path(out) / store.CONFIG)
    final = document["final_rule"].get("heldout", document["final_rule"])
    return [{
        "run_dir": str(Path(out).resolve()), "kind": "metalearn", "model": config["network"], "pattern": config["task"],
        "strategy": config["strategy"], "seed": config["seed"], "budget": config["generations"],
        "loss": final["loss"], "evaluations": document["network_simulations"], "seconds": document["seconds"],
        "evals_per_second": document["network_simulations"] / max(document["seconds"], 1e-9),
        "rule": config["rule"], "fixed_point_hz": final["fixed_point_hz"],
    }]


def check_final_rule(config: dict, rule, net, task, final_rule: dict, progress: bool) -> dict:
    """The final rule on `heldout_trials` fresh trials: loss, rates and fixed point."""
    t0 = time.perf_counter()
    if progress:  # one more batch, like a generation's, with its own compilation
        print(f"evaluating the final rule on {config['heldout_trials']} fresh trials", file=sys.stderr)
    theta = [final_rule["params"][name] for name in rule.names()]
    check = heldout(net, rule, task, theta, config["heldout_trials"], config["connectivity"] == "trial", config["seed"])
    check["fixed_point_hz"] = analysis.fixed_points(rule, theta, check["rate_e_hz"], check["rate_i_hz"])
    check["seconds"] = time.perf_counter() - t0
    return check


def results(config, search: Search, state, history, out: Path, seconds: float) -> dict:
    rule = search.rule
    mean = np.asarray(history[-1]["mean"])
    last = history[-1]
    cov = covariance(state)
    return {
        "run_dir": str(out),
        "task": config["task"],
        "rule": config["rule"],
        "network": config["network"],
        "strategy": config["strategy"],
        "seed": config["seed"],
        "generations": history,
        "loss_per_generation": [r["loss"] for r in history],
        "final_rule": {
            "params": dict(zip(rule.names(), mean.tolist())),
            "loss": last["loss"],
            "rate_e_hz": last["mean_rate_e"],
            "rate_i_hz": last["mean_rate_i"],
            "fixed_point_hz": analysis.fixed_points(rule, mean, last["mean_rate_e"], last["mean_rate_i"]),
            "best_ever": {
                "params": dict(zip(rule.names(), np.asarray(state.best_solution).tolist())),
                "loss": float(state.best_fitness),
            },
        },
        "covariance": cov.tolist(),
        "correlation": analysis.correlation(cov).tolist(),
        "spectrum": analysis.spectrum(cov),
        "network_simulations": len(history) * (config["population"] + 1) * config["trials"],
        "seconds": seconds,
    }
