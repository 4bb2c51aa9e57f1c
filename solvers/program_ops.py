"""The operation set of programs and targets: one table with one entry per opcode.

Everything the rest of the package knows about an operation comes from its :class:`Op` entry in
:data:`OPERATIONS`: its opcode (the position in the table), arity, infix symbol and precedence
for text output, which operands commute (canonical form), its exact mpmath implementation, the
numba expressions of its float64 and float32 evaluation and of its derivative (from which
:mod:`solvers.program_kernels` generates the compiled interpreters and the Jacobian), and the
SymPy function a target parses to it. Adding an operation means adding one entry here.

The module also holds what is shared by everything that walks a program: :class:`Node` (one
node of a program), :func:`run_mp` (the mpmath reference interpreter over the table) and the
correctly rounded float32 fused multiply-add :func:`fma32` used by the float32 interpreter.

Opcodes 0 and 1 are the leaves ``x`` and ``const``; the interpreters treat them specially.

Examples
--------
>>> BY_NAME["div"].code, BY_NAME["div"].symbol, BY_NAME["div"].arity
(5, '/', 2)
>>> OPS
{'x': 0, 'const': 0, 'add': 2, 'sub': 2, 'mul': 2, 'div': 2, 'fma': 3}
>>> import mpmath
>>> ctx = mpmath.MPContext(); ctx.dps = 20
>>> rows = mp_instructions([(CODE["x"], None, ()), (CODE["exp"], None, (0,))])
>>> print(run_mp(rows, (), 1, ctx))
2.7182818284590452354
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from solvers.jit import njit

__all__ = [
    "ROUND",
    "Op",
    "OPERATIONS",
    "BY_NAME",
    "CODE",
    "OPS",
    "KERNEL_HELPERS",
    "Node",
    "mp_instructions",
    "run_mp",
    "fma32",
]

#: ``Op.f32`` value meaning "evaluate exactly in float64, then round once to float32" (exact
#: for ``+ - * /`` of float32 operands, whose float64 results are never double-rounded).
ROUND = "round"


@dataclass(frozen=True)
class Op:
    """One operation of the instruction set.

    The numba snippets are Python expressions over the operand values ``{a}``, ``{b}``,
    ``{c}`` (placeholders filled in by the generator); a derivative snippet also sees the
    result ``{r}`` and the operands' derivatives ``{da}``, ``{db}``, ``{dc}``.

    Attributes
    ----------
    name : str
        Name in programs and serialised forms (``"add"``).
    code : int
        Opcode: the entry's position in :data:`OPERATIONS`.
    arity : int
        Number of operands.
    mp : callable or None
        ``mp(ctx, *operands)``: the value in the mpmath context ``ctx`` (None for leaves).
    f64 : str or None
        numba expression of the float64 value (None for leaves).
    f32 : str or None
        numba expression of the float32 value from float32 operands, :data:`ROUND`, or None
        (not available in float32: the interpreter yields ``nan``).
    grad : str or None
        numba expression of the derivative (forward mode), or None (no Jacobian: ``nan``).
    symbol : str or None
        Infix symbol in text output; None writes ``name(a, b, ...)``.
    precedence : int
        Precedence of the infix form (3: atom or function call).
    assoc : bool
        Associative infix form: a right operand of the same precedence needs no parentheses
        (``x + (y - z)`` is written ``x + y - z``).
    commute : int
        How many leading operands may be swapped (canonical form orders them).
    flip : str or None
        The operation with the right operand negated (``add`` <-> ``sub``), so that text
        output writes ``x - 1`` rather than ``x + (-1)``.
    py : callable or None
        The operation on Python numbers or any arithmetic (SymPy, numpy arrays): used by
        :meth:`Program.interpret` and for folding constants.
    program : bool
        True if programs may use it (the rest is for targets only).
    sympy : str or None
        Name of the SymPy function class that a target parses to this operation.
    """

    name: str
    code: int
    arity: int
    mp: Callable[..., Any] | None = None
    f64: str | None = None
    f32: str | None = None
    grad: str | None = None
    symbol: str | None = None
    precedence: int = 3
    assoc: bool = False
    commute: int = 0
    flip: str | None = None
    py: Callable[..., Any] | None = None
    program: bool = False
    sympy: str | None = None


def _mp_div(ctx: Any, a: Any, d: Any) -> Any:
    if d == 0:  # IEEE semantics: a/0 is a signed infinity, 0/0 is nan
        return ctx.nan if a == 0 or ctx.isnan(a) else ctx.inf * ctx.sign(a)
    return a / d


def _mp_fma(ctx: Any, a: Any, b: Any, c: Any) -> Any:
    return ctx.fadd(ctx.fmul(a, b, exact=True), c)


def _fma(a: Any, b: Any, c: Any) -> Any:
    return a * b + c


def _mp_call(method: str) -> Callable[[Any, Any], Any]:
    def fn(ctx: Any, a: Any) -> Any:
        return getattr(ctx, method)(a)

    fn.__name__ = f"mp_{method}"
    return fn


def _function(code: int, name: str, f64: str, mp_name: str | None = None,
              sympy: str | None = None) -> Op:
    """A unary function of targets (float64 and mpmath only)."""
    return Op(name, code, 1, mp=_mp_call(mp_name or name), f64=f64, sympy=sympy or name)


_DOMAIN_LOG = "math.log({a}) if {a} > 0 else (-math.inf if {a} == 0 else math.nan)"

#: The instruction set, indexed by opcode.
OPERATIONS: tuple[Op, ...] = (
    Op("x", 0, 0, program=True),
    Op("const", 1, 0, program=True),
    Op("add", 2, 2, mp=lambda ctx, a, b: a + b, f64="{a} + {b}", f32=ROUND,
       grad="{da} + {db}", symbol="+", precedence=1, assoc=True, commute=2, flip="sub",
       py=operator.add, program=True),
    Op("sub", 3, 2, mp=lambda ctx, a, b: a - b, f64="{a} - {b}", f32=ROUND,
       grad="{da} - {db}", symbol="-", precedence=1, flip="add", py=operator.sub, program=True),
    Op("mul", 4, 2, mp=lambda ctx, a, b: a * b, f64="{a} * {b}", f32=ROUND,
       grad="{da} * {b} + {a} * {db}", symbol="*", precedence=2, assoc=True, commute=2,
       py=operator.mul, program=True),
    Op("div", 5, 2, mp=_mp_div, f64="{a} / {b}", f32=ROUND, grad="({da} - {r} * {db}) / {b}",
       symbol="/", precedence=2, py=operator.truediv, program=True),
    Op("fma", 6, 3, mp=_mp_fma, f64="{a} * {b} + {c}", f32="_fma32_impl({a}, {b}, {c})",
       grad="{da} * {b} + {a} * {db} + {dc}", commute=2, py=_fma, program=True),
    Op("neg", 7, 1, mp=lambda ctx, a: -a, f64="-{a}"),
    Op("pow", 8, 2, mp=lambda ctx, a, b: ctx.power(a, b), f64="{a} ** {b}"),
    _function(9, "exp", "math.exp({a})"),
    _function(10, "log", _DOMAIN_LOG, mp_name="ln"),
    Op("sqrt", 11, 1, mp=lambda ctx, a: ctx.sqrt(a),
       f64="math.sqrt({a}) if {a} >= 0 else math.nan"),
    _function(12, "sin", "math.sin({a})"),
    _function(13, "cos", "math.cos({a})"),
    _function(14, "tan", "math.tan({a})"),
    _function(15, "atan", "math.atan({a})"),
    _function(16, "asin", "math.asin({a}) if abs({a}) <= 1 else math.nan"),
    _function(17, "acos", "math.acos({a}) if abs({a}) <= 1 else math.nan"),
    _function(18, "sinh", "math.sinh({a})"),
    _function(19, "cosh", "math.cosh({a})"),
    _function(20, "tanh", "math.tanh({a})"),
    _function(21, "erf", "math.erf({a})"),
    _function(22, "erfc", "math.erfc({a})"),
    Op("abs", 23, 1, mp=lambda ctx, a: abs(a), f64="abs({a})", sympy="Abs"),
    _function(24, "asinh", "math.asinh({a})"),
    _function(25, "acosh", "math.acosh({a}) if {a} >= 1 else math.nan"),
    _function(26, "atanh", "math.atanh({a}) if abs({a}) < 1 else math.nan"),
    _function(27, "gamma", "math.gamma({a})"),
)

#: Operations by name.
BY_NAME: dict[str, Op] = {op.name: op for op in OPERATIONS}
#: Opcodes by name.
CODE: dict[str, int] = {op.name: op.code for op in OPERATIONS}
#: Operations of a program, with their arity.
OPS: dict[str, int] = {op.name: op.arity for op in OPERATIONS if op.program}
#: Names defined in this module that the snippets of the generated kernels may call.
KERNEL_HELPERS: tuple[str, ...] = ("_fma32_impl",)

assert all(op.code == i for i, op in enumerate(OPERATIONS)), "opcode must be the position"
assert OPERATIONS[0].name == "x" and OPERATIONS[1].name == "const"


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


# ---------------------------------------------------------------------------------------------
# The mpmath reference interpreter


def mp_instructions(rows: Iterable[tuple[int, float | None, Sequence[int]]]) -> tuple:
    """Prepare ``(opcode, constant value or None, operand indices)`` rows for :func:`run_mp`.

    A ``const`` row holds its value, or None and the index of the constant in the
    ``consts`` argument of :func:`run_mp`; operand lists may be longer than the arity (the
    rows of a target's code always have three).

    Examples
    --------
    >>> len(mp_instructions([(0, None, ()), (1, 2.5, ()), (2, None, (0, 1, 0))]))
    3
    """
    out = []
    for code, value, args in rows:
        op = OPERATIONS[code]
        if op.mp is None:
            out.append((code, value, None, tuple(int(a) for a in args[:1])))
        else:
            out.append((code, None, op.mp, tuple(int(a) for a in args[: op.arity])))
    return tuple(out)


def run_mp(instrs: tuple, consts: Sequence[Any], x: Any, ctx: Any) -> Any:
    """Evaluate :func:`mp_instructions` output at ``x`` in the mpmath context ``ctx``.

    A complex intermediate, a domain error or a division by zero that mpmath refuses makes
    the result ``nan``.

    Examples
    --------
    >>> import mpmath
    >>> ctx = mpmath.MPContext(); ctx.dps = 15
    >>> rows = mp_instructions([(0, None, ()), (1, 2.0, ()), (CODE["div"], None, (1, 0))])
    >>> run_mp(rows, (), 0, ctx), run_mp(rows, (), 4, ctx)
    (mpf('+inf'), mpf('0.5'))
    """
    regs: list[Any] = []
    x = ctx.convert(x)
    mpc = ctx.mpc
    try:
        for code, value, fn, args in instrs:
            if fn is not None:
                if len(args) == 2:
                    v = fn(ctx, regs[args[0]], regs[args[1]])
                elif len(args) == 1:
                    v = fn(ctx, regs[args[0]])
                else:
                    v = fn(ctx, *[regs[j] for j in args])
            elif code == 0:
                v = x
            else:
                v = ctx.mpf(value) if value is not None else consts[args[0]]
            if isinstance(v, mpc):
                return ctx.nan
            regs.append(v)
    except (ZeroDivisionError, ValueError):
        return ctx.nan
    return regs[-1]


# ---------------------------------------------------------------------------------------------
# Helpers of the float32 snippets (compiled)

_JIT = {"error_model": "numpy", "nogil": True}


@njit(inline="always", **_JIT)
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


@njit(**_JIT)
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
