"""Families of formulas: which conjectures are the same formula, and the map between them.

A *family* is a set of formulas that are one formula up to transformations carrying no new
mathematics (:mod:`solvers.pcf_families`): inflation/deflation and scaling of a PCF, a change
of sign, shifts ``n -> n + k`` (the Möbius maps of preambles and tails), and the contraction
of a signed continued fraction (ESMA) to a PCF. Every family is named by its *representative*,
the normal form of its PCFs: the simplest PCF reachable by those transformations.

For a candidate, :func:`assign` gives its family: the representative's key, the Möbius map
``member = (A y + B)/(C y + D)`` (``y`` the representative's limit) and how that map was
checked -- ``exact`` for PCF transformations (an identity of convergents, checked on exact
rationals), ``digits`` for an ESMA contraction (both limits recomputed and compared to the
member's verified digits). A formula that is no PCF and contracts to none (a CMF walk, an
evolved program, a bound) is a family of its own.

:func:`companions` lists the formulas a candidate's family needs as rows of their own -- the
PCF an ESMA pattern contracts to and the representative -- each with its OWN claim, the exact
Möbius image of the member's claim. The runner verifies them independently, like any
candidate, and records them in the same transaction as the member.

Examples
--------
>>> from search.base import Candidate
>>> scf = Candidate("esma", "esma:demo", {"signs": [1], "recurrence": [1, -2, 1, 0, 0],
...     "first_terms": [1, 1, 6, 10], "pcf": {"a": [2, 4], "b": [1]}, "mobius": [1, 0, 1, -1]},
...     "(e + 1)/2", "e")                     # [1; 1, 6, 10, 14, ...] = 1 + 1/PCF(4n+2, 1)
>>> a = assign(scf)
>>> a.representative.formula, a.mobius, a.check, a.check_digits
({'a': [2, 4], 'b': [1]}, (1, 0, 1, -1), 'digits', 50)
>>> [(c.kind, c.claim) for c in companions(scf)]   # Euler: [2; 6, 10, 14, ...] = (e+1)/(e-1)
[('pcf', '(e + 1)/(e - 1)')]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import mpmath
import sympy

from search.base import Candidate
from solvers.continued_fractions import PCF
from solvers.errors import DiscoveryError, ParseError
from solvers.expr import evaluate_expression, expression_to_text, parse_expression
from solvers.pcf_families import (
    Mobius,
    check_exact,
    mobius_compose,
    mobius_invert,
    mobius_normalise,
    normal_form,
)

__all__ = ["Assignment", "AnyOf", "assign", "companions", "claim_image", "mobius_display",
           "MAP_CHECK_DIGITS"]

#: Digits to which a numerically checked map (ESMA contraction) is compared.
MAP_CHECK_DIGITS = 50


@dataclass(frozen=True)
class Assignment:
    """The family of one formula.

    Attributes
    ----------
    key : str
        The family's key: the canonical representative's key.
    member : Candidate
        The formula assigned.
    mobius : tuple of int or None
        ``(A, B, C, D)``: member limit ``= (A y + B)/(C y + D)``, ``y`` the representative's
        limit; ``None`` for a formula without a limit (a program, a bound).
    check : str
        ``"identity"`` (the member is the representative), ``"exact"`` (checked on exact
        convergents), ``"digits"`` (both limits recomputed and compared) or ``"none"``.
    check_digits : int or None
        For ``"digits"``: how many digits agreed.
    steps : tuple of str
        The transformations, in words.
    chain : tuple of (PCF, Möbius)
        The PCFs on the way from the member to the representative (the contracted or
        extracted PCF, then the normal form), each with the map ``member = M(its limit)``;
        the last one is the representative. Empty when the member is the representative.
    """

    key: str
    member: Candidate
    mobius: Mobius | None
    check: str
    check_digits: int | None = None
    steps: tuple[str, ...] = ()
    chain: tuple[tuple[PCF, Mobius], ...] = field(default=())

    @property
    def representative(self) -> Candidate:
        """The representative formula with its own claim (the member itself if it is one)."""
        if not self.chain:
            return self.member
        return self._candidate(*self.chain[-1])

    @property
    def via(self) -> tuple[Candidate, ...]:
        """The intermediate PCFs, each with its own claim."""
        return tuple(self._candidate(p, m) for p, m in self.chain[:-1])

    def _candidate(self, pcf: PCF, m: Mobius) -> Candidate:
        claim = claim_image(self.member.claim, mobius_invert(m))
        return Candidate("pcf", pcf.key, pcf.to_dict(), claim, self.member.constant,
                         {"derived": f"exact Möbius image of the claim of {self.member.key}"})

    def to_dict(self) -> dict:
        """What the store keeps for the member (the representative goes by key)."""
        return {
            "family": self.key,
            "mobius": None if self.mobius is None else list(self.mobius),
            "check": self.check,
            "check_digits": self.check_digits,
            "steps": list(self.steps),
        }


# --------------------------------------------------------------------------- claims


def claim_image(claim: str, m: Any) -> str:
    """The claim text of ``(A x + B)/(C x + D)`` where ``x`` is the value of ``claim``.

    Exact: the result is the Möbius image as an expression, simplified (common factors
    cancelled) and printed in the safe parser's grammar.

    Examples
    --------
    >>> claim_image("(e + 1)/2", (1, 1, -1, 1))       # (x + 1)/(1 - x)
    '-(e + 3)/(e - 1)'
    >>> claim_image("6/zeta(3)", (1, 0, 0, 1))
    '6/zeta(3)'
    >>> claim_image("tan(1)", (1, 0, 1, 1))
    'tan(1)/(tan(1) + 1)'
    """
    A, B, C, D = (int(v) for v in m)
    if (A, B, C, D) == (1, 0, 0, 1) or (A, B, C, D) == (-1, 0, 0, -1):
        return claim
    x = parse_expression(claim)
    return _pretty(sympy.cancel((A * x + B) / (C * x + D)))


def _pretty(expr: sympy.Expr) -> str:
    """Print a ratio of integer polynomials in one constant ``K`` as such; else as SymPy does."""
    num, den = sympy.fraction(expr)
    try:
        (pn, pd), info = sympy.parallel_poly_from_expr([num, den])
    except sympy.PolynomialError:
        return expression_to_text(expr)
    gens = info["gens"]
    if len(gens) == 1 and pn.domain == sympy.ZZ and max(pn.degree(), pd.degree()) <= 2:
        return _ratio_text(pn, pd, expression_to_text(gens[0]))
    return expression_to_text(expr)


def _poly_text(p: sympy.Poly, K: str) -> tuple[str, int]:
    coeffs = [int(c) for c in reversed(p.all_coeffs())]  # ascending
    terms = []
    for power in range(len(coeffs) - 1, -1, -1):
        c = coeffs[power]
        if c == 0:
            continue
        mono = "" if power == 0 else K if power == 1 else f"{K}^{power}"
        mag = abs(c)
        body = str(mag) if not mono else (mono if mag == 1 else f"{mag}*{mono}")
        terms.append(("-" if c < 0 else "+", body))
    if not terms:
        return "0", 1
    text = ("-" if terms[0][0] == "-" else "") + terms[0][1]
    for sign, body in terms[1:]:
        text += f" {sign} {body}"
    return text, len(terms)


def _ratio_text(pn: sympy.Poly, pd: sympy.Poly, K: str) -> str:
    if not all(ch.isalnum() or ch in "_()," for ch in K):
        K = f"({K})"
    lead = [int(c) for c in pd.all_coeffs() if int(c) != 0]
    if lead and lead[0] < 0:
        pn, pd = -pn, -pd
    sign = ""
    if all(int(c) <= 0 for c in pn.all_coeffs()) and not pn.is_zero:
        pn, sign = -pn, "-"
    n_text, n_terms = _poly_text(pn, K)
    d_text, d_terms = _poly_text(pd, K)
    if d_text == "1":
        return sign + n_text if n_terms == 1 or not sign else f"-({n_text})"
    if n_terms > 1:
        n_text = f"({n_text})"
    n_text = sign + n_text
    if d_terms > 1 or "*" in d_text or "^" in d_text:
        d_text = f"({d_text})"
    return f"{n_text}/{d_text}"


def mobius_display(m: Any, y: str = "y") -> str:
    """``(A y + B)/(C y + D)`` as short text.

    Examples
    --------
    >>> mobius_display((1, 1, 0, 2)), mobius_display((1, 0, 0, 1)), mobius_display((0, 2, 1, -2))
    ('(y + 1)/2', 'y', '2/(y - 2)')
    """
    A, B, C, D = (int(v) for v in m)
    k = sympy.Symbol(y)
    return _ratio_text(sympy.Poly(A * k + B, k), sympy.Poly(C * k + D, k), y)


# --------------------------------------------------------------------------- assignment


def assign(candidate: Candidate) -> Assignment:
    """The family of ``candidate`` (see the module docstring)."""
    return _assign(candidate.kind, candidate.key, _freeze(candidate.formula), candidate.claim,
                   candidate.constant)


def _freeze(obj: Any) -> Any:
    if isinstance(obj, dict):
        return ("$dict", tuple(sorted((k, _freeze(v)) for k, v in obj.items())))
    if isinstance(obj, list | tuple):
        return ("$list", tuple(_freeze(v) for v in obj))
    return obj


def _thaw(obj: Any) -> Any:
    if isinstance(obj, tuple) and len(obj) == 2 and obj[0] == "$dict":
        return {k: _thaw(v) for k, v in obj[1]}
    if isinstance(obj, tuple) and len(obj) == 2 and obj[0] == "$list":
        return [_thaw(v) for v in obj[1]]
    return obj


@lru_cache(maxsize=65536)
def _assign(kind: str, key: str, frozen: Any, claim: str, constant: str | None) -> Assignment:
    formula = _thaw(frozen)
    me = Candidate(kind, key, formula if isinstance(formula, dict) else {}, claim, constant)
    f = me.formula
    try:
        if kind == "pcf" and "a" in f and "b" in f:
            return _assign_pcf(me, PCF.from_dict(f))
        if kind == "esma" and isinstance(f.get("pcf"), dict):
            from solvers.signed_cf import SignedCFPattern

            pcf = PCF.from_dict(f["pcf"])
            m1 = mobius_normalise(f.get("mobius") or (1, 0, 0, 1))
            return _assign_via(me, SignedCFPattern.from_dict(f), pcf, m1, "contracts to")
        if kind == "cmf" and "cmf" in f and "trajectory" in f:
            from solvers.cmf import CMFTrajectory

            walk = CMFTrajectory.from_dict(f)
            ext = walk.pcf()
            if ext.mobius is not None:
                (A, B), (C, D) = ext.mobius
                return _assign_via(me, walk, ext.pcf, mobius_normalise((A, B, C, D)),
                                   "walk of")
    except (DiscoveryError, ValueError, KeyError, TypeError, ZeroDivisionError):
        pass
    limitless = kind in ("program", "bound")
    return Assignment(key, me, None if limitless else (1, 0, 0, 1),
                      "none" if limitless else "identity")


def _assign_pcf(me: Candidate, pcf: PCF) -> Assignment:
    nf = normal_form(pcf)
    if nf.is_identity or not check_exact(pcf, nf):  # (the check cannot fail: identities)
        return Assignment(pcf.key, me, (1, 0, 0, 1), "identity")
    return Assignment(nf.pcf.key, me, nf.mobius, "exact", None, nf.steps,
                      ((nf.pcf, nf.mobius),))


def _assign_via(me: Candidate, formula: Any, pcf: PCF, m1: Mobius, words: str) -> Assignment:
    """A member whose limit is ``m1`` of a PCF's limit (ESMA contraction, CMF extraction)."""
    nf = normal_form(pcf)
    total = mobius_compose(m1, nf.mobius)
    try:
        agreed, wanted = _agreement(formula, nf.pcf, total, MAP_CHECK_DIGITS)
    except (DiscoveryError, ValueError, ZeroDivisionError):
        agreed, wanted = 0, MAP_CHECK_DIGITS
    if agreed < max(10, wanted - 5):  # the map is not confirmed: the member stands alone
        return Assignment(me.key, me, (1, 0, 0, 1), "identity")
    steps = (f"{words} {pcf!r}", *nf.steps)
    chain = ((pcf, m1),) if nf.is_identity else ((pcf, m1), (nf.pcf, total))
    return Assignment(nf.pcf.key, me, total, "digits", agreed, steps, chain)


