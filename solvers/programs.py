"""Numeric programs: small DAGs over ``x`` with ``+ - * /`` (and FMA) and real constants.

A :class:`Program` is an immutable, hashable straight-line program. Node 0 of a canonical
program is ``x``; every other node is a constant or an operation on earlier nodes; the last
node is the output. Its *cost* is the number of operations that depend on ``x`` (constant-only
subexpressions are folded and free), as in AutoNumerics-Zero (Real et al. 2023/24).

Three evaluators share one flat instruction format (``code`` rows ``[op, a, b, c]`` over
registers, plus a constants vector), so no program is ever compiled on its own:

* :func:`evaluate` -- a numba-compiled interpreter in float64, or in float32 with every
  operation correctly rounded (FMA emulated exactly, see :func:`fma32`);
* :meth:`Program.evaluate_mp` -- a reference in a local mpmath context at any precision;
* the same interpreter also runs a :class:`Target` (the function being approximated, parsed
  safely by :func:`solvers.expr.parse_expression`) in float64, for float32 ULP checks.

:func:`measure_error` measures the maximum relative or absolute error against a >= 50-digit
reference on a dense grid (>= 20000 points) and maximises it locally (golden section) around the
largest grid peaks.

Examples
--------
>>> p = Program.build(lambda x: (x + 1.5) * x)
>>> p
Program(f = (x + 1.5)*x)
>>> p.cost, p.evaluate_float(2.0)
(2, 7.0)
>>> m = measure_error(Program.build(lambda x: 1 + x), "exp(x)", (0, 0.001), error="absolute",
...                   grid=200)
>>> f"{m.max_error:.4e}"
'5.0017e-07'
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import mpmath
import numba
import numpy as np
import sympy

from solvers.errors import DivergenceError, ParseError, PrecisionError
from solvers.keys import canonical_key

__all__ = [
    "OPS",
    "Node",
    "Program",
    "ProgramBuilder",
    "Target",
    "parse_target",
    "fma32",
    "evaluate",
    "evaluate_batch_max_error",
    "evaluate_jacobian",
    "fit_grid",
    "grid_error",
    "ErrorMeasure",
    "measure_error",
    "measure_float64_error",
    "program_from_dict",
]

# ---------------------------------------------------------------------------------------------
# Opcodes of the flat instruction format (programs use 0..6, targets use all)

OP_X, OP_CONST, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_FMA = range(7)
(OP_NEG, OP_POW, OP_EXP, OP_LOG, OP_SQRT, OP_SIN, OP_COS, OP_TAN, OP_ATAN, OP_ASIN, OP_ACOS,
 OP_SINH, OP_COSH, OP_TANH, OP_ERF, OP_ERFC, OP_ABS, OP_ASINH, OP_ACOSH, OP_ATANH,
 OP_GAMMA) = range(7, 28)

#: Operations of a program, with their arity.
OPS: dict[str, int] = {"x": 0, "const": 0, "add": 2, "sub": 2, "mul": 2, "div": 2, "fma": 3}
_OPCODE = {"x": OP_X, "const": OP_CONST, "add": OP_ADD, "sub": OP_SUB, "mul": OP_MUL,
           "div": OP_DIV, "fma": OP_FMA}
_COMMUTATIVE = {"add", "mul"}
_SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
_PREC = {"add": 1, "sub": 1, "mul": 2, "div": 2, "fma": 1}
# Fixed probe points of the functional fingerprint (independent of any interval).
_PROBES = (0.0371, 0.1234, 0.3819, 0.5678, 0.7071, 0.9111, 1.3733, 2.9, -0.731, -3.3)


@dataclass(frozen=True)
class Node:
    """One node of a program: ``x``, a constant, or an operation on earlier nodes.

    Attributes
    ----------
    op : str
        One of :data:`OPS`.
    args : tuple of int
        Indices of the operand nodes (earlier in the program).
    value : float
        The constant's value (``op == "const"`` only; 0.0 otherwise).
    """

    op: str
    args: tuple[int, ...] = ()
    value: float = 0.0


def _check_nodes(nodes: Sequence[Node]) -> None:
    if not nodes:
        raise ParseError("a program needs at least one node")
    for i, nd in enumerate(nodes):
        if nd.op not in OPS:
            raise ParseError(f"node {i}: unknown operation {nd.op!r}")
        if len(nd.args) != OPS[nd.op]:
            raise ParseError(f"node {i}: {nd.op} takes {OPS[nd.op]} operands, got {len(nd.args)}")
        for a in nd.args:
            if not isinstance(a, (int, np.integer)) or not 0 <= a < i:
                raise ParseError(f"node {i}: operand {a!r} is not an earlier node")
        if nd.op == "const" and not math.isfinite(nd.value):
            raise DivergenceError(f"node {i}: constant {nd.value!r} is not finite")


@dataclass(frozen=True)
class Program:
    """An immutable straight-line program over ``x``; the last node is the output.

    Build one with :meth:`build` (operator overloading), :class:`ProgramBuilder`, or
    :func:`program_from_dict`. Equality and hashing are structural (node by node); use
    :attr:`key` (canonical form) or :attr:`fingerprint` (the function computed) to deduplicate.

    Examples
    --------
    >>> p = Program.build(lambda x: x * 2.0 + x * 2.0)
    >>> p.canonical()
    Program(t1 = x*2; f = t1 + t1)
    >>> p.cost, len(p.constants)
    (3, 2)
    >>> p.canonical().cost, p.canonical().constants
    (2, (2.0,))
    >>> Program.identity().cost
    0
    """

    nodes: tuple[Node, ...]

    def __post_init__(self) -> None:
        _check_nodes(self.nodes)

    # -- construction --------------------------------------------------------------------------
    @staticmethod
    def identity() -> Program:
        """The program ``x -> x`` every search starts from."""
        return Program((Node("x"),))

    @staticmethod
    def build(fn: Callable[[Any], Any]) -> Program:
        """Trace ``fn(x)`` written with ``+ - * /``, floats and :func:`ProgramBuilder.fma`.

        Examples
        --------
        >>> Program.build(lambda x: 1 / (x + 2) - 0.5)
        Program(f = 1/(x + 2) - 0.5)
        """
        b = ProgramBuilder()
        out = fn(b.x)
        return b.program(out)

    # -- structure -----------------------------------------------------------------------------
    @property
    def output(self) -> int:
        """Index of the output node (the last one)."""
        return len(self.nodes) - 1

    @cached_property
    def _depends_on_x(self) -> tuple[bool, ...]:
        dep: list[bool] = []
        for nd in self.nodes:
            dep.append(nd.op == "x" or any(dep[a] for a in nd.args))
        return tuple(dep)

    @cached_property
    def _reachable(self) -> tuple[bool, ...]:
        seen = [False] * len(self.nodes)
        seen[-1] = True
        for i in range(len(self.nodes) - 1, -1, -1):
            if seen[i]:
                for a in self.nodes[i].args:
                    seen[a] = True
        return tuple(seen)

    @cached_property
    def cost(self) -> int:
        """Number of reachable operations that depend on ``x`` (FMA counts one)."""
        dep, reach = self._depends_on_x, self._reachable
        return sum(
            1 for i, nd in enumerate(self.nodes) if nd.op not in ("x", "const") and dep[i]
            and reach[i]
        )

    @property
    def constants(self) -> tuple[float, ...]:
        """Values of the constant nodes, in node order (the parameters a fit adjusts)."""
        return tuple(nd.value for nd in self.nodes if nd.op == "const")

    def with_constants(self, values: Sequence[float]) -> Program:
        """The same structure with the constants replaced (in node order).

        Examples
        --------
        >>> Program.build(lambda x: x + 1.0).with_constants([3.0])
        Program(f = x + 3)
        """
        values = [float(v) for v in values]
        if len(values) != len(self.constants):
            raise ValueError(f"expected {len(self.constants)} constants, got {len(values)}")
        it = iter(values)
        nodes = tuple(Node("const", (), next(it)) if nd.op == "const" else nd for nd in self.nodes)
        return Program(nodes)

    @property
    def uses_fma(self) -> bool:
        """True if any reachable node is a fused multiply-add."""
        return any(nd.op == "fma" for i, nd in enumerate(self.nodes) if self._reachable[i])

    def without_fma(self) -> Program:
        """Every ``fma(a, b, c)`` replaced by ``a*b + c`` (two roundings instead of one).

        Examples
        --------
        >>> b = ProgramBuilder()
        >>> p = b.program(b.fma(b.x, 2.0, 1.0))
        >>> p.cost, p.without_fma().cost
        (1, 2)
        """
        nodes: list[Node] = []
        where: list[int] = []
        for nd in self.nodes:
            args = tuple(where[a] for a in nd.args)
            if nd.op == "fma":
                nodes.append(Node("mul", args[:2]))
                nodes.append(Node("add", (len(nodes) - 1, args[2])))
            else:
                nodes.append(Node(nd.op, args, nd.value))
            where.append(len(nodes) - 1)
        return Program(tuple(nodes))

    # -- canonical form ------------------------------------------------------------------------
    def canonical(self) -> Program:
        """Canonical form: unreachable nodes dropped, constant subexpressions folded, chains
        of constant shifts or scalings merged (``(y + c1) - c2 -> y + c``, ``c1/(c2*y) ->
        c/y``, when the inner result has no other use), common subexpressions merged,
        commutative operands ordered, nodes in a canonical order with ``x`` first.

        Two programs that differ only by node order, operand order of ``+``/``*`` or duplicated
        subexpressions have the same canonical form (hence the same :attr:`key`). Merging a
        chain changes rounding only (the real function is the same) and saves an operation.

        Examples
        --------
        >>> p = Program.build(lambda x: (2.0 * 3.0) * x + x * x)
        >>> q = Program.build(lambda x: x * x + x * 6.0)
        >>> p.canonical() == q.canonical()
        True
        >>> Program.build(lambda x: 150.0 / (150.0 - (x + 140.0))).canonical()
        Program(f = 150/(10 - x))
        """
        return _canonical(self)

    @cached_property
    def key(self) -> str:
        """Canonical key of the program with its constants (exact, as float hex)."""
        return canonical_key("program", self.canonical().to_dict())

    @cached_property
    def shape_key(self) -> str:
        """Canonical key of the structure alone (constants ignored)."""
        c = self.canonical().to_dict()
        shape = [n if n[0] != "const" else ["const"] for n in c["nodes"]]
        return canonical_key("program-shape", {"nodes": shape})

    @cached_property
    def fingerprint(self) -> str:
        """Hash of the function computed: float64 values at fixed probe points, 10 digits.

        Programs computing the same function (whatever their structure) share a fingerprint;
        a mutation that leaves it unchanged did not change the function.

        Examples
        --------
        >>> a = Program.build(lambda x: x * (x + 1.0))
        >>> b = Program.build(lambda x: x * x + x)
        >>> a.fingerprint == b.fingerprint, a.key == b.key
        (True, False)
        """
        ys = evaluate(self, np.array(_PROBES))
        parts = [f"{v:.10g}" if math.isfinite(v) else "nan" for v in ys.tolist()]
        return canonical_key("program-function", parts)

    # -- evaluation ----------------------------------------------------------------------------
    @cached_property
    def compiled(self) -> tuple[np.ndarray, np.ndarray]:
        """The flat instruction array ``code`` (int64, rows ``[op, a, b, c]``) and constants."""
        code = np.zeros((len(self.nodes), 4), dtype=np.int64)
        consts: list[float] = []
        for i, nd in enumerate(self.nodes):
            code[i, 0] = _OPCODE[nd.op]
            if nd.op == "const":
                code[i, 1] = len(consts)
                consts.append(nd.value)
            else:
                code[i, 1 : 1 + len(nd.args)] = nd.args
        return code, np.array(consts, dtype=np.float64)

    def evaluate_float(self, x: float) -> float:
        """The program at one float64 point (convenience; see :func:`evaluate`)."""
        return float(evaluate(self, np.array([float(x)]))[0])

    def evaluate_mp(self, x: Any, ctx: Any) -> Any:
        """The program in exact real arithmetic, rounded at ``ctx``'s precision.

        Constants are taken exactly (a float is a dyadic rational). As in IEEE arithmetic,
        ``a/0`` is a signed infinity and infinities propagate (so ``x + c/x`` at 0 is ``inf``,
        and ``c/(x + c/x)`` is 0 there), ``0/0`` is ``nan``.

        Examples
        --------
        >>> ctx = mpmath.MPContext(); ctx.dps = 30
        >>> print(Program.build(lambda x: 1 / (x + 2)).evaluate_mp(ctx.mpf(1), ctx))
        0.333333333333333333333333333333
        """
        return _run_mp(self._mp_instrs, (), x, ctx)

    @cached_property
    def _mp_instrs(self) -> tuple:
        return tuple(
            (_OPCODE[nd.op], nd.value if nd.op == "const" else None, *nd.args)
            for nd in self.nodes
        )

    # -- serialisation -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-able form; constants as exact float hex (``float.fromhex`` reads them back).

        Examples
        --------
        >>> Program.build(lambda x: x + 0.5).to_dict()
        {'nodes': [['x'], ['const', '0x1.0000000000000p-1'], ['add', 0, 1]]}
        """
        out = []
        for nd in self.nodes:
            if nd.op == "const":
                out.append(["const", float(nd.value).hex()])
            else:
                out.append([nd.op, *[int(a) for a in nd.args]])
        return {"nodes": out}

    # -- text ----------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"Program({self.to_text()})"

    def to_text(self, digits: int = 6) -> str:
        """Readable let-bindings, e.g. ``t1 = x + 2; f = t1*t1``."""
        lines, out = _lines(self, lambda v: _fmt_const(v, digits), "math")
        return "; ".join([*(f"{n} = {e}" for n, e in lines), f"f = {out}"])

    def to_python(self, name: str = "f") -> str:
        """Python source of a function ``name(x)`` (constants exact, via ``float.fromhex``).

        Examples
        --------
        >>> print(Program.build(lambda x: x * x + 0.5).to_python())
        def f(x):
            return x*x + 0.5
        """
        lines, out = _lines(self, _py_const, "python")
        body = [f"    {n} = {e}" for n, e in lines] + [f"    return {out}"]
        head = f"def {name}(x):"
        if self.uses_fma:
            head = ("from fractions import Fraction\n\n\ndef fma(a, b, c):\n"
                    "    # one rounding: exact rational arithmetic, correctly rounded to float\n"
                    "    return float(Fraction(a) * Fraction(b) + Fraction(c))\n\n\n" + head)
        return "\n".join([head, *body])

    def to_numba(self, name: str = "f") -> str:
        """Source of a numba ``@njit`` function ``name(x)``.

        numba has no fused multiply-add: an FMA, if any, becomes ``a*b + c`` (two roundings).
        """
        lines, out = _lines(self, _py_const, "python")
        body = [f"    {n} = {e}" for n, e in lines] + [f"    return {out}"]
        head = "from numba import njit\n\n\n"
        if self.uses_fma:
            head += "@njit(inline=\"always\")\ndef fma(a, b, c):\n    return a * b + c\n\n\n"
        return "\n".join([head + f"@njit(fastmath=False)\ndef {name}(x):", *body])

    def to_c(self, name: str = "f", ctype: str = "double") -> str:
        """C99 source of ``ctype name(ctype x)``, constants as hex literals, ``fma``/``fmaf``.

        Examples
        --------
        >>> print(Program.build(lambda x: x * 0.5 + 1).to_c())
        #include <math.h>
        double f(double x) {
            return x*0x1.0000000000000p-1 + 0x1.0000000000000p+0;
        }
        """
        suffix = "f" if ctype == "float" else ""
        lines, out = _lines(self, lambda v: float(v).hex() + suffix, "c", fma="fma" + suffix)
        body = [f"    const {ctype} {n} = {e};" for n, e in lines] + [f"    return {out};"]
        return "\n".join(["#include <math.h>", f"{ctype} {name}({ctype} x) {{", *body, "}"])

    def to_sympy(self, exact: bool = True) -> sympy.Expr:
        """A SymPy expression in ``x``; constants as exact rationals (or Floats).

        Examples
        --------
        >>> Program.build(lambda x: (x + 0.5) * x).to_sympy()
        x*(x + 1/2)
        """
        if exact:
            return self.interpret(
                sympy.Symbol("x"), lambda v: sympy.Rational(*v.as_integer_ratio())
            )
        return self.interpret(sympy.Symbol("x"), lambda v: sympy.Float(v, 17))

    def interpret(self, x: Any, const: Callable[[float], Any]) -> Any:
        """Evaluate the DAG over any arithmetic (SymPy, numpy arrays, ...) node by node.

        ``const`` turns a constant into that arithmetic; FMA is ``a*b + c`` there.

        Examples
        --------
        >>> import numpy as np
        >>> Program.build(lambda x: x * x + 1).interpret(np.array([2.0]), float)
        array([5.])
        """
        vals: list[Any] = []
        for nd in self.nodes:
            a = [vals[i] for i in nd.args]
            if nd.op == "x":
                v = x
            elif nd.op == "const":
                v = const(nd.value)
            elif nd.op == "add":
                v = a[0] + a[1]
            elif nd.op == "sub":
                v = a[0] - a[1]
            elif nd.op == "mul":
                v = a[0] * a[1]
            elif nd.op == "div":
                v = a[0] / a[1]
            else:
                v = a[0] * a[1] + a[2]
            vals.append(v)
        return vals[-1]

    def latex(self, digits: int = 6) -> str:
        """LaTeX of the program's expression (constants to ``digits`` digits)."""
        e = self.to_sympy(exact=False)
        e = e.xreplace({f: sympy.Float(f, digits) for f in e.atoms(sympy.Float)})
        return sympy.latex(e)

    def _repr_latex_(self) -> str:
        return f"$f(x) = {self.latex()}$"


