"""CMF walks and searches under hostile input: refused at once with the cap in the message."""

from __future__ import annotations

import pytest

from discovery.commands.cmf import MAX_TRAJECTORY_NORM, parse_starts, parse_vector, walk_report
from search.base import make_engine
from search.cmf import MAX_NORM, MAX_START, MAX_WALKS
from solvers.errors import DiscoveryError, EngineError


def test_a_long_trajectory_is_refused_before_its_matrix_is_built():
    with pytest.raises(DiscoveryError, match=f"at most {MAX_TRAJECTORY_NORM}"):
        walk_report("zeta3", (1000, 1), (1, 1), 100)


def test_a_deep_walk_is_refused_by_its_predicted_time():
    with pytest.raises(DiscoveryError, match=r"depth-10000000 walk would take about .* s, over "
                                             r"the budget of 60 s"):
        walk_report("zeta3", (1, 1), (1, 1), 10_000_000)


def test_a_walk_within_budget_still_finds_apery():
    # depth 2000 of zeta3 along (1, 1) from (1, 1): the limit is a Möbius image of zeta(3)
    report = walk_report("zeta3", (1, 1), (1, 1), 2000, max_seconds=60)
    assert report["constant"] == "zeta3" and report["limit_digits"] > 100


@pytest.mark.parametrize("config, match", [
    ({"cmf": "zeta3", "starts": [0, 1_000_000]}, f"<= {MAX_START}"),
    ({"cmf": "zeta3", "starts": [0, 400]}, f"at most {MAX_WALKS} walks"),
    ({"cmf": "zeta3", "max_norm": 1_000_000}, rf"\[1, {MAX_NORM}\]"),
    ({"cmf": "zeta3", "depth": 1_000_000_000}, "depth"),
    ({"cmf": "zeta3", "depth": "300"}, "depth"),
    ({"cmf": 5}, "cmf"),
])
def test_campaign_values_get_the_same_caps_as_the_command_line(config, match):
    with pytest.raises(EngineError, match=match):
        make_engine("cmf", config)


@pytest.mark.parametrize("text", ["1" * 13 + ",1", ",".join(["1"] * 17), "1e3,1", "1,,1"])
def test_vectors_are_short_integers(text):
    with pytest.raises(ValueError, match="comma-separated integers"):
        parse_vector(text, "--trajectory")


def test_starts_are_short_integers():
    assert parse_starts("0..3") == [0, 3]
    with pytest.raises(ValueError):
        parse_starts("0.." + "9" * 40)
