"""`jaxplaus simulate`: one run of a pattern's protocol, validated."""

import numpy as np

from jaxplaus import features as F
from jaxplaus import patterns, simulate
from jaxplaus.cli import add_json_flag, json_argument
from jaxplaus.commands._common import add_model_arguments, model_from_args, params_from_args
from jaxplaus.errors import UsageError
from jaxplaus.patterns import criteria as C


def register(sub):
    parser = sub.add_parser("simulate", help="run one pattern's protocol and validate the response")
    add_model_arguments(parser)
    parser.add_argument("--pattern", required=True, help="pattern name or letter (see `jaxplaus patterns`)")
    parser.add_argument("--gains", metavar="JSON", help="stimulus amplitudes by name (default: figure1.m's, scaled to the model)")
    add_json_flag(parser)
    parser.set_defaults(handler=run, render=render)


def run(args):
    pattern = patterns.select([args.pattern])[0]
    model, _ = model_from_args(args)
    params = params_from_args(args, model)
    space = pattern.protocol.gain_space(model.current_scale)
    given = json_argument(args.gains, "--gains")
    if given is not None and not isinstance(given, dict):
        raise UsageError("--gains must be a JSON object of name: value")
    gains = space.complete(given, what="stimulus gain")
    dt = args.dt_ms or 0.1
    response = simulate.single(model, params, pattern.protocol.pieces, list(gains.values()), dt,
                               pattern.protocol.duration_ms)
    g = np.asarray(list(gains.values()), np.float32)
    threshold = model.threshold(params)
    loss, passed = pattern.score(response, g, threshold)
    crits = pattern.criteria(response, g, threshold)
    return {
        "model": args.model, "pattern": pattern.name, "dt_ms": dt, "params": params, "gains": gains,
        "spike_times_ms": spike_times(response), "passed": bool(passed), "loss": float(loss),
        "features": {
            "n_spikes": int(response.n_spikes),
            "finite": bool(response.finite),
            "criteria": [{"name": c.name, "value": _num(c.value), "low": _num(c.low), "high": _num(c.high),
                          "holds": bool(C.holds(c))} for c in crits],
        },
    }


def _num(x):
    x = float(x)
    return x if np.isfinite(x) else None


def spike_times(response: F.Response) -> list[float]:
    t = np.asarray(response.spike_times)
    return [round(float(x), 6) for x in t[np.isfinite(t)]]


def render(doc):
    lines = [f"{doc['model']} / {doc['pattern']}: {'PASS' if doc['passed'] else 'fail'} (loss {doc['loss']:.3g}), "
             f"{doc['features']['n_spikes']} spikes at {doc['spike_times_ms']}"]
    for c in doc["features"]["criteria"]:
        lines.append(f"  {'ok ' if c['holds'] else 'NO '} {c['name']}: {c['value']}  (range {c['low']} .. {c['high']})")
    return "\n".join(lines)
