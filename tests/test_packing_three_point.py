"""Three-point sphere-packing bound: kernel algebra, exact verification, stored certificate."""

from __future__ import annotations

import copy
import json
import math
import random
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from solvers.errors import DiscoveryError
from solvers.packing.certificate import LPCertificate, verify_lp_certificate
from solvers.packing.three_point import Formulation, multiplier_vocabulary
from solvers.packing.tp_certificate import (
    Factor,
    ThreePointCertificate,
    exp_taylor,
    sos_remainder,
    verify_three_point,
)
from solvers.packing.tp_model import (
    base_polynomials,
    gegenbauer,
    harmonic,
    shell_base_polynomials,
    shell_coordinates,
    to_shell,
)

PACKING = Path(__file__).resolve().parents[1] / "discovery" / "data" / "packing"  # package data
TP_CERT = PACKING / "three_point" / "n04.json"
LP_CERT = PACKING / "lp" / "n04.json"
REFERENCE = json.loads((PACKING / "packing_reference.json").read_text())
D4 = REFERENCE["best_known_density_lower_bounds"]["4"]          # 0.6168502751
LP4 = REFERENCE["linear_programming_bound_density"]["4"]         # 0.647705
CDLS4 = REFERENCE["three_point_bound_density_Cohn_deLaat_Salmon_2022"]["4"]   # 0.636108


def _ev(p: dict, a, b, c):
    return sum(v * a ** e[0] * b ** e[1] * c ** e[2] for e, v in p.items())


# ------------------------------------------------------------------ kernel algebra (exact)


@pytest.mark.parametrize("n", [3, 4, 8])
def test_gegenbauer_polynomials_are_normalised_and_orthogonal_on_the_sphere(n):
    theta = np.linspace(0, np.pi, 200001)
    t, w = np.cos(theta), np.sin(theta) ** (n - 2)
    polys = [np.polynomial.Polynomial([float(c) for c in gegenbauer(k, n)]) for k in range(6)]
    for k, p in enumerate(polys):
        assert sum(gegenbauer(k, n)) == 1                       # P_k(1) = 1 exactly
        for j in range(k):
            assert abs(np.trapezoid(p(t) * polys[j](t) * w, theta)) < 1e-3


def test_zonal_harmonics_are_positive_definite_and_equal_a_power_on_the_diagonal():
    n = 4
    for k in range(7):
        # H_k(x, x) = |x|^{2k} P_k(1): a = b = c gives a^k
        assert _ev(harmonic(k, n), *(Fraction(3, 7),) * 3) == Fraction(3, 7) ** k
    rng = np.random.default_rng(1)
    X = rng.normal(size=(25, n))
    A, G = (X * X).sum(1), X @ X.T
    for k in range(7):
        M = np.array([[float(_ev(harmonic(k, n), A[i], A[j], G[i, j])) for j in range(25)]
                      for i in range(25)])
        w = np.linalg.eigvalsh(M)
        assert w.min() > -1e-9 * max(1.0, w.max())             # addition theorem: PSD
        if k >= 1:
            assert w.max() > 1e-6


def test_shell_coordinates_are_an_exact_change_of_variables():
    t = Fraction(100, 121)                                     # R = 1.1 r
    m0, h = shell_coordinates(t)
    p = {(2, 1, 0): Fraction(3), (0, 0, 3): Fraction(-1, 2), (1, 1, 1): Fraction(5, 7),
         (0, 0, 0): Fraction(1, 9)}
    q = to_shell(p, t)
    rnd = random.Random(0)
    for _ in range(5):
        al, be, c = (Fraction(rnd.randint(-9, 9), 9) for _ in range(3))
        assert _ev(q, al, be, c) == _ev(p, m0 + h * al, m0 + h * be, c)
    a, b, c = Fraction(19, 20), Fraction(97, 100), Fraction(1, 10)   # an admissible triangle
    al, be = (a - m0) / h, (b - m0) / h
    for g, gs in zip(base_polynomials(t), shell_base_polynomials(t), strict=True):
        v, vs = _ev(g, a, b, c), _ev(gs, al, be, c)
        assert v > 0 and vs > 0 and vs / v in (1, 1 / h)


def test_formulation_validates_and_orders_its_sos_terms():
    with pytest.raises(DiscoveryError):
        Formulation(4, 19, 6, 1, Fraction(10), Fraction(5))     # R < r
    with pytest.raises(DiscoveryError):
        Formulation(4, 18, 6, 1, Fraction(9), Fraction(10))     # even d2
    with pytest.raises(DiscoveryError):
        Formulation(4, 19, 6, 1, Fraction(9), Fraction(10), ((7,),))   # no such polynomial
    with pytest.raises(DiscoveryError):
        Formulation(4, 19, 6, 1, Fraction(9), Fraction(10), sos_degree=7)
    f = Formulation(4, 19, 6, 1, Fraction(9), Fraction(10), ((5,), (0,), (2, 5), (0,)))
    assert f.multipliers == ((0,), (2, 5), (5,)) and f.sos_degree == 8
    # sigma_0 has the monomials of degree <= 4; sigma_g of degree <= (8 - deg g) / 2
    assert [len(b) for b, _ in f.sos_terms()] == [35, 20, 10, 20]
    vocab = multiplier_vocabulary(2)
    assert (5,) in vocab and (5, 5) not in vocab and all(len(m) <= 2 for m in vocab)


