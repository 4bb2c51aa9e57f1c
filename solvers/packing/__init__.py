"""Sphere-packing upper bounds: Cohn–Elkies LP bounds with exact certificates, and a
reduced-degree three-point SDP bound.

Pure mathematics: no I/O (certificates serialise to JSON-able dicts; :mod:`discovery` stores
them). The three-point module needs cvxpy and is imported lazily.
"""

from solvers.packing.certificate import (
    LPCertificate,
    VerifiedBound,
    bound_ball,
    verify_lp_certificate,
)
from solvers.packing.laguerre import (
    alpha_of_dimension,
    fourier_coefficients,
    laguerre_poly,
    to_monomial,
)
from solvers.packing.lp import LPResult, default_degree, degree_for_terms, lp_bound, solve_lp
from solvers.packing.root_forcing import ForcedLP, newton_lp
from solvers.packing.sampled_lp import SampledLP, sampled_lp

__all__ = [
    "LPCertificate",
    "VerifiedBound",
    "bound_ball",
    "verify_lp_certificate",
    "alpha_of_dimension",
    "fourier_coefficients",
    "laguerre_poly",
    "to_monomial",
    "LPResult",
    "default_degree",
    "degree_for_terms",
    "lp_bound",
    "solve_lp",
    "ForcedLP",
    "newton_lp",
    "SampledLP",
    "sampled_lp",
]
