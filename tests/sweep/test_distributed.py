"""A sweep over two processes joined by jax.distributed (a coordinator on 127.0.0.1, JAX's own
CPU collectives) gives the one-process sweep's results."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

JAXPLAUS = str(Path(sys.executable).parent / "jaxplaus")
SWEEP = ["sweep", "--model", "lif", "--grid", '{"C": [100, 200]}', "--patterns", "A", "--budget", "96",
         "--no-progress", "--json"]
UNSTABLE = ("seconds", "evaluations_per_second", "neuron_steps_per_second", "provenance", "devices", "run_dir")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _results(text: str) -> dict:
    doc = json.loads(text)
    return {k: v for k, v in doc.items() if k not in UNSTABLE}


def test_two_processes_give_the_one_process_sweep(tmp_path):
    base = {**os.environ, "JAX_PLATFORMS": "cpu"}
    single = subprocess.run([JAXPLAUS, *SWEEP, "--out", str(tmp_path / "single")], capture_output=True, text=True,
                            env={**base, "JAXPLAUS_HOME": str(tmp_path / "home-single")}, timeout=600)
    assert single.returncode == 0, single.stderr
    port = _free_port()
    procs = [subprocess.Popen([JAXPLAUS, *SWEEP, "--distributed", "--out", str(tmp_path / f"process-{k}")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**base, "JAXPLAUS_HOME": str(tmp_path / f"home-{k}"),
                                   "JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{port}", "JAX_NUM_PROCESSES": "2",
                                   "JAX_PROCESS_ID": str(k)})
             for k in range(2)]
    outputs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outputs):
        assert p.returncode == 0, err
    docs = [json.loads(out) for out, _ in outputs]
    assert all(d["devices"] == 2 for d in docs)  # the mesh spans both processes' devices
    assert _results(outputs[0][0]) == _results(outputs[1][0]) == _results(single.stdout)


def test_distributed_without_a_cluster_is_one_line():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_COORDINATOR", "JAX_NUM_PROC", "JAX_PROCESS",
                                                                      "SLURM", "OMPI"))}
    done = subprocess.run([JAXPLAUS, *SWEEP, "--distributed"], capture_output=True, text=True,
                          env={**env, "JAX_PLATFORMS": "cpu"}, timeout=300)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "cannot join a multi-host job" in done.stderr
