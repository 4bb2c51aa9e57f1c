"""A safe parser for polynomials in ``n`` and for constant expressions.

User text is never handed to ``eval``, ``sympify`` or ``parse_expr``. A small tokenizer and a
recursive-descent parser (with implicit multiplication as people write it: ``2n^3``,
``-4n(2n-1)``, ``(2n+1)(3n^2+3n+1)``, ``2pi``) build a private syntax tree under fixed caps
(length, nesting depth, node count, literal size, exponent size, size of every exact number);
the tree is then turned into exact integer coefficients (:func:`parse_polynomial`) or into SymPy
objects built directly (:func:`parse_expression`). Names are looked up in fixed tables only: the
constants catalogue and the function table of :mod:`solvers.constants`.

Representation of catalogue constants in SymPy (one scheme everywhere):

* ``e``, ``pi``, ``euler_gamma``, ``catalan``, ``phi`` are SymPy's own ``E``, ``pi``,
  ``EulerGamma``, ``Catalan``, ``GoldenRatio``;
* families become the SymPy expressions they name: ``zeta3`` -> ``zeta(3)`` (kept unevaluated,
  so ``zeta(2)`` stays ``zeta(2)``), ``log2`` -> ``log(2)``, ``sqrt5`` -> ``sqrt(5)``,
  ``cbrt2`` -> ``2**(1/3)``;
* every other constant is ``Symbol(canonical_name, positive=True)`` (see :func:`constant_expr`).

Function calls are built unevaluated (``sin(pi)`` stays ``sin(pi)``): SymPy's automatic
evaluation of e.g. ``gamma(10^1000)`` would compute a factorial. :func:`evaluate_expression`
evaluates any such expression through the catalogue in local mpmath contexts, never with SymPy's
``evalf``.

Examples
--------
>>> polynomial_coefficients("34n^3+51n^2+27n+5")
(5, 27, 51, 34)
>>> polynomial_coefficients("-4n(2n-1)")
(0, 4, -8)
>>> x = parse_expression("6/zeta(3)")
>>> expression_to_text(x)
'6/zeta(3)'
>>> str(evaluate_expression(x, 30))
'4.99144423548424481209875767293'
>>> expression_latex("2+lemniscate")
'\\\\varpi + 2'
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

import gmpy2
import mpmath
import sympy
from mpmath.libmp import NoConvergence
from sympy.printing.str import StrPrinter

from solvers.constants import (
    FUNCTIONS,
    EvaluationError,
    UnknownConstantError,
    _unknown_message,
    get_constant,
    local_context,
)
from solvers.errors import DiscoveryError, ParseError, PrecisionError

__all__ = [
    "ParseError",
    "EvaluationError",
    "parse_polynomial",
    "polynomial_coefficients",
    "parse_expression",
    "parse_rational_function",
    "evaluate_expression",
    "expression_to_text",
    "expression_latex",
    "constant_expr",
    "constants_in",
    "MAX_LENGTH",
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_LITERAL_DIGITS",
    "MAX_EXPONENT",
    "MAX_DEGREE",
    "MAX_BITS",
]

#: Longest accepted input, in characters.
MAX_LENGTH = 2000
#: Deepest nesting of parentheses, calls and exponents.
MAX_DEPTH = 50
#: Most syntax-tree nodes in one input.
MAX_NODES = 1000
#: Most digits in one numeric literal.
MAX_LITERAL_DIGITS = 1000
#: Largest |exponent| of a numeric power (and largest |x| in ``exp(x)``).
MAX_EXPONENT = 1000
#: Largest degree of a parsed polynomial.
MAX_DEGREE = 64
#: Largest size in bits of any exact integer (numerator or denominator) built while parsing.
MAX_BITS = 10000
#: Total bits of the rationals that may sit under fractional powers (SymPy's radical
#: simplification factors them: the budget keeps it fast).
MAX_RADICAL_BITS = 256
#: Largest magnitude (in bits of the binary exponent) of any intermediate real in an evaluation.
MAX_MAGNITUDE_BITS = 100000


# ---------------------------------------------------------------------------------------------
# Tokens and the syntax tree

_TOKEN_RE = re.compile(
    r"(?P<space>[ \t\r\n]+)"
    r"|(?P<num>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[-+*/^(),])"
)


@dataclass(frozen=True)
class _Token:
    kind: str  # "num", "name", "op", "end"
    text: str
    pos: int


@dataclass(frozen=True)
class _Node:
    kind: str  # "num", "name", "call", "neg", "sum", "prod", "pow"
    pos: int
    value: Any = None  # Fraction (num), str (name, call), tuple of signs/ops (sum, prod)
    args: tuple = ()


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos, end = 0, len(text)
    while pos < end:
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            ch = text[pos]
            raise ParseError(f"unexpected character {ch!r}", text, pos)
        kind = m.lastgroup
        if kind != "space":
            tok = m.group()
            tokens.append(_Token("op", "^" if tok == "**" else tok, pos) if kind == "op"
                          else _Token(kind, tok, pos))
        pos = m.end()
    tokens.append(_Token("end", "", end))
    return tokens


class _Parser:
    """Recursive descent over the token list; every recursion passes a depth check."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.nodes = 0

    # -- helpers
    def error(self, message: str, pos: int | None = None) -> ParseError:
        return ParseError(message, self.text, self.peek().pos if pos is None else pos)

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def is_op(self, *ops: str) -> bool:
        tok = self.tokens[self.i]
        return tok.kind == "op" and tok.text in ops

    def node(self, kind: str, pos: int, value: Any = None, args: tuple = ()) -> _Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.error(f"expression too large (more than {MAX_NODES} nodes)", pos)
        return _Node(kind, pos, value, args)

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"nesting deeper than {MAX_DEPTH}", pos)

    # -- grammar
    def parse(self) -> _Node:
        tree = self.expr()
        tok = self.peek()
        if tok.kind != "end":
            if tok.text == ")":
                raise self.error("unmatched ')'")
            raise self.error(f"unexpected {tok.text!r}")
        return tree

    def expr(self) -> _Node:
        """sum := term (('+' | '-') term)*"""
        self.enter(self.peek().pos)
        start = self.peek().pos
        terms, signs = [self.term()], [1]
        while self.is_op("+", "-"):
            signs.append(1 if self.take().text == "+" else -1)
            terms.append(self.term())
        self.depth -= 1
        if len(terms) == 1:
            return terms[0]
        return self.node("sum", start, tuple(signs), tuple(terms))

    def term(self) -> _Node:
        """prod := unary (('*' | '/') unary | <implicit> power)*"""
        start = self.peek().pos
        factors, ops = [self.unary()], ["*"]
        while True:
            tok = self.peek()
            if self.is_op("*", "/"):
                ops.append(self.take().text)
                factors.append(self.unary())
            elif tok.kind == "name" or self.is_op("("):
                ops.append("*")  # implicit multiplication: 2n, 3(e-1), n(n+1), (n+1)(n+2)
                factors.append(self.power())
            elif tok.kind == "num":
                raise self.error("missing operator before a number")
            else:
                break
        if len(factors) == 1:
            return factors[0]
        return self.node("prod", start, tuple(ops), tuple(factors))

    def unary(self) -> _Node:
        """unary := ('+' | '-')* power   (so -n^2 is -(n^2))"""
        negative, signs = False, []
        while self.is_op("+", "-"):
            tok = self.take()
            signs.append(tok.pos)
            negative ^= tok.text == "-"
        operand = self.power()
        return self.node("neg", signs[0], None, (operand,)) if negative else operand

    def power(self) -> _Node:
        """power := primary ('^' unary)?   (right associative: 2^3^2 = 2^9)"""
        base = self.primary()
        if not self.is_op("^"):
            return base
        tok = self.take()
        self.enter(tok.pos)
        exponent = self.unary()
        self.depth -= 1
        return self.node("pow", tok.pos, None, (base, exponent))

    def primary(self) -> _Node:
        tok = self.peek()
        if tok.kind == "num":
            self.take()
            return self.node("num", tok.pos, self.number(tok))
        if tok.kind == "name":
            self.take()
            if self.is_op("(") and tok.text in _FUNCTION_NAMES:
                return self.call(tok)
            # A name before "(" multiplies (n(n+1)); remember it for a better error message.
            return self.node("name", tok.pos, tok.text, ("(",) if self.is_op("(") else ())
        if self.is_op("("):
            self.take()
            inner = self.expr()
            if not self.is_op(")"):
                raise self.error("missing ')'" if self.peek().kind == "end" else
                                 f"expected ')' but found {self.peek().text!r}")
            self.take()
            return inner
        if tok.kind == "end":
            raise self.error("unexpected end of input")
        raise self.error(f"unexpected {tok.text!r}")

    def call(self, name: _Token) -> _Node:
        self.take()  # "("
        self.enter(name.pos)
        if self.is_op(")"):
            raise self.error(f"{name.text}() needs an argument")
        args = [self.expr()]
        while self.is_op(","):
            self.take()
            args.append(self.expr())
        if not self.is_op(")"):
            raise self.error("missing ')'" if self.peek().kind == "end" else
                             f"expected ',' or ')' but found {self.peek().text!r}")
        self.take()
        self.depth -= 1
        arity = _FUNCTION_NAMES[name.text]
        if len(args) != arity:
            raise self.error(
                f"{name.text} takes {arity} argument{'s' if arity > 1 else ''}, "
                f"got {len(args)}", name.pos)
        return self.node("call", name.pos, name.text, tuple(args))

    def number(self, tok: _Token) -> Fraction:
        """A literal, exactly: ``12``, ``1.5``, ``.5``, and scientific notation ``1e-40``,
        ``2.5E+7`` (so ``2e-1`` is 0.2; write ``2*e - 1`` or ``2 e - 1`` for 2e - 1)."""
        mantissa, _, exponent = tok.text.lower().partition("e")
        whole, _, frac = mantissa.partition(".")
        if len(whole) + len(frac) > MAX_LITERAL_DIGITS:
            raise self.error(f"number literal longer than {MAX_LITERAL_DIGITS} digits", tok.pos)
        shift = int(exponent) if exponent else 0
        if abs(shift) > MAX_LITERAL_DIGITS:
            raise self.error(f"exponent of a number literal beyond +-{MAX_LITERAL_DIGITS}",
                             tok.pos)
        value = Fraction(int(whole or "0") * 10 ** len(frac) + int(frac or "0"), 10 ** len(frac))
        return value * Fraction(10) ** shift


