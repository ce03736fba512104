"""`jaxplaus patterns`: Izhikevich's 20 patterns with their protocols."""

import math

from jaxplaus import patterns
from jaxplaus.cli import add_json_flag


def register(sub):
    parser = sub.add_parser("patterns", help="list the 20 firing patterns and their protocols")
    add_json_flag(parser)
    parser.set_defaults(handler=run, render=render)


def _time(x):
    return x if math.isfinite(x) else None


def run(args):
    out = []
    for p in patterns.REGISTRY.values():
        proto = p.protocol
        out.append({
            "name": p.name, "letter": p.letter, "title": p.title, "meaning": p.meaning,
            "input_class": p.input_class, "duration_ms": proto.duration_ms,
            "stimulus": {
                "pieces": [{"onset_ms": _time(q.onset), "offset_ms": _time(q.offset), "level": q.level,
                            "slope_per_ms": q.slope, "gain": proto.gains[q.channel].name} for q in proto.pieces],
                "gains": [{"name": g.name, "figure1_value": g.default, "bounds": [g.low, g.high], "doc": g.doc}
                          for g in proto.gains],
            },
            "figure1": {"params": proto.figure1.params, "dt_ms": proto.figure1.dt,
                        "spikes": proto.figure1.expected_spikes},
        })
    return {"patterns": out}


def render(doc):
    return "\n".join(f"({p['letter']}) {p['name']:<30} {p['input_class']:<11} {p['duration_ms']:>5g} ms  {p['meaning']}"
                     for p in doc["patterns"])
