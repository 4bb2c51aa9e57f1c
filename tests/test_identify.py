"""Identification: the integer-relation kernel (solvers.relations) and identify (discovery).

Basis choice for the rows of pcf_formulas.csv that are not Möbius functions of a catalogue
constant: the default basis of ``identify`` contains the expressions ``e^2`` (for ``coth(1)`` and
``4/(3e^2-21)``), ``tan(1)`` (for ``cot(1)``) and the Bessel ratio
``besseli(1,2)/besseli(0,2)`` as a single basis element (``I0(2)/I1(2)`` is its reciprocal);
quadratic irrationals are found by the algebraic stage.
"""

from __future__ import annotations

import json
import random
from fractions import Fraction

import mpmath
import pytest
from conftest import load_pcf_rows
from hypothesis import given, settings
from hypothesis import strategies as st

from discovery.identification import Identification, default_basis, identify
from solvers.errors import DiscoveryError, PrecisionError
from solvers.expr import constants_in, evaluate_expression, parse_expression
from solvers.relations import (
    RelationOutcome,
    digits_used,
    find_integer_relation,
    find_mobius,
    find_polynomial,
    mobius_from_coefficients,
    mobius_relation,
    normalize_relation,
)

ROWS = load_pcf_rows()

# Rows whose limit is not a Möbius function of a catalogue constant: the basis element used.
EXPECTED_BASIS = {
    "coth(1)": "e^2",
    "4/(3*e^2-21)": "e^2",
    "cot(1)": "tan(1)",
    "besseli(1,2)/besseli(0,2)": "besseli(1,2)/besseli(0,2)",
    "besseli(0,2)/besseli(1,2)": "besseli(1,2)/besseli(0,2)",
}


def ctx_at(dps: int) -> mpmath.MPContext:
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


def random_number(seed: int, digits: int = 60) -> str:
    rng = random.Random(seed)
    return "0." + "".join(rng.choice("0123456789") for _ in range(digits))


def agree(a, b, digits: int) -> bool:
    ctx = ctx_at(digits + 10)
    a, b = ctx.mpf(a), ctx.mpf(b)
    return abs(a - b) <= abs(b) * ctx.mpf(10) ** (-digits)


# --------------------------------------------------------------------------------------------
# identify on the reference continued fractions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("row", ROWS, ids=[r["name"] for r in ROWS])
def test_identify_recovers_reference_limit(row):
    x = evaluate_expression(row["limit"], 60)
    result = identify(x, 60, basis=None)
    assert result.found, f"{row['limit']}: {result!r}"
    assert result.outcome == "found"
    # The relation text reads back and evaluates (independently) to the same 60 digits.
    assert agree(evaluate_expression(parse_expression(result.relation), 60), x, 55)
    assert 0.5 < result.confidence < 1
    assert result.digits_used <= 30
    names = constants_in(row["limit"])
    if row["limit"] in EXPECTED_BASIS:
        assert result.kind == "mobius"
        assert result.constant == EXPECTED_BASIS[row["limit"]]
    elif names and names[0].startswith("sqrt"):
        assert result.kind == "algebraic"
        assert result.coefficients is not None and len(result.coefficients) == 3
    else:
        # A Möbius function of one catalogue constant is recovered in that constant.
        assert result.kind == "mobius"
        assert result.constants == names


def test_apery_limit_is_6_over_zeta3_with_its_coefficients():
    ctx = ctx_at(60)
    result = identify(6 / ctx.zeta(3), 60)
    assert result.relation == "6/zeta(3)"
    assert result.coefficients == (6, 0, 0, 1)  # x = (6 + 0 K)/(0 + 1 K)
    assert result.digits_available == 60
    assert result.digits_used == pytest.approx(2 + 0.77815, abs=1e-4)  # 1 and 6


def test_ramanujan_machine_pi_relation_text():
    ctx = ctx_at(60)
    result = identify(4 / (3 * ctx.pi - 8), 60)
    assert result.relation == "4/(3*pi - 8)"
    assert result.constant == "pi"


def test_identify_a_pcf_object_takes_its_limit():
    from solvers.continued_fractions import PCF

    result = identify(PCF("34n^3+51n^2+27n+5", "-n^6"), 50)
    assert result.found and result.relation == "6/zeta(3)"
    assert result.digits_available == 50


