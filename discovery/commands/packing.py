"""``discovery packing ...``: sphere-packing upper bounds (LP table, three-point SDP).

Certificates are versioned JSON (every rational as ``"p/q"`` text), shipped as package data
under ``discovery/data/packing/`` (:data:`DATA_DIR`): ``lp/n01.json`` ... ``lp/n32.json``,
``three_point/n04.json`` and ``lp_table.json`` (the summary ``packing table --write`` writes
next to them), with ``packing_reference.json`` (best known densities and published bounds,
:func:`reference_data`). This module is the only place that reads or writes them.

Examples
--------
>>> parse_dimensions("1..4,8,24")
[1, 2, 3, 4, 8, 24]
"""

from __future__ import annotations

import atexit
import json
import time
from contextlib import ExitStack
from importlib.resources import as_file, files
from pathlib import Path

import typer

from discovery.commands._common import emit_json, fail, user_errors
from discovery.commands._rich import Console, Table
from discovery.commands._search import SearchOptions, search_options, search_session
from discovery.text import parse_json_object
from discovery.user_files import read_user_file
from solvers.errors import DiscoveryError

__all__ = [
    "packing_app",
    "DATA_DIR",
    "parse_dimensions",
    "load_certificate",
    "verify_certificate",
    "three_point_path",
    "parse_multipliers",
    "load_lp_certificates",
    "write_lp_certificate",
    "reverify_lp_certificates",
    "reverify_three_point_certificates",
    "reference_data",
    "sdp_game_summary",
    "sdp_game_command",
]

#: The shipped packing data, package data of :mod:`discovery` found through
#: :mod:`importlib.resources`: the reference values, read as a resource.
REFERENCE = files("discovery") / "data" / "packing" / "packing_reference.json"

# The certificate directory is globbed, passed as a ``--dir`` default and written by
# ``--write``, so it must be a directory on disk: ``as_file`` gives one (the package's own
# directory when it is installed as files, as pip installs a wheel), kept for the process.
_RESOURCES = ExitStack()
atexit.register(_RESOURCES.close)
#: The shipped certificates: ``lp/nXX.json``, ``three_point/nXX.json``, ``lp_table.json``.
DATA_DIR: Path = _RESOURCES.enter_context(as_file(files("discovery") / "data" / "packing"))

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
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


def load_certificate(path: str | Path):
    """Read a certificate (JSON) from ``path``: an LP or a three-point certificate.

    Raises
    ------
    DiscoveryError
        If ``path`` is not a regular file of at most
        :data:`~discovery.user_files.MAX_INPUT_BYTES` (``/dev/zero``, a FIFO: refused at
        once, :func:`~discovery.user_files.read_user_file`), not JSON, or not a certificate.
    """
    from solvers.packing.certificate import LPCertificate
    from solvers.packing.tp_certificate import FORMAT as TP_FORMAT
    from solvers.packing.tp_certificate import ThreePointCertificate

    path = Path(path)
    data = parse_json_object(read_user_file(path, what="certificate"), f"certificate {path}")
    try:
        if data.get("format") == TP_FORMAT:
            return ThreePointCertificate.from_dict(data)
        return LPCertificate.from_dict(data)
    except DiscoveryError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError,
            ZeroDivisionError, RecursionError) as exc:
        raise DiscoveryError(f"{path} is not a valid certificate ({type(exc).__name__}: "
                             f"{exc})") from None


def verify_certificate(cert):
    """Exact verification of an LP or three-point certificate (a ``VerifiedBound``)."""
    from solvers.packing.certificate import LPCertificate, verify_lp_certificate
    from solvers.packing.tp_certificate import verify_three_point

    if isinstance(cert, LPCertificate):
        return verify_lp_certificate(cert)
    return verify_three_point(cert)


def three_point_path(directory: str | Path, n: int) -> Path:
    """Where the stored three-point certificate of dimension ``n`` lives."""
    return Path(directory) / "three_point" / f"n{n:02d}.json"


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


def reverify_lp_certificates(directory: str | Path = DATA_DIR, dimensions=None, *,
                             progress=None) -> list[dict]:
    """Verify the stored certificates exactly; one row per dimension (``progress``: a
    callback ``progress(stage, done=None, total=None, detail=None)``, per certificate)."""
    from solvers.packing.certificate import verify_lp_certificate

    rows = []
    certs = [(n, c) for n, c in sorted(load_lp_certificates(directory).items())
             if dimensions is None or n in dimensions]
    for i, (n, cert) in enumerate(certs):
        if progress is not None:
            progress("re-verifying stored LP certificates", done=i, total=len(certs),
                     detail=f"n={n}, degree {cert.degree}")
        v = verify_lp_certificate(cert)
        rows.append(_row(n, v, cert.degree, cert.key, v.seconds, str(cert.meta.get("method", ""))))
    return rows


