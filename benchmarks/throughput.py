"""Neuron-steps per second of the batched pattern evaluation (simulation + features + loss).

    python benchmarks/throughput.py                                   # 2-core CPU defaults
    python benchmarks/throughput.py --models izhikevich --populations 65536 1048576 --no-torch  # GPU
    python benchmarks/throughput.py --bare --populations 10000 100000  # bare-kernel ceiling
    python benchmarks/throughput.py --devices 1                       # one device (assess's way)
    python benchmarks/throughput.py --populations 1048576 --chunks 16384 65536 --no-torch  # chunk sizes
    python benchmarks/throughput.py --no-loop-barrier --loop-unroll-steps 8 --no-torch    # loop layout

For each model and population (candidates per pattern; members = population x patterns) it
times `Evaluator.jitted` (first call = compile + run, then the median of `--repeats` calls) and,
beside it, the same evaluation as a PyTorch loop over time steps (the Norse way: one Python
iteration per step, tensors batched over patterns x population, stimulus computed per step;
benchmarks/_torch_models.py). The torch path produces jaxplaus's per-block records and is
scored by jaxplaus's own features and objectives, so both paths compute the same losses; the
agreement is checked at the smallest population. Neuron-steps count the steps actually
simulated: the Evaluator pads every pattern to its duration group's longest protocol, rounded
up to whole recording blocks, and with `half_step` (its default) simulates every candidate
again at dt/2; all those steps are counted (they are real work).
The JAX evaluation splits each population over `--devices` devices (default: all the default
backend has; on the CPU the benchmark makes one host device per core, so each core runs its own
share) and evaluates each share in the Evaluator's chunks. `--breakdown` also times the same
loop with the scoring left out (simulation) and reports the rest as scoring.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, fields
from functools import partial
from pathlib import Path

import jax

if __name__ == "__main__":
    # before anything starts jax's CPU backend (importing jaxplaus does): one host device per core,
    # so a population split over the devices runs on every core
    jax.config.update("jax_num_cpu_devices", os.cpu_count() or 1)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _torch_models as T  # noqa: E402

from jaxplaus import models, patterns, sharding, simulate  # noqa: E402
from jaxplaus.errors import UsageError  # noqa: E402
from jaxplaus.evaluate import Evaluator, Scores, aggregate  # noqa: E402

MODELS = ("izhikevich", "adex", "lif", "n2d2")


# --------------------------------------------------------------------------- helpers


def timed(fn, repeats: int, max_seconds: float):
    """(first call s, median of later calls s, repeats done, last result); at least one repeat."""
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn())
    first = time.perf_counter() - t0
    times = []
    while len(times) < repeats and (not times or sum(times) < max_seconds):
        t0 = time.perf_counter()
        out = jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return first, statistics.median(times), len(times), out


def simulated_steps(ev: Evaluator) -> int:
    """Steps simulated per candidate over all patterns and step sizes, padding included."""
    total = 0
    for group in ev.groups:
        for dt, block_len in ev.steps:
            total += len(group) * ev.group_inputs(group, dt, block_len)[2] * block_len
    return total


def protocol_steps(ev: Evaluator) -> int:
    """Steps per candidate at dt alone, without the group padding (the protocols' own length)."""
    return sum(simulate.n_steps(p.protocol.duration_ms, ev.dt) for p in ev.patterns)


@partial(jax.jit, static_argnums=0)
def jax_records(ev: Evaluator, z):
    """The JAX simulation alone: per duration group, one Recording per step size."""
    return ev.records(z)


@dataclass(frozen=True, eq=False)
class SimulationOnly(Evaluator):
    """The Evaluator's device split and chunk loop with the scoring left out: every field of a
    chunk's records is summed per candidate (infinities as 0), so none of the simulation can be
    optimised away."""

    def _evaluate(self, z):
        finite = lambda x: jnp.nan_to_num(x.astype(jnp.float32), posinf=0.0, neginf=0.0)  # noqa: E731
        total = [None] * len(self.patterns)
        for group, recs in zip(self.groups, self.records(z)):
            sums = sum(jnp.sum(finite(x), axis=-1) for rec in recs for x in rec if x.ndim == 3)
            for k, i in enumerate(group):
                total[i] = sums[k]
        total = jnp.stack(total)[None]  # [1, patterns, pop]
        ok = jnp.isfinite(total)
        return Scores(total, ok, jnp.zeros_like(total), ok, jnp.zeros(total.shape, jnp.int32))


@partial(jax.jit, static_argnums=0)
def score(ev: Evaluator, z, records):
    """Features + objectives of the Recordings, as the Evaluator scores them (losses add up over
    the step sizes; a pass needs all of them)."""
    return aggregate(ev.score_records(z, records))[:2]


def torch_records(ev: Evaluator, z, dev):
    """The torch simulation, same structure as `jax_records` (Recordings with numpy fields)."""
    out = []
    for group in ev.groups:
        params, gains = ev.decoded_group(z, group)
        params_t, gains_t = T.to_torch(params, dev), T.to_torch(gains, dev)
        runs = []
        for dt, block_len in ev.steps:
            waves, t_end, blocks = ev.group_inputs(group, dt, block_len)
            wave = T.TorchWaveform(waves, gains.shape[-1], dev)
            rec = T.record(ev.model, params_t, wave, gains_t, float(dt), T.to_torch(t_end, dev), blocks, block_len)
            runs.append(simulate.Recording(**rec))
        out.append(tuple(runs))
    return tuple(out)


def candidates(ev: Evaluator, population: int, seed: int = 0):
    return jax.random.uniform(jax.random.PRNGKey(seed), (len(ev.patterns), population, ev.dim))


# --------------------------------------------------------------------------- measurements


def measure_jax(ev: Evaluator, population: int, repeats: int, max_seconds: float, breakdown: bool):
    z = candidates(ev, population)
    steps = simulated_steps(ev) * population
    first, median, n, _ = timed(lambda: ev.jitted(z), repeats, max_seconds)
    row = {  # the first call of a new shape compiles; compile_s = first call - a later call
        "compile_s": first - median, "first_call_s": first, "time_s": median, "repeats": n,
        "neuron_steps": steps, "neuron_steps_per_s": steps / median,
        "evaluations_per_s": population * len(ev.patterns) / median,
    }
    if breakdown:
        simulation = SimulationOnly(**{f.name: getattr(ev, f.name) for f in fields(ev)})
        _, sim, _, _ = timed(lambda: simulation.jitted(z), repeats, max_seconds)
        row.update(simulation_s=sim, scoring_s=median - sim, simulation_neuron_steps_per_s=steps / sim)
    return row


def measure_torch(ev: Evaluator, population: int, repeats: int, max_seconds: float):
    dev = T.device()
    z = candidates(ev, population)
    steps = simulated_steps(ev) * population
    first, sim, n, recs = timed(lambda: torch_records(ev, z, dev), repeats, max_seconds)
    _, scr, _, _ = timed(lambda: score(ev, z, recs), repeats, max_seconds)
    total = sim + scr
    return {
        "device": str(dev), "threads": _torch_threads(), "simulation_s": sim, "scoring_s": scr,
        "time_s": total, "repeats": n, "neuron_steps": steps,
        "simulation_neuron_steps_per_s": steps / sim, "neuron_steps_per_s": steps / total,
        "evaluations_per_s": population * len(ev.patterns) / total,
    }


def agreement(ev: Evaluator, population: int, z=None) -> dict:
    """Losses and pass/fail of the JAX evaluator vs the torch loop scored by jaxplaus
    (z: candidates [patterns, population, dim]; default uniform in the unit cube)."""
    z = candidates(ev, population) if z is None else z
    loss_j, pass_j = (np.asarray(x) for x in ev.jitted(z))
    recs_t = torch_records(ev, z, T.device())
    loss_t, pass_t = (np.asarray(x) for x in score(ev, z, recs_t))
    recs_j = jax_records(ev, z)
    same_counts = np.mean(np.concatenate([  # a run's spikes, and up to two in every block
        ((np.asarray(a.n_spikes) == np.asarray(b.n_spikes))
         & (np.asarray(simulate.slots_before(a.spikes)) == np.asarray(simulate.slots_before(b.spikes))).all(axis=-1)).ravel()
        for ga, gb in zip(recs_j, recs_t) for a, b in zip(ga, gb)]))
    diff = np.abs(loss_j - loss_t)
    return {
        "population": population, "members": int(loss_j.size),
        "max_abs_loss_diff": float(np.max(diff)), "median_abs_loss_diff": float(np.median(diff)),
        "fraction_losses_within_1e-4": float(np.mean(diff <= 1e-4)),
        "fraction_same_passed": float(np.mean(pass_j == pass_t)),
        "fraction_same_spike_counts": float(same_counts),
        "passed_jax": int(pass_j.sum()), "passed_torch": int(pass_t.sum()),
    }


def bare_izhikevich(population: int, steps: int, dt: float, unroll: int):
    """This project's reference ceiling: one Izhikevich population in a plain `lax.scan`, input
    from t."""
    a, b, c, d = (jnp.full(population, x, jnp.float32) for x in (0.02, 0.2, -65.0, 6.0))
    amplitude = jnp.linspace(0.0, 20.0, population, dtype=jnp.float32)

    @jax.jit
    def run(a, b, c, d, amplitude):
        def step(carry, k):
            v, u, count = carry
            t = k.astype(jnp.float32) * dt
            current = jnp.where(t > 10.0, amplitude, 0.0)
            v_new = v + dt * (0.04 * v * v + 5.0 * v + 140.0 - u + current)
            u_new = u + dt * a * (b * v_new - u)
            spiked = v_new > 30.0
            return (jnp.where(spiked, c, v_new), jnp.where(spiked, u_new + d, u_new), count + spiked), None

        v0 = jnp.full(population, -70.0, jnp.float32)
        init = (v0, b * v0, jnp.zeros(population, jnp.int32))
        return jax.lax.scan(step, init, jnp.arange(steps), unroll=unroll)[0][2]

    return lambda: run(a, b, c, d, amplitude)


def bare_izhikevich_torch(population: int, steps: int, dt: float):
    import torch

    dev = T.device()
    a, b, c, d = (torch.full((population,), x, device=dev) for x in (0.02, 0.2, -65.0, 6.0))
    amplitude = torch.linspace(0.0, 20.0, population, device=dev)
    ts = torch.arange(steps, dtype=torch.float32, device=dev) * dt

    @torch.no_grad()
    def run():
        v = torch.full((population,), -70.0, device=dev)
        u, count = b * v, torch.zeros(population, dtype=torch.int32, device=dev)
        for k in range(steps):
            current = torch.where(ts[k] > 10.0, amplitude, 0.0)
            v_new = v + dt * (0.04 * v * v + 5.0 * v + 140.0 - u + current)
            u_new = u + dt * a * (b * v_new - u)
            spiked = v_new > 30.0
            v, u, count = torch.where(spiked, c, v_new), torch.where(spiked, u_new + d, u_new), count + spiked
        if dev.type == "cuda":
            torch.cuda.synchronize()
        return count.cpu().numpy()

    return run


def _torch_threads():
    import torch

    return torch.get_num_threads()


def machine() -> dict:
    info = {"backend": jax.default_backend(), "jax_devices": [str(d) for d in jax.devices()],
            "cpu_count": os.cpu_count(), "platform": platform.platform(), "jax": jax.__version__}
    if hasattr(os, "getloadavg"):
        info["load_average_1min_at_start"] = round(os.getloadavg()[0], 2)
    try:
        import torch

        info.update(torch=torch.__version__, torch_device=str(T.device()), torch_threads=torch.get_num_threads())
    except ImportError:
        pass
    return info


# --------------------------------------------------------------------------- CLI


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    ap.add_argument("--populations", nargs="+", type=int, default=None,
                    help="candidates per pattern (default 64 1024 16384; --bare: 10000 100000)")
    ap.add_argument("--patterns", nargs="+", default=["all"], help="pattern names or letters (default all 20)")
    ap.add_argument("--devices", type=int, default=None,
                    help="split each population over this many devices (default: all; on the CPU one per core)")
    ap.add_argument("--chunks", nargs="+", type=int, default=[None],
                    help="candidates per pattern evaluated at once, one row each (default: the Evaluator's "
                         "choice for the backend)")
    ap.add_argument("--loop-barrier", action=argparse.BooleanOptionalAction, default=simulate.LOOP_SHAPE.barrier,
                    help="the recording loop's barrier on each step's outputs (simulate.LoopShape)")
    ap.add_argument("--loop-unroll-steps", type=int, default=simulate.LOOP_SHAPE.unroll_steps,
                    help="lax.scan unroll of a block's steps in the recording loop")
    ap.add_argument("--loop-unroll-blocks", type=int, default=simulate.LOOP_SHAPE.unroll_blocks,
                    help="lax.scan unroll of the recording loop's blocks")
    ap.add_argument("--dt", type=float, default=0.25)
    ap.add_argument("--half-step", action=argparse.BooleanOptionalAction, default=True,
                    help="also simulate at dt/2, as Evaluator does by default (doubles+ the steps)")
    ap.add_argument("--repeats", type=int, default=3, help="timed calls after the first (median)")
    ap.add_argument("--max-seconds", type=float, default=20.0, help="stop repeating a case after this much timing")
    ap.add_argument("--torch", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--torch-populations", nargs="+", type=int, default=None,
                    help="populations for the torch loop (default: all of --populations)")
    ap.add_argument("--breakdown", action="store_true",
                    help="also time the JAX simulation alone (scoring = the rest)")
    ap.add_argument("--bare", action="store_true", help="bare Izhikevich lax.scan ceiling, no features/loss")
    ap.add_argument("--steps", type=int, default=4000, help="--bare: steps per run")
    ap.add_argument("--unroll", type=int, nargs="+", default=[1], help="--bare: lax.scan unroll factors")
    ap.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    return ap.parse_args(argv)


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def run_bare(args) -> dict:
    rows = []
    for population in args.populations or [10000, 100000]:
        steps = population * args.steps
        for unroll in args.unroll:
            first, t, n, _ = timed(bare_izhikevich(population, args.steps, args.dt, unroll), args.repeats, args.max_seconds)
            rows.append({"path": f"jax lax.scan (unroll {unroll})", "population": population, "steps": args.steps,
                         "compile_s": first - t, "time_s": t, "neuron_steps_per_s": steps / t})
            log(f"bare jax unroll={unroll} pop={population}: {steps / t:.3g} neuron-steps/s")
        if args.torch:
            first, t, n, _ = timed(bare_izhikevich_torch(population, args.steps, args.dt), args.repeats, args.max_seconds)
            rows.append({"path": f"torch loop ({T.device()})", "population": population, "steps": args.steps,
                         "compile_s": 0.0, "time_s": t, "neuron_steps_per_s": steps / t})
            log(f"bare torch pop={population}: {steps / t:.3g} neuron-steps/s")
    return {"bare": rows}


def run_evaluation(args) -> dict:
    selected = patterns.select(args.patterns)
    populations = args.populations or [64, 1024, 16384]
    torch_pops = set(args.torch_populations or populations) if args.torch else set()
    try:
        mesh = sharding.mesh_of(args.devices)
    except UsageError as error:
        sys.exit(str(error))
    # read when the Evaluator's program is traced, so it holds for every row of this run
    simulate.LOOP_SHAPE = simulate.LoopShape(args.loop_barrier, args.loop_unroll_steps, args.loop_unroll_blocks)
    rows, checks, torch_times = [], {}, {}
    for name, chunk in itertools.product(args.models, args.chunks):
        ev = Evaluator(models.get(name), selected, dt=args.dt, half_step=args.half_step, chunk=chunk, mesh=mesh)
        for population in populations:
            row = {"model": name, "population": population, "members": population * len(selected),
                   "devices": 1 if mesh is None else mesh.size, "chunk": ev.chunk_size,
                   "loop_shape": simulate.LOOP_SHAPE._asdict(),
                   "steps_per_candidate": simulated_steps(ev), "protocol_steps_per_candidate": protocol_steps(ev)}
            row["jax"] = measure_jax(ev, population, args.repeats, args.max_seconds, args.breakdown)
            if population in torch_pops:  # the torch loop has no chunks: timed once per model and population
                if (name, population) not in torch_times:
                    torch_times[name, population] = measure_torch(ev, population, args.repeats, args.max_seconds)
                row["torch"] = torch_times[name, population]
                row["speedup"] = row["torch"]["time_s"] / row["jax"]["time_s"]
            rows.append(row)
            log(format_row(row))
        # after the timings, so the first timed call of each shape includes its compile; the
        # Evaluator's losses do not depend on its chunks, so once per model
        if args.torch and name not in checks:
            checks[name] = agreement(ev, min(populations))
            log(f"{name}: agreement {checks[name]}")
    return {"evaluation": rows, "agreement": checks}


def format_row(row) -> str:
    j = row["jax"]
    text = (f"{row['model']:10s} pop {row['population']:>7d}  jax on {row['devices']} device(s), chunks of "
            f"{row['chunk']}: {j['neuron_steps_per_s']:.3g} neuron-steps/s "
            f"({j['time_s']:.3g} s, compile {j['compile_s']:.1f} s, {j['evaluations_per_s']:.3g} evals/s)")
    if row["loop_shape"] != simulate.LoopShape()._asdict():
        text += f" loop {row['loop_shape']}"
    if "simulation_s" in j:
        text += f" [sim {j['simulation_s']:.3g} s, scoring {j['scoring_s']:.3g} s]"
    if "torch" in row:
        t = row["torch"]
        text += (f"  torch {t['neuron_steps_per_s']:.3g} (sim {t['simulation_s']:.3g} s + scoring {t['scoring_s']:.3g} s)"
                 f"  speedup {row['speedup']:.1f}x")
    return text


def markdown(result) -> str:
    lines = []
    if "evaluation" in result:
        lines += ["| model | population | members | devices | chunk | JAX neuron-steps/s | JAX s | compile s "
                  "| evaluations/s | torch neuron-steps/s | torch sim s + scoring s | speedup |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in result["evaluation"]:
            j, t = r["jax"], r.get("torch")
            torch_cols = (f"{t['neuron_steps_per_s']:.3g} | {t['simulation_s']:.3g} + {t['scoring_s']:.3g} | "
                          f"{r['speedup']:.1f}x") if t else "— | — | —"
            lines.append(f"| {r['model']} | {r['population']} | {r['members']} | {r['devices']} | {r['chunk']} | "
                         f"{j['neuron_steps_per_s']:.3g} | "
                         f"{j['time_s']:.3g} | {j['compile_s']:.1f} | {j['evaluations_per_s']:.3g} | {torch_cols} |")
    if "bare" in result:
        lines += ["| path | population | steps | neuron-steps/s | s | compile s |", "|---|---|---|---|---|---|"]
        for r in result["bare"]:
            lines.append(f"| {r['path']} | {r['population']} | {r['steps']} | {r['neuron_steps_per_s']:.3g} | "
                         f"{r['time_s']:.3g} | {r['compile_s']:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    args = parse(argv)
    result = {"machine": machine(), "command": " ".join(["python", "benchmarks/throughput.py"] + (argv or sys.argv[1:]))}
    result.update(run_bare(args) if args.bare else run_evaluation(args))
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(markdown(result))
        for name, check in result.get("agreement", {}).items():
            print(f"agreement {name}: {check}")
        print(f"machine: {result['machine']}")


if __name__ == "__main__":
    main()
