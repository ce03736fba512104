"""Meta-learning plasticity rules: an evosax strategy over rule parameters, each generation's
candidates x trials simulated in one jitted, vmapped call.

Every generation evaluates the population plus the strategy's mean (Confavreux et al. 2025:
population 10 plus the mean, 10 trials = 110 networks); the mean's loss is the learning curve.
All candidates of a generation see the same trials (connectivity, initial weights, w_max, input
rate and input noise drawn from the generation's key), so they are ranked on common random
numbers. Keys derive from (seed, generation) only, so a resumed run repeats an uninterrupted one
exactly.
"""

from __future__ import annotations

import functools
import sys
import time
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxplaus.errors import UsageError
from jaxplaus.plasticity.network import Network, draw_trial
from jaxplaus.plasticity.tasks import draw_train_seconds


def strategy_names() -> dict:
    """Distribution-based evosax algorithms by name (they start from a mean, as a rule search
    should: from "no plasticity")."""
    from evosax.algorithms import distribution_based_algorithms

    return dict(distribution_based_algorithms)


def make_strategy(name: str, population: int, n_params: int, sigma: float):
    algorithms = strategy_names()
    lookup = {k.lower(): k for k in algorithms}
    if name.lower() not in lookup:
        raise UsageError(f"unknown strategy {name!r}; choose from {', '.join(sorted(algorithms))}")
    cls = algorithms[lookup[name.lower()]]
    try:
        strategy = cls(population_size=population, solution=jnp.zeros(n_params))
        params = strategy.default_params
    except Exception as err:  # a strategy that cannot be built with these sizes
        raise UsageError(f"strategy {name} cannot run with population {population}: {err}") from None
    if hasattr(params, "std_init"):
        params = params.replace(std_init=jnp.asarray(sigma, jnp.float32))
    return strategy, params


BATCH_AXES = TRIALS_AXIS, CANDIDATES_AXIS = ("trials", "candidates")  # the evaluator's vmap axes, named for `network.step`


TRIAL_DRAWS = ("stratified", "independent")


def stratified_quantiles(key, n_trials: int, n_dims: int = 2):
    """[n_trials, n_dims] points of a Latin hypercube in [0, 1): along each dimension, one point
    in each of `n_trials` equal strata, the strata of different dimensions paired at random."""
    k_order, k_within = jax.random.split(key)
    order = jax.vmap(lambda k: jax.random.permutation(k, n_trials))(jax.random.split(k_order, n_dims))
    within = jax.random.uniform(k_within, (n_dims, n_trials))
    return ((order + within) / n_trials).T


@functools.lru_cache(maxsize=8)  # one compiled evaluator per configuration and process
def make_evaluator(net: Network, rule, task, n_trials: int, connectivity_per_trial: bool = True,
                   trial_draws: str = "independent") -> Callable:
    """jit(thetas [C, d], key) -> (losses [C, n_trials], diagnostics of [C, n_trials]).

    With `connectivity_per_trial=False` the trials of one call share one connectivity (still
    redrawn every call, i.e. every generation) while initial weights, w_max, input rate and
    noise are redrawn per trial (Confavreux et al. 2025 redraw w_IE, w_max and input rate): on a
    CPU, gathers through per-trial (batched) index arrays cost more than through one shared
    array (docs/performance.md, "One connectivity per generation").

    `trial_draws="stratified"` places the trials' w_max and input rate on a Latin hypercube
    (with 2 trials: one input rate in each half of its range) instead of drawing them
    independently. A candidate's loss depends strongly on the input rate, so a few independent
    trials often miss one end of the range; stratified, every call covers it.
    """
    if trial_draws not in TRIAL_DRAWS:
        raise UsageError(f"unknown trial draws {trial_draws!r}; choose from {', '.join(TRIAL_DRAWS)}")

    def evaluate(thetas, key):
        k_shared, k_trials = jax.random.split(key)
        shared = draw_trial(k_shared, net).connectivity
        trial_keys = jax.random.split(k_trials, n_trials)
        # its own key, so the independent draws stay what they were before this option existed
        quantiles = stratified_quantiles(jax.random.fold_in(k_shared, 1), n_trials) if trial_draws == "stratified" else None

        def per_trial(k, q):
            k_trial, k_train = jax.random.split(k)
            trial = draw_trial(k_trial, net, q)
            if not connectivity_per_trial:
                trial = trial._replace(connectivity=shared)
            train_s = draw_train_seconds(k_train, task)
            loss = lambda theta: task.trial_loss(net, rule, theta, trial, train_s, batch_axes=BATCH_AXES)  # noqa: E731
            return jax.vmap(loss, axis_name=CANDIDATES_AXIS)(thetas)

        losses, diagnostics = jax.vmap(per_trial, axis_name=TRIALS_AXIS)(trial_keys, quantiles)
        return losses.T, jax.tree_util.tree_map(lambda x: x.T, diagnostics)

    return jax.jit(evaluate)


def shard_candidates(thetas):
    """Spread candidates over all local devices when there are several (padding with copies of
    the last candidate); a single device gets the array unchanged. Returns (thetas, n_real)."""
    devices = jax.devices()
    n = thetas.shape[0]
    if len(devices) == 1:
        return thetas, n
    padded = -(-n // len(devices)) * len(devices)
    thetas = jnp.concatenate([thetas, jnp.repeat(thetas[-1:], padded - n, axis=0)])
    mesh = jax.sharding.Mesh(np.array(devices), ("candidates",))
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("candidates"))
    return jax.device_put(thetas, sharding), n


class Search(NamedTuple):
    strategy: object
    params: object
    evaluate: Callable
    rule: object