def reverify_three_point_certificates(directory: str | Path = DATA_DIR) -> dict[int, float]:
    """Verify the stored three-point certificates exactly: {dimension: rigorous bound}."""
    out = {}
    for path in sorted((Path(directory) / "three_point").glob("n*.json")):
        cert = load_certificate(path)
        v = verify_certificate(cert)
        if v.verified:
            out[cert.form.dimension] = float(v.bound)
    return out


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
    from discovery.progress import command_progress
    from solvers.packing.lp import degree_for_terms, lp_bound

    with user_errors(), command_progress(f"packing lp n={dimension}",
                                         enabled=not json_) as progress:
        degree = degree_for_terms(terms) if terms is not None else None
        res = lp_bound(dimension, degree, method=method, progress=progress)
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
    from discovery.progress import command_progress
    from solvers.packing.lp import lp_bound

    with user_errors(), command_progress("packing table", enabled=not json_) as progress:
        dims = parse_dimensions(dimensions)
        t0 = time.perf_counter()
        if stored:
            rows = reverify_lp_certificates(directory, set(dims), progress=progress)
        else:
            rows = []
            for i, n in enumerate(dims):
                step = progress.nested("LP bounds by dimension", done=i, total=len(dims),
                                       prefix=f"n={n}: ")
                res = lp_bound(n, progress=step)
                if write:
                    write_lp_certificate(res.certificate, directory)
                rows.append(_row(n, res.verified, res.certificate.degree, res.certificate.key,
                                 res.seconds, res.method))
                progress.log(f"n={n}: {rows[-1]['bound']} ({res.seconds:.1f} s)")
        total = time.perf_counter() - t0
        if write and not stored:
            summary = {"format": "lp-table", "version": 1, "rows": rows,
                       "seconds": round(total, 1)}
            Path(directory).mkdir(parents=True, exist_ok=True)
            (Path(directory) / "lp_table.json").write_text(json.dumps(summary, indent=1) + "\n")
        if plot is not None:
            from discovery.plots_packing import plot_bounds

            progress.stage("re-verifying the three-point certificates and plotting")
            ref = reference_data()
            plot_bounds(rows, ref["best_known_density_lower_bounds"], plot,
                        three_point=ref.get("three_point_bound_density_Cohn_deLaat_Salmon_2022"),
                        verified_three_point=reverify_three_point_certificates(directory))
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
    paths: list[Path] = typer.Argument(..., help="certificate JSON files (LP or three-point)"),
    json_: bool = JSON,
) -> None:
    """Verify certificate files exactly (Cohn–Elkies LP or three-point)."""
    from discovery.progress import command_progress

    with user_errors(), command_progress("packing check", enabled=not json_) as progress:
        results = []
        for i, p in enumerate(paths):
            progress("verifying certificates exactly", done=i, total=len(paths),
                     detail=str(p))
            cert = load_certificate(p)
            v = verify_certificate(cert)
            kind = "three-point" if hasattr(cert, "grams") else "lp"
            degree = cert.form.d2 if kind == "three-point" else cert.degree
            results.append({"path": str(p), "kind": kind, **v.to_dict(), "degree": degree})
    if json_:
        emit_json({"results": results})
    else:
        for r in results:
            mark = "verified" if r["verified"] else "NOT verified: " + "; ".join(r["failures"])
            shown = r["bound"] or r["upper"]
            Console().print(f"{r['path']}: Δ_{r['dimension']} ≤ {shown} ({r['kind']}, {mark})")
    if not all(r["verified"] for r in results):
        raise typer.Exit(1)


def parse_multipliers(text: str) -> tuple[tuple[int, ...], ...]:
    """``"0,1,2,3,4,5,0*3"`` -> products of base polynomials (indices into ``BASE_NAMES``).

    Examples
    --------
    >>> parse_multipliers("0,1, 2*5")
    ((0,), (1,), (2, 5))
    """
    out = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        try:
            out.append(tuple(int(i) for i in part.split("*")))
        except ValueError:
            raise DiscoveryError(f"bad multiplier {part!r}: use indices 0..6 joined by '*'"
                                 ) from None
    if not out:
        raise DiscoveryError("no multiplier given")
    return tuple(out)