def program_from_dict(data: dict) -> Program:
    """Read :meth:`Program.to_dict` output back (validated: any bad entry is a ParseError).

    Examples
    --------
    >>> p = Program.build(lambda x: x / (x + 3.25))
    >>> program_from_dict(p.to_dict()) == p
    True
    """
    try:
        raw = data["nodes"]
        if not isinstance(raw, list) or len(raw) > 10_000:
            raise ParseError("'nodes' must be a list of at most 10000 entries")
        nodes = []
        for entry in raw:
            op = entry[0]
            if op == "const":
                v = entry[1]
                value = float.fromhex(v) if isinstance(v, str) else float(v)
                nodes.append(Node("const", (), value))
            else:
                nodes.append(Node(str(op), tuple(int(a) for a in entry[1:])))
    except (KeyError, IndexError, TypeError, ValueError) as err:
        raise ParseError(f"not a program description: {err}") from None
    return Program(tuple(nodes))


class _Sym:
    """A traced value inside :meth:`Program.build` (supports + - * / with floats)."""

    __slots__ = ("b", "i")

    def __init__(self, builder: ProgramBuilder, index: int):
        self.b, self.i = builder, index

    def _bin(self, op: str, other: Any, swap: bool = False) -> _Sym:
        o = self.b._arg(other)
        a, c = (o, self.i) if swap else (self.i, o)
        return self.b._push(Node(op, (a, c)))

    def __add__(self, o: Any) -> _Sym:
        return self._bin("add", o)

    def __radd__(self, o: Any) -> _Sym:
        return self._bin("add", o, True)

    def __sub__(self, o: Any) -> _Sym:
        return self._bin("sub", o)

    def __rsub__(self, o: Any) -> _Sym:
        return self._bin("sub", o, True)

    def __mul__(self, o: Any) -> _Sym:
        return self._bin("mul", o)

    def __rmul__(self, o: Any) -> _Sym:
        return self._bin("mul", o, True)

    def __truediv__(self, o: Any) -> _Sym:
        return self._bin("div", o)

    def __rtruediv__(self, o: Any) -> _Sym:
        return self._bin("div", o, True)

    def __neg__(self) -> _Sym:
        return self._bin("sub", 0.0, True)


