"""The store as a catalogue of families (discovery.catalogue): grouping, maps, queries, display.

Every claim recorded here is verified in the test with discovery.verification.verify first; the
expected values are exact identities (Euler: (e+1)/(e-1) = [2; 6, 10, 14, ...]) evaluated
with mpmath, or digits of e from the reference table.
"""

from __future__ import annotations

from functools import cache

import mpmath
import pytest
from conftest import load_pcf_rows

from discovery.catalogue import (
    count_families,
    family_members,
    find_formula,
    find_value,
    get_family,
    list_families,
    relation_sentence,
)
from discovery.store import Store
from discovery.verification import verify
from search.base import Candidate
from solvers.continued_fractions import PCF
from solvers.errors import StoreError
from solvers.expr import evaluate_expression, expression_latex, parse_expression

E = mpmath.e
with mpmath.workdps(60):
    Y = (E + 1) / (E - 1)  # Euler's [2; 6, 10, 14, ...] (an mpf keeps its 60 digits)

EULER = ("4n+2", "1", "(e+1)/(e-1)", "e")
SCALED = ("8n+4", "4", "2*(e+1)/(e-1)", "e")      # 2 PCF(4n+2, 1)
NEGATED = ("-4n-2", "1", "-(e+1)/(e-1)", "e")     # PCF(-a, b) = -PCF(a, b)
TAIL = ("4n+6", "1", "(e-1)/(3-e)", "e")          # y = 2 + 1/tail  =>  tail = 1/(y - 2)
APERY = ("34n^3+51n^2+27n+5", "-n^6", "6/zeta(3)", "zeta(3)")
GOLDEN = ("1", "1", "(1+sqrt(5))/2", "phi")
NEW_E = ("n+3", "n", "1/(6*e-16)", "e")           # not in the reference table
E_30 = "2.71828182845904523536028747135"
PI_30 = "3.14159265358979323846264338328"


@pytest.fixture(autouse=True)
def _precision():
    """60 digits for the test-side mpmath arithmetic, restored afterwards."""
    with mpmath.workdps(60):
        yield


@cache
def _evidence(a: str, b: str, claim: str, digits: int = 60) -> dict:
    ev = verify(PCF(a, b), claim, digits)
    return ev.to_dict()


def _candidate(spec, claim=None) -> Candidate:
    a, b, own, constant = spec
    p = PCF(a, b)
    return Candidate("pcf", p.key, p.to_dict(), claim or own, constant)


def _record(store: Store, spec, when=None) -> int:
    a, b, claim, _ = spec
    ev = _evidence(a, b, claim)
    assert ev["verdict"] == "verified", (spec, ev["note"])
    return store.record(_candidate(spec), dict(ev), when=when)


def _value(claim: str):
    return mpmath.mpf(evaluate_expression(parse_expression(claim), 60))


def _apply(m, y):
    A, B, C, D = m
    return (A * y + B) / (C * y + D)


def _agree(x, y, digits: int) -> bool:
    return abs(x - y) <= mpmath.mpf(10) ** (-digits) * max(1, abs(x))


def _key(spec) -> str:
    return PCF(spec[0], spec[1]).key


@pytest.fixture
def euler_store():
    """The scaled variant first, then Euler's fraction itself, its negation and its tail."""
    with Store(":memory:") as store:
        ids = [_record(store, s) for s in (SCALED, EULER, NEGATED, TAIL)]
        yield store, ids


def test_claims_used_here_are_true():
    for spec in (EULER, SCALED, NEGATED, TAIL, APERY, GOLDEN, NEW_E):
        assert _evidence(*spec[:3])["verdict"] == "verified"
    assert _agree(_value(TAIL[2]), 1 / (Y - 2), 55)
    assert _agree(_value(SCALED[2]), 2 * Y, 55)


# --------------------------------------------------------------------------- grouping


def test_euler_variants_form_one_known_family(euler_store):
    store, ids = euler_store
    assert count_families(store) == 1
    (fam,) = list_families(store)
    assert fam.key == _key(EULER)
    assert fam.members == 4
    rep = fam.representative
    assert rep.key == _key(EULER) and rep.claim == EULER[2]
    assert fam.claim == EULER[2] and fam.constant == "e"
    assert fam.known and "Euler" in fam.source
    assert fam.digits == rep.digits >= 60
    assert _agree(mpmath.mpf(fam.value), Y, 35)
    assert get_family(store, fam.id) == get_family(store, f"F{fam.id}") == get_family(
        store, fam.key) == store.family(fam.key)
    with pytest.raises(StoreError):
        get_family(store, "F999")


def test_family_members_representative_first_then_by_id(euler_store):
    store, ids = euler_store
    fam = list_families(store)[0]
    members = family_members(store, fam.id)
    scaled_id, euler_id, negated_id, tail_id = ids
    assert [m.id for m in members] == [euler_id, scaled_id, negated_id, tail_id]
    assert [m.id for m in family_members(store, fam.id, limit=2)] == [euler_id, scaled_id]
    assert store.family_members(fam.id) == members


