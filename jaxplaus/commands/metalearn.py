"""`jaxplaus metalearn`: meta-learn a plasticity rule in the E/I network (Confavreux et al.
2025)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from jaxplaus.cli import add_json_flag
from jaxplaus.errors import UsageError

TASKS = ("stability", "familiarity")
NETWORKS = ("small", "full")
INITS = ("zero", "vogels")


def register(subparsers) -> None:
    from jaxplaus.plasticity.rules import RULES

    parser = subparsers.add_parser(
        "metalearn",
        help="meta-learn a synaptic plasticity rule in a recurrent E/I spiking network",
        description="Search plasticity-rule parameters with an evosax strategy; every generation's "
        "candidates x trials are simulated in one vmapped call.",
    )
    parser.add_argument("--task", default="stability", help=f"one of {', '.join(TASKS)} (default stability)")
    parser.add_argument("--rule", default="ie6", help=f"one of {', '.join(r for r in RULES if r != 'static')}")
    parser.add_argument("--network", default="small", help="small (800 E + 200 I) or full (8000 E + 2000 I)")
    parser.add_argument("--strategy", default="CMA_ES", help="evosax distribution-based algorithm (default CMA_ES)")
    parser.add_argument("--generations", type=int, default=None, help="default 24 (small) / 100 (full)")
    parser.add_argument("--population", type=int, default=10)
    parser.add_argument("--trials", type=int, default=None, help="trials per candidate (default 2 small / 10 full)")
    parser.add_argument(
        "--heldout-trials",
        type=int,
        default=None,
        help="fresh trials on which the final rule is evaluated after the search "
        "(default (population + 1) x trials, one generation's batch; 0: none)",
    )
    parser.add_argument("--sigma", type=float, default=1.0, help="initial search step size (default 1.0)")
    parser.add_argument("--init", default="zero", help="zero (no plasticity) or vogels (Vogels 2011 on each type)")
    parser.add_argument("--train-s", type=float, nargs=2, default=None, metavar=("LOW", "HIGH"), help="training seconds, drawn uniformly per trial")
    parser.add_argument("--score-s", type=float, default=None, help="scoring window (stability task)")
    parser.add_argument(
        "--connectivity",
        default=None,
        help="'trial' (redrawn per trial, default on full) or 'generation' (shared by the trials of a generation; default on small, ~2.5x faster on CPU)",
    )
    parser.add_argument(
        "--trial-draws",
        default="stratified",
        help="'stratified' (default: each generation's trials take w_max and input rate from a Latin "
        "hypercube over their ranges) or 'independent' (each trial draws them on its own); "
        "held-out trials are always independent",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None,
                        help="run directory (default: runs/metalearn-<task>-<rule>-<network>-seed<seed>-<date>-<time>)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the unfinished run in --out (one killed while starting starts)")
    parser.add_argument("--no-figures", action="store_true", help="skip the figures (saves a few simulations)")
    add_json_flag(parser)
    parser.set_defaults(handler=run, render=render)


def _finite_positive(name, value, allow_zero=False):
    if value is None:
        return
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise UsageError(f"--{name} must be a positive number, got {value}")


def config_from_args(args) -> dict:
    """Validate everything and build the run's config (nothing is written here)."""
    from jaxplaus.plasticity.metalearn import TRIAL_DRAWS, make_strategy
    from jaxplaus.plasticity.rules import RULES

    if args.task not in TASKS:
        raise UsageError(f"unknown task {args.task!r}; choose from {', '.join(TASKS)}")
    if args.rule not in RULES or args.rule == "static":
        raise UsageError(f"unknown rule {args.rule!r}; choose from {', '.join(r for r in RULES if r != 'static')}")
    if args.network not in NETWORKS:
        raise UsageError(f"unknown network {args.network!r}; choose from {', '.join(NETWORKS)}")
    if args.init not in INITS:
        raise UsageError(f"unknown --init {args.init!r}; choose from {', '.join(INITS)}")
    if args.init == "vogels" and args.rule in ("poly21", "mlp"):
        raise UsageError("--init vogels needs a co-active rule (ie6, ee6, ei6, ii6, eeie12, all24)")
    small = args.network == "small"
    generations = args.generations if args.generations is not None else (24 if small else 100)
    trials = args.trials if args.trials is not None else (2 if small else 10)
    for name, value in (("generations", generations), ("population", args.population), ("trials", trials)):
        if value < 1:
            raise UsageError(f"--{name} must be at least 1, got {value}")
    heldout_trials = args.heldout_trials if args.heldout_trials is not None else (args.population + 1) * trials
    if heldout_trials < 0:
        raise UsageError(f"--heldout-trials must be at least 0, got {heldout_trials}")
    if args.population < 2:
        raise UsageError(f"--population must be at least 2, got {args.population}")
    _finite_positive("sigma", args.sigma)
    _finite_positive("score-s", args.score_s)
    if args.train_s is not None:
        low, high = args.train_s
        if not (math.isfinite(low) and math.isfinite(high)) or low < 0 or high < low:
            raise UsageError(f"--train-s needs 0 <= LOW <= HIGH, got {low} {high}")
    connectivity = args.connectivity or ("generation" if small else "trial")
    if connectivity not in ("trial", "generation"):
        raise UsageError(f"--connectivity must be 'trial' or 'generation', got {connectivity!r}")
    if args.trial_draws not in TRIAL_DRAWS:
        raise UsageError(f"--trial-draws must be one of {', '.join(TRIAL_DRAWS)}, got {args.trial_draws!r}")
    from jaxplaus.plasticity.rules import get_rule

    make_strategy(args.strategy, args.population, get_rule(args.rule).n_params, args.sigma)
    return {
        "task": args.task,
        "rule": args.rule,
        "network": args.network,
        "strategy": args.strategy,
        "generations": generations,
        "population": args.population,
        "trials": trials,
        "heldout_trials": heldout_trials,
        "sigma": args.sigma,
        "init": args.init,
        "train_s": list(args.train_s) if args.train_s is not None else None,
        "score_s": args.score_s,
        "connectivity": connectivity,
        "trial_draws": args.trial_draws,
        "seed": args.seed,
    }


