"""Dense linear algebra in a gmpy2 context of explicit precision (LU with partial pivoting).

Pure Python over gmpy2 ``mpfr``; every operation goes through the context's methods, so the
global gmpy2 context is never read or changed.

Examples
--------
>>> import gmpy2
>>> ctx = gmpy2.context(precision=100)
>>> lu = LU(ctx, [[2, 1], [1, 3]])
>>> [float(x) for x in lu.solve([3, 5])], [float(x) for x in lu.solve_transpose([3, 4])]
([0.8, 1.4], [1.0, 1.0])
"""

from __future__ import annotations

from collections.abc import Sequence

import gmpy2

from solvers.errors import PrecisionError

__all__ = ["LU", "dot"]


def dot(ctx: gmpy2.context, a: Sequence, b: Sequence):
    """The dot product ``sum a_i b_i`` in ``ctx``."""
    acc = gmpy2.mpfr(0)
    for x, y in zip(a, b, strict=True):
        acc = ctx.fma(x, y, acc)
    return acc


class LU:
    """``P A = L U`` of a square matrix; solves ``A x = b`` and ``A^T y = c``."""

    def __init__(self, ctx: gmpy2.context, rows: Sequence[Sequence]):
        self.ctx = ctx
        n = len(rows)
        a = [[ctx.plus(x) for x in row] for row in rows]
        if any(len(row) != n for row in a):
            raise ValueError("LU needs a square matrix")
        perm = list(range(n))
        for col in range(n):
            piv = max(range(col, n), key=lambda r: abs(a[r][col]))
            if a[piv][col] == 0:
                raise PrecisionError(f"singular matrix at column {col} (precision {ctx.precision})")
            if piv != col:
                a[col], a[piv] = a[piv], a[col]
                perm[col], perm[piv] = perm[piv], perm[col]
            prow = a[col]
            inv = ctx.div(1, prow[col])
            tail = prow[col + 1 :]
            for r in range(col + 1, n):
                row = a[r]
                f = ctx.mul(row[col], inv)
                row[col] = f
                if f:
                    nf = ctx.minus(f)
                    rest = row[col + 1 :]
                    row[col + 1 :] = [ctx.fma(nf, p, x) for p, x in zip(tail, rest, strict=True)]
        self.a = a
        self.perm = perm
        self.n = n

    def solve(self, b: Sequence) -> list:
        """``x`` with ``A x = b``."""
        ctx, a, n = self.ctx, self.a, self.n
        y = [ctx.plus(b[p]) for p in self.perm]
        for i in range(n):
            row = a[i]
            acc = y[i]
            for j in range(i):
                acc = ctx.fms(row[j], y[j], acc)
                acc = ctx.minus(acc)
            y[i] = acc
        for i in range(n - 1, -1, -1):
            row = a[i]
            acc = y[i]
            for j in range(i + 1, n):
                acc = ctx.minus(ctx.fms(row[j], y[j], acc))
            y[i] = ctx.div(acc, row[i])
        return y

    def solve_transpose(self, c: Sequence) -> list:
        """``y`` with ``A^T y = c``."""
        ctx, a, n = self.ctx, self.a, self.n
        # A^T = U^T L^T P, so solve U^T z = c, L^T w = z, y = P^T w.
        z = [ctx.plus(v) for v in c]
        for i in range(n):
            acc = z[i]
            for j in range(i):
                acc = ctx.minus(ctx.fms(a[j][i], z[j], acc))
            z[i] = ctx.div(acc, a[i][i])
        for i in range(n - 1, -1, -1):
            acc = z[i]
            for j in range(i + 1, n):
                acc = ctx.minus(ctx.fms(a[j][i], z[j], acc))
            z[i] = acc
        y = [gmpy2.mpfr(0)] * n
        for i, p in enumerate(self.perm):
            y[p] = z[i]
        return y
