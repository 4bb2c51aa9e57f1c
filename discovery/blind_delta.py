"""Blind-δ clustering: group a scanned PCF domain by convergence dynamics, then label it.

After Shalyt et al., "Unsupervised Discovery of Formulas for Mathematical Constants" (NeurIPS
2024, arXiv:2412.16818). The ``blind-delta`` engine (:mod:`search.blind_delta`) computes the
convergence dynamics of every PCF of a domain (:mod:`solvers.blind_delta`) into the store's
dynamics table (:mod:`discovery.dynamics`). This module does the rest of the method:

1. :func:`load` the converging rows;
2. :func:`cluster` them with HDBSCAN in a 2-D *plane* of two dynamics metrics (the
   irrationality measure δ against the growth ``c`` of the reduced denominators, by default);
3. :func:`label_clusters`: formulas of one constant share their dynamics, so a cluster holding
   a formula from the literature (an *anchor*, :func:`anchors`) is labelled by the anchor's
   constant; a cluster without an anchor is labelled by identifying a few of its
   representatives (the members with the most digits) against the constants catalogue, and
   is an *open question* if none is identified. Members of a labelled cluster are identified
   against the label (PSLQ: a Möbius or linear relation), verified independently
   (:func:`discovery.verify.verify`, ball arithmetic) and recorded in the store as
   conjectures, related to the anchor (or representative) that labelled their cluster.
   Open questions are reported, never stored.

Labels ``"algebraic"`` and ``"rational"`` are *trivial*: the limits of such clusters are
quadratic irrationals or rationals (every PCF with constant ``a`` and ``b`` converges to a
quadratic irrational); their members are not stored unless asked (``store_trivial``).

The planes (any two of :data:`discovery.dynamics.FLOAT_COLUMNS`; see
:mod:`solvers.blind_delta` for the definitions):

``("delta", "c")``
    The paper's main view: δ, a property of the approximations ``p_n/q_n`` of the limit, against
    the exponential growth rate ``c`` of the gcd-reduced denominators. Formulas of one constant
    related by simple transformations share both, and factorial reduction (large gcds) shows
    as a small ``c``.
``("delta", "eta")``
    δ against the ``n log n`` term of the convergence fit: separates super-exponentially
    converging formulas (``η ≠ 0``) from geometric ones at equal δ.
``("c", "d")``
    The growth of the reduced denominators alone, ``c n + d n log n``: exponential
    (``d ≈ 0``) against factorial growth (``d > 0``: incomplete factorial reduction).
``("beta", "gamma")``
    The convergence fit alone, ``log|L - x_n| ≈ β log n + γ n``: polynomial (``β``) against
    geometric (``γ``) convergence.
``("delta", "rate")``
    δ against the digits gained per term.

Examples
--------
>>> import numpy as np
>>> rows = [{"a": (1, 2), "b": (0, 0, 1), "status": "converges", "limit": "1.27323954473516",
...          "digits": 1500.0, "delta": -0.6 + 0.001 * k, "c": 2.0 + 0.001 * k} for k in range(6)]
>>> rows += [{"a": (k, 1), "b": (1,), "status": "converges", "limit": "0.5",
...           "digits": 900.0, "delta": 0.9 - 0.001 * k, "c": 0.5 + 0.001 * k} for k in range(6)]
>>> table = table_from_rows(rows)
>>> labels = cluster(table, min_cluster_size=3)
>>> sorted(set(labels.tolist()))
[0, 1]
>>> len(anchors()) >= 8
True
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from discovery.store import Store
    from solvers.continued_fractions import PCF

__all__ = [
    "ANCHORS_TABLE",
    "DEFAULT_PLANE",
    "PLANES",
    "TRIVIAL_LABELS",
    "DEFAULT_MIN_CLUSTER_SIZE",
    "DEFAULT_MIN_SAMPLES",
    "Anchor",
    "ClusterReport",
    "anchors",
    "load",
    "rational_mask",
    "table_from_rows",
    "parse_plane",
    "plane_points",
    "cluster",
    "anchor_rows",
    "seed_anchor_clusters",
    "label_clusters",
    "summary",
]

#: The literature formulas that label clusters: the reference table of known formulas
#: (``data/known_formulas.csv``, :mod:`discovery.known`), whose ``constant`` and ``basis``
#: columns say what each formula labels. Those that are rows of a scanned domain are anchors.
ANCHORS_TABLE = Path(__file__).resolve().parents[1] / "data" / "known_formulas.csv"

#: The default plane: δ against the growth of the reduced denominators.
DEFAULT_PLANE: tuple[str, str] = ("delta", "c")

#: The documented planes and what each shows (any two float metrics may be used).
PLANES: dict[tuple[str, str], str] = {
    ("delta", "c"): "irrationality measure against the growth of the reduced denominators",
    ("delta", "eta"): "irrationality measure against super-exponential convergence",
    ("c", "d"): "exponential against factorial growth of the reduced denominators",
    ("beta", "gamma"): "polynomial against geometric convergence",
    ("delta", "rate"): "irrationality measure against digits per term",
}

#: Labels whose clusters hold no formula worth storing by default.
TRIVIAL_LABELS = ("algebraic", "rational")

#: The constant a basis element is a formula *for*, where the basis element is not itself a
#: catalogue name.
_BASIS_CONSTANT = {"e^2": "e", "pi^2": "pi"}

_NOISE = -1
_UNDEFINED = -2


# --------------------------------------------------------------------------------------------
# Anchors
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    """A formula from the literature inside the scanned domain.

    Attributes
    ----------
    name : str
        Short name (``"4/pi from arctan"``).
    pcf : PCF
        The formula.
    claim : str
        Its limit, text for the safe parser (``"4/pi"``).
    constant : str
        The label it gives its cluster: a catalogue name (``"pi"``), a constant expression
        (``"tan(1)"``), or ``"algebraic"``.
    basis : str
        The basis element its cluster's members are identified against (``"e^2"`` for
        ``coth 1``); empty for an algebraic anchor.
    source : str
        Where it comes from.
    """

    name: str
    pcf: PCF
    claim: str
    constant: str
    basis: str
    source: str

    @property
    def key(self) -> str:
        """The store key of the formula."""
        return self.pcf.key

    @property
    def coefficients(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """``(a, b)`` without trailing zero coefficients (how table rows are matched)."""
        return _strip(self.pcf.a), _strip(self.pcf.b)


@lru_cache(maxsize=4)
def _read_anchors(path: str) -> tuple[Anchor, ...]:
    from solvers.continued_fractions import PCF

    with open(path, newline="", encoding="utf-8") as f:
        return tuple(
            Anchor(row["name"], PCF(row["a"], row["b"]), row["claim"], row["constant"].strip(),
                   (row.get("basis") or "").strip(), row["source"])
            for row in csv.DictReader(f)
        )


def anchors(path: str | Path = ANCHORS_TABLE) -> tuple[Anchor, ...]:
    """The anchors of the reference table ``data/known_formulas.csv`` (or of ``path``).

    Examples
    --------
    >>> pi = [x for x in anchors() if x.name == "4/pi from arctan"][0]
    >>> pi.pcf, pi.claim, pi.constant, pi.coefficients
    (PCF(2n+1, n^2), '4/pi', 'pi', ((1, 2), (0, 0, 1)))
    """
    return _read_anchors(str(path))


def _strip(c: Iterable[int]) -> tuple[int, ...]:
    out = [int(v) for v in c]
    while len(out) > 1 and out[-1] == 0:
        out.pop()
    return tuple(out)


# --------------------------------------------------------------------------------------------
# The table and the planes
# --------------------------------------------------------------------------------------------


def load(store: Store, *, drop_rational: bool = True) -> dict[str, Any]:
    """The converging rows of the store's dynamics table, as columns.

    Parameters
    ----------
    store : Store
        A store holding a Blind-δ scan (``discovery search blind-delta``).
    drop_rational : bool
        Leave out the rows whose limit is rational (:func:`rational_mask`): they are no
        formulas for a constant, and slowly converging ones would blur the clusters. Their
        number is kept in ``table["rational"]``.

    Returns
    -------
    dict
        ``a``, ``b`` (lists of coefficient tuples), ``limit``, ``reason`` (lists of str),
        every float metric as a float64 array (NaN where undefined), ``depth``, ``run``;
        ``rational``: the rows left out.

    Examples
    --------
    >>> from discovery.store import Store
    >>> store = Store(":memory:")
    >>> _ = store.add_dynamics([{"a": (1, 2, 0), "b": (0, 0, 1), "status": "converges",
    ...                          "limit": "1.2732395447351626861510701069801148962756",
    ...                          "digits": 1500.0, "delta": -0.2, "c": 2.0},
    ...                         {"a": (2, 2, 0), "b": (0, -1, 3), "status": "converges",
    ...                          "limit": "1.0", "digits": 300.0, "delta": -0.33, "c": 1.5},
    ...                         {"a": (1, 0, 0), "b": (0, 0, -1), "status": "diverges"}])
    >>> t = load(store)
    >>> len(t["a"]), t["a"][0], float(t["delta"][0]), t["rational"]
    (1, (1, 2, 0), -0.2, 1)
    >>> store.close()
    """
    table = store.dynamics(status="converges")
    table.pop("status", None)
    table["rational"] = 0
    if drop_rational:
        table = _select(table, ~rational_mask(table))
        table["rational"] = int(len(store.dynamics(status="converges", columns=("depth",))
                                    ["depth"]) - len(table["a"]))
    return table


def _select(table: Mapping[str, Any], keep: np.ndarray) -> dict[str, Any]:
    import numpy as np

    out: dict[str, Any] = {}
    for k, v in table.items():
        if isinstance(v, np.ndarray) and v.ndim == 1 and len(v) == len(keep):
            out[k] = v[keep]
        elif isinstance(v, list) and len(v) == len(keep):
            out[k] = [x for x, k_ in zip(v, keep, strict=True) if k_]
        else:
            out[k] = v
    return out


def rational_mask(table: Mapping[str, Any], max_denominator: int = 10**6) -> np.ndarray:
    """Which rows converge to a rational number (a limit of 0 included).

    A row is rational when its limit, known to ``min(40, digits)`` significant digits (the
    ``limit`` text drops trailing zeros), is within that precision of a fraction whose
    denominator is at most ``max_denominator`` and leaves at least 8 digits to spare; a
    converging row without a limit text converged to 0.

    Examples
    --------
    >>> t = table_from_rows([
    ...     {"a": (1,), "b": (1,), "limit": "1.61803398874989484820458683436563811772",
    ...      "digits": 800.0},
    ...     {"a": (2,), "b": (1,), "limit": "0.666666666666666666666666666666666666667",
    ...      "digits": 300.0},
    ...     {"a": (3,), "b": (1,), "limit": "2.0", "digits": 300.0},
    ...     {"a": (4,), "b": (1,), "limit": None, "digits": 300.0}])
    >>> rational_mask(t).tolist()
    [False, True, True, True]
    """
    from fractions import Fraction

    import numpy as np

    digits = np.asarray(table.get("digits", np.full(len(table["a"]), np.nan)),
                        dtype=np.float64)
    out = np.zeros(len(table["a"]), dtype=bool)
    for i, text in enumerate(table["limit"]):
        if text is None:
            out[i] = True
            continue
        try:
            x = Fraction(text)
        except (ValueError, ZeroDivisionError):
            continue
        if x == 0:
            out[i] = True
            continue
        known = min(40.0, float(digits[i])) if math.isfinite(digits[i]) else 40.0
        r = x.limit_denominator(max_denominator)
        need = 2 * math.log10(max(r.denominator, 1)) + 8
        if known < need:
            continue
        out[i] = abs(x - r) <= abs(x) * Fraction(10) ** -int(known - 1)
    return out


def table_from_rows(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A table like :func:`load`'s from row dicts (converging rows only; missing metrics NaN).

    Examples
    --------
    >>> import numpy as np
    >>> t = table_from_rows([{"a": (1,), "b": (1,), "status": "converges", "delta": 1.0}])
    >>> t["a"], float(t["delta"][0]), bool(np.isnan(t["c"][0]))
    ([(1,)], 1.0, True)
    """
    import numpy as np

    from discovery.dynamics import FLOAT_COLUMNS

    rows = [r for r in rows if r.get("status", "converges") == "converges"]
    out: dict[str, Any] = {
        "a": [tuple(int(v) for v in r["a"]) for r in rows],
        "b": [tuple(int(v) for v in r["b"]) for r in rows],
        "reason": [r.get("reason") for r in rows],
        "limit": [r.get("limit") for r in rows],
    }
    for name in FLOAT_COLUMNS:
        out[name] = np.array([_float(r.get(name)) for r in rows], dtype=np.float64)
    out["depth"] = np.array([int(r.get("depth") or -1) for r in rows], dtype=np.int64)
    out["rational"] = 0
    return out


