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

import math
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from itertools import combinations_with_replacement

from solvers.errors import DiscoveryError
from solvers.packing.laguerre import alpha_of_dimension

__all__ = ["gegenbauer", "harmonic", "monomials", "mul", "base_polynomials", "BASE_NAMES",
           "shell_coordinates", "to_shell", "shell_base_polynomials",
           "BASE_DEGREE", "Mono", "Formulation", "default_multipliers", "multiplier_degree",
           "multiplier_vocabulary", "multiplier_name"]

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


# -- the formulation: degrees, radii and multipliers of one three-point SDP ---------------


def default_multipliers() -> tuple[tuple[int, ...], ...]:
    """The default formulation: each base polynomial alone is a multiplier."""
    return tuple((i,) for i in range(len(BASE_NAMES)))


def multiplier_degree(mult: tuple[int, ...]) -> int:
    """Degree of a product of base polynomials."""
    return sum(BASE_DEGREE[i] for i in mult)


def multiplier_vocabulary(max_degree: int, max_factors: int = 2) -> tuple[tuple[int, ...], ...]:
    """Products of up to ``max_factors`` base polynomials of degree ``<= max_degree``.

    Examples
    --------
    >>> len(multiplier_vocabulary(2, 1)), len(multiplier_vocabulary(2, 2))   # 7 + 21 pairs
    (7, 28)
    """
    out = []
    for k in range(1, max_factors + 1):
        for combo in combinations_with_replacement(range(len(BASE_NAMES)), k):
            if multiplier_degree(combo) <= max_degree:
                out.append(combo)
    return tuple(out)


def multiplier_name(mult: tuple[int, ...]) -> str:
    """Readable name of a product of base polynomials, e.g. ``'(a-r2)*(R2-a)'``."""
    return "*".join(f"({BASE_NAMES[i]})" for i in mult) if mult else "1"


def _frac(x) -> Fraction:
    return x if isinstance(x, Fraction) else Fraction(x)