def default_out(config: dict) -> Path:
    from jaxplaus.store import default_run_dir

    return default_run_dir(f"metalearn-{config['task']}-{config['rule']}-{config['network']}-seed{config['seed']}")


def run(args) -> dict:
    config = config_from_args(args)
    out = args.out if args.out is not None else default_out(config)
    from jaxplaus.plasticity.experiment import run_experiment

    return run_experiment(config, Path(out), resume=args.resume, figures=not args.no_figures)


def render(document: dict) -> str:
    lines = [f"metalearn {document['task']} / {document['rule']} / {document['network']}  ->  {document['run_dir']}"]
    for record in document["generations"]:
        lines.append(f"  generation {record['generation']:4d}  loss {record['loss']:.4g}  best {record['best_loss']:.4g}")
    final = document["final_rule"]
    lines.append("final rule (mean of the search distribution):")
    lines += [f"  {name:>22s} = {value:.4g}" for name, value in final["params"].items()]
    if final.get("fixed_point_hz"):
        lines.append(f"  mean-field fixed point: {final['fixed_point_hz']}")
    lines.append(f"final loss {final['loss']:.4g}; correlation spectrum largest share {document['spectrum']['largest_share']:.2f}")
    check = final.get("heldout")
    if check:
        sem = f" +- {check['loss_sem']:.2g}" if check["loss_sem"] is not None else ""
        rate = f"{check['rate_e_hz']:.3g} Hz" if check["rate_e_hz"] is not None else "-"
        lines.append(f"held out: loss {check['loss']:.4g}{sem} over {check['trials']} fresh trials "
                     f"({check['blown_fraction']:.0%} blown up), E rate {rate}, fixed point {check['fixed_point_hz']}")
    return "\n".join(lines)
