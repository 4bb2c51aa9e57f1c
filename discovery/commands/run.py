"""``discovery run campaign.toml``, and the campaign summary every search command prints.

Wired into the main CLI with ``app.command("run")(run_command)``. ``search <engine>``
commands run their engine through :func:`discovery.commands._search.search_session` and
print with :func:`print_result` (or a summary of their own).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from discovery.commands._common import emit_json, user_errors
from discovery.commands._search import conjectures_of
from discovery.progress import PROGRESS_MODES

if TYPE_CHECKING:  # imported by the functions that need them (a fast `discovery` start)
    from discovery.campaign import CampaignResult
    from discovery.store import Store

#: ``discovery.executors.EXECUTORS``, spelled out so that the option's help does not import
#: the executors (tests/test_startup.py checks that the two agree).
EXECUTOR_NAMES = ("serial", "local", "dask")

__all__ = ["run_command", "print_result", "main"]


def print_result(result: CampaignResult, *, json_: bool, store: Store | None = None,
                 top: int = 20) -> None:
    """Print what a campaign (or a single search) found: one JSON object, or tables.

    ``store`` is the open store the runs wrote to (default: open ``result.db`` read-only).
    """
    from discovery.commands._rich import Console, Table, box

    if store is None:
        from discovery.store import Store

        with user_errors(), Store(result.db, readonly=True) as opened:
            return print_result(result, json_=json_, store=opened, top=top)
    records = conjectures_of(store, [r.run_id for r in result.runs])
    counts: dict[str, int] = {}
    for r in records:
        counts[r.status] = counts.get(r.status, 0) + 1
    families = _families_of(store, records)
    known = sum(f.known for f in families)
    if json_:
        single = {"run": result.runs[0].run_id, "tasks_total": result.runs[0].tasks_total} \
            if len(result.runs) == 1 else {}
        emit_json({
            **result.to_dict(),
            **single,
            "found": {"total": len(records), "by_status": counts},
            "families": {"total": len(families), "known": known,
                         "new": len(families) - known,
                         "list": [f.to_dict() for f in families[:top]]},
            "conjectures": [
                {k: v for k, v in r.to_dict().items() if k != "evidence"} for r in records[:top]
            ],
        })
        return
    console = Console(markup=False)
    table = Table(title=f"campaign {result.name!r} [{result.status}] into {result.db}",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("engine", "constant", "status", "tasks", "total", "found", "new", "verif",
                "refut", "s"):
        table.add_column(col, justify="left" if col in ("engine", "constant", "status")
                         else "right", no_wrap=col != "constant",
                         min_width=8 if col == "constant" else None)
    constants = result.constants or (None,) * len(result.runs)
    for s, const in zip(result.runs, constants, strict=True):
        table.add_row(s.engine, const or "-", s.status, str(s.tasks), str(s.tasks_total),
                      str(s.candidates), str(s.new), str(s.verified), str(s.refuted),
                      f"{s.seconds:.0f}")
    console.print(table)
    console.print("tasks: finished in this session; total: over all sessions of the run; "
                  "found: candidates recorded (new: not in the store before), verif: verified "
                  "or proven, refut: refuted; s: seconds.")
    failed = sum(s.failed for s in result.runs)
    if failed:
        console.print(f"{failed} tasks failed; they run again when the run resumes.")
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "nothing yet"
    console.print(f"conjectures found by these runs: {len(records)} ({summary}), in "
                  f"{len(families)} families ({len(families) - known} new, {known} known)")
    if families:
        best = Table(title=f"{min(top, len(families))} of {len(families)} families "
                           f"(new first, then most digits; `discovery db list` for all)")
        for col in ("family", "", "members", "digits", "constant", "representative = claim"):
            best.add_column(col, overflow="fold")
        for f in families[:top]:
            best.add_row(f"F{f.id}", "known" if f.known else "new", str(f.members),
                         "-" if f.digits is None else str(f.digits), f.constant or "-",
                         f"{f.formula_text} = {f.claim}")
        console.print(best)
    if result.status in ("stopped", "budget"):
        console.print(f"{result.status}: run the same command again to resume.")
    return None


def _families_of(store: Store, records: list) -> list:
    """The families of ``records``: new ones first, then by the representative's digits."""
    ids = sorted({r.family for r in records if r.family is not None})
    fams = [store.family(i) for i in ids]
    return sorted(fams, key=lambda f: (f.known, -(f.digits or 0), f.id))


def _progress(quiet: bool, progress: str) -> str:
    if progress not in PROGRESS_MODES:
        raise ValueError(f"--progress must be one of {', '.join(PROGRESS_MODES)}")
    return "quiet" if quiet else progress


def run_command(
    campaign: Path = typer.Argument(..., help="campaign TOML file (see scripts/campaigns/)"),
    db: Path | None = typer.Option(None, "--db", help="store (default: the campaign's db)"),
    hours: float | None = typer.Option(None, "--hours", help="total time budget"),
    max_tasks: int | None = typer.Option(None, "--max-tasks", min=0, help="per engine"),
    executor: str | None = typer.Option(None, "--executor", help=" | ".join(EXECUTOR_NAMES)),
    workers: int | None = typer.Option(None, "--workers", min=1, max=1024,
                                       help="processes (local) or LocalCluster workers (dask)"),
    scheduler: str | None = typer.Option(None, "--scheduler", help="dask: tcp://host:8786"),
    no_verify: bool = typer.Option(False, "--no-verify", help="record candidates unverified"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress output"),
    progress: str = typer.Option("auto", "--progress", help=" | ".join(PROGRESS_MODES)),
    json_: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Run a campaign: its engines, configurations and budgets, into one store (resumable)."""
    # Nothing is written before everything is accepted: the campaign file (a regular file),
    # every engine's configuration, the executor, scheduler and workers, the store's path
    # and the store itself if it exists (discovery.campaign.run_campaign checks them in turn).
    from discovery.campaign import load_campaign, run_campaign

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
            progress=_progress(quiet or json_, progress),
            verify=False if no_verify else None,
        )
    print_result(result, json_=json_)


def main() -> None:
    """``python -m discovery.commands.run CAMPAIGN ...`` (the same as ``discovery run``)."""
    import sys

    sys.set_int_max_str_digits(0)
    from discovery.commands._common import OneLineErrorsCommand

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command(cls=OneLineErrorsCommand)(run_command)  # one-line / JSON errors, exit 2
    app(prog_name="discovery run")


if __name__ == "__main__":
    main()
