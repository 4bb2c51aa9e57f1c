"""The CMF trajectory-search engine (ask/tell, executor, runner) and the ``cmf`` CLI."""

from __future__ import annotations

import json

import mpmath
import pytest
import typer
from typer.testing import CliRunner

from discovery.commands.cmf import cmf_app, cmf_search_command, parse_starts, parse_vector
from discovery.runner import Runner
from discovery.store import Store
from search.base import Task
from search.cmf import CMFEngine, catalogue_cmf, engine_walk_task, load_catalogue, run_cmf_task
from solvers.coboundary import apply_mobius
from solvers.continued_fractions import PCF
from solvers.errors import EngineError
from solvers.expr import evaluate_expression

APERY = PCF("34n^3+51n^2+27n+5", "-n^6")


def agreement(a, b, dps: int = 300) -> float:
    ctx = mpmath.MPContext()
    ctx.dps = dps
    d = abs(ctx.mpf(a) - ctx.mpf(b))
    return float("inf") if d == 0 else float(-ctx.log10(d))


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    "config, message",
    [
        ({}, "needs 'cmf'"),
        ({"cmf": "zeta3", "bogus": 1}, "cmf: unknown option 'bogus' \\(allowed: "),
        ({"cmf": "nope"}, "unknown CMF 'nope'"),
        ({"cmf": "zeta3", "max_norm": 0}, "max_norm"),
        ({"cmf": "zeta3", "starts": [3, 1]}, "empty box"),
        ({"cmf": "zeta3", "starts": [[1, 2, 3]]}, "2 integer coordinates"),
        ({"cmf": "zeta3", "starts": "0..2"}, "box"),
    ],
)
def test_bad_configuration_is_an_engine_error(config, message):
    with pytest.raises(EngineError, match=message):
        CMFEngine(config)


def test_enumeration_is_trajectories_times_starts():
    eng = CMFEngine({"cmf": "zeta3", "max_norm": 2, "starts": [0, 2]})
    assert eng.total() == 5 * 9 + 1
    tasks = eng.ask(100)
    assert len(tasks) == 45 and len({t.key for t in tasks}) == 45
    assert not eng.done()  # the link task waits for every walk to be told
    assert eng.ask(5) == []
    json.dumps(eng.state())


# --------------------------------------------------------------------------- executor


def test_walk_task_from_the_origin_rediscovers_apery():
    eng = CMFEngine({"cmf": "zeta3", "link": False})
    cands = run_cmf_task(engine_walk_task(eng, (1, 1), (0, 0)))
    pcfs = [c for c in cands if c.kind == "pcf"]
    assert len(pcfs) == 1
    c = pcfs[0]
    assert PCF.from_dict(c.formula) == APERY and c.key == APERY.key
    assert c.claim == "6/zeta(3)" and c.constant == "zeta3"
    assert c.relations[0][0] == "derived-from"
    assert abs(c.evidence["digits_per_term"] - 3.0622) < 0.01
    assert 0.08 < c.evidence["delta"] < 0.11
    # the walk itself is singular at (0, 0): no claim about the constant for it
    assert not [c for c in cands if c.kind == "cmf"]


def test_walk_task_emits_the_walk_with_its_reference_relation():
    eng = CMFEngine({"cmf": "zeta3", "link": False})
    cands = run_cmf_task(engine_walk_task(eng, (1, 1), (2, 1)))
    walk = next(c for c in cands if c.kind == "cmf")
    expected = evaluate_expression("(9-8*zeta(3))/(8*zeta(3)-8)", 120)
    assert agreement(evaluate_expression(walk.claim, 120), expected, 120) >= 110
    pcf = next(c for c in cands if c.kind == "pcf")
    assert ("derived-from", walk.key) in pcf.relations
    json.dumps([c.formula for c in cands]) and json.dumps([c.evidence for c in cands])


