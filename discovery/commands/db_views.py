"""What ``discovery db ...`` prints: family and conjecture summaries, the map of a member to
its family's representative, tables, and the LaTeX / CSV catalogues of ``db export``.

Every line pairs a formula only with its OWN claim; a member is related to its family's
representative by the Möbius map ``x = (A y + B)/(C y + D)`` (``x`` the member's limit, ``y``
the representative's), said in words with how it was checked.

What they print comes from a store, which may hold anything: :func:`Console` and
:func:`Table` make every string they are given :func:`~discovery.text.printable` (no
escape sequence reaches the terminal).
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from discovery.commands import _rich
from discovery.commands._rich import box
from solvers.errors import StoreError

if TYPE_CHECKING:
    import rich.console
    import rich.table

    from discovery.catalogue import FamilyRecord
    from discovery.store import ConjectureRecord, Store

__all__ = [
    "Console",
    "Table",
    "sql_int",
    "short",
    "summary",
    "member_map",
    "member_summary",
    "family_tag",
    "family_line",
    "count_conjectures",
    "families_table",
    "members_table",
    "families_csv",
    "latex_document",
    "latex_text",
    "find_value_report",
    "find_formula_report",
    "resolve_ref",
    "relation_sentences",
    "same_file",
    "SENTENCES",
]


#: The largest integer SQLite stores (a row id, a LIMIT or an OFFSET beyond it overflows).
MAX_SQL_INT = 2**63 - 1


def sql_int(text: str) -> int | None:
    """The integer that ``text`` (decimal digits) names, or ``None`` beyond SQLite's integers.

    Examples
    --------
    >>> sql_int("42"), sql_int("9223372036854775807"), sql_int("9223372036854775808")
    (42, 9223372036854775807, None)
    >>> sql_int("²"), sql_int("")
    (None, None)
    """
    text = text.strip()
    if not text.isdecimal() or len(text) > len(str(MAX_SQL_INT)):
        return None
    n = int(text)
    return n if n <= MAX_SQL_INT else None


def Console(**kwargs: Any) -> rich.console.Console:  # noqa: N802 (rich's name)
    """A console of :mod:`discovery.commands._rich` with no markup and no emoji codes: text
    from a store is printed as it is written.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> Console(file=out).print("[bold]run[/bold] \\x1b[31mred")
    >>> out.getvalue()
    '[bold]run[/bold] \\\\x1b[31mred\\n'
    """
    kwargs.setdefault("markup", False)
    kwargs.setdefault("emoji", False)
    return _rich.Console(**kwargs)


Table = _rich.Table


def short(text: Any, width: int = 60) -> str:
    """``text`` cut to ``width`` characters (an ellipsis marks the cut)."""
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def summary(rec: ConjectureRecord) -> dict:
    """A conjecture for listings: everything but the evidence entries."""
    d = rec.to_dict()
    d["evidence_count"] = len(d.pop("evidence"))
    return d


def _check_words(maps: list[dict]) -> str:
    checks = [m.get("check") for m in maps]
    if "none" in checks or None in checks:
        return "unchecked"
    digits = [m.get("check_digits") for m in maps if m.get("check") == "digits"]
    if digits:
        known = [d for d in digits if isinstance(d, int)]
        return f"checked to {min(known)} digits" if known else "checked numerically"
    return "exact"


def member_map(rec: ConjectureRecord, fam: FamilyRecord | None) -> dict | None:
    """The map from the family's representative to the member ``rec``.

    Returns ``{"mobius": [A, B, C, D], "text": "x = (y + 1)/y", "check": "exact" |
    "checked to N digits" | "representative"}`` (``x`` the member's limit, ``y`` the
    representative's), or ``None`` when the member has no limit or no map (a program, a
    bound, a row of an older store).

    The stored map (``family_map``) is to the family's canonical representative; while
    another member stands in for it, the map is composed with the inverse of the stand-in's.
    """
    from discovery.families import mobius_display
    from solvers.pcf_families import mobius_compose, mobius_invert

    rep = fam.representative if fam is not None else None
    if rep is not None and rep.id == rec.id:
        return {"mobius": [1, 0, 0, 1], "text": "x = y", "check": "representative"}
    fmap = rec.family_map or {}
    if not isinstance(fmap.get("mobius"), list):
        return None
    m = tuple(int(v) for v in fmap["mobius"])
    maps = [fmap]
    if fam is not None and rep is not None and rep.key != fam.key:
        rmap = rep.family_map or {}
        if not isinstance(rmap.get("mobius"), list):
            return None
        try:
            m = mobius_compose(m, mobius_invert(tuple(int(v) for v in rmap["mobius"])))
        except ValueError:
            return None
        maps.append(rmap)
    return {"mobius": list(m), "text": f"x = {mobius_display(m, 'y')}",
            "check": _check_words(maps)}


def member_summary(rec: ConjectureRecord, fam: FamilyRecord | None) -> dict:
    """:func:`summary` plus ``map_to_representative`` (:func:`member_map`)."""
    return {**summary(rec), "map_to_representative": member_map(rec, fam)}


def map_words(m: dict | None) -> str:
    """``"x = (y + 1)/y (exact)"``, ``"representative"`` or ``"-"``."""
    if m is None:
        return "-"
    if m["check"] == "representative":
        return "representative"
    return f"{m['text']} ({m['check']})"


def family_tag(fam: FamilyRecord, width: int | None = None) -> str:
    """``"known: <source>"`` or ``"new"``."""
    if not fam.known:
        return "new"
    return f"known: {fam.source if width is None else short(fam.source, width)}"


def family_line(fam: FamilyRecord, rec: ConjectureRecord | None = None) -> str:
    """``family F3 (known: <source> | new), representative #12 PCF(...) = <its claim>; this
    formula: x = <map> (exact | checked to N digits)`` (one line)."""
    rep = fam.representative
    text = f"family F{fam.id} ({family_tag(fam)}, {fam.members:,} members), representative "
    text += "-" if rep is None else f"#{rep.id} {rep.formula_text} = {rep.claim}"
    if rec is None:
        return text
    m = member_map(rec, fam)
    if m is not None and m["check"] == "representative":
        return text + "; this formula is the representative"
    if m is None:
        return text + "; this formula has no map to it"
    return text + f"; this formula: {m['text']} ({m['check']}; x: this limit, y: the " \
                  "representative's)"


def count_conjectures(store: Store, constant: str | None = None, kind: str | None = None,
                      status: str | None = None, min_digits: int | None = None) -> int:
    """How many conjectures :meth:`Store.query` would list without a limit."""
    from discovery.store import _constant_names

    where, params = [], []
    if constant is not None:
        names = sorted(_constant_names(constant))
        where.append(f"constant IN ({','.join('?' * len(names))})")
        params += names
    for column, value in (("kind", kind), ("status", status)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if min_digits is not None:
        where.append("digits >= ?")
        params.append(int(min_digits))
    sql = "SELECT COUNT(*) FROM conjectures" + (" WHERE " + " AND ".join(where) if where else "")
    return store._read(sql, params)[0][0]


def _delta(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def families_table(families: list[FamilyRecord], title: str, caption: str | None = None
                   ) -> rich.table.Table:
    """One row per family: the representative with ITS claim (and the source when known),
    constant, members, best digits, δ, when first found."""
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, show_lines=True)
    table.add_column("family", no_wrap=True)
    table.add_column("representative = its own claim", overflow="fold", ratio=1)
    table.add_column("constant", overflow="fold")
    for col in ("members", "digits", "δ"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("first found", no_wrap=True)
    for f in families:
        cell = f"{short(f.formula_text, 160)}\n= {f.claim}"
        if f.known:
            cell += f"\n({family_tag(f, 50)})"
        table.add_row(f"F{f.id}\n{'known' if f.known else 'new'}", cell, f.constant or "-",
                      f"{f.members:,}", "-" if f.digits is None else str(f.digits),
                      _delta(f.delta), (f.first_found or "-")[:10])
    return table


def members_table(fam: FamilyRecord, members: list[ConjectureRecord],
                  caption: str | None = None) -> rich.table.Table:
    """The members of a family with their OWN claims and their maps to the representative."""
    title = (f"F{fam.id} ({family_tag(fam, 60)}): {short(fam.formula_text, 70)} = "
             f"{fam.claim}, {fam.members:,} members")
    if caption is None and fam.members > len(members):
        caption = f"showing {len(members)} of {fam.members:,} members (db show F{fam.id} --limit N)"
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, show_lines=True)
    table.add_column("member", no_wrap=True)
    table.add_column("digits", justify="right", no_wrap=True)
    table.add_column("formula = its own claim", overflow="fold", ratio=2)
    table.add_column("x = map of the representative's y", overflow="fold", ratio=1)
    for r in members:
        m = member_map(r, fam)
        if m is None:
            how = "-"
        elif m["check"] == "representative":
            how = "the representative"
        else:
            how = f"{m['text']}\n({m['check']})"
        table.add_row(f"#{r.id}\n{r.status}", "-" if r.digits is None else str(r.digits),
                      f"{short(r.formula_text, 160)}\n= {r.claim}", how)
    return table


# --------------------------------------------------------------------------- CSV

CSV_COLUMNS = ("id", "constant", "representative", "claim", "members", "digits", "delta",
               "known", "source", "first_found", "representative_id", "key")


def families_csv(families: list[FamilyRecord]) -> str:
    """One CSV row per family (header :data:`CSV_COLUMNS`); the claim is the
    representative's own."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for f in families:
        rep = f.representative
        w.writerow([f"F{f.id}", f.constant or "", f.formula_text, f.claim, f.members,
                    "" if f.digits is None else f.digits,
                    "" if f.delta is None else f"{f.delta:.6f}", "known" if f.known else "new",
                    f.source or "", f.first_found or "", "" if rep is None else rep.id,
                    f.key])
    return out.getvalue()


