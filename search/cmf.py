"""The CMF trajectory-search engine, registered as ``"cmf"``.

For one conservative matrix field of the catalogue (``search/data/cmfs.json``) the engine
enumerates primitive trajectories up to a sup norm and start points in a box, and hands
out one task per (trajectory, start). A task walks the field exactly, identifies the limit
as a Möbius function of the field's constant(s), extracts the equivalent PCF (rank 2),
identifies the PCF's own limit independently, measures digits/term and δ, and returns
candidates:

* kind ``"cmf"``: the walk itself (formula = :meth:`solvers.cmf.CMFTrajectory.to_dict`),
  claim = its limit;
* kind ``"pcf"``: the extracted PCF (formula ``{"a": [...], "b": [...]}``, the same
  canonical key as every other engine's PCFs), claim = its limit, with the relation
  ``("derived-from", <walk key>)``.

When every walk has been told back, one *link* task runs the coboundary search
(:func:`solvers.coboundary.find_coboundary`) between all PCFs found (and the PCFs of the
configuration's ``known_pcfs``, e.g. from the store) and re-emits each linked PCF with
``("equivalent-to", <other key>)`` relations and the Möbius map in its evidence.

Configuration
-------------
``cmf`` (catalogue name, required unless ``cmf_spec`` is given), ``cmf_spec`` (an inline
catalogue entry), ``catalogue`` (path to another catalogue file), ``max_norm`` (default 2),
``starts`` (``[lo, hi]`` box, default ``[0, 2]``, or a list of points), ``negative``
(allow negative trajectory components, default False), ``depth`` (default 300),
``digits`` (identification digits, default 60), ``min_digits`` (default 20),
``max_coeff`` (bound on Möbius coefficients, default: the relations module's),
``link`` (default True), ``known_pcfs`` (list of ``{"key", "a", "b"}``),
``max_degree`` (coboundary degree bound, default automatic).

Examples
--------
>>> engine = CMFEngine({"cmf": "zeta3", "max_norm": 1, "starts": [1, 1], "link": False})
>>> [t.payload["trajectory"] for t in engine.ask(10)]
[[0, 1], [1, 0], [1, 1]]
>>> cands = run_cmf_task(engine_walk_task(engine, (1, 1), (0, 0)))
>>> [(c.kind, c.claim) for c in cands]
[('pcf', '6/zeta(3)')]
"""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Mapping, Sequence
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from search.base import Candidate, EngineBase, Task, register_engine, register_executor
from search.config import Rule, check_config
from solvers.cmf import CMF, CMFTrajectory, box_starts, mobius_claim, primitive_trajectories
from solvers.cmf_constructions import cmf_from_spec
from solvers.coboundary import find_coboundary, mobius_text
from solvers.continued_fractions import PCF
from solvers.errors import DiscoveryError, EngineError
from solvers.keys import canonical_key

__all__ = [
    "CMFEngine",
    "run_cmf_task",
    "load_catalogue",
    "catalogue_cmf",
    "identify_mobius",
    "constant_text",
    "engine_walk_task",
    "DEFAULT_CATALOGUE",
]

#: The shipped catalogue: package data of :mod:`search` (``search/data/cmfs.json``), read
#: through :mod:`importlib.resources` so an installed wheel finds it too.
DEFAULT_CATALOGUE: Traversable = files("search") / "data" / "cmfs.json"

_DEFAULTS: dict[str, Any] = {
    "cmf": None,
    "cmf_spec": None,
    "catalogue": None,
    "max_norm": 2,
    "starts": [0, 2],
    "negative": False,
    "depth": 300,
    "digits": 60,
    "min_digits": 20,
    "max_coeff": None,
    "link": True,
    "known_pcfs": [],
    "max_degree": None,
}


# --------------------------------------------------------------------------- catalogue


