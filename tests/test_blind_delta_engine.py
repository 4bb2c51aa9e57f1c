"""The Blind-δ engine through the runner: every PCF of a domain gets one dynamics row."""

from __future__ import annotations

import mpmath

from discovery.runner import Runner
from discovery.store import Store
from search.base import make_engine
from solvers.blind_delta import domain_size

SMALL = {"a_degree": 1, "b_degree": 1, "coeff": 2, "chunk": 100, "depth": 400}


def _run(store: Store, max_tasks: int | None = None):
    engine = make_engine("blind-delta", SMALL)
    return Runner(store, engine, "serial", verify=True, progress="quiet",
                  handle_signals=False, max_tasks=max_tasks).run()


def test_a_domain_is_scanned_whole_resumably_and_stores_no_conjectures(tmp_path):
    path = tmp_path / "bd.db"
    size = domain_size(1, 1, 2)
    assert size == (5 * 5 - 1) ** 2  # a and b: 25 linear polynomials each, minus zero
    with Store(path) as store:
        first = _run(store, max_tasks=2)
        assert first.tasks == 2 and store.count_dynamics() == 200
    with Store(path) as store:  # the same command again: the run resumes
        second = _run(store)
        assert second.tasks_total == -(-size // 100)
        assert store.count_dynamics() == size
        assert len(store) == 0  # dynamics are data, not conjectures
        counts = {s: store.count_dynamics(s) for s in ("converges", "diverges", "terminates",
                                                         "unknown")}
        assert sum(counts.values()) == size and counts["converges"] > size // 2
        cols = store.dynamics()
        rows = {(a, b): i for i, (a, b) in enumerate(zip(cols["a"], cols["b"], strict=True))}
        # Euler: PCF(n + 1, n) = 1/(e - 2); and PCF(1, 1) is the golden ratio.
        i = rows[((1, 1), (0, 1))]
        assert cols["status"][i] == "converges"
        assert abs(cols["limit_float"][i] - float(1 / (mpmath.e - 2))) < 1e-12
        j = rows[((1, 0), (1, 0))]
        assert abs(cols["limit_float"][j] - float(mpmath.phi)) < 1e-12
        # b(n) = n - 1 vanishes at n = 1: the PCF terminates.
        assert cols["status"][rows[((1, 1), (-1, 1))]] == "terminates"


def test_a_task_of_a_domain_with_unequal_degrees():
    """deg a <= 1, deg b <= 2: the rows split as a (2 coefficients) then b (3)."""
    import numpy as np

    from search.blind_delta import BlindDeltaEngine, run_task
    from solvers.blind_delta import domain

    cfg = {"a_degree": 1, "b_degree": 2, "coeff": 2, "depth": 400, "chunk": 8}
    rows = domain(1, 2, 2)
    assert rows.shape == (domain_size(1, 2, 2), 5) == ((5 * 5 - 1) * (5**3 - 1), 5)
    at = int(np.flatnonzero((rows == [1, 2, 0, 0, 1]).all(axis=1))[0])  # PCF(2n + 1, n^2)
    engine = BlindDeltaEngine(cfg)
    task = next(t for t in engine.ask(engine.total()) if t.payload["start"] <= at
                < t.payload["stop"])
    (cand,) = run_task(task)
    out = engine.data(task, [cand])
    assert len(out) == task.payload["stop"] - task.payload["start"]
    row = out[at - task.payload["start"]]
    assert (tuple(row["a"]), tuple(row["b"])) == ((1, 2), (0, 0, 1))
    assert row["status"] == "converges"
    # Brouncker / Lambert: 1 + 1/(3 + 4/(5 + 9/(7 + ...))) = 4/pi
    assert abs(float(row["limit"][:18]) - float(4 / mpmath.pi)) < 1e-12
