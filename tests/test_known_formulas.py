"""The reference table discovery/data/known_formulas.csv: every entry is true, sourced and
findable."""

from __future__ import annotations

import csv

import mpmath
import pytest
from conftest import load_pcf_rows

from discovery.known import REFERENCE_TABLE, known_formulas, known_source
from discovery.verification import verify
from solvers.continued_fractions import PCF
from solvers.expr import evaluate_expression, parse_expression
from solvers.pcf_families import normal_form

with REFERENCE_TABLE.open("r", newline="", encoding="utf-8") as _f:
    TABLE = list(csv.DictReader(_f))

SLOW = {"Brouncker"}  # converges like 1/n: 50 digits are out of reach


@pytest.fixture(autouse=True)
def _precision():
    """60 digits for the test-side mpmath arithmetic, restored afterwards."""
    with mpmath.workdps(60):
        yield


def test_the_table_is_read_whole():
    entries = known_formulas()
    assert len(entries) == len(TABLE) >= 10
    assert [k.name for k in entries] == [r["name"] for r in TABLE]
    assert len({k.name for k in entries}) == len(entries)


@pytest.mark.parametrize("row", TABLE, ids=lambda r: r["name"])
def test_entry_verifies_to_50_digits(row):
    pcf = PCF(row["a"], row["b"])
    if row["name"] in SLOW:
        ev = verify(pcf, row["claim"], 50, max_depth=4000)
        assert ev.verdict == "inconclusive", ev
        assert ev.digits >= 3  # still right as far as it goes
    else:
        ev = verify(pcf, row["claim"], 50, max_depth=20_000)
        assert ev.verdict == "verified", (row["name"], ev.note)
        assert ev.digits >= 50


@pytest.mark.parametrize("row", TABLE, ids=lambda r: r["name"])
def test_entry_has_a_source_and_its_family_is_known(row):
    assert row["source"].strip()
    pcf = PCF(row["a"], row["b"])
    key = normal_form(pcf).pcf.key
    found = known_source(key)
    assert found is not None
    # the first entry of the table in that family names it
    same_family = [r for r in TABLE if normal_form(PCF(r["a"], r["b"])).pcf.key == key]
    first = same_family[0]
    assert found == f"{first['name']}: {first['source']}"


def test_family_key_property_is_the_normal_form_key():
    for k in known_formulas():
        assert k.family_key == normal_form(k.pcf).pcf.key
        assert known_source(k.family_key)


def test_claims_agree_with_the_reference_values():
    # Independent cross-check: entries that also appear in data/reference/pcf_formulas.csv
    # (30-digit values from outside sources) have the same limit there.
    values = {(PCF(r["a"], r["b"])): r["value"] for r in load_pcf_rows()}
    shared = 0
    for row in TABLE:
        pcf = PCF(row["a"], row["b"])
        if pcf in values:
            want = mpmath.mpf(values[pcf])
            got = evaluate_expression(parse_expression(row["claim"]), 40)
            digits = len(values[pcf].replace(".", "").lstrip("0")) - 2
            assert abs(got - want) <= mpmath.mpf(10) ** (-digits) * max(1, abs(want)), row
            shared += 1
    assert shared >= 8


def test_variants_of_a_known_formula_are_known():
    # Euler's (e+1)/(e-1) scaled, negated and shifted; Apery inflated by n+1.
    for pcf in (PCF("8n+4", 4), PCF("-4n-2", 1), PCF("4n+6", 1),
                PCF("34n^3+51n^2+27n+5", "-n^6").inflate("n+1")):
        source = known_source(normal_form(pcf).pcf.key)
        assert source is not None and ("Euler" in source or "Apery" in source)


def test_a_formula_absent_from_the_table_is_not_known():
    absent = PCF("3n+1", "n")
    key = normal_form(absent).pcf.key
    assert all(normal_form(PCF(r["a"], r["b"])).pcf.key != key for r in TABLE)
    assert all(PCF(r["a"], r["b"]) != absent for r in TABLE)
    assert known_source(key) is None
    assert known_source(absent.key) is None
    assert known_source("pcf:not-a-key") is None


def test_a_missing_table_means_nothing_is_known(tmp_path):
    key = normal_form(PCF("4n+2", 1)).pcf.key
    assert known_source(key) is not None
    assert known_source(key, path=tmp_path / "absent.csv") is None
