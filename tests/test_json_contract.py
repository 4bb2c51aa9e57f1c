"""The command-line contract, for EVERY command that takes ``--json``.

Bad input (unknown option, missing argument, out-of-range or unparsable value, errors the
commands raise) gives exit status 2 and
* with ``--json``: exactly one JSON object on stdout, ``{"error": <one line>, "status": 2}``;
* without: nothing on stdout and one line ``error: <message>`` on stderr.

The commands are found by walking the typer app, so a new command is covered automatically.
Everything runs in-process through ``CliRunner`` (the app's group, ``OneLineErrorsGroup``,
applies the contract there as in ``discovery ...``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from discovery.cli import app
from discovery.commands._common import OneLineErrorsCommand, OneLineErrorsGroup, cli_main
from discovery.commands.run import run_command
from discovery.store import Store
from solvers.errors import DiscoveryError

runner = CliRunner()


def _leaf_commands(group, path=()):
    for name, cmd in sorted(group.commands.items()):
        if getattr(cmd, "hidden", False):
            continue
        if hasattr(cmd, "commands"):  # a sub-group
            yield from _leaf_commands(cmd, (*path, name))
        else:
            yield (*path, name), cmd


def _takes_json(cmd) -> bool:
    return any("--json" in (getattr(p, "opts", None) or ()) for p in cmd.params)


def json_commands() -> dict[str, object]:
    """``{"db stats": <command>, ...}``: every command of the app with a ``--json`` option."""
    root = typer.main.get_command(app)
    return {" ".join(path): cmd for path, cmd in _leaf_commands(root) if _takes_json(cmd)}


COMMANDS = json_commands()
WITH_REQUIRED = sorted(
    name for name, cmd in COMMANDS.items() if any(p.required for p in cmd.params)
)


def invoke(args, application=app):
    return runner.invoke(application, [str(a) for a in args])


def assert_json_error(result) -> dict:
    """Exit 2 and exactly one JSON object ``{"error": <one line>, "status": 2}`` on stdout."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    out = result.stdout
    assert out.endswith("\n") and out.count("\n") == 1, out
    obj = json.loads(out)
    assert isinstance(obj, dict), obj
    assert isinstance(obj.get("error"), str) and obj["error"], obj
    assert "\n" not in obj["error"]
    assert obj["status"] == 2
    return obj


