"""Blind-δ: the convergence dynamics of every polynomial continued fraction of a domain.

After Shalyt, Seligmann, Beit Halachmi, David, Elimelech and Kaminer, "Unsupervised Discovery
of Formulas for Mathematical Constants" (NeurIPS 2024, arXiv:2412.16818; public code in the
GitHub repository RamanujanMachine/Blind-Delta-Algorithm). Instead of matching a numerical
value, describe each PCF ``a(0) + b(1)/(a(1) + b(2)/(a(2) + ...))`` by numbers that measure
*how* it converges, computed "blind" (without knowing the constant it converges to), and
cluster the whole domain by them.

Conventions
-----------
``p_n``, ``q_n`` are the convergents of :mod:`solvers.continued_fractions`:
``p_n = a(n) p_{n-1} + b(n) p_{n-2}``, ``q_n = a(n) q_{n-1} + b(n) q_{n-2}``,
``p_{-1} = 1, p_0 = a(0), q_{-1} = 0, q_0 = 1``, and ``x_n = p_n/q_n``. Logarithms in the
fitted models are natural; "digits" are decimal. ``N`` is the depth (default 2000) and
``H = N // 2``. The metrics of converging PCFs are computed from exact integers (gmpy2); for
PCFs the float pre-pass (:func:`prepass`) finds far from converging, the status, ``digits``,
``rate`` and ``limit_float`` are the pre-pass's.

The determinant identity ``p_n q_{n-1} - p_{n-1} q_n = (-1)^(n+1) b(1) ... b(n)`` gives the
*error estimate* ``E(n) = log10|x_n - x_{n-1}| = sum_{j<=n} log10|b(j)| - log10|q_n q_{n-1}|``
without any cancellation.

The metrics of one PCF (the keys of the row dict, the storage schema):

``a``, ``b``
    Coefficient tuples, ascending powers.
``status``, ``reason``
    ``"terminates"``: ``b(k) = 0`` for some ``1 <= k <= N`` (the fraction is finite and its
    value, ``x_{k-1}``, is rational). ``"converges"``: ``E(N) <= -10`` and
    ``E(H) - E(N) >= 3`` (at least ten decimal places agree and the second half of the depth
    gained at least three more; this makes the depth-``N`` limit a far better reference than
    the convergents the fits use). ``"diverges"``, tested in this order on the tail
    ``(H, N]`` (diagnostics of the float pre-pass, :func:`prepass`): some ``q_n = 0``
    (periodic fractions such as ``PCF(1, -1)``); the convergents grow without limit
    (``|x_N| >= 10^3`` and ``|x_N| >= 10 |x_H|``: ``q_n`` is a minimal solution); ``q_n``
    changes sign irregularly (in more than 2% and less than 98% of the steps: complex
    characteristic roots of equal modulus, so no minimal solution and, by Pincherle's theorem,
    no limit); consecutive convergents still differ by at least 1 somewhere (oscillation).
    ``"unknown"``: anything else ("too slow to tell": the convergents approach each other too
    slowly to call at this depth, typically polynomial convergence such as Brouncker's
    fraction ``PCF(2, (2n-1)^2)``). ``reason`` says which test decided and with what numbers.
    With these rules the default domain has 1,543,924 converging PCFs; the paper reports
    1,543,926.
``limit``
    ``x_N`` as text with at most 40 significant digits, no more than the error estimate
    supports (one guard digit dropped); the exact rational value for ``"terminates"``; ``None``
    otherwise.
``limit_float``
    ``x_N`` as a float (also for ``"unknown"``, as a best guess); the value for
    ``"terminates"``.
``digits``
    ``-E(N)``: decimal places on which the last two convergents agree (``inf`` for an exact
    terminating value).
``delta_naive``, ``delta``
    δ of the convergent at depth ``H``, from ``|L - x_H| = q^-(1 + δ)`` with ``L = x_N``
    (exactly: ``|L - x_H| = |p_N q_H - p_H q_N| / |q_N q_H|``), and ``q = |q_H|``
    (naive) or ``q = |q_H| / gcd(p_H, q_H)`` (reduced). δ = 1 for the golden ratio (an
    irrationality exponent 2); the same normalisation as
    :func:`solvers.continued_fractions.irrationality_measure`.
``c``, ``d``
    Least-squares fit ``ln(|q_n| / gcd(p_n, q_n)) ~ c n + d n ln n`` (no intercept, as in the
    paper) over the fit depths: ``samples`` depths evenly spaced in ``[N/10, H]``.
``eig_ratio``, ``delta_predicted``
    ``|λ_1/λ_2| >= 1`` for the roots of ``x^2 - a(n) x - b(n)`` at ``n = eig_n`` (default
    10^9, the public code's stand-in for infinity); ``1`` for complex-conjugate roots. The
    prediction is the public code's: ``n ln|λ_1/λ_2| / (c n + d n ln n) - 1`` at
    ``n = eig_n``, ``NaN`` for complex roots.
``beta``, ``gamma``, ``eta``
    Least-squares fit ``ln|L - x_n| ~ β ln n + γ n + η n ln n`` over the fit depths, with
    ``L = x_N`` (exact differences as above).
``rate``
    Digits per term, ``(E(H) - E(N)) / (N - H)``.
``depth``
    ``N``.

Floats are ``NaN`` where undefined (all fitted metrics of non-converging PCFs).
``eig_ratio`` depends only on the coefficients and is given for every PCF that does not
terminate.

Where this differs from the public code (``blind_delta.py`` there): δ is taken against the
depth-``N`` limit from exact integer differences rather than a 10^5-bit float division; the
fits use ``samples`` evenly spaced depths in ``[N/10, N/2]`` by linear least squares instead of
five depths ``6, N/16, N/8, N/4, N/2`` by ``curve_fit``, and ``d`` is never forced to 0; the
gcd is taken at the fit depths only (``p_n, q_n`` at those depths come from a product tree,
not from a step-by-step loop); ``status`` replaces the public code's "``|x_N| < 1000``" test.
The public code's lists start at ``p_{-1}``, so its "depth 2000" is ``p_1999`` and its δ is
that of ``p_999``; here ``x_N`` is the convergent after ``N`` levels and δ is that of ``x_H``.

Symmetry: ``PCF(-a, b)`` has ``p'_n = (-1)^(n+1) p_n`` and ``q'_n = (-1)^n q_n`` (induction on
the recurrence), so its limit is ``-L`` and ``|p'_n|, |q'_n|``, the gcds, ``E(n)`` and every
metric other than the limit are those of ``PCF(a, b)``; so is ``eig_ratio`` (the roots
change sign). :func:`dynamics` and :func:`dynamics_batch` compute the *canonical* member of
each pair (the leading coefficient of ``a`` positive) and negate the limit for the other.

Examples
--------
>>> r = dynamics((1, 2, 0), (0, 0, 1), depth=400)     # PCF(2n+1, n^2) = 4/pi
>>> r["status"], r["limit"][:12]
('converges', '1.2732395447')
>>> domain_size()
1768900
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import gmpy2
import mpmath
import numpy as np
from gmpy2 import mpz

from solvers.continued_fractions import Matrix, _mul, _product, log10_abs, ratio_to_mpf
from solvers.jit import njit

__all__ = [
    "ROW_KEYS",
    "PREPASS_COLUMNS",
    "domain_size",
    "domain",
    "canonical",
    "prepass",
    "dynamics",
    "dynamics_batch",
]

#: Keys of a row dict, in the storage layer's column order.
ROW_KEYS = ("a", "b", "status", "reason", "limit", "limit_float", "digits", "delta_naive",
            "delta", "c", "d", "eig_ratio", "delta_predicted", "beta", "gamma", "eta", "rate",
            "depth")

#: Columns of the array :func:`prepass` returns (see its docstring).
PREPASS_COLUMNS = ("term", "E_N", "E_H", "E_max_tail", "zeros_tail", "flips_tail", "x_N",
                   "lx_N", "lx_H", "rate")

_LN10 = math.log(10.0)
_CONVERGE_DIGITS = 10.0      # E(N) <= -10 ...
_CONVERGE_GAIN = 3.0         # ... and E(H) - E(N) >= 3 for "converges"
_EXACT_MARGIN = 2.0          # rows this close to the test also go to the exact pass
_LIMIT_DIGITS = 40
_JIT = {"error_model": "numpy", "nogil": True}
_BIG = 2.0**400              # the float pre-pass rescales by 2^400 ...
_SMALL = 2.0**-400           # ... and back
_CTX = mpmath.MPContext()    # read-only after this line: 60 digits for limits and their floats
_CTX.dps = _LIMIT_DIGITS + 20


# --------------------------------------------------------------------------- the domain


def _side(degree: int, coeff: int) -> int:
    return (2 * coeff + 1) ** (degree + 1) - 1


def domain_size(a_degree: int = 2, b_degree: int = 2, coeff: int = 5) -> int:
    """Number of PCFs ``(a, b)`` with ``deg a <= a_degree``, ``deg b <= b_degree``, integer
    coefficients in ``[-coeff, coeff]``, ``a != 0`` and ``b != 0``.

    Parameters
    ----------
    a_degree, b_degree : int
        Maximal degrees of ``a`` and ``b``.
    coeff : int
        Coefficient bound.

    Returns
    -------
    int
        ``((2 coeff + 1)^(a_degree + 1) - 1) ((2 coeff + 1)^(b_degree + 1) - 1)``.

    Examples
    --------
    >>> domain_size()        # the paper's domain: 1330 * 1330
    1768900
    >>> domain_size(0, 1, 1)
    16
    """
    if min(a_degree, b_degree) < 0 or coeff < 0:
        raise ValueError("degrees and coeff must be >= 0")
    return _side(a_degree, coeff) * _side(b_degree, coeff)


def domain(a_degree: int = 2, b_degree: int = 2, coeff: int = 5, start: int = 0,
           stop: int | None = None) -> np.ndarray:
    """Rows ``start`` to ``stop`` (exclusive) of the domain of :func:`domain_size`.

    A row is ``(A_0, ..., A_{a_degree}, B_0, ..., B_{b_degree})`` (ascending powers, ``a``
    then ``b``). The order pairs each PCF with its mirror image: rows ``2j`` and ``2j + 1`` are
    ``(a, b)`` and ``(-a, b)``, where ``a`` has a positive leading coefficient, so any chunk of
    even length starting at an even index holds whole pairs (:func:`dynamics_batch` computes
    each pair once). Equivalently::

        for a in A:                   # positive leading coefficient, lexicographic in
            for b in B:               #   (A_{a_degree}, ..., A_0); B: b != 0, lexicographic
                yield a + b           #   in (B_{b_degree}, ..., B_0)
                yield -a + b

    Row ``i`` is computed directly (mixed-radix digits of ``i``), so any index range comes
    without the rest.

    Parameters
    ----------
    a_degree, b_degree : int
        Maximal degrees of ``a`` and ``b``.
    coeff : int
        Coefficients lie in ``[-coeff, coeff]``.
    start, stop : int
        Index range; ``stop`` defaults to the domain size.

    Returns
    -------
    numpy.ndarray
        ``int64`` array of shape ``(stop - start, a_degree + b_degree + 2)``.

    Examples
    --------
    >>> domain(0, 1, 1).tolist()[:6]        # a = 1, -1; b = -1 - n, -n, 1 - n, ...
    [[1, -1, -1], [-1, -1, -1], [1, 0, -1], [-1, 0, -1], [1, 1, -1], [-1, 1, -1]]
    >>> domain(start=1_768_898).tolist()     # the last pair: a = 5n^2 + 5n + 5, b = the same
    [[5, 5, 5, 5, 5, 5], [-5, -5, -5, 5, 5, 5]]
    """
    total = domain_size(a_degree, b_degree, coeff)
    stop = total if stop is None else stop
    if not 0 <= start <= stop <= total:
        raise ValueError(f"need 0 <= start <= stop <= {total}, got [{start}, {stop})")
    base = 2 * coeff + 1
    ta, tb = _side(a_degree, coeff), _side(b_degree, coeff)
    idx = np.arange(start, stop, dtype=np.int64)
    pair, neg = idx // 2, idx % 2
    # In the full product order with the leading coefficient as the most significant digit,
    # the zero tuple sits in the middle (rank T/2), the tuples after it are those with a
    # positive leading coefficient, and rank r and T - r are negatives of each other.
    full = {"a": pair // tb + ta // 2 + 1, "b": pair % tb}
    full["b"] = full["b"] + (full["b"] >= tb // 2)
    out = np.empty((stop - start, a_degree + b_degree + 2), dtype=np.int64)
    col = 0
    for name, degree in (("a", a_degree), ("b", b_degree)):
        for k in range(degree + 1):   # the coefficient of n^k is digit k
            out[:, col + k] = (full[name] // base**k) % base - coeff
        col += degree + 1
    out[:, :a_degree + 1] *= np.where(neg == 1, -1, 1)[:, None]
    return out


def canonical(a: Sequence[int], b: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    """The member of ``{PCF(a, b), PCF(-a, b)}`` whose ``a`` has a positive leading
    coefficient, and the sign ``s`` with ``limit(a, b) = s * limit(canonical)``.

    Parameters
    ----------
    a, b : sequence of int
        Coefficients, ascending powers; ``a`` must not be zero.

    Returns
    -------
    tuple
        ``(a', b, s)`` with ``a' = s a``, ``s = +1`` or ``-1``.

    Examples
    --------
    >>> canonical((1, -2, 0), (0, 0, 1))
    ((-1, 2, 0), (0, 0, 1), -1)
    """
    a, b = tuple(int(x) for x in a), tuple(int(x) for x in b)
    lead = next((x for x in reversed(a) if x), 0)
    if lead == 0:
        raise ValueError("a must not be the zero polynomial")
    return (a, b, 1) if lead > 0 else (tuple(-x for x in a), b, -1)


# --------------------------------------------------------------------------- float pre-pass


@njit(**_JIT)
def _horner(row, lo, hi, n):  # pragma: no cover - compiled
    v = 0.0
    for k in range(hi - 1, lo - 1, -1):
        v = v * n + row[k]
    return v


@njit(**_JIT)
def _first_root(row, lo, hi, depth):  # pragma: no cover - compiled
    # Least integer 1 <= r <= depth with b(r) = 0 (0 if none), exactly: a root r >= 1 of
    # n^s c(n) with c(0) != 0 divides c(0), so r <= |c(0)| and the values stay small.
    s = lo
    while s < hi and row[s] == 0:
        s += 1
    if s == hi:
        return 0
    for r in range(1, min(abs(row[s]), depth) + 1):
        v = 0
        for k in range(hi - 1, lo - 1, -1):
            v = v * r + row[k]
        if v == 0:
            return r
    return 0


@njit(**_JIT)
def _log10_scaled(x, shifts):  # pragma: no cover - compiled
    # log10(|x| * 2^(400 shifts))
    if x == 0.0:
        return -np.inf
    return math.log10(abs(x)) + shifts * 120.41199826559248


@njit(**_JIT)
def _rescaled(x0, x1, shifts):  # pragma: no cover - compiled
    # (x0, x1) divided by 2^400 when one exceeds 2^400, multiplied by it when both are below
    # 2^-400 (and not both zero); shifts counts the net factors 2^400 divided out.
    mx = max(abs(x0), abs(x1))
    if mx > _BIG:
        return x0 * _SMALL, x1 * _SMALL, shifts + 1
    if mx < _SMALL and mx > 0.0:
        return x0 * _BIG, x1 * _BIG, shifts - 1
    return x0, x1, shifts


@njit(**_JIT)
def _prepass(rows, a_len, depth):  # pragma: no cover - compiled
    k, m = rows.shape
    out = np.full((k, 10), np.nan)
    half = depth // 2
    for r in range(k):
        term = _first_root(rows[r], a_len, m, depth)
        out[r, 0] = term
        if term:
            continue
        row = rows[r].astype(np.float64)
        # p and q are scaled separately (a minimal q must not underflow next to a huge p);
        # ip, iq, ib count the factors 2^400 divided out of (p_{n-1}, p_n), (q_{n-1}, q_n) and
        # of prod |b(j)|.
        p0, p1, q0, q1 = 1.0, _horner(row, 0, a_len, 0.0), 0.0, 1.0
        ip = 0
        iq = 0
        prodb = 1.0
        ib = 0
        e_n = np.nan
        e_half = np.nan
        lx_half = np.nan
        e_max = -np.inf
        zeros = 0.0
        flips = 0.0
        for n in range(1, depth + 1):
            fn = float(n)
            an = _horner(row, 0, a_len, fn)
            bn = _horner(row, a_len, m, fn)
            q_prev = q1
            p0, p1 = p1, an * p1 + bn * p0
            q0, q1 = q1, an * q1 + bn * q0
            prodb *= abs(bn)
            if prodb > _BIG:
                prodb *= _SMALL
                ib += 1
            p0, p1, ip = _rescaled(p0, p1, ip)
            q0, q1, iq = _rescaled(q0, q1, iq)
            if n >= half:
                qq = q1 * q0
                if q1 == 0.0 or q0 == 0.0:
                    e_n = np.inf
                elif qq != 0.0 and abs(qq) > 1e-280:   # one logarithm, no underflow
                    e_n = math.log10(prodb / abs(qq)) + (ib - 2 * iq) * 120.41199826559248
                else:
                    e_n = (_log10_scaled(prodb, ib) - _log10_scaled(q1, iq)
                           - _log10_scaled(q0, iq))
                if n == half:
                    e_half = e_n
                    if q1 != 0.0:
                        lx_half = _log10_scaled(p1, ip) - _log10_scaled(q1, iq)
                else:
                    e_max = max(e_max, e_n)
                    if q1 == 0.0:
                        zeros += 1.0
                    elif q1 * q_prev < 0.0:
                        flips += 1.0
        out[r, 1] = e_n
        out[r, 2] = e_half
        out[r, 3] = e_max
        out[r, 4] = zeros
        out[r, 5] = flips
        if q1 != 0.0:
            lx = _log10_scaled(p1, ip) - _log10_scaled(q1, iq)
            out[r, 6] = math.ldexp(p1 / q1, 400 * (ip - iq)) if lx < 300 else np.inf
            out[r, 7] = lx
        out[r, 8] = lx_half
        out[r, 9] = (e_half - e_n) / (depth - half)
    return out


def _a_len(rows: np.ndarray, a_degree: int | None) -> int:
    m = rows.shape[1]
    if a_degree is None:
        if m % 2:
            raise ValueError(f"{m} coefficient columns: give a_degree to split them into a and b")
        return m // 2
    if not 0 <= a_degree <= m - 2:
        raise ValueError(f"a_degree {a_degree} does not fit rows of {m} columns")
    return a_degree + 1


def prepass(rows: np.ndarray, depth: int = 2000, a_degree: int | None = None) -> np.ndarray:
    """Float64 pass over many PCFs: terminating rows, error estimates, a float limit.

    The three-term recurrence runs in float64 for every row, dividing ``p_{n-1}, p_n, q_{n-1},
    q_n`` by ``2^400`` whenever one exceeds it (and multiplying back when all fall below
    ``2^-400``); ``E(n)`` comes from the determinant identity (module docstring), so it does not
    suffer from the cancellation in ``x_n - x_{n-1}``. It is a *filter*: it decides which rows
    the exact pass must see, never a reported metric of a converging row.

    Parameters
    ----------
    rows : numpy.ndarray
        ``(k, m)`` integer coefficient rows, ascending powers, ``a`` then ``b``.
    depth : int
        ``N``.
    a_degree : int, optional
        Degree bound of ``a`` (the first ``a_degree + 1`` columns); default ``m/2 - 1``.

    Returns
    -------
    numpy.ndarray
        ``(k, 10)`` float64, columns :data:`PREPASS_COLUMNS`:

        * ``term``: the least ``1 <= n <= N`` with ``b(n) = 0`` (exact), else 0; the other
          columns are NaN when it is not 0;
        * ``E_N``, ``E_H``: the error estimate ``E`` at ``N`` and ``H = N//2`` (``inf`` if a
          ``q`` vanishes);
        * ``E_max_tail``: the largest ``E(n)``, ``H < n <= N``;
        * ``zeros_tail``, ``flips_tail``: how often ``q_n = 0``, and ``q_n q_{n-1} < 0``, there;
        * ``x_N``: the float limit ``p_N/q_N``; ``lx_N``, ``lx_H``: ``log10|x_N|``, ``log10|x_H|``;
        * ``rate``: ``(E_H - E_N)/(N - H)``, digits per term.

        ``p`` and ``q`` are scaled separately, so a denominator that is tiny next to its
        numerator (a minimal solution; the convergents then grow without limit) stays exact
        in ``lx``.

    Examples
    --------
    >>> rows = np.array([[1, 1, 0], [1, -1, 0], [2, -1, 0], [2, -3, 1]])   # a; b0 + b1 n
    >>> out = prepass(rows, depth=100, a_degree=0)
    >>> out[:, 6].round(6).tolist()      # golden ratio; period 3; 1 + 1/(n+1) -> 1; terminates
    [1.618034, -0.0, 1.009901, nan]
    >>> out[1, 4], out[3, 0]             # q_n = 0 at 16 depths in (50, 100]; b(3) = 0
    (np.float64(16.0), np.float64(3.0))
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    if rows.ndim != 2:
        raise ValueError("rows must be a 2-D array")
    if depth < 20:
        raise ValueError(f"depth must be >= 20, got {depth}")
    return _prepass(rows, _a_len(rows, a_degree), int(depth))


