"""Shared fixtures: the verified reference vectors shipped in data/reference/."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference"

# Deliberately NOT lifting Python's 4300-digit int<->str limit here: the library must not
# depend on it being lifted (tests exercise huge integers under the default limit).


def load_pcf_rows() -> list[dict]:
    """Rows of data/reference/pcf_formulas.csv (known PCFs with their limits)."""
    with open(REFERENCE / "pcf_formulas.csv", newline="") as f:
        return list(csv.DictReader(f))


def load_json(name: str):
    """A JSON file of data/reference/."""
    return json.loads((REFERENCE / name).read_text())


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    return REFERENCE


def pytest_terminal_summary(terminalreporter) -> None:
    """Say how many doctests of the library (``solvers/``, ``search/``, ``discovery/``) ran."""
    library = ("solvers/", "search/", "discovery/")
    counts = {
        outcome: sum(1 for r in terminalreporter.stats.get(outcome, [])
                     if r.nodeid.startswith(library) and r.when == "call")
        for outcome in ("passed", "failed")
    }
    if any(counts.values()):
        terminalreporter.write_line(
            f"library doctests: {counts['passed']} passed, {counts['failed']} failed"
        )
