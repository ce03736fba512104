"""Run directories and the SQLite index of all runs.

A run directory holds `config.json`, `results.json`, a checkpoint while it runs, and figures.
Every finished result is also a row in an SQLite index (default `~/.jaxplaus/index.sqlite`, or
`$JAXPLAUS_HOME/index.sqlite`) so runs can be listed and compared with `jaxplaus runs`.

- Writes are atomic (temporary file + rename), so a kill or a full disk never leaves a torn file.
- A run finishes in `finish`: its index rows replace any rows of the same run directory, then
  `results.json` (the finish marker) is written. A kill in between leaves rows of a run that a
  `--resume` completes and indexes again, never twice; `reindex` rebuilds the index from the
  run directories (`JOBS` names the module whose `index_rows` reads each kind's files).
- Checkpoints hold only data: one `.npz` of arrays plus a JSON outline of the containers around
  them (dicts, lists, tuples, and the named tuples and dataclasses of jaxplaus and evosax, which
  are rebuilt by name from their fields). Loading one runs no code from the file.
- A damaged file (config, checkpoint, index) is a UsageError naming it and what to do.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
import sqlite3
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from jaxplaus.errors import UsageError

CONFIG = "config.json"
RESULTS = "results.json"
CHECKPOINT = "checkpoint.npz"
OLD_CHECKPOINT = "checkpoint.pkl"  # a pickle, written by jaxplaus before data-only checkpoints: never loaded

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
COLUMNS = tuple(name for name, _ in _COLUMNS)  # the index's column names


RUNS = Path("runs")  # where every command puts its run directories by default (in the working directory)


def default_run_dir(name: str) -> Path:
    """`runs/<name>-<date>-<time>`: the default run directory of every command."""
    return RUNS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def home() -> Path:
    return Path(os.environ.get("JAXPLAUS_HOME", Path.home() / ".jaxplaus"))


def index_path() -> Path:
    return home() / "index.sqlite"


class DamagedIndex(UsageError):
    """The index file cannot be read as an index."""


def _damaged_index(path: Path, err: Exception) -> DamagedIndex:
    return DamagedIndex(f"the run index {path} is damaged ({err}); `reindex` rebuilds it from the run "
                        "directories, moving the damaged file aside")


def _connect(path: Path | None = None) -> sqlite3.Connection:
    path = path or index_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path)
        columns = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS)
        connection.execute(f"CREATE TABLE IF NOT EXISTS results (id INTEGER PRIMARY KEY, {columns})")
        connection.execute("SELECT count(*) FROM results").fetchone()
    except sqlite3.DatabaseError as err:
        raise _damaged_index(path, err) from None
    except OSError as err:
        raise UsageError(f"cannot open the run index {path}: {err.strerror or err}") from None
    return connection


def check_index() -> None:
    """Raise a UsageError now, before a run does its work, if the index cannot take its rows."""
    _connect().close()


def _insert(connection, rows: list[dict]) -> None:
    for row in rows:
        row = dict(row)
        extra = {k: row.pop(k) for k in list(row) if k not in COLUMNS}
        row.setdefault("created", time.time())
        if extra:
            row["extra"] = json.dumps(extra, default=to_jsonable)
        keys = list(row)
        connection.execute(
            f"INSERT INTO results ({', '.join(keys)}) VALUES ({', '.join('?' * len(keys))})",
            [to_jsonable(row[k]) if isinstance(row[k], np.generic) else row[k] for k in keys],
        )


def index_results(rows: list[dict]) -> None:
    """Add result rows (keys from the index's columns; others go into `extra`). The rows of a
    run directory replace the ones it already has (one transaction), so indexing a run again
    never doubles it."""
    path = index_path()
    try:
        with _connect(path) as connection:
            for run_dir in {row["run_dir"] for row in rows if row.get("run_dir")}:
                connection.execute("DELETE FROM results WHERE run_dir = ?", (run_dir,))
            _insert(connection, rows)
    except sqlite3.DatabaseError as err:
        raise _damaged_index(path, err) from None


# The module of each kind of job: its `index_rows(run_dir, results)` makes the kind's index rows
# from a finished run directory (imported when needed: `runs --reindex` reads every kind)
JOBS = {"assess": "jaxplaus.assess", "sweep": "jaxplaus.sweep.job", "bench": "jaxplaus.bench.samplers",
        "metalearn": "jaxplaus.plasticity.experiment", "baseline": "jaxplaus.adapters.optuna_baseline"}


def index_rows(kind: str, out: Path, results: dict) -> list[dict]:
    return importlib.import_module(JOBS[kind]).index_rows(Path(out), results)


def finish(out: Path, kind: str, results: dict) -> None:
    """Finish a run: its index rows (its job's `index_rows`), then `results.json` with its
    kind, then the checkpoint goes. Killed at any point, the run is either unfinished (a resume
    completes it) or finished and indexed once."""
    out = Path(out)
    results = {"kind": kind, **results}
    if "provenance" not in results:  # (setdefault would run git even when the job recorded it)
        results["provenance"] = provenance()
    index_results(index_rows(kind, out, results))
    write_json(out / RESULTS, results)  # last: its presence marks the run finished
    (out / CHECKPOINT).unlink(missing_ok=True)


def kind_of(results: dict) -> str | None:
    """A results document's kind (assessments and meta-learning runs stored before `finish`
    lack the key: told by their own keys)."""
    if results.get("kind"):
        return results["kind"]
    if "search_phases" in results or "ladder_dt_ms" in results:
        return "assess"
    if "final_rule" in results:
        return "metalearn"
    return None


def reindex(roots: list[Path]) -> dict:
    """Rebuild the index: the rows of every finished run under `roots` (and of the run
    directories the index already names) replace theirs, and rows of runs no longer on disk go.
    A damaged index is moved aside first (named in the returned summary)."""
    path = index_path()
    moved = None
    known: set[Path] = set()
    try:
        with _connect(path) as connection:
            known = {Path(r[0]) for r in connection.execute("SELECT DISTINCT run_dir FROM results") if r[0]}
    except DamagedIndex:
        moved = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        os.replace(path, moved)
    found = {p.parent.resolve() for root in roots for p in Path(root).rglob(RESULTS)} if roots else set()
    rows, skipped = [], []
    for run_dir in sorted(found | {d for d in known if (d / RESULTS).exists()}):
        try:
            results = load_json(run_dir / RESULTS)
        except UsageError as err:
            skipped.append(f"{run_dir}: {err}")
            continue
        kind = kind_of(results)
        if kind not in JOBS:
            skipped.append(f"{run_dir}: not a result of a known kind of job")
            continue
        try:
            created = (run_dir / RESULTS).stat().st_mtime  # when the run finished
            rows += [{"created": created, **row} for row in index_rows(kind, run_dir, results)]
        except (KeyError, TypeError, ValueError, OSError, UsageError) as err:
            skipped.append(f"{run_dir}: {type(err).__name__}: {err}")
    with _connect(path) as connection:
        connection.execute("DELETE FROM results")
        _insert(connection, rows)
    return {"index": str(path), "runs": len({r["run_dir"] for r in rows}), "rows": len(rows),
            "damaged_index_moved_to": str(moved) if moved else None, "skipped": skipped}


def run_id(run_dir: str) -> str:
    """A run's short id: 8 hex digits of its directory's path (the same after a reindex)."""
    return hashlib.sha1(str(run_dir).encode()).hexdigest()[:8]


def summarize_runs(rows: list[dict]) -> list[dict]:
    """One summary per run of index rows (in the rows' order): its settings, how many patterns
    it judged, passed and passed physiologically (None when its kind has no such answer)."""
    runs: dict[str, dict] = {}
    for row in rows:
        extra = json.loads(row["extra"]) if row.get("extra") else {}
        run = runs.setdefault(row["run_dir"], {
            "run": run_id(row["run_dir"]), "kind": row["kind"], "model": row["model"], "strategy": row["strategy"],
            "seed": row["seed"], "budget": row["budget"], "bounds": extra.get("bounds"), "patterns": 0, "passed": 0,
            "physiological": None, "finished": time.strftime("%Y-%m-%d %H:%M", time.localtime(row["created"] or 0)),
            "run_dir": row["run_dir"]})
        run["patterns"] += 1
        run["passed"] += int(row["passed"] or 0)
        if extra.get("physiological") is not None:
            run["physiological"] = (run["physiological"] or 0) + int(extra["physiological"])
    return list(runs.values())


def query_results(**equal) -> list[dict]:
    """Rows of the index whose columns equal the given values, oldest first."""
    unknown = set(equal) - set(COLUMNS)
    if unknown:
        raise UsageError(f"unknown run-index column(s): {', '.join(sorted(unknown))}")
    where = " AND ".join(f"{k} = ?" for k in equal) or "1"
    path = index_path()
    try:
        with _connect(path) as connection:
            connection.row_factory = sqlite3.Row
            cursor = connection.execute(f"SELECT * FROM results WHERE {where} ORDER BY id", list(equal.values()))
            return [dict(row) for row in cursor.fetchall()]
    except sqlite3.DatabaseError as err:
        raise _damaged_index(path, err) from None


def to_jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_atomic(path: Path, write: Callable) -> None:
    """Write a file through `write(temporary path)`, then rename it into place: a kill or a full
    disk leaves the old file (or none), never a torn one; the temporary file does not stay."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(text))


def write_npz(path: Path, arrays: dict, compressed: bool = True) -> None:
    """Atomically write arrays as an .npz (compressed unless told otherwise)."""
    def write(tmp):
        with open(tmp, "wb") as handle:
            (np.savez_compressed if compressed else np.savez)(handle, **arrays)
    write_atomic(path, write)


def save_figure(fig, path: Path, **options) -> None:
    """Atomically save a matplotlib figure (its format from the path's suffix)."""
    path = Path(path)
    write_atomic(path, lambda tmp: fig.savefig(tmp, format=path.suffix.lstrip("."), **options))


def write_json(path: Path, document) -> None:
    """Atomically write a JSON document."""
    write_text(path, json.dumps(document, indent=2, default=to_jsonable, allow_nan=False))


def read_json(path: Path):
    return json.loads(Path(path).read_text())


def load_json(path: Path):
    """A JSON document of a run directory, or a UsageError naming the file when it is damaged."""
    try:
        return read_json(path)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UsageError(f"{path} is damaged (not JSON: {err}); restore or remove it") from None
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror or err}") from None


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
    continued with `resume=True`, and only if its config matches. Resuming a run directory that
    exists without its config (killed while starting) starts the run; one that does not exist
    is an error (a mistyped path must not start a run).
    """
    out = Path(out)
    check_writable_parent(out)
    check_index()  # a damaged index fails now, not after the run's work
    if (out / RESULTS).exists():
        raise UsageError(f"{out} already holds a finished run; choose another --out")
    if (out / CONFIG).exists():
        if not resume:
            raise UsageError(f"{out} holds an unfinished run; pass --resume to continue it")
        _check_same_config(out, config)
        if (out / OLD_CHECKPOINT).exists():
            raise UsageError(f"{out / OLD_CHECKPOINT} is a pickle checkpoint of an older jaxplaus, which is never loaded "
                             "(it could run code); start the run again in a new directory")
        return (out / CHECKPOINT).exists()
    if resume and not out.exists():
        raise UsageError(f"nothing to resume in {out}: no such directory")
    # (a temporary file of ours is what a kill during the first write leaves)
    if out.exists() and any(not (p.name.startswith(".") and p.name.endswith(".tmp")) for p in out.iterdir()):
        raise UsageError(f"{out} exists and is not a jaxplaus run directory")
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / CONFIG, config)
    return False


# ---------------------------------------------------------------------- checkpoints

CHECKPOINT_FORMAT = "jaxplaus-checkpoint"
CHECKPOINT_VERSION = 1
_REBUILT_FROM = ("jaxplaus.", "evosax.")  # the only packages whose classes a checkpoint names


def _outline(value, arrays: list):
    """A JSON outline of `value`, its arrays appended to `arrays` (named by position)."""
    if isinstance(value, (np.ndarray, np.generic)) or type(value).__module__.split(".")[0] in ("jax", "jaxlib"):
        arrays.append(np.asarray(value))
        return {"__array__": len(arrays) - 1}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("a checkpoint's dicts have string keys")
        return {"__dict__": {k: _outline(v, arrays) for k, v in value.items()}}
    if isinstance(value, tuple) and hasattr(value, "_fields") or dataclasses.is_dataclass(value):
        cls = type(value)
        if not cls.__module__.startswith(_REBUILT_FROM):
            raise TypeError(f"a checkpoint does not hold {cls.__module__}.{cls.__qualname__}")
        fields = value._asdict() if hasattr(value, "_fields") else \
            {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return {"__class__": f"{cls.__module__}:{cls.__qualname__}",
                "fields": {k: _outline(v, arrays) for k, v in fields.items()}}
    if isinstance(value, tuple):
        return {"__tuple__": [_outline(v, arrays) for v in value]}
    if isinstance(value, list):
        return [_outline(v, arrays) for v in value]
    raise TypeError(f"a checkpoint does not hold {type(value).__name__}")


def _rebuild(outline, arrays):
    if isinstance(outline, list):
        return [_rebuild(v, arrays) for v in outline]
    if not isinstance(outline, dict):
        return outline
    if "__array__" in outline:
        return arrays[f"a{outline['__array__']}"]
    if "__dict__" in outline:
        return {k: _rebuild(v, arrays) for k, v in outline["__dict__"].items()}
    if "__tuple__" in outline:
        return tuple(_rebuild(v, arrays) for v in outline["__tuple__"])
    if "__class__" in outline:
        module, _, name = outline["__class__"].partition(":")
        if not module.startswith(_REBUILT_FROM):
            raise ValueError(f"names a class outside jaxplaus and evosax: {module}")
        cls = importlib.import_module(module)
        for part in name.split("."):
            cls = getattr(cls, part)
        if not (isinstance(cls, type) and (issubclass(cls, tuple) and hasattr(cls, "_fields")
                                            or dataclasses.is_dataclass(cls))):
            raise ValueError(f"names {outline['__class__']}, not a named tuple or dataclass")
        return cls(**{k: _rebuild(v, arrays) for k, v in outline["fields"].items()})
    raise ValueError("an unknown entry in its outline")


def _check_same_config(out: Path, config: dict) -> None:
    saved, wanted = load_json(out / CONFIG), json.loads(json.dumps(config, default=to_jsonable))
    if not isinstance(saved, dict):
        raise UsageError(f"{out / CONFIG} is damaged (not a configuration); restore it, or start a new run")
    if saved != wanted:
        differing = sorted(k for k in set(saved) | set(wanted) if saved.get(k, "<absent>") != wanted.get(k, "<absent>"))
        raise UsageError(f"{out} was started with a different configuration (differs in: {', '.join(differing)}); "
                         "cannot resume")


def resume_finished(out: Path, config: dict, kind: str) -> dict | None:
    """Resuming a run that has already finished (killed after writing results.json, before
    its checkpoint went): its stored results, indexed again (its rows replace any it has) and
    the checkpoint removed; None when `out` holds no finished run."""
    out = Path(out)
    if not (out / RESULTS).exists():
        return None
    if (out / CONFIG).exists():
        _check_same_config(out, config)
    results = load_json(out / RESULTS)
    index_results(index_rows(kind, out, results))
    (out / CHECKPOINT).unlink(missing_ok=True)
    return results


def provenance() -> dict:
    """What produced a result: versions (jaxplaus, its git commit when run from a checkout, jax,
    jaxlib, evosax, Python), the backend and devices, the platform and the command line."""
    import platform
    import subprocess
    import sys
    from importlib import metadata

    def version(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    source = Path(__file__).resolve().parent.parent
    commit = None
    if (source / ".git").exists():
        try:
            head = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True,
                                  timeout=5)
            dirty = subprocess.run(["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True, timeout=5)
            if head.returncode == 0:
                commit = head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
        except (OSError, subprocess.SubprocessError):
            pass
    out = {"jaxplaus": version("jaxplaus"), "git_commit": commit, "jax": version("jax"),
           "jaxlib": version("jaxlib"), "evosax": version("evosax"), "python": platform.python_version(),
           "platform": platform.platform(), "command": [Path(sys.argv[0]).name] + sys.argv[1:]}
    if "jax" in sys.modules:  # a job's process: its backend and devices (never start jax for this)
        import jax

        out["backend"] = jax.default_backend()
        out["devices"] = [d.device_kind for d in jax.devices()]
    return out


def save_checkpoint(out: Path, state) -> None:
    """Atomically write a checkpoint: a pytree of arrays in dicts, lists, tuples, and named tuples
    or dataclasses of jaxplaus and evosax, with plain Python values (see the module's doc)."""
    arrays: list = []
    outline = _outline(state, arrays)
    header = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "outline": outline}
    write_npz(Path(out) / CHECKPOINT, {"__outline__": np.asarray(json.dumps(header)),
                                       **{f"a{i}": a for i, a in enumerate(arrays)}}, compressed=False)


def load_checkpoint(out: Path):
    """The checkpoint of a run directory; a UsageError naming the file when it is damaged."""
    path = Path(out) / CHECKPOINT
    advice = "delete it and resume to start this run's search over, or start a new run"
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["__outline__"][()]))
            if header.get("format") != CHECKPOINT_FORMAT or header.get("version") != CHECKPOINT_VERSION:
                raise ValueError(f"not a version-{CHECKPOINT_VERSION} jaxplaus checkpoint")
            arrays = {k: data[k] for k in data.files if k != "__outline__"}
        return _rebuild(header["outline"], arrays)
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError, ImportError, zipfile.BadZipFile,
            json.JSONDecodeError) as err:
        raise UsageError(f"{path} is damaged ({type(err).__name__}: {err}); {advice}") from None
