"""The discovery workbench: verification, identification, the conjecture store, the runner.

Python API for notebooks::

    >>> from discovery import PCF, verify
    >>> verify(PCF("34n^3+51n^2+27n+5", "-n^6"), "6/zeta(3)", digits=50).verdict
    'verified'
    >>> from discovery import identify
    >>> identify(PCF("3n^2+3n+1", "-2n^4"), 60).relation
    '1/(2*catalan)'

``discovery.verify`` and ``discovery.identify`` are the functions; they are defined in the
modules :mod:`discovery.verification` and :mod:`discovery.identification`.

The public names are loaded on first use (PEP 562), so ``import discovery.cli`` does not
import the identification, the store or the engines.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from discovery.identification import Identification, identify
    from discovery.store import Store
    from discovery.verification import Evidence, verify
    from discovery.verifiers import verify_candidate
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
    "verify": "discovery.verification",
    "verify_candidate": "discovery.verifiers",
    "Evidence": "discovery.verification",
    "identify": "discovery.identification",
    "Identification": "discovery.identification",
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

def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
