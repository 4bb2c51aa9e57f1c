"""Campaigns: several engines, their configurations and budgets, run into one store.

A campaign is a TOML file::

    [campaign]
    name = "demo"              # identifies the runs: re-running the file resumes them
    db = "conjectures.db"      # relative to the current directory; --db overrides
    hours = 0.1                # total wall-clock budget, shared by the engines
    executor = "local"         # serial | local | dask
    workers = 2                # processes (local) or LocalCluster workers (dask)
    # scheduler = "tcp://host:8786"   # an existing Dask scheduler
    verify = true              # verify every candidate independently
    verify_digits = 100

    [[engine]]
    name = "esma"              # a registered engine (search/<name>.py)
    hours = 0.05               # optional: this engine's share of the budget
    max_tasks = 1000           # optional
    [engine.config]            # the engine's own options, checked by the engine
    constant = "e"
    degree = 1

Validation is strict (unknown keys, wrong types, unknown engines, bad engine
options) and happens before anything is opened or written: a malformed campaign
raises :class:`CampaignError` (or :class:`~solvers.errors.EngineError`) with a
one-line message and leaves no trace.

Examples
--------
>>> c = campaign_from_dict({"campaign": {"name": "t", "executor": "serial"},
...                         "engine": [{"name": "toy", "config": {"tasks": 3}}]})
>>> c
Campaign('t': toy, serial executor, db conjectures.db)
>>> try:
...     campaign_from_dict({"campaign": {"name": "t", "hour": 1}, "engine": [{"name": "toy"}]})
... except CampaignError as err:
...     print(err)  # doctest: +ELLIPSIS
campaign: [campaign]: unknown key 'hour' (allowed: batch, db, executor, hours, ...)
"""

from __future__ import annotations

import datetime
import importlib
import importlib.util
import math
import sqlite3
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from discovery.executors import (
    EXECUTORS,
    MAX_WORKERS,
    check_workers,
    make_executor,
)
from discovery.runner import Runner, RunSummary, default_verifier, engine_modules
from discovery.store import DEFAULT_DB, Store, dumps
from discovery.store_schema import SCHEMA_VERSION, check_existing, open_readonly
from discovery.user_files import check_store_path, read_user_file
from search.config import Rule, check_config
from solvers.errors import DiscoveryError, EngineError, StoreError

__all__ = [
    "Campaign",
    "EngineSpec",
    "CampaignResult",
    "CampaignError",
    "load_campaign",
    "campaign_from_dict",
    "build_engine",
    "run_campaign",
    "check_executor",
    "check_store_file",
    "MAX_HOURS",
]

#: The longest time budget (hours) a campaign or ``--hours`` may give: over a year.
MAX_HOURS = 10_000
#: The largest campaign file read (campaigns are a few hundred bytes).
MAX_CAMPAIGN_BYTES = 2**20
#: The deepest nesting of arrays and tables in a campaign (engine options are shallow).
MAX_NESTING = 32


class CampaignError(DiscoveryError, ValueError):
    """A campaign file is malformed (the message names the key and the problem)."""


@dataclass(frozen=True)
class EngineSpec:
    """One ``[[engine]]`` entry: an engine, its configuration and its budget."""

    name: str
    config: dict = field(default_factory=dict)
    hours: float | None = None
    max_tasks: int | None = None

    def __repr__(self) -> str:
        return f"EngineSpec({self.name!r}, {self.config!r})"


@dataclass(frozen=True)
class Campaign:
    """A validated campaign."""

    name: str
    engines: tuple[EngineSpec, ...]
    db: str = DEFAULT_DB
    hours: float | None = None
    executor: str = "local"
    workers: int | None = None
    scheduler: str | None = None
    verify: bool = True
    verify_digits: int = 100
    batch: int | None = None
    source: str = ""

    def __repr__(self) -> str:
        engines = ", ".join(e.name for e in self.engines)
        return f"Campaign({self.name!r}: {engines}, {self.executor} executor, db {self.db})"


def _non_empty(text: str) -> str:
    if not text.strip():
        raise ValueError("")
    return text


