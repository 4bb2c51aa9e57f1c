"""Campaign files: strict validation before anything is written, budgets, resume."""

from __future__ import annotations

from pathlib import Path

import pytest

from discovery.campaign import (
    CampaignError,
    build_engine,
    campaign_from_dict,
    load_campaign,
    run_campaign,
)
from discovery.store import Store
from solvers.errors import DiscoveryError, EngineError

CAMPAIGNS = Path(__file__).resolve().parents[1] / "scripts" / "campaigns"

GOOD = """
[campaign]
name = "unit"
db = "{db}"
executor = "serial"
verify = false

[[engine]]
name = "toy"
[engine.config]
tasks = 6

[[engine]]
name = "toy"
max_tasks = 2
[engine.config]
tasks = 4
modulus = 3
"""


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "campaign.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["demo.toml", "overnight.toml"])
def test_shipped_campaigns_are_valid(name):
    c = load_campaign(CAMPAIGNS / name)
    assert c.db == "conjectures.db"
    assert c.executor == "local"
    assert c.verify is True
    assert "esma" in {e.name for e in c.engines}
    required = {"esma": {"constant", "degree", "coeff", "signs", "depth"}, "cmf": {"cmf"},
                "blind-delta": {"a_degree", "b_degree", "coeff"}}
    for e in c.engines:
        assert required[e.name] <= set(e.config)
    assert c.hours is not None and (c.hours <= 0.1 if name == "demo.toml" else c.hours >= 4)


def test_shipped_campaign_engines_can_be_built():
    build_engine("toy", {})  # importing search/<name>.py on demand
    for spec in load_campaign(CAMPAIGNS / "demo.toml").engines:
        assert build_engine(spec.name, spec.config).name == spec.name


def test_a_campaign_runs_every_engine_into_one_store_and_resumes(tmp_path):
    db = tmp_path / "c.db"
    campaign = load_campaign(write(tmp_path, GOOD.format(db=db)))
    result = run_campaign(campaign, progress="quiet")
    assert result.status == "budget"  # the second engine stopped at max_tasks = 2
    assert [(r.engine, r.status, r.tasks) for r in result.runs] == [
        ("toy", "finished", 6),
        ("toy", "budget", 2),
    ]
    with Store(db, readonly=True) as s:
        assert [(r.name, r.finished_tasks) for r in s.runs()] == [("unit", 6), ("unit", 2)]
        n = len(s)
    again = run_campaign(campaign, progress="quiet", max_tasks=10)
    assert [(r.tasks, r.skipped) for r in again.runs] == [(0, 6), (2, 2)]
    assert again.status == "finished"
    with Store(db, readonly=True) as s:
        assert len(s) == n  # modulus 3 of the second engine adds no new formula
        assert [r.finished_tasks for r in s.runs()] == [6, 4]
        assert sum(r.times_found for r in s.query()) == 6 * 3 + 4 * 3


def test_the_time_budget_is_shared_and_cli_overrides_it(tmp_path):
    db = tmp_path / "c.db"
    text = GOOD.format(db=db).replace('verify = false', 'verify = false\nhours = 1.0')
    campaign = load_campaign(write(tmp_path, text))
    assert campaign.hours == 1.0
    result = run_campaign(campaign, progress="quiet", hours=1e-9)
    assert [r.status for r in result.runs] == ["budget", "budget"]
    assert all(r.tasks == 0 for r in result.runs)


def test_the_injected_verifier_is_used(tmp_path):
    db = tmp_path / "c.db"
    campaign = load_campaign(write(tmp_path, GOOD.format(db=db)))
    result = run_campaign(
        campaign, progress="quiet", verify=True,
        verifier=lambda c: {"verdict": "verified", "digits": 12},
    )
    assert sum(r.verified for r in result.runs) == 6 * 3 + 2 * 3
    with Store(db, readonly=True) as s:
        assert {r.status for r in s.query()} == {"verified"}


MALFORMED = {
    "not-toml": ("[campaign\nname = 1", "malformed TOML"),
    "no-campaign-table": ('[[engine]]\nname = "toy"\n', "missing the \\[campaign\\] table"),
    "no-name": ('[campaign]\nexecutor = "serial"\n[[engine]]\nname = "toy"\n',
                "missing key 'name'"),
    "unknown-key": ('[campaign]\nname = "x"\nhour = 1\n[[engine]]\nname = "toy"\n',
                    "unknown key 'hour'"),
    "unknown-top-level": ('[campaign]\nname = "x"\n[engines]\nname = "toy"\n',
                          "unknown top-level key 'engines'"),
    "wrong-type": ('[campaign]\nname = "x"\nhours = "8"\n[[engine]]\nname = "toy"\n',
                   "'hours' must be a number"),
    "bool-is-not-int": ('[campaign]\nname = "x"\nworkers = true\n[[engine]]\nname = "toy"\n',
                        "'workers' must be an integer"),
    "negative-hours": ('[campaign]\nname = "x"\nhours = -1\n[[engine]]\nname = "toy"\n',
                       "greater than 0"),
    "no-engines": ('[campaign]\nname = "x"\n', "at least one \\[\\[engine\\]\\]"),
    "unknown-executor": ('[campaign]\nname = "x"\nexecutor = "gpu"\n[[engine]]\nname = "toy"\n',
                         "'executor' must be one of 'serial', .*, not 'gpu'"),
    "scheduler-without-dask": (
        '[campaign]\nname = "x"\nscheduler = "tcp://h:1"\n[[engine]]\nname = "toy"\n',
        "needs executor",
    ),
    "engine-unknown-key": ('[campaign]\nname = "x"\n[[engine]]\nname = "toy"\nbudget = 3\n',
                           "unknown key 'budget'"),
    "duplicate-engine": ('[campaign]\nname = "x"\n[[engine]]\nname = "toy"\n'
                         '[[engine]]\nname = "toy"\n', "duplicates"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_campaign_is_refused_with_one_line(tmp_path, case):
    text, message = MALFORMED[case]
    with pytest.raises(CampaignError, match=message) as info:
        load_campaign(write(tmp_path, text))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "engine, config, message",
    [
        ("no-such-engine", {}, "Unknown engine 'no-such-engine'"),
        ("toy", {"taks": 3}, "toy: unknown option 'taks' \\(allowed: fail, modulus, "),
        ("toy", {"tasks": -3}, r"in \[0, 1000000\]"),
    ],
)
def test_bad_engines_are_refused_before_the_store_is_created(tmp_path, engine, config, message):
    db = tmp_path / "never.db"
    campaign = campaign_from_dict(
        {"campaign": {"name": "x", "db": str(db), "executor": "serial"},
         "engine": [{"name": "toy"}, {"name": engine, "config": config}]}
    )
    with pytest.raises(EngineError, match=message):
        run_campaign(campaign, progress="quiet", verify=False)
    assert not db.exists()


def test_missing_campaign_file(tmp_path):
    with pytest.raises(CampaignError, match="No campaign file"):
        load_campaign(tmp_path / "nope.toml")
    with pytest.raises(CampaignError, match="directory"):
        load_campaign(tmp_path)


def test_a_bad_store_stops_the_campaign_before_it_runs(tmp_path):
    db = tmp_path / "notes.db"
    db.write_text("my notes, not a database\n")
    campaign = load_campaign(write(tmp_path, GOOD.format(db=db)))
    with pytest.raises(DiscoveryError, match="not a conjecture store"):
        run_campaign(campaign, progress="quiet")
    assert db.read_text() == "my notes, not a database\n"
