"""One checker for the configurations of engines (and of anything else read from a table).

Every engine takes a JSON-able configuration: a mapping of option names to values, merged
over the engine's defaults. :func:`check_config` does the part every engine shares, with the
same wording everywhere:

* an **unknown option** is an error that names the engine, the unknown options and the
  allowed ones;
* a **missing required option** is an error that names it and what it should be;
* a **bad value** is an error that names the option, what is allowed (type, range, choices,
  or the description of a custom check) and the value given.

The rule for one option is a :class:`Rule`: accepted types, optional bounds (``ge``, ``gt``,
``le``, ``lt``), optional ``choices``, ``nullable`` for options whose value may be ``None``,
an optional ``convert`` applied before the checks (e.g. :func:`as_int`) and an optional
``check`` applied after them (a function returning the value to keep, or raising
``ValueError``/``TypeError`` with the reason). :func:`interval` is a ready-made rule for
``[lo, hi]`` pairs. Checks that involve several options (``cmf`` or ``cmf_spec``) stay in the
engine, after :func:`check_config`.

Defaults are trusted: only the values the caller gave are checked.

Examples
--------
>>> rules = {"depth": Rule(int, ge=8, le=10_000), "mode": Rule(str, choices=("fast", "exact"))}
>>> check_config("demo", {"depth": 64}, {"depth": 100, "mode": "fast"}, rules)
{'depth': 64, 'mode': 'fast'}
>>> check_config("demo", {"dept": 64}, {"depth": 100, "mode": "fast"}, rules)
Traceback (most recent call last):
    ...
solvers.errors.EngineError: demo: unknown option 'dept' (allowed: depth, mode)
>>> check_config("demo", {"depth": 4}, {"depth": 100, "mode": "fast"}, rules)
Traceback (most recent call last):
    ...
solvers.errors.EngineError: demo: option 'depth' must be an integer in [8, 10000], not 4
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from solvers.errors import EngineError

__all__ = ["Rule", "check_config", "describe_rule", "interval", "as_int"]

_TYPE_NAMES: dict[type, str] = {
    bool: "true or false",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    tuple: "a list",
    dict: "a mapping",
}


@dataclass(frozen=True)
class Rule:
    """What one configuration option accepts.

    Parameters
    ----------
    types : type or tuple of types, optional
        Accepted types (``None``: any). ``bool`` is never accepted as an ``int`` or a number
        unless listed; ``float`` accepts integers too (``(int, float)`` and ``float`` both
        read "a number").
    ge, gt, le, lt : number, optional
        Bounds (``>=``, ``>``, ``<=``, ``<``); NaN fails every bound.
    choices : collection, optional
        The allowed values.
    nullable : bool
        ``None`` is accepted (and kept) as the value.
    convert : callable, optional
        Applied to the value before the type check (e.g. :func:`as_int`); a ``ValueError``
        or ``TypeError`` makes the value bad.
    check : callable, optional
        Applied after the other checks; returns the value to keep (possibly normalised) or
        raises ``ValueError``/``TypeError`` whose message is added to the error.
    describe : str, optional
        What the option accepts, in words (default: built from the other fields; see
        :func:`describe_rule`). Give it with ``check``.

    Examples
    --------
    >>> describe_rule(Rule(int, ge=0)), describe_rule(Rule(float, gt=1, nullable=True))
    ('a non-negative integer', 'a number greater than 1, or null')
    """

    types: type | tuple[type, ...] | None = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    choices: Collection[Any] | None = None
    nullable: bool = False
    convert: Callable[[Any], Any] | None = None
    check: Callable[[Any], Any] | None = None
    describe: str | None = None

    @property
    def type_tuple(self) -> tuple[type, ...]:
        """The accepted types as a tuple (empty: any type)."""
        if self.types is None:
            return ()
        return self.types if isinstance(self.types, tuple) else (self.types,)


def _type_text(types: tuple[type, ...]) -> str:
    if not types:
        return "a value"
    if float in types:
        return "a number"
    names: list[str] = []
    for t in types:
        name = _TYPE_NAMES.get(t) or next(
            (v for k, v in _TYPE_NAMES.items() if issubclass(k, t)), f"a {t.__name__}"
        )
        if name not in names:
            names.append(name)
    return " or ".join(names)


def _bounds_text(rule: Rule) -> str:
    if rule.ge is not None and rule.le is not None and rule.gt is None and rule.lt is None:
        return f" in [{rule.ge}, {rule.le}]"
    parts = [f"{word} {v}" for word, v in (("at least", rule.ge), ("greater than", rule.gt),
                                           ("at most", rule.le), ("less than", rule.lt))
             if v is not None]
    return " " + " and ".join(parts) if parts else ""


def describe_rule(rule: Rule) -> str:
    """What ``rule`` accepts, in words (its ``describe`` if it has one).

    Examples
    --------
    >>> describe_rule(Rule(int, ge=1, le=4))
    'an integer in [1, 4]'
    >>> describe_rule(Rule(str, choices=("sdp", "synthetic")))
    "one of 'sdp', 'synthetic'"
    >>> describe_rule(Rule((list, tuple)))
    'a list'
    """
    if rule.describe is not None:
        text = rule.describe
    elif rule.choices is not None:
        text = "one of " + ", ".join(repr(c) for c in rule.choices)
    else:
        types = rule.type_tuple
        only_ge0 = rule.ge == 0 and rule.gt is None and rule.le is None and rule.lt is None
        if only_ge0 and types:
            text = "a non-negative " + _type_text(types).split(" ", 1)[1]
        else:
            text = _type_text(types) + _bounds_text(rule)
    return text + (", or null" if rule.nullable else "")


def _has_type(value: Any, types: tuple[type, ...]) -> bool:
    if not types:
        return True
    if isinstance(value, bool) and bool not in types:
        return False
    if float in types and isinstance(value, numbers.Real):
        return True
    return isinstance(value, types)


def _in_bounds(value: Any, rule: Rule) -> bool:
    if all(b is None for b in (rule.ge, rule.gt, rule.le, rule.lt)):
        return True
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return ((rule.ge is None or value >= rule.ge) and (rule.gt is None or value > rule.gt)
            and (rule.le is None or value <= rule.le) and (rule.lt is None or value < rule.lt))


def _applied(step: Callable[[Any], Any] | None, value: Any,
             bad: Callable[[str], Exception]) -> Any:
    """``step(value)`` (``value`` without a step); a ValueError/TypeError raises ``bad``."""
    if step is None:
        return value
    try:
        return step(value)
    except (ValueError, TypeError) as exc:
        raise bad(str(exc)) from None


def _checked(key: str, value: Any, rule: Rule, bad: Callable[[str], Exception]) -> Any:
    """The value to keep for ``key``, or raise ``bad(reason)``."""
    if value is None and rule.nullable:
        return None
    types = rule.type_tuple
    if isinstance(value, bool) and types and bool not in types:
        raise bad("")
    value = _applied(rule.convert, value, bad)
    if not _has_type(value, types):
        raise bad("")
    if rule.choices is not None and value not in rule.choices:
        raise bad("")
    if not _in_bounds(value, rule):
        raise bad("")
    return _applied(rule.check, value, bad)


def check_config(
    engine: str,
    config: Any,
    defaults: Mapping[str, Any],
    rules: Mapping[str, Rule] | None = None,
    *,
    required: Sequence[str] = (),
    noun: str = "option",
    error: type[Exception] = EngineError,
) -> dict[str, Any]:
    """``defaults`` updated by ``config``, every given value checked against its rule.

    Parameters
    ----------
    engine : str
        Prefix of every message: the engine's name (``"esma"``), or where the table was
        read (``"campaign.toml: [campaign]"``).
    config : mapping
        The configuration given (anything else is an error).
    defaults : mapping
        Default values; they are not checked.
    rules : mapping of str to Rule, optional
        The rule of each option; an option without a rule accepts any value.
    required : sequence of str
        Options that must be given (they need no default).
    noun : str
        What the keys are called in messages (``"option"``; a campaign file says ``"key"``).
    error : exception class
        What to raise (:class:`~solvers.errors.EngineError` by default).

    Returns
    -------
    dict
        The defaults, updated by the given options (converted or normalised by their rule).

    Raises
    ------
    error
        One line naming ``engine`` and, for unknown options, the unknown and the allowed
        ones (the options of ``defaults``, ``rules`` and ``required``); for a missing
        option, the option and what it accepts; for a bad value, the option, what it
        accepts and the value.

    Examples
    --------
    >>> rules = {"tasks": Rule(int, ge=0), "sleep": Rule(float, ge=0)}
    >>> check_config("toy", {"tasks": 3}, {"tasks": 12, "sleep": 0.0}, rules)
    {'tasks': 3, 'sleep': 0.0}
    >>> check_config("toy", {"taks": 3, "slep": 1}, {"tasks": 12, "sleep": 0.0}, rules)
    Traceback (most recent call last):
        ...
    solvers.errors.EngineError: toy: unknown options 'slep', 'taks' (allowed: sleep, tasks)
    >>> check_config("toy", {"tasks": True}, {"tasks": 12}, rules)
    Traceback (most recent call last):
        ...
    solvers.errors.EngineError: toy: option 'tasks' must be a non-negative integer, not True
    >>> check_config("esma", {}, {"depth": 100}, {"constant": Rule(str)}, required=["constant"])
    Traceback (most recent call last):
        ...
    solvers.errors.EngineError: esma: missing option 'constant' (a string)
    """
    rules = rules or {}
    if not isinstance(config, Mapping):
        raise error(f"{engine}: the configuration must be a mapping of {noun}s, "
                    f"not {type(config).__name__}")
    allowed = set(defaults) | set(rules) | set(required)
    unknown = sorted(str(k) for k in set(config) - allowed)
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        raise error(f"{engine}: unknown {noun}{plural} {', '.join(map(repr, unknown))} "
                    f"(allowed: {', '.join(sorted(allowed))})")
    for key in required:
        if key not in config:
            rule = rules.get(key, Rule())
            raise error(f"{engine}: missing {noun} {key!r} ({describe_rule(rule)})")
    out = dict(defaults)
    for key, value in config.items():
        rule = rules.get(key)
        if rule is None:
            out[key] = value
            continue

        def bad(reason: str, key: str = key, value: Any = value, rule: Rule = rule) -> Exception:
            text = f"{engine}: {noun} {key!r} must be {describe_rule(rule)}, not {value!r}"
            return error(f"{text} ({reason})" if reason else text)

        out[key] = _checked(key, value, rule, bad)
    return out


def as_int(value: Any) -> int:
    """``value`` as an integer: an int or an integral float (``3.0``); anything else, a
    string of digits included (a campaign's ``degree = "1"`` is a typo to report, not to
    guess), raises ``ValueError``.

    Examples
    --------
    >>> as_int(3), as_int(3.0)
    (3, 3)
    >>> as_int(3.5)
    Traceback (most recent call last):
        ...
    ValueError: 3.5 is not an integer
    >>> as_int("12")
    Traceback (most recent call last):
        ...
    ValueError: '12' is not an integer
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not an integer")
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError(f"{value!r} is not an integer")


