"""`jaxplaus runs`: the index of stored runs."""

from jaxplaus import store
from jaxplaus.cli import add_json_flag


def register(sub):
    parser = sub.add_parser("runs", help="list stored results (assess, baseline, metalearn, ...)")
    parser.add_argument("--kind", help="assess, baseline, metalearn, ...")
    parser.add_argument("--model")
    parser.add_argument("--pattern")
    add_json_flag(parser)
    parser.set_defaults(handler=run, render=render)


def run(args):
    equal = {k: getattr(args, k) for k in ("kind", "model", "pattern") if getattr(args, k)}
    return {"index": str(store.index_path()), "runs": store.query_results(**equal)}


def render(doc):
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
