"""Progress of long commands: the reporter, the solvers' callbacks, and the CLI wiring."""

from __future__ import annotations

import dataclasses
import io
import json
from fractions import Fraction

import pytest
from typer.testing import CliRunner

import discovery.progress as progress_module
from discovery.cli import app
from discovery.progress import command_progress


class Recorder:
    """A solver callback that remembers every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str | None, float | None, float | None, str | None]] = []

    def __call__(self, stage=None, done=None, total=None, detail=None) -> None:
        self.calls.append((stage, done, total, detail))

    @property
    def stages(self) -> list[str]:
        return list(dict.fromkeys(c[0] for c in self.calls if c[0] is not None))


def _strip(report) -> dict:
    """A result as a dict without its wall-clock time."""
    d = dataclasses.asdict(report)
    d.pop("seconds", None)
    return d


# ---------------------------------------------------------------------------------------------
# the reporter


def test_plain_reporter_writes_one_line_per_stage_to_a_non_tty_stream():
    out = io.StringIO()
    with command_progress("demo", stream=out, delay=0) as progress:  # auto: StringIO -> plain
        assert progress.mode == "plain"
        progress.stage("planning")
        progress("computing", done=1, total=4, detail="first item")
        progress("computing", done=2, total=4)  # same stage, within `every`: no line
    lines = out.getvalue().splitlines()
    assert len(lines) == 3, lines
    assert lines[0].startswith("[demo ") and lines[0].endswith("] planning")
    assert "computing: 1/4 (25%), first item" in lines[1]
    assert "done after" in lines[2]


def test_plain_reporter_periodic_lines_carry_counts_and_eta():
    out = io.StringIO()
    with command_progress("demo", mode="plain", stream=out, delay=0, every=0) as progress:
        progress("scan", done=0, total=10)
        progress("scan", done=5, total=10, detail="half way")
    text = out.getvalue()
    assert "scan: 0/10 (0%)" in text
    assert "scan: 5/10 (50%)" in text and "half way" in text and "in this stage" in text


def test_disabled_reporter_writes_nothing():
    out = io.StringIO()
    with command_progress("demo", enabled=False, stream=out, delay=0) as progress:
        progress.stage("planning")
        progress("computing", done=1, total=4)
        progress.log("a message")
    assert out.getvalue() == ""


def test_short_runs_show_nothing_before_the_delay():
    out = io.StringIO()
    with command_progress("demo", mode="plain", stream=out, delay=60) as progress:
        progress.stage("planning")
        progress("computing", done=1, total=4)
    assert out.getvalue() == ""


def test_failure_is_reported_as_stopped():
    out = io.StringIO()
    with pytest.raises(RuntimeError), command_progress("demo", mode="plain", stream=out,
                                                       delay=0) as progress:
        progress.stage("planning")
        raise RuntimeError("boom")
    assert "stopped after" in out.getvalue()


def test_nested_and_prefixed_callbacks():
    out = io.StringIO()
    with command_progress("table", mode="plain", stream=out, delay=0, every=0) as progress:
        step = progress.nested("dimensions", done=0, total=2, prefix="n=3: ")
        step("root forcing", done=19, total=59, detail="degree 19")
        assert progress.stage_text == "dimensions" and progress.done == 0
        assert progress.detail == "n=3: root forcing: degree 19 (19/59)"
        progress.prefixed("fma: ")("checking", done=1, total=2)
        assert progress.stage_text == "fma: checking"
    assert "dimensions: 0/2 (0%), n=3" in out.getvalue()


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_rich_reporter_draws_on_a_terminal_stream():
    out = Tty()
    with command_progress("demo", stream=out, delay=0) as reporter:  # auto: a tty -> rich
        assert reporter.mode == "rich"
        reporter("computing", done=1, total=4, detail="item")
        assert reporter._rich is not None
        reporter._rich.refresh()
        assert "computing: item" in out.getvalue() and "1/4 (25%)" in out.getvalue()


def test_auto_mode_is_rich_only_on_a_tty():
    assert progress_module._resolve_mode("auto", io.StringIO()) == "plain"
    assert progress_module._resolve_mode("auto", Tty()) == "rich"
    assert progress_module._resolve_mode("quiet", Tty()) == "quiet"


# ---------------------------------------------------------------------------------------------
# the solvers' callbacks: called, and the result unchanged


def test_baseline_tiers_reports_each_remez_fit():
    from solvers.approximation import baseline_tiers

    rec = Recorder()
    with_cb = baseline_tiers("2^x", (0, 1), max_ops=4, tiers="AC", progress=rec)
    without = baseline_tiers("2^x", (0, 1), max_ops=4, tiers="AC")
    assert [repr(r) for r in with_cb] == [repr(r) for r in without]
    assert rec.stages == ["tier A", "tier C"]
    totals = {c[2] for c in rec.calls}
    assert len(totals) == 1 and rec.calls[-1][1] < rec.calls[-1][2]  # done < total (planned)
    assert [c[1] for c in rec.calls] == list(range(len(rec.calls)))


@pytest.mark.slow  # ~6 s in a fresh checkout: it compiles the float32 kernels (1 s cached)
def test_exhaustive_ulp_reports_blocks_and_keeps_the_result():
    from solvers.float32_check import exhaustive_ulp
    from solvers.programs import Program

    p = Program.build(lambda x: x / 3.0)
    rec = Recorder()
    # chunk 256 -> blocks of 65536 inputs: 8 blocks for 2^19 inputs
    a = exhaustive_ulp(p, "x/3", (1.0, 1.0625), chunk=256, progress=rec)
    b = exhaustive_ulp(p, "x/3", (1.0, 1.0625), chunk=256)
    c = exhaustive_ulp(p, "x/3", (1.0, 1.0625))  # one block
    assert _strip(a) == _strip(b) == _strip(c)
    scans = [x for x in rec.calls if x[0].startswith("checking")]
    assert len(scans) == 8 and scans[0][1] == 0 and scans[-1][1] < scans[-1][2] == a.points
    assert rec.stages[-1].startswith("re-measuring")


def test_fit_float32_polynomial_reports_its_stages():
    from solvers.float32_check import fit_float32_polynomial

    rec = Recorder()
    p1, e1 = fit_float32_polynomial("2^x", (0.0, 1.0), 3, sample=1 << 12, rounds=1,
                                    progress=rec)
    p2, e2 = fit_float32_polynomial("2^x", (0.0, 1.0), 3, sample=1 << 12, rounds=1)
    assert (p1.to_text(), e1) == (p2.to_text(), e2)
    assert rec.stages == ["fitting float32 coefficients", "local search on a float32 sample"]


def test_verify_reports_its_stages_and_keeps_the_evidence():
    from discovery.verification import verify
    from solvers.continued_fractions import PCF

    pcf = PCF("34n^3+51n^2+27n+5", "-n^6")
    rec = Recorder()
    a = verify(pcf, "6/zeta(3)", 50, progress=rec)
    b = verify(pcf, "6/zeta(3)", 50)
    assert _strip(a) == _strip(b) and a.verdict == "verified"
    assert rec.stages[0].startswith("computing convergents")
    assert any(s.startswith("evaluating the claim 6/zeta(3)") for s in rec.stages)
    assert rec.stages[-1].startswith("the irrationality measure")
    convergents = [c for c in rec.calls if c[0].startswith("computing convergents")]
    assert convergents[-1][1] == convergents[-1][2] == 55  # reached the 50 + 5 digits wanted


def test_identify_reports_each_relation_search():
    import mpmath

    from discovery.identification import identify

    ctx = mpmath.MPContext()
    ctx.dps = 50
    x = 6 / ctx.zeta(3)
    rec = Recorder()
    a = identify(x, 50, basis=("e", "zeta3"), progress=rec)
    b = identify(x, 50, basis=("e", "zeta3"))
    assert a.relation == b.relation == "6/zeta(3)"
    details = [c[3] for c in rec.calls]
    assert any("algebraic of degree 1" in d for d in details)
    assert any("Möbius in zeta3" in d for d in details)
    assert all(c[2] == 2 + 2 + 1 + 1 for c in rec.calls)  # degrees, singles, linear, one pair


def test_lp_radius_search_and_root_forcing_report_progress():
    from solvers.packing.lp import solve_lp
    from solvers.packing.sampled_lp import optimise_radius

    rec = Recorder()
    best = optimise_radius(4, 11, 8.6, 9.6, iterations=3, progress=rec)
    assert optimise_radius(4, 11, 8.6, 9.6, iterations=3).u0 == best.u0
    assert rec.stages == ["radius search"]
    assert rec.calls[0][1:3] == (0, 3 + 3 + 2)

    rec = Recorder()
    a = solve_lp(4, 15, u0_guess=best.u0, progress=rec)
    b = solve_lp(4, 15, u0_guess=best.u0)
    assert a.bound == b.bound
    assert rec.stages == ["sampled LP at degree 15", "root forcing to degree 15"]


def test_three_point_bound_reports_its_stages():
    from solvers.packing.three_point import Formulation, three_point_bound

    form = Formulation(4, 7, 2, 0, Fraction(9), Fraction(10))
    rec = Recorder()
    a = three_point_bound(form, progress=rec)
    b = three_point_bound(form)
    assert (a.verified, a.bound) == (b.verified, b.bound) == (True, "0.6536064231")
    assert rec.stages[:4] == ["building the exact model (harmonics, SOS terms)",
                              "solving the SDP", "rounding to a rational certificate",
                              "verifying the certificate exactly"]
    assert any("cutting-plane round 1 (of at most 10) done" in (c[3] or "") for c in rec.calls)


# ---------------------------------------------------------------------------------------------
# the commands

APERY = ["verify", "--a", "34n^3+51n^2+27n+5", "--b", "-n^6", "--claim", "6/zeta(3)",
         "--digits", "200"]


def test_verify_json_prints_exactly_one_json_object_and_no_progress(monkeypatch):
    monkeypatch.setattr(progress_module, "COMMAND_PROGRESS_DELAY", 0.0)
    res = CliRunner().invoke(app, [*APERY, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)  # the whole of stdout is one object
    assert out["verdict"] == "verified"
    assert res.stderr == ""


def test_verify_plain_progress_goes_to_stderr(monkeypatch):
    monkeypatch.setattr(progress_module, "COMMAND_PROGRESS_DELAY", 0.0)
    res = CliRunner().invoke(app, APERY)
    assert res.exit_code == 0, res.output
    assert "verified" in res.stdout and "[verify" not in res.stdout
    lines = res.stderr.splitlines()
    assert any(line.startswith("[verify ") and "computing convergents" in line for line in lines)
    assert any("evaluating the claim 6/zeta(3)" in line for line in lines)
    assert "done after" in lines[-1]


def test_quick_commands_print_no_progress_by_default():
    res = CliRunner().invoke(app, ["constants", "show", "pi", "--digits", "30"])
    assert res.exit_code == 0, res.output
    assert res.stderr == ""
    assert "3.14159" in res.stdout
