"""The runs of the conjecture store: sessions, checkpoints and the tasks of each run.

Package-private to :mod:`discovery.store`: :class:`RunLedger` holds the methods of
:class:`~discovery.store.Store` that book-keep runs, mixed into it. A run is one engine with
one configuration; resuming it (same name, engine and configuration) keeps its id, finished
tasks and state and appends a session to its provenance. Each finished task is written in ONE
transaction with its conjectures, the removal of its pending row and the engine's state, so an
interrupted run resumes exactly, even after ``kill -9``.

Examples
--------
>>> from discovery.store import Store
>>> store = Store(":memory:")
>>> run = store.start_run("demo", "toy", {"n": 1}, provenance={})
>>> store.end_run(run, "stopped", state={"next": 5})
>>> store.run(run)
Run #1 'demo' [toy, stopped, 0 tasks]
>>> store.close()
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from discovery.store_records import RunRecord, _now, dumps, loads
from search.base import Candidate, Task
from solvers.errors import StoreError

__all__ = ["RunLedger", "RUN_STATUSES", "MAX_SESSIONS"]

#: How a run ends (``running`` while a session is open).
RUN_STATUSES = ("running", "finished", "stopped", "budget", "failed")
MAX_SESSIONS = 32  # provenance entries kept per run: the first session and the latest ones


def _config_hash(config: Mapping) -> str:
    """A short digest of a configuration: with the name and engine, it identifies a run."""
    return hashlib.sha256(dumps(dict(config)).encode()).hexdigest()[:24]


class RunLedger:
    """The run and task methods of :class:`~discovery.store.Store` (a mixin).

    It relies on the store's ``transaction``, ``_read``, ``_write``, ``record``, ``get``,
    ``relations`` and ``path``, and on the ``_engines`` (run id -> engine) cache and the
    ``_v2`` flag the store initialises.
    """

    _engines: dict[int, str]
    _v2: bool

    def _has_v2(self) -> bool:
        """True if the file has the v2 tables (a v1 file opened read-only has not)."""
        if not self._v2:
            self._v2 = bool(
                self._read(
                    "SELECT 1 FROM sqlite_master WHERE type='table' AND name='pending_tasks'"
                )
            )
        return self._v2

    def _run_engine(self, run_id: int) -> str:
        cache = self._engines
        if run_id not in cache:
            row = self._read("SELECT engine FROM runs WHERE id = ?", (run_id,))
            if not row:
                raise StoreError(f"No run #{run_id} in {self.path}")
            cache[run_id] = row[0][0]
        return cache[run_id]

    def start_run(
        self,
        name: str,
        engine: str,
        config: Mapping | None = None,
        provenance: Mapping | None = None,
    ) -> int:
        """Start a run, or resume the run with the same name, engine and configuration.

        Returns the run id; a resumed run keeps its id, finished tasks and state.

        Parameters
        ----------
        name, engine : str
            The run's name and engine; with the configuration they identify the run.
        config : dict, optional
            The engine configuration.
        provenance : dict, optional
            Where this session runs (see :func:`discovery.provenance.collect_provenance`,
            which is called when it is ``None``; pass ``{}`` to record only the start
            time). Every call appends ``{"started": <now>, **provenance}`` to the run's
            provenance list, which keeps the first session and the latest ones.

        Examples
        --------
        >>> from discovery.store import Store
        >>> store = Store(":memory:")
        >>> store.start_run("demo", "esma", {"degree": 1}, provenance={"seed": 0})
        1
        >>> store.start_run("demo", "esma", {"degree": 1}, provenance={"seed": 1})  # resumed
        1
        >>> [session["seed"] for session in store.run(1).provenance]
        [0, 1]
        >>> store.start_run("demo", "esma", {"degree": 2}, provenance={})
        2
        >>> store.close()
        """
        config = dict(config or {})
        chash = _config_hash(config)
        if provenance is None:
            from discovery.provenance import collect_provenance

            provenance = collect_provenance()
        now = _now()
        session = {"started": now, **{k: v for k, v in provenance.items() if k != "started"}}
        with self.transaction():
            row = self._read(
                "SELECT id, provenance FROM runs "
                "WHERE name = ? AND engine = ? AND config_hash = ?",
                (name, engine, chash),
            )
            if row:
                run_id, old = row[0]
                sessions = loads(old) or []
                sessions = [*sessions, session] if isinstance(sessions, list) else [session]
                if len(sessions) > MAX_SESSIONS:
                    sessions = sessions[:1] + sessions[-(MAX_SESSIONS - 1) :]
                self._write(
                    "UPDATE runs SET status = 'running', ended = NULL, resumed = resumed + 1, "
                    "provenance = ? WHERE id = ?",
                    (dumps(sessions), run_id),
                )
                return run_id
            cur = self._write(
                "INSERT INTO runs (name, engine, config, config_hash, started, status, "
                "provenance) VALUES (?, ?, ?, ?, ?, 'running', ?)",
                (name, engine, dumps(config), chash, now, dumps([session])),
            )
            return cur.lastrowid

    def run(self, run_id: int) -> RunRecord:
        """The run with this id."""
        rows = self._runs("WHERE r.id = ?", (run_id,))
        if not rows:
            raise StoreError(f"No run #{run_id} in {self.path}")
        return rows[0]

    def runs(self) -> list[RunRecord]:
        """All runs, in order of id."""
        return self._runs("", ())

    def _runs(self, where: str, params: tuple) -> list[RunRecord]:
        provenance = "r.provenance" if self._has_v2() else "NULL"  # v1 file opened read-only
        rows = self._read(
            "SELECT r.id, r.name, r.engine, r.config, r.started, r.ended, r.state, r.status, "
            "r.resumed, (SELECT COUNT(*) FROM finished_tasks f WHERE f.run_id = r.id), "
            f"{provenance} FROM runs r {where} ORDER BY r.id",
            params,
        )
        out = []
        for r in rows:
            sessions = loads(r[10])
            out.append(
                RunRecord(
                    r[0], r[1], r[2], loads(r[3]), r[4], r[5], loads(r[6]), r[7], r[8], r[9],
                    sessions if isinstance(sessions, list) else [],
                )
            )
        return out

    def save_state(self, run_id: int, state: Mapping | None) -> None:
        """Checkpoint an engine's JSON-able state for the run."""
        with self.transaction():
            cur = self._write(
                "UPDATE runs SET state = ? WHERE id = ?",
                (None if state is None else dumps(state), run_id),
            )
            if cur.rowcount == 0:
                raise StoreError(f"No run #{run_id} in {self.path}")

    def end_run(self, run_id: int, status: str = "finished", state: Mapping | None = None) -> None:
        """Mark a run ended (``finished``, ``stopped``, ``budget`` or ``failed``)."""
        if status not in RUN_STATUSES:
            raise StoreError(f"Unknown run status {status!r}; use one of {', '.join(RUN_STATUSES)}")
        with self.transaction():
            if state is not None:
                self.save_state(run_id, state)
            cur = self._write(
                "UPDATE runs SET status = ?, ended = ? WHERE id = ?", (status, _now(), run_id)
            )
            if cur.rowcount == 0:
                raise StoreError(f"No run #{run_id} in {self.path}")

    def finish_task(
        self,
        run_id: int,
        task_key: str,
        candidates_with_evidence: Iterable[tuple[Candidate, Any]] = (),
        *,
        state: Mapping | None = None,
        companions: Iterable[tuple[Candidate, Any]] = (),
        data: list[dict] | None = None,
    ) -> list[int]:
        """Record a finished task's candidates and the task key in ONE transaction.

        That single commit is what makes a resumed run exact after a SIGKILL: either
        the task, all its conjectures, the removal of its pending row and the engine's
        new state are stored, or none of them is. Finishing an already finished task
        changes nothing (except that a stale pending row of it is removed).

        Parameters
        ----------
        run_id : int
            The run.
        task_key : str
            The finished task's key.
        candidates_with_evidence : iterable of (Candidate, evidence)
            What the task produced, with the verifier's evidence (see :meth:`record`).
        state : dict, optional
            The engine's state after it was told this task's result: saved as the
            run's state (as :meth:`save_state` does) in the same transaction.
        companions : iterable of (Candidate, evidence)
            Formulas the candidates' families need as rows (:func:`discovery.families.
            companions`), verified like them: recorded first, in the same transaction, but
            not counted as the task's output.
        data : list of dict, optional
            Rows of convergence dynamics (:mod:`discovery.dynamics`) the task computed,
            written in the same transaction.

        Returns
        -------
        list of int
            The conjecture ids, in the order of the candidates.

        Examples
        --------
        >>> from search.base import Task
        >>> from discovery.store import Store
        >>> store = Store(":memory:")
        >>> run = store.start_run("demo", "toy", provenance={})
        >>> store.add_pending(run, Task("toy", "t1", {"x": 1}))
        >>> store.finish_task(run, "t1", [], state={"told": 1})
        []
        >>> store.pending_tasks(run), store.run(run).state, store.finished_count(run)
        ([], {'told': 1}, 1)
        >>> store.close()
        """
        with self.transaction():
            row = self._read(
                "SELECT candidates FROM finished_tasks WHERE run_id = ? AND task_key = ?",
                (run_id, task_key),
            )
            if row:
                self._write(
                    "DELETE FROM pending_tasks WHERE run_id = ? AND task_key = ?",
                    (run_id, task_key),
                )
                keys = loads(row[0][0]) or []
                return [self.get(k).id for k in keys if k in self]
            for candidate, evidence in companions:
                self.record(candidate, evidence, run_id=run_id)
            if data:
                from discovery.dynamics import add_dynamics

                add_dynamics(self, data, run_id=run_id)
            ids, keys = [], []
            for candidate, evidence in candidates_with_evidence:
                ids.append(self.record(candidate, evidence, run_id=run_id))
                keys.append(candidate.key)
            self._write(
                "INSERT INTO finished_tasks (run_id, task_key, finished, candidates) "
                "VALUES (?, ?, ?, ?)",
                (run_id, task_key, _now(), dumps(keys)),
            )
            self._write(
                "DELETE FROM pending_tasks WHERE run_id = ? AND task_key = ?",
                (run_id, task_key),
            )
            if state is not None:
                self.save_state(run_id, state)
        return ids

    def record_many(
        self,
        run_id: int | None,
        candidates_with_evidence: Iterable[tuple[Candidate, Any]],
        companions: Iterable[tuple[Candidate, Any]] = (),
    ) -> list[int]:
        """Record several ``(candidate, evidence)`` pairs of a run in ONE transaction.

        For candidates an engine hands over outside any task (e.g. at the end of a
        session); each one gets a ``found-by`` relation to the run as in :meth:`record`.

        Returns
        -------
        list of int
            The conjecture ids, in the order of the candidates.
        """
        with self.transaction():
            for candidate, evidence in companions:
                self.record(candidate, evidence, run_id=run_id)
            return [
                self.record(candidate, evidence, run_id=run_id)
                for candidate, evidence in candidates_with_evidence
            ]

    def finished_count(self, run_id: int) -> int:
        """How many tasks this run has finished."""
        return self._read(
            "SELECT COUNT(*) FROM finished_tasks WHERE run_id = ?", (run_id,)
        )[0][0]

    def add_pending(self, run_id: int, task: Task) -> None:
        """Remember a submitted task of a run until :meth:`finish_task` finishes it.

        One transaction. Tasks keep their submission order (``seq``); adding a key that
        is already pending, or already finished, changes nothing. The payload is stored
        with :func:`dumps`, so integers of any size round-trip exactly.

        Examples
        --------
        >>> from search.base import Task
        >>> from discovery.store import Store
        >>> store = Store(":memory:")
        >>> run = store.start_run("demo", "toy", provenance={})
        >>> store.add_pending(run, Task("toy", "b", {"n": 2}))
        >>> store.add_pending(run, Task("toy", "a", {"n": 1}))
        >>> store.add_pending(run, Task("toy", "b", {"n": 99}))   # already pending
        >>> [(t.key, t.payload) for t in store.pending_tasks(run)]
        [('b', {'n': 2}), ('a', {'n': 1})]
        >>> store.close()
        """
        payload = dumps(dict(task.payload))
        with self.transaction():
            self._run_engine(run_id)  # a clear error for an unknown run
            known = self._read(
                "SELECT 1 FROM pending_tasks WHERE run_id = ? AND task_key = ? "
                "UNION ALL SELECT 1 FROM finished_tasks WHERE run_id = ? AND task_key = ?",
                (run_id, task.key, run_id, task.key),
            )
            if known:
                return
            seq = self._read(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM pending_tasks WHERE run_id = ?",
                (run_id,),
            )[0][0]
            self._write(
                "INSERT INTO pending_tasks (run_id, seq, task_key, engine, payload) "
                "VALUES (?, ?, ?, ?, ?)",
                (run_id, seq, task.key, task.engine, payload),
            )

    def pending_tasks(self, run_id: int) -> list[Task]:
        """The run's submitted but unfinished tasks, in submission order."""
        if not self._has_v2():  # a v1 file opened read-only: nothing was ever pending
            return []
        rows = self._read(
            "SELECT engine, task_key, payload FROM pending_tasks WHERE run_id = ? ORDER BY seq",
            (run_id,),
        )
        return [Task(engine, key, loads(payload)) for engine, key, payload in rows]

    def finished_tasks(self, run_id: int) -> set[str]:
        """Keys of the tasks this run has finished."""
        rows = self._read("SELECT task_key FROM finished_tasks WHERE run_id = ?", (run_id,))
        return {r[0] for r in rows}

    def task_candidates(self, run_id: int, task_key: str) -> list[Candidate]:
        """The candidates a finished task produced (to replay ``tell`` on resume)."""
        row = self._read(
            "SELECT candidates FROM finished_tasks WHERE run_id = ? AND task_key = ?",
            (run_id, task_key),
        )
        if not row:
            return []
        out = []
        for key in loads(row[0][0]) or []:
            rec = self.get(key)
            rels = tuple(
                (r.type, r.dst) for r in self.relations(src=key) if r.type != "found-by"
            )
            c = rec.to_candidate()
            out.append(Candidate(c.kind, c.key, c.formula, c.claim, c.constant, c.evidence, rels))
        return out

