"""``discovery cmf check|walk`` and ``discovery search cmf``: conservative matrix fields.

Wiring (in :mod:`discovery.cli`)::

    from discovery.commands.cmf import cmf_app, cmf_search_command
    app.add_typer(cmf_app, name="cmf")
    search_app.command("cmf")(cmf_search_command)
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import typer

from discovery.commands._common import emit_json, user_errors
from discovery.commands._rich import Console, Table
from discovery.commands._search import SearchOptions, search_options, search_session
from discovery.commands.run import print_result

__all__ = ["cmf_app", "cmf_search_command", "check_fields", "walk_report", "parse_vector",
           "parse_starts"]

cmf_app = typer.Typer(help="Conservative matrix fields: check, walk.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print one JSON object on stdout.")


# --------------------------------------------------------------------------- parsing helpers


def parse_vector(text: str, what: str = "vector") -> tuple[int, ...]:
    """``"1,1"`` or ``"(1, -2)"`` -> ``(1, 1)`` / ``(1, -2)`` (at most 16 numbers of at most
    12 digits)."""
    body = text.strip().strip("()[]")
    if body.count(",") > 15 or not re.fullmatch(r"\s*-?\d{1,12}(\s*,\s*-?\d{1,12})*\s*", body):
        raise ValueError(f"{what} must be comma-separated integers like 1,1; got {text!r}")
    return tuple(int(v) for v in body.split(","))


def parse_starts(text: str) -> list[int]:
    """``"0..3"`` -> ``[0, 3]`` (a box); ``"2"`` -> ``[2, 2]``."""
    m = re.fullmatch(r"\s*(-?\d{1,12})\s*(?:\.\.\s*(-?\d{1,12})\s*)?", text)
    if not m:
        raise ValueError(f"--starts must look like 0..3 (a box) or 2; got {text!r}")
    lo = int(m.group(1))
    hi = int(m.group(2)) if m.group(2) is not None else lo
    if lo > hi:
        raise ValueError(f"--starts: empty range {lo}..{hi}")
    return [lo, hi]


def _load_fields(file_or_name: str) -> list[tuple[str, Any, dict]]:
    """``[(name, CMF, entry)]`` from a JSON file (a catalogue or one entry) or a catalogue name."""
    from search.cmf import catalogue_cmf
    from solvers.cmf_constructions import cmf_from_spec

    p = Path(file_or_name)
    if p.suffix == ".json" or p.is_file():
        if not p.is_file():
            raise FileNotFoundError(f"no such file: {p}")
        try:
            data = json.loads(p.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{p} is not valid JSON: {exc}") from None
        if isinstance(data, dict) and isinstance(data.get("cmfs"), dict):
            items = list(data["cmfs"].items())
        elif isinstance(data, dict) and ("matrices" in data or "construction" in data):
            items = [(str(data.get("name") or p.stem), data)]
        else:
            raise ValueError(f"{p}: expected a CMF catalogue ({{'cmfs': ...}}) or one CMF entry")
        return [(name, cmf_from_spec(entry, name=name), entry) for name, entry in items]
    field, entry = catalogue_cmf(file_or_name)
    return [(file_or_name, field, entry)]


# --------------------------------------------------------------------------- check


def check_fields(file_or_name: str, limits: bool = False) -> dict:
    """Conservation (per pair of axes) of every field named, and optionally their stated limits."""
    from solvers.expr import evaluate_expression

    out = []
    for name, field, entry in _load_fields(file_or_name):
        t0 = time.perf_counter()
        pairs = field.conservation_defects()
        row: dict[str, Any] = {
            "name": name,
            "axes": list(field.axes),
            "rank": field.rank,
            "conserving": all(pairs.values()),
            "pairs": {f"{a},{b}": ok for (a, b), ok in pairs.items()},
            "constants": list(entry.get("constants", [])),
        }
        if limits:
            checked = []
            for lim in entry.get("limits", []):
                value = field.walk(lim["trajectory"], lim["start"]).limit(int(lim["depth"]))
                dps = min(value.digits, 1000) + 10
                expected = evaluate_expression(lim["limit"], dps)
                import mpmath

                ctx = mpmath.MPContext()
                ctx.dps = dps
                diff = abs(ctx.mpf(value.value) - expected)
                agreed = dps - 10 if diff == 0 else int(-ctx.log10(diff))
                checked.append({
                    "trajectory": lim["trajectory"], "start": lim["start"],
                    "limit": lim["limit"], "digits": min(agreed, value.digits),
                    "ok": min(agreed, value.digits) >= 100,
                })
            row["limits"] = checked
        row["seconds"] = round(time.perf_counter() - t0, 4)
        out.append(row)
    return {"cmfs": out, "all_conserving": all(r["conserving"] for r in out)}


@cmf_app.command("check")
def check(
    file_or_name: str = typer.Argument(..., help="a catalogue name (zeta3, ...) or a JSON file"),
    limits: bool = typer.Option(False, "--limits", help="also reproduce the stated limits"),
    json_: bool = JSON,
) -> None:
    """Check conservation M_i(x) M_j(x+e_i) = M_j(x) M_i(x+e_j) exactly (exit 1 if violated)."""
    with user_errors():
        result = check_fields(file_or_name, limits)
    bad = not result["all_conserving"] or any(
        not lim["ok"] for r in result["cmfs"] for lim in r.get("limits", [])
    )
    if json_:
        emit_json(result)
    else:
        table = Table(title="conservative matrix fields")
        for col in ("name", "axes", "rank", "conserving", "limits", "seconds"):
            table.add_column(col)
        for r in result["cmfs"]:
            lims = r.get("limits")
            lim_text = "-" if lims is None else f"{sum(x['ok'] for x in lims)}/{len(lims)} ok"
            ok = "[green]yes[/]" if r["conserving"] else "[red]NO[/] " + ", ".join(
                k for k, v in r["pairs"].items() if not v)
            table.add_row(r["name"], ",".join(r["axes"]), str(r["rank"]), ok, lim_text,
                          f"{r['seconds']:.3f}")
        Console().print(table)
    if bad:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- walk


#: The longest trajectory walked (L1 norm): the trajectory's matrix is the product of that
#: many steps, so its degree, and the cost of every convergent, grow with it.
MAX_TRAJECTORY_NORM = 100
#: Probe depth of the cost estimate of a deep walk.
_PROBE_DEPTH = 1000


def _check_walk_cost(walk: Any, depth: int, max_seconds: float) -> None:
    """Refuse a walk whose predicted time is over ``max_seconds``: a probe at a small depth
    is timed and scaled (a walk's convergents grow like depth log depth, their product
    trees a little faster)."""
    from solvers.errors import DiscoveryError

    if depth <= _PROBE_DEPTH:
        return
    t0 = time.perf_counter()
    walk.convergents(_PROBE_DEPTH)
    probe = max(time.perf_counter() - t0, 1e-4)
    scale = depth / _PROBE_DEPTH * math.log(depth) / math.log(_PROBE_DEPTH)
    predicted = probe * scale ** 1.2 * 1.5  # (measured: the report costs about one limit)
    if predicted > max_seconds:
        raise DiscoveryError(
            f"a depth-{depth} walk would take about {predicted:.3g} s, over the budget of "
            f"{max_seconds:g} s: lower --depth or raise --max-seconds")


def walk_report(name: str, trajectory: tuple[int, ...], start: tuple[int, ...], depth: int,
                digits: int = 100, max_seconds: float = 60.0) -> dict:
    """Walk a catalogue field and report the limit, its relation, the PCF and δ.

    Trajectories longer than :data:`MAX_TRAJECTORY_NORM` steps, and walks predicted to take
    more than ``max_seconds``, are refused with a :class:`~solvers.errors.DiscoveryError`.
    """
    import mpmath

    from search.cmf import catalogue_cmf
    from solvers.coboundary import mobius_text
    from solvers.errors import DiscoveryError

    norm = sum(abs(k) for k in trajectory)
    if norm > MAX_TRAJECTORY_NORM:
        raise DiscoveryError(
            f"trajectory {tuple(trajectory)} has {norm} steps; walks take at most "
            f"{MAX_TRAJECTORY_NORM} (the trajectory matrix's degree grows with its length)")
    t0 = time.perf_counter()
    field, entry = catalogue_cmf(name)
    walk = field.walk(trajectory, start)
    _check_walk_cost(walk, depth, max_seconds)
    lim = walk.limit(depth)
    constants = list(entry.get("constants", []))
    found = None
    if lim.digits >= 15:
        found = _identify(lim.value, min(lim.digits, digits), constants)
    out: dict[str, Any] = {
        "cmf": name,
        "trajectory": list(walk.trajectory),
        "start": [str(v) for v in walk.start],
        "depth": depth,
        "limit": mpmath.nstr(lim.value, min(max(lim.digits, 1), 50)),
        "limit_digits": lim.digits,
        "stationary": lim.error == float("-inf"),
        "relation": found[2] if found else None,
        "constant": found[0] if found else None,
        "mobius": list(found[1]) if found else None,
        "digits_per_term": None,
        "delta": None,
        "pcf_a": None,
        "pcf_b": None,
        "pcf_mobius": None,
        "pcf_relation": None,
    }
    try:
        out["digits_per_term"] = round(walk.digits_per_term(depth), 6)
    except DiscoveryError:
        pass
    try:
        out["delta"] = round(float(walk.delta(depth)), 6)
    except (DiscoveryError, ZeroDivisionError):
        pass
    if field.rank == 2:
        try:
            ext = walk.pcf()
        except DiscoveryError as exc:
            out["pcf_error"] = str(exc)
        else:
            out["pcf_a"], out["pcf_b"] = ext.pcf.a_text, ext.pcf.b_text
            if ext.mobius is not None:
                out["pcf_mobius"] = [list(r) for r in ext.mobius]
                out["pcf_relation"] = "L = " + mobius_text(ext.mobius, "V") + ", V = PCF limit"
            try:
                plim = ext.pcf.limit(depth)
                if plim.digits >= 15:
                    pf = _identify(plim.value, min(plim.digits, digits), constants)
                    out["pcf_limit"] = pf[2] if pf else None
            except DiscoveryError:
                pass
    out["seconds"] = round(time.perf_counter() - t0, 4)
    return out


def _identify(x: Any, digits: int, constants: list[str]) -> tuple[str, Any, str] | None:
    """``(constant, coefficients, relation text)``: a Möbius relation in the field's constants.

    Uses the engine's identification (``solvers.relations.find_mobius``), so that the CLI and
    the search agree; a rational limit is not a relation to a constant.
    """
    from search.cmf import identify_mobius

    return identify_mobius(x, digits, constants)


@cmf_app.command("walk")
def walk(
    cmf: str = typer.Option(..., "--cmf", help="catalogue name, e.g. zeta3"),
    trajectory: str = typer.Option(..., "--trajectory", help="e.g. 1,1"),
    start: str = typer.Option(..., "--start", help="e.g. 1,1"),
    depth: int = typer.Option(2000, "--depth", min=2, max=10_000_000),
    digits: int = typer.Option(100, "--digits", min=10, max=100_000,
                               help="digits used to identify the limit"),
    max_seconds: float = typer.Option(
        60.0, "--max-seconds", min=0.1, max=1e6,
        help="refuse a walk predicted to take longer (the prediction times a shallow walk)"),
    json_: bool = JSON,
) -> None:
    """Walk a field along a trajectory: limit, relation to the field's constant, PCF, δ."""
    with user_errors():
        report = walk_report(cmf, parse_vector(trajectory, "--trajectory"),
                             parse_vector(start, "--start"), depth, digits, max_seconds)
    if json_:
        emit_json(report)
        return
    console = Console()
    console.print(f"{report['cmf']} along {tuple(report['trajectory'])} from "
                  f"({', '.join(report['start'])}), depth {depth}")
    console.print(f"  limit = {report['limit']}  ({report['limit_digits']} digits)")
    console.print(f"  relation: {report['relation'] or 'none found'}")
    console.print(f"  digits/term {report['digits_per_term']}, δ = {report['delta']}")
    if report["pcf_a"] is not None:
        console.print(f"  PCF({report['pcf_a']}, {report['pcf_b']})"
                      f"  {report['pcf_relation'] or '(degenerate start)'}")
        if report.get("pcf_limit"):
            console.print(f"  PCF limit = {report['pcf_limit']}")


