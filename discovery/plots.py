"""Plots a person would rather look at (matplotlib, object-oriented API, no pyplot state)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import mpmath
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from solvers.continued_fractions import irrationality_measure, ratio_to_mpf
from solvers.expr import evaluate_expression

__all__ = ["convergence_data", "plot_convergence"]


def convergence_data(formula: Any, claim: Any, max_depth: int, points: int = 24) -> dict:
    """Digits agreed with ``claim`` and the δ estimate at depths spread up to ``max_depth``.

    Returns a dict of lists ``depth``, ``digits``, ``delta`` (``None`` where undefined).

    Examples
    --------
    >>> from solvers.continued_fractions import PCF
    >>> d = convergence_data(PCF("2n+1", "n^2"), "4/pi", 100, points=5)
    >>> d["depth"][-1], d["digits"][-1] > 70
    (100, True)
    """
    depths = sorted({max(2, round(max_depth * (k + 1) / points)) for k in range(points)})
    # The claim at a precision beyond anything the deepest convergent can agree on.
    last = formula.convergents(depths[-1])
    from solvers.continued_fractions import log10_abs

    est = int(log10_abs(last[3])) * 2 + 30
    ctx = mpmath.MPContext()
    ctx.dps = est
    y = ctx.mpf(evaluate_expression(claim, est))
    out: dict[str, list] = {"depth": [], "digits": [], "delta": []}
    for N in depths:
        p0, p, q0, q = formula.convergents(N)
        if q == 0:
            continue
        diff = abs(ratio_to_mpf(ctx, p, q) - y)
        digits = float(-ctx.log10(diff)) if diff else float(est)
        try:
            delta: float | None = irrationality_measure(p, q, y, ctx.prec)
        except Exception:  # noqa: BLE001 - δ is undefined for tiny denominators
            delta = None
        out["depth"].append(N)
        out["digits"].append(digits)
        out["delta"].append(delta if delta is not None and math.isfinite(delta) else None)
    return out


def plot_convergence(
    formula: Any, claim: Any, path: str | Path, max_depth: int, title: str | None = None
) -> Path:
    """Draw digits agreed vs depth, with the δ estimate on a second axis, into ``path``."""
    data = convergence_data(formula, claim, max_depth)
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(data["depth"], data["digits"], "o-", color="tab:blue", label="digits agreed")
    ax.set_xlabel("depth N")
    ax.set_ylabel("digits agreed with the claim", color="tab:blue")
    ax.grid(alpha=0.3)
    ax2 = ax.twinx()
    pts = [(n, d) for n, d in zip(data["depth"], data["delta"], strict=True) if d is not None]
    if pts:
        ax2.plot(*zip(*pts, strict=True), "s--", color="tab:red", ms=3, label="δ estimate")
    ax2.set_ylabel("irrationality measure δ", color="tab:red")
    ax.set_title(title or f"{formula!r} → {claim}", fontsize=9)
    path = Path(path)
    fig.savefig(path, dpi=120)
    return path
