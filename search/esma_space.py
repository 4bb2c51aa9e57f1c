"""The ESMA search space: left-hand sides ``P(K)/Q(K)``, sign periods, and how an LHS reads.

A left-hand side is a pair of integer coefficient tuples ``(numerator, denominator)`` in
ascending powers of the constant ``K``. This module enumerates them (normalised, lazily and
shell by shell: :func:`iter_lhs`, :func:`enumerate_lhs`), lists the primitive ``±1`` sign
periods of the signed continued fractions (:func:`sign_periods`), and turns an LHS into text
the safe parser reads back (:func:`lhs_text`) or into a number (:func:`lhs_value`). It knows
nothing of expansions or recurrences (see :mod:`search.esma_scan`).

Examples
--------
>>> lhs_text(((1, 1), (-1, 1)), "e"), sign_periods([1])
('(e + 1)/(e - 1)', ((-1,), (1,)))
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator, Sequence
from typing import Any

import flint
import mpmath

from solvers.errors import PrecisionError
from solvers.signed_cf import primitive_period

__all__ = [
    "LHS",
    "sign_periods",
    "enumerate_lhs",
    "iter_lhs",
    "lhs_text",
    "lhs_value",
]

LHS = tuple[tuple[int, ...], tuple[int, ...]]  # (numerator, denominator), ascending powers of K


def sign_periods(lengths: Sequence[int]) -> tuple[tuple[int, ...], ...]:
    """Primitive ``±1`` periods of the sign sequences with a period length in ``lengths``.

    A tuple that repeats a shorter period is the same sign sequence as that period and is
    listed once, as its primitive period (so lengths ``[2]`` give ``(1,)`` and ``(-1,)`` as
    well: the constant sequences have period 2 too).

    Examples
    --------
    >>> sign_periods([2])
    ((-1,), (1,), (-1, 1), (1, -1))
    >>> len(sign_periods([1, 2, 3]))
    10
    """
    out = set()
    for n in lengths:
        for t in itertools.product((-1, 1), repeat=n):
            out.add(primitive_period(t))
    return tuple(sorted(out, key=lambda s: (len(s), s)))


def _poly_eval(coeffs: Sequence[int], x: Any) -> Any:
    v: Any = 0
    for c in reversed(coeffs):
        v = v * x + c
    return v


def _reduce_lhs(num: Sequence[int], den: Sequence[int]) -> LHS | None:
    """Cancel the polynomial gcd and the content; ``None`` if the quotient is a rational."""
    P, Q = flint.fmpz_poly(list(num)), flint.fmpz_poly(list(den))
    if P.is_zero() or Q.is_zero():
        return None
    g = P.gcd(Q)
    if g.degree() > 0:
        P, Q = P // g, Q // g  # exact
    if P.degree() <= 0 and Q.degree() <= 0:
        return None
    n = [int(c) for c in P.coeffs()]
    d = [int(c) for c in Q.coeffs()]
    content = math.gcd(*n, *d)
    n = [c // content for c in n]
    d = [c // content for c in d]
    return tuple(n), tuple(d)


def enumerate_lhs(value: Any, degree: int = 1, coeff: int = 2) -> tuple[LHS, ...]:
    """The distinct left-hand sides ``P(K)/Q(K)``, normalised.

    ``P`` and ``Q`` have degree ``<= degree`` and coefficients in ``[-coeff, coeff]``.
    Normalisation (the rule that reproduces the 112 Möbius LHS of the ESMA paper for
    ``degree = 1, coeff = 2``):

    * the polynomial gcd of ``P`` and ``Q`` and the common integer content are cancelled;
    * quotients that are rational numbers (``P``, ``Q`` proportional; for Möbius maps
      ``c0 c3 - c1 c2 = 0``) are dropped;
    * ``x`` and ``-x`` are the same LHS (the published code keeps ``|P(K)/Q(K)|``): the
      representative has a **positive value**, and the leading coefficient of ``Q`` is
      positive (so ``(P, Q)`` and ``(-P, -Q)`` coincide).

    Parameters
    ----------
    value : mpf
        ``K`` to some 30+ digits (only signs of ``P(K)/Q(K)`` are needed).
    degree, coeff : int
        The box.

    Returns
    -------
    tuple of (numerator, denominator)
        Coefficient tuples in ascending powers of ``K``, padded to ``degree + 1``, sorted by
        (total size, coefficients).

    Examples
    --------
    >>> ctx = mpmath.MPContext(); ctx.dps = 30
    >>> lhs = enumerate_lhs(ctx.e, 1, 2)
    >>> len(lhs)
    112
    >>> lhs[:3]
    (((0, 1), (1, 0)), ((1, 0), (0, 1)), ((-1, 1), (0, 1)))
    """
    return tuple(iter_lhs(value, degree, coeff))


def _vectors(length: int, bound: int, size: int) -> Iterator[tuple[int, ...]]:
    """Integer vectors of ``length`` entries in ``[-bound, bound]`` with ``sum |c| = size``."""
    if length == 0:
        if size == 0:
            yield ()
        return
    for first in range(-min(bound, size), min(bound, size) + 1):
        for rest in _vectors(length - 1, bound, size - abs(first)):
            yield (first, *rest)


def iter_lhs(value: Any, degree: int = 1, coeff: int = 2) -> Iterator[LHS]:
    """The left-hand sides of :func:`enumerate_lhs`, lazily and in the same order.

    A normalised LHS of total size ``s`` (the sum of its absolute coefficients) is its own
    normal form, so it is met among the pairs ``(P, Q)`` of size ``s``; the pairs are walked
    shell by shell (``s = 1, 2, ...``) and each shell keeps the normal forms of its own
    size. The first task of a large search starts after one small shell, not after the
    whole box (about 530,000 pairs for degree 2, coefficients in [-4, 4]).

    Examples
    --------
    >>> ctx = mpmath.MPContext(); ctx.dps = 30
    >>> it = iter_lhs(ctx.e, 2, 4)
    >>> [next(it) for _ in range(3)]
    [((0, 0, 1), (1, 0, 0)), ((0, 1, 0), (1, 0, 0)), ((1, 0, 0), (0, 0, 1))]
    """
    ctx = mpmath.MPContext()
    ctx.dps = 50
    K = ctx.mpf(value)
    pad = degree + 1
    for size in range(1, 2 * pad * coeff + 1):
        shell: set[LHS] = set()
        for num_size in range(1, size + 1):
            for num in _vectors(pad, coeff, num_size):
                for den in _vectors(pad, coeff, size - num_size):
                    red = _reduce_lhs(num, den)
                    if red is None:
                        continue
                    n, d = red
                    if sum(map(abs, n + d)) != size:
                        continue  # met in its own, smaller shell
                    v = _poly_eval(n, K) / _poly_eval(d, K)
                    if abs(v) < ctx.mpf(10) ** -40:
                        raise PrecisionError(f"cannot decide the sign of LHS {n}/{d} at K = {K}")
                    if v < 0:
                        n = tuple(-c for c in n)
                    if d[-1] < 0:
                        n, d = tuple(-c for c in n), tuple(-c for c in d)
                    shell.add((n + (0,) * (pad - len(n)), d + (0,) * (pad - len(d))))
        yield from sorted(shell)


_ATOM = re.compile(r"[A-Za-z_][A-Za-z_0-9]*|\d+(\.\d+)?")


def _is_atomic(text: str) -> bool:
    """A name, a number, or one call ``name(...)`` spanning the whole text."""
    if _ATOM.fullmatch(text):
        return True
    m = re.match(r"[A-Za-z_][A-Za-z_0-9]*\(", text)
    if not m or not text.endswith(")"):
        return False
    depth = 0
    for i, ch in enumerate(text[m.end() - 1 :], start=m.end() - 1):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and i != len(text) - 1:
                return False
    return depth == 0


def _poly_in_k(coeffs: Sequence[int], k: str) -> tuple[str, int]:
    """Text of ``sum c_i K^i`` (descending powers) and its number of terms."""
    base = k if _is_atomic(k) else f"({k})"
    parts: list[tuple[int, str]] = []
    for i in range(len(coeffs) - 1, -1, -1):
        c = int(coeffs[i])
        if c == 0:
            continue
        mono = "" if i == 0 else (base if i == 1 else f"{base}^{i}")
        mag = abs(c)
        if not mono:
            body = str(mag)
        elif mag == 1:
            body = mono
        else:
            body = f"{mag}*{mono}"
        parts.append((c, body))
    text = ""
    for j, (c, body) in enumerate(parts):
        if j == 0:
            text = ("-" if c < 0 else "") + body
        else:
            text += (" - " if c < 0 else " + ") + body
    return text or "0", len(parts)


def lhs_text(lhs: LHS, k: str) -> str:
    """The LHS ``P(K)/Q(K)`` as text the safe parser reads back.

    Examples
    --------
    >>> lhs_text(((1, 1), (-1, 1)), "e")
    '(e + 1)/(e - 1)'
    >>> lhs_text(((0, 1), (2, 0)), "besseli(0,2)/besseli(1,2)")
    '(besseli(0,2)/besseli(1,2))/2'
    >>> lhs_text(((1, 0), (0, 2)), "besseli(0,2)/besseli(1,2)")
    '1/(2*(besseli(0,2)/besseli(1,2)))'
    >>> lhs_text(((-2, 1), (1, 0)), "e^2")
    '(e^2) - 2'
    """
    num, den = lhs
    n_text, n_terms = _poly_in_k(num, k)
    d_text, d_terms = _poly_in_k(den, k)
    if d_text == "1":
        return n_text
    if d_text == "-1":
        return f"-({n_text})" if n_terms > 1 else f"-{n_text}"
    if n_terms > 1 or n_text.startswith("-"):
        n_text = f"({n_text})"
    if d_terms > 1 or not _is_atomic(d_text):
        d_text = f"({d_text})"
    return f"{n_text}/{d_text}"


def lhs_value(lhs: LHS, K: Any) -> Any:
    """``P(K)/Q(K)`` in the arithmetic of ``K`` (an mpf: its context's precision).

    Examples
    --------
    >>> ctx = mpmath.MPContext(); ctx.dps = 20
    >>> print(ctx.nstr(lhs_value(((1, 1), (-1, 1)), ctx.e), 15))  # (e + 1)/(e - 1)
    2.16395341373865
    """
    num, den = lhs
    return _poly_eval(num, K) / _poly_eval(den, K)

