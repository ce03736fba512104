"""Assessment reports: PNG figures, `report.md` and a self-contained `report.html`."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from jaxplaus import models, patterns, simulate
from jaxplaus.report import figures


def _fmt(x):
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def simulate_optima(results: dict):
    """Full-resolution responses of each pattern's optimum, in results order."""
    model = models.get(results["model"], **results.get("model_options", {}))
    names = list(results["patterns"])
    pats = [patterns.get(n) for n in names]
    responses = simulate.full_resolution(
        model, [results["patterns"][n]["params"] for n in names], [p.protocol.pieces for p in pats],
        [list(results["patterns"][n]["stimulus"].values()) for n in names],
        [results["dt_ms"]] * len(names), [p.protocol.duration_ms for p in pats])
    return model, pats, responses


def write_figures(out: Path, results: dict, history) -> list[tuple[str, str]]:
    """Save the figures; returns (caption, file name) pairs."""
    model, pats, responses = simulate_optima(results)
    v_unit = "v (mV)" if model.current_unit == "pA" else "v"
    i_unit = f"I ({model.current_unit.split(' ')[0]})"
    saved = []
    for cls, label in figures.CLASSES:
        entries = [(p, results["patterns"][p.name], r, results["dt_ms"]) for p, r in zip(pats, responses)
                   if p.input_class == cls]
        if not entries:
            continue
        for kind, fig in (("traces", figures.traces(entries, f"{results['model']}: {label}", v_unit, i_unit)),
                          ("intervals", figures.intervals(entries, f"{results['model']}: spike intervals, {label}"))):
            name = f"{kind}_{cls}.png"
            fig.savefig(out / name, dpi=110)
            plt.close(fig)
            saved.append((f"{kind.capitalize()}, {label}", name))
    fig = figures.convergence(np.asarray(history), [p.name for p in pats], results["restarts"],
                              results["population"] * results["restarts"])
    fig.savefig(out / "convergence.png", dpi=110)
    plt.close(fig)
    saved.append(("Convergence", "convergence.png"))
    return saved


def summary_table(results: dict) -> list[list[str]]:
    rows = [["", "pattern", "passed", "robustness", "half dt", "physiological", "loss", "evaluations to pass"]]
    for name, r in results["patterns"].items():
        v = r["validation"]
        phys = "-" if v["within_physiological"] is None else ("yes" if v["within_physiological"] else "no")
        rows.append([r["letter"], name, "yes" if r["passed"] else "no", f"{v['robustness']:.2f}",
                     "yes" if v["passed_at_half_dt"] else "no", phys, f"{r['loss']:.3g}",
                     str(r["evaluations_to_pass"] or "-")])
    return rows


def parameter_table(results: dict) -> list[list[str]]:
    names = list(results["patterns"])
    param_names = list(results["patterns"][names[0]]["params"])
    rows = [["pattern"] + param_names + ["stimulus"]]
    for n in names:
        r = results["patterns"][n]
        stim = ", ".join(f"{k}={_fmt(v)}" for k, v in r["stimulus"].items())
        rows.append([n] + [_fmt(r["params"][p]) for p in param_names] + [stim])
    return rows


def _markdown_table(rows):
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines)


def _html_table(rows):
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows[1:])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _headline(results):
    phys = results.get("score_within_physiological")
    extra = f"; {phys} of them with parameters inside the physiological ranges" if phys is not None else ""
    runs = ", ".join(f"{ph['runs']}x{ph['population']}" for ph in results.get("phases", []))
    search = f"{results['strategy']} with IPOP restarts (runs x population: {runs})" if results.get("ipop") \
        else results["strategy"]
    return (f"**{results['model']}** reproduces **{results['score']} of {results['n_patterns']}** patterns "
            f"({results['bounds']} bounds, {search}, {results['budget']} evaluations per pattern, "
            f"seed {results['seed']}, dt {results['dt_ms']} ms){extra}.")


def write_report(out: Path, results: dict, history) -> None:
    out = Path(out)
    saved = write_figures(out, results, history)
    secs = results["seconds"]
    timing = (f"Compilation {secs['compile_s']:.1f} s, search {secs['search_s']:.1f} s, validation "
              f"{secs.get('validation_s', 0):.1f} s; {results['evaluations_per_second']:.3g} evaluations/s.")
    notes = ("A pattern passes when its best candidate, re-simulated, passes the validator at the search "
             "step and again at half the step. Robustness: fraction of 32 perturbations (uniform, +-5% of "
             "each bound's width) that still pass at both steps.")
    md = [f"# jaxplaus assessment: {results['model']}", "", _headline(results), "", timing, "", notes, "",
          "## Summary", "", _markdown_table(summary_table(results)), "", "## Parameters of the optima", "",
          _markdown_table(parameter_table(results)), ""]
    for caption, name in saved:
        md += [f"## {caption}", "", f"![{caption}]({name})", ""]
    (out / "report.md").write_text("\n".join(md))
    images = "".join(
        f"<h2>{html.escape(c)}</h2><img alt='{html.escape(c)}' src='data:image/png;base64,"
        f"{base64.b64encode((out / n).read_bytes()).decode()}'/>" for c, n in saved)
    headline = html.escape(_headline(results)).replace("**", "")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>jaxplaus: {html.escape(results['model'])}</title>"
            "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
            "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px}"
            "img{max-width:100%}</style></head><body>"
            f"<h1>jaxplaus assessment: {html.escape(results['model'])}</h1><p>{headline}</p>"
            f"<p>{html.escape(timing)}</p><p>{html.escape(notes)}</p><h2>Summary</h2>{_html_table(summary_table(results))}"
            f"<h2>Parameters of the optima</h2>{_html_table(parameter_table(results))}{images}</body></html>")
    (out / "report.html").write_text(page)
