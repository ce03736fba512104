"""Assessments side by side: the model x pattern matrix, as Izhikevich (2004, Fig. 2) compares
models, from finished `assess` run directories.

Per model (all its runs together: seeds, budgets) and pattern: the fraction of runs with a
converged optimum (expressivity), the fraction with a physiological one (plausibility), the
mean robustness of the passing optima, and the median evaluations to the first pass. Where
Izhikevich (2004, Fig. 2) gives a verdict for the same model, it is shown beside jaxplaus's,
and a disagreement is flagged.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from jaxplaus import patterns, store
from jaxplaus.errors import UsageError

# Izhikevich (2004), Fig. 2: the features each model can reproduce, for the models jaxplaus
# has. Integrate-and-fire: tonic spiking, class 1 excitability, integrator (3 of 20); the
# Izhikevich (2003) simple model: all 20 (figure1.m shows each).
PUBLISHED = {
    "lif": ("Izhikevich 2004, Fig. 2 (integrate-and-fire)", "AGL"),
    "izhikevich": ("Izhikevich 2004, Fig. 2 (Izhikevich 2003)", "ABCDEFGHIJKLMNOPQRST"),
}


def load(run_dirs) -> list[dict]:
    """The results of finished assessments (a UsageError for a directory that is not one)."""
    out = []
    for run_dir in run_dirs:
        path = Path(run_dir) / store.RESULTS
        if not path.is_file():
            raise UsageError(f"{run_dir} holds no finished run ({store.RESULTS} is missing)")
        results = store.load_json(path)
        if store.kind_of(results) != "assess":
            raise UsageError(f"{run_dir} is not an assessment (compare reads `assess` runs)")
        out.append({**results, "run_dir": str(run_dir)})
    if not out:
        raise UsageError("compare needs at least one assessment run directory")
    return out


def matrix(runs: list[dict]) -> dict:
    """The model x pattern matrix of `load`'s runs (models in order of first appearance)."""
    letters = {name: patterns.get(name).letter for name in patterns.names()}
    models: dict[str, list[dict]] = {}
    for r in runs:
        models.setdefault(r["model"], []).append(r)
    rows = []
    for model, group in models.items():
        cells = {}
        for name in patterns.names():
            entries = [r["patterns"][name] for r in group if name in r["patterns"]]
            if not entries:
                cells[name] = None
                continue
            passed = [e for e in entries if e["passed"]]
            phys = [e["physiological"] for e in entries if e.get("physiological") is not None]
            cells[name] = {
                "runs": len(entries),
                "passed": len(passed) / len(entries),
                "physiological": (sum(bool(p.get("passed")) for p in phys) / len(entries)
                                  if any(r.get("score_within_physiological") is not None for r in group) else None),
                "robustness": float(np.mean([e["validation"]["robustness"] for e in passed])) if passed else None,
                "evaluations_to_pass": (float(np.median([e["evaluations_to_pass"] for e in passed
                                                         if e.get("evaluations_to_pass") is not None]))
                                        if any(e.get("evaluations_to_pass") is not None for e in passed) else None),
            }
        source, published = PUBLISHED.get(model, (None, None))
        rows.append({
            "model": model, "runs": len(group), "seeds": sorted({r["seed"] for r in group}),
            "scores": [r["score"] for r in group],
            "plausibility_scores": [r.get("score_within_physiological") for r in group],
            "patterns": cells,
            "published": None if published is None else {
                "source": source, "patterns": [n for n in patterns.names() if letters[n] in published]},
            "disagreements": [] if published is None else [
                n for n, c in cells.items() if c is not None and (c["passed"] > 0) != (letters[n] in published)],
        })
    return {"patterns": [{"name": n, "letter": letters[n]} for n in patterns.names()], "models": rows}


