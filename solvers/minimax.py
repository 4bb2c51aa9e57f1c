"""Minimax polishing of a program's constants on a fixed grid (float64, numpy and HiGHS).

The constants ``c`` of a :class:`~solvers.programs.Program` ``p`` are tuned to minimise the
largest weighted residual ``max_i |w_i (p(x_i; c) - f_i)|`` over a grid. Three local methods
start from constants that are already close (a least-squares fit, typically):

* :func:`lawson_polish` -- Lawson's iteration: least squares reweighted towards the points of
  large error, each weighted problem solved by damped Gauss-Newton (Levenberg-Marquardt) steps;
* :func:`slp_polish` -- sequential linear programming: the residuals are linearised in the
  constants and the linear minimax problem ``min t s.t. |r_i + J_i d| <= t``, with a box trust
  region on ``d``, is solved exactly by HiGHS (:func:`linear_minimax_step`); the trust region
  grows after good steps and shrinks after rejected ones;
* :func:`remez_polish` -- a nonlinear Remez exchange: Newton's method on the equioscillation
  equations ``r(x_i; c) = s_i E`` at ``k + 1`` alternating extrema (:func:`alternants`).

:func:`minimax_polish` chains them as the evolutionary search uses them. The full-grid
residuals and their derivatives come from :func:`values_and_jacobian` (the forward-mode
Jacobian of :func:`solvers.programs.evaluate_jacobian`, with central differences where forward
mode meets IEEE infinities). Errors are evaluated in float64, so fits bottom out near 1e-15.

Examples
--------
>>> import numpy as np
>>> from solvers.programs import Program, fit_grid
>>> p = Program.build(lambda x: x * 0.7 + 1.0)  # a line for 2^x, relative error
>>> xs, f, w = fit_grid("2^x", (0, 1), 200, "relative")
>>> c, e = slp_polish(p, np.array(p.constants, dtype=float), xs, f, w)
>>> f"{e:.4g}"  # the degree-1 minimax relative error
'0.02982'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from solvers.programs import Program, evaluate, evaluate_batch_max_error, evaluate_jacobian

__all__ = [
    "values_and_jacobian",
    "max_weighted_error",
    "lawson_polish",
    "linear_minimax_step",
    "slp_polish",
    "alternants",
    "remez_polish",
    "minimax_polish",
]

#: A polisher: ``(program, constants, xs, f, w) -> (constants, max weighted error)``.
Polisher = Callable[[Program, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                    tuple[np.ndarray, float]]


def max_weighted_error(program: Program, c: np.ndarray, xs: np.ndarray, f: np.ndarray,
                       w: np.ndarray) -> float:
    """``max_i |w_i (p(x_i; c) - f_i)|`` (``inf`` if any value is not finite).

    Examples
    --------
    >>> p = Program.build(lambda x: x + 1.0)
    >>> xs = np.array([0.0, 0.5, 1.0])
    >>> max_weighted_error(p, np.array([0.5]), xs, xs + 1, np.ones(3))
    0.5
    """
    return float(evaluate_batch_max_error(program, np.asarray(c, float)[None, :], xs, f, w)[0])


def _eval(program: Program, c: np.ndarray, xs: np.ndarray) -> np.ndarray:
    return evaluate(program, xs, consts=c)


def values_and_jacobian(program: Program, c: np.ndarray,
                        xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values ``p(x_i; c)`` and derivatives ``dp/dc_j`` (rows: points, columns: constants).

    Forward mode; rows where it meets IEEE infinities (e.g. ``c/x`` at 0, whose value is still
    finite) are differentiated by central differences instead.

    Examples
    --------
    >>> p = Program.build(lambda x: x * 3.0 + 2.0)
    >>> y, J = values_and_jacobian(p, np.array(p.constants, dtype=float), np.array([0.0, 2.0]))
    >>> y.tolist(), J.tolist()
    ([2.0, 8.0], [[0.0, 1.0], [2.0, 1.0]])
    """
    y, J = evaluate_jacobian(program, xs, consts=c)
    bad = np.flatnonzero(~np.all(np.isfinite(J), axis=1) & np.isfinite(y))
    if len(bad):
        xb = xs[bad]
        for j in range(len(c)):
            h = 1e-7 * max(abs(c[j]), 1e-8)
            cp, cm = c.copy(), c.copy()
            cp[j] += h
            cm[j] -= h
            J[bad, j] = (_eval(program, cp, xb) - _eval(program, cm, xb)) / (2 * h)
    return y, J


