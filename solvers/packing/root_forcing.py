"""High-precision Cohn–Elkies LP optimum by root forcing and Newton's method.

At an optimal vertex of the LP of degree :math:`d = 2(m + m') + 1`, the function
:math:`g(u) = P(u)e^{-u/2}` (that is :math:`f` as a function of :math:`u = 2\\pi|x|^2`) changes
sign at :math:`u_0` and touches zero from below at :math:`m` points :math:`U_i > u_0`, and
:math:`\\hat g` touches zero from above at :math:`m'` points :math:`V_j > 0`. For given positions
the coefficients follow from the square linear system

.. math::
    g(u_0) = -\\delta,\\quad g(U_i) = -\\delta,\\quad g'(U_i) = 0,\\quad
    \\hat g(V_j) = \\delta,\\quad \\hat g'(V_j) = 0,\\quad \\hat g(0) = 1,

(:math:`\\delta \\ge 0` is a safety margin that makes the rounded certificate strictly
feasible). The positions are then moved by Newton's method until the bound is stationary:
the adjoint :math:`y = A^{-T}\\ell_0` (:math:`\\ell_0` = the row of :math:`P(0)`) has zero
components on every derivative row, and
:math:`\\partial_{u_0}\\log\\bigl(u_0^{n/2} P(0)\\bigr) = 0`. The Jacobian is exact (adjoint
differentiation); all arithmetic is done in a gmpy2 context of explicit precision.

Examples
--------
>>> sol = newton_lp(8, 12.66, (25.5, 41.3), (12.66, 25.7, 41.6), prec=200)
>>> round(float(sol.bound), 7), sol.degree
(0.2573369, 11)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

import gmpy2

from solvers.errors import DivergenceError, PrecisionError
from solvers.packing._linalg import LU, dot
from solvers.packing.laguerre import alpha_of_dimension, scaled_rows

__all__ = ["ForcedLP", "newton_lp", "raise_degree", "precision_for"]


@dataclass(frozen=True)
class ForcedLP:
    """A root-forced LP solution in high precision (numerical, not yet a certificate).

    Attributes
    ----------
    dimension, degree : int
    u0 : gmpy2.mpfr
        The sign change :math:`u_0 = 2\\pi r^2` of :math:`f`.
    touch_f, touch_fhat : tuple of gmpy2.mpfr
        Forced double roots of :math:`f` (beyond :math:`u_0`) and of :math:`\\hat f`.
    coeffs : tuple of gmpy2.mpfr
        Laguerre coefficients of :math:`P` with :math:`\\hat P(0) = 1`.
    bound : gmpy2.mpfr
        :math:`(u_0/8)^{n/2} P(0) / \\Gamma(n/2+1)` (numerical).
    residual : float
        Size of the stationarity residual at the returned point.
    prec : int
        Working precision in bits.
    delta : float
        The margin :math:`\\delta`.
    """

    dimension: int
    degree: int
    u0: object
    touch_f: tuple
    touch_fhat: tuple
    coeffs: tuple
    bound: object
    residual: float
    prec: int
    delta: float

    def __repr__(self) -> str:
        return (
            f"ForcedLP(n={self.dimension}, deg={self.degree}, r={self.radius:.8f}: "
            f"density <~ {float(self.bound):.10g})"
        )

    @property
    def radius(self) -> float:
        """:math:`r = \\sqrt{u_0 / 2\\pi}` (float)."""
        return math.sqrt(float(self.u0) / (2 * math.pi))


def precision_for(positions: Sequence, extra_bits: int = 192) -> int:
    """Working precision (bits) for positions up to ``max(positions)``.

    Values :math:`L_k(u)` reach :math:`e^{u/2}` while the sums that matter vanish, so
    :math:`u_{max}/(2\\ln 2)` bits are lost to cancellation; the square system loses about as
    many again.

    Examples
    --------
    >>> precision_for([10.0, 400.0])
    832
    """
    top = max(float(p) for p in positions)
    bits = int(top / math.log(2)) + extra_bits
    return 64 * ((bits + 63) // 64)


class _System:
    """The forced linear system and its adjoint at one set of positions."""

    def __init__(self, ctx, n: int, degree: int, u0, U, V, delta):
        self.ctx = ctx
        alpha = alpha_of_dimension(n)
        N = degree + 1
        sgn = [1 if k % 2 == 0 else -1 for k in range(N)]
        self.sgn = sgn
        m, mh = len(U), len(V)
        if 2 * (m + mh) + 1 != degree:
            raise PrecisionError(
                f"degree {degree} needs m + m' = {(degree - 1) // 2} forced roots, got {m} + {mh}"
            )
        self.r0 = scaled_rows(ctx, alpha, u0, degree, order=2)
        self.rU = [scaled_rows(ctx, alpha, u, degree, order=2) for u in U]
        hat = [scaled_rows(ctx, alpha, v, degree, order=2) for v in V]
        self.rV = [
            [[x if s > 0 else ctx.minus(x) for x, s in zip(r, sgn, strict=True)] for r in rows]
            for rows in hat
        ]
        zero = scaled_rows(ctx, alpha, gmpy2.mpfr(0), degree, order=0)[0]
        self.l0 = zero  # P(0) row: L_k(0)
        rows = [self.r0[0]]
        rhs = [ctx.minus(delta)]
        for rr in self.rU:
            rows += [rr[0], rr[1]]
            rhs += [ctx.minus(delta), gmpy2.mpfr(0)]
        for rr in self.rV:
            rows += [rr[0], rr[1]]
            rhs += [ctx.plus(delta), gmpy2.mpfr(0)]
        rows.append([x if s > 0 else ctx.minus(x) for x, s in zip(zero, sgn, strict=False)])
        rhs.append(gmpy2.mpfr(1))
        self.rhs = rhs
        self.lu = LU(ctx, rows)
        self.c = self.lu.solve(rhs)
        self.y = self.lu.solve_transpose(self.l0)
        self.p0 = dot(ctx, self.l0, self.c)
        self.m, self.mh, self.n = m, mh, n


def _residual_and_jacobian(S: _System, u0, with_u0: bool):
    ctx = S.ctx
    m, mh, n = S.m, S.mh, S.n
    c, y = S.c, S.y
    half_n = gmpy2.mpfr(n) / 2
    F = [y[2 + 2 * i] for i in range(m)] + [y[2 * m + 2 + 2 * j] for j in range(mh)]
    g1_u0 = dot(ctx, S.r0[1], c)
    if with_u0:
        F.append(ctx.sub(ctx.div(ctx.mul(half_n, S.p0), u0), ctx.mul(y[0], g1_u0)))
    # parameters: U_i, V_j, (u0)
    params = []
    for i, rr in enumerate(S.rU):
        params.append((1 + 2 * i, rr))
    for j, rr in enumerate(S.rV):
        params.append((2 * m + 1 + 2 * j, rr))
    if with_u0:
        params.append((0, S.r0))
    t = S.lu.solve_transpose(S.r0[1]) if with_u0 else None
    cols = []
    for row, rr in params:
        if row == 0:
            w = [ctx.mul(y[0], x) for x in rr[1]]
            q = {0: dot(ctx, rr[1], c)}
        else:
            w = [
                ctx.fma(y[row], a, ctx.mul(y[row + 1], b))
                for a, b in zip(rr[1], rr[2], strict=True)
            ]
            q = {row: dot(ctx, rr[1], c), row + 1: dot(ctx, rr[2], c)}
        z = S.lu.solve_transpose(w)  # dy = -z
        col = [ctx.minus(z[2 + 2 * i]) for i in range(m)]
        col += [ctx.minus(z[2 * m + 2 + 2 * j]) for j in range(mh)]
        if with_u0:
            dp0 = ctx.minus(_sum(ctx, [ctx.mul(y[r], v) for r, v in q.items()]))
            # d(g'(u0)) = r0' . dc = -t . q  (+ g''(u0) if the parameter is u0 itself)
            dg1 = ctx.minus(_sum(ctx, [ctx.mul(t[r], v) for r, v in q.items()]))
            val = ctx.div(ctx.mul(half_n, dp0), u0)
            val = ctx.add(val, ctx.mul(z[0], g1_u0))
            val = ctx.sub(val, ctx.mul(y[0], dg1))
            if row == 0:
                g2 = dot(ctx, S.r0[2], c)
                val = ctx.sub(val, ctx.div(ctx.mul(half_n, S.p0), ctx.mul(u0, u0)))
                val = ctx.sub(val, ctx.mul(y[0], g2))
            col.append(val)
        cols.append(col)
    J = [[cols[k][r] for k in range(len(cols))] for r in range(len(F))]
    return F, J


def _sum(ctx, values):
    acc = gmpy2.mpfr(0)
    for v in values:
        acc = ctx.add(acc, v)
    return acc


def _bound(ctx, n: int, u0, p0):
    # (u0/8)^(n/2) / Gamma(n/2 + 1) * P(0)
    lg = ctx.lgamma(gmpy2.mpfr(n) / 2 + 1)[0]
    return ctx.mul(ctx.exp(ctx.sub(ctx.mul(gmpy2.mpfr(n) / 2, ctx.log(ctx.div(u0, 8))), lg)), p0)


def newton_lp(
    n: int,
    u0: float | object,
    touch_f: Sequence,
    touch_fhat: Sequence,
    *,
    prec: int | None = None,
    delta: float = 0.0,
    optimise_u0: bool = True,
    max_iter: int = 40,
    tol_bits: int | None = None,
) -> ForcedLP:
    """Newton's method on the stationarity conditions of the root-forced LP.

    Parameters
    ----------
    n : int
        Dimension.
    u0, touch_f, touch_fhat :
        Starting positions (from :func:`solvers.packing.sampled_lp.sampled_lp` or from a
        previous solution, see :func:`raise_degree`); the degree is
        ``2 * (len(touch_f) + len(touch_fhat)) + 1``.
    prec : int, optional
        Working precision in bits (default: :func:`precision_for` the positions).
    delta : float
        Safety margin :math:`\\delta` (0 for the exact optimum of the forced structure).
    optimise_u0 : bool
        Also move :math:`u_0` (otherwise the LP at fixed radius is solved).

    Raises
    ------
    DivergenceError
        If Newton's method does not converge (wrong structure or poor start).
    """
    degree = 2 * (len(touch_f) + len(touch_fhat)) + 1
    if prec is None:
        prec = precision_for([u0, *touch_f, *touch_fhat])
    ctx = gmpy2.context(precision=prec)
    u0 = ctx.plus(gmpy2.mpfr(str(u0)) if isinstance(u0, float) else u0)
    U = [ctx.plus(gmpy2.mpfr(str(x)) if isinstance(x, float) else x) for x in touch_f]
    V = [ctx.plus(gmpy2.mpfr(str(x)) if isinstance(x, float) else x) for x in touch_fhat]
    dl = ctx.plus(gmpy2.mpfr(str(delta)))
    if tol_bits is None:
        tol_bits = prec // 3
    tol = gmpy2.mpfr(2) ** (-tol_bits)
    S = _System(ctx, n, degree, u0, U, V, dl)
    res = math.inf
    for _ in range(max_iter):
        F, J = _residual_and_jacobian(S, u0, optimise_u0)
        step = LU(ctx, J).solve([ctx.minus(x) for x in F])
        theta = U + V + ([u0] if optimise_u0 else [])
        # damp so that no position moves by more than a third of the gap to its neighbours
        lam = _max_step(U, V, u0, step, len(U), optimise_u0)
        new = [ctx.fma(lam, s, x) for x, s in zip(theta, step, strict=False)]
        res = float(max(abs(s) / (1 + abs(x)) for s, x in zip(step, theta, strict=False)))
        U = new[: len(U)]
        V = new[len(U) : len(U) + len(V)]
        if optimise_u0:
            u0 = new[-1]
        S = _System(ctx, n, degree, u0, U, V, dl)
        if lam == 1 and res < tol:
            break
    else:
        raise DivergenceError(
            f"root forcing did not converge (n={n}, degree={degree}, last step {res:.2e})"
        )
    return ForcedLP(
        dimension=n,
        degree=degree,
        u0=u0,
        touch_f=tuple(U),
        touch_fhat=tuple(V),
        coeffs=tuple(S.c),
        bound=_bound(ctx, n, u0, S.p0),
        residual=res,
        prec=prec,
        delta=float(delta),
    )


def _max_step(U, V, u0, step, m, with_u0) -> Fraction | int:
    lam = 1.0
    pts_f = [(float(u0), float(step[-1]) if with_u0 else 0.0)]
    pts_f += [(float(u), float(s)) for u, s in zip(U, step[:m], strict=False)]
    steps_h = step[m : m + len(V)]
    pts_h = [(0.0, 0.0)] + [(float(v), float(s)) for v, s in zip(V, steps_h, strict=True)]
    for pts in (pts_f, pts_h):
        for (a, sa), (b, sb) in zip(pts, pts[1:], strict=False):
            gap = b - a
            move = abs(sb - sa)
            if move > gap / 3:
                lam = min(lam, gap / 3 / move)
    if lam == 1.0:
        return 1
    return lam


def raise_degree(sol: ForcedLP, steps: int = 1) -> tuple:
    """Starting positions for degree ``sol.degree + 4 * steps``: one more forced root of each
    of :math:`f` and :math:`\\hat f` per step, placed by extrapolating the last spacing.

    Returns ``(u0, touch_f, touch_fhat)``.
    """
    U = list(sol.touch_f)
    V = list(sol.touch_fhat)
    for _ in range(steps):
        for pts in (U, V):
            gap = pts[-1] - pts[-2] if len(pts) >= 2 else pts[-1] / 2
            pts.append(pts[-1] + gap)
    return sol.u0, tuple(U), tuple(V)


def with_margin(sol: ForcedLP, delta: float) -> ForcedLP:
    """Re-solve ``sol`` (same positions) with margin ``delta``; positions are not moved."""
    ctx = gmpy2.context(precision=sol.prec)
    S = _System(
        ctx,
        sol.dimension,
        sol.degree,
        sol.u0,
        list(sol.touch_f),
        list(sol.touch_fhat),
        ctx.plus(gmpy2.mpfr(str(delta))),
    )
    return replace(
        sol, coeffs=tuple(S.c), bound=_bound(ctx, sol.dimension, sol.u0, S.p0), delta=delta
    )
