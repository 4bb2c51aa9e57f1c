"""Conservative matrix fields: kernel, PCF extraction, coboundaries, fold, catalogue."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import flint
import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from solvers.cmf import (
    CMF,
    CMFTrajectory,
    ConservationError,
    mobius_claim,
    parse_entry,
    primitive_trajectories,
    product_tree,
)
from solvers.cmf_constructions import cmf_from_spec, ffbar_cmf, ffbar_conditions, pfq_cmf
from solvers.coboundary import (
    apply_mobius,
    deflate_all,
    find_coboundary,
    fold,
    fold_pcf,
    pcf_from_matrix,
    pcf_matrix,
)
from solvers.constants import evaluate_constant
from solvers.continued_fractions import PCF
from solvers.errors import DiscoveryError, ParseError
from solvers.expr import evaluate_expression
from solvers.relations import find_mobius

ROOT = Path(__file__).resolve().parents[1]
VECTORS = json.loads((ROOT / "data" / "reference" / "cmf_vectors.json").read_text())
CATALOGUE = json.loads((ROOT / "search" / "data" / "cmfs.json").read_text())  # package data
APERY = PCF("34n^3+51n^2+27n+5", "-n^6")
x, y, n = sp.symbols("x y n")


def ctx_at(dps: int) -> mpmath.MPContext:
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


def reference_cmf(name: str) -> CMF:
    m = VECTORS["cmfs"][name]
    return CMF.from_text({"x": m["M_X"], "y": m["M_Y"]}, name=name)


def agreement(a, b, dps: int = 400) -> float:
    """Decimal digits to which a and b agree (absolute)."""
    ctx = ctx_at(dps)
    d = abs(ctx.mpf(a) - ctx.mpf(b))
    return float("inf") if d == 0 else float(-ctx.log10(d))


# --------------------------------------------------------------------------- parser


def test_parse_entry_builds_the_polynomial():
    assert parse_entry("x**3+(x+1)^3+2*y*(y-1)*(2*x+1)", ["x", "y"]) == (
        x**3 + (x + 1) ** 3 + 2 * y * (y - 1) * (2 * x + 1)
    )
    assert parse_entry("-x/3 + 7", ["x"]) == -x / 3 + 7
    assert parse_entry(5, ["x"]) == 5


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "x.__class__",
        "().__class__.__base__.__subclasses__()",
        "x**y",
        "x**100",
        "x**-1",
        "pi*x",  # constants are not rational functions (1.5*x is: 3x/2, exactly)
        "x**1.5",
        "z + 1",
        "lambda: 1",
        "x if y else 1",
        "[x]",
        "x / 0",
        "x +",
    ],
)
def test_parse_entry_rejects_everything_but_rational_functions(text):
    with pytest.raises(ParseError):
        parse_entry(text, ["x", "y"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-50, 50), min_size=1, max_size=6),
       st.lists(st.integers(0, 3), min_size=1, max_size=6))
def test_parse_entry_reads_back_sympy_text(coeffs, exps):
    expr = sum(c * x ** e * (y + 1) ** (len(coeffs) - i % 3) for i, (c, e) in
               enumerate(zip(coeffs, exps, strict=False)))
    assert sp.expand(parse_entry(sp.sstr(expr), ["x", "y"]) - expr) == 0


# --------------------------------------------------------------------------- conservation


@pytest.mark.parametrize("name", sorted(VECTORS["cmfs"]))
def test_reference_fields_conserve(name):
    assert reference_cmf(name).is_conserving()


def test_broken_field_is_refuted():
    m = VECTORS["cmfs"]["zeta3"]
    broken = CMF.from_text({"x": m["M_X"][:3] + ["x**3+(x+1)**3+2*y*(y-1)*(2*x+1)+1"],
                            "y": m["M_Y"]})
    assert not broken.is_conserving()
    with pytest.raises(ConservationError, match="M_x and M_y do not conserve"):
        broken.check_conservation()


@pytest.mark.parametrize("name", sorted(CATALOGUE["cmfs"]))
def test_catalogue_entry_conserves(name):
    field = cmf_from_spec(CATALOGUE["cmfs"][name], name=name)
    field.check_conservation()
    assert field.name == name


def test_conservation_means_path_independence_symbolically():
    F = reference_cmf("zeta3")
    Mx, My = F.matrix("x"), F.matrix("y")
    diag = F.trajectory_matrix((1, 1))
    assert sp.simplify(diag - Mx * My.subs(x, x + 1)) == sp.zeros(2, 2)
    assert sp.simplify(diag - My * Mx.subs(y, y + 1)) == sp.zeros(2, 2)
    # a step backwards is the inverse of the previous step forwards
    back = F.trajectory_matrix((-1, 0))
    assert sp.simplify(back * Mx.subs(x, x - 1)) == sp.eye(2)


def test_cmf_round_trips_through_its_dict():
    F = cmf_from_spec(CATALOGUE["cmfs"]["2F1_z=-1"])
    G = CMF.from_dict(json.loads(json.dumps(F.to_dict())))
    assert G.key == F.key and G.matrices == F.matrices


def test_cmf_rejects_inconsistent_shapes_and_free_symbols():
    with pytest.raises(DiscoveryError, match="free symbols"):
        CMF(("x",), (sp.ImmutableMatrix([[1, 0], [0, sp.Symbol("a")]]),))
    with pytest.raises(DiscoveryError, match="expected 2x2"):
        CMF(("x", "y"), (sp.ImmutableMatrix([[1, 0], [0, 1]]), sp.ImmutableMatrix([[1]])))


# --------------------------------------------------------------------------- walks and limits


@pytest.mark.parametrize("vec", VECTORS["trajectories"],
                         ids=lambda v: f"{v['cmf']}-{v['trajectory']}-{v['start']}")
def test_reference_trajectory_limit_and_relation(vec):
    F = reference_cmf(vec["cmf"])
    walk = F.walk(vec["trajectory"], vec["start"])
    lim = walk.limit(300)
    assert lim.digits >= vec["digits_at_depth_300"]
    expected = evaluate_expression(vec["limit"], 200)
    assert agreement(lim.value, expected) >= 110
    # identification recovers the stated Möbius relation
    name = {"e": "e", "pi": "pi", "zeta3": "zeta3"}[vec["cmf"]]
    K = evaluate_constant(name, 150)
    m = find_mobius(lim.value, K, 100)
    assert m is not None and m.determinant != 0
    assert agreement(m.evaluate(K), expected) >= 140


def test_walk_is_the_exact_sequential_product():
    F = reference_cmf("pi")
    walk = F.walk((2, 1), (1, 1))
    steps = [walk.step(k) for k in range(40)]
    seq = steps[0]
    for m in steps[1:]:
        seq = seq * m
    prev, cur = walk.walk_matrices(40)
    assert cur == seq
    assert prev * walk.step(39) == cur
    assert product_tree(steps) == seq


def test_trajectory_matrix_scale_is_exact():
    F = reference_cmf("zeta3")
    w = F.walk((1, 1), (0, 0))
    exact = F.trajectory_matrix((1, 1), (0, 0))
    assert sp.simplify(exact - w.scale * w.matrix) == sp.zeros(2, 2)
    symbolic = F.trajectory_matrix((1, 1)).subs({x: n, y: n}, simultaneous=True)
    assert sp.simplify(symbolic - exact) == sp.zeros(2, 2)


def test_zeta3_walk_rate_and_delta_are_aperys():
    walk = reference_cmf("zeta3").walk((1, 1), (1, 1))
    rate = 8 * mpmath.log10(1 + mpmath.sqrt(2))  # 3.0622 digits per step
    assert abs(walk.digits_per_term(600) - float(rate)) < 0.01
    # Apéry's irrationality measure: delta -> (4 log(1+√2) - 3)/(4 log(1+√2) + 3) = 0.0805
    L = 4 * mpmath.log(1 + mpmath.sqrt(2))
    delta_inf = float((L - 3) / (L + 3))
    d = walk.delta(800)
    assert delta_inf < d < delta_inf + 0.02


def test_stationary_walk_gets_finite_digits():
    # the 2F1 field along x0 from (1, 1, 2) is stationary: a rational limit, exactly
    F = pfq_cmf(2, 1, -1)
    lim = F.walk((1, 0, 0), (1, 1, 2)).limit(50)
    assert lim.value == 1 and lim.digits < 10**4


def test_start_points_may_be_rational():
    F = reference_cmf("e")
    w = F.walk((1, 1), (Fraction(1, 2), 0))
    assert w.limit(60).digits > 50


def test_trajectory_object_round_trips():
    w = reference_cmf("zeta3").walk((1, 2), (1, 1))
    w2 = CMFTrajectory.from_dict(json.loads(json.dumps(w.to_dict())))
    assert w2.key == w.key and w2.convergents(30) == w.convergents(30)


def test_primitive_trajectories():
    t = list(primitive_trajectories(2, 2))
    assert (2, 2) not in t and (1, 2) in t and len(t) == 5
    assert len(list(primitive_trajectories(2, 1, nonnegative=False))) == 8


# --------------------------------------------------------------------------- PCF extraction


def test_zeta3_along_diagonal_from_origin_is_aperys_pcf():
    ext = reference_cmf("zeta3").walk((1, 1), (0, 0)).pcf()
    assert ext.pcf == APERY
    assert ext.mobius is None  # the walk itself is singular at (0, 0)
    lim = ext.pcf.limit(200)
    assert agreement(lim.value, 6 / evaluate_constant("zeta3", 300)) >= 300


@pytest.mark.parametrize(
    "name, trajectory, start",
    [("zeta3", (1, 1), (1, 1)), ("zeta3", (1, 2), (1, 1)), ("zeta3", (2, 1), (2, 2)),
     ("pi", (1, 1), (1, 0)), ("pi", (1, 2), (1, 1)), ("pi", (2, 1), (1, 1)),
     ("pi", (1, 1), (2, 3)), ("e", (1, 1), (0, 0)), ("e", (1, 0), (1, 1))],
)
def test_extracted_pcf_has_the_walks_limit(name, trajectory, start):
    # compare LIMITS (ramanujantools 0.0.8 flips the sign of a_n on some π trajectories)
    walk = reference_cmf(name).walk(trajectory, start)
    ext = walk.pcf()
    assert ext.mobius is not None
    V = ext.pcf.limit(400).value
    L = walk.limit(400).value
    assert agreement(ext.walk_limit(V), L) >= 100
    assert ext.pcf.a[-1] > 0  # normalised sign


def test_deflate_all_removes_an_inflation():
    infl = APERY.inflate("2n+3").inflate(6)
    a, b, c = deflate_all(flint.fmpz_poly(list(infl.a)), flint.fmpz_poly(list(infl.b)))
    assert PCF([int(v) for v in a.coeffs()], [int(v) for v in b.coeffs()]) == APERY
    assert c == flint.fmpz_poly([18, 12])


def test_pcf_from_matrix_rejects_triangular_steps():
    with pytest.raises(DiscoveryError, match="c\\(n\\)"):
        pcf_from_matrix(sp.Matrix([[1, n], [0, n + 1]]))


# --------------------------------------------------------------------------- coboundary, fold


@pytest.mark.parametrize("other", [
    PCF("34n^3+153n^2+231n+117", "-(n+1)^6"),  # the tail
    APERY.inflate("n+1"),
    APERY.inflate("2n+3"),
    APERY.inflate(3),
])
def test_coboundary_links_equivalent_pcfs_with_the_right_mobius(other):
    cb = find_coboundary(other, APERY)
    assert cb is not None and cb.mobius is not None
    M1, M2 = companion(other), companion(APERY)
    lhs = M1 * cb.U.subs(n, n + 1)
    rhs = cb.mu * cb.U * M2
    assert sp.simplify(lhs - rhs) == sp.zeros(2, 2)
    V1, V2 = other.limit(300).value, APERY.limit(300).value
    assert agreement(V1, apply_mobius(cb.mobius, V2)) >= 200


def companion(P: PCF) -> sp.Matrix:
    def poly(c):
        return sum(int(v) * n**k for k, v in enumerate(c))

    return sp.Matrix([[0, poly(P.b)], [1, poly(P.a)]])


def test_coboundary_search_refuses_inequivalent_pcfs():
    assert find_coboundary(PCF("11n^2+11n+3", "n^4"), APERY) is None
    assert find_coboundary(PCF("2n+1", "n^2"), APERY) is None


def test_fold_multiplies_steps():
    M = pcf_matrix(PCF("2n+1", "n^2"))
    F = fold(M, 3)

    def at(P, k):
        return sp.Matrix([[int(e(k)) for e in row] for row in P])

    assert at(F, 2) == at(M, 4) * at(M, 5) * at(M, 6)


@pytest.mark.parametrize("k", [2, 3])
def test_folded_pcf_keeps_the_limit(k):
    ext = fold_pcf(APERY, k)
    V = ext.pcf.limit(150).value
    assert agreement(ext.walk_limit(V), 6 / evaluate_constant("zeta3", 300)) >= 250
    # k steps at a time: k times the digits per term
    assert abs(ext.pcf.digits_per_term(200) - k * 3.0622) < 0.05


# --------------------------------------------------------------------------- constructions


@pytest.mark.parametrize("f, fbar", [("x+y", "1"), ("x+y", "x-y"), ("1+2*(x+y)", "y-x"),
                                     ("2*x**2+2*x*y+y**2", "-(2*x**2-2*x*y+y**2)")])
def test_ffbar_instances_meet_both_conditions_and_conserve(f, fbar):
    assert ffbar_conditions(f, fbar) == (0, 0)
    assert ffbar_cmf(f, fbar).is_conserving()


def test_ffbar_rejects_a_bad_pair():
    with pytest.raises(DiscoveryError, match="linear condition"):
        ffbar_cmf("x+y", "x")


@pytest.mark.parametrize("p, q, z", [(2, 1, -1), (2, 1, "1/2"), (1, 1, 2)])
def test_pfq_fields_conserve(p, q, z):
    F = pfq_cmf(p, q, z)
    assert F.rank == max(p, q + 1) and F.dim == p + q
    assert F.is_conserving()


def test_pfq_transposed_matrices_would_not_conserve():
    F = pfq_cmf(2, 1, -1)
    G = CMF(F.axes, tuple(sp.ImmutableMatrix(M.T) for M in F.matrices))
    assert not G.is_conserving()


# --------------------------------------------------------------------------- catalogue limits


CATALOGUE_LIMITS = [
    (name, lim) for name, entry in sorted(CATALOGUE["cmfs"].items()) for lim in entry["limits"]
]


@pytest.mark.parametrize("name, lim", CATALOGUE_LIMITS,
                         ids=[f"{n}-{v['trajectory']}-{v['start']}" for n, v in CATALOGUE_LIMITS])
def test_catalogue_limit_reproduced_and_identified(name, lim):
    F = cmf_from_spec(CATALOGUE["cmfs"][name], name=name)
    value = F.walk(lim["trajectory"], lim["start"]).limit(lim["depth"])
    assert value.digits >= 100
    expected = evaluate_expression(lim["limit"], 150)
    assert agreement(value.value, expected) >= 100
    K = evaluate_constant(lim["constant"], 150)
    m = find_mobius(value.value, K, 100)
    assert m is not None and list(m.coefficients) == lim["mobius"]
    text = {"e": "e", "pi": "pi", "zeta3": "zeta(3)", "zeta2": "zeta(2)", "log2": "log(2)"}
    assert mobius_claim(lim["mobius"], text[lim["constant"]]) == lim["limit"]


def test_catalogue_is_versioned_and_covers_the_required_constants():
    assert CATALOGUE["version"] == 1
    constants = {c for e in CATALOGUE["cmfs"].values() for c in e["constants"]}
    assert {"e", "pi", "zeta3", "log2", "zeta2"} <= constants
    kinds = {e["construction"] for e in CATALOGUE["cmfs"].values()}
    assert kinds == {"matrices", "ffbar", "pfq"}
