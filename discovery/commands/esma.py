"""``discovery search esma``: signed continued fractions of a constant with short recurrences.

Wired into the ``search`` group with ``search_app.command("esma")(esma_command)``.

The search goes through the runner like every other engine: tasks (chunks of left-hand
sides, each with every sign period) run on the executor, every approved pattern is verified
independently (:mod:`discovery.verifiers`: exact convergents of the regenerated continued
fraction against the left-hand side evaluated at higher precision) and recorded in the store
(``--db``; ``--no-store`` for a dry run). Running the same search again resumes it.
"""

from __future__ import annotations

from dataclasses import replace
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
from solvers.errors import StoreError

__all__ = ["esma_command", "esma_rows"]


def _families(store: Any, rows: list[dict]) -> list[dict]:
    """The families of the patterns: id, representative text, its own claim, known, count."""
    counts: dict[int, int] = {}
    for r in rows:
        if r.get("family") is not None:
            counts[r["family"]] = counts.get(r["family"], 0) + 1
    out = []
    for fid, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        fam = store.family(fid)
        out.append({"id": fid, "formula_text": fam.formula_text, "claim": fam.claim,
                    "known": fam.known, "source": fam.source, "patterns": n,
                    "representative": fam.representative.key if fam.representative else None})
    return out


def _own_claim(store: Any, key: str, lhs_claim: str, mobius: Any) -> str:
    """The contracted PCF's OWN limit: its row's claim, else the exact image of the LHS."""
    from discovery.families import claim_image
    from solvers.pcf_families import mobius_invert

    try:
        return store.get(key).claim
    except StoreError:
        return claim_image(lhs_claim, mobius_invert(mobius or (1, 0, 0, 1)))


def esma_rows(store: Any, run_id: int) -> list[dict]:
    """One row per pattern the run recorded: the pattern, its verification and its PCF.

    The verdict and digits are the store's (the independent verification); the shape of the
    pattern (preamble, period, Berlekamp–Massey order, rates) is what the engine saw.
    """
    from solvers.continued_fractions import PCF
    from solvers.signed_cf import SignedCFPattern

    rows = []
    for rec in conjectures_of(store, run_id, kind="esma"):
        f = rec.formula
        e = next((ev.get("search", {}) for ev in reversed(rec.evidence)
                  if ev.get("run") == run_id), rec.evidence[-1].get("search", {}))
        pattern = SignedCFPattern.from_dict(f)
        row: dict[str, Any] = {
            "id": rec.id,
            "key": rec.key,
            "lhs": rec.claim,
            "value": e.get("value"),
            "signs": f["signs"],
            "recurrence": f["recurrence"],
            "first_terms": f["first_terms"],
            "terms": list(pattern.terms(max(12, len(f["first_terms"])))),
            "pattern": e.get("pattern"),
            "period": e.get("period", 1),
            "preamble": e.get("preamble"),
            "digits": rec.digits or 0,
            "verdict": rec.status,
            "search_digits": e.get("search_digits"),
            "approval_digits": e.get("digits"),
            "digits_per_term": e.get("digits_per_term"),
            "constant_digits_per_term": e.get("constant_digits_per_term"),
            "bm_order": e.get("bm_order"),
            "group_key": e.get("group", rec.key),
        }
        if "pcf" in f:
            pcf = PCF.from_dict(f["pcf"])
            row["pcf"] = {"a": pcf.a_text, "b": pcf.b_text, "key": pcf.key,
                          "claim": _own_claim(store, pcf.key, rec.claim, f.get("mobius"))}
            row["mobius"] = f.get("mobius")
        row["family"] = rec.family
        rows.append(row)
    groups = {g: i for i, g in enumerate(dict.fromkeys(r["group_key"] for r in rows))}
    for r in rows:
        r["group"] = groups[r.pop("group_key")]
    rows.sort(key=lambda r: (r["group"], -(r["digits_per_term"] or 0)))
    return rows


@search_options("no_verify")
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
    *,
    opts: SearchOptions,
) -> None:
    """Search signed continued fractions of P(K)/Q(K) whose terms obey a short recurrence."""
    from search.esma import EsmaConfig

    with user_errors():
        config = EsmaConfig.from_dict({
            "constant": constant, "degree": degree, "coeff": coeff, "signs": signs,
            "depth": depth, "approve_digits": approve_digits, "prime": prime, "dps": dps,
        }).to_dict()
    opts = replace(opts, verify_digits=approve_digits)
    with search_session("esma", config, opts) as (result, store):
        summary = result.runs[0]
        state = store.run(summary.run_id).state or {}
        rows = esma_rows(store, summary.run_id)
        families = _families(store, rows)
    out = {
        **result.to_dict(),
        "run": summary.run_id,
        "tasks_total": summary.tasks_total,
        "constant": config["constant"],
        "config": config,
        "space": {"lhs": state.get("lhs", 0), "sign_periods": state.get("sign_periods", []),
                  "complete": summary.status == "finished"},
        "results": rows,
        "groups": len({r["group"] for r in rows}),
        "families": families,
        "verified": sum(r["verdict"] == "verified" for r in rows),
        "stored": None if opts.no_store else str(opts.db),
    }
    if opts.json:
        emit_json(out)
        return
    _print(out)


def _print(out: dict, limit: int = 50) -> None:
    console = Console(markup=False)
    space = out["space"]
    table = Table(
        title=(
            f"ESMA on {out['constant']}: {space['lhs']} LHS"
            f"{'' if space['complete'] else ' so far'} x "
            f"{len(space['sign_periods'])} sign periods -> {len(out['results'])} "
            f"patterns, {out['groups']} values ({out['seconds']:.2f} s, "
            f"run #{out['run']} [{out['status']}])"
        )
    )
    for col in ("#", "LHS", "signs", "terms", "shape", "d/term", "verdict", "family"):
        table.add_column(col, overflow="fold")
    shown = out["results"][:limit]
    for r in shown:
        terms = ", ".join(str(t) for t in r["terms"][:8]) + ", ..."
        rate = r["digits_per_term"]
        rate_text = "-" if rate is None else f"{rate:.3f}"
        table.add_row(
            str(r["group"]),
            r["lhs"],
            str(r["signs"]),
            terms,
            r["pattern"] + (f"/{r['period']}" if r["period"] > 1 else ""),
            rate_text,
            f"{r['verdict']} ({r['digits']})",
            "-" if r.get("family") is None else f"F{r['family']}",
        )
    console.print(table)
    fams = Table(title="their families: each representative with its OWN limit")
    for col in ("family", "", "patterns", "representative = its limit"):
        fams.add_column(col, overflow="fold")
    for f in out.get("families", []):
        fams.add_row(f"F{f['id']}", "known" if f["known"] else "new", str(f["patterns"]),
                     f"{f['formula_text']} = {f['claim']}")
    if out.get("families"):
        console.print(fams)
    if len(shown) < len(out["results"]):
        console.print(f"showing {len(shown)} of {len(out['results'])} patterns; all of them "
                      f"are in --json, and `discovery db list` lists their families.")
    k_rate = out["results"][0]["constant_digits_per_term"] if out["results"] else None
    if k_rate is not None:
        console.print(f"K's simple continued fraction: {k_rate:.3f} digits/term")
    where = out["stored"] or "nowhere (--no-store)"
    console.print(f"recorded in {where}; running the same command again resumes the run.")
