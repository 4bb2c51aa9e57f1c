"""Hostile files through the command line: inputs that never end, outputs that are the store,
numbers beyond SQLite's integers, rows written around the store's checks, control characters.

Every case runs the real command line (``discovery.cli.app`` under typer's ``CliRunner``) and
checks the contract: exit status 0, 1 or 2, no traceback, an error is ONE line (``error: ...``
on stderr, or one JSON object under ``--json``), and every file the command was pointed at is
byte-identical afterwards (or still absent).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from discovery.cli import app
from discovery.store import Store
from discovery.text import printable
from search.base import Candidate
from solvers.keys import canonical_key

pytestmark = pytest.mark.timeout(30)  # a command that reads forever fails instead of hanging

runner = CliRunner()
ESC, NUL = "\x1b[31m", "\x00"
HUGE = "9223372036854775808"  # 2**63: beyond SQLite's integers


def pcf(a: list, b: list, claim: str, constant: str | None) -> Candidate:
    formula = {"a": a, "b": b}
    return Candidate("pcf", canonical_key("pcf", formula), formula, claim, constant, {})


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store whose run name and one claim hold an escape sequence and a NUL."""
    path = tmp_path / "S.db"
    with Store(path) as s:
        run = s.start_run(f"evil{ESC}name{NUL}", "test", {})
        s.finish_task(run, "t1", [
            (pcf([5, 27, 51, 34], [0, 0, 0, 0, 0, 0, -1], f"6/zeta(3){ESC}", "zeta3"),
             {"verdict": "verified", "digits": 30}),
            (pcf([3, 1], [0, -1], f"e{NUL}", "e"), {"verdict": "verified", "digits": 30}),
        ])
        s.end_run(run, "finished")
    return path


def digest(path: Path) -> str | None:
    """The file's SHA-256, or ``None`` if it does not exist (not following a dangling link)."""
    if not path.exists():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def invoke(*args: object):
    """Run ``discovery ARGS``; check exit status 0/1/2 and that nothing is a traceback."""
    result = runner.invoke(app, [str(a) for a in args])
    assert not isinstance(result.exception, Exception) or isinstance(result.exception,
                                                                      SystemExit), \
        result.exception
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def error_line(result, status: int = 2) -> str:
    """The one-line error of a failed command."""
    assert result.exit_code == status, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def check_fails(*args: object, files: list[Path], contains: str = "") -> str:
    """``discovery ARGS`` fails with one line and leaves ``files`` as they were."""
    before = {f: digest(f) for f in files}
    line = error_line(invoke(*args))
    assert contains in line, line
    assert {f: digest(f) for f in files} == before
    return line


# -- 1. inputs that never end ----------------------------------------------------------------


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("make", ["/dev/zero", "fifo", "dir"])
@pytest.mark.parametrize("command", [("packing", "check"), ("check-float32", "--program")])
def test_inputs_that_are_not_regular_files_are_refused_at_once(command, make, fifo, tmp_path):
    target = {"/dev/zero": Path("/dev/zero"), "fifo": fifo, "dir": tmp_path}[make]
    line = error_line(invoke(*command, target))
    assert str(target) in line
    assert "not a regular file" in line or "is a directory" in line


