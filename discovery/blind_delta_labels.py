"""Blind-δ labelling: name the clusters of a scanned domain, verify and record their members.

The second half of the method of Shalyt et al. (NeurIPS 2024) after
:func:`discovery.blind_delta.cluster`: a cluster holding a formula from the literature (an
*anchor*, :func:`discovery.blind_delta.anchors`) is labelled by the anchor's constant; a cluster
without one is labelled by identifying its representatives (the members with the most digits)
against the constants catalogue, and is an *open question* if none is identified. Members of
a labelled cluster are identified against the label (PSLQ: a Möbius relation), verified
independently (:func:`discovery.verification.verify`, ball arithmetic) and recorded in the store as
conjectures related (``labelled-by``) to the anchor or representative that labelled their
cluster. Open questions are reported, never stored. :func:`summary` is the JSON of
``discovery blind-delta clusters``.

Labels ``"algebraic"`` and ``"rational"`` are *trivial* (:data:`TRIVIAL_LABELS`): their members
are not stored unless asked (``store_trivial``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from discovery.blind_delta import (
    _NOISE,
    _UNDEFINED,
    DEFAULT_PLANE,
    Anchor,
    _strip,
    anchor_rows,
    anchors,
    parse_plane,
    plane_points,
)

if TYPE_CHECKING:
    import numpy as np

    from discovery.store import Store
    from solvers.continued_fractions import PCF

__all__ = ["TRIVIAL_LABELS", "ClusterReport", "label_clusters", "summary"]

#: Labels whose clusters hold no formula worth storing by default.
TRIVIAL_LABELS = ("algebraic", "rational")

#: The constant a basis element is a formula *for*, where the basis element is not itself a
#: catalogue name.
_BASIS_CONSTANT = {"e^2": "e", "pi^2": "pi"}



@dataclass
class ClusterReport:
    """What :func:`label_clusters` found about one cluster.

    Attributes
    ----------
    id : int
        The cluster's label in :func:`cluster`'s output.
    size : int
        Its rows.
    label : str or None
        The constants it is labelled with, joined by ``", "`` (``"pi"``, ``"algebraic"``);
        ``None`` for an open question.
    constants : tuple of str
        The same, one per constant.
    labelled_by : str or None
        ``"anchor"`` or ``"identified"`` (its representatives were identified).
    anchors : list of dict
        The anchors among its members: name, PCF, claim, constant, key.
    representatives : list of dict
        Its members with the most digits: PCF, ``a``, ``b``, value to 20 digits, digits,
        and what identifying them gave.
    checked, verified : int
        Members identified against the label, and verified to the requested digits.
    stored : int
        Verified members that are conjectures of the store (recorded now or before).
    formulas : list of dict
        The verified members: key, PCF, claim, constant, digits.
    centre : tuple of float
        The median of its points in the plane.
    skipped : str
        Why members were not checked, if they were not.
    """

    id: int
    size: int
    label: str | None = None
    constants: tuple[str, ...] = ()
    labelled_by: str | None = None
    anchors: list[dict] = field(default_factory=list)
    representatives: list[dict] = field(default_factory=list)
    checked: int = 0
    verified: int = 0
    stored: int = 0
    formulas: list[dict] = field(default_factory=list)
    centre: tuple[float, float] = (math.nan, math.nan)
    skipped: str = ""

    @property
    def open(self) -> bool:
        """True when nothing labels the cluster: an open question, not stored."""
        return self.label is None

    def to_dict(self) -> dict:
        """JSON-able form (the ``clusters`` entries of ``discovery blind-delta clusters``)."""
        return {
            "id": self.id,
            "size": self.size,
            "label": self.label,
            "constants": list(self.constants),
            "labelled_by": self.labelled_by,
            "anchors": self.anchors,
            "checked": self.checked,
            "verified": self.verified,
            "stored": self.stored,
            "open": self.open,
            "centre": [None if not math.isfinite(v) else round(v, 6) for v in self.centre],
            "representatives": self.representatives,
            "formulas": self.formulas,
            "skipped": self.skipped,
        }


def _pcf(a: Sequence[int], b: Sequence[int]) -> PCF:
    from solvers.continued_fractions import PCF

    return PCF(_strip(a), _strip(b))


def _value20(text: str | None) -> str | None:
    if not text:
        return None
    import mpmath

    ctx = mpmath.MPContext()
    ctx.dps = 45
    try:
        return ctx.nstr(ctx.mpf(text), 20)
    except (ValueError, TypeError):
        return text


def _constant_of(label: str) -> str:
    """The catalogue constant a basis element or identification is about (a constant
    expression that is no catalogue name, without its spaces: ``"tan(1)"``).

    Examples
    --------
    >>> _constant_of("e^2"), _constant_of("ln(2)"), _constant_of("besseli(1, 2)/besseli(0, 2)")
    ('e', 'log2', 'besseli(1,2)/besseli(0,2)')
    """
    label = "".join(label.split())
    if label in _BASIS_CONSTANT:
        return _BASIS_CONSTANT[label]
    from solvers.constants import canonical_constant

    return canonical_constant(label)


def _already_verified(store: Store, key: str, digits: int) -> Any:
    from solvers.errors import StoreError

    try:
        rec = store.get(key)
    except StoreError:
        return None
    if rec.status in ("verified", "proven") and (rec.digits or 0) >= digits:
        return rec
    return None


def _dynamics_of(table: Mapping[str, Any], i: int, plane: tuple[str, str]) -> dict:
    out: dict[str, Any] = {}
    for name in ("delta", "c", "d", "beta", "gamma", "eta", "rate", *plane):
        col = table.get(name)
        if col is not None:
            v = float(col[i])
            out[name] = round(v, 6) if math.isfinite(v) else None
    return out


def label_clusters(
    store: Store,
    table: Mapping[str, Any],
    labels: np.ndarray,
    *,
    plane: str | Sequence[str] = DEFAULT_PLANE,
    anchor_list: Sequence[Anchor] | None = None,
    max_members: int = 200,
    digits: int = 100,
    identify_digits: int = 60,
    representatives: int = 3,
    basis: Sequence[str] | None = None,
    identify_open: int | None = None,
    workers: int = 1,
    store_trivial: bool = False,
    record: bool = True,
    max_depth: int = 20_000,
    progress: Callable[..., Any] | None = None,
) -> list[ClusterReport]:
    """Label every cluster, check and record the members of the labelled ones.

    1. The anchors among the rows are verified (``digits``) and recorded, with their source.
    2. A cluster holding anchors is labelled by their constants.
    3. A cluster without an anchor: its first representative (the member with the most
       digits, ``a`` with a positive leading coefficient preferred) is identified against the
       catalogue from its 40-digit limit (a Möbius relation in one constant, or an algebraic
       number of degree <= 2); if that succeeds the other representatives are identified too,
       and the constants found label the cluster. Otherwise the cluster is an open question.
    4. The members of a labelled cluster (up to ``max_members``, most digits first) are
       identified against the label's constants (PSLQ on ``identify_digits`` digits of their
       limit), verified to ``digits`` digits, and recorded as conjectures related
       (``labelled-by``) to the anchor, or to the first verified member of an identified
       cluster. Members already verified in the store to ``digits`` digits are not redone.

    Parameters
    ----------
    store : Store
        Where the anchors and the verified members are recorded (writable unless
        ``record=False``).
    table : mapping
        The rows that were clustered (:func:`load`).
    labels : numpy.ndarray
        :func:`cluster`'s labels for those rows.
    plane : str or pair of str
        The plane the labels come from (kept in the evidence).
    anchor_list : sequence of Anchor, optional
        Default: :func:`anchors`.
    max_members : int
        Members checked per cluster, those with the most digits first. Only members whose
        ``a`` has a positive leading coefficient are checked: ``PCF(-a, b)`` converges to
        minus the limit of ``PCF(a, b)`` with the same dynamics (the same formula).
    digits : int
        Digits every recorded formula is verified to (at least 50).
    identify_digits : int
        Digits of a member's limit used to identify it.
    representatives : int
        Representatives reported per cluster (distinct values).
    basis : sequence of str, optional
        The catalogue for clusters without an anchor (default: the identify catalogue,
        :func:`discovery.identification.default_basis`).
    identify_open : int, optional
        Identify the representatives of at most this many clusters without an anchor (the
        largest first); default: all of them.
    workers : int
        Processes identifying representatives (1: in this process). The processes are
        spawned, so a script calling this with ``workers > 1`` needs the usual
        ``if __name__ == "__main__":`` guard.
    store_trivial : bool
        Also check and store the members of ``algebraic`` / ``rational`` clusters.
    record : bool
        ``False``: a dry run, nothing is written.
    max_depth : int
        Deepest convergent a verification may compute.
    progress : callable, optional
        ``progress(stage, done=..., total=..., detail=...)``.

    Returns
    -------
    list of ClusterReport
        One per cluster, in the order of the cluster ids.

    Examples
    --------
    >>> from discovery.store import Store
    >>> import numpy as np
    >>> from solvers.blind_delta import dynamics
    >>> rows = [dynamics(a, b, depth=400) for a, b in [((1, 2), (0, 0, 1)),
    ...         ((2, 4), (0, 0, 4)), ((5, 2), (4, 4, 1)), ((1, 1), (0, 1)), ((4, 1), (0, -1))]]
    >>> from discovery.blind_delta import table_from_rows
    >>> table = table_from_rows(rows)
    >>> labels = np.array([0, 0, 0, 1, 1])   # pi formulas; e formulas (Euler; Ramanujan Machine)
    >>> store = Store(":memory:")
    >>> reports = label_clusters(store, table, labels, digits=50)
    >>> [(r.label, r.labelled_by, r.verified) for r in reports]
    [('pi', 'anchor', 3), ('e', 'anchor', 2)]
    >>> sorted(r.claim for r in store.query(constant="pi"))
    ['(4 - pi)/(-3 + pi)', '4/pi', '8/pi']
    >>> store.close()
    """
    import numpy as np

    plane_t = parse_plane(plane)
    labels = np.asarray(labels)
    if len(labels) != len(table["a"]):
        raise ValueError(f"{len(labels)} labels for {len(table['a'])} rows")
    if digits < 10:
        raise ValueError(f"digits must be >= 10, got {digits}")
    anchor_list = anchors() if anchor_list is None else tuple(anchor_list)
    at = anchor_rows(table, anchor_list)
    digits_col = np.asarray(table.get("digits", np.full(len(labels), np.nan)), dtype=np.float64)
    order_key = np.where(np.isfinite(digits_col), digits_col, -1.0)
    xy, _ = plane_points(table, plane_t)
    ids = sorted(int(v) for v in np.unique(labels) if v >= 0)

    # 1. The anchors of the table, verified and recorded first (they are what others relate to).
    anchor_verdicts: dict[str, str] = {}
    for n_done, (i, x) in enumerate(sorted(at.items())):
        if progress is not None:
            progress("verifying the anchors", done=n_done, total=len(at), detail=x.name)
        anchor_verdicts[x.key] = _record_anchor(store, x, int(labels[i]), plane_t, digits,
                                                record, max_depth)

    # 2. One report per cluster: members (most digits first), anchors, representatives.
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], [ids[0] if ids else 0, *[c + 1 for c in ids]])
    reports: list[ClusterReport] = []
    members_of: dict[int, np.ndarray] = {}
    bases_of: dict[int, dict[str, tuple[str, str | None]]] = {}
    for k, cid in enumerate(ids):
        members = order[bounds[k]:bounds[k + 1]]
        members = members[np.argsort(-order_key[members], kind="stable")]
        members_of[cid] = members
        rep = ClusterReport(id=cid, size=len(members),
                            centre=tuple(float(v) for v in np.median(xy[members], axis=0)))
        inside = [at[int(i)] for i in members if int(i) in at]
        rep.anchors = [{"name": x.name, "pcf": repr(x.pcf), "claim": x.claim,
                        "constant": x.constant, "key": x.key,
                        "verdict": anchor_verdicts.get(x.key)} for x in inside]
        rep.representatives = [_representative(table, i) for i in
                               _distinct(table, members, max(representatives, 1))]
        bases: dict[str, tuple[str, str | None]] = {}  # basis element -> (constant, anchor)
        for x in inside:
            if x.constant == "algebraic":
                bases.setdefault("", ("algebraic", x.key))
            else:
                bases.setdefault(x.basis or x.constant, (x.constant, x.key))
        if bases:
            rep.labelled_by = "anchor"
        bases_of[cid] = bases
        reports.append(rep)

    # 3. Clusters without an anchor: identify their representatives against the catalogue.
    unanchored = sorted((r for r in reports if not bases_of[r.id]), key=lambda r: -r.size)
    if identify_open is not None:
        for r in unanchored[max(identify_open, 0):]:
            r.skipped = "not identified (identify_open budget)"
        unanchored = unanchored[:max(identify_open, 0)]
    first = _identify_many([r.representatives[0]["value40"] if r.representatives else None
                            for r in unanchored], basis, workers, progress, "representatives")
    hits = [r for r, got in zip(unanchored, first, strict=True) if got.get("found")]
    rest = [(r, rr) for r in hits for rr in r.representatives[1:]]
    more = _identify_many([rr["value40"] for _, rr in rest], basis, workers, progress,
                          "more representatives of identified clusters")
    for r, got in zip(unanchored, first, strict=True):
        if r.representatives:
            r.representatives[0]["identified"] = got
    for (_r, rr), got in zip(rest, more, strict=True):
        rr["identified"] = got
    for r in hits:
        for rr in r.representatives:
            got = rr.get("identified") or {}
            if not got.get("found"):
                continue
            if got["kind"] in TRIVIAL_LABELS:
                bases_of[r.id].setdefault("", (got["kind"], None))
            else:
                lab = got["basis"]
                bases_of[r.id].setdefault(lab, (_constant_of(lab), None))
        r.labelled_by = "identified"

    # 4. Members of the labelled clusters: identify against the label, verify, record.
    for n_done, rep in enumerate(reports):
        bases = bases_of[rep.id]
        constants = tuple(sorted(set(c for c, _ in bases.values())))
        rep.constants = constants
        rep.label = ", ".join(constants) if constants else None
        for rr in rep.representatives:
            rr.pop("value40", None)
        if rep.open:
            rep.skipped = rep.skipped or "no anchor, and no representative identified"
            continue
        if all(c in TRIVIAL_LABELS for c in constants) and not store_trivial:
            rep.skipped = "trivial label: members not stored (store_trivial=True checks them)"
            continue
        if progress is not None:
            progress("checking the members of labelled clusters", done=n_done,
                     total=len(reports), detail=f"cluster {rep.id} ({rep.label})")
        members = members_of[rep.id]
        canonical = np.array([i for i in members if _lead(table["a"][int(i)]) > 0],
                             dtype=np.int64)
        _check_members(store, table, rep, canonical[:max(max_members, 0)], bases, plane_t,
                       digits, identify_digits, record, max_depth, anchor_verdicts)
    return reports


def _record_anchor(store: Store, x: Anchor, cid: int, plane: tuple[str, str], digits: int,
                   record: bool, max_depth: int) -> str:
    """Verify an anchor (unless the store has it verified already) and record it."""
    from discovery.verification import verify
    from search.base import Candidate

    if _already_verified(store, x.key, digits) is not None:
        return "verified"
    ev = verify(x.pcf, x.claim, digits, max_depth=max_depth, identify_on_refutation=False)
    if record and ev.verdict == "verified":
        cand = Candidate(
            kind="pcf", key=x.key, formula=x.pcf.to_dict(), claim=ev.claim,
            constant=None if x.constant in TRIVIAL_LABELS else _constant_of(x.constant),
            evidence={"engine": "blind-delta", "anchor": True, "name": x.name,
                      "source": x.source, "cluster": cid, "plane": list(plane)},
        )
        store.record(cand, ev, engine="blind-delta")
    return ev.verdict


def _distinct(table: Mapping[str, Any], members: np.ndarray, k: int) -> list[int]:
    """The first ``k`` members (in the given order) with distinct values up to sign,
    preferring the members whose ``a`` has a positive leading coefficient."""
    out: list[int] = []
    seen: set[str] = set()
    for i in sorted((int(i) for i in members),
                    key=lambda i: _lead(table["a"][i]) < 0):  # stable: keeps the order
        if len(out) >= k:
            break
        v = (table["limit"][i] or "0").lstrip("-")[:16]
        if v in seen:
            continue
        seen.add(v)
        out.append(i)
    return out


def _lead(a: Sequence[int]) -> int:
    return next((int(v) for v in reversed(tuple(a)) if v), 0)


def _representative(table: Mapping[str, Any], i: int) -> dict:
    a, b = _strip(table["a"][i]), _strip(table["b"][i])
    d = float(table["digits"][i]) if "digits" in table else math.nan
    return {"pcf": repr(_pcf(a, b)), "a": list(a), "b": list(b),
            "value": _value20(table["limit"][i]),
            "digits": round(d, 1) if math.isfinite(d) else None,
            "value40": table["limit"][i]}


def _identify_text(job: tuple[str | None, tuple[str, ...] | None]) -> dict:
    """Identify a limit given as decimal text (one Möbius relation in one basis constant at a
    time, or an algebraic number of degree <= 2); JSON-able."""
    from discovery.identification import identify
    from solvers.errors import DiscoveryError

    text, basis = job
    if not text:
        return {"found": False, "outcome": "no value"}
    try:
        r = identify(text, basis=basis, multi_basis=(), max_degree=2)
    except (DiscoveryError, ValueError, ArithmeticError) as exc:
        return {"found": False, "outcome": f"error: {exc}"}
    if r.found:
        return {"found": True, "relation": r.relation, "kind": r.kind,
                "basis": r.constant or "", "digits": r.digits_available}
    return {"found": False, "outcome": r.outcome}


def _identify_many(texts: Sequence[str | None], basis: Sequence[str] | None, workers: int,
                   progress: Callable[..., Any] | None, stage: str) -> list[dict]:
    """:func:`_identify_text` of many limits, in ``workers`` processes."""
    jobs = [(t, None if basis is None else tuple(basis)) for t in texts]
    if not jobs:
        return []
    if progress is not None:
        progress(f"identifying {stage}", done=0, total=len(jobs))
    if workers <= 1 or len(jobs) < 8:
        out = []
        for n, job in enumerate(jobs):
            out.append(_identify_text(job))
            if progress is not None and n % 10 == 9:
                progress(f"identifying {stage}", done=n + 1, total=len(jobs))
        return out
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("spawn")  # no fork under a progress thread
    out = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        for n, got in enumerate(pool.map(_identify_text, jobs, chunksize=16)):
            out.append(got)
            if progress is not None and n % 10 == 9:
                progress(f"identifying {stage}", done=n + 1, total=len(jobs))
    return out


def _check_members(store: Store, table: Mapping[str, Any], rep: ClusterReport,
                   members: np.ndarray, bases: Mapping[str, tuple[str, str | None]],
                   plane: tuple[str, str], digits: int, identify_digits: int, record: bool,
                   max_depth: int, anchor_verdicts: Mapping[str, str]) -> None:
    from discovery.identification import identify
    from discovery.verification import verify
    from search.base import Candidate
    from solvers.errors import DiscoveryError

    algebraic = "" in bases
    basis = tuple(b for b in bases if b)
    for i in (int(i) for i in members):
        pcf = _pcf(table["a"][i], table["b"][i])
        if pcf.key in anchor_verdicts:  # an anchor: verified and recorded already
            if anchor_verdicts[pcf.key] == "verified":
                x = next(x for x in rep.anchors if x["key"] == pcf.key)
                rep.checked += 1
                rep.verified += 1
                rep.stored += int(record or pcf.key in store)
                rep.formulas.append({"key": pcf.key, "pcf": repr(pcf), "claim": x["claim"],
                                     "constant": x["constant"], "anchor": True})
            continue
        old = _already_verified(store, pcf.key, digits)
        if old is not None:
            rep.checked += 1
            rep.verified += 1
            rep.stored += 1
            rep.formulas.append({"key": pcf.key, "pcf": repr(pcf), "claim": old.claim,
                                 "constant": old.constant, "digits": old.digits})
            continue
        try:
            ident = identify(pcf, identify_digits, basis=basis, multi_basis=(),
                             max_degree=2 if algebraic else 1)
        except (DiscoveryError, ValueError, ArithmeticError):
            continue
        rep.checked += 1
        if not ident.found:
            continue
        if ident.kind in TRIVIAL_LABELS:
            if not algebraic:
                continue
            member_basis, constant = "", None
        else:
            member_basis = ident.constant or ""
            if member_basis not in bases:
                continue
            constant = bases[member_basis][0]
        try:
            ev = verify(pcf, ident.relation, digits, max_depth=max_depth,
                        identify_on_refutation=False)
        except (DiscoveryError, ValueError, ArithmeticError):
            continue
        if ev.verdict != "verified":
            continue
        rep.verified += 1
        anchor_key = bases[member_basis][1]
        rel_to = anchor_key if anchor_key and anchor_verdicts.get(anchor_key) == "verified" \
            else None
        if rel_to is None:  # the cluster's first verified formula labels the others
            rel_to = next((f["key"] for f in rep.formulas if f["key"] != pcf.key), None)
        if record:
            cand = Candidate(
                kind="pcf", key=pcf.key, formula=pcf.to_dict(), claim=ev.claim,
                constant=None if constant is None else _constant_of(constant),
                evidence={"engine": "blind-delta", "cluster": rep.id, "plane": list(plane),
                          "label": rep.label,
                          "labelled_by": rep.labelled_by, "anchor": anchor_key,
                          "identified": ident.relation,
                          "identify_digits": ident.digits_available,
                          "dynamics": _dynamics_of(table, i, plane)},
                relations=(("labelled-by", rel_to),) if rel_to else (),
            )
            store.record(cand, ev, engine="blind-delta")
            rep.stored += 1
        rep.formulas.append({"key": pcf.key, "pcf": repr(pcf), "claim": ev.claim,
                             "constant": constant, "digits": ev.digits})


def summary(reports: Sequence[ClusterReport], labels: np.ndarray,
            plane: str | Sequence[str] = DEFAULT_PLANE,
            table: Mapping[str, Any] | None = None) -> dict:
    """The JSON of ``discovery blind-delta clusters`` (without ``png``).

    Examples
    --------
    >>> import numpy as np
    >>> s = summary([ClusterReport(id=0, size=2, label="pi", constants=("pi",))],
    ...             np.array([0, 0, -1, -2]), "delta,c")
    >>> s["plane"], s["noise"], s["undefined"], s["clusters"][0]["open"]
    (['delta', 'c'], 1, 1, False)
    """
    import numpy as np

    labels = np.asarray(labels)
    return {
        "plane": list(parse_plane(plane)),
        "rows": int(len(labels)),
        "rational": int(table.get("rational", 0)) if table is not None else 0,
        "clusters": [r.to_dict() for r in reports],
        "noise": int(np.sum(labels == _NOISE)),
        "undefined": int(np.sum(labels == _UNDEFINED)),
        "labelled": sum(not r.open for r in reports),
        "open": sum(r.open for r in reports),
        "verified": sum(r.verified for r in reports),
        "stored": sum(r.stored for r in reports),
    }
