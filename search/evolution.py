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

Constant fitting is the hard part. From the inherited constants and from the best of 128
log-uniform signed random draws (``restarts`` of them for unmutated copies, ``mutant_restarts``
for mutants), Levenberg-Marquardt (MINPACK, analytic forward-mode Jacobian) solves the
least-squares problem on a coarse grid (``cma_grid`` points), for relative error also on the
log residuals ``log(p/f)``, in which a structure ending in ``t^8`` is as easy as one ending in
``t``; CMA-ES (numpy, population ``cma_popsize``) on the log of the max weighted error starts
from the inherited constants with small and large steps (and from the random draws too if
``cma_random``). The two best results are polished on the full fitting grid (``grid``
points): Lawson's iteratively reweighted least squares with Levenberg-Marquardt steps, and
for candidates that may enter the front, sequential linear minimax (bold and trust-region
variants) and a nonlinear Remez exchange (Newton on the equioscillation equations). Errors
are evaluated in float64, so fits bottom out near 1e-15. Least squares first matters: CMA-ES
alone from random starts left the published 10-op structure at ~1e-9, the multistart
Levenberg-Marquardt fit brings it to ~2e-14.

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
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from search.base import Candidate, EngineBase, Task, register_engine, register_executor
from solvers.errors import DivergenceError, EngineError, ParseError
from solvers.programs import (
    Node,
    Program,
    evaluate,
    evaluate_batch_max_error,
    evaluate_jacobian,
    fit_grid,
    parse_target,
    program_from_dict,
)

