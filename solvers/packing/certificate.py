"""Rational certificates of Cohn–Elkies LP bounds and their exact verification.

A certificate is a dimension :math:`n`, a rational :math:`u_0 = 2\\pi r^2` and rational
Laguerre coefficients :math:`c_k` of :math:`P = \\sum_k c_k L_k^{(n/2-1)}`, so that
:math:`f(x) = P(2\\pi|x|^2)e^{-\\pi|x|^2}` and :math:`\\hat f(\\xi) = \\hat P(2\\pi|\\xi|^2)
e^{-\\pi|\\xi|^2}` with :math:`\\hat P = \\sum_k (-1)^k c_k L_k^{(n/2-1)}`. It proves

.. math::
    \\Delta_n \\le \\frac{(u_0/8)^{n/2}}{\\Gamma(n/2+1)} \\frac{P(0)}{\\hat P(0)}

as soon as :math:`P \\le 0` on :math:`[u_0, \\infty)`, :math:`\\hat P \\ge 0` on
:math:`[0, \\infty)` and :math:`P(0), \\hat P(0) > 0` (Cohn–Elkies 2003, Theorem 3.1; the
density of balls of radius :math:`r/2` whose centres are :math:`r` apart). The verifier checks
these conditions exactly -- leading coefficients and Sturm counts of real roots of the exact
rational polynomials -- and evaluates the bound as an arb ball, whose upper end is the
rigorous bound.

Certificates serialise to JSON-able dicts with every rational as a ``"p/q"`` string.

Examples
--------
Crude certificates in dimension 1, where :math:`L_1^{(-1/2)}(u) = 1/2 - u`: with
:math:`c = (0, 1)`, :math:`\\hat P = u - 1/2` is negative at 0; with :math:`c = (3/2, 1)`,
:math:`P = 2 - u` and :math:`\\hat P = 1 + u`, a valid (poor) bound
:math:`\\sqrt{5/\\pi} \\approx 1.26`:

>>> cert = LPCertificate(1, Fraction(1, 2), (Fraction(0), Fraction(1)))
>>> result = verify_lp_certificate(cert)
>>> result.verified, result.failures
(False, ('P^(0) = -1/2 is not positive',))
>>> cert = LPCertificate(1, Fraction(5, 2), (Fraction(3, 2), Fraction(1)))
>>> r = verify_lp_certificate(cert)
>>> r.verified, r.bound
(True, '1.261566262')
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from flint import arb, fmpq

from solvers.errors import DiscoveryError
from solvers.keys import canonical_key
from solvers.packing.exact import evaluate, roots_between
from solvers.packing.laguerre import (
    alpha_of_dimension,
    as_fraction,
    fourier_coefficients,
    to_monomial,
)

__all__ = [
    "LPCertificate",
    "VerifiedBound",
    "verify_lp_certificate",
    "bound_ball",
    "round_up",
    "round_down",
    "enclosed_bound",
    "FORMAT",
]

FORMAT = "cohn-elkies-lp-certificate"
VERSION = 1


def _text(x: Fraction) -> str:
    return f"{x.numerator}/{x.denominator}" if x.denominator != 1 else f"{x.numerator}"


@dataclass(frozen=True)
class LPCertificate:
    """An auxiliary function with exact rational data (see the module docstring).

    Attributes
    ----------
    dimension : int
    u0 : Fraction
        :math:`2\\pi r^2`.
    coeffs : tuple of Fraction
        Laguerre coefficients :math:`c_0, \\dots, c_d` of :math:`P`.
    meta : dict
        Provenance (method, precision, time, claimed bound ...); not used by the verifier.
    """

    dimension: int
    u0: Fraction
    coeffs: tuple[Fraction, ...]
    meta: Mapping = field(default_factory=dict, compare=False)

    def __post_init__(self):
        alpha_of_dimension(self.dimension)
        object.__setattr__(self, "u0", as_fraction(self.u0))
        object.__setattr__(self, "coeffs", tuple(as_fraction(c) for c in self.coeffs))
        if not self.coeffs:
            raise DiscoveryError("a certificate needs at least one coefficient")
        if self.u0 <= 0:
            raise DiscoveryError(f"u0 must be positive, not {self.u0}")

    @property
    def degree(self) -> int:
        """Degree of :math:`P` in :math:`u`."""
        return len(self.coeffs) - 1

    @property
    def radius(self) -> float:
        """:math:`r = \\sqrt{u_0/2\\pi}`."""
        return math.sqrt(float(self.u0) / (2 * math.pi))

    @property
    def key(self) -> str:
        """Canonical key of the exact data."""
        return canonical_key("packing-lp", self._exact_dict())

    def _exact_dict(self) -> dict:
        return {
            "dimension": self.dimension,
            "u0": _text(self.u0),
            "coefficients": [_text(c) for c in self.coeffs],
        }

    def to_dict(self) -> dict:
        """JSON-able form (rationals as ``"p/q"`` strings)."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "basis": "P(u) = sum_k c_k L_k^(n/2-1)(u), f(x) = P(2 pi |x|^2) exp(-pi |x|^2)",
            **self._exact_dict(),
            "meta": dict(self.meta),
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> LPCertificate:
        """Inverse of :meth:`to_dict` (validates the format and version)."""
        if data.get("format") != FORMAT:
            raise DiscoveryError(f"not an LP certificate (format {data.get('format')!r})")
        if data.get("version") != VERSION:
            raise DiscoveryError(f"unsupported LP certificate version {data.get('version')!r}")
        return cls(
            int(data["dimension"]),
            as_fraction(data["u0"]),
            tuple(as_fraction(c) for c in data["coefficients"]),
            dict(data.get("meta", {})),
        )

    def __repr__(self) -> str:
        return (
            f"LPCertificate(n={self.dimension}, deg={self.degree}, "
            f"r = sqrt(u0/2pi) ≈ {self.radius:.8f})"
        )


