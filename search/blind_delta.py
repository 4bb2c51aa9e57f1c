"""The Blind-δ engine: compute the convergence dynamics of EVERY PCF of a polynomial domain.

After Shalyt et al., "Unsupervised Discovery of Formulas for Mathematical Constants" (NeurIPS
2024): instead of guessing a formula for a constant, scan a whole domain ``a(n)``, ``b(n)`` of
bounded degree and integer coefficients (default: degrees 2 and 2, coefficients in [-5, 5],
1,768,900 PCFs), describe each PCF by its dynamics (limit, δ, growth of the reduced
denominators, convergence fit; :mod:`solvers.blind_delta`), then cluster and label them
(:mod:`discovery.blind_delta`).

The domain is cut into tasks of ``chunk`` consecutive PCFs (by index, in the order of
:func:`solvers.blind_delta.domain`). A task's result is data, not conjectures: one
``dynamics`` candidate carrying the rows, which the runner writes to the store's dynamics
table (:meth:`BlindDeltaEngine.data`) in the task's transaction; :meth:`to_record` records
nothing. The enumeration is unordered: a resumed run skips finished chunks.

Configuration: ``a_degree`` (2), ``b_degree`` (2), ``coeff`` (5), ``depth`` (2000),
``chunk`` (4000 PCFs per task).

Examples
--------
>>> engine = BlindDeltaEngine({"a_degree": 0, "b_degree": 1, "coeff": 1, "chunk": 5})
>>> engine.size, engine.total()      # a in {-1, 1}; b = b0 + b1 n, not both zero: 2 * 8
(16, 4)
>>> [(t.payload["start"], t.payload["stop"]) for t in engine.ask(10)]
[(0, 5), (5, 10), (10, 15), (15, 16)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from search.base import Candidate, EngineBase, Task, register_engine, register_executor
from search.config import Rule, check_config

__all__ = ["BlindDeltaEngine", "run_task", "ENGINE", "DEFAULTS", "validated"]

ENGINE = "blind-delta"
DEFAULTS = {"a_degree": 2, "b_degree": 2, "coeff": 5, "depth": 2000, "chunk": 4000}
_RULES = {
    "a_degree": Rule(int, ge=0, le=4),
    "b_degree": Rule(int, ge=0, le=4),
    "coeff": Rule(int, ge=1, le=50),
    "depth": Rule(int, ge=64, le=100_000),
    "chunk": Rule(int, ge=1, le=1_000_000),
}


def validated(config: Mapping) -> dict:
    """The configuration with defaults, every value checked (type and range).

    Examples
    --------
    >>> validated({"coeff": 2})["coeff"], validated({})["depth"]
    (2, 2000)
    >>> validated({"coeff": 0})
    Traceback (most recent call last):
        ...
    solvers.errors.EngineError: blind-delta: option 'coeff' must be an integer in [1, 50], not 0
    """
    return check_config(ENGINE, config, DEFAULTS, _RULES)


def _size(cfg: Mapping) -> int:
    from solvers.blind_delta import domain_size

    return domain_size(cfg["a_degree"], cfg["b_degree"], cfg["coeff"])


@register_engine(ENGINE)
class BlindDeltaEngine(EngineBase):
    """Hands out the domain in chunks; the rows go to the dynamics table, not the store."""

    name = ENGINE

    def __init__(self, config: Mapping):
        self.config = validated(config)
        self.size = _size(self.config)
        self._next = 0

    def _tasks(self) -> int:
        return math.ceil(self.size / self.config["chunk"])

    def ask(self, n: int) -> list[Task]:
        chunk = self.config["chunk"]
        stop = min(self._next + max(n, 0), self._tasks())
        out = []
        for i in range(self._next, stop):
            start, end = i * chunk, min((i + 1) * chunk, self.size)
            payload = {k: self.config[k] for k in ("a_degree", "b_degree", "coeff", "depth")}
            payload.update(start=start, stop=end)
            out.append(Task(ENGINE, f"{ENGINE}:{start}-{end}", payload))
        self._next = stop
        return out

    def tell(self, task: Task, result: list[Candidate]) -> None:
        pass

    def done(self) -> bool:
        return self._next >= self._tasks()

    def total(self) -> int:
        return self._tasks()

    def state(self) -> dict:
        return {"next": self._next, "size": self.size}

    def restore(self, state: Mapping) -> None:
        nxt = state.get("next", 0) if isinstance(state, Mapping) else 0
        self._next = min(int(nxt), self._tasks()) if isinstance(nxt, int) else 0

    def to_record(self, task: Task, candidates: list[Candidate]) -> list[Candidate]:
        """Nothing: dynamics are data (see :meth:`data`)."""
        return [c for c in candidates if c.kind != "dynamics"]

    def data(self, task: Task, candidates: list[Candidate]) -> list[dict]:
        """The task's rows for the store's dynamics table."""
        rows: list[dict] = []
        for c in candidates:
            if c.kind == "dynamics":
                rows.extend(c.formula.get("rows", []))
        return rows


@register_executor(ENGINE)
def run_task(task: Task) -> list[Candidate]:
    """The dynamics of one chunk of the domain, as one ``dynamics`` candidate."""
    from solvers.blind_delta import domain, dynamics_batch

    p: dict[str, Any] = task.payload
    rows = domain(p["a_degree"], p["b_degree"], p["coeff"], p["start"], p["stop"])
    dyn = dynamics_batch(rows, depth=p["depth"], a_degree=p["a_degree"])
    return [Candidate("dynamics", f"dynamics:{task.key}", {"rows": dyn}, "", None,
                      {"pcfs": len(dyn)})]
