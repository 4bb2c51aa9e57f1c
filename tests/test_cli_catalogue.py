"""``discovery db list/find/show/graph/export``: the store as a catalogue of formula families.

The fixture holds real mathematics, every claim re-verified here at 30 digits:

* Euler (1737): PCF(4n + 2, 1) = [2; 6, 10, 14, ...] = (e + 1)/(e - 1), and three members of
  its family: the tail PCF(4n + 6, 1) = 1/(y - 2) = (e - 1)/(3 - e), the inflation
  PCF(8n + 4, 4) = 2y, and the signed continued fraction [1; 1, 6, 10, 14, ...] =
  y/(y - 1) = (e + 1)/2, which contracts to Euler's PCF;
* Apéry (1979): PCF(34n^3 + 51n^2 + 27n + 5, -n^6) = 6/zeta(3);
* a PCF of the zeta(3) conservative matrix field, 21/(zeta(3) - 1), coboundary-equivalent
  to Apéry's (a different family: its degrees differ);
* the classical PCF(2n + 1, n^2) = 4/pi (Euler's continued fraction of arctan 1).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil

import mpmath
import networkx as nx
import pytest
import typer
from typer.testing import CliRunner

from discovery import graph as g
from discovery.commands.db import db_app
from discovery.store import Store
from discovery.verification import verify
from discovery.verifiers import verify_candidate
from search.base import Candidate
from solvers.continued_fractions import PCF
from solvers.expr import evaluate_expression, parse_expression
from solvers.keys import canonical_key

app = typer.Typer()
app.add_typer(db_app, name="db")
runner = CliRunner()

DIGITS = 30


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def run_json(*args) -> dict:
    r = invoke(*args, "--json")
    assert r.exit_code == 0, (r.stdout, r.stderr)
    assert r.stdout.count("\n") == 1, r.stdout  # exactly one JSON object
    return json.loads(r.stdout)


def one_line_error(result) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def pcf(a, b, claim, constant, relations=()):
    formula = {"a": a, "b": b}
    return Candidate("pcf", canonical_key("pcf", formula), formula, claim, constant, {},
                     relations)


EULER = pcf([2, 4], [1], "(e + 1)/(e - 1)", "e")
EULER_TAIL = pcf([6, 4], [1], "(e - 1)/(3 - e)", "e")  # y = 2 + 1/x
EULER_X2 = pcf([4, 8], [4], "2*(e + 1)/(e - 1)", "e")  # a -> 2a, b -> 4b: twice the limit
SCF_FORMULA = {"signs": [1], "recurrence": [1, -2, 1, 0, 0], "first_terms": [1, 1, 6, 10],
               "pcf": {"a": [2, 4], "b": [1]}, "mobius": [1, 0, 1, -1]}
EULER_SCF = Candidate("esma", canonical_key("esma", SCF_FORMULA), SCF_FORMULA, "(e + 1)/2",
                      "e", {}, (("contracts-to", EULER.key),))
APERY = pcf([5, 27, 51, 34], [0, 0, 0, 0, 0, 0, -1], "6/zeta(3)", "zeta3")
CMF_ZETA3 = pcf([104, 764, 2286, 3536, 2924, 1224, 204],
                [0, 0, 0, 21, -1, -118, -24, 278, 146, -345, -465, -216, -36],
                "21/(zeta(3) - 1)", "zeta3", (("equivalent-to", APERY.key),))
LAMBERT = pcf([1, 2], [0, 0, 1], "4/pi", "pi")
ALL = (EULER, EULER_TAIL, EULER_X2, EULER_SCF, APERY, CMF_ZETA3, LAMBERT)

E30 = "2.71828182845904523536028747135"
PI30 = "3.14159265358979323846264338328"


def _value(text: str, dps: int = 40):
    return evaluate_expression(parse_expression(text), dps)


def check(kind: str, formula, claim: str) -> None:
    """The pair (formula, claim) is verified to 30 digits by the independent verifier."""
    if kind == "pcf":
        ev = verify(PCF.from_dict(formula), claim, DIGITS)
    else:
        ev = verify_candidate(Candidate(kind, canonical_key(kind, formula), formula, claim),
                              DIGITS)
    assert ev.verdict == "verified", (formula, claim, ev)


@pytest.mark.parametrize("cand", ALL, ids=lambda c: c.claim)
def test_every_fixture_claim_is_true(cand):
    check(cand.kind, cand.formula, cand.claim)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("catalogue_db") / "cat_store.db"
    with Store(path) as s:
        run = s.start_run("fixture", "test", {})
        for cand in ALL:
            s.record(cand, verify_candidate(cand, 60), run)
        s.add_relation(CMF_ZETA3.key, "derived-from", "cmf-walk:zeta3-start-0-1")
        s.end_run(run, "finished")
    return path


@pytest.fixture(scope="module")
def families(db) -> dict:
    """``{representative's claim: family dict}`` from ``db list --json``."""
    data = run_json("db", "list", "--db", db)
    return {f["claim"]: f for f in data["families"]}


# -- db list ---------------------------------------------------------------------------------


def test_list_groups_the_variants_under_the_representatives_own_claim(db, families):
    data = run_json("db", "list", "--db", db)
    assert (data["count"], data["total"]) == (4, 4)
    assert set(families) == {"(e + 1)/(e - 1)", "6/zeta(3)", "21/(zeta(3) - 1)", "4/pi"}
    euler = families["(e + 1)/(e - 1)"]
    assert euler["members"] == 4 and euler["constant"] == "e"
    rep = euler["representative"]
    assert (rep["key"], rep["formula_text"], rep["claim"]) == (
        EULER.key, "PCF(4n + 2, 1)", "(e + 1)/(e - 1)")
    assert euler["known"] and "Euler" in euler["source"]
    assert euler["digits"] >= 60 and euler["delta"] == pytest.approx(1.04, abs=0.01)
    for f in data["families"]:  # the claim shown is the representative's own, and true
        assert f["claim"] == f["representative"]["claim"]
        check(f["representative"]["kind"], f["representative"]["formula"], f["claim"])
    # sorted by digits (default): non-increasing
    digits = [f["digits"] for f in data["families"]]
    assert digits == sorted(digits, reverse=True)


def test_list_limit_shows_the_total(db):
    data = run_json("db", "list", "--db", db, "--limit", "1")
    assert (data["count"], data["total"]) == (1, 4)
    human = invoke("db", "list", "--db", db, "--limit", "1")
    assert human.exit_code == 0 and "showing 1 of 4 families" in human.stdout
    page = run_json("db", "list", "--db", db, "--limit", "2", "--offset", "3")
    assert (page["count"], page["total"], page["offset"]) == (1, 4, 3)


def test_list_sort_members_and_filters(db):
    data = run_json("db", "list", "--db", db, "--sort", "members")
    assert [f["members"] for f in data["families"]] == [4, 1, 1, 1]
    assert data["families"][0]["claim"] == "(e + 1)/(e - 1)"
    zeta3 = run_json("db", "list", "--db", db, "--constant", "zeta(3)", "--sort", "found")
    assert {f["claim"] for f in zeta3["families"]} == {"6/zeta(3)", "21/(zeta(3) - 1)"}
    assert "Unknown sort" in one_line_error(invoke("db", "list", "--db", db, "--sort", "x"))


def test_list_new_excludes_the_families_of_the_literature(db):
    data = run_json("db", "list", "--db", db, "--new")
    assert [f["claim"] for f in data["families"]] == ["21/(zeta(3) - 1)"]
    assert data["total"] == 1 and not data["families"][0]["known"]
    # Euler's, Apery's and 4/pi are in discovery/data/known_formulas.csv
    known = [f for f in run_json("db", "list", "--db", db)["families"] if f["known"]]
    assert {f["claim"] for f in known} == {"(e + 1)/(e - 1)", "6/zeta(3)", "4/pi"}


def test_list_members_with_their_own_claims_and_maps(db):
    data = run_json("db", "list", "--db", db, "--members", "--constant", "e")
    (euler,) = data["families"]
    by_key = {m["key"]: m for m in euler["member_list"]}
    assert set(by_key) == {EULER.key, EULER_TAIL.key, EULER_X2.key, EULER_SCF.key}
    assert by_key[EULER.key]["map_to_representative"]["check"] == "representative"
    tail = by_key[EULER_TAIL.key]
    assert tail["claim"] == "(e - 1)/(3 - e)"  # its own claim, not the representative's
    assert tail["map_to_representative"] == {"mobius": [0, 1, 1, -2], "text": "x = 1/(y - 2)",
                                             "check": "exact"}
    assert by_key[EULER_SCF.key]["map_to_representative"]["check"].startswith("checked to")
    y = _value(euler["claim"])
    for m in euler["member_list"]:  # x = (A y + B)/(C y + D) holds for the claims
        A, B, C, D = m["map_to_representative"]["mobius"]
        assert abs(_value(m["claim"]) - (A * y + B) / (C * y + D)) < mpmath.mpf(10) ** -35
        check(m["kind"], m["formula"], m["claim"])
    human = invoke("db", "list", "--db", db, "--members", "--constant", "e")
    assert human.exit_code == 0
    assert "x = 1/(y - 2)" in human.stdout and "(exact)" in human.stdout
    assert "= (e - 1)/(3 - e)" in human.stdout


def test_list_conjectures_is_the_flat_listing(db):
    data = run_json("db", "list", "--db", db, "--conjectures", "--limit", "2")
    assert (data["count"], data["total"]) == (2, len(ALL))
    assert [c["claim"] for c in data["conjectures"]] == [EULER.claim, EULER_TAIL.claim]
    assert "--members" in one_line_error(invoke("db", "list", "--db", db, "--conjectures",
                                                "--members"))


# -- db find ---------------------------------------------------------------------------------


def test_find_value_e_finds_eulers_family(db, families):
    data = run_json("db", "find", "--value", E30, "--db", db)
    assert data["identified"] is None
    first = data["matches"][0]
    assert first["family"]["id"] == families["(e + 1)/(e - 1)"]["id"]
    assert first["mobius"] == [1, 1, 1, -1]  # e = (y + 1)/(y - 1)
    assert first["value_claim"] == "e"
    human = invoke("db", "find", "--value", E30, "--db", db)
    assert "PCF(4n + 2, 1)" in human.stdout and "= (e + 1)/(e - 1)" in human.stdout


def test_find_value_through_a_mobius_map(db, families):
    x = mpmath.mpf(1) / (mpmath.e - 2)
    with mpmath.workdps(40):
        text = mpmath.nstr(1 / (mpmath.e - 2), 30)
    data = run_json("db", "find", "--value", text, "--db", db, "--constant", "e")
    (match,) = data["matches"]
    assert match["family"]["id"] == families["(e + 1)/(e - 1)"]["id"]
    A, B, C, D = match["mobius"]
    y = _value("(e + 1)/(e - 1)")
    assert abs((A * y + B) / (C * y + D) - x) < mpmath.mpf(10) ** -14
    assert abs(_value(match["value_claim"]) - _value("1/(e - 2)")) < mpmath.mpf(10) ** -35


def test_find_value_falls_back_to_the_catalogue(tmp_path, db):
    empty = tmp_path / "empty.db"
    Store(empty).close()
    data = run_json("db", "find", "--value", PI30, "--db", empty)
    assert data["matches"] == [] and data["constant_families"] == []
    assert data["identified"]["found"] and data["identified"]["relation"] == "pi"
    human = invoke("db", "find", "--value", PI30, "--db", empty)
    assert "not in the store; the catalogue identifies it as pi" in human.stdout
    # pi + zeta(3): no family's limit is a Möbius image of it; the catalogue knows it, and
    # the store's families of pi and zeta(3) are listed.
    with mpmath.workdps(40):
        text = mpmath.nstr(mpmath.pi + mpmath.zeta(3), 30)
    data = run_json("db", "find", "--value", text, "--db", db)
    assert data["matches"] == []
    assert data["identified"]["relation"] == "pi + zeta(3)"
    assert {f["claim"] for f in data["constant_families"]} == {
        "4/pi", "6/zeta(3)", "21/(zeta(3) - 1)"}


def test_find_formula_groups_by_family(db, families):
    data = run_json("db", "find", "--formula", "4n+2", "--db", db)
    (group,) = data["families"]
    assert group["family"]["id"] == families["(e + 1)/(e - 1)"]["id"]
    assert {c["key"] for c in group["conjectures"]} == {EULER.key, EULER_SCF.key}
    for c in group["conjectures"]:  # each with its own claim
        check(c["kind"], c["formula"], c["claim"])
    assert {c["claim"] for c in group["conjectures"]} == {"(e + 1)/(e - 1)", "(e + 1)/2"}
    human = invoke("db", "find", "--formula", "4n+2", "--db", db)
    assert human.exit_code == 0 and "= (e + 1)/2" in human.stdout
    cubic = run_json("db", "find", "--formula", "34n^3+51n^2+27n+5", "--db", db)
    assert [c["key"] for grp in cubic["families"] for c in grp["conjectures"]] == [APERY.key]


@pytest.mark.parametrize("args", [[], ["--value", E30, "--formula", "4n+2"]])
def test_find_needs_exactly_one_of_value_and_formula(db, args):
    assert "exactly one of --value and --formula" in one_line_error(
        invoke("db", "find", *args, "--db", db))
    r = invoke("db", "find", *args, "--db", db, "--json")
    assert r.exit_code == 2 and json.loads(r.stdout)["status"] == 2


# -- db show ---------------------------------------------------------------------------------


def _pairs(data: dict) -> list[tuple[str, object, str]]:
    """Every (kind, formula, claim) that a `db show --json` pairs."""
    out = []
    if "formula" in data:
        out.append((data["kind"], data["formula"], data["claim"]))
    fam = data.get("family")
    if fam and fam.get("representative"):
        rep = fam["representative"]
        out.append((rep["kind"], rep["formula"], rep["claim"]))
    for s in data.get("relation_sentences", []):
        if s["other"] is not None:
            out.append((s["other"]["kind"], s["other"]["formula"], s["other"]["claim"]))
    for m in data.get("members", []):
        out.append((m["kind"], m["formula"], m["claim"]))
    return out


def test_show_a_family(db, families):
    fid = families["(e + 1)/(e - 1)"]["id"]
    data = run_json("db", "show", f"F{fid}", "--db", db)
    assert data["family"]["claim"] == "(e + 1)/(e - 1)" and data["total_members"] == 4
    assert data["members"][0]["key"] == EULER.key  # the representative first
    for kind, formula, claim in _pairs(data):
        check(kind, formula, claim)
    assert run_json("db", "show", f"family:{fid}", "--db", db)["family"]["id"] == fid
    assert run_json("db", "show", f"F{fid}", "--db", db, "--limit", "2")["total_members"] == 4
    human = invoke("db", "show", f"F{fid}", "--db", db)
    assert human.exit_code == 0
    assert "PCF(4n + 2, 1) = (e + 1)/(e - 1)" in human.stdout and "known" in human.stdout


def test_show_a_member_by_key_and_by_id(db, families):
    data = run_json("db", "show", EULER_TAIL.key, "--db", db)
    assert data["claim"] == "(e - 1)/(3 - e)"
    assert data["family"]["id"] == families["(e + 1)/(e - 1)"]["id"]
    assert data["map_to_representative"]["text"] == "x = 1/(y - 2)"
    assert run_json("db", "show", str(data["id"]), "--db", db)["key"] == EULER_TAIL.key
    for kind, formula, claim in _pairs(data):
        check(kind, formula, claim)
    human = invoke("db", "show", EULER_TAIL.key, "--db", db).stdout
    assert "PCF(4n + 6, 1) = (e - 1)/(3 - e)" in human
    assert "representative #1 PCF(4n + 2, 1) = (e + 1)/(e - 1)" in human
    assert "this formula: x = 1/(y - 2) (exact" in human


def test_show_relations_as_sentences_with_both_claims(db):
    data = run_json("db", "show", EULER_SCF.key, "--db", db)
    (sentence,) = data["relation_sentences"]
    assert sentence["other"]["key"] == EULER.key
    assert sentence["text"] == ("SCF(+)[1; 1, 6, 10, ...] = (e + 1)/2 contracts to "
                                "PCF(4n + 2, 1) = (e + 1)/(e - 1)  [x = y/(y - 1)]")
    for kind, formula, claim in _pairs(data):
        check(kind, formula, claim)
    apery = run_json("db", "show", APERY.key, "--db", db)
    assert [s["other"]["claim"] for s in apery["relation_sentences"]] == ["21/(zeta(3) - 1)"]
    for kind, formula, claim in _pairs(apery):
        check(kind, formula, claim)
    human = invoke("db", "show", EULER_SCF.key, "--db", db).stdout
    assert "= (e + 1)/2 contracts to PCF(4n + 2, 1) = (e + 1)/(e - 1)" in human


def test_show_a_key_that_is_only_referenced(db):
    line = one_line_error(invoke("db", "show", "cmf-walk:zeta3-start-0-1", "--db", db))
    assert "only referenced by 1 relation (derived-from)" in line
    assert "No conjecture or family" in one_line_error(invoke("db", "show", "pcf:nope",
                                                              "--db", db))
    assert "No family" in one_line_error(invoke("db", "show", "F99", "--db", db))


# -- db export -------------------------------------------------------------------------------


def _outside_math(tex: str) -> str:
    body = re.sub(r"\\begin\{equation\*\}.*?\\end\{equation\*\}", "", tex, flags=re.DOTALL)
    return re.sub(r"\$[^$]*\$", "", body)


def test_export_latex_is_a_complete_document(db, tmp_path):
    out = tmp_path / "cat.tex"
    r = invoke("db", "export", "--latex", "--db", db, "--out", out)
    assert r.exit_code == 0, r.stderr
    tex = out.read_text()
    assert tex.startswith(r"\documentclass") and r"\usepackage{amsmath}" in tex
    assert tex.count(r"\begin{document}") == tex.count(r"\end{document}") == 1
    assert tex.index(r"\begin{document}") < tex.index(r"\end{document}")
    assert tex.count(r"\begin{equation*}") == tex.count(r"\end{equation*}") == 4
    assert tex.count("$") % 2 == 0
    assert tex.count("{") == tex.count("}")
    text = _outside_math(tex)
    for ch in "_#%&":
        assert not re.search(rf"(?<!\\){re.escape(ch)}", text), ch
    assert "cat\\_store.db" in tex  # the path, escaped
    assert r"\cfrac{1}{6 + \cfrac{1}{10" in tex  # Euler's [2; 6, 10, 14, ...]
    assert r"\zeta" in tex and "a_n = 4n+2" in tex
    assert "L. Euler" in tex and r"\textbf{New.}" in tex
    assert invoke("db", "export", "--latex", "--db", db).stdout == tex
    if shutil.which("pdflatex"):
        import subprocess

        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                               out.name], cwd=tmp_path, capture_output=True, timeout=120)
        assert done.returncode == 0, done.stdout[-2000:]


