"""Norse (PyTorch) as the reference: its neurons as `TorchNeuron`s, and the cross-check of a
stored run's optima against it.

`crosscheck_run(dir)` replays every optimum of a run three ways at full resolution, under the
pattern's own stimulus: the stored jaxplaus model, Norse itself (`norse.torch.functional`, via
`norse_counterpart`'s mapping) and, where they disagree, the jaxplaus model with the documented
scheme differences switched off (the "bridge") plus the Norse-faithful JAX port. A pattern
agrees when both produce the same spike steps and voltages within `REL_DV_TOLERANCE`; a
disagreement is *explained* only when removing the named scheme difference makes jaxplaus and
Norse agree (or, for a difference jaxplaus cannot switch off, when the port agrees with Norse),
and is reported as unexplained otherwise. Nothing is hidden: every number is in the report.

Chaotic optima amplify rounding: there Norse's own float32 replay leaves its float64 replay
after some step (the "float32 horizon"), and no other float32 implementation can be expected
to follow Norse beyond it. Where a trace is not close over the whole protocol, it is judged
over the steps before that horizon, and the report says so (`judged_before_horizon`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from norse.torch.functional.izhikevich import IzhikevichParameters, IzhikevichState, izhikevich_feed_forward_step
from norse.torch.functional.lif import LIFFeedForwardState, LIFParameters, lif_feed_forward_step
from norse.torch.functional.lif_adex import (
    LIFAdExFeedForwardState,
    LIFAdExParameters,
    lif_adex_feed_forward_step,
)

from jaxplaus import features, models, simulate, store
from jaxplaus import patterns as P
from jaxplaus.adapters import torch_model
from jaxplaus.errors import UsageError
from jaxplaus.models.norse import SECONDS_PER_MS, NorseAdEx, NorseIzhikevich, NorseLIF, norse_counterpart

REL_DV_TOLERANCE = 1e-4  # max |dv| / max |v|, float32: "agree"
# "close": what two float32 implementations of the same scheme that round differently show
# (measured: spike upstrokes amplify ulps to ~1e-3 relative; a slow threshold passage can move
# one spike by a few steps). A disagreement that stays this close needs no scheme difference.
CLOSE_REL_DV = 1e-2
CLOSE_SPIKE_MS = 1.0


def norse_dt(dt_ms: float) -> float:
    """Norse's dt (s) as the float32 value the JAX port computes, so both step identically."""
    return float(np.float32(dt_ms) * np.float32(SECONDS_PER_MS))


def _picked(params, fields):
    return {k: params[k] for k in fields}


def _recorded(z, v, v_th):
    """Norse returns the reset v; record the threshold on spike steps, as jaxplaus models do."""
    return torch.where(z > 0, v_th, v)


def _lif_step(params, state, current, dt_ms):
    p = LIFParameters(**_picked(params, ("tau_syn_inv", "tau_mem_inv", "v_leak", "v_th", "v_reset")))
    z, s = lif_feed_forward_step(current, LIFFeedForwardState(*state), p, dt=norse_dt(dt_ms))
    return s, z, _recorded(z, s.v, params["v_th"])


def _adex_step(params, state, current, dt_ms):
    p = LIFAdExParameters(**_picked(params, NorseAdEx().param_space.names))
    z, s = lif_adex_feed_forward_step(current, LIFAdExFeedForwardState(*state), p, dt=norse_dt(dt_ms))
    return s, z, _recorded(z, s.v, params["v_th"])


def _izhikevich_step(params, state, current, dt_ms):
    names = ("a", "b", "c", "d", "sq", "mn", "bias", "v_th", "tau_inv")
    z, s = izhikevich_feed_forward_step(current, IzhikevichState(*state), IzhikevichParameters(**_picked(params, names)), dt=norse_dt(dt_ms))
    return s, z, _recorded(z, s.v, params["v_th"])


def _at_rest(params):
    v = params["v_leak"].clone()
    return v, torch.zeros_like(v)


