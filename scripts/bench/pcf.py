#!/usr/bin/env python3
"""Benchmark of the continued-fraction kernel, with baselines measured in the same run.

1. Apéry's PCF ``(34n^3+51n^2+27n+5, -n^6)``: exact convergents at depths 10^3, 10^4, 10^5 by
   the kernel's product tree, against a plain gmpy2 recurrence loop.
2. ``6/zeta(3)`` to 10^5 digits from the PCF (convergents + one division), against
   python-flint's ``arb(3).zeta()`` and mpmath's ``zeta(3)`` at the same precision.
3. Optionally ramanujantools' ``PCF.limit`` (never a dependency): set ``RT_PYTHON`` to a Python
   that has ``ramanujantools`` installed (e.g. a scratch venv) to include it.

Targets (issue 2): >= 10x the plain loop at depth 10^5; within 5x of arb; >= 50x mpmath.

Usage: ``python scripts/bench/pcf.py [--json] [--quick]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import flint  # noqa: E402
import gmpy2  # noqa: E402
import mpmath  # noqa: E402
from _common import best_of  # noqa: E402

from solvers.continued_fractions import PCF, ratio_to_mpf  # noqa: E402

APERY = PCF((5, 27, 51, 34), (0, 0, 0, 0, 0, 0, -1))
RATE = 8 * mpmath.log10(1 + mpmath.sqrt(2))  # digits per term of Apéry's PCF (3.062)


def plain_loop(depth: int):
    """p_n = a(n) p_{n-1} + b(n) p_{n-2}, one step at a time, with gmpy2 integers."""
    mpz = gmpy2.mpz
    p0, p1, q0, q1 = mpz(1), mpz(5), mpz(0), mpz(1)
    for n in range(1, depth + 1):
        a = ((34 * n + 51) * n + 27) * n + 5
        b = -(n**6)
        p0, p1 = p1, a * p1 + b * p0
        q0, q1 = q1, a * q1 + b * q0
    return p0, p1, q0, q1


def zeta3_pcf(digits: int):
    depth = int(digits / float(RATE)) + 10
    p0, p, q0, q = APERY.convergents(depth)
    ctx = mpmath.MPContext()
    ctx.dps = digits + 10
    return 6 / ratio_to_mpf(ctx, p, q)  # PCF -> 6/zeta(3), so zeta(3) = 6/limit


def zeta3_arb(digits: int):
    old = flint.ctx.dps
    flint.ctx.dps = digits + 10
    try:
        return flint.arb(3).zeta()
    finally:
        flint.ctx.dps = old


ARB_SNIPPET = """
import sys, time, flint
flint.ctx.dps = int(sys.argv[1])
t = time.perf_counter(); flint.arb(3).zeta(); print(time.perf_counter() - t)
"""


def zeta3_arb_fresh(digits: int) -> float:
    """arb caches zeta(3) per process: time the first evaluation in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", ARB_SNIPPET, str(digits + 10)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def zeta3_mpmath(digits: int):
    ctx = mpmath.MPContext()
    ctx.dps = digits + 10
    return ctx.zeta(3)


RT_SNIPPET = """
import sys, time
import sympy as sp
from ramanujantools.pcf import PCF
n = sp.Symbol("n")
p = PCF(34*n**3 + 51*n**2 + 27*n + 5, -n**6)
depth = int(sys.argv[1])
p.limit(10)
t = time.perf_counter(); p.limit(depth); print(time.perf_counter() - t)
"""


def ramanujantools_time(depth: int) -> float | None:
    py = os.environ.get("RT_PYTHON")
    if not py:
        return None
    try:
        out = subprocess.run(
            [py, "-c", RT_SNIPPET, str(depth)], capture_output=True, text=True, timeout=600
        )
        return float(out.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, ValueError, IndexError, OSError):
        return None


def main() -> None:
    sys.set_int_max_str_digits(0)  # this script is an edge: it compares 10^5-digit strings
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--quick", action="store_true", help="smaller sizes (smoke test)")
    args = ap.parse_args()

    depths = [10**3, 10**4] if args.quick else [10**3, 10**4, 10**5]
    digits = 10**4 if args.quick else 10**5
    rows = []
    for N in depths:
        rep = 3 if N <= 10**4 else 1
        # correctness first: both routes give the same exact convergents
        if N <= 10**4:
            assert tuple(APERY.convergents(N)) == plain_loop(N)
        t_tree = best_of(lambda N=N: APERY.convergents(N), rep)
        t_loop = best_of(lambda N=N: plain_loop(N), rep)
        t_rt = ramanujantools_time(N)
        rows.append(
            {
                "depth": N,
                "tree_s": t_tree,
                "plain_loop_s": t_loop,
                "speedup_vs_loop": t_loop / t_tree,
                "ramanujantools_s": t_rt,
                "speedup_vs_ramanujantools": (t_rt / t_tree) if t_rt else None,
            }
        )

    # zeta(3) to `digits` digits: check all three agree, then time them
    ctx = mpmath.MPContext()
    ctx.dps = 60
    z_pcf = zeta3_pcf(digits)
    z_arb = zeta3_arb(digits)
    check = mpmath.MPContext()
    check.dps = digits
    agree = abs(z_pcf - check.mpf(z_arb.mid().str(digits + 5, radius=False))) < check.mpf(10) ** (
        -(digits - 5)
    )
    t_pcf = best_of(lambda: zeta3_pcf(digits), 3)
    t_arb = min(zeta3_arb_fresh(digits) for _ in range(3))
    t_mp = best_of(lambda: zeta3_mpmath(digits), 1)  # a fresh local context: no cache
    zeta = {
        "digits": digits,
        "agree_with_arb": bool(agree),
        "pcf_s": t_pcf,
        "arb_s": t_arb,
        "mpmath_s": t_mp,
        "pcf_over_arb": t_pcf / t_arb,
        "mpmath_over_pcf": t_mp / t_pcf,
    }
    result = {"apery_convergents": rows, "zeta3": zeta}
    if args.json:
        print(json.dumps(result))
        return
    print("Apéry PCF convergents (exact p_N, q_N)")
    print(
        f"{'depth':>8} {'tree s':>10} {'loop s':>10} {'loop/tree':>10} {'rt s':>10} {'rt/tree':>8}"
    )
    for r in rows:
        rt = f"{r['ramanujantools_s']:.4f}" if r["ramanujantools_s"] else "n/a"
        rr = f"{r['speedup_vs_ramanujantools']:.1f}" if r["speedup_vs_ramanujantools"] else "n/a"
        print(
            f"{r['depth']:>8} {r['tree_s']:>10.4f} {r['plain_loop_s']:>10.4f} "
            f"{r['speedup_vs_loop']:>10.1f} {rt:>10} {rr:>8}"
        )
    print(f"\nzeta(3) to {digits} digits (agree with arb: {zeta['agree_with_arb']})")
    print(f"  PCF  {t_pcf:.4f} s")
    print(f"  arb  {t_arb:.4f} s   PCF/arb = {zeta['pcf_over_arb']:.2f}  (target <= 5)")
    print(f"  mpmath {t_mp:.4f} s  mpmath/PCF = {zeta['mpmath_over_pcf']:.1f}  (target >= 50)")


if __name__ == "__main__":
    main()
