"""Opening v1 and v2 stores: the migration to v3 keeps everything and backfills families.

tests/data/store_v1.db was made by the v1-era code; every test works on a COPY of it. The
checks compare with the raw file read by sqlite3 before the migration, re-verify the
formulas the migration added (independent high-precision check of their own claims) and
recompute the maps stored on relations from the formulas' limits.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import mpmath
import pytest

from discovery import store as store_module
from discovery import store_schema
from discovery.catalogue import count_families, family_members, list_families
from discovery.store import APPLICATION_ID, SCHEMA_VERSION, Store, dumps, loads
from discovery.verification import verify
from solvers.continued_fractions import PCF
from solvers.errors import StoreError
from solvers.expr import evaluate_expression, parse_expression
from solvers.signed_cf import SignedCFPattern

FIXTURE = Path(__file__).resolve().parent / "data" / "store_v1.db"
FIXTURE_SHA = hashlib.sha256(FIXTURE.read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def _precision():
    """60 digits for the test-side mpmath arithmetic, restored afterwards."""
    with mpmath.workdps(60):
        yield


# --------------------------------------------------------------------------- helpers


def _copy_fixture(tmp_path, name="v1.db"):
    dst = tmp_path / name
    shutil.copyfile(FIXTURE, dst)
    return dst


def _raw(path) -> dict:
    """Everything a migration must keep, read with sqlite3 (no workbench code)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        conj = {
            key: {"kind": kind, "formula": formula, "claim": claim, "status": status,
                  "digits": digits, "evidence": evidence, "n_evidence": len(loads(evidence))}
            for key, kind, formula, claim, status, digits, evidence in conn.execute(
                "SELECT key, kind, formula, claim, status, digits, evidence FROM conjectures")
        }
        rels = set(conn.execute("SELECT src, type, dst FROM relations"))
        runs = {
            (name, engine): {"config": loads(config), "status": status, "finished": n}
            for name, engine, config, status, n in conn.execute(
                "SELECT r.name, r.engine, r.config, r.status, "
                "(SELECT COUNT(*) FROM finished_tasks f WHERE f.run_id = r.id) FROM runs r")
        }
        version = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        pending = (list(conn.execute("SELECT run_id, task_key, payload FROM pending_tasks"))
                   if "pending_tasks" in tables else [])
    finally:
        conn.close()
    return {"conjectures": conj, "relations": rels, "runs": runs, "version": version,
            "pending": pending}


def _counts(store: Store) -> dict:
    return {
        "conjectures": len(store),
        "relations": len(store.relations()),
        "families": count_families(store),
        "runs": len(store.runs()),
        "family_rows": store._read(
            "SELECT id, key, representative, members, digits, source FROM families ORDER BY id"),
        "evidence": store._read("SELECT key, evidence FROM conjectures ORDER BY id"),
        "maps": store._read("SELECT src, type, dst, map FROM relations ORDER BY id"),
    }


def _claim_value(claim: str, dps: int = 60):
    return mpmath.mpf(evaluate_expression(parse_expression(claim), dps))


def _cf_value(formula, digits: int):
    """The limit of a continued fraction to at least ``digits`` digits (depth doubled)."""
    depth = 64
    while True:
        lim = formula.limit(depth, dps=digits + 30)
        if lim.digits >= digits + 5:
            return mpmath.mpf(lim.value)
        assert depth < 20_000, f"{formula!r} does not reach {digits} digits"
        depth *= 2


def _limit_of(rec, digits: int):
    f = rec.formula
    if rec.kind == "pcf":
        return _cf_value(PCF.from_dict(f), digits)
    if rec.kind == "esma":
        return _cf_value(SignedCFPattern.from_dict(f), digits)
    raise AssertionError(f"no limit for {rec.kind}")


def _apply(m, y):
    A, B, C, D = m
    return (A * y + B) / (C * y + D)


