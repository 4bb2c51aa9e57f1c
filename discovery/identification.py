"""Identify a number: find a closed form in terms of catalogue constants, with evidence.

:func:`identify` takes a real ``x`` known to ``D`` digits (an mpf, a decimal string, an
interval, an arb ball, or a formula object with a ``limit``/``convergents`` method) and searches,
in this order, stopping at the first relation that passes the evidence rules of
:mod:`solvers.relations`:

1. **algebraic**: ``x`` rational or a root of an integer polynomial of degree ``<= max_degree``
   (``(1+sqrt(5))/2``, ``1+sqrt(2)``);
2. **mobius**: ``x = (c0 + c1 K)/(c2 + c3 K)`` for one basis constant ``K`` at a time
   (``6/zeta(3)``, ``4/(3*pi - 8)``, ``coth(1)`` in ``K = e^2``);
3. **linear**: a small integer relation among ``x``, ``1`` and all constants of the
   multi-constant basis (``3*zeta(3) - 2*pi^2/7``);
4. **mobius_multi**: ``x = (a0 + a1 K1 + a2 K2)/(b0 + b1 K1 + b2 K2)`` for pairs of constants of
   the multi-constant basis.

The relation found is turned into a SymPy expression built from objects made here (never from
user text), simplified, printed as text :func:`solvers.expr.parse_expression` reads back, and
**re-checked**: the text is evaluated independently with
:func:`solvers.expr.evaluate_expression` and must agree with ``x`` to the available digits.

Basis elements are catalogue names (``"zeta3"``, ``"catalan"``) or constant expressions
(``"e^2"``, ``"tan(1)"``, ``"besseli(1,2)/besseli(0,2)"``). The default single-constant basis
(:data:`DEFAULT_BASIS` followed by the rest of the catalogue) contains three such expressions
so that the classical continued fractions are recovered: ``e^2`` (for ``coth 1`` and
``4/(3e^2-21)``), ``tan(1)`` (for ``cot 1``) and the Bessel ratio
``besseli(1,2)/besseli(0,2)`` as *one* basis element (``I0(2)/I1(2)`` is its reciprocal).

Examples
--------
>>> import mpmath
>>> ctx = mpmath.MPContext(); ctx.dps = 50
>>> r = identify(6 / ctx.zeta(3), 50)
>>> r.relation, r.constant, r.outcome
('6/zeta(3)', 'zeta3', 'found')
>>> identify(ctx.pi, 50, basis=("e",)).outcome
'none_below_bound'
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import gmpy2
import mpmath
import sympy

from discovery.identification_inputs import (
    GUARD_DIGITS,
    MAX_DECIMAL_EXPONENT,
    as_number,
    exact_integer,
    read_decimal,
    working_context,
)
from discovery.text import split_top_level
from solvers.balls import evaluate_ball
from solvers.constants import CONSTANTS, get_constant
from solvers.errors import DiscoveryError, PrecisionError
from solvers.expr import (
    evaluate_expression,
    expression_latex,
    expression_to_text,
    parse_expression,
)
from solvers.relations import (
    RelationOutcome,
    RelationResult,
    default_margin,
    find_integer_relation,
    find_polynomial,
    mobius_from_coefficients,
    mobius_relation,
)

__all__ = [
    "Identification",
    "identify",
    "read_decimal",
    "MAX_DECIMAL_EXPONENT",
    "DEFAULT_BASIS",
    "DEFAULT_MULTI_BASIS",
    "default_basis",
]

#: The first constants tried, one at a time, for a Möbius relation (then the rest of the
#: catalogue, see :func:`default_basis`). ``e^2``, ``tan(1)`` and the Bessel ratio are
#: expressions, not catalogue names: they make ``coth 1``, ``cot 1`` and ``I1(2)/I0(2)``
#: (and everything Möbius-equivalent) identifiable.
DEFAULT_BASIS: tuple[str, ...] = (
    "e",
    "pi",
    "zeta3",
    "zeta2",
    "catalan",
    "log2",
    "e^2",
    "lemniscate",
    "gauss",
    "euler_gamma",
    "besseli(1,2)/besseli(0,2)",
    "tan(1)",
)

#: Constants searched together for linear relations and pairwise Möbius relations.
DEFAULT_MULTI_BASIS: tuple[str, ...] = ("pi", "pi^2", "zeta3", "log2", "catalan", "e")

#: Catalogue constants left out of the default basis: each is Möbius-equivalent to one kept
#: (tau, degree ~ pi; silver ~ sqrt2) or algebraic of degree 2 (found by the algebraic stage).
_SKIPPED_BY_DEFAULT = frozenset({"tau", "degree", "silver", "phi", "sqrt2", "sqrt3", "sqrt5"})



def default_basis() -> tuple[str, ...]:
    """:data:`DEFAULT_BASIS`, then every other catalogue constant (minus Möbius duplicates).

    Examples
    --------
    >>> b = default_basis()
    >>> b[:3], "zeta5" in b, "tau" in b
    (('e', 'pi', 'zeta3'), True, False)
    """
    rest = [
        name for name in CONSTANTS if name not in DEFAULT_BASIS and name not in _SKIPPED_BY_DEFAULT
    ]
    return DEFAULT_BASIS + tuple(rest)


# --------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identification:
    """What :func:`identify` found about a number.

    Attributes
    ----------
    found : bool
        Whether an identification passed the evidence rules and the independent re-check.
    relation : str or None
        ``x`` as text :func:`solvers.expr.parse_expression` reads back (``"6/zeta(3)"``).
    expression : sympy.Expr or None
        The same as a SymPy expression.
    constant : str or None
        The basis element involved (``"zeta3"``), comma-separated when several; ``None`` for an
        algebraic number.
    constants : tuple of str
        The basis elements involved.
    kind : str or None
        ``"rational"``, ``"algebraic"``, ``"mobius"``, ``"linear"`` or ``"mobius_multi"``.
    coefficients : tuple of int or None
        ``(c0, c1, c2, c3)`` of ``x = (c0 + c1 K)/(c2 + c3 K)`` for a Möbius relation; the
        polynomial coefficients (ascending powers of ``x``) for an algebraic number; the integer
        relation among ``[x, 1, K1, ..., Km]`` for a linear one and among
        ``[x, x K1, ..., x Km, 1, K1, ..., Km]`` for a multi-constant Möbius relation.
    digits_used, digits_available : float
        Digits needed to write the relation down, and digits of ``x`` available.
    confidence : float
        ``1 - digits_used/digits_available`` (0 when nothing was found).
    outcome : str
        ``"found"``, ``"none_below_bound"`` (every search proved that no relation has
        coefficient norm below ``norm_bound``), ``"ran_out_of_steps"`` or ``"inconclusive"``
        (only noise-level relations, or precision exhausted).
    norm_bound : float or None
        The smallest norm bound over the searches that found nothing.
    value : mpmath.mpf
        ``x`` (at ``digits_available`` + guard digits).
    residual : mpmath.mpf or None
        ``|evaluate(relation) - x|`` from the independent re-check.
    searches : int
        Integer-relation searches run.
    method : str
        ``"pslq"`` or ``"lll"``.
    """

    found: bool
    relation: str | None
    expression: Any
    constant: str | None
    constants: tuple[str, ...]
    kind: str | None
    coefficients: tuple[int, ...] | None
    digits_used: float
    digits_available: float
    confidence: float
    outcome: str
    norm_bound: float | None
    value: Any = field(repr=False)
    residual: Any = None
    searches: int = 0
    method: str = "pslq"

    @property
    def equation(self) -> str | None:
        """``"x = <relation>"``."""
        return None if self.relation is None else f"x = {self.relation}"

    def to_dict(self) -> dict:
        """A JSON-able dict (numbers as text where they are not floats)."""
        return {
            "found": self.found,
            "relation": self.relation,
            "latex": None if self.expression is None else expression_latex(self.expression),
            "constant": self.constant,
            "constants": list(self.constants),
            "kind": self.kind,
            "coefficients": None if self.coefficients is None else list(self.coefficients),
            "digits_used": round(self.digits_used, 3),
            "digits_available": self.digits_available,
            "confidence": round(self.confidence, 4),
            "outcome": self.outcome,
            "norm_bound": _json_float(self.norm_bound),
            "value": mpmath.nstr(self.value, max(1, int(self.digits_available))),
            "residual": None if self.residual is None else mpmath.nstr(self.residual, 5),
            "searches": self.searches,
            "method": self.method,
        }

    def __repr__(self) -> str:
        if self.found:
            return (
                f"Identification(x = {self.relation}; {self.kind}, uses "
                f"{self.digits_used:.1f} of {self.digits_available:g} digits, "
                f"confidence {self.confidence:.2f})"
            )
        bound = "" if self.norm_bound is None else f", norm >= {self.norm_bound:.3g}"
        return (
            f"Identification(not found: {self.outcome}{bound}; {self.searches} searches at "
            f"{self.digits_available:g} digits)"
        )

    def _repr_latex_(self) -> str | None:
        if self.expression is None:
            return None
        return f"$x = {expression_latex(self.expression)}$"


def _json_float(v: float | None) -> float | str | None:
    if v is None:
        return None
    if math.isinf(v) or math.isnan(v):
        return str(v)
    return v



# --------------------------------------------------------------------------------------------
# Basis elements
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _basis_expr(label: str) -> sympy.Expr:
    return parse_expression(label)


@lru_cache(maxsize=512)
def _basis_value(label: str, dps: int) -> Any:
    """A basis element to ``dps`` digits: a catalogue constant, or an expression evaluated in
    ball arithmetic (its digits guaranteed by the radius; an expression whose ball stays wide
    or around zero is refused, with one error, instead of a slow or meaningless value)."""
    try:
        return get_constant(label).evaluate(dps)
    except KeyError:
        pass
    try:
        ball = evaluate_ball(_basis_expr(label), dps)
    except PrecisionError as err:
        raise PrecisionError(f"basis element {label!r}: {err}") from None
    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ball.mpf(ctx)


def _canonical_label(label: str) -> str:
    try:
        return get_constant(label).name
    except KeyError:
        _basis_expr(label)  # raises ParseError for bad text
        return label.strip()


# --------------------------------------------------------------------------------------------
# Turning relations into checked expressions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    kind: str
    expression: sympy.Expr
    constants: tuple[str, ...]
    coefficients: tuple[int, ...]
    result: RelationResult


def _to_text(expr: sympy.Expr) -> str:
    """Readable text for ``expr`` (``1/(e - 2)`` rather than ``1/(-2 + e)``).

    Uses the workbench printer of :mod:`solvers.expr` with SymPy's ``rev-lex`` term order when
    available, else :func:`solvers.expr.expression_to_text`. Either way the text is parsed back
    and evaluated independently before it is reported.
    """
    try:
        from solvers.expr import _TextPrinter

        return _TextPrinter({"order": "rev-lex"}).doprint(expr).replace("**", "^")
    except Exception:  # noqa: BLE001 - a printer detail must never lose an identification
        return expression_to_text(expr)


def _readable(candidates: Sequence[sympy.Expr]) -> sympy.Expr:
    """The candidate whose text has the fewest minus signs, then the shortest."""

    def score(e: sympy.Expr) -> tuple[int, int]:
        text = _to_text(e)
        return (text.count("-"), len(text))

    return min(candidates, key=score)


def _fraction_forms(num: sympy.Expr, den: sympy.Expr) -> sympy.Expr:
    """``num/den`` in its most readable form among a few equivalent ones."""
    forms = [num / den, (-num) / (-den)]
    forms.append(sympy.cancel(sympy.together(num / den)))
    return _readable(forms)


def _algebraic_expression(coeffs: tuple[int, ...], x: Any, dps: int) -> sympy.Expr | None:
    """The root of ``sum c_k t^k`` (ascending) nearest to ``x``, in radicals, if real."""
    t = sympy.Symbol("t")
    poly = sympy.Poly([sympy.Integer(c) for c in reversed(coeffs)], t)
    if poly.degree() == 1:
        a0, a1 = coeffs[0], coeffs[1]
        return sympy.Rational(-a0, a1)
    best, best_err = None, None
    for root in sympy.roots(poly, t, filter=None):
        if root.has(sympy.I) or root.has(sympy.CRootOf):
            continue
        try:
            v = evaluate_expression(root, dps)
        except DiscoveryError:
            continue
        err = abs(v - x)
        if best_err is None or err < best_err:
            best, best_err = root, err
    return best


def _mobius_expression(K: sympy.Expr, c: tuple[int, int, int, int]) -> sympy.Expr:
    c0, c1, c2, c3 = (sympy.Integer(v) for v in c)
    return _fraction_forms(c0 + c1 * K, c2 + c3 * K)


def _check(
    expr: sympy.Expr, x: Any, digits: float, ctx: mpmath.MPContext
) -> tuple[str, Any] | None:
    """Text of ``expr`` and ``|value - x|`` if the independent evaluation agrees with ``x``."""
    text = _to_text(expr)
    try:
        expr_back = parse_expression(text)
    except DiscoveryError:
        text = expression_to_text(expr)
        expr_back = parse_expression(text)
    dps = int(math.ceil(digits)) + 5
    try:
        value = evaluate_expression(expr_back, dps)
    except DiscoveryError:
        return None
    diff = abs(ctx.mpf(value) - x)
    # Relative to |x|: a tiny x (1.2e-999999) is not "0" (the absolute floor is for x = 0).
    scale = abs(x) if x != 0 else ctx.mpf(10) ** -30
    tol = ctx.mpf(10) ** (-(digits - default_margin(digits))) * scale
    if diff > tol:
        return None
    return text, diff


# --------------------------------------------------------------------------------------------
# identify
# --------------------------------------------------------------------------------------------


def identify(
    x: Any,
    digits: float | None = None,
    basis: Sequence[str] | None = None,
    *,
    max_coeff: int | None = None,
    dps: int | None = None,
    method: str = "pslq",
    max_degree: int = 2,
    multi_basis: Sequence[str] | None = None,
    max_used_fraction: float = 0.5,
    depth: int | None = None,
    max_depth: int = 4096,
    progress: Callable[..., None] | None = None,
) -> Identification:
    """Find a closed form for ``x`` among algebraic numbers and the basis constants.

    Parameters
    ----------
    x : mpf, str, (lo, hi), arb, or a formula
        The number: an mpmath number (with ``digits``), a decimal string (its significant
        digits, minus one, are taken as known), an interval of two exact numbers, a
        python-flint ``arb``, or an object with ``limit(depth)`` (a :class:`PCF`: its limit is
        taken at increasing depths until ``digits`` digits are reached) or
        ``convergents(depth)``. An exact integer (an ``int``, or text without a point or an
        exponent such as ``"123456789012345678901234567890"``) is rational: it is identified
        as itself, with no search. Text is read by :func:`read_decimal` (bounded exponent).
    digits : float, optional
        Correct significant digits of ``x`` (``D``). Required for bare numbers; for other
        inputs it caps the digits used.
    basis : sequence of str, optional
        Basis elements: catalogue names or constant expressions. Each is tried alone for a
        Möbius relation; when there are several they are also searched together (linear
        relations; Möbius relations in pairs, up to 8 elements). Default: :func:`default_basis`
        one at a time, then :data:`DEFAULT_MULTI_BASIS` together.
    max_coeff : int, optional
        Norm bound of every integer-relation search (default: the largest norm the
        confidence rule could still accept, see :func:`solvers.relations.default_max_coeff`).
    dps : int, optional
        Working precision for the basis constants (default ``D + 10``).
    method : {"pslq", "lll"}
        Integer-relation algorithm.
    max_degree : int
        Largest degree of the algebraic stage (0 switches it off).
    multi_basis : sequence of str, optional
        Constants for the multi-constant stages (default: ``basis`` when it has several
        elements, :data:`DEFAULT_MULTI_BASIS` when ``basis`` is None).
    max_used_fraction : float
        A relation must use at most this fraction of the ``D`` digits.
    depth, max_depth : int, optional
        Depth of a formula's limit (default: doubling from 32 up to ``max_depth``).
    progress : callable, optional
        Called as ``progress(stage, done=searches_done, total=searches_planned,
        detail=...)`` before each relation search (the result does not depend on it).

    Returns
    -------
    Identification

    Examples
    --------
    >>> import mpmath
    >>> ctx = mpmath.MPContext(); ctx.dps = 60
    >>> identify(4 / (3 * ctx.pi - 8), 60).relation
    '4/(3*pi - 8)'
    >>> identify("1.6180339887498948482045868343656381177203", basis=()).relation
    'sqrt(5)/2 + 1/2'
    >>> r = identify(3 * ctx.zeta(3) - 2 * ctx.pi ** 2 / 7, 60)
    >>> r.relation, r.kind
    ('3*zeta(3) - 2*pi^2/7', 'linear')
    >>> r = identify("123456789012345678901234567890")
    >>> r.relation, r.kind, r.searches
    ('123456789012345678901234567890', 'rational', 0)
    """
    n = exact_integer(x)
    if n is not None:  # an exact integer is rational: nothing to search for
        return _integer_identification(n, method)
    value, D = as_number(x, digits, depth, max_depth)
    if not math.isfinite(D):
        raise PrecisionError("give the number of digits to use for an exact value")
    if D < 4:
        raise PrecisionError(f"only {D:g} digits of x are known: too few to identify it")
    work = int(dps) if dps is not None else int(math.ceil(D)) + GUARD_DIGITS
    ctx = working_context(D)
    xv = ctx.mpf(value)

    if basis is None:
        singles = default_basis()
        multi = tuple(DEFAULT_MULTI_BASIS if multi_basis is None else multi_basis)
    else:
        if isinstance(basis, str):
            basis = split_top_level(basis)
        singles = tuple(basis)
        multi = tuple(singles if multi_basis is None else multi_basis)
    singles = tuple(dict.fromkeys(_canonical_label(b) for b in singles))
    multi = tuple(dict.fromkeys(_canonical_label(b) for b in multi))

    kwargs = {"method": method, "max_used_fraction": max_used_fraction}
    results: list[RelationResult] = []
    planned = (max(max_degree, 0) + len(singles) + (1 if len(multi) >= 2 else 0)
               + (len(multi) * (len(multi) - 1) // 2 if 2 <= len(multi) <= 8 else 0))

    def report(stage: str, detail: str) -> None:
        if progress is not None:
            progress(stage, done=min(len(results), planned), total=planned,
                     detail=f"{detail} ({D:.0f} digits, {method})")

    def finish(cand: _Candidate) -> Identification | None:
        checked = _check(cand.expression, xv, D, ctx)
        if checked is None:
            return None
        text, residual = checked
        r = cand.result
        return Identification(
            found=True,
            relation=text,
            expression=parse_expression(text),
            constant=", ".join(cand.constants) if cand.constants else None,
            constants=cand.constants,
            kind=cand.kind,
            coefficients=cand.coefficients,
            digits_used=r.digits_used,
            digits_available=D,
            confidence=r.confidence,
            outcome=RelationOutcome.FOUND.value,
            norm_bound=r.norm_bound,
            value=xv,
            residual=residual,
            searches=len(results),
            method=method,
        )

    # 1. Algebraic numbers of small degree.
    for degree in range(1, max_degree + 1):
        report("relation searches", f"algebraic of degree {degree}")
        r = find_polynomial(xv, degree, D, max_coeff, **kwargs)
        results.append(r)
        if r.found and r.coefficients is not None and r.coefficients[-1] != 0:
            expr = _algebraic_expression(r.coefficients, xv, work)
            if expr is not None:
                kind = "rational" if degree == 1 else "algebraic"
                got = finish(_Candidate(kind, expr, (), r.coefficients, r))
                if got is not None:
                    return got

    # 2. Möbius in one constant at a time.
    for label in singles:
        report("relation searches", f"Möbius in {label}")
        K = _basis_value(label, work)
        r = mobius_relation(xv, K, D, max_coeff, **kwargs)
        results.append(r)
        if not r.found or r.coefficients is None:
            continue
        m = mobius_from_coefficients(r.coefficients)
        if m is None:
            continue
        coeffs = m.coefficients
        if m.rational is not None:
            q = m.rational
            cand = _Candidate("rational", sympy.Rational(q.numerator, q.denominator), (),
                              coeffs, r)
        else:
            cand = _Candidate("mobius", _mobius_expression(_basis_expr(label), coeffs),
                              (label,), coeffs, r)
        got = finish(cand)
        if got is not None:
            return got

    # 3. Linear relations among x, 1 and several constants.
    if len(multi) >= 2:
        report("relation searches", f"linear in {', '.join(multi)}")
        got = _linear_stage(xv, multi, D, work, max_coeff, kwargs, results, finish)
        if got is not None:
            return got

    # 4. Möbius relations in pairs of constants.
    if 2 <= len(multi) <= 8:
        for pair in itertools.combinations(multi, 2):
            report("relation searches", f"Möbius in {pair[0]} and {pair[1]}")
            got = _mobius_multi(xv, pair, D, work, max_coeff, kwargs, results, finish)
            if got is not None:
                return got

    return _not_found(results, xv, D, method)


def _integer_identification(n: int, method: str) -> Identification:
    """An exact integer, identified as itself (kind ``"rational"``, no search)."""
    digits = float(len(gmpy2.mpz(abs(n)).digits(10)))
    expr = sympy.Integer(n)
    return Identification(
        found=True,
        relation=expression_to_text(expr),
        expression=expr,
        constant=None,
        constants=(),
        kind="rational",
        coefficients=(-n, 1),
        digits_used=0.0,
        digits_available=digits,
        confidence=1.0,
        outcome=RelationOutcome.FOUND.value,
        norm_bound=None,
        value=working_context(digits).mpf(n),
        residual=mpmath.mpf(0),
        searches=0,
        method=method,
    )


def _linear_stage(xv, multi, D, work, max_coeff, kwargs, results, finish):
    group = list(multi)
    while len(group) >= 1:
        Ks = [_basis_value(label, work) for label in group]
        r = find_integer_relation([xv, 1, *Ks], D, max_coeff, **kwargs)
        results.append(r)
        if not r.found or r.coefficients is None:
            return None
        c = r.coefficients
        if c[0] == 0:
            # A relation among the constants themselves: drop one of them and search again.
            involved = [i for i in range(2, len(c)) if c[i] != 0]
            if not involved:  # c[1] * 1 = 0: no relation at all (precision exhausted)
                return None
            drop = max(involved) - 2
            del group[drop]
            continue
        terms = sympy.Integer(c[1]) + sum(
            (sympy.Integer(ci) * _basis_expr(label) for ci, label in zip(c[2:], group,
                                                                          strict=True)),
            sympy.Integer(0),
        )
        expr = sympy.expand(-terms / sympy.Integer(c[0]))
        used = tuple(label for ci, label in zip(c[2:], group, strict=True) if ci)
        return finish(_Candidate("linear", expr, used, c, r))
    return None


def _mobius_multi(xv, labels, D, work, max_coeff, kwargs, results, finish):
    Ks = [_basis_value(label, work) for label in labels]
    ctx = working_context(D)
    vec = [xv] + [xv * ctx.mpf(K) for K in Ks] + [ctx.mpf(1)] + [ctx.mpf(K) for K in Ks]
    r = find_integer_relation(vec, D, max_coeff, **kwargs)
    results.append(r)
    if not r.found or r.coefficients is None:
        return None
    m = len(labels)
    c = r.coefficients
    den_c, num_c = c[: m + 1], c[m + 1:]
    if not any(den_c):
        return None
    syms = [sympy.Integer(1)] + [_basis_expr(label) for label in labels]
    den = sum((sympy.Integer(a) * s for a, s in zip(den_c, syms, strict=True)), sympy.Integer(0))
    num = sum((sympy.Integer(a) * s for a, s in zip(num_c, syms, strict=True)), sympy.Integer(0))
    if den == 0:
        return None
    expr = _fraction_forms(-num, den)
    used = tuple(
        label for i, label in enumerate(labels) if den_c[i + 1] or num_c[i + 1]
    )
    return finish(_Candidate("mobius_multi", expr, used, c, r))


def _not_found(results: list[RelationResult], xv: Any, D: float, method: str) -> Identification:
    outcomes = {r.outcome for r in results}
    if RelationOutcome.RAN_OUT_OF_STEPS in outcomes:
        outcome = RelationOutcome.RAN_OUT_OF_STEPS
    elif outcomes - {RelationOutcome.NONE_BELOW_BOUND}:
        outcome = RelationOutcome.INCONCLUSIVE
    else:
        outcome = RelationOutcome.NONE_BELOW_BOUND
    bounds = [r.norm_bound for r in results if r.outcome is RelationOutcome.NONE_BELOW_BOUND]
    return Identification(
        found=False,
        relation=None,
        expression=None,
        constant=None,
        constants=(),
        kind=None,
        coefficients=None,
        digits_used=0.0,
        digits_available=D,
        confidence=0.0,
        outcome=outcome.value,
        norm_bound=min(bounds) if bounds else None,
        value=xv,
        residual=None,
        searches=len(results),
        method=method,
    )