NEURONS = {  # keyed by the name of the Norse-faithful JAX port with the same parameters
    "norse_lif": torch_model.TorchNeuron(
        "norse_lif", NorseLIF().param_space, lambda p: LIFFeedForwardState(*_at_rest(p)), _lif_step,
        lambda p: p["v_th"], NorseLIF().current_scale, NorseLIF().current_unit),
    "norse_adex": torch_model.TorchNeuron(
        "norse_adex", NorseAdEx().param_space,
        lambda p: LIFAdExFeedForwardState(*_at_rest(p), torch.zeros_like(p["v_leak"])), _adex_step,
        lambda p: p["v_th"], NorseAdEx().current_scale, NorseAdEx().current_unit),
    "norse_izhikevich": torch_model.TorchNeuron(
        "norse_izhikevich", NorseIzhikevich().param_space,
        lambda p: IzhikevichState(p["v0"].clone(), p["u0"].clone()), _izhikevich_step,
        lambda p: p["v_th"], NorseIzhikevich().current_scale, NorseIzhikevich().current_unit),
}


def neuron(name: str) -> torch_model.TorchNeuron:
    """Norse's own step for a Norse-faithful model name (norse_lif, norse_adex, norse_izhikevich)."""
    try:
        return NEURONS[name]
    except KeyError:
        raise UsageError(f"no Norse neuron {name!r}; choose from {', '.join(NEURONS)}") from None


# ------------------------------------------------------------------------------ replays

class Replay(NamedTuple):
    """One full-resolution run, reduced to what the cross-check compares."""

    spike_steps: np.ndarray  # step indices of spikes within the protocol (at most MAX_SPIKES)
    n_spikes: int
    v: np.ndarray  # recorded v per step of the protocol
    passed: bool  # the pattern's validator on this trace
    finite: bool


class Case(NamedTuple):
    pattern: P.Pattern
    params: dict  # stored model's parameters
    gains: list  # in the order of pattern.protocol.gains, the model's current units
    stored: dict  # the run's entry for this pattern


def _replay(resp: features.Response, pattern, gains, threshold, dt_ms) -> Replay:
    steps = simulate.n_steps(pattern.protocol.duration_ms, dt_ms)
    times = np.asarray(resp.spike_times)
    spike_steps = np.rint(times[np.isfinite(times)] / dt_ms).astype(int)
    passed = pattern.validate(resp, np.asarray(gains, np.float32), np.float32(threshold))
    return Replay(spike_steps, int(resp.n_spikes), np.asarray(resp.v)[:steps], bool(passed), bool(resp.finite))


def jax_replays(model, cases: list[Case], dt_ms: float, params=None, input_gains=None) -> list[Replay]:
    """The cases simulated with a jaxplaus model (one vmapped call); `input_gains` scale each
    case's stimulus (the mapping's input units), `params` replace the stored parameters."""
    params = params or [c.params for c in cases]
    input_gains = input_gains or [1.0] * len(cases)
    responses = simulate.full_resolution(
        model, params, [c.pattern.protocol.pieces for c in cases],
        [[g * s for g in c.gains] for c, s in zip(cases, input_gains)],
        [dt_ms] * len(cases), [c.pattern.protocol.duration_ms for c in cases])
    return [
        _replay(r, c.pattern, c.gains, float(model.threshold({k: np.float32(v) for k, v in p.items()})), dt_ms)
        for r, c, p in zip(responses, cases, params)
    ]


def norse_replays(name: str, params: list[dict], cases: list[Case], dt_ms: float, input_gains, device=None,
                  dtype=np.float32) -> list[Replay]:
    """The cases simulated in Norse, all patterns as one torch population (in `dtype`)."""
    steps = max(simulate.n_steps(c.pattern.protocol.duration_ms, dt_ms) for c in cases)
    drive = np.stack([
        torch_model.currents(c.pattern.protocol.pieces, [g * s for g in c.gains], dt_ms, steps)[0]
        for c, s in zip(cases, input_gains)
    ])
    stacked = {k: np.array([p[k] for p in params], np.float32) for k in params[0]}
    tr = torch_model.trace(neuron(name), stacked, drive, dt_ms, device, dtype)
    out = []
    for k, c in enumerate(cases):
        one = torch_model.Trace(tr.spiked[k : k + 1], tr.v[k : k + 1], tr.state_finite[k : k + 1])
        rec = torch_model.recording(one, dt_ms, c.pattern.protocol.duration_ms, 1)
        resp = features.response(simulate.Recording(*(np.asarray(x)[0] for x in rec)), dt_ms, 1)
        out.append(_replay(resp, c.pattern, c.gains, params[k]["v_th"], dt_ms))
    return out


# ---------------------------------------------------------------------------- comparison

