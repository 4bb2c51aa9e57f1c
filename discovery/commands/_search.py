"""What every ``discovery search <engine>`` command shares: runner options and one session.

Every search goes through :class:`discovery.runner.Runner` (by way of
:func:`discovery.campaign.run_campaign`), so every search records into the store (``--db``,
default ``./conjectures.db``; ``--no-store`` runs against a throw-away in-memory store), resumes
when run again with the same configuration, shows progress, and honours its budgets. A
command declares its own options only: :func:`search_options` adds the shared runner options
to its signature and hands it one :class:`SearchOptions`. The command builds the engine
configuration and calls :func:`search_session`, which yields the campaign result and the open
store for the command's own summary.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from discovery.commands._common import user_errors
from discovery.progress import PROGRESS_MODES

__all__ = ["SearchOptions", "search_options", "search_session", "conjectures_of", "OPTIONS"]

JSON = typer.Option(False, "--json", help="Print one JSON object on stdout.")
DB = typer.Option(Path("conjectures.db"), "--db", help="the conjecture store (SQLite file)")
NO_STORE = typer.Option(False, "--no-store",
                        help="dry run: record into a throw-away in-memory store")
NAME = typer.Option(None, "--name", help="run name (the same name and configuration resume)")
EXECUTOR = typer.Option("local", "--executor", help="serial | local | dask")
WORKERS = typer.Option(None, "--workers", min=1, max=1024,
                       help="worker processes (default: the CPU count)")
SCHEDULER = typer.Option(None, "--scheduler", help="dask: tcp://host:8786")
HOURS = typer.Option(None, "--hours", min=0.0, help="time budget of this session")
MAX_TASKS = typer.Option(None, "--max-tasks", min=0,
                         help="task budget of the run, counted over all its sessions")
NO_VERIFY = typer.Option(False, "--no-verify", help="record candidates unverified")
QUIET = typer.Option(False, "--quiet", "-q", help="no progress output")
PROGRESS = typer.Option("auto", "--progress", help=" | ".join(PROGRESS_MODES))

#: The shared options, for a command's signature (``db: Path = OPTIONS["db"]``).
OPTIONS = {"json": JSON, "db": DB, "no_store": NO_STORE, "name": NAME, "executor": EXECUTOR,
           "workers": WORKERS, "scheduler": SCHEDULER, "hours": HOURS, "max_tasks": MAX_TASKS,
           "no_verify": NO_VERIFY, "quiet": QUIET, "progress": PROGRESS}


#: The runner options a search command can take, in the order of its ``--help``: the name of
#: the command's parameter -> (its annotation, its option).
_SHARED: dict[str, tuple[Any, Any]] = {
    "db": (Path, DB),
    "no_store": (bool, NO_STORE),
    "run_name": (str | None, NAME),
    "executor": (str, EXECUTOR),
    "workers": (int | None, WORKERS),
    "scheduler": (str | None, SCHEDULER),
    "hours": (float | None, HOURS),
    "max_tasks": (int | None, MAX_TASKS),
    "no_verify": (bool, NO_VERIFY),
    "quiet": (bool, QUIET),
    "progress": (str, PROGRESS),
    "json_": (bool, JSON),
}
#: The runner options every search command takes unless it leaves some out.
_USUAL = ("db", "no_store", "run_name", "executor", "workers", "scheduler", "hours",
          "max_tasks", "quiet", "json_")


@dataclass(frozen=True)
class SearchOptions:
    """The runner options of one search command (``run_name`` None: ``"search"``)."""

    db: Path = Path("conjectures.db")
    no_store: bool = False
    run_name: str | None = None
    executor: str = "local"
    workers: int | None = None
    scheduler: str | None = None
    hours: float | None = None
    max_tasks: int | None = None
    verify: bool = True
    verify_digits: int = 100
    quiet: bool = False
    progress: str = "auto"
    json: bool = False

    @property
    def progress_mode(self) -> str:
        if self.progress not in PROGRESS_MODES:
            raise ValueError(f"--progress must be one of {', '.join(PROGRESS_MODES)}")
        return "quiet" if self.quiet or self.json else self.progress

    @classmethod
    def from_options(cls, values: dict[str, Any]) -> SearchOptions:
        """Pack the values of the shared options (named as in ``_SHARED``).

        Examples
        --------
        >>> SearchOptions.from_options({"no_verify": True, "json_": True, "hours": 0.5})
        ... # doctest: +ELLIPSIS
        SearchOptions(db=..., run_name=None, ..., hours=0.5, ..., verify=False, ..., json=True)
        """
        values = dict(values)
        verify = not values.pop("no_verify", False)
        json_ = values.pop("json_", False)
        return cls(**values, verify=verify, json=json_)


def search_options(*extra: str, without: Iterable[str] = ()
                   ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a search command the shared runner options, packed into one :class:`SearchOptions`.

    The command declares its own options and a keyword-only ``opts: SearchOptions``. The
    decorated command's signature, which typer reads, is the command's own options followed
    by ``--db``, ``--no-store``, ``--name``, ``--executor``, ``--workers``, ``--scheduler``,
    ``--hours``, ``--max-tasks``, ``--quiet`` and ``--json``, with the ``extra`` ones
    (``"no_verify"``, ``"progress"``) and less the ones ``without`` names (``"hours"``,
    ``"max_tasks"``, ...); it calls the command with the values of its own options and
    ``opts``. Options a command does not take keep the :class:`SearchOptions` defaults.

    Examples
    --------
    >>> @search_options("no_verify", without=("hours",))
    ... def command(depth: int = 3, *, opts: SearchOptions) -> None:
    ...     print(depth, opts.db, opts.verify, opts.hours, opts.json)
    >>> list(inspect.signature(command).parameters)  # doctest: +NORMALIZE_WHITESPACE
    ['depth', 'db', 'no_store', 'run_name', 'executor', 'workers', 'scheduler', 'max_tasks',
     'no_verify', 'quiet', 'json_']
    >>> command(depth=4, db=Path("x.db"), no_verify=True)
    4 x.db False None False
    """
    names = set(_USUAL) | set(extra)
    unknown = (names | set(without)) - set(_SHARED)
    if unknown:
        raise ValueError(f"no shared search option {sorted(unknown)}")
    names -= set(without)
    chosen = [name for name in _SHARED if name in names]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        own = inspect.signature(command, eval_str=True)
        if "opts" not in own.parameters:
            raise TypeError(f"{command.__name__} takes no 'opts' parameter")
        kw = inspect.Parameter.KEYWORD_ONLY
        params = [p.replace(kind=kw) for p in own.parameters.values() if p.name != "opts"]
        params += [inspect.Parameter(name, kw, default=_SHARED[name][1],
                                     annotation=_SHARED[name][0]) for name in chosen]

        @functools.wraps(command)
        def run(**kwargs: Any) -> Any:
            shared = {name: kwargs.pop(name, _SHARED[name][1].default) for name in chosen}
            return command(**kwargs, opts=SearchOptions.from_options(shared))

        run.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in params}
        if own.return_annotation is not inspect.Signature.empty:
            run.__annotations__["return"] = own.return_annotation
        return run

    return decorate


