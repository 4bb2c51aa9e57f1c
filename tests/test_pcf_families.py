"""Normal forms of PCFs (solvers.pcf_families): covariance, exact maps, claims of Möbius images.

The expected values come from data/reference/pcf_formulas.csv (limits from outside sources)
and from exact identities worked out here (inflation scales the limit by c(0), negating a
negates it, a shift n -> n+k moves to the tail y_k of y_j = a(j) + b(j+1)/y_{j+1}); nothing
the code under test computes is used as an expected answer.
"""

from __future__ import annotations

import math
import random
import time
from fractions import Fraction

import mpmath
import pytest
from conftest import load_pcf_rows

from discovery.families import claim_image
from solvers.continued_fractions import PCF
from solvers.expr import evaluate_expression, parse_expression
from solvers.pcf_families import (
    MAX_COEFF_BITS,
    NormalForm,
    check_exact,
    is_terminating,
    mobius_apply,
    mobius_compose,
    mobius_invert,
    mobius_normalise,
    normal_form,
    simplicity_key,
)

ROWS = load_pcf_rows()
IDENTITY = (1, 0, 0, 1)
DPS = 60

# Inflation polynomials (ascending coefficients) with no root at n >= 0 (c(n) c(n-1) != 0 for
# n >= 1): constants, n+1, n+2, n+3, 2n+3, 3n+1, 2n+2, n^2+1, n^2+n+1.
INFLATIONS = [(2,), (3,), (5,), (1, 1), (2, 1), (3, 1), (3, 2), (1, 3), (2, 2), (1, 0, 1),
              (1, 1, 1)]


@pytest.fixture(autouse=True)
def _precision():
    """60 digits for the test-side mpmath arithmetic, restored afterwards."""
    with mpmath.workdps(60):
        yield


# --------------------------------------------------------------------------- test-side algebra


def _eval(c, n):
    return sum(int(v) * n**i for i, v in enumerate(c))


def _shift_coeffs(c, k):
    """Coefficients of c(n + k), by the binomial theorem (independent of the library)."""
    out = [0] * len(c)
    for i, v in enumerate(c):
        for j in range(i + 1):
            out[j] += int(v) * math.comb(i, j) * k ** (i - j)
    return tuple(out)


def _shift(p: PCF, k: int) -> PCF:
    return PCF(_shift_coeffs(p.a, k), _shift_coeffs(p.b, k))


def _terminates(p: PCF, upto: int = 200) -> bool:
    """b(n) = 0 for some 1 <= n <= upto (enough for the small PCFs used here)."""
    return any(_eval(p.b, n) == 0 for n in range(1, upto + 1))


def _tail_to_head(p: PCF, k: int, z):
    """The limit y_0 of ``p`` from the limit ``z`` of its shift PCF(a(n+k), b(n+k)).

    For k >= 0: z = y_k and y_j = a(j) + b(j+1)/y_{j+1} (j = k-1, ..., 0).
    For k < 0: z = y_k of the longer fraction; y_{j+1} = b(j+1)/(y_j - a(j)) (j = k, ..., -1).
    """
    y = z
    if k >= 0:
        for j in range(k - 1, -1, -1):
            y = _eval(p.a, j) + _eval(p.b, j + 1) / y
    else:
        for j in range(k, 0):
            y = _eval(p.b, j + 1) / (y - _eval(p.a, j))
    return y


def _limit(p: PCF, depth: int):
    lim = p.limit(depth, dps=DPS + 20)
    return mpmath.mpf(lim.value), lim.digits


def _agree(x, y, digits: int) -> bool:
    x, y = mpmath.mpf(x), mpmath.mpf(y)
    return abs(x - y) <= mpmath.mpf(10) ** (-digits) * max(1, abs(x))


