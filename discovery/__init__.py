"""The discovery workbench: verification, identification, the conjecture store, the runner.

Python API for notebooks::

    >>> from discovery import PCF, verify
    >>> verify(PCF("34n^3+51n^2+27n+5", "-n^6"), "6/zeta(3)", digits=50).verdict
    'verified'

Names are imported lazily, so ``import discovery`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

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

_WHERE = {
    "PCF": "solvers.continued_fractions",
    "verify": "discovery.verify",
    "verify_candidate": "discovery.verify",
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


def __getattr__(name: str) -> Any:
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'discovery' has no attribute {name!r}") from None
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
