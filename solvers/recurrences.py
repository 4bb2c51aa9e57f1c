"""Linear recurrences of integer sequences: Berlekamp–Massey, term generation, pattern shapes.

Conventions
-----------
A *connection polynomial* ``C(x) = c_0 + c_1 x + ... + c_L x^L`` of *order* (linear
complexity) ``L`` says that

    c_0 a_n + c_1 a_{n-1} + ... + c_L a_{n-L} = 0        for every n >= L.

It is stored as the tuple ``(c_0, ..., c_L)`` of length exactly ``L + 1``, **trailing zeros
included**: when ``deg C < L`` the first ``L - deg C`` terms are an irregular *preamble* that
the relation does not constrain (e.g. the integer part of e in ``e = [2; 1, 2, 1, 1, 4, ...]``).
Stripping those zeros (as some published code does) loses the preamble and with it the value.

Exact connection polynomials are primitive integer tuples with ``c_0 > 0``; over GF(p) they are
residues with ``c_0 = 1``.

Examples
--------
>>> rec = find_recurrence([2, 1, 2, 1, 1, 4, 1, 1, 6, 1, 1, 8, 1, 1, 10, 1, 1, 12, 1, 1, 14])
>>> rec.connection, rec.initial
((1, 0, 0, -2, 0, 0, 1, 0), (2, 1, 2, 1, 1, 4, 1))
>>> rec.pattern()
Pattern(interleaved, preamble=(2,), a(1 + 3m) = 1, a(2 + 3m) = 2m + 2, a(3 + 3m) = 1)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from solvers.errors import DiscoveryError

__all__ = [
    "berlekamp_massey",
    "berlekamp_massey_mod",
    "find_recurrence",
    "LinearRecurrence",
    "Pattern",
    "classify",
    "fit_polynomial",
    "polynomial_text",
]


# --------------------------------------------------------------------------- Berlekamp–Massey


def berlekamp_massey_mod(
    seq: Sequence[int], p: int, max_order: int | None = None
) -> tuple[int, ...] | None:
    """Shortest connection polynomial of ``seq`` over GF(p).

    Parameters
    ----------
    seq : sequence of int
        The terms (reduced modulo ``p`` here).
    p : int
        A prime.
    max_order : int, optional
        Give up (return ``None``) as soon as the order exceeds this: the order never
        decreases along the sequence, so long recurrences are rejected early (the cheap
        filter of a search).

    Returns
    -------
    tuple of int or None
        ``(c_0 = 1, c_1, ..., c_L)`` with residues in ``[0, p)``, length ``L + 1``.

    Examples
    --------
    >>> berlekamp_massey_mod([0, 1, 1, 2, 3, 5, 8, 13, 21], 199)   # Fibonacci: 1 - x - x^2
    (1, 198, 198)
    >>> berlekamp_massey_mod([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], 199, max_order=2) is None
    True
    """
    C = [1]
    B = [1]
    L = 0
    m = 1
    b = 1
    s = [int(v) % p for v in seq]
    for n, sn in enumerate(s):
        # discrepancy: sum_{i=0}^{L} C[i] s[n-i]
        d = sn
        for i in range(1, min(L, len(C) - 1) + 1):
            d += C[i] * s[n - i]
        d %= p
        if d == 0:
            m += 1
            continue
        coef = d * pow(b, p - 2, p) % p
        need = len(B) + m
        if len(C) < need:
            C = C + [0] * (need - len(C))
        if 2 * L <= n:
            T = C[:]
            for i, bi in enumerate(B):
                if bi:
                    C[i + m] = (C[i + m] - coef * bi) % p
            L = n + 1 - L
            if max_order is not None and L > max_order:
                return None
            B = T
            b = d
            m = 1
        else:
            for i, bi in enumerate(B):
                if bi:
                    C[i + m] = (C[i + m] - coef * bi) % p
            m += 1
    C = (C + [0] * (L + 1))[: L + 1]
    return tuple(C)


def berlekamp_massey(seq: Sequence[int]) -> tuple[int, ...]:
    """Shortest connection polynomial of an integer (or rational) sequence, exactly over Q.

    Fraction-free: the polynomial is kept as a primitive integer vector (content divided out
    at every update), so no rational arithmetic is needed.

    Returns
    -------
    tuple of int
        ``(c_0, ..., c_L)``, primitive, ``c_0 > 0``, length ``L + 1`` (trailing zeros kept).

    Examples
    --------
    >>> berlekamp_massey([0, 1, 1, 2, 3, 5, 8, 13, 21, 34])
    (1, -1, -1)
    >>> berlekamp_massey([n * n for n in range(10)])   # (1 - x)^3
    (1, -3, 3, -1)
    >>> berlekamp_massey([7, 1, 1, 1, 1, 1, 1, 1])     # preamble 7, then constant
    (1, -1, 0)
    """
    if all(isinstance(v, int) for v in seq):
        s_int = list(seq)
    else:
        s = [Fraction(v) for v in seq]
        den = math.lcm(*(v.denominator for v in s)) if s else 1
        s_int = [int(v * den) for v in s]
    C = [1]
    B = [1]
    L = 0
    m = 1
    b = 1
    for n, sn in enumerate(s_int):
        d = C[0] * sn
        for i in range(1, min(L, len(C) - 1) + 1):
            d += C[i] * s_int[n - i]
        if d == 0:
            m += 1
            continue
        need = len(B) + m
        Cn = [b * c for c in C] + [0] * max(0, need - len(C))
        for i, bi in enumerate(B):
            Cn[i + m] -= d * bi
        g = 0
        for c in Cn:
            g = math.gcd(g, c)
        if g > 1:
            Cn = [c // g for c in Cn]
        if 2 * L <= n:
            L = n + 1 - L
            B = C
            b = d
            m = 1
        else:
            m += 1
        C = Cn
    if any(C[L + 1 :]):
        raise DiscoveryError(f"Berlekamp–Massey invariant broken: deg C > L = {L}")
    C = (C + [0] * (L + 1))[: L + 1]
    if C[0] < 0:
        C = [-c for c in C]
    return tuple(C)


def _lift(c: int, p: int) -> int:
    return c - p if c > p // 2 else c


def _satisfies(conn: Sequence[int], seq: Sequence[int]) -> bool:
    L = len(conn) - 1
    for n in range(L, len(seq)):
        acc = 0
        for i, ci in enumerate(conn):
            if ci:
                acc += ci * seq[n - i]
        if acc:
            return False
    return True


def find_recurrence(
    seq: Sequence[int], prime: int = 199, max_order: int | None = None
) -> LinearRecurrence | None:
    """The shortest linear recurrence of an integer sequence, found mod ``prime``, confirmed over Q.

    Berlekamp–Massey runs first modulo ``prime`` with an early exit once the order passes
    ``max_order`` (default: ``len(seq) // 2 - 1``, beyond which a recurrence is not determined
    by the data). A surviving sequence is re-solved exactly over Q and the result must
    reproduce every given term. The preamble (trailing zeros of ``C``) is kept.

    Returns
    -------
    LinearRecurrence or None
        ``None`` if the order (mod p or over Q) exceeds ``max_order``.

    Examples
    --------
    >>> find_recurrence([1, 3, 5, 7, 9, 11, 13, 15, 17, 19])
    LinearRecurrence(a(n) = 2a(n-1) - a(n-2) for n >= 2; a(0..1) = 1, 3)
    >>> find_recurrence([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8], max_order=3) is None
    True
    """
    seq = [int(v) for v in seq]
    limit = (len(seq) - 1) // 2 if max_order is None else min(max_order, (len(seq) - 1) // 2)
    if limit < 0:
        return None
    mod = berlekamp_massey_mod(seq, prime, limit)
    if mod is None:
        return None
    # The exact minimal recurrence of a prefix is the minimal one of the whole sequence as
    # soon as it holds on every term (a recurrence of the whole holds on the prefix).
    conn = berlekamp_massey(seq[: 2 * len(mod) + 4])
    if not _satisfies(conn, seq):
        conn = berlekamp_massey(seq)
    L = len(conn) - 1
    if L > limit or not _satisfies(conn, seq):
        return None
    return LinearRecurrence(conn, tuple(seq[:L]))


# --------------------------------------------------------------------------- value objects


def polynomial_text(coeffs: Sequence[Any], var: str = "m") -> str:
    """Readable text of a polynomial with rational coefficients (ascending powers).

    Examples
    --------
    >>> polynomial_text([2, 2])
    '2m + 2'
    >>> polynomial_text([Fraction(1, 2), 0, -1], "n")
    '-n^2 + 1/2'
    >>> polynomial_text([])
    '0'
    """
    parts: list[str] = []
    for k in range(len(coeffs) - 1, -1, -1):
        c = Fraction(coeffs[k])
        if c == 0:
            continue
        sign = "-" if c < 0 else "+"
        a = abs(c)
        mono = "" if k == 0 else (var if k == 1 else f"{var}^{k}")
        if mono and a == 1:
            body = mono
        elif mono:
            body = f"{a}{mono}" if a.denominator == 1 else f"({a}){mono}"
        else:
            body = str(a)
        parts.append(f"{sign} {body}")
    if not parts:
        return "0"
    text = " ".join(parts)
    return text[2:] if text.startswith("+ ") else "-" + text[2:]


def fit_polynomial(values: Sequence[int]) -> tuple[Fraction, ...]:
    """The polynomial ``P`` of degree ``< len(values)`` with ``P(m) = values[m]`` (ascending).

    Newton's forward differences, exact over Q; trailing zero coefficients are dropped.

    Examples
    --------
    >>> fit_polynomial([2, 4, 6])
    (Fraction(2, 1), Fraction(2, 1))
    >>> fit_polynomial([0, 1, 3, 6])    # m(m+1)/2
    (Fraction(0, 1), Fraction(1, 2), Fraction(1, 2))
    """
    k = len(values)
    if k == 0:
        return (Fraction(0),)
    if not all(isinstance(v, int) for v in values):
        vals = [Fraction(v) for v in values]
        den = math.lcm(*(v.denominator for v in vals))
        return tuple(c / den for c in fit_polynomial([int(v * den) for v in vals]))
    diffs = list(values)
    newton = []
    for _ in range(k):
        newton.append(diffs[0])
        diffs = [diffs[i + 1] - diffs[i] for i in range(len(diffs) - 1)]
    # P(m) = sum_j newton[j] ff_j(m) / j!, ff_j(m) = m (m-1) ... (m-j+1) has integer
    # coefficients; scaled by D = (k-1)! everything stays an integer.
    D = math.factorial(k - 1)
    coeffs = [0] * k
    ff = [1]  # coefficients of ff_j
    for j in range(k):
        w = newton[j] * (D // math.factorial(j))
        for i, c in enumerate(ff):
            coeffs[i] += w * c
        ff = [0] + ff  # ff_{j+1} = ff_j * (m - j)
        for i in range(len(ff) - 1):
            ff[i] -= j * ff[i + 1]
    out = [Fraction(c, D) for c in coeffs]
    while len(out) > 1 and out[-1] == 0:
        out.pop()
    return tuple(out)


@dataclass(frozen=True)
class Pattern:
    """The shape of a sequence with a linear recurrence whose roots are roots of unity.

    After a finite ``preamble``, ``a(p + r + T m) = polynomials[r](m)`` for ``r = 0..T-1``
    and ``m >= 0`` (``p = len(preamble)``, ``T = period``).

    Attributes
    ----------
    kind : str
        ``"polynomial"`` (``T = 1``), ``"periodic"`` (constant polynomials, ``T > 1``),
        ``"interleaved"`` (polynomials of period ``T``), or ``"recurrence"`` (some root is
        not a root of unity: exponential growth; ``period``/``polynomials`` are empty).
    preamble : tuple of int
        The irregular first terms.
    period : int
        ``T`` (0 for ``"recurrence"``).
    degree : int
        Largest degree of the interleaved polynomials (-1 for ``"recurrence"``).
    polynomials : tuple of tuple of Fraction
        Ascending coefficients in ``m`` of each residue class.
    """

    kind: str
    preamble: tuple[int, ...]
    period: int
    degree: int
    polynomials: tuple[tuple[Fraction, ...], ...]

    def __repr__(self) -> str:
        pre = f"preamble={self.preamble}"
        if self.kind == "recurrence":
            return f"Pattern(recurrence, {pre})"
        p, T = len(self.preamble), self.period
        parts = []
        for r, poly in enumerate(self.polynomials):
            if T == 1:
                idx = f"{p} + m" if p else "m"
            else:
                idx = f"{p + r} + {T}m" if p + r else f"{T}m"
            parts.append(f"a({idx}) = {polynomial_text(poly)}")
        return f"Pattern({self.kind}, {pre}, {', '.join(parts)})"

    def is_integral(self) -> bool:
        """True when every interleaved polynomial has integer coefficients."""
        return all(c.denominator == 1 for poly in self.polynomials for c in poly)


@dataclass(frozen=True)
class LinearRecurrence:
    """An integer sequence given by a connection polynomial and its initial terms.

    ``c_0 a_n = -(c_1 a_{n-1} + ... + c_L a_{n-L})`` for ``n >= L``; ``a_0..a_{L-1}`` given.

    Attributes
    ----------
    connection : tuple of int
        ``(c_0, ..., c_L)``, trailing zeros kept (they encode the preamble).
    initial : tuple of int
        ``a_0, ..., a_{L-1}``.

    Examples
    --------
    >>> rec = LinearRecurrence((1, -1, -1), (0, 1))
    >>> rec
    LinearRecurrence(a(n) = a(n-1) + a(n-2) for n >= 2; a(0..1) = 0, 1)
    >>> rec.terms(10)
    (0, 1, 1, 2, 3, 5, 8, 13, 21, 34)
    """

    connection: tuple[int, ...]
    initial: tuple[int, ...]

    def __post_init__(self) -> None:
        conn = tuple(int(c) for c in self.connection)
        init = tuple(int(a) for a in self.initial)
        if not conn or conn[0] == 0:
            raise ValueError(f"connection polynomial needs c_0 != 0, got {conn}")
        if len(init) != len(conn) - 1:
            raise ValueError(
                f"order {len(conn) - 1} needs {len(conn) - 1} initial terms, got {len(init)}"
            )
        object.__setattr__(self, "connection", conn)
        object.__setattr__(self, "initial", init)

    @property
    def order(self) -> int:
        """``L``, the number of initial terms (the linear complexity)."""
        return len(self.connection) - 1

    @property
    def preamble_length(self) -> int:
        """``L - deg C``: the leading terms the relation leaves free."""
        d = len(self.connection) - 1
        while d > 0 and self.connection[d] == 0:
            d -= 1
        return self.order - d

    def reduced_connection(self) -> tuple[int, ...]:
        """``C`` without its trailing zeros (the relation proper, without the preamble)."""
        return self.connection[: len(self.connection) - self.preamble_length]

    def terms(self, n: int) -> tuple[int, ...]:
        """The first ``n`` terms, exactly.

        Raises
        ------
        DiscoveryError
            If ``c_0 != 1`` and some term is not an integer.
        """
        out = list(self.initial[:n])
        c0 = self.connection[0]
        rest = [(i, -c) for i, c in enumerate(self.connection) if i and c]
        for k in range(len(out), n):
            acc = 0
            for i, c in rest:
                acc += c * out[k - i]
            if c0 != 1:
                acc, r = divmod(acc, c0)
                if r:
                    raise DiscoveryError(f"term {k} of {self!r} is not an integer")
            out.append(acc)
        return tuple(out)

    def relation_text(self) -> str:
        """``a(n) = ...`` as text."""
        c0 = self.connection[0]
        parts = []
        for i, c in enumerate(self.connection[1:], start=1):
            if c == 0:
                continue
            coef = Fraction(-c, c0)
            sign = "-" if coef < 0 else "+"
            mag = abs(coef)
            body = ("" if mag == 1 else str(mag)) + f"a(n-{i})"
            parts.append(f"{sign} {body}")
        rhs = " ".join(parts) if parts else "0"
        if rhs.startswith("+ "):
            rhs = rhs[2:]
        elif rhs.startswith("- "):
            rhs = "-" + rhs[2:]
        return f"a(n) = {rhs}"

    def __repr__(self) -> str:
        L = self.order
        init = ", ".join(str(a) for a in self.initial)
        return f"LinearRecurrence({self.relation_text()} for n >= {L}; a(0..{L - 1}) = {init})"

    def pattern(self) -> Pattern:
        """Classify the sequence: polynomial / periodic / interleaved polynomials, or general.

        The reduced connection polynomial divides ``(1 - x^T)^k`` exactly when all its roots
        are roots of unity; ``T`` is the lcm of their orders and ``k`` the largest
        multiplicity. Then every residue class modulo ``T`` (after the preamble) is a
        polynomial of degree ``< k``.
        """
        return classify(self)


def _cyclotomic_shape(conn: Sequence[int]) -> tuple[int, int] | None:
    """``(T, k)`` if ``C`` is a product of cyclotomic factors, else ``None``."""
    import flint

    poly = flint.fmpz_poly(list(conn))
    if poly.degree() <= 0:
        return (1, 0)
    _, factors = poly.factor()
    T, k = 1, 0
    for f, mult in factors:
        order = f.is_cyclotomic()
        if not order:
            return None
        T = math.lcm(T, int(order))
        k = max(k, int(mult))
    return T, k


def classify(rec: LinearRecurrence) -> Pattern:
    """The :class:`Pattern` of a recurrence (see :meth:`LinearRecurrence.pattern`).

    Examples
    --------
    >>> classify(find_recurrence([1, 3, 5, 7, 9, 11, 13, 15]))
    Pattern(polynomial, preamble=(), a(m) = 2m + 1)
    >>> classify(find_recurrence([5, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2]))
    Pattern(periodic, preamble=(5,), a(1 + 2m) = 1, a(2 + 2m) = 2)
    >>> classify(find_recurrence([0, 1, 1, 2, 3, 5, 8, 13, 21, 34])).kind
    'recurrence'
    """
    p = rec.preamble_length
    shape = _cyclotomic_shape(rec.reduced_connection())
    preamble = rec.initial[:p]
    if shape is None:
        return Pattern("recurrence", preamble, 0, -1, ())
    T, k = shape
    k = max(k, 1)
    terms = rec.terms(p + T * k)
    polys = tuple(fit_polynomial([terms[p + r + T * j] for j in range(k)]) for r in range(T))
    degree = max(len(q) - 1 for q in polys)
    if T == 1:
        kind = "polynomial"
    elif degree == 0:
        kind = "periodic"
    else:
        kind = "interleaved"
    return Pattern(kind, preamble, T, degree, polys)
