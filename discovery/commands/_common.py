"""Helpers every CLI command shares: JSON output and one-line errors with exit status 2."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer

from solvers.errors import DiscoveryError

__all__ = ["emit_json", "fail", "user_errors", "to_jsonable"]


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


def fail(message: str) -> NoReturn:
    """Print a one-line error on stderr and exit with status 2."""
    first_line = " ".join(str(message).split())
    typer.echo(f"error: {first_line}", err=True)
    raise typer.Exit(code=2)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the workbench's own errors (bad input, unknown names, ...) into exit status 2."""
    try:
        yield
    except (DiscoveryError, ValueError, KeyError, FileNotFoundError, IsADirectoryError) as exc:
        fail(str(exc) or type(exc).__name__)
