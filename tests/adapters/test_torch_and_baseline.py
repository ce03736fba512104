"""Black-box torch neurons score like their JAX ports; the Optuna baseline is stored and
indexed; the adapter's commands fail in one line (exit 2) on bad input or missing packages."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("norse")
import torch  # noqa: E402

import jax.numpy as jnp  # noqa: E402

from jaxplaus import features, models, patterns, simulate, stimuli, store  # noqa: E402
from jaxplaus.adapters import norse as adapter  # noqa: E402
from jaxplaus.adapters import torch_model  # noqa: E402
from jaxplaus.cli import main  # noqa: E402
from jaxplaus.evaluate import Evaluator  # noqa: E402


def _population(evaluator, n=24, seed=0):
    z = jax.random.uniform(jax.random.PRNGKey(seed), (1, n, evaluator.dim))
    params, gains = evaluator.decode(z[0], 0)
    return {k: np.asarray(v) for k, v in params.items()}, np.asarray(gains)[:, : len(evaluator.gain_spaces[0])]


def _jax_scores(model, pattern, params, gains, dt=0.25, block_len=4):
    """The Evaluator's recipe (dt and dt/2, 1 ms blocks, pattern.score) for explicit params:
    the Evaluator decodes inside its own jit, where an ulp of a decoded value may differ."""
    total, ok = 0.0, True
    for step, bl in ((dt, block_len), (dt / 2, 2 * block_len)):
        blocks = simulate.n_blocks(simulate.n_steps(pattern.protocol.duration_ms, step), bl)
        rec = simulate.record_batch(model, {k: jnp.asarray(v) for k, v in params.items()},
                                    stimuli.waveform(pattern.protocol.pieces), jnp.asarray(gains),
                                    jnp.float32(step), jnp.float32(pattern.protocol.duration_ms), blocks, bl)
        resp = jax.vmap(lambda r: features.response(r, step, bl))(rec)
        threshold = jax.vmap(model.threshold)({k: jnp.asarray(v) for k, v in params.items()}) * jnp.ones(len(gains))
        loss, passed = jax.vmap(pattern.score)(resp, jnp.asarray(gains), threshold)
        total, ok = total + np.asarray(loss), ok & np.asarray(passed)
    return total, ok


def test_norse_neuron_scores_like_its_jax_port():
    pattern = patterns.get("tonic_spiking")
    model = models.get("norse_izhikevich")
    params, gains = _population(Evaluator(model, (pattern,), dt=0.25))
    loss, passed = _jax_scores(model, pattern, params, gains)
    t_loss, t_passed = torch_model.evaluate(adapter.neuron("norse_izhikevich"), pattern, params, gains, 0.25)
    np.testing.assert_array_equal(passed, t_passed)
    np.testing.assert_allclose(loss, t_loss, rtol=1e-6, atol=1e-6)
    assert len(set(np.round(t_loss, 4))) > 3  # a real spread of candidates, not one repeated case


def _plain_torch_izhikevich():
    """Izhikevich in plain PyTorch, figure1.m's order: a user model nobody ported."""
    def step(p, state, current, dt_ms):
        v, u = state
        v = v + dt_ms * (0.04 * v * v + 5.0 * v + 140.0 - u + current)
        u = u + dt_ms * p["a"] * (p["b"] * v - u)
        spiked = v > 30.0
        recorded = torch.where(spiked, torch.full_like(v, 30.0), v)
        return (torch.where(spiked, p["c"], v), torch.where(spiked, u + p["d"], u)), spiked, recorded

    return torch_model.TorchNeuron(
        "torch_izhikevich", models.get("izhikevich").param_space,
        lambda p: (p["v0"].clone(), p["b"] * p["v0"]), step, lambda p: torch.tensor(30.0))


def test_plain_torch_model_is_assessed_like_jaxplaus_izhikevich():
    pattern = patterns.get("tonic_spiking")
    model = models.get("izhikevich")
    params, gains = _population(Evaluator(model, (pattern,), dt=0.25), seed=1)
    loss, passed = _jax_scores(model, pattern, params, gains)
    t_loss, t_passed = torch_model.evaluate(_plain_torch_izhikevich(), pattern, params, gains, 0.25)
    # two float32 implementations of one scheme, rounding differently: the same verdicts, and
    # the same losses except where rounding moves a spike across a step
    np.testing.assert_array_equal(passed, t_passed)
    assert np.mean(np.isclose(loss, t_loss, rtol=1e-3, atol=1e-3)) >= 0.75