@dataclass(frozen=True)
class VerifiedBound:
    """The outcome of :func:`verify_lp_certificate`.

    Attributes
    ----------
    dimension : int
    verified : bool
        All sign conditions hold exactly.
    bound : str or None
        Rigorous upper bound on the density, rounded up to 10 significant digits
        (``None`` if not verified).
    lower, upper : str
        The arb enclosure of :math:`(u_0/8)^{n/2} P(0)/(\\Gamma(n/2+1)\\hat P(0))`.
    failures : tuple of str
        Which conditions failed.
    method : str
    seconds : float
    """

    dimension: int
    verified: bool
    bound: str | None
    lower: str
    upper: str
    failures: tuple[str, ...]
    method: str
    seconds: float

    def __repr__(self) -> str:
        if self.verified:
            return f"VerifiedBound(Δ_{self.dimension} ≤ {self.bound}, exact, {self.seconds:.2f} s)"
        return f"VerifiedBound(n={self.dimension}: NOT verified: {'; '.join(self.failures)})"

    def to_dict(self) -> dict:
        return {
            "dimension": self.dimension,
            "bound": self.bound,
            "verified": self.verified,
            "method": self.method,
            "lower": self.lower,
            "upper": self.upper,
            "failures": list(self.failures),
            "seconds": self.seconds,
        }