def test_export_csv_one_row_per_family(db, families):
    r = invoke("db", "export", "--csv", "--db", db)
    assert r.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 4
    by_claim = {row["claim"]: row for row in rows}
    assert set(by_claim) == set(families)
    euler = by_claim["(e + 1)/(e - 1)"]
    assert (euler["representative"], euler["members"], euler["known"], euler["constant"]) == (
        "PCF(4n + 2, 1)", "4", "known", "e")
    assert "Euler" in euler["source"] and euler["first_found"]
    assert by_claim["21/(zeta(3) - 1)"]["known"] == "new"
    assert float(euler["delta"]) == pytest.approx(families["(e + 1)/(e - 1)"]["delta"])


def test_export_graphml_carries_the_families(db, tmp_path, families):
    path = tmp_path / "g.graphml"
    assert invoke("db", "export", "--graphml", path, "--db", db, "--out",
                  tmp_path / "x.json").exit_code == 0
    H = nx.read_graphml(path)
    node = H.nodes[EULER_TAIL.key]
    assert node["family"] == families["(e + 1)/(e - 1)"]["id"]
    assert node["family_representative"] == EULER.key and node["family_known"] is True
    assert node["family_label"] == "F1: PCF(4n + 2, 1) = (e + 1)/(e - 1) [known]"
    assert H.nodes[CMF_ZETA3.key]["family_known"] is False
    assert "families" in json.loads((tmp_path / "x.json").read_text())


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_export_refuses_to_overwrite_the_store(db, tmp_path):
    copy = tmp_path / "copy.db"
    shutil.copy(db, copy)
    before = sha(copy)
    link = tmp_path / "link.db"
    link.symlink_to(copy)
    (tmp_path / "sub").mkdir()
    for target in (copy, tmp_path / "sub" / ".." / "copy.db", link):
        for fmt in ([], ["--latex"], ["--csv"]):
            line = one_line_error(invoke("db", "export", *fmt, "--db", copy, "--out", target))
            assert "is the store itself" in line
        one_line_error(invoke("db", "export", "--db", copy, "--graphml", target))
    r = invoke("db", "export", "--db", copy, "--out", copy, "--json")
    assert r.exit_code == 2 and "store itself" in json.loads(r.stdout)["error"]
    assert sha(copy) == before