# --------------------------------------------------------------------------- LaTeX

_GREEK = {"α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ζ": r"\zeta",
          "π": r"\pi", "φ": r"\varphi", "ϕ": r"\phi", "λ": r"\lambda", "μ": r"\mu"}
_TEXT_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
                  "|": r"\textbar{}"}


def _ascii(ch: str) -> str:
    """A non-ASCII character as ASCII (accents dropped); '' when there is none."""
    return unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()


def latex_text(text: Any) -> str:
    """Text for a LaTeX document: specials escaped, Greek letters as math, other non-ASCII
    characters without their accents (the document needs no extra packages)."""
    out = []
    for ch in str(text):
        if ch in _TEXT_SPECIALS:
            out.append(_TEXT_SPECIALS[ch])
        elif ch in _GREEK:
            out.append(f"${_GREEK[ch]}$")
        elif ch == "…":
            out.append(r"\dots{}")
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append(_latex_escape_plain(_ascii(ch)))
    return "".join(out)


def _latex_escape_plain(text: str) -> str:
    return "".join(_TEXT_SPECIALS.get(ch, ch) for ch in text)


def _latex_math(text: str) -> str:
    """Math from the catalogue (ASCII already); any stray non-ASCII made safe."""
    out = []
    for ch in text:
        if ord(ch) < 128:
            out.append(ch)
        elif ch in _GREEK:
            out.append(_GREEK[ch] + " ")
        elif ch == "…":
            out.append(r"\dots ")
        else:
            out.append(r"\text{" + _latex_escape_plain(_ascii(ch)) + "}")
    return "".join(out)


