"""The shared configuration checker (search.config) and the engines that use it."""

from __future__ import annotations

import math

import numpy as np
import pytest

import search.toy  # noqa: F401 (registers the "toy" engine, a test fixture)
from search.base import make_engine
from search.config import Rule, as_int, check_config, describe_rule, interval
from solvers.errors import EngineError

# --------------------------------------------------------------------------- the helper


def test_defaults_are_merged_and_only_given_values_are_checked():
    rules = {"n": Rule(int, ge=1)}
    assert check_config("demo", {}, {"n": 0}, rules) == {"n": 0}  # defaults are trusted
    assert check_config("demo", {"n": 3}, {"n": 0}, rules) == {"n": 3}


def test_unknown_options_name_the_engine_the_unknown_and_the_allowed_ones():
    with pytest.raises(EngineError) as info:
        check_config("demo", {"b": 1, "a": 2}, {"x": 0}, {"y": Rule(int)}, required=["z"])
    assert str(info.value) == "demo: unknown options 'a', 'b' (allowed: x, y, z)"


@pytest.mark.parametrize(
    "rule, value, text",
    [
        (Rule(int, ge=8, le=10), 4, "an integer in [8, 10], not 4"),
        (Rule(int, ge=0), -1, "a non-negative integer, not -1"),
        (Rule(int), True, "an integer, not True"),  # bool is not an integer
        (Rule(float, gt=0), math.nan, "a number greater than 0, not nan"),  # NaN fails bounds
        (Rule(float, le=1), "x", "a number at most 1, not 'x'"),
        (Rule(bool), 1, "true or false, not 1"),
        (Rule(str, choices=("a", "b")), "c", "one of 'a', 'b', not 'c'"),
        (Rule(int, ge=1, nullable=True), 0, "an integer at least 1, or null, not 0"),
        (interval(gt=1), [1, 2], "[lo, hi] with 1 < lo < hi, not [1, 2]"),
    ],
)
def test_a_bad_value_names_the_option_what_is_allowed_and_the_value(rule, value, text):
    with pytest.raises(EngineError) as info:
        check_config("demo", {"k": value}, {}, {"k": rule})
    assert str(info.value) == f"demo: option 'k' must be {text}"


def test_convert_check_nullable_and_the_error_class():
    def even(v: int) -> int:
        if v % 2:
            raise ValueError("odd")
        return v // 2

    rules = {"n": Rule(int, convert=as_int, check=even, describe="an even integer"),
             "r": Rule(float, nullable=True)}
    assert check_config("demo", {"n": 8.0, "r": None}, {}, rules) == {"n": 4, "r": None}
    with pytest.raises(EngineError, match=r"'n' must be an even integer, not '8'"):
        check_config("demo", {"n": "8"}, {}, rules)
    with pytest.raises(EngineError, match=r"'n' must be an even integer, not 3 \(odd\)$"):
        check_config("demo", {"n": 3}, {}, rules)
    with pytest.raises(EngineError, match=r"'n' must be an even integer, not 2.5 \(2.5 is not"):
        check_config("demo", {"n": 2.5}, {}, rules)

    class TableError(ValueError):
        pass

    with pytest.raises(TableError, match="^f.toml: missing key 'name' \\(a string\\)$"):
        check_config("f.toml", {}, {}, {"name": Rule(str)}, required=["name"], noun="key",
                     error=TableError)
    with pytest.raises(EngineError, match="must be a mapping of options, not list"):
        check_config("demo", [1], {})


def test_rule_descriptions():
    assert describe_rule(Rule((list, tuple))) == "a list"
    assert describe_rule(Rule(float, ge=0, le=1)) == "a number in [0, 1]"
    assert describe_rule(Rule(int, gt=4)) == "an integer greater than 4"
    assert describe_rule(Rule()) == "a value"


# --------------------------------------------------------------------------- the engines


@pytest.mark.parametrize(
    "engine, config, message",
    [
        ("esma", {"constant": "e", "coef": 1},
         "esma: unknown option 'coef' (allowed: approve_digits, approve_terms, chunk, coeff, "
         "constant, degree, depth, dps, prime, signs)"),
        ("esma", {"constant": "e", "depth": 4},
         "esma: option 'depth' must be an integer in [8, 10000], not 4"),
        ("toy", {"taks": 3},
         "toy: unknown option 'taks' (allowed: fail, modulus, per_task, sleep, tasks)"),
        ("toy", {"modulus": 0}, "toy: option 'modulus' must be an integer in [1, 1000000], not 0"),
        ("cmf", {"cmf": "zeta3", "max_norm": 0},
         "cmf: option 'max_norm' must be an integer in [1, 20], not 0"),
        ("blind-delta", {"chunk": 0},
         "blind-delta: option 'chunk' must be an integer in [1, 1000000], not 0"),
        ("sdp_game", {"evaluator": "magic"},
         "sdp_game: option 'evaluator' must be one of 'sdp', 'synthetic', not 'magic'"),
        ("sdp_game", {"ratio_range": [0.5, 1.2]},
         "sdp_game: option 'ratio_range' must be [lo, hi] with 1 < lo < hi, not [0.5, 1.2]"),
    ],
)
def test_engines_share_the_wording(engine, config, message):
    with pytest.raises(EngineError) as info:
        make_engine(engine, config)
    assert str(info.value) == message


def test_esma_takes_integral_floats_refuses_strings_and_derives_its_defaults():
    from search.esma import EsmaConfig

    cfg = EsmaConfig.from_dict({"constant": " e ", "depth": 60, "degree": 1.0,
                                "approve_terms": 10})
    assert (cfg.constant, cfg.depth, cfg.degree, cfg.dps, cfg.approve_terms) == (
        "e", 60, 1, 300, 1000)
    with pytest.raises(EngineError, match="'degree' must be an integer in \\[1, 4\\], not 1.5"):
        EsmaConfig.from_dict({"constant": "e", "degree": 1.5})
    with pytest.raises(EngineError, match="'degree' must be an integer in \\[1, 4\\], not '1'"):
        EsmaConfig.from_dict({"constant": "e", "degree": "1"})
    for constant, reason in ((5, "not 5"), ("0", "rational"), ("1/3", "rational"),
                             ("x", "unknown name")):
        with pytest.raises(EngineError, match=reason):
            EsmaConfig.from_dict({"constant": constant})
    with pytest.raises(EngineError, match="prime"):
        EsmaConfig.from_dict({"constant": "e", "prime": 10**18 + 9})


# --------------------------------------------------------------------------- the SDP game's GP


def test_the_gp_fits_its_hyperparameters_reproducibly():
    from search.sdp_game import GaussianProcess

    rng = np.random.default_rng(0)
    X = rng.random((12, 2))
    y = np.sin(4 * X[:, 0]) + 0.1 * X[:, 1]  # varies fast in x, slowly in y
    a = GaussianProcess(random_state=3).fit(X, y)
    b = GaussianProcess(random_state=3).fit(X, y)
    assert a.fitted and np.array_equal(a.kernel_.theta, b.kernel_.theta)
    short, long = a.kernel_.k1.k2.length_scale
    assert short < long  # one length scale per dimension, fitted
    mu, sd = a.predict(X)
    assert np.allclose(mu, y, atol=1e-3) and np.all(sd < 1e-2)  # noise-free data interpolated
