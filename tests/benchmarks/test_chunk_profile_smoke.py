"""Smoke test of benchmarks/chunk_profile.py: every piece is timed and reported."""

import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")  # chunk_profile borrows throughput.py's helpers, which import torch
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import chunk_profile  # noqa: E402

SHORT = ("tonic_spiking", "depolarizing_after_potential")  # one duration group


def test_profile_times_every_piece_of_a_chunk():
    row = chunk_profile.profile("izhikevich", chunk=2, chunks=2, repeats=1, selection=SHORT)
    # 2 candidates x 2 patterns x (101 blocks of 4 steps at dt + 101 of 8 at dt/2)
    assert row["neuron_steps_per_chunk"] == 2 * 2 * (404 + 808)
    for key in ("whole_s", "simulation_s", "scoring_s", "spike_times_s", "objectives_s"):
        assert row[key] > 0, key
    assert set(row["slowest_objectives"]) == set(SHORT)
    assert row["loop_dt"] == 0.125 and row["loop_members"] == 2 * 2
    assert row["recording_loop_neuron_steps_per_s"] > 0 and row["no_recording_loop_neuron_steps_per_s"] > 0
    assert "spike times" in chunk_profile.report(row)
