"""The ``discovery`` command line.

Every command takes ``--json`` (then prints exactly one JSON object on stdout) and exits with
status 2 and a one-line message on bad input.

Building the command line is cheap: the command modules import what they need (the engines,
numba, cvxpy, matplotlib, the store, rich tables) inside the commands, so ``discovery verify``
starts about as fast as its maths libraries import (``scripts/bench/startup.py``).
"""

from __future__ import annotations

import sys

import typer

from discovery.commands._common import (
    OneLineErrorsGroup,
    emit_json,
    to_jsonable,
    user_errors,
)
from discovery.commands.blind_delta import blind_delta_app, search_blind_delta_command
from discovery.commands.cmf import cmf_app, cmf_search_command
from discovery.commands.db import db_app
from discovery.commands.esma import esma_command
from discovery.commands.evolve import baseline_command, check_float32_command, evolve_command
from discovery.commands.packing import packing_app, sdp_game_command
from discovery.commands.run import run_command
from discovery.commands.verify import verify_command
from solvers.errors import DiscoveryError

app = typer.Typer(
    name="discovery",
    help="Math discovery workbench: search for formulas, verify them, query the conjecture store.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=OneLineErrorsGroup,  # usage errors, DiscoveryError: one line, or one JSON object
)
constants_app = typer.Typer(help="The constants catalogue.", no_args_is_help=True)
search_app = typer.Typer(help="Run a search engine (results are verified).", no_args_is_help=True)
app.add_typer(constants_app, name="constants")
app.add_typer(search_app, name="search")
search_app.command("esma")(esma_command)
app.add_typer(db_app, name="db")
app.add_typer(cmf_app, name="cmf")
search_app.command("cmf")(cmf_search_command)
app.add_typer(packing_app, name="packing")
search_app.command("sdp-game")(sdp_game_command)
search_app.command("evolve")(evolve_command)
search_app.command("blind-delta")(search_blind_delta_command)
app.add_typer(blind_delta_app, name="blind-delta")
app.command("baseline")(baseline_command)
app.command("check-float32")(check_float32_command)
app.command("run")(run_command)
app.command("verify")(verify_command)

JSON = typer.Option(False, "--json", help="Print one JSON object on stdout.")


def _pcf(a: str, b: str):
    from solvers.continued_fractions import PCF

    return PCF.from_text(a, b)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.5f}"


@app.command()
def identify(
    a: str | None = typer.Option(None, "--a", help="a(n) of a PCF to identify"),
    b: str | None = typer.Option(None, "--b", help="b(n) of a PCF to identify"),
    value: str | None = typer.Option(None, "--value", help="or a decimal number to identify"),
    basis: str | None = typer.Option(None, "--basis",
                                 help="comma-separated constants or expressions, "
                                 "e.g. zeta3,besseli(1,2)"),
    digits: int = typer.Option(100, "--digits", min=10, max=100_000),
    json_: bool = JSON,
) -> None:
    """Find a closed form (Möbius or small integer relation) for a PCF limit or a number."""
    from discovery.identification import identify as run_identify
    from discovery.identification_inputs import read_decimal
    from discovery.progress import command_progress
    from discovery.text import split_top_level

    with user_errors(), command_progress("identify", enabled=not json_) as progress:
        names = split_top_level(basis) if basis else None
        if value is not None:  # an integer (no point, no exponent) is identified as itself
            try:
                x, available = read_decimal(value)
            except DiscoveryError as err:
                raise DiscoveryError(f"--value: {err}") from None
            available = min(available, digits) if digits else available
            subject: dict = {"value": value}
        elif a is not None and b is not None:
            pcf = _pcf(a, b)
            x, available = _pcf_value(pcf, digits, progress)
            subject = {"formula": {"a": pcf.a_text, "b": pcf.b_text}}
        else:
            raise ValueError("give --a and --b, or --value")
        result = run_identify(x, available, basis=names, progress=progress)
    out = {**subject, **to_jsonable(result)}
    if json_:
        emit_json(out)
        return
    if result.found:
        typer.echo(f"{typer.style('found', fg='green', bold=True)} {result.relation}  "
                   f"({result.outcome})")
    else:
        typer.echo(f"{typer.style('no relation', fg='yellow')} ({result.outcome})")
    if result.found:
        typer.echo(f"  digits used by the relation {result.digits_used:.1f} of "
                   f"{result.digits_available:g} known; confidence {result.confidence:.2f}")
    else:
        typer.echo(f"  searched with the {result.digits_available:g} digits known")


