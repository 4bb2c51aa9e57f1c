"""The store as a catalogue of formula families: joining, listing, finding, displaying.

Every conjecture of the store belongs to one *family* (:mod:`discovery.families`): the same
formula up to transformations that carry no new mathematics. A family row keeps

* its key (the key of its canonical representative, the normal-form PCF),
* the representative -- a conjecture row with its OWN verified claim; until the canonical
  representative itself is recorded, the first member stands in for it,
* the constant, the member count, the representative's digits, δ and value, when it was
  first found, and the literature source when it holds a formula of the reference table
  (:mod:`discovery.known`): ``known``, else ``new``.

Each member keeps its map to the representative (``family_map`` of its row: the Möbius map
``member = (A y + B)/(C y + D)``, how it was checked, the steps). Families are joined as
conjectures are recorded, in the store's transaction (:func:`join_family`); a store of an
older schema is backfilled when it is migrated (:func:`backfill_families`).

The queries (:func:`list_families`, :func:`find_value`, :func:`find_formula`) are what
``discovery db list`` and ``discovery db find`` print.

Examples
--------
>>> from search.base import Candidate
>>> from discovery.store import Store
>>> store = Store(":memory:")
>>> euler = Candidate("pcf", "pcf:x", {"a": [2, 4], "b": [1]}, "(e + 1)/(e - 1)", "e")
>>> _ = store.record(euler, {"verdict": "verified", "digits": 60, "value": "2.163953"})
>>> fams = list_families(store, constant="e")
>>> len(fams), fams[0].members, fams[0].claim, fams[0].known
(1, 1, '(e + 1)/(e - 1)', True)
>>> store.close()
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mpmath

from discovery.families import AnyOf, Assignment, assign, companions, mobius_display
from discovery.known import known_source
from discovery.store_records import (
    _CONJ_COLUMNS,
    _row_to_record,
    conjecture_html,
    conjecture_latex,
    dumps,
    filter_sql,
)
from search.base import Candidate
from solvers.errors import StoreError
from solvers.pcf_families import mobius_invert, mobius_normalise

if TYPE_CHECKING:
    from discovery.store import ConjectureRecord, Store

__all__ = [
    "FamilyRecord",
    "ValueMatch",
    "join_family",
    "backfill_families",
    "relation_map",
    "list_families",
    "count_families",
    "get_family",
    "family_members",
    "find_value",
    "find_formula",
    "relation_sentence",
    "conjecture_html",
    "conjecture_latex",
    "SORTS",
]

#: Orders ``db list`` knows: column and direction.
SORTS = {  # (SQLite puts NULLs last in a descending order: unknown digits/δ come last)
    "digits": "f.digits DESC, f.id",
    "delta": "f.delta DESC, f.id",
    "found": "f.first_found DESC, f.id DESC",
    "members": "f.members DESC, f.id",
}


@dataclass(frozen=True, repr=False)
class FamilyRecord:
    """A family of formulas: its representative, constant, size and standing.

    Attributes
    ----------
    id : int
        Family id (``db show F<id>``).
    key : str
        The canonical representative's key.
    constant : str or None
        The constant of its claims.
    representative : ConjectureRecord or None
        The representative conjecture (its own formula, claim, digits).
    members : int
        How many conjectures of the store belong to it.
    digits : int or None
        Digits the representative's claim was verified to.
    delta : float or None
        The representative's irrationality measure δ.
    first_found : str
        When a member was first recorded (ISO UTC).
    source : str or None
        The literature source when the family holds a formula of the reference table.
    value : str or None
        The representative's value (its own convergent), up to 40 digits.
    """

    id: int
    key: str
    constant: str | None
    representative: ConjectureRecord | None
    members: int
    digits: int | None
    delta: float | None
    first_found: str
    source: str | None
    value: str | None

    @property
    def known(self) -> bool:
        """True when a formula of the reference table belongs to the family."""
        return self.source is not None

    @property
    def claim(self) -> str:
        """The representative's own claim."""
        return self.representative.claim if self.representative else "?"

    @property
    def formula_text(self) -> str:
        """The representative's formula as one line."""
        return self.representative.formula_text if self.representative else "?"

    def __repr__(self) -> str:
        tag = "known" if self.known else "new"
        return (f"Family F{self.id} [{tag}, {self.members} members]: "
                f"{self.formula_text} = {self.claim}")

    def to_dict(self) -> dict:
        """JSON-able form (the shape of ``db list --json``)."""
        rep = self.representative
        return {
            "id": self.id,
            "key": self.key,
            "constant": self.constant,
            "claim": self.claim,
            "members": self.members,
            "digits": self.digits,
            "delta": self.delta,
            "first_found": self.first_found,
            "known": self.known,
            "source": self.source,
            "value": self.value,
            "representative": None if rep is None else {
                "id": rep.id,
                "key": rep.key,
                "kind": rep.kind,
                "formula": rep.formula,
                "formula_text": rep.formula_text,
                "claim": rep.claim,
                "status": rep.status,
                "digits": rep.digits,
            },
        }

    def _repr_html_(self) -> str:
        rep = self.representative
        tag = "known" if self.known else "new"
        rows = [
            ("family", f"F{self.id} ({tag}, {self.members} members)"),
            ("representative", "-" if rep is None else f"#{rep.id} {rep.formula_text}"),
            ("claim", self.claim),
            ("digits", self.digits),
            ("δ", "-" if self.delta is None else f"{self.delta:.4f}"),
            ("source", self.source or "-"),
        ]
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                       f"<td>{html.escape(str(v))}</td></tr>" for k, v in rows)
        return f"<table>{body}</table>"

    def _repr_latex_(self) -> str:
        if self.representative is None:
            return ""
        return f"${conjecture_latex(self.representative)}$"


