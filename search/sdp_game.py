"""The SDP game: search over three-point SDP formulations (engine ``"sdp_game"``).

After Tutunov et al. (arXiv 2512.04829): the outer level is Gaussian-process Bayesian
optimisation over the continuous parameters :math:`(r, R)`; the inner level is a Monte Carlo
Tree Search over the sum-of-squares multipliers of condition (B), drawn from a vocabulary of
products of the base polynomials (see :mod:`solvers.packing.three_point`). Every task is one
SDP evaluation (solve + exact verification), so the runner can spread them over workers.

The engine is seeded and deterministic: the same configuration and seed ask the same tasks in
the same order given the same results. Evaluations alternate between a BO step (new
:math:`(r, R)` for the best multiplier set so far, by expected improvement of a small
numpy GP) and an MCTS step (a new multiplier set, one vocabulary element away from a node
chosen by UCT, at the best :math:`(r, R)` so far). The first task is always the *default*
formulation (every base polynomial alone, :math:`R = 1.5 r`), the reference the search must
beat.

Configuration keys: ``dimension`` (4), ``d2`` (23), ``d3`` (4), ``evaluations`` (100),
``seed`` (0), ``r`` (default radius; the LP-optimal one if omitted), ``r_range`` (relative,
[0.9, 1.1]), ``ratio_range`` (R / r, [1.1, 2.5]), ``max_factors`` (2), ``evaluator``
(``"sdp"``: the first formulation in :mod:`solvers.packing.three_point`; ``"kernel"``: the
polynomial-kernel columns + master LP of :mod:`solvers.packing.tp_bound`, ``d3`` is then the
angular degree ``kmax`` and every evaluation is verified exactly; or ``"synthetic"``: a cheap
deterministic stand-in used by tests), ``default_ratio`` (R / r of the default formulation,
1.5; use about 1.01 with ``"kernel"``, whose kernels act on a thin shell).

Examples
--------
>>> eng = SDPGameEngine({"evaluations": 3, "evaluator": "synthetic", "r": 1.2})
>>> for _ in range(3):
...     (task,) = eng.ask(1)
...     eng.tell(task, run_sdp_game_task(task))
>>> eng.done(), len(eng.history), eng.history[0]["default"]
(True, 3, True)
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping

import numpy as np

from search.base import Candidate, Task, register_engine, register_executor
from solvers.errors import EngineError
from solvers.keys import canonical_key

__all__ = ["SDPGameEngine", "run_sdp_game_task", "GaussianProcess", "expected_improvement"]

_DEFAULTS = {
    "dimension": 4,
    "d2": 23,
    "d3": 4,
    "evaluations": 100,
    "seed": 0,
    "r": None,
    "r_range": [0.9, 1.1],
    "ratio_range": [1.1, 2.5],
    "max_factors": 2,
    "evaluator": "sdp",
    "default_ratio": 1.5,
}


# --------------------------------------------------------------------------- the GP


class GaussianProcess:
    """A small GP regressor (RBF kernel, fixed length scale, noise) on points in [0, 1]^d.

    Examples
    --------
    >>> gp = GaussianProcess(length=0.3).fit(np.array([[0.0], [1.0]]), np.array([0.0, 1.0]))
    >>> mu, sd = gp.predict(np.array([[0.0], [0.5]]))
    >>> round(float(mu[0]), 3), bool(sd[1] > sd[0])
    (0.0, True)
    """

    def __init__(self, length: float = 0.25, noise: float = 1e-6):
        self.length = length
        self.noise = noise

    def _k(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        d2 = ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1)
        return np.exp(-0.5 * d2 / self.length**2)

    def fit(self, X: np.ndarray, y: np.ndarray) -> GaussianProcess:
        self.X = np.asarray(X, float)
        y = np.asarray(y, float)
        self.mean = float(y.mean())
        self.scale = float(y.std()) or 1.0
        K = self._k(self.X, self.X) + self.noise * np.eye(len(self.X))
        self.L = np.linalg.cholesky(K)
        z = np.linalg.solve(self.L, (y - self.mean) / self.scale)
        self.alpha = np.linalg.solve(self.L.T, z)
        return self

    def predict(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Ks = self._k(np.asarray(Xs, float), self.X)
        mu = Ks @ self.alpha
        v = np.linalg.solve(self.L, Ks.T)
        var = np.clip(1.0 - (v * v).sum(0), 1e-12, None)
        return self.mean + self.scale * mu, self.scale * np.sqrt(var)


def expected_improvement(mu: np.ndarray, sd: np.ndarray, best: float) -> np.ndarray:
    """Expected improvement below ``best`` (we minimise the bound)."""
    z = (best - mu) / sd
    cdf = 0.5 * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))
    pdf = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return (best - mu) * cdf + sd * pdf


# --------------------------------------------------------------------------- the engine


def _validated(config: Mapping) -> dict:
    unknown = set(config) - set(_DEFAULTS)
    if unknown:
        raise EngineError(f"Unknown sdp_game option(s): {', '.join(sorted(unknown))}")
    cfg = dict(_DEFAULTS, **config)
    for key in ("dimension", "d2", "d3", "evaluations", "seed", "max_factors"):
        if not isinstance(cfg[key], int) or isinstance(cfg[key], bool) or cfg[key] < 0:
            raise EngineError(f"sdp_game option {key!r} must be a non-negative integer")
    if cfg["dimension"] < 2:
        raise EngineError("sdp_game needs dimension >= 2")
    if cfg["evaluator"] not in ("sdp", "synthetic", "kernel"):
        raise EngineError("sdp_game evaluator must be 'sdp', 'kernel' or 'synthetic'")
    return cfg


def _default_radius(n: int) -> float:
    from solvers.packing.sampled_lp import optimise_radius

    return math.sqrt(optimise_radius(n, 15, 2.0, 1.3 * n + 10).u0 / (2 * math.pi))


class _Node:
    __slots__ = ("mults", "children", "visits", "total")

    def __init__(self, mults: tuple):
        self.mults = mults
        self.children: dict = {}
        self.visits = 0
        self.total = 0.0


@register_engine("sdp_game")
class SDPGameEngine:
    """BO over (r, R) + MCTS over multiplier sets; see the module docstring."""

    name = "sdp_game"

    def __init__(self, config: Mapping):
        from solvers.packing.three_point import default_multipliers, multiplier_vocabulary

        self.config = _validated(config)
        cfg = self.config
        self.rng = random.Random(cfg["seed"])
        self.r0 = float(cfg["r"]) if cfg["r"] else _default_radius(cfg["dimension"])
        self.vocab = multiplier_vocabulary(cfg["d3"], cfg["max_factors"])
        self.default = tuple(sorted(default_multipliers()))
        self.root = _Node(self.default)
        self.history: list[dict] = []
        self.pending: dict[str, dict] = {}
        self._asked = 0

    # -- helpers -------------------------------------------------------------------
    def _best(self) -> dict | None:
        done = [h for h in self.history if h["objective"] is not None]
        return min(done, key=lambda h: h["objective"]) if done else None

    def _norm(self, r: float, ratio: float) -> list[float]:
        lo, hi = self.config["r_range"]
        a, b = self.config["ratio_range"]
        return [(r / self.r0 - lo) / (hi - lo), (ratio - a) / (b - a)]

    def _denorm(self, x: float, y: float) -> tuple[float, float]:
        lo, hi = self.config["r_range"]
        a, b = self.config["ratio_range"]
        return self.r0 * (lo + x * (hi - lo)), a + y * (b - a)

    def _bo_point(self, mults: tuple) -> tuple[float, float]:
        pts = [h for h in self.history if h["objective"] is not None and h["mults"] == mults]
        if len(pts) < 3:
            return self._denorm(self.rng.random(), self.rng.random())
        X = np.array([self._norm(h["r"], h["R"] / h["r"]) for h in pts])
        y = np.array([h["objective"] for h in pts])
        gp = GaussianProcess().fit(X, y)
        cand = np.array([[self.rng.random(), self.rng.random()] for _ in range(256)])
        ei = expected_improvement(*gp.predict(cand), float(y.min()))
        x, yy = cand[int(np.argmax(ei))]
        return self._denorm(float(x), float(yy))

    def _mcts_select(self) -> tuple:
        node, path = self.root, [self.root]
        while True:
            options = [m for m in self.vocab if m not in node.mults]
            untried = [m for m in options if m not in node.children]
            if untried or not node.children:
                if not untried:
                    return node.mults
                m = untried[self.rng.randrange(len(untried))]
                child = _Node(tuple(sorted(node.mults + (m,))))
                node.children[m] = child
                return child.mults

            def uct(c: _Node, parent=node) -> float:
                if c.visits == 0:
                    return math.inf
                return c.total / c.visits + 0.5 * math.sqrt(math.log(parent.visits + 1) / c.visits)

            node = max(node.children.values(), key=uct)
            path.append(node)

    def _backprop(self, mults: tuple, reward: float) -> None:
        node = self.root
        node.visits += 1
        node.total += reward
        while node.mults != mults:
            nxt = [c for c in node.children.values() if set(c.mults) <= set(mults)]
            if not nxt:
                return
            node = max(nxt, key=lambda c: len(set(c.mults) & set(mults)))
            node.visits += 1
            node.total += reward

    # -- protocol ------------------------------------------------------------------
    def ask(self, n: int) -> list[Task]:
        tasks = []
        cfg = self.config
        while len(tasks) < n and self._asked < cfg["evaluations"]:
            i = self._asked
            best = self._best()
            if i == 0:
                r, ratio, kind = self.r0, float(cfg["default_ratio"]), "default"
                mults = self.default
            elif best is None or i % 2 == 1:
                mults = best["mults"] if best else self.default
                r, ratio = self._bo_point(mults)
                kind = "bo"
            else:
                mults = self._mcts_select()
                r, ratio, kind = best["r"], best["R"] / best["r"], "mcts"
            payload = {
                "i": i,
                "kind": kind,
                "dimension": cfg["dimension"],
                "d2": cfg["d2"],
                "d3": cfg["d3"],
                "r": r,
                "R": r * ratio,
                "multipliers": [list(m) for m in mults],
                "evaluator": cfg["evaluator"],
                "incumbent": (
                    None if best is None else {"key": best["key"], "bound": best["objective"]}
                ),
            }
            key = f"sdp_game:{i}"
            self.pending[key] = payload
            tasks.append(Task("sdp_game", key, payload))
            self._asked += 1
        return tasks

    def tell(self, task: Task, result: list[Candidate]) -> None:
        p = self.pending.pop(task.key, task.payload)
        ev = result[0].evidence if result else {}
        objective = ev.get("bound_value")
        mults = tuple(tuple(m) for m in p["multipliers"])
        entry = {
            "evaluation": p["i"],
            "kind": p["kind"],
            "default": p["kind"] == "default",
            "r": p["r"],
            "R": p["R"],
            "mults": tuple(sorted(mults)),
            "objective": objective,
            "bound": objective,
            "verified": bool(ev.get("verified")),
            "key": result[0].key if result else None,
        }
        self.history.append(entry)
        if objective is not None and p["kind"] != "bo":
            ref = self.history[0]["objective"] or objective
            self._backprop(entry["mults"], (ref - objective) / abs(ref))

    def done(self) -> bool:
        return self._asked >= self.config["evaluations"] and not self.pending

    def state(self) -> dict:
        return {
            "config": self.config,
            "r0": self.r0,
            "asked": self._asked,
            "history": [{**h, "mults": [list(m) for m in h["mults"]]} for h in self.history],
        }


# --------------------------------------------------------------------------- executor


def _synthetic(n: int, r: float, R: float, mults: tuple) -> float:
    """A deterministic stand-in objective (test fixture): smooth in (r, R), and every extra
    multiplier that contains base polynomial 2 ('a+b-2c-r2') helps a little."""
    base = 0.65 + 0.05 * (r / 1.2 - 1) ** 2 + 0.01 * (R / r - 1.7) ** 2
    bonus = sum(0.001 for m in mults if len(m) > 1 and 2 in m)
    return base - min(bonus, 0.004)


@register_executor("sdp_game")
def run_sdp_game_task(task: Task) -> list[Candidate]:
    """Evaluate one formulation (solve the SDP, verify exactly) and report it as a candidate."""
    from solvers.packing.three_point import Formulation, three_point_bound

    p = task.payload
    n = int(p["dimension"])
    mults = tuple(tuple(int(i) for i in m) for m in p["multipliers"])
    form = Formulation.from_radii(n, int(p["d2"]), int(p["d3"]), float(p["r"]), float(p["R"]),
                                  mults)
    data = form.describe()
    key = canonical_key("packing-3pt", {k: data[k] for k in ("dimension", "d2", "d3", "u0", "s",
                                                             "multipliers")})
    if p.get("evaluator") == "synthetic":
        value = _synthetic(n, form.r, form.R, form.multipliers)
        verified, bound_text, status = False, None, "synthetic"
    elif p.get("evaluator") == "kernel":
        # polynomial kernel columns + master LP + exact verification (tp_bound); d3 = kmax
        from solvers.errors import PrecisionError
        from solvers.packing.tp_bound import evaluate_formulation

        try:
            _cert, verdict = evaluate_formulation(n, int(p["d2"]), int(p["d3"]), float(p["r"]),
                                                  float(p["R"]), mults)
            verified, bound_text = verdict.verified, verdict.bound
            value = float(verdict.bound) if verdict.verified else None
            status = "verified" if verified else "; ".join(verdict.failures)
        except PrecisionError as exc:
            verified, bound_text, value, status = False, None, None, str(exc)
    else:
        res = three_point_bound(formulation=form)
        verified = res.verified
        bound_text = res.bound
        value = float(res.bound) if res.verified else res.numeric_bound
        status = res.status
    relations = ()
    inc = p.get("incumbent")
    if inc and value is not None and inc.get("bound") is not None and value < inc["bound"]:
        relations = (("improves", inc["key"]),)
    if bound_text:
        claim = f"density(R^{n}) <= {bound_text}"
    elif value is not None:
        claim = f"density(R^{n}) <= {value:.10g} (unverified)"
    else:
        claim = f"three-point SDP in R^{n}: no bound ({status})"
    return [
        Candidate(
            kind="bound",
            key=key,
            formula={"three_point": data},
            claim=claim,
            constant=None,
            evidence={
                "bound_value": value,
                "verified": verified,
                "status": status,
                "evaluation": p["i"],
                "kind": p["kind"],
                "bound": bound_text,
            },
            relations=relations,
        )
    ]
