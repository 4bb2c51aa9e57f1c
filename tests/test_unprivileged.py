"""A read-only install and a store in a read-only directory, used by someone who may not write.

As root the permission bits are not enforced, so the commands run under ``setpriv`` without
the capabilities that bypass them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER); as
any other user they run as that user.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DROP = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def unprivileged(cmd: list[str]) -> list[str]:
    """``cmd`` run without the power to ignore file permissions (or skip the test)."""
    if not hasattr(os, "geteuid"):
        pytest.skip("POSIX permissions only")
    if os.geteuid() != 0:
        return cmd
    if shutil.which("setpriv") is None:
        pytest.skip("root without setpriv cannot drop the permission-bypassing capabilities")
    return DROP + cmd


def read_only_tree(top: Path) -> None:
    for path in [top, *top.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def writable_tree(top: Path) -> None:
    for path in [top, *top.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


@pytest.fixture
def read_only_install(tmp_path):
    """The three packages copied without caches into a tree nobody may write, and a home
    directory nobody may write (so numba has nowhere to cache)."""
    site = tmp_path / "site"
    for pkg in ("solvers", "search", "discovery"):
        shutil.copytree(ROOT / pkg, site / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    home = tmp_path / "home"
    home.mkdir()
    read_only_tree(site)
    read_only_tree(home)
    yield site, home
    writable_tree(site)
    writable_tree(home)


def run_cli(site: Path, home: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(site), HOME=str(home), PYTHONDONTWRITEBYTECODE="")
    env.pop("NUMBA_CACHE_DIR", None)
    cmd = unprivileged([sys.executable, "-m", "discovery.cli", *args])
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


@pytest.mark.slow  # about 8 s: two commands, numba compiles without a cache
def test_verify_and_a_numba_command_run_from_a_read_only_install(read_only_install, tmp_path):
    site, home = read_only_install
    res = run_cli(site, home, "verify", "--a", "2", "--b", "1", "--claim", "1+sqrt(2)",
                  "--digits", "30", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert '"verdict": "verified"' in res.stdout
    # the float32 checker compiles numba kernels (cache=True where it can write)
    res = run_cli(site, home, "check-float32", "--function", "2^x",
                  "--interval", "0.5,0.5009765625",
                  "--coefficients", "1,0.6931471805599453,0.2402265069591007",
                  "--json", cwd=tmp_path)
    assert res.returncode in (0, 1), res.stderr
    assert "Traceback" not in res.stderr and "max_ulp" in res.stdout
    assert not any(p.name == "__pycache__" for p in site.rglob("*"))


def test_db_list_reads_a_store_in_a_read_only_directory(tmp_path):
    from discovery.store import Store
    from search.base import Candidate

    d = tmp_path / "shared"
    d.mkdir()
    path = d / "s.db"
    with Store(path) as store:
        store.record(Candidate(kind="pcf", key="pcf:golden", formula={"a": [1], "b": [1]},
                               claim="(1+sqrt(5))/2", constant="phi"),
                     {"verdict": "verified", "digits": 50})
    (d / "s.db-wal").touch()  # an empty log, as a writer that exited may leave
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    read_only_tree(d)
    try:
        cmd = unprivileged([sys.executable, "-m", "discovery.cli", "db", "list", "--db", str(path),
                            "--members", "--json"])
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    finally:
        writable_tree(d)
    assert res.returncode == 0, res.stderr
    assert "(1+sqrt(5))/2" in res.stdout
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in d.iterdir()) == ["s.db", "s.db-wal"]
