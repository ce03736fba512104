"""The assessment report from hand-made results: both optima, the ladder's spike counts, warnings,
physiological limits and figures (PNG and SVG) in report.md and report.html; a model without
physiology renders without physiological columns. No search runs: the report simulates the optima
itself, in one small batched call."""

import html
import xml.etree.ElementTree as ET

import jax.numpy as jnp
import numpy as np
import pytest

from jaxplaus import models, patterns, physiology, stimuli
from jaxplaus import report as R
from jaxplaus.commands.assess import render
from jaxplaus.report import figures

LADDER = [0.25, 0.125, 0.0625, 0.025]
SOURCE = "a test's made-up source (2024)"


def optimum(params, stimulus, spikes, robustness=1.0, warnings=(), on_bound=(), passed=(True,) * 4, loss=0.0):
    return {
        "params": dict(params), "stimulus": dict(stimulus), "loss": loss,
        "spike_times_ms": [10.0 + 5 * k for k in range(spikes[0])],
        "warnings": list(warnings), "on_search_bound": list(on_bound),
        "validation": {"converged": all(passed), "ladder_dt_ms": LADDER, "passed_per_dt": list(passed),
                       "spikes_per_dt": list(spikes), "within_limits_per_dt": [True] * 4,
                       "robustness": robustness, "robustness_samples": 32, "within_physiological": None,
                       "passed_at_dt": passed[0], "passed_at_half_dt": passed[1]},
    }


def pattern_entry(name, score, phys, evaluations_to_pass=96):
    return {"letter": patterns.get(name).letter, "input_class": patterns.get(name).input_class,
            "passed": score["validation"]["converged"], "evaluations": 640,
            "evaluations_to_pass": evaluations_to_pass if score["validation"]["converged"] else None,
            **score, "physiological": phys}


def results_of(model, entries, phys_score, physiology_doc):
    return {
        "model": model, "model_options": {}, "strategy": "cma_es", "seed": 3, "bounds": "wide", "dt_ms": 0.25,
        "budget": 1280, "population": 10, "restarts": 8, "ipop": False,
        "phases": [{"runs": 8, "population": 10, "start": 0}],
        "search_phases": [
            {"patterns": list(entries), "restarts": 8, "population": 10, "generations": 8,
             "evaluations_per_pattern": 640},
            {"patterns": list(entries)[-1:], "restarts": 8, "population": 40, "generations": 2,
             "evaluations_per_pattern": 640}],
        "generations": 16, "evaluations": 640 * (len(entries) + 1),
        "score": sum(e["passed"] for e in entries.values()), "score_within_physiological": phys_score,
        "physiology": physiology_doc, "ladder_dt_ms": LADDER, "n_patterns": len(entries),
        "seconds": {"compile_s": 1.0, "search_s": 0.5, "validation_s": 0.25}, "evaluations_per_second": 1e4,
        "patterns": entries,
    }


def history_of(names, generations=4):
    best = np.linspace(1.0, 0.0, generations)[:, None] * np.ones(len(names))
    spent = np.arange(1, generations + 1)[:, None] * 80.0 * np.ones(len(names))
    return {"best_loss": best, "evaluations": spent, "patterns": np.array(names)}


def izhikevich_results():
    """Three patterns: both optima found (distinct), the physiological one not found, and a pattern
    not reproduced at all."""
    fig1 = {n: patterns.get(n).protocol.figure1.params for n in ("tonic_spiking", "rebound_spike", "resonator")}
    entries = {
        "tonic_spiking": pattern_entry(
            "tonic_spiking",
            optimum({**fig1["tonic_spiking"], "d": 2.0}, {"amplitude": 52.0}, [9, 9, 10, 10], 0.91,
                    ["on a bound of the search range: a", "peak input 52 above the physiological 40 (figure1.m units)"],
                    ["a"]),
            optimum(fig1["tonic_spiking"], {"amplitude": 14.0}, [5, 5, 5, 5], 1.0,
                    ["on a bound of the physiological box: d"], ["d"]) | {"passed": True}),
        "rebound_spike": pattern_entry(
            "rebound_spike", optimum(fig1["rebound_spike"], {"amplitude": 15.0}, [1, 1, 1, 1], 0.5), None),
        "resonator": pattern_entry(
            "resonator", optimum(fig1["resonator"], {"amplitude": 0.3}, [0, 0, 1, 1], 0.0,
                                 passed=(False, False, True, True), loss=2.5), None),
    }
    phys = physiology.of(models.get("izhikevich")).describe() | {"source": SOURCE}
    return results_of("izhikevich", entries, 1, phys)