def init_state(search: Search, seed: int, mean):
    key = jax.random.fold_in(jax.random.PRNGKey(seed), 0x5EED)
    return search.strategy.init(key, jnp.asarray(mean, jnp.float32), search.params)


def _rate(values, blown):
    """Mean rate over the trials that did not blow up (None when all did)."""
    return float(np.nanmean(values[~blown])) if (~blown).any() else None


def generation(search: Search, state, seed: int, index: int):
    """One generation: ask, evaluate population + mean over the trials, tell."""
    key = jax.random.fold_in(jax.random.PRNGKey(seed), index)
    k_ask, k_eval, k_tell = jax.random.split(key, 3)
    population, state = search.strategy.ask(k_ask, state, search.params)
    mean = search.strategy.get_mean(state)
    candidates, n = shard_candidates(jnp.concatenate([population, mean[None]]))
    losses, diagnostics = search.evaluate(candidates, k_eval)
    losses = np.asarray(losses)[:n]
    per_candidate = losses.mean(axis=1)
    fitness = jnp.asarray(per_candidate[:-1])
    state, _ = search.strategy.tell(k_tell, population, fitness, state, search.params)
    diagnostics = {k: np.asarray(v)[:n] for k, v in diagnostics.items()}
    record = {
        "generation": index,
        "loss": float(per_candidate[-1]),  # the mean rule's loss, averaged over trials
        "best_loss": float(per_candidate[:-1].min()),
        "median_loss": float(np.median(per_candidate[:-1])),
        "mean": [float(x) for x in np.asarray(mean)],
        "blown_fraction": float(diagnostics["blown"][:-1].mean()),
        "mean_rate_e": _rate(diagnostics["rate_e"][-1], diagnostics["blown"][-1]),
        "mean_rate_i": _rate(diagnostics["rate_i"][-1], diagnostics["blown"][-1]),
    }
    return state, record


HELDOUT_KEY = 0x4E1D0  # folded into the seed: trials that no generation (keys 0, 1, ...) draws


def heldout_losses(net: Network, rule, task, thetas, n_trials: int, connectivity_per_trial: bool, seed: int):
    """Rules `thetas` [C, d] on the `n_trials` held-out trials of `seed`, as one batch:
    (losses [C, n_trials], diagnostics of [C, n_trials])."""
    evaluate = make_evaluator(net, rule, task, n_trials, connectivity_per_trial)
    key = jax.random.fold_in(jax.random.PRNGKey(seed), HELDOUT_KEY)
    return evaluate(jnp.asarray(thetas, jnp.float32), key)


def heldout(net: Network, rule, task, theta, n_trials: int, connectivity_per_trial: bool, seed: int) -> dict:
    """The rule `theta` on `n_trials` fresh trials, simulated as one batch. A generation's loss
    averages only its few trials, redrawn each generation, so it is a noisy estimate; this is the
    final rule's loss with a standard error."""
    losses, diagnostics = heldout_losses(net, rule, task, np.asarray(theta)[None], n_trials, connectivity_per_trial,
                                         seed)
    losses = np.asarray(losses, np.float64)[0]
    blown = np.asarray(diagnostics["blown"])[0]
    sem = float(losses.std(ddof=1) / np.sqrt(n_trials)) if n_trials > 1 else None
    return {
        "trials": n_trials,
        "loss": float(losses.mean()),
        "loss_sem": sem,
        "losses": losses.tolist(),
        "blown": blown.tolist(),
        "blown_fraction": float(blown.mean()),
        "rate_e_hz": _rate(np.asarray(diagnostics["rate_e"])[0], blown),
        "rate_i_hz": _rate(np.asarray(diagnostics["rate_i"])[0], blown),
    }


def to_numpy(tree):
    return jax.tree_util.tree_map(np.asarray, tree)


def covariance(strategy_state) -> np.ndarray:
    """The search distribution's covariance (CMA-ES: std^2 * C; diagonal strategies: std^2)."""
    std = np.asarray(getattr(strategy_state, "std", 1.0), np.float64)
    if hasattr(strategy_state, "C"):
        return (std**2) * np.asarray(strategy_state.C, np.float64)
    d = np.asarray(strategy_state.mean).size
    return np.diag(np.broadcast_to(std**2, (d,)).astype(np.float64))


def run_search(
    search: Search,
    seed: int,
    generations: int,
    mean0,
    checkpoint: Callable | None = None,
    resume_from: dict | None = None,
    stop_after: int | None = None,
    progress: bool = True,
):
    """Run (or continue) a search. `checkpoint(doc)` is called after every generation with a
    picklable document; `resume_from` is such a document. `stop_after` ends the call after that
    many generations of this call (used to test interruption). Returns (state, history)."""
    from tqdm import tqdm

    if resume_from is None:
        state, history = init_state(search, seed, mean0), []
    else:
        state, history = resume_from["state"], list(resume_from["history"])
    start = len(history)
    bar = tqdm(total=generations, initial=start, file=sys.stderr, disable=not progress, desc="generations")
    done_now = 0
    for index in range(start, generations):
        if stop_after is not None and done_now >= stop_after:
            break
        t0 = time.perf_counter()
        state, record = generation(search, state, seed, index)
        record["seconds"] = time.perf_counter() - t0
        history.append(record)
        state = to_numpy(state)
        if checkpoint is not None:
            checkpoint({"state": state, "history": history})
        bar.update(1)
        bar.set_postfix(loss=f"{record['loss']:.3g}", best=f"{record['best_loss']:.3g}")
        done_now += 1
    bar.close()
    return state, history
