"""Fuzzing the command line: whatever the arguments, and whatever state a run directory or the
index is in, a command ends with exit code 0 and a valid document, or exit code 2 with one line
on stderr; never a traceback, and never a half-written run directory.

The arguments are drawn from the parser itself (every sub-command and option `jaxplaus --help`
lists), with values from pools of valid and hostile ones (negative, zero, huge, NaN, malformed
JSON, typos of names, files where directories should be). A job that accepts its arguments
stops where its search would start compiling (`Reached`): the command layer and every check
before the work are what is fuzzed here; the work itself is tested in each job's module. Two
commands are left out: `reference` and `crosscheck` take no numbers (they run fixed cases).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jaxplaus import cli, store

ROOT = Path(tempfile.mkdtemp(prefix="jaxplaus-fuzz-"))
(ROOT / "a-file").write_text("not a directory")
LEFT_OUT = {"reference", "crosscheck"}

NUMBERS = ["-1", "0", "1", "2", "3", "8", "0.25", "0.1", "1e-7", "1e9", "1e30", "-0.5", "nan", "inf", "abc", ""]
JSONS = ["{", "{}", "[]", "null", '{"a": 1}', '{"v0": -70}', '{"a": [0.0, 0.02]}', '{"kind": "step", "amplitude": 5}',
         '{"kind": "step", "amplitude": 5, "onset_ms": 10}', '{"kind": "step", "onest_ms": 3}',
         '{"kind": "pulse", "amplitude": 5, "onset_ms": 10, "offset_ms": 5}', '{"a": "x"}', '{"a": 1e400}']
NAMES = ["lif", "izhikevich", "adex", "n2d2", "nosuch", "A", "T", "Z", "tonic_spiking", "class_2_excitability",
         "de", "cma_es", "wide", "physiological", "stability", "ie6", "small", "assess", ""]
# options whose valid names are few: mostly those, sometimes a typo
NAMED = {"--model": ["lif", "izhikevich", "adex", "n2d2", "izhikevch"], "--pattern": ["tonic_spiking", "A", "T", "Z"],
         "--patterns": ["tonic_spiking", "A", "T", "Z"], "--strategy": ["de", "cma_es", "pso", "CMA_ES", "nosuch"],
         "--bounds": ["wide", "physiological", "narrow"], "--task": ["stability", "familiarity", "x"],
         "--rule": ["ie6", "ee6", "mlp", "x"], "--network": ["small", "full", "x"], "--kind": ["assess", "sweep", "x"]}
PATHS = [str(ROOT / "a-file"), "/proc/no-such-dir/run"] + [str(ROOT / f"new-{k}") for k in range(4)]
JSON_OPTIONS = ("options", "params", "stimulus", "grid", "random", "gains")
PATH_OPTIONS = ("--out", "--reindex")


class Reached(Exception):
    """A job accepted its arguments and would now compile its search."""


def _subcommands(parser: argparse.ArgumentParser, prefix=()):
    """(argv prefix, parser) of every leaf command."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not actions:
        yield prefix, parser
        return
    for name, sub in actions[0].choices.items():
        if not prefix and name in LEFT_OUT:
            continue
        yield from _subcommands(sub, prefix + (name,))


def _values(option: str, action) -> st.SearchStrategy:
    if action.choices:
        pool = [str(c) for c in action.choices] + ["nosuch"]
    elif option in NAMED:
        pool = NAMED[option]
    elif any(word in option for word in JSON_OPTIONS):
        pool = JSONS
    elif option in PATH_OPTIONS:
        pool = PATHS
    elif any(word in option for word in ("model", "pattern", "strategy", "bounds", "kind", "task", "rule", "network",
                                          "sampler", "init", "connectivity", "draws", "simulator", "models")):
        pool = NAMES
    else:
        pool = NUMBERS
    # the option's own default half of the time, so that many lines are valid or nearly so
    default = action.default
    if default not in (None, False) and not isinstance(default, (list, tuple, dict)):
        return st.one_of(st.just(str(default)), st.sampled_from(pool))
    return st.sampled_from(pool)


@st.composite
def command_lines(draw):
    commands = list(_subcommands(cli.build_parser()))
    prefix, parser = draw(st.sampled_from(commands))
    argv = list(prefix)
    for action in parser._actions:
        if not action.option_strings and not isinstance(action, argparse._SubParsersAction):
            # a positional (compare's run directories): paths, present or not, files or folders
            argv += draw(st.lists(st.sampled_from(PATHS + [str(ROOT)]), min_size=0, max_size=2))
            continue
        if not action.option_strings or action.dest == "help":
            continue
        # each option in a third of the lines; a required one in nine tenths
        if not (action.required and draw(st.integers(0, 9)) > 0) and draw(st.integers(0, 2)) > 0:
            continue
        option = action.option_strings[-1]
        argv.append(option)
        if action.nargs == 0:
            continue
        count = draw(st.integers(1, 3)) if action.nargs in ("+", "*") else action.nargs if isinstance(action.nargs, int) else 1
        argv += [draw(_values(option, action)) for _ in range(count)]
    return argv


