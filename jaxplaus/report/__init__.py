"""Assessment reports: figures (PNG and SVG), `report.md` and a self-contained `report.html`.

A pattern has two answers (`assess.py`): the score optimum, the best anywhere in the search
bounds, and for a model with a physiology the plausibility optimum, inside the physiological
ranges and limits. The report sets them side by side. Both documents are rendered from one
list of blocks (headings, paragraphs, lists, tables, figures), so they always say the same.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import NamedTuple

from jaxplaus import models, patterns, simulate, store, validate
from jaxplaus.report import figures

BOUND_MARK = "†"  # a value on a bound of its search range
STEP_FAILED_MARK = "✗"  # a step of the ladder at which the validator fails
OPTIMUM_FIELDS = ("params", "stimulus", "validation", "warnings", "on_search_bound", "spike_times_ms")
PATTERN_FIELDS = OPTIMUM_FIELDS + ("letter", "passed", "evaluations", "evaluations_to_pass")
RESULTS_FIELDS = ("model", "score", "score_within_physiological", "n_patterns", "bounds", "strategy", "budget",
                  "seed", "dt_ms", "ladder_dt_ms", "seconds", "patterns")


# ---------------------------------------------------------------- reading results.json

def check(results: dict) -> None:
    """Raise ValueError naming the fields the report needs that `results` lacks."""
    missing = [k for k in RESULTS_FIELDS if k not in results]
    physiology = results.get("score_within_physiological") is not None
    for name, r in results.get("patterns", {}).items():
        missing += [f"patterns.{name}.{k}" for k in PATTERN_FIELDS + (("physiological",) if physiology else ())
                    if k not in r]
        if r.get("physiological") is not None:
            missing += [f"patterns.{name}.physiological.{k}" for k in OPTIMUM_FIELDS if k not in r["physiological"]]
    if missing:
        raise ValueError(f"results lack the fields the report needs: {', '.join(missing)}")


def has_physiology(results: dict) -> bool:
    """A model without a physiology has no plausibility score (and no physiological optima)."""
    return results["score_within_physiological"] is not None


def kinds(results: dict) -> tuple[figures.Kind, ...]:
    return (figures.SCORE, figures.PHYSIOLOGICAL) if has_physiology(results) else (figures.SCORE,)


def optimum(result: dict, kind: figures.Kind) -> dict | None:
    """A pattern's optimum of one kind (None: not found)."""
    return result if kind is figures.SCORE else result.get("physiological")


def optima(results: dict) -> list[tuple[str, figures.Kind, dict]]:
    """Every optimum found, pattern by pattern, the score optimum first: the order in which
    `assess._results` simulates them, so simulating them again reuses its compiled program."""
    return [(name, kind, optimum(r, kind)) for name, r in results["patterns"].items()
            for kind in kinds(results) if optimum(r, kind) is not None]


def simulate_optima(results: dict):
    """(model, {name: pattern}, {(name, kind key): full-resolution response}) of every optimum
    found, simulated in one batched call."""
    model = models.get(results["model"], **results.get("model_options", {}))
    pats = {name: patterns.get(name) for name in results["patterns"]}
    found = optima(results)
    responses = simulate.full_resolution(
        model, [e["params"] for _, _, e in found], [pats[n].protocol.pieces for n, _, _ in found],
        [list(e["stimulus"].values()) for _, _, e in found], [results["dt_ms"]] * len(found),
        [pats[n].protocol.duration_ms for n, _, _ in found])
    return model, pats, {(n, kind.key): resp for (n, kind, _), resp in zip(found, responses)}


# ---------------------------------------------------------------- figures

def _units(results: dict, model) -> tuple[str, str]:
    """Axis labels of voltage and input: v in mV where the physiology bounds it in mV."""
    phys = results.get("physiology") or {}
    v_unit = "v (mV)" if phys.get("voltage_range_mV") or model.current_unit == "pA" else "v"
    current = _current_unit(model)
    return v_unit, f"I ({current})" if current else "I"


