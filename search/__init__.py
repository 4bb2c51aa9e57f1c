"""Search engines: strategies that turn a configuration into tasks and tasks into candidates.

Imports only :mod:`solvers`. See :mod:`search.base` for the ask/tell protocol.
"""

from search.base import Candidate, Engine, Task, canonical_key, execute, register_executor

__all__ = ["Candidate", "Engine", "Task", "canonical_key", "execute", "register_executor"]