# --------------------------------------------------------------------------- joining


def _canonical_constant(name: str | None) -> str | None:
    from solvers.constants import canonical_constant

    return canonical_constant(name) if name else None


def join_family(
    store: Store,
    cid: int,
    candidate: Candidate,
    family: Assignment | None = None,
    *,
    new: bool,
    digits: int | None,
    entry: dict,
) -> int:
    """Put conjecture ``cid`` (just recorded from ``candidate``) into its family; its id.

    Called by :meth:`discovery.store.Store.record` inside its transaction. Creates the family
    on its first member; the canonical representative takes over as the family's
    representative when it is recorded; the representative's digits, δ and value follow
    its latest evidence.
    """
    a = family if family is not None else assign(candidate)
    when = entry.get("when") or ""
    row = store._read("SELECT id, representative, first_found FROM families WHERE key = ?",
                      (a.key,))
    if row:
        fid, rep, first = row[0]
        if when and when < first:
            store._write("UPDATE families SET first_found = ? WHERE id = ?", (when, fid))
    else:
        cur = store._write(
            "INSERT INTO families (key, constant, representative, members, first_found, source) "
            "VALUES (?, ?, NULL, 0, ?, ?)",
            (a.key, _canonical_constant(candidate.constant), when, known_source(a.key)),
        )
        fid, rep = cur.lastrowid, None
    current = store._read("SELECT family FROM conjectures WHERE id = ?", (cid,))
    if current and current[0][0] is None:

        store._write("UPDATE conjectures SET family = ?, family_map = ? WHERE id = ?",
                     (fid, dumps(a.to_dict()), cid))
        store._write("UPDATE families SET members = members + 1 WHERE id = ?", (fid,))
    if candidate.key == a.key and rep != cid:
        rep = cid
        store._write("UPDATE families SET representative = ? WHERE id = ?", (cid, fid))
    elif rep is None:
        rep = cid
        store._write("UPDATE families SET representative = ? WHERE id = ?", (cid, fid))
    if rep == cid:
        _refresh(store, fid, cid, entry)
    return fid


