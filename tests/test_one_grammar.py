"""One grammar: numbers (scientific notation included) read the same everywhere, and the
printed form of a number parses back to the same value (issue "One grammar").

* :func:`solvers.expr.parse_expression` reads ``repr(float)``, ``format(x, ".17e")``,
  ``mpmath.nstr(x, 30)``, ``p/q`` and huge integers back to exactly the value an outside
  reference (Python's ``Fraction``/``decimal``) reads;
* the CMF entry parser (:func:`solvers.cmf.parse_entry`) is a use of :mod:`solvers.expr` with
  the axes as its variables; it agrees with the old ``ast``-based parser (kept below, verbatim
  but for its name) on every catalogue entry and on random entries;
* the program target parser (:func:`solvers.programs.parse_target`) reads scientific notation.
"""

from __future__ import annotations

import ast
import decimal
import json
import time
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

from solvers.cmf import CMF, parse_entry
from solvers.cmf_constructions import cmf_from_spec, pfq_cmf
from solvers.errors import ParseError
from solvers.expr import (
    MAX_EXPONENT,
    MAX_LENGTH,
    MAX_LITERAL_DIGITS,
    expression_to_text,
    parse_expression,
    parse_rational_function,
    polynomial_coefficients,
)
from solvers.programs import parse_target

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = json.loads((ROOT / "search" / "data" / "cmfs.json").read_text())  # package data
VECTORS = json.loads((ROOT / "data" / "reference" / "cmf_vectors.json").read_text())
x, y = sp.symbols("x y")

#: The spellings the issue names, and their exact values.
SPELLINGS = [
    ("1e-40", Fraction(1, 10**40)),
    ("1.5E3", Fraction(1500)),
    ("2.5e+7", Fraction(25_000_000)),
    (".5", Fraction(1, 2)),
    ("-0.0", Fraction(0)),
    ("1.", Fraction(1)),
    ("-1.25e-2", Fraction(-1, 80)),
]


def rational(q: Fraction) -> sp.Rational:
    return sp.Rational(q.numerator, q.denominator)


def decimal_fraction(text: str) -> Fraction:
    """The exact value of a decimal numeral, read by Python's decimal module."""
    with decimal.localcontext() as ctx:
        ctx.Emax, ctx.Emin = decimal.MAX_EMAX, decimal.MIN_EMIN
        return Fraction(decimal.Decimal(text))


def fast(f, *args, limit: float = 5.0):
    """``f(*args)``, checking that it returns (or raises) within ``limit`` seconds."""
    t = time.perf_counter()
    try:
        return f(*args)
    finally:
        assert time.perf_counter() - t < limit


# --------------------------------------------------------------------------- the old CMF parser
# solvers/cmf.py before it became a use of solvers/expr.py, verbatim but for its name.

_MAX_TEXT = 20_000
_MAX_DEPTH = 200
_MAX_EXPONENT = 64


def _old_parse_entry(text: str | int, names: Iterable[str]) -> sp.Expr:
    if isinstance(text, int) and not isinstance(text, bool):
        return sp.Integer(text)
    if not isinstance(text, str):
        raise ParseError(f"a matrix entry must be text or an integer, got {type(text).__name__}")
    if len(text) > _MAX_TEXT:
        raise ParseError(f"entry longer than {_MAX_TEXT} characters", text)
    symbols = {name: sp.Symbol(name) for name in names}
    try:
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        raise ParseError(f"cannot parse entry {text!r}: {exc.msg}", text, exc.offset) from None
    return _old_build(tree.body, symbols, text, 0)


def _old_build(node: ast.AST, symbols: dict[str, sp.Symbol], text: str, depth: int) -> sp.Expr:
    if depth > _MAX_DEPTH:
        raise ParseError("entry nested too deeply", text)
    pos = getattr(node, "col_offset", None)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, int) and not isinstance(node.value, bool):
            return sp.Integer(node.value)
        raise ParseError(f"only integer literals are allowed, got {node.value!r}", text, pos)
    if isinstance(node, ast.Name):
        if node.id in symbols:
            return symbols[node.id]
        known = ", ".join(sorted(symbols)) or "none"
        raise ParseError(f"unknown name {node.id!r} (allowed: {known})", text, pos)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _old_build(node.operand, symbols, text, depth + 1)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        left = _old_build(node.left, symbols, text, depth + 1)
        if isinstance(node.op, ast.Pow):
            exp = node.right
            if not (
                isinstance(exp, ast.Constant)
                and isinstance(exp.value, int)
                and not isinstance(exp.value, bool)
                and 0 <= exp.value <= _MAX_EXPONENT
            ):
                raise ParseError(
                    f"exponents must be integer literals in [0, {_MAX_EXPONENT}]", text, pos
                )
            return left**exp.value
        right = _old_build(node.right, symbols, text, depth + 1)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            if right == 0:
                raise ParseError("division by zero in a matrix entry", text, pos)
            return left / right
    raise ParseError(f"unsupported syntax {type(node).__name__} in a matrix entry", text, pos)


