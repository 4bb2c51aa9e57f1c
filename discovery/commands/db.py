"""``discovery db ...``: query the conjecture store (read-only; safe while a run writes).

Wired into the main CLI with ``app.add_typer(db_app, name="db")``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from discovery.commands._common import emit_json, user_errors
from discovery.store import DEFAULT_DB, STATUSES, ConjectureRecord, RunRecord, Store
from solvers.errors import StoreError

__all__ = ["db_app", "main"]

db_app = typer.Typer(
    help="Query the conjecture store (read-only: safe while a run is writing).",
    no_args_is_help=True,
)

DB = typer.Option(Path(DEFAULT_DB), "--db", help="The conjecture store (SQLite file).")
JSON = typer.Option(False, "--json", help="Print one JSON object on stdout.")


def _open(db: Path) -> Store:
    return Store(db, readonly=True)


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _summary(rec: ConjectureRecord) -> dict:
    """A conjecture for listings: everything but the evidence entries."""
    d = rec.to_dict()
    d["evidence_count"] = len(d.pop("evidence"))
    return d


def _found_by_runs(store: Store, rec: ConjectureRecord) -> list[RunRecord]:
    """The runs that found a conjecture (its ``found-by`` relations to ``run:<id>``)."""
    runs = []
    for r in store.relations(src=rec.key, type="found-by"):
        prefix, _, number = r.dst.partition(":")
        if prefix != "run" or not number.isdigit():
            continue
        try:
            runs.append(store.run(int(number)))
        except StoreError:  # a dangling edge: nothing to show
            continue
    return runs


def _session_for(run: RunRecord, rec: ConjectureRecord) -> dict | None:
    """The session of ``run`` that first found ``rec`` (else the latest one)."""
    sessions = [s for s in run.provenance if isinstance(s, dict)]
    if not sessions:
        return None
    whens = [str(e.get("when")) for e in rec.evidence if e.get("run") == run.id and e.get("when")]
    if whens:
        first = min(whens)
        before = [s for s in sessions if str(s.get("started", "")) <= first]
        if before:
            return before[-1]
    return sessions[-1]


def _provenance_text(session: dict | None, sessions: int) -> str:
    """``started 2026-01-02 03:04:05 UTC, package 0.1.0, git abc1234, ...`` (one line)."""
    if session is None:
        return "no provenance recorded"
    parts = []
    started = session.get("started")
    if isinstance(started, str) and started:
        parts.append(f"started {started[:19].replace('T', ' ')} UTC")
    for key in ("package", "git", "python", "host"):
        value = session.get(key)
        if value is None:
            continue
        if key == "git" and isinstance(value, str):
            commit, dirty, _ = value.partition("-dirty")
            value = commit[:7] + dirty
        parts.append(f"{key} {value}")
    if session.get("command"):
        parts.append(f'command "{_short(str(session["command"]), 80)}"')
    if "seed" in session and session["seed"] is not None:
        parts.append(f"seed {session['seed']}")
    if sessions > 1:
        parts.append(f"{sessions} sessions")
    return ", ".join(parts) or "no provenance recorded"


@db_app.command("stats")
def stats(db: Path = DB, json_: bool = JSON) -> None:
    """Counts of conjectures by status, kind and constant; relations; runs."""
    with user_errors(), _open(db) as store:
        s = store.stats()  # counts only: no finished task keys, no engine state
    runs = s["run_list"]
    if json_:
        emit_json(s)
        return
    console = Console(markup=False)
    console.print(f"{s['path']}: {s['conjectures']} conjectures, "
                  f"{s['relations']} relations, {s['runs']} runs, "
                  f"{s['finished_tasks']} finished tasks (schema v{s['schema_version']})")
    for title, key in (("status", "by_status"), ("kind", "by_kind"),
                       ("constant", "by_constant"), ("relation", "by_relation")):
        if s[key]:
            table = Table(title=f"by {title}")
            table.add_column(title)
            table.add_column("count", justify="right")
            for k, v in s[key].items():
                table.add_row(k, str(v))
            console.print(table)
    if runs:
        table = Table(title="runs")
        for col in ("id", "name", "engine", "status", "tasks", "started", "ended"):
            table.add_column(col)
        for r in runs:
            table.add_row(str(r["id"]), r["name"], r["engine"], r["status"],
                          str(r["finished_tasks"]), r["started"], r["ended"] or "-")
        console.print(table)


@db_app.command("list")
def list_(
    constant: str | None = typer.Option(None, "--constant", help="e.g. zeta3 (aliases work)"),
    kind: str | None = typer.Option(None, "--kind", help="e.g. pcf, esma, cmf"),
    status: str | None = typer.Option(None, "--status", help=" | ".join(STATUSES)),
    min_digits: int | None = typer.Option(None, "--min-digits", min=0),
    limit: int | None = typer.Option(None, "--limit", min=1, help="at most this many rows"),
    db: Path = DB,
    json_: bool = JSON,
) -> None:
    """List conjectures, filtered by constant, kind, status and digits."""
    with user_errors(), _open(db) as store:
        records = store.query(constant=constant, kind=kind, status=status,
                              min_digits=min_digits, limit=limit)
    if json_:
        emit_json({"db": str(db), "count": len(records),
                   "conjectures": [_summary(r) for r in records]})
        return
    table = Table(title=f"{len(records)} conjectures in {db}")
    for col in ("id", "status", "digits", "kind", "constant", "claim", "formula"):
        table.add_column(col, overflow="fold")
    for r in records:
        table.add_row(str(r.id), r.status, "-" if r.digits is None else str(r.digits), r.kind,
                      r.constant or "-", _short(r.claim, 40), _short(r.formula_text))
    Console(markup=False).print(table)


@db_app.command("show")
def show(
    id_or_key: str = typer.Argument(..., metavar="ID", help="conjecture id or canonical key"),
    db: Path = DB,
    json_: bool = JSON,
) -> None:
    """One conjecture with all its evidence and relations."""
    with user_errors(), _open(db) as store:
        rec = store.get(id_or_key)
        out_rel = [r.to_dict() for r in store.relations(src=rec.key)]
        in_rel = [r.to_dict() for r in store.relations(dst=rec.key)]
        runs = _found_by_runs(store, rec)
    if json_:
        emit_json({**rec.to_dict(), "relations": out_rel, "related_from": in_rel,
                   "runs": [{k: v for k, v in run.to_dict().items() if k != "state"}
                            for run in runs]})  # the engine's state can be large
        return
    console = Console(markup=False)
    console.print(f"#{rec.id} {rec.key} [{rec.status}]")
    console.print(f"  {rec.formula_text} = {rec.claim}")
    console.print(f"  constant {rec.constant or '-'}, best digits "
                  f"{'-' if rec.digits is None else rec.digits}, found {rec.times_found}x by "
                  f"{rec.engine or '-'}, first {rec.first_seen}, last {rec.last_seen}")
    for run in runs:
        text = _provenance_text(_session_for(run, rec), len(run.provenance))
        console.print(f"  found by run #{run.id} {run.name}/{run.engine} ({text})",
                      soft_wrap=True)
    table = Table(title="evidence")
    for col in ("when", "verdict", "digits", "depth", "seconds", "engine", "run"):
        table.add_column(col)
    for e in rec.evidence:
        table.add_row(*(str(e.get(k, "-")) for k in
                        ("when", "verdict", "digits", "depth", "seconds", "engine", "run")))
    console.print(table)
    for r in out_rel:
        console.print(f"  -{r['type']}-> {r['dst']}")
    for r in in_rel:
        console.print(f"  <-{r['type']}- {r['src']}")


@db_app.command("graph")
def graph(
    constant: str | None = typer.Option(None, "--constant", help="centre the view on it"),
    to: str | None = typer.Option(None, "--to", help="also show paths to this constant"),
    png: Path | None = typer.Option(None, "--png", help="draw the neighbourhood (PNG)"),
    graphml: Path | None = typer.Option(None, "--graphml", help="export the graph as GraphML"),
    radius: int = typer.Option(2, "--radius", min=1, max=6),
    db: Path = DB,
    json_: bool = JSON,
) -> None:
    """The conjecture graph: formulas of a constant, families, paths, drawings, GraphML."""
    from discovery import graph as g

    with user_errors():
        if (png is not None or to is not None) and constant is None:
            raise ValueError("--png and --to need --constant")
        with _open(db) as store:
            G = store.graph()
        out: dict = {"db": str(db), "nodes": G.number_of_nodes(), "edges": G.number_of_edges()}
        if constant is not None:
            keys = g.formulas_for(G, constant)
            out["constant"] = g.constant_node(constant)
            out["formulas"] = [
                {"key": k, **{a: G.nodes[k].get(a) for a in ("id", "kind", "claim", "status",
                                                              "digits")}}
                for k in keys
            ]
            members = set(keys)
            out["families"] = [f for f in g.families(G) if members.intersection(f)]
            if to is not None:
                paths = g.relations_between(G, constant, to)
                out["paths"] = [g.describe_path(G, p) for p in paths]
            if png is not None:
                out["png"] = str(g.draw_neighbourhood(G, constant, png, radius=radius))
        else:
            out["families"] = g.families(G)
        if graphml is not None:
            H = g.neighbourhood(G, constant, radius=radius) if constant is not None else G
            out["graphml"] = str(g.export_graphml(H, graphml))
    if json_:
        emit_json(out)
        return
    console = Console(markup=False)
    console.print(f"graph of {db}: {out['nodes']} nodes, {out['edges']} edges")
    if constant is not None:
        table = Table(title=f"{len(out['formulas'])} formulas for {out['constant']}")
        for col in ("id", "status", "digits", "claim"):
            table.add_column(col)
        for f in out["formulas"]:
            table.add_row(str(f["id"]), str(f["status"]), str(f["digits"] or "-"),
                          str(f["claim"]))
        console.print(table)
    for fam in out["families"][:20]:
        console.print(f"family of {len(fam)}: {', '.join(fam[:6])}{' …' if len(fam) > 6 else ''}")
    for p in out.get("paths", []):
        console.print(f"path: {p}")
    for k in ("png", "graphml"):
        if k in out:
            console.print(f"{k}: {out[k]}")


@db_app.command("export")
def export(
    out: Path | None = typer.Option(None, "--out", help="write to this file instead of stdout"),
    graph_json: bool = typer.Option(False, "--graph", help="node-link JSON of the graph instead"),
    graphml: Path | None = typer.Option(None, "--graphml", help="also write GraphML here"),
    db: Path = DB,
    json_: bool = typer.Option(True, "--json", help="JSON (the only format; accepted for "
                               "symmetry with the other commands)"),
) -> None:
    """Export the whole store (conjectures, relations, runs) as one JSON object."""
    import json

    from discovery import graph as g
    from discovery.commands._common import to_jsonable

    with user_errors(), _open(db) as store:
        if graph_json or graphml is not None:
            G = store.graph()
            if graphml is not None:
                g.export_graphml(G, graphml)
        data = g.export_json(G) if graph_json else store.export()
    if out is None:
        emit_json(data)
        return
    with user_errors():
        out.write_text(json.dumps(to_jsonable(data)) + "\n")
    sys.stderr.write(f"wrote {out}\n")


def main() -> None:
    """``python -m discovery.commands.db ...`` (the same commands as ``discovery db``)."""
    from discovery.commands._common import cli_main

    cli_main(db_app, prog_name="discovery db")


if __name__ == "__main__":
    main()