def _value(formula: Any, digits: int, max_depth: int = 4096) -> tuple[Any, int]:
    """The limit of a continued fraction to about ``digits`` digits (depth doubled until then,
    at most ``max_depth``) and the digits its error estimate supports."""
    depth = 32
    while True:
        lim = formula.limit(depth)
        if lim.digits >= digits or depth >= max_depth:
            return lim.value, int(lim.digits)
        depth *= 2


@lru_cache(maxsize=4096)
def _pcf_value(a: tuple[int, ...], b: tuple[int, ...], digits: int) -> tuple[Any, int]:
    """:func:`_value` of a PCF, cached: many members share a representative."""
    return _value(PCF(a, b), digits)


def _agreement(member: Any, rep: PCF, m: Mobius, digits: int) -> tuple[int, int]:
    """Digits on which the member's limit and ``m`` of the representative's limit agree, and
    how many digits the two limits supported."""
    x, dx = _value(member, digits + 5)
    y, dy = _pcf_value(rep.a, rep.b, digits + 5)
    wanted = max(0, min(digits, dx - 3, dy - 3))
    ctx = mpmath.MPContext()
    ctx.dps = digits + 15
    x, y = ctx.mpf(x), ctx.mpf(y)
    A, B, C, D = m
    den = C * y + D
    if den == 0:
        return 0, wanted
    diff = abs(x - (A * y + B) / den)
    if diff == 0:
        return wanted, wanted
    return max(0, min(wanted, int(-float(ctx.log10(diff / max(1, abs(x))))))), wanted


