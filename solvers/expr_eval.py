"""Catalogue constants as SymPy objects, and SymPy constant expressions evaluated numerically.

One representation scheme is used everywhere:

* ``e``, ``pi``, ``euler_gamma``, ``catalan``, ``phi`` are SymPy's own ``E``, ``pi``,
  ``EulerGamma``, ``Catalan``, ``GoldenRatio``;
* families become the SymPy expressions they name: ``zeta3`` -> ``zeta(3)`` (kept unevaluated,
  so ``zeta(2)`` stays ``zeta(2)``), ``log2`` -> ``log(2)``, ``sqrt5`` -> ``sqrt(5)``,
  ``cbrt2`` -> ``2**(1/3)``;
* every other constant is ``Symbol(canonical_name, positive=True)`` (see :func:`constant_expr`).

Function calls are objects of *inert* classes (:data:`INERT_FUNCTIONS`): subclasses of SymPy's
own (``zeta``, ``log``, ``besseli``, ...) with the same names, equal to SymPy's objects of the
same arguments, but that never evaluate themselves when built or rebuilt (SymPy's
``zeta(1000000)`` computes a Bernoulli number, ``gamma(10^1000)`` a factorial, ``polylog(-1000,
x)`` a rational function of degree 1000), and whose numerical values for SymPy (sign queries,
the order of printed terms) come from ball arithmetic under the caps of the function table,
not from mpmath's unbounded series (SymPy's ``evalf`` of ``besseli(-10^20, 1001)`` divides by
zero). Arithmetic (``Add``, ``Mul``, ``Pow``
of exact numbers) is still canonicalised by SymPy, under the parser's size caps.

The evaluator walks such an expression (with the function table of :mod:`solvers.constants`)
in a local mpmath context, never the global ``mpmath.mp`` and never SymPy's ``evalf``, and
refuses values that are not real, not finite or too large.

Examples
--------
>>> str(_evaluate_digits(1 / constant_expr("apery"), 20))
'0.83190737258070746868'
"""

from __future__ import annotations

import re
from typing import Any

import sympy
from mpmath.libmp import NoConvergence

from solvers.constants import (
    FUNCTIONS,
    EvaluationError,
    UnknownConstantError,
    get_constant,
    local_context,
)
from solvers.errors import DiscoveryError, PrecisionError
from solvers.expr_syntax import MAX_MAGNITUDE_BITS, _short

__all__ = ["constant_expr", "INERT_FUNCTIONS", "inert_function"]


_NATIVE: dict[str, Any] = {
    "e": sympy.E,
    "pi": sympy.pi,
    "euler_gamma": sympy.EulerGamma,
    "catalan": sympy.Catalan,
    "phi": sympy.GoldenRatio,
}
_NATIVE_BY_CLASS: dict[str, str] = {
    "Exp1": "e",
    "Pi": "pi",
    "EulerGamma": "euler_gamma",
    "Catalan": "catalan",
    "GoldenRatio": "phi",
}
_FAMILY_NAME = re.compile(r"^(zeta|log|sqrt|cbrt)(\d+)$")


# ---------------------------------------------------------------------------------------------
# Inert function classes: SymPy's names and printing, no automatic evaluation


def _no_eval(cls: type, *args: Any) -> None:
    """SymPy's ``eval`` hook: ``None`` keeps the call as it is written."""
    return None


def _ball_evalf(self: Any, prec: int) -> sympy.Float | None:
    """SymPy's numerical hook (sign queries, term order), answered by ball arithmetic under
    the caps of the function table: never mpmath's unbounded series, never an exception.
    ``None`` (unknown) when the ball does not settle the value."""
    from solvers.balls import approximate

    found = approximate(self, prec)
    if found is None:
        return None
    mpf, bits = found
    return sympy.Float._new(mpf, bits)