class ProgramBuilder:
    """Builds a program node by node; ``b.x`` is the input.

    Examples
    --------
    >>> b = ProgramBuilder()
    >>> t = b.add(b.x, 1.0)
    >>> b.program(b.mul(t, t))
    Program(t1 = x + 1; f = t1*t1)
    """

    def __init__(self) -> None:
        self.nodes: list[Node] = [Node("x")]
        self.x = _Sym(self, 0)

    def _push(self, node: Node) -> _Sym:
        self.nodes.append(node)
        return _Sym(self, len(self.nodes) - 1)

    def _arg(self, v: Any) -> int:
        if isinstance(v, _Sym):
            if v.b is not self:
                raise ValueError("operand belongs to another builder")
            return v.i
        return self._push(Node("const", (), float(v))).i

    def const(self, v: float) -> _Sym:
        """A constant node."""
        return self._push(Node("const", (), float(v)))

    def add(self, a: Any, b: Any) -> _Sym:
        return self._push(Node("add", (self._arg(a), self._arg(b))))

    def sub(self, a: Any, b: Any) -> _Sym:
        return self._push(Node("sub", (self._arg(a), self._arg(b))))

    def mul(self, a: Any, b: Any) -> _Sym:
        return self._push(Node("mul", (self._arg(a), self._arg(b))))

    def div(self, a: Any, b: Any) -> _Sym:
        return self._push(Node("div", (self._arg(a), self._arg(b))))

    def fma(self, a: Any, b: Any, c: Any) -> _Sym:
        """``a*b + c`` with one rounding."""
        return self._push(Node("fma", (self._arg(a), self._arg(b), self._arg(c))))

    def program(self, out: Any) -> Program:
        """The program whose output is ``out`` (nodes after it are dropped by canonical())."""
        i = self._arg(out)
        nodes = list(self.nodes[: i + 1])
        return Program(tuple(nodes))


# ---------------------------------------------------------------------------------------------
# Canonical form


def _fold(op: str, a: list[float]) -> float:
    if op == "add":
        return a[0] + a[1]
    if op == "sub":
        return a[0] - a[1]
    if op == "mul":
        return a[0] * a[1]
    if op == "div":
        return a[0] / a[1] if a[1] != 0 else math.inf
    return a[0] * a[1] + a[2]


def _affine(nd: Node, is_const: Sequence[bool], nodes: Sequence[Node]):
    """``(y, s, c)`` with ``node = s*y + c`` (``s = +-1``) for ``+``/``-`` with one constant
    operand, else None."""
    if nd.op not in ("add", "sub"):
        return None
    a, b = nd.args
    if is_const[a] == is_const[b]:
        return None
    if nd.op == "add":
        return (b, 1.0, nodes[a].value) if is_const[a] else (a, 1.0, nodes[b].value)
    return (b, -1.0, nodes[a].value) if is_const[a] else (a, 1.0, -nodes[b].value)


def _scaling(nd: Node, is_const: Sequence[bool], nodes: Sequence[Node]):
    """``(y, e, k)`` with ``node = k * y^e`` (``e = +-1``) for ``*``/``/`` with one constant
    operand, else None."""
    if nd.op not in ("mul", "div"):
        return None
    a, b = nd.args
    if is_const[a] == is_const[b]:
        return None
    if nd.op == "mul":
        return (b, 1, nodes[a].value) if is_const[a] else (a, 1, nodes[b].value)
    if is_const[a]:
        return (b, -1, nodes[a].value)
    v = nodes[b].value
    return (a, 1, 1.0 / v) if v != 0 else None