@pytest.fixture(autouse=True)
def no_work(monkeypatch):
    """Every job stops where its work would start."""
    from jaxplaus.search.loop import Search

    def reached(*args, **kwargs):
        raise Reached

    monkeypatch.setattr(Search, "compile_chunk", reached)
    monkeypatch.setattr("jaxplaus.plasticity.experiment.run_search", reached)
    try:
        import optuna

        monkeypatch.setattr(optuna, "create_study", reached)
    except ImportError:
        pass


def _tree(root: Path) -> set:
    return {p for p in root.rglob("*")}


def run_cli(argv):
    """(exit code, stdout, stderr), or "reached" when a job accepted its arguments."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except Reached:
            return "reached", out.getvalue(), err.getvalue()
    return code, out.getvalue(), err.getvalue()


def check_clean_end(argv, code, out, err, before):
    if code == "reached":
        return
    assert code in (0, 2), (argv, code, err)
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("jaxplaus: error: "), (argv, err)
        assert "Traceback" not in err and not out
        assert _tree(ROOT) == before, (argv, "left files behind")
    elif "--json" in argv:
        json.loads(out)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(command_lines())
def test_any_command_line_ends_cleanly(argv):
    before = _tree(ROOT)
    code, out, err = run_cli(argv)
    check_clean_end(argv, code, out, err, before)


# ---------------------------------------------------------------------- damaged state

ASSESS = ["assess", "--model", "lif", "--patterns", "A", "--budget", "64"]


def _started_run(tmp_path) -> Path:
    """A run directory as an interrupted assessment leaves it: config.json and a checkpoint."""
    from dataclasses import asdict

    from jaxplaus import assess

    out = tmp_path / "run"
    config = assess.AssessConfig(model="lif", patterns=["tonic_spiking"], budget=64)
    store.open_run_dir(out, asdict(config), resume=False)
    store.save_checkpoint(out, {"phase": 1, "state": [np.zeros(3)], "history": [], "chunks_done": 0})
    return out


DAMAGE = {
    "empty checkpoint": lambda out: (out / store.CHECKPOINT).write_bytes(b""),
    "truncated checkpoint": lambda out: (out / store.CHECKPOINT).write_bytes((out / store.CHECKPOINT).read_bytes()[:40]),
    "garbage checkpoint": lambda out: (out / store.CHECKPOINT).write_bytes(b"\x00garbage" * 10),
    "old pickle checkpoint": lambda out: (out / store.OLD_CHECKPOINT).write_bytes(b"\x80\x04N."),
    "empty config": lambda out: (out / store.CONFIG).write_text(""),
    "truncated config": lambda out: (out / store.CONFIG).write_text((out / store.CONFIG).read_text()[:20]),
    "garbage config": lambda out: (out / store.CONFIG).write_bytes(b"\xff\xfe\x00"),
    "config of a list": lambda out: (out / store.CONFIG).write_text("[1, 2]"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_resuming_damaged_state_is_one_line(tmp_path, damage):
    out = _started_run(tmp_path)
    DAMAGE[damage](out)
    code, stdout, err = run_cli(ASSESS[:1] + ["--model", "lif", "--patterns", "tonic_spiking", "--budget", "64",
                                              "--out", str(out), "--resume"])
    assert code == 2 and not stdout and len(err.strip().splitlines()) == 1, err
    assert str(out) in err and "Traceback" not in err


@pytest.mark.parametrize("content", [b"not a database at all", b"\x00" * 200])
@pytest.mark.parametrize("argv", [["runs"], ["runs", "--json"], ASSESS])
def test_a_damaged_index_is_one_line_before_any_work(tmp_path, monkeypatch, content, argv):
    monkeypatch.setenv("JAXPLAUS_HOME", str(tmp_path / "home"))
    store.index_path().parent.mkdir(parents=True)
    store.index_path().write_bytes(content)
    out = tmp_path / "new-run"
    code, stdout, err = run_cli(argv + (["--out", str(out)] if argv[0] == "assess" else []))
    assert code == 2 and not stdout and len(err.strip().splitlines()) == 1, err
    assert "index.sqlite is damaged" in err and "--reindex" in err and not out.exists()
