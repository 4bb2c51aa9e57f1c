"""The runner: ask/tell loop, verification, exact resume, budgets, graceful stop, executors."""

from __future__ import annotations

import os
import re
import signal
from fractions import Fraction

import mpmath
import pytest

from discovery.executors import SerialExecutor, make_executor
from discovery.progress import PlainProgress
from discovery.runner import Runner, RunSummary
from discovery.store import Store
from search.base import Candidate, EngineBase, Task, register_executor
from search.toy import ToyEngine
from solvers.errors import DiscoveryError, EngineError

CLAIM = re.compile(r"\((\d+)\+sqrt\((\d+)\)\)/(\d+)")


def toy_verifier(candidate: Candidate) -> dict:
    """Check a constant-coefficient PCF a + b/(a + b/...) against its claim, independently.

    The formula side is an exact convergent (Fractions); the claim side is evaluated with a
    local mpmath context. Returns the digits on which both agree.
    """
    (a,), (b,) = candidate.formula["a"], candidate.formula["b"]
    x = Fraction(a)
    for _ in range(400):  # convergents of a + b/(a + b/(...)) converge geometrically
        x = a + Fraction(b) / x
    ctx = mpmath.MPContext()
    ctx.dps = 60
    p, d, k = (int(g) for g in CLAIM.fullmatch(candidate.claim).groups())
    claim = (p + ctx.sqrt(d)) / k
    err = abs(ctx.mpf(x.numerator) / x.denominator - claim)
    digits = 50 if err == 0 else max(0, min(50, int(-ctx.log10(err))))
    return {"verdict": "verified" if digits >= 40 else "refuted", "digits": digits, "depth": 400}


def snapshot(store: Store) -> dict:
    """Everything a run must reproduce exactly (timestamps aside)."""
    return {
        "conjectures": sorted(
            (r.key, r.status, r.digits, r.times_found, r.claim) for r in store.query()
        ),
        "relations": sorted((r.src, r.type, r.dst) for r in store.relations()),
        "finished": sorted(
            (run.name, run.engine, key) for run in store.runs()
            for key in store.finished_tasks(run.id)
        ),
    }


def run_toy(store, config=None, executor="serial", **kw) -> RunSummary:
    kw.setdefault("progress", "quiet")
    return Runner(store, ToyEngine(config or {"tasks": 10}), executor, toy_verifier, **kw).run()


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "r.db") as s:
        yield s


def test_toy_verifier_is_real_mathematics():
    golden = Candidate("pcf", "k", {"a": [1], "b": [1]}, "(1+sqrt(5))/2")
    assert toy_verifier(golden)["verdict"] == "verified"
    wrong = Candidate("pcf", "k", {"a": [1], "b": [1]}, "(1+sqrt(5))/3")
    assert toy_verifier(wrong) == {"verdict": "refuted", "digits": 0, "depth": 400}


def test_a_run_records_verified_and_refuted_conjectures(store):
    summary = run_toy(store)
    assert (summary.status, summary.tasks, summary.skipped, summary.failed) == (
        "finished", 10, 0, 0
    )
    assert summary.candidates == 30
    assert summary.new == 7  # formulas m = 0..6 of the toy enumeration
    assert len(store) == 7
    assert sum(r.times_found for r in store.query()) == 30
    refuted = store.query(status="refuted")
    assert [r.claim for r in refuted] == ["(2+sqrt(12))/3"]  # m = 4: the deliberately false one
    assert summary.refuted == sum(1 for i in range(10) for j in range(3) if (i + j) % 7 == 4)
    for rec in store.query(status="verified"):
        assert rec.digits == 50
    run = store.runs()[0]
    assert (run.status, run.finished_tasks, run.state) == ("finished", 10, {"next": 10, "told": 10})
    assert store.integrity_check() == "ok"


def test_rerunning_a_finished_run_redoes_nothing(store):
    run_toy(store)
    before = snapshot(store)
    again = run_toy(store)
    assert (again.tasks, again.skipped, again.candidates, again.new) == (0, 10, 0, 0)
    assert snapshot(store) == before
    assert store.runs()[0].resumed == 1