def figure(doc: dict, out: Path) -> list[str]:
    """compare.png and compare.svg: one row per model, with the published verdict (grey) below
    it where there is one, one column per pattern. Green shade: the fraction of the model's runs
    that pass; a filled dot: a physiological answer in every run, a ring: in some; a red frame:
    jaxplaus and the published verdict disagree."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    names = [p["name"] for p in doc["patterns"]]
    labels, model_rows, published_rows = [], [], []
    for row in doc["models"]:
        labels.append(f"{row['model']} ({row['runs']} run{'s' if row['runs'] > 1 else ''})")
        model_rows.append((len(labels) - 1, row))
        if row["published"]:
            labels.append(row["published"]["source"])
            published_rows.append((len(labels) - 1, row))
    n_rows = len(labels)
    passed = np.full((n_rows, len(names)), np.nan)
    published = np.full((n_rows, len(names)), np.nan)
    for i, row in model_rows:
        passed[i] = [np.nan if row["patterns"][n] is None else row["patterns"][n]["passed"] for n in names]
    for i, row in published_rows:
        published[i] = [1.0 if n in row["published"]["patterns"] else 0.0 for n in names]
    fig, ax = plt.subplots(figsize=(2.5 + 0.4 * len(names), 0.8 + 0.4 * n_rows), dpi=150)
    # a full pass is a medium green, so the dots on it stay visible
    ax.imshow(np.ma.masked_invalid(passed), cmap="Greens", vmin=0.0, vmax=1.5, aspect="equal")
    ax.imshow(np.ma.masked_invalid(published), cmap="Greys", vmin=0.0, vmax=2.5, aspect="equal")
    for i, row in model_rows:
        for j, n in enumerate(names):
            cell = row["patterns"][n]
            if cell is None:
                ax.text(j, i, "-", ha="center", va="center", fontsize=8, color="0.5")
                continue
            if cell["physiological"]:
                full = cell["physiological"] == 1
                ax.plot(j, i, "o", ms=5, mfc="black" if full else "white", mec="black", mew=1.0)
            if n in row["disagreements"]:
                ax.add_patch(Rectangle((j - 0.45, i - 0.45), 0.9, 0.9, fill=False, ec="red", lw=1.6))
    for i in range(1, n_rows):
        ax.axhline(i - 0.5, color="white", lw=1.5)
    ax.set_xticks(range(len(names)), [p["letter"] for p in doc["patterns"]])
    ax.set_yticks(range(n_rows), labels, fontsize=8)
    for i, _ in published_rows:
        ax.get_yticklabels()[i].set_color("0.4")
    ax.tick_params(length=0)
    ax.set_xlabel("pattern (Izhikevich 2004, Fig. 1)")
    ax.set_title("green: fraction of runs that pass; dot: physiological in every run (ring: in some);\n"
                 "grey: the published verdict; red frame: jaxplaus and the published verdict differ", fontsize=8)
    fig.tight_layout()
    files = []
    for suffix, options in (("png", {"dpi": 150}), ("svg", {"metadata": {"Date": None}})):
        store.save_figure(fig, out / f"compare.{suffix}", **options)
        files.append(f"compare.{suffix}")
    plt.close(fig)
    return files


def _cell(c) -> str:
    if c is None:
        return "-"
    text = f"{c['passed']:.0%}"
    if c["physiological"] is not None:
        text += f" / {c['physiological']:.0%}"
    return text


def page(doc: dict) -> str:
    """compare.html: the figure and a table (pass fraction / physiological fraction per cell)."""
    head = "".join(f"<th title='{html.escape(p['name'])}'>{p['letter']}</th>" for p in doc["patterns"])
    body = []
    for row in doc["models"]:
        flagged = set(row["disagreements"])
        cells = "".join(f"<td{' class=bad' if p['name'] in flagged else ''}>{_cell(row['patterns'][p['name']])}</td>"
                        for p in doc["patterns"])
        scores = ", ".join(str(s) for s in row["scores"])
        body.append(f"<tr><th>{html.escape(row['model'])}</th><td>{row['runs']}</td><td>{scores}</td>{cells}</tr>")
        if row["published"]:
            marks = "".join(f"<td>{'yes' if p['name'] in row['published']['patterns'] else 'no'}</td>"
                            for p in doc["patterns"])
            body.append(f"<tr class=published><th colspan=3>{html.escape(row['published']['source'])}</th>{marks}</tr>")
    disagreements = [f"{row['model']}: {', '.join(row['disagreements'])}" for row in doc["models"] if row["disagreements"]]
    notes = ("<p>Disagreements with the published verdicts (cells in red): " + html.escape("; ".join(disagreements))
             + "</p>") if disagreements else "<p>No disagreement with the published verdicts.</p>"
    return ("<!doctype html><meta charset=utf-8><title>jaxplaus compare</title>"
            "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 6px;text-align:center}"
            ".bad{background:#f4c7c3}.published{color:#555;font-size:90%}table{border-collapse:collapse}"
            "tr{border-bottom:1px solid #ddd}</style>"
            "<h1>Models x patterns</h1><img src='compare.png' alt='model x pattern matrix' style='max-width:100%'>"
            "<p>Each cell: the fraction of runs with a converged optimum / with a physiological one.</p>"
            f"<table><tr><th>model</th><th>runs</th><th>scores</th>{head}</tr>{''.join(body)}</table>{notes}")


def compare(run_dirs, out: Path) -> dict:
    """Write compare.json, compare.png/.svg and compare.html into `out`; returns the matrix."""
    doc = matrix(load(run_dirs))
    out = Path(out)
    store.check_writable_parent(out)
    out.mkdir(parents=True, exist_ok=True)
    doc["figures"] = figure(doc, out)
    store.write_text(out / "compare.html", page(doc))
    store.write_json(out / "compare.json", doc)
    return {**doc, "out": str(out)}
