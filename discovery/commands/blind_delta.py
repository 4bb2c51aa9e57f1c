"""``discovery search blind-delta`` and ``discovery blind-delta clusters``.

Wired into the command line with ``search_app.command("blind-delta")(search_blind_delta_command)``
and ``app.add_typer(blind_delta_app, name="blind-delta")``.

``search blind-delta`` scans a whole PCF domain through the runner (engine ``blind-delta``,
:mod:`search.blind_delta`): the convergence dynamics of every PCF go to the store's dynamics
table, in chunks, resumably. ``blind-delta clusters`` clusters the converging rows in a plane of
two metrics (HDBSCAN), labels the clusters by the anchors from the literature they hold (or by
identifying their representatives), verifies and records the members of the labelled clusters
as conjectures, and reports the unlabelled clusters as open questions
(:mod:`discovery.blind_delta`). ``--png`` draws the plane (:mod:`discovery.plots_blind_delta`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import typer

from discovery.commands._common import emit_json, user_errors
from discovery.commands._rich import Console, Table
from discovery.commands._search import OPTIONS, SearchOptions, search_options, search_session

__all__ = ["blind_delta_app", "search_blind_delta_command", "clusters_command",
           "clusters_result"]

blind_delta_app = typer.Typer(
    help="Blind-δ: cluster a scanned PCF domain by convergence dynamics and label it.",
    no_args_is_help=True,
)

_STATUSES = ("converges", "diverges", "terminates", "unknown")


def _count_rows(db: Path, no_store: bool) -> int:
    """Dynamics rows already in the store (0 for a new or throw-away store)."""
    if no_store or not Path(db).exists():
        return 0
    from discovery.store import Store
    from solvers.errors import StoreError

    try:
        store = Store(db, readonly=True)
    except StoreError:
        return 0
    try:
        return store.count_dynamics()
    except StoreError:  # an older schema without the dynamics table
        return 0
    finally:
        store.close()


@search_options("progress")
def search_blind_delta_command(
    a_degree: int = typer.Option(2, "--a-degree", min=0, max=4, help="degree bound of a(n)"),
    b_degree: int = typer.Option(2, "--b-degree", min=0, max=4, help="degree bound of b(n)"),
    coeff: int = typer.Option(5, "--coeff", min=1, max=50, help="coefficients in [-c, c]"),
    depth: int = typer.Option(2000, "--depth", min=64, max=100_000, help="depth N"),
    chunk: int = typer.Option(4000, "--chunk", min=1, max=1_000_000, help="PCFs per task"),
    *,
    opts: SearchOptions,
) -> None:
    """Compute the convergence dynamics of every PCF of a domain (Blind-δ) into the store."""
    from search.blind_delta import validated

    with user_errors():
        config = validated({"a_degree": a_degree, "b_degree": b_degree, "coeff": coeff,
                            "depth": depth, "chunk": chunk})
    db, no_store = opts.db, opts.no_store
    before = _count_rows(db, no_store)
    t0 = time.perf_counter()
    with search_session("blind-delta", config, opts) as (result, store):
        summary = result.runs[0]
        state = store.run(summary.run_id).state or {}
        counts = {s: store.count_dynamics(s) for s in _STATUSES}
        total = store.count_dynamics()
    seconds = max(time.perf_counter() - t0, 1e-9)
    computed = max(total - before, 0)
    out: dict[str, Any] = {
        **result.to_dict(),
        "run": summary.run_id,
        "tasks_total": summary.tasks_total,
        "config": config,
        "domain": state.get("size"),
        "complete": summary.status == "finished",
        "rows": total,
        "counts": counts,
        "computed": computed,
        "failed": summary.failed,
        "pcfs_per_second": round(computed / seconds, 2),
        "stored": None if no_store else str(db),
        "next": None if no_store else f"discovery blind-delta clusters --db {db}",
    }
    if opts.json:
        emit_json(out)
        return
    console = Console(markup=False)
    table = Table(title=(f"Blind-δ scan: deg a <= {a_degree}, deg b <= {b_degree}, "
                         f"coefficients in [-{coeff}, {coeff}], depth {depth} "
                         f"(run #{out['run']} [{out['status']}])"))
    table.add_column("status")
    table.add_column("PCFs", justify="right")
    for s in _STATUSES:
        table.add_row(s, str(counts[s]))
    table.add_row("total", f"{total} of {out['domain']}" if out["domain"] else str(total))
    console.print(table)
    console.print(f"{computed} PCFs computed in {seconds:.1f} s "
                  f"({out['pcfs_per_second']:.1f} PCFs/s); running the same command again "
                  "resumes the scan.")
    if summary.failed:
        console.print(f"warning: {summary.failed} task(s) failed (the progress log says why): "
                      "their PCFs have no rows yet; running the command again retries them.")
    if no_store:
        console.print("dry run (--no-store): nothing was recorded.")
    else:
        console.print(f"next: discovery blind-delta clusters --db {db} --png clusters.png")


def clusters_result(
    store: Any,
    plane: str,
    *,
    label: bool = True,
    max_members: int = 200,
    digits: int = 100,
    min_cluster_size: int | None = None,
    min_samples: int | None = None,
    identify_open: int | None = None,
    workers: int = 1,
    png: Path | None = None,
    progress: Any = None,
) -> dict:
    """Load, cluster, label (recording verified members), plot: the command's JSON object.

    Examples
    --------
    >>> from discovery.store import Store
    >>> store = Store(":memory:")
    >>> out = clusters_result(store, "delta,c", label=False)
    >>> out["rows"], out["clusters"], out["stored"]
    (0, [], 0)
    >>> store.close()
    """
    import numpy as np

    from discovery.blind_delta import (
        DEFAULT_MIN_CLUSTER_SIZE,
        anchor_rows,
        cluster,
        load,
        parse_plane,
        seed_anchor_clusters,
    )
    from discovery.blind_delta_labels import ClusterReport, label_clusters, summary

    plane_t = parse_plane(plane)
    if progress is not None:
        progress("loading the dynamics table")
    table = load(store)
    if progress is not None:
        progress(f"clustering {len(table['a'])} PCFs (HDBSCAN)")
    labels = cluster(table, plane_t, min_cluster_size=min_cluster_size,
                     min_samples=min_samples)
    found = int(labels.max()) + 1 if len(labels) else 0  # HDBSCAN's clusters: 0 .. found-1
    labels = seed_anchor_clusters(table, labels, plane_t,
                                  k=min_cluster_size or DEFAULT_MIN_CLUSTER_SIZE)
    if label:
        reports = label_clusters(store, table, labels, plane=plane_t, max_members=max_members,
                                 digits=digits, identify_open=identify_open, workers=workers,
                                 progress=progress)
    else:  # sizes and anchors only
        at = anchor_rows(table)
        reports = []
        for cid in sorted(int(v) for v in np.unique(labels) if v >= 0):
            rep = ClusterReport(id=cid, size=int(np.sum(labels == cid)))
            inside = [x for i, x in at.items() if labels[i] == cid]
            rep.anchors = [{"name": x.name, "pcf": repr(x.pcf), "claim": x.claim,
                            "constant": x.constant, "key": x.key} for x in inside]
            constants = tuple(dict.fromkeys(x.constant for x in inside))
            rep.constants = constants
            rep.label = ", ".join(constants) if constants else None
            rep.labelled_by = "anchor" if constants else None
            rep.skipped = "--no-label"
            reports.append(rep)
    out = summary(reports, labels, plane_t, table)
    for c in out["clusters"]:  # clusters an anchor in HDBSCAN's noise seeded
        c["seeded"] = c["id"] >= found
    out["png"] = None
    if png is not None:
        from discovery.plots_blind_delta import plot_clusters

        if progress is not None:
            progress("drawing the plane")
        out["png"] = plot_clusters(table, labels, {r.id: r.label for r in reports}, plane_t,
                                   png)
    return out


@blind_delta_app.command("clusters")
def clusters_command(
    plane: str = typer.Option("delta,c", "--plane",
                              help='two metrics: "delta,c", "delta,eta", "c,d", "beta,gamma"'),
    png: Path | None = typer.Option(None, "--png", help="draw the plane into this PNG"),
    label: bool = typer.Option(True, "--label/--no-label",
                               help="label the clusters and record their verified members"),
    max_members: int = typer.Option(200, "--max-members", min=0, max=1_000_000,
                                    help="members checked per labelled cluster"),
    digits: int = typer.Option(100, "--digits", min=50, max=100_000,
                               help="digits every recorded formula is verified to"),
    min_cluster_size: int | None = typer.Option(None, "--min-cluster-size", min=2,
                                                help="HDBSCAN (default: from the table size)"),
    min_samples: int | None = typer.Option(None, "--min-samples", min=1,
                                           help="HDBSCAN density parameter"),
    identify_open: int | None = typer.Option(
        None, "--identify-open", min=0,
        help="identify the representatives of at most this many unanchored clusters"),
    workers: int | None = typer.Option(None, "--workers", min=1, max=1024,
                                       help="processes identifying representatives "
                                            "(default: the CPU count)"),
    db: Path = OPTIONS["db"],
    json_: bool = OPTIONS["json"],
) -> None:
    """Cluster the scanned PCFs by dynamics, label the clusters, record verified members."""
    from discovery.progress import command_progress
    from discovery.store import Store

    with user_errors():
        from discovery.blind_delta import parse_plane

        parse_plane(plane)
        if not Path(db).exists():
            raise FileNotFoundError(f"no store at {db}: run `discovery search blind-delta` "
                                    "first")
        store = Store(db, readonly=not label)
        try:
            with command_progress("blind-delta clusters", enabled=not json_) as progress:
                out = clusters_result(store, plane, label=label, max_members=max_members,
                                      digits=digits, min_cluster_size=min_cluster_size,
                                      min_samples=min_samples, identify_open=identify_open,
                                      workers=workers or os.cpu_count() or 1, png=png,
                                      progress=progress)
        finally:
            store.close()
    out["db"] = str(db)
    if json_:
        emit_json(out)
        return
    _print(out)


def _print(out: dict, limit: int = 60) -> None:
    console = Console(markup=False)
    table = Table(title=(f"Blind-δ clusters in the ({', '.join(out['plane'])}) plane: "
                         f"{out['rows']} converging PCFs, {len(out['clusters'])} clusters "
                         f"({out['labelled']} labelled, {out['open']} open), "
                         f"{out['noise']} noise, {out['undefined']} undefined"))
    for col in ("#", "size", "label", "by", "anchors", "checked", "verified", "stored",
                "representative"):
        table.add_column(col, overflow="fold")
    for c in out["clusters"][:limit]:
        reps = c["representatives"][:1]
        rep_text = (f"{reps[0]['pcf']} = {reps[0]['value']}" if reps else "-")
        table.add_row(str(c["id"]), str(c["size"]), c["label"] or "OPEN",
                      c["labelled_by"] or "-",
                      ", ".join(a["name"] for a in c["anchors"]) or "-",
                      str(c["checked"]), str(c["verified"]), str(c["stored"]), rep_text)
    console.print(table)
    if len(out["clusters"]) > limit:
        console.print(f"showing {limit} of {len(out['clusters'])} clusters; --json has all.")
    opens = [c for c in out["clusters"] if c["open"]]
    if opens:
        console.print(f"{len(opens)} open question(s) (no anchor, nothing identified; not "
                      "stored):")
        for c in opens[:10]:
            for r in c["representatives"]:
                console.print(f"  #{c['id']} ({c['size']} PCFs): {r['pcf']} = {r['value']}")
    console.print(f"{out['verified']} formulas verified to the requested digits, "
                  f"{out['stored']} in {out['db']}.")
    if out.get("png"):
        console.print(f"plane drawn in {out['png']}")
