"""Integer relations among real numbers: PSLQ and LLL with explicit precision and evidence.

An *integer relation* of reals :math:`x_1, \\dots, x_n` is a nonzero integer vector
:math:`m` with :math:`\\sum_i m_i x_i = 0`. Numerically one only knows the :math:`x_i` to
:math:`D` digits, so every relation found is a claim that needs evidence. This module follows
the practice of LIReC and mpmath#1130:

* a relation counts only if its residual is below :math:`10^{-(D - \\text{margin})}` **and**
  the digits it *uses* (the digits needed to write its coefficients down,
  :math:`\\sum_{m_i \\ne 0} (\\log_{10}|m_i| + 1)`) are well below the :math:`D` digits
  available (by default at most :math:`D/2`); ``confidence = 1 - used / D``;
* a search has one of four outcomes (:class:`RelationOutcome`): a relation was **found**; there
  is **none below a bound** on the coefficient norm (PSLQ proves that any relation has
  Euclidean norm at least :math:`1/\\max_j |H_{jj}|`); the search **ran out of steps**; or it is
  **inconclusive** (only a relation that uses most of the digits, i.e. noise, was seen, or the
  precision ran out before the bound reached ``max_coeff``).

Two independent algorithms are implemented: PSLQ (Ferguson--Bailey--Arno, in fixed-point
integer arithmetic, which also yields the norm bound) and LLL on a scaled integer lattice
(python-flint ``fmpz_mat.lll``, with a norm bound from the exact Gram--Schmidt lengths of the
reduced basis). They can be cross-checked against each other.

On top of the kernel: :func:`find_mobius` (``x = (c0 + c1 K) / (c2 + c3 K)`` from a relation
among ``[x, x K, 1, K]``) and :func:`find_polynomial` (a minimal polynomial of small degree).

Nothing here touches global precision: every real is computed in a local
``mpmath.MPContext``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypedDict, Unpack

import gmpy2
import mpmath

from solvers.errors import DiscoveryError, PrecisionError

__all__ = [
    "RelationOutcome",
    "RelationResult",
    "MobiusRelation",
    "find_integer_relation",
    "find_mobius",
    "mobius_relation",
    "mobius_from_coefficients",
    "find_polynomial",
    "RelationOptions",
    "normalize_relation",
    "digits_used",
    "default_max_coeff",
    "default_margin",
]

_LOG2_10 = math.log2(10)
#: Extra decimal digits of working precision above the digits the inputs are known to.
GUARD_DIGITS = 10


class RelationOutcome(enum.StrEnum):
    """How an integer-relation search ended."""

    FOUND = "found"
    NONE_BELOW_BOUND = "none_below_bound"
    RAN_OUT_OF_STEPS = "ran_out_of_steps"
    INCONCLUSIVE = "inconclusive"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class RelationResult:
    """The outcome of an integer-relation search among ``n`` reals known to ``D`` digits.

    Attributes
    ----------
    outcome : RelationOutcome
        ``FOUND`` (``coefficients`` holds the relation), ``NONE_BELOW_BOUND`` (any relation has
        Euclidean norm at least ``norm_bound``), ``RAN_OUT_OF_STEPS`` or ``INCONCLUSIVE``.
    coefficients : tuple of int or None
        The normalised relation (gcd 1, first nonzero coefficient positive) when found.
    norm_bound : float
        Every integer relation of the inputs (to the working precision) has Euclidean norm at
        least this (PSLQ: ``1/max|H_jj|`` at the end; LLL: from the Gram--Schmidt lengths).
    residual : mpmath.mpf or None
        ``|sum m_i x_i|`` of the relation found (or rejected), at working precision.
    digits_used, digits_available : float
        Digits needed to write the coefficients down, and the digits ``D`` of the inputs.
    confidence : float
        ``1 - digits_used / digits_available`` for a found relation, else 0.
    steps : int
        PSLQ iterations (1 for LLL).
    method : str
        ``"pslq"`` or ``"lll"``.
    rejected : tuple of int or None
        A relation that satisfied the residual test but used too many digits (noise).
    """

    outcome: RelationOutcome
    coefficients: tuple[int, ...] | None
    norm_bound: float
    residual: Any
    digits_used: float
    digits_available: float
    confidence: float
    steps: int
    method: str
    rejected: tuple[int, ...] | None = None

    @property
    def found(self) -> bool:
        """Whether an accepted relation was found."""
        return self.outcome is RelationOutcome.FOUND

    def __repr__(self) -> str:
        if self.coefficients is not None:
            terms = " ".join(
                f"{'+' if c > 0 else '-'} {'' if abs(c) == 1 else _itext(abs(c)) + '*'}x{i}"
                for i, c in enumerate(self.coefficients)
                if c
            )
            terms = terms[2:] if terms.startswith("+ ") else "-" + terms[2:]
            return (
                f"RelationResult({terms} = 0, uses {self.digits_used:.1f} of "
                f"{self.digits_available:g} digits, confidence {self.confidence:.2f}, "
                f"{self.method})"
            )
        return (
            f"RelationResult({self.outcome.value}, norm >= {self.norm_bound:.3g}, "
            f"{self.steps} steps, {self.method})"
        )


@dataclass(frozen=True)
class MobiusRelation:
    """``x = (c0 + c1 K) / (c2 + c3 K)`` with integers ``c0..c3``, from a relation among
    ``[x, x K, 1, K]`` (``c2 x + c3 x K - c0 - c1 K = 0``).

    The coefficients are normalised (gcd 1; ``c3 > 0``, or ``c3 = 0`` and ``c2 > 0``). When
    ``c0 c3 - c1 c2 = 0`` the map is constant and ``x`` is the rational :attr:`rational`.

    Examples
    --------
    >>> m = mobius_from_coefficients((0, 1, -6, 0))
    >>> m
    x = 6/K
    >>> m.evaluate(Fraction(6, 5))
    Fraction(5, 1)
    """

    c0: int
    c1: int
    c2: int
    c3: int
    result: RelationResult | None = None

    @property
    def coefficients(self) -> tuple[int, int, int, int]:
        """``(c0, c1, c2, c3)``."""
        return (self.c0, self.c1, self.c2, self.c3)

    @property
    def determinant(self) -> int:
        """``c0 c3 - c1 c2``; zero iff ``x`` does not depend on ``K`` (``x`` rational)."""
        return self.c0 * self.c3 - self.c1 * self.c2

    @property
    def rational(self) -> Fraction | None:
        """The rational value of ``x`` when the relation does not involve ``K``."""
        if self.determinant != 0:
            return None
        if self.c2 != 0:
            return Fraction(self.c0, self.c2)
        return Fraction(self.c1, self.c3)

    def evaluate(self, K: Any) -> Any:
        """``(c0 + c1 K) / (c2 + c3 K)`` in the arithmetic of ``K``."""
        return (self.c0 + self.c1 * K) / (self.c2 + self.c3 * K)

    def __repr__(self) -> str:
        r = self.rational
        if r is not None:
            q = _itext(r.numerator) + ("" if r.denominator == 1 else "/" + _itext(r.denominator))
            return f"x = {q}"
        num = _linear_text(self.c0, self.c1)
        den = _linear_text(self.c2, self.c3)
        if den == "1":
            return f"x = {num}"
        if self.c3 == 0 or (self.c2 == 0 and abs(self.c3) == 1):
            return f"x = {_wrap(num)}/{den}"  # a bare integer or a bare K
        return f"x = {_wrap(num)}/({den})"


def _linear_text(a: int, b: int) -> str:
    parts = []
    if b:
        coef = "" if b == 1 else "-" if b == -1 else f"{_itext(b)}*"
        parts.append(f"{coef}K")
    if a:
        parts.append(_itext(a))
    if not parts:
        return "0"
    text = parts[0]
    for p in parts[1:]:
        text += f" - {p[1:]}" if p.startswith("-") else f" + {p}"
    return text


def _itext(n: int) -> str:
    """Decimal text of an int of any size (no 4300-digit limit)."""
    return gmpy2.mpz(n).digits(10)


def _wrap(text: str) -> str:
    return f"({text})" if (" " in text) else text


# --------------------------------------------------------------------------------------------
# Evidence helpers
# --------------------------------------------------------------------------------------------


def normalize_relation(coefficients: Sequence[int]) -> tuple[int, ...]:
    """Divide by the gcd and make the first nonzero coefficient positive.

    Examples
    --------
    >>> normalize_relation([0, -4, 6, 2])
    (0, 2, -3, -1)
    """
    coeffs = [int(c) for c in coefficients]
    g = math.gcd(*coeffs) if coeffs else 0
    if g == 0:
        raise DiscoveryError("the zero vector is not an integer relation")
    coeffs = [c // g for c in coeffs]
    first = next(c for c in coeffs if c)
    if first < 0:
        coeffs = [-c for c in coeffs]
    return tuple(coeffs)


def digits_used(coefficients: Sequence[int]) -> float:
    """Decimal digits needed to write a relation down: ``sum over c != 0 of log10|c| + 1``.

    A relation among ``n`` numbers known to ``D`` digits that arises by chance uses about ``D``
    digits; a genuine one uses far fewer.

    Examples
    --------
    >>> digits_used([0, 1, -6, 0])
    2.778...
    """
    total = 0.0
    for c in coefficients:
        c = abs(int(c))
        if c:
            total += _log10_int(c) + 1.0
    return total


def _log10_int(c: int) -> float:
    bits = c.bit_length()
    if bits < 1000:
        return math.log10(c)
    shift = bits - 64
    return math.log10(c >> shift) + shift / _LOG2_10


def default_margin(dps: float) -> int:
    """Digits given away in the residual test: a relation must hold to ``dps - margin`` digits.

    Examples
    --------
    >>> default_margin(60), default_margin(12)
    (12, 3)
    """
    return max(3, int(dps) // 5)


def default_max_coeff(n: int, dps: float, max_used_fraction: float = 0.5) -> int:
    """The largest coefficient norm worth searching below for ``n`` numbers at ``dps`` digits.

    A relation whose ``n`` coefficients all have this size uses about ``max_used_fraction * dps``
    digits, the most the confidence rule accepts.

    Examples
    --------
    >>> default_max_coeff(4, 60)
    10000000
    """
    exponent = max(1, math.floor(max_used_fraction * dps / n))
    return 10**exponent


# --------------------------------------------------------------------------------------------
# Conversions
# --------------------------------------------------------------------------------------------


def _context(dps: float) -> mpmath.MPContext:
    ctx = mpmath.MPContext()
    ctx.prec = max(53, math.ceil((dps + GUARD_DIGITS) * _LOG2_10))
    return ctx


def _to_ctx(ctx: mpmath.MPContext, v: Any) -> Any:
    if isinstance(v, Fraction):
        return ctx.mpf(v.numerator) / v.denominator
    typename = type(v).__name__
    if typename == "mpq":
        return ctx.mpf(int(v.numerator)) / int(v.denominator)
    if typename == "mpz":
        return ctx.mpf(int(v))
    if typename in ("mpc", "complex"):
        raise DiscoveryError(f"integer relations need real numbers, got {v!r}")
    try:
        return ctx.mpf(v)
    except (TypeError, ValueError) as exc:
        raise DiscoveryError(f"not a real number: {v!r}") from exc


def _to_fixed(ctx: mpmath.MPContext, v: Any, prec: int) -> int:
    """``round(v * 2^prec)`` as an int."""
    return int(ctx.nint(ctx.ldexp(v, prec)))


# --------------------------------------------------------------------------------------------
# PSLQ in fixed-point arithmetic
# --------------------------------------------------------------------------------------------


def _round_div(a: int, b: int) -> int:
    """``round(a / b)`` for ints, ``b != 0``."""
    if b < 0:
        a, b = -a, -b
    return (2 * a + b) // (2 * b)


def _pslq(
    xs: list[int], prec: int, tol_bits: int, max_coeff: int, max_steps: int
) -> tuple[RelationOutcome, list[int] | None, Fraction, int]:
    """PSLQ on the fixed-point vector ``xs`` (``x_i * 2^prec``, all nonzero).

    Returns (outcome, candidate relation or None, norm bound, steps). ``FOUND`` here only means
    "a column of B makes ``|y_j| < 2^-tol_bits``"; the caller applies the evidence rules.
    """
    n = len(xs)
    one = 1 << prec
    # Unit vector y = x / |x| and the partial norms s_k = |(y_k, ..., y_{n-1})|.
    norm = math.isqrt(sum(v * v for v in xs))
    y = [(v << prec) // norm for v in xs]
    s = [0] * n
    acc = 0
    for k in range(n - 1, -1, -1):
        acc += y[k] * y[k]
        s[k] = math.isqrt(acc)
    # H: n x (n-1) lower trapezoidal.
    H = [[0] * (n - 1) for _ in range(n)]
    for j in range(n - 1):
        if s[j] == 0:
            return RelationOutcome.INCONCLUSIVE, None, Fraction(0), 0
        H[j][j] = (s[j + 1] << prec) // s[j]
        den = s[j] * s[j + 1]
        if den == 0:
            return RelationOutcome.INCONCLUSIVE, None, Fraction(0), 0
        for i in range(j + 1, n):
            H[i][j] = -((y[i] * y[j]) << prec) // den
    A = [[int(i == j) for j in range(n)] for i in range(n)]
    B = [[int(i == j) for j in range(n)] for i in range(n)]
    # gamma = sqrt(4/3) + 0.01 > sqrt(4/3); gpow[i] = gamma^(i+1) in fixed point.
    gamma = math.isqrt((4 << (2 * prec)) // 3) + one // 100
    gpow = []
    g = one
    for _ in range(n - 1):
        g = (g * gamma) >> prec
        gpow.append(g)
    tol = one >> tol_bits if tol_bits < prec else 1
    # Coefficients beyond this size cannot be told from noise at this precision.
    coeff_cap = 1 << max(8, prec - tol_bits // 2 if tol_bits < prec else prec // 2)

    def reduce_rows(i_from: int, j_cap: int | None) -> None:
        for i in range(i_from, n):
            j_start = i - 1 if j_cap is None else min(i - 1, j_cap)
            Hi = H[i]
            for j in range(j_start, -1, -1):
                Hjj = H[j][j]
                if Hjj == 0:
                    continue
                t = _round_div(Hi[j], Hjj)
                if not t:
                    continue
                y[j] += t * y[i]
                Hj = H[j]
                for k in range(j + 1):
                    Hi[k] -= t * Hj[k]
                Ai, Aj = A[i], A[j]
                for k in range(n):
                    Ai[k] -= t * Aj[k]
                for row in B:
                    row[j] += t * row[i]

    reduce_rows(1, None)
    steps = 0
    bound = Fraction(0)
    while True:
        # A relation: a column of B with y_j ~ 0.
        jmin = min(range(n), key=lambda j: abs(y[j]))
        if abs(y[jmin]) < tol:
            return RelationOutcome.FOUND, [B[k][jmin] for k in range(n)], bound, steps
        hmax = max(abs(H[j][j]) for j in range(n - 1))
        if hmax == 0:
            return RelationOutcome.INCONCLUSIVE, None, bound, steps
        bound = Fraction(one, hmax)
        if bound > max_coeff:
            return RelationOutcome.NONE_BELOW_BOUND, None, bound, steps
        if max(abs(v) for row in B for v in row) > coeff_cap:
            return RelationOutcome.INCONCLUSIVE, None, bound, steps
        if steps >= max_steps:
            return RelationOutcome.RAN_OUT_OF_STEPS, None, bound, steps
        steps += 1
        # Exchange: the row m maximising gamma^(m+1) |H_mm|.
        m = max(range(n - 1), key=lambda i: gpow[i] * abs(H[i][i]))
        y[m], y[m + 1] = y[m + 1], y[m]
        A[m], A[m + 1] = A[m + 1], A[m]
        H[m], H[m + 1] = H[m + 1], H[m]
        for row in B:
            row[m], row[m + 1] = row[m + 1], row[m]
        # Corner: restore lower-trapezoidal form with a Givens rotation on columns m, m+1.
        if m < n - 2:
            a, b = H[m][m], H[m][m + 1]
            t0 = math.isqrt(a * a + b * b)
            if t0 == 0:
                return RelationOutcome.INCONCLUSIVE, None, bound, steps
            t1 = (a << prec) // t0
            t2 = (b << prec) // t0
            for i in range(m, n):
                t3, t4 = H[i][m], H[i][m + 1]
                H[i][m] = (t1 * t3 + t2 * t4) >> prec
                H[i][m + 1] = (t1 * t4 - t2 * t3) >> prec
        reduce_rows(m + 1, m + 1)


# --------------------------------------------------------------------------------------------
# LLL on a scaled lattice
# --------------------------------------------------------------------------------------------


def _lll(
    ctx: mpmath.MPContext, xs: list[Any], scale_digits: int
) -> tuple[list[list[int]], Fraction]:
    """Reduce the lattice spanned by the rows ``(e_i, round(x_i / max|x| * 10^scale_digits))``.

    Returns the reduced rows (their first ``n`` entries are coefficient vectors) and the
    minimum squared Gram--Schmidt length of the reduced basis (exact).
    """
    import flint

    n = len(xs)
    xmax = max(abs(v) for v in xs)
    W = ctx.mpf(10) ** scale_digits
    col = [int(ctx.nint(v / xmax * W)) for v in xs]
    rows = [[int(i == j) for j in range(n)] + [col[i]] for i in range(n)]
    reduced = flint.fmpz_mat(rows).lll()
    red = [[int(reduced[i, j]) for j in range(n + 1)] for i in range(n)]
    gram = [[sum(a * b for a, b in zip(r, t, strict=True)) for t in red] for r in red]
    dets = [1]
    for k in range(1, n + 1):
        dets.append(int(flint.fmpz_mat([row[:k] for row in gram[:k]]).det()))
    gs_min = min(Fraction(dets[k + 1], dets[k]) for k in range(n))
    return red, gs_min


# --------------------------------------------------------------------------------------------
# Public kernel
# --------------------------------------------------------------------------------------------


def find_integer_relation(
    values: Sequence[Any],
    dps: float,
    max_coeff: int | None = None,
    max_steps: int | None = None,
    *,
    method: str = "pslq",
    max_used_fraction: float = 0.5,
    margin: int | None = None,
) -> RelationResult:
    """Search an integer relation ``sum m_i x_i = 0`` among reals known to ``dps`` digits.

    Parameters
    ----------
    values : sequence of real numbers
        mpmath ``mpf`` (any context), ``int``, ``Fraction``, ``gmpy2`` numbers. They must be
        correct to ``dps`` significant digits; more digits do no harm.
    dps : float
        Decimal digits to which the values are known (``D``). The working precision is
        ``D + 10`` digits, in a local context.
    max_coeff : int, optional
        Stop with ``NONE_BELOW_BOUND`` once every relation is proved to have Euclidean norm
        above this. Default :func:`default_max_coeff`.
    max_steps : int, optional
        PSLQ iteration limit (default ``max(2000, 50 n^2 + 20 n D)``).
    method : {"pslq", "lll"}
        PSLQ (fixed point, gives a proved norm bound) or LLL on a scaled lattice (python-flint).
    max_used_fraction : float
        Accept a relation only if it uses at most this fraction of the ``D`` digits.
    margin : int, optional
        The relation must hold to ``D - margin`` digits (default :func:`default_margin`).

    Returns
    -------
    RelationResult

    Examples
    --------
    >>> ctx = mpmath.MPContext(); ctx.dps = 50
    >>> r = find_integer_relation([ctx.mpf(1), ctx.sqrt(2), ctx.sqrt(2) ** 3], 50)
    >>> r.coefficients, r.outcome.value
    ((0, 2, -1), 'found')
    >>> r2 = find_integer_relation([ctx.mpf(1), ctx.pi, ctx.e], 50, max_coeff=10**4)
    >>> r2.outcome.value, r2.norm_bound > 10**4
    ('none_below_bound', True)
    >>> find_integer_relation([ctx.mpf(1), ctx.pi, ctx.e], 50, method="lll").outcome.value
    'none_below_bound'
    """
    if dps <= 0:
        raise PrecisionError(f"need a positive number of known digits, got {dps}")
    if method not in ("pslq", "lll"):
        raise DiscoveryError(f"unknown integer-relation method {method!r} (pslq or lll)")
    n = len(values)
    if n < 2:
        raise DiscoveryError(f"an integer relation needs at least 2 numbers, got {n}")
    ctx = _context(dps)
    xs = [_to_ctx(ctx, v) for v in values]
    if margin is None:
        margin = default_margin(dps)
    if max_coeff is None:
        max_coeff = default_max_coeff(n, dps, max_used_fraction)
    if max_steps is None:
        max_steps = max(2000, 50 * n * n + 20 * n * int(dps))
    tol_digits = dps - margin
    if tol_digits <= 0:
        raise PrecisionError(f"{dps} digits leave nothing after a margin of {margin}")
    xmax = max(abs(v) for v in xs)
    if xmax == 0:
        raise DiscoveryError("all values are zero")

    def accept(coeffs: Sequence[int], bound: float, steps: int) -> RelationResult:
        rel = normalize_relation(coeffs)
        residual = abs(ctx.fsum(c * v for c, v in zip(rel, xs, strict=True)))
        scale = xmax * max(1, sum(abs(c) for c in rel))
        used = digits_used(rel)
        holds = residual <= scale * ctx.mpf(10) ** (-tol_digits)
        if holds and used <= max_used_fraction * dps:
            return RelationResult(
                RelationOutcome.FOUND, rel, bound, residual, used, float(dps),
                1.0 - used / dps, steps, method,
            )
        return RelationResult(
            RelationOutcome.INCONCLUSIVE, None, bound, residual, used, float(dps), 0.0,
            steps, method, rejected=rel if holds else None,
        )

    # A zero among the values is a relation by itself.
    for i, v in enumerate(xs):
        if abs(v) <= xmax * ctx.mpf(10) ** (-tol_digits):
            return accept([int(i == j) for j in range(n)], 1.0, 0)

    if method == "pslq":
        prec = ctx.prec
        fixed = [_to_fixed(ctx, v / xmax, prec) for v in xs]
        tol_bits = math.floor(tol_digits * _LOG2_10)
        outcome, rel, bound, steps = _pslq(fixed, prec, tol_bits, max_coeff, max_steps)
        fbound = _fraction_to_float(bound)
        if outcome is RelationOutcome.FOUND and rel is not None and any(rel):
            result = accept(rel, fbound, steps)
            if not result.found and fbound > max_coeff:
                return RelationResult(
                    RelationOutcome.NONE_BELOW_BOUND, None, fbound, None, 0.0, float(dps), 0.0,
                    steps, method,
                )
            return result
        return RelationResult(outcome, None, fbound, None, 0.0, float(dps), 0.0, steps, method)

    # LLL: scale so that a relation that holds to D - margin digits gives a short vector.
    red, gs_min = _lll(ctx, xs, math.floor(tol_digits))
    # A relation m with |m| <= N gives a lattice vector of length <= N sqrt(1 + n).
    bound = math.sqrt(_fraction_to_float(gs_min) / (1 + n))
    first = next((row[:n] for row in red if any(row[:n])), None)
    result = accept(first, bound, 1) if first is not None else None
    if result is not None and result.found:
        return result
    if bound > max_coeff:
        return RelationResult(
            RelationOutcome.NONE_BELOW_BOUND, None, bound, None, 0.0, float(dps), 0.0, 1, method
        )
    if result is not None:
        return result
    return RelationResult(
        RelationOutcome.INCONCLUSIVE, None, bound, None, 0.0, float(dps), 0.0, 1, method
    )


def _fraction_to_float(f: Fraction) -> float:
    try:
        return float(f)
    except OverflowError:
        return math.inf


class RelationOptions(TypedDict, total=False):
    """Keyword options of :func:`mobius_relation`, :func:`find_mobius` and
    :func:`find_polynomial`, passed on to :func:`find_integer_relation` (defaults there).

    Attributes
    ----------
    method : {"pslq", "lll"}
        The relation algorithm (default ``"pslq"``).
    max_steps : int or None
        PSLQ iteration limit.
    max_used_fraction : float
        Accept a relation only if it uses at most this fraction of the known digits (0.5).
    """

    method: str
    max_steps: int | None
    max_used_fraction: float


def mobius_from_coefficients(relation: Sequence[int]) -> MobiusRelation | None:
    """Read ``x = (c0 + c1 K)/(c2 + c3 K)`` from a relation ``r`` among ``[x, x K, 1, K]``.

    ``r = (c2, c3, -c0, -c1)``. Returns ``None`` when ``r`` does not involve ``x``
    (``c2 = c3 = 0``: a relation of ``K`` alone).

    Examples
    --------
    >>> mobius_from_coefficients((3, -8, 0, -4))
    x = -4*K/(8*K - 3)
    >>> mobius_from_coefficients((0, 0, 1, 2)) is None
    True
    """
    r = [int(c) for c in relation]
    if len(r) != 4:
        raise DiscoveryError(f"a Mobius relation has 4 coefficients, got {len(r)}")
    c2, c3, c0, c1 = r[0], r[1], -r[2], -r[3]
    if c2 == 0 and c3 == 0:
        return None
    c3, c2, c1, c0 = normalize_relation((c3, c2, c1, c0))
    return MobiusRelation(c0, c1, c2, c3)


def mobius_relation(
    x: Any, K: Any, dps: float, max_coeff: int | None = None, **options: Unpack[RelationOptions]
) -> RelationResult:
    """The relation search among ``[x, x K, 1, K]`` behind :func:`find_mobius`.

    Examples
    --------
    >>> ctx = mpmath.MPContext(); ctx.dps = 40
    >>> mobius_relation(4 / (3 * ctx.pi - 8), ctx.pi, 40).coefficients
    (8, -3, 4, 0)
    """
    ctx = _context(dps)
    xv, Kv = _to_ctx(ctx, x), _to_ctx(ctx, K)
    return find_integer_relation([xv, xv * Kv, ctx.mpf(1), Kv], dps, max_coeff, **options)


def find_mobius(
    x: Any, K: Any, dps: float, max_coeff: int | None = None, **options: Unpack[RelationOptions]
) -> MobiusRelation | None:
    """Find ``x = (c0 + c1 K)/(c2 + c3 K)`` with small integers, ``x`` and ``K`` known to
    ``dps`` digits; ``None`` if no relation passes the evidence rules.

    Examples
    --------
    >>> ctx = mpmath.MPContext(); ctx.dps = 60
    >>> find_mobius(6 / ctx.zeta(3), ctx.zeta(3), 60)
    x = 6/K
    >>> find_mobius(1 / (ctx.e - 2), ctx.e, 60)
    x = 1/(K - 2)
    >>> find_mobius(ctx.pi, ctx.e, 60) is None
    True
    """
    result = mobius_relation(x, K, dps, max_coeff, **options)
    if not result.found or result.coefficients is None:
        return None
    m = mobius_from_coefficients(result.coefficients)
    if m is None:
        return None
    return MobiusRelation(m.c0, m.c1, m.c2, m.c3, result)


def find_polynomial(
    x: Any, degree: int, dps: float, max_coeff: int | None = None,
    **options: Unpack[RelationOptions],
) -> RelationResult:
    """A polynomial ``sum c_k x^k = 0`` of degree at most ``degree`` (coefficients ascending).

    Examples
    --------
    >>> ctx = mpmath.MPContext(); ctx.dps = 40
    >>> find_polynomial((1 + ctx.sqrt(5)) / 2, 2, 40).coefficients
    (1, 1, -1)
    """
    if degree < 1:
        raise DiscoveryError(f"polynomial degree must be at least 1, got {degree}")
    ctx = _context(dps)
    xv = _to_ctx(ctx, x)
    powers = [ctx.mpf(1)]
    for _ in range(degree):
        powers.append(powers[-1] * xv)
    return find_integer_relation(powers, dps, max_coeff, **options)
