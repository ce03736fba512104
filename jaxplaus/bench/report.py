"""The sampler benchmark's statistics tables, figures and HTML page."""

from __future__ import annotations

import base64
import html
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from jaxplaus import store  # noqa: E402
from jaxplaus.bench import stats  # noqa: E402


def _finite(x):
    """JSON has no inf: an infinite ERT (no success) is written as null."""
    return None if x is None or not np.isfinite(x) else round(float(x), 3)


def _evals(records):
    return np.array([np.inf if r["evaluations_to_success"] is None else r["evaluations_to_success"] for r in records])


def summarize(config, records: list[dict], timings: dict) -> dict:
    """Per problem (model, pattern) and sampler: success rates on the budget ladder, ERT with
    its bootstrap interval, rank; then per sampler the overall picture."""
    by = defaultdict(list)
    for r in records:
        by[(r["model"], r["pattern"], r["sampler"])].append(r)
    names = list(dict.fromkeys(r["sampler"] for r in records))
    problems = list(dict.fromkeys((r["model"], r["pattern"]) for r in records))
    table, ranks = [], defaultdict(list)
    for model, pattern in problems:
        erts, success = {}, {}
        for s in names:
            runs = by.get((model, pattern, s))
            if not runs:
                continue
            e, b = _evals(runs), np.array([r["budget"] for r in runs], float)
            erts[s], success[s] = stats.ert(e, b), float(np.mean(np.isfinite(e)))
            low, high = stats.ert_interval(e, b, seed=len(table))
            table.append({"model": model, "pattern": pattern, "sampler": s, "runs": len(runs),
                          "successes": int(np.isfinite(e).sum()), "budget": int(b.max()),
                          "success_rate": {str(x): stats.success_rate(e, x) for x in config.budgets},
                          "ert": _finite(erts[s]), "ert_ci95": [_finite(low), _finite(high)]})
        for s, value in stats.rank(erts, success).items():
            ranks[s].append(value)
            next(t for t in reversed(table) if t["sampler"] == s)["rank"] = value
    overall = []
    for s in names:
        runs = [r for r in records if r["sampler"] == s]
        e, b = _evals(runs), np.array([r["budget"] for r in runs], float)
        low, high = stats.ert_interval(e, b)
        seconds = sum(t.get("search_s", 0) for k, t in timings.items() if _sampler_of(k) == s)
        overall.append({"sampler": s, "mean_rank": round(float(np.mean(ranks[s])), 3), "problems": len(ranks[s]),
                        "runs": len(runs), "success_rate": float(np.isfinite(e).mean()),
                        "success_rate_at": {str(x): stats.success_rate(e, x) for x in config.budgets},
                        "ert": _finite(stats.ert(e, b)), "ert_ci95": [_finite(low), _finite(high)],
                        "budget": int(b.max()), "search_s": round(seconds, 3),
                        "evaluations": int(np.where(np.isfinite(e), e, b).sum())})
    overall.sort(key=lambda o: (o["mean_rank"], -o["success_rate"]))
    compile_s = sum(t.get("compile_s", 0) for t in timings.values())
    search_s = sum(t.get("search_s", 0) for t in timings.values())
    return {"kind": "bench", "benchmark": "samplers", "models": config.models, "patterns": len(config.patterns),
            "samplers": names, "seeds": config.seeds, "budgets": config.budgets,
            "optuna_budget": config.optuna_budget if config.optuna else None,
            "optuna_seeds": (config.optuna_seeds or config.seeds) if config.optuna else None,
            "optuna_simulator": config.optuna_simulator if config.optuna else None,
            "ranking": overall, "problems": table, "by_model": by_model(config, records),
            "seconds": {"compile_s": round(compile_s, 3), "search_s": round(search_s, 3)}}


def by_model(config, records: list[dict]) -> list[dict]:
    """Success rate per model and sampler within each budget of the ladder (and Optuna's), where
    the sampler's runs had that budget (None beyond it): samplers compared at equal evaluations."""
    budgets = sorted(set(config.budgets) | ({config.optuna_budget} if config.optuna else set()))
    out = []
    for model in dict.fromkeys(r["model"] for r in records):
        for s in dict.fromkeys(r["sampler"] for r in records):
            runs = [r for r in records if r["model"] == model and r["sampler"] == s]
            if runs:
                e, own_budget = _evals(runs), min(r["budget"] for r in runs)
                out.append({"model": model, "sampler": s, "runs": len(runs),
                            "success_rate_at": {str(b): stats.success_rate(e, b) if b <= own_budget else None
                                                for b in budgets}})
    return out


