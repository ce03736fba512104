"""Izhikevich's 20 firing patterns by name: `patterns.get("tonic_spiking")`."""

from __future__ import annotations

from functools import partial

from jaxplaus.errors import UsageError
from jaxplaus.patterns import catalog
from jaxplaus.patterns.base import BLOWUP_LOSS, Pattern
from jaxplaus.patterns.protocols import PROTOCOLS, Figure1Case, Protocol

_INFO = {  # letter, title, meaning (Izhikevich 2004, Fig. 1 legend)
    "tonic_spiking": ("A", "tonic spiking", "fires a regular train of spikes while the input is on"),
    "phasic_spiking": ("B", "phasic spiking", "a single spike at the onset of the input, then silence"),
    "tonic_bursting": ("C", "tonic bursting", "periodic bursts of spikes while the input is on"),
    "phasic_bursting": ("D", "phasic bursting", "a single burst at the onset of the input, then silence"),
    "mixed_mode": ("E", "mixed mode", "an initial burst followed by tonic single spikes"),
    "spike_frequency_adaptation": ("F", "spike frequency adaptation", "the firing rate decreases during the input"),
    "class_1_excitability": ("G", "class 1 excitability", "with a ramp, firing starts at an arbitrarily low rate that rises"),
    "class_2_excitability": ("H", "class 2 excitability", "with a ramp, firing starts abruptly at a non-zero rate"),
    "spike_latency": ("I", "spike latency", "a spike fired with a delay after a brief pulse"),
    "subthreshold_oscillations": ("J", "subthreshold oscillations", "damped oscillations of the potential after a pulse"),
    "resonator": ("K", "resonator", "responds to a pulse pair at its resonant interval, not to another pair"),
    "integrator": ("L", "integrator", "responds to closely spaced pulses, not to widely spaced ones"),
    "rebound_spike": ("M", "rebound spike", "a spike after release from inhibition"),
    "rebound_burst": ("N", "rebound burst", "a burst after release from inhibition"),
    "threshold_variability": ("O", "threshold variability", "a pulse that fails alone fires after preceding inhibition"),
    "bistability": ("P", "bistability", "a pulse switches tonic firing on, a second pulse switches it off"),
    "depolarizing_after_potential": ("Q", "depolarizing after-potential", "a spike followed by a depolarizing after-potential"),
    "accommodation": ("R", "accommodation", "a slow ramp does not fire; a fast ramp of lower height does"),
    "inhibition_induced_spiking": ("S", "inhibition-induced spiking", "tonic spikes during hyperpolarizing input only"),
    "inhibition_induced_bursting": ("T", "inhibition-induced bursting", "bursts during hyperpolarizing input only"),
}

SHAPING = {
    "resonator": partial(catalog.pair_shaping, responds_to_longer=True),
    "integrator": partial(catalog.pair_shaping, responds_to_longer=False),
}

REGISTRY: dict[str, Pattern] = {
    name: Pattern(
        name, *_INFO[name], protocol=PROTOCOLS[name], measure=catalog.ALL[name],
        needs_spikes=name != "subthreshold_oscillations", shaping=SHAPING.get(name),
    )
    for name in _INFO
}


def names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def get(name: str) -> Pattern:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UsageError(f"unknown pattern {name!r}; see `jaxplaus patterns`") from None


def select(selection) -> tuple[Pattern, ...]:
    """Patterns by name (or letter); None or "all" means all 20."""
    if selection is None or selection == "all" or list(selection) == ["all"]:
        return tuple(REGISTRY.values())
    by_letter = {p.letter: p for p in REGISTRY.values()}
    out = []
    for item in selection:
        out.append(by_letter[item] if item in by_letter else get(item))
    if len({p.name for p in out}) != len(out):
        raise UsageError("a pattern is named twice")
    return tuple(out)


__all__ = ["BLOWUP_LOSS", "Figure1Case", "Pattern", "Protocol", "REGISTRY", "get", "names", "select"]