def _coefficients_latex(rec: ConjectureRecord) -> str | None:
    """``a_n = 4n+2,\\ b_n = 1`` for a PCF (inline math breaks at its + and -)."""
    f = rec.formula if isinstance(rec.formula, dict) else {}
    if rec.kind != "pcf" or "a" not in f or "b" not in f:
        return None
    try:
        from solvers.continued_fractions import PCF

        parts = PCF.from_dict(f).latex(1).split(r"\qquad")
    except Exception:  # no LaTeX for this formula: the CF line alone
        return None
    return parts[1].strip() if len(parts) > 1 else None


def latex_document(store: Store, families: list[FamilyRecord], title: str | None = None
                   ) -> str:
    """A complete LaTeX document (``article`` + ``amsmath``): one entry per family with
    its representative as a continued fraction = its own claim, the coefficients, digits,
    δ, members, when first found and the literature source when known."""
    from discovery.catalogue import conjecture_latex

    title = title or f"Families of formulas in {store.path}"
    lines = [
        r"\documentclass[10pt]{article}",
        r"\usepackage{amsmath}",
        r"\allowdisplaybreaks",
        r"\setlength{\parindent}{0pt}",
        r"\title{" + latex_text(title) + "}",
        r"\date{" + latex_text(f"{len(families)} families") + "}",
        r"\begin{document}",
        r"\maketitle",
        "",
    ]
    if not families:
        lines.append("The store holds no families.")
    for f in families:
        rep = f.representative
        head = f"F{f.id}" + (f" ({f.constant})" if f.constant else "")
        lines.append(r"\subsection*{" + latex_text(head) + "}")
        if rep is None:
            lines.append(latex_text(f"{f.formula_text} = {f.claim}") + r"\par")
        else:
            try:
                body = _latex_math(conjecture_latex(rep))
            except Exception:  # a formula without a LaTeX form: as text
                body = r"\text{" + latex_text(f"{rep.formula_text} = {rep.claim}") + "}"
            lines += [r"\begin{equation*}", body, r"\end{equation*}"]
            coeffs = _coefficients_latex(rep)
            if coeffs:
                lines.append(f"${_latex_math(coeffs)}$" + r"\par")
        facts = [f"representative #{rep.id}" if rep is not None else "no representative",
                 f"{f.members:,} member{'s' if f.members != 1 else ''}"]
        if f.digits is not None:
            facts.append(f"verified to {f.digits} digits")
        text = latex_text("; ".join(facts))
        if f.delta is not None:
            text += f"; $\\delta = {f.delta:.4f}$"
        if f.first_found:
            text += "; " + latex_text(f"first found {f.first_found[:10]}")
        lines.append(text + r"\par")
        lines.append((r"\textbf{Known:} " + latex_text(f.source)) if f.known
                     else r"\textbf{New.}")
        lines.append("")
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- queries