_CAMPAIGN_RULES = {
    "name": Rule(str, check=_non_empty, describe="a non-empty string"),
    "db": Rule(str),
    "hours": Rule(float, gt=0, le=MAX_HOURS),
    "executor": Rule(str, choices=tuple(EXECUTORS)),
    "workers": Rule(int, gt=0, le=MAX_WORKERS),
    "scheduler": Rule(str),
    "verify": Rule(bool),
    "verify_digits": Rule(int, gt=4, le=1_000_000),
    "batch": Rule(int, gt=0, le=100_000),
}
_ENGINE_RULES = {
    "name": Rule(str),
    "config": Rule(Mapping, describe="a table"),
    "hours": Rule(float, gt=0, le=MAX_HOURS),
    "max_tasks": Rule(int, ge=0),
}
_TOP_RULES = {"campaign": Rule(Mapping, describe="a table"), "engine": Rule()}


def _table(where: str, table: Any, rules: Mapping[str, Rule], required: tuple[str, ...] = (),
           noun: str = "key") -> dict:
    """A TOML table checked against ``rules`` (see :func:`search.config.check_config`)."""
    if not isinstance(table, Mapping):
        raise CampaignError(f"{where} must be a table")
    return check_config(where, table, {}, rules, required=required, noun=noun,
                        error=CampaignError)


def campaign_from_dict(data: Mapping, source: str = "campaign") -> Campaign:
    """Validate parsed TOML (a dict) into a :class:`Campaign`.

    Raises
    ------
    CampaignError
        On unknown keys, missing keys, wrong types or values, duplicate engines.
    """
    if not isinstance(data, Mapping):
        raise CampaignError(f"{source}: not a table")
    _check_values(source, data)
    _table(source, data, _TOP_RULES, noun="top-level key")  # [campaign] and [[engine]]
    if "campaign" not in data:
        raise CampaignError(f"{source}: missing the [campaign] table")
    where = f"{source}: [campaign]"
    head = _table(where, data["campaign"], _CAMPAIGN_RULES, ("name",))
    executor = head.get("executor", "local")
    if head.get("scheduler") and executor != "dask":
        raise CampaignError(f"{where}: 'scheduler' needs executor = \"dask\"")
    entries = data.get("engine")
    if not isinstance(entries, list) or not entries:
        raise CampaignError(f"{source}: needs at least one [[engine]] entry")
    specs, seen = [], set()
    for i, entry in enumerate(entries, start=1):
        ewhere = f"{source}: [[engine]] #{i}"
        entry = _table(ewhere, entry, _ENGINE_RULES, ("name",))
        spec = EngineSpec(
            name=entry["name"],
            config=dict(entry.get("config", {})),
            hours=float(entry["hours"]) if "hours" in entry else None,
            max_tasks=entry.get("max_tasks"),
        )
        identity = (spec.name, dumps(spec.config))
        if identity in seen:
            raise CampaignError(f"{ewhere}: duplicates an earlier entry ({spec.name}, same config)")
        seen.add(identity)
        specs.append(spec)
    return Campaign(
        name=head["name"],
        engines=tuple(specs),
        db=head.get("db", DEFAULT_DB),
        hours=float(head["hours"]) if "hours" in head else None,
        executor=executor,
        workers=head.get("workers"),
        scheduler=head.get("scheduler"),
        verify=head.get("verify", True),
        verify_digits=head.get("verify_digits", 100),
        batch=head.get("batch"),
        source=source,
    )


