"""Berlekamp–Massey (mod p and exact), recurrence terms, pattern shapes, signed CF patterns."""

from __future__ import annotations

import json
import math
import random
from fractions import Fraction
from pathlib import Path

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.continued_fractions import PCF
from solvers.errors import DiscoveryError
from solvers.recurrences import (
    LinearRecurrence,
    berlekamp_massey,
    berlekamp_massey_mod,
    classify,
    find_recurrence,
    fit_polynomial,
)
from solvers.signed_cf import SignedCFPattern, primitive_period

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"
ROWS = json.loads((REFERENCE / "esma_patterns.json").read_text())
FIB = [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610]


def _row_pattern(row: dict) -> SignedCFPattern:
    L = len(row["recurrence"]) - 1
    return SignedCFPattern(tuple(row["signs"]), tuple(row["recurrence"]), row["first_terms"][:L])


# --------------------------------------------------------------------------- Berlekamp–Massey


def test_fibonacci_connection_polynomial_is_1_minus_x_minus_x2():
    assert berlekamp_massey(FIB) == (1, -1, -1)
    assert berlekamp_massey_mod(FIB, 199) == (1, 198, 198)


@pytest.mark.parametrize("k", [0, 1, 2, 3, 5])
def test_polynomial_of_degree_k_has_connection_polynomial_1_minus_x_to_k_plus_1(k):
    seq = [2 * n**k + 7 for n in range(40)]
    expected = tuple((-1) ** i * math.comb(k + 1, i) for i in range(k + 2))
    assert berlekamp_massey(seq) == expected
    assert find_recurrence(seq).pattern().kind == "polynomial"
    assert find_recurrence(seq).pattern().degree == k


def test_interleaved_linear_polynomials_of_period_3_give_1_minus_x3_squared():
    # a(3m) = 1, a(3m+1) = 2m + 2, a(3m+2) = 1: the tail of e = [2; 1, 2, 1, 1, 4, ...]
    seq = [v for m in range(20) for v in (1, 2 * m + 2, 1)]
    assert berlekamp_massey(seq) == (1, 0, 0, -2, 0, 0, 1)


def test_preamble_is_kept_as_trailing_zeros():
    # the simple continued fraction of e: the integer part 2 does not follow the pattern
    seq = [2] + [v for m in range(20) for v in (1, 2 * m + 2, 1)]
    conn = berlekamp_massey(seq)
    assert conn == (1, 0, 0, -2, 0, 0, 1, 0)
    rec = LinearRecurrence(conn, tuple(seq[:7]))
    assert rec.preamble_length == 1
    assert rec.terms(len(seq)) == tuple(seq)
    # stripping the zero (as the published code does) loses the value: the terms change
    stripped = LinearRecurrence(conn[:-1], tuple(seq[:6]))
    assert stripped.terms(len(seq)) != tuple(seq)


def test_periodic_sequence_with_preamble():
    seq = [7, 9] + [1, 2, 3] * 12
    rec = find_recurrence(seq)
    assert rec.reduced_connection() == (1, 0, 0, -1)
    assert rec.preamble_length == 2
    shape = rec.pattern()
    assert shape.kind == "periodic" and shape.period == 3 and shape.preamble == (7, 9)


@pytest.mark.parametrize("p", [199, 10007])
@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r['constant']}{r['signs']}")
def test_mod_p_and_exact_berlekamp_massey_agree_on_reference_sequences(row, p):
    seq = list(_row_pattern(row).terms(100))
    exact = berlekamp_massey(seq)
    assert exact == tuple(row["recurrence"])
    assert berlekamp_massey_mod(seq, p) == tuple(c % p for c in exact)


def test_mod_p_and_exact_agree_on_random_recurrences():
    rng = random.Random(20230701)
    for _ in range(50):
        L = rng.randint(1, 8)
        conn = (1,) + tuple(rng.randint(-3, 3) for _ in range(L - 1)) + (rng.choice([-1, 1]),)
        init = tuple(rng.randint(-9, 9) for _ in range(L))
        seq = list(LinearRecurrence(conn, init).terms(60))
        exact = berlekamp_massey(seq)
        assert len(exact) - 1 <= L
        assert LinearRecurrence(exact, tuple(seq[: len(exact) - 1])).terms(60) == tuple(seq)
        assert berlekamp_massey_mod(seq, 10007) == tuple(c % 10007 for c in exact)


def test_random_sequence_is_rejected_early():
    rng = random.Random(1)
    seq = [rng.randint(1, 30) for _ in range(100)]
    assert berlekamp_massey_mod(seq, 199, max_order=24) is None
    assert find_recurrence(seq, max_order=24) is None
    # without a cap the linear complexity of a random sequence is about half its length
    assert 45 <= len(berlekamp_massey(seq)) - 1 <= 55


def test_exact_berlekamp_massey_handles_rational_recurrences():
    # a(n) = a(n-1)/2 scaled to integers: 2^k * (1/2)^n  ->  2a(n) - a(n-1) = 0
    seq = [2**20 >> n for n in range(15)]
    assert berlekamp_massey(seq) == (2, -1)
    assert LinearRecurrence((2, -1), (2**20,)).terms(15) == tuple(seq)


def test_non_integral_terms_raise():
    with pytest.raises(DiscoveryError, match="not an integer"):
        LinearRecurrence((2, -1), (3,)).terms(3)


def test_bad_recurrences_are_rejected():
    with pytest.raises(ValueError):
        LinearRecurrence((0, 1), (1,))
    with pytest.raises(ValueError):
        LinearRecurrence((1, -1, -1), (1,))


