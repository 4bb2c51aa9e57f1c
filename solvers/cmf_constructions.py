"""Constructions of conservative matrix fields: the f, f̄ construction and the pFq fields.

* **f, f̄** (Elimelech et al., PNAS 2024). For polynomials ``f(x, y)``, ``f̄(x, y)`` with the
  *linear condition* ``f(x+1, y-1) - f̄(x, y-1) + f̄(x+1, y) - f(x, y) = 0`` and the
  *quadratic condition* ``(f f̄)(x, y) - (f f̄)(x, 0) - (f f̄)(0, y) + (f f̄)(0, 0) = 0``, the
  matrices ``M_x = [[0, b(x)], [1, a(x, y)]]``, ``M_y = [[f̄, b(x)], [1, f]]`` with
  ``a = f(x, y) - f̄(x+1, y)`` and ``b(x) = (f f̄)(x, 0) - (f f̄)(0, 0)`` conserve.
* **pFq**. The generalised hypergeometric function ``F = pFq(x_0..x_{p-1}; y_0..y_{q-1}; z)``
  satisfies ``θ ∏_j (θ + y_j - 1) F = z ∏_i (θ + x_i) F`` (``θ = z d/dz``), and the contiguous
  relations ``F(x_i + 1) = (θ/x_i + 1) F`` and ``F(y_j - 1) = (θ/(y_j - 1) + 1) F``. On the state
  ``s = (F, θF, ..., θ^{N-1} F)`` with the companion matrix ``Θ`` of the θ-operator, the unit
  shifts act by ``Θ/x_i + I`` and ``(Θ(y + e_j)/y_j + I)^{-1}``; in the row convention of
  :mod:`solvers.cmf` the field's matrices are their transposes.

:func:`cmf_from_spec` builds a field from a catalogue entry (``search/data/cmfs.json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import sympy as sp

from solvers.cmf import CMF
from solvers.cmf_entries import parse_entry
from solvers.errors import DiscoveryError

__all__ = [
    "ffbar_conditions",
    "ffbar_cmf",
    "pfq_cmf",
    "cmf_from_spec",
]

_x, _y = sp.symbols("x y")


def _expr(v: Any, names: tuple[str, ...]) -> sp.Expr:
    return v if isinstance(v, sp.Expr) else parse_entry(v, names)


def ffbar_conditions(f: Any, fbar: Any) -> tuple[sp.Expr, sp.Expr]:
    """The linear and quadratic conditions of the f, f̄ construction (both zero when met).

    Examples
    --------
    >>> ffbar_conditions("x+y", "x-y")     # ln 2
    (0, 0)
    >>> ffbar_conditions("x+y", "x")
    (1, x*y)
    """
    f, fbar = _expr(f, ("x", "y")), _expr(fbar, ("x", "y"))
    linear = sp.expand(
        f.subs({_x: _x + 1, _y: _y - 1}, simultaneous=True)
        - fbar.subs(_y, _y - 1)
        + fbar.subs(_x, _x + 1)
        - f
    )
    g = sp.expand(f * fbar)
    quadratic = sp.expand(g - g.subs(_y, 0) - g.subs(_x, 0) + g.subs({_x: 0, _y: 0}))
    return linear, quadratic


def ffbar_cmf(f: Any, fbar: Any, name: str = "") -> CMF:
    """The 2D field ``M_x = [[0, b(x)], [1, a]]``, ``M_y = [[f̄, b(x)], [1, f]]`` of ``f, f̄``.

    Raises
    ------
    DiscoveryError
        If ``f, f̄`` violate the linear or the quadratic condition.

    Examples
    --------
    >>> ffbar_cmf("x+y", "1", name="e")
    CMF(e: M_x = [[0, x], [1, x + y - 1]], M_y = [[1, x], [1, x + y]])
    """
    f, fbar = _expr(f, ("x", "y")), _expr(fbar, ("x", "y"))
    linear, quadratic = ffbar_conditions(f, fbar)
    if linear != 0:
        raise DiscoveryError(f"f = {f}, fbar = {fbar} violate the linear condition ({linear} ≠ 0)")
    if quadratic != 0:
        raise DiscoveryError(
            f"f = {f}, fbar = {fbar} violate the quadratic condition ({quadratic} ≠ 0)"
        )
    a = sp.expand(f - fbar.subs(_x, _x + 1))
    g = sp.expand(f * fbar)
    b = sp.expand(g.subs(_y, 0) - g.subs({_x: 0, _y: 0}))
    Mx = sp.ImmutableMatrix([[0, b], [1, a]])
    My = sp.ImmutableMatrix([[sp.expand(fbar), b], [1, sp.expand(f)]])
    return CMF(("x", "y"), (Mx, My), name)


def _rational(v: Any) -> sp.Rational:
    if isinstance(v, sp.Rational):
        return v
    if isinstance(v, str):
        fr = Fraction(v.strip())
    else:
        fr = Fraction(v)
    return sp.Rational(fr.numerator, fr.denominator)


def pfq_cmf(p: int, q: int, z: Any, name: str = "") -> CMF:
    """The pFq field at a rational ``z``: axes ``x0..x{p-1}`` (numerator parameters) and
    ``y0..y{q-1}`` (denominator parameters), rank ``max(p, q+1)``.

    Examples
    --------
    >>> F = pfq_cmf(2, 1, -1)
    >>> F.axes, F.rank
    (('x0', 'x1', 'y0'), 2)
    >>> F.is_conserving()
    True
    """
    if p < 0 or q < 0 or p + q == 0:
        raise DiscoveryError(f"need p, q >= 0 and at least one parameter; got p={p}, q={q}")
    zv = _rational(z)
    if zv == 0:
        raise DiscoveryError("z = 0 gives a trivial field")
    N = max(p, q + 1)
    if p == q + 1 and zv == 1:
        raise DiscoveryError("z = 1 with p = q + 1 lowers the order; choose another z")
    xs = sp.symbols(f"x0:{p}") if p else ()
    ys = sp.symbols(f"y0:{q}") if q else ()
    theta = sp.Symbol("theta")
    P = theta * sp.prod([theta + yj - 1 for yj in ys]) - zv * sp.prod([theta + xi for xi in xs])
    coeffs = sp.Poly(sp.expand(P), theta).all_coeffs()[::-1]  # ascending
    if len(coeffs) != N + 1:
        raise DiscoveryError(f"unexpected order {len(coeffs) - 1} of the θ-equation")
    lead = coeffs[N]
    Theta = sp.zeros(N, N)
    for k in range(N - 1):
        Theta[k, k + 1] = 1
    for k in range(N):
        Theta[N - 1, k] = sp.cancel(-coeffs[k] / lead)
    eye = sp.eye(N)
    mats = []
    for xi in xs:
        A = Theta / xi + eye
        mats.append(sp.ImmutableMatrix(A.T.applyfunc(sp.cancel)))
    for yj in ys:
        B = (Theta.subs(yj, yj + 1) / yj + eye).applyfunc(sp.cancel)
        A = B.inv()
        mats.append(sp.ImmutableMatrix(A.T.applyfunc(sp.cancel)))
    axes = tuple(str(s) for s in (*xs, *ys))
    return CMF(axes, tuple(mats), name)


def cmf_from_spec(spec: Mapping[str, Any], name: str = "") -> CMF:
    """A field from a catalogue entry.

    ``{"construction": "matrices", "matrices": {axis: [[...]]}}`` (explicit entries),
    ``{"construction": "ffbar", "f": "...", "fbar": "..."}`` or
    ``{"construction": "pfq", "p": 2, "q": 1, "z": "-1"}``.

    Examples
    --------
    >>> cmf_from_spec({"construction": "ffbar", "f": "x+y", "fbar": "x-y"}, name="log2")
    CMF(log2: M_x = [[0, x**2], [1, 2*y - 1]], M_y = [[x - y, x**2], [1, x + y]])
    """
    kind = spec.get("construction", "matrices")
    name = name or spec.get("name", "")
    if kind == "matrices":
        return CMF.from_dict({"matrices": spec["matrices"], "axes": spec.get("axes"),
                              "name": name})
    if kind == "ffbar":
        return ffbar_cmf(spec["f"], spec["fbar"], name=name)
    if kind == "pfq":
        return pfq_cmf(int(spec["p"]), int(spec["q"]), spec["z"], name=name)
    raise DiscoveryError(f"unknown CMF construction {kind!r} (matrices, ffbar, pfq)")
