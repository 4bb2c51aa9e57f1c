"""``discovery verify`` checks every kind of formula: PCFs, signed continued fractions (as
``search esma`` prints them), CMF walks, and stored conjectures (re-verified, the evidence
added to the store). Bad combinations of formula sources: tests/test_json_contract.py."""

from __future__ import annotations

import json

import mpmath
import pytest
from typer.testing import CliRunner

from discovery.cli import app
from discovery.store import Store
from discovery.verification import Evidence
from search.base import Candidate
from solvers.continued_fractions import PCF
from solvers.signed_cf import SignedCFPattern

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def run_json(*args) -> dict:
    res = invoke(*args, "--json")
    assert res.exit_code == 0, (res.stdout, res.stderr)
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def esma_results() -> list[dict]:
    """The patterns of a real (small) ESMA search of e, as ``search esma --json`` prints."""
    out = run_json("search", "esma", "--constant", "e", "--degree", "1", "--coeff", "2",
                   "--signs", "1..2", "--depth", "60", "--no-store", "--executor", "serial")
    assert out["results"]
    return out["results"]


def _pattern(results: list[dict], period: int) -> dict:
    rows = [r for r in results if len(r["signs"]) == period and r["verdict"] == "verified"]
    assert rows, f"no verified pattern of sign period {period}"
    return rows[0]


@pytest.mark.parametrize("period", [1, 2])
def test_a_pattern_printed_by_esma_verifies_from_its_json(esma_results, period):
    row = _pattern(esma_results, period)
    scf = json.dumps({k: row[k] for k in ("signs", "recurrence", "first_terms")})
    out = run_json("verify", "--scf", scf, "--claim", row["lhs"], "--digits", 100)
    assert out["verdict"] == "verified" and out["digits"] >= 100
    assert out["kind"] == "esma"
    assert SignedCFPattern.from_dict(out["formula"]) == SignedCFPattern.from_dict(row)
    # the whole result row works too (other keys are ignored), and so does the compact form
    whole = run_json("verify", "--scf", json.dumps(row), "--claim", row["lhs"], "--digits", 100)
    assert whole["verdict"] == "verified"
    compact = invoke("verify", "--signs", ",".join(map(str, row["signs"])),
                     "--recurrence", ",".join(map(str, row["recurrence"])),
                     "--terms", ",".join(map(str, row["first_terms"])),
                     "--claim", row["lhs"], "--digits", 100)
    assert compact.exit_code == 0, compact.stderr
    assert "verified" in compact.stdout and "SignedCFPattern" in compact.stdout


def test_a_signed_cf_with_a_wrong_claim_is_refuted(esma_results):
    row = _pattern(esma_results, 2)
    scf = json.dumps({k: row[k] for k in ("signs", "recurrence", "first_terms")})
    res = invoke("verify", "--scf", scf, "--claim", f"{row['lhs']} + 1/1000", "--digits", 50)
    assert res.exit_code == 1 and "refuted" in res.stdout


def test_golden_ratio_as_a_signed_cf():
    out = run_json("verify", "--signs", "1", "--recurrence", "1,-1", "--terms", "1",
                   "--claim", "(1+sqrt(5))/2", "--digits", 60)
    assert out["verdict"] == "verified" and out["digits"] >= 60


def test_a_cmf_walk_verifies_against_the_limit_cmf_walk_identifies():
    walk = run_json("cmf", "walk", "--cmf", "zeta3", "--trajectory", "1,1", "--start", "1,1")
    claim = walk["relation"]
    assert walk["constant"] == "zeta3" and claim
    # independently (mpmath): the walk's limit is the Möbius image (1 - zeta(3))/zeta(3) of
    # zeta(3), and so is the relation cmf walk printed
    from solvers.expr import evaluate_expression

    ctx = mpmath.MPContext()
    ctx.dps = 60
    z3 = ctx.zeta(3)
    expected = (1 - z3) / z3
    assert abs(ctx.mpf(walk["limit"]) - expected) < ctx.mpf(10) ** -45
    assert abs(ctx.mpf(evaluate_expression(claim, 60)) - expected) < ctx.mpf(10) ** -55
    out = run_json("verify", "--cmf", "zeta3", "--trajectory", "1,1", "--start", "1,1",
                   "--claim", claim, "--digits", 200)
    assert out["verdict"] == "verified" and out["digits"] >= 200
    assert out["kind"] == "cmf"
    assert out["formula"] == {"cmf": "zeta3", "trajectory": [1, 1], "start": ["1", "1"]}
    plain = invoke("verify", "--cmf", "zeta3", "--trajectory", "1,1", "--start", "1,1",
                   "--claim", "zeta(3)", "--digits", 50)
    assert plain.exit_code == 1 and "refuted" in plain.stdout


