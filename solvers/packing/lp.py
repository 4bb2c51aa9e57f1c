"""The Cohn–Elkies linear-programming bound, end to end: solve, round, verify exactly.

Pipeline for a dimension :math:`n` and an odd degree :math:`d` of :math:`P`:

1. *bootstrap* (float64, :mod:`solvers.packing.sampled_lp`): a golden-section search of the
   radius at degree 11, then a sampled LP with cutting-plane exchange at degree ~19 that reveals
   where :math:`f` and :math:`\\hat f` touch zero;
2. *root forcing* (:mod:`solvers.packing.root_forcing`): Newton's method in high precision
   (gmpy2, 256–1024 bits) on the positions of the touching points and of :math:`u_0`, raising
   the degree by 4 at a time (one more touching point for each of :math:`f`, :math:`\\hat f`);
3. *certificate*: the touching values are shifted to :math:`\\mp\\delta` (a margin,
   :math:`\\delta = 10^{-30}` by default), the coefficients rounded to rationals with
   denominator :math:`10^D`, and :func:`solvers.packing.certificate.verify_lp_certificate`
   checks every sign condition exactly. If the check fails the rounding is refined.

Examples
--------
>>> res = lp_bound(4, degree=11)
>>> res.verified.verified, res.verified.bound
(True, '0.6491476095')
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from solvers.errors import DiscoveryError, DivergenceError
from solvers.packing.certificate import (
    LPCertificate,
    VerifiedBound,
    certificate_from_numeric,
    verify_lp_certificate,
)
from solvers.packing.laguerre import alpha_of_dimension
from solvers.packing.root_forcing import ForcedLP, newton_lp, raise_degree, with_margin
from solvers.packing.sampled_lp import optimise_radius, sampled_lp

__all__ = ["LPResult", "lp_bound", "solve_lp", "default_degree", "degree_for_terms", "MAX_DEGREE"]

#: Largest degree accepted (cost grows like degree^3 per Newton step).
MAX_DEGREE = 203


def default_degree(n: int) -> int:
    """Degree used by the table: enough for ~1e-5 relative accuracy of the LP optimum.

    Examples
    --------
    >>> [default_degree(n) for n in (1, 3, 8, 24)]
    [15, 59, 59, 79]
    """
    alpha_of_dimension(n)
    if n == 1:
        return 15
    return 59 if n <= 12 else 79


def degree_for_terms(terms: int) -> int:
    """The largest admissible (odd) degree ``d`` with ``d + 1 <= terms`` Laguerre terms.

    Examples
    --------
    >>> degree_for_terms(40), degree_for_terms(41), degree_for_terms(8)
    (39, 39, 7)
    """
    if terms < 4:
        raise DiscoveryError(f"at least 4 Laguerre terms are needed, not {terms}")
    d = terms - 1
    return d if d % 2 else d - 1


def _bootstrap_degree(degree: int) -> int:
    if degree <= 23:
        return degree
    return 19 if degree % 4 == 3 else 21


def solve_lp(
    n: int,
    degree: int,
    *,
    progress: Callable[..., None] | None = None,
    u0_guess: float | None = None,
) -> ForcedLP:
    """Numerical optimum of the LP at ``degree`` by bootstrap + root forcing (not rigorous).

    ``progress``, if given, is called as ``progress(stage, done=None, total=None,
    detail=None)`` at each step: the radius search, the sampled LP, and each degree of the
    root-forcing continuation (``done``/``total`` = degree reached/wanted).

    Raises
    ------
    DivergenceError
        If Newton's method fails at some degree of the continuation.
    """
    alpha_of_dimension(n)
    if degree < 3 or degree % 2 == 0 or degree > MAX_DEGREE:
        raise DiscoveryError(f"the degree must be odd, between 3 and {MAX_DEGREE}, not {degree}")
    d0 = _bootstrap_degree(degree)
    if u0_guess is None:
        u0_guess = optimise_radius(
            n, min(d0, 15 if d0 % 4 == 3 else 13), 2.0, 1.3 * n + 10, samples=800, fine=8000,
            progress=progress,
        ).u0
    if progress is not None:
        progress(f"sampled LP at degree {d0}", detail=f"u0 = {u0_guess:.6f}")
    boot = sampled_lp(n, d0, u0_guess)
    f, fh = boot.touch_f, boot.touch_fhat
    if 2 * (len(f) + len(fh)) + 1 != d0:
        raise DivergenceError(f"could not read the optimal structure at degree {d0} (n={n})")
    stage = f"root forcing to degree {degree}"
    if progress is not None:
        progress(stage, done=d0, total=degree, detail=f"degree {d0}")
    sol = _newton(n, boot.u0, f, fh)
    while sol.degree < degree:
        if progress is not None:
            progress(stage, done=sol.degree, total=degree,
                     detail=f"degree {sol.degree + 4}, bound so far {float(sol.bound):.10g}")
        sol = _newton(n, *raise_degree(sol))
    return sol


def _newton(n: int, u0, f, fh) -> ForcedLP:
    """Newton with the radius free; if that fails, at the radius fixed first.

    The bound is invariant under rescaling of :math:`f`, and only the fixed Gaussian width of
    the basis selects a radius, so the :math:`u_0` direction is nearly flat and occasionally
    stalls Newton's method; the bound at a fixed :math:`u_0` differs only to second order.
    """
    try:
        return newton_lp(n, u0, f, fh)
    except DivergenceError:
        fixed = newton_lp(n, u0, f, fh, optimise_u0=False)
    try:
        return newton_lp(n, fixed.u0, fixed.touch_f, fixed.touch_fhat)
    except DivergenceError:
        return fixed


@dataclass(frozen=True)
class LPResult:
    """A certified LP bound: the exact certificate, its verification and the numerics behind it."""

    certificate: LPCertificate
    verified: VerifiedBound
    numeric_bound: float
    seconds: float
    method: str = "root-forcing"

    @property
    def dimension(self) -> int:
        return self.certificate.dimension

    def __repr__(self) -> str:
        return f"LPResult({self.verified!r}, degree {self.certificate.degree})"

    def to_dict(self) -> dict:
        """Summary (not the certificate itself)."""
        return {
            "dimension": self.dimension,
            "bound": self.verified.bound,
            "verified": self.verified.verified,
            "method": f"cohn-elkies-lp/{self.method}",
            "degree": self.certificate.degree,
            "terms": self.certificate.degree + 1,
            "radius": self.certificate.radius,
            "numeric_bound": self.numeric_bound,
            "enclosure": [self.verified.lower, self.verified.upper],
            "verification": self.verified.method,
            "verify_seconds": self.verified.seconds,
            "seconds": self.seconds,
            "key": self.certificate.key,
        }


def _digits_for(n: int, degree: int, delta: float) -> int:
    # |L_k^a(u) e^{-u/2}| <= max(2, binom(k + a, k)) for u >= 0 (Szego 7.21), so rounding every
    # coefficient by 10^-D moves f and f^ by at most 10^-D * sum_k max(2, binom).
    a = float(alpha_of_dimension(n))
    total = sum(max(2.0, math.exp(math.lgamma(k + a + 1) - math.lgamma(k + 1) - math.lgamma(a + 1)))
                for k in range(degree + 1))
    return int(-math.log10(delta) + math.log10(total)) + 12


def certify(sol: ForcedLP, *, delta: float = 1e-30, attempts: int = 3) -> tuple:
    """Round ``sol`` (with margin ``delta``) to an exact certificate and verify it.

    Returns ``(certificate, verified_bound)``; the last attempt is returned even if unverified.
    """
    digits = _digits_for(sol.dimension, sol.degree, delta)
    cert = ver = None
    for _ in range(attempts):
        margin = with_margin(sol, delta)
        meta = {
            "method": "root forcing (Newton, gmpy2) + rational rounding",
            "degree": sol.degree,
            "precision_bits": sol.prec,
            "margin_delta": delta,
            "rounding_digits": digits,
            "numeric_bound": f"{float(margin.bound):.15g}",
            "touching_f": [f"{float(x):.12g}" for x in sol.touch_f],
            "touching_fhat": [f"{float(x):.12g}" for x in sol.touch_fhat],
        }
        cert = certificate_from_numeric(sol.dimension, margin.u0, margin.coeffs, digits, meta)
        ver = verify_lp_certificate(cert)
        if ver.verified:
            break
        digits += 20
        delta *= 1e6
    return cert, ver


def sampled_certificate(
    n: int, degree: int, u0: float | None = None, *, margin: float = 1e-9, attempts: int = 4
) -> tuple:
    """The float path: a sampled LP with strict margins, rounded and verified exactly.

    Less accurate than root forcing (double precision, about 30 terms at most) but independent
    of it, and robust where the touching structure is degenerate (dimension 1, where the LP
    optimum 1 is approached by functions that vanish on whole intervals).

    Returns ``(certificate, verified_bound, sampled_solution)``.
    """
    from fractions import Fraction

    if u0 is None:
        u0 = optimise_radius(n, degree, 2.0, 1.3 * n + 10, margin=margin).u0
    cert = ver = sol = None
    for _ in range(attempts):
        sol = sampled_lp(n, degree, u0, margin=margin)
        meta = {
            "method": "sampled LP (HiGHS) with cutting planes and margins + exact rounding",
            "degree": degree,
            "margin": margin,
            "numeric_bound": f"{sol.bound:.15g}",
        }
        u0_exact = Fraction(math.ceil(Fraction(u0) * 10**12), 10**12)
        cert = LPCertificate(n, u0_exact, tuple(Fraction(c) for c in sol.coeffs), meta)
        ver = verify_lp_certificate(cert)
        if ver.verified:
            break
        margin *= 10
    return cert, ver, sol


def lp_bound(
    n: int,
    degree: int | None = None,
    *,
    delta: float = 1e-30,
    method: str = "auto",
    progress: Callable[..., None] | None = None,
) -> LPResult:
    """Solve, round and verify the Cohn–Elkies LP bound in dimension ``n``.

    Parameters
    ----------
    n : int
        Dimension (1 and up).
    degree : int, optional
        Odd degree of :math:`P` (``degree + 1`` Laguerre terms); default
        :func:`default_degree`.
    delta : float
        Safety margin of the certificate (in units of :math:`f`, :math:`\\hat f(0) = 1`).
    method : {"auto", "root-forcing", "sampled"}
        ``"auto"`` uses root forcing (falling back on the float path if it fails), except in
        dimension 1 where the optimum is degenerate and the float path is used directly.
    progress : callable, optional
        Called as ``progress(stage, done=None, total=None, detail=None)`` at each stage
        (radius search, sampled LP, root forcing per degree, rounding and exact
        verification, float fallback); the result does not depend on it.
    """
    if method not in ("auto", "root-forcing", "sampled"):
        raise DiscoveryError(f"unknown LP method {method!r} (auto, root-forcing, sampled)")
    t0 = time.perf_counter()
    degree = default_degree(n) if degree is None else degree
    sol = None
    if method == "root-forcing" or (method == "auto" and n > 1):
        try:
            sol = solve_lp(n, degree, progress=progress)
        except DivergenceError:
            if method == "root-forcing":
                raise
    used = "root-forcing"
    if sol is not None:
        if progress is not None:
            progress("rounding and exact verification", detail=f"degree {sol.degree}")
        cert, ver = certify(sol, delta=delta)
        numeric = float(sol.bound)
    if sol is None or not ver.verified:
        # fall back on the float path at a degree double precision can handle
        if progress is not None:
            progress(f"float fallback: sampled LP at degree {min(degree, 23)}, rounded and "
                     "verified exactly")
        cert, ver, samp = sampled_certificate(n, min(degree, 23))
        numeric = samp.bound
        used = "sampled"
    return LPResult(cert, ver, numeric, time.perf_counter() - t0, used)
