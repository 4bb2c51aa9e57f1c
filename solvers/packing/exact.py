"""Exact real-root counting for rational polynomials: Sturm sequences (python-flint ``fmpq_poly``).

Every remainder is rescaled by a positive rational to a primitive integer polynomial (signs
are unchanged, so Sturm's theorem still applies) to keep the coefficients small.

Examples
--------
>>> from flint import fmpq_poly
>>> p = fmpq_poly([-2, 0, 1]) * fmpq_poly([1, 0, 1])          # (x^2 - 2)(x^2 + 1)
>>> roots_above(p, 0), roots_above(p, -2), roots_between(p, -1, 1)
(1, 2, 0)
>>> sign_at(p, Fraction(3, 2))
1
"""

from __future__ import annotations

from fractions import Fraction

from flint import fmpq, fmpq_poly, fmpz_poly

__all__ = ["sturm_sequence", "roots_above", "roots_between", "sign_at", "evaluate"]


def _fmpq(x) -> fmpq:
    x = Fraction(x)
    return fmpq(x.numerator, x.denominator)


def _primitive(p: fmpq_poly) -> fmpq_poly:
    """``p`` times a positive rational, with coprime integer coefficients."""
    if p.is_zero():
        return p
    num = fmpz_poly(p.numer())
    content = num.content()
    return fmpq_poly(num) / content if content != 1 else fmpq_poly(num)


def sturm_sequence(p: fmpq_poly) -> list[fmpq_poly]:
    """The Sturm sequence ``p, p', -rem(p, p'), ...`` (each term scaled by a positive rational)."""
    if p.degree() < 1:
        return [p]
    seq = [_primitive(p), _primitive(p.derivative())]
    while seq[-1].degree() > 0:
        r = -(seq[-2] % seq[-1])
        if r.is_zero():
            break
        seq.append(_primitive(r))
    return seq


def evaluate(p: fmpq_poly, x) -> Fraction:
    """Exact value ``p(x)`` as a Fraction."""
    v = p(_fmpq(x))
    return Fraction(int(v.p), int(v.q))


def sign_at(p: fmpq_poly, x) -> int:
    """Sign of ``p(x)`` (exact)."""
    v = evaluate(p, x)
    return (v > 0) - (v < 0)


def _variations(signs: list[int]) -> int:
    s = [x for x in signs if x != 0]
    return sum(1 for a, b in zip(s, s[1:], strict=False) if a != b)


def _signs_at_infinity(seq: list[fmpq_poly], direction: int) -> list[int]:
    out = []
    for q in seq:
        lead = q.leading_coefficient()
        s = (lead > 0) - (lead < 0)
        if direction < 0 and q.degree() % 2:
            s = -s
        out.append(s)
    return out


def roots_between(p: fmpq_poly, a, b, seq: list[fmpq_poly] | None = None) -> int:
    """Number of distinct real roots of ``p`` in the half-open interval ``(a, b]``.

    ``a`` or ``b`` may be ``None`` for minus or plus infinity.
    """
    if p.is_zero():
        raise ValueError("the zero polynomial has infinitely many roots")
    seq = seq if seq is not None else sturm_sequence(p)
    va = (
        _variations(_signs_at_infinity(seq, -1))
        if a is None
        else _variations([sign_at(q, a) for q in seq])
    )
    vb = (
        _variations(_signs_at_infinity(seq, +1))
        if b is None
        else _variations([sign_at(q, b) for q in seq])
    )
    return va - vb


def roots_above(p: fmpq_poly, a) -> int:
    """Number of distinct real roots of ``p`` in ``(a, +infinity)``."""
    return roots_between(p, a, None)