def by_model_markdown(results) -> str:
    """Rows model x budget, columns samplers (in ranking order): success rates at equal evaluations."""
    rows = results["by_model"]
    samplers = [o["sampler"] for o in results["ranking"]]
    cell = {(r["model"], r["sampler"]): r["success_rate_at"] for r in rows}
    budgets = list(rows[0]["success_rate_at"]) if rows else []
    text = (f"| model, evaluations | {' | '.join(samplers)} |\n|" + "---|" * (1 + len(samplers)) + "\n")
    for model in dict.fromkeys(r["model"] for r in rows):
        for b in budgets:
            rates = [cell.get((model, s), {}).get(b) for s in samplers]
            text += f"| {model}, {b} | " + " | ".join("-" if x is None else f"{100 * x:.0f}%" for x in rates) + " |\n"
    return text


def _sampler_of(key: str) -> str:
    return key.split("/")[1]


# --- figures ---------------------------------------------------------------------------------

def _colors(names):
    cmap = plt.get_cmap("tab20" if len(names) > 10 else "tab10")
    return {s: cmap(i % cmap.N) for i, s in enumerate(names)}


def success_vs_budget(results, records):
    """Success rate (over patterns and seeds) against the evaluation budget, per model."""
    models = results["models"]
    colors = _colors(results["samplers"])
    fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 3.6), squeeze=False, sharey=True)
    top = max(r["budget"] for r in records)
    grid = np.unique(np.geomspace(1, top, 200).round())
    for ax, model in zip(axes[0], models):
        for s in results["samplers"]:
            runs = [r for r in records if r["model"] == model and r["sampler"] == s]
            if not runs:
                continue
            budget = max(r["budget"] for r in runs)
            g = grid[grid <= budget]
            ax.step(g, 100 * stats.ecdf(_evals(runs), g), where="post", color=colors[s], label=s)
            ax.plot([budget], [100 * stats.success_rate(_evals(runs), budget)], "o", ms=3, color=colors[s])
        for b in results["budgets"]:
            ax.axvline(b, color="0.85", lw=0.8, zorder=0)
        ax.set_xscale("log")
        ax.set_title(model)
        ax.set_xlabel("evaluations (budget)")
    axes[0][0].set_ylabel("runs reaching the pattern (%)")
    axes[0][-1].legend(fontsize=7, loc="upper left")
    fig.suptitle("Success rate vs budget = runtime ECDF over patterns x seeds (dot: a sampler's budget)")
    fig.tight_layout()
    return fig


def ert_per_sampler(results):
    """Aggregated ERT (all problems) with its 95% bootstrap interval."""
    ranking = results["ranking"]
    fig, ax = plt.subplots(figsize=(6.5, 0.35 * len(ranking) + 1.4))
    names = [o["sampler"] for o in ranking][::-1]
    for y, s in enumerate(names):
        o = next(o for o in ranking if o["sampler"] == s)
        if o["ert"] is None:
            ax.text(1, y, "no success", va="center", fontsize=8)
            continue
        low, high = o["ert_ci95"]
        high = high if high is not None else o["ert"] * 10
        ax.errorbar([o["ert"]], [y], xerr=[[o["ert"] - (low or o["ert"])], [high - o["ert"]]], fmt="o", color="k")
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("expected running time to a pattern (evaluations; 95% bootstrap CI)")
    fig.tight_layout()
    return fig


def rank_heatmap(results):
    """Rank of each sampler on each pattern (mean over models)."""
    table = results["problems"]
    names = [o["sampler"] for o in results["ranking"]]
    pats = list(dict.fromkeys(t["pattern"] for t in table))
    grid = np.full((len(pats), len(names)), np.nan)
    for i, p in enumerate(pats):
        for j, s in enumerate(names):
            values = [t["rank"] for t in table if t["pattern"] == p and t["sampler"] == s and "rank" in t]
            grid[i, j] = np.mean(values) if values else np.nan
    fig, ax = plt.subplots(figsize=(0.55 * len(names) + 2.5, 0.28 * len(pats) + 1.6))
    image = ax.imshow(grid, cmap="viridis_r", aspect="auto")
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(pats)), pats, fontsize=7)
    fig.colorbar(image, ax=ax, label="rank (1 = best ERT)")
    fig.tight_layout()
    return fig


