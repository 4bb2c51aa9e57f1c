"""Signed continued-fraction patterns (ESMA formulas) and their contraction to PCFs.

A pattern is ``x = a_0 + s_0/(a_1 + s_1/(a_2 + ...))`` where the signs repeat with a short
period and the partial quotients ``a_n`` satisfy a short linear recurrence (see
:mod:`solvers.recurrences`): polynomial, periodic, or interleaved polynomials after a finite
preamble. In the kernel's notation it is the generalised continued fraction with
``b_n = s_{n-1}``.

When the terms are interleaved polynomials of period ``T`` and the signs have period ``S``,
contracting ``U = lcm(T, S)`` consecutive levels gives a polynomial continued fraction
(:class:`~solvers.continued_fractions.PCF`) whose limit is an exact Möbius image of ``x``
(:meth:`SignedCFPattern.contraction`).

Examples
--------
>>> cot1 = SignedCFPattern((-1,), (1, -2, 1), (1, 3))      # cot(1) = 1 - 1/(3 - 1/(5 - ...))
>>> cot1
SignedCFPattern(signs=(-1,), a = 1, 3, 5, 7, 9, 11, ...; a(n) = 2a(n-1) - a(n-2) for n >= 2)
>>> cot1.limit(60).digits >= 100
True
>>> str(cot1.limit(60).value)[:22]
'0.64209261593433070300'
>>> cot1.contract_to_pcf()
PCF(2n+1, -1)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import flint

from solvers.continued_fractions import (
    PCF,
    CFLimit,
    convergent_error_log10,
    limit_from_convergents,
    signed_cf_convergents,
)
from solvers.keys import canonical_key
from solvers.recurrences import LinearRecurrence, Pattern, berlekamp_massey, find_recurrence

__all__ = ["SignedCFPattern", "Contraction", "primitive_period"]

Matrix = tuple[Any, Any, Any, Any]


def primitive_period(signs: Sequence[int]) -> tuple[int, ...]:
    """The shortest period of a periodic sign sequence given by one period.

    Examples
    --------
    >>> primitive_period((1, -1, 1, -1))
    (1, -1)
    >>> primitive_period((1, 1, -1))
    (1, 1, -1)
    """
    s = tuple(int(v) for v in signs)
    if not s or any(v not in (1, -1) for v in s):
        raise ValueError(f"signs must be a non-empty tuple of +1/-1, got {s}")
    n = len(s)
    for d in range(1, n + 1):
        if n % d == 0 and s == s[:d] * (n // d):
            return s[:d]
    return s  # pragma: no cover - d = n always matches


@dataclass(frozen=True)
class Contraction:
    """A PCF equivalent to a signed CF pattern: ``x = (A y + B)/(C y + D)``, ``y`` the PCF limit.

    Attributes
    ----------
    pcf : PCF
        The contracted polynomial continued fraction.
    mobius : tuple of int
        ``(A, B, C, D)``, integers with ``AD - BC != 0``.
    fold : int
        How many levels of the signed CF each PCF level contracts.
    """

    pcf: PCF
    mobius: tuple[int, int, int, int]
    fold: int

    def __repr__(self) -> str:
        A, B, C, D = self.mobius
        return f"Contraction(x = ({A}y + {B})/({C}y + {D}), y = {self.pcf!r}, fold={self.fold})"

    def to_dict(self) -> dict:
        """Exact JSON-able form."""
        return {"pcf": self.pcf.to_dict(), "mobius": list(self.mobius), "fold": self.fold}


@dataclass(frozen=True)
class SignedCFPattern:
    """A signed continued fraction whose terms follow a linear recurrence.

    Attributes
    ----------
    signs : tuple of int
        The sign period (reduced to its primitive period): ``s_i = signs[i % len(signs)]``.
    recurrence : tuple of int
        Connection polynomial ``(c_0, ..., c_L)`` of the terms, trailing zeros kept (they
        encode the irregular preamble).
    first_terms : tuple of int
        ``a_0, ..., a_{L-1}``.
    """

    signs: tuple[int, ...]
    recurrence: tuple[int, ...]
    first_terms: tuple[int, ...]
    _terms: list = field(default_factory=list, init=False, repr=False, compare=False)
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "signs", primitive_period(self.signs))
        rec = LinearRecurrence(tuple(self.recurrence), tuple(self.first_terms))
        object.__setattr__(self, "recurrence", rec.connection)
        object.__setattr__(self, "first_terms", rec.initial)

    # -- construction
    @classmethod
    def from_terms(
        cls,
        terms: Sequence[int],
        signs: Sequence[int],
        prime: int = 199,
        max_order: int | None = None,
    ) -> SignedCFPattern | None:
        """The pattern of an expansion's terms, or ``None`` if no short recurrence fits.

        Examples
        --------
        >>> SignedCFPattern.from_terms([2, 6, 10, 14, 18, 22, 26, 30, 34, 38], [1]).first_terms
        (2, 6)
        """
        rec = find_recurrence(terms, prime, max_order)
        if rec is None:
            return None
        return cls(tuple(signs), rec.connection, rec.initial)

    def to_dict(self) -> dict:
        """Exact JSON-able form ``{"signs", "recurrence", "first_terms"}``."""
        return {
            "signs": list(self.signs),
            "recurrence": list(self.recurrence),
            "first_terms": list(self.first_terms),
        }

    @classmethod
    def from_dict(cls, d: dict) -> SignedCFPattern:
        """Inverse of :meth:`to_dict` (other keys, e.g. an engine's ``lhs``, are ignored)."""
        return cls(tuple(d["signs"]), tuple(d["recurrence"]), tuple(d["first_terms"]))

    def normalised(self) -> SignedCFPattern:
        """The same formula with the *minimal* recurrence (Berlekamp–Massey on its own terms)."""
        L = len(self.recurrence) - 1
        terms = self.terms(2 * L + 2)
        conn = berlekamp_massey(terms)
        return SignedCFPattern(self.signs, conn, terms[: len(conn) - 1])

    @property
    def key(self) -> str:
        """Canonical key of the normalised pattern."""
        return canonical_key("esma", self.normalised().to_dict())

    @property
    def linear_recurrence(self) -> LinearRecurrence:
        """The terms as a :class:`~solvers.recurrences.LinearRecurrence`."""
        return LinearRecurrence(self.recurrence, self.first_terms)

    def pattern(self) -> Pattern:
        """Shape of the terms: polynomial / periodic / interleaved, with preamble (memoised)."""
        if "pattern" not in self._memo:
            self._memo["pattern"] = self.linear_recurrence.pattern()
        return self._memo["pattern"]

    def __repr__(self) -> str:
        shown = ", ".join(str(a) for a in self.terms(max(6, len(self.first_terms) + 2)))
        rec = self.linear_recurrence
        return (
            f"SignedCFPattern(signs={self.signs}, a = {shown}, ...; "
            f"{rec.relation_text()} for n >= {rec.order})"
        )

    def latex(self, levels: int = 4) -> str:
        """LaTeX of the first ``levels`` levels."""
        a = self.terms(levels + 1)
        body = r"\ddots"
        for k in range(levels, 0, -1):
            s = self.signs[k % len(self.signs)]
            body = rf"{a[k]} {'+' if s > 0 else '-'} \cfrac{{1}}{{{body}}}"
        s0 = self.signs[0]
        return rf"{a[0]} {'+' if s0 > 0 else '-'} \cfrac{{1}}{{{body}}}"

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    # -- exact evaluation
    def terms(self, n: int) -> tuple[int, ...]:
        """The first ``n`` partial quotients ``a_0, ..., a_{n-1}`` (memoised)."""
        cache = self._terms
        if len(cache) < n:
            cache[:] = self.linear_recurrence.terms(max(n, 2 * len(cache)))
        return tuple(cache[:n])

    def sign(self, i: int) -> int:
        """``s_i``."""
        return self.signs[i % len(self.signs)]

    def convergents(self, depth: int) -> Matrix:
        """``(p_{N-1}, p_N, q_{N-1}, q_N)`` at ``N = depth``, exactly (product tree).

        Examples
        --------
        >>> SignedCFPattern((1,), (1, -1), (1,)).convergents(5)   # golden ratio: 13/8
        (mpz(8), mpz(13), mpz(5), mpz(8))
        """
        if depth < 0:
            raise ValueError(f"depth must be >= 0, got {depth}")
        return signed_cf_convergents(self.terms(depth + 1), self.signs)

    def limit(self, depth: int, dps: int | None = None) -> CFLimit:
        """``p_N/q_N`` with the kernel's error estimate (see :class:`CFLimit`)."""
        return limit_from_convergents(self.convergents(depth), depth, dps)

    def digits_per_term(self, depth: int) -> float:
        """Slope of the estimated correct digits between ``N/2`` and ``N``.

        Examples
        --------
        >>> round(SignedCFPattern((1,), (1, -1), (1,)).digits_per_term(200), 3)  # 2 log10(phi)
        0.418
        """
        if depth < 4:
            raise ValueError("need depth >= 4 to measure a rate")
        e1 = convergent_error_log10(*self.convergents(depth // 2))
        e2 = convergent_error_log10(*self.convergents(depth))
        if not (math.isfinite(e1) and math.isfinite(e2)):
            return math.inf
        return (e1 - e2) / (depth - depth // 2)

    # -- contraction to a PCF
    def contraction(self) -> Contraction | None:
        """Contract ``U = lcm(T, S)`` levels into one: a PCF and the Möbius map to ``x``.

        Returns ``None`` when the terms are not (interleaved) polynomials with integer
        coefficients, or when the contraction degenerates (a vanishing block entry).

        Examples
        --------
        >>> e = SignedCFPattern((1,), (1, 0, 0, -2, 0, 0, 1, 0), (2, 1, 2, 1, 1, 4, 1))
        >>> c = e.contraction()
        >>> c.fold, c.pcf.degree
        (3, (1, 0))
        >>> import mpmath
        >>> y = c.pcf.limit(80).value
        >>> A, B, C, D = c.mobius
        >>> mpmath.nstr((A * y + B) / (C * y + D), 30)
        '2.71828182845904523536028747135'
        """
        if "contraction" not in self._memo:
            self._memo["contraction"] = _contract(self)
        return self._memo["contraction"]

    def contract_to_pcf(self) -> PCF | None:
        """The contracted :class:`PCF` (see :meth:`contraction`), or ``None``."""
        c = self.contraction()
        return None if c is None else c.pcf


# --------------------------------------------------------------------------- polynomials over Q
# python-flint's fmpq_poly does the block algebra in C.

Poly = Any  # flint.fmpq_poly


def _q(coeffs: Sequence[Any]) -> Poly:
    return flint.fmpq_poly(
        [flint.fmpq(int(Fraction(c).numerator), int(Fraction(c).denominator)) for c in coeffs]
    )


def _compose_linear(f: Poly, c0: int, c1: int) -> Poly:
    """``f(c0 + c1 m)``."""
    return f(flint.fmpq_poly([c0, c1]))


def _int_coeffs(f: Poly) -> tuple[int, ...] | None:
    """Integer coefficients (ascending) of ``f``, or ``None`` if some is not an integer."""
    if f.denom() != 1:
        return None
    c = [int(v) for v in f.numer().coeffs()]
    return tuple(c) if c else (0,)


def _eval_int(f: Poly, m: int) -> int:
    v = f(m)
    if v.q != 1:
        raise ValueError(f"{f} is not integral at {m}")
    return int(v.p)


def _mat_mul(X: tuple[Poly, ...], Y: tuple[Poly, ...]) -> tuple[Poly, Poly, Poly, Poly]:
    a, b, c, d = X
    e, f, g, h = Y
    return (a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h)


def _has_nonnegative_integer_root(f: Poly) -> bool:
    if f.is_zero():
        return True
    num = f.numer()
    if num.degree() <= 0:
        return False
    return any(int(r) >= 0 for r, _ in num.roots())


def _contract(pat: SignedCFPattern) -> Contraction | None:
    shape = pat.pattern()
    if shape.kind not in ("polynomial", "periodic", "interleaved"):
        return None
    T, S = shape.period, len(pat.signs)
    U = math.lcm(T, S)
    p = len(shape.preamble)
    n_s = max(p, 1)
    one, zero = flint.fmpq_poly([1]), flint.fmpq_poly([])
    # Block N(m) = M(n_s + U m + 1) ... M(n_s + U m + U), M(n) = [[0, b_n], [1, a_n]],
    # b_n = s_{n-1}; a_n = P_r(k0 + (U/T) m) with n - p = r + T k.
    N: tuple[Poly, ...] = (one, zero, zero, one)
    for j in range(1, U + 1):
        off = n_s - p + j
        r, k0 = off % T, off // T
        a_poly = _compose_linear(_q(shape.polynomials[r]), k0, U // T)
        b = flint.fmpq_poly([pat.sign(n_s + j - 1)])
        N = _mat_mul(N, (zero, b, one, a_poly))
    X = tuple(int(v) for v in pat.convergents(n_s))  # [[p_{n_s-1}, p_{n_s}], [q.., q..]]
    best = None
    for G in _preferred_conjugators(N):
        built = _contract_blocks(N, G)
        if built is None:
            continue
        rank = (built[0].degree() + built[1].degree(), _height((built[0], built[1])))
        if best is None or rank < best[0]:
            best = (rank, G, built)
    if best is None:
        return None
    _, G, (A, B, be, Ng) = best
    base = PCF(_int_coeffs(A), _int_coeffs(B))
    # Y_m = X_{n_s} G N'(0) ... N'(m-1) and u_m = Y_m[0][1] -> x / (w_m = Y_m[1][1]).
    # Möbius from the PCF limit y to x: ŵ_n = ũ_{n+2} = λ p_n + μ q_n, with
    # ũ_1 = u_1, ũ_2 = β(0) u_2 (scaling c_1 = 1, c_2 = 1/β(0)).
    Y1 = _mob_mul(_mob_mul(X, G), _eval_matrix(Ng, 0))
    Y2 = _mob_mul(Y1, _eval_matrix(Ng, 1))
    p1, q1, p2, q2 = Y1[1], Y1[3], Y2[1], Y2[3]
    beta0 = _eval_int(be, 0)
    a0 = base.a_n(0)
    start = (p1, beta0 * p2 - a0 * p1, q1, beta0 * q2 - a0 * q1)
    best_out = None
    for pcf, mob in _shifts(base, start):
        pcf, scale = _simplify(pcf)
        # y = scale · y' for the simplified PCF's limit y'
        mob = (mob[0] * scale, mob[1], mob[2] * scale, mob[3])
        g = math.gcd(*mob)
        if g > 1:
            mob = tuple(v // g for v in mob)
        if mob[2] < 0 or (mob[2] == 0 and mob[3] < 0):
            mob = tuple(-v for v in mob)
        if mob[0] * mob[3] - mob[1] * mob[2] == 0:
            continue
        rank = (mob != (1, 0, 0, 1), sum(abs(v).bit_length() for v in mob), len(pcf.a) + len(pcf.b))
        if best_out is None or rank < best_out[0]:
            best_out = (rank, pcf, mob)
    if best_out is None:
        return None
    return Contraction(best_out[1], best_out[2], U)


def _preferred_conjugators(N: Any, keep: int = 6) -> list[Matrix]:
    """Unimodular ``G`` whose conjugate block ``G^-1 N G`` has the lowest-degree ``β``."""
    al, be, ga, de = N
    scored = []
    for G in _CONJUGATORS:
        a, b, c, d = G
        D = a * d - b * c
        beta = al * (D * b * d) + be * (D * d * d) - ga * (D * b * b) - de * (D * b * d)
        if beta.is_zero():
            continue
        scored.append(((beta.degree(), _height((beta,)), sum(abs(v) for v in G)), G))
    scored.sort(key=lambda t: t[0])
    return [G for _, G in scored[:keep]]


def _unimodular(bound: int = 2) -> list[Matrix]:
    rng = range(-bound, bound + 1)
    out = []
    for a in rng:
        for b in rng:
            for c in rng:
                for d in rng:
                    if a * d - b * c in (1, -1) and (a, b, c, d) > (-a, -b, -c, -d):
                        out.append((a, b, c, d))
    out.sort(key=lambda g: (g != (1, 0, 0, 1), sum(abs(v) for v in g), g))
    return out


_CONJUGATORS = _unimodular()


def _height(polys: Sequence[Poly]) -> int:
    return max((abs(int(c)).bit_length() for f in polys for c in f.numer().coeffs()), default=0)


def _eval_matrix(N: Any, m: int) -> Matrix:
    return tuple(_eval_int(e, m) for e in N)


def _contract_blocks(N: Any, G: Matrix) -> Any:
    """PCF polynomials ``(A, B)`` of the blocks ``G^-1 N(m) G``, or ``None`` if degenerate."""
    a, b, c, d = G
    det = a * d - b * c
    Gp = tuple(flint.fmpq_poly([v]) for v in G)
    Gi = tuple(flint.fmpq_poly([v * det]) for v in (d, -b, -c, a))
    Ng = _mat_mul(_mat_mul(Gi, N), Gp)
    al, be, ga, de = Ng  # row-vector recurrence: (u', u) <- (u', u) N'
    dt = al * de - be * ga
    if _has_nonnegative_integer_root(be) or dt.is_zero():
        return None
    # u_{m+2} = (δ(m+1) + β(m+1) α(m)/β(m)) u_{m+1} - β(m+1) det N'(m)/β(m) u_m; with
    # u = c·ũ, c_{m+2} = c_{m+1}/β(m):
    #   A(m) = β(m) δ(m+1) + β(m+1) α(m),   B(m) = -β(m-1) β(m+1) det N'(m).
    be1 = _compose_linear(be, 1, 1)
    be_1 = _compose_linear(be, -1, 1)
    A = be * _compose_linear(de, 1, 1) + be1 * al
    B = -(be_1 * be1 * dt)
    if A.denom() != 1 or B.denom() != 1:
        return None
    return A, B, be, Ng


def _mob_mul(X: Matrix, Y: Matrix) -> Matrix:
    a, b, c, d = X
    e, f, g, h = Y
    return (a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h)


def _shifts(base: PCF, mob: Matrix, max_shift: int = 3) -> list[tuple[PCF, Matrix]]:
    """``base`` and the PCFs started up to ``max_shift`` levels earlier: ``a(n-k), b(n-k)``.

    The shifted PCF's tail from level ``k`` is ``base``, so its limit ``z`` is the Möbius
    image ``z = (p_{k-1} y + b_k p_{k-2})/(q_{k-1} y + b_k q_{k-2})`` of the base limit ``y``;
    the map to ``x`` is composed with the inverse. A shift is offered only when no ``b`` of
    the new first levels vanishes.
    """
    out = [(base, mob)]
    for k in range(1, max_shift + 1):
        a = _int_coeffs(_compose_linear(flint.fmpq_poly(list(base.a)), -k, 1))
        b = _int_coeffs(_compose_linear(flint.fmpq_poly(list(base.b)), -k, 1))
        pcf = PCF(a, b)
        if any(pcf.b_n(n) == 0 for n in range(1, k + 1)):
            continue
        pm2, pm1, qm2, qm1 = pcf.convergents(k - 1)
        bk = pcf.b_n(k)
        Mk = (int(pm1), bk * int(pm2), int(qm1), bk * int(qm2))
        adj = (Mk[3], -Mk[1], -Mk[2], Mk[0])
        new = _mob_mul(mob, adj)
        if new[0] * new[3] - new[1] * new[2] != 0:
            out.append((pcf, new))
    return out


def _simplify(pcf: PCF) -> tuple[PCF, int]:
    """Deflate ``pcf`` by integer constants and factors of ``a(n)`` (see ``PCF.deflate``).

    Returns the smaller PCF and the factor ``c(0)`` relating the limits: old = c(0) · new.
    """
    a, b = flint.fmpz_poly(list(pcf.a)), flint.fmpz_poly(list(pcf.b))
    shift = flint.fmpz_poly([-1, 1])
    scale = 1
    changed = True
    while changed and not a.is_zero():
        changed = False
        content, factors = a.factor()
        trials = [f for f, _ in factors]
        trials += [flint.fmpz_poly([d]) for d in sorted(_divisors(int(content)), reverse=True)]
        for c in trials:
            c0 = int(c(0))
            if c0 == 0 or c == 1:
                continue
            cc = c * c(shift)
            qa, ra = divmod(a, c)
            qb, rb = divmod(b, cc)
            if ra.is_zero() and rb.is_zero():
                a, b, scale = qa, qb, scale * c0
                changed = True
                break
    if not a.is_zero() and a.coeffs()[-1] < 0:  # leading coefficient of a(n) positive
        a, scale = -a, -scale
    return PCF(_zcoeffs(a), _zcoeffs(b)), scale


def _zcoeffs(f: Any) -> tuple[int, ...]:
    c = [int(v) for v in f.coeffs()]
    return tuple(c) if c else (0,)


def _divisors(n: int) -> list[int]:
    n = abs(n)
    if n == 0:
        return []
    out = []
    for d in range(1, math.isqrt(n) + 1):
        if n % d == 0:
            out.extend({d, n // d})
    return out