def test_identify_slow_formula_with_few_digits():
    # Euler's continued fraction for 1/zeta(3) converges slowly: a few digits only.
    from solvers.continued_fractions import PCF

    result = identify(PCF("n^3+(n+1)^3", "-n^6"), 20, max_depth=512, basis=("zeta3",))
    assert result.digits_available < 20
    assert result.found and result.relation == "1/zeta(3)"


# --------------------------------------------------------------------------------------------
# Negative controls
# --------------------------------------------------------------------------------------------


def test_random_number_has_no_mobius_relation_with_pi():
    x = random_number(2024)
    result = identify(x, 60, basis=("pi",))
    assert not result.found
    assert result.relation is None
    assert result.outcome == "none_below_bound"
    assert result.norm_bound is not None and result.norm_bound > 10**6


def test_random_number_with_12_digits_gives_no_spurious_relation():
    x = random_number(2024)
    ctx = ctx_at(12)
    x12 = ctx.mpf(x)
    # Plain PSLQ on these 12 digits does return a "relation" (noise) ...
    big = ctx_at(20)
    vec = [big.mpf(x12), big.mpf(x12) * big.pi, big.mpf(1), big.pi]
    assert big.pslq(vec, tol=big.mpf(10) ** -9, maxcoeff=10**12, maxsteps=10**5) is not None
    # ... which the confidence rule rejects.
    kernel = mobius_relation(x12, ctx.pi, 12, max_coeff=10**12)
    assert kernel.outcome is RelationOutcome.INCONCLUSIVE
    assert kernel.rejected is not None and digits_used(kernel.rejected) > 6
    result = identify(x12, 12, basis=("pi",), max_coeff=10**12)
    assert not result.found and result.relation is None
    assert result.outcome == "inconclusive"
    assert not identify(x12, 12, max_coeff=10**12).found


def test_pi_is_not_a_mobius_function_of_e():
    ctx = ctx_at(60)
    result = identify(ctx.pi, 60, basis=("e",))
    assert not result.found
    assert result.outcome == "none_below_bound"
    assert find_mobius(ctx.pi, ctx.e, 60) is None


def test_random_number_with_default_basis_is_not_identified():
    result = identify(random_number(7), 60)
    assert not result.found
    assert result.outcome == "none_below_bound"
    assert result.searches >= len(default_basis())


# --------------------------------------------------------------------------------------------
# Several constants
# --------------------------------------------------------------------------------------------


def test_linear_relation_in_zeta3_and_pi_squared():
    ctx = ctx_at(60)
    x = 3 * ctx.zeta(3) - 2 * ctx.pi**2 / 7
    result = identify(x, 60)
    assert result.found and result.kind == "linear"
    assert set(result.constants) == {"zeta3", "pi^2"}
    assert result.relation == "3*zeta(3) - 2*pi^2/7"
    assert agree(evaluate_expression(result.relation, 60), x, 55)


def test_mobius_relation_in_two_constants():
    ctx = ctx_at(60)
    x = (1 + ctx.zeta(3)) / (2 + ctx.pi)
    result = identify(x, 60)
    assert result.found and result.kind == "mobius_multi"
    assert set(result.constants) == {"pi", "zeta3"}
    assert agree(evaluate_expression(result.relation, 60), x, 55)


def test_explicit_basis_with_dependent_constants_still_finds_x():
    # zeta2 and pi^2 are linearly dependent: the kernel's relation 6 zeta2 - pi^2 = 0 is
    # discarded and the search goes on without one of them.
    ctx = ctx_at(60)
    x = ctx.zeta(3) + ctx.log(2) / 3
    result = identify(x, 60, basis=("zeta2", "pi^2", "zeta3", "log2"))
    assert result.found and result.kind == "linear"
    assert agree(evaluate_expression(result.relation, 60), x, 55)


# --------------------------------------------------------------------------------------------
# Inputs and outputs
# --------------------------------------------------------------------------------------------


def test_decimal_string_carries_its_digits():
    text = "2.80745499308537947657159669393"  # 30 significant digits of 4/(3 pi - 8)
    result = identify(text, basis=("pi",))
    assert result.digits_available == 29
    assert result.relation == "4/(3*pi - 8)"


