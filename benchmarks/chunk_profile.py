"""Where one Evaluator chunk's time goes: simulation, scoring, spike-time extraction, objectives.

    taskset -c 0 python benchmarks/chunk_profile.py                 # one core's figures
    taskset -c 0 python benchmarks/chunk_profile.py --chunk 512 --chunks 4

`throughput.py` measures the whole evaluation over all cores; this script takes apart the unit
the Evaluator repeats, one chunk of `--chunk` candidates x the patterns at both step sizes, and
times each piece as the median of `--repeats` calls over `--chunks` chunks in a `lax.map` (so
buffers are reused, as in the Evaluator's own chunk loop):

- whole: `Evaluator.jitted`, the real evaluation;
- simulation: `Evaluator.records` chunk after chunk, reading only each record's last block;
- scoring: `Evaluator.score_records` on records simulated beforehand;
- spike times: `Evaluator.responses` on the same records with only the spike times read, so
  only `features.response`'s spike-time extraction (and its concatenation) runs;
- objectives: each pattern's `score` on stored responses, one pattern at a time (summed);
- the recording loop against the same steps with nothing recorded (only the final state leaves
  the loop), on the longest duration group at the smallest step, in neuron-steps per second.

XLA:CPU lends a program's large fusions to other cores: pin the process to one core (`taskset
-c 0`) for per-core figures; the script says how many cores it may use.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import jax
import jax.numpy as jnp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import machine, simulated_steps, timed  # noqa: E402

from jaxplaus import models, patterns, sharding, simulate, stimuli  # noqa: E402
from jaxplaus.evaluate import Evaluator  # noqa: E402


def _total(tree):
    """One scalar that depends on every leaf (infinities as 0), so nothing is optimised away."""
    finite = lambda x: jnp.nan_to_num(x.astype(jnp.float32), posinf=0.0, neginf=0.0)  # noqa: E731
    return sum(jnp.sum(finite(x)) for x in jax.tree.leaves(tree))


def _last_blocks(records):
    """Each per-block field's last block: keeps the whole loop (its outputs are used) while
    costing next to nothing to read, unlike a sum over every block."""
    return jax.tree.map(lambda x: x[..., -1] if x.ndim >= 3 else x, records)


def _over_chunks(body):
    """jit of: body on each chunk of a leading chunk axis, one after the other, reduced."""
    return jax.jit(lambda *xs: jax.lax.map(lambda x: _total(body(*x)), xs))


def stored_records(ev: Evaluator, z):
    """Records of every chunk of z [chunks, patterns, chunk, dim], simulated once."""
    return jax.jit(jax.vmap(ev.records))(z)


def spike_times(ev: Evaluator, records):
    return [resp.spike_times for resp in ev.responses(records)]


def objective_times(ev: Evaluator, z, records, repeats: int) -> dict:
    """Seconds of each pattern's `score` on one chunk's stored responses."""
    order = [ev.patterns[i] for group in ev.groups for i in group]  # objective_inputs' order
    inputs = jax.jit(lambda z, r: [args for _, *args, _ in ev.objective_inputs(z, r)])(z, records)
    out = {}
    for pattern, args in zip(order, inputs):
        score = jax.jit(jax.vmap(pattern.score))
        out[pattern.name] = timed(lambda: score(*args), repeats, 10.0)[1]
    return out


def loops(ev: Evaluator, z, repeats: int) -> dict:
    """Neuron-steps/s of the recording loop and of the same steps recording nothing, on the
    longest duration group at the smallest step (same inputs)."""
    group = max(ev.groups, key=lambda g: max(ev.patterns[i].protocol.duration_ms for i in g))
    dt, block_len = ev.steps[-1]
    params, gains = ev.decoded_group(z, group)
    waves, t_end, blocks = ev.group_inputs(group, dt, block_len)
    model, dt = ev.model, jnp.float32(dt)

    def recording(p, w, g, te):
        return simulate.record(model, p, w, g, dt, te, blocks, block_len)

    def no_recording(p, w, g, te):
        def step(state, k):
            return model.step(p, state, stimuli.current(w, g, k.astype(jnp.float32) * dt, dt), dt)[0], None

        return jax.lax.scan(step, model.initial_state(p), jnp.arange(blocks * block_len))[0]

    def batched(loop):  # over patterns, then over the population (waveform and end per pattern)
        run = jax.vmap(jax.vmap(loop, in_axes=(0, None, 0, None)))
        return jax.jit(lambda: _total(_last_blocks(run(params, waves, gains, t_end))))

    steps = len(group) * gains.shape[1] * blocks * block_len
    return {
        "loop_group": [ev.patterns[i].name for i in group], "loop_dt": float(dt), "loop_members": len(group) * gains.shape[1],
        "recording_loop_neuron_steps_per_s": steps / timed(batched(recording), repeats, 10.0)[1],
        "no_recording_loop_neuron_steps_per_s": steps / timed(batched(no_recording), repeats, 10.0)[1],
    }


def profile(model: str, chunk: int, chunks: int, repeats: int, selection=None) -> dict:
    ev = Evaluator(models.get(model), patterns.select(selection), chunk=chunk)
    z = jax.random.uniform(jax.random.PRNGKey(0), (chunks, len(ev.patterns), chunk, ev.dim))
    flat = z.transpose(1, 2, 0, 3).reshape(len(ev.patterns), chunk * chunks, ev.dim)  # the Evaluator's chunk order
    records = stored_records(ev, z)
    per_chunk = lambda fn, *args: timed(lambda: fn(*args), repeats, 20.0)[1] / chunks  # noqa: E731
    objectives = objective_times(ev, z[0], jax.tree.map(lambda x: x[0], records), repeats)
    row = {
        "model": model, "chunk": chunk, "chunks": chunks, "patterns": len(ev.patterns),
        "neuron_steps_per_chunk": simulated_steps(ev) * chunk, "cores_usable": sharding.usable_cores(),
        "whole_s": per_chunk(ev.jitted, flat),
        "simulation_s": per_chunk(_over_chunks(lambda c: _last_blocks(ev.records(c))), z),
        "scoring_s": per_chunk(_over_chunks(ev.score_records), z, records),
        "spike_times_s": per_chunk(_over_chunks(lambda _, r: spike_times(ev, r)), z, records),
        "objectives_s": sum(objectives.values()),
        "slowest_objectives": dict(sorted(objectives.items(), key=lambda kv: -kv[1])[:3]),
    }
    row["whole_neuron_steps_per_s"] = row["neuron_steps_per_chunk"] / row["whole_s"]
    row.update(loops(ev, z[0], repeats))
    return row


def report(row) -> str:
    ms = lambda key: f"{row[key] * 1e3:8.1f} ms"  # noqa: E731
    lines = [
        f"{row['model']}: chunks of {row['chunk']} candidates x {row['patterns']} patterns "
        f"({row['neuron_steps_per_chunk']:.3g} neuron-steps), {row['cores_usable']} core(s) usable"
        + ("" if row["cores_usable"] == 1 else "  (pin with `taskset -c 0` for one core's figures)"),
        f"  whole evaluation {ms('whole_s')}  ({row['whole_neuron_steps_per_s']:.3g} neuron-steps/s)",
        f"  simulation       {ms('simulation_s')}",
        f"  scoring          {ms('scoring_s')}  (on stored records)",
        f"    spike times    {ms('spike_times_s')}",
        f"    objectives     {ms('objectives_s')}  (one pattern at a time; slowest: "
        + ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in row["slowest_objectives"].items()) + ")",
        f"  loops on {len(row['loop_group'])} patterns at dt {row['loop_dt']:g} ({row['loop_members']} members): "
        f"recording {row['recording_loop_neuron_steps_per_s']:.3g}, recording nothing "
        f"{row['no_recording_loop_neuron_steps_per_s']:.3g} neuron-steps/s",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="izhikevich", choices=models.names())
    parser.add_argument("--chunk", type=int, default=256, help="candidates per pattern in a chunk (default 256, the CPU's)")
    parser.add_argument("--chunks", type=int, default=4, help="chunks per timed call")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls after the first (median)")
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    args = parser.parse_args(argv)
    row = profile(args.model, args.chunk, args.chunks, args.repeats)
    row["machine"] = machine()
    print(json.dumps(row, indent=2) if args.json else report(row))


if __name__ == "__main__":
    main()
