"""The floors of the code base, read from the source with `ast` (nothing is imported).

Each package may import only its own floor and the floors below it:
lambdas < infra < cisctl < local < bench. The product (`lambdas/`) knows nothing of how it is deployed,
the deployment nothing of the tools, and the tools nothing of the benchmark. And no module imports
itself back through others, whether the import sits at the top of the file or inside a function:
a loop dodged with a late import is still a loop. Only an import under `if TYPE_CHECKING:` is left out
of the loops, since it never runs (it names a type for the checker), though not out of the floors.

`app.py` and `tests/` stand outside the floors: they may import any of them.
"""

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLOORS = ("lambdas", "infra", "cisctl", "local", "bench")


@cache
def modules() -> dict[str, Path]:
    """Every first-party module by dotted name (a package by its own name, not `pkg.__init__`)."""
    found = {}
    for package in FLOORS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _resolve(target: str) -> str | None:
    """The first-party module an imported dotted name lands in (`a.b.func` -> `a.b`), None if third-party."""
    known = modules()
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


def _imported_names(name: str, path: Path, *, type_checking: bool) -> set[str]:
    """The dotted names a module imports, anywhere in it (module level or in functions), and, with
    `type_checking`, those imported only for the type checker (`if TYPE_CHECKING:`)."""
    is_package = path.name == "__init__.py"
    package = name.split(".") if is_package else name.split(".")[:-1]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skipped = set()
    if not type_checking:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    names = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                anchor = package[: len(package) - (node.level - 1)]
                module = ".".join([*anchor, module] if module else anchor)
            # `from a import b` imports module `a`, and module `a.b` when b is one
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


@cache
def graph(*, type_checking: bool) -> dict[str, frozenset[str]]:
    """Module -> the first-party modules it imports. A package importing its own submodules (its
    `__init__` re-exporting them) is how Python packages work, not a loop of design: that arrow is
    left out."""
    edges = {}
    for name, path in modules().items():
        targets = {
            _resolve(imported) for imported in _imported_names(name, path, type_checking=type_checking)
        }
        edges[name] = frozenset(
            t for t in targets if t is not None and t != name and not t.startswith(name + ".")
        )
    return edges


def _floor(module: str) -> int:
    return FLOORS.index(module.split(".")[0])


def find_cycle(edges: dict[str, frozenset[str]]) -> list[str] | None:
    """One import loop as a path that starts and ends at the same module, or None when there is none."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" once fully explored
    for start in sorted(edges):
        if start in state:
            continue
        path = [start]
        state[start] = "open"
        pending = [iter(sorted(edges[start]))]
        while pending:
            nxt = next(pending[-1], None)
            if nxt is None:
                state[path.pop()] = "done"
                pending.pop()
            elif state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in state:
                state[nxt] = "open"
                path.append(nxt)
                pending.append(iter(sorted(edges[nxt])))
    return None


def test_the_floors_hold_every_module():
    assert set(modules()) >= set(FLOORS)
    assert len(modules()) > 50  # the walk really found the source


def test_no_module_imports_a_higher_floor():
    upward = sorted(
        f"{module} ({module.split('.')[0]}) imports {target} ({target.split('.')[0]})"
        for module, targets in graph(type_checking=True).items()
        for target in targets
        if _floor(target) > _floor(module)
    )
    assert not upward, "imports of a higher floor (lambdas < infra < cisctl < local < bench):\n" + "\n".join(
        upward
    )


def test_no_import_cycles():
    cycle = find_cycle(graph(type_checking=False))
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": frozenset("b"), "b": frozenset("c"), "c": frozenset()}, None),
        ({"a": frozenset("b"), "b": frozenset("c"), "c": frozenset("a")}, ["a", "b", "c", "a"]),
        ({"a": frozenset("b"), "b": frozenset("c"), "c": frozenset("b")}, ["b", "c", "b"]),
        # a diamond is no loop
        ({"a": frozenset("bc"), "b": frozenset("d"), "c": frozenset("d"), "d": frozenset()}, None),
    ],
)
def test_find_cycle_reports_the_loop_as_a_path(edges, expected):
    assert find_cycle(edges) == expected


def test_function_level_and_relative_imports_are_read(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text(
        "import os\n"
        "from . import sibling\n"
        "from ..up import thing\n"
        "def late():\n"
        "    from lambdas.domain import items\n"
        "if TYPE_CHECKING:\n"
        "    from bench.report import Figures\n"
    )
    names = _imported_names("local.sources.mod", source, type_checking=False)
    assert {"os", "local.sources.sibling", "local.up.thing", "lambdas.domain.items"} <= names
    assert "bench.report" not in names
    assert "bench.report" in _imported_names("local.sources.mod", source, type_checking=True)
