"""Throughput of a sweep (neuron-steps/s) next to this project's reference bare-kernel ceiling.

    python benchmarks/sweep_throughput.py --variants 50 --budget 768          # 2-core CPU
    python benchmarks/sweep_throughput.py --variants 1000 --budget 768        # one H100

A sweep of polynomial-family structures (2 monomials in dv/dt, 2 in du/dt) over all 20 patterns.
Neuron-steps are those actually simulated: every candidate of every (variant, pattern, restart)
run, each pattern simulated for its duration group's longest protocol at dt and at dt/2. The
ceiling is a bare Izhikevich population in one `lax.scan` (no stimulus protocol, no features,
no objective, no strategy), so the ratio says what the whole search machinery costs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

CEILING = {"cpu": 1.0e9, "gpu": 1.5e12}  # neuron-steps/s, this project's reference (2-core CPU; one H100)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=50)
    parser.add_argument("--budget", type=int, default=768, help="evaluations per variant and pattern")
    parser.add_argument("--population", type=int, default=None)
    parser.add_argument("--restarts", type=int, default=2)
    parser.add_argument("--strategy", default="cma_es")
    parser.add_argument("--devices", type=int, default=None, help="default: all")
    args = parser.parse_args(argv)

    import jax

    from jaxplaus import sharding, sweep

    devices = jax.devices()[: args.devices or len(jax.devices())]
    mesh = sharding.run_mesh(devices) if len(devices) > 1 else None
    config = sweep.SweepConfig(model="polynomial", structures=[2, 2], variants=args.variants, budget=args.budget,
                               population=args.population, restarts=args.restarts, strategy=args.strategy)
    config.check()
    t0 = time.perf_counter()
    p = sweep.plan(config, mesh)
    state, _, timings = sweep.run_search(config, p, progress=sys.stderr.isatty())
    wall = time.perf_counter() - t0
    results, _ = sweep.summarize(config, p, state, timings)
    platform = devices[0].platform
    rate = results["neuron_steps_per_second"]
    ceiling = CEILING.get(platform)
    doc = {
        "device": f"{len(devices)} x {devices[0].device_kind}", "platform": platform,
        "variants": args.variants, "patterns": results["n_patterns"], "runs": p.search.n_runs,
        "population": p.search.population, "generations": p.generations,
        "evaluations": results["evaluations"], "compile_s": timings["compile_s"], "search_s": timings["search_s"],
        "wall_s": wall, "evaluations_per_second": results["evaluations_per_second"],
        "neuron_steps_per_second": rate, "ceiling_neuron_steps_per_second": ceiling,
        "fraction_of_ceiling": rate / ceiling if ceiling else None,
        "score_mean": results["score_mean"], "score_max": results["score_max"],
    }
    print(json.dumps(doc))
    print(f"{doc['device']}: {args.variants} variants x {doc['patterns']} patterns, {doc['evaluations']:.3g} "
          f"evaluations in {doc['search_s']:.1f} s after {doc['compile_s']:.1f} s compile: "
          f"{rate:.3g} neuron-steps/s" + (f" = {doc['fraction_of_ceiling']:.1%} of the {ceiling:.1e} ceiling"
                                          if ceiling else ""), file=sys.stderr)


if __name__ == "__main__":
    main()
