"""Class 2 excitability by its definition: a neuron that cannot fire at arbitrarily low rates.

Under a ramp 8 and 64 times slower than the first, a class 2 neuron's first interval converges to
its finite onset period; an integrate-and-fire neuron's grows by tau ln 8 at every slowing
(its onset interval is t_ref + tau ln(1/eps), eps the lag of the input above rheobase, which is
proportional to the slope), however short tau is against the refractory period."""

import math

import numpy as np
import pytest

from jaxplaus import models, patterns, reference, simulate
from jaxplaus.patterns import criteria as C
from jaxplaus.patterns.protocols import CLASS_2_FAST, CLASS_2_SLOWER, SLOWER

CLASS_2 = patterns.get("class_2_excitability")
PROTOCOL = CLASS_2.protocol
CONVERGENCE = "onset growth at the slowest ramp"

# The LIF the default search (seed 0) came closest with: tau = C / gL = 0.43 ms against a 4.9-ms
# refractory period. Its onset intervals hardly depend on the slope; at dt 0.25 ms they are
# rounded to 7, 8 and 8.75 ms, and it passes there, but at no finer step.
NEAR_LIF = dict(C=42.96, gL=100.0, EL=-40.54, VT=-38.04, Vr=-60.0, t_ref=4.881), [10.68, 3.651]
# class 2 optima of the default assessments (seed 0), in each model's units
IZHIKEVICH_CLASS_2 = dict(a=0.08385, b=0.19406, c=-80.0, d=10.0, v0=-55.0), [5.0, 0.15]
ADEX_CLASS_2 = (dict(C=235.0, gL=100.0, EL=-40.0, VT=-38.753, DeltaT=0.2, a=83.806, tauw=18.176, b=460.83,
                     Vr=-61.737, Vpeak=-20.0), [2.0, 3.1782])


def run(model_name, params, gains, dt):
    """The response and the names of the criteria it fails."""
    model = models.get(model_name)
    full = model.param_space.complete(params)
    response = simulate.single(model, full, PROTOCOL.pieces, gains, dt, PROTOCOL.duration_ms)
    criteria = CLASS_2.criteria(response, np.asarray(gains, np.float32), model.threshold(full))
    return response, [c.name for c in criteria if not bool(C.holds(c))]


def onset_intervals(response):
    """The first interval of each trial: the ramp, the 8x and the 64x slower one."""
    t = np.asarray(response.spike_times)
    t = t[np.isfinite(t)]
    trials = [CLASS_2_FAST] + [(onset, end) for onset, _, end, _ in CLASS_2_SLOWER]
    return [float(np.diff(t[(t > onset) & (t <= end)])[0]) for onset, end in trials]


def test_a_lif_onset_interval_grows_by_tau_ln_8_at_every_slower_ramp_and_fails_only_on_that():
    params, gains = NEAR_LIF
    response, failed = run("lif", params, gains, 0.025)
    first, slower, slowest = onset_intervals(response)
    tau = params["C"] / params["gL"]
    assert slower - first == pytest.approx(tau * math.log(SLOWER), rel=0.15)
    assert slowest - slower == pytest.approx(tau * math.log(SLOWER), rel=0.15)
    assert [name for name in failed if not name.startswith(CONVERGENCE)] == []
    assert any(name.startswith(CONVERGENCE) for name in failed)


def test_figure1_class_1_cell_onset_interval_grows_faster_with_every_slower_ramp():
    case = patterns.get("class_1_excitability").protocol.figure1  # a saddle-node on a cycle
    model = reference.figure1_model(case)
    full = model.param_space.complete(case.params)
    response = simulate.single(model, full, PROTOCOL.pieces, [0.5, 0.075], 0.1, PROTOCOL.duration_ms)
    first, slower, slowest = onset_intervals(response)
    assert slowest - slower > slower - first > first  # 40.7, 95.7, 183.7 ms
    assert not bool(CLASS_2.validate(response, np.float32([0.5, 0.075]), model.threshold(full)))


@pytest.mark.parametrize("dt", [0.25, 0.1, 0.05])
def test_figure1_class_2_cell_converges_to_its_onset_period(dt):
    response, failed = run("izhikevich", PROTOCOL.figure1.params, [0.5, 0.015], dt)
    first, slower, slowest = onset_intervals(response)
    assert failed == []
    assert 0 < slowest - slower < 0.5 * (slower - first)


@pytest.mark.parametrize("model_name, case", [("izhikevich", IZHIKEVICH_CLASS_2), ("adex", ADEX_CLASS_2)])
@pytest.mark.parametrize("dt", [0.25, 0.025])
def test_searched_class_2_optima_pass_at_a_tenth_of_the_step(model_name, case, dt):
    params, gains = case
    response, failed = run(model_name, params, gains, dt)
    first, slower, slowest = onset_intervals(response)
    assert failed == []
    assert slowest - slower < 0.8 * (slower - first)