# Parser-level function table: name -> arity ("ln" is log).
_FUNCTION_NAMES: dict[str, int] = {name: f.arity for name, f in FUNCTIONS.items()}


def _syntax_tree(text: Any) -> _Node:
    if not isinstance(text, str):
        raise ParseError(f"expected text, got {type(text).__name__}", "", None)
    if len(text) > MAX_LENGTH:
        raise ParseError(f"input longer than {MAX_LENGTH} characters", text[:80], MAX_LENGTH)
    if not text.strip():
        raise ParseError("empty input", text, 0)
    return _Parser(text).parse()


# ---------------------------------------------------------------------------------------------
# Polynomials: exact coefficient lists (ascending powers), Fractions until the end.


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


def _suggest(name: str, extra: Sequence[str] = ()) -> str:
    message = _unknown_message(name)
    _, sep, tail = message.partition("; ")
    close = [v for v in extra if v.lower() == name.lower() or name.startswith(v)]
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; {tail}" if sep else ""


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


# ---------------------------------------------------------------------------------------------
# Constant expressions: SymPy objects built directly


_NATIVE: dict[str, Any] = {
    "e": sympy.E,
    "pi": sympy.pi,
    "euler_gamma": sympy.EulerGamma,
    "catalan": sympy.Catalan,
    "phi": sympy.GoldenRatio,
}
_NATIVE_BY_CLASS: dict[str, str] = {
    "Exp1": "e",
    "Pi": "pi",
    "EulerGamma": "euler_gamma",
    "Catalan": "catalan",
    "GoldenRatio": "phi",
}
_FAMILY_NAME = re.compile(r"^(zeta|log|sqrt|cbrt)(\d+)$")

