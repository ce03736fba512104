"""Biological seconds simulated per wall-clock second for the E/I plasticity network.

    python benchmarks/plasticity_throughput.py --network small --seconds 2 --batch 22
    python benchmarks/plasticity_throughput.py --network full --seconds 2 --batch 110   # GPU

Measures one network and a batch of networks (a generation: candidates x trials, vmapped, the
Vogels et al. 2011 rule on I->E with per-candidate jitter so the batch is not degenerate),
compiled ahead of the timed runs, so compile time stays apart and a long simulation runs only
`--repeats` times (`--no-single` leaves the one-network case out). The same network in Brian2:
`brian2_network.py` beside this script (docs/metalearn.md has both side by side).
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp

from jaxplaus.plasticity import network as N
from jaxplaus.plasticity import rules as R
from jaxplaus.plasticity.metalearn import BATCH_AXES as AXES  # named, so a step picks one event-array size per batch
from jaxplaus.plasticity.simulation import record


def simulator(net, rule, seconds, n_trials):
    n_steps = int(round(seconds / net.dt))

    def one(theta, trial):
        def drive(t_index):
            return {"E": trial.input_rate, "I": trial.input_rate}, 1.0

        _, (count_e, count_i), _ = record(net, rule, theta, trial, N.initial_state(net, trial, rule), n_steps, drive, n_raster=1, batch_axes=AXES)
        return count_e.sum() / (net.n_e * seconds), count_i.sum() / (net.n_i * seconds)

    def batch(thetas, key):
        keys = jax.random.split(key, n_trials)
        trials = jax.vmap(lambda k: N.draw_trial(k, net)._replace(input_rate=jnp.float32(3.0)))(keys)
        per = thetas.reshape(n_trials, -1, thetas.shape[-1])
        return jax.vmap(lambda th, tr: jax.vmap(lambda t: one(t, tr), axis_name=AXES[1])(th), axis_name=AXES[0])(per, trials)

    return jax.jit(batch)


def measure(net, rule, seconds, n_networks, n_trials, repeats):
    base = jnp.asarray(R.vogels2011(), jnp.float32)
    thetas = base * (1 + 0.05 * jax.random.normal(jax.random.PRNGKey(1), (n_networks, 6)))
    key = jax.random.PRNGKey(2)
    t0 = time.perf_counter()
    fn = simulator(net, rule, seconds, n_trials).lower(thetas, key).compile()
    compile_s = time.perf_counter() - t0
    walls = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        rates = jax.block_until_ready(fn(thetas, key))
        walls.append(time.perf_counter() - t0)
    wall = min(walls)
    return {
        "networks": n_networks,
        "trials": n_trials,
        "biological_s": seconds,
        "wall_s": wall,
        "compile_s": compile_s,
        "wall_s_each": walls,
        "bio_s_per_wall_s_per_network": seconds / wall,
        "network_bio_s_per_wall_s": n_networks * seconds / wall,
        "rate_e_hz": float(rates[0].mean()),
        "rate_i_hz": float(rates[1].mean()),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="small", choices=sorted(N.PRESETS))
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--batch", type=int, default=22, help="networks in the batch (a multiple of --trials)")
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2, help="timed runs of each case (the fastest is reported)")
    parser.add_argument("--single", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure one network alone")
    args = parser.parse_args()
    if args.batch % args.trials:
        parser.error("--batch must be a multiple of --trials")
    net = N.get_network(args.network)
    rule = R.get_rule("ie6")
    print(f"# {args.network}: {net.n_e} E + {net.n_i} I, device {jax.devices()[0].device_kind}", flush=True)
    cases = ((1, 1),) * args.single + ((args.batch, args.trials),)
    for n, t in cases:
        result = measure(net, rule, args.seconds, n, t, args.repeats)
        print(json.dumps(result), flush=True)
        print(
            f"{n:4d} network(s): {result['bio_s_per_wall_s_per_network']:.3g} biological s per wall s each, "
            f"{result['network_bio_s_per_wall_s']:.3g} network-seconds per wall s "
            f"(wall {result['wall_s']:.1f} s, compile {result['compile_s']:.1f} s; E {result['rate_e_hz']:.1f} Hz, I {result['rate_i_hz']:.1f} Hz)",
            flush=True,
        )
    print(f"the same network in Brian2: python benchmarks/brian2_network.py --network {args.network}")


if __name__ == "__main__":
    main()