def write_figures(out: Path, results: dict, history) -> list[tuple[str, str]]:
    """Save the figures as PNG and SVG; returns (caption, PNG name) pairs."""
    model, pats, responses = simulate_optima(results)
    v_unit, i_unit = _units(results, model)
    shown_kinds = kinds(results)
    saved = []
    for cls, label in figures.CLASSES:
        panels = [figures.Panel(pats[name], results["dt_ms"], {
            kind.key: figures.Shown(optimum(r, kind), responses[name, kind.key])
            for kind in shown_kinds if optimum(r, kind) is not None})
            for name, r in results["patterns"].items() if pats[name].input_class == cls]
        if not panels:
            continue
        fig = figures.optima_traces(panels, shown_kinds, f"{results['model']}: {label}", v_unit, i_unit)
        saved.append((f"Traces, {label}", figures.save(fig, out, f"traces_{cls}")))
        fig = figures.optima_intervals(panels, shown_kinds, f"{results['model']}: spike intervals, {label}")
        saved.append((f"Intervals, {label}", figures.save(fig, out, f"intervals_{cls}")))
    saved.append(("Convergence", figures.save(figures.convergence(history), out, "convergence")))
    return saved


# ---------------------------------------------------------------- blocks of the documents

class Cell(NamedTuple):
    text: str
    tone: str = ""  # a CSS class in the HTML: pass, fail, missing, score, physiological


class Table(NamedTuple):
    rows: list  # header, then rows; entries str or Cell
    notes: tuple = ()


class Heading(NamedTuple):
    text: str
    level: int = 2


class Paragraph(NamedTuple):
    text: str  # **bold** allowed


class Bullets(NamedTuple):
    items: list  # str, or (str, [sub-items])


class Figure(NamedTuple):
    caption: str
    png: str


def _fmt(x) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def _ladder(results: dict) -> str:
    return ", ".join(_fmt(float(d)) for d in results["ladder_dt_ms"])


def _current_unit(model) -> str:
    """The model's current unit for tables and axes ("" when dimensionless)."""
    unit = model.current_unit
    return "" if unit.startswith("dimensionless") else unit


def _gain_units(pattern, current_unit: str) -> dict[str, str]:
    """Unit of each stimulus gain: the current unit, per ms for a gain that scales a ramp rising
    by one per ms."""
    per_ms = {p.channel for p in pattern.protocol.pieces if p.level == 0.0 and p.slope == 1.0}
    units = {}
    for channel, gain in enumerate(pattern.protocol.gains):
        if channel in per_ms:
            units[gain.name] = f"{current_unit}/ms" if current_unit else "per ms"
        else:
            units[gain.name] = current_unit
    return units


def _pretty(name: str) -> str:
    return name.replace("_", " ")


def _limits(phys: dict) -> list[str]:
    """The physiological limits of `results["physiology"]`, in words."""
    per = f" (the limit scales with {phys['input_per']})" if phys.get("input_per") else ""
    unit = f" {phys['input_unit']}" if phys.get("input_unit") else ""
    out = [f"peak |input| at most {_fmt(float(phys['max_input']))}{unit}{per}"]
    if phys.get("voltage_range_mV"):
        low, high = phys["voltage_range_mV"]
        out.append(f"membrane potential within [{_fmt(float(low))}, {_fmt(float(high))}] mV")
    else:
        out.append("membrane potential: no limit (v has no physical unit)")
    out.append(f"no spike interval shorter than {_fmt(float(phys['min_interval_ms']))} ms")
    out.append(f"source: {phys.get('source') or 'not given'}")
    return out


def _search(results: dict) -> str:
    if results.get("ipop"):
        runs = ", ".join(f"{ph['runs']}x{ph['population']}" for ph in results.get("phases", []))
        return f"{results['strategy']} with IPOP restarts (runs x population: {runs})"
    return results["strategy"]


