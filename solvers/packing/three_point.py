"""A three-point (semidefinite) bound for sphere packing at reduced degree, verified exactly.

The statement (after Cohn, de Laat and Salmon, "Three-point bounds for sphere packing",
arXiv 2206.15373; the proof is reproduced because the verifier must prove exactly this).
Let :math:`f_2` be a radial Schwartz function with :math:`\\hat f_2 \\ge 0`,
:math:`\\hat f_2(0) > 0`, let :math:`K` be a positive definite kernel on :math:`\\mathbb{R}^n`
and put :math:`f_3(x, y) = K(x, y)\\,1[|x| \\le R]\\,1[|y| \\le R]`. If

(A) :math:`f_2(v) + f_3(v, 0) + f_3(0, v) + f_3(v, v) \\le 0` for :math:`|v| \\ge r`, and
(B) :math:`f_3(x, y) \\le 0` whenever :math:`|x|, |y|, |x - y| \\ge r`,

then every packing of balls of radius :math:`r/2` has density at most
:math:`\\mathrm{vol}(B_{r/2})\\,(f_2(0) + f_3(0, 0)) / \\hat f_2(0)`.

*Proof.* It suffices to bound periodic packings :math:`X = \\Lambda + F`, :math:`N = |F|`
(their densities come arbitrarily close to the packing density). Poisson summation gives
:math:`\\sum_{x \\in F}\\sum_{y \\in X} f_2(y - x) \\ge N^2 \\hat f_2(0)/V` with
:math:`V = \\mathrm{vol}(\\mathbb{R}^n/\\Lambda)`. The truncated kernel is positive definite
(a restriction of :math:`K`), so for each :math:`x` the finite sum
:math:`\\sum_{y, z \\in X} f_3(y - x, z - x)` is :math:`\\ge 0`. Split both sums
by coincidences among :math:`x, y, z`: the diagonal gives :math:`N(f_2(0) + f_3(0, 0))`,
the pairs :math:`y \\ne x` give the left side of (A) at :math:`v = y - x`, and the distinct
triples give (B). Hence
:math:`N (f_2(0) + f_3(0,0)) \\ge N^2 \\hat f_2(0) / V`. :math:`\\square`

The ansatz (:math:`A = 2\\pi|x|^2`, :math:`B = 2\\pi|y|^2`, :math:`C = 2\\pi\\langle x, y
\\rangle`, :math:`u_0 = 2\\pi r^2`, :math:`s = 2\\pi R^2`, :math:`a, b, c = A/s, B/s, C/s`,
:math:`t = u_0/s`):

* :math:`f_2(x) = P_2(A)e^{-A/2}`, :math:`P_2 = \\sum_k c_k L_k^{(n/2-1)}` (as for the LP bound:
  :math:`\\hat P_2 = \\sum_k (-1)^k c_k L_k^{(n/2-1)}`); ``d2`` is its degree;
* :math:`K = p(a, b, c) = \\sum_{k=0}^{k_{max}} \\sum_{i,j=0}^{m} F_k[i, j]\\, a^i b^j H_k` with
  the zonal harmonics :math:`H_k = (ab)^{k/2} P_k^{(n)}(c/\\sqrt{ab})` and PSD blocks
  :math:`F_k`: positive definite by the addition theorem and Schur products;
* (A) on :math:`[u_0, s]` reads :math:`P_2(u)e^{-u/2} + q(u/s) \\le 0`, :math:`q(a) = 2p(a,0,0)
  + p(a,a,a)`; beyond :math:`s` it is :math:`P_2 \\le 0`;
* (B) is :math:`p \\le 0` on :math:`\\{a, b \\in [t, 1],\\ a + b - 2c \\ge t,\\ c^2 \\le ab\\}`,
  certified by :math:`-p = \\sum_g \\sigma_g\\, g + \\rho` with sums of squares
  :math:`\\sigma_g`, multipliers :math:`g` = products of the seven *base polynomials*
  (``BASE_NAMES``: all :math:`\\ge 0` there) and a remainder :math:`\\rho \\ge 0` there.

Every one of these conditions is checked in exact arithmetic by
:func:`solvers.packing.tp_certificate.verify_three_point`. Why it can beat the LP bound:
:math:`K(0,0)K(v,v) \\ge K(v,0)^2` caps the relief :math:`-q` in (A) at :math:`K(0,0)` per
neighbour, but (B) limits how many neighbours fit in the shell :math:`r \\le |v| \\le R`
(a kissing configuration), so a shell of width a few percent pays for itself when the LP
optimum implicitly puts more neighbours there than fit (26.43 vs. Delsarte's 25.56 in
dimension 4).

Examples
--------
>>> form = Formulation(4, 9, 2, 0, Fraction(9), Fraction(10))
>>> form.kernel_degree, form.sos_degree, form.t
(2, 2, Fraction(9, 10))
>>> [len(b) for b, _ in form.sos_terms()]          # sigma_0 and one per multiplier
[4, 1, 1, 1, 1, 1, 1, 1]
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from itertools import combinations_with_replacement

from solvers.errors import DiscoveryError, PrecisionError
from solvers.packing.laguerre import alpha_of_dimension
from solvers.packing.tp_model import (
    BASE_DEGREE,
    BASE_NAMES,
    harmonic,
    monomials,
    mul,
    shell_base_polynomials,
    to_shell,
)

__all__ = [
    "BASE_NAMES",
    "Formulation",
    "ThreePointResult",
    "three_point_bound",
    "default_multipliers",
    "multiplier_vocabulary",
    "multiplier_name",
]


def default_multipliers() -> tuple[tuple[int, ...], ...]:
    """The default formulation: each base polynomial alone is a multiplier."""
    return tuple((i,) for i in range(len(BASE_NAMES)))


def multiplier_degree(mult: tuple[int, ...]) -> int:
    """Degree of a product of base polynomials."""
    return sum(BASE_DEGREE[i] for i in mult)


def multiplier_vocabulary(max_degree: int, max_factors: int = 2) -> tuple[tuple[int, ...], ...]:
    """Products of up to ``max_factors`` base polynomials of degree ``<= max_degree``.

    Examples
    --------
    >>> len(multiplier_vocabulary(2, 1)), len(multiplier_vocabulary(2, 2))   # 7 + 21 pairs
    (7, 28)
    """
    out = []
    for k in range(1, max_factors + 1):
        for combo in combinations_with_replacement(range(len(BASE_NAMES)), k):
            if multiplier_degree(combo) <= max_degree:
                out.append(combo)
    return tuple(out)


def multiplier_name(mult: tuple[int, ...]) -> str:
    """Readable name of a product of base polynomials, e.g. ``'(a-r2)*(R2-a)'``."""
    return "*".join(f"({BASE_NAMES[i]})" for i in mult) if mult else "1"


def _frac(x) -> Fraction:
    return x if isinstance(x, Fraction) else Fraction(x)


@dataclass(frozen=True)
class Formulation:
    """One three-point SDP: dimension, degrees, radii and the SOS multipliers of (B).

    Parameters
    ----------
    dimension : int
    d2 : int
        Degree of :math:`P_2` (odd, at most 35 in double precision).
    kmax : int
        Angular degree of the kernel (harmonics :math:`H_0 .. H_{k_{max}}`).
    m : int
        Radial degree: the blocks :math:`F_k` are :math:`(m+1) \\times (m+1)`.
    u0, s : Fraction
        :math:`2\\pi r^2` and :math:`2\\pi R^2` (exact rationals, :math:`0 < u_0 < s`).
    multipliers : tuple of tuple of int
        Products of base polynomials (indices into ``BASE_NAMES``) used as SOS multipliers.
    sos_degree : int, optional
        Degree of the SOS identity; default the kernel degree rounded up to even.
    """

    dimension: int
    d2: int
    kmax: int
    m: int
    u0: Fraction
    s: Fraction
    multipliers: tuple[tuple[int, ...], ...] = field(default_factory=default_multipliers)
    sos_degree: int = 0

    def __post_init__(self):
        n = self.dimension
        if not isinstance(n, int) or n < 2:
            raise DiscoveryError(f"the three-point bound needs dimension >= 2, not {n!r}")
        alpha_of_dimension(n)
        if self.d2 % 2 == 0 or not 3 <= self.d2 <= 35:
            raise DiscoveryError(f"d2 must be odd, 3..35 (double precision), not {self.d2}")
        if not 0 <= self.kmax <= 16 or not 0 <= self.m <= 4:
            raise DiscoveryError(f"need 0 <= kmax <= 16 and 0 <= m <= 4, got kmax={self.kmax},"
                                 f" m={self.m}")
        u0, s = _frac(self.u0), _frac(self.s)
        if not 0 < u0 < s:
            raise DiscoveryError(f"need 0 < u0 < s (r < R), got u0={u0}, s={s}")
        object.__setattr__(self, "u0", u0)
        object.__setattr__(self, "s", s)
        ms = tuple(sorted({tuple(sorted(int(i) for i in mm)) for mm in self.multipliers}))
        for mm in ms:
            if not mm or any(not 0 <= i < len(BASE_NAMES) for i in mm):
                raise DiscoveryError(f"bad multiplier {mm!r}: indices 0..{len(BASE_NAMES) - 1}")
        d = self.kernel_degree + self.kernel_degree % 2
        sos = self.sos_degree or d
        if sos < d or sos % 2:
            raise DiscoveryError(f"sos_degree must be even and >= {d}, not {self.sos_degree}")
        if sos > 16:
            raise DiscoveryError(f"sos_degree {sos} is too large for this solver (max 16)")
        ms = tuple(mm for mm in ms if multiplier_degree(mm) <= sos)
        object.__setattr__(self, "multipliers", ms)
        object.__setattr__(self, "sos_degree", sos)

    # -- derived quantities -------------------------------------------------------------
    @property
    def kernel_degree(self) -> int:
        """Total degree of :math:`p` in :math:`(a, b, c)`: :math:`2m + k_{max}`."""
        return 2 * self.m + self.kmax

    @property
    def t(self) -> Fraction:
        """:math:`(r/R)^2 = u_0/s`."""
        return self.u0 / self.s

    @property
    def r(self) -> float:
        return math.sqrt(float(self.u0) / (2 * math.pi))

    @property
    def R(self) -> float:
        return math.sqrt(float(self.s) / (2 * math.pi))

    @classmethod
    def from_radii(cls, n: int, d2: int, kmax: int, m: int, r: float, R: float,
                   multipliers=None, sos_degree: int = 0) -> Formulation:
        """Formulation with :math:`u_0 = 2\\pi r^2` and :math:`s = 2\\pi R^2` rounded to 1e-6.

        Examples
        --------
        >>> Formulation.from_radii(4, 9, 2, 0, 1.2, 1.3).u0
        Fraction(9047787, 1000000)
        """
        if not (math.isfinite(r) and math.isfinite(R) and 0 < r < R):
            raise DiscoveryError(f"need 0 < r < R, got r={r}, R={R}")
        u0 = Fraction(round(2 * math.pi * r * r * 10**6), 10**6)
        s = Fraction(round(2 * math.pi * R * R * 10**6), 10**6)
        mults = tuple(multipliers) if multipliers is not None else default_multipliers()
        return cls(n, d2, kmax, m, u0, s, mults, sos_degree)

    def harmonic(self, k: int) -> dict:
        """:math:`H_k` in :math:`(a, b, c)` (exact)."""
        return self._harmonics[k]

    @cached_property
    def _harmonics(self) -> list[dict]:
        return [harmonic(k, self.dimension) for k in range(self.kmax + 1)]

    def kernel_term(self, k: int, i: int, j: int) -> dict:
        """:math:`a^i b^j H_k` in shell coordinates :math:`(\\alpha, \\beta, c)` (exact)."""
        return self._kernel_terms[(k, i, j)]

    @cached_property
    def _kernel_terms(self) -> dict:
        out = {}
        for k in range(self.kmax + 1):
            for i in range(self.m + 1):
                for j in range(self.m + 1):
                    out[(k, i, j)] = to_shell(mul({(i, j, 0): Fraction(1)}, self.harmonic(k)),
                                              self.t)
        return out

    def sos_terms(self) -> list[tuple[list, dict]]:
        """``(basis, g)`` for :math:`g = 1` and every multiplier, in shell coordinates."""
        return self._sos_terms

    @cached_property
    def _sos_terms(self) -> list[tuple[list, dict]]:
        base = shell_base_polynomials(self.t)
        out = [(monomials(self.sos_degree // 2), {(0, 0, 0): Fraction(1)})]
        for mm in self.multipliers:
            poly: dict = {(0, 0, 0): Fraction(1)}
            for i in mm:
                poly = mul(poly, base[i])
            out.append((monomials((self.sos_degree - multiplier_degree(mm)) // 2), poly))
        return out

    def describe(self) -> dict:
        """JSON-able description (radii as floats and exact rationals, multiplier names)."""
        return {
            "dimension": self.dimension,
            "d2": self.d2,
            "kmax": self.kmax,
            "m": self.m,
            "sos_degree": self.sos_degree,
            "r": self.r,
            "R": self.R,
            "R_over_r": self.R / self.r,
            "u0": f"{self.u0.numerator}/{self.u0.denominator}",
            "s": f"{self.s.numerator}/{self.s.denominator}",
            "multipliers": [list(mm) for mm in self.multipliers],
            "multiplier_names": [multiplier_name(mm) for mm in self.multipliers],
        }

    def __repr__(self) -> str:
        return (f"Formulation(n={self.dimension}, d2={self.d2}, kmax={self.kmax}, m={self.m}, "
                f"R/r={self.R / self.r:.4f}, {len(self.multipliers)} multipliers, "
                f"SOS degree {self.sos_degree})")


@dataclass(frozen=True)
class ThreePointResult:
    """Outcome of one solve and its exact verification.

    ``bound`` (decimal text, rounded up) is set only when the certificate was verified;
    ``numeric_bound`` is the solver's float value (evidence, not a bound).
    """

    formulation: Formulation
    numeric_bound: float | None
    verified: bool
    bound: str | None
    failures: tuple[str, ...]
    status: str
    seconds: float
    certificate: dict | None = None

    def __repr__(self) -> str:
        f = self.formulation
        if self.verified:
            return (f"ThreePointResult(Δ_{f.dimension} ≤ {self.bound}, verified exactly; "
                    f"kmax={f.kmax}, m={f.m}, R/r={f.R / f.r:.4f})")
        return (f"ThreePointResult(n={f.dimension}: not verified ({self.status}); "
                f"{'; '.join(self.failures)})")

    def to_dict(self) -> dict:
        return {
            "dimension": self.formulation.dimension,
            "bound": self.bound,
            "verified": self.verified,
            "method": "three-point SDP (cvxpy/Clarabel), rational certificate verified exactly",
            "numeric_bound": self.numeric_bound,
            "status": self.status,
            "failures": list(self.failures),
            "seconds": self.seconds,
            "formulation": self.formulation.describe(),
        }


def three_point_bound(
    formulation: Formulation,
    *,
    attempts: int = 3,
    margin: float = 1e-7,
    eta: float = 1e-5,
    keep_certificate: bool = False,
    progress: Callable[..., None] | None = None,
) -> ThreePointResult:
    """Solve the SDP of ``formulation``, round it to a rational certificate, verify exactly.

    When the exact check fails (a univariate condition pokes through between samples, or the
    rounded SOS identity does not close), the solve is repeated with ten times the margins,
    up to ``attempts`` times; when only the SOS identity fails, the kernel is dropped first
    (the remaining :math:`f_2` may still prove a bound). A failure is reported, never a bound
    that was not verified.

    ``progress``, if given, is called as ``progress(stage, done=None, total=None,
    detail=None)`` at each stage: building the exact model, each cutting-plane round of the
    SDP solve, rounding and exact verification (the result does not depend on it).

    Examples
    --------
    >>> form = Formulation.from_radii(4, 15, 4, 1, 1.2038, 1.2038 * 1.05)
    >>> three_point_bound(form).bound                  # doctest: +SKIP
    '0.64...'
    """
    from solvers.packing.tp_certificate import certificate_from_numeric, verify_three_point
    from solvers.packing.tp_sdp import solve_sdp

    t0 = time.perf_counter()
    failures: tuple[str, ...] = ()
    numeric, status = None, "not solved"
    if progress is not None:
        progress("building the exact model (harmonics, SOS terms)", detail=repr(formulation))
        formulation.sos_terms()
        formulation.kernel_term(0, 0, 0)
    tries, rounds = max(1, attempts), 10  # rounds: the cutting-plane rounds of solve_sdp
    for attempt in range(tries):
        label = f" (attempt {attempt + 1}/{tries})" if attempt else ""
        log = None
        if progress is not None:
            stage = f"solving the SDP{label}"
            progress(stage, detail=f"cutting-plane round 1 (of at most {rounds})")

            def log(info: dict, stage: str = stage) -> None:
                progress(stage, detail=f"cutting-plane round {info['round']} (of at most "
                                       f"{rounds}) done: value {info['value']:.8g}, "
                                       f"{info['samples']} samples")
        try:
            sol = solve_sdp(formulation, margin=margin, eta=eta, rounds=rounds, log=log)
        except PrecisionError as exc:
            failures, status = (str(exc),), "solver failed"
            break
        numeric = ball_factor(formulation) * sol.value
        if progress is not None:
            progress(f"rounding to a rational certificate{label}",
                     detail=f"numeric bound {numeric:.10g}")
        cert = certificate_from_numeric(formulation, sol)
        if progress is not None:
            progress(f"verifying the certificate exactly{label}")
        verdict = verify_three_point(cert)
        status = sol.status
        if not verdict.verified and all(f.startswith("(B)") for f in verdict.failures):
            # a kernel too small for its SOS identity to close against rounding: without
            # it the certificate may still prove the (LP-like) bound of f2 alone
            if progress is not None:
                progress(f"verifying without the kernel{label}")
            plain = certificate_from_numeric(formulation, sol, drop_kernel=True)
            plain_verdict = verify_three_point(plain)
            if plain_verdict.verified:
                cert, verdict, status = plain, plain_verdict, f"{sol.status}, kernel dropped"
        if verdict.verified:
            return ThreePointResult(formulation, numeric, True, verdict.bound, (), status,
                                    time.perf_counter() - t0,
                                    cert.to_dict() if keep_certificate else None)
        failures = verdict.failures
        margin, eta = margin * 10, eta * 10
    return ThreePointResult(formulation, numeric, False, None, failures, status,
                            time.perf_counter() - t0)


def ball_factor(form: Formulation) -> float:
    """``(u0/8)^(n/2) / Gamma(n/2 + 1)``: the bound is this times ``f2(0) + K(0,0)``."""
    n = form.dimension
    return math.exp((n / 2) * math.log(float(form.u0) / 8) - math.lgamma(n / 2 + 1))
