"""A tiny deterministic engine, registered as ``"toy"``: a TEST FIXTURE, not a search.

It exists so that the runner, the store and the executors can be tested end to end
(in subprocesses, on worker processes, on Dask) without depending on a real engine.
Task ``i`` proposes ``per_task`` constant-coefficient continued fractions
``a + b/(a + b/(a + ...))``, whose limit is ``(a + sqrt(a^2 + 4b))/2``; the pairs
``(a, b)`` repeat across tasks (so re-finding and deduplication are exercised), some
claims are deliberately false (so refutation is exercised), and even-numbered
formulas carry a ``derived-from`` relation to their predecessor in the enumeration.

Configuration: ``tasks`` (number of tasks, default 12), ``per_task`` (default 3),
``modulus`` (number of distinct formulas, default 7), ``sleep`` (seconds per task,
default 0), ``fail`` (list of task indices whose execution raises).

Examples
--------
>>> engine = ToyEngine({"tasks": 2, "per_task": 2})
>>> [t.key for t in engine.ask(10)]
['toy:0', 'toy:1']
>>> engine.done()
True
>>> [c.claim for c in run_toy_task(engine_task(0, {"per_task": 2}))]
['(1+sqrt(5))/2', '(2+sqrt(8))/2']
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from search.base import Candidate, EngineBase, Task, register_engine, register_executor
from search.config import Rule, check_config
from solvers.errors import EngineError
from solvers.keys import canonical_key

__all__ = ["ToyEngine", "run_toy_task", "engine_task", "toy_formula"]

_DEFAULTS = {"tasks": 12, "per_task": 3, "modulus": 7, "sleep": 0.0, "fail": []}


_RULES = {
    "tasks": Rule(int, ge=0, le=10**6),
    "per_task": Rule(int, ge=0, le=1000),
    "modulus": Rule(int, ge=1, le=10**6),
    "sleep": Rule(float, ge=0, le=3600),  # seconds per task: an hour at most
    "fail": Rule((list, tuple), describe="a list of task indices"),
}


def _validated(config: Mapping) -> dict:
    return check_config("toy", config, _DEFAULTS, _RULES)


def engine_task(i: int, config: Mapping) -> Task:
    """Task number ``i`` of a toy configuration."""
    cfg = _validated(config)
    payload = {k: cfg[k] for k in ("per_task", "modulus", "sleep")}
    payload["i"] = i
    payload["fail"] = i in cfg["fail"]
    return Task("toy", f"toy:{i}", payload)


@register_engine("toy")
class ToyEngine(EngineBase):
    """Hands out ``tasks`` tasks in order; ignores ``tell`` except for counting.

    The smallest real engine: ``ask``, ``done`` and ``total``, with every other hook
    inherited from :class:`~search.base.EngineBase` (an enumeration: results are told as
    they arrive, a resumed run skips finished keys).
    """

    name = "toy"

    def __init__(self, config: Mapping):
        self.config = _validated(config)
        self._next = 0
        self._told = 0

    def ask(self, n: int) -> list[Task]:
        stop = min(self._next + max(n, 0), self.config["tasks"])
        tasks = [engine_task(i, self.config) for i in range(self._next, stop)]
        self._next = stop
        return tasks

    def tell(self, task: Task, result: list[Candidate]) -> None:
        self._told += 1

    def done(self) -> bool:
        return self._next >= self.config["tasks"]

    def state(self) -> dict:
        return {"next": self._next, "told": self._told}

    def total(self) -> int:
        """Number of tasks of the whole search."""
        return self.config["tasks"]


def toy_formula(m: int) -> tuple[int, int]:
    """The ``(a, b)`` of formula number ``m``."""
    return m % 3 + 1, m // 3 + 1


@register_executor("toy")
def run_toy_task(task: Task) -> list[Candidate]:
    """The candidates of one toy task (pure and deterministic)."""
    p = task.payload
    if p.get("sleep"):
        time.sleep(p["sleep"])
    if p.get("fail"):
        raise EngineError(f"toy task {task.key} fails on purpose")
    out = []
    for j in range(p["per_task"]):
        m = (p["i"] + j) % p["modulus"]
        a, b = toy_formula(m)
        disc = a * a + 4 * b
        # Every fifth formula carries a false claim (denominator 3), to be refuted.
        claim = f"({a}+sqrt({disc}))/{3 if m % 5 == 4 else 2}"
        relations = ()
        if m % 2 == 0 and m > 0:
            pa, pb = toy_formula(m - 1)
            relations = (("derived-from", canonical_key("pcf", {"a": [pa], "b": [pb]})),)
        out.append(
            Candidate(
                kind="pcf",
                key=canonical_key("pcf", {"a": [a], "b": [b]}),
                formula={"a": [a], "b": [b]},
                claim=claim,
                constant=f"sqrt({disc})",
                evidence={"m": m},
                relations=relations,
            )
        )
    return out
