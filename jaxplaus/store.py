"""Run directories and the SQLite index of all runs.

A run directory holds `config.json`, `results.json`, checkpoints and figures. Every finished
result is also a row in an SQLite index (default `~/.jaxplaus/index.sqlite`, or
`$JAXPLAUS_HOME/index.sqlite`) so runs can be listed and compared with `jaxplaus runs`.
Writes are atomic (temporary file + rename) so an interrupted run never leaves a torn file.
"""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np

from jaxplaus.errors import UsageError

CONFIG = "config.json"
RESULTS = "results.json"
CHECKPOINT = "checkpoint.pkl"

_COLUMNS = (
    ("run_dir", "TEXT"),
    ("kind", "TEXT"),  # assess, baseline, metalearn, bench, sweep
    ("model", "TEXT"),
    ("pattern", "TEXT"),  # pattern name, or task name for metalearn
    ("strategy", "TEXT"),
    ("seed", "INTEGER"),
    ("budget", "INTEGER"),
    ("passed", "INTEGER"),
    ("loss", "REAL"),
    ("evaluations", "INTEGER"),
    ("seconds", "REAL"),
    ("evals_per_second", "REAL"),
    ("created", "REAL"),
    ("extra", "TEXT"),  # JSON with anything else worth keeping
)


def home() -> Path:
    return Path(os.environ.get("JAXPLAUS_HOME", Path.home() / ".jaxplaus"))


def index_path() -> Path:
    return home() / "index.sqlite"


def _connect() -> sqlite3.Connection:
    path = index_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    columns = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS)
    connection.execute(f"CREATE TABLE IF NOT EXISTS results (id INTEGER PRIMARY KEY, {columns})")
    return connection


def index_results(rows: list[dict]) -> None:
    """Add result rows (keys from the index's columns; others go into `extra`)."""
    names = [name for name, _ in _COLUMNS]
    with _connect() as connection:
        for row in rows:
            row = dict(row)
            extra = {k: row.pop(k) for k in list(row) if k not in names}
            row.setdefault("created", time.time())
            if extra:
                row["extra"] = json.dumps(extra, default=to_jsonable)
            keys = list(row)
            connection.execute(
                f"INSERT INTO results ({', '.join(keys)}) VALUES ({', '.join('?' * len(keys))})",
                [to_jsonable(row[k]) if isinstance(row[k], np.generic) else row[k] for k in keys],
            )


def query_results(**equal) -> list[dict]:
    """Rows of the index whose columns equal the given values, oldest first."""
    names = {name for name, _ in _COLUMNS}
    unknown = set(equal) - names
    if unknown:
        raise UsageError(f"unknown run-index column(s): {', '.join(sorted(unknown))}")
    where = " AND ".join(f"{k} = ?" for k in equal) or "1"
    with _connect() as connection:
        connection.row_factory = sqlite3.Row
        cursor = connection.execute(f"SELECT * FROM results WHERE {where} ORDER BY id", list(equal.values()))
        return [dict(row) for row in cursor.fetchall()]


def to_jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_json(path: Path, document) -> None:
    """Atomically write a JSON document."""
    tmp = Path(f"{path}.tmp")
    tmp.write_text(json.dumps(document, indent=2, default=to_jsonable, allow_nan=False))
    os.replace(tmp, path)


def read_json(path: Path):
    return json.loads(Path(path).read_text())


def check_writable_parent(out: Path) -> None:
    """Fail early (before any work) if `out` cannot be created: probe its nearest existing
    ancestor with a real temporary file (permission bits alone say nothing to root)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"cannot write run directory {out}: it is a file")
    ancestor = out.resolve()
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UsageError(f"cannot write run directory {out}: {ancestor} is not a directory")
    try:
        with tempfile.TemporaryFile(dir=ancestor):
            pass
    except OSError as err:
        raise UsageError(f"cannot write run directory {out}: {err.strerror}") from None


def open_run_dir(out: Path, config: dict, resume: bool) -> bool:
    """Create or reopen a run directory. Returns True when resuming from a checkpoint.

    A finished run (results.json present) is never overwritten; an unfinished one is only
    continued with `resume=True`, and only if its config matches.
    """
    out = Path(out)
    check_writable_parent(out)
    if (out / RESULTS).exists():
        raise UsageError(f"{out} already holds a finished run; choose another --out")
    if (out / CONFIG).exists():
        if not resume:
            raise UsageError(f"{out} holds an unfinished run; pass --resume to continue it")
        saved, wanted = read_json(out / CONFIG), json.loads(json.dumps(config, default=to_jsonable))
        if saved != wanted:
            differing = sorted(k for k in set(saved) | set(wanted) if saved.get(k, "<absent>") != wanted.get(k, "<absent>"))
            raise UsageError(f"{out} was started with a different configuration (differs in: {', '.join(differing)}); "
                             "cannot resume")
        return (out / CHECKPOINT).exists()
    if resume:
        raise UsageError(f"nothing to resume in {out}")
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"{out} exists and is not a jaxplaus run directory")
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / CONFIG, config)
    return False


def save_checkpoint(out: Path, state) -> None:
    """Atomically pickle a checkpoint (a pytree of numpy arrays and plain Python values)."""
    tmp = Path(out) / f"{CHECKPOINT}.tmp"
    with open(tmp, "wb") as handle:
        pickle.dump(state, handle)
    os.replace(tmp, Path(out) / CHECKPOINT)


def load_checkpoint(out: Path):
    with open(Path(out) / CHECKPOINT, "rb") as handle:
        return pickle.load(handle)
