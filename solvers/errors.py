"""The workbench's exception tree.

Every error the workbench raises on purpose derives from :class:`DiscoveryError`,
so a caller (the CLI, a notebook) can catch one class. The tree lives in
``solvers`` because it is the bottom layer; ``discovery`` re-exports it.
"""

from __future__ import annotations

__all__ = [
    "DiscoveryError",
    "ParseError",
    "DivergenceError",
    "PrecisionError",
    "StoreError",
    "EngineError",
    "UnknownConstantError",
    "EvaluationError",
    "ConservationError",
]


class DiscoveryError(Exception):
    """Base class of all errors raised on purpose by the workbench."""


class ParseError(DiscoveryError, ValueError):
    """User text could not be parsed; the message names the position and the problem.

    Attributes
    ----------
    text : str
        The text that was being parsed.
    position : int or None
        0-based character offset of the problem, when known.
    """

    def __init__(self, message: str, text: str = "", position: int | None = None):
        self.text = text
        self.position = position
        if position is not None:
            message = f"{message} (at position {position})"
        super().__init__(message)


class DivergenceError(DiscoveryError, ArithmeticError):
    """A continued fraction or walk does not converge (a zero denominator, no limit)."""


class PrecisionError(DiscoveryError, ArithmeticError):
    """The working precision is exhausted: more digits were asked of a number than it carries."""


class StoreError(DiscoveryError):
    """The conjecture store cannot be opened or written (not a store, newer schema, ...)."""


class EngineError(DiscoveryError, ValueError):
    """A search engine was given a configuration it cannot run."""


class UnknownConstantError(DiscoveryError, KeyError):
    """A constant name that is neither a catalogue name, an alias nor a family member."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class EvaluationError(DiscoveryError, ArithmeticError):
    """No real value: a free variable, a pole, a complex value, arguments out of range..."""


class ConservationError(DiscoveryError, ValueError):
    """A matrix field required to be conservative is not (the message names the axes)."""
