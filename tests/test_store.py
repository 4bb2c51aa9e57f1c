"""The conjecture store: deduplication, status order, exact big integers, foreign files."""

from __future__ import annotations

import hashlib
import itertools
import os
import sqlite3
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discovery import store as store_module
from discovery.store import SCHEMA_VERSION, Store, dumps, loads
from search.base import Candidate
from solvers.errors import StoreError
from solvers.keys import canonical_key

APERY = Candidate(
    kind="pcf",
    key=canonical_key("pcf", {"a": [5, 27, 51, 34], "b": [0, 0, 0, 0, 0, 0, -1]}),
    formula={"a": [5, 27, 51, 34], "b": [0, 0, 0, 0, 0, 0, -1]},
    claim="6/zeta(3)",
    constant="zeta(3)",
    evidence={"digits_at_search": 30},
)
EULER_E = Candidate(
    kind="pcf",
    key=canonical_key("pcf", {"a": [3, 1], "b": [0, -1]}),
    formula={"a": [3, 1], "b": [0, -1]},
    claim="e",
    constant="e",
)


def ev(verdict, digits=None, **extra):
    return {"verdict": verdict, "digits": digits, **extra}


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "c.db") as s:
        yield s


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- deduplication and status ------------------------------------------------------------------


def test_refinding_a_conjecture_adds_evidence_not_a_row(store):
    first = store.record(APERY, ev("verified", 60, depth=40, seconds=0.1), engine="esma")
    again = store.record(APERY, ev("verified", 150, depth=100, seconds=0.3), engine="cmf")
    assert first == again
    assert len(store) == 1
    rec = store.get(APERY.key)
    assert rec.times_found == 2
    assert rec.digits == 150
    assert [e["digits"] for e in rec.evidence] == [60, 150]
    assert [e["engine"] for e in rec.evidence] == ["esma", "cmf"]
    assert rec.engine == "esma"  # the engine that found it first
    assert rec.evidence[0]["search"] == {"digits_at_search": 30}
    assert rec.first_seen <= rec.last_seen


def test_constant_names_are_stored_canonically_and_aliases_query(store):
    store.record(APERY, ev("verified", 100))
    assert store.get(APERY.key).constant == "zeta3"
    for name in ("zeta3", "zeta(3)", "apery"):
        assert [r.key for r in store.query(constant=name)] == [APERY.key]


def test_verified_never_goes_back_to_proposed(store):
    store.record(APERY, ev("verified", 100))
    store.record(APERY, None)
    store.record(APERY, ev("inconclusive", 5))
    rec = store.get(APERY.key)
    assert rec.status == "verified"
    assert rec.digits == 100


def test_refuted_wins_over_verified_only_with_refuting_evidence(store):
    store.record(EULER_E, ev("verified", 40))
    assert store.get(EULER_E.key).status == "verified"
    store.record(EULER_E, ev("refuted", 3))
    rec = store.get(EULER_E.key)
    assert rec.status == "refuted"
    assert rec.digits == 40  # a refuting entry's agreement never counts as "digits agreed"
    store.record(EULER_E, ev("verified", 80))
    assert store.get(EULER_E.key).status == "refuted"
    # a proof after a refutation is a contradiction (one of them is wrong): flagged, and both
    # evidence entries kept
    store.record(EULER_E, ev("proven"))
    rec = store.get(EULER_E.key)
    assert rec.status == "contradicted"
    verdicts = [e["verdict"] for e in rec.evidence]
    assert "refuted" in verdicts and "proven" in verdicts
    store.record(EULER_E, ev("verified", 120))
    assert store.get(EULER_E.key).status == "contradicted"
    assert store.stats()["by_status"] == {"contradicted": 1}


