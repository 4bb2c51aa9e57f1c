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

Conjecture nodes also carry their family (:mod:`discovery.catalogue`): ``family`` (id),
``family_representative`` (the representative's key), ``family_label`` and ``family_known``.

The *family graph* (:func:`family_graph`) is the coarser view ``discovery db graph`` draws:
one node per family of the store (labelled with its representative and that formula's own
claim) and one edge per pair of families that stored relations link (a coboundary
``equivalent-to``, a ``contracts-to`` or ``derived-from`` between members of the two
families), drawn by :func:`draw_family_graph`.

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

from discovery.store import Store, _constant_names
from discovery.text import printable
from solvers.constants import canonical_constant

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
    "family_graph",
    "family_label",
    "family_graph_data",
    "draw_family_graph",
    "FAMILY_EDGE_TYPES",
]

_STATUS_ORDER = {"proven": 0, "verified": 1, "inconclusive": 2, "proposed": 3, "refuted": 4,
                 "contradicted": 5}


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


def build_graph(store: Store) -> nx.MultiDiGraph:
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
    family_attrs = _family_attributes(store)
    for key, attrs in nodes:
        attrs.update(family_attrs.get(key, {}))
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


def _family_attributes(store) -> dict[str, dict]:
    """``{conjecture key: {"family": id, "family_representative": key, ...}}``."""
    try:
        fams = {f.id: f for f in store.families(limit=None, sort="found")}
        rows = store._read("SELECT key, family FROM conjectures WHERE family IS NOT NULL")
    except Exception:  # a store without families (or not a Store): no family attributes
        return {}
    out = {}
    for key, fid in rows:
        fam = fams.get(fid)
        if fam is None:
            continue
        rep = fam.representative
        out[key] = {
            "family": fam.id,
            "family_representative": rep.key if rep is not None else fam.key,
            "family_label": family_label(fam),
            "family_known": fam.known,
        }
    return out


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


def _scalar(value: Any, xml: bool = False) -> Any:
    if isinstance(value, str):
        return printable(value) if xml else value
    if isinstance(value, (bool, float)):
        return value
    if isinstance(value, int):
        return value if abs(value).bit_length() < 63 else str(value)
    return json.dumps(value, default=str)  # ASCII: no control character left raw


def _scalar_graph(G: nx.Graph, xml: bool = False) -> nx.Graph:
    """``G`` with scalar attributes (``None`` dropped); ``xml``: every text, node and edge
    key :func:`~discovery.text.printable` too (XML 1.0 allows no control characters)."""

    def name(n: Any) -> Any:
        return printable(n) if xml and isinstance(n, str) else n

    def attrs(d: dict) -> dict:
        return {k: _scalar(v, xml) for k, v in d.items() if v is not None}

    H = G.__class__()
    H.graph.update(attrs(G.graph))
    H.add_nodes_from((name(n), attrs(d)) for n, d in G.nodes(data=True))
    if G.is_multigraph():
        H.add_edges_from((name(u), name(v), name(k), attrs(d))
                         for u, v, k, d in G.edges(keys=True, data=True))
    else:
        H.add_edges_from((name(u), name(v), attrs(d)) for u, v, d in G.edges(data=True))
    return H


def export_graphml(G: nx.Graph, path: str | Path) -> Path:
    """Write GraphML (attributes made scalar: ``None`` dropped, others as text).

    Works for the conjecture graph and for the family graph (:func:`family_graph`). Text
    from the store is :func:`~discovery.text.printable` (a control character becomes a
    visible escape such as ``\\x1b``): the file is well-formed XML 1.0 whatever the store
    holds.

    Examples
    --------
    >>> import tempfile, xml.etree.ElementTree as ET
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("pcf:\\x00", name="run \\x1b[31m")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     root = ET.parse(export_graphml(G, Path(d) / "g.graphml")).getroot()
    >>> sorted(e.text for e in root.iter() if e.text and e.text.strip())
    ['run \\\\x1b[31m']
    """
    path = Path(path)
    nx.write_graphml(_scalar_graph(G, xml=True), path)
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
    "contradicted": "#762a83",
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