def test_unknown_task_type_is_rejected():
    with pytest.raises(EngineError):
        run_cmf_task(Task("cmf", "x", {"type": "nope"}))


# --------------------------------------------------------------------------- whole searches


@pytest.fixture(scope="module")
def zeta3_store():
    """The acceptance search: ζ(3) field, trajectories of norm <= 2, starts in [0, 2]^2."""
    store = Store(":memory:")
    eng = CMFEngine({"cmf": "zeta3", "max_norm": 2, "starts": [0, 2]})
    summary = Runner(store, eng, "serial", verify=False, progress="quiet",
                     handle_signals=False).run()
    assert summary.status == "finished" and eng.done()
    yield store
    store.close()


def test_search_records_pcfs_whose_limits_are_mobius_in_zeta3(zeta3_store):
    # The engine's own PCFs (the runner also records the PCFs the walks' families need,
    # with exactly derived claims: some of those converge slowly, like Euler's series).
    pcfs = [r for r in zeta3_store.query(kind="pcf")
            if any("derived" not in e.get("search", {}) for e in r.evidence)]
    assert len(pcfs) >= 10
    assert APERY.key in {r.key for r in pcfs}
    for rec in pcfs:
        assert rec.constant == "zeta3" and "zeta(3)" in rec.claim
        P = PCF.from_dict(rec.formula)
        assert agreement(P.limit(200).value, evaluate_expression(rec.claim, 220), 220) >= 100


def test_search_links_equivalent_pcfs_with_checked_mobius_maps(zeta3_store):
    edges = [r for r in zeta3_store.relations() if r.type == "equivalent-to"]
    assert len(edges) >= 10
    apery_links = {r.dst for r in edges if r.src == APERY.key}
    tail = PCF("34n^3+153n^2+231n+117", "-(n+1)^6")
    assert tail.key in apery_links
    checked = 0
    for rec in zeta3_store.query(kind="pcf"):
        for ev in rec.evidence:
            for eq in ev.get("search", ev).get("equivalences", []):
                if not eq.get("mobius"):
                    continue
                other = PCF.from_dict(zeta3_store.get(eq["other"]).formula)
                m = tuple(tuple(r) for r in eq["mobius"])
                L1 = PCF.from_dict(rec.formula).limit(200).value
                L2 = other.limit(200).value
                assert agreement(L1, apply_mobius(m, L2)) >= 100
                checked += 1
    assert checked >= 20  # both directions of every edge


def test_search_records_derived_from_edges_to_walks(zeta3_store):
    derived = [r for r in zeta3_store.relations() if r.type == "derived-from"]
    walks = {r.key for r in zeta3_store.query(kind="cmf")}
    assert len(derived) >= 10
    assert any(r.dst in walks for r in derived)


def test_search_resumes_without_redoing_or_duplicating():
    store = Store(":memory:")
    cfg = {"cmf": "zeta3", "max_norm": 1, "starts": [0, 1]}
    first = Runner(store, CMFEngine(cfg), "serial", verify=False, progress="quiet",
                   max_tasks=5, handle_signals=False).run()
    assert first.status == "budget"
    second = Runner(store, CMFEngine(cfg), "serial", verify=False, progress="quiet",
                    handle_signals=False).run()
    assert second.status == "finished" and second.skipped == 5
    keys = [r.key for r in store.query()]
    assert len(keys) == len(set(keys))
    assert any(r.type == "equivalent-to" for r in store.relations())
    store.close()


def test_link_reaches_pcfs_from_other_engines():
    known = APERY.inflate("n+1")
    eng = CMFEngine({"cmf": "zeta3", "max_norm": 1, "starts": [[0, 0]],
                     "known_pcfs": [{"key": known.key, "a": list(known.a), "b": list(known.b)}]})
    found = []
    while not eng.done():
        tasks = eng.ask(10)
        for t in tasks:
            res = run_cmf_task(t)
            eng.tell(t, res)
            found += res
    linked = [c for c in found if ("equivalent-to", known.key) in c.relations]
    assert linked and linked[0].key == APERY.key


