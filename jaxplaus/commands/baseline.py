"""`jaxplaus baseline optuna ...`: the source paper's path (Optuna + Norse), stored and indexed
like a jaxplaus run so strategies and speeds can be compared on equal budgets."""

from __future__ import annotations

import sys
from pathlib import Path

from jaxplaus.adapters.optuna_space import SAMPLERS
from jaxplaus.cli import add_json_flag
from jaxplaus.commands._common import model_from_args
from jaxplaus.errors import UsageError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "baseline",
        help="run the source paper's approach (Optuna trial by trial on Norse simulations)",
        description="Baselines for comparison with jaxplaus's batched search.",
    )
    kinds = parser.add_subparsers(dest="baseline", metavar="BASELINE", parser_class=type(parser))
    kinds.required = True
    optuna = kinds.add_parser(
        "optuna",
        help="Optuna sampler, one Norse simulation per trial, jaxplaus's objective and validator",
        description="Searches the model's parameters and the pattern's stimulus gains with an Optuna sampler; "
        "each trial is one Norse simulation. Stores the run and indexes it (kind 'baseline'). "
        "Needs torch, norse and optuna (cmaes for --sampler cmaes).",
    )
    optuna.add_argument("--model", required=True, help="lif, adex, izhikevich or norse_lif/norse_adex/norse_izhikevich")
    optuna.add_argument("--model-options", default=None, help='model options as JSON, e.g. {"u_uses_new_v": false}')
    optuna.add_argument("--pattern", required=True, help="pattern name or letter, e.g. tonic_spiking or A")
    optuna.add_argument("--sampler", required=True, help=f"one of {', '.join(SAMPLERS)}")
    optuna.add_argument("--trials", type=int, required=True, help="number of trials (= evaluations)")
    optuna.add_argument("--seed", type=int, default=0)
    optuna.add_argument("--dt-ms", type=float, default=0.25)
    optuna.add_argument("--bounds", default="wide", help="wide or physiological")
    optuna.add_argument("--single-step", action="store_true",
                        help="score each trial at dt only (the paper's one simulation per trial); default: dt and dt/2 as assess")
    optuna.add_argument("--out", type=Path, default=None,
                        help="run directory (default: runs/baseline-optuna-<sampler>-<model>-<pattern>-s<seed>-<date>-<time>)")
    add_json_flag(optuna)
    optuna.set_defaults(handler=run_optuna, render=render)


def run_optuna(args) -> dict:
    from jaxplaus import patterns
    from jaxplaus.adapters import require

    if args.sampler not in SAMPLERS:
        raise UsageError(f"unknown sampler {args.sampler!r}; choose from {', '.join(SAMPLERS)}")
    if args.trials < 1:
        raise UsageError(f"--trials must be at least 1, got {args.trials}")
    if args.bounds not in ("wide", "physiological"):
        raise UsageError(f"unknown --bounds {args.bounds!r}; choose wide or physiological")
    _, options = model_from_args(args)
    pattern = patterns.select([args.pattern])[0].name  # a letter, as every command takes, or a name
    require("baseline optuna", "torch", "norse", "optuna", *(("cmaes",) if args.sampler == "cmaes" else ()))
    from jaxplaus.adapters import optuna_baseline

    return optuna_baseline.run(
        args.model, pattern, args.sampler, args.trials, args.seed, args.dt_ms, args.out, options, args.bounds,
        progress=lambda line: print(line, file=sys.stderr), half_step=not args.single_step)


def render(doc: dict) -> str:
    (name, entry), = doc["patterns"].items()
    return (f"{doc['strategy']} on {doc['model']} / {name}: passed={entry['passed']} loss={entry['loss']:.4g} "
            f"after {doc['evaluations']} trials in {doc['seconds']:.1f} s ({doc['evals_per_second']:.3g} evaluations/s, "
            f"Norse); first pass at trial {entry['first_pass_trial']}; stored in {doc['run_dir']}")
