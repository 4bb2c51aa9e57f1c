"""The Cohn–Elkies linear program sampled on a grid, with cutting-plane exchange (float64).

This is the low-precision *bootstrap* of the LP bound: for a fixed radius parameter
:math:`u_0 = 2\\pi r^2` it minimises :math:`P(0)` subject to :math:`\\hat P(0) = 1`,
:math:`P(u) e^{-u/2} \\le 0` at sample points :math:`u \\ge u_0` and
:math:`\\hat P(u) e^{-u/2} \\ge 0` at sample points :math:`u \\ge 0`, solved by HiGHS (scipy).
After each solve the worst violations between the samples (found on a fine grid) are added as
new constraints and the LP is solved again. Its value is NOT a rigorous bound (violations
below the tolerance remain); it supplies the *structure* of the optimum -- the points where
:math:`f` and :math:`\\hat f` touch zero -- from which :mod:`solvers.packing.root_forcing`
starts in high precision. Reliable up to about 30 Laguerre terms.

Examples
--------
>>> sol = sampled_lp(8, 11, 12.566)
>>> round(sol.bound, 3), len(sol.touch_f), len(sol.touch_fhat)
(0.257, 2, 3)
>>> [round(u) for u in sol.touch_fhat]       # near 4 pi j, as for E8's f^
[13, 26, 42]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from solvers.errors import DiscoveryError, PrecisionError
from solvers.packing.laguerre import alpha_of_dimension, gauss_laguerre_matrix

__all__ = ["SampledLP", "sampled_lp", "optimise_radius", "ball_factor_float"]


def ball_factor_float(n: int, u0: float) -> float:
    """``(u0/8)^(n/2) / Gamma(n/2 + 1)``: the bound is this times ``P(0)/P^(0)`` (float)."""
    return math.exp((n / 2) * math.log(u0 / 8) - math.lgamma(n / 2 + 1))


@dataclass(frozen=True)
class SampledLP:
    """Solution of the sampled LP at fixed degree and radius (float64, not rigorous).

    Attributes
    ----------
    dimension, degree : int
    u0 : float
        :math:`2\\pi r^2`.
    coeffs : tuple of float
        Laguerre coefficients of :math:`P`, normalised to :math:`\\hat P(0) = 1`.
    bound : float
        The (non-rigorous) density bound of these coefficients.
    violation : float
        Largest remaining violation (relative to the size of the basis functions there).
    touch_f, touch_fhat : tuple of float
        Points :math:`u > u_0` where :math:`f` touches zero from below, and points
        :math:`u > 0` where :math:`\\hat f` touches zero from above (rounded to 3 decimals).
    """

    dimension: int
    degree: int
    u0: float
    coeffs: tuple[float, ...]
    bound: float
    violation: float
    touch_f: tuple[float, ...]
    touch_fhat: tuple[float, ...]

    def __repr__(self) -> str:
        return (
            f"SampledLP(n={self.dimension}, deg={self.degree}, u0={self.u0:.6g}: "
            f"density <~ {self.bound:.8g}, violation {self.violation:.1e})"
        )


def _fine_grid(n: int, degree: int, u0: float, points: int) -> np.ndarray:
    top = 4.0 * degree + float(alpha_of_dimension(n)) * 2 + 60.0 + u0
    return np.linspace(0.0, top, points)


def sampled_lp(
    n: int,
    degree: int,
    u0: float,
    *,
    samples: int = 1500,
    fine: int = 30000,
    rounds: int = 12,
    tol: float = 1e-11,
    margin: float = 0.0,
) -> SampledLP:
    """Solve the sampled LP with cutting-plane exchange; see the module docstring.

    With ``margin > 0`` the sampled constraints are strict: :math:`f \\le -\\text{margin}`
    and :math:`\\hat f \\ge \\text{margin}` (relative to the size of the basis there), which
    leaves room for rounding (the float path to a certificate).

    Raises
    ------
    PrecisionError
        If HiGHS fails (typically: too many terms for double precision).
    """
    from scipy.optimize import linprog

    if degree < 1 or degree % 2 == 0:
        raise DiscoveryError(f"the degree must be odd and positive, not {degree}")
    if not u0 > 0:
        raise DiscoveryError(f"u0 = 2 pi r^2 must be positive, not {u0}")
    grid = _fine_grid(n, degree, u0, samples)
    fine_grid = _fine_grid(n, degree, u0, fine)
    # columns scaled by L_k(0) = binom(k + alpha, k), the size of the k-th basis function
    colscale = gauss_laguerre_matrix(n, np.array([0.0]), degree)[0]

    def basis(us: np.ndarray) -> np.ndarray:
        return gauss_laguerre_matrix(n, us, degree) / colscale

    Mf = basis(fine_grid)
    sgn = np.array([(-1.0) ** k for k in range(degree + 1)])
    scale_f = np.abs(Mf).max(axis=1)
    at0 = np.ones(degree + 1)
    pts_f = list(grid[grid >= u0]) + [u0]
    pts_h = list(grid)
    x = None
    viol = math.inf
    for _ in range(rounds):
        Af = basis(np.array(pts_f))
        Ah = -basis(np.array(pts_h)) * sgn
        A = np.vstack([Af, Ah])
        A /= np.abs(A).max(axis=1, keepdims=True)
        res = linprog(
            at0,
            A_ub=A,
            b_ub=np.full(A.shape[0], -margin),
            A_eq=[at0 * sgn],
            b_eq=[1.0],
            bounds=[(None, None)] * (degree + 1),
            method="highs",
            options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
        )
        if res.status != 0:
            raise PrecisionError(f"sampled LP failed (n={n}, degree={degree}): {res.message}")
        x = res.x
        g = (Mf @ x) / scale_f
        gh = (Mf @ (x * sgn)) / scale_f
        bad_f = np.where((fine_grid >= u0) & (g > tol))[0]
        bad_h = np.where(gh < -tol)[0]
        viol = max([0.0] + [g[i] for i in bad_f] + [-gh[i] for i in bad_h])
        if viol <= tol:
            break
        pts_f += [fine_grid[i] for i in _local_extrema(g, bad_f, +1)]
        pts_h += [fine_grid[i] for i in _local_extrema(gh, bad_h, -1)]
    g = (Mf @ x) / scale_f
    gh = (Mf @ (x * sgn)) / scale_f
    touch_f, touch_h = _touching(fine_grid, g, gh, u0, (degree - 1) // 2)
    value = float(at0 @ x)
    return SampledLP(
        dimension=n,
        degree=degree,
        u0=float(u0),
        coeffs=tuple(float(c) for c in x / colscale),
        bound=ball_factor_float(n, u0) * value,
        violation=float(viol),
        touch_f=touch_f,
        touch_fhat=touch_h,
    )


def _local_extrema(values: np.ndarray, idx: np.ndarray, sign: int) -> list[int]:
    """Indices among ``idx`` that are local maxima of ``sign * values``."""
    v = sign * values
    idx = idx[(idx > 0) & (idx < len(v) - 1)]
    keep = (v[idx] >= v[idx - 1]) & (v[idx] >= v[idx + 1])
    return [int(i) for i in idx[keep]]


def _touching(grid, g, gh, u0: float, count: int) -> tuple[tuple, tuple]:
    """The ``count`` local extrema closest to zero: maxima of ``g`` beyond ``u0`` and minima of
    ``gh`` beyond 0 (a vertex of the LP touches zero at exactly that many points)."""
    inner = np.arange(1, len(grid) - 1)
    cands = []
    for values, sign, lo, tag in ((g, 1, u0 * 1.0001, 0), (gh, -1, 0.0, 1)):
        v = sign * values
        ok = (v[inner] >= v[inner - 1]) & (v[inner] > v[inner + 1]) & (grid[inner] > lo)
        cands += [(abs(values[i]), tag, float(grid[i])) for i in inner[ok]]
    cands.sort()
    chosen = cands[:count]
    f = tuple(sorted(round(u, 3) for _, t, u in chosen if t == 0))
    h = tuple(sorted(round(u, 3) for _, t, u in chosen if t == 1))
    return f, h


def optimise_radius(
    n: int, degree: int, lo: float, hi: float, *, step: float = 0.4, iterations: int = 10,
    progress: Callable[..., None] | None = None, **kw
) -> SampledLP:
    """Minimise the sampled-LP bound over ``u0`` in ``[lo, hi]``.

    The bound is multimodal in ``u0`` (each basin has its own touching structure), so a scan of
    ``u0`` spaced by ``step`` (with a coarser LP) picks the basin, and a golden-section search
    refines it. ``progress``, if given, is called as ``progress(stage, done=lps_solved,
    total=lps_planned, detail=...)`` before each LP (the result does not depend on it).
    """
    phi = (math.sqrt(5) - 1) / 2
    cache: dict[float, SampledLP] = {}
    scan = int((hi - lo) / step) + 1
    planned = scan + iterations + 2  # the scan, then golden section (two LPs to start)
    stage = "radius search"

    def f(u: float) -> float:
        if u not in cache:
            if progress is not None:
                progress(stage, done=min(scan + len(cache), planned), total=planned,
                         detail=f"sampled LP of degree {degree}, golden section, u0 = {u:.4f}")
            try:
                cache[u] = sampled_lp(n, degree, u, **kw)
            except PrecisionError:
                return math.inf
        return cache[u].bound

    coarse = {}
    for i in range(scan):
        u = lo + i * step
        if progress is not None:
            progress(stage, done=i, total=planned,
                     detail=f"sampled LP of degree {degree}, scan, u0 = {u:.2f}")
        try:
            coarse[u] = sampled_lp(n, degree, u, samples=400, fine=4000, rounds=4).bound
        except PrecisionError:
            continue
    if not coarse:
        raise PrecisionError(f"no sampled LP could be solved (n={n}, degree={degree})")
    best = min(coarse, key=coarse.get)
    a, b = max(lo, best - step), min(hi, best + step)
    c = b - phi * (b - a)
    d = a + phi * (b - a)
    for _ in range(iterations):
        if f(c) < f(d):
            b = d
        else:
            a = c
        c = b - phi * (b - a)
        d = a + phi * (b - a)
    if not cache:
        raise PrecisionError(f"no sampled LP could be solved (n={n}, degree={degree})")
    return min(cache.values(), key=lambda s: s.bound)