def headline(results: dict) -> list:
    n, model = results["n_patterns"], results["model"]
    done = results.get("evaluations_per_pattern", results["evaluations"] / n)
    budget = f" (budget {results['budget']}; the search runs whole chunks of generations)" \
        if round(done) != results["budget"] else ""
    setting = (f"{results['bounds']} bounds, {_search(results)}, {done:.0f} evaluations per pattern "
               f"on average{budget}, seed {results['seed']}, search step {_fmt(float(results['dt_ms']))} ms")
    score = (f"**Score {results['score']}/{n}**: patterns with a converged optimum anywhere in the "
             f"{results['bounds']} search bounds. It passes the pattern's validator at every step of the "
             f"ladder dt = {_ladder(results)} ms, with spike counts that agree down the ladder.")
    robustness = (f"**Robustness**: fraction of random perturbations of an optimum (+-"
                  f"{validate.ROBUSTNESS_WIDTH:.0%} of each coordinate's search range) that still pass at dt "
                  f"and dt/2; for the plausibility optimum, perturbations inside the physiological box that "
                  f"also keep within the limits.")
    if not has_physiology(results):
        return [Paragraph(f"**{model}** reproduces **{results['score']} of {n}** patterns ({setting}). It "
                          "declares no physiological ranges or limits, so it has no plausibility score."),
                Bullets([score, robustness])]
    phys_score = results["score_within_physiological"]
    plausibility = (f"**Plausibility score {phys_score}/{n}**: patterns with a converged optimum inside the "
                    "physiological parameter ranges whose input and response stay within the model's "
                    "physiological limits at every step of the ladder:", _limits(results["physiology"]))
    return [Paragraph(f"**{model}** reproduces **{results['score']} of {n}** patterns anywhere in its bounds "
                      f"(score) and **{phys_score} of {n}** physiologically (plausibility score); {setting}."),
            Bullets([score, plausibility, robustness])]


def _spikes(validation: dict) -> str:
    """Spike counts down the ladder, a step where the validator fails marked."""
    return "/".join(f"{n}{'' if ok else STEP_FAILED_MARK}"
                    for n, ok in zip(validation["spikes_per_dt"], validation["passed_per_dt"]))


def warning_tags(entry: dict) -> str:
    """The warnings of an optimum in a few words (the full text is in the report's warnings)."""
    tags = [f"{len(entry['on_search_bound'])} on bound"] if entry["on_search_bound"] else []
    for text in entry["warnings"]:
        if text.startswith("on a bound"):
            continue  # counted from on_search_bound
        if text.startswith("peak input"):
            tags.append("input > limit")
        elif text.startswith("shortest interval"):
            tags.append("interval < limit")
        elif text.startswith("v from"):
            tags.append("v out of range")
        elif "feature buffer" in text:
            tags.append("spikes > buffer")
        else:
            tags.append(text if len(text) <= 24 else text[:23] + "…")
    return "; ".join(tags) or "-"


def _passed(entry: dict | None) -> Cell:
    if entry is None:
        return Cell("not found", "missing")
    return Cell("yes", "pass") if entry["passed"] else Cell("no", "fail")


