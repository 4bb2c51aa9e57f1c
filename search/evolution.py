"""Evolutionary search for numeric programs (after AutoNumerics-Zero, Real et al. 2023/24).

Programs (:class:`solvers.programs.Program`) start from the identity ``x -> x`` and evolve by
three mutations -- insert an operation on an edge, remove an operation, rewire an operand (or
change an operation) -- with weights 1:2:3, repeated until the program computes a different
function (functional fingerprint). About half of the children are unmutated copies, so that
good structures get their constants re-fitted. There is no crossover. Additions to the
paper's operators: half of the two-operand insertions are near-identity (``src + eps``,
``src * (1 + eps)``), so a child starts close to its parent's function and its inherited
constants stay a good start; a fifth of the others use the edge's source twice (``t*t``),
which is how exponentials get their squarings; a quarter of the insertions go on the output
edge (composition with an outer operation keeps the whole structure underneath); and 16 % of
the insertions are motifs: ``f -> f(x/2)^2`` (squaring with the argument halved: for
exponential-like targets about as good as the parent at once) and, on an edge,
``src -> src + eps/(x + d)`` (a near-identity continued-fraction level). The motifs took a
seed-0 search of 1200 tasks from 1.3e-8 at 9 ops (nothing better at 10) to 6.7e-10 at 10 ops,
and both 10-minute runs measured (seeds 0, 1) below the tier-A baseline at 10 ops.

Selection is multi-objective over (max error, cost): the population keeps, for every op count,
its best ``niche_size`` structures (one individual per structure), and fills up to
``population`` by NSGA-II ranking (non-dominated front, then crowding distance in
log-error/ops). Parents come from binary-like tournaments on that ranking or, with probability
``niche_selection``, from a uniformly chosen op count (so larger programs, dominated while
their constants are young, still have offspring). The result is the Pareto front of error vs
ops (:meth:`EvolutionEngine.front`, handed to the workbench by :meth:`EvolutionEngine.finish`).

Constant fitting is the hard part; it lives in :mod:`solvers.fitting`
(:func:`~solvers.fitting.fit_constants`: multistart Levenberg-Marquardt on a coarse grid, also
on log residuals for relative error, and CMA-ES, from the inherited constants and from the best
of 128 log-uniform signed random draws -- ``restarts`` of them for unmutated copies,
``mutant_restarts`` for mutants) and :mod:`solvers.minimax` (the polish on the full fitting
grid: Lawson's iteration, and for candidates that may enter the front sequential linear
programming and a nonlinear Remez exchange). Errors are evaluated in float64, so fits bottom
out near 1e-15.

Ask/tell protocol (engine ``"evolve"``): every task carries a batch of children to fit; the
executor (a pure function, any worker) returns one :class:`~search.base.Candidate` per fitted
child; ``tell`` merges them into the population. The children of a task are generated from
``(seed, task number)`` and the state only, so a run driven in task order is reproducible from
its seed.

Configuration (JSON-able): ``function`` ("2^x"), ``interval`` ([0, 1]), ``error``
("relative"|"absolute"), ``max_ops`` (12), ``seed`` (0), ``population`` (64), ``batch``
(children per task, 8), ``tournament`` (4), ``fma`` (false: ``+ - * /`` only),
``copy_fraction`` (0.5), ``niche_size`` (4), ``niche_selection`` (0.5), ``prune_fraction``
(0.1: children that are the best program of an op count minus one operation), ``max_tasks`` (None:
unbounded; the workbench's runner gives its own task budget instead), ``in_flight`` (4: tasks
asked ahead of their results; the search is reproducible for a given value, on any executor),
``float32`` (false: also check the front exhaustively in float32 when verifying), and fitting
options ``grid`` (1000), ``cma_grid`` (200), ``cma_popsize`` (24),
``cma_generations`` (250), ``restarts`` (12), ``mutant_restarts`` (4), ``cma_random``
(false), ``polish`` (true).

Examples
--------
>>> engine = EvolutionEngine({"function": "2^x", "interval": [0, 1], "max_ops": 4,
...                           "batch": 4, "max_tasks": 3, "seed": 1})
>>> from search.base import execute
>>> while not engine.done():  # the runner's loop, serially: three tasks of four children
...     for task in engine.ask(1):
...         engine.tell(task, execute(task))
>>> front = engine.front()  # x + c is found first
>>> min(d["max_error"] for d in front) < 0.04, all(d["ops"] <= 4 for d in front)
(True, True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from search.base import Candidate, EngineBase, Task, register_engine, register_executor
from search.config import Rule, check_config, interval
from solvers.errors import DivergenceError, ParseError
from solvers.fitting import FitResult, cma_es, fit_constants, random_constant
from solvers.programs import Node, Program, parse_target, program_from_dict

__all__ = [
    "EvolutionEngine",
    "run_evolve_task",
    "mutate",
    "pareto_front",
    "nondominated_ranks",
    "crowding_distance",
    "DEFAULTS",
    # the constant fitting lives in solvers.fitting; re-exported for existing callers
    "fit_constants",
    "FitResult",
    "cma_es",
]

DEFAULTS: dict[str, Any] = {
    "function": "2^x",
    "interval": [0.0, 1.0],
    "error": "relative",
    "max_ops": 12,
    "seed": 0,
    "population": 64,
    "batch": 8,
    "tournament": 4,
    "fma": False,
    "copy_fraction": 0.5,
    "max_tasks": None,
    "in_flight": 4,
    "float32": False,
    "grid": 1000,
    "cma_grid": 200,
    "cma_popsize": 24,
    "cma_generations": 250,
    "restarts": 12,
    "mutant_restarts": 4,
    "cma_random": False,
    "niche_size": 4,
    "niche_selection": 0.5,
    "prune_fraction": 0.1,
    "polish": True,
}

_MUTATIONS = ("insert", "remove", "rewire")
_MUTATION_WEIGHTS = np.array([1.0, 2.0, 3.0]) / 6.0


def _function_text(text: Any) -> str:
    try:
        parse_target(str(text))
    except ParseError as err:
        raise ValueError(str(err)) from None
    return str(text)


_RULES = {
    "function": Rule(str, check=_function_text, describe="a target function such as '2^x'"),
    "interval": interval(as_float=True),
    "error": Rule(str, choices=("relative", "absolute")),
    "max_ops": Rule(int, ge=1, le=64),
    "seed": Rule(int, ge=0, le=2**63 - 1),
    "population": Rule(int, ge=4, le=100_000),
    "batch": Rule(int, ge=1, le=10_000),
    "tournament": Rule(int, ge=0, le=1_000),
    "fma": Rule(bool),
    "copy_fraction": Rule(float, ge=0, le=1),
    "max_tasks": Rule(int, ge=0, nullable=True),
    "in_flight": Rule(int, ge=1, le=1_000),
    "float32": Rule(bool),
    "grid": Rule(int, ge=16, le=1_000_000),
    "cma_grid": Rule(int, ge=0, le=1_000_000),
    "cma_popsize": Rule(int, ge=0, le=10_000),
    "cma_generations": Rule(int, ge=0, le=100_000),
    "restarts": Rule(int, ge=0, le=10_000),
    "mutant_restarts": Rule(int, ge=0, le=10_000),
    "cma_random": Rule(bool),
    "niche_size": Rule(int, ge=0, le=10_000),
    "niche_selection": Rule(float, ge=0, le=1),
    "prune_fraction": Rule(float, ge=0, le=1),
    "polish": Rule(bool),
}


def _validated(config: Mapping) -> dict:
    return check_config("evolve", config, DEFAULTS, _RULES)


# ---------------------------------------------------------------------------------------------
# Mutations


class _M:
    """A mutable node used while mutating (operands are node objects, not indices)."""

    __slots__ = ("op", "args", "value")

    def __init__(self, op: str, args: list, value: float = 0.0):
        self.op, self.args, self.value = op, args, value


def _unpack(p: Program) -> list[_M]:
    out: list[_M] = []
    for nd in p.nodes:
        out.append(_M(nd.op, [out[a] for a in nd.args], nd.value))
    return out


def _pack(output: _M, x: _M) -> Program:
    order: list[_M] = [x]
    index: dict[int, int] = {id(x): 0}
    stack: list[tuple[_M, bool]] = [(output, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in index:
            continue
        if done:
            index[id(node)] = len(order)
            order.append(node)
            continue
        stack.append((node, True))
        for a in reversed(node.args):
            if id(a) not in index:
                stack.append((a, False))
    nodes = tuple(Node(n.op, tuple(index[id(a)] for a in n.args), n.value) for n in order)
    if output is x:
        return Program((Node("x"),))
    return Program(nodes)


def _operand(rng: np.random.Generator, pool: Sequence[_M], x: _M) -> _M:
    r = rng.random()
    if r < 1 / 3 or not pool:
        return x
    if r < 2 / 3:
        return _M("const", [], random_constant(rng))
    return pool[int(rng.integers(len(pool)))]


def _ops(fma: bool) -> list[str]:
    return ["add", "sub", "mul", "div"] + (["fma"] if fma else [])


#: Shares of the insertions that are motifs (two additions to the paper's operators).
_MOTIF_SQUARING = 0.08
_MOTIF_CF = 0.08


def _halve_and_square(nodes: list[_M], x: _M, output: _M) -> Program:
    """``f -> f(x/2)^2`` (two operations): for exponential-like targets the child is about as
    good as its parent at once, and its body has only half the interval left to approximate."""
    half = _M("mul", [x, _M("const", [], 0.5)])
    for n in nodes[1:]:
        n.args = [half if a is x else a for a in n.args]
    out = half if output is x else output
    return _pack(_M("mul", [out, out]), x)


def _continued_fraction_level(nodes: list[_M], x: _M, output: _M, opn: list[int],
                              rng: np.random.Generator) -> Program:
    """On a random edge, ``src -> src + eps/(x + d)`` (three operations, ``|eps| <= 1e-2``,
    ``2 <= |d| <= 32``): a near-identity step by which continued fractions grow a level."""
    j = opn[int(rng.integers(len(opn)))]
    s = int(rng.integers(len(nodes[j].args)))
    src = nodes[j].args[s]
    d = float(rng.choice([-1.0, 1.0]) * 10 ** rng.uniform(0.3, 1.5))
    eps = float(rng.choice([-1.0, 1.0]) * 10 ** rng.uniform(-4, -2))
    shifted = _M("add", [x, _M("const", [], d)])
    nodes[j].args[s] = _M("add", [src, _M("div", [_M("const", [], eps), shifted])])
    return _pack(output, x)


def _mutate_once(p: Program, kind: str, rng: np.random.Generator, fma: bool) -> Program | None:
    nodes = _unpack(p)
    x = nodes[0]
    output = nodes[-1]
    opn = [i for i, n in enumerate(nodes) if n.op not in ("x", "const")]
    if kind == "insert":
        motif = rng.random()
        if motif < _MOTIF_SQUARING:
            return _halve_and_square(nodes, x, output)
        if motif < _MOTIF_SQUARING + _MOTIF_CF and opn:
            return _continued_fraction_level(nodes, x, output, opn, rng)
        # an edge: (consumer index, slot), or the output edge (None, None)
        edges: list[tuple[int | None, int | None]] = [(None, None)]
        edges += [(i, s) for i in opn for s in range(len(nodes[i].args))]
        # the output edge gets a quarter of the insertions (composition with an outer
        # operation, e.g. a squaring, keeps the whole structure underneath)
        if rng.random() < 0.25:
            j, s = None, None
        else:
            j, s = edges[int(rng.integers(len(edges)))]
        src = output if j is None else nodes[j].args[s]
        pool = nodes[: (len(nodes) if j is None else j)]
        op = str(rng.choice(_ops(fma)))
        if op == "fma":
            others = [_operand(rng, pool, x), _operand(rng, pool, x)]
            pos = int(rng.integers(3))
            args = others[:pos] + [src] + others[pos:]
        elif rng.random() < 0.2:
            # the edge's source twice: squaring (or doubling, ...), the way exponentials are
            # built from a function of x/2^k
            args = [src, src]
        elif rng.random() < 0.5:
            # a near-identity insertion: src + eps, src * (1 + eps), ...: the child computes
            # almost the parent's function, so its inherited constants stay a good start
            eps = float(rng.choice([-1.0, 1.0]) * 10 ** rng.uniform(-4, -1))
            if op in ("add", "sub"):
                args = [src, _M("const", [], eps)]
            else:
                args = [src, _M("const", [], 1.0 + eps)]
        else:
            o = _operand(rng, pool, x)
            args = [src, o] if rng.random() < 0.5 else [o, src]
        new = _M(op, args)
        if j is None:
            output = new
        else:
            nodes[j].args[s] = new
        return _pack(output, x)
    if kind == "remove":
        if not opn:
            return None
        k = opn[int(rng.integers(len(opn)))]
        victim = nodes[k]
        repl = victim.args[int(rng.integers(len(victim.args)))]
        for n in nodes[k + 1 :]:
            n.args = [repl if a is victim else a for a in n.args]
        if output is victim:
            output = repl
        if output.op == "const":
            return None
        return _pack(output, x)
    if kind == "rewire":
        if not opn:
            return None
        k = opn[int(rng.integers(len(opn)))]
        node = nodes[k]
        s = int(rng.integers(len(node.args)))
        r = rng.random()
        if r < 0.25:  # change the operation instead of an operand
            choices = [o for o in _ops(fma) if o != node.op and (o == "fma") == (node.op == "fma")]
            if not choices:
                return None
            node.op = str(rng.choice(choices))
        else:
            node.args[s] = _operand(rng, nodes[:k], x)
        return _pack(output, x)
    raise ValueError(f"unknown mutation {kind!r}")


def mutate(program: Program, rng: np.random.Generator, max_ops: int = 12, fma: bool = False,
           max_steps: int = 30, kinds: Sequence[str] = _MUTATIONS) -> Program:
    """Apply insert/remove/rewire mutations (weights 1:2:3) until the function changes.

    Returns the canonical mutated program (or the original if ``max_steps`` attempts all
    failed). Programs over ``max_ops`` operations or with a non-finite constant are rejected.
    ``kinds`` restricts the mutations (chosen uniformly then), e.g. ``("remove",)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> child = mutate(Program.identity(), rng)
    >>> child.cost >= 1, child.fingerprint != Program.identity().fingerprint
    (True, True)
    """
    fp = program.fingerprint
    cur = program
    for _ in range(max_steps):
        if tuple(kinds) == _MUTATIONS:
            kind = _MUTATIONS[int(rng.choice(3, p=_MUTATION_WEIGHTS))]
        else:
            kind = kinds[int(rng.integers(len(kinds)))]
        try:
            new = _mutate_once(cur, kind, rng, fma)
            if new is None:
                continue
            new = new.canonical()
        except (DivergenceError, ParseError):
            continue
        if new.cost > max_ops:
            continue
        cur = new
        if cur.fingerprint != fp:
            return cur
    return program


# ---------------------------------------------------------------------------------------------
# NSGA-II pieces


def nondominated_ranks(points: Sequence[tuple[float, float]]) -> list[int]:
    """Non-dominated front index (0 = Pareto front) of each (error, cost) point (minimised).

    Examples
    --------
    >>> nondominated_ranks([(1.0, 1), (0.5, 2), (2.0, 2), (0.1, 5)])
    [0, 0, 1, 0]
    """
    n = len(points)
    ranks = [-1] * n
    remaining = set(range(n))
    r = 0
    while remaining:
        front = [i for i in remaining if not any(
            points[j][0] <= points[i][0] and points[j][1] <= points[i][1]
            and points[j] != points[i] for j in remaining)]
        for i in front:
            ranks[i] = r
        remaining -= set(front)
        r += 1
    return ranks


def crowding_distance(points: Sequence[tuple[float, float]]) -> list[float]:
    """NSGA-II crowding distance (in log-error and cost) within one front.

    Examples
    --------
    >>> crowding_distance([(1.0, 1), (0.1, 2), (0.01, 3)])
    [inf, 2.0, inf]
    """
    n = len(points)
    d = [0.0] * n
    if n <= 2:
        return [math.inf] * n
    for m in range(2):
        vals = [math.log10(max(p[0], 1e-300)) if m == 0 else float(p[1]) for p in points]
        order = sorted(range(n), key=lambda i: vals[i])
        span = vals[order[-1]] - vals[order[0]] or 1.0
        d[order[0]] = d[order[-1]] = math.inf
        for k in range(1, n - 1):
            d[order[k]] += (vals[order[k + 1]] - vals[order[k - 1]]) / span
    return d


def pareto_front(items: Sequence[dict]) -> list[dict]:
    """The items (dicts with ``ops`` and ``max_error``) no other item beats, sorted by ops.

    Examples
    --------
    >>> pareto_front([{"ops": 1, "max_error": 0.1}, {"ops": 2, "max_error": 0.2},
    ...               {"ops": 3, "max_error": 0.01}])
    [{'ops': 1, 'max_error': 0.1}, {'ops': 3, 'max_error': 0.01}]
    """
    out: list[dict] = []
    for it in sorted(items, key=lambda d: (d["ops"], d["max_error"])):
        if not out or it["max_error"] < out[-1]["max_error"]:
            out.append(it)
    return out


# ---------------------------------------------------------------------------------------------
# The engine


@register_engine("evolve")
class EvolutionEngine(EngineBase):
    """Driver of the evolutionary search (lives in the client process).

    ``ask(n)`` produces up to ``n`` tasks, each with ``batch`` children of tournament-selected
    parents; ``tell`` adds the fitted children and keeps the best ``population`` individuals by
    NSGA-II ranking (one per structure). :meth:`front` is the best program found for each
    number of operations, Pareto-filtered.
    """

    name = "evolve"
    ordered = True  # a task's children come from the population the earlier tasks left

    def __init__(self, config: Mapping):
        self.config = _validated(config)
        # tasks asked ahead of the results: part of the configuration, so that a seed's run
        # is the same on any executor and any number of workers
        self.max_in_flight = self.config["in_flight"]
        self._asked = 0
        self._told = 0
        ident = Program.identity()
        self.population: list[dict] = [self._individual(ident, math.inf)]
        self.archive: dict[int, dict] = {}
        self.evaluations = 0

    # -- individuals ---------------------------------------------------------------------------
    @staticmethod
    def _individual(p: Program, error: float) -> dict:
        return {"program": p.to_dict(), "ops": p.cost, "max_error": float(error),
                "shape": p.shape_key}

    def _select(self, rng: np.random.Generator) -> dict:
        pop = self.population
        if rng.random() < self.config["niche_selection"]:
            # an op count chosen uniformly among those present, then its best or a random
            # member: larger programs, dominated while young, still get offspring
            levels = sorted({d["ops"] for d in pop})
            lv = levels[int(rng.integers(len(levels)))]
            members = sorted((d for d in pop if d["ops"] == lv), key=lambda d: d["max_error"])
            return members[0] if rng.random() < 0.5 else members[int(rng.integers(len(members)))]
        k = min(self.config["tournament"], len(pop))
        idx = rng.choice(len(pop), size=k, replace=False)
        return min((pop[i] for i in idx), key=lambda d: (d["_rank"], -d["_crowd"]))

    def _rank(self) -> None:
        pts = [(d["max_error"] if math.isfinite(d["max_error"]) else 1e300, d["ops"])
               for d in self.population]
        ranks = nondominated_ranks(pts)
        for r in set(ranks):
            members = [i for i, v in enumerate(ranks) if v == r]
            crowd = crowding_distance([pts[i] for i in members])
            for i, c in zip(members, crowd, strict=True):
                self.population[i]["_rank"] = r
                self.population[i]["_crowd"] = c

    # -- protocol ------------------------------------------------------------------------------
    def ask(self, n: int) -> list[Task]:
        cfg = self.config
        tasks = []
        for _ in range(max(n, 0)):
            if self.done():
                break
            i = self._asked
            rng = np.random.default_rng([cfg["seed"], i])
            self._rank()
            children, copies = [], []
            for _ in range(cfg["batch"]):
                if self.archive and rng.random() < cfg["prune_fraction"]:
                    # pruning: the best program of some op count loses one operation (its
                    # structure may carry a redundant one, e.g. a scaling after a squaring)
                    levels = sorted(self.archive)
                    parent = program_from_dict(
                        self.archive[levels[int(rng.integers(len(levels)))]]["program"])
                    child = mutate(parent, rng, cfg["max_ops"], cfg["fma"], kinds=("remove",))
                    children.append(child.to_dict())
                    copies.append(True)  # refitted with the copies' restarts
                    continue
                parent = program_from_dict(self._select(rng)["program"])
                copy = bool(rng.random() < cfg["copy_fraction"] and parent.cost > 0)
                child = parent if copy else mutate(parent, rng, cfg["max_ops"], cfg["fma"])
                children.append(child.to_dict())
                copies.append(copy)
            payload = {k: cfg[k] for k in ("function", "interval", "error", "max_ops", "grid",
                                           "cma_grid", "cma_popsize", "cma_generations",
                                           "restarts", "mutant_restarts", "polish",
                                           "cma_random")}
            payload.update(children=children, copies=copies, seed=[cfg["seed"], i, 1],
                           archive={str(k): v["max_error"] for k, v in self.archive.items()})
            tasks.append(Task("evolve", f"evolve:{cfg['seed']}:{i}", payload))
            self._asked += 1
        return tasks

    def tell(self, task: Task, result: list[Candidate]) -> None:
        self._told += 1
        for cand in result:
            p = program_from_dict(cand.formula["program"])
            err = float(cand.evidence.get("max_error_fit", math.inf))
            self.evaluations += int(cand.evidence.get("evaluations", 0))
            ind = self._individual(p, err)
            self.population.append(ind)
            best = self.archive.get(ind["ops"])
            if math.isfinite(err) and (best is None or err < best["max_error"]):
                self.archive[ind["ops"]] = ind
        self._survive()

    def _survive(self) -> None:
        cfg = self.config
        by_shape: dict[str, dict] = {}
        for d in self.population:
            old = by_shape.get(d["shape"])
            if old is None or d["max_error"] < old["max_error"]:
                by_shape[d["shape"]] = d
        pop = list(by_shape.values())
        # per-cost elitism: the best `niche_size` structures of every op count stay ...
        keep: list[dict] = []
        for lv in sorted({d["ops"] for d in pop}):
            members = sorted((d for d in pop if d["ops"] == lv), key=lambda d: d["max_error"])
            keep += members[: cfg["niche_size"]]
        kept = {id(d) for d in keep}
        # ... and NSGA-II ranking (front, then crowding distance) fills the rest
        self.population = pop
        self._rank()
        rest = sorted((d for d in pop if id(d) not in kept),
                      key=lambda d: (d["_rank"], -d["_crowd"], d["ops"]))
        self.population = keep + rest[: max(cfg["population"] - len(keep), 0)]

    def done(self) -> bool:
        mt = self.config["max_tasks"]
        return mt is not None and self._asked >= mt

    def state(self) -> dict:
        strip = [{k: v for k, v in d.items() if not k.startswith("_")} for d in self.population]
        return {"asked": self._asked, "told": self._told, "population": strip,
                "archive": {str(k): v for k, v in self.archive.items()},
                "evaluations": self.evaluations}

    def restore(self, state: Mapping) -> None:
        """Resume from :meth:`state` output."""
        self._asked = int(state["asked"])
        self._told = int(state["told"])
        self.population = [dict(d) for d in state["population"]]
        self.archive = {int(k): dict(v) for k, v in state["archive"].items()}
        self.evaluations = int(state.get("evaluations", 0))

    def total(self) -> int | None:
        return self.config["max_tasks"]

    def front(self) -> list[dict]:
        """Best program per op count found so far, Pareto-filtered (fit-grid errors)."""
        return pareto_front(list(self.archive.values()))

    def to_record(self, task: Task, result: list[Candidate]) -> list[Candidate]:
        """Nothing per task: the fitted children only feed the population."""
        return []

    def finish(self) -> list[Candidate]:
        """The Pareto front, as ``program`` candidates claiming their fitting-grid errors.

        The workbench re-measures each program's error against a 50-digit reference before
        it records it, and the verified error becomes the claim.
        """
        cfg = self.config
        a, b = cfg["interval"]
        out = []
        for d in self.front():
            p = program_from_dict(d["program"])
            out.append(Candidate(
                kind="program",
                key=p.key,
                formula={"program": p.to_dict(), "ops": p.cost, "function": cfg["function"],
                         "interval": [a, b], "error": cfg["error"], "float32": cfg["float32"],
                "text": p.to_text(),
                         "c_source": p.to_c(), "latex": p.latex()},
                claim=(f"{cfg['function']} on [{a:g}, {b:g}]: max {cfg['error']} error "
                       f"{d['max_error']:.3g} on the fitting grid in {p.cost} ops"),
                evidence={"max_error_fit": d["max_error"], "ops": p.cost,
                          "grid": cfg["grid"], "tasks": self._told},
            ))
        return out


@register_executor("evolve")
def run_evolve_task(task: Task) -> list[Candidate]:
    """Fit the constants of every child of the task; one candidate per child (pure)."""
    p = task.payload
    rng = np.random.default_rng(p["seed"])
    a, b = p["interval"]
    out = []
    copies = p.get("copies")
    for j, d in enumerate(p["children"]):
        prog = program_from_dict(d)
        if prog.cost > p["max_ops"]:
            continue
        # the expensive polish only for children that may enter the front
        best = p.get("archive", {}).get(str(prog.cost), math.inf)
        copy = bool(copies[j]) if copies else False
        r = fit_constants(prog, p["function"], (a, b), p["error"], rng, grid=p["grid"],
                          cma_grid=p["cma_grid"], cma_popsize=p["cma_popsize"],
                          cma_generations=p["cma_generations"],
                          restarts=p["restarts"] if copy else p.get("mutant_restarts", 1),
                          polish=p["polish"], full_polish_below=10 * best,
                          cma_random=bool(p.get("cma_random", DEFAULTS["cma_random"])))
        prog = r.program
        out.append(Candidate(
            kind="program",
            key=prog.key,
            formula={"program": prog.to_dict(), "ops": prog.cost, "function": p["function"],
                     "interval": [a, b], "error": p["error"]},
            claim=f"{p['function']} on [{a:g}, {b:g}]",
            constant=None,
            evidence={"max_error_fit": r.error, "ops": prog.cost, "grid": p["grid"],
                      "evaluations": r.evaluations, "fit_seconds": r.seconds,
                      "text": prog.to_text()},
        ))
    return out
