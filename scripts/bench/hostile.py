"""Benchmark: what the hostile inputs cost, as whole commands, against a trivial command.

Each command line below once ran for minutes or past 4 GB; now each must answer (a result, an
``inconclusive`` with its reason, or a one-line refusal) within 30 s and 1 GB. This script
runs each as a user does (``python -m discovery.cli ...``, start-up included) and prints its
wall time and peak memory as ratios against ``discovery constants show e`` measured in the
same run, with its exit status.

Run: ``.venv/bin/python scripts/bench/hostile.py`` (about a minute).
"""

from __future__ import annotations

import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASELINE = "constants show e --digits 50"

PROBES = [
    "verify --a 1 --b n^64 --claim 1 --digits 10",
    'verify --a 1 --b "(n+1)^64" --claim 1 --digits 10',
    'verify --a 1 --b 1 --claim "sqrt(2)^zeta1000000"',
    'verify --a 1 --b 1 --claim "2^polylog(631.209,-612.533)"',
    "verify --a 0 --b n^2 --claim 4/pi",
    "identify --value 1e5000000000",
    "identify --value 1e-999999999",
    "search cmf --cmf zeta3 --starts 0..1000000 --no-store",
    "cmf walk --cmf zeta3 --trajectory 1000,1 --start 1,1 --depth 100",
    "cmf walk --cmf zeta3 --trajectory 1,1 --start 1,1 --depth 10000000",
    "constants show khinchin --digits 1000000",
    "search evolve --batch 1000000000 --minutes 0.01 --no-store",
    "packing check /dev/zero",
    "run {d}/toy.toml --executor dask --scheduler tcp://127.0.0.1:1 --db {d}/new.db",
]

TOY = '[campaign]\nname = "toy"\n[[engine]]\nname = "toy"\n'


def run(args: str, d: Path) -> tuple[float, float, int]:
    """``(seconds, peak MB, exit status)`` of one command (its own process, via a wrapper)."""
    wrapper = ("import resource, subprocess, sys\n"
               "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
               "stderr=subprocess.DEVNULL)\n"
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
               "sys.exit(r.returncode)\n")
    argv = [a.replace("{d}", str(d)) for a in shlex.split(args)]
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-m", "discovery.cli",
                          *argv], capture_output=True, text=True, cwd=d, timeout=120)
    seconds = time.perf_counter() - t0
    return seconds, int(res.stdout.strip() or 0) / 1024, res.returncode


def main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))  # the probe's 4 GB guard
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "toy.toml").write_text(TOY)
        base_s, base_mb, _ = min((run(BASELINE, d) for _ in range(3)), key=lambda r: r[0])
        print(f"baseline `discovery {BASELINE}`: {base_s:.2f} s, {base_mb:.0f} MB")
        print(f"{'command':<76} {'status':>6} {'s':>6} {'x base':>7} {'MB':>6} {'x base':>7}")
        worst_s = worst_mb = 0.0
        for args in PROBES:
            s, mb, status = run(args, d)
            worst_s, worst_mb = max(worst_s, s), max(worst_mb, mb)
            print(f"{args[:76]:<76} {status:>6} {s:>6.1f} {s / base_s:>7.1f} {mb:>6.0f} "
                  f"{mb / base_mb:>7.1f}")
            if list(d.iterdir()) != [d / "toy.toml"]:
                print(f"  ! left files: {sorted(p.name for p in d.iterdir())}")
        print(f"worst: {worst_s:.1f} s ({worst_s / base_s:.1f}x the baseline; bound 30 s), "
              f"{worst_mb:.0f} MB ({worst_mb / base_mb:.1f}x; bound 1024 MB)")


if __name__ == "__main__":
    main()