_agm = sympy.Function("agm")


def constant_expr(name: str) -> sympy.Expr:
    """The SymPy form of a catalogue constant (the scheme the parser uses).

    Parameters
    ----------
    name : str
        Any name :func:`solvers.constants.get_constant` accepts.

    Examples
    --------
    >>> constant_expr("apery"), constant_expr("golden"), constant_expr("ln2")
    (zeta(3), GoldenRatio, log(2))
    >>> constant_expr("khinchin").is_positive
    True
    """
    canonical = get_constant(name).name
    if canonical in _NATIVE:
        return _NATIVE[canonical]
    m = _FAMILY_NAME.match(canonical)
    if m:
        family, k = m.group(1), sympy.Integer(int(m.group(2)))
        if family == "zeta":
            return sympy.zeta(k, evaluate=False)
        if family == "log":
            return sympy.log(k, evaluate=False)
        return sympy.Pow(k, sympy.Rational(1, 2 if family == "sqrt" else 3))
    return sympy.Symbol(canonical, positive=True)


def _call(name: str, args: list[sympy.Expr]) -> sympy.Expr:
    kw = {"evaluate": False}
    if name in ("log", "ln"):
        return sympy.log(args[0], **kw)
    if name == "log2":
        return sympy.Mul(sympy.log(args[0], **kw), sympy.Pow(sympy.log(2, **kw), -1))
    if name == "agm":
        return _agm(*args, **kw)
    if name == "abs":
        return sympy.Abs(args[0], **kw)
    if name == "ei":
        return sympy.Ei(args[0], **kw)
    return getattr(sympy, name)(*args, **kw)