def _check_values(where: str, data: Any) -> None:
    """Refuse what TOML allows but a campaign cannot hold: dates and times (not JSON: the
    store could not record them), and arrays or tables nested deeper than
    :data:`MAX_NESTING`."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, key, depth = stack.pop()
        if depth > MAX_NESTING:
            raise CampaignError(f"{where}: {key!r} is nested more than {MAX_NESTING} levels "
                                "deep")
        if isinstance(value, (datetime.date, datetime.time)):
            raise CampaignError(f"{where}: {key!r} is a date or time, which no option takes")
        if isinstance(value, Mapping):
            stack.extend((v, f"{key}.{k}" if key else str(k), depth + 1)
                         for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, key, depth + 1) for v in value)


def load_campaign(path: str | Path) -> Campaign:
    """Read and validate a campaign TOML file (nothing else is touched).

    The file must be a regular UTF-8 file of at most 1 MiB (``/dev/zero`` or a FIFO is
    refused at once, not read forever).

    Raises
    ------
    CampaignError
        If the file is missing, unreadable, not TOML, or not a valid campaign.
    """
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise CampaignError(f"No campaign file {path}")
    try:
        text = read_user_file(path, what="campaign file", max_bytes=MAX_CAMPAIGN_BYTES)
    except CampaignError:
        raise
    except DiscoveryError as exc:
        raise CampaignError(str(exc)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CampaignError(f"{path}: malformed TOML: {exc}") from None
    except RecursionError:
        raise CampaignError(f"{path}: malformed TOML: arrays or tables nested too deeply "
                            f"(at most {MAX_NESTING} levels)") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise CampaignError(f"{path}: malformed TOML: {exc}") from None
    return campaign_from_dict(data, source=str(path))


def build_engine(name: str, config: Mapping):
    """``search.base.make_engine``, importing ``search/<name>.py`` first if needed.

    Raises
    ------
    EngineError
        For an unknown engine name or a configuration the engine refuses.
    """
    from search.base import engine_names, make_engine

    if name not in engine_names() and name.isidentifier():
        if importlib.util.find_spec(f"search.{name}") is not None:
            importlib.import_module(f"search.{name}")
    try:
        return make_engine(name, dict(config))
    except EngineError:
        raise
    except (DiscoveryError, ValueError, TypeError, KeyError) as exc:
        raise EngineError(f"engine {name!r}: bad configuration: {exc}") from None


@dataclass(frozen=True)
class CampaignResult:
    """The runs of one campaign session (one summary per engine, over all its passes)."""

    name: str
    db: str
    status: str
    runs: tuple[RunSummary, ...]
    seconds: float
    constants: tuple[str | None, ...] = ()

    def __repr__(self) -> str:
        return f"CampaignResult({self.name!r} [{self.status}], {len(self.runs)} runs, {self.db})"

    def to_dict(self) -> dict:
        constants = self.constants or (None,) * len(self.runs)
        return {
            "campaign": self.name,
            "db": self.db,
            "status": self.status,
            "seconds": self.seconds,
            "engines": [
                {"name": r.engine, "constant": c, "run": r.run_id, "status": r.status,
                 "tasks": r.tasks, "tasks_total": r.tasks_total}
                for r, c in zip(self.runs, constants, strict=True)
            ],
            "runs": [r.to_dict() for r in self.runs],
        }


def check_executor(name: str, scheduler: str | None = None, workers: int | None = None) -> None:
    """Refuse, before anything runs, an executor that cannot start (dask not installed), or
    too many workers (:func:`discovery.executors.check_workers`)."""
    if name not in EXECUTORS:
        raise CampaignError(f"Unknown executor {name!r}; use one of {', '.join(EXECUTORS)}")
    if scheduler and name != "dask":
        raise CampaignError("--scheduler needs the dask executor")
    if name == "dask" and importlib.util.find_spec("distributed") is None:
        raise CampaignError(
            "The dask executor needs dask[distributed]: pip install 'discovery-workbench[dask]'"
        )
    check_workers(workers, local=name == "local" or (name == "dask" and not scheduler))


def _check_hours(hours: float | None) -> None:
    if hours is not None and not (isinstance(hours, (int, float)) and math.isfinite(hours)
                                  and 0 < hours <= MAX_HOURS):  # NaN too
        raise CampaignError(f"--hours must be positive, not {hours} (at most {MAX_HOURS:g})")


def _whole_file_problem(p: Path) -> str | None:
    """Why the SQLite file ``p`` is not whole (truncated, or cut inside a page), or None.

    Read from its header: the page size, and the page count when the header vouches for it.
    A truncated store still opens, and SQLite reads its missing pages as zeros: a writer
    would then build on a damaged file. With a write-ahead log or a journal beside it the
    file may legitimately be behind the header, so only the page alignment is checked then.
    """
    try:
        with open(p, "rb") as f:
            header = f.read(100)
        size = p.stat().st_size
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if len(header) < 100:
        return "is shorter than an SQLite header"
    page = int.from_bytes(header[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512 or page & (page - 1):
        return f"has an impossible page size ({page})"
    if size % page:
        return f"is cut inside a page ({size} bytes, pages of {page})"
    pages = int.from_bytes(header[28:32], "big")
    logs = (Path(f"{p}-wal"), Path(f"{p}-journal"))
    if any(q.exists() and q.stat().st_size > 0 for q in logs):
        return None
    if pages and header[24:28] == header[92:96] and size < pages * page:
        return f"is truncated ({size} bytes of {pages * page})"
    return None


def _structure_problem(p: Path) -> str | None:
    """What SQLite's ``PRAGMA quick_check`` finds wrong in the store ``p`` (a damaged page, a
    broken b-tree), read through a read-only connection, or None if nothing."""
    try:
        conn = open_readonly(p, timeout=30.0)
        try:
            rows = conn.execute("PRAGMA quick_check(3)").fetchall()
        finally:
            conn.close()
    except (sqlite3.DatabaseError, StoreError) as exc:
        return f"cannot be read ({exc})"
    if rows == [("ok",)]:
        return None
    found = "; ".join(str(r[0]) for r in rows).replace("\n", " ")
    return f"fails SQLite's structure check: {found[:200]}"


def check_store_file(path: str | Path) -> Path:
    """``path`` checked as a store to write to, before anything is written.

    The path must be acceptable to :func:`discovery.user_files.check_store_path` (not
    ``:memory:``, not a dangling link, not a device, UTF-8, in an existing directory); an
    existing non-empty file must be a conjecture store of a schema this version reads
    (:func:`discovery.store_schema.check_existing`), whole (not truncated) and sound (SQLite's
    ``quick_check`` of every page, read-only: 0.2 s for a 250 MB store in the page cache).

    Raises
    ------
    DiscoveryError
        Naming the path and the problem; nothing has been written.
    """
    p = check_store_path(path)
    if p.exists() and p.stat().st_size > 0:
        check_existing(p, SCHEMA_VERSION)
        problem = _whole_file_problem(p) or _structure_problem(p)
        if problem:
            raise StoreError(f"{p} is a damaged conjecture store: it {problem} (refusing to "
                             "write to it)")
    return p


def _merge(a: RunSummary | None, b: RunSummary) -> RunSummary:
    """One summary for an engine's passes: counts add up, the last status and total stand."""
    if a is None:
        return b
    added = {k: getattr(a, k) + getattr(b, k)
             for k in ("tasks", "failed", "candidates", "new", "verified", "refuted", "seconds")}
    return replace(b, skipped=a.skipped, **added)