# --------------------------------------------------------------------------- CMF entries


def _catalogue_entries() -> list[tuple[str, str, tuple[str, ...]]]:
    """(where, text, names) of every entry text in search/data/cmfs.json and cmf_vectors.json."""
    out = []
    for name, spec in CATALOGUE["cmfs"].items():
        if spec["construction"] == "matrices":
            axes = tuple(spec["axes"])
            for axis, rows in spec["matrices"].items():
                flat = [e for row in rows for e in (row if isinstance(row, list) else [row])]
                out += [(f"{name}:M_{axis}", e, axes) for e in flat]
        elif spec["construction"] == "ffbar":
            out += [(f"{name}:{k}", spec[k], ("x", "y")) for k in ("f", "fbar")]
    for name, m in VECTORS["cmfs"].items():
        for k in ("M_X", "M_Y"):
            out += [(f"vectors:{name}:{k}", e, ("x", "y")) for e in m[k]]
    return out


CATALOGUE_ENTRIES = _catalogue_entries()


def test_the_catalogue_has_entries_to_compare():
    assert len(CATALOGUE_ENTRIES) >= 30
    assert {spec["construction"] for spec in CATALOGUE["cmfs"].values()} <= {
        "matrices", "ffbar", "pfq"}


@pytest.mark.parametrize("where, text, names", CATALOGUE_ENTRIES,
                         ids=[f"{w}:{t}" for w, t, _ in CATALOGUE_ENTRIES])
def test_every_catalogue_entry_parses_to_the_same_sympy_expression(where, text, names):
    new, old = parse_entry(text, names), _old_parse_entry(text, names)
    assert new == old  # structurally, not only mathematically
    assert sp.srepr(new) == sp.srepr(old)


@pytest.mark.parametrize("name", sorted(CATALOGUE["cmfs"]))
def test_every_catalogue_field_round_trips_through_its_printed_entries(name):
    field = cmf_from_spec(CATALOGUE["cmfs"][name], name=name)
    data = json.loads(json.dumps(field.to_dict()))
    again = CMF.from_dict(data)
    assert again.matrices == field.matrices and again.key == field.key
    for axis, rows in data["matrices"].items():
        for text in (e for row in rows for e in row):
            assert parse_entry(text, field.axes) == _old_parse_entry(text, field.axes), axis


def test_printed_pfq_fields_round_trip():
    field = pfq_cmf(4, 3, "-2/3")
    data = json.loads(json.dumps(field.to_dict()))
    again = CMF.from_dict(data)
    assert again.matrices == field.matrices and again.key == field.key


def test_long_printed_entries_still_parse():
    """Printed entries can be longer than the expression parser's MAX_LENGTH (those of a 6F5
    field are): the CMF parser keeps its own length cap (20000 characters)."""
    expr = sp.expand((3 * x - 2 * y + sp.Rational(5, 7)) ** 14) / (x + 1) ** 3
    text = sp.sstr(expr)
    assert MAX_LENGTH < len(text) < 20_000
    assert fast(parse_entry, text, ["x", "y"]) == _old_parse_entry(text, ["x", "y"])
    assert sp.cancel(parse_entry(text, ["x", "y"]) - expr) == 0


def test_entries_read_exact_decimals_and_scientific_notation():
    assert parse_entry("1.5*x", ["x"]) == sp.Rational(3, 2) * x
    assert parse_entry("1e-3*x + 2.5E+1*y", ["x", "y"]) == x / 1000 + 25 * y
    assert parse_entry(".5x^2", ["x"]) == x**2 / 2
    assert parse_entry("x^2e0", ["x"]) == x**2  # an integer-valued literal exponent
    for text, value in SPELLINGS:
        assert parse_entry(f"{text}*x", ["x"]) == rational(value) * x
        if value:
            assert parse_entry(f"x/{text}", ["x"]) == x / rational(value)
        else:
            with pytest.raises(ParseError, match="division by zero"):
                parse_entry(f"x/{text}", ["x"])