def _png(fig, path: Path) -> str:
    store.save_figure(fig, path, dpi=100)
    plt.close(fig)
    return base64.b64encode(path.read_bytes()).decode()


def ranking_markdown(results) -> str:
    budgets = results["budgets"]
    head = ("| rank | sampler | mean rank | success " + " | ".join(f"@{b}" for b in budgets)
            + " | ERT [95% CI] | search s |\n|" + "---|" * (6 + len(budgets) - 1) + "\n")
    rows = []
    for i, o in enumerate(results["ranking"], 1):
        ci = o["ert_ci95"]
        ert = "inf" if o["ert"] is None else f"{o['ert']:.0f} [{ci[0] or 0:.0f}, {'inf' if ci[1] is None else f'{ci[1]:.0f}'}]"
        rates = " | ".join(f"{100 * o['success_rate_at'][str(b)]:.0f}%" for b in budgets)
        rows.append(f"| {i} | {o['sampler']} | {o['mean_rank']:.2f} | {rates} | {ert} | {o['search_s']:.1f} |")
    return head + "\n".join(rows) + "\n"


def _ert_text(value) -> str:
    return "inf" if value is None else f"{value:.0f}"


def write(out: Path, results: dict, records: list[dict]) -> None:
    figures = [("Success rate vs budget", _png(success_vs_budget(results, records), out / "success_vs_budget.png")),
               ("Expected running time", _png(ert_per_sampler(results), out / "ert.png")),
               ("Rank per pattern", _png(rank_heatmap(results), out / "ranks.png"))]
    store.write_text(out / "ranking.md", ranking_markdown(results) + "\nSuccess rate within the same number of evaluations "
                                    "(-: beyond the sampler's budget):\n\n" + by_model_markdown(results))
    per_pattern = "".join(
        f"<tr><td>{html.escape(t['model'])}</td><td>{html.escape(t['pattern'])}</td><td>{html.escape(t['sampler'])}</td>"
        f"<td>{t.get('rank', '')}</td><td>{t['successes']}/{t['runs']}</td>"
        f"<td>{_ert_text(t['ert'])}</td></tr>"
        for t in sorted(results["problems"], key=lambda t: (t["model"], t["pattern"], t.get("rank", 99))))
    overall = "".join(
        f"<tr><td>{i}</td><td>{html.escape(o['sampler'])}</td><td>{o['mean_rank']:.2f}</td>"
        f"<td>{100 * o['success_rate']:.0f}%</td><td>{_ert_text(o['ert'])}</td>"
        f"<td>{o['ert_ci95']}</td><td>{o['search_s']}</td></tr>" for i, o in enumerate(results["ranking"], 1))
    s = results["seconds"]
    body = (
        f"<h1>Sampler benchmark</h1><p>models {', '.join(results['models'])}; {results['patterns']} patterns; "
        f"{results['seeds']} seeds; budgets {results['budgets']} evaluations per run"
        + (f"; Optuna samplers {results['optuna_budget']} trials per run, {results.get('optuna_seeds')} seeds, "
           f"trials scored by {results.get('optuna_simulator')}" if results["optuna_budget"] else "")
        + f". Compile {s['compile_s']:.1f} s, search {s['search_s']:.1f} s on {results.get('devices', 1)} device(s).</p>"
        "<h2>Overall ranking</h2><table border=1 cellpadding=3><tr><th>#</th><th>sampler</th><th>mean rank</th>"
        f"<th>success</th><th>ERT</th><th>ERT 95% CI</th><th>search s</th></tr>{overall}</table>"
        + "".join(f"<h2>{t}</h2><img src='data:image/png;base64,{b}'>" for t, b in figures)
        + "<h2>Per pattern</h2><table border=1 cellpadding=3><tr><th>model</th><th>pattern</th><th>sampler</th>"
        f"<th>rank</th><th>successes</th><th>ERT</th></tr>{per_pattern}</table>"
    )
    store.write_text(out / "index.html", f"<!doctype html><meta charset=utf-8><title>samplers</title><body>{body}</body>")
