"""Claims in ball arithmetic (solvers/balls.py) and what verify() reports with them.

Reference values come from mpmath (an independent implementation) and from the literature
values shipped in data/reference/pcf_formulas.csv.
"""

from __future__ import annotations

import flint
import mpmath
import pytest
from flint import arb

from discovery.verification import verify
from solvers.balls import MPMATH_ONLY, evaluate_ball
from solvers.constants import CONSTANTS, evaluate_constant, get_constant
from solvers.continued_fractions import PCF
from solvers.errors import EvaluationError, PrecisionError
from solvers.expr import evaluate_expression, parse_expression

from .conftest import load_pcf_rows

RIGOROUS = sorted({get_constant(n).name for n in CONSTANTS} - set(MPMATH_ONLY))


def _contains(ball: arb, value: mpmath.mpf | str, digits: int) -> bool:
    """True when ``ball`` overlaps ``value`` widened by one unit in its last of ``digits``."""
    with flint.ctx.workprec(int(digits * 3.33) + 64):
        text = value if isinstance(value, str) else mpmath.nstr(value, digits + 5,
                                                                min_fixed=-1, max_fixed=1)
        ref = arb(text)
        width = abs(ref.mid()) * arb(10) ** (-(digits - 1))
        return ball.overlaps(arb(ref.mid(), width.abs_upper()))


@pytest.mark.parametrize("name", RIGOROUS)
def test_every_arb_constant_contains_mpmaths_1000_digit_value(name):
    ball = evaluate_ball(parse_expression(name), 1000)
    assert ball.rigorous and ball.digits >= 1000
    assert _contains(ball.value, evaluate_constant(name, 1000), 1000)


@pytest.mark.parametrize("name", MPMATH_ONLY)
def test_constants_arb_lacks_are_marked_not_rigorous(name):
    ball = evaluate_ball(parse_expression(name), 40)
    assert ball.fallbacks == (name,) and not ball.rigorous
    assert _contains(ball.value, evaluate_constant(name, 40), 40)


@pytest.mark.parametrize("text", [
    "(4^(1/3)+1)/(4^(1/3)-1)", "besseli(1,2)/besseli(0,2)", "besselj(0,1)", "gamma(1/3)^3",
    "polylog(2, 1/2)", "agm(1, sqrt(2))", "erf(1/2) + erfc(1/2)", "ei(1)", "log2(10)",
    "cot(1) - tanh(1/3)", "zeta(5)/zeta(3)", "atanh(1/3)", "2^sqrt(2)", "8^(-2/3)",
    "exp(100) - (exp(100) - 1/3)", "4/pi + 1e-40",
])
def test_expressions_agree_with_mpmath(text):
    expr = parse_expression(text)
    ball = evaluate_ball(expr, 60)
    assert ball.digits >= 60
    assert _contains(ball.value, evaluate_expression(expr, 80), 60)


def test_literature_limits_are_inside_the_claim_balls():
    for row in load_pcf_rows():
        ball = evaluate_ball(parse_expression(row["limit"]), 25)
        assert _contains(ball.value, row["value"], 25), row["name"]


def test_cancellation_is_seen_in_the_radius_and_exact_zero_is_refused():
    ball = evaluate_ball(parse_expression("exp(50) + 1/7 - exp(50)"), 30)  # loses ~22 digits
    assert ball.text(25) == "0.1428571428571428571428571"
    with pytest.raises(PrecisionError):
        evaluate_ball(parse_expression("sin(pi)"), 20)
    with pytest.raises(EvaluationError):
        evaluate_ball(parse_expression("log(-2)"), 20)
    with pytest.raises(EvaluationError):  # the principal cube root of -8 is not real
        evaluate_ball(parse_expression("(-8)^(1/3)"), 20)


def test_verify_at_100000_digits_rests_on_the_claims_ball():
    ev = verify(PCF("34n^3+51n^2+27n+5", "-n^6"), "6/zeta(3)", 100_000)
    assert ev.verdict == "verified" and ev.digits >= 100_000
    assert "ball arithmetic" in ev.method
    assert ev.claim_value.startswith("4.99144423548424481")  # 6/ζ(3) = 4.991444235484244812098...


def test_a_refutation_reports_both_values_the_difference_and_the_true_limit():
    # PCF(n+2, n) is 1/(2e - 5) (Euler-type CF), not 1/(e - 2) (that is PCF(n+1, n)).
    ev = verify(PCF("n+2", "n"), "1/(e-2)", 50)
    assert ev.verdict == "refuted"
    e = mpmath.e
    assert ev.formula_value.startswith(mpmath.nstr(1 / (2 * e - 5), 15)[:15])
    assert ev.claim_value.startswith(mpmath.nstr(1 / (e - 2), 15)[:15])
    assert abs(ev.difference_log10 - float(mpmath.log10(abs(1 / (2 * e - 5) - 1 / (e - 2))))) < 0.1
    assert ev.identified.replace(" ", "") in ("1/(2*e-5)", "1/(-5+2*e)")


def test_a_claim_off_by_1e_minus_40_is_refuted_at_50_digits_and_verified_at_30():
    pcf = PCF("2n+1", "n^2")  # 4/pi (Euler's arctan CF)
    assert verify(pcf, "4/pi+1e-40", 50).verdict == "refuted"
    assert verify(pcf, "4/pi+1e-40", 30).verdict == "verified"
    assert verify(pcf, "4/pi+1.0E-40", 50).difference_log10 == pytest.approx(-40, abs=0.01)


@pytest.mark.parametrize("digits", [20, 50, 300])
def test_digits_per_term_is_always_measured(digits):
    ev = verify(PCF("34n^3+51n^2+27n+5", "-n^6"), "6/zeta(3)", digits)
    assert ev.digits_per_term == pytest.approx(8 * float(mpmath.log10(1 + mpmath.sqrt(2))),
                                               abs=0.02)  # 3.0616 for Apéry
