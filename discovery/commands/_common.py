"""Helpers every CLI command shares: JSON output and one-line errors with exit status 2."""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

from solvers.errors import DiscoveryError

try:  # typer >= 0.22 ships its own copy of click
    from typer._click.exceptions import ClickException
    from typer._click.globals import get_current_context
except ImportError:  # pragma: no cover - older typer: the click package
    from click import get_current_context
    from click.exceptions import ClickException

__all__ = [
    "emit_json",
    "fail",
    "user_errors",
    "to_jsonable",
    "json_requested",
    "report_error",
    "cli_main",
    "OneLineErrorsGroup",
    "OneLineErrorsCommand",
]

# "--json" among the command-line arguments of the command line being run by cli_main
# (the fallback of json_requested() where no click context knows better).
_JSON_ARGV: ContextVar[bool] = ContextVar("discovery_json_argv", default=False)
_RUNNING: ContextVar[bool] = ContextVar("discovery_cli_running", default=False)
_SUCCESS = object()  # what a OneLineErrors group's invoke returns under cli_main


def to_jsonable(obj: Any) -> Any:
    """Convert mpmath/gmpy2/flint numbers and dataclasses into JSON-able values."""
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if hasattr(obj, "to_dict"):
            return to_jsonable(obj.to_dict())
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    if obj is None or isinstance(obj, (bool, str, float)):
        return obj
    if isinstance(obj, int):
        # Exact, but JSON readers choke on huge numbers: keep them as text (hex-free, exact).
        if abs(obj).bit_length() > 60:
            return _big_int_text(obj)
        return obj
    typename = type(obj).__name__
    if typename == "mpz":
        return to_jsonable(int(obj))
    if typename in ("mpf", "mpfr"):
        return str(obj)
    return str(obj)


def _big_int_text(n: int) -> str:
    import gmpy2

    return gmpy2.mpz(n).digits(10)


def emit_json(obj: Any) -> None:
    """Print exactly one JSON object on stdout."""
    sys.stdout.write(json.dumps(to_jsonable(obj), sort_keys=False) + "\n")
    sys.stdout.flush()


def json_requested() -> bool:
    """True if the command being run was given ``--json`` on its command line.

    Asks the current click context first (so it also works under ``CliRunner`` and for
    ``db export``, whose ``--json`` defaults to true: only an explicit ``--json`` counts),
    else whether ``--json`` is among the arguments :func:`cli_main` is running.
    """
    ctx = get_current_context(silent=True)
    if ctx is not None:
        for param in ctx.command.params:
            if "--json" in (getattr(param, "opts", None) or ()) and param.name in ctx.params:
                source = ctx.get_parameter_source(param.name)
                return bool(ctx.params[param.name]) and getattr(source, "name", "") == "COMMANDLINE"
    return _JSON_ARGV.get()


def _one_line(message: Any) -> str:
    return " ".join(str(message).split()) or "error"


def report_error(message: Any, status: int = 2, *, json_mode: bool | None = None) -> None:
    """Print one error: ``{"error": ..., "status": ...}`` on stdout in JSON mode, else
    ``error: ...`` on stderr (one line either way)."""
    text = _one_line(message)
    if json_requested() if json_mode is None else json_mode:
        emit_json({"error": text, "status": status})
    else:
        sys.stderr.write(f"error: {text}\n")
        sys.stderr.flush()


def fail(message: str) -> NoReturn:
    """Report a one-line error (a JSON object on stdout under ``--json``, else a line on
    stderr) and exit with status 2."""
    report_error(message, 2)
    raise typer.Exit(code=2)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the workbench's own errors (bad input, unknown names, ...) into exit status 2."""
    try:
        yield
    except (DiscoveryError, ValueError, KeyError, FileNotFoundError, IsADirectoryError) as exc:
        fail(str(exc) or type(exc).__name__)


def _wants_json(args: Sequence[str]) -> bool:
    args = list(args)
    return "--json" in (args[: args.index("--")] if "--" in args else args)