def n2d2_results():
    defaults = models.get("n2d2").param_space.defaults()
    entries = {"tonic_spiking": pattern_entry(
        "tonic_spiking", optimum(defaults, {"amplitude": 14.0}, [3, 3, 3, 3], 0.75), None)}
    return results_of("n2d2", entries, None, None)


def written(tmp_path_factory, name, results):
    """A run directory with the report of `results`."""
    out = tmp_path_factory.mktemp("report") / name
    out.mkdir()
    R.write_report(out, results, history_of(list(results["patterns"])))
    return out, results


@pytest.fixture(scope="module")
def izhikevich_run(tmp_path_factory):
    return written(tmp_path_factory, "izhikevich", izhikevich_results())


@pytest.fixture(scope="module")
def n2d2_run(tmp_path_factory):
    return written(tmp_path_factory, "n2d2", n2d2_results())


@pytest.mark.parametrize("document", ["report.md", "report.html"])
def test_both_scores_optima_ladder_and_limits_appear(izhikevich_run, document):
    out, _ = izhikevich_run
    text = (out / document).read_text()
    for expected in ("Score 2/3", "Plausibility score 1/3",
                     "9/9/10/10", "5/5/5/5", "1/1/1/1", "0✗/0✗/1/1",  # spike counts down the ladder
                     "0.91", "not found",
                     "peak input 52 above the physiological 40 (figure1.m units)",  # full warnings
                     "on a bound of the physiological box: d",
                     "input > limit",  # compact warnings
                     "at most 40 figure1.m units", "[-100, 60] mV", "shorter than 2 ms", SOURCE,
                     "0.25, 0.125, 0.0625, 0.025 ms"):
        assert (html.escape(expected) if document.endswith("html") else expected) in text, (document, expected)
    assert "2 on bound" not in text  # one parameter on a bound per optimum here
    assert text.count("1 on bound") == 2


def test_summary_table_sets_both_optima_side_by_side(izhikevich_run):
    _, results = izhikevich_run
    rows = R.summary_table(results).rows
    header = [str(c) for c in rows[0]]
    assert "reproduced" in header and "physiological" in header and "phys. spikes" in header
    by_name = {row[1]: [c.text if isinstance(c, R.Cell) else c for c in row] for row in rows[1:]}
    tonic = dict(zip(header, by_name["tonic spiking"]))
    assert tonic["reproduced"] == "yes" and tonic["physiological"] == "yes"
    assert tonic["spikes"] == "9/9/10/10" and tonic["phys. spikes"] == "5/5/5/5"
    assert tonic["evaluations to pass / spent"] == "96 / 640"
    assert dict(zip(header, by_name["rebound spike"]))["physiological"] == "not found"
    assert dict(zip(header, by_name["resonator"]))["reproduced"] == "no"


def test_parameter_table_has_units_and_marks_values_on_a_bound(izhikevich_run):
    _, results = izhikevich_run
    table = R.parameter_table(results)
    header = table.rows[0]
    assert "a (1/ms)" in header and "c (mV)" in header and "optimum" in header
    score, phys = table.rows[1], table.rows[2]
    a, d = header.index("a (1/ms)"), header.index("d (mV/ms)")
    assert score[a].endswith(R.BOUND_MARK) and not score[d].endswith(R.BOUND_MARK)
    assert phys[d].endswith(R.BOUND_MARK) and not phys[a].endswith(R.BOUND_MARK)
    assert any(R.BOUND_MARK in note for note in table.notes)
    rebound_phys = table.rows[4]
    assert rebound_phys[header.index("optimum")].text == "physiological"
    assert "not found" in [c.text for c in rebound_phys if isinstance(c, R.Cell)]


