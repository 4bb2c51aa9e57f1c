"""The SDP game: search over three-point SDP formulations (engine ``"sdp_game"``).

After Tutunov et al. (arXiv 2512.04829): the outer level is Gaussian-process Bayesian
optimisation over the continuous parameters :math:`(r, R)`; the inner level is a Monte Carlo
Tree Search over the sum-of-squares multipliers of condition (B), products of the base
polynomials (see :mod:`solvers.packing.three_point`). Every task is one evaluation -- solve
the SDP, round it to a rational certificate, verify it exactly -- so the runner can spread
them over workers. The objective of an evaluation is its *verified* bound; an evaluation whose
certificate does not verify counts as the worst bound seen so far.

The engine is seeded and deterministic: the same configuration and seed ask the same tasks in
the same order given the same results. The first task is the *default* formulation (every
base polynomial alone as a multiplier, :math:`r` at the LP optimum of degree ``d2``,
:math:`R` = ``default_ratio`` times :math:`r`), the reference the search must beat. Then the
evaluations alternate:

* BO: a new :math:`(r, R/r)` for the incumbent multiplier set, maximising the expected
  improvement of a Gaussian process fitted to every finished evaluation (Matérn kernel with
  fitted amplitude, length scales and noise; :class:`GaussianProcess`);
* MCTS: a new multiplier set at the incumbent :math:`(r, R)`: UCT descends the tree of sets
  (root: the default set; a child adds one product from the vocabulary) and expands one
  child; its reward is the relative improvement over the incumbent it was compared with.

Configuration keys: ``dimension`` (4), ``d2`` (19), ``kmax`` (6), ``m`` (1), ``sos_degree``
(0: the kernel degree), ``evaluations`` (100), ``seed`` (0), ``r`` (default radius; the LP
optimum at degree ``d2`` if omitted), ``r_range`` (relative, [0.97, 1.03]), ``ratio_range``
(R/r, [1.01, 1.3]), ``default_ratio`` (1.1), ``max_factors`` (2), ``evaluator`` (``"sdp"``,
or ``"synthetic"``: a cheap deterministic stand-in used by tests,
:mod:`search.sdp_game_synthetic`), ``attempts`` (2: solves
per evaluation, with larger margins after a failed exact check), ``keep_certificates``
(true: verified certificates travel with the candidates, so the store can re-check them),
``in_flight`` (2: evaluations asked ahead of their results; the search is reproducible for a
given value, on any executor). The seed also fixes the restarts of the GP's hyperparameter
fit, so a run is reproducible from its configuration.

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
import warnings
from collections.abc import Mapping

import numpy as np

from search.base import Candidate, EngineBase, Task, register_engine, register_executor
from search.config import Rule, check_config, interval
from solvers.errors import DiscoveryError, EngineError
from solvers.keys import canonical_key

__all__ = ["SDPGameEngine", "run_sdp_game_task", "bound_key", "GaussianProcess",
           "expected_improvement"]

_DEFAULTS = {
    "dimension": 4,
    "d2": 19,
    "kmax": 6,
    "m": 1,
    "sos_degree": 0,
    "evaluations": 100,
    "seed": 0,
    "r": None,
    "r_range": [0.97, 1.03],
    "ratio_range": [1.01, 1.3],
    "default_ratio": 1.1,
    "max_factors": 2,
    "evaluator": "sdp",
    "attempts": 2,
    "keep_certificates": True,
    "in_flight": 2,
}


# --------------------------------------------------------------------------- the GP


class GaussianProcess:
    """A Gaussian-process regressor on points of ``[0, 1]^d`` with fitted hyperparameters.

    The kernel is ``C * Matern(nu, length scales) + White(noise)``; the amplitude ``C``, one
    length scale per dimension (in ``[0.05, 20]``) and the noise level are fitted to the
    (standardised) data by maximising the log marginal likelihood (scikit-learn's
    ``GaussianProcessRegressor``, L-BFGS-B from the initial values and from ``restarts``
    random starts drawn with ``random_state``: the fit is deterministic). With no more points
    than hyperparameters (``d + 2``) the likelihood cannot tell them apart (it explains three
    points as pure noise), so the initial values are kept. :meth:`predict` gives the
    posterior of the latent function: the fitted noise is excluded from its deviation.

    Parameters
    ----------
    length : float
        Initial length scale (every dimension).
    noise : float
        Initial noise variance (of the standardised data).
    restarts : int
        Random restarts of the hyperparameter optimiser.
    random_state : int
        Seed of those restarts.
    nu : float
        Smoothness of the Matérn kernel (2.5: twice differentiable).

    Examples
    --------
    >>> X = np.linspace(0, 1, 6)[:, None]
    >>> gp = GaussianProcess(length=0.3).fit(X, np.sin(3 * X[:, 0]))
    >>> gp.fitted  # six points, three hyperparameters: fitted
    True
    >>> mu, sd = gp.predict(np.array([[0.2], [0.7]]))  # sin(0.6) = 0.565, sin(2.1) = 0.863
    >>> round(float(mu[0]), 3), round(float(mu[1]), 2), bool(sd[1] > sd[0])
    (0.565, 0.86, True)
    """

    def __init__(self, length: float = 0.25, noise: float = 1e-6, *, restarts: int = 4,
                 random_state: int = 0, nu: float = 2.5):
        self.length = length
        self.noise = noise
        self.restarts = restarts
        self.random_state = random_state
        self.nu = nu

    def fit(self, X: np.ndarray, y: np.ndarray) -> GaussianProcess:
        """Fit the hyperparameters and the posterior to the points ``X`` and values ``y``."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        X = np.asarray(X, float)
        y = np.asarray(y, float)
        self.mean = float(y.mean())
        self.scale = float(y.std()) or 1.0
        kernel = (ConstantKernel(1.0, (1e-3, 1e5))
                  * Matern(np.full(X.shape[1], self.length), (0.05, 20.0), nu=self.nu)
                  + WhiteKernel(self.noise, (1e-10, 1.0)))
        self.fitted = len(X) > X.shape[1] + 2
        gpr = GaussianProcessRegressor(kernel, alpha=1e-10,
                                       optimizer="fmin_l_bfgs_b" if self.fitted else None,
                                       n_restarts_optimizer=self.restarts,
                                       random_state=self.random_state)
        with warnings.catch_warnings():  # a hyperparameter at its bound is not an error
            warnings.simplefilter("ignore", ConvergenceWarning)
            gpr.fit(X, (y - self.mean) / self.scale)
        self.kernel_ = gpr.kernel_
        self._gpr = gpr
        return self

    def predict(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the latent function at ``Xs``."""
        from scipy.linalg import solve_triangular

        Xs = np.asarray(Xs, float)
        signal = self.kernel_.k1  # the fitted kernel without its white noise
        Ks = signal(Xs, self._gpr.X_train_)
        mu = Ks @ self._gpr.alpha_
        v = solve_triangular(self._gpr.L_, Ks.T, lower=True)
        var = np.clip(signal.diag(Xs) - (v * v).sum(0), 1e-12, None)
        return self.mean + self.scale * mu, self.scale * np.sqrt(var)


def expected_improvement(mu: np.ndarray, sd: np.ndarray, best: float) -> np.ndarray:
    """Expected improvement below ``best`` (we minimise the bound) of normal predictions.

    ``E[max(best - f, 0)]`` for ``f ~ N(mu, sd^2)``: ``(best - mu) Phi(z) + sd phi(z)`` with
    ``z = (best - mu)/sd`` (``sd`` is floored at ``1e-12``).

    Examples
    --------
    >>> ei = expected_improvement(np.array([0.0, 1.0, 1.0]), np.array([1.0, 1.0, 0.1]), 1.0)
    >>> [round(float(v), 4) for v in ei]
    [1.0833, 0.3989, 0.0399]
    """
    from scipy.stats import norm

    mu = np.asarray(mu, float)
    sd = np.maximum(np.asarray(sd, float), 1e-12)
    gain = best - mu
    z = gain / sd
    return gain * norm.cdf(z) + sd * norm.pdf(z)


# --------------------------------------------------------------------------- the engine


_RULES = {
    **{key: Rule(int, ge=0) for key in ("d2", "kmax", "m", "sos_degree", "evaluations", "seed",
                                         "max_factors", "attempts")},
    "dimension": Rule(int, ge=2),
    "in_flight": Rule(int, ge=1),
    "r": Rule(float, gt=0, nullable=True),
    "r_range": interval(gt=0),
    "ratio_range": interval(gt=1),  # R/r > 1
    "default_ratio": Rule(float, gt=1),
    "evaluator": Rule(str, choices=("sdp", "synthetic")),
    "keep_certificates": Rule(bool),
}


def _validated(config: Mapping) -> dict:
    cfg = check_config("sdp_game", config, _DEFAULTS, _RULES)
    try:
        from solvers.packing.three_point import Formulation

        Formulation.from_radii(cfg["dimension"], cfg["d2"], cfg["kmax"], cfg["m"], 1.0,
                               float(cfg["default_ratio"]), sos_degree=cfg["sos_degree"])
    except DiscoveryError as exc:
        raise EngineError(f"sdp_game: {exc}") from None
    return cfg


def _default_radius(n: int, d2: int, progress=None) -> float:
    """The radius of the (sampled, float) LP optimum at degree ``d2`` (``progress``: the
    callback of :func:`solvers.packing.sampled_lp.optimise_radius`)."""
    from solvers.packing.sampled_lp import optimise_radius

    u0 = optimise_radius(n, d2, 2.0, 1.3 * n + 10, progress=progress).u0
    return math.sqrt(u0 / (2 * math.pi))


class _Node:
    __slots__ = ("mults", "children", "visits", "total")

    def __init__(self, mults: tuple):
        self.mults = mults
        self.children: dict = {}
        self.visits = 0
        self.total = 0.0


@register_engine("sdp_game")
class SDPGameEngine(EngineBase):
    """BO over (r, R) + MCTS over multiplier sets; see the module docstring."""

    name = "sdp_game"
    ordered = True  # BO and MCTS choose the next formulation from the results so far

    def __init__(self, config: Mapping):
        from solvers.packing.three_point import (
            Formulation,
            default_multipliers,
            multiplier_vocabulary,
        )

        self.config = _validated(config)
        cfg = self.config
        # evaluations asked ahead of their results: part of the search, not of the executor
        self.max_in_flight = cfg["in_flight"]
        self.rng = random.Random(cfg["seed"])
        self.r0 = float(cfg["r"]) if cfg["r"] else _default_radius(cfg["dimension"], cfg["d2"])
        probe = Formulation.from_radii(cfg["dimension"], cfg["d2"], cfg["kmax"], cfg["m"], 1.0,
                                       2.0, sos_degree=cfg["sos_degree"])
        self.default = tuple(sorted(default_multipliers()))
        self.vocab = tuple(v for v in multiplier_vocabulary(probe.sos_degree,
                                                             cfg["max_factors"])
                           if v not in self.default)
        self.root = _Node(self.default)
        self.history: list[dict] = []
        self.pending: dict[str, dict] = {}
        self._asked = 0

    # -- helpers -------------------------------------------------------------------
    def _finished(self) -> list[dict]:
        return [h for h in self.history if h["objective"] is not None]

    def _best(self) -> dict | None:
        done = self._finished()
        return min(done, key=lambda h: (h["objective"], h["evaluation"])) if done else None

    def _norm(self, r: float, ratio: float) -> list[float]:
        lo, hi = self.config["r_range"]
        a, b = self.config["ratio_range"]
        return [(r / self.r0 - lo) / (hi - lo), (ratio - a) / (b - a)]

    def _denorm(self, x: float, y: float) -> tuple[float, float]:
        lo, hi = self.config["r_range"]
        a, b = self.config["ratio_range"]
        return self.r0 * (lo + x * (hi - lo)), a + y * (b - a)

    def _bo_point(self) -> tuple[float, float]:
        """Expected improvement over every finished evaluation (failed ones at the worst)."""
        done = self._finished()
        if len(done) < 3:
            return self._denorm(self.rng.random(), self.rng.random())
        X = np.array([self._norm(h["r"], h["R"] / h["r"]) for h in self.history])
        worst = max(h["objective"] for h in done)
        y = np.array([h["objective"] if h["objective"] is not None else worst
                      for h in self.history])
        gp = GaussianProcess(random_state=self.config["seed"] % 2**32).fit(X, y)
        cand = np.array([[self.rng.random(), self.rng.random()] for _ in range(512)])
        ei = expected_improvement(*gp.predict(cand), float(y.min()))
        x, yy = cand[int(np.argmax(ei))]
        return self._denorm(float(x), float(yy))

    def _mcts_select(self) -> list:
        """UCT from the root; expand one untried child (a set with one more product).
        Returns the path: the products added to the default set, in order."""
        node, path = self.root, []
        while True:
            untried = [m for m in self.vocab if m not in node.mults and m not in node.children]
            if untried:
                m = untried[self.rng.randrange(len(untried))]
                node.children[m] = _Node(tuple(sorted(node.mults + (m,))))
                return path + [m]
            if not node.children:
                return path

            def uct(c: _Node, parent=node) -> float:
                if c.visits == 0:
                    return math.inf
                return c.total / c.visits + 0.5 * math.sqrt(math.log(parent.visits + 1) / c.visits)

            m, node = max(node.children.items(), key=lambda kv: uct(kv[1]))
            path.append(m)

    def _backprop(self, path: list, reward: float) -> None:
        """Credit every node from the root along ``path`` (creating missing nodes)."""
        node = self.root
        node.visits += 1
        node.total += reward
        for m in path:
            if m not in node.children:
                node.children[m] = _Node(tuple(sorted(node.mults + (m,))))
            node = node.children[m]
            node.visits += 1
            node.total += reward

    # -- protocol ------------------------------------------------------------------
    def ask(self, n: int) -> list[Task]:
        tasks = []
        cfg = self.config
        while len(tasks) < n and self._asked < cfg["evaluations"]:
            i = self._asked
            best = self._best()
            path: list = []
            if i == 0:
                r, ratio, kind, mults = self.r0, float(cfg["default_ratio"]), "default", \
                    self.default
            elif best is None or i % 2 == 1:
                mults = best["mults"] if best else self.default
                (r, ratio), kind = self._bo_point(), "bo"
            else:
                path = self._mcts_select()
                mults = tuple(sorted(self.default + tuple(path)))
                r, ratio, kind = best["r"], best["R"] / best["r"], "mcts"
            payload = {
                "i": i,
                "kind": kind,
                "dimension": cfg["dimension"],
                "d2": cfg["d2"],
                "kmax": cfg["kmax"],
                "m": cfg["m"],
                "sos_degree": cfg["sos_degree"],
                "r": r,
                "R": r * ratio,
                "multipliers": [list(mm) for mm in mults],
                "path": [list(mm) for mm in path],
                "evaluator": cfg["evaluator"],
                "attempts": cfg["attempts"],
                "keep_certificate": cfg["keep_certificates"],
                "incumbent": (
                    None if best is None else {"key": best["key"], "bound": best["objective"]}
                ),
            }
            key = f"sdp_game:{cfg['seed']}:{i}"
            self.pending[key] = payload
            tasks.append(Task("sdp_game", key, payload))
            self._asked += 1
        return tasks

    def tell(self, task: Task, result: list[Candidate]) -> None:
        p = self.pending.pop(task.key, task.payload)
        ev = result[0].evidence if result else {}
        objective = ev.get("objective")
        entry = {
            "evaluation": p["i"],
            "kind": p["kind"],
            "default": p["kind"] == "default",
            "r": p["r"],
            "R": p["R"],
            "mults": tuple(sorted(tuple(mm) for mm in p["multipliers"])),
            "path": [tuple(mm) for mm in p.get("path", [])],
            "incumbent_bound": (p.get("incumbent") or {}).get("bound"),
            "objective": objective,
            "bound": ev.get("bound_value"),
            "numeric_bound": ev.get("numeric_bound"),
            "verified": bool(ev.get("verified")),
            "status": ev.get("status"),
            "seconds": ev.get("seconds"),
            "key": result[0].key if result else None,
        }
        self.history.append(entry)
        self._credit(entry)

    def _credit(self, entry: dict) -> None:
        """MCTS reward: relative improvement over the incumbent the child was compared with."""
        ref = entry["incumbent_bound"]
        if entry["kind"] == "mcts" and ref:
            obj = entry["objective"]
            self._backprop(entry["path"], (ref - obj) / abs(ref) if obj is not None else -1.0)

    def done(self) -> bool:
        return self._asked >= self.config["evaluations"] and not self.pending

    def total(self) -> int:
        return self.config["evaluations"]

    def state(self) -> dict:
        version, internal, gauss = self.rng.getstate()
        return {
            "config": self.config,
            "r0": self.r0,
            "asked": self._asked,
            "pending": {k: dict(v) for k, v in self.pending.items()},
            "rng": [version, list(internal), gauss],
            "history": [{**h, "mults": [list(mm) for mm in h["mults"]],
                         "path": [list(mm) for mm in h["path"]]} for h in self.history],
        }

    def restore(self, state: Mapping) -> None:
        """Resume from :meth:`state` output, exactly: the tasks in flight at the snapshot
        stay pending (the runner submits them again) and the search tree gets back the
        nodes their asks expanded, in the order they were expanded."""
        self.r0 = float(state["r0"])
        self.history = []
        self.root = _Node(self.default)
        for h in state["history"]:
            entry = {**h, "mults": tuple(tuple(mm) for mm in h["mults"]),
                     "path": [tuple(mm) for mm in h["path"]]}
            self.history.append(entry)
            self._credit(entry)
        self.pending = {k: dict(v) for k, v in state.get("pending", {}).items()}
        for p in sorted(self.pending.values(), key=lambda p: p["i"]):
            node = self.root
            for mm in p.get("path", []):
                m = tuple(mm)
                if m not in node.children:
                    node.children[m] = _Node(tuple(sorted(node.mults + (m,))))
                node = node.children[m]
        self._asked = int(state.get("asked", len(self.history)))
        version, internal, gauss = state["rng"]
        self.rng.setstate((version, tuple(internal), gauss))


# --------------------------------------------------------------------------- executor


def bound_key(formulation: Mapping, bound: str | None) -> str:
    """The conjecture key of a three-point bound: the formulation AND its certified bound.

    The rounded certificate of one formulation can differ between solver runs (another
    machine, another thread count), and with it the bound it proves. The key covers
    everything that determines the bound, so one key always means one result: a second
    certified value of the same formulation is a second conjecture, each proven by its own
    certificate, and an uncertified evaluation (``bound`` None) is a third.

    Examples
    --------
    >>> f = {"dimension": 4, "d2": 19, "kmax": 6, "m": 1, "sos_degree": 6, "u0": 1.0,
    ...      "s": 1.2, "multipliers": [[0]]}
    >>> bound_key(f, "0.6477483536") == bound_key(dict(f), "0.6477483536")
    True
    >>> bound_key(f, "0.6477483536") == bound_key(f, "0.6477483618")
    False
    """
    fields = {k: formulation[k] for k in (
        "dimension", "d2", "kmax", "m", "sos_degree", "u0", "s", "multipliers")}
    return canonical_key("packing-3pt", {**fields, "bound": bound})


@register_executor("sdp_game")
def run_sdp_game_task(task: Task) -> list[Candidate]:
    """Evaluate one formulation (solve the SDP, verify exactly) and report it as a candidate."""
    from solvers.packing.three_point import Formulation, three_point_bound

    p = task.payload
    n = int(p["dimension"])
    mults = tuple(tuple(int(i) for i in mm) for mm in p["multipliers"])
    form = Formulation.from_radii(n, int(p["d2"]), int(p["kmax"]), int(p["m"]), float(p["r"]),
                                  float(p["R"]), mults, int(p.get("sos_degree", 0)))
    data = form.describe()
    certificate = None
    if p.get("evaluator") == "synthetic":  # a test fixture, see search.sdp_game_synthetic
        from search.sdp_game_synthetic import synthetic_objective

        value = numeric = synthetic_objective(n, form.r, form.R, form.multipliers)
        verified, bound_text, status, seconds = False, None, "synthetic (not a bound)", 0.0
    else:
        res = three_point_bound(form, attempts=int(p.get("attempts", 2)),
                                keep_certificate=bool(p.get("keep_certificate", True)))
        verified, bound_text, numeric = res.verified, res.bound, res.numeric_bound
        value = float(res.bound) if res.verified else None
        status = res.status if res.verified else "; ".join(res.failures) or res.status
        seconds, certificate = res.seconds, res.certificate
    key = bound_key(data, bound_text if verified else None)
    relations = ()
    inc = p.get("incumbent")
    if inc and value is not None and inc.get("bound") is not None and value < inc["bound"]:
        relations = (("improves", inc["key"]),)
    if verified:
        claim = f"density(R^{n}) <= {bound_text}"
    else:
        claim = f"three-point SDP in R^{n}: no verified bound ({status})"
    formula: dict = {"three_point": data}
    if certificate is not None:
        formula["certificate"] = certificate
    return [
        Candidate(
            kind="bound",
            key=key,
            formula=formula,
            claim=claim,
            constant=None,
            evidence={
                "bound_value": value if verified else None,
                "objective": value,
                "numeric_bound": numeric,
                "verified": verified,
                "status": status,
                "evaluation": p["i"],
                "kind": p["kind"],
                "bound": bound_text,
                "seconds": seconds,
            },
            relations=relations,
        )
    ]
