"""``discovery search evolve``, ``discovery baseline`` and ``discovery check-float32``.

Wiring (by the lead)::

    from discovery.commands.evolve import baseline_command, check_float32_command, evolve_command
    search_app.command("evolve")(evolve_command)
    app.command("baseline")(baseline_command)
    app.command("check-float32")(check_float32_command)

``search evolve`` runs the evolutionary engine (:mod:`search.evolution`) from the identity
program for a time budget, in this process or on ``--workers`` local processes (tasks are
handed out and told back in task order, so a run with a given seed, worker count and number
of completed rounds is reproducible), then re-measures every Pareto program's error in real
arithmetic against a 50-digit reference (dense grid of 20000 points plus local maximisation)
and, unless ``--no-baselines``, measures the classical baselines in the same run.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from discovery.commands._common import emit_json, user_errors

__all__ = [
    "evolve_command",
    "baseline_command",
    "check_float32_command",
    "run_evolution",
    "verify_front",
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


def verify_front(front: list[dict], function: str, interval: tuple[float, float],
                 error: str, dps: int = 50, grid: int = 20000) -> list[dict]:
    """Re-measure each program's error in real arithmetic; return the Pareto front of the
    verified errors (rows gain ``max_error`` = verified, ``max_error_fit``, ``argmax``)."""
    from search.evolution import pareto_front
    from solvers.programs import measure_error, program_from_dict

    rows = []
    for d in front:
        p = program_from_dict(d["program"])
        m = measure_error(p, function, interval, error=error, dps=dps, grid=grid)
        rows.append({
            "ops": p.cost,
            "max_error": m.max_error,
            "max_error_fit": d["max_error"],
            "argmax": m.argmax,
            "program": p.to_text(),
            "program_json": p.to_dict(),
            "c_source": p.to_c(),
            "latex": p.latex(),
        })
    return pareto_front(rows)


def run_evolution(config: dict, seconds: float, workers: int = 1,
                  progress: Callable[[Any, float], None] | None = None,
                  verify: bool = True) -> dict:
    """Run the evolve engine for ``seconds`` (or until ``max_tasks``) and verify its front.

    With ``workers > 1`` tasks run on local processes, ``2 * workers`` in flight, told back in
    task order. Returns a JSON-able summary with the list ``pareto``.
    """
    from search.base import execute
    from search.evolution import EvolutionEngine

    engine = EvolutionEngine(config)
    cfg = engine.config
    t0 = time.perf_counter()
    executor = None
    if workers > 1:
        from discovery.executors import make_executor

        executor = make_executor("local", workers=workers, imports=("search.evolution",))
    try:
        if executor is None:
            while not engine.done() and time.perf_counter() - t0 < seconds:
                tasks = engine.ask(1)
                if not tasks:
                    break
                engine.tell(tasks[0], execute(tasks[0]))
                if progress is not None:
                    progress(engine, time.perf_counter() - t0)
        else:
            # 2 x workers tasks in flight, told back in task order and replaced one by one:
            # workers never wait for the slowest task of a round, and every ask sees the same
            # state as in any other run with the same worker count (reproducible order)
            inflight: list = []

            def refill() -> None:
                while len(inflight) < 2 * workers and time.perf_counter() - t0 < seconds:
                    tasks = engine.ask(1)
                    if not tasks:
                        return
                    inflight.append((tasks[0], executor.submit(tasks[0])))

            refill()
            while inflight:
                task, fut = inflight.pop(0)
                while not executor.wait([fut], timeout=1.0):
                    if time.perf_counter() - t0 >= seconds:
                        break
                if time.perf_counter() - t0 >= seconds and not fut.done():
                    break
                engine.tell(task, fut.result())
                if progress is not None:
                    progress(engine, time.perf_counter() - t0)
                refill()
    finally:
        if executor is not None:
            executor.close(cancel=True)
    search_seconds = time.perf_counter() - t0
    front = engine.front()
    iv = (cfg["interval"][0], cfg["interval"][1])
    if verify:
        pareto = verify_front(front, cfg["function"], iv, cfg["error"])
    else:
        from solvers.programs import program_from_dict

        pareto = [{"ops": d["ops"], "max_error": d["max_error"], "max_error_fit": d["max_error"],
                   "program": program_from_dict(d["program"]).to_text(),
                   "program_json": d["program"]} for d in front]
    return {
        "function": cfg["function"],
        "interval": list(iv),
        "error": cfg["error"],
        "max_ops": cfg["max_ops"],
        "seed": cfg["seed"],
        "workers": workers,
        "search_seconds": round(search_seconds, 3),
        "tasks": engine._told,
        "fits": engine._told * cfg["batch"],
        "cma_evaluations": engine.evaluations,
        "verified": verify,
        "pareto": pareto,
    }


def _baselines(function: str, interval: tuple[float, float], error: str, max_ops: int,
               tiers: str = "ABC") -> list[dict]:
    from solvers.approximation import TIERS, baseline_tiers

    rows = baseline_tiers(function, interval, error=error, max_ops=max_ops, tiers=tiers)
    out = []
    for r in rows:
        d = r.to_dict()
        d["tier_name"] = TIERS[r.tier]
        d["program_text"] = r.approximation.program(r.form).to_text()
        out.append(d)
    return out


def evolve_command(
    function: str = typer.Option("2^x", "--function", help='target f(x), e.g. "2^x"'),
    interval: str = typer.Option("0,1", "--interval", help="a,b"),
    error: str = typer.Option("relative", "--error", help="relative | absolute"),
    max_ops: int = typer.Option(12, "--max-ops", min=1, max=64),
    minutes: float = typer.Option(10.0, "--minutes", min=0.0),
    seed: int = typer.Option(0, "--seed", min=0),
    workers: int = typer.Option(1, "--workers", min=1, max=256,
                                help="local processes (tasks told back in task order)"),
    population: int = typer.Option(64, "--population", min=4),
    batch: int = typer.Option(8, "--batch", min=1, help="children per task"),
    fma: bool = typer.Option(False, "--fma/--no-fma", help="allow fused multiply-add"),
    max_tasks: int | None = typer.Option(None, "--max-tasks", min=0,
                                         help="stop after this many tasks (reproducible)"),
    baselines: bool = typer.Option(True, "--baselines/--no-baselines",
                                   help="measure the classical baselines in the same run"),
    plot: Path | None = typer.Option(None, "--plot", help="write the Pareto plot (PNG)"),
    json_: bool = JSON,
) -> None:
    """Evolve programs (+ - * / and constants) approximating FUNCTION from the identity."""
    with user_errors():
        iv = parse_interval(interval)
        if error not in ("relative", "absolute"):
            raise ValueError("--error must be 'relative' or 'absolute'")
        config = {"function": function, "interval": list(iv), "error": error,
                  "max_ops": max_ops, "seed": seed, "population": population, "batch": batch,
                  "fma": fma, "max_tasks": max_tasks}
        console = Console(stderr=True, quiet=json_)
        last = [0.0]

        def progress(engine: Any, elapsed: float) -> None:
            if elapsed - last[0] >= 30:
                last[0] = elapsed
                front = ", ".join(f"{d['ops']}:{d['max_error']:.2g}" for d in engine.front())
                console.print(f"[{elapsed:6.0f} s] tasks {engine._told}: {front}")

        out = run_evolution(config, minutes * 60.0, workers=workers, progress=progress)
        if baselines:
            console.print("measuring baselines (Remez, tiers A/B/C) ...")
            out["baselines"] = _baselines(function, iv, error, max_ops)
        if plot is not None:
            from discovery.plots_evolution import plot_pareto

            plot_pareto(out["pareto"], out.get("baselines", []), plot,
                        title=f"{function} on [{iv[0]:g}, {iv[1]:g}], {error} error")
            out["plot"] = str(plot)
    if json_:
        emit_json(out)
        return
    console = Console()
    table = Table(title=f"Evolved Pareto front: {function} on [{iv[0]:g}, {iv[1]:g}] "
                        f"({out['tasks']} tasks, {out['search_seconds']:.0f} s)")
    for col in ("ops", "max error (verified)", "best baseline <= ops", "program"):
        table.add_column(col)
    for row in out["pareto"]:
        base = [b for b in out.get("baselines", []) if b["ops"] <= row["ops"]]
        best = min((b["max_error"] for b in base), default=None)
        table.add_row(str(row["ops"]), f"{row['max_error']:.3g}",
                      "-" if best is None else f"{best:.3g}", row["program"])
    console.print(table)
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
    with user_errors():
        iv = parse_interval(interval)
        if error not in ("relative", "absolute"):
            raise ValueError("--error must be 'relative' or 'absolute'")
        rows = _baselines(function, iv, error, max_ops, tiers.upper())
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

    from solvers.float32_check import exhaustive_ulp, fit_float32_polynomial, horner_float32
    from solvers.programs import program_from_dict

    with user_errors():
        iv = parse_interval(interval)
        source = "fitted"
        if program is not None:
            data = json.loads(Path(program).read_text())
            prog = program_from_dict(data.get("program_json", data))
            source = str(program)
        elif coefficients is not None:
            cs = [float(v) for v in coefficients.split(",") if v.strip()]
            if not cs:
                raise ValueError("--coefficients is empty")
            prog = horner_float32(cs, fma)
            source = "coefficients"
        else:
            prog, _ = fit_float32_polynomial(function, iv, fit_degree, fma=fma)
        checks = [("as given" if source != "fitted" else ("fma" if fma else "no fma"), prog)]
        if both and prog.uses_fma:
            checks.append(("fma split into * and +", prog.without_fma()))
        reports = []
        for label, p in checks:
            r = exhaustive_ulp(p, function, iv)
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