@settings(max_examples=60, deadline=None)
@given(
    conn=st.lists(st.integers(-4, 4), min_size=1, max_size=6),
    init=st.lists(st.integers(-20, 20), min_size=6, max_size=6),
)
def test_find_recurrence_reproduces_every_term(conn, init):
    c = (1, *conn)
    seq = LinearRecurrence(c, tuple(init[: len(conn)])).terms(40)
    rec = find_recurrence(seq)
    assert rec is not None
    assert rec.order <= len(conn)
    assert rec.terms(40) == seq


# --------------------------------------------------------------------------- shapes


def test_fit_polynomial_is_exact_over_q():
    assert fit_polynomial([0, 1, 3, 6, 10]) == (0, Fraction(1, 2), Fraction(1, 2))
    assert fit_polynomial([4, 4, 4]) == (4,)


def test_fibonacci_is_a_general_recurrence_not_a_polynomial_pattern():
    assert classify(find_recurrence(FIB)).kind == "recurrence"


EXPECTED_SHAPES = {
    ("e", (1,)): ("interleaved", (2,), 3),
    ("(e+1)/(e-1)", (1,)): ("polynomial", (), 1),
    ("e/(e-2)", (1,)): ("interleaved", (), 6),
    ("e^2", (1, -1, 1)): ("interleaved", (7,), 9),
    ("besseli(0,2)/besseli(1,2)", (1,)): ("polynomial", (), 1),
    ("besseli(1,2)/besseli(0,2)", (-1, 1, 1)): ("interleaved", (1, 3, 3), 3),
}


@pytest.mark.parametrize("key", sorted(EXPECTED_SHAPES), ids=str)
def test_reference_patterns_have_the_expected_shape(key):
    row = next(r for r in ROWS if (r["constant"], tuple(r["signs"])) == key)
    shape = _row_pattern(row).pattern()
    assert (shape.kind, shape.preamble, shape.period) == EXPECTED_SHAPES[key]
    assert shape.is_integral()


def test_e_pattern_reads_like_the_mathematics():
    e = _row_pattern(ROWS[0])
    assert repr(e.pattern()) == (
        "Pattern(interleaved, preamble=(2,), a(1 + 3m) = 1, a(2 + 3m) = 2m + 2, a(3 + 3m) = 1)"
    )


# --------------------------------------------------------------------------- signed CF patterns


def test_primitive_period():
    assert primitive_period((1, 1, 1)) == (1,)
    assert primitive_period((-1, 1, -1, 1)) == (-1, 1)
    with pytest.raises(ValueError):
        primitive_period((1, 0))


def _value(text: str, dps: int):
    from solvers.expr import evaluate_expression

    return evaluate_expression(text, dps)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r['constant']}{r['signs']}")
def test_reference_pattern_converges_to_its_constant(row):
    pat = _row_pattern(row)
    assert pat.terms(24) == tuple(row["first_terms"])
    ctx = mpmath.MPContext()
    ctx.dps = 60
    lim = pat.limit(600, dps=60)
    assert abs(lim.value - ctx.mpf(_value(row["constant"], 60))) < ctx.mpf(10) ** -50


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r['constant']}{r['signs']}")
def test_contraction_is_a_pcf_whose_mobius_image_is_the_constant(row):
    pat = _row_pattern(row)
    c = pat.contraction()
    assert c is not None
    assert c.fold % len(pat.signs) == 0 and c.fold % pat.pattern().period == 0
    assert pat.contract_to_pcf() == c.pcf
    ctx = mpmath.MPContext()
    ctx.dps = 80
    y = ctx.mpf(c.pcf.limit(400, dps=80).value)
    A, B, C, D = c.mobius
    x = (A * y + B) / (C * y + D)
    assert abs(x - ctx.mpf(_value(row["constant"], 80))) < ctx.mpf(10) ** -60


def test_contraction_of_cot1_is_the_classical_pcf():
    cot1 = SignedCFPattern((-1,), (1, -2, 1), (1, 3))
    c = cot1.contraction()
    assert c.pcf == PCF("2n+1", "-1") and c.mobius == (1, 0, 0, 1)


def test_contraction_of_e_is_the_euler_pcf_of_coth_half():
    # e = [2; 1, 2, 1, 1, 4, ...] contracts 3-fold to (e + 1)/(e - 1) = 2 + 1/(6 + 1/(10 + ...))
    c = _row_pattern(ROWS[0]).contraction()
    assert c.pcf == PCF("4n+2", "1") and c.mobius == (1, 1, 1, -1) and c.fold == 3


def test_non_polynomial_terms_do_not_contract():
    golden = SignedCFPattern((1,), (1, -1, -1), (1, 1))  # Fibonacci terms: exponential growth
    assert golden.pattern().kind == "recurrence"
    assert golden.contraction() is None


def test_pattern_dict_round_trip_and_key_normalisation():
    pat = _row_pattern(ROWS[1])
    d = pat.to_dict()
    assert SignedCFPattern.from_dict({**d, "lhs": "ignored"}) == pat
    # the same formula written with a longer (non-minimal) recurrence has the same key
    longer = SignedCFPattern(pat.signs * 2, pat.recurrence + (0,), pat.terms(len(pat.recurrence)))
    assert longer.signs == pat.signs
    assert longer != pat and longer.key == pat.key
    assert pat.key.startswith("esma:")


def test_signed_pattern_convergents_match_the_kernel_convention():
    # cot(1) = 1 - 1/(3 - 1/(5 - ...)): p_1/q_1 = 1 - 1/3 = 2/3
    p0, p1, q0, q1 = SignedCFPattern((-1,), (1, -2, 1), (1, 3)).convergents(1)
    assert Fraction(int(p1), int(q1)) == Fraction(2, 3)
    assert (int(p0), int(q0)) == (1, 1)