def _agree(x, y, digits: int) -> bool:
    return abs(x - y) <= mpmath.mpf(10) ** (-digits) * max(1, abs(x))


def _check_migrated(store: Store, raw: dict) -> None:
    """The properties every migrated store has (see the module docstring)."""
    assert store.schema_version == SCHEMA_VERSION
    # every original conjecture, unchanged
    for key, old in raw["conjectures"].items():
        rec = store.get(key)
        assert (rec.kind, rec.claim, rec.status, rec.digits) == (
            old["kind"], old["claim"], old["status"], old["digits"]), key
        assert dumps(rec.formula) == dumps(loads(old["formula"]))
        assert len(rec.evidence) == old["n_evidence"]
        assert list(rec.evidence) == loads(old["evidence"])
    # every relation and run
    now = {(r.src, r.type, r.dst) for r in store.relations()}
    assert raw["relations"] <= now
    assert now == raw["relations"]  # the migration adds rows, not edges
    runs = {(r.name, r.engine): r for r in store.runs()}
    assert set(runs) == set(raw["runs"])
    for k, old in raw["runs"].items():
        assert runs[k].config == old["config"]
        assert runs[k].status == old["status"]
        assert runs[k].finished_tasks == old["finished"]
    # every conjecture in a family; the representatives are rows of their own
    records = store.query()
    assert all(r.family is not None and r.family_map for r in records)
    fams = list_families(store, limit=None)
    assert len(fams) == count_families(store) >= 1
    by_id = {f.id: f for f in fams}
    assert {r.family for r in records} == set(by_id)
    for fam in fams:
        rep = fam.representative
        assert rep is not None
        assert store.get(rep.id).key == rep.key == fam.key
        assert rep.family == fam.id
        members = family_members(store, fam.id)
        assert fam.members == len(members) == sum(r.family == fam.id for r in records)
        assert members[0].id == rep.id
        # each member's map is consistent with the claims (every claim here is verified)
        y = _claim_value(rep.claim)
        for m in members:
            if m.status not in ("verified", "proven"):
                continue
            mob = m.family_map["mobius"]
            assert _agree(_claim_value(m.claim), _apply(mob, y), 40), (m, mob, rep)
    # the destinations of contracts-to edges are rows whose own claims verify
    contracts = store.relations(type="contracts-to")
    assert contracts
    checked = set()
    for rel in contracts:
        dst = store.get(rel.dst)
        assert dst.kind == "pcf" and dst.family is not None
        if dst.key not in checked:
            ev = verify(PCF.from_dict(dst.formula), dst.claim, 40)
            assert ev.verdict == "verified", (dst, ev.note)
            checked.add(dst.key)
        # the map on the edge: src limit = M(dst limit)
        assert rel.map is not None and len(rel.map["mobius"]) == 4, rel
        src = store.get(rel.src)
        x = _limit_of(src, 35)
        y = _limit_of(dst, 35)
        assert _agree(x, _apply(rel.map["mobius"], y), 30), (rel, rel.map)
    # any other edge with a map between two rows agrees with their (verified) claims
    for rel in store.relations():
        if rel.map is None or rel.type == "contracts-to":
            continue
        if rel.src in store and rel.dst in store:
            x, y = _claim_value(store.get(rel.src).claim), _claim_value(store.get(rel.dst).claim)
            assert _agree(x, _apply(rel.map["mobius"], y), 40), rel


@pytest.fixture(autouse=True)
def _fixture_untouched():
    yield
    assert hashlib.sha256(FIXTURE.read_bytes()).hexdigest() == FIXTURE_SHA


# --------------------------------------------------------------------------- v1


@pytest.fixture(scope="module")
def migrated_v1(tmp_path_factory):
    path = _copy_fixture(tmp_path_factory.mktemp("v1"))
    raw = _raw(path)
    with Store(path) as store:
        yield path, raw, store


