"""Sphere-packing LP bounds: Laguerre/Fourier machinery, exact verification, stored certificates."""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import gmpy2
import mpmath
import pytest
from flint import fmpq_poly

from solvers.errors import DiscoveryError
from solvers.packing.certificate import LPCertificate, verify_lp_certificate
from solvers.packing.exact import roots_above, roots_between
from solvers.packing.laguerre import (
    alpha_of_dimension,
    fourier_coefficients,
    laguerre_poly,
    scaled_rows,
    to_monomial,
)

PACKING = Path(__file__).resolve().parents[1] / "discovery" / "data" / "packing"  # package data
LP_DIR = PACKING / "lp"
REFERENCE = json.loads((PACKING / "packing_reference.json").read_text())
BEST = {int(k): v for k, v in REFERENCE["best_known_density_lower_bounds"].items()}
E8 = 0.2536695079
LEECH = 0.0019295743


def _stored() -> dict[int, LPCertificate]:
    out = {}
    for path in sorted(LP_DIR.glob("n*.json")):
        cert = LPCertificate.from_dict(json.loads(path.read_text()))
        out[cert.dimension] = cert
    return out


STORED = _stored()


# ------------------------------------------------------------------ Fourier eigenfunctions


def _radial_fourier(f, n: int, rho: float, ctx) -> mpmath.mpf:
    """Fourier transform of a radial function on R^n at radius rho (Hankel transform)."""
    nu = ctx.mpf(n) / 2 - 1
    if rho == 0:
        area = 2 * ctx.pi ** (ctx.mpf(n) / 2) / ctx.gamma(ctx.mpf(n) / 2)
        return area * ctx.quad(lambda s: f(s) * s ** (n - 1), [0, 3, 8])
    k = 2 * ctx.pi * rho
    return (2 * ctx.pi / rho**nu) * ctx.quad(
        lambda s: f(s) * ctx.besselj(nu, k * s) * s ** (nu + 1), [0, 2, 4, 8]
    )


@pytest.mark.parametrize("n", [1, 3, 4])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_laguerre_gauss_functions_are_fourier_eigenfunctions_with_sign_minus_one_to_k(n, k):
    ctx = mpmath.MPContext()
    ctx.dps = 20
    alpha = ctx.mpf(n) / 2 - 1

    def f(s):
        return ctx.laguerre(k, alpha, 2 * ctx.pi * s * s) * ctx.exp(-ctx.pi * s * s)

    for rho in (0.0, 0.37, 1.1):
        assert abs(_radial_fourier(f, n, rho, ctx) - (-1) ** k * f(rho)) < 1e-12


def test_exact_laguerre_polynomials_agree_with_mpmath_and_the_numeric_rows():
    ctx = mpmath.MPContext()
    ctx.dps = 30
    gctx = gmpy2.context(precision=120)
    alpha = alpha_of_dimension(5)
    u = Fraction(37, 10)
    rows = scaled_rows(gctx, alpha, gmpy2.mpq(37, 10), 6, order=1)
    for k in range(7):
        exact = laguerre_poly(k, alpha)(u.numerator / __import__("flint").fmpq(u.denominator))
        ref = ctx.laguerre(k, ctx.mpf(3) / 2, ctx.mpf(37) / 10)
        assert abs(float(exact) - float(ref)) < 1e-12 * max(1, abs(float(ref)))
        scaled = float(ref * ctx.exp(-ctx.mpf(37) / 20))
        assert abs(float(rows[0][k]) - scaled) < 1e-12 * max(1, abs(scaled))
    # derivative row: d/du [L_1^a(u) e^{-u/2}] = (-1 - (1 + a - u)/2) e^{-u/2}
    d1 = (-1 - (1 + 1.5 - 3.7) / 2) * math.exp(-3.7 / 2)
    assert abs(float(rows[1][1]) - d1) < 1e-12


def test_fourier_map_is_an_involution_and_to_monomial_is_linear():
    coeffs = [Fraction(1, 3), Fraction(-2), Fraction(5, 7), Fraction(1)]
    assert fourier_coefficients(fourier_coefficients(coeffs)) == tuple(coeffs)
    a = alpha_of_dimension(8)
    total = to_monomial(coeffs, a)
    parts = sum((to_monomial([0] * k + [c], a) for k, c in enumerate(coeffs)), fmpq_poly([]))
    assert total == parts


# ---------------------------------------------------------------------- Sturm counting


def test_sturm_counts_the_roots_of_chebyshev_polynomials():
    T = fmpq_poly([1])
    prev, cur = fmpq_poly([1]), fmpq_poly([0, 1])
    for _ in range(9):  # T_10
        prev, cur = cur, fmpq_poly([0, 2]) * cur - prev
    T = cur
    assert roots_between(T, -1, 1) == 10
    assert roots_above(T, 0) == 5
    # cos(pi/20), cos(3pi/20), cos(5pi/20) > 1/2 > cos(7pi/20)
    assert roots_between(T, Fraction(1, 2), 1) == 3


