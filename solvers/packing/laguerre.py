"""Laguerre–Gauss functions: the radial Fourier eigenbasis used by the packing bounds.

On :math:`\\mathbb{R}^n` with :math:`\\alpha = n/2 - 1`, the radial function
:math:`x \\mapsto L_k^{\\alpha}(2\\pi|x|^2) e^{-\\pi|x|^2}` is an eigenfunction of the Fourier
transform :math:`\\hat f(\\xi) = \\int f(x) e^{-2\\pi i \\langle x, \\xi\\rangle} dx` with
eigenvalue
:math:`(-1)^k`. So with :math:`u = 2\\pi|x|^2` and
:math:`f(x) = P(u) e^{-u/2}`, :math:`P = \\sum_k c_k L_k^{\\alpha}`, the transform is
:math:`\\hat f(\\xi) = \\hat P(2\\pi|\\xi|^2) e^{-\\pi|\\xi|^2}` with
:math:`\\hat P = \\sum_k (-1)^k c_k L_k^{\\alpha}`.

This module has the exact side (rational coefficients, python-flint ``fmpq_poly``) and the
numeric side (rows of values and derivatives of the scaled functions
:math:`L_k^{\\alpha}(u) e^{-u/2}` in a gmpy2 context of explicit precision, and a float64 matrix
for sampled linear programs).

Examples
--------
>>> laguerre_poly(2, alpha_of_dimension(8))
1/2*x^2 + (-5)*x + 10
>>> to_monomial([0, 0, 1], alpha_of_dimension(8)) == laguerre_poly(2, 3)
True
>>> fourier_coefficients(["1/2", 3, -1])
(Fraction(1, 2), Fraction(-3, 1), Fraction(-1, 1))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache

import gmpy2
import numpy as np
from flint import fmpq, fmpq_poly

from solvers.errors import DiscoveryError

__all__ = [
    "alpha_of_dimension",
    "laguerre_poly",
    "to_monomial",
    "fourier_coefficients",
    "as_fraction",
    "scaled_rows",
    "gauss_laguerre_matrix",
]


def alpha_of_dimension(n: int) -> Fraction:
    """The Laguerre parameter :math:`\\alpha = n/2 - 1` of radial functions on :math:`R^n`.

    Examples
    --------
    >>> alpha_of_dimension(3)
    Fraction(1, 2)
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise DiscoveryError(f"the dimension must be a positive integer, not {n!r}")
    return Fraction(n - 2, 2)


def as_fraction(x: object) -> Fraction:
    """An exact rational from an int, Fraction, ``"p/q"`` text, gmpy2 ``mpq`` or flint ``fmpq``.

    Examples
    --------
    >>> as_fraction("-3/4"), as_fraction(2)
    (Fraction(-3, 4), Fraction(2, 1))
    """
    if isinstance(x, Fraction):
        return x
    if isinstance(x, bool):
        raise DiscoveryError(f"not a rational number: {x!r}")
    if isinstance(x, int):
        return Fraction(x)
    if isinstance(x, str):
        text = x.strip()
        if len(text) > 100_000:
            raise DiscoveryError("rational text longer than 100000 characters")
        num, _, den = text.partition("/")
        try:
            p = int(gmpy2.mpz(num.strip()))
            q = int(gmpy2.mpz(den.strip())) if den else 1
        except ValueError:
            raise DiscoveryError(f"not a rational number 'p/q': {x!r}") from None
        if q == 0:
            raise DiscoveryError(f"zero denominator in {x!r}")
        return Fraction(p, q)
    if isinstance(x, fmpq):
        return Fraction(int(x.p), int(x.q))
    if type(x).__name__ == "mpq":
        return Fraction(int(x.numerator), int(x.denominator))
    raise DiscoveryError(f"not an exact rational number: {x!r}")


def _fmpq(x: Fraction) -> fmpq:
    return fmpq(int(x.numerator), int(x.denominator))


@lru_cache(maxsize=4096)
def _laguerre_cached(k: int, alpha: Fraction) -> fmpq_poly:
    a = _fmpq(alpha)
    coeffs = []
    for i in range(k + 1):
        # binom(k + alpha, k - i) = prod_{t=i+1}^{k} (alpha + t) / (k - i)!
        num = fmpq(1)
        for t in range(i + 1, k + 1):
            num *= a + t
        c = num / (math.factorial(k - i) * math.factorial(i))
        coeffs.append(-c if i % 2 else c)
    return fmpq_poly(coeffs)


def laguerre_poly(k: int, alpha: Fraction | int) -> fmpq_poly:
    """The generalised Laguerre polynomial :math:`L_k^{\\alpha}` with exact rational coefficients.

    Examples
    --------
    >>> laguerre_poly(1, Fraction(1, 2))
    (-1)*x + 3/2
    """
    if k < 0:
        raise DiscoveryError(f"Laguerre index must be non-negative, not {k}")
    return _laguerre_cached(int(k), Fraction(alpha))