def _rational_atoms_bits(expr: sympy.Expr) -> int:
    if isinstance(expr, sympy.Rational):
        return max(int(expr.p).bit_length(), int(expr.q).bit_length())
    return max((_rational_atoms_bits(a) for a in expr.args), default=0)


class _SympyBuilder:
    def __init__(self, text: str, variables: tuple[str, ...]):
        self.text = text
        self.variables = {v: sympy.Symbol(v) for v in variables}
        self.radical_bits = 0

    def error(self, message: str, node: _Node) -> ParseError:
        return ParseError(message, self.text, node.pos)

    def check(self, value: sympy.Expr, node: _Node) -> sympy.Expr:
        if value.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
            raise self.error("the expression is infinite or undefined", node)
        if value.has(sympy.I):
            raise self.error("complex values are not supported", node)
        if _rational_atoms_bits(value) > MAX_BITS:
            raise self.error(f"number larger than {MAX_BITS} bits", node)
        return value

    def build(self, node: _Node) -> sympy.Expr:
        kind = node.kind
        if kind == "num":
            q = node.value
            return sympy.Rational(q.numerator, q.denominator)
        if kind == "name":
            return self.name(node)
        if kind == "neg":
            return self.check(-self.build(node.args[0]), node)
        if kind == "sum":
            terms = [s * self.build(t) for s, t in zip(node.value, node.args, strict=True)]
            return self.check(sympy.Add(*terms), node)
        if kind == "prod":
            factors = []
            for op, f in zip(node.value, node.args, strict=True):
                x = self.build(f)
                if op == "/":
                    if x == 0:
                        raise self.error("division by zero", f)
                    x = self.power(x, sympy.Integer(-1), f)
                factors.append(x)
            return self.check(sympy.Mul(*factors), node)
        if kind == "pow":
            base = self.build(node.args[0])
            exponent = self.build(node.args[1])
            return self.check(self.power(base, exponent, node), node)
        if kind == "call":
            args = [self.build(a) for a in node.args]
            if node.value == "exp":
                return self.check(self.power(sympy.E, args[0], node, call=True), node)
            if node.value in ("sqrt", "cbrt"):
                r = sympy.Rational(1, 2 if node.value == "sqrt" else 3)
                return self.check(self.power(args[0], r, node), node)
            return self.check(_call(node.value, args), node)
        raise self.error(f"unsupported syntax {kind}", node)  # pragma: no cover

    def name(self, node: _Node) -> sympy.Expr:
        name = node.value
        if name in self.variables:
            return self.variables[name]
        try:
            expr = constant_expr(name)
        except UnknownConstantError:
            if name in FUNCTIONS:
                raise self.error(f"{name} is a function: call it with parentheses, "
                                 f"e.g. {name}(1)", node) from None
            if node.args:  # written as a call
                close = difflib.get_close_matches(name, sorted(FUNCTIONS), n=3, cutoff=0.6)
                hint = f"; did you mean {', '.join(map(repr, close))}?" if close else (
                    f"; the functions are {', '.join(sorted(FUNCTIONS))}")
                raise self.error(f"unknown function {name!r}" + hint, node) from None
            if len(name) == 1 and not self.variables:
                raise self.error(f"unknown name {name!r}: a constant expression has no "
                                 "variables", node) from None
            raise self.error(f"unknown name {name!r}" + _suggest(name, list(self.variables)),
                             node) from None
        if isinstance(expr, sympy.Pow):  # sqrt<k>, cbrt<k>: a radical
            self.spend_radical(expr.base, node)
        return expr

    def spend_radical(self, base: sympy.Expr, node: _Node) -> None:
        self.radical_bits += _rational_atoms_bits(base)
        if self.radical_bits > MAX_RADICAL_BITS:
            raise self.error(
                f"roots of numbers with more than {MAX_RADICAL_BITS} bits in total", node)

    def power(self, base: sympy.Expr, exponent: sympy.Expr, node: _Node,
              call: bool = False) -> sympy.Expr:
        what = "the argument of exp" if call else "exponent"
        if exponent.is_Rational:
            if abs(exponent.p) > MAX_EXPONENT or exponent.q > MAX_EXPONENT:
                raise self.error(f"{what} {_short(exponent)} is beyond the cap "
                                 f"|p|, q <= {MAX_EXPONENT}", node)
            if base == 0 and exponent < 0:
                raise self.error("division by zero (0 to a negative power)", node)
            if _rational_atoms_bits(base) * abs(exponent.p) > MAX_BITS:
                raise self.error(f"number larger than {MAX_BITS} bits", node)
            if exponent.q != 1:
                self.spend_radical(base, node)
            return sympy.Pow(base, exponent)
        if exponent.free_symbols & set(self.variables.values()):
            return sympy.Pow(base, exponent)
        # A constant, irrational exponent: bound its size numerically before going on.
        try:
            size = abs(_evaluate_checked(exponent, local_context(prec=64)))
        except (DiscoveryError, ArithmeticError, ValueError) as err:
            raise self.error(f"cannot evaluate {what}: {err}", node) from None
        if size > MAX_EXPONENT:
            raise self.error(f"{what} is about {_nstr(size)}, beyond the cap "
                             f"{MAX_EXPONENT}", node)
        if base.free_symbols & set(self.variables.values()):
            return sympy.Pow(base, exponent)
        self.spend_radical(base, node)
        return sympy.Pow(base, exponent)


