"""Three-point bound by column generation, and its exact certificate.

Statement (Cohn–de Laat–Salmon, arXiv 2206.15373; proof sketch in :mod:`three_point`):
with :math:`f_2(x) = P_2(u)e^{-u/2}` (:math:`u = 2\\pi|x|^2`), a positive definite kernel
:math:`K` truncated to :math:`B_R \\times B_R`, (A) :math:`f_2(v) + K(v,0) + K(0,v) + K(v,v)
\\le 0` for :math:`r \\le |v| \\le R`, :math:`f_2 \\le 0` for :math:`|v| \\ge R`, :math:`\\hat
f_2 \\ge 0`, and (B) :math:`K(x, y) \\le 0` when :math:`|x|, |y| \\in [r, R]`, :math:`|x - y|
\\ge r`, the density is at most :math:`\\mathrm{vol}(B_{r/2})(f_2(0) + K(0,0))/\\hat f_2(0)`.

Here :math:`K = \\sum_i \\lambda_i p_i` is a non-negative combination of *kernel columns*
(:mod:`solvers.packing.tp_kernel`: polynomial PD kernels, each with an exact SOS proof of (B)).
The restricted master problem (over :math:`P_2` and :math:`\\lambda`) is a sampled LP (HiGHS,
cutting planes); its duals price new columns (an SDP without Laguerre functions). The kernel is
a *polynomial* in :math:`(A, B, C)`: no exponential factor (an :math:`e^{\\pi\\langle x,y
\\rangle}` factor distorts the angular profile by :math:`e^{\\pm u_0/2}` on the shell).

Exact verification of (A): with :math:`Q(u) = \\sum_i \\lambda_i q_i(u/s)`, (A) is
:math:`P_2(u) + e^{u/2}Q(u) \\le 0` on :math:`[u_0, s]`; :math:`e^{u/2}` is replaced by a
rational Taylor polynomial :math:`S` with :math:`|e^{u/2} - S| \\le \\delta` there (arb), and
the polynomial :math:`P_2 + QS + \\delta\\,\\sum|Q_e| s^e` is checked negative with Sturm.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from flint import arb, fmpq, fmpq_poly

from solvers.errors import DiscoveryError, PrecisionError
from solvers.packing.certificate import _arb_fraction, bound_ball, round_up
from solvers.packing.exact import evaluate, roots_between
from solvers.packing.laguerre import (
    alpha_of_dimension,
    as_fraction,
    fourier_coefficients,
    gauss_laguerre_matrix,
    to_monomial,
)
from solvers.packing.tp_kernel import (
    KernelColumn,
    KernelSpec,
    q_polynomial,
    round_column,
    solve_pricing,
    verify_column,
)

__all__ = ["ThreePointCertificate", "verify_three_point", "column_generation", "exp_taylor"]


def _fq(x: Fraction) -> fmpq:
    return fmpq(x.numerator, x.denominator)


def exp_taylor(lo: Fraction, hi: Fraction, terms: int = 40) -> tuple[fmpq_poly, Fraction]:
    """Rational polynomial ``S`` and ``delta`` with ``|exp(u/2) - S(u)| <= delta`` on [lo, hi].

    Examples
    --------
    >>> S, d = exp_taylor(Fraction(9), Fraction(10))
    >>> abs(float(S(fmpq(19, 2))) - math.exp(19 / 4)) < 1e-9, d < Fraction(1, 10**12)
    (True, True)
    """
    c0 = (lo + hi) / 2
    e_c = arb(_fq(c0)).__truediv__(2).exp()
    E = Fraction(round(float(e_c.mid()) * 2**52), 2**52)  # rational near e^{c0/2}
    E_err = _arb_fraction(abs(e_c - arb(_fq(E))).upper())
    x = fmpq_poly([_fq(-c0 / 2), fmpq(1, 2)])  # (u - c0)/2
    S = fmpq_poly([0])
    term = fmpq_poly([1])
    for j in range(terms):
        S += term / math.factorial(j)
        term = term * x
    S = S * _fq(E)
    h = (hi - lo) / 4  # max |u - c0| / 2
    # e^{c0/2} e^{x} - E * T(x):  |e^{c0/2} - E| e^{h} + e^{c0/2} * h^N e^h / N!
    e_c_hi = _arb_fraction(e_c.upper())
    eh = _arb_fraction(arb(_fq(h)).exp().upper())
    delta = E_err * eh + e_c_hi * h**terms * eh / math.factorial(terms)
    return S, delta


@dataclass(frozen=True)
class ThreePointCertificate:
    """Exact data of a three-point bound: ``f2`` (Laguerre coefficients), columns, weights."""

    spec: KernelSpec
    u0: Fraction
    coeffs: tuple[Fraction, ...]
    weights: tuple[Fraction, ...]
    columns: tuple[KernelColumn, ...]
    meta: dict

    @property
    def s(self) -> Fraction:
        return self.u0 / self.spec.t

    def to_dict(self) -> dict:
        sp = self.spec
        return {
            "format": "three-point-certificate",
            "version": 2,
            "statement": "density <= vol(B_{r/2}) (f2(0) + K(0,0)) / f2^(0); see tp_bound.py",
            "dimension": sp.n,
            "kmax": sp.kmax,
            "m": sp.m,
            "t": f"{sp.t.numerator}/{sp.t.denominator}",
            "multipliers": [list(mm) for mm in sp.multipliers],
            "extra_degree": sp.extra_degree,
            "u0": f"{self.u0.numerator}/{self.u0.denominator}",
            "f2_laguerre": [f"{c.numerator}/{c.denominator}" for c in self.coeffs],
            "weights": [f"{w.numerator}/{w.denominator}" for w in self.weights],
            "columns": [c.to_dict() for c in self.columns],
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, d: dict) -> ThreePointCertificate:
        if d.get("format") != "three-point-certificate" or d.get("version") != 2:
            raise DiscoveryError("not a version-2 three-point certificate")
        spec = KernelSpec(int(d["dimension"]), int(d["kmax"]), int(d["m"]), as_fraction(d["t"]),
                          tuple(tuple(mm) for mm in d["multipliers"]), int(d["extra_degree"]))
        return cls(spec, as_fraction(d["u0"]), tuple(as_fraction(c) for c in d["f2_laguerre"]),
                   tuple(as_fraction(w) for w in d["weights"]),
                   tuple(KernelColumn.from_dict(spec, c) for c in d["columns"]),
                   dict(d.get("meta", {})))


@dataclass(frozen=True)
class ThreePointVerdict:
    dimension: int
    verified: bool
    bound: str | None
    upper: float
    failures: tuple[str, ...]
    seconds: float

    def __repr__(self) -> str:
        if self.verified:
            return f"ThreePointVerdict(Δ_{self.dimension} ≤ {self.bound}, verified)"
        return f"ThreePointVerdict(n={self.dimension}: not verified: {self.failures})"


def verify_three_point(cert: ThreePointCertificate) -> ThreePointVerdict:
    """Exact verification of every condition; the bound is an upper end of an arb enclosure."""
    t0 = time.perf_counter()
    sp = cert.spec
    n, u0, s = sp.n, cert.u0, cert.s
    failures: list[str] = []
    if len(cert.weights) != len(cert.columns) or any(w < 0 for w in cert.weights):
        failures.append("weights must be non-negative, one per column")
    k000 = Fraction(0)
    Q: dict[int, Fraction] = {}
    for w, col in zip(cert.weights, cert.columns, strict=False):
        if col.spec != sp:
            failures.append("column of another kernel class")
            continue
        ok, p000, _margin = verify_column(col)
        if not ok:
            failures.append("(B): an SOS certificate does not close")
        k000 += w * p000
        for e, v in q_polynomial(col.kernel()).items():
            Q[e] = Q.get(e, 0) + w * v / s**e
    alpha = alpha_of_dimension(n)
    P = to_monomial(cert.coeffs, alpha)
    Ph = to_monomial(fourier_coefficients(cert.coeffs), alpha)
    p0, ph0 = evaluate(P, 0), evaluate(Ph, 0)
    if ph0 <= 0 or Ph.leading_coefficient() <= 0 or roots_between(Ph, 0, None) != 0:
        failures.append("f2^ is not positive on [0, oo)")
    if evaluate(P, s) >= 0 or P.leading_coefficient() >= 0 or roots_between(P, s, None) != 0:
        failures.append("f2 is not negative on [R, oo)")
    Qp = fmpq_poly([0])
    for e, v in Q.items():
        Qp += fmpq_poly([0] * e + [_fq(Fraction(v))])
    S, delta = exp_taylor(u0, s)
    BQ = sum(abs(v) * max(Fraction(1), s) ** e for e, v in Q.items())
    H = P + Qp * S + _fq(BQ * delta)
    if evaluate(H, u0) >= 0 or roots_between(H, u0, s) != 0:
        failures.append("(A): f2 + f3 terms not negative on [r, R]")
    total = p0 + k000
    if total <= 0 or ph0 <= 0:
        failures.append("f2(0) + K(0,0) is not positive")
        return ThreePointVerdict(n, False, None, math.nan, tuple(failures),
                                 time.perf_counter() - t0)
    ball = bound_ball(n, u0, total / ph0)
    hi = _arb_fraction(ball.upper())
    verified = not failures
    return ThreePointVerdict(n, verified, round_up(hi, 10) if verified else None, float(hi),
                             tuple(failures), time.perf_counter() - t0)


# ----------------------------------------------------------------------------- float side


def _master_lp(n, d2, u0, s, cols_q, cols_p0, margin, rounds=25):
    """Sampled LP over (P2, lambda) with cutting planes; returns (x, value, a_pts, duals)."""
    from scipy.optimize import linprog

    colscale = gauss_laguerre_matrix(n, np.array([0.0]), d2)[0]
    sgn = np.array([(-1.0) ** k for k in range(d2 + 1)])
    nc = len(cols_q)

    def lag(us):
        return gauss_laguerre_matrix(n, np.asarray(us, float), d2) / colscale

    def qrows(us):
        a = np.asarray(us, float) / s
        out = np.zeros((len(a), nc))
        for i, q in enumerate(cols_q):
            for e, v in q.items():
                out[:, i] += float(v) * a**e
        return out

    top = 4.0 * d2 + 2 * float(alpha_of_dimension(n)) + 60 + s
    fine_h = np.linspace(0, top, 20000)
    fine_o = np.linspace(s, top, 10000)
    fine_a = np.linspace(u0, s, 3000)
    pts_h, pts_o, pts_a = list(np.linspace(0, top, 600)), list(np.linspace(s, top, 300)), \
        list(np.linspace(u0, s, 80))
    c = np.concatenate([np.ones(d2 + 1), np.asarray(cols_p0, float)])
    res = None
    for _ in range(rounds):
        Rh = np.hstack([-lag(pts_h) * sgn, np.zeros((len(pts_h), nc))])
        Ro = np.hstack([lag(pts_o), np.zeros((len(pts_o), nc))])
        Ra = np.hstack([lag(pts_a), qrows(pts_a)])
        A = np.vstack([Rh, Ro, Ra])
        nu = np.abs(A).max(axis=1, keepdims=True)
        A = A / nu
        res = linprog(c, A_ub=A, b_ub=np.full(len(A), -margin),
                      A_eq=[np.concatenate([sgn, np.zeros(nc)])], b_eq=[1.0],
                      bounds=[(None, None)] * (d2 + 1) + [(0, None)] * nc, method="highs",
                      options={"primal_feasibility_tolerance": 1e-10,
                               "dual_feasibility_tolerance": 1e-10})
        if res.status != 0:
            raise PrecisionError(f"master LP failed: {res.message}")
        x = res.x
        cv = x[: d2 + 1] / colscale
        lam = x[d2 + 1:]
        def f_h(us, cv=cv):
            M = lag(us)
            return -(M * sgn) @ (cv * colscale) / np.abs(M).max(axis=1)

        def f_o(us, cv=cv):
            M = lag(us)
            return M @ (cv * colscale) / np.abs(M).max(axis=1)

        def f_a(us, cv=cv, lam=lam):
            M = np.hstack([lag(us), qrows(us)])
            return M @ np.concatenate([cv * colscale, lam]) / np.abs(M).max(axis=1)

        new = False
        for grid, fun, pts in ((fine_h, f_h, pts_h), (fine_o, f_o, pts_o), (fine_a, f_a, pts_a)):
            v = fun(grid)
            loc = [i for i in range(len(v)) if v[i] > -1e-3
                   and (i == 0 or v[i] >= v[i - 1]) and (i == len(v) - 1 or v[i] >= v[i + 1])]
            fresh = []
            for i in loc:
                lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
                for _ in range(60):  # golden-section search for the local maximum
                    m1, m2 = lo + 0.382 * (hi - lo), hi - 0.382 * (hi - lo)
                    f1, f2 = fun(np.array([m1, m2]))
                    lo, hi = (m1, hi) if f2 > f1 else (lo, m2)
                x0 = (lo + hi) / 2
                if fun(np.array([x0]))[0] > -margin * 0.999 and \
                        min(abs(x0 - p) for p in pts) > 1e-13:
                    fresh.append(float(x0))
            pts += fresh
            new = new or bool(fresh)
        if not new:
            break
    na = len(pts_a)
    duals = -res.ineqlin.marginals[-na:] / nu[-na:, 0]
    return res.x / np.concatenate([colscale, np.ones(nc)]), float(res.fun), \
        np.asarray(pts_a) / s, duals


def column_generation(
    n: int,
    d2: int,
    u0: Fraction,
    spec: KernelSpec,
    *,
    iterations: int = 8,
    margin: float = 1e-9,
    digits: int = 18,
    initial_points=None,
    eps: float = 1e-4,
    log=None,
) -> tuple[ThreePointCertificate, ThreePointVerdict, list[dict]]:
    """Column generation for the three-point bound, then rounding and exact verification."""
    s = Fraction(u0) / spec.t
    u0 = Fraction(u0)
    cols: list[KernelColumn] = []
    history = []
    for a in initial_points if initial_points is not None else [spec.t]:
        first = solve_pricing(spec, [float(a)], [1.0], eps=eps)
        if first is None:
            raise PrecisionError("pricing SDP failed")
        cols.append(round_column(spec, first[1], first[2]))
    cols_q = [q_polynomial(c.kernel()) for c in cols]
    cols_p0 = [c.kernel().get((0, 0, 0), Fraction(0)) for c in cols]
    x = None
    for it in range(iterations):
        x, value, a_pts, duals = _master_lp(n, d2, float(u0), float(s), cols_q, cols_p0, margin)
        bound = math.exp((n / 2) * math.log(float(u0) / 8) - math.lgamma(n / 2 + 1)) * value
        keep = duals > 1e-9 * max(duals.max(), 1e-300)
        total = float(duals[keep].sum()) if keep.any() else 0.0
        try:
            priced = (solve_pricing(spec, a_pts[keep], duals[keep] / total, eps=eps)
                      if total else None)
        except PrecisionError:
            priced = None
        rc = None if priced is None else 1.0 + total * priced[0]
        history.append({"iteration": it, "columns": len(cols), "float_bound": bound,
                        "reduced_cost": rc})
        if log:
            log(history[-1])
        if priced is None or rc > -1e-7:
            break
        col = round_column(spec, priced[1], priced[2])
        cols.append(col)
        cols_q.append(q_polynomial(col.kernel()))
        cols_p0.append(col.kernel().get((0, 0, 0), Fraction(0)))
    x, value, _, _ = _master_lp(n, d2, float(u0), float(s), cols_q, cols_p0, margin)
    scale = 10**digits
    coeffs = tuple(Fraction(round(float(v) * scale), scale) for v in x[: d2 + 1])
    weights = tuple(max(Fraction(0), Fraction(round(float(v) * scale), scale))
                    for v in x[d2 + 1:])
    used = [(w, c) for w, c in zip(weights, cols, strict=True) if w > 0]
    cert = ThreePointCertificate(spec, u0, coeffs, tuple(w for w, _ in used),
                                 tuple(c for _, c in used),
                                 {"d2": d2, "float_value": value, "iterations": len(history)})
    return cert, verify_three_point(cert), history


def evaluate_formulation(
    n: int,
    d2: int,
    kmax: int,
    r: float,
    R: float,
    multipliers,
    *,
    m: int = 1,
    extra_degree: int = 0,
    iterations: int = 0,
) -> tuple[ThreePointCertificate, ThreePointVerdict]:
    """One SDP-game evaluation: columns priced at ``r`` (plus column generation), master LP,
    exact verification. ``u0 = 2 pi r^2`` and ``t = (r/R)^2`` are rounded to rationals."""
    u0 = Fraction(round(2 * math.pi * r * r * 10**6), 10**6)
    t = Fraction(round((r / R) ** 2 * 10**8), 10**8)
    spec = KernelSpec(n, kmax, m, t, tuple(tuple(mm) for mm in multipliers), extra_degree)
    cert, verdict, _ = column_generation(n, d2, u0, spec, iterations=iterations, margin=1e-8)
    return cert, verdict