def to_monomial(coeffs: Sequence, alpha: Fraction | int) -> fmpq_poly:
    """The exact polynomial :math:`\\sum_k c_k L_k^{\\alpha}` in the monomial basis.

    Examples
    --------
    >>> to_monomial(["1", "-1"], 0)
    x
    """
    total = fmpq_poly([])
    for k, c in enumerate(coeffs):
        c = as_fraction(c)
        if c:
            total += laguerre_poly(k, alpha) * _fmpq(c)
    return total


def fourier_coefficients(coeffs: Sequence) -> tuple[Fraction, ...]:
    """Laguerre coefficients of :math:`\\hat P`: :math:`c_k \\mapsto (-1)^k c_k` (exact)."""
    return tuple(as_fraction(c) if k % 2 == 0 else -as_fraction(c) for k, c in enumerate(coeffs))


def scaled_rows(
    ctx: gmpy2.context, alpha: Fraction, u, degree: int, order: int = 1
) -> list[list]:
    """Rows of derivatives of the scaled basis :math:`g_k(u) = L_k^{\\alpha}(u) e^{-u/2}`.

    Row ``j`` (``0 <= j <= order <= 3``) holds :math:`g_k^{(j)}(u)` for ``k = 0..degree``, so
    that the dot product with Laguerre coefficients ``c`` is the ``j``-th derivative of
    :math:`P(u)e^{-u/2}` at ``u``. All arithmetic is done in the gmpy2 context ``ctx``.

    Examples
    --------
    >>> ctx = gmpy2.context(precision=80)
    >>> rows = scaled_rows(ctx, Fraction(0), gmpy2.mpz(0), 2, order=1)
    >>> [float(x) for x in rows[0]], [float(x) for x in rows[1]]
    ([1.0, 1.0, 1.0], [-0.5, -1.5, -2.5])
    """
    if not 0 <= order <= 3:
        raise DiscoveryError(f"derivative order must be 0..3, not {order}")
    u = ctx.plus(u)
    # plain[j][k] = d^j/du^j L_k^alpha(u) = (-1)^j L_{k-j}^{alpha+j}(u)
    plain = []
    for j in range(order + 1):
        vals = _laguerre_values(ctx, alpha + j, u, degree - j) if degree >= j else []
        vals = [gmpy2.mpfr(0)] * j + vals
        if j % 2:
            vals = [ctx.minus(v) for v in vals]
        plain.append(vals)
    # d^j/du^j [L e^{-u/2}] = e^{-u/2} sum_i binom(j, i) (-1/2)^(j-i) L^{(i)}
    s = ctx.exp(ctx.div(u, -2))
    rows = []
    for j in range(order + 1):
        weights = [math.comb(j, i) * Fraction(-1, 2) ** (j - i) for i in range(j + 1)]
        row = []
        for k in range(degree + 1):
            acc = gmpy2.mpfr(0)
            for i, w in enumerate(weights):
                acc = ctx.add(acc, ctx.mul(plain[i][k], ctx.div(w.numerator, w.denominator)))
            row.append(ctx.mul(acc, s))
        rows.append(row)
    return rows


def _laguerre_values(ctx: gmpy2.context, beta: Fraction, u, degree: int) -> list:
    """:math:`L_k^{\\beta}(u)` for ``k = 0..degree`` by the three-term recurrence."""
    if degree < 0:
        return []
    b = ctx.div(beta.numerator, beta.denominator)
    vals = [gmpy2.mpfr(1)]
    if degree >= 1:
        vals.append(ctx.sub(ctx.add(b, 1), u))
    for k in range(1, degree):
        # (k+1) L_{k+1} = (2k + 1 + beta - u) L_k - (k + beta) L_{k-1}
        t1 = ctx.mul(ctx.sub(ctx.add(b, 2 * k + 1), u), vals[k])
        t2 = ctx.mul(ctx.add(b, k), vals[k - 1])
        vals.append(ctx.div(ctx.sub(t1, t2), k + 1))
    return vals


def gauss_laguerre_matrix(n: int, us: np.ndarray, degree: int) -> np.ndarray:
    """Float64 matrix ``M[i, k] = L_k^{alpha}(u_i) e^{-u_i/2}`` (``alpha = n/2 - 1``).

    The scaled recurrence keeps every entry bounded, so this is safe in double precision for
    moderate degrees (up to about 30 terms for the linear programs built on it).

    Examples
    --------
    >>> M = gauss_laguerre_matrix(2, np.array([0.0, 1.0]), 1)
    >>> np.round(M, 6).tolist()
    [[1.0, 1.0], [0.606531, 0.0]]
    """
    alpha = float(alpha_of_dimension(n))
    us = np.asarray(us, dtype=float)
    s = np.exp(-us / 2)
    M = np.empty((us.size, degree + 1))
    M[:, 0] = s
    if degree >= 1:
        M[:, 1] = (1 + alpha - us) * s
    for k in range(1, degree):
        M[:, k + 1] = ((2 * k + 1 + alpha - us) * M[:, k] - (k + alpha) * M[:, k - 1]) / (k + 1)
    return M
