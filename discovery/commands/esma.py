"""``discovery search esma``: signed continued fractions of a constant with short recurrences.

Wired into the ``search`` group with ``search_app.command("esma")(esma_command)``.

Without ``--db`` the engine runs serially in this process and every approved result is then
verified independently (:func:`discovery.verify.verify`: exact convergents to a depth chosen
from the measured rate, against the LHS evaluated by the safe parser). With ``--db`` the
search goes through the runner into the conjecture store instead (resumable, parallel).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from discovery.commands._common import emit_json, user_errors

__all__ = ["esma_command", "run_esma"]

JSON = typer.Option(False, "--json", help="Print one JSON object on stdout.")


def run_esma(config: dict, verify_digits: int | None = None) -> dict:
    """Run an ESMA search serially, verify every approved result, and summarise.

    Parameters
    ----------
    config : dict
        The engine configuration (see :class:`search.esma.EsmaConfig`).
    verify_digits : int, optional
        Digits asked of the independent verification (default: the approval digits).

    Returns
    -------
    dict
        JSON-able: ``constant``, ``config``, ``space`` (sizes), ``results`` (one per approved
        pattern, with ``lhs``, ``signs``, ``recurrence``, ``first_terms``, ``digits``,
        ``digits_per_term``, ... and the verification ``verdict``), ``groups``, ``seconds``.
    """
    from discovery.verify import verify
    from search.base import execute
    from search.esma import EsmaEngine
    from solvers.continued_fractions import PCF
    from solvers.signed_cf import SignedCFPattern

    t0 = time.perf_counter()
    engine = EsmaEngine(config)
    cfg = engine.config
    while not engine.done():
        for task in engine.ask(4):
            engine.tell(task, execute(task))
    search_seconds = time.perf_counter() - t0
    digits = verify_digits or cfg.approve_digits
    group_index = {g: i for i, g in enumerate(engine.groups())}
    results = []
    for c in engine.results:
        pattern = SignedCFPattern.from_dict(c.formula)
        ev = verify(pattern, c.claim, digits)
        f, e = c.formula, c.evidence
        row: dict[str, Any] = {
            "lhs": c.claim,
            "value": e["value"],
            "signs": f["signs"],
            "recurrence": f["recurrence"],
            "first_terms": f["first_terms"],
            "terms": list(pattern.terms(max(12, len(f["first_terms"])))),
            "pattern": e["pattern"],
            "period": e["period"],
            "preamble": e["preamble"],
            "digits": ev.digits,
            "verdict": ev.verdict,
            "search_digits": e["search_digits"],
            "approval_digits": e["digits"],
            "digits_per_term": e["digits_per_term"],
            "constant_digits_per_term": e["constant_digits_per_term"],
            "bm_order": e["bm_order"],
            "key": c.key,
            "group": group_index.get(e["group"], -1),
        }
        if "pcf" in f:
            pcf = PCF.from_dict(f["pcf"])
            row["pcf"] = {"a": pcf.a_text, "b": pcf.b_text, "key": pcf.key}
            row["mobius"] = f["mobius"]
        results.append(row)
    results.sort(key=lambda r: (r["group"], -(r["digits_per_term"] or 0)))
    return {
        "constant": cfg.constant,
        "config": cfg.to_dict(),
        "space": {
            "lhs": len(engine.lhs),
            "sign_periods": [list(s) for s in engine.sign_periods],
            "expansions": len(engine.lhs) * len(engine.sign_periods),
        },
        "results": results,
        "groups": len(group_index),
        "verified": sum(r["verdict"] == "verified" for r in results),
        "search_seconds": round(search_seconds, 3),
        "seconds": round(time.perf_counter() - t0, 3),
    }


def esma_command(
    constant: str = typer.Option(
        ..., "--constant", help='the constant K, e.g. "e", "e^2", "besseli(0,2)/besseli(1,2)"'
    ),
    degree: int = typer.Option(1, "--degree", min=1, max=4, help="degree of P, Q in P(K)/Q(K)"),
    coeff: int = typer.Option(2, "--coeff", min=1, max=20, help="coefficients in [-c, c]"),
    signs: str = typer.Option("1..3", "--signs", help='sign-period lengths: "1..3", "2", "1,3"'),
    depth: int = typer.Option(100, "--depth", min=8, max=10_000, help="terms fed to BM"),
    approve_digits: int = typer.Option(100, "--digits", min=10, max=100_000),
    prime: int = typer.Option(199, "--prime", help="modulus of the fast Berlekamp–Massey pass"),
    dps: int = typer.Option(0, "--dps", min=0, help="digits of K's enclosure (0: 5 x depth)"),
    db: Path | None = typer.Option(
        None, "--db", help="run through the runner into this conjecture store instead"
    ),
    json_: bool = JSON,
) -> None:
    """Search signed continued fractions of P(K)/Q(K) whose terms obey a short recurrence."""
    config = {
        "constant": constant,
        "degree": degree,
        "coeff": coeff,
        "signs": signs,
        "depth": depth,
        "approve_digits": approve_digits,
        "prime": prime,
        "dps": dps,
    }
    if db is not None:
        from discovery.commands.run import run_engine_command
        from search.esma import EsmaConfig

        with user_errors():
            config = EsmaConfig.from_dict(config).to_dict()
        run_engine_command("esma", config, db=db, verify_digits=approve_digits, json_=json_)
        return
    with user_errors():
        out = run_esma(config)
    if json_:
        emit_json(out)
        return
    _print(out)


def _print(out: dict) -> None:
    console = Console(markup=False)
    table = Table(
        title=(
            f"ESMA on {out['constant']}: {out['space']['lhs']} LHS x "
            f"{len(out['space']['sign_periods'])} sign periods -> {len(out['results'])} "
            f"patterns, {out['groups']} values ({out['seconds']:.2f} s)"
        )
    )
    for col in ("#", "LHS", "signs", "terms", "recurrence", "shape", "d/term", "verdict", "PCF"):
        table.add_column(col)
    for r in out["results"]:
        terms = ", ".join(str(t) for t in r["terms"][:10]) + ", ..."
        rate = r["digits_per_term"]
        rate_text = "-" if rate is None else f"{rate:.3f}"
        pcf = r.get("pcf")
        table.add_row(
            str(r["group"]),
            r["lhs"],
            str(r["signs"]),
            terms,
            str(r["recurrence"]),
            r["pattern"] + (f"/{r['period']}" if r["period"] > 1 else ""),
            rate_text,
            f"{r['verdict']} ({r['digits']})",
            f"PCF({pcf['a']}, {pcf['b']})" if pcf else "-",
        )
    console.print(table)
    k_rate = out["results"][0]["constant_digits_per_term"] if out["results"] else None
    if k_rate is not None:
        console.print(f"K's simple continued fraction: {k_rate:.3f} digits/term")
