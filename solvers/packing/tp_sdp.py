"""The three-point SDP in double precision (cvxpy + Clarabel), for :mod:`three_point`.

Unknowns: Laguerre coefficients of :math:`P_2` (:math:`f_2 = P_2(u)e^{-u/2}`), PSD blocks
:math:`F_k` of the polynomial kernel (see :mod:`solvers.packing.tp_model`) and PSD Gram
matrices of the SOS certificate of condition (B). The univariate conditions are sampled with
a cutting-plane exchange; only the exact check in :mod:`three_point` makes anything a bound.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from solvers.errors import DiscoveryError, PrecisionError
from solvers.packing.laguerre import alpha_of_dimension, gauss_laguerre_matrix
from solvers.packing.tp_model import (
    BASE_DEGREE,
    harmonic,
    monomials,
    mul,
    shell_base_polynomials,
    to_shell,
)

__all__ = ["NumericSolution", "solve_numeric", "kernel_degree"]


def kernel_degree(kmax: int, m: int) -> int:
    """Total degree in ``(a, b, c)`` of the kernel, rounded up to even (the SOS degree)."""
    d = 2 * m + kmax
    return d + (d % 2)


@dataclass
class NumericSolution:
    """Float solution of the three-point SDP (not a bound until verified)."""

    value: float            # f2(0) + f3(0, 0) with fhat2(0) = 1
    c2: np.ndarray          # Laguerre coefficients of P2 (unscaled)
    blocks: list            # F_k
    grams: list             # [sigma_0, sigma_m ...] Gram matrices
    bases: list             # monomial bases of the Gram matrices
    multipliers: list       # polynomial dicts of the multipliers (sigma_0: {0: 1})
    status: str


def _sym_map(size: int, terms_of, index: dict, nrows: int) -> sp.csr_matrix:
    """Sparse map vec(X) (column-major) -> coefficient vector for sum X[i,j] terms_of(i, j)."""
    rows, cols, vals = [], [], []
    for i in range(size):
        for j in range(size):
            for mono, c in terms_of(i, j).items():
                rows.append(index[mono])
                cols.append(i + j * size)
                vals.append(float(c))
    return sp.csr_matrix((vals, (rows, cols)), shape=(nrows, size * size))


def solve_numeric(
    n: int,
    d2: int,
    kmax: int,
    m: int,
    u0: float,
    s: float,
    multipliers,
    *,
    eps_b: float = 1e-4,
    margin: float = 1e-7,
    rounds: int = 8,
    solver: str = "CLARABEL",
    with_kernel: bool = True,
    solver_opts: dict | None = None,
    extra_degree: int = 1,
) -> NumericSolution | None:
    """Solve the sampled SDP; ``None`` if infeasible. ``with_kernel=False`` gives the LP."""
    try:
        import cvxpy as cp
    except ImportError:
        raise DiscoveryError(
            "the three-point SDP needs cvxpy and clarabel: pip install 'discovery-workbench[sdp]'"
        ) from None
    solver_opts = dict(solver_opts or {})
    D = kernel_degree(kmax, m) + 2 * extra_degree
    monos = monomials(D)
    index = {mo: i for i, mo in enumerate(monos)}
    nm = len(monos)
    cons = []
    blocks, pmaps = [], []
    size = m + 1
    for k in range(kmax + 1 if with_kernel else 0):
        H = harmonic(k, n)
        Fk = cp.Variable((size, size), symmetric=True)
        cons.append(Fk >> 0)
        blocks.append(Fk)
        pmaps.append(_sym_map(size, lambda i, j, H=H: mul({(i, j, 0): 1}, H), index, nm))
    if with_kernel:
        pvec = sum(M @ cp.vec(F, order="F") for M, F in zip(pmaps, blocks, strict=True))
    else:
        pvec = cp.Constant(np.zeros(nm))
    # SOS: -p - eps = sigma0 + sum sigma_m G_m
    t = u0 / s
    from fractions import Fraction

    tq = Fraction(t).limit_denominator(10**12)
    base = shell_base_polynomials(tq)
    T = np.zeros((nm, nm))
    for col, mo in enumerate(monos):
        for mono, c in to_shell({mo: Fraction(1)}, tq).items():
            T[index[mono], col] = float(c)
    grams, bases, mpolys = [], [], []
    smaps = []
    mult_list = [()] + [tuple(mm) for mm in multipliers]
    if with_kernel:
        for mm in mult_list:
            poly: dict = {(0, 0, 0): 1}
            for i in mm:
                poly = mul(poly, base[i])
            deg = sum(BASE_DEGREE[i] for i in mm)
            half = (D - deg) // 2
            if half < 0:
                continue
            basis = monomials(half)
            Q = cp.Variable((len(basis), len(basis)), symmetric=True)
            cons.append(Q >> 0)
            grams.append(Q)
            bases.append(basis)
            mpolys.append(poly)

            def terms(i, j, basis=basis, poly=poly):
                e = tuple(x + y for x, y in zip(basis[i], basis[j], strict=True))
                return mul({e: 1}, poly)

            smaps.append(_sym_map(len(basis), terms, index, nm))
        rhs = sum(M @ cp.vec(Q, order="F") for M, Q in zip(smaps, grams, strict=True))
        e0 = np.zeros(nm)
        e0[0] = 1.0
        # strict margin relative to the size f3(0, 0) of the kernel (p = 0 stays feasible)
        cons.append(-(T @ pvec) - eps_b * pvec[0] * e0 == rhs)
    # univariate conditions
    colscale = gauss_laguerre_matrix(n, np.array([0.0]), d2)[0]
    sgn = np.array([(-1.0) ** k for k in range(d2 + 1)])
    c2 = cp.Variable(d2 + 1)

    def basis_rows(us):
        return gauss_laguerre_matrix(n, np.asarray(us, float), d2) / colscale

    def q_rows(us):
        tt = np.asarray(us, float) / s
        rows = np.zeros((len(tt), nm))
        for idx, (ea, eb, ec) in enumerate(monos):
            val = tt ** (ea + eb + ec)
            if eb == 0 and ec == 0:
                val = val + tt**ea
            if ea == 0 and ec == 0:
                val = val + tt**eb
            rows[:, idx] = val
        return rows

    cons.append((basis_rows([0.0])[0] * sgn) @ c2 == 1)
    top = 4.0 * d2 + 2 * float(alpha_of_dimension(n)) + 60 + s
    pts_hat = list(np.linspace(0, top, 400))
    pts_out = list(np.linspace(s, top, 200))
    pts_a = list(np.linspace(u0, s, 60))
    fine_hat = np.linspace(0, top, 20000)
    fine_out = np.linspace(s, top, 10000)
    fine_a = np.linspace(u0, s, 3000)
    p00 = pvec[0]
    objective = cp.Minimize(np.ones(d2 + 1) @ c2 + p00)
    sol = None
    for _ in range(rounds):
        rh = basis_rows(pts_hat) * sgn
        ro = basis_rows(pts_out)
        ra = basis_rows(pts_a)
        rq = q_rows(pts_a)
        extra = [
            (rh / np.abs(rh).max(axis=1, keepdims=True)) @ c2 >= margin,
            (ro / np.abs(ro).max(axis=1, keepdims=True)) @ c2 <= -margin,
            ra @ c2 + rq @ pvec <= -margin,
        ]
        prob = cp.Problem(objective, cons + extra)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)     # status is reported instead
                prob.solve(solver=solver, **solver_opts)
        except cp.error.SolverError as exc:
            raise PrecisionError(f"SDP solver failed: {exc}") from None
        if prob.status not in ("optimal", "optimal_inaccurate"):
            return None
        cval = c2.value / colscale
        pv = np.asarray(pvec.value, float).ravel() if with_kernel else np.zeros(nm)
        sol = NumericSolution(
            float(prob.value), cval, [F.value for F in blocks], [Q.value for Q in grams],
            bases, mpolys, prob.status)
        g_hat = (gauss_laguerre_matrix(n, fine_hat, d2) * sgn) @ cval
        g_out = gauss_laguerre_matrix(n, fine_out, d2) @ cval
        g_a = gauss_laguerre_matrix(n, fine_a, d2) @ cval + q_rows(fine_a) @ pv
        new = False
        for grid, vals, pts, sign in ((fine_hat, g_hat, pts_hat, -1),
                                      (fine_out, g_out, pts_out, 1),
                                      (fine_a, g_a, pts_a, 1)):
            v = sign * vals
            bad = np.where(v > -margin / 10)[0]
            loc = [i for i in bad if (i == 0 or v[i] >= v[i - 1])
                   and (i == len(v) - 1 or v[i] >= v[i + 1])]
            fresh = [float(grid[i]) for i in loc if min(abs(grid[i] - p) for p in pts) > 1e-9]
            pts += fresh
            new = new or bool(fresh)
        if not new:
            break
    return sol