def cli_main(
    call: Callable[[list[str]], Any] | TyperCommand | TyperGroup | typer.Typer,
    args: Sequence[str] | None = None,
    *,
    prog_name: str | None = None,
) -> NoReturn:
    """Run a command line with the workbench's error contract, then exit.

    ``call`` is a typer app or click command (run with ``standalone_mode=False``), or a
    function of the argument list that runs it so. Usage errors (unknown or missing
    option, value out of range, ...), :class:`DiscoveryError` and the commands' own
    :func:`fail` all end as ONE line, ``error: <message>`` on stderr, or with ``--json`` among
    the arguments as ONE JSON object ``{"error": <message>, "status": 2}`` on stdout; the
    exit status is 2. ``--help``, a group without arguments (its help) and ``typer.Exit``
    codes behave as usual. Any other exception is a bug: it ends as one line saying so, with
    exit status 1 (``DISCOVERY_TRACEBACK=1`` in the environment shows the traceback instead).
    """
    if isinstance(call, typer.Typer):
        call = typer.main.get_command(call)
    if not callable(getattr(call, "main", None)):
        run = call
    else:
        command = call

        def run(argv: list[str]) -> Any:
            return command.main(argv, prog_name, standalone_mode=False)

    argv = list(sys.argv[1:] if args is None else args)
    json_mode = _wants_json(argv)
    tokens = (_JSON_ARGV.set(json_mode), _RUNNING.set(True))
    try:
        rv = run(argv)
    except ClickException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help was asked for, in effect
            if exc.format_message().strip():
                exc.show()
            sys.exit(exc.exit_code)
        report_error(exc.format_message(), 2, json_mode=json_mode)
        sys.exit(2)
    except DiscoveryError as exc:  # anything a command did not already turn into exit 2
        report_error(str(exc) or type(exc).__name__, 2, json_mode=json_mode)
        sys.exit(2)
    except typer.Exit as exc:  # (click's main returns Exit codes; a bare function may raise)
        sys.exit(exc.exit_code)
    except typer.Abort:  # EOF at a prompt
        report_error("aborted", 1, json_mode=json_mode)
        sys.exit(1)
    except (KeyboardInterrupt, SystemExit):
        raise
    except MemoryError:
        report_error("out of memory: the input asks for more than this machine has", 1,
                     json_mode=json_mode)
        sys.exit(1)
    except Exception as exc:  # a bug: one line for the user (the traceback on request)
        if os.environ.get("DISCOVERY_TRACEBACK"):
            raise
        report_error(f"internal error ({type(exc).__name__}: {exc}); this is a bug: please "
                     "report it with the command line (DISCOVERY_TRACEBACK=1 shows the "
                     "traceback)", 1, json_mode=json_mode)
        sys.exit(1)
    finally:
        _RUNNING.reset(tokens[1])
        _JSON_ARGV.reset(tokens[0])
    code = rv if isinstance(rv, int) and not isinstance(rv, bool) else 0
    sys.exit(code)


# -- fast option coercion ------------------------------------------------------------------
#
# typer (>= 0.2x) coerces every option value through a pydantic TypeAdapter built on first
# use: importing pydantic and building the adapters costs ~0.1 s, as much as the whole
# verification of a small formula. The plain cases -- a str, an int or a float within its
# bounds, a Path, written the ordinary way -- are coerced here to the very values pydantic
# returns; anything else (a malformed or out-of-range value, an unusual annotation) goes to
# typer's own coercion, so error messages are typer's.

_INT = re.compile(r"-?[0-9]+", re.ASCII)
_FLOAT = re.compile(r"-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?", re.ASCII)


