"""A TEST FIXTURE for the SDP game: a cheap deterministic stand-in for the SDP evaluation.

``evaluator = "synthetic"`` in a configuration of :mod:`search.sdp_game` (``discovery packing
sdp-game --evaluator synthetic`` on the command line) replaces each SDP solve by
:func:`synthetic_objective`, a smooth landscape in ``(r, R)`` that rewards a few extra
multipliers. It proves nothing (a synthetic evaluation is never a bound); it exists so the
search itself -- BO, MCTS, resume, executors, the CLI -- can be tested in milliseconds.

It lives in the package, not in ``tests/``, because the executor runs it in worker processes
(local processes, Dask workers) and in CLI subprocesses, which import engines from the
package only; the executor imports it only when a task asks for the synthetic evaluator.

Examples
--------
>>> round(synthetic_objective(4, 1.2, 1.2 * 1.17, ((0,), (1,))), 6)
0.65
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["synthetic_objective"]


def synthetic_objective(n: int, r: float, R: float, mults: Sequence[Sequence[int]]) -> float:
    """The stand-in objective (lower is better) of a formulation.

    Smooth in ``(r, R)`` with its minimum at ``r = 1.2``, ``R/r = 1.17``; every multiplier
    that is a product containing base polynomial 2 (``a+b-2c-r2``) lowers it by 0.001, at
    most 0.004 in all. ``n`` is accepted for the signature of an evaluation and ignored.

    Examples
    --------
    >>> base = synthetic_objective(4, 1.1, 1.1 * 1.1, ((0,), (1,)))
    >>> helped = synthetic_objective(4, 1.1, 1.1 * 1.1, ((0,), (1,), (2, 5)))
    >>> round(base - helped, 6)
    0.001
    """
    base = 0.65 + 0.05 * (r / 1.2 - 1) ** 2 + 0.01 * (R / r - 1.17) ** 2
    bonus = sum(0.001 for mm in mults if len(mm) > 1 and 2 in mm)
    return base - min(bonus, 0.004)