def test_search_phases_name_the_second_phases_patterns(izhikevich_run):
    out, _ = izhikevich_run
    md = (out / "report.md").read_text()
    assert "| 1 | all 3 | 8 x 10 |" in md
    assert "| 2 | 1: resonator | 8 x 40 |" in md


def test_figures_exist_as_png_and_svg(izhikevich_run):
    out, _ = izhikevich_run
    page = (out / "report.html").read_text()
    for stem in ("traces_dc", "intervals_dc", "traces_inhibitory", "intervals_inhibitory", "traces_pulses",
                 "intervals_pulses", "convergence"):
        png, svg = out / f"{stem}.png", out / f"{stem}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", stem
        assert ET.parse(svg).getroot().tag.endswith("svg"), stem
        assert f"{stem}.svg" in page
    assert not (out / "traces_ramp.png").exists()  # no ramp pattern in these results
    assert page.count("<img") == 7 and "data:image/png;base64," in page


def test_a_model_without_physiology_has_no_physiological_column(n2d2_run):
    out, results = n2d2_run
    header = R.summary_table(results).rows[0]
    assert not any("phys" in str(c) for c in header)
    assert "optimum" not in R.parameter_table(results).rows[0]
    for document in ("report.md", "report.html"):
        text = (out / document).read_text()
        assert "Score 1/1" in text and "3/3/3/3" in text
        assert "no plausibility score" in text and "Plausibility score" not in text
        assert "phys." not in text
    for stem in ("traces_dc", "intervals_dc", "convergence"):
        assert (out / f"{stem}.png").exists() and (out / f"{stem}.svg").exists()


def test_results_lacking_a_field_are_refused_by_name(tmp_path):
    results = izhikevich_results()
    del results["patterns"]["resonator"]["warnings"], results["ladder_dt_ms"]
    del results["patterns"]["tonic_spiking"]["physiological"]["params"]
    with pytest.raises(ValueError, match=r"ladder_dt_ms, patterns\.tonic_spiking\.physiological\.params, "
                                         r"patterns\.resonator\.warnings"):
        R.write_report(tmp_path, results, history_of(list(results["patterns"])))


def test_optima_are_listed_in_the_order_the_assessment_simulates_them():
    found = [(name, kind.key) for name, kind, _ in R.optima(izhikevich_results())]
    assert found == [("tonic_spiking", "score"), ("tonic_spiking", "physiological"),
                     ("rebound_spike", "score"), ("resonator", "score")]


@pytest.mark.parametrize("name", ["class_2_excitability", "resonator", "accommodation", "bistability"])
def test_plotted_input_is_the_protocols_input(name):
    pattern = patterns.get(name)
    gains = [g.default for g in pattern.protocol.gains]
    t, current = figures.input_current(pattern, gains, pattern.protocol.duration_ms)
    wave = stimuli.waveform(pattern.protocol.pieces)
    expected = np.array([float(stimuli.current(wave, jnp.asarray(gains, jnp.float32), jnp.float32(x), 0.25))
                         for x in t[::25]])
    assert np.allclose(current[::25], expected, rtol=1e-4, atol=1e-4)


def test_the_command_line_shows_both_answers():
    results = izhikevich_results() | {"run_dir": "runs/x"}
    text = render(results)
    assert "score 2/3, plausibility score 1/3" in text
    assert "PASS  phys PASS  robustness 0.91/1.00  spikes 9/9/10/10 | 5/5/5/5  warnings 2/1" in text
    assert "PASS  phys  -    robustness 0.50/ -    spikes 1/1/1/1  warnings 0" in text
    assert "fail  phys  -" in text and "(loss 2.5)" in text
    no_phys = render(n2d2_results() | {"run_dir": "runs/y"})
    assert "plausibility" not in no_phys and "phys" not in no_phys
    assert "PASS  robustness 0.75  spikes 3/3/3/3  warnings 0" in no_phys