__all__ = [
    "EvolutionEngine",
    "run_evolve_task",
    "mutate",
    "fit_constants",
    "FitResult",
    "cma_es",
    "pareto_front",
    "nondominated_ranks",
    "crowding_distance",
    "DEFAULTS",
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


def _validated(config: Mapping) -> dict:
    unknown = set(config) - set(DEFAULTS)
    if unknown:
        raise EngineError(f"Unknown evolve option(s): {', '.join(sorted(unknown))}")
    cfg = dict(DEFAULTS, **config)
    try:
        parse_target(str(cfg["function"]))
    except ParseError as err:
        raise EngineError(f"evolve: cannot parse function {cfg['function']!r}: {err}") from None
    iv = cfg["interval"]
    if (not isinstance(iv, (list, tuple)) or len(iv) != 2
            or not all(isinstance(v, (int, float)) for v in iv) or not iv[0] < iv[1]):
        raise EngineError(f"evolve: interval must be [a, b] with a < b, not {iv!r}")
    cfg["interval"] = [float(iv[0]), float(iv[1])]
    if cfg["error"] not in ("relative", "absolute"):
        raise EngineError("evolve: error must be 'relative' or 'absolute'")
    for name in ("max_ops", "population", "batch", "tournament", "grid", "cma_grid",
                 "cma_popsize", "cma_generations", "restarts", "mutant_restarts",
                 "niche_size", "seed", "in_flight"):
        v = cfg[name]
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise EngineError(f"evolve option {name!r} must be a non-negative integer, not {v!r}")
    if cfg["max_ops"] < 1 or cfg["population"] < 4 or cfg["batch"] < 1 or cfg["grid"] < 16:
        raise EngineError("evolve: need max_ops >= 1, population >= 4, batch >= 1, grid >= 16")
    if cfg["in_flight"] < 1:
        raise EngineError("evolve: in_flight must be at least 1")
    if cfg["max_tasks"] is not None and (not isinstance(cfg["max_tasks"], int)
                                         or cfg["max_tasks"] < 0):
        raise EngineError("evolve option 'max_tasks' must be a non-negative integer or null")
    for name in ("copy_fraction", "niche_selection", "prune_fraction"):
        if not 0 <= float(cfg[name]) <= 1:
            raise EngineError(f"evolve option {name!r} must be in [0, 1]")
    return cfg


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


def _random_const(rng: np.random.Generator) -> float:
    """Log-uniform magnitude in [1e-2, 1e2], random sign."""
    return float(rng.choice([-1.0, 1.0]) * 10 ** rng.uniform(-2, 2))


def _operand(rng: np.random.Generator, pool: Sequence[_M], x: _M) -> _M:
    r = rng.random()
    if r < 1 / 3 or not pool:
        return x
    if r < 2 / 3:
        return _M("const", [], _random_const(rng))
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
# Constant fitting


def cma_es(fn: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, scales: np.ndarray,
           rng: np.random.Generator, popsize: int = 24, max_generations: int = 250,
           patience: int = 30, tol: float = 1e-3) -> tuple[np.ndarray, float, int]:
    """Minimise ``fn`` (vectorised: rows of a matrix -> values) by CMA-ES.

    ``(mu/mu_w, lambda)``-CMA-ES with cumulative step-size adaptation, rank-one and rank-mu
    covariance updates (Hansen's standard settings); the initial covariance is
    ``diag(scales^2)``. Stops after ``max_generations``, or when the best value has not
    improved by ``tol`` in ``patience`` generations, or when the step size is negligible.

    Returns ``(best_x, best_f, evaluations)``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> f = lambda X: np.sum((X - np.array([1.0, -2.0])) ** 2, axis=1)
    >>> x, fx, _ = cma_es(f, np.zeros(2), np.ones(2), rng, popsize=12, max_generations=200,
    ...                   patience=200)
    >>> np.allclose(x, [1, -2], atol=1e-6)
    True
    """
    with np.errstate(all="ignore"):
        return _cma(fn, x0, scales, rng, popsize, max_generations, patience, tol)


def _cma(fn, x0, scales, rng, popsize, max_generations, patience, tol):
    n = len(x0)
    lam = max(popsize, 4)
    mu = lam // 2
    w = np.log(mu + 0.5) - np.log(np.arange(1, mu + 1))
    w /= w.sum()
    mueff = 1.0 / np.sum(w**2)
    cc = (4 + mueff / n) / (n + 4 + 2 * mueff / n)
    cs = (mueff + 2) / (n + mueff + 5)
    c1 = 2 / ((n + 1.3) ** 2 + mueff)
    cmu = min(1 - c1, 2 * (mueff - 2 + 1 / mueff) / ((n + 2) ** 2 + mueff))
    damps = 1 + 2 * max(0.0, math.sqrt((mueff - 1) / (n + 1)) - 1) + cs
    chin = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n))
    mean = np.array(x0, dtype=float)
    sigma = 1.0
    C = np.diag(np.asarray(scales, dtype=float) ** 2)
    pc = np.zeros(n)
    ps = np.zeros(n)
    B, D = np.eye(n), np.sqrt(np.diag(C)).copy()
    best_x, best_f = mean.copy(), float(fn(mean[None, :])[0])
    evals = 1
    last_improve, ref_f = 0, best_f
    for g in range(max_generations):
        z = rng.standard_normal((lam, n))
        y = (z * D) @ B.T
        X = mean + sigma * y
        f = fn(X)
        evals += lam
        f = np.where(np.isfinite(f), f, np.inf)
        idx = np.argsort(f, kind="stable")
        if f[idx[0]] < best_f:
            best_f, best_x = float(f[idx[0]]), X[idx[0]].copy()
        if best_f < ref_f - tol:
            ref_f, last_improve = best_f, g
        elif g - last_improve > patience:
            break
        ysel = y[idx[:mu]]
        yw = w @ ysel
        mean = mean + sigma * yw
        # C^{-1/2} yw = B diag(1/D) B^T yw
        invsq = B @ ((B.T @ yw) / D)
        ps = (1 - cs) * ps + math.sqrt(cs * (2 - cs) * mueff) * invsq
        hsig = (np.linalg.norm(ps) / math.sqrt(1 - (1 - cs) ** (2 * (g + 1))) / chin
                < 1.4 + 2 / (n + 1))
        pc = (1 - cc) * pc + hsig * math.sqrt(cc * (2 - cc) * mueff) * yw
        C = ((1 - c1 - cmu) * C + c1 * (np.outer(pc, pc) + (1 - hsig) * cc * (2 - cc) * C)
             + cmu * (ysel.T * w) @ ysel)
        sigma *= math.exp(min(1.0, (cs / damps) * (np.linalg.norm(ps) / chin - 1)))
        C = (C + C.T) / 2
        try:
            evals_, B = np.linalg.eigh(C)
        except np.linalg.LinAlgError:
            break
        D = np.sqrt(np.maximum(evals_, 1e-300))
        if sigma * D.max() <= 1e-15 * (np.abs(mean).max() + 1e-300) or not np.isfinite(sigma):
            break
    return best_x, best_f, evals


@dataclass(frozen=True)
class FitResult:
    """A program with fitted constants and its max weighted error on the fitting grid."""

    program: Program
    error: float
    evaluations: int
    seconds: float


