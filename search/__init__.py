"""Search engines: strategies that turn a configuration into tasks and tasks into candidates.

Imports only :mod:`solvers`. See :mod:`search.base` for the ask/tell protocol.
"""

# Importing the engines registers them (engine factories and task executors), also in fresh
# worker processes that unpickle a Task and call search.base.execute.
from search import cmf, esma, evolution, sdp_game  # noqa: E402, F401
from search.base import Candidate, Engine, Task, canonical_key, execute, register_executor

__all__ = ["Candidate", "Engine", "Task", "canonical_key", "execute", "register_executor"]
