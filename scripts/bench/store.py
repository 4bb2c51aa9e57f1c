"""Benchmark of the conjecture store and its graph view.

Inserts N conjectures (default 100,000) with relations in batched transactions, queries the
formulas of one constant, builds the networkx graph view of the whole store, and compares
with a naive baseline (one transaction per insert) on a subset.

    .venv/bin/python scripts/bench/store.py            # a table
    .venv/bin/python scripts/bench/store.py --json     # one JSON object
    .venv/bin/python scripts/bench/store.py -n 20000   # smaller
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from discovery import graph as g  # noqa: E402
from discovery.store import Store  # noqa: E402
from search.base import Candidate  # noqa: E402
from solvers.keys import canonical_key  # noqa: E402

CONSTANTS = ["zeta3", "zeta2", "e", "pi", "catalan", "log2", "gauss", "phi", "sqrt2", "euler_gamma"]


def candidates(n: int, seed: int = 0):
    """n distinct synthetic PCF candidates; about half relate to an earlier one."""
    rng = random.Random(seed)
    keys = []
    for i in range(n):
        formula = {"a": [i, rng.randint(-99, 99), rng.randint(1, 99)],
                   "b": [0, rng.randint(-99, 99), 0, rng.randint(-9, 9)]}
        key = canonical_key("pcf", formula)
        rels = ()
        if keys and rng.random() < 0.5:
            rels = (("equivalent-to", keys[rng.randrange(len(keys))]),)
        keys.append(key)
        const = CONSTANTS[i % len(CONSTANTS)]
        yield Candidate("pcf", key, formula, f"{rng.randint(1, 9)}/{const}", const,
                        {"i": i}, rels)


def evidence(i: int) -> dict:
    return {"verdict": "verified" if i % 7 else "refuted", "digits": 50 + i % 200,
            "depth": 100, "seconds": 0.01}


def bench(n: int, baseline_n: int, batch: int, workdir: Path) -> dict:
    path = workdir / "bench.db"
    with Store(path) as store:
        run = store.start_run("bench", "synthetic", {"n": n})
        t0 = time.perf_counter()
        pending = []
        for i, c in enumerate(candidates(n)):
            pending.append((i, c))
            if len(pending) == batch:
                with store.transaction():
                    for j, cand in pending:
                        store.record(cand, evidence(j), run_id=run)
                pending = []
        with store.transaction():
            for j, cand in pending:
                store.record(cand, evidence(j), run_id=run)
        insert_s = time.perf_counter() - t0
        n_rel = store.stats()["relations"]

        lat = []
        for _ in range(5):
            t = time.perf_counter()
            rows = store.query(constant="zeta3")
            lat.append(time.perf_counter() - t)
        lat_top = []
        for _ in range(20):
            t = time.perf_counter()
            store.query(constant="zeta3", status="verified", min_digits=200, limit=100)
            lat_top.append(time.perf_counter() - t)

        t = time.perf_counter()
        G = store.graph()
        graph_s = time.perf_counter() - t
        t = time.perf_counter()
        via_graph = g.formulas_for(G, "zeta3")
        graph_query_s = time.perf_counter() - t
        t = time.perf_counter()
        fams = g.families(G)
        families_s = time.perf_counter() - t

    naive_path = workdir / "naive.db"
    with Store(naive_path) as naive:
        run = naive.start_run("bench", "synthetic", {"n": baseline_n})
        t = time.perf_counter()
        for i, c in enumerate(candidates(baseline_n, seed=1)):
            naive.record(c, evidence(i), run_id=run)  # its own transaction each time
        naive_s = time.perf_counter() - t

    batched_rate = n / insert_s
    naive_rate = baseline_n / naive_s
    return {
        "conjectures": n,
        "relations": n_rel,
        "batch": batch,
        "insert_seconds": round(insert_s, 3),
        "inserts_per_second": round(batched_rate),
        "naive_inserts_per_second": round(naive_rate),
        "naive_subset": baseline_n,
        "batched_over_naive": round(batched_rate / naive_rate, 2),
        "query_constant_rows": len(rows),
        "query_constant_ms_median": round(1000 * statistics.median(lat), 2),
        "query_top100_ms_median": round(1000 * statistics.median(lat_top), 3),
        "graph_nodes": G.number_of_nodes(),
        "graph_edges": G.number_of_edges(),
        "graph_build_seconds": round(graph_s, 3),
        "graph_formulas_for_ms": round(1000 * graph_query_s, 2),
        "graph_formulas_for_rows": len(via_graph),
        "graph_families_seconds": round(families_s, 3),
        "graph_families": len(fams),
        "db_megabytes": round(path.stat().st_size / 2**20, 1),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=100_000, help="conjectures to insert")
    ap.add_argument("--baseline", type=int, default=5_000, help="naive subset size")
    ap.add_argument("--batch", type=int, default=5_000, help="inserts per transaction")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="store-bench-") as tmp:
        result = bench(args.n, min(args.baseline, args.n), args.batch, Path(tmp))
    if args.json:
        print(json.dumps(result))
        return 0
    width = max(map(len, result))
    print(f"{'measure':<{width}}  value")
    for k, v in result.items():
        print(f"{k:<{width}}  {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