def bound_ball(n: int, u0: Fraction, ratio: Fraction) -> arb:
    """Arb enclosure of :math:`(u_0/8)^{n/2}\\,\\mathrm{ratio} / \\Gamma(n/2+1)`.

    Examples
    --------
    >>> b = bound_ball(8, Fraction(4), Fraction(1))   # (1/2)^4 / 4! = 1/384
    >>> b.contains(arb(1) / 384)
    True
    """
    q = _arb(u0 / 8)
    if n % 2 == 0:
        factor = q ** (n // 2) / math.factorial(n // 2)
    else:
        # Gamma(n/2 + 1) = (n!! / 2^((n+1)/2)) sqrt(pi) for odd n
        dfact = math.prod(range(n, 0, -2))
        gamma = arb(dfact) / arb(2) ** ((n + 1) // 2) * arb.pi().sqrt()
        factor = q ** (n // 2) * q.sqrt() / gamma
    return factor * _arb(ratio)


def _arb(x: Fraction) -> arb:
    return arb(fmpq(x.numerator, x.denominator))


def _arb_fraction(x: arb) -> Fraction:
    """The exact dyadic value of an exact arb (an endpoint)."""
    man, exp = x.mid().man_exp()
    man, exp = int(man), int(exp)
    return Fraction(man * 2**exp) if exp >= 0 else Fraction(man, 2**-exp)


def round_up(x: Fraction, digits: int = 10) -> str:
    """Decimal text of ``x`` rounded towards +infinity to ``digits`` significant digits.

    Examples
    --------
    >>> round_up(Fraction(1, 3), 4), round_up(Fraction(-1, 3), 4)
    ('0.3334', '-0.3333')
    """
    return _round(x, digits, up=True)


def round_down(x: Fraction, digits: int = 10) -> str:
    """Decimal text of ``x`` rounded towards -infinity to ``digits`` significant digits."""
    return _round(x, digits, up=False)


def _round(x: Fraction, digits: int, up: bool) -> str:
    if x == 0:
        return "0"
    e = math.floor(math.log10(abs(float(x)))) if abs(float(x)) > 0 else -400
    scale = Fraction(10) ** (digits - 1 - e)
    y = x * scale
    k = math.ceil(y) if up else math.floor(y)
    # format k * 10^-(digits-1-e) exactly
    shift = digits - 1 - e
    sign = "-" if k < 0 else ""
    k = abs(k)
    if shift <= 0:
        return sign + str(k * 10 ** (-shift))
    s = str(k).rjust(shift + 1, "0")
    return sign + s[:-shift] + "." + s[-shift:]


def verify_lp_certificate(cert: LPCertificate) -> VerifiedBound:
    """Check a certificate exactly and return the rigorous bound it proves.

    Conditions checked in exact rational arithmetic on :math:`P` and :math:`\\hat P`:
    :math:`P(0) > 0`, :math:`\\hat P(0) > 0`; the leading coefficient of :math:`P` is negative
    and :math:`P` has no real root in :math:`(u_0, \\infty)` (so :math:`P \\le 0` on
    :math:`[u_0, \\infty)`); the leading coefficient of :math:`\\hat P` is positive and
    :math:`\\hat P` has no real root in :math:`(0, \\infty)` (so :math:`\\hat P \\ge 0` on
    :math:`[0, \\infty)`). Root counts are Sturm counts.
    """
    t0 = time.perf_counter()
    n = cert.dimension
    alpha = alpha_of_dimension(n)
    P = to_monomial(cert.coeffs, alpha)
    Ph = to_monomial(fourier_coefficients(cert.coeffs), alpha)
    failures = []
    p0 = evaluate(P, 0)
    ph0 = evaluate(Ph, 0)
    if p0 <= 0:
        failures.append(f"P(0) = {_short(p0)} is not positive")
    if ph0 <= 0:
        failures.append(f"P^(0) = {_short(ph0)} is not positive")
    if not failures:
        if P.leading_coefficient() >= 0:
            failures.append("the leading coefficient of P is not negative")
        elif (k := roots_between(P, cert.u0, None)) != 0:
            failures.append(f"P has {k} real root(s) in (u0, oo)")
        if Ph.leading_coefficient() <= 0:
            failures.append("the leading coefficient of P^ is not positive")
        elif (k := roots_between(Ph, 0, None)) != 0:
            failures.append(f"P^ has {k} real root(s) in (0, oo)")
    return enclosed_bound(n, cert.u0, p0, ph0, failures,
                          "exact Sturm sequences (python-flint fmpq_poly) + arb enclosure", t0)


def enclosed_bound(n: int, u0: Fraction, value0: Fraction, fourier0: Fraction,
                   failures: Sequence[str], method: str, t0: float) -> VerifiedBound:
    """The :class:`VerifiedBound` of a checked certificate: the arb enclosure of
    ``(u0/8)^(n/2) value0 / (Gamma(n/2 + 1) fourier0)``, rounded
    outwards; ``bound`` only when ``failures`` is empty and both values are positive."""
    failures = list(failures)
    if value0 > 0 and fourier0 > 0:
        ball = bound_ball(n, u0, value0 / fourier0)
        lo, hi = _arb_fraction(ball.lower()), _arb_fraction(ball.upper())
        lower, upper = round_down(lo, 15), round_up(hi, 15)
    else:
        lower = upper = "nan"
        if not failures:
            failures.append("the bound's numerator or denominator is not positive")
    verified = not failures
    return VerifiedBound(
        dimension=n,
        verified=verified,
        bound=round_up(hi, 10) if verified else None,
        lower=lower,
        upper=upper,
        failures=tuple(failures),
        method=method,
        seconds=time.perf_counter() - t0,
    )


def _short(x: Fraction) -> str:
    s = _text(x)
    return s if len(s) <= 40 else f"{float(x):.6g}"


def certificate_from_numeric(
    n: int, u0, coeffs: Sequence, digits: int, meta: Mapping | None = None
) -> LPCertificate:
    """Round a numerical solution to a certificate with denominators ``10**digits``.

    ``u0`` is rounded *up* (which only enlarges the region where :math:`P \\le 0` is needed,
    keeping the sign change inside); the coefficients to nearest.
    """
    import gmpy2

    scale = 10**digits

    def rnd(x, up=False) -> Fraction:
        if isinstance(x, (int, Fraction)):
            return Fraction(x)
        num, den = (x if hasattr(x, "as_integer_ratio") else gmpy2.mpfr(x)).as_integer_ratio()
        exact = Fraction(int(num), int(den)) * scale  # exact, no rounding
        k = math.ceil(exact) if up else round(exact)
        return Fraction(k, int(scale))

    return LPCertificate(n, rnd(u0, up=True), tuple(rnd(c) for c in coeffs), dict(meta or {}))