def _refresh(store: Store, fid: int, cid: int, entry: dict) -> None:
    """The family's digits, δ and value from its representative's row and latest evidence."""
    digits = store._read("SELECT digits FROM conjectures WHERE id = ?", (cid,))[0][0]
    sets, params = ["digits = ?"], [digits]
    if entry.get("verdict") in ("verified", "proven"):
        delta = entry.get("delta")
        if isinstance(delta, (int, float)) and math.isfinite(delta):
            sets.append("delta = ?")
            params.append(float(delta))
        if isinstance(entry.get("value"), str) and entry["value"]:
            sets.append("value = ?")
            params.append(entry["value"])
    store._write(f"UPDATE families SET {', '.join(sets)} WHERE id = ?", (*params, fid))


def relation_map(candidate: Candidate, rtype: str, other: str) -> dict | None:
    """The Möbius map of a relation an engine reported, when the candidate carries it.

    ``{"mobius": [A, B, C, D]}`` means ``src = (A dst + B)/(C dst + D)``: for an ESMA
    pattern that contracts to a PCF, the contraction's map; for a PCF derived from a CMF
    walk, the inverse of the walk's map.
    """
    f = candidate.formula if isinstance(candidate.formula, dict) else {}
    if rtype == "contracts-to" and isinstance(f.get("mobius"), list):
        return {"mobius": list(mobius_normalise(f["mobius"]))}
    walk = candidate.evidence.get("walk_mobius") if candidate.evidence else None
    if rtype == "derived-from" and isinstance(walk, list) and len(walk) == 2:
        (A, B), (C, D) = walk
        return {"mobius": list(mobius_invert((A, B, C, D)))}
    return None


def backfill_families(store: Store, digits: int = 50) -> int:
    """Join every conjecture without a family to its family; return how many joined.

    The formulas the families need as rows of their own (contracted PCFs, representatives)
    are verified independently (``digits``) and recorded first. Runs in the caller's
    transaction (the schema migration).
    """
    from discovery.verifiers import verify_candidate

    rows = store._read(
        "SELECT id FROM conjectures WHERE family IS NULL ORDER BY id"
    )
    records = [store.get(r[0]) for r in rows]
    needed: dict[str, Candidate] = {}
    known = AnyOf(store, needed)
    for rec in records:
        if rec.status not in ("verified", "proven"):
            continue
        for c in companions(rec.to_candidate(), known=known):
            needed[c.key] = c
    for c in needed.values():
        try:
            evidence = verify_candidate(c, digits=digits)
        except Exception as exc:  # keep the row, say why it is not verified
            evidence = {"verdict": "inconclusive", "error": f"{type(exc).__name__}: {exc}"}
        store.record(c, evidence, engine="families")
    for rec in records:
        # The latest evidence (verdict, δ, value) but the FIRST sighting's time.
        entry = {**(rec.evidence[-1] if rec.evidence else {}), "when": rec.first_seen}
        join_family(store, rec.id, rec.to_candidate(), new=False, digits=rec.digits,
                    entry=entry)
    # Relations stored before v3 carry no map: give them the one their source implies.
    for rec in records:
        cand = rec.to_candidate()
        for rel in store.relations(src=rec.key):
            rmap = relation_map(cand, rel.type, rel.dst)
            if rmap is not None and rel.map is None:
                store.add_relation(rel.src, rel.type, rel.dst, map=rmap)
    return len(records)


# --------------------------------------------------------------------------- queries

_FAMILY_COLUMNS = ("f.id, f.key, f.constant, f.members, f.digits, f.delta, f.first_found, "
                   "f.source, f.value")


