"""The convergence-dynamics table: one row per PCF of a scanned domain (Blind-δ).

Dynamics are data, not conjectures: a whole domain (1,768,900 PCFs for the default
``deg a, deg b <= 2``, coefficients in [-5, 5]) is scanned, and only what the clustering later
labels and verifies enters the store as conjectures. The rows live in the store's
``pcf_dynamics`` table (schema v4), written in the same transaction as the task that computed
them, so a scan killed at any point resumes without losing or duplicating rows. Reading the
whole table back for clustering (:func:`read`) returns NumPy columns.

Why a table of the store rather than a Parquet file beside it: the runner's single-transaction
guarantee covers the rows at no extra cost (no second file to keep consistent after a
``kill -9``), and ``scripts/bench/blind_delta.py`` shows that writing and reading 10^6 rows
takes seconds, far below the scan itself.

Examples
--------
>>> from discovery.store import Store
>>> store = Store(":memory:")
>>> row = {"a": (1, 2, 0), "b": (0, 0, 1), "status": "converges", "limit": "1.2732395447",
...        "limit_float": 1.2732395447, "delta": 0.0, "depth": 2000}
>>> store.add_dynamics([row])
1
>>> cols = store.dynamics()
>>> cols["a"][0], cols["status"][0], float(cols["delta"][0])
((1, 2, 0), 'converges', 0.0)
>>> store.close()
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from discovery.store import Store

__all__ = ["COLUMNS", "FLOAT_COLUMNS", "STATUSES", "add_dynamics", "read"]

#: Float columns of a row (NaN where undefined).
FLOAT_COLUMNS = ("limit_float", "digits", "delta_naive", "delta", "c", "d", "eig_ratio",
                 "delta_predicted", "beta", "gamma", "eta", "rate")
#: Every column, in table order (``limit`` is stored as ``limit_text``).
COLUMNS = ("a", "b", "run", "status", "reason", "limit", *FLOAT_COLUMNS, "depth")
STATUSES = ("converges", "diverges", "terminates", "unknown")


def _float(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def add_dynamics(store: Store, rows: Iterable[dict], run_id: int | None = None) -> int:
    """Insert (or replace) rows; call inside the store's transaction. Returns the count."""
    values = []
    for r in rows:
        status = r.get("status")
        if status not in STATUSES:
            raise ValueError(f"unknown dynamics status {status!r}")
        values.append((
            json.dumps([int(v) for v in r["a"]]), json.dumps([int(v) for v in r["b"]]),
            run_id, status, r.get("reason"), r.get("limit"),
            *(_float(r.get(k)) for k in FLOAT_COLUMNS),
            None if r.get("depth") is None else int(r["depth"]),
        ))
    if values:
        marks = ", ".join("?" * len(values[0]))
        store._conn.executemany(
            "INSERT OR REPLACE INTO pcf_dynamics (a, b, run, status, reason, limit_text, "
            f"{', '.join(FLOAT_COLUMNS)}, depth) VALUES ({marks})",
            values,
        )
    return len(values)


def read(store: Store, status: str | None = None,
         columns: Iterable[str] | None = None) -> dict[str, Any]:
    """The table as columns: tuples for ``a``/``b``, lists of str, float64 arrays (NaN for
    missing values) for the numeric columns.

    Parameters
    ----------
    status : str, optional
        Only rows of this status (``"converges"``, ...).
    columns : iterable of str, optional
        A subset of :data:`COLUMNS` (default: all).
    """
    wanted = tuple(columns) if columns is not None else COLUMNS
    unknown = set(wanted) - set(COLUMNS)
    if unknown:
        raise ValueError(f"unknown dynamics columns: {', '.join(sorted(unknown))}")
    sql_cols = ", ".join("limit_text" if c == "limit" else c for c in wanted)
    sql = f"SELECT {sql_cols} FROM pcf_dynamics"
    params: tuple = ()
    if status is not None:
        sql += " WHERE status = ?"
        params = (status,)
    rows = store._read(sql + " ORDER BY a, b", params)
    out: dict[str, Any] = {}
    for i, name in enumerate(wanted):
        col = [r[i] for r in rows]
        if name in ("a", "b"):
            out[name] = [tuple(json.loads(v)) for v in col]
        elif name in FLOAT_COLUMNS:
            out[name] = np.array([np.nan if v is None else v for v in col], dtype=np.float64)
        elif name in ("depth", "run"):
            out[name] = np.array([-1 if v is None else v for v in col], dtype=np.int64)
        else:
            out[name] = col
    return out
