"""ESMA: signed continued fractions of simple transforms of a constant, with short recurrences.

The engine of Razon, Harris, Gottlieb, Carmon, David and Kaminer ("Automated Search for
Conjectures on Mathematical Constants using Analysis of Integer Sequences", ICML 2023):

1. **Left-hand sides**: rational functions ``P(K)/Q(K)`` of the constant ``K`` with degree
   ``<= degree`` and integer coefficients in ``[-coeff, coeff]`` (Möbius maps for degree 1),
   normalised (see :func:`enumerate_lhs`): for ``degree = 1, coeff = 2`` there are **112**.
2. **Sign periods**: the primitive ``±1`` periods whose length is one of the requested lengths
   or divides one (see :func:`sign_periods`).
3. **Expansion**: ``x = a0 + s0/(a1 + s1/(a2 + ...))`` (``a_i = floor`` if ``s_i > 0`` else
   ``ceil``) for ``depth`` terms, computed by exact integer arithmetic from **one** rational
   enclosure of ``K`` mapped exactly through the LHS; an expansion that exhausts the enclosure
   before ``depth`` terms is discarded (never padded).
4. **Berlekamp–Massey** modulo ``prime`` (early exit), confirmed exactly over Q; accepted when
   the order is ``< depth/4``. The preamble (trailing zeros of the connection polynomial) is
   kept.
5. **Approval**: ``>= 1000`` terms regenerated from the recurrence, the signed continued
   fraction evaluated exactly (product tree) and compared with the LHS at higher precision:
   ``>= approve_digits`` digits are required.

Tasks are chunks of LHS (each with every sign period), executed by the pure function
:func:`run_task` (registered as the ``"esma"`` executor); :class:`EsmaEngine` is the driver.

This module holds the configuration (:class:`EsmaConfig`) and the engine; the search space
(steps 1-2) is :mod:`search.esma_space`, the scan (steps 3-5) :mod:`search.esma_scan`. Their
public names are re-exported here.

Examples
--------
>>> eng = EsmaEngine({"constant": "e", "coeff": 1, "signs": 1, "depth": 60})
>>> eng.sign_periods
((-1,), (1,))
>>> while not eng.done():
...     for task in eng.ask(4):
...         eng.tell(task, run_task(task))
>>> eng.state()["lhs"]  # left-hand sides, enumerated lazily
12
>>> sorted(c.claim for c in eng.results)[:3]
['(e + 1)/(e - 1)', '(e + 1)/e', 'e']
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, fields
from typing import Any

from search.base import (
    Candidate,
    EngineBase,
    Task,
    canonical_key,
    register_engine,
    register_executor,
)
from search.config import Rule, as_int, check_config
from search.esma_scan import (
    ENGINE,
    Hit,
    ScanResult,
    _constant_rate,  # noqa: F401 (a per-process cache: scripts/bench/esma.py clears it)
    _evaluate,
    _high_precision,  # noqa: F401 (a per-process cache: scripts/bench/esma.py clears it)
    approve,
    constant_enclosure,
    expand_lhs,
    lhs_enclosure,
    scan,
)
from search.esma_space import (
    LHS,
    enumerate_lhs,
    iter_lhs,
    lhs_text,
    lhs_value,
    sign_periods,
)
from solvers.errors import EngineError

__all__ = [
    "EsmaConfig",
    "EsmaEngine",
    "Hit",
    "ScanResult",
    "enumerate_lhs",
    "iter_lhs",
    "sign_periods",
    "parse_lengths",
    "lhs_text",
    "lhs_value",
    "constant_enclosure",
    "lhs_enclosure",
    "expand_lhs",
    "approve",
    "scan",
    "run_task",
]


# --------------------------------------------------------------------------- configuration


def parse_lengths(spec: Any) -> tuple[int, ...]:
    """Sign-period lengths from ``3`` (= 1..3), ``"1..3"``, ``"2"``, ``"1,3"`` or ``[2, 3]``.

    Examples
    --------
    >>> parse_lengths(3), parse_lengths("2"), parse_lengths("1..3"), parse_lengths([3, 1])
    ((1, 2, 3), (2,), (1, 2, 3), (1, 3))
    """
    if isinstance(spec, bool):
        raise EngineError(f"signs: expected a length, a range 'a..b' or a list, got {spec!r}")
    if isinstance(spec, int):
        lengths: Sequence[int] = range(1, spec + 1)
    elif isinstance(spec, str):
        text = spec.strip()
        m = re.fullmatch(r"(\d+)\s*\.\.\s*(\d+)", text)
        if m:
            lengths = range(int(m.group(1)), int(m.group(2)) + 1)
        elif re.fullmatch(r"\d+(\s*,\s*\d+)*", text):
            lengths = [int(t) for t in text.split(",")]
        else:
            raise EngineError(f"signs: cannot read {spec!r}; use e.g. '1..3', '2' or '1,3'")
    elif isinstance(spec, (list, tuple)):
        try:
            lengths = [int(t) for t in spec]
        except (TypeError, ValueError):
            raise EngineError(f"signs: lengths must be integers, got {spec!r}") from None
    else:
        raise EngineError(f"signs: expected a length, a range 'a..b' or a list, got {spec!r}")
    out = tuple(sorted(set(lengths)))
    if not out or out[0] < 1 or out[-1] > 12:
        raise EngineError(f"signs: period lengths must lie in 1..12, got {spec!r}")
    return out




def _constant_text(value: Any) -> str:
    text = value.strip()
    if not text:
        raise ValueError("")
    from solvers.expr import parse_expression

    expr = parse_expression(text)  # a ParseError is a DiscoveryError: one line
    if expr.free_symbols:
        raise ValueError(f"{text} is not a number")
    if expr.is_rational:
        raise ValueError(f"{text} is rational: its continued fraction ends")
    return text


def _odd_prime(p: int) -> int:
    if p < 3 or p > 10**6 or any(p % d == 0 for d in range(2, math.isqrt(p) + 1)):
        raise ValueError("")
    return p


def _dps(dps: int) -> int:
    if dps != 0 and not 10 <= dps <= 200_000:
        raise ValueError("")
    return dps


#: The rule of each option (integers may be given as integral floats).
_RULES: dict[str, Rule] = {
    "constant": Rule(str, check=_constant_text,
                     describe="the constant K as text for the safe parser, e.g. 'e' or 'tan(1)'"),
    "degree": Rule(int, ge=1, le=4, convert=as_int),
    "coeff": Rule(int, ge=1, le=20, convert=as_int),
    "signs": Rule(check=parse_lengths,
                  describe="a period length n (for 1..n), a range 'a..b' or a list of lengths, "
                           "within 1..12"),
    "depth": Rule(int, ge=8, le=10_000, convert=as_int),
    "approve_digits": Rule(int, ge=1, le=100_000, convert=as_int),
    "prime": Rule(int, convert=as_int, check=_odd_prime, describe="an odd prime below 10^6"),
    "dps": Rule(int, convert=as_int, check=_dps,
                describe="0 (automatic: max(200, 5 * depth)) or an integer in [10, 200000]"),
    "approve_terms": Rule(int, ge=0, le=1_000_000, convert=as_int),
    "chunk": Rule(int, ge=1, le=1_000_000, convert=as_int),
}


@dataclass(frozen=True)
class EsmaConfig:
    """Validated configuration of an ESMA search.

    Attributes
    ----------
    constant : str
        The constant ``K`` as text for the safe parser (``"e"``, ``"e^2"``, ``"tan(1)"``,
        ``"besseli(0,2)/besseli(1,2)"``).
    degree : int
        Degree of numerator and denominator of the LHS ``P(K)/Q(K)``.
    coeff : int
        Coefficients range over ``[-coeff, coeff]``.
    signs : tuple of int
        Sign-period lengths.
    depth : int
        Terms of each expansion fed to Berlekamp–Massey.
    approve_digits : int
        Digits of agreement required to approve a hit.
    prime : int
        Modulus of the fast Berlekamp–Massey pass.
    dps : int
        Decimal digits of the (single) enclosure of ``K``.
    approve_terms : int
        Terms regenerated from the recurrence for the approval (at least 1000).
    chunk : int
        LHS per task.

    Examples
    --------
    >>> cfg = EsmaConfig.from_dict({"constant": "e", "signs": "1..2", "depth": 60})
    >>> cfg.signs, cfg.dps, cfg.max_order
    ((1, 2), 300, 14)
    >>> EsmaConfig.from_dict({"constant": "e", "coef": 3})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    solvers.errors.EngineError: esma: unknown option 'coef' (allowed: approve_digits, ..., signs)
    """

    constant: str
    degree: int = 1
    coeff: int = 2
    signs: tuple[int, ...] = (1, 2, 3)
    depth: int = 100
    approve_digits: int = 100
    prime: int = 199
    dps: int = 0
    approve_terms: int = 1000
    chunk: int = 16

    @classmethod
    def from_dict(cls, config: Mapping) -> EsmaConfig:
        """Validate a JSON-able configuration (unknown keys are an error).

        ``dps`` 0 becomes ``max(200, 5 * depth)``; ``approve_terms`` is raised to 1000.
        """
        defaults = {f.name: f.default for f in fields(cls) if f.default is not MISSING}
        cfg = cls(**check_config(ENGINE, config, defaults, _RULES, required=("constant",)))
        if not cfg.dps:
            cfg = cls(**{**cfg.to_dict(), "signs": cfg.signs, "dps": max(200, 5 * cfg.depth)})
        if cfg.approve_terms < 1000:
            cfg = cls(**{**cfg.to_dict(), "signs": cfg.signs, "approve_terms": 1000})
        return cfg

    def to_dict(self) -> dict:
        """JSON-able form (``signs`` as a list of lengths)."""
        return {
            "constant": self.constant,
            "degree": self.degree,
            "coeff": self.coeff,
            "signs": list(self.signs),
            "depth": self.depth,
            "approve_digits": self.approve_digits,
            "prime": self.prime,
            "dps": self.dps,
            "approve_terms": self.approve_terms,
            "chunk": self.chunk,
        }

    @property
    def max_order(self) -> int:
        """Largest accepted recurrence order: ``order < depth/4``."""
        return -(-self.depth // 4) - 1



# --------------------------------------------------------------------------- engine protocol


@register_executor(ENGINE)
def run_task(task: Task) -> list[Candidate]:
    """Execute one ESMA task (a chunk of LHS x every sign period): the approved candidates."""
    p = task.payload
    res = scan(
        p["constant"],
        [(tuple(n), tuple(d)) for n, d in p["lhs"]],
        [tuple(s) for s in p["periods"]],
        depth=int(p["depth"]),
        dps=int(p["dps"]),
        prime=int(p["prime"]),
        max_order=int(p["max_order"]),
        approve_digits=int(p["approve_digits"]),
        approve_terms=int(p["approve_terms"]),
    )
    return res.candidates


@register_engine(ENGINE)
class EsmaEngine(EngineBase):
    """Driver of an ESMA search: hands out chunks of the (LHS x sign period) space.

    Parameters
    ----------
    config : dict
        Keys of :class:`EsmaConfig` (``constant`` is required).
    state : dict, optional
        A :meth:`state` snapshot to resume from.

    Attributes
    ----------
    sign_periods : tuple
        The primitive sign periods.
    results : list of Candidate
        Everything told so far.
    """

    name = ENGINE

    def __init__(self, config: dict, state: dict | None = None):
        self.config = EsmaConfig.from_dict(config)
        K = _evaluate(self.config.constant, 60)
        # the LHS are enumerated lazily, a chunk per task: building the engine is cheap
        self._lhs = iter_lhs(K, self.config.degree, self.config.coeff)
        self.sign_periods = sign_periods(self.config.signs)
        self._next = 0
        self._handed_out = 0  # LHS handed out in tasks so far
        self._exhausted = False
        self._buffer: list[LHS] = []
        self.results: list[Candidate] = []
        self._groups: dict[str, list[str]] = {}
        if state:
            self.restore(state)

    def restore(self, state: Mapping) -> None:
        """Continue after the ``next`` chunks of a :meth:`state` snapshot."""
        for _ in range(int(state.get("next", 0)) - self._next):
            if self._chunk() is None:
                break
            self._next += 1
        self._groups = {k: list(v) for k, v in state.get("groups", {}).items()}

    def _chunk(self) -> list[LHS] | None:
        """The next chunk of LHS, or None when the box is exhausted."""
        c = self.config.chunk
        while len(self._buffer) < c and not self._exhausted:
            nxt = next(self._lhs, None)
            if nxt is None:
                self._exhausted = True
            else:
                self._buffer.append(nxt)
        chunk, self._buffer = self._buffer[:c], self._buffer[c:]
        self._handed_out += len(chunk)
        return chunk or None

    def _task(self, chunk: list[LHS]) -> Task:
        cfg = self.config
        payload = {
            "constant": cfg.constant,
            "lhs": [[list(n), list(d)] for n, d in chunk],
            "periods": [list(s) for s in self.sign_periods],
            "depth": cfg.depth,
            "dps": cfg.dps,
            "prime": cfg.prime,
            "max_order": cfg.max_order,
            "approve_digits": cfg.approve_digits,
            "approve_terms": cfg.approve_terms,
        }
        return Task(ENGINE, canonical_key("esma-task", payload), payload)

    def ask(self, n: int) -> list[Task]:
        """Up to ``n`` new tasks (chunks of LHS with every sign period)."""
        out = []
        while len(out) < n:
            chunk = self._chunk()
            if chunk is None:
                break
            out.append(self._task(chunk))
            self._next += 1
        return out

    def tell(self, task: Task, result: list[Candidate]) -> None:
        """Record a finished task and group its candidates by value."""
        for cand in result:
            self.results.append(cand)
            group = cand.evidence.get("group", cand.key)
            keys = self._groups.setdefault(group, [])
            if cand.key not in keys:
                keys.append(cand.key)

    def done(self) -> bool:
        """True when every chunk has been handed out."""
        if not self._buffer and not self._exhausted:
            nxt = next(self._lhs, None)
            if nxt is None:
                self._exhausted = True
            else:
                self._buffer.append(nxt)
        return self._exhausted and not self._buffer

    def groups(self) -> dict[str, list[str]]:
        """Candidate keys grouped by identical value (same LHS value, several patterns)."""
        return {k: list(v) for k, v in self._groups.items()}

    def state(self) -> dict:
        """JSON-able snapshot for resume."""
        return {
            "config": self.config.to_dict(),
            "next": self._next,
            "lhs": self._handed_out,
            "sign_periods": [list(p) for p in self.sign_periods],
            "groups": self.groups(),
        }
