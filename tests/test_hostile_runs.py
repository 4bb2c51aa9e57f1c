"""``discovery run`` given hostile input: refused at once, in one line, with nothing written.

Every case runs the real command line in a subprocess (``python -m discovery.cli``, 30 s at
most) and checks the contract: exit status 0, 1 or 2 (2 for a refusal), no traceback, ONE line
``error: ...`` on stderr, under 1 GB, and every file of the directory byte-identical afterwards
(nothing created, nothing changed, no ``-journal``/``-wal``/``-shm`` beside a refused store).

The cases follow the four rules of a run:

1. nothing is written before the input is accepted (store paths, damaged stores, executor
   options, an unreachable or impostor Dask scheduler, a bad engine after a good one);
2. inputs that are not regular files (``/dev/zero``, a FIFO) are refused, not read forever;
3. campaign values are checked (types, caps, finiteness, nesting);
4. no orphans: the workers of a run killed with ``kill -9`` die with it.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_resume_kill import descendants, session_processes

from discovery.store import Store
from solvers.errors import StoreError

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
TIME_LIMIT = 30.0
MEMORY_LIMIT_KB = 1024 * 1024

#: Runs a command and reports the peak memory of that command alone on its last stderr line.
_WRAPPER = ("import resource, subprocess, sys\n"
            "r = subprocess.run(sys.argv[1:])\n"
            "kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
            "sys.stderr.write(f'\\nMAXRSS={kb}\\n')\n"
            "sys.exit(r.returncode)\n")

#: A campaign that would take minutes if it ran: a refusal must come before it starts.
SLOW_TOY = """\
[campaign]
name = "toy"
executor = "serial"
verify = false
{extra}
[[engine]]
name = "toy"
[engine.config]
tasks = 100
sleep = 1.0
"""


def campaign(tmp_path: Path, extra: str = "", name: str = "c.toml", text: str = SLOW_TOY) -> Path:
    path = tmp_path / name
    path.write_text(text.format(extra=extra))
    return path


def snapshot(*dirs: Path) -> dict[str, str]:
    """Every entry of ``dirs``: a file's hash, a symbolic link's target, or its kind."""
    out = {}
    for d in dirs:
        for p in sorted(d.iterdir()):
            if p.is_symlink():
                out[str(p)] = "->" + os.readlink(p)
            elif p.is_file():
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                out[str(p)] = "directory" if p.is_dir() else "special"
    return out


def discovery(args: list, cwd: Path) -> tuple[int, str, str]:
    """Run ``discovery ARGS`` (30 s at most, under 1 GB): exit status, stdout, stderr."""
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, sys.executable, "-m",
                           "discovery.cli", *args], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=TIME_LIMIT, stdin=subprocess.DEVNULL)
    assert time.monotonic() - start < TIME_LIMIT
    err, _, rss = proc.stderr.rpartition("MAXRSS=")
    assert int(rss.strip() or 0) < MEMORY_LIMIT_KB, f"{args}: {int(rss) // 1024} MB"
    return proc.returncode, proc.stdout, err.rstrip("\n")


def refused(args: list, cwd: Path, *, says: str = "", watch: tuple[Path, ...] = ()) -> str:
    """Run ``discovery ARGS`` and check it is refused in one line, with nothing written in
    ``cwd`` nor in the directories ``watch``; returns the message."""
    before = snapshot(cwd, *watch)
    status, out, err = discovery(args, cwd)
    assert status == 2, f"{args}: exit {status}\n{err[-2000:]}"
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err[-2000:]
    assert says.lower() in lines[0].lower(), lines[0]
    assert snapshot(cwd, *watch) == before, f"{args} changed files"
    return lines[0]


# ------------------------------------------------------------------ 1. nothing written first


def test_a_scheduler_without_dask_writes_no_store(tmp_path):
    refused(["run", campaign(tmp_path), "--executor", "serial", "--scheduler", "tcp://x:1",
             "--db", "n.db"], tmp_path, says="--scheduler needs the dask executor")


def test_an_unreachable_scheduler_is_refused_in_seconds_without_a_store(tmp_path):
    start = time.monotonic()
    refused(["run", campaign(tmp_path), "--executor", "dask", "--scheduler",
             "tcp://127.0.0.1:1", "--db", "n.db"], tmp_path, says="Cannot reach the Dask")
    assert time.monotonic() - start < 15


def test_a_server_that_is_not_a_scheduler_is_refused_without_a_store(tmp_path):
    """A TCP server that answers like a web server (Dask would read its reply as the length
    of a message of exabytes)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    port = server.getsockname()[1]
    done = threading.Event()

    def answer() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(b"HTTP/1.0 426 Upgrade Required\r\ncontent-length: 0\r\n\r\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        refused(["run", campaign(tmp_path), "--executor", "dask", "--scheduler",
                 f"tcp://127.0.0.1:{port}", "--db", "n.db"], tmp_path,
                says="did not answer as a Dask scheduler")
    finally:
        done.set()
        thread.join(5)
        server.close()