def summary_table(results: dict) -> Table:
    """Per pattern, both optima side by side: passed, spike counts down the ladder, robustness,
    evaluations to pass, warnings."""
    phys = has_physiology(results)
    header = ["", "pattern", "reproduced"] + (["physiological"] if phys else []) + [
        "spikes", "robustness", "evaluations to pass / spent", "warnings"]
    if phys:
        header += ["phys. spikes", "phys. robustness", "phys. warnings"]
    rows = [header]
    for name, r in results["patterns"].items():
        v = r["validation"]
        to_pass = r["evaluations_to_pass"]
        row = [r["letter"], _pretty(name), _passed(r)] + ([_passed(r["physiological"])] if phys else []) + [
            _spikes(v), f"{v['robustness']:.2f}", f"{to_pass if to_pass is not None else '-'} / {r['evaluations']}",
            warning_tags(r)]
        if phys:
            p = r["physiological"]
            row += ([_spikes(p["validation"]), f"{p['validation']['robustness']:.2f}", warning_tags(p)]
                    if p is not None else ["-", "-", "-"])
        rows.append(row)
    samples = next(iter(results["patterns"].values()))["validation"].get("robustness_samples")
    notes = [f"Spikes: counts at dt = {_ladder(results)} ms; {STEP_FAILED_MARK}: the validator fails at that step.",
             f"Robustness: of {samples} perturbations." if samples else "",
             "Evaluations to pass: spent on the pattern until the search first found a passing candidate "
             "(before validation); spent: all evaluations of the pattern.",
             "Warnings: n on bound = n parameters or stimulus gains on a bound of their search range; input, "
             "interval, v: outside the physiological limits. The full warnings follow the table."]
    return Table(rows, tuple(n for n in notes if n))


def warnings_list(results: dict) -> Bullets:
    items = []
    for name, r in results["patterns"].items():
        sub = [f"{kind.axis_label}: " + "; ".join(optimum(r, kind)["warnings"]) for kind in kinds(results)
               if optimum(r, kind) is not None and optimum(r, kind)["warnings"]]
        if sub:
            items.append((f"({r['letter']}) {_pretty(name)}", sub))
    return Bullets(items or ["none"])


def ranges_table(results: dict, model) -> Table:
    space = model.param_space
    phys = has_physiology(results)
    rows = [["parameter", "unit", "search bounds (wide)"] + (["physiological range"] if phys else [])]
    for p in space.params:
        row = [p.name, p.unit or "-", f"{_fmt(float(p.low))} to {_fmt(float(p.high))}" + (" (log)" if p.log else "")]
        if phys:
            row.append(f"{_fmt(float(p.physiological[0]))} to {_fmt(float(p.physiological[1]))}"
                       if p.physiological else "as wide")
        rows.append(row)
    return Table(rows)


def _value(name: str, x: float, unit: str, on_bound: set) -> str:
    mark = BOUND_MARK if name in on_bound else ""
    return f"{_fmt(float(x))}{' ' + unit if unit else ''}{mark}"


def parameter_table(results: dict, model=None) -> Table:
    """The parameters (with units) and stimulus of every optimum, a value on a search bound marked."""
    model = model or models.get(results["model"], **results.get("model_options", {}))
    space, current = model.param_space, _current_unit(model)
    names = list(space.names)
    several = len(kinds(results)) > 1
    header = ["", "pattern"] + (["optimum"] if several else []) + [
        f"{n} ({space[n].unit})" if space[n].unit else n for n in names] + [
        f"stimulus ({current})" if current else "stimulus"]
    rows = [header]
    for name, r in results["patterns"].items():
        units = _gain_units(patterns.get(name), current)
        for kind in kinds(results):
            entry = optimum(r, kind)
            lead = [r["letter"], _pretty(name)] + ([Cell(kind.axis_label, kind.key)] if several else [])
            if entry is None:
                rows.append(lead + [Cell("not found", "missing")] + [""] * len(names))
                continue
            bound = set(entry["on_search_bound"])
            stimulus = ", ".join(f"{g} = {_value(g, x, '' if units.get(g) == current else units.get(g, ''), bound)}"
                                 for g, x in entry["stimulus"].items())
            rows.append(lead + [_value(n, entry["params"][n], "", bound) for n in names] + [stimulus])
    note = (f"{BOUND_MARK}: on a bound of its search range (the {results['bounds']} bounds; for the model "
            "parameters of a plausibility optimum, the physiological range).")
    return Table(rows, (note,))


