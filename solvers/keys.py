"""Canonical keys: stable hashes of exact normal forms, for deduplication."""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["canonical_key"]


def canonical_key(kind: str, data: Any) -> str:
    """A stable hash of an exact, JSON-able normal form.

    Parameters
    ----------
    kind : str
        The kind of object (``"pcf"``, ``"esma"``, ...); part of the hash.
    data : JSON-able
        The normalised exact description. Integers of any size are fine.

    Returns
    -------
    str
        ``kind`` followed by ``:`` and 20 hex digits of a SHA-256.

    Examples
    --------
    >>> canonical_key("pcf", {"a": [5, 27, 51, 34], "b": [0, 0, 0, 0, 0, 0, -1]})
    'pcf:cfcf83ee659c38fc3a7f'
    """
    text = json.dumps(_normalise(data), sort_keys=True, separators=(",", ":"))
    return f"{kind}:{hashlib.sha256(text.encode()).hexdigest()[:20]}"


def _normalise(obj: Any) -> Any:
    # Integers of any size (int, gmpy2 mpz, flint fmpz) become hex text when huge, so that
    # Python's 4300-digit int<->str limit can never be hit; small ones stay numbers.
    if isinstance(obj, dict):
        return {str(k): _normalise(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_normalise(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, (str, float)):
        return obj
    try:
        n = int(obj)
    except (TypeError, ValueError):
        return str(obj)
    if n == obj and abs(n).bit_length() > 64:
        return {"hex": hex(n)}
    if n == obj:
        return n
    return str(obj)
