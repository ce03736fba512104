"""`jaxplaus crosscheck --run DIR`: replay a stored run's optima in Norse and compare."""

from __future__ import annotations

from pathlib import Path

from jaxplaus.cli import add_json_flag


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "crosscheck",
        help="replay every optimum of a stored run in Norse (PyTorch) and compare",
        description="Replays each pattern's optimum of a run directory in Norse under the same stimulus "
        "and compares spike steps and voltage traces with jaxplaus's replay; a disagreement is explained "
        "only when switching off the documented scheme difference (e.g. figure1.m's update order) "
        "makes them agree. Where Norse's own float32 and float64 replays part (chaotic optima), the "
        "comparison is judged before that step, and the report says so. Needs torch and norse.",
    )
    parser.add_argument("--run", type=Path, required=True, help="run directory (holds results.json)")
    add_json_flag(parser)
    parser.set_defaults(handler=run, render=render)


def run(args) -> dict:
    from jaxplaus.adapters import require

    require("crosscheck", "torch", "norse")
    from jaxplaus.adapters.norse import crosscheck_run

    return crosscheck_run(args.run)


def render(report: dict) -> str:
    lines = [
        f"{report['model']} vs Norse ({report['norse_model']}), dt = {report['dt_ms']} ms = {report['norse_dt_s']:.6g} s; "
        f"agree: same spike steps and max|dv|/max|v| <= {report['tolerance_rel_dv']:g}",
        f"{'pattern':30s} {'status':11s} {'spikes jax/norse':>16s} {'max|dt| ms':>10s} {'max|dv|':>10s} "
        f"{'rel':>9s}  {'valid jax/norse':15s} cause",
    ]
    for name, p in report["patterns"].items():
        shifts = [abs(d) for d in p["spike_time_diffs_ms"]]
        dv, rel = p["max_abs_dv"], p["max_rel_dv"]
        lines.append(
            f"{name:30s} {p['status']:11s} {p['n_spikes']['jaxplaus']:>7d}/{p['n_spikes']['norse']:<8d} "
            f"{max(shifts) if shifts else 0:>10.3g} {dv if dv is not None else float('nan'):>10.3g} "
            f"{rel if rel is not None else float('nan'):>9.2g}  {str(p['passed_jaxplaus']):>5s}/{str(p['passed_norse']):9s} "
            f"{', '.join(p['causes'])}"
            + (f" (judged before {p['float32_horizon_ms']:g} ms)" if p["judged_before_horizon"] else "")
        )
    s = report["summary"]
    lines.append(f"agree {s['agree']}, rounding {s['rounding']}, explained {s['explained']}, unexplained {s['unexplained']}; "
                 f"validator passes: jaxplaus {s['passed_jaxplaus']}, Norse {s['passed_norse']}")
    for name, text in report["scheme_differences"].items():
        lines.append(f"  {name}: {text}; affects {', '.join(s['affected_patterns'].get(name, [])) or 'no pattern'}")
    if s["validator_differs"]:
        lines.append(f"  validator verdict differs on: {', '.join(s['validator_differs'])}")
    if s["judged_before_horizon"]:
        lines.append(
            f"  chaotic, judged before Norse's float32 horizon (where its float32 replay leaves its float64 "
            f"replay; no float32 replay can follow it further): {', '.join(s['judged_before_horizon'])}")
    return "\n".join(lines)