def test_v1_fixture_is_what_it_says():
    conn = sqlite3.connect(f"file:{FIXTURE}?mode=ro&immutable=1", uri=True)
    try:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == 1
        kinds = dict(conn.execute("SELECT kind, COUNT(*) FROM conjectures GROUP BY kind"))
        assert kinds == {"esma": 98, "pcf": 3, "cmf": 1}
        assert conn.execute("SELECT COUNT(*) FROM relations").fetchone()[0] == 210
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2
    finally:
        conn.close()


def test_v1_store_is_migrated_and_backfilled(migrated_v1):
    _, raw, store = migrated_v1
    assert raw["version"] == 1
    _check_migrated(store, raw)
    # the migration added the formulas the families need, each verified on its own
    added = [r for r in store.query() if r.key not in raw["conjectures"]]
    assert added
    for rec in added:
        assert rec.kind == "pcf" and rec.status == "verified" and rec.digits >= 40
        assert rec.evidence[-1]["engine"] == "families"
    # Euler's (e+1)/(e-1) family and Apery's family are recognised as known
    euler = store.family(PCF("4n+2", 1).key)
    assert euler.known and "Euler" in euler.source and euler.members > 1
    apery = store.family(PCF("34n^3+51n^2+27n+5", "-n^6").key)
    assert apery.known and "Apery" in apery.source


def test_v1_family_first_found_is_its_earliest_member(migrated_v1):
    _, raw, store = migrated_v1
    for fam in list_families(store, limit=None):
        old = [m for m in family_members(store, fam.id) if m.key in raw["conjectures"]]
        assert fam.first_found == min(m.first_seen for m in old), fam


def test_reopening_a_migrated_store_changes_nothing(migrated_v1):
    path, _, store = migrated_v1
    before = _counts(store)
    with Store(path) as again:
        assert _counts(again) == before
    with Store(path, readonly=True) as ro:
        assert _counts(ro) == before


def test_opening_v1_read_only_migrates_first(tmp_path):
    path = _copy_fixture(tmp_path)
    raw = _raw(path)
    with Store(path, readonly=True) as store:
        assert store.readonly
        _check_migrated(store, raw)
        with pytest.raises(StoreError):
            store.add_relation("a", "improves", "b")
    with Store(path) as store:  # and nothing more happens when opened for writing
        assert store.schema_version == SCHEMA_VERSION


def test_v1_in_a_read_only_directory_gives_a_clear_error(tmp_path):
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root may write a read-only directory")
    d = tmp_path / "ro"
    d.mkdir()
    path = _copy_fixture(d)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    d.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(StoreError, match="version 1.*cannot upgrade"):
            Store(path, readonly=True)
        with pytest.raises(StoreError):
            Store(path)
    finally:
        d.chmod(stat.S_IRWXU)
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_v1_that_may_not_be_written_gives_a_clear_error(tmp_path, monkeypatch):
    # The same path as above, reachable as root: the store asks os.access before upgrading.
    path = _copy_fixture(tmp_path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, *a, **k: False if mode & os.W_OK
                        else real_access(p, mode, *a, **k))
    with pytest.raises(StoreError, match="version 1.*cannot upgrade a file it may not write"):
        Store(path, readonly=True)
    monkeypatch.undo()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v1.db"]  # no -wal/-shm either


# --------------------------------------------------------------------------- v2

E_SCF = {  # e = [2; 1, 2, 1, 1, 4, 1, 1, 6, ...]: a_n = 2 a_{n-3} - a_{n-6}
    "signs": [1],
    "recurrence": [1, 0, 0, -2, 0, 0, 1, 0],
    "first_terms": [2, 1, 2, 1, 1, 4, 1],
    "fold": 3,
    "lhs": {"constant": "e", "numerator": [0, 1], "denominator": [1, 0]},
    # Euler: e = (y + 1)/(y - 1) with y = (e + 1)/(e - 1) = [2; 6, 10, 14, ...]
    "pcf": {"a": [2, 4], "b": [1]},
    "mobius": [1, 1, 1, -1],
}
V2_WHEN = "2025-06-01T12:00:00.000+00:00"


