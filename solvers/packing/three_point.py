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
>>> from fractions import Fraction
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
from dataclasses import dataclass

from solvers.errors import PrecisionError
from solvers.packing.tp_certificate import certificate_from_numeric, verify_three_point
from solvers.packing.tp_model import (
    BASE_NAMES,
    Formulation,
    default_multipliers,
    multiplier_name,
    multiplier_vocabulary,
)
from solvers.packing.tp_sdp import solve_sdp

__all__ = [
    "BASE_NAMES",
    "Formulation",
    "ThreePointResult",
    "three_point_bound",
    "default_multipliers",
    "multiplier_vocabulary",
    "multiplier_name",
]


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
