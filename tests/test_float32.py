"""The exhaustive float32 ULP checker and float32 polynomials fitted for FMA evaluation."""

from __future__ import annotations

import time

import numpy as np
import pytest

from solvers.float32_check import (
    count_float32,
    exhaustive_ulp,
    fit_float32_polynomial,
    float32_ranges,
    horner_float32,
    ulp32,
    ulp_errors,
)
from solvers.programs import Program

try:
    from conftest import load_json
except ImportError:  # pragma: no cover
    import json
    from pathlib import Path

    def load_json(name):
        return json.loads((Path(__file__).parents[1] / "data" / "reference" / name).read_text())


B6 = load_json("approximation_benchmarks.json")["B6"]

# float32 coefficients of a degree-6 polynomial for 2^x on [0, 1), fitted for FMA Horner
# evaluation by fit_float32_polynomial("2^x", (0, 1), 6, fma=True) (seed 0); exhaustively
# 0.9013 ULP with FMA and 1.2969 ULP with each FMA split into * and + (Sollya's fpminimax:
# 0.896 and 1.28).
DEG6 = [1.0, 0.6931470036506653, 0.24022990465164185, 0.055482447147369385,
        0.00968126580119133, 0.0012413864023983479, 0.0002179877774324268]


def test_float32_counts():
    assert count_float32(0.0, 1.0) == 1_065_353_216
    assert "1,065,353,216" in B6["error"]
    assert count_float32(1.0, 2.0) == 2**23
    assert count_float32(-1.0, 1.0) == 2 * 1_065_353_216
    assert float32_ranges(-2.0, -1.0) == [(0x3F800001, 0x40000001, True)]


def test_endpoints_must_be_float32():
    with pytest.raises(ValueError):
        float32_ranges(0.0, 0.1)


def test_ulp_of_exact_values():
    assert ulp32(np.array([1.0]))[0] == 2.0**-23
    assert ulp32(np.array([1.9999999]))[0] == 2.0**-23
    assert ulp32(np.array([0.75]))[0] == 2.0**-24
    assert ulp32(np.array([0.0]))[0] == 2.0**-149


def test_correctly_rounded_operations_are_within_half_an_ulp():
    # x*x is correctly rounded: at most 0.5 ULP, over every float32 input of [1, 2)
    r = exhaustive_ulp(Program.build(lambda x: x * x), "x^2", (1.0, 2.0))
    assert r.points == 2**23
    assert 0.49 < r.max_ulp <= 0.5
    assert r.over_one == 0
    assert r.max_ulp_exact == pytest.approx(r.max_ulp, abs=1e-9)


def test_negative_intervals_are_scanned():
    r = exhaustive_ulp(Program.build(lambda x: x * 3.0), "3*x", (-2.0, -1.0))
    assert r.points == 2**23 and r.max_ulp <= 0.5 and r.argmax < 0


def test_degree6_fma_beats_no_fma_near_the_worst_inputs():
    # [1/2, 1) holds the worst inputs of both variants (checked exhaustively in the slow
    # test below): 2^23 float32 inputs
    p = horner_float32(DEG6, fma=True)
    assert p.cost == 6 and p.without_fma().cost == 12
    iv = (0.5, 1.0)
    with_fma = exhaustive_ulp(p, "2^x", iv)
    without = exhaustive_ulp(p.without_fma(), "2^x", iv)
    assert with_fma.points == 2**23
    assert with_fma.max_ulp < 1.0 < without.max_ulp
    assert with_fma.max_ulp == pytest.approx(0.9013, abs=1e-3)
    assert without.max_ulp == pytest.approx(1.2969, abs=1e-3)


def test_a_sample_misses_the_worst_case():
    p = horner_float32(DEG6, fma=False)
    rng = np.random.default_rng(0)
    xs = rng.uniform(0, 1, 10_000).astype(np.float32)
    sampled = float(np.max(ulp_errors(p, "2^x", xs)))
    assert sampled < 1.2  # the exhaustive maximum is 1.2969


@pytest.mark.slow
def test_exhaustive_check_of_0_1_fitted_degree6_polynomial():
    """Acceptance: fit a degree-6 polynomial for float32 FMA Horner; over all 1,065,353,216
    float32 inputs of [0, 1) it is below 1 ULP with FMA and above 1 ULP without, each scan in
    under two minutes."""
    p, sample_err = fit_float32_polynomial("2^x", (0.0, 1.0), 6, fma=True)
    assert sample_err < 1.0
    t0 = time.perf_counter()
    r = exhaustive_ulp(p, "2^x", (0.0, 1.0))
    assert time.perf_counter() - t0 < 120
    assert r.points == 1_065_353_216
    assert r.max_ulp < 1.0, r
    assert r.max_ulp_exact < 1.0
    r2 = exhaustive_ulp(p.without_fma(), "2^x", (0.0, 1.0))
    assert r2.max_ulp > 1.0, r2
    assert r2.seconds < 120