def _constant(spec: EngineSpec) -> str | None:
    """The constant an engine is about (ESMA's constant, a CMF's name), if any."""
    for key in ("constant", "cmf"):
        value = spec.config.get(key)
        if isinstance(value, str):
            return value
    return None


#: A pass that could not give every engine this much time ends the campaign's passes.
_MIN_PASS_SECONDS = 2.0


def run_campaign(
    campaign: Campaign,
    *,
    db: str | Path | None = None,
    store: Store | None = None,
    executor: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    hours: float | None = None,
    max_tasks: int | None = None,
    progress: Any = "auto",
    verify: bool | None = None,
    verifier=None,
) -> CampaignResult:
    """Run every engine of a campaign into one store, sharing the time budget.

    Keyword arguments override the campaign file; ``store`` (an open :class:`Store`, e.g.
    ``Store(":memory:")`` for a dry run) replaces the campaign's database file. The
    engines run one after the other, each with an equal share of the time left (or its own
    ``hours``, capped by what is left); time an engine did not use goes to the ones after
    it, and when every engine has had its turn and time is left, the engines that stopped
    on the time budget get another pass (their runs resume). ``max_tasks`` caps each run's
    finished tasks over all its sessions. A stop by signal ends the whole campaign.

    Everything is validated before anything is written, in this order: the options (executor
    available, workers, time budget), every engine (built by its own validator), the store's
    path (:func:`check_store_file`), the Dask scheduler (it must accept a connection within
    5 s); then the executor starts and the store is opened (created). Building an engine is
    cheap (enumerations are lazy) and counts in the budget.
    """
    start = time.monotonic()
    executor_name = executor or campaign.executor
    scheduler = scheduler or campaign.scheduler
    n_workers = workers or campaign.workers
    check_executor(executor_name, scheduler, n_workers)
    _check_hours(hours)
    engines = [build_engine(spec.name, spec.config) for spec in campaign.engines]
    do_verify = campaign.verify if verify is None else verify
    if do_verify and verifier is None:
        verifier = default_verifier(campaign.verify_digits)
    total_hours = hours if hours is not None else campaign.hours
    imports = tuple(m for e in engines for m in engine_modules(e))
    own_store = store is None
    db_path = Path(db) if db is not None else Path(campaign.db)
    if store is None:
        db_path = check_store_file(db_path)
    else:
        db_path = store.path
    # a Dask scheduler must accept a connection within 5 s (discovery.executors._dask_client)
    pool = make_executor(executor_name, workers=n_workers, scheduler=scheduler, imports=imports)
    if store is None:
        try:
            store = Store(db_path)
        except BaseException:
            pool.close(cancel=True)
            raise
    summaries: list[RunSummary | None] = [None] * len(engines)
    try:
        stopped = False
        try:
            todo = list(range(len(engines)))
            while todo and not stopped:
                for n, i in enumerate(todo):
                    spec, engine = campaign.engines[i], engines[i]
                    budget = None
                    if total_hours is not None:
                        left = max(total_hours - (time.monotonic() - start) / 3600, 0.0)
                        budget = left / (len(todo) - n)
                        if spec.hours is not None:
                            budget = min(spec.hours, left)
                    elif spec.hours is not None:
                        budget = spec.hours
                    summary = Runner(
                        store,
                        engine,
                        pool,
                        verifier,
                        run_name=campaign.name,
                        config=spec.config,
                        budget_hours=budget,
                        max_tasks=max_tasks if max_tasks is not None else spec.max_tasks,
                        batch=campaign.batch,
                        progress=progress,
                        verify=do_verify,
                    ).run()
                    summaries[i] = _merge(summaries[i], summary)
                    if summary.status == "stopped":
                        stopped = True
                        break
                if total_hours is None:
                    break
                left = total_hours * 3600 - (time.monotonic() - start)
                # engines cut by the clock (not by their own budget) get the time others left
                todo = [i for i in todo if summaries[i] is not None
                        and summaries[i].status == "budget"
                        and campaign.engines[i].hours is None
                        and not _task_budget_spent(summaries[i], max_tasks,
                                                   campaign.engines[i].max_tasks)]
                if left < _MIN_PASS_SECONDS * max(len(todo), 1):
                    break
        finally:
            pool.close(cancel=stopped)
    finally:
        if own_store:
            store.close()
    runs = tuple(s for s in summaries if s is not None)
    constants = tuple(_constant(spec) for spec, s in zip(campaign.engines, summaries, strict=True)
                      if s is not None)
    statuses = {s.status for s in runs}
    status = next((s for s in ("stopped", "failed", "budget") if s in statuses), "finished")
    return CampaignResult(
        name=campaign.name,
        db=str(db_path),
        status=status,
        runs=runs,
        seconds=time.monotonic() - start,
        constants=constants,
    )


def _task_budget_spent(summary: RunSummary, *caps: int | None) -> bool:
    cap = next((c for c in caps if c is not None), None)
    return cap is not None and summary.tasks_total >= cap
