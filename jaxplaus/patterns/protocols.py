"""The 20 protocols of Izhikevich (2004) Fig. 1, exactly as figure1.m applies them.

Each protocol is a waveform (windowed linear pieces on named channels) whose channel gains are
the searchable stimulus parameters, in figure1.m's units; a model's `current_scale` converts
them to its own units. Each also carries figure1.m's own Izhikevich case (parameters, step,
variant), which `jaxplaus reference izhikevich2004` reproduces.

One protocol goes beyond figure1.m: class 2 excitability adds two trials after figure1.m's
300 ms, the same ramp going on SLOWER and SLOWER**2 times slower. Class 2 means the neuron
cannot fire at arbitrarily low rates; a single ramp cannot show that (a steep enough ramp lifts
any neuron's first interval to a "non-zero rate"), slower ramps can: a class 1 neuron's onset
interval keeps growing as the ramp slows, a class 2 neuron's converges.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jaxplaus.models.base import Param, ParamSpace
from jaxplaus.stimuli import INF, Marks, Piece, marks


@dataclass(frozen=True)
class Figure1Case:
    params: dict
    dt: float
    expected_spikes: int  # within figure1.m's own duration
    quadratic: tuple = (0.04, 5.0, 140.0)
    u_equation: str = "standard"
    duration_ms: float | None = None  # figure1.m's duration, where the protocol goes on after it


@dataclass(frozen=True)
class Protocol:
    duration_ms: float
    pieces: tuple[Piece, ...]
    gains: tuple[Param, ...]  # one per channel, figure1.m units
    figure1: Figure1Case = field(compare=False)

    @property
    def marks(self) -> Marks:
        return marks(self.pieces, self.duration_ms)

    @property
    def input_class(self) -> str:
        return self.marks.input_class

    def gain_space(self, current_scale: float = 1.0) -> ParamSpace:
        return ParamSpace(tuple(
            Param(g.name, g.default * current_scale, g.low * current_scale, g.high * current_scale,
                  g.unit, log=g.log, domain=g.domain, doc=g.doc)
            for g in self.gains
        ))


def gain(name: str, figure1_value: float, doc: str) -> Param:
    """A positive stimulus amplitude searched on a log scale over a factor of 10 either way."""
    return Param(name, figure1_value, figure1_value / 10, figure1_value * 10, log=True,
                 domain=(0.0, INF), doc=doc)


def _iz(a, b, c, d, v0, **extra):
    return dict(a=a, b=b, c=c, d=d, v0=v0, **extra)


def dc_step(duration, onset, amplitude, case):
    return Protocol(duration, (Piece(onset),), (gain("amplitude", amplitude, "step height"),), case)


def pulse_train(duration, times, width, amplitude, case):
    pieces = tuple(Piece(t, t + width) for t in times)
    return Protocol(duration, pieces, (gain("amplitude", amplitude, "pulse height"),), case)


G_AND_L = (0.04, 4.1, 108.0)

# class 2's slower trials, after figure1.m's 300 ms, each after a pause to recover: the same ramp
# rises at its own slope to LEAD_IN of its height, then goes on SLOWER and SLOWER**2 times
# slower to SLOW_REACH of it. figure1.m's own class 2 cell starts firing at 28% of its ramp's
# height, at 24% and 23% under the slower ramps: the lead-in spares the slowest trial the
# seconds it would take to rise from rest, and the onset comes long after the slope changed.
SLOWER = 8.0
LEAD_IN = 0.15
SLOW_REACH = 0.28
RECOVERY_MS = 100.0
CLASS_2_FAST = (30.0, 300.0)


def _slower_trials(fast, n):
    """(onset, end of the lead-in, end, slope) of each slower trial, slopes relative to the first."""
    span = fast[1] - fast[0]
    trials, start = [], fast[1] + RECOVERY_MS
    for k in range(1, n + 1):
        kink = round(start + LEAD_IN * span, 1)
        end = round(kink + SLOWER ** k * (SLOW_REACH - LEAD_IN) * span, 1)
        trials.append((start, kink, end, SLOWER ** -k))
        start = end + RECOVERY_MS
    return tuple(trials)


def _ramp_trial(onset, kink, end, slope, channel):
    lead_in = kink - onset
    return (Piece(onset, kink, level=0.0, slope=1.0, channel=channel),
            Piece(kink, end, level=lead_in, slope=slope, channel=channel))


CLASS_2_SLOWER = _slower_trials(CLASS_2_FAST, 2)

PROTOCOLS = {
    "tonic_spiking": dc_step(100, 10, 14, Figure1Case(_iz(.02, .2, -65, 6, -70), .25, 5)),
    "phasic_spiking": dc_step(200, 20, 0.5, Figure1Case(_iz(.02, .25, -65, 6, -64), .25, 1)),
    "tonic_bursting": dc_step(220, 22, 15, Figure1Case(_iz(.02, .2, -50, 2, -70), .25, 28)),
    "phasic_bursting": dc_step(200, 20, 0.6, Figure1Case(_iz(.02, .25, -55, .05, -64), .2, 6)),
    "mixed_mode": dc_step(160, 16, 10, Figure1Case(_iz(.02, .2, -55, 4, -70), .25, 6)),
    "spike_frequency_adaptation": dc_step(85, 8.5, 30, Figure1Case(_iz(.01, .2, -65, 8, -70), .25, 6)),
    "class_1_excitability": Protocol(
        300, (Piece(30, level=0.0, slope=1.0),), (gain("slope", 0.075, "ramp slope per ms"),),
        Figure1Case(_iz(.02, -.1, -55, 6, -60), .25, 10, quadratic=G_AND_L)),
    "class_2_excitability": Protocol(
        CLASS_2_SLOWER[-1][2],
        (Piece(level=-1.0, channel=0), Piece(*CLASS_2_FAST, level=0.0, slope=1.0, channel=1))
        + sum((_ramp_trial(*trial, channel=1) for trial in CLASS_2_SLOWER), ()),
        (gain("hyperpolarization", 0.5, "constant negative bias"),
         gain("slope", 0.015, f"slope per ms of the first ramp (the others: 1/{SLOWER:g} and 1/{SLOWER**2:g} of it)")),
        Figure1Case(_iz(.2, .26, -65, 0, -64), .25, 14, duration_ms=CLASS_2_FAST[1])),
    "spike_latency": pulse_train(100, (10,), 3, 7.04, Figure1Case(_iz(.02, .2, -65, 6, -70), .2, 1)),
    "subthreshold_oscillations": pulse_train(200, (20,), 5, 2, Figure1Case(_iz(.05, .26, -60, 0, -62), .25, 1)),
    "resonator": pulse_train(400, (40, 60, 280, 320), 4, 0.65, Figure1Case(_iz(.1, .26, -60, -1, -62), .25, 1)),
    "integrator": pulse_train(100, (100 / 11, 100 / 11 + 5, 70, 80), 2, 9,
                              Figure1Case(_iz(.02, -.1, -55, 6, -60), .25, 1, quadratic=G_AND_L)),
    "rebound_spike": Protocol(
        200, (Piece(20, 25, level=-1.0),), (gain("amplitude", 15, "depth of the inhibitory pulse"),),
        Figure1Case(_iz(.03, .25, -60, 4, -64), .2, 1)),
    "rebound_burst": Protocol(
        200, (Piece(20, 25, level=-1.0),), (gain("amplitude", 15, "depth of the inhibitory pulse"),),
        Figure1Case(_iz(.03, .25, -52, 0, -64), .2, 7)),
    "threshold_variability": Protocol(
        100, (Piece(10, 15, channel=0), Piece(80, 85, channel=0), Piece(70, 75, level=-1.0, channel=1)),
        (gain("amplitude", 1, "height of the two excitatory pulses"),
         gain("inhibition", 6, "depth of the inhibitory pulse")),
        Figure1Case(_iz(.03, .25, -60, 4, -64), .25, 1)),
    "bistability": Protocol(
        300, (Piece(channel=0), Piece(37.5, 42.5, channel=1), Piece(216, 221, channel=1)),
        (gain("baseline", 0.24, "constant bias"), gain("amplitude", 1.0, "height of the switching pulses")),
        Figure1Case(_iz(.1, .26, -60, 0, -61), .25, 5)),
    "depolarizing_after_potential": Protocol(
        50, (Piece(9, 11),), (gain("amplitude", 20, "pulse height"),),
        Figure1Case(_iz(1, .2, -60, -21, -70), .1, 1)),
    "accommodation": Protocol(
        400,
        (Piece(offset=200, level=0.0, slope=1 / 200, channel=0),
         Piece(300, 312.5, level=0.0, slope=1 / 12.5, channel=1, closed_onset=True)),
        (gain("slow_height", 8, "height reached by the slow ramp (200 ms)"),
         gain("fast_height", 4, "height reached by the fast ramp (12.5 ms)")),
        Figure1Case(_iz(.02, 1, -55, 4, -65, u0=-16), .5, 1, u_equation="accommodation")),
    "inhibition_induced_spiking": Protocol(
        350, (Piece(channel=0), Piece(50, 250, level=-1.0, channel=1, closed_onset=True, closed_offset=True)),
        (gain("baseline", 80, "constant depolarizing bias"), gain("inhibition", 5, "depth of the hyperpolarizing step")),
        Figure1Case(_iz(-.02, -1, -60, 8, -63.8), .5, 3)),
    "inhibition_induced_bursting": Protocol(
        350, (Piece(channel=0), Piece(50, 250, level=-1.0, channel=1, closed_onset=True, closed_offset=True)),
        (gain("baseline", 80, "constant depolarizing bias"), gain("inhibition", 5, "depth of the hyperpolarizing step")),
        Figure1Case(_iz(-.026, -1, -45, -2, -63.8), .5, 12)),
}