def _nstr(x: Any) -> str:
    return mpmath.nstr(x, 3)


def _short(x: sympy.Expr) -> str:
    text = expression_to_text(x)
    return text if len(text) <= 30 else text[:30] + "..."


@lru_cache(maxsize=4096)
def _parse_expression(text: str, variables: tuple[str, ...]) -> sympy.Expr:
    tree = _syntax_tree(text)
    return _SympyBuilder(text, variables).build(tree)


def parse_expression(text: str, variables: Sequence[str] = ()) -> sympy.Expr:
    """A constant expression (or one in the given variables) as a SymPy object, built safely.

    Parameters
    ----------
    text : str
        ``"6/zeta(3)"``, ``"(4^(1/3)+1)/(4^(1/3)-1)"``, ``"besseli(1,2)/besseli(0,2)"``,
        ``"e^2"``, ``"2+lemniscate"``, ``"1/catalan-1"``, ``"2pi"``, ``"3(e-1)"``...
    variables : sequence of str
        Names that become plain ``sympy.Symbol`` objects (none by default).

    Raises
    ------
    ParseError
        With the position and the problem: bad syntax, unknown names or functions, wrong
        arity, a cap exceeded, division by zero.

    Examples
    --------
    >>> parse_expression("(1+sqrt(5))/2")
    1/2 + sqrt(5)/2
    >>> parse_expression("4/(3*pi-8)")
    4/(-8 + 3*pi)
    >>> parse_expression("zeta3 + apery")
    2*zeta(3)
    >>> parse_expression("2^n + 1", variables=["n"])
    2**n + 1
    >>> parse_expression("besseli(1)")
    Traceback (most recent call last):
    ...
    solvers.errors.ParseError: besseli takes 2 arguments, got 1 (at position 0)
    """
    if isinstance(text, str) and len(text) > MAX_LENGTH:
        raise ParseError(f"input longer than {MAX_LENGTH} characters", text[:80], MAX_LENGTH)
    if not isinstance(text, str):
        raise ParseError(f"expected text, got {type(text).__name__}", "", None)
    names = tuple(variables)
    for v in names:
        if not isinstance(v, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v):
            raise ParseError(f"bad variable name {v!r}", text, None)
    return _parse_expression(text, names)


# ---------------------------------------------------------------------------------------------
# Evaluation through the catalogue, in local mpmath contexts


def _evaluate_checked(expr: Any, ctx: Any) -> Any:
    """:func:`_evaluate`, with mpmath's own failures turned into :class:`EvaluationError`."""
    try:
        return _evaluate(expr, ctx)
    except (ValueError, ZeroDivisionError, NoConvergence) as err:
        if isinstance(err, DiscoveryError):
            raise
        raise EvaluationError(f"cannot evaluate {_short(expr)}: {err}") from None


