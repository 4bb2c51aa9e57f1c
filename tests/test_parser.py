"""The safe parser: polynomials, constant expressions, round trips, caps and hostile input."""

from __future__ import annotations

import os
import time

import mpmath
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvers.constants import EvaluationError, local_context
from solvers.errors import DiscoveryError, ParseError, PrecisionError
from solvers.expr import (
    constant_expr,
    constants_in,
    evaluate_expression,
    expression_latex,
    expression_to_text,
    parse_expression,
    parse_polynomial,
    polynomial_coefficients,
)

try:
    from conftest import load_json, load_pcf_rows
except ImportError:  # pragma: no cover - run outside the rootdir conftest
    import csv
    import json
    from pathlib import Path

    _REF = Path(__file__).resolve().parents[1] / "data" / "reference"

    def load_pcf_rows():
        with open(_REF / "pcf_formulas.csv", newline="") as f:
            return list(csv.DictReader(f))

    def load_json(name):
        return json.loads((_REF / name).read_text())


PCF_ROWS = load_pcf_rows()
ESMA = load_json("esma_patterns.json")
n = sympy.Symbol("n")


@pytest.fixture(autouse=True)
def global_precision_untouched():
    before = (mpmath.mp.prec, mpmath.mp.dps)
    yield
    assert (mpmath.mp.prec, mpmath.mp.dps) == before


# --- polynomials ----------------------------------------------------------------------------

KNOWN_POLYNOMIALS = [
    ("34n^3+51n^2+27n+5", (5, 27, 51, 34)),
    ("-4n(2n-1)", (0, 4, -8)),
    ("(2n+1)(3n^2+3n+1)", (1, 5, 9, 6)),
    ("n^2", (0, 0, 1)),
    ("2n^5(2n-1)", (0, 0, 0, 0, 0, -2, 4)),
    ("n^3+(n+1)^3", (1, 3, 3, 2)),
    ("-2n^2-n+1", (1, -1, -2)),
    ("(2n-1)^4", (1, -8, 24, -32, 16)),
    ("8n", (0, 8)),
    ("-n^6", (0, 0, 0, 0, 0, 0, -1)),
    ("-2n^2-3n+2", (2, -3, -2)),
    ("1", (1,)),
    ("0", (0,)),
    ("n-n", (0,)),
    ("n**2 + 2*n", (0, 2, 1)),
    ("3 n ^ 2", (0, 0, 3)),
    ("(n+1)(n-1)", (-1, 0, 1)),
    ("n(n+1)(n+2)/6*6", (0, 2, 3, 1)),
    ("-(n)", (0, -1)),
    ("--n", (0, 1)),
    ("2^3n", (0, 8)),
    ("(n^2)^3", (0, 0, 0, 0, 0, 0, 1)),
    ("n^2^3", (0, 0, 0, 0, 0, 0, 0, 0, 1)),  # right associative: n^(2^3)
    ("-n^2", (0, 0, -1)),  # -(n^2)
    ("2n^2/2", (0, 0, 1)),
    ("n^0", (1,)),
    ("(n+1)^64 - (n+1)^64", (0,)),
    ("100000000000000000000000000000n", (0, 10**29)),
    ("4n^2", (0, 0, 4)),
]


@pytest.mark.parametrize(("text", "coeffs"), KNOWN_POLYNOMIALS)
def test_known_polynomials_have_exact_coefficients(text, coeffs):
    assert polynomial_coefficients(text) == coeffs
    poly = parse_polynomial(text)
    assert poly.domain == sympy.ZZ and poly.gens == (n,)
    assert tuple(reversed(poly.all_coeffs())) == coeffs


def test_other_variable_and_integer_input():
    assert polynomial_coefficients("k^2 - 1", var="k") == (-1, 0, 1)
    assert polynomial_coefficients(7) == (7,)
    assert polynomial_coefficients(-(10**5000)) == (-(10**5000),)  # no str() of a huge int
    with pytest.raises(ParseError):
        polynomial_coefficients("n", var="k")


@pytest.mark.parametrize(
    "text",
    ["1/n", "n^(1/2)", "zeta(3)*n", "n/2", "n^-1", "2^n", "e*n", "pi", "sin(n)", "n^65",
     "(n^2+1)^33", "n^40*n^30", "m", "n2", "", "   ", "n^(n)", "(n^2+1)/(n+1)", "1/0", "0^-1",
     "n^1001/n^1000", "10^20000"],
)
def test_non_polynomials_raise_parse_error(text):
    with pytest.raises(ParseError):
        polynomial_coefficients(text)