def test_interval_input():
    ctx = ctx_at(80)
    v = 1 / (ctx.e - 2)
    lo, hi = v - ctx.mpf(10) ** -45, v + ctx.mpf(10) ** -45
    result = identify((lo, hi), basis=("e",))
    assert 43 <= result.digits_available <= 45
    assert result.relation == "1/(e - 2)"


def test_arb_ball_input():
    import flint

    old = flint.ctx.prec
    try:
        flint.ctx.prec = 200
        ball = 8 / (7 * flint.arb(3).zeta())
    finally:
        flint.ctx.prec = old
    result = identify(ball, basis=("zeta3",))
    assert result.digits_available >= 50
    assert result.relation == "8/(7*zeta(3))"


def test_rational_and_quadratic_numbers():
    assert identify(Fraction(-22, 7), 40).relation == "-22/7"
    assert identify("0.142857142857142857142857142857", basis=()).relation == "1/7"
    ctx = ctx_at(40)
    r = identify(ctx.sqrt(3) - 1, 40, basis=())
    assert r.kind == "algebraic" and agree(evaluate_expression(r.relation, 40), ctx.sqrt(3) - 1, 38)


def test_identification_reports_and_serialises():
    ctx = ctx_at(60)
    r = identify(1 / (2 * ctx.catalan), 60)
    assert isinstance(r, Identification)
    assert repr(r).startswith("Identification(x = 1/(2*catalan); mobius")
    d = json.loads(json.dumps(r.to_dict()))
    assert d["relation"] == "1/(2*catalan)" and d["outcome"] == "found"
    assert r._repr_latex_() == "$x = " + d["latex"] + "$"
    miss = identify(ctx.pi, 60, basis=("e",))
    assert "none_below_bound" in repr(miss)
    json.dumps(miss.to_dict())


def test_bad_inputs_raise_workbench_errors():
    ctx = ctx_at(30)
    with pytest.raises(PrecisionError):
        identify(ctx.pi)  # a bare number needs its digits
    with pytest.raises(PrecisionError):
        identify(ctx.pi, 3)
    with pytest.raises(DiscoveryError):
        identify("pi", 30)  # text is a decimal number, never an expression to run
    with pytest.raises(DiscoveryError):
        identify(ctx.pi, 30, basis=("no_such_constant",))


def test_global_precision_is_untouched():
    before = (mpmath.mp.dps, mpmath.mp.prec)
    ctx = ctx_at(80)
    identify(6 / ctx.zeta(3), 70)
    identify(random_number(3), 60, basis=("pi", "e"), method="lll")
    find_integer_relation([ctx.mpf(1), ctx.pi, ctx.pi**2], 70)
    assert (mpmath.mp.dps, mpmath.mp.prec) == before


# --------------------------------------------------------------------------------------------
# The kernel
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["pslq", "lll"])
@pytest.mark.parametrize(
    "limit, basis",
    [("6/zeta(3)", "zeta3"), ("4/(3*pi-8)", "pi"), ("8/(2+3*zeta(2))", "zeta2"),
     ("1/(2*catalan)", "catalan"), ("2+lemniscate", "lemniscate"), ("(123*pi+457)/(311*pi-97)",
                                                                    "pi")],
)
def test_pslq_and_lll_agree_with_each_other_and_with_mpmath(limit, basis, method):
    x = evaluate_expression(limit, 70)
    K = evaluate_expression(basis, 70)
    result = mobius_relation(x, K, 60, method=method)
    assert result.found and result.method == method
    # mpmath's own PSLQ (on a local context) finds the same relation.
    ctx = ctx_at(60)
    vec = [ctx.mpf(x), ctx.mpf(x) * ctx.mpf(K), ctx.mpf(1), ctx.mpf(K)]
    reference = ctx.pslq(vec, maxcoeff=10**6, maxsteps=10**5)
    assert result.coefficients == normalize_relation(reference)
    m = mobius_from_coefficients(result.coefficients)
    assert agree(m.evaluate(ctx.mpf(K)), x, 55)


