"""Programs: representation, canonical form, evaluators (numba float64/float32, mpmath),
exports, and the error measurement against the reference vectors."""

from __future__ import annotations

import math
import shutil
import subprocess
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from solvers.errors import ParseError
from solvers.programs import (
    Node,
    Program,
    ProgramBuilder,
    evaluate,
    evaluate_batch_max_error,
    evaluate_jacobian,
    fma32,
    measure_error,
    measure_float64_error,
    parse_target,
    program_from_dict,
)

try:
    from conftest import load_json
except ImportError:  # pragma: no cover
    import json
    from pathlib import Path

    def load_json(name):
        return json.loads((Path(__file__).parents[1] / "data" / "reference" / name).read_text())


B1 = load_json("approximation_benchmarks.json")["B1"]
REG = B1["evaluator_regression_program"]


def regression_program() -> Program:
    c = REG["constants"]

    def f(x):
        u = x + c["c3"] / x
        z = c["c4"] / (c["c2"] + u + c["c1"] / u) - c["c5"]
        z2 = z * z
        z4 = z2 * z2
        return z4 * z4

    return Program.build(f)


def test_regression_program_has_ten_operations():
    assert regression_program().cost == 10
    assert regression_program().canonical().cost == 10


def test_regression_program_exact_error_is_3_55e_15():
    m = measure_error(regression_program(), "2^x", (0, 1), grid=20000, dps=50)
    assert f"{m.max_error:.2e}" == f"{REG['max_relative_error_exact']:.2e}" == "3.55e-15"
    assert m.grid >= 20000 and m.dps >= 50


def test_regression_program_float64_error_is_4_98e_15():
    m = measure_float64_error(regression_program(), "2^x", (0, 1), points=2_000_001)
    assert f"{m.max_error:.2e}" == f"{REG['max_relative_error_float64_eval']:.2e}"


def test_local_maximisation_beats_the_grid():
    # the relative error of a quadratic peaks between the points of a coarse grid;
    # golden-section search finds the exact maximum (a root of the derivative)
    p = Program.build(lambda x: 1 + x * (0.6951 + x * 0.3049))
    coarse = measure_error(p, "2^x", (0, 1), grid=7, refine=0)
    fine = measure_error(p, "2^x", (0, 1), grid=7, refine=4)
    assert fine.max_error > coarse.max_error
    ctx = mpmath.MPContext()
    ctx.dps = 30
    a, b = ctx.mpf(0.6951), ctx.mpf(0.3049)

    def err(s):
        return (1 + s * (a + s * b)) / ctx.power(2, s) - 1

    t = ctx.findroot(lambda s: ctx.diff(err, s), 0.6)
    assert fine.max_error == pytest.approx(float(err(t)), rel=1e-9)
    assert fine.argmax == pytest.approx(float(t), rel=1e-4)


def test_canonical_form_is_invariant_under_operand_order_and_duplication():
    p = Program.build(lambda x: (x * 3.0 + 1.0) * (x * 3.0 + 1.0))
    q = Program.build(lambda x: (1.0 + 3.0 * x) * (1.0 + x * 3.0))
    assert p.canonical() == q.canonical()
    assert p.key == q.key
    assert p.canonical().cost == 3  # the shared subexpression is computed once


def test_constant_subexpressions_are_folded_and_free():
    p = Program.build(lambda x: x * (2.0 * 3.0) + (1.0 / 4.0))
    assert p.cost == 2
    assert sorted(p.canonical().constants) == [0.25, 6.0]


CHAINS = [
    (lambda x: (x + 3.0) - 5.0, 1),
    (lambda x: 150.0 / (150.0 - (x + 140.0)), 2),
    (lambda x: 2.0 / (3.0 / (x + 1.0)), 2),
    (lambda x: x * (((x * 2.0) / 3.0) * 4.0 + 1.0) - 7.0 + 8.0, 4),
    (lambda x: ((x * x + 3.0) - (x + 1.0)) - 1.0, 3),
    (lambda x: 2.0 - ((1.0 - x) - x * x * x), 4),
]


@pytest.mark.parametrize(("fn", "ops"), CHAINS)
def test_chains_of_constant_shifts_and_scalings_are_merged(fn, ops):
    # same real function with fewer operations; the canonical form is a fixed point
    p = Program.build(fn)
    q = p.canonical()
    assert q.cost == ops < p.cost
    assert q.canonical() == q
    for t in ("0.1", "0.5", "0.9"):
        ref = fn(mpmath.mpf(t))
        assert abs(q.evaluate_float(float(t)) - float(ref)) <= 1e-13 * abs(ref)


_POW2 = [-8.0, -2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 4.0]  # constants whose merges are exact


