"""A mini demo campaign through the CLI, then every conjecture, map and family re-checked.

Every displayed pair "formula = own claim" is verified again independently; every stored map
(member -> representative, relation src -> dst) is recomputed from the two formulas' limits.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import mpmath
import pytest

from discovery.catalogue import count_families, family_members, list_families
from discovery.store import Store
from discovery.verifiers import verify_candidate
from solvers.cmf import CMFTrajectory
from solvers.continued_fractions import PCF
from solvers.pcf_families import normal_form
from solvers.signed_cf import SignedCFPattern

MINI = """\
[campaign]
name = "mini"
hours = 0.02
executor = "serial"
verify = true
verify_digits = 60

[[engine]]
name = "esma"
[engine.config]
constant = "e"
degree = 1
coeff = 2
signs = 2
depth = 60

[[engine]]
name = "cmf"
[engine.config]
cmf = "zeta3"
max_norm = 1
starts = [0, 1]
depth = 200
"""

APERY_KEY = normal_form(PCF("34n^3+51n^2+27n+5", "-n^6")).pcf.key


def _cli() -> list[str]:
    script = Path(sys.executable).parent / "discovery"
    if script.exists():
        return [str(script)]
    found = shutil.which("discovery")
    assert found, "the discovery console script is not installed"
    return [found]


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    d = tmp_path_factory.mktemp("mini")
    (d / "mini.toml").write_text(MINI)
    t0 = time.perf_counter()
    proc = subprocess.run([*_cli(), "run", str(d / "mini.toml"), "--db", str(d / "x.db"),
                           "--json"], cwd=d, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    with Store(d / "x.db", readonly=True) as store:
        yield result, store, seconds


@pytest.fixture(autouse=True)
def _precision():
    with mpmath.workdps(60):
        yield


def _formula(rec):
    if rec.kind == "pcf":
        return PCF.from_dict(rec.formula)
    if rec.kind == "esma":
        return SignedCFPattern.from_dict(rec.formula)
    if rec.kind == "cmf":
        return CMFTrajectory.from_dict(rec.formula)
    raise AssertionError(f"no limit for a {rec.kind}")


_LIMITS: dict[str, object] = {}


def _limit(rec, digits: int = 30):
    """The record's limit to at least ``digits`` digits (depth doubled until then)."""
    if rec.key not in _LIMITS:
        f, depth = _formula(rec), 64
        while True:
            lim = f.limit(depth, dps=digits + 30)
            if lim.digits >= digits + 5:
                break
            assert depth < 20_000, f"{rec!r} does not reach {digits} digits"
            depth *= 2
        _LIMITS[rec.key] = mpmath.mpf(lim.value)
    return _LIMITS[rec.key]


def _apply(m, y):
    A, B, C, D = m
    return (A * y + B) / (C * y + D)


def _agree(x, y, digits: int) -> bool:
    return abs(x - y) <= mpmath.mpf(10) ** (-digits) * max(1, abs(x))


def test_the_campaign_finished_quickly(campaign):
    result, store, seconds = campaign
    assert result["status"] == "finished"
    assert seconds < 120
    assert {r["engine"] for r in result["runs"]} == {"esma", "cmf"}
    assert all(r["refuted"] == 0 and r["failed"] == 0 for r in result["runs"])
    assert result["families"]["total"] == len(
        {r.family for r in store.query()})  # every recorded conjecture is in one


def test_every_conjecture_verifies_again(campaign):
    _, store, _ = campaign
    records = store.query()
    assert len(records) > 50
    verdicts = {}
    for rec in records:
        ev = verify_candidate(rec.to_candidate(), digits=30)
        verdicts[rec.key] = (rec.kind, ev.verdict)
        assert ev.verdict != "refuted", (rec, ev.note)
    inconclusive = [k for k, (kind, v) in verdicts.items() if v == "inconclusive"]
    # only CMF walks may be too slow for 30 digits at the default depth limit
    assert all(verdicts[k][0] == "cmf" for k in inconclusive), inconclusive
    assert sum(v == "verified" for _, v in verdicts.values()) >= len(records) - len(inconclusive)


def test_every_family_map_is_true(campaign):
    _, store, _ = campaign
    fams = list_families(store, limit=None)
    assert fams
    checked = 0
    for fam in fams:
        rep = fam.representative
        y = _limit(rep)
        for m in family_members(store, fam.id):
            mob = m.family_map["mobius"]
            assert _agree(_limit(m), _apply(mob, y), 20), (m, mob, rep)
            checked += 1
    assert checked == len(store)


def test_every_relation_map_is_true(campaign):
    _, store, _ = campaign
    with_map = [r for r in store.relations() if r.map is not None]
    assert with_map
    for rel in with_map:
        assert rel.src in store
        if rel.dst not in store:
            continue
        x, y = _limit(store.get(rel.src)), _limit(store.get(rel.dst))
        assert _agree(x, _apply(rel.map["mobius"], y), 20), (rel, rel.map)
    # every contracts-to edge ends at a row and carries its map
    for rel in store.relations(type="contracts-to"):
        assert rel.dst in store and rel.map is not None


def test_fewer_families_than_formulas(campaign):
    _, store, _ = campaign
    pcfs = {r.key for r in store.query(constant="e", kind="pcf")}
    pcfs |= {PCF.from_dict(r.formula["pcf"]).key for r in store.query(constant="e", kind="esma")
             if isinstance(r.formula.get("pcf"), dict)}
    n_fams = count_families(store, constant="e")
    assert 1 <= n_fams <= len(pcfs)
    assert n_fams < len(store.query(constant="e"))  # families really group formulas


def test_representatives_open_by_id_and_key(campaign):
    _, store, _ = campaign
    for fam in list_families(store, limit=None):
        rep = fam.representative
        assert store.get(rep.id) == rep
        assert store.get(rep.key) == rep
        assert store.get(str(rep.id)) == rep
        assert rep.key == fam.key  # the canonical representatives were recorded


def test_apery_is_found_and_known_and_something_is_new(campaign):
    _, store, _ = campaign
    apery = store.family(APERY_KEY)
    assert apery.known and "Apery" in apery.source
    rep = apery.representative
    assert PCF.from_dict(rep.formula) == PCF("34n^3+51n^2+27n+5", "-n^6")
    assert _agree(_limit(rep), 6 / mpmath.zeta(3), 50)
    new = list_families(store, new=True, limit=None)
    assert new and all(f.source is None for f in new)
    euler = store.family(PCF("4n+2", 1).key)
    assert euler.known and "Euler" in euler.source
