"""classify names the pattern the literature gives for published AdEx parameter sets, and warns
when a response holds more spikes than the features can see.

Parameter sets: Naud, Marcille, Clopath & Gerstner (2008), Biol Cybern 99:335, Table 1
(as in Brian2's example `Naud_et_al_2008_adex_firing_patterns`), in physical units (pF, nS,
mV, ms, pA), spike cut at 0 mV. Step current from 50 ms.
"""

import json

import pytest

from jaxplaus import features, models
from jaxplaus.commands.classify import classify
from jaxplaus.stimuli import Piece

NAUD_2008 = {
    "tonic spiking": (dict(C=200, gL=10, EL=-70, VT=-50, DeltaT=2, a=2, tauw=30, b=0, Vr=-58), 500, 300, "tonic_spiking"),
    "adaptation": (dict(C=200, gL=12, EL=-70, VT=-50, DeltaT=2, a=2, tauw=300, b=60, Vr=-58), 500, 300, "spike_frequency_adaptation"),
    "initial burst": (dict(C=130, gL=18, EL=-58, VT=-50, DeltaT=2, a=4, tauw=150, b=120, Vr=-50), 400, 300, "mixed_mode"),
    "regular bursting": (dict(C=200, gL=10, EL=-58, VT=-50, DeltaT=2, a=2, tauw=120, b=100, Vr=-46), 210, 500, "tonic_bursting"),
    "transient spiking": (dict(C=100, gL=10, EL=-65, VT=-50, DeltaT=2, a=10, tauw=90, b=100, Vr=-47), 180, 300, "phasic_spiking"),
}


@pytest.mark.parametrize("name", list(NAUD_2008))
def test_published_adex_sets_show_their_published_pattern(name):
    params, amplitude, duration, expected = NAUD_2008[name]
    adex = models.get("adex")
    input_class, shown, _ = classify(adex, adex.param_space.complete(params), [Piece(50.0, level=amplitude)], duration)
    assert input_class == "dc"
    assert shown == [expected]


def _classify_cli(capsys, params, amplitude, duration):
    from jaxplaus.cli import main

    code = main(["classify", "--model", "izhikevich", "--params", json.dumps(params), "--stimulus",
                 json.dumps({"kind": "step", "amplitude": amplitude, "onset_ms": 50}), "--duration-ms", str(duration),
                 "--dt-ms", "0.25", "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_classify_warns_when_the_spikes_overflow_the_feature_buffer(capsys):
    fast = {"a": 0.1, "b": 0.2, "c": -65, "d": 2, "v0": -70}  # Izhikevich (2003) FS, ~120 spikes/s
    code, doc, err = _classify_cli(capsys, fast, 10, 1000)
    assert code == 0 and len(doc["spike_times_ms"]) == features.MAX_SPIKES  # the buffer is full ...
    assert doc["patterns"] == []  # ... so every pattern fails, whatever the train
    assert len(doc["warnings"]) == 1 and f"{features.MAX_SPIKES}" in doc["warnings"][0]
    assert err.count("\n") == 1 and err.startswith("jaxplaus: warning: the response holds")
    # the same cell in a recording short enough for the buffer: no warning, and its pattern
    code, doc, err = _classify_cli(capsys, fast, 10, 500)
    assert code == 0 and doc["warnings"] == [] and err == "" and doc["patterns"] == ["tonic_spiking"]
