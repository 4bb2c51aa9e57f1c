"""Error measurement of approximations against a target, on an interval.

* :func:`measure_error` -- the certified-style measure: the approximation and a >= 50-digit
  reference are both evaluated exactly (mpmath, local context) on a dense grid (>= 20000
  points), and the largest grid peaks are maximised locally by golden-section search;
* :func:`measure_float64_error` -- the error of the program *as evaluated in float64*
  (rounding included) on a very dense grid, the worst points rechecked at high precision;
* :func:`fit_grid` / :func:`grid_error` -- the cheap float64 grid that constant fitting
  minimises over.

Examples
--------
>>> from solvers.programs import Program
>>> m = measure_error(Program.build(lambda x: 1 + x), "exp(x)", (0, 0.001), error="absolute",
...                   grid=200)
>>> f"{m.max_error:.4e}"
'5.0017e-07'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import mpmath
import numpy as np

from solvers.errors import PrecisionError
from solvers.program_kernels import evaluate, evaluate_batch_max_error
from solvers.program_target import Target, parse_target

if TYPE_CHECKING:
    from solvers.programs import Program

__all__ = [
    "fit_grid",
    "grid_error",
    "ErrorMeasure",
    "measure_error",
    "measure_float64_error",
]


def _weights(f: np.ndarray, error: str) -> np.ndarray:
    if error == "absolute":
        return np.ones_like(f)
    if error == "relative":
        with np.errstate(divide="ignore"):
            w = 1.0 / np.abs(f)
        w[~np.isfinite(w)] = 0.0
        return w
    raise ValueError(f"error must be 'relative' or 'absolute', not {error!r}")


@lru_cache(maxsize=32)
def _fit_grid_cached(text: str, a: float, b: float, n: int, error: str):
    target = parse_target(text)
    # Chebyshev points of the second kind (dense at the ends, where extrema cluster) merged
    # with a uniform grid.
    k = np.arange(n // 2)
    cheb = (a + b) / 2 - (b - a) / 2 * np.cos(np.pi * k / max(n // 2 - 1, 1))
    uni = np.linspace(a, b, n - n // 2)
    xs = np.unique(np.clip(np.concatenate([cheb, uni]), a, b))
    ctx = mpmath.MPContext()
    ctx.dps = 30
    f = np.array([float(target.evaluate_mp(ctx.mpf(float(t)), ctx)) for t in xs])
    ok = np.isfinite(f)
    xs, f = xs[ok], f[ok]
    w = _weights(f, error)
    for arr in (xs, f, w):
        arr.setflags(write=False)
    return xs, f, w


def fit_grid(target: str | Target, interval: tuple[float, float], n: int = 1000,
             error: str = "relative") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points ``xs``, accurate target values ``f`` and error weights ``w`` (float64), for
    fitting: the weighted error of ``p`` is ``max |p(xs) - f| * w``.

    Examples
    --------
    >>> xs, f, w = fit_grid("2^x", (0, 1), 100)
    >>> len(xs) > 90, float(f[-1]), float(w[-1])
    (True, 2.0, 0.5)
    """
    t = parse_target(target) if isinstance(target, str) else target
    a, b = (float(v) for v in interval)
    if not a < b:
        raise ValueError(f"empty interval [{a}, {b}]")
    return _fit_grid_cached(t.text, a, b, int(n), error)


def grid_error(program: Program, target: str | Target, interval: tuple[float, float],
               error: str = "relative", n: int = 1000) -> float:
    """Max error of the program evaluated in float64 on the fitting grid (fast, approximate).

    Examples
    --------
    >>> from solvers.programs import Program
    >>> round(grid_error(Program.build(lambda x: 1 + 0.69 * x), "2^x", (0, 1)), 4)
    0.155
    """
    xs, f, w = fit_grid(target, interval, n, error)
    return float(evaluate_batch_max_error(program, np.array([program.constants]), xs, f, w)[0])


@dataclass(frozen=True)
class ErrorMeasure:
    """The measured maximum error of an approximation on an interval.

    Attributes
    ----------
    max_error : float
        The largest error found (relative or absolute).
    argmax : float
        Where it occurs.
    error : str
        ``"relative"`` or ``"absolute"``.
    grid : int
        Number of grid points (before local maximisation).
    dps : int
        Working precision (decimal digits) of the reference and of the evaluation.
    refined : int
        Number of grid peaks maximised locally by golden-section search.
    """

    max_error: float
    argmax: float
    error: str
    grid: int
    dps: int
    refined: int

    def __repr__(self) -> str:
        return (f"ErrorMeasure(max {self.error} error {self.max_error:.4g} at x = "
                f"{self.argmax:.6g}; grid {self.grid}, {self.dps} digits)")


def _target_context(target: str | Target, interval: tuple[Any, Any],
                    dps: int) -> tuple[Target, mpmath.MPContext, Any, Any]:
    """The target (parsed if it is text), a local context at ``dps`` digits and the ends of
    ``interval`` in it."""
    t = parse_target(target) if isinstance(target, str) else target
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return t, ctx, ctx.mpf(interval[0]), ctx.mpf(interval[1])


@lru_cache(maxsize=16)
def _reference_grid(text: str, a: str, b: str, n: int, dps: int) -> tuple:
    ctx = mpmath.MPContext()
    ctx.dps = dps
    t = parse_target(text)
    lo, hi = ctx.mpf(a), ctx.mpf(b)
    xs = [lo + (hi - lo) * i / (n - 1) for i in range(n)]
    return tuple(xs), tuple(t.evaluate_mp(x, ctx) for x in xs)


