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
    case = pattern.protocol.figure1
    model = figure1_model(case)
    params = model.param_space.complete(case.params)
    gains = [g.default for g in pattern.protocol.gains]
    response = simulate.single(model, params, pattern.protocol.pieces, gains, case.dt, pattern.protocol.duration_ms)
    return model, params, gains, response


def izhikevich2004(selection=None) -> list[dict]:
    results = []
    for pattern in P.select(selection):
        model, params, gains, response = run_case(pattern)
        threshold = model.threshold(params)
        times = np.asarray(response.spike_times)
        results.append({
            "name": pattern.name,
            "letter": pattern.letter,
            "title": pattern.title,
            "input_class": pattern.input_class,
            "dt_ms": pattern.protocol.figure1.dt,
            "params": params,
            "stimulus": dict(zip([g.name for g in pattern.protocol.gains], gains)),
            "spike_times_ms": [round(float(t), 6) for t in times[np.isfinite(times)]],
            "expected_spikes": pattern.protocol.figure1.expected_spikes,
            "passed": bool(pattern.validate(response, np.asarray(gains, np.float32), threshold)),
            "loss": float(pattern.objective(response, np.asarray(gains, np.float32), threshold)),
            "_response": response,
        })
    return results


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
