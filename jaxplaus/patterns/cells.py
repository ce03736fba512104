"""Published cell classes with the firing pattern their source names, to check validators on.

Each cell is a parameter set of a jaxplaus model with the stimulus its source applies (a DC step
of `amplitude` in the model's units from any onset, or fixed `pieces` scaled by `amplitude`), the
class its source gives it, and the pattern of Izhikevich (2004) that class means (`label`; None
where the class has no counterpart among the 20 patterns, and then `never` lists the patterns
that would contradict it).

Sources:
- Naud, Marcille, Clopath & Gerstner (2008), Biol Cybern 99:335, Table 1 (AdEx; pF, nS, mV, ms,
  pA, spike cut at 0 mV), as also printed in Brian2's example
  `examples/frompapers/Naud_et_al_2008_adex_firing_patterns.py`.
- Izhikevich (2003), IEEE TNN 14:1569, Fig. 2 (the simple model's cortical and thalamic
  classes, a, b, c, d), with the DC steps and initial potentials of the MATLAB file that draws
  that figure in figure1.m's scheme (OpenSourceBrain/IzhikevichModel, `MATLAB/izhi2003.m`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jaxplaus.errors import UsageError
from jaxplaus.patterns.protocols import PROTOCOLS
from jaxplaus.stimuli import Piece

DC_PATTERNS = ("tonic_spiking", "phasic_spiking", "tonic_bursting", "phasic_bursting", "mixed_mode",
               "spike_frequency_adaptation")


@dataclass(frozen=True)
class Cell:
    name: str
    source: str
    published: str  # the class as its source names it
    model: str  # a `jaxplaus.models` name
    params: dict
    label: str | None  # the pattern that class means; None: no counterpart among the 20
    amplitude: float  # the stimulus's gain in the model's units (a DC step's height)
    pieces: tuple[Piece, ...] | None = None  # a fixed stimulus (ms) instead of a DC step
    duration_ms: float | None = None  # the fixed stimulus's shortest recording
    never: tuple[str, ...] = ()  # patterns contradicting the published class
    note: str = field(default="", compare=False)

    def stimulus(self, onset_ms: float) -> tuple[Piece, ...]:
        """The fixed pieces, or a DC step from onset_ms (scaled by `amplitude`)."""
        return self.pieces if self.pieces is not None else (Piece(onset_ms),)


def _naud(C, gL, EL, VT, DeltaT, a, tauw, b, Vr):
    return dict(C=C, gL=gL, EL=EL, VT=VT, DeltaT=DeltaT, a=a, tauw=tauw, b=b, Vr=Vr)


def _izh(a, b, c, d, v0):
    return dict(a=a, b=b, c=c, d=d, v0=v0)


NAUD_2008 = "Naud et al. (2008), Table 1"
IZHIKEVICH_2003 = "Izhikevich (2003), Fig. 2; izhi2003.m"

PANEL = (
    # Naud et al. (2008), Table 1: C, gL, EL, VT, DeltaT, a, tauw, b, Vr; I (pA)
    Cell("naud_tonic", NAUD_2008, "tonic spiking", "adex", _naud(200, 10, -70, -50, 2, 2, 30, 0, -58),
         "tonic_spiking", 500),
    Cell("naud_adapting", NAUD_2008, "adaptation", "adex", _naud(200, 12, -70, -50, 2, 2, 300, 60, -58),
         "spike_frequency_adaptation", 500),
    Cell("naud_initial_burst", NAUD_2008, "initial burst", "adex", _naud(130, 18, -58, -50, 2, 4, 150, 120, -50),
         "mixed_mode", 400),
    Cell("naud_regular_bursting", NAUD_2008, "regular bursting", "adex",
         _naud(200, 10, -58, -50, 2, 2, 120, 100, -46), "tonic_bursting", 210),
    Cell("naud_delayed_accelerating", NAUD_2008, "delayed accelerating", "adex",
         _naud(200, 12, -70, -50, 2, -10, 300, 0, -58), None, 300, never=DC_PATTERNS,
         note="the rate rises for tens of intervals: neither tonic nor adapting nor bursting"),
    Cell("naud_delayed_regular_bursting", NAUD_2008, "delayed regular bursting", "adex",
         _naud(100, 10, -65, -50, 2, -10, 90, 30, -47), "tonic_bursting", 110,
         note="periodic bursts after a delay: tonic bursting with a latency"),
    Cell("naud_transient", NAUD_2008, "transient spiking", "adex", _naud(100, 10, -65, -50, 2, 10, 90, 100, -47),
         "phasic_spiking", 180, note="a single spike at this current"),
    Cell("naud_irregular", NAUD_2008, "irregular spiking", "adex", _naud(100, 12, -60, -50, 2, -11, 130, 30, -48),
         None, 160, never=("tonic_spiking", "spike_frequency_adaptation", "mixed_mode", "tonic_bursting",
                           "phasic_spiking", "phasic_bursting")),
    # Izhikevich (2003), Fig. 2: a, b, c, d; v0 and the step as in izhi2003.m (onset moved)
    Cell("izhikevich_RS", IZHIKEVICH_2003, "regular spiking (spike frequency adaptation)", "izhikevich",
         _izh(0.02, 0.2, -65, 8, -63), "tonic_spiking", 14,
         note="the model fires an onset doublet, then a regular train at once: the form of figure1.m's "
              "tonic spiking case A (same a, b, c; d 8 vs 6), which must not count as adaptation"),
    Cell("izhikevich_IB", IZHIKEVICH_2003, "intrinsically bursting", "izhikevich", _izh(0.02, 0.2, -55, 4, -70),
         "mixed_mode", 11),
    Cell("izhikevich_CH", IZHIKEVICH_2003, "chattering", "izhikevich", _izh(0.02, 0.2, -50, 2, -70),
         "tonic_bursting", 10),
    Cell("izhikevich_FS", IZHIKEVICH_2003, "fast spiking", "izhikevich", _izh(0.1, 0.2, -65, 2, -70),
         "tonic_spiking", 10),
    Cell("izhikevich_LTS", IZHIKEVICH_2003, "low-threshold spiking (with adaptation)", "izhikevich",
         _izh(0.02, 0.25, -65, 2, -63), "spike_frequency_adaptation", 10),
    Cell("izhikevich_TC", IZHIKEVICH_2003, "thalamo-cortical, depolarized from rest (tonic firing)",
         "izhikevich", _izh(0.02, 0.25, -65, 0.05, -63), "tonic_spiking", 1.5),
    Cell("izhikevich_TC_rebound", IZHIKEVICH_2003, "thalamo-cortical, released from hyperpolarization "
         "(rebound burst)", "izhikevich", _izh(0.02, 0.25, -65, 0.05, -63), "rebound_burst", 25,
         pieces=(Piece(20, 120, level=-1.0),), duration_ms=300,
         note="izhi2003.m holds -25 from the start (v0 -87); here from rest, 100 ms, then released"),
    # resonators are judged with figure1.m's pulse protocols; v0 at the resting potential
    Cell("izhikevich_RZ_pairs", IZHIKEVICH_2003, "resonator", "izhikevich", _izh(0.1, 0.26, -65, 2, -62),
         "resonator", 0.65, pieces=PROTOCOLS["resonator"].pieces, duration_ms=400),
    Cell("izhikevich_RZ_pulse", IZHIKEVICH_2003, "resonator (damped subthreshold oscillations)", "izhikevich",
         _izh(0.1, 0.26, -65, 2, -62), "subthreshold_oscillations", 2.0,
         pieces=PROTOCOLS["subthreshold_oscillations"].pieces, duration_ms=200),
)


def get(name: str) -> Cell:
    for cell in PANEL:
        if cell.name == name:
            return cell
    raise UsageError(f"unknown cell {name!r}; the panel has {', '.join(c.name for c in PANEL)}")
