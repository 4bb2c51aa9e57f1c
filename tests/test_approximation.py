"""Baselines: Remez minimax polynomials and rationals reproduce the reference values to two
significant digits; Taylor/Padé; operation counts of Horner and continued-fraction forms."""

from __future__ import annotations

import math

import mpmath
import pytest

from solvers.approximation import (
    baseline_tiers,
    cf_ops,
    continued_fraction_form,
    horner_ops,
    pade,
    remez,
    taylor,
)
from solvers.errors import EngineError
from solvers.programs import measure_error

try:
    from conftest import load_json
except ImportError:  # pragma: no cover
    import json
    from pathlib import Path

    def load_json(name):
        return json.loads((Path(__file__).parents[1] / "data" / "reference" / name).read_text())


REF = load_json("approximation_benchmarks.json")
B1, B3 = REF["B1"], REF["B3"]


def agrees(x: float, want: float) -> bool:
    """Agreement with a reference value printed to 3-4 digits: within half a percent
    (stronger than two significant digits, and immune to how 1.85 vs 1.846 round)."""
    return abs(x - want) <= 5e-3 * abs(want)


@pytest.mark.parametrize("degree", sorted(int(k) for k in
                                          B1["minimax_polynomial_relative_error_by_degree"]))
def test_minimax_polynomial_of_2_to_the_x(degree):
    a = remez("2^x", (0, 1), degree, error="relative")
    want = B1["minimax_polynomial_relative_error_by_degree"][str(degree)]
    assert agrees(a.max_error, want)
    assert a.ops("horner") == 2 * degree


@pytest.mark.parametrize("degree", sorted(int(k) for k in B3["minimax_polynomial_by_degree"]))
def test_minimax_polynomial_of_log2(degree):
    a = remez("log2(x)", (1, 2), degree, error="absolute")
    assert agrees(a.max_error, B3["minimax_polynomial_by_degree"][str(degree)])


@pytest.mark.parametrize("m", [1, 2, 3, 4, 5])
def test_minimax_rational_of_log2(m):
    a = remez("log2(x)", (1, 2), m, m, error="absolute")
    assert agrees(a.max_error, B3["minimax_rational_mm_by_m"][str(m)])
    # ops as in the reference note: 4m Horner, 3m as a continued fraction
    assert a.ops("horner") == 4 * m and a.ops("cf") == 3 * m


def test_remez_error_equioscillates_and_matches_a_dense_measurement():
    a = remez("2^x", (0, 1), 4)
    m = measure_error(a, "2^x", (0, 1), grid=4000)
    assert m.max_error == pytest.approx(a.max_error, rel=1e-6)
    # equioscillation: n + 2 = 6 alternating extrema of equal size, endpoints included
    ctx = mpmath.MPContext()
    ctx.dps = 30
    e0 = a.evaluate_mp(0, ctx) - 1
    e1 = a.evaluate_mp(1, ctx) / 2 - 1
    assert float(abs(e0)) == pytest.approx(a.max_error, rel=1e-6)
    assert float(abs(e1)) == pytest.approx(a.max_error, rel=1e-6)
    assert e0 * e1 < 0  # 6 alternating extrema: the first and the last have opposite signs


def test_programs_of_baselines_have_the_counted_ops_and_the_same_error():
    a = remez("2^x", (0, 1), 2, 2)
    for form in ("horner", "cf"):
        p = a.program(form)
        assert p.cost == a.ops(form)
        m = measure_error(p, "2^x", (0, 1), grid=2000)
        assert m.max_error == pytest.approx(a.max_error, rel=1e-6)
    assert a.ops("horner") == 8 and a.ops("cf") == 6


def test_continued_fraction_form_reconstructs_the_rational():
    ctx = mpmath.MPContext()
    ctx.dps = 30
    num = [ctx.mpf(v) for v in (3, -1, 2, 5)]
    den = [ctx.mpf(v) for v in (1, 4, -2, 1)]
    s, pairs = continued_fraction_form(num, den, ctx)
    x = ctx.mpf("0.3")
    v = ctx.zero
    for b, c in reversed(pairs):
        v = b / (x + c + v)
    v += sum(c * x**i for i, c in enumerate(s))
    want = sum(c * x**i for i, c in enumerate(num)) / sum(c * x**i for i, c in enumerate(den))
    assert abs(v - want) < ctx.mpf(10) ** -25


def test_op_counts():
    assert [horner_ops(n) for n in (1, 6)] == [2, 12]
    assert horner_ops(2, 1) == 6 and horner_ops(3, 3) == 12
    assert cf_ops(1, 1) == 3 and cf_ops(3, 3) == 9 and cf_ops(2, 1) == 5 and cf_ops(2, 3) == 8


def test_range_reduction_by_squaring_tier_c_values():
    tier_c = B1["best_baseline_by_ops"]["tier_C_with_squaring_and_continued_fraction_rationals"]
    a = remez("2^x", (0, 1), 1, 1, squarings=2)
    assert a.ops("cf") == 5
    assert agrees(a.max_error, tier_c["5"])
    b = remez("2^x", (0, 1), 3, 3, squarings=1)
    assert b.ops("cf") == 10
    assert agrees(b.max_error, tier_c["10"])
    assert b.program("cf").cost == 10


def test_squaring_needs_a_positive_target():
    with pytest.raises(EngineError):
        remez("x - 0.5", (0, 1), 2, squarings=1)


def test_taylor_and_pade_errors_follow_their_remainders():
    # Taylor of degree n at 1/2: relative error ~ (ln2/2)^(n+1)/(n+1)! e^{ln2/2}
    t = taylor("2^x", (0, 1), 3)
    h = math.log(2) / 2
    assert t.max_error == pytest.approx(h**4 / 24 * math.exp(h) * 0.93, rel=0.1)
    # (1,1) Padé of e^t is (1 + t/2)/(1 - t/2): error t^3/12 at the ends
    p = pade("2^x", (0, 1), 1, 1)
    assert p.max_error == pytest.approx(h**3 / 12, rel=0.05)
    # minimax beats both
    assert remez("2^x", (0, 1), 3).max_error < t.max_error
    assert remez("2^x", (0, 1), 1, 1).max_error < p.max_error


def test_tier_a_baselines_match_the_reference_table():
    want = B1["best_baseline_by_ops"]["tier_A_polynomial_or_rational_horner"]
    rows = baseline_tiers("2^x", (0, 1), max_ops=8, tiers="A")
    got = {r.ops: r.max_error for r in rows}
    for ops in ("2", "4", "6", "8"):
        assert agrees(got[int(ops)], want[ops])
