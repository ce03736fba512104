"""The batched evaluator: shapes, NaN safety, the half-step check, agreement with single runs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxplaus import features, models, patterns, simulate
from jaxplaus.evaluate import Evaluator

PATS = patterns.select(["tonic_spiking", "rebound_spike", "resonator"])


@pytest.fixture(scope="module")
def evaluator():
    return Evaluator(models.get("izhikevich"), PATS, dt=0.25)


def test_shapes_and_finite_losses_for_any_candidate(evaluator):
    z = np.random.default_rng(0).uniform(-0.5, 1.5, (3, 16, evaluator.dim)).astype(np.float32)
    z[0, 0] = np.nan  # a strategy's degenerate proposal
    loss, passed = evaluator.jitted(jnp.asarray(z))
    assert loss.shape == passed.shape == (3, 16)
    assert bool(jnp.all(jnp.isfinite(loss)))


def test_per_step_losses_add_up(evaluator):
    z = jnp.full((3, 4, evaluator.dim), 0.5)
    (per_loss, per_pass), (loss, passed) = jax.jit(lambda z: (evaluator.per_step(z), evaluator(z)))(z)
    assert per_loss.shape[0] == 2  # dt and dt/2
    np.testing.assert_allclose(per_loss.sum(0), loss, rtol=1e-6)
    assert np.array_equal(per_pass.all(0), passed)


def test_batched_verdict_equals_a_single_full_resolution_run(evaluator):
    z = jnp.asarray(np.stack([evaluator.encode_defaults(i) for i in range(3)]))[:, None, :]
    _, passed = jax.jit(evaluator.per_step)(z)
    for i, pattern in enumerate(PATS):
        params, gains = evaluator.decode(z[i, 0], i)
        params = {k: float(v) for k, v in params.items()}
        g = np.asarray(gains)[: len(pattern.protocol.gains)]
        r = simulate.single(evaluator.model, params, pattern.protocol.pieces, g, 0.25, pattern.protocol.duration_ms)
        assert bool(pattern.validate(r, g, jnp.float32(30.0))) == bool(passed[0, i, 0])


def test_encode_decode_roundtrip(evaluator):
    z = evaluator.encode_defaults(0)
    params, gains = evaluator.decode(jnp.asarray(z, jnp.float32), 0)
    for name, value in evaluator.model_space.defaults().items():
        assert float(params[name]) == pytest.approx(value, rel=1e-4, abs=1e-4)
    assert float(gains[0]) == pytest.approx(14.0, rel=1e-4)


def test_criteria_ignore_the_padding_after_a_protocol():
    # an AdEx optimum the search once found for the depolarizing after-potential (50 ms protocol,
    # simulated in a batch padded to 100 ms): its only "hump" came after the protocol had ended
    adex = models.get("adex")
    dap = patterns.get("depolarizing_after_potential")
    params = {"C": 1000.0, "gL": 4.5054, "EL": -57.7609, "VT": -65.0, "DeltaT": 2.4578, "a": 47.4508,
              "tauw": 78.4207, "b": 0.0, "Vr": -67.7868, "Vpeak": 15.4366}
    gains = {"amplitude": 2631.966}
    padded = Evaluator(adex, (dap, patterns.get("tonic_spiking")))  # one duration group: 50 and 100 ms
    assert padded.groups == ((0, 1),)
    z = padded.encode_defaults(0, params, gains)[None, None, :].repeat(2, axis=0)
    _, passed = jax.jit(padded)(jnp.asarray(z, jnp.float32))
    alone = simulate.single(adex, params, dap.protocol.pieces, [gains["amplitude"]], 0.25, dap.protocol.duration_ms)
    threshold = adex.threshold({k: jnp.float32(v) for k, v in params.items()})
    assert not bool(passed[0, 0])
    assert not bool(dap.validate(alone, jnp.float32([gains["amplitude"]]), threshold))


def test_a_verdict_does_not_depend_on_the_patterns_simulated_with_it():
    # the depolarizing after-potential (50 ms, 51 one-ms blocks) alone in its duration group,
    # and beside tonic spiking (100 ms): its records end at 51 blocks alone, yet its responses
    # keep every spike slot (features.MAX_SPIKES = 96), so a busy candidate scores the same
    model = models.get("izhikevich")
    dap, tonic = patterns.get("depolarizing_after_potential"), patterns.get("tonic_spiking")
    alone, together = Evaluator(model, (dap,)), Evaluator(model, (dap, tonic))
    z = np.random.default_rng(3).uniform(0.0, 1.0, (2, 64, together.dim)).astype(np.float32)
    # figure1.m's bursting cells with a strong pulse fire more spikes than the 51 blocks
    z[:, 0] = together.encode_defaults(0, {**patterns.get("tonic_bursting").protocol.figure1.params}, {"amplitude": 40.0})
    responses = jax.jit(lambda z: alone.responses(alone.records(z)))(jnp.asarray(z[:1, :, :alone.dim]))
    assert responses[0].spike_times.shape[-1] == features.MAX_SPIKES
    a = jax.jit(alone.scores)(jnp.asarray(z[:1, :, :alone.dim]))
    b = jax.jit(together.scores)(jnp.asarray(z))
    assert int(np.asarray(a.n_spikes).max()) > 51
    np.testing.assert_array_equal(np.asarray(a.passed)[:, 0], np.asarray(b.passed)[:, 0])
    np.testing.assert_array_equal(np.asarray(a.n_spikes)[:, 0], np.asarray(b.n_spikes)[:, 0])
    np.testing.assert_allclose(np.asarray(a.loss)[:, 0], np.asarray(b.loss)[:, 0], rtol=1e-5, atol=1e-6)


def test_chunks_and_padding_leave_every_candidate_unchanged(evaluator):
    # 7 candidates in chunks of at most 3: three chunks of 3, two of them padding a candidate
    # (both jitted: run op by op, the unchunked call would decode the candidates outside any
    # fusion and round differently from the compiled chunk loop)
    z = np.random.default_rng(2).uniform(0.0, 1.0, (3, 7, evaluator.dim)).astype(np.float32)
    whole = jax.jit(evaluator.per_step)(jnp.asarray(z))
    chunked = jax.jit(Evaluator(evaluator.model, PATS, dt=0.25, chunk=3).per_step)(jnp.asarray(z))
    for a, b in zip(whole, chunked):
        assert a.shape == b.shape == (2, 3, 7)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_chunk_must_be_positive():
    with pytest.raises(ValueError, match="chunk"):
        Evaluator(models.get("izhikevich"), PATS, chunk=0)
