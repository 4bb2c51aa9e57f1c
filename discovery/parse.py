"""The safe parser, for the workbench layer (a re-export of :mod:`solvers.expr`).

Examples
--------
>>> polynomial_coefficients("2n^5(2n-1)")
(0, 0, 0, 0, 0, -2, 4)
>>> expression_to_text(parse_expression("8/(7*zeta(3))"))
'8/(7*zeta(3))'
"""

from __future__ import annotations

from solvers.constants import (
    CONSTANTS,
    FUNCTIONS,
    EvaluationError,
    UnknownConstantError,
    evaluate_constant,
    get_constant,
)
from solvers.expr import (
    ParseError,
    constant_expr,
    constants_in,
    evaluate_expression,
    expression_latex,
    expression_to_text,
    parse_expression,
    parse_polynomial,
    polynomial_coefficients,
)

__all__ = [
    "ParseError",
    "EvaluationError",
    "UnknownConstantError",
    "parse_polynomial",
    "polynomial_coefficients",
    "parse_expression",
    "evaluate_expression",
    "expression_to_text",
    "expression_latex",
    "constant_expr",
    "constants_in",
    "CONSTANTS",
    "FUNCTIONS",
    "get_constant",
    "evaluate_constant",
]
