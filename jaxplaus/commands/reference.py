"""`jaxplaus reference izhikevich2004`: figure1.m's 20 cases with jaxplaus's Izhikevich model."""

from pathlib import Path

import matplotlib.pyplot as plt

from jaxplaus import patterns, reference, store
from jaxplaus.cli import add_json_flag
from jaxplaus.report import figures


def register(sub):
    parser = sub.add_parser("reference", help="reproduce a published reference (izhikevich2004: figure1.m)")
    parser.add_argument("name", choices=["izhikevich2004"])
    parser.add_argument("--out", type=Path, help="directory for the figure of all 20 traces and the JSON")
    add_json_flag(parser)
    parser.set_defaults(handler=run, render=render)


def run(args):
    if args.out is not None:
        store.check_writable_parent(args.out)
    results = reference.izhikevich2004()
    names, matrix = reference.confusion(results)
    doc = {
        "reference": "Izhikevich (2004) figure1.m",
        "passed": sum(r["passed"] for r in results),
        "counts_match": sum(len(r["spike_times_ms"]) == r["expected_spikes"] for r in results),
        "patterns": [{k: v for k, v in r.items() if not k.startswith("_")} for r in results],
        "confusion": {"validators": names, "traces": names, "matrix": matrix.tolist(),
                      "note": "1 pass, 0 reject, -1 other input class"},
    }
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        entries = [(patterns.get(r["name"]), r, r["_response"], r["dt_ms"]) for r in results]
        fig = figures.traces(entries, "Izhikevich (2004) Fig. 1, simulated by jaxplaus", "v", "I", cols=4)
        store.save_figure(fig, args.out / "figure1.png", dpi=100)
        plt.close(fig)
        store.write_json(args.out / "reference.json", doc)
        doc["figure"] = str(args.out / "figure1.png")
    return doc


def render(doc):
    lines = [f"{doc['reference']}: {doc['passed']}/20 pass their validator, "
             f"{doc['counts_match']}/20 spike counts equal figure1.m's"]
    for r in doc["patterns"]:
        lines.append(f"  ({r['letter']}) {r['name']:<30} {'PASS' if r['passed'] else 'fail'}  "
                     f"{len(r['spike_times_ms']):>3} spikes in figure1.m's {r['dt_ms']:g}-ms run (figure1.m: {r['expected_spikes']})")
    if "figure" in doc:
        lines.append(f"figure: {doc['figure']}")
    return "\n".join(lines)
