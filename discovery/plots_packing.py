"""Plots of sphere-packing bounds (matplotlib object-oriented API, Agg; no pyplot state).

Examples
--------
>>> import tempfile, os
>>> rows = [{"dimension": 3, "bound": "0.7797", "verified": True},
...         {"dimension": 4, "bound": "0.6478", "verified": True}]
>>> with tempfile.TemporaryDirectory() as d:
...     out = plot_bounds(rows, {"3": 0.7405, "4": 0.6169}, os.path.join(d, "b.png"))
...     out.stat().st_size > 1000
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["plot_bounds", "plot_sdp_game"]


def plot_bounds(
    rows: Sequence[Mapping],
    best_known: Mapping[str, float],
    path: str | Path,
    *,
    three_point: Mapping[str, float] | None = None,
    verified_three_point: Mapping[int, float] | None = None,
    title: str = "Sphere packing: verified Cohn–Elkies LP bounds vs best known packings",
) -> Path:
    """Density (log scale) against dimension: verified LP bounds, best known packings, and
    (optionally) three-point bounds; a lower panel shows bound / best known.

    ``rows`` are table rows with keys ``dimension``, ``bound`` (text or float) and
    ``verified``; ``best_known`` maps dimension (as text) to a density;
    ``verified_three_point`` maps dimension to our exactly verified three-point bounds.
    """
    path = Path(path)
    fig = Figure(figsize=(8.5, 7.5), constrained_layout=True)
    FigureCanvasAgg(fig)
    ax, ax2 = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.3]})
    ok = [r for r in rows if r.get("verified") and r.get("bound") is not None]
    dims = [int(r["dimension"]) for r in ok]
    bounds = [float(r["bound"]) for r in ok]
    ax.semilogy(dims, bounds, "o-", color="tab:blue", ms=4,
                label="LP bound (certificate checked exactly)")
    bk = sorted((int(k), float(v)) for k, v in best_known.items() if str(k).isdigit())
    if bk:
        ax.semilogy([d for d, _ in bk], [v for _, v in bk], "s", color="tab:red", ms=5,
                    label="best known packing")
    if three_point:
        tp = sorted((int(k), float(v)) for k, v in three_point.items() if str(k).isdigit())
        ax.semilogy([d for d, _ in tp], [v for _, v in tp], "^", color="tab:green", ms=6,
                    label="three-point bound (Cohn–de Laat–Salmon, reference)")
    ours = sorted((int(k), float(v)) for k, v in (verified_three_point or {}).items())
    if ours:
        ax.semilogy([d for d, _ in ours], [v for _, v in ours], "*", color="tab:green", ms=11,
                    label="three-point bound (ours, certificate checked exactly)")
    for special in (8, 24):
        ax.axvline(special, color="0.85", lw=0.8, zorder=0)
    ax.set_ylabel("density Δ")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower left")
    best = dict(bk)
    ratio = [(d, b / best[d]) for d, b in zip(dims, bounds, strict=False) if d in best]
    if ratio:
        ax2.plot([d for d, _ in ratio], [r for _, r in ratio], "o-", color="tab:purple", ms=4)
    ratio3 = [(d, b / best[d]) for d, b in ours if d in best]
    if ratio3:
        ax2.plot([d for d, _ in ratio3], [r for _, r in ratio3], "*", color="tab:green", ms=10)
    ax2.axhline(1.0, color="0.5", lw=0.8)
    ax2.set_xlabel("dimension n")
    ax2.set_ylabel("LP bound / best known")
    ax2.grid(True, alpha=0.3)
    fig.savefig(path, dpi=110)
    return path


def plot_sdp_game(
    history: Sequence[Mapping], path: str | Path, *, default_bound: float | None = None,
    title: str = "SDP game: verified three-point bound over evaluations",
) -> Path:
    """Bound of each evaluation and the best so far, against the evaluation number.

    ``history`` items have keys ``evaluation`` (int) and ``bound`` (float or None for a failed
    or unverified evaluation).
    """
    path = Path(path)
    fig = Figure(figsize=(8, 4.5), constrained_layout=True)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    pts = [(int(h["evaluation"]), float(h["bound"])) for h in history if h.get("bound") is not None]
    if pts:
        ax.plot([e for e, _ in pts], [b for _, b in pts], ".", color="0.6", label="evaluation")
        best, run = [], float("inf")
        for e, b in pts:
            run = min(run, b)
            best.append((e, run))
        ax.step([e for e, _ in best], [b for _, b in best], where="post", color="tab:blue",
                label="best so far")
    if default_bound is not None:
        ax.axhline(default_bound, color="tab:red", ls="--", label="default formulation")
    ax.set_xlabel("evaluation")
    ax.set_ylabel("density bound")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=110)
    return path