def _max_err(program: Program, C: np.ndarray, xs, f, w) -> np.ndarray:
    return evaluate_batch_max_error(program, C, xs, f, w)


def _lawson_polish(program: Program, c: np.ndarray, xs, f, w, iters: int = 40,
                   patience: int = 8):
    """Lawson's iteration (reweighted least squares -> minimax) with Levenberg-Marquardt
    steps on the reweighted least-squares problem; returns the best constants seen."""
    m = len(xs)
    u = np.full(m, 1.0 / m)
    best_c = c.copy()
    best_e = float(_max_err(program, c[None, :], xs, f, w)[0])
    lam = 1e-6
    k = len(c)
    stall = 0
    for _ in range(iters):
        y, J = _jac(program, c, xs)
        r = (y - f) * w
        if not np.all(np.isfinite(r)):
            break
        ok = np.all(np.isfinite(J), axis=1)
        Jw = np.where(ok[:, None], J * w[:, None], 0.0)
        su = np.sqrt(u) * ok
        A = Jw * su[:, None]
        b = -r * su
        scale = np.sqrt(np.sum(A * A, axis=0))
        scale[scale == 0] = 1.0
        As = A / scale
        obj = float(np.sum(u * r * r))
        for _ in range(12):
            M = np.vstack([As, math.sqrt(lam) * np.eye(k)])
            rhs = np.concatenate([b, np.zeros(k)])
            try:
                ds, *_ = np.linalg.lstsq(M, rhs, rcond=None)
            except np.linalg.LinAlgError:
                ds = None
            if ds is not None:
                cn = c + ds / scale
                rn = (_eval(program, cn, xs) - f) * w
                if np.all(np.isfinite(rn)) and float(np.sum(u * rn * rn)) < obj:
                    lam = max(lam / 4, 1e-12)
                    break
            lam *= 8
        else:
            break
        c = cn
        a = np.abs(rn)
        e = float(a.max())
        if e < best_e * (1 - 1e-6):
            best_e, best_c, stall = e, c.copy(), 0
        else:
            stall += 1
            if e < best_e:
                best_e, best_c = e, c.copy()
            if stall >= patience:
                break
        ssum = float(np.sum(u * a))
        if ssum <= 0:
            break
        u = u * a / ssum
    return best_c, best_e


def _slp_polish(program: Program, c: np.ndarray, xs, f, w, iters: int = 30,
                inner: int = 20):
    """Sequential linear minimax with a trust region: linearise the weighted error around the
    constants, solve ``min_d max_i |r_i + J_i d| + damping`` approximately (Lawson's
    iteration, weights kept from one linearisation to the next), accept the step if the true
    max error drops (then relax the damping), else damp harder and retry."""
    m, k = len(xs), len(c)
    u = np.full(m, 1.0 / m)
    best_e = float(_max_err(program, c[None, :], xs, f, w)[0])
    if not math.isfinite(best_e):
        return c, best_e
    mu = 1e-8
    fails = 0
    for _ in range(iters):
        y, J = _jac(program, c, xs)
        r = (y - f) * w
        ok = np.all(np.isfinite(J), axis=1) & np.isfinite(r)
        A = np.where(ok[:, None], J * w[:, None], 0.0)
        scale = np.sqrt(np.sum(A * A, axis=0))
        scale[scale == 0] = 1.0
        As = A / scale
        rr = np.where(ok, r, 0.0)
        accepted = False
        tries = 0
        while not accepted and tries < 5:
            tries += 1
            uu = u.copy()
            best_lin, best_d = float(np.max(np.abs(rr))), np.zeros(k)
            for _ in range(inner):
                su = np.sqrt(uu)
                M = np.vstack([As * su[:, None], math.sqrt(mu) * np.eye(k)])
                rhs = np.concatenate([-rr * su, np.zeros(k)])
                d, *_ = np.linalg.lstsq(M, rhs, rcond=None)
                res = np.abs(rr + As @ d)
                mx = float(res.max())
                if mx < best_lin:
                    best_lin, best_d = mx, d
                ssum = float(np.sum(uu * res))
                if ssum <= 0:
                    break
                uu = np.maximum(uu * res / ssum, 1e-300)
            cn = c + best_d / scale
            e = float(_max_err(program, cn[None, :], xs, f, w)[0])
            if e < best_e:
                accepted = True
                u = uu
                mu = max(mu / 10, 1e-14)
            else:
                mu *= 100
        if not accepted:
            break
        gain = (best_e - e) / best_e
        c, best_e = cn, e
        fails = fails + 1 if gain < 1e-3 else 0
        if fails >= 3:
            break
    return c, best_e


