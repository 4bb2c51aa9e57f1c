"""The CLI: --json prints one JSON object, bad input exits 2 with a one-line message."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from discovery.cli import app

runner = CliRunner()


def run_json(*args: str) -> dict:
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_verify_json_has_the_documented_keys_and_verifies_apery():
    out = run_json(
        "verify",
        "--a",
        "34n^3+51n^2+27n+5",
        "--b",
        "-n^6",
        "--claim",
        "6/zeta(3)",
        "--digits",
        "1000",
    )
    assert out["verdict"] == "verified"
    assert out["digits"] >= 1000
    assert {"verdict", "digits", "depth", "digits_per_term", "delta"} <= out.keys()
    assert 320 < out["depth"] < 400
    assert 0.05 < out["delta"] < 0.15


def test_verify_refutes_a_wrong_claim_exit_1_plain_0_with_json():
    """Lambert's PCF(2n+1, n^2) is 4/pi, not 4/pi + 1e-30. A refutation is a result: the JSON
    says so with exit status 0; the plain command exits 1 (documented in `verify --help`)."""
    args = ["verify", "--a", "2n+1", "--b", "n^2", "--claim", "4/pi+10^-30"]
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == 0
    assert json.loads(res.stdout)["verdict"] == "refuted"
    res = runner.invoke(app, args)
    assert res.exit_code == 1
    assert "refuted" in res.stdout


def test_verify_plot_writes_a_png(tmp_path):
    png = tmp_path / "conv.png"
    out = run_json(
        "verify",
        "--a",
        "2n+1",
        "--b",
        "n^2",
        "--claim",
        "4/pi",
        "--digits",
        "50",
        "--plot",
        str(png),
    )
    assert out["verdict"] == "verified"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "args",
    [
        ["verify", "--a", "__import__('os').system('true')", "--b", "1", "--claim", "1"],
        ["verify", "--a", "n+1", "--b", "n", "--claim", "().__class__"],
        ["verify", "--a", "n+1", "--b", "n", "--claim", "9^9^9^9"],
        ["verify", "--a", "1/n", "--b", "n", "--claim", "e"],
        ["constants", "show", "no_such_constant"],
        ["identify", "--value", "abc"],
    ],
)
def test_bad_input_exits_2_with_one_line(args):
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.output


def test_constants_list_and_show():
    names = {c["name"] for c in run_json("constants", "list")["constants"]}
    assert {"e", "pi", "zeta3", "catalan", "gauss", "lemniscate", "khinchin"} <= names
    out = run_json("constants", "show", "zeta3", "--digits", "40")
    assert out["value"].startswith("1.202056903159594285399738161511449990765")


def test_the_console_script_runs_in_a_subprocess():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "discovery.cli",
            "verify",
            "--a",
            "n+3",
            "--b",
            "-n",
            "--claim",
            "e",
            "--digits",
            "60",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["verdict"] == "verified"
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "discovery.cli",
            "verify",
            "--a",
            "n+3",
            "--b",
            "-n",
            "--claim",
            "lambda: 0",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_tables_printed_to_a_pipe_are_not_cut_to_80_columns(monkeypatch):
    """An overnight log or ``| less`` is not a terminal: rich would cut the constants table to
    80 columns (``Euler's number, exp(1)`` became ``Euler's…``); it is 160 wide."""
    monkeypatch.delenv("COLUMNS", raising=False)
    res = runner.invoke(app, ["constants", "list"])
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.output.splitlines() if ln.startswith("│ e "))
    assert "Euler's number, exp(1)" in line and "euler_e, napier" in line
    assert 80 < max(len(ln) for ln in res.output.splitlines()) <= 160


def test_identify_basis_takes_expressions_with_several_arguments():
    """``--basis`` is split at top-level commas: ``besseli(1,2)/besseli(0,2)`` is one element
    (it was cut into ``besseli(1`` and ``2)/besseli(0`` ...)."""
    import mpmath

    ctx = mpmath.MPContext()
    ctx.dps = 45
    x = 3 * ctx.besseli(0, 2) / ctx.besseli(1, 2) + 1  # = 1 + 3/K, K the Bessel ratio
    out = run_json("identify", "--value", ctx.nstr(x, 40),
                   "--basis", "besseli(1,2)/besseli(0,2), pi")
    assert out["found"] and out["constant"] == "besseli(1,2)/besseli(0,2)"
    ctx.dps = 50
    from solvers.expr import evaluate_expression, parse_expression

    back = evaluate_expression(parse_expression(out["relation"]), 45)
    assert abs(back - x) < ctx.mpf(10) ** -38
