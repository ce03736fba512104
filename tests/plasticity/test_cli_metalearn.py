"""`jaxplaus metalearn` bad arguments: one line on stderr, exit code 2, no traceback, no run dir."""

import os
import subprocess
import sys

import pytest

# The real `jaxplaus.cli.main`, with only the optional commands registered, so these tests do
# not depend on the other commands' modules being present in this checkout.
RUNNER = "import sys, jaxplaus.cli as c; c.COMMAND_MODULES = (); sys.exit(c.main(sys.argv[1:]))"


def jaxplaus(*argv, home):
    env = dict(os.environ, JAXPLAUS_HOME=str(home), JAX_PLATFORMS="cpu")
    return subprocess.run([sys.executable, "-c", RUNNER, *argv], capture_output=True, text=True, env=env, timeout=120)


BAD = [
    ("--rule", "ie7"),
    ("--task", "memory"),
    ("--network", "huge"),
    ("--strategy", "NoSuchES"),
    ("--generations", "0"),
    ("--population", "1"),
    ("--trials", "-3"),
    ("--heldout-trials", "-1"),
    ("--sigma", "nan"),
    ("--sigma", "-1"),
    ("--train-s", "5", "2"),
    ("--score-s", "0"),
    ("--init", "vogels", "--rule", "mlp"),
    ("--connectivity", "sometimes"),
    ("--trial-draws", "latin"),
    ("--generations", "many"),
    ("--resume",),
]


@pytest.mark.parametrize("argv", BAD, ids=[" ".join(a) for a in BAD])
def test_bad_argument_is_one_line_exit_2_and_leaves_no_run_dir(argv, tmp_path):
    out = tmp_path / "run"
    result = jaxplaus("metalearn", *argv, "--out", str(out), home=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jaxplaus: error:"), result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not out.exists()


def test_out_that_is_not_a_run_dir_is_refused(tmp_path):
    out = tmp_path / "occupied"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = jaxplaus("metalearn", "--out", str(out), "--generations", "1", home=tmp_path)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