def search_section(results: dict) -> list:
    phases = results.get("search_phases") or []
    rows = [["phase", "patterns", "runs x population", "generations", "evaluations per pattern"]]
    everyone = set(results["patterns"])
    for k, ph in enumerate(phases, 1):
        names = ph["patterns"]
        which = f"all {len(names)}" if set(names) == everyone else (
            f"{len(names)}: " + ", ".join(_pretty(n) for n in names))
        rows.append([str(k), which, f"{ph['restarts']} x {ph['population']}", str(ph["generations"]),
                     str(ph["evaluations_per_pattern"])])
    secs = results["seconds"]
    rate = results.get("evaluations_per_second")
    timing = (f"Compilation {secs.get('compile_s', 0):.1f} s, search {secs.get('search_s', 0):.1f} s, validation "
              f"{secs.get('validation_s', 0):.1f} s" + (f"; {rate:.3g} evaluations/s." if rate else "."))
    text = (f"Search: {_search(results)}, {results.get('evaluations', '?')} evaluations in all. "
            + ("The first phase searches every pattern; the second spends the rest of the budget on the "
               "patterns still unresolved after it (no converged optimum, or no physiological one)."
               if len(phases) > 1 else "One phase: every pattern was resolved in it, or too little budget was "
               "left for a second."))
    return [Paragraph(text)] + ([Table(rows)] if phases else []) + [Paragraph(timing)]


def _figure_legend(results: dict) -> str:
    if not has_physiology(results):
        return ("Traces: membrane potential of each pattern's optimum (above) and its input (below); "
                "grey: an optimum that does not reproduce its pattern (the lowest loss found). Convergence: "
                "each pattern's best loss so far over all its runs against the evaluations spent on it. Each "
                "figure is also saved as SVG beside the PNG.")
    return ("Traces: membrane potential of each pattern's score optimum (blue, solid, top) and plausibility "
            "optimum (orange, middle), and the inputs of both (bottom, same styles; the plausibility "
            "optimum's dashed). Grey: an optimum that does not reproduce its pattern (the lowest loss "
            "found). Intervals: the same two styles, circles and squares. Convergence: each pattern's best "
            "loss so far over all its runs against the evaluations spent on it. Each figure is also saved "
            "as SVG beside the PNG.")


def blocks(results: dict, model, saved) -> list:
    doc = [Heading(f"jaxplaus assessment: {results['model']}", 1)] + headline(results)
    doc += [Heading("Summary"), summary_table(results), Heading("Warnings"), warnings_list(results),
            Heading("Parameters of the optima"), parameter_table(results, model),
            Heading("Parameter ranges", 3), ranges_table(results, model),
            Heading("Search")] + search_section(results)
    doc += [Heading("Figures"), Paragraph(_figure_legend(results))]
    doc += [Figure(caption, png) for caption, png in saved]
    if results.get("provenance"):
        doc += [Heading("Provenance"), Paragraph(provenance_line(results["provenance"]))]
    return doc


def provenance_line(p: dict) -> str:
    """What produced the run, in one line (results.json's `provenance`)."""
    parts = [f"jaxplaus {p.get('jaxplaus') or '?'}" + (f" (git {p['git_commit'][:12]}"
                                                      + (", with local changes" if p['git_commit'].endswith("-dirty")
                                                         else "") + ")" if p.get("git_commit") else ""),
             f"jax {p.get('jax')}, jaxlib {p.get('jaxlib')}, evosax {p.get('evosax')}, Python {p.get('python')}"]
    if p.get("backend"):
        parts.append(f"{p['backend']} backend ({', '.join(sorted(set(p.get('devices') or [])))})")
    parts += [p.get("platform", ""), "command: " + " ".join(p.get("command") or [])]
    return "; ".join(x for x in parts if x) + "."


# ---------------------------------------------------------------- rendering

def _md_cell(c) -> str:
    return str(c.text if isinstance(c, Cell) else c).replace("|", "\\|")


