"""Helpers every CLI command shares: JSON output and one-line errors with exit status 2."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
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
    codes behave as usual.
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
    finally:
        _RUNNING.reset(tokens[1])
        _JSON_ARGV.reset(tokens[0])
    code = rv if isinstance(rv, int) and not isinstance(rv, bool) else 0
    sys.exit(code)


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
