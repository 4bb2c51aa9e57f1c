"""The constants catalogue: every constant against an independent value, precision discipline."""

from __future__ import annotations

import pickle

import mpmath
import pytest

from solvers.constants import (
    CONSTANTS,
    FUNCTIONS,
    Constant,
    EvaluationError,
    UnknownConstantError,
    evaluate_constant,
    get_constant,
    local_context,
)
from solvers.errors import DiscoveryError

REF_DPS = 70  # the independent values are computed here, then compared to 50 digits


def _newton(ctx, f, df, x):
    for _ in range(200):
        step = f(x) / df(x)
        x -= step
        if abs(step) < ctx.mpf(10) ** (-ctx.dps - 5):
            break
    return x


# Independent values: known digit strings or a different mpmath route than the catalogue's.
INDEPENDENT = {
    "e": lambda c: c.mpf("2.71828182845904523536028747135266249775724709369995957496697"),
    "pi": lambda c: c.mpf("3.14159265358979323846264338327950288419716939937510582097494"),
    "euler_gamma": lambda c: c.mpf("0.57721566490153286060651209008240243104215933593992359880"),
    # Catalan = beta(2) = (zeta(2, 1/4) - zeta(2, 3/4)) / 16  (Hurwitz zeta)
    "catalan": lambda c: (c.zeta(2, c.mpf(1) / 4) - c.zeta(2, c.mpf(3) / 4)) / 16,
    "phi": lambda c: (1 + c.sqrt(5)) / 2,
    # Gauss's constant and the lemniscate constant through Gamma(1/4)
    "gauss": lambda c: c.gamma(c.mpf(1) / 4) ** 2 / (2 * c.pi) ** c.mpf(1.5),
    "lemniscate": lambda c: c.gamma(c.mpf(1) / 4) ** 2 / (2 * c.sqrt(2 * c.pi)),
    "gompertz": lambda c: c.e * c.e1(1),
    "khinchin": lambda c: c.mpf("2.6854520010653064453097148354817956938203822939944"),
    # Glaisher: log A = 1/12 - zeta'(-1)
    "glaisher": lambda c: c.exp(c.mpf(1) / 12 - c.zeta(-1, derivative=1)),
    "twinprime": lambda c: c.mpf("0.660161815846869573927812110014555778432623360284733413319"),
    "mertens": lambda c: c.mpf("0.261497212847642783755426838608695859051566648261199206192"),
    "degree": lambda c: c.mpf("3.14159265358979323846264338327950288419716939937510582097494")
    / 180,
    "tau": lambda c: 2 * c.mpf("3.14159265358979323846264338327950288419716939937510582097494"),
    "omega": lambda c: _newton(c, lambda x: x * c.exp(x) - 1, lambda x: (x + 1) * c.exp(x),
                               c.mpf("0.5")),
    "dottie": lambda c: _newton(c, lambda x: c.cos(x) - x, lambda x: -c.sin(x) - 1,
                                c.mpf("0.7")),
    "plastic": lambda c: _newton(c, lambda x: x**3 - x - 1, lambda x: 3 * x**2 - 1,
                                 c.mpf("1.3")),
    "silver": lambda c: (2 + c.sqrt(8)) / 2,
    # li(x) = Ei(log x): the root of Ei(log x)
    "ramanujan_soldner": lambda c: _newton(c, lambda x: c.ei(c.ln(x)), lambda x: 1 / c.ln(x),
                                           c.mpf("1.45")),
    "gelfond": lambda c: c.power(-1, c.mpc(0, -1)).real,  # (-1)^(-i) = e^pi
    "gelfond_schneider": lambda c: c.exp(c.sqrt(2) * c.ln(2)),
    # Gamma(1/4)^2 = 2 * lemniscate * sqrt(2 pi), lemniscate = pi / agm(1, sqrt 2)
    "gamma_quarter": lambda c: c.sqrt(2 * c.pi / c.agm(1, c.sqrt(2)) * c.sqrt(2 * c.pi)),
    # B(1/3, 1/3) = Gamma(1/3)^2 / Gamma(2/3) and Gamma(1/3) Gamma(2/3) = 2 pi / sqrt 3
    "gamma_third": lambda c: c.cbrt(c.beta(c.mpf(1) / 3, c.mpf(1) / 3) * 2 * c.pi / c.sqrt(3)),
    "zeta3": lambda c: c.mpf("1.20205690315959428539973816151144999076498629234049888179227"),
}


def _zeta_route(k):
    if k % 2 == 0:  # Euler: zeta(2m) = |B_2m| (2 pi)^2m / (2 (2m)!)
        return lambda c: abs(c.bernoulli(k)) * (2 * c.pi) ** k / (2 * c.factorial(k))
    return lambda c: c.altzeta(k) / (1 - c.mpf(2) ** (1 - k))  # via the Dirichlet eta function


