"""Assess models over all 20 patterns at the default budget, for several seeds: the README table.

    JAX_PLATFORMS=cpu .venv/bin/python benchmarks/assess_models.py --models lif adex izhikevich n2d2 --seeds 0 1 2 3 4

Prints one Markdown row per model and seed (score, plausibility score, the patterns of each,
wall time of the whole assessment, compilation included) and, per model, whether both scores
are the same for every seed. Each assessment runs in its own process, as `jaxplaus assess`
would, with an empty compilation cache (a fresh $JAXPLAUS_HOME, so the wall time is a first
run's; `--warm` keeps yours, and its index); runs are stored under --out. `--strategy` compares
another search strategy with the default one:

    ... benchmarks/assess_models.py --models izhikevich --seeds 0 1 2 3 4 --strategy cma_es
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jaxplaus import patterns
from jaxplaus.assess import DEFAULT_BUDGET, DEFAULT_STRATEGY

JAXPLAUS = str(Path(sys.executable).parent / "jaxplaus")


def assess(model: str, seed: int, args, out: Path) -> tuple[dict, float]:
    shutil.rmtree(out, ignore_errors=True)
    command = [JAXPLAUS, "assess", "--model", model, "--seed", str(seed), "--budget", str(args.budget),
               "--bounds", args.bounds, "--strategy", args.strategy, "--out", str(out), "--no-progress", "--json"]
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    with tempfile.TemporaryDirectory(prefix="jaxplaus-cold-") as home:
        if not args.warm:
            env["JAXPLAUS_HOME"] = home
        t0 = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout), wall


def letters(results: dict, physiological: bool) -> str:
    def shown(r):
        return r["physiological"] is not None if physiological else r["passed"]

    return "".join(r["letter"] if shown(r) else "." for r in results["patterns"].values())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["lif", "adex", "izhikevich", "n2d2"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--budget", type=int, default=DEFAULT_BUDGET)
    parser.add_argument("--bounds", default="wide", help="wide (expressivity) or physiological (plausibility)")
    parser.add_argument("--strategy", default=DEFAULT_STRATEGY)
    parser.add_argument("--out", type=Path, default=Path("runs/benchmark-assess"))
    parser.add_argument("--warm", action="store_true",
                        help="use your $JAXPLAUS_HOME (its compilation cache and run index) instead of an empty one")
    args = parser.parse_args()
    order = "".join(p.letter for p in patterns.REGISTRY.values())
    machine = f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, CPU"
    cache = "your compilation cache" if args.warm else "an empty compilation cache each"
    print(f"machine: {machine}; {args.strategy}, budget {args.budget} evaluations per pattern; {args.bounds} bounds; "
          f"{cache}\n")
    print(f"| model | seed | score | plausibility score | patterns ({order}) | physiological patterns | wall s |")
    print("|---|---|---|---|---|---|---|")
    rows = []
    for model in args.models:
        for seed in args.seeds:
            r, wall = assess(model, seed, args, args.out / f"{model}-{args.bounds}-{args.strategy}-s{seed}")
            phys = "-" if r["score_within_physiological"] is None else r["score_within_physiological"]
            print(f"| {model} | {seed} | {r['score']} | {phys} | `{letters(r, False)}` | "
                  f"`{letters(r, True) if r['score_within_physiological'] is not None else '-'}` | {wall:.0f} |",
                  flush=True)
            rows.append({"model": model, "seed": seed, "wall_s": round(wall, 1), "score": r["score"],
                         "score_within_physiological": r["score_within_physiological"],
                         "patterns": letters(r, False), "physiological_patterns": letters(r, True),
                         "seconds": r["seconds"]})
    print()
    for model in args.models:
        mine = [row for row in rows if row["model"] == model]
        same = len({(row["patterns"], row["physiological_patterns"]) for row in mine}) == 1
        walls = [row["wall_s"] for row in mine]
        print(f"{model}: {'the same patterns at every seed' if same else 'patterns differ between seeds'}; "
              f"wall {min(walls):.0f}-{max(walls):.0f} s")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"summary-{args.bounds}-{args.strategy}.json").write_text(
        json.dumps({"machine": machine, "strategy": args.strategy, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
