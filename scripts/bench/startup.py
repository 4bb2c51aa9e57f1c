#!/usr/bin/env python3
"""Start-up time of the light ``discovery`` commands, against the maths stack they need.

Baseline (a): a fresh interpreter importing sympy, mpmath, gmpy2 and python-flint, the
libraries every verification needs. Then whole ``discovery`` processes:

* ``discovery verify --a 1 --b 1 --claim "(1+sqrt(5))/2" --digits 50``
* ``discovery identify --value 1.6180339887498948482045868343656 --digits 30``
* ``discovery constants show zeta3 --digits 50``
* ``discovery --help``

each as the ratio of its median wall time to the baseline's. Target (issue, "instant
start"): every ratio <= 1.5 -- numba, cvxpy, matplotlib and the engines are imported only
by the commands that need them.

Every process of the benchmark (the baseline too) runs with a bytecode cache in a directory
of its own (``PYTHONPYCACHEPREFIX``, warmed by one untimed run of each command), as an
installed package runs; ``--as-is`` keeps the caller's environment instead (with
``PYTHONDONTWRITEBYTECODE=1`` the project's own modules are then compiled at every start).
The runs are interleaved (one of each command per round) so that drifts of the machine's
load hit all of them alike.

Usage: ``python scripts/bench/startup.py [--runs 5] [--json] [--as-is]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = 1.5
BASELINE = "import sympy, mpmath, gmpy2, flint"

COMMANDS = {
    "verify": ["verify", "--a", "1", "--b", "1", "--claim", "(1+sqrt(5))/2", "--digits", "50"],
    "identify": ["identify", "--value", "1.6180339887498948482045868343656", "--digits", "30"],
    "constants show": ["constants", "show", "zeta3", "--digits", "50"],
    "--help": ["--help"],
}


def discovery_argv() -> list[str]:
    """The ``discovery`` console script next to this interpreter, else ``-m discovery.cli``."""
    script = Path(sys.executable).parent / "discovery"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "discovery.cli"]


def environment(as_is: bool) -> tuple[dict[str, str], str | None]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    if as_is:
        return env, None
    cache = Path(tempfile.gettempdir()) / f"discovery-startup-pyc-{os.getuid()}"
    cache.mkdir(exist_ok=True)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env, str(cache)


def run_once(argv: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          cwd=ROOT)
    seconds = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): "
                         f"{done.stderr.decode(errors='replace').strip()[:300]}")
    return seconds


def measure(runs: int, as_is: bool) -> dict:
    env, cache = environment(as_is)
    exe = discovery_argv()
    argvs = {"baseline": [sys.executable, "-c", BASELINE]}
    argvs.update({name: exe + args for name, args in COMMANDS.items()})
    for argv in argvs.values():  # warm-up: fills the bytecode cache, the OS file cache
        run_once(argv, env)
    times: dict[str, list[float]] = {name: [] for name in argvs}
    for _ in range(runs):
        for name, argv in argvs.items():
            times[name].append(run_once(argv, env))
    base = statistics.median(times["baseline"])
    rows = []
    for name, argv in argvs.items():
        if name == "baseline":
            continue
        med = statistics.median(times[name])
        rows.append({"name": name, "argv": argv[len(exe):], "median_s": round(med, 4),
                     "min_s": round(min(times[name]), 4), "ratio": round(med / base, 3),
                     "ok": med / base <= TARGET})
    return {
        "baseline": {"code": BASELINE, "median_s": round(base, 4),
                     "min_s": round(min(times["baseline"]), 4)},
        "commands": rows,
        "target": TARGET,
        "all_ok": all(r["ok"] for r in rows),
        "runs": runs,
        "bytecode_cache": cache,
        "python": sys.version.split()[0],
        "discovery": " ".join(exe),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs of each process (median)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--as-is", action="store_true",
                    help="the caller's environment (no bytecode cache of our own)")
    args = ap.parse_args()
    result = measure(max(1, args.runs), args.as_is)
    if args.json:
        print(json.dumps(result))
        return
    b = result["baseline"]
    print(f"baseline `python -c \"{b['code']}\"`: median {b['median_s'] * 1000:.0f} ms "
          f"(min {b['min_s'] * 1000:.0f} ms) over {result['runs']} runs")
    print(f"{'command':<16} {'median':>9} {'min':>9} {'ratio':>7}  target <= {TARGET}")
    for r in result["commands"]:
        print(f"{r['name']:<16} {r['median_s'] * 1000:>7.0f}ms {r['min_s'] * 1000:>7.0f}ms "
              f"{r['ratio']:>7.2f}  {'ok' if r['ok'] else 'SLOW'}")
    cache = result["bytecode_cache"]
    print("bytecode cache: " + (cache if cache else "the caller's environment (--as-is)"))


if __name__ == "__main__":
    main()
