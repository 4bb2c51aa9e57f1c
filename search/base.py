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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from solvers.keys import canonical_key

__all__ = [
    "Task",
    "Candidate",
    "Engine",
    "EngineBase",
    "register_executor",
    "register_engine",
    "make_engine",
    "engine_class",
    "engine_names",
    "engine_module",
    "register_engine_module",
    "executor_for",
    "ENGINE_MODULES",
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
    """The ask/tell protocol every search engine implements.

    These are all the hooks the runner (:class:`discovery.runner.Runner`) uses; an engine
    that needs no special behaviour inherits the defaults from :class:`EngineBase`.

    Attributes
    ----------
    name : str
        The registered name; a task's ``engine`` field names the executor.
    config : dict
        The JSON-able configuration that identifies a run of this engine (with the run's
        name): running the same name, engine and configuration again resumes it.
    ordered : bool
        True for sequential searches (evolution, BO/MCTS) whose next tasks depend on the
        results told so far: the runner tells results back in the order the tasks were
        asked, persists the tasks in flight, and saves :meth:`state` in the same
        transaction as each finished task, so a resumed run continues exactly where the
        uninterrupted one would have (kill -9 included). False for enumerations: results
        are told as they arrive and a resumed run skips finished task keys.
    max_in_flight : int or None
        The most tasks the engine wants in flight at once (None: the runner's choice,
        twice the workers).
    """

    name: str
    config: dict
    ordered: bool
    max_in_flight: int | None

    def ask(self, n: int) -> list[Task]:
        """Up to ``n`` new independent tasks (fewer, or none, near the end)."""
        ...

    def tell(self, task: Task, result: list[Candidate]) -> None:
        """Feed back the candidates a task produced."""
        ...

    def done(self) -> bool:
        """True when no task will ever be handed out again."""
        ...

    def total(self) -> int | None:
        """Number of tasks of the whole search, when known (for progress and ETA)."""
        ...

    def state(self) -> dict:
        """A JSON-able snapshot of the engine, for resume."""
        ...

    def restore(self, state: Mapping) -> None:
        """Continue from a :meth:`state` snapshot."""
        ...

    def to_record(self, task: Task, result: list[Candidate]) -> list[Candidate]:
        """Which of a task's candidates the store records (all, for most engines)."""
        ...

    def finish(self) -> list[Candidate]:
        """Candidates to record when a session ends (e.g. an evolved Pareto front)."""
        ...


class EngineBase:
    """Defaults for the optional hooks of :class:`Engine`.

    A minimal engine (this is the shape of :class:`search.toy.ToyEngine`) hands out
    tasks, and a registered pure function executes them::

        @register_engine("squares")
        class Squares(EngineBase):
            name = "squares"

            def __init__(self, config):
                self.config = dict(config)
                self._next = 0

            def ask(self, n):
                stop = min(self._next + n, self.config["n"])
                tasks = [Task("squares", f"squares:{i}", {"i": i})
                         for i in range(self._next, stop)]
                self._next = stop
                return tasks

            def done(self):
                return self._next >= self.config["n"]

        @register_executor("squares")
        def run_square(task):
            i = task.payload["i"]
            return [Candidate("pcf", f"pcf:sq{i}", {"a": [i * i], "b": [0]}, str(i * i))]

    Examples
    --------
    >>> class Two(EngineBase):
    ...     name = "two"
    ...     def __init__(self):
    ...         self.config, self._next = {}, 0
    ...     def ask(self, n):
    ...         tasks = [Task("two", f"two:{i}") for i in range(self._next, min(2, self._next + n))]
    ...         self._next += len(tasks)
    ...         return tasks
    ...     def done(self):
    ...         return self._next >= 2
    >>> e = Two()
    >>> [t.key for t in e.ask(5)], e.done(), e.ordered, e.total(), e.finish()
    (['two:0', 'two:1'], True, False, None, [])
    >>> isinstance(e, Engine)
    True
    """

    name: str = ""
    config: dict = {}
    ordered: bool = False
    max_in_flight: int | None = None

    def tell(self, task: Task, result: list[Candidate]) -> None:
        """Enumerations ignore results by default."""

    def total(self) -> int | None:
        """Unknown by default."""
        return None

    def state(self) -> dict:
        """Nothing to save by default (finished task keys are in the store)."""
        return {}

    def restore(self, state: Mapping) -> None:
        """Nothing to restore by default."""

    def to_record(self, task: Task, result: list[Candidate]) -> list[Candidate]:
        """Every candidate of a task is recorded by default."""
        return list(result)

    def finish(self) -> list[Candidate]:
        """Nothing more to record at the end of a session by default."""
        return []


#: The built-in engines, by name, with the module that defines (and registers) each. The
#: module is imported on first use (:func:`make_engine`, :func:`execute`,
#: :func:`executor_for`), so importing :mod:`search` stays cheap: the evolution engine pulls
#: numba and the SDP game cvxpy, and a command that needs neither never imports them. A
#: plug-in engine registers itself with :func:`register_engine`/:func:`register_executor`
#: (or names its module here with :func:`register_engine_module`).
ENGINE_MODULES: dict[str, str] = {
    "blind-delta": "search.blind_delta",
    "cmf": "search.cmf",
    "esma": "search.esma",
    "evolve": "search.evolution",
    "sdp_game": "search.sdp_game",
}

_EXECUTORS: dict[str, Callable[[Task], list[Candidate]]] = {}


def register_engine_module(name: str, module: str) -> None:
    """Declare that importing ``module`` registers the engine ``name`` (lazily, on first use)."""
    ENGINE_MODULES[name] = module


def engine_module(name: str) -> str | None:
    """The module that defines the engine ``name`` (None for an engine registered at run time
    by a module not in :data:`ENGINE_MODULES`)."""
    return ENGINE_MODULES.get(name)


def _load(name: str, registry: Mapping[str, object]) -> None:
    """Import the module of the built-in engine ``name`` unless ``registry`` already has it."""
    if name in registry:
        return
    module = ENGINE_MODULES.get(name)
    if module is not None:
        import importlib

        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # the engine's module exists, but not what it imports
                raise


def register_executor(engine: str) -> Callable[[Callable], Callable]:
    """Decorator registering the pure function that executes ``engine``'s tasks."""

    def deco(fn: Callable[[Task], list[Candidate]]) -> Callable[[Task], list[Candidate]]:
        _EXECUTORS[engine] = fn
        return fn

    return deco


def executor_for(engine: str) -> Callable[[Task], list[Candidate]]:
    """The function executing ``engine``'s tasks (importing the engine's module if needed).

    Raises
    ------
    EngineError
        If no executor is registered for ``engine``.
    """
    _load(engine, _EXECUTORS)
    try:
        return _EXECUTORS[engine]
    except KeyError:
        from solvers.errors import EngineError

        raise EngineError(f"No executor registered for engine {engine!r}") from None


def execute(task: Task) -> list[Candidate]:
    """Run one task on this process (any worker) and return its candidates.

    The engine's module is imported first if it is a built-in one not loaded yet (a fresh
    worker process that unpickled the task).

    Raises
    ------
    EngineError
        If no executor is registered for ``task.engine``.
    """
    return executor_for(task.engine)(task)


_ENGINES: dict[str, Callable[[dict], Engine]] = {}


def register_engine(name: str) -> Callable[[Callable], Callable]:
    """Decorator registering a factory ``config dict -> Engine`` under ``name``."""

    def deco(factory: Callable[[dict], Engine]) -> Callable[[dict], Engine]:
        _ENGINES[name] = factory
        return factory

    return deco


def engine_names() -> list[str]:
    """Names of the known engines (built-in, loaded or not, and registered), sorted."""
    return sorted(set(_ENGINES) | set(ENGINE_MODULES))


def engine_class(name: str) -> Callable[[dict], Engine]:
    """The factory registered for ``name`` (importing the engine's module if needed).

    Raises
    ------
    EngineError
        If no engine of that name is registered (the message lists the known ones).
    """
    from solvers.errors import EngineError

    _load(name, _ENGINES)
    try:
        return _ENGINES[name]
    except KeyError:
        known = ", ".join(engine_names()) or "none"
        raise EngineError(f"Unknown engine {name!r}; known engines: {known}") from None


def make_engine(name: str, config: dict) -> Engine:
    """Build the engine ``name`` from a JSON-able configuration.

    Raises
    ------
    EngineError
        If no engine of that name is registered (the message lists the known ones).
    """
    return engine_class(name)(dict(config))
