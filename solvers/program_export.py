"""Programs written out: readable text, Python, numba and C source, SymPy and LaTeX.

Every form is built from the same let-binding view of the DAG (:func:`program_lines`): a
node used more than once gets a name ``t1, t2, ...``, the others are inlined with the fewest
parentheses that the precedences of :data:`solvers.program_ops.OPERATIONS` allow. The
:class:`~solvers.programs.Program` methods ``to_text``, ``to_python``, ``to_numba``, ``to_c``,
``to_sympy`` and ``latex`` call the functions here.

Examples
--------
>>> from solvers.programs import Program
>>> p = Program.build(lambda x: (x + 1.0) * (x + 1.0) - 0.25).canonical()
>>> program_text(p)
't1 = x + 1; f = t1*t1 - 0.25'
>>> print(program_c(p, "g", "float").splitlines()[2])
    const float t1 = x + 0x1.0000000000000p+0f;
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import sympy

from solvers.program_ops import BY_NAME

if TYPE_CHECKING:
    from solvers.programs import Program

__all__ = [
    "program_lines",
    "program_text",
    "program_python",
    "program_numba",
    "program_c",
    "program_sympy",
    "program_latex",
]


def _fmt_const(v: float, digits: int) -> str:
    text = f"{v:.{digits}g}"
    return text if v >= 0 else f"({text})"


def _py_const(v: float) -> str:
    r = repr(float(v))
    return r if v >= 0 else f"({r})"


def _paren(e: tuple[str, int], precedence: int) -> str:
    return e[0] if e[1] >= precedence else f"({e[0]})"


def program_lines(p: Program, const: Callable[[float], str],
                  func: Callable[[str], str] = str) -> tuple[list[tuple[str, str]], str]:
    """The let-bindings ``[(name, expression), ...]`` and the output expression of ``p``.

    ``const`` writes a constant; ``func`` names an operation written as a function call
    (``fma``; e.g. ``fmaf`` in C float).

    Examples
    --------
    >>> from solvers.programs import Program
    >>> program_lines(Program.build(lambda x: (x - 2.0) * (x - 2.0)).canonical(), str)
    ([('t1', 'x - 2.0')], 't1*t1')
    """
    nodes = p.nodes
    reachable = p._reachable
    uses = [0] * len(nodes)
    for i, nd in enumerate(nodes):
        if reachable[i]:
            for a in nd.args:
                uses[a] += 1
    exprs: list[tuple[str, int]] = []  # (text, precedence)
    lines: list[tuple[str, str]] = []
    count = 0
    for i, nd in enumerate(nodes):
        if nd.op == "x":
            exprs.append(("x", 3))
            continue
        if nd.op == "const":
            exprs.append((const(nd.value), 3))
            continue
        op = BY_NAME[nd.op]
        a = [exprs[j] for j in nd.args]
        if op.symbol is None:
            text, precedence = f"{func(op.name)}({', '.join(e[0] for e in a)})", 3
        else:
            precedence = op.precedence
            left = _paren(a[0], precedence)
            right = _paren(a[1], precedence if op.assoc else precedence + 1)
            symbol = op.symbol
            rnode = nodes[nd.args[1]]
            if op.flip is not None and rnode.op == "const" and rnode.value < 0:
                symbol = BY_NAME[op.flip].symbol
                right = const(-rnode.value)
            space = " " if precedence == 1 else ""
            text = f"{left}{space}{symbol}{space}{right}"
        if uses[i] > 1 and i != len(nodes) - 1 and reachable[i]:
            count += 1
            name = f"t{count}"
            lines.append((name, text))
            exprs.append((name, 3))
        else:
            exprs.append((text, precedence))
    return lines, exprs[-1][0]


def program_text(p: Program, digits: int = 6) -> str:
    """Readable let-bindings, e.g. ``t1 = x + 2; f = t1*t1`` (constants to ``digits``).

    Examples
    --------
    >>> from solvers.programs import Program
    >>> p = Program.build(lambda x: (x + 2.0) * (x + 2.0) - 1.0 / 3.0)
    >>> program_text(p, 3), program_text(p.canonical(), 3)
    ('f = (x + 2)*(x + 2) - 0.333', 't1 = x + 2; f = t1*t1 - 0.333')
    """
    lines, out = program_lines(p, lambda v: _fmt_const(v, digits))
    return "; ".join([*(f"{n} = {e}" for n, e in lines), f"f = {out}"])


def program_python(p: Program, name: str = "f") -> str:
    """Python source of a function ``name(x)`` (constants exact, via ``float.fromhex``).

    Examples
    --------
    >>> from solvers.programs import Program
    >>> print(program_python(Program.build(lambda x: x * x + 0.5)))
    def f(x):
        return x*x + 0.5
    """
    lines, out = program_lines(p, _py_const)
    body = [f"    {n} = {e}" for n, e in lines] + [f"    return {out}"]
    head = f"def {name}(x):"
    if p.uses_fma:
        head = ("from fractions import Fraction\n\n\ndef fma(a, b, c):\n"
                "    # one rounding: exact rational arithmetic, correctly rounded to float\n"
                "    return float(Fraction(a) * Fraction(b) + Fraction(c))\n\n\n" + head)
    return "\n".join([head, *body])


def program_numba(p: Program, name: str = "f") -> str:
    """Source of a numba ``@njit`` function ``name(x)``.

    numba has no fused multiply-add: an FMA, if any, becomes ``a*b + c`` (two roundings).

    Examples
    --------
    >>> from solvers.programs import Program
    >>> print(program_numba(Program.build(lambda x: x / 3.0)))
    from numba import njit
    <BLANKLINE>
    <BLANKLINE>
    @njit(fastmath=False)
    def f(x):
        return x/3.0
    """
    lines, out = program_lines(p, _py_const)
    body = [f"    {n} = {e}" for n, e in lines] + [f"    return {out}"]
    head = "from numba import njit\n\n\n"
    if p.uses_fma:
        head += "@njit(inline=\"always\")\ndef fma(a, b, c):\n    return a * b + c\n\n\n"
    return "\n".join([head + f"@njit(fastmath=False)\ndef {name}(x):", *body])


def program_c(p: Program, name: str = "f", ctype: str = "double") -> str:
    """C99 source of ``ctype name(ctype x)``, constants as hex literals, ``fma``/``fmaf``.

    Examples
    --------
    >>> from solvers.programs import Program
    >>> print(program_c(Program.build(lambda x: x * 0.5 + 1)))
    #include <math.h>
    double f(double x) {
        return x*0x1.0000000000000p-1 + 0x1.0000000000000p+0;
    }
    """
    suffix = "f" if ctype == "float" else ""
    lines, out = program_lines(p, lambda v: float(v).hex() + suffix, lambda n: n + suffix)
    body = [f"    const {ctype} {n} = {e};" for n, e in lines] + [f"    return {out};"]
    return "\n".join(["#include <math.h>", f"{ctype} {name}({ctype} x) {{", *body, "}"])


def program_sympy(p: Program, exact: bool = True) -> sympy.Expr:
    """A SymPy expression in ``x``; constants as exact rationals (or 17-digit Floats).

    Examples
    --------
    >>> from solvers.programs import Program
    >>> program_sympy(Program.build(lambda x: (x + 0.5) * x))
    x*(x + 1/2)
    """
    if exact:
        return p.interpret(sympy.Symbol("x"), lambda v: sympy.Rational(*v.as_integer_ratio()))
    return p.interpret(sympy.Symbol("x"), lambda v: sympy.Float(v, 17))


def program_latex(p: Program, digits: int = 6) -> str:
    """LaTeX of the program's expression (constants to ``digits`` digits).

    Examples
    --------
    >>> from solvers.programs import Program
    >>> program_latex(Program.build(lambda x: x / 3.0), 3)
    '0.333 x'
    """
    e = program_sympy(p, exact=False)
    e = e.xreplace({f: sympy.Float(f, digits) for f in e.atoms(sympy.Float)})
    return sympy.latex(e)
