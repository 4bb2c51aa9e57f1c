"""Verification under hostile input: bounded work, the project's own errors, honest verdicts."""

from __future__ import annotations

import random
import subprocess
import sys

import mpmath
import pytest

from discovery.verification import verify
from solvers.continued_fractions import PCF
from solvers.errors import DiscoveryError, DivergenceError

CLAIMS = ["1", "pi", "e", "sqrt(2)", "zeta(3)", "log(2)", "4/pi", "catalan", "0", "-1/3"]


def naive_convergent(a: list[int], b: list[int], depth: int) -> tuple[int, int]:
    """p_N, q_N of PCF(a, b) by the plain three-term recurrence (independent of the product
    tree): p_{-1} = 1, p_0 = a(0), q_{-1} = 0, q_0 = 1."""

    def ev(c: list[int], n: int) -> int:
        return sum(k * n**i for i, k in enumerate(c))

    p0, p, q0, q = 1, ev(a, 0), 0, 1
    for n in range(1, depth + 1):
        p0, p = p, ev(a, n) * p + ev(b, n) * p0
        q0, q = q, ev(a, n) * q + ev(b, n) * q0
    return p, q


@pytest.mark.slow
def test_ten_thousand_random_small_pcfs_raise_only_the_projects_errors():
    rng = random.Random(2024)
    verdicts = {"verified": 0, "refuted": 0, "inconclusive": 0, "error": 0}
    for _ in range(10_000):
        a = [rng.randint(-5, 5) for _ in range(rng.randint(1, 3))]
        b = [rng.randint(-5, 5) for _ in range(rng.randint(1, 4))]
        claim = rng.choice(CLAIMS)
        digits = rng.choice([5, 10, 30])
        try:
            ev = verify(PCF(a, b), claim, digits=digits, max_depth=2000,
                        identify_on_refutation=rng.random() < 0.1)
        except DiscoveryError:
            verdicts["error"] += 1
            continue
        verdicts[ev.verdict] += 1
        if ev.verdict == "verified":  # true: the plain recurrence agrees with mpmath's claim
            p, q = naive_convergent(a, b, ev.depth)
            with mpmath.workdps(digits + 20):
                value = mpmath.mpf(p) / q
                truth = {"1": 1, "0": 0, "-1/3": mpmath.mpf(-1) / 3, "pi": mpmath.pi,
                         "e": mpmath.e, "sqrt(2)": mpmath.sqrt(2), "zeta(3)": mpmath.zeta(3),
                         "log(2)": mpmath.log(2), "4/pi": 4 / mpmath.pi,
                         "catalan": mpmath.catalan}[claim]
                assert abs(value - truth) <= 10 ** (-(ev.digits - 1)) * max(1, abs(truth))
    assert sum(verdicts.values()) == 10_000
    assert verdicts["refuted"] > 0 and verdicts["inconclusive"] > 0 and verdicts["error"] > 0


def test_a_fraction_of_huge_terms_is_inconclusive_within_its_time_budget():
    ev = verify(PCF(1, "n^64"), "1", digits=10, max_seconds=2.0)
    assert ev.verdict == "inconclusive"
    assert "time budget of 2 s" in ev.note
    assert ev.depth < 200_000


def test_the_size_budget_stops_before_a_convergent_too_large():
    ev = verify(PCF(1, "(n+1)^64"), "1", digits=10, max_bits=2**20)
    assert ev.verdict == "inconclusive"
    assert "memory budget" in ev.note


def test_zero_partial_denominators_are_a_divergence_not_an_overflow():
    # PCF(0, n^2): q_N vanishes at every other depth, so no error estimate exists
    with pytest.raises(DivergenceError, match="no error estimate"):
        verify(PCF(0, "n^2"), "4/pi", digits=10)


def test_a_zero_limit_is_compared_without_overflow():
    # PCF(0, -3 + n): p_N = 0 at even depths; the claim "catalan" is refuted or inconclusive,
    # never an OverflowError
    try:
        ev = verify(PCF(0, [-3, 1]), "catalan", digits=10, max_depth=4000)
    except DiscoveryError:
        return
    assert ev.verdict in ("refuted", "inconclusive")


def test_max_seconds_must_be_positive():
    with pytest.raises(ValueError, match="max_seconds"):
        verify(PCF(2, 1), "1+sqrt(2)", digits=10, max_seconds=0)


@pytest.mark.parametrize("b", ["n^64", pytest.param("(n+1)^64", marks=pytest.mark.slow)])
def test_the_verify_command_answers_huge_terms_within_its_default_budget(b):
    res = subprocess.run([sys.executable, "-m", "discovery.cli", "verify", "--a", "1", "--b", b,
                          "--claim", "1", "--digits", "10", "--json"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert '"verdict": "inconclusive"' in res.stdout and "time budget" in res.stdout
    assert "Traceback" not in res.stderr
