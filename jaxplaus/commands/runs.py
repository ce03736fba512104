"""`jaxplaus runs`: the index of stored runs."""

from pathlib import Path

from jaxplaus import store
from jaxplaus.cli import add_json_flag

DEFAULT_ROOT = Path("runs")  # where the commands put run directories by default


def register(sub):
    parser = sub.add_parser("runs", help="list stored results (assess, baseline, metalearn, ...)")
    parser.add_argument("--kind", help="assess, baseline, metalearn, ...")
    parser.add_argument("--model")
    parser.add_argument("--pattern")
    parser.add_argument("--reindex", nargs="*", type=Path, metavar="DIR",
                        help="rebuild the index from the finished runs under DIR ... (default: ./runs) and the run "
                             "directories it already names; a damaged index is moved aside first")
    add_json_flag(parser)
    parser.set_defaults(handler=run, render=render)


def run(args):
    if args.reindex is not None:
        roots = args.reindex or [DEFAULT_ROOT]
        missing = [str(r) for r in roots if not r.is_dir() and r != DEFAULT_ROOT]
        if missing:
            from jaxplaus.errors import UsageError

            raise UsageError(f"--reindex: no such directory: {', '.join(missing)}")
        return {"reindexed": store.reindex([r for r in roots if r.is_dir()])}
    equal = {k: getattr(args, k) for k in ("kind", "model", "pattern") if getattr(args, k)}
    return {"index": str(store.index_path()), "runs": store.query_results(**equal)}


def render(doc):
    if "reindexed" in doc:
        r = doc["reindexed"]
        lines = [f"indexed {r['runs']} runs ({r['rows']} rows) in {r['index']}"]
        if r["damaged_index_moved_to"]:
            lines.append(f"the damaged index was moved to {r['damaged_index_moved_to']}")
        lines += [f"skipped {line}" for line in r["skipped"]]
        return "\n".join(lines)
    rows = doc["runs"]
    if not rows:
        return f"no runs in {doc['index']}"
    head = f"{'kind':<10}{'model':<12}{'pattern':<30}{'strategy':<14}{'seed':>5}{'passed':>7}{'loss':>9}{'evals':>9}{'evals/s':>11}  run_dir"
    lines = [head]
    for r in rows:
        eps = f"{r['evals_per_second']:.3g}" if r["evals_per_second"] else "-"
        loss = f"{r['loss']:.3g}" if r["loss"] is not None else "-"
        lines.append(f"{r['kind'] or '':<10}{r['model'] or '':<12}{r['pattern'] or '':<30}{r['strategy'] or '':<14}"
                     f"{r['seed'] if r['seed'] is not None else '':>5}{r['passed'] if r['passed'] is not None else '':>7}"
                     f"{loss:>9}{r['evaluations'] or '':>9}{eps:>11}  {r['run_dir']}")
    return "\n".join(lines)
