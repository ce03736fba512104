"""`jaxplaus bench ...`: benchmarks. `bench samplers`: strategies x models x patterns x seeds on a
ladder of budgets -> success-vs-budget curves, runtime ECDFs, ERT with bootstrap CIs, rankings."""

from pathlib import Path

from jaxplaus import search, store
from jaxplaus.bench import samplers as B
from jaxplaus.cli import add_json_flag, positive_float
from jaxplaus.errors import UsageError


def register(sub):
    parser = sub.add_parser("bench", help="benchmarks (samplers: which optimizer reaches the patterns, how fast)")
    benches = parser.add_subparsers(dest="benchmark", metavar="BENCHMARK", parser_class=type(parser))
    benches.required = True
    s = benches.add_parser("samplers", help="strategies x models x patterns x seeds at a ladder of budgets")
    s.add_argument("--models", nargs="+", default=["izhikevich", "adex", "lif"])
    s.add_argument("--patterns", nargs="+", default=None, metavar="P", help="names or letters (default: all 20)")
    s.add_argument("--strategies", nargs="*", default=list(B.DEFAULT_STRATEGIES),
                   help=f"evosax strategies, any of: {', '.join(search.names())}")
    s.add_argument("--optuna", nargs="*", default=[], metavar="SAMPLER",
                   help="Optuna samplers, trial by trial (ask/tell): tpe, cmaes, random")
    s.add_argument("--seeds", type=int, default=10, help="independent runs per model, pattern and sampler")
    s.add_argument("--budgets", type=int, nargs="+", default=[256, 1024, 4096], help="evaluations per run (ladder)")
    s.add_argument("--optuna-budget", type=int, default=100, help="trials per Optuna run")
    s.add_argument("--optuna-seeds", type=int, default=None, help="runs per Optuna sampler (default: --seeds)")
    s.add_argument("--optuna-simulator", choices=B.OPTUNA_SIMULATORS, default="jax",
                   help="who scores Optuna's trials: jax (jaxplaus's evaluator, one call per round of all "
                        "studies; default) or norse (the source paper's simulator, one trial at a time)")
    s.add_argument("--populations", type=int, nargs="+", default=None, help="sweep the population size")
    s.add_argument("--step-sizes", type=float, nargs="+", default=None,
                   help="sweep the initial step size (fraction of the search box's side)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--bounds", default="wide")
    s.add_argument("--dt-ms", type=positive_float, default=0.25)
    s.add_argument("--devices", type=int, default=None, help="split the runs over this many devices (default: all)")
    s.add_argument("--distributed", action="store_true", help="join a multi-host job first")
    s.add_argument("--out", type=Path, default=None,
                   help="output directory (default: runs/bench-samplers-<date>-<time>)")
    s.add_argument("--resume", action="store_true",
                   help="continue the interrupted benchmark in --out (one killed while starting starts)")
    s.add_argument("--no-progress", action="store_true")
    add_json_flag(s)
    s.set_defaults(handler=run_samplers, render=render_samplers)


def run_samplers(args):
    from jaxplaus import patterns
    from jaxplaus.commands.sweep import mesh_from_args

    config = B.BenchConfig(
        models=args.models, patterns=[p.name for p in patterns.select(args.patterns)], strategies=args.strategies,
        seeds=args.seeds, budgets=args.budgets, populations=args.populations, step_sizes=args.step_sizes,
        optuna=args.optuna, optuna_budget=args.optuna_budget, optuna_seeds=args.optuna_seeds,
        optuna_simulator=args.optuna_simulator, seed=args.seed,
        bounds=args.bounds, dt_ms=args.dt_ms)
    config.check()
    if args.resume and args.out is None:
        raise UsageError("--resume needs the --out directory of the interrupted benchmark")
    mesh = mesh_from_args(args)
    out = args.out or store.default_run_dir("bench-samplers")
    results = B.bench(config, out=out, resume=args.resume, progress=not args.no_progress, mesh=mesh)
    results["out"] = str(out)
    return results


def render_samplers(doc):
    from jaxplaus.bench.report import ranking_markdown

    s = doc["seconds"]
    return (ranking_markdown(doc) + f"\ncompile {s['compile_s']:.1f} s, search {s['search_s']:.1f} s; "
            f"figures and page: {doc['out']}/index.html")