def load_catalogue(path: str | Path | None = None) -> dict[str, dict]:
    """The CMF catalogue: ``{name: entry}`` from the shipped one (:data:`DEFAULT_CATALOGUE`)
    or from the file ``path``.

    Examples
    --------
    >>> sorted(load_catalogue())[:4]
    ['2F1_z=-1', '2F1_z=1/2', '3F2_z=-1', 'e']
    """
    p = Path(path) if path is not None else DEFAULT_CATALOGUE
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DiscoveryError(f"CMF catalogue not found: {p}") from None
    except json.JSONDecodeError as exc:
        raise DiscoveryError(f"CMF catalogue {p} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or "cmfs" not in data:
        raise DiscoveryError(f"{p} is not a CMF catalogue (no 'cmfs' table)")
    if int(data.get("version", 0)) != 1:
        raise DiscoveryError(f"{p}: unsupported catalogue version {data.get('version')!r}")
    return dict(data["cmfs"])


def catalogue_cmf(name: str, path: str | Path | None = None) -> tuple[CMF, dict]:
    """The field ``name`` of the catalogue and its entry (constants, known limits)."""
    cat = load_catalogue(path)
    if name not in cat:
        known = ", ".join(sorted(cat))
        raise DiscoveryError(f"unknown CMF {name!r}; the catalogue has: {known}")
    entry = cat[name]
    return cmf_from_spec(entry, name=name), entry


# --------------------------------------------------------------------------- identification


def constant_text(name: str) -> str:
    """How the safe expression parser writes a catalogue constant (``zeta3 -> zeta(3)``)."""
    from solvers.expr import constant_expr, expression_to_text

    return expression_to_text(constant_expr(name))


def _constant_value(name: str, dps: int) -> Any:
    from solvers.constants import evaluate_constant

    return evaluate_constant(name, dps)


def identify_mobius(
    x: Any, digits: int, constants: Sequence[str], max_coeff: int | None = None
) -> tuple[str, tuple[int, int, int, int], str] | None:
    """``x = (c0 + c1 K)/(c2 + c3 K)`` for the first constant ``K`` that admits one.

    The one place the engine identifies numbers (swap it for another policy here).

    Returns
    -------
    (constant name, (c0, c1, c2, c3), claim text) or None
        ``None`` also when ``x`` is rational (the map does not involve ``K``).

    Examples
    --------
    >>> import mpmath
    >>> ctx = mpmath.MPContext(); ctx.dps = 60
    >>> identify_mobius((1 - ctx.zeta(3)) / ctx.zeta(3), 50, ["pi", "zeta3"])
    ('zeta3', (1, -1, 0, 1), '(1 - zeta(3))/zeta(3)')
    """
    from solvers.relations import find_mobius

    for name in constants:
        K = _constant_value(name, digits + 20)
        m = find_mobius(x, K, digits, max_coeff)
        if m is None or m.determinant == 0:
            continue
        coeffs = tuple(int(c) for c in m.coefficients)
        return name, coeffs, mobius_claim(coeffs, constant_text(name))
    return None


# --------------------------------------------------------------------------- engine


#: Caps of the search: trajectories of sup norm up to MAX_NORM, at most MAX_WALKS (trajectory,
#: start) pairs, starts within MAX_START of the origin. The CLI has the same caps.
MAX_NORM = 20
MAX_WALKS = 100_000
MAX_START = 1_000

_RULES = {
    "cmf": Rule(str, nullable=True, describe="a catalogue name"),
    "cmf_spec": Rule(Mapping, nullable=True, describe="a catalogue entry (a mapping)"),
    "max_norm": Rule(int, ge=1, le=MAX_NORM),
    "negative": Rule(bool),
    "depth": Rule(int, ge=4, le=1_000_000),
    "digits": Rule(int, ge=10, le=10_000),
    "min_digits": Rule(int, ge=5, le=10_000),
    "max_coeff": Rule(int, ge=1, le=10**12, nullable=True),
    "link": Rule(bool),
    "known_pcfs": Rule((list, tuple), describe="a list of {key, a, b}"),
    "max_degree": Rule(int, ge=0, nullable=True),
}


def _validated(config: Mapping) -> dict:
    cfg = check_config("cmf", config, _DEFAULTS, _RULES)
    if cfg["cmf"] is None and cfg["cmf_spec"] is None:
        raise EngineError("cmf: needs 'cmf' (a catalogue name) or 'cmf_spec' "
                          "(an inline catalogue entry)")
    return cfg


def _starts(spec: Any, dim: int) -> list[tuple]:
    def integer(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and abs(v) <= MAX_START

    if isinstance(spec, (list, tuple)) and len(spec) == 2 and all(integer(v) for v in spec):
        lo, hi = spec
        if lo > hi:
            raise EngineError(f"cmf option 'starts': empty box [{lo}, {hi}]")
        if (hi - lo + 1) ** dim > MAX_WALKS:
            raise EngineError(f"cmf option 'starts': the box [{lo}, {hi}] has "
                              f"{(hi - lo + 1) ** dim} points in dimension {dim}; at most "
                              f"{MAX_WALKS} walks are searched")
        return list(box_starts(dim, lo, hi))
    if (isinstance(spec, (list, tuple)) and len(spec) <= MAX_WALKS
            and all(isinstance(p, (list, tuple)) for p in spec)):
        pts = [tuple(p) for p in spec]
        if any(len(p) != dim or not all(integer(v) for v in p) for p in pts):
            raise EngineError(f"cmf option 'starts': every point needs {dim} integer "
                              f"coordinates of size at most {MAX_START}")
        return pts
    raise EngineError(f"cmf option 'starts' must be a box [lo, hi] (|lo|, |hi| <= {MAX_START})"
                      f" or a list of at most {MAX_WALKS} points")


@register_engine("cmf")
class CMFEngine(EngineBase):
    """Enumerates (trajectory, start) walks of one field, then links the PCFs found."""

    name = "cmf"

    def __init__(self, config: Mapping):
        self.config = _validated(config)
        cfg = self.config
        try:
            if cfg["cmf_spec"] is not None:
                spec = dict(cfg["cmf_spec"])
                self.cmf = cmf_from_spec(spec, name=str(cfg["cmf"] or spec.get("name", "")))
                self.entry = spec
            else:
                self.cmf, self.entry = catalogue_cmf(cfg["cmf"], cfg["catalogue"])
        except DiscoveryError as exc:
            raise EngineError(str(exc)) from None
        self.constants = list(self.entry.get("constants", []))
        if not self.constants:
            raise EngineError(f"the field {self.cmf.name!r} names no constants to identify")
        side = cfg["max_norm"] + 1 if not cfg["negative"] else 2 * cfg["max_norm"] + 1
        if side ** self.cmf.dim > 100 * MAX_WALKS:
            raise EngineError(f"cmf: max_norm {cfg['max_norm']} in dimension {self.cmf.dim} "
                              f"spans {side ** self.cmf.dim} directions; lower max_norm")
        trajs = list(
            primitive_trajectories(self.cmf.dim, cfg["max_norm"], not cfg["negative"])
        )
        starts = _starts(cfg["starts"], self.cmf.dim)
        if len(trajs) * len(starts) > MAX_WALKS:
            raise EngineError(f"cmf: {len(trajs)} trajectories x {len(starts)} starts is "
                              f"{len(trajs) * len(starts)} walks; at most {MAX_WALKS} are "
                              "searched (lower max_norm or the starts box)")
        self._walks = [(t, s) for t in trajs for s in starts]
        self._next = 0
        self._told: set[str] = set()
        self._pcfs: dict[str, dict] = {}
        self._link_issued = False
        self._link_told = False
        self._cmf_dict = self.cmf.to_dict()

    # -- tasks
    def walk_task(self, trajectory: Sequence[int], start: Sequence[Any]) -> Task:
        """The task walking ``trajectory`` from ``start``."""
        cfg = self.config
        payload = {
            "type": "walk",
            "cmf": self._cmf_dict,
            "name": self.cmf.name,
            "constants": self.constants,
            "trajectory": [int(k) for k in trajectory],
            "start": [int(k) if float(k).is_integer() else str(k) for k in start],
            "depth": cfg["depth"],
            "digits": cfg["digits"],
            "min_digits": cfg["min_digits"],
            "max_coeff": cfg["max_coeff"],
        }
        key = canonical_key(
            "cmf-task",
            {k: payload[k] for k in ("trajectory", "start", "depth", "digits")}
            | {"cmf": self.cmf.key, "constants": self.constants},
        )
        return Task("cmf", key, payload)

    def _link_task(self) -> Task:
        ours = [self._pcfs[k] for k in sorted(self._pcfs)]
        known = []
        for p in self.config["known_pcfs"]:
            pcf = PCF(tuple(p["a"]), tuple(p["b"]))
            if pcf.key not in self._pcfs:
                known.append({"key": pcf.key, "a": list(pcf.a), "b": list(pcf.b)})
        payload = {"type": "link", "pcfs": ours, "known": known,
                   "max_degree": self.config["max_degree"]}
        key = canonical_key(
            "cmf-link", {"pcfs": [p["key"] for p in ours], "known": [p["key"] for p in known]}
        )
        return Task("cmf", key, payload)

    def _all_told(self) -> bool:
        return self._next >= len(self._walks) and len(self._told) >= len(self._walks)

    def _link_needed(self) -> bool:
        return bool(self.config["link"]) and (
            len(self._pcfs) >= 2 or (bool(self._pcfs) and bool(self.config["known_pcfs"]))
        )

    def ask(self, n: int) -> list[Task]:
        if self._next < len(self._walks):
            stop = min(self._next + max(n, 0), len(self._walks))
            tasks = [self.walk_task(t, s) for t, s in self._walks[self._next:stop]]
            self._next = stop
            return tasks
        # the link task needs every walk's PCFs: it is handed out once all were told
        if n <= 0 or self._link_issued or not self._all_told() or not self._link_needed():
            return []
        self._link_issued = True
        return [self._link_task()]

    def tell(self, task: Task, result: list[Candidate]) -> None:
        if task.payload.get("type") == "link":
            self._link_told = True
            return
        self._told.add(task.key)
        for c in result:
            if c.kind == "pcf" and c.key not in self._pcfs:
                self._pcfs[c.key] = {
                    "key": c.key, "a": list(c.formula["a"]), "b": list(c.formula["b"]),
                    "claim": c.claim, "constant": c.constant,
                }

    def done(self) -> bool:
        if self._next < len(self._walks):
            return False
        if not self.config["link"]:
            return True
        return self._all_told() and (self._link_told or not self._link_needed())

    def state(self) -> dict:
        return {
            "next": self._next,
            "walks": len(self._walks),
            "told": len(self._told),
            "pcfs": len(self._pcfs),
            "link_issued": self._link_issued,
            "link_done": self._link_told,
        }

    def total(self) -> int:
        """Number of walk tasks (plus the link task when linking)."""
        return len(self._walks) + (1 if self.config["link"] else 0)


def engine_walk_task(engine: CMFEngine, trajectory: Sequence[int], start: Sequence[Any]) -> Task:
    """A walk task of ``engine`` for any (trajectory, start) (tests, notebooks)."""
    return engine.walk_task(trajectory, start)


# --------------------------------------------------------------------------- executor


@register_executor("cmf")
def run_cmf_task(task: Task) -> list[Candidate]:
    """Execute a walk or a link task (pure: everything it needs is in the payload)."""
    p = task.payload
    if p.get("type") == "link":
        return _run_link(p)
    if p.get("type") == "walk":
        return _run_walk(p)
    raise EngineError(f"unknown cmf task type {p.get('type')!r}")


def _measure(formula: Any, depth: int) -> dict:
    """digits/term and δ of a formula with ``limit`` and ``delta`` (best effort)."""
    out: dict[str, Any] = {}
    try:
        e1 = formula.limit(max(depth // 2, 2), dps=30).error
        e2 = formula.limit(depth, dps=30).error
        if math.isfinite(e1) and math.isfinite(e2):
            out["digits_per_term"] = round((e1 - e2) / (depth - max(depth // 2, 2)), 6)
    except DiscoveryError:
        pass
    try:
        out["delta"] = round(float(formula.delta(depth)), 6)
    except (DiscoveryError, ZeroDivisionError, ValueError):
        out["delta"] = None
    return out


def _run_walk(p: Mapping) -> list[Candidate]:
    t0 = time.perf_counter()
    cmf = CMF.from_dict(p["cmf"])
    name = p.get("name") or cmf.name
    cmf = CMF(cmf.axes, cmf.matrices, name)
    walk = cmf.walk(p["trajectory"], p["start"])
    depth, digits, min_digits = int(p["depth"]), int(p["digits"]), int(p["min_digits"])
    constants = list(p["constants"])
    source = {"cmf": name, "trajectory": list(walk.trajectory),
              "start": [str(v) for v in walk.start]}
    out: list[Candidate] = []
    walk_info: dict[str, Any] = {}
    try:
        lim = walk.limit(depth)
    except DiscoveryError as exc:
        lim = None
        walk_info["error"] = str(exc)
    if lim is not None and lim.digits >= min_digits:
        found = identify_mobius(lim.value, min(lim.digits, digits), constants, p.get("max_coeff"))
        if found is not None:
            const, coeffs, claim = found
            ev = {"digits": lim.digits, "depth": depth, "mobius": list(coeffs), **source,
                  **_measure(walk, depth)}
            formula = walk.to_dict() | {"text": f"{walk!r}"}
            out.append(Candidate("cmf", walk.key, formula, claim, const, ev))
            walk_info = {"claim": claim}
    if cmf.rank == 2:
        out.extend(_pcf_candidates(walk, depth, digits, min_digits, constants, p, source,
                                   walk_info))
    for c in out:
        c.evidence["seconds"] = round(time.perf_counter() - t0, 4)
    return out


def _pcf_candidates(
    walk: CMFTrajectory, depth: int, digits: int, min_digits: int, constants: list[str],
    p: Mapping, source: dict, walk_info: dict,
) -> list[Candidate]:
    try:
        ext = walk.pcf()
    except DiscoveryError:
        return []
    pcf = ext.pcf
    try:
        plim = pcf.limit(depth)
    except DiscoveryError:
        return []
    if plim.digits < min_digits:
        return []
    found = identify_mobius(plim.value, min(plim.digits, digits), constants, p.get("max_coeff"))
    if found is None:
        return []
    const, coeffs, claim = found
    ev = {
        "digits": plim.digits, "depth": depth, "mobius": list(coeffs),
        "derived_from": source,
        "walk_mobius": None if ext.mobius is None else [list(r) for r in ext.mobius],
        "deflated_by": list(ext.deflated_by),
        **_measure(pcf, depth),
    }
    if walk_info.get("claim"):
        ev["walk_claim"] = walk_info["claim"]
    return [Candidate("pcf", pcf.key, pcf.to_dict(), claim, const, ev,
                      (("derived-from", walk.key),))]


def _run_link(p: Mapping) -> list[Candidate]:
    t0 = time.perf_counter()
    ours = [dict(x) for x in p["pcfs"]]
    known = [dict(x) for x in p.get("known", [])]
    pcfs = {x["key"]: PCF(tuple(x["a"]), tuple(x["b"])) for x in ours + known}
    edges: dict[str, list[tuple[str, dict]]] = {x["key"]: [] for x in ours}
    pairs = list(itertools.combinations([x["key"] for x in ours], 2))
    pairs += [(x["key"], y["key"]) for x in ours for y in known]
    for k1, k2 in pairs:
        try:
            cb = find_coboundary(pcfs[k1], pcfs[k2], max_degree=p.get("max_degree"))
        except DiscoveryError:
            continue
        if cb is None:
            continue
        info = {"U": str(cb.U.tolist()), "mu": str(cb.mu),
                "mobius": None if cb.mobius is None else [list(r) for r in cb.mobius],
                "relation": None if cb.mobius is None else "L1 = " + mobius_text(cb.mobius,
                                                                               "L2")}
        edges[k1].append((k2, {"other": k2, **info}))
        if k2 in edges:
            inv = cb.inverse()  # M2 U^{-1}(n+1) = mu^{-1} U^{-1} M1
            edges[k2].append((k1, {
                "other": k1, "U": str(inv.U.tolist()), "mu": str(inv.mu),
                "mobius": None if inv.mobius is None else [list(r) for r in inv.mobius],
                "relation": None if inv.mobius is None else "L1 = " + mobius_text(
                    inv.mobius, "L2"),
            }))
    out = []
    for x in ours:
        links = edges[x["key"]]
        if not links:
            continue
        pcf = pcfs[x["key"]]
        ev = {"equivalences": [info for _, info in links],
              "seconds": round(time.perf_counter() - t0, 4)}
        rels = tuple(("equivalent-to", other) for other, _ in links)
        out.append(Candidate("pcf", x["key"], pcf.to_dict(), x["claim"], x.get("constant"),
                             ev, rels))
    return out

