"""Neuron models by name: `model, params = make("adex")` (params: the model's defaults)."""

from __future__ import annotations

import dataclasses
import json
import math

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


def get(name: str, /, **options) -> NeuronModel:
    """The model `name` with its fields set by `options` (JSON values: lists stand for tuples);
    an option of the wrong kind is a UsageError naming it, not a failure at simulation time."""
    try:
        factory = REGISTRY[name]
    except KeyError:
        raise UsageError(f"unknown model {name!r}; choose from {', '.join(REGISTRY)}") from None
    if not options:
        return factory()
    reference = factory()  # every registered model has defaults for all its fields
    fields = {f.name: getattr(reference, f.name) for f in dataclasses.fields(reference)}
    unknown = sorted(set(options) - set(fields))
    if unknown:
        raise UsageError(f"model {name!r} has no option {', '.join(map(repr, unknown))}; "
                         f"its options: {', '.join(fields)}")
    given = {key: _option(key, value, fields[key]) for key, value in options.items()}
    try:
        return factory(**given)
    except UsageError:
        raise
    except (TypeError, ValueError) as err:  # the model's own check of its fields
        raise UsageError(f"invalid options for model {name!r}: {err}") from None


def _option(key: str, value, like):
    """`value` (from JSON) as the kind of value `like` is: a bool, a string, a finite number or
    a tuple of such; anything else cannot be given as an option."""
    def wrong():
        return UsageError(f"model option {key!r} must be like {_json(like)}, got {value!r}")

    if isinstance(like, bool):
        if not isinstance(value, bool):
            raise wrong()
        return value
    if isinstance(like, str):
        if not isinstance(value, str):
            raise wrong()
        return value
    if isinstance(like, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise wrong()
        if isinstance(like, int) and not float(value).is_integer():
            raise wrong()
        return type(like)(value)
    if isinstance(like, tuple):
        # a tuple of tuples is a list of records, e.g. (name, value) pairs, of any length; any
        # other tuple has a fixed length, e.g. Izhikevich's three quadratic coefficients
        records = bool(like) and isinstance(like[0], tuple)
        if not isinstance(value, (list, tuple)) or (like and not records and len(value) != len(like)):
            raise wrong()
        if not like:
            return tuple(value)
        kinds = [like[0]] * len(value) if records else like
        return tuple(_option(key, item, kind) for item, kind in zip(value, kinds))
    raise UsageError(f"model option {key!r} cannot be given as JSON")


def _json(value) -> str:
    """`value` written as JSON (tuples as lists)."""
    def plain(v):
        return [plain(x) for x in v] if isinstance(v, tuple) else v

    return json.dumps(plain(value))


def make(name: str, /, **options):
    """The model and its default parameters (as float32 arrays)."""
    model = get(name, **options)
    return model, as_params(model.param_space.defaults())


__all__ = [
    "AdEx", "Izhikevich", "LIF", "NeuronModel", "Param", "ParamSpace", "PolynomialNeuron",
    "REGISTRY", "as_params", "get", "make", "n2d2", "names",
]