def measure_error(approx: Any, target: str | Target, interval: tuple[Any, Any],
                  error: str = "relative", dps: int = 50, grid: int = 20000,
                  refine: int = 12) -> ErrorMeasure:
    """Maximum error of ``approx`` against ``target`` on ``[a, b]``, in exact arithmetic.

    Both the target (the >= 50-digit reference) and ``approx`` (anything with
    ``evaluate_mp(x, ctx)``: a :class:`Program`, a baseline approximation) are evaluated in a
    local mpmath context at ``dps`` digits on ``grid`` equispaced points; then the ``refine``
    largest local maxima of the error on the grid are maximised by golden-section search in
    their neighbouring grid cells.

    Raises
    ------
    PrecisionError
        If ``dps`` is below 20 (the error of a good approximation would drown in rounding).

    Examples
    --------
    >>> from solvers.programs import Program
    >>> p = Program.build(lambda x: 1 + x * (0.6951 + x * 0.3049))  # 2^(1/2) is 1.41421...
    >>> m = measure_error(p, "2^x", (0, 1), grid=2000)
    >>> round(m.max_error, 5), round(m.argmax, 3)
    (0.00735, 0.621)
    """
    if dps < 20:
        raise PrecisionError(f"measure_error needs at least 20 digits, got {dps}")
    if grid < 3:
        raise ValueError("grid must have at least 3 points")
    t, ctx, a, b = _target_context(target, interval, dps)
    xs, fs = _reference_grid(t.text, mpmath.nstr(a, dps + 5), mpmath.nstr(b, dps + 5),
                             int(grid), int(dps))

    def err_at(x: Any, fx: Any = None) -> Any:
        fx = t.evaluate_mp(x, ctx) if fx is None else fx
        y = approx.evaluate_mp(x, ctx)
        if not ctx.isfinite(y) or not ctx.isfinite(fx):
            return ctx.inf
        d = abs(y - fx)
        if error == "relative":
            if fx == 0:
                return ctx.zero if d == 0 else ctx.inf
            return d / abs(fx)
        if error != "absolute":
            raise ValueError(f"error must be 'relative' or 'absolute', not {error!r}")
        return d

    errs = [err_at(x, fx) for x, fx in zip(xs, fs, strict=True)]
    n = len(errs)
    peaks = [i for i in range(n) if (i == 0 or errs[i] >= errs[i - 1])
             and (i == n - 1 or errs[i] >= errs[i + 1])]
    peaks.sort(key=lambda i: errs[i], reverse=True)
    best_i = max(range(n), key=lambda i: errs[i])
    best_e, best_x = errs[best_i], xs[best_i]
    refined = 0
    for i in peaks[:refine]:
        if not ctx.isfinite(errs[i]):
            break
        lo, hi = xs[max(i - 1, 0)], xs[min(i + 1, n - 1)]
        x, e = _golden_max(err_at, lo, hi, ctx)
        refined += 1
        if e > best_e:
            best_e, best_x = e, x
    return ErrorMeasure(float(best_e), float(best_x), error, n, dps, refined)


def _golden_max(fn: Callable[[Any], Any], lo: Any, hi: Any, ctx: Any, iters: int = 60):
    """Golden-section maximisation of ``fn`` on ``[lo, hi]`` (endpoints included)."""
    g = (ctx.sqrt(5) - 1) / 2
    c, d = hi - g * (hi - lo), lo + g * (hi - lo)
    fc, fd = fn(c), fn(d)
    best = max([(fn(lo), lo), (fn(hi), hi), (fc, c), (fd, d)], key=lambda t: t[0])
    for _ in range(iters):
        if fc > fd:
            hi, d, fd = d, c, fc
            c = hi - g * (hi - lo)
            fc = fn(c)
            if fc > best[0]:
                best = (fc, c)
        else:
            lo, c, fc = c, d, fd
            d = lo + g * (hi - lo)
            fd = fn(d)
            if fd > best[0]:
                best = (fd, d)
        if hi - lo <= ctx.eps * (abs(lo) + abs(hi) + 1):
            break
    return best[1], best[0]


def measure_float64_error(program: Program, target: str | Target, interval: tuple[float, float],
                          error: str = "relative", points: int = 2_000_001, recheck: int = 64,
                          dps: int = 40) -> ErrorMeasure:
    """Max error of the program *evaluated in float64* (rounding included) on a dense grid.

    The float64 values of the program at ``points`` equispaced inputs are compared with a
    float64 reference to find the ``recheck`` worst inputs, whose errors are then recomputed
    against a ``dps``-digit reference (the float64 result itself is exact input there).

    Examples
    --------
    >>> from solvers.programs import Program
    >>> p = Program.build(lambda x: x / 3.0)
    >>> measure_float64_error(p, "x/3", (1, 2), points=1001).max_error < 1.2e-16
    True
    """
    t = parse_target(target) if isinstance(target, str) else target
    a, b = float(interval[0]), float(interval[1])
    xs = np.linspace(a, b, int(points))
    y = evaluate(program, xs)
    ref = t.evaluate64(xs)
    with np.errstate(divide="ignore", invalid="ignore"):
        err = np.abs(y - ref) / (np.abs(ref) if error == "relative" else 1.0)
    err = np.where(np.isfinite(err), err, np.inf)
    ctx = mpmath.MPContext()
    ctx.dps = dps
    best, best_x = -1.0, math.nan
    for i in np.argsort(err)[-int(recheck):]:
        x = ctx.mpf(float(xs[i]))
        fx = t.evaluate_mp(x, ctx)
        d = abs(ctx.mpf(float(y[i])) - fx) if math.isfinite(y[i]) else ctx.inf
        e = float(d / abs(fx)) if error == "relative" and fx != 0 else float(d)
        if e > best:
            best, best_x = e, float(xs[i])
    return ErrorMeasure(best, best_x, error, int(points), dps, 0)
