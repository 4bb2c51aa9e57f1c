"""Rational certificates of three-point bounds and their exact verification.

A :class:`ThreePointCertificate` holds a :class:`~solvers.packing.three_point.Formulation`
(dimension, degrees, exact :math:`u_0, s`, multipliers), the rational Laguerre coefficients of
:math:`P_2`, integer *factors* :math:`L_k` of the kernel blocks :math:`F_k = L_k L_k^T / 4^e` and
integer factors :math:`M_g` of the Gram matrices of the SOS certificate of (B). Storing factors
makes every block positive semidefinite by construction; rounding errors all land in the
remainder :math:`\\rho` of the SOS identity, which is checked instead.

:func:`verify_three_point` checks, in exact rational arithmetic:

* (B): :math:`\\rho = -p - \\sum_g \\sigma_g g` (shell coordinates :math:`(\\alpha, \\beta, c)`,
  all in :math:`[-1, 1]` on the region of (B)) satisfies :math:`\\rho_0 \\ge
  \\sum_{e \\ne 0} |\\rho_e|`, so :math:`\\rho \\ge 0` and :math:`p \\le -\\rho \\le 0` there;
* (A) on :math:`[u_0, s]`: :math:`P_2(u) + e^{u/2} Q(u) \\le 0` with :math:`Q(u) = q(u/s)`;
  :math:`e^{u/2}` is replaced by a rational Taylor polynomial :math:`S` with
  :math:`|e^{u/2} - S| \\le \\delta` (arb), and :math:`P_2 + SQ + \\delta \\sum_e |q_e|` has
  no root in :math:`[u_0, s]` and is negative at :math:`u_0` (Sturm);
* :math:`P_2 < 0` on :math:`[s, \\infty)` and :math:`\\hat P_2 > 0` on :math:`[0, \\infty)`
  (leading coefficients and Sturm counts, as for the LP certificates);

and encloses the bound :math:`(u_0/8)^{n/2}(P_2(0) + F_0[0,0]) / (\\Gamma(n/2+1)\\hat P_2(0))`
in an arb ball whose upper end, rounded up, is the rigorous bound.

Examples
--------
>>> S, d = exp_taylor(Fraction(9), Fraction(10))
>>> abs(float(S(fmpq(19, 2))) - math.exp(19 / 4)) < 1e-9, d < Fraction(1, 10**12)
(True, True)
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from flint import arb, fmpq, fmpq_poly, fmpz_mat

from solvers.errors import DiscoveryError
from solvers.keys import canonical_key
from solvers.packing.certificate import VerifiedBound, _arb_fraction, enclosed_bound
from solvers.packing.exact import evaluate, roots_between
from solvers.packing.laguerre import (
    alpha_of_dimension,
    as_fraction,
    fourier_coefficients,
    to_monomial,
)
from solvers.packing.tp_model import Formulation

__all__ = [
    "Factor",
    "ThreePointCertificate",
    "verify_three_point",
    "certificate_from_numeric",
    "exp_taylor",
    "FORMAT",
]

FORMAT = "three-point-certificate"
VERSION = 3


def _fq(x: Fraction) -> fmpq:
    return fmpq(x.numerator, x.denominator)


def _text(x: Fraction) -> str:
    return f"{x.numerator}/{x.denominator}" if x.denominator != 1 else f"{x.numerator}"


@dataclass(frozen=True)
class Factor:
    """An integer matrix ``L`` (rows x rank) with scale ``2**-exponent``; the exact PSD matrix
    it stands for is :math:`L L^T / 4^{e}`.

    Examples
    --------
    >>> F = Factor.from_psd(np.array([[2.0, 1.0], [1.0, 2.0]]))
    >>> G = F.gram()
    >>> round(float(G[0][0]), 12), round(float(G[0][1]), 12), G[0][1] == G[1][0]
    (2.0, 1.0, True)
    """

    exponent: int
    rows: tuple[tuple[int, ...], ...]

    @classmethod
    def from_psd(cls, Q: np.ndarray, prec: int = 52, rel_cut: float = 1e-14) -> Factor:
        """Round a (nearly) PSD float matrix: eigenvalues clipped at 0, columns below
        ``rel_cut`` of the largest dropped, entries rounded to ``prec`` bits."""
        Q = 0.5 * (np.asarray(Q, float) + np.asarray(Q, float).T)
        if Q.size == 0:
            return cls(0, ())
        w, V = np.linalg.eigh(Q)
        top = max(float(w.max()), 0.0)
        keep = w > rel_cut * top if top > 0 else np.zeros_like(w, bool)
        L = V[:, keep] * np.sqrt(w[keep])
        big = float(np.abs(L).max()) if L.size else 0.0
        if big == 0.0:
            return cls(0, tuple(() for _ in range(Q.shape[0])))
        e = prec - math.frexp(big)[1]
        Li = np.rint(np.ldexp(L, e)).astype(object)
        return cls(e, tuple(tuple(int(v) for v in row) for row in Li))

    @property
    def size(self) -> int:
        return len(self.rows)

    def gram_integer(self) -> fmpz_mat:
        """:math:`L L^T` as an integer matrix (to be divided by :math:`4^e`)."""
        if not self.rows or not self.rows[0]:
            return fmpz_mat(self.size, self.size)
        L = fmpz_mat([list(r) for r in self.rows])
        return L * L.transpose()

    def gram(self) -> list[list[Fraction]]:
        """The exact PSD matrix :math:`L L^T / 4^e`."""
        G = self.gram_integer()
        d = Fraction(1, 4**self.exponent) if self.exponent >= 0 else Fraction(4**-self.exponent)
        return [[int(G[i, j]) * d for j in range(self.size)] for i in range(self.size)]

    def to_dict(self) -> dict:
        return {"exponent": self.exponent, "rows": [list(r) for r in self.rows]}

    @classmethod
    def from_dict(cls, d: Mapping) -> Factor:
        return cls(int(d["exponent"]), tuple(tuple(int(v) for v in r) for r in d["rows"]))


@dataclass(frozen=True)
class ThreePointCertificate:
    """Exact data of a three-point bound (see the module docstring).

    Attributes
    ----------
    form : Formulation
    coeffs : tuple of Fraction
        Laguerre coefficients of :math:`P_2`.
    kernel : tuple of Factor
        :math:`F_k = L_k L_k^T / 4^e`, ``k = 0..kmax``.
    grams : tuple of Factor
        Gram factors of :math:`\\sigma_g`, in the order of ``form.sos_terms()``.
    meta : dict
        Provenance (solver, float value, time); not used by the verifier.
    """

    form: Formulation
    coeffs: tuple[Fraction, ...]
    kernel: tuple[Factor, ...]
    grams: tuple[Factor, ...]
    meta: Mapping = field(default_factory=dict, compare=False)

    @property
    def key(self) -> str:
        """Canonical key of the formulation (the exact data is the proof, not the identity)."""
        d = self.form.describe()
        return canonical_key("packing-3pt", {k: d[k] for k in (
            "dimension", "d2", "kmax", "m", "sos_degree", "u0", "s", "multipliers")})

    def to_dict(self) -> dict:
        f = self.form
        return {
            "format": FORMAT,
            "version": VERSION,
            "statement": "density(R^n) <= (u0/8)^(n/2) (P2(0) + F_0[0,0]) / (Gamma(n/2+1) "
                         "P2^(0)); see solvers/packing/three_point.py",
            "dimension": f.dimension,
            "d2": f.d2,
            "kmax": f.kmax,
            "m": f.m,
            "sos_degree": f.sos_degree,
            "u0": _text(f.u0),
            "s": _text(f.s),
            "multipliers": [list(mm) for mm in f.multipliers],
            "f2_laguerre": [_text(c) for c in self.coeffs],
            "kernel_factors": [F.to_dict() for F in self.kernel],
            "gram_factors": [G.to_dict() for G in self.grams],
            "meta": dict(self.meta),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> ThreePointCertificate:
        if d.get("format") != FORMAT:
            raise DiscoveryError(f"not a three-point certificate (format {d.get('format')!r})")
        if d.get("version") != VERSION:
            raise DiscoveryError(f"unsupported three-point certificate version "
                                 f"{d.get('version')!r} (this reader: {VERSION})")
        form = Formulation(int(d["dimension"]), int(d["d2"]), int(d["kmax"]), int(d["m"]),
                           as_fraction(d["u0"]), as_fraction(d["s"]),
                           tuple(tuple(mm) for mm in d["multipliers"]), int(d["sos_degree"]))
        return cls(form, tuple(as_fraction(c) for c in d["f2_laguerre"]),
                   tuple(Factor.from_dict(F) for F in d["kernel_factors"]),
                   tuple(Factor.from_dict(G) for G in d["gram_factors"]),
                   dict(d.get("meta", {})))

    def __repr__(self) -> str:
        return f"ThreePointCertificate({self.form!r})"


def certificate_from_numeric(form: Formulation, sol, meta: Mapping | None = None, *,
                             drop_kernel: bool = False) -> ThreePointCertificate:
    """Round a :class:`~solvers.packing.tp_sdp.NumericSolution` to exact data (binary
    rationals for :math:`P_2`, integer factors for every PSD block).

    With ``drop_kernel`` (or a numerically vanishing kernel) :math:`f_3 = 0`: the certificate
    is then an LP certificate in disguise, useful when a tiny kernel's SOS identity cannot
    close against the rounding noise."""
    coeffs = tuple(Fraction(float(c)) for c in sol.c2)
    if not drop_kernel and float(sol.blocks[0][0, 0]) > 1e-10:
        kernel = tuple(Factor.from_psd(F) for F in sol.blocks)
        grams = tuple(Factor.from_psd(Q) for Q in sol.grams)
    else:   # the kernel did not help: drop it (then p = 0 and (B) holds trivially)
        kernel = tuple(Factor.from_psd(0 * F) for F in sol.blocks)
        grams = tuple(Factor.from_psd(0 * Q) for Q in sol.grams)
    info = {"float_value": float(sol.value), "solver_status": sol.status,
            "cutting_plane_rounds": sol.rounds, **dict(meta or {})}
    return ThreePointCertificate(form, coeffs, kernel, grams, info)


def exp_taylor(lo: Fraction, hi: Fraction, terms: int = 40) -> tuple[fmpq_poly, Fraction]:
    """Rational polynomial ``S`` and ``delta`` with ``|exp(u/2) - S(u)| <= delta`` on [lo, hi]."""
    c0 = (lo + hi) / 2
    e_c = (arb(_fq(c0)) / 2).exp()
    E = Fraction(round(float(e_c.mid()) * 2**52), 2**52)           # rational near e^{c0/2}
    E_err = _arb_fraction(abs(e_c - arb(_fq(E))).upper())
    x = fmpq_poly([_fq(-c0 / 2), fmpq(1, 2)])                     # (u - c0)/2
    S = fmpq_poly([0])
    term = fmpq_poly([1])
    for j in range(terms):
        S += term / math.factorial(j)
        term = term * x
    S = S * _fq(E)
    h = (hi - lo) / 4                                              # max |u - c0| / 2
    # |e^{c0/2} e^x - E T(x)| <= |e^{c0/2} - E| e^h + e^{c0/2} h^N e^h / N!
    e_c_hi = _arb_fraction(e_c.upper())
    eh = _arb_fraction(arb(_fq(h)).exp().upper())
    delta = E_err * eh + e_c_hi * h**terms * eh / math.factorial(terms)
    return S, delta


def _kernel_blocks(cert: ThreePointCertificate) -> list[list[list[Fraction]]]:
    return [F.gram() for F in cert.kernel]


def _kernel_shell(form: Formulation, blocks) -> dict:
    """:math:`p` in shell coordinates (exact)."""
    p: dict = {}
    for k, F in enumerate(blocks):
        for i, row in enumerate(F):
            for j, v in enumerate(row):
                if v:
                    for mono, c in form.kernel_term(k, i, j).items():
                        p[mono] = p.get(mono, 0) + v * c
    return p


def _diagonal_q(blocks) -> dict[int, Fraction]:
    """:math:`q(a) = 2p(a, 0, 0) + p(a, a, a) = \\sum_e q_e a^e` (exact)."""
    q: dict[int, Fraction] = {}
    for k, F in enumerate(blocks):
        for i, row in enumerate(F):
            for j, v in enumerate(row):
                if not v:
                    continue
                q[i + j + k] = q.get(i + j + k, 0) + v
                if k == 0 and j == 0:
                    q[i] = q.get(i, 0) + v
                if k == 0 and i == 0:
                    q[j] = q.get(j, 0) + v
    return q


def sos_remainder(cert: ThreePointCertificate, blocks=None) -> dict:
    """:math:`\\rho = -p - \\sum_g \\sigma_g g` in shell coordinates (exact)."""
    form = cert.form
    if blocks is None:
        blocks = _kernel_blocks(cert)
    rho = {mono: -v for mono, v in _kernel_shell(form, blocks).items()}
    terms = form.sos_terms()
    if len(cert.grams) != len(terms):
        raise DiscoveryError(f"{len(cert.grams)} Gram factors for {len(terms)} SOS terms")
    for (basis, poly), G in zip(terms, cert.grams, strict=True):
        if G.size != len(basis):
            raise DiscoveryError(f"Gram factor of size {G.size} for a basis of {len(basis)}")
        Gi = G.gram_integer()
        sigma: dict = {}
        for i, bi in enumerate(basis):
            for j, bj in enumerate(basis):
                v = int(Gi[i, j])
                if v:
                    e = (bi[0] + bj[0], bi[1] + bj[1], bi[2] + bj[2])
                    sigma[e] = sigma.get(e, 0) + v
        scale = Fraction(1, 4**G.exponent) if G.exponent >= 0 else Fraction(4**-G.exponent)
        for e, v in sigma.items():
            for (x, y, z), c in poly.items():
                mono = (e[0] + x, e[1] + y, e[2] + z)
                rho[mono] = rho.get(mono, 0) - v * scale * c
    return {k: v for k, v in rho.items() if v}


def verify_three_point(cert: ThreePointCertificate) -> VerifiedBound:
    """Check every condition of the three-point bound exactly (see the module docstring)."""
    t0 = time.perf_counter()
    form = cert.form
    n, u0, s = form.dimension, form.u0, form.s
    failures: list[str] = []
    if len(cert.kernel) != form.kmax + 1 or any(F.size != form.m + 1 for F in cert.kernel):
        raise DiscoveryError("kernel factors do not match the formulation")
    if len(cert.coeffs) != form.d2 + 1:
        raise DiscoveryError(f"{len(cert.coeffs)} Laguerre coefficients for d2 = {form.d2}")
    blocks = _kernel_blocks(cert)
    # (B)
    rho = sos_remainder(cert, blocks)
    rho0 = rho.get((0, 0, 0), Fraction(0))
    slack = rho0 - sum(abs(v) for e, v in rho.items() if e != (0, 0, 0))
    if slack < 0:
        failures.append(f"(B): the SOS identity does not close (remainder bound "
                        f"{float(slack):.3e} < 0)")
    # f2 and its Fourier transform
    alpha = alpha_of_dimension(n)
    P = to_monomial(cert.coeffs, alpha)
    Ph = to_monomial(fourier_coefficients(cert.coeffs), alpha)
    p0, ph0 = evaluate(P, 0), evaluate(Ph, 0)
    if ph0 <= 0 or Ph.leading_coefficient() <= 0 or roots_between(Ph, 0, None) != 0:
        failures.append("f2^ is not positive on [0, oo)")
    if evaluate(P, s) >= 0 or P.leading_coefficient() >= 0 or roots_between(P, s, None) != 0:
        failures.append("f2 is not negative on [R, oo)")
    # (A) on [u0, s]
    q = _diagonal_q(blocks)
    Q = fmpq_poly([0])
    for e, v in q.items():
        Q += fmpq_poly([0] * e + [_fq(v / s**e)])
    S, delta = exp_taylor(u0, s)
    H = P + Q * S + _fq(delta * sum(abs(v) for v in q.values()))
    if evaluate(H, u0) >= 0 or roots_between(H, u0, s) != 0:
        failures.append("(A): f2 + f3 terms are not negative on [r, R]")
    return enclosed_bound(
        n, u0, p0 + blocks[0][0][0], ph0, failures,
        "exact: SOS remainder (rationals), Sturm sequences (fmpq_poly), arb enclosure", t0)
