"""Classical approximations the evolved programs must beat: Remez minimax polynomials and
rationals, Taylor and Padé, with range reduction by squaring and their operation counts.

Everything is computed in local mpmath contexts (default 50 digits); errors are measured in
real arithmetic (coefficients exact), like the regression values of
``data/reference/approximation_benchmarks.json``.

Operation counts (``+ - * /`` cost 1, constants are free):

* polynomial of degree n, Horner: ``2n``;
* rational (n, m) in Horner form with a monic denominator: ``2n + 2m``;
* rational (n, m), n >= m, as a polynomial part plus a continued fraction (J-fraction)
  ``s(x) + b1/(x + c1 + b2/(x + c2 + ...))``: ``2n + m`` (``3m`` for n = m); n = m - 1: ``3m - 1``;
* range reduction by squaring: approximate ``g = f^(1/2^k)`` and square k times: ``+k``.

Examples
--------
>>> a = remez("2^x", (0, 1), 3)
>>> a
Approximation(2^x ~ minimax polynomial (3, 0) on [0, 1]: max relative error 7.478e-05)
>>> a.ops("horner")
6
>>> b = remez("log2(x)", (1, 2), 1, 1, error="absolute")
>>> f"{b.max_error:.3g}", b.ops("cf")
('0.00124', 3)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import mpmath

from solvers.errors import DivergenceError, EngineError, EvaluationError
from solvers.program_error import _target_context
from solvers.programs import Program, ProgramBuilder, Target, parse_target

__all__ = [
    "Approximation",
    "remez",
    "taylor",
    "pade",
    "horner_ops",
    "cf_ops",
    "continued_fraction_form",
    "Baseline",
    "baseline_tiers",
]


def horner_ops(n: int, m: int = 0) -> int:
    """Operations of a degree-(n, m) rational in Horner form (monic denominator).

    Examples
    --------
    >>> horner_ops(6), horner_ops(3, 2)
    (12, 10)
    """
    return 2 * n if m == 0 else 2 * n + 2 * m


def cf_ops(n: int, m: int) -> int:
    """Operations of a (n, m) rational as polynomial part plus continued fraction.

    Examples
    --------
    >>> cf_ops(3, 3), cf_ops(2, 1), cf_ops(1, 2)
    (9, 5, 5)
    """
    if m == 0:
        return 2 * n
    if n >= m:
        return 2 * n + m
    if n == m - 1:
        return 3 * m - 1
    raise ValueError(f"no continued-fraction form counted for type ({n}, {m})")


# ---------------------------------------------------------------------------------------------
# Polynomial helpers over mpf lists (ascending powers)


def _peval(c: Sequence[Any], x: Any) -> Any:
    v = c[-1]
    for a in reversed(c[:-1]):
        v = v * x + a
    return v


def _shift(c: Sequence[Any], x0: Any, ctx: Any) -> list[Any]:
    """Coefficients in powers of x of ``sum c_j (x - x0)^j``."""
    out = [ctx.zero] * len(c)
    for j, cj in enumerate(c):
        for i in range(j + 1):
            out[i] += cj * ctx.binomial(j, i) * (-x0) ** (j - i)
    return out


def _polydiv(num: list[Any], den: list[Any]) -> tuple[list[Any], list[Any]]:
    num = list(num)
    dn = len(den) - 1
    if len(num) - 1 < dn:
        return [0], num
    q = [0] * (len(num) - dn)
    for k in range(len(num) - 1 - dn, -1, -1):
        q[k] = num[k + dn] / den[dn]
        for j in range(dn + 1):
            num[k + j] -= q[k] * den[j]
    return q, num[:dn] if dn > 0 else [0]


def continued_fraction_form(num: Sequence[Any], den: Sequence[Any], ctx: Any,
                            rtol: Any = None):
    """``num/den`` as ``s(x) + b1/(x + c1 + b2/(x + c2 + ...))``.

    Returns ``(s, [(b1, c1), (b2, c2), ...])`` (``s`` ascending coefficients).

    Raises
    ------
    DivergenceError
        If the expansion degenerates (a vanishing leading coefficient).

    Examples
    --------
    >>> ctx = mpmath.MPContext(); ctx.dps = 20
    >>> s, pairs = continued_fraction_form([ctx.mpf(1), 2], [ctx.mpf(3), 1], ctx)
    >>> [float(v) for v in s], [(float(b), float(c)) for b, c in pairs]
    ([2.0], [(-5.0, 3.0)])
    """
    num = [ctx.mpf(v) for v in num]
    den = [ctx.mpf(v) for v in den]
    while len(den) > 1 and den[-1] == 0:
        den.pop()
    lead = den[-1]
    num = [v / lead for v in num]
    den = [v / lead for v in den]
    scale = max(abs(v) for v in num + den) or ctx.one
    tol = rtol if rtol is not None else ctx.mpf(2) ** (-ctx.prec // 2)
    s, t = _polydiv(num, den)
    pairs = []
    while len(den) > 1:
        while len(t) > 1 and abs(t[-1]) <= tol * scale:
            t = t[:-1]
        if len(t) != len(den) - 1 or abs(t[-1]) <= tol * scale:
            raise DivergenceError("continued-fraction expansion degenerates")
        b = t[-1]
        smon = [v / b for v in t]
        quo, r = _polydiv(den, smon)  # den = (x + c) * smon + r
        pairs.append((b, quo[0]))
        den, t = smon, r
    return s, pairs


# ---------------------------------------------------------------------------------------------
# The approximation object


@dataclass(frozen=True)
class Approximation:
    """``p(x)/q(x)``, then squared ``squarings`` times, approximating a target on an interval.

    Attributes
    ----------
    target : str
        The target's text.
    interval : tuple of float
        ``(a, b)``.
    error : str
        ``"relative"`` or ``"absolute"``.
    numerator, denominator : tuple of mpf
        Coefficients in ascending powers of x (denominator ``(1,)`` for a polynomial).
    squarings : int
        Number of squarings applied to ``p/q``.
    method : str
        ``"minimax"``, ``"taylor"`` or ``"pade"``.
    max_error : float
        Measured maximum error in real arithmetic (dense sampling plus local maximisation).
    dps : int
        Working precision of the construction.
    """

    target: str
    interval: tuple[float, float]
    error: str
    numerator: tuple
    denominator: tuple
    squarings: int
    method: str
    max_error: float
    dps: int

    @property
    def degrees(self) -> tuple[int, int]:
        return len(self.numerator) - 1, len(self.denominator) - 1

    def __repr__(self) -> str:
        n, m = self.degrees
        kind = "polynomial" if m == 0 else "rational"
        sq = f", squared {self.squarings}x" if self.squarings else ""
        a, b = (f"{v:g}" for v in self.interval)
        return (f"Approximation({self.target} ~ {self.method} {kind} ({n}, {m}){sq} on "
                f"[{a}, {b}]: max {self.error} error {self.max_error:.4g})")

    def evaluate_mp(self, x: Any, ctx: Any) -> Any:
        """The approximation at ``x`` in ``ctx`` (exact coefficients)."""
        x = ctx.convert(x)
        p = _peval([ctx.convert(c) for c in self.numerator], x)
        q = _peval([ctx.convert(c) for c in self.denominator], x)
        if q == 0:
            return ctx.nan
        r = p / q
        for _ in range(self.squarings):
            r = r * r
        return r

    def ops(self, form: str = "horner") -> int:
        """Operation count of the program :meth:`program` builds in ``form``."""
        n, m = self.degrees
        base = horner_ops(n, m) if form == "horner" else cf_ops(n, m)
        return base + self.squarings

    def program(self, form: str = "horner") -> Program:
        """The approximation as a :class:`~solvers.programs.Program` with float64 constants.

        ``form`` is ``"horner"`` (monic denominator) or ``"cf"`` (polynomial part plus
        continued fraction; raises :class:`DivergenceError` if that expansion degenerates).
        """
        ctx = mpmath.MPContext()
        ctx.dps = self.dps
        num = [ctx.convert(c) for c in self.numerator]
        den = [ctx.convert(c) for c in self.denominator]
        b = ProgramBuilder()
        x = b.x
        if form == "horner":
            lead = den[-1]
            num = [c / lead for c in num]
            den = [c / lead for c in den]
            r = _horner(b, x, num)
            if len(den) > 1:
                d = b.add(x, float(den[-2]))
                for c in reversed(den[:-2]):
                    d = b.add(b.mul(d, x), float(c))
                r = b.div(r, d)
        elif form == "cf":
            s, pairs = continued_fraction_form(num, den, ctx)
            r = None
            if pairs:
                bb, cc = pairs[-1]
                d = b.add(x, float(cc))
                for (_, ci), (bn, _) in zip(reversed(pairs[:-1]), reversed(pairs[1:]),
                                             strict=True):
                    d = b.add(b.add(x, float(ci)), b.div(float(bn), d))
                r = b.div(float(pairs[0][0]), d)
            if any(c != 0 for c in s) or r is None:
                poly = _horner(b, x, s)
                r = poly if r is None else b.add(poly, r)
        else:
            raise ValueError(f"form must be 'horner' or 'cf', not {form!r}")
        for _ in range(self.squarings):
            r = b.mul(r, r)
        return b.program(r)


def _horner(b: ProgramBuilder, x: Any, c: Sequence[Any]) -> Any:
    if len(c) == 1:
        return b.const(float(c[0]))
    r = b.mul(x, float(c[-1]))
    for k, a in enumerate(reversed(c[:-1])):
        r = b.add(r, float(a))
        if k < len(c) - 2:
            r = b.mul(r, x)
    return r


# ---------------------------------------------------------------------------------------------
# Remez


def _setup(target: str | Target, interval: tuple[Any, Any], error: str, squarings: int,
           dps: int):
    if error not in ("relative", "absolute"):
        raise ValueError(f"error must be 'relative' or 'absolute', not {error!r}")
    if squarings < 0:
        raise ValueError("squarings must be >= 0")
    t, ctx, a, b = _target_context(target, interval, dps)
    if not a < b:
        raise ValueError(f"empty interval [{interval[0]}, {interval[1]}]")
    _require_defined(t, float(a), float(b))
    k = 2**squarings

    def g(x: Any) -> Any:
        v = t.evaluate_mp(x, ctx)
        if squarings:
            if not v > 0:
                raise EngineError(f"range reduction by squaring needs {t.text} > 0 on the "
                                  "interval")
            v = ctx.root(v, k)
        return v

    if squarings and not t.is_positive_on(float(a), float(b)):
        raise EngineError(f"range reduction by squaring needs {t.text} > 0 on the interval")
    return t, ctx, a, b, g


@lru_cache(maxsize=64)
def _require_defined(t: Target, a: float, b: float) -> None:
    """Refuse a target that is not a finite real number somewhere on ``[a, b]`` (sampled)."""
    x = t.undefined_point(a, b)
    if x is not None:
        raise EvaluationError(_undefined_message(t, x, a, b))


def _undefined_message(t: Target, x: Any, a: Any, b: Any) -> str:
    return (f"the target {t.text} is not a finite real number at x = {float(x):g} (in "
            f"[{float(a):g}, {float(b):g}]): choose an interval where it is defined")


def _err_fn(ctx: Any, g: Callable, error: str, p: list, q: list) -> Callable:
    def e(x: Any) -> Any:
        gx = g(x)
        qx = _peval(q, x)
        if qx == 0:
            return ctx.inf
        d = _peval(p, x) / qx - gx
        return d / abs(gx) if error == "relative" else d

    return e


def _solve(ctx: Any, xs: list, gs: list, ws: list, n: int, m: int, guess: Any):
    """Coefficients and levelled error E with (p/q - g)(x_i) * w_i = (-1)^i E."""
    N = n + m + 2
    s = [1 if i % 2 == 0 else -1 for i in range(N)]
    if m == 0:
        A = ctx.matrix(N, N)
        rhs = ctx.matrix(N, 1)
        for i, x in enumerate(xs):
            for j in range(n + 1):
                A[i, j] = x**j
            A[i, n + 1] = -s[i] / ws[i]
            rhs[i] = gs[i]
        z = ctx.lu_solve(A, rhs)
        return [z[j] for j in range(n + 1)], [ctx.one], z[n + 1]

    def linear(E_old: Any) -> Any:
        A = ctx.matrix(N, N)
        rhs = ctx.matrix(N, 1)
        for i, x in enumerate(xs):
            for j in range(n + 1):
                A[i, j] = x**j
            for k in range(1, m + 1):
                A[i, n + k] = -(gs[i] + s[i] * E_old / ws[i]) * x**k
            A[i, n + m + 1] = -s[i] / ws[i]
            rhs[i] = gs[i]
        return ctx.lu_solve(A, rhs)

    if guess is None:
        z = linear(ctx.zero)
        for _ in range(4):
            z = linear(z[N - 1])
    else:
        z = ctx.matrix(list(guess))
    for _ in range(40):  # Newton on F_i = p(x_i) - (g_i + s_i E / w_i) q(x_i)
        p = [z[j] for j in range(n + 1)]
        q = [ctx.one] + [z[n + k] for k in range(1, m + 1)]
        E = z[N - 1]
        F = ctx.matrix(N, 1)
        J = ctx.matrix(N, N)
        for i, x in enumerate(xs):
            gi = gs[i] + s[i] * E / ws[i]
            qx = _peval(q, x)
            F[i] = _peval(p, x) - gi * qx
            for j in range(n + 1):
                J[i, j] = x**j
            for k in range(1, m + 1):
                J[i, n + k] = -gi * x**k
            J[i, N - 1] = -s[i] / ws[i] * qx
        dz = ctx.lu_solve(J, -F)
        z = z + dz
        if ctx.norm(dz) <= ctx.norm(z) * ctx.eps * 2**20:
            break
    p = [z[j] for j in range(n + 1)]
    q = [ctx.one] + [z[n + k] for k in range(1, m + 1)]
    return p, q, z[N - 1], z


def _solve_any(ctx, xs, gs, ws, n, m, guess):
    out = _solve(ctx, xs, gs, ws, n, m, guess)
    if m == 0:
        return (*out, None)
    return out


def _golden(fn: Callable, lo: Any, hi: Any, ctx: Any, iters: int) -> tuple[Any, Any]:
    """Maximise ``fn`` on ``[lo, hi]`` by golden section; returns ``(x, fn(x))``."""
    gr = (ctx.sqrt(5) - 1) / 2
    c, d = hi - gr * (hi - lo), lo + gr * (hi - lo)
    fc, fd = fn(c), fn(d)
    for _ in range(iters):
        if fc > fd:
            hi, d, fd = d, c, fc
            c = hi - gr * (hi - lo)
            fc = fn(c)
        else:
            lo, c, fc = c, d, fd
            d = lo + gr * (hi - lo)
            fd = fn(d)
    return (c, fc) if fc > fd else (d, fd)


def _samples(ctx: Any, a: Any, b: Any, M: int, extra: Sequence[Any] = ()) -> list:
    pts = {a, b, *extra}
    for i in range(M):
        pts.add((a + b) / 2 - (b - a) / 2 * ctx.cos(ctx.pi * i / (M - 1)))
        pts.add(a + (b - a) * i / (M - 1))
    return sorted(p for p in pts if a <= p <= b)


def _extrema(ctx: Any, e: Callable, a: Any, b: Any, N: int, extra: Sequence[Any],
             M: int) -> list[tuple[Any, Any]]:
    """Alternating extrema ``(x, e(x))`` of ``e``: the largest |e| of each sign run,
    maximised locally, trimmed to ``N`` points."""
    xs = _samples(ctx, a, b, M, extra)
    es = [e(x) for x in xs]
    runs: list[list[int]] = []
    for i, v in enumerate(es):
        if v == 0:
            continue
        sgn = v > 0
        if runs and (es[runs[-1][0]] > 0) == sgn:
            if abs(v) > abs(es[runs[-1][0]]):
                runs[-1][0] = i
        else:
            runs.append([i])
    pts = []
    for (i,) in runs:
        sgn = 1 if es[i] > 0 else -1
        lo, hi = xs[max(i - 1, 0)], xs[min(i + 1, len(xs) - 1)]
        x, v = _golden(lambda t, sgn=sgn: sgn * e(t), lo, hi, ctx, 50)
        cand = [(xs[i], es[i]), (x, sgn * v)]
        if i == 0 or i == len(xs) - 1:
            cand.append((xs[i], es[i]))
        pts.append(max(cand, key=lambda t: abs(t[1])))
    while len(pts) > N:
        if abs(pts[0][1]) < abs(pts[-1][1]):
            pts.pop(0)
        else:
            pts.pop()
    return pts


def _has_pole(ctx: Any, q: list, a: Any, b: Any) -> bool:
    xs = _samples(ctx, a, b, 8 * len(q) + 16)
    vals = [_peval(q, x) for x in xs]
    signs = [v > 0 for v in vals]
    return any(v == 0 for v in vals) or len(set(signs)) > 1


def _initial_reference(ctx: Any, g: Callable, error: str, a: Any, b: Any, n: int, m: int,
                       M: int, fallback: list) -> tuple[list, Any]:
    """A start for rational Remez: a linearised least-squares fit (Sanathanan-Koerner
    iterations, ``min sum (w (p - g q) / q_old)^2``), its alternating extrema as the first
    reference and its coefficients as Newton's first guess. Without such a start the first
    interpolation through Chebyshev points often has a pole in the interval."""
    N = n + m + 2
    xs = _samples(ctx, a, b, 2 * M)
    gs = [g(x) for x in xs]
    ws = [1 / abs(v) if error == "relative" else ctx.one for v in gs]
    q = [ctx.one] + [ctx.zero] * m
    p = None
    for _ in range(6):
        A = ctx.matrix(len(xs), n + m + 1)
        rhs = ctx.matrix(len(xs), 1)
        for i, x in enumerate(xs):
            sc = ws[i] / abs(_peval(q, x))
            for j in range(n + 1):
                A[i, j] = sc * x**j
            for k in range(1, m + 1):
                A[i, n + k] = -sc * gs[i] * x**k
            rhs[i] = sc * gs[i]
        z, _ = ctx.qr_solve(A, rhs)
        p = [z[j] for j in range(n + 1)]
        q_new = [ctx.one] + [z[n + k] for k in range(1, m + 1)]
        if _has_pole(ctx, q_new, a, b):
            break
        q = q_new
    if p is None or _has_pole(ctx, q, a, b):
        return fallback, None
    e = _err_fn(ctx, g, error, p, q)
    pts = _extrema(ctx, e, a, b, N, [], M)
    if len(pts) < N:
        return fallback, None
    E = sum((1 if i % 2 == 0 else -1) * v for i, (_, v) in enumerate(pts)) / N
    guess = ctx.matrix([*p, *q[1:], E])
    return [x for x, _ in pts], guess


def remez(target: str | Target, interval: tuple[Any, Any], n: int, m: int = 0,
          error: str = "relative", squarings: int = 0, dps: int = 50, max_iter: int = 60,
          tol: float = 1e-9) -> Approximation:
    """Minimax rational approximation of type (n, m) by the Remez exchange algorithm.

    The error ``(p/q - g)`` (divided by ``|g|`` for relative error) equioscillates at
    ``n + m + 2`` points at convergence; ``g = f^(1/2^k)`` for ``k = squarings``. The
    reference is exchanged (all extrema at once) until the levelled error and the maximum
    error agree to ``tol`` relatively. Linear system for polynomials; for rationals the
    nonlinear system is solved by Newton from a linearised start.

    Raises
    ------
    DivergenceError
        If the iteration fails (a pole in the interval, too few alternation points).

    Examples
    --------
    >>> f"{remez('2^x', (0, 1), 1).max_error:.4g}"
    '0.02982'
    >>> a = remez("2^x", (0, 1), 1, 1, squarings=2)
    >>> f"{a.max_error:.3g}", a.ops("cf")
    ('5.42e-05', 5)
    """
    t, ctx, a, b, g = _setup(target, interval, error, squarings, dps)
    N = n + m + 2
    ref = [(a + b) / 2 - (b - a) / 2 * ctx.cos(ctx.pi * i / (N - 1)) for i in range(N)]
    M = max(60, 12 * N)
    guess = None
    best = None
    if m > 0:
        ref, guess = _initial_reference(ctx, g, error, a, b, n, m, M, ref)
    for _ in range(max_iter):
        gs = [g(x) for x in ref]
        for x, v in zip(ref, gs, strict=True):
            if not ctx.isfinite(v):  # between the sampled points of _require_defined
                raise EvaluationError(_undefined_message(t, x, a, b))
        ws = [1 / abs(v) if error == "relative" else ctx.one for v in gs]
        try:
            p, q, E, guess = _solve_any(ctx, ref, gs, ws, n, m, guess)
        except ZeroDivisionError:
            raise DivergenceError(f"Remez ({n}, {m}) for {t.text}: singular system") from None
        e = _err_fn(ctx, g, error, p, q)
        pts = _extrema(ctx, e, a, b, N, ref, M)
        emax = max(abs(v) for _, v in pts)
        if best is None or emax < best[0]:
            best = (emax, p, q)
        if len(pts) < N:
            break
        ref = [x for x, _ in pts]
        emin = min(abs(v) for _, v in pts)
        if emax - emin <= tol * emax:
            break
        if not ctx.isfinite(emax):
            raise DivergenceError(f"Remez ({n}, {m}) for {t.text}: a pole in the interval")
    emax, p, q = best
    if not ctx.isfinite(emax):
        raise DivergenceError(f"Remez ({n}, {m}) for {t.text} did not converge")
    return _finish(t, ctx, a, b, interval, error, p, q, squarings, "minimax", dps)


def _finish(t: Target, ctx: Any, a: Any, b: Any, interval: Any, error: str, p: list, q: list,
            squarings: int, method: str, dps: int) -> Approximation:
    lead = q[0] if q[0] != 0 else ctx.one
    p = [c / lead for c in p]
    q = [c / lead for c in q]
    approx = Approximation(t.text, (float(interval[0]), float(interval[1])), error, tuple(p),
                           tuple(q), squarings, method, 0.0, dps)
    err = _sup_error(ctx, approx, t, a, b, error, max(200, 40 * len(p + q)))
    return Approximation(approx.target, approx.interval, error, tuple(p), tuple(q), squarings,
                         method, float(err), dps)


def _sup_error(ctx: Any, approx: Any, t: Target, a: Any, b: Any, error: str, M: int) -> Any:
    def e(x: Any) -> Any:
        fx = t.evaluate_mp(x, ctx)
        y = approx.evaluate_mp(x, ctx)
        if not ctx.isfinite(y):
            return ctx.inf
        d = abs(y - fx)
        return d / abs(fx) if error == "relative" else d

    xs = _samples(ctx, a, b, M)
    es = [e(x) for x in xs]
    order = sorted(range(len(xs)), key=lambda i: es[i], reverse=True)
    best = es[order[0]]
    peaks = [i for i in order if (i == 0 or es[i] >= es[i - 1])
             and (i == len(xs) - 1 or es[i] >= es[i + 1])]
    for i in peaks[:24]:
        lo, hi = xs[max(i - 1, 0)], xs[min(i + 1, len(xs) - 1)]
        _, v = _golden(e, lo, hi, ctx, 50)
        best = max(best, v)
    return best


# ---------------------------------------------------------------------------------------------
# Taylor and Padé


def _taylor_coeffs(t: Target, ctx: Any, g: Callable, x0: Any, order: int) -> list:
    return [ctx.mpf(c) for c in ctx.taylor(g, x0, order)]


def taylor(target: str | Target, interval: tuple[Any, Any], n: int, error: str = "relative",
           squarings: int = 0, dps: int = 50) -> Approximation:
    """Taylor polynomial of degree ``n`` at the midpoint (of ``f^(1/2^k)``).

    Examples
    --------
    >>> f"{taylor('2^x', (0, 1), 3).max_error:.3g}"
    '0.000794'
    """
    t, ctx, a, b, g = _setup(target, interval, error, squarings, dps)
    x0 = (a + b) / 2
    c = _taylor_coeffs(t, ctx, g, x0, n)
    return _finish(t, ctx, a, b, interval, error, _shift(c, x0, ctx), [ctx.one], squarings,
                   "taylor", dps)


def pade(target: str | Target, interval: tuple[Any, Any], n: int, m: int,
         error: str = "relative", squarings: int = 0, dps: int = 50) -> Approximation:
    """Padé approximant of type (n, m) at the midpoint (of ``f^(1/2^k)``).

    Examples
    --------
    >>> f"{pade('2^x', (0, 1), 1, 1).max_error:.3g}"
    '0.00354'
    """
    t, ctx, a, b, g = _setup(target, interval, error, squarings, dps)
    x0 = (a + b) / 2
    c = _taylor_coeffs(t, ctx, g, x0, n + m)
    p, q = ctx.pade(c, n, m)
    return _finish(t, ctx, a, b, interval, error, _shift(p, x0, ctx), _shift(q, x0, ctx),
                   squarings, "pade", dps)


# ---------------------------------------------------------------------------------------------
# Baseline tiers


@dataclass(frozen=True)
class Baseline:
    """One classical baseline: an approximation, how it is evaluated, and its cost.

    ``tier`` is ``"A"`` (polynomial or rational, Horner), ``"B"`` (rational as continued
    fraction) or ``"C"`` (continued fraction with range reduction by squaring).
    """

    tier: str
    ops: int
    max_error: float
    form: str
    approximation: Approximation

    def __repr__(self) -> str:
        n, m = self.approximation.degrees
        sq = f" + {self.approximation.squarings} squarings" if self.approximation.squarings else ""
        return (f"Baseline(tier {self.tier}: ({n}, {m}) {self.form}{sq}, {self.ops} ops, "
                f"max error {self.max_error:.3g})")

    def to_dict(self) -> dict:
        n, m = self.approximation.degrees
        return {"tier": self.tier, "ops": self.ops, "max_error": self.max_error,
                "form": self.form, "degrees": [n, m],
                "squarings": self.approximation.squarings,
                "program": self.approximation.program(self.form).to_dict()}


TIERS = {
    "A": "polynomial or rational, Horner",
    "B": "rational as continued fraction",
    "C": "continued fraction with squaring",
}


def baseline_tiers(target: str | Target, interval: tuple[Any, Any], error: str = "relative",
                   max_ops: int = 12, tiers: str = "ABC", max_squarings: int = 4,
                   dps: int = 40, *, progress: Callable[..., None] | None = None
                   ) -> list[Baseline]:
    """The best classical baseline of each tier at each operation count up to ``max_ops``.

    Minimax approximations (Remez) of every type whose cost fits are computed; within a tier
    only the Pareto-optimal ones (lower error than every cheaper one) are returned, sorted by
    tier then ops. Types that fail to converge are skipped.

    ``progress``, if given, is called before each Remez fit as
    ``progress(stage, done=fits_done, total=fits_planned, detail=...)`` (``stage`` names the
    tier); it does not change the result.

    Examples
    --------
    >>> rows = baseline_tiers("2^x", (0, 1), max_ops=4, tiers="A")
    >>> [(r.ops, f"{r.max_error:.3g}") for r in rows]
    [(2, '0.0298'), (4, '0.000867')]
    """
    t = parse_target(target) if isinstance(target, str) else target
    cache: dict[tuple[int, int, int], Approximation | None] = {}

    def get(n: int, m: int, k: int) -> Approximation | None:
        if (n, m, k) not in cache:
            if progress is not None:
                progress(f"tier {tier_now[0]}", done=len(cache), total=len(planned),
                         detail=f"Remez ({n}, {m}), {k} squarings")
            try:
                cache[n, m, k] = remez(t, interval, n, m, error, k, dps=dps, tol=1e-6)
            except (DivergenceError, ZeroDivisionError, EngineError):
                cache[n, m, k] = None
        return cache[n, m, k]

    found: list[Baseline] = []
    plan: list[tuple[str, str, int, int, int]] = []
    planned: set[tuple[int, int, int]] = set()  # the distinct Remez fits (for progress)
    tier_now = ["A"]

    def fits(form: str, n: int, m: int, k: int) -> bool:
        ops = (horner_ops(n, m) if form == "horner" else cf_ops(n, m)) + k
        return 1 <= ops <= max_ops

    def consider(tier: str, form: str, n: int, m: int, k: int) -> None:
        if fits(form, n, m, k):
            plan.append((tier, form, n, m, k))
            planned.add((n, m, k))

    def run(tier: str, form: str, n: int, m: int, k: int) -> None:
        ops = (horner_ops(n, m) if form == "horner" else cf_ops(n, m)) + k
        tier_now[0] = tier
        a = get(n, m, k)
        if a is None:
            return
        if form == "cf":
            try:
                a.program("cf")
            except DivergenceError:
                return
        found.append(Baseline(tier, ops, a.max_error, form, a))

    positive = t.is_positive_on(float(interval[0]), float(interval[1]))
    for tier in tiers:
        if tier == "A":
            for n in range(1, max_ops // 2 + 1):
                consider("A", "horner", n, 0, 0)
            for m in range(1, max_ops // 2 + 1):
                for n in range(max(m - 1, 0), m + 3):
                    consider("A", "horner", n, m, 0)
        elif tier in ("B", "C"):
            ks = [0] + (list(range(1, max_squarings + 1)) if tier == "C" and positive else [])
            for k in ks:
                for m in range(1, max_ops // 3 + 1):
                    for n in range(max(m - 1, 0), m + (3 if tier == "B" else 2)):
                        consider(tier, "cf", n, m, k)
                if tier == "C":
                    for n in range(1, max_ops // 2 + 1):
                        consider("C", "horner", n, 0, k)
        else:
            raise ValueError(f"unknown tier {tier!r}; use A, B, C")
    for step in plan:
        run(*step)
    out = []
    for tier in tiers:
        rows = sorted((r for r in found if r.tier == tier), key=lambda r: (r.ops, r.max_error))
        best = float("inf")
        for r in rows:
            if r.max_error < best:
                out.append(r)
                best = r.max_error
    return out
