"""The runner: drives any engine through ask/tell, verifies and records what it finds.

One loop for every engine and every executor::

    ask -> skip tasks this run already finished (resume) -> submit to the executor
        -> as results arrive: verify each candidate -> record the task's conjectures
           and the task key in ONE transaction -> tell the engine -> checkpoint

Only this (client) process writes to the store. A run ends when the engine is done,
when its time budget (``budget_hours``) or task budget (``max_tasks``) is spent, or
on Ctrl-C / SIGTERM: everything finished so far is recorded and the run is marked
``stopped``; running it again (same name, engine and configuration) resumes it
without redoing finished tasks and without duplicating conjectures. A second
Ctrl-C stops at once.

Examples
--------
>>> from discovery.store import Store
>>> from search.toy import ToyEngine
>>> store = Store(":memory:")
>>> summary = Runner(store, ToyEngine({"tasks": 4}), "serial", verify=False,
...                  progress="quiet").run()
>>> summary.status, summary.tasks, summary.candidates
('finished', 4, 12)
>>> again = Runner(store, ToyEngine({"tasks": 4}), "serial", verify=False,
...                progress="quiet").run()
>>> again.tasks, again.skipped, len(store)       # resumed: nothing redone
(0, 4, 6)
>>> store.close()
"""

from __future__ import annotations

import functools
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from discovery.executors import make_executor
from discovery.progress import NullProgress, ProgressSnapshot, make_progress
from search.base import Candidate, Engine, Task
from solvers.errors import DiscoveryError, EngineError

__all__ = ["Runner", "RunSummary", "default_verifier", "engine_modules"]


def default_verifier(digits: int = 100) -> Callable[[Candidate], Any]:
    """The workbench's independent verifier, ``discovery.verify.verify_candidate``."""
    try:
        from discovery.verify import verify_candidate
    except ImportError as exc:
        raise DiscoveryError(
            f"The verifier is not available ({exc}); run without verification"
        ) from None
    return functools.partial(verify_candidate, digits=digits)


@dataclass(frozen=True)
class RunSummary:
    """What one session of a run did.

    Attributes
    ----------
    run_id, name, engine
        The run (``name`` + ``engine`` + configuration identify it in the store).
    status : str
        ``finished``, ``stopped`` (signal), ``budget`` (time or task budget) or ``failed``.
    tasks, skipped, failed : int
        Tasks executed in this session, tasks skipped as already finished, failed tasks.
    candidates, new, verified, refuted : int
        Candidates recorded, of which new conjectures, verified (or proven), refuted.
    seconds : float
        Wall-clock time of this session.
    """

    run_id: int
    name: str
    engine: str
    status: str
    tasks: int = 0
    skipped: int = 0
    failed: int = 0
    candidates: int = 0
    new: int = 0
    verified: int = 0
    refuted: int = 0
    seconds: float = 0.0

    def __repr__(self) -> str:
        return (
            f"Run #{self.run_id} {self.name}/{self.engine} [{self.status}]: {self.tasks} tasks "
            f"({self.skipped} already done), {self.candidates} candidates, {self.new} new, "
            f"{self.verified} verified, {self.refuted} refuted in {self.seconds:.1f}s"
        )

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _engine_config(engine: Engine) -> dict:
    """The engine's configuration as a dict (``engine.config`` as a dict or via ``to_dict``)."""
    config = getattr(engine, "config", None)
    if hasattr(config, "to_dict"):
        config = config.to_dict()
    return dict(config) if isinstance(config, Mapping) else {}


def _engine_total(engine: Engine) -> int | None:
    """Number of tasks of the whole search, if the engine says (``total()`` or ``n_tasks``)."""
    for name in ("total", "n_tasks"):
        try:
            attr = getattr(engine, name, None)
            value = attr() if callable(attr) else attr
        except Exception:  # an optional nicety: no total, no ETA
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def engine_modules(engine: Engine) -> tuple[str, ...]:
    """The ``search.*`` module defining an engine: workers import it before executing."""
    module = type(engine).__module__
    return (module,) if module.startswith("search.") else ()


