"""The evolutionary engine: mutations, constant fitting, NSGA-II pieces, the ask/tell protocol,
reproducibility, and the CLI commands built on it."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from search.base import execute, make_engine
from search.evolution import (
    EvolutionEngine,
    crowding_distance,
    mutate,
    nondominated_ranks,
    pareto_front,
)
from solvers.errors import EngineError
from solvers.fitting import cma_es, fit_constants
from solvers.programs import Program, measure_error, program_from_dict

try:
    from conftest import load_json
except ImportError:  # pragma: no cover

    def load_json(name):
        return json.loads((Path(__file__).parents[1] / "data" / "reference" / name).read_text())


B1 = load_json("approximation_benchmarks.json")["B1"]
REG = B1["evaluator_regression_program"]


def regression_structure(c1, c2, c3, c4, c5) -> Program:
    def f(x):
        u = x + c3 / x
        z = c4 / (c2 + u + c1 / u) - c5
        z2 = z * z
        z4 = z2 * z2
        return z4 * z4

    return Program.build(f)


# -- mutations ----------------------------------------------------------------------------------


def test_mutations_from_the_identity_change_the_function_and_respect_max_ops():
    rng = np.random.default_rng(0)
    ident = Program.identity()
    seen = set()
    for _ in range(200):
        child = mutate(ident, rng, max_ops=3)
        assert child.fingerprint != ident.fingerprint
        assert 1 <= child.cost <= 3
        seen.add(child.shape_key)
    assert len(seen) > 5


def test_repeated_mutation_grows_and_shrinks_programs():
    rng = np.random.default_rng(1)
    p = Program.identity()
    costs = []
    for _ in range(300):
        p = mutate(p, rng, max_ops=8)
        costs.append(p.cost)
        assert p == p.canonical()
    assert max(costs) >= 3  # programs grow (removal is twice as likely as insertion) ...
    assert any(b < a for a, b in zip(costs, costs[1:], strict=False))  # ... and shrink


def test_halving_squaring_motif_computes_the_parent_at_half_the_argument_squared():
    from search.evolution import _halve_and_square, _unpack

    parent = Program.build(lambda x: 3.0 / (x - 7.0) + x * x)
    nodes = _unpack(parent)
    child = _halve_and_square(nodes, nodes[0], nodes[-1]).canonical()
    assert child.cost == parent.cost + 2
    xs = np.linspace(0.0, 1.0, 101)
    from solvers.programs import evaluate

    par, chi = evaluate(parent, xs / 2), evaluate(child, xs)
    assert np.allclose(chi, par * par, rtol=1e-14, atol=0)
    # for 2^x the child of a good parent is as good at once: 2^(x/2) squared is 2^x
    exp2 = Program.build(lambda x: 1.0 + x * 0.6931471805599453)
    nodes = _unpack(exp2)
    child = _halve_and_square(nodes, nodes[0], nodes[-1])
    err_parent = np.abs(evaluate(exp2, xs) / 2**xs - 1).max()
    err_child = np.abs(evaluate(child, xs) / 2**xs - 1).max()
    assert err_child < 0.7 * err_parent


def test_continued_fraction_motif_is_a_near_identity_three_op_insertion():
    from search.evolution import _continued_fraction_level, _unpack
    from solvers.programs import evaluate

    parent = Program.build(lambda x: 8.22 / (3.41 - x) - 1.41)
    xs = np.linspace(0.0, 1.0, 101)
    for seed in range(20):
        nodes = _unpack(parent)
        opn = [i for i, n in enumerate(nodes) if n.op not in ("x", "const")]
        child = _continued_fraction_level(nodes, nodes[0], nodes[-1], opn,
                                          np.random.default_rng(seed))
        assert child.cost == parent.cost + 3
        rel = np.abs(evaluate(child, xs) / evaluate(parent, xs) - 1).max()
        assert 0 < rel < 0.05


def test_fma_only_when_allowed():
    rng = np.random.default_rng(2)
    p = Program.identity()
    for _ in range(100):
        p = mutate(p, rng, max_ops=6, fma=False)
        assert not p.uses_fma
    ops = set()
    for _ in range(300):
        p = mutate(p, rng, max_ops=6, fma=True)
        ops |= {n.op for n in p.nodes}
    assert "fma" in ops


# -- fitting ------------------------------------------------------------------------------------


def test_cma_es_minimises_an_ill_conditioned_quadratic():
    rng = np.random.default_rng(1)

    def f(X):
        return (X[:, 0] - 3) ** 2 + 1e4 * (X[:, 1] + X[:, 0]) ** 2

    x, fx, evals = cma_es(f, np.zeros(2), np.ones(2), rng, popsize=16, max_generations=400,
                          patience=400)
    assert fx < 1e-12 and np.allclose(x, [3, -3], atol=1e-5)


def test_fitting_a_one_one_continued_fraction_reaches_the_minimax_error():
    # a + b/(x + c) has 3 ops; its best relative error for 2^x on [0, 1] is the (1,1) minimax
    p = Program.build(lambda x: 1.0 + 1.0 / (x + 1.0))
    r = fit_constants(p, "2^x", (0, 1), rng=np.random.default_rng(0), restarts=8)
    tier_c = B1["best_baseline_by_ops"]["tier_C_with_squaring_and_continued_fraction_rationals"]
    assert r.program.cost == 3
    assert r.error == pytest.approx(tier_c["3"], rel=5e-3)


def test_polish_takes_the_ten_op_program_to_its_float64_floor():
    # from the published constants perturbed by 1e-4 (relative), the fit recovers the
    # 1e-15 level (the issue: Nelder-Mead and DE stall at 3.6e-11)
    c = REG["constants"]
    rng = np.random.default_rng(3)
    cs = [c[k] * (1 + 1e-4 * rng.standard_normal()) for k in ("c1", "c2", "c3", "c4", "c5")]
    p = regression_structure(*cs).canonical()
    r = fit_constants(p, "2^x", (0, 1), rng=rng)
    assert r.error < 2e-14
    exact = measure_error(r.program, "2^x", (0, 1), grid=4000)
    assert exact.max_error < 2e-14


def test_fit_from_scratch_recovers_the_published_ten_op_program():
    # only the structure is kept (constants 2, 3, 5, 7, 11): the multistart Levenberg-Marquardt
    # fit on log residuals, then Lawson/Remez, reaches the 1e-13 level (published: 3.55e-15 at
    # another local optimum; CMA-ES from random starts alone stalled near 1e-9)
    p = regression_structure(2.0, 3.0, 5.0, 7.0, 11.0).canonical()
    r = fit_constants(p, "2^x", (0, 1), rng=np.random.default_rng(0))
    assert r.program.cost == 10
    assert r.error < 1e-12
    assert measure_error(r.program, "2^x", (0, 1), grid=4000).max_error < 1e-12


def squared_rational(squarings: int) -> Program:
    """``(a + b/(x + c))^(2^squarings)``: ``3 + squarings`` ops."""

    def f(x):
        z = 1.0 + 1.0 / (x + 1.0)
        for _ in range(squarings):
            z = z * z
        return z

    return Program.build(f)


def alternating_extrema(xs, e):
    """The largest ``|e|`` of every run of one sign of ``e`` on the grid ``xs``."""
    out = []
    for x, v in zip(xs, e, strict=True):
        if v == 0:
            continue
        if out and (out[-1][1] > 0) == (v > 0):
            if abs(v) > abs(out[-1][1]):
                out[-1] = (x, v)
        else:
            out.append((x, v))
    return out


def test_fit_of_a_squared_rational_matches_the_reference_optimum():
    # (a + b/(x + c))^4: 5 ops; its optimum is the tier-C baseline of the reference table
    # (the (1, 1) minimax of 2^(x/4), squared twice: 5.42e-5, three significant digits)
    tier_c = B1["best_baseline_by_ops"]["tier_C_with_squaring_and_continued_fraction_rationals"]
    r = fit_constants(squared_rational(2), "2^x", (0, 1), rng=np.random.default_rng(0))
    assert r.program.cost == 5
    assert r.error == pytest.approx(tier_c["5"], rel=1e-3)


def test_fit_of_a_squared_rational_matches_the_equioscillating_remez_optimum():
    # (a + b/(x + c))^8: 6 ops; its optimum is the (1, 1) minimax of 2^(x/8), squared three
    # times, computed independently by the Remez exchange in mpmath. That it is the optimum is
    # checked by the alternation theorem: its relative error has n + m + 2 = 4 alternating
    # extrema of equal magnitude (to 1e-3 relative, allowing for the squarings' asymmetry
    # (1 + E)^8 - 1 against (1 - E)^8 - 1, about 7E relative)
    import mpmath

    from solvers.approximation import remez

    a = remez("2^x", (0, 1), 1, 1, squarings=3)
    ctx = mpmath.MPContext()
    ctx.dps = 30
    xs = [ctx.mpf(i) / 4000 for i in range(4001)]
    err = [a.evaluate_mp(x, ctx) / ctx.power(2, x) - 1 for x in xs]
    ext = alternating_extrema(xs, err)
    mags = [float(abs(v)) for _, v in ext]
    assert len(ext) == 4
    assert max(mags) / min(mags) - 1 < 1e-3
    assert float(a.max_error) == pytest.approx(max(mags), rel=1e-3)
    r = fit_constants(squared_rational(3), "2^x", (0, 1), rng=np.random.default_rng(0))
    assert r.program.cost == 6
    assert r.error == pytest.approx(float(a.max_error), rel=1e-2)


# -- NSGA-II ------------------------------------------------------------------------------------


def test_nondominated_sorting_and_crowding():
    pts = [(1e-1, 1), (1e-3, 3), (1e-2, 3), (1e-5, 6), (1e-1, 2)]
    assert nondominated_ranks(pts) == [0, 0, 1, 0, 1]
    d = crowding_distance([(1e-1, 1), (1e-3, 3), (1e-5, 6)])
    assert math.isinf(d[0]) and math.isinf(d[2]) and d[1] == pytest.approx(4 / 4 + 5 / 5)
    front = pareto_front([{"ops": 3, "max_error": 1e-3}, {"ops": 4, "max_error": 2e-3},
                          {"ops": 2, "max_error": 1e-2}])
    assert [d["ops"] for d in front] == [2, 3]


# -- engine -------------------------------------------------------------------------------------

SMALL = {"function": "2^x", "interval": [0, 1], "max_ops": 4, "batch": 4, "seed": 7,
         "max_tasks": 6, "cma_generations": 60, "restarts": 0}


def run_serial(engine: EvolutionEngine) -> list[dict]:
    """Drive the engine in task order in this process (the runner's serial order)."""
    while not engine.done():
        for task in engine.ask(1):
            engine.tell(task, execute(task))
    return engine.front()


def test_engine_is_registered_and_validates_its_configuration():
    eng = make_engine("evolve", SMALL)
    assert isinstance(eng, EvolutionEngine)
    with pytest.raises(EngineError):
        make_engine("evolve", {"function": "2^x", "bogus": 1})
    with pytest.raises(EngineError):
        make_engine("evolve", {"function": "import os"})
    with pytest.raises(EngineError):
        make_engine("evolve", {"interval": [1, 0]})


def test_tasks_are_executed_by_the_registered_executor():
    eng = EvolutionEngine(SMALL)
    (task,) = eng.ask(1)
    assert task.engine == "evolve" and len(task.payload["children"]) == 4
    json.dumps(task.payload)  # JSON-able
    cands = execute(task)
    assert cands and all(c.kind == "program" and c.key.startswith("program:") for c in cands)
    for c in cands:
        p = program_from_dict(c.formula["program"])
        assert c.formula["ops"] == p.cost <= 4
        assert c.evidence["max_error_fit"] > 0


def test_search_is_reproducible_from_its_seed_and_resumable():
    a = EvolutionEngine(SMALL)
    b = EvolutionEngine(SMALL)
    fa, fb = run_serial(a), run_serial(b)
    assert fa == fb and a.done()
    state = json.loads(json.dumps(a.state()))
    c = EvolutionEngine(dict(SMALL, max_tasks=8))
    c.restore(state)
    assert c.front() == fa
    more = c.ask(5)
    assert [t.key for t in more] == ["evolve:7:6", "evolve:7:7"]
    other = EvolutionEngine(dict(SMALL, seed=8))
    run_serial(other)
    assert other.state()["population"] != a.state()["population"]


@pytest.mark.slow
def test_a_short_search_from_the_identity_finds_the_linear_minimax():
    eng = EvolutionEngine({"function": "2^x", "interval": [0, 1], "max_ops": 4, "seed": 0,
                           "max_tasks": 40})
    front = run_serial(eng)
    by_ops = {d["ops"]: d["max_error"] for d in front}
    # 2 ops: the best line a*x + b has relative error 2.982e-2 (degree-1 minimax)
    assert by_ops[2] == pytest.approx(B1["minimax_polynomial_relative_error_by_degree"]["1"],
                                      rel=5e-3)
    assert by_ops[0] == pytest.approx(1 / 3)  # the best constant, 4/3


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("RUN_ACCEPTANCE"),
    reason="a 10-minute search: run with RUN_ACCEPTANCE=1 (kept out of CI's default run)",
)
def test_acceptance_run_five_and_ten_op_targets():
    """Acceptance (issue 6): from the identity, a seed-1 run of 10 minutes on 2 worker
    processes finds 5-op programs below 5.42e-5 and 10-op programs below the tier-A baseline
    7.52e-9 (errors verified against a 50-digit reference). Budget-based, hence not
    bit-reproducible (the budget cuts the task sequence where the machine's speed puts it).
    Measured here on an idle 2-core machine with the squaring and continued-fraction motifs
    (scripts/bench/evolution_search.py): seed 0, 315 tasks: 5 ops 1.16e-5, 10 ops 3.92e-9;
    seed 1, 277 tasks: 5 ops 4.34e-6, 10 ops 2.77e-9. Before the motifs, 2 of 4 runs missed the
    10-op target (4.95e-8, 5.30e-8). The goal 1.45e-12 at 10 ops is not reached even in
    longer runs (1200 tasks: seed 1 4.47e-12, seed 0 6.7e-10)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "evolution_search", Path(__file__).parents[1] / "scripts/bench/evolution_search.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = bench.run_search({"function": "2^x", "interval": [0, 1], "max_ops": 12, "seed": 1},
                           600, None, workers=2)
    best = {k: min(d["max_error"] for d in out["pareto"] if d["ops"] <= k) for k in (5, 10)}
    tiers = B1["best_baseline_by_ops"]
    assert best[5] < tiers["tier_C_with_squaring_and_continued_fraction_rationals"]["5"]
    assert best[10] < tiers["tier_A_polynomial_or_rational_horner"]["10"]


# -- CLI ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli():
    from discovery.commands.evolve import baseline_command, check_float32_command, evolve_command

    app = typer.Typer()
    app.command("evolve")(evolve_command)
    app.command("baseline")(baseline_command)
    app.command("check-float32")(check_float32_command)
    return app


def test_cli_evolve_json(cli, tmp_path):
    res = CliRunner().invoke(cli, ["evolve", "--function", "2^x", "--interval", "0,1",
                                   "--max-ops", "4", "--minutes", "1", "--max-tasks", "4",
                                   "--seed", "0", "--no-baselines", "--plot",
                                   str(tmp_path / "p.png"), "--db", str(tmp_path / "e.db"),
                                   "--executor", "serial", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["pareto"] and {"ops", "max_error", "program"} <= set(out["pareto"][0])
    assert out["tasks"] == 4 and (tmp_path / "p.png").exists()
    errs = [d["max_error"] for d in out["pareto"]]
    assert errs == sorted(errs, reverse=True)


def test_cli_rejects_bad_input(cli):
    res = CliRunner().invoke(cli, ["evolve", "--function", "__import__('os')", "--json"])
    assert res.exit_code == 2
    res = CliRunner().invoke(cli, ["baseline", "--interval", "1", "--json"])
    assert res.exit_code == 2


def test_cli_baseline_json(cli):
    res = CliRunner().invoke(cli, ["baseline", "--function", "2^x", "--interval", "0,1",
                                   "--max-ops", "4", "--tiers", "A", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["baselines"]
    # the minimax line and the (2, 0) minimax polynomial (or (1, 1) rational) of the table
    tier_a = B1["best_baseline_by_ops"]["tier_A_polynomial_or_rational_horner"]
    assert [r["ops"] for r in rows] == [2, 4]
    assert rows[0]["max_error"] == pytest.approx(
        B1["minimax_polynomial_relative_error_by_degree"]["1"], rel=1e-3)
    assert rows[1]["max_error"] == pytest.approx(tier_a["4"], rel=1e-3)


@pytest.mark.slow  # ~5 s in a fresh checkout: it compiles the float32 kernels
def test_cli_check_float32_json(cli):
    from test_float32 import DEG6

    res = CliRunner().invoke(cli, ["check-float32", "--function", "2^x", "--interval", "0.5,1",
                                   "--coefficients", ",".join(map(repr, DEG6)), "--json"])
    assert res.exit_code == 0, res.output
    checks = json.loads(res.stdout)["checks"]
    assert checks[0]["max_ulp"] < 1 < checks[1]["max_ulp"]
    assert checks[0]["points"] == 2**23


def test_the_front_is_verified_against_a_50_digit_reference():
    from discovery.verifiers import verify_candidate, verify_program

    eng = EvolutionEngine(SMALL)
    run_serial(eng)
    cands = eng.finish()
    assert cands and all(c.kind == "program" for c in cands)
    assert [c.formula["ops"] for c in cands] == [d["ops"] for d in eng.front()]
    for c in cands:
        p = program_from_dict(c.formula["program"])
        m = measure_error(p, "2^x", (0, 1), grid=2000)
        ev = verify_program(c, grid=2000)
        assert ev["verdict"] == "verified" and ev["max_error"] == m.max_error
        # the fit grid's maximum can only be below the dense one (plus float64 rounding)
        assert c.evidence["max_error_fit"] <= m.max_error * (1 + 1e-9) + 1e-15
        # the claim states the verified error, rounded up
        bound = float(ev["verified_claim"].split("<=")[1].split()[0])
        assert m.max_error <= bound <= m.max_error * 1.01
    assert verify_candidate(cands[0], digits=100)["dps"] == 50
