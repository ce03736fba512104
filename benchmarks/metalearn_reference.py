"""Known I->E rules on a metalearn run's held-out trials: the loss a hand-designed rule (Vogels et
al. 2011) and a published meta-learned one (Confavreux et al. 2025) get under the same
protocol, as yardsticks for a learned rule's held-out loss.

    python benchmarks/metalearn_reference.py                      # the default metalearn config
    python benchmarks/metalearn_reference.py --run DIR            # the config (and trials) of a run
    python benchmarks/metalearn_reference.py -- --score-s 2       # any `jaxplaus metalearn` options
    python benchmarks/metalearn_reference.py --run DIR --every-generation   # also each generation's mean

The held-out trials derive from the config's seed only, so with `--run DIR` the reference rules meet
exactly the trials on which that run's final rule was checked, and all are printed side by side.
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
    parser.add_argument("--every-generation", action="store_true",
                        help="with --run: also every generation's mean rule on the held-out trials (from the checkpoint)")
    parser.add_argument("metalearn_args", nargs="*", help="`jaxplaus metalearn` options (after --)")
    args = parser.parse_args(argv)
    if args.every_generation and not args.run:
        parser.error("--every-generation needs --run")

    from jaxplaus.cli import build_parser
    from jaxplaus.commands.metalearn import config_from_args
    from jaxplaus import store
    from jaxplaus.plasticity import experiment
    from jaxplaus.plasticity.metalearn import heldout_losses
    from jaxplaus.plasticity.rules import confavreux2025_ie, vogels2011

    if args.run:
        config = json.loads((args.run / "config.json").read_text())
    else:
        config = config_from_args(build_parser().parse_args(["metalearn", *args.metalearn_args]))
    if config["rule"] != "ie6" or config["task"] != "stability":
        sys.exit("the reference rules are I->E rules: --task stability --rule ie6 only")
    search, net, task = experiment.build(config)
    report = {"config": config}
    for name, theta in (("vogels2011", vogels2011()), ("confavreux2025", confavreux2025_ie())):
        # the check every metalearn run ends with, on the same held-out trials
        reference = {"params": dict(zip(search.rule.names(), theta))}
        check = experiment.check_final_rule(config, search.rule, net, task, reference, progress=False)
        report[name] = {**summary(check["losses"], check["blown"]),
                        **{k: check[k] for k in ("rate_e_hz", "rate_i_hz", "fixed_point_hz")}}
    if args.run and (args.run / "results.json").is_file():
        checked = json.loads((args.run / "results.json").read_text())["final_rule"].get("heldout")
        if checked:
            # runs from before per-trial flags were stored: the blow-up penalty is at least 160
            blown = checked.get("blown", np.asarray(checked["losses"]) >= 160.0)
            report["final_rule"] = summary(checked["losses"], blown)
    if args.every_generation:  # where along the search the mean rule was good on fresh trials
        history = store.load_checkpoint(args.run)["history"]
        thetas = np.array([record["mean"] for record in history])
        losses, diagnostics = heldout_losses(net, search.rule, task, thetas, config["heldout_trials"],
                                             config["connectivity"] == "trial", config["seed"])
        blown = np.asarray(diagnostics["blown"])
        report["every_generation"] = [{"generation": record["generation"], "loss_of_its_trials": record["loss"],
                                       **summary(row, flags)}
                                      for record, row, flags in zip(history, np.asarray(losses), blown)]
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
