"""The package's layout stays readable: modules of a sitting's length, no import cycles, no pages inside Python strings.

Each test reads the source with `ast` (nothing is imported), so what it checks is the code a student opens.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "albert_explained"
MOST_LINES = 600  # the "about 600", formatted by ruff format; model.py comes closest


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


PATHS = sorted(PACKAGE.rglob("*.py"))
MODULES = {module_name(path): path for path in PATHS}


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Whether `node` sits in the body of `if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`), which never runs; its
    `else:` does."""
    while node in parents:
        parent = parents[node]
        if (
            isinstance(parent, ast.If)
            and ast.unparse(parent.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
            and node in parent.body
        ):
            return True
        node = parent
    return False


def packages_above(name: str) -> list[str]:
    """`a.b.c` -> [`a`, `a.b`]: the packages whose __init__ runs before module `a.b.c` does."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def imported_modules(name: str) -> set[str]:
    """The package's modules that `name` imports, at the top or inside a function (a lazy import is still an edge)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    here = name if is_package(name) else name.rpartition(".")[0]  # what `from . import` means in this file
    found = set()
    for node in ast.walk(tree):
        if type_checking_only(node, parents):
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in MODULES)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.rsplit(".", node.level - 1)[0] if node.level > 1 else here
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if target not in MODULES:
                continue
            for alias in node.names:  # `from .views import plots` imports the module plots
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in MODULES else target)
    # Importing a module runs the __init__ of every package above it first: those are imports too, except of the
    # packages this module sits in, which have begun running before it.
    found.update(
        package
        for module in list(found)
        for package in packages_above(module)
        if package not in packages_above(name) and package != name
    )
    found.discard(name)
    return found


def test_every_module_has_one_file():
    assert len(MODULES) == len(PATHS)  # no m.py beside a package m/, which Python would import instead


def test_no_module_is_longer_than_a_sitting():
    lengths = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()}
    assert lengths["albert_explained.model"] > 400  # the counting sees the files
    assert {name: n for name, n in lengths.items() if n > MOST_LINES} == {}


def test_no_module_imports_a_module_that_imports_it_back():
    graph = {name: imported_modules(name) for name in MODULES}
    assert "albert_explained.weights" in graph["albert_explained.model"]  # the parsing sees relative imports
    assert "albert_explained.model" in graph["albert_explained.bundled"]

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            name = todo.pop()
            if name == goal:
                return True
            if name not in seen:
                seen.add(name)
                todo.extend(graph[name])
        return False

    # A package's __init__ importing its own submodules is how packages are built; a submodule that imports back
    # from its package's __init__ (`from . import x`) works only in the order the __init__ happens to import things,
    # so that is a cycle like any other.
    cycles = sorted((name, other) for name, imports in graph.items() for other in imports if reaches(other, name))
    assert cycles == []


def test_no_python_string_holds_a_page_of_html_or_javascript():
    """Pages and scripts live in package data files (views/page.html, views/page.js), read at run time."""
    markers = ("<html", "<script", "<div", "<style", "function(", "function ", "=>", "document.", "const ")
    found = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and (body := node.body)
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):  # an f-string: its literal pieces together
                text = "".join(part.value for part in node.values if isinstance(part, ast.Constant))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                text = node.value
            else:
                continue
            if text.count("\n") >= 5 and any(marker in text for marker in markers):
                found.append(f"{name}:{node.lineno}")
    assert found == []
