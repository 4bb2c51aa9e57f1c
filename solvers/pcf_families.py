"""Normal forms of polynomial continued fractions: one representative per family.

Many PCFs are the same formula written differently. The transformations below carry no new
mathematics; each comes with the exact Möbius map between the limits, written as a tuple
``(A, B, C, D)`` meaning ``member = (A*y + B)/(C*y + D)`` where ``y`` is the limit of the image:

* **inflation** by an integer polynomial ``c(n)`` (scaling by a constant and a change of sign
  are the constant cases): ``PCF(c(n) a(n), c(n) c(n-1) b(n))`` has limit ``c(0)`` times the
  limit of ``PCF(a, b)``; map ``(c(0), 0, 0, 1)``;
* **shift** ``n -> n + k``: for ``k >= 0``, ``PCF(a, b)`` is the Möbius image of
  ``PCF(a(n+k), b(n+k))`` under ``prod_{j<k} [[a(j), b(j+1)], [1, 0]]`` (the first ``k``
  levels); a negative ``k`` prepends levels and inverts that matrix.

:func:`normal_form` deflates a PCF as far as integer polynomials allow, makes the leading
coefficient of ``a`` positive and picks a canonical shift, and returns the result with the
composed map. It is *covariant*: PCFs that differ by these transformations (within the window
of shifts it inspects) have the same normal form, so the normal form's key names their family.
The converse is not claimed: two PCFs with different normal forms may still be related (for
instance by a coboundary, which is a separate, stronger relation).

Only PCFs that do not terminate are transformed (``b(n) != 0`` for every ``n >= 1``): a
terminating PCF has a rational limit and is its own normal form.

The order "simpler than" (:func:`simplicity_key`) is: lower total degree, then lower degree of
``b``, then smaller sum of absolute coefficients, then fewer negative coefficients, then the
coefficient tuples.

Examples
--------
>>> from solvers.continued_fractions import PCF
>>> nf = normal_form(PCF("8n+12", "4"))         # 2 * PCF(4n+6, 1): a scaled shift of (4n+2, 1)
>>> nf.pcf, nf.mobius, nf.steps
(PCF(4n+2, 1), (0, 2, 1, -2), ('deflate by 2', 'shift n -> n-1'))
>>> check_exact(PCF("8n+12", "4"), nf)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

import flint

from solvers.continued_fractions import PCF

__all__ = [
    "Mobius",
    "NormalForm",
    "normal_form",
    "check_exact",
    "simplicity_key",
    "mobius_compose",
    "mobius_invert",
    "mobius_normalise",
    "mobius_apply",
    "is_terminating",
]

Mobius = tuple[int, int, int, int]
IDENTITY: Mobius = (1, 0, 0, 1)

#: Shifts inspected on either side of the centre of ``a`` (or ``b``), beyond the degrees.
SHIFT_WINDOW = 2
#: Largest |coefficient| (in bits) for which the normal form is computed; bigger PCFs are
#: their own normal form (no factoring of huge polynomials).
MAX_COEFF_BITS = 2000


@dataclass(frozen=True)
class NormalForm:
    """The canonical representative of a PCF's family and the map to it.

    Attributes
    ----------
    pcf : PCF
        The representative.
    mobius : tuple of int
        ``(A, B, C, D)``: the original limit is ``(A y + B)/(C y + D)``, ``y`` the
        representative's limit.
    shift : int
        The representative is the (deflated) original shifted by ``n -> n + shift``.
    steps : tuple of str
        What was done, in words (``"deflate by 2"``, ``"shift n -> n-1"``, ...).
    """

    pcf: PCF
    mobius: Mobius
    shift: int
    steps: tuple[str, ...] = ()

    @property
    def is_identity(self) -> bool:
        """True when the PCF is already its own normal form."""
        return not self.steps


# --------------------------------------------------------------------------- Möbius maps


def mobius_normalise(m: Any) -> Mobius:
    """Divide ``(A, B, C, D)`` by the gcd of its entries; first non-zero entry positive.

    Examples
    --------
    >>> mobius_normalise((-2, 4, 0, -2))
    (1, -2, 0, 1)
    """
    A, B, C, D = (int(v) for v in m)
    g = math.gcd(math.gcd(A, B), math.gcd(C, D))
    if g == 0:
        raise ValueError("the zero matrix is not a Möbius map")
    first = next(v for v in (A, B, C, D) if v)
    if first < 0:
        g = -g
    return (A // g, B // g, C // g, D // g)


def mobius_compose(m1: Any, m2: Any) -> Mobius:
    """``m1 ∘ m2`` (apply ``m2`` first), normalised.

    Examples
    --------
    >>> mobius_compose((2, 0, 0, 1), (1, 1, 0, 1))     # 2(y + 1)
    (2, 2, 0, 1)
    """
    A, B, C, D = m1
    E, F, G, H = m2
    return mobius_normalise((A * E + B * G, A * F + B * H, C * E + D * G, C * F + D * H))


def mobius_invert(m: Any) -> Mobius:
    """The inverse map (the adjugate matrix), normalised.

    Examples
    --------
    >>> mobius_invert((2, 2, 0, 1))                     # y = x/2 - 1
    (1, -2, 0, 2)
    """
    A, B, C, D = m
    if A * D - B * C == 0:
        raise ValueError(f"Möbius map {tuple(m)} is singular")
    return mobius_normalise((D, -B, -C, A))


def mobius_apply(m: Any, y: Any) -> Any:
    """``(A y + B)/(C y + D)`` for a number ``y`` (Fraction, int, mpf, ...)."""
    A, B, C, D = m
    return (A * y + B) / (C * y + D)


# --------------------------------------------------------------------------- polynomials


def _strip(c: Any) -> tuple[int, ...]:
    c = [int(v) for v in c]
    while len(c) > 1 and c[-1] == 0:
        c.pop()
    return tuple(c) if c else (0,)


def _fz(c: tuple[int, ...]) -> Any:
    return flint.fmpz_poly(list(c))


def _coeffs(f: Any) -> tuple[int, ...]:
    return _strip(int(v) for v in f.coeffs()) if f.degree() >= 0 else (0,)


def _divexact(f: Any, g: Any) -> Any | None:
    if g.is_zero():
        return None
    q, r = divmod(f, g)
    if not r.is_zero() or q * g != f:
        return None
    return q


def _shift_poly(c: tuple[int, ...], k: int) -> tuple[int, ...]:
    """Coefficients of ``f(n + k)``."""
    if len(c) == 1 or k == 0:
        return c
    return _coeffs(_fz(c)(flint.fmpz_poly([k, 1])))


def _integer_roots(c: tuple[int, ...]) -> list[int]:
    f = _fz(c)
    if f.is_zero() or f.degree() < 1:
        return []
    roots = []
    for g, _ in f.factor()[1]:
        if g.degree() == 1:
            u, v = int(g[1]), int(g[0])  # u n + v
            if v % u == 0:
                roots.append(-v // u)
    return roots


def is_terminating(pcf: PCF) -> bool:
    """True when ``b(n) = 0`` for some ``n >= 1`` (the PCF is finite: its limit is rational).

    Examples
    --------
    >>> is_terminating(PCF("n", "n - 3")), is_terminating(PCF("2n+1", "n^2"))
    (True, False)
    """
    b = _strip(pcf.b)
    if b == (0,):
        return True
    return any(r >= 1 for r in _integer_roots(b))


def simplicity_key(pcf: PCF) -> tuple:
    """Sort key: simpler PCFs first (lower degrees, then smaller coefficients).

    Examples
    --------
    >>> sorted([PCF("4n+2", 1), PCF("4n-2", 1), PCF(2, 1)], key=simplicity_key)
    [PCF(2, 1), PCF(4n+2, 1), PCF(4n-2, 1)]
    """
    return _key(_strip(pcf.a), _strip(pcf.b))


def _key(a: tuple[int, ...], b: tuple[int, ...]) -> tuple:
    height = sum(abs(v) for v in a) + sum(abs(v) for v in b)
    negatives = sum(v < 0 for v in a) + sum(v < 0 for v in b)
    return (len(a) + len(b), len(b), height, negatives, a, b)


# --------------------------------------------------------------------------- normal form


def _level(a: tuple[int, ...], b: tuple[int, ...], j: int) -> Mobius:
    """``[[a(j), b(j+1)], [1, 0]]``: ``y_j = a(j) + b(j+1)/y_{j+1}``."""
    return (_eval(a, j), _eval(b, j + 1), 1, 0)


def _eval(c: tuple[int, ...], n: int) -> int:
    v = 0
    for coeff in reversed(c):
        v = v * n + coeff
    return v


def _shift_map(a: tuple[int, ...], b: tuple[int, ...], k: int) -> Mobius:
    """Map from the limit of ``PCF(a(n+k), b(n+k))`` to the limit of ``PCF(a, b)``."""
    m: Mobius = IDENTITY
    if k >= 0:
        for j in range(k):
            m = mobius_compose(m, _level(a, b, j))
        return m
    a2, b2 = _shift_poly(a, k), _shift_poly(b, k)  # the longer PCF, which starts earlier
    for j in range(-k):
        m = mobius_compose(m, _level(a2, b2, j))
    return mobius_invert(m)


def _deflate_content(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    """Largest ``λ > 0`` with ``λ | a`` and ``λ² | b`` (coefficient-wise).

    The common content is split into its primes below 2^32 and one cofactor (FLINT's smooth
    factorisation: fast for any size); a cofactor that is not a prime power is tried whole.
    """
    ca = math.gcd(*a)
    cb = math.gcd(*b)
    g = math.gcd(ca, cb)
    if g <= 1:
        return 1
    lam = 1
    for p, e in flint.fmpz(g).factor_smooth(32):
        p = int(p)
        for _ in range(int(e)):
            if ca % (lam * p) or cb % (lam * p) ** 2:
                break
            lam *= p
    return lam


def _deflate_polys(fa: Any, fb: Any) -> tuple[Any, Any, list[Any]]:
    """Deflate by every irreducible factor of ``a`` that also deflates ``b``; the factors used."""
    used: list[Any] = []
    if fa.is_zero() or fa.degree() < 1:
        return fa, fb, used
    for f, mult in fa.factor()[1]:
        if f.degree() < 1:
            continue
        f_prev = f(flint.fmpz_poly([-1, 1]))
        for _ in range(mult):
            qa = _divexact(fa, f)
            qb = _divexact(fb, f * f_prev)
            if qa is None or qb is None:
                break
            fa, fb = qa, qb
            used.append(f)
    return fa, fb, used


def _no_root_from(f: Any, lowest: int) -> bool:
    """True when ``f`` has no integer root ``>= lowest``."""
    return all(r < lowest for r in _integer_roots(_coeffs(f)))


def _factor_moves(a: tuple[int, ...], b: tuple[int, ...]) -> list[tuple]:
    """Equivalence transformations by ``c(n) = f(n+1)/f(n)`` or ``f(n-1)/f(n)``, ``f | a``.

    They keep the degrees (a factor of ``a`` moves one step), keep every ``c(n)`` finite and
    non-zero for ``n >= 0``, and multiply the limit by ``c(0)``. Returns
    ``(a', b', map)`` with the old limit ``= map(new limit)``.
    """
    fa, fb = _fz(a), _fz(b)
    out: list[tuple] = []
    if fa.is_zero() or fa.degree() < 1:
        return out
    up, down, down2 = (flint.fmpz_poly([1, 1]), flint.fmpz_poly([-1, 1]),
                       flint.fmpz_poly([-2, 1]))
    for f, _ in fa.factor()[1]:
        if f.degree() < 1:
            continue
        f_up, f_down, f_down2 = f(up), f(down), f(down2)
        # c(n) = f(n+1)/f(n): a' = a f(n+1)/f(n), b' = b f(n+1)/f(n-1)
        qa, qb = _divexact(fa * f_up, f), _divexact(fb * f_up, f_down)
        if qa is not None and qb is not None and _no_root_from(f, 0):
            out.append((_coeffs(qa), _coeffs(qb), (int(f(0)), 0, 0, int(f(1)))))
        # c(n) = f(n-1)/f(n): a' = a f(n-1)/f(n), b' = b f(n-2)/f(n)
        qa, qb = _divexact(fa * f_down, f), _divexact(fb * f_down2, f)
        if qa is not None and qb is not None and _no_root_from(f, -1):
            out.append((_coeffs(qa), _coeffs(qb), (int(f(0)), 0, 0, int(f(-1)))))
    return out


#: Factor moves explored from the deflated PCF (breadth first), and at most this many forms.
MOVE_DEPTH = 3
MAX_FORMS = 48


@lru_cache(maxsize=65536)
def _normal_form(a: tuple[int, ...], b: tuple[int, ...]) -> NormalForm:
    pcf = PCF(a, b)
    too_big = max(abs(v) for v in a + b).bit_length() > MAX_COEFF_BITS
    if too_big or is_terminating(pcf) or a == (0,):
        return NormalForm(pcf, IDENTITY, 0)
    steps: list[str] = []
    m: Mobius = IDENTITY
    # 1. constant content: PCF(λa', λ²b') = λ PCF(a', b')
    lam = _deflate_content(a, b)
    if lam > 1:
        a = tuple(v // lam for v in a)
        b = tuple(v // (lam * lam) for v in b)
        m = mobius_compose(m, (lam, 0, 0, 1))
        steps.append(f"deflate by {lam}")
    # 2. polynomial factors c(n) of a with c(n)c(n-1) | b: limit scales by c(0)
    a, b, m, more = _deflated(a, b, m)
    steps += more
    # 3. every fully deflated form reachable by moving factors of a (rational equivalences),
    #    each at its canonical sign and shift: the simplest one is the normal form.
    #    A move's validity depends on where the PCF starts, so moves are tried both on each
    #    form as reached and at its canonical shift.
    raw = (a, b, m, 0, tuple(steps))
    best = _canonical_position(*raw)
    seen = {(a, b), (best[0], best[1])}
    frontier = [raw, best]
    for _ in range(MOVE_DEPTH):
        nxt = []
        for a1, b1, m1, k1, st1 in frontier:
            for a2, b2, mm in _factor_moves(a1, b1):
                if is_terminating(PCF(a2, b2)) or len(seen) >= MAX_FORMS:
                    continue
                a3, b3, m3, more = _deflated(a2, b2, mobius_compose(m1, mm))
                word = f"move a factor of a: {PCF(a1, 1).a_text} -> {PCF(a2, 1).a_text}"
                form = (a3, b3, m3, k1, (*st1, word, *more))
                canon = _canonical_position(*form)
                for f in (form, canon):
                    if (f[0], f[1]) not in seen:
                        seen.add((f[0], f[1]))
                        nxt.append(f)
                if _key(canon[0], canon[1]) < _key(best[0], best[1]):
                    best = canon
        frontier = nxt
    a, b, m, k, st = best
    return NormalForm(PCF(a, b), mobius_normalise(m), k, st)


def _deflated(a: tuple[int, ...], b: tuple[int, ...], m: Mobius) -> tuple:
    fa, fb, used = _deflate_polys(_fz(a), _fz(b))
    steps = []
    for f in used:
        m = mobius_compose(m, (int(f(0)), 0, 0, 1))
        steps.append(f"deflate by {PCF(_coeffs(f), 1).a_text}")
    return _coeffs(fa), _coeffs(fb), m, steps


def _canonical_position(a: tuple[int, ...], b: tuple[int, ...], m: Mobius, shift: int,
                        steps: tuple[str, ...]) -> tuple:
    """Sign and shift made canonical: ``(a, b, map, total shift, steps)``."""
    st = list(steps)
    if a[-1] < 0:  # PCF(-a, b) = -PCF(a, b)
        a = tuple(-v for v in a)
        m = mobius_compose(m, (-1, 0, 0, 1))
        st.append("negate a")
    k = _best_shift(a, b)
    if k:
        m = mobius_compose(m, _shift_map(a, b, k))
        a, b = _shift_poly(a, k), _shift_poly(b, k)
        st.append(f"shift n -> n{k:+d}")
    return a, b, m, shift + k, tuple(st)


def _centre(c: tuple[int, ...]) -> Fraction | None:
    d = len(c) - 1
    if d < 1:
        return None
    return Fraction(-c[d - 1], d * c[d])


def _best_shift(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    centre = _centre(a)
    if centre is None:
        centre = _centre(b)
    if centre is None:
        return 0  # constant a and b: every shift is the same PCF
    roots = _integer_roots(b)
    k_min = max(roots) if roots else None  # b(n + k) != 0 for n >= 1  <=>  k >= every root
    width = SHIFT_WINDOW + max(len(a), len(b))
    lo, hi = math.floor(centre) - width, math.floor(centre) + width
    if k_min is not None:
        lo = max(lo, k_min)
        hi = max(hi, lo + width)
    best = min(
        range(lo, hi + 1),
        key=lambda k: _key(_shift_poly(a, k), _shift_poly(b, k)),
    )
    return best


def normal_form(pcf: PCF) -> NormalForm:
    """The canonical representative of ``pcf``'s family, with the exact map to it.

    Parameters
    ----------
    pcf : PCF
        Any polynomial continued fraction.

    Returns
    -------
    NormalForm
        ``pcf``'s limit is ``mobius_apply(nf.mobius, y)`` with ``y`` the limit of ``nf.pcf``.

    Examples
    --------
    >>> normal_form(PCF("4n+2", 1)).pcf                   # Euler's CF of (e+1)/(e-1)
    PCF(4n+2, 1)
    >>> nf = normal_form(PCF("-4n-6", 1))                 # its negated shift
    >>> nf.pcf, nf.mobius, nf.steps
    (PCF(4n+2, 1), (0, 1, -1, 2), ('negate a', 'shift n -> n-1'))
    >>> normal_form(PCF("2n^2+3n+1", "n^4+n^3")).pcf      # (2n+1, n^2) inflated by n+1
    PCF(2n+1, n^2)
    """
    return _normal_form(_strip(pcf.a), _strip(pcf.b))


def _convergents(pcf: PCF, depth: int) -> list[Fraction | None]:
    """``p_N/q_N`` for ``N = 0 .. depth`` by the three-term recurrence (None where q_N = 0)."""
    a, b = _strip(pcf.a), _strip(pcf.b)
    p_prev, p, q_prev, q = 1, _eval(a, 0), 0, 1
    out: list[Fraction | None] = [Fraction(p, q)]
    for n in range(1, depth + 1):
        an, bn = _eval(a, n), _eval(b, n)
        p_prev, p = p, an * p + bn * p_prev
        q_prev, q = q, an * q + bn * q_prev
        out.append(None if q == 0 else Fraction(p, q))
    return out


def check_exact(member: PCF, nf: NormalForm, depths: int = 12) -> bool:
    """Check the map of ``nf`` exactly on convergents.

    Inflation keeps convergents up to the factor ``c(0)`` and a shift by ``k`` pairs depth
    ``N`` of the member with depth ``N - k`` of the representative, so
    ``p_N/q_N = M(p'_{N-k}/q'_{N-k})`` holds as an identity of rationals at every depth. This
    checks it, exactly, at ``depths`` consecutive depths.

    Examples
    --------
    >>> check_exact(PCF("34n^3+51n^2+27n+5", "-n^6"), normal_form(PCF("34n^3+51n^2+27n+5", "-n^6")))
    True
    >>> bad = NormalForm(PCF("4n+2", 1), (1, 0, 0, 1), 0, ("wrong",))
    >>> check_exact(PCF("4n+6", 1), bad)
    False
    """
    k = nf.shift
    start = max(0, k) + 1
    xs = _convergents(member, start + depths)
    ys = _convergents(nf.pcf, start + depths - k)
    checked = 0
    for N in range(start, start + depths):
        x, y = xs[N], ys[N - k]
        if x is None or y is None:
            continue
        A, B, C, D = nf.mobius
        den = C * y + D
        if den == 0 or x != (A * y + B) / den:
            return False
        checked += 1
    return checked > 0