@st.composite
def random_programs(draw):
    b = ProgramBuilder()
    vals = [b.x]
    for _ in range(draw(st.integers(1, 9))):
        op = draw(st.sampled_from(["add", "sub", "mul", "div"]))
        args = []
        for _ in range(2):
            if draw(st.booleans()):
                args.append(draw(st.sampled_from(_POW2)))
            else:
                args.append(vals[draw(st.integers(0, len(vals) - 1))])
        if all(isinstance(a, float) for a in args):
            args[0] = vals[-1]
        vals.append(getattr(b, op)(*args))
    return b.program(vals[-1])


@settings(max_examples=150, deadline=None)
@given(random_programs())
def test_canonical_form_is_the_same_rational_function(p):
    # exact check (SymPy over Q): merging chains and common subexpressions never changes the
    # function, never adds an operation, and canonical() is a fixed point
    q = p.canonical()
    assert q.cost <= p.cost
    assert q.canonical() == q
    ep, eq = p.to_sympy(), q.to_sympy()
    assume(not ep.has(sympy.zoo, sympy.nan, sympy.oo))  # e.g. x/(x - x)
    assert sympy.cancel(ep - eq) == 0


def test_identity_and_constant_programs():
    assert Program.identity().cost == 0
    assert Program.identity().evaluate_float(0.3) == 0.3
    b = ProgramBuilder()
    c = b.program(b.add(2.0, 3.0))
    assert c.cost == 0 and c.canonical().evaluate_float(7.0) == 5.0


def test_invalid_programs_are_rejected():
    with pytest.raises(ParseError):
        Program((Node("x"), Node("add", (0, 5))))
    with pytest.raises(ParseError):
        Program((Node("x"), Node("pow", (0, 0))))
    with pytest.raises(ParseError):
        program_from_dict({"nodes": [["x"], ["add", 0]]})
    with pytest.raises(ParseError):
        program_from_dict({"nodes": "x"})


def test_fingerprint_identifies_functions_not_structures():
    a = Program.build(lambda x: x * (x + 1.0))
    b = Program.build(lambda x: x * x + x)
    c = Program.build(lambda x: x * x + x * 1.0000001)
    assert a.fingerprint == b.fingerprint
    assert a.key != b.key
    assert a.fingerprint != c.fingerprint


def test_serialisation_is_exact():
    p = regression_program()
    q = program_from_dict(p.to_dict())
    assert q == p and q.constants == p.constants


def test_float64_evaluator_matches_python_arithmetic():
    p = regression_program()
    xs = np.linspace(0.01, 1, 257)
    c = REG["constants"]
    expect = []
    for x in xs.tolist():
        u = x + c["c3"] / x
        z = c["c4"] / (c["c2"] + u + c["c1"] / u) - c["c5"]
        z2 = z * z
        z4 = z2 * z2
        expect.append(z4 * z4)
    assert np.array_equal(evaluate(p, xs), np.array(expect))


def test_float64_division_by_zero_follows_ieee():
    p = regression_program()
    assert p.evaluate_float(0.0) == pytest.approx(1.0, abs=1e-14)
    ctx = mpmath.MPContext()
    ctx.dps = 30
    assert abs(p.evaluate_mp(0, ctx) - 1) < 1e-14


def test_float32_evaluator_is_correctly_rounded():
    rng = np.random.default_rng(3)
    a = rng.uniform(-2, 2, 5000).astype(np.float32)
    b = ProgramBuilder()
    progs = {
        "add": b.program(b.add(b.x, 0.3)),
        "mul": b.program(b.mul(b.x, 0.3)),
        "div": b.program(b.div(0.3, b.x)),
    }
    c = np.float32(0.3)
    expect = {"add": a + c, "mul": a * c, "div": c / a}
    for name, p in progs.items():
        got = evaluate(p, a, np.float32)
        assert got.dtype == np.float32
        assert np.array_equal(got, expect[name]), name


def _exact_round32(q: Fraction) -> float:
    """Round a rational to the nearest float32 (ties to even), by exact arithmetic."""
    if q == 0:
        return 0.0
    sign = -1 if q < 0 else 1
    q = abs(q)
    e = q.numerator.bit_length() - q.denominator.bit_length()
    if Fraction(2) ** e > q:
        e -= 1
    e = max(e, -126)
    ulp = Fraction(2) ** (e - 23)
    n = q / ulp
    fl = math.floor(n)
    rem = n - fl
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and fl % 2 == 1):
        fl += 1
    return sign * float(fl * ulp)


def test_fma32_double_rounding_counterexample():
    a, b, c = np.float32(65281), np.float32(257 * 2.0**-24), np.float32(2.0**-80)
    exact = Fraction(65281) * Fraction(257, 2**24) + Fraction(1, 2**80)
    assert exact == 1 + Fraction(1, 2**24) + Fraction(1, 2**80)
    assert _exact_round32(exact) == 1 + 2**-23
    assert float(fma32(a, b, c)) == 1 + 2**-23
    naive = np.float32(np.float64(a) * np.float64(b) + np.float64(c))
    assert float(naive) == 1.0  # double rounding goes wrong


