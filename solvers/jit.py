"""numba compilation that caches on disk where the install allows it.

numba's ``cache=True`` stores compiled code beside the source (``__pycache__``) or in the
user's cache directory, and refuses to decorate a function at all ("no locator available")
when it can write neither: a package installed read-only, used by someone whose home is not
writable, would then fail at import. :func:`njit` asks for the cache and, when numba has
nowhere to keep it, compiles without one (slower start, same code).

Examples
--------
>>> @njit(error_model="numpy")
... def twice(x):
...     return 2 * x
>>> twice(21)
42
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba

__all__ = ["njit"]


def njit(**options: Any) -> Callable[[Callable], Callable]:
    """``numba.njit(cache=True, **options)``, or without the cache where numba cannot keep one.

    Parameters
    ----------
    **options
        numba's ``njit`` options (``cache`` is chosen here).

    Returns
    -------
    callable
        The decorator.
    """

    def decorate(fn: Callable) -> Callable:
        try:
            return numba.njit(cache=True, **options)(fn)
        except RuntimeError as exc:  # numba: "cannot cache function ...: no locator available"
            if "cannot cache" not in str(exc):
                raise
            return numba.njit(cache=False, **options)(fn)

    return decorate