def test_too_many_local_workers_are_refused_without_a_store(tmp_path):
    cap = 4 * (os.cpu_count() or 1)
    message = refused(["run", campaign(tmp_path), "--executor", "local", "--workers",
                       str(cap + 1), "--db", "n.db"], tmp_path, says="too many")
    assert f"{cap} here" in message


def test_a_bad_second_engine_is_refused_before_the_store(tmp_path):
    text = SLOW_TOY + '\n[[engine]]\nname = "toy"\n[engine.config]\ntaks = 3\n'
    refused(["run", campaign(tmp_path, text=text), "--db", "n.db"], tmp_path,
            says="unknown option 'taks'")


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null")
def test_dev_null_is_not_a_store_and_no_journal_appears(tmp_path):
    journal = Path("/dev/null-journal")
    existed = journal.exists()
    refused(["run", campaign(tmp_path), "--db", "/dev/null"], tmp_path,
            says="not a regular file")
    assert journal.exists() == existed


def test_a_dangling_symlink_is_not_followed(tmp_path):
    target_dir = tmp_path / "elsewhere"
    target_dir.mkdir()
    (tmp_path / "link.db").symlink_to(target_dir / "target.db")
    refused(["run", campaign(tmp_path), "--db", "link.db"], tmp_path,
            says="symbolic link", watch=(target_dir,))
    assert not (target_dir / "target.db").exists()


def test_a_non_utf8_store_name_is_refused_before_the_campaign_runs(tmp_path):
    name = os.fsencode(tmp_path) + b"/bad\xff.db"
    refused(["run", campaign(tmp_path), "--db", name], tmp_path, says="not a UTF-8 file name")


def test_a_memory_store_in_a_campaign_is_refused_before_it_runs(tmp_path):
    refused(["run", campaign(tmp_path, extra='db = ":memory:"')], tmp_path, says=":memory:")


def _toy_store(path: Path) -> None:
    """A real store with a few pages (a finished toy campaign, in this process)."""
    from discovery.campaign import campaign_from_dict, run_campaign

    spec = campaign_from_dict({"campaign": {"name": "t", "executor": "serial", "verify": False},
                               "engine": [{"name": "toy", "config": {"tasks": 30}}]})
    run_campaign(spec, db=path, progress="quiet")
    conn = sqlite3.connect(path)  # fold the write-ahead log into the file, and remove it
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()


