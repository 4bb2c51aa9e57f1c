"""The catalogue of named constants and of the functions constant expressions may use.

Every constant is evaluated in a *local* mpmath context at an explicit precision; the global
``mpmath.mp`` is never touched. A :class:`Constant` carries its canonical name, aliases, a LaTeX
form and a one-line description. Families are open-ended: ``zeta<k>`` (k >= 2), ``log<k>``,
``sqrt<k>`` and ``cbrt<k>`` (k >= 2) are built on demand by :func:`get_constant`, which also reads
call forms such as ``"zeta(3)"`` or ``"log(2)"``.

Names are case-sensitive. ``gamma`` is the Gamma *function*; Euler's constant is ``euler_gamma``
(alias ``euler``).

Examples
--------
>>> get_constant("apery")
Constant(zeta3 = ζ(3) ≈ 1.2020569031595942854)
>>> str(evaluate_constant("catalan", 30))
'0.915965594177219015054603514932'
>>> str(get_constant("zeta(11)").evaluate(20))
'1.0004941886041194646'
>>> FUNCTIONS["besseli"].arity
2
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import mpmath
from mpmath.libmp import NoConvergence

from solvers.errors import EvaluationError, UnknownConstantError

__all__ = [
    "Constant",
    "Function",
    "CONSTANTS",
    "FUNCTIONS",
    "UnknownConstantError",
    "EvaluationError",
    "get_constant",
    "evaluate_constant",
    "constant_names",
    "canonical_constant",
    "local_context",
    "GUARD_DIGITS",
]

#: Extra decimal digits every evaluation carries before rounding to the requested precision.
GUARD_DIGITS = 10

#: Largest index accepted for the on-demand families ``log<k>``, ``sqrt<k>``, ``cbrt<k>``.
_MAX_FAMILY_INDEX = 10**6
#: Largest index of ``zeta<k>`` (also the largest |s| of the function ``zeta(s)``).
MAX_ZETA_INDEX = 10**4

#: Largest precision (decimal digits) accepted by :meth:`Constant.evaluate`.
MAX_DPS = 10**7

#: Most digits asked of one constant on the command line (``constants show``), by the cost of
#: its mpmath evaluation: each cap takes about 5 s or less on the project's machine (2 cores),
#: twice it from 3 to 10 times longer. Constants not listed are fast (10^6 digits in ~1 s).
_MAX_DIGITS: dict[str, int] = {
    "euler_gamma": 50_000,
    "catalan": 100_000,
    "gompertz": 30_000,
    "khinchin": 2_000,
    "glaisher": 4_000,
    "twinprime": 500,
    "mertens": 1_000,
    "omega": 100_000,
    "dottie": 100_000,
    "ramanujan_soldner": 10_000,
    "gelfond": 300_000,
    "gelfond_schneider": 300_000,
    "gamma_quarter": 5_000,
    "gamma_third": 5_000,
    "zeta": 20_000,  # every zeta<k>
}
#: The cap of the fast constants (and of the log, sqrt and cbrt families).
_MAX_DIGITS_FAST = 10**6


def local_context(dps: int | None = None, prec: int | None = None) -> mpmath.MPContext:
    """A fresh mpmath context at ``dps`` decimal digits (or ``prec`` bits).

    Parameters
    ----------
    dps, prec : int
        Exactly one of them: the working precision in decimal digits or in bits.

    Examples
    --------
    >>> ctx = local_context(dps=30)
    >>> ctx.prec
    103
    >>> local_context(prec=53).dps
    15
    """
    if (dps is None) == (prec is None):
        raise ValueError("give exactly one of dps and prec")
    value = dps if dps is not None else prec
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"precision must be a positive integer, got {value!r}")
    if value > (MAX_DPS if dps is not None else 4 * MAX_DPS):
        raise ValueError(f"precision {value} is above the supported maximum")
    ctx = mpmath.MPContext()
    if dps is not None:
        ctx.dps = dps
    else:
        ctx.prec = prec
    return ctx


def _rounded(value: Any, dps: int) -> Any:
    """``value`` rounded to ``dps`` digits, as an mpf of a fresh context at that precision."""
    out = local_context(dps=dps)
    return out.mpf(value)


@dataclass(frozen=True)
class Constant:
    """A named real constant that can be evaluated to any precision.

    Parameters
    ----------
    name : str
        Canonical name (``"zeta3"``, ``"catalan"``, ...).
    latex : str
        LaTeX form (``r"\\zeta(3)"``).
    aliases : tuple of str
        Other names :func:`get_constant` accepts.
    description : str
        One line for humans.
    evaluator : callable
        ``evaluator(ctx) -> mpf``: the constant at the working precision of the mpmath context
        ``ctx`` (private; use :meth:`evaluate` or :meth:`evaluate_in`).

    Examples
    --------
    >>> c = CONSTANTS["lemniscate"]
    >>> c.latex
    '\\\\varpi'
    >>> str(c.evaluate(25))
    '2.62205755429211981046484'
    """

    name: str
    latex: str
    aliases: tuple[str, ...] = ()
    description: str = ""
    evaluator: Callable[[Any], Any] = field(default=None, repr=False, compare=False)  # type: ignore

    @property
    def max_digits(self) -> int:
        """Most digits the command line asks of this constant (its evaluation is slower past
        it: about 5 s at the cap on the project's machine).

        Examples
        --------
        >>> CONSTANTS["pi"].max_digits, CONSTANTS["khinchin"].max_digits
        (1000000, 2000)
        >>> get_constant("zeta5").max_digits
        20000
        """
        family = _FAMILY_NAME.match(self.name)
        return _MAX_DIGITS.get(family.group(1) if family else self.name, _MAX_DIGITS_FAST)

    def evaluate(self, dps: int) -> Any:
        """The constant to ``dps`` significant digits (an mpf of a local context at ``dps``).

        Parameters
        ----------
        dps : int
            Decimal digits wanted; ``GUARD_DIGITS`` more are used internally.

        Examples
        --------
        >>> str(CONSTANTS["euler_gamma"].evaluate(20))
        '0.57721566490153286061'
        """
        ctx = local_context(dps=dps + GUARD_DIGITS)
        return _rounded(self.evaluate_in(ctx), dps)

    def evaluate_in(self, ctx: Any) -> Any:
        """The constant at the current working precision of the mpmath context ``ctx``.

        Examples
        --------
        >>> ctx = local_context(dps=15)
        >>> ctx.nstr(CONSTANTS["gauss"].evaluate_in(ctx), 15)
        '0.834626841674073'
        """
        return self.evaluator(ctx)

    def __repr__(self) -> str:
        shown = mpmath.nstr(self.evaluate(20), 20)
        return f"Constant({self.name} = {_pretty(self.name)} ≈ {shown})"

    def __reduce__(self):
        # Evaluators are lambdas: pickle by name (a task payload may carry a Constant).
        return (get_constant, (self.name,))

    def _repr_latex_(self) -> str:
        return f"${self.latex}$"


@dataclass(frozen=True)
class Function:
    """A function that constant expressions may call, evaluated through a local context.

    Parameters
    ----------
    name : str
        The name used in text (``"besseli"``).
    arity : int
        Number of positional arguments.
    latex_template : str
        ``str.format`` template over the LaTeX of the arguments (``"I_{{{0}}}({1})"``).
    description : str
        One line for humans.
    impl : callable
        ``impl(ctx, *args) -> mpf`` (private; use :meth:`evaluate`).
    arg_bounds : tuple of int or None
        Largest accepted ``|argument|``, one per argument (``None``: unbounded), where mpmath
        would otherwise stall (Bessel functions of huge order, polylog of huge order). The
        parser checks exact arguments against them, both evaluators every argument.
    arg_names : tuple of str
        What the arguments are called in messages (``("order nu", "x")``).

    Examples
    --------
    >>> f = FUNCTIONS["besseli"]
    >>> ctx = local_context(dps=20)
    >>> ctx.nstr(f.evaluate(ctx, 1, 2), 20)
    '1.5906368546373290634'
    >>> f.latex(["1", "2"])
    'I_{1}\\\\left(2\\\\right)'
    """

    name: str
    arity: int
    latex_template: str
    description: str = ""
    impl: Callable[..., Any] = field(default=None, repr=False, compare=False)  # type: ignore
    arg_bounds: tuple[int | None, ...] = ()
    arg_names: tuple[str, ...] = ()

    def beyond_cap(self, index: int, shown: str) -> str:
        """The message for argument ``index`` (shown as ``shown``) beyond its cap.

        Examples
        --------
        >>> FUNCTIONS["besseli"].beyond_cap(0, "-10^20")
        'besseli: the order nu = -10^20 is outside the supported range |nu| <= 10^4'
        """
        names = self.arg_names or ("x",) * self.arity
        name = names[index]
        symbol = name.split()[-1]
        return (f"{self.name}: the {name} = {shown} is outside the supported range "
                f"|{symbol}| <= {_power_text(self.arg_bounds[index])}")

    def evaluate(self, ctx: Any, *args: Any) -> Any:
        """``name(*args)`` at the working precision of the mpmath context ``ctx``.

        Raises
        ------
        EvaluationError
            Wrong number of arguments, an argument beyond ``arg_bounds``, a pole, or mpmath
            giving up.
        """
        if len(args) != self.arity:
            raise EvaluationError(
                f"{self.name} takes {self.arity} argument(s), got {len(args)}")
        for i, (arg, bound) in enumerate(zip(args, self.arg_bounds, strict=False)):
            if bound is not None and not abs(arg) <= bound:
                raise EvaluationError(self.beyond_cap(i, ctx.nstr(arg, 5)))
        try:
            return self.impl(ctx, *args)
        except (ValueError, ZeroDivisionError, ArithmeticError, NoConvergence) as err:
            raise EvaluationError(f"{self.name} is undefined or failed here: "
                                  f"{_one_line(err)}") from None

    def latex(self, args: list[str]) -> str:
        """The LaTeX of a call, given the LaTeX of its arguments."""
        return self.latex_template.format(*args)

    def __reduce__(self):
        return (_function_by_name, (self.name,))


def _function_by_name(name: str) -> Function:
    return FUNCTIONS[name]


def _power_text(n: int) -> str:
    """``10^4`` for a power of ten, else the number (for messages)."""
    text = str(n)
    return f"10^{len(text) - 1}" if n >= 100 and text == "1" + "0" * (len(text) - 1) else text


def _one_line(err: BaseException) -> str:
    """An exception's message on one line, at most 200 characters."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 200 else text[:200] + "..."


# ---------------------------------------------------------------------------------------------
# The catalogue

_PRETTY: dict[str, str] = {
    "e": "e",
    "pi": "π",
    "euler_gamma": "γ",
    "catalan": "G",
    "phi": "φ",
    "gauss": "1/agm(1, √2)",
    "lemniscate": "ϖ",
    "gompertz": "-e·Ei(-1)",
    "khinchin": "K₀",
    "glaisher": "A",
    "twinprime": "C₂",
    "mertens": "M",
    "omega": "W(1)",
    "tau": "2π",
}


_FAMILY_NAME = re.compile(r"^(zeta|log|sqrt|cbrt)(\d+)$")


def _pretty(name: str) -> str:
    m = _FAMILY_NAME.match(name)
    if m:
        k = m.group(2)
        return {"zeta": f"ζ({k})", "log": f"log {k}", "sqrt": f"√{k}", "cbrt": f"∛{k}"}[
            m.group(1)]
    return _PRETTY.get(name, name)


def _dottie(ctx: Any) -> Any:
    return ctx.findroot(lambda x: ctx.cos(x) - x, ctx.mpf("0.739085133215160641655312"))


def _plastic(ctx: Any) -> Any:
    # The real root of x^3 = x + 1, by Cardano: cbrt((9+sqrt 69)/18) + cbrt((9-sqrt 69)/18).
    s = ctx.sqrt(69)
    return ctx.cbrt((9 + s) / 18) + ctx.cbrt((9 - s) / 18)


def _soldner(ctx: Any) -> Any:
    return ctx.findroot(ctx.li, ctx.mpf("1.45136923488338105028396848589"))


_STATIC: list[Constant] = [
    Constant("e", "e", ("euler_e", "napier"), "Euler's number, exp(1)", lambda c: c.e),
    Constant("pi", r"\pi", ("archimedes",), "Archimedes' constant", lambda c: c.pi),
    Constant(
        "euler_gamma",
        r"\gamma",
        ("euler", "eulergamma", "euler_mascheroni", "EulerGamma"),
        "Euler-Mascheroni constant (not the Gamma function, which is `gamma`)",
        lambda c: c.euler,
    ),
    Constant("catalan", "G", ("Catalan",), "Catalan's constant, beta(2)", lambda c: c.catalan),
    Constant(
        "phi",
        r"\varphi",
        ("golden", "golden_ratio", "GoldenRatio"),
        "the golden ratio (1+sqrt 5)/2",
        lambda c: c.phi,
    ),
    Constant(
        "gauss",
        r"G_{\mathrm{Gauss}}",
        ("gauss_constant",),
        "Gauss's constant 1/agm(1, sqrt 2)",
        lambda c: 1 / c.agm(1, c.sqrt(2)),
    ),
    Constant(
        "lemniscate",
        r"\varpi",
        ("lemniscate_constant", "varpi"),
        "the lemniscate constant pi*gauss = 2.622...",
        lambda c: c.pi / c.agm(1, c.sqrt(2)),
    ),
    Constant(
        "gompertz",
        r"\delta",
        ("euler_gompertz", "gompertz_constant"),
        "the Euler-Gompertz constant -e*Ei(-1)",
        lambda c: -c.e * c.ei(-1),
    ),
    Constant("khinchin", "K_0", ("khintchine",), "Khinchin's constant", lambda c: c.khinchin),
    Constant(
        "glaisher",
        "A",
        ("glaisher_kinkelin",),
        "the Glaisher-Kinkelin constant",
        lambda c: c.glaisher,
    ),
    Constant(
        "twinprime", "C_2", ("twin_prime",), "the twin prime constant", lambda c: c.twinprime
    ),
    Constant(
        "mertens",
        "M",
        ("meissel_mertens",),
        "the Meissel-Mertens constant",
        lambda c: c.mertens,
    ),
    Constant("degree", r"1^{\circ}", ("deg",), "one degree in radians, pi/180", lambda c: c.degree),
    Constant("tau", r"\tau", (), "the full turn 2*pi", lambda c: 2 * c.pi),
    Constant(
        "omega",
        r"\Omega",
        ("omega_constant", "lambert_omega"),
        "the omega constant W(1), the root of x*exp(x) = 1",
        lambda c: c.lambertw(1).real,
    ),
    Constant("dottie", "D", ("dottie_number",), "the root of cos(x) = x", _dottie),
    Constant(
        "plastic", r"\rho", ("plastic_number",), "the real root of x^3 = x + 1", _plastic
    ),
    Constant(
        "silver", r"\delta_S", ("silver_ratio",), "the silver ratio 1 + sqrt 2",
        lambda c: 1 + c.sqrt(2),
    ),
    Constant(
        "ramanujan_soldner",
        r"\mu",
        ("soldner",),
        "the Ramanujan-Soldner constant, the positive root of li(x)",
        _soldner,
    ),
    Constant("gelfond", r"e^{\pi}", (), "Gelfond's constant exp(pi)", lambda c: c.exp(c.pi)),
    Constant(
        "gelfond_schneider",
        r"2^{\sqrt{2}}",
        (),
        "the Gelfond-Schneider constant 2^sqrt(2)",
        lambda c: c.power(2, c.sqrt(2)),
    ),
    Constant(
        "gamma_quarter",
        r"\Gamma\left(\tfrac{1}{4}\right)",
        ("gamma14",),
        "Gamma(1/4)",
        lambda c: c.gamma(c.mpf(1) / 4),
    ),
    Constant(
        "gamma_third",
        r"\Gamma\left(\tfrac{1}{3}\right)",
        ("gamma13",),
        "Gamma(1/3)",
        lambda c: c.gamma(c.mpf(1) / 3),
    ),
]

# Families: index k -> Constant. The catalogue lists small members; any k works on demand.
_FAMILY_RE = re.compile(r"^(zeta|log|ln|sqrt|cbrt)(?:(\d{1,7})|\((\d{1,7})\))$")
_FAMILY_LISTED = {
    "zeta": range(2, 11),
    "log": (2, 3, 5, 7, 10),
    "sqrt": (2, 3, 5),
    "cbrt": (2, 3),
}


def _family_member(family: str, k: int) -> Constant:
    if family == "ln":
        family = "log"
    cap = MAX_ZETA_INDEX if family == "zeta" else _MAX_FAMILY_INDEX
    if k < 2 or k > cap:
        raise UnknownConstantError(
            f"{family}{k}: the index must be between 2 and {_power_text(cap)}")
    name = f"{family}{k}"
    if family == "zeta":
        aliases = [f"zeta({k})"] + (["apery"] if k == 3 else [])
        return Constant(
            name, rf"\zeta({k})", tuple(aliases), f"the Riemann zeta value zeta({k})",
            lambda c: c.zeta(k),
        )
    if family == "log":
        return Constant(
            name, rf"\log {k}", (f"log({k})", f"ln{k}", f"ln({k})"),
            f"the natural logarithm of {k}", lambda c: c.ln(k),
        )
    if family == "sqrt":
        if _is_power(k, 2):
            raise UnknownConstantError(f"{name} is the integer {_iroot(k, 2)}, not a constant")
        return Constant(
            name, rf"\sqrt{{{k}}}", (f"sqrt({k})",), f"the square root of {k}",
            lambda c: c.sqrt(k),
        )
    if _is_power(k, 3):
        raise UnknownConstantError(f"{name} is the integer {_iroot(k, 3)}, not a constant")
    return Constant(
        name, rf"\sqrt[3]{{{k}}}", (f"cbrt({k})",), f"the cube root of {k}",
        lambda c: c.cbrt(k),
    )


def _iroot(k: int, r: int) -> int:
    x = round(k ** (1.0 / r))
    for y in (x - 1, x, x + 1):
        if y**r == k:
            return y
    return x


def _is_power(k: int, r: int) -> bool:
    return _iroot(k, r) ** r == k


def _build_catalogue() -> dict[str, Constant]:
    out = {c.name: c for c in _STATIC}
    for family, ks in _FAMILY_LISTED.items():
        for k in ks:
            c = _family_member(family, k)
            out[c.name] = c
    return out


#: Canonical name -> :class:`Constant`. Families (``zeta<k>``, ``log<k>``, ...) have more members
#: than listed here; :func:`get_constant` builds them on demand.
CONSTANTS: dict[str, Constant] = _build_catalogue()

_ALIASES: dict[str, str] = {a: c.name for c in CONSTANTS.values() for a in c.aliases}


def constant_names() -> list[str]:
    """Every canonical name and alias of the listed catalogue, sorted.

    Examples
    --------
    >>> "apery" in constant_names() and "zeta3" in constant_names()
    True
    """
    return sorted(set(CONSTANTS) | set(_ALIASES))


@lru_cache(maxsize=512)
def _lookup(name: str) -> Constant:
    key = name.strip().replace(" ", "")
    if key in CONSTANTS:
        return CONSTANTS[key]
    if key in _ALIASES:
        return CONSTANTS[_ALIASES[key]]
    m = _FAMILY_RE.match(key)
    if m:
        k = int(m.group(2) or m.group(3))
        c = _family_member(m.group(1), k)
        return CONSTANTS.get(c.name, c)
    raise UnknownConstantError(_unknown_message(name))


def _unknown_message(name: str) -> str:
    shown = name if len(name) <= 40 else name[:40] + "..."
    msg = f"unknown constant {shown!r}"
    if name.strip() in ("gamma", "Gamma"):
        return msg + ": gamma is the Gamma function; Euler's constant is 'euler_gamma'"
    low = name.lower()
    close: list[str] = []
    for pool in (constant_names(), sorted(FUNCTIONS)):
        close += difflib.get_close_matches(name, pool, n=5, cutoff=0.6)
        close += [p for p in pool if p.lower() == low and p not in close]
        if close:
            break
    if close:
        return msg + "; did you mean " + ", ".join(repr(c) for c in close[:5]) + "?"
    return msg + "; `constant_names()` lists the catalogue"


def get_constant(name: str) -> Constant:
    """The catalogue constant called ``name`` (canonical name, alias or family member).

    Parameters
    ----------
    name : str
        ``"zeta3"``, ``"apery"``, ``"zeta(3)"``, ``"log2"``, ``"ln(2)"``, ``"golden"``, ...

    Raises
    ------
    UnknownConstantError
        (a :class:`DiscoveryError` and a :class:`KeyError`) listing close matches.

    Examples
    --------
    >>> get_constant("golden").name
    'phi'
    >>> get_constant("ln(2)").name
    'log2'
    >>> get_constant("zeta17").latex
    '\\\\zeta(17)'
    >>> try:
    ...     get_constant("catalna")
    ... except UnknownConstantError as err:
    ...     print(err)
    unknown constant 'catalna'; did you mean 'catalan', 'Catalan'?
    """
    if not isinstance(name, str):
        raise UnknownConstantError(f"a constant name must be a string, got {type(name).__name__}")
    if len(name) > 100:
        raise UnknownConstantError(_unknown_message(name))
    return _lookup(name)


def evaluate_constant(name: str, dps: int) -> Any:
    """The constant ``name`` to ``dps`` digits (shorthand for ``get_constant(name).evaluate``).

    Examples
    --------
    >>> str(evaluate_constant("zeta3", 25))
    '1.202056903159594285399738'
    """
    return get_constant(name).evaluate(dps)


@lru_cache(maxsize=4096)
def canonical_constant(name: str) -> str:
    """The catalogue's canonical name for ``name``; a name it does not know, unchanged.

    Aliases, call forms and family members all map to the canonical name, so two spellings
    of one constant compare equal after it. Never raises for a string.

    Parameters
    ----------
    name : str
        Any spelling: ``"zeta(3)"``, ``"apery"``, ``"golden"``, ``"my-constant"``, ...

    Examples
    --------
    >>> canonical_constant("zeta(3)"), canonical_constant("apery"), canonical_constant("golden")
    ('zeta3', 'zeta3', 'phi')
    >>> canonical_constant("my-constant")   # not in the catalogue: just a string
    'my-constant'
    """
    try:
        return get_constant(name).name
    except UnknownConstantError:
        return name


# ---------------------------------------------------------------------------------------------
# Functions


def _log2(c: Any, x: Any) -> Any:
    return c.ln(x) / c.ln(2)


_FUNCTION_LIST: list[Function] = [
    Function("exp", 1, r"e^{{{0}}}", "exponential", lambda c, x: c.exp(x)),
    Function("log", 1, r"\log\left({0}\right)", "natural logarithm", lambda c, x: c.ln(x)),
    Function("ln", 1, r"\log\left({0}\right)", "natural logarithm", lambda c, x: c.ln(x)),
    Function("log2", 1, r"\log_2\left({0}\right)", "binary logarithm", _log2),
    Function("sqrt", 1, r"\sqrt{{{0}}}", "square root", lambda c, x: c.sqrt(x)),
    Function("cbrt", 1, r"\sqrt[3]{{{0}}}", "principal cube root", lambda c, x: c.cbrt(x)),
    Function("sin", 1, r"\sin\left({0}\right)", "sine", lambda c, x: c.sin(x)),
    Function("cos", 1, r"\cos\left({0}\right)", "cosine", lambda c, x: c.cos(x)),
    Function("tan", 1, r"\tan\left({0}\right)", "tangent", lambda c, x: c.tan(x)),
    Function("cot", 1, r"\cot\left({0}\right)", "cotangent", lambda c, x: c.cot(x)),
    Function("asin", 1, r"\arcsin\left({0}\right)", "inverse sine", lambda c, x: c.asin(x)),
    Function("acos", 1, r"\arccos\left({0}\right)", "inverse cosine", lambda c, x: c.acos(x)),
    Function("atan", 1, r"\arctan\left({0}\right)", "inverse tangent", lambda c, x: c.atan(x)),
    Function("sinh", 1, r"\sinh\left({0}\right)", "hyperbolic sine", lambda c, x: c.sinh(x)),
    Function("cosh", 1, r"\cosh\left({0}\right)", "hyperbolic cosine", lambda c, x: c.cosh(x)),
    Function("tanh", 1, r"\tanh\left({0}\right)", "hyperbolic tangent", lambda c, x: c.tanh(x)),
    Function("coth", 1, r"\coth\left({0}\right)", "hyperbolic cotangent", lambda c, x: c.coth(x)),
    Function("atanh", 1, r"\operatorname{{artanh}}\left({0}\right)", "inverse tanh",
             lambda c, x: c.atanh(x)),
    Function("erf", 1, r"\operatorname{{erf}}\left({0}\right)", "error function",
             lambda c, x: c.erf(x), (10**6,)),
    Function("erfc", 1, r"\operatorname{{erfc}}\left({0}\right)", "complementary error function",
             lambda c, x: c.erfc(x), (10**6,)),
    Function("ei", 1, r"\operatorname{{Ei}}\left({0}\right)", "exponential integral Ei",
             lambda c, x: c.ei(x), (10**6,)),
    Function("besseli", 2, r"I_{{{0}}}\left({1}\right)", "modified Bessel function I_nu(x)",
             lambda c, nu, x: c.besseli(nu, x), (10**4, 10**6), ("order nu", "argument x")),
    Function("besselj", 2, r"J_{{{0}}}\left({1}\right)", "Bessel function J_nu(x)",
             lambda c, nu, x: c.besselj(nu, x), (10**4, 10**6), ("order nu", "argument x")),
    Function("gamma", 1, r"\Gamma\left({0}\right)", "the Gamma function",
             lambda c, x: c.gamma(x), (10**6,)),
    Function("agm", 2, r"\operatorname{{agm}}\left({0}, {1}\right)",
             "arithmetic-geometric mean", lambda c, x, y: c.agm(x, y)),
    Function("zeta", 1, r"\zeta\left({0}\right)", "Riemann zeta function",
             lambda c, s: c.zeta(s), (MAX_ZETA_INDEX,), ("argument s",)),
    Function("polylog", 2, r"\operatorname{{Li}}_{{{0}}}\left({1}\right)", "polylogarithm Li_s(x)",
             lambda c, s, x: c.polylog(s, x), (1000, 10**6), ("order s", "argument x")),
    Function("abs", 1, r"\left|{0}\right|", "absolute value", lambda c, x: c.fabs(x)),
]

#: Function name -> :class:`Function` (what constant expressions may call).
FUNCTIONS: dict[str, Function] = {f.name: f for f in _FUNCTION_LIST}
