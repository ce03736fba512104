"""The E/I network: event passes, propagation against a dense reference, and the Vogels et al.
2011 rule holding the small network at its mean-field fixed point."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxplaus.plasticity import network as N
from jaxplaus.plasticity import rules as R
from jaxplaus.plasticity.simulation import record


def test_spike_events_lists_every_spike_padded_out_of_bounds():
    spiked = jnp.zeros(50, bool).at[jnp.array([1, 3, 4, 9, 20, 21, 22, 40, 41, 49])].set(True)
    events = N.spike_events(spiked, 12)
    assert sorted(int(e) for e in events if e < 50) == [1, 3, 4, 9, 20, 21, 22, 40, 41, 49]
    assert list(np.asarray(events[10:])) == [50, 50]


def test_event_sizes_grow_and_the_last_holds_every_neuron():
    for net in (N.get_network("small"), N.get_network("full"), N.Network("tiny", n_e=40, n_i=10, out_e=10, out_i=10)):
        sizes = net.event_sizes()
        assert sizes[-1] == {"E": net.n_e, "I": net.n_i}
        for smaller, larger in zip(sizes, sizes[1:]):
            assert all(smaller[p] <= larger[p] for p in N.POPULATIONS) and smaller != larger


def test_connectivity_is_fixed_out_degree_without_autapses_and_inmap_is_exact():
    net = N.Network("tiny", n_e=40, n_i=10, out_e=10, out_i=10)
    conn = N._draw_connectivity(jax.random.PRNGKey(0), net, "EE")
    post = np.asarray(conn.post)
    assert post.shape == (40, net.out_degree("EE"))
    assert all(len(set(row)) == len(row) for row in post)  # no multapses
    assert not np.any(post == np.arange(40)[:, None])  # no autapses
    inmap = np.asarray(conn.inmap)
    k = post.shape[1]
    for i in range(40):
        ids = inmap[i][inmap[i] < post.size]
        assert sorted(ids // k) == sorted(np.nonzero(post == i)[0])
    assert not bool(conn.overflow)


@pytest.mark.parametrize("n_e, n_i", [(5, 3), (30, 8)], ids=["sparse", "synchronous burst"])
def test_one_step_delivers_the_same_conductance_as_a_dense_matrix(n_e, n_i):
    net = N.Network("tiny", n_e=40, n_i=10, out_e=10, out_i=10)
    assert 30 > net.max_events("E")  # the burst needs the whole-population event arrays
    rule = R.get_rule("static")
    trial = N.draw_trial(jax.random.PRNGKey(1), net)
    state = N.initial_state(net, trial, rule)
    # push n_e E and n_i I neurons over threshold so they spike in this step
    v = {"E": state.v["E"].at[:n_e].set(-40.0), "I": state.v["I"].at[:n_i].set(-40.0)}
    state = state._replace(v=v)
    quiet = {"E": 0.0, "I": 0.0}
    new, spiked = N.step(net, rule, jnp.zeros(0), trial, state, 0, quiet)
    assert int(spiked["E"].sum()) >= n_e
    for pre, target in (("E", new.g_ampa), ("I", new.g_gaba)):
        for post in ("E", "I"):
            dense = np.zeros((net.size(pre), net.size(post)))
            p = pre + post
            np.add.at(dense, (np.repeat(np.arange(net.size(pre)), net.out_degree(p)), np.asarray(trial.connectivity[p].post).ravel()), np.asarray(trial.weights[p]).ravel())
            decay = np.exp(-net.dt / (net.tau_ampa if pre == "E" else net.tau_gaba))
            before = np.asarray(state.g_ampa[post] if pre == "E" else state.g_gaba[post]) * decay
            expected = before + np.asarray(spiked[pre], float) @ dense
            np.testing.assert_allclose(np.asarray(target[post]), expected, atol=1e-6)


@pytest.fixture(scope="module")
def vogels_run():
    net = N.get_network("small")
    rule = R.get_rule("ie6")
    theta = jnp.asarray(R.vogels2011(rho0=10.0), jnp.float32)
    trial = N.draw_trial(jax.random.PRNGKey(7), net)._replace(input_rate=jnp.float32(3.0))
    seconds = 4.0

    def drive(t_index):
        return {"E": trial.input_rate, "I": trial.input_rate}, 1.0

    state, (count_e, count_i), _ = jax.jit(lambda th: record(net, rule, th, trial, N.initial_state(net, trial, rule), int(seconds / net.dt), drive, n_raster=1))(theta)
    return net, theta, np.asarray(count_e), np.asarray(count_i), state


def test_vogels_rule_settles_the_small_network_at_its_mean_field_fixed_point(vogels_run):
    net, theta, count_e, count_i, _ = vogels_run
    last = slice(-int(2.0 / net.dt), None)
    rate_e = count_e[last].sum() / (net.n_e * 2.0)
    rate_i = count_i[last].sum() / (net.n_i * 2.0)
    fixed_point = R.coactive_fixed_point(np.asarray(theta), rate_i)
    assert fixed_point == pytest.approx(10.0, rel=1e-4)
    assert abs(rate_e - fixed_point) <= 0.2 * fixed_point, (rate_e, rate_i)


def test_vogels_rule_keeps_weights_within_bounds(vogels_run):
    *_, state = vogels_run
    w = np.asarray(state.weights["IE"])
    assert np.all(np.isfinite(w)) and w.min() >= 0.0 and w.max() <= 3.0


def test_a_batch_gets_what_each_network_gets_alone_whichever_event_arrays_it_uses():
    """Under a named vmap the busiest network picks the event-array size for the whole batch
    (`step`'s `batch_axes`); quieter networks then go through longer arrays than they would
    alone. Their spikes, conductances and plastic weights must not differ."""
    net = N.Network("tiny", n_e=400, n_i=100, out_e=40, out_i=40)
    assert net.quiet_events("E") < 12 < net.max_events("E") < 30
    rule = R.get_rule("ie6")
    theta = jnp.asarray(R.vogels2011(), jnp.float32)
    trials = [N.draw_trial(jax.random.PRNGKey(k), net) for k in (1, 2, 3)]
    states = []
    for trial, n_e in zip(trials, (30, 12, 3)):  # E spikes: 30 a synchronous burst, 12 busy, 3 quiet
        state = N.initial_state(net, trial, rule)
        v = {"E": state.v["E"].at[:n_e].set(-40.0), "I": state.v["I"].at[:4].set(-40.0)}
        state = state._replace(v=v, post_traces={"IE": jnp.ones((1, 400))}, pre_traces={"IE": jnp.ones((1, 100))})
        states.append(state)
    rate = {"E": 3.0, "I": 3.0}
    one = lambda trial, state, axes: N.step(net, rule, theta, trial, state, 0, rate, batch_axes=axes)  # noqa: E731
    alone = [jax.jit(lambda tr, st: one(tr, st, ()))(tr, st) for tr, st in zip(trials, states)]
    stack = lambda xs: jax.tree_util.tree_map(lambda *a: jnp.stack(a), *xs)  # noqa: E731
    batched = jax.jit(jax.vmap(lambda tr, st: one(tr, st, ("b",)), axis_name="b"))(stack(trials), stack(states))
    for i, single in enumerate(alone):
        assert int(single[1]["E"].sum()) == (30, 12, 3)[i]
        for a, b in zip(jax.tree_util.tree_leaves(single), jax.tree_util.tree_leaves(batched)):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b)[i])
