#!/usr/bin/env python3
"""Benchmark of what a user runs: whole ``discovery verify`` processes, with baselines.

Apéry's PCF ``(34n^3+51n^2+27n+5, -n^6)`` against the claim ``6/zeta(3)`` at 10^3, 10^4 and
10^5 digits, each measured in the same run as

* **command**: the whole ``discovery verify --a ... --b ... --claim 6/zeta(3) --digits D
  --json`` process, start-up included;
* **plain**: what one would write without the workbench -- a gmpy2 loop of the three-term
  recurrence to the depth the digits need, and mpmath's ``zeta(3)`` at that precision (a
  separate Python process, its imports included);
* **tree+arb**: the best one can do with the same libraries -- the product-tree convergent and
  python-flint's ``arb`` ζ(3), compared as balls (a separate process, imports included).

Targets (issue 15): at 10^5 digits the command is at least 10x faster than *plain* and within
3x of *tree+arb*. The start-up ratio (``discovery verify`` of 50 digits against importing
sympy, mpmath, gmpy2 and python-flint) is printed too.

Usage: ``python scripts/bench/verify.py [--json] [--quick]`` (``--quick``: 10^3 and 10^4 only).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
DISCOVERY = [PY, "-m", "discovery.cli"]
A, B, CLAIM = "34n^3+51n^2+27n+5", "-n^6", "6/zeta(3)"

PLAIN = r"""
import sys, gmpy2, mpmath
D = int(sys.argv[1])
N = int(D / 3.0616) + 20
p0, p1, q0, q1 = gmpy2.mpz(1), gmpy2.mpz(5), gmpy2.mpz(0), gmpy2.mpz(1)
for n in range(1, N + 1):
    a = 34 * n**3 + 51 * n**2 + 27 * n + 5
    b = -(n**6)
    p0, p1 = p1, a * p1 + b * p0
    q0, q1 = q1, a * q1 + b * q0
ctx = mpmath.MPContext()
ctx.dps = D + 20
x = ctx.mpf(p1) / q1
y = 6 / ctx.zeta(3)
d = abs(x - y)
print(D + 20 if d == 0 else int(-ctx.log10(d / abs(y))))
"""

TREE_ARB = r"""
import sys
import flint
from flint import arb, fmpz
sys.path.insert(0, sys.argv[2])
from solvers.continued_fractions import PCF
D = int(sys.argv[1])
N = int(D / 3.0616) + 20
p0, p, q0, q = PCF((5, 27, 51, 34), (0, 0, 0, 0, 0, 0, -1)).convergents(N)
with flint.ctx.workprec(int(D * 3.33) + 64):
    diff = arb(fmpz(int(p))) / arb(fmpz(int(q))) - 6 / arb(3).zeta()
    print(int(-float((diff.abs_upper().log() / arb(10).log()).mid().str(20, radius=False))))
"""

IMPORTS = "import sympy, mpmath, gmpy2, flint"


def timed(cmd: list[str], repeat: int) -> tuple[float, str]:
    """Median wall time of ``repeat`` runs of ``cmd`` and the last stdout."""
    times, out = [], ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
        times.append(time.perf_counter() - t0)
        if res.returncode not in (0,):
            raise RuntimeError(f"{' '.join(cmd[:4])} ... failed: {res.stderr.strip()[-300:]}")
        out = res.stdout
    return statistics.median(times), out


def bench(sizes: list[int], repeat: int) -> dict:
    rows = []
    for D in sizes:
        reps = repeat if D < 100_000 else 1
        t_cmd, out = timed([*DISCOVERY, "verify", "--a", A, "--b", B, "--claim", CLAIM,
                            "--digits", str(D), "--json"], reps)
        ev = json.loads(out)
        t_plain, plain_out = timed([PY, "-c", PLAIN, str(D)], reps)
        t_tree, tree_out = timed([PY, "-c", TREE_ARB, str(D), str(ROOT)], reps)
        rows.append({
            "digits": D,
            "command_seconds": round(t_cmd, 3),
            "command_verdict": ev["verdict"],
            "command_digits": ev["digits"],
            "plain_seconds": round(t_plain, 3),
            "plain_digits": int(plain_out.strip()),
            "tree_arb_seconds": round(t_tree, 3),
            "tree_arb_digits": int(tree_out.strip()),
            "plain_over_command": round(t_plain / t_cmd, 2),
            "command_over_tree_arb": round(t_cmd / t_tree, 2),
        })
    t_imports, _ = timed([PY, "-c", IMPORTS], repeat)
    t_small, _ = timed([*DISCOVERY, "verify", "--a", A, "--b", B, "--claim", CLAIM,
                        "--digits", "50", "--json"], repeat)
    big = [r for r in rows if r["digits"] == 100_000]
    return {
        "rows": rows,
        "imports_seconds": round(t_imports, 3),
        "verify50_seconds": round(t_small, 3),
        "startup_ratio": round(t_small / t_imports, 2),
        "targets": {
            "plain_over_command_at_1e5": ">= 10",
            "command_over_tree_arb_at_1e5": "<= 3",
            "startup_ratio": "<= 1.5",
        },
        "met": None if not big else {
            "plain_over_command_at_1e5": big[0]["plain_over_command"] >= 10,
            "command_over_tree_arb_at_1e5": big[0]["command_over_tree_arb"] <= 3,
            "startup_ratio": t_small / t_imports <= 1.5,
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--quick", action="store_true", help="10^3 and 10^4 digits only")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    args = ap.parse_args(argv)
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    result = bench(sizes, args.repeat)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{'digits':>8} {'command s':>10} {'plain s':>9} {'tree+arb s':>11} "
          f"{'plain/command':>14} {'command/tree+arb':>17}  verdict (digits)")
    for r in result["rows"]:
        print(f"{r['digits']:>8} {r['command_seconds']:>10} {r['plain_seconds']:>9} "
              f"{r['tree_arb_seconds']:>11} {r['plain_over_command']:>14} "
              f"{r['command_over_tree_arb']:>17}  {r['command_verdict']} "
              f"({r['command_digits']})")
    print(f"start-up: discovery verify of 50 digits {result['verify50_seconds']} s, importing "
          f"sympy+mpmath+gmpy2+flint {result['imports_seconds']} s: ratio "
          f"{result['startup_ratio']} (target <= 1.5)")
    print(f"targets at 10^5 digits: plain/command >= 10, command/tree+arb <= 3; met: "
          f"{result['met']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
