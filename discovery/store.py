"""The conjecture store: the only place of the workbench that touches the database.

An SQLite file (standard library :mod:`sqlite3`) in WAL mode, so that a notebook or
``discovery db list`` can read while a run writes. Every write happens in one
``BEGIN IMMEDIATE ... COMMIT`` transaction; the schema carries a version number
and is upgraded by forward migrations. A file that is not a store (random bytes,
a text file, another SQLite database) or a store with a newer schema is refused
with :class:`~solvers.errors.StoreError` and never modified.

Records
-------
* **conjectures**: one row per canonical key (``Candidate.key``). Re-finding a
  known formula appends an evidence entry and bumps ``times_found``; it never
  adds a row. The status only moves up the order
  ``proposed < inconclusive < verified < refuted < proven``: a refutation needs a
  refuting evidence entry, and nothing moves a verified conjecture back to proposed. A
  proof and a refutation of the same claim are a contradiction, not a merge: the status
  becomes ``contradicted`` (and stays so), with both evidence entries kept, for a person to
  look at.
* **relations**: typed edges ``src -type-> dst`` between keys (conjectures,
  ``const:<name>`` constants, ``run:<id>`` runs), unique per ``(src, type, dst)``.
* **runs** and **finished_tasks**: what each run (engine + configuration) has
  finished, so an interrupted run resumes exactly. :meth:`Store.finish_task`
  records a task's conjectures, its key, the removal of its pending row and the
  engine's state in one transaction. Each run keeps the provenance of its sessions
  (package and library versions, git commit, host, command line, seed).
* **pending_tasks**: tasks submitted but not finished (:meth:`Store.add_pending`),
  in submission order, so a sequential engine resumes exactly after ``kill -9``.

Integers of any size in formulas round-trip exactly: those too long for Python's
int/str digit limit are stored as ``{"$int": "<hex>"}``.

The store is this module (:class:`Store`: connection, transactions, conjectures, relations,
families, summaries) and three package-private companions whose public names it
re-exports: :mod:`discovery.store_schema` (tables, version, migrations),
:mod:`discovery.store_records` (exact JSON, record objects, row conversion, filters) and
:mod:`discovery.store_runs` (runs, sessions and tasks, mixed into :class:`Store`). The
conjecture graph is built from a store by :func:`discovery.graph.build_graph`.

Examples
--------
>>> from search.base import Candidate
>>> store = Store(":memory:")
>>> c = Candidate("pcf", "pcf:golden", {"a": [1], "b": [1]}, "(1+sqrt(5))/2", "phi")
>>> store.record(c, {"verdict": "verified", "digits": 50})
1
>>> store.record(c, {"verdict": "verified", "digits": 120})   # same key: no new row
1
>>> rec = store.get("pcf:golden")
>>> rec.status, rec.digits, rec.times_found
('verified', 120, 2)
>>> rec
Conjecture #1 [verified, 120 digits]: PCF(1, 1) = (1+sqrt(5))/2
>>> store.close()
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from discovery.store_records import (
    _CONJ_COLUMNS,
    _RANK,
    RELATION_TYPES,
    STATUSES,
    ConjectureRecord,
    RelationRecord,
    RunRecord,
    _now,
    _row_to_record,
    dumps,
    filter_sql,
    formula_text,
    loads,
)
from discovery.store_records import (
    _constant_names as _constant_names,  # re-exported: discovery.graph, commands
)
from discovery.store_runs import MAX_SESSIONS, RUN_STATUSES, RunLedger
from discovery.store_runs import _config_hash as _config_hash  # re-exported: tests
from discovery.store_schema import (
    _MIGRATIONS as _MIGRATIONS,  # re-exported: tests
)
from discovery.store_schema import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    check_existing,
    check_upgradable,
    connect,
    migrate,
    open_readonly,
)
from discovery.user_files import check_store_path
from search.base import Candidate
from solvers.constants import canonical_constant
from solvers.errors import DiscoveryError, StoreError

__all__ = [
    "Store",
    "ConjectureRecord",
    "RelationRecord",
    "RunRecord",
    "SCHEMA_VERSION",
    "APPLICATION_ID",
    "STATUSES",
    "RELATION_TYPES",
    "RUN_STATUSES",
    "DEFAULT_DB",
    "MAX_EVIDENCE",
    "MAX_SESSIONS",
    "formula_text",
    "filter_sql",
    "dumps",
    "loads",
]

DEFAULT_DB = "conjectures.db"
MAX_EVIDENCE = 64  # entries kept per conjecture: the first one and the latest ones

_VERDICT_STATUS = {
    None: "proposed",
    "proposed": "proposed",
    "inconclusive": "inconclusive",
    "verified": "verified",
    "refuted": "refuted",
    "proven": "proven",
}


def _evidence_dict(evidence: Any) -> dict:
    if evidence is None:
        return {"verdict": None}
    if isinstance(evidence, Mapping):
        return dict(evidence)
    if hasattr(evidence, "to_dict"):
        return dict(evidence.to_dict())
    if dataclasses.is_dataclass(evidence) and not isinstance(evidence, type):
        return dataclasses.asdict(evidence)
    raise StoreError(f"Cannot store evidence of type {type(evidence).__name__}")


def _check_relation_type(rtype: str) -> str:
    if (
        not isinstance(rtype, str)
        or not 0 < len(rtype) <= 40
        or not all(ch.islower() or ch == "-" for ch in rtype)
    ):
        raise StoreError(f"Bad relation type {rtype!r}: use lower-case words joined by '-'")
    return rtype


class Store(RunLedger):
    """A conjecture store in an SQLite file.

    Parameters
    ----------
    path : str or Path
        The database file (created if missing, unless ``readonly``); ``":memory:"`` for
        a throw-away store.
    readonly : bool
        Open for reading only (``mode=ro``): safe to use while another process writes.
    timeout : float
        Seconds to wait for a lock held by another connection (``busy_timeout``).

    Raises
    ------
    StoreError
        If the file is not a conjecture store, has a newer schema, or cannot be opened.
        The file is not modified in that case.

    Examples
    --------
    >>> with Store(":memory:") as store:
    ...     store.stats()["conjectures"]
    0
    """

    def __init__(self, path: str | Path = DEFAULT_DB, *, readonly: bool = False, timeout=30.0):
        self.readonly = bool(readonly)
        self._depth = 0
        self._engines: dict[int, str] = {}
        self._v2 = False  # the file has the v2 schema (known once seen: never goes back)
        memory = str(path) == ":memory:"
        self.path = Path(path) if not memory else Path(":memory:")
        if memory:
            if readonly:
                raise StoreError("A read-only store needs a file, not ':memory:'")
            self._conn = connect(":memory:", uri=False, timeout=timeout)
            self._migrate()
            return
        p = self.path
        try:  # not a directory, a device, a dangling link, a name SQLite cannot take
            check_store_path(p, must_exist=self.readonly)
        except StoreError:
            raise
        except DiscoveryError as exc:
            raise StoreError(str(exc)) from None
        existing = p.exists() and p.stat().st_size > 0
        if existing:
            version = check_existing(p, SCHEMA_VERSION)
            if readonly and version < SCHEMA_VERSION:
                # Readers see the current schema: migrate an older store before reading it.
                check_upgradable(p, version, SCHEMA_VERSION)
                Store(p, timeout=timeout).close()
        elif readonly:
            raise StoreError(f"No conjecture store at {p}")
        if readonly:
            self._conn = open_readonly(p, timeout)
            self._conn.execute("PRAGMA query_only = ON")
        else:
            self._conn = connect(str(p), uri=False, timeout=timeout)
            self._migrate()
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.Error as exc:
                self._conn.close()
                raise StoreError(f"Cannot open {p} for writing: {exc}") from None

    def _migrate(self) -> None:
        """Bring the file to :data:`SCHEMA_VERSION` (:func:`discovery.store_schema.migrate`)."""
        migrate(self._conn, self.path, SCHEMA_VERSION, self._backfill_families)

    def _backfill_families(self) -> None:
        """Inside the migration's transaction: existing conjectures join their families."""
        from discovery.catalogue import backfill_families

        self._depth = 1
        try:
            backfill_families(self)
        finally:
            self._depth = 0

    # -- life cycle ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (idempotent)."""
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()
            self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.readonly else "read-write"
        return f"Store({str(self.path)!r}, {mode})"

    @property
    def schema_version(self) -> int:
        """The schema version of the open store."""
        return self._read("SELECT MAX(version) FROM schema_version")[0][0]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction; nested uses join the outermost one.

        Use it to batch many writes (``record``, ``add_relation``) into one commit.
        """
        if self._conn is None:
            raise StoreError("The store is closed")
        if self.readonly:
            raise StoreError(f"The store {self.path} is open read-only")
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot write to {self.path}: {exc}") from None
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._conn.execute("ROLLBACK")
            raise
        self._depth = 0
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._conn.execute("ROLLBACK")
            raise StoreError(f"Cannot commit to {self.path}: {exc}") from None

    batch = transaction

    def _read(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        if self._conn is None:
            raise StoreError("The store is closed")
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot read {self.path}: {exc}") from None

    def _write(self, sql: str, params: tuple | list = ()) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"Refused by the store {self.path}: {exc}") from None
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot write to {self.path}: {exc}") from None

    # -- conjectures -----------------------------------------------------------------------------

    def record(
        self,
        candidate: Candidate,
        evidence: Any = None,
        run_id: int | None = None,
        *,
        engine: str | None = None,
        when: str | None = None,
        family: Any = None,
    ) -> int:
        """Record a candidate and its verification evidence; return the conjecture id.

        Parameters
        ----------
        candidate : Candidate
            The engine's output (``kind``, ``key``, ``formula``, ``claim``, ``constant``,
            ``evidence``, ``relations``).
        evidence : Evidence, dict or None
            The verifier's result (an object with ``to_dict()`` or a dict with at least
            ``verdict``); ``None`` records the candidate as merely proposed.
        run_id : int, optional
            The run that found it: adds a ``found-by`` relation to ``run:<id>``.
        engine : str, optional
            Engine name; defaults to the run's engine.
        family : discovery.families.Assignment, optional
            The candidate's family; computed (:func:`discovery.families.assign`) if not given.

        A known key gets a new evidence entry, ``times_found + 1`` and the merged status.
        Every conjecture joins its family (:mod:`discovery.catalogue`) in the same
        transaction.
        """
        entry = _evidence_dict(evidence)
        verdict = entry.get("verdict")
        if isinstance(verdict, str):
            verdict = verdict.lower()
        if verdict not in _VERDICT_STATUS:
            raise StoreError(f"Unknown verdict {verdict!r} for {candidate.key}")
        entry["verdict"] = verdict
        when = when or _now()
        with self.transaction():
            if engine is None and run_id is not None:
                engine = self._run_engine(run_id)
            entry.update(when=when, engine=engine, run=run_id)
            if candidate.evidence:
                entry["search"] = dict(candidate.evidence)
            status = _VERDICT_STATUS[verdict]
            digits = entry.get("digits")
            digits = int(digits) if digits is not None and verdict != "refuted" else None
            row = self._read(
                "SELECT id, status, digits, evidence, claim FROM conjectures WHERE key = ?",
                (candidate.key,),
            )
            if not row:
                cur = self._write(
                    "INSERT INTO conjectures (key, kind, formula, claim, constant, status, "
                    "digits, evidence, engine, first_seen, last_seen, times_found) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                    (
                        candidate.key,
                        candidate.kind,
                        dumps(candidate.formula),
                        candidate.claim,
                        canonical_constant(candidate.constant) if candidate.constant else None,
                        status,
                        digits,
                        dumps([entry]),
                        engine,
                        when,
                        when,
                    ),
                )
                cid = cur.lastrowid
                new = True
            else:
                new = False
                cid, old_status, old_digits, old_evidence, old_claim = row[0]
                if candidate.claim != old_claim:
                    entry["claim"] = candidate.claim
                if {old_status, status} == {"refuted", "proven"}:
                    status = "contradicted"  # a proof and a refutation: one of them is wrong
                elif _RANK[old_status] > _RANK[status]:
                    status = old_status
                if old_digits is not None and (digits is None or old_digits > digits):
                    digits = old_digits
                entries = loads(old_evidence) or []
                entries.append(entry)
                if len(entries) > MAX_EVIDENCE:
                    entries = entries[:1] + entries[-(MAX_EVIDENCE - 1) :]
                self._write(
                    "UPDATE conjectures SET status = ?, digits = ?, evidence = ?, "
                    "last_seen = ?, times_found = times_found + 1 WHERE id = ?",
                    (status, digits, dumps(entries), when, cid),
                )
            from discovery.catalogue import join_family, relation_map

            join_family(self, cid, candidate, family, new=new, digits=digits, entry=entry)
            for rel in candidate.relations:
                rtype, other = rel[0], rel[1]
                rmap = rel[2] if len(rel) > 2 else relation_map(candidate, rtype, other)
                self.add_relation(candidate.key, rtype, other, run_id=run_id, map=rmap)
            if run_id is not None:
                self.add_relation(candidate.key, "found-by", f"run:{run_id}", run_id=run_id)
        return cid

    def get(self, id_or_key: int | str) -> ConjectureRecord:
        """The conjecture with this id (int or digits) or canonical key.

        Raises
        ------
        StoreError
            If there is no such conjecture.
        """
        if isinstance(id_or_key, int) or (isinstance(id_or_key, str) and id_or_key.isdigit()):
            rows = self._read(
                f"SELECT {_CONJ_COLUMNS} FROM conjectures WHERE id = ?", (int(id_or_key),)
            )
        else:
            rows = self._read(
                f"SELECT {_CONJ_COLUMNS} FROM conjectures WHERE key = ?", (id_or_key,)
            )
        if not rows:
            raise StoreError(f"No conjecture {id_or_key!r} in {self.path}")
        return _row_to_record(rows[0])

    def __contains__(self, key: str) -> bool:
        return bool(self._read("SELECT 1 FROM conjectures WHERE key = ?", (key,)))

    def __len__(self) -> int:
        return self._read("SELECT COUNT(*) FROM conjectures")[0][0]

    def query(
        self,
        constant: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        min_digits: int | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[ConjectureRecord]:
        """Conjectures matching all the given filters, in order of id.

        Parameters
        ----------
        constant : str, optional
            The constant the claim is about (catalogue aliases are accepted when the
            constants catalogue knows them).
        kind : str, optional
            ``"pcf"``, ``"esma"``, ...
        status : str, optional
            One of :data:`STATUSES`.
        min_digits : int, optional
            Only conjectures agreed to at least this many digits.
        limit, offset : int, optional
            Paging.
        """
        where, params = filter_sql(constant, kind, status, min_digits)
        sql = f"SELECT {_CONJ_COLUMNS} FROM conjectures"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [int(limit), int(offset)]
        elif offset:
            sql += " LIMIT -1 OFFSET ?"
            params.append(int(offset))
        return [_row_to_record(r) for r in self._read(sql, params)]

    def iter_graph_nodes(self) -> Iterator[dict]:
        """Light rows for the graph view: scalar columns, formula as raw JSON text."""
        rows = self._read(
            "SELECT key, id, kind, formula, claim, constant, status, digits, times_found "
            "FROM conjectures ORDER BY id"
        )
        for key, cid, kind, formula, claim, constant, status, digits, times in rows:
            yield {
                "key": key,
                "id": cid,
                "kind": kind,
                "formula": formula,
                "claim": claim,
                "constant": constant,
                "status": status,
                "digits": digits,
                "times_found": times,
            }

    # -- relations -------------------------------------------------------------------------------

    def add_relation(
        self, src: str, type: str, dst: str, run_id: int | None = None, map: Any = None
    ) -> bool:
        """Add the edge ``src -type-> dst`` (ignored if present); True if it was new.

        ``map`` (a dict such as ``{"mobius": [A, B, C, D]}``: ``src = (A dst + B)/(C dst + D)``)
        is kept with the edge; an edge stored without one gets it when it is added again.
        """
        _check_relation_type(type)
        with self.transaction():
            cur = self._write(
                "INSERT OR IGNORE INTO relations (src, type, dst, run, map) VALUES (?, ?, ?, ?, ?)",
                (str(src), type, str(dst), run_id, None if map is None else dumps(map)),
            )
            if cur.rowcount == 0 and map is not None:
                self._write(
                    "UPDATE relations SET map = ? WHERE src = ? AND type = ? AND dst = ? "
                    "AND map IS NULL",
                    (dumps(map), str(src), type, str(dst)),
                )
        return cur.rowcount > 0

    def add_relations(self, edges: Iterable[tuple], run_id: int | None = None) -> int:
        """Add many ``(src, type, dst)`` edges in one transaction; return how many were new."""
        new = 0
        with self.transaction():
            for src, rtype, dst in edges:
                new += self.add_relation(src, rtype, dst, run_id=run_id)
        return new

    def relations(
        self, src: str | None = None, type: str | None = None, dst: str | None = None
    ) -> list[RelationRecord]:
        """Stored edges matching the given endpoints/type, in insertion order."""
        where, params = [], []
        for column, value in (("src", src), ("type", type), ("dst", dst)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = "SELECT src, type, dst, run, map FROM relations"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id"
        return [RelationRecord(*r[:4], loads(r[4])) for r in self._read(sql, params)]

    # -- convergence dynamics (discovery.dynamics) -------------------------------------------------

    def add_dynamics(self, rows: list[dict], run_id: int | None = None) -> int:
        """Write rows of PCF dynamics (one transaction); see :mod:`discovery.dynamics`."""
        from discovery.dynamics import add_dynamics

        with self.transaction():
            return add_dynamics(self, rows, run_id=run_id)

    def dynamics(self, status: str | None = None, columns: Iterable[str] | None = None):
        """The dynamics table as columns (NumPy arrays); see :func:`discovery.dynamics.read`."""
        from discovery.dynamics import read

        return read(self, status=status, columns=columns)

    def count_dynamics(self, status: str | None = None) -> int:
        """How many PCFs have dynamics rows (of this status)."""
        if status is None:
            return self._read("SELECT COUNT(*) FROM pcf_dynamics")[0][0]
        return self._read("SELECT COUNT(*) FROM pcf_dynamics WHERE status = ?", (status,))[0][0]

    # -- families (discovery.catalogue) -----------------------------------------------------------

    def families(self, constant: str | None = None, kind: str | None = None,
                 status: str | None = None, min_digits: int | None = None,
                 new: bool | None = None, sort: str = "digits", limit: int | None = 50,
                 offset: int = 0) -> list:
        """Families of formulas (see :func:`discovery.catalogue.list_families`).

        Examples
        --------
        >>> from search.base import Candidate
        >>> store = Store(":memory:")
        >>> c = Candidate("pcf", "pcf:a", {"a": [5, 27, 51, 34], "b": [0, 0, 0, 0, 0, 0, -1]},
        ...               "6/zeta(3)", "zeta3")
        >>> _ = store.record(c, {"verdict": "verified", "digits": 100})
        >>> store.families(constant="zeta(3)")
        [Family F1 [known, 1 members]: PCF(34n^3 + 51n^2 + 27n + 5, -n^6) = 6/zeta(3)]
        >>> store.close()
        """
        from discovery.catalogue import list_families

        return list_families(self, constant, kind, status, min_digits, new, sort, limit, offset)

    def count_families(self, constant: str | None = None, kind: str | None = None,
                       status: str | None = None, min_digits: int | None = None,
                       new: bool | None = None) -> int:
        """How many families match (see :meth:`families`)."""
        from discovery.catalogue import count_families

        return count_families(self, constant, kind, status, min_digits, new)

    def family(self, ref: int | str):
        """A family by id (``7``, ``"F7"``) or by its representative's key."""
        from discovery.catalogue import get_family

        return get_family(self, ref)

    def family_members(self, family_id: int, limit: int | None = None) -> list:
        """The conjectures of a family, representative first."""
        from discovery.catalogue import family_members

        return family_members(self, family_id, limit)
    # -- summaries -------------------------------------------------------------------------------

    def stats(self) -> dict:
        """Counts by status, kind, constant and relation type, and the runs.

        Small whatever the store's size: ``run_list`` summarises each run (name, engine,
        configuration, status, times, sessions and the NUMBER of finished tasks), without
        its engine state or task keys.
        """

        def counts(sql: str) -> dict:
            return {str(k): v for k, v in self._read(sql)}

        return {
            "path": str(self.path),
            "schema_version": self.schema_version,
            "conjectures": len(self),
            "by_status": counts(
                "SELECT status, COUNT(*) FROM conjectures GROUP BY status ORDER BY status"
            ),
            "by_kind": counts("SELECT kind, COUNT(*) FROM conjectures GROUP BY kind ORDER BY kind"),
            "by_constant": counts(
                "SELECT COALESCE(constant, '-'), COUNT(*) FROM conjectures "
                "GROUP BY constant ORDER BY constant"
            ),
            "relations": self._read("SELECT COUNT(*) FROM relations")[0][0],
            "by_relation": counts(
                "SELECT type, COUNT(*) FROM relations GROUP BY type ORDER BY type"
            ),
            "runs": len(self._read("SELECT id FROM runs")),
            "finished_tasks": self._read("SELECT COUNT(*) FROM finished_tasks")[0][0],
            "run_list": [
                {
                    "id": r.id,
                    "name": r.name,
                    "engine": r.engine,
                    "config": r.config,
                    "status": r.status,
                    "started": r.started,
                    "ended": r.ended,
                    "resumed": r.resumed,
                    "sessions": len(getattr(r, "provenance", ()) or ()),
                    "finished_tasks": r.finished_tasks,
                }
                for r in self.runs()
            ],
        }

    def export(self) -> dict:
        """Everything in the store as one JSON-able dict (families, conjectures, relations,
        runs)."""
        return {
            "schema_version": self.schema_version,
            "families": [f.to_dict() for f in self.families(limit=None, sort="found")],
            "conjectures": [r.to_dict() for r in self.query()],
            "relations": [r.to_dict() for r in self.relations()],
            "runs": [r.to_dict() for r in self.runs()],
        }

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` (``'ok'`` for a healthy file)."""
        return "; ".join(r[0] for r in self._read("PRAGMA integrity_check"))