def test_sturm_counts_distinct_roots_of_a_square():
    p = (fmpq_poly([-2, 0, 1]) ** 2) * fmpq_poly([1, 0, 1])
    assert roots_above(p, 0) == 1
    assert roots_above(p, Fraction(3, 2)) == 0


# --------------------------------------------------------------------- verification


def test_a_hand_made_certificate_in_dimension_one_proves_sqrt_5_over_pi():
    cert = LPCertificate(1, Fraction(5, 2), (Fraction(3, 2), Fraction(1)))
    v = verify_lp_certificate(cert)
    assert v.verified
    assert float(v.lower) <= math.sqrt(5 / math.pi) <= float(v.upper)


def test_certificate_rejects_a_radius_inside_the_sign_change():
    cert = LPCertificate(1, Fraction(3, 2), (Fraction(3, 2), Fraction(1)))  # P = 2 - u
    v = verify_lp_certificate(cert)
    assert not v.verified and v.bound is None
    assert any("(u0, oo)" in f for f in v.failures)


def test_certificate_json_round_trip_and_bad_format():
    cert = LPCertificate(3, Fraction(22, 7), (Fraction(1, 3), Fraction(-5, 2)), {"x": 1})
    back = LPCertificate.from_dict(json.loads(json.dumps(cert.to_dict())))
    assert back == cert and back.key == cert.key
    with pytest.raises(DiscoveryError):
        LPCertificate.from_dict({"format": "something else"})
    with pytest.raises(DiscoveryError):
        LPCertificate(0, Fraction(1), (Fraction(1),))


def test_lp_bound_in_dimension_four_at_degree_eleven_is_rigorous_and_close_to_the_lp():
    from solvers.packing.lp import lp_bound

    res = lp_bound(4, 11)
    assert res.verified.verified
    b = float(res.verified.bound)
    assert 0.647705 < b < 0.652  # above the LP optimum, already close at 12 terms
    assert abs(b - res.numeric_bound) < 1e-9


def test_sampled_lp_without_exactness_can_undercut_e8_but_the_verifier_catches_it():
    """The issue's warning: a plain sampled LP gives 'bounds' below the truth."""
    from solvers.packing.sampled_lp import sampled_lp

    sol = sampled_lp(8, 23, 4 * math.pi, samples=60, fine=400, rounds=1)
    cert = LPCertificate(8, Fraction(4 * math.pi), tuple(Fraction(c) for c in sol.coeffs))
    v = verify_lp_certificate(cert)
    # 60 samples miss the sign changes between them: the "bound" is below the E8 density,
    # which no valid bound can be (E8 is a packing), and the exact check finds why.
    assert sol.bound < E8
    assert not v.verified
    assert any("real root" in f for f in v.failures)


# -------------------------------------------------------------- stored certificates


def test_every_dimension_from_1_to_32_has_a_stored_certificate():
    assert sorted(STORED) == list(range(1, 33))


@pytest.mark.parametrize("n", sorted(STORED))
def test_stored_certificate_verifies_exactly_and_respects_known_packings(n):
    v = verify_lp_certificate(STORED[n])
    assert v.verified, v.failures
    bound = float(v.bound)
    assert bound >= BEST.get(n, 0.0)
    lp = {3: 0.779747, 4: 0.647705, 8: E8, 24: LEECH, 1: 1.0, 2: 0.9068996821}.get(n)
    if lp is not None:
        assert abs(bound / lp - 1) < 1e-4
    if n == 8:
        assert bound - E8 < 1e-6 * E8
    # the certificate's own numeric claim is what the exact check finds
    assert abs(bound - float(STORED[n].meta["numeric_bound"])) < 1e-9 * bound + 1e-12


def test_tampering_with_a_stored_certificate_is_detected():
    cert = STORED[8]
    coeffs = list(cert.coeffs)
    coeffs[0] -= Fraction(1, 10**6)  # lowers f and f^ everywhere: f^ dips below zero
    v = verify_lp_certificate(LPCertificate(8, cert.u0, tuple(coeffs)))
    assert not v.verified
    smaller = LPCertificate(8, cert.u0 * Fraction(99, 100), cert.coeffs)
    assert not verify_lp_certificate(smaller).verified


def test_lp_table_summary_matches_the_certificates():
    table = json.loads((PACKING / "lp_table.json").read_text())
    rows = {r["dimension"]: r for r in table["rows"]}
    for n, cert in STORED.items():
        assert rows[n]["verified"] is True
        assert rows[n]["key"] == cert.key
