"""Blind-δ clustering: group a scanned PCF domain by convergence dynamics, then label it.

After Shalyt et al., "Unsupervised Discovery of Formulas for Mathematical Constants" (NeurIPS
2024, arXiv:2412.16818). The ``blind-delta`` engine (:mod:`search.blind_delta`) computes the
convergence dynamics of every PCF of a domain (:mod:`solvers.blind_delta`) into the store's
dynamics table (:mod:`discovery.dynamics`). This module does the rest of the method:

1. :func:`load` the converging rows;
2. :func:`cluster` them with HDBSCAN in a 2-D *plane* of two dynamics metrics (the
   irrationality measure δ against the growth ``c`` of the reduced denominators, by default);
3. :func:`discovery.blind_delta_labels.label_clusters`: formulas of one constant share their
   dynamics, so a cluster holding a formula from the literature (an *anchor*,
   :func:`anchors`) is labelled by the anchor's constant; a cluster without an anchor is
   labelled by identifying a few of its representatives (the members with the most digits)
   against the constants catalogue, and is an *open question* if none is identified.
   Members of a labelled cluster are identified against the label (PSLQ: a Möbius or linear
   relation), verified independently (:func:`discovery.verification.verify`, ball arithmetic) and
   recorded in the store as conjectures, related to the anchor (or representative) that
   labelled their cluster.
   Open questions are reported, never stored.

Labels ``"algebraic"`` and ``"rational"`` are *trivial*
(:data:`discovery.blind_delta_labels.TRIVIAL_LABELS`): the limits of such clusters are
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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
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
    "DEFAULT_MIN_CLUSTER_SIZE",
    "DEFAULT_MIN_SAMPLES",
    "Anchor",
    "anchors",
    "load",
    "rational_mask",
    "table_from_rows",
    "parse_plane",
    "plane_points",
    "cluster",
    "anchor_rows",
    "seed_anchor_clusters",
]

#: The literature formulas that label clusters: the reference table of known formulas
#: (``discovery/data/known_formulas.csv``, package data found through :mod:`importlib.resources`;
#: :mod:`discovery.known`), whose ``constant`` and ``basis`` columns say what each formula
#: labels. Those that are rows of a scanned domain are anchors.
ANCHORS_TABLE = files("discovery") / "data" / "known_formulas.csv"

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
    """The anchors of the reference table :data:`ANCHORS_TABLE` (or of the file ``path``).

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
