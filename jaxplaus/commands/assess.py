"""`jaxplaus assess`: the main job."""

from pathlib import Path

from jaxplaus import assess as A, store
from jaxplaus import patterns, search
from jaxplaus.cli import add_json_flag, json_argument, positive_float
from jaxplaus.errors import UsageError


def register(sub):
    parser = sub.add_parser("assess", help="search each pattern with an evolution strategy, validate, report")
    parser.add_argument("--model", required=True)
    parser.add_argument("--model-options", metavar="JSON", help="model variant options as JSON")
    parser.add_argument("--patterns", nargs="+", default=None, metavar="P",
                        help="pattern names or letters (default: all 20)")
    parser.add_argument("--strategy", default=None,
                        help=f"one of: {', '.join(search.names())} (default: {A.DEFAULT_STRATEGY}; cma_es with --ipop)")
    parser.add_argument("--budget", type=int, default=A.DEFAULT_BUDGET,
                        help="evaluations per pattern, on average (patterns resolved early leave theirs to the others)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bounds", default="wide", help="wide (expressivity) or physiological (plausibility)")
    parser.add_argument("--dt-ms", type=positive_float, default=0.25,
                        help="search step; candidates must also pass at dt/2 (later phases: dt/4), optima down to dt/10")
    parser.add_argument("--population", type=int, default=None, help="per run (default: CMA-ES's 4+3ln(n))")
    parser.add_argument("--restarts", type=int, default=A.RESTARTS, help="parallel runs per pattern")
    parser.add_argument("--ipop", action="store_true",
                        help="restarts with growing population: phases that double each run's population and "
                             "halve the parallel runs (same evaluations per generation)")
    parser.add_argument("--no-physiological-runs", action="store_true",
                        help="with wide bounds, search them only (default: every other run of a pattern searches "
                             "inside the model's physiological ranges, a box within the wide bounds)")
    parser.add_argument("--out", type=Path, default=None,
                        help="run directory (default: runs/<model>-<strategy>-s<seed>-<date>-<time>)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the interrupted run in --out (one killed while starting starts; a finished "
                             "one is returned as it is)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    add_json_flag(parser)
    parser.set_defaults(handler=run, render=render)


def run(args):
    options = json_argument(args.model_options, "--model-options") or {}
    if not isinstance(options, dict):
        raise UsageError("--model-options must be a JSON object")
    selected = [p.name for p in patterns.select(args.patterns)]
    # IPOP restarts need a strategy that adapts a distribution: --ipop alone keeps meaning CMA-ES
    strategy = args.strategy or ("cma_es" if args.ipop else A.DEFAULT_STRATEGY)
    config = A.AssessConfig(model=args.model, patterns=selected, strategy=strategy, budget=args.budget,
                            seed=args.seed, bounds=args.bounds, dt_ms=args.dt_ms, model_options=options,
                            population=args.population, restarts=args.restarts,
                            ipop=args.ipop, physiological_runs=not args.no_physiological_runs)
    config.check()
    if args.resume and args.out is None:
        raise UsageError("--resume needs the --out directory of the interrupted run")
    out = args.out or store.default_run_dir(f"{args.model}-{config.strategy}-s{config.seed}")
    results = A.assess(config, out=out, resume=args.resume, progress=not args.no_progress)
    results["run_dir"] = str(out)
    return results


def _spikes(entry):
    return "/".join(str(n) for n in entry["validation"]["spikes_per_dt"])


def _pattern_line(r, physiology: bool) -> str:
    """One pattern: both answers (the score optimum's, then the physiological one's), spike counts
    down the validation ladder, warnings counted."""
    v = r["validation"]
    loss = "" if r["passed"] else f"  (loss {r['loss']:.3g})"
    status = "PASS" if r["passed"] else "fail"
    if not physiology:
        return f"{status}  robustness {v['robustness']:.2f}  spikes {_spikes(r)}  warnings {len(r['warnings'])}{loss}"
    p = r["physiological"]
    if p is None:
        return (f"{status}  phys  -    robustness {v['robustness']:.2f}/ -    spikes {_spikes(r)}  "
                f"warnings {len(r['warnings'])}{loss}")
    return (f"{status}  phys PASS  robustness {v['robustness']:.2f}/{p['validation']['robustness']:.2f}  "
            f"spikes {_spikes(r)} | {_spikes(p)}  warnings {len(r['warnings'])}/{len(p['warnings'])}{loss}")


def _evaluations(doc) -> str:
    """The evaluations run per pattern, and the budget asked for when they differ (the search
    runs whole chunks of generations)."""
    done = doc.get("evaluations_per_pattern", doc["evaluations"] / doc["n_patterns"])
    return f"{done:.0f} evaluations per pattern" + (f" for a budget of {doc['budget']}" if round(done) != doc["budget"] else "")


def render(doc):
    physiology = doc.get("score_within_physiological") is not None
    lines = [f"{doc['model']}: score {doc['score']}/{doc['n_patterns']}"
             + (f", plausibility score {doc['score_within_physiological']}/{doc['n_patterns']}" if physiology else "")
             + f" ({doc['bounds']} bounds, {doc['strategy']}, {_evaluations(doc)})"]
    ladder = "/".join(f"{d:g}" for d in doc.get("ladder_dt_ms", []))
    lines.append(f"  spikes at dt {ladder} ms" + ("; score optimum | physiological optimum" if physiology else ""))
    for name, r in doc["patterns"].items():
        lines.append(f"  ({r['letter']}) {name:<29} {_pattern_line(r, physiology)}")
    s = doc["seconds"]
    lines.append(f"compile {s['compile_s']:.1f} s, search {s['search_s']:.1f} s, validation {s['validation_s']:.1f} s; "
                 f"report: {doc['run_dir']}/report.html")
    return "\n".join(lines)
