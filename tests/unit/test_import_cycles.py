"""The package's modules import each other in one direction: no module imports, at load
time, a module that imports it back (directly or through others), and no top-level package
(``chat``, ``engine``, ``models``…) imports one that imports it back: the layers of
ARCHITECTURE.md."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "backend" / "localwork"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def load_time_imports(path: Path, known: set[str]) -> set[str]:
    """The package modules a module imports when it loads: its top-level imports, not those
    inside functions or under ``if TYPE_CHECKING``."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:  # importing a.b.c loads the packages a and a.b first
            parts = name.split(".")
            found |= {".".join(parts[:n]) for n in range(1, len(parts) + 1)} & known
    return found


def graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    known = set(paths)
    return {
        name: {
            target
            for target in load_time_imports(path, known)
            if target != name and not name.startswith(target + ".")  # its own packages
        }
        for name, path in paths.items()
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_the_checker_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def layer_of(module: str) -> str:
    """``localwork.engine.local.worker`` is in the layer ``localwork.engine``."""
    return ".".join(module.split(".")[:2])


def layers(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for source, targets in edges.items():
        for target in targets:
            if layer_of(source) != layer_of(target):
                found.setdefault(layer_of(source), set()).add(layer_of(target))
    return found


def test_no_module_imports_one_that_imports_it_back():
    assert cycles(graph()) == []


def test_no_layer_imports_one_that_imports_it_back():
    assert cycles(layers(graph())) == []


def test_the_layers_are_the_ones_the_map_names():
    named = (PACKAGE.parents[1] / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for layer in layers(graph()):
        assert f"`{layer.removeprefix('localwork.')}" in named, layer