def test_a_refutation_of_a_proven_formula_is_a_contradiction(store):
    store.record(APERY, ev("proven"))
    store.record(APERY, ev("refuted", 2))
    assert store.get(APERY.key).status == "contradicted"
    assert [r.key for r in store.query(status="contradicted")] == [APERY.key]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([None, "inconclusive", "verified", "refuted", "proven"]),
            st.integers(0, 500),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_final_status_does_not_depend_on_the_order_of_evidence(entries):
    results = set()
    for perm in itertools.islice(itertools.permutations(entries), 6):
        with Store(":memory:") as s:
            for verdict, digits in perm:
                s.record(EULER_E, ev(verdict, digits))
            rec = s.get(EULER_E.key)
            results.add((rec.status, rec.digits, rec.times_found))
    assert len(results) == 1
    status, digits, times = results.pop()
    order = ["proposed", "inconclusive", "verified", "refuted", "proven"]
    verdicts = {v or "proposed" for v, _ in entries}
    if {"refuted", "proven"} <= verdicts:
        assert status == "contradicted"
    else:
        assert status == max(verdicts, key=order.index)
    good = [d for v, d in entries if v != "refuted"]
    assert digits == (max(good) if good else None)
    assert times == len(entries)


def test_unknown_verdict_is_refused_and_nothing_is_written(store):
    with pytest.raises(StoreError, match="verdict"):
        store.record(APERY, {"verdict": "probably"})
    assert len(store) == 0


def test_evidence_objects_with_to_dict_are_accepted(store):
    class Evidence:
        verdict = "verified"

        def to_dict(self):
            return {"verdict": "verified", "digits": 77, "depth": 55, "seconds": 0.01}

    store.record(APERY, Evidence())
    rec = store.get(1)
    assert (rec.status, rec.digits, rec.evidence[0]["depth"]) == ("verified", 77, 55)


def test_evidence_list_is_capped_keeping_first_and_latest(store):
    for d in range(store_module.MAX_EVIDENCE + 10):
        store.record(EULER_E, ev("verified", d))
    rec = store.get(EULER_E.key)
    assert len(rec.evidence) == store_module.MAX_EVIDENCE
    assert rec.evidence[0]["digits"] == 0
    assert rec.evidence[-1]["digits"] == store_module.MAX_EVIDENCE + 9
    assert rec.times_found == store_module.MAX_EVIDENCE + 10


# -- exact integers -----------------------------------------------------------------------------


def test_huge_integers_round_trip_under_the_default_digit_limit(store):
    assert sys.get_int_max_str_digits() in (0, 4300)
    huge = 7**30000  # 25,353 digits: str(huge) would raise under the default limit
    formula = {"a": [huge, -huge, 1], "b": [0, 2**70000]}
    key = canonical_key("pcf", formula)
    cand = Candidate("pcf", key, formula, "1", None, {"p": -(3**40000)})
    store.record(cand, ev("verified", 10))
    rec = store.get(key)
    assert rec.formula["a"] == [huge, -huge, 1]
    assert rec.formula["b"][1] == 2**70000
    assert rec.evidence[0]["search"]["p"] == -(3**40000)
    assert "PCF(" in rec.formula_text  # human text of a huge polynomial does not crash


def test_json_codec_keeps_fractions_and_gmpy2_integers():
    from fractions import Fraction

    import gmpy2

    data = {"q": Fraction(-22, 7), "z": gmpy2.mpz(10) ** 5000, "t": (1, 2)}
    back = loads(dumps(data))
    assert back == {"q": Fraction(-22, 7), "z": 10**5000, "t": [1, 2]}


# -- relations, runs, tasks -----------------------------------------------------------------------


def test_relations_are_unique_and_typed(store):
    assert store.add_relation("pcf:a", "equivalent-to", "pcf:b") is True
    assert store.add_relation("pcf:a", "equivalent-to", "pcf:b") is False
    assert store.add_relation("pcf:a", "derived-from", "pcf:b") is True
    assert [repr(r) for r in store.relations(src="pcf:a")] == [
        "pcf:a -equivalent-to-> pcf:b",
        "pcf:a -derived-from-> pcf:b",
    ]
    with pytest.raises(StoreError, match="relation type"):
        store.add_relation("pcf:a", "Equivalent To", "pcf:b")


