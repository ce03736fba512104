"""jaxplaus: JAX-accelerated evolutionary assessment of spiking neuron models.

    model, params = jaxplaus.make("adex")
    pattern = jaxplaus.patterns.get("tonic_spiking")
    results = jaxplaus.assess.assess(jaxplaus.AssessConfig(model="adex"), out=Path("run"))
"""

from jaxplaus import assess, models, patterns, search, simulate, stimuli
from jaxplaus.assess import AssessConfig
from jaxplaus.errors import UsageError
from jaxplaus.evaluate import Evaluator
from jaxplaus.models import make

__version__ = "0.1.0"

__all__ = ["AssessConfig", "Evaluator", "UsageError", "assess", "make", "models", "patterns", "search",
           "simulate", "stimuli"]
