"""Where a default assessment's compilation goes: the programs `jaxplaus assess` compiles first.

    JAX_PLATFORMS=cpu .venv/bin/python benchmarks/compile_profile.py --model izhikevich

For the first search phase of `--model`'s default assessment, times tracing+lowering and
compiling (no compilation cache) of:

- simulation: `Evaluator.records` alone, every duration group at both step sizes;
- evaluation: `Evaluator.objectives`, the simulation with features, criteria and limits;
- search chunk: `Search.run_chunk`, the evaluation inside the generation loop (what `assess`
  runs), with the number of fused kernels in its compiled program;
- validator: the ladder program (dt down to dt/10) that validates the optima;
- chunk and validator together, in two threads, as `assess` compiles them.

Each program is compiled in a fresh `jax.jit`, so nothing is reused between lines.
"""

from __future__ import annotations

import argparse
import os
import re
import threading
import time

import jax
import jax.numpy as jnp

from jaxplaus import assess, models


def timed(function, *args):
    """(lower seconds, compile seconds, compiled) of `jax.jit(function)` at `args`' shapes; pass
    a new function object each time (a lambda): jax caches traces and executables by function."""
    t0 = time.perf_counter()
    lowered = jax.jit(function).lower(*args)
    t1 = time.perf_counter()
    compiled = lowered.compile()
    return t1 - t0, time.perf_counter() - t1, compiled


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="izhikevich", choices=models.names())
    args = parser.parse_args()
    jax.config.update("jax_enable_compilation_cache", False)
    config = assess.AssessConfig(model=args.model)
    config.check()
    p = assess.plan(config)
    phase, validator = p.first, p.validator
    evaluator, runner = phase.evaluator, phase.search
    z = jax.ShapeDtypeStruct((len(evaluator.patterns), runner.population * runner.restarts, evaluator.dim),
                             jnp.float32)
    state = assess._start_state(config, phase, 0)
    ladder = jax.ShapeDtypeStruct(validator.shape, jnp.float32)
    print(f"{args.model}: {len(evaluator.patterns)} patterns, {len(evaluator.groups)} duration groups, "
          f"{runner.population * runner.restarts} candidates per pattern; {os.cpu_count()} cores, "
          f"{jax.default_backend()}\n")
    print("| program | lower s | compile s |")
    print("|---|---|---|")
    rows = [("simulation", evaluator.records, z), ("evaluation", evaluator.objectives, z)]
    for name, function, shape in rows:
        lower, compile_s, _ = timed(function, shape)
        print(f"| {name} | {lower:.1f} | {compile_s:.1f} |", flush=True)
    lower, compile_s, compiled = timed(lambda s: runner.run_chunk.__wrapped__(runner, s, assess.CHUNK), state)
    kernels = len(re.findall(r"\bfusion\(", compiled.as_text()))
    print(f"| search chunk ({kernels} fused kernels) | {lower:.1f} | {compile_s:.1f} |", flush=True)
    lower, compile_s, _ = timed(validator.ladder.scores, ladder)
    print(f"| validator | {lower:.1f} | {compile_s:.1f} |", flush=True)

    done = {}

    def compile_validator():
        t0 = time.perf_counter()
        timed(validator.ladder.scores, ladder)
        done["validator"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    thread = threading.Thread(target=compile_validator)
    thread.start()
    timed(lambda s: runner.run_chunk.__wrapped__(runner, s, assess.CHUNK), state)
    chunk_s = time.perf_counter() - t0
    thread.join()
    print(f"| chunk and validator in two threads | chunk done after {chunk_s:.1f} s, "
          f"validator after {done['validator']:.1f} s | wall {time.perf_counter() - t0:.1f} |")


if __name__ == "__main__":
    main()
