"""ESMA: signed continued fractions of simple transforms of a constant, with short recurrences.

The engine of Razon, Harris, Gottlieb, Carmon, David and Kaminer ("Automated Search for
Conjectures on Mathematical Constants using Analysis of Integer Sequences", ICML 2023):

1. **Left-hand sides**: rational functions ``P(K)/Q(K)`` of the constant ``K`` with degree
   ``<= degree`` and integer coefficients in ``[-coeff, coeff]`` (Möbius maps for degree 1),
   normalised (see :func:`enumerate_lhs`): for ``degree = 1, coeff = 2`` there are **112**.
2. **Sign periods**: the primitive ``±1`` periods whose length is one of the requested lengths
   or divides one (see :func:`sign_periods`).
3. **Expansion**: ``x = a0 + s0/(a1 + s1/(a2 + ...))`` (``a_i = floor`` if ``s_i > 0`` else
   ``ceil``) for ``depth`` terms, computed by exact integer arithmetic from **one** rational
   enclosure of ``K`` mapped exactly through the LHS; an expansion that exhausts the enclosure
   before ``depth`` terms is discarded (never padded).
4. **Berlekamp–Massey** modulo ``prime`` (early exit), confirmed exactly over Q; accepted when
   the order is ``< depth/4``. The preamble (trailing zeros of the connection polynomial) is
   kept.
5. **Approval**: ``>= 1000`` terms regenerated from the recurrence, the signed continued
   fraction evaluated exactly (product tree) and compared with the LHS at higher precision:
   ``>= approve_digits`` digits are required.

Tasks are chunks of LHS (each with every sign period), executed by the pure function
:func:`run_task` (registered as the ``"esma"`` executor); :class:`EsmaEngine` is the driver.

Examples
--------
>>> eng = EsmaEngine({"constant": "e", "coeff": 1, "signs": 1, "depth": 60})
>>> eng.sign_periods
((-1,), (1,))
>>> while not eng.done():
...     for task in eng.ask(4):
...         eng.tell(task, run_task(task))
>>> eng.state()["lhs"]  # left-hand sides, enumerated lazily
12
>>> sorted(c.claim for c in eng.results)[:3]
['(e + 1)/(e - 1)', '(e + 1)/e', 'e']
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import flint
import mpmath

from search.base import (
    Candidate,
    EngineBase,
    Task,
    canonical_key,
    register_engine,
    register_executor,
)
from solvers.constants import get_constant
from solvers.continued_fractions import (
    convergent_error_log10,
    mpf_to_fraction,
    ratio_to_mpf,
    signed_cf_convergents,
    signed_expansion,
    simple_expansion,
)
from solvers.errors import DiscoveryError, EngineError, PrecisionError
from solvers.expr import evaluate_expression
from solvers.recurrences import find_recurrence
from solvers.signed_cf import SignedCFPattern, primitive_period

__all__ = [
    "EsmaConfig",
    "EsmaEngine",
    "Hit",
    "ScanResult",
    "enumerate_lhs",
    "sign_periods",
    "parse_lengths",
    "lhs_text",
    "lhs_value",
    "constant_enclosure",
    "lhs_enclosure",
    "expand_lhs",
    "approve",
    "scan",
    "run_task",
]

ENGINE = "esma"
LHS = tuple[tuple[int, ...], tuple[int, ...]]  # (numerator, denominator), ascending powers of K


# --------------------------------------------------------------------------- configuration


def parse_lengths(spec: Any) -> tuple[int, ...]:
    """Sign-period lengths from ``3`` (= 1..3), ``"1..3"``, ``"2"``, ``"1,3"`` or ``[2, 3]``.

    Examples
    --------
    >>> parse_lengths(3), parse_lengths("2"), parse_lengths("1..3"), parse_lengths([3, 1])
    ((1, 2, 3), (2,), (1, 2, 3), (1, 3))
    """
    if isinstance(spec, bool):
        raise EngineError(f"signs: expected a length, a range 'a..b' or a list, got {spec!r}")
    if isinstance(spec, int):
        lengths: Sequence[int] = range(1, spec + 1)
    elif isinstance(spec, str):
        text = spec.strip()
        m = re.fullmatch(r"(\d+)\s*\.\.\s*(\d+)", text)
        if m:
            lengths = range(int(m.group(1)), int(m.group(2)) + 1)
        elif re.fullmatch(r"\d+(\s*,\s*\d+)*", text):
            lengths = [int(t) for t in text.split(",")]
        else:
            raise EngineError(f"signs: cannot read {spec!r}; use e.g. '1..3', '2' or '1,3'")
    elif isinstance(spec, (list, tuple)):
        try:
            lengths = [int(t) for t in spec]
        except (TypeError, ValueError):
            raise EngineError(f"signs: lengths must be integers, got {spec!r}") from None
    else:
        raise EngineError(f"signs: expected a length, a range 'a..b' or a list, got {spec!r}")
    out = tuple(sorted(set(lengths)))
    if not out or out[0] < 1 or out[-1] > 12:
        raise EngineError(f"signs: period lengths must lie in 1..12, got {spec!r}")
    return out


@dataclass(frozen=True)
class EsmaConfig:
    """Validated configuration of an ESMA search.

    Attributes
    ----------
    constant : str
        The constant ``K`` as text for the safe parser (``"e"``, ``"e^2"``, ``"tan(1)"``,
        ``"besseli(0,2)/besseli(1,2)"``).
    degree : int
        Degree of numerator and denominator of the LHS ``P(K)/Q(K)``.
    coeff : int
        Coefficients range over ``[-coeff, coeff]``.
    signs : tuple of int
        Sign-period lengths.
    depth : int
        Terms of each expansion fed to Berlekamp–Massey.
    approve_digits : int
        Digits of agreement required to approve a hit.
    prime : int
        Modulus of the fast Berlekamp–Massey pass.
    dps : int
        Decimal digits of the (single) enclosure of ``K``.
    approve_terms : int
        Terms regenerated from the recurrence for the approval (at least 1000).
    chunk : int
        LHS per task.
    """

    constant: str
    degree: int = 1
    coeff: int = 2
    signs: tuple[int, ...] = (1, 2, 3)
    depth: int = 100
    approve_digits: int = 100
    prime: int = 199
    dps: int = 0
    approve_terms: int = 1000
    chunk: int = 16

    @classmethod
    def from_dict(cls, config: dict) -> EsmaConfig:
        """Validate a JSON-able configuration (unknown keys are an error)."""
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(config) - known
        if unknown:
            raise EngineError(f"esma: unknown configuration keys {sorted(unknown)}")
        if "constant" not in config or not str(config["constant"]).strip():
            raise EngineError("esma: the configuration needs a 'constant' (e.g. 'e')")
        kw = dict(config)
        kw["constant"] = str(kw["constant"]).strip()
        kw["signs"] = parse_lengths(kw.get("signs", 3))
        for name in ("degree", "coeff", "depth", "approve_digits", "prime", "dps"):
            if name in kw:
                try:
                    kw[name] = int(kw[name])
                except (TypeError, ValueError):
                    raise EngineError(
                        f"esma: {name} must be an integer, got {kw[name]!r}"
                    ) from None
        for name in ("approve_terms", "chunk"):
            if name in kw:
                kw[name] = int(kw[name])
        cfg = cls(**kw)
        if not 1 <= cfg.degree <= 4:
            raise EngineError(f"esma: degree must be in 1..4, got {cfg.degree}")
        if not 1 <= cfg.coeff <= 20:
            raise EngineError(f"esma: coeff must be in 1..20, got {cfg.coeff}")
        if not 8 <= cfg.depth <= 10_000:
            raise EngineError(f"esma: depth must be in 8..10000, got {cfg.depth}")
        if cfg.approve_digits < 1:
            raise EngineError(f"esma: approve_digits must be >= 1, got {cfg.approve_digits}")
        if cfg.prime < 3 or any(cfg.prime % d == 0 for d in range(2, math.isqrt(cfg.prime) + 1)):
            raise EngineError(f"esma: prime must be an odd prime, got {cfg.prime}")
        if cfg.dps and cfg.dps < 10:
            raise EngineError(f"esma: dps must be >= 10, got {cfg.dps}")
        if cfg.chunk < 1:
            raise EngineError(f"esma: chunk must be >= 1, got {cfg.chunk}")
        if not cfg.dps:
            cfg = cls(**{**cfg.to_dict(), "signs": cfg.signs, "dps": max(200, 5 * cfg.depth)})
        if cfg.approve_terms < 1000:
            cfg = cls(**{**cfg.to_dict(), "signs": cfg.signs, "approve_terms": 1000})
        return cfg

    def to_dict(self) -> dict:
        """JSON-able form (``signs`` as a list of lengths)."""
        return {
            "constant": self.constant,
            "degree": self.degree,
            "coeff": self.coeff,
            "signs": list(self.signs),
            "depth": self.depth,
            "approve_digits": self.approve_digits,
            "prime": self.prime,
            "dps": self.dps,
            "approve_terms": self.approve_terms,
            "chunk": self.chunk,
        }

    @property
    def max_order(self) -> int:
        """Largest accepted recurrence order: ``order < depth/4``."""
        return -(-self.depth // 4) - 1


# --------------------------------------------------------------------------- the search space


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
    """``P(K)/Q(K)`` in the arithmetic of ``K`` (an mpf: its context's precision)."""
    num, den = lhs
    return _poly_eval(num, K) / _poly_eval(den, K)


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


# --------------------------------------------------------------------------- engine protocol


@register_executor(ENGINE)
def run_task(task: Task) -> list[Candidate]:
    """Execute one ESMA task (a chunk of LHS x every sign period): the approved candidates."""
    p = task.payload
    res = scan(
        p["constant"],
        [(tuple(n), tuple(d)) for n, d in p["lhs"]],
        [tuple(s) for s in p["periods"]],
        depth=int(p["depth"]),
        dps=int(p["dps"]),
        prime=int(p["prime"]),
        max_order=int(p["max_order"]),
        approve_digits=int(p["approve_digits"]),
        approve_terms=int(p["approve_terms"]),
    )
    return res.candidates


@register_engine(ENGINE)
class EsmaEngine(EngineBase):
    """Driver of an ESMA search: hands out chunks of the (LHS x sign period) space.

    Parameters
    ----------
    config : dict
        Keys of :class:`EsmaConfig` (``constant`` is required).
    state : dict, optional
        A :meth:`state` snapshot to resume from.

    Attributes
    ----------
    sign_periods : tuple
        The primitive sign periods.
    results : list of Candidate
        Everything told so far.
    """

    name = ENGINE

    def __init__(self, config: dict, state: dict | None = None):
        self.config = EsmaConfig.from_dict(config)
        K = _evaluate(self.config.constant, 60)
        # the LHS are enumerated lazily, a chunk per task: building the engine is cheap
        self._lhs = iter_lhs(K, self.config.degree, self.config.coeff)
        self.sign_periods = sign_periods(self.config.signs)
        self._next = 0
        self._handed_out = 0  # LHS handed out in tasks so far
        self._exhausted = False
        self._buffer: list[LHS] = []
        self.results: list[Candidate] = []
        self._groups: dict[str, list[str]] = {}
        if state:
            self.restore(state)

    def restore(self, state: Mapping) -> None:
        """Continue after the ``next`` chunks of a :meth:`state` snapshot."""
        for _ in range(int(state.get("next", 0)) - self._next):
            if self._chunk() is None:
                break
            self._next += 1
        self._groups = {k: list(v) for k, v in state.get("groups", {}).items()}

    def _chunk(self) -> list[LHS] | None:
        """The next chunk of LHS, or None when the box is exhausted."""
        c = self.config.chunk
        while len(self._buffer) < c and not self._exhausted:
            nxt = next(self._lhs, None)
            if nxt is None:
                self._exhausted = True
            else:
                self._buffer.append(nxt)
        chunk, self._buffer = self._buffer[:c], self._buffer[c:]
        self._handed_out += len(chunk)
        return chunk or None

    def _task(self, chunk: list[LHS]) -> Task:
        cfg = self.config
        payload = {
            "constant": cfg.constant,
            "lhs": [[list(n), list(d)] for n, d in chunk],
            "periods": [list(s) for s in self.sign_periods],
            "depth": cfg.depth,
            "dps": cfg.dps,
            "prime": cfg.prime,
            "max_order": cfg.max_order,
            "approve_digits": cfg.approve_digits,
            "approve_terms": cfg.approve_terms,
        }
        return Task(ENGINE, canonical_key("esma-task", payload), payload)

    def ask(self, n: int) -> list[Task]:
        """Up to ``n`` new tasks (chunks of LHS with every sign period)."""
        out = []
        while len(out) < n:
            chunk = self._chunk()
            if chunk is None:
                break
            out.append(self._task(chunk))
            self._next += 1
        return out

    def tell(self, task: Task, result: list[Candidate]) -> None:
        """Record a finished task and group its candidates by value."""
        for cand in result:
            self.results.append(cand)
            group = cand.evidence.get("group", cand.key)
            keys = self._groups.setdefault(group, [])
            if cand.key not in keys:
                keys.append(cand.key)

    def done(self) -> bool:
        """True when every chunk has been handed out."""
        if not self._buffer and not self._exhausted:
            nxt = next(self._lhs, None)
            if nxt is None:
                self._exhausted = True
            else:
                self._buffer.append(nxt)
        return self._exhausted and not self._buffer

    def groups(self) -> dict[str, list[str]]:
        """Candidate keys grouped by identical value (same LHS value, several patterns)."""
        return {k: list(v) for k, v in self._groups.items()}

    def state(self) -> dict:
        """JSON-able snapshot for resume."""
        return {
            "config": self.config.to_dict(),
            "next": self._next,
            "lhs": self._handed_out,
            "sign_periods": [list(p) for p in self.sign_periods],
            "groups": self.groups(),
        }
