"""Izhikevich (2004) figure1.m's 20 cases, simulated with jaxplaus's Izhikevich model."""

from __future__ import annotations

import numpy as np

from jaxplaus import patterns as P
from jaxplaus import simulate
from jaxplaus.models import Izhikevich


def figure1_model(case: P.Figure1Case) -> Izhikevich:
    return Izhikevich(quadratic=case.quadratic, u_equation=case.u_equation)


def run_case(pattern: P.Pattern):
    """(model, params, gains, response) of figure1.m's case for this pattern."""
    return run_cases((pattern,))[0]


def run_cases(patterns) -> list[tuple]:
    """figure1.m's cases, simulated together per model variant (one compile per variant)."""
    by_variant: dict = {}
    for index, pattern in enumerate(patterns):
        by_variant.setdefault(figure1_model(pattern.protocol.figure1), []).append(index)
    out = [None] * len(patterns)
    for model, indices in by_variant.items():
        cases = [patterns[i] for i in indices]
        params = [model.param_space.complete(p.protocol.figure1.params) for p in cases]
        gains = [[g.default for g in p.protocol.gains] for p in cases]
        responses = simulate.full_resolution(
            model, params, [p.protocol.pieces for p in cases], gains,
            [p.protocol.figure1.dt for p in cases], [p.protocol.duration_ms for p in cases])
        for k, i in enumerate(indices):
            out[i] = (model, params[k], gains[k], responses[k])
    return out


def izhikevich2004(selection=None) -> list[dict]:
    results = []
    selected = P.select(selection)
    for pattern, (model, params, gains, response) in zip(selected, run_cases(selected)):
        threshold = model.threshold(params)
        within, later = split_at_figure1_end(pattern, response.spike_times)
        results.append({
            "name": pattern.name,
            "letter": pattern.letter,
            "title": pattern.title,
            "input_class": pattern.input_class,
            "dt_ms": pattern.protocol.figure1.dt,
            "params": params,
            "stimulus": dict(zip([g.name for g in pattern.protocol.gains], gains)),
            "spike_times_ms": within,  # figure1.m's run: `expected_spikes` counts these
            "expected_spikes": pattern.protocol.figure1.expected_spikes,
            "later_spike_times_ms": later,  # the protocol's trials after figure1.m's (class 2's slow ramp)
            "passed": bool(pattern.validate(response, np.asarray(gains, np.float32), threshold)),
            "loss": float(pattern.objective(response, np.asarray(gains, np.float32), threshold)),
            "_response": response,
        })
    return results


def split_at_figure1_end(pattern: P.Pattern, spike_times) -> tuple[list[float], list[float]]:
    """Spike times (ms) within figure1.m's own duration, and after it (a protocol may go on)."""
    end = pattern.protocol.figure1.duration_ms or pattern.protocol.duration_ms
    times = np.asarray(spike_times)
    times = [round(float(t), 6) for t in times[np.isfinite(times)]]
    return [t for t in times if t <= end], [t for t in times if t > end]


def confusion(results: list[dict]) -> tuple[list[str], np.ndarray]:
    """validator (rows) x figure1.m trace (columns) pass matrix, within input classes; -1 = other class."""
    names = [r["name"] for r in results]
    matrix = -np.ones((len(names), len(names)), dtype=int)
    for i, validator in enumerate(names):
        pattern = P.get(validator)
        for j, traced in enumerate(results):
            other = P.get(traced["name"])
            if other.input_class != pattern.input_class:
                continue
            gains = np.asarray(list(traced["stimulus"].values()), np.float32)
            ok = pattern.validate(traced["_response"], gains, np.float32(30.0), marks=other.protocol.marks)
            matrix[i, j] = int(ok)
    return names, matrix