def _v2_evidence(formula, claim, run_id):
    ev = verify(formula, claim, 60)
    assert ev.verdict == "verified", ev.note
    entry = ev.to_dict()
    entry.pop("value", None)  # v2 evidence did not carry the formula's value
    entry.update(when=V2_WHEN, engine="esma", run=run_id)
    return entry


def _make_v2_store(path):
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                     "applied TEXT NOT NULL)")
        for version in (1, 2):
            for statement in store_module._MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version VALUES (?, ?)", (version, V2_WHEN))
        conn.execute("COMMIT")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        config = {"constant": "e", "degree": 1, "coeff": 2, "signs": 1, "depth": 60}
        conn.execute(
            "INSERT INTO runs (id, name, engine, config, config_hash, started, ended, status, "
            "provenance) VALUES (1, 'v2', 'esma', ?, 'h2', ?, ?, 'stopped', ?)",
            (dumps(config), V2_WHEN, V2_WHEN, dumps([{"started": V2_WHEN, "seed": 7}])))
        conn.execute("INSERT INTO finished_tasks VALUES (1, 'task-1', ?, ?)",
                     (V2_WHEN, dumps([])))
        conn.execute("INSERT INTO pending_tasks VALUES (1, 1, 'task-2', 'esma', ?)",
                     (dumps({"signs": [1, -1]}),))
        scf = SignedCFPattern.from_dict(E_SCF)
        euler = PCF("4n+2", 1)
        scaled = PCF("8n+4", 4)      # 2 (e + 1)/(e - 1): Euler's fraction scaled by 2
        apery = PCF("34n^3+51n^2+27n+5", "-n^6")
        rows = [
            (scf.key, "esma", E_SCF, "e", "e", _v2_evidence(scf, "e", 1)),
            (scaled.key, "pcf", scaled.to_dict(), "2*(e+1)/(e-1)", "e",
             _v2_evidence(scaled, "2*(e+1)/(e-1)", 1)),
            (apery.key, "pcf", apery.to_dict(), "6/zeta(3)", "zeta3",
             _v2_evidence(apery, "6/zeta(3)", 1)),
        ]
        for key, kind, formula, claim, constant, entry in rows:
            conn.execute(
                "INSERT INTO conjectures (key, kind, formula, claim, constant, status, digits, "
                "evidence, engine, first_seen, last_seen, times_found) "
                "VALUES (?, ?, ?, ?, ?, 'verified', ?, ?, 'esma', ?, ?, 1)",
                (key, kind, dumps(formula), claim, constant, entry["digits"], dumps([entry]),
                 V2_WHEN, V2_WHEN))
            conn.execute("INSERT INTO relations (src, type, dst, run) VALUES (?, ?, ?, 1)",
                         (key, "found-by", "run:1"))
        conn.execute("INSERT INTO relations (src, type, dst, run) VALUES (?, ?, ?, 1)",
                     (scf.key, "contracts-to", euler.key))
    finally:
        conn.close()
    return scf, euler, scaled, apery


def test_v2_store_is_migrated_and_backfilled(tmp_path):
    path = tmp_path / "v2.db"
    scf, euler, scaled, apery = _make_v2_store(path)
    raw = _raw(path)
    assert raw["version"] == 2 and euler.key not in raw["conjectures"]
    with Store(path) as store:
        _check_migrated(store, raw)
        # Euler's fraction became a row with its own claim, and represents the e family
        rep = store.get(euler.key)
        assert rep.status == "verified"
        assert _agree(_claim_value(rep.claim), (mpmath.e + 1) / (mpmath.e - 1), 50)
        fam = store.family(euler.key)
        assert fam.known and "Euler" in fam.source
        assert {m.key for m in family_members(store, fam.id)} == {euler.key, scf.key,
                                                                 scaled.key}
        assert store.get(scaled.key).family_map["mobius"] == [2, 0, 0, 1]
        rel = store.relations(src=scf.key, type="contracts-to")[0]
        assert rel.map == {"mobius": [1, 1, 1, -1]}
        assert store.family(apery.key).members == 1
        # v2 parts kept: provenance and the pending task
        run = store.run(1)
        assert run.provenance == [{"started": V2_WHEN, "seed": 7}]
        assert [t.key for t in store.pending_tasks(1)] == ["task-2"]
        assert store.finished_tasks(1) == {"task-1"}
        before = _counts(store)
    with Store(path) as again:
        assert _counts(again) == before