def _equilibrated(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Columns scaled to unit norm (and the scales): derivatives with respect to constants of
    very different sizes (1e-23 next to 8) would otherwise fall under a rank cutoff."""
    scale = np.sqrt(np.sum(A * A, axis=0))
    scale[scale == 0] = 1.0
    return A / scale, scale


def _linearised(program: Program, c: np.ndarray, xs: np.ndarray, f: np.ndarray,
                w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted residuals and equilibrated Jacobian (rows that are not finite dropped), and
    the column scales: ``r + As @ (scale * d)`` is the linear model of the residuals."""
    y, J = values_and_jacobian(program, c, xs)
    r = (y - f) * w
    ok = np.all(np.isfinite(J), axis=1) & np.isfinite(r)
    As, scale = _equilibrated(J[ok] * w[ok, None])
    return r[ok], As, scale


# ---------------------------------------------------------------------------------------------
# Lawson's iteration (reweighted least squares)


def lawson_polish(program: Program, c: np.ndarray, xs: np.ndarray, f: np.ndarray,
                  w: np.ndarray, iters: int = 40, patience: int = 8) -> tuple[np.ndarray, float]:
    """Lawson's iteration with Levenberg-Marquardt steps on the reweighted least squares.

    The weights ``u`` start uniform and are multiplied by the absolute residuals after each
    step (Lawson's update), so the least-squares problem drifts towards the minimax one; each
    step minimises ``sum u_i r_i^2`` with an adaptive damping. Returns the best constants seen
    and their max weighted error (stops after ``patience`` steps without a 1e-6 relative gain).

    Examples
    --------
    >>> from solvers.programs import fit_grid
    >>> p = Program.build(lambda x: x * 0.7 + 1.0)
    >>> xs, f, w = fit_grid("2^x", (0, 1), 200, "relative")
    >>> c, e = lawson_polish(p, np.array(p.constants, dtype=float), xs, f, w)
    >>> 0.02982 < e < 0.0300
    True
    """
    m = len(xs)
    u = np.full(m, 1.0 / m)
    best_c = c.copy()
    best_e = max_weighted_error(program, c, xs, f, w)
    lam = 1e-6
    k = len(c)
    stall = 0
    for _ in range(iters):
        y, J = values_and_jacobian(program, c, xs)
        r = (y - f) * w
        if not np.all(np.isfinite(r)):
            break
        ok = np.all(np.isfinite(J), axis=1)
        su = np.sqrt(u) * ok
        As, scale = _equilibrated(np.where(ok[:, None], J * w[:, None], 0.0) * su[:, None])
        b = -r * su
        obj = float(np.sum(u * r * r))
        for _ in range(12):
            M = np.vstack([As, math.sqrt(lam) * np.eye(k)])
            try:
                ds, *_ = np.linalg.lstsq(M, np.concatenate([b, np.zeros(k)]), rcond=None)
            except np.linalg.LinAlgError:
                ds = None
            if ds is not None:
                cn = c + ds / scale
                rn = (_eval(program, cn, xs) - f) * w
                if np.all(np.isfinite(rn)) and float(np.sum(u * rn * rn)) < obj:
                    lam = max(lam / 4, 1e-12)
                    break
            lam *= 8
        else:
            break
        c = cn
        a = np.abs(rn)
        e = float(a.max())
        if e < best_e * (1 - 1e-6):
            best_e, best_c, stall = e, c.copy(), 0
        else:
            stall += 1
            if e < best_e:
                best_e, best_c = e, c.copy()
            if stall >= patience:
                break
        ssum = float(np.sum(u * a))
        if ssum <= 0:
            break
        u = u * a / ssum
    return best_c, best_e


# ---------------------------------------------------------------------------------------------
# Sequential linear programming


def linear_minimax_step(r: np.ndarray, A: np.ndarray,
                        radius: float | np.ndarray) -> tuple[np.ndarray, float] | None:
    """Solve ``min_d max_i |r_i + A_i d|`` subject to ``|d_j| <= radius_j`` exactly (HiGHS LP).

    The linear program has the variables ``(d, t)``: minimise ``t`` subject to
    ``-t <= r_i + A_i d <= t`` and the box on ``d``; it is scaled by ``max |r|`` and solved by
    cutting planes: first on the rows at the peaks of ``|r|``, then with the peaks of the
    violated rows added until no row is violated (the optimum is that of all rows, found with
    a few small LPs instead of one with ``2 m`` rows). ``radius`` is one bound for every
    component or one per component. Returns ``(d, t)`` (``t`` recomputed over all rows), or
    None if HiGHS fails.

    Examples
    --------
    >>> r = np.array([1.0, -1.0, 2.0])
    >>> A = np.array([[1.0], [1.0], [1.0]])  # a constant shift: best is -0.5, max |.| = 1.5
    >>> d, t = linear_minimax_step(r, A, radius=10.0)
    >>> round(float(d[0]), 9), round(t, 9)
    (-0.5, 1.5)
    >>> d, t = linear_minimax_step(r, A, radius=0.25)  # the box binds
    >>> round(float(d[0]), 9), round(t, 9)
    (-0.25, 1.75)
    """
    from scipy.optimize import linprog

    k = A.shape[1]
    s = float(np.max(np.abs(r))) if len(r) else 0.0
    if not s > 0 or k == 0 or not math.isfinite(s) or not np.all(np.isfinite(A)):
        return None
    rs, bound = r / s, np.broadcast_to(np.asarray(radius, dtype=float) / s, (k,))
    cost = np.zeros(k + 1)
    cost[k] = 1.0
    rows = _peaks(np.abs(rs), 4 * (k + 1))
    for _ in range(20):
        sub = A[rows]
        ones = np.ones((len(rows), 1))
        try:
            res = linprog(cost, A_ub=np.vstack([np.hstack([sub, -ones]), np.hstack([-sub, -ones])]),
                          b_ub=np.concatenate([-rs[rows], rs[rows]]),
                          bounds=[(-b, b) for b in bound] + [(0, None)], method="highs",
                          options={"primal_feasibility_tolerance": 1e-10,
                                   "dual_feasibility_tolerance": 1e-10})
        except ValueError:
            return None
        if res.status != 0 or res.x is None or not np.all(np.isfinite(res.x)):
            return None
        full = np.abs(rs + A @ res.x[:k])
        over = full > res.x[k] * (1 + 1e-9) + 1e-12
        over[rows] = False
        if not over.any():
            break
        rows = np.union1d(rows, _peaks(np.where(over, full, 0.0), k + 1))
    d = res.x[:k] * s
    return d, float(np.max(np.abs(r + A @ d)))


def _peaks(a: np.ndarray, count: int) -> np.ndarray:
    """Indices of the local maxima of ``a >= 0`` (zeros excluded), and of its ``count`` largest
    entries (so that a flat or monotone stretch still contributes rows).

    Examples
    --------
    >>> _peaks(np.array([0.0, 1.0, 0.5, 0.7, 2.0, 0.1]), 1).tolist()
    [1, 4]
    """
    inner = (a[1:-1] >= a[:-2]) & (a[1:-1] >= a[2:])
    local = np.concatenate([[a[0] >= a[1]] if len(a) > 1 else [True], inner,
                            [a[-1] >= a[-2]] if len(a) > 1 else []])
    top = np.argsort(a, kind="stable")[::-1][:count]
    idx = np.union1d(np.flatnonzero(local), top)
    return idx[a[idx] > 0]


def slp_polish(program: Program, c: np.ndarray, xs: np.ndarray, f: np.ndarray,
               w: np.ndarray, iters: int = 30, max_rejections: int = 8,
               rcond: float = 1e-10, bold: bool = False) -> tuple[np.ndarray, float]:
    """Sequential linear minimax with a trust region, each linear step solved exactly.

    Linearise the weighted residuals around the constants and solve the linear minimax problem
    in a box (:func:`linear_minimax_step`): in the orthogonal coordinates ``z = S V^T d`` of
    the equilibrated Jacobian ``U S V^T`` (singular values below ``rcond`` relative dropped),
    with the box on the rotated step ``V^T d``, so that the directions the residuals see least
    shrink first. Accept the step if the true max error drops. The first box does not bind (a
    full linearised step, the bold move near an optimum); a rejected step shrinks the box to a
    quarter of the step (up to ``max_rejections`` times in a row), a step whose true gain is at
    least 3/4 of the predicted one and that reached the box doubles it. Stops after ``iters``
    accepted steps, three in a row gaining under 1e-3 relatively, or when the linear model
    predicts no gain inside the box. With ``bold``, every linearisation starts again from the
    unbounded box (a line search on the full step rather than a trust region that
    remembers: it crosses to better basins from far starts, and crawls less along curved
    valleys). Returns the final constants and error.

    Examples
    --------
    >>> from solvers.programs import fit_grid
    >>> p = Program.build(lambda x: 1.0 + 1.0 / (x + 1.0))  # a + b/(x + c) for 2^x
    >>> p.to_text()
    'f = 1 + 1/(x + 1)'
    >>> xs, f, w = fit_grid("2^x", (0, 1), 500, "relative")
    >>> c, e = slp_polish(p, np.array([-3.4, -8.5, -1.5]), xs, f, w)  # c, b, a
    >>> f"{e:.4g}", np.round(c, 3).tolist()  # the (1, 1) minimax relative error
    ('0.0008672', [-3.407, -8.222, -1.414])
    """
    best_e = max_weighted_error(program, c, xs, f, w)
    if not math.isfinite(best_e) or len(c) == 0:
        return c, best_e
    radius = math.inf
    fails = 0
    for _ in range(iters):
        r, As, scale = _linearised(program, c, xs, f, w)
        if len(r) == 0:
            break
        # orthogonal coordinates z = S V^T d of the step: the model is r + U z, so the LP is
        # well scaled however ill-conditioned the constants are; directions with singular
        # values below rcond (relative) are dropped
        U, sv, vt = np.linalg.svd(As, full_matrices=False)
        keep = sv > rcond * sv[0] if sv[0] > 0 else np.zeros(len(sv), bool)
        if not keep.any():
            break
        U, sv, vt = U[:, keep], sv[keep], vt[keep]
        # the trust region is a box on the rotated step V^T d = z / S (so the directions the
        # residuals see least, where the linearisation is least reliable, shrink first);
        # with t <= max|r|, the optimal z has ||z|| = ||U z|| <= 2 ||r||, so that cap never
        # binds
        free = 2 * float(np.linalg.norm(r))
        if bold:
            radius = math.inf
        accepted = False
        for _ in range(max_rejections):
            box = np.minimum(radius * sv, free)
            step = linear_minimax_step(r, U, box) if np.all(box > 0) else None
            if step is None:
                break
            z, predicted = step
            binds = bool(np.any(np.abs(z) >= 0.99 * box))
            if predicted >= best_e * (1 - 1e-9) and not binds:
                break  # a stationary point of the linear model: no step can gain
            cn = c + (vt.T @ (z / sv)) / scale
            e = max_weighted_error(program, cn, xs, f, w)
            if e < best_e:
                accepted = True
                if binds:
                    grow = 4 if (best_e - e) >= 0.75 * (best_e - predicted) else 2
                    radius = grow * float(np.max(box / sv))
                break
            # rejected: if the excess over the linear prediction is quadratic in the step,
            # this factor would make it fit under the current error (between 1/16 and 1/4)
            excess = (e - predicted) if math.isfinite(e) else math.inf
            gap = max(best_e - predicted, 0.0)
            shrink = 0.25 if excess <= 0 else min(0.25, max(1 / 16, 0.5 * math.sqrt(gap / excess)))
            radius = float(np.max(np.abs(z) / sv)) * shrink
        if not accepted:
            break
        gain = (best_e - e) / best_e
        c, best_e = cn, e
        fails = fails + 1 if gain < 1e-3 else 0
        if fails >= 3:
            break
    return c, best_e


# ---------------------------------------------------------------------------------------------
# Nonlinear Remez exchange


def alternants(r: np.ndarray, count: int) -> list[int] | None:
    """Indices of ``count`` alternating extrema of ``r`` (largest ``|r|`` per sign run).

    Runs of one sign are found among the non-zero entries; if there are more than ``count``,
    the smaller end is dropped until ``count`` remain (which keeps the alternation). None if
    there are fewer than ``count`` sign runs.

    Examples
    --------
    >>> alternants(np.array([1.0, 2.0, -1.0, -3.0, 0.0, 0.5, -0.1]), 3)
    [1, 3, 5]
    >>> alternants(np.array([1.0, 2.0]), 2) is None
    True
    """
    nz = np.flatnonzero(r != 0)
    if len(nz) == 0:
        return None
    sg = r[nz] > 0
    starts = np.concatenate([[0], np.flatnonzero(sg[1:] != sg[:-1]) + 1])
    if len(starts) < count:
        return None
    ends = np.concatenate([starts[1:], [len(nz)]])
    a = np.abs(r[nz])
    runs = [int(nz[s0 + int(np.argmax(a[s0:e0]))]) for s0, e0 in zip(starts, ends, strict=True)]
    while len(runs) > count:
        if abs(r[runs[0]]) < abs(r[runs[-1]]):
            runs.pop(0)
        else:
            runs.pop()
    return runs


def _lstsq(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Least squares with column equilibration (see :func:`_equilibrated`)."""
    As, scale = _equilibrated(A)
    sol, *_ = np.linalg.lstsq(As, b, rcond=None)
    return sol / scale


def remez_polish(program: Program, c: np.ndarray, xs: np.ndarray, f: np.ndarray,
                 w: np.ndarray, iters: int = 12) -> tuple[np.ndarray, float]:
    """Nonlinear Remez: Newton on ``r(x_i; c) = s_i E`` at ``k + 1`` alternation points.

    The points are the alternating extrema of the grid residuals (:func:`alternants`), the
    signs ``s_i`` theirs; Newton's method (up to six steps) solves for the ``k`` constants and
    the levelled error ``E``; the reference is then exchanged. Stops when the max error no
    longer drops; returns the best constants and their max weighted error.

    Examples
    --------
    >>> from solvers.programs import fit_grid
    >>> p = Program.build(lambda x: x * 0.7 + 1.0)
    >>> xs, f, w = fit_grid("2^x", (0, 1), 500, "relative")
    >>> c, e = remez_polish(p, np.array([1.0, 0.99]), xs, f, w)  # x + 0.99: three sign runs
    >>> f"{e:.4g}", np.round(c, 6).tolist()  # the degree-1 minimax: 0.970179 (x + 1)
    ('0.02982', [0.970179, 0.970179])
    """
    k = len(c)
    best_c = c.copy()
    best_e = max_weighted_error(program, c, xs, f, w)
    for _ in range(iters):
        y, Jall = values_and_jacobian(program, c, xs)
        r = (y - f) * w
        if not np.all(np.isfinite(r)):
            break
        sub = np.flatnonzero(np.all(np.isfinite(Jall), axis=1))
        idx = alternants(r[sub], k + 1)
        if idx is None:
            break
        idx = sub[idx]
        s = np.sign(r[idx])
        E = float(np.mean(np.abs(r[idx])))
        cn = c.copy()
        ok = True
        for _ in range(6):
            yi, Ji = values_and_jacobian(program, cn, xs[idx])
            ri = (yi - f[idx]) * w[idx]
            A = np.hstack([Ji * w[idx][:, None], -s[:, None]])
            if not np.all(np.isfinite(A)):
                ok = False
                break
            sol = _lstsq(A, -(ri - s * E))
            cn = cn + sol[:k]
            E = E + sol[k]
            if np.max(np.abs(sol[:k])) <= 1e-15 * (np.max(np.abs(cn)) + 1e-300):
                break
        if not ok:
            break
        e = max_weighted_error(program, cn, xs, f, w)
        if not e < best_e:
            break
        best_e, best_c, c = e, cn.copy(), cn
    return best_c, best_e


# ---------------------------------------------------------------------------------------------
# The chain


def _chain(program: Program, start: tuple[float, np.ndarray], methods: Sequence[Polisher],
           xs: np.ndarray, f: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    ce, cx = start
    for method in methods:
        x2, e2 = method(program, cx, xs, f, w)
        if e2 < ce:
            cx, ce = x2, e2
    return ce, cx


def _bold_slp(program: Program, c: np.ndarray, xs: np.ndarray, f: np.ndarray,
              w: np.ndarray) -> tuple[np.ndarray, float]:
    return slp_polish(program, c, xs, f, w, bold=True)


def minimax_polish(program: Program, c: np.ndarray, xs: np.ndarray, f: np.ndarray,
                   w: np.ndarray, full_below: float = math.inf) -> tuple[np.ndarray, float]:
    """Polish constants towards the minimax fit: Lawson first, then (if promising) SLP/Remez.

    :func:`lawson_polish` always; if the best error so far is below ``full_below``, also two
    chains, each keeping a method's result only if it improves: from the Lawson result,
    :func:`slp_polish` then :func:`remez_polish` (best near an optimum), and from ``c``
    itself bold SLP (``bold=True``), Lawson, SLP, Remez (best far from it). Returns the best
    constants and their max weighted error (never worse than ``c``'s).

    Examples
    --------
    >>> from solvers.programs import fit_grid
    >>> p = Program.build(lambda x: 1.0 + 1.0 / (x + 1.0))
    >>> xs, f, w = fit_grid("2^x", (0, 1), 500, "relative")
    >>> c, e = minimax_polish(p, np.array([-3.4, -8.5, -1.5]), xs, f, w)
    >>> f"{e:.4g}"
    '0.0008672'
    """
    e = max_weighted_error(program, c, xs, f, w)
    x1, e1 = lawson_polish(program, c, xs, f, w)
    cands = [(e1, x1) if e1 < e else (e, c)]
    if cands[0][0] < full_below:
        cands.append(_chain(program, cands[0], (slp_polish, remez_polish), xs, f, w))
        cands.append(_chain(program, (e, c), (_bold_slp, lawson_polish, slp_polish,
                                              remez_polish), xs, f, w))
    e, x = min(cands, key=lambda t: t[0])
    return x, e