def _slp_halving(program: Program, c: np.ndarray, xs, f, w, iters: int = 20,
                 inner: int = 40):
    """Sequential linear minimax with a line search: the full linearised minimax step, then
    ``d/4, d/16, ...`` until the true max error drops (bolder than :func:`_slp_polish`)."""
    m, k = len(xs), len(c)
    u = np.full(m, 1.0 / m)
    best_e = float(_max_err(program, c[None, :], xs, f, w)[0])
    if not math.isfinite(best_e):
        return c, best_e
    for _ in range(iters):
        y, J = _jac(program, c, xs)
        r = (y - f) * w
        ok = np.all(np.isfinite(J), axis=1) & np.isfinite(r)
        A = np.where(ok[:, None], J * w[:, None], 0.0)
        scale = np.sqrt(np.sum(A * A, axis=0))
        scale[scale == 0] = 1.0
        As = A / scale
        rr = np.where(ok, r, 0.0)
        best_lin, best_d = float(np.max(np.abs(rr))), np.zeros(k)
        for _ in range(inner):
            su = np.sqrt(u)
            M = np.vstack([As * su[:, None], 1e-10 * np.eye(k)])
            rhs = np.concatenate([-rr * su, np.zeros(k)])
            d, *_ = np.linalg.lstsq(M, rhs, rcond=None)
            res = np.abs(rr + As @ d)
            mx = float(res.max())
            if mx < best_lin:
                best_lin, best_d = mx, d
            ssum = float(np.sum(u * res))
            if ssum <= 0:
                break
            u = np.maximum(u * res / ssum, 1e-300)
        d = best_d / scale
        alpha = 1.0
        for _ in range(8):
            cn = c + alpha * d
            e = float(_max_err(program, cn[None, :], xs, f, w)[0])
            if e < best_e:
                break
            alpha /= 4
        else:
            break
        improvement = best_e - e
        c, best_e = cn, e
        if improvement <= 1e-3 * best_e:
            break
    return c, best_e


def _lm_fit(program: Program, c0: np.ndarray, xs, f, w, log: bool,
            max_nfev: int | None = None) -> tuple[np.ndarray, int]:
    """Levenberg-Marquardt (MINPACK, analytic Jacobian) on the weighted residuals, or on
    ``log(p/f)`` (``log=True``; points where ``p/f <= 0`` get a large constant residual, so a
    step that creates them is rejected). Returns the constants and the evaluation count."""
    from scipy.optimize import least_squares

    k = len(c0)

    def res(c: np.ndarray) -> np.ndarray:
        y = _eval(program, c, xs)
        if log:
            r = np.full_like(y, 50.0)
            q = y / f
            pos = q > 0
            r[pos] = np.log(q[pos])
        else:
            r = (y - f) * w
        return np.where(np.isfinite(r), r, 50.0)

    def jac(c: np.ndarray) -> np.ndarray:
        y, J = _jac(program, c, xs)
        J = J / y[:, None] if log else J * w[:, None]
        return np.where(np.isfinite(J), J, 0.0)

    r0 = res(c0)
    if not np.all(np.abs(r0) < 50.0):
        return c0, 1
    try:
        sol = least_squares(res, c0, jac=jac, method="lm", xtol=1e-15, ftol=1e-15,
                            gtol=1e-15, max_nfev=max_nfev or 60 * (k + 1), x_scale="jac")
    except (ValueError, np.linalg.LinAlgError):
        return c0, 1
    x = sol.x if np.all(np.isfinite(sol.x)) else c0
    return x, int(sol.nfev)


def _eval(program: Program, c: np.ndarray, xs: np.ndarray) -> np.ndarray:
    return evaluate(program, xs, consts=c)


