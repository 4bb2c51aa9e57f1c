"""``discovery search evolve``, ``discovery baseline`` and ``discovery check-float32``.

``search evolve`` runs the evolutionary engine (:mod:`search.evolution`) through the runner
from the identity program: tasks are told back in the order they were asked (``in_flight``
of them ahead), so a run with a given seed is the same on every executor; the engine's state
is saved with every task, so running the same command again resumes the search. When the
session ends the Pareto front is verified (each program's error re-measured against a
50-digit reference on a dense grid with local maximisation) and recorded as ``program``
conjectures. The classical baselines (``--baselines``) are measured first, inside the same
time budget.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import typer

from discovery.commands._common import emit_json, user_errors
from discovery.commands._rich import Console, Table
from discovery.commands._search import (
    SearchOptions,
    conjectures_of,
    search_options,
    search_session,
)
from discovery.text import parse_json_object
from discovery.user_files import read_user_file
from solvers.errors import DiscoveryError

__all__ = [
    "evolve_command",
    "baseline_command",
    "check_float32_command",
    "front_rows",
    "parse_interval",
]

JSON = typer.Option(False, "--json", help="Print one JSON object on stdout.")


def parse_interval(text: str) -> tuple[float, float]:
    """``"0,1"`` -> ``(0.0, 1.0)`` (a ValueError for anything else).

    Examples
    --------
    >>> parse_interval("1, 2")
    (1.0, 2.0)
    """
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 2:
        raise ValueError(f"--interval must be 'a,b', not {text!r}")
    try:
        a, b = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"--interval must be two numbers 'a,b', not {text!r}") from None
    if not (math.isfinite(a) and math.isfinite(b) and a < b):
        raise ValueError(f"--interval needs finite a < b, not {text!r}")
    return a, b


def front_rows(store: Any, run_id: int) -> list[dict]:
    """The verified Pareto front of an evolve run, from the store (over all its sessions).

    Each row: ``ops``, ``max_error`` (verified against the 50-digit reference),
    ``max_error_fit`` (the engine's fitting grid), ``argmax``, ``program`` (text),
    ``program_json``, ``c_source``, ``latex``, ``id`` and ``claim`` of the conjecture.
    """
    from search.evolution import pareto_front

    rows = []
    for rec in conjectures_of(store, run_id, kind="program"):
        ev = next((e for e in reversed(rec.evidence) if "max_error" in e), None)
        if ev is None or rec.status != "verified":
            continue
        f = rec.formula
        rows.append({
            "ops": f["ops"],
            "max_error": ev["max_error"],
            "max_error_fit": (ev.get("search") or {}).get("max_error_fit"),
            "argmax": ev.get("argmax"),
            "program": f.get("text"),
            "program_json": f["program"],
            "c_source": f.get("c_source"),
            "latex": f.get("latex"),
            "id": rec.id,
            "claim": rec.claim,
            **({"float32": ev["float32"]} if "float32" in ev else {}),
        })
    return pareto_front(rows)


def _baselines(function: str, interval: tuple[float, float], error: str, max_ops: int,
               tiers: str = "ABC", progress: Callable[..., None] | None = None) -> list[dict]:
    from solvers.approximation import TIERS, baseline_tiers

    rows = baseline_tiers(function, interval, error=error, max_ops=max_ops, tiers=tiers,
                          progress=progress)
    out = []
    for r in rows:
        d = r.to_dict()
        d["tier_name"] = TIERS[r.tier]
        d["program_text"] = r.approximation.program(r.form).to_text()
        out.append(d)
    return out


@search_options(without=("hours",))
def evolve_command(
    function: str = typer.Option("2^x", "--function", help='target f(x), e.g. "2^x"'),
    interval: str = typer.Option("0,1", "--interval", help="a,b"),
    error: str = typer.Option("relative", "--error", help="relative | absolute"),
    max_ops: int = typer.Option(12, "--max-ops", min=1, max=64),
    minutes: float = typer.Option(10.0, "--minutes", min=0.0,
                                  help="time budget of this session, baselines included"),
    seed: int = typer.Option(0, "--seed", min=0),
    population: int = typer.Option(64, "--population", min=4, max=100_000),
    batch: int = typer.Option(8, "--batch", min=1, max=10_000, help="children per task"),
    in_flight: int = typer.Option(4, "--in-flight", min=1, max=1024,
                                  help="tasks asked ahead of their results (part of the "
                                       "search: the same value reproduces a seed's run)"),
    fma: bool = typer.Option(False, "--fma/--no-fma", help="allow fused multiply-add"),
    float32: bool = typer.Option(False, "--float32",
                                 help="also check the front over every float32 input"),
    baselines: bool = typer.Option(True, "--baselines/--no-baselines",
                                   help="measure the classical baselines in the same run"),
    plot: Path | None = typer.Option(None, "--plot", help="write the Pareto plot (PNG)"),
    *,
    opts: SearchOptions,
) -> None:
    """Evolve programs (+ - * / and constants) approximating FUNCTION from the identity."""
    t0 = time.monotonic()
    with user_errors():
        iv = parse_interval(interval)
        if error not in ("relative", "absolute"):
            raise ValueError("--error must be 'relative' or 'absolute'")
        if not math.isfinite(minutes):
            raise ValueError(f"--minutes must be a finite number, not {minutes}")
        config = {"function": function, "interval": list(iv), "error": error,
                  "max_ops": max_ops, "seed": seed, "population": population, "batch": batch,
                  "in_flight": in_flight, "fma": fma, "float32": float32}
        from search.evolution import EvolutionEngine

        EvolutionEngine(config)  # validate before anything runs or is written
        base_rows: list[dict] = []
        if baselines:
            base_rows = _baselines(function, iv, error, max_ops)
    left = minutes * 60.0 - (time.monotonic() - t0)
    opts = replace(opts, hours=max(left, 0.0) / 3600.0)
    with search_session("evolve", config, opts) as (result, store):
        summary = result.runs[0]
        pareto = front_rows(store, summary.run_id)
    out: dict[str, Any] = {
        **result.to_dict(),
        "run": summary.run_id,
        "tasks": summary.tasks,
        "tasks_total": summary.tasks_total,
        "function": function,
        "interval": list(iv),
        "error": error,
        "max_ops": max_ops,
        "seed": seed,
        "pareto": pareto,
        "baselines": base_rows,
        "stored": None if opts.no_store else str(opts.db),
    }
    if plot is not None:
        with user_errors():
            from discovery.plots_evolution import plot_pareto

            plot_pareto(pareto, base_rows, plot,
                        title=f"{function} on [{iv[0]:g}, {iv[1]:g}], {error} error")
        out["plot"] = str(plot)
    if opts.json:
        emit_json(out)
        return
    console = Console()
    table = Table(title=f"Evolved Pareto front: {function} on [{iv[0]:g}, {iv[1]:g}] "
                        f"(run #{summary.run_id}: {summary.tasks} tasks now, "
                        f"{summary.tasks_total} in all, {summary.seconds:.0f} s)")
    for col in ("ops", "max error (verified)", "best baseline <= ops", "program"):
        table.add_column(col)
    for row in pareto:
        base = [b for b in base_rows if b["ops"] <= row["ops"]]
        best = min((b["max_error"] for b in base), default=None)
        table.add_row(str(row["ops"]), f"{row['max_error']:.3g}",
                      "-" if best is None else f"{best:.3g}", row["program"])
    console.print(table)
    where = out["stored"] or "nowhere (--no-store)"
    console.print(f"front recorded in {where} as program conjectures; the same command "
                  "resumes the search.")
    if plot is not None:
        console.print(f"plot: {plot}")


def baseline_command(
    function: str = typer.Option("2^x", "--function"),
    interval: str = typer.Option("0,1", "--interval", help="a,b"),
    error: str = typer.Option("relative", "--error", help="relative | absolute"),
    max_ops: int = typer.Option(12, "--max-ops", min=1, max=40),
    tiers: str = typer.Option("ABC", "--tiers", help="A (Horner), B (continued fraction), "
                              "C (with squaring)"),
    json_: bool = JSON,
) -> None:
    """Classical baselines by tier: minimax polynomials/rationals (Remez) and their op counts."""
    from discovery.progress import command_progress

    with user_errors(), command_progress("baseline", enabled=not json_) as progress:
        iv = parse_interval(interval)
        if error not in ("relative", "absolute"):
            raise ValueError("--error must be 'relative' or 'absolute'")
        rows = _baselines(function, iv, error, max_ops, tiers.upper(), progress=progress)
    if json_:
        emit_json({"function": function, "interval": list(iv), "error": error,
                   "max_ops": max_ops, "baselines": rows})
        return
    table = Table(title=f"Baselines for {function} on [{iv[0]:g}, {iv[1]:g}] ({error} error)")
    for col in ("tier", "ops", "type (n, m)", "squarings", "form", "max error"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["tier"], str(r["ops"]), str(tuple(r["degrees"])), str(r["squarings"]),
                      r["form"], f"{r['max_error']:.3g}")
    Console().print(table)


def _load_program(path: Path, from_dict: Callable[[Any], Any]) -> Any:
    """The program in the JSON file ``path`` (``{"nodes": ...}``, or an object holding it
    as ``program_json``), read with :func:`~discovery.user_files.read_user_file` (a regular
    file of bounded size: ``/dev/zero`` or a FIFO is refused at once)."""
    data = parse_json_object(read_user_file(path, what="program file"), f"program file {path}")
    try:
        return from_dict(data.get("program_json", data))
    except DiscoveryError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError,
            RecursionError) as exc:
        raise DiscoveryError(f"program file {path} does not hold a valid program "
                             f"({type(exc).__name__}: {exc})") from None


def check_float32_command(
    function: str = typer.Option("2^x", "--function"),
    interval: str = typer.Option("0,1", "--interval", help="a,b (float32 numbers; [a, b))"),
    coefficients: str | None = typer.Option(
        None, "--coefficients", help="float32 Horner coefficients c0,c1,... (ascending)"),
    program: Path | None = typer.Option(
        None, "--program", help="JSON file of a program ({'nodes': ...} as search evolve "
        "prints in program_json)"),
    fit_degree: int = typer.Option(
        6, "--fit-degree", min=1, max=20,
        help="without --coefficients/--program: fit float32 coefficients of this degree"),
    fma: bool = typer.Option(True, "--fma/--no-fma", help="Horner with fused multiply-adds"),
    both: bool = typer.Option(True, "--both/--single",
                              help="also check the same program with FMA split into * and +"),
    json_: bool = JSON,
) -> None:
    """Exhaustive float32 check: max ULP error over EVERY float32 input of [a, b)."""
    import numpy as np

    from discovery.progress import command_progress
    from solvers.float32_check import exhaustive_ulp, fit_float32_polynomial, horner_float32
    from solvers.programs import program_from_dict

    with user_errors(), command_progress("check-float32", enabled=not json_) as progress:
        iv = parse_interval(interval)
        source = "fitted"
        if program is not None:
            prog = _load_program(program, program_from_dict)
            source = str(program)
        elif coefficients is not None:
            cs = [float(v) for v in coefficients.split(",") if v.strip()]
            if not cs:
                raise ValueError("--coefficients is empty")
            prog = horner_float32(cs, fma)
            source = "coefficients"
        else:
            prog, _ = fit_float32_polynomial(function, iv, fit_degree, fma=fma,
                                             progress=progress)
        checks = [("as given" if source != "fitted" else ("fma" if fma else "no fma"), prog)]
        if both and prog.uses_fma:
            checks.append(("fma split into * and +", prog.without_fma()))
        reports = []
        for i, (label, p) in enumerate(checks):
            prefix = f"{label} ({i + 1}/{len(checks)}): " if len(checks) > 1 else ""
            r = exhaustive_ulp(p, function, iv, progress=progress.prefixed(prefix))
            reports.append({"variant": label, "ops": p.cost, "program": p.to_text(),
                            "c_source": p.to_c(ctype="float"), **r.to_dict()})
    consts = [float(np.float32(c)) for c in prog.constants]
    out = {"function": function, "interval": list(iv), "source": source,
           "constants": consts, "checks": reports}
    if json_:
        emit_json(out)
        return
    console = Console()
    console.print(f"{function} on [{iv[0]:g}, {iv[1]:g}): float32 constants {consts}")
    for r in reports:
        color = "green" if r["max_ulp"] < 1 else "red"
        console.print(f"  {r['variant']} ({r['ops']} ops): [bold {color}]max {r['max_ulp']:.4f} "
                      f"ULP[/] at x = {r['argmax']!r} (50-digit recheck {r['max_ulp_exact']:.4f})"
                      f"; {r['over_one']} inputs above 1 ULP; {r['points']} inputs in "
                      f"{r['seconds']:.1f} s")
