"""Constant expressions and rational functions: from the safe parser's tree to SymPy.

User text is never handed to ``eval``, ``sympify`` or ``parse_expr``. The tokenizer and the
recursive-descent parser of :mod:`solvers.expr_syntax` (with implicit multiplication as people
write it: ``2n^3``, ``-4n(2n-1)``, ``(2n+1)(3n^2+3n+1)``, ``2pi``) build a private syntax tree
under fixed caps (length, nesting depth, node count, literal size, exponent size, size of every
exact number); this module turns the tree into SymPy objects built directly
(:func:`parse_expression`, :func:`parse_rational_function`) and holds the entry points that
take text: :func:`evaluate_expression`, :func:`expression_to_text`, :func:`constants_in`,
:func:`expression_latex`. Names are looked up in fixed tables only: the constants catalogue and
the function table of :mod:`solvers.constants`.

The rest of the expression machinery lives next door and is re-exported here, so that
``solvers.expr`` stays the one import path: the grammar and its caps in
:mod:`solvers.expr_syntax`, polynomials with integer coefficients (:func:`parse_polynomial`,
:func:`polynomial_coefficients`) in :mod:`solvers.polynomials`, and the SymPy form of catalogue
constants (:func:`constant_expr`: ``zeta3`` is ``zeta(3)``, ``pi`` is SymPy's ``pi``, ...) with
the numerical evaluator in :mod:`solvers.expr_eval`.

Function calls are objects of inert classes (:data:`solvers.expr_eval.INERT_FUNCTIONS`) that
SymPy never evaluates when it builds or rebuilds them (``sin(pi)`` stays ``sin(pi)``; SymPy's
own ``gamma(10^1000)`` would compute a factorial, ``zeta(1000000)`` a Bernoulli number), and
whose numerical values for SymPy's sign queries come from ball arithmetic, not from mpmath's
series (whose ``besseli(-10^20, 1001)`` divides by zero). Arguments are checked against the caps
of the function table (``besseli``'s order, ``zeta``'s argument, ``polylog``'s order, ...)
where they are read, by both evaluators; family indices (``zeta<k>``) by the catalogue. The
size of an irrational exponent is bounded by one ball evaluation at low precision, and a call
that SymPy's arithmetic drops (``0*f``, ``f - f``) must have a value. Arithmetic on exact
numbers is canonicalised by SymPy under the size caps. :func:`evaluate_expression` evaluates
any such expression through the catalogue in local mpmath contexts, never with SymPy's
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
import math
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import sympy
from mpmath.libmp import NoConvergence

from solvers.balls import abs_bound
from solvers.constants import (
    FUNCTIONS,
    EvaluationError,
    UnknownConstantError,
    get_constant,
)
from solvers.errors import DiscoveryError, ParseError
from solvers.expr_eval import (
    _NATIVE_BY_CLASS,
    _evaluate_digits,
    constant_expr,
    inert_function,
)
from solvers.expr_syntax import (
    MAX_BITS,
    MAX_DEGREE,
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_LENGTH,
    MAX_LITERAL_DIGITS,
    MAX_NODES,
    MAX_RADICAL_BITS,
    _CappedParser,
    _Node,
    _short,
    _suggest,
    _syntax_tree,
    _TextPrinter,
)
from solvers.polynomials import parse_polynomial, polynomial_coefficients

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

# ---------------------------------------------------------------------------------------------
# Constant expressions: SymPy objects built directly from the syntax tree

#: Names of family members (``zeta3``, ``log2``, ``sqrt5``): when one is refused (an index
#: beyond the family's cap, a perfect square), the catalogue says why.
_FAMILY_MEMBER = re.compile(r"(zeta|log|ln|sqrt|cbrt)[0-9]{1,7}")


#: Most function calls whose value is checked when SymPy's arithmetic drops them.
_MAX_DROPPED = 16


def _calls(expr: sympy.Expr) -> set[sympy.Expr]:
    """The function calls in ``expr`` (``exp`` included)."""
    return set() if expr.is_Atom else expr.atoms(sympy.Function)


def _call(name: str, args: list[sympy.Expr]) -> sympy.Expr:
    """The call as an inert SymPy object (never evaluated by SymPy, see the module notes)."""
    if name == "log2":
        log = inert_function("log", args[0])
        return sympy.Mul(log, sympy.Pow(inert_function("log", sympy.Integer(2)), -1))
    return inert_function(name, *args)


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

    def check(self, value: sympy.Expr, node: _Node,
              operands: Sequence[sympy.Expr] = ()) -> sympy.Expr:
        if operands:
            self.check_dropped(value, operands, node)
        if value.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
            raise self.error("the expression is infinite or undefined", node)
        if value.has(sympy.I):
            raise self.error("complex values are not supported", node)
        if _rational_atoms_bits(value) > MAX_BITS:
            raise self.error(f"number larger than {MAX_BITS} bits", node)
        return value

    def check_dropped(self, value: sympy.Expr, operands: Sequence[sympy.Expr],
                      node: _Node) -> None:
        """Function calls that SymPy's arithmetic dropped (``0*f``, ``f - f``, ``f^0``) must
        have a value: ``0*besseli(-10^20, 1001)`` is refused, not read as 0. Each is bounded
        by one ball evaluation at low precision (at most :data:`_MAX_DROPPED` of them)."""
        dropped = set().union(*(_calls(a) for a in operands)) - _calls(value)
        dropped = {c for c in dropped if not c.free_symbols & set(self.variables.values())}
        if len(dropped) > _MAX_DROPPED:
            raise self.error(f"the expression cancels more than {_MAX_DROPPED} function calls "
                             "(write it without them)", node)
        for call in sorted(dropped, key=sympy.default_sort_key):
            try:
                bound = abs_bound(call)
            except DiscoveryError as err:
                raise self.error(f"cannot evaluate {_short(call)}: {err}", node) from None
            if bound is None:
                raise self.error(f"{_short(call)} is not finite", node)

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
            return self.check(sympy.Add(*terms), node, terms)
        if kind == "prod":
            factors = []
            for op, f in zip(node.value, node.args, strict=True):
                x = self.build(f)
                if op == "/":
                    if x == 0:
                        raise self.error("division by zero", f)
                    x = self.power(x, sympy.Integer(-1), f)
                factors.append(x)
            return self.check(sympy.Mul(*factors), node, factors)
        if kind == "pow":
            base = self.build(node.args[0])
            exponent = self.build(node.args[1])
            return self.check(self.power(base, exponent, node), node, (base, exponent))
        if kind == "call":
            args = [self.build(a) for a in node.args]
            if node.value == "exp":
                return self.check(self.power(sympy.E, args[0], node, call=True), node, args)
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
        except UnknownConstantError as err:
            if _FAMILY_MEMBER.fullmatch(name):  # zeta1000000, sqrt4: the family's own reason
                raise self.error(str(err), node) from None
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
        # A constant, irrational exponent: bound its size (one ball evaluation at low
        # precision, whose cost does not grow with the value) before going on.
        self.bound_exponent(exponent, what, node)
        if base.free_symbols & set(self.variables.values()):
            return sympy.Pow(base, exponent)
        self.spend_radical(base, node)
        return sympy.Pow(base, exponent)


    def bound_exponent(self, exponent: sympy.Expr, what: str, node: _Node) -> None:
        """Refuse a constant exponent whose size is not bounded by :data:`MAX_EXPONENT`."""
        try:
            bound = abs_bound(exponent)
        except DiscoveryError as err:
            raise self.error(f"cannot evaluate {what} {_short(exponent)}: {err}", node) from None
        if bound is None:
            raise self.error(f"cannot bound {what} {_short(exponent)}: ball arithmetic gives "
                             "no finite value", node)
        low, high = bound
        if low > MAX_EXPONENT:
            raise self.error(f"{what} is about {low:.3g}, beyond the cap {MAX_EXPONENT}", node)
        if high > MAX_EXPONENT:
            found = "no useful bound" if math.isinf(high) else f"only the bound {high:.3g}"
            raise self.error(f"cannot show that {what} {_short(exponent)} is within the cap "
                             f"{MAX_EXPONENT}: ball arithmetic gives {found}", node)


@lru_cache(maxsize=4096)
def _parse_expression(text: str, variables: tuple[str, ...]) -> sympy.Expr:
    tree = _syntax_tree(text)
    builder = _SympyBuilder(text, variables)
    try:
        return builder.build(tree)
    except DiscoveryError:
        raise
    except (ArithmeticError, ValueError, NoConvergence, RecursionError) as err:
        # A last resort: SymPy's canonicalisation of exact numbers failed in a way the caps
        # did not foresee. One line, never a traceback.
        raise ParseError(f"cannot build this expression: {type(err).__name__}: "
                         f"{' '.join(str(err).split())[:200]}", text, None) from None


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
# Evaluation (the evaluator itself is :mod:`solvers.expr_eval`)


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
    return _evaluate_digits(expr, dps)


# ---------------------------------------------------------------------------------------------
# Printing (the printer itself is :class:`solvers.expr_syntax._TextPrinter`)


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
# Rational functions of given variables (the grammar restricted; used for the matrix entries of
# conservative matrix fields, see :func:`solvers.cmf.parse_entry`)


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
