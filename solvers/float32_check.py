"""Exhaustive float32 accuracy checks, and float32 polynomials fitted for float32 evaluation.

:func:`exhaustive_ulp` evaluates a :class:`~solvers.programs.Program` in float32 (every
operation correctly rounded, FMA rounded once) at EVERY float32 input of ``[a, b)`` -- about
1.07e9 inputs for ``[0, 1)`` -- in parallel with numba, and reports the largest error in units
in the last place (ULP) of the exact result. A sample of 10^4 points misses the worst case.

The reference is the target evaluated in float64 by the C library (error about 1 float64 ulp,
i.e. ~1e-9 float32 ULP); the worst input found is then re-measured against a 50-digit mpmath
reference (:attr:`UlpReport.max_ulp_exact`).

ULP convention: ``ulp(y) = 2^(e - 23)`` for ``2^e <= |y| < 2^(e+1)`` (``2^-149`` below the
normal range), taken at the exact value ``y = f(x)``; the error is ``|fl(p(x)) - f(x)| / ulp``.

:func:`fit_float32_polynomial` fits float32 coefficients for a given evaluation scheme (Horner
with or without FMA): a weighted minimax fit in float64, coefficients rounded one at a time from
the constant term up with the remaining ones re-fitted to absorb the rounding (a greedy version
of Brisebarre-Chevillard / Sollya's ``fpminimax``), then a local search over +-1..2 float32
steps of each coefficient on the float32-evaluated error of a large sample.

Examples
--------
>>> from solvers.programs import Program
>>> p = Program.build(lambda x: x * 2.0)
>>> r = exhaustive_ulp(p, "2*x", (1.0, 1.0009765625))
>>> r.max_ulp, r.points
(0.0, 8192)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import numba
import numpy as np

from solvers.jit import njit
from solvers.programs import (
    Program,
    ProgramBuilder,
    Target,
    _run32,
    _run64,
    parse_target,
)

__all__ = [
    "UlpReport",
    "float32_ranges",
    "count_float32",
    "exhaustive_ulp",
    "ulp32",
    "ulp_errors",
    "horner_float32",
    "fit_float32_polynomial",
]

_JIT = {"error_model": "numpy", "nogil": True}


def _bits(v: float) -> int:
    return int(np.array([v], dtype=np.float32).view(np.uint32)[0])


def float32_ranges(a: float, b: float) -> list[tuple[int, int, bool]]:
    """Bit-pattern ranges ``[start, stop)`` of the float32 magnitudes of ``[a, b)``, with a
    flag ``negative``; ``a`` and ``b`` must be float32 numbers.

    Examples
    --------
    >>> float32_ranges(0.0, 1.0)
    [(0, 1065353216, False)]
    >>> float32_ranges(-1.0, 0.0)
    [(1, 1065353217, True)]
    """
    a, b = float(a), float(b)
    for v in (a, b):
        if float(np.float32(v)) != v:
            raise ValueError(f"interval endpoint {v!r} is not a float32 number")
    if not a < b:
        raise ValueError(f"empty interval [{a}, {b})")
    out = []
    if a < 0:
        # negative x in [a, min(b, 0)): magnitudes in (|min(b,0)|, |a|]
        hi = min(b, 0.0)
        out.append((_bits(-hi) + 1 if hi < 0 else 1, _bits(-a) + 1, True))
    if b > 0:
        lo = max(a, 0.0)
        out.append((_bits(lo), _bits(b), False))
    return [r for r in out if r[1] > r[0]]


def count_float32(a: float, b: float) -> int:
    """Number of float32 numbers in ``[a, b)`` (counting 0 once, -0 not at all).

    Examples
    --------
    >>> count_float32(0.0, 1.0)
    1065353216
    """
    return sum(stop - start for start, stop, _ in float32_ranges(a, b))


@njit(inline="always", **_JIT)
def _ulp_of(r):  # pragma: no cover - compiled
    if r == 0.0:
        return 2.0**-149
    e = math.frexp(abs(r))[1]
    return math.ldexp(1.0, max(e - 24, -149))


@njit(parallel=True, **_JIT)
def _scan(code, consts, tcode, tconsts, start, stop, negative, chunk):  # pragma: no cover
    total = stop - start
    nch = (total + chunk - 1) // chunk
    worst = np.zeros(nch)
    where = np.zeros(nch, dtype=np.int64)
    over = np.zeros(nch, dtype=np.int64)
    n = code.shape[0]
    nt = tcode.shape[0]
    for ci in numba.prange(nch):
        s = start + ci * chunk
        m = min(chunk, stop - s)
        bits = np.empty(m, np.uint32)
        for i in range(m):
            bits[i] = np.uint32(s + i)
        xs = bits.view(np.float32).copy()
        if negative:
            for i in range(m):
                xs[i] = -xs[i]
        regs = np.empty((n, m), np.float32)
        _run32(code, consts, xs, regs)
        xs64 = np.empty(m)
        for i in range(m):
            xs64[i] = np.float64(xs[i])
        tregs = np.empty((nt, m))
        _run64(tcode, tconsts, xs64, tregs)
        w = 0.0
        wi = 0
        cnt = 0
        for i in range(m):
            r = tregs[nt - 1, i]
            y = np.float64(regs[n - 1, i])
            e = abs(y - r) / _ulp_of(r)
            if not (e <= 1e300):
                e = math.inf
            if e > 1.0:
                cnt += 1
            if e > w:
                w = e
                wi = i
        worst[ci] = w
        where[ci] = s + wi
        over[ci] = cnt
    return worst, where, over


@dataclass(frozen=True)
class UlpReport:
    """Result of an exhaustive float32 check.

    Attributes
    ----------
    max_ulp : float
        Largest error in ULPs over all float32 inputs of the interval (float64 reference).
    argmax : float
        The float32 input where it occurs.
    max_ulp_exact : float
        The error at ``argmax`` re-measured against a 50-digit reference.
    points : int
        Number of inputs checked (all float32 numbers of ``[a, b)``).
    over_one : int
        Number of inputs with an error above 1 ULP.
    seconds : float
        Wall-clock time of the scan.
    fma : bool
        Whether the program uses fused multiply-adds.
    """

    max_ulp: float
    argmax: float
    max_ulp_exact: float
    points: int
    over_one: int
    seconds: float
    fma: bool

    def __repr__(self) -> str:
        return (f"UlpReport(max {self.max_ulp:.4f} ULP at x = {self.argmax!r} over all "
                f"{self.points} float32 inputs; {self.over_one} above 1 ULP; "
                f"{self.seconds:.1f} s)")

    def to_dict(self) -> dict:
        return {"max_ulp": self.max_ulp, "argmax": self.argmax,
                "max_ulp_exact": self.max_ulp_exact, "points": self.points,
                "over_one": self.over_one, "seconds": self.seconds, "fma": self.fma}


def _exact_ulp(program: Program, target: Target, x: float) -> float:
    ctx = mpmath.MPContext()
    ctx.dps = 50
    y = float(program_float32(program, np.array([x], dtype=np.float32))[0])
    r = target.evaluate_mp(ctx.mpf(x), ctx)
    if not ctx.isfinite(r) or not math.isfinite(y):
        return math.inf
    if r == 0:
        ulp = ctx.ldexp(1, -149)
    else:
        e = int(ctx.floor(ctx.log(abs(r), 2)))
        # guard the floor against rounding at exact powers of two
        if ctx.ldexp(1, e) > abs(r):
            e -= 1
        elif ctx.ldexp(1, e + 1) <= abs(r):
            e += 1
        ulp = ctx.ldexp(1, max(e - 23, -149))
    return float(abs(ctx.mpf(y) - r) / ulp)


def program_float32(program: Program, xs: np.ndarray) -> np.ndarray:
    """The program evaluated in float32 (correct rounding per operation)."""
    code, consts = program.compiled
    xs = np.ascontiguousarray(xs, dtype=np.float32)
    regs = np.empty((code.shape[0], xs.shape[0]), dtype=np.float32)
    _run32(code, consts, xs, regs)
    return regs[-1].copy()


def exhaustive_ulp(program: Program, target: str | Target, interval: tuple[float, float],
                   chunk: int = 1 << 16, *,
                   progress: Callable[..., None] | None = None) -> UlpReport:
    """Maximum float32 ULP error of ``program`` over every float32 input of ``[a, b)``.

    Parallel over chunks of ``chunk`` consecutive bit patterns (numba ``prange``; set
    ``NUMBA_NUM_THREADS`` to limit the threads). ``[0, 1)`` has 1,065,353,216 inputs.

    ``progress``, if given, is called as ``progress(stage, done=inputs_checked,
    total=inputs)`` before every block of ``256 * chunk`` inputs (and once before the
    50-digit recheck); the result does not depend on it.

    Examples
    --------
    >>> from solvers.programs import Program
    >>> r = exhaustive_ulp(Program.build(lambda x: x / 3.0), "x/3", (1.0, 2.0))
    >>> r.points, round(r.max_ulp, 6)  # correctly rounded; x/3 is k/3 ulp off a float32
    (8388608, 0.333333)
    """
    t = parse_target(target) if isinstance(target, str) else target
    a, b = float(interval[0]), float(interval[1])
    code, consts = program.compiled
    t0 = time.perf_counter()
    best, best_x, over, points = -1.0, math.nan, 0, 0
    ranges = float32_ranges(a, b)
    total = sum(stop - start for start, stop, _ in ranges)
    # blocks of whole chunks (the same chunks as one scan of the range: the same result),
    # large enough to keep every thread busy
    block = int(chunk) * 256
    stage = f"checking every float32 input of [{a:g}, {b:g})"
    for start, stop, negative in ranges:
        for lo in range(start, stop, block):
            if progress is not None:
                progress(stage, done=points, total=total)
            hi = min(lo + block, stop)
            worst, where, cnt = _scan(code, consts, t.code, t.consts64, lo, hi, negative,
                                      int(chunk))
            points += hi - lo
            over += int(cnt.sum())
            k = int(np.argmax(worst))
            if worst[k] > best:
                best = float(worst[k])
                v = float(np.array([where[k]], dtype=np.uint32).view(np.float32)[0])
                best_x = -v if negative else v
    seconds = time.perf_counter() - t0
    if progress is not None:
        progress("re-measuring the worst input against a 50-digit reference")
    exact = _exact_ulp(program, t, best_x) if math.isfinite(best_x) else math.nan
    return UlpReport(best, best_x, exact, points, over, seconds, program.uses_fma)


def ulp32(r: np.ndarray) -> np.ndarray:
    """float32 ULP of exact values ``r`` (float64 array).

    Examples
    --------
    >>> ulp32(np.array([1.0, 1.5, 0.75])) * 2**24
    array([2., 2., 1.])
    """
    r = np.abs(np.asarray(r, dtype=np.float64))
    _, e = np.frexp(r)
    out = np.ldexp(1.0, np.maximum(e - 24, -149))
    out[r == 0] = 2.0**-149
    return out


def ulp_errors(program: Program, target: str | Target, xs32: np.ndarray) -> np.ndarray:
    """ULP errors of the float32 evaluation at the float32 points ``xs32``."""
    t = parse_target(target) if isinstance(target, str) else target
    xs32 = np.ascontiguousarray(xs32, dtype=np.float32)
    y = program_float32(program, xs32).astype(np.float64)
    r = t.evaluate64(xs32.astype(np.float64))
    return np.abs(y - r) / ulp32(r)


def horner_float32(coeffs: Sequence[float], fma: bool = True) -> Program:
    """Horner program ``c0 + x*(c1 + x*(...))`` with float32 coefficients.

    With ``fma`` each step is one fused multiply-add (``n`` ops); without, ``2n`` ops.

    Examples
    --------
    >>> horner_float32([1.0, 0.5, 0.25])
    Program(f = fma(fma(0.25, x, 0.5), x, 1))
    >>> horner_float32([1.0, 0.5, 0.25], fma=False).cost
    4
    """
    c = [float(np.float32(v)) for v in coeffs]
    b = ProgramBuilder()
    x = b.x
    r: Any = b.const(c[-1])
    for v in reversed(c[:-1]):
        r = b.fma(r, x, v) if fma else b.add(b.mul(r, x), v)
    return b.program(r)


def _lawson(B: np.ndarray, y: np.ndarray, w: np.ndarray, iters: int = 300) -> np.ndarray:
    """Discrete weighted minimax ``min_c max_i w_i |B c - y|_i`` by Lawson's iteration."""
    u = np.full(len(y), 1.0 / len(y))
    c = np.zeros(B.shape[1])
    scale = np.max(np.abs(B), axis=0)
    Bs = B / scale
    for _ in range(iters):
        sq = np.sqrt(u) * w
        c, *_ = np.linalg.lstsq(Bs * sq[:, None], y * sq, rcond=None)
        r = np.abs(Bs @ c - y) * w
        s = float(np.sum(u * r))
        if s == 0:
            break
        u = u * r / s
    return c / scale


