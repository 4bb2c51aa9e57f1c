"""Reading the number to identify: decimal text, intervals, arb balls and formula objects.

:func:`read_decimal` is the one reader of numbers given as text (``identify --value``, and
:func:`discovery.identification.identify` of a string): its cost is linear in the text, as the
length and the exponent are checked before a number is built. :func:`as_number` turns any input
of :func:`~discovery.identification.identify` into an mpf and the number of its digits that are
known, from the digits written, the width of an interval or ball, or the agreement of a
formula's last two convergents.

Examples
--------
>>> value, digits = as_number("3.14159", None, None, 64)
>>> mpmath.nstr(value, 6), digits
('3.14159', 5)
>>> as_number((mpmath.mpf(1), mpmath.mpf("1.0001")), None, None, 64)[1]  # half-width 5e-5
4
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

import gmpy2
import mpmath

from solvers.continued_fractions import mpf_to_fraction
from solvers.errors import DiscoveryError, PrecisionError

__all__ = [
    "GUARD_DIGITS",
    "MAX_DECIMAL_EXPONENT",
    "MAX_DECIMAL_LENGTH",
    "as_number",
    "exact_integer",
    "read_decimal",
    "working_context",
]

#: Decimal digits of working precision above the digits of ``x``.
GUARD_DIGITS = 10

#: Longest decimal number read from text, in characters.
MAX_DECIMAL_LENGTH = 100_000
#: Largest |exponent| written in a decimal number (``1e-999999``): reading ``1e-999999999``
#: exactly would build a number of 3.3 billion bits.
MAX_DECIMAL_EXPONENT = 999_999

_DECIMAL_RE = re.compile(r"\s*([+-]?)(\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+))?\s*")
_INTEGER_RE = re.compile(r"\s*[+-]?\d+\s*")



def read_decimal(text: str) -> tuple[Any, int]:
    """A decimal number written as text (``"2.71828"``, ``"-1.5e-40"``), read with bounded cost.

    The one reader of numbers given as text (``identify --value``, ``db find --value`` and
    :func:`identify` of a string): the length and the exponent are checked before anything is
    built, so its cost is linear in the text.

    Returns
    -------
    (value, significant) : (mpmath.mpf or int, int)
        The number (an ``int`` for an integer written without a point or an exponent, exact;
        else an mpf at the digits written plus :data:`GUARD_DIGITS`) and how many significant
        digits were written.

    Raises
    ------
    DiscoveryError
        Not a decimal number, longer than :data:`MAX_DECIMAL_LENGTH` characters, or an
        exponent beyond :data:`MAX_DECIMAL_EXPONENT`.

    Examples
    --------
    >>> value, significant = read_decimal("0.00123")
    >>> mpmath.nstr(value, 3), significant
    ('0.00123', 3)
    >>> read_decimal("-42")
    (-42, 2)
    >>> read_decimal("1e-999999999")
    Traceback (most recent call last):
    ...
    solvers.errors.DiscoveryError: the exponent of 1e-999999999 is beyond +-999999
    """
    if not isinstance(text, str):
        raise DiscoveryError(f"a decimal number must be text, got {type(text).__name__}")
    if len(text) > MAX_DECIMAL_LENGTH:
        raise DiscoveryError(f"a decimal number longer than {MAX_DECIMAL_LENGTH} characters")
    m = _DECIMAL_RE.fullmatch(text)
    if m is None:
        raise DiscoveryError(f"not a decimal number such as 2.718281828459045: {text[:40]!r}")
    exponent = (m.group(3) or "0").lstrip("+-").lstrip("0")
    if len(exponent) > len(str(MAX_DECIMAL_EXPONENT)) or int(exponent or 0) > (
            MAX_DECIMAL_EXPONENT):
        shown = text.strip() if len(text.strip()) <= 40 else text.strip()[:40] + "..."
        raise DiscoveryError(f"the exponent of {shown} is beyond +-{MAX_DECIMAL_EXPONENT}")
    significant = len(m.group(2).replace(".", "").lstrip("0"))
    if _INTEGER_RE.fullmatch(text):
        return int(gmpy2.mpz(text.strip())), significant
    ctx = mpmath.MPContext()
    ctx.dps = significant + GUARD_DIGITS
    return ctx.mpf(text.strip()), significant


def exact_integer(x: Any) -> int | None:
    """``x`` as an int if it is an exact integer input (an int, or text of one), else None."""
    if isinstance(x, int) and not isinstance(x, bool):
        return x
    if isinstance(x, str) and _INTEGER_RE.fullmatch(x) and len(x) <= MAX_DECIMAL_LENGTH:
        return int(gmpy2.mpz(x.strip()))
    return None


def working_context(digits: float) -> mpmath.MPContext:
    """A new mpmath context of ``digits`` plus :data:`GUARD_DIGITS` decimal digits."""
    ctx = mpmath.MPContext()
    ctx.prec = max(53, math.ceil((digits + GUARD_DIGITS) * math.log2(10)))
    return ctx


def _log10_fraction(f: Fraction) -> float:
    f = abs(f)
    if f == 0:
        return -math.inf
    return _log10_int(f.numerator) - _log10_int(f.denominator)


def _log10_int(n: int) -> float:
    shift = max(0, n.bit_length() - 64)
    return math.log10(n >> shift) + shift * math.log10(2)


def _exact(v: Any) -> Fraction:
    """An exact rational for an int, Fraction, gmpy2 number or (finite) mpf."""
    if isinstance(v, (int, Fraction)):
        return Fraction(v)
    name = type(v).__name__
    if name in ("mpz", "mpq"):
        return Fraction(int(v.numerator), int(v.denominator))
    if hasattr(v, "_mpf_"):
        if not mpmath.isfinite(v):
            raise DiscoveryError(f"cannot identify a non-finite number: {v}")
        return mpf_to_fraction(v)  # signed: mpmath's own man/man_exp drop the sign
    if hasattr(v, "man_exp"):  # flint arb midpoint / radius (exact)
        man, exp = (int(t) for t in v.man_exp())
        return Fraction(man * 2**exp) if exp >= 0 else Fraction(man, 2**-exp)
    if isinstance(v, float):
        return Fraction(v)
    raise DiscoveryError(f"not a real number: {v!r}")


def _from_interval(lo: Fraction, hi: Fraction) -> tuple[Fraction, float]:
    if lo > hi:
        lo, hi = hi, lo
    mid = (lo + hi) / 2
    half = (hi - lo) / 2
    if mid == 0:
        raise PrecisionError("the interval contains 0: no significant digits")
    if half == 0:
        return mid, math.inf
    return mid, max(0.0, math.floor(-_log10_fraction(half / mid)))


def _limit_of(
    formula: Any, digits: float | None, depth: int | None, max_depth: int
) -> tuple[Any, float]:
    """The limit of a formula object and the digits it supports."""
    target = 60.0 if digits is None else float(digits)
    depths = [depth] if depth is not None else []
    if not depths:
        d = 32
        while d < max_depth:
            depths.append(d)
            d *= 2
        depths.append(max_depth)
    best: tuple[Any, float] | None = None
    for d in depths:
        value, got = _limit_at(formula, d)
        if best is None or got > best[1]:
            best = (value, got)
        if got >= target:
            break
    if best is None:
        raise DiscoveryError("no depth to evaluate the formula at")
    value, got = best
    return value, min(got, target)


def _limit_at(formula: Any, depth: int) -> tuple[Any, float]:
    if hasattr(formula, "limit"):
        lim = formula.limit(depth)
        return lim.value, float(lim.digits)
    p0, p1, q0, q1 = (_exact(v) for v in formula.convergents(depth))
    if q1 == 0 or q0 == 0:
        raise DiscoveryError(f"the formula has an infinite convergent at depth {depth}")
    x1, x0 = p1 / q1, p0 / q0
    err = abs(x1 - x0)
    if x1 == 0:
        raise PrecisionError("the formula converges to 0 (no significant digits)")
    got = math.inf if err == 0 else max(0.0, math.floor(-_log10_fraction(err / x1)))
    ctx = working_context(min(got, 10**6))
    return ctx.mpf(x1.numerator) / x1.denominator, got


def as_number(
    x: Any, digits: float | None, depth: int | None, max_depth: int
) -> tuple[Any, float]:
    """``(value as an mpf, digits available)`` for any supported input."""
    if isinstance(x, str):
        try:
            value, sig = read_decimal(x)
        except DiscoveryError as err:
            raise DiscoveryError(f"identify reads a decimal number such as '1.2345': "
                                 f"{err}") from None
        got = max(0, sig - 1)
        avail = got if digits is None else min(got, float(digits))
        ctx = working_context(max(got, 1))
        return ctx.mpf(value), avail
    if hasattr(x, "limit") or hasattr(x, "convergents"):
        return _limit_of(x, digits, depth, max_depth)
    if isinstance(x, tuple) and len(x) == 2:
        mid, got = _from_interval(_exact(x[0]), _exact(x[1]))
        avail = got if digits is None else min(got, float(digits))
        if math.isinf(avail):
            raise PrecisionError("an exact value needs the number of digits to use")
        ctx = working_context(avail)
        return ctx.mpf(mid.numerator) / mid.denominator, avail
    if hasattr(x, "mid") and hasattr(x, "rad"):  # python-flint arb
        mid, rad = _exact(x.mid()), _exact(x.rad())
        mid, got = _from_interval(mid - rad, mid + rad)
        avail = got if digits is None else min(got, float(digits))
        ctx = working_context(avail if math.isfinite(avail) else 60)
        return ctx.mpf(mid.numerator) / mid.denominator, avail
    if digits is None:
        raise PrecisionError(
            "give the number of correct digits of x (identify(x, digits)); only strings, "
            "intervals, arb balls and formulas carry their own precision"
        )
    exact = _exact(x)
    ctx = working_context(float(digits))
    if hasattr(x, "context") and hasattr(x.context, "prec"):
        digits = min(float(digits), math.floor((x.context.prec - 1) * math.log10(2)))
    return ctx.mpf(exact.numerator) / exact.denominator, float(digits)
