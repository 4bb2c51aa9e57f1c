"""rich's ``Console``, ``Table`` and ``box``, imported on first use.

Importing rich costs ~20 ms; the command modules are all imported to build the command line,
but only the command that runs prints a table. ``Console(...)``/``Table(...)`` build the rich
objects, ``box.SIMPLE_HEAD`` reads rich's box styles, exactly as the rich names would.

Examples
--------
>>> Table(title="t").title, box.SIMPLE_HEAD is __import__("rich.box").box.SIMPLE_HEAD
('t', True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import rich.console
    import rich.table

__all__ = ["Console", "Table", "box"]


def Console(*args: Any, **kwargs: Any) -> rich.console.Console:  # noqa: N802 (rich's name)
    """``rich.console.Console(*args, **kwargs)``."""
    from rich.console import Console as RichConsole

    return RichConsole(*args, **kwargs)


def Table(*args: Any, **kwargs: Any) -> rich.table.Table:  # noqa: N802 (rich's name)
    """``rich.table.Table(*args, **kwargs)``."""
    from rich.table import Table as RichTable

    return RichTable(*args, **kwargs)


class _Boxes:
    """``rich.box``, loaded when a style is first read."""

    def __getattr__(self, name: str) -> Any:
        from rich import box as rich_box

        return getattr(rich_box, name)


box = _Boxes()