def _transform(p: PCF, seed: int):
    """A seeded random shift (where allowed), inflation and sign change of ``p``.

    Returns the new PCF and the parameters ``(k, c, sign)``.
    """
    rng = random.Random(f"{p!r}/{seed}")
    allowed = [k for k in range(-2, 4) if not _terminates(_shift(p, k))]
    k = rng.choice(allowed)
    c = rng.choice(INFLATIONS)
    sign = rng.choice((1, -1))
    q = _shift(p, k).inflate(c)
    if sign < 0:
        q = PCF(tuple(-v for v in q.a), q.b)
    return q, (k, c, sign)


def _row_id(row):
    return row["name"]


def _digits_wanted(row) -> int:
    # The slowly converging rows of the table support only a few digits at their depth.
    return min(25, int(row["digits_at_depth"]) - 1)


# --------------------------------------------------------------------------- covariance


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_normal_form_is_covariant_and_its_map_is_true(row, seed):
    p = PCF(row["a"], row["b"])
    x0 = mpmath.mpf(row["value"])  # an outside source
    depth = int(row["depth"]) + 8
    wanted = _digits_wanted(row)

    nf = normal_form(p)
    assert check_exact(p, nf)
    y, y_digits = _limit(nf.pcf, depth)
    assert y_digits >= wanted
    assert _agree(x0, mobius_apply(nf.mobius, y), wanted), (p, nf)

    q, (k, c, sign) = _transform(p, seed)
    nq = normal_form(q)
    assert nq.pcf == nf.pcf, (p, q, (k, c, sign), nq.steps)
    assert check_exact(q, nq)
    # The limit of q is sign * c(0) * y_k; y_k gives back the original limit exactly.
    lim_q = mobius_apply(nq.mobius, y)
    y_k = lim_q / (sign * _eval(c, 0))
    assert _agree(x0, _tail_to_head(p, k, y_k), wanted), (p, q, (k, c, sign), nq)


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_normal_form_is_idempotent(row):
    p = PCF(row["a"], row["b"])
    for q in (p, _transform(p, 7)[0]):
        nf = normal_form(q)
        again = normal_form(nf.pcf)
        assert again == NormalForm(nf.pcf, IDENTITY, 0, ())
        assert again.is_identity


def test_a_direct_shift_and_inflation_of_euler_is_recognised():
    # Sanity check of the test's own algebra on Euler's (e+1)/(e-1) = [2; 6, 10, 14, ...]:
    # the tail [6; 10, 14, ...] = 1/(y - 2) = (e - 1)/(3 - e).
    e = mpmath.e
    p = PCF("4n+2", 1)
    tail = _shift(p, 1)
    assert tail == PCF("4n+6", 1)
    assert _agree(_tail_to_head(p, 1, (e - 1) / (3 - e)), (e + 1) / (e - 1), 50)
    assert _agree(_tail_to_head(tail, -1, (e + 1) / (e - 1)), (e - 1) / (3 - e), 50)


# --------------------------------------------------------------------------- known equalities


def test_shifted_arctan_fraction_normalises_to_the_4_over_pi_fraction():
    q = PCF("2n+3", "(n+1)^2")
    nf = normal_form(q)
    assert nf.pcf == PCF("2n+1", "n^2")
    assert nf.shift == -1
    assert check_exact(q, nf)
    # 4/pi = 1 + 1/y_1, so the tail is pi/(4 - pi) (value from the reference table)
    tail = {r["name"]: r for r in ROWS}["pi/(4-pi)"]
    assert _agree(mobius_apply(nf.mobius, 4 / mpmath.pi), mpmath.mpf(tail["value"]), 28)
    assert _agree(q.limit(300).value, mpmath.mpf(tail["value"]), 28)


def test_inflation_by_n_plus_1_is_deflated():
    q = PCF("2n^2+3n+1", "n^4+n^3")
    assert q == PCF("2n+1", "n^2").inflate("n+1")
    nf = normal_form(q)
    assert nf.pcf == PCF("2n+1", "n^2")
    assert nf.mobius == IDENTITY  # c(0) = 1: same limit
    assert nf.shift == 0 and nf.steps and not nf.is_identity
    assert check_exact(q, nf)
    assert _agree(q.limit(300).value, 4 / mpmath.pi, 28)


