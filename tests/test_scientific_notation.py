"""Scientific notation is a number wherever the safe parser reads one (issue 15, item 2)."""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from discovery.verification import verify
from solvers.continued_fractions import PCF
from solvers.expr import parse_expression


@pytest.mark.parametrize("text, value", [
    ("1e-40", Fraction(1, 10**40)),
    ("1.0e-40", Fraction(1, 10**40)),
    ("1E-40", Fraction(1, 10**40)),
    ("1.5E3", Fraction(1500)),
    ("2.5e+7", Fraction(25_000_000)),
    (".5e1", Fraction(5)),
])
def test_scientific_literals_are_exact_numbers(text, value):
    assert parse_expression(text) == sympy.Rational(value.numerator, value.denominator)


def test_e_without_an_exponent_is_still_the_constant():
    assert parse_expression("2e") == 2 * sympy.E
    assert parse_expression("2 e - 1") == 2 * sympy.E - 1
    assert parse_expression("2e-1") == sympy.Rational(1, 5)


def test_a_claim_off_by_1e_minus_40_is_refuted_at_50_digits_and_verified_at_30():
    lambert = PCF("2n+1", "n^2")  # 4/pi (Lambert)
    assert verify(lambert, "4/pi+1e-40", digits=50).verdict == "refuted"
    assert verify(lambert, "4/pi+1e-40", digits=30).verdict == "verified"


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_printed_float_parses_back_to_the_same_value(x):
    """``repr`` prints the shortest decimal that rounds back to ``x`` (often in scientific
    notation): the parser reads exactly that decimal, which rounds back to ``x``."""
    text = repr(x)
    decimal = Fraction(text)
    parsed = parse_expression(text)
    assert parsed == sympy.Rational(decimal.numerator, decimal.denominator)
    assert float(decimal) == x


@settings(max_examples=200, deadline=None)
@given(st.integers(-10**60, 10**60), st.integers(1, 10**60))
def test_printed_rationals_parse_back(p, q):
    r = Fraction(p, q)
    assert parse_expression(f"{r.numerator}/{r.denominator}") == sympy.Rational(p, q)