def interval(gt: float | None = None, *, as_float: bool = False, nullable: bool = False) -> Rule:
    """The rule of a ``[lo, hi]`` option: two numbers with ``lo < hi`` (and ``gt < lo``).

    Parameters
    ----------
    gt : number, optional
        A strict lower bound of ``lo``.
    as_float : bool
        Keep the pair as a list of two floats (otherwise the value is kept as given).
    nullable : bool
        ``None`` is accepted.

    Examples
    --------
    >>> rule = interval(gt=0)
    >>> describe_rule(rule)
    '[lo, hi] with 0 < lo < hi'
    >>> check_config("sdp_game", {"r_range": [1, 2]}, {"r_range": [0.97, 1.03]},
    ...              {"r_range": rule})
    {'r_range': [1, 2]}
    >>> check_config("evolve", {"interval": (0, 1)}, {}, {"interval": interval(as_float=True)})
    {'interval': [0.0, 1.0]}
    >>> check_config("sdp", {"r_range": [2, 1]}, {}, {"r_range": rule})
    Traceback (most recent call last):
        ...
    solvers.errors.EngineError: sdp: option 'r_range' must be [lo, hi] with 0 < lo < hi, not [2, 1]
    """

    def check(value: Any) -> Any:
        if len(value) != 2 or not all(_has_type(v, (float,)) and math.isfinite(v) for v in value):
            raise ValueError("")
        lo, hi = value
        if not (lo < hi and (gt is None or gt < lo)):
            raise ValueError("")
        return [float(lo), float(hi)] if as_float else value

    text = "[lo, hi] with " + (f"{gt} < lo < hi" if gt is not None else "lo < hi")
    return Rule((list, tuple), check=check, describe=text, nullable=nullable)
