"""Figures of a meta-learning run: loss and rule parameters per generation, the learned
correlation matrix, and rasters/rates of the network before and after learning."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jaxplaus import store

RASTER_SECONDS = 2.0


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def loss_curve(path: Path, document: dict) -> None:
    plt = _pyplot()
    gens = [r["generation"] for r in document["generations"]]
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.semilogy(gens, [r["loss"] for r in document["generations"]], "k-o", ms=3, label="mean rule")
    ax.semilogy(gens, [r["best_loss"] for r in document["generations"]], "C1-", lw=1, label="best candidate")
    check = document["final_rule"].get("heldout")
    if check:  # the final rule on fresh trials, +- its standard error (kept above 0 on the log axis)
        sem = check["loss_sem"] or 0.0
        ax.errorbar([gens[-1] + 1], [check["loss"]], yerr=[[min(sem, 0.9 * check["loss"])], [sem]], fmt="s", color="C0",
                    ms=5, capsize=3, label=f"final rule, {check['trials']} fresh trials")
    ax.axhline(0.1, color="0.6", ls="--", lw=0.8)
    ax.set_xlabel("generation")
    ax.set_ylabel(f"{document['task']} loss")
    ax.set_title(f"{document['rule']} on the {document['network']} network")
    # below the axes: the curves span the whole plot, a legend inside would hide some of them
    ax.legend(frameon=False, fontsize=8, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    fig.tight_layout()
    store.save_figure(fig, path, dpi=110)
    plt.close(fig)


def parameters(path: Path, document: dict) -> None:
    plt = _pyplot()
    names = list(document["final_rule"]["params"])
    means = np.array([r["mean"] for r in document["generations"]])
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for i, name in enumerate(names[:12]):
        ax.plot(means[:, i], label=name)
    ax.set_xlabel("generation")
    ax.set_ylabel("mean of the search distribution")
    ax.legend(frameon=False, fontsize=6, ncol=2)
    fig.tight_layout()
    store.save_figure(fig, path, dpi=110)
    plt.close(fig)


def correlation_matrix(path: Path, document: dict) -> None:
    plt = _pyplot()
    corr = np.asarray(document["correlation"])
    names = list(document["final_rule"]["params"])
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    image = ax.imshow(corr, vmin=-1, vmax=1, cmap="RdBu_r")
    if len(names) <= 12:
        ax.set_xticks(range(len(names)), [n.split(".")[-1] for n in names], rotation=90, fontsize=7)
        ax.set_yticks(range(len(names)), [n.split(".")[-1] for n in names], fontsize=7)
    share = document["spectrum"]["largest_share"]
    ax.set_title(f"learned correlation (top eigenvalue {share:.0%})", fontsize=9)
    fig.colorbar(image)
    fig.tight_layout()
    store.save_figure(fig, path, dpi=110)
    plt.close(fig)


def rasters(path: Path, net, rule, task, before, after, seed: int) -> None:
    """Same trial, same input: the initial rule and the learned one, RASTER_SECONDS each."""
    import jax
    import jax.numpy as jnp

    from jaxplaus.plasticity.network import draw_trial, initial_state
    from jaxplaus.plasticity.simulation import record

    trial = draw_trial(jax.random.PRNGKey(seed), net)
    n_steps = int(round(RASTER_SECONDS / net.dt))

    @jax.jit
    def simulate(theta):
        def drive(t_index):
            return {"E": trial.input_rate, "I": trial.input_rate}, 1.0

        _, counts, raster = record(net, rule, theta, trial, initial_state(net, trial, rule), n_steps, drive)
        return counts, raster

    plt = _pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(8, 4.5), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    bin_steps = int(round(0.01 / net.dt))
    for column, (label, theta) in enumerate((("before learning", before), ("after learning", after))):
        (count_e, count_i), (raster_e, raster_i) = jax.device_get(simulate(jnp.asarray(theta, jnp.float32)))
        t = np.arange(n_steps) * net.dt
        steps, neurons = np.nonzero(raster_e)
        axes[0, column].plot(t[steps], neurons, "|", color="C3", ms=2)
        steps, neurons = np.nonzero(raster_i)
        axes[0, column].plot(t[steps], neurons + raster_e.shape[1], "|", color="C0", ms=2)
        axes[0, column].set_title(f"{label} (input {float(trial.input_rate):.1f} Hz)", fontsize=9)
        for counts, size, color, name in ((count_e, net.n_e, "C3", "E"), (count_i, net.n_i, "C0", "I")):
            rate = counts[: len(counts) // bin_steps * bin_steps].reshape(-1, bin_steps).sum(1) / (size * 0.01)
            axes[1, column].plot(np.arange(len(rate)) * 0.01, rate, color=color, label=name, lw=0.8)
        axes[1, column].set_xlabel("time (s)")
    axes[0, 0].set_ylabel("neuron")
    axes[1, 0].set_ylabel("rate (Hz)")
    axes[1, 0].legend(frameon=False)
    fig.tight_layout()
    store.save_figure(fig, path, dpi=100)
    plt.close(fig)


def save_all(out: Path, document: dict, net, rule, task, initial_mean) -> dict:
    files = {
        "loss": out / "loss.png",
        "parameters": out / "parameters.png",
        "correlation": out / "correlation.png",
        "rasters": out / "rasters.png",
    }
    loss_curve(files["loss"], document)
    parameters(files["parameters"], document)
    correlation_matrix(files["correlation"], document)
    final = np.asarray(document["generations"][-1]["mean"])
    rasters(files["rasters"], net, rule, task, initial_mean, final, document["seed"])
    return {k: str(v) for k, v in files.items()}
