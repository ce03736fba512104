"""figure1.m's 20 cases: every one passes its own validator with figure1.m's spike count, and
each validator rejects the other traces of its input class (the confusion matrix)."""

import numpy as np
import pytest

from jaxplaus import reference

# spike counts of figure1.m's exact scheme (Izhikevich 2004's public figure1.m, run as written)
FIGURE1_SPIKES = [5, 1, 28, 6, 6, 6, 10, 14, 1, 1, 1, 1, 1, 7, 1, 5, 1, 1, 3, 12]


@pytest.fixture(scope="module")
def results():
    return reference.izhikevich2004()


def test_all_twenty_pass_with_figure1_spike_counts(results):
    assert [len(r["spike_times_ms"]) for r in results] == FIGURE1_SPIKES
    assert [r["expected_spikes"] for r in results] == FIGURE1_SPIKES
    # only class 2's protocol goes on after figure1.m's run: its slower ramp
    assert [r["name"] for r in results if r["later_spike_times_ms"]] == ["class_2_excitability"]
    assert [r["name"] for r in results if not r["passed"]] == []
    assert all(r["loss"] == 0.0 for r in results)


def test_first_spikes_at_figure1_times(results):
    by_name = {r["name"]: r["spike_times_ms"] for r in results}
    assert by_name["tonic_spiking"][0] == pytest.approx(13.0)  # 14 from t > 10, dt 0.25
    assert by_name["resonator"] == pytest.approx([338.0])  # the 40 ms pair, not the 20 ms one
    assert by_name["integrator"] == pytest.approx([20.0])  # the 5 ms pair, not the 10 ms one


def test_validators_discriminate_within_each_input_class(results):
    names, matrix = reference.confusion(results)
    letters = [r["letter"] for r in results]
    print("\nvalidator (row) x figure1.m trace (column); . = other input class")
    print("   " + " ".join(letters))
    for letter, row in zip(letters, matrix):
        print(letter, " ", " ".join({-1: ".", 0: "0", 1: "1"}[v] for v in row))
    same_class = matrix >= 0
    assert np.array_equal(matrix[same_class], np.eye(len(names), dtype=int)[same_class])
    assert same_class.sum() > 3 * len(names)  # every class has several members to confuse