def test_v2_store_opened_read_only_first(tmp_path):
    path = tmp_path / "v2.db"
    _make_v2_store(path)
    raw = _raw(path)
    with Store(path, readonly=True) as store:
        _check_migrated(store, raw)


def test_migration_keeps_a_refuted_conjecture_in_its_family(tmp_path):
    path = tmp_path / "v2r.db"
    _make_v2_store(path)
    wrong = PCF("4n+10", 1)  # a tail of Euler's fraction; its claim below is false
    ev = verify(wrong, "e", 40).to_dict()
    assert ev["verdict"] == "refuted"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(
            "INSERT INTO conjectures (key, kind, formula, claim, constant, status, digits, "
            "evidence, engine, first_seen, last_seen, times_found) "
            "VALUES (?, 'pcf', ?, 'e', 'e', 'refuted', NULL, ?, 'esma', ?, ?, 1)",
            (wrong.key, dumps(wrong.to_dict()), dumps([ev]), V2_WHEN, V2_WHEN))
    finally:
        conn.close()
    with Store(path) as store:
        rec = store.get(wrong.key)
        assert rec.status == "refuted"
        fam = store.family(PCF("4n+2", 1).key)
        assert rec.family == fam.id
        assert fam.digits == store.get(fam.key).digits  # from the representative


def test_v4_store_gains_the_contradicted_status_and_keeps_every_row(tmp_path):
    # a v4 store made by the v4 migrations and filled through a v4 connection: families with
    # representatives (which reference the conjectures table that v5 rebuilds)
    path = tmp_path / "v4.db"
    shutil.copyfile(FIXTURE, path)
    with Store(path):  # v1 -> current, with families backfilled
        pass
    before = _raw(path)
    conn = sqlite3.connect(path)
    reps = dict(conn.execute("SELECT id, representative FROM families"))
    # take the file back to v4's CHECK constraint: a fresh v4 schema, then the rows
    conn.close()
    v4 = tmp_path / "fresh_v4.db"
    c4 = store_schema.connect(str(v4), uri=False, timeout=1.0)
    store_schema.migrate(c4, v4, target=4)
    c4.execute("PRAGMA foreign_keys = OFF")
    c4.execute("ATTACH DATABASE ? AS old", (str(path),))
    for table in ("runs", "families", "conjectures", "relations"):
        c4.execute(f"INSERT INTO main.{table} SELECT * FROM old.{table}")
    c4.execute("DETACH DATABASE old")
    with pytest.raises(sqlite3.IntegrityError):  # v4 does not know the status
        c4.execute("UPDATE conjectures SET status = 'contradicted' WHERE id = 1")
    c4.close()
    with Store(v4) as store:
        assert store.schema_version == SCHEMA_VERSION == 5
    after = _raw(v4)
    assert after["conjectures"] == before["conjectures"]
    conn = sqlite3.connect(v4)
    try:
        assert dict(conn.execute("SELECT id, representative FROM families")) == reps
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        indexes = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'conjectures'")}
        assert {"conjectures_constant", "conjectures_kind", "conjectures_status",
                "conjectures_family"} <= indexes
        conn.execute("UPDATE conjectures SET status = 'contradicted' WHERE id = 1")
    finally:
        conn.close()