def test_entries_keep_the_grammar_of_the_expression_parser():
    assert parse_entry("2x(x+1) - 3y", ["x", "y"]) == 2 * x * (x + 1) - 3 * y
    assert parse_entry("(x+1)(x-1)", ["x"]) == (x + 1) * (x - 1)
    assert parse_entry("x**2 + x^3", ["x"]) == x**2 + x**3
    assert parse_entry(7, ["x"]) == 7


@pytest.mark.parametrize("text, position, words", [
    ("__import__('os').system('true')", 11, "unexpected character"),
    ("x.__class__", 1, "unexpected character"),
    ("().__class__", 2, "unexpected character"),
    ("()", 1, "unexpected ')'"),
    ("sin(x)", 0, "sin(...) is not allowed"),
    ("x + gamma(y)", 4, "gamma(...) is not allowed"),
    ("pi*x", 0, "the constant 'pi' is not allowed"),
    ("2e", 1, "the constant 'e' is not allowed"),
    ("z + 1", 0, "unknown name 'z' (allowed: x, y)"),
    ("x**y", 3, "exponents must be integer literals in [0, 64]"),
    ("x^100", 2, "exponents must be integer literals in [0, 64]"),
    ("x**-1", 3, "exponents must be integer literals in [0, 64]"),
    ("x^(1/2)", 3, "exponents must be integer literals in [0, 64]"),
    ("x^1.5", 2, "exponents must be integer literals in [0, 64]"),
    ("x / 0", 4, "division by zero"),
    ("x / (y - y)", 5, "division by zero"),
    ("x +", 3, "unexpected end of input"),
    ("lambda: 1", 6, "unexpected character"),
    ("[x]", 0, "unexpected character"),
    ("x if y else z", 2, "unknown name 'if'"),
    ("x if y else 1", 12, "missing operator before a number"),
    ("1e1001*x", 0, "exponent of a number literal"),
    ("   ", 0, "empty input"),
])
def test_entries_reject_everything_but_rational_functions_with_a_position(text, position,
                                                                           words):
    with pytest.raises(ParseError) as info:
        parse_entry(text, ["x", "y"])
    assert info.value.position == position, str(info.value)
    assert words in str(info.value)


def test_entry_caps_give_clean_errors_fast():
    with pytest.raises(ParseError, match="longer than 20000"):
        fast(parse_entry, "x+" * 10_001, ["x"])
    # Beyond MAX_LENGTH, an exponent too long for int() is still a ParseError.
    with pytest.raises(ParseError, match="exponent of a number literal"):
        fast(parse_entry, "1e" + "9" * 5000, ["x"])
    with pytest.raises(ParseError, match="longer than 1000 digits"):
        fast(parse_entry, "1" * 5000 + "*x", ["x"])
    with pytest.raises(ParseError, match="nesting deeper"):
        fast(parse_entry, "(" * 60 + "x" + ")" * 60, ["x"])
    with pytest.raises(ParseError, match="bad variable name"):
        parse_entry("x", ["x y"])
    with pytest.raises(ParseError):
        parse_entry(1.5, ["x"])  # not text
    assert fast(parse_entry, "+".join(["x"] * 9000), ["x"]) == 9000 * x


# Random entries in the syntax both parsers read (integer literals, x, y, + - * /, ** k).
_atoms = st.one_of(st.integers(0, 40).map(str), st.sampled_from(["x", "y"]))


def _combine(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/"]), children).map(
            lambda t: f"{t[0]}{t[1]}{t[2]}"),
        children.map(lambda c: f"({c})"),
        children.map(lambda c: f"-{c}"),
        st.tuples(children, st.integers(0, 3)).map(lambda t: f"({t[0]})**{t[1]}"),
        st.tuples(children, st.integers(0, 3)).map(lambda t: f"({t[0]})^{t[1]}"),
    )


@settings(max_examples=300, deadline=None)
@given(st.recursive(_atoms, _combine, max_leaves=12))
def test_random_entries_agree_with_the_old_parser(text):
    try:
        old = _old_parse_entry(text, ["x", "y"])
    except ParseError:
        with pytest.raises(ParseError):
            parse_entry(text, ["x", "y"])
        return
    new = parse_entry(text, ["x", "y"])
    assert sp.cancel(new - old) == 0
    assert new == old


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-10**30, 10**30), min_size=1, max_size=6),
       st.lists(st.integers(0, 5), min_size=1, max_size=6), st.integers(1, 10**20))
