"""Run directories, checkpoints and the index: created once, resumed only with the same
configuration, data-only checkpoints, atomic writes, one clear error for every damaged file."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jaxplaus import store
from jaxplaus.errors import UsageError


def test_resume_names_the_settings_that_differ(tmp_path):
    out = tmp_path / "run"
    assert store.open_run_dir(out, {"seed": 0, "budget": 64}, resume=False) is False
    with pytest.raises(UsageError, match=r"differs in: budget, trials\)"):
        store.open_run_dir(out, {"seed": 0, "budget": 128, "trials": 2}, resume=True)
    assert store.open_run_dir(out, {"seed": 0, "budget": 64}, resume=True) is False  # no checkpoint yet
    with pytest.raises(UsageError, match="--resume"):
        store.open_run_dir(out, {"seed": 0, "budget": 64}, resume=False)


# ---------------------------------------------------------------------- checkpoints

def _equal(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.asarray(a).dtype == np.asarray(b).dtype and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b)


arrays = st.builds(lambda shape, dtype, seed: np.random.default_rng(seed).normal(size=shape).astype(dtype),
                   st.lists(st.integers(0, 3), max_size=3), st.sampled_from([np.float32, np.int32, np.bool_]),
                   st.integers(0, 100))
leaves = st.one_of(arrays, st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                   st.text(max_size=5))
documents = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.tuples(inner, inner), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(documents)
def test_a_checkpoint_gives_back_what_was_saved(tmp_path, document):
    store.save_checkpoint(tmp_path, {"doc": document})
    assert _equal(store.load_checkpoint(tmp_path), {"doc": document})
    assert [p.name for p in tmp_path.iterdir()] == [store.CHECKPOINT]  # no temporary file stays


def test_a_search_state_round_trips_bit_for_bit(tmp_path):
    import jax

    from jaxplaus import models, patterns, search
    from jaxplaus.evaluate import Evaluator

    evaluator = Evaluator(models.get("lif"), patterns.select(["tonic_spiking"]))
    state = search.Search(evaluator, search.get("de"), 6, 2).init(0)
    store.save_checkpoint(tmp_path, {"state": jax.tree.map(np.asarray, state), "phase": 1})
    loaded = store.load_checkpoint(tmp_path)
    assert type(loaded["state"]) is type(state) and type(loaded["state"].strategy[0]) is type(state.strategy[0])
    assert jax.tree.structure(loaded["state"]) == jax.tree.structure(state)
    assert all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(loaded["state"]), jax.tree.leaves(state)))


@pytest.mark.parametrize("content", [b"", b"garbage", b"PK\x03\x04truncated"])
def test_a_damaged_checkpoint_is_one_clear_error(tmp_path, content):
    store.save_checkpoint(tmp_path, {"x": np.arange(3)})
    (tmp_path / store.CHECKPOINT).write_bytes(content)
    with pytest.raises(UsageError, match=f"{store.CHECKPOINT} is damaged"):
        store.load_checkpoint(tmp_path)


def test_a_truncated_checkpoint_is_one_clear_error(tmp_path):
    store.save_checkpoint(tmp_path, {"x": np.arange(1000)})
    path = tmp_path / store.CHECKPOINT
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(UsageError, match="is damaged"):
        store.load_checkpoint(tmp_path)


def test_a_checkpoint_never_names_code_it_would_run(tmp_path):
    header = {"format": store.CHECKPOINT_FORMAT, "version": store.CHECKPOINT_VERSION,
              "outline": {"__class__": "os:system", "fields": {"command": "touch pwned"}}}
    np.savez(tmp_path / store.CHECKPOINT, __outline__=np.asarray(json.dumps(header)))
    with pytest.raises(UsageError, match="outside jaxplaus and evosax"):
        store.load_checkpoint(tmp_path)
    with pytest.raises(TypeError, match="does not hold"):
        store.save_checkpoint(tmp_path, {"f": print})


def test_an_old_pickle_checkpoint_is_refused(tmp_path):
    out = tmp_path / "run"
    store.open_run_dir(out, {"seed": 0}, resume=False)
    (out / store.OLD_CHECKPOINT).write_bytes(b"\x80\x04N.")
    with pytest.raises(UsageError, match="pickle checkpoint of an older jaxplaus"):
        store.open_run_dir(out, {"seed": 0}, resume=True)


@pytest.mark.parametrize("content", ["", "{\"seed\": ", "[1, 2]", "\x00\xff"])
def test_a_damaged_config_is_one_clear_error(tmp_path, content):
    out = tmp_path / "run"
    store.open_run_dir(out, {"seed": 0}, resume=False)
    (out / store.CONFIG).write_text(content, errors="surrogateescape")
    with pytest.raises(UsageError, match=f"{store.CONFIG} is damaged"):
        store.open_run_dir(out, {"seed": 0}, resume=True)


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "report.html"
    store.write_text(path, "old")

    def fails(tmp):
        tmp.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        store.write_atomic(path, fails)
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["report.html"]


# ---------------------------------------------------------------------- the index

def test_a_damaged_index_fails_before_a_run_starts(tmp_path, monkeypatch):
    monkeypatch.setenv("JAXPLAUS_HOME", str(tmp_path / "home"))
    store.index_path().parent.mkdir(parents=True)
    store.index_path().write_text("not a database")
    with pytest.raises(store.DamagedIndex, match="index.sqlite is damaged"):
        store.query_results()
    with pytest.raises(store.DamagedIndex):
        store.open_run_dir(tmp_path / "run", {"seed": 0}, resume=False)
    assert not (tmp_path / "run").exists()


def test_indexing_a_run_again_replaces_its_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("JAXPLAUS_HOME", str(tmp_path / "home"))
    rows = [{"run_dir": "/r/1", "kind": "assess", "pattern": p, "passed": 1} for p in ("a", "b")]
    store.index_results(rows)
    store.index_results(rows)
    store.index_results([{"run_dir": "/r/2", "kind": "assess", "pattern": "a", "passed": 0}])
    assert sorted((r["run_dir"], r["pattern"]) for r in store.query_results()) == [
        ("/r/1", "a"), ("/r/1", "b"), ("/r/2", "a")]


def test_runs_lists_per_run_summaries_sorted_filtered_and_as_csv(tmp_path, monkeypatch, capsys):
    from jaxplaus.cli import main

    monkeypatch.setenv("JAXPLAUS_HOME", str(tmp_path / "home"))
    rows = [{"run_dir": f"/r/{run}", "kind": "assess", "model": model, "pattern": p, "strategy": "de", "seed": seed,
             "budget": 64, "passed": int(p in passed), "loss": float(p not in passed),
             "physiological": int(p in physiological)}
            for run, model, seed, passed, physiological in (("1", "lif", 0, "AB", "A"), ("2", "adex", 1, "ABC", "ABC"))
            for p in "ABC"]
    store.index_results(rows)
    assert main(["runs", "--summary", "--sort", "passed", "--descending", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert [(s["model"], s["patterns"], s["passed"], s["physiological"]) for s in summary] == [
        ("adex", 3, 3, 3), ("lif", 3, 2, 1)]
    assert summary[0]["run"] == store.run_id("/r/2") and len(summary[0]["run"]) == 8
    assert main(["runs", "--where", "seed=1", "--where", "pattern=B", "--json"]) == 0
    assert [(r["model"], r["pattern"]) for r in json.loads(capsys.readouterr().out)["runs"]] == [("adex", "B")]
    assert main(["runs", "--summary", "--csv", "--limit", "1", "--sort", "model"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("run,kind,model,") and len(lines) == 2 and ",adex," in lines[1]
    for bad in (["--where", "nosuch=1"], ["--sort", "nosuch"], ["--limit", "0"]):
        assert main(["runs", *bad]) == 2