def _evaluate(expr: Any, ctx: Any) -> Any:
    """``expr`` at the working precision of ``ctx`` (one pass, no error control)."""
    if isinstance(expr, sympy.Integer):
        v = ctx.mpf(int(expr.p))
    elif isinstance(expr, sympy.Rational):
        v = ctx.mpf(int(expr.p)) / int(expr.q)
    elif isinstance(expr, sympy.Float):
        v = ctx.make_mpf(expr._mpf_)
    elif type(expr).__name__ in _NATIVE_BY_CLASS:
        v = get_constant(_NATIVE_BY_CLASS[type(expr).__name__]).evaluate_in(ctx)
    elif isinstance(expr, sympy.Symbol):
        try:
            c = get_constant(expr.name)
        except UnknownConstantError:
            raise EvaluationError(f"the expression depends on {expr.name!r}, which is not a "
                                  "catalogue constant") from None
        v = c.evaluate_in(ctx)
    elif isinstance(expr, sympy.Add):
        v = ctx.fsum([_evaluate(a, ctx) for a in expr.args])
    elif isinstance(expr, sympy.Mul):
        v = ctx.fprod([_evaluate(a, ctx) for a in expr.args])
    elif isinstance(expr, sympy.Pow):
        v = _power(expr.base, expr.exp, ctx)
    elif isinstance(expr, sympy.exp):
        v = ctx.exp(_real(_evaluate(expr.args[0], ctx), ctx, expr))
    elif isinstance(expr, sympy.Function):
        name = type(expr).__name__.lower()
        f = FUNCTIONS.get(name)
        if f is None or len(expr.args) != f.arity:
            raise EvaluationError(f"cannot evaluate {type(expr).__name__} with "
                                  f"{len(expr.args)} argument(s)")
        v = f.evaluate(ctx, *[_evaluate(a, ctx) for a in expr.args])
    else:
        raise EvaluationError(f"cannot evaluate {type(expr).__name__} objects")
    return _real(v, ctx, expr)


def _power(base: Any, exponent: Any, ctx: Any) -> Any:
    b = _evaluate(base, ctx)
    if isinstance(exponent, sympy.Integer):
        if b == 0 and exponent < 0:
            raise EvaluationError("division by zero (0 to a negative power)")
        return ctx.power(b, int(exponent))
    if isinstance(exponent, sympy.Rational):
        p, q = int(exponent.p), int(exponent.q)
        if b == 0:
            if p < 0:
                raise EvaluationError("division by zero (0 to a negative power)")
            return ctx.zero
        r = ctx.sqrt(b) if q == 2 else ctx.root(b, q) if b > 0 else ctx.power(b, ctx.mpf(1) / q)
        return ctx.power(r, p)
    e = _evaluate(exponent, ctx)
    if b == 0:
        if e <= 0:
            raise EvaluationError("0 to a non-positive power")
        return ctx.zero
    return ctx.power(b, e)


def _real(v: Any, ctx: Any, expr: Any) -> Any:
    if isinstance(v, ctx.mpc):
        if v.imag != 0:
            raise EvaluationError(f"{_short(expr)} is not real")
        v = v.real
    elif not isinstance(v, ctx.mpf):
        v = ctx.mpf(v)
    if not ctx.isfinite(v):
        raise EvaluationError(f"{_short(expr)} is not finite")
    if v and ctx.mag(v) > MAX_MAGNITUDE_BITS:
        raise EvaluationError(f"{_short(expr)} is larger than 2^{MAX_MAGNITUDE_BITS}")
    return v


def evaluate_expression(expr: sympy.Expr | str, dps: int) -> Any:
    """A constant expression to ``dps`` significant digits, evaluated independently.

    The expression (text is parsed first) is evaluated through the constants catalogue and the
    function table in local mpmath contexts (never the global ``mpmath.mp``, never SymPy's
    ``evalf``) at two increasing working precisions; the guard grows until the two agree to
    ``dps`` digits, which catches cancellation and ill-conditioning.

    Parameters
    ----------
    expr : sympy.Expr or str
        What :func:`parse_expression` returns (or text for it). SymPy's ``E``, ``pi``,
        ``EulerGamma``, ``Catalan``, ``GoldenRatio`` and symbols named after catalogue
        constants are understood.
    dps : int
        Significant decimal digits wanted.

    Returns
    -------
    mpmath.mpf
        The value, rounded to ``dps`` digits (an mpf of a local context at ``dps``).

    Raises
    ------
    EvaluationError
        A free variable, a value that is not real or not finite.
    PrecisionError
        The value could not be pinned down (for instance it is exactly zero, like sin(pi)).

    Examples
    --------
    >>> str(evaluate_expression("(4^(1/3)+1)/(4^(1/3)-1)", 25))
    '4.404828767838630536190751'
    >>> str(evaluate_expression("besseli(1,2)/besseli(0,2)", 20))
    '0.69777465796400798201'
    >>> str(evaluate_expression("exp(100) - (exp(100) - 1/3)", 10))
    '0.3333333333'
    """
    if isinstance(expr, str):
        expr = parse_expression(expr)
    if isinstance(dps, bool) or not isinstance(dps, int) or dps < 1:
        raise ValueError(f"dps must be a positive integer, got {dps!r}")
    target = local_context(dps=dps).prec
    prec = target + 40
    previous = _evaluate_checked(expr, local_context(prec=prec))
    while True:
        prec += max(40, prec - target)
        ctx = local_context(prec=prec)
        current = _evaluate_checked(expr, ctx)
        diff = ctx.mpf(current) - previous
        if diff == 0 or (current != 0 and ctx.mag(diff) < ctx.mag(current) - target - 6):
            out = local_context(dps=dps)
            return out.mpf(current)
        if prec > 4 * target + 2000:
            raise PrecisionError(
                f"could not evaluate {_short(expr)} to {dps} digits (two evaluations at "
                "high precision disagree: is the value exactly zero?)")
        previous = current


