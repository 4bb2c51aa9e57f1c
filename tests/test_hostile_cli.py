"""The hostile-input probes, through the real command line: each answers within 30 s and under
1 GB, exits 0, 1 or 2 with no traceback (and not with the "internal error" of the last resort),
and leaves every file of its directory byte-identical (nothing created, nothing changed).

Each probe is a command line a user could type by mistake, or a campaign file someone shared.
The probes run two at a time; the whole module is marked slow (about 25 s).
"""

from __future__ import annotations

import hashlib
import os
import shlex
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TIME_LIMIT = 30.0
MEMORY_LIMIT_KB = 1024 * 1024

TOY = """\
[campaign]
name = "toy"
[[engine]]
name = "toy"
"""


@dataclass(frozen=True)
class Probe:
    """One command line (``{d}`` is the probe directory) and the exit statuses it may have."""

    args: str
    statuses: tuple[int, ...] = (1, 2)
    stdin: str | None = None


PROBES = [
    # work without bounds
    Probe("verify --a 1 --b n^64 --claim 1 --digits 10", (0,)),
    Probe('verify --a 1 --b "(n+1)^64" --claim 1 --digits 10', (0,)),
    Probe('verify --a 1 --b 1 --claim "sqrt(2)^zeta1000000"'),
    Probe('verify --a 1 --b 1 --claim "2^polylog(631.209,-612.533)"'),
    Probe("identify --value 1e5000000000"),
    Probe("identify --value 1e-999999999"),
    Probe("identify --value 1e10000000000000000000"),
    Probe("identify --value 123456789012345678901234567890", (0, 1, 2)),
    Probe("search cmf --cmf zeta3 --starts 0..1000000 --no-store"),
    Probe("cmf walk --cmf zeta3 --trajectory 1000,1 --start 1,1 --depth 100"),
    Probe("cmf walk --cmf zeta3 --trajectory 1,1 --start 1,1 --depth 10000000"),
    Probe("constants show khinchin --digits 1000000"),
    Probe("search evolve --batch 1000000000 --minutes 0.01 --no-store"),
    Probe("search evolve --minutes nan --no-store"),
    Probe("packing check /dev/zero"),
    Probe("check-float32 --program /dev/zero"),
    Probe("run /dev/zero --db {d}/new.db"),
    Probe("run {d}/fifo --db {d}/new.db"),
    Probe("run {d}/huge_workers.toml --db {d}/new.db"),
    Probe("run {d}/nested.toml --db {d}/new.db"),
    Probe("run {d}/memory.toml"),
    Probe("run {d}/cmf_caps.toml --db {d}/new.db"),
    Probe("run {d}/types.toml --db {d}/new.db"),
    # writes where it should not
    Probe("db export --db {d}/s.db --out {d}/s.db"),
    Probe("db graph --db {d}/s.db --graphml {d}/s.db"),
    Probe("db export --db {d}/s.db --out /dev/full"),
    Probe("run {d}/toy.toml --executor serial --scheduler tcp://127.0.0.1:1 --db {d}/new.db"),
    Probe("run {d}/toy.toml --executor dask --scheduler tcp://127.0.0.1:1 --db {d}/new.db"),
    Probe("run {d}/toy.toml --executor serial --db /dev/null"),
    Probe("run {d}/toy.toml --executor serial --db {d}/dangling"),
    Probe("run {d}/toy.toml --executor serial --db {d}/damaged.db"),
    Probe("run {d}/toy.toml --executor serial --db {d}/notes.txt"),
    # tracebacks instead of a message
    Probe("verify --a 0 --b n^2 --claim 4/pi"),
    Probe('verify --a 1 --b 1 --claim "0*besseli(-10^20,1001)"'),
    Probe("search esma --constant 0 --no-store"),
    Probe('baseline --function "x^(1/2)" --interval -1,1'),
    Probe("db show 9223372036854775808 --db {d}/s.db"),
    Probe("db list --limit 9223372036854775808 --db {d}/s.db", (0,)),  # all rows
    Probe("db list --db {d}/weird.db", (0, 1, 2)),
    Probe("db show 1 --db {d}/weird.db", (0, 1, 2)),
    # typer's own checks: one line
    Probe("verify --a 1 --b 1 --claim 1 --digits 0"),
    Probe("db list --limit 0 --db {d}/s.db"),
]


