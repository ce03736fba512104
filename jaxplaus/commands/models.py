"""`jaxplaus models`: the available neuron models and their parameters."""

from jaxplaus import models
from jaxplaus.cli import add_json_flag


def register(sub):
    parser = sub.add_parser("models", help="list neuron models and their parameters")
    add_json_flag(parser)
    parser.set_defaults(handler=run, render=render)


def run(args):
    out = []
    for name in models.names():
        model = models.get(name)
        out.append({
            "name": name,
            "current_unit": model.current_unit,
            "current_scale": model.current_scale,
            "doc": (type(model).__doc__ or "").strip().splitlines()[0] if type(model).__doc__ else "",
            "parameters": model.param_space.describe(),
        })
    return {"models": out}


def render(doc):
    lines = []
    for m in doc["models"]:
        lines.append(f"{m['name']}  (input in {m['current_unit']})")
        for p in m["parameters"]:
            phys = f"  physiological {p['physiological']}" if p["physiological"] else ""
            log = " log" if p["log"] else ""
            lines.append(f"    {p['name']:<10} default {p['default']:<10g} bounds [{p['bounds'][0]:g}, {p['bounds'][1]:g}]{log} {p['unit']}{phys}")
    return "\n".join(lines)