def test_refinding_a_member_does_not_count_it_twice(euler_store):
    store, ids = euler_store
    fam = list_families(store)[0]
    again = _record(store, SCALED)
    assert again == ids[0]
    assert store.get(again).times_found == 2
    assert get_family(store, fam.id).members == 4 == len(family_members(store, fam.id))


def test_member_maps_are_true(euler_store):
    store, _ = euler_store
    fam = list_families(store)[0]
    rep = fam.representative
    y_claim = _value(rep.claim)
    y_limit = PCF.from_dict(rep.formula).limit(200).value
    assert _agree(y_claim, Y, 55)
    for m in family_members(store, fam.id):
        mob = m.family_map["mobius"]
        assert m.family == fam.id and m.family_map["family"] == fam.key
        assert _agree(_value(m.claim), _apply(mob, y_claim), 55), (m, mob)
        x_limit = PCF.from_dict(m.formula).limit(200).value
        assert _agree(x_limit, _apply(mob, y_limit), 55), (m, mob)
    maps = {m.key: m.family_map for m in family_members(store, fam.id)}
    assert maps[_key(EULER)]["check"] == "identity"
    assert all(maps[_key(s)]["check"] == "exact" for s in (SCALED, NEGATED, TAIL))


def test_representative_takes_over_and_refuted_member_joins(euler_store):
    store, _ = euler_store
    fam = list_families(store)[0]
    # a shift of Euler's fraction with a false claim: refuted, but still in the family
    wrong = ("4n+10", "1", "e", "e")
    ev = verify(PCF("4n+10", 1), "e", 40)
    assert ev.verdict == "refuted"
    cid = store.record(_candidate(wrong), ev)
    rec = store.get(cid)
    assert rec.status == "refuted" and rec.digits is None
    after = get_family(store, fam.id)
    assert rec.family == fam.id and after.members == fam.members + 1
    assert after.representative.key == _key(EULER)
    assert after.digits == after.representative.digits == fam.digits


def test_refuted_first_member_stands_in_until_the_representative_comes():
    with Store(":memory:") as store:
        ev = verify(PCF("4n+10", 1), "e", 40)
        assert ev.verdict == "refuted"
        wrong = store.record(_candidate(("4n+10", "1", "e", "e")), ev)
        (fam,) = list_families(store)
        assert fam.key == _key(EULER)              # named by the canonical representative
        assert fam.representative.id == wrong and fam.digits is None
        euler = _record(store, EULER)
        fam = get_family(store, fam.id)
        assert fam.representative.id == euler and fam.members == 2
        assert fam.digits == store.get(euler).digits >= 60
        assert _agree(mpmath.mpf(fam.value), Y, 35)


# --------------------------------------------------------------------------- finding


def test_find_value_finds_the_family_from_images_of_its_limit(euler_store):
    store, _ = euler_store
    _record(store, APERY)
    inv_e_minus_2 = {r["name"]: r for r in load_pcf_rows()}["Euler e"]["value"]  # 1/(e-2)
    assert _agree(mpmath.mpf(inv_e_minus_2), 1 / (E - 2), 28)
    two_y = mpmath.nstr(2 * Y, 30)
    # e = (y+1)/(y-1); 1/(e-2) = (y-1)/(3-y); 2(e+1)/(e-1) = 2y
    for text, want in ((E_30, (1, 1, 1, -1)), (inv_e_minus_2, (1, -1, -1, 3)),
                       (two_y, (2, 0, 0, 1))):
        matches = find_value(store, text)
        assert matches, text
        best = matches[0]
        assert best.family.key == _key(EULER)
        assert best.mobius == want
        assert best.digits >= 20
        for m in matches:  # every reported relation is true
            y = _value(m.family.claim)
            assert _agree(mpmath.mpf(text), _apply(m.mobius, y), 25), (text, m.relation)
        assert best.to_dict()["mobius"] == list(want)
        assert "PCF(4n + 2, 1)" in best.relation


def test_find_value_does_not_match_an_unrelated_value(euler_store):
    store, _ = euler_store
    _record(store, APERY)
    assert find_value(store, PI_30) == []
    assert find_value(store, "2.718") == []  # too few digits to say anything
    with pytest.raises(ValueError):
        find_value(store, "e")


def test_find_value_respects_the_constant_filter(euler_store):
    store, _ = euler_store
    _record(store, APERY)
    assert find_value(store, E_30, constant="zeta3") == []
    six_over_zeta3 = mpmath.nstr(6 / mpmath.zeta(3), 30)
    (m,) = find_value(store, six_over_zeta3, constant="zeta(3)")
    assert m.family.key == _key(APERY) and m.mobius == (1, 0, 0, 1)


