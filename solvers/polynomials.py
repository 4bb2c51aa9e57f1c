"""Polynomials with integer coefficients, read from text by the workbench's grammar.

The text is parsed by :mod:`solvers.expr_syntax` (so ``2n^3``, ``-4n(2n-1)`` and
``(2n+1)(3n^2+3n+1)`` are read as people write them) and the syntax tree is expanded into an
exact coefficient list (ascending powers), with :class:`~fractions.Fraction` arithmetic until
the end and the caps of the grammar (degree, exponent and size in bits of every coefficient)
checked at every step. Nothing is handed to ``eval`` or ``sympify``.

Examples
--------
>>> polynomial_coefficients("34n^3+51n^2+27n+5")
(5, 27, 51, 34)
>>> parse_polynomial("n(n+1)")
Poly(n**2 + n, n, domain='ZZ')
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache
from typing import Any

import sympy

from solvers.constants import FUNCTIONS, UnknownConstantError, get_constant
from solvers.errors import ParseError
from solvers.expr_syntax import (
    MAX_BITS,
    MAX_DEGREE,
    MAX_EXPONENT,
    MAX_LENGTH,
    _Node,
    _suggest,
    _syntax_tree,
)

__all__ = ["polynomial_coefficients", "parse_polynomial"]


def _bits(q: Fraction | int) -> int:
    if isinstance(q, int):
        return q.bit_length()
    return max(q.numerator.bit_length(), q.denominator.bit_length())


class _PolyBuilder:
    def __init__(self, text: str, var: str):
        self.text, self.var = text, var

    def error(self, message: str, node: _Node) -> ParseError:
        return ParseError(message, self.text, node.pos)

    def check(self, p: list[Fraction], node: _Node) -> list[Fraction]:
        while len(p) > 1 and p[-1] == 0:
            p.pop()
        if len(p) - 1 > MAX_DEGREE:
            raise self.error(f"degree {len(p) - 1} is above the cap {MAX_DEGREE}", node)
        if max(_bits(c) for c in p) > MAX_BITS:
            raise self.error(f"coefficient larger than {MAX_BITS} bits", node)
        return p

    def build(self, node: _Node) -> list[Fraction]:
        kind = node.kind
        if kind == "num":
            return [node.value]
        if kind == "name":
            if node.value == self.var:
                return [Fraction(0), Fraction(1)]
            raise self.error(self.name_problem(node.value), node)
        if kind == "call":
            raise self.error(
                f"{node.value}(...) is not allowed in a polynomial in {self.var} "
                "with integer coefficients", node)
        if kind == "neg":
            return [-c for c in self.build(node.args[0])]
        if kind == "sum":
            out: list[Fraction] = [Fraction(0)]
            for sign, term in zip(node.value, node.args, strict=True):
                p = self.build(term)
                out.extend([Fraction(0)] * (len(p) - len(out)))
                for k, c in enumerate(p):
                    out[k] += sign * c
            return self.check(out, node)
        if kind == "prod":
            out = [Fraction(1)]
            for op, factor in zip(node.value, node.args, strict=True):
                p = self.build(factor)
                if op == "/":
                    if len(p) > 1:
                        raise self.error(
                            f"division by a polynomial in {self.var}: not a polynomial", factor)
                    if p[0] == 0:
                        raise self.error("division by zero", factor)
                    out = [c / p[0] for c in out]
                else:
                    out = self.check(_poly_mul(out, p, self.error, factor), factor)
            return self.check(out, node)
        if kind == "pow":
            base_node, exp_node = node.args
            base, exponent = self.build(base_node), self.build(exp_node)
            if len(exponent) > 1:
                raise self.error(f"an exponent containing {self.var} is not polynomial", exp_node)
            e = exponent[0]
            if e.denominator != 1:
                raise self.error(f"exponent {e} is not an integer: not a polynomial", exp_node)
            e = e.numerator
            if abs(e) > MAX_EXPONENT:
                raise self.error(f"exponent {e} is above the cap {MAX_EXPONENT}", exp_node)
            if len(base) == 1:
                c = base[0]
                if c == 0 and e < 0:
                    raise self.error("division by zero (0 to a negative power)", node)
                if _bits(c) * abs(e) > MAX_BITS:
                    raise self.error(f"number larger than {MAX_BITS} bits", node)
                return [c**e]
            if e < 0:
                raise self.error(
                    f"negative power of a polynomial in {self.var}: not a polynomial", exp_node)
            if (len(base) - 1) * e > MAX_DEGREE:
                raise self.error(
                    f"degree {(len(base) - 1) * e} is above the cap {MAX_DEGREE}", node)
            width = max(_bits(c) for c in base) + len(base).bit_length()
            if width * e > MAX_BITS:
                raise self.error(f"coefficients larger than {MAX_BITS} bits", node)
            out = [Fraction(1)]
            for _ in range(e):
                out = _poly_mul(out, base, self.error, node)
            return self.check(out, node)
        raise self.error(f"unsupported syntax {kind}", node)  # pragma: no cover

    def name_problem(self, name: str) -> str:
        try:
            c = get_constant(name)
        except UnknownConstantError:
            if name in FUNCTIONS:
                return f"{name} is a function: call it with parentheses"
            return (f"unknown name {name!r} in a polynomial in {self.var}"
                    + _suggest(name, [self.var]))
        return (f"the constant {c.name!r} is not allowed in a polynomial in {self.var} "
                "with integer coefficients")


def _poly_mul(p: list[Fraction], q: list[Fraction], error: Any, node: _Node) -> list[Fraction]:
    if len(p) + len(q) - 2 > MAX_DEGREE:
        raise error(f"degree {len(p) + len(q) - 2} is above the cap {MAX_DEGREE}", node)
    out = [Fraction(0)] * (len(p) + len(q) - 1)
    for i, a in enumerate(p):
        if a:
            for j, b in enumerate(q):
                out[i + j] += a * b
    return out


@lru_cache(maxsize=4096)
def _coefficients(text: str, var: str) -> tuple[int, ...]:
    tree = _syntax_tree(text)
    p = _PolyBuilder(text, var).build(tree)
    while len(p) > 1 and p[-1] == 0:
        p.pop()
    for k, c in enumerate(p):
        if c.denominator != 1:
            raise ParseError(
                f"not a polynomial with integer coefficients: the coefficient of {var}^{k} "
                f"is {c}", text, 0)
    return tuple(int(c) for c in p)


def polynomial_coefficients(text: str | int, var: str = "n") -> tuple[int, ...]:
    """Exact integer coefficients of a polynomial written as text, in ascending powers.

    Parameters
    ----------
    text : str or int
        ``"34n^3+51n^2+27n+5"``, ``"-4n(2n-1)"``, ``"(2n+1)(3n^2+3n+1)"``, ``"2n^5(2n-1)"``...
        ``^`` and ``**`` are powers; a number or a closing parenthesis followed by a name or an
        opening parenthesis multiplies.
    var : str
        The variable's name.

    Returns
    -------
    tuple of int
        ``(c0, c1, ..., cd)`` with trailing zeros stripped; the zero polynomial is ``(0,)``.

    Raises
    ------
    ParseError
        Bad syntax, or not a polynomial with integer coefficients (``1/n``, ``n^(1/2)``,
        ``zeta(3)*n``, ``n/2``), or a cap exceeded (degree above 64, ...).

    Examples
    --------
    >>> polynomial_coefficients("(2n+1)(3n^2+3n+1)")
    (1, 5, 9, 6)
    >>> polynomial_coefficients("n^3+(n+1)^3")
    (1, 3, 3, 2)
    >>> polynomial_coefficients("k(k-1)", var="k")
    (0, -1, 1)
    >>> polynomial_coefficients("(n(n+1) - n^2 - n)/2")
    (0,)
    >>> polynomial_coefficients("n/2")
    Traceback (most recent call last):
    ...
    solvers.errors.ParseError: not a polynomial with integer coefficients: the coefficient of n^1 is 1/2 (at position 0)
    """  # noqa: E501
    if isinstance(text, bool):
        raise ParseError("expected text, got bool", "", None)
    if isinstance(text, int) or type(text).__name__ in ("mpz", "fmpz"):
        return (int(text),)
    if not isinstance(var, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", var):
        raise ParseError(f"bad variable name {var!r}", str(var), None)
    if not isinstance(text, str):
        raise ParseError(f"expected text, got {type(text).__name__}", "", None)
    if len(text) > MAX_LENGTH:
        raise ParseError(f"input longer than {MAX_LENGTH} characters", text[:80], MAX_LENGTH)
    return _coefficients(text, var)


def parse_polynomial(text: str | int, var: str = "n") -> sympy.Poly:
    """A polynomial with integer coefficients, as a ``sympy.Poly`` over ZZ in ``Symbol(var)``.

    See :func:`polynomial_coefficients` for the accepted notation and the errors.

    Examples
    --------
    >>> parse_polynomial("2n^5(2n-1)")
    Poly(4*n**6 - 2*n**5, n, domain='ZZ')
    >>> parse_polynomial("(2n-1)^4").all_coeffs()
    [16, -32, 24, -8, 1]
    """
    coeffs = polynomial_coefficients(text, var)
    return sympy.Poly.from_list(list(reversed(coeffs)), sympy.Symbol(var), domain="ZZ")
