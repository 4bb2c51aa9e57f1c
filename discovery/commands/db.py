"""``discovery db ...``: the conjecture store as a catalogue of formula families
(read-only; safe while a run writes).

* ``db list``: the families (representative = its own claim, members, digits, δ, known/new),
  ``--members`` to expand them, ``--conjectures`` for the flat list of conjectures;
* ``db find --value X | --formula P``: families whose limit is a small Möbius image of a
  number (else what the constant catalogue says it is), conjectures with a given a(n)/b(n);
* ``db show REF``: a conjecture (id or key) with its family and relations as sentences, or a
  family (``F7``) with its members;
* ``db graph``: the families and the relations between them (text, JSON, PNG, GraphML);
* ``db export``: JSON, LaTeX, CSV or GraphML.

Wired into the main CLI with ``app.add_typer(db_app, name="db")``.

Every command checks the store's path before opening it
(:func:`~discovery.user_files.check_store_path`: an existing regular file) and every output's
path before opening the store (:func:`~discovery.user_files.check_output_path`: not the store,
nor its journal files); an output is written to a temporary file renamed into place, so a
failure leaves no partial file. What the store holds is printed
:func:`~discovery.text.printable` (:func:`db_views.Console`, :func:`db_views.Table`).
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from discovery.commands import db_views as v
from discovery.commands._common import emit_json, user_errors
from discovery.commands._rich import box
from discovery.commands.db_views import Console, Table
from discovery.user_files import check_output_path, check_store_path
from solvers.errors import DiscoveryError, StoreError

if TYPE_CHECKING:  # the store is imported when a command opens it (a fast `discovery` start)
    from discovery.store import ConjectureRecord, RunRecord, Store

#: ``discovery.store.DEFAULT_DB`` and ``STATUSES``, spelled out so that building the command
#: line does not import the store (tests/test_startup.py checks that they agree).
DEFAULT_DB = "conjectures.db"
STATUSES = ("proposed", "inconclusive", "verified", "refuted", "proven", "contradicted")

__all__ = ["db_app", "main"]

db_app = typer.Typer(
    help="Query the conjecture store (read-only: safe while a run is writing).",
    no_args_is_help=True,
)

DB = typer.Option(Path(DEFAULT_DB), "--db", help="The conjecture store (SQLite file).")
JSON = typer.Option(False, "--json", help="Print one JSON object on stdout.")


def _open(db: Path) -> Store:
    """The store ``db``, read-only: an existing regular file (else one line, nothing made)."""
    from discovery.store import Store

    return Store(check_store_path(db, must_exist=True), readonly=True)


def _bounded(n: int) -> int:
    """A limit or offset SQLite can take (larger ones mean the same: every row)."""
    return min(n, v.MAX_SQL_INT)


def _check_outputs(db: Path, **outputs: Path | None) -> None:
    """Refuse outputs (by option name) that are the store, its journals, a directory, in a
    missing directory, or the same file as another output; before the store is opened."""
    check_store_path(db, must_exist=True)
    given = [(option, path) for option, path in outputs.items() if path is not None]
    for i, (option, path) in enumerate(given):
        if v.same_file(path, db):
            raise DiscoveryError(f"{option} {path} is the store itself: refusing to overwrite it")
        check_output_path(path, reads=[db], what=option)  # its journals, a directory, ...
        for other, earlier in given[:i]:
            if v.same_file(path, earlier):
                raise DiscoveryError(f"{option} {path} is also {other}: give two files")


def _set_new_mode(tmp: Path, target: Path) -> None:
    """Give ``tmp`` the mode of the file it replaces, or of a new file (``0o666 & ~umask``)."""
    if target.exists():
        shutil.copymode(target, tmp)
        return
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)


def _copy_into(tmp: Path, target: Path) -> None:
    """Write the bytes of ``tmp`` into ``target`` (a device, a FIFO, or a file that cannot be
    replaced); a FIFO that nothing reads is an error, not a wait."""
    flags = os.O_WRONLY | getattr(os, "O_NONBLOCK", 0) | (os.O_TRUNC if target.is_file() else 0)
    try:
        fd = os.open(target, flags)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise OSError(exc.errno, "nothing reads this FIFO") from None
        raise
    os.set_blocking(fd, True)
    with os.fdopen(fd, "wb") as dst, open(tmp, "rb") as src:
        shutil.copyfileobj(src, dst)


def _write_output(path: Path, produce: Callable[[Path], object], what: str) -> Path:
    """Have ``produce(tmp)`` write a temporary file, then put it at ``path``.

    A regular (or new) file is replaced by renaming the temporary file (made in its directory)
    over it, so a failure leaves it as it was; a device or a FIFO gets the bytes copied in.

    Raises
    ------
    DiscoveryError
        For any error of the file system (one line naming ``path``).
    """
    if path.exists() and not path.is_file():  # a device or FIFO (/dev/stdout: a magic link)
        target, directory = path, None
    else:  # a regular or new file, behind any symbolic links: replaced by a rename
        target = Path(os.path.realpath(path))
        directory = target.parent
    try:
        try:
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix,
                                        dir=directory)
        except PermissionError:  # a directory this user may not write: write the file itself
            if directory is None or not target.exists():
                raise
            directory = None
            fd, name = tempfile.mkstemp(suffix=target.suffix)
        os.close(fd)
        tmp = Path(name)
        try:
            produce(tmp)
            if directory is not None:
                _set_new_mode(tmp, target)
                os.replace(tmp, target)
            else:
                _copy_into(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise DiscoveryError(f"cannot write {what} {path}: {exc.strerror or exc}") from None
    return path


_short = v.short
_summary = v.summary


def _found_by_runs(store: Store, rec: ConjectureRecord) -> list[RunRecord]:
    """The runs that found a conjecture (its ``found-by`` relations to ``run:<id>``)."""
    runs = []
    for r in store.relations(src=rec.key, type="found-by"):
        prefix, _, number = r.dst.partition(":")
        run_id = v.sql_int(number) if prefix == "run" else None
        if run_id is None:
            continue
        try:
            runs.append(store.run(run_id))
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
    console = Console()
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


SORT_HELP = "digits (default) | delta | found | members"
LIMITLESS_KINDS = ("program", "bound")  # formulas without a limit: each its own family


def _filters(constant: str | None, kind: str | None, status: str | None,
             min_digits: int | None) -> dict:
    return {"constant": constant, "kind": kind, "status": status, "min_digits": min_digits}


@db_app.command("list")
def list_(
    constant: str | None = typer.Option(None, "--constant", help="e.g. zeta3 (aliases work)"),
    kind: str | None = typer.Option(None, "--kind", help="e.g. pcf, esma, cmf (of the "
                                    "representative; of the conjecture with --conjectures)"),
    status: str | None = typer.Option(None, "--status", help=" | ".join(STATUSES)),
    min_digits: int | None = typer.Option(None, "--min-digits", min=0),
    new: bool = typer.Option(False, "--new", help="only new families (none of their formulas "
                             "is in the literature table)"),
    members: bool = typer.Option(False, "--members", help="under each family, its members "
                                 "with their own claims and maps to the representative"),
    member_limit: int = typer.Option(20, "--member-limit", min=1,
                                     help="members shown per family with --members"),
    sort: str = typer.Option("digits", "--sort", help=SORT_HELP),
    limit: int = typer.Option(50, "--limit", min=1, help="at most this many rows"),
    offset: int = typer.Option(0, "--offset", min=0, help="skip this many rows first"),
    conjectures: bool = typer.Option(False, "--conjectures",
                                     help="the flat list of conjectures instead of families"),
    db: Path = DB,
    json_: bool = JSON,
) -> None:
    """List the families of formulas (or, with --conjectures, the conjectures), filtered.

    Programs and bounds (``--kind program|bound``) have no limit: each is a family of its
    own, so they are listed as conjectures.
    """
    limit, offset, member_limit = _bounded(limit), _bounded(offset), _bounded(member_limit)
    if min_digits is not None:
        min_digits = _bounded(min_digits)
    filters = _filters(constant, kind, status, min_digits)
    with user_errors():
        if conjectures and (new or members):
            raise ValueError("--new and --members are about families: not with --conjectures")
        conjectures = conjectures or (kind in LIMITLESS_KINDS and not (new or members))
        with _open(db) as store:
            if conjectures:
                records = store.query(**filters, limit=limit, offset=offset)
                total = v.count_conjectures(store, **filters)
            else:
                fams = store.families(**filters, new=True if new else None, sort=sort,
                                      limit=limit, offset=offset)
                total = store.count_families(**filters, new=True if new else None)
                expanded = {f.id: store.family_members(f.id, member_limit)
                            for f in fams} if members else {}
    n = len(records if conjectures else fams)
    shown = (f"showing {offset + 1}-{offset + n} of {total:,}" if offset and n else
             f"showing {n} of {total:,}")
    if conjectures:
        if json_:
            emit_json({"db": str(db), "listing": "conjectures", "count": len(records),
                       "total": total, "offset": offset,
                       "conjectures": [_summary(r) for r in records]})
            return
        table = Table(title=f"{len(records)} conjectures in {db}",
                      caption=f"{shown} conjectures")
        for col in ("id", "status", "digits", "kind", "constant", "claim (its own)",
                    "formula", "family"):
            table.add_column(col, overflow="fold")
        for r in records:
            table.add_row(str(r.id), r.status, "-" if r.digits is None else str(r.digits),
                          r.kind, r.constant or "-", r.claim, _short(r.formula_text, 70),
                          "-" if r.family is None else f"F{r.family}")
        Console().print(table)
        return
    if json_:
        rows = []
        for f in fams:
            d = f.to_dict()
            if members:
                d["member_list"] = [v.member_summary(r, f) for r in expanded[f.id]]
            rows.append(d)
        emit_json({"db": str(db), "listing": "families", "families": rows, "count": len(rows),
                   "total": total, "offset": offset, "sort": sort})
        return
    console = Console()
    caption = f"{shown} families, sorted by {sort}"
    if not members:
        console.print(v.families_table(fams, f"families in {db}", caption))
        return
    console.print(f"families in {db}: {caption}")
    for f in fams:
        console.print(v.members_table(f, expanded[f.id]))


@db_app.command("find")
def find(
    value: str | None = typer.Option(None, "--value", help="a decimal number: the families "
                                     "whose limit is it or a small Möbius image of it"),
    formula: str | None = typer.Option(None, "--formula", help="a polynomial a(n) or b(n) "
                                       "such as 4n+2 (or text of a formula or claim)"),
    constant: str | None = typer.Option(None, "--constant", help="only this constant"),
    limit: int = typer.Option(20, "--limit", min=1, help="at most this many families"),
    db: Path = DB,
    json_: bool = JSON,
) -> None:
    """Find families by value (else identify the value) or conjectures by a(n)/b(n)."""
    limit = _bounded(limit)
    with user_errors():
        if (value is None) == (formula is None):
            raise ValueError("give exactly one of --value and --formula")
        with _open(db) as store:
            if value is not None:
                out = v.find_value_report(store, value, constant, limit)
            else:
                out = v.find_formula_report(store, str(formula), constant, limit)
    out["db"] = str(db)
    if json_:
        if value is None:  # the records kept for printing are not JSON
            out["families"] = [{k: x for k, x in group.items() if not k.startswith("_")}
                               for group in out["families"]]
        emit_json(out)
        return
    console = Console()
    if value is not None:
        _print_value(console, out)
    else:
        _print_formula(console, out)


def _print_value(console: Console, out: dict) -> None:
    from discovery.families import mobius_display

    if out["matches"]:
        table = Table(title=f"{out['value']}: {len(out['matches'])} families",
                      caption="y: the limit of the family's representative", box=box.SIMPLE_HEAD,
                      show_lines=True)
        table.add_column("family", no_wrap=True)
        table.add_column("representative y = its own claim", overflow="fold", ratio=2)
        table.add_column("value", overflow="fold", ratio=1)
        table.add_column("digits", justify="right", no_wrap=True)
        for m in out["matches"]:
            f = m["family"]
            rep = f["representative"] or {}
            value_cell = f"= {mobius_display(m['mobius'], 'y')}"
            if m.get("value_claim"):
                value_cell += f"\n= {m['value_claim']}"
            table.add_row(f"F{f['id']}\n{'known' if f['known'] else 'new'}",
                          f"{_short(rep.get('formula_text', '?'), 160)}\n= {f['claim']}",
                          value_cell, str(m["digits"]))
        console.print(table)
        return
    ident = out["identified"] or {}
    if ident.get("found"):
        console.print(f"{out['value']} is not in the store; the catalogue identifies it as "
                      f"{ident['relation']} ({ident['kind']}, uses {ident['digits_used']:g} of "
                      f"{ident['digits_available']:g} digits)", soft_wrap=True)
    else:
        console.print(f"{out['value']} is not in the store, and the catalogue does not "
                      f"identify it ({ident.get('outcome', '?')})", soft_wrap=True)
    fams = out["constant_families"]
    if fams:
        names = ", ".join(sorted({str(f["constant"]) for f in fams}))
        table = Table(title=f"the store's families of {names}")
        for col in ("family", "representative", "claim (the representative's)", "members",
                    "digits", "known / new"):
            table.add_column(col, overflow="fold")
        for f in fams:
            rep = f["representative"] or {}
            table.add_row(f"F{f['id']}", _short(rep.get("formula_text", "?"), 60), f["claim"],
                          f"{f['members']:,}", str(f["digits"] or "-"),
                          "known" if f["known"] else "new")
        console.print(table)
    elif ident.get("found"):
        console.print("the store has no family of that constant")


def _print_formula(console: Console, out: dict) -> None:
    console.print(f"{out['count']} conjectures with {out['formula']!r} in "
                  f"{out['total_families']} families", soft_wrap=True)
    for g in out["families"]:
        fam, recs = g["_record"], g["_members"]
        if fam is None:
            console.print("(conjectures without a family)")
            continue
        console.print(v.members_table(fam, recs, caption=f"{g['count']} of its "
                                      f"{fam.members:,} members match"))


@db_app.command("show")
def show(
    ref: str = typer.Argument(..., metavar="REF",
                              help="conjecture id or key, or a family: F7 or family:7"),
    limit: int = typer.Option(50, "--limit", min=1, help="members shown for a family"),
    db: Path = DB,
    json_: bool = JSON,
) -> None:
    """One conjecture (its family, evidence, relations as sentences) or one family."""
    limit = _bounded(limit)
    with user_errors(), _open(db) as store:
        what, obj = v.resolve_ref(store, ref)
        if what == "family":
            members = store.family_members(obj.id, limit)
        else:
            rec = obj
            fam = store.family(rec.family) if rec.family is not None else None
            out_rel = store.relations(src=rec.key)
            in_rel = store.relations(dst=rec.key)
            sentences = v.relation_sentences(store, rec, out_rel, in_rel)
            runs = _found_by_runs(store, rec)
    if what == "family":
        _show_family(obj, members, db, json_)
        return
    n_rel = sum(r.type != "found-by" for r in out_rel + in_rel)
    if json_:
        emit_json({**rec.to_dict(), "family": None if fam is None else fam.to_dict(),
                   "map_to_representative": None if fam is None else v.member_map(rec, fam),
                   "relations": [r.to_dict() for r in out_rel],
                   "related_from": [r.to_dict() for r in in_rel],
                   "relation_sentences": sentences, "relations_total": n_rel,
                   "runs": [{k: val for k, val in run.to_dict().items() if k != "state"}
                            for run in runs]})  # the engine's state can be large
        return
    console = Console()
    console.print(f"#{rec.id} {rec.key} [{rec.status}]")
    console.print(f"  {rec.formula_text} = {rec.claim}", soft_wrap=True)
    console.print(f"  constant {rec.constant or '-'}, best digits "
                  f"{'-' if rec.digits is None else rec.digits}, found {rec.times_found}x by "
                  f"{rec.engine or '-'}, first {rec.first_seen}, last {rec.last_seen}")
    if fam is not None:
        console.print(f"  {v.family_line(fam, rec)}", soft_wrap=True)
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
    if n_rel:
        console.print(f"relations ({n_rel}):")
    shown = 0
    for direction in ("out", "in"):
        some = [s for s in sentences if s["direction"] == direction][:20]
        for s in some:
            console.print(f"  {s['text']}", soft_wrap=True)
        shown += len(some)
    if n_rel > shown:
        console.print(f"  … and {n_rel - shown} more (db show {rec.id} --json)")


def _show_family(fam, members: list[ConjectureRecord], db: Path, json_: bool) -> None:
    if json_:
        emit_json({"db": str(db), "family": fam.to_dict(),
                   "members": [v.member_summary(r, fam) for r in members],
                   "total_members": fam.members})
        return
    console = Console()
    rep = fam.representative
    console.print(f"family F{fam.id} ({v.family_tag(fam)})", soft_wrap=True)
    console.print(f"  {fam.formula_text} = {fam.claim}", soft_wrap=True)
    console.print(f"  constant {fam.constant or '-'}, {fam.members:,} members, best digits "
                  f"{'-' if fam.digits is None else fam.digits}, δ "
                  f"{'-' if fam.delta is None else f'{fam.delta:.4f}'}, first found "
                  f"{fam.first_found or '-'}", soft_wrap=True)
    if rep is not None:
        console.print(f"  representative #{rep.id} {rep.key} [{rep.status}]")
    console.print(v.members_table(fam, members))


@db_app.command("graph")
def graph(
    constant: str | None = typer.Option(None, "--constant", help="only this constant's "
                                        "families (and the families linked to them)"),
    to: str | None = typer.Option(None, "--to", help="also show paths to this constant"),
    png: Path | None = typer.Option(None, "--png", help="draw the families (PNG)"),
    graphml: Path | None = typer.Option(None, "--graphml",
                                        help="export the family graph as GraphML"),
    radius: int = typer.Option(1, "--radius", min=0, max=6, help="with --constant: follow "
                               "links to other constants' families this far"),
    max_nodes: int = typer.Option(60, "--max-nodes", min=1, help="families drawn at most"),
    db: Path = DB,
    json_: bool = JSON,
) -> None:
    """The families and the relations between them: coboundaries, contractions, derived."""
    from discovery import graph as g

    with user_errors():
        if to is not None and constant is None:
            raise ValueError("--to needs --constant")
        _check_outputs(db, **{"--png": png, "--graphml": graphml})
        with _open(db) as store:
            F = g.family_graph(store, constant, radius=radius)
            out: dict = {"db": str(db), **g.family_graph_data(F)}
            if constant is not None:
                G = g.build_graph(store)
                out["constant"] = g.constant_node(constant)
                out["nodes"], out["edges"] = G.number_of_nodes(), G.number_of_edges()
                out["formulas"] = [
                    {"key": k, **{a: G.nodes[k].get(a) for a in ("id", "kind", "claim",
                                                                  "status", "digits",
                                                                  "family")}}
                    for k in g.formulas_for(G, constant)
                ]
                if to is not None:
                    out["paths"] = [g.describe_path(G, p)
                                    for p in g.relations_between(G, constant, to)]
        if png is not None:
            out["png"] = str(_write_output(
                png, lambda tmp: g.draw_family_graph(F, tmp, max_nodes=max_nodes), "--png"))
        if graphml is not None:
            out["graphml"] = str(_write_output(
                graphml, lambda tmp: g.export_graphml(F, tmp), "--graphml"))
    if json_:
        emit_json(out)
        return
    console = Console()
    table = Table(title=out["title"], box=box.SIMPLE_HEAD, show_lines=True)
    table.add_column("family", no_wrap=True)
    table.add_column("representative = its own claim", overflow="fold", ratio=3)
    table.add_column("constant", overflow="fold")
    for col in ("members", "digits"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("linked to", overflow="fold", ratio=1)
    for f in out["families"]:
        links = [(lk["target"] if lk["source"] == f["node"] else lk["source"], lk["label"])
                 for lk in out["links"] if f["node"] in (lk["source"], lk["target"])]
        cell = f"{_short(f['formula'], 160)}\n= {f['claim']}"
        if f["known"]:
            cell += f"\n(known: {_short(f['source'], 50)})"
        table.add_row(f"{f['node']}\n{'known' if f['known'] else 'new'}", cell,
                      str(f["constant"]), f"{f['members']:,}",
                      "-" if f["digits"] is None else str(f["digits"]),
                      "\n".join(f"{n}: {label}" for n, label in links) or "-")
    console.print(table)
    for p in out.get("paths", []):
        console.print(f"path: {p}", soft_wrap=True)
    for k in ("png", "graphml"):
        if k in out:
            console.print(f"{k}: {out[k]}")


@db_app.command("export")
def export(
    out: Path | None = typer.Option(None, "--out", help="write to this file instead of stdout"),
    graph_json: bool = typer.Option(False, "--graph", help="node-link JSON of the graph instead"),
    graphml: Path | None = typer.Option(None, "--graphml", help="also write the conjecture "
                                        "graph as GraphML here (with family attributes)"),
    latex: bool = typer.Option(False, "--latex", help="a LaTeX document: one entry per family"),
    csv_: bool = typer.Option(False, "--csv", help="CSV: one row per family"),
    db: Path = DB,
    json_: bool = typer.Option(True, "--json", help="JSON (the default format; accepted for "
                               "symmetry with the other commands)"),
) -> None:
    """Export the store: JSON (families, conjectures, relations, runs), LaTeX, CSV, GraphML."""
    import json

    from discovery import graph as g
    from discovery.commands._common import to_jsonable

    with user_errors():
        if sum((graph_json, latex, csv_)) > 1:
            raise ValueError("give at most one of --graph, --latex and --csv")
        _check_outputs(db, **{"--out": out, "--graphml": graphml})
        with _open(db) as store:
            if graph_json or graphml is not None:
                G = g.build_graph(store)
            if latex or csv_:
                fams = sorted(store.families(limit=None, sort="members"),
                              key=lambda f: str(f.constant or ""))
                text = (v.latex_document(store, fams) if latex else v.families_csv(fams))
            else:
                data = g.export_json(G) if graph_json else store.export()
                text = None
        if graphml is not None:
            _write_output(graphml, lambda tmp: g.export_graphml(G, tmp), "--graphml")
    if out is None:
        if text is None:
            emit_json(data)
        else:
            sys.stdout.write(text)
        return
    body = text if text is not None else json.dumps(to_jsonable(data)) + "\n"
    with user_errors():
        _write_output(out, lambda tmp: tmp.write_text(body, encoding="utf-8"), "--out")
    sys.stderr.write(f"wrote {out}\n")


def main() -> None:
    """``python -m discovery.commands.db ...`` (the same commands as ``discovery db``)."""
    from discovery.commands._common import cli_main

    cli_main(db_app, prog_name="discovery db")


if __name__ == "__main__":
    main()
