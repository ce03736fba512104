"""A sweep's report: score distribution, pattern rarity, best variants (PNG + report.html)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from jaxplaus import store  # noqa: E402


def score_histogram(results: dict):
    counts = results["score_histogram"]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.bar([int(k) for k in counts], list(counts.values()), color="#4878a8")
    ax.set_xlabel(f"plausibility score (patterns reproduced, of {results['n_patterns']})")
    ax.set_ylabel("variants")
    ax.set_title(f"{results['model']}: {results['n_variants']} variants")
    fig.tight_layout()
    return fig


def pattern_rarity(results: dict):
    fraction = results["pattern_pass_fraction"]
    names = sorted(fraction, key=fraction.get)
    fig, ax = plt.subplots(figsize=(6, 0.25 * len(names) + 1.2))
    ax.barh(names, [100 * fraction[n] for n in names], color="#a85848")
    ax.set_xlabel("variants reproducing the pattern (%)")
    ax.set_xlim(0, 100)
    fig.tight_layout()
    return fig


def _png(fig, path: Path) -> str:
    store.save_figure(fig, path, dpi=110)
    plt.close(fig)
    return base64.b64encode(path.read_bytes()).decode()


def write_report(out: Path, results: dict, arrays: dict) -> None:
    figures = [("score distribution", _png(score_histogram(results), out / "scores.png")),
               ("pattern rarity", _png(pattern_rarity(results), out / "patterns.png"))]
    rows = "".join(
        f"<tr><td>{v['index']}</td><td>{html.escape(v['label'])}</td><td>{v['score']}</td>"
        f"<td>{html.escape(', '.join(v['patterns_passed']))}</td></tr>" for v in results["best_variants"])
    s = results["seconds"]
    rate = results["neuron_steps_per_second"]
    body = (
        f"<h1>Sweep of {html.escape(results['model'])}</h1>"
        f"<p>{results['n_variants']} variants x {results['n_patterns']} patterns, {results['strategy']}, "
        f"{results['evaluations_per_variant_pattern']} evaluations per variant and pattern, "
        f"{results['devices']} device(s). Mean score {results['score_mean']:.2f}, best {results['score_max']}. "
        f"Search {s['search_s']:.1f} s after {s['compile_s']:.1f} s compilation"
        + (f"; {rate:.3g} neuron-steps/s." if rate else ".") + "</p>"
        + "".join(f"<h2>{t}</h2><img src='data:image/png;base64,{b}'>" for t, b in figures)
        + "<h2>Best variants</h2><table border=1 cellpadding=3><tr><th>#</th><th>variant</th><th>score</th>"
        f"<th>patterns</th></tr>{rows}</table>"
    )
    store.write_text(out / "report.html", f"<!doctype html><meta charset=utf-8><title>sweep</title><body>{body}</body>")