@packing_app.command("three-point")
def three_point_command(
    dimension: int = typer.Option(4, "--dimension", "-n", min=2, max=32),
    d2: int = typer.Option(19, "--d2", help="degree of the two-point polynomial P2 (odd)"),
    kmax: int = typer.Option(6, "--kmax", help="angular degree of the kernel"),
    m: int = typer.Option(2, "--m", help="radial degree of the kernel (blocks (m+1)x(m+1))"),
    r: float | None = typer.Option(None, "--r", help="minimal distance r (default: LP optimum)"),
    ratio: float = typer.Option(1.16, "--ratio", help="truncation radius R / r"),
    sos_degree: int = typer.Option(0, "--sos-degree", help="0: the kernel degree"),
    multipliers: str | None = typer.Option(
        None, "--multipliers", help="SOS multipliers, e.g. '0,1,2,3,4,5,6,2*5' (default: 0..6)"),
    write: Path | None = typer.Option(None, "--write", help="save the certificate (JSON)"),
    json_: bool = JSON,
) -> None:
    """Three-point bound (Cohn–de Laat–Salmon) at reduced degree, verified exactly."""
    from discovery.progress import command_progress
    from search.sdp_game import _default_radius
    from solvers.packing.three_point import BASE_NAMES, Formulation, three_point_bound

    with user_errors(), command_progress(f"packing three-point n={dimension}",
                                         enabled=not json_) as progress:
        mults = parse_multipliers(multipliers) if multipliers else None
        if not ratio > 1:
            raise DiscoveryError(f"--ratio must exceed 1, not {ratio}")
        Formulation.from_radii(dimension, d2, kmax, m, 1.0, ratio, mults, sos_degree)  # check
        radius = r if r is not None else _default_radius(dimension, d2, progress=progress)
        form = Formulation.from_radii(dimension, d2, kmax, m, radius, radius * ratio, mults,
                                      sos_degree)
        res = three_point_bound(form, keep_certificate=True, progress=progress)
        out = res.to_dict()
        out["base_polynomials"] = list(BASE_NAMES)
        progress.stage("re-verifying the stored LP certificate (for comparison)")
        lp = _stored_lp_bound(dimension)
        out["lp_bound"] = lp
        out["below_lp_bound"] = bool(res.verified and lp and float(res.bound) < float(lp))
        if write is not None and res.certificate is not None:
            write.parent.mkdir(parents=True, exist_ok=True)
            write.write_text(json.dumps(res.certificate) + "\n")
            out["certificate"] = str(write)
    if json_:
        emit_json(out)
    else:
        c = Console()
        if res.verified:
            c.print(f"Δ_{dimension} ≤ {res.bound}  ([green]verified exactly[/]); "
                    f"LP bound {lp}; {res.seconds:.1f} s")
        else:
            c.print(f"[red]no verified bound[/] ({res.status}): {'; '.join(res.failures)}")
        c.print(f"  {form!r}; numeric {res.numeric_bound}")
    if not res.verified:
        raise typer.Exit(1)


def _stored_lp_bound(n: int) -> str | None:
    path = DATA_DIR / "lp" / f"n{n:02d}.json"
    if not path.exists():
        return None
    return verify_certificate(load_certificate(path)).bound


@packing_app.command("plot")
def plot_command(
    output: Path = typer.Option(Path("packing_bounds.png"), "--output", "-o"),
    directory: Path = typer.Option(DATA_DIR, "--dir"),
    json_: bool = JSON,
) -> None:
    """Plot the stored (re-verified) LP bounds against the best known packings."""
    from discovery.plots_packing import plot_bounds

    with user_errors():
        rows = reverify_lp_certificates(directory)
        if not rows:
            fail(f"no certificates under {directory}/lp")
        ref = reference_data()
        plot_bounds(rows, ref["best_known_density_lower_bounds"], output,
                    three_point=ref.get("three_point_bound_density_Cohn_deLaat_Salmon_2022"),
                    verified_three_point=reverify_three_point_certificates(directory))
    if json_:
        emit_json({"plot": str(output), "dimensions": [r["dimension"] for r in rows]})
        return
    Console().print(f"plot: {output}")


