"""Vogels et al. 2011's I->E rule on a metalearn run's held-out trials: the loss a known-good rule
gets under the same protocol, as a yardstick for a learned rule's held-out loss.

    python benchmarks/metalearn_reference.py                      # the default metalearn config
    python benchmarks/metalearn_reference.py --run DIR            # the config (and trials) of a run
    python benchmarks/metalearn_reference.py -- --score-s 2       # any `jaxplaus metalearn` options

The held-out trials derive from the config's seed only, so with `--run DIR` Vogels' rule meets
exactly the trials on which that run's final rule was checked, and both are printed side by side.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def summary(losses, blown) -> dict:
    losses, blown = np.asarray(losses, np.float64), np.asarray(blown, bool)
    kept = losses[~blown]
    return {
        "trials": len(losses),
        "loss": float(losses.mean()),
        "median": float(np.median(losses)),
        "below_0.1": int((losses < 0.1).sum()),
        "blown": int(blown.sum()),
        "loss_without_blown": float(kept.mean()) if kept.size else None,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="a metalearn run directory: its config and held-out trials")
    parser.add_argument("metalearn_args", nargs="*", help="`jaxplaus metalearn` options (after --)")
    args = parser.parse_args(argv)

    import jax
    import jax.numpy as jnp

    from jaxplaus.cli import build_parser
    from jaxplaus.commands.metalearn import config_from_args
    from jaxplaus.plasticity import analysis, experiment
    from jaxplaus.plasticity.metalearn import HELDOUT_KEY, make_evaluator
    from jaxplaus.plasticity.rules import vogels2011

    if args.run:
        config = json.loads((args.run / "config.json").read_text())
    else:
        config = config_from_args(build_parser().parse_args(["metalearn", *args.metalearn_args]))
    if config["rule"] != "ie6" or config["task"] != "stability":
        sys.exit("Vogels et al. 2011 is a reference for --task stability --rule ie6 only")
    search, net, task = experiment.build(config)
    theta = np.asarray(vogels2011(), np.float32)

    # the same batch and keys as `metalearn.heldout`, keeping the per-trial blow-up flags
    evaluate = make_evaluator(net, search.rule, task, config["heldout_trials"], config["connectivity"] == "trial")
    key = jax.random.fold_in(jax.random.PRNGKey(config["seed"]), HELDOUT_KEY)
    losses, diagnostics = evaluate(jnp.asarray(theta)[None], key)
    blown = np.asarray(diagnostics["blown"])[0]
    report = {"config": config, "vogels2011": summary(np.asarray(losses)[0], blown)}
    alive = ~blown
    rates = [float(np.asarray(diagnostics[k])[0][alive].mean()) if alive.any() else None for k in ("rate_e", "rate_i")]
    report["vogels2011"].update(rate_e_hz=rates[0], rate_i_hz=rates[1],
                                fixed_point_hz=analysis.fixed_points(search.rule, theta, *rates))
    if args.run and (args.run / "results.json").is_file():
        checked = json.loads((args.run / "results.json").read_text())["final_rule"].get("heldout")
        if checked:
            # per-trial blow-up flags are not stored; the blow-up penalty is at least 160
            report["final_rule"] = summary(checked["losses"], np.asarray(checked["losses"]) >= 160.0)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