# ---------------------------------------------------------------------------------------------
# Printing


class _TextPrinter(StrPrinter):
    """SymPy's str printer with the workbench's names, so that the parser reads it back."""

    def _print_Exp1(self, expr: Any) -> str:
        return "e"

    def _print_GoldenRatio(self, expr: Any) -> str:
        return "phi"

    def _print_EulerGamma(self, expr: Any) -> str:
        return "euler_gamma"

    def _print_Catalan(self, expr: Any) -> str:
        return "catalan"

    def _print_Abs(self, expr: Any) -> str:
        return f"abs({self._print(expr.args[0])})"

    def _print_Ei(self, expr: Any) -> str:
        return f"ei({self._print(expr.args[0])})"

    def _print_Integer(self, expr: Any) -> str:
        return gmpy2.mpz(int(expr.p)).digits(10)  # no 4300-digit limit

    def _print_Rational(self, expr: Any) -> str:
        p, q = gmpy2.mpz(int(expr.p)).digits(10), gmpy2.mpz(int(expr.q)).digits(10)
        return p if q == "1" else f"{p}/{q}"


def expression_to_text(expr: sympy.Expr) -> str:
    """Text that :func:`parse_expression` reads back to an equal expression.

    Examples
    --------
    >>> expression_to_text(parse_expression("e^2"))
    'exp(2)'
    >>> expression_to_text(parse_expression("1/catalan-1"))
    '-1 + 1/catalan'
    >>> expression_to_text(parse_expression("(4^(1/3)+1)/(4^(1/3)-1)"))
    '(1 + 2^(2/3))/(-1 + 2^(2/3))'
    """
    if isinstance(expr, str):
        expr = parse_expression(expr)
    return _TextPrinter().doprint(expr).replace("**", "^")


def constants_in(expr: sympy.Expr | str) -> tuple[str, ...]:
    """Canonical names of the catalogue constants an expression uses, sorted.

    Examples
    --------
    >>> constants_in("6/zeta(3) + pi^2 - khinchin + log(2)")
    ('khinchin', 'log2', 'pi', 'zeta3')
    """
    if isinstance(expr, str):
        expr = parse_expression(expr)
    found: set[str] = set()
    for node in sympy.preorder_traversal(expr):
        cls = type(node).__name__
        if cls in _NATIVE_BY_CLASS:
            found.add(_NATIVE_BY_CLASS[cls])
        elif isinstance(node, sympy.Symbol):
            try:
                found.add(get_constant(node.name).name)
            except UnknownConstantError:
                pass
        elif isinstance(node, (sympy.zeta, sympy.log)) and len(node.args) == 1:
            arg = node.args[0]
            if isinstance(arg, sympy.Integer) and 2 <= arg <= 10**6:
                found.add(f"{type(node).__name__}{int(arg)}")
        elif isinstance(node, sympy.Pow) and isinstance(node.base, sympy.Integer):
            q = node.exp.q if node.exp.is_Rational else 0
            if q in (2, 3) and 2 <= node.base <= 10**6:
                found.add(f"{'sqrt' if q == 2 else 'cbrt'}{int(node.base)}")
    return tuple(sorted(found))


def expression_latex(expr: sympy.Expr | str) -> str:
    """LaTeX for an expression, with the catalogue's notation for named constants.

    Examples
    --------
    >>> expression_latex("6/zeta(3)")
    '\\\\frac{6}{\\\\zeta\\\\left(3\\\\right)}'
    >>> expression_latex("khinchin^2")
    'K_0^{2}'
    """
    if isinstance(expr, str):
        expr = parse_expression(expr)
    names = {}
    for s in expr.free_symbols:
        try:
            names[s] = get_constant(s.name).latex
        except UnknownConstantError:
            pass
    return sympy.latex(expr, symbol_names=names)