# --------------------------------------------------------------------------- the family graph

#: Relation types that link families in :func:`family_graph`, with the word drawn for each.
FAMILY_EDGE_TYPES = {
    "equivalent-to": "coboundary",
    "contracts-to": "contraction",
    "derived-from": "derived",
    "improves": "improves",
}
_FAMILY_EDGE_COLOURS = {
    "equivalent-to": "#2166ac",
    "contracts-to": "#1b7837",
    "derived-from": "#8073ac",
    "improves": "#d6604d",
}
_KNOWN_COLOUR, _NEW_COLOUR = "#e08214", "#5aae61"


def _shorten(text: str, width: int) -> str:
    text = printable(text)  # drawn: no control character (a missing glyph)
    return text if len(text) <= width else text[: width - 1] + "…"


def family_label(fam: Any, width: int = 48) -> str:
    """``"F1: PCF(4n + 2, 1) = (e + 1)/(e - 1) [known]"``: a family by its representative and
    that formula's own claim (the formula shortened to ``width`` characters).

    Examples
    --------
    >>> from search.base import Candidate
    >>> from discovery.store import Store
    >>> store = Store(":memory:")
    >>> c = Candidate("pcf", "pcf:x", {"a": [2, 4], "b": [1]}, "(e + 1)/(e - 1)", "e")
    >>> _ = store.record(c, {"verdict": "verified", "digits": 60})
    >>> family_label(store.family("F1"))
    'F1: PCF(4n + 2, 1) = (e + 1)/(e - 1) [known]'
    >>> store.close()
    """
    text = f"F{fam.id}: {_shorten(fam.formula_text, width)} = {fam.claim}"
    return text + " [known]" if fam.known else text


def _family_links(store, fam_of: dict[str, int], types: Iterable[str]
                  ) -> dict[tuple[int, int], dict[str, int]]:
    """``{(f1, f2): {relation type: number of member pairs}}`` for f1 < f2."""
    pairs: dict[tuple[int, int], dict[str, set]] = {}
    for rtype in types:
        for rel in store.relations(type=rtype):
            a, b = fam_of.get(rel.src), fam_of.get(rel.dst)
            if a is None or b is None or a == b:
                continue
            key = (min(a, b), max(a, b))
            pairs.setdefault(key, {}).setdefault(rtype, set()).add(
                frozenset((rel.src, rel.dst)))
    return {k: {t: len(v) for t, v in d.items()} for k, d in pairs.items()}