def _where(constant: str | None, kind: str | None, status: str | None,
           min_digits: int | None, new: bool | None) -> tuple[str, list]:

    where, params = filter_sql(constant, kind, status, min_digits, table="c.",
                               constant_column="f.constant", digits_column="f.digits")
    if new is True:
        where.append("f.source IS NULL")
    elif new is False:
        where.append("f.source IS NOT NULL")
    return (" WHERE " + " AND ".join(where)) if where else "", params


def _select_families() -> str:

    cols = ", ".join(f"c.{c.strip()}" for c in _CONJ_COLUMNS.split(","))
    return (f"SELECT {_FAMILY_COLUMNS}, {cols} FROM families f "
            f"LEFT JOIN conjectures c ON c.id = f.representative")


def _family_from_row(r: tuple) -> FamilyRecord:

    rep = _row_to_record(r[9:]) if r[9] is not None else None
    return FamilyRecord(r[0], r[1], r[2], rep, r[3], r[4], r[5], r[6], r[7], r[8])


def list_families(
    store: Store,
    constant: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    min_digits: int | None = None,
    new: bool | None = None,
    sort: str = "digits",
    limit: int | None = 50,
    offset: int = 0,
) -> list[FamilyRecord]:
    """Families matching all the filters (on the family and its representative), sorted.

    Parameters
    ----------
    constant, kind, status, min_digits
        As in :meth:`discovery.store.Store.query`, applied to the representative.
    new : bool, optional
        True: only new families; False: only known ones.
    sort : {"digits", "delta", "found", "members"}
        Most digits, largest δ, most recently found, or most members first.
    limit, offset : int
        Paging (``limit=None``: all).
    """
    if sort not in SORTS:
        raise StoreError(f"Unknown sort {sort!r}; use one of {', '.join(SORTS)}")
    where, params = _where(constant, kind, status, min_digits, new)
    page = ""
    if limit is not None:
        page = " LIMIT ? OFFSET ?"
        params += [int(limit), int(offset)]
    if kind is None and status is None:
        # Only the families' own columns are filtered: page them first (with an index on
        # (constant, sort column)), then fetch the page's representatives.
        inner = f"SELECT * FROM families f{where} ORDER BY {SORTS[sort]}{page}"
        sql = _select_families().replace("FROM families f", f"FROM ({inner}) f", 1)
        sql += f" ORDER BY {SORTS[sort]}"
    else:
        sql = f"{_select_families()}{where} ORDER BY {SORTS[sort]}{page}"
    return [_family_from_row(r) for r in store._read(sql, params)]


def count_families(
    store: Store,
    constant: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    min_digits: int | None = None,
    new: bool | None = None,
) -> int:
    """How many families :func:`list_families` would list without a limit."""
    where, params = _where(constant, kind, status, min_digits, new)
    join = "" if kind is None and status is None else \
        " LEFT JOIN conjectures c ON c.id = f.representative"
    return store._read(f"SELECT COUNT(*) FROM families f{join}{where}", params)[0][0]


_FAMILY_REF = re.compile(r"^(?:F|family:)(\d+)$", re.IGNORECASE)


def get_family(store: Store, ref: int | str) -> FamilyRecord:
    """A family by id (``7``, ``"F7"``, ``"family:7"``) or by the key of its representative."""
    m = _FAMILY_REF.match(str(ref))
    if isinstance(ref, int) or m or str(ref).isdigit():
        rows = store._read(f"{_select_families()} WHERE f.id = ?",
                           (int(m.group(1) if m else ref),))
    else:
        rows = store._read(f"{_select_families()} WHERE f.key = ?", (str(ref),))
    if not rows:
        raise StoreError(f"No family {ref!r} in {store.path}")
    return _family_from_row(rows[0])


def family_members(store: Store, family_id: int, limit: int | None = None
                   ) -> list[ConjectureRecord]:
    """The family's conjectures: the representative first, then by id."""

    sql = (f"SELECT {_CONJ_COLUMNS} FROM conjectures WHERE family = ? ORDER BY "
           f"id != (SELECT representative FROM families WHERE id = ?), id")
    params: list = [family_id, family_id]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return [_row_to_record(r) for r in store._read(sql, params)]