def _merge_through_sum(nodes: list[Node], is_const: list[bool], uses: list[int], i: int,
                       const: Callable[[float], int]) -> None:
    """``((y + c2) + q) - c1 -> (y + q) + c``: node ``i`` adds a constant to a sum or difference
    ``m`` (used once) of two non-constants, one of which (used once) adds a constant itself."""
    outer = _affine(nodes[i], is_const, nodes)
    if outer is None:
        return
    m, s1, c1 = outer
    mid = nodes[m]
    if uses[m] != 1 or mid.op not in ("add", "sub") or any(is_const[a] for a in mid.args):
        return
    for slot in (0, 1):
        p, q = mid.args[slot], mid.args[1 - slot]
        inner = _affine(nodes[p], is_const, nodes) if uses[p] == 1 else None
        if inner is None:
            continue
        y, s2, c2 = inner
        a = -1.0 if (mid.op == "sub" and slot == 1) else 1.0  # sign of p in m
        b = -1.0 if (mid.op == "sub" and slot == 0) else 1.0  # sign of q in m
        c = s1 * a * c2 + c1
        if not math.isfinite(c):
            return
        al = a * s2  # m = al*y + b*q + a*c2
        if al > 0 and b > 0:
            new_mid, sign = Node("add", (y, q)), 1.0
        elif al > 0:
            new_mid, sign = Node("sub", (y, q)), 1.0
        elif b > 0:
            new_mid, sign = Node("sub", (q, y)), 1.0
        else:
            new_mid, sign = Node("add", (y, q)), -1.0
        nodes[m] = new_mid
        uses[p] -= 1
        nodes[i] = (Node("add", (m, const(c))) if s1 * sign > 0
                    else Node("sub", (const(c), m)))
        return


def _merge_constant_chains(nodes: list[Node], is_const: list[bool]) -> list[Node]:
    """Merge ``(y + c1) - c2 -> y + c``, ``c1 - (y + c2) -> c - y``, ``(y * c1) / c2 -> y * c``,
    ``c1 / (c2 / y) -> y * c``, ... when the inner node has no other use: the same function
    (up to rounding) with one operation less. Appends the new constants; rewrites in place."""
    out = len(nodes) - 1
    live = [False] * len(nodes)  # uses are counted from live nodes only
    live[out] = True
    uses = [0] * len(nodes)
    for i in range(out, -1, -1):
        if live[i]:
            for a in nodes[i].args:
                live[a] = True
                uses[a] += 1
    nodes = list(nodes)
    is_const = list(is_const)

    def const(v: float) -> int:
        nodes.append(Node("const", (), float(v)))
        is_const.append(True)
        return len(nodes) - 1

    for i in range(out + 1):
        if not live[i]:
            continue
        nd = nodes[i]
        for kind in (_affine, _scaling):
            outer = kind(nd, is_const, nodes)
            if outer is None:
                continue
            m, s1, c1 = outer
            inner = kind(nodes[m], is_const, nodes) if uses[m] == 1 else None
            if inner is None:
                continue
            y, s2, c2 = inner
            if kind is _affine:
                c = s1 * c2 + c1
                if not math.isfinite(c):
                    continue
                nd = (Node("add", (y, const(c))) if s1 * s2 > 0
                      else Node("sub", (const(c), y)))
            else:
                k = c1 * (c2 if s1 > 0 else 1.0 / c2) if c2 != 0 else math.inf
                if not math.isfinite(k) or k == 0:
                    continue
                nd = (Node("mul", (y, const(k))) if s1 * s2 > 0
                      else Node("div", (const(k), y)))
            uses[m] -= 1
            nodes[i] = nd
            break
        else:
            _merge_through_sum(nodes, is_const, uses, i, const)
    # the output stays last: move it behind the appended constants
    if len(nodes) - 1 != out:
        nodes.append(nodes[out])
        nodes[out] = Node("const", (), 0.0)  # unreachable placeholder, dropped below
    return nodes


def _canonical(p: Program) -> Program:
    # 1. fold constant-only subexpressions (values in float64)
    nodes = list(p.nodes)
    is_const = [False] * len(nodes)
    for i, nd in enumerate(nodes):
        if nd.op == "const":
            is_const[i] = True
        elif nd.op != "x" and all(is_const[a] for a in nd.args):
            v = _fold(nd.op, [nodes[a].value for a in nd.args])
            if not math.isfinite(v):
                raise DivergenceError(f"constant subexpression at node {i} is not finite")
            nodes[i] = Node("const", (), v)
            is_const[i] = True
    for _ in range(16):  # to a fixed point (each merge appends one constant)
        merged = _merge_constant_chains(nodes, is_const)
        if len(merged) == len(nodes):
            break
        nodes = merged
        is_const = [nd.op == "const" for nd in nodes]
    # 2. structural (Merkle) digests, order-independent for commutative operations
    # (leaves first: merged chains refer to constants appended after them)
    h: list[bytes] = [b""] * len(nodes)
    leaves = [i for i, nd in enumerate(nodes) if not nd.args]
    for i in leaves + [i for i, nd in enumerate(nodes) if nd.args]:
        nd = nodes[i]
        if nd.op == "x":
            data = b"x"
        elif nd.op == "const":
            data = b"c" + float(nd.value).hex().encode()
        else:
            ch = [h[a] for a in nd.args]
            if nd.op in _COMMUTATIVE:
                ch = sorted(ch)
            elif nd.op == "fma":
                ch = sorted(ch[:2]) + ch[2:]
            data = nd.op.encode() + b"".join(ch)
        h[i] = hashlib.blake2b(data, digest_size=16).digest()
    # 3. post-order from the output, operands in canonical order, merging equal subtrees
    new: list[Node] = [Node("x")]
    index: dict[bytes, int] = {hashlib.blake2b(b"x", digest_size=16).digest(): 0}

    def visit(i: int) -> int:
        hi = h[i]
        if hi in index:
            return index[hi]
        nd = nodes[i]
        if nd.op == "const":
            new.append(Node("const", (), nd.value))
        else:
            order = list(nd.args)
            if nd.op in _COMMUTATIVE:
                order = sorted(order, key=lambda a: h[a])
            elif nd.op == "fma":
                order = sorted(order[:2], key=lambda a: h[a]) + order[2:]
            args = tuple(visit(a) for a in order)
            new.append(Node(nd.op, args))
        index[hi] = len(new) - 1
        return len(new) - 1

    limit = sys.getrecursionlimit()
    if len(nodes) + 100 > limit:
        sys.setrecursionlimit(len(nodes) + 200)
    out = visit(len(nodes) - 1)
    if out != len(new) - 1:  # the output is x itself
        return Program((Node("x"),))
    if len(new) > 1 and nodes[-1].op == "const":
        # a constant program: drop the unused x
        return Program((Node("x"), new[-1]))
    return Program(tuple(new))


# ---------------------------------------------------------------------------------------------
# Text output


def _fmt_const(v: float, digits: int) -> str:
    text = f"{v:.{digits}g}"
    return text if v >= 0 else f"({text})"


def _py_const(v: float) -> str:
    r = repr(float(v))
    return r if v >= 0 else f"({r})"


