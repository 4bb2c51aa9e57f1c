"""A three-point (semidefinite) bound for sphere packing at reduced degree, verified rigorously.

The bound (after Cohn, de Laat and Salmon, arXiv 2206.15373; the argument is reproduced here
because the verifier must prove exactly this statement). Let :math:`f_2` be a radial Schwartz
function with :math:`\\hat f_2 \\ge 0` and let :math:`K` be an :math:`O(n)`-invariant positive
definite kernel; put :math:`f_3(x, y) = K(x, y)\\,1[|x| \\le R]\\,1[|y| \\le R]`. If

(A) :math:`f_2(v) + f_3(v, 0) + f_3(0, v) + f_3(v, v) \\le 0` for :math:`|v| \\ge r`, and
(B) :math:`f_3(u, v) \\le 0` whenever :math:`|u|, |v|, |u - v| \\ge r`,

then every packing with minimal distance :math:`r` has density at most
:math:`\\mathrm{vol}(B_{r/2})\\,(f_2(0) + f_3(0, 0)) / \\hat f_2(0)`.
*Proof sketch* (periodic packing :math:`X = \\Lambda + F`, :math:`N = |F|`): Poisson summation
gives :math:`\\sum_{x \\in F}\\sum_{y \\in X} f_2(y - x) \\ge N^2 \\hat f_2(0)/\\mathrm{vol}`;
positive definiteness of the truncated kernel gives
:math:`\\sum_{x \\in F}\\sum_{y, z \\in X} f_3(y - x, z - x) \\ge 0` (finite sums). Split both
sums by coincidences among :math:`x, y, z`: the diagonal gives :math:`N(f_2(0) + f_3(0,0))`,
pairs :math:`y \\ne x` give the left side of (A), distinct triples give (B).

Ansatz (with :math:`A = 2\\pi|x|^2`, :math:`B = 2\\pi|y|^2`, :math:`C = 2\\pi\\langle x, y
\\rangle`, :math:`u_0 = 2\\pi r^2`, :math:`s = 2\\pi R^2`):

* :math:`f_2(x) = P_2(A)e^{-A/2}` in the Laguerre basis, as for the LP bound;
* :math:`K(x, y) = p_3(A/s, B/s, C/s)\\,e^{-(A + B - C)/2}` with
  :math:`p_3 = \\sum_k \\sum_{i,j} F_k[i, j]\\,(A/s)^i (B/s)^j H_k`, where
  :math:`H_k = (AB)^{k/2} P_k^{(n)}(C/\\sqrt{AB})/s^k` is the zonal harmonic polynomial
  (normalised Gegenbauer :math:`P_k^{(n)}`) and every :math:`F_k \\succeq 0`. The factor
  :math:`e^{-(A+B-C)/2} = e^{-\\pi|x|^2} e^{-\\pi|y|^2} e^{\\pi\\langle x,y\\rangle}` is positive
  definite, so :math:`K` is (Schur products);
* the exponential factors of (A) all equal :math:`e^{-A/2}`, so (A) reads
  :math:`P_2(u) + q(u) \\le 0` on :math:`[u_0, s]` with
  :math:`q(u) = p_3(u/s,0,0) + p_3(0,u/s,0) + p_3(u/s,u/s,u/s)`, and :math:`P_2 \\le 0` on
  :math:`[s, \\infty)`;
* (B) is :math:`-p_3 - \\epsilon = \\sigma_0 + \\sum_m \\sigma_m G_m` with sums of squares
  :math:`\\sigma` and multipliers :math:`G_m`, products of the *base polynomials*
  :math:`A - u_0, B - u_0, A + B - 2C - u_0, s - A, s - B, AB - C^2, A + B + 2C` (in units of
  :math:`s`), which are :math:`\\ge 0` on the admissible triangles.

The SDP (cvxpy + Clarabel, double precision) optimises all of this with the univariate
conditions sampled (cutting planes). Verification is exact: rational :math:`F_k` and Gram
matrices are checked positive semidefinite from the signs of their characteristic
polynomials, the residual of the SOS identity is bounded by the sum of its absolute
coefficients (all variables lie in :math:`[-1, 1]`), and the univariate conditions are checked
with Sturm sequences, as for the LP certificates.

Status (honest): this first formulation does not improve on the LP bound. Diagnosis (see
:mod:`solvers.packing.tp_bound` for the second formulation): (i) ``R/r`` = 1.3..3 is the wrong
regime -- the kernel helps through the first shell |v| ~ r, like a kissing-number bound, and
needs a thin shell (``R/r`` ~ 1.01-1.05); (ii) the factor ``e^{pi<x,y>}`` distorts the
angular profile by ``e^{+-u0/2}`` on the shell; (iii) ``-p - eps`` with an *absolute* ``eps``
excludes ``p = 0``, and an SOS degree equal to the kernel degree forces the top blocks ``F_k``
onto a face of the PSD cone (no Slater point), hence the inaccurate solves.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import combinations_with_replacement

import numpy as np
from flint import fmpq, fmpq_mat, fmpq_poly

from solvers.errors import DiscoveryError, PrecisionError
from solvers.packing.certificate import bound_ball, round_up
from solvers.packing.exact import evaluate, roots_between
from solvers.packing.laguerre import (
    alpha_of_dimension,
    fourier_coefficients,
    gauss_laguerre_matrix,
    to_monomial,
)
from solvers.packing.tp_model import gegenbauer, monomials, mul
from solvers.packing.tp_model import harmonic as _harmonic

__all__ = [
    "BASE_POLYNOMIALS",
    "Formulation",
    "ThreePointResult",
    "three_point_bound",
    "default_multipliers",
    "multiplier_vocabulary",
    "gegenbauer",
]

#: Names of the base polynomials (in units of s = 2 pi R^2), all >= 0 on admissible triangles.
BASE_POLYNOMIALS = ("a-r2", "b-r2", "a+b-2c-r2", "R2-a", "R2-b", "ab-c2", "a+b+2c")

Mono = tuple[int, int, int]


def _base_polys(u0s: Fraction) -> list[dict]:
    """Base polynomials in ``(x, y, z) = (A, B, C)/s``; ``u0s = u0/s``."""
    return [
        {(1, 0, 0): 1, (0, 0, 0): -u0s},
        {(0, 1, 0): 1, (0, 0, 0): -u0s},
        {(1, 0, 0): 1, (0, 1, 0): 1, (0, 0, 1): -2, (0, 0, 0): -u0s},
        {(0, 0, 0): 1, (1, 0, 0): -1},
        {(0, 0, 0): 1, (0, 1, 0): -1},
        {(1, 1, 0): 1, (0, 0, 2): -1},
        {(1, 0, 0): 1, (0, 1, 0): 1, (0, 0, 1): 2},
    ]


_BASE_DEGREE = (1, 1, 1, 1, 1, 2, 1)


def default_multipliers() -> tuple[tuple[int, ...], ...]:
    """The default formulation: each base polynomial alone as a multiplier."""
    return tuple((i,) for i in range(len(BASE_POLYNOMIALS)))


def multiplier_vocabulary(d3: int, max_factors: int = 2) -> tuple[tuple[int, ...], ...]:
    """All products of up to ``max_factors`` base polynomials of degree ``<= d3``."""
    out = []
    for k in range(1, max_factors + 1):
        for combo in combinations_with_replacement(range(len(BASE_POLYNOMIALS)), k):
            if sum(_BASE_DEGREE[i] for i in combo) <= d3:
                out.append(combo)
    return tuple(out)


def _multiplier_name(m: tuple[int, ...]) -> str:
    return "*".join(f"({BASE_POLYNOMIALS[i]})" for i in m)


@dataclass(frozen=True)
class Formulation:
    """One SDP formulation: dimension, degrees, radii and the SOS multipliers of (B).

    ``r`` and ``R`` are given through the exact rationals :math:`u_0 = 2\\pi r^2` and
    :math:`s = 2\\pi R^2`.
    """

    dimension: int
    d2: int
    d3: int
    u0: Fraction
    s: Fraction
    multipliers: tuple[tuple[int, ...], ...] = field(default_factory=default_multipliers)

    def __post_init__(self):
        alpha_of_dimension(self.dimension)
        if self.dimension < 2:
            raise DiscoveryError("the three-point bound needs dimension >= 2")
        if self.d2 % 2 == 0 or not 3 <= self.d2 <= 35:
            raise DiscoveryError(f"d2 must be odd, 3..35 (double precision), not {self.d2}")
        if not 1 <= self.d3 <= 10:
            raise DiscoveryError(f"d3 must be 1..10, not {self.d3}")
        object.__setattr__(self, "u0", Fraction(self.u0))
        object.__setattr__(self, "s", Fraction(self.s))
        if not 0 < self.u0 < self.s:
            raise DiscoveryError(f"need 0 < u0 < s (r < R), got u0={self.u0}, s={self.s}")
        ms = tuple(sorted({tuple(sorted(m)) for m in self.multipliers}))
        for m in ms:
            if not m or any(not 0 <= i < len(BASE_POLYNOMIALS) for i in m):
                raise DiscoveryError(f"bad multiplier {m!r}")
        object.__setattr__(self, "multipliers", ms)

    @property
    def r(self) -> float:
        return math.sqrt(float(self.u0) / (2 * math.pi))

    @property
    def R(self) -> float:
        return math.sqrt(float(self.s) / (2 * math.pi))

    @classmethod
    def from_radii(cls, n: int, d2: int, d3: int, r: float, R: float, multipliers=None):
        """Formulation with :math:`u_0 = 2\\pi r^2`, :math:`s = 2\\pi R^2` rounded to 1e-6."""
        u0 = Fraction(round(2 * math.pi * r * r * 10**6), 10**6)
        s = Fraction(round(2 * math.pi * R * R * 10**6), 10**6)
        return cls(n, d2, d3, u0, s, tuple(multipliers) if multipliers else default_multipliers())

    def describe(self) -> dict:
        return {
            "dimension": self.dimension,
            "d2": self.d2,
            "d3": self.d3,
            "r": self.r,
            "R": self.R,
            "u0": f"{self.u0.numerator}/{self.u0.denominator}",
            "s": f"{self.s.numerator}/{self.s.denominator}",
            "multipliers": [_multiplier_name(m) for m in self.multipliers],
        }


@dataclass(frozen=True)
class ThreePointResult:
    """Outcome of one SDP solve and its exact verification."""

    formulation: Formulation
    numeric_bound: float | None
    verified: bool
    bound: str | None
    failures: tuple[str, ...]
    status: str
    seconds: float
    certificate: dict | None = None

    def __repr__(self) -> str:
        f = self.formulation
        if self.verified:
            return (f"ThreePointResult(Δ_{f.dimension} ≤ {self.bound}, verified; d3={f.d3}, "
                    f"r={f.r:.4f}, R={f.R:.4f}, {len(f.multipliers)} multipliers)")
        return f"ThreePointResult(n={f.dimension}: not verified ({self.status}; {self.failures})"

    def to_dict(self) -> dict:
        return {
            "dimension": self.formulation.dimension,
            "bound": self.bound,
            "verified": self.verified,
            "method": "three-point SDP (cvxpy/Clarabel) + exact verification",
            "numeric_bound": self.numeric_bound,
            "status": self.status,
            "failures": list(self.failures),
            "seconds": self.seconds,
            "formulation": self.formulation.describe(),
        }


# ---------------------------------------------------------------------------- the SDP


class _Model:
    """Linear maps from the SDP variables to polynomial coefficients (numpy, exact indices)."""

    def __init__(self, form: Formulation):
        self.form = form
        n, d3 = form.dimension, form.d3
        self.monos = monomials(d3)
        self.index = {m: i for i, m in enumerate(self.monos)}
        # F_k blocks: basis (x^i y^j H_k) with 2i + k <= d3
        self.blocks = []
        for k in range(d3 + 1):
            size = (d3 - k) // 2 + 1
            self.blocks.append((k, size, _harmonic(k, n)))
        u0s = form.u0 / form.s
        base = _base_polys(u0s)
        self.base = base
        self.mults = []
        for m in form.multipliers:
            poly: dict = {(0, 0, 0): Fraction(1)}
            for i in m:
                poly = mul(poly, base[i])
            deg = sum(_BASE_DEGREE[i] for i in m)
            half = (d3 - deg) // 2
            if half < 0:
                continue
            self.mults.append((m, poly, monomials(half)))
        self.sigma0_basis = monomials(d3 // 2)

    def p3_terms(self, k: int, i: int, j: int, H: dict) -> dict:
        """Coefficients of ``x^i y^j H_k`` (+ ``x^j y^i H_k`` symmetrised by the caller)."""
        return mul({(i, j, 0): Fraction(1)}, H)


def _poly_u(coeffs: dict, u0s: Fraction) -> None:  # pragma: no cover - documentation helper
    return None


def _solve(form: Formulation, solver: str, eps_b: float, margin: float, rounds: int = 6):
    try:
        import cvxpy as cp
    except ImportError:  # an optional extra: pip install "discovery-workbench[sdp]"
        raise DiscoveryError(
            "the three-point SDP needs cvxpy and clarabel: pip install 'discovery-workbench[sdp]'"
        ) from None

    model = _Model(form)
    n, d2 = form.dimension, form.d2
    s = float(form.s)
    u0 = float(form.u0)
    nm = len(model.monos)
    cons = []
    # --- p3 from PSD blocks
    F = []
    p3 = [0] * nm  # cvxpy expressions per monomial
    p3_expr_terms: list[list] = [[] for _ in range(nm)]
    for _k, size, H in model.blocks:
        Fk = cp.Variable((size, size), symmetric=True)
        F.append(Fk)
        cons.append(Fk >> 0)
        for i in range(size):
            for j in range(size):
                for mono, c in mul({(i, j, 0): 1}, H).items():
                    p3_expr_terms[model.index[mono]].append(float(c) * Fk[i, j])
    p3 = [cp.sum(cp.hstack(t)) if t else 0 for t in p3_expr_terms]
    # --- SOS identity  -p3 - eps = sigma0 + sum sigma_m G_m
    grams = []
    rhs_terms: list[list] = [[] for _ in range(nm)]

    def add_sos(basis, poly):
        Q = cp.Variable((len(basis), len(basis)), symmetric=True)
        # sigma_0 strictly inside the cone, so that the exact projection stays PSD
        cons.append(Q >> (eps_b / 100 * np.eye(len(basis)) if not grams else 0))
        grams.append(Q)
        for a in range(len(basis)):
            for b in range(len(basis)):
                mono_ab = tuple(x + y for x, y in zip(basis[a], basis[b], strict=False))
                for mono, c in mul({mono_ab: 1}, poly).items():
                    rhs_terms[model.index[mono]].append(float(c) * Q[a, b])

    add_sos(model.sigma0_basis, {(0, 0, 0): 1})
    for _m, poly, basis in model.mults:
        add_sos(basis, poly)
    for idx, mono in enumerate(model.monos):
        lhs = -p3[idx] - (eps_b if mono == (0, 0, 0) else 0)
        rhs = cp.sum(cp.hstack(rhs_terms[idx])) if rhs_terms[idx] else 0
        cons.append(lhs == rhs)
    # --- f2 and the univariate conditions (sampled, cutting planes)
    colscale = gauss_laguerre_matrix(n, np.array([0.0]), d2)[0]
    sgn = np.array([(-1.0) ** k for k in range(d2 + 1)])
    c2 = cp.Variable(d2 + 1)  # scaled: P2 = sum c2_k L_k / colscale_k

    def basis(us):
        return gauss_laguerre_matrix(n, np.asarray(us, float), d2) / colscale

    def q_rows(us):
        # q(u) e^{-u/2} as a linear map of the p3 monomial coefficients
        us = np.asarray(us, float)
        t = us / s
        rows = np.zeros((len(us), nm))
        for idx, (a, b, c) in enumerate(model.monos):
            val = t ** (a + b + c)
            if b == 0 and c == 0:
                val = val + t**a
            if a == 0 and c == 0:
                val = val + t**b
            rows[:, idx] = val
        return rows * np.exp(-us / 2)[:, None]

    p3_vec = cp.hstack([p if not isinstance(p, int) else cp.Constant(0.0) for p in p3])
    cons.append((basis([0.0])[0] * sgn) @ c2 == 1)
    top = 4.0 * d2 + 2 * float(alpha_of_dimension(n)) + 60 + s
    pts_hat = list(np.linspace(0, top, 600))
    pts_out = list(np.linspace(s, top, 300))
    pts_a = list(np.linspace(u0, s, 300))
    fine_hat = np.linspace(0, top, 12000)
    fine_out = np.linspace(s, top, 6000)
    fine_a = np.linspace(u0, s, 6000)
    objective = cp.Minimize(basis([0.0])[0] @ c2 + F[0][0, 0])
    result = None
    for _ in range(rounds):
        rows_hat = basis(pts_hat) * sgn
        rows_out = basis(pts_out)
        rows_a2 = basis(pts_a)
        rows_aq = q_rows(pts_a)
        nh = np.abs(rows_hat).max(axis=1, keepdims=True)
        no = np.abs(rows_out).max(axis=1, keepdims=True)
        na = np.maximum(np.abs(rows_a2).max(axis=1), np.abs(rows_aq).max(axis=1))[:, None]
        extra = [
            (rows_hat / nh) @ c2 >= margin,
            (rows_out / no) @ c2 <= -margin,
            (rows_a2 / na) @ c2 + (rows_aq / na) @ p3_vec <= -margin,
        ]
        prob = cp.Problem(objective, cons + extra)
        try:
            prob.solve(solver=solver)
        except cp.error.SolverError as exc:
            raise PrecisionError(f"SDP solver failed: {exc}") from None
        if prob.status not in ("optimal", "optimal_inaccurate"):
            return None, prob.status
        cval = c2.value / colscale
        pv = np.array([float(p.value) if not isinstance(p, int) else 0.0 for p in p3])
        result = (cval, [Fk.value for Fk in F], [Q.value for Q in grams], model, prob.status,
                  float(prob.value))
        # cutting planes: worst violations on fine grids
        g_hat = (gauss_laguerre_matrix(n, fine_hat, d2) * sgn) @ cval
        g_out = gauss_laguerre_matrix(n, fine_out, d2) @ cval
        g_a = gauss_laguerre_matrix(n, fine_a, d2) @ cval + q_rows(fine_a) @ pv
        new = False
        for grid, vals, pts, sign in ((fine_hat, g_hat, pts_hat, -1), (fine_out, g_out, pts_out, 1),
                                      (fine_a, g_a, pts_a, 1)):
            bad = np.where(sign * vals > 0)[0]
            if bad.size:
                v = sign * vals
                loc = [i for i in bad if (i == 0 or v[i] >= v[i - 1])
                       and (i == len(v) - 1 or v[i] >= v[i + 1])]
                pts += [float(grid[i]) for i in loc]
                new = new or bool(loc)
        if not new:
            break
    return result, result[4] if result else "failed"


# ------------------------------------------------------------------------ verification


def _frac(x: float, digits: int) -> Fraction:
    return Fraction(round(float(x) * 10**digits), 10**digits)


def _psd_exact(M: list[list[Fraction]]) -> bool:
    """A symmetric rational matrix is PSD iff det(tI + M) has no negative coefficient... i.e.
    the characteristic polynomial of -M has all roots <= 0: its coefficients are all >= 0."""
    n = len(M)
    if n == 0:
        return True
    A = fmpq_mat(n, n, [fmpq(-x.numerator, x.denominator) for row in M for x in row])
    # charpoly(-M)(t) = det(tI + M); real-rooted with roots = -eig(M); all eig >= 0 iff all
    # roots <= 0 iff (Descartes, real-rooted) no sign change among its coefficients.
    cp_ = A.charpoly()
    return all(c >= 0 for c in cp_.coeffs())


def _round_psd(M: np.ndarray, digits: int) -> list[list[Fraction]] | None:
    M = (np.asarray(M) + np.asarray(M).T) / 2
    lam = float(np.linalg.eigvalsh(M).min()) if M.size else 0.0
    shift = max(0.0, -lam) + 10.0 ** (-digits + 3)
    for _ in range(8):
        R = [[_frac(M[i, j], digits) + (Fraction(shift).limit_denominator(10**digits)
              if i == j else 0) for j in range(M.shape[0])] for i in range(M.shape[0])]
        if _psd_exact(R):
            return R
        shift *= 10
    return None


def _project_gram(basis: list, Q: np.ndarray, target: dict, digits: int):
    """Rational Gram matrix ``G`` near ``Q`` with ``sum G[a][b] m_a m_b == target`` exactly."""
    k = len(basis)
    G = [[_frac((Q[i, j] + Q[j, i]) / 2, digits) for j in range(k)] for i in range(k)]
    have: dict = {}
    pairs: dict = {}
    for a in range(k):
        for b in range(k):
            mono = tuple(x + y for x, y in zip(basis[a], basis[b], strict=False))
            have[mono] = have.get(mono, 0) + G[a][b]
            if mono not in pairs or (a == b):
                pairs[mono] = (a, b)
    for mono in set(have) | set(target):
        diff = Fraction(target.get(mono, 0)) - have.get(mono, 0)
        if not diff:
            continue
        if mono not in pairs:
            return None
        a, b = pairs[mono]
        if a == b:
            G[a][a] += diff
        else:
            G[a][b] += diff / 2
            G[b][a] += diff / 2
    return G


def _verify(
    form: Formulation, sol, digits: int = 14, eps_b: float = 1e-7
) -> tuple[bool, str | None, list, dict]:
    cval, Fs, Qs, model, status, value = sol
    n = form.dimension
    alpha = alpha_of_dimension(n)
    failures: list[str] = []
    coeffs = [_frac(c, digits + 4) for c in cval]
    P2 = to_monomial(coeffs, alpha)
    P2h = to_monomial(fourier_coefficients(coeffs), alpha)
    # exact p3 from PSD-rounded blocks
    p3: dict = {}
    blocks_exact = []
    for (k, _size, H), Fk in zip(model.blocks, Fs, strict=False):
        R = _round_psd(Fk, digits)
        if R is None:
            failures.append(f"F_{k} could not be rounded to a PSD matrix")
            return False, None, failures, {}
        blocks_exact.append(R)
        for i, row in enumerate(R):
            for j, x in enumerate(row):
                if x:
                    for mono, c in mul({(i, j, 0): 1}, H).items():
                        p3[mono] = p3.get(mono, 0) + x * c
    # (B): sigma_m (m >= 1) rounded to exact PSD matrices; sigma_0 is then *projected* so that
    # -p3 = sigma_0 + sum_m sigma_m G_m + c0 holds exactly, and checked PSD exactly.
    rhs: dict = {}
    for (_m, poly, basis), Q in zip(model.mults, Qs[1:], strict=False):
        R = _round_psd(Q, digits)
        if R is None:
            failures.append("an SOS Gram matrix could not be rounded to a PSD matrix")
            return False, None, failures, {}
        for a in range(len(basis)):
            for b in range(len(basis)):
                if R[a][b]:
                    mono_ab = tuple(x + y for x, y in zip(basis[a], basis[b], strict=False))
                    for mono, c in mul({mono_ab: 1}, poly).items():
                        rhs[mono] = rhs.get(mono, 0) + R[a][b] * c
    c0 = Fraction(eps_b).limit_denominator(10**12) / 2
    target = {m: -p3.get(m, 0) - rhs.get(m, 0) for m in set(p3) | set(rhs)}
    target[(0, 0, 0)] = target.get((0, 0, 0), 0) - c0
    Q0 = _project_gram(model.sigma0_basis, Qs[0], target, digits)
    if Q0 is None or not _psd_exact(Q0):
        failures.append("(B): the projected SOS Gram matrix is not PSD")
    const, spill = c0, Fraction(0)
    # q(u) exact, in u: p3(u/s,0,0) + p3(0,u/s,0) + p3(u/s,u/s,u/s)
    s, u0 = form.s, form.u0
    qc: dict[int, Fraction] = {}
    for (a, b, c), v in p3.items():
        qc[a + b + c] = qc.get(a + b + c, 0) + v
        if b == 0 and c == 0:
            qc[a] = qc.get(a, 0) + v
        if a == 0 and c == 0:
            qc[b] = qc.get(b, 0) + v
    q = fmpq_poly([0])
    for e, v in qc.items():
        v = Fraction(v) / s**e
        q += fmpq_poly([0] * e + [fmpq(v.numerator, v.denominator)])
    h = P2 + q
    if evaluate(h, u0) >= 0:
        failures.append("(A): f2 + f3 terms not negative at r")
    elif roots_between(h, u0, s) != 0:
        failures.append("(A): f2(v) + f3(v,0) + f3(0,v) + f3(v,v) changes sign on [r, R]")
    if evaluate(P2, s) >= 0 or P2.leading_coefficient() >= 0 or roots_between(P2, s, None):
        failures.append("f2 is not <= 0 beyond R")
    p0, ph0 = evaluate(P2, 0), evaluate(P2h, 0)
    if ph0 <= 0 or P2h.leading_coefficient() <= 0 or roots_between(P2h, 0, None):
        failures.append("f2^ is not >= 0")
    total = p0 + p3.get((0, 0, 0), Fraction(0))
    if total <= 0 or ph0 <= 0:
        failures.append("f2(0) + f3(0,0) is not positive")
        return False, None, failures, {}
    ball = bound_ball(n, u0, total / ph0)
    hi = ball.upper()
    man, exp = hi.mid().man_exp()
    hi_frac = Fraction(int(man) * 2 ** int(exp)) if exp >= 0 else Fraction(int(man), 2 ** -int(exp))
    bound = round_up(hi_frac, 10)
    cert = {
        "format": "three-point-certificate",
        "version": 1,
        **form.describe(),
        "f2_laguerre": [f"{c.numerator}/{c.denominator}" for c in coeffs],
        "F_blocks": [[[f"{x.numerator}/{x.denominator}" for x in row] for row in R]
                     for R in blocks_exact],
        "sos_residual_constant": float(const),
        "sos_residual_spill": float(spill),
    }
    return not failures, bound, failures, cert


def three_point_bound(
    n: int = 4,
    *,
    d3: int = 4,
    d2: int = 27,
    r: float | None = None,
    R: float | None = None,
    multipliers: Sequence[tuple[int, ...]] | None = None,
    solver: str = "CLARABEL",
    eps_b: float = 1e-7,
    margin: float = 1e-7,
    formulation: Formulation | None = None,
) -> ThreePointResult:
    """Solve the reduced-degree three-point SDP and verify its certificate exactly.

    Defaults: ``r`` the LP-optimal radius for this basis (1.204 in dimension 4; in general the
    float LP's), ``R = 1.5 r``; multipliers :func:`default_multipliers`.
    """
    t0 = time.perf_counter()
    if formulation is None:
        if r is None:
            from solvers.packing.sampled_lp import optimise_radius

            r = math.sqrt(optimise_radius(n, 15, 2.0, 1.3 * n + 10).u0 / (2 * math.pi))
        R = 1.5 * r if R is None else R
        formulation = Formulation.from_radii(n, d2, d3, r, R, multipliers)
    form = formulation
    try:
        sol, status = _solve(form, solver, eps_b, margin)
    except PrecisionError as exc:
        return ThreePointResult(form, None, False, None, (str(exc),), "solver-error",
                                time.perf_counter() - t0)
    if sol is None:
        return ThreePointResult(form, None, False, None, (f"SDP status {status}",), status,
                                time.perf_counter() - t0)
    numeric = float(math.exp((n / 2) * math.log(float(form.u0) / 8) - math.lgamma(n / 2 + 1))
                    * sol[5])
    ok, bound, failures, cert = _verify(form, sol, eps_b=eps_b)
    return ThreePointResult(form, numeric, ok, bound if ok else None, tuple(failures), status,
                            time.perf_counter() - t0, cert if ok else None)