def test_inputs_that_are_not_json_or_not_certificates_are_one_line(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    for args in (("packing", "check", deep), ("packing", "check", listed),
                 ("check-float32", "--program", deep), ("check-float32", "--program", listed)):
        error_line(invoke(*args))


def test_program_file_error_under_json_is_one_object(fifo):
    r = invoke("check-float32", "--program", fifo, "--json")
    assert r.exit_code == 2
    assert json.loads(r.stdout)["status"] == 2
    assert len(r.stdout.strip().splitlines()) == 1


# -- 2. outputs that are the store, or cannot be written ----------------------------------------


@pytest.mark.parametrize("args", [
    ("db", "export", "--out", "{db}"),
    ("db", "export", "--out", "{db}-wal"),
    ("db", "export", "--csv", "--out", "{db}"),
    ("db", "export", "--latex", "--out", "{db}"),
    ("db", "export", "--graphml", "{db}"),
    ("db", "graph", "--graphml", "{db}"),
    ("db", "graph", "--png", "{db}"),
    ("db", "graph", "--graphml", "{db}-shm"),
])
def test_an_output_that_is_the_store_is_refused_before_anything(store, args):
    argv = [a.format(db=store) for a in args] + ["--db", str(store)]
    line = check_fails(*argv, files=[store, Path(f"{store}-wal"), Path(f"{store}-shm")])
    assert "is the store itself" in line or "a file this command reads" in line
    assert str(store) in line


def test_the_same_file_for_two_outputs_is_refused(store, tmp_path):
    out = tmp_path / "x.out"
    check_fails("db", "export", "--out", out, "--graphml", out, "--db", store,
                files=[store, out], contains="give two files")
    check_fails("db", "graph", "--png", out, "--graphml", out, "--db", store,
                files=[store, out], contains="give two files")


def test_export_to_a_full_device_is_one_line(store):
    line = check_fails("db", "export", "--out", "/dev/full", "--db", store, files=[store],
                       contains="/dev/full")
    assert "No space left" in line
    r = invoke("db", "export", "--out", "/dev/full", "--db", store, "--json")
    assert json.loads(r.stdout)["status"] == 2


def test_export_to_a_fifo_nobody_reads_does_not_wait(store, fifo):
    check_fails("db", "export", "--csv", "--out", fifo, "--db", store, files=[store],
                contains="nothing reads")


def test_a_failed_write_leaves_the_old_file_and_no_partial_one(store, tmp_path, monkeypatch):
    out = tmp_path / "export.json"
    out.write_text("the previous export\n")
    before = set(tmp_path.iterdir())
    real = Path.write_text

    def half_then_full(self: Path, data: str, *args, **kwargs):
        real(self, data[: len(data) // 2], *args, **kwargs)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_text", half_then_full)
    line = check_fails("db", "export", "--out", out, "--db", store, files=[store, out],
                       contains="No space left")
    assert str(out) in line
    assert set(tmp_path.iterdir()) <= before | {Path(f"{store}-wal"), Path(f"{store}-shm")}
    assert out.read_text() == "the previous export\n"


def test_a_successful_export_replaces_the_file_and_keeps_its_mode(store, tmp_path):
    out = tmp_path / "export.csv"
    out.write_text("old\n")
    out.chmod(0o640)
    r = invoke("db", "export", "--csv", "--out", out, "--db", store)
    assert r.exit_code == 0, r.stderr
    assert out.read_text().startswith("id,constant,")
    assert out.stat().st_mode & 0o777 == 0o640


# -- 3. numbers beyond SQLite's integers ------------------------------------------------------


@pytest.mark.parametrize("ref", [HUGE, "F" + HUGE, "family:" + "9" * 40, "²", "1" * 5000])
def test_a_conjecture_id_beyond_any_row_is_no_such_conjecture(store, ref):
    line = check_fails("db", "show", ref, "--db", store, files=[store])
    assert "No conjecture" in line or "No family" in line


@pytest.mark.parametrize("args", [
    ("db", "list", "--limit", HUGE),
    ("db", "list", "--offset", HUGE),
    ("db", "list", "--min-digits", HUGE),
    ("db", "list", "--conjectures", "--limit", HUGE, "--offset", HUGE),
    ("db", "list", "--members", "--member-limit", HUGE),
    ("db", "show", "F1", "--limit", HUGE),
    ("db", "find", "--formula", "4n+2", "--limit", HUGE),
    ("db", "list", "--limit", "1" + "0" * 1000),
])
def test_huge_limits_and_offsets_mean_every_row(store, args):
    before = digest(store)
    r = invoke(*args, "--db", store)
    assert r.exit_code == 0, r.stderr
    assert digest(store) == before


def test_huge_limits_under_json(store):
    r = invoke("db", "list", "--conjectures", "--limit", HUGE, "--db", store, "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["count"] == 2


# -- 4. rows written around the store's checks -------------------------------------------------


@pytest.mark.parametrize("status", ["'weird'", "X'00ff'", "5"])
def test_an_unknown_status_is_shown_as_it_is(store, status):
    with sqlite3.connect(store) as conn:
        conn.execute("PRAGMA ignore_check_constraints = 1")
        conn.execute(f"UPDATE conjectures SET status = {status} WHERE id = 2")
    conn.close()
    before = digest(store)
    shown = "weird" if status == "'weird'" else None
    for args in (("db", "list"), ("db", "list", "--conjectures"), ("db", "list", "--members"),
                 ("db", "show", "2"), ("db", "show", "F2"), ("db", "stats"),
                 ("db", "show", "2", "--json"), ("db", "list", "--conjectures", "--json")):
        r = invoke(*args, "--db", store)
        assert r.exit_code == 0, (args, r.stderr)
        if shown and args[1] == "show":
            assert shown in r.stdout
    assert digest(store) == before


# -- 5. stores that are not files ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["directory", "/dev/null", "fifo", "dangling", "missing"])
@pytest.mark.parametrize("command", [("db", "stats"), ("db", "list"), ("db", "show", "1"),
                                     ("db", "export", "--csv"), ("db", "graph")])
def test_a_reader_refuses_a_store_that_is_not_a_file(tmp_path, fifo, kind, command):
    target = tmp_path / "gone.db"
    db = {"directory": tmp_path, "/dev/null": Path("/dev/null"), "fifo": fifo,
          "missing": tmp_path / "missing.db", "dangling": tmp_path / "dangling.db"}[kind]
    if kind == "dangling":
        db.symlink_to(target)
    before = sorted(os.listdir(tmp_path))
    line = error_line(invoke(*command, "--db", db))
    assert str(db) in line
    assert sorted(os.listdir(tmp_path)) == before  # nothing created (no link target, no journal)
    assert not target.exists()


# -- 6. control characters -------------------------------------------------------------------


def test_printable_escapes_controls_and_keeps_the_rest():
    assert printable(f"a{ESC}b{NUL}") == "a\\x1b[31mb\\x00"
    assert printable("a\u0085\x7f\ud800\ufffe") == "a\\x85\\x7f\\ud800\\ufffe"
    assert printable("ζ(3)\tπ\n") == "ζ(3)\\x09π\\x0a"
    assert printable("x\ny", newlines=True) == "x\ny"
    assert printable(12) == "12"


@pytest.mark.parametrize("args", [("db", "graph", "--graphml", "{out}"),
                                  ("db", "export", "--graphml", "{out}")])
def test_graphml_is_well_formed_whatever_the_store_holds(store, tmp_path, args):
    out = tmp_path / "g.graphml"
    r = invoke(*[a.format(out=out) for a in args], "--db", store)
    assert r.exit_code == 0, r.stderr
    root = ET.parse(out).getroot()  # raises on a control character
    texts = " ".join(e.text or "" for e in root.iter())
    assert "\\x1b[31m" in texts or args[1] == "graph"


@pytest.mark.parametrize("args", [("db", "stats"), ("db", "list"), ("db", "list", "--conjectures"),
                                  ("db", "list", "--members"), ("db", "show", "1"),
                                  ("db", "show", "2"), ("db", "show", "F1"), ("db", "graph"),
                                  ("db", "find", "--formula", "n+3")])
def test_the_terminal_gets_no_control_character_from_the_store(store, args):
    r = invoke(*args, "--db", store)
    assert r.exit_code == 0, r.stderr
    assert "\x1b" not in r.stdout and "\x00" not in r.stdout
    if args[1] == "stats":  # the run's name, its escapes visible (the cell may wrap)
        assert "evil" in r.stdout and "\\x1b" in r.stdout.replace("\n", "").replace("│", "")


def test_json_keeps_the_exact_text(store):
    r = invoke("db", "show", "1", "--db", store, "--json")
    assert json.loads(r.stdout)["claim"] == f"6/zeta(3){ESC}"
