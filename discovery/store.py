"""The conjecture store: the only module of the workbench that touches the database.

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
  refuting evidence entry, and nothing moves a verified conjecture back to proposed.
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

import functools
import hashlib
import json
import sqlite3
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from search.base import Candidate, Task
from solvers.errors import StoreError

__all__ = [
    "Store",
    "ConjectureRecord",
    "RelationRecord",
    "RunRecord",
    "SCHEMA_VERSION",
    "STATUSES",
    "RELATION_TYPES",
    "DEFAULT_DB",
    "formula_text",
    "canonical_constant",
    "dumps",
    "loads",
]

DEFAULT_DB = "conjectures.db"
SCHEMA_VERSION = 4
APPLICATION_ID = 0x4D445742  # "MDWB": marks an SQLite file as a conjecture store

STATUSES = ("proposed", "inconclusive", "verified", "refuted", "proven")
_RANK = {s: i for i, s in enumerate(STATUSES)}
_VERDICT_STATUS = {
    None: "proposed",
    "proposed": "proposed",
    "inconclusive": "inconclusive",
    "verified": "verified",
    "refuted": "refuted",
    "proven": "proven",
}
RELATION_TYPES = ("evaluates-to", "equivalent-to", "derived-from", "improves", "found-by")
RUN_STATUSES = ("running", "finished", "stopped", "budget", "failed")
MAX_EVIDENCE = 64  # entries kept per conjecture: the first one and the latest ones
MAX_SESSIONS = 32  # provenance entries kept per run: the first session and the latest ones

# Integers longer than this many bits are stored as hex text: their decimal form could
# exceed Python's 4300-digit int<->str limit (13000 bits is about 3900 digits).
_BIG_INT_BITS = 13_000

_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE conjectures (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            formula TEXT NOT NULL,
            claim TEXT NOT NULL,
            constant TEXT,
            status TEXT NOT NULL CHECK (status IN
                ('proposed', 'inconclusive', 'verified', 'refuted', 'proven')),
            digits INTEGER,
            evidence TEXT NOT NULL DEFAULT '[]',
            engine TEXT,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            times_found INTEGER NOT NULL DEFAULT 1
        )""",
        "CREATE INDEX conjectures_constant ON conjectures(constant)",
        "CREATE INDEX conjectures_kind ON conjectures(kind)",
        "CREATE INDEX conjectures_status ON conjectures(status)",
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            engine TEXT NOT NULL,
            config TEXT NOT NULL,
            config_hash TEXT NOT NULL,
            started TEXT NOT NULL,
            ended TEXT,
            state TEXT,
            status TEXT NOT NULL DEFAULT 'running',
            resumed INTEGER NOT NULL DEFAULT 0,
            UNIQUE (name, engine, config_hash)
        )""",
        """CREATE TABLE relations (
            id INTEGER PRIMARY KEY,
            src TEXT NOT NULL,
            type TEXT NOT NULL,
            dst TEXT NOT NULL,
            run INTEGER REFERENCES runs(id),
            UNIQUE (src, type, dst)
        )""",
        "CREATE INDEX relations_dst ON relations(dst)",
        """CREATE TABLE finished_tasks (
            run_id INTEGER NOT NULL REFERENCES runs(id),
            task_key TEXT NOT NULL,
            finished TEXT NOT NULL,
            candidates TEXT NOT NULL DEFAULT '[]',
            PRIMARY KEY (run_id, task_key)
        ) WITHOUT ROWID""",
    ),
    # v2: provenance of every session of a run; tasks persisted when submitted (resume of
    # sequential engines exactly where they stopped).
    2: (
        "ALTER TABLE runs ADD COLUMN provenance TEXT",
        """CREATE TABLE pending_tasks (
            run_id INTEGER NOT NULL REFERENCES runs(id),
            seq INTEGER NOT NULL,
            task_key TEXT NOT NULL,
            engine TEXT NOT NULL,
            payload TEXT NOT NULL,
            PRIMARY KEY (run_id, task_key)
        ) WITHOUT ROWID""",
    ),
    # v3: formula families (discovery.families): every conjecture belongs to one, with the
    # exact map to its representative; relations carry their Möbius map.
    3: (
        """CREATE TABLE families (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            constant TEXT,
            representative INTEGER REFERENCES conjectures(id),
            members INTEGER NOT NULL DEFAULT 0,
            digits INTEGER,
            delta REAL,
            first_found TEXT NOT NULL,
            source TEXT,
            value TEXT
        )""",
        "CREATE INDEX families_constant ON families(constant, digits)",
        "CREATE INDEX families_constant_delta ON families(constant, delta)",
        "CREATE INDEX families_constant_found ON families(constant, first_found)",
        "CREATE INDEX families_constant_members ON families(constant, members)",
        "ALTER TABLE conjectures ADD COLUMN family INTEGER REFERENCES families(id)",
        "ALTER TABLE conjectures ADD COLUMN family_map TEXT",
        "CREATE INDEX conjectures_family ON conjectures(family)",
        "ALTER TABLE relations ADD COLUMN map TEXT",
    ),
    # v4: convergence dynamics of whole PCF domains (Blind-δ): data, not conjectures.
    4: (
        """CREATE TABLE pcf_dynamics (
            a TEXT NOT NULL,
            b TEXT NOT NULL,
            run INTEGER,
            status TEXT NOT NULL,
            reason TEXT,
            limit_text TEXT,
            limit_float REAL,
            digits REAL,
            delta_naive REAL,
            delta REAL,
            c REAL,
            d REAL,
            eig_ratio REAL,
            delta_predicted REAL,
            beta REAL,
            gamma REAL,
            eta REAL,
            rate REAL,
            depth INTEGER,
            PRIMARY KEY (a, b)
        ) WITHOUT ROWID""",
        "CREATE INDEX pcf_dynamics_status ON pcf_dynamics(status)",
    ),
}


# ---------------------------------------------------------------------------------------------
# JSON with exact integers of any size


def _encode(obj: Any) -> Any:
    if obj is None or isinstance(obj, (bool, str, float)):
        return obj
    if isinstance(obj, int):
        return {"$int": hex(obj)} if obj.bit_length() > _BIG_INT_BITS else obj
    if isinstance(obj, Mapping):
        return {str(k): _encode(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = sorted(obj, key=repr) if isinstance(obj, (set, frozenset)) else obj
        return [_encode(v) for v in items]
    if isinstance(obj, Fraction):
        return {"$frac": [_encode(obj.numerator), _encode(obj.denominator)]}
    name = type(obj).__name__
    if name in ("mpz", "fmpz"):
        return _encode(int(obj))
    if name in ("mpq", "fmpq"):
        return _encode(Fraction(int(obj.numerator), int(obj.denominator)))
    if hasattr(obj, "to_dict"):
        return _encode(obj.to_dict())
    return str(obj)


def _decode_hook(d: dict) -> Any:
    if len(d) == 1:
        if "$int" in d and isinstance(d["$int"], str):
            return int(d["$int"], 16)  # base 16 is exempt from the digit limit
        if "$frac" in d and isinstance(d["$frac"], list) and len(d["$frac"]) == 2:
            return Fraction(*d["$frac"])
    return d


def dumps(obj: Any) -> str:
    """JSON text of ``obj`` with integers of any size kept exact.

    Examples
    --------
    >>> text = dumps({"a": [3 ** 20000, -1]})
    >>> loads(text)["a"][0] == 3 ** 20000
    True
    >>> dumps({"b": [1, 2]})
    '{"b":[1,2]}'
    """
    return json.dumps(_encode(obj), separators=(",", ":"), sort_keys=True)


def loads(text: str | None) -> Any:
    """Inverse of :func:`dumps`."""
    if text is None:
        return None
    return json.loads(text, object_hook=_decode_hook)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _config_hash(config: Mapping) -> str:
    return hashlib.sha256(dumps(dict(config)).encode()).hexdigest()[:24]


# ---------------------------------------------------------------------------------------------
# Human-readable formulas


def _int_text(n: int) -> str:
    if n.bit_length() > _BIG_INT_BITS:
        import gmpy2

        return gmpy2.mpz(n).digits(10)
    return str(n)


def _poly_text(coeffs: list, var: str = "n") -> str:
    """``[5, 27, 51, 34]`` (ascending powers) -> ``'34n^3 + 51n^2 + 27n + 5'``."""
    terms = []
    for power in range(len(coeffs) - 1, -1, -1):
        c = coeffs[power]
        if not isinstance(c, int) or isinstance(c, bool):
            return str(coeffs)
        if c == 0:
            continue
        mag = _int_text(abs(c))
        mono = "" if power == 0 else var if power == 1 else f"{var}^{power}"
        body = mag if not mono else (mono if mag == "1" else f"{mag}{mono}")
        sign = "-" if c < 0 else "+"
        terms.append((sign, body))
    if not terms:
        return "0"
    first_sign, first = terms[0]
    text = ("-" if first_sign == "-" else "") + first
    for sign, body in terms[1:]:
        text += f" {sign} {body}"
    return text


def formula_text(kind: str, formula: Any) -> str:
    """A one-line human reading of a stored formula.

    Examples
    --------
    >>> formula_text("pcf", {"a": [5, 27, 51, 34], "b": [0, 0, 0, 0, 0, 0, -1]})
    'PCF(34n^3 + 51n^2 + 27n + 5, -n^6)'
    >>> formula_text("esma", {"first_terms": [1, 1, 2, 1, 2], "signs": [1, 1, -1]})
    'SCF(+,+,-)[1; 1, 2, 1, 2, ...]'
    >>> formula_text("cmf", {"matrix": [[1, 0], [0, 1]]})
    'cmf{"matrix":[[1,0],[0,1]]}'
    """
    if isinstance(formula, Mapping):
        a, b = formula.get("a"), formula.get("b")
        if isinstance(a, list) and isinstance(b, list):
            return f"PCF({_poly_text(a)}, {_poly_text(b)})"
        for name in ("text", "formula", "pattern"):
            if isinstance(formula.get(name), str):
                return formula[name]
        terms, signs = formula.get("first_terms"), formula.get("signs")
        if isinstance(terms, list) and terms and isinstance(signs, list) and signs:
            # A signed continued fraction a0 + s0/(a1 + s1/(a2 + ...)), signs periodic.
            head = ", ".join(_int_text(t) if isinstance(t, int) else str(t) for t in terms[1:])
            pattern = ",".join("+" if s > 0 else "-" for s in signs)
            return f"SCF({pattern})[{terms[0]}; {head}, ...]"
    return f"{kind}{dumps(formula)}"


# ---------------------------------------------------------------------------------------------
# Value objects


@dataclass(frozen=True, repr=False)
class ConjectureRecord:
    """A stored conjecture: a formula, its claim, status and accumulated evidence.

    Attributes
    ----------
    id : int
        Row id (what ``discovery db show ID`` takes).
    key : str
        Canonical key of the formula.
    kind, formula, claim, constant
        As in :class:`search.base.Candidate`.
    status : str
        One of :data:`STATUSES`.
    digits : int or None
        Best number of digits agreed by a non-refuting evidence entry.
    evidence : tuple of dict
        Evidence entries (verdict, digits, depth, precision, seconds, when, engine, run, ...).
    engine : str or None
        The engine that first found it.
    first_seen, last_seen : str
        ISO UTC timestamps.
    times_found : int
        How many times an engine produced it.
    """

    id: int
    key: str
    kind: str
    formula: Any
    claim: str
    constant: str | None
    status: str
    digits: int | None
    evidence: tuple = ()
    engine: str | None = None
    first_seen: str = ""
    last_seen: str = ""
    times_found: int = 1
    family: int | None = None
    family_map: dict | None = None

    @property
    def formula_text(self) -> str:
        """The formula as one line of text."""
        return formula_text(self.kind, self.formula)

    def __repr__(self) -> str:
        digits = f", {self.digits} digits" if self.digits is not None else ""
        return f"Conjecture #{self.id} [{self.status}{digits}]: {self.formula_text} = {self.claim}"

    def _repr_html_(self) -> str:
        from discovery.catalogue import conjecture_html

        return conjecture_html(self)

    def _repr_latex_(self) -> str:
        from discovery.catalogue import conjecture_latex

        return f"${conjecture_latex(self)}$"

    def to_dict(self) -> dict:
        """A JSON-able dict (huge integers stay exact Python ints)."""
        return {
            "id": self.id,
            "key": self.key,
            "kind": self.kind,
            "formula": self.formula,
            "formula_text": self.formula_text,
            "claim": self.claim,
            "constant": self.constant,
            "status": self.status,
            "digits": self.digits,
            "evidence": list(self.evidence),
            "engine": self.engine,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "times_found": self.times_found,
            "family": self.family,
            "family_map": self.family_map,
        }

    def to_candidate(self) -> Candidate:
        """The candidate this record came from (search evidence of its first sighting)."""
        search_ev = self.evidence[0].get("search", {}) if self.evidence else {}
        return Candidate(self.kind, self.key, self.formula, self.claim, self.constant, search_ev)


@dataclass(frozen=True)
class RelationRecord:
    """A typed edge ``src -type-> dst`` between keys.

    ``map``, when known, is the Möbius map between the two limits:
    ``{"mobius": [A, B, C, D]}`` means ``src = (A*dst + B)/(C*dst + D)``.
    """

    src: str
    type: str
    dst: str
    run: int | None = None
    map: dict | None = None

    def __repr__(self) -> str:
        return f"{self.src} -{self.type}-> {self.dst}"

    def to_dict(self) -> dict:
        return {"src": self.src, "type": self.type, "dst": self.dst, "run": self.run,
                "map": self.map}


@dataclass(frozen=True)
class RunRecord:
    """A run: one engine with one configuration, possibly resumed several times.

    Attributes
    ----------
    provenance : list of dict
        One entry per session (``started`` plus what
        :func:`discovery.provenance.collect_provenance` reports): the first session and
        the latest ones (at most ``MAX_SESSIONS``). Empty for a run of an older store.
    """

    id: int
    name: str
    engine: str
    config: dict
    started: str
    ended: str | None
    state: dict | None
    status: str
    resumed: int = 0
    finished_tasks: int = field(default=0)
    provenance: list = field(default_factory=list)

    def __repr__(self) -> str:
        return (
            f"Run #{self.id} {self.name!r} [{self.engine}, {self.status}, "
            f"{self.finished_tasks} tasks]"
        )

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "engine": self.engine,
            "config": self.config,
            "started": self.started,
            "ended": self.ended,
            "state": self.state,
            "status": self.status,
            "resumed": self.resumed,
            "finished_tasks": self.finished_tasks,
            "provenance": list(self.provenance),
        }


# ---------------------------------------------------------------------------------------------
# The store

_CONJ_COLUMNS = (
    "id, key, kind, formula, claim, constant, status, digits, evidence, engine, "
    "first_seen, last_seen, times_found, family, family_map"
)


def _row_to_record(row: tuple) -> ConjectureRecord:
    return ConjectureRecord(
        id=row[0],
        key=row[1],
        kind=row[2],
        formula=loads(row[3]),
        claim=row[4],
        constant=row[5],
        status=row[6],
        digits=row[7],
        evidence=tuple(loads(row[8]) or ()),
        engine=row[9],
        first_seen=row[10],
        last_seen=row[11],
        times_found=row[12],
        family=row[13],
        family_map=loads(row[14]),
    )


def _evidence_dict(evidence: Any) -> dict:
    if evidence is None:
        return {"verdict": None}
    if isinstance(evidence, Mapping):
        return dict(evidence)
    if hasattr(evidence, "to_dict"):
        return dict(evidence.to_dict())
    import dataclasses

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


class Store:
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
            self._conn = self._connect(":memory:", uri=False, timeout=timeout)
            self._migrate()
            return
        p = self.path
        if p.is_dir():
            raise StoreError(f"{p} is a directory, not a conjecture store")
        existing = p.exists() and p.stat().st_size > 0
        if existing:
            version = self._check_existing(p)
            if readonly and version < SCHEMA_VERSION:
                self._upgrade_for_reading(p, version, timeout)
        elif readonly:
            raise StoreError(f"No conjecture store at {p}")
        elif not p.parent.exists():
            raise StoreError(f"Cannot create a store at {p}: directory {p.parent} does not exist")
        if readonly:
            uri = "file:" + urllib.parse.quote(str(p.resolve())) + "?mode=ro"
            self._conn = self._connect(uri, uri=True, timeout=timeout)
            self._conn.execute("PRAGMA query_only = ON")
        else:
            self._conn = self._connect(str(p), uri=False, timeout=timeout)
            self._migrate()
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.Error as exc:
                self._conn.close()
                raise StoreError(f"Cannot open {p} for writing: {exc}") from None

    # -- opening -------------------------------------------------------------------------------

    @staticmethod
    def _connect(target: str, *, uri: bool, timeout: float) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(target, uri=uri, timeout=timeout, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot open conjecture store {target}: {exc}") from None
        return conn

    @staticmethod
    def _check_existing(p: Path) -> None:
        """Refuse (without writing anything) a file that is not one of our stores."""
        try:
            with open(p, "rb") as f:
                header = f.read(100)
        except OSError as exc:
            raise StoreError(f"Cannot read {p}: {exc.strerror}") from None
        if not header.startswith(b"SQLite format 3\x00"):
            raise StoreError(f"{p} is not a conjecture store (not an SQLite database)")
        uri = "file:" + urllib.parse.quote(str(p.resolve())) + "?mode=ro"
        if not Path(f"{p}-wal").exists():
            # No writer is active: read the file as it is, without creating -wal/-shm files.
            uri += "&immutable=1"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=30.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot open {p}: {exc}") from None
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            has_table = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'"
            ).fetchone()
            if app_id != APPLICATION_ID or not has_table:
                raise StoreError(
                    f"{p} is an SQLite database but not a conjecture store (refusing to touch it)"
                )
            version = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{p} is corrupt or not a conjecture store ({exc})") from None
        finally:
            conn.close()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{p} has store schema version {version}, newer than this workbench supports "
                f"({SCHEMA_VERSION}); upgrade the workbench"
            )
        return version

    @staticmethod
    def _upgrade_for_reading(p: Path, version: int, timeout: float) -> None:
        """Migrate an older store before reading it (readers see the current schema)."""
        import os

        if not (os.access(p, os.W_OK) and os.access(p.parent, os.W_OK)):
            raise StoreError(
                f"{p} has store schema version {version} and this workbench reads version "
                f"{SCHEMA_VERSION}; it cannot upgrade a file it may not write (ask its owner "
                f"to open it once with the workbench)"
            )
        Store(p, timeout=timeout).close()

    def _migrate(self) -> None:
        """Create the schema, or apply the forward migrations it lacks, in one transaction."""
        conn = self._conn
        try:
            has_table = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'"
            ).fetchone()
            if has_table:
                version = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
                if version == SCHEMA_VERSION:
                    return  # up to date: no write lock needed
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version ("
                    "version INTEGER PRIMARY KEY, applied TEXT NOT NULL)"
                )
                current = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
                current = current or 0
                if current > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.path} has store schema version {current}, newer than this "
                        f"workbench supports ({SCHEMA_VERSION}); upgrade the workbench"
                    )
                if current == 0:
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                for version in range(current + 1, SCHEMA_VERSION + 1):
                    for statement in _MIGRATIONS[version]:
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_version (version, applied) VALUES (?, ?)",
                        (version, _now()),
                    )
                if current and current < 3:
                    # Existing conjectures join their families (and the formulas the families
                    # need become rows), in this same transaction.
                    from discovery.catalogue import backfill_families

                    self._depth = 1
                    try:
                        backfill_families(self)
                    finally:
                        self._depth = 0
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"Cannot initialise the store {self.path}: {exc}") from None
        except StoreError:
            conn.close()
            raise

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

    def _has_v2(self) -> bool:
        """True if the file has the v2 tables (a v1 file opened read-only has not)."""
        if not self._v2:
            self._v2 = bool(
                self._read(
                    "SELECT 1 FROM sqlite_master WHERE type='table' AND name='pending_tasks'"
                )
            )
        return self._v2

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
                if _RANK[old_status] > _RANK[status]:
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

    def _run_engine(self, run_id: int) -> str:
        cache = self._engines
        if run_id not in cache:
            row = self._read("SELECT engine FROM runs WHERE id = ?", (run_id,))
            if not row:
                raise StoreError(f"No run #{run_id} in {self.path}")
            cache[run_id] = row[0][0]
        return cache[run_id]

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

    # -- runs ------------------------------------------------------------------------------------

    def start_run(
        self,
        name: str,
        engine: str,
        config: Mapping | None = None,
        provenance: Mapping | None = None,
    ) -> int:
        """Start a run, or resume the run with the same name, engine and configuration.

        Returns the run id; a resumed run keeps its id, finished tasks and state.

        Parameters
        ----------
        name, engine : str
            The run's name and engine; with the configuration they identify the run.
        config : dict, optional
            The engine configuration.
        provenance : dict, optional
            Where this session runs (see :func:`discovery.provenance.collect_provenance`,
            which is called when it is ``None``; pass ``{}`` to record only the start
            time). Every call appends ``{"started": <now>, **provenance}`` to the run's
            provenance list, which keeps the first session and the latest ones.

        Examples
        --------
        >>> store = Store(":memory:")
        >>> store.start_run("demo", "esma", {"degree": 1}, provenance={"seed": 0})
        1
        >>> store.start_run("demo", "esma", {"degree": 1}, provenance={"seed": 1})  # resumed
        1
        >>> [session["seed"] for session in store.run(1).provenance]
        [0, 1]
        >>> store.start_run("demo", "esma", {"degree": 2}, provenance={})
        2
        >>> store.close()
        """
        config = dict(config or {})
        chash = _config_hash(config)
        if provenance is None:
            from discovery.provenance import collect_provenance

            provenance = collect_provenance()
        now = _now()
        session = {"started": now, **{k: v for k, v in provenance.items() if k != "started"}}
        with self.transaction():
            row = self._read(
                "SELECT id, provenance FROM runs "
                "WHERE name = ? AND engine = ? AND config_hash = ?",
                (name, engine, chash),
            )
            if row:
                run_id, old = row[0]
                sessions = loads(old) or []
                sessions = [*sessions, session] if isinstance(sessions, list) else [session]
                if len(sessions) > MAX_SESSIONS:
                    sessions = sessions[:1] + sessions[-(MAX_SESSIONS - 1) :]
                self._write(
                    "UPDATE runs SET status = 'running', ended = NULL, resumed = resumed + 1, "
                    "provenance = ? WHERE id = ?",
                    (dumps(sessions), run_id),
                )
                return run_id
            cur = self._write(
                "INSERT INTO runs (name, engine, config, config_hash, started, status, "
                "provenance) VALUES (?, ?, ?, ?, ?, 'running', ?)",
                (name, engine, dumps(config), chash, now, dumps([session])),
            )
            return cur.lastrowid

    def run(self, run_id: int) -> RunRecord:
        """The run with this id."""
        rows = self._runs("WHERE r.id = ?", (run_id,))
        if not rows:
            raise StoreError(f"No run #{run_id} in {self.path}")
        return rows[0]

    def runs(self) -> list[RunRecord]:
        """All runs, in order of id."""
        return self._runs("", ())

    def _runs(self, where: str, params: tuple) -> list[RunRecord]:
        provenance = "r.provenance" if self._has_v2() else "NULL"  # v1 file opened read-only
        rows = self._read(
            "SELECT r.id, r.name, r.engine, r.config, r.started, r.ended, r.state, r.status, "
            "r.resumed, (SELECT COUNT(*) FROM finished_tasks f WHERE f.run_id = r.id), "
            f"{provenance} FROM runs r {where} ORDER BY r.id",
            params,
        )
        out = []
        for r in rows:
            sessions = loads(r[10])
            out.append(
                RunRecord(
                    r[0], r[1], r[2], loads(r[3]), r[4], r[5], loads(r[6]), r[7], r[8], r[9],
                    sessions if isinstance(sessions, list) else [],
                )
            )
        return out

    def save_state(self, run_id: int, state: Mapping | None) -> None:
        """Checkpoint an engine's JSON-able state for the run."""
        with self.transaction():
            cur = self._write(
                "UPDATE runs SET state = ? WHERE id = ?",
                (None if state is None else dumps(state), run_id),
            )
            if cur.rowcount == 0:
                raise StoreError(f"No run #{run_id} in {self.path}")

    def end_run(self, run_id: int, status: str = "finished", state: Mapping | None = None) -> None:
        """Mark a run ended (``finished``, ``stopped``, ``budget`` or ``failed``)."""
        if status not in RUN_STATUSES:
            raise StoreError(f"Unknown run status {status!r}; use one of {', '.join(RUN_STATUSES)}")
        with self.transaction():
            if state is not None:
                self.save_state(run_id, state)
            cur = self._write(
                "UPDATE runs SET status = ?, ended = ? WHERE id = ?", (status, _now(), run_id)
            )
            if cur.rowcount == 0:
                raise StoreError(f"No run #{run_id} in {self.path}")

    def finish_task(
        self,
        run_id: int,
        task_key: str,
        candidates_with_evidence: Iterable[tuple[Candidate, Any]] = (),
        *,
        state: Mapping | None = None,
        companions: Iterable[tuple[Candidate, Any]] = (),
        data: list[dict] | None = None,
    ) -> list[int]:
        """Record a finished task's candidates and the task key in ONE transaction.

        That single commit is what makes a resumed run exact after a SIGKILL: either
        the task, all its conjectures, the removal of its pending row and the engine's
        new state are stored, or none of them is. Finishing an already finished task
        changes nothing (except that a stale pending row of it is removed).

        Parameters
        ----------
        run_id : int
            The run.
        task_key : str
            The finished task's key.
        candidates_with_evidence : iterable of (Candidate, evidence)
            What the task produced, with the verifier's evidence (see :meth:`record`).
        state : dict, optional
            The engine's state after it was told this task's result: saved as the
            run's state (as :meth:`save_state` does) in the same transaction.
        companions : iterable of (Candidate, evidence)
            Formulas the candidates' families need as rows (:func:`discovery.families.
            companions`), verified like them: recorded first, in the same transaction, but
            not counted as the task's output.
        data : list of dict, optional
            Rows of convergence dynamics (:mod:`discovery.dynamics`) the task computed,
            written in the same transaction.

        Returns
        -------
        list of int
            The conjecture ids, in the order of the candidates.

        Examples
        --------
        >>> from search.base import Task
        >>> store = Store(":memory:")
        >>> run = store.start_run("demo", "toy", provenance={})
        >>> store.add_pending(run, Task("toy", "t1", {"x": 1}))
        >>> store.finish_task(run, "t1", [], state={"told": 1})
        []
        >>> store.pending_tasks(run), store.run(run).state, store.finished_count(run)
        ([], {'told': 1}, 1)
        >>> store.close()
        """
        with self.transaction():
            row = self._read(
                "SELECT candidates FROM finished_tasks WHERE run_id = ? AND task_key = ?",
                (run_id, task_key),
            )
            if row:
                self._write(
                    "DELETE FROM pending_tasks WHERE run_id = ? AND task_key = ?",
                    (run_id, task_key),
                )
                keys = loads(row[0][0]) or []
                return [self.get(k).id for k in keys if k in self]
            for candidate, evidence in companions:
                self.record(candidate, evidence, run_id=run_id)
            if data:
                from discovery.dynamics import add_dynamics

                add_dynamics(self, data, run_id=run_id)
            ids, keys = [], []
            for candidate, evidence in candidates_with_evidence:
                ids.append(self.record(candidate, evidence, run_id=run_id))
                keys.append(candidate.key)
            self._write(
                "INSERT INTO finished_tasks (run_id, task_key, finished, candidates) "
                "VALUES (?, ?, ?, ?)",
                (run_id, task_key, _now(), dumps(keys)),
            )
            self._write(
                "DELETE FROM pending_tasks WHERE run_id = ? AND task_key = ?",
                (run_id, task_key),
            )
            if state is not None:
                self.save_state(run_id, state)
        return ids

    def record_many(
        self,
        run_id: int | None,
        candidates_with_evidence: Iterable[tuple[Candidate, Any]],
        companions: Iterable[tuple[Candidate, Any]] = (),
    ) -> list[int]:
        """Record several ``(candidate, evidence)`` pairs of a run in ONE transaction.

        For candidates an engine hands over outside any task (e.g. at the end of a
        session); each one gets a ``found-by`` relation to the run as in :meth:`record`.

        Returns
        -------
        list of int
            The conjecture ids, in the order of the candidates.
        """
        with self.transaction():
            for candidate, evidence in companions:
                self.record(candidate, evidence, run_id=run_id)
            return [
                self.record(candidate, evidence, run_id=run_id)
                for candidate, evidence in candidates_with_evidence
            ]

    def finished_count(self, run_id: int) -> int:
        """How many tasks this run has finished."""
        return self._read(
            "SELECT COUNT(*) FROM finished_tasks WHERE run_id = ?", (run_id,)
        )[0][0]

    def add_pending(self, run_id: int, task: Task) -> None:
        """Remember a submitted task of a run until :meth:`finish_task` finishes it.

        One transaction. Tasks keep their submission order (``seq``); adding a key that
        is already pending, or already finished, changes nothing. The payload is stored
        with :func:`dumps`, so integers of any size round-trip exactly.

        Examples
        --------
        >>> from search.base import Task
        >>> store = Store(":memory:")
        >>> run = store.start_run("demo", "toy", provenance={})
        >>> store.add_pending(run, Task("toy", "b", {"n": 2}))
        >>> store.add_pending(run, Task("toy", "a", {"n": 1}))
        >>> store.add_pending(run, Task("toy", "b", {"n": 99}))   # already pending
        >>> [(t.key, t.payload) for t in store.pending_tasks(run)]
        [('b', {'n': 2}), ('a', {'n': 1})]
        >>> store.close()
        """
        payload = dumps(dict(task.payload))
        with self.transaction():
            self._run_engine(run_id)  # a clear error for an unknown run
            known = self._read(
                "SELECT 1 FROM pending_tasks WHERE run_id = ? AND task_key = ? "
                "UNION ALL SELECT 1 FROM finished_tasks WHERE run_id = ? AND task_key = ?",
                (run_id, task.key, run_id, task.key),
            )
            if known:
                return
            seq = self._read(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM pending_tasks WHERE run_id = ?",
                (run_id,),
            )[0][0]
            self._write(
                "INSERT INTO pending_tasks (run_id, seq, task_key, engine, payload) "
                "VALUES (?, ?, ?, ?, ?)",
                (run_id, seq, task.key, task.engine, payload),
            )

    def pending_tasks(self, run_id: int) -> list[Task]:
        """The run's submitted but unfinished tasks, in submission order."""
        if not self._has_v2():  # a v1 file opened read-only: nothing was ever pending
            return []
        rows = self._read(
            "SELECT engine, task_key, payload FROM pending_tasks WHERE run_id = ? ORDER BY seq",
            (run_id,),
        )
        return [Task(engine, key, loads(payload)) for engine, key, payload in rows]

    def finished_tasks(self, run_id: int) -> set[str]:
        """Keys of the tasks this run has finished."""
        rows = self._read("SELECT task_key FROM finished_tasks WHERE run_id = ?", (run_id,))
        return {r[0] for r in rows}

    def task_candidates(self, run_id: int, task_key: str) -> list[Candidate]:
        """The candidates a finished task produced (to replay ``tell`` on resume)."""
        row = self._read(
            "SELECT candidates FROM finished_tasks WHERE run_id = ? AND task_key = ?",
            (run_id, task_key),
        )
        if not row:
            return []
        out = []
        for key in loads(row[0][0]) or []:
            rec = self.get(key)
            rels = tuple(
                (r.type, r.dst) for r in self.relations(src=key) if r.type != "found-by"
            )
            c = rec.to_candidate()
            out.append(Candidate(c.kind, c.key, c.formula, c.claim, c.constant, c.evidence, rels))
        return out

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

    def graph(self):
        """The conjecture graph (a networkx ``MultiDiGraph``), built now from the store.

        See :mod:`discovery.graph` for the queries on it.
        """
        from discovery.graph import build_graph

        return build_graph(self)


