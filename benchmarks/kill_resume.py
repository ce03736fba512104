"""Kill an assessment with SIGKILL at many points, resume each, and check every one ends with the
uninterrupted run's results, indexed once.

    JAX_PLATFORMS=cpu .venv/bin/python benchmarks/kill_resume.py --points 12

First runs the assessment uninterrupted (a small one: three Izhikevich patterns, two later
phases), timing it. Then, for each kill point, starts the same assessment in a fresh run
directory, kills it (SIGKILL: no handler runs) and runs `jaxplaus assess --resume` on the
directory to the end. Kill points: while it starts, just after checkpoints spread over all
its chunks (every phase), and the moments the run's files appear while it finishes (the
history, the first figure, the report, results.json), so kills land in the search, in
validation, in report writing and in indexing. Every resumed run must give the uninterrupted `results.json` (timings and provenance
aside) and `history.npz`, and have exactly one index row per pattern. All runs share one
private $JAXPLAUS_HOME (index and compilation cache); prints one Markdown row per kill.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

JAXPLAUS = str(Path(sys.executable).parent / "jaxplaus")
CONFIG = ["--model", "izhikevich", "--patterns", "tonic_spiking", "rebound_spike", "inhibition_induced_bursting",
          "--budget", "3840", "--seed", "3"]
# the files a finishing run writes, in order: a kill when one appears lands in that stage
FINISHING = ("history.npz", "convergence.png", "report.md", "report.html", "results.json")
UNSTABLE = ("seconds", "evaluations_per_second", "provenance")  # differ between any two runs


def command(out: Path, resume: bool = False) -> list[str]:
    return [JAXPLAUS, "assess", *CONFIG, "--out", str(out), "--no-progress"] + (["--resume"] if resume else [])


def comparable(out: Path) -> dict:
    results = json.loads((out / "results.json").read_text())
    return {k: v for k, v in results.items() if k not in UNSTABLE}


def killed_at(out: Path, env: dict, delay: float | None, checkpoints: int | None, file: str | None) -> str:
    """Start the run and kill it after `delay` s, after its `checkpoints`-th checkpoint (and a
    few ms into the next chunk), or when `file` appears in `out`; says where it was."""
    proc = subprocess.Popen(command(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    t0, seen, last = time.perf_counter(), 0, None
    while proc.poll() is None:
        if delay is not None and time.perf_counter() - t0 >= delay:
            break
        if file is not None and (out / file).exists():
            break
        if checkpoints is not None:
            try:
                stamp = (out / "checkpoint.npz").stat().st_mtime_ns
            except FileNotFoundError:
                stamp = None
            if stamp is not None and stamp != last:
                seen, last = seen + 1, stamp
                if seen >= checkpoints:
                    time.sleep(0.02)
                    break
        time.sleep(0.001)
    finished = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if finished:
        return "finished before the kill"
    present = [f for f in FINISHING if (out / f).exists()]
    if present:
        return "finishing: " + ", ".join(present) + " written"
    if not (out / "checkpoint.npz").exists():
        return "starting (no checkpoint yet)"
    from jaxplaus import store

    saved = store.load_checkpoint(out)
    return f"phase {saved['phase']}, {saved['chunks_done']} chunks done"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=12, help="kill points in all (at least the finishing ones)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jaxplaus-kill-") as tmp:
        tmp = Path(tmp)
        env = {**os.environ, "JAX_PLATFORMS": "cpu", "JAXPLAUS_HOME": str(tmp / "home")}
        reference = tmp / "uninterrupted"
        t0 = time.perf_counter()
        subprocess.run(command(reference), check=True, env=env, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        want, want_history = comparable(reference), np.load(reference / "history.npz")
        n_patterns = len(want["patterns"])
        # a second uninterrupted run's wall time: the compilation cache is warm now, as for the kills
        t0 = time.perf_counter()
        subprocess.run(command(tmp / "warm"), check=True, env=env, stdout=subprocess.DEVNULL)
        warm = time.perf_counter() - t0
        chunks = want["generations"] // 8  # a checkpoint after every chunk of 8 generations
        spread = max(1, args.points - len(FINISHING) - 1)
        points = [(None, None, "config.json")]  # while it starts
        points += [(None, int(k), None) for k in np.unique(np.linspace(1, chunks, spread).round())]
        points += [(None, None, f) for f in FINISHING]
        print(f"uninterrupted: {wall:.0f} s cold, {warm:.0f} s with the compilation cache\n")
        print("| kill | stage | resumed = uninterrupted | index rows |")
        print("|---|---|---|---|")
        failures = 0
        os.environ["JAXPLAUS_HOME"] = env["JAXPLAUS_HOME"]
        from jaxplaus import store

        for k, (delay, checkpoints, file) in enumerate(points):
            out = tmp / f"killed-{k}"
            stage = killed_at(out, env, delay, checkpoints, file)
            subprocess.run(command(out, resume=True), check=True, env=env, stdout=subprocess.DEVNULL)
            same = comparable(out) == want
            history = np.load(out / "history.npz")
            same &= all(np.array_equal(history[key], want_history[key]) for key in want_history.files)
            rows = len(store.query_results(run_dir=str(out.resolve())))
            failures += (not same) or rows != n_patterns
            when = (f"after {delay:.1f} s" if delay is not None else f"after checkpoint {checkpoints} of {chunks}"
                    if checkpoints is not None else f"when {file} appears")
            print(f"| {when} | {stage} | {'yes' if same else 'NO'} | {rows} of {n_patterns} |", flush=True)
        print(f"\n{len(points) - failures} of {len(points)} resumed runs equal the uninterrupted one, indexed once")
        sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