def test_pfq_field_search_identifies_log2():
    eng = CMFEngine({"cmf": "2F1_z=-1", "max_norm": 1, "starts": [[1, 1, 2]], "link": False})
    found = []
    for t in eng.ask(20):
        found += run_cmf_task(t)
    claims = {c.claim for c in found}
    assert "(-1 + 2*log(2))/(2*log(2))" in claims


def test_catalogue_loader_rejects_foreign_files(tmp_path):
    p = tmp_path / "x.json"
    p.write_text(json.dumps({"hello": 1}))
    from solvers.errors import DiscoveryError

    with pytest.raises(DiscoveryError, match="not a CMF catalogue"):
        load_catalogue(p)
    assert catalogue_cmf("zeta3")[0].name == "zeta3"


# --------------------------------------------------------------------------- CLI

runner = CliRunner()


def test_cli_walk_json_has_the_required_keys():
    r = runner.invoke(cmf_app, ["walk", "--cmf", "zeta3", "--trajectory", "1,1", "--start",
                                "1,1", "--depth", "2000", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    for key in ("limit_digits", "relation", "pcf_a", "pcf_b", "delta"):
        assert key in out
    assert out["limit_digits"] >= 6000
    assert agreement(evaluate_expression(out["relation"], 120),
                     evaluate_expression("(1-zeta(3))/zeta(3)", 120), 120) >= 110
    assert PCF(out["pcf_a"], out["pcf_b"]) == PCF("34n^3+153n^2+231n+117", "-(n+1)^6")
    assert 0.08 < out["delta"] < 0.1


def test_cli_walk_bad_input_exits_2():
    r = runner.invoke(cmf_app, ["walk", "--cmf", "zeta3", "--trajectory", "1;1", "--start",
                                "1,1"])
    assert r.exit_code == 2
    r = runner.invoke(cmf_app, ["walk", "--cmf", "nope", "--trajectory", "1,1", "--start", "1,1"])
    assert r.exit_code == 2 and "unknown CMF" in r.output


def test_cli_check_catalogue_and_broken_file(tmp_path):
    r = runner.invoke(cmf_app, ["check", "zeta3", "--limits", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["all_conserving"] and all(x["ok"] for x in out["cmfs"][0]["limits"])
    broken = {"name": "broken", "matrices": {"x": [["1", "-y-1"], ["-1", "x+y+3"]],
                                             "y": [["0", "-y-1"], ["-1", "x+y+1"]]}}
    p = tmp_path / "broken.json"
    p.write_text(json.dumps(broken))
    r = runner.invoke(cmf_app, ["check", str(p), "--json"])
    assert r.exit_code == 1
    assert json.loads(r.stdout)["cmfs"][0]["pairs"] == {"x,y": False}
    r = runner.invoke(cmf_app, ["check", str(tmp_path / "missing.json")])
    assert r.exit_code == 2


def test_cli_search_records_into_a_store(tmp_path):
    app = typer.Typer()
    app.command()(cmf_search_command)
    db = tmp_path / "c.db"
    r = runner.invoke(app, ["--cmf", "zeta3", "--max-norm", "1", "--starts", "0..1", "--db",
                            str(db), "--executor", "serial", "--quiet", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["runs"][0]["status"] == "finished"
    with Store(db, readonly=True) as store:
        assert APERY.key in {rec.key for rec in store.query(kind="pcf")}
        assert store.get(APERY.key).status == "verified"
    r = runner.invoke(app, ["--cmf", "zeta3", "--starts", "3..1", "--db", str(db)])
    assert r.exit_code == 2


def test_cli_parsers():
    assert parse_vector("(1, -2)") == (1, -2)
    assert parse_starts("0..3") == [0, 3] and parse_starts("2") == [2, 2]
    with pytest.raises(ValueError):
        parse_starts("a..b")

