"""Constant expressions in ball arithmetic: a value with a rigorous error radius.

The claims the workbench checks ("6/zeta(3)", "(e + 1)/(e - 1)", "besseli(1,2)/besseli(0,2)")
are evaluated with python-flint's ``arb`` type: each operation returns a midpoint and a radius
that provably contains the exact result. So "the formula agrees with the claim to N digits"
rests on the radius, not on guard digits, and the claim is evaluated once, at the precision the
comparison needs (FLINT's ζ(3) to 100,000 digits takes a fraction of a second).

A few catalogue constants have no arb implementation (the twin prime and Meissel–Mertens
constants, the Dottie number, the Ramanujan–Soldner constant). They are evaluated with mpmath
at a higher precision and given a radius of a few units in the last place of that precision:
such a value is *not* rigorous, and :class:`Ball` says so (``fallbacks``).

Examples
--------
>>> from solvers.expr import parse_expression
>>> b = evaluate_ball(parse_expression("6/zeta(3)"), 50)
>>> b.text(30), b.rigorous, b.digits >= 50
('4.99144423548424481209875767293', True, True)
>>> evaluate_ball(parse_expression("twinprime"), 20).fallbacks
('twinprime',)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import flint
import sympy
from flint import arb, fmpq, fmpz

from solvers.constants import UnknownConstantError, get_constant, local_context
from solvers.errors import EvaluationError, PrecisionError

__all__ = ["Ball", "evaluate_ball", "ball_constant", "ARB_CONSTANTS", "MPMATH_ONLY"]

#: Guard bits added to every evaluation.
GUARD_BITS = 32


def _golden() -> arb:
    return (1 + arb(5).sqrt()) / 2


def _agm_sqrt2() -> arb:
    return arb(1).agm(arb(2).sqrt())


def _plastic() -> arb:
    # The real root of x^3 = x + 1 (Cardano): cbrt((9 + sqrt 69)/18) + cbrt((9 - sqrt 69)/18).
    s = arb(69).sqrt()
    return ((9 + s) / 18).root(3) + ((9 - s) / 18).root(3)


#: Catalogue constants and their arb evaluation (at the context's working precision).
ARB_CONSTANTS: dict[str, Any] = {
    "e": lambda: arb.const_e(),
    "pi": lambda: arb.pi(),
    "euler_gamma": lambda: arb.const_euler(),
    "catalan": lambda: arb.const_catalan(),
    "phi": _golden,
    "gauss": lambda: 1 / _agm_sqrt2(),
    "lemniscate": lambda: arb.pi() / _agm_sqrt2(),
    "gompertz": lambda: -arb.const_e() * arb(-1).ei(),
    "khinchin": lambda: arb.const_khinchin(),
    "glaisher": lambda: arb.const_glaisher(),
    "degree": lambda: arb.pi() / 180,
    "tau": lambda: 2 * arb.pi(),
    "omega": lambda: arb(1).lambertw(),
    "plastic": _plastic,
    "silver": lambda: 1 + arb(2).sqrt(),
    "gelfond": lambda: arb.pi().exp(),
    "gelfond_schneider": lambda: arb(2) ** arb(2).sqrt(),
    "gamma_quarter": lambda: arb(fmpq(1, 4)).gamma(),
    "gamma_third": lambda: arb(fmpq(1, 3)).gamma(),
}
#: Catalogue constants arb cannot evaluate: mpmath is used for them (not rigorous).
MPMATH_ONLY = ("twinprime", "mertens", "dottie", "ramanujan_soldner")

_NATIVE = {"Exp1": "e", "Pi": "pi", "EulerGamma": "euler_gamma", "Catalan": "catalan",
           "GoldenRatio": "phi"}


@dataclass(frozen=True)
class Ball:
    """A real value with an error radius.

    Attributes
    ----------
    value : flint.arb
        Midpoint and radius: the exact value lies in ``[mid - rad, mid + rad]`` (when
        ``rigorous``).
    prec : int
        Working precision in bits.
    fallbacks : tuple of str
        Names evaluated by mpmath because arb lacks them: then the radius is an estimate.
    """

    value: arb
    prec: int
    fallbacks: tuple[str, ...] = ()

    @property
    def rigorous(self) -> bool:
        """True when every part was evaluated in ball arithmetic."""
        return not self.fallbacks

    @property
    def digits(self) -> int:
        """Correct significant decimal digits the radius guarantees."""
        bits = self.value.rel_accuracy_bits()
        return max(0, int(bits * math.log10(2)))

    def text(self, digits: int = 20) -> str:
        """The midpoint to ``digits`` significant digits (no radius)."""
        return self.value.mid().str(digits, radius=False)

    def mpf(self, ctx: Any) -> Any:
        """The midpoint as an mpf of the mpmath context ``ctx``."""
        man, exp = self.value.mid().man_exp()
        return ctx.mpf((int(man), int(exp))) if man != 0 else ctx.zero


def ball_constant(name: str, prec: int) -> Ball:
    """A catalogue constant as a ball at ``prec`` bits.

    Examples
    --------
    >>> ball_constant("zeta3", 200).text(25)
    '1.202056903159594285399738'
    >>> ball_constant("khinchin", 100).text(20)
    '2.6854520010653064453'
    """
    with flint.ctx.workprec(prec + GUARD_BITS):
        value, fallbacks = _constant(get_constant(name).name, prec)
        return Ball(+value, prec, fallbacks)


def _constant(canonical: str, prec: int) -> tuple[arb, tuple[str, ...]]:
    f = ARB_CONSTANTS.get(canonical)
    if f is not None:
        return f(), ()
    for family in ("zeta", "log", "sqrt", "cbrt"):
        if canonical.startswith(family) and canonical[len(family):].isdigit():
            k = arb(int(canonical[len(family):]))
            return (k.root(3) if family == "cbrt" else getattr(k, family)()), ()
    return _from_mpmath(lambda ctx: get_constant(canonical).evaluate_in(ctx), prec), (canonical,)


def _from_mpmath(f: Any, prec: int) -> arb:
    """An mpmath value at ``prec + 64`` bits as a ball with a radius of 2^-(prec+32) relative."""
    ctx = local_context(prec=prec + 64)
    v = ctx.mpf(f(ctx))
    man, exp = ctx.mpf(v).man_exp
    mid = arb(fmpz(int(man))) * arb(2) ** int(exp) if man else arb(0)
    rad = abs(mid) * arb(2) ** (-(prec + 32))
    return arb(mid.mid(), rad.abs_upper())


def evaluate_ball(expr: sympy.Expr, digits: int, *, max_tries: int = 4) -> Ball:
    """``expr`` (from :func:`solvers.expr.parse_expression`) to ``digits`` significant digits.

    The precision grows (at most ``max_tries`` times) until the ball's radius guarantees the
    digits asked for: cancellation is seen in the radius, not guessed.

    Raises
    ------
    EvaluationError
        A free variable, an unknown function, a value that is not real or not finite.
    PrecisionError
        The ball keeps containing zero (the value may be exactly zero, like ``sin(pi)``).

    Examples
    --------
    >>> from solvers.expr import parse_expression
    >>> evaluate_ball(parse_expression("exp(100) - (exp(100) - 1/3)"), 10).text(10)
    '0.3333333333'
    >>> evaluate_ball(parse_expression("besseli(1,2)/besseli(0,2)"), 20).text(20)
    '0.69777465796400798201'
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits must be a positive integer, got {digits!r}")
    want_bits = int(digits * math.log2(10)) + 4
    prec = want_bits + GUARD_BITS
    for _ in range(max_tries):
        with flint.ctx.workprec(prec):
            fallbacks: list[str] = []
            v = _eval(expr, prec, fallbacks)
            if not v.is_finite():
                raise EvaluationError(f"{_short(expr)} is not finite or not real")
            ball = Ball(+v, prec, tuple(dict.fromkeys(fallbacks)))
        if v.rel_accuracy_bits() >= want_bits:
            return ball
        lost = want_bits - max(0, v.rel_accuracy_bits())
        prec += max(lost, prec // 2) + GUARD_BITS
    if ball.value.contains(0):
        raise PrecisionError(f"could not separate {_short(expr)} from zero at {prec} bits: is "
                             "the value exactly zero?")
    return ball


def _short(expr: Any) -> str:
    text = str(expr)
    return text if len(text) <= 40 else text[:40] + "..."


def _eval(expr: Any, prec: int, fallbacks: list[str]) -> arb:
    """``expr`` at the context's working precision (a ball)."""
    if isinstance(expr, sympy.Integer):
        return arb(fmpz(int(expr.p)))
    if isinstance(expr, sympy.Rational):
        return arb(fmpq(int(expr.p), int(expr.q)))
    name = type(expr).__name__
    if name in _NATIVE:
        return ARB_CONSTANTS[_NATIVE[name]]()
    if isinstance(expr, sympy.Symbol):
        try:
            canonical = get_constant(expr.name).name
        except UnknownConstantError:
            raise EvaluationError(f"the expression depends on {expr.name!r}, which is not a "
                                  "catalogue constant") from None
        v, fb = _constant(canonical, prec)
        fallbacks.extend(fb)
        return v
    if isinstance(expr, sympy.Add):
        total = arb(0)
        for a in expr.args:
            total += _eval(a, prec, fallbacks)
        return total
    if isinstance(expr, sympy.Mul):
        prod = arb(1)
        for a in expr.args:
            prod *= _eval(a, prec, fallbacks)
        return prod
    if isinstance(expr, sympy.Pow):
        return _power(expr.base, expr.exp, prec, fallbacks)
    if isinstance(expr, sympy.exp):
        return _eval(expr.args[0], prec, fallbacks).exp()
    if isinstance(expr, sympy.Function):
        return _function(expr, prec, fallbacks)
    raise EvaluationError(f"cannot evaluate {name} objects")


def _power(base: Any, exponent: Any, prec: int, fallbacks: list[str]) -> arb:
    b = _eval(base, prec, fallbacks)
    if isinstance(exponent, sympy.Integer):
        e = int(exponent)
        if e < 0 and b.contains(0):
            if b.is_zero():
                raise EvaluationError("division by zero (0 to a negative power)")
        return b ** e if e >= 0 else 1 / (b ** (-e))
    if isinstance(exponent, sympy.Rational):
        p, q = int(exponent.p), int(exponent.q)
        if b.is_zero():
            if p < 0:
                raise EvaluationError("division by zero (0 to a negative power)")
            return arb(0)
        if not b > 0:  # the principal root of a negative number is not real
            raise EvaluationError(f"{_short(base)}^({p}/{q}) is not real")
        r = b.sqrt() if q == 2 else b.root(q)
        return r ** p if p >= 0 else 1 / (r ** (-p))
    e = _eval(exponent, prec, fallbacks)
    if b.is_zero():
        return arb(0)
    if not b > 0:
        raise EvaluationError(f"a real power of a base that is not positive: {_short(base)}")
    return (e * b.log()).exp()


def _function(expr: Any, prec: int, fallbacks: list[str]) -> arb:
    name = type(expr).__name__.lower()
    args = [_eval(a, prec, fallbacks) for a in expr.args]
    unary = {
        "log": lambda x: x.log(), "ln": lambda x: x.log(),
        "sin": lambda x: x.sin(), "cos": lambda x: x.cos(), "tan": lambda x: x.tan(),
        "cot": lambda x: x.cot(), "asin": lambda x: x.asin(), "acos": lambda x: x.acos(),
        "atan": lambda x: x.atan(), "sinh": lambda x: x.sinh(), "cosh": lambda x: x.cosh(),
        "tanh": lambda x: x.tanh(), "coth": lambda x: x.coth(), "atanh": lambda x: x.atanh(),
        "asinh": lambda x: x.asinh(), "acosh": lambda x: x.acosh(),
        "erf": lambda x: x.erf(), "erfc": lambda x: x.erfc(), "ei": lambda x: x.ei(),
        "gamma": lambda x: x.gamma(), "zeta": lambda x: x.zeta(), "abs": abs,
        "exp": lambda x: x.exp(),
    }
    binary = {
        "besseli": lambda nu, x: x.bessel_i(nu), "besselj": lambda nu, x: x.bessel_j(nu),
        "besselk": lambda nu, x: x.bessel_k(nu), "bessely": lambda nu, x: x.bessel_y(nu),
        "agm": lambda a, b: a.agm(b), "polylog": lambda s, z: z.polylog(s),
    }
    if len(args) == 1 and name in unary:
        return unary[name](args[0])
    if len(args) == 2 and name in binary:
        return binary[name](*args)
    # Not in arb: the mpmath evaluation of this sub-expression, marked as not rigorous.
    from solvers.expr_eval import _evaluate_checked

    fallbacks.append(name)
    return _from_mpmath(lambda ctx: _evaluate_checked(expr, ctx), prec)
