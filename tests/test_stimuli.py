"""Stimulus windows follow figure1.m (strict unless closed); JSON stimuli; input classes."""

import re

import jax.numpy as jnp
import numpy as np
import pytest

from jaxplaus import stimuli
from jaxplaus.errors import UsageError
from jaxplaus.stimuli import Piece


def current_at(pieces, gains, t, dt=0.25):
    return float(stimuli.current(stimuli.waveform(pieces), jnp.asarray(gains, jnp.float32), jnp.float32(t), dt))


def test_open_windows_exclude_their_edges_like_figure1():
    step = [Piece(10.0, 15.0)]
    assert current_at(step, [2.0], 10.0) == 0.0
    assert current_at(step, [2.0], 10.25) == 2.0
    assert current_at(step, [2.0], 15.0) == 0.0


def test_closed_windows_include_their_edges():
    window = [Piece(50.0, 250.0, level=-1.0, closed_onset=True, closed_offset=True)]
    assert current_at(window, [5.0], 50.0) == -5.0
    assert current_at(window, [5.0], 250.0) == -5.0
    assert current_at(window, [5.0], 250.5) == 0.0


def test_ramps_rise_from_their_onset():
    ramp = [Piece(30.0, level=0.0, slope=1.0)]
    assert current_at(ramp, [0.075], 130.0) == pytest.approx(7.5)


def test_json_kinds_build_pieces():
    step = stimuli.pieces_from_json({"kind": "step", "amplitude": 500, "onset_ms": 50})
    assert current_at(step, [1.0], 60.0) == 500.0
    pulses = stimuli.pieces_from_json({"kind": "pulses", "amplitude": 9, "times_ms": [10, 20], "width_ms": 2})
    assert [current_at(pulses, [1.0], t) for t in (11.0, 15.0, 21.0)] == [9.0, 0.0, 9.0]
    both = stimuli.pieces_from_json({"kind": "sum", "parts": [
        {"kind": "step", "amplitude": 1.0, "onset_ms": 0}, {"kind": "ramp", "slope": 0.5, "onset_ms": 10}]})
    assert current_at(both, [1.0], 20.0) == pytest.approx(6.0)


@pytest.mark.parametrize("spec", [
    [], {"amplitude": 3}, {"kind": "sine"}, {"kind": "step"}, {"kind": "step", "amplitude": "big"},
    {"kind": "pulses", "amplitude": 1, "times_ms": [], "width_ms": 1},
    {"kind": "pulses", "amplitude": 1, "times_ms": [1], "width_ms": -1},
])
def test_malformed_stimuli_are_usage_errors(spec):
    with pytest.raises(UsageError):
        stimuli.pieces_from_json(spec)


@pytest.mark.parametrize("spec, named", [
    ({"kind": "step", "amplitude": 5, "onest_ms": 50}, "'onest_ms'"),
    ({"kind": "ramp", "slope": 1, "amplitude": 2}, "'amplitude'"),
    ({"kind": "sum", "parts": [{"kind": "pulses", "amplitude": 1, "times_ms": [1], "width_ms": 1, "width": 2}]},
     "'width'"),
    ({"kind": "step", "amplitude": 5, "onset_ms": 50, "offset_ms": 20}, "'offset_ms' (20) must come after"),
    ({"kind": "ramp", "slope": 1, "onset_ms": 50, "offset_ms": 50}, "'offset_ms' (50) must come after"),
])
def test_a_misspelt_field_or_a_window_ending_before_it_starts_is_refused(spec, named):
    with pytest.raises(UsageError, match=re.escape(named)):
        stimuli.pieces_from_json(spec)


def test_every_kind_accepts_each_of_its_fields():
    full = {"step": {"amplitude": 1, "onset_ms": 1, "offset_ms": 2, "baseline": 0.5},
            "ramp": {"slope": 1, "start": 0, "onset_ms": 1, "offset_ms": 2, "baseline": 0.5},
            "pulses": {"amplitude": 1, "times_ms": [1], "width_ms": 1, "baseline": 0.5},
            "sum": {"parts": [{"kind": "step", "amplitude": 1}]}}
    assert set(full) == set(stimuli.KINDS)
    for kind, fields in full.items():
        assert set(fields) == stimuli.FIELDS[kind]
        assert stimuli.pieces_from_json({"kind": kind, **fields})


def test_input_classes_from_marks():
    classes = {
        "dc": [Piece(10.0)],
        "ramp": [Piece(30.0, level=0.0, slope=1.0)],
        "pulses": [Piece(10.0, 12.0)],
        "inhibitory": [Piece(20.0, 25.0, level=-1.0)],
    }
    for expected, pieces in classes.items():
        assert stimuli.marks(pieces, 100.0).input_class == expected


def test_waveforms_stack_with_inert_padding():
    stacked = stimuli.stack([stimuli.waveform([Piece(1.0)]), stimuli.waveform([Piece(1.0), Piece(2.0, 3.0)])])
    assert stacked.onset.shape == (2, 2)
    assert np.isinf(stacked.onset[0, 1]) and stacked.level[0, 1] == 0.0
