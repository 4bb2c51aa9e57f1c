"""The discovery workbench: verification, identification, the conjecture store, the runner.

Python API for notebooks::

    >>> from discovery import PCF, verify
    >>> verify(PCF("34n^3+51n^2+27n+5", "-n^6"), "6/zeta(3)", digits=50).verdict
    'verified'
    >>> from discovery import identify
    >>> identify(PCF("3n^2+3n+1", "-2n^4"), 60).relation
    '1/(2*catalan)'

``verify`` and ``identify`` are the functions (the modules of the same names stay reachable
as ``discovery.verify``/``discovery.identify`` through ``sys.modules``-based imports such as
``from discovery.verify import Evidence``).

The public names are loaded on first use (PEP 562), so ``import discovery.cli`` does not
import the identification, the store or the engines.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from discovery.identify import Identification, identify
    from discovery.store import Store
    from discovery.verifiers import verify_candidate
    from discovery.verify import Evidence, verify
    from solvers.continued_fractions import PCF
    from solvers.errors import (
        DiscoveryError,
        DivergenceError,
        EngineError,
        ParseError,
        PrecisionError,
        StoreError,
    )
    from solvers.expr import evaluate_expression, parse_expression, parse_polynomial

__all__ = [
    "PCF",
    "verify",
    "verify_candidate",
    "Evidence",
    "identify",
    "Identification",
    "Store",
    "parse_expression",
    "parse_polynomial",
    "evaluate_expression",
    "DiscoveryError",
    "ParseError",
    "DivergenceError",
    "PrecisionError",
    "StoreError",
    "EngineError",
]

#: public name -> the module defining it (imported on first access).
_LAZY = {
    "PCF": "solvers.continued_fractions",
    "verify": "discovery.verify",
    "verify_candidate": "discovery.verifiers",
    "Evidence": "discovery.verify",
    "identify": "discovery.identify",
    "Identification": "discovery.identify",
    "Store": "discovery.store",
    "parse_expression": "solvers.expr",
    "parse_polynomial": "solvers.expr",
    "evaluate_expression": "solvers.expr",
    "DiscoveryError": "solvers.errors",
    "ParseError": "solvers.errors",
    "DivergenceError": "solvers.errors",
    "PrecisionError": "solvers.errors",
    "StoreError": "solvers.errors",
    "EngineError": "solvers.errors",
}

#: Submodules that share their name with a public function: the package attribute is the
#: function, also after the submodule is imported (the import system sets the attribute
#: of a package to each submodule it loads; :class:`_Package` puts the function back).
_SHADOWED = ("verify", "identify")


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """The package's module type: ``discovery.verify`` stays the function once the module
    ``discovery.verify`` is imported (as it always was with eager imports)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            value = getattr(value, name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