def test_resume_after_a_task_budget_equals_an_uninterrupted_run(tmp_path):
    with Store(tmp_path / "ref.db") as ref:
        run_toy(ref)
        expected = snapshot(ref)
    with Store(tmp_path / "parts.db") as s:
        first = run_toy(s, max_tasks=4)
        assert (first.status, first.tasks) == ("budget", 4)
        assert s.runs()[0].status == "budget"
        second = run_toy(s, max_tasks=4)  # the budget counts every session: nothing left
        assert (second.status, second.tasks, second.tasks_total) == ("budget", 0, 4)
        third = run_toy(s, max_tasks=7)
        assert (third.tasks, third.skipped, third.tasks_total) == (3, 4, 7)
        fourth = run_toy(s)
        assert (fourth.status, fourth.tasks, fourth.skipped) == ("finished", 3, 7)
        assert fourth.tasks_total == 10
        assert snapshot(s) == expected
        assert len(s.runs()) == 1


def test_a_different_configuration_is_a_different_run(store):
    run_toy(store, {"tasks": 3})
    run_toy(store, {"tasks": 5})
    assert [(r.id, r.finished_tasks) for r in store.runs()] == [(1, 3), (2, 5)]


def test_stop_records_what_is_finished_and_resume_completes(tmp_path):
    with Store(tmp_path / "ref.db") as ref:
        run_toy(ref)
        expected = snapshot(ref)
    with Store(tmp_path / "s.db") as s:
        seen = []

        def stopping_verifier(c):
            seen.append(c)
            if len(seen) == 7:  # in the middle of task 2 (3 candidates per task)
                runner.stop()
            return toy_verifier(c)

        runner = Runner(s, ToyEngine({"tasks": 10}), "serial", stopping_verifier,
                        progress="quiet")
        summary = runner.run()
        assert summary.status == "stopped"
        assert summary.tasks == 3  # the task being verified is finished and recorded
        assert s.runs()[0].status == "stopped"
        assert run_toy(s).status == "finished"
        assert snapshot(s) == expected


def test_sigterm_stops_gracefully(store):
    calls = []

    def verifier(c):
        calls.append(c)
        if len(calls) == 4:
            os.kill(os.getpid(), signal.SIGTERM)
        return toy_verifier(c)

    old = signal.getsignal(signal.SIGTERM)
    summary = Runner(store, ToyEngine({"tasks": 10}), "serial", verifier, progress="quiet").run()
    assert summary.status == "stopped"
    assert summary.tasks == 2
    assert len(store.finished_tasks(summary.run_id)) == 2
    assert signal.getsignal(signal.SIGTERM) is old  # handlers restored


def test_time_budget_zero_runs_nothing(store):
    summary = run_toy(store, budget_hours=0)
    assert (summary.status, summary.tasks) == ("budget", 0)
    with pytest.raises(DiscoveryError, match="budget"):
        run_toy(store, budget_hours=-1)


def test_a_session_whose_time_ends_before_any_result_waits_for_its_first_tasks(store):
    """A first task (0.5 s, like a cold JIT compile) outlasts a 0.2 s budget: without the
    grace the run records nothing, with it the tasks in flight finish and nothing new is
    submitted."""
    def trial(**kw):
        pool = make_executor("local", workers=1)  # a cold worker each time
        try:
            return run_toy(store, {"tasks": 50, "sleep": 0.5}, pool,
                           budget_hours=0.2 / 3600, **kw)
        finally:
            pool.close()

    cut = trial(first_task_grace=0, run_name="no-grace")
    assert (cut.status, cut.tasks) == ("budget", 0)
    summary = trial()
    assert summary.status == "budget"
    assert 1 <= summary.tasks <= 2  # the batch in flight at the deadline, no more