def assert_text_error(result) -> str:
    """Exit 2, nothing on stdout, one line ``error: ...`` on stderr."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == "", result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def test_commands_are_discovered():
    assert COMMANDS
    for name in ("verify", "identify", "db stats", "db show", "search esma", "run",
                 "constants show"):
        assert name in COMMANDS, sorted(COMMANDS)
    assert {"db show", "run", "constants show"} <= set(WITH_REQUIRED)
    # verify takes ONE of several formula sources (--a/--b, --scf, --cmf, --id): none of its
    # options is required as such; a missing formula is a bad input (BAD_INPUTS).


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_unknown_option(name):
    args = [*name.split(), "--no-such-option-xyz"]
    obj = assert_json_error(invoke([*args, "--json"]))
    assert "--no-such-option-xyz" in obj["error"]
    line = assert_text_error(invoke(args))
    assert "--no-such-option-xyz" in line


@pytest.mark.parametrize("name", WITH_REQUIRED)
def test_missing_required(name):
    obj = assert_json_error(invoke([*name.split(), "--json"]))
    assert "missing" in obj["error"].lower()
    assert "missing" in assert_text_error(invoke(name.split())).lower()


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("contract") / "c.db"
    with Store(path) as s:
        s.end_run(s.start_run("fixture", "test", {}), "finished")
    return path


BAD_INPUTS = [
    (["verify", "--a", "n+", "--b", "1", "--claim", "1", "--json"], None),  # parse error
    (["verify", "--a", "n", "--b", "1", "--claim", "1", "--digits", "0", "--json"], "--digits"),
    (["verify", "--a", "n", "--b", "1", "--claim", "1", "--digits", "abc", "--json"], "--digits"),
    (["verify", "--a", "n", "--b", "1", "--claim", "nosuchfn(1)", "--json"], None),
    # verify: exactly one formula source (PCF, signed CF, CMF walk, stored conjecture)
    (["verify", "--json"], "Missing formula"),
    (["verify", "--claim", "1", "--json"], "Missing formula"),
    (["verify", "--a", "1", "--b", "1", "--json"], "--claim"),
    (["verify", "--a", "1", "--claim", "1", "--json"], "--b"),
    (["verify", "--a", "1", "--b", "1", "--cmf", "zeta3", "--claim", "1", "--json"],
     "exactly one"),
    (["verify", "--a", "1", "--b", "1", "--claim", "1", "--db", "{store}", "--json"], "--id"),
    # ({{ and }}: the arguments go through str.format, for {store} and {missing})
    (["verify", "--scf", "{{bad", "--claim", "1", "--json"], "--scf"),
    (["verify", "--scf", "[1, 2]", "--claim", "1", "--json"], "--scf"),
    (["verify", "--scf", '{{"signs": [1], "recurrence": [1, -1]}}', "--claim", "1", "--json"],
     "first_terms"),
    (["verify", "--scf", '{{"signs": [true], "recurrence": [1, -1], "first_terms": [1]}}',
      "--claim", "1", "--json"], "signs"),
    (["verify", "--scf", '{{"signs": [1], "recurrence": [1, -1], "first_terms": [1]}}',
      "--signs", "1", "--claim", "1", "--json"], "not both"),
    (["verify", "--signs", "1", "--claim", "1", "--json"], "--recurrence"),
    (["verify", "--signs", "1", "--recurrence", "1,x", "--terms", "1", "--claim", "1",
      "--json"], "--recurrence"),
    (["verify", "--signs", "2", "--recurrence", "1,-1", "--terms", "1", "--claim", "1",
      "--json"], "signs"),
    (["verify", "--signs", "1", "--recurrence", "1,-2,1", "--terms", "1", "--claim", "1",
      "--json"], "initial terms"),
    (["verify", "--cmf", "nosuch", "--trajectory", "1,1", "--start", "1,1", "--claim", "1",
      "--json"], "nosuch"),
    (["verify", "--cmf", "zeta3", "--trajectory", "1,1", "--claim", "1", "--json"], "--start"),
    (["verify", "--cmf", "zeta3", "--trajectory", "1,1,1", "--start", "1,1", "--claim", "1",
      "--json"], None),
    (["verify", "--cmf", "zeta3", "--trajectory", "1,1", "--start", "1,1", "--claim", "1",
      "--plot", "{missing}.png", "--digits", "0", "--json"], "--digits"),
    (["verify", "--id", "999999", "--db", "{store}", "--json"], "999999"),
    (["verify", "--id", "1", "--db", "{missing}", "--json"], "No conjecture store"),
    (["verify", "--id", "1", "--db", "{store}", "--claim", "1", "--json"], "--claim"),
    (["identify", "--value", "abc", "--json"], "--value"),
    (["identify", "--json"], "--value"),
    (["db", "show", "999999", "--db", "{store}", "--json"], "999999"),
    (["db", "list", "--status", "nosuch", "--db", "{store}", "--json"], "nosuch"),
    (["db", "stats", "--db", "{missing}", "--json"], None),
    (["constants", "show", "nosuch", "--json"], "nosuch"),
    (["run", "{missing}", "--json"], None),
    (["nosuch-command", "--json"], "nosuch-command"),
]


@pytest.mark.parametrize("args, mentions", BAD_INPUTS, ids=lambda v: " ".join(v)
                         if isinstance(v, list) else str(v))
def test_bad_input(args, mentions, store, tmp_path):
    args = [a.format(store=store, missing=tmp_path / "missing.db") for a in args]
    obj = assert_json_error(invoke(args))
    if mentions:
        assert mentions in obj["error"], obj
    line = assert_text_error(invoke([a for a in args if a != "--json"]))
    assert line == f"error: {obj['error']}"


def test_normal_exits_unchanged():
    helped = invoke(["verify", "--help"])
    assert helped.exit_code == 0 and "--claim" in helped.stdout
    refuted = invoke(["verify", "--a", "n+3", "--b", "-n", "--claim", "pi", "--digits", "20"])
    assert refuted.exit_code == 1 and "refuted" in refuted.stdout
    as_json = invoke(["verify", "--a", "n+3", "--b", "-n", "--claim", "pi", "--digits", "20",
                      "--json"])
    assert as_json.exit_code == 0 and json.loads(as_json.stdout)["verdict"] == "refuted"
    bare = invoke([])  # a group without arguments shows its help, as typer does
    assert "Usage" in bare.stdout + bare.stderr and "error" not in bare.stderr


def test_uncaught_discovery_error_and_single_command_app():
    """A DiscoveryError escaping a command, and ``python -m discovery.commands.run``'s app."""
    boom = typer.Typer(cls=OneLineErrorsGroup)

    @boom.command()
    def explode(json_: bool = typer.Option(False, "--json")) -> None:
        raise DiscoveryError("it\nbroke")

    @boom.command()
    def other() -> None:
        pass

    obj = assert_json_error(invoke(["explode", "--json"], boom))
    assert obj["error"] == "it broke"
    assert assert_text_error(invoke(["explode"], boom)) == "error: it broke"
    assert invoke(["other"], boom).exit_code == 0

    single = typer.Typer(add_completion=False)
    single.command(cls=OneLineErrorsCommand)(run_command)
    assert "Missing" in assert_json_error(invoke(["--json"], single))["error"]
    assert_text_error(invoke(["--bogus"], single))
    with pytest.raises(SystemExit) as exc:
        cli_main(lambda argv: 3, [])
    assert exc.value.code == 3

    def exits(argv):
        raise typer.Exit(4)

    with pytest.raises(SystemExit) as exc:
        cli_main(exits, ["--json"])
    assert exc.value.code == 4


def test_db_stats_is_small(tmp_path):
    path = tmp_path / "big.db"
    keys = [f"esma:task-{i:06d}-{'x' * 40}" for i in range(2000)]
    with Store(path) as s:
        run = s.start_run("big", "esma", {"degree": 1})
        for key in keys:
            s.finish_task(run, key)
        s.save_state(run, {"finished": keys})  # as the ESMA engine checkpoints itself
        s.end_run(run, "finished")
    result = invoke(["db", "stats", "--db", path, "--json"])
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout) < 5000, len(result.stdout)
    assert "task-000" not in result.stdout
    data = json.loads(result.stdout)
    assert data["finished_tasks"] == 2000
    assert data["run_list"][0]["finished_tasks"] == 2000
    plain = invoke(["db", "stats", "--db", path])
    assert plain.exit_code == 0 and "task-000" not in plain.stdout
    assert "2000" in plain.stdout