def _lines(p: Program, const: Callable[[float], str], style: str, fma: str = "fma"):
    nodes = p.nodes
    uses = [0] * len(nodes)
    for i, nd in enumerate(nodes):
        if p._reachable[i]:
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
        a = [exprs[j] for j in nd.args]
        if nd.op == "fma":
            text, prec = f"{fma}({a[0][0]}, {a[1][0]}, {a[2][0]})", 3
        else:
            prec = _PREC[nd.op]
            left = _paren(a[0], prec)
            right = _paren(a[1], prec + (1 if nd.op in ("sub", "div") else 0))
            if nd.op == "mul":
                right = _paren(a[1], prec + 1) if a[1][1] < prec else a[1][0]
            if nd.op == "add":
                right = a[1][0] if a[1][1] >= 1 else f"({a[1][0]})"
            symbol = _SYMBOL[nd.op]
            rnode = nodes[nd.args[1]]
            if nd.op in ("add", "sub") and rnode.op == "const" and rnode.value < 0:
                symbol = "-" if nd.op == "add" else "+"
                right = const(-rnode.value)
            text = f"{left}{' ' if prec == 1 else ''}{symbol}{' ' if prec == 1 else ''}{right}"
        if uses[i] > 1 and i != len(nodes) - 1 and p._reachable[i]:
            count += 1
            name = f"t{count}"
            lines.append((name, text))
            exprs.append((name, 3))
        else:
            exprs.append((text, prec))
    return lines, exprs[-1][0]


def _paren(e: tuple[str, int], prec: int) -> str:
    return e[0] if e[1] >= prec else f"({e[0]})"


# ---------------------------------------------------------------------------------------------
# Targets: functions of x parsed safely


_FUNC_OPS = {
    "exp": OP_EXP, "log": OP_LOG, "sin": OP_SIN, "cos": OP_COS, "tan": OP_TAN,
    "atan": OP_ATAN, "asin": OP_ASIN, "acos": OP_ACOS, "sinh": OP_SINH, "cosh": OP_COSH,
    "tanh": OP_TANH, "erf": OP_ERF, "erfc": OP_ERFC, "Abs": OP_ABS, "asinh": OP_ASINH,
    "acosh": OP_ACOSH, "atanh": OP_ATANH, "gamma": OP_GAMMA,
}


@dataclass(frozen=True)
class Target:
    """A real function of ``x`` to approximate, parsed safely from text.

    Attributes
    ----------
    text : str
        What the user wrote (``"2^x"``, ``"log2(x)"``, ``"erf(x)"``, ...).

    Examples
    --------
    >>> t = parse_target("2^x")
    >>> t
    Target(2**x)
    >>> ctx = mpmath.MPContext(); ctx.dps = 20
    >>> print(t.evaluate_mp(ctx.mpf("0.5"), ctx))
    1.4142135623730950488
    >>> float(t.evaluate64(np.array([3.0]))[0])
    8.0
    """

    text: str
    expr: sympy.Expr = field(compare=False, repr=False)
    code: np.ndarray = field(compare=False, repr=False)
    const_exprs: tuple = field(compare=False, repr=False)

    def __repr__(self) -> str:
        return f"Target({self.expr})"

    @cached_property
    def consts64(self) -> np.ndarray:
        from solvers.expr import evaluate_expression

        def rounded(c: sympy.Expr) -> float:
            if c.is_Rational:  # Python rounds p/q correctly once (no double rounding)
                return int(c.p) / int(c.q)
            return float(evaluate_expression(c, 40))

        return np.array([rounded(c) for c in self.const_exprs], dtype=np.float64)

    @lru_cache(maxsize=8)  # noqa: B019 - frozen, hashable instances; a handful of precisions
    def _consts_mp(self, dps: int) -> tuple:
        from solvers.expr import evaluate_expression

        return tuple(evaluate_expression(c, dps) for c in self.const_exprs)

    def evaluate_mp(self, x: Any, ctx: Any) -> Any:
        """The target at ``x`` in the local context ``ctx`` (``nan`` where undefined)."""
        consts = self._consts_mp(ctx.dps + 10)
        return _run_mp(self._instrs, consts, x, ctx)

    @cached_property
    def _instrs(self) -> tuple:
        return tuple((int(r[0]), None, int(r[1]), int(r[2]), int(r[3])) for r in self.code)

    def evaluate64(self, xs: np.ndarray) -> np.ndarray:
        """The target in float64 (library functions, about 1 ulp): for float32 checks."""
        xs = np.ascontiguousarray(xs, dtype=np.float64)
        regs = np.empty((self.code.shape[0], xs.shape[0]))
        _run64(self.code, self.consts64, xs, regs)
        return regs[-1].copy()

    def latex(self) -> str:
        return sympy.latex(self.expr)

    def is_positive_on(self, a: float, b: float, points: int = 65) -> bool:
        """True if the target is positive at ``points`` equispaced points of ``[a, b]``."""
        ctx = mpmath.MPContext()
        ctx.dps = 20
        pts = [ctx.mpf(a) + (ctx.mpf(b) - a) * k / (points - 1) for k in range(points)]
        return all(self.evaluate_mp(t, ctx) > 0 for t in pts)


@lru_cache(maxsize=64)
def parse_target(text: str) -> Target:
    """Parse a function of ``x`` (safe parser; never eval/sympify).

    Raises
    ------
    ParseError
        Bad syntax, unknown names, or a function this module cannot evaluate in float64.

    Examples
    --------
    >>> parse_target("log2(x)")
    Target(log(x)/log(2))
    >>> parse_target("exp(-x^2/2)").evaluate64(np.array([0.0]))
    array([1.])
    >>> parse_target("__import__('os')")
    Traceback (most recent call last):
    ...
    solvers.errors.ParseError: ...
    """
    if isinstance(text, Target):
        return text
    from solvers.expr import parse_expression

    expr = parse_expression(str(text), variables=["x"])
    x = sympy.Symbol("x")
    rows: list[list[int]] = []
    consts: list[sympy.Expr] = []
    memo: dict[sympy.Expr, int] = {}

    def emit(op: int, a: int = 0, b: int = 0, c: int = 0) -> int:
        rows.append([op, a, b, c])
        return len(rows) - 1

    def const(e: sympy.Expr) -> int:
        consts.append(e)
        return emit(OP_CONST, len(consts) - 1)

    def walk(e: sympy.Expr) -> int:
        if e in memo:
            return memo[e]
        if e == x:
            r = emit(OP_X)
        elif not e.has(x):
            r = const(e)
        elif isinstance(e, sympy.Add):
            r = walk(e.args[0])
            for a in e.args[1:]:
                r = emit(OP_ADD, r, walk(a))
        elif isinstance(e, sympy.Mul):
            num = [a for a in e.args if not (isinstance(a, sympy.Pow) and a.exp == -1)]
            den = [a.base for a in e.args if isinstance(a, sympy.Pow) and a.exp == -1]
            r = walk(num[0]) if num else const(sympy.Integer(1))
            for a in num[1:]:
                r = emit(OP_MUL, r, walk(a))
            for a in den:
                r = emit(OP_DIV, r, walk(a))
        elif isinstance(e, sympy.Pow):
            base, ex = e.args
            if ex == -1:
                r = emit(OP_DIV, const(sympy.Integer(1)), walk(base))
            elif ex == 2:
                b = walk(base)
                r = emit(OP_MUL, b, b)
            elif ex == sympy.Rational(1, 2):
                r = emit(OP_SQRT, walk(base))
            else:
                r = emit(OP_POW, walk(base), walk(ex))
        elif isinstance(e, sympy.Function) and type(e).__name__ in _FUNC_OPS and len(
                e.args) == 1:
            r = emit(_FUNC_OPS[type(e).__name__], walk(e.args[0]))
        else:
            raise ParseError(f"cannot evaluate {type(e).__name__} of x in float64", str(text))
        memo[e] = r
        return r

    walk(expr)
    code = np.array(rows, dtype=np.int64).reshape(-1, 4)
    return Target(str(text), expr, code, tuple(consts))


# ---------------------------------------------------------------------------------------------
# The interpreters (mpmath reference, numba float64/float32)


