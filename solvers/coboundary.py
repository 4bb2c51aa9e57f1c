"""Equivalences of 2x2 polynomial matrix recurrences: PCF extraction, deflation, fold, coboundaries.

Conventions
-----------
A walk of matrices ``T(0) T(1) ··· T(N-1)`` has the limit ``W[0, -1] / W[1, -1]`` of its last
column. A PCF ``a(0) + b(1)/(a(1) + b(2)/(a(2) + ...))`` is the walk
``[[1, a(0)], [0, 1]] · M(1) M(2) ···`` of its companion matrices ``M(n) = [[0, b(n)], [1, a(n)]]``
(the convention of :mod:`solvers.continued_fractions`).

* **PCF extraction.** ``T(n) = [[a, b], [c, d]]`` with ``c ≢ 0`` is conjugate, by the
  coboundary ``U(n) = [[1, a(n)], [0, c(n)]]`` and the inflation by ``c(n)``, to the PCF with
  ``A(n) = c(n) a(n+1) + d(n) c(n+1)`` and ``B(n) = -det T(n) · c(n-1) c(n+1)``; common
  polynomial factors are then deflated. The limits are related by an explicit Möbius map.
* **Coboundary.** Two matrices are *equivalent* when a rational ``U(n)`` with
  ``M1(n) U(n+1) = μ(n) U(n) M2(n)`` exists (``μ`` a scalar); then their limits are related
  by the Möbius map of ``U`` at the start.
* **Fold.** ``fold_k(M)(n) = M(kn-k+1) ··· M(kn)``: ``k`` steps at once.

Polynomials are python-flint ``fmpz_poly`` in ``n`` (coefficients ascending).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import flint
import sympy as sp

from solvers.continued_fractions import PCF
from solvers.errors import DiscoveryError

__all__ = [
    "PCFExtraction",
    "Coboundary",
    "pcf_from_matrix",
    "pcf_matrix",
    "deflate_all",
    "fold",
    "fold_pcf",
    "find_coboundary",
    "apply_mobius",
    "mobius_text",
    "as_poly_matrix",
]

Mobius = tuple[tuple[int, int], tuple[int, int]]
_X = flint.fmpz_poly([0, 1])


# --------------------------------------------------------------------------- helpers


def _shift(p: Any, s: int) -> Any:
    """``p(n + s)``."""
    if s == 0 or p.degree() <= 0:
        return p
    return p(flint.fmpz_poly([s, 1]))


def _to_fmpz_poly(e: Any, n: sp.Symbol) -> tuple[Any, int]:
    """``(numerator polynomial, positive integer denominator)`` of a polynomial in ``n``."""
    if isinstance(e, flint.fmpz_poly):
        return e, 1
    if isinstance(e, int):
        return flint.fmpz_poly([e]), 1
    if isinstance(e, (list, tuple)):
        fr = [Fraction(c) for c in e]
        den = math.lcm(*(f.denominator for f in fr)) if fr else 1
        return flint.fmpz_poly([int(f * den) for f in fr]), den
    expr = sp.sympify(e) if not isinstance(e, sp.Basic) else e
    if expr.free_symbols - {n}:
        raise DiscoveryError(f"entry {expr} has symbols other than {n}")
    poly = sp.Poly(sp.expand(expr), n, domain="QQ") if expr != 0 else None
    if poly is None:
        return flint.fmpz_poly([]), 1
    coeffs = [Fraction(int(c.p), int(c.q)) for c in reversed(poly.all_coeffs())]
    den = math.lcm(*(f.denominator for f in coeffs))
    return flint.fmpz_poly([int(f * den) for f in coeffs]), den


def as_poly_matrix(M: Any, var: str = "n") -> list[list[Any]]:
    """A square matrix of integer polynomials in ``n``, up to a positive integer scalar.

    Accepts a SymPy matrix in ``var`` (polynomial entries, rational coefficients allowed:
    the whole matrix is scaled by the lcm of their denominators), or nested sequences of
    ``flint.fmpz_poly`` / ascending coefficient lists / integers.

    Examples
    --------
    >>> as_poly_matrix(sp.Matrix([[0, sp.Symbol("n")**2 / 2], [1, 3]]))
    [[0, x^2], [2, 6]]
    """
    n = sp.Symbol(var)
    if isinstance(M, sp.MatrixBase):
        rows = [[M[i, j] for j in range(M.cols)] for i in range(M.rows)]
    else:
        rows = [list(r) for r in M]
    if any(len(r) != len(rows) for r in rows):
        raise DiscoveryError("expected a square matrix")
    conv = [[_to_fmpz_poly(e, n) for e in r] for r in rows]
    den = math.lcm(*(d for r in conv for _, d in r))
    return [[p * (den // d) for p, d in r] for r in conv]


def pcf_matrix(pcf: PCF) -> list[list[Any]]:
    """The companion matrix ``[[0, b(n)], [1, a(n)]]`` of a PCF (``fmpz_poly`` entries)."""
    return [
        [flint.fmpz_poly([]), flint.fmpz_poly(list(pcf.b))],
        [flint.fmpz_poly([1]), flint.fmpz_poly(list(pcf.a))],
    ]


def _normalize_mobius(m: Sequence[Sequence[Any]]) -> Mobius | None:
    fr = [Fraction(x) for row in m for x in row]
    den = math.lcm(*(f.denominator for f in fr))
    ints = [int(f * den) for f in fr]
    g = math.gcd(*ints)
    if g == 0:
        return None
    ints = [v // g for v in ints]
    if ints[0] * ints[3] - ints[1] * ints[2] == 0:
        return None
    if ints[2] < 0 or (ints[2] == 0 and ints[3] < 0):
        ints = [-v for v in ints]
    return ((ints[0], ints[1]), (ints[2], ints[3]))


def _mat2_mul(A: Sequence[Sequence[Any]], B: Sequence[Sequence[Any]]) -> list[list[Any]]:
    return [
        [A[0][0] * B[0][0] + A[0][1] * B[1][0], A[0][0] * B[0][1] + A[0][1] * B[1][1]],
        [A[1][0] * B[0][0] + A[1][1] * B[1][0], A[1][0] * B[0][1] + A[1][1] * B[1][1]],
    ]


def _linear(a: int, b: int, var: str) -> str:
    parts = []
    times = "*" if len(var) > 1 else ""
    if a:
        parts.append(var if a == 1 else f"-{var}" if a == -1 else f"{a}{times}{var}")
    if b or not parts:
        if parts:
            parts.append(f" + {b}" if b > 0 else f" - {-b}")
        else:
            parts.append(str(b))
    return "".join(parts)


def mobius_text(m: Mobius, var: str = "V") -> str:
    """``(a V + b)/(c V + d)`` as short text.

    Examples
    --------
    >>> mobius_text(((2, -1), (1, 0)))
    '(2V - 1)/V'
    >>> mobius_text(((-1, -1), (6, 0)), "L2")
    '(-L2 - 1)/(6*L2)'
    >>> mobius_text(((0, 6), (1, 0)))
    '6/V'
    """
    (a, b), (c, d) = m
    num, den = _linear(a, b, var), _linear(c, d, var)
    if den == "1":
        return num
    wrap_num = num if (a == 0 or b == 0) else f"({num})"
    bare = den == var or den.lstrip("-").isdigit()
    wrap_den = den if bare else f"({den})"
    return f"{wrap_num}/{wrap_den}"


def apply_mobius(m: Mobius, x: Any) -> Any:
    """``(m00 x + m01) / (m10 x + m11)`` in the arithmetic of ``x``.

    Examples
    --------
    >>> apply_mobius(((1, 2), (0, 1)), Fraction(1, 3))
    Fraction(7, 3)
    """
    (a, b), (c, d) = m
    return (a * x + b) / (c * x + d)


# --------------------------------------------------------------------------- deflation


def deflate_all(a: Any, b: Any) -> tuple[Any, Any, Any]:
    """Deflate ``PCF(a, b)`` completely: divide by every ``c(n)`` with ``c | a`` and
    ``c(n) c(n-1) | b``, integer contents and a sign included (leading coefficient of ``a``
    made positive).

    Returns
    -------
    (a', b', c) : fmpz_poly
        ``PCF(a, b)`` is ``PCF(a', b')`` inflated by ``c``; its limit is ``c(0)`` times the
        limit of ``PCF(a', b')``.

    Examples
    --------
    >>> a, b, c = deflate_all(flint.fmpz_poly([0, 5, 27, 51, 34]),      # Apéry inflated by n
    ...                       flint.fmpz_poly([0, 0, 0, 0, 0, 0, 0, 1, -1]))
    >>> a, b, c
    (34*x^3 + 51*x^2 + 27*x + 5, (-1)*x^6, x)
    """
    a = flint.fmpz_poly(a)
    b = flint.fmpz_poly(b)
    c = flint.fmpz_poly([1])
    if a == 0:
        return a, b, c
    # integer content
    ca = int(a.content())
    cb = int(b.content()) if b != 0 else 0
    g = math.gcd(ca, cb) if cb else ca
    for p, _ in flint.fmpz(g).factor() if g > 1 else []:
        p = int(p)
        while int(a.content()) % p == 0 and (b == 0 or int(b.content()) % (p * p) == 0):
            a = flint.fmpz_poly([int(x) // p for x in a.coeffs()])
            if b != 0:
                b = flint.fmpz_poly([int(x) // (p * p) for x in b.coeffs()])
            c *= p
    # polynomial factors
    _, factors = a.factor()
    for f, mult in factors:
        if f.degree() < 1:
            continue
        for _ in range(mult):
            q, r = divmod(a, f)
            if r != 0:
                break
            ff = f * _shift(f, -1)
            if b != 0:
                qb, rb = divmod(b, ff)
                if rb != 0:
                    break
                b = qb
            a = q
            c *= f
    if a.coeffs()[-1] < 0:
        a, c = -a, -c
    return a, b, c


# --------------------------------------------------------------------------- extraction


@dataclass(frozen=True)
class PCFExtraction:
    """A PCF equivalent to a 2x2 matrix walk, and how their limits are related.

    Attributes
    ----------
    pcf : PCF
        The deflated PCF.
    mobius : ((int, int), (int, int)) or None
        ``m`` with ``walk limit = (m00 V + m01) / (m10 V + m11)``, ``V`` the PCF's limit;
        ``None`` when the walk degenerates at its start (a singular first step).
    deflated_by : tuple of int
        Coefficients (ascending) of the polynomial removed by :func:`deflate_all`.
    """

    pcf: PCF
    mobius: Mobius | None
    deflated_by: tuple[int, ...]

    def __repr__(self) -> str:
        rel = "degenerate start" if self.mobius is None else "L = " + mobius_text(self.mobius)
        return f"PCFExtraction({self.pcf!r}, {rel})"

    def walk_limit(self, V: Any) -> Any:
        """The walk's limit from the PCF's limit ``V``."""
        if self.mobius is None:
            raise DiscoveryError("the walk is degenerate at its start: no Möbius relation")
        return apply_mobius(self.mobius, V)


def pcf_from_matrix(T: Any) -> PCFExtraction:
    """The PCF equivalent to the walk ``T(0) T(1) ···`` of a 2x2 polynomial matrix.

    ``A(n) = c(n) a(n+1) + d(n) c(n+1)``, ``B(n) = -det T(n) · c(n-1) c(n+1)`` for
    ``T = [[a, b], [c, d]]``, then :func:`deflate_all`.

    Parameters
    ----------
    T : 2x2 matrix
        SymPy matrix in ``n`` or nested ``fmpz_poly`` (see :func:`as_poly_matrix`). Only its
        projective class matters.

    Examples
    --------
    The ζ(3) field along (1, 1) from (0, 0) gives Apéry's PCF:

    >>> n = sp.Symbol("n")
    >>> pcf_from_matrix(sp.Matrix([[1, -1], [-1, n + 2]]))   # the e field along (1, 0)
    PCFExtraction(PCF(n+3, -n-1), L = (-V + 1)/V)
    """
    M = as_poly_matrix(T)
    if len(M) != 2:
        raise DiscoveryError(f"PCF extraction needs a 2x2 matrix, got {len(M)}x{len(M)}")
    (a, b), (c, d) = M
    if c == 0:
        raise DiscoveryError("T(n)[1, 0] vanishes identically: no companion form (c(n) ≡ 0)")
    det = a * d - b * c
    A = c * _shift(a, 1) + d * _shift(c, 1)
    B = -det * _shift(c, -1) * _shift(c, 1)
    if B == 0:
        raise DiscoveryError("the walk is degenerate: det T(n) ≡ 0")
    a2, b2, k = deflate_all(A, B)
    pcf = PCF(tuple(int(x) for x in a2.coeffs()) or (0,),
              tuple(int(x) for x in b2.coeffs()) or (0,))
    # walk limit = U(0) ∘ [[0, beta], [1, 0]] ∘ diag(k(0), 1) (V)
    k0 = int(k(0))
    beta = -int(det(0)) * int(c(1))
    U0 = [[1, int(a(0))], [0, int(c(0))]]
    m = _mat2_mul(_mat2_mul(U0, [[0, beta], [1, 0]]), [[k0, 0], [0, 1]])
    mob = None
    if int(c(0)) != 0 and beta != 0 and k0 != 0:
        mob = _normalize_mobius(m)
    return PCFExtraction(pcf, mob, tuple(int(x) for x in k.coeffs()))


# --------------------------------------------------------------------------- fold


def fold(M: Any, k: int) -> list[list[Any]]:
    """``fold_k(M)(n) = M(kn-k+1) ··· M(kn)`` for a square polynomial matrix ``M(n)``.

    Examples
    --------
    >>> F = fold(pcf_matrix(PCF(1, 1)), 2)
    >>> [[str(e) for e in row] for row in F]
    [['1', '1'], ['1', '2']]
    """
    if k < 1:
        raise DiscoveryError(f"fold needs k >= 1, got {k}")
    P = as_poly_matrix(M)
    r = len(P)
    acc = None
    for j in range(k):
        arg = flint.fmpz_poly([-k + 1 + j, k])
        step = [[e(arg) if e.degree() > 0 else e for e in row] for row in P]
        if acc is None:
            acc = step
        else:
            acc = [
                [sum((acc[i][t] * step[t][jj] for t in range(r)), flint.fmpz_poly([]))
                 for jj in range(r)]
                for i in range(r)
            ]
    return acc


def fold_pcf(pcf: PCF, k: int) -> PCFExtraction:
    """A PCF whose every step is ``k`` steps of ``pcf``; the Möbius map relates the limits.

    ``limit(pcf) = mobius(limit(folded))``.

    Examples
    --------
    >>> ext = fold_pcf(PCF(1, 1), 2)   # the golden ratio, two steps at a time
    >>> ext
    PCFExtraction(PCF(3, -1), L = (2V - 1)/V)
    >>> import mpmath
    >>> V = (3 + mpmath.sqrt(5)) / 2            # the limit of PCF(3, -1)
    >>> mpmath.almosteq(ext.walk_limit(V), (1 + mpmath.sqrt(5)) / 2)
    True
    """
    F = fold(pcf_matrix(pcf), k)
    T = [[_shift(e, 1) for e in row] for row in F]  # T(n) = F(n + 1), n >= 0
    ext = pcf_from_matrix(T)
    if ext.mobius is None:
        return ext
    E = [[1, pcf.a_n(0)], [0, 1]]
    return PCFExtraction(ext.pcf, _normalize_mobius(_mat2_mul(E, ext.mobius)), ext.deflated_by)


# --------------------------------------------------------------------------- coboundary search


def _coeffs(p: Any) -> tuple[int, ...]:
    return tuple(int(c) for c in p.coeffs()) or (0,)


def _rational_sym(num: Any, den: Any, n: sp.Symbol) -> sp.Expr:
    """``num/den`` (integer polynomials) reduced by their gcd, as SymPy (no ``cancel``)."""
    g = num.gcd(den)
    if g.degree() > 0 or abs(int(g.coeffs()[0])) != 1:
        num, den = num // g, den // g
    if den.coeffs()[-1] < 0:
        num, den = -num, -den
    return _poly_sym(num, n) / _poly_sym(den, n)


@dataclass(frozen=True)
class Coboundary:
    """``M1(n) U(n+1) = μ(n) U(n) M2(n)`` with ``U = V / w`` rational, ``μ`` a rational scalar.

    Attributes
    ----------
    V : tuple
        Numerator of ``U``: a 2x2 matrix of integer polynomials (ascending coefficients).
    w : tuple of int
        Denominator of ``U`` (a scalar polynomial).
    mu_num, mu_den : tuple of int
        ``μ = mu_num / mu_den``.
    mobius : ((int, int), (int, int)) or None
        For two PCFs: ``limit(P1) = mobius(limit(P2))`` (``None`` if not determined).
    """

    V: tuple[tuple[tuple[int, ...], ...], ...]
    w: tuple[int, ...]
    mu_num: tuple[int, ...]
    mu_den: tuple[int, ...]
    mobius: Mobius | None

    @property
    def U(self) -> sp.Matrix:
        """The coboundary as a SymPy matrix in ``n``."""
        n = sp.Symbol("n")
        w = flint.fmpz_poly(list(self.w))
        return sp.Matrix([[_rational_sym(flint.fmpz_poly(list(e)), w, n) for e in row]
                          for row in self.V])

    @property
    def mu(self) -> sp.Expr:
        """The scalar ``μ(n)``."""
        return _rational_sym(flint.fmpz_poly(list(self.mu_num)),
                             flint.fmpz_poly(list(self.mu_den)), sp.Symbol("n"))

    def inverse(self) -> Coboundary:
        """The same equivalence read the other way: ``M2 U^{-1}(n+1) = μ^{-1} U^{-1} M1``.

        Examples
        --------
        >>> cb = find_coboundary(PCF("2n+1", "n^2").inflate("n+2"), PCF("2n+1", "n^2"))
        >>> cb.mobius, cb.inverse().mobius
        (((2, 0), (0, 1)), ((1, 0), (0, 2)))
        """
        V = [[flint.fmpz_poly(list(e)) for e in row] for row in self.V]
        w = flint.fmpz_poly(list(self.w))
        adj = [[V[1][1] * w, -V[0][1] * w], [-V[1][0] * w, V[0][0] * w]]
        det = _det2(V)
        g = det
        for row in adj:
            for e in row:
                g = g.gcd(e)
        adj = [[e // g for e in row] for row in adj]
        det = det // g
        mob = None
        if self.mobius is not None:
            (a, b), (c, d) = self.mobius
            mob = _normalize_mobius([[d, -b], [-c, a]])
        return Coboundary(tuple(tuple(_coeffs(e) for e in row) for row in adj), _coeffs(det),
                          self.mu_den, self.mu_num, mob)

    def __repr__(self) -> str:
        return f"Coboundary(U = {self.U.tolist()}, mu = {self.mu}, mobius = {self.mobius})"


def _balanced_invariant(P: PCF) -> Fraction | None:
    """``α²/β`` for ``a ~ α n^d``, ``b ~ β n^{2d}``: the ratio of the characteristic roots
    (up to inversion) is a gauge invariant, so equivalent balanced PCFs share it."""
    if P.a == (0,) or P.b == (0,):
        return None
    if 2 * (len(P.a) - 1) != len(P.b) - 1:
        return None
    return Fraction(P.a[-1] ** 2, P.b[-1])


def _factor_list(p: Any) -> tuple[int, list[Any]]:
    """Content (with sign) and the multiset of primitive irreducible factors (positive lc)."""
    content, fs = p.factor()
    out = []
    unit = int(content)
    for f, e in fs:
        if f.coeffs()[-1] < 0:
            f = -f
            unit *= (-1) ** e
        out.extend([f] * e)
    return unit, out


def _shift_between(f: Any, g: Any) -> int | None:
    """The integer ``h`` with ``f(n) = g(n + h)``, if any."""
    d = f.degree()
    if d != g.degree() or d < 1:
        return None
    fc, gc = f.coeffs(), g.coeffs()
    if fc[-1] != gc[-1]:
        return None
    num = int(fc[d - 1]) - int(gc[d - 1])
    den = d * int(gc[-1])
    if num % den:
        return None
    h = num // den
    return h if _shift(g, h) == f else None


def _shift_matching(d1: Any, d2: Any) -> tuple[Fraction, Any, Any, Any, Any] | None:
    """Write ``d2/d1 = C · r(n+1)/r(n) · L2/L1``: returns ``(C, r_num, r_den, L1, L2)``."""
    c1, f1 = _factor_list(d1)
    c2, f2 = _factor_list(d2)
    r_num = flint.fmpz_poly([1])
    r_den = flint.fmpz_poly([1])
    left1 = list(f1)
    left2 = []
    for g in f2:
        best = None
        for idx, f in enumerate(left1):
            h = _shift_between(f, g)  # f(n) = g(n + h)
            if h is not None and (best is None or abs(h) < abs(best[1])):
                best = (idx, h)
        if best is None:
            left2.append(g)
            continue
        idx, h = best
        left1.pop(idx)
        # g(n)/g(n+h) = r(n+1)/r(n)
        if h > 0:
            for j in range(h):
                r_den *= _shift(g, j)
        elif h < 0:
            for j in range(1, -h + 1):
                r_num *= _shift(g, -j)
    # Within one side, f(n) f(n-k) = f(n)^2 · R(n)/R(n+1) with R(n) = f(n-1)···f(n-k): a
    # square (part of mu^2) times a shift quotient (part of r). This is how an inflation
    # PCF(c a, c c(n-1) b) of a PCF is matched.
    left1, R1 = _pair_within(left1)  # 1/d1 contributes R1(n+1)/R1(n): r *= R1
    left2, R2 = _pair_within(left2)  # d2 contributes R2(n)/R2(n+1): r /= R2
    r_num, r_den = r_num * R1, r_den * R2
    L1 = flint.fmpz_poly([1])
    for f in left1:
        L1 *= f
    L2 = flint.fmpz_poly([1])
    for g in left2:
        L2 *= g
    return Fraction(c2, c1), r_num, r_den, L1, L2


def _pair_within(factors: list[Any]) -> tuple[list[Any], Any]:
    """Pair factors ``f(n), f(n-k)`` (``k > 0``) of one determinant: each pair becomes
    ``f(n), f(n)``; returns the new factors and ``prod R(n)``, ``R(n) = f(n-1) ··· f(n-k)``,
    so that ``prod(old) = prod(new) · prod R(n) / prod R(n+1)``."""
    left = list(factors)
    out: list[Any] = []
    acc = flint.fmpz_poly([1])
    while left:
        f = left.pop(0)
        partner = None
        for idx, g in enumerate(left):
            h = _shift_between(g, f)  # g(n) = f(n + h)
            if h is not None and h != 0:
                partner = (idx, h)
                break
        if partner is None:
            out.append(f)
            continue
        idx, h = partner
        g = left.pop(idx)
        top, k = (f, -h) if h < 0 else (g, h)  # the pair is top(n), top(n - k)
        for j in range(1, k + 1):
            acc *= _shift(top, -j)
        out.extend([top, top])
    return out, acc


def _poly_sqrt(p: Any) -> Any | None:
    unit, fs = _factor_list(p)
    if unit != 1:
        return None
    counts: dict[str, tuple[Any, int]] = {}
    for f in fs:
        key = str(f)
        counts[key] = (f, counts.get(key, (f, 0))[1] + 1)
    out = flint.fmpz_poly([1])
    for f, e in counts.values():
        if e % 2:
            return None
        for _ in range(e // 2):
            out *= f
    return out


def _frac_sqrt(q: Fraction) -> Fraction | None:
    if q <= 0:
        return None
    a, b = math.isqrt(q.numerator), math.isqrt(q.denominator)
    if a * a != q.numerator or b * b != q.denominator:
        return None
    return Fraction(a, b)


def _denominator_candidates(r_den: Any) -> list[Any]:
    if r_den.degree() < 1:
        return [flint.fmpz_poly([1])]
    _, fs = _factor_list(r_den)
    counts: dict[str, tuple[Any, int]] = {}
    for f in fs:
        key = str(f)
        counts[key] = (f, counts.get(key, (f, 0))[1] + 1)
    half = flint.fmpz_poly([1])
    for f, e in counts.values():
        for _ in range((e + 1) // 2):
            half *= f
    cands = [half]
    if r_den != half:
        cands.append(r_den)
    return cands


def _solve(
    M1: list[list[Any]], M2: list[list[Any]], w: Any, gL: Any, hL: Any, kappa: Fraction,
    degree: int,
) -> list[list[list[Any]]]:
    """Polynomial ``V`` (entries of degree ``<= degree``) with
    ``hL w M1 V(n+1) = kappa gL w(n+1) V M2``: a basis of the solutions."""
    r = len(M1)
    p, q = kappa.numerator, kappa.denominator
    w1 = _shift(w, 1)
    lhs_s = hL * w * q
    rhs_s = gL * w1 * p
    cols = []
    for i in range(r):
        for j in range(r):
            for k in range(degree + 1):
                E = [[flint.fmpz_poly([]) for _ in range(r)] for _ in range(r)]
                mono = _X**k
                mono1 = _shift(mono, 1)
                for row in range(r):
                    E[row][j] += lhs_s * M1[row][i] * mono1
                for col in range(r):
                    E[i][col] -= rhs_s * mono * M2[j][col]
                cols.append(E)
    maxdeg = max(e.degree() for E in cols for row in E for e in row)
    nrows = r * r * (maxdeg + 1)
    data = [[0] * len(cols) for _ in range(nrows)]
    for ci, E in enumerate(cols):
        for i in range(r):
            for j in range(r):
                for k, c in enumerate(E[i][j].coeffs()):
                    data[(i * r + j) * (maxdeg + 1) + k][ci] = int(c)
    A = flint.fmpz_mat(data)
    X, nullity = A.nullspace()
    sols = []
    for col in range(int(nullity)):
        vec = [int(X[row, col]) for row in range(len(cols))]
        V = [[flint.fmpz_poly(vec[(i * r + j) * (degree + 1):(i * r + j + 1) * (degree + 1)])
              for j in range(r)] for i in range(r)]
        sols.append(V)
    return sols


def _det2(V: list[list[Any]]) -> Any:
    return V[0][0] * V[1][1] - V[0][1] * V[1][0]


def _poly_sym(p: Any, n: sp.Symbol) -> sp.Expr:
    return sum((sp.Integer(int(c)) * n**k for k, c in enumerate(p.coeffs())), sp.Integer(0))


def find_coboundary(
    M1: Any, M2: Any, max_degree: int | None = None, denominators: Sequence[Any] | None = None,
) -> Coboundary | None:
    """Search a rational coboundary ``U`` with ``M1(n) U(n+1) = μ(n) U(n) M2(n)``.

    ``M1``, ``M2`` are PCFs (their companion matrices) or 2x2 polynomial matrices in ``n``.
    The determinant identity ``det M1(n) det U(n+1) = μ(n)^2 det U(n) det M2(n)`` fixes, by
    matching the irreducible factors of the two determinants up to integer shifts,
    ``det U`` (up to a constant), ``μ`` and candidates for the denominator ``w`` of ``U``;
    for each candidate a linear system for the numerator ``V = w U`` (entries of degree at
    most ``max_degree``) is solved exactly. A bounded, sound search: a returned coboundary
    satisfies the identity exactly; ``None`` means none was found within the bounds.

    Parameters
    ----------
    M1, M2 : PCF or 2x2 matrix
    max_degree : int, optional
        Bound on the degrees of the entries of ``V``; default ``deg w`` plus the largest
        entry degree of ``M1``, ``M2``.
    denominators : sequence, optional
        Extra candidate denominators ``w(n)`` (``fmpz_poly``, coefficient lists or SymPy).

    Examples
    --------
    A PCF and its tail (the same PCF started one step later) are equivalent:

    >>> apery = PCF("34n^3+51n^2+27n+5", "-n^6")
    >>> tail = PCF("34n^3+153n^2+231n+117", "-(n+1)^6")
    >>> cb = find_coboundary(tail, apery)
    >>> cb.mobius                     # tail = -1/(V - 5) where V = 6/zeta(3)
    ((0, -1), (1, -5))
    """
    pcfs = (M1, M2)
    if isinstance(M1, PCF) and isinstance(M2, PCF):
        i1, i2 = _balanced_invariant(M1), _balanced_invariant(M2)
        if i1 is not None and i2 is not None and i1 != i2:
            return None
    A1 = pcf_matrix(M1) if isinstance(M1, PCF) else as_poly_matrix(M1)
    A2 = pcf_matrix(M2) if isinstance(M2, PCF) else as_poly_matrix(M2)
    if len(A1) != 2 or len(A2) != 2:
        raise DiscoveryError("find_coboundary handles 2x2 matrices")
    d1, d2 = _det2(A1), _det2(A2)
    if d1 == 0 or d2 == 0:
        raise DiscoveryError("singular matrices (det ≡ 0) have no coboundary")
    C, r_num, r_den, L1, L2 = _shift_matching(d1, d2)
    # mu^2 = (1/C) * L1/L2
    gL, hL = _poly_sqrt(L1), _poly_sqrt(L2)
    kappa = _frac_sqrt(1 / C)
    if gL is None or hL is None or kappa is None:
        return None
    cands = _denominator_candidates(r_den)
    if denominators:
        for w in denominators:
            cands.append(as_poly_matrix([[w]])[0][0])
    entry_deg = max(e.degree() for M in (A1, A2) for row in M for e in row)
    for w in cands:
        deg = max_degree if max_degree is not None else w.degree() + max(entry_deg, 0) + 1
        for sign in (1, -1):
            sols = _solve(A1, A2, w, gL, hL, sign * kappa, deg)
            cand_V = list(sols)
            if len(sols) > 1:
                total = [[sum((V[i][j] for V in sols), flint.fmpz_poly([])) for j in range(2)]
                         for i in range(2)]
                cand_V.append(total)
            for V in cand_V:
                if _det2(V) == 0:
                    continue
                mob = None
                if all(isinstance(P, PCF) for P in pcfs):
                    mob = _pcf_mobius(pcfs[0], pcfs[1], V, w, gL, hL)
                mu_num = gL * (sign * kappa.numerator)
                mu_den = hL * kappa.denominator
                return Coboundary(tuple(tuple(_coeffs(e) for e in row) for row in V),
                                  _coeffs(w), _coeffs(mu_num), _coeffs(mu_den), mob)
    return None


def _pcf_mobius(P1: PCF, P2: PCF, V: Any, w: Any, gL: Any, hL: Any) -> Mobius | None:
    """``limit(P1) = m(limit(P2))`` from ``E1 P1(1..k-1) U(k) (E2 P2(1..k-1))^{-1}``."""
    def ev(p: Any, x: int) -> int:
        return int(p(x))

    for k in range(1, 64):
        if ev(w, k) == 0:
            continue
        Uk = [[Fraction(ev(e, k), ev(w, k)) for e in row] for row in V]
        if Uk[0][0] * Uk[1][1] - Uk[0][1] * Uk[1][0] == 0:
            continue
        # mu(j) must be finite and nonzero for j >= k: gL, hL have no integer roots >= k
        if any(ev(gL, j) == 0 or ev(hL, j) == 0 for j in range(k, k + 64)):
            continue
        L = [[Fraction(1), Fraction(P1.a_n(0))], [Fraction(0), Fraction(1)]]
        R = [[Fraction(1), Fraction(P2.a_n(0))], [Fraction(0), Fraction(1)]]
        ok = True
        for j in range(1, k):
            L = _mat2_mul(L, [[0, P1.b_n(j)], [1, P1.a_n(j)]])
            R = _mat2_mul(R, [[0, P2.b_n(j)], [1, P2.a_n(j)]])
        detR = R[0][0] * R[1][1] - R[0][1] * R[1][0]
        if detR == 0:
            ok = False
        if not ok:
            continue
        Rinv = [[R[1][1] / detR, -R[0][1] / detR], [-R[1][0] / detR, R[0][0] / detR]]
        return _normalize_mobius(_mat2_mul(_mat2_mul(L, Uk), Rinv))
    return None
