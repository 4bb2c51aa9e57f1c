"""The three-point SDP in double precision (cvxpy + Clarabel): a float solution, not a bound.

Unknowns (see :mod:`solvers.packing.three_point` for the statement and the ansatz):

* the Laguerre coefficients of :math:`P_2` (:math:`f_2 = P_2(u)e^{-u/2}`), scaled by
  :math:`L_k(0)` so that every column has size about one;
* the PSD blocks :math:`F_k` (:math:`(m+1) \\times (m+1)`, :math:`k = 0..k_{max}`) of the
  polynomial kernel :math:`p(a, b, c) = \\sum_k \\sum_{i,j} F_k[i, j] a^i b^j H_k(a, b, c)`;
* PSD Gram matrices :math:`Q_g` of the sums of squares in the certificate of (B):
  :math:`-p - \\eta\\, p(0,0,0) = \\sum_g \\sigma_g\\, g` in the shell coordinates
  :math:`(\\alpha, \\beta, c)`, :math:`\\sigma_g = v^T Q_g v` (:math:`g = 1` and the multipliers).

Condition (B) is therefore imposed *exactly as it will be verified* (an SOS identity); only the
univariate conditions -- (A) on :math:`[u_0, s]`, :math:`f_2 \\le 0` on :math:`[s, \\infty)` and
:math:`\\hat f_2 \\ge 0` -- are sampled, with a cutting-plane exchange (the local maxima of
the violation on a fine grid, refined by golden-section search, join the samples) and a small
margin that leaves room for rounding. Only the exact check in
:mod:`solvers.packing.tp_certificate` makes anything a bound.

Examples
--------
A tiny formulation (degree-7 :math:`P_2`, a kernel of degree 2 that cannot help): the value is
the sampled LP bound at this degree, still above the LP optimum 0.647705.

>>> from fractions import Fraction
>>> from solvers.packing.three_point import Formulation, ball_factor
>>> form = Formulation(4, 7, 2, 0, Fraction(9), Fraction(10))
>>> sol = solve_sdp(form)
>>> sol.status, round(ball_factor(form) * sol.value, 4)
('optimal', 0.6536)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from solvers.errors import DiscoveryError, PrecisionError
from solvers.packing.laguerre import alpha_of_dimension, gauss_laguerre_matrix
from solvers.packing.tp_model import monomials

if TYPE_CHECKING:  # pragma: no cover
    from solvers.packing.tp_model import Formulation

__all__ = ["NumericSolution", "solve_sdp", "univariate_top"]


@dataclass
class NumericSolution:
    """Float solution of the three-point SDP (not a bound until verified).

    Attributes
    ----------
    value : float
        :math:`f_2(0) + K(0, 0)` with :math:`\\hat f_2(0) = 1`; times the ball factor this is
        the (unverified) density bound.
    c2 : ndarray
        Laguerre coefficients of :math:`P_2` (unscaled).
    blocks : list of ndarray
        The kernel blocks :math:`F_k`.
    grams : list of ndarray
        Gram matrices :math:`Q_g`, in the order of :meth:`Formulation.sos_terms`.
    status : str
        The solver's last status; ``rounds`` the number of cutting-plane rounds.
    sos_residual : float
        :math:`\\ell_1` norm of the residual of the SOS identity relative to :math:`K(0,0)`;
        the certificate can close only if it is well below ``eta``.
    """

    value: float
    c2: np.ndarray
    blocks: list
    grams: list
    status: str
    rounds: int
    sos_residual: float = math.nan


def univariate_top(form: Formulation) -> float:
    """Right end of the sampled range of the univariate conditions (beyond it, the leading
    term decides; the exact check covers :math:`[0, \\infty)`)."""
    return 4.0 * form.d2 + 2 * float(alpha_of_dimension(form.dimension)) + 60.0 + float(form.s)


def _cvxpy():
    try:
        import cvxpy as cp
    except ImportError:  # pragma: no cover - cvxpy is a dependency
        raise DiscoveryError("the three-point SDP needs cvxpy and clarabel "
                             "(pip install cvxpy clarabel)") from None
    return cp


def _gram_map(basis: list, poly: dict, index: dict, nrows: int) -> sp.csr_matrix:
    """Sparse map ``vec(Q) -> coefficients of (v^T Q v) * poly`` (row-major vec, both halves)."""
    size = len(basis)
    rows, cols, vals = [], [], []
    for i in range(size):
        for j in range(size):
            e = (basis[i][0] + basis[j][0], basis[i][1] + basis[j][1], basis[i][2] + basis[j][2])
            for (x, y, z), c in poly.items():
                rows.append(index[(e[0] + x, e[1] + y, e[2] + z)])
                cols.append(i * size + j)
                vals.append(float(c))
    return sp.csr_matrix((vals, (rows, cols)), shape=(nrows, size * size))


def _kernel_map(form: Formulation, index: dict, nrows: int) -> sp.csr_matrix:
    """Sparse map ``[vec(F_0), ..., vec(F_kmax)] -> coefficients of p`` in shell coordinates."""
    size = form.m + 1
    blocks = []
    for k in range(form.kmax + 1):
        rows, cols, vals = [], [], []
        for i in range(size):
            for j in range(size):
                for mono, c in form.kernel_term(k, i, j).items():
                    rows.append(index[mono])
                    cols.append(i * size + j)
                    vals.append(float(c))
        blocks.append(sp.csr_matrix((vals, (rows, cols)), shape=(nrows, size * size)))
    return sp.hstack(blocks).tocsr()


def _diagonal_rows(form: Formulation, us: np.ndarray) -> np.ndarray:
    """Rows mapping ``[vec(F_k)]`` to :math:`q(u/s) = 2K(v, 0) + K(v, v)` at ``us``."""
    size = form.m + 1
    x = np.asarray(us, float) / float(form.s)
    out = np.zeros((x.size, (form.kmax + 1) * size * size))
    for k in range(form.kmax + 1):
        for i in range(size):
            for j in range(size):
                col = k * size * size + i * size + j
                out[:, col] = x ** (i + j + k)
                if k == 0 and j == 0:
                    out[:, col] += x**i
                if k == 0 and i == 0:
                    out[:, col] += x**j
    return out


def _local_maxima(fun, grid: np.ndarray, threshold: float) -> list[float]:
    """Local maxima of ``fun`` on ``grid`` above ``threshold``, refined by golden section."""
    v = fun(grid)
    out = []
    for i in np.where(v > threshold)[0]:
        if (i > 0 and v[i] < v[i - 1]) or (i + 1 < len(v) and v[i] < v[i + 1]):
            continue
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        for _ in range(50):
            m1, m2 = lo + 0.382 * (hi - lo), hi - 0.382 * (hi - lo)
            f1, f2 = fun(np.array([m1, m2]))
            lo, hi = (m1, hi) if f2 > f1 else (lo, m2)
        out.append(float((lo + hi) / 2))
    return out


def solve_sdp(
    form: Formulation,
    *,
    margin: float = 1e-7,
    eta: float = 1e-5,
    rounds: int = 10,
    samples: tuple[int, int, int] = (1200, 400, 120),
    kernel_scale: float = 0.01,
    regularization: float = 2e-6,
    solver: str = "CLARABEL",
    solver_options: dict | None = None,
    log=None,
) -> NumericSolution:
    """Solve the three-point SDP of ``form`` (float); see the module docstring.

    Parameters
    ----------
    form : Formulation
    margin : float
        Sampled univariate conditions hold with this margin, relative to the size of the
        basis functions at the sample.
    eta : float
        (B) is imposed as :math:`p \\le -\\eta\\, p(0,0,0)`, room for rounding the certificate.
    rounds : int
        Maximum number of cutting-plane rounds.
    kernel_scale : float
        The kernel variables are scaled by this factor in the objective and in (A). The SOS
        identity is homogeneous, so this only sets the size of the variables the solver sees:
        Clarabel was found reliable with variables somewhat larger than one (0.01 here, for
        :math:`K(0,0)` between 1e-3 and 0.3), and unreliable at the kernel's own scale.
    regularization : float
        Weight of :math:`\\sum \\mathrm{tr} F_k + \\sum \\mathrm{tr} Q_g` (times
        ``kernel_scale``) in the objective: it selects one point of the (large) optimal face,
        without which the interior-point iterations stall.
    samples : (int, int, int)
        Initial samples of :math:`\\hat f_2 \\ge 0`, of :math:`f_2 \\le 0` beyond :math:`R`
        and of (A).

    Raises
    ------
    PrecisionError
        If the solver fails or declares the problem infeasible.
    """
    cp = _cvxpy()
    n, d2 = form.dimension, form.d2
    u0, s = float(form.u0), float(form.s)
    monos = monomials(form.sos_degree)
    index = {mo: i for i, mo in enumerate(monos)}
    nm = len(monos)
    size = form.m + 1

    blocks = [cp.Variable((size, size), PSD=True) for _ in range(form.kmax + 1)]
    fvec = cp.hstack([cp.vec(F, order="C") for F in blocks])
    pvec = _kernel_map(form, index, nm) @ fvec
    k00 = blocks[0][0, 0]
    grams, gmaps = [], []
    for basis, poly in form.sos_terms():
        grams.append(cp.Variable((len(basis), len(basis)), PSD=True))
        gmaps.append(_gram_map(basis, poly, index, nm))
    sos = sum(M @ cp.vec(Q, order="C") for M, Q in zip(gmaps, grams, strict=True))
    e0 = np.zeros(nm)
    e0[index[(0, 0, 0)]] = 1.0
    identity = -pvec - eta * k00 * e0 - sos
    cons = [identity == 0]

    colscale = gauss_laguerre_matrix(n, np.array([0.0]), d2)[0]
    sgn = np.array([(-1.0) ** k for k in range(d2 + 1)])
    c = cp.Variable(d2 + 1)

    def lag(us):
        return gauss_laguerre_matrix(n, np.asarray(us, float), d2) / colscale

    cons.append((sgn @ c) == 1)
    top = univariate_top(form)
    pts_h = list(np.linspace(0, top, samples[0]))
    pts_o = list(np.linspace(s, top, samples[1]))
    pts_a = list(np.linspace(u0, s, samples[2]))
    fine_h = np.linspace(0, top, 40 * samples[0])
    fine_o = np.linspace(s, top, 40 * samples[1])
    fine_a = np.linspace(u0, s, 40 * samples[2])
    lam = kernel_scale
    reg = sum(cp.trace(F) for F in blocks) + sum(cp.trace(Q) for Q in grams)
    objective = cp.Minimize(np.ones(d2 + 1) @ c + lam * (k00 + regularization * reg))
    options = dict(solver_options or {})
    if solver == "CLARABEL":
        # one thread: the same solution whatever the executor or the machine's core count
        options = {"tol_gap_abs": 1e-9, "tol_gap_rel": 1e-9, "tol_feas": 1e-9,
                   "max_iter": 400, "max_threads": 1, **options}
    sol = None
    for rnd in range(rounds):
        rh = lag(pts_h) * sgn
        ro = lag(pts_o)
        ra, qa = lag(pts_a), _diagonal_rows(form, pts_a)
        na = np.maximum(np.abs(ra).max(axis=1), np.abs(qa).max(axis=1))[:, None]
        sampled = [
            (rh / np.abs(rh).max(axis=1, keepdims=True)) @ c >= margin,
            (ro / np.abs(ro).max(axis=1, keepdims=True)) @ c <= -margin,
            (ra / na) @ c + lam * ((qa / na) @ fvec) <= -margin,
        ]
        prob = cp.Problem(objective, cons + sampled)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")           # the status is reported instead
                prob.solve(solver=solver, **options)
        except cp.error.SolverError as exc:
            raise PrecisionError(f"three-point SDP: solver failed ({exc})") from None
        if prob.status not in ("optimal", "optimal_inaccurate") or c.value is None:
            raise PrecisionError(f"three-point SDP: solver status {prob.status!r}")
        scale = lam
        cv, fv = np.array(c.value), scale * np.array(fvec.value).ravel()
        value = float(np.sum(cv)) + scale * float(k00.value)     # without the regulariser
        sol = NumericSolution(value, cv / colscale,
                              [scale * np.array(F.value) for F in blocks],
                              [scale * np.array(Q.value) for Q in grams], prob.status, rnd + 1,
                              float(np.abs(identity.value).sum()) / max(float(k00.value), 1e-300))
        if log is not None:
            log({"round": rnd + 1, "status": prob.status, "value": value,
                 "k00": float(sol.blocks[0][0, 0]), "sos_residual": sol.sos_residual,
                 "samples": len(pts_h) + len(pts_o) + len(pts_a)})
        fresh = 0

        def viol_h(us, cv=cv):
            r = lag(us) * sgn
            return -(r @ cv) / np.abs(r).max(axis=1)

        def viol_o(us, cv=cv):
            r = lag(us)
            return (r @ cv) / np.abs(r).max(axis=1)

        def viol_a(us, cv=cv, fv=fv):
            r, q = lag(us), _diagonal_rows(form, us)
            nrm = np.maximum(np.abs(r).max(axis=1), np.abs(q).max(axis=1))
            return (r @ cv + q @ fv) / nrm

        for grid, fun, pts in ((fine_h, viol_h, pts_h), (fine_o, viol_o, pts_o),
                               (fine_a, viol_a, pts_a)):
            new = [x for x in _local_maxima(fun, grid, -0.5 * margin)
                   if fun(np.array([x]))[0] > -0.9 * margin
                   and min(abs(x - p) for p in pts) > 1e-12 * max(1.0, x)]
            pts += new
            fresh += len(new)
        if not fresh:
            break
    assert sol is not None
    if not math.isfinite(sol.value):
        raise PrecisionError("three-point SDP: non-finite objective")
    return sol


def kernel_value_rows(form: Formulation, a, b, c) -> np.ndarray:
    """Rows mapping ``[vec(F_k)]`` to :math:`p(a, b, c)` at points (float; for plots/tests)."""
    size = form.m + 1
    a, b, c = (np.asarray(v, float) for v in (a, b, c))
    out = np.zeros((a.size, (form.kmax + 1) * size * size))
    for k in range(form.kmax + 1):
        H = form.harmonic(k)
        hk = sum(float(v) * a**e[0] * b**e[1] * c**e[2] for e, v in H.items())
        for i in range(size):
            for j in range(size):
                out[:, k * size * size + i * size + j] = a**i * b**j * hk
    return out

