"""What every ``discovery search <engine>`` command shares: runner options and one session.

Every search goes through :class:`discovery.runner.Runner` (by way of
:func:`discovery.campaign.run_campaign`), so every search records into the store (``--db``,
default ``./conjectures.db``; ``--no-store`` runs against a throw-away in-memory store), resumes
when run again with the same configuration, shows progress, and honours its budgets. A
command declares its own options, builds the engine configuration, and calls
:func:`search_session`, which yields the campaign result and the open store for the
command's own summary.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from discovery.commands._common import user_errors
from discovery.progress import PROGRESS_MODES

__all__ = ["SearchOptions", "search_session", "conjectures_of", "OPTIONS"]

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


@dataclass(frozen=True)
class SearchOptions:
    """The runner options of one search command."""

    db: Path = Path("conjectures.db")
    no_store: bool = False
    run_name: str = "search"
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
            name=opts.run_name,
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
