"""The graph view of the store: formulas of a constant, families, paths, exports, drawing."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from discovery import graph as g
from discovery.store import Store
from search.base import Candidate
from solvers.keys import canonical_key


def pcf(a, b, claim, constant, relations=()):
    formula = {"a": a, "b": b}
    return Candidate("pcf", canonical_key("pcf", formula), formula, claim, constant, {}, relations)


# Known formulas (ascending coefficients): Apery's zeta(3) and zeta(2), Euler's e, Lambert's 4/pi.
APERY3 = pcf([5, 27, 51, 34], [0, 0, 0, 0, 0, 0, -1], "6/zeta(3)", "zeta3")
APERY2 = pcf([3, 11, 11], [0, 0, 0, 0, 1], "5/zeta(2)", "zeta2")
EULER = pcf([3, 1], [0, -1], "e", "e")
LAMBERT = pcf([1, 2], [0, 0, 1], "4/pi", "pi")
# Inflating a PCF by c (a -> c a, b -> c^2 b) multiplies its limit by c: equivalent formulas.
APERY3_B = pcf([10, 54, 102, 68], [0, 0, 0, 0, 0, 0, -4], "12/zeta(3)", "apery",
               relations=(("equivalent-to", APERY3.key),))
EULER_B = pcf([6, 2], [0, -4], "2*e", "e", relations=(("equivalent-to", EULER.key),))
# 10/zeta(2) = 60/pi^2: Apery's zeta(2) fraction inflated by 2 links zeta2 and pi.
BRIDGE = pcf([6, 22, 22], [0, 0, 0, 0, 4], "60/pi^2", "pi",
             relations=(("equivalent-to", APERY2.key),))


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "g.db") as s:
        run = s.start_run("t", "test", {})
        s.finish_task(run, "t1", [(APERY3, {"verdict": "verified", "digits": 200}),
                                  (APERY3_B, {"verdict": "verified", "digits": 90})])
        s.finish_task(run, "t2", [(APERY2, {"verdict": "verified", "digits": 150}),
                                  (EULER, {"verdict": "proven", "digits": 50}),
                                  (EULER_B, {"verdict": "verified", "digits": 60})])
        s.finish_task(run, "t3", [(LAMBERT, {"verdict": "verified", "digits": 100}),
                                  (BRIDGE, None)])
        yield s


def test_nodes_are_conjectures_constants_and_runs(store):
    G = g.build_graph(store)
    assert isinstance(G, nx.MultiDiGraph)
    kinds = {n: d["type"] for n, d in G.nodes(data=True)}
    assert kinds[APERY3.key] == "conjecture"
    assert kinds["const:zeta3"] == kinds["const:pi"] == kinds["const:e"] == "constant"
    assert kinds["run:1"] == "run"
    assert sum(t == "conjecture" for t in kinds.values()) == 7
    node = G.nodes[APERY3.key]
    assert (node["status"], node["digits"], node["claim"]) == ("verified", 200, "6/zeta(3)")
    assert json.loads(node["formula"]) == {"a": [5, 27, 51, 34], "b": [0, 0, 0, 0, 0, 0, -1]}
    assert G.has_edge(APERY3.key, "const:zeta3", key="evaluates-to")
    assert G.has_edge(APERY3.key, "run:1", key="found-by")


def test_formulas_for_a_constant_best_first_with_aliases(store):
    G = g.build_graph(store)
    # APERY3_B was recorded as 'apery': an alias of zeta3.
    assert g.formulas_for(G, "zeta3") == [APERY3.key, APERY3_B.key]
    assert g.formulas_for(G, "zeta(3)") == g.formulas_for(G, "apery")
    assert g.formulas_for(G, "e") == [EULER.key, EULER_B.key]  # proven before verified
    assert g.formulas_for(G, "pi") == [LAMBERT.key, BRIDGE.key]  # verified before proposed
    assert g.formulas_for(G, "catalan") == []


def test_families_are_components_through_equivalence_edges(store):
    G = g.build_graph(store)
    assert g.families(G) == sorted(
        [
            sorted([APERY3.key, APERY3_B.key]),
            sorted([EULER.key, EULER_B.key]),
            sorted([APERY2.key, BRIDGE.key]),
        ],
        key=lambda f: f[0],
    )
    singles = g.families(G, min_size=1)
    assert sum(len(f) for f in singles) == 7  # a partition of the conjectures


def test_relations_between_two_constants_are_paths_not_through_runs(store):
    G = g.build_graph(store)
    paths = g.relations_between(G, "zeta2", "pi")
    assert paths == [["const:zeta2", APERY2.key, BRIDGE.key, "const:pi"]]
    assert g.describe_path(G, paths[0]) == (
        f"const:zeta2 <-evaluates-to- {APERY2.key} <-equivalent-to- {BRIDGE.key} "
        "-evaluates-to-> const:pi"
    )
    # zeta3 and e are only connected through the run node, which does not count.
    assert g.relations_between(G, "zeta3", "e") == []
    assert g.relations_between(G, "zeta3", "no-such-constant") == []


def test_graphml_export_reads_back_with_scalar_attributes(store, tmp_path):
    G = g.build_graph(store)
    path = g.export_graphml(G, tmp_path / "g.graphml")
    H = nx.read_graphml(path)
    assert H.number_of_nodes() == G.number_of_nodes()
    assert H.number_of_edges() == G.number_of_edges()
    assert H.nodes[APERY3.key]["claim"] == "6/zeta(3)"
    assert int(H.nodes[APERY3.key]["digits"]) == 200


def test_node_link_json_has_explicit_keys_and_round_trips(store):
    G = g.build_graph(store)
    data = g.export_json(G)
    text = json.dumps(data)  # JSON-able as is
    assert set(data) == {"directed", "multigraph", "graph", "nodes", "edges"}
    edge = next(e for e in data["edges"] if e["key"] == "evaluates-to")
    assert {"source", "target", "key", "type"} <= set(edge)
    H = nx.node_link_graph(json.loads(text), edges="edges")
    assert H.number_of_edges() == G.number_of_edges()
    assert H.has_edge(EULER_B.key, EULER.key, key="equivalent-to")


def test_neighbourhood_drawing_is_a_png(store, tmp_path):
    G = g.build_graph(store)
    out = g.draw_neighbourhood(G, "zeta2", tmp_path / "zeta2.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5000
    H = g.neighbourhood(G, "zeta2", radius=2)
    assert set(H) == {"const:zeta2", APERY2.key, BRIDGE.key}
    assert set(g.neighbourhood(G, "zeta2", radius=3)) == {
        "const:zeta2", APERY2.key, BRIDGE.key, "const:pi"
    }
    with pytest.raises(Exception, match="No constant"):
        g.draw_neighbourhood(G, "catalan", tmp_path / "none.png")


def test_the_graph_is_a_view_built_on_demand(store):
    before = g.build_graph(store).number_of_nodes()
    store.record(pcf([1], [1], "(1+sqrt(5))/2", "golden"), None)
    G = g.build_graph(store)
    assert G.number_of_nodes() == before + 2  # the conjecture and const:phi
    assert "const:phi" in G


def test_signed_fractions_contracting_to_one_pcf_form_a_family(tmp_path):
    # Two ESMA patterns for e-transforms that both contract to PCF(4n + 2, 1) = (e+1)/(e-1);
    # the PCF itself is not a stored conjecture: it links the family but is not listed in it.
    target = canonical_key("pcf", {"a": [2, 4], "b": [1]})
    p1 = Candidate("esma", "esma:1", {"first_terms": [2, 1, 2], "signs": [1]}, "e", "e",
                   relations=(("contracts-to", target),))
    p2 = Candidate("esma", "esma:2", {"first_terms": [3, 3, 2], "signs": [-1, 1]}, "e", "e",
                   relations=(("contracts-to", target),))
    with Store(tmp_path / "f.db") as s:
        s.record(p1, None)
        s.record(p2, None)
        G = g.build_graph(s)
    assert G.nodes[target]["type"] == "formula"
    assert g.families(G) == [["esma:1", "esma:2"]]
    assert g.families(G, via=("equivalent-to",)) == []
    assert g.formulas_for(G, "e") == ["esma:1", "esma:2"]
