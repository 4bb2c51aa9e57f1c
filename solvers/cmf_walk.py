"""Walks of conservative matrix fields: exact integer products, and the lattice to walk on.

The pieces of :class:`solvers.cmf.CMFTrajectory` that do not need the field itself:

* the trajectory matrix in ``n``, made primitive: ``T(n) = λ(n) · T~(n)`` with ``T~(n)`` an
  integer polynomial matrix (:func:`_primitive_form`);
* exact walks ``T~(lo) ··· T~(hi - 1)``: values of the entries by forward differences,
  blocks multiplied in small integers (:func:`_leaf_products`), then a balanced
  :func:`product_tree`;
* the lattice: :func:`primitive_trajectories` (directions) and :func:`box_starts` (start
  points), and :func:`mobius_claim`, the text of a walk's limit as a Möbius image of a constant.

Examples
--------
>>> _values(flint.fmpz_poly([1, 0, 1]), 0, 5)   # n^2 + 1
[1, 2, 5, 10, 17]
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator, Sequence
from fractions import Fraction
from typing import Any

import flint
import sympy as sp

from solvers.cmf_entries import _mpoly_ctx, _PMat
from solvers.continued_fractions import log10_abs
from solvers.errors import DiscoveryError

__all__ = ["product_tree", "primitive_trajectories", "box_starts", "mobius_claim"]

_LEAF = 16  # steps multiplied sequentially in small integers before the product tree


def _poly_to_sympy(p: Any, n: sp.Symbol) -> sp.Expr:
    return sum(
        (sp.Integer(int(c)) * n**k for k, c in enumerate(p.coeffs()) if c != 0), sp.Integer(0)
    )


def _uni_to_fmpq_poly(p: Any) -> Any:
    coeffs: dict[int, Any] = {k[0]: c for k, c in p.to_dict().items()}
    if not coeffs:
        return flint.fmpq_poly([])
    return flint.fmpq_poly([coeffs.get(k, 0) for k in range(max(coeffs) + 1)])


def _poly_to_sympy_q(p: Any, n: sp.Symbol) -> sp.Expr:
    out = sp.Integer(0)
    for k, c in enumerate(p.coeffs()):
        if c != 0:
            out += sp.Rational(int(c.p), int(c.q)) * n**k
    return out


# --------------------------------------------------------------------------- trajectory matrix


def _in_n(pm: _PMat, trajectory: Sequence[int], start: Sequence[Any]
          ) -> tuple[list[list[Any]], Any, Any]:
    """The path matrix ``pm`` (from ``x`` to ``x + t``) at ``x = s + n t``: ``(rows, num,
    den)`` as ``flint.fmpq_poly`` in ``n``, so that ``T(n) = (num/den) · rows``."""
    nctx = _mpoly_ctx(("n",))
    (nvar,) = nctx.gens()
    args = [flint.fmpq(Fraction(s).numerator, Fraction(s).denominator) + t * nvar
            for s, t in zip(start, trajectory, strict=True)]

    def comp(p: Any) -> Any:
        return _uni_to_fmpq_poly(p.compose(*args, ctx=nctx))

    rows = [[comp(e) for e in row] for row in pm.rows]
    num, den = comp(pm.num), comp(pm.den)
    return rows, num, den


def _primitive_form(rows: list[list[Any]], num: Any, den: Any
                    ) -> tuple[tuple[tuple[Any, ...], ...], sp.Expr]:
    """``(T~, λ)`` with ``T(n) = (num/den) · rows = λ(n) · T~(n)`` exactly, ``T~`` a primitive
    integer polynomial matrix (``flint.fmpz_poly`` entries); some entry of ``rows`` is nonzero."""
    nonzero = [e for row in rows for e in row if e != 0]
    g = nonzero[0]
    for e in nonzero[1:]:
        g = g.gcd(e)
    # make g monic with the coefficient content folded in: divide entries by g (over Q),
    # then clear denominators and the integer content.
    rows = [[e / g if e != 0 else e for e in row] for row in rows]
    lcm_den = 1
    for row in rows:
        for e in row:
            lcm_den = math.lcm(lcm_den, int(e.denom()))
    ints = [[flint.fmpz_poly([int(c * lcm_den) for c in e.coeffs()]) for e in row]
            for row in rows]
    content = 0
    for row in ints:
        for e in row:
            content = math.gcd(content, int(e.content()))
    ints = [[flint.fmpz_poly([int(c) // content for c in e.coeffs()]) for e in row]
            for row in ints]
    # exact scalar: T(n) = (num/den) * g / (lcm_den/content) * ints
    nsym = sp.Symbol("n")
    s_num, s_den = num * g * content, den * lcm_den
    h = s_num.gcd(s_den)
    s_num, s_den = s_num / h, s_den / h
    scale = _poly_to_sympy_q(s_num, nsym) / _poly_to_sympy_q(s_den, nsym)
    return tuple(tuple(row) for row in ints), scale


# --------------------------------------------------------------------------- exact walks


def product_tree(mats: list[Any]) -> Any:
    """The ordered product ``mats[0] · mats[1] ··· mats[-1]`` by balanced pairwise reduction.

    Operands of equal size meet at every level, so exact big-integer products cost
    ``O(M(size) log N)`` instead of the quadratic sequential product.

    Examples
    --------
    >>> F = flint.fmpz_mat(2, 2, [0, 1, 1, 1])
    >>> product_tree([F] * 10)[0, 1]   # Fibonacci F_10
    55
    """
    if not mats:
        raise DiscoveryError("empty product")
    while len(mats) > 1:
        nxt = [mats[i] * mats[i + 1] for i in range(0, len(mats) - 1, 2)]
        if len(mats) % 2:
            nxt.append(mats[-1])
        mats = nxt
    return mats[0]


def _leaf_products(polys: Sequence[Sequence[Any]], lo: int, hi: int,
                   block: int = _LEAF) -> list[Any]:
    """Products of ``T~(n)`` (entries ``polys``) over blocks of ``block`` consecutive ``n`` in
    ``[lo, hi)``, multiplied sequentially in small Python integers (``flint.fmpz_mat``)."""
    r = len(polys)
    vals = [_values(e, lo, hi) for row in polys for e in row]
    out = []
    for k0 in range(0, hi - lo, block):
        k1 = min(k0 + block, hi - lo)
        if r == 2:
            v00, v01, v10, v11 = vals
            a, b, c, d = v00[k0], v01[k0], v10[k0], v11[k0]
            for k in range(k0 + 1, k1):
                e, f, g, h = v00[k], v01[k], v10[k], v11[k]
                a, b, c, d = a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h
            out.append(flint.fmpz_mat(2, 2, [a, b, c, d]))
            continue
        acc = [[vals[i * r + j][k0] for j in range(r)] for i in range(r)]
        for k in range(k0 + 1, k1):
            m = [[vals[i * r + j][k] for j in range(r)] for i in range(r)]
            acc = [[sum(acc[i][t] * m[t][j] for t in range(r)) for j in range(r)]
                   for i in range(r)]
        out.append(flint.fmpz_mat(r, r, [x for row in acc for x in row]))
    return out


def _log10_gap(conv: tuple[Any, Any, Any, Any]) -> float:
    p0, p1, q0, q1 = conv
    num = p1 * q0 - p0 * q1
    if num == 0:
        return -math.inf
    if q0 == 0:
        return math.inf
    return log10_abs(num) - log10_abs(q0) - log10_abs(q1)


def _values(p: Any, lo: int, hi: int) -> list[int]:
    """``p(lo), ..., p(hi-1)`` for an integer polynomial, exactly, by forward differences."""
    coeffs = [int(c) for c in p.coeffs()]
    count = hi - lo
    if count <= 0:
        return []
    d = len(coeffs) - 1
    if d <= 0:
        return [coeffs[0] if coeffs else 0] * count

    def horner(n: int) -> int:
        v = 0
        for c in reversed(coeffs):
            v = v * n + c
        return v

    if count <= d + 1:
        return [horner(n) for n in range(lo, hi)]
    diffs = [horner(lo + k) for k in range(d + 1)]
    for k in range(1, d + 1):  # diffs[k] = Δ^k p(lo)
        for j in range(d, k - 1, -1):
            diffs[j] -= diffs[j - 1]
    out = [diffs[0]]
    for _ in range(count - 1):
        for k in range(d):
            diffs[k] += diffs[k + 1]
        out.append(diffs[0])
    return out


# --------------------------------------------------------------------------- relations as text


def _lin_text(a: int, b: int, K: str) -> str:
    """``a + b K`` as short text (constant term first)."""
    if b == 0:
        return str(a)
    kt = K if b == 1 else f"-{K}" if b == -1 else f"{b}*{K}"
    if a == 0:
        return kt
    if kt.startswith("-"):
        return f"{a} - {kt[1:]}"
    return f"{a} + {kt}"


def mobius_claim(coefficients: Sequence[int], constant_text: str) -> str:
    """``(c0 + c1 K)/(c2 + c3 K)`` as claim text for the safe expression parser.

    Parameters
    ----------
    coefficients : (c0, c1, c2, c3)
        The Möbius coefficients (as in ``solvers.relations.MobiusRelation``).
    constant_text : str
        The constant as the parser reads it, e.g. ``"zeta(3)"`` or ``"log(2)"``.

    Examples
    --------
    >>> mobius_claim((1, -1, 0, 1), "zeta(3)")
    '(1 - zeta(3))/zeta(3)'
    >>> mobius_claim((0, 6, 1, 0), "pi")
    '6*pi'
    >>> mobius_claim((-1, 0, -1, 1), "e")
    '-1/(-1 + e)'
    """
    c0, c1, c2, c3 = (int(c) for c in coefficients)
    simple = re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*(\([0-9]+\))?", constant_text)
    K = constant_text if simple else f"({constant_text})"
    g = math.gcd(c2, c3)
    if g and c2 % g == 0 and c3 == 0 and c0 % c2 == 0 and c1 % c2 == 0:
        c0, c1, c2 = c0 // c2, c1 // c2, 1
    num = _lin_text(c0, c1, K)
    if c3 == 0 and c2 == 1:
        return num
    den = _lin_text(c2, c3, K)
    if (c0 != 0 and c1 != 0) or num.startswith("-") and " " in num:
        num = f"({num})"
    if not (c3 == 0 or (c2 == 0 and c3 == 1)):
        den = f"({den})"
    return f"{num}/{den}"


# --------------------------------------------------------------------------- enumeration


def primitive_trajectories(dim: int, max_norm: int, nonnegative: bool = True) -> Iterator[tuple]:
    """Integer directions with ``max |t_i| <= max_norm`` and ``gcd = 1``, in a fixed order.

    Parameters
    ----------
    dim : int
        Number of axes.
    max_norm : int
        Bound on the sup norm.
    nonnegative : bool
        Only directions with every component ``>= 0`` (the usual forward walks).

    Examples
    --------
    >>> list(primitive_trajectories(2, 2))
    [(0, 1), (1, 0), (1, 1), (1, 2), (2, 1)]
    """
    lo = 0 if nonnegative else -max_norm
    vecs = []
    for v in itertools.product(range(lo, max_norm + 1), repeat=dim):
        if not any(v):
            continue
        if math.gcd(*v) != 1:
            continue
        vecs.append(v)
    vecs.sort(key=lambda v: (max(abs(k) for k in v), sum(abs(k) for k in v), v))
    return iter(vecs)


def box_starts(dim: int, lo: int, hi: int) -> Iterator[tuple[int, ...]]:
    """Every integer point of the box ``[lo, hi]^dim``, in lexicographic order.

    Examples
    --------
    >>> list(box_starts(2, 0, 1))
    [(0, 0), (0, 1), (1, 0), (1, 1)]
    """
    return itertools.product(range(lo, hi + 1), repeat=dim)