def test_printed_entries_read_back_like_the_old_parser(coeffs, exps, den):
    expr = sum(c * x**e * (y + 1) ** (i % 3) / (den * (x + 2) ** (i % 2))
               for i, (c, e) in enumerate(zip(coeffs, exps, strict=False)))
    text = sp.sstr(expr)
    assert parse_entry(text, ["x", "y"]) == _old_parse_entry(text, ["x", "y"])
    assert sp.cancel(parse_entry(text, ["x", "y"]) - expr) == 0


def test_the_rational_function_parser_is_a_use_of_the_expression_parser():
    text = "3(x+1)^2/2 - 2.5e-1 y"
    assert parse_rational_function(text, ["x", "y"]) == parse_expression(text, ["x", "y"])


# --------------------------------------------------------------------------- program targets


@pytest.mark.parametrize("text, expected", [
    ("exp(-x^2/2)*1e-3", sp.exp(-x**2 / 2) / 1000),
    ("x*2.5e+1", 25 * x),
    ("1.5E3*x + .5", 1500 * x + sp.Rational(1, 2)),
    ("x*-0.0 + 1e-40", sp.Rational(1, 10**40)),
    ("sin(1e-3 x)", sp.sin(x / 1000)),
    ("x^2e0", x**2),
])
def test_program_targets_read_scientific_notation(text, expected):
    target = parse_target(text)
    assert sp.simplify(target.expr - expected) == 0
    xs = np.array([0.0, 0.5, 1.0])
    want = np.array([float(expected.subs(x, v)) for v in xs])
    assert np.allclose(target.evaluate64(xs), want, rtol=1e-15, atol=0)


def test_program_targets_reject_a_literal_beyond_the_caps():
    with pytest.raises(ParseError, match="exponent of a number literal"):
        parse_target("x*1e1001")
    with pytest.raises(ParseError, match="missing operator before a number"):
        parse_target("x*1.2.3")
    assert parse_target("x*2e").expr == 2 * sp.E * x  # no exponent digits: 2 times e


# --------------------------------------------------------------------------- numbers everywhere


@pytest.mark.parametrize("text, value", SPELLINGS)
def test_the_issue_spellings_are_numbers_everywhere(text, value):
    q = rational(value)
    assert parse_expression(text) == q
    assert parse_expression(f"({text})", ["x"]) == q
    assert parse_rational_function(text, ["x"]) == q
    assert parse_entry(text, ["x"]) == q
    assert parse_target(f"x + {text}").expr == x + q
    if value.denominator == 1:
        assert polynomial_coefficients(f"{text}*n + {text}") == (int(value),) * (2 if value else 1)


_FLOAT_EDGES = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308,
                1.7976931348623157e308, -1.7976931348623157e308, 0.1, 1 / 3, 1e-40, 1e22,
                1e23, 9007199254740993.0, 123456789012345680.0]


def _with_edges(test):
    for v in _FLOAT_EDGES:
        test = example(v)(test)
    return test


@settings(max_examples=500, deadline=None)
@given(st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-2.2250738585072014e-308, max_value=2.2250738585072014e-308),
    st.builds(lambda m, e: m * 2.0**e, st.floats(0.5, 1.0), st.integers(-1074, 1023)),
))
@_with_edges
def test_printed_floats_parse_back_exactly(v):
    """``repr``, ``.17e``, ``.15g`` and ``mpmath.nstr(.., 30)`` of a float parse to exactly
    the decimal they spell (Python's ``Fraction``/``decimal`` as the reference)."""
    texts = {
        repr(v): Fraction(repr(v)),
        format(v, ".17e"): Fraction(format(v, ".17e")),
        format(v, ".15g"): Fraction(format(v, ".15g")),
        mpmath.nstr(mpmath.mpf(v), 30): decimal_fraction(mpmath.nstr(mpmath.mpf(v), 30)),
        str(mpmath.mpf(v)): decimal_fraction(str(mpmath.mpf(v))),
    }
    assert float(Fraction(repr(v))) == v  # repr round-trips (-0.0 is the rational 0)
    assert float(Fraction(format(v, ".17e"))) == v
    for text, value in texts.items():
        parsed = parse_expression(text)
        assert parsed == rational(value), text
        printed = expression_to_text(parsed)
        assert parse_expression(printed) == parsed, (text, printed)
    q = parse_expression(repr(v))
    # (Fraction's float() rounds correctly; SymPy's float(Rational) can be an ulp off for
    # subnormals, e.g. 8.09647833351477e-309.)
    assert float(Fraction(int(q.p), int(q.q))) == v


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 2**300), st.integers(-2950, 2950), st.sampled_from([1, -1]),
       st.sampled_from([15, 30, 50]))