def _pcf_value(pcf, digits: int, progress=None):
    """The PCF's limit to ``digits`` digits (depth from its measured rate)."""
    from discovery.verification import _plan_depth
    from solvers.continued_fractions import limit_from_convergents

    depth, m, rate, *_ = _plan_depth(pcf, digits + 10, 200_000, progress)
    if progress is not None:
        progress("the limit from the convergents", detail=f"depth {depth}")
    lim = limit_from_convergents(m, depth)
    available = min(lim.digits, digits)
    if available < 10:
        raise DiscoveryError(
            f"{pcf!r} converges too slowly: only {lim.digits} digits at depth {depth}"
        )
    return lim.value, available


@constants_app.command("list")
def constants_list(json_: bool = JSON) -> None:
    """List the catalogue's constants."""
    from solvers.constants import CONSTANTS

    rows = [
        {"name": c.name, "aliases": list(c.aliases), "latex": c.latex, "description": c.description}
        for c in CONSTANTS.values()
    ]
    if json_:
        emit_json({"constants": rows})
        return
    from discovery.commands._rich import Console, Table

    table = Table(title=f"{len(rows)} constants")
    for col in ("name", "aliases", "latex", "description"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["name"], ", ".join(r["aliases"]), r["latex"], r["description"])
    Console().print(table)


@constants_app.command("show")
def constants_show(
    name: str = typer.Argument(..., help="a constant's name or alias"),
    digits: int = typer.Option(50, "--digits", min=1, max=1_000_000),
    json_: bool = JSON,
) -> None:
    """Evaluate a constant to DIGITS digits (slow constants have lower caps)."""
    import mpmath

    from discovery.progress import command_progress
    from solvers.constants import get_constant

    with user_errors(), command_progress("constants show", enabled=not json_) as progress:
        c = get_constant(name)
        if digits > c.max_digits:
            raise DiscoveryError(f"{c.name} is computed to at most {c.max_digits} digits (its "
                                 f"evaluation is slow beyond): --digits {digits} is above")
        progress.stage(f"evaluating {c.name} to {digits + 5} digits")
        v = c.evaluate(digits + 5)
    text = mpmath.nstr(v, digits, strip_zeros=False)
    if json_:
        emit_json({"name": c.name, "latex": c.latex, "digits": digits, "value": text})
        return
    typer.echo(f"{c.name} ({c.latex}) = {text}")


@app.command()
def famous(
    digits: int = typer.Option(100, "--digits", min=10, max=10_000),
    json_: bool = JSON,
) -> None:
    """Verify and identify a handful of famous continued fractions (a quick showcase)."""
    from discovery.identification import identify as run_identify
    from discovery.verification import verify as run_verify

    famous = [
        ("Apéry ζ(3)", "34n^3+51n^2+27n+5", "-n^6", "6/zeta(3)"),
        ("Apéry ζ(2)", "11n^2+11n+3", "n^4", "5/zeta(2)"),
        ("Euler e", "n+3", "-n", "e"),
        ("Lambert 4/π", "2n+1", "n^2", "4/pi"),
        ("ln 2", "6n+3", "-n^2", "2/log(2)"),
        ("Catalan", "3n^2+3n+1", "-2n^4", "1/(2*catalan)"),
    ]
    from discovery.progress import command_progress

    rows = []
    with user_errors(), command_progress("famous", enabled=not json_) as progress:
        for i, (name, a, b, claim) in enumerate(famous):
            step = progress.nested(name, done=i, total=len(famous))
            pcf = _pcf(a, b)
            ev = run_verify(pcf, claim, digits, progress=step)
            x, avail = _pcf_value(pcf, min(digits, 60), step)
            ident = run_identify(x, avail, basis=None, progress=step)
            rows.append(
                {
                    "name": name,
                    "a": pcf.a_text,
                    "b": pcf.b_text,
                    "claim": ev.claim,
                    "verdict": ev.verdict,
                    "digits": ev.digits,
                    "depth": ev.depth,
                    "digits_per_term": round(ev.digits_per_term, 4),
                    "delta": ev.delta,
                    "identified": ident.relation if ident.found else None,
                }
            )
    if json_:
        emit_json({"results": rows})
        return
    from discovery.commands._rich import Console, Table

    table = Table(title="Famous continued fractions, verified and identified")
    for col in ("name", "a(n)", "b(n)", "claim", "verdict", "digits", "depth", "d/term", "δ",
                "identified"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["name"], r["a"], r["b"], r["claim"], r["verdict"], str(r["digits"]),
            str(r["depth"]), f"{r['digits_per_term']:.3f}", _fmt(r["delta"]),
            r["identified"] or "-",
        )
    Console().print(table)


def main() -> None:
    """Console-script entry point: lifts the int<->str digit limit and runs the app.

    The app's group (:class:`OneLineErrorsGroup`) turns usage errors and uncaught
    ``DiscoveryError`` into exit status 2 with one line on stderr, or with ``--json`` one
    JSON object ``{"error": ..., "status": 2}`` on stdout.
    """
    sys.set_int_max_str_digits(0)
    app()


if __name__ == "__main__":
    main()
