"""Provenance of a run session: what ran, from which code, where, and how it was started.

:func:`collect_provenance` is cheap (no heavy imports: library versions come from the
installed metadata, never from importing the libraries) and never fails; the git and
library lookups are cached for the life of the process. :meth:`Store.start_run
<discovery.store.Store.start_run>` appends one such entry per session to the run.
"""

from __future__ import annotations

import functools
import os
import platform
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path

__all__ = ["collect_provenance", "PACKAGE", "LIBRARIES"]

PACKAGE = "discovery-workbench"
LIBRARIES = (
    "sympy",
    "mpmath",
    "gmpy2",
    "python-flint",
    "numpy",
    "scipy",
    "numba",
    "networkx",
    "cvxpy",
    "clarabel",
)
_GIT_TIMEOUT = 2.0  # seconds per git command


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except Exception:  # not installed, or broken metadata: just unknown
        return None


@functools.lru_cache(maxsize=1)
def _package_version() -> str:
    return _version(PACKAGE) or "unknown"


@functools.lru_cache(maxsize=1)
def _library_versions() -> tuple[tuple[str, str], ...]:
    found = ((name, _version(name)) for name in LIBRARIES)
    return tuple((name, v) for name, v in found if v is not None)


def _git(root: Path, *args: str) -> str | None:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError, ValueError):  # no git, timeout, ...
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@functools.lru_cache(maxsize=1)
def _git_commit() -> str | None:
    """The commit of the checkout this package is imported from (``-dirty`` if changed)."""
    try:
        root = Path(__file__).resolve().parents[1]
    except (OSError, IndexError):
        return None
    top = _git(root, "rev-parse", "--show-toplevel")
    try:
        if top is None or Path(top).resolve() != root:
            return None  # installed elsewhere (site-packages), or inside an unrelated repo
    except OSError:
        return None
    commit = _git(root, "rev-parse", "--verify", "HEAD")
    if not commit:
        return None
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    return f"{commit}-dirty" if status else commit


def collect_provenance(argv: list[str] | None = None, seed: int | None = None) -> dict:
    """Where and how this session runs, as a JSON-able dict.

    Parameters
    ----------
    argv : list of str, optional
        The command line (default ``sys.argv``).
    seed : int, optional
        The random seed of the session, if it has one.

    Returns
    -------
    dict
        ``package`` (version of ``discovery-workbench``, or ``"unknown"``), ``git``
        (commit of the checkout the package is imported from, with a ``-dirty``
        suffix when tracked files have changes; ``None`` when it is not imported from
        a git checkout or git is missing), ``python``, ``libraries`` (installed
        versions of the main numerical libraries; missing ones omitted), ``host``,
        ``platform``, ``command`` (the shell-quoted command line) and ``seed``.

    Examples
    --------
    >>> p = collect_provenance(["discovery", "run", "my campaign.toml"], seed=0)
    >>> sorted(p)
    ['command', 'git', 'host', 'libraries', 'package', 'platform', 'python', 'seed']
    >>> p["command"], p["seed"]
    ("discovery run 'my campaign.toml'", 0)
    >>> import platform
    >>> p["python"] == platform.python_version()
    True
    """
    args = list(sys.argv if argv is None else argv)
    try:
        command = shlex.join(str(a) for a in args)
    except Exception:  # never fail over a strange argv
        command = " ".join(map(str, args))
    return {
        "package": _package_version(),
        "git": _git_commit(),
        "python": platform.python_version(),
        "libraries": dict(_library_versions()),
        "host": platform.node(),
        "platform": platform.platform(),
        "command": command,
        "seed": seed,
    }
