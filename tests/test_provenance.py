"""Provenance of runs, pending tasks and atomic state (store schema v2), and the v1 -> v3
migration of an existing store.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import sqlite3
import time

import pytest
from typer.testing import CliRunner

import discovery.provenance as provenance_module
import discovery.store as store_module
from discovery.cli import app
from discovery.provenance import LIBRARIES, collect_provenance
from discovery.store import SCHEMA_VERSION, Store
from search.base import Candidate, Task
from solvers.errors import StoreError
from solvers.keys import canonical_key

runner = CliRunner()

PROV = {
    "package": "0.1.0",
    "git": "abcdef1234567890abcdef1234567890abcdef12-dirty",
    "python": "3.11.9",
    "libraries": {"numpy": "2.0.0"},
    "host": "foo",
    "platform": "Linux",
    "command": "discovery run scripts/campaigns/demo.toml --hours 1",
    "seed": 0,
}
HUGE = 7**5917  # 5,001 digits: beyond Python's default int<->str limit


def pcf(a, b, claim, constant=None):
    formula = {"a": a, "b": b}
    return Candidate("pcf", canonical_key("pcf", formula), formula, claim, constant)


APERY = pcf([5, 27, 51, 34], [0, 0, 0, 0, 0, 0, -1], "6/zeta(3)", "zeta3")
EULER = pcf([3, 1], [0, -1], "e", "e")
GOLDEN = pcf([1], [1], "(1+sqrt(5))/2")


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def store():
    s = Store(":memory:")
    yield s
    s.close()


# -- collect_provenance ------------------------------------------------------------------------


def test_collect_provenance_keys_and_values():
    argv = ["discovery", "run", "my campaign.toml", "--seed", "7"]
    p = collect_provenance(argv, seed=7)
    assert set(p) == {
        "package", "git", "python", "libraries", "host", "platform", "command", "seed"
    }
    assert p["python"] == platform.python_version()
    assert p["command"] == "discovery run 'my campaign.toml' --seed 7"
    assert p["seed"] == 7
    assert p["host"] == platform.node() and p["platform"] == platform.platform()
    assert p["package"] not in ("", None)
    assert set(p["libraries"]) <= set(LIBRARIES)
    assert "numpy" in p["libraries"] and "sympy" in p["libraries"]
    assert p["git"] is None or re.fullmatch(r"[0-9a-f]{40,64}(-dirty)?", p["git"])
    json.dumps(p)  # JSON-able as it is
    assert collect_provenance([], seed=None)["command"] == ""
    assert collect_provenance()["command"]  # sys.argv by default


def test_collect_provenance_is_cheap_and_never_fails_without_git(monkeypatch):
    collect_provenance()  # warm the caches
    start = time.perf_counter()
    for _ in range(100):
        collect_provenance(["x"])
    assert time.perf_counter() - start < 0.5
    provenance_module._git_commit.cache_clear()
    monkeypatch.setenv("PATH", "/nonexistent")
    try:
        assert collect_provenance(["x"])["git"] is None
    finally:
        provenance_module._git_commit.cache_clear()


# -- provenance of runs ------------------------------------------------------------------------


def test_start_run_stores_provenance_and_a_resumed_session_appends(store):
    run = store.start_run("demo", "esma", {"degree": 1}, provenance=PROV)
    (first,) = store.run(run).provenance
    assert first == {"started": first["started"], **PROV}
    assert first["started"] == store.run(run).started
    again = store.start_run("demo", "esma", {"degree": 1}, provenance={**PROV, "seed": 1})
    assert again == run
    sessions = store.run(run).provenance
    assert [s["seed"] for s in sessions] == [0, 1]
    assert sessions[0]["started"] <= sessions[1]["started"]
    assert store.run(run).resumed == 1
    # None collects the provenance of this process; {} records only the start time.
    auto = store.start_run("auto", "esma")
    assert store.run(auto).provenance[0]["python"] == platform.python_version()
    bare = store.start_run("bare", "esma", provenance={})
    assert list(store.run(bare).provenance[0]) == ["started"]


def test_provenance_keeps_the_first_and_the_latest_sessions(store):
    for seed in range(40):
        store.start_run("demo", "esma", {}, provenance={"seed": seed})
    seeds = [s["seed"] for s in store.run(1).provenance]
    assert len(seeds) == store_module.MAX_SESSIONS
    assert seeds == [0, *range(40 - store_module.MAX_SESSIONS + 1, 40)]


def test_run_record_and_export_carry_the_provenance(store):
    run = store.start_run("demo", "esma", {"degree": 1}, provenance=PROV)
    store.finish_task(run, "t1", [(APERY, {"verdict": "verified", "digits": 120})])
    record = store.run(run)
    assert record.to_dict()["provenance"] == record.provenance
    assert record.provenance[0]["git"] == PROV["git"]
    exported = store.export()
    assert exported["schema_version"] == SCHEMA_VERSION == 5
    assert exported["runs"][0]["provenance"][0]["command"] == PROV["command"]
    assert json.loads(json.dumps(exported["runs"]))[0]["provenance"] == record.provenance


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "c.db"
    with Store(path) as s:
        run = s.start_run("demo", "esma", {"degree": 1}, provenance=PROV)
        s.finish_task(run, "t1", [(APERY, {"verdict": "verified", "digits": 120})])
        s.end_run(run, "stopped")
        time.sleep(0.01)
        s.start_run("demo", "esma", {"degree": 1}, provenance={**PROV, "seed": 5})
        s.finish_task(run, "t2", [(EULER, {"verdict": "verified", "digits": 50})])
        s.end_run(run, "finished")
        s.record(GOLDEN, {"verdict": "verified", "digits": 30})  # found by no run
    return path


def test_db_show_json_lists_the_runs_that_found_it(db):
    r = invoke("db", "show", "1", "--db", db, "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    (run,) = data["runs"]
    assert (run["id"], run["name"], run["engine"]) == (1, "demo", "esma")
    assert [s["seed"] for s in run["provenance"]] == [0, 5]
    assert run["provenance"][0]["command"] == PROV["command"]
    none = json.loads(invoke("db", "show", "3", "--db", db, "--json").stdout)
    assert none["runs"] == []


def test_db_show_prints_the_session_that_found_it(db):
    first = invoke("db", "show", "1", "--db", db)
    assert first.exit_code == 0, first.output
    lines = [ln.strip() for ln in first.stdout.splitlines() if "found by run" in ln]
    assert len(lines) == 1
    line = lines[0]
    assert line.startswith("found by run #1 demo/esma (started ")
    assert re.search(r"started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, ", line)
    for part in ("package 0.1.0", "git abcdef1-dirty", "python 3.11.9", "host foo",
                 f'command "{PROV["command"]}"', "seed 0", "2 sessions"):
        assert part in line, line
    second = invoke("db", "show", EULER.key, "--db", db)
    assert "seed 5" in second.stdout and "seed 0" not in second.stdout
    assert "found by run" not in invoke("db", "show", "3", "--db", db).stdout


# -- pending tasks and atomic state ------------------------------------------------------------


def test_pending_tasks_round_trip_in_submission_order(store):
    run = store.start_run("evo", "evolution", {}, provenance={})
    tasks = [
        Task("evolution", "gen-2", {"big": HUGE, "neg": -HUGE, "nested": {"xs": [1, 2.5, None]}}),
        Task("evolution", "gen-1", {"program": [["add", 0, 1]], "flag": True, "name": "é"}),
        Task("evolution", "gen-3", {}),
    ]
    for t in tasks:
        store.add_pending(run, t)
    store.add_pending(run, Task("evolution", "gen-2", {"other": 1}))  # already pending
    assert store.pending_tasks(run) == tasks
    assert store.pending_tasks(run)[0].payload["big"] == HUGE
    other = store.start_run("other", "evolution", {}, provenance={})
    assert store.pending_tasks(other) == []
    with pytest.raises(StoreError, match="No run"):
        store.add_pending(99, tasks[0])


def test_finish_task_removes_the_pending_row_and_saves_the_state(store):
    run = store.start_run("evo", "evolution", {}, provenance={})
    for key in ("a", "b", "c"):
        store.add_pending(run, Task("evolution", key, {"k": key}))
    ids = store.finish_task(
        run, "b", [(APERY, {"verdict": "verified", "digits": 100})], state={"told": ["b"]}
    )
    assert ids == [1]
    assert [t.key for t in store.pending_tasks(run)] == ["a", "c"]
    assert store.run(run).state == {"told": ["b"]}
    assert store.finished_count(run) == 1 and store.finished_tasks(run) == {"b"}
    # Without a state the saved one stays; a later task keeps its order after the others.
    store.finish_task(run, "a")
    assert store.run(run).state == {"told": ["b"]}
    store.add_pending(run, Task("evolution", "d", {}))
    assert [t.key for t in store.pending_tasks(run)] == ["c", "d"]
    # A finished key is not pending again.
    store.add_pending(run, Task("evolution", "a", {}))
    assert [t.key for t in store.pending_tasks(run)] == ["c", "d"]


def test_finish_task_is_all_or_nothing(store):
    run = store.start_run("evo", "evolution", {}, provenance={})
    store.save_state(run, {"generation": 1})
    store.add_pending(run, Task("evolution", "t", {"x": 1}))
    bad = [(APERY, {"verdict": "verified", "digits": 100}), (EULER, {"verdict": "bogus"})]
    with pytest.raises(StoreError, match="Unknown verdict"):
        store.finish_task(run, "t", bad, state={"generation": 2})
    assert len(store) == 0
    assert store.finished_count(run) == 0
    assert store.run(run).state == {"generation": 1}
    assert [t.key for t in store.pending_tasks(run)] == ["t"]
    assert store.relations() == []


def test_finishing_a_finished_task_changes_nothing_but_a_stale_pending_row(store):
    run = store.start_run("evo", "evolution", {}, provenance={})
    store.finish_task(run, "t", [(APERY, {"verdict": "verified", "digits": 100})],
                      state={"generation": 1})
    store._conn.execute(
        "INSERT INTO pending_tasks VALUES (?, 7, 't', 'evolution', '{}')", (run,)
    )
    ids = store.finish_task(run, "t", [(EULER, {"verdict": "verified", "digits": 9})],
                            state={"generation": 2})
    assert ids == [1]
    assert store.pending_tasks(run) == []
    assert store.run(run).state == {"generation": 1}
    assert len(store) == 1 and store.get(APERY.key).times_found == 1


def test_record_many_records_a_batch_in_one_transaction(store):
    run = store.start_run("evo", "evolution", {}, provenance={})
    pairs = [(APERY, {"verdict": "verified", "digits": 100}), (EULER, None)]
    assert store.record_many(run, pairs) == [1, 2]
    assert {r.src for r in store.relations(type="found-by", dst=f"run:{run}")} == {
        APERY.key, EULER.key
    }
    assert store.get(EULER.key).engine == "evolution"
    with pytest.raises(StoreError):
        store.record_many(run, [(GOLDEN, None), (APERY, {"verdict": "bogus"})])
    assert GOLDEN.key not in store and store.finished_count(run) == 0


# -- migration v1 -> v3 ------------------------------------------------------------------------


def _v1_store(path, monkeypatch):
    """A store file as the v1 workbench made it: migration 1 only, rows in v1 columns."""
    with monkeypatch.context() as m:
        m.setattr(store_module, "SCHEMA_VERSION", 1)
        with Store(path) as s:
            assert s.schema_version == 1
            tables = {r[0] for r in s._read("SELECT name FROM sqlite_master")}
            assert "pending_tasks" not in tables and "families" not in tables
            c = s._conn
            c.execute(
                "INSERT INTO runs (name, engine, config, config_hash, started, status) "
                "VALUES ('demo', 'esma', ?, ?, '2025-01-01T00:00:00.000+00:00', 'running')",
                (store_module.dumps({"degree": 1}), store_module._config_hash({"degree": 1})),
            )
            for cand, status, digits in ((APERY, "verified", 300), (EULER, "refuted", None)):
                ev = [{"verdict": status, "digits": digits, "run": 1, "engine": "esma",
                       "when": "2025-01-01T00:00:01.000+00:00"}]
                c.execute(
                    "INSERT INTO conjectures (key, kind, formula, claim, constant, status, "
                    "digits, evidence, engine, first_seen, last_seen, times_found) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, 'esma', '2025-01-01', '2025-01-01', 1)",
                    (cand.key, cand.kind, store_module.dumps(cand.formula), cand.claim,
                     cand.constant, status, digits, store_module.dumps(ev)),
                )
            for src, rtype, dst in ((APERY.key, "found-by", "run:1"),
                                    (EULER.key, "found-by", "run:1"),
                                    (EULER.key, "improves", APERY.key)):
                c.execute("INSERT INTO relations (src, type, dst, run) VALUES (?, ?, ?, 1)",
                          (src, rtype, dst))
            c.execute(
                "INSERT INTO finished_tasks (run_id, task_key, finished, candidates) "
                "VALUES (1, 't1', '2025-01-01T00:00:01.000+00:00', ?)",
                (store_module.dumps([APERY.key, EULER.key]),),
            )
            c.execute("UPDATE runs SET state = ?, status = 'stopped' WHERE id = 1",
                      (store_module.dumps({"next": 2}),))


def test_a_v1_store_is_upgraded_by_its_first_reader_and_keeps_everything(tmp_path, monkeypatch):
    path = tmp_path / "v1.db"
    _v1_store(path, monkeypatch)
    with Store(path, readonly=True) as s:  # a writable file: upgraded, then read
        assert s.schema_version == SCHEMA_VERSION
        (run,) = s.runs()
        assert (run.provenance, run.state, run.finished_tasks) == ([], {"next": 2}, 1)
        assert s.pending_tasks(1) == []
        assert s.export()["runs"][0]["provenance"] == []
        assert all(c.family is not None for c in s.query())
    shown = invoke("db", "show", "1", "--db", path)
    assert shown.exit_code == 0, shown.output
    assert "found by run #1 demo/esma (no provenance recorded)" in shown.stdout
    assert json.loads(invoke("db", "show", "1", "--db", path, "--json").stdout)["runs"][0][
        "provenance"
    ] == []
    before = sha(path)
    with Store(path, readonly=True) as s:
        assert len(s) == 2
    assert sha(path) == before  # an up-to-date store is never written by a reader

    with Store(path) as s:
        assert s.schema_version == SCHEMA_VERSION
        assert [(c.key, c.status, c.digits) for c in s.query()] == [
            (APERY.key, "verified", 300), (EULER.key, "refuted", None)
        ]
        assert {(r.src, r.type, r.dst) for r in s.relations()} == {
            (APERY.key, "found-by", "run:1"),
            (EULER.key, "found-by", "run:1"),
            (EULER.key, "improves", APERY.key),
        }
        assert s.finished_tasks(1) == {"t1"}
        assert s.run(1).state == {"next": 2} and s.run(1).provenance == []
        # The old run resumes and gains provenance; the new table works.
        assert s.start_run("demo", "esma", {"degree": 1}, provenance=PROV) == 1
        assert s.run(1).provenance[0]["seed"] == 0
        s.add_pending(1, Task("esma", "t2", {"n": HUGE}))
        assert s.pending_tasks(1)[0].payload["n"] == HUGE
        assert s.finish_task(1, "t1") == [1, 2]  # still finished: nothing redone
    conn = sqlite3.connect(path)
    try:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
        assert versions == list(range(1, SCHEMA_VERSION + 1))
    finally:
        conn.close()
