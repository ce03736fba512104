"""`jaxplaus runs`: the index of stored runs, one row per pattern or one per run."""

import csv
import io
from pathlib import Path

from jaxplaus import store
from jaxplaus.cli import add_json_flag
from jaxplaus.errors import UsageError


def register(sub):
    parser = sub.add_parser("runs", help="list stored results (assess, baseline, metalearn, ...)")
    parser.add_argument("--kind", help="assess, baseline, metalearn, sweep or bench")
    parser.add_argument("--model")
    parser.add_argument("--pattern")
    parser.add_argument("--where", action="append", default=[], metavar="COLUMN=VALUE",
                        help=f"keep rows whose COLUMN equals VALUE (repeatable); columns: {', '.join(store.COLUMNS)}")
    parser.add_argument("--summary", action="store_true",
                        help="one row per run: its id, settings, patterns passed (and physiologically), date")
    parser.add_argument("--sort", metavar="COLUMN", help="sort by a shown column (rows without a value last)")
    parser.add_argument("--descending", action="store_true", help="sort from the largest value down")
    parser.add_argument("--limit", type=int, metavar="N", help="show the first N rows (after sorting)")
    parser.add_argument("--csv", action="store_true", help="print the rows as CSV")
    parser.add_argument("--reindex", nargs="*", type=Path, metavar="DIR",
                        help="rebuild the index from the finished runs under DIR ... (default: ./runs) and the run "
                             "directories it already names; a damaged index is moved aside first")
    add_json_flag(parser)
    parser.set_defaults(handler=run, render=render)


def _filters(args) -> dict:
    equal = {k: getattr(args, k) for k in ("kind", "model", "pattern") if getattr(args, k)}
    for item in args.where:
        column, sep, value = item.partition("=")  # (store.query_results checks the column)
        if not sep:
            raise UsageError(f"--where takes COLUMN=VALUE; got {item!r}")
        try:
            equal[column] = int(value)
        except ValueError:
            try:
                equal[column] = float(value)
            except ValueError:
                equal[column] = value
    return equal


def _sorted(rows: list[dict], column: str | None, descending: bool) -> list[dict]:
    if not column:
        return rows
    if rows and column not in rows[0]:
        raise UsageError(f"--sort: no column {column!r}; the rows have {', '.join(rows[0])}")
    present = [r for r in rows if r.get(column) is not None]
    absent = [r for r in rows if r.get(column) is None]
    return sorted(present, key=lambda r: r[column], reverse=descending) + absent


def run(args):
    if args.reindex is not None:
        roots = args.reindex or [store.RUNS]
        missing = [str(r) for r in roots if not r.is_dir() and r != store.RUNS]
        if missing:
            raise UsageError(f"--reindex: no such directory: {', '.join(missing)}")
        return {"reindexed": store.reindex([r for r in roots if r.is_dir()])}
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be at least 1, got {args.limit}")
    rows = store.query_results(**_filters(args))
    for row in rows:
        row["run"] = store.run_id(row["run_dir"])
    key = "summary" if args.summary else "runs"
    shown = store.summarize_runs(rows) if args.summary else rows
    shown = _sorted(shown, args.sort, args.descending)[: args.limit]
    doc = {"index": str(store.index_path()), key: shown}
    if args.csv:
        doc["csv"] = True
    return doc


def _csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["run"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().rstrip("\n")


def render(doc):
    if "reindexed" in doc:
        r = doc["reindexed"]
        lines = [f"indexed {r['runs']} runs ({r['rows']} rows) in {r['index']}"]
        if r["damaged_index_moved_to"]:
            lines.append(f"the damaged index was moved to {r['damaged_index_moved_to']}")
        lines += [f"skipped {line}" for line in r["skipped"]]
        return "\n".join(lines)
    rows = doc.get("summary", doc.get("runs"))
    if doc.get("csv"):
        return _csv(rows)
    if not rows:
        return f"no runs in {doc['index']}"
    if "summary" in doc:
        head = (f"{'run':<10}{'kind':<10}{'model':<12}{'strategy':<12}{'seed':>5}{'budget':>8}{'patterns':>9}"
                f"{'passed':>7}{'phys':>6}  {'finished':<17}run_dir")
        lines = [head]
        for r in rows:
            phys = "-" if r["physiological"] is None else r["physiological"]
            lines.append(f"{r['run']:<10}{r['kind'] or '':<10}{r['model'] or '':<12}{r['strategy'] or '':<12}"
                         f"{_blank(r['seed']):>5}{_blank(r['budget']):>8}{r['patterns']:>9}{r['passed']:>7}{phys:>6}  "
                         f"{r['finished']:<17}{r['run_dir']}")
        return "\n".join(lines)
    head = (f"{'run':<10}{'kind':<10}{'model':<12}{'pattern':<30}{'strategy':<14}{'seed':>5}{'passed':>7}{'loss':>9}"
            f"{'evals':>9}{'evals/s':>11}  run_dir")
    lines = [head]
    for r in rows:
        eps = f"{r['evals_per_second']:.3g}" if r["evals_per_second"] else "-"
        loss = f"{r['loss']:.3g}" if r["loss"] is not None else "-"
        lines.append(f"{r['run']:<10}{r['kind'] or '':<10}{r['model'] or '':<12}{r['pattern'] or '':<30}"
                     f"{r['strategy'] or '':<14}{_blank(r['seed']):>5}{_blank(r['passed']):>7}"
                     f"{loss:>9}{r['evaluations'] or '':>9}{eps:>11}  {r['run_dir']}")
    return "\n".join(lines)


def _blank(value) -> str:
    return "" if value is None else str(value)
