"""``discovery run campaign.toml``, and the helper the ``search`` sub-commands use.

Wired into the main CLI with ``app.command("run")(run_command)``. A ``search <engine>``
command parses its own options into a configuration dict and calls
:func:`run_engine_command` with the shared runner options (``--db``, ``--executor``,
``--hours``, ...), which runs, records and prints the summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from discovery.campaign import Campaign, CampaignResult, EngineSpec, load_campaign, run_campaign
from discovery.commands._common import emit_json, user_errors
from discovery.executors import EXECUTORS
from discovery.progress import PROGRESS_MODES
from discovery.store import Store

__all__ = ["run_command", "run_engine_command", "print_result", "found_by", "main"]


def found_by(store: Store, run_ids, limit: int | None = None) -> list:
    """Conjectures found by the given runs, best first (verified/proven, most digits)."""
    keys = []
    for run_id in run_ids:
        keys += [r.src for r in store.relations(type="found-by", dst=f"run:{run_id}")]
    order = {"proven": 0, "verified": 1, "inconclusive": 2, "proposed": 3, "refuted": 4}
    records = [store.get(k) for k in dict.fromkeys(keys)]
    records.sort(key=lambda r: (order.get(r.status, 5), -(r.digits or 0), r.id))
    return records[:limit] if limit is not None else records


def print_result(result: CampaignResult, *, json_: bool, top: int = 20) -> None:
    """Print what a campaign (or a single search) found: JSON object or tables."""
    with user_errors(), Store(result.db, readonly=True) as store:
        records = found_by(store, [r.run_id for r in result.runs])
    counts: dict[str, int] = {}
    for r in records:
        counts[r.status] = counts.get(r.status, 0) + 1
    if json_:
        emit_json({
            **result.to_dict(),
            "found": {"total": len(records), "by_status": counts},
            "conjectures": [
                {k: v for k, v in r.to_dict().items() if k != "evidence"} for r in records[:top]
            ],
        })
        return
    console = Console(markup=False)
    table = Table(title=f"campaign {result.name!r} [{result.status}] into {result.db}")
    for col in ("engine", "status", "tasks", "already done", "failed", "candidates", "new",
                "verified", "refuted", "seconds"):
        table.add_column(col, justify="right" if col not in ("engine", "status") else "left")
    for s in result.runs:
        table.add_row(s.engine, s.status, str(s.tasks), str(s.skipped), str(s.failed),
                      str(s.candidates), str(s.new), str(s.verified), str(s.refuted),
                      f"{s.seconds:.1f}")
    console.print(table)
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "nothing yet"
    console.print(f"conjectures found by these runs: {len(records)} ({summary})")
    if records:
        best = Table(title=f"best {min(top, len(records))} conjectures")
        for col in ("id", "status", "digits", "constant", "claim", "formula"):
            best.add_column(col, overflow="fold")
        for r in records[:top]:
            best.add_row(str(r.id), r.status, "-" if r.digits is None else str(r.digits),
                         r.constant or "-", r.claim, r.formula_text)
        console.print(best)
    if result.status == "stopped":
        console.print("stopped: run the same command again to resume.")


def _progress(quiet: bool, progress: str) -> str:
    if progress not in PROGRESS_MODES:
        raise ValueError(f"--progress must be one of {', '.join(PROGRESS_MODES)}")
    return "quiet" if quiet else progress


def run_command(
    campaign: Path = typer.Argument(..., help="campaign TOML file (see scripts/campaigns/)"),
    db: Path | None = typer.Option(None, "--db", help="store (default: the campaign's db)"),
    hours: float | None = typer.Option(None, "--hours", help="total time budget"),
    max_tasks: int | None = typer.Option(None, "--max-tasks", min=0, help="per engine"),
    executor: str | None = typer.Option(None, "--executor", help=" | ".join(EXECUTORS)),
    workers: int | None = typer.Option(None, "--workers", min=1),
    scheduler: str | None = typer.Option(None, "--scheduler", help="dask: tcp://host:8786"),
    no_verify: bool = typer.Option(False, "--no-verify", help="record candidates unverified"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress output"),
    progress: str = typer.Option("auto", "--progress", help=" | ".join(PROGRESS_MODES)),
    json_: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Run a campaign: its engines, configurations and budgets, into one store (resumable)."""
    with user_errors():
        spec = load_campaign(campaign)
        result = run_campaign(
            spec,
            db=db,
            executor=executor,
            workers=workers,
            scheduler=scheduler,
            hours=hours,
            max_tasks=max_tasks,
            progress=_progress(quiet, progress),
            verify=False if no_verify else None,
        )
    print_result(result, json_=json_)


def run_engine_command(
    engine: str,
    config: dict[str, Any],
    *,
    db: Path = Path("conjectures.db"),
    run_name: str | None = None,
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    hours: float | None = None,
    max_tasks: int | None = None,
    verify: bool = True,
    verify_digits: int = 100,
    quiet: bool = False,
    progress: str = "auto",
    json_: bool = False,
) -> CampaignResult:
    """Run ONE engine into a store and print the summary (for ``discovery search <engine>``).

    The run is named ``run_name`` (default ``"search"``): running the same search again
    resumes it. Errors exit with status 2 and a one-line message.
    """
    with user_errors():
        campaign = Campaign(
            name=run_name or "search",
            engines=(EngineSpec(engine, dict(config)),),
            db=str(db),
            executor=executor,
            workers=workers,
            scheduler=scheduler,
            verify=verify,
            verify_digits=verify_digits,
        )
        result = run_campaign(
            campaign, hours=hours, max_tasks=max_tasks, progress=_progress(quiet, progress)
        )
    print_result(result, json_=json_)
    return result


def main() -> None:
    """``python -m discovery.commands.run CAMPAIGN ...`` (the same as ``discovery run``)."""
    import sys

    sys.set_int_max_str_digits(0)
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(run_command)
    app(prog_name="discovery run")


if __name__ == "__main__":
    main()
