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

    from jaxplaus.cli import build_parser
    from jaxplaus.commands.metalearn import config_from_args
    from jaxplaus.plasticity import experiment
    from jaxplaus.plasticity.rules import vogels2011

    if args.run:
        config = json.loads((args.run / "config.json").read_text())
    else:
        config = config_from_args(build_parser().parse_args(["metalearn", *args.metalearn_args]))
    if config["rule"] != "ie6" or config["task"] != "stability":
        sys.exit("Vogels et al. 2011 is a reference for --task stability --rule ie6 only")
    search, net, task = experiment.build(config)
    vogels = {"params": dict(zip(search.rule.names(), vogels2011()))}
    # the check every metalearn run ends with, on the same held-out trials
    check = experiment.check_final_rule(config, search.rule, net, task, vogels, progress=False)
    report = {"config": config, "vogels2011": {
        **summary(check["losses"], check["blown"]),
        **{k: check[k] for k in ("rate_e_hz", "rate_i_hz", "fixed_point_hz")}}}
    if args.run and (args.run / "results.json").is_file():
        checked = json.loads((args.run / "results.json").read_text())["final_rule"].get("heldout")
        if checked:
            # runs from before per-trial flags were stored: the blow-up penalty is at least 160
            blown = checked.get("blown", np.asarray(checked["losses"]) >= 160.0)
            report["final_rule"] = summary(checked["losses"], blown)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