def _run_mp(instrs: tuple, consts: tuple, x: Any, ctx: Any) -> Any:
    regs: list[Any] = []
    x = ctx.convert(x)
    try:
        for op, value, *args in instrs:
            a = regs[args[0]] if op > OP_CONST else None
            if op == OP_X:
                v = x
            elif op == OP_CONST:
                v = ctx.mpf(value) if value is not None else consts[args[0]]
            elif op == OP_ADD:
                v = a + regs[args[1]]
            elif op == OP_SUB:
                v = a - regs[args[1]]
            elif op == OP_MUL:
                v = a * regs[args[1]]
            elif op == OP_DIV:
                d = regs[args[1]]
                if d == 0:  # IEEE semantics: a/0 is a signed infinity, 0/0 is nan
                    v = ctx.nan if a == 0 or ctx.isnan(a) else ctx.inf * ctx.sign(a)
                else:
                    v = a / d
            elif op == OP_FMA:
                v = ctx.fadd(ctx.fmul(a, regs[args[1]], exact=True), regs[args[2]])
            elif op == OP_NEG:
                v = -a
            elif op == OP_POW:
                v = ctx.power(a, regs[args[1]])
            elif op == OP_SQRT:
                v = ctx.sqrt(a)
            elif op == OP_ABS:
                v = abs(a)
            else:
                v = getattr(ctx, _MP_NAMES[op])(a)
            if isinstance(v, ctx.mpc):
                return ctx.nan
            regs.append(v)
    except (ZeroDivisionError, ValueError):
        return ctx.nan
    return regs[-1]


_MP_NAMES = {
    OP_EXP: "exp", OP_LOG: "ln", OP_SIN: "sin", OP_COS: "cos", OP_TAN: "tan", OP_ATAN: "atan",
    OP_ASIN: "asin", OP_ACOS: "acos", OP_SINH: "sinh", OP_COSH: "cosh", OP_TANH: "tanh",
    OP_ERF: "erf", OP_ERFC: "erfc", OP_ASINH: "asinh", OP_ACOSH: "acosh", OP_ATANH: "atanh",
    OP_GAMMA: "gamma",
}

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}


@numba.njit(**_JIT)
def _unary(op, v):  # pragma: no cover - compiled
    if op == OP_NEG:
        return -v
    if op == OP_EXP:
        return math.exp(v)
    if op == OP_LOG:
        return math.log(v) if v > 0 else (-math.inf if v == 0 else math.nan)
    if op == OP_SQRT:
        return math.sqrt(v) if v >= 0 else math.nan
    if op == OP_SIN:
        return math.sin(v)
    if op == OP_COS:
        return math.cos(v)
    if op == OP_TAN:
        return math.tan(v)
    if op == OP_ATAN:
        return math.atan(v)
    if op == OP_ASIN:
        return math.asin(v) if abs(v) <= 1 else math.nan
    if op == OP_ACOS:
        return math.acos(v) if abs(v) <= 1 else math.nan
    if op == OP_SINH:
        return math.sinh(v)
    if op == OP_COSH:
        return math.cosh(v)
    if op == OP_TANH:
        return math.tanh(v)
    if op == OP_ERF:
        return math.erf(v)
    if op == OP_ERFC:
        return math.erfc(v)
    if op == OP_ABS:
        return abs(v)
    if op == OP_ASINH:
        return math.asinh(v)
    if op == OP_ACOSH:
        return math.acosh(v) if v >= 1 else math.nan
    if op == OP_ATANH:
        return math.atanh(v) if abs(v) < 1 else math.nan
    if op == OP_GAMMA:
        return math.gamma(v)
    return math.nan


@numba.njit(**_JIT)
def _run64(code, consts, xs, regs):  # pragma: no cover - compiled
    """Evaluate ``code`` on every x: registers ``regs`` (n_nodes, n_points), float64."""
    m = xs.shape[0]
    for k in range(code.shape[0]):
        op = code[k, 0]
        a = code[k, 1]
        b = code[k, 2]
        if op == OP_X:
            for i in range(m):
                regs[k, i] = xs[i]
        elif op == OP_CONST:
            v = consts[a]
            for i in range(m):
                regs[k, i] = v
        elif op == OP_ADD:
            for i in range(m):
                regs[k, i] = regs[a, i] + regs[b, i]
        elif op == OP_SUB:
            for i in range(m):
                regs[k, i] = regs[a, i] - regs[b, i]
        elif op == OP_MUL:
            for i in range(m):
                regs[k, i] = regs[a, i] * regs[b, i]
        elif op == OP_DIV:
            for i in range(m):
                regs[k, i] = regs[a, i] / regs[b, i]
        elif op == OP_FMA:
            c = code[k, 3]
            for i in range(m):
                regs[k, i] = regs[a, i] * regs[b, i] + regs[c, i]
        elif op == OP_POW:
            for i in range(m):
                regs[k, i] = regs[a, i] ** regs[b, i]
        else:
            for i in range(m):
                regs[k, i] = _unary(op, regs[a, i])


@numba.njit(inline="always", **_JIT)
def _fma32_impl(a, b, c):  # pragma: no cover - compiled
    p = np.float64(a) * np.float64(b)  # exact: 24 + 24 bits <= 53
    c64 = np.float64(c)
    s = p + c64
    bb = s - p
    e = (p - (s - bb)) + (c64 - bb)  # TwoSum: s + e == p + c exactly
    r = np.float32(s)
    if e != 0.0 and math.isfinite(s):
        r64 = np.float64(r)
        d = s - r64
        if d != 0.0:
            t = r64 + 2.0 * d  # the other float32 neighbour iff s is a float32 midpoint
            if np.float64(np.float32(t)) == t and ((e > 0.0) == (d > 0.0)):
                r = np.float32(t)
    return r


@numba.njit(**_JIT)
def fma32(a, b, c):  # pragma: no cover - compiled
    """Correctly rounded float32 ``a*b + c`` (one rounding), emulated in float64.

    ``a*b`` is exact in float64, but rounding ``a*b + c`` to float64 and then to float32 is
    NOT always correct (double rounding): e.g. ``fma(65281, 257*2^-24, 2^-80)`` is
    ``1 + 2^-24 + 2^-80``, which float64 rounds to the float32 midpoint ``1 + 2^-24`` and then
    float32 rounds (to even) down to 1 instead of up to ``1 + 2^-23``. Here the float64 sum's
    exact error (TwoSum) breaks such ties in the right direction.

    Examples
    --------
    >>> a, b, c = np.float32(65281), np.float32(257 * 2.0**-24), np.float32(2.0**-80)
    >>> float(fma32(a, b, c)) == 1 + 2**-23
    True
    >>> float(np.float32(np.float64(a) * np.float64(b) + np.float64(c)))  # naive: wrong
    1.0
    """
    return _fma32_impl(a, b, c)


@numba.njit(**_JIT)
def _run32(code, consts, xs, regs):  # pragma: no cover - compiled
    """float32 evaluation: every operation correctly rounded to float32 (FMA: once)."""
    m = xs.shape[0]
    for k in range(code.shape[0]):
        op = code[k, 0]
        a = code[k, 1]
        b = code[k, 2]
        if op == OP_X:
            for i in range(m):
                regs[k, i] = xs[i]
        elif op == OP_CONST:
            v = np.float32(consts[a])
            for i in range(m):
                regs[k, i] = v
        elif op == OP_ADD:
            for i in range(m):
                regs[k, i] = np.float32(np.float64(regs[a, i]) + np.float64(regs[b, i]))
        elif op == OP_SUB:
            for i in range(m):
                regs[k, i] = np.float32(np.float64(regs[a, i]) - np.float64(regs[b, i]))
        elif op == OP_MUL:
            for i in range(m):
                regs[k, i] = np.float32(np.float64(regs[a, i]) * np.float64(regs[b, i]))
        elif op == OP_DIV:
            for i in range(m):
                regs[k, i] = np.float32(np.float64(regs[a, i]) / np.float64(regs[b, i]))
        elif op == OP_FMA:
            c = code[k, 3]
            for i in range(m):
                regs[k, i] = _fma32_impl(regs[a, i], regs[b, i], regs[c, i])
        else:
            for i in range(m):
                regs[k, i] = math.nan


