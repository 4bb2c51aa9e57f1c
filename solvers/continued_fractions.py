"""Exact continued-fraction kernel: convergents by product trees, limits, δ, expansions.

Conventions
-----------
A (generalised) continued fraction is ``a0 + b1/(a1 + b2/(a2 + ...))`` with the
recurrences ``p_n = a_n p_{n-1} + b_n p_{n-2}`` and ``q_n = a_n q_{n-1} + b_n q_{n-2}``,
``p_{-1} = 1, p_0 = a_0, q_{-1} = 0, q_0 = 1``. In matrix form::

    [[p_{N-1}, p_N], [q_{N-1}, q_N]] = [[1, a_0], [0, 1]] · M(1) ··· M(N),
    M(n) = [[0, b_n], [1, a_n]].

A polynomial continued fraction ``PCF(a, b)`` has ``a_n = a(n)`` and ``b_n = b(n)`` for
integer polynomials ``a`` and ``b``. Everything here is exact integer arithmetic (gmpy2);
reals appear only at the edge, in a local mpmath context at an explicit precision.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import gmpy2
import mpmath
from gmpy2 import mpz
from mpmath.libmp import dps_to_prec

from solvers.errors import DivergenceError, PrecisionError
from solvers.keys import canonical_key

__all__ = [
    "convergent_matrix",
    "convergents_from_polynomials",
    "signed_cf_convergents",
    "CFLimit",
    "PCF",
    "Expansion",
    "signed_expansion",
    "simple_expansion",
    "enclosure",
    "mpf_to_fraction",
    "ratio_to_mpf",
    "convergent_error_log10",
    "limit_from_convergents",
    "log10_abs",
    "irrationality_measure",
]

_LOG10_2 = math.log10(2.0)
_LEAF = 32  # terms multiplied sequentially (small integers) before the product tree takes over

Matrix = tuple[Any, Any, Any, Any]  # (m00, m01, m10, m11), row-major


# --------------------------------------------------------------------------- product trees


def _mul(A: Matrix, B: Matrix) -> Matrix:
    a, b, c, d = A
    e, f, g, h = B
    return (a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h)


def _leaf(a: Sequence[int], b: Sequence[int], lo: int, hi: int) -> Matrix:
    # Product M(lo)...M(hi-1) of M(n) = [[0, b_n], [1, a_n]] by the recurrence itself:
    # each factor maps a row (x, y) to (y, b x + a y).
    x0, y0, x1, y1 = 1, 0, 0, 1
    for n in range(lo, hi):
        an = a[n]
        bn = b[n]
        x0, y0 = y0, bn * x0 + an * y0
        x1, y1 = y1, bn * x1 + an * y1
    return (mpz(x0), mpz(y0), mpz(x1), mpz(y1))


def _tree(mats: list[Matrix]) -> Matrix:
    # Balanced pairwise reduction: operands of equal size meet at every level, so the
    # total cost is O(M(size) log N) instead of the quadratic sequential product.
    while len(mats) > 1:
        nxt = [_mul(mats[i], mats[i + 1]) for i in range(0, len(mats) - 1, 2)]
        if len(mats) % 2:
            nxt.append(mats[-1])
        mats = nxt
    return mats[0]


def _product(a: Sequence[int], b: Sequence[int], lo: int, hi: int) -> Matrix:
    if hi <= lo:
        return (mpz(1), mpz(0), mpz(0), mpz(1))
    leaves = [_leaf(a, b, k, min(k + _LEAF, hi)) for k in range(lo, hi, _LEAF)]
    return _tree(leaves)


def convergent_matrix(a: Sequence[int], b: Sequence[int]) -> Matrix:
    """Exact last two convergents of ``a[0] + b[1]/(a[1] + b[2]/(a[2] + ...))``.

    Parameters
    ----------
    a : sequence of int
        Partial denominators ``a_0, ..., a_N``.
    b : sequence of int
        Partial numerators; ``b[0]`` is ignored, ``b[1..N]`` are used.

    Returns
    -------
    tuple of mpz
        ``(p_{N-1}, p_N, q_{N-1}, q_N)``, computed by a balanced product tree.

    Examples
    --------
    >>> convergent_matrix([1, 1, 1, 1, 1], [0, 1, 1, 1, 1])   # golden ratio: F6/F5 = 8/5
    (mpz(5), mpz(8), mpz(3), mpz(5))
    >>> convergent_matrix([3], [0])
    (mpz(1), mpz(3), mpz(0), mpz(1))
    """
    N = len(a) - 1
    if N < 0:
        raise ValueError("a continued fraction needs at least the term a_0")
    if len(b) < len(a):
        raise ValueError(f"need b_1..b_{N}: got {len(b)} numerators for {len(a)} denominators")
    W = _product(a, b, 1, N + 1)
    return _mul((mpz(1), mpz(a[0]), mpz(0), mpz(1)), W)


def _poly_values(coeffs: Sequence[int], N: int) -> list[int]:
    """Values c(0), ..., c(N) of an integer polynomial by forward differences (exact)."""
    d = len(coeffs) - 1
    if d <= 0:
        return [int(coeffs[0]) if coeffs else 0] * (N + 1)

    def horner(n: int) -> int:
        v = 0
        for c in reversed(coeffs):
            v = v * n + c
        return v

    start = [horner(n) for n in range(min(d + 1, N + 1))]
    if N <= d:
        return start
    # Difference table at n = 0: diffs[k] = Δ^k c(0); Δ^d is constant.
    diffs = list(start)
    for k in range(1, d + 1):
        for j in range(d, k - 1, -1):
            diffs[j] -= diffs[j - 1]
    out = [diffs[0]]
    for _ in range(N):
        for k in range(d):
            diffs[k] += diffs[k + 1]
        out.append(diffs[0])
    return out


def convergents_from_polynomials(a: Sequence[int], b: Sequence[int], depth: int) -> Matrix:
    """``(p_{N-1}, p_N, q_{N-1}, q_N)`` of ``PCF(a, b)`` at ``N = depth`` (coefficients ascending).

    Examples
    --------
    >>> convergents_from_polynomials([1], [1], 5)
    (mpz(8), mpz(13), mpz(5), mpz(8))
    """
    if depth < 0:
        raise ValueError(f"depth must be >= 0, got {depth}")
    return convergent_matrix(_poly_values(a, depth), _poly_values(b, depth))


def signed_cf_convergents(terms: Sequence[int], signs: Sequence[int]) -> Matrix:
    """Convergents of the signed continued fraction ``a0 + s0/(a1 + s1/(a2 + ...))``.

    ``signs`` repeat periodically: ``s_i = signs[i % len(signs)]``.

    Examples
    --------
    >>> p0, p, q0, q = signed_cf_convergents(range(1, 30, 2), [-1])
    >>> print(f"{int(p) / int(q):.15f}")   # cot(1) = 0.64209261593433070300...
    0.642092615934331
    """
    if not signs or any(s not in (1, -1) for s in signs):
        raise ValueError(f"signs must be a non-empty tuple of +1/-1, got {tuple(signs)}")
    T = len(signs)
    b = [0] + [signs[(k - 1) % T] for k in range(1, len(terms))]
    return convergent_matrix(list(terms), b)


# --------------------------------------------------------------------------- reals at the edge


def log10_abs(x: Any) -> float:
    """``log10 |x|`` of a (possibly huge) exact integer or rational, as a float.

    Examples
    --------
    >>> round(log10_abs(10**5000), 9)
    5000.0
    >>> log10_abs(0)
    -inf
    """
    if isinstance(x, (Fraction, type(gmpy2.mpq()))):
        return log10_abs(x.numerator) - log10_abs(x.denominator)
    n = abs(mpz(x))
    if n == 0:
        return -math.inf
    bits = n.bit_length()
    if bits <= 1000:
        return math.log10(int(n))
    shift = bits - 64
    return math.log10(int(n >> shift)) + shift * _LOG10_2


def ratio_to_mpf(ctx: mpmath.ctx_mp.MPContext, p: Any, q: Any) -> Any:
    """``p/q`` for huge exact integers, correctly rounded to ``ctx.prec`` (truncating first).

    Examples
    --------
    >>> ctx = mpmath.MPContext(); ctx.dps = 20
    >>> ratio_to_mpf(ctx, 10**6000 + 1, 3 * 10**6000)
    mpf('0.33333333333333333333347')
    """
    p, q = mpz(p), mpz(q)
    if q == 0:
        raise DivergenceError("zero denominator")
    # Keep ~prec + 64 significant bits of each: the relative error this adds is < 2^-(prec+60).
    keep = ctx.prec + 64
    shift = max(0, min(p.bit_length(), q.bit_length()) - keep)
    if shift:
        p, q = p >> shift, q >> shift
    return ctx.mpf(p) / ctx.mpf(q)


def _mpf_exact_parts(x: Any) -> tuple[int, int]:
    # An mpf is exactly (-1)^sign * man * 2^exp. Read the raw tuple: converting through
    # mpmath.mpf(x) would round it to the *global* context's precision.
    if not hasattr(x, "_mpf_"):
        raise TypeError(f"expected an mpmath mpf, got {type(x).__name__}")
    sign, man, exp, _bc = x._mpf_
    if not man and exp:  # inf / nan are encoded with man = 0 and a special exp
        raise ValueError(f"cannot enclose a non-finite number: {x}")
    return (-int(man) if sign else int(man)), int(exp)


def mpf_to_fraction(x: Any) -> Fraction:
    """The exact rational value of a finite mpf of any context.

    Reads the raw ``(sign, man, exp, bc)`` tuple: mpmath's ``man``/``man_exp`` drop the
    sign, and ``mpmath.mpf(x)`` would round to the global context.

    Examples
    --------
    >>> ctx = mpmath.MPContext(); ctx.dps = 50
    >>> mpf_to_fraction(-ctx.mpf(3) / 8)
    Fraction(-3, 8)
    """
    man, exp = _mpf_exact_parts(x)
    return Fraction(man << exp) if exp >= 0 else Fraction(man, 1 << -exp)


def enclosure(x: Any, prec: int) -> tuple[Fraction, Fraction]:
    """Rational enclosure ``[x - r, x + r]`` of a real known to ``prec`` correct bits.

    ``r = |x| * 2**(1 - prec)`` (at least ``2**-prec`` when ``x = 0``): a value rounded
    at precision ``prec`` is inside.

    Examples
    --------
    >>> lo, hi = enclosure(mpmath.mpf(3), 10)
    >>> lo < 3 < hi
    True
    """
    v = mpf_to_fraction(x)
    r = abs(v) * Fraction(2, 2**prec) if v else Fraction(1, 2**prec)
    return v - r, v + r


# --------------------------------------------------------------------------- limits


@dataclass(frozen=True)
class CFLimit:
    """The limit of a continued fraction at a finite depth, with an honest error estimate.

    Attributes
    ----------
    value : mpf
        ``p_N/q_N`` rounded to ``prec`` bits.
    error : float
        ``log10`` of the estimated error, ``log10|p_N/q_N - p_{N-1}/q_{N-1}|``
        (``-inf`` when two convergents coincide). An estimate, not a bound.
    digits : int
        Decimal digits the estimate supports (never more than the working precision).
    depth : int
        ``N``.
    prec : int
        Bits of the working precision of ``value``.
    p, q : mpz
        The exact convergent ``p_N/q_N`` (not reduced).
    """

    value: Any
    error: float
    digits: int
    depth: int
    prec: int
    p: Any
    q: Any

    def __repr__(self) -> str:
        s = mpmath.nstr(self.value, min(max(self.digits, 1), 30))
        return f"CFLimit({s}, digits={self.digits}, depth={self.depth})"


def convergent_error_log10(p0: Any, p1: Any, q0: Any, q1: Any) -> float:
    """``log10 |p_N/q_N - p_{N-1}/q_{N-1}|``: the error estimate of a convergent (``-inf`` when
    they coincide, ``+inf`` when a denominator vanishes).

    Examples
    --------
    >>> round(convergent_error_log10(*PCF("2n+1", "n^2").convergents(20)), 2)
    -14.92
    """
    num = p1 * q0 - p0 * q1
    if num == 0:
        return -math.inf
    if q0 == 0 or q1 == 0:
        return math.inf
    return log10_abs(num) - log10_abs(q0) - log10_abs(q1)


def limit_from_convergents(m: Matrix, depth: int, dps: int | None = None) -> CFLimit:
    """A :class:`CFLimit` from ``(p_{N-1}, p_N, q_{N-1}, q_N)``.

    ``dps`` defaults to the digits the error estimate supports (plus guard digits).
    """
    p0, p1, q0, q1 = m
    if q1 == 0:
        raise DivergenceError(f"q_{depth} = 0: the convergent is infinite")
    err = convergent_error_log10(p0, p1, q0, q1)
    est = 10**6 if err == -math.inf else max(0, int(math.floor(-err)))
    if dps is None:
        dps = min(est, 10**7) + 10
    ctx = mpmath.MPContext()
    ctx.dps = dps
    value = ratio_to_mpf(ctx, p1, q1)
    # Digits after the decimal point relative to the size of the value: a value near 1e3 with
    # absolute error 1e-50 has ~53 significant digits; we report absolute decimal places
    # capped by the working precision (never more digits than were computed).
    mag = 0 if value == 0 else int(ctx.floor(ctx.log10(abs(value)))) + 1
    digits = max(0, min(est + max(mag, 0), dps - 2))
    return CFLimit(value, err, digits, depth, ctx.prec, p1, q1)


def irrationality_measure(p: Any, q: Any, limit: Any, prec: int) -> float:
    """δ with ``|L - p/q| = q'^{-(1+δ)}``, ``q' = q/gcd(p, q)`` (the reduced denominator).

    Parameters
    ----------
    p, q : int
        An exact convergent.
    limit : mpf
        The limit, known far more accurately than ``|L - p/q|``.
    prec : int
        Bits of ``limit``.

    Examples
    --------
    >>> ctx = mpmath.MPContext(); ctx.dps = 50
    >>> round(irrationality_measure(355, 113, ctx.pi, ctx.prec), 3)   # pi - 355/113 ~ 2.7e-7
    2.202
    """
    p, q = mpz(p), mpz(q)
    g = gmpy2.gcd(p, q)
    p, q = p // g, q // g
    ctx = mpmath.MPContext()
    ctx.prec = prec
    diff = abs(ctx.mpf(limit) - ratio_to_mpf(ctx, p, q))
    if diff == 0:
        raise PrecisionError("the limit is not known beyond this convergent; cannot measure δ")
    lq = log10_abs(q)
    if lq <= 0:
        raise PrecisionError("reduced denominator is 1; δ undefined")
    # log10 of the difference from its mantissa and exponent: a float is all δ needs (a
    # full-precision logarithm at 10^5 digits would cost more than the whole verification).
    man, exp = diff.man_exp
    return float(-(log10_abs(int(man)) + int(exp) * math.log10(2)) / lq - 1)


# --------------------------------------------------------------------------- PCF


def _strip(c: Sequence[int]) -> tuple[int, ...]:
    c = [int(x) for x in c]
    while len(c) > 1 and c[-1] == 0:
        c.pop()
    return tuple(c) if c else (0,)


def _poly_text(c: Sequence[int], var: str = "n") -> str:
    parts: list[str] = []
    for k in range(len(c) - 1, -1, -1):
        ck = c[k]
        if ck == 0:
            continue
        mono = "" if k == 0 else (var if k == 1 else f"{var}^{k}")
        mag = abs(ck)
        body = str(mag) if not mono else (mono if mag == 1 else f"{mag}{mono}")
        sign = "-" if ck < 0 else "+"
        parts.append(f"{sign}{body}")
    if not parts:
        return "0"
    s = "".join(parts)
    return s[1:] if s.startswith("+") else s


def _latex_powers(s: str) -> str:
    out = []
    i = 0
    while i < len(s):
        if s[i] == "^":
            j = i + 1
            while j < len(s) and s[j].isdigit():
                j += 1
            out.append("^{" + s[i + 1 : j] + "}")
            i = j
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def _poly_mul(f: Sequence[int], g: Sequence[int]) -> tuple[int, ...]:
    out = [0] * (len(f) + len(g) - 1)
    for i, x in enumerate(f):
        for j, y in enumerate(g):
            out[i + j] += x * y
    return _strip(out)


def _poly_shift(f: Sequence[int], s: int) -> tuple[int, ...]:
    """Coefficients of f(n + s)."""
    out = [0] * len(f)
    for k, c in enumerate(f):
        # (n + s)^k = sum_j C(k, j) s^(k-j) n^j
        for j in range(k + 1):
            out[j] += c * math.comb(k, j) * s ** (k - j)
    return _strip(out)


def _poly_divexact(f: Sequence[int], g: Sequence[int]) -> tuple[int, ...] | None:
    """f / g when g divides f exactly over the integers, else None."""
    f = list(_strip(f))
    g = list(_strip(g))
    if g == [0]:
        return None
    if f == [0]:
        return (0,)
    if len(f) < len(g):
        return None
    q = [0] * (len(f) - len(g) + 1)
    for k in range(len(q) - 1, -1, -1):
        lead = f[k + len(g) - 1]
        if lead % g[-1]:
            return None
        c = lead // g[-1]
        q[k] = c
        for j, gj in enumerate(g):
            f[k + j] -= c * gj
    return _strip(q) if all(x == 0 for x in f) else None


def _as_coeffs(x: Any) -> tuple[int, ...]:
    if isinstance(x, str):
        from solvers.polynomials import polynomial_coefficients

        return _strip(polynomial_coefficients(x))
    if isinstance(x, (int, type(mpz(0)))):
        return (int(x),)
    if hasattr(x, "all_coeffs"):  # sympy Poly
        return _strip([int(c) for c in reversed(x.all_coeffs())])
    coeffs = tuple(x)
    if any(int(c) != c for c in coeffs):
        raise ValueError(f"PCF coefficients must be integers, got {coeffs}")
    return _strip(coeffs)


@dataclass(frozen=True, init=False)
class PCF:
    """A polynomial continued fraction ``a(0) + b(1)/(a(1) + b(2)/(a(2) + ...))``.

    Parameters
    ----------
    a, b : sequence of int, int, or str
        Integer polynomials in ``n``: coefficient sequences in ascending powers, an integer,
        or text for the safe parser (``"34n^3+51n^2+27n+5"``).

    Examples
    --------
    >>> apery = PCF("34n^3+51n^2+27n+5", "-n^6")
    >>> apery
    PCF(34n^3+51n^2+27n+5, -n^6)
    >>> lim = apery.limit(100)
    >>> lim.digits >= 120
    True
    >>> mpmath.nstr(6 / lim.value, 20)   # zeta(3)
    '1.2020569031595942854'
    """

    a: tuple[int, ...]
    b: tuple[int, ...]

    def __init__(self, a: Any, b: Any):
        object.__setattr__(self, "a", _as_coeffs(a))
        object.__setattr__(self, "b", _as_coeffs(b))

    # -- construction and identity
    @classmethod
    def from_text(cls, a: str, b: str) -> PCF:
        """A PCF from polynomial text, read by the safe parser."""
        return cls(a, b)

    def to_dict(self) -> dict:
        """Exact JSON-able form: ``{"a": [...], "b": [...]}`` (ascending coefficients)."""
        return {"a": list(self.a), "b": list(self.b)}

    @classmethod
    def from_dict(cls, d: dict) -> PCF:
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(d["a"]), tuple(d["b"]))

    @property
    def key(self) -> str:
        """Canonical key: a hash of the exact coefficient tuples."""
        return canonical_key("pcf", self.to_dict())

    def __repr__(self) -> str:
        return f"PCF({_poly_text(self.a)}, {_poly_text(self.b)})"

    @property
    def a_text(self) -> str:
        """``a(n)`` as text the safe parser reads back."""
        return _poly_text(self.a)

    @property
    def b_text(self) -> str:
        """``b(n)`` as text the safe parser reads back."""
        return _poly_text(self.b)

    def latex(self, terms: int = 3) -> str:
        """LaTeX of the first ``terms`` levels of the continued fraction."""
        a = _latex_powers(_poly_text(self.a))
        b = _latex_powers(_poly_text(self.b))
        body = r"\ddots"
        for k in range(terms, 0, -1):
            body = rf"{self.a_n(k)} + \cfrac{{{self.b_n(k + 1)}}}{{{body}}}"
        return (
            rf"{self.a_n(0)} + \cfrac{{{self.b_n(1)}}}{{{body}}}"
            rf"\qquad a_n = {a},\ b_n = {b}"
        )

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    # -- terms
    def a_n(self, n: int) -> int:
        """``a(n)``."""
        v = 0
        for c in reversed(self.a):
            v = v * n + c
        return v

    def b_n(self, n: int) -> int:
        """``b(n)``."""
        v = 0
        for c in reversed(self.b):
            v = v * n + c
        return v

    @property
    def degree(self) -> tuple[int, int]:
        """``(deg a, deg b)``."""
        return (len(self.a) - 1, len(self.b) - 1)

    # -- exact convergents and limits
    def convergents(self, depth: int) -> Matrix:
        """``(p_{N-1}, p_N, q_{N-1}, q_N)`` at ``N = depth``, exactly.

        Examples
        --------
        >>> PCF(1, 1).convergents(5)   # 13/8, the sixth Fibonacci ratio
        (mpz(8), mpz(13), mpz(5), mpz(8))
        """
        return convergents_from_polynomials(self.a, self.b, depth)

    def limit(self, depth: int, dps: int | None = None) -> CFLimit:
        """``p_N/q_N`` with an error estimate from consecutive convergents.

        Parameters
        ----------
        depth : int
            ``N``.
        dps : int, optional
            Working decimal precision of the returned value; defaults to what the error
            estimate supports.
        """
        return limit_from_convergents(self.convergents(depth), depth, dps)

    def digits_per_term(self, depth: int) -> float:
        """Convergence rate: the slope of the estimated correct digits between ``N/2`` and ``N``.

        Examples
        --------
        >>> round(PCF("34n^3+51n^2+27n+5", "-n^6").digits_per_term(400), 2)   # 8 log10(1+sqrt 2)
        3.06
        """
        if depth < 4:
            raise ValueError("need depth >= 4 to measure a rate")
        half = depth // 2
        e1 = convergent_error_log10(*self.convergents(half))
        e2 = convergent_error_log10(*self.convergents(depth))
        if not (math.isfinite(e1) and math.isfinite(e2)):
            return math.inf
        return (e1 - e2) / (depth - half)

    def delta(self, depth: int, limit: Any = None, dps: int | None = None) -> float:
        """Irrationality measure δ of the depth-``N`` convergent, gcd-reduced.

        The limit is taken from a convergent twice as deep unless given (with its precision
        ``dps`` in decimal digits).

        Examples
        --------
        >>> round(PCF("34n^3+51n^2+27n+5", "-n^6").delta(2000), 4)
        0.0866
        """
        p0, p, q0, q = self.convergents(depth)
        err = convergent_error_log10(p0, p, q0, q)
        if limit is None:
            ref = self.limit(2 * depth)
            if not ref.error < err - 5:
                raise PrecisionError(
                    f"the depth-{2 * depth} limit (error 1e{ref.error:.0f}) is not much better "
                    f"than the depth-{depth} convergent (1e{err:.0f}); δ would be meaningless"
                )
            return irrationality_measure(p, q, ref.value, ref.prec)
        if dps is None:
            raise ValueError("give dps (the limit's decimal digits) together with limit")
        return irrationality_measure(p, q, limit, dps_to_prec(dps))

    # -- transforms
    def inflate(self, c: Any) -> PCF:
        """``PCF(c(n) a(n), c(n) c(n-1) b(n))``: its limit is ``c(0)`` times this limit.

        Examples
        --------
        >>> PCF("2n+1", "n^2").inflate("n+1")
        PCF(2n^2+3n+1, n^4+n^3)
        >>> PCF("2n+1", "n^2").inflate("n+1").deflate("n+1")
        PCF(2n+1, n^2)
        """
        c = _as_coeffs(c)
        return PCF(_poly_mul(c, self.a), _poly_mul(_poly_mul(c, _poly_shift(c, -1)), self.b))

    def deflate(self, c: Any) -> PCF:
        """Inverse of :meth:`inflate`; raises ``ValueError`` if ``c`` does not divide exactly."""
        c = _as_coeffs(c)
        a = _poly_divexact(self.a, c)
        b = _poly_divexact(self.b, _poly_mul(c, _poly_shift(c, -1)))
        if a is None or b is None:
            raise ValueError(f"{_poly_text(c)} does not deflate {self!r}")
        return PCF(a, b)

    def mobius(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """The integer matrix ``[[p_{-1}, p_0], [q_{-1}, q_0]]`` of the start: the limit of
        ``PCF(a, b)`` is this Möbius map applied to the tail ``b(1)/(a(1) + ...)``."""
        return ((1, self.a_n(0)), (0, 1))


# --------------------------------------------------------------------------- expansions


@dataclass(frozen=True)
class Expansion:
    """Partial quotients of a (signed) continued-fraction expansion.

    Attributes
    ----------
    terms : tuple of int
        The terms the input determined.
    signs : tuple of int
        The sign period used.
    reason : str
        ``"complete"`` (all requested terms), ``"exhausted"`` (the enclosure could not decide
        the next term: the input precision ran out) or ``"rational"`` (the number is rational
        and its expansion ended).
    """

    terms: tuple[int, ...]
    signs: tuple[int, ...]
    reason: str

    @property
    def exhausted(self) -> bool:
        """True when the input precision ran out before all requested terms."""
        return self.reason == "exhausted"


def _as_fraction(x: Any) -> Fraction:
    if isinstance(x, Fraction):
        return x
    if isinstance(x, int) or type(x).__name__ == "mpz":
        return Fraction(int(x))
    if type(x).__name__ == "mpq":
        return Fraction(int(x.numerator), int(x.denominator))
    raise TypeError(
        f"expected an exact rational or an enclosure (lo, hi); got {type(x).__name__}. "
        "For an mpmath number use enclosure(x, prec)."
    )


def signed_expansion(x: Any, signs: Sequence[int], n_terms: int) -> Expansion:
    """Signed continued fraction ``x = a0 + s0/(a1 + s1/(a2 + ...))`` (ESMA convention).

    ``a_i = floor(x_i)`` if ``s_i > 0`` else ``ceil(x_i)``, with ``s_i = signs[i % T]``.
    Computed exactly from a rational ``x`` or from a rational enclosure ``(lo, hi)``; a term
    is returned only when every number of the enclosure gives the same term.

    Parameters
    ----------
    x : int, Fraction, mpq, or (lo, hi)
        The number, or an enclosure of it.
    signs : sequence of +1/-1
        The sign period.
    n_terms : int
        How many terms to produce.

    Examples
    --------
    >>> ctx = mpmath.MPContext(); ctx.dps = 60
    >>> signed_expansion(enclosure(ctx.e, ctx.prec), [1], 12).terms
    (2, 1, 2, 1, 1, 4, 1, 1, 6, 1, 1, 8)
    >>> signed_expansion(enclosure(1 / ctx.tan(1), ctx.prec), [-1], 6).terms   # cot(1)
    (1, 3, 5, 7, 9, 11)
    >>> signed_expansion(enclosure(ctx.pi, 20), [1], 30).reason
    'exhausted'
    >>> signed_expansion(Fraction(8, 5), [1], 10)
    Expansion(terms=(1, 1, 1, 2), signs=(1,), reason='rational')
    """
    signs = tuple(int(s) for s in signs)
    if not signs or any(s not in (1, -1) for s in signs):
        raise ValueError(f"signs must be a non-empty tuple of +1/-1, got {signs}")
    if n_terms < 0:
        raise ValueError(f"n_terms must be >= 0, got {n_terms}")
    if isinstance(x, tuple):
        lo, hi = (_as_fraction(v) for v in x)
        if lo > hi:
            lo, hi = hi, lo
    else:
        lo = hi = _as_fraction(x)
    # endpoints as integer pairs (P, Q) with Q > 0
    P1, Q1 = mpz(lo.numerator), mpz(lo.denominator)
    P2, Q2 = mpz(hi.numerator), mpz(hi.denominator)
    T = len(signs)
    terms: list[int] = []
    for i in range(n_terms):
        s = signs[i % T]
        if s > 0:
            t1, t2 = P1 // Q1, P2 // Q2  # floor
        else:
            t1, t2 = -((-P1) // Q1), -((-P2) // Q2)  # ceil
        if t1 != t2:
            return Expansion(tuple(terms), signs, "exhausted")
        t = t1
        terms.append(int(t))
        if i == n_terms - 1:
            break
        r1, r2 = P1 - t * Q1, P2 - t * Q2  # (x - t) * Q, same sign for both ends
        if r1 == 0 or r2 == 0:
            if r1 == 0 and r2 == 0:
                return Expansion(tuple(terms), signs, "rational")
            return Expansion(tuple(terms), signs, "exhausted")
        # x' = s / (x - t) = s Q / r ; keep the denominator positive
        n1, d1 = s * Q1, r1
        n2, d2 = s * Q2, r2
        if d1 < 0:
            n1, d1 = -n1, -d1
        if d2 < 0:
            n2, d2 = -n2, -d2
        P1, Q1, P2, Q2 = n1, d1, n2, d2
    return Expansion(tuple(terms), signs, "complete")


def simple_expansion(x: Any, n_terms: int) -> Expansion:
    """The simple (regular) continued fraction: :func:`signed_expansion` with signs ``(1,)``.

    Examples
    --------
    >>> simple_expansion(Fraction(415, 93), 10).terms
    (4, 2, 6, 7)
    """
    return signed_expansion(x, (1,), n_terms)
