"""The exact continued-fraction kernel: convergents, limits, δ, transforms, expansions."""

from __future__ import annotations

import math
import sys
from fractions import Fraction

import mpmath
import pytest
from conftest import load_json
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.continued_fractions import (
    PCF,
    convergent_matrix,
    enclosure,
    signed_cf_convergents,
    signed_expansion,
    simple_expansion,
)
from solvers.expr import evaluate_expression

APERY = PCF("34n^3+51n^2+27n+5", "-n^6")


def sequential(a, b):
    p0, p1, q0, q1 = 1, a[0], 0, 1
    for n in range(1, len(a)):
        p0, p1 = p1, a[n] * p1 + b[n] * p0
        q0, q1 = q1, a[n] * q1 + b[n] * q0
    return p0, p1, q0, q1


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-(10**6), 10**6), min_size=1, max_size=300),
    st.lists(st.integers(-(10**6), 10**6), min_size=300, max_size=300),
)
def test_product_tree_equals_the_recurrence(a, b):
    assert convergent_matrix(a, b) == sequential(a, b)


def test_apery_convergents_match_the_plain_recurrence_at_depth_3000():
    N = 3000
    a = [APERY.a_n(n) for n in range(N + 1)]
    b = [APERY.b_n(n) for n in range(N + 1)]
    assert APERY.convergents(N) == sequential(a, b)


def test_apery_limit_is_6_over_zeta3_to_300_digits():
    lim = APERY.limit(110, dps=320)
    ctx = mpmath.MPContext()
    ctx.dps = 320
    assert lim.digits >= 300
    assert abs(lim.value - 6 / ctx.zeta(3)) < ctx.mpf(10) ** -300


def test_apery_rate_is_4_log10_of_1_plus_sqrt2():
    assert APERY.digits_per_term(600) == pytest.approx(8 * math.log10(1 + math.sqrt(2)), abs=0.01)


def test_apery_delta_is_0086_at_depth_2000_and_decreases_towards_00805():
    d2000 = APERY.delta(2000)
    assert d2000 == pytest.approx(0.086, abs=0.001)
    d8000 = APERY.delta(8000)
    assert 0.0805 < d8000 < d2000


@pytest.fixture
def default_int_limit():
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(4300)
    yield
    sys.set_int_max_str_digits(old)


def test_depth_100000_is_practical_and_never_hits_the_int_str_limit(default_int_limit):
    p0, p, q0, q = APERY.convergents(100_000)
    assert q.bit_length() > 5_000_000
    lim = APERY.limit(1000)
    repr(lim)
    assert APERY.key.startswith("pcf:")


def test_limit_error_estimate_is_honest_for_a_slow_fraction():
    # Brouncker: 1 + 4/pi with b(n) = (2n-1)^2 converges like 1/N: few digits at depth 4000
    brouncker = PCF(2, "(2n-1)^2")
    lim = brouncker.limit(4000)
    ctx = mpmath.MPContext()
    ctx.dps = 30
    true_err = abs(lim.value - (1 + 4 / ctx.pi))
    assert lim.digits <= 8
    assert true_err < ctx.mpf(10) ** -3


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(-5, 5), min_size=1, max_size=3),
    st.lists(st.integers(-5, 5), min_size=1, max_size=3).filter(lambda c: any(c)),
)
def test_inflate_deflate_round_trip(c_extra, c):
    pcf = PCF("2n+1", "n^2")
    assert pcf.inflate(c).deflate(c) == pcf


def test_inflation_multiplies_the_limit_by_c0():
    pcf = PCF("2n+1", "n^2")  # 4/pi
    inflated = pcf.inflate("n+2")
    ctx = mpmath.MPContext()
    ctx.dps = 40
    assert abs(inflated.limit(200).value - 2 * 4 / ctx.pi) < ctx.mpf(10) ** -30


def test_canonical_key_is_exact_and_stable():
    assert PCF("(2n+1)(17n^2+17n+5)", "-n^6") == APERY
    assert PCF("(2n+1)(17n^2+17n+5)", "-n^6").key == APERY.key
    assert PCF("34n^3+51n^2+27n+5", "n^6").key != APERY.key


def test_latex_is_a_continued_fraction():
    assert r"\cfrac" in APERY._repr_latex_()


@pytest.mark.parametrize("row", load_json("esma_patterns.json"), ids=lambda r: r["constant"])
def test_signed_expansion_reproduces_the_esma_vectors(row):
    dps = 200
    x = evaluate_expression(row["constant"], dps)
    exp = signed_expansion(
        enclosure(x, int(dps * 3.32) - 20), row["signs"], len(row["first_terms"])
    )
    assert exp.reason == "complete"
    assert list(exp.terms) == row["first_terms"]
    # and the terms evaluate back to the constant
    p0, p, q0, q = signed_cf_convergents(exp.terms, row["signs"])
    assert abs(Fraction(int(p), int(q)) - Fraction(float(x))) < 1e-6


def test_simple_expansion_of_pi_and_its_exhaustion():
    ctx = mpmath.MPContext()
    ctx.dps = 50
    exp = simple_expansion(enclosure(ctx.pi, ctx.prec), 10)
    assert exp.terms == (3, 7, 15, 1, 292, 1, 1, 1, 2, 1)
    short = simple_expansion(enclosure(ctx.pi, 40), 200)
    assert short.exhausted and 5 < len(short.terms) < 40
    # never a wrong term: the truncated expansion is a prefix of the accurate one
    full = simple_expansion(enclosure(ctx.pi, ctx.prec), len(short.terms))
    assert full.terms == short.terms


def test_signed_expansion_of_a_rational_ends():
    assert simple_expansion(Fraction(-7, 3), 10).terms == (-3, 1, 2)
    assert signed_expansion(Fraction(8, 5), [1], 10).reason == "rational"


def test_bad_input_is_rejected_with_a_clear_error():
    with pytest.raises(ValueError, match="signs"):
        signed_expansion(Fraction(1, 3), [2], 5)
    with pytest.raises(TypeError, match="enclosure"):
        signed_expansion(1.5, [1], 5)
    with pytest.raises(ValueError):
        PCF([1.5], [1])
