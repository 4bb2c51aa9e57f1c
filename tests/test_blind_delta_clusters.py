"""Blind-δ clustering and labelling (discovery.blind_delta, its plot and its commands).

The dynamics rows are real computations (solvers.blind_delta) of small, hand-picked sets of
PCFs: the families found as clusters of the deg a <= 1, deg b <= 2, |coefficients| <= 5
subdomain (formulas for pi, e, ln 2, Gauss's and the lemniscate constant, quadratic
irrationals, and a family nobody has identified), so that every test stays fast; the slow test
scans a whole subdomain.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import mpmath
import numpy as np
import pytest

from discovery import blind_delta as bd
from discovery import blind_delta_labels as bl
from discovery.store import Store
from discovery.verification import verify
from solvers.continued_fractions import PCF

PNG = b"\x89PNG\r\n\x1a\n"

# Small clusters of formulas (each with its sign twin, PCF(-a, b) = -PCF(a, b)) like those
# HDBSCAN finds in the planes of the deg (1, 2), coeff 5 subdomain; the labels are given.
FAMILIES: dict[str, list[tuple[tuple[int, ...], tuple[int, ...]]]] = {
    "pi": [((1, 2), (0, 0, 1)), ((2, 4), (0, 0, 4)), ((5, 2), (4, 4, 1))],       # 4/pi anchor
    "e": [((1, 1), (0, 1)), ((4, 1), (0, -1))],                                    # Euler, RM
    "log2": [((2, 3), (0, 0, -2)), ((3, 3), (0, 0, -2)), ((4, 3), (0, -2, -2))],  # anchor
    "gauss, lemniscate": [((1, 4), (0, 1, -2)), ((3, 4), (0, -1, -2)),           # no anchor
                          ((5, 4), (0, -3, -2))],
    "open": [((-1, 4), (0, 4, 2)), ((-3, 4), (0, 2, 2)), ((2, 4), (2, 5, 2))],
    "algebraic": [((1,), (1,)), ((2,), (1,))],                                     # anchors
}


def _with_twins(pairs):
    out = []
    for a, b in pairs:
        out.append((a, b))
        out.append((tuple(-v for v in a), b))
    return out


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    from solvers.blind_delta import dynamics

    out = []
    for pairs in FAMILIES.values():
        out += [dynamics(a, b, depth=1000) for a, b in _with_twins(pairs)]
    return out


@pytest.fixture(scope="module")
def table_and_labels(rows):
    table = bd.table_from_rows(rows)
    labels = []
    for k, pairs in enumerate(FAMILIES.values()):
        labels += [k] * (2 * len(pairs))
    return table, np.array(labels)


@pytest.fixture(scope="module")
def labelled(table_and_labels):
    table, labels = table_and_labels
    store = Store(":memory:")
    reports = bl.label_clusters(store, table, labels, plane="delta,c", digits=60,
                                max_members=20)
    yield store, table, labels, reports
    store.close()


# -- anchors -------------------------------------------------------------------------------


def test_anchors_are_the_reference_table_with_a_label_each():
    """The anchors are the known formulas (tests/test_known_formulas.py verifies each one to
    50 digits); each names the constant it labels and the basis its cluster is checked in."""
    from discovery.known import known_formulas

    anchors = bd.anchors()
    assert [x.name for x in anchors] == [k.name for k in known_formulas()]
    for x in anchors:
        assert x.source and x.constant
        assert (x.constant == "algebraic") == (x.basis == ""), x.name


def test_a_dozen_anchors_lie_in_the_default_domain():
    inside = [x.name for x in bd.anchors()
              if len(x.pcf.a) <= 3 and len(x.pcf.b) <= 3
              and all(abs(c) <= 5 for c in (*x.pcf.a, *x.pcf.b))]
    assert len(inside) >= 12
    assert {"4/pi from arctan", "Euler's e", "golden ratio", "cot 1",
            "1/ln 2 from Euler's transformation"} <= set(inside)
    assert "Apery zeta(3)" not in inside


# -- planes and clustering -------------------------------------------------------------------


def test_parse_plane():
    for plane in bd.PLANES:
        assert bd.parse_plane(",".join(plane)) == plane
    for bad in ("delta", "delta,delta", "delta,nope", "a,b,c"):
        with pytest.raises(ValueError):
            bd.parse_plane(bad)


def test_cluster_separates_blobs_and_skips_undefined_rows():
    rng = np.random.default_rng(0)
    blobs = [rng.normal(centre, 0.005, (n, 2)) for centre, n in
             [((-0.2, 2.0), 12), ((-0.7, 1.0), 30), ((0.9, 0.4), 8)]]
    pts = np.vstack([*blobs, [[5.0, -3.0]]])          # and one outlier
    table = {"delta": np.append(pts[:, 0], np.nan), "c": np.append(pts[:, 1], 1.0)}
    labels = bd.cluster(table, "delta,c")
    assert labels[-1] == -2                             # undefined delta: not clustered
    assert labels[-2] == -1                             # the outlier: noise
    assert len(set(labels[:12])) == 1 and len(set(labels[12:42])) == 1
    assert len(set(labels[42:50])) == 1
    assert len({labels[0], labels[12], labels[42]}) == 3
    assert labels[12] == 0                              # numbered by decreasing size


def test_cluster_keeps_sign_twins_together(table_and_labels):
    table, truth = table_and_labels
    for plane in bd.PLANES:
        labels = bd.cluster(table, plane, min_cluster_size=4, min_samples=2)
        # PCF(a, b) and PCF(-a, b) have identical dynamics: always the same label
        for i in range(0, len(labels), 2):
            assert labels[i] == labels[i + 1], plane
        assert (labels >= 0).any(), plane


def test_rational_rows_are_left_out():
    from solvers.blind_delta import dynamics

    store = Store(":memory:")
    store.add_dynamics([dynamics((1, 2), (0, 0, 1), depth=400),     # 4/pi
                        dynamics((2, -2), (0, -1, 3), depth=400),   # converges to 1
                        dynamics((1, 1), (0, 1), depth=400)])       # 1/(e - 2)
    table = bd.load(store)
    assert table["rational"] == 1
    assert sorted(table["a"]) == [(1, 1), (1, 2)]
    assert len(bd.load(store, drop_rational=False)["a"]) == 3
    store.close()


# -- labelling -------------------------------------------------------------------------------


def test_every_anchor_lies_in_a_cluster_labelled_with_its_constant(labelled):
    store, table, labels, reports = labelled
    by_id = {r.id: r for r in reports}
    found = bd.anchor_rows(table)
    assert {x.name for x in found.values()} >= {"4/pi from arctan", "Euler's e",
                                                "golden ratio", "silver ratio"}
    for i, x in found.items():
        rep = by_id[int(labels[i])]
        assert x.constant in rep.constants, (x.name, rep.label)
        assert rep.labelled_by == "anchor"


def test_labels(labelled):
    store, table, labels, reports = labelled
    got = {r.id: (r.label, r.labelled_by) for r in reports}
    assert got[0] == ("pi", "anchor")
    assert got[1] == ("e", "anchor")
    assert got[2] == ("log2", "anchor")
    assert got[3][1] == "identified" and set(got[3][0].split(", ")) == {"gauss", "lemniscate"}
    assert got[4] == (None, None)                       # an open question
    assert got[5] == ("algebraic", "anchor")


def test_labelled_members_are_verified_stored_and_listed(labelled):
    store, table, labels, reports = labelled
    stored = [r for r in store.query(kind="pcf")]
    assert stored
    # every stored pair re-verifies independently at 50 digits: zero mismatches
    mismatches = [r.key for r in stored
                  if verify(PCF.from_dict(r.formula), r.claim, 50).verdict != "verified"]
    assert mismatches == []
    for constant, n in (("pi", 3), ("e", 2), ("log2", 3), ("gauss", 1), ("lemniscate", 2)):
        records = store.query(constant=constant, status="verified")
        assert len(records) >= n, (constant, [r.claim for r in records])
        assert store.families(constant=constant), constant
    by_id = {r.id: r for r in reports}
    assert by_id[0].verified == 3 and by_id[0].stored == 3
    # members relate to the anchor that labelled their cluster
    pi_anchor = PCF("2n+1", "n^2").key
    sources = {e.src for e in store.relations(type="labelled-by", dst=pi_anchor)}
    assert sources == {PCF("4n+2", "4n^2").key, PCF("2n+5", "n^2+4n+4").key}
    # the anchors carry their literature source
    ev = store.get(pi_anchor).evidence[-1]
    assert ev["search"]["anchor"] is True and "arctan" in ev["search"]["source"]


def test_open_and_trivial_clusters_are_not_stored(labelled):
    store, table, labels, reports = labelled
    open_ = next(r for r in reports if r.open)
    assert open_.stored == 0 and open_.skipped
    assert len(open_.representatives) == 3
    for r in open_.representatives:
        assert PCF(tuple(r["a"]), tuple(r["b"])).key not in store
        assert re.fullmatch(r"-?\d\.\d{15,20}", r["value"])
        assert r["identified"]["found"] is False if "identified" in r else True
    algebraic = next(r for r in reports if r.label == "algebraic")
    assert algebraic.stored == 0
    assert PCF(1, 1).key in store                       # the anchors themselves are recorded
    stored_keys = {r.key for r in store.query()}
    open_keys = {PCF(a, b).key for a, b in _with_twins(FAMILIES["open"])}
    assert not stored_keys & open_keys


def test_dry_run_records_nothing(table_and_labels):
    table, labels = table_and_labels
    store = Store(":memory:")
    keep = labels == 0
    sub = {k: (v[keep] if isinstance(v, np.ndarray) else
               [x for x, k_ in zip(v, keep, strict=True) if k_] if isinstance(v, list) else v)
           for k, v in table.items()}
    reports = bl.label_clusters(store, sub, labels[keep], digits=50, record=False)
    assert reports[0].verified == 3 and len(store) == 0
    store.close()


def test_summary_shape(labelled):
    store, table, labels, reports = labelled
    out = bl.summary(reports, labels, "delta,c", table)
    json.dumps(out)
    assert out["plane"] == ["delta", "c"]
    assert out["noise"] == 0 and out["open"] == 1
    assert out["stored"] == sum(c["stored"] for c in out["clusters"])
    for c in out["clusters"]:
        assert {"id", "size", "label", "anchors", "verified", "stored", "open",
                "representatives"} <= set(c)


# -- the plot --------------------------------------------------------------------------------


def test_plot_writes_a_png(labelled, tmp_path):
    from discovery.plots_blind_delta import plot_clusters

    store, table, labels, reports = labelled
    labels = labels.copy()
    labels[-1] = -1                                     # some noise
    path = plot_clusters(table, labels, {r.id: r.label for r in reports}, "delta,c",
                         tmp_path / "sub" / "clusters.png")
    assert Path(path).read_bytes()[:8] == PNG


# -- the commands ----------------------------------------------------------------------------


def _app():
    import typer

    from discovery.commands._common import OneLineErrorsGroup
    from discovery.commands.blind_delta import blind_delta_app, search_blind_delta_command

    app = typer.Typer(cls=OneLineErrorsGroup)
    search = typer.Typer()
    search.command("blind-delta")(search_blind_delta_command)
    app.add_typer(search, name="search")
    app.add_typer(blind_delta_app, name="blind-delta")
    return app


def test_clusters_command_json(rows, tmp_path):
    from typer.testing import CliRunner

    db = tmp_path / "c.db"
    store = Store(db)
    store.add_dynamics(rows)
    store.close()
    png = tmp_path / "clusters.png"
    res = CliRunner().invoke(_app(), ["blind-delta", "clusters", "--db", str(db), "--json",
                                      "--digits", "50", "--max-members", "5", "--workers", "1",
                                      "--min-cluster-size", "4", "--min-samples", "2",
                                      "--png", str(png)])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["plane"] == ["delta", "c"] and out["png"] == str(png)
    assert png.read_bytes()[:8] == PNG
    assert isinstance(out["noise"], int) and isinstance(out["stored"], int)
    assert out["stored"] > 0
    labels = {c["label"] for c in out["clusters"]}
    assert "pi" in labels
    for c in out["clusters"]:
        assert {"id", "size", "label", "anchors", "verified", "stored", "open",
                "representatives"} <= set(c)
        assert c["open"] == (c["label"] is None)
        if c["open"]:
            assert c["stored"] == 0


def test_clusters_command_errors(tmp_path):
    from typer.testing import CliRunner

    app = _app()
    res = CliRunner().invoke(app, ["blind-delta", "clusters", "--db", str(tmp_path / "no.db"),
                                   "--json"])
    assert res.exit_code == 2
    assert "error" in json.loads(res.stdout)
    db = tmp_path / "e.db"
    Store(db).close()
    res = CliRunner().invoke(app, ["blind-delta", "clusters", "--db", str(db), "--plane",
                                   "delta,nope"])
    assert res.exit_code == 2 and "unknown metric" in res.output


def test_search_blind_delta_command(tmp_path):
    from typer.testing import CliRunner

    db = tmp_path / "s.db"
    args = ["search", "blind-delta", "--a-degree", "2", "--b-degree", "2", "--coeff", "1",
            "--depth", "200", "--chunk", "300", "--executor", "serial", "--db", str(db)]
    res = CliRunner().invoke(_app(), [*args, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["rows"] == 26 * 26 == sum(out["counts"].values())
    assert out["complete"] is True and out["counts"]["converges"] > 0
    assert out["pcfs_per_second"] > 0
    res = CliRunner().invoke(_app(), args)             # resumes: nothing left to compute
    assert res.exit_code == 0, res.output
    assert "blind-delta clusters" in res.stdout
    assert "converges" in res.stdout


@pytest.mark.slow
def test_a_real_subdomain_end_to_end(tmp_path):
    """deg a <= 1, deg b <= 2, coefficients in [-2, 2]: 2,976 PCFs, scanned, clustered (the
    command's path: HDBSCAN, then anchors left as noise seed their own clusters), labelled."""
    from discovery.commands.blind_delta import clusters_result
    from solvers.blind_delta import domain, dynamics_batch

    store = Store(tmp_path / "sub.db")
    store.add_dynamics(dynamics_batch(domain(1, 2, 2), depth=2000, a_degree=1))
    out = clusters_result(store, "delta,c", digits=50, max_members=30)
    table = bd.load(store)
    inside = {x.name: x.constant for x in bd.anchor_rows(table).values()}
    assert {"4/pi from arctan", "Euler's e", "golden ratio", "cot 1"} <= set(inside)
    placed = {a["name"]: c for c in out["clusters"] for a in c["anchors"]}
    assert set(placed) == set(inside)  # every anchor of the domain is in a cluster ...
    for name, c in placed.items():      # ... labelled with its constant
        assert inside[name] in c["constants"], (name, c["label"])
        assert c["labelled_by"] == "anchor"
    stored = store.query(kind="pcf")
    assert stored
    assert all(verify(PCF.from_dict(r.formula), r.claim, 50).verdict == "verified"
               for r in stored)
    for c in out["clusters"]:
        if c["open"]:
            assert c["stored"] == 0
    store.close()


@pytest.mark.parametrize(("a", "b", "claim"), [
    ("4n+3", "-2n^2-n", lambda G: 2 * G / (2 * G - 1)),        # Gauss's constant G
    ("4n+1", "-2n^2+n", lambda G: 2 / (mpmath.pi * G)),        # the lemniscate constant pi G
])
def test_the_readme_formulas_for_gauss_and_lemniscate(a, b, claim):
    """The README quotes these two formulas the subdomain scan finds; here their convergents
    at depth 300 are compared with G = 1/agm(1, sqrt 2) computed by mpmath (not the project's
    constant catalogue)."""
    value = PCF(a, b).limit(300, dps=120).value
    with mpmath.workdps(120):
        G = 1 / mpmath.agm(1, mpmath.sqrt(2))
        assert abs(mpmath.mpf(value) - claim(G)) < mpmath.mpf(10) ** -100