def _inert(base: type) -> type:
    """A subclass of the SymPy function class ``base``, with its name, that never evaluates.

    Its objects equal (and hash like) ``base`` objects of the same arguments, so expressions
    built by hand with SymPy's classes compare equal to parsed ones. The class is a module
    attribute (``_inert_<name>``), so that expressions pickle.
    """
    name = base.__name__

    def __eq__(self: Any, other: Any) -> bool:  # noqa: N807 - SymPy's equality hook
        if isinstance(other, base) and type(other).__name__ == name:
            return self._hashable_content() == other._hashable_content()
        return base.__eq__(self, other)

    namespace = {
        "__module__": __name__,
        "__qualname__": f"_inert_{name}",
        "__doc__": f"SymPy's ``{name}``, never evaluated automatically.",
        "eval": classmethod(_no_eval),
        "_eval_evalf": _ball_evalf,
        "__eq__": __eq__,
        "__hash__": base.__hash__,
    }
    cls = type(base)(name, (base,), namespace)
    globals()[f"_inert_{name}"] = cls
    return cls


class agm(sympy.Function):  # noqa: N801 - printed as the function's name
    """The arithmetic-geometric mean ``agm(a, b)`` (SymPy has none), never evaluated."""

    nargs = 2
    eval = classmethod(_no_eval)
    _eval_evalf = _ball_evalf


#: Function name of the grammar -> the inert SymPy class a call is built with (``exp``,
#: ``sqrt``, ``cbrt`` and ``log2`` are built from powers and logarithms instead).
INERT_FUNCTIONS: dict[str, type] = {name: _inert(getattr(sympy, name)) for name in (
    "log", "sin", "cos", "tan", "cot", "asin", "acos", "atan", "sinh", "cosh", "tanh", "coth",
    "atanh", "erf", "erfc", "besseli", "besselj", "gamma", "zeta", "polylog")}
INERT_FUNCTIONS.update(ln=INERT_FUNCTIONS["log"], ei=_inert(sympy.Ei), abs=_inert(sympy.Abs),
                       agm=agm)


def inert_function(name: str, *args: Any) -> sympy.Expr:
    """The call ``name(*args)`` of the grammar as an inert SymPy object.

    Examples
    --------
    >>> z = inert_function("zeta", sympy.Integer(2))
    >>> z, z == sympy.zeta(2, evaluate=False)
    (zeta(2), True)
    >>> inert_function("log", sympy.Integer(1))
    log(1)
    """
    return INERT_FUNCTIONS[name](*args)


def constant_expr(name: str) -> sympy.Expr:
    """The SymPy form of a catalogue constant (the scheme the parser uses).

    Parameters
    ----------
    name : str
        Any name :func:`solvers.constants.get_constant` accepts.

    Examples
    --------
    >>> constant_expr("apery"), constant_expr("golden"), constant_expr("ln2")
    (zeta(3), GoldenRatio, log(2))
    >>> constant_expr("khinchin").is_positive
    True
    """
    canonical = get_constant(name).name
    if canonical in _NATIVE:
        return _NATIVE[canonical]
    m = _FAMILY_NAME.match(canonical)
    if m:
        family, k = m.group(1), sympy.Integer(int(m.group(2)))
        if family in ("zeta", "log"):
            return inert_function(family, k)
        return sympy.Pow(k, sympy.Rational(1, 2 if family == "sqrt" else 3))
    return sympy.Symbol(canonical, positive=True)


# ---------------------------------------------------------------------------------------------
# Evaluation through the catalogue, in local mpmath contexts


def _evaluate_checked(expr: Any, ctx: Any) -> Any:
    """:func:`_evaluate`, with mpmath's own failures (a pole, a series that does not converge,
    an overflow) turned into one-line :class:`EvaluationError`."""
    try:
        return _evaluate(expr, ctx)
    except DiscoveryError:
        raise
    except (ArithmeticError, ValueError, NoConvergence) as err:
        detail = " ".join(str(err).split())[:200] or type(err).__name__
        raise EvaluationError(f"cannot evaluate {_short(expr)}: {detail}") from None


