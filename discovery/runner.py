"""The runner: drives any engine through ask/tell, verifies and records what it finds.

One loop for every engine and every executor, from ``discovery search <engine>`` and
from ``discovery run campaign.toml`` alike::

    restore the engine's state -> submit again the tasks left pending by the last session
    -> ask -> skip tasks this run already finished -> store the task as pending -> submit
    -> as results arrive (in ask order for an ordered engine): verify each candidate with
       the verifier of its kind -> tell the engine -> record the task's conjectures, the
       task key, the end of its pending entry and (ordered engines) the engine's state in
       ONE transaction
    -> at the end of the session: record the engine's ``finish()`` candidates

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
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from discovery.executors import make_executor
from discovery.progress import NullProgress, ProgressSnapshot, make_progress
from search.base import Candidate, Engine, Task
from solvers.errors import DiscoveryError, EngineError

if TYPE_CHECKING:
    from discovery.store import Store

__all__ = ["Runner", "RunSummary", "default_verifier", "engine_modules"]


def default_verifier(digits: int = 100) -> Callable[[Candidate], Any]:
    """The workbench's independent verifiers (:mod:`discovery.verifiers`, keyed by kind)."""
    from discovery.verifiers import verify_candidate

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
    tasks_total : int
        Tasks the run has finished over all its sessions (this one included).
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
    tasks_total: int = 0
    seconds: float = 0.0

    def __repr__(self) -> str:
        return (
            f"Run #{self.run_id} {self.name}/{self.engine} [{self.status}]: {self.tasks} tasks "
            f"({self.skipped} already done), {self.candidates} candidates, {self.new} new, "
            f"{self.verified} verified, {self.refuted} refuted in {self.seconds:.1f}s "
            f"({self.tasks_total} tasks over all sessions)"
        )

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _engine_config(engine: Engine) -> dict:
    """The engine's configuration as a dict (``engine.config`` as a dict or via ``to_dict``)."""
    config = engine.config
    if hasattr(config, "to_dict"):
        config = config.to_dict()
    return dict(config) if isinstance(config, Mapping) else {}


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
        Any ask/tell engine (:class:`search.base.Engine`).
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
        Stop submitting after this much wall-clock time (of this session).
    first_task_grace : float
        Seconds a session whose time ran out before ANY of its tasks finished keeps
        waiting for the tasks it already submitted (nothing new is submitted): a short
        trial of a slow engine (cold JIT caches, large tasks) records a result instead of
        nothing. A session that finished a task stops at its deadline.
    max_tasks : int, optional
        The run's task budget: it ends once this many of its tasks are finished, counted
        over all its sessions (a resumed run with the same budget does only what is left).
    batch : int, optional
        Tasks in flight at once (default: twice the executor's workers, at least 2). An
        engine that sets ``max_in_flight`` gets exactly that many, whatever the executor.
    progress : str or reporter
        ``"auto"``, ``"rich"``, ``"plain"``, ``"quiet"`` or a reporter object.
    verify : bool
        False records candidates as ``proposed`` without verification.
    verify_digits : int
        Digits asked of the default verifier.
    checkpoint_seconds : float
        How often an unordered engine's ``state()`` is saved (ordered engines save it
        with every finished task).
    max_failures : int
        Failed tasks tolerated before the run is abandoned with :class:`EngineError`.
    handle_signals : bool
        Install SIGINT/SIGTERM handlers for a graceful stop (main thread only).
    provenance : dict, optional
        Where the run comes from (default :func:`discovery.provenance.collect_provenance`).

    Notes
    -----
    Every task is written to the store when it is submitted and removed in the
    transaction that records its results, so a resumed session first re-submits the
    tasks that were in flight when the last one ended (kill -9 included). For an
    ordered engine (``engine.ordered``) results are told back in the order the tasks
    were asked and the engine's state is saved in that same transaction: the resumed
    run continues exactly as the uninterrupted one would have.
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
        first_task_grace: float = 60.0,
        max_tasks: int | None = None,
        batch: int | None = None,
        progress: Any = "auto",
        verify: bool = True,
        verify_digits: int = 100,
        checkpoint_seconds: float = 60.0,
        max_failures: int = 20,
        handle_signals: bool = True,
        provenance: Mapping | None = None,
    ):
        self.store = store
        self.engine = engine
        self.run_name = run_name or engine.name
        self.config = dict(config) if config is not None else _engine_config(engine)
        if budget_hours is not None and not budget_hours >= 0:  # NaN too
            raise DiscoveryError(f"The time budget must be non-negative, not {budget_hours}")
        if max_tasks is not None and max_tasks < 0:
            raise DiscoveryError(f"max_tasks must be non-negative, not {max_tasks}")
        self.budget_hours = budget_hours
        self.first_task_grace = max(float(first_task_grace), 0.0)
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
        self.provenance = provenance
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
        ordered = bool(engine.ordered)
        owned = isinstance(self._executor_spec, str) or self._executor_spec is None
        provenance = self.provenance
        if provenance is None:
            from discovery.provenance import collect_provenance

            provenance = collect_provenance(seed=self.config.get("seed"))
        run_id = store.start_run(self.run_name, engine.name, self.config, provenance=provenance)
        finished = store.finished_tasks(run_id)
        state = store.run(run_id).state
        if state:
            engine.restore(state)
        resubmit = deque(store.pending_tasks(run_id))
        imports = engine_modules(engine)
        if owned:
            executor = make_executor(self._executor_spec or "serial", imports=imports)
        else:
            executor = self._executor_spec
        batch = self.batch or max(2, 2 * int(getattr(executor, "workers", 1) or 1))
        if engine.max_in_flight is not None:  # the engine's own (results may depend on it)
            batch = max(1, int(engine.max_in_flight))
        counts = dict.fromkeys(
            ("tasks", "skipped", "failed", "candidates", "new", "verified", "refuted"), 0
        )
        total = engine.total()
        about = self.config.get("constant") or self.config.get("cmf")
        title = f"{self.run_name}/{engine.name}" + (f" {about}" if isinstance(about, str) else "")
        self.progress.start(title, total)
        old_handlers = self._install_signal_handlers()
        # tasks in flight, in the order they were asked (the order ordered engines are told)
        in_flight: dict[str, tuple[Task, Any]] = {}
        status, exhausted = "finished", False
        last_checkpoint = time.monotonic()

        def snapshot() -> ProgressSnapshot:
            return ProgressSnapshot(
                done=counts["tasks"] + counts["skipped"],
                total=total,
                skipped=counts["skipped"],
                found=counts["candidates"],
                new=counts["new"],
                verified=counts["verified"],
                failed=counts["failed"],
                seconds=time.monotonic() - start,
            )

        def budget_left() -> int | None:
            if self.max_tasks is None:
                return None
            return self.max_tasks - len(finished) - len(in_flight)

        def submit(task: Task) -> None:
            store.add_pending(run_id, task)
            in_flight[task.key] = (task, executor.submit(task, imports))

        def record(pairs: list) -> None:
            counts["candidates"] += len(pairs)
            counts["new"] += len({c.key for c, _ in pairs if c.key not in store})

        def complete(task: Task, fut: Any) -> None:
            try:
                candidates = list(fut.result())
            except Exception as exc:
                counts["failed"] += 1
                self.progress.log(f"task {task.key} failed: {type(exc).__name__}: {exc}")
                if counts["failed"] > self.max_failures:
                    raise EngineError(
                        f"{counts['failed']} tasks of {engine.name} failed; last: {exc}"
                    ) from exc
                if not ordered:
                    return  # stays pending: the next session runs it again
                candidates = []  # an ordered search cannot skip it: told as no result
            pairs = [self._verified(c) for c in engine.to_record(task, candidates)]
            record(pairs)
            engine.tell(task, candidates)
            data = getattr(engine, "data", None)  # rows for the dynamics table (Blind-δ)
            store.finish_task(run_id, task.key, pairs, state=engine.state() if ordered else None,
                              companions=self._companions(store, pairs),
                              data=data(task, candidates) if data is not None else None)
            finished.add(task.key)
            counts["tasks"] += 1
            self._count_verdicts(counts, pairs)
            self.progress.update(snapshot())

        def fill() -> None:
            nonlocal exhausted
            while len(in_flight) < batch and not self._stop:
                left = budget_left()
                if left is not None and left <= 0:
                    return
                if resubmit:
                    task = resubmit.popleft()
                    if task.key not in finished and task.key not in in_flight:
                        submit(task)
                    continue
                if exhausted:
                    return
                want = batch - len(in_flight)
                tasks = engine.ask(want if left is None else min(want, left))
                if not tasks:
                    exhausted = engine.done()
                    return
                for task in tasks:
                    if task.key in in_flight:
                        continue
                    if task.key in finished:  # an enumeration re-asks what it did before
                        counts["skipped"] += 1
                        engine.tell(task, store.task_candidates(run_id, task.key))
                        continue
                    submit(task)
                if deadline is not None and time.monotonic() >= deadline:
                    return

        def collect() -> None:
            """Complete the finished tasks. An ordered engine's oldest task only: the runner
            refills before it tells the next result, so task i is always asked after exactly
            the same results, however many finished at once (any executor, any timing)."""
            for key, (task, fut) in list(in_flight.items()):
                if not fut.done():
                    if ordered:
                        break
                    continue
                del in_flight[key]
                complete(task, fut)
                if ordered:
                    break

        def harvest() -> None:
            futures = [fut for _, fut in in_flight.values()]
            if ordered:  # tell in ask order: wait for the oldest task
                futures = futures[:1]
            executor.wait(futures, timeout=0.5)
            collect()

        try:
            while True:
                if self._stop:
                    status = "stopped"
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    if (counts["tasks"] == 0 and in_flight
                            and time.monotonic() < deadline + self.first_task_grace):
                        harvest()  # grace: wait for a first result, submit nothing new
                        continue
                    status = "budget"
                    break
                fill()
                if not in_flight:
                    left = budget_left()
                    if self._stop:
                        status = "stopped"
                    elif exhausted or engine.done():
                        pass
                    elif left is not None and left <= 0:
                        status = "budget"
                    elif deadline is not None and time.monotonic() >= deadline:
                        status = "budget"
                    else:
                        self.progress.log(f"{engine.name} has no task to hand out; ending the run")
                    break
                harvest()
                if not ordered and time.monotonic() - last_checkpoint >= self.checkpoint_seconds:
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
                    collect()  # what has finished is recorded
                    final = [self._verified(c) for c in engine.finish()]
                    if final:
                        record(final)
                        store.record_many(run_id, final,
                                          companions=self._companions(store, final))
                        self._count_verdicts(counts, final)
            except BaseException:
                status = "failed"
                raise
            finally:
                for _, fut in in_flight.values():
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
            tasks_total=store.finished_count(run_id),
            seconds=time.monotonic() - start,
            **counts,
        )

    @staticmethod
    def _count_verdicts(counts: dict, pairs: list) -> None:
        for _, ev in pairs:
            verdict = _verdict(ev)
            counts["verified"] += verdict in ("verified", "proven")
            counts["refuted"] += verdict == "refuted"

    def _verified(self, candidate: Candidate) -> tuple[Candidate, Any]:
        """``(candidate, evidence)``; a verifier that restates the claim (e.g. the measured
        error of a program) replaces the candidate's claim by its own."""
        if self.verifier is None:
            return candidate, None
        try:
            evidence = self.verifier(candidate)
        except Exception as exc:  # a verifier crash must not lose the candidate
            return candidate, {"verdict": "inconclusive", "error": f"{type(exc).__name__}: {exc}"}
        restated = _field(evidence, "verified_claim")
        if restated and restated != candidate.claim:
            candidate = replace(candidate, claim=restated)
        return candidate, evidence

    def _companions(self, store: Store, pairs: list) -> list[tuple[Candidate, Any]]:
        """The formulas the families of verified candidates need as rows, verified alike.

        An ESMA pattern's contracted PCF and a family's canonical representative get their
        own claims (exact Möbius images, :func:`discovery.families.companions`) and their own
        verification, and are recorded in the task's transaction.
        """
        from discovery.families import AnyOf, companions

        out: list[tuple[Candidate, Any]] = []
        seen: set[str] = set()
        for candidate, evidence in pairs:
            if _verdict(evidence) not in ("verified", "proven") and self.verifier is not None:
                continue
            try:
                extra = companions(candidate, known=AnyOf(store, seen))
            except Exception as exc:  # a family is a convenience: never lose the candidate
                self.progress.log(f"no family for {candidate.key}: {type(exc).__name__}: {exc}")
                continue
            for c in extra:
                seen.add(c.key)
                out.append(self._verified(c))
        return out

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


def _field(evidence: Any, name: str) -> Any:
    if evidence is None:
        return None
    if isinstance(evidence, Mapping):
        return evidence.get(name)
    return getattr(evidence, name, None)


def _verdict(evidence: Any) -> str | None:
    return _field(evidence, "verdict")


def _safe_state(engine: Engine) -> dict | None:
    try:
        state = engine.state()
    except Exception:  # never lose the run's end because a snapshot failed
        return None
    return state if isinstance(state, Mapping) else None