def test_pslq_finds_a_sixdimensional_relation():
    ctx = ctx_at(60)
    vals = [3 * ctx.zeta(3) - 2 * ctx.pi**2 / 7, 1, ctx.pi, ctx.pi**2, ctx.zeta(3), ctx.log(2)]
    for method in ("pslq", "lll"):
        r = find_integer_relation(vals, 60, method=method)
        assert r.coefficients == (7, 0, 0, 2, -21, 0)


def test_pslq_norm_bound_is_a_true_lower_bound():
    # x = (4567 + 1234 pi)/(8901 - 2345 pi): the relation has norm ~ 10^4.
    ctx = ctx_at(70)
    x = (4567 + 1234 * ctx.pi) / (8901 - 2345 * ctx.pi)
    true_norm = (4567**2 + 1234**2 + 8901**2 + 2345**2) ** 0.5
    small = mobius_relation(x, ctx.pi, 60, max_coeff=100)
    assert small.outcome is RelationOutcome.NONE_BELOW_BOUND
    assert 100 < small.norm_bound <= true_norm
    full = mobius_relation(x, ctx.pi, 60)
    assert full.found and full.norm_bound <= true_norm
    assert full.coefficients == (8901, -2345, -4567, -1234)


def test_lll_bound_when_nothing_is_found():
    ctx = ctx_at(60)
    r = find_integer_relation([ctx.mpf(1), ctx.e, ctx.pi, ctx.euler], 60, method="lll")
    assert r.outcome is RelationOutcome.NONE_BELOW_BOUND
    assert r.norm_bound > 10**7


def test_ran_out_of_steps_is_not_none_below_bound():
    ctx = ctx_at(60)
    x = (4567 + 1234 * ctx.pi) / (8901 - 2345 * ctx.pi)
    r = mobius_relation(x, ctx.pi, 60, max_steps=3)
    assert r.outcome is RelationOutcome.RAN_OUT_OF_STEPS
    assert r.coefficients is None


def test_polynomial_relations():
    ctx = ctx_at(50)
    assert find_polynomial(ctx.cbrt(2) + 1, 3, 50).coefficients == (3, -3, 3, -1)
    assert find_polynomial(ctx.pi, 3, 50).outcome is RelationOutcome.NONE_BELOW_BOUND


def test_zero_value_is_its_own_relation():
    r = find_integer_relation([0, mpmath.mpf(2)], 30)
    assert r.coefficients == (1, 0)


def test_kernel_input_errors():
    with pytest.raises(DiscoveryError):
        find_integer_relation([mpmath.mpf(1)], 30)
    with pytest.raises(PrecisionError):
        find_integer_relation([1, mpmath.mpf(2)], 0)
    with pytest.raises(DiscoveryError):
        find_integer_relation([1, mpmath.mpf(2)], 30, method="magic")
    with pytest.raises(DiscoveryError):
        normalize_relation([0, 0])


def test_normalisation_and_digits_used():
    assert normalize_relation([0, -4, 6, 2]) == (0, 2, -3, -1)
    assert digits_used([0, 10, -1]) == pytest.approx(3.0)
    m = mobius_from_coefficients((-2, 6, 8, 0))  # -2x + 6xK + 8 = 0: x = 4/(1 - 3K)
    assert m.coefficients == (-4, 0, -1, 3)
    assert m.evaluate(Fraction(1)) == Fraction(-2)
    assert mobius_from_coefficients((0, 0, 1, 1)) is None
    assert mobius_from_coefficients((3, 0, -6, 0)).rational == 2


@settings(max_examples=25, deadline=None)
@given(
    c=st.tuples(*[st.integers(-30, 30)] * 4).filter(lambda c: c[0] * c[3] - c[1] * c[2] != 0),
    method=st.sampled_from(["pslq", "lll"]),
)
def test_random_mobius_maps_of_catalan_are_recovered(c, method):
    c0, c1, c2, c3 = c
    ctx = ctx_at(60)
    K = ctx.catalan
    x = (c0 + c1 * K) / (c2 + c3 * K)
    m = find_mobius(x, K, 50, method=method)
    assert m is not None
    expected = mobius_from_coefficients((c2, c3, -c0, -c1))
    assert m.coefficients == expected.coefficients