def sdp_game_summary(store, run_id: int, *, log: Path | None = None,
                     certificates: Path | None = None) -> dict:
    """Summarise an SDP-game run from the store: its history over all sessions (from the
    engine's saved state), the default formulation's bound and the best verified one.

    With ``log`` the history is written there as JSON lines; with ``certificates`` (a
    directory) the certificates of the default formulation and of the best one are written
    there as ``default.json`` and ``best.json`` (``packing check`` re-verifies them).
    """
    state = store.run(run_id).state or {}
    hist = list(state.get("history", []))
    default = hist[0]["objective"] if hist else None
    done = [h for h in hist if h["objective"] is not None]
    best = min(done, key=lambda h: (h["objective"], h["evaluation"])) if done else None
    if log is not None:
        log.write_text("".join(json.dumps(h) + "\n" for h in hist))
    if certificates is not None:
        certificates.mkdir(parents=True, exist_ok=True)
        for name, h in (("default", hist[0] if hist else None), ("best", best)):
            if h is None or not h.get("verified") or not h.get("key") or h["key"] not in store:
                continue
            cert = store.get(h["key"]).formula.get("certificate")
            if cert is not None:
                (certificates / f"{name}.json").write_text(json.dumps(cert) + "\n")
    return {
        "config": state.get("config"),
        "r0": state.get("r0"),
        "evaluations": len(hist),
        "default_bound": default,
        "default_verified": bool(hist and hist[0]["verified"]),
        "best": best,
        "improved": bool(best and default is not None and best["objective"] < default),
        "improved_verified": bool(best and default is not None and best["verified"]
                                  and hist[0]["verified"] and best["objective"] < default),
        "history": hist,
    }


@search_options(without=("max_tasks",))
def sdp_game_command(
    dimension: int = typer.Option(4, "--dimension", "-n", min=2, max=32),
    evaluations: int = typer.Option(100, "--evaluations", min=1, max=10_000),
    seed: int = typer.Option(0, "--seed", min=0),
    d2: int = typer.Option(19, "--d2", min=1, max=101,
                           help="degree of the two-point polynomial (odd)"),
    kmax: int = typer.Option(6, "--kmax", min=0, max=30, help="angular degree of the kernel"),
    m: int = typer.Option(1, "--m", min=0, max=10, help="radial degree of the kernel"),
    r: float | None = typer.Option(None, "--r", help="default radius (LP optimum if omitted)"),
    in_flight: int = typer.Option(2, "--in-flight", min=1, max=256,
                                  help="evaluations asked ahead of their results"),
    plot: Path | None = typer.Option(None, "--plot", help="bound vs evaluation (PNG)"),
    log: Path | None = typer.Option(None, "--log", help="write every evaluation (JSON lines)"),
    certificates: Path | None = typer.Option(
        None, "--certificates", help="write default.json and best.json certificates here"),
    evaluator: str = typer.Option("sdp", "--evaluator", help="sdp | synthetic (testing)"),
    *,
    opts: SearchOptions,
) -> None:
    """Search SDP formulations of the three-point bound (Bayesian optimisation over (r, R),
    MCTS over SOS multipliers); every evaluation is verified exactly and recorded."""
    config = {"dimension": dimension, "evaluations": evaluations, "seed": seed, "d2": d2,
              "kmax": kmax, "m": m, "evaluator": evaluator, "r": r, "in_flight": in_flight}
    with search_session("sdp_game", config, opts) as (result, store):
        summary = result.runs[0]
        with user_errors():
            out = {**result.to_dict(), "run": summary.run_id, "tasks": summary.tasks,
                   "tasks_total": summary.tasks_total,
                   **sdp_game_summary(store, summary.run_id, log=log,
                                      certificates=certificates),
                   "stored": None if opts.no_store else str(opts.db)}
    if plot is not None:
        with user_errors():
            from discovery.plots_packing import plot_sdp_game

            plot_sdp_game([{**h, "bound": h["objective"]} for h in out["history"]], plot,
                          default_bound=out["default_bound"])
        out["plot"] = str(plot)
    if opts.json:
        emit_json(out)
        return
    best = out["best"]
    console = Console()
    for h in out["history"]:
        console.print(
            f"#{h['evaluation']} {h['kind']:7s} R/r={h['R'] / h['r']:.4f} r={h['r']:.5f} "
            f"{len(h['mults'])} mult.: {h['bound'] or '-'} "
            f"({'verified' if h['verified'] else 'not verified'}, {h['seconds'] or 0:.0f} s)")
    console.print(
        f"default formulation: {out['default_bound']}; best: "
        f"{best['objective'] if best else None} (evaluation "
        f"{best['evaluation'] if best else '-'}, R/r = "
        f"{best['R'] / best['r'] if best else float('nan'):.4f}); "
        f"strictly better and verified: {out['improved_verified']}")
    where = out["stored"] or "nowhere (--no-store)"
    console.print(f"run #{out['run']} [{out['status']}]: {out['tasks_total']} evaluations, "
                  f"recorded in {where}; the same command resumes it.")


packing_app.command("sdp-game")(sdp_game_command)