def test_polynomial_error_names_the_problem_and_position():
    with pytest.raises(ParseError, match="integer coefficients") as info:
        polynomial_coefficients("n + zeta(3)*n")
    assert info.value.position == 4 and info.value.text == "n + zeta(3)*n"
    with pytest.raises(ParseError, match="degree 65"):
        polynomial_coefficients("n^65")
    with pytest.raises(ParseError, match="coefficient of n\\^1 is 1/2"):
        polynomial_coefficients("n/2")


@pytest.mark.parametrize("row", PCF_ROWS, ids=[r["name"] for r in PCF_ROWS])
def test_every_reference_pcf_column_is_an_integer_polynomial(row):
    for text in (row["a"], row["b"]):
        coeffs = polynomial_coefficients(text)
        assert all(isinstance(c, int) for c in coeffs) and (coeffs == (0,) or coeffs[-1] != 0)
        # an independent route: the expression builder, evaluated at integers
        expr = parse_expression(text, variables=["n"])
        for k in (0, 1, 2, 7, -3):
            assert expr.subs(n, k) == sum(c * k**i for i, c in enumerate(coeffs))


# --- constant expressions -------------------------------------------------------------------


def _significant_digits(text: str) -> int:
    return len(text.replace(".", "").lstrip("0"))


@pytest.mark.parametrize("row", PCF_ROWS, ids=[r["name"] for r in PCF_ROWS])
def test_every_reference_limit_evaluates_to_the_listed_value(row):
    digits = _significant_digits(row["value"]) - 2
    assert digits >= 25
    value = evaluate_expression(row["limit"], digits + 10)
    ctx = local_context(dps=digits + 20)
    reference = ctx.mpf(row["value"])
    assert abs(value - reference) <= abs(reference) * ctx.mpf(10) ** (1 - digits)


def _signed_expansion(x, signs, count, ctx):
    terms = []
    for i in range(count):
        s = signs[i % len(signs)]
        a = int(ctx.floor(x)) if s > 0 else int(ctx.ceil(x))
        terms.append(a)
        x = s / (x - a)
    return terms


@pytest.mark.parametrize("pattern", ESMA, ids=[f"{p['constant']} {p['signs']}" for p in ESMA])
def test_every_esma_constant_evaluates_and_reproduces_its_signed_expansion(pattern):
    ctx = local_context(dps=80)
    x = ctx.mpf(evaluate_expression(pattern["constant"], 80))
    count = min(16, len(pattern["first_terms"]))
    assert _signed_expansion(x, pattern["signs"], count, ctx) == pattern["first_terms"][:count]


EXPRESSIONS = {
    "6/zeta(3)": 6 / sympy.zeta(3),
    "(4^(1/3)+1)/(4^(1/3)-1)": (4 ** sympy.Rational(1, 3) + 1) / (4 ** sympy.Rational(1, 3) - 1),
    "besseli(1,2)/besseli(0,2)": sympy.besseli(1, 2) / sympy.besseli(0, 2),
    "e^2": sympy.exp(2),
    "1/(e-2)": 1 / (sympy.E - 2),
    "1/catalan-1": 1 / sympy.Catalan - 1,
    "4/(3*pi-8)": 4 / (3 * sympy.pi - 8),
    "(1+sqrt(5))/2": (1 + sympy.sqrt(5)) / 2,
    "coth(1)": sympy.coth(1),
    "2pi": 2 * sympy.pi,
    "3(e-1)": 3 * (sympy.E - 1),
    "2 pi e": 2 * sympy.pi * sympy.E,
    "1/2pi": sympy.pi / 2,  # (1/2)*pi, as SymPy and Mathematica read it
    "2^3^2": sympy.Integer(512),
    "2^-1": sympy.Rational(1, 2),
    "-2^2": sympy.Integer(-4),
    "1.25": sympy.Rational(5, 4),
    "euler_gamma + golden": sympy.EulerGamma + sympy.GoldenRatio,
    "zeta3 - apery": sympy.Integer(0),
    "log2 + ln(3)": sympy.log(2) + sympy.log(3),
    "5/zeta(2)": 5 / sympy.zeta(2, evaluate=False),  # kept as zeta(2), not 30/pi^2
    "e**pi": sympy.exp(sympy.pi),
}


@pytest.mark.parametrize(("text", "expected"), list(EXPRESSIONS.items()))
def test_constant_expressions_build_the_expected_sympy_objects(text, expected):
    assert parse_expression(text) == expected


def test_named_constants_follow_one_scheme():
    assert parse_expression("e") is sympy.E and parse_expression("pi") is sympy.pi
    assert parse_expression("zeta(3)") == parse_expression("zeta3") == constant_expr("apery")
    assert expression_to_text(parse_expression("apery")) == "zeta(3)"
    lem = parse_expression("lemniscate")
    assert isinstance(lem, sympy.Symbol) and lem.is_positive
    assert constants_in("2+lemniscate") == ("lemniscate",)
    assert constants_in("6/zeta(3) + 1/sqrt(2) - pi") == ("pi", "sqrt2", "zeta3")