for _name in CONSTANTS:
    if _name.startswith("zeta") and _name != "zeta3":
        INDEPENDENT[_name] = _zeta_route(int(_name[4:]))
    elif _name.startswith("log"):
        INDEPENDENT[_name] = (lambda k: lambda c: 2 * c.atanh(c.mpf(k - 1) / (k + 1)))(
            int(_name[3:]))
    elif _name.startswith("sqrt"):
        INDEPENDENT[_name] = (lambda k: lambda c: c.exp(c.ln(k) / 2))(int(_name[4:]))
    elif _name.startswith("cbrt"):
        INDEPENDENT[_name] = (lambda k: lambda c: c.exp(c.ln(k) / 3))(int(_name[4:]))


@pytest.fixture(autouse=True)
def global_precision_untouched():
    before = (mpmath.mp.prec, mpmath.mp.dps)
    yield
    assert (mpmath.mp.prec, mpmath.mp.dps) == before


def _agree(x, y, digits):
    ctx = local_context(dps=digits + 20)
    x, y = ctx.mpf(x), ctx.mpf(y)
    return abs(x - y) <= abs(y) * ctx.mpf(10) ** (1 - digits)


def test_catalogue_has_at_least_30_constants_each_with_an_independent_check():
    assert len(CONSTANTS) >= 30
    assert set(INDEPENDENT) == set(CONSTANTS)


@pytest.mark.parametrize("name", sorted(CONSTANTS))
def test_constant_to_50_digits_matches_an_independent_value(name):
    value = CONSTANTS[name].evaluate(50)
    reference = INDEPENDENT[name](local_context(dps=REF_DPS))
    assert _agree(value, reference, 50), (name, value, reference)
    assert value.context.dps == 50  # rounded to the precision asked for


@pytest.mark.parametrize("name", sorted(CONSTANTS))
def test_30_and_60_digits_agree_to_30_digits(name):
    c = CONSTANTS[name]
    assert _agree(c.evaluate(30), c.evaluate(60), 30)


def test_zeta3_at_200_digits_matches_the_known_expansion_start():
    v = evaluate_constant("apery", 200)
    assert mpmath.nstr(v, 60, strip_zeros=False).startswith(
        "1.2020569031595942853997381615114499907649862923404988817922"
    )


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("apery", "zeta3"),
        ("zeta(3)", "zeta3"),
        ("golden", "phi"),
        ("golden_ratio", "phi"),
        ("euler", "euler_gamma"),
        ("ln2", "log2"),
        ("log(2)", "log2"),
        ("ln(10)", "log10"),
        ("sqrt(2)", "sqrt2"),
        ("euler_gompertz", "gompertz"),
        ("Catalan", "catalan"),
    ],
)
def test_aliases_resolve_to_the_canonical_constant(alias, canonical):
    assert get_constant(alias) is CONSTANTS[canonical]


def test_families_are_built_on_demand():
    z11 = get_constant("zeta11")
    ctx = local_context(dps=60)
    assert _agree(z11.evaluate(40), ctx.altzeta(11) / (1 - ctx.mpf(2) ** -10), 40)
    assert get_constant("zeta(11)") == z11
    assert _agree(get_constant("log6").evaluate(40),
                  evaluate_constant("log2", 45) + evaluate_constant("log3", 45), 40)
    assert _agree(get_constant("cbrt(5)").evaluate(30) ** 3, 5, 30)
    with pytest.raises(UnknownConstantError, match="integer 2"):
        get_constant("sqrt4")
    with pytest.raises(UnknownConstantError):
        get_constant("zeta1")


def test_gamma_is_the_function_and_the_error_says_so():
    with pytest.raises(UnknownConstantError, match="euler_gamma"):
        get_constant("gamma")


def test_unknown_name_is_a_discovery_error_listing_close_matches():
    with pytest.raises(UnknownConstantError) as info:
        get_constant("khintchin")
    assert isinstance(info.value, DiscoveryError) and isinstance(info.value, KeyError)
    assert "khinchin" in str(info.value)
    assert not str(info.value).startswith("'")  # not KeyError's quoted repr
    with pytest.raises(UnknownConstantError):
        get_constant(3)  # type: ignore[arg-type]
    with pytest.raises(UnknownConstantError):
        get_constant("x" * 10_000)


def test_constants_carry_latex_description_and_pickle_by_name():
    for c in CONSTANTS.values():
        assert isinstance(c, Constant) and c.latex and c.description
        assert pickle.loads(pickle.dumps(c)) is c
    assert CONSTANTS["zeta3"].latex == r"\zeta(3)"
    assert CONSTANTS["lemniscate"]._repr_latex_() == r"$\varpi$"
    assert "zeta3" in repr(CONSTANTS["zeta3"]) and "1.2020569031" in repr(CONSTANTS["zeta3"])


