#!/usr/bin/env python3
"""Benchmark of the Blind-δ kernel (:mod:`solvers.blind_delta`) against a plain reimplementation
of the paper's per-PCF computation, measured in the same run on the same PCFs.

The sample: ``--sample`` PCFs of the default domain (``deg a, deg b <= 2``, coefficients in
``[-5, 5]``, 1,768,900 PCFs), drawn with a fixed seed as ``--sample / 2`` random *mirror pairs*
``(a, b), (-a, b)`` -- rows ``2j, 2j + 1`` of :func:`solvers.blind_delta.domain`, which is
how the engine's chunks see the domain, so the kernel's sign symmetry counts as it will in a
full scan. ``--independent`` draws unpaired PCFs instead (no symmetry to exploit).

The baseline (:func:`baseline`) is written here after ``calc_individual`` of the public code
(GitHub RamanujanMachine/Blind-Delta-Algorithm, ``blind_delta.py``): a Python loop over
``n = 1..N`` with mpz ``p_n, q_n`` and ``gcd(p_n, q_n)`` at every step, the coefficients
evaluated term by term in mpz, the limit and the differences in 100,000-bit mpfr, ``c, d`` and
``β, γ, η`` fitted by ``scipy.optimize.curve_fit`` at the depths ``6, H/8, H/4, H/2, H``,
the eigenvalue ratio at ``n = 10^9``. Two deliberate departures, both in the baseline's favour
or needed for a like-for-like comparison: logarithms of mpfr numbers are taken from their
mantissa and exponent (a 100,000-bit ``gmpy2.log`` costs ~23 ms each here, a dozen per PCF),
and the depths follow this repository's convention (``p_N`` is the convergent after ``N``
levels; the public code's lists start at ``p_{-1}``, so its "depth 2000" is ``p_1999`` and
its δ is taken at ``p_999``). Its convergence test is the public code's: the PCF does not
terminate and ``|p_N/q_N| < 1000``.

Reported: PCFs per CPU-second per core for both and their ratio (target >= 30x), the
agreement of δ (naive and reduced) to 3 decimals and of the limits where both converge
(mismatches counted), the extrapolated wall time of the full domain on 2 cores (target
<= 8 h), and the share of the sample that converges, extrapolated to the domain, next to the
paper's count. ``--domain-count`` counts the whole domain instead: the float pre-pass over
every canonical PCF, the exact pass on those within the margin of the convergence test.

Usage: ``python scripts/bench/blind_delta.py [--sample 2000] [--workers 1] [--json]
[--baseline-sample M] [--independent] [--domain-count] [--store-rows N]``
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import gmpy2  # noqa: E402
import mpmath  # noqa: E402
import numpy as np  # noqa: E402
from gmpy2 import mpfr, mpz  # noqa: E402
from scipy.optimize import OptimizeWarning, curve_fit  # noqa: E402

from solvers.blind_delta import (  # noqa: E402
    _EXACT_MARGIN,
    _classify,
    _needs_exact,
    domain,
    domain_size,
    dynamics,
    dynamics_batch,
    prepass,
)

DEPTH = 2000
PRECISION = 100_000          # bits, as the public code
EIG_N = 10**9                # the public code's LIMIT_CONSTANT
PAPER_CONVERGING = 1_543_926  # Shalyt et al. 2024: "the final filtered dataset of 1,543,926"
TOTAL = domain_size()
LN2 = math.log(2.0)


# --------------------------------------------------------------------------- the baseline


def _ln_mpfr(x) -> float:
    """ln|x| of an mpfr from its exact mantissa and exponent (no full-precision log)."""
    man, exp = x.as_mantissa_exp()
    man = abs(int(man))
    shift = max(0, man.bit_length() - 64)
    return math.log(man >> shift) + (int(exp) + shift) * LN2


def _ln_int(x) -> float:
    return math.log(abs(int(x)))


def _qn_model(x, c, d):
    return c * x + d * x * np.log(x)


def _qn_model_fr(x, c):
    return c * x


def _conv_model(x, b, c, d):
    return b * np.log(x) + c * x + d * x * np.log(x)


def baseline(a: tuple, b: tuple, depth: int = DEPTH) -> dict:
    """The paper's per-PCF computation, straightforwardly (module docstring)."""
    with gmpy2.context(gmpy2.get_context(), precision=PRECISION):
        return _baseline(a, b, depth)