# -- db graph --------------------------------------------------------------------------------


def test_family_graph_links_families_through_member_relations(db):
    with Store(db, readonly=True) as s:
        G = g.family_graph(s)
        Z = g.family_graph(s, "zeta(3)", radius=0)
        E = g.family_graph(s, "e")
    assert G.number_of_nodes() == 4 and G.number_of_edges() == 1
    (u, v, d), = G.edges(data=True)
    assert {G.nodes[u]["claim"], G.nodes[v]["claim"]} == {"6/zeta(3)", "21/(zeta(3) - 1)"}
    assert d["types"] == {"equivalent-to": 1} and d["label"] == "coboundary ×1"
    assert Z.graph["title"] == "Families for zeta3: 2 families, 2 formulas"
    assert E.graph["title"] == "Families for e: 1 family, 4 formulas"
    (node,) = E.nodes(data=True)
    assert node[1]["label"] == "F1: PCF(4n + 2, 1) = (e + 1)/(e - 1) [known]"
    assert node[1]["members"] == 4 and node[1]["known"]


def test_graph_png_json_and_text(db, tmp_path):
    png, graphml = tmp_path / "fam.png", tmp_path / "fam.graphml"
    data = run_json("db", "graph", "--db", db, "--png", png, "--graphml", graphml)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    assert data["title"] == "Families for all constants: 4 families, 7 formulas"
    labels = {f["label"] for f in data["families"]}
    assert "F1: PCF(4n + 2, 1) = (e + 1)/(e - 1) [known]" in labels
    for f in data["families"]:
        assert f["label"].startswith(f"F{f['id']}: ") and f["label"].count(f["claim"])
    (link,) = data["links"]
    assert link["label"] == "coboundary ×1"
    H = nx.read_graphml(graphml)
    assert H.number_of_nodes() == 4 and H.number_of_edges() == 1
    zeta = run_json("db", "graph", "--db", db, "--constant", "zeta3", "--png",
                    tmp_path / "z.png")
    assert {f["claim"] for f in zeta["families"]} == {"6/zeta(3)", "21/(zeta(3) - 1)"}
    assert {f["key"] for f in zeta["formulas"]} == {APERY.key, CMF_ZETA3.key}
    text = invoke("db", "graph", "--db", db, "--constant", "zeta3")
    assert text.exit_code == 0
    assert "Families for zeta3: 2 families, 2 formulas" in text.stdout
    assert "= 6/zeta(3)" in text.stdout and "coboundary ×1" in text.stdout
    assert "is the store itself" in one_line_error(invoke("db", "graph", "--db", db,
                                                           "--png", db))


