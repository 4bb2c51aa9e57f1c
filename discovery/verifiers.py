"""Verifiers as a registry keyed by the kind of a candidate, beside the engine registry.

Every candidate an engine proposes is checked again by a route independent of the one that
found it, in the client process, before the store records it:

* continued fractions -- ``pcf`` (polynomial continued fractions), ``esma`` (signed
  continued-fraction patterns) and ``cmf`` (walks of a conservative matrix field) -- by
  :func:`discovery.verification.verify`: exact convergents to a depth chosen from the measured
  convergence rate, against the claim evaluated independently at higher precision;
* ``program`` (evolved numeric programs) by re-measuring the error against a 50-digit
  reference on a dense grid with local maximisation (and, when the candidate asks for it,
  the exhaustive float32 check over every float32 input of the interval); the verified
  error becomes the conjecture's claim;
* ``bound`` (packing bounds carrying a rational certificate) by checking the certificate
  exactly: ``proven`` when it proves at least the claimed bound.

A kind without a registered verifier comes back ``inconclusive`` with a note, never
``verified``. A new kind of formula registers its verifier with :func:`register_verifier`.

Examples
--------
>>> from search.base import Candidate
>>> golden = Candidate("pcf", "pcf:golden", {"a": [1], "b": [1]}, "(1+sqrt(5))/2")
>>> verify_candidate(golden, digits=50).verdict
'verified'
>>> "pcf" in verifier_kinds() and "program" in verifier_kinds()
True
>>> verify_candidate(Candidate("poem", "poem:1", {}, "true"), digits=50).note
"no verifier for candidates of kind 'poem'"
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from discovery.verification import Evidence, verify
from search.base import Candidate
from solvers.errors import DiscoveryError

__all__ = ["register_verifier", "verifier_for", "verifier_kinds", "verify_candidate",
           "verify_program"]

Verifier = Callable[..., Any]
_VERIFIERS: dict[str, Verifier] = {}


def register_verifier(kind: str) -> Callable[[Verifier], Verifier]:
    """Decorator registering ``fn(candidate, digits) -> evidence`` for candidates of ``kind``.

    The evidence is an :class:`~discovery.verification.Evidence` or a dict with at least a
    ``verdict``; a ``verified_claim`` entry replaces the candidate's claim in the store.
    """

    def deco(fn: Verifier) -> Verifier:
        _VERIFIERS[kind] = fn
        return fn

    return deco


def verifier_for(kind: str) -> Verifier | None:
    """The verifier registered for ``kind``, or None."""
    return _VERIFIERS.get(kind)


def verifier_kinds() -> list[str]:
    """The kinds that have a verifier, sorted."""
    return sorted(_VERIFIERS)


def _no_verifier(candidate: Candidate, digits: int, note: str) -> Evidence:
    return Evidence(verdict="inconclusive", digits=0, requested=digits, depth=0,
                    digits_per_term=math.nan, delta=None, seconds=0.0, claim=candidate.claim,
                    estimated_digits=0, method="none", note=note)


def verify_candidate(candidate: Candidate, digits: int = 100, **kwargs: Any) -> Any:
    """Verify a candidate with the verifier registered for its kind.

    Parameters
    ----------
    candidate : Candidate
        An engine's output.
    digits : int
        Digits asked of numerical verifiers.
    **kwargs
        Passed to the verifier (e.g. ``max_depth`` for continued fractions).
    """
    fn = _VERIFIERS.get(candidate.kind)
    if fn is None:
        return _no_verifier(candidate, digits,
                            f"no verifier for candidates of kind {candidate.kind!r}")
    return fn(candidate, digits, **kwargs)


# -- continued fractions ------------------------------------------------------------------------


@register_verifier("pcf")
def _verify_pcf(candidate: Candidate, digits: int, **kwargs: Any) -> Evidence:
    from solvers.continued_fractions import PCF

    f = candidate.formula
    if isinstance(f, dict) and "a" in f and "b" in f:
        return verify(PCF.from_dict(f), candidate.claim, digits, **kwargs)
    return _no_verifier(candidate, digits, "a pcf candidate needs coefficients 'a' and 'b'")


@register_verifier("esma")
def _verify_signed_cf(candidate: Candidate, digits: int, **kwargs: Any) -> Evidence:
    from solvers.signed_cf import SignedCFPattern

    return verify(SignedCFPattern.from_dict(candidate.formula), candidate.claim, digits,
                  **kwargs)


@register_verifier("cmf")
def _verify_trajectory(candidate: Candidate, digits: int, **kwargs: Any) -> Evidence:
    from solvers.cmf import CMFTrajectory

    return verify(CMFTrajectory.from_dict(candidate.formula), candidate.claim, digits, **kwargs)


# -- programs -----------------------------------------------------------------------------------


def program_claim(function: str, interval: Any, error: str, max_error: float, ops: int) -> str:
    """The claim of an evolved program, with its error rounded up to 3 significant digits.

    Examples
    --------
    >>> program_claim("2^x", [0, 1], "relative", 3.9213e-9, 10)
    '2^x on [0, 1]: max relative error <= 3.93e-09 in 10 ops'
    """
    a, b = interval
    bound = _round_up(max_error)
    return f"{function} on [{a:g}, {b:g}]: max {error} error <= {bound} in {ops} ops"


def _round_up(x: float, sig: int = 3) -> str:
    """``x`` rounded UP to ``sig`` significant digits, in a form that parses back."""
    if not math.isfinite(x) or x <= 0:
        return repr(x)
    e = math.floor(math.log10(x))
    scale = 10.0 ** (sig - 1 - e)
    m = math.ceil(x * scale * (1 - 1e-12)) / scale
    return f"{m:.{sig - 1}e}"


def verify_program(candidate: Candidate, digits: int = 50, *, grid: int = 20000,
                   float32: bool | None = None) -> dict:
    """Re-measure an evolved program's error against a 50-digit reference.

    ``digits`` is the registry's common argument; a float64 program's error needs no more
    than 50 digits of reference, so it is not used.

    The dense grid with local maximisation is independent of the engine's fitting grid; the
    verified error (rounded up) becomes the claim. With ``float32`` (default: what the
    candidate's formula asks, key ``float32``) every float32 input of the interval is
    checked as well and the maximum ULP error is added to the evidence.

    Examples
    --------
    >>> from solvers.programs import Program
    >>> p = Program.build(lambda x: 1 + x * (0.6951 + x * 0.3049))
    >>> c = Candidate("program", p.key, {"program": p.to_dict(), "function": "2^x",
    ...               "interval": [0, 1], "error": "relative"}, "2^x on [0, 1]")
    >>> ev = verify_program(c, grid=2000)
    >>> ev["verdict"], round(ev["max_error"], 5), ev["verified_claim"]
    ('verified', 0.00735, '2^x on [0, 1]: max relative error <= 7.35e-03 in 4 ops')
    """
    from solvers.programs import measure_error, program_from_dict

    t0 = time.perf_counter()
    f = candidate.formula
    try:
        program = program_from_dict(f["program"])
        function, interval, error = f["function"], tuple(f["interval"]), f["error"]
    except (KeyError, TypeError, ValueError, DiscoveryError) as exc:
        return {"verdict": "inconclusive", "note": f"unreadable program: {exc}"}
    dps = 50
    m = measure_error(program, function, interval, error=error, dps=dps, grid=grid)
    out: dict[str, Any] = {
        "verdict": "verified" if math.isfinite(m.max_error) else "inconclusive",
        "method": f"{dps}-digit reference on {grid} points + local maximisation",
        "max_error": m.max_error,
        "argmax": m.argmax,
        "dps": dps,
        "grid": grid,
        "ops": program.cost,
    }
    if math.isfinite(m.max_error):
        out["verified_claim"] = program_claim(function, interval, error, m.max_error,
                                              program.cost)
    if float32 if float32 is not None else bool(f.get("float32")):
        from solvers.float32_check import exhaustive_ulp

        report = exhaustive_ulp(program, function, (float(interval[0]), float(interval[1])))
        out["float32"] = report.to_dict()
    out["seconds"] = time.perf_counter() - t0
    return out


register_verifier("program")(verify_program)


# -- bounds -------------------------------------------------------------------------------------


@register_verifier("bound")
def _verify_bound_certificate(candidate: Candidate, digits: int, **kwargs: Any) -> Evidence:
    """Re-check a packing bound's certificate exactly (independently of the engine's check)."""
    from fractions import Fraction

    from solvers.packing.certificate import LPCertificate, verify_lp_certificate
    from solvers.packing.tp_certificate import ThreePointCertificate, verify_three_point

    t0 = time.perf_counter()
    data = candidate.formula.get("certificate") if isinstance(candidate.formula, dict) else None
    if data is None:
        return _no_verifier(candidate, digits, "the bound carries no certificate")
    fmt = data.get("format") if isinstance(data, dict) else None
    try:
        if fmt == "three-point-certificate":
            v = verify_three_point(ThreePointCertificate.from_dict(data))
        elif fmt == "cohn-elkies-lp-certificate":
            v = verify_lp_certificate(LPCertificate.from_dict(data))
        else:
            raise DiscoveryError(f"unknown certificate format {fmt!r}")
        claimed = candidate.claim.rpartition("<=")[2].strip()
        supports = v.verified and Fraction(v.bound) <= Fraction(claimed)
        note = (f"certificate proves density <= {v.bound}" if v.verified
                else "certificate does not verify: " + "; ".join(v.failures))
        if v.verified and not supports:
            note += f", weaker than the claimed {claimed}"
    except (DiscoveryError, ValueError, KeyError, TypeError) as exc:
        supports, note = False, f"certificate unreadable: {exc}"
    return Evidence(
        verdict="proven" if supports else "inconclusive",
        digits=0,
        requested=digits,
        depth=0,
        digits_per_term=math.nan,
        delta=None,
        seconds=time.perf_counter() - t0,
        claim=candidate.claim,
        estimated_digits=0,
        method="exact re-verification of the rational certificate",
        note=note,
    )
