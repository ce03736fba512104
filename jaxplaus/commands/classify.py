"""`jaxplaus classify`: which patterns of a stimulus's input class a response shows."""

import sys

import numpy as np

from jaxplaus import features, patterns, simulate, stimuli
from jaxplaus.cli import add_json_flag, json_argument, positive_float
from jaxplaus.commands._common import add_model_arguments, model_from_args, params_from_args
from jaxplaus.commands.simulate import spike_times
from jaxplaus.errors import UsageError


def register(sub):
    parser = sub.add_parser("classify", help="name the patterns a response to a given stimulus shows")
    add_model_arguments(parser)
    parser.add_argument("--stimulus", required=True, metavar="JSON",
                        help='e.g. \'{"kind": "step", "amplitude": 500, "onset_ms": 50}\'; kinds: '
                             + "; ".join(f"{k}: {doc}" for k, (_, doc) in stimuli.KINDS.items()))
    parser.add_argument("--duration-ms", type=positive_float, required=True)
    add_json_flag(parser)
    parser.set_defaults(handler=run, render=render)


def classify(model, params, pieces, duration_ms, dt=0.1):
    """(input class, names of the patterns whose validators pass, response)."""
    marks = stimuli.marks(pieces, duration_ms)
    response = simulate.single(model, params, pieces, [1.0], dt, duration_ms)
    threshold = model.threshold(params)
    gains = np.ones(1, np.float32)
    shown = [p.name for p in patterns.REGISTRY.values()
             if p.input_class == marks.input_class and bool(p.validate(response, gains, threshold, marks=marks))]
    return marks.input_class, shown, response


def warnings_about(response) -> list[str]:
    """What makes the verdicts of this response uninformative (empty when nothing does)."""
    n = int(response.n_spikes)
    if n > features.MAX_SPIKES:
        return [f"the response holds {n} spikes, more than the {features.MAX_SPIKES} the features see: "
                "every pattern fails for that reason alone (shorten the recording or weaken the stimulus)"]
    return []


def run(args):
    model, _ = model_from_args(args)
    params = params_from_args(args, model)
    spec = json_argument(args.stimulus, "--stimulus")
    pieces = stimuli.pieces_from_json(spec)
    if not pieces:
        raise UsageError("the stimulus is empty")
    input_class, shown, response = classify(model, params, pieces, args.duration_ms, args.dt_ms or 0.1)
    warnings = warnings_about(response)
    for warning in warnings:
        print(f"jaxplaus: warning: {warning}", file=sys.stderr)
    return {"model": args.model, "params": params, "stimulus": spec, "input_class": input_class,
            "spike_times_ms": spike_times(response), "patterns": shown, "warnings": warnings}


def render(doc):
    return (f"{doc['input_class']} input -> {', '.join(doc['patterns']) or 'no pattern of this class'}\n"
            f"spikes at {doc['spike_times_ms']}")