def test_resumed_run_reuses_its_id_and_a_new_config_starts_a_new_run(store):
    r1 = store.start_run("overnight", "esma", {"constant": "e", "degree": 1})
    store.end_run(r1, "stopped", state={"next": 7})
    assert store.start_run("overnight", "esma", {"degree": 1, "constant": "e"}) == r1
    run = store.run(r1)
    assert (run.status, run.state, run.resumed, run.ended) == ("running", {"next": 7}, 1, None)
    assert store.start_run("overnight", "esma", {"constant": "e", "degree": 2}) != r1
    assert store.start_run("other", "esma", {"constant": "e", "degree": 1}) != r1
    with pytest.raises(StoreError, match="run status"):
        store.end_run(r1, "exploded")


def test_finish_task_records_candidates_and_task_in_one_transaction(store):
    run = store.start_run("t", "toy", {})
    bad = Candidate("pcf", "pcf:bad", {"a": [1], "b": [1]}, "x", relations=(("BAD TYPE", "y"),))
    with pytest.raises(StoreError):
        store.finish_task(run, "task-1", [(APERY, ev("verified", 100)), (bad, None)])
    # Rolled back as a whole: neither APERY, nor the task, nor a found-by relation.
    assert len(store) == 0
    assert store.finished_tasks(run) == set()
    assert store.relations() == []
    ids = store.finish_task(run, "task-1", [(APERY, ev("verified", 100)), (EULER_E, None)])
    assert store.finished_tasks(run) == {"task-1"}
    assert [store.get(i).key for i in ids] == [APERY.key, EULER_E.key]
    assert {(r.src, r.dst) for r in store.relations(type="found-by")} == {
        (APERY.key, f"run:{run}"),
        (EULER_E.key, f"run:{run}"),
    }
    # Finishing it again is a no-op: no second evidence entry.
    assert store.finish_task(run, "task-1", [(APERY, ev("verified", 500))]) == ids
    assert store.get(APERY.key).times_found == 1
    assert store.get(APERY.key).engine == "toy"


def test_task_candidates_replay_what_a_finished_task_produced(store):
    run = store.start_run("t", "toy", {})
    linked = Candidate(
        "pcf", "pcf:linked", {"a": [2], "b": [1]}, "1+sqrt(2)", "sqrt2",
        {"m": 1}, (("derived-from", APERY.key),),
    )
    store.finish_task(run, "k", [(APERY, None), (linked, None)])
    replay = store.task_candidates(run, "k")
    assert [c.key for c in replay] == [APERY.key, "pcf:linked"]
    assert replay[1].relations == (("derived-from", APERY.key),)
    assert replay[1].evidence == {"m": 1}
    assert replay[0].formula == APERY.formula
    assert store.task_candidates(run, "unknown") == []


def test_query_filters_and_paging(store):
    store.record(APERY, ev("verified", 120))
    store.record(EULER_E, ev("verified", 40))
    store.record(Candidate("esma", "esma:x", {"text": "e-pattern"}, "e/(e-1)", "e"), None)
    assert [r.key for r in store.query(constant="e")] == [EULER_E.key, "esma:x"]
    assert [r.key for r in store.query(kind="esma")] == ["esma:x"]
    assert [r.key for r in store.query(status="verified", min_digits=100)] == [APERY.key]
    assert [r.id for r in store.query(limit=2)] == [1, 2]
    assert [r.id for r in store.query(limit=2, offset=2)] == [3]
    with pytest.raises(StoreError, match="status"):
        store.query(status="true")


def test_stats_and_export(store):
    store.record(APERY, ev("verified", 120))
    store.record(EULER_E, ev("refuted", 2))
    store.add_relation(APERY.key, "improves", EULER_E.key)
    s = store.stats()
    assert s["conjectures"] == 2
    assert s["by_status"] == {"refuted": 1, "verified": 1}
    assert s["by_constant"] == {"e": 1, "zeta3": 1}
    assert s["by_relation"] == {"improves": 1}
    assert s["schema_version"] == SCHEMA_VERSION
    data = store.export()
    assert [c["claim"] for c in data["conjectures"]] == ["6/zeta(3)", "e"]
    assert data["relations"] == [
        {"src": APERY.key, "type": "improves", "dst": EULER_E.key, "run": None,
             "map": None}
    ]
    assert repr(store.get(1)) == (
        "Conjecture #1 [verified, 120 digits]: PCF(34n^3 + 51n^2 + 27n + 5, -n^6) = 6/zeta(3)"
    )


