"""The built wheel, installed (not editable) into a fresh virtual environment, finds its data.

The library reads a few files at run time (the CMF catalogue, the reference table of known
formulas, the packing certificates and reference values); they are package data read through
:mod:`importlib.resources`. This test builds the wheel, installs it into a new virtual
environment outside the checkout and runs the commands that read them from another directory.

How the installed copy, and only it, is imported
------------------------------------------------
The new environment is made with ``python -m venv`` (no system site-packages) and the wheel is
installed with ``pip install --no-deps --no-index``, so nothing is downloaded. The
dependencies come from the project's environment: a ``.pth`` file in the new environment's
site-packages names the project's site-packages directories. A ``.pth`` line only appends its
directory to ``sys.path``, after the new environment's own site-packages, and the ``.pth``
files *inside* that directory are not processed (it is not a site directory). The project's
editable install lives in exactly such files (``__editable__...pth`` and the finder module it
activates), so it stays inactive and the checkout is not importable: ``discovery``,
``search`` and ``solvers`` resolve to the installed wheel, which the test asserts. The
subprocesses run with the checkout neither on ``PYTHONPATH`` (removed from the environment)
nor as the working directory, and a virtual environment without system site-packages has no
user site-packages.

The wheel is built from a copy of the sources (``pyproject.toml``, ``README.md`` and the three
packages), so the build's ``build/`` and ``*.egg-info`` stay out of the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import mpmath
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("discovery", "solvers", "search")
TIMEOUT = 300  # seconds per subprocess; the whole module takes well under two minutes

#: Package data the wheel must hold (paths inside the wheel).
SHIPPED = (
    "search/data/cmfs.json",
    "discovery/data/known_formulas.csv",
    "discovery/data/packing/packing_reference.json",
    "discovery/data/packing/lp_table.json",
    "discovery/data/packing/three_point/n04.json",
    *(f"discovery/data/packing/lp/n{n:02d}.json" for n in range(1, 33)),
)


@dataclass(frozen=True)
class Installed:
    """The fresh environment holding the installed wheel."""

    venv: Path
    python: Path
    discovery: Path  # the console script
    site_packages: Path
    wheel: Path
    work: Path  # an empty working directory outside the checkout


def _env() -> dict[str, str]:
    """The current environment without anything that would put the checkout on sys.path."""
    drop = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONSAFEPATH", "VIRTUAL_ENV"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONNOUSERSITE"] = "1"
    env["COLUMNS"] = "200"
    return env


def _run(args: list, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        pytest.fail(f"{' '.join(map(str, args))} exited {done.returncode}\n"
                    f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}")
    return done


def _build_wheel(tmp: Path) -> Path:
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, src / pkg,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc"))
    dist = tmp / "dist"
    args = [sys.executable, "-m", "pip", "wheel", src, "--no-deps", "-w", dist, "--quiet"]
    # The build needs setuptools >= 77 (pyproject.toml); use ours when it is recent enough,
    # else let pip fetch it into an isolated build environment.
    if int(metadata.version("setuptools").split(".")[0]) >= 77:
        args.append("--no-build-isolation")
    _run(args, cwd=tmp)
    wheels = sorted(dist.glob("discovery_workbench-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    tmp = tmp_path_factory.mktemp("wheel")
    assert ROOT not in tmp.resolve().parents
    wheel = _build_wheel(tmp)

    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=tmp)
    python = venv / "bin" / "python"
    _run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel], cwd=tmp)
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     cwd=tmp).stdout.strip())
    # The dependencies: the project's site-packages, appended to sys.path (see the docstring).
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (site / "_project_dependencies.pth").write_text("".join(f"{p}\n" for p in ours))

    work = tmp / "work"
    work.mkdir()
    return Installed(venv, python, venv / "bin" / "discovery", site, wheel, work)


def test_the_wheel_holds_the_package_data_and_no_top_level_data(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    assert set(SHIPPED) <= names
    assert not [n for n in names if n.startswith("data/")]
    meta = zipfile.ZipFile(installed.wheel).read(
        "discovery_workbench-0.1.0.dist-info/METADATA").decode()
    assert "License-Expression: MIT" in meta


def test_the_packages_are_imported_from_the_installed_wheel(installed):
    code = (
        "import json, discovery, search, solvers\n"
        "from discovery.commands.packing import DATA_DIR\n"
        "from discovery.known import REFERENCE_TABLE\n"
        "from search.cmf import DEFAULT_CATALOGUE\n"
        "print(json.dumps([m.__file__ for m in (discovery, search, solvers)]"
        " + [str(DATA_DIR), str(REFERENCE_TABLE), str(DEFAULT_CATALOGUE)]))\n"
    )
    paths = [Path(p).resolve() for p in json.loads(
        _run([installed.python, "-c", code], cwd=installed.work).stdout)]
    site = installed.site_packages.resolve()
    for p in paths:
        assert site in p.parents, p
        assert ROOT not in p.parents, p


def test_cmf_walk_reads_the_shipped_catalogue(installed):
    out = json.loads(_run([installed.discovery, "cmf", "walk", "--cmf", "zeta3",
                           "--trajectory", "1,1", "--start", "1,1", "--depth", "200", "--json"],
                          cwd=installed.work).stdout)
    assert out["cmf"] == "zeta3"
    assert out["relation"] == "(1 - zeta(3))/zeta(3)"
    with mpmath.workdps(60):  # the printed limit has 50 significant digits
        expected = 1 / mpmath.zeta(3) - 1  # -0.16809262741929253131...
        assert abs(mpmath.mpf(out["limit"]) - expected) < mpmath.mpf(10) ** -48


def test_search_labels_a_rediscovery_known_from_the_shipped_table(installed):
    """The zeta(3) field's walks give Apery's PCF; the reference table says it is known."""
    out = json.loads(_run([installed.discovery, "search", "cmf", "--cmf", "zeta3",
                           "--max-norm", "1", "--starts", "1..1", "--no-link",
                           "--executor", "serial", "--db", installed.work / "known.db",
                           "--json"], cwd=installed.work).stdout)
    [family] = out["families"]["list"]
    assert family["claim"] == "6/zeta(3)" and family["known"] is True
    assert family["source"].startswith("Apery zeta(3): R. Apery")
    with mpmath.workdps(50):
        assert abs(mpmath.mpf(family["value"]) - 6 / mpmath.zeta(3)) < mpmath.mpf(10) ** -35


def test_the_shipped_tables_load_in_the_installed_package(installed):
    code = (
        "from discovery.blind_delta import anchors\n"
        "from discovery.known import known_formulas\n"
        "from search.cmf import load_catalogue\n"
        "print(len(known_formulas()), len(anchors()), 'zeta3' in load_catalogue())\n"
    )
    known, anchor_count, has_zeta3 = _run([installed.python, "-c", code],
                                          cwd=installed.work).stdout.split()
    assert int(known) >= 8 and int(anchor_count) == int(known) and has_zeta3 == "True"


def test_packing_check_verifies_the_shipped_certificate(installed):
    cert = installed.site_packages / "discovery" / "data" / "packing" / "three_point" / "n04.json"
    out = json.loads(_run([installed.discovery, "packing", "check", cert, "--json"],
                          cwd=installed.work).stdout)
    [result] = out["results"]
    assert result["verified"] is True and result["failures"] == []
    assert result["kind"] == "three-point" and result["dimension"] == 4
    assert result["bound"] == "0.6458454431"


def test_packing_table_reverifies_the_shipped_certificates_against_the_reference(installed):
    """The default ``--dir`` and the reference values are the installed package's."""
    out = json.loads(_run([installed.discovery, "packing", "table", "--stored",
                           "--dimensions", "4", "--json"], cwd=installed.work).stdout)
    [row] = out["rows"]
    assert out["all_verified"] and row["dimension"] == 4 and row["verified"]
    # The densest known packing in dimension 4 is the D4 lattice: density pi^2/16.
    assert row["best_known"] == pytest.approx(float(mpmath.pi) ** 2 / 16, abs=1e-10)
    assert row["best_known"] <= float(row["bound"]) <= 0.6478
