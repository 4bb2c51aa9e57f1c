"""Independent verification of a formula against a claimed closed form.

The formula is evaluated by exact integer arithmetic (product trees of its convergents) to a
depth chosen from its *measured* convergence rate; the claim is evaluated independently by the
safe parser and the constants catalogue at a higher precision. The verdict is honest:

* ``verified`` -- at least the requested digits agree, and the formula's own error estimate
  supports them;
* ``refuted`` -- the two disagree by far more than the formula's (tail-corrected) error estimate;
* ``inconclusive`` -- the formula converges too slowly to reach the requested digits within the
  depth limit (or the disagreement is within what the slow tail could explain).

It never reports more digits than were computed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import flint
import mpmath
from flint import arb, fmpz

from solvers.balls import evaluate_ball
from solvers.continued_fractions import (
    convergent_error_log10,
    irrationality_measure,
    ratio_to_mpf,
)
from solvers.errors import DiscoveryError, DivergenceError, PrecisionError
from solvers.expr import expression_to_text, parse_expression

__all__ = ["Evidence", "verify", "convergence_profile", "DEFAULT_MAX_DEPTH", "DEFAULT_MAX_SECONDS",
           "DEFAULT_MAX_BITS"]

DEFAULT_MAX_DEPTH = 200_000
#: Default budgets of one verification: the time spent on convergents (seconds), and the size
#: of one convergent's integers (bits; the product tree holds a few of them at once).
DEFAULT_MAX_SECONDS = 20.0
DEFAULT_MAX_BITS = 2**30
_GCD_COST = 2.5  # the gcd of a convergent's p, q (for δ) against the time of its product tree
_GUARD = 15  # extra decimal digits for the independent evaluation of the claim


class HasConvergents(Protocol):
    def convergents(self, depth: int) -> tuple[Any, Any, Any, Any]: ...


@dataclass(frozen=True)
class Evidence:
    """What a verification established.

    Attributes
    ----------
    verdict : str
        ``"verified"``, ``"refuted"`` or ``"inconclusive"``.
    digits : int
        Decimal digits (after the point, for values of moderate size) on which the formula and
        the independently evaluated claim agree, capped by what the formula's convergent
        supports and by the working precision.
    requested : int
        The digits asked for.
    depth : int
        Depth of the final convergent.
    digits_per_term : float
        Measured convergence rate near the final depth.
    delta : float or None
        Irrationality measure of the final convergent (gcd-reduced), against the claim.
    seconds : float
        Wall time of the verification.
    claim : str
        The claim in canonical text.
    estimated_digits : int
        Digits the formula's own error estimate supports at ``depth``.
    method : str
        How the two sides were computed.
    note : str
        A human explanation when the verdict is not ``verified``.
    value : str
        The formula's own value (from its convergent), to at most 40 significant digits
        and no more than its error estimate supports: what ``db find --value`` compares.
    formula_value, claim_value : str
        Both sides to about 20 significant digits (what a refutation prints).
    difference_log10 : float or None
        ``log10 |formula - claim|``.
    identified : str
        For a refutation: the formula's true limit when ``identify`` finds it quickly
        (with the claim's constants as the basis), else ``""``.
    """

    verdict: str
    digits: int
    requested: int
    depth: int
    digits_per_term: float
    delta: float | None
    seconds: float
    claim: str
    estimated_digits: int
    method: str = "exact convergents (product tree) vs independent mpmath evaluation"
    note: str = ""
    value: str = ""
    formula_value: str = ""
    claim_value: str = ""
    difference_log10: float | None = None
    identified: str = ""
    history: tuple[tuple[int, float], ...] = field(default=(), repr=False)

    def to_dict(self) -> dict:
        """JSON-able form (floats, ints, strings)."""
        d = asdict(self)
        d["history"] = [list(h) for h in self.history]
        for k in ("digits_per_term", "delta"):
            if isinstance(d[k], float) and not math.isfinite(d[k]):
                d[k] = None
        return d

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>"
            for k, v in self.to_dict().items()
            if k != "history"
        )
        return f"<table>{rows}</table>"


def convergence_profile(formula: HasConvergents, depths: list[int]) -> list[tuple[int, float]]:
    """``(depth, estimated correct digits)`` pairs, from consecutive-convergent differences.

    Examples
    --------
    >>> from solvers.continued_fractions import PCF
    >>> prof = convergence_profile(PCF("2n+1", "n^2"), [10, 20])
    >>> [round(d) for _, d in prof]
    [7, 15]
    """
    return [(N, -convergent_error_log10(*formula.convergents(N))) for N in depths]


def _bits(m: tuple) -> int:
    """The largest bit length among the four integers of a convergent."""
    return max(int(v).bit_length() if not hasattr(v, "bit_length") else v.bit_length()
               for v in m)


def _plan_depth(formula: HasConvergents, target: float, max_depth: int,
                progress: Callable[..., None] | None = None, *,
                max_seconds: float = math.inf, max_bits: int = DEFAULT_MAX_BITS):
    """Find a depth whose error estimate reaches ``target`` digits, extrapolating the rate.

    Before each deeper convergent the cost of the next one is predicted from the last: its
    size grows like the depth (times the log of the depth, for polynomial terms), and its
    time a little faster than its size. A depth whose convergent would exceed ``max_bits``
    bits, or whose time would end after ``max_seconds``, is not computed: the plan stops
    there with the reason.

    The time budget counts each depth as ``1 + _GCD_COST`` times its convergents (δ takes a
    gcd of the final ones, which costs about twice their product tree).

    Returns ``(depth, convergents, rate, history, stop, seconds)``: ``stop`` is ``""`` or why
    the plan stopped short of the target within ``max_depth``; ``seconds`` is the time of the
    final convergents. ``progress``, if given, is called as
    ``progress(stage, done=digits_reached, total=target, detail=...)`` after each depth.
    """
    t0 = time.perf_counter()
    history: list[tuple[int, float]] = []

    def measure(depth: int) -> tuple[tuple, float, float]:
        """The convergents at ``depth``, the digits they support and their seconds."""
        t1 = time.perf_counter()
        m = formula.convergents(depth)
        seconds = time.perf_counter() - t1
        e = -convergent_error_log10(*m)
        history.append((depth, e))
        if progress is not None:
            _report_depth(progress, depth, e, target)
        return m, e, seconds

    N = 32
    m, e, last_seconds = measure(N)
    prev: tuple[int, float] | None = None
    rate = 0.0
    stop = ""
    while e < target and N < max_depth:
        if prev is not None and math.isfinite(e) and e > prev[1]:
            rate = (e - prev[1]) / (N - prev[0])
            step = math.ceil(1.1 * (target - e) / rate) + 8
            nxt = N + min(max(step, 8), 4 * N)  # never more than quintuple at once
        else:
            nxt = 2 * N
        nxt = min(nxt, max_depth)
        growth = (nxt / N) * math.log(nxt + 2) / math.log(N + 2)
        bits = _bits(m) * growth
        seconds = max(last_seconds, 1e-4) * growth ** 1.2 * (1 + _GCD_COST)
        if bits > max_bits:
            stop = (f"the depth-{nxt} convergent would have about {bits:.3g} bits, over the "
                    f"memory budget of {max_bits:.3g} bits")
            break
        if time.perf_counter() - t0 + seconds > max_seconds:
            stop = (f"the depth-{nxt} convergent would take about {seconds:.2g} s more, past "
                    f"the time budget of {max_seconds:g} s (raise it with --max-seconds)")
            break
        prev = (N, e)
        N = nxt
        m, e, last_seconds = measure(N)
    if prev is not None and math.isfinite(e) and e > prev[1]:
        rate = (e - prev[1]) / (N - prev[0])
    elif math.isinf(e) and e > 0:
        rate = math.inf
    return N, m, rate, history, stop, last_seconds


def _report_depth(progress: Callable[..., None], depth: int, e: float, target: float) -> None:
    reached = min(max(e, 0.0), target) if not math.isnan(e) else 0.0
    progress("computing convergents (estimated digits)", done=round(reached), total=target,
             detail=f"depth {depth}")


def _tail_factor(rate: float, depth: int) -> float:
    """How much larger than the last convergent difference the true error may be (log10).

    With a geometric rate ρ = 10^-rate per term the tail sums to 1/(1-ρ) times the last
    difference; for slow (sub-geometric) convergence we allow a factor ``depth``.
    """
    if not math.isfinite(rate) or rate <= 0:
        return math.log10(max(depth, 10))
    rho = 10.0 ** (-rate)
    if rho < 0.9:
        return -math.log10(1 - rho)
    return math.log10(max(depth, 10))


def verify(
    formula: HasConvergents,
    claim: Any,
    digits: int = 100,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    max_bits: int = DEFAULT_MAX_BITS,
    progress: Callable[..., None] | None = None,
    identify_on_refutation: bool = True,
) -> Evidence:
    """Verify that ``formula`` converges to ``claim`` to ``digits`` digits.

    Parameters
    ----------
    formula : object with ``convergents(depth)``
        A :class:`~solvers.continued_fractions.PCF`, a signed CF pattern, ...
    claim : str or sympy expression
        The claimed limit, e.g. ``"6/zeta(3)"`` (read by the safe parser).
    digits : int
        Digits required for ``verified``.
    max_depth : int
        Deepest convergent to compute before giving up (``inconclusive``).
    max_seconds : float
        Time budget of the convergents: a deeper convergent predicted to end past it is not
        computed, and the verdict is ``inconclusive`` with the reason in ``note``.
    max_bits : int
        Size budget of one convergent's integers (bits), likewise.
    identify_on_refutation : bool
        On a refutation, look for the formula's true limit (``identify`` with the claim's
        constants; fills ``Evidence.identified``).
    progress : callable, optional
        Called as ``progress(stage, done=None, total=None, detail=None)`` at each stage:
        the convergents at increasing depths (``done``/``total`` = estimated digits
        reached/wanted), the limit, the claim's evaluation, δ. It does not change the result.

    Returns
    -------
    Evidence

    Examples
    --------
    >>> from solvers.continued_fractions import PCF
    >>> ev = verify(PCF("34n^3+51n^2+27n+5", "-n^6"), "6/zeta(3)", digits=200)
    >>> ev.verdict, ev.digits >= 200, round(ev.digits_per_term, 2)
    ('verified', True, 3.06)
    >>> verify(PCF("34n^3+51n^2+27n+5", "-n^6"), "6/zeta(3) + 10^-80", digits=200).verdict
    'refuted'
    >>> verify(PCF(2, "(2n-1)^2"), "1+4/pi", digits=50, max_depth=2000).verdict
    'inconclusive'
    """
    if digits < 1:
        raise ValueError(f"digits must be >= 1, got {digits}")
    if not max_seconds > 0:
        raise ValueError(f"max_seconds must be positive, got {max_seconds}")
    t0 = time.perf_counter()
    expr = parse_expression(claim) if isinstance(claim, str) else claim
    claim_text = expression_to_text(expr)
    target = digits + 5
    depth, m, rate, history, stop, last = _plan_depth(formula, target, max_depth, progress,
                                                      max_seconds=max_seconds, max_bits=max_bits)
    p0, p, q0, q = m
    if q == 0:
        raise DivergenceError(f"q_{depth} = 0 for {formula!r}")
    err_log = convergent_error_log10(*m)
    if not err_log < math.inf:  # q_{N-1} = 0: consecutive convergents give no estimate
        raise DivergenceError(
            f"q_{depth - 1} = 0 for {formula!r}: consecutive convergents give no error "
            "estimate (the fraction does not converge in the usual sense)")
    if rate == 0.0 and not stop:  # the first depth already reached the target: measure it
        rate = _measured_rate(formula, depth, m)
    magnitude = _log10_ratio(p, q)
    est_digits = 10**7 if err_log == -math.inf else max(0, int(math.floor(-err_log)))
    if math.isfinite(magnitude):  # (p = 0: a limit near 0 has no digits before the point)
        est_digits = max(0, est_digits + max(0, math.floor(magnitude) + 1))
    # Work a little beyond what the convergent supports (bounded), so that the difference
    # |p/q - claim| is resolved: that is what δ and a refutation are measured from.
    dps = max(digits, min(est_digits, 2 * digits + 50)) + 2 * _GUARD
    prec = int(dps * math.log2(10)) + 16
    if progress is not None:
        progress(f"evaluating the claim {claim_text} to {dps + _GUARD} digits (ball arithmetic)")
    claim_ball = evaluate_ball(expr, dps + _GUARD)
    if progress is not None:
        progress("comparing", detail=f"depth {depth}")
    with flint.ctx.workprec(prec):
        x_ball = arb(fmpz(int(p))) / arb(fmpz(int(q)))
        diff = x_ball - claim_ball.value
        diff_hi, diff_lo = diff.abs_upper(), diff.abs_lower()
        scale = max(arb(1), abs(claim_ball.value)).abs_upper()
    working = dps - _GUARD
    if diff_hi.is_zero():
        agreed = working
    else:
        agreed = int(math.floor(-_log10(diff_hi / scale)))
    agreed = max(0, min(agreed, est_digits, working, claim_ball.digits))
    tail = _tail_factor(rate, depth)
    note = ""
    delta: float | None = None
    ctx = mpmath.MPContext()
    ctx.prec = prec
    x = ratio_to_mpf(ctx, p, q)
    refuting = not diff_lo.is_zero() and _log10(diff_lo) > err_log + tail + 2
    if agreed >= digits:
        verdict = "verified"
    elif refuting:
        verdict = "refuted"
        note = (
            f"formula and claim differ by 1e{_log10(abs(diff.mid())):.1f}, far beyond the "
            f"formula's error estimate 1e{err_log + tail:.1f} at depth {depth}"
        )
    else:
        verdict = "inconclusive"
        note = (
            f"reached {est_digits} estimated digits at depth {depth} "
            f"(rate {rate:.3g} digits/term); {digits} requested"
        ) + (f"; stopped: {stop}" if stop else "")
    if verdict != "refuted" and (time.perf_counter() - t0 + _GCD_COST * last > max_seconds):
        note += "; δ not measured (its gcd would pass the time budget)"
    elif verdict != "refuted":
        if progress is not None:
            progress("the irrationality measure δ")
        try:
            delta = irrationality_measure(p, q, claim_ball.mpf(ctx), ctx.prec)
        except PrecisionError:
            delta = None
    identified = ""
    if verdict == "refuted" and identify_on_refutation:
        if progress is not None:
            progress("looking for the formula's true limit (identify)")
        identified = _true_limit(x, min(est_digits, 60), expr)
    method = "exact convergents (product tree) vs the claim in ball arithmetic (python-flint)"
    if not claim_ball.rigorous:
        method += f"; mpmath for {', '.join(claim_ball.fallbacks)} (no rigorous radius)"
    return Evidence(
        verdict=verdict,
        digits=agreed,
        requested=digits,
        depth=depth,
        digits_per_term=rate,
        delta=delta,
        seconds=time.perf_counter() - t0,
        claim=claim_text,
        estimated_digits=est_digits,
        method=method,
        note=note,
        value=ctx.nstr(x, max(1, min(40, est_digits + _magnitude(x)))),
        formula_value=ctx.nstr(x, max(1, min(20, est_digits + _magnitude(x)))),
        claim_value=claim_ball.text(20),
        difference_log10=None if diff_hi.is_zero() else round(_log10(abs(diff.mid())
                                                                     or diff_hi), 2),
        identified=identified,
        history=tuple(history),
    )


def _log10(v: Any) -> float:
    """log10 of a positive arb or number (float; exact enough for digit counts)."""
    if isinstance(v, arb):
        man, exp = v.mid().man_exp() if not v.is_exact() else v.man_exp()
        man, exp = int(man), int(exp)
        if man == 0:
            return -math.inf
        return math.log10(abs(man)) + exp * math.log10(2)
    return math.log10(v)


def _log10_ratio(p: Any, q: Any) -> float:
    """log10 |p/q| (-inf for p = 0)."""
    from solvers.continued_fractions import log10_abs

    if p == 0:
        return -math.inf
    return log10_abs(p) - log10_abs(q)


def _measured_rate(formula: HasConvergents, depth: int, m: Any) -> float:
    """Digits per term between ``depth // 2`` and ``depth`` (when planning measured none)."""
    half = max(2, depth // 2)
    e1 = convergent_error_log10(*formula.convergents(half))
    e2 = convergent_error_log10(*m)
    if not (math.isfinite(e1) and math.isfinite(e2)):
        return math.inf
    return (e1 - e2) / (depth - half)


def _true_limit(x: Any, digits: int, claim: Any) -> str:
    """The formula's limit as ``identify`` finds it quickly (basis: the claim's constants)."""
    if digits < 20:
        return ""
    from discovery.identification import identify
    from solvers.expr import constants_in

    basis = list(constants_in(claim)) or None
    try:
        ident = identify(x, digits, basis=basis, max_degree=2)
    except (DiscoveryError, ValueError, ArithmeticError):
        return ""
    return ident.relation if ident.found and ident.relation else ""


def _magnitude(x: Any) -> int:
    """Digits before the point of ``x`` (0 for |x| < 1)."""
    if x == 0:
        return 0
    return max(0, int(math.floor(float(mpmath.log10(abs(x))))) + 1)