def test_failed_tasks_are_not_finished_and_are_retried(store):
    summary = run_toy(store, {"tasks": 5, "fail": [2]})
    assert (summary.status, summary.tasks, summary.failed) == ("finished", 4, 1)
    assert store.finished_tasks(summary.run_id) == {"toy:0", "toy:1", "toy:3", "toy:4"}
    again = run_toy(store, {"tasks": 5, "fail": [2]})
    assert (again.tasks, again.skipped, again.failed) == (0, 4, 1)


def test_too_many_failures_abandon_the_run(store):
    with pytest.raises(EngineError, match="failed"):
        run_toy(store, {"tasks": 5, "fail": [0, 1, 2]}, max_failures=1)
    assert store.runs()[0].status == "failed"


def test_a_verifier_crash_is_recorded_as_inconclusive(store):
    def broken(c):
        raise ArithmeticError("precision exhausted")

    Runner(store, ToyEngine({"tasks": 1}), "serial", broken, progress="quiet").run()
    recs = store.query()
    assert {r.status for r in recs} == {"inconclusive"}
    assert recs[0].evidence[0]["error"] == "ArithmeticError: precision exhausted"


def test_unverified_runs_record_proposed_conjectures(store):
    Runner(store, ToyEngine({"tasks": 2}), "serial", verify=False, progress="quiet").run()
    assert {r.status for r in store.query()} == {"proposed"}


def test_checkpoints_save_the_engine_state(store):
    states = []

    class Spy(ToyEngine):
        def tell(self, task, result):
            super().tell(task, result)
            states.append(store.run(1).state)

    Runner(store, Spy({"tasks": 3}), "serial", toy_verifier, progress="quiet",
           checkpoint_seconds=0).run()
    # After each completed task the loop checkpoints; tell runs before, so lagging by one.
    assert states[1:] == [{"next": 2, "told": 1}, {"next": 3, "told": 2}]
    assert store.run(1).state == {"next": 3, "told": 3}


# -- a sequential engine: tell() drives ask() --------------------------------------------------


@register_executor("collatz-test")
def _collatz_task(task: Task) -> list[Candidate]:
    v = task.payload["v"]
    nxt = v // 2 if v % 2 == 0 else 3 * v + 1
    return [Candidate("step", f"collatz:{v}", {"v": v}, f"next = {nxt}", None, {"next": nxt})]


class CollatzEngine(EngineBase):
    """The Collatz trajectory of 27, one step per task: each task depends on the last result."""

    name = "collatz-test"
    ordered = True

    def __init__(self, steps):
        self.config = {"steps": steps}
        self.values = [27]
        self.pending = False
        self.restored = None

    def ask(self, n):
        if self.pending or self.done():
            return []
        self.pending = True
        return [Task(self.name, f"step:{len(self.values)}", {"v": self.values[-1]})]

    def tell(self, task, result):
        self.pending = False
        self.values.append(result[0].evidence["next"])

    def done(self):
        return len(self.values) > self.config["steps"]

    def state(self):
        return {"values": list(self.values)}

    def restore(self, state):
        self.restored = state
        self.values = list(state["values"])


def test_a_sequential_engine_resumes_from_its_state(store):
    first = CollatzEngine(20)
    Runner(store, first, "serial", verify=False, progress="quiet", max_tasks=8).run()
    assert first.values[:4] == [27, 82, 41, 124]
    second = CollatzEngine(20)
    summary = Runner(store, second, "serial", verify=False, progress="quiet").run()
    assert (summary.skipped, summary.tasks, summary.tasks_total) == (0, 12, 20)
    assert second.restored == {"values": first.values}
    assert second.values[:21] == [27, 82, 41, 124, 62, 31, 94, 47, 142, 71, 214, 107, 322, 161,
                                  484, 242, 121, 364, 182, 91, 274]
    assert len(store) == 20


# -- executors -----------------------------------------------------------------------------------


def test_plain_progress_lines_on_stderr(store, capsys):
    Runner(store, ToyEngine({"tasks": 3}), "serial", toy_verifier,
           progress=PlainProgress(every=0)).run()
    err = capsys.readouterr().err
    assert "[toy/toy] started (3 tasks)" in err
    assert "3/3 tasks (100%), 9 candidates" in err