# --------------------------------------------------------------------------- exact pass


def _values(coeffs: Sequence[int], depth: int) -> list[int]:
    """``c(0), ..., c(depth)`` exactly (int64 Horner when it cannot overflow)."""
    bound = sum(abs(int(c)) * depth**k for k, c in enumerate(coeffs))
    if bound < 2**62:
        n = np.arange(depth + 1, dtype=np.int64)
        v = np.zeros(depth + 1, dtype=np.int64)
        for c in reversed(coeffs):
            v = v * n + int(c)
        return v.tolist()
    out = []
    for n in range(depth + 1):
        v = 0
        for c in reversed(coeffs):
            v = v * n + int(c)
        out.append(v)
    return out


def _states(A: list[int], B: list[int], targets: Sequence[int]) -> list[Matrix]:
    """``(p_{t-1}, p_t, q_{t-1}, q_t)`` at each (increasing) target depth ``t``."""
    S: Matrix = (mpz(1), mpz(A[0]), mpz(0), mpz(1))
    out, prev = [], 0
    for t in targets:
        S = _mul(S, _product(A, B, prev + 1, t + 1))
        out.append(S)
        prev = t
    return out


def _fit_depths(depth: int, samples: int) -> list[int]:
    lo, hi = max(2, depth // 10), depth // 2
    return sorted({int(round(x)) for x in np.linspace(lo, hi, max(samples, 3))})


def _lstsq(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    ok = np.isfinite(y)
    if ok.sum() < X.shape[1] + 1:
        return np.full(X.shape[1], math.nan)
    return np.linalg.lstsq(X[ok], y[ok], rcond=None)[0]


def _limit_text(p: Any, q: Any, places: float) -> str | None:
    """``p/q`` with as many significant digits (<= 40) as ``places`` correct decimal places
    support, one guard digit dropped."""
    v = ratio_to_mpf(_CTX, p, q)
    if v == 0:
        return "0"
    if math.isinf(places):
        sig = _LIMIT_DIGITS
    else:
        sig = min(_LIMIT_DIGITS, math.floor(places + log10_abs(p) - log10_abs(q)) - 1)
    return _CTX.nstr(v, sig) if sig >= 1 else None


def _eig(a: Sequence[int], b: Sequence[int], n: int) -> tuple[float, bool]:
    """``|λ_1/λ_2| >= 1`` for the roots of ``x^2 - a(n) x - b(n)``, and whether they are
    complex (then the ratio is 1)."""
    A = sum(int(c) * n**k for k, c in enumerate(a))
    B = sum(int(c) * n**k for k, c in enumerate(b))
    D = A * A + 4 * B
    if D < 0:
        return 1.0, True
    if B == 0:
        return math.inf, False
    # Stable: the larger root from the formula, the smaller from λ_1 λ_2 = -B.
    big = (abs(float(A)) + math.sqrt(float(D))) / 2
    return big * big / abs(float(B)), False


def _log_b(B: list[int]) -> np.ndarray:
    """``sum_{j<=n} log10|b(j)|`` for ``n = 0..N`` (0 at ``n = 0``)."""
    lb = np.log10(np.abs(np.asarray(B[1:], dtype=np.float64)))
    return np.concatenate(([0.0], np.cumsum(lb)))


def _blank(a: tuple, b: tuple, depth: int) -> dict:
    row = dict.fromkeys(ROW_KEYS, math.nan)
    row.update(a=a, b=b, status="unknown", reason="", limit=None, depth=depth)
    return row


def _terminating(a: tuple, b: tuple, depth: int, k: int) -> dict:
    row = _blank(a, b, depth)
    A, B = _values(a, k - 1), _values(b, k - 1)
    p0, p, q0, q = _states(A, B, [k - 1])[0]
    row["status"] = "terminates"
    if q == 0:
        row["reason"] = f"b({k}) = 0 and q_{k - 1} = 0: the finite fraction is infinite"
        return row
    value = Fraction(int(p), int(q))
    text = str(value) if len(str(value)) <= 60 else f"a fraction of {len(str(value))} characters"
    row["reason"] = f"b({k}) = 0: the fraction is finite, = {text}"
    row["limit"] = _limit_text(p, q, math.inf)
    row["limit_float"] = float(value)
    row["digits"] = math.inf
    return row


def _classify(pre: np.ndarray, depth: int, e_n: float, e_h: float) -> tuple[str, str]:
    """Status and reason of a PCF that does not terminate, from the (exact or float) error
    estimates ``E(N)``, ``E(H)`` and the pre-pass diagnostics of the tail ``(H, N]``."""
    half = depth // 2
    e_n, e_h = float(e_n), float(e_h)    # Python floats: inf - inf is a quiet NaN
    gain = e_h - e_n
    if e_n <= -_CONVERGE_DIGITS and gain >= _CONVERGE_GAIN:
        return "converges", (f"the last two convergents agree to {-e_n:.0f} places, "
                             f"{gain:.0f} more than at depth {half}")
    _, _, _, e_max, zeros, flips, _, lx_n, lx_h, _ = pre
    tail = depth - half
    if zeros > 0 or not math.isfinite(e_n):
        return "diverges", f"q_n = 0 at {zeros:.0f} of the depths in ({half}, {depth}]"
    if lx_n >= 3 and lx_n - lx_h >= 1:
        return "diverges", (f"convergents grow without limit (|x_{half}| ~ 1e{lx_h:.0f}, "
                            f"|x_{depth}| ~ 1e{lx_n:.0f})")
    if 0.02 * tail < flips < 0.98 * tail:
        return "diverges", (f"oscillation: q_n changes sign irregularly ({flips:.0f} times in "
                            f"({half}, {depth}]; complex characteristic roots)")
    if e_max >= 0:
        return "diverges", (f"oscillation: consecutive convergents still differ by up to "
                            f"1e{e_max:.1f} in ({half}, {depth}]")
    return "unknown", (f"too slow to tell: the last two convergents agree to {-e_n:.1f} places, "
                       f"{gain:.1f} more than at depth {half}")


def _needs_exact(pre: np.ndarray) -> bool:
    e_n, e_h = float(pre[1]), float(pre[2])
    return e_n <= -_CONVERGE_DIGITS + _EXACT_MARGIN and e_h - e_n >= _CONVERGE_GAIN - _EXACT_MARGIN


def _exact(a: tuple, b: tuple, depth: int, pre: np.ndarray, samples: int,
           eig_n: int) -> dict:
    """The exact metrics of a PCF the pre-pass found converging (or nearly)."""
    row = _blank(a, b, depth)
    half = depth // 2
    A, B = _values(a, depth), _values(b, depth)
    fit = _fit_depths(depth, samples)
    if fit[-1] != half:
        fit.append(half)
    states = _states(A, B, fit + [depth])
    lb = _log_b(B)
    pN0, pN, qN0, qN = states[-1]

    def E(t: int, s: Matrix) -> float:
        if s[2] == 0 or s[3] == 0:
            return math.inf
        return float(lb[t] - log10_abs(s[3]) - log10_abs(s[2]))

    e_n, e_h = E(depth, states[-1]), E(half, states[fit.index(half)])
    status, reason = _classify(pre, depth, e_n, e_h)
    row.update(status=status, reason=reason, depth=depth)
    ratio, complex_roots = _eig(a, b, eig_n)
    row["eig_ratio"] = ratio
    if qN != 0:
        row["limit_float"] = float(ratio_to_mpf(_CTX, pN, qN)) if status != "diverges" \
            else math.nan
    if status != "converges":
        if status == "unknown":
            row["digits"], row["rate"] = -e_n, (e_h - e_n) / (depth - half)
        return row
    row["limit"] = _limit_text(pN, qN, -e_n)
    row["digits"] = -e_n
    row["rate"] = (e_h - e_n) / (depth - half)
    lqN = log10_abs(qN)
    n = np.array(fit, dtype=np.float64)
    lq, lg, lerr = [], [], []
    for _, p, _, q in states[:-1]:
        g = gmpy2.gcd(p, q)
        cross = pN * q - p * qN
        lq.append(log10_abs(q))
        lg.append(log10_abs(g))
        lerr.append(log10_abs(cross) - lqN - log10_abs(q))   # log10 |x_N - x_n|
    lq, lg, lerr = np.array(lq), np.array(lg), np.array(lerr)
    h = fit.index(half)
    if lq[h] > 0:
        row["delta_naive"] = float(-lerr[h] / lq[h] - 1)
    if lq[h] - lg[h] > 0:
        row["delta"] = float(-lerr[h] / (lq[h] - lg[h]) - 1)
    ln = np.log(n)
    c, d = _lstsq(np.column_stack([n, n * ln]), (lq - lg) * _LN10)
    row["c"], row["d"] = float(c), float(d)
    beta, gamma, eta = _lstsq(np.column_stack([ln, n, n * ln]), lerr * _LN10)
    row["beta"], row["gamma"], row["eta"] = float(beta), float(gamma), float(eta)
    denom = c + d * math.log(eig_n)
    if not complex_roots and math.isfinite(ratio) and denom > 0:
        row["delta_predicted"] = float(math.log(ratio) / denom - 1)
    return row


def _from_prepass(a: tuple, b: tuple, depth: int, pre: np.ndarray, eig_n: int) -> dict:
    """The row of a PCF the exact pass need not see (terminating, diverging, too slow)."""
    k = int(pre[0])
    if k:
        return _terminating(a, b, depth, k)
    row = _blank(a, b, depth)
    e_n, e_h = float(pre[1]), float(pre[2])
    status, reason = _classify(pre, depth, e_n, e_h)
    if status == "converges":   # only reachable if _needs_exact and _classify disagree
        raise AssertionError("a converging row must go through the exact pass")
    row.update(status=status, reason=reason)
    row["eig_ratio"] = _eig(a, b, eig_n)[0]
    if status == "unknown":
        row["limit_float"] = float(pre[6])
        row["digits"], row["rate"] = -e_n, float(pre[9])
    return row


def _negated(row: dict, a: tuple) -> dict:
    out = dict(row, a=a)
    if out["limit"] is not None:
        s = out["limit"]
        out["limit"] = s[1:] if s.startswith("-") else (s if s == "0" else "-" + s)
    out["limit_float"] = -out["limit_float"]
    return out


# --------------------------------------------------------------------------- entry points


def dynamics_batch(rows: np.ndarray, depth: int = 2000, a_degree: int | None = None,
                   samples: int = 12, eig_n: int = 10**9) -> list[dict]:
    """The metrics (module docstring) of many PCFs: float pre-pass, then exact pass where needed.

    Each row is reduced to its canonical sign (:func:`canonical`); each distinct canonical
    PCF goes once through :func:`prepass`, and through the exact pass only if the pre-pass
    finds it converging or within a margin of the convergence test (``E(N) <= -8`` and
    ``E(H) - E(N) >= 1``); the exact pass then decides. Terminating PCFs get their exact
    rational value; diverging and too-slow ones the pre-pass diagnostics.

    Parameters
    ----------
    rows : numpy.ndarray
        ``(k, m)`` integer coefficient rows, ascending powers, ``a`` then ``b`` (as
        :func:`domain` makes them).
    depth : int
        ``N`` (at least 20).
    a_degree : int, optional
        Degree bound of ``a``: the first ``a_degree + 1`` columns are ``a``. Default: half of
        the columns (``m`` must then be even).
    samples : int
        Number of fit depths in ``[N/10, N/2]``.
    eig_n : int
        The "large n" of ``eig_ratio`` and ``delta_predicted``.

    Returns
    -------
    list of dict
        One row dict per input row, in order, with the keys :data:`ROW_KEYS`.

    Examples
    --------
    >>> out = dynamics_batch(np.array([[1, 0, 1, 0], [-1, 0, 1, 0], [3, 0, -2, 1]]), depth=200)
    >>> [(r["status"], r["limit"][:8]) for r in out]       # (1, 1), (-1, 1), (3, n - 2)
    [('converges', '1.618033'), ('converges', '-1.61803'), ('terminates', '2.666666')]
    >>> out[0]["delta"] == out[1]["delta"]
    True
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    if rows.ndim != 2:
        raise ValueError("rows must be a 2-D array")
    if depth < 20:
        raise ValueError(f"depth must be >= 20, got {depth}")
    a_len = _a_len(rows, a_degree)
    lead = np.zeros(len(rows), dtype=np.int64)
    for k in range(a_len):          # leading coefficient of a: the last nonzero one
        lead = np.where(rows[:, k] != 0, rows[:, k], lead)
    if (lead == 0).any():
        raise ValueError("a must not be the zero polynomial (row "
                         f"{int(np.flatnonzero(lead == 0)[0])})")
    if not rows[:, a_len:].any(axis=1).all():
        raise ValueError("b must not be the zero polynomial")
    sign = np.where(lead > 0, 1, -1)
    canon = rows.copy()
    canon[:, :a_len] *= sign[:, None]
    uniq, inverse = np.unique(canon, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    pre = prepass(uniq, depth, a_len - 1)
    results: list[dict | None] = [None] * len(uniq)
    out: list[dict] = []
    for i, row in enumerate(rows):
        u = int(inverse[i])
        a = tuple(int(x) for x in row[:a_len])
        b = tuple(int(x) for x in row[a_len:])
        if pre[u, 0]:   # terminating: cheap and exact, no symmetry needed
            out.append(_terminating(a, b, depth, int(pre[u, 0])))
            continue
        if results[u] is None:
            ca = tuple(int(x) for x in uniq[u, :a_len])
            if _needs_exact(pre[u]):
                results[u] = _exact(ca, b, depth, pre[u], samples, eig_n)
            else:
                results[u] = _from_prepass(ca, b, depth, pre[u], eig_n)
        res = results[u]
        out.append(dict(res) if sign[i] > 0 else _negated(res, a))
    return out


def dynamics(a: Sequence[int], b: Sequence[int], depth: int = 2000, samples: int = 12,
             eig_n: int = 10**9) -> dict:
    """The Blind-δ metrics of one PCF (keys :data:`ROW_KEYS`, meanings in the module docstring).

    Parameters
    ----------
    a, b : sequence of int
        Coefficients of ``a(n)`` and ``b(n)``, ascending powers (any degrees).
    depth : int
        ``N``; the limit is ``x_N``, δ is measured at ``N/2``.
    samples : int
        Number of fit depths in ``[N/10, N/2]``.
    eig_n : int
        The "large n" of ``eig_ratio`` and ``delta_predicted``.

    Examples
    --------
    >>> r = dynamics((1,), (1,))                       # golden ratio: δ -> 1
    >>> r["status"], r["limit"], round(r["delta"], 3), round(r["rate"], 3)
    ('converges', '1.61803398874989484820458683436563811772', 1.002, 0.418)
    >>> dynamics((1,), (-1,), depth=400)["reason"]     # period 3: q_n = 0 every third step
    'q_n = 0 at 66 of the depths in (200, 400]'
    >>> dynamics((1, 2), (0, 0, 1))["limit"]            # 4/pi = 1.2732395447351626861510701...
    '1.273239544735162686151070106980114896276'
    """
    a = tuple(int(x) for x in a)
    b = tuple(int(x) for x in b)
    if not any(a) or not any(b):
        raise ValueError("a and b must not be the zero polynomial")
    return dynamics_batch(np.array([a + b], dtype=np.int64), depth, len(a) - 1, samples,
                          eig_n)[0]
