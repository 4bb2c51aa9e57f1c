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
import mpmath
import sympy
from flint import arb, fmpq, fmpz
from mpmath.libmp import NoConvergence

from solvers.constants import FUNCTIONS, UnknownConstantError, get_constant, local_context
from solvers.errors import DiscoveryError, EvaluationError, PrecisionError

__all__ = ["Ball", "evaluate_ball", "ball_constant", "abs_bound", "approximate",
           "ARB_CONSTANTS", "MPMATH_ONLY"]

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
        return _mid(self.value, ctx)


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
            v = _eval_checked(expr, prec, fallbacks)
            if not v.is_finite():
                if v.mid().is_finite() and v.mid() != 0:  # a value, but no enclosure of it
                    raise PrecisionError(
                        f"could not evaluate {_short(expr)}: the ball arithmetic gives no "
                        f"useful enclosure of it ({v.str(3)} at {prec} bits)")
                raise EvaluationError(f"{_short(expr)} is not finite or not real")
            ball = Ball(+v, prec, tuple(dict.fromkeys(fallbacks)))
        if v.rel_accuracy_bits() >= want_bits:
            return ball
        lost = want_bits - max(0, v.rel_accuracy_bits())
        prec += max(lost, prec // 2) + GUARD_BITS
    if ball.value.contains(0):
        if ball.value.rad() > 1:  # not a small ball around 0: the enclosure itself is useless
            raise PrecisionError(
                f"could not evaluate {_short(expr)}: the ball arithmetic gives no useful "
                f"enclosure of it ({ball.value.str(3)} at {prec} bits)")
        raise PrecisionError(f"could not separate {_short(expr)} from zero at {prec} bits: is "
                             "the value exactly zero?")
    return ball


def abs_bound(expr: sympy.Expr, prec: int = 64) -> tuple[float, float] | None:
    """Lower and upper bounds of ``|expr|`` from ball arithmetic at ``prec`` bits (at most
    ``4 prec`` if the first ball is not finite); ``None`` if no finite ball is found.

    The cost does not grow with the value: it is a size check, not an evaluation (the parser
    bounds irrational exponents with it). Bounds beyond the float range are ``inf``.

    Raises
    ------
    EvaluationError
        As :func:`evaluate_ball`: a pole, an argument beyond its cap, a complex value...

    Examples
    --------
    >>> from solvers.expr import parse_expression
    >>> low, high = abs_bound(parse_expression("-pi^2"))
    >>> 9.869 < low <= high < 9.870
    True
    """
    for p in (prec, 4 * prec):
        with flint.ctx.workprec(p):
            v = _eval_checked(expr, p, [])
            if v.is_finite():
                return _float(v.abs_lower()), _float(v.abs_upper())
    return None


#: Largest precision (bits) :func:`approximate` works at (SymPy's own requests are far below).
MAX_APPROXIMATE_BITS = 10_000


def approximate(expr: sympy.Expr, prec: int) -> tuple[tuple, int] | None:
    """``expr`` to about ``prec`` bits from one ball evaluation, for SymPy's numerical hooks.

    Returns ``(mpf, bits)``: the midpoint as an mpmath value tuple (``_mpf_``) and the
    relative accuracy in bits the radius guarantees (at most ``prec``); ``None`` when the ball
    is not finite, contains zero, or the evaluation fails (SymPy then treats the sign as
    unknown). Never raises for an expression of the grammar.

    Examples
    --------
    >>> from solvers.expr import parse_expression
    >>> mpf, bits = approximate(parse_expression("zeta(3)"), 53)
    >>> bits, mpf == __import__("mpmath").mpf(1.2020569031595942)._mpf_
    (53, True)
    >>> approximate(parse_expression("sin(pi)"), 53) is None  # not separated from zero
    True
    """
    if prec > MAX_APPROXIMATE_BITS:
        return None
    work = max(prec, 53) + GUARD_BITS
    with flint.ctx.workprec(work):
        try:
            v = _eval_checked(expr, work, [])
        except DiscoveryError:
            return None
        if not v.is_finite() or v.contains(0):
            return None
        bits = min(prec, v.rel_accuracy_bits())
        if bits < 2:
            return None
        man, exp = (int(t) for t in v.mid().man_exp())
    return mpmath.libmp.from_man_exp(man, exp, bits), bits


def _float(x: arb) -> float:
    """An exact arb (a bound) as a float, ``inf`` beyond the float range."""
    try:
        return float(x.mid())
    except OverflowError:  # pragma: no cover - python-flint rounds to inf itself
        return math.inf


def _short(expr: Any) -> str:
    text = str(expr)
    return text if len(text) <= 40 else text[:40] + "..."


def _eval_checked(expr: Any, prec: int, fallbacks: list[str]) -> arb:
    """:func:`_eval`, with the failures of FLINT, mpmath and Python's arithmetic (a pole, a
    series that does not converge, an overflow) turned into one-line :class:`EvaluationError`."""
    try:
        return _eval(expr, prec, fallbacks)
    except DiscoveryError:
        raise
    except (ArithmeticError, ValueError, NoConvergence) as err:
        detail = " ".join(str(err).split())[:200] or type(err).__name__
        raise EvaluationError(f"cannot evaluate {_short(expr)}: {detail}") from None


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
    _check_caps(name, args)
    if len(args) == 1 and name in unary:
        return unary[name](args[0])
    if len(args) == 2 and name in binary:
        return binary[name](*args)
    # Not in arb: mpmath's, through the function table, marked as not rigorous (the arguments
    # are evaluated again 64 bits deeper, as _from_mpmath works there).
    f = FUNCTIONS.get(name)
    if f is None or len(args) != f.arity:
        raise EvaluationError(f"cannot evaluate {type(expr).__name__} with {len(args)} "
                              "argument(s)")
    fallbacks.append(name)
    with flint.ctx.workprec(prec + 64):
        deep = [_eval(a, prec + 64, fallbacks) for a in expr.args]
    return _from_mpmath(lambda ctx: f.evaluate(ctx, *[_mid(a, ctx) for a in deep]), prec)


def _mid(x: arb, ctx: Any) -> Any:
    """The midpoint of ``x`` as an mpf of the mpmath context ``ctx``."""
    man, exp = x.mid().man_exp()
    return ctx.mpf((int(man), int(exp))) if man != 0 else ctx.zero


def _check_caps(name: str, args: list[arb]) -> None:
    """Refuse an argument beyond the cap of the function table (the mpmath evaluator refuses
    the same ones), or one that is not finite."""
    f = FUNCTIONS.get(name)
    if f is None:
        return
    for i, (arg, bound) in enumerate(zip(args, f.arg_bounds, strict=False)):
        if not arg.is_finite():
            raise EvaluationError(f"{name}: argument {i + 1} is not finite")
        if bound is not None and arg.abs_lower() > bound:
            raise EvaluationError(f.beyond_cap(i, arg.mid().str(5, radius=False)))
