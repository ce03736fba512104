"""The command-line contract: JSON keys, and one clear line with exit code 2 for bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jaxplaus.cli import main

JAXPLAUS = str(Path(sys.executable).parent / "jaxplaus")


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_models_and_patterns_list_their_contents(capsys):
    code, out, _ = run(capsys, "models", "--json")
    doc = json.loads(out)
    assert code == 0 and {m["name"] for m in doc["models"]} >= {"lif", "adex", "izhikevich", "n2d2"}
    adex = next(m for m in doc["models"] if m["name"] == "adex")
    assert [p["name"] for p in adex["parameters"]] == ["C", "gL", "EL", "VT", "DeltaT", "a", "tauw", "b", "Vr", "Vpeak"]
    code, out, _ = run(capsys, "patterns", "--json")
    assert code == 0 and len(json.loads(out)["patterns"]) == 20


def test_simulate_reports_the_contract_keys(capsys):
    code, out, _ = run(capsys, "simulate", "--model", "izhikevich", "--pattern", "tonic_spiking", "--dt-ms", "0.25", "--json")
    doc = json.loads(out)
    assert code == 0
    assert {"spike_times_ms", "passed", "loss", "features"} <= set(doc)
    assert doc["passed"] and len(doc["spike_times_ms"]) == 5


def test_classify_reports_patterns(capsys):
    code, out, _ = run(capsys, "classify", "--model", "izhikevich", "--params", '{"v0": -70}',
                       "--stimulus", '{"kind": "step", "amplitude": 14, "onset_ms": 10}', "--duration-ms", "100",
                       "--dt-ms", "0.25", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["patterns"] == ["tonic_spiking"] and doc["input_class"] == "dc"


BAD = [
    ("simulate", "--model", "nosuchmodel", "--pattern", "tonic_spiking"),
    ("simulate", "--model", "izhikevich", "--pattern", "nosuchpattern"),
    ("simulate", "--model", "izhikevich", "--pattern", "tonic_spiking", "--params", "{bad"),
    ("simulate", "--model", "izhikevich", "--pattern", "tonic_spiking", "--params", '{"tau": 1}'),
    ("simulate", "--model", "adex", "--pattern", "tonic_spiking", "--params", '{"C": -5}'),
    ("simulate", "--model", "izhikevich", "--pattern", "tonic_spiking", "--dt-ms", "-0.1"),
    ("simulate", "--model", "izhikevich", "--pattern", "tonic_spiking", "--dt-ms", "0"),
    ("classify", "--model", "adex", "--stimulus", "{nope", "--duration-ms", "100"),
    ("classify", "--model", "adex", "--stimulus", '{"kind": "sine"}', "--duration-ms", "100"),
    ("classify", "--model", "adex", "--stimulus", '{"kind": "step", "amplitude": 5}', "--duration-ms", "-3"),
    ("classify", "--model", "adex", "--stimulus", '{"kind": "step", "amplitude": 5}', "--duration-ms", "0"),
    ("simulate", "--model", "izhikevich", "--pattern", "tonic_spiking", "--dt-ms", "1e9"),  # dt above 1 ms
    ("simulate", "--model", "izhikevich", "--pattern", "tonic_spiking", "--dt-ms", "1e-7"),  # 1e9 steps
    ("classify", "--model", "adex", "--stimulus", '{"kind": "step", "amplitude": 5}', "--duration-ms", "1e9"),
    ("classify", "--model", "adex", "--stimulus", '{"kind": "step", "amplitude": 5, "onest_ms": 5}',
     "--duration-ms", "100"),
    ("assess", "--model", "adex", "--strategy", "gradient_descent"),
    ("assess", "--model", "adex", "--budget", "0"),
    ("assess", "--model", "izhikevich", "--model-options", '{"u_equation": "x"}'),
    ("assess", "--model", "adex", "--dt-ms", "0.00001"),  # more steps a recording block than its code holds
    ("nosuchcommand",),
]


@pytest.mark.parametrize("args", BAD, ids=[" ".join(a[:3]) + " " + a[-1][:12] for a in BAD])
def test_bad_input_is_one_line_and_exit_code_2(capsys, args):
    code, out, err = run(capsys, *args, "--json")
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("jaxplaus: error:")
    assert "Traceback" not in err


def test_console_script_reports_bad_input_without_traceback():
    proc = subprocess.run([JAXPLAUS, "simulate", "--model", "izhikevich", "--pattern", "A", "--params", "{bad", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("as_json", [True, False])
def test_a_reader_that_closes_the_pipe_early_gets_no_traceback(as_json):
    """`jaxplaus patterns --json | head -c 1`: stdout's reader is gone before the document is written."""
    read, write = os.pipe()
    os.close(read)  # every write to the pipe now fails with EPIPE
    command = [JAXPLAUS, "patterns"] + (["--json"] if as_json else [])
    proc = subprocess.run(command, stdout=write, stderr=subprocess.PIPE, text=True, timeout=120)
    os.close(write)
    assert proc.returncode == 0 and proc.stderr == ""
