"""Canonical form of programs: one representative for programs that compute alike.

:func:`canonical_nodes` folds constant subexpressions, merges chains of constant shifts and
scalings (``(y + c1) - c2 -> y + c``, ``c1/(c2*y) -> c/y``; the same real function with one
operation less, only the rounding differs), merges common subexpressions, orders the operands
of commutative operations (:attr:`solvers.program_ops.Op.commute`) by a structural digest and
lists the nodes in post-order from the output with ``x`` first. :meth:`Program.canonical
<solvers.programs.Program.canonical>` and the program keys are built on it.

Examples
--------
>>> from solvers.program_ops import Node
>>> a = (Node("x"), Node("const", (), 2.0), Node("mul", (1, 0)), Node("add", (0, 2)))
>>> b = (Node("x"), Node("const", (), 2.0), Node("mul", (0, 1)), Node("add", (2, 0)))
>>> canonical_nodes(a) == canonical_nodes(b)  # x + 2*x and x*2 + x
True
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections.abc import Callable, Sequence

from solvers.errors import DivergenceError
from solvers.program_ops import BY_NAME, Node

__all__ = ["canonical_nodes"]


def _fold(op: str, a: list[float]) -> float:
    """The operation on float64 constants (a division by zero folds to ``inf``)."""
    try:
        return BY_NAME[op].py(*a)
    except ZeroDivisionError:
        return math.inf


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


def canonical_nodes(nodes: Sequence[Node]) -> tuple[Node, ...]:
    """The nodes of the canonical form of the program made of ``nodes`` (see the module).

    Raises
    ------
    DivergenceError
        If a constant subexpression is not finite.

    Examples
    --------
    >>> c = canonical_nodes((Node("x"), Node("const", (), 2.0), Node("const", (), 3.0),
    ...                      Node("mul", (1, 2)), Node("mul", (0, 3))))
    >>> [(nd.op, nd.args, nd.value) for nd in c]
    [('x', (), 0.0), ('const', (), 6.0), ('mul', (0, 1), 0.0)]
    """
    # 1. fold constant-only subexpressions (values in float64)
    nodes = list(nodes)
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
            k = BY_NAME[nd.op].commute
            ch = sorted(ch[:k]) + ch[k:]
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
            k = BY_NAME[nd.op].commute
            order = sorted(order[:k], key=lambda a: h[a]) + order[k:]
            args = tuple(visit(a) for a in order)
            new.append(Node(nd.op, args))
        index[hi] = len(new) - 1
        return len(new) - 1

    limit = sys.getrecursionlimit()
    if len(nodes) + 100 > limit:
        sys.setrecursionlimit(len(nodes) + 200)
    out = visit(len(nodes) - 1)
    if out != len(new) - 1:  # the output is x itself
        return (Node("x"),)
    if len(new) > 1 and nodes[-1].op == "const":
        # a constant program: drop the unused x
        return (Node("x"), new[-1])
    return tuple(new)


