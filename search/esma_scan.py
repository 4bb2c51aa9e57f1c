"""The ESMA scan: exact signed expansions of left-hand sides, recurrences, and approval.

For one constant ``K`` and a list of left-hand sides (:mod:`search.esma_space`), each with
every sign period, :func:`scan` does steps 3 to 5 of the ESMA pipeline (see
:mod:`search.esma`):

* **exact expansion**: one rational enclosure of ``K`` (:func:`constant_enclosure`) is
  mapped exactly through the LHS (:func:`lhs_enclosure`) and expanded by integer arithmetic
  (:func:`expand_lhs`); an expansion that exhausts the enclosure is discarded, never padded;
* **pattern search**: Berlekamp–Massey modulo a prime, confirmed over Q
  (:func:`solvers.recurrences.find_recurrence`);
* **approval**: the recurrence regenerates ``>= 1000`` terms whose exact convergent must
  agree with the LHS on the required digits (:func:`approve`), and an approved pattern
  becomes a :class:`~search.base.Candidate`.

Everything here is a pure function of its arguments (the enclosures are cached per process).

Examples
--------
>>> res = scan("e", [((0, 1), (1, 0))], [(1,)], depth=60, dps=300)
>>> [c.claim for c in res.candidates], res.expansions
(['e'], 1)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath

from search.base import Candidate, canonical_key
from search.esma_space import LHS, lhs_text, lhs_value
from solvers.constants import get_constant
from solvers.continued_fractions import (
    convergent_error_log10,
    mpf_to_fraction,
    ratio_to_mpf,
    signed_cf_convergents,
    signed_expansion,
    simple_expansion,
)
from solvers.errors import DiscoveryError
from solvers.expr import evaluate_expression
from solvers.recurrences import find_recurrence
from solvers.signed_cf import SignedCFPattern

__all__ = [
    "ENGINE",
    "Hit",
    "ScanResult",
    "constant_enclosure",
    "lhs_enclosure",
    "expand_lhs",
    "approve",
    "scan",
]

ENGINE = "esma"  # the engine's name, and the kind of its candidates


# --------------------------------------------------------------------------- exact expansion


def _evaluate(text: str, dps: int) -> Any:
    return evaluate_expression(text, dps)


@functools.lru_cache(maxsize=32)
def constant_enclosure(text: str, dps: int) -> tuple[int, int, int]:
    """One rational enclosure ``K in [lo/2^s, hi/2^s]`` of the constant, to ~``dps`` digits.

    ``K`` is evaluated twice (at ``dps + 10`` and ``dps + 30`` digits, local contexts); the
    radius covers their difference (times 4) and the rounding of the better value, so a
    silently inaccurate evaluation widens the interval instead of producing wrong terms.
    Cached per process (the executor is otherwise pure).

    Examples
    --------
    >>> lo, hi, s = constant_enclosure("e", 50)
    >>> ctx = mpmath.MPContext(); ctx.dps = 60
    >>> lo < ctx.e * 2**s < hi, hi - lo < 2**s / 10**50
    (True, True)
    """
    ctx = mpmath.MPContext()
    ctx.dps = dps + 40
    # ctx.mpf at a higher precision than both values is exact (never mpmath.mpf(x): that
    # rounds to the *global* 53 bits)
    v1 = ctx.mpf(_evaluate(text, dps + 10))
    v2 = ctx.mpf(_evaluate(text, dps + 30))
    x2 = mpf_to_fraction(v2)
    gap = abs(mpf_to_fraction(v1) - x2)
    bits = int((dps + 30) * 3.3219280948873626) - 4
    radius = 4 * gap + abs(x2) / (1 << bits) + Fraction(1, 1 << (bits + 64))
    lo, hi = x2 - radius, x2 + radius
    s = int(dps * 3.3219280948873626) + 64
    return math.floor(lo * (1 << s)), math.ceil(hi * (1 << s)), s


def _image(lhs: LHS, k: int, s: int) -> tuple[int, int]:
    """``(N, D)`` with ``P(k/2^s)/Q(k/2^s) = N/D`` exactly (homogenised, integers)."""
    num, den = lhs
    d = len(num) - 1
    N = sum(c * k**i << (s * (d - i)) for i, c in enumerate(num))
    D = sum(c * k**i << (s * (d - i)) for i, c in enumerate(den))
    return N, D


def _derivative_sign(lhs: LHS, k: int, s: int) -> int:
    # sign of (P'Q - PQ')(k/2^s), homogenised
    num, den = lhs
    d = len(num) - 1

    def ev(c: Sequence[int], deg: int) -> int:
        return sum(ci * k**i << (s * (deg - i)) for i, ci in enumerate(c))

    dn = [i * c for i, c in enumerate(num)][1:] or [0]
    dd = [i * c for i, c in enumerate(den)][1:] or [0]
    w = ev(dn, d - 1) * ev(den, d) - ev(num, d) * ev(dd, d - 1)
    return (w > 0) - (w < 0)


def lhs_enclosure(lhs: LHS, enc: tuple[int, int, int]) -> tuple[Fraction, Fraction] | None:
    """The exact image of the enclosure of ``K`` under ``P/Q``, or ``None`` if undecidable.

    For Möbius maps (degree 1) the image of an interval avoiding the pole is the interval
    between the endpoint images. For higher degree, the map is also required to be monotone
    at both endpoints (same derivative sign), which on an interval of width ``2^-prec``
    excludes a critical point unless ``K`` is within ``2^-prec`` of one.

    Examples
    --------
    >>> s = 40
    >>> lo, hi = lhs_enclosure(((1, 0), (0, 1)), ((3 << s) - 1, (3 << s) + 1, s))  # 1/K
    >>> lo < Fraction(1, 3) < hi, float(hi - lo) < 1e-12
    (True, True)
    >>> lhs_enclosure(((1, 0), (-3, 1)), ((3 << s) - 1, (3 << s) + 1, s)) is None  # a pole
    True
    """
    lo, hi, s = enc
    N1, D1 = _image(lhs, lo, s)
    N2, D2 = _image(lhs, hi, s)
    if D1 == 0 or D2 == 0 or (D1 > 0) != (D2 > 0):
        return None  # a pole inside the enclosure
    if len(lhs[0]) > 2:
        s1, s2 = _derivative_sign(lhs, lo, s), _derivative_sign(lhs, hi, s)
        if s1 == 0 or s1 != s2:
            return None
    a, b = Fraction(N1, D1), Fraction(N2, D2)
    return (a, b) if a <= b else (b, a)


def expand_lhs(
    interval: tuple[Fraction, Fraction], signs: Sequence[int], depth: int
) -> tuple[int, ...] | None:
    """``depth`` terms of the signed expansion, or ``None`` if the enclosure runs out first.

    Examples
    --------
    >>> expand_lhs((Fraction(2718281828, 10**9), Fraction(2718281829, 10**9)), (1,), 8)
    (2, 1, 2, 1, 1, 4, 1, 1)
    >>> expand_lhs((Fraction(2718281828, 10**9), Fraction(2718281829, 10**9)), (1,), 30) is None
    True
    """
    exp = signed_expansion(interval, tuple(signs), depth)
    if exp.reason != "complete" or len(exp.terms) < depth:
        return None
    return exp.terms


# --------------------------------------------------------------------------- approval


def _digits(ctx: Any, x: Any, p: Any, q: Any, cap: int) -> int:
    if q == 0:
        return 0
    diff = abs(x - ratio_to_mpf(ctx, p, q))
    if diff == 0:
        return cap
    scale = max(1, abs(x))
    return max(0, min(cap, int(math.floor(-float(ctx.log10(diff / scale))))))


def approve(
    pattern: SignedCFPattern,
    x: Any,
    digits: int,
    terms: int = 1000,
    max_terms: int = 64_000,
) -> tuple[int, int]:
    """Digits on which the pattern's exact convergent agrees with ``x``, and the depth used.

    Starts from ``terms`` regenerated terms; while short of ``digits`` it doubles the depth
    if a linear extrapolation of the digits gained between ``N/2`` and ``N`` reaches
    ``digits`` before ``max_terms`` (so a pattern that only matched by accident, like a
    long run of 2s, is rejected at once).

    Parameters
    ----------
    pattern : SignedCFPattern
    x : mpf
        The LHS value, computed independently at ``>= digits + 20`` digits.
    digits : int
        Digits required.

    Returns
    -------
    (int, int)
        Digits agreed (capped at the precision of ``x`` minus 10) and the depth.

    Examples
    --------
    >>> ctx = mpmath.MPContext(); ctx.dps = 80
    >>> golden = SignedCFPattern.from_terms([1] * 20, [1])  # 1 + 1/(1 + 1/(1 + ...))
    >>> approve(golden, (1 + ctx.sqrt(5)) / 2, 60)[0] >= 60
    True
    >>> approve(golden, ctx.mpf(1.618), 60)  # 4 digits agree: not approved at 60
    (4, 1000)
    """
    ctx = x.context  # the (local) context x was computed in; read, never modified
    cap = max(1, int(ctx.dps) - 10)
    N = terms
    prev: tuple[int, int] | None = None
    while True:
        _, p, _, q = pattern.convergents(N)
        got = _digits(ctx, x, p, q, cap)
        if got >= digits or N >= max_terms:
            return got, N
        if prev is None:
            _, p2, _, q2 = pattern.convergents(N // 2)
            prev = (N // 2, _digits(ctx, x, p2, q2, cap))
        rate = (got - prev[1]) / (N - prev[0])
        if rate <= 0 or got + rate * (max_terms - N) < digits:
            return got, N
        prev = (N, got)
        N *= 2


# --------------------------------------------------------------------------- the scan


@dataclass(frozen=True)
class Hit:
    """A raw Berlekamp–Massey hit (before approval)."""

    lhs: LHS
    signs: tuple[int, ...]
    pattern: SignedCFPattern
    approved: bool
    digits: int

    def __repr__(self) -> str:
        flag = "approved" if self.approved else "rejected"
        order = self.pattern.linear_recurrence.order
        return f"Hit({self.lhs}, signs={self.signs}, order={order}, {flag})"


@dataclass(frozen=True)
class ScanResult:
    """What a scan of (LHS x sign periods) produced.

    Attributes
    ----------
    candidates : list of Candidate
        Approved results.
    hits : list of Hit
        Every Berlekamp–Massey hit, approved or not.
    expansions : int
        Expansions attempted.
    discarded : int
        Expansions dropped because the enclosure ran out before ``depth`` terms (or the
        pole of the LHS lay inside the enclosure).
    skipped : int
        Expansions skipped because ``a_0 = 0`` (``x < 1`` with ``s_0 = +1``: the same formula
        as ``1/x`` with the rotated sign period, which the enumeration covers).
    """

    candidates: list[Candidate] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    expansions: int = 0
    discarded: int = 0
    skipped: int = 0


@functools.lru_cache(maxsize=32)
def _high_precision(text: str, dps: int) -> Any:
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx.mpf(_evaluate(text, dps))


@functools.lru_cache(maxsize=32)
def _constant_rate(text: str, dps: int, depth: int) -> float:
    """Digits per term of the simple continued fraction of ``K`` near ``depth``."""
    lo, hi, s = constant_enclosure(text, dps)
    exp = simple_expansion((Fraction(lo, 1 << s), Fraction(hi, 1 << s)), depth + 1)
    if len(exp.terms) < 8:
        return math.nan
    pat_terms = exp.terms
    N = len(pat_terms) - 1
    e1 = convergent_error_log10(*signed_cf_convergents(pat_terms[: N // 2 + 1], (1,)))
    e2 = convergent_error_log10(*signed_cf_convergents(pat_terms, (1,)))
    return (e1 - e2) / (N - N // 2)


def _catalogue_name(text: str) -> str:
    try:
        return get_constant(text).name
    except (DiscoveryError, KeyError, ValueError):  # not a catalogue name: keep the text
        return text


def scan(
    constant: str,
    lhs_list: Sequence[LHS],
    periods: Sequence[Sequence[int]],
    *,
    depth: int = 100,
    dps: int = 500,
    prime: int = 199,
    max_order: int | None = None,
    approve_digits: int = 100,
    approve_terms: int = 1000,
) -> ScanResult:
    """Expand every LHS with every sign period, find short recurrences, approve them.

    A pure function of its arguments (the enclosure of ``K`` is cached per process).

    Examples
    --------
    >>> res = scan("e", [((1, 1), (-1, 1))], [(1,), (-1,)], depth=60, dps=300)
    >>> [(c.claim, c.formula["signs"], c.formula["first_terms"]) for c in res.candidates]
    [('(e + 1)/(e - 1)', [1], [2, 6])]
    """
    if max_order is None:
        max_order = -(-depth // 4) - 1
    enc = constant_enclosure(constant, dps)
    approve_dps = approve_digits + 30
    K_high = _high_precision(constant, approve_dps)
    const_name = _catalogue_name(constant)
    k_rate: float | None = None
    candidates: list[Candidate] = []
    hits: list[Hit] = []
    expansions = discarded = skipped = 0
    for lhs in lhs_list:
        lhs = (tuple(lhs[0]), tuple(lhs[1]))
        interval = lhs_enclosure(lhs, enc)
        for signs in periods:
            signs = tuple(signs)
            expansions += 1
            if interval is None:
                discarded += 1
                continue
            if signs[0] > 0 and interval[1] < 1:
                skipped += 1
                continue
            terms = expand_lhs(interval, signs, depth)
            if terms is None:
                discarded += 1
                continue
            if terms[0] == 0:
                skipped += 1
                continue
            rec = find_recurrence(terms, prime, max_order)
            if rec is None:
                continue
            pattern = SignedCFPattern(signs, rec.connection, rec.initial)
            x = lhs_value(lhs, K_high)
            digits, approve_depth = approve(pattern, x, approve_digits, approve_terms)
            ok = digits >= approve_digits
            hits.append(Hit(lhs, signs, pattern, ok, digits))
            if not ok:
                continue
            if k_rate is None:
                k_rate = _constant_rate(constant, dps, depth)
            candidates.append(
                _candidate(
                    constant,
                    const_name,
                    lhs,
                    pattern,
                    x,
                    digits,
                    approve_depth,
                    depth,
                    prime,
                    rec.order,
                    k_rate,
                )
            )
    return ScanResult(candidates, hits, expansions, discarded, skipped)


def _candidate(
    constant: str,
    const_name: str,
    lhs: LHS,
    pattern: SignedCFPattern,
    x: Any,
    digits: int,
    approve_depth: int,
    depth: int,
    prime: int,
    order: int,
    k_rate: float,
) -> Candidate:
    shape = pattern.pattern()
    contraction = pattern.contraction()
    formula: dict[str, Any] = pattern.to_dict()
    formula["lhs"] = {"constant": constant, "numerator": list(lhs[0]), "denominator": list(lhs[1])}
    relations: tuple[tuple[str, str], ...] = ()
    if contraction is not None:
        formula["pcf"] = contraction.pcf.to_dict()
        formula["mobius"] = list(contraction.mobius)
        formula["fold"] = contraction.fold
        relations = (("contracts-to", contraction.pcf.key),)
    ctx = x.context
    _, p, _, q = pattern.convergents(depth)
    search_digits = _digits(ctx, x, p, q, max(1, int(ctx.dps) - 10))
    rate = pattern.digits_per_term(depth)
    value_text = mpmath.nstr(x, 50)
    evidence = {
        "digits": digits,
        "approve_depth": approve_depth,
        "search_digits": search_digits,
        "depth": depth,
        "digits_per_term": _finite(rate),
        "constant_digits_per_term": _finite(k_rate),
        "bm_order": order,
        "prime": prime,
        "pattern": shape.kind,
        "period": shape.period,
        "preamble": list(shape.preamble),
        "value": mpmath.nstr(x, 30),
        "group": canonical_key("value", value_text),
    }
    return Candidate(
        kind=ENGINE,
        key=pattern.key,
        formula=formula,
        claim=lhs_text(lhs, constant),
        constant=const_name,
        evidence=evidence,
        relations=relations,
    )


def _finite(v: float) -> float | None:
    return round(float(v), 6) if math.isfinite(v) else None