@functools.lru_cache(maxsize=4096)
def canonical_constant(name: str) -> str:
    """The catalogue's canonical name for ``name`` (``"zeta(3)"`` -> ``"zeta3"``).

    A name the catalogue does not know is returned unchanged.

    Examples
    --------
    >>> canonical_constant("apery"), canonical_constant("my-constant")
    ('zeta3', 'my-constant')
    """
    try:
        from solvers.constants import get_constant

        canonical = getattr(get_constant(name), "name", None)
    except Exception:  # the catalogue is optional here: an unknown name is just a string
        return name
    return canonical if isinstance(canonical, str) else name


def filter_sql(
    constant: str | None,
    kind: str | None,
    status: str | None,
    min_digits: int | None,
    *,
    table: str = "",
    constant_column: str = "constant",
    digits_column: str = "digits",
) -> tuple[list[str], list]:
    """SQL conditions and parameters for the usual conjecture filters.

    ``table`` prefixes the kind and status columns (``"c."`` in a join); the constant and
    digits columns may be another table's (the families' own, for instance).
    """
    where: list[str] = []
    params: list = []
    if constant is not None:
        names = sorted(_constant_names(constant))
        where.append(f"{constant_column} IN ({','.join('?' * len(names))})")
        params += names
    if kind is not None:
        where.append(f"{table}kind = ?")
        params.append(kind)
    if status is not None:
        if status not in _RANK:
            raise StoreError(f"Unknown status {status!r}; use one of {', '.join(STATUSES)}")
        where.append(f"{table}status = ?")
        params.append(status)
    if min_digits is not None:
        where.append(f"{digits_column} >= ?")
        params.append(int(min_digits))
    return where, params


def _constant_names(name: str) -> set[str]:
    """The name as given and its canonical name."""
    return {name, canonical_constant(name)}
