"""Polynomial bookkeeping for the three-point SDP (kernel basis, SOS maps), exact and float.

Variables: :math:`a = A/s`, :math:`b = B/s`, :math:`c = C/s` with :math:`A = 2\\pi|x|^2`,
:math:`B = 2\\pi|y|^2`, :math:`C = 2\\pi\\langle x, y\\rangle`, :math:`s = 2\\pi R^2`. On the
truncation ball :math:`|x|, |y| \\le R` all three lie in :math:`[-1, 1]`.

The kernel is the *polynomial*
:math:`p(a, b, c) = \\sum_{k=0}^{K}\\sum_{i,j=0}^{m} F_k[i, j]\\, a^i b^j H_k(a, b, c)` with
:math:`H_k = (ab)^{k/2} P^{(n)}_k(c/\\sqrt{ab})` (zonal harmonic, Gegenbauer normalised by
:math:`P_k(1) = 1`): for PSD blocks :math:`F_k` the kernel :math:`(x, y) \\mapsto p` is positive
definite on :math:`\\mathbb{R}^n` (products and sums of positive definite kernels).

Examples
--------
>>> sorted(harmonic(2, 4).items())            # (ab)P_2(c/sqrt(ab)) = (4c^2 - ab)/3 in n = 4
[((0, 0, 2), Fraction(4, 3)), ((1, 1, 0), Fraction(-1, 3))]
>>> monomials(1)
[(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1)]
"""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations_with_replacement

__all__ = ["gegenbauer", "harmonic", "monomials", "mul", "base_polynomials", "BASE_NAMES",
           "shell_coordinates", "to_shell", "shell_base_polynomials",
           "BASE_DEGREE", "Mono"]

Mono = tuple[int, int, int]

#: Base polynomials (in units of s), all >= 0 where condition (B) is imposed.
BASE_NAMES = ("a-r2", "b-r2", "a+b-2c-r2", "R2-a", "R2-b", "ab-c2", "a+b+2c")
BASE_DEGREE = (1, 1, 1, 1, 1, 2, 1)


def gegenbauer(k: int, n: int) -> list[Fraction]:
    """Ascending coefficients of the Gegenbauer polynomial :math:`P_k^{(n)}`, :math:`P_k(1)=1`.

    Examples
    --------
    >>> gegenbauer(2, 3)                      # Legendre (3t^2 - 1)/2
    [Fraction(-1, 2), Fraction(0, 1), Fraction(3, 2)]
    >>> gegenbauer(2, 2)                      # Chebyshev 2t^2 - 1
    [Fraction(-1, 1), Fraction(0, 1), Fraction(2, 1)]
    """
    prev, cur = [Fraction(1)], [Fraction(0), Fraction(1)]
    if k == 0:
        return prev
    for j in range(1, k):
        den = j + n - 2
        t_cur = [Fraction(0)] + [c * (2 * j + n - 2) for c in cur]
        nxt = [(t_cur[i] - (j * prev[i] if i < len(prev) else 0)) / den
               for i in range(len(t_cur))]
        prev, cur = cur, nxt
    return cur


def harmonic(k: int, n: int) -> dict[Mono, Fraction]:
    """:math:`(ab)^{k/2} P_k^{(n)}(c/\\sqrt{ab})` as a polynomial in ``(a, b, c)``."""
    out = {}
    for p, c in enumerate(gegenbauer(k, n)):
        if c and (k - p) % 2 == 0:
            l = (k - p) // 2
            out[(l, l, p)] = c
    return out


def monomials(degree: int) -> list[Mono]:
    """All exponent triples of total degree ``<= degree`` (graded order)."""
    out = []
    for d in range(degree + 1):
        for combo in combinations_with_replacement(range(3), d):
            e = [0, 0, 0]
            for v in combo:
                e[v] += 1
            out.append(tuple(e))
    return out


def mul(p: dict, q: dict) -> dict:
    """Product of two sparse polynomials ``{mono: coeff}``."""
    out: dict = {}
    for a, x in p.items():
        for b, y in q.items():
            m = (a[0] + b[0], a[1] + b[1], a[2] + b[2])
            out[m] = out.get(m, 0) + x * y
    return out


def base_polynomials(t: Fraction) -> list[dict]:
    """The base polynomials with ``t = u0/s = (r/R)^2``."""
    return [
        {(1, 0, 0): Fraction(1), (0, 0, 0): -t},
        {(0, 1, 0): Fraction(1), (0, 0, 0): -t},
        {(1, 0, 0): Fraction(1), (0, 1, 0): Fraction(1), (0, 0, 1): Fraction(-2), (0, 0, 0): -t},
        {(0, 0, 0): Fraction(1), (1, 0, 0): Fraction(-1)},
        {(0, 0, 0): Fraction(1), (0, 1, 0): Fraction(-1)},
        {(1, 1, 0): Fraction(1), (0, 0, 2): Fraction(-1)},
        {(1, 0, 0): Fraction(1), (0, 1, 0): Fraction(1), (0, 0, 1): Fraction(2)},
    ]


def shell_coordinates(t: Fraction) -> tuple[Fraction, Fraction]:
    """``(m0, h)`` with ``a = m0 + h*alpha`` mapping ``alpha in [-1, 1]`` onto ``[t, 1]``.

    Examples
    --------
    >>> shell_coordinates(Fraction(1, 2))
    (Fraction(3, 4), Fraction(1, 4))
    """
    return (1 + t) / 2, (1 - t) / 2


def to_shell(p: dict, t: Fraction) -> dict:
    """Rewrite ``p(a, b, c)`` in the shell coordinates ``(alpha, beta, c)`` (exact).

    Examples
    --------
    >>> to_shell({(1, 0, 0): Fraction(1)}, Fraction(1, 2)) == {(0, 0, 0): Fraction(3, 4),
    ...                                                        (1, 0, 0): Fraction(1, 4)}
    True
    """
    m0, h = shell_coordinates(t)
    la = {(0, 0, 0): m0, (1, 0, 0): h}
    lb = {(0, 0, 0): m0, (0, 1, 0): h}
    pa = [{(0, 0, 0): Fraction(1)}]
    pb = [{(0, 0, 0): Fraction(1)}]
    out: dict = {}
    for (i, j, k), v in p.items():
        while len(pa) <= i:
            pa.append(mul(pa[-1], la))
        while len(pb) <= j:
            pb.append(mul(pb[-1], lb))
        for mono, c in mul(mul(pa[i], pb[j]), {(0, 0, k): v}).items():
            out[mono] = out.get(mono, 0) + c
    return {k: v for k, v in out.items() if v}


def shell_base_polynomials(t: Fraction) -> list[dict]:
    """The base polynomials in shell coordinates, each times a positive constant.

    In order: ``1 + alpha`` (a >= t), ``1 + beta``, ``a + b - 2c - t``, ``1 - alpha`` (a <= 1),
    ``1 - beta``, ``ab - c^2``, ``a + b + 2c``.
    """
    base = base_polynomials(t)
    out = [to_shell(g, t) for g in base]
    m0, h = shell_coordinates(t)
    # normalise the four box constraints to 1 +- alpha / 1 +- beta
    return [{k: v / h for k, v in g.items()} if i in (0, 1, 3, 4) else g
            for i, g in enumerate(out)]
