"""The conjecture store's schema: its tables, version number and forward migrations.

Package-private to :mod:`discovery.store`. The schema is a list of migrations
(:data:`_MIGRATIONS`, version -> SQL statements); a store file records every version applied
in its ``schema_version`` table and carries :data:`APPLICATION_ID` in its SQLite header, which
is how a conjecture store is told apart from any other SQLite file. Everything here is a plain
function on a path or an :mod:`sqlite3` connection:

* :func:`connect` opens a connection with the store's settings;
* :func:`check_existing` reads (never writes) an existing file and refuses one that is not a
  store, or a store newer than this workbench;
* :func:`check_upgradable` refuses to upgrade an old store that may not be written;
* :func:`migrate` creates the schema or applies the migrations a file lacks, in one
  transaction (with the caller's backfill of the formula families for stores older than v3).

Examples
--------
>>> conn = connect(":memory:", uri=False, timeout=1.0)
>>> migrate(conn, ":memory:", SCHEMA_VERSION)
>>> conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == SCHEMA_VERSION
True
>>> conn.close()
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from discovery.store_records import _now
from solvers.errors import StoreError

__all__ = [
    "SCHEMA_VERSION",
    "APPLICATION_ID",
    "connect",
    "check_existing",
    "check_upgradable",
    "migrate",
]

#: The schema version this workbench writes and reads.
SCHEMA_VERSION = 5
APPLICATION_ID = 0x4D445742  # "MDWB": marks an SQLite file as a conjecture store

_CONJECTURE_COLUMNS = ("id, key, kind, formula, claim, constant, status, digits, evidence, engine, "
                       "first_seen, last_seen, times_found, family, family_map")

#: The statuses a conjecture may have, as each migration's CHECK constraint lists them (frozen:
#: a migration states the schema of its own version, never today's :data:`STATUSES`).
_V1_STATUSES = ("proposed", "inconclusive", "verified", "refuted", "proven")
_V5_STATUSES = (*_V1_STATUSES, "contradicted")


def _conjectures_table(name: str, statuses: tuple[str, ...], families: bool) -> str:
    """The ``CREATE TABLE`` statement of the conjectures table as one migration writes it.

    Parameters
    ----------
    name : str
        The table's name (a rebuilt table is created under a new name, then renamed).
    statuses : tuple of str
        The values the ``status`` column's CHECK constraint allows.
    families : bool
        Whether the table has the columns ``family`` and ``family_map`` (added by v3).

    Examples
    --------
    >>> from discovery.store_records import STATUSES
    >>> _V5_STATUSES == STATUSES   # the newest migration allows every status of today
    True
    >>> sql = _conjectures_table("t", ("a", "b"), families=True)
    >>> sql.splitlines()[0], sql.splitlines()[8].strip(), sql.splitlines()[-2].strip()
    ('CREATE TABLE t (', "('a', 'b')),", 'family_map TEXT')
    """
    allowed = ", ".join(f"'{status}'" for status in statuses)
    family = (",\n            family INTEGER REFERENCES families(id),"
              "\n            family_map TEXT") if families else ""
    return f"""CREATE TABLE {name} (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            formula TEXT NOT NULL,
            claim TEXT NOT NULL,
            constant TEXT,
            status TEXT NOT NULL CHECK (status IN
                ({allowed})),
            digits INTEGER,
            evidence TEXT NOT NULL DEFAULT '[]',
            engine TEXT,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            times_found INTEGER NOT NULL DEFAULT 1{family}
        )"""


#: Version -> the SQL statements that upgrade a store from the version before it.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        _conjectures_table("conjectures", _V1_STATUSES, families=False),
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
    # v5: the status 'contradicted' (a proof and a refutation of one claim). SQLite cannot
    # change a CHECK constraint in place, so the table is rebuilt: the families' references
    # to their representatives are set aside while the old table is dropped, then restored.
    5: (
        "CREATE TEMP TABLE v5_representatives AS SELECT id, representative FROM families",
        "UPDATE families SET representative = NULL",
        _conjectures_table("conjectures_v5", _V5_STATUSES, families=True),
        f"INSERT INTO conjectures_v5 ({_CONJECTURE_COLUMNS}) "
        f"SELECT {_CONJECTURE_COLUMNS} FROM conjectures",
        "DROP TABLE conjectures",
        "ALTER TABLE conjectures_v5 RENAME TO conjectures",
        "CREATE INDEX conjectures_constant ON conjectures(constant)",
        "CREATE INDEX conjectures_kind ON conjectures(kind)",
        "CREATE INDEX conjectures_status ON conjectures(status)",
        "CREATE INDEX conjectures_family ON conjectures(family)",
        "UPDATE families SET representative = (SELECT r.representative FROM v5_representatives r "
        "WHERE r.id = families.id)",
        "DROP TABLE v5_representatives",
    ),
}



def _newer_message(where: object, version: int, supported: int) -> str:
    return (
        f"{where} has store schema version {version}, newer than this workbench supports "
        f"({supported}); upgrade the workbench"
    )


def connect(target: str, *, uri: bool, timeout: float) -> sqlite3.Connection:
    """An autocommit connection to ``target`` with the store's settings.

    The connection waits up to ``timeout`` seconds for another connection's lock and
    enforces foreign keys; transactions are opened explicitly (``BEGIN IMMEDIATE``).

    Raises
    ------
    StoreError
        If SQLite cannot open ``target``.

    Examples
    --------
    >>> conn = connect(":memory:", uri=False, timeout=2.0)
    >>> conn.execute("PRAGMA busy_timeout").fetchone()[0], conn.isolation_level
    (2000, None)
    >>> conn.close()
    """
    try:
        conn = sqlite3.connect(target, uri=uri, timeout=timeout, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as exc:
        raise StoreError(f"Cannot open conjecture store {target}: {exc}") from None
    return conn


def _may_tidy(p: Path) -> bool:
    """Whether a reader of ``p`` may open it read-write (then ``query_only``): this user may
    write the file and its directory, and no log beside it holds pages."""
    if not (os.access(p, os.W_OK) and os.access(p.parent, os.W_OK)):
        return False
    wal, journal = Path(f"{p}-wal"), Path(f"{p}-journal")
    return not journal.exists() and not (wal.exists() and wal.stat().st_size > 0)


def open_readonly(p: Path, timeout: float, *, immutable: bool = False) -> sqlite3.Connection:
    """A read-only connection to the SQLite file ``p``, also where its directory is not writable.

    A WAL-mode file is read through its shared-memory index (``-shm``), which a reader must be
    able to create or write. Where it cannot (a store in a directory the user may only read)
    and no write-ahead log holds pages (so no writer is at work), or when ``immutable`` is
    asked for, the file is opened ``immutable``: read as it is on disk, with no index and no
    lock.

    Where the user may write the file and its directory, and no log holds pages (no ``-wal``
    with frames, no ``-journal`` to roll back), the connection is opened read-write but
    ``query_only``: it cannot write, and when it is the last connection to close, SQLite
    removes the empty ``-wal`` and the ``-shm`` it made (a ``mode=ro`` reader leaves them
    beside the store).

    Raises
    ------
    StoreError
        If SQLite cannot open the file, or a writer's log is in use beside a file whose
        directory this user may not write.
    """
    base = "file:" + urllib.parse.quote(str(p.resolve())) + "?mode=ro"
    try:
        if not immutable and _may_tidy(p):
            conn = connect(base.replace("?mode=ro", "?mode=rw"), uri=True, timeout=timeout)
            try:
                conn.execute("PRAGMA query_only = ON")
                conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
                return conn
            except sqlite3.OperationalError:
                conn.close()
        if not immutable:
            conn = connect(base, uri=True, timeout=timeout)
            try:
                conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
                return conn
            except sqlite3.OperationalError as exc:
                conn.close()
                wal = Path(f"{p}-wal")
                if wal.exists() and wal.stat().st_size > 0:
                    raise StoreError(
                        f"Cannot read {p}: {exc} (a writer's log {wal.name} is in use and this "
                        "user may not write beside it: read it when the run has finished)"
                    ) from None
        return connect(base + "&immutable=1", uri=True, timeout=timeout)
    except sqlite3.Error as exc:
        raise StoreError(f"Cannot open {p}: {exc}") from None


def check_existing(p: Path, supported: int = SCHEMA_VERSION) -> int:
    """The schema version of the store file ``p``, read without writing anything.

    Parameters
    ----------
    p : Path
        An existing, non-empty file.
    supported : int
        The newest schema version the caller reads.

    Raises
    ------
    StoreError
        If ``p`` is not an SQLite database, is an SQLite database but not a conjecture
        store, is corrupt, or has a schema newer than ``supported``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = Path(d) / "notes.txt"
    ...     _ = path.write_text("hello")
    ...     try:
    ...         check_existing(path)
    ...     except StoreError as err:
    ...         print(str(err).replace(d, "DIR"))
    DIR/notes.txt is not a conjecture store (not an SQLite database)
    """
    try:
        with open(p, "rb") as f:
            header = f.read(100)
    except OSError as exc:
        raise StoreError(f"Cannot read {p}: {exc.strerror}") from None
    if not header.startswith(b"SQLite format 3\x00"):
        raise StoreError(f"{p} is not a conjecture store (not an SQLite database)")
    # No writer is active without a -wal file: read the file as it is, creating no -wal/-shm.
    conn = open_readonly(p, 30.0, immutable=not Path(f"{p}-wal").exists())
    try:
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
    if version > supported:
        raise StoreError(_newer_message(p, version, supported))
    return version


def check_upgradable(p: Path, version: int, supported: int = SCHEMA_VERSION) -> None:
    """Refuse to upgrade the old store ``p`` (at ``version``) if this process may not write it.

    A reader of an old store upgrades it first (readers see the current schema); that needs
    write access to the file and to its directory (for the journal).

    Raises
    ------
    StoreError
        If ``p`` or its directory is not writable.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = Path(d) / "old.db"
    ...     path.touch()
    ...     check_upgradable(path, 1)   # writable: nothing to say
    """
    if not (os.access(p, os.W_OK) and os.access(p.parent, os.W_OK)):
        raise StoreError(
            f"{p} has store schema version {version} and this workbench reads version "
            f"{supported}; it cannot upgrade a file it may not write (ask its owner "
            f"to open it once with the workbench)"
        )


def migrate(
    conn: sqlite3.Connection,
    where: object,
    target: int = SCHEMA_VERSION,
    backfill: Callable[[], None] | None = None,
) -> None:
    """Create the schema, or apply the forward migrations it lacks, in one transaction.

    A store already at ``target`` is left alone without taking the write lock. On any
    error the transaction is rolled back and ``conn`` is closed.

    Parameters
    ----------
    conn : sqlite3.Connection
        An autocommit connection (:func:`connect`) to a writable store.
    where : str or Path
        The store's path, for messages.
    target : int
        The schema version to reach.
    backfill : callable, optional
        Called inside the transaction, after the migrations, when an existing store older
        than v3 was upgraded: it makes the existing conjectures join their formula families.

    Raises
    ------
    StoreError
        If the store is newer than ``target`` or SQLite fails.

    Examples
    --------
    >>> conn = connect(":memory:", uri=False, timeout=1.0)
    >>> migrate(conn, ":memory:", target=2)
    >>> "pending_tasks" in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    True
    >>> migrate(conn, ":memory:", target=3)   # v2 -> v3: adds the families
    >>> conn.execute("SELECT COUNT(*) FROM families").fetchone()[0]
    0
    >>> conn.close()
    """
    try:
        has_table = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'"
        ).fetchone()
        if has_table:
            version = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
            if version == target:
                return  # up to date: no write lock needed
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER PRIMARY KEY, applied TEXT NOT NULL)"
            )
            current = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
            current = current or 0
            if current > target:
                raise StoreError(_newer_message(where, current, target))
            if current == 0:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            for version in range(current + 1, target + 1):
                for statement in _MIGRATIONS[version]:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_version (version, applied) VALUES (?, ?)",
                    (version, _now()),
                )
            if current and current < 3 and backfill is not None:
                # Existing conjectures join their families (and the formulas the families
                # need become rows), in this same transaction.
                backfill()
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(f"Cannot initialise the store {where}: {exc}") from None
    except StoreError:
        conn.close()
        raise
