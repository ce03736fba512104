"""Published cell classes (jaxplaus.patterns.cells: Naud et al. 2008, Izhikevich 2003) get the
pattern their source names -- and only it, among the patterns of their input class -- at every
recording length, step and onset; a few also through the search's 1-ms block recordings."""

from collections import defaultdict
from dataclasses import replace
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxplaus import features, models, patterns, simulate, stimuli
from jaxplaus.evaluate import Evaluator
from jaxplaus.patterns import cells
from jaxplaus.patterns.protocols import Protocol, gain

STEPS_MS = (0.25, 0.1, 0.05)
LENGTHS_MS = (300.0, 600.0, 1000.0)
# the fastest cells would fill or overflow the feature buffer (features.MAX_SPIKES) in 1000 ms
SHORTER = {"izhikevich_FS": (300.0, 500.0, 700.0), "naud_tonic": (300.0, 600.0, 900.0)}
ONSET_MS = 50.0
SHIFT_MS = 40.0  # the same experiment started 40 ms later (stimulus and recording end move together)
SHIFTED_LENGTH_MS = 600.0
AMPLITUDE_FACTORS = (0.9, 1.1)  # moderate changes of a DC step, recorded at 600 ms, dt 0.1
# ... that leave the regime of the cell as it was, except where the response changes its kind:
REGIME_CHANGES = {
    "izhikevich_IB": (1.1,),  # an initial burst, then doublets: bursting (izhi2003.m notes 14 too)
    "naud_transient": (0.9,),  # below its rheobase: no spike at all
}


def lengths(cell):
    if cell.pieces is None:
        return SHORTER.get(cell.name, LENGTHS_MS)
    return tuple(sorted({cell.duration_ms, 600.0, 1000.0}))


def shifted(pieces, by):
    return tuple(replace(p, onset=p.onset + by, offset=p.offset + by) for p in pieces)


def experiments(cell):
    """(length, step, shift, amplitude factor) of every run of a cell: each length at each step,
    one length with the whole experiment shifted in time, and moderate amplitude changes."""
    runs = [(length, dt, 0.0, 1.0) for length in lengths(cell) for dt in STEPS_MS]
    runs += [(SHIFTED_LENGTH_MS + SHIFT_MS, dt, SHIFT_MS, 1.0) for dt in STEPS_MS]
    if cell.pieces is not None:  # pulse protocols are tuned to their amplitude (figure1.m's)
        return runs
    return runs + [(600.0, 0.1, 0.0, k) for k in AMPLITUDE_FACTORS if k not in REGIME_CHANGES.get(cell.name, ())]


@lru_cache(maxsize=None)
def verdict_function(marks):
    """The pass/fail of every pattern of the marks' input class, vmapped (op by op: compiling
    one program per recording length would cost more than running them)."""
    shown = [p for p in patterns.REGISTRY.values() if p.input_class == marks.input_class]

    def verdicts(response, gains, threshold):
        return jnp.stack([p.validate(response, gains, threshold, marks=marks) for p in shown])

    return [p.name for p in shown], jax.vmap(verdicts)


def shown_patterns(runs):
    """For each run, the names of the patterns of its input class that it passes."""
    groups = defaultdict(list)
    for i, run in enumerate(runs):
        groups[run["model"], run["marks"]].append(i)
    size = max(len(indices) for indices in groups.values())
    out = [None] * len(runs)
    for (_, marks), indices in groups.items():
        names, verdicts = verdict_function(marks)
        # every group padded to one batch size: the ops then compile once for all groups
        batch = [runs[i] for i in indices + indices[:1] * (size - len(indices))]
        passed = np.asarray(verdicts(jax.tree.map(lambda *a: jnp.stack(a), *[r["response"] for r in batch]),
                                     jnp.asarray([[r["amplitude"]] for r in batch], jnp.float32),
                                     jnp.asarray([r["threshold"] for r in batch], jnp.float32)))
        for row, i in zip(passed, indices):
            out[i] = [n for n, ok in zip(names, row) if ok]
    return out