def test_apery_is_its_own_normal_form():
    apery = PCF("34n^3+51n^2+27n+5", "-n^6")
    nf = normal_form(apery)
    assert nf == NormalForm(apery, IDENTITY, 0, ())
    assert nf.is_identity
    assert check_exact(apery, nf)


@pytest.mark.parametrize("p", [
    PCF("2n+4", "4n-8"),          # b(2) = 0; would otherwise deflate by 2
    PCF("n^2+3n+2", "n(n+1)(n-3)"),  # b(3) = 0; would otherwise deflate by n+1
    PCF("n+1", 0),
])
def test_terminating_pcf_is_left_alone(p):
    assert is_terminating(p)
    nf = normal_form(p)
    assert nf == NormalForm(p, IDENTITY, 0, ())


def test_non_terminating_pcfs_are_recognised():
    for row in ROWS:
        assert not is_terminating(PCF(row["a"], row["b"]))
    assert not is_terminating(PCF("3n+1", "-2n^2+3n"))  # root 3/2 is not an integer
    assert is_terminating(PCF("n", "n-3"))


def test_huge_coefficients_are_left_alone_quickly():
    big = 2 ** (MAX_COEFF_BITS + 100)
    # 2^K * (2n+1, n^2) inflated by n+1: deflatable in principle, but too big to be treated
    base = PCF("2n+1", "n^2").inflate("n+1")
    p = PCF(tuple(big * v for v in base.a), tuple(big * big * v for v in base.b))
    t0 = time.perf_counter()
    nf = normal_form(p)
    assert time.perf_counter() - t0 < 1.0
    assert nf == NormalForm(p, IDENTITY, 0, ())


def test_simplicity_key_orders_by_degree_then_height():
    ps = [PCF("4n-2", 1), PCF("n^2", 1), PCF(2, 1), PCF("4n+2", 1), PCF(1, "n")]
    ordered = sorted(ps, key=simplicity_key)
    assert ordered[0] == PCF(2, 1)
    assert ordered.index(PCF("4n+2", 1)) < ordered.index(PCF("4n-2", 1))  # fewer negatives
    assert ordered.index(PCF("4n+2", 1)) < ordered.index(PCF("n^2", 1))   # lower degree


# Deflation alone is not confluent: PCF(n+1, n) inflated by n+2 is PCF((n+1)(n+2),
# n(n+1)(n+2)), which is ALSO PCF(n+2, n+2) (a shift of PCF(n, n)) inflated by n+1. The
# normal form explores the rational equivalences that move a factor of a(n) one step, so
# both land on the same representative.
@pytest.mark.parametrize("name", ["Euler e", "Ramanujan Machine pi", "pi 2/(4-pi)"])
def test_inflation_by_n_plus_2_keeps_the_family(name):
    row = {r["name"]: r for r in ROWS}[name]
    p = PCF(row["a"], row["b"])
    assert normal_form(p.inflate("n+2")).pcf == normal_form(p).pcf


@pytest.mark.parametrize("name", ["Euler e", "Ramanujan Machine pi", "pi 2/(4-pi)"])
def test_inflation_by_n_plus_2_still_has_a_true_map(name):
    row = {r["name"]: r for r in ROWS}[name]
    p = PCF(row["a"], row["b"])
    q = p.inflate("n+2")  # c(0) = 2: the limit doubles
    nq = normal_form(q)
    assert check_exact(q, nq)
    y, _ = _limit(nq.pcf, int(row["depth"]) + 8)
    assert _agree(2 * mpmath.mpf(row["value"]), mobius_apply(nq.mobius, y), 25)


