"""Three-point machinery (exact pieces), the SDP game engine, and the packing CLI."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest
from typer.testing import CliRunner

from discovery.commands.packing import packing_app, parse_dimensions, run_sdp_game
from search.base import execute, make_engine
from search.sdp_game import GaussianProcess, expected_improvement
from solvers.errors import DiscoveryError, EngineError
from solvers.packing.three_point import (
    Formulation,
    _harmonic,
    _psd_exact,
    gegenbauer,
    multiplier_vocabulary,
)

runner = CliRunner()


# ------------------------------------------------------------------ three-point pieces


@pytest.mark.parametrize("n", [2, 3, 4, 8])
def test_gegenbauer_polynomials_are_normalised_and_orthogonal_on_the_sphere(n):
    # orthogonality on S^(n-1): weight sin(theta)^(n-2) d theta, t = cos(theta)
    theta = np.linspace(0, np.pi, 200001)
    t = np.cos(theta)
    w = np.sin(theta) ** (n - 2)
    polys = [np.polynomial.Polynomial([float(c) for c in gegenbauer(k, n)]) for k in range(5)]
    for k, p in enumerate(polys):
        assert p(1.0) == pytest.approx(1.0)
        for j in range(k):
            inner = np.trapezoid(p(t) * polys[j](t) * w, theta)
            assert abs(inner) < 1e-3


def test_zonal_harmonic_polynomial_matches_its_definition():
    # H_2 in n = 4: (xy) P_2(z / sqrt(xy)) with P_2(t) = (4t^2 - 1)/3
    H = _harmonic(2, 4)
    x, y, z = 0.7, 0.4, 0.3
    direct = x * y * (4 * (z / math.sqrt(x * y)) ** 2 - 1) / 3
    value = sum(float(c) * x**a * y**b * z**e for (a, b, e), c in H.items())
    assert value == pytest.approx(direct)


def test_exact_psd_test_accepts_gram_matrices_and_rejects_indefinite_ones():
    F = Fraction
    assert _psd_exact([[F(2), F(1)], [F(1), F(2)]])
    assert _psd_exact([[F(1), F(1)], [F(1), F(1)]])  # singular but PSD
    assert not _psd_exact([[F(1), F(2)], [F(2), F(1)]])
    assert not _psd_exact([[F(1), F(1)], [F(1), F(1) - F(1, 10**30)]])


def test_formulation_validates_its_parameters_and_the_vocabulary_respects_degree():
    with pytest.raises(DiscoveryError):
        Formulation(4, 23, 4, Fraction(10), Fraction(5))  # R < r
    with pytest.raises(DiscoveryError):
        Formulation(4, 22, 4, Fraction(5), Fraction(10))  # even d2
    vocab = multiplier_vocabulary(2)
    assert (5,) in vocab and (5, 5) not in vocab  # ab - c^2 has degree 2
    assert all(len(m) <= 2 for m in vocab)


# --------------------------------------------------------------------------- the GP


def test_gaussian_process_interpolates_and_expected_improvement_prefers_promising_points():
    X = np.array([[0.1], [0.5], [0.9]])
    y = np.array([1.0, 0.2, 1.0])
    gp = GaussianProcess(length=0.2).fit(X, y)
    mu, sd = gp.predict(X)
    assert np.allclose(mu, y, atol=1e-3) and np.all(sd < 1e-2)
    ei = expected_improvement(*gp.predict(np.array([[0.5], [0.95]])), 0.2)
    assert ei[0] > ei[1]


# --------------------------------------------------------------------- the SDP game


def test_sdp_game_is_reproducible_from_its_seed_and_improves_on_the_default():
    cfg = {"evaluations": 24, "evaluator": "synthetic", "r": 1.1, "seed": 3}
    a = run_sdp_game(cfg)
    b = run_sdp_game(cfg)
    assert [h["r"] for h in a["history"]] == [h["r"] for h in b["history"]]
    assert [h["mults"] for h in a["history"]] == [h["mults"] for h in b["history"]]
    c = run_sdp_game({**cfg, "seed": 4})
    assert [h["r"] for h in a["history"]] != [h["r"] for h in c["history"]]
    bounds = [h["bound"] for h in a["history"]]
    assert min(bounds) < bounds[0]  # the synthetic landscape rewards moving off the default
    kinds = {h["kind"] for h in a["history"]}
    assert kinds == {"default", "bo", "mcts"}


def test_sdp_game_candidates_carry_improves_edges():
    eng = make_engine("sdp_game", {"evaluations": 6, "evaluator": "synthetic", "r": 1.1})
    edges = []
    while not eng.done():
        for task in eng.ask(2):
            cands = execute(task)
            assert cands[0].kind == "bound" and cands[0].key.startswith("packing-3pt:")
            edges += [rel for rel in cands[0].relations]
            eng.tell(task, cands)
    assert all(kind == "improves" for kind, _ in edges)
    json.dumps(eng.state())  # JSON-able


def test_sdp_game_rejects_unknown_options():
    with pytest.raises(EngineError):
        make_engine("sdp_game", {"evaluations": 1, "nonsense": 1})


# ------------------------------------------------------------------------------ CLI


def test_parse_dimensions():
    assert parse_dimensions("1..3,8") == [1, 2, 3, 8]
    with pytest.raises(DiscoveryError):
        parse_dimensions("0..3")


def test_cli_lp_json_reports_a_verified_bound():
    res = runner.invoke(packing_app, ["lp", "--dimension", "3", "--terms", "12", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["dimension"] == 3 and out["verified"] is True
    assert out["method"].startswith("cohn-elkies-lp")
    assert 0.779747 < float(out["bound"]) < 0.79


def test_cli_table_reverifies_stored_certificates_and_plots(tmp_path):
    png = tmp_path / "bounds.png"
    res = runner.invoke(
        packing_app,
        ["table", "--dimensions", "2..4,8,24", "--stored", "--json", "--plot", str(png)],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["all_verified"] and [r["dimension"] for r in out["rows"]] == [2, 3, 4, 8, 24]
    assert png.stat().st_size > 10_000


def test_cli_check_rejects_a_tampered_certificate(tmp_path):
    from discovery.commands.packing import DATA_DIR

    data = json.loads((DATA_DIR / "lp" / "n04.json").read_text())
    data["u0"] = "1/2"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    res = runner.invoke(packing_app, ["check", str(bad)])
    assert res.exit_code == 1
    assert "NOT verified" in res.output
