"""`jaxplaus compare`: the model x pattern matrix from run directories, beside Izhikevich
(2004)'s verdicts, with its page's images present and loadable."""

import json
import re

import pytest
from PIL import Image

from jaxplaus import patterns, store
from jaxplaus.cli import main
from jaxplaus.compare import matrix


def _results(model, seed, passed: str, physiological: str | None) -> dict:
    """A finished assessment's results.json, reduced to what compare reads."""
    entries = {}
    for name in patterns.names():
        letter = patterns.get(name).letter
        ok = letter in passed
        entries[name] = {"letter": letter, "passed": ok, "loss": 0.0 if ok else 1.0,
                         "evaluations_to_pass": 640 if ok else None, "validation": {"robustness": 0.5},
                         "physiological": None if physiological is None or letter not in physiological
                         else {"passed": True}}
    return {"kind": "assess", "model": model, "seed": seed, "score": len(passed),
            "score_within_physiological": None if physiological is None else len(physiological), "patterns": entries}


@pytest.fixture
def runs(tmp_path):
    dirs = []
    for k, (model, seed, passed, phys) in enumerate([("lif", 0, "AGL", "AG"), ("lif", 1, "AGLH", "AGL"),
                                                      ("izhikevich", 0, "ABCDEFGHIJKLMNOPQRST", "ABC")]):
        run = tmp_path / f"run-{k}"
        run.mkdir()
        store.write_json(run / store.RESULTS, _results(model, seed, passed, phys))
        dirs.append(run)
    return dirs


def test_the_matrix_counts_runs_and_flags_published_disagreements(runs):
    from jaxplaus.compare import load

    doc = matrix(load(runs))
    lif, izh = doc["models"]
    assert (lif["model"], lif["runs"], lif["seeds"]) == ("lif", 2, [0, 1])
    assert lif["patterns"]["tonic_spiking"]["passed"] == 1.0 and lif["patterns"]["class_2_excitability"]["passed"] == 0.5
    assert lif["patterns"]["integrator"]["physiological"] == 0.5
    # one LIF run found class 2 excitability, which Izhikevich (2004) says a LIF cannot do
    assert lif["disagreements"] == ["class_2_excitability"] and izh["disagreements"] == []
    assert lif["published"]["patterns"] == ["tonic_spiking", "class_1_excitability", "integrator"]


def test_compare_writes_a_page_whose_images_load(runs, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", *map(str, runs), "--out", str(out)]) == 0
    assert "differs from Izhikevich 2004" in capsys.readouterr().out
    page = (out / "compare.html").read_text()
    images = re.findall(r"<img src='([^']+)'", page)
    assert images and all(Image.open(out / name).size[0] > 100 for name in images)
    assert (out / "compare.svg").read_text().lstrip().startswith("<?xml")
    assert json.loads((out / "compare.json").read_text())["models"][0]["model"] == "lif"


def test_compare_refuses_what_is_not_a_finished_assessment(tmp_path, runs):
    (tmp_path / "empty").mkdir()
    store.write_json(tmp_path / "sweep.json", {})
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    store.write_json(sweep / store.RESULTS, {"kind": "sweep"})
    for bad in (tmp_path / "empty", sweep, tmp_path / "nosuch"):
        assert main(["compare", str(runs[0]), str(bad), "--out", str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x").exists()
