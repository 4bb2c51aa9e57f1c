"""`discovery db ...` and `discovery run ...`: JSON output, exit 2 on bad input, and the
acceptance tests in real subprocesses (SIGKILL at random points, reader while writing, SIGTERM).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from discovery.commands.db import db_app
from discovery.commands.run import run_command
from discovery.store import SCHEMA_VERSION, Store
from search.base import Candidate
from solvers.keys import canonical_key

ROOT = Path(__file__).resolve().parents[1]

app = typer.Typer()
app.add_typer(db_app, name="db")
app.command("run")(run_command)
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def pcf(a, b, claim, constant, relations=()):
    formula = {"a": a, "b": b}
    return Candidate("pcf", canonical_key("pcf", formula), formula, claim, constant, {}, relations)


APERY3 = pcf([5, 27, 51, 34], [0, 0, 0, 0, 0, 0, -1], "6/zeta(3)", "zeta3")
APERY3_X2 = pcf([10, 54, 102, 68], [0, 0, 0, 0, 0, 0, -4], "12/zeta(3)", "zeta3",
                relations=(("equivalent-to", APERY3.key),))
EULER = pcf([3, 1], [0, -1], "e", "e")
HUGE = 11**5000  # 5,207 digits: beyond Python's default int->str limit
BIG = pcf([HUGE, 1], [0, 1], "1", None)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "c.db"
    with Store(path) as s:
        run = s.start_run("fixture", "test", {})
        s.finish_task(run, "t1", [(APERY3, {"verdict": "verified", "digits": 300, "depth": 120}),
                                  (APERY3_X2, {"verdict": "verified", "digits": 80})])
        s.finish_task(run, "t2", [(EULER, {"verdict": "refuted", "digits": 2}), (BIG, None)])
        s.end_run(run, "finished")
    return path


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


# -- db commands ---------------------------------------------------------------------------------


def test_db_list_json_has_the_documented_fields(db):
    r = invoke("db", "list", "--conjectures", "--db", db, "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["count"] == data["total"] == 4
    first = data["conjectures"][0]
    assert {"id", "kind", "formula", "claim", "status", "digits"} <= set(first)
    assert (first["id"], first["claim"], first["status"], first["digits"]) == (
        1, "6/zeta(3)", "verified", 300
    )
    assert first["formula"] == {"a": [5, 27, 51, 34], "b": [0, 0, 0, 0, 0, 0, -1]}
    # The huge coefficient comes out exactly, as decimal text, under the default digit limit.
    import gmpy2

    assert data["conjectures"][3]["formula"]["a"][0] == gmpy2.mpz(HUGE).digits(10)


@pytest.mark.parametrize(
    "filters, claims",
    [
        (["--constant", "zeta3"], ["6/zeta(3)", "12/zeta(3)"]),
        (["--constant", "apery"], ["6/zeta(3)", "12/zeta(3)"]),
        (["--status", "verified", "--min-digits", "100"], ["6/zeta(3)"]),
        (["--status", "refuted"], ["e"]),
        (["--kind", "pcf", "--limit", "1"], ["6/zeta(3)"]),
        (["--kind", "esma"], []),
    ],
)
def test_db_list_filters(db, filters, claims):
    r = invoke("db", "list", "--conjectures", "--db", db, "--json", *filters)
    assert r.exit_code == 0, r.output
    assert [c["claim"] for c in json.loads(r.stdout)["conjectures"]] == claims


def test_db_list_human_table(db):
    r = invoke("db", "list", "--conjectures", "--db", db, "--constant", "zeta3")
    assert r.exit_code == 0
    assert "6/zeta(3)" in r.stdout and "2 conjectures" in r.stdout


def test_db_show_by_id_and_by_key(db):
    r = invoke("db", "show", "1", "--db", db, "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["evidence"][0]["depth"] == 120
    assert data["related_from"] == [
        {"src": APERY3_X2.key, "type": "equivalent-to", "dst": APERY3.key, "run": 1,
         "map": None}
    ]
    assert {"src": APERY3.key, "type": "found-by", "dst": "run:1", "run": 1,
            "map": None} in data["relations"]
    by_key = invoke("db", "show", APERY3.key, "--db", db, "--json")
    assert json.loads(by_key.stdout)["id"] == 1
    human = invoke("db", "show", "1", "--db", db)
    assert "PCF(34n^3 + 51n^2 + 27n + 5, -n^6) = 6/zeta(3)" in human.stdout
    assert "No conjecture" in one_line_error(invoke("db", "show", "99", "--db", db))


def test_db_stats(db):
    r = invoke("db", "stats", "--db", db, "--json")
    data = json.loads(r.stdout)
    assert (data["conjectures"], data["by_status"]) == (
        4, {"proposed": 1, "refuted": 1, "verified": 2}
    )
    assert data["run_list"][0]["finished_tasks"] == 2
    assert "4 conjectures" in invoke("db", "stats", "--db", db).stdout


def test_db_graph_with_png_and_graphml(db, tmp_path):
    png, graphml = tmp_path / "z.png", tmp_path / "z.graphml"
    r = invoke("db", "graph", "--constant", "zeta(3)", "--png", png, "--graphml", graphml,
               "--db", db, "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["constant"] == "const:zeta3"
    assert [f["key"] for f in data["formulas"]] == [APERY3.key, APERY3_X2.key]
    assert [(f["key"], f["members"]) for f in data["families"]] == [(APERY3.key, 2)]
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert b"<graphml" in graphml.read_bytes()
    assert "--constant" in one_line_error(invoke("db", "graph", "--to", "e", "--db", db))


def test_db_export_json_and_graph(db, tmp_path):
    data = json.loads(invoke("db", "export", "--db", db, "--json").stdout)
    assert [c["claim"] for c in data["conjectures"]] == ["6/zeta(3)", "12/zeta(3)", "e", "1"]
    assert data["runs"][0]["name"] == "fixture"
    graph = json.loads(invoke("db", "export", "--graph", "--db", db).stdout)
    assert {"nodes", "edges"} <= set(graph)
    out = tmp_path / "export.json"
    assert invoke("db", "export", "--db", db, "--out", out).exit_code == 0
    assert json.loads(out.read_text())["schema_version"] == SCHEMA_VERSION


def _foreign(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()


def _newer(path):
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (99, 'future')")
    conn.commit()
    conn.close()


BAD_DB = {
    "random-bytes": lambda p: p.write_bytes(random.Random(0).randbytes(5000)),
    "text": lambda p: p.write_text("hello\n"),
    "foreign-sqlite": _foreign,
    "newer-schema": _newer,
}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("command", [["db", "list"], ["db", "stats"], ["db", "show", "1"],
                                     ["db", "graph"], ["db", "export"]])
@pytest.mark.parametrize("kind", sorted(BAD_DB))
def test_bad_db_files_exit_2_and_stay_untouched(tmp_path, kind, command):
    path = tmp_path / "bad.db"
    BAD_DB[kind](path)
    before = sha(path)
    one_line_error(invoke(*command, "--db", path))
    assert sha(path) == before


def test_a_missing_db_is_not_created_by_queries(tmp_path):
    path = tmp_path / "missing.db"
    assert "No conjecture store" in one_line_error(invoke("db", "list", "--db", path))
    assert not path.exists()


# -- run -------------------------------------------------------------------------------------


def campaign_text(db: Path, tasks=12, sleep=0.0, executor="serial", name="cli") -> str:
    return (
        f'[campaign]\nname = "{name}"\ndb = "{db}"\nexecutor = "{executor}"\nworkers = 2\n'
        f"verify = false\n\n[[engine]]\nname = \"toy\"\n[engine.config]\n"
        f"tasks = {tasks}\nsleep = {sleep}\n"
    )


def test_run_a_campaign_and_print_json(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text(campaign_text(tmp_path / "c.db"))
    r = invoke("run", toml, "--json", "--quiet")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["status"] == "finished"
    assert data["runs"][0]["tasks"] == 12
    assert data["found"] == {"total": 7, "by_status": {"proposed": 7}}
    again = json.loads(invoke("run", toml, "--json", "--quiet").stdout)
    assert (again["runs"][0]["tasks"], again["runs"][0]["skipped"]) == (0, 12)
    human = invoke("run", toml, "--quiet")
    assert "campaign 'cli' [finished]" in human.stdout


@pytest.mark.parametrize(
    "text, message",
    [
        ('[campaign]\nname = "x"\nhours = "long"\n[[engine]]\nname = "toy"\n', "must be a number"),
        ('[campaign]\nname = "x"\n[[engine]]\nname = "no-such-engine"\n', "Unknown engine"),
        ('[campaign]\nname = "x"\n[[engine]]\nname = "toy"\n[engine.config]\nspeed = 9\n',
         "toy: unknown option 'speed'"),
        ("[campaign\n", "malformed TOML"),
    ],
)
def test_run_refuses_bad_campaigns_without_creating_a_db(tmp_path, text, message):
    toml = tmp_path / "bad.toml"
    toml.write_text(text)
    db = tmp_path / "never.db"
    line = one_line_error(invoke("run", toml, "--db", db, "--quiet"))
    assert message in line
    assert not db.exists()


def test_run_into_a_foreign_db_leaves_it_untouched(tmp_path):
    toml = tmp_path / "c.toml"
    db = tmp_path / "foreign.db"
    _foreign(db)
    before = sha(db)
    toml.write_text(campaign_text(db))
    assert "not a conjecture store" in one_line_error(invoke("run", toml, "--quiet"))
    assert sha(db) == before


# -- subprocesses: the acceptance tests ------------------------------------------------------------


def _entry(group: str) -> list[str]:
    """The real `discovery` CLI, as a user runs it."""
    return ["-m", "discovery.cli", group]


def cli(group: str, *args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *_entry(group), *map(str, args)],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )


def start(group: str, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *_entry(group), *map(str, args)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group: killing it kills its workers too
    )


def finished_count(db: Path) -> int:
    if not db.exists() or db.stat().st_size == 0:
        return 0
    try:
        with Store(db, readonly=True, timeout=5) as s:
            return sum(r.finished_tasks for r in s.runs())
    except Exception:  # the writer may be creating the file right now
        return 0


def wait_for(db: Path, n: int, proc: subprocess.Popen, timeout=60.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if finished_count(db) >= n:
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    raise AssertionError("the run made no progress")


def store_snapshot(db: Path) -> dict:
    with Store(db, readonly=True) as s:
        return {
            "conjectures": sorted((r.key, r.status, r.times_found) for r in s.query()),
            "relations": sorted((r.src, r.type, r.dst) for r in s.relations()),
            "finished": sorted(k for run in s.runs() for k in s.finished_tasks(run.id)),
            "integrity": s.integrity_check(),
            "runs": [(r.name, r.engine, r.status) for r in s.runs()],
        }


def test_subprocess_db_list_and_bad_db(db, tmp_path):
    r = cli("db", "list", "--conjectures", "--db", db, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["count"] == 4
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"\x00\x01garbage" * 100)
    before = sha(bad)
    r = cli("db", "list", "--db", bad)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "not a conjecture store" in r.stderr
    assert sha(bad) == before


@pytest.mark.parametrize("executor", ["serial", "local"])
def test_sigkill_at_random_points_then_resume_equals_an_uninterrupted_run(tmp_path, executor):
    tasks = 24
    ref_db, db = tmp_path / "ref.db", tmp_path / "crash.db"
    (tmp_path / "ref.toml").write_text(campaign_text(ref_db, tasks, 0.0, "serial", "crash"))
    assert cli("run", tmp_path / "ref.toml", "--quiet").returncode == 0
    expected = store_snapshot(ref_db)
    assert expected["runs"] == [("crash", "toy", "finished")]

    toml = tmp_path / "crash.toml"
    toml.write_text(campaign_text(db, tasks, 0.03, executor, "crash"))
    rng = random.Random(20240601 + len(executor))
    targets = sorted(rng.sample(range(1, tasks - 2), 3))
    kills = 0
    for target in targets:
        proc = start("run", toml, "--progress", "plain")
        reached = wait_for(db, target, proc)
        if reached:
            time.sleep(rng.uniform(0, 0.03))  # land anywhere inside a task or a commit
            os.killpg(proc.pid, signal.SIGKILL)
            kills += 1
        proc.communicate(timeout=30)
        snap = store_snapshot(db)
        assert snap["integrity"] == "ok"
        assert len(snap["finished"]) >= min(target, tasks) - 0  # nothing finished was lost
    assert kills >= 2
    r = cli("run", toml, "--quiet", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["status"] == "finished"
    final = store_snapshot(db)
    assert final == expected


def test_a_reader_works_while_a_run_writes(tmp_path):
    db = tmp_path / "live.db"
    toml = tmp_path / "live.toml"
    toml.write_text(campaign_text(db, tasks=60, sleep=0.05))
    proc = start("run", toml, "--quiet")
    try:
        assert wait_for(db, 2, proc)
        counts, during = [], 0
        while proc.poll() is None and during < 4:
            r = cli("db", "list", "--conjectures", "--db", db, "--json", timeout=60)
            assert r.returncode == 0, r.stderr
            counts.append(json.loads(r.stdout)["count"])
            during += proc.poll() is None
        assert during >= 1  # at least one read completed while the writer was running
        assert counts == sorted(counts) and counts[0] >= 1
    finally:
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert store_snapshot(db)["integrity"] == "ok"


def test_sigterm_stops_a_run_cleanly_and_it_resumes(tmp_path):
    db = tmp_path / "term.db"
    toml = tmp_path / "term.toml"
    toml.write_text(campaign_text(db, tasks=40, sleep=0.05))
    proc = start("run", toml, "--progress", "plain")
    assert wait_for(db, 3, proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped" in out
    with Store(db, readonly=True) as s:
        run = s.runs()[0]
        assert run.status == "stopped"
        done = run.finished_tasks
    assert 3 <= done < 40
    r = cli("run", toml, "--quiet", "--json")
    data = json.loads(r.stdout)
    assert (data["status"], data["runs"][0]["skipped"]) == ("finished", done)
    assert data["runs"][0]["tasks"] == 40 - done


def test_search_session_drives_one_engine_for_search_commands(tmp_path):
    from discovery.commands._search import SearchOptions, search_session
    from discovery.commands.run import print_result

    search = typer.Typer()

    @search.command()
    def toy(tasks: int = 3, db: Path = tmp_path / "s.db"):
        opts = SearchOptions(db=db, executor="serial", verify=False, quiet=True, json=True)
        with search_session("toy", {"tasks": tasks}, opts) as (result, store):
            print_result(result, json_=True, store=store)

    @search.command()
    def other():
        pass

    r = runner.invoke(search, ["toy", "--tasks", "4"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert (data["campaign"], data["runs"][0]["tasks"], data["found"]["total"]) == ("search", 4, 6)
    r = runner.invoke(search, ["toy", "--tasks", "-1"])
    assert "must be an integer in [0, 1000000], not -1" in one_line_error(r)