def test_get_unknown_conjecture_raises_store_error(store):
    with pytest.raises(StoreError, match="No conjecture"):
        store.get(42)
    with pytest.raises(StoreError, match="No conjecture"):
        store.get("pcf:nothing")


# -- files: ours, not ours, newer ----------------------------------------------------------------


def test_store_is_wal_with_application_id_and_schema_table(tmp_path):
    path = tmp_path / "c.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA application_id").fetchone()[0] == store_module.APPLICATION_ID
        version = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
        assert version == store_module.SCHEMA_VERSION
    finally:
        conn.close()


def test_an_empty_file_becomes_a_store(tmp_path):
    path = tmp_path / "empty.db"
    path.touch()
    with Store(path) as s:
        s.record(APERY, None)
    with Store(path, readonly=True) as s:
        assert len(s) == 1


def _foreign_sqlite(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.execute("INSERT INTO people VALUES ('Ramanujan')")
    conn.commit()
    conn.close()


def _newer_store(path):
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (?, 'future')", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _corrupt_sqlite(path):
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(4000))


BAD_FILES = {
    "random-bytes": (lambda p: p.write_bytes(os.urandom(3000)), "not an SQLite database"),
    "text-file": (lambda p: p.write_text("a = 1\nb = 2\n"), "not an SQLite database"),
    "foreign-sqlite": (_foreign_sqlite, "not a conjecture store"),
    "newer-schema": (_newer_store, "newer than this workbench"),
    "corrupt-sqlite": (_corrupt_sqlite, "corrupt or not a conjecture store|not a conjecture"),
}


@pytest.mark.parametrize("readonly", [False, True], ids=["write", "read"])
@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_a_file_that_is_not_our_store_is_refused_and_untouched(tmp_path, kind, readonly):
    path = tmp_path / "x.db"
    make, message = BAD_FILES[kind]
    make(path)
    before = sha(path)
    siblings = sorted(os.listdir(tmp_path))
    with pytest.raises(StoreError, match=message):
        Store(path, readonly=readonly)
    assert sha(path) == before
    assert sorted(os.listdir(tmp_path)) == siblings


def test_a_missing_store_is_not_created_by_a_reader(tmp_path):
    with pytest.raises(StoreError, match="No conjecture store"):
        Store(tmp_path / "nothing.db", readonly=True)
    assert not (tmp_path / "nothing.db").exists()


def test_a_store_in_a_missing_directory_is_an_error(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "no" / "such" / "dir.db")


def test_a_directory_is_not_a_store(tmp_path):
    with pytest.raises(StoreError, match="directory"):
        Store(tmp_path)


def test_read_only_store_refuses_writes(tmp_path):
    Store(tmp_path / "c.db").close()
    with Store(tmp_path / "c.db", readonly=True) as s:
        with pytest.raises(StoreError, match="read-only"):
            s.record(APERY, None)


def test_forward_migration_upgrades_an_older_store_and_keeps_its_data(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    with Store(path) as s:
        s.record(APERY, ev("verified", 100))
    newer = SCHEMA_VERSION + 1
    note = ("ALTER TABLE conjectures ADD COLUMN note TEXT",)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", newer)
    monkeypatch.setitem(store_module._MIGRATIONS, newer, note)
    with Store(path) as s:
        assert s.schema_version == newer
        assert s.get(APERY.key).digits == 100
        assert "note" in [r[1] for r in s._read("PRAGMA table_info(conjectures)")]


def test_a_reader_sees_committed_data_while_a_writer_holds_a_transaction(tmp_path):
    path = tmp_path / "c.db"
    with Store(path) as writer:
        writer.record(APERY, ev("verified", 100))
        with writer.transaction():
            writer.record(EULER_E, ev("verified", 10))
            with Store(path, readonly=True, timeout=1.0) as reader:
                # WAL: the reader is not blocked and sees only committed data.
                assert [r.key for r in reader.query()] == [APERY.key]
        with Store(path, readonly=True) as reader:
            assert len(reader) == 2


def test_integrity_check_is_ok(store):
    store.record(APERY, None)
    assert store.integrity_check() == "ok"
