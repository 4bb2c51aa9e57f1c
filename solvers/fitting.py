"""Fitting the constants of a program to a target function: multistart least squares, CMA-ES
and a minimax polish.

:func:`fit_constants` minimises the maximum (relative or absolute) error of a
:class:`~solvers.programs.Program` over a grid of the interval, from the program's own
constants and from random restarts:

1. Levenberg-Marquardt (MINPACK through scipy, analytic forward-mode Jacobian) on the
   least-squares problem over a coarse grid, for relative error also on the log residuals
   ``log(p/f)``, in which a structure ending in ``t^8`` is as easy as one ending in ``t``
   (:func:`lm_fit`);
2. CMA-ES (:func:`cma_es`, numpy) on the log of the max weighted error, from the inherited
   constants with small and large steps;
3. the best results polished on the full grid towards the minimax fit
   (:func:`solvers.minimax.minimax_polish`: Lawson's iteration, sequential linear programming
   and a nonlinear Remez exchange).

Least squares first matters: CMA-ES alone from random starts left a published 10-op
structure for ``2^x`` at ~1e-9, the multistart Levenberg-Marquardt fit brings it to ~1e-14.

Examples
--------
>>> import numpy as np
>>> from solvers.programs import Program
>>> r = fit_constants(Program.build(lambda x: x * 1.0 + 1.0), "2^x", (0, 1),
...                   rng=np.random.default_rng(0), restarts=2)
>>> f"{r.error:.4g}"  # the degree-1 minimax relative error
'0.02982'
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from solvers.minimax import max_weighted_error, minimax_polish, values_and_jacobian
from solvers.programs import Program, evaluate, evaluate_batch_max_error, fit_grid

__all__ = ["FitResult", "cma_es", "fit_constants", "lm_fit", "random_constant"]


def random_constant(rng: np.random.Generator) -> float:
    """A random constant: log-uniform magnitude in ``[1e-2, 1e2]``, random sign.

    Examples
    --------
    >>> v = random_constant(np.random.default_rng(0))
    >>> 1e-2 <= abs(v) <= 1e2
    True
    """
    return float(rng.choice([-1.0, 1.0]) * 10 ** rng.uniform(-2, 2))


# ---------------------------------------------------------------------------------------------
# CMA-ES


def cma_es(fn: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, scales: np.ndarray,
           rng: np.random.Generator, popsize: int = 24, max_generations: int = 250,
           patience: int = 30, tol: float = 1e-3) -> tuple[np.ndarray, float, int]:
    """Minimise ``fn`` (vectorised: rows of a matrix -> values) by CMA-ES.

    ``(mu/mu_w, lambda)``-CMA-ES with cumulative step-size adaptation, rank-one and rank-mu
    covariance updates (Hansen's standard settings); the initial covariance is
    ``diag(scales^2)``. Stops after ``max_generations``, or when the best value has not
    improved by ``tol`` in ``patience`` generations, or when the step size is negligible.

    Returns ``(best_x, best_f, evaluations)``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> f = lambda X: np.sum((X - np.array([1.0, -2.0])) ** 2, axis=1)
    >>> x, fx, _ = cma_es(f, np.zeros(2), np.ones(2), rng, popsize=12, max_generations=200,
    ...                   patience=200)
    >>> np.allclose(x, [1, -2], atol=1e-6)
    True
    """
    with np.errstate(all="ignore"):
        return _cma(fn, x0, scales, rng, popsize, max_generations, patience, tol)


def _cma(fn: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, scales: np.ndarray,
         rng: np.random.Generator, popsize: int, max_generations: int, patience: int,
         tol: float) -> tuple[np.ndarray, float, int]:
    n = len(x0)
    lam = max(popsize, 4)
    mu = lam // 2
    w = np.log(mu + 0.5) - np.log(np.arange(1, mu + 1))
    w /= w.sum()
    mueff = 1.0 / np.sum(w**2)
    cc = (4 + mueff / n) / (n + 4 + 2 * mueff / n)
    cs = (mueff + 2) / (n + mueff + 5)
    c1 = 2 / ((n + 1.3) ** 2 + mueff)
    cmu = min(1 - c1, 2 * (mueff - 2 + 1 / mueff) / ((n + 2) ** 2 + mueff))
    damps = 1 + 2 * max(0.0, math.sqrt((mueff - 1) / (n + 1)) - 1) + cs
    chin = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n))
    mean = np.array(x0, dtype=float)
    sigma = 1.0
    C = np.diag(np.asarray(scales, dtype=float) ** 2)
    pc = np.zeros(n)
    ps = np.zeros(n)
    B, D = np.eye(n), np.sqrt(np.diag(C)).copy()
    best_x, best_f = mean.copy(), float(fn(mean[None, :])[0])
    evals = 1
    last_improve, ref_f = 0, best_f
    for g in range(max_generations):
        z = rng.standard_normal((lam, n))
        y = (z * D) @ B.T
        X = mean + sigma * y
        f = fn(X)
        evals += lam
        f = np.where(np.isfinite(f), f, np.inf)
        idx = np.argsort(f, kind="stable")
        if f[idx[0]] < best_f:
            best_f, best_x = float(f[idx[0]]), X[idx[0]].copy()
        if best_f < ref_f - tol:
            ref_f, last_improve = best_f, g
        elif g - last_improve > patience:
            break
        ysel = y[idx[:mu]]
        yw = w @ ysel
        mean = mean + sigma * yw
        # C^{-1/2} yw = B diag(1/D) B^T yw
        invsq = B @ ((B.T @ yw) / D)
        ps = (1 - cs) * ps + math.sqrt(cs * (2 - cs) * mueff) * invsq
        hsig = (np.linalg.norm(ps) / math.sqrt(1 - (1 - cs) ** (2 * (g + 1))) / chin
                < 1.4 + 2 / (n + 1))
        pc = (1 - cc) * pc + hsig * math.sqrt(cc * (2 - cc) * mueff) * yw
        C = ((1 - c1 - cmu) * C + c1 * (np.outer(pc, pc) + (1 - hsig) * cc * (2 - cc) * C)
             + cmu * (ysel.T * w) @ ysel)
        sigma *= math.exp(min(1.0, (cs / damps) * (np.linalg.norm(ps) / chin - 1)))
        C = (C + C.T) / 2
        try:
            evals_, B = np.linalg.eigh(C)
        except np.linalg.LinAlgError:
            break
        D = np.sqrt(np.maximum(evals_, 1e-300))
        if sigma * D.max() <= 1e-15 * (np.abs(mean).max() + 1e-300) or not np.isfinite(sigma):
            break
    return best_x, best_f, evals


# ---------------------------------------------------------------------------------------------
# Least squares


def lm_fit(program: Program, c0: np.ndarray, xs: np.ndarray, f: np.ndarray, w: np.ndarray,
           log: bool, max_nfev: int | None = None) -> tuple[np.ndarray, int]:
    """Levenberg-Marquardt on the weighted residuals ``w (p - f)``, or on ``log(p/f)``.

    MINPACK (``scipy.optimize.least_squares(method="lm")``) with the analytic Jacobian. With
    ``log=True``, points where ``p/f <= 0`` get a large constant residual, so a step that
    creates them is rejected. Returns the constants (``c0`` if the start is unusable or the
    solver fails) and the number of evaluations.

    Examples
    --------
    >>> p = Program.build(lambda x: x * 1.0 + 1.0)
    >>> xs = np.linspace(0, 1, 50)
    >>> c, _ = lm_fit(p, np.array(p.constants, dtype=float), xs, 3 * xs - 2, np.ones(50),
    ...               log=False)
    >>> np.round(c, 12).tolist()
    [3.0, -2.0]
    """
    from scipy.optimize import least_squares

    k = len(c0)

    def res(c: np.ndarray) -> np.ndarray:
        y = evaluate(program, xs, consts=c)
        if log:
            r = np.full_like(y, 50.0)
            q = y / f
            pos = q > 0
            r[pos] = np.log(q[pos])
        else:
            r = (y - f) * w
        return np.where(np.isfinite(r), r, 50.0)

    def jac(c: np.ndarray) -> np.ndarray:
        y, J = values_and_jacobian(program, c, xs)
        J = J / y[:, None] if log else J * w[:, None]
        return np.where(np.isfinite(J), J, 0.0)

    with np.errstate(all="ignore"):
        r0 = res(c0)
        if not np.all(np.abs(r0) < 50.0):
            return c0, 1
        try:
            sol = least_squares(res, c0, jac=jac, method="lm", xtol=1e-15, ftol=1e-15,
                                gtol=1e-15, max_nfev=max_nfev or 60 * (k + 1), x_scale="jac")
        except (ValueError, np.linalg.LinAlgError):
            return c0, 1
    x = sol.x if np.all(np.isfinite(sol.x)) else c0
    return x, int(sol.nfev)


# ---------------------------------------------------------------------------------------------
# The fit


@dataclass(frozen=True)
class FitResult:
    """A program with fitted constants and its max weighted error on the fitting grid.

    Attributes
    ----------
    program : Program
        The program with the fitted constants.
    error : float
        Its max (relative or absolute) error on the fitting grid.
    evaluations : int
        Objective evaluations of the least-squares and CMA-ES stages.
    seconds : float
        Wall-clock time of the fit.
    """

    program: Program
    error: float
    evaluations: int
    seconds: float


def fit_constants(program: Program, function: str, interval: Sequence[float],
                  error: str = "relative", rng: np.random.Generator | None = None,
                  grid: int = 1000, cma_grid: int = 200, cma_popsize: int = 24,
                  cma_generations: int = 250, restarts: int = 12, polish: bool = True,
                  full_polish_below: float = math.inf, cma_random: bool = False) -> FitResult:
    """Fit the program's constants to minimise the max error on the fitting grid.

    Levenberg-Marquardt on the least-squares problem over a coarse grid (``cma_grid``
    points; also on log residuals for relative error) from the current constants and from
    the best ``restarts`` of 128 log-uniform signed random draws; CMA-ES on
    ``log(max error)`` from the current constants (small and large initial steps; from the
    random draws too if ``cma_random``). The two best are polished on the full grid
    (``grid`` points) by Lawson's iteration with Levenberg-Marquardt steps; if that gives an
    error below ``full_polish_below``, also by sequential linear minimax and a nonlinear
    Remez exchange (:func:`solvers.minimax.minimax_polish`). The result is never worse than
    the program's own constants.

    Examples
    --------
    >>> p = Program.build(lambda x: 1.0 + 1.0 / (x + 1.0))  # a + b/(x + c): 3 ops
    >>> r = fit_constants(p, "2^x", (0, 1), rng=np.random.default_rng(0), restarts=8)
    >>> f"{r.error:.3g}"  # the (1, 1) minimax error
    '0.000867'
    """
    with np.errstate(all="ignore"):  # overflow inside a candidate's evaluation is its problem
        return _fit(program, function, interval, error, rng or np.random.default_rng(0), grid,
                    cma_grid, cma_popsize, cma_generations, restarts, polish,
                    full_polish_below, cma_random)


def _fit(program: Program, function: str, interval: Sequence[float], error: str,
         rng: np.random.Generator, grid: int, cma_grid: int, cma_popsize: int,
         cma_generations: int, restarts: int, polish: bool,
         full_polish_below: float, cma_random: bool) -> FitResult:
    t0 = time.perf_counter()
    iv = (float(interval[0]), float(interval[1]))
    xs, f, w = fit_grid(function, iv, grid, error)
    c0 = np.array(program.constants, dtype=float)
    if len(c0) == 0:
        e = max_weighted_error(program, c0, xs, f, w)
        return FitResult(program, e, 1, time.perf_counter() - t0)
    xc, fc, wc = fit_grid(function, iv, cma_grid, error)

    def obj(C: np.ndarray) -> np.ndarray:
        e = evaluate_batch_max_error(program, C, xc, fc, wc)
        return np.log(np.where(e > 0, e, 1e-300))

    # a local start (small steps around the inherited constants), a wide one, and random
    # log-uniform signed restarts
    starts = [(c0, 0.01 * np.abs(c0) + 1e-3), (c0, 0.3 * np.abs(c0) + 0.05)]
    if restarts:
        # restarts from the best of 128 log-uniform signed random draws (one batch
        # evaluation): a random start rarely lands beyond a pole barrier, the best of 128 does
        R = np.array([[random_constant(rng) for _ in c0] for _ in range(128)])
        order = np.argsort(obj(R), kind="stable")
        for i in order[:restarts]:
            starts.append((R[i], 0.3 * np.abs(R[i]) + 0.05))
    best_c, best_e, evals = c0, math.inf, 0
    results = []
    # Levenberg-Marquardt on the least-squares problem (log residuals for relative error:
    # squarings turn into factors, so a structure ending in t^8 is as easy as one in t) from
    # the inherited constants and the random starts: converges where CMA-ES crawls along
    # the narrow curved valleys of rational structures
    for s, _ in starts[:1] + starts[2:]:
        for log in (True, False) if error == "relative" else (False,):
            x, ne = lm_fit(program, s, xc, fc, wc, log)
            evals += ne
            fx = float(obj(x[None, :])[0])
            if math.isfinite(fx):
                results.append((fx, x))
    for s, scales in starts if cma_random else starts[:2]:
        x, fx, ne = cma_es(obj, s, scales, rng, popsize=cma_popsize,
                           max_generations=cma_generations)
        evals += ne
        results.append((fx, x))
    results.sort(key=lambda t: t[0])
    # polish the two best results and the inherited constants themselves
    for _, x in [*results[:2], (None, c0)]:
        e = max_weighted_error(program, x, xs, f, w)
        if polish and math.isfinite(e) and e < 10 * full_polish_below:
            x, e = minimax_polish(program, x, xs, f, w, full_below=full_polish_below)
        if e < best_e:
            best_c, best_e = x, e
    e0 = max_weighted_error(program, c0, xs, f, w)
    if e0 <= best_e:
        best_c, best_e = c0, e0
    return FitResult(program.with_constants(best_c), best_e, evals, time.perf_counter() - t0)
