"""The engine protocol shared by every search (ask/tell), and its value types.

Enumerations (ESMA, CMF trajectories) and sequential searches (evolution,
MCTS/BO) share one protocol, so one runner drives all of them serially, on
local processes, or on a Dask cluster:

* the *engine* (driver) lives in the client process; ``ask(n)`` hands out up to
  ``n`` independent :class:`Task` objects, ``tell(task, candidates)`` feeds the
  results back, ``done()`` says when the search space is exhausted and
  ``state()`` is a JSON-able snapshot for resume;
* a *task* is small, picklable and JSON-able, with a stable ``key``;
* :func:`execute` runs a task on any worker by a pure function registered for
  its engine, and returns a list of :class:`Candidate`.

Engines never print and never write to a store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from solvers.keys import canonical_key

__all__ = [
    "Task",
    "Candidate",
    "Engine",
    "register_executor",
    "register_engine",
    "make_engine",
    "engine_names",
    "execute",
    "canonical_key",
]


@dataclass(frozen=True)
class Task:
    """One independent unit of work of an engine.

    Attributes
    ----------
    engine : str
        Name of the engine whose executor runs this task.
    key : str
        Stable key, unique within a run: a resumed run skips finished keys.
    payload : dict
        JSON-able parameters for the executor.
    """

    engine: str
    key: str
    payload: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    """An engine's output: an exact formula, a claim about it, and the engine's evidence.

    Cheap and possibly wrong: the workbench verifies it independently before
    recording it as a conjecture.

    Attributes
    ----------
    kind : str
        ``"pcf"``, ``"esma"``, ``"cmf"``, ``"program"``, ``"bound"``, ...
    key : str
        Canonical key of the formula (see :func:`canonical_key`).
    formula : dict
        JSON-able exact description of the formula.
    claim : str
        What the formula is said to equal or bound, as text the safe parser
        reads (e.g. ``"6/zeta(3)"``), or a plain statement for bounds.
    constant : str or None
        Name of the catalogue constant the claim is about, if any.
    evidence : dict
        What the engine saw (digits at search precision, recurrence, ...).
    relations : tuple
        ``(relation_type, other_key)`` pairs, e.g. ``("equivalent-to", "pcf:...")``.
    """

    kind: str
    key: str
    formula: dict
    claim: str
    constant: str | None = None
    evidence: dict = field(default_factory=dict)
    relations: tuple[tuple[str, str], ...] = ()


@runtime_checkable
class Engine(Protocol):
    """The ask/tell protocol every search engine implements."""

    name: str

    def ask(self, n: int) -> list[Task]:
        """Up to ``n`` new independent tasks (fewer, or none, near the end)."""
        ...

    def tell(self, task: Task, result: list[Candidate]) -> None:
        """Feed back the candidates a task produced."""
        ...

    def done(self) -> bool:
        """True when no task will ever be handed out again."""
        ...

    def state(self) -> dict:
        """A JSON-able snapshot of the engine, for resume."""
        ...


_EXECUTORS: dict[str, Callable[[Task], list[Candidate]]] = {}


def register_executor(engine: str) -> Callable[[Callable], Callable]:
    """Decorator registering the pure function that executes ``engine``'s tasks."""

    def deco(fn: Callable[[Task], list[Candidate]]) -> Callable[[Task], list[Candidate]]:
        _EXECUTORS[engine] = fn
        return fn

    return deco


def execute(task: Task) -> list[Candidate]:
    """Run one task on this process (any worker) and return its candidates.

    Raises
    ------
    EngineError
        If no executor is registered for ``task.engine``.
    """
    import search  # noqa: F401  (importing the package registers every engine)

    try:
        fn = _EXECUTORS[task.engine]
    except KeyError:
        from solvers.errors import EngineError

        raise EngineError(f"No executor registered for engine {task.engine!r}") from None
    return fn(task)


_ENGINES: dict[str, Callable[[dict], Engine]] = {}


def register_engine(name: str) -> Callable[[Callable], Callable]:
    """Decorator registering a factory ``config dict -> Engine`` under ``name``."""

    def deco(factory: Callable[[dict], Engine]) -> Callable[[dict], Engine]:
        _ENGINES[name] = factory
        return factory

    return deco


def engine_names() -> list[str]:
    """Names of the registered engines, sorted."""
    import search  # noqa: F401

    return sorted(_ENGINES)


def make_engine(name: str, config: dict) -> Engine:
    """Build the engine ``name`` from a JSON-able configuration.

    Raises
    ------
    EngineError
        If no engine of that name is registered (the message lists the known ones).
    """
    import search  # noqa: F401
    from solvers.errors import EngineError

    try:
        factory = _ENGINES[name]
    except KeyError:
        known = ", ".join(sorted(_ENGINES)) or "none"
        raise EngineError(f"Unknown engine {name!r}; known engines: {known}") from None
    return factory(dict(config))
