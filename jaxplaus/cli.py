"""`jaxplaus` command line. Each sub-command lives in `jaxplaus.commands.<name>` and exposes
`register(subparsers)`; handlers return a JSON-able document (printed with --json) or None."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

from jaxplaus.errors import UsageError

# Sub-command modules, in the order `--help` lists them.
COMMAND_MODULES = (
    "models",
    "patterns",
    "simulate",
    "classify",
    "reference",
)
COMMAND_MODULES += ("assess", "runs", "compare")
OPTIONAL_COMMAND_MODULES = ("crosscheck", "baseline", "bench", "sweep", "metalearn")


class _HelpFormatter(argparse.HelpFormatter):
    """Help that ends each option's text with its default, unless it has none (None, False) or
    the text already says it."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if (not action.option_strings or default is None or default is False or default == []
                or default == argparse.SUPPRESS or "default" in text):
            return text
        return f"{text} (default: %(default)s)" if text else "default: %(default)s"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2, and shows defaults."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def add_argument(self, *args, **kwargs):
        # an option without a help text still shows its default (argparse skips empty help)
        default = kwargs.get("default")
        if not kwargs.get("help") and default is not None and default is not False and default != [] \
                and kwargs.get("action") not in ("store_true", "store_false", "help", "version"):
            kwargs["help"] = "default: %(default)s"
        return super().add_argument(*args, **kwargs)

    def error(self, message):  # noqa: D401 - argparse hook
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="jaxplaus",
        description="JAX-accelerated evolutionary assessment of spiking neuron models.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMAND_MODULES + OPTIONAL_COMMAND_MODULES:
        try:
            module = importlib.import_module(f"jaxplaus.commands.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"jaxplaus.commands.{name}" and name in OPTIONAL_COMMAND_MODULES:
                continue  # that command is not part of this build yet
            raise
        module.register(sub)
    return parser


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def json_argument(text: str | None, what: str):
    """Parse a JSON command-line argument; malformed JSON is a usage error."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise UsageError(f"{what} is not valid JSON ({err.msg} at column {err.colno}): {text!r}") from None


def positive_float(text: str) -> float:
    """argparse type for durations and steps."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive, finite number, got {text}")
    return value


def emit(document, as_json: bool, text: str | None = None) -> None:
    """Print the command's result: JSON on stdout, or a human-readable text."""
    if as_json:
        json.dump(document, sys.stdout, indent=None, allow_nan=False, default=_jsonable)
        sys.stdout.write("\n")
    else:
        print(text if text is not None else json.dumps(document, indent=2, default=_jsonable))


def _jsonable(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _enable_compilation_cache() -> None:
    """Reuse compiled XLA programs across runs (the second assessment of a model starts at once)."""
    import jax

    from jaxplaus.store import home

    jax.config.update("jax_compilation_cache_dir", str(home() / "jax-cache"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)


def _join_if_distributed(argv) -> None:
    """`--distributed` joins the multi-host job first of all: jax.distributed must start before
    anything starts jax's backend, and the commands' modules do (evosax, when imported)."""
    if "--distributed" in argv:
        from jaxplaus.sharding import initialize_distributed

        initialize_distributed()
        # the collectives' native library prints its connection log on file descriptor 1 when the
        # backend starts: it goes to stderr, and the command's own output to the real stdout (a
        # --json document stays one)
        sys.stdout.flush()
        stdout = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = os.fdopen(stdout, "w", buffering=1)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        _join_if_distributed(argv)
        _enable_compilation_cache()
        args = build_parser().parse_args(argv)
        document = args.handler(args)
        if document is not None:
            render = getattr(args, "render", None)
            as_json = getattr(args, "json", False)
            emit(document, as_json, None if as_json or render is None else render(document))
            sys.stdout.flush()  # a closed pipe shows here, not at the interpreter's exit
        return 0
    except BrokenPipeError:
        # the reader has gone (`jaxplaus runs --json | head`): the work is done and stored, and
        # nothing more can be said on stdout; stdout goes to devnull so the exit flush is quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except UsageError as err:
        from jaxplaus.store import DamagedIndex

        hint = " (`jaxplaus runs --reindex [DIR ...]`)" if isinstance(err, DamagedIndex) else ""
        print(f"jaxplaus: error: {err}{hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("jaxplaus: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
