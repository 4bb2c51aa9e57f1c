"""``discovery verify``: check a formula of any kind against a claimed closed form.

Wired into the main CLI with ``app.command("verify")(verify_command)``. Exactly one formula
source is given:

* a polynomial continued fraction: ``--a A --b B``;
* a signed continued fraction as ``discovery search esma --json`` prints it: ``--scf JSON``
  (``{"signs": [...], "recurrence": [...], "first_terms": [...]}``; a whole result row
  works, other keys are ignored), or compactly ``--signs 1,-1 --recurrence 1,0,-2
  --terms 2,1``;
* a walk of a conservative matrix field: ``--cmf NAME --trajectory 1,1 --start 1,1``
  (a catalogue name, or a JSON file holding one field);
* a stored conjecture: ``--id N`` (or its key) with ``--db FILE``: re-verified at
  ``--digits`` and the evidence ADDED to the store.

Every mode but ``--id`` needs ``--claim``. The verification is
:func:`discovery.verification.verify` (exact convergents against the claim evaluated
independently); only this module's command line is new.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import typer

from discovery.commands._common import emit_json, user_errors

__all__ = ["verify_command", "FormulaSource", "parse_int_list", "scf_from_json"]

JSON = typer.Option(False, "--json", help="Print one JSON object on stdout.")
DEFAULT_DB = "conjectures.db"  # discovery.store.DEFAULT_DB (not imported: a fast start)

MAX_TEXT = 100_000  # characters of a --scf JSON text or of an integer list
MAX_LEN = 64  # entries of signs, recurrence, first terms
MAX_BITS = 256  # size of one integer of a signed continued fraction
MAX_STEP = 1000  # |component| of a CMF trajectory or start
CF_KINDS = ("pcf", "esma", "cmf")


# --------------------------------------------------------------------------- parsing


def parse_int_list(text: str, what: str, *, max_len: int = MAX_LEN,
                   max_bits: int = MAX_BITS) -> tuple[int, ...]:
    """``"1,-2, 3"`` (or ``"[1, -2, 3]"``/``"(1,-2,3)"``) -> ``(1, -2, 3)``, size-capped.

    Examples
    --------
    >>> parse_int_list("[1, -2, 3]", "--terms")
    (1, -2, 3)
    >>> parse_int_list("1,x", "--terms")
    Traceback (most recent call last):
    ...
    ValueError: --terms must be comma-separated integers like 1,-2,3; got '1,x'
    """
    if len(text) > MAX_TEXT:
        raise ValueError(f"{what} is too long ({len(text)} characters)")
    body = text.strip().strip("()[]").strip()
    items = [s.strip() for s in body.split(",")] if body else []
    if not items or not all(s.lstrip("+-").isascii() and s.lstrip("+-").isdigit()
                            and s.count("-") + s.count("+") <= 1 for s in items):
        raise ValueError(f"{what} must be comma-separated integers like 1,-2,3; "
                         f"got {text[:60]!r}")
    return _checked_ints([int(s) for s in items], what, max_len, max_bits)


def _checked_ints(values: Any, what: str, max_len: int = MAX_LEN,
                  max_bits: int = MAX_BITS) -> tuple[int, ...]:
    if not isinstance(values, (list, tuple)):
        raise ValueError(f"{what} must be a list of integers, got {type(values).__name__}")
    if len(values) > max_len:
        raise ValueError(f"{what} has {len(values)} entries; at most {max_len}")
    for v in values:
        if not isinstance(v, int) or isinstance(v, bool):
            raise ValueError(f"{what} must hold integers only, got {v!r}"[:200])
        if v.bit_length() > max_bits:
            raise ValueError(f"{what}: an integer of {v.bit_length()} bits; at most {max_bits}")
    return tuple(values)


def scf_from_json(text: str) -> dict[str, tuple[int, ...]]:
    """The ``signs``/``recurrence``/``first_terms`` of a ``--scf`` JSON object, validated.

    Examples
    --------
    >>> scf_from_json('{"signs": [1], "recurrence": [1, -1], "first_terms": [1], "lhs": "x"}')
    {'signs': (1,), 'recurrence': (1, -1), 'first_terms': (1,)}
    """
    if len(text) > MAX_TEXT:
        raise ValueError(f"--scf is too long ({len(text)} characters)")
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"--scf is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError('--scf must be a JSON object {"signs": [...], "recurrence": [...], '
                         '"first_terms": [...]}')
    missing = [k for k in ("signs", "recurrence", "first_terms") if k not in data]
    if missing:
        raise ValueError(f"--scf lacks {', '.join(missing)}")
    return {k: _checked_ints(data[k], f"--scf {k}")
            for k in ("signs", "recurrence", "first_terms")}


def _signed_cf(parts: dict[str, tuple[int, ...]]) -> Any:
    from solvers.signed_cf import SignedCFPattern

    if any(s not in (1, -1) for s in parts["signs"]):
        raise ValueError(f"signs must be +1/-1, got {list(parts['signs'])}")
    return SignedCFPattern(parts["signs"], parts["recurrence"], parts["first_terms"])


def _vector(text: str, what: str) -> tuple[int, ...]:
    from discovery.commands.cmf import parse_vector

    if len(text) > 1000:
        raise ValueError(f"{what} is too long")
    v = parse_vector(text, what)
    if any(abs(k) > MAX_STEP for k in v):
        raise ValueError(f"{what}: components must be within ±{MAX_STEP}, got {text!r}")
    return v


@dataclasses.dataclass
class FormulaSource:
    """The one formula a ``verify`` command line names, built."""

    kind: str  # "pcf", "esma", "cmf" or a stored conjecture's kind
    formula: Any  # an object with convergents(depth), or None (a stored non-CF conjecture)
    label: str  # how the plain output names it
    described: dict  # the "formula" entry of the JSON output
    record: Any = None  # the stored conjecture (--id)


def _given(**opts: Any) -> list[str]:
    return [name for name, value in opts.items() if value is not None]


def formula_source(*, a: str | None, b: str | None, scf: str | None, signs: str | None,
                   recurrence: str | None, terms: str | None, cmf: str | None,
                   trajectory: str | None, start: str | None, ref: str | None,
                   db: Path | None, claim: str | None) -> FormulaSource:
    """Check that exactly one formula source is given, and build it (errors: ValueError)."""
    sources = {
        "--a/--b": _given(**{"--a": a, "--b": b}),
        "--scf": _given(**{"--scf": scf, "--signs": signs, "--recurrence": recurrence,
                           "--terms": terms}),
        "--cmf": _given(**{"--cmf": cmf, "--trajectory": trajectory, "--start": start}),
        "--id": _given(**{"--id": ref}),
    }
    named = [k for k, opts in sources.items() if opts]
    if not named:
        raise ValueError("Missing formula: give --a and --b (a PCF), --scf or --signs/"
                         "--recurrence/--terms (a signed continued fraction), --cmf with "
                         "--trajectory and --start (a CMF walk), or --id (a stored conjecture)")
    if len(named) > 1:
        given = ", ".join(o for k in named for o in sources[k])
        raise ValueError(f"give exactly one formula, not several ({given})")
    if db is not None and ref is None:
        raise ValueError("--db is only used with --id (re-verifying a stored conjecture)")
    if ref is None and claim is None:
        raise ValueError("Missing option '--claim' (the claimed limit, e.g. \"6/zeta(3)\")")
    kind = named[0]
    if kind == "--a/--b":
        if a is None or b is None:
            raise ValueError("a PCF needs both --a and --b")
        from solvers.continued_fractions import PCF

        pcf = PCF.from_text(a, b)
        return FormulaSource("pcf", pcf, repr(pcf), {"a": pcf.a_text, "b": pcf.b_text})
    if kind == "--scf":
        compact = (signs, recurrence, terms)
        if scf is not None:
            if any(v is not None for v in compact):
                raise ValueError("give --scf JSON or --signs/--recurrence/--terms, not both")
            parts = scf_from_json(scf)
        else:
            if any(v is None for v in compact):
                raise ValueError("a signed continued fraction needs --signs, --recurrence "
                                 "and --terms (or --scf JSON)")
            parts = {"signs": parse_int_list(signs, "--signs"),
                     "recurrence": parse_int_list(recurrence, "--recurrence", max_len=MAX_LEN + 1),
                     "first_terms": parse_int_list(terms, "--terms")}
        pattern = _signed_cf(parts)
        return FormulaSource("esma", pattern, repr(pattern), pattern.to_dict())
    if kind == "--cmf":
        if cmf is None or trajectory is None or start is None:
            raise ValueError("a CMF walk needs --cmf, --trajectory and --start")
        from discovery.commands.cmf import _load_fields

        fields = _load_fields(cmf)
        if len(fields) != 1:
            raise ValueError(f"{cmf} holds {len(fields)} fields; give one (a catalogue name "
                             f"or a file with one field)")
        name, field, _entry = fields[0]
        walk = field.walk(_vector(trajectory, "--trajectory"), _vector(start, "--start"))
        return FormulaSource("cmf", walk, repr(walk), {
            "cmf": name, "trajectory": list(walk.trajectory),
            "start": [str(v) for v in walk.start]})
    # --id
    if claim is not None:
        raise ValueError("--claim cannot be used with --id: the stored claim is verified")
    return _stored(ref, Path(db if db is not None else DEFAULT_DB))


def _stored(ref: str, db: Path) -> FormulaSource:
    from discovery.store import Store
    from solvers.errors import StoreError

    if not db.is_file():
        raise StoreError(f"No conjecture store at {db}")
    with Store(db, readonly=True) as store:
        rec = store.get(int(ref) if ref.strip().isdigit() else ref.strip())
    formula = None
    if rec.kind in CF_KINDS:
        cand = rec.to_candidate()
        formula = _cf_object(cand.kind, cand.formula)
    label = f"#{rec.id} {rec.formula_text}"
    return FormulaSource(rec.kind, formula, label, rec.formula, record=rec)


def _cf_object(kind: str, formula: Any) -> Any:
    """The continued fraction of a stored pcf/esma/cmf formula (None if unreadable)."""
    try:
        if kind == "pcf":
            from solvers.continued_fractions import PCF

            return PCF.from_dict(formula)
        if kind == "esma":
            from solvers.signed_cf import SignedCFPattern

            return SignedCFPattern.from_dict(formula)
        from solvers.cmf import CMFTrajectory

        return CMFTrajectory.from_dict(formula)
    except (KeyError, TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- the command


def verify_command(
    a: str | None = typer.Option(None, "--a", help='PCF: a(n), e.g. "34n^3+51n^2+27n+5"'),
    b: str | None = typer.Option(None, "--b", help='PCF: b(n), e.g. "-n^6"'),
    scf: str | None = typer.Option(
        None, "--scf", help='signed CF as `search esma --json` prints it: \'{"signs": [1, -1], '
        '"recurrence": [1, 0, -2, 0, 1], "first_terms": [2, 1, 2, 1]}\''),
    signs: str | None = typer.Option(None, "--signs",
                                     help="signed CF, compact: the sign period, e.g. 1,-1"),
    recurrence: str | None = typer.Option(
        None, "--recurrence", help="signed CF, compact: connection polynomial c_0,...,c_L"),
    terms: str | None = typer.Option(
        None, "--terms", help="signed CF, compact: the first L terms a_0,...,a_{L-1}"),
    cmf: str | None = typer.Option(
        None, "--cmf", help="CMF walk: catalogue name (zeta3, ...) or a JSON file of one field"),
    trajectory: str | None = typer.Option(None, "--trajectory", help="CMF walk: e.g. 1,1"),
    start: str | None = typer.Option(None, "--start", help="CMF walk: e.g. 1,1"),
    ref: str | None = typer.Option(
        None, "--id", help="a stored conjecture (id or key): re-verify it at --digits and add "
        "the evidence to the store"),
    db: Path | None = typer.Option(
        None, "--db", help="with --id: the conjecture store (default conjectures.db)"),
    claim: str | None = typer.Option(
        None, "--claim", help='the claimed limit, e.g. "6/zeta(3)" (not with --id)'),
    digits: int = typer.Option(100, "--digits", min=1, max=1_000_000),
    max_depth: int = typer.Option(200_000, "--max-depth", min=32, max=100_000_000),
    max_seconds: float = typer.Option(
        20.0, "--max-seconds", min=0.1, max=1e6,
        help="time budget of the convergents: a deeper one predicted to end later is not "
        "computed (the verdict is then inconclusive, with the reason)"),
    plot: Path | None = typer.Option(None, "--plot", help="write a convergence plot (PNG)"),
    json_: bool = JSON,
) -> None:
    """Verify that a formula converges to CLAIM to DIGITS digits.

    The formula is ONE of: a PCF (--a, --b); a signed continued fraction (--scf JSON, or
    --signs, --recurrence, --terms); a CMF walk (--cmf, --trajectory, --start); a stored
    conjecture (--id, --db), whose stored claim is re-verified and the new evidence added
    to the store. Exit status 1 on a refutation (0 with --json), 2 on bad input.
    """
    from discovery.progress import command_progress

    with user_errors(), command_progress("verify", enabled=not json_) as progress:
        src = formula_source(a=a, b=b, scf=scf, signs=signs, recurrence=recurrence,
                             terms=terms, cmf=cmf, trajectory=trajectory, start=start,
                             ref=ref, db=db, claim=claim)
        if plot is not None and src.formula is None:
            raise ValueError(f"--plot needs a continued fraction, not a {src.kind} conjecture")
        recorded = None
        if src.record is None:
            from discovery.verification import verify as run_verify

            ev = run_verify(src.formula, claim, digits, max_depth=max_depth,
                            max_seconds=max_seconds, progress=progress)
        else:
            ev, recorded = _reverify(src, Path(db if db is not None else DEFAULT_DB), digits,
                                     max_depth, progress)
        if plot is not None:
            from discovery.plots import plot_convergence

            progress.stage("writing the convergence plot")
            plot_convergence(src.formula, _get(ev, "claim") or claim, plot,
                             max(int(_get(ev, "depth") or 0), 16))
    out = _report(src, ev, recorded, plot)
    if json_:
        emit_json(out)
        return
    _print(src, ev, out, digits, plot)
    if out["verdict"] == "refuted":
        raise typer.Exit(1)


def _reverify(src: FormulaSource, db: Path, digits: int, max_depth: int,
              progress: Any) -> tuple[Any, dict]:
    """Verify a stored conjecture again and add the evidence to its store entry."""
    from discovery.store import Store
    from discovery.verifiers import verify_candidate

    rec = src.record
    candidate = dataclasses.replace(rec.to_candidate(), evidence={})  # not a new sighting
    if rec.kind in CF_KINDS:
        ev = verify_candidate(candidate, digits=digits, max_depth=max_depth, progress=progress)
    else:
        ev = verify_candidate(candidate, digits=digits)
    progress.stage(f"recording the evidence in {db}")
    with Store(db) as store:
        cid = store.record(candidate, ev, engine="verify")
        now = store.get(cid)
    return ev, {"db": str(db), "id": now.id, "key": now.key, "status": now.status,
                "digits": now.digits, "evidence_entries": len(now.evidence)}


def _get(ev: Any, name: str) -> Any:
    return ev.get(name) if isinstance(ev, dict) else getattr(ev, name, None)


_REFUTATION = ("formula_value", "claim_value", "difference_log10", "identified")


def _report(src: FormulaSource, ev: Any, recorded: dict | None, plot: Path | None) -> dict:
    from discovery.commands._common import to_jsonable

    ev_dict = to_jsonable(ev if isinstance(ev, dict) else ev.to_dict())
    out: dict[str, Any] = {"kind": src.kind, "formula": src.described}
    if src.record is not None:
        out.update(id=src.record.id, key=src.record.key, claim=src.record.claim)
    out.update(ev_dict)
    for name in _REFUTATION:  # facts of a refutation (also from an Evidence without them)
        value = _get(ev, name)
        if name not in out and value is not None:
            out[name] = to_jsonable(value)
    if recorded is not None:
        out["recorded"] = recorded
    if plot is not None:
        out["plot"] = str(plot)
    return out


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.5f}"


def _print(src: FormulaSource, ev: Any, out: dict, digits: int, plot: Path | None) -> None:
    echo, style = typer.echo, typer.style
    verdict = str(out.get("verdict"))
    color = {"verified": "green", "proven": "green", "refuted": "red"}.get(verdict, "yellow")
    claim = out.get("claim") or ""
    echo(f"{src.label} = {claim}: {style(verdict, fg=color, bold=True)}")
    if isinstance(ev, dict):  # a non-numerical verifier (programs, bounds)
        for key in ("note", "method", "max_error", "verified_claim"):
            if ev.get(key) not in (None, ""):
                echo(f"  {key}: {ev[key]}")
    else:
        if verdict == "refuted":
            _print_refutation(src, ev)
        dpt = _get(ev, "digits_per_term")
        dpt_text = "n/a" if dpt is None else f"{dpt:.4g}"
        echo(f"  digits agreed {ev.digits} (asked {digits}) at depth {ev.depth}; "
             f"{dpt_text} digits/term; δ = {_fmt(ev.delta)}; {ev.seconds:.3f} s")
        if ev.note:
            echo(f"  {ev.note}")
    rec = out.get("recorded")
    if rec is not None:
        digits_text = "" if rec["digits"] is None else f", {rec['digits']} digits"
        echo(f"  recorded in {rec['db']}: conjecture #{rec['id']} is {rec['status']}"
             f"{digits_text} ({rec['evidence_entries']} evidence entries)")
    if plot is not None:
        echo(f"  plot: {plot}")


def _print_refutation(src: FormulaSource, ev: Any) -> None:
    fv, cv = _get(ev, "formula_value") or _get(ev, "value"), _get(ev, "claim_value")
    diff = _get(ev, "difference_log10")
    parts = []
    if fv:
        parts.append(f"formula = {fv}…")
    if cv:
        parts.append(f"claim = {cv}…")
    line = ", ".join(parts)
    if diff is not None:
        line += ("; " if line else "") + f"they differ by 10^{diff:.1f}"
    if line:
        typer.echo(f"  refuted: {line}")
    identified = _get(ev, "identified")
    if identified:
        typer.echo(f"  {src.label} = {identified}, not {ev.claim}")
