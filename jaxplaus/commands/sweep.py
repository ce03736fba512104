"""`jaxplaus sweep`: assess many variants of a model family in one batched search."""

import sys
from pathlib import Path

from jaxplaus import patterns, search, store
from jaxplaus import sweep as S
from jaxplaus.cli import add_json_flag, json_argument, positive_float
from jaxplaus.errors import UsageError


def register(sub):
    parser = sub.add_parser(
        "sweep", help="assess many variants of a model (pinned parameters or polynomial structures) at once",
        description="Variants: --grid '{\"a\": [0, 2, 4], \"b\": [0, 0.05]}' (every combination), "
                    "--random '{\"a\": [0, 4]}' --variants N (random draws), or --model polynomial "
                    "--structures 2 2 [--variants N] (monomial sets of the N2D2 family).")
    parser.add_argument("--model", required=True, help="a model name, or 'polynomial' for the N2D2 family")
    parser.add_argument("--model-options", metavar="JSON", help="model variant options as JSON")
    parser.add_argument("--grid", metavar="JSON", help="parameter: [values] to pin, every combination")
    parser.add_argument("--random", metavar="JSON", help="parameter: [low, high] to pin at random draws")
    parser.add_argument("--structures", type=int, nargs=2, metavar=("V", "U"),
                        help="polynomial structures with V monomials in dv/dt and U in du/dt")
    parser.add_argument("--variants", type=int, default=None, help="number of random draws / sampled structures")
    parser.add_argument("--patterns", nargs="+", default=None, metavar="P", help="names or letters (default: all 20)")
    parser.add_argument("--strategy", default="cma_es", help=f"one of: {', '.join(search.names())}")
    parser.add_argument("--budget", type=int, default=S.DEFAULT_BUDGET, help="evaluations per variant and pattern")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bounds", default="wide", help="wide or physiological")
    parser.add_argument("--dt-ms", type=positive_float, default=0.25)
    parser.add_argument("--population", type=int, default=None)
    parser.add_argument("--restarts", type=int, default=S.RESTARTS, help="parallel runs per variant and pattern")
    parser.add_argument("--devices", type=int, default=None,
                        help="split the runs over this many local devices (default: all)")
    parser.add_argument("--distributed", action="store_true",
                        help="join a multi-host job first (jax.distributed.initialize from the environment)")
    parser.add_argument("--out", type=Path, default=None,
                        help="run directory (default: runs/sweep-<model>-<date>-<time>)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the interrupted sweep in --out (one killed while starting starts)")
    parser.add_argument("--no-progress", action="store_true")
    add_json_flag(parser)
    parser.set_defaults(handler=run, render=render)


def _json_object(text, flag):
    value = json_argument(text, flag)
    if value is not None and not isinstance(value, dict):
        raise UsageError(f"{flag} must be a JSON object")
    return value


def mesh_from_args(args):
    """The device mesh for --devices (None: one device, no sharding), over all processes' devices
    with --distributed (joined by `cli.main` before anything else)."""
    from jaxplaus import sharding

    mesh = sharding.mesh_of(args.devices)
    if mesh is not None and sharding.fills_cpu_pool(mesh.devices.flat):
        print(f"jaxplaus: warning: {mesh.size} CPU devices, one per core or more: jaxlib's batched eigh "
              "(in CMA-ES's update) can then wait for ever on a busy thread pool; --devices 1 avoids it "
              "(see docs/sweep.md)", file=sys.stderr)
    return mesh


def run(args):
    selected = [p.name for p in patterns.select(args.patterns)]
    config = S.SweepConfig(
        model=args.model, model_options=_json_object(args.model_options, "--model-options") or {},
        grid=_json_object(args.grid, "--grid"), random=_json_object(args.random, "--random"),
        structures=list(args.structures) if args.structures else None, variants=args.variants,
        patterns=selected, strategy=args.strategy, budget=args.budget, seed=args.seed, bounds=args.bounds,
        dt_ms=args.dt_ms, population=args.population, restarts=args.restarts)
    config.check()
    if args.resume and args.out is None:
        raise UsageError("--resume needs the --out directory of the interrupted sweep")
    mesh = mesh_from_args(args)
    out = args.out or store.default_run_dir(f"sweep-{args.model}")
    results = S.sweep(config, out=out, resume=args.resume, progress=not args.no_progress, mesh=mesh)
    results["run_dir"] = str(out)
    return results


def render(doc):
    s = doc["seconds"]
    lines = [f"{doc['model']}: {doc['n_variants']} variants x {doc['n_patterns']} patterns, {doc['strategy']}, "
             f"{doc['evaluations_per_variant_pattern']} evaluations each, on {doc['devices']} device(s)",
             f"scores (patterns reproduced): mean {doc['score_mean']:.2f}, best {doc['score_max']}; "
             f"histogram {doc['score_histogram']}",
             "rarest patterns: " + ", ".join(f"{n} ({100 * doc['pattern_pass_fraction'][n]:.0f}%)"
                                            for n in doc["rarest_patterns"]),
             "best variants:"]
    lines += [f"  {v['score']:>2}  {v['label']}" for v in doc["best_variants"]]
    rate = doc["neuron_steps_per_second"]
    lines.append(f"compile {s['compile_s']:.1f} s, search {s['search_s']:.1f} s"
                 + (f" ({rate:.3g} neuron-steps/s)" if rate else "") + f"; report: {doc['run_dir']}/report.html")
    return "\n".join(lines)