def family_graph(store, constant: str | None = None, *, radius: int = 1,
                 types: Iterable[str] = tuple(FAMILY_EDGE_TYPES)) -> nx.Graph:
    """The families of a store as a graph: one node per family, one edge per linked pair.

    Parameters
    ----------
    store : discovery.store.Store
        The conjecture store (read only).
    constant : str, optional
        Only the families of this constant (aliases work), plus the families of other
        constants within ``radius`` links of them (node attribute ``focus=False``).
        Default: every family.
    radius : int
        How many links away from the constant's families to follow (0: none).
    types : iterable of str
        Relation types that link two families: a relation between a member of one family
        and a member of another gives an edge between the families.

    Returns
    -------
    networkx.Graph
        Nodes ``"F<id>"`` with attributes ``id``, ``key``, ``label`` (:func:`family_label`),
        ``constant``, ``formula`` (the representative's formula text), ``claim`` (its own
        claim), ``representative`` (its conjecture id), ``members``, ``digits``, ``delta``,
        ``known``, ``source``, ``focus``; edges with ``types`` (``{relation type: member
        pairs}``), ``weight`` (all pairs) and ``label`` (``"coboundary ×4"``). The graph's
        ``title`` is ``"Families for e: 11 families, 4,400 formulas"``.
    """
    types = tuple(types)
    fams = {f.id: f for f in store.families(limit=None, sort="members")}
    fam_of = {key: fid for key, fid in store._read(
        "SELECT key, family FROM conjectures WHERE family IS NOT NULL")}
    links = _family_links(store, fam_of, types)
    if constant is None:
        focus = set(fams)
        chosen = set(fams)
    else:
        names = _constant_names(constant)
        focus = {fid for fid, f in fams.items() if f.constant in names}
        chosen = set(focus)
        adjacency: dict[int, set[int]] = {}
        for a, b in links:
            adjacency.setdefault(a, set()).add(b)
            adjacency.setdefault(b, set()).add(a)
        frontier = set(focus)
        for _ in range(max(0, radius)):
            frontier = {m for n in frontier for m in adjacency.get(n, ())} - chosen
            chosen |= frontier
    G = nx.Graph()
    for fid in sorted(chosen, key=lambda i: (-fams[i].members, i)):
        f = fams[fid]
        rep = f.representative
        G.add_node(f"F{fid}", id=fid, key=f.key, label=family_label(f), constant=f.constant,
                   formula=f.formula_text, claim=f.claim,
                   representative=None if rep is None else rep.id, members=f.members,
                   digits=f.digits, delta=f.delta, known=f.known, source=f.source,
                   focus=fid in focus)
    for (a, b), counts in sorted(links.items()):
        if a in chosen and b in chosen:
            label = ", ".join(f"{FAMILY_EDGE_TYPES.get(t, t)} ×{n}"
                              for t, n in sorted(counts.items()))
            G.add_edge(f"F{a}", f"F{b}", types=dict(counts), weight=sum(counts.values()),
                       label=label)
    n_focus = len(focus)
    formulas = sum(fams[i].members for i in focus)
    what = "all constants" if constant is None else canonical_constant(constant)
    G.graph["title"] = (f"Families for {what}: {n_focus:,} "
                        f"{'family' if n_focus == 1 else 'families'}, {formulas:,} "
                        f"{'formula' if formulas == 1 else 'formulas'}")
    G.graph["constant"] = None if constant is None else canonical_constant(constant)
    return G


def family_graph_data(G: nx.Graph) -> dict:
    """The family graph as JSON-able lists: ``{"title", "families", "links"}``.

    ``families`` are the node attribute dicts (with ``"node": "F<id>"``), largest first;
    ``links`` are ``{"source", "target", "types", "weight", "label"}``.
    """
    return {
        "title": G.graph.get("title"),
        "families": [{"node": n, **d} for n, d in G.nodes(data=True)],
        "links": [{"source": u, "target": v, **d} for u, v, d in G.edges(data=True)],
    }


def _row_order(G: nx.Graph, nodes: list[str]) -> list[str]:
    """Rows for the arc diagram: linked families next to each other, largest groups first."""
    H = G.subgraph(nodes)
    comps = []
    for comp in nx.connected_components(H):
        start = max(comp, key=lambda n: (H.nodes[n]["members"], -H.nodes[n]["id"]))
        order = list(nx.bfs_tree(H, start))
        size = sum(H.nodes[n]["members"] for n in comp)
        focus = any(H.nodes[n].get("focus") for n in comp)
        comps.append((not focus, str(H.nodes[start].get("constant")), -size,
                      H.nodes[start]["id"], order))
    return [n for *_, order in sorted(comps) for n in order]


