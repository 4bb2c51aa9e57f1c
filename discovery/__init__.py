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
"""

from __future__ import annotations

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
