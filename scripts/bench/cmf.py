#!/usr/bin/env python3
"""Benchmark of CMF walks: the ζ(3) field along (1, 1) from (1, 1) to depth 5000.

Measured in the same run:

1. the workbench (``solvers.cmf``): the exact walk ``W_{N-1}, W_N`` by a balanced product
   tree of ``flint.fmpz_mat`` (``convergents``), and the limit with its error estimate
   (``limit``: the walk plus one division at the supported precision), warm (trajectory
   matrix cached) and cold (trajectory matrix built from the field);
2. a plain sequential product of the same integer step matrices with gmpy2 (baseline);
3. optionally ramanujantools 0.0.8's ``CMF.limit`` (never a dependency): give a Python that
   has it installed with ``--rt-python`` or the ``RT_PYTHON`` environment variable (e.g. a
   scratch venv: ``python3 -m venv /tmp/rt-venv && /tmp/rt-venv/bin/pip install
   ramanujantools==0.0.8``); it is skipped otherwise. "Cold" is the first call (the trajectory
   matrix is built symbolically); "warm" repeats use new depths, because ramanujantools
   caches finished walks per depth.

Target (issue 5): at least 2x faster than ramanujantools.

Usage: ``python scripts/bench/cmf.py [--json] [--depth N] [--rt-python PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import gmpy2  # noqa: E402
import mpmath  # noqa: E402
from _common import best_of  # noqa: E402

from search.cmf import catalogue_cmf  # noqa: E402
from solvers.cmf import CMFTrajectory  # noqa: E402

TRAJECTORY = (1, 1)
START = (1, 1)


def sequential(walk: CMFTrajectory, depth: int):
    """W_N = T(0) T(1) ... T(N-1), one 2x2 gmpy2 product at a time (same integer steps)."""
    mpz = gmpy2.mpz
    polys = [[[int(c) for c in e.coeffs()] for e in row] for row in walk.polys]

    def ev(c, n):
        v = 0
        for x in reversed(c):
            v = v * n + x
        return mpz(v)

    a, b, c, d = mpz(1), mpz(0), mpz(0), mpz(1)
    for n in range(depth):
        (e, f), (g, h) = ((ev(polys[0][0], n), ev(polys[0][1], n)),
                          (ev(polys[1][0], n), ev(polys[1][1], n)))
        a, b, c, d = a * e + b * g, a * f + b * h, c * e + d * g, c * f + d * h
    return b, d  # W_N[0, -1], W_N[1, -1]


RT_SNIPPET = """
import sys, time
from sympy.abc import x, y
from ramanujantools.cmf import known_cmfs
depth = int(sys.argv[1])
cmf = known_cmfs.zeta3()
t = time.perf_counter()
lim = cmf.limit({x: 1, y: 1}, depth, {x: 1, y: 1})
cold = time.perf_counter() - t
best = None
for k in range(1, 4):  # new depths: ramanujantools caches walks per depth (lru_cache)
    t = time.perf_counter(); cmf.limit({x: 1, y: 1}, depth + k, {x: 1, y: 1})
    dt = time.perf_counter() - t
    best = dt if best is None else min(best, dt)
print(cold, best, lim.as_float())
"""


def ramanujantools_times(depth: int, python: str | None) -> dict | None:
    if not python:
        return None
    try:
        out = subprocess.run(
            [python, "-c", RT_SNIPPET, str(depth)], capture_output=True, text=True, timeout=900
        )
        cold, warm, value = out.stdout.strip().splitlines()[-1].split()
        return {"cold_s": float(cold), "warm_s": float(warm), "value": float(value)}
    except (subprocess.SubprocessError, ValueError, IndexError, OSError):
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--depth", type=int, default=5000)
    ap.add_argument("--rt-python", default=os.environ.get("RT_PYTHON"),
                    help="a Python with ramanujantools 0.0.8 (default: $RT_PYTHON)")
    args = ap.parse_args()
    N = args.depth

    cmf, _ = catalogue_cmf("zeta3")
    walk = cmf.walk(TRAJECTORY, START)
    # correctness first: tree and sequential product agree exactly; the limit is right
    _, p, _, q = walk.convergents(N)
    assert (p, q) == sequential(walk, N)
    lim = walk.limit(N)
    ctx = mpmath.MPContext()
    ctx.dps = 120
    z = ctx.zeta(3)
    err = abs(ctx.mpf(lim.value) - (1 - z) / z)
    correct_digits = int(-ctx.log10(err)) if err else 120

    t_conv = best_of(lambda: walk.convergents(N), 3)
    t_limit = best_of(lambda: walk.limit(N), 3)
    t_cold = best_of(lambda: CMFTrajectory(cmf, TRAJECTORY, START).limit(N), 3)
    t_seq = best_of(lambda: sequential(walk, N), 1)
    rt = ramanujantools_times(N, args.rt_python)

    result = {
        "cmf": "zeta3",
        "trajectory": list(TRAJECTORY),
        "start": list(START),
        "depth": N,
        "limit_digits": lim.digits,
        "digits_checked_vs_zeta3": min(correct_digits, 120),
        "walk_s": t_conv,
        "limit_s": t_limit,
        "limit_cold_s": t_cold,
        "sequential_gmpy2_s": t_seq,
        "sequential_over_walk": t_seq / t_conv,
        "sequential_over_limit": t_seq / t_limit,
        "ramanujantools": rt,
        "ramanujantools_over_limit": (rt["warm_s"] / t_limit) if rt else None,
        "ramanujantools_cold_over_limit_cold": (rt["cold_s"] / t_cold) if rt else None,
        "agree_with_ramanujantools": (
            abs(rt["value"] - float(lim.value)) < 1e-12 if rt else None
        ),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"zeta(3) field, trajectory {TRAJECTORY} from {START}, depth {N}: "
          f"{lim.digits} digits (checked {result['digits_checked_vs_zeta3']} vs zeta(3))")
    print(f"{'method':<40} {'seconds':>10} {'ratio':>10}")
    print(f"{'workbench walk (exact W_N-1, W_N)':<40} {t_conv:>10.4f} {'':>10}")
    print(f"{'workbench limit (warm)':<40} {t_limit:>10.4f} {'1.0':>10}")
    print(f"{'workbench limit (cold: T(n) built)':<40} {t_cold:>10.4f} {'':>10}")
    print(f"{'sequential gmpy2 product':<40} {t_seq:>10.4f} {t_seq / t_limit:>10.1f}")
    if rt:
        print(f"{'ramanujantools 0.0.8 CMF.limit (warm)':<40} {rt['warm_s']:>10.4f} "
              f"{rt['warm_s'] / t_limit:>10.1f}")
        print(f"{'ramanujantools 0.0.8 CMF.limit (cold)':<40} {rt['cold_s']:>10.4f} "
              f"{rt['cold_s'] / t_cold:>10.1f}")
    else:
        print("ramanujantools: skipped (set RT_PYTHON or --rt-python)")
    print("ratio = other / workbench limit (target >= 2 against ramanujantools)")


if __name__ == "__main__":
    main()