def draw_family_graph(
    G: nx.Graph,
    path: str | Path,
    *,
    max_nodes: int = 60,
    title: str | None = None,
    width: int = 60,
) -> Path:
    """Draw the family graph as an arc diagram (PNG, SVG or PDF by the file's suffix).

    Each family is one row: a dot (its size grows with the number of members; orange for
    a family holding a formula of the literature, green for a new one) and its label,
    ``F<id>: <representative> = <its own claim>``, with the members, best digits and the
    source. Links between families are arcs on the left, coloured and labelled by relation
    type (``coboundary ×4``); a legend explains both. At most ``max_nodes`` families are
    drawn (the largest, and the families linked to them next to them). Uses matplotlib's
    Agg canvas (no pyplot global state).
    """
    import math

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    nodes = sorted(G, key=lambda n: (not G.nodes[n].get("focus", True),
                                     -G.nodes[n]["members"], G.nodes[n]["id"]))[:max_nodes]
    rows = _row_order(G, nodes)
    n_rows = max(1, len(rows))
    y = {n: -i for i, n in enumerate(rows)}
    fig = Figure(figsize=(14, 1.6 + 0.42 * n_rows))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    show_constant = len({G.nodes[n].get("constant") for n in rows}) > 1
    max_members = max([G.nodes[n]["members"] for n in rows] or [1])
    span = 0.0
    labels_at: dict[float, int] = {}  # arcs' labels at one height are staggered
    for u, v, d in G.edges(data=True):
        if u not in y or v not in y:
            continue
        for j, (rtype, count) in enumerate(sorted(d.get("types", {}).items())):
            gap = abs(y[u] - y[v])
            bulge = 0.3 + 0.22 * gap + 0.12 * j  # the arc's leftmost x
            span = max(span, bulge)
            colour = _FAMILY_EDGE_COLOURS.get(rtype, "#999999")
            mid = (y[u] + y[v]) / 2
            arc = MplPath([(0, y[u]), (-2 * bulge, mid), (0, y[v])],
                          [MplPath.MOVETO, MplPath.CURVE3, MplPath.CURVE3])
            ax.add_patch(PathPatch(arc, facecolor="none", edgecolor=colour, linewidth=1.2,
                                   zorder=1))
            k = labels_at[mid] = labels_at.get(mid, -1) + 1
            shift = 0.3 * ((k + 1) // 2) * (1 if k % 2 else -1)
            ax.annotate(f"{printable(FAMILY_EDGE_TYPES.get(rtype, rtype))} ×{count}",
                        (-bulge, mid + shift), xytext=(-3, 0), textcoords="offset points",
                        fontsize=7, color=colour, ha="right", va="center", parse_math=False)
    for n in rows:
        d = G.nodes[n]
        colour = _KNOWN_COLOUR if d.get("known") else _NEW_COLOUR
        size = 30 + 220 * math.log1p(d["members"]) / math.log1p(max_members)
        ax.scatter([0], [y[n]], s=size, c=colour, zorder=3, edgecolors="black",
                   linewidths=0.4 if d.get("focus", True) else 1.5)
        label = f"F{d['id']}: {_shorten(d['formula'], width)} = {_shorten(d['claim'], 40)}"
        facts = [f"{d['members']:,} member{'s' if d['members'] != 1 else ''}"]
        if d.get("digits") is not None:
            facts.append(f"{d['digits']} digits")
        if show_constant and d.get("constant"):
            facts.insert(0, printable(d["constant"]))
        facts.append(f"known: {_shorten(d['source'], 50)}" if d.get("known") else "new")
        ax.annotate(f"{label}   ({'; '.join(facts)})", (0, y[n]), xytext=(10, 0),
                    textcoords="offset points", fontsize=8, va="center", ha="left",
                    parse_math=False)  # a claim's "$" is text, not mathtext
    if not rows:
        ax.annotate("no families", (0, 0), ha="center", va="center", fontsize=12)
    handles = [Line2D([], [], marker="o", linestyle="", color=_KNOWN_COLOUR,
                      label="known (a formula of the literature)"),
               Line2D([], [], marker="o", linestyle="", color=_NEW_COLOUR, label="new")]
    used = sorted({t for u, v, d in G.edges(data=True) if u in y and v in y
                   for t in d.get("types", {})})
    handles += [Line2D([], [], color=_FAMILY_EDGE_COLOURS.get(t, "#999999"),
                       label=printable(f"{FAMILY_EDGE_TYPES.get(t, t)} ({t} between members)"))
                for t in used]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, 0.0), fontsize=8,
              ncol=len(handles), frameon=False)
    heading = title or G.graph.get("title") or "Families"
    if len(G) > len(rows):
        heading += f" (the {len(rows)} largest drawn)"
    ax.set_title(printable(heading), loc="left", parse_math=False)
    left = span + 1.0  # room for the arcs and their labels: about a fifth of the width
    ax.set_xlim(-left, 4 * left)
    ax.set_ylim(-n_rows + 0.4, 0.8)
    ax.set_axis_off()
    path = Path(path)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path