def test_maps_are_to_the_member_standing_in_for_the_representative(tmp_path):
    # Without Euler's PCF itself, the tail PCF(4n + 6, 1) stands in for the representative:
    # the inflation's map is then to the tail's limit t: 2y = 2(2 + 1/t) = (4t + 2)/t.
    path = tmp_path / "standin.db"
    with Store(path) as s:
        for cand in (EULER_TAIL, EULER_X2):
            s.record(cand, verify_candidate(cand, 40))
    data = run_json("db", "show", EULER_X2.key, "--db", path)
    assert data["family"]["representative"]["key"] == EULER_TAIL.key
    assert data["family"]["claim"] == EULER_TAIL.claim
    assert data["map_to_representative"] == {"mobius": [4, 2, 1, 0], "text": "x = (4*y + 2)/y",
                                             "check": "exact"}
    t, x = _value(EULER_TAIL.claim), _value(EULER_X2.claim)
    assert abs((4 * t + 2) / t - x) < mpmath.mpf(10) ** -35
    for kind, formula, claim in _pairs(data):
        check(kind, formula, claim)


def test_programs_have_no_limit_and_are_listed_as_conjectures(tmp_path):
    path = tmp_path / "prog.db"
    square = Candidate("program", "program:square", {"text": "x*x", "ops": 1},
                       "x*x = x^2 on [0, 1] (max error 0)", None)
    with Store(path) as s:
        s.record(square, {"verdict": "verified", "digits": 16})
    data = run_json("db", "list", "--kind", "program", "--db", path)
    assert data["listing"] == "conjectures" and data["total"] == 1
    assert data["conjectures"][0]["formula_text"] == "x*x"
    families = run_json("db", "list", "--db", path)
    assert families["listing"] == "families" and families["families"][0]["members"] == 1