def find_value_report(store: Store, value: str, constant: str | None = None, limit: int = 20
                      ) -> dict:
    """What ``db find --value`` reports.

    Parameters
    ----------
    store : Store
        The conjecture store.
    value : str
        A decimal number.
    constant : str, optional
        Only families of this constant.
    limit : int
        At most this many families.

    Returns
    -------
    dict
        ``{"value", "constant", "matches": [ValueMatch.to_dict() + "value_claim"],
        "identified": Identification.to_dict() or None, "constant_families": [...]}``:
        the families whose limit is a small Möbius image of the value (``value_claim``: the
        value as the image of the representative's own claim); when there is none, what the
        constant catalogue identifies the value as, and the store's families of that
        constant.
    """
    from discovery.catalogue import find_value
    from discovery.families import claim_image

    matches = []
    for m in find_value(store, value, constant=constant, limit=limit):
        d = m.to_dict()
        try:  # what the value is, from the representative's own claim
            d["value_claim"] = claim_image(m.family.claim, m.mobius)
        except Exception:  # a claim that is no expression (a statement): nothing to say
            d["value_claim"] = None
        matches.append(d)
    out: dict = {"value": value, "constant": constant, "matches": matches, "identified": None,
                 "constant_families": []}
    if matches:
        return out
    from discovery.identification import identify

    ident = identify(value.strip())
    out["identified"] = ident.to_dict()
    if ident.found:
        from solvers.constants import canonical_constant

        wanted = [c for c in ident.constants if constant is None
                  or canonical_constant(c) == canonical_constant(constant)]
        for name in wanted:
            fams = store.families(constant=name, limit=limit)
            out["constant_families"] += [f.to_dict() for f in fams]
    return out


def find_formula_report(store: Store, text: str, constant: str | None = None, limit: int = 20
                        ) -> dict:
    """What ``db find --formula`` reports: the conjectures with ``text`` as a(n) or b(n)
    (:func:`discovery.catalogue.find_formula`), grouped by family.

    Parameters
    ----------
    store : Store
        The conjecture store.
    text : str
        A polynomial such as ``4n+2`` (or text of a formula or claim).
    constant : str, optional
        Only conjectures of this constant.
    limit : int
        At most this many families (and 20 conjectures of each).

    Returns
    -------
    dict
        ``{"formula", "constant", "count", "total_families", "families": [{"family",
        "count", "conjectures", "_record", "_members"}]}`` (the ``_`` keys hold the records
        for printing; drop them for JSON).
    """
    from discovery.catalogue import find_formula
    from discovery.store import _constant_names

    records = find_formula(store, text, limit=2000)
    if constant is not None:
        names = _constant_names(constant)
        records = [r for r in records if r.constant in names]
    groups: dict[int | None, list[ConjectureRecord]] = {}
    for r in records:
        groups.setdefault(r.family, []).append(r)
    families = []
    for fid, recs in list(groups.items())[:limit]:
        fam = store.family(fid) if fid is not None else None
        families.append({
            "family": None if fam is None else fam.to_dict(),
            "count": len(recs),
            "conjectures": [member_summary(r, fam) for r in recs[:20]],
            "_record": fam,
            "_members": recs[:20],
        })
    return {"formula": text, "constant": constant, "count": len(records),
            "total_families": len(groups), "families": families}


