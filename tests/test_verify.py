"""Verification: every known PCF verifies its limit; wrong claims are refuted; slow ones are
inconclusive rather than wrongly verified."""

from __future__ import annotations

import math

import mpmath
import pytest
from conftest import load_pcf_rows

from discovery.verification import verify
from discovery.verifiers import verify_candidate
from search.base import Candidate
from solvers.continued_fractions import PCF

ROWS = load_pcf_rows()


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["name"])
def test_every_known_pcf_verifies_its_limit(row):
    want = min(int(row["digits_at_depth"]), 100)
    ev = verify(PCF(row["a"], row["b"]), row["limit"], digits=want, max_depth=20_000)
    assert ev.verdict == "verified", ev.note
    assert ev.digits >= want
    # never more digits than the convergent supports
    assert ev.digits <= ev.estimated_digits


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["name"])
def test_the_csv_value_column_agrees_with_the_pcf(row):
    depth = int(row["depth"])
    lim = PCF(row["a"], row["b"]).limit(depth, dps=40)
    got = mpmath.nstr(lim.value, 25)
    want_digits = min(int(row["digits_at_depth"]), 25)
    ctx = mpmath.MPContext()
    ctx.dps = 40
    assert abs(ctx.mpf(got) - ctx.mpf(row["value"])) < ctx.mpf(10) ** -(want_digits - 2)


def test_a_wrong_claim_is_refuted_not_inconclusive():
    ev = verify(PCF("34n^3+51n^2+27n+5", "-n^6"), "6/zeta(3) + 10^(-60)", digits=100)
    assert ev.verdict == "refuted"
    assert 55 <= ev.digits <= 61
    ev2 = verify(PCF("2n+1", "n^2"), "4/pi + 1/1000", digits=50)
    assert ev2.verdict == "refuted"


def test_a_slow_fraction_is_inconclusive_and_never_claims_unreached_digits():
    ev = verify(PCF("n^3+(n+1)^3", "-n^6"), "1/zeta(3)", digits=30, max_depth=4000)
    assert ev.verdict == "inconclusive"
    assert ev.digits < 30
    assert ev.depth <= 4000


def test_apery_to_1000_digits_reports_rate_delta_and_depth():
    ev = verify(PCF("34n^3+51n^2+27n+5", "-n^6"), "6/zeta(3)", digits=1000)
    assert ev.verdict == "verified"
    assert ev.digits >= 1000
    assert ev.digits_per_term == pytest.approx(8 * math.log10(1 + math.sqrt(2)), abs=0.02)
    assert 1000 / 3.1 < ev.depth < 1000 / 3.0 + 60
    assert ev.delta == pytest.approx(0.09, abs=0.02)


def test_apery_to_20000_digits():
    ev = verify(PCF("34n^3+51n^2+27n+5", "-n^6"), "6/zeta(3)", digits=20_000)
    assert ev.verdict == "verified" and ev.digits >= 20_000


def test_verify_candidate_dispatches_on_pcf_coefficients():
    pcf = PCF("2n+1", "n^2")
    cand = Candidate(kind="pcf", key=pcf.key, formula=pcf.to_dict(), claim="4/pi")
    assert verify_candidate(cand, digits=50).verdict == "verified"
    odd = Candidate(kind="poem", key="poem:x", formula={"ops": []}, claim="exp(x)")
    ev = verify_candidate(odd, digits=50)
    assert ev.verdict == "inconclusive" and "no verifier" in ev.note


def test_bad_requests_raise():
    with pytest.raises(ValueError):
        verify(PCF(1, 1), "(1+sqrt(5))/2", digits=0)
