"""`jaxplaus compare`: assessments side by side (the model x pattern matrix)."""

from pathlib import Path

from jaxplaus import store
from jaxplaus.cli import add_json_flag


def register(sub):
    parser = sub.add_parser("compare", help="the model x pattern matrix of finished assessments, beside the "
                                            "published verdicts (Izhikevich 2004, Fig. 2)")
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR", help="finished `assess` run directories")
    parser.add_argument("--out", type=Path, default=None,
                        help="where compare.html, compare.png/.svg and compare.json go "
                             "(default: runs/compare-<date>-<time>)")
    add_json_flag(parser)
    parser.set_defaults(handler=run, render=render)


def run(args):
    from jaxplaus.compare import compare

    return compare(args.runs, args.out or store.default_run_dir("compare"))


def render(doc):
    names = [p["name"] for p in doc["patterns"]]
    lines = [f"{'model':<12}{'runs':>5}  " + "".join(f"{p['letter']:>5}" for p in doc["patterns"])]
    for row in doc["models"]:
        cells = "".join(f"{'-' if row['patterns'][n] is None else format(row['patterns'][n]['passed'], '.0%'):>5}"
                        for n in names)
        lines.append(f"{row['model']:<12}{row['runs']:>5}  {cells}")
        if row["disagreements"]:
            lines.append(f"  differs from {row['published']['source']}: {', '.join(row['disagreements'])}")
    lines.append(f"page: {doc['out']}/compare.html")
    return "\n".join(lines)