ROUND_TRIP = (
    list(EXPRESSIONS)
    + [r["limit"] for r in PCF_ROWS]
    + sorted({p["constant"] for p in ESMA})
    + ["khinchin^2 - glaisher", "agm(1, sqrt(2))", "ei(1) + erf(1/2) - erfc(2)", "abs(-pi)",
       "polylog(2, 1/2)", "log2(8)", "gamma(1/4)^2/(2*pi)^(3/2)", "sin(1)^2 + cos(1)^2",
       "tanh(1/3) + atan(2) + sinh(1) + cosh(1)", "besselj(0, 1)", "cbrt(2) + sqrt(3)"]
)


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_round_trip_text_expr_text_expr(text):
    expr = parse_expression(text)
    printed = expression_to_text(expr)
    again = parse_expression(printed)
    assert again == expr, (text, printed)
    assert expression_to_text(again) == printed
    assert expression_latex(expr)


def test_evaluation_agrees_for_equal_forms_and_with_sympy_built_objects():
    a = evaluate_expression("gamma(1/4)^2/(2*pi)^(3/2)", 40)
    b = evaluate_expression("gauss", 40)
    assert abs(a - b) < mpmath.mpf(10) ** -39
    built = sympy.pi * sympy.Symbol("gauss")  # a plain symbol named after a constant
    c = evaluate_expression(built, 40)
    d = evaluate_expression("lemniscate", 40)
    assert abs(c - d) < mpmath.mpf(10) ** -38
    assert evaluate_expression("log2(8)", 30) == 3
    assert str(evaluate_expression("exp(100) - (exp(100) - 1/3)", 50)) == "0." + "3" * 50


def test_evaluation_survives_catastrophic_cancellation():
    # pi minus its first 36 digits: 4.19716939937510582097494459230781640628620899...e-36
    v = evaluate_expression("pi - 314159265358979323846264338327950288/10^35", 30)
    assert mpmath.nstr(v, 30) == "4.19716939937510582097494459231e-36"


def test_evaluation_errors():
    with pytest.raises(PrecisionError):
        evaluate_expression("sin(pi)", 20)  # exactly zero: cannot be pinned down relatively
    with pytest.raises(EvaluationError, match="not finite"):
        evaluate_expression("log(0)", 20)
    with pytest.raises(EvaluationError, match="not real"):
        evaluate_expression("(-8)^(1/3)", 20)  # the principal root, as in SymPy
    with pytest.raises(EvaluationError, match="depends on 'n'"):
        evaluate_expression(parse_expression("n + 1", variables=["n"]), 20)
    with pytest.raises(EvaluationError):
        evaluate_expression("zeta(1)", 20)
    with pytest.raises(EvaluationError, match="larger than"):
        evaluate_expression("(e^1000)^1000", 20)
    with pytest.raises(EvaluationError, match="range"):
        evaluate_expression("besselj(10^100, 10^100)", 20)
    with pytest.raises(ValueError):
        evaluate_expression("pi", 0)


def test_latex_uses_catalogue_notation():
    assert expression_latex("6/zeta(3)") == r"\frac{6}{\zeta\left(3\right)}"
    assert expression_latex("2+lemniscate") == r"\varpi + 2"
    assert "K_0" in expression_latex("khinchin")


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("2+*3", 2, "unexpected"),
        ("sin(1", 5, "missing"),
        ("foo", 0, "unknown name 'foo'"),
        ("foo(1)", 0, "unknown function 'foo'"),
        ("besseli(1)", 0, "takes 2 arguments"),
        ("sin(1, 2)", 0, "takes 1 argument"),
        ("1 + 2 3", 6, "missing operator"),
        ("(1+2))", 5, "unmatched"),
        ("catalna", 0, "did you mean 'catalan'"),
        ("sin", 0, "is a function"),
        ("2 & 3", 2, "unexpected character"),
        ("n + 1", 0, "no variables"),
    ],
)
def test_parse_errors_name_the_position_and_the_problem(text, position, message):
    with pytest.raises(ParseError, match=message) as info:
        parse_expression(text)
    assert info.value.position == position
    assert f"position {position}" in str(info.value)


# --- hostile input --------------------------------------------------------------------------

