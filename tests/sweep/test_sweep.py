"""Sweeps: variant construction, pinning, the batched job (resume = uninterrupted), CLI contract."""

import json
import math

import jax.numpy as jnp
import numpy as np
import pytest

from jaxplaus import store, sweep
from jaxplaus.cli import main
from jaxplaus.errors import UsageError
from jaxplaus.models.polynomial import MONOMIALS
from jaxplaus.store import read_json


def test_grid_is_the_cartesian_product():
    model = sweep.family_model("adex", {})
    v = sweep.grid_variants(model, {"a": [0.0, 2.0, 4.0], "b": [0.0, 0.05]})
    assert len(v) == 6
    names = model.param_space.names
    assert v.pins(names, 5) == {"a": 4.0, "b": 0.05}
    assert np.isnan(v.pinned[:, names.index("tauw")]).all()


def test_random_draws_stay_in_range_and_log_scale_is_used():
    model = sweep.family_model("polynomial", {})
    v = sweep.random_variants(model, {"threshold": [1.0, 40.0], "reset_v": [-0.5, 0.5]}, 400, seed=1)
    col = v.pinned[:, model.param_space.names.index("threshold")]
    assert (col >= 1.0).all() and (col <= 40.0).all()
    assert abs(np.median(np.log(col)) - 0.5 * math.log(40.0)) < 0.3  # log-uniform, not uniform


def test_structures_pin_absent_monomials_at_zero():
    model = sweep.family_model("polynomial", {})
    every = sweep.structure_variants(model, 2, 2, None, seed=0)
    assert len(every) == math.comb(len(MONOMIALS), 2) ** 2
    some = sweep.structure_variants(model, 2, 1, 50, seed=0)
    assert len(set(some.labels)) == 50
    names = model.param_space.names
    for row in some.pinned:
        coefficients = [n for n in names if n[:2] in ("v_", "u_")]
        free = [n for n in coefficients if np.isnan(row[names.index(n)])]
        assert sum(n.startswith("v_") for n in free) == 2 and sum(n.startswith("u_") for n in free) == 1
        assert all(row[names.index(n)] == 0.0 for n in coefficients if n not in free)


def test_pinning_overwrites_only_the_pinned_coordinates_and_decodes_exactly():
    config = sweep.SweepConfig(model="polynomial", structures=[2, 2], variants=3, patterns=["A"], budget=8)
    p = sweep.plan(config)
    z = jnp.asarray(np.random.default_rng(0).uniform(size=(3, 5, p.evaluator.dim)), jnp.float32)
    pinned = np.asarray(p.evaluator.pin(z))
    mask = np.concatenate([p.evaluator.mask, np.zeros((3, p.evaluator.dim - p.evaluator.base.n_model), bool)], 1)
    np.testing.assert_array_equal(pinned[~np.broadcast_to(mask[:, None], pinned.shape)],
                                  np.asarray(z)[~np.broadcast_to(mask[:, None], pinned.shape)])
    params, _ = p.evaluator.base.decode(jnp.asarray(pinned[1]), 0)
    for name, value in p.variants.pins(p.evaluator.base.model_space.names, 1).items():
        assert (np.asarray(params[name]) == value).all()  # a pinned 0 coefficient decodes to exactly 0


@pytest.mark.parametrize("bad, message", [
    (dict(grid={"a": [1.0]}, random={"b": [0, 1]}, variants=2), "exactly one"),
    (dict(grid={"a": []}), "non-empty"),
    (dict(grid={"a": ["x"]}), "finite number"),
    (dict(random={"a": [3.0, 1.0]}, variants=2), "low < high"),
    (dict(random={"a": [0.0, 1.0]}, variants=0), "at least 1"),
    (dict(grid={"a": [1.0]}, restarts=0), "--restarts"),
])
def test_bad_configurations_are_usage_errors(bad, message):
    with pytest.raises(UsageError, match=message):
        sweep.SweepConfig(model="adex", patterns=["A"], **bad).check()


CONFIG = dict(model="adex", grid={"a": [0.0, 4.0], "b": [0.0, 0.1]}, patterns=["tonic_spiking", "spike_latency"],
              budget=192, population=6, restarts=2, seed=1)


def test_interrupted_and_resumed_sweep_equals_uninterrupted(tmp_path):
    whole = sweep.sweep(sweep.SweepConfig(**CONFIG), progress=False)
    out = tmp_path / "run"
    first = sweep.sweep(sweep.SweepConfig(**CONFIG), out=out, progress=False, stop_after=1)
    assert first == {"interrupted": True, "generations_done": 8}
    assert (out / store.CHECKPOINT).exists() and not (out / "results.json").exists()
    resumed = sweep.sweep(sweep.SweepConfig(**CONFIG), out=out, resume=True, progress=False)
    for key in ("score_histogram", "pattern_pass_fraction", "best_variants"):
        assert resumed[key] == whole[key], key
    again = sweep.sweep(sweep.SweepConfig(**CONFIG), out=out, resume=True, progress=False)  # finished: as it is
    assert again["best_variants"] == resumed["best_variants"]
    assert len(store.query_results(run_dir=str(out.resolve()))) == 4 * 2  # indexed once
    arrays = np.load(out / "sweep.npz")
    assert arrays["passed"].shape == (4, 2) and arrays["best_z"].shape[:2] == (4, 2)
    assert resumed["n_variants"] == 4 and sum(resumed["score_histogram"].values()) == 4
    # the published AdEx parameters (a=4 nS... pinned at 0/4, b free otherwise) fire tonically:
    # at least one variant must reproduce tonic spiking at this budget
    assert resumed["pattern_pass_fraction"]["tonic_spiking"] > 0
    assert (out / "report.html").exists() and read_json(out / "results.json")["kind"] == "sweep"


def test_cli_json_and_errors(tmp_path, capsys):
    args = ["sweep", "--model", "adex", "--grid", json.dumps(CONFIG["grid"]), "--patterns", *CONFIG["patterns"],
            "--budget", "96", "--population", "6", "--seed", "1", "--out", str(tmp_path / "cli"), "--no-progress", "--json"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n_variants"] == 4 and set(doc["pattern_pass_fraction"]) == set(CONFIG["patterns"])
    assert main(args) == 2  # a finished run is never overwritten
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "finished run" in err[0]
    assert main(["sweep", "--model", "adex", "--grid", '{"a": [500]}', "--out", str(tmp_path / "bad")]) == 2
    assert not (tmp_path / "bad").exists()