@pytest.fixture(scope="module")
def panel():
    """Every cell's runs (one vmapped simulation per model) with the patterns each shows."""
    runs = []
    for name in ("adex", "izhikevich"):
        model = models.get(name)
        batch = [dict(cell=cell, model=name, length=length, dt=dt, shift=shift, amplitude=cell.amplitude * k,
                      pieces=shifted(cell.stimulus(ONSET_MS), shift),
                      params=model.param_space.complete(cell.params))
                 for cell in cells.PANEL if cell.model == name
                 for length, dt, shift, k in experiments(cell)]
        responses = simulate.full_resolution(model, [r["params"] for r in batch], [r["pieces"] for r in batch],
                                             [[r["amplitude"]] for r in batch], [r["dt"] for r in batch],
                                             [r["length"] for r in batch])
        runs += [dict(r, response=response, marks=stimuli.marks(r["pieces"], r["length"]),
                      threshold=float(model.threshold(r["params"])), n_spikes=int(response.n_spikes))
                 for r, response in zip(batch, responses)]
    return [dict(run, shown=shown) for run, shown in zip(runs, shown_patterns(runs))]


def describe(run):
    return (f"{run['length']:g} ms, dt {run['dt']}, shifted {run['shift']:g} ms, "
            f"amplitude {run['amplitude']:g}: {run['shown']}")


@pytest.mark.parametrize("cell", cells.PANEL, ids=lambda c: c.name)
def test_each_cell_gets_its_published_pattern_however_recorded(panel, cell):
    runs = [r for r in panel if r["cell"] is cell]
    assert len(runs) == len(experiments(cell)) >= 4 * len(STEPS_MS)
    assert all(r["n_spikes"] < features.MAX_SPIKES for r in runs)  # the features see every spike
    for run in runs:
        if cell.label is not None:
            assert run["shown"] == [cell.label], describe(run)
        else:
            assert not set(run["shown"]) & set(cell.never), describe(run)
    assert len({tuple(r["shown"]) for r in runs}) == 1  # one verdict whatever the recording


def test_the_panel_covers_both_papers_and_the_dc_patterns():
    names = {c.name for c in cells.PANEL}
    assert {"naud_tonic", "naud_adapting", "naud_initial_burst", "naud_regular_bursting",
            "naud_delayed_accelerating", "naud_delayed_regular_bursting", "naud_transient",
            "naud_irregular"} <= names
    assert {f"izhikevich_{k}" for k in ("RS", "IB", "CH", "FS", "LTS", "TC")} <= names
    labels = {c.label for c in cells.PANEL}
    assert set(cells.DC_PATTERNS) - {"phasic_bursting"} <= labels


# ------------------------------------------------------------ the search's 1-ms block recordings

SEARCHED = {  # per model: cells judged through the Evaluator (1-ms blocks, dt and dt/2)
    "adex": ("naud_tonic", "naud_adapting", "naud_initial_burst", "naud_regular_bursting"),
    "izhikevich": ("izhikevich_IB", "izhikevich_CH", "izhikevich_FS", "izhikevich_LTS"),
}
SEARCH_LENGTH_MS = 600.0


def dc_patterns_for(model, amplitudes):
    """The DC patterns with one step protocol (onset ONSET_MS, SEARCH_LENGTH_MS long) whose
    amplitude range holds every given amplitude."""
    middle = float(np.exp(np.mean(np.log(amplitudes)))) / model.current_scale
    out = []
    for name in cells.DC_PATTERNS:
        pattern = patterns.get(name)
        protocol = Protocol(SEARCH_LENGTH_MS, (stimuli.Piece(ONSET_MS),), (gain("amplitude", middle, "step height"),),
                            pattern.protocol.figure1)
        out.append(replace(pattern, protocol=protocol))
    return tuple(out)


@pytest.mark.parametrize("model_name", list(SEARCHED))
def test_search_path_verdicts_agree_with_full_resolution(model_name):
    model = models.get(model_name)
    panel_cells = [cells.get(n) for n in SEARCHED[model_name]]
    dc = dc_patterns_for(model, [c.amplitude for c in panel_cells])
    evaluator = Evaluator(model, dc, dt=0.25, half_step=True, chunk=len(panel_cells))
    z = np.stack([[evaluator.encode_defaults(i, model.param_space.complete(c.params), {"amplitude": c.amplitude})
                   for c in panel_cells] for i in range(len(dc))])
    _, passed = jax.jit(evaluator.per_step)(jnp.asarray(z, jnp.float32))  # [steps, patterns, cells]
    expected = np.array([[p.name == c.label for c in panel_cells] for p in dc])
    for step in np.asarray(passed):
        assert np.array_equal(step, expected), (step, expected)