def _tree(d: Path) -> dict[str, str]:
    """Every entry of ``d`` with its contents' hash (a reader's ``-wal``/``-shm`` included:
    readers that may write the directory remove them when they close)."""
    out = {}
    for p in sorted(d.iterdir()):
        if p.is_symlink():
            out[p.name] = "->" + os.readlink(p)
        elif p.is_file():
            out[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[p.name] = "special"
    return out


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory) -> Path:
    from discovery.store import Store
    from search.base import Candidate

    d = tmp_path_factory.mktemp("hostile")
    with Store(d / "s.db") as store:
        run = store.start_run("probe\x1b[31m\x00name", "toy", {})
        store.record(Candidate(kind="pcf", key="pcf:golden", formula={"a": [1], "b": [1]},
                               claim="(1+sqrt(5))/2", constant="phi"),
                     {"verdict": "verified", "digits": 50}, run_id=run)
    (d / "weird.db").write_bytes((d / "s.db").read_bytes())
    conn = sqlite3.connect(d / "weird.db")
    conn.execute("PRAGMA ignore_check_constraints = 1")
    conn.execute("UPDATE conjectures SET status = 'weird'")
    conn.commit()
    conn.close()
    (d / "toy.toml").write_text(TOY)
    (d / "huge_workers.toml").write_text(TOY.replace('name = "toy"\n',
                                                     'name = "toy"\nworkers = 2**63\n', 1)
                                         .replace("2**63", "9223372036854775807"))
    (d / "nested.toml").write_text("[campaign]\nname = 'x'\nv = " + "[" * 5000 + "]" * 5000 +
                                   "\n")
    (d / "memory.toml").write_text(TOY.replace('name = "toy"\n', 'name = "toy"\ndb = ":memory:"\n',
                                               1))
    (d / "cmf_caps.toml").write_text(
        "[campaign]\nname = 'c'\n[[engine]]\nname = 'cmf'\n[engine.config]\ncmf = 'zeta3'\n"
        "starts = [0, 1000000]\nmax_norm = 1000000\ndepth = 1000000000\n")
    (d / "types.toml").write_text(
        "[campaign]\nname = 't'\n[[engine]]\nname = 'esma'\n[engine.config]\nconstant = 5\n"
        "degree = '1'\n")
    (d / "damaged.db").write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
    (d / "notes.txt").write_text("not a store\n")
    (d / "dangling").symlink_to(d / "nowhere" / "target.db")
    os.mkfifo(d / "fifo")
    return d


#: Runs a command and reports its peak memory (its own rusage: just that command).
_WRAPPER = ("import resource, subprocess, sys\n"
            "r = subprocess.run(sys.argv[1:])\n"
            "kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
            "sys.stderr.write(f'\\nMAXRSS={kb}\\n')\n"
            "sys.exit(r.returncode)\n")


def _run(probe: Probe, d: Path) -> tuple[Probe, int | str, str, str, float, int]:
    args = [a.replace("{d}", str(d)) for a in shlex.split(probe.args)]
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", _WRAPPER, sys.executable, "-m",
                             "discovery.cli", *args], cwd=d,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=True, text=True)
    try:
        out, err = proc.communicate(timeout=TIME_LIMIT)
        status: int | str = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        status = "timeout"
    seconds = time.monotonic() - t0
    rss = 0
    if "MAXRSS=" in err:
        err, _, tail = err.rpartition("MAXRSS=")
        rss = int(tail.strip() or 0)
        err = err.rstrip("\n")
    return probe, status, out, err, seconds, rss


def test_every_probe_is_bounded_answers_in_one_line_and_writes_nothing(probe_dir):
    before = _tree(probe_dir)
    failures = []
    with ThreadPoolExecutor(2) as pool:
        for probe, status, out, err, seconds, rss in pool.map(
                lambda p: _run(p, probe_dir), PROBES):
            problems = []
            if status not in probe.statuses:
                problems.append(f"status {status}")
            if "Traceback" in out + err or "internal error" in out + err:
                problems.append("traceback")
            if status == 2 and not err.strip().splitlines()[-1:][0].startswith("error: "):
                problems.append("no one-line error")
            if seconds > TIME_LIMIT:
                problems.append(f"{seconds:.0f} s")
            if rss > MEMORY_LIMIT_KB:
                problems.append(f"{rss // 1024} MB")
            after = _tree(probe_dir)
            if after != before:
                problems.append(f"files changed: {set(after.items()) ^ set(before.items())}")
                before = after
            if problems:
                failures.append(f"{probe.args}: {', '.join(problems)}; "
                                f"{(err.strip().splitlines() or [''])[-1][:200]}")
    assert not failures, "\n".join(failures)


def test_graphml_of_a_run_named_with_control_characters_is_well_formed(probe_dir, tmp_path):
    import xml.etree.ElementTree as ET

    out = tmp_path / "g.graphml"
    res = subprocess.run([sys.executable, "-m", "discovery.cli", "db", "graph", "--db",
                          str(probe_dir / "s.db"), "--graphml", str(out)],
                         capture_output=True, text=True, timeout=TIME_LIMIT)
    assert res.returncode == 0, res.stderr
    ET.parse(out)  # raises on characters XML 1.0 does not allow
    assert "\x1b" not in out.read_text()