@dataclass(frozen=True)
class ValueMatch:
    """A family whose limit is a Möbius image of a value.

    ``value = (A y + B)/(C y + D)`` with ``y`` the family representative's limit; ``digits``
    is how many digits of the value the match rests on.
    """

    family: FamilyRecord
    mobius: tuple[int, int, int, int]
    digits: int

    @property
    def relation(self) -> str:
        """``value = <map of the representative's limit>`` in words."""
        return f"value = {mobius_display(self.mobius, 'y')}, y = {self.family.formula_text}"

    def to_dict(self) -> dict:
        return {"family": self.family.to_dict(), "mobius": list(self.mobius),
                "relation": self.relation, "digits": self.digits}


def _parse_value(text: str) -> tuple[Any, int]:
    """The number and how many significant digits it was given with."""
    t = text.strip().replace("_", "")
    m = re.fullmatch(r"([+-]?)(\d*)\.?(\d*)(?:[eE]([+-]?\d{1,6}))?", t)
    if not m or not (m.group(2) or m.group(3)):
        raise ValueError(f"--value must be a decimal number such as 2.718281828459045, "
                         f"not {text!r}")
    digits = len((m.group(2) + m.group(3)).lstrip("0")) or 1
    ctx = mpmath.MPContext()
    ctx.dps = digits + 10
    return ctx.mpf(t), digits


def find_value(
    store: Store,
    value: str,
    constant: str | None = None,
    max_coeff: int | None = None,
    limit: int = 20,
) -> list[ValueMatch]:
    """Families whose limit is ``value`` or a small Möbius image of it.

    For each family with a recorded value, an integer relation ``C x y + D x - A y - B = 0``
    between the given ``x`` and the representative's limit ``y`` is sought (PSLQ) with
    coefficients small enough that the relation uses well under the digits given.

    Examples
    --------
    >>> from search.base import Candidate
    >>> from discovery.store import Store
    >>> store = Store(":memory:")
    >>> c = Candidate("pcf", "pcf:e", {"a": [2, 4], "b": [1]}, "(e + 1)/(e - 1)", "e")
    >>> _ = store.record(c, {"verdict": "verified", "digits": 40,
    ...                      "value": "2.163953413738652848770004010218023117"})
    >>> [m.relation for m in find_value(store, "2.71828182845904523536028747135")]
    ['value = (y + 1)/(y - 1), y = PCF(4n + 2, 1)']
    >>> store.close()
    """
    x, given = _parse_value(value)
    out = []
    for fam in _families_with_values(store, constant):
        y_digits = len(re.sub(r"[^0-9]", "", fam.value.split("e")[0].split("E")[0]))
        D = min(given, y_digits) - 2
        if D < 8:
            continue
        m = _mobius_relation(x, fam.value, D, max_coeff)
        if m is not None:
            out.append(ValueMatch(fam, m, D))
            if len(out) >= limit:
                break
    out.sort(key=lambda v: (sum(abs(c) for c in v.mobius), -(v.family.digits or 0)))
    return out


def _families_with_values(store: Store, constant: str | None) -> Iterator[FamilyRecord]:
    offset, page = 0, 500
    while True:
        batch = list_families(store, constant=constant, sort="digits", limit=page,
                              offset=offset)
        for fam in batch:
            if fam.value:
                yield fam
        if len(batch) < page:
            return
        offset += page