def _evaluate(expr: Any, ctx: Any) -> Any:
    """``expr`` at the working precision of ``ctx`` (one pass, no error control)."""
    if isinstance(expr, sympy.Integer):
        v = ctx.mpf(int(expr.p))
    elif isinstance(expr, sympy.Rational):
        v = ctx.mpf(int(expr.p)) / int(expr.q)
    elif isinstance(expr, sympy.Float):
        v = ctx.make_mpf(expr._mpf_)
    elif type(expr).__name__ in _NATIVE_BY_CLASS:
        v = get_constant(_NATIVE_BY_CLASS[type(expr).__name__]).evaluate_in(ctx)
    elif isinstance(expr, sympy.Symbol):
        try:
            c = get_constant(expr.name)
        except UnknownConstantError:
            raise EvaluationError(f"the expression depends on {expr.name!r}, which is not a "
                                  "catalogue constant") from None
        v = c.evaluate_in(ctx)
    elif isinstance(expr, sympy.Add):
        v = ctx.fsum([_evaluate(a, ctx) for a in expr.args])
    elif isinstance(expr, sympy.Mul):
        v = ctx.fprod([_evaluate(a, ctx) for a in expr.args])
    elif isinstance(expr, sympy.Pow):
        v = _power(expr.base, expr.exp, ctx)
    elif isinstance(expr, sympy.exp):
        v = ctx.exp(_real(_evaluate(expr.args[0], ctx), ctx, expr))
    elif isinstance(expr, sympy.Function):
        name = type(expr).__name__.lower()
        f = FUNCTIONS.get(name)
        if f is None or len(expr.args) != f.arity:
            raise EvaluationError(f"cannot evaluate {type(expr).__name__} with "
                                  f"{len(expr.args)} argument(s)")
        v = f.evaluate(ctx, *[_evaluate(a, ctx) for a in expr.args])
    else:
        raise EvaluationError(f"cannot evaluate {type(expr).__name__} objects")
    return _real(v, ctx, expr)


def _power(base: Any, exponent: Any, ctx: Any) -> Any:
    b = _evaluate(base, ctx)
    if isinstance(exponent, sympy.Integer):
        if b == 0 and exponent < 0:
            raise EvaluationError("division by zero (0 to a negative power)")
        return ctx.power(b, int(exponent))
    if isinstance(exponent, sympy.Rational):
        p, q = int(exponent.p), int(exponent.q)
        if b == 0:
            if p < 0:
                raise EvaluationError("division by zero (0 to a negative power)")
            return ctx.zero
        r = ctx.sqrt(b) if q == 2 else ctx.root(b, q) if b > 0 else ctx.power(b, ctx.mpf(1) / q)
        return ctx.power(r, p)
    e = _evaluate(exponent, ctx)
    if b == 0:
        if e <= 0:
            raise EvaluationError("0 to a non-positive power")
        return ctx.zero
    return ctx.power(b, e)


def _real(v: Any, ctx: Any, expr: Any) -> Any:
    if isinstance(v, ctx.mpc):
        if v.imag != 0:
            raise EvaluationError(f"{_short(expr)} is not real")
        v = v.real
    elif not isinstance(v, ctx.mpf):
        v = ctx.mpf(v)
    if not ctx.isfinite(v):
        raise EvaluationError(f"{_short(expr)} is not finite")
    if v and ctx.mag(v) > MAX_MAGNITUDE_BITS:
        raise EvaluationError(f"{_short(expr)} is larger than 2^{MAX_MAGNITUDE_BITS}")
    return v


def _evaluate_digits(expr: Any, dps: int) -> Any:
    """``expr`` (a SymPy constant expression) to ``dps`` significant digits, error-controlled.

    Evaluated in local contexts at two increasing working precisions; the guard grows until the
    two agree to ``dps`` digits (see :func:`solvers.expr.evaluate_expression`, which reads text
    first and documents the errors).
    """
    if isinstance(dps, bool) or not isinstance(dps, int) or dps < 1:
        raise ValueError(f"dps must be a positive integer, got {dps!r}")
    target = local_context(dps=dps).prec
    prec = target + 40
    previous = _evaluate_checked(expr, local_context(prec=prec))
    while True:
        prec += max(40, prec - target)
        ctx = local_context(prec=prec)
        current = _evaluate_checked(expr, ctx)
        diff = ctx.mpf(current) - previous
        if diff == 0 or (current != 0 and ctx.mag(diff) < ctx.mag(current) - target - 6):
            out = local_context(dps=dps)
            return out.mpf(current)
        if prec > 4 * target + 2000:
            raise PrecisionError(
                f"could not evaluate {_short(expr)} to {dps} digits (two evaluations at "
                "high precision disagree: is the value exactly zero?)")
        previous = current