def test_evaluate_rejects_bad_precision():
    with pytest.raises(ValueError):
        CONSTANTS["pi"].evaluate(0)
    with pytest.raises(ValueError):
        CONSTANTS["pi"].evaluate(1.5)  # type: ignore[arg-type]


# --- the function table ---------------------------------------------------------------------

S = "0.84270079294971486934122063508260925929606699796630290845994"  # erf(1)
FUNCTION_CHECKS = {
    "exp": lambda c, f: _agree(f(1), c.mpf(INDEPENDENT["e"](c)), 50),
    "log": lambda c, f: _agree(f(INDEPENDENT["e"](c)), 1, 50),
    "ln": lambda c, f: _agree(f(c.mpf(10)), 2 * c.atanh(c.mpf(9) / 11), 50),
    "log2": lambda c, f: f(c.mpf(8)) == 3 or _agree(f(c.mpf(8)), 3, 50),
    "sqrt": lambda c, f: _agree(f(2) ** 2, 2, 50),
    "cbrt": lambda c, f: _agree(f(27), 3, 50),
    "sin": lambda c, f: _agree(f(c.pi / 6), c.mpf(1) / 2, 50),
    "cos": lambda c, f: _agree(f(c.pi / 3), c.mpf(1) / 2, 50),
    "tan": lambda c, f: _agree(f(c.pi / 4), 1, 50),
    "cot": lambda c, f: _agree(f(c.pi / 3), 1 / c.sqrt(3), 50),
    "asin": lambda c, f: _agree(f(1), c.pi / 2, 50),
    "acos": lambda c, f: _agree(f(c.mpf(1) / 2), c.pi / 3, 50),
    "atan": lambda c, f: _agree(f(1), c.pi / 4, 50),
    "sinh": lambda c, f: _agree(f(1), (c.e - 1 / c.e) / 2, 50),
    "cosh": lambda c, f: _agree(f(1), (c.e + 1 / c.e) / 2, 50),
    "tanh": lambda c, f: _agree(f(1), (c.e**2 - 1) / (c.e**2 + 1), 50),
    "coth": lambda c, f: _agree(f(1), (c.e**2 + 1) / (c.e**2 - 1), 50),
    "atanh": lambda c, f: _agree(f(c.mpf(1) / 3), c.ln(2) / 2, 50),
    "erf": lambda c, f: _agree(f(1), c.mpf(S), 50),
    "erfc": lambda c, f: _agree(f(1), 1 - c.mpf(S), 50),
    # Ei(1) = euler_gamma + sum 1/(k k!)
    "ei": lambda c, f: _agree(f(1), c.euler + c.nsum(lambda k: 1 / (k * c.factorial(k)),
                                                      [1, c.inf]), 50),
    # I_0(2) = sum 1/k!^2
    "besseli": lambda c, f: _agree(f(0, 2), c.nsum(lambda k: 1 / c.factorial(k) ** 2,
                                                   [0, c.inf]), 50),
    # J_1/2(x) = sqrt(2/(pi x)) sin x
    "besselj": lambda c, f: _agree(f(c.mpf(1) / 2, 1), c.sqrt(2 / c.pi) * c.sin(1), 50),
    "gamma": lambda c, f: _agree(f(c.mpf(1) / 2) ** 2, c.pi, 50),
    "agm": lambda c, f: _agree(1 / f(1, c.sqrt(2)), INDEPENDENT["gauss"](c), 50),
    "zeta": lambda c, f: _agree(f(4), c.pi**4 / 90, 50),
    "polylog": lambda c, f: _agree(f(2, c.mpf(1) / 2), c.pi**2 / 12 - c.ln(2) ** 2 / 2, 50),
    "abs": lambda c, f: f(c.mpf(-3)) == 3,
}


def test_every_function_has_a_check():
    assert set(FUNCTION_CHECKS) == set(FUNCTIONS)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_values_at_known_points(name):
    ctx = local_context(dps=REF_DPS)
    f = FUNCTIONS[name]
    assert FUNCTION_CHECKS[name](ctx, lambda *args: f.evaluate(ctx, *args)), name
    assert f.latex(["x", "y"][: f.arity])
    assert pickle.loads(pickle.dumps(f)) is f


def test_function_errors_are_evaluation_errors():
    ctx = local_context(dps=20)
    with pytest.raises(EvaluationError, match="takes 2"):
        FUNCTIONS["besseli"].evaluate(ctx, 1)
    with pytest.raises(EvaluationError):
        FUNCTIONS["zeta"].evaluate(ctx, 1)  # the pole
    with pytest.raises(EvaluationError, match="range"):
        FUNCTIONS["besselj"].evaluate(ctx, 10**5, 1)  # beyond what mpmath can do quickly
    with pytest.raises(EvaluationError, match="range"):
        FUNCTIONS["polylog"].evaluate(ctx, -(10**100), ctx.mpf(1) / 2)
