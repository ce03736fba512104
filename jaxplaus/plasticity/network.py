"""The recurrent E/I network ("TIF") of Confavreux et al. 2025: conductance-based LIF neurons,
sparse recurrent synapses, Poisson input, dt 0.1 ms.

Units: time in seconds, voltages in mV, conductances and weights in units of the leak g_L.

Synapses are stored pre-major: projection XY (pre population X -> post population Y) has a
fixed out-degree `k_out`, `post[j, k]` is the k-th target of presynaptic neuron j and
`w[j, k]` its weight. Spike propagation is event-driven: each step the indices of the neurons
that spiked are packed into a fixed-size array (padding points out of bounds and is dropped)
and only their rows are read, so the cost scales with the array size, not with the
number of synapses. Each step picks the smallest of four sizes that holds every population's
spikes (`event_sizes`): `quiet_events` for a network near its target rate, `max_events` (3x the
100 Hz blow-up rate for E, 600 Hz for I) for busy steps, an eighth of the population for
synchronous steps (the onset burst, up to ~8% of E in one step; a population event of a
network whose rate is fine, 7% of E measured at a 5-10 Hz filtered rate; a runaway network
without plasticity, up to 11%), and the whole population beyond that. No spike is ever
dropped. A batch takes the size its busiest network needs (`step`, `batch_axes`). Not a
multi-pass `while_loop`: under vmap it selects its whole carry (weights included) on every extra
pass (docs/performance.md, "Event arrays in four sizes").
Postsynaptic plasticity needs a neuron's *incoming* synapses: `inmap[i, :]` lists their flat
indices, padded out of bounds.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

POPULATIONS = ("E", "I")
PROJECTIONS = ("EE", "EI", "IE", "II")  # pre population, post population


class Network(NamedTuple):
    """Sizes and physiology; hashable, so it is a static argument of the jitted simulation."""

    name: str
    n_e: int
    n_i: int
    out_e: int  # out-degree of an E neuron onto each population, scaled with that population
    out_i: int
    n_input: int = 250  # Poisson sources per neuron: 5000 sources at p = 0.05
    w_input: float = 0.1
    w_ee: float = 0.03
    w_ei: float = 0.03
    w_ii: float = 0.3
    w_ie_init_max: float = 0.3  # initial I->E weights ~ U[0, this]
    w_max_range: tuple = (2.0, 3.0)  # drawn log-uniformly per trial
    input_rate_range: tuple = (1.0, 5.0)  # Hz, uniform per trial
    dt: float = 1e-4
    tau_m: float = 20e-3
    v_rest: float = -60.0
    v_reset: float = -60.0
    v_threshold: float = -50.0
    e_ampa: float = 0.0
    e_gaba: float = -80.0
    tau_ampa: float = 5e-3
    tau_gaba: float = 10e-3
    t_refractory: float = 5e-3

    def size(self, population: str) -> int:
        return self.n_e if population == "E" else self.n_i

    def max_events(self, population: str) -> int:
        """Spikes one step can deliver: 3x the 100 Hz blow-up rate for E, 600 Hz for I."""
        rate = 300.0 if population == "E" else 600.0
        return min(int(math.ceil(self.size(population) * rate * self.dt)) + 4, self.size(population))

    def event_sizes(self) -> tuple[dict, ...]:
        """The event-array sizes a step chooses from (population -> slots), smallest first: quiet,
        busy (`max_events`), a population event (an eighth of the population in one step) and
        the whole population, so no step drops a spike. The steps between them keep a rare large
        step from costing the whole population's arrays (docs/performance.md, "Event arrays in
        four sizes")."""
        tiers = ({pop: self.quiet_events(pop) for pop in POPULATIONS},
                 {pop: self.max_events(pop) for pop in POPULATIONS},
                 {pop: max(self.max_events(pop), -(-self.size(pop) // 8)) for pop in POPULATIONS},
                 {pop: self.size(pop) for pop in POPULATIONS})
        return tuple(t for k, t in enumerate(tiers) if k == 0 or t != tiers[k - 1])

    def quiet_events(self, population: str) -> int:
        """Slots for steps in which no network of a batch is busy (`step`): the mean count of a
        population at 20 Hz (E) or 40 Hz (I) plus 5 Poisson standard deviations, so an
        asynchronous network near the stability task's 10 Hz target all but never needs the full
        arrays."""
        rate = 20.0 if population == "E" else 40.0
        mean = self.size(population) * rate * self.dt
        return min(int(math.ceil(mean + 5 * math.sqrt(mean))) + 2, self.max_events(population))

    def out_degree(self, projection: str) -> int:
        """Targets per presynaptic neuron: p * N_post, with p chosen so in-degrees match
        Confavreux et al. 2025."""
        pre, post = projection
        fraction = self.size(post) / (self.n_e + self.n_i)
        return round((self.out_e if pre == "E" else self.out_i) * fraction)

    def in_degree_bound(self, projection: str) -> int:
        """Static width of the incoming-synapse map; in-degrees are binomial around the mean,
        and a draw beyond mean + 8 sd (never seen in practice) marks the trial invalid."""
        pre, post = projection
        mean = self.out_degree(projection) * self.size(pre) / self.size(post)
        return int(math.ceil(mean + 8 * math.sqrt(mean) + 4))


# In-degree kept at Confavreux et al. 2025's 160 E + 40 I inputs per neuron (p = 0.02 of 8000 +
# 2000) in both.
PRESETS = {
    "small": Network("small", n_e=800, n_i=200, out_e=200, out_i=200),
    "full": Network("full", n_e=8000, n_i=2000, out_e=200, out_i=200),
}


def get_network(name: str, **overrides) -> Network:
    from jaxplaus.errors import UsageError

    if name not in PRESETS:
        raise UsageError(f"unknown network {name!r}; choose from {', '.join(PRESETS)}")
    return PRESETS[name]._replace(**overrides)


class Connectivity(NamedTuple):
    post: jax.Array  # [n_pre, k_out] int32 target indices
    inmap: jax.Array  # [n_post, in_degree_bound] flat synapse indices, n_pre*k_out = padding
    overflow: jax.Array  # bool: some in-degree exceeded the static bound


class Trial(NamedTuple):
    """What a trial redraws: connectivity and (as in Confavreux et al. 2025) initial I->E
    weights, w_max, input rate."""

    connectivity: dict  # projection -> Connectivity
    weights: dict  # projection -> [n_pre, k_out] initial weights
    w_max: jax.Array
    input_rate: jax.Array
    v0: dict  # population -> initial membrane potentials
    noise_key: jax.Array  # Poisson input noise, shared by every candidate rule of the trial


class State(NamedTuple):
    v: dict  # population -> [n]
    g_ampa: dict
    g_gaba: dict
    refractory: dict  # population -> [n] int32 steps left
    weights: dict  # plastic projection -> [n_pre, k_out]
    pre_traces: dict  # plastic projection -> [n_traces, n_pre]
    post_traces: dict  # plastic projection -> [n_traces, n_post]


def _draw_connectivity(key, net: Network, projection: str) -> Connectivity:
    pre, post = projection
    n_pre, n_post, k_out = net.size(pre), net.size(post), net.out_degree(projection)
    scores = jax.random.uniform(key, (n_pre, n_post))
    if pre == post:  # no autapses
        scores = scores.at[jnp.arange(n_pre), jnp.arange(n_pre)].set(-1.0)
    # k distinct targets per presynaptic neuron: fixed out-degree, no multapses
    _, targets = lax.top_k(scores, k_out)
    targets = targets.astype(jnp.int32)
    flat_post = targets.reshape(-1)
    order = jnp.argsort(flat_post, stable=True).astype(jnp.int32)  # synapse ids grouped by target
    counts = jnp.bincount(flat_post, length=n_post)
    starts = jnp.cumsum(counts) - counts
    bound = net.in_degree_bound(projection)
    slot = jnp.arange(bound)
    position = jnp.minimum(starts[:, None] + slot[None, :], flat_post.size - 1)
    inmap = jnp.where(slot[None, :] < counts[:, None], order[position], flat_post.size)
    return Connectivity(targets, inmap.astype(jnp.int32), jnp.max(counts) > bound)


def draw_trial(key, net: Network, quantiles=None) -> Trial:
    """A trial's random draws. `quantiles` (q_w_max, q_input_rate) in [0, 1), when given, place
    w_max and the input rate at those quantiles of their ranges instead of drawing them (used by
    stratified trial draws); everything else is drawn from `key` either way."""
    keys = jax.random.split(key, 9)
    connectivity = {p: _draw_connectivity(k, net, p) for p, k in zip(PROJECTIONS, keys[:4])}
    shape = {p: (net.size(p[0]), net.out_degree(p)) for p in PROJECTIONS}
    weights = {
        "EE": jnp.full(shape["EE"], net.w_ee),
        "EI": jnp.full(shape["EI"], net.w_ei),
        "IE": jax.random.uniform(keys[4], shape["IE"], maxval=net.w_ie_init_max),
        "II": jnp.full(shape["II"], net.w_ii),
    }
    low, high = net.w_max_range
    log_range, rate_range = (math.log(low), math.log(high)), net.input_rate_range
    if quantiles is None:
        w_max = jnp.exp(jax.random.uniform(keys[5], minval=log_range[0], maxval=log_range[1]))
        input_rate = jax.random.uniform(keys[6], minval=rate_range[0], maxval=rate_range[1])
    else:
        at = lambda q, lo_hi: lo_hi[0] + q * (lo_hi[1] - lo_hi[0])  # noqa: E731
        w_max, input_rate = jnp.exp(at(quantiles[0], log_range)), at(quantiles[1], rate_range)
    v0 = {
        pop: jax.random.uniform(k, (net.size(pop),), minval=net.v_rest, maxval=net.v_threshold - 5.0)
        for pop, k in zip(POPULATIONS, jax.random.split(keys[7]))
    }
    return Trial(connectivity, weights, w_max, input_rate, v0, keys[8])


def initial_state(net: Network, trial: Trial, rule) -> State:
    zeros = {pop: jnp.zeros(net.size(pop)) for pop in POPULATIONS}
    return State(
        v=dict(trial.v0),
        g_ampa=zeros,
        g_gaba=zeros,
        refractory={pop: jnp.zeros(net.size(pop), jnp.int32) for pop in POPULATIONS},
        weights={p: trial.weights[p] for p in rule.projections},
        pre_traces={p: jnp.zeros((rule.n_pre_traces, net.size(p[0]))) for p in rule.projections},
        post_traces={p: jnp.zeros((rule.n_post_traces, net.size(p[1]))) for p in rule.projections},
    )


def poisson_counts(u, lam, max_count: int = 6):
    """Poisson(lam) samples from uniforms by inverting the CDF: one uniform per sample is far
    cheaper than `jax.random.poisson`, and lam = n_input * rate * dt is small (< 0.2)."""
    k = jnp.arange(max_count)
    lam = jnp.asarray(lam)[..., None]  # a scalar, or one rate per neuron
    pmf = jnp.exp(-lam) * lam**k / jnp.exp(lax.lgamma(k + 1.0))
    cdf = jnp.cumsum(pmf, axis=-1)
    return jnp.sum(u[..., None] > cdf, axis=-1).astype(jnp.float32)


def spike_events(spiked, size: int):
    """Indices of the spiking neurons in a fixed-size array padded with len(spiked) (out of
    bounds, so gathers fill and scatters drop it); `size` must hold all of them."""
    (events,) = jnp.nonzero(spiked, size=size, fill_value=spiked.shape[0])
    return events


def _neuron_features(net: Network, state: State, population: str) -> dict:
    v = state.v[population]
    return {
        "v": v,
        "i_exc": state.g_ampa[population] * (net.e_ampa - v),
        "i_inh": state.g_gaba[population] * (net.e_gaba - v),
    }


def step(net: Network, rule, theta, trial: Trial, state: State, t_index, external_rate, learning=1.0, halted=False, batch_axes=()):
    """One dt: membrane update, spikes, synaptic events, plasticity, traces.

    `external_rate` (Hz per Poisson source, per population: dict of scalars or [n] arrays) lets
    tasks shape the input; stimuli are computed from time inside the step (why:
    `jaxplaus/stimuli.py`).
    `learning` scales every weight change (0 freezes plasticity, e.g. while scoring).
    `halted` silences all spikes: a blown-up network that vmap keeps stepping alongside the
    others then costs no event passes.
    `batch_axes` names the `vmap` axes the caller batches networks over. Synaptic events then
    pass through the smallest of `net.event_sizes()` that holds the spikes of every network of
    the batch: one `lax.switch` for the whole batch, whereas under an unnamed vmap the choice is
    per network and every branch runs. Whichever size, the same spikes are delivered in the
    same order.
    Returns (state, spiked) with spiked a dict population -> bool [n].
    """
    dt = net.dt
    ref_steps = int(round(net.t_refractory / dt))
    noise = jax.random.split(jax.random.fold_in(trial.noise_key, t_index))
    v, g_ampa, g_gaba, refractory, spiked = {}, {}, {}, {}, {}
    for pop, key in zip(POPULATIONS, noise):
        old_v, ga, gg = state.v[pop], state.g_ampa[pop], state.g_gaba[pop]
        dv = (net.v_rest - old_v) + ga * (net.e_ampa - old_v) + gg * (net.e_gaba - old_v)
        new_v = jnp.where(state.refractory[pop] > 0, net.v_reset, old_v + dt / net.tau_m * dv)
        fired = (new_v > net.v_threshold) & ~halted
        v[pop] = jnp.where(fired, net.v_reset, new_v)
        refractory[pop] = jnp.where(fired, ref_steps, jnp.maximum(state.refractory[pop] - 1, 0))
        spiked[pop] = fired
        lam = net.n_input * external_rate[pop] * dt
        counts = poisson_counts(jax.random.uniform(key, (net.size(pop),)), lam)
        g_ampa[pop] = ga * math.exp(-dt / net.tau_ampa) + net.w_input * counts
        g_gaba[pop] = gg * math.exp(-dt / net.tau_gaba)

    thetas = rule.split(theta)

    def propagate(sizes):
        return lambda operands: _propagate(net, rule, thetas, trial, state, spiked, *operands, learning, sizes)

    conductances = {"E": g_ampa, "I": g_gaba}  # by presynaptic population
    sizes = net.event_sizes()
    if len(sizes) == 1:
        conductances, weights = propagate(sizes[0])((conductances, state.weights))
    else:  # the smallest size that holds every population's spikes (sizes grow monotonically)
        counts = {pop: jnp.sum(spiked[pop]) for pop in POPULATIONS}
        tier = sum(jnp.any(jnp.stack([counts[pop] > size[pop] for pop in POPULATIONS])).astype(jnp.int32)
                   for size in sizes[:-1])
        if batch_axes:  # the busiest network of the batch decides, so the branch is not batched
            tier = lax.pmax(tier, batch_axes)
        conductances, weights = lax.switch(tier, [propagate(size) for size in sizes], (conductances, state.weights))

    pre_traces, post_traces = {}, {}
    for p in rule.projections:
        pre_decay, post_decay = rule.trace_decays(thetas[p], dt)
        pre_traces[p] = state.pre_traces[p] * pre_decay[:, None] + spiked[p[0]]
        post_traces[p] = state.post_traces[p] * post_decay[:, None] + spiked[p[1]]

    new_state = State(v, conductances["E"], conductances["I"], refractory, weights, pre_traces, post_traces)
    return new_state, spiked


def _propagate(net: Network, rule, thetas, trial: Trial, state: State, spiked, conductances, weights, learning, sizes):
    """This step's synaptic events through event arrays of `sizes` (population -> slots):
    conductance delivery with the rule's on-pre update of the spiking neurons' outgoing rows,
    then its on-post update of their incoming synapses (`thetas`: the rule's parameters split by
    projection, as `step` splits them once). `sizes` must hold every spike. Returns
    (conductances, weights)."""
    plastic = rule.projections
    weights = dict(weights)
    features = {pop: _neuron_features(net, state, pop) for pop in POPULATIONS}
    events = {pop: spike_events(spiked[pop], sizes[pop]) for pop in POPULATIONS}

    # presynaptic events: deliver conductance, then the rule's on-pre update of those rows
    conductances = {pre: dict(target) for pre, target in conductances.items()}
    for pre in POPULATIONS:
        conductance = conductances[pre]
        for p in (p for p in PROJECTIONS if p[0] == pre):
            post = p[1]
            rows = trial.connectivity[p].post.at[events[pre]].get(mode="fill", fill_value=net.size(post))
            w_rows = (weights[p] if p in plastic else trial.weights[p]).at[events[pre]].get(mode="fill", fill_value=0.0)
            conductance[post] = conductance[post].at[rows].add(w_rows, mode="drop")
            if p in plastic:
                at_post = lambda a: a.at[rows].get(mode="fill", fill_value=0.0)  # noqa: E731
                post_view = {k: at_post(f) for k, f in features[post].items()}
                post_view["traces"] = state.post_traces[p].at[:, rows].get(mode="fill", fill_value=0.0)
                pre_view = {"traces": state.pre_traces[p].at[:, events[pre]].get(mode="fill", fill_value=0.0)[:, :, None]}
                dw = learning * rule.on_pre(thetas[p], w_rows, pre_view, post_view)
                weights[p] = weights[p].at[events[pre]].set(jnp.clip(w_rows + dw, 0.0, trial.w_max), mode="drop")

    # postsynaptic events: the rule's on-post update of each spiking neuron's incoming synapses
    for p in plastic:
        post = p[1]
        k_out = net.out_degree(p)
        ids = trial.connectivity[p].inmap.at[events[post]].get(mode="fill", fill_value=weights[p].size)
        pre_index = jnp.minimum(ids // k_out, net.size(p[0]) - 1)
        flat = weights[p].reshape(-1)
        w_in = flat.at[ids].get(mode="fill", fill_value=0.0)
        post_view = {k: f.at[events[post]].get(mode="fill", fill_value=0.0)[:, None] for k, f in features[post].items()}
        post_view["traces"] = state.post_traces[p].at[:, events[post]].get(mode="fill", fill_value=0.0)[:, :, None]
        pre_view = {"traces": state.pre_traces[p][:, pre_index]}
        dw = learning * rule.on_post(thetas[p], w_in, pre_view, post_view)
        flat = flat.at[ids].set(jnp.clip(w_in + dw, 0.0, trial.w_max), mode="drop")
        weights[p] = flat.reshape(weights[p].shape)
    return conductances, weights
