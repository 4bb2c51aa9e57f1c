"""Search engines: strategies that turn a configuration into tasks and tasks into candidates.

Imports only :mod:`solvers`. See :mod:`search.base` for the ask/tell protocol.

The engines are NOT imported here: :data:`search.base.ENGINE_MODULES` names the module of
each built-in engine, and :func:`search.base.make_engine`/:func:`search.base.execute` import
it on first use (also in fresh worker processes that unpickle a Task), so ``import search``
loads neither numba (evolution) nor cvxpy (the SDP game).
"""

from search.base import (
    ENGINE_MODULES,
    Candidate,
    Engine,
    Task,
    canonical_key,
    engine_names,
    execute,
    make_engine,
    register_engine,
    register_executor,
)

__all__ = ["Candidate", "Engine", "Task", "canonical_key", "execute", "register_executor",
           "register_engine", "make_engine", "engine_names", "ENGINE_MODULES"]
