"""Numeric programs: small DAGs over ``x`` with ``+ - * /`` (and FMA) and real constants.

A :class:`Program` is an immutable, hashable straight-line program. Node 0 of a canonical
program is ``x``; every other node is a constant or an operation on earlier nodes; the last
node is the output. Its *cost* is the number of operations that depend on ``x`` (constant-only
subexpressions are folded and free), as in AutoNumerics-Zero (Real et al. 2023/24).

This module holds the representation (:class:`Program`, :class:`ProgramBuilder`,
:func:`program_from_dict`); the rest of the subject lives in sibling modules, whose public
names are re-exported here:

* :mod:`solvers.program_ops` -- the operation table (one entry per opcode), :class:`Node`,
  the mpmath reference interpreter and :func:`fma32`;
* :mod:`solvers.program_kernels` -- the numba interpreters generated from that table, behind
  :func:`evaluate` (float64, or float32 with every operation correctly rounded),
  :func:`evaluate_batch_max_error` and :func:`evaluate_jacobian`;
* :mod:`solvers.program_canonical` -- the canonical form behind :meth:`Program.canonical`;
* :mod:`solvers.program_export` -- text, Python, numba, C, SymPy and LaTeX output;
* :mod:`solvers.program_target` -- :class:`Target`, the function being approximated, parsed
  safely by :func:`parse_target`;
* :mod:`solvers.program_error` -- :func:`measure_error` (exact, against a >= 50-digit
  reference on a dense grid, maximised locally around the largest peaks),
  :func:`measure_float64_error`, :func:`fit_grid` and :func:`grid_error`.

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

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import sympy

from solvers.errors import DivergenceError, ParseError
from solvers.keys import canonical_key
from solvers.program_canonical import canonical_nodes
from solvers.program_error import (
    ErrorMeasure,
    fit_grid,
    grid_error,
    measure_error,
    measure_float64_error,
)
from solvers.program_export import (
    program_c,
    program_latex,
    program_numba,
    program_python,
    program_sympy,
    program_text,
)
from solvers.program_kernels import (  # the private kernels: see __all__
    _run32,
    _run64,
    evaluate,
    evaluate_batch_max_error,
    evaluate_jacobian,
)
from solvers.program_ops import BY_NAME, CODE, OPS, Node, fma32, mp_instructions, run_mp
from solvers.program_target import Target, parse_target

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
    # private kernels, imported by solvers.float32_check
    "_run32",
    "_run64",
]

# Fixed probe points of the functional fingerprint (independent of any interval).
_PROBES = (0.0371, 0.1234, 0.3819, 0.5678, 0.7071, 0.9111, 1.3733, 2.9, -0.731, -3.3)


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
        return Program(canonical_nodes(self.nodes))

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
            code[i, 0] = CODE[nd.op]
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
        >>> import mpmath
        >>> ctx = mpmath.MPContext(); ctx.dps = 30
        >>> print(Program.build(lambda x: 1 / (x + 2)).evaluate_mp(ctx.mpf(1), ctx))
        0.333333333333333333333333333333
        """
        return run_mp(self._mp_instrs, (), x, ctx)

    @cached_property
    def _mp_instrs(self) -> tuple:
        return mp_instructions(
            (CODE[nd.op], nd.value if nd.op == "const" else None, nd.args) for nd in self.nodes
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
        return program_text(self, digits)

    def to_python(self, name: str = "f") -> str:
        """Python source of a function ``name(x)`` (constants exact, via ``float.fromhex``).

        Examples
        --------
        >>> print(Program.build(lambda x: x * x + 0.5).to_python())
        def f(x):
            return x*x + 0.5
        """
        return program_python(self, name)

    def to_numba(self, name: str = "f") -> str:
        """Source of a numba ``@njit`` function ``name(x)``.

        numba has no fused multiply-add: an FMA, if any, becomes ``a*b + c`` (two roundings).
        """
        return program_numba(self, name)

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
        return program_c(self, name, ctype)

    def to_sympy(self, exact: bool = True) -> sympy.Expr:
        """A SymPy expression in ``x``; constants as exact rationals (or Floats).

        Examples
        --------
        >>> Program.build(lambda x: (x + 0.5) * x).to_sympy()
        x*(x + 1/2)
        """
        return program_sympy(self, exact)

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
            if nd.op == "x":
                v = x
            elif nd.op == "const":
                v = const(nd.value)
            else:
                v = BY_NAME[nd.op].py(*[vals[i] for i in nd.args])
            vals.append(v)
        return vals[-1]

    def latex(self, digits: int = 6) -> str:
        """LaTeX of the program's expression (constants to ``digits`` digits)."""
        return program_latex(self, digits)

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

    def apply(self, op: str, *operands: Any) -> _Sym:
        """The node ``op(*operands)`` for any program operation of :data:`OPS`.

        Examples
        --------
        >>> b = ProgramBuilder()
        >>> b.program(b.apply("sub", 1.0, b.x))
        Program(f = 1 - x)
        """
        if OPS.get(op, 0) != len(operands) or op in ("x", "const"):
            raise ValueError(f"{op!r} is not a program operation of {len(operands)} operands")
        return self._push(Node(op, tuple(self._arg(v) for v in operands)))

    def add(self, a: Any, b: Any) -> _Sym:
        """``a + b``."""
        return self.apply("add", a, b)

    def sub(self, a: Any, b: Any) -> _Sym:
        """``a - b``."""
        return self.apply("sub", a, b)

    def mul(self, a: Any, b: Any) -> _Sym:
        """``a * b``."""
        return self.apply("mul", a, b)

    def div(self, a: Any, b: Any) -> _Sym:
        """``a / b``."""
        return self.apply("div", a, b)

    def fma(self, a: Any, b: Any, c: Any) -> _Sym:
        """``a*b + c`` with one rounding."""
        return self.apply("fma", a, b, c)

    def program(self, out: Any) -> Program:
        """The program whose output is ``out`` (nodes after it are dropped by canonical())."""
        i = self._arg(out)
        nodes = list(self.nodes[: i + 1])
        return Program(tuple(nodes))


