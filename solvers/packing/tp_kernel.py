"""Kernel columns of the three-point bound: PD polynomial kernels with an exact SOS proof of (B).

A *column* is a polynomial kernel :math:`p(a, b, c)` (see :mod:`solvers.packing.tp_model`)
normalised by :math:`p(0,0,0) = 1`, together with

* factors :math:`L_k` with :math:`F_k = L_k L_k^T` (so every block is PSD by construction and
  the kernel is positive definite), and
* factors :math:`M_m` of Gram matrices :math:`Q_m = M_m M_m^T` with
  :math:`-\\tilde p = \\sigma_0 + \\sum_m \\sigma_m G_m + \\rho` in the shell coordinates
  :math:`(\\alpha, \\beta, c)`, :math:`\\sigma_m = v_m^T Q_m v_m`.

On the set where (B) is imposed (:math:`a, b \\in [t, 1]`, :math:`a + b - 2c \\ge t`,
:math:`c^2 \\le ab`) every shell coordinate lies in :math:`[-1, 1]` and every :math:`G_m \\ge 0`,
so :math:`p \\le -\\rho` there, and :math:`\\rho \\ge \\rho_0 - \\sum_{e \\ne 0}|\\rho_e|`. The
exact check computes :math:`\\rho` in integers and requires that lower bound to be :math:`\\ge 0`.

The float side solves the *pricing* SDP: minimise :math:`\\sum_j w_j q(a_j)` with
:math:`q(a) = p(a,0,0) + p(0,a,0) + p(a,a,a)` over such kernels; it involves no Laguerre
functions and is well conditioned (Clarabel reaches ``optimal``).

Examples
--------
>>> spec = KernelSpec(4, 2, 1, Fraction(100, 121), ((0,), (3,)))
>>> spec.sos_degree
6
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from flint import fmpz_mat

from solvers.errors import DiscoveryError, PrecisionError
from solvers.packing.tp_model import (
    BASE_DEGREE,
    harmonic,
    monomials,
    mul,
    shell_base_polynomials,
    to_shell,
)

__all__ = ["KernelSpec", "KernelColumn", "solve_pricing", "round_column", "verify_column",
           "column_q", "q_polynomial"]


@dataclass(frozen=True)
class KernelSpec:
    """Kernel class: dimension, angular degree ``kmax``, radial degree ``m``, ``t = (r/R)^2``,
    SOS multipliers (tuples of base-polynomial indices) and the extra SOS degree."""

    n: int
    kmax: int
    m: int
    t: Fraction
    multipliers: tuple[tuple[int, ...], ...]
    extra_degree: int = 1

    def __post_init__(self):
        object.__setattr__(self, "t", Fraction(self.t))
        if not 0 < self.t < 1:
            raise DiscoveryError(f"need 0 < t = (r/R)^2 < 1, not {self.t}")
        if self.n < 2 or not 1 <= self.kmax <= 16 or not 1 <= self.m <= 3:
            raise DiscoveryError("need n >= 2, 1 <= kmax <= 16, 1 <= m <= 3")
        ms = tuple(sorted({tuple(sorted(int(i) for i in mm)) for mm in self.multipliers}))
        for mm in ms:
            if not mm or any(not 0 <= i < len(BASE_DEGREE) for i in mm):
                raise DiscoveryError(f"bad multiplier {mm!r}")
        object.__setattr__(self, "multipliers", ms)

    @property
    def sos_degree(self) -> int:
        d = 2 * self.m + self.kmax
        return d + d % 2 + 2 * self.extra_degree

    def gram_bases(self) -> list[tuple[tuple[int, ...], dict, list]]:
        """``(multiplier, polynomial in shell coordinates, monomial basis)``, sigma_0 first."""
        base = shell_base_polynomials(self.t)
        out = []
        for mm in ((),) + self.multipliers:
            poly: dict = {(0, 0, 0): Fraction(1)}
            for i in mm:
                poly = mul(poly, base[i])
            half = (self.sos_degree - sum(BASE_DEGREE[i] for i in mm)) // 2
            if half >= 0:
                out.append((mm, poly, monomials(half)))
        return out


@dataclass(frozen=True)
class KernelColumn:
    """One verified-able kernel: integer factors with common denominators."""

    spec: KernelSpec
    f_factors: tuple            # per k: (den, rows of ints)  F_k = L L^T / den^2
    gram_factors: tuple         # per multiplier (sigma_0 first): (den, rows of ints)

    def kernel(self) -> dict:
        """The exact kernel polynomial ``p(a, b, c)``."""
        p: dict = {}
        for k, (den, rows) in enumerate(self.f_factors):
            F = _gram(den, rows)
            H = harmonic(k, self.spec.n)
            for i in range(len(F)):
                for j in range(len(F)):
                    if F[i][j]:
                        for mono, c in mul({(i, j, 0): 1}, H).items():
                            p[mono] = p.get(mono, 0) + F[i][j] * c
        return {k: v for k, v in p.items() if v}

    def to_dict(self) -> dict:
        return {
            "f_factors": [{"den": str(d), "rows": [[str(x) for x in r] for r in rows]}
                          for d, rows in self.f_factors],
            "gram_factors": [{"den": str(d), "rows": [[str(x) for x in r] for r in rows]}
                             for d, rows in self.gram_factors],
        }

    @classmethod
    def from_dict(cls, spec: KernelSpec, data: dict) -> KernelColumn:
        def load(items):
            return tuple((int(it["den"]), tuple(tuple(int(x) for x in r) for r in it["rows"]))
                         for it in items)
        return cls(spec, load(data["f_factors"]), load(data["gram_factors"]))


def _gram(den: int, rows) -> list[list[Fraction]]:
    """``L L^T / den^2`` exactly (flint integer matrices)."""
    if not rows:
        return []
    L = fmpz_mat([list(r) for r in rows])
    G = L * L.transpose()
    d2 = den * den
    return [[Fraction(int(G[i, j]), d2) for j in range(G.ncols())] for i in range(G.nrows())]


def q_polynomial(p: dict) -> dict[int, Fraction]:
    """Ascending coefficients of :math:`q(a) = p(a,0,0) + p(0,a,0) + p(a,a,a)`."""
    q: dict[int, Fraction] = {}
    for (ea, eb, ec), v in p.items():
        q[ea + eb + ec] = q.get(ea + eb + ec, 0) + v
        if eb == 0 and ec == 0:
            q[ea] = q.get(ea, 0) + v
        if ea == 0 and ec == 0:
            q[eb] = q.get(eb, 0) + v
    return q


def column_q(col: KernelColumn) -> dict[int, Fraction]:
    return q_polynomial(col.kernel())


# ----------------------------------------------------------------------------- float side


def _sym_rows(size, terms_of, index, nrows):
    import scipy.sparse as sp

    rows, cols, vals = [], [], []
    for i in range(size):
        for j in range(size):
            for mono, c in terms_of(i, j).items():
                rows.append(index[mono])
                cols.append(i + j * size)
                vals.append(float(c))
    return sp.csr_matrix((vals, (rows, cols)), shape=(nrows, size * size))


def solve_pricing(spec: KernelSpec, a_points, weights, *, eps: float = 1e-4,
                  solver: str = "CLARABEL"):
    """Minimise ``sum w_j q(a_j)`` over normalised kernels with an SOS proof of (B).

    Returns ``(value, blocks, grams)`` (floats) or ``None`` if the solver fails.
    """
    try:
        import cvxpy as cp
    except ImportError:
        raise DiscoveryError(
            "the three-point SDP needs cvxpy and clarabel: pip install 'discovery-workbench[sdp]'"
        ) from None
    D = spec.sos_degree
    monos = monomials(D)
    index = {mo: i for i, mo in enumerate(monos)}
    nm = len(monos)
    cons, blocks, terms = [], [], []
    for k in range(spec.kmax + 1):
        H = harmonic(k, spec.n)
        F = cp.Variable((spec.m + 1, spec.m + 1), symmetric=True)
        cons.append(F >> 0)
        blocks.append(F)
        M = _sym_rows(spec.m + 1, lambda i, j, H=H: mul({(i, j, 0): 1}, H), index, nm)
        terms.append(M @ cp.vec(F, order="F"))
    pvec = sum(terms)
    T = np.zeros((nm, nm))
    for col, mo in enumerate(monos):
        for mono, c in to_shell({mo: Fraction(1)}, spec.t).items():
            T[index[mono], col] = float(c)
    grams, rhs = [], []
    for _mm, poly, basis in spec.gram_bases():
        Q = cp.Variable((len(basis), len(basis)), symmetric=True)
        cons.append(Q >> 0)
        grams.append(Q)

        def tf(i, j, basis=basis, poly=poly):
            e = tuple(x + y for x, y in zip(basis[i], basis[j], strict=True))
            return mul({e: 1}, poly)

        rhs.append(_sym_rows(len(basis), tf, index, nm) @ cp.vec(Q, order="F"))
    e0 = np.zeros(nm)
    e0[0] = eps
    cons.append(-(T @ pvec) - e0 == sum(rhs))
    cons.append(pvec[0] == 1)
    a = np.asarray(a_points, float)
    rows = np.zeros((len(a), nm))
    for idx, (ea, eb, ec) in enumerate(monos):
        val = a ** (ea + eb + ec)
        if eb == 0 and ec == 0:
            val = val + a**ea
        if ea == 0 and ec == 0:
            val = val + a**eb
        rows[:, idx] = val
    w = np.asarray(weights, float)
    prob = cp.Problem(cp.Minimize((w @ rows) @ pvec), cons)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            prob.solve(solver=solver)
    except cp.error.SolverError as exc:
        raise PrecisionError(f"pricing SDP failed: {exc}") from None
    if prob.status not in ("optimal", "optimal_inaccurate"):
        return None
    return float(prob.value), [F.value for F in blocks], [Q.value for Q in grams]


def _factor(M: np.ndarray, digits: int) -> tuple[int, tuple]:
    M = (np.asarray(M) + np.asarray(M).T) / 2
    w, V = np.linalg.eigh(M)
    L = V * np.sqrt(np.maximum(w, 0))
    keep = w > max(w.max(), 0) * 1e-14
    L = L[:, keep] if keep.any() else L[:, -1:] * 0
    den = 10**digits
    rows = tuple(tuple(int(round(x * den)) for x in r) for r in L)
    return den, rows


def round_column(spec: KernelSpec, blocks, grams, digits: int = 12) -> KernelColumn:
    """Exact factors from a float solution (rounded eigen-factors, PSD by construction)."""
    return KernelColumn(spec, tuple(_factor(F, digits) for F in blocks),
                        tuple(_factor(Q, digits) for Q in grams))


def verify_column(col: KernelColumn) -> tuple[bool, Fraction, Fraction]:
    """Exact check of (B) for ``p``: returns ``(ok, p(0,0,0), margin)`` with
    ``p <= -margin`` on the (B) set when ``ok``."""
    spec = col.spec
    p = col.kernel()
    lhs = {k: -v for k, v in to_shell(p, spec.t).items()}
    bases = spec.gram_bases()
    if len(bases) != len(col.gram_factors):
        return False, Fraction(0), Fraction(0)
    for (_mm, poly, basis), (den, rows) in zip(bases, col.gram_factors, strict=True):
        if len(rows) != len(basis):
            return False, Fraction(0), Fraction(0)
        Q = _gram(den, rows)
        sq: dict = {}
        for i in range(len(basis)):
            for j in range(len(basis)):
                if Q[i][j]:
                    e = tuple(x + y for x, y in zip(basis[i], basis[j], strict=True))
                    sq[e] = sq.get(e, 0) + Q[i][j]
        for mono, c in mul(sq, poly).items():
            lhs[mono] = lhs.get(mono, 0) - c
    rho0 = lhs.get((0, 0, 0), Fraction(0))
    rest = sum(abs(v) for k, v in lhs.items() if k != (0, 0, 0))
    margin = rho0 - rest
    return margin >= 0, p.get((0, 0, 0), Fraction(0)), margin
