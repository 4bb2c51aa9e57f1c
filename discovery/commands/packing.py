"""``discovery packing ...``: sphere-packing upper bounds (LP table, three-point SDP).

Certificates are versioned JSON (every rational as ``"p/q"`` text) under ``data/packing/``:
``lp/n01.json`` ... ``lp/n32.json`` and ``lp_table.json``. This module is the only place that
reads or writes them.

Examples
--------
>>> parse_dimensions("1..4,8,24")
[1, 2, 3, 4, 8, 24]
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from discovery.commands._common import emit_json, fail, user_errors
from solvers.errors import DiscoveryError

__all__ = [
    "packing_app",
    "DATA_DIR",
    "parse_dimensions",
    "load_certificate",
    "load_lp_certificates",
    "write_lp_certificate",
    "reverify_lp_certificates",
    "reference_data",
    "run_sdp_game",
    "sdp_game_command",
]

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "data" / "packing"
REFERENCE = ROOT / "data" / "reference" / "packing_reference.json"

packing_app = typer.Typer(help="Sphere-packing upper bounds (LP, three-point SDP).",
                          no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print one JSON object on stdout.")


def parse_dimensions(text: str) -> list[int]:
    """``"1..32"``, ``"3,4,8"`` or mixtures such as ``"1..4,8"`` (1 <= n <= 64)."""
    out: list[int] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        lo, sep, hi = part.partition("..")
        try:
            a = int(lo)
            b = int(hi) if sep else a
        except ValueError:
            raise DiscoveryError(
                f"bad dimension range {part!r} (use e.g. 1..32 or 3,4,8)"
            ) from None
        if not 1 <= a <= b <= 64:
            raise DiscoveryError(f"dimensions must satisfy 1 <= a <= b <= 64, not {part!r}")
        out += [n for n in range(a, b + 1) if n not in out]
    if not out:
        raise DiscoveryError("no dimension given")
    return out


def reference_data() -> dict:
    """The shipped reference values (best known densities, LP and three-point bounds)."""
    return json.loads(REFERENCE.read_text())


def load_certificate(path: str | Path):
    """Read an LP certificate (JSON) from ``path``."""
    from solvers.packing.certificate import LPCertificate

    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DiscoveryError(f"{path} is not valid JSON: {exc}") from None
    return LPCertificate.from_dict(data)


def _cert_path(directory: Path, n: int) -> Path:
    return Path(directory) / "lp" / f"n{n:02d}.json"


def load_lp_certificates(directory: str | Path = DATA_DIR) -> dict:
    """All stored LP certificates, by dimension."""
    out = {}
    for path in sorted((Path(directory) / "lp").glob("n*.json")):
        cert = load_certificate(path)
        out[cert.dimension] = cert
    return out


def write_lp_certificate(cert, directory: str | Path = DATA_DIR) -> Path:
    """Write ``cert`` to ``directory/lp/nXX.json`` (stable formatting, one coefficient a line)."""
    path = _cert_path(Path(directory), cert.dimension)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(cert.to_dict(), indent=1) + "\n")
    return path


def reverify_lp_certificates(directory: str | Path = DATA_DIR, dimensions=None) -> list[dict]:
    """Verify the stored certificates exactly; one row per dimension."""
    from solvers.packing.certificate import verify_lp_certificate

    rows = []
    for n, cert in sorted(load_lp_certificates(directory).items()):
        if dimensions is not None and n not in dimensions:
            continue
        v = verify_lp_certificate(cert)
        rows.append(_row(n, v, cert.degree, cert.key, v.seconds, str(cert.meta.get("method", ""))))
    return rows


def _row(n: int, v, degree: int, key: str, seconds: float, method: str) -> dict:
    ref = reference_data()
    best = ref["best_known_density_lower_bounds"].get(str(n))
    lp_ref = ref["linear_programming_bound_density"].get(str(n))
    if lp_ref is None and n in (8, 24):
        lp_ref = best  # Viazovska; Cohn-Kumar-Miller-Radchenko-Viazovska
    bound = float(v.bound) if v.bound else None
    return {
        "dimension": n,
        "bound": v.bound,
        "verified": v.verified,
        "method": method,
        "degree": degree,
        "best_known": best,
        "lp_optimum": lp_ref,
        "relative_to_lp_optimum": (bound / lp_ref - 1) if bound and lp_ref else None,
        "at_least_best_known": (bound >= best) if bound and best else None,
        "seconds": round(seconds, 3),
        "key": key,
        "failures": list(v.failures),
    }


@packing_app.command("lp")
def lp_command(
    dimension: int = typer.Option(..., "--dimension", "-n", min=1, max=64),
    terms: int | None = typer.Option(None, "--terms", help="Laguerre terms (degree + 1)"),
    method: str = typer.Option("auto", "--method", help="auto | root-forcing | sampled"),
    write: Path | None = typer.Option(None, "--write", help="store the certificate under DIR/lp/"),
    json_: bool = JSON,
) -> None:
    """Compute the Cohn–Elkies LP bound in one dimension and verify its certificate exactly."""
    from solvers.packing.lp import degree_for_terms, lp_bound

    with user_errors():
        degree = degree_for_terms(terms) if terms is not None else None
        res = lp_bound(dimension, degree, method=method)
        path = write_lp_certificate(res.certificate, write) if write is not None else None
    out = res.to_dict()
    if path is not None:
        out["certificate"] = str(path)
    if json_:
        emit_json(out)
    else:
        c = Console()
        status = "[green]verified exactly[/]" if res.verified.verified else "[red]NOT verified[/]"
        c.print(f"Δ_{dimension} ≤ {res.verified.bound or res.verified.upper}  ({status})")
        c.print(f"  degree {res.certificate.degree}, r = {res.certificate.radius:.10f}, "
                f"numeric {res.numeric_bound:.12g}, {res.seconds:.1f} s "
                f"(verification {res.verified.seconds:.2f} s), method {out['method']}")
        for f in res.verified.failures:
            c.print(f"  failed: {f}")
        if path is not None:
            c.print(f"  certificate: {path}")
    if not res.verified.verified:
        raise typer.Exit(1)


@packing_app.command("table")
def table_command(
    dimensions: str = typer.Option("1..32", "--dimensions"),
    stored: bool = typer.Option(False, "--stored", help="re-verify stored certificates instead"),
    directory: Path = typer.Option(DATA_DIR, "--dir", help="certificate directory"),
    write: bool = typer.Option(False, "--write", help="store new certificates in --dir"),
    plot: Path | None = typer.Option(None, "--plot", help="write bound-vs-dimension PNG"),
    json_: bool = JSON,
) -> None:
    """The LP bound for a range of dimensions (computed, or re-verified with --stored)."""
    from solvers.packing.lp import lp_bound

    with user_errors():
        dims = parse_dimensions(dimensions)
        t0 = time.perf_counter()
        if stored:
            rows = reverify_lp_certificates(directory, set(dims))
        else:
            rows = []
            for n in dims:
                res = lp_bound(n)
                if write:
                    write_lp_certificate(res.certificate, directory)
                rows.append(_row(n, res.verified, res.certificate.degree, res.certificate.key,
                                 res.seconds, res.method))
                if not json_:
                    Console(stderr=True).print(f"n={n}: {rows[-1]['bound']} ({res.seconds:.1f} s)")
        total = time.perf_counter() - t0
        if write and not stored:
            summary = {"format": "lp-table", "version": 1, "rows": rows,
                       "seconds": round(total, 1)}
            Path(directory).mkdir(parents=True, exist_ok=True)
            (Path(directory) / "lp_table.json").write_text(json.dumps(summary, indent=1) + "\n")
        if plot is not None:
            from discovery.plots_packing import plot_bounds

            ref = reference_data()
            plot_bounds(rows, ref["best_known_density_lower_bounds"], plot,
                        three_point=ref.get("three_point_bound_density_Cohn_deLaat_Salmon_2022"))
    if json_:
        ok = all(r["verified"] for r in rows)
        emit_json({"rows": rows, "seconds": total, "all_verified": ok})
        return
    t = Table(title=f"Cohn–Elkies LP bounds ({'stored, re-verified' if stored else 'computed'})")
    for col in ("n", "bound (rigorous)", "verified", "best known", "vs LP optimum", "degree", "s"):
        t.add_column(col)
    for r in rows:
        rel = r["relative_to_lp_optimum"]
        t.add_row(str(r["dimension"]), r["bound"] or "-", "yes" if r["verified"] else "NO",
                  f"{r['best_known']:.10g}" if r["best_known"] else "",
                  f"{rel:+.2e}" if rel is not None else "", str(r["degree"]), f"{r['seconds']:.1f}")
    Console().print(t)
    Console().print(f"total {total:.1f} s" + (f"; plot: {plot}" if plot else ""))
    if not all(r["verified"] for r in rows):
        raise typer.Exit(1)


@packing_app.command("check")
def check_command(
    paths: list[Path] = typer.Argument(..., help="certificate JSON files"),
    json_: bool = JSON,
) -> None:
    """Verify LP certificate files exactly."""
    from solvers.packing.certificate import verify_lp_certificate

    with user_errors():
        results = []
        for p in paths:
            cert = load_certificate(p)
            v = verify_lp_certificate(cert)
            results.append({"path": str(p), **v.to_dict(), "degree": cert.degree})
    if json_:
        emit_json({"results": results})
    else:
        for r in results:
            mark = "verified" if r["verified"] else "NOT verified: " + "; ".join(r["failures"])
            shown = r["bound"] or r["upper"]
            Console().print(f"{r['path']}: Δ_{r['dimension']} ≤ {shown} ({mark})")
    if not all(r["verified"] for r in results):
        raise typer.Exit(1)


@packing_app.command("three-point")
def three_point_command(
    dimension: int = typer.Option(4, "--dimension", "-n", min=2, max=32),
    degree: int = typer.Option(4, "--degree", help="degree d3 of the three-point polynomial"),
    degree2: int = typer.Option(31, "--degree2", help="degree of the two-point polynomial"),
    r: float | None = typer.Option(None, "--r", help="minimal distance r (default: LP's)"),
    R: float | None = typer.Option(None, "--R", help="truncation radius R"),
    solver: str = typer.Option("CLARABEL", "--solver"),
    json_: bool = JSON,
) -> None:
    """Three-point SDP bound (Cohn–de Laat–Salmon) at reduced degree, verified rigorously."""
    try:
        from solvers.packing.three_point import three_point_bound
    except ImportError as exc:  # pragma: no cover - optional dependency
        fail(f"the three-point bound needs cvxpy: {exc}")
    with user_errors():
        res = three_point_bound(dimension, d3=degree, d2=degree2, r=r, R=R, solver=solver)
    out = res.to_dict()
    if json_:
        emit_json(out)
    else:
        Console().print(out)
    if not out.get("verified"):
        raise typer.Exit(1)


@packing_app.command("plot")
def plot_command(
    output: Path = typer.Option(Path("packing_bounds.png"), "--output", "-o"),
    directory: Path = typer.Option(DATA_DIR, "--dir"),
) -> None:
    """Plot the stored (re-verified) LP bounds against the best known packings."""
    from discovery.plots_packing import plot_bounds

    with user_errors():
        rows = reverify_lp_certificates(directory)
        if not rows:
            fail(f"no certificates under {directory}/lp")
        ref = reference_data()
        plot_bounds(rows, ref["best_known_density_lower_bounds"], output,
                    three_point=ref.get("three_point_bound_density_Cohn_deLaat_Salmon_2022"))
    Console().print(f"plot: {output}")


def run_sdp_game(config: dict, progress=None) -> dict:
    """Drive the ``sdp_game`` engine serially (no store) and summarise its log.

    Returns a dict with the history (bound per evaluation), the default formulation's bound,
    the best verified formulation and whether it is strictly better than the default.
    """
    import search.sdp_game  # noqa: F401  (registers the engine even if search/ does not)
    from search.base import execute, make_engine

    engine = make_engine("sdp_game", config)
    while not engine.done():
        tasks = engine.ask(1)
        if not tasks:
            break
        for task in tasks:
            cands = execute(task)
            engine.tell(task, cands)
            if progress is not None:
                progress(engine.history[-1])
    hist = engine.history
    default = hist[0]["bound"] if hist else None
    verified = [h for h in hist if h["verified"] and h["bound"] is not None]
    best = min(verified, key=lambda h: h["bound"]) if verified else None
    return {
        "config": engine.config,
        "evaluations": len(hist),
        "default_bound": default,
        "default_verified": bool(hist and hist[0]["verified"]),
        "best": None if best is None else {**best, "mults": [list(m) for m in best["mults"]]},
        "improved": bool(best and default is not None and best["bound"] < default),
        "history": [{**h, "mults": [list(m) for m in h["mults"]]} for h in hist],
    }


def sdp_game_command(
    dimension: int = typer.Option(4, "--dimension", min=2),
    evaluations: int = typer.Option(100, "--evaluations", min=1),
    seed: int = typer.Option(0, "--seed"),
    d3: int = typer.Option(4, "--d3", help="degree of the three-point part"),
    d2: int = typer.Option(23, "--d2", help="degree of the two-point part (odd)"),
    plot: Path | None = typer.Option(None, "--plot", help="bound vs evaluation (PNG)"),
    json_: bool = JSON,
    evaluator: str = typer.Option("sdp", "--evaluator", help="sdp | synthetic (testing)"),
) -> dict:
    """Search SDP formulations of the three-point bound (Bayesian optimisation + MCTS)."""
    with user_errors():
        out = run_sdp_game(
            {"dimension": dimension, "evaluations": evaluations, "seed": seed, "d3": d3,
             "d2": d2, "evaluator": evaluator},
            progress=None if json_ else (lambda h: Console(stderr=True).print(
                f"#{h['evaluation']} {h['kind']}: {h['bound']} "
                f"({'verified' if h['verified'] else 'unverified'})")),
        )
        if plot is not None:
            from discovery.plots_packing import plot_sdp_game

            plot_sdp_game(out["history"], plot, default_bound=out["default_bound"])
            out["plot"] = str(plot)
    if json_:
        emit_json(out)
    else:
        Console().print(
            f"default formulation: {out['default_bound']}; best verified: "
            f"{out['best']['bound'] if out['best'] else None}; improved: {out['improved']}"
        )
    return out


@packing_app.command("sdp-game")
def sdp_game_cli(
    dimension: int = typer.Option(4, "--dimension", "-n", min=2, max=32),
    evaluations: int = typer.Option(100, "--evaluations", min=1, max=10_000),
    seed: int = typer.Option(0, "--seed"),
    d3: int = typer.Option(4, "--degree"),
    d2: int = typer.Option(23, "--degree2"),
    plot: Path | None = typer.Option(None, "--plot"),
    json_: bool = JSON,
) -> None:
    """Search SDP formulations (BO over (r, R), MCTS over multipliers); same as
    ``discovery search sdp-game``."""
    sdp_game_command(dimension, evaluations, seed, d3, d2, plot, json_)
