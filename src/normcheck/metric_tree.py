"""``normcheck metrics``: the North Star metric tree.

Each North Star metric, the input metrics whose ``meta.drives`` name it, and the
supporting metrics under those; each with its owner, its thresholds and its own
finding status (red: an open error on it, yellow: an open warning, green:
neither). Rendered as a text tree for the terminal and as Markdown with a
Mermaid graph for a pull request or a wiki page. Output is sorted by name and
deterministic."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from normcheck.finding import Finding
from normcheck.project import Project
from normcheck.report._common import md_cell, md_code
from normcheck.semantic import MetricSpec, read_thresholds

if TYPE_CHECKING:
    from normcheck.run import Result, RunOptions

TIER_NAMES = {"north_star": "North Star", "input": "input", "supporting": "supporting"}
LIGHT_EMOJI = {"red": "🔴", "yellow": "🟡", "green": "🟢"}
FORMATS = ("text", "markdown")


@dataclass(frozen=True)
class Node:
    name: str
    uid: str
    label: str
    tier: str
    drives: tuple[str, ...]
    owner: str
    thresholds: str  # "" when none are declared
    light: str  # red, yellow or green: the metric's own open findings ("" when not judged)
    rules: tuple[str, ...]  # the rules with open errors or warnings on it
    children: tuple[Node, ...] = ()
    package: str = ""  # the installed package it comes from: judged in its own project


@dataclass(frozen=True)
class MetricTree:
    project: str
    stars: tuple[Node, ...]
    unattached: tuple[Node, ...]  # input and supporting metrics that reach no North Star
    untiered: tuple[str, ...]  # metrics without a (valid) tier

    @property
    def empty(self) -> bool:
        return not (self.stars or self.unattached or self.untiered)


def _light(findings: Sequence[Finding], judged: bool = True) -> tuple[str, tuple[str, ...]]:
    if not judged:
        return "", ()
    open_ = [f for f in findings if f.severity in ("error", "warning")]
    rules = tuple(sorted({f.rule for f in open_}))
    if any(f.severity == "error" for f in open_):
        return "red", rules
    return ("yellow" if open_ else "green"), rules


def _thresholds(spec: MetricSpec) -> str:
    if spec.thresholds is None:
        return ""
    parsed, _ = read_thresholds(spec.thresholds)
    return parsed.shown if parsed is not None else "invalid"


def build_tree(
    project: Project, findings: Iterable[Finding], team: str | None = None
) -> MetricTree:
    """The tree of one project's metrics; ``findings`` give each metric's light."""
    layer = project.semantic
    by_resource: dict[str, list[Finding]] = {}
    for finding in findings:
        by_resource.setdefault(finding.resource, []).append(finding)

    def node(spec: MetricSpec, path: tuple[str, ...]) -> Node:
        resource = project.resources.get(spec.uid)
        owner = (resource.owner if resource else None) or team or ""
        # a metric of an installed package is judged in its own project, not here:
        # no light, rather than a green that no rule gave
        package = spec.package if spec.package != project.name else ""
        light, rules = _light(by_resource.get(spec.uid, ()), judged=not package)
        children = tuple(
            node(layer.metrics[name], (*path, name))
            for name in _children(spec.name, layer.driven_by, layer.metrics)
            if name not in path
        )
        return Node(
            name=spec.name,
            uid=spec.uid,
            label=(spec.label or "").strip(),
            tier=spec.tier or "",
            drives=spec.drives,
            owner=owner,
            thresholds=_thresholds(spec),
            light=light,
            rules=rules,
            children=children,
            package=package,
        )

    stars = tuple(node(layer.metrics[name], (name,)) for name in layer.north_stars)
    reached = {n.name for star in stars for n in _walk(star)}
    unattached = tuple(
        node(spec, (spec.name,))
        for name, spec in sorted(layer.metrics.items())
        if spec.tier in ("input", "supporting") and name not in reached
    )
    placed = reached | {n.name for top in unattached for n in _walk(top)}
    untiered = tuple(sorted(name for name in layer.metrics if name not in placed))
    return MetricTree(project.name, stars, unattached, untiered)


def _children(
    name: str, driven_by: Mapping[str, tuple[str, ...]], metrics: Mapping[str, MetricSpec]
) -> list[str]:
    order = {"input": 0, "supporting": 1}
    return sorted(driven_by.get(name, ()), key=lambda n: (order.get(metrics[n].tier or "", 2), n))


def _walk(node: Node) -> Iterable[Node]:
    yield node
    for child in node.children:
        yield from _walk(child)


# ---------------------------------------------------------------- text

Style = Callable[[str, str], str]  # (text, light) -> text


def _status(node: Node) -> str:
    if not node.light:
        return f"-  from package {node.package}, judged there"
    return f"{node.light}  {', '.join(node.rules)}".rstrip()


def render_text(trees: Sequence[MetricTree], style: Style | None = None) -> str:
    paint: Style = style or (lambda text, _light: text)
    out: list[str] = []
    for tree in trees:
        if out:
            out.append("")
        out += _text_tree(tree, paint)
    return "\n".join(out) + "\n"


def _text_tree(tree: MetricTree, paint: Style) -> list[str]:
    if tree.empty:
        return [f"Metric tree of {tree.project}: no metrics"]
    rows: list[tuple[str, Node]] = []

    def add(node: Node, lead: str, branch: str) -> None:
        rows.append((lead + branch + node.name, node))
        child_lead = lead + ("" if not branch else "    " if branch == "└── " else "│   ")
        for index, child in enumerate(node.children):
            last = index == len(node.children) - 1
            add(child, child_lead, "└── " if last else "├── ")

    for star in tree.stars:
        add(star, "", "")
    first_unattached = len(rows)
    for top in tree.unattached:
        add(top, "", "")
    inputs = {n.name for star in tree.stars for n in _walk(star) if n.tier == "input"}
    head = [
        f"Metric tree of {tree.project}: {_count(len(tree.stars), 'North Star')}, "
        f"{_count(len(inputs), 'input metric')} driving them"
    ]
    if not tree.stars:
        head.append(
            "No North Star metric: set `meta.tier: north_star` on the few the company steers by."
        )
    header = ("metric", "tier", "owner", "thresholds", "status")
    table = [
        (
            name,
            TIER_NAMES.get(n.tier, n.tier or "-"),
            n.owner or "-",
            n.thresholds or "-",
            _status(n),
        )
        for name, n in rows
    ]
    widths = [
        max(len(h), *(len(r[i]) for r in table)) if table else len(h) for i, h in enumerate(header)
    ]

    def line(cells: Sequence[str], light: str = "") -> str:
        padded = [c.ljust(widths[i]) for i, c in enumerate(cells[:-1])]
        status = cells[-1]
        if light:
            word, _, rest = status.partition("  ")
            status = paint(word, light) + (f"  {rest}" if rest else "")
        return "  ".join([*padded, status]).rstrip()

    lines = [*head, ""]
    if table:
        lines.append(line(header))
    for index, ((_, node), cells) in enumerate(zip(rows, table, strict=True)):
        if index == first_unattached:
            lines += ["", "Not attached to a North Star:"]
        lines.append(line(cells, node.light))
    if tree.untiered:
        lines += ["", f"Without a tier: {', '.join(tree.untiered)}"]
    return lines


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


# ------------------------------------------------------------ markdown


def _pretty(thresholds: str) -> str:
    return thresholds.replace(">=", "≥").replace("<=", "≤")


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def render_markdown(trees: Sequence[MetricTree]) -> str:
    out: list[str] = []
    for tree in trees:
        if out:
            out.append("")
        out += _markdown_tree(tree)
    return "\n".join(out) + "\n"


def _markdown_tree(tree: MetricTree) -> list[str]:
    out = [f"## Metric tree: {tree.project}", ""]
    if tree.empty:
        return [*out, "No metrics."]
    nodes: dict[str, Node] = {}
    edges: set[tuple[str, str]] = set()

    def collect(node: Node, parent: Node | None) -> None:
        nodes.setdefault(node.name, node)
        if parent is not None:
            edges.add((node.name, parent.name))
        for child in node.children:
            collect(child, node)

    for top in (*tree.stars, *tree.unattached):
        collect(top, None)
    if nodes:
        ids = {name: f"m{i}" for i, name in enumerate(nodes)}  # in tree order
        out += ["```mermaid", "graph BT"]
        for name, n in nodes.items():
            lines = [f"<b>{_mermaid_text(name)}</b>"]
            if n.label:
                lines.append(_mermaid_text(n.label))
            details = [TIER_NAMES.get(n.tier, n.tier), n.owner or "no owner"]
            lines.append(_mermaid_text(" · ".join(details)))
            if n.thresholds:
                lines.append(_mermaid_text(_pretty(n.thresholds)))
            out.append(f'  {ids[name]}["{"<br/>".join(lines)}"]')
        for child, parent in sorted(edges, key=lambda e: (ids[e[1]], ids[e[0]])):
            out.append(f"  {ids[child]} --> {ids[parent]}")
        out += [
            "  classDef red fill:#f8d7da,stroke:#b02a37,color:#58151c",
            "  classDef yellow fill:#fff3cd,stroke:#997404,color:#664d03",
            "  classDef green fill:#d1e7dd,stroke:#146c43,color:#0a3622",
        ]
        for light in ("red", "yellow", "green"):
            members = [ids[name] for name, n in nodes.items() if n.light == light]
            if members:
                out.append(f"  class {','.join(members)} {light}")
        out += ["```", ""]
        out += [
            "| metric | label | tier | drives | owner | thresholds | status |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, n in nodes.items():
            drives = ", ".join(f"`{d}`" for d in n.drives)
            if not n.light:
                status = f"⚪ from package {md_code(n.package)}, judged there"
            else:
                status = f"{LIGHT_EMOJI[n.light]} {n.light}"
            if n.rules:
                status += " (" + ", ".join(f"`{r}`" for r in n.rules) + ")"
            out.append(
                f"| `{name}` | {md_cell(n.label)} | {TIER_NAMES.get(n.tier, n.tier)} | {drives} "
                f"| {md_cell(n.owner)} | {md_cell(_pretty(n.thresholds))} | {status} |"
            )
    if not tree.stars:
        out += [
            "",
            "No North Star metric: set `meta.tier: north_star` on the few the company steers by.",
        ]
    if tree.unattached:
        names = ", ".join(f"`{n.name}`" for n in tree.unattached)
        out += ["", f"Not attached to a North Star: {names}."]
    if tree.untiered:
        out += ["", f"Without a tier: {', '.join(f'`{n}`' for n in tree.untiered)}."]
    return out


def render(trees: Sequence[MetricTree], fmt: str, style: Style | None = None) -> str:
    if fmt == "markdown":
        return render_markdown(trees)
    return render_text(trees, style)


def metric_trees(options: RunOptions) -> tuple[list[MetricTree], Result]:
    """Check the project(s), then build each one's tree from its manifest."""
    from normcheck.artifacts.manifest import load_manifest
    from normcheck.config.loader import display_path
    from normcheck.project import build_project
    from normcheck.run import run

    result = run(options)
    config = result.config
    folders = list(config.projects) or [options.project_dir]
    trees = []
    for folder in folders:
        path = (
            options.manifest
            if options.manifest is not None and not config.projects
            else folder / "target" / "manifest.json"
        )
        shown = display_path(path.resolve())
        manifest = load_manifest(path, shown)
        project = build_project(manifest, None, folder.resolve(), shown, owners=config.owners)
        trees.append(build_tree(project, result.findings, config.team))
    return trees, result