def _mobius_relation(x: Any, y_text: str, D: int, max_coeff: int | None
                     ) -> tuple[int, int, int, int] | None:
    ctx = mpmath.MPContext()
    ctx.dps = D
    xv, yv = ctx.mpf(x), ctx.mpf(y_text)
    if abs(xv - yv) <= ctx.mpf(10) ** (-(D - 2)) * max(1, abs(xv)):
        return (1, 0, 0, 1)
    bound = max_coeff or max(10, min(10 ** 4, int(10 ** (D / 10))))
    try:
        rel = ctx.pslq([xv * yv, xv, yv, ctx.mpf(1)], maxcoeff=bound, maxsteps=2000)
    except (ValueError, ZeroDivisionError):
        return None
    if rel is None:
        return None
    C, Dd, mA, mB = (int(v) for v in rel)
    A, B = -mA, -mB
    if A * Dd - B * C == 0 or (C == 0 and Dd == 0):
        return None
    # The relation must use well under the digits: |coefficients| ** 4 << 10 ** D.
    used = sum(math.log10(abs(v)) for v in (A, B, C, Dd) if v)
    if used > 0.6 * D:
        return None
    # x (C y + D) = A y + B  =>  x = (A y + B)/(C y + D)
    return mobius_normalise((A, B, C, Dd))


def find_formula(store: Store, text: str, limit: int = 200) -> list[ConjectureRecord]:
    """Conjectures whose formula has ``text`` as ``a(n)`` or ``b(n)`` (a polynomial, read by
    the safe parser) or, failing that, whose formula or claim contains ``text``.

    Examples
    --------
    >>> from search.base import Candidate
    >>> from discovery.store import Store
    >>> store = Store(":memory:")
    >>> _ = store.record(Candidate("pcf", "pcf:e", {"a": [2, 4], "b": [1]}, "(e+1)/(e-1)"))
    >>> [r.formula_text for r in find_formula(store, "4n+2")]
    ['PCF(4n + 2, 1)']
    >>> store.close()
    """
    from solvers.errors import ParseError
    from solvers.expr import polynomial_coefficients

    patterns: list[str] = []
    try:
        coeffs = list(polynomial_coefficients(text))
        body = dumps(coeffs)
        patterns = [f'%"a":{body}%', f'%"b":{body}%']
    except (ParseError, ValueError):
        pass
    if patterns:
        sql = (f"SELECT {_CONJ_COLUMNS} FROM conjectures WHERE formula LIKE ? OR formula LIKE ? "
               f"ORDER BY id LIMIT ?")
        rows = store._read(sql, (*patterns, int(limit)))
        if rows:
            return [_row_to_record(r) for r in rows]
    needle = f"%{text.strip()}%"
    sql = (f"SELECT {_CONJ_COLUMNS} FROM conjectures WHERE claim LIKE ? OR formula LIKE ? "
           f"ORDER BY id LIMIT ?")
    return [_row_to_record(r) for r in store._read(sql, (needle, needle, int(limit)))]


# --------------------------------------------------------------------------- display

_RELATION_WORDS = {
    "contracts-to": "contracts to",
    "derived-from": "is derived from",
    "equivalent-to": "is equivalent (coboundary) to",
    "evaluates-to": "evaluates to",
    "improves": "improves",
}


def relation_sentence(store: Store, src: ConjectureRecord, rtype: str, dst_key: str,
                      rmap: dict | None = None) -> str:
    """One line: both formulas with their OWN claims, and the map between them.

    ``"SCF(+)[1; 1, 6, 10, ...] = (e + 1)/2 contracts to PCF(4n + 2, 1) = (e + 1)/(e - 1)
    (x = (y + 1)/y)"``.
    """
    words = _RELATION_WORDS.get(rtype, rtype.replace("-", " "))
    left = f"{src.formula_text} = {src.claim}"
    try:
        dst = store.get(dst_key)
        right = f"{dst.formula_text} = {dst.claim}"
    except StoreError:
        right = f"{dst_key} (not in the store)"
    text = f"{left} {words} {right}"
    if rmap and isinstance(rmap.get("mobius"), list):
        text += f"  [x = {mobius_display(rmap['mobius'], 'y')}]"
    return text
