"""Targets: the real functions of ``x`` that programs approximate, parsed safely from text.

:func:`parse_target` reads a formula with the project's safe parser
(:func:`solvers.expr.parse_expression`, never ``eval``/``sympify``) and flattens it into the
instruction format of programs (:mod:`solvers.program_kernels`), with the target-only
operations of :data:`solvers.program_ops.OPERATIONS` (``exp``, ``log``, ``pow``, ...). A
:class:`Target` then evaluates exactly at any precision (mpmath, for error measurement) and
in float64 with library functions (for float32 ULP checks).

Examples
--------
>>> t = parse_target("x*exp(-x)")
>>> float(t.evaluate64(np.array([1.0]))[0])
0.36787944117144233
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import mpmath
import numpy as np
import sympy

from solvers.errors import ParseError
from solvers.program_kernels import _run64
from solvers.program_ops import CODE, OPERATIONS, mp_instructions, run_mp

__all__ = ["Target", "parse_target"]

# SymPy function class name -> the unary operation it becomes
_FUNC_OPS = {op.sympy: op.name for op in OPERATIONS if op.sympy}


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
        """The constants rounded to float64 (rationals correctly, others from 40 digits)."""
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
        return run_mp(self._instrs, consts, x, ctx)

    @cached_property
    def _instrs(self) -> tuple:
        return mp_instructions((int(r[0]), None, (int(r[1]), int(r[2]), int(r[3])))
                               for r in self.code)

    def evaluate64(self, xs: np.ndarray) -> np.ndarray:
        """The target in float64 (library functions, about 1 ulp): for float32 checks."""
        xs = np.ascontiguousarray(xs, dtype=np.float64)
        regs = np.empty((self.code.shape[0], xs.shape[0]))
        _run64(self.code, self.consts64, xs, regs)
        return regs[-1].copy()

    def latex(self) -> str:
        """LaTeX of the parsed formula."""
        return sympy.latex(self.expr)

    def is_positive_on(self, a: float, b: float, points: int = 65) -> bool:
        """True if the target is positive at ``points`` equispaced points of ``[a, b]``."""
        ctx, pts = _grid(a, b, points)
        return all(self.evaluate_mp(t, ctx) > 0 for t in pts)

    def undefined_point(self, a: float, b: float, points: int = 65) -> float | None:
        """The first of ``points`` equispaced points of ``[a, b]`` where the target is not a
        finite real number (``None``: it is one at all of them).

        Examples
        --------
        >>> parse_target("x^(1/2)").undefined_point(-1, 1)
        -1.0
        >>> parse_target("2^x").undefined_point(-1, 1) is None
        True
        """
        ctx, pts = _grid(a, b, points)
        for t in pts:
            if not ctx.isfinite(self.evaluate_mp(t, ctx)):
                return float(t)
        return None


def _grid(a: float, b: float, points: int) -> tuple[mpmath.MPContext, list]:
    """A 20-digit context and ``points`` equispaced points of ``[a, b]`` in it."""
    ctx = mpmath.MPContext()
    ctx.dps = 20
    return ctx, [ctx.mpf(a) + (ctx.mpf(b) - a) * k / (points - 1) for k in range(points)]


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

    def emit(op: str, a: int = 0, b: int = 0, c: int = 0) -> int:
        rows.append([CODE[op], a, b, c])
        return len(rows) - 1

    def const(e: sympy.Expr) -> int:
        consts.append(e)
        return emit("const", len(consts) - 1)

    def walk(e: sympy.Expr) -> int:
        if e in memo:
            return memo[e]
        if e == x:
            r = emit("x")
        elif not e.has(x):
            r = const(e)
        elif isinstance(e, sympy.Add):
            r = walk(e.args[0])
            for a in e.args[1:]:
                r = emit("add", r, walk(a))
        elif isinstance(e, sympy.Mul):
            num = [a for a in e.args if not (isinstance(a, sympy.Pow) and a.exp == -1)]
            den = [a.base for a in e.args if isinstance(a, sympy.Pow) and a.exp == -1]
            r = walk(num[0]) if num else const(sympy.Integer(1))
            for a in num[1:]:
                r = emit("mul", r, walk(a))
            for a in den:
                r = emit("div", r, walk(a))
        elif isinstance(e, sympy.Pow):
            base, ex = e.args
            if ex == -1:
                r = emit("div", const(sympy.Integer(1)), walk(base))
            elif ex == 2:
                b = walk(base)
                r = emit("mul", b, b)
            elif ex == sympy.Rational(1, 2):
                r = emit("sqrt", walk(base))
            else:
                r = emit("pow", walk(base), walk(ex))
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
