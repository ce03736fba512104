"""Neuron models by name: `model, params = make("adex")` (params: the model's defaults)."""

from __future__ import annotations

from jaxplaus.errors import UsageError
from jaxplaus.models.adex import AdEx
from jaxplaus.models.base import NeuronModel, Param, ParamSpace, as_params
from jaxplaus.models.izhikevich import Izhikevich
from jaxplaus.models.lif import LIF
from jaxplaus.models.norse import NorseAdEx, NorseIzhikevich, NorseLIF
from jaxplaus.models.polynomial import PolynomialNeuron, n2d2

REGISTRY = {
    "lif": LIF,
    "adex": AdEx,
    "izhikevich": Izhikevich,
    "n2d2": n2d2,
    "norse_lif": NorseLIF,
    "norse_adex": NorseAdEx,
    "norse_izhikevich": NorseIzhikevich,
}


def names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def get(name: str, **options) -> NeuronModel:
    try:
        factory = REGISTRY[name]
    except KeyError:
        raise UsageError(f"unknown model {name!r}; choose from {', '.join(REGISTRY)}") from None
    return factory(**options)


def make(name: str, **options):
    """The model and its default parameters (as float32 arrays)."""
    model = get(name, **options)
    return model, as_params(model.param_space.defaults())


__all__ = [
    "AdEx", "Izhikevich", "LIF", "NeuronModel", "Param", "ParamSpace", "PolynomialNeuron",
    "REGISTRY", "as_params", "get", "make", "n2d2", "names",
]