def test_exp_taylor_encloses_the_exponential():
    from flint import fmpq

    S, delta = exp_taylor(Fraction(9), Fraction(10))
    assert 0 < delta < Fraction(1, 10**12)
    for u in (Fraction(9), Fraction(19, 2), Fraction(10)):
        assert abs(float(S(fmpq(u.numerator, u.denominator))) - math.exp(float(u) / 2)) < 1e-10


def test_factors_are_psd_by_construction_and_round_trip():
    rng = np.random.default_rng(3)
    B = rng.normal(size=(6, 3))
    F = Factor.from_psd(B @ B.T)                               # rank 3
    assert len(F.rows[0]) == 3
    G = np.array([[float(x) for x in row] for row in F.gram()])
    assert np.allclose(G, B @ B.T, atol=1e-12)
    assert Factor.from_dict(json.loads(json.dumps(F.to_dict()))) == F
    # an indefinite matrix loses its negative part (the factor stays PSD)
    assert len(Factor.from_psd(np.diag([1.0, -1.0])).rows[0]) == 1


# --------------------------------------------------------- the stored certificate (n = 4)


@pytest.fixture(scope="module")
def stored():
    return ThreePointCertificate.from_dict(json.loads(TP_CERT.read_text()))


def test_stored_three_point_certificate_verifies_below_the_lp_bound(stored):
    """Acceptance (issue 7): a verified three-point bound for n = 4 strictly below the LP
    bound 0.647705 -- and below our own exactly verified LP certificate -- but above the
    D4 lattice packing and above Cohn-de Laat-Salmon's value at higher degree."""
    v = verify_three_point(stored)
    assert v.verified, v.failures
    bound = Fraction(v.bound)
    lp = verify_lp_certificate(LPCertificate.from_dict(json.loads(LP_CERT.read_text())))
    assert lp.verified
    assert bound < Fraction(lp.bound) < Fraction(str(LP4)) + Fraction(1, 10**6)
    assert bound < Fraction(str(LP4)) - Fraction(1, 1000)      # a real improvement
    assert Fraction(str(CDLS4)) < bound                         # degree 9 of CdLS does better
    assert Fraction(str(D4)) < bound                            # and D4 packs below it
    assert float(v.lower) <= float(bound) and v.seconds < 60
    assert stored.form.dimension == 4 and stored.form.kernel_degree <= 10


def test_the_remainder_of_the_sos_identity_is_small_and_positive(stored):
    rho = sos_remainder(stored)
    rho0 = rho[(0, 0, 0)]
    assert rho0 > 0
    assert sum(abs(v) for e, v in rho.items() if e != (0, 0, 0)) < rho0 / 10


@pytest.mark.parametrize("tamper", ["kernel", "gram", "f2", "radius"])
def test_a_tampered_certificate_is_rejected(stored, tamper):
    data = stored.to_dict()
    bad = copy.deepcopy(data)
    if tamper == "kernel":        # a larger radial-angular coefficient breaks the SOS identity
        rows = bad["kernel_factors"][2]["rows"]
        rows[0] = [2 * x for x in rows[0]]
    elif tamper == "gram":        # dropping sigma_0 leaves -p uncovered
        bad["gram_factors"][0]["rows"] = [[0] * len(r) for r in bad["gram_factors"][0]["rows"]]
    elif tamper == "f2":          # f2 grows: f2 > 0 beyond R
        bad["f2_laguerre"][0] = str(Fraction(bad["f2_laguerre"][0]) + 1)
    else:                         # same data, claimed for a larger minimal distance r
        bad["u0"] = str(Fraction(bad["u0"]) * Fraction(101, 100))
    v = verify_three_point(ThreePointCertificate.from_dict(bad))
    assert not v.verified and v.failures and v.bound is None


def test_certificate_json_round_trip_and_format_checks(stored):
    d = stored.to_dict()
    again = ThreePointCertificate.from_dict(json.loads(json.dumps(d)))
    assert again.to_dict() == d and again.key == stored.key
    with pytest.raises(DiscoveryError):
        ThreePointCertificate.from_dict({**d, "version": 99})
    with pytest.raises(DiscoveryError):
        ThreePointCertificate.from_dict({**d, "format": "cohn-elkies-lp-certificate"})


# ------------------------------------------------------------------------ solve + verify


@pytest.mark.slow
def test_small_three_point_sdp_is_verified_and_beats_the_lp_at_the_same_degree():
    """Solve (cvxpy + Clarabel), round, verify exactly: degree 8 kernel, d2 = 15."""
    from solvers.packing.three_point import three_point_bound

    r = math.sqrt(9.105 / (2 * math.pi))
    lp_only = three_point_bound(Formulation.from_radii(4, 15, 0, 0, r, 1.05 * r))
    res = three_point_bound(Formulation.from_radii(4, 15, 6, 1, r, 1.05 * r))
    assert lp_only.verified and res.verified, (lp_only.failures, res.failures)
    assert Fraction(str(D4)) < Fraction(res.bound) < Fraction(lp_only.bound)
    assert Fraction(lp_only.bound) > Fraction(str(LP4))        # degree 15 is above the optimum