# --------------------------------------------------------------------------- search


@search_options("no_verify")
def cmf_search_command(
    cmf: str = typer.Option(..., "--cmf", help="catalogue name, e.g. zeta3"),
    max_norm: int = typer.Option(2, "--max-norm", min=1, max=20, help="sup norm of trajectories"),
    starts: str = typer.Option("0..2", "--starts", help="start box per axis, e.g. 0..3"),
    depth: int = typer.Option(300, "--depth", min=4, max=1_000_000),
    digits: int = typer.Option(60, "--digits", min=10, max=10_000,
                               help="digits used to identify limits"),
    negative: bool = typer.Option(False, "--negative", help="allow negative trajectory steps"),
    no_link: bool = typer.Option(False, "--no-link", help="skip the coboundary (equivalence) pass"),
    link_store: bool = typer.Option(False, "--link-store",
                                    help="also link to PCFs already in the store"),
    *,
    opts: SearchOptions,
) -> None:
    """Search the trajectories of a CMF: walks, PCFs, relations and equivalences, recorded."""
    with user_errors():
        config: dict[str, Any] = {
            "cmf": cmf,
            "max_norm": max_norm,
            "starts": parse_starts(starts),
            "depth": depth,
            "digits": digits,
            "negative": negative,
            "link": not no_link,
        }
        if link_store and not opts.no_store and opts.db.exists():
            config["known_pcfs"] = _store_pcfs(opts.db, cmf)
    opts = replace(opts, run_name=opts.run_name or f"cmf-{cmf}")
    with search_session("cmf", config, opts) as (result, store):
        print_result(result, json_=opts.json, store=store)


def _store_pcfs(db: Path, name: str) -> list[dict]:
    """PCFs of the store about the field's constants (for equivalence edges across engines)."""
    from discovery.store import Store
    from search.cmf import catalogue_cmf

    _, entry = catalogue_cmf(name)
    out = []
    with Store(db, readonly=True) as store:
        for const in entry.get("constants", []):
            for rec in store.query(constant=const, kind="pcf"):
                f = rec.formula
                if isinstance(f, dict) and isinstance(f.get("a"), list):
                    out.append({"key": rec.key, "a": f["a"], "b": f["b"]})
    return out