# A content larger than 64 bits is undone too, also when a(n) already has a content of its
# own (here 2 | 4n+2 while 4 does not divide b = 2).
@pytest.mark.parametrize("base", [PCF("4n+2", 2), PCF("6n+3", "3n^2")])
def test_inflation_by_a_huge_constant_keeps_the_family(base):
    lam = 2**80 + 13  # far below MAX_COEFF_BITS
    big = PCF(tuple(lam * v for v in base.a), tuple(lam * lam * v for v in base.b))
    assert normal_form(big).pcf == normal_form(base).pcf


@pytest.mark.parametrize("base", [PCF("4n+2", 2), PCF("6n+3", "3n^2"), PCF("2n+1", "n^2")])
def test_inflation_by_a_big_constant_has_a_true_map(base):
    lam = 2**80 + 13
    big = PCF(tuple(lam * v for v in base.a), tuple(lam * lam * v for v in base.b))
    nf = normal_form(big)
    assert check_exact(big, nf)
    x = big.limit(300).value
    assert _agree(x, lam * base.limit(300).value, 40)
    assert _agree(x, mobius_apply(nf.mobius, nf.pcf.limit(300).value), 40)


# --------------------------------------------------------------------------- Möbius maps


def _random_map(rng, bound=5):
    while True:
        m = tuple(rng.randint(-bound, bound) for _ in range(4))
        if m[0] * m[3] - m[1] * m[2] != 0:
            return m


def test_mobius_helpers_are_exact():
    rng = random.Random(2024)
    for _ in range(200):
        m1, m2 = _random_map(rng), _random_map(rng)
        x = Fraction(rng.randint(-50, 50), rng.randint(1, 50))
        assert mobius_compose(m1, mobius_invert(m1)) == IDENTITY
        assert mobius_compose(mobius_invert(m1), m1) == IDENTITY
        n = mobius_normalise(m1)
        assert math.gcd(*n) == 1 and next(v for v in n if v) > 0
        try:
            inner = mobius_apply(m2, x)
            want = mobius_apply(m1, inner)
        except ZeroDivisionError:
            continue
        assert mobius_apply(mobius_compose(m1, m2), x) == want
        assert mobius_apply(mobius_invert(m2), inner) == x
    with pytest.raises(ValueError):
        mobius_invert((1, 2, 2, 4))
    with pytest.raises(ValueError):
        mobius_normalise((0, 0, 0, 0))


# --------------------------------------------------------------------------- claim images

CLAIMS = ["(e+1)/2", "6/zeta(3)", "pi", "tan(1)", "4/pi", "1+sqrt(2)", "(e+1)/(e-1)",
          "1/log(2)", "8/(7*zeta(3))", "catalan", "e^2", "besseli(1,2)/besseli(0,2)"]


def _value(text: str):
    return evaluate_expression(parse_expression(text), 50)


@pytest.mark.parametrize("seed", range(4))
def test_claim_image_is_the_exact_mobius_image(seed):
    rng = random.Random(seed)
    for claim in CLAIMS:
        m = _random_map(rng)
        image = claim_image(claim, m)
        expr = parse_expression(image)  # the safe parser reads it back
        assert expr is not None
        x = mpmath.mpf(_value(claim))
        A, B, C, D = m
        want = (A * x + B) / (C * x + D)
        got = mpmath.mpf(_value(image))
        assert _agree(want, got, 45), (claim, m, image)


def test_claim_image_examples():
    assert claim_image("6/zeta(3)", IDENTITY) == "6/zeta(3)"
    assert claim_image("6/zeta(3)", (-1, 0, 0, -1)) == "6/zeta(3)"
    # x = (e+1)/2: (x + 1)/(1 - x) = (e + 3)/(1 - e)
    image = claim_image("(e + 1)/2", (1, 1, -1, 1))
    assert _agree(_value(image), (mpmath.e + 3) / (1 - mpmath.e), 45)
