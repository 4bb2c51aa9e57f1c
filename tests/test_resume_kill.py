"""kill -9 in the middle of a run, then resume: the store ends as an uninterrupted run's.

Every command runs in a subprocess through the real CLI (``python -m discovery.cli``) on the
local executor with 2 worker processes. The killed run is started in a new session and
killed with SIGKILL once the store (polled read-only) shows that it is really in the middle
of the run; a test fails, rather than passes, when the run ended before it could be killed.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from discovery.store import Store
from solvers.errors import StoreError

ROOT = Path(__file__).resolve().parents[1]
DISCOVERY = [sys.executable, "-m", "discovery.cli"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


# ------------------------------------------------------------------------------- helpers


def run_cli(args: list[str], cwd: Path, timeout: float = 600) -> dict:
    """Run a CLI command to its end and return its one JSON object."""
    proc = subprocess.run([*DISCOVERY, *args], capture_output=True, text=True, cwd=cwd,
                          env=ENV, timeout=timeout)
    assert proc.returncode == 0, f"{args}: exit {proc.returncode}\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout)


def finished_tasks(db: Path) -> int:
    """Finished tasks of the store's first run (0 while the store is being created)."""
    if not db.exists():
        return 0
    try:
        with Store(db, readonly=True) as store:
            runs = store.runs()
            return runs[0].finished_tasks if runs else 0
    except (StoreError, sqlite3.Error):
        return 0