def test_unknown_executor_is_an_error():
    with pytest.raises(DiscoveryError, match="Unknown executor"):
        make_executor("cluster-of-abacuses")
    with pytest.raises(DiscoveryError, match="dask"):
        make_executor("local", scheduler="tcp://localhost:8786")


def test_local_workers_get_their_share_of_the_library_threads(monkeypatch):
    """Two workers on this machine get cpu_count // 2 BLAS/OpenMP/rayon threads each (so a
    multithreaded solver does not oversubscribe the cores); a value the user set wins, and
    the client's environment is restored on close."""
    from discovery.executors import THREAD_VARIABLES

    for v in THREAD_VARIABLES:
        monkeypatch.delenv(v, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")
    pool = make_executor("local", workers=2)
    try:
        share = str(max(1, (os.cpu_count() or 1) // 2))
        assert pool._pool.submit(os.getenv, "OMP_NUM_THREADS").result() == share
        assert pool._pool.submit(os.getenv, "RAYON_NUM_THREADS").result() == share
        assert pool._pool.submit(os.getenv, "MKL_NUM_THREADS").result() == "3"
    finally:
        pool.close()
    assert "OMP_NUM_THREADS" not in os.environ and os.environ["MKL_NUM_THREADS"] == "3"


def _dask_available() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


EXECUTOR_PARAMS = [
    "serial",
    "local",
    pytest.param(
        "dask",
        marks=pytest.mark.skipif(not _dask_available(), reason="dask[distributed] not installed"),
    ),
]
# Small configurations per engine (a few tasks each, so that they really are distributed).
ENGINE_CONFIGS = {
    "toy": {"tasks": 12, "per_task": 3, "modulus": 5},
    "esma": {"constant": "e", "coeff": 1, "signs": 2, "depth": 60, "chunk": 3},
}


@pytest.mark.parametrize("engine_name", sorted(ENGINE_CONFIGS))
@pytest.mark.parametrize("executor", EXECUTOR_PARAMS)
def test_every_executor_finds_the_same_conjectures(tmp_path, executor, engine_name):
    from discovery.campaign import build_engine

    config = ENGINE_CONFIGS[engine_name]
    verifier = toy_verifier if engine_name == "toy" else None
    with Store(tmp_path / "serial.db") as ref:
        Runner(ref, build_engine(engine_name, config), SerialExecutor(), verifier,
               verify=verifier is not None, progress="quiet").run()
        expected = snapshot(ref)
    assert expected["conjectures"]
    with Store(tmp_path / f"{executor}.db") as s:
        pool = make_executor(executor, workers=2)
        try:
            summary = Runner(s, build_engine(engine_name, config), pool, verifier,
                             verify=verifier is not None, progress="quiet").run()
        finally:
            pool.close()
        assert summary.status == "finished"
        assert snapshot(s) == expected


def test_the_workbench_verifier_checks_toy_candidates():
    from discovery.verifiers import verify_candidate
    from search.toy import engine_task, run_toy_task

    cands = run_toy_task(engine_task(3, {"per_task": 2}))  # m = 3, 4: one true, one false
    verdicts = [verify_candidate(c, digits=30).verdict for c in cands]
    assert [c.claim for c in cands] == ["(1+sqrt(9))/2", "(2+sqrt(12))/3"]  # 2, and not 2.15
    assert verdicts == ["verified", "refuted"]


def test_rich_progress_runs_a_whole_run(store):
    from discovery.progress import RichProgress

    summary = Runner(store, ToyEngine({"tasks": 4}), "serial", toy_verifier,
                     progress=RichProgress()).run()
    assert (summary.status, summary.tasks) == ("finished", 4)


def test_a_task_budget_equal_to_the_search_is_a_finished_run(store):
    summary = run_toy(store, {"tasks": 4}, max_tasks=4)
    assert (summary.status, summary.tasks) == ("finished", 4)