class Comparison(NamedTuple):
    agree: bool  # same spike steps, voltages within REL_DV_TOLERANCE
    close: bool  # same spike count, spikes within CLOSE_SPIKE_MS, voltages within CLOSE_REL_DV
    n_spikes: tuple[int, int]  # (jaxplaus, norse)
    spike_time_diffs_ms: list[float]  # norse - jaxplaus, spikes paired in order
    max_abs_dv: float
    max_rel_dv: float


def compare(ours: Replay, theirs: Replay, dt_ms: float) -> Comparison:
    """Same spike steps, and voltages within tolerance on every step where neither spiked."""
    paired = min(len(ours.spike_steps), len(theirs.spike_steps))
    diffs = ((theirs.spike_steps[:paired] - ours.spike_steps[:paired]) * dt_ms).tolist()
    same_spikes = ours.n_spikes == theirs.n_spikes and np.array_equal(ours.spike_steps, theirs.spike_steps)
    quiet = np.ones(len(ours.v), bool)
    quiet[np.concatenate([ours.spike_steps, theirs.spike_steps])] = False
    with np.errstate(invalid="ignore"):
        dv = np.abs(ours.v[quiet].astype(np.float64) - theirs.v[quiet])
        max_abs = float(np.max(dv)) if dv.size else 0.0
        scale = float(np.max(np.abs(theirs.v[quiet]))) if dv.size else 1.0
    max_rel = max_abs / max(scale, 1e-6) if math.isfinite(scale) else math.nan
    same_finite = ours.finite == theirs.finite
    agree = same_spikes and same_finite and (max_rel <= REL_DV_TOLERANCE or not ours.finite)
    close = (same_finite and ours.n_spikes == theirs.n_spikes and all(abs(d) <= CLOSE_SPIKE_MS for d in diffs)
             and (max_rel <= CLOSE_REL_DV or not same_spikes or not ours.finite))
    return Comparison(bool(agree), bool(close), (ours.n_spikes, theirs.n_spikes), diffs, max_abs, max_rel)


def float32_horizon(single: Replay, double: Replay, rel_dv: float = REL_DV_TOLERANCE) -> int:
    """Steps before Norse's float32 replay leaves its float64 replay (a spike step apart, or a
    voltage beyond `rel_dv` of max |v|): how far float32 rounding alone lets a trace be followed."""
    spikes = np.zeros((2, len(single.v)), bool)
    spikes[0, single.spike_steps], spikes[1, double.spike_steps] = True, True
    finite = np.isfinite(double.v)
    scale = max(float(np.max(np.abs(double.v[finite]), initial=0.0)), 1e-6)
    with np.errstate(invalid="ignore"):
        near = np.abs(single.v.astype(np.float64) - double.v) <= rel_dv * scale
    apart = (spikes[0] != spikes[1]) | ~(near | (~finite & ~np.isfinite(single.v)))
    return int(np.argmax(apart)) if apart.any() else len(single.v)


def _before(replay: Replay, steps: int) -> Replay:
    kept = replay.spike_steps < steps
    return replay._replace(spike_steps=replay.spike_steps[kept], n_spikes=int(kept.sum()), v=replay.v[:steps])


class Closeness(NamedTuple):
    close: bool
    judged_before_horizon: bool  # close only over the steps before the float32 horizon


def closeness(ours: Replay, theirs: Replay, horizon: int, dt_ms: float) -> Closeness:
    """Close over the whole trace, or else over the steps before Norse's float32 horizon, provided
    those steps hold at least one of Norse's spikes (an empty or silent window proves nothing)."""
    if compare(ours, theirs, dt_ms).close:
        return Closeness(True, False)
    window_spikes = np.any(theirs.spike_steps < horizon)
    if horizon < len(theirs.v) and window_spikes and compare(_before(ours, horizon), _before(theirs, horizon), dt_ms).close:
        return Closeness(True, True)
    return Closeness(False, False)


class Verdict(NamedTuple):
    """One pattern's cross-check outcome (`status`: agree, rounding, explained or unexplained)."""

    status: str
    causes: tuple = ()
    port_agrees: bool | None = None
    bridge_agrees: bool | None = None
    judged_before_horizon: bool = False

    def as_report(self) -> dict:
        return {**self._asdict(), "causes": list(self.causes)}


def _finite_or_none(x):
    return x if isinstance(x, float) and math.isfinite(x) else None


# ---------------------------------------------------------------------------- the run

