"""How the conjecture store writes values into rows and reads rows back as records.

Package-private to :mod:`discovery.store` (which re-exports the public names):

* exact JSON (:func:`dumps`, :func:`loads`): integers of any size and fractions round-trip
  exactly; integers too long for Python's int/str digit limit become ``{"$int": "<hex>"}``;
* the one-line human reading of a stored formula (:func:`formula_text`);
* the record value objects (:class:`ConjectureRecord`, :class:`RelationRecord`,
  :class:`RunRecord`), the vocabulary of statuses, and the conversion of a ``conjectures``
  row into a record;
* the SQL conditions of the usual conjecture filters (:func:`filter_sql`).

Nothing here opens a database.

Examples
--------
>>> loads(dumps({"n": 2 ** 70000}))["n"] == 2 ** 70000
True
>>> formula_text("pcf", {"a": [1], "b": [1]})
'PCF(1, 1)'
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from discovery.families import mobius_display
from search.base import Candidate
from solvers.constants import canonical_constant
from solvers.errors import StoreError

__all__ = [
    "ConjectureRecord",
    "RelationRecord",
    "RunRecord",
    "STATUSES",
    "RELATION_TYPES",
    "formula_text",
    "filter_sql",
    "dumps",
    "loads",
    "conjecture_latex",
    "conjecture_html",
]

#: Statuses of a conjecture, in the order a status may only move up.
#: Conjecture statuses, in the order in which evidence merges them (the highest wins), except
#: that a proof and a refutation together make ``contradicted``.
STATUSES = ("proposed", "inconclusive", "verified", "refuted", "proven", "contradicted")
_RANK = {s: i for i, s in enumerate(STATUSES)}
#: The relation types the workbench itself writes (others are accepted).
RELATION_TYPES = ("evaluates-to", "equivalent-to", "derived-from", "improves", "found-by")

# Integers longer than this many bits are stored as hex text: their decimal form could
# exceed Python's 4300-digit int<->str limit (13000 bits is about 3900 digits).
_BIG_INT_BITS = 13_000


# ---------------------------------------------------------------------------------------------
# JSON with exact integers of any size


def _encode(obj: Any) -> Any:
    if obj is None or isinstance(obj, (bool, str, float)):
        return obj
    if isinstance(obj, int):
        return {"$int": hex(obj)} if obj.bit_length() > _BIG_INT_BITS else obj
    if isinstance(obj, Mapping):
        return {str(k): _encode(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = sorted(obj, key=repr) if isinstance(obj, (set, frozenset)) else obj
        return [_encode(v) for v in items]
    if isinstance(obj, Fraction):
        return {"$frac": [_encode(obj.numerator), _encode(obj.denominator)]}
    name = type(obj).__name__
    if name in ("mpz", "fmpz"):
        return _encode(int(obj))
    if name in ("mpq", "fmpq"):
        return _encode(Fraction(int(obj.numerator), int(obj.denominator)))
    if hasattr(obj, "to_dict"):
        return _encode(obj.to_dict())
    return str(obj)


def _decode_hook(d: dict) -> Any:
    if len(d) == 1:
        if "$int" in d and isinstance(d["$int"], str):
            return int(d["$int"], 16)  # base 16 is exempt from the digit limit
        if "$frac" in d and isinstance(d["$frac"], list) and len(d["$frac"]) == 2:
            return Fraction(*d["$frac"])
    return d


def dumps(obj: Any) -> str:
    """JSON text of ``obj`` with integers of any size kept exact.

    Examples
    --------
    >>> text = dumps({"a": [3 ** 20000, -1]})
    >>> loads(text)["a"][0] == 3 ** 20000
    True
    >>> dumps({"b": [1, 2]})
    '{"b":[1,2]}'
    """
    return json.dumps(_encode(obj), separators=(",", ":"), sort_keys=True)


def loads(text: str | None) -> Any:
    """Inverse of :func:`dumps`."""
    if text is None:
        return None
    return json.loads(text, object_hook=_decode_hook)


def _now() -> str:
    """The current UTC time as ISO text to the millisecond (the store's timestamps)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


# ---------------------------------------------------------------------------------------------
# Human-readable formulas


def _int_text(n: int) -> str:
    if n.bit_length() > _BIG_INT_BITS:
        import gmpy2

        return gmpy2.mpz(n).digits(10)
    return str(n)


def _poly_text(coeffs: list, var: str = "n") -> str:
    """``[5, 27, 51, 34]`` (ascending powers) -> ``'34n^3 + 51n^2 + 27n + 5'``."""
    terms = []
    for power in range(len(coeffs) - 1, -1, -1):
        c = coeffs[power]
        if not isinstance(c, int) or isinstance(c, bool):
            return str(coeffs)
        if c == 0:
            continue
        mag = _int_text(abs(c))
        mono = "" if power == 0 else var if power == 1 else f"{var}^{power}"
        body = mag if not mono else (mono if mag == "1" else f"{mag}{mono}")
        sign = "-" if c < 0 else "+"
        terms.append((sign, body))
    if not terms:
        return "0"
    first_sign, first = terms[0]
    text = ("-" if first_sign == "-" else "") + first
    for sign, body in terms[1:]:
        text += f" {sign} {body}"
    return text


def formula_text(kind: str, formula: Any) -> str:
    """A one-line human reading of a stored formula.

    Examples
    --------
    >>> formula_text("pcf", {"a": [5, 27, 51, 34], "b": [0, 0, 0, 0, 0, 0, -1]})
    'PCF(34n^3 + 51n^2 + 27n + 5, -n^6)'
    >>> formula_text("esma", {"first_terms": [1, 1, 2, 1, 2], "signs": [1, 1, -1]})
    'SCF(+,+,-)[1; 1, 2, 1, 2, ...]'
    >>> formula_text("cmf", {"matrix": [[1, 0], [0, 1]]})
    'cmf{"matrix":[[1,0],[0,1]]}'
    """
    if isinstance(formula, Mapping):
        a, b = formula.get("a"), formula.get("b")
        if isinstance(a, list) and isinstance(b, list):
            return f"PCF({_poly_text(a)}, {_poly_text(b)})"
        for name in ("text", "formula", "pattern"):
            if isinstance(formula.get(name), str):
                return formula[name]
        terms, signs = formula.get("first_terms"), formula.get("signs")
        if isinstance(terms, list) and terms and isinstance(signs, list) and signs:
            # A signed continued fraction a0 + s0/(a1 + s1/(a2 + ...)), signs periodic.
            head = ", ".join(_int_text(t) if isinstance(t, int) else str(t) for t in terms[1:])
            pattern = ",".join("+" if s > 0 else "-" for s in signs)
            return f"SCF({pattern})[{terms[0]}; {head}, ...]"
    return f"{kind}{dumps(formula)}"

# ---------------------------------------------------------------------------------------------
# Value objects


@dataclass(frozen=True, repr=False)
class ConjectureRecord:
    """A stored conjecture: a formula, its claim, status and accumulated evidence.

    Attributes
    ----------
    id : int
        Row id (what ``discovery db show ID`` takes).
    key : str
        Canonical key of the formula.
    kind, formula, claim, constant
        As in :class:`search.base.Candidate`.
    status : str
        One of :data:`STATUSES`.
    digits : int or None
        Best number of digits agreed by a non-refuting evidence entry.
    evidence : tuple of dict
        Evidence entries (verdict, digits, depth, precision, seconds, when, engine, run, ...).
    engine : str or None
        The engine that first found it.
    first_seen, last_seen : str
        ISO UTC timestamps.
    times_found : int
        How many times an engine produced it.
    """

    id: int
    key: str
    kind: str
    formula: Any
    claim: str
    constant: str | None
    status: str
    digits: int | None
    evidence: tuple = ()
    engine: str | None = None
    first_seen: str = ""
    last_seen: str = ""
    times_found: int = 1
    family: int | None = None
    family_map: dict | None = None

    @property
    def formula_text(self) -> str:
        """The formula as one line of text."""
        return formula_text(self.kind, self.formula)

    def __repr__(self) -> str:
        digits = f", {self.digits} digits" if self.digits is not None else ""
        return f"Conjecture #{self.id} [{self.status}{digits}]: {self.formula_text} = {self.claim}"

    def _repr_html_(self) -> str:
        return conjecture_html(self)

    def _repr_latex_(self) -> str:
        return f"${conjecture_latex(self)}$"

    def to_dict(self) -> dict:
        """A JSON-able dict (huge integers stay exact Python ints)."""
        return {
            "id": self.id,
            "key": self.key,
            "kind": self.kind,
            "formula": self.formula,
            "formula_text": self.formula_text,
            "claim": self.claim,
            "constant": self.constant,
            "status": self.status,
            "digits": self.digits,
            "evidence": list(self.evidence),
            "engine": self.engine,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "times_found": self.times_found,
            "family": self.family,
            "family_map": self.family_map,
        }

    def to_candidate(self) -> Candidate:
        """The candidate this record came from (search evidence of its first sighting)."""
        search_ev = self.evidence[0].get("search", {}) if self.evidence else {}
        return Candidate(self.kind, self.key, self.formula, self.claim, self.constant, search_ev)


@dataclass(frozen=True)
class RelationRecord:
    """A typed edge ``src -type-> dst`` between keys.

    ``map``, when known, is the Möbius map between the two limits:
    ``{"mobius": [A, B, C, D]}`` means ``src = (A*dst + B)/(C*dst + D)``.
    """

    src: str
    type: str
    dst: str
    run: int | None = None
    map: dict | None = None

    def __repr__(self) -> str:
        return f"{self.src} -{self.type}-> {self.dst}"

    def to_dict(self) -> dict:
        return {"src": self.src, "type": self.type, "dst": self.dst, "run": self.run,
                "map": self.map}


@dataclass(frozen=True)
class RunRecord:
    """A run: one engine with one configuration, possibly resumed several times.

    Attributes
    ----------
    provenance : list of dict
        One entry per session (``started`` plus what
        :func:`discovery.provenance.collect_provenance` reports): the first session and
        the latest ones (at most ``MAX_SESSIONS``). Empty for a run of an older store.
    """

    id: int
    name: str
    engine: str
    config: dict
    started: str
    ended: str | None
    state: dict | None
    status: str
    resumed: int = 0
    finished_tasks: int = field(default=0)
    provenance: list = field(default_factory=list)

    def __repr__(self) -> str:
        return (
            f"Run #{self.id} {self.name!r} [{self.engine}, {self.status}, "
            f"{self.finished_tasks} tasks]"
        )

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "engine": self.engine,
            "config": self.config,
            "started": self.started,
            "ended": self.ended,
            "state": self.state,
            "status": self.status,
            "resumed": self.resumed,
            "finished_tasks": self.finished_tasks,
            "provenance": list(self.provenance),
        }


