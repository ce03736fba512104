"""Argument helpers shared by sub-commands that run a model."""

from __future__ import annotations

from jaxplaus import models
from jaxplaus.cli import json_argument, positive_float
from jaxplaus.errors import UsageError


def add_model_arguments(parser, params=True):
    parser.add_argument("--model", required=True, help=f"one of: {', '.join(models.names())}")
    parser.add_argument("--model-options", metavar="JSON", help='model variant, e.g. \'{"u_equation": "accommodation"}\'')
    if params:
        parser.add_argument("--params", metavar="JSON", help="parameters by name, in the model's units")
    parser.add_argument("--dt-ms", type=positive_float, default=None, help="integration step (ms)")


def model_from_args(args):
    options = json_argument(args.model_options, "--model-options") or {}
    if not isinstance(options, dict):
        raise UsageError("--model-options must be a JSON object")
    return models.get(args.model, **options), options


def params_from_args(args, model):
    given = json_argument(getattr(args, "params", None), "--params")
    if given is not None and not isinstance(given, dict):
        raise UsageError("--params must be a JSON object of name: value")
    return model.param_space.complete(given)
