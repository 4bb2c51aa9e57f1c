"""Conservative matrix fields (CMFs): exact fields, trajectory matrices, walks and limits.

A CMF of rank ``r`` on the axes ``x_1, ..., x_d`` is one ``r x r`` matrix ``M_i`` per axis,
with polynomial or rational entries, such that for every pair of axes (``e_i`` the unit
vector of axis ``i``)::

    M_i(x) · M_j(x + e_i) = M_j(x) · M_i(x + e_j).

A step forward along axis ``i`` from ``x`` multiplies by ``M_i(x)``; a step backward
multiplies by ``M_i(x - e_i)^{-1}``. By conservation the product along a lattice path
depends only on its end points.

Walks follow the convention of ``data/reference/cmf_vectors.json``: for a start ``s`` and
an integer trajectory ``t``, ``T(n)`` is the ordered product of the unit steps from
``s + n t`` to ``s + (n + 1) t``; the depth-``N`` walk is ``W_N = T(0) ··· T(N-1)`` and its
limit is ``W_N[0, -1] / W_N[1, -1]``.

Everything is exact: entries are SymPy expressions for display and python-flint
polynomials for arithmetic; walks multiply integer matrices (``flint.fmpz_mat``) by a
balanced product tree. A walk is computed *projectively*: ``T(n)`` is replaced by the
primitive integer polynomial matrix ``T~(n) = T(n)/λ(n)`` (``λ`` a rational scalar), which
changes ``W_N`` by a nonzero scalar and leaves every ratio, and hence the limit, unchanged.

Entry text is read by the workbench's one safe parser (:mod:`solvers.expr`, through
:func:`parse_entry`), never by ``sympify``.

This module holds the two formula objects, :class:`CMF` and :class:`CMFTrajectory`. Their
machinery lives next door and the public names are re-exported here: reading entries and the
exact flint polynomial matrices in :mod:`solvers.cmf_entries`; the trajectory matrix in ``n``,
exact walk products, the enumeration of trajectories and start points and :func:`mobius_claim`
in :mod:`solvers.cmf_walk`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Any

import flint
import sympy as sp
from gmpy2 import mpz
from mpmath.libmp import dps_to_prec

from solvers.cmf_entries import (
    _adjugate,
    _as_entry_rows,
    _canonical,
    _det,
    _mpoly_ctx,
    _mpoly_to_sympy,
    _PMat,
    _Poly,
    _sympy_to_mpoly,
    parse_entry,
)
from solvers.cmf_walk import (
    _in_n,
    _leaf_products,
    _log10_gap,
    _poly_to_sympy,
    _primitive_form,
    box_starts,
    mobius_claim,
    primitive_trajectories,
    product_tree,
)
from solvers.coboundary import PCFExtraction, pcf_from_matrix
from solvers.continued_fractions import (
    CFLimit,
    irrationality_measure,
    limit_from_convergents,
    log10_abs,
)
from solvers.errors import (
    ConservationError,
    DiscoveryError,
    DivergenceError,
    PrecisionError,
)
from solvers.keys import canonical_key

__all__ = [
    "CMF",
    "CMFTrajectory",
    "ConservationError",
    "parse_entry",
    "primitive_trajectories",
    "box_starts",
    "product_tree",
    "mobius_claim",
]

# --------------------------------------------------------------------------- the field


@dataclass(frozen=True)
class CMF:
    """A conservative matrix field: one exact square matrix per axis.

    Parameters
    ----------
    axes : tuple of str
        Axis (variable) names, e.g. ``("x", "y")``.
    matrices : tuple of sympy.ImmutableMatrix
        ``matrices[i]`` is ``M_{axes[i]}``, with entries rational functions of the axes.
    name : str
        A label (catalogue name), not part of the mathematics.

    Conservation is not checked on construction (it can be expensive); call
    :meth:`check_conservation` or :meth:`is_conserving`.

    Examples
    --------
    >>> e = CMF.from_text({"x": ["1", "-y-1", "-1", "x+y+2"], "y": ["0", "-y-1", "-1", "x+y+1"]},
    ...                   name="e")
    >>> e
    CMF(e: M_x = [[1, -y - 1], [-1, x + y + 2]], M_y = [[0, -y - 1], [-1, x + y + 1]])
    >>> e.is_conserving()
    True
    >>> e.walk((1, 1), (0, 0)).limit(300).digits >= 120
    True
    """

    axes: tuple[str, ...]
    matrices: tuple[sp.ImmutableMatrix, ...]
    name: str = ""

    def __post_init__(self) -> None:
        if len(self.axes) != len(self.matrices) or not self.axes:
            raise DiscoveryError(
                f"a CMF needs one matrix per axis: {len(self.axes)} axes, "
                f"{len(self.matrices)} matrices"
            )
        if len(set(self.axes)) != len(self.axes):
            raise DiscoveryError(f"repeated axis names in {self.axes}")
        if "n" in self.axes:
            raise DiscoveryError("'n' is reserved for the trajectory variable; rename the axis")
        r = self.matrices[0].rows
        for ax, M in zip(self.axes, self.matrices, strict=True):
            if M.rows != r or M.cols != r:
                raise DiscoveryError(f"M_{ax} is {M.rows}x{M.cols}, expected {r}x{r}")
        allowed = {sp.Symbol(a) for a in self.axes}
        for ax, M in zip(self.axes, self.matrices, strict=True):
            extra = M.free_symbols - allowed
            if extra:
                names = ", ".join(sorted(str(s) for s in extra))
                raise DiscoveryError(
                    f"M_{ax} has free symbols {names} that are not axes; substitute them first"
                )

    # -- construction
    @classmethod
    def from_text(cls, matrices: Mapping[str, Any], name: str = "") -> CMF:
        """A field from entry text: ``{axis: [[entry, ...], ...]}`` or flat row-major lists."""
        axes = tuple(matrices)
        mats = tuple(
            sp.ImmutableMatrix(_as_entry_rows(matrices[a], axes)) for a in axes
        )
        return cls(axes, mats, name)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CMF:
        """Inverse of :meth:`to_dict` (``{"axes": [...], "matrices": {...}, "name": ...}``)."""
        mats = d["matrices"]
        axes = tuple(d.get("axes") or mats)
        if set(axes) != set(mats):
            raise DiscoveryError(f"axes {axes} do not match the matrices given for {tuple(mats)}")
        return cls.from_text({a: mats[a] for a in axes}, name=d.get("name", ""))

    def to_dict(self) -> dict:
        """Exact JSON-able form; entries are text that :func:`parse_entry` reads back."""
        return {
            "name": self.name,
            "axes": list(self.axes),
            "matrices": {
                a: [[sp.sstr(M[i, j]) for j in range(M.cols)] for i in range(M.rows)]
                for a, M in zip(self.axes, self.matrices, strict=True)
            },
        }

    @cached_property
    def key(self) -> str:
        """Canonical key: a hash of the reduced entries (the label is not part of it)."""
        data = {
            "axes": list(self.axes),
            "matrices": [
                {"numerators": [[str(e) for e in row] for row in rows], "denominator": str(den)}
                for rows, den in self._flint
            ],
        }
        return canonical_key("cmf", data)

    def __repr__(self) -> str:
        parts = ", ".join(
            f"M_{a} = {[[M[i, j] for j in range(M.cols)] for i in range(M.rows)]}"
            for a, M in zip(self.axes, self.matrices, strict=True)
        )
        label = f"{self.name}: " if self.name else ""
        return f"CMF({label}{parts})"

    def latex(self) -> str:
        """LaTeX of the matrices, one per axis."""
        lines = [
            rf"M_{{{a}}} = {sp.latex(M)}" for a, M in zip(self.axes, self.matrices, strict=True)
        ]
        return r",\quad ".join(lines)

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    # -- shape
    @property
    def rank(self) -> int:
        """Size of the matrices."""
        return self.matrices[0].rows

    @property
    def dim(self) -> int:
        """Number of axes."""
        return len(self.axes)

    @property
    def symbols(self) -> tuple[sp.Symbol, ...]:
        """The axes as SymPy symbols."""
        return tuple(sp.Symbol(a) for a in self.axes)

    def matrix(self, axis: str | int) -> sp.ImmutableMatrix:
        """``M_axis`` (by name or index)."""
        return self.matrices[self._axis_index(axis)]

    def _axis_index(self, axis: str | int) -> int:
        if isinstance(axis, int):
            if not 0 <= axis < self.dim:
                raise DiscoveryError(f"axis index {axis} out of range for {self.dim} axes")
            return axis
        try:
            return self.axes.index(axis)
        except ValueError:
            raise DiscoveryError(f"unknown axis {axis!r}; axes are {self.axes}") from None

    def subs(self, values: Mapping[str, Any], name: str | None = None) -> CMF:
        """Substitute values for symbols that are not axes (e.g. parameters of a family)."""
        rep = {sp.Symbol(k): (v if isinstance(v, sp.Basic) else sp.Rational(v)) for k, v in
               values.items()}
        mats = tuple(sp.ImmutableMatrix(M.xreplace(rep)) for M in self.matrices)
        return CMF(self.axes, mats, self.name if name is None else name)

    # -- flint forms
    @cached_property
    def _ctx(self) -> Any:
        return _mpoly_ctx(self.axes)

    @cached_property
    def _flint(self) -> tuple[tuple[list[list[_Poly]], _Poly], ...]:
        """Per axis ``(N_i, d_i)`` with ``M_i = N_i / d_i``, ``N_i`` polynomial, ``d_i`` scalar."""
        ctx, syms = self._ctx, self.symbols
        out = []
        for M in self.matrices:
            pairs = [[_sympy_to_mpoly(M[i, j], syms, ctx) for j in range(M.cols)]
                     for i in range(M.rows)]
            den = ctx.from_dict({(0,) * self.dim: 1})
            for row in pairs:
                for _, d in row:
                    if not d.is_one():
                        g = den.gcd(d)
                        den = den * (d / g) if not g.is_one() else den * d
            rows = [[n * (den / d) for n, d in row] for row in pairs]
            out.append((rows, den))
        return tuple(out)

    def _shift(self, p: _Poly, offset: Sequence[int]) -> _Poly:
        if not any(offset):
            return p
        gens = self._ctx.gens()
        return p.compose(*(g + k for g, k in zip(gens, offset, strict=True)))

    def _step(self, axis: int, offset: Sequence[int], forward: bool) -> _PMat:
        """The unit step along ``axis`` from the point ``x + offset`` (symbolic ``x``)."""
        rows, den = self._flint[axis]
        one = self._ctx.from_dict({(0,) * self.dim: 1})
        if forward:
            N = [[self._shift(e, offset) for e in row] for row in rows]
            return _PMat(N, one, self._shift(den, offset))
        back = list(offset)
        back[axis] -= 1
        N = [[self._shift(e, back) for e in row] for row in rows]
        det = _det(N)
        if det == 0:
            raise DivergenceError(f"M_{self.axes[axis]} is singular: no backward step")
        return _PMat(_adjugate(N), self._shift(den, back), det)

    # -- conservation
    def conservation_defects(self) -> dict[tuple[str, str], bool]:
        """For each pair of axes: does ``M_i(x) M_j(x+e_i) = M_j(x) M_i(x+e_j)`` hold exactly?"""
        out = {}
        zero = (0,) * self.dim
        for i, j in itertools.combinations(range(self.dim), 2):
            ei = [int(k == i) for k in range(self.dim)]
            ej = [int(k == j) for k in range(self.dim)]
            left = self._step(i, zero, True) * self._step(j, ei, True)
            right = self._step(j, zero, True) * self._step(i, ej, True)
            ok = all(
                a * left.num * right.den == b * right.num * left.den
                for ra, rb in zip(left.rows, right.rows, strict=True)
                for a, b in zip(ra, rb, strict=True)
            )
            out[(self.axes[i], self.axes[j])] = ok
        return out

    def is_conserving(self) -> bool:
        """True iff every pair of axes satisfies the conservation identity exactly."""
        return all(self.conservation_defects().values())

    def check_conservation(self) -> None:
        """Raise :class:`ConservationError` naming the first pair of axes that does not conserve.

        Examples
        --------
        >>> broken = CMF.from_text({"x": ["1", "-y-1", "-1", "x+y+3"],
        ...                         "y": ["0", "-y-1", "-1", "x+y+1"]})
        >>> broken.check_conservation()
        Traceback (most recent call last):
        ...
        solvers.errors.ConservationError: M_x and M_y do not conserve: M_x(x) M_y(x+e_x) != ...
        """
        for (a, b), ok in self.conservation_defects().items():
            if not ok:
                raise ConservationError(
                    f"M_{a} and M_{b} do not conserve: M_{a}(x) M_{b}(x+e_{a}) != "
                    f"M_{b}(x) M_{a}(x+e_{b})"
                )

    # -- trajectories
    def _path_matrix(self, trajectory: Sequence[int]) -> _PMat:
        """The exact product of unit steps from ``x`` to ``x + t`` (symbolic ``x``)."""
        t = self._check_vector(trajectory, "trajectory")
        one = self._ctx.from_dict({(0,) * self.dim: 1})
        eye = [[one if i == j else one * 0 for j in range(self.rank)] for i in range(self.rank)]
        acc = _PMat(eye, one, one)
        offset = [0] * self.dim
        for axis, steps in enumerate(t):
            for _ in range(abs(steps)):
                if steps > 0:
                    acc = acc * self._step(axis, offset, True)
                    offset[axis] += 1
                else:
                    acc = acc * self._step(axis, offset, False)
                    offset[axis] -= 1
        return _canonical(acc)

    def _check_vector(self, v: Sequence[Any], what: str) -> tuple[Any, ...]:
        v = tuple(v)
        if len(v) != self.dim:
            raise DiscoveryError(f"{what} {v} has {len(v)} components; the field has {self.dim}")
        return v

    def trajectory_matrix(
        self, trajectory: Sequence[int], start: Sequence[Any] | None = None
    ) -> sp.Matrix:
        """The exact trajectory matrix, as SymPy.

        Without ``start``: the product of unit steps from the symbolic point ``x`` to
        ``x + t`` (a matrix of the sub-field along ``t``). With ``start``: ``T(n)``, the same
        product from ``s + n t`` to ``s + (n + 1) t``, as a matrix in ``n``.

        Examples
        --------
        >>> e = CMF.from_text({"x": ["1", "-y-1", "-1", "x+y+2"],
        ...                    "y": ["0", "-y-1", "-1", "x+y+1"]})
        >>> e.trajectory_matrix((1, 0), (0, 0)).tolist()
        [[1, -1], [-1, n + 2]]
        """
        if start is None:
            pm = self._path_matrix(trajectory)
            syms = self.symbols
            scale = _mpoly_to_sympy(pm.num, syms) / _mpoly_to_sympy(pm.den, syms)
            return sp.Matrix(
                [[sp.cancel(scale * _mpoly_to_sympy(e, syms)) for e in row] for row in pm.rows]
            )
        tm = self.walk(trajectory, start)
        nsym = sp.Symbol("n")
        return sp.Matrix(
            [[sp.cancel(tm.scale * _poly_to_sympy(e, nsym)) for e in row] for row in tm.polys]
        )

    def walk(self, trajectory: Sequence[int], start: Sequence[Any]) -> CMFTrajectory:
        """The trajectory ``t`` from ``s`` as a formula object (limits, δ, PCF)."""
        return CMFTrajectory(self, tuple(int(k) for k in trajectory), _start_tuple(start))


def _start_tuple(start: Sequence[Any]) -> tuple[Any, ...]:
    out = []
    for v in start:
        f = Fraction(v) if not isinstance(v, Fraction) else v
        out.append(int(f) if f.denominator == 1 else f)
    return tuple(out)


# --------------------------------------------------------------------------- trajectories


@dataclass(frozen=True)
class CMFTrajectory:
    """The walk of a CMF along an integer trajectory from a start point: a formula.

    ``T(n)`` is the ordered product of unit steps from ``s + n t`` to ``s + (n + 1) t``,
    ``W_N = T(0) ··· T(N-1)``, and the limit is ``W_N[0, -1] / W_N[1, -1]``. Walks are exact
    and projective (``T(n)`` is replaced by its primitive integer numerator
    ``T~(n) = T(n)/λ(n)``; ratios do not change).

    Attributes
    ----------
    cmf : CMF
    trajectory : tuple of int
    start : tuple of int or Fraction

    Examples
    --------
    >>> z3 = CMF.from_text({
    ...     "x": ["0", "-x**3", "(x+1)**3", "x**3+(x+1)**3+2*y*(y-1)*(2*x+1)"],
    ...     "y": ["-x**3+2*x**2*y-2*x*y**2+y**3", "-x**3", "x**3", "x**3+2*x**2*y+2*x*y**2+y**3"]},
    ...     name="zeta3")
    >>> w = z3.walk((1, 1), (1, 1))
    >>> w
    CMFTrajectory(zeta3, t=(1, 1), s=(1, 1))
    >>> lim = w.limit(100)
    >>> import mpmath; ctx = mpmath.MPContext(); ctx.dps = 150
    >>> abs(lim.value - (1 - ctx.zeta(3)) / ctx.zeta(3)) < 1e-120
    True
    >>> w.pcf().pcf   # Apery's PCF, shifted by one step
    PCF(34n^3+153n^2+231n+117, -n^6-6n^5-15n^4-20n^3-15n^2-6n-1)
    """

    cmf: CMF
    trajectory: tuple[int, ...]
    start: tuple[Any, ...]

    def __post_init__(self) -> None:
        if len(self.trajectory) != self.cmf.dim or len(self.start) != self.cmf.dim:
            raise DiscoveryError(
                f"trajectory {self.trajectory} and start {self.start} must have "
                f"{self.cmf.dim} components"
            )
        if not any(self.trajectory):
            raise DiscoveryError("the trajectory must be a nonzero vector")

    def __repr__(self) -> str:
        name = self.cmf.name or self.cmf.key
        start = tuple(str(v) if isinstance(v, Fraction) else v for v in self.start)
        start_text = "(" + ", ".join(str(v) for v in start) + ("," if len(start) == 1 else "") + ")"
        return f"CMFTrajectory({name}, t={self.trajectory}, s={start_text})"

    def to_dict(self) -> dict:
        """Exact JSON-able form (the field by value, so a worker needs no catalogue)."""
        return {
            "cmf": self.cmf.to_dict(),
            "trajectory": list(self.trajectory),
            "start": [str(v) if isinstance(v, Fraction) else v for v in self.start],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CMFTrajectory:
        """Inverse of :meth:`to_dict`."""
        cmf = CMF.from_dict(d["cmf"])
        return cls(cmf, tuple(int(k) for k in d["trajectory"]),
                   _start_tuple(Fraction(v) for v in d["start"]))

    @property
    def key(self) -> str:
        """Canonical key of (field, trajectory, start)."""
        return canonical_key(
            "cmf-walk",
            {
                "cmf": self.cmf.key,
                "trajectory": list(self.trajectory),
                "start": [str(v) for v in self.start],
            },
        )

    @cached_property
    def _matrix(self) -> tuple[tuple[tuple[Any, ...], ...], sp.Expr]:
        rows, num, den = _in_n(self.cmf._path_matrix(self.trajectory), self.trajectory,
                               self.start)
        if den == 0 or num == 0:
            raise DivergenceError(
                f"the field is singular all along {self!r}: the step scalar vanishes identically"
            )
        if not any(e != 0 for row in rows for e in row):
            raise DivergenceError(f"the trajectory matrix of {self!r} vanishes identically")
        return _primitive_form(rows, num, den)

    @property
    def polys(self) -> tuple[tuple[Any, ...], ...]:
        """``T~(n)``: the primitive integer polynomial matrix (``flint.fmpz_poly`` entries)."""
        return self._matrix[0]

    @property
    def scale(self) -> sp.Expr:
        """``λ(n)`` with ``T(n) = λ(n) · T~(n)`` exactly."""
        return self._matrix[1]

    @property
    def matrix(self) -> sp.Matrix:
        """``T~(n)`` as a SymPy matrix in ``n`` (the walk up to the scalar :attr:`scale`)."""
        n = sp.Symbol("n")
        return sp.Matrix([[_poly_to_sympy(e, n) for e in row] for row in self.polys])

    def step(self, n: int) -> Any:
        """``T~(n)`` at an integer ``n`` (``flint.fmpz_mat``)."""
        r = self.cmf.rank
        return flint.fmpz_mat(r, r, [e(n) for row in self.polys for e in row])

    def walk_matrices(self, depth: int) -> tuple[Any, Any]:
        """``(W_{N-1}, W_N)`` exactly, up to one common nonzero scalar (``flint.fmpz_mat``)."""
        if depth < 1:
            raise DiscoveryError(f"depth must be >= 1, got {depth}")
        r = self.cmf.rank
        eye = flint.fmpz_mat(r, r, [int(i == j) for i in range(r) for j in range(r)])
        prev = product_tree(_leaf_products(self.polys, 0, depth - 1)) if depth > 1 else eye
        return prev, prev * self.step(depth - 1)

    def convergents(self, depth: int) -> tuple[Any, Any, Any, Any]:
        """``(p_{N-1}, p_N, q_{N-1}, q_N)``, ``p_k = W_k[0, -1]``, ``q_k = W_k[1, -1]`` (mpz)."""
        prev, cur = self.walk_matrices(depth)
        r = self.cmf.rank
        return (
            mpz(int(prev[0, r - 1])),
            mpz(int(cur[0, r - 1])),
            mpz(int(prev[1, r - 1])),
            mpz(int(cur[1, r - 1])),
        )

    def limit(self, depth: int, dps: int | None = None) -> CFLimit:
        """``W_N[0,-1]/W_N[1,-1]`` with the error estimate ``|L_N - L_{N-1}|`` (see ``CFLimit``).

        ``dps`` defaults to the digits the estimate supports, which never exceed
        ``log10 |q_{N-1} q_N|`` (a walk that has become stationary, with a rational limit,
        gets that many).
        """
        conv = self.convergents(depth)
        if conv[3] == 0:
            raise DivergenceError(f"W_{depth}[1, -1] = 0 for {self!r}: the walk is degenerate")
        if dps is None:
            cap = int(log10_abs(conv[2]) + log10_abs(conv[3])) if conv[2] else 0
            err = _log10_gap(conv)
            est = cap if not math.isfinite(err) else max(0, int(-err))
            dps = max(min(est, cap), 15) + 10
        return limit_from_convergents(conv, depth, dps)

    def digits_per_term(self, depth: int) -> float:
        """Slope of the estimated correct digits between depths ``N/2`` and ``N``."""
        if depth < 4:
            raise DiscoveryError("need depth >= 4 to measure a rate")
        e1 = self.limit(depth // 2, dps=30).error
        e2 = self.limit(depth, dps=30).error
        if not (math.isfinite(e1) and math.isfinite(e2)):
            return math.inf
        return (e1 - e2) / (depth - depth // 2)

    def delta(self, depth: int, limit: Any = None, dps: int | None = None) -> float:
        """Irrationality measure δ of ``p_N/q_N`` (gcd-reduced), against a deeper limit.

        ``|L - p/q| = q'^{-(1+δ)}`` with ``q' = q / gcd(p, q)``; the limit is taken from a walk
        twice as deep unless given (with its precision ``dps`` in decimal digits).
        """
        _, p, _, q = self.convergents(depth)
        if limit is None:
            ref = self.limit(2 * depth)
            cur = self.limit(depth, dps=30)
            if not ref.error < cur.error - 5:
                raise PrecisionError(
                    f"the depth-{2 * depth} walk is not much more accurate than depth {depth}; "
                    "δ would be meaningless"
                )
            return irrationality_measure(p, q, ref.value, ref.prec)
        if dps is None:
            raise DiscoveryError("give dps (the limit's decimal digits) together with limit")
        return irrationality_measure(p, q, limit, dps_to_prec(dps))

    # -- PCF
    def pcf(self) -> PCFExtraction:
        """The equivalent PCF of a rank-2 trajectory (coboundary to companion form, deflated).

        The result carries the Möbius map taking the PCF's limit to this walk's limit (when the
        walk is not degenerate at its start).
        """
        if self.cmf.rank != 2:
            raise DiscoveryError(
                f"PCF extraction needs rank 2; this field has rank {self.cmf.rank}"
            )
        return pcf_from_matrix(self.polys)

