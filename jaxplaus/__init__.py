"""jaxplaus: JAX-accelerated evolutionary assessment of spiking neuron models.

    model, params = jaxplaus.make("adex")
    pattern = jaxplaus.patterns.get("tonic_spiking")
    results = jaxplaus.assess.assess(jaxplaus.AssessConfig(model="adex"), out=Path("run"))

The names below load on first use: importing the package starts nothing (evosax, for one,
starts jax's backend when imported, and a multi-host job must join before that).
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = ("assess", "models", "patterns", "search", "simulate", "stimuli")
_NAMES = {"AssessConfig": "jaxplaus.assess", "Evaluator": "jaxplaus.evaluate", "UsageError": "jaxplaus.errors",
          "make": "jaxplaus.models"}

__all__ = sorted(_SUBMODULES + tuple(_NAMES))


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"jaxplaus.{name}")
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'jaxplaus' has no attribute {name!r}")


def __dir__():
    return __all__