_FAMILY_REF = re.compile(r"^(?:F|family:)\d+$", re.IGNORECASE)


def resolve_ref(store: Store, ref: str) -> tuple[str, Any]:
    """What ``db show REF`` shows.

    Parameters
    ----------
    store : Store
        The conjecture store.
    ref : str
        A conjecture id or key, a family (``F7``, ``family:7``) or a family's key.

    Returns
    -------
    tuple
        ``("conjecture", ConjectureRecord)`` or ``("family", FamilyRecord)``.

    Raises
    ------
    StoreError
        For a ref that names nothing, and (clearly said) for a key that relations refer to
        but that is not a row of the store.
    """
    ref = ref.strip()
    if _FAMILY_REF.match(ref):
        if sql_int(ref.rpartition(":")[2].lstrip("Ff")) is None:  # beyond any row id
            raise StoreError(f"No family {ref!r} in {store.path}")
        return "family", store.family(ref)
    if ref.isdigit() and sql_int(ref) is None:  # beyond any row id, or no decimal number
        raise StoreError(f"No conjecture {ref!r} in {store.path}")
    try:
        return "conjecture", store.get(ref)
    except StoreError:
        if ref.isdigit():
            raise
    try:  # the key of a family whose canonical representative is not a row yet
        return "family", store.family(ref)
    except StoreError:
        pass
    refs = store.relations(src=ref) + store.relations(dst=ref)
    if refs:
        types = ", ".join(sorted({r.type for r in refs}))
        raise StoreError(
            f"{ref} is not a conjecture of {store.path}: it is only referenced by "
            f"{len(refs)} relation{'s' if len(refs) != 1 else ''} ({types}); the formula "
            "itself was never recorded")
    raise StoreError(f"No conjecture or family {ref!r} in {store.path}")


SENTENCES = 50  # relation sentences per direction in db show


def _other(rec: ConjectureRecord | None) -> dict | None:
    if rec is None:
        return None
    return {k: getattr(rec, k) for k in ("id", "key", "kind", "formula", "formula_text",
                                         "claim", "status", "digits")}


def _get(store: Store, key: str) -> ConjectureRecord | None:
    try:
        return store.get(key)
    except StoreError:
        return None


def relation_sentences(store: Store, rec: ConjectureRecord, out_rel: list, in_rel: list
                       ) -> list[dict]:
    """The relations of ``rec`` (but ``found-by``) as sentences, both formulas with their
    own claims (:func:`discovery.catalogue.relation_sentence`).

    Parameters
    ----------
    store : Store
        The conjecture store.
    rec : ConjectureRecord
        The conjecture.
    out_rel, in_rel : list of RelationRecord
        Its relations from it and to it.

    Returns
    -------
    list of dict
        ``{"direction": "out" | "in", "type", "src", "dst", "map", "other", "text"}``, at
        most :data:`SENTENCES` per direction; ``other`` is the formula at the other end
        (id, key, kind, formula, formula_text, claim, status, digits) or ``None`` when it is
        not a row.
    """
    from discovery.catalogue import relation_sentence

    out = []
    for r in [r for r in out_rel if r.type != "found-by"][:SENTENCES]:
        out.append({"direction": "out", "type": r.type, "src": r.src, "dst": r.dst,
                    "map": r.map, "other": _other(_get(store, r.dst)),
                    "text": relation_sentence(store, rec, r.type, r.dst, r.map)})
    for r in [r for r in in_rel if r.type != "found-by"][:SENTENCES]:
        src = _get(store, r.src)
        text = (relation_sentence(store, src, r.type, rec.key, r.map) if src is not None else
                f"{r.src} (not in the store) -{r.type}-> {rec.formula_text} = {rec.claim}")
        out.append({"direction": "in", "type": r.type, "src": r.src, "dst": r.dst,
                    "map": r.map, "other": _other(src), "text": text})
    return out


def same_file(a: Path, b: Path) -> bool:
    """True if the two paths name the same file (after resolving; hard links too).

    Parameters
    ----------
    a, b : Path
        The paths.

    Returns
    -------
    bool
    """
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.expanduser().resolve() == b.expanduser().resolve()