def test_find_formula(euler_store):
    store, ids = euler_store
    _record(store, APERY)
    assert [r.key for r in find_formula(store, "4n+2")] == [_key(EULER)]
    assert [r.key for r in find_formula(store, "4n + 6")] == [_key(TAIL)]
    assert [r.key for r in find_formula(store, "8n+4")] == [_key(SCALED)]
    assert [r.key for r in find_formula(store, "-n^6")] == [_key(APERY)]
    assert [r.key for r in find_formula(store, "zeta")] == [_key(APERY)]  # claim text
    assert find_formula(store, "5n+7") == []


# --------------------------------------------------------------------------- listing


@pytest.fixture
def mixed_store():
    with Store(":memory:") as store:
        _record(store, SCALED, when="2025-01-01T00:00:00.000+00:00")
        _record(store, EULER, when="2025-01-02T00:00:00.000+00:00")
        _record(store, TAIL, when="2025-01-03T00:00:00.000+00:00")
        _record(store, APERY, when="2025-03-01T00:00:00.000+00:00")
        _record(store, GOLDEN, when="2025-02-01T00:00:00.000+00:00")
        _record(store, NEW_E, when="2025-04-01T00:00:00.000+00:00")
        yield store


def test_list_families_sorting(mixed_store):
    store = mixed_store
    every = list_families(store, limit=None)
    assert len(every) == count_families(store) == 4
    by_digits = list_families(store, sort="digits")
    assert [f.digits for f in by_digits] == sorted((f.digits for f in every), reverse=True)
    by_members = list_families(store, sort="members")
    assert by_members[0].key == _key(EULER) and by_members[0].members == 3
    assert [f.members for f in by_members] == sorted((f.members for f in every), reverse=True)
    by_found = list_families(store, sort="found")
    assert [f.key for f in by_found] == [_key(NEW_E), _key(APERY), _key(GOLDEN), _key(EULER)]
    assert by_found[-1].first_found == "2025-01-01T00:00:00.000+00:00"  # its first member
    by_delta = list_families(store, sort="delta")
    deltas = [f.delta for f in by_delta]
    assert all(d is not None for d in deltas)
    assert deltas == sorted(deltas, reverse=True)
    # paging
    assert [f.id for f in list_families(store, sort="found", limit=2, offset=1)] == [
        f.id for f in by_found[1:3]]
    with pytest.raises(StoreError):
        list_families(store, sort="alphabetical")


def test_list_families_filters(mixed_store):
    store = mixed_store
    e_keys = {f.key for f in list_families(store, constant="e")}
    assert e_keys == {_key(EULER), _key(NEW_E)}
    assert [f.key for f in list_families(store, constant="zeta(3)")] == [_key(APERY)]
    new = list_families(store, new=True)
    assert [f.key for f in new] == [_key(NEW_E)]
    assert not new[0].known and new[0].source is None
    known = list_families(store, new=False)
    assert {f.key for f in known} == {_key(EULER), _key(APERY), _key(GOLDEN)}
    assert all(f.known for f in known)
    assert count_families(store, new=True) == 1 and count_families(store, new=False) == 3
    assert count_families(store, constant="e", new=True) == 1
    assert store.count_families(kind="pcf", status="verified") == 4
    assert list_families(store, min_digits=10**6) == []
    with pytest.raises(StoreError):
        list_families(store, status="maybe")


# --------------------------------------------------------------------------- display


def test_relation_sentence(euler_store):
    store, _ = euler_store
    store.add_relation(_key(SCALED), "derived-from", _key(EULER), map={"mobius": [2, 0, 0, 1]})
    src = store.get(_key(SCALED))
    (rel,) = store.relations(type="derived-from")
    text = relation_sentence(store, src, rel.type, rel.dst, rel.map)
    assert "PCF(8n + 4, 4) = 2*(e+1)/(e-1)" in text
    assert "PCF(4n + 2, 1) = (e+1)/(e-1)" in text
    assert "x = " in text
    missing = relation_sentence(store, src, "improves", "pcf:nowhere")
    assert "not in the store" in missing


def test_rich_displays_contain_the_claim(euler_store):
    store, _ = euler_store
    fam = list_families(store)[0]
    for rec in family_members(store, fam.id):
        html = rec._repr_html_()
        assert html.startswith("<table>") and rec.claim in html
        assert f"F{fam.id}" in html
        latex = rec._repr_latex_()
        assert latex.startswith("$") and latex.endswith("$") and len(latex) > 2
        assert expression_latex(rec.claim) in latex
    html = fam._repr_html_()
    assert fam.claim in html and "known" in html and "Euler" in html
    latex = fam._repr_latex_()
    assert latex.startswith("$") and expression_latex(fam.claim) in latex
    assert fam.claim in repr(fam) and "known" in repr(fam)
    d = fam.to_dict()
    assert d["claim"] == fam.claim and d["representative"]["key"] == fam.key
    assert d["known"] is True and d["members"] == 4
