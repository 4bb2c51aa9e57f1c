#!/usr/bin/env python3
"""Benchmark of the evolutionary-search kernels, with the plain-numpy baseline measured in the
same run.

1. Program evaluations per second (one program on 1000 points, float64): the numba
   interpreter (:func:`solvers.programs.evaluate`, one call per program; and
   :func:`solvers.programs.evaluate_batch_max_error`, one call per CMA-ES population of 24
   constant vectors), against a plain-numpy interpreter of the same programs (one vectorised
   numpy operation per node).
2. Constant-fit time per program (:func:`search.evolution.fit_constants`, default settings:
   Levenberg-Marquardt from the inherited constants and 12 random starts, CMA-ES from the
   inherited constants, polish), over random programs made by
   mutating the identity, and the 10-op structure of the regression program from its
   published constants perturbed by 1e-3.

Usage: ``python scripts/bench/evolution.py [--json] [--quick]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402

from search.evolution import fit_constants, mutate  # noqa: E402
from solvers.programs import (  # noqa: E402
    Program,
    evaluate,
    evaluate_batch_max_error,
    fit_grid,
)


def numpy_evaluate(program: Program, xs: np.ndarray) -> np.ndarray:
    """A plain-numpy interpreter: one vectorised operation per node."""
    return program.interpret(xs, lambda v: np.full_like(xs, v))


def random_programs(n: int, seed: int = 0, max_ops: int = 12) -> list[Program]:
    rng = np.random.default_rng(seed)
    out = []
    p = Program.identity()
    while len(out) < n:
        p = mutate(p, rng, max_ops=max_ops)
        if 6 <= p.cost:
            out.append(p)
        if rng.random() < 0.05:
            p = Program.identity()
    return out


def regression_structure(rel: float, seed: int) -> Program:
    c = np.array([15141.981176922711, -250.55247494972059, 5783.5330096027765,
                  501.10494991027866, -0.99999999999999956])
    c = c * (1 + rel * np.random.default_rng(seed).standard_normal(5))

    def f(x):
        u = x + c[2] / x
        z = c[3] / (c[1] + u + c[0] / u) - c[4]
        z2 = z * z
        z4 = z2 * z2
        return z4 * z4

    return Program.build(f).canonical()


def bench_evaluation(programs: list[Program], points: int, repeat: int) -> dict:
    xs = np.linspace(0.0, 1.0, points)
    f = np.exp2(xs)
    w = 1 / f
    for p in programs[:3]:  # compile
        evaluate(p, xs)
        evaluate_batch_max_error(p, np.array([p.constants] * 2), xs, f, w)
    with np.errstate(all="ignore"):
        t0 = time.perf_counter()
        for _ in range(repeat):
            for p in programs:
                numpy_evaluate(p, xs)
        t_np = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in range(repeat):
            for p in programs:
                evaluate(p, xs)
        t_nb = time.perf_counter() - t0
        batches = [np.array([p.constants] * 24) for p in programs]
        t0 = time.perf_counter()
        for _ in range(repeat):
            for p, C in zip(programs, batches, strict=True):
                evaluate_batch_max_error(p, C, xs, f, w)
        t_batch = time.perf_counter() - t0
    n = repeat * len(programs)
    mean_ops = statistics.mean(p.cost for p in programs)
    return {
        "programs": len(programs),
        "mean_ops": round(mean_ops, 2),
        "points": points,
        "numpy_programs_per_s": round(n / t_np),
        "numba_programs_per_s": round(n / t_nb),
        "numba_batched_programs_per_s": round(24 * n / t_batch),
        "speedup_numba_vs_numpy": round(t_np / t_nb, 2),
        "speedup_batched_vs_numpy": round(24 * t_np / t_batch, 2),
        "numba_batched_point_ops_per_s": round(24 * n * points * mean_ops / t_batch),
    }


def bench_fit(programs: list[Program]) -> dict:
    fit_grid("2^x", (0.0, 1.0), 1000, "relative")
    fit_grid("2^x", (0.0, 1.0), 200, "relative")
    times, errs = [], []
    for i, p in enumerate(programs):
        r = fit_constants(p, "2^x", (0.0, 1.0), rng=np.random.default_rng(i))
        times.append(r.seconds)
        errs.append(r.error)
    reg_t, reg_e = [], []
    for s in range(3):
        r = fit_constants(regression_structure(1e-3, s), "2^x", (0.0, 1.0),
                          rng=np.random.default_rng(s))
        reg_t.append(r.seconds)
        reg_e.append(r.error)
    return {
        "random_programs": len(programs),
        "fit_seconds_median": round(statistics.median(times), 4),
        "fit_seconds_mean": round(statistics.mean(times), 4),
        "fit_seconds_max": round(max(times), 4),
        "ten_op_structure_fit_seconds_mean": round(statistics.mean(reg_t), 4),
        "ten_op_structure_errors": [float(f"{e:.3g}") for e in reg_e],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    progs = random_programs(40 if args.quick else 200)
    out = {
        "evaluation": bench_evaluation(progs, 1000, 3 if args.quick else 20),
        "fit": bench_fit(progs[: (5 if args.quick else 30)]),
    }
    if args.json:
        print(json.dumps(out))
        return
    e, f = out["evaluation"], out["fit"]
    print(f"Program evaluation ({e['programs']} random programs, mean {e['mean_ops']} ops, "
          f"{e['points']} points, float64):")
    print(f"  plain numpy interpreter : {e['numpy_programs_per_s']:>10,} programs/s")
    print(f"  numba, one call/program : {e['numba_programs_per_s']:>10,} programs/s "
          f"({e['speedup_numba_vs_numpy']}x)")
    print(f"  numba, batches of 24    : {e['numba_batched_programs_per_s']:>10,} programs/s "
          f"({e['speedup_batched_vs_numpy']}x; "
          f"{e['numba_batched_point_ops_per_s'] / 1e9:.2f} G point-ops/s)")
    print(f"Constant fitting (multistart LM + CMA-ES + polish), {f['random_programs']} random "
          f"programs: median {f['fit_seconds_median']} s, mean {f['fit_seconds_mean']} s, "
          f"max {f['fit_seconds_max']} s")
    print(f"  10-op structure from constants perturbed by 1e-3: "
          f"{f['ten_op_structure_fit_seconds_mean']} s, errors {f['ten_op_structure_errors']}")


if __name__ == "__main__":
    main()
