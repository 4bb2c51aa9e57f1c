"""The Blind-δ picture: a scanned PCF domain in a plane of dynamics, coloured by cluster label.

:func:`plot_clusters` draws the rows that :func:`discovery.blind_delta.cluster` placed in a
plane (``("delta", "c")`` by default): one colour and legend entry per label (``"π"``,
``"ln 2"``, ...: the clusters of that label and their PCFs), the open clusters in shades of grey,
noise in light grey, and the anchors -- the literature formulas that labelled their clusters --
as black stars annotated with their names. matplotlib (Agg backend) is imported only when a
picture is drawn.

Examples
--------
>>> import numpy as np, tempfile, os
>>> from discovery.blind_delta import table_from_rows
>>> rows = [{"a": (1, 2), "b": (0, 0, 1), "delta": -0.6 + 0.01 * k, "c": 2.0 + 0.01 * k}
...         for k in range(5)]
>>> rows.append({"a": (3,), "b": (1,), "delta": 0.9, "c": 0.4})
>>> table = table_from_rows(rows)
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = plot_clusters(table, np.array([0, 0, 0, 0, 0, -1]), {0: "pi"}, "delta,c",
...                          os.path.join(tmp, "clusters.png"))
...     with open(path, "rb") as f:
...         f.read(8) == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["plot_clusters", "legend_name"]

_LATEX_NAMES = {"pi": "π", "e": "e", "log2": "ln 2", "gauss": "Gauss's G",
                "lemniscate": "ϖ", "zeta3": "ζ(3)", "catalan": "Catalan's G",
                "euler_gamma": "γ", "besseli(1,2)/besseli(0,2)": "I1(2)/I0(2)",
                "tan(1)": "tan 1"}


def legend_name(label: str | None, size: int | None = None) -> str:
    """A legible legend entry for a cluster label.

    Examples
    --------
    >>> legend_name("pi", 12), legend_name("log2, pi"), legend_name(None, 3)
    ('π (12)', 'ln 2, π', 'open (3)')
    >>> legend_name("besseli(1, 2)/besseli(0, 2), e")
    'I1(2)/I0(2), e'
    """
    if label is None:
        text = "open"
    else:
        parts = [p.strip() for p in re.split(r",(?![^(]*\))", label)]
        text = ", ".join(_LATEX_NAMES.get("".join(p.split()), p) for p in parts)
    return text if size is None else f"{text} ({size})"


def plot_clusters(
    table: Mapping[str, Any],
    labels: Sequence[int],
    names: Mapping[int, str | None],
    plane: str | Sequence[str],
    path: str | Path,
    *,
    anchor_list: Sequence[Any] | None = None,
    max_legend: int = 20,
    title: str | None = None,
) -> str:
    """Scatter the plane coloured by cluster label; write a PNG; return its path.

    Parameters
    ----------
    table : mapping
        The clustered rows (:func:`discovery.blind_delta.load`).
    labels : sequence of int
        :func:`discovery.blind_delta.cluster`'s labels (``-1`` noise, ``-2`` undefined: not
        drawn).
    names : mapping
        Cluster id -> label (``"pi"``) or ``None`` (an open question).
    plane : str or pair of str
        The two metrics (``"delta,c"``).
    path : str or Path
        Where the PNG goes (parent directories are created).
    anchor_list : sequence of Anchor, optional
        Anchors to mark (default :func:`discovery.blind_delta.anchors`).
    max_legend : int
        Legend entries for the labels covering the most PCFs (the rest are drawn, not
        listed). Clusters with one label share a colour and a legend entry; open clusters are
        drawn in shades of grey under one entry.
    title : str, optional
        Replaces the default title (plane and counts).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from discovery.blind_delta import anchor_rows, parse_plane, plane_points

    x_name, y_name = parse_plane(plane)
    xy, ok = plane_points(table, (x_name, y_name))
    labels = np.asarray(labels)
    if len(labels) != len(xy):
        raise ValueError(f"{len(labels)} labels for {len(xy)} rows")
    ids = sorted(int(v) for v in np.unique(labels) if v >= 0)
    sizes = {i: int(np.sum(labels == i)) for i in ids}
    noise = labels == -1

    fig, ax = plt.subplots(figsize=(10, 7), dpi=120)
    if noise.any():
        ax.scatter(xy[noise, 0], xy[noise, 1], s=2, c="#d9d9d9", linewidths=0,
                   label=f"noise ({int(noise.sum())})", zorder=1, rasterized=True)
    # Open clusters: shades of grey (one per cluster, so neighbours stay distinguishable), one
    # legend entry. Labelled clusters: one strong colour and one legend entry per label.
    open_ids = [i for i in ids if names.get(i) is None]
    if open_ids:
        m = np.isin(labels, open_ids)
        shades = plt.get_cmap("Greys")(0.35 + 0.3 * ((np.asarray(labels[m]) * 7) % 11) / 10)
        ax.scatter(xy[m, 0], xy[m, 1], s=3, c=shades, linewidths=0, zorder=2,
                   rasterized=True,
                   label=f"open: {len(open_ids)} clusters, {int(m.sum())} PCFs")
    by_label: dict[str, list[int]] = {}
    for i in ids:
        if names.get(i) is not None:
            by_label.setdefault(str(names[i]), []).append(i)
    ordered = sorted(by_label, key=lambda lab: -sum(sizes[i] for i in by_label[lab]))
    # strong colours without the greys (index 7 of both maps): grey is for open clusters
    strong = [c for cmap in ("tab10", "Dark2")
              for k, c in enumerate(plt.get_cmap(cmap).colors) if k != 7]
    for rank, lab in enumerate(ordered):
        m = np.isin(labels, by_label[lab])
        n_clusters = len(by_label[lab])
        text = (f"{legend_name(lab)}: {n_clusters} cluster{'s' if n_clusters > 1 else ''}, "
                f"{int(m.sum())} PCFs")
        ax.scatter(xy[m, 0], xy[m, 1], s=14, color=strong[rank % len(strong)],
                   edgecolors="black", linewidths=0.2, zorder=3, rasterized=True,
                   label=text if rank < max_legend else None)
    marked = anchor_rows(table, anchor_list)
    first = True
    for n, (i, x) in enumerate(sorted(marked.items(), key=lambda t: (xy[t[0], 0], xy[t[0], 1]))):
        if not ok[i]:
            continue
        ax.scatter([xy[i, 0]], [xy[i, 1]], marker="*", s=110, c="black",
                   edgecolors="white", linewidths=0.6, zorder=4,
                   label="anchor (literature)" if first else None)
        first = False
        # alternate above / below, so anchors at the same point keep legible names
        ax.annotate(x.name, (xy[i, 0], xy[i, 1]), xytext=(6, 6 if n % 2 == 0 else -12),
                    textcoords="offset points",
                    fontsize=7, zorder=5,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.7, "lw": 0})
    ax.set_xlabel(x_name)
    ax.set_ylabel(y_name)
    labelled = sum(names.get(i) is not None for i in ids)
    ax.set_title(title or (
        f"Blind-δ: {int(ok.sum())} PCFs in the ({x_name}, {y_name}) plane, {len(ids)} "
        f"clusters ({labelled} labelled, {len(ids) - labelled} open), "
        f"{int(noise.sum())} noise"), fontsize=10)
    if ids or noise.any() or marked:
        ax.legend(fontsize=7, loc="best", framealpha=0.85)
    ax.grid(True, lw=0.3, alpha=0.5)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, format="png")
    plt.close(fig)
    return str(out)
