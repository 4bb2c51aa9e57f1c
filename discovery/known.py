"""The reference table: formulas from the literature, so a rediscovery is not called new.

``discovery/data/known_formulas.csv`` (package data, :data:`REFERENCE_TABLE`) lists PCFs with
their limit and their literature source. A family of the store (:mod:`discovery.catalogue`) is
*known* when one of these formulas belongs to it -- when its normal form
(:func:`solvers.pcf_families.normal_form`) is the family's key -- and *new* otherwise. The
tests check every entry's limit to 50 digits.

Examples
--------
>>> apery = [k for k in known_formulas() if k.name == "Apery zeta(3)"][0]
>>> apery.pcf, apery.claim
(PCF(34n^3+51n^2+27n+5, -n^6), '6/zeta(3)')
>>> known_source(apery.family_key).startswith("Apery zeta(3): R. Apery")
True
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from solvers.continued_fractions import PCF
from solvers.pcf_families import normal_form

__all__ = ["KnownFormula", "known_formulas", "known_source", "REFERENCE_TABLE"]

#: The shipped table, package data of :mod:`discovery` read through :mod:`importlib.resources`
#: (so an installed wheel finds it too).
REFERENCE_TABLE: Traversable = files("discovery") / "data" / "known_formulas.csv"


@dataclass(frozen=True)
class KnownFormula:
    """One formula of the reference table."""

    name: str
    pcf: PCF
    claim: str
    source: str

    @property
    def family_key(self) -> str:
        """The key of the family it belongs to (its normal form's key)."""
        return normal_form(self.pcf).pcf.key


@lru_cache(maxsize=4)
def known_formulas(path: str | Path | Traversable = REFERENCE_TABLE) -> tuple[KnownFormula, ...]:
    """The formulas of the reference table (:data:`REFERENCE_TABLE`, or the file ``path``)."""
    table = Path(path) if isinstance(path, str) else path
    with table.open("r", newline="", encoding="utf-8") as f:
        return tuple(
            KnownFormula(row["name"], PCF(row["a"], row["b"]), row["claim"], row["source"])
            for row in csv.DictReader(f)
        )


@lru_cache(maxsize=4)
def _by_family(path: str | Path | Traversable) -> dict[str, str]:
    out: dict[str, str] = {}
    for k in known_formulas(path):
        out.setdefault(k.family_key, f"{k.name}: {k.source}")
    return out


def known_source(family_key: str, path: str | Path | Traversable = REFERENCE_TABLE
                 ) -> str | None:
    """``"<name>: <source>"`` when the family holds a formula of the table, else None."""
    try:
        return _by_family(path).get(family_key)
    except OSError:  # no reference table next to the package: nothing is known
        return None
