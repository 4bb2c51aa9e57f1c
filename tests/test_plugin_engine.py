"""A new engine, task executor and verifier plugged in from this file alone, run by the CLI.

Nothing of the workbench is edited: the engine (``squares_plugin``), its task executor and a
verifier for a new kind of candidate (``squares``) are registered with the public decorators
(``search.base.register_engine``/``register_executor``,
``discovery.verifiers.register_verifier``), a campaign TOML names the engine, and
``discovery run`` runs it in-process (typer's ``CliRunner``) on the serial executor. The
registries are restored afterwards.
"""

from __future__ import annotations

import json
import math
from contextlib import contextmanager
from pathlib import Path

from typer.testing import CliRunner

import discovery.cli
import discovery.verifiers as verifiers
import search.base as base
from discovery.store import Store
from search.base import Candidate, EngineBase, Task

ENGINE = "squares_plugin"
KIND = "squares"
WRONG = 3  # the candidate for k = 3 claims a false square, to be refuted


class SquaresEngine(EngineBase):
    """Claims ``k^2`` for k = 1..n, ``per_task`` numbers per task (k = 3 gets it wrong)."""

    name = ENGINE

    def __init__(self, config):
        unknown = set(config) - {"n", "per_task"}
        if unknown:
            raise ValueError(f"unknown squares option(s): {sorted(unknown)}")
        self.config = {"n": 4, "per_task": 2, **config}
        self._next = 1

    def ask(self, n):
        tasks = []
        while len(tasks) < n and not self.done():
            lo = self._next
            hi = min(lo + self.config["per_task"], self.config["n"] + 1)
            tasks.append(Task(ENGINE, f"{ENGINE}:{lo}-{hi - 1}", {"lo": lo, "hi": hi}))
            self._next = hi
        return tasks

    def done(self):
        return self._next > self.config["n"]

    def total(self):
        return -(-self.config["n"] // self.config["per_task"])


def square_key(k: int) -> str:
    return f"{KIND}:{k}"


def run_squares(task: Task) -> list[Candidate]:
    out = []
    for k in range(task.payload["lo"], task.payload["hi"]):
        value = k * k + (1 if k == WRONG else 0)
        relations = (("derived-from", square_key(k - 1)),) if k > 1 else ()
        out.append(Candidate(KIND, square_key(k), {"k": k, "value": value},
                             f"{value} = {k}^2", None, {"proposed_by": "squares", "k": k},
                             relations))
    return out


def verify_squares(candidate: Candidate, digits: int, **kwargs) -> dict:
    """Exact check of ``value = k^2``, with this verifier's own evidence fields."""
    k, value = candidate.formula["k"], candidate.formula["value"]
    root = math.isqrt(value)
    ok = root * root == value and root == k
    return {
        "verdict": "verified" if ok else "refuted",
        "digits": len(str(value)),
        "method": "exact integer square root",
        "isqrt": root,
        "remainder": value - root * root,
        "requested": digits,
    }


@contextmanager
def plugged_in():
    """Register the plugin (engine, executor, verifier); remove it afterwards."""
    assert ENGINE not in base.engine_names() and KIND not in verifiers.verifier_kinds()
    base.register_engine(ENGINE)(SquaresEngine)
    base.register_executor(ENGINE)(run_squares)
    verifiers.register_verifier(KIND)(verify_squares)
    try:
        yield
    finally:
        base._ENGINES.pop(ENGINE, None)
        base._EXECUTORS.pop(ENGINE, None)
        verifiers._VERIFIERS.pop(KIND, None)


CAMPAIGN = """
[campaign]
name = "plugin-campaign"
executor = "local"        # overridden on the command line
verify = true
verify_digits = 20

[[engine]]
name = "{engine}"
[engine.config]
n = 4
per_task = 2
"""


def write_campaign(tmp_path: Path) -> Path:
    path = tmp_path / "plugin.toml"
    path.write_text(CAMPAIGN.format(engine=ENGINE))
    return path


def invoke_run(campaign: Path, db: Path):
    return CliRunner().invoke(
        discovery.cli.app,
        ["run", str(campaign), "--executor", "serial", "--db", str(db), "--json"],
    )


def test_a_plugged_in_engine_and_verifier_run_through_the_cli(tmp_path):
    db = tmp_path / "plugin.db"
    with plugged_in():
        res = invoke_run(write_campaign(tmp_path), db)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)

    assert out["campaign"] == "plugin-campaign" and out["status"] == "finished"
    assert [(e["name"], e["tasks"], e["tasks_total"], e["status"]) for e in out["engines"]] == [
        (ENGINE, 2, 2, "finished")
    ]
    assert out["run"] == out["engines"][0]["run"] and out["tasks_total"] == 2
    assert out["found"] == {"total": 4, "by_status": {"verified": 3, "refuted": 1}}
    (summary,) = out["runs"]
    assert (summary["candidates"], summary["new"], summary["verified"], summary["refuted"]) == (
        4, 4, 3, 1)
    listed = {c["key"]: c["status"] for c in out["conjectures"]}
    assert listed == {square_key(k): "refuted" if k == WRONG else "verified" for k in (1, 2, 3, 4)}

    with Store(db, readonly=True) as store:
        (run,) = store.runs()
        assert (run.name, run.engine, run.status, run.finished_tasks) == (
            "plugin-campaign", ENGINE, "finished", 2)
        assert store.finished_tasks(run.id) == {f"{ENGINE}:1-2", f"{ENGINE}:3-4"}
        records = {r.key: r for r in store.query(kind=KIND)}
        assert sorted(records) == [square_key(k) for k in (1, 2, 3, 4)]
        for k in (1, 2, 3, 4):
            rec = records[square_key(k)]
            value = k * k + (k == WRONG)
            assert rec.claim == f"{value} = {k}^2" and rec.engine == ENGINE
            assert rec.status == ("refuted" if k == WRONG else "verified")
            assert rec.digits == (None if k == WRONG else len(str(value)))
            (ev,) = rec.evidence
            # the verifier's own fields, as it gave them
            assert ev["verdict"] == rec.status
            assert ev["method"] == "exact integer square root"
            assert ev["isqrt"] == math.isqrt(value)
            assert ev["remainder"] == (1 if k == WRONG else 0)
            assert ev["requested"] == 20  # the campaign's verify_digits reached the verifier
            # what the store adds: the engine, the run, and the engine's own evidence
            assert (ev["engine"], ev["run"]) == (ENGINE, run.id)
            assert ev["search"] == {"proposed_by": "squares", "k": k}
        edges = sorted((r.src, r.type, r.dst) for r in store.relations(type="derived-from"))
        assert edges == [(square_key(k), "derived-from", square_key(k - 1)) for k in (2, 3, 4)]
        found_by = {r.src for r in store.relations(type="found-by", dst=f"run:{run.id}")}
        assert found_by == set(records)