@dataclass(frozen=True)
class Formulation:
    """One three-point SDP: dimension, degrees, radii and the SOS multipliers of (B).

    Parameters
    ----------
    dimension : int
    d2 : int
        Degree of :math:`P_2` (odd, at most 35 in double precision).
    kmax : int
        Angular degree of the kernel (harmonics :math:`H_0 .. H_{k_{max}}`).
    m : int
        Radial degree: the blocks :math:`F_k` are :math:`(m+1) \\times (m+1)`.
    u0, s : Fraction
        :math:`2\\pi r^2` and :math:`2\\pi R^2` (exact rationals, :math:`0 < u_0 < s`).
    multipliers : tuple of tuple of int
        Products of base polynomials (indices into ``BASE_NAMES``) used as SOS multipliers.
    sos_degree : int, optional
        Degree of the SOS identity; default the kernel degree rounded up to even.
    """

    dimension: int
    d2: int
    kmax: int
    m: int
    u0: Fraction
    s: Fraction
    multipliers: tuple[tuple[int, ...], ...] = field(default_factory=default_multipliers)
    sos_degree: int = 0

    def __post_init__(self):
        n = self.dimension
        if not isinstance(n, int) or n < 2:
            raise DiscoveryError(f"the three-point bound needs dimension >= 2, not {n!r}")
        alpha_of_dimension(n)
        if self.d2 % 2 == 0 or not 3 <= self.d2 <= 35:
            raise DiscoveryError(f"d2 must be odd, 3..35 (double precision), not {self.d2}")
        if not 0 <= self.kmax <= 16 or not 0 <= self.m <= 4:
            raise DiscoveryError(f"need 0 <= kmax <= 16 and 0 <= m <= 4, got kmax={self.kmax},"
                                 f" m={self.m}")
        u0, s = _frac(self.u0), _frac(self.s)
        if not 0 < u0 < s:
            raise DiscoveryError(f"need 0 < u0 < s (r < R), got u0={u0}, s={s}")
        object.__setattr__(self, "u0", u0)
        object.__setattr__(self, "s", s)
        ms = tuple(sorted({tuple(sorted(int(i) for i in mm)) for mm in self.multipliers}))
        for mm in ms:
            if not mm or any(not 0 <= i < len(BASE_NAMES) for i in mm):
                raise DiscoveryError(f"bad multiplier {mm!r}: indices 0..{len(BASE_NAMES) - 1}")
        d = self.kernel_degree + self.kernel_degree % 2
        sos = self.sos_degree or d
        if sos < d or sos % 2:
            raise DiscoveryError(f"sos_degree must be even and >= {d}, not {self.sos_degree}")
        if sos > 16:
            raise DiscoveryError(f"sos_degree {sos} is too large for this solver (max 16)")
        ms = tuple(mm for mm in ms if multiplier_degree(mm) <= sos)
        object.__setattr__(self, "multipliers", ms)
        object.__setattr__(self, "sos_degree", sos)

    # -- derived quantities -------------------------------------------------------------
    @property
    def kernel_degree(self) -> int:
        """Total degree of :math:`p` in :math:`(a, b, c)`: :math:`2m + k_{max}`."""
        return 2 * self.m + self.kmax

    @property
    def t(self) -> Fraction:
        """:math:`(r/R)^2 = u_0/s`."""
        return self.u0 / self.s

    @property
    def r(self) -> float:
        return math.sqrt(float(self.u0) / (2 * math.pi))

    @property
    def R(self) -> float:
        return math.sqrt(float(self.s) / (2 * math.pi))

    @classmethod
    def from_radii(cls, n: int, d2: int, kmax: int, m: int, r: float, R: float,
                   multipliers=None, sos_degree: int = 0) -> Formulation:
        """Formulation with :math:`u_0 = 2\\pi r^2` and :math:`s = 2\\pi R^2` rounded to 1e-6.

        Examples
        --------
        >>> Formulation.from_radii(4, 9, 2, 0, 1.2, 1.3).u0
        Fraction(9047787, 1000000)
        """
        if not (math.isfinite(r) and math.isfinite(R) and 0 < r < R):
            raise DiscoveryError(f"need 0 < r < R, got r={r}, R={R}")
        u0 = Fraction(round(2 * math.pi * r * r * 10**6), 10**6)
        s = Fraction(round(2 * math.pi * R * R * 10**6), 10**6)
        mults = tuple(multipliers) if multipliers is not None else default_multipliers()
        return cls(n, d2, kmax, m, u0, s, mults, sos_degree)

    def harmonic(self, k: int) -> dict:
        """:math:`H_k` in :math:`(a, b, c)` (exact)."""
        return self._harmonics[k]

    @cached_property
    def _harmonics(self) -> list[dict]:
        return [harmonic(k, self.dimension) for k in range(self.kmax + 1)]

    def kernel_term(self, k: int, i: int, j: int) -> dict:
        """:math:`a^i b^j H_k` in shell coordinates :math:`(\\alpha, \\beta, c)` (exact)."""
        return self._kernel_terms[(k, i, j)]

    @cached_property
    def _kernel_terms(self) -> dict:
        out = {}
        for k in range(self.kmax + 1):
            for i in range(self.m + 1):
                for j in range(self.m + 1):
                    out[(k, i, j)] = to_shell(mul({(i, j, 0): Fraction(1)}, self.harmonic(k)),
                                              self.t)
        return out

    def sos_terms(self) -> list[tuple[list, dict]]:
        """``(basis, g)`` for :math:`g = 1` and every multiplier, in shell coordinates."""
        return self._sos_terms

    @cached_property
    def _sos_terms(self) -> list[tuple[list, dict]]:
        base = shell_base_polynomials(self.t)
        out = [(monomials(self.sos_degree // 2), {(0, 0, 0): Fraction(1)})]
        for mm in self.multipliers:
            poly: dict = {(0, 0, 0): Fraction(1)}
            for i in mm:
                poly = mul(poly, base[i])
            out.append((monomials((self.sos_degree - multiplier_degree(mm)) // 2), poly))
        return out

    def describe(self) -> dict:
        """JSON-able description (radii as floats and exact rationals, multiplier names)."""
        return {
            "dimension": self.dimension,
            "d2": self.d2,
            "kmax": self.kmax,
            "m": self.m,
            "sos_degree": self.sos_degree,
            "r": self.r,
            "R": self.R,
            "R_over_r": self.R / self.r,
            "u0": f"{self.u0.numerator}/{self.u0.denominator}",
            "s": f"{self.s.numerator}/{self.s.denominator}",
            "multipliers": [list(mm) for mm in self.multipliers],
            "multiplier_names": [multiplier_name(mm) for mm in self.multipliers],
        }

    def __repr__(self) -> str:
        return (f"Formulation(n={self.dimension}, d2={self.d2}, kmax={self.kmax}, m={self.m}, "
                f"R/r={self.R / self.r:.4f}, {len(self.multipliers)} multipliers, "
                f"SOS degree {self.sos_degree})")