HOSTILE = [
    "__import__('os').system('echo hi')",
    "__import__(\"os\").system(\"touch SENTINEL\")",
    "().__class__.__base__.__subclasses__()",
    "lambda: 1",
    "x.__class__",
    "open('f')",
    "[1,2]",
    "{1:2}",
    '"str"',
    "9^9^9^9",
    "10^10^10",
    "2**100000",
    "(" * 10000 + "1" + ")" * 10000,
    "(" * 60 + "1" + ")" * 60,
    "x" * 1_000_000,
    "n if n else n",
    "f'{1}'",
    "(y := 1)",
    "1 < 2",
    "1 == 1",
    "a[0]",
    "besseli(nu=1, x=2)",
    "sin(*x)",
    "sin(**x)",
    "undefined_name",
    "system(1)",
    "sin(1, 2)",
    "exec",
    "eval(1)",
    "1; 2",
    "1\\\n+2",
    "e^e^e^e",
    "exp(exp(exp(exp(10))))",
    "2^" * 60 + "2",
    "1+" * 999 + "1",
    "9" * 1001,
    "sqrt(" + "9" * 200 + ")*sqrt(" + "7" * 200 + ")",
    "gamma(10^1000)^(10^1000)",
    "\x00",
    "１",  # a fullwidth digit
    "n\u200b",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_raises_parse_error_quickly_and_runs_nothing(text, monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a) or 0)
    monkeypatch.chdir(tmp_path)
    for parse in (parse_expression, polynomial_coefficients):
        start = time.perf_counter()
        with pytest.raises(ParseError):
            parse(text)
        assert time.perf_counter() - start < 0.5
    assert calls == []
    assert not (tmp_path / "SENTINEL").exists()


def test_parse_error_is_a_value_error_and_a_discovery_error():
    with pytest.raises(ValueError):
        parse_expression("1+")
    with pytest.raises(DiscoveryError):
        parse_expression("1+")
    with pytest.raises(ParseError):
        parse_expression(42)  # type: ignore[arg-type]


# --- property tests -------------------------------------------------------------------------


@settings(max_examples=300, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_random_text_only_ever_raises_parse_error(text):
    for parse in (parse_expression, polynomial_coefficients):
        try:
            parse(text)
        except ParseError:
            pass


GRAMMAR_ALPHABET = "0123456789n+-*/^() .,epizta^^()()nnsqrgmlob"


@settings(max_examples=300, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=GRAMMAR_ALPHABET, max_size=60))
def test_grammar_like_text_only_ever_raises_parse_error(text):
    try:
        polynomial_coefficients(text)
    except ParseError:
        pass
    try:
        expr = parse_expression(text)
    except ParseError:
        return
    assert parse_expression(expression_to_text(expr)) == expr


def _human(coeffs: list[int], style: dict) -> str:
    """A polynomial as people write it: 34n^3+51n^2-27n+5, -n^2, n, 0."""
    power = "**" if style["stars"] else "^"
    times = "*" if style["times"] else ""
    sp = " " if style["spaces"] else ""
    parts = []
    for k in range(len(coeffs) - 1, -1, -1):
        c = coeffs[k]
        if c == 0:
            continue
        sign = "-" if c < 0 else "+"
        mag = abs(c)
        if k == 0:
            body = str(mag)
        else:
            var = "n" if k == 1 else f"n{power}{k}"
            body = var if mag == 1 else f"{mag}{times}{var}"
        parts.append((sign, body))
    if not parts:
        return "0"
    first_sign, first = parts[0]
    text = ("-" if first_sign == "-" else "") + first
    for sign, body in parts[1:]:
        text += f"{sp}{sign}{sp}{body}"
    return text


def _strip(coeffs):
    coeffs = list(coeffs)
    while len(coeffs) > 1 and coeffs[-1] == 0:
        coeffs.pop()
    return tuple(coeffs) if coeffs else (0,)


STYLE = st.fixed_dictionaries({"stars": st.booleans(), "times": st.booleans(),
                               "spaces": st.booleans()})


@settings(max_examples=200, deadline=1000)
@given(st.lists(st.integers(-(10**30), 10**30), min_size=1, max_size=12), STYLE)
def test_random_polynomials_in_human_notation_parse_back(coeffs, style):
    assert polynomial_coefficients(_human(coeffs, style)) == _strip(coeffs)


@settings(max_examples=200, deadline=1000)
@given(st.lists(st.tuples(st.integers(-20, 20), st.integers(-20, 20)), min_size=1, max_size=6))
def test_products_of_linear_factors_expand_exactly(factors):
    expected = [1]
    text = ""
    for a, b in factors:
        expected = [
            (expected[i] * b if i < len(expected) else 0)
            + (expected[i - 1] * a if 0 < i <= len(expected) else 0)
            for i in range(len(expected) + 1)
        ]
        text += f"({_human([b, a], {'stars': False, 'times': False, 'spaces': False})})"
    assert polynomial_coefficients(text) == _strip(expected)