class Runner:
    """Drive one engine to the end of its search (or of its budget), recording everything.

    Parameters
    ----------
    store : Store
        The conjecture store (opened for writing).
    engine : Engine
        Any ask/tell engine.
    executor : str or executor, optional
        ``"serial"`` (default), ``"local"``, ``"dask"`` or an executor object from
        :mod:`discovery.executors` (then it is not closed by the runner).
    verifier : callable, optional
        ``candidate -> evidence`` (an object with ``verdict`` and ``to_dict()``, or a
        dict). Default: :func:`default_verifier` at ``verify_digits``.
    run_name : str, optional
        Name of the run (default: the engine's name).
    config : dict, optional
        The engine configuration that identifies the run (default ``engine.config``).
    budget_hours : float, optional
        Stop submitting after this much wall-clock time.
    max_tasks : int, optional
        Execute at most this many tasks in this session.
    batch : int, optional
        Tasks in flight at once (default: twice the executor's workers, at least 2).
    progress : str or reporter
        ``"auto"``, ``"rich"``, ``"plain"``, ``"quiet"`` or a reporter object.
    verify : bool
        False records candidates as ``proposed`` without verification.
    verify_digits : int
        Digits asked of the default verifier.
    checkpoint_seconds : float
        How often the engine's ``state()`` is saved.
    max_failures : int
        Failed tasks tolerated before the run is abandoned with :class:`EngineError`.
    handle_signals : bool
        Install SIGINT/SIGTERM handlers for a graceful stop (main thread only).
    """

    def __init__(
        self,
        store,
        engine: Engine,
        executor: Any = "serial",
        verifier: Callable[[Candidate], Any] | None = None,
        *,
        run_name: str | None = None,
        config: Mapping | None = None,
        budget_hours: float | None = None,
        max_tasks: int | None = None,
        batch: int | None = None,
        progress: Any = "auto",
        verify: bool = True,
        verify_digits: int = 100,
        checkpoint_seconds: float = 60.0,
        max_failures: int = 20,
        handle_signals: bool = True,
    ):
        self.store = store
        self.engine = engine
        self.run_name = run_name or engine.name
        self.config = dict(config) if config is not None else _engine_config(engine)
        if budget_hours is not None and budget_hours < 0:
            raise DiscoveryError(f"The time budget must be non-negative, not {budget_hours}")
        if max_tasks is not None and max_tasks < 0:
            raise DiscoveryError(f"max_tasks must be non-negative, not {max_tasks}")
        self.budget_hours = budget_hours
        self.max_tasks = max_tasks
        self._executor_spec = executor
        if verify and verifier is None:
            verifier = default_verifier(verify_digits)
        self.verifier = verifier if verify else None
        self.progress = make_progress(progress) if isinstance(progress, str) else progress
        self.progress = self.progress or NullProgress()
        self.batch = batch
        self.checkpoint_seconds = checkpoint_seconds
        self.max_failures = max_failures
        self.handle_signals = handle_signals
        self._stop = False
        self._signals = 0

    # -- control -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the run to stop after recording what is finished (thread- and signal-safe)."""
        self._stop = True

    def _on_signal(self, signum, frame) -> None:
        self._signals += 1
        self._stop = True
        if self._signals > 1 and signum == signal.SIGINT:
            raise KeyboardInterrupt

    # -- the loop --------------------------------------------------------------------------------

    def run(self) -> RunSummary:
        """Run until done, out of budget, or stopped; return what this session did."""
        start = time.monotonic()
        deadline = start + self.budget_hours * 3600 if self.budget_hours is not None else None
        store, engine = self.store, self.engine
        owned = isinstance(self._executor_spec, str) or self._executor_spec is None
        run_id = store.start_run(self.run_name, engine.name, self.config)
        finished = store.finished_tasks(run_id)
        state = store.run(run_id).state
        if state and callable(getattr(engine, "restore", None)):
            engine.restore(state)
        imports = engine_modules(engine)
        if owned:
            executor = make_executor(self._executor_spec or "serial", imports=imports)
        else:
            executor = self._executor_spec
        batch = self.batch or max(2, 2 * int(getattr(executor, "workers", 1) or 1))
        counts = dict.fromkeys(
            ("tasks", "skipped", "failed", "candidates", "new", "verified", "refuted"), 0
        )
        total = _engine_total(engine)
        self.progress.start(f"{self.run_name}/{engine.name}", total)
        old_handlers = self._install_signal_handlers()
        in_flight: dict[Any, Task] = {}
        status, submitted, exhausted = "finished", 0, False
        last_checkpoint = time.monotonic()

        def snapshot() -> ProgressSnapshot:
            return ProgressSnapshot(
                done=counts["tasks"],
                total=total,
                skipped=counts["skipped"],
                found=counts["candidates"],
                new=counts["new"],
                verified=counts["verified"],
                failed=counts["failed"],
                seconds=time.monotonic() - start,
            )

        def complete(fut: Any, task: Task) -> None:
            try:
                candidates = list(fut.result())
            except Exception as exc:  # a failed task is retried by the next resume
                counts["failed"] += 1
                self.progress.log(f"task {task.key} failed: {type(exc).__name__}: {exc}")
                if counts["failed"] > self.max_failures:
                    raise EngineError(
                        f"{counts['failed']} tasks of {engine.name} failed; last: {exc}"
                    ) from exc
                return
            pairs = [(c, self._verify(c)) for c in candidates]
            new_keys = {c.key for c in candidates if c.key not in store}
            store.finish_task(run_id, task.key, pairs)
            finished.add(task.key)
            engine.tell(task, candidates)
            counts["tasks"] += 1
            counts["candidates"] += len(candidates)
            counts["new"] += len(new_keys)
            for _, ev in pairs:
                verdict = _verdict(ev)
                counts["verified"] += verdict in ("verified", "proven")
                counts["refuted"] += verdict == "refuted"
            self.progress.update(snapshot())

        try:
            while True:
                if self._stop:
                    status = "stopped"
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    status = "budget"
                    break
                while not exhausted and len(in_flight) < batch and not self._stop:
                    want = batch - len(in_flight)
                    if self.max_tasks is not None:
                        want = min(want, self.max_tasks - submitted)
                        if want <= 0:
                            break
                    tasks = engine.ask(want)
                    if not tasks:
                        exhausted = engine.done()
                        break
                    for task in tasks:
                        if task.key in finished:
                            counts["skipped"] += 1
                            engine.tell(task, store.task_candidates(run_id, task.key))
                            continue
                        in_flight[executor.submit(task, imports)] = task
                        submitted += 1
                    if deadline is not None and time.monotonic() >= deadline:
                        break
                if not in_flight:
                    if self._stop:
                        status = "stopped"
                    elif exhausted or engine.done():
                        pass
                    elif self.max_tasks is not None and submitted >= self.max_tasks:
                        status = "budget"
                    elif deadline is not None and time.monotonic() >= deadline:
                        status = "budget"
                    else:
                        self.progress.log(f"{engine.name} has no task to hand out; ending the run")
                    break
                for fut in executor.wait(list(in_flight), timeout=0.5):
                    complete(fut, in_flight.pop(fut))
                if time.monotonic() - last_checkpoint >= self.checkpoint_seconds:
                    store.save_state(run_id, engine.state())
                    last_checkpoint = time.monotonic()
        except KeyboardInterrupt:
            status = "stopped"
        except BaseException:
            status = "failed"
            raise
        finally:
            try:
                if status != "failed":
                    for fut in [f for f in in_flight if f.done()]:
                        complete(fut, in_flight.pop(fut))
            except BaseException:
                status = "failed"
                raise
            finally:
                for fut in in_flight:
                    fut.cancel()
                if owned:
                    executor.close(cancel=bool(in_flight))
                self._restore_signal_handlers(old_handlers)
                self.progress.update(snapshot(), force=True)
                self.progress.close()
                store.end_run(run_id, status, state=_safe_state(engine))
        return RunSummary(
            run_id=run_id,
            name=self.run_name,
            engine=engine.name,
            status=status,
            seconds=time.monotonic() - start,
            **counts,
        )

    def _verify(self, candidate: Candidate) -> Any:
        if self.verifier is None:
            return None
        try:
            return self.verifier(candidate)
        except Exception as exc:  # a verifier crash must not lose the candidate
            return {"verdict": "inconclusive", "error": f"{type(exc).__name__}: {exc}"}

    def _install_signal_handlers(self) -> dict:
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            return {}
        old = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            old[sig] = signal.signal(sig, self._on_signal)
        return old

    @staticmethod
    def _restore_signal_handlers(old: dict) -> None:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _verdict(evidence: Any) -> str | None:
    if evidence is None:
        return None
    if isinstance(evidence, Mapping):
        return evidence.get("verdict")
    return getattr(evidence, "verdict", None)


def _safe_state(engine: Engine) -> dict | None:
    try:
        state = engine.state()
    except Exception:  # never lose the run's end because a snapshot failed
        return None
    return state if isinstance(state, Mapping) else None

