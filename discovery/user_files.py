"""The files a user points the workbench at: read only when safe, written only when not precious.

Every path that comes from a user (a command-line option or a campaign file) goes through one
of three checks before anything is read or written:

* :func:`read_user_file` reads an input (a campaign, a certificate, a program) only if it is a
  regular file of bounded size, as UTF-8 text: ``/dev/zero``, a FIFO or a directory is refused
  at once instead of being read forever.
* :func:`check_store_path` accepts a conjecture store's path only if it is a regular file, or
  a new file in an existing directory, named in UTF-8: not ``:memory:`` (a campaign would run
  and lose everything), not ``/dev/null`` (SQLite would create ``/dev/null-journal``), not a
  dangling symbolic link (SQLite would create its target).
* :func:`check_output_path` accepts an output (an export, a plot, a log) only if it is not
  one of the files the command reads (``db export --db S.db --out S.db`` would replace the
  store with its export), not a directory, and in an existing directory.

Each raises :class:`~solvers.errors.DiscoveryError` with one line that names the path.

Examples
--------
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     store = Path(d) / "s.db"
...     _ = store.write_bytes(b"")
...     check_store_path(store) == store
True
>>> try:
...     read_user_file("/dev/zero", what="campaign file")
... except DiscoveryError as err:
...     print(err)
campaign file /dev/zero is not a regular file
>>> try:
...     check_store_path(":memory:")
... except DiscoveryError as err:
...     print(err)
a conjecture store must be a file, not ':memory:' (everything would be lost at exit)
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from solvers.errors import DiscoveryError

__all__ = ["MAX_INPUT_BYTES", "read_user_file", "check_store_path", "check_output_path"]

#: The largest input file read (64 MiB): campaigns, certificates and programs are far smaller.
MAX_INPUT_BYTES = 64 * 2**20


def _utf8_name(path: Path, what: str) -> None:
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        raise DiscoveryError(
            f"{what} {os.fsencode(path)!r} is not a UTF-8 file name"
        ) from None


def read_user_file(path: str | Path, *, what: str = "file", max_bytes: int = MAX_INPUT_BYTES,
                   binary: bool = False) -> str | bytes:
    """The contents of the regular file ``path``, refused if it is anything else or too big.

    Parameters
    ----------
    path : str or Path
        The file a user named.
    what : str
        What the file is, for messages (``"campaign file"``).
    max_bytes : int
        The largest size read.
    binary : bool
        Return bytes instead of UTF-8 text.

    Raises
    ------
    DiscoveryError
        If the file does not exist, is not a regular file (a directory, a device, a FIFO), is
        larger than ``max_bytes``, cannot be read, or (text) is not UTF-8.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "c.toml"
    ...     _ = p.write_text("[campaign]\\n")
    ...     read_user_file(p, what="campaign file")
    '[campaign]\\n'
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise DiscoveryError(f"{what} {p} does not exist") from None
    except (OSError, ValueError) as exc:
        raise DiscoveryError(f"cannot read {what} {p}: {getattr(exc, 'strerror', exc)}") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise DiscoveryError(f"{what} {p} is {kind}")
    if st.st_size > max_bytes:
        raise DiscoveryError(f"{what} {p} has {st.st_size} bytes; at most {max_bytes} are read")
    try:
        with open(p, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise DiscoveryError(f"cannot read {what} {p}: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise DiscoveryError(f"{what} {p} has more than {max_bytes} bytes")
    if binary:
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DiscoveryError(f"{what} {p} is not UTF-8 text (byte {exc.start})") from None


def check_store_path(path: str | Path, *, must_exist: bool = False) -> Path:
    """``path`` as a conjecture store's path, checked before anything is written.

    Parameters
    ----------
    path : str or Path
        The store a user named.
    must_exist : bool
        A reader's store: it must exist already.

    Returns
    -------
    Path

    Raises
    ------
    DiscoveryError
        For ``:memory:``, a name that is not UTF-8, a dangling symbolic link, an existing path
        that is not a regular file (a directory, ``/dev/null``, a FIFO), a missing store when
        ``must_exist``, or a new store whose directory does not exist.
    """
    if str(path) == ":memory:":
        raise DiscoveryError(
            "a conjecture store must be a file, not ':memory:' (everything would be lost at exit)"
        )
    p = Path(path)
    _utf8_name(p, "store")
    if p.is_symlink() and not p.exists():
        raise DiscoveryError(f"store {p} is a symbolic link to {os.readlink(p)}, which does not "
                             "exist")
    if p.exists():
        if p.is_dir():
            raise DiscoveryError(f"{p} is a directory, not a conjecture store")
        if not p.is_file():
            raise DiscoveryError(f"{p} is not a regular file, so not a conjecture store")
        return p
    if must_exist:
        raise DiscoveryError(f"No conjecture store at {p}")
    parent = p.parent
    if not parent.is_dir():
        raise DiscoveryError(f"Cannot create a store at {p}: directory {parent} does not exist")
    return p


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output_path(path: str | Path, *, reads: Iterable[str | Path] = (),
                      what: str = "output") -> Path:
    """``path`` as a file the command will write, checked before anything is written.

    Parameters
    ----------
    path : str or Path
        The output a user named (``-`` is not a path: handle it before).
    reads : iterable of paths
        The files the command reads (a store: its ``-wal`` and ``-shm`` files count too).
    what : str
        What the output is, for messages.

    Raises
    ------
    DiscoveryError
        If ``path`` is one of ``reads`` (or their journal files), a directory, not UTF-8, or
        in a directory that does not exist.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     store = Path(d) / "s.db"
    ...     _ = store.write_bytes(b"x")
    ...     try:
    ...         check_output_path(store, reads=[store], what="export")
    ...     except DiscoveryError as err:
    ...         print(str(err).replace(d, "DIR"))
    export DIR/s.db is a file this command reads; write it elsewhere
    """
    p = Path(path)
    _utf8_name(p, what)
    for r in reads:
        r = Path(r)
        for q in (r, r.with_name(r.name + "-wal"), r.with_name(r.name + "-shm"),
                  r.with_name(r.name + "-journal")):
            if _same_file(p, q) or p.absolute() == q.absolute():
                raise DiscoveryError(f"{what} {p} is a file this command reads; write it "
                                     "elsewhere")
    if p.is_dir():
        raise DiscoveryError(f"{what} {p} is a directory")
    if not p.exists() and not p.parent.is_dir():
        raise DiscoveryError(f"{what} {p}: directory {p.parent} does not exist")
    return p
