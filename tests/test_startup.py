"""Instant start: building the command line imports no engine and no heavy library.

``import discovery.cli`` must not load numba (the evolution engine), cvxpy (the SDP game),
matplotlib, networkx, scipy, the engines, the identification or the store: each command
imports what it needs. The engine registry loads an engine's module on first use, the
package ``discovery`` its public names. No timing asserts here (scripts/bench/startup.py
measures the start-up times).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

HEAVY = ["numba", "cvxpy", "clarabel", "matplotlib", "networkx", "scipy", "search.evolution",
         "search.sdp_game", "search.esma", "search.cmf", "discovery.identification",
         "discovery.store", "discovery.campaign", "discovery.runner"]


def run_python(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_importing_the_cli_loads_no_heavy_module():
    out = run_python(
        "import json, sys\n"
        "import discovery.cli\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    assert out == []


def test_verify_runs_without_heavy_modules_and_without_pydantic():
    """``discovery verify`` of the golden ratio: verified, and only the maths stack loaded
    (typer's pydantic coercion is bypassed for plain options: discovery.commands._common)."""
    code = (
        "import json, sys\n"
        "sys.argv = ['discovery', 'verify', '--a', '1', '--b', '1', '--claim',\n"
        "            '(1+sqrt(5))/2', '--digits', '50', '--json']\n"
        "import discovery.cli\n"
        "try:\n"
        "    discovery.cli.main()\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        f"heavy = sorted(m for m in {HEAVY + ['pydantic']!r} if m in sys.modules)\n"
        "print(json.dumps({'code': code, 'heavy': heavy}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    result, tail = json.loads(lines[0]), json.loads(lines[-1])
    assert result["verdict"] == "verified" and result["digits"] >= 50
    assert tail["code"] == 0
    assert set(tail["heavy"]) <= {"discovery.identification"}, tail  # (identify: on a refutation)


def test_the_console_script_verifies_the_golden_ratio():
    proc = subprocess.run(
        [sys.executable, "-m", "discovery.cli", "verify", "--a", "1", "--b", "1", "--claim",
         "(1+sqrt(5))/2", "--digits", "50"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "verified" in proc.stdout


def test_engines_are_registered_lazily():
    out = run_python(
        "import json, sys\n"
        "import search\n"
        "from search.base import engine_names, engine_class, executor_for, ENGINE_MODULES\n"
        "names = engine_names()\n"
        "before = [m for m in ENGINE_MODULES.values() if m in sys.modules]\n"
        "factory = engine_class('esma')\n"
        "fn = executor_for('cmf')\n"
        "after = sorted(m for m in ENGINE_MODULES.values() if m in sys.modules)\n"
        "print(json.dumps({'names': names, 'before': before, 'after': after,\n"
        "                  'factory': factory.__module__, 'fn': fn.__module__}))\n"
    )
    assert {"esma", "cmf", "evolve", "sdp_game"} <= set(out["names"])
    assert out["before"] == []
    assert out["after"] == ["search.cmf", "search.esma"]  # only what was asked for
    assert (out["factory"], out["fn"]) == ("search.esma", "search.cmf")


def test_a_fresh_worker_executes_a_task_of_a_lazy_engine():
    """A worker process that unpickles a Task finds its executor by the engine's name."""
    out = run_python(
        "import json, sys\n"
        "from search.base import Task, execute\n"
        "from solvers.errors import EngineError\n"
        "try:\n"
        "    execute(Task('no-such-engine', 'k'))\n"
        "except EngineError as exc:\n"
        "    error = str(exc)\n"
        "print(json.dumps({'error': error, 'loaded': 'search.sdp_game' in sys.modules}))\n"
    )
    assert "no-such-engine" in out["error"] and out["loaded"] is False


def test_unknown_engine_lists_the_lazy_ones():
    from search.base import make_engine
    from solvers.errors import EngineError

    with pytest.raises(EngineError, match="known engines: .*esma"):
        make_engine("no-such-engine", {})


def test_an_engine_module_that_is_missing_is_an_unknown_engine():
    from search import base
    from solvers.errors import EngineError

    base.register_engine_module("ghost-engine", "search.no_such_module_xyz")
    try:
        with pytest.raises(EngineError, match="ghost-engine"):
            base.make_engine("ghost-engine", {})
        with pytest.raises(EngineError, match="ghost-engine"):
            base.executor_for("ghost-engine")
    finally:
        base.ENGINE_MODULES.pop("ghost-engine", None)


def test_package_names_are_lazy_and_modules_are_not_shadowed():
    out = run_python(
        "import json, sys, types\n"
        "import discovery\n"
        "loaded = [m for m in ('discovery.verification', 'discovery.identification',\n"
        "                      'discovery.store')\n"
        "          if m in sys.modules]\n"
        "import discovery.verification as vm\n"
        "import discovery.identification as im\n"
        "from discovery import PCF, Store, identify, verify, verify_candidate\n"
        "print(json.dumps({\n"
        "    'loaded': loaded,\n"
        "    'verify': [type(verify).__name__, verify.__module__],\n"
        "    'identify': [type(identify).__name__, identify.__module__],\n"
        "    'modules': [isinstance(vm, types.ModuleType), isinstance(im, types.ModuleType),\n"
        "                vm.verify is verify, im.identify is identify,\n"
        "                discovery.verification is vm, discovery.verify is verify],\n"
        "    'evidence': vm.Evidence.__module__, 'pcf': PCF.__name__, 'store': Store.__name__,\n"
        "    'all': sorted(set(discovery.__all__) - set(dir(discovery))),\n"
        "}))\n"
    )
    assert out["loaded"] == []
    assert out["verify"] == ["function", "discovery.verification"]
    assert out["identify"] == ["function", "discovery.identification"]
    assert out["modules"] == [True] * 6
    assert (out["evidence"], out["pcf"], out["store"]) == ("discovery.verification", "PCF", "Store")
    assert out["all"] == []


def test_unknown_package_attribute_is_an_attribute_error():
    import discovery

    with pytest.raises(AttributeError, match="no_such_name"):
        discovery.no_such_name  # noqa: B018


def test_light_copies_of_constants_agree():
    """Option defaults spelled out to keep the store and the executors out of the start-up."""
    from discovery import executors, store
    from discovery.commands import db, run, verify

    assert db.DEFAULT_DB == verify.DEFAULT_DB == store.DEFAULT_DB
    assert db.STATUSES == store.STATUSES
    assert run.EXECUTOR_NAMES == executors.EXECUTORS


# --------------------------------------------------------------------------- fast coercion


def _params():
    import typer

    from discovery.cli import app

    root = typer.main.get_command(app)
    verify = root.commands["verify"]
    run = root.commands["run"]
    stats = root.commands["db"].commands["stats"]
    by_name = {p.name: p for p in [*verify.params, *run.params]}
    return {
        "int": by_name["digits"],  # min 1, max 1_000_000
        "intmin": by_name["max_depth"],  # min 32
        "str": by_name["claim"],
        "path": by_name["plot"],
        "float": by_name["hours"],
        "bool": by_name["json_"],
        "dbpath": next(p for p in stats.params if p.name == "db"),
    }


VALUES = ["5", "0", "1", "1000000", "1000001", "-3", "+5", "007", " 5", "5 ", "1.0", "1e3",
          "1_000", "", "abc", "٣", "nan", "inf", "-inf", "1.5", ".5", "5.", "-0", "1e400",
          "x.png", "-", 5, 5.0, 0, True, False]


def _outcome(runtime, value, param, ctx):
    from typer._click.exceptions import BadParameter

    try:
        got = runtime.coerce(value, param=param, ctx=ctx)
    except BadParameter as exc:
        return ("error", exc.format_message())
    return ("value", type(got).__name__, repr(got))  # (repr: nan == nan)


@pytest.mark.parametrize("kind", ["int", "intmin", "str", "path", "float", "bool", "dbpath"])
def test_fast_coercion_agrees_with_typer(kind, tmp_path):
    """The fast path returns what typer's pydantic coercion returns, or defers to it."""
    typer_coercion = pytest.importorskip("typer._coercion")
    import typer
    from typer._click import Context

    from discovery.cli import app
    from discovery.commands._common import _FastCoercion

    param = _params()[kind]
    fast = _FastCoercion.for_param(param)
    assert fast is not None
    slow = typer_coercion.build_runtime_param(param.type_descriptor)
    ctx = Context(typer.main.get_command(app))
    (tmp_path / "a dir").mkdir()
    for value in [*VALUES, str(tmp_path / "a dir"), Path("conjectures.db"), None]:
        assert _outcome(fast, value, param, ctx) == _outcome(slow, value, param, ctx), value