def _baseline(a: tuple, b: tuple, depth: int) -> dict:
    out = {"status": None, "limit": None, "delta_naive": math.nan, "delta": math.nan,
           "c": math.nan, "d": math.nan, "eig_ratio": math.nan, "delta_predicted": math.nan,
           "beta": math.nan, "gamma": math.nan, "eta": math.nan}
    pn, qn, G = [mpz(1), mpz(a[0])], [mpz(0), mpz(1)], [mpz(1), mpz(1)]
    for n in range(1, depth + 1):
        A = sum(mpz(c) * mpz(pow(n, k)) for k, c in enumerate(a))
        B = sum(mpz(c) * mpz(pow(n, k)) for k, c in enumerate(b))
        if B == 0:
            out["status"] = "terminates"
            return out
        pn.append(A * pn[-1] + B * pn[-2])
        qn.append(A * qn[-1] + B * qn[-2])
        G.append(gmpy2.gcd(pn[-1], qn[-1]))
    P = lambda k: pn[k + 1]  # noqa: E731  (p_k; the lists start at p_{-1})
    Q = lambda k: qn[k + 1]  # noqa: E731
    if Q(depth) == 0:
        out["status"] = "diverges"
        return out
    L = mpfr(P(depth)) / mpfr(Q(depth))
    if not abs(L) < 1000:
        out["status"] = "diverges"
        return out
    out["status"] = "converges"
    out["limit"] = f"{L:.45e}"
    H = depth // 2
    # δ against L at depth H.
    num = -_ln_mpfr(abs(L - mpfr(P(H)) / mpfr(Q(H))))
    out["delta_naive"] = num / _ln_int(Q(H)) - 1
    out["delta"] = num / _ln_int(abs(Q(H)) // G[H + 1]) - 1
    depths = [6, H // 8, H // 4, H // 2, H]
    x = np.array(depths, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        y = np.array([_ln_int(abs(Q(k)) // G[k + 1]) for k in depths])
        (c, d), _ = curve_fit(_qn_model, x, y, maxfev=10000, xtol=1e-5)
        if abs(d) < 0.05:
            (c,), _ = curve_fit(_qn_model_fr, x, y, maxfev=10000, xtol=1e-5)
            d = 0.0
        out["c"], out["d"] = float(c), float(d)
        A = sum(mpz(c_) * mpz(EIG_N) ** k for k, c_ in enumerate(a))
        B = sum(mpz(c_) * mpz(EIG_N) ** k for k, c_ in enumerate(b))
        disc = A * A + 4 * B
        if disc >= 0:
            ratio = (mpfr(A) + gmpy2.sqrt(mpfr(disc))) / (mpfr(A) - gmpy2.sqrt(mpfr(disc)))
            lr = abs(_ln_mpfr(ratio))
            out["eig_ratio"] = math.exp(lr)
            out["delta_predicted"] = EIG_N * lr / _qn_model(EIG_N, c, d) - 1
        y = np.array([_ln_mpfr(abs(L - mpfr(P(k)) / mpfr(Q(k)))) for k in depths])
        (beta, gamma, eta), _ = curve_fit(_conv_model, x, y, maxfev=10000, xtol=1e-15)
    out["beta"], out["gamma"], out["eta"] = float(beta), float(gamma), float(eta)
    return out


def _baseline_job(row: tuple) -> tuple[dict, float]:
    a, b = row
    t = time.process_time()
    res = baseline(a, b)
    return res, time.process_time() - t


# --------------------------------------------------------------------------- the run


def sample_rows(n: int, seed: int, independent: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if independent:
        idx = np.sort(rng.choice(TOTAL, n, replace=False))
    else:
        pairs = np.sort(rng.choice(TOTAL // 2, n // 2, replace=False))
        idx = np.stack([2 * pairs, 2 * pairs + 1], axis=1).reshape(-1)
    return np.concatenate([domain(start=int(i), stop=int(i) + 1) for i in idx])


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return mid - half, mid + half


def domain_count() -> dict:
    """Statuses of the whole domain: pre-pass on every canonical row (even indices), the exact
    pass on rows within the margin of the convergence test; mirror rows share the status."""
    t = time.process_time()
    canon = domain()[0::2]
    pre = prepass(canon, DEPTH)
    counts = {"converges": 0, "diverges": 0, "terminates": 0, "unknown": 0}
    exact_rows = 0
    for row, p in zip(canon, pre, strict=True):
        if p[0]:
            status = "terminates"
        else:
            e_n, e_h = float(p[1]), float(p[2])
            near = (abs(e_n + 10) <= _EXACT_MARGIN or abs(e_h - e_n - 3) <= _EXACT_MARGIN)
            if _needs_exact(p) and near:
                exact_rows += 1
                status = dynamics(tuple(row[:3]), tuple(row[3:]), DEPTH)["status"]
            else:
                status = _classify(p, DEPTH, e_n, e_h)[0]
        counts[status] += 2
    return {"counts": counts, "exact_rows": exact_rows, "cpu_s": time.process_time() - t}


def store_timing(rows: list[dict], n: int) -> dict:
    """Write ``n`` dynamics rows (the sample's, re-keyed by domain rows) to an in-memory store
    and read the table back."""
    from discovery.store import Store

    keys = domain(stop=n)
    data = []
    for i, k in enumerate(keys):
        r = dict(rows[i % len(rows)])
        r["a"], r["b"] = tuple(int(x) for x in k[:3]), tuple(int(x) for x in k[3:])
        data.append(r)
    store = Store(":memory:")
    try:
        t = time.perf_counter()
        store.add_dynamics(data)
        write = time.perf_counter() - t
        t = time.perf_counter()
        cols = store.dynamics()
        read = time.perf_counter() - t
        return {"rows": n, "write_s": write, "read_s": read, "read_rows": len(cols["status"])}
    finally:
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--baseline-sample", type=int, default=None,
                    help="run the baseline on the first M rows of the sample only")
    ap.add_argument("--workers", type=int, default=1, help="processes for the baseline")
    ap.add_argument("--independent", action="store_true", help="unpaired sample")
    ap.add_argument("--domain-count", action="store_true")
    ap.add_argument("--store-rows", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    rows = sample_rows(args.sample, args.seed, args.independent)
    n = len(rows)
    dynamics_batch(rows[:4], depth=64)          # compile / load the numba pre-pass first
    t = time.process_time()
    wall = time.perf_counter()
    ours = dynamics_batch(rows, depth=DEPTH)
    ours_cpu = time.process_time() - t
    ours_wall = time.perf_counter() - wall

    nb = n if args.baseline_sample is None else min(args.baseline_sample, n)
    jobs = [(tuple(int(x) for x in r[:3]), tuple(int(x) for x in r[3:])) for r in rows[:nb]]
    wall = time.perf_counter()
    if args.workers > 1:
        with mp.get_context("fork").Pool(args.workers) as pool:
            base = pool.map(_baseline_job, jobs, chunksize=4)
    else:
        base = [_baseline_job(j) for j in jobs]
    base_wall = time.perf_counter() - wall
    base_cpu = sum(c for _, c in base)

    ours_rate = n / ours_cpu
    base_rate = nb / base_cpu
    both = dn_bad = dr_bad = lim_bad = 0
    worst_dn = worst_dr = 0.0
    status_table: dict[str, int] = {}
    for r, (b, _) in zip(ours[:nb], base, strict=True):
        key = f"{r['status']}/{b['status']}"
        status_table[key] = status_table.get(key, 0) + 1
        if r["status"] != "converges" or b["status"] != "converges":
            continue
        both += 1
        e1 = abs(r["delta_naive"] - b["delta_naive"])
        e2 = abs(r["delta"] - b["delta"])
        worst_dn, worst_dr = max(worst_dn, e1), max(worst_dr, e2)
        dn_bad += not e1 < 5e-4
        dr_bad += not e2 < 5e-4
        with mpmath.workdps(60):
            x, y = mpmath.mpf(r["limit"]), mpmath.mpf(b["limit"])
            sig = len(r["limit"].lstrip("-").replace(".", "").lstrip("0"))
            lim_bad += not abs(x - y) <= abs(y) * mpmath.mpf(10) ** (1 - sig)

    conv = sum(r["status"] == "converges" for r in ours)
    lo, hi = wilson(conv, n)
    hours_2 = TOTAL / (2 * ours_rate) / 3600
    report = {
        "sample": n, "paired": not args.independent, "seed": args.seed, "depth": DEPTH,
        "ours": {"cpu_s": ours_cpu, "wall_s": ours_wall, "pcf_per_s_per_core": ours_rate},
        "baseline": {"pcfs": nb, "cpu_s": base_cpu, "wall_s": base_wall,
                     "workers": args.workers, "pcf_per_s_per_core": base_rate},
        "speedup": ours_rate / base_rate,
        "agreement": {"both_converge": both, "delta_naive_mismatch": dn_bad,
                      "delta_mismatch": dr_bad, "max_abs_diff_delta_naive": worst_dn,
                      "max_abs_diff_delta": worst_dr, "limit_mismatch": lim_bad,
                      "status_ours_vs_baseline": status_table},
        "full_domain": {"pcfs": TOTAL, "hours_on_2_cores": hours_2,
                        "baseline_hours_on_2_cores": TOTAL / (2 * base_rate) / 3600},
        "convergence": {"sample_converging": conv,
                        "status_counts": {s: sum(r["status"] == s for r in ours)
                                          for s in ("converges", "diverges", "terminates",
                                                    "unknown")},
                        "extrapolated": round(conv / n * TOTAL),
                        "extrapolated_95": [round(lo * TOTAL), round(hi * TOTAL)],
                        "paper": PAPER_CONVERGING},
    }
    if args.domain_count:
        report["domain_count"] = domain_count()
    if args.store_rows:
        report["store"] = store_timing(ours, args.store_rows)
    if args.json:
        print(json.dumps(report, default=float))
        return
    print(f"sample: {n} PCFs ({'mirror pairs' if not args.independent else 'unpaired'}, "
          f"seed {args.seed}), depth {DEPTH}")
    print(f"kernel:   {ours_rate:9.1f} PCF/s per core  ({ours_cpu:.1f} s CPU)")
    print(f"baseline: {base_rate:9.2f} PCF/s per core  ({base_cpu:.1f} s CPU on {nb} PCFs, "
          f"{args.workers} worker(s))")
    print(f"speedup:  {ours_rate / base_rate:9.1f}x   (target >= 30x)")
    print(f"both converge: {both}; δ naive mismatches (3 decimals): {dn_bad} "
          f"(max |diff| {worst_dn:.1e}); δ mismatches: {dr_bad} (max |diff| {worst_dr:.1e}); "
          f"limit mismatches: {lim_bad}")
    print(f"status (kernel/baseline): {status_table}")
    print(f"full domain ({TOTAL} PCFs) on 2 cores: {hours_2:.2f} h (target <= 8 h); "
          f"baseline: {report['full_domain']['baseline_hours_on_2_cores']:.0f} h")
    c = report["convergence"]
    print(f"converging: {conv}/{n} -> ~{c['extrapolated']} of the domain "
          f"(95%: {c['extrapolated_95'][0]}-{c['extrapolated_95'][1]}); paper: {PAPER_CONVERGING}")
    if args.domain_count:
        d = report["domain_count"]
        print(f"whole domain: {d['counts']} ({d['exact_rows']} canonical rows decided by the "
              f"exact pass, {d['cpu_s']:.0f} s CPU)")
    if args.store_rows:
        s = report["store"]
        print(f"store: wrote {s['rows']} rows in {s['write_s']:.1f} s, read them back in "
              f"{s['read_s']:.1f} s")


if __name__ == "__main__":
    main()