class AnyOf:
    """``key in AnyOf(a, b, ...)``: the key is in one of the containers (a store, a set, ...).

    Examples
    --------
    >>> "x" in AnyOf({"a"}, {"x": 1}), "y" in AnyOf({"a"})
    (True, False)
    """

    def __init__(self, *containers: Any) -> None:
        self.containers = containers

    def __contains__(self, key: object) -> bool:
        return any(key in c for c in self.containers)


def companions(candidate: Candidate, known: Any = ()) -> list[Candidate]:
    """The formulas ``candidate``'s family needs as rows of their own, each with its own claim.

    The PCF an ESMA pattern contracts to (or a CMF walk reduces to) and the family's
    representative, when they differ from the candidate itself and are not in ``known``
    (a set of keys, or a store); empty otherwise.
    """
    a = assign(candidate)
    out: list[Candidate] = []
    for pcf, m in a.chain:
        if pcf.key != candidate.key and pcf.key not in known and all(
            c.key != pcf.key for c in out
        ):
            out.append(a._candidate(pcf, m))
    return out


def claim_value(claim: str, dps: int) -> Any:
    """The value of a claim at ``dps`` digits, or ``None`` if it cannot be evaluated."""
    try:
        return evaluate_expression(parse_expression(claim), dps)
    except (ParseError, DiscoveryError, ValueError, ZeroDivisionError):
        return None


def digits_text(x: Any, digits: int = 20) -> str:
    """A short decimal of ``x``."""
    return mpmath.nstr(x, digits) if x is not None and math.isfinite(float(x)) else "?"