def evaluate(program: Program, xs: np.ndarray, dtype: Any = np.float64,
             consts: np.ndarray | None = None) -> np.ndarray:
    """The program at every point of ``xs``, in float64 or (``dtype=np.float32``) float32.

    float32 evaluation rounds every operation correctly to float32 (constants are rounded to
    float32 first), and FMA once, as IEEE hardware with FMA does. ``consts`` replaces the
    program's constants (in node order) without building a new program.

    Examples
    --------
    >>> p = Program.build(lambda x: x / 3.0)
    >>> evaluate(p, np.array([1.0, 2.0]))
    array([0.33333333, 0.66666667])
    >>> evaluate(p, np.array([1.0], dtype=np.float32), np.float32).dtype
    dtype('float32')
    """
    code, own = program.compiled
    consts = own if consts is None else np.ascontiguousarray(consts, dtype=np.float64)
    dtype = np.dtype(dtype)
    xs = np.ascontiguousarray(xs, dtype=dtype)
    regs = np.empty((code.shape[0], xs.shape[0]), dtype=dtype)
    if dtype == np.float64:
        _run64(code, consts, xs, regs)
    elif dtype == np.float32:
        _run32(code, consts, xs, regs)
    else:
        raise ValueError(f"dtype must be float64 or float32, not {dtype}")
    return regs[-1].copy()


@numba.njit(**_JIT)
def _batch_max_error(code, consts2d, xs, f, w, regs, out):  # pragma: no cover - compiled
    n = code.shape[0]
    m = xs.shape[0]
    for r in range(consts2d.shape[0]):
        _run64(code, consts2d[r], xs, regs)
        worst = 0.0
        for i in range(m):
            e = abs(regs[n - 1, i] - f[i]) * w[i]
            if not (e <= worst):  # also catches nan
                worst = e if e == e else math.inf
        out[r] = worst