f32 = st.floats(width=32, allow_nan=False, allow_infinity=False, min_value=-(2.0**50),
                max_value=2.0**50)


@settings(max_examples=400, deadline=None)
@given(f32, f32, f32)
def test_fma32_is_correctly_rounded(a, b, c):
    exact = Fraction(a) * Fraction(b) + Fraction(c)
    if abs(exact) > 3e38 or (exact != 0 and abs(exact) < 2.0**-120):
        return
    got = float(fma32(np.float32(a), np.float32(b), np.float32(c)))
    assert got == _exact_round32(exact)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 2**24 - 1), st.integers(1, 2**24 - 1), st.integers(-60, 0),
       st.sampled_from([-1, 1]))
def test_fma32_near_ties(ma, mb, shift, sign):
    # products with exactly 25+ significant bits near float32 midpoints, plus a tiny c
    a = np.float32(ma * 2.0**-12)
    b = np.float32(mb * 2.0**-12)
    c = np.float32(sign * 2.0 ** (shift - 40))
    exact = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
    assert float(fma32(a, b, c)) == _exact_round32(exact)


def test_jacobian_matches_finite_differences():
    p = Program.build(lambda x: (x + 1.5) / (x * 0.75 + 2.25) - 0.125 * x)
    xs = np.linspace(0.1, 0.9, 9)
    y, J = evaluate_jacobian(p, xs)
    c = np.array(p.constants)
    for j in range(len(c)):
        h = 1e-6
        cp, cm = c.copy(), c.copy()
        cp[j] += h
        cm[j] -= h
        fd = (evaluate(p.with_constants(cp), xs) - evaluate(p.with_constants(cm), xs)) / (2 * h)
        assert np.allclose(J[:, j], fd, rtol=1e-7, atol=1e-9)


def test_batch_max_error_counts_nan_as_infinite():
    p = Program.build(lambda x: 1.0 / (x - 0.5))
    xs = np.linspace(0, 1, 5)
    assert p.constants == (0.5, 1.0)  # x - 0.5 is built first
    errs = evaluate_batch_max_error(p, np.array([[0.5, 1.0], [2.0, 1.0]]), xs, np.ones(5),
                                    np.ones(5))
    assert math.isinf(errs[0]) and math.isfinite(errs[1])


def test_python_numba_and_c_exports_compute_the_same_function(tmp_path):
    p = regression_program()
    ns: dict = {}
    exec(compile(p.to_python("g"), "<export>", "exec"), ns)  # noqa: S102 - our own output
    xs = [0.013, 0.37, 0.999]
    assert [ns["g"](x) for x in xs] == evaluate(p, np.array(xs)).tolist()
    ns2: dict = {}
    exec(compile(p.to_numba("h"), "<export>", "exec"), ns2)  # noqa: S102 - our own output
    assert [ns2["h"](x) for x in xs] == evaluate(p, np.array(xs)).tolist()
    cc = shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    src = tmp_path / "f.c"
    src.write_text(p.to_c() + '\n#include <stdio.h>\nint main(void){printf("%a\\n", f(0.37));'
                   "return 0;}\n")
    exe = tmp_path / "f"
    subprocess.run([cc, "-std=c99", "-O1", "-o", str(exe), str(src), "-lm"], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    assert float.fromhex(out.strip()) == evaluate(p, np.array([0.37]))[0]


def test_python_export_of_fma_rounds_once():
    b = ProgramBuilder()
    p = b.program(b.fma(b.x, 1 + 2.0**-30, -1.0))
    ns: dict = {}
    exec(compile(p.to_python(), "<export>", "exec"), ns)  # noqa: S102 - our own output
    x = 1 + 2.0**-30
    assert ns["f"](x) == float(Fraction(x) * Fraction(x) - 1)


def test_sympy_export_is_exact():
    p = regression_program()
    e = p.to_sympy()
    x = sympy.Symbol("x")
    ctx = mpmath.MPContext()
    ctx.dps = 40
    v = e.subs(x, sympy.Rational(3, 7))
    assert abs(ctx.mpf(sympy.N(v, 40)) - p.evaluate_mp(ctx.mpf(3) / 7, ctx)) < ctx.mpf(10)**-35
    assert "x" in p.latex()


def test_targets_are_parsed_safely():
    for bad in ("__import__('os').system('true')", "x.__class__", "exec(x)", "lambda: 1"):
        with pytest.raises(ParseError):
            parse_target(bad)
    t = parse_target("erf(x)")
    ctx = mpmath.MPContext()
    ctx.dps = 30
    assert abs(t.evaluate_mp(ctx.mpf("0.5"), ctx) - ctx.erf(ctx.mpf("0.5"))) == 0
    assert t.evaluate64(np.array([0.5]))[0] == pytest.approx(math.erf(0.5), rel=1e-15)
    assert parse_target("log2(x)").evaluate64(np.array([8.0]))[0] == pytest.approx(3.0)
