"""The error-vs-cost plot of an evolutionary search against the classical baseline tiers.

Object-oriented matplotlib (no pyplot state), written straight to a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["plot_pareto", "TIER_LABELS"]

TIER_LABELS = {
    "A": "tier A: polynomial / rational, Horner",
    "B": "tier B: rational as continued fraction",
    "C": "tier C: continued fraction + squaring",
}
_TIER_STYLE = {"A": ("tab:gray", "s"), "B": ("tab:blue", "^"), "C": ("tab:green", "D")}


def _steps(points: list[tuple[int, float]]) -> tuple[list[float], list[float]]:
    """Staircase of the best error available at each op count (a Pareto front)."""
    xs: list[float] = []
    ys: list[float] = []
    for i, (ops, err) in enumerate(points):
        if i:
            xs.append(ops)
            ys.append(ys[-1])
        xs.append(ops)
        ys.append(err)
    return xs, ys


def plot_pareto(pareto: Sequence[dict], baselines: Sequence[dict], path: str | Path,
                title: str | None = None, reference: dict[int, float] | None = None) -> Path:
    """Draw max error (log scale) vs number of operations into ``path`` (PNG, SVG, PDF).

    Parameters
    ----------
    pareto : sequence of dict
        The evolved front: dicts with ``ops`` and ``max_error``.
    baselines : sequence of dict
        Baselines with ``tier``, ``ops`` and ``max_error`` (e.g. ``Baseline.to_dict()``).
    reference : dict, optional
        Extra labelled points ``{ops: error}`` (e.g. published results).

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> p = plot_pareto([{"ops": 3, "max_error": 1e-3}, {"ops": 5, "max_error": 1e-5}],
    ...                 [{"tier": "A", "ops": 4, "max_error": 8.7e-4}], os.path.join(d, "p.png"))
    >>> p.stat().st_size > 1000
    True
    """
    path = Path(path)
    fig = Figure(figsize=(7.5, 5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for tier in sorted({b["tier"] for b in baselines}):
        pts = sorted((int(b["ops"]), float(b["max_error"])) for b in baselines
                     if b["tier"] == tier and b["max_error"] > 0)
        if not pts:
            continue
        color, marker = _TIER_STYLE.get(tier, ("tab:purple", "o"))
        xs, ys = _steps(pts)
        ax.plot(xs, ys, color=color, alpha=0.6, linewidth=1)
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], color=color, marker=marker,
                   label=TIER_LABELS.get(tier, f"tier {tier}"), zorder=3)
    pts = sorted((int(d["ops"]), float(d["max_error"])) for d in pareto if d["max_error"] > 0)
    if pts:
        xs, ys = _steps(pts)
        ax.plot(xs, ys, color="tab:red", linewidth=2)
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], color="tab:red", marker="o", s=40,
                   label="evolved (verified)", zorder=4)
    if reference:
        ax.scatter(list(reference), list(reference.values()), color="black", marker="*", s=80,
                   label="published", zorder=5)
    ax.set_yscale("log")
    ax.set_xlabel("operations (+ - * /; constants free)")
    ax.set_ylabel("max error")
    ax.grid(True, which="both", alpha=0.3)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path
