"""The workbench's expression grammar: caps, tokenizer, syntax tree, parser and printer.

User text is read by a small tokenizer and a recursive-descent parser that accepts implicit
multiplication as people write it (``2n^3``, ``-4n(2n-1)``, ``(2n+1)(3n^2+3n+1)``, ``2pi``)
and builds a private syntax tree of :class:`_Node` objects under fixed caps (length, nesting
depth, node count, literal size). Nothing here evaluates anything: the tree is turned into
exact polynomial coefficients by :mod:`solvers.polynomials` and into SymPy objects by
:mod:`solvers.expr`. The printer :class:`_TextPrinter` goes the other way, writing SymPy objects
in this grammar with the workbench's names, so that the parser reads them back.

All the caps of the parser and of its consumers are defined here, in one place.

Examples
--------
>>> tree = _syntax_tree("2n^3 + 1")
>>> tree.kind, [t.kind for t in tree.args]
('sum', ['prod', 'num'])
>>> _syntax_tree("n(n+1")
Traceback (most recent call last):
...
solvers.errors.ParseError: missing ')' (at position 5)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import gmpy2
from sympy.printing.str import StrPrinter

from solvers.constants import FUNCTIONS, _unknown_message
from solvers.errors import ParseError

__all__ = [
    "MAX_LENGTH",
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_LITERAL_DIGITS",
    "MAX_EXPONENT",
    "MAX_DEGREE",
    "MAX_BITS",
    "MAX_RADICAL_BITS",
    "MAX_MAGNITUDE_BITS",
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
    """The syntax tree of ``text`` under the default caps (:class:`ParseError` if none)."""
    if not isinstance(text, str):
        raise ParseError(f"expected text, got {type(text).__name__}", "", None)
    if len(text) > MAX_LENGTH:
        raise ParseError(f"input longer than {MAX_LENGTH} characters", text[:80], MAX_LENGTH)
    if not text.strip():
        raise ParseError("empty input", text, 0)
    return _Parser(text).parse()


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


def _suggest(name: str, extra: Sequence[str] = ()) -> str:
    """The tail of an "unknown name" message: a close variable, or the catalogue's hint."""
    message = _unknown_message(name)
    _, sep, tail = message.partition("; ")
    close = [v for v in extra if v.lower() == name.lower() or name.startswith(v)]
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; {tail}" if sep else ""


# ---------------------------------------------------------------------------------------------
# Printing SymPy objects back in this grammar


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


def _short(x: Any) -> str:
    """``x`` as grammar text, cut to 30 characters (for error messages)."""
    text = _TextPrinter().doprint(x).replace("**", "^")
    return text if len(text) <= 30 else text[:30] + "..."