def load_cases(run_dir) -> tuple[object, dict, float, list[Case]]:
    """(model, model_options, dt_ms, cases) from a run directory's results.json (+ config.json)."""
    run_dir = Path(run_dir)
    results_path = run_dir / store.RESULTS
    if not results_path.is_file():
        raise UsageError(f"{run_dir} holds no finished run ({store.RESULTS} not found)")
    try:
        results = store.load_json(results_path)
        config = store.load_json(run_dir / store.CONFIG) if (run_dir / store.CONFIG).is_file() else {}
    except ValueError as err:
        raise UsageError(f"{run_dir}: malformed JSON ({err})") from None
    merged = {**config, **results} if isinstance(results, dict) else {}
    for key in ("model", "dt_ms", "patterns"):
        if key not in merged:
            raise UsageError(f"{results_path} lacks {key!r}; is it a jaxplaus assess run?")
    options = merged.get("model_options") or {}
    model = models.get(merged["model"], **options)
    dt_ms = float(merged["dt_ms"])
    if not (math.isfinite(dt_ms) and dt_ms > 0):
        raise UsageError(f"{results_path}: dt_ms must be positive, got {merged['dt_ms']}")
    cases = []
    for name, entry in merged["patterns"].items():
        pattern = P.get(name)
        if not isinstance(entry, dict) or "params" not in entry or "stimulus" not in entry:
            raise UsageError(f"{results_path}: pattern {name!r} lacks 'params' or 'stimulus'")
        params = model.param_space.complete(entry["params"])
        gain_names = [g.name for g in pattern.protocol.gains]
        absent = [g for g in gain_names if g not in entry["stimulus"]]
        if absent:
            raise UsageError(f"{results_path}: pattern {name!r} lacks stimulus gain(s) {', '.join(absent)}")
        cases.append(Case(pattern, params, [float(entry["stimulus"][g]) for g in gain_names], entry))
    if not cases:
        raise UsageError(f"{results_path} lists no patterns")
    return model, options, dt_ms, cases