class _FastCoercion:
    """A typer runtime parameter (``coerce(value, param, ctx)``) for bool/str/int/float/Path."""

    __slots__ = ("kind", "descriptor", "_typer")

    def __init__(self, kind: str, descriptor: Any):
        self.kind = kind
        self.descriptor = descriptor
        self._typer: Any = None

    @classmethod
    def for_param(cls, param: Any) -> _FastCoercion | None:
        desc = getattr(param, "type_descriptor", None)
        info = getattr(desc, "parameter_info", None)
        if desc is None or info is None or not hasattr(param, "_runtime_param"):
            return None
        if getattr(desc, "file_annotation", None) is not None or param.multiple \
                or param.nargs != 1 or getattr(info, "parser", None) is not None \
                or getattr(info, "clamp", False):
            return None
        ann = desc.annotation
        if ann is str or ann is int or ann is float or ann is bool:
            return cls(ann.__name__, desc)
        if ann is Path and getattr(info, "path_type", None) is None:
            return cls("path", desc)
        return None

    def _fallback(self, value: Any, param: Any, ctx: Any) -> Any:
        if self._typer is None:
            from typer._coercion import build_runtime_param

            self._typer = build_runtime_param(self.descriptor)
        return self._typer.coerce(value, param=param, ctx=ctx)

    def _in_bounds(self, x: Any) -> bool:
        info = self.descriptor.parameter_info
        return (info.min is None or x >= info.min) and (info.max is None or x <= info.max)

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:
            return None
        kind = self.kind
        if kind == "bool":
            if isinstance(value, bool):
                return value
        elif kind == "str":
            if isinstance(value, str):
                return value
        elif kind == "int":
            if isinstance(value, str) and _INT.fullmatch(value):
                x = int(value)
            elif type(value) is int:
                x = value
            else:
                return self._fallback(value, param, ctx)
            if self._in_bounds(x):
                return x
        elif kind == "float":
            if isinstance(value, str) and _FLOAT.fullmatch(value):
                y = float(value)
            elif type(value) in (int, float):
                y = float(value)
            else:
                return self._fallback(value, param, ctx)
            if math.isfinite(y) and self._in_bounds(y):
                return y
        elif kind == "path" and (isinstance(value, Path) or (isinstance(value, str) and value)):
            from typer._param_types import coerce_cli_path

            return coerce_cli_path(value if isinstance(value, Path) else Path(value),
                                   self.descriptor.parameter_info, path_type=Path,
                                   param=param, ctx=ctx)
        return self._fallback(value, param, ctx)


def fast_coercion(command: Any) -> None:
    """Give every plain option of ``command`` (and of its subcommands) the fast coercion."""
    if getattr(command, "_discovery_fast_coercion", False):
        return
    try:
        from typer._coercion import build_runtime_param  # noqa: F401
        from typer._param_types import coerce_cli_path  # noqa: F401
    except ImportError:  # pragma: no cover - a typer without pydantic coercion
        return
    command._discovery_fast_coercion = True
    for param in getattr(command, "params", ()):
        _install(param)
    get_help_option = getattr(command, "get_help_option", None)
    if callable(get_help_option):  # --help is made on demand, and a typer option too

        def help_option(ctx: Any, _made: Callable[[Any], Any] = get_help_option) -> Any:
            option = _made(ctx)
            _install(option)
            return option

        command.get_help_option = help_option
    for sub in (getattr(command, "commands", None) or {}).values():
        fast_coercion(sub)


def _install(param: Any) -> None:
    if param is not None and getattr(param, "_runtime_param", True) is None:
        fast = _FastCoercion.for_param(param)
        if fast is not None:
            param._runtime_param = fast


class _OneLineErrors:
    """``main`` runs the command line through :func:`cli_main` (so ``app()``,
    ``CliRunner().invoke(app, ...)`` and ``python -m`` all keep the error contract)."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        fast_coercion(self)
        parent_main = super().main  # type: ignore[misc]
        if not standalone_mode:
            return parent_main(args, prog_name, complete_var, standalone_mode=False, **extra)
        cli_main(
            lambda argv: parent_main(argv, prog_name, complete_var, standalone_mode=False, **extra),
            args,
        )

    def invoke(self, ctx: Any) -> Any:
        rv = super().invoke(ctx)  # type: ignore[misc]
        # Under cli_main, success must not be mistaken for an exit code a command returned.
        return _SUCCESS if _RUNNING.get() else rv


class OneLineErrorsGroup(_OneLineErrors, TyperGroup):
    """A typer group with one-line / JSON errors: ``typer.Typer(cls=OneLineErrorsGroup)``."""


class OneLineErrorsCommand(_OneLineErrors, TyperCommand):
    """A typer command with one-line / JSON errors: ``app.command(cls=OneLineErrorsCommand)``."""