def test_plots_of_other_kinds(tmp_path):
    png = tmp_path / "walk.png"
    out = run_json("verify", "--cmf", "zeta3", "--trajectory", "1,1", "--start", "1,1",
                   "--claim", "(1 - zeta(3))/zeta(3)", "--digits", 50, "--plot", png)
    assert out["verdict"] == "verified" and out["plot"] == str(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


APERY = PCF("34n^3+51n^2+27n+5", "-n^6")


@pytest.fixture
def apery_store(tmp_path):
    """A store holding Apéry's PCF with a 50-digit evidence."""
    from discovery.verification import verify

    db = tmp_path / "c.db"
    cand = Candidate("pcf", APERY.key, APERY.to_dict(), "6/zeta(3)", "zeta3", {"digits": 30})
    with Store(db) as store:
        assert store.record(cand, verify(APERY, "6/zeta(3)", 50), engine="test") == 1
    return db


def test_reverifying_a_stored_conjecture_adds_the_evidence(apery_store):
    with Store(apery_store, readonly=True) as store:
        before = store.get(1)
    out = run_json("verify", "--id", 1, "--digits", 500, "--db", apery_store)
    assert out["verdict"] == "verified" and out["digits"] >= 500
    assert out["id"] == 1 and out["kind"] == "pcf" and out["claim"] == "6/zeta(3)"
    assert out["recorded"]["evidence_entries"] == len(before.evidence) + 1
    assert out["recorded"]["digits"] >= 500 and out["recorded"]["status"] == "verified"
    with Store(apery_store, readonly=True) as store:
        after = store.get(1)
    assert len(after.evidence) == len(before.evidence) + 1
    new = after.evidence[-1]
    assert new["engine"] == "verify" and new["digits"] >= 500 and new["verdict"] == "verified"
    assert "search" not in new  # a re-verification, not a new sighting
    assert after.digits >= 500 and after.status == "verified"
    shown = run_json("db", "show", "1", "--db", apery_store)
    assert any(e.get("engine") == "verify" and e.get("digits", 0) >= 500
               for e in shown["evidence"])
    # by key, in plain text
    res = invoke("verify", "--id", APERY.key, "--digits", 100, "--db", apery_store)
    assert res.exit_code == 0, res.stderr
    assert "verified" in res.stdout and "recorded in" in res.stdout


def test_reverifying_other_kinds_by_key(tmp_path):
    """A stored CMF walk and a stored signed CF, re-verified by their keys."""
    from search.cmf import catalogue_cmf

    db = tmp_path / "k.db"
    field, _ = catalogue_cmf("zeta3")
    walk = field.walk((1, 1), (1, 1))
    golden = SignedCFPattern((1,), (1, -1), (1,))
    with Store(db) as store:
        store.record(Candidate("cmf", walk.key, walk.to_dict(), "(1 - zeta(3))/zeta(3)"),
                     {"verdict": "inconclusive"}, engine="test")
        store.record(Candidate("esma", golden.key, golden.to_dict(), "(1+sqrt(5))/2"),
                     None, engine="test")
    for key, kind in ((walk.key, "cmf"), (golden.key, "esma")):
        out = run_json("verify", "--id", key, "--digits", 80, "--db", db)
        assert out["kind"] == kind and out["verdict"] == "verified", out
        assert out["recorded"]["status"] == "verified"


def test_a_refutation_prints_both_values_and_the_true_limit():
    args = ["verify", "--a", "n+2", "--b", "n", "--claim", "1/(e-2)", "--digits", 30]
    res = invoke(*args)
    assert res.exit_code == 1
    out = run_json(*args)
    assert out["verdict"] == "refuted"
    if "formula_value" in getattr(Evidence, "__dataclass_fields__", {}):
        assert out["formula_value"].startswith("2.29061669278536")
        assert out["claim_value"].startswith("1.39221119117733")
        assert out["difference_log10"] is not None
        assert "formula = 2.29061669278536" in res.stdout
        assert "claim = 1.39221119117733" in res.stdout and "they differ by 10^" in res.stdout
        if out.get("identified"):
            assert f"PCF(n+2, n) = {out['identified']}, not " in res.stdout