def crosscheck(model, cases: list[Case], dt_ms: float, device=None) -> dict:
    """Cross-check `cases` of one jaxplaus model against Norse; the report as a JSON-able dict."""
    try:
        counterparts = [norse_counterpart(model, c.params, dt_ms) for c in cases]
    except TypeError:
        raise UsageError(
            f"model {model.name!r} has no Norse counterpart; crosscheck supports lif, adex, izhikevich "
            "and the norse_* models") from None
    port = counterparts[0].model
    norse_params = [cp.params for cp in counterparts]
    input_gains = [cp.input_gain for cp in counterparts]  # 1/gL for LIF/AdEx: differs per case
    reference = norse_replays(port.name, norse_params, cases, dt_ms, input_gains, device)
    ours = jax_replays(model, cases, dt_ms)
    first = [compare(a, b, dt_ms) for a, b in zip(ours, reference)]
    horizons = _float32_horizons(port.name, norse_params, cases, dt_ms, input_gains, device, reference,
                                 [k for k, cmp in enumerate(first) if not cmp.agree])
    differences = list({d.name: d for cp in counterparts for d in cp.differences}.values())
    # a disagreement is either a documented scheme difference (then the bridge must show it) or,
    # where the mapping has none, at most rounding ("close"); anything else is unexplained
    disagreeing = [k for k, cmp in enumerate(first) if not cmp.agree and counterparts[k].differences]

    verdicts = {}
    for k, cmp in enumerate(first):
        if not cmp.agree and not counterparts[k].differences:
            near = closeness(ours[k], reference[k], horizons[k], dt_ms)
            verdicts[k] = Verdict("rounding" if near.close else "unexplained",
                                  judged_before_horizon=near.judged_before_horizon)
    if disagreeing:
        subset, subset_reference = [cases[k] for k in disagreeing], [reference[k] for k in disagreeing]
        subset_horizons = [horizons[k] for k in disagreeing]
        port_replays = jax_replays(port, subset, dt_ms, params=[norse_params[k] for k in disagreeing],
                                   input_gains=[input_gains[k] for k in disagreeing])
        port_ok = [compare(a, b, dt_ms).agree for a, b in zip(port_replays, subset_reference)]
        bridgeable = [d for d in differences if d.bridge is not None]
        bridge_ok = _bridged(model, bridgeable, subset, subset_reference, subset_horizons, dt_ms)
        singles = {d.name: _bridged(model, [d], subset, subset_reference, subset_horizons, dt_ms)
                   for d in bridgeable} if len(bridgeable) > 1 else {}
        for j, k in enumerate(disagreeing):
            own = [d.name for d in counterparts[k].differences]
            unbridgeable = [d.name for d in counterparts[k].differences if d.bridge is None]
            before_horizon = False
            if bridgeable and bridge_ok[j].close:
                causes = [n for n, near in singles.items() if near[j].close and n in own] or [
                    d.name for d in bridgeable if d.name in own]
                status = "explained" if causes else "unexplained"
                before_horizon = bridge_ok[j].judged_before_horizon
            elif unbridgeable and port_ok[j]:
                causes, status = own, "explained"
            else:
                causes, status = [], "unexplained"
            verdicts[k] = Verdict(status, tuple(causes), port_ok[j], bridge_ok[j].close if bridgeable else None,
                                  before_horizon)

    report_patterns, by_cause = {}, {}
    for k, (case, cmp) in enumerate(zip(cases, first)):
        verdict = verdicts.get(k, Verdict("agree"))
        for cause in verdict.causes:
            by_cause.setdefault(cause, []).append(case.pattern.name)
        report_patterns[case.pattern.name] = {
            "agree": cmp.agree,
            **verdict.as_report(),
            "n_spikes": {"jaxplaus": cmp.n_spikes[0], "norse": cmp.n_spikes[1]},
            "spike_time_diffs_ms": [round(d, 6) for d in cmp.spike_time_diffs_ms],
            "max_abs_dv": _finite_or_none(cmp.max_abs_dv),
            "max_rel_dv": _finite_or_none(cmp.max_rel_dv),
            "float32_horizon_ms": horizons[k] * dt_ms if horizons[k] < len(reference[k].v) else None,
            "passed_stored": case.stored.get("passed"),
            "passed_jaxplaus": ours[k].passed,
            "passed_norse": reference[k].passed,
        }
    statuses = [p["status"] for p in report_patterns.values()]
    return {
        "model": model.name,
        "norse_model": port.name,
        "dt_ms": dt_ms,
        "norse_dt_s": norse_dt(dt_ms),
        "tolerance_rel_dv": REL_DV_TOLERANCE,
        "close": {"rel_dv": CLOSE_REL_DV, "spike_ms": CLOSE_SPIKE_MS},
        "scheme_differences": {d.name: d.description for d in differences},
        "patterns": report_patterns,
        "summary": {
            "agree": statuses.count("agree"),
            "rounding": statuses.count("rounding"),
            "explained": statuses.count("explained"),
            "unexplained": statuses.count("unexplained"),
            "affected_patterns": by_cause,
            "judged_before_horizon": [n for n, p in report_patterns.items() if p["judged_before_horizon"]],
            "passed_jaxplaus": sum(p["passed_jaxplaus"] for p in report_patterns.values()),
            "passed_norse": sum(p["passed_norse"] for p in report_patterns.values()),
            "validator_differs": [n for n, p in report_patterns.items() if p["passed_jaxplaus"] != p["passed_norse"]],
        },
    }


def _float32_horizons(name, params, cases, dt_ms, input_gains, device, reference, needed) -> list[int]:
    """Each case's float32 horizon (its full length where not `needed`: those agree anyway)."""
    horizons = [len(r.v) for r in reference]
    if needed:
        doubles = norse_replays(name, [params[k] for k in needed], [cases[k] for k in needed], dt_ms,
                                [input_gains[k] for k in needed], device, np.float64)
        for k, double in zip(needed, doubles):
            horizons[k] = float32_horizon(reference[k], double)
    return horizons


def _bridged(model, differences, cases, reference, horizons, dt_ms) -> list[Closeness]:
    """How close jaxplaus comes to Norse once `differences` are switched off."""
    bridged_model, bridged_params = model, [dict(c.params) for c in cases]
    for d in differences:
        pairs = [d.bridge(bridged_model, p) for p in bridged_params]
        bridged_model, bridged_params = pairs[0][0], [p for _, p in pairs]
    replays = jax_replays(bridged_model, cases, dt_ms, params=bridged_params)
    return [closeness(a, b, h, dt_ms) for a, b, h in zip(replays, reference, horizons)]


def crosscheck_run(run_dir, device=None) -> dict:
    model, options, dt_ms, cases = load_cases(run_dir)
    report = crosscheck(model, cases, dt_ms, device)
    return {"run": str(run_dir), "model_options": options, **report}