def test_optuna_baseline_is_stored_and_indexed(tmp_path, monkeypatch):
    pytest.importorskip("optuna")
    from jaxplaus.adapters import optuna_baseline

    monkeypatch.setenv("JAXPLAUS_HOME", str(tmp_path / "home"))
    doc = optuna_baseline.run("izhikevich", "tonic_spiking", "random", 4, seed=3, out=tmp_path / "run")
    rows = store.query_results(kind="baseline")
    saved = store.read_json(tmp_path / "run" / "results.json")
    entry = saved["patterns"]["tonic_spiking"]
    to_pass = entry["first_pass_trial"] + 1 if entry["passed"] else 4  # counted like an assess row's
    assert len(rows) == 1 and rows[0]["strategy"] == "optuna-random" and rows[0]["evaluations"] == to_pass
    assert rows[0]["evals_per_second"] > 0 and rows[0]["budget"] == 4
    assert entry["loss"] == doc["patterns"]["tonic_spiking"]["loss"]
    # the stored optimum replays in Norse to the loss Optuna saw
    objective = optuna_baseline.NorseObjective(models.get("izhikevich"), patterns.get("tonic_spiking"), 0.25)
    loss, _ = objective.evaluate(entry["params"], list(entry["stimulus"].values()))
    assert loss == pytest.approx(entry["loss"])
    # and a baseline run is a valid crosscheck input
    assert set(adapter.crosscheck_run(tmp_path / "run")["patterns"]) == {"tonic_spiking"}


def _cli(*args, env=None, code=None):
    command = [sys.executable, "-c", code or "import sys; from jaxplaus.cli import main; sys.exit(main(sys.argv[1:]))", *args]
    return subprocess.run(command, capture_output=True, text=True, env={**os.environ, "JAX_PLATFORMS": "cpu", **(env or {})})


@pytest.mark.parametrize("args", [
    ["crosscheck", "--run", "/nonexistent/run"],
    ["crosscheck"],
    ["baseline", "optuna", "--model", "izhikevich", "--pattern", "tonic_spiking", "--sampler", "grid", "--trials", "3"],
    ["baseline", "optuna", "--model", "izhikevich", "--pattern", "tonic_spiking", "--sampler", "random", "--trials", "0"],
    ["baseline", "optuna", "--model", "nosuch", "--pattern", "tonic_spiking", "--sampler", "random", "--trials", "3"],
    ["baseline", "optuna", "--model", "izhikevich", "--pattern", "nosuch", "--sampler", "random", "--trials", "3"],
    ["baseline", "optuna", "--model", "n2d2", "--pattern", "tonic_spiking", "--sampler", "random", "--trials", "3", "--out", "/tmp/never-written-n2d2"],
])
def test_bad_arguments_fail_in_one_line(args, capsys):
    # in-process (a fresh interpreter per case spends ~15 s importing jax and torch);
    # test_missing_norse_gives_the_install_line and tests/test_cli.py run real processes
    from jaxplaus.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert out == ""


def test_missing_norse_gives_the_install_line(tmp_path):
    hide = ("import sys; sys.modules['norse'] = None; sys.modules['optuna'] = None; "
            "from jaxplaus.cli import main; sys.exit(main(sys.argv[1:]))")
    for args in (["crosscheck", "--run", str(tmp_path)],
                 ["baseline", "optuna", "--model", "izhikevich", "--pattern", "tonic_spiking", "--sampler", "tpe", "--trials", "2"]):
        result = _cli(*args, code=hide)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "pip install" in result.stderr and "Traceback" not in result.stderr


def test_crosscheck_command_json(tmp_path):
    protocol = patterns.get("depolarizing_after_potential").protocol
    entry = {"passed": True, "loss": 0.0, "params": dict(protocol.figure1.params),
             "stimulus": {g.name: g.default for g in protocol.gains}}
    (tmp_path / "results.json").write_text(json.dumps({"model": "izhikevich", "model_options": {}, "dt_ms": 0.25,
                                                      "patterns": {"depolarizing_after_potential": entry}}))
    result = _cli("crosscheck", "--run", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    p = doc["patterns"]["depolarizing_after_potential"]
    assert {"agree", "max_abs_dv", "spike_time_diffs_ms", "passed_norse", "status", "causes"} <= set(p)


def test_baseline_takes_a_pattern_letter_like_every_command(tmp_path, monkeypatch, capsys):
    pytest.importorskip("optuna")
    monkeypatch.setenv("JAXPLAUS_HOME", str(tmp_path / "home"))
    code = main(["baseline", "optuna", "--model", "izhikevich", "--pattern", "A", "--sampler", "random",
                 "--trials", "2", "--out", str(tmp_path / "run"), "--json"])
    out, _ = capsys.readouterr()
    assert code == 0 and list(json.loads(out)["patterns"]) == ["tonic_spiking"]
