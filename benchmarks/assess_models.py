"""Assess several models over all 20 patterns at the default budget and print the README table.

    JAX_PLATFORMS=cpu .venv/bin/python benchmarks/assess_models.py --models adex izhikevich lif n2d2

Each model is assessed in a fresh process-wide state (its own compile); runs are stored under
--out and indexed like any `jaxplaus assess` run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from pathlib import Path

import jax

from jaxplaus import patterns
from jaxplaus.assess import DEFAULT_BUDGET, AssessConfig, assess


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["adex", "izhikevich", "lif", "n2d2"])
    parser.add_argument("--budget", type=int, default=DEFAULT_BUDGET)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bounds", default="wide", help="wide (expressivity) or physiological (plausibility)")
    parser.add_argument("--ipop", action="store_true", help="restarts with growing population (assess --ipop)")
    parser.add_argument("--no-physiological-runs", action="store_true",
                        help="wide bounds only (assess --no-physiological-runs)")
    parser.add_argument("--out", type=Path, default=Path("runs/benchmark-assess"))
    args = parser.parse_args()
    letters = [p.letter for p in patterns.REGISTRY.values()]
    device = f"{jax.devices()[0].platform} ({os.cpu_count()} cores, {platform.processor() or platform.machine()})"
    print(f"device: {device}; budget {args.budget} evaluations per pattern; seed {args.seed}; {args.bounds} bounds"
          f"{'; IPOP restarts' if args.ipop else ''}{'; no physiological runs' if args.no_physiological_runs else ''}\n")
    print(f"| model | score ({args.bounds} bounds) | optima inside physiological ranges | compile s | search s | validation s "
          "| evaluations/s | patterns reproduced (" + "".join(letters) + ") |")
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for name in args.models:
        out = args.out / f"{name}-{args.bounds}{'-ipop' if args.ipop else ''}{'-nophys' if args.no_physiological_runs else ''}"
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        r = assess(AssessConfig(model=name, budget=args.budget, seed=args.seed, bounds=args.bounds,
                                ipop=args.ipop, physiological_runs=not args.no_physiological_runs), out=out,
                   progress=False)
        wall = time.perf_counter() - t0
        s = r["seconds"]
        marks = "".join(p["letter"] if p["passed"] else "." for p in r["patterns"].values())
        phys = "-" if r["score_within_physiological"] is None else r["score_within_physiological"]
        print(f"| {name} | {r['score']}/20 | {phys} | {s['compile_s']:.1f} | {s['search_s']:.1f} | "
              f"{s['validation_s']:.1f} | {r['evaluations_per_second']:.3g} | `{marks}` |", flush=True)
        rows.append({"model": name, "wall_s": wall, **{k: r[k] for k in ("score", "score_within_physiological",
                                                                          "seconds", "evaluations_per_second")}})
    (args.out / "summary.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
