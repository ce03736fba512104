"""Tasks a plasticity rule is scored on (Confavreux et al. 2025): network stability and
familiarity.

A task turns (rule parameters, one trial) into a finite loss. Blown-up networks get the paper's
penalty 160*(exp(-t_blowup/T_total) + 1), which is larger the earlier the blow-up, and any
non-finite loss (a rule that makes NaN weights) is replaced by the largest penalty, 320, so a
strategy is never poisoned.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxplaus.errors import UsageError
from jaxplaus.plasticity import network as netmod
from jaxplaus.plasticity.simulation import run

TARGET_RATE = 10.0  # Hz
WORST_PENALTY = 320.0


def blowup_penalty(t_blowup, t_total):
    return 160.0 * (jnp.exp(-t_blowup / t_total) + 1.0)


def stability_term(rate, target=TARGET_RATE):
    return (rate - target) ** 2 / (rate + 2.0)


class Stability(NamedTuple):
    """Train for U[train_range] s with plasticity on, then average the loss over `score_s`."""

    name: str = "stability"
    train_range: tuple = (30.0, 45.0)
    score_s: float = 5.0
    chunk_s: float = 0.1

    def total_steps(self, net) -> int:
        return _steps(self.train_range[1] + self.score_s, self.chunk_s, net.dt)

    def trial_loss(self, net, rule, theta, trial, train_s, batch_axes=()):
        chunk = int(round(self.chunk_s / net.dt))
        start = jnp.round(train_s / net.dt).astype(jnp.int32)
        end = start + int(round(self.score_s / net.dt))

        def drive(t_index):
            return {"E": trial.input_rate, "I": trial.input_rate}, 1.0

        def observe(acc, t_index, rate, spiked):
            scoring = (t_index >= start) & (t_index < end)
            return (
                acc[0] + jnp.where(scoring, stability_term(rate), 0.0),
                acc[1] + scoring,
                acc[2] + jnp.where(scoring, jnp.sum(spiked["E"]), 0),
                acc[3] + jnp.where(scoring, jnp.sum(spiked["I"]), 0),
            )

        state = netmod.initial_state(net, trial, rule)
        acc0 = (jnp.float32(0.0), jnp.int32(0), jnp.int32(0), jnp.int32(0))
        out = run(net, rule, theta, trial, state, self.total_steps(net), drive, observe, acc0, chunk, end_step=end, batch_axes=batch_axes)
        total_s = end * net.dt
        scored = jnp.maximum(out.acc[1], 1)
        loss = jnp.where(out.blown, blowup_penalty(out.t_blowup, total_s), out.acc[0] / scored)
        loss = _finite_loss(loss, trial)
        seconds = scored * net.dt
        diagnostics = {
            "blown": out.blown,
            "t_blowup": out.t_blowup,
            "rate_e": out.acc[2] / (net.n_e * seconds),
            "rate_i": out.acc[3] / (net.n_i * seconds),
            "filtered_rate_e": out.filtered_rate,
        }
        return loss, diagnostics


class Familiarity(NamedTuple):
    """Inputs on a 2-D grid; two familiar patterns are shown while plastic, then plasticity is
    frozen and familiar and novel patterns are shown once each. Loss (Confavreux et al. 2025):
    each familiar response r <= 20 Hz adds 1 - r/20, each novel response r >= 10 Hz adds
    (r - 10)/90.

    Each neuron draws its `n_input` sources from the grid; a pattern raises the rate of a
    rectangular patch of `pattern_size` sources to U[15, 20] Hz, so a neuron's input rate is
    its own sources' mean (independent Poisson per neuron, as in the stability task)."""

    name: str = "familiarity"
    train_range: tuple = (30.0, 45.0)
    show_s: float = 1.0  # one presentation while training
    gap_s: float = 0.5  # background between presentations
    test_s: float = 0.5  # one presentation while frozen
    grid: tuple = (50, 100)  # 5000 sources
    pattern_size: tuple = (20, 25)  # 500 sources
    pattern_rate: tuple = (15.0, 20.0)
    n_novel: int = 2
    chunk_s: float = 0.1

    def _test_steps(self, net):
        return int(round((2 + self.n_novel) * (self.test_s + self.gap_s) / net.dt))

    def total_steps(self, net) -> int:
        return _steps(self.train_range[1] + (2 + self.n_novel) * (self.test_s + self.gap_s), self.chunk_s, net.dt)

    def _pattern_rates(self, key, net, trial):
        """Per pattern (2 familiar, then novel) and population: each neuron's mean source rate."""
        rows, cols = self.grid
        n_patterns = 2 + self.n_novel
        k_src, k_pos, k_rate = jax.random.split(key, 3)
        corner = jax.random.randint(
            k_pos, (n_patterns, 2), 0, jnp.array([rows - self.pattern_size[0] + 1, cols - self.pattern_size[1] + 1])
        )
        level = jax.random.uniform(k_rate, (n_patterns,), minval=self.pattern_rate[0], maxval=self.pattern_rate[1])
        rates = {}
        for pop, k in zip(netmod.POPULATIONS, jax.random.split(k_src)):
            sources = jax.random.randint(k, (net.size(pop), net.n_input), 0, rows * cols)
            r, c = sources // cols, sources % cols
            inside = (
                (r[None] >= corner[:, None, None, 0])
                & (r[None] < corner[:, None, None, 0] + self.pattern_size[0])
                & (c[None] >= corner[:, None, None, 1])
                & (c[None] < corner[:, None, None, 1] + self.pattern_size[1])
            )
            fraction = inside.mean(-1)  # [patterns, n]
            rates[pop] = trial.input_rate + fraction * (level[:, None] - trial.input_rate)
        return rates

    def trial_loss(self, net, rule, theta, trial, train_s, batch_axes=()):
        chunk = int(round(self.chunk_s / net.dt))
        rates = self._pattern_rates(jax.random.fold_in(trial.noise_key, 1), net, trial)
        show, gap, test = (int(round(s / net.dt)) for s in (self.show_s, self.gap_s, self.test_s))
        train_end = jnp.round(train_s / net.dt).astype(jnp.int32)
        end = train_end + self._test_steps(net)

        def drive(t_index):
            training = t_index < train_end
            in_train_cycle = t_index % (2 * (show + gap))
            train_pattern = (in_train_cycle >= show + gap).astype(jnp.int32)
            train_on = (in_train_cycle % (show + gap)) < show
            since = t_index - train_end
            test_pattern = jnp.clip(since // (test + gap), 0, 1 + self.n_novel)
            test_on = (since % (test + gap)) < test
            pattern = jnp.where(training, train_pattern, test_pattern)
            on = jnp.where(training, train_on, test_on)
            external = {pop: jnp.where(on, rates[pop][pattern], trial.input_rate) for pop in netmod.POPULATIONS}
            return external, jnp.where(training, 1.0, 0.0)

        def observe(acc, t_index, rate, spiked):
            since = t_index - train_end
            pattern = since // (test + gap)
            on = (since >= 0) & ((since % (test + gap)) < test)
            hits = jnp.where(on, jnp.sum(spiked["E"]), 0)
            return acc.at[jnp.clip(pattern, 0, 1 + self.n_novel)].add(hits)

        state = netmod.initial_state(net, trial, rule)
        acc0 = jnp.zeros(2 + self.n_novel, jnp.int32)
        out = run(net, rule, theta, trial, state, self.total_steps(net), drive, observe, acc0, chunk, end_step=end, batch_axes=batch_axes)
        response = out.acc / (net.n_e * test * net.dt)
        familiar, novel = response[:2], response[2:]
        loss = jnp.sum(jnp.where(familiar <= 20.0, 1.0 - familiar / 20.0, 0.0)) + jnp.sum(
            jnp.where(novel >= 10.0, (novel - 10.0) / 90.0, 0.0)
        )
        loss = jnp.where(out.blown, blowup_penalty(out.t_blowup, end * net.dt), loss)
        loss = _finite_loss(loss, trial)
        diagnostics = {
            "blown": out.blown,
            "t_blowup": out.t_blowup,
            # same keys as the stability task so a search records both alike; here they are the
            # E population's mean response to the familiar and to the novel patterns
            "rate_e": jnp.mean(familiar),
            "rate_i": jnp.mean(novel),
            "filtered_rate_e": out.filtered_rate,
        }
        return loss, diagnostics


def _steps(seconds, chunk_s, dt) -> int:
    return int(math.ceil(seconds / chunk_s - 1e-9)) * int(round(chunk_s / dt))


def _finite_loss(loss, trial):
    bad_connectivity = jnp.any(jnp.stack([c.overflow for c in trial.connectivity.values()]))
    return jnp.where(jnp.isfinite(loss) & ~bad_connectivity, loss, WORST_PENALTY)


# Durations per network preset: `full` is Confavreux et al. 2025's protocol; `small` is shortened
# so the default meta-learning run fits a 2-core CPU (the dynamics settle within ~1 s, see
# docs/metalearn.md).
TASKS = {
    ("stability", "full"): Stability(),
    ("stability", "small"): Stability(train_range=(2.0, 3.0), score_s=1.0),
    ("familiarity", "full"): Familiarity(),
    ("familiarity", "small"): Familiarity(train_range=(6.0, 6.0)),
}


def get_task(name: str, network: str, **overrides):
    if (name, network) not in TASKS:
        tasks = sorted({t for t, _ in TASKS})
        raise UsageError(f"unknown task {name!r}; choose from {', '.join(tasks)}")
    return TASKS[(name, network)]._replace(**overrides)


def draw_train_seconds(key, task):
    low, high = task.train_range
    return jax.random.uniform(key, minval=low, maxval=high)
