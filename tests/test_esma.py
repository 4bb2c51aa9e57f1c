"""The ESMA engine: LHS enumeration, exact expansions, approval, rediscovery of known patterns."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import mpmath
import pytest

from search.base import Task, execute
from search.esma import (
    EsmaConfig,
    EsmaEngine,
    approve,
    constant_enclosure,
    enumerate_lhs,
    expand_lhs,
    lhs_enclosure,
    lhs_text,
    lhs_value,
    parse_lengths,
    run_task,
    scan,
    sign_periods,
)
from solvers.continued_fractions import PCF, signed_expansion
from solvers.errors import EngineError
from solvers.expr import evaluate_expression
from solvers.signed_cf import SignedCFPattern

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"
ROWS = json.loads((REFERENCE / "esma_patterns.json").read_text())
BESSEL = "besseli(0,2)/besseli(1,2)"


def _ctx(dps: int) -> mpmath.MPContext:
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


def _base(row_constant: str) -> str:
    if "besseli" in row_constant:
        return BESSEL
    if "tan" in row_constant or "cot" in row_constant:
        return "tan(1)"
    if "e^2" in row_constant:
        return "e^2"
    return "e"


def _run_engine(config: dict) -> EsmaEngine:
    eng = EsmaEngine(config)
    while not eng.done():
        for task in eng.ask(3):
            eng.tell(task, execute(task))
    return eng


_RUNS: dict[str, EsmaEngine] = {}


def _search(constant: str) -> EsmaEngine:
    """The acceptance configuration: degree 1, coefficients in [-2, 2], sign periods 1..3."""
    if constant not in _RUNS:
        _RUNS[constant] = _run_engine(
            {"constant": constant, "degree": 1, "coeff": 2, "signs": "1..3", "depth": 100}
        )
    return _RUNS[constant]


# --------------------------------------------------------------------------- search space


@pytest.mark.parametrize("constant", ["e", "pi", "tan(1)", BESSEL])
def test_there_are_112_mobius_lhs_with_coefficients_in_minus2_2(constant):
    lhs = enumerate_lhs(evaluate_expression(constant, 40), 1, 2)
    assert len(lhs) == 112


def test_lhs_are_irrational_positive_and_pairwise_distinct_up_to_sign():
    ctx = _ctx(40)
    K = ctx.mpf(evaluate_expression("e", 40))
    lhs = enumerate_lhs(K, 1, 2)
    values = [lhs_value(t, K) for t in lhs]
    assert all(v > 0 for v in values)
    for (c0, c1), (c2, c3) in lhs:
        assert c0 * c3 - c1 * c2 != 0
    keys = {mpmath.nstr(v, 30) for v in values} | {mpmath.nstr(-v, 30) for v in values}
    assert len(keys) == 2 * len(lhs)
    # and nothing is missed: every non-degenerate Möbius map has a representative
    for c0 in range(-2, 3):
        for c1 in range(-2, 3):
            for c2 in range(-2, 3):
                for c3 in range(-2, 3):
                    if c0 * c3 - c1 * c2 != 0:
                        v = abs((c0 + c1 * K) / (c2 + c3 * K))
                        assert mpmath.nstr(v, 30) in keys


def test_degree_2_lhs_cancel_common_factors():
    ctx = _ctx(40)
    K = ctx.mpf(evaluate_expression("e", 40))
    lhs = enumerate_lhs(K, 2, 1)
    values = {mpmath.nstr(lhs_value(t, K), 30) for t in lhs}
    assert len(values) == len(lhs)  # (K^2 + K)/(K + 1) and K are one LHS
    assert ((0, 1, 0), (1, 0, 0)) in lhs


def test_sign_periods_are_primitive_and_cover_every_length():
    assert sign_periods([1]) == ((-1,), (1,))
    assert sign_periods([2]) == ((-1,), (1,), (-1, 1), (1, -1))
    periods = sign_periods([1, 2, 3])
    assert len(periods) == 2 + 2 + 6
    assert (1, 1, 1) not in periods and (1, -1, -1) in periods
    assert parse_lengths("1..3") == (1, 2, 3) and parse_lengths(3) == (1, 2, 3)


@pytest.mark.parametrize("constant", ["e", "e^2", BESSEL])
def test_lhs_text_is_read_back_by_the_safe_parser(constant):
    ctx = _ctx(40)
    K = ctx.mpf(evaluate_expression(constant, 40))
    for t in enumerate_lhs(K, 1, 2):
        text = lhs_text(t, constant)
        assert abs(ctx.mpf(evaluate_expression(text, 40)) - lhs_value(t, K)) < ctx.mpf(10) ** -35


# --------------------------------------------------------------------------- exact expansion


@pytest.mark.parametrize("constant", ["e", "tan(1)", BESSEL])
def test_the_single_enclosure_contains_the_constant(constant):
    lo, hi, s = constant_enclosure(constant, 300)
    ctx = _ctx(400)
    K = ctx.mpf(evaluate_expression(constant, 400))
    assert lo < K * 2**s < hi
    assert hi - lo < 2**s / ctx.mpf(10) ** 300


def test_expansion_of_the_enclosure_gives_the_known_terms():
    enc = constant_enclosure("e", 200)
    interval = lhs_enclosure(((1, 1), (-1, 1)), enc)  # (e+1)/(e-1) = [2; 6, 10, 14, ...]
    assert expand_lhs(interval, (1,), 40) == tuple(4 * n + 2 for n in range(40))
    # 60 terms need ~2 log10(q_60) ~ 236 digits: more than the enclosure carries
    assert expand_lhs(interval, (1,), 60) is None
    cot = expand_lhs(lhs_enclosure(((1, 0), (0, 1)), constant_enclosure("tan(1)", 200)), (-1,), 40)
    assert cot == tuple(2 * n + 1 for n in range(40))


def test_a_too_narrow_enclosure_stops_instead_of_padding():
    enc = constant_enclosure("e", 20)  # ~20 digits: about 20 terms of e's expansion
    interval = lhs_enclosure(((0, 1), (1, 0)), enc)
    exp = signed_expansion(interval, (1,), 100)
    assert exp.exhausted and 10 < len(exp.terms) < 40
    e_terms = SignedCFPattern((1,), (1, 0, 0, -2, 0, 0, 1, 0), (2, 1, 2, 1, 1, 4, 1))
    assert exp.terms == e_terms.terms(len(exp.terms))  # every returned term is right
    assert expand_lhs(interval, (1,), 100) is None


def test_the_engine_discards_exhausted_expansions():
    lhs = enumerate_lhs(mpmath.e, 1, 1)
    # 30 digits cannot give 100 terms of a regular continued fraction (signs +1) ...
    res = scan("e", lhs, [(1,)], depth=100, dps=30)
    assert res.expansions == 12 and res.discarded > 0
    assert res.discarded + res.skipped == res.expansions
    # ... and nothing at all is found at that precision, with any sign period
    res = scan("e", lhs, sign_periods([1, 2]), depth=100, dps=30)
    assert res.discarded > 0 and res.hits == [] and res.candidates == []
    # while at the default precision the same space gives approved patterns
    assert scan("e", lhs, [(1,)], depth=100, dps=500).candidates


# --------------------------------------------------------------------------- approval


def test_approval_rejects_a_pattern_that_is_wrong_beyond_60_digits():
    pat = SignedCFPattern((1,), (1, -2, 1), (2, 6))  # (e+1)/(e-1) = 2 + 1/(6 + 1/(10 + ...))
    ctx = _ctx(130)
    x = ctx.mpf(evaluate_expression("(e + 1)/(e - 1)", 130))
    digits, depth = approve(pat, x, 100)
    assert digits >= 100 and depth >= 1000
    digits, _ = approve(pat, x + ctx.mpf(10) ** -60, 100)
    assert 55 <= digits <= 61


def test_a_long_run_of_twos_is_rejected_quickly():
    # the tail 2 - 1/(2 - 1/(2 - ...)) converges like 1/n: the extrapolation gives up at once
    pat = SignedCFPattern((-1,), (1, -1, 0), (3, 2))
    ctx = _ctx(130)
    digits, depth = approve(pat, ctx.mpf(evaluate_expression("pi", 130)), 100)
    assert digits < 5 and depth == 1000


# --------------------------------------------------------------------------- acceptance


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r['constant']}{r['signs']}")
def test_engine_rediscovers_every_reference_pattern(row):
    eng = _search(_base(row["constant"]))
    ctx = _ctx(60)
    target = ctx.mpf(evaluate_expression(row["constant"], 60))
    matches = []
    for c in eng.results:
        if c.formula["signs"] != row["signs"]:
            continue
        pat = SignedCFPattern.from_dict(c.formula)
        if pat.terms(24) != tuple(row["first_terms"]):
            continue
        if abs(ctx.mpf(evaluate_expression(c.claim, 60)) - target) < ctx.mpf(10) ** -50:
            matches.append(c)
    assert matches, f"{row['constant']} with signs {row['signs']} not rediscovered"
    c = matches[0]
    assert c.evidence["digits"] >= 100
    assert tuple(c.formula["recurrence"]) == tuple(row["recurrence"])


def test_public_test_configuration_yields_at_least_13_distinct_values():
    eng = _run_engine({"constant": "e", "degree": 1, "coeff": 2, "signs": [2], "depth": 105})
    assert len(eng.groups()) >= 13
    assert {tuple(c.formula["signs"]) for c in eng.results} <= set(sign_periods([2]))


def test_pi_gives_raw_hits_but_nothing_is_approved():
    cfg = EsmaConfig.from_dict({"constant": "pi", "signs": [2], "depth": 105})
    lhs = enumerate_lhs(mpmath.pi, 1, 2)
    res = scan(
        "pi", lhs, sign_periods(cfg.signs), depth=cfg.depth, dps=cfg.dps, max_order=cfg.max_order
    )
    assert len(res.hits) > 0
    assert res.candidates == []
    assert all(not h.approved and h.digits < 100 for h in res.hits)
    assert _run_engine({"constant": "pi", "signs": [2], "depth": 105}).results == []


def test_candidates_are_complete_and_verify_independently():
    from discovery.verifiers import verify_candidate

    eng = _search("e")
    by_claim = {c.claim: c for c in eng.results if c.formula["signs"] == [1]}
    c = by_claim["(e + 1)/(e - 1)"]
    assert c.kind == "esma" and c.constant == "e"
    assert c.formula["first_terms"] == [2, 6] and c.formula["recurrence"] == [1, -2, 1]
    assert c.formula["lhs"] == {"constant": "e", "numerator": [1, 1], "denominator": [-1, 1]}
    assert c.key == SignedCFPattern.from_dict(c.formula).key
    assert PCF.from_dict(c.formula["pcf"]) == PCF("4n+2", "1")
    assert c.relations == (("contracts-to", PCF("4n+2", "1").key),)
    ev = c.evidence
    assert ev["digits"] >= 100 and ev["bm_order"] == 2 and ev["prime"] == 199
    # faster than e's own simple continued fraction, which the evidence records for comparison
    assert ev["digits_per_term"] > ev["constant_digits_per_term"] > 1
    assert ev["pattern"] == "polynomial"
    assert verify_candidate(c, digits=100).verdict == "verified"
    json.dumps([x.formula for x in eng.results])  # exact and JSON-able
    json.dumps([x.evidence for x in eng.results])


def test_results_are_grouped_by_value():
    eng = _search("e")
    groups = eng.groups()
    assert sum(len(v) for v in groups.values()) == len({c.key for c in eng.results})
    by_key = {c.key: c for c in eng.results}
    big = max(groups.values(), key=len)
    assert len(big) > 1
    assert len({by_key[k].claim for k in big}) == 1  # one LHS, several sign periods/patterns


# --------------------------------------------------------------------------- protocol


def test_tasks_are_stable_json_and_the_executor_is_pure():
    cfg = {"constant": "e", "coeff": 1, "signs": 2, "depth": 60, "chunk": 5}
    a, b = EsmaEngine(cfg), EsmaEngine(cfg)
    ta, tb = a.ask(10), b.ask(10)
    assert [t.key for t in ta] == [t.key for t in tb]
    assert len({t.key for t in ta}) == len(ta) == 3
    assert a.done() and a.ask(1) == []
    json.dumps([t.payload for t in ta])
    first = run_task(ta[0])
    again = run_task(Task("esma", ta[0].key, json.loads(json.dumps(ta[0].payload))))
    assert [c.key for c in first] == [c.key for c in again]


def test_engine_resumes_from_its_state():
    cfg = {"constant": "e", "coeff": 1, "signs": 2, "depth": 60, "chunk": 5}
    eng = EsmaEngine(cfg)
    t1 = eng.ask(1)[0]
    eng.tell(t1, run_task(t1))
    state = json.loads(json.dumps(eng.state()))
    resumed = EsmaEngine(cfg, state=state)
    rest = resumed.ask(10)
    assert t1.key not in {t.key for t in rest} and len(rest) == 2
    fresh = EsmaEngine(cfg)
    assert [t.key for t in fresh.ask(10)][1:] == [t.key for t in rest]


@pytest.mark.parametrize(
    "config, message",
    [
        ({}, "constant"),
        ({"constant": "e", "signs": "1-3"}, "signs"),
        ({"constant": "e", "signs": 0}, "signs"),
        ({"constant": "e", "prime": 200}, "prime"),
        ({"constant": "e", "depth": 4}, "depth"),
        ({"constant": "e", "colour": "red"}, "unknown"),
    ],
)
def test_bad_configurations_are_engine_errors(config, message):
    with pytest.raises(EngineError, match=message):
        EsmaConfig.from_dict(config)


def test_lhs_enclosure_refuses_a_pole_inside_the_interval():
    # (1 + 0 K)/(-1 + K) at K in [1 - eps, 1 + eps]
    s = 40
    assert lhs_enclosure(((1, 0), (-1, 1)), ((1 << s) - 1, (1 << s) + 1, s)) is None
    lo, hi = lhs_enclosure(((1, 0), (-1, 1)), ((3 << s) - 1, (3 << s) + 1, s))
    assert lo < Fraction(1, 2) < hi


# --------------------------------------------------------------------------- CLI


def _cli():
    import typer

    from discovery.commands.esma import esma_command

    app = typer.Typer()
    search_app = typer.Typer()
    app.add_typer(search_app, name="search")
    search_app.command("esma")(esma_command)

    @app.callback()
    def _root() -> None:
        """Test harness."""

    return app


def test_cli_json_prints_verified_results_with_the_required_fields():
    from typer.testing import CliRunner

    args = ["search", "esma", "--constant", "e", "--coeff", "1", "--signs", "1..2",
            "--no-store", "--executor", "serial"]
    res = CliRunner().invoke(_cli(), [*args, "--depth", "80", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["space"]["lhs"] == 12 and len(out["space"]["sign_periods"]) == 4
    rows = out["results"]
    assert rows and all(r["verdict"] == "verified" and r["digits"] >= 100 for r in rows)
    for key in ("lhs", "signs", "recurrence", "first_terms", "digits", "digits_per_term"):
        assert all(key in r for r in rows)
    e_row = next(r for r in rows if r["lhs"] == "e" and r["signs"] == [1])
    assert e_row["recurrence"] == [1, 0, 0, -2, 0, 0, 1, 0]
    assert e_row["first_terms"] == [2, 1, 2, 1, 1, 4, 1]
    assert e_row["pcf"]["a"] == "4n+2"


def test_cli_bad_input_exits_with_status_2():
    from typer.testing import CliRunner

    res = CliRunner().invoke(_cli(), ["search", "esma", "--constant", "e", "--signs", "x"])
    assert res.exit_code == 2
    res = CliRunner().invoke(_cli(), ["search", "esma", "--constant", "nosuchconstant"])
    assert res.exit_code == 2


def test_degree_2_lhs_are_expanded_from_the_same_enclosure():
    # K^2 for K = e is the e^2 row of the reference data, found from e's own enclosure
    res = scan("e", [((0, 0, 1), (1, 0, 0))], [(1,)], depth=100, dps=500)
    assert [c.claim for c in res.candidates] == ["e^2"]
    e2 = next(r for r in ROWS if r["constant"] == "e^2" and r["signs"] == [1])
    pat = SignedCFPattern.from_dict(res.candidates[0].formula)
    assert pat.terms(24) == tuple(e2["first_terms"])
    assert pat.recurrence == tuple(e2["recurrence"])