def _neighbours(v: float, k: int) -> list[float]:
    f = np.float32(v)
    out = {float(f)}
    up = dn = f
    for _ in range(k):
        up = np.nextafter(up, np.float32(np.inf))
        dn = np.nextafter(dn, np.float32(-np.inf))
        out.update((float(up), float(dn)))
    return sorted(out, key=lambda t: abs(t - v))


def fit_float32_polynomial(target: str | Target, interval: tuple[float, float], degree: int,
                           fma: bool = True, sample: int = 1 << 20, rounds: int = 3,
                           seed: int = 0, *, progress: Callable[..., None] | None = None
                           ) -> tuple[Program, float]:
    """float32 coefficients of a degree-``degree`` polynomial for float32 Horner evaluation.

    Returns the program and the largest ULP error on the random float32 sample (``sample``
    points, uniform in x) used for the local search; check it with :func:`exhaustive_ulp`.
    ``progress``, if given, is called as ``progress(stage, done=..., total=...)`` per
    coefficient rounded and per local-search round (the result does not depend on it).

    Examples
    --------
    >>> p, e = fit_float32_polynomial("2^x", (0.0, 1.0), 3, sample=1 << 14, rounds=1)
    >>> p.cost, 800 < e < 1000  # a cubic is ~1e-4 away from 2^x: about 900 ULP
    (3, True)
    """
    t = parse_target(target) if isinstance(target, str) else target
    a, b = float(interval[0]), float(interval[1])
    rng = np.random.default_rng(seed)
    # 1. greedy rounding from the constant term up, re-fitting the remaining coefficients by
    #    weighted discrete minimax (weight 1/ulp of the exact value) on a uniform grid
    xg = np.linspace(a, b, 4001)
    fg = t.evaluate64(xg)
    wg = 1.0 / ulp32(fg)
    V = np.vander(xg, degree + 1, increasing=True)
    fixed: list[float] = []
    for k in range(degree + 1):
        if progress is not None:
            progress("fitting float32 coefficients", done=k, total=degree + 1)
        resid = fg - (V[:, :k] @ np.array(fixed) if fixed else 0.0)
        c = _lawson(V[:, k:], resid, wg)
        best = None
        for o in _neighbours(c[0], 1):
            r2 = resid - o * V[:, k]
            if k < degree:
                c2 = _lawson(V[:, k + 1 :], r2, wg, iters=150)
                err = float(np.max(np.abs(V[:, k + 1 :] @ c2 - r2) * wg))
            else:
                err = float(np.max(np.abs(r2) * wg))
            if best is None or err < best[0]:
                best = (err, o)
        fixed.append(best[1])
    coeffs = fixed
    # 2. local search on the float32-evaluated error of a random float32 sample
    xs32 = np.unique(rng.uniform(a, b, sample).astype(np.float32))
    xs32 = xs32[(xs32 >= a) & (xs32 < b)]

    def score(cs: list[float]) -> float:
        return float(np.max(ulp_errors(horner_float32(cs, fma), t, xs32)))

    cur = score(coeffs)
    for rnd in range(rounds):
        if progress is not None:
            progress("local search on a float32 sample", done=rnd, total=rounds,
                     detail=f"max {cur:.4g} ULP on {xs32.size} inputs")
        improved = False
        for i in range(degree + 1):
            for o in _neighbours(coeffs[i], 2)[1:]:
                trial = list(coeffs)
                trial[i] = o
                s = score(trial)
                if s < cur:
                    cur, coeffs, improved = s, trial, True
        if not improved:
            break
    return horner_float32(coeffs, fma), cur