# ---------------------------------------------------------------------------------------------
# Rational functions of given variables (the grammar above, restricted; used for the matrix
# entries of conservative matrix fields, see :func:`solvers.cmf.parse_entry`)


class _CappedParser(_Parser):
    """The same grammar with a node cap of the caller's choosing (for longer inputs)."""

    def __init__(self, text: str, max_nodes: int):
        super().__init__(text)
        self.max_nodes = max_nodes

    def node(self, kind: str, pos: int, value: Any = None, args: tuple = ()) -> _Node:
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise self.error(f"expression too large (more than {self.max_nodes} nodes)", pos)
        return _Node(kind, pos, value, args)

    def number(self, tok: _Token) -> Fraction:
        # Inputs may be longer than MAX_LENGTH: refuse an exponent too long for int() first.
        if len(tok.text.lower().partition("e")[2].lstrip("+-").lstrip("0")) > len(
                str(MAX_LITERAL_DIGITS)):
            raise self.error(f"exponent of a number literal beyond +-{MAX_LITERAL_DIGITS}",
                             tok.pos)
        return super().number(tok)


def _check_rational(node: _Node, text: str, variables: tuple[str, ...],
                    max_exponent: int) -> None:
    """Reject, with its position, anything but numbers, the variables, + - * / and integer
    literal powers in ``[0, max_exponent]``."""
    allowed = ", ".join(variables) or "none"
    kind = node.kind
    if kind == "num":
        return
    if kind == "name":
        if node.value in variables:
            return
        try:
            message = (f"the constant {get_constant(node.value).name!r} is not allowed in a "
                       f"rational function of {allowed}")
        except UnknownConstantError:
            message = f"unknown name {node.value!r} (allowed: {allowed})"
        raise ParseError(message, text, node.pos)
    if kind == "call":
        raise ParseError(f"{node.value}(...) is not allowed in a rational function of {allowed} "
                         "(only numbers, the variables, + - * / and integer powers)",
                         text, node.pos)
    if kind == "pow":
        base, exponent = node.args
        e = exponent.value if exponent.kind == "num" else None
        if e is None or e.denominator != 1 or not 0 <= e <= max_exponent:
            raise ParseError(f"exponents must be integer literals in [0, {max_exponent}]",
                             text, exponent.pos)
        _check_rational(base, text, variables, max_exponent)
        return
    for arg in node.args:  # neg, sum, prod
        _check_rational(arg, text, variables, max_exponent)


def parse_rational_function(text: str, variables: Sequence[str], *, max_exponent: int = 64,
                            max_length: int = MAX_LENGTH,
                            max_nodes: int = MAX_NODES) -> sympy.Expr:
    """A rational function of ``variables`` with rational coefficients, read with the one
    grammar of :func:`parse_expression` (same tokens, numbers, implicit multiplication and
    error positions) but only numbers, the variables, ``+ - * /``, parentheses and powers
    ``^``/``**`` with an integer literal exponent in ``[0, max_exponent]``.

    Numbers are exact: ``1.5`` is 3/2 and ``1e-3`` is 1/1000. Constants (``pi``, ``e``...)
    and function calls are :class:`ParseError` s, reported at their position before anything
    is built. ``max_length`` and ``max_nodes`` replace the caps :data:`MAX_LENGTH` and
    :data:`MAX_NODES` (matrix entries can be long); the other caps are those of the parser.

    Examples
    --------
    >>> parse_rational_function("(x+1)^3 - 2x*y/3 + 1.5e-1", ["x", "y"])
    -2*x*y/3 + (x + 1)**3 + 3/20
    >>> parse_rational_function("pi*x", ["x"])
    Traceback (most recent call last):
    ...
    solvers.errors.ParseError: the constant 'pi' is not allowed in a rational function of x (at position 0)
    """  # noqa: E501
    if not isinstance(text, str):
        raise ParseError(f"expected text, got {type(text).__name__}", "", None)
    if len(text) > max_length:
        raise ParseError(f"input longer than {max_length} characters", text[:80], max_length)
    if not text.strip():
        raise ParseError("empty input", text, 0)
    names = tuple(variables)
    for v in names:
        if not isinstance(v, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v):
            raise ParseError(f"bad variable name {v!r}", text, None)
    tree = _CappedParser(text, max_nodes).parse()
    _check_rational(tree, text, names, max_exponent)
    return _SympyBuilder(text, names).build(tree)
