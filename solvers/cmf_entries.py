"""The entries of conservative matrix fields: read safely, then held as exact polynomials.

Entry text is read by the workbench's one safe parser (:func:`parse_entry`, a use of
:func:`solvers.expr.parse_rational_function`), never by ``sympify``. For arithmetic the
entries become python-flint polynomials over Q (``flint.fmpq_mpoly``) in the axes of the
field, and the products of unit steps are :class:`_PMat` objects: a polynomial matrix times a
rational scalar, with small exact helpers (determinant, adjugate, product, reduction of the
common content into the scalar).

Examples
--------
>>> parse_entry("x(x+1)/2", ["x"])
x*(x + 1)/2
>>> ctx = _mpoly_ctx(("x", "y"))
>>> num, den = _sympy_to_mpoly(parse_entry("x/(2y)", ["x", "y"]), sp.symbols("x y"), ctx)
>>> num, den
(x, 2*y)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import flint
import sympy as sp

from solvers.errors import ParseError
from solvers.expr import parse_rational_function

__all__ = ["parse_entry"]

_MAX_TEXT = 20_000
_MAX_NODES = 20_000  # parse nodes of one entry (parentheses nest at most 50 deep)
_MAX_EXPONENT = 64


# --------------------------------------------------------------------------- safe entry parser


def parse_entry(text: str | int, names: Iterable[str]) -> sp.Expr:
    """Read a matrix entry: a rational function of the given variables with rational coefficients.

    The entry is read by the workbench's one safe parser (:mod:`solvers.expr`, see
    :func:`~solvers.expr.parse_rational_function`) with ``names`` as its variables: numbers
    (exact: ``3``, ``1.5``, ``1e-3``, ``2.5E+7``), the names in ``names``, ``+ - * /``,
    parentheses, implicit multiplication (``2x``, ``x(x+1)``) and powers ``^`` or ``**`` with
    a non-negative integer literal exponent (at most 64). Everything else (calls, constants
    such as ``pi``, other names, attributes, Python syntax) is a
    :class:`~solvers.errors.ParseError` naming the position. Nothing is evaluated.

    Parameters
    ----------
    text : str or int
        The entry, e.g. ``"x**3+(x+1)**3+2*y*(y-1)*(2*x+1)"``.
    names : iterable of str
        The allowed variable names (the axes of the field).

    Returns
    -------
    sympy.Expr

    Examples
    --------
    >>> parse_entry("(x+1)^3 - 2*x*y/3", ["x", "y"])
    -2*x*y/3 + (x + 1)**3
    >>> parse_entry("1.5e-1*x", ["x"])
    3*x/20
    >>> parse_entry("__import__('os')", ["x"])
    Traceback (most recent call last):
    ...
    solvers.errors.ParseError: unexpected character "'" (at position 11)
    >>> parse_entry("sin(x)", ["x"])
    Traceback (most recent call last):
    ...
    solvers.errors.ParseError: sin(...) is not allowed in a rational function of x (only numbers, the variables, + - * / and integer powers) (at position 0)
    """  # noqa: E501
    if isinstance(text, int) and not isinstance(text, bool):
        return sp.Integer(text)
    if not isinstance(text, str):
        raise ParseError(f"a matrix entry must be text or an integer, got {type(text).__name__}")
    if len(text) > _MAX_TEXT:
        raise ParseError(f"entry longer than {_MAX_TEXT} characters", text)
    return parse_rational_function(text, tuple(names), max_exponent=_MAX_EXPONENT,
                                   max_length=_MAX_TEXT, max_nodes=_MAX_NODES)


def _as_entry_rows(value: Any, names: Sequence[str]) -> list[list[sp.Expr]]:
    """Rows of entries from a SymPy matrix, nested rows or a flat row-major list."""
    if isinstance(value, (sp.MatrixBase,)):
        return [[sp.sympify(value[i, j]) for j in range(value.cols)] for i in range(value.rows)]
    items = list(value)
    if items and not isinstance(items[0], (list, tuple)):
        r = math.isqrt(len(items))
        if r * r != len(items):
            raise ParseError(f"a flat matrix needs a square number of entries, got {len(items)}")
        items = [items[i * r : (i + 1) * r] for i in range(r)]
    rows = []
    for row in items:
        rows.append(
            [e if isinstance(e, sp.Expr) else parse_entry(e, names) for e in row]
        )
    return rows



# --------------------------------------------------------------------------- flint helpers

_Poly = Any  # flint.fmpq_mpoly


def _mpoly_ctx(names: Sequence[str]) -> Any:
    return flint.fmpq_mpoly_ctx.get(tuple(names), "lex")


def _sympy_to_mpoly(expr: sp.Expr, syms: Sequence[sp.Symbol], ctx: Any) -> tuple[_Poly, _Poly]:
    """``expr`` as ``(numerator, denominator)`` flint polynomials over Q."""
    num, den = sp.fraction(sp.cancel(sp.together(expr)))

    def conv(e: sp.Expr) -> _Poly:
        poly = sp.Poly(e, *syms, domain="QQ")
        terms = {}
        for monom, coeff in poly.terms():
            terms[tuple(int(k) for k in monom)] = flint.fmpq(int(coeff.p), int(coeff.q))
        return ctx.from_dict(terms) if terms else ctx.from_dict({})

    return conv(num), conv(den)


def _mpoly_to_sympy(p: _Poly, syms: Sequence[sp.Symbol]) -> sp.Expr:
    out = sp.Integer(0)
    for monom, coeff in p.to_dict().items():
        q = Fraction(int(coeff.p), int(coeff.q))
        term = sp.Rational(q.numerator, q.denominator)
        for s, k in zip(syms, monom, strict=True):
            if k:
                term *= s ** int(k)
        out += term
    return out


def _det(rows: list[list[Any]]) -> Any:
    n = len(rows)
    if n == 1:
        return rows[0][0]
    if n == 2:
        return rows[0][0] * rows[1][1] - rows[0][1] * rows[1][0]
    total = None
    for j in range(n):
        if rows[0][j] == 0:
            continue
        minor = [r[:j] + r[j + 1 :] for r in rows[1:]]
        term = rows[0][j] * _det(minor)
        if j % 2:
            term = -term
        total = term if total is None else total + term
    return total if total is not None else rows[0][0] * 0


def _adjugate(rows: list[list[Any]]) -> list[list[Any]]:
    n = len(rows)
    if n == 1:
        return [[rows[0][0] * 0 + 1]]
    adj = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            minor = [r[:j] + r[j + 1 :] for k, r in enumerate(rows) if k != i]
            c = _det(minor)
            adj[j][i] = -c if (i + j) % 2 else c
    return adj


def _matmul(A: list[list[Any]], B: list[list[Any]]) -> list[list[Any]]:
    n, m, k = len(A), len(B[0]), len(B)
    out = []
    for i in range(n):
        row = []
        for j in range(m):
            s = A[i][0] * B[0][j]
            for t in range(1, k):
                s = s + A[i][t] * B[t][j]
            row.append(s)
        out.append(row)
    return out


@dataclass
class _PMat:
    """``(num/den) · rows``: a polynomial matrix times a rational scalar (flint mpolys)."""

    rows: list[list[_Poly]]
    num: _Poly
    den: _Poly

    def __mul__(self, other: _PMat) -> _PMat:
        return _PMat(_matmul(self.rows, other.rows), self.num * other.num, self.den * other.den)


def _canonical(m: _PMat) -> _PMat:
    """Move the gcd of the entries into the scalar and reduce the scalar: spurious poles of one
    path (a factor of one step's denominator cancelled by a later step) disappear."""
    nonzero = [e for row in m.rows for e in row if not e.is_zero()]
    if not nonzero:
        return m
    g = nonzero[0]
    for e in nonzero[1:]:
        if g.is_constant():
            break
        g = g.gcd(e)
    rows = m.rows
    num = m.num
    if not g.is_constant():
        rows = [[e / g if not e.is_zero() else e for e in row] for row in rows]
        num = num * g
    h = num.gcd(m.den)
    if not h.is_constant():
        return _PMat(rows, num / h, m.den / h)
    return _PMat(rows, num, m.den)