def _sqlite_not_a_store(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (text)")
    conn.execute("INSERT INTO notes VALUES ('mine')")
    conn.commit()
    conn.close()


def _damaged_page(path: Path, whole: bytes) -> None:
    """The store whole but for the root page of its ``conjectures`` table, overwritten: the
    header, the size and the schema are intact, only SQLite's structure check sees it."""
    path.write_bytes(whole)
    conn = sqlite3.connect(path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'conjectures'"
                        ).fetchone()[0]
    conn.close()
    data = bytearray(whole)
    data[(root - 1) * page_size:(root - 1) * page_size + 64] = b"\x0d" + b"\xff" * 63
    path.write_bytes(bytes(data))


DAMAGED = {
    "random-bytes": lambda p, whole: p.write_bytes(os.urandom(5000)),
    "sqlite-header-then-noise": lambda p, whole: p.write_bytes(
        b"SQLite format 3\x00" + os.urandom(4000)),
    "text": lambda p, whole: p.write_text("my notes, not a store\n"),
    "sqlite-not-a-store": lambda p, whole: _sqlite_not_a_store(p),
    "truncated-inside-a-page": lambda p, whole: p.write_bytes(whole[:-320]),
    "truncated-by-a-page": lambda p, whole: p.write_bytes(whole[:-4096]),
    "truncated-to-half": lambda p, whole: p.write_bytes(whole[:len(whole) // 2]),
    "a-damaged-page": _damaged_page,
}


@pytest.fixture(scope="module")
def whole_store(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("whole") / "whole.db"
    _toy_store(path)
    assert not Path(f"{path}-wal").exists()
    return path.read_bytes()


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_a_damaged_store_is_left_byte_identical(tmp_path, whole_store, case):
    db = tmp_path / "s.db"
    DAMAGED[case](db, whole_store)
    refused(["run", campaign(tmp_path), "--db", "s.db"], tmp_path, says="s.db")


def test_the_store_class_refuses_the_same_paths(tmp_path):
    (tmp_path / "link.db").symlink_to(tmp_path / "nowhere.db")
    bad = [tmp_path / "link.db", Path(os.fsdecode(os.fsencode(tmp_path) + b"/bad\xff.db")),
           tmp_path / "missing" / "s.db"]
    if os.path.exists("/dev/null"):
        bad.append(Path("/dev/null"))
    for path in bad:
        with pytest.raises(StoreError):
            Store(path)
    with pytest.raises(StoreError, match="No conjecture store"):
        Store(tmp_path / "absent.db", readonly=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.db"]
    with Store(":memory:") as store:  # a throw-away store for library use and tests
        assert len(store) == 0


# ------------------------------------------------------------------ 2. not regular files


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_dev_zero_is_not_read(tmp_path):
    refused(["run", "/dev/zero", "--db", "n.db"], tmp_path, says="not a regular file")


def test_a_fifo_is_not_opened(tmp_path):
    os.mkfifo(tmp_path / "fifo.toml")
    refused(["run", "fifo.toml", "--db", "n.db"], tmp_path, says="not a regular file")


# ------------------------------------------------------------------ 3. campaign values


@pytest.mark.parametrize("extra, says", [
    ("workers = 9223372036854775807", "'workers' must be an integer greater than 0 and at "
                                      "most 1024"),
    ("hours = nan", "'hours'"),
    ("hours = inf", "'hours'"),
    ("hours = -1.0", "'hours'"),
    ('hours = "2"', "'hours' must be a number"),
    ('verify_digits = "100"', "'verify_digits' must be an integer"),
    ("batch = 1e3", "'batch' must be an integer"),
    ("scheduler = 5", "'scheduler' must be a string"),
])
def test_a_bad_campaign_value_is_named(tmp_path, extra, says):
    refused(["run", campaign(tmp_path, extra=extra), "--db", "n.db"], tmp_path, says=says)


@pytest.mark.parametrize("hours", ["nan", "inf", "-1"])
def test_a_bad_hours_option_is_refused(tmp_path, hours):
    refused(["run", campaign(tmp_path), "--db", "n.db", f"--hours={hours}"], tmp_path,
            says="hours")


def test_deep_nesting_is_one_line(tmp_path):
    deep = tmp_path / "deep.toml"
    deep.write_text('[campaign]\nname = "x"\nv = ' + "[" * 5000 + "]" * 5000 + "\n")
    refused(["run", "deep.toml", "--db", "n.db"], tmp_path, says="nested too deeply")
    less = tmp_path / "less.toml"
    less.write_text('[campaign]\nname = "x"\nv = ' + "[" * 100 + "]" * 100 + "\n")
    refused(["run", "less.toml", "--db", "n.db"], tmp_path, says="nested more than")


def test_a_string_in_an_engine_configuration_is_named(tmp_path):
    text = SLOW_TOY.replace("tasks = 100", 'tasks = "100"')
    refused(["run", campaign(tmp_path, text=text), "--db", "n.db"], tmp_path,
            says="option 'tasks' must be")


# ------------------------------------------------------------------ 4. no orphans


def _alive(pids) -> list[int]:
    out = []
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat[stat.rindex(")") + 2:].split()[0] != "Z":
            out.append(pid)
    return out


def _wait_gone(pids, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _alive(pids)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_no_worker_outlives_a_run_killed_with_sigkill(tmp_path):
    """kill -9 of ``discovery run --executor local --workers 2`` (that process only): within
    5 s neither its two workers nor the multiprocessing resource tracker is alive."""
    path = campaign(tmp_path, text=SLOW_TOY.replace("sleep = 1.0", "sleep = 30.0"))
    proc = subprocess.Popen([sys.executable, "-m", "discovery.cli", "run", str(path), "--db",
                             "k.db", "--executor", "local", "--workers", "2", "--quiet"],
                            cwd=tmp_path, env=ENV, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 25
        children: dict[int, str] = {}
        while time.monotonic() < deadline:
            children = descendants(proc.pid)
            workers = [p for p, cmd in children.items() if "spawn_main" in cmd]
            if len(workers) == 2 and any("resource_tracker" in c for c in children.values()):
                break
            assert proc.poll() is None, "the run ended before its workers started"
            time.sleep(0.1)
        else:
            pytest.fail(f"no 2 workers and a resource tracker within 25 s: {children}")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        left = _wait_gone(children, 5.0)
        left += [p for p in session_processes(proc.pid) if p not in left]
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert not left, f"alive 5 s after the kill: { {p: children.get(p, '?') for p in left} }"


_WATCHED = ("import os, sys, time\n"
            "from discovery.executors import _watch_parent\n"
            "_watch_parent(os.getppid(), interval=0.1)\n"
            "print(os.getpid(), flush=True)\n"
            "time.sleep(60)\n")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_worker_watching_its_parent_exits_when_the_parent_is_killed(tmp_path):
    """The fallback of PR_SET_PDEATHSIG (a thread polling the parent's pid), alone."""
    parent = subprocess.Popen(
        [sys.executable, "-c", "import subprocess, sys, time\n"
         f"subprocess.Popen([sys.executable, '-c', {_WATCHED!r}])\ntime.sleep(60)\n"],
        env=ENV, start_new_session=True, stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert _alive([child])
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        assert _wait_gone([child], 5.0) == []
    finally:
        try:
            os.killpg(parent.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        parent.stdout.close()