def start(args: list[str], cwd: Path) -> subprocess.Popen:
    """Start a CLI command as the leader of a new session (its pgid and sid are its pid)."""
    return subprocess.Popen([*DISCOVERY, *args], cwd=cwd, env=ENV, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_until_mid_run(proc: subprocess.Popen, db: Path, low: int, total: int,
                       timeout: float) -> int:
    """Poll the store every 0.2 s until ``low <= finished < total``; fail if the run ends
    first (it must be killed in the middle, or the test proves nothing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = finished_tasks(db)
        if proc.poll() is not None:
            pytest.fail(f"the run ended (exit {proc.returncode}, {n} of {total} tasks "
                        f"finished) before it could be killed mid-run")
        if n >= total:
            kill_session(proc)
            pytest.fail(f"the run finished all {total} tasks before it could be killed")
        if n >= low:
            return n
        time.sleep(0.2)
    kill_session(proc)
    pytest.fail(f"no {low} finished tasks within {timeout} s")


def kill_session(proc: subprocess.Popen) -> None:
    """SIGKILL the process group of a started command (the command and its workers)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def store_contents(db: Path) -> dict:
    with Store(db, readonly=True) as store:
        runs = store.runs()
        return {
            "conjectures": sorted((r.key, r.claim, r.status) for r in store.query()),
            "runs": [(r.id, r.name, r.engine, r.finished_tasks) for r in runs],
            "finished": sorted(store.finished_tasks(runs[0].id)) if runs else [],
            "pending": [t.key for t in store.pending_tasks(runs[0].id)] if runs else [],
        }


def session_processes(sid: int) -> dict[int, str]:
    """Live (not zombie) processes of session ``sid``: pid -> command line, from /proc."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        state, session = fields[0], int(fields[3])
        if session == sid and state != "Z":
            out[int(entry.name)] = cmdline.strip()
    return out


def descendants(pid: int) -> dict[int, str]:
    """Live descendants of ``pid`` (by parent pid), with their command lines."""
    parents: dict[int, int] = {}
    cmds: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmds[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    found, frontier = {}, [pid]
    while frontier:
        p = frontier.pop()
        for child, parent in parents.items():
            if parent == p and child not in found:
                found[child] = cmds.get(child, "").strip()
                frontier.append(child)
    return found


# ------------------------------------------------------------------------------- evolution

EVOLVE_TASKS = 16


def evolve_args(db: Path) -> list[str]:
    return ["search", "evolve", "--function", "2^x", "--interval", "0,1", "--max-ops", "6",
            "--max-tasks", str(EVOLVE_TASKS), "--seed", "0", "--no-baselines",
            "--executor", "local", "--workers", "2", "--db", str(db), "--json"]


@pytest.fixture(scope="module")
def evolve_uninterrupted(tmp_path_factory):
    """The uninterrupted evolution run (16 tasks) and its JSON."""
    tmp = tmp_path_factory.mktemp("evolve")
    db = tmp / "a.db"
    out = run_cli(evolve_args(db), cwd=tmp)
    return db, out


@pytest.mark.slow
def test_evolve_killed_and_resumed_equals_an_uninterrupted_run(tmp_path, evolve_uninterrupted):
    a_db, a_out = evolve_uninterrupted
    assert a_out["tasks_total"] == EVOLVE_TASKS and a_out["pareto"]
    expected = store_contents(a_db)
    assert expected["runs"][0][3] == EVOLVE_TASKS

    b_db = tmp_path / "b.db"
    proc = start(evolve_args(b_db), cwd=tmp_path)
    try:
        wait_until_mid_run(proc, b_db, low=3, total=EVOLVE_TASKS, timeout=300)
    finally:
        kill_session(proc)
    killed = store_contents(b_db)
    done_at_kill = killed["runs"][0][3]
    assert 3 <= done_at_kill < EVOLVE_TASKS, "not killed mid-run"
    assert killed["conjectures"] == []  # the front is recorded when a session ends

    b_out = run_cli(evolve_args(b_db), cwd=tmp_path)
    assert b_out["run"] == a_out["run"] == killed["runs"][0][0]  # resumed, not a new run
    assert b_out["tasks_total"] == EVOLVE_TASKS
    assert b_out["tasks"] == EVOLVE_TASKS - done_at_kill
    got = store_contents(b_db)
    assert got["pending"] == []
    assert got["runs"][0][3] == EVOLVE_TASKS
    assert got["finished"] == expected["finished"]
    assert got["conjectures"] == expected["conjectures"]
    assert [(p["ops"], p["max_error"], p["program"]) for p in b_out["pareto"]] == [
        (p["ops"], p["max_error"], p["program"]) for p in a_out["pareto"]
    ]


@pytest.mark.slow
def test_evolve_rerun_does_nothing_and_db_list_shows_the_front(tmp_path, evolve_uninterrupted):
    a_db, a_out = evolve_uninterrupted
    again = run_cli(evolve_args(a_db), cwd=tmp_path)
    assert again["run"] == a_out["run"]
    assert (again["tasks_total"], again["tasks"]) == (EVOLVE_TASKS, 0)
    listed = run_cli(["db", "list", "--kind", "program", "--db", str(a_db), "--json"],
                     cwd=tmp_path)
    rows = {r["id"]: r for r in listed["conjectures"]}
    assert a_out["pareto"]
    for p in a_out["pareto"]:
        row = rows.get(p["id"])
        assert row is not None, f"front program {p['program']!r} not listed"
        assert row["kind"] == "program" and row["status"] == "verified"
        assert row["formula_text"] == p["program"] == row["formula"]["text"]
        assert row["claim"] == p["claim"]
        assert row["formula"]["ops"] == p["ops"]
    assert [(p["ops"], p["program"]) for p in again["pareto"]] == [
        (p["ops"], p["program"]) for p in a_out["pareto"]
    ]


# ------------------------------------------------------------------------------- SDP game

SDP_EVALUATIONS = 4


def sdp_args(db: Path) -> list[str]:
    return ["search", "sdp-game", "--dimension", "4", "--evaluations", str(SDP_EVALUATIONS),
            "--kmax", "4", "--m", "1", "--seed", "0", "--executor", "local", "--workers", "2",
            "--db", str(db), "--json"]


@pytest.mark.slow
def test_sdp_game_killed_and_resumed_equals_an_uninterrupted_run(tmp_path):
    a_db, b_db = tmp_path / "a.db", tmp_path / "b.db"
    a_out = run_cli(sdp_args(a_db), cwd=tmp_path, timeout=1200)
    assert a_out["tasks_total"] == SDP_EVALUATIONS
    expected = store_contents(a_db)
    bounds = [c for c in expected["conjectures"] if c[0].startswith("packing-3pt:")]
    assert len(bounds) == SDP_EVALUATIONS and {c[2] for c in bounds} == {"proven"}

    proc = start(sdp_args(b_db), cwd=tmp_path)
    try:
        wait_until_mid_run(proc, b_db, low=1, total=SDP_EVALUATIONS, timeout=600)
    finally:
        kill_session(proc)
    done_at_kill = store_contents(b_db)["runs"][0][3]
    assert 1 <= done_at_kill < SDP_EVALUATIONS, "not killed mid-run"

    b_out = run_cli(sdp_args(b_db), cwd=tmp_path, timeout=1200)
    assert b_out["run"] == a_out["run"]
    assert b_out["tasks_total"] == SDP_EVALUATIONS
    assert b_out["tasks"] == SDP_EVALUATIONS - done_at_kill
    got = store_contents(b_db)
    assert got["pending"] == []
    assert got["runs"] == expected["runs"]
    assert got["finished"] == expected["finished"]
    assert got["conjectures"] == expected["conjectures"]


# ------------------------------------------------------------------------------- the toy

TOY_TASKS = 20
TOY_CAMPAIGN = """
[campaign]
name = "toy-kill"
executor = "local"
workers = 2
verify_digits = 30

[[engine]]
name = "toy"
[engine.config]
tasks = {tasks}
sleep = 0.2
"""


def toy_campaign(tmp_path: Path) -> Path:
    path = tmp_path / "toy.toml"
    path.write_text(TOY_CAMPAIGN.format(tasks=TOY_TASKS))
    return path


def toy_contents(db: Path) -> dict:
    with Store(db, readonly=True) as store:
        runs = store.runs()
        return {
            "conjectures": sorted((r.key, r.claim, r.status, r.digits, r.times_found)
                                  for r in store.query()),
            "relations": sorted((r.src, r.type, r.dst) for r in store.relations()),
            "runs": [(r.id, r.name, r.engine, r.finished_tasks) for r in runs],
            "finished": sorted(store.finished_tasks(runs[0].id)),
            "pending": [t.key for t in store.pending_tasks(runs[0].id)],
        }


def toy_reference(tmp_path: Path, monkeypatch) -> dict:
    """The uninterrupted run of the same campaign, in this process (serially, not sleeping:
    the sleep does not change what a task finds)."""
    import types

    from discovery.campaign import load_campaign, run_campaign

    monkeypatch.setattr("search.toy.time", types.SimpleNamespace(sleep=lambda s: None))
    db = tmp_path / "reference.db"
    result = run_campaign(load_campaign(toy_campaign(tmp_path)), db=db, executor="serial",
                          progress="quiet")
    assert result.status == "finished"
    return toy_contents(db)


def test_toy_campaign_killed_and_resumed_equals_an_uninterrupted_run(tmp_path, monkeypatch):
    campaign = toy_campaign(tmp_path)
    db = tmp_path / "k.db"
    args = ["run", str(campaign), "--db", str(db), "--json"]
    proc = start(args, cwd=tmp_path)
    try:
        wait_until_mid_run(proc, db, low=2, total=TOY_TASKS, timeout=120)
        os.kill(proc.pid, signal.SIGKILL)  # kill -9 of the campaign process
        proc.wait(timeout=30)
    finally:
        kill_session(proc)  # and whatever it left behind (see the orphan test below)
    done_at_kill = toy_contents(db)["runs"][0][3]
    assert 2 <= done_at_kill < TOY_TASKS, "not killed mid-run"

    out = run_cli(args, cwd=tmp_path)
    assert out["status"] == "finished"
    assert [(e["name"], e["tasks"], e["tasks_total"]) for e in out["engines"]] == [
        ("toy", TOY_TASKS - done_at_kill, TOY_TASKS)
    ]
    got = toy_contents(db)
    expected = toy_reference(tmp_path, monkeypatch)
    assert got["pending"] == [] == expected["pending"]
    assert got["runs"] == expected["runs"] == [(1, "toy-kill", "toy", TOY_TASKS)]
    assert got["finished"] == expected["finished"]
    assert got["relations"] == expected["relations"]
    assert got["conjectures"] == expected["conjectures"]
    assert {c[2] for c in got["conjectures"]} == {"verified", "refuted"}


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["local", "dask"])
def test_no_worker_outlives_a_killed_campaign(tmp_path, executor):
    """kill -9 of the campaign process (only it): 5 s later none of its processes (the 2
    workers, the multiprocessing resource tracker) is alive (found by session id, and by
    parent pid from /proc before the kill). ``dask`` is a LocalCluster of two workers.
    """
    campaign = toy_campaign(tmp_path)
    db = tmp_path / "k.db"
    proc = start(["run", str(campaign), "--db", str(db), "--json", "--executor", executor,
                  "--workers", "2"], cwd=tmp_path)
    try:
        wait_until_mid_run(proc, db, low=2, total=TOY_TASKS, timeout=120)
        children = descendants(proc.pid)
        workers = [cmd for cmd in children.values() if "spawn_main" in cmd]
        if len(workers) != 2:
            pytest.fail(f"the {executor} executor did not start its 2 workers: {children}")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        time.sleep(5)
        alive = session_processes(proc.pid)
        alive.update({pid: cmd for pid, cmd in children.items() if _alive(pid)})
    finally:
        kill_session(proc)
    assert not alive, f"processes of the killed run still alive 5 s after the kill: {alive}"


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].split()[0] != "Z"


def test_helpers_read_proc(tmp_path):
    """The /proc helpers see a child of this process and its session."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"],
                             start_new_session=True)
    try:
        assert child.pid in descendants(os.getpid())
        assert set(session_processes(child.pid)) == {child.pid}
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    assert child.pid not in session_processes(child.pid)
