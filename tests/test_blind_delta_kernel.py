"""The Blind-δ kernel (solvers.blind_delta) against values from outside sources.

References are computed here independently: plain step-by-step recurrences on Python
integers, mpmath constants, closed forms (Fibonacci error formula, a polynomial denominator),
and the 30-digit values of data/reference/pcf_formulas.csv.
"""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pytest
from conftest import load_pcf_rows

from solvers.blind_delta import (
    PREPASS_COLUMNS,
    ROW_KEYS,
    canonical,
    domain,
    domain_size,
    dynamics,
    dynamics_batch,
    prepass,
)
from solvers.continued_fractions import PCF

DEPTH = 2000


def plain_convergents(a, b, depth):
    """``[(p_n, q_n) for n = 0..depth]`` by the recurrence, one step at a time."""
    def ev(c, n):
        return sum(ck * n**k for k, ck in enumerate(c))

    p0, p1, q0, q1 = 1, ev(a, 0), 0, 1
    out = [(p1, q1)]
    for n in range(1, depth + 1):
        an, bn = ev(a, n), ev(b, n)
        p0, p1 = p1, an * p1 + bn * p0
        q0, q1 = q1, an * q1 + bn * q0
        out.append((p1, q1))
    return out


def plain_delta(a, b, depth=DEPTH):
    """(δ naive, δ reduced) at depth/2 against the depth-N convergent, straightforwardly."""
    conv = plain_convergents(a, b, depth)
    (pN, qN), (p, q) = conv[depth], conv[depth // 2]
    g = math.gcd(p, q)
    with mpmath.workdps(20000):
        err = abs(mpmath.mpf(pN) / qN - mpmath.mpf(p) / q)
        num = -mpmath.log(err)
        return (float(num / mpmath.log(abs(q)) - 1), float(num / mpmath.log(abs(q) // g) - 1))


# --------------------------------------------------------------------------- the domain


def test_domain_size_is_the_papers_count():
    assert domain_size() == domain_size(2, 2, 5) == 1_768_900 == 1330 * 1330
    assert domain_size(0, 1, 1) == 2 * 8


@pytest.mark.parametrize("da, db, c", [(0, 1, 1), (1, 1, 2), (2, 1, 1), (1, 2, 1)])
def test_domain_order_is_the_documented_one(da, db, c):
    R = range(-c, c + 1)
    A = [t[::-1] for t in itertools.product(R, repeat=da + 1)]   # leading coefficient first
    A = [a for a in A if any(a) and [x for x in a if x][-1] > 0]
    B = [t[::-1] for t in itertools.product(R, repeat=db + 1) if any(t)]
    expect = []
    for a in A:
        for b in B:
            expect += [list(a) + list(b), [-x for x in a] + list(b)]
    assert domain(da, db, c).tolist() == expect
    assert len(expect) == domain_size(da, db, c)


def test_default_domain_rows_are_distinct_complete_and_sliceable():
    rows = domain()
    assert rows.shape == (1_768_900, 6) and rows.dtype == np.int64
    assert rows.min() == -5 and rows.max() == 5
    assert rows[:, :3].any(axis=1).all() and rows[:, 3:].any(axis=1).all()   # a, b != 0
    code = ((rows + 5) * 11 ** np.arange(6)).sum(axis=1)
    assert len(np.unique(code)) == 1_768_900                  # distinct, so all 11^6 - ... rows
    assert np.array_equal(rows[0::2, 3:], rows[1::2, 3:])     # mirror pairs: same b,
    assert np.array_equal(rows[0::2, :3], -rows[1::2, :3])    # opposite a
    for start, stop in [(0, 7), (883_449, 883_452), (1_768_890, 1_768_900)]:
        assert np.array_equal(domain(start=start, stop=stop), rows[start:stop])
    with pytest.raises(ValueError):
        domain(start=5, stop=1_768_901)


def test_canonical_sign():
    assert canonical((1, 2, -3), (0, 1)) == ((-1, -2, 3), (0, 1), -1)
    assert canonical((-4, 1, 0), (1,)) == ((-4, 1, 0), (1,), 1)
    with pytest.raises(ValueError):
        canonical((0, 0), (1,))


# --------------------------------------------------------------------------- known formulas


def test_euler_lambert_4_over_pi():
    r = dynamics((1, 2, 0), (0, 0, 1))              # PCF(2n+1, n^2) = 4/pi
    assert set(r) == set(ROW_KEYS)
    assert r["status"] == "converges" and r["depth"] == DEPTH
    with mpmath.workdps(60):
        four_over_pi = 4 / mpmath.pi
        assert abs(mpmath.mpf(r["limit"]) - four_over_pi) < mpmath.mpf(10) ** -38
    assert len(r["limit"].replace(".", "").lstrip("0")) == 40
    naive, reduced = plain_delta((1, 2), (0, 0, 1))
    assert r["delta_naive"] == pytest.approx(naive, abs=1e-9)
    assert r["delta"] == pytest.approx(reduced, abs=1e-9)
    assert -0.25 < r["delta"] < -0.15 and r["delta"] > r["delta_naive"]   # the gcd matters here
    # Characteristic roots 1 +- sqrt 2: error ~ (1 + sqrt 2)^(-2n).
    assert r["eig_ratio"] == pytest.approx((1 + math.sqrt(2)) ** 2, rel=1e-6)
    assert r["rate"] == pytest.approx(2 * math.log10(1 + math.sqrt(2)), abs=1e-3)
    assert r["gamma"] == pytest.approx(-2 * math.log(1 + math.sqrt(2)), abs=0.01)
    assert r["digits"] > 1500


def test_golden_ratio_delta_is_one():
    r = dynamics((1,), (1,))                        # PCF(1, 1): Fibonacci convergents
    phi = (1 + mpmath.sqrt(5)) / 2
    with mpmath.workdps(60):
        assert abs(mpmath.mpf(r["limit"]) - (1 + mpmath.sqrt(5)) / 2) < mpmath.mpf(10) ** -38
    # Consecutive Fibonacci numbers are coprime: reduced = naive.
    assert r["delta"] == r["delta_naive"]
    # |phi - p_n/q_n| = 1 / (q_n (phi q_n + q_{n-1})) exactly, so δ = log(q(phi q + q'))/log q - 1
    # -> 1 (irrationality exponent 2 in the normalisation |L - p/q| = q^-(1+δ)).
    conv = plain_convergents((1,), (1,), DEPTH // 2)
    q, q_prev = conv[-1][1], conv[-2][1]
    with mpmath.workdps(50):
        expect = mpmath.log(q * (phi * q + q_prev)) / mpmath.log(q) - 1
    assert r["delta"] == pytest.approx(float(expect), abs=1e-9)
    assert abs(r["delta"] - 1) < 0.002
    assert r["eig_ratio"] == pytest.approx(float(phi**2), rel=1e-9)
    assert r["rate"] == pytest.approx(2 * math.log10(float(phi)), abs=1e-6)
    assert r["d"] == pytest.approx(0, abs=0.01)
    assert r["c"] == pytest.approx(math.log(float(phi)), abs=0.01)


def _in_domain(rows):
    out = []
    for row in rows:
        pcf = PCF(row["a"], row["b"])
        if max(pcf.degree) <= 2 and all(abs(c) <= 5 for c in pcf.a + pcf.b):
            out.append((row, pcf))
    return out


REFERENCE = _in_domain(load_pcf_rows())


def test_reference_formulas_in_the_domain_are_many():
    names = {row["name"] for row, _ in REFERENCE}
    assert {"Euler e", "e itself", "Ramanujan Machine pi", "ln2 A", "lemniscate C",
            "Gauss-Lambert 4/pi", "Brouncker slow"} <= names
    assert len(REFERENCE) >= 20


@pytest.mark.parametrize("row, pcf", REFERENCE, ids=[r["name"] for r, _ in REFERENCE])
def test_reference_limits(row, pcf):
    r = dynamics(pcf.a, pcf.b)
    if int(row["digits_at_depth"]) < 10:           # Brouncker: converges like 1/n
        assert r["status"] == "unknown" and "too slow" in r["reason"]
        assert r["limit"] is None
        assert r["limit_float"] == pytest.approx(float(row["value"]), abs=1e-3)
        return
    assert r["status"] == "converges", r["reason"]
    with mpmath.workdps(40):
        ref = mpmath.mpf(row["value"])
        assert abs(mpmath.mpf(r["limit"]) - ref) <= abs(ref) * mpmath.mpf(10) ** -28
    assert r["limit_float"] == pytest.approx(float(row["value"]), rel=1e-15)
    naive, reduced = plain_delta(pcf.a, pcf.b)
    assert r["delta_naive"] == pytest.approx(naive, abs=1e-9)
    assert r["delta"] == pytest.approx(reduced, abs=1e-9)
    for key in ROW_KEYS[5:-1]:
        assert math.isfinite(r[key]), key


# --------------------------------------------------------------------------- statuses


def test_terminating_pcf_has_its_exact_rational_value():
    r = dynamics((2,), (-3, 1))      # b(3) = 0: 2 + (-2)/(2 + (-1)/2) = 2/3
    assert r["status"] == "terminates" and "b(3) = 0" in r["reason"] and "2/3" in r["reason"]
    assert r["limit"] == "0." + "6" * 39 + "7"
    assert r["limit_float"] == 2 / 3 and r["digits"] == math.inf
    assert math.isnan(r["delta"]) and math.isnan(r["eig_ratio"])
    r = dynamics((1,), (-3, 1))      # 1 + (-2)/(1 + (-1)/1): a zero denominator
    assert r["status"] == "terminates" and r["limit"] is None and "infinite" in r["reason"]


def test_period_three_diverges_with_vanishing_denominators():
    # PCF(1, -1): q_n = 1, 1, 0, -1, -1, 0, ...; the convergents cycle 1, 0, infinity.
    conv = plain_convergents((1,), (-1,), 12)
    assert [q for _, q in conv] == [1, 1, 0, -1, -1, 0, 1, 1, 0, -1, -1, 0, 1]
    r = dynamics((1,), (-1,))
    assert r["status"] == "diverges" and r["reason"].startswith("q_n = 0")
    assert r["limit"] is None and math.isnan(r["limit_float"]) and math.isnan(r["delta"])


def test_complex_roots_oscillate():
    # PCF(1, -n): x^2 - x + n has complex roots of equal modulus for n >= 1, so no solution
    # of the recurrence is minimal and (Pincherle) the fraction diverges.
    r = dynamics((1,), (0, -1))
    assert r["status"] == "diverges" and r["reason"].startswith("oscillation")
    assert r["eig_ratio"] == 1.0 and math.isnan(r["delta_predicted"])


def test_minimal_denominators_make_the_convergents_grow():
    a, b = (-5, -2, 3), (1, 4, 3)
    conv = plain_convergents(a, b, 60)
    assert all(q == (-1) ** n * (n + 1) ** 2 for n, (_, q) in enumerate(conv))
    r = dynamics(a, b)
    assert r["status"] == "diverges" and "grow without limit" in r["reason"]


def test_zero_polynomials_are_rejected():
    with pytest.raises(ValueError):
        dynamics((0, 0), (1,))
    with pytest.raises(ValueError):
        dynamics((1,), (0,))
    with pytest.raises(ValueError):
        dynamics_batch(np.array([[1, 0, 1]]))      # odd column count needs a_degree


# --------------------------------------------------------------------------- symmetry, batch


def same(r1: dict, r2: dict) -> bool:
    """Equal rows, NaN equal to NaN."""
    def eq(x, y):
        return x == y or (isinstance(x, float) and isinstance(y, float)
                          and math.isnan(x) and math.isnan(y))

    return r1.keys() == r2.keys() and all(eq(r1[k], r2[k]) for k in r1)


def test_mirror_pcf_has_the_opposite_limit_and_the_same_dynamics():
    a, b = (1, 2, 0), (0, 0, 1)
    conv, mirror = plain_convergents(a, b, 30), plain_convergents((-1, -2, 0), b, 30)
    assert all(p2 * q1 == -p1 * q2 for (p1, q1), (p2, q2) in zip(conv, mirror, strict=True))
    rows = np.array([[1, 2, 0, 0, 0, 1], [-1, -2, 0, 0, 0, 1], [2, -3, 1, 1, 1, 0]])
    r, m, other = dynamics_batch(rows)
    assert m["limit"] == "-" + r["limit"] and m["limit_float"] == -r["limit_float"]
    for key in ROW_KEYS[6:]:
        assert m[key] == r[key], key
    assert m["a"] == (-1, -2, 0) and r["a"] == (1, 2, 0)
    assert same(dynamics((-1, -2, 0), (0, 0, 1)), m)
    assert other["status"] == "converges"


def test_batch_equals_single_and_prepass_agrees_on_a_domain_chunk():
    rows = domain(start=700_000, stop=700_060)
    batch = dynamics_batch(rows, depth=600)
    pre = prepass(rows, depth=600)
    cols = {name: i for i, name in enumerate(PREPASS_COLUMNS)}
    for row, res, p in zip(rows, batch, pre, strict=True):
        assert same(res, dynamics(row[:3], row[3:], depth=600))
        if res["status"] == "converges":
            assert p[cols["x_N"]] == pytest.approx(res["limit_float"], rel=1e-12)
            assert -p[cols["E_N"]] == pytest.approx(res["digits"], rel=1e-9)
        if res["status"] == "terminates":
            assert p[cols["term"]] > 0