def _markdown(doc) -> str:
    lines = []
    for b in doc:
        if isinstance(b, Heading):
            lines += ["#" * b.level + " " + b.text]
        elif isinstance(b, Paragraph):
            lines += [b.text]
        elif isinstance(b, Bullets):
            for item in b.items:
                text, sub = item if isinstance(item, tuple) else (item, [])
                lines += [f"- {text}"] + [f"  - {s}" for s in sub]
        elif isinstance(b, Table):
            lines += ["| " + " | ".join(_md_cell(c) for c in b.rows[0]) + " |", "|" + "---|" * len(b.rows[0])]
            lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in b.rows[1:]]
            lines += [""] + [n + "  " for n in b.notes] if b.notes else []
        elif isinstance(b, Figure):
            svg = b.png[:-4] + ".svg"
            lines += [f"**{b.caption}** ([SVG]({svg}))", "", f"![{b.caption}]({b.png})"]
        lines.append("")
    return "\n".join(lines)


def _inline(text: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(text))


def _html_cell(c, tag="td") -> str:
    text, tone = (c.text, c.tone) if isinstance(c, Cell) else (str(c), "")
    return f"<{tag}{f' class={tone}' if tone else ''}>{html.escape(text)}</{tag}>"


def _html_block(b, out: Path) -> str:
    if isinstance(b, Heading):
        return f"<h{b.level}>{html.escape(b.text)}</h{b.level}>"
    if isinstance(b, Paragraph):
        return f"<p>{_inline(b.text)}</p>"
    if isinstance(b, Bullets):
        items = []
        for item in b.items:
            text, sub = item if isinstance(item, tuple) else (item, [])
            inner = "<ul>" + "".join(f"<li>{_inline(s)}</li>" for s in sub) + "</ul>" if sub else ""
            items.append(f"<li>{_inline(text)}{inner}</li>")
        return "<ul>" + "".join(items) + "</ul>"
    if isinstance(b, Table):
        head = "".join(_html_cell(c, "th") for c in b.rows[0])
        body = "".join("<tr>" + "".join(_html_cell(c) for c in r) + "</tr>" for r in b.rows[1:])
        notes = "".join(f"<p class=note>{_inline(n)}</p>" for n in b.notes)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{notes}"
    if isinstance(b, Figure):
        data = base64.b64encode((out / b.png).read_bytes()).decode()
        svg = html.escape(b.png[:-4] + ".svg")
        return (f"<figure><figcaption>{html.escape(b.caption)} (<a href='{svg}'>SVG</a>)</figcaption>"
                f"<img alt='{html.escape(b.caption)}' src='data:image/png;base64,{data}'/></figure>")
    raise TypeError(f"unknown report block {type(b).__name__}")


STYLE = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}"
         "table{border-collapse:collapse;font-size:13px;margin:0.5em 0}td,th{border:1px solid #ccc;padding:3px 7px}"
         "th{background:#f3f3f3;text-align:left}td.pass{background:#d5e8f6}td.fail{background:#fbdcc4}"
         "td.missing{background:#ececec;color:#555}td.score{color:#0072B2;font-weight:bold}"
         "td.physiological{color:#a86f00;font-weight:bold}p.note{font-size:12px;color:#555;margin:0.2em 0}"
         "figure{margin:1.5em 0}figcaption{font-weight:bold;margin-bottom:0.3em}img{max-width:100%}")


def _html(doc, out: Path, title: str) -> str:
    body = "".join(_html_block(b, out) for b in doc)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>")


def write_report(out: Path, results: dict, history) -> None:
    """Figures, report.md and report.html of an assessment in the run directory `out`."""
    check(results)
    out = Path(out)
    saved = write_figures(out, results, history)
    model = models.get(results["model"], **results.get("model_options", {}))
    doc = blocks(results, model, saved)
    store.write_text(out / "report.md", _markdown(doc))
    store.write_text(out / "report.html", _html(doc, out, f"jaxplaus: {results['model']}"))