def evaluate_batch_max_error(program: Program, consts2d: np.ndarray, xs: np.ndarray,
                             f: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Max weighted error ``max |p_c(x) - f| * w`` for every row ``c`` of ``consts2d``.

    The inner loop of constant fitting: one compiled call for a whole CMA-ES population.
    Non-finite values count as ``inf``.

    Examples
    --------
    >>> p = Program.build(lambda x: x * 1.0)
    >>> xs = np.linspace(0, 1, 5)
    >>> evaluate_batch_max_error(p, np.array([[1.0], [2.0]]), xs, xs, np.ones(5))
    array([0., 1.])
    """
    code, _ = program.compiled
    consts2d = np.ascontiguousarray(consts2d, dtype=np.float64).reshape(consts2d.shape[0], -1)
    out = np.empty(consts2d.shape[0])
    regs = np.empty((code.shape[0], xs.shape[0]))
    _batch_max_error(code, consts2d, np.ascontiguousarray(xs, np.float64),
                     np.ascontiguousarray(f, np.float64), np.ascontiguousarray(w, np.float64),
                     regs, out)
    return out


@numba.njit(**_JIT)
def _jacobian(code, consts, xs, vals, grads):  # pragma: no cover - compiled
    n = code.shape[0]
    m = xs.shape[0]
    nc = consts.shape[0]
    for k in range(n):
        op = code[k, 0]
        a = code[k, 1]
        b = code[k, 2]
        c = code[k, 3]
        for i in range(m):
            if op == OP_X:
                vals[k, i] = xs[i]
                for j in range(nc):
                    grads[k, j, i] = 0.0
            elif op == OP_CONST:
                vals[k, i] = consts[a]
                for j in range(nc):
                    grads[k, j, i] = 1.0 if j == a else 0.0
            elif op == OP_ADD:
                vals[k, i] = vals[a, i] + vals[b, i]
                for j in range(nc):
                    grads[k, j, i] = grads[a, j, i] + grads[b, j, i]
            elif op == OP_SUB:
                vals[k, i] = vals[a, i] - vals[b, i]
                for j in range(nc):
                    grads[k, j, i] = grads[a, j, i] - grads[b, j, i]
            elif op == OP_MUL:
                u = vals[a, i]
                v = vals[b, i]
                vals[k, i] = u * v
                for j in range(nc):
                    grads[k, j, i] = grads[a, j, i] * v + u * grads[b, j, i]
            elif op == OP_DIV:
                u = vals[a, i]
                v = vals[b, i]
                q = u / v
                vals[k, i] = q
                for j in range(nc):
                    grads[k, j, i] = (grads[a, j, i] - q * grads[b, j, i]) / v
            elif op == OP_FMA:
                u = vals[a, i]
                v = vals[b, i]
                vals[k, i] = u * v + vals[c, i]
                for j in range(nc):
                    grads[k, j, i] = grads[a, j, i] * v + u * grads[b, j, i] + grads[c, j, i]


def evaluate_jacobian(program: Program, xs: np.ndarray,
                      consts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Values and derivatives with respect to the constants (forward mode), float64.

    Returns ``(y, J)`` with ``y.shape == (len(xs),)`` and ``J.shape == (len(xs), n_consts)``;
    ``consts`` replaces the program's constants.

    Examples
    --------
    >>> p = Program.build(lambda x: 2.0 * x + 3.0)
    >>> y, J = evaluate_jacobian(p, np.array([5.0]))
    >>> y.tolist(), J.tolist()
    ([13.0], [[5.0, 1.0]])
    """
    code, own = program.compiled
    consts = own if consts is None else np.ascontiguousarray(consts, dtype=np.float64)
    xs = np.ascontiguousarray(xs, dtype=np.float64)
    n, m, nc = code.shape[0], xs.shape[0], consts.shape[0]
    vals = np.empty((n, m))
    grads = np.empty((n, max(nc, 1), m))
    _jacobian(code, consts, xs, vals, grads)
    return vals[-1].copy(), grads[-1, :nc, :].T.copy()


# ---------------------------------------------------------------------------------------------
# Error measurement


def _weights(f: np.ndarray, error: str) -> np.ndarray:
    if error == "absolute":
        return np.ones_like(f)
    if error == "relative":
        with np.errstate(divide="ignore"):
            w = 1.0 / np.abs(f)
        w[~np.isfinite(w)] = 0.0
        return w
    raise ValueError(f"error must be 'relative' or 'absolute', not {error!r}")


@lru_cache(maxsize=32)
def _fit_grid_cached(text: str, a: float, b: float, n: int, error: str):
    target = parse_target(text)
    # Chebyshev points of the second kind (dense at the ends, where extrema cluster) merged
    # with a uniform grid.
    k = np.arange(n // 2)
    cheb = (a + b) / 2 - (b - a) / 2 * np.cos(np.pi * k / max(n // 2 - 1, 1))
    uni = np.linspace(a, b, n - n // 2)
    xs = np.unique(np.clip(np.concatenate([cheb, uni]), a, b))
    ctx = mpmath.MPContext()
    ctx.dps = 30
    f = np.array([float(target.evaluate_mp(ctx.mpf(float(t)), ctx)) for t in xs])
    ok = np.isfinite(f)
    xs, f = xs[ok], f[ok]
    w = _weights(f, error)
    for arr in (xs, f, w):
        arr.setflags(write=False)
    return xs, f, w


def fit_grid(target: str | Target, interval: tuple[float, float], n: int = 1000,
             error: str = "relative") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points ``xs``, accurate target values ``f`` and error weights ``w`` (float64), for
    fitting: the weighted error of ``p`` is ``max |p(xs) - f| * w``.

    Examples
    --------
    >>> xs, f, w = fit_grid("2^x", (0, 1), 100)
    >>> len(xs) > 90, float(f[-1]), float(w[-1])
    (True, 2.0, 0.5)
    """
    t = parse_target(target) if isinstance(target, str) else target
    a, b = (float(v) for v in interval)
    if not a < b:
        raise ValueError(f"empty interval [{a}, {b}]")
    return _fit_grid_cached(t.text, a, b, int(n), error)


def grid_error(program: Program, target: str | Target, interval: tuple[float, float],
               error: str = "relative", n: int = 1000) -> float:
    """Max error of the program evaluated in float64 on the fitting grid (fast, approximate).

    Examples
    --------
    >>> round(grid_error(Program.build(lambda x: 1 + 0.69 * x), "2^x", (0, 1)), 4)
    0.155
    """
    xs, f, w = fit_grid(target, interval, n, error)
    return float(evaluate_batch_max_error(program, np.array([program.constants]), xs, f, w)[0])


@dataclass(frozen=True)
class ErrorMeasure:
    """The measured maximum error of an approximation on an interval.

    Attributes
    ----------
    max_error : float
        The largest error found (relative or absolute).
    argmax : float
        Where it occurs.
    error : str
        ``"relative"`` or ``"absolute"``.
    grid : int
        Number of grid points (before local maximisation).
    dps : int
        Working precision (decimal digits) of the reference and of the evaluation.
    refined : int
        Number of grid peaks maximised locally by golden-section search.
    """

    max_error: float
    argmax: float
    error: str
    grid: int
    dps: int
    refined: int

    def __repr__(self) -> str:
        return (f"ErrorMeasure(max {self.error} error {self.max_error:.4g} at x = "
                f"{self.argmax:.6g}; grid {self.grid}, {self.dps} digits)")


@lru_cache(maxsize=16)
def _reference_grid(text: str, a: str, b: str, n: int, dps: int) -> tuple:
    ctx = mpmath.MPContext()
    ctx.dps = dps
    t = parse_target(text)
    lo, hi = ctx.mpf(a), ctx.mpf(b)
    xs = [lo + (hi - lo) * i / (n - 1) for i in range(n)]
    return tuple(xs), tuple(t.evaluate_mp(x, ctx) for x in xs)


def measure_error(approx: Any, target: str | Target, interval: tuple[Any, Any],
                  error: str = "relative", dps: int = 50, grid: int = 20000,
                  refine: int = 12) -> ErrorMeasure:
    """Maximum error of ``approx`` against ``target`` on ``[a, b]``, in exact arithmetic.

    Both the target (the >= 50-digit reference) and ``approx`` (anything with
    ``evaluate_mp(x, ctx)``: a :class:`Program`, a baseline approximation) are evaluated in a
    local mpmath context at ``dps`` digits on ``grid`` equispaced points; then the ``refine``
    largest local maxima of the error on the grid are maximised by golden-section search in
    their neighbouring grid cells.

    Raises
    ------
    PrecisionError
        If ``dps`` is below 20 (the error of a good approximation would drown in rounding).

    Examples
    --------
    >>> p = Program.build(lambda x: 1 + x * (0.6951 + x * 0.3049))  # 2^(1/2) is 1.41421...
    >>> m = measure_error(p, "2^x", (0, 1), grid=2000)
    >>> round(m.max_error, 5), round(m.argmax, 3)
    (0.00735, 0.621)
    """
    if dps < 20:
        raise PrecisionError(f"measure_error needs at least 20 digits, got {dps}")
    if grid < 3:
        raise ValueError("grid must have at least 3 points")
    t = parse_target(target) if isinstance(target, str) else target
    ctx = mpmath.MPContext()
    ctx.dps = dps
    a, b = ctx.mpf(interval[0]), ctx.mpf(interval[1])
    xs, fs = _reference_grid(t.text, mpmath.nstr(a, dps + 5), mpmath.nstr(b, dps + 5),
                             int(grid), int(dps))

    def err_at(x: Any, fx: Any = None) -> Any:
        fx = t.evaluate_mp(x, ctx) if fx is None else fx
        y = approx.evaluate_mp(x, ctx)
        if not ctx.isfinite(y) or not ctx.isfinite(fx):
            return ctx.inf
        d = abs(y - fx)
        if error == "relative":
            if fx == 0:
                return ctx.zero if d == 0 else ctx.inf
            return d / abs(fx)
        if error != "absolute":
            raise ValueError(f"error must be 'relative' or 'absolute', not {error!r}")
        return d

    errs = [err_at(x, fx) for x, fx in zip(xs, fs, strict=True)]
    n = len(errs)
    peaks = [i for i in range(n) if (i == 0 or errs[i] >= errs[i - 1])
             and (i == n - 1 or errs[i] >= errs[i + 1])]
    peaks.sort(key=lambda i: errs[i], reverse=True)
    best_i = max(range(n), key=lambda i: errs[i])
    best_e, best_x = errs[best_i], xs[best_i]
    refined = 0
    for i in peaks[:refine]:
        if not ctx.isfinite(errs[i]):
            break
        lo, hi = xs[max(i - 1, 0)], xs[min(i + 1, n - 1)]
        x, e = _golden_max(err_at, lo, hi, ctx)
        refined += 1
        if e > best_e:
            best_e, best_x = e, x
    return ErrorMeasure(float(best_e), float(best_x), error, n, dps, refined)


def _golden_max(fn: Callable[[Any], Any], lo: Any, hi: Any, ctx: Any, iters: int = 60):
    """Golden-section maximisation of ``fn`` on ``[lo, hi]`` (endpoints included)."""
    g = (ctx.sqrt(5) - 1) / 2
    c, d = hi - g * (hi - lo), lo + g * (hi - lo)
    fc, fd = fn(c), fn(d)
    best = max([(fn(lo), lo), (fn(hi), hi), (fc, c), (fd, d)], key=lambda t: t[0])
    for _ in range(iters):
        if fc > fd:
            hi, d, fd = d, c, fc
            c = hi - g * (hi - lo)
            fc = fn(c)
            if fc > best[0]:
                best = (fc, c)
        else:
            lo, c, fc = c, d, fd
            d = lo + g * (hi - lo)
            fd = fn(d)
            if fd > best[0]:
                best = (fd, d)
        if hi - lo <= ctx.eps * (abs(lo) + abs(hi) + 1):
            break
    return best[1], best[0]


def measure_float64_error(program: Program, target: str | Target, interval: tuple[float, float],
                          error: str = "relative", points: int = 2_000_001, recheck: int = 64,
                          dps: int = 40) -> ErrorMeasure:
    """Max error of the program *evaluated in float64* (rounding included) on a dense grid.

    The float64 values of the program at ``points`` equispaced inputs are compared with a
    float64 reference to find the ``recheck`` worst inputs, whose errors are then recomputed
    against a ``dps``-digit reference (the float64 result itself is exact input there).

    Examples
    --------
    >>> p = Program.build(lambda x: x / 3.0)
    >>> measure_float64_error(p, "x/3", (1, 2), points=1001).max_error < 1.2e-16
    True
    """
    t = parse_target(target) if isinstance(target, str) else target
    a, b = float(interval[0]), float(interval[1])
    xs = np.linspace(a, b, int(points))
    y = evaluate(program, xs)
    ref = t.evaluate64(xs)
    with np.errstate(divide="ignore", invalid="ignore"):
        err = np.abs(y - ref) / (np.abs(ref) if error == "relative" else 1.0)
    err = np.where(np.isfinite(err), err, np.inf)
    ctx = mpmath.MPContext()
    ctx.dps = dps
    best, best_x = -1.0, math.nan
    for i in np.argsort(err)[-int(recheck):]:
        x = ctx.mpf(float(xs[i]))
        fx = t.evaluate_mp(x, ctx)
        d = abs(ctx.mpf(float(y[i])) - fx) if math.isfinite(y[i]) else ctx.inf
        e = float(d / abs(fx)) if error == "relative" and fx != 0 else float(d)
        if e > best:
            best, best_x = e, float(xs[i])
    return ErrorMeasure(best, best_x, error, int(points), dps, 0)
