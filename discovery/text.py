"""Text from a store (or a user) made safe to show on a terminal or to write as XML, and a
user's JSON text read as one object with one-line errors.

A run name, a claim or a formula's text is whatever was recorded: it may hold an escape
sequence (``"\\x1b[31m"`` would recolour the terminal, ``"\\x1b]0;...\\x07"`` retitle it) or a
character XML 1.0 does not allow (``"\\x00"`` makes GraphML that no reader accepts).
:func:`printable` replaces each such character by a visible escape, ``\\x1b``, ``\\x00``,
``\\ud800``: the C0 controls (``\\n`` too, unless ``newlines``), DEL, the C1 controls, lone
surrogates and the non-characters U+FFFE and U+FFFF. Everything else is kept as it is.

Examples
--------
>>> printable("6/zeta(3)\\x1b[31m")
'6/zeta(3)\\\\x1b[31m'
>>> printable("a\\x00b\\nc")
'a\\\\x00b\\\\x0ac'
>>> printable("a\\nb", newlines=True)
'a\\nb'
>>> printable("ζ(3) = 1.2020569…")
'ζ(3) = 1.2020569…'
>>> parse_json_object('{"nodes": []}', "program file p.json")
{'nodes': []}
"""

from __future__ import annotations

import json
import re
from typing import Any

from solvers.errors import DiscoveryError

__all__ = ["printable", "parse_json_object", "split_top_level"]

_UNSAFE = "\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
_UNSAFE_ALL = re.compile(f"[\n{_UNSAFE}]")
_UNSAFE_BUT_NEWLINE = re.compile(f"[{_UNSAFE}]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: Any, *, newlines: bool = False) -> str:
    """``text`` (made a ``str``) with every control character replaced by a visible escape.

    Parameters
    ----------
    text : Any
        The value to show (``str(text)`` for anything that is not a string).
    newlines : bool
        Keep ``"\\n"`` (for a table cell whose lines the caller joined); every other control
        character is still escaped.

    Returns
    -------
    str
        Text without C0 or C1 controls, DEL, lone surrogates, U+FFFE or U+FFFF: safe to
        print on a terminal and allowed in XML 1.0 (but for ``"\\n"`` when ``newlines``,
        which XML allows too).
    """
    text = text if isinstance(text, str) else str(text)
    pattern = _UNSAFE_BUT_NEWLINE if newlines else _UNSAFE_ALL
    if pattern.search(text) is None:
        return text
    return pattern.sub(_escape, text)


def parse_json_object(text: str, source: str) -> dict:
    """The JSON object that ``text`` (a file a user named) holds.

    Parameters
    ----------
    text : str
        The file's contents.
    source : str
        What and where it is, for messages (``"certificate c.json"``).

    Raises
    ------
    DiscoveryError
        One line, if ``text`` is not JSON, is nested too deeply to read, or is not an object.

    Examples
    --------
    >>> try:
    ...     parse_json_object("[" * 100_000, "certificate c.json")
    ... except DiscoveryError as err:
    ...     print(err)
    certificate c.json is not valid JSON: nested too deeply
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DiscoveryError(f"{source} is not valid JSON: {exc}") from None
    except RecursionError:
        raise DiscoveryError(f"{source} is not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise DiscoveryError(f"{source} does not hold a JSON object")
    return data


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """``text`` split at each ``sep`` outside parentheses and brackets, parts stripped, empty
    parts dropped: a list of expressions, some of which take several arguments.

    Examples
    --------
    >>> split_top_level("zeta3, besseli(1,2)/besseli(0,2), polylog(2, 1/2)")
    ['zeta3', 'besseli(1,2)/besseli(0,2)', 'polylog(2, 1/2)']
    >>> split_top_level("pi,,e ")
    ['pi', 'e']
    """
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(depth - 1, 0)
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]
