"""The source files a `python -m rnnlab...` job runs: the import closure of its module.

Snakemake cannot see the code behind `python -m`, so every rule lists it as inputs
(editing one reruns the job). The lists are computed here, when the DAG is built,
never typed: start at the module the rule runs, read its `import` and
`from ... import` statements (module level and inside functions, absolute and
relative), keep those inside the package, and follow them. Every package
`__init__.py` on the way counts too: Python runs it on import.

Imports under `if TYPE_CHECKING:` never run and are left out. Only the standard
library is used, so the workflow can load this file before anything is installed.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path


class ClosureError(ValueError):
    """An rnnlab import that names no module or package in the source tree."""


def module_file(src: Path, module: str) -> Path | None:
    """`a.b.c` -> src/a/b/c.py, or src/a/b/c/__init__.py for a package; None if neither."""
    base = src.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(test: ast.expr) -> bool:
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", None)
    return name == "TYPE_CHECKING"


class _Imports(ast.NodeVisitor):
    """Every (module, names, level) imported in a file, outside `if TYPE_CHECKING:`."""

    def __init__(self) -> None:
        self.found: list[tuple[str, tuple[str, ...], int]] = []

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.extend((alias.name, (), 0) for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        names = tuple(alias.name for alias in node.names)
        self.found.append((node.module or "", names, node.level))


def _absolute(module: str, is_package: bool, target: str, level: int) -> str:
    """The absolute name of `from <level dots><target> import ...` written in `module`."""
    if level == 0:
        return target
    parts = module.split(".")
    package = parts if is_package else parts[:-1]
    if level - 1 > len(package) - 1:
        raise ClosureError(f"{module}: relative import beyond the top-level package")
    base = package[: len(package) - (level - 1)]
    return ".".join(base + ([target] if target else []))


@cache
def _direct(src: Path, module: str, root: str) -> frozenset[str]:
    """Modules and packages inside `root` that `module` imports directly.

    Cached: the rules' 24 closures share most of their files, and parsing each file
    once instead of once per closure takes about 1 s off every Snakemake start.
    """
    path = module_file(src, module)
    if path is None:
        raise ClosureError(f"no module {module} under {src}")
    visitor = _Imports()
    visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    found: set[str] = set()
    for target, names, level in visitor.found:
        name = _absolute(module, path.name == "__init__.py", target, level)
        if name != root and not name.startswith(root + "."):
            continue
        if module_file(src, name) is None:
            raise ClosureError(f"{path} imports {name}, which is not in {src}")
        found.add(name)
        # `from pkg import sub`: sub is a module of its own when a file holds it.
        found.update(f"{name}.{n}" for n in names if module_file(src, f"{name}.{n}"))
    return frozenset(found)


def _with_parents(module: str) -> list[str]:
    """`a.b.c` -> [a, a.b, a.b.c]: importing a module runs every enclosing __init__."""
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


@cache
def closure(src: Path, module: str) -> tuple[str, ...]:
    """Sorted source files (relative to `src`, POSIX form) that `python -m module` runs."""
    root = module.split(".", 1)[0]
    seen: set[str] = set()
    todo = [module]
    while todo:
        for name in _with_parents(todo.pop()):
            if name not in seen:
                seen.add(name)
                todo.extend(_direct(src, name, root))
    files = {module_file(src, name) for name in seen}
    return tuple(sorted(path.relative_to(src).as_posix() for path in files if path))