# ---------------------------------------------------------------------------------------------
# Rows of the conjectures table

_CONJ_COLUMNS = (
    "id, key, kind, formula, claim, constant, status, digits, evidence, engine, "
    "first_seen, last_seen, times_found, family, family_map"
)


def _text(value: Any) -> str:
    """A ``TEXT NOT NULL`` column's value as text: a row written around the store's checks
    (``PRAGMA ignore_check_constraints``, another program) may hold a number or bytes there.

    Examples
    --------
    >>> _text("verified"), _text(b"we\\xffird"), _text(5)
    ('verified', 'we\ufffdird', '5')
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def _optional_text(value: Any) -> str | None:
    """A nullable text column's value: ``None`` or text (:func:`_text`)."""
    return None if value is None else _text(value)


def _json_column(value: Any) -> Any:
    """A JSON column's value (:func:`loads`); text that is not JSON is kept as it is."""
    try:
        return loads(value)
    except (ValueError, TypeError, RecursionError):
        return _text(value)


def _optional_int(value: Any) -> int | None:
    """An integer column's value, or ``None`` for anything that is not an integer."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _row_to_record(row: tuple) -> ConjectureRecord:
    """A ``conjectures`` row (:data:`_CONJ_COLUMNS`) as a record, whatever its cells hold.

    A status outside :data:`STATUSES` (written around the store's CHECK constraint) is kept
    as it is, for readers to show; cells of the wrong type become text (or ``None``).

    Examples
    --------
    >>> row = (7, "pcf:k", "pcf", '{"a":[1],"b":[1]}', "1", None, b"weird", "x", "[1, {}]",
    ...        None, "", "", 1, None, "{")
    >>> rec = _row_to_record(row)
    >>> rec.status, rec.digits, rec.evidence, rec.family_map
    ('weird', None, ({},), None)
    """
    evidence = _json_column(row[8])
    family_map = _json_column(row[14])
    return ConjectureRecord(
        id=row[0],
        key=_text(row[1]),
        kind=_text(row[2]),
        formula=_json_column(row[3]),
        claim=_text(row[4]),
        constant=_optional_text(row[5]),
        status=_text(row[6]),
        digits=_optional_int(row[7]),
        evidence=tuple(e for e in evidence if isinstance(e, dict))
        if isinstance(evidence, list) else (),
        engine=_optional_text(row[9]),
        first_seen=_text(row[10]),
        last_seen=_text(row[11]),
        times_found=_optional_int(row[12]) or 0,
        family=_optional_int(row[13]),
        family_map=family_map if isinstance(family_map, dict) else None,
    )


def filter_sql(
    constant: str | None,
    kind: str | None,
    status: str | None,
    min_digits: int | None,
    *,
    table: str = "",
    constant_column: str = "constant",
    digits_column: str = "digits",
) -> tuple[list[str], list]:
    """SQL conditions and parameters for the usual conjecture filters.

    ``table`` prefixes the kind and status columns (``"c."`` in a join); the constant and
    digits columns may be another table's (the families' own, for instance). A constant
    matches under the name given and under its catalogue name.

    Raises
    ------
    StoreError
        If ``status`` is not one of :data:`STATUSES`.

    Examples
    --------
    >>> filter_sql("apery", None, "verified", 50, table="c.")
    (['constant IN (?,?)', 'c.status = ?', 'digits >= ?'], ['apery', 'zeta3', 'verified', 50])
    """
    where: list[str] = []
    params: list = []
    if constant is not None:
        names = sorted(_constant_names(constant))
        where.append(f"{constant_column} IN ({','.join('?' * len(names))})")
        params += names
    if kind is not None:
        where.append(f"{table}kind = ?")
        params.append(kind)
    if status is not None:
        if status not in _RANK:
            raise StoreError(f"Unknown status {status!r}; use one of {', '.join(STATUSES)}")
        where.append(f"{table}status = ?")
        params.append(status)
    if min_digits is not None:
        where.append(f"{digits_column} >= ?")
        params.append(int(min_digits))
    return where, params


def _constant_names(name: str) -> set[str]:
    """The name as given and its canonical name."""
    return {name, canonical_constant(name)}


def conjecture_latex(rec: ConjectureRecord) -> str:
    """LaTeX of ``formula = claim`` (the formula as a continued fraction when it is one)."""
    from solvers.expr import expression_latex

    try:
        claim = expression_latex(rec.claim)
    except Exception:  # a claim that is a statement, not an expression
        claim = r"\text{" + _latex_escape(rec.claim) + "}"
    f = rec.formula if isinstance(rec.formula, dict) else {}
    if rec.kind == "pcf" and "a" in f and "b" in f:
        from solvers.continued_fractions import PCF

        body = PCF.from_dict(f).latex(3).split(r"\qquad")[0]
    else:
        body = r"\text{" + _latex_escape(rec.formula_text) + "}"
    return f"{body} = {claim}"


def _latex_escape(text: str) -> str:
    out = text
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"),
                 ("#", r"\#"), ("_", r"\_"), ("{", r"\{"), ("}", r"\}"), ("~", r"\~{}"),
                 ("^", r"\^{}")):
        out = out.replace(a, b)
    return out


def conjecture_html(rec: ConjectureRecord) -> str:
    """An HTML table of a conjecture for notebooks."""
    fmap = rec.family_map or {}
    rows = [
        ("conjecture", f"#{rec.id} {rec.key} [{rec.status}]"),
        ("formula", rec.formula_text),
        ("claim", rec.claim),
        ("digits", "-" if rec.digits is None else rec.digits),
        ("constant", rec.constant or "-"),
        ("family", "-" if rec.family is None else f"F{rec.family}"),
    ]
    if fmap.get("mobius") and fmap.get("check") not in ("identity", None):
        rows.append(("map to representative",
                     f"x = {mobius_display(fmap['mobius'], 'y')} ({fmap.get('check')})"))
    body = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                   f"<td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"