def test_rerunning_the_plugin_campaign_resumes_it(tmp_path):
    db = tmp_path / "plugin.db"
    campaign = write_campaign(tmp_path)
    with plugged_in():
        first = invoke_run(campaign, db)
        again = invoke_run(campaign, db)
    assert first.exit_code == 0 and again.exit_code == 0, again.output
    out = json.loads(again.stdout)
    assert [(e["name"], e["tasks"], e["tasks_total"]) for e in out["engines"]] == [
        (ENGINE, 0, 2)]
    assert out["run"] == json.loads(first.stdout)["run"]
    with Store(db, readonly=True) as store:
        assert len(store.query(kind=KIND)) == 4 and all(
            r.times_found == 1 for r in store.query(kind=KIND))


def test_the_registries_are_clean_after_the_plugin(tmp_path):
    with plugged_in():
        assert ENGINE in base.engine_names() and KIND in verifiers.verifier_kinds()
    assert ENGINE not in base.engine_names()
    assert ENGINE not in base._EXECUTORS
    assert KIND not in verifiers.verifier_kinds()
    # without the plugin the same campaign is refused, before any store is created
    db = tmp_path / "plugin.db"
    res = invoke_run(write_campaign(tmp_path), db)
    assert res.exit_code == 2
    assert f"Unknown engine {ENGINE!r}" in json.loads(res.stdout)["error"]
    assert not db.exists()
    # and a candidate of the kind is no longer verified by anyone
    lone = Candidate(KIND, square_key(2), {"k": 2, "value": 4}, "4 = 2^2")
    assert verifiers.verify_candidate(lone, digits=20).verdict == "inconclusive"


def test_a_bad_plugin_configuration_is_a_one_line_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(CAMPAIGN.format(engine=ENGINE) + 'colour = "red"\n')  # in [engine.config]
    with plugged_in():
        res = invoke_run(path, tmp_path / "bad.db")
    assert res.exit_code == 2
    assert "bad configuration" in json.loads(res.stdout)["error"]
    assert not (tmp_path / "bad.db").exists()
