"""The E/I plasticity network of `jaxplaus.plasticity` simulated in Brian2, for the comparison
docs/metalearn.md quotes: wall seconds per biological second of one network, next to jaxplaus's.

    pip install brian2            # optional; not a dependency of jaxplaus
    python benchmarks/brian2_network.py --network small --seconds 2
    python benchmarks/brian2_network.py --network small --seconds 2 --standalone   # C++ standalone

Same model as `jaxplaus/plasticity/network.py` (the "TIF" network of Confavreux et al. 2025):
conductance-based LIF in units of g_L, forward Euler at dt 0.1 ms, 5 ms refractoriness, 250
Poisson sources per neuron at w 0.1 (Brian2's `PoissonInput`: one binomial draw per neuron and
step, like jaxplaus's one Poisson count), recurrent synapses drawn with the in-degree jaxplaus
keeps (fixed probability here, fixed out-degree there: the same mean in-degree), and Vogels et
al. 2011's rule on I->E in Confavreux et al. 2025's co-active form (traces +1 per spike, on a pre
spike dw = eta*(alpha + x_post), on a post spike dw = eta*x_pre, w clipped to [0, w_max]).
Input 3 Hz, w_max 2.5. The first call (code generation and compilation) is timed apart from the
measured run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time

from jaxplaus.plasticity import network as N
from jaxplaus.plasticity import rules as R


def build(b2, net: N.Network, input_rate: float, w_max: float, seed: int):
    """The network as Brian2 objects (a `Network`) and its spike monitors."""
    ms, mV, Hz = b2.ms, b2.mV, b2.Hz
    b2.seed(seed)
    b2.defaultclock.dt = net.dt * 1e3 * ms
    eqs = """
    dv/dt = ((v_rest - v) + g_ampa * (e_ampa - v) + g_gaba * (e_gaba - v)) / tau_m : volt (unless refractory)
    dg_ampa/dt = -g_ampa / tau_ampa : 1
    dg_gaba/dt = -g_gaba / tau_gaba : 1
    """
    constants = {
        "v_rest": net.v_rest * mV, "e_ampa": net.e_ampa * mV, "e_gaba": net.e_gaba * mV,
        "tau_m": net.tau_m * 1e3 * ms, "tau_ampa": net.tau_ampa * 1e3 * ms, "tau_gaba": net.tau_gaba * 1e3 * ms,
    }
    groups = {}
    for pop in N.POPULATIONS:
        group = b2.NeuronGroup(
            net.size(pop), eqs, threshold=f"v > {net.v_threshold}*mV", reset=f"v = {net.v_reset}*mV",
            refractory=net.t_refractory * 1e3 * ms, method="euler", namespace=constants, name=f"pop_{pop}",
        )
        group.v = f"{net.v_rest}*mV + rand() * {net.v_threshold - 5.0 - net.v_rest}*mV"
        groups[pop] = group
    tau_pre, tau_post, alpha, beta, gamma, kappa = R.vogels2011()
    tau = float(R.tau_from_param(tau_pre))  # both traces: 20 ms
    objects = list(groups.values())
    for p in N.PROJECTIONS:
        pre, post = groups[p[0]], groups[p[1]]
        target = "g_ampa" if p[0] == "E" else "g_gaba"
        probability = net.out_degree(p) / net.size(p[1])
        if p == "IE":
            syn = b2.Synapses(
                pre, post,
                """w : 1
                dxpre/dt = -xpre / tau_trace : 1 (event-driven)
                dxpost/dt = -xpost / tau_trace : 1 (event-driven)""",
                on_pre=f"""{target}_post += w
                w = clip(w + eta * (alpha + kappa * xpost), 0, w_max)
                xpre += 1""",
                on_post="""w = clip(w + eta * (beta + gamma * xpre), 0, w_max)
                xpost += 1""",
                namespace={"tau_trace": tau * 1e3 * ms, "eta": R.ETA, "alpha": alpha, "beta": beta,
                           "gamma": gamma, "kappa": kappa, "w_max": w_max},
                name=f"syn_{p}",
            )
        else:
            syn = b2.Synapses(pre, post, on_pre=f"{target}_post += {getattr(net, 'w_' + p.lower())}", name=f"syn_{p}")
        syn.connect(condition="i != j" if p[0] == p[1] else None, p=probability)
        if p == "IE":
            syn.w = f"rand() * {net.w_ie_init_max}"
        objects.append(syn)
    for pop, group in groups.items():
        objects.append(b2.PoissonInput(group, "g_ampa", N=net.n_input, rate=input_rate * Hz, weight=net.w_input))
    monitors = {pop: b2.SpikeMonitor(group, record=False) for pop, group in groups.items()}
    objects.extend(monitors.values())
    return b2.Network(*objects), monitors


def measure(net: N.Network, seconds: float, standalone: bool, seed: int = 0, input_rate: float = 3.0, w_max: float = 2.5):
    import brian2 as b2

    ms = b2.ms
    if standalone:
        b2.set_device("cpp_standalone", build_on_run=False)
    network, monitors = build(b2, net, input_rate, w_max, seed)
    if standalone:  # one build and run: Brian2 reports code generation + compilation apart
        network.run(seconds * 1e3 * ms, profile=False)
        t0 = time.perf_counter()
        b2.device.build(directory=tempfile.mkdtemp(prefix="jaxplaus-brian2-"), run=True, compile=True)
        total = time.perf_counter() - t0
        wall = b2.device._last_run_time  # the simulation loop, as the compiled binary timed it
        first = total - wall
    else:
        t0 = time.perf_counter()
        network.run(10 * ms)  # generates and compiles every code object
        first = time.perf_counter() - t0
        start = {pop: int(m.num_spikes) for pop, m in monitors.items()}
        t0 = time.perf_counter()
        network.run(seconds * 1e3 * ms)
        wall = time.perf_counter() - t0
    counts = {pop: int(m.num_spikes) - (0 if standalone else start[pop]) for pop, m in monitors.items()}
    return {
        "simulator": f"brian2 {b2.__version__} ({'cpp_standalone' if standalone else b2.prefs.codegen.target})",
        "network": net.name,
        "biological_s": seconds,
        "wall_s": wall,
        "first_call_s": first,
        "wall_s_per_bio_s": wall / seconds,
        "bio_s_per_wall_s": seconds / wall,
        "rate_e_hz": counts["E"] / (net.n_e * seconds),
        "rate_i_hz": counts["I"] / (net.n_i * seconds),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="small", choices=sorted(N.PRESETS))
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--standalone", action="store_true", help="Brian2's C++ standalone mode (runtime mode otherwise)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    try:
        import brian2  # noqa: F401
    except ImportError:
        sys.exit("brian2 is not installed: `pip install brian2` (it is not a dependency of jaxplaus)")
    result = measure(N.get_network(args.network), args.seconds, args.standalone, args.seed)
    print(json.dumps(result), flush=True)
    print(
        f"{result['simulator']}, {args.network} network: {result['wall_s_per_bio_s']:.3g} wall s per biological s "
        f"({result['bio_s_per_wall_s']:.3g} biological s per wall s; first call {result['first_call_s']:.1f} s; "
        f"E {result['rate_e_hz']:.1f} Hz, I {result['rate_i_hz']:.1f} Hz)"
    )


if __name__ == "__main__":
    main()