def _lstsq(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Least squares with column equilibration: derivatives with respect to constants of very
    different sizes (1e-23 next to 8) would otherwise fall under lstsq's rank cutoff."""
    scale = np.sqrt(np.sum(A * A, axis=0))
    scale[scale == 0] = 1.0
    sol, *_ = np.linalg.lstsq(A / scale, b, rcond=None)
    return sol / scale


def _jac(program: Program, c: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values and constant-derivatives; rows where forward mode meets IEEE infinities (e.g.
    ``c/x`` at 0, whose value is still finite) are differentiated by central differences."""
    y, J = evaluate_jacobian(program, xs, consts=c)
    bad = np.flatnonzero(~np.all(np.isfinite(J), axis=1) & np.isfinite(y))
    if len(bad):
        xb = xs[bad]
        for j in range(len(c)):
            h = 1e-7 * max(abs(c[j]), 1e-8)
            cp, cm = c.copy(), c.copy()
            cp[j] += h
            cm[j] -= h
            J[bad, j] = (_eval(program, cp, xb) - _eval(program, cm, xb)) / (2 * h)
    return y, J


def _alternants(r: np.ndarray, count: int) -> list[int] | None:
    """Indices of ``count`` alternating extrema of ``r`` (largest |r| per sign run).

    Examples
    --------
    >>> _alternants(np.array([1.0, 2.0, -1.0, -3.0, 0.0, 0.5, -0.1]), 3)
    [1, 3, 5]
    """
    nz = np.flatnonzero(r != 0)
    if len(nz) == 0:
        return None
    sg = r[nz] > 0
    starts = np.concatenate([[0], np.flatnonzero(sg[1:] != sg[:-1]) + 1])
    if len(starts) < count:
        return None
    ends = np.concatenate([starts[1:], [len(nz)]])
    a = np.abs(r[nz])
    runs = [int(nz[s0 + int(np.argmax(a[s0:e0]))]) for s0, e0 in zip(starts, ends, strict=True)]
    while len(runs) > count:
        # drop the smaller of the two ends (keeps alternation)
        if abs(r[runs[0]]) < abs(r[runs[-1]]):
            runs.pop(0)
        else:
            runs.pop()
    return runs


def _remez_polish(program: Program, c: np.ndarray, xs, f, w, iters: int = 12):
    """Nonlinear Remez: Newton on r(x_i; c) = s_i E at k+1 alternation points, exchanged."""
    k = len(c)
    best_c = c.copy()
    best_e = float(_max_err(program, c[None, :], xs, f, w)[0])
    for _ in range(iters):
        y = _eval(program, c, xs)
        r = (y - f) * w
        if not np.all(np.isfinite(r)):
            break
        _, Jall = _jac(program, c, xs)
        finite = np.all(np.isfinite(Jall), axis=1)
        sub = np.flatnonzero(finite)
        idx = _alternants(r[sub], k + 1)
        if idx is None:
            break
        idx = sub[idx]
        s = np.sign(r[idx])
        E = float(np.mean(np.abs(r[idx])))
        cn = c.copy()
        ok = True
        for _ in range(6):
            yi, Ji = _jac(program, cn, xs[idx])
            ri = (yi - f[idx]) * w[idx]
            A = np.hstack([Ji * w[idx][:, None], -s[:, None]])
            rhs = -(ri - s * E)
            if not np.all(np.isfinite(A)):
                ok = False
                break
            sol = _lstsq(A, rhs)
            cn = cn + sol[:k]
            E = E + sol[k]
            if np.max(np.abs(sol[:k])) <= 1e-15 * (np.max(np.abs(cn)) + 1e-300):
                break
        if not ok:
            break
        e = float(_max_err(program, cn[None, :], xs, f, w)[0])
        if not e < best_e:
            break
        best_e, best_c, c = e, cn.copy(), cn
    return best_c, best_e


def fit_constants(program: Program, function: str, interval: Sequence[float],
                  error: str = "relative", rng: np.random.Generator | None = None,
                  grid: int = 1000, cma_grid: int = 200, cma_popsize: int = 24,
                  cma_generations: int = 250, restarts: int = 12, polish: bool = True,
                  full_polish_below: float = math.inf, cma_random: bool = False) -> FitResult:
    """Fit the program's constants to minimise the max error on the fitting grid.

    Levenberg-Marquardt on the least-squares problem over a coarse grid (``cma_grid``
    points; also on log residuals for relative error) from the current constants and from
    the best ``restarts`` of 128 log-uniform signed random draws; CMA-ES on
    ``log(max error)`` from the current constants (small and large initial steps; from the
    random draws too if ``cma_random``). The two best are polished on the full grid
    (``grid`` points) by Lawson's iteration with Levenberg-Marquardt steps; if that gives an
    error below ``full_polish_below``, also by sequential linear minimax (bold and
    trust-region variants) and a nonlinear Remez exchange.

    Examples
    --------
    >>> p = Program.build(lambda x: 1.0 + 1.0 / (x + 1.0))  # a + b/(x + c): 3 ops
    >>> r = fit_constants(p, "2^x", (0, 1), rng=np.random.default_rng(0), restarts=8)
    >>> f"{r.error:.3g}"  # the (1, 1) minimax error
    '0.000867'
    """
    with np.errstate(all="ignore"):  # overflow inside a candidate's evaluation is its problem
        return _fit(program, function, interval, error, rng or np.random.default_rng(0), grid,
                    cma_grid, cma_popsize, cma_generations, restarts, polish,
                    full_polish_below, cma_random)


def _fit(program: Program, function: str, interval: Sequence[float], error: str,
         rng: np.random.Generator, grid: int, cma_grid: int, cma_popsize: int,
         cma_generations: int, restarts: int, polish: bool,
         full_polish_below: float, cma_random: bool) -> FitResult:
    t0 = time.perf_counter()
    iv = (float(interval[0]), float(interval[1]))
    xs, f, w = fit_grid(function, iv, grid, error)
    c0 = np.array(program.constants, dtype=float)
    if len(c0) == 0:
        e = float(_max_err(program, np.zeros((1, 0)), xs, f, w)[0])
        return FitResult(program, e, 1, time.perf_counter() - t0)
    xc, fc, wc = fit_grid(function, iv, cma_grid, error)

    def obj(C: np.ndarray) -> np.ndarray:
        e = _max_err(program, C, xc, fc, wc)
        with np.errstate(divide="ignore"):
            return np.log(np.where(e > 0, e, 1e-300))

    # a local start (small steps around the inherited constants), a wide one, and random
    # log-uniform signed restarts
    starts = [(c0, 0.01 * np.abs(c0) + 1e-3), (c0, 0.3 * np.abs(c0) + 0.05)]
    if restarts:
        # restarts from the best of 128 log-uniform signed random draws (one batch
        # evaluation): a random start rarely lands beyond a pole barrier, the best of 128 does
        R = np.array([[_random_const(rng) for _ in c0] for _ in range(128)])
        order = np.argsort(obj(R), kind="stable")
        for i in order[:restarts]:
            starts.append((R[i], 0.3 * np.abs(R[i]) + 0.05))
    best_c, best_e, evals = c0, math.inf, 0
    results = []
    # Levenberg-Marquardt on the least-squares problem (log residuals for relative error:
    # squarings turn into factors, so a structure ending in t^8 is as easy as one in t) from
    # the inherited constants and the random starts: converges where CMA-ES crawls along
    # the narrow curved valleys of rational structures
    for s, _ in starts[:1] + starts[2:]:
        for log in (True, False) if error == "relative" else (False,):
            x, ne = _lm_fit(program, s, xc, fc, wc, log)
            evals += ne
            fx = float(obj(x[None, :])[0])
            if math.isfinite(fx):
                results.append((fx, x))
    for s, scales in starts if cma_random else starts[:2]:
        x, fx, ne = cma_es(obj, s, scales, rng, popsize=cma_popsize,
                           max_generations=cma_generations)
        evals += ne
        results.append((fx, x))
    results.sort(key=lambda t: t[0])
    # polish the two best CMA-ES results and the inherited constants themselves
    for _, x in [*results[:2], (None, c0)]:
        e = float(_max_err(program, x[None, :], xs, f, w)[0])
        if polish and math.isfinite(e) and e < 10 * full_polish_below:
            x1, e1 = _lawson_polish(program, x, xs, f, w)
            cands = [(e1, x1) if e1 < e else (e, x)]
            if cands[0][0] < full_polish_below:
                # two chains: a bold linearised step first (best near an optimum), or
                # Lawson first (best far from it); then the cautious ones and Remez
                for chain, start in (((_slp_polish, _remez_polish), cands[0]),
                                     ((_slp_halving, _lawson_polish, _slp_polish,
                                       _remez_polish), (e, x))):
                    ce, cx = start
                    for method in chain:
                        x2, e2 = method(program, cx, xs, f, w)
                        if e2 < ce:
                            cx, ce = x2, e2
                    cands.append((ce, cx))
            e, x = min(cands, key=lambda t: t[0])
        if e < best_e:
            best_c, best_e = x, e
    e0 = float(_max_err(program, c0[None, :], xs, f, w)[0])
    if e0 <= best_e:
        best_c, best_e = c0, e0
    return FitResult(program.with_constants(best_c), best_e, evals, time.perf_counter() - t0)


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
