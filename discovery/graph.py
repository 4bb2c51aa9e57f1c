"""The conjecture graph: a networkx view of the store, built on demand.

Nodes
    * conjectures, id = canonical key, attributes ``type="conjecture"``, ``id``, ``kind``,
      ``formula`` (JSON text), ``claim``, ``constant``, ``status``, ``digits``;
    * constants, id ``"const:<name>"``, attributes ``type="constant"``, ``name``;
    * formulas that relations point to but that are not stored conjectures (e.g. the PCF an
      ESMA pattern ``contracts-to``), ``type="formula"``;
    * runs, id ``"run:<id>"``, attributes ``type="run"``, ``name``, ``engine``, ``status``.

Edges (a ``MultiDiGraph``; the edge key is the relation type)
    * ``evaluates-to``: conjecture -> its constant (from the conjecture's ``constant``);
    * every stored relation: ``equivalent-to``, ``derived-from``, ``improves``,
      ``found-by`` (conjecture -> run), ...

Examples
--------
>>> from search.base import Candidate
>>> from discovery.store import Store
>>> store = Store(":memory:")
>>> _ = store.record(Candidate("pcf", "pcf:A", {"a": [1], "b": [1]}, "(1+sqrt(5))/2", "golden"))
>>> _ = store.record(Candidate("pcf", "pcf:B", {"a": [3], "b": [-1]}, "(3+sqrt(5))/2", "phi",
...                            relations=(("equivalent-to", "pcf:A"),)))
>>> G = build_graph(store)
>>> formulas_for(G, "phi")      # 'golden' is an alias of the catalogue's 'phi'
['pcf:A', 'pcf:B']
>>> families(G)
[['pcf:A', 'pcf:B']]
>>> store.close()
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import networkx as nx

from discovery.store import canonical_constant

__all__ = [
    "build_graph",
    "constant_node",
    "formulas_for",
    "families",
    "EQUIVALENCES",
    "relations_between",
    "describe_path",
    "neighbourhood",
    "export_graphml",
    "export_json",
    "draw_neighbourhood",
]

_STATUS_ORDER = {"proven": 0, "verified": 1, "inconclusive": 2, "proposed": 3, "refuted": 4}


def constant_node(name: str) -> str:
    """The node id of a constant: ``"const:<canonical name>"``.

    Examples
    --------
    >>> constant_node("const:zeta3")
    'const:zeta3'
    """
    if name.startswith("const:"):
        name = name[len("const:") :]
    return "const:" + canonical_constant(name)


def build_graph(store) -> nx.MultiDiGraph:
    """Build the graph view of a :class:`~discovery.store.Store` (read-only access)."""
    G = nx.MultiDiGraph()
    const_nodes: dict[str, str] = {}

    def const(name: str) -> str:
        node = const_nodes.get(name)
        if node is None:
            node = const_nodes[name] = constant_node(name)
            if node not in G:
                G.add_node(node, type="constant", name=node[len("const:") :])
        return node

    nodes, edges = [], []
    for row in store.iter_graph_nodes():
        attrs = {k: v for k, v in row.items() if k != "key" and v is not None}
        attrs["type"] = "conjecture"
        nodes.append((row["key"], attrs))
        if row["constant"]:
            edges.append((row["key"], const(row["constant"]), "evaluates-to", {}))
    G.add_nodes_from(nodes)
    for run in store.runs():
        G.add_node(f"run:{run.id}", type="run", name=run.name, engine=run.engine, status=run.status)
    for rel in store.relations():
        for end in (rel.src, rel.dst):
            if end not in G:
                if end.startswith("const:"):
                    const(end)
                else:
                    G.add_node(end, type="run" if end.startswith("run:") else "formula")
        attrs = {} if rel.run is None else {"run": rel.run}
        edges.append((rel.src, rel.dst, rel.type, attrs))
    G.add_edges_from((u, v, k, dict(d, type=k)) for u, v, k, d in edges)
    return G


def _sort_key(G: nx.MultiDiGraph, node: str) -> tuple:
    d = G.nodes[node]
    return (_STATUS_ORDER.get(d.get("status"), 5), -(d.get("digits") or 0), node)


def formulas_for(G: nx.MultiDiGraph, constant: str) -> list[str]:
    """Keys of the conjectures that evaluate to ``constant``, best first.

    Best = proven, then verified, ...; then more digits; then key. An unknown constant
    gives an empty list.
    """
    node = constant_node(constant)
    if node not in G:
        return []
    keys = {u for u, _, k in G.in_edges(node, keys=True) if k == "evaluates-to"}
    return sorted(keys, key=lambda n: _sort_key(G, n))


EQUIVALENCES = ("equivalent-to", "contracts-to")


def families(
    G: nx.MultiDiGraph, min_size: int = 2, via: tuple[str, ...] = EQUIVALENCES
) -> list[list[str]]:
    """Connected components of conjectures through equivalence edges.

    ``via`` are the relation types that count as equivalence: ``equivalent-to`` (Möbius,
    coboundary, fold) and ``contracts-to`` (a signed continued fraction and the PCF it
    contracts to). Unstored formula nodes connect families but are not listed. Returns
    sorted lists of keys, largest family first; families smaller than ``min_size`` are left
    out (``min_size=1`` includes every conjecture).
    """
    H = nx.Graph()
    H.add_nodes_from(n for n, d in G.nodes(data=True) if d.get("type") in ("conjecture", "formula"))
    H.add_edges_from(
        (u, v) for u, v, k in G.edges(keys=True) if k in via and u in H and v in H
    )
    comps = []
    for comp in nx.connected_components(H):
        members = sorted(n for n in comp if G.nodes[n].get("type") == "conjecture")
        if members and len(members) >= min_size:
            comps.append(members)
    return sorted(comps, key=lambda c: (-len(c), c[0]))


def _relation_view(G: nx.MultiDiGraph, keep: Iterable[str] = ()) -> nx.Graph:
    """Undirected simple view without run nodes and without constants other than ``keep``."""
    keep = set(keep)
    allowed = [
        n
        for n, d in G.nodes(data=True)
        if d.get("type") in ("conjecture", "formula") or (d.get("type") == "constant" and n in keep)
    ]
    return nx.Graph(G.subgraph(allowed))


def relations_between(
    G: nx.MultiDiGraph, c1: str, c2: str, cutoff: int = 4, limit: int = 50
) -> list[list[str]]:
    """Paths (lists of node ids) linking two constants through conjectures and relations.

    Run nodes and other constants are not used as intermediate steps. At most ``limit``
    paths of at most ``cutoff`` edges, shortest first.
    """
    n1, n2 = constant_node(c1), constant_node(c2)
    if n1 not in G or n2 not in G or n1 == n2:
        return []
    H = _relation_view(G, keep=(n1, n2))
    paths = []
    for path in nx.all_simple_paths(H, n1, n2, cutoff=cutoff):
        paths.append(path)
        if len(paths) >= limit:
            break
    return sorted(paths, key=lambda p: (len(p), p))


def describe_path(G: nx.MultiDiGraph, path: list[str]) -> str:
    """Text of a path with the relation types along it, arrows in their stored direction.

    Examples
    --------
    >>> G = nx.MultiDiGraph()
    >>> G.add_edge("pcf:A", "const:e", key="evaluates-to")
    'evaluates-to'
    >>> describe_path(G, ["const:e", "pcf:A"])
    'const:e <-evaluates-to- pcf:A'
    """
    text = path[0] if path else ""
    for u, v in zip(path, path[1:], strict=False):
        if G.has_edge(u, v):
            text += f" -{'/'.join(sorted(G[u][v]))}-> {v}"
        else:
            text += f" <-{'/'.join(sorted(G[v][u]))}- {v}"
    return text


def neighbourhood(
    G: nx.MultiDiGraph, constant: str, radius: int = 2, max_nodes: int = 120
) -> nx.MultiDiGraph:
    """The subgraph around a constant (no run nodes), at most ``max_nodes`` nodes.

    Nodes are taken in breadth-first order, best conjectures first at each distance.
    """
    centre = constant_node(constant)
    if centre not in G:
        from solvers.errors import DiscoveryError

        raise DiscoveryError(f"No constant {constant!r} in the conjecture graph")
    H = _relation_view(G, keep=[n for n, d in G.nodes(data=True) if d.get("type") == "constant"])
    chosen = [centre]
    seen = {centre}
    frontier = [centre]
    for _ in range(radius):
        nxt = sorted(
            {m for n in frontier for m in H[n] if m not in seen}, key=lambda n: _sort_key(G, n)
        )
        for m in nxt:
            if len(chosen) >= max_nodes:
                break
            chosen.append(m)
            seen.add(m)
        frontier = [m for m in nxt if m in seen]
    return G.subgraph(chosen).copy()


def _scalar(value: Any) -> Any:
    if isinstance(value, (str, bool, float)):
        return value
    if isinstance(value, int):
        return value if abs(value).bit_length() < 63 else str(value)
    return json.dumps(value, default=str)


def _scalar_graph(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    H = nx.MultiDiGraph()
    H.add_nodes_from(
        (n, {k: _scalar(v) for k, v in d.items() if v is not None}) for n, d in G.nodes(data=True)
    )
    H.add_edges_from(
        (u, v, k, {a: _scalar(b) for a, b in d.items() if b is not None})
        for u, v, k, d in G.edges(keys=True, data=True)
    )
    return H


def export_graphml(G: nx.MultiDiGraph, path: str | Path) -> Path:
    """Write GraphML (attributes made scalar: ``None`` dropped, others as text)."""
    path = Path(path)
    nx.write_graphml(_scalar_graph(G), path)
    return path


def export_json(G: nx.MultiDiGraph) -> dict:
    """Node-link data with explicit keys (``nodes``, ``edges``, ``source``, ``target``, ``key``).

    Examples
    --------
    >>> G = nx.MultiDiGraph()
    >>> G.add_edge("pcf:A", "const:e", key="evaluates-to")
    'evaluates-to'
    >>> sorted(export_json(G))
    ['directed', 'edges', 'graph', 'multigraph', 'nodes']
    """
    return nx.node_link_data(
        _scalar_graph(G), source="source", target="target", name="id", key="key", edges="edges"
    )


_STATUS_COLOURS = {
    "proven": "#1b7837",
    "verified": "#5aae61",
    "inconclusive": "#fdb863",
    "proposed": "#bababa",
    "refuted": "#d6604d",
}
_EDGE_COLOURS = {"evaluates-to": "#4d4d4d", "equivalent-to": "#2166ac", "derived-from": "#8073ac"}


def draw_neighbourhood(
    G: nx.MultiDiGraph,
    constant: str,
    path: str | Path,
    *,
    radius: int = 2,
    max_nodes: int = 120,
    seed: int = 0,
) -> Path:
    """Draw the neighbourhood of a constant to an image file (PNG, SVG, PDF by suffix).

    Uses matplotlib's object-oriented API with the Agg canvas (no pyplot global state).
    Conjectures are coloured by status; the constant is the large star.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    H = neighbourhood(G, constant, radius=radius, max_nodes=max_nodes)
    centre = constant_node(constant)
    pos = nx.spring_layout(nx.Graph(H), seed=seed) if len(H) > 1 else {centre: (0.0, 0.0)}
    fig = Figure(figsize=(8, 8))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    by_type: dict[str, list] = {}
    for u, v, k in H.edges(keys=True):
        by_type.setdefault(k, []).append([pos[u], pos[v]])
    for k, segs in sorted(by_type.items()):
        colour = _EDGE_COLOURS.get(k, "#b2abd2")
        ax.add_collection(LineCollection(segs, colors=colour, linewidths=0.8, zorder=1))
    for status, colour in _STATUS_COLOURS.items():
        pts = [pos[n] for n, d in H.nodes(data=True) if d.get("status") == status]
        if pts:
            ax.scatter(*zip(*pts, strict=True), s=40, c=colour, zorder=2, label=status)
    consts = [n for n, d in H.nodes(data=True) if d.get("type") == "constant"]
    xy = [pos[n] for n in consts]
    ax.scatter(*zip(*xy, strict=True), s=300, marker="*", c="#762a83", zorder=3)
    for n in consts:
        ax.annotate(n[len("const:") :], pos[n], xytext=(6, 6), textcoords="offset points")
    handles, labels = ax.get_legend_handles_labels()
    handles += [Line2D([], [], color=_EDGE_COLOURS.get(k, "#b2abd2")) for k in sorted(by_type)]
    labels += sorted(by_type)
    if handles:
        ax.legend(handles, labels, loc="best", fontsize="small")
    n_conj = sum(1 for _, d in H.nodes(data=True) if d.get("type") == "conjecture")
    ax.set_title(f"{centre[len('const:'):]}: {n_conj} conjectures within {radius} steps")
    ax.set_axis_off()
    ax.autoscale_view()
    path = Path(path)
    fig.savefig(path, dpi=100)
    return path