@contextmanager
def search_session(engine: str, config: dict[str, Any], opts: SearchOptions
                   ) -> Iterator[tuple[Any, Any]]:
    """Run ONE engine through the runner into the store; yield ``(result, store)``.

    Errors (bad configuration, unreadable store, missing dask) exit with status 2 and a
    one-line message (one JSON object with ``--json``) before anything is written.
    """
    from discovery.campaign import Campaign, EngineSpec, run_campaign
    from discovery.store import Store

    with user_errors():
        campaign = Campaign(
            name=opts.run_name or "search",
            engines=(EngineSpec(engine, dict(config)),),
            db=str(opts.db),
            executor=opts.executor,
            workers=opts.workers,
            scheduler=opts.scheduler,
            verify=opts.verify,
            verify_digits=opts.verify_digits,
        )
        mode = opts.progress_mode
        if opts.no_store:
            store = Store(":memory:")
            try:
                result = run_campaign(campaign, store=store, hours=opts.hours,
                                      max_tasks=opts.max_tasks, progress=mode)
            except BaseException:
                store.close()
                raise
        else:  # run_campaign validates everything before it creates the store
            result = run_campaign(campaign, db=opts.db, hours=opts.hours,
                                  max_tasks=opts.max_tasks, progress=mode)
            store = Store(opts.db, readonly=True)
    try:
        yield result, store
    finally:
        store.close()


def conjectures_of(store: Any, run_ids: int | Iterable[int], kind: str | None = None) -> list:
    """The conjectures runs have recorded (their ``found-by`` edges), best first:
    proven/verified before the rest, most digits first."""
    ids = [run_ids] if isinstance(run_ids, int) else list(run_ids)
    order = {"proven": 0, "verified": 1, "inconclusive": 2, "proposed": 3, "refuted": 4,
             "contradicted": 5}
    keys = [r.src for run_id in ids
            for r in store.relations(type="found-by", dst=f"run:{run_id}")]
    records = [store.get(k) for k in dict.fromkeys(keys)]
    records = [r for r in records if kind is None or r.kind == kind]
    records.sort(key=lambda r: (order.get(r.status, 5), -(r.digits or 0), r.id))
    return records