def test_printed_multiprecision_reals_parse_back_exactly(man, exp2, sign, digits):
    """``mpmath.nstr`` of a 300-bit real anywhere in 10^(+-900): parsed exactly."""
    ctx = mpmath.MPContext()
    ctx.prec = 300
    v = sign * ctx.ldexp(ctx.mpf(man), exp2 - man.bit_length())
    text = mpmath.nstr(v, digits)
    parsed = parse_expression(text)
    assert parsed == rational(decimal_fraction(text)), text
    assert parse_expression(expression_to_text(parsed)) == parsed


@settings(max_examples=200, deadline=None)
@given(st.integers(-(10**990), 10**990), st.integers(1, 10**990))
@example(-(10**990) + 1, 10**990 - 1)
@example(0, 7)
def test_printed_big_rationals_parse_back_exactly(p, q):
    r = Fraction(p, q)
    for text in (f"{r.numerator}/{r.denominator}", str(r)):
        parsed = parse_expression(text)
        assert parsed == rational(r)
        assert parse_expression(expression_to_text(parsed)) == parsed


@settings(max_examples=200, deadline=None)
@given(st.integers(-(10**MAX_LITERAL_DIGITS - 1), 10**MAX_LITERAL_DIGITS - 1))
@example(10**MAX_LITERAL_DIGITS - 1)
@example(-(10**MAX_LITERAL_DIGITS - 1))
def test_printed_huge_integers_parse_back_exactly(k):
    text = str(k)
    assert parse_expression(text) == sp.Integer(k)
    assert expression_to_text(parse_expression(text)) == text
    assert parse_entry(text, ["x"]) == sp.Integer(k)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**40), st.integers(0, 12), st.integers(-MAX_LITERAL_DIGITS,
                                                                  MAX_LITERAL_DIGITS),
       st.sampled_from(["e", "E"]), st.sampled_from(["", "+"]))
def test_any_literal_within_the_caps_is_exact(whole, frac_digits, exponent, letter, plus):
    digits = str(whole)
    text = (f"{digits[:-frac_digits] or '0'}.{digits[-frac_digits:]}" if frac_digits
            and frac_digits <= len(digits) else digits)
    text += f"{letter}{plus if exponent >= 0 else ''}{exponent}"
    assert parse_expression(text) == rational(Fraction(text))


# --------------------------------------------------------------------------- beyond the caps


@pytest.mark.parametrize("text, words", [
    ("1" * MAX_LITERAL_DIGITS + "1", "number literal longer than"),
    ("0." + "1" * MAX_LITERAL_DIGITS, "number literal longer than"),
    (f"1e{MAX_LITERAL_DIGITS + 1}", "exponent of a number literal"),
    (f"1e-{MAX_LITERAL_DIGITS + 1}", "exponent of a number literal"),
    (f"2.5E+{MAX_LITERAL_DIGITS + 1}", "exponent of a number literal"),
    ("1e" + "9" * (MAX_LENGTH - 2), "exponent of a number literal"),
    ("1e-" + "9" * (MAX_LENGTH - 3), "exponent of a number literal"),
    ("1" * (MAX_LENGTH + 1), "input longer than"),
    ("1" * 1001 + "/3", "number literal longer than"),
    (f"(1e{MAX_LITERAL_DIGITS})^{MAX_EXPONENT}", "larger than"),
    (f"10^{MAX_EXPONENT + 1}", "beyond the cap"),
])
def test_beyond_the_caps_is_a_clean_parse_error_fast(text, words):
    with pytest.raises(ParseError) as info:
        fast(parse_expression, text)
    assert words in str(info.value)
    assert info.value.position is not None


def test_at_the_caps_literals_still_parse():
    assert parse_expression("9" * MAX_LITERAL_DIGITS) == 10**MAX_LITERAL_DIGITS - 1
    assert parse_expression(f"1e{MAX_LITERAL_DIGITS}") == sp.Integer(10) ** MAX_LITERAL_DIGITS
    assert parse_expression(f"1e-{MAX_LITERAL_DIGITS}") == sp.Rational(1, 10**MAX_LITERAL_DIGITS)
    text = "0." + "3" * (MAX_LITERAL_DIGITS - 1) + f"e-{MAX_LITERAL_DIGITS}"
    assert fast(parse_expression, text) == rational(Fraction(text))