def _float(v: Any) -> float:
    if v is None:
        return math.nan
    f = float(v)
    return f if math.isfinite(f) else math.nan


def parse_plane(plane: str | Sequence[str]) -> tuple[str, str]:
    """Two float metrics: ``"delta,c"`` or ``("delta", "c")``.

    Examples
    --------
    >>> parse_plane("delta, c"), parse_plane(("beta", "gamma"))
    (('delta', 'c'), ('beta', 'gamma'))
    >>> parse_plane("delta")
    Traceback (most recent call last):
    ...
    ValueError: a plane is two metrics such as 'delta,c', got 'delta'
    """
    from discovery.dynamics import FLOAT_COLUMNS

    names = [s.strip() for s in plane.split(",")] if isinstance(plane, str) else list(plane)
    names = [n for n in names if n]
    if len(names) != 2:
        raise ValueError(f"a plane is two metrics such as 'delta,c', got {plane!r}")
    for n in names:
        if n not in FLOAT_COLUMNS:
            raise ValueError(f"unknown metric {n!r}; the metrics are {', '.join(FLOAT_COLUMNS)}")
    if names[0] == names[1]:
        raise ValueError(f"a plane needs two different metrics, got {plane!r}")
    return names[0], names[1]


def plane_points(table: Mapping[str, Any], plane: str | Sequence[str] = DEFAULT_PLANE
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``(points, defined)``: the ``(n, 2)`` coordinates and which rows have both defined.

    Examples
    --------
    >>> t = table_from_rows([{"a": (1,), "b": (1,), "delta": 1.0, "c": 0.5},
    ...                      {"a": (2,), "b": (1,), "delta": 1.0}])
    >>> xy, ok = plane_points(t, "delta,c")
    >>> xy.shape, ok.tolist()
    ((2, 2), [True, False])
    """
    import numpy as np

    x_name, y_name = parse_plane(plane)
    xy = np.column_stack([np.asarray(table[x_name], dtype=np.float64),
                          np.asarray(table[y_name], dtype=np.float64)])
    return xy, np.isfinite(xy).all(axis=1)


def _standardise(xy: np.ndarray) -> np.ndarray:
    """Robust standardisation: subtract the median, divide by the interquartile range (the
    standard deviation when the IQR vanishes, 1 when both do), so that outliers (divergent
    fits) do not squash the bulk of the plane."""
    import numpy as np

    out = np.empty_like(xy)
    for j in range(xy.shape[1]):
        col = xy[:, j]
        med = float(np.median(col))
        q1, q3 = np.percentile(col, [25, 75])
        scale = float(q3 - q1)
        if not scale > 0:
            scale = float(np.std(col))
        if not scale > 0:
            scale = 1.0
        out[:, j] = (col - med) / scale
    return out


#: HDBSCAN's smallest cluster by default: families of equivalent formulas are small (4/pi has
#: six PCFs in the deg a <= 1, deg b <= 2, |coefficients| <= 5 subdomain: three shifts, two signs).
DEFAULT_MIN_CLUSTER_SIZE = 6
#: HDBSCAN's density parameter by default.
DEFAULT_MIN_SAMPLES = 3


def cluster(table: Mapping[str, Any], plane: str | Sequence[str] = DEFAULT_PLANE,
            min_cluster_size: int | None = None, min_samples: int | None = None,
            *, max_points: int = 400_000, seed: int = 0) -> np.ndarray:
    """HDBSCAN labels of the rows in a plane: ``0, 1, ...`` clusters, ``-1`` noise, ``-2``
    rows with an undefined coordinate (not clustered).

    The plane is robustly standardised first (median and interquartile range per axis).
    Identical points (PCFs with the same dynamics, frequent: equivalent formulas) are
    clustered once; a table with more than ``max_points`` distinct points is clustered on a
    random sample of them, the rest joining the cluster of their nearest sampled point
    (noise if that point is noise).

    Parameters
    ----------
    table : mapping
        Columns as returned by :func:`load` or :func:`table_from_rows`.
    plane : str or pair of str
        Two float metrics (see :data:`PLANES`).
    min_cluster_size : int, optional
        HDBSCAN's smallest cluster (default :data:`DEFAULT_MIN_CLUSTER_SIZE`: the families of
        equivalent formulas the clusters should find are small).
    min_samples : int, optional
        HDBSCAN's density parameter (default ``min(min_cluster_size, DEFAULT_MIN_SAMPLES)``).
    max_points, seed : int
        Sampling of very large tables.

    Returns
    -------
    numpy.ndarray
        ``int64`` labels, one per row, clusters numbered by decreasing size.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> pts = np.vstack([rng.normal((0, 0), 0.01, (20, 2)), rng.normal((1, 1), 0.01, (30, 2))])
    >>> t = {"delta": np.append(pts[:, 0], np.nan), "c": np.append(pts[:, 1], 0.0)}
    >>> lab = cluster(t, min_cluster_size=5)
    >>> bool((lab[:20] == 1).all()), bool((lab[20:50] == 0).all()), int(lab[50])
    (True, True, -2)
    """
    import numpy as np
    from sklearn.cluster import HDBSCAN

    xy, ok = plane_points(table, plane)
    labels = np.full(len(xy), _UNDEFINED, dtype=np.int64)
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return labels
    mcs = DEFAULT_MIN_CLUSTER_SIZE if min_cluster_size is None else int(min_cluster_size)
    if mcs < 2:
        raise ValueError(f"min_cluster_size must be >= 2, got {mcs}")
    ms = min(mcs, DEFAULT_MIN_SAMPLES) if min_samples is None else int(min_samples)
    if ms < 1:
        raise ValueError(f"min_samples must be >= 1, got {ms}")
    z = _standardise(xy[idx])
    # Cluster the distinct points (rounded far below any cluster's width).
    uniq, inverse, counts = np.unique(np.round(z, 9), axis=0, return_inverse=True,
                                      return_counts=True)
    inverse = inverse.reshape(-1)
    if len(idx) < mcs:
        labels[idx] = _NOISE
        return labels
    # HDBSCAN has no sample weights: repeat each distinct point up to min_samples times so
    # that duplicates still count as density, without clustering every copy.
    reps = np.minimum(counts, max(ms, 2))
    pts = np.repeat(uniq, reps, axis=0)
    owner = np.repeat(np.arange(len(uniq)), reps)
    sample = None
    if len(pts) > max_points:
        rng = np.random.default_rng(seed)
        sample = np.sort(rng.choice(len(pts), max_points, replace=False))
        pts, owner = pts[sample], owner[sample]
    model = HDBSCAN(min_cluster_size=mcs, min_samples=ms, allow_single_cluster=False,
                    copy=True)
    got = model.fit_predict(pts)
    uniq_labels = np.full(len(uniq), _NOISE, dtype=np.int64)
    # A distinct point takes the most common label of its copies (they agree in practice).
    for lab in np.unique(got):
        if lab < 0:
            continue
        members = np.unique(owner[got == lab])
        uniq_labels[members] = lab
    if sample is not None:  # distinct points left out of the sample: nearest sampled point
        seen = np.zeros(len(uniq), dtype=bool)
        seen[owner] = True
        missing = np.flatnonzero(~seen)
        if len(missing):
            from sklearn.neighbors import NearestNeighbors

            nn = NearestNeighbors(n_neighbors=1).fit(uniq[seen])
            _, near = nn.kneighbors(uniq[missing])
            uniq_labels[missing] = uniq_labels[np.flatnonzero(seen)[near[:, 0]]]
    row_labels = uniq_labels[inverse]
    # Number the clusters by decreasing size (stable across runs of the same table).
    sizes = Counter(int(v) for v in row_labels if v >= 0)
    order = sorted(sizes, key=lambda k: (-sizes[k], k))
    remap = {old: new for new, old in enumerate(order)}
    labels[idx] = [remap.get(int(v), _NOISE) for v in row_labels]
    return labels


def anchor_rows(table: Mapping[str, Any], anchor_list: Iterable[Anchor] | None = None
                ) -> dict[int, Anchor]:
    """Row index -> anchor, for the anchors that are rows of the table.

    Examples
    --------
    >>> t = table_from_rows([{"a": (1, 2, 0), "b": (0, 0, 1)}, {"a": (3,), "b": (1,)}])
    >>> [(i, x.name) for i, x in anchor_rows(t).items()]
    [(0, '4/pi from arctan')]
    """
    by_coeffs = {x.coefficients: x for x in (anchors() if anchor_list is None else anchor_list)}
    out: dict[int, Anchor] = {}
    for i, (a, b) in enumerate(zip(table["a"], table["b"], strict=True)):
        x = by_coeffs.get((_strip(a), _strip(b)))
        if x is not None:
            out[i] = x
    return out


def seed_anchor_clusters(table: Mapping[str, Any], labels: np.ndarray,
                         plane: str | Sequence[str] = DEFAULT_PLANE,
                         anchor_list: Iterable[Anchor] | None = None,
                         k: int = DEFAULT_MIN_CLUSTER_SIZE) -> np.ndarray:
    """Give every anchor HDBSCAN left as noise a cluster of its own.

    A formula from the literature in a sparse part of the plane is still a label: it seeds a
    new cluster made of itself and the noise rows within its *core distance* (the distance,
    in the plane standardised as :func:`cluster` does, to its ``k``-th nearest distinct
    point). Labelling then checks those rows against the anchor's constant like any
    cluster's members. Rows of existing clusters are never moved.

    Returns
    -------
    numpy.ndarray
        A copy of ``labels`` with the seeded clusters numbered after the existing ones.

    Examples
    --------
    >>> import numpy as np
    >>> t = table_from_rows([{"a": (1, 2), "b": (0, 0, 1), "delta": -0.2, "c": 2.0},
    ...                      {"a": (2, 4), "b": (0, 0, 4), "delta": -0.2, "c": 2.01},
    ...                      {"a": (3, 1), "b": (1,), "delta": 0.9, "c": 0.0},
    ...                      {"a": (4, 1), "b": (1,), "delta": 0.9, "c": 0.01}])
    >>> seed_anchor_clusters(t, np.array([-1, -1, 0, 0]), k=1).tolist()   # 4/pi: row 0
    [1, 1, 0, 0]
    """
    import numpy as np

    labels = np.array(labels, dtype=np.int64, copy=True)
    at = anchor_rows(table, anchor_list)
    noisy = [i for i in sorted(at) if labels[i] == _NOISE]
    if not noisy:
        return labels
    xy, ok = plane_points(table, plane)
    idx = np.flatnonzero(ok)
    z = np.full(xy.shape, np.nan)
    z[idx] = np.round(_standardise(xy[idx]), 9)  # as cluster() sees the points
    distinct = np.unique(z[idx], axis=0)
    nxt = int(labels.max()) + 1 if len(labels) else 0
    for i in noisy:
        if labels[i] != _NOISE:  # taken by an earlier seed
            continue
        d_all = np.sqrt(((distinct - z[i]) ** 2).sum(axis=1))
        kth = min(max(int(k), 1), len(d_all) - 1)
        radius = float(np.partition(d_all, kth)[kth]) if len(d_all) > 1 else 0.0
        noise = np.flatnonzero(labels == _NOISE)
        d = np.sqrt(((z[noise] - z[i]) ** 2).sum(axis=1))
        members = noise[d <= radius * (1 + 1e-12)]
        labels[members] = nxt
        labels[i] = nxt
        nxt += 1
    return labels


# --------------------------------------------------------------------------------------------
# Labelling
# --------------------------------------------------------------------------------------------


@dataclass
class ClusterReport:
    """What :func:`label_clusters` found about one cluster.

    Attributes
    ----------
    id : int
        The cluster's label in :func:`cluster`'s output.
    size : int
        Its rows.
    label : str or None
        The constants it is labelled with, joined by ``", "`` (``"pi"``, ``"algebraic"``);
        ``None`` for an open question.
    constants : tuple of str
        The same, one per constant.
    labelled_by : str or None
        ``"anchor"`` or ``"identified"`` (its representatives were identified).
    anchors : list of dict
        The anchors among its members: name, PCF, claim, constant, key.
    representatives : list of dict
        Its members with the most digits: PCF, ``a``, ``b``, value to 20 digits, digits,
        and what identifying them gave.
    checked, verified : int
        Members identified against the label, and verified to the requested digits.
    stored : int
        Verified members that are conjectures of the store (recorded now or before).
    formulas : list of dict
        The verified members: key, PCF, claim, constant, digits.
    centre : tuple of float
        The median of its points in the plane.
    skipped : str
        Why members were not checked, if they were not.
    """

    id: int
    size: int
    label: str | None = None
    constants: tuple[str, ...] = ()
    labelled_by: str | None = None
    anchors: list[dict] = field(default_factory=list)
    representatives: list[dict] = field(default_factory=list)
    checked: int = 0
    verified: int = 0
    stored: int = 0
    formulas: list[dict] = field(default_factory=list)
    centre: tuple[float, float] = (math.nan, math.nan)
    skipped: str = ""

    @property
    def open(self) -> bool:
        """True when nothing labels the cluster: an open question, not stored."""
        return self.label is None

    def to_dict(self) -> dict:
        """JSON-able form (the ``clusters`` entries of ``discovery blind-delta clusters``)."""
        return {
            "id": self.id,
            "size": self.size,
            "label": self.label,
            "constants": list(self.constants),
            "labelled_by": self.labelled_by,
            "anchors": self.anchors,
            "checked": self.checked,
            "verified": self.verified,
            "stored": self.stored,
            "open": self.open,
            "centre": [None if not math.isfinite(v) else round(v, 6) for v in self.centre],
            "representatives": self.representatives,
            "formulas": self.formulas,
            "skipped": self.skipped,
        }


def _pcf(a: Sequence[int], b: Sequence[int]) -> PCF:
    from solvers.continued_fractions import PCF

    return PCF(_strip(a), _strip(b))


def _value20(text: str | None) -> str | None:
    if not text:
        return None
    import mpmath

    ctx = mpmath.MPContext()
    ctx.dps = 45
    try:
        return ctx.nstr(ctx.mpf(text), 20)
    except (ValueError, TypeError):
        return text


def _constant_of(label: str) -> str:
    """The catalogue constant a basis element or identification is about (a constant
    expression that is no catalogue name, without its spaces: ``"tan(1)"``).

    Examples
    --------
    >>> _constant_of("e^2"), _constant_of("ln(2)"), _constant_of("besseli(1, 2)/besseli(0, 2)")
    ('e', 'log2', 'besseli(1,2)/besseli(0,2)')
    """
    label = "".join(label.split())
    if label in _BASIS_CONSTANT:
        return _BASIS_CONSTANT[label]
    from discovery.store import canonical_constant

    return canonical_constant(label)


def _already_verified(store: Store, key: str, digits: int) -> Any:
    from solvers.errors import StoreError

    try:
        rec = store.get(key)
    except StoreError:
        return None
    if rec.status in ("verified", "proven") and (rec.digits or 0) >= digits:
        return rec
    return None


def _dynamics_of(table: Mapping[str, Any], i: int, plane: tuple[str, str]) -> dict:
    out: dict[str, Any] = {}
    for name in ("delta", "c", "d", "beta", "gamma", "eta", "rate", *plane):
        col = table.get(name)
        if col is not None:
            v = float(col[i])
            out[name] = round(v, 6) if math.isfinite(v) else None
    return out


def label_clusters(
    store: Store,
    table: Mapping[str, Any],
    labels: np.ndarray,
    *,
    plane: str | Sequence[str] = DEFAULT_PLANE,
    anchor_list: Sequence[Anchor] | None = None,
    max_members: int = 200,
    digits: int = 100,
    identify_digits: int = 60,
    representatives: int = 3,
    basis: Sequence[str] | None = None,
    identify_open: int | None = None,
    workers: int = 1,
    store_trivial: bool = False,
    record: bool = True,
    max_depth: int = 20_000,
    progress: Callable[..., Any] | None = None,
) -> list[ClusterReport]:
    """Label every cluster, check and record the members of the labelled ones.

    1. The anchors among the rows are verified (``digits``) and recorded, with their source.
    2. A cluster holding anchors is labelled by their constants.
    3. A cluster without an anchor: its first representative (the member with the most
       digits, ``a`` with a positive leading coefficient preferred) is identified against the
       catalogue from its 40-digit limit (a Möbius relation in one constant, or an algebraic
       number of degree <= 2); if that succeeds the other representatives are identified too,
       and the constants found label the cluster. Otherwise the cluster is an open question.
    4. The members of a labelled cluster (up to ``max_members``, most digits first) are
       identified against the label's constants (PSLQ on ``identify_digits`` digits of their
       limit), verified to ``digits`` digits, and recorded as conjectures related
       (``labelled-by``) to the anchor, or to the first verified member of an identified
       cluster. Members already verified in the store to ``digits`` digits are not redone.

    Parameters
    ----------
    store : Store
        Where the anchors and the verified members are recorded (writable unless
        ``record=False``).
    table : mapping
        The rows that were clustered (:func:`load`).
    labels : numpy.ndarray
        :func:`cluster`'s labels for those rows.
    plane : str or pair of str
        The plane the labels come from (kept in the evidence).
    anchor_list : sequence of Anchor, optional
        Default: :func:`anchors`.
    max_members : int
        Members checked per cluster, those with the most digits first. Only members whose
        ``a`` has a positive leading coefficient are checked: ``PCF(-a, b)`` converges to
        minus the limit of ``PCF(a, b)`` with the same dynamics (the same formula).
    digits : int
        Digits every recorded formula is verified to (at least 50).
    identify_digits : int
        Digits of a member's limit used to identify it.
    representatives : int
        Representatives reported per cluster (distinct values).
    basis : sequence of str, optional
        The catalogue for clusters without an anchor (default: the identify catalogue,
        :func:`discovery.identify.default_basis`).
    identify_open : int, optional
        Identify the representatives of at most this many clusters without an anchor (the
        largest first); default: all of them.
    workers : int
        Processes identifying representatives (1: in this process). The processes are
        spawned, so a script calling this with ``workers > 1`` needs the usual
        ``if __name__ == "__main__":`` guard.
    store_trivial : bool
        Also check and store the members of ``algebraic`` / ``rational`` clusters.
    record : bool
        ``False``: a dry run, nothing is written.
    max_depth : int
        Deepest convergent a verification may compute.
    progress : callable, optional
        ``progress(stage, done=..., total=..., detail=...)``.

    Returns
    -------
    list of ClusterReport
        One per cluster, in the order of the cluster ids.

    Examples
    --------
    >>> from discovery.store import Store
    >>> import numpy as np
    >>> from solvers.blind_delta import dynamics
    >>> rows = [dynamics(a, b, depth=400) for a, b in [((1, 2), (0, 0, 1)),
    ...         ((2, 4), (0, 0, 4)), ((5, 2), (4, 4, 1)), ((1, 1), (0, 1)), ((4, 1), (0, -1))]]
    >>> table = table_from_rows(rows)
    >>> labels = np.array([0, 0, 0, 1, 1])   # pi formulas; e formulas (Euler; Ramanujan Machine)
    >>> store = Store(":memory:")
    >>> reports = label_clusters(store, table, labels, digits=50)
    >>> [(r.label, r.labelled_by, r.verified) for r in reports]
    [('pi', 'anchor', 3), ('e', 'anchor', 2)]
    >>> sorted(r.claim for r in store.query(constant="pi"))
    ['(4 - pi)/(-3 + pi)', '4/pi', '8/pi']
    >>> store.close()
    """
    import numpy as np

    plane_t = parse_plane(plane)
    labels = np.asarray(labels)
    if len(labels) != len(table["a"]):
        raise ValueError(f"{len(labels)} labels for {len(table['a'])} rows")
    if digits < 10:
        raise ValueError(f"digits must be >= 10, got {digits}")
    anchor_list = anchors() if anchor_list is None else tuple(anchor_list)
    at = anchor_rows(table, anchor_list)
    digits_col = np.asarray(table.get("digits", np.full(len(labels), np.nan)), dtype=np.float64)
    order_key = np.where(np.isfinite(digits_col), digits_col, -1.0)
    xy, _ = plane_points(table, plane_t)
    ids = sorted(int(v) for v in np.unique(labels) if v >= 0)

    # 1. The anchors of the table, verified and recorded first (they are what others relate to).
    anchor_verdicts: dict[str, str] = {}
    for n_done, (i, x) in enumerate(sorted(at.items())):
        if progress is not None:
            progress("verifying the anchors", done=n_done, total=len(at), detail=x.name)
        anchor_verdicts[x.key] = _record_anchor(store, x, int(labels[i]), plane_t, digits,
                                                record, max_depth)

    # 2. One report per cluster: members (most digits first), anchors, representatives.
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], [ids[0] if ids else 0, *[c + 1 for c in ids]])
    reports: list[ClusterReport] = []
    members_of: dict[int, np.ndarray] = {}
    bases_of: dict[int, dict[str, tuple[str, str | None]]] = {}
    for k, cid in enumerate(ids):
        members = order[bounds[k]:bounds[k + 1]]
        members = members[np.argsort(-order_key[members], kind="stable")]
        members_of[cid] = members
        rep = ClusterReport(id=cid, size=len(members),
                            centre=tuple(float(v) for v in np.median(xy[members], axis=0)))
        inside = [at[int(i)] for i in members if int(i) in at]
        rep.anchors = [{"name": x.name, "pcf": repr(x.pcf), "claim": x.claim,
                        "constant": x.constant, "key": x.key,
                        "verdict": anchor_verdicts.get(x.key)} for x in inside]
        rep.representatives = [_representative(table, i) for i in
                               _distinct(table, members, max(representatives, 1))]
        bases: dict[str, tuple[str, str | None]] = {}  # basis element -> (constant, anchor)
        for x in inside:
            if x.constant == "algebraic":
                bases.setdefault("", ("algebraic", x.key))
            else:
                bases.setdefault(x.basis or x.constant, (x.constant, x.key))
        if bases:
            rep.labelled_by = "anchor"
        bases_of[cid] = bases
        reports.append(rep)

    # 3. Clusters without an anchor: identify their representatives against the catalogue.
    unanchored = sorted((r for r in reports if not bases_of[r.id]), key=lambda r: -r.size)
    if identify_open is not None:
        for r in unanchored[max(identify_open, 0):]:
            r.skipped = "not identified (identify_open budget)"
        unanchored = unanchored[:max(identify_open, 0)]
    first = _identify_many([r.representatives[0]["value40"] if r.representatives else None
                            for r in unanchored], basis, workers, progress, "representatives")
    hits = [r for r, got in zip(unanchored, first, strict=True) if got.get("found")]
    rest = [(r, rr) for r in hits for rr in r.representatives[1:]]
    more = _identify_many([rr["value40"] for _, rr in rest], basis, workers, progress,
                          "more representatives of identified clusters")
    for r, got in zip(unanchored, first, strict=True):
        if r.representatives:
            r.representatives[0]["identified"] = got
    for (_r, rr), got in zip(rest, more, strict=True):
        rr["identified"] = got
    for r in hits:
        for rr in r.representatives:
            got = rr.get("identified") or {}
            if not got.get("found"):
                continue
            if got["kind"] in TRIVIAL_LABELS:
                bases_of[r.id].setdefault("", (got["kind"], None))
            else:
                lab = got["basis"]
                bases_of[r.id].setdefault(lab, (_constant_of(lab), None))
        r.labelled_by = "identified"

    # 4. Members of the labelled clusters: identify against the label, verify, record.
    for n_done, rep in enumerate(reports):
        bases = bases_of[rep.id]
        constants = tuple(sorted(set(c for c, _ in bases.values())))
        rep.constants = constants
        rep.label = ", ".join(constants) if constants else None
        for rr in rep.representatives:
            rr.pop("value40", None)
        if rep.open:
            rep.skipped = rep.skipped or "no anchor, and no representative identified"
            continue
        if all(c in TRIVIAL_LABELS for c in constants) and not store_trivial:
            rep.skipped = "trivial label: members not stored (store_trivial=True checks them)"
            continue
        if progress is not None:
            progress("checking the members of labelled clusters", done=n_done,
                     total=len(reports), detail=f"cluster {rep.id} ({rep.label})")
        members = members_of[rep.id]
        canonical = np.array([i for i in members if _lead(table["a"][int(i)]) > 0],
                             dtype=np.int64)
        _check_members(store, table, rep, canonical[:max(max_members, 0)], bases, plane_t,
                       digits, identify_digits, record, max_depth, anchor_verdicts)
    return reports


def _record_anchor(store: Store, x: Anchor, cid: int, plane: tuple[str, str], digits: int,
                   record: bool, max_depth: int) -> str:
    """Verify an anchor (unless the store has it verified already) and record it."""
    from discovery.verify import verify
    from search.base import Candidate

    if _already_verified(store, x.key, digits) is not None:
        return "verified"
    ev = verify(x.pcf, x.claim, digits, max_depth=max_depth, identify_on_refutation=False)
    if record and ev.verdict == "verified":
        cand = Candidate(
            kind="pcf", key=x.key, formula=x.pcf.to_dict(), claim=ev.claim,
            constant=None if x.constant in TRIVIAL_LABELS else _constant_of(x.constant),
            evidence={"engine": "blind-delta", "anchor": True, "name": x.name,
                      "source": x.source, "cluster": cid, "plane": list(plane)},
        )
        store.record(cand, ev, engine="blind-delta")
    return ev.verdict


def _distinct(table: Mapping[str, Any], members: np.ndarray, k: int) -> list[int]:
    """The first ``k`` members (in the given order) with distinct values up to sign,
    preferring the members whose ``a`` has a positive leading coefficient."""
    out: list[int] = []
    seen: set[str] = set()
    for i in sorted((int(i) for i in members),
                    key=lambda i: _lead(table["a"][i]) < 0):  # stable: keeps the order
        if len(out) >= k:
            break
        v = (table["limit"][i] or "0").lstrip("-")[:16]
        if v in seen:
            continue
        seen.add(v)
        out.append(i)
    return out


def _lead(a: Sequence[int]) -> int:
    return next((int(v) for v in reversed(tuple(a)) if v), 0)


def _representative(table: Mapping[str, Any], i: int) -> dict:
    a, b = _strip(table["a"][i]), _strip(table["b"][i])
    d = float(table["digits"][i]) if "digits" in table else math.nan
    return {"pcf": repr(_pcf(a, b)), "a": list(a), "b": list(b),
            "value": _value20(table["limit"][i]),
            "digits": round(d, 1) if math.isfinite(d) else None,
            "value40": table["limit"][i]}


def _identify_text(job: tuple[str | None, tuple[str, ...] | None]) -> dict:
    """Identify a limit given as decimal text (one Möbius relation in one basis constant at a
    time, or an algebraic number of degree <= 2); JSON-able."""
    from discovery.identify import identify
    from solvers.errors import DiscoveryError

    text, basis = job
    if not text:
        return {"found": False, "outcome": "no value"}
    try:
        r = identify(text, basis=basis, multi_basis=(), max_degree=2)
    except (DiscoveryError, ValueError, ArithmeticError) as exc:
        return {"found": False, "outcome": f"error: {exc}"}
    if r.found:
        return {"found": True, "relation": r.relation, "kind": r.kind,
                "basis": r.constant or "", "digits": r.digits_available}
    return {"found": False, "outcome": r.outcome}


def _identify_many(texts: Sequence[str | None], basis: Sequence[str] | None, workers: int,
                   progress: Callable[..., Any] | None, stage: str) -> list[dict]:
    """:func:`_identify_text` of many limits, in ``workers`` processes."""
    jobs = [(t, None if basis is None else tuple(basis)) for t in texts]
    if not jobs:
        return []
    if progress is not None:
        progress(f"identifying {stage}", done=0, total=len(jobs))
    if workers <= 1 or len(jobs) < 8:
        out = []
        for n, job in enumerate(jobs):
            out.append(_identify_text(job))
            if progress is not None and n % 10 == 9:
                progress(f"identifying {stage}", done=n + 1, total=len(jobs))
        return out
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("spawn")  # no fork under a progress thread
    out = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        for n, got in enumerate(pool.map(_identify_text, jobs, chunksize=16)):
            out.append(got)
            if progress is not None and n % 10 == 9:
                progress(f"identifying {stage}", done=n + 1, total=len(jobs))
    return out


def _check_members(store: Store, table: Mapping[str, Any], rep: ClusterReport,
                   members: np.ndarray, bases: Mapping[str, tuple[str, str | None]],
                   plane: tuple[str, str], digits: int, identify_digits: int, record: bool,
                   max_depth: int, anchor_verdicts: Mapping[str, str]) -> None:
    from discovery.identify import identify
    from discovery.verify import verify
    from search.base import Candidate
    from solvers.errors import DiscoveryError

    algebraic = "" in bases
    basis = tuple(b for b in bases if b)
    for i in (int(i) for i in members):
        pcf = _pcf(table["a"][i], table["b"][i])
        if pcf.key in anchor_verdicts:  # an anchor: verified and recorded already
            if anchor_verdicts[pcf.key] == "verified":
                x = next(x for x in rep.anchors if x["key"] == pcf.key)
                rep.checked += 1
                rep.verified += 1
                rep.stored += int(record or pcf.key in store)
                rep.formulas.append({"key": pcf.key, "pcf": repr(pcf), "claim": x["claim"],
                                     "constant": x["constant"], "anchor": True})
            continue
        old = _already_verified(store, pcf.key, digits)
        if old is not None:
            rep.checked += 1
            rep.verified += 1
            rep.stored += 1
            rep.formulas.append({"key": pcf.key, "pcf": repr(pcf), "claim": old.claim,
                                 "constant": old.constant, "digits": old.digits})
            continue
        try:
            ident = identify(pcf, identify_digits, basis=basis, multi_basis=(),
                             max_degree=2 if algebraic else 1)
        except (DiscoveryError, ValueError, ArithmeticError):
            continue
        rep.checked += 1
        if not ident.found:
            continue
        if ident.kind in TRIVIAL_LABELS:
            if not algebraic:
                continue
            member_basis, constant = "", None
        else:
            member_basis = ident.constant or ""
            if member_basis not in bases:
                continue
            constant = bases[member_basis][0]
        try:
            ev = verify(pcf, ident.relation, digits, max_depth=max_depth,
                        identify_on_refutation=False)
        except (DiscoveryError, ValueError, ArithmeticError):
            continue
        if ev.verdict != "verified":
            continue
        rep.verified += 1
        anchor_key = bases[member_basis][1]
        rel_to = anchor_key if anchor_key and anchor_verdicts.get(anchor_key) == "verified" \
            else None
        if rel_to is None:  # the cluster's first verified formula labels the others
            rel_to = next((f["key"] for f in rep.formulas if f["key"] != pcf.key), None)
        if record:
            cand = Candidate(
                kind="pcf", key=pcf.key, formula=pcf.to_dict(), claim=ev.claim,
                constant=None if constant is None else _constant_of(constant),
                evidence={"engine": "blind-delta", "cluster": rep.id, "plane": list(plane),
                          "label": rep.label,
                          "labelled_by": rep.labelled_by, "anchor": anchor_key,
                          "identified": ident.relation,
                          "identify_digits": ident.digits_available,
                          "dynamics": _dynamics_of(table, i, plane)},
                relations=(("labelled-by", rel_to),) if rel_to else (),
            )
            store.record(cand, ev, engine="blind-delta")
            rep.stored += 1
        rep.formulas.append({"key": pcf.key, "pcf": repr(pcf), "claim": ev.claim,
                             "constant": constant, "digits": ev.digits})


def anchors_of(rep: ClusterReport) -> list[dict]:
    """The anchors of a cluster report (its ``anchors`` entries)."""
    return rep.anchors


def summary(reports: Sequence[ClusterReport], labels: np.ndarray,
            plane: str | Sequence[str] = DEFAULT_PLANE,
            table: Mapping[str, Any] | None = None) -> dict:
    """The JSON of ``discovery blind-delta clusters`` (without ``png``).

    Examples
    --------
    >>> import numpy as np
    >>> s = summary([ClusterReport(id=0, size=2, label="pi", constants=("pi",))],
    ...             np.array([0, 0, -1, -2]), "delta,c")
    >>> s["plane"], s["noise"], s["undefined"], s["clusters"][0]["open"]
    (['delta', 'c'], 1, 1, False)
    """
    import numpy as np

    labels = np.asarray(labels)
    return {
        "plane": list(parse_plane(plane)),
        "rows": int(len(labels)),
        "rational": int(table.get("rational", 0)) if table is not None else 0,
        "clusters": [r.to_dict() for r in reports],
        "noise": int(np.sum(labels == _NOISE)),
        "undefined": int(np.sum(labels == _UNDEFINED)),
        "labelled": sum(not r.open for r in reports),
        "open": sum(r.open for r in reports),
        "verified": sum(r.verified for r in reports),
        "stored": sum(r.stored for r in reports),
    }
