"""rich's ``Console``, ``Table`` and ``box``, imported on first use, safe and wide.

Importing rich costs ~20 ms; the command modules are all imported to build the command line,
but only the command that runs prints a table. ``Console(...)``/``Table(...)`` build the rich
objects, ``box.SIMPLE_HEAD`` reads rich's box styles, exactly as the rich names would, with
two differences that every command's output shares:

- every string printed, and every string cell of a table, is :func:`discovery.text.printable`
  (a run name or claim from a store cannot send escape sequences to the terminal);
- printed to a file or a pipe (an overnight log, ``| less``), a console is
  :data:`PIPE_WIDTH` columns wide, not rich's 80, so tables are not cut to ``verif…``;
  ``COLUMNS`` in the environment still sets the width.

Examples
--------
>>> Table(title="t").title, box.SIMPLE_HEAD is __import__("rich.box").box.SIMPLE_HEAD
('t', True)
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any

from discovery.text import printable

if TYPE_CHECKING:  # pragma: no cover
    import rich.console
    import rich.table

__all__ = ["Console", "Table", "box", "PIPE_WIDTH"]

#: Columns of a console that prints to a file or a pipe (rich would use 80).
PIPE_WIDTH = 160


@functools.cache
def _safe_classes() -> tuple[type, type]:
    """rich's ``Console`` and ``Table`` with every string made printable."""
    from rich.console import Console as RichConsole
    from rich.table import Table as RichTable

    class SafeConsole(RichConsole):
        def print(self, *objects: Any, **kwargs: Any) -> None:
            super().print(*(printable(o) if isinstance(o, str) else o for o in objects),
                          **kwargs)

    class SafeTable(RichTable):
        def add_row(self, *renderables: Any, **kwargs: Any) -> None:
            super().add_row(*(printable(r, newlines=True) if isinstance(r, str) else r
                              for r in renderables), **kwargs)

    return SafeConsole, SafeTable


def Console(*args: Any, **kwargs: Any) -> rich.console.Console:  # noqa: N802 (rich's name)
    """``rich.console.Console(*args, **kwargs)`` that prints strings :func:`printable`, and
    :data:`PIPE_WIDTH` wide when it does not print to a terminal.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> console = Console(file=out, markup=False)
    >>> console.width
    160
    >>> console.print("run \\x1b[31mred")
    >>> out.getvalue()
    'run \\\\x1b[31mred\\n'
    """
    console = _safe_classes()[0](*args, **kwargs)
    if "width" not in kwargs and not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPE_WIDTH
    return console


def Table(*headers: Any, **kwargs: Any) -> rich.table.Table:  # noqa: N802 (rich's name)
    """``rich.table.Table(*headers, **kwargs)`` whose title, caption and string cells are
    :func:`printable` (a cell keeps the newlines that join its lines)."""
    for key in ("title", "caption"):
        if isinstance(kwargs.get(key), str):
            kwargs[key] = printable(kwargs[key])
    return _safe_classes()[1](*headers, **kwargs)


class _Boxes:
    """``rich.box``, loaded when a style is first read."""

    def __getattr__(self, name: str) -> Any:
        from rich import box as rich_box

        return getattr(rich_box, name)


box = _Boxes()
