"""Helpers shared by the benchmark scripts of this folder.

The scripts are run as ``python scripts/bench/<name>.py``, so this folder is the first entry
of ``sys.path`` and they import this module as ``_common``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["best_of"]


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    """The shortest wall time, in seconds, of ``repeat`` calls of ``fn()``.

    Examples
    --------
    >>> best_of(lambda: None, 3) >= 0.0
    True
    """
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)
