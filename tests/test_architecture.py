"""The shape of the code: no import cycles, one direction between packages and stages, reasons for lazy imports."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.fixtures import ROOT

PACKAGES = ("rag", "index", "ui")

# Stages of `rag/` from the bottom up: a module may import its own stage and the ones below, never above.
# index/ sits just above the shared records; ui/ above everything but the CLI, which is the top leaf.
LAYERS = [
    {"rag.types", "rag.errors", "rag.config", "rag.lang", "rag.text", "rag.sanitize", "rag.users", "rag.audit"},
    {"index"},
    {"rag.models"},
    {"rag.ingest"},
    {"rag.generation"},
    {"rag.answer"},
    {"rag.brief"},
    {"rag.eval"},
    {"rag"},  # the Python API in rag/__init__.py
    {"ui"},
    {"rag.cli"},
]


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The project module an import refers to (`from rag.answer import pipeline` names rag.answer.pipeline)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _in_type_checking(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def _imports(module: str) -> list[tuple[str, int, bool]]:
    """(imported project module, line, inside a function) for every import of `module` outside TYPE_CHECKING."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or _in_type_checking(node, parents):
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative imports are not used here; resolve them if they ever are
                base = module.rsplit(".", node.level)[0]
                names = [f"{base}.{node.module}" if node.module else base]
            else:
                names = [f"{node.module}.{a.name}" for a in node.names]
        else:
            names = [a.name for a in node.names]
        in_function = False
        p = node
        while p in parents:
            p = parents[p]
            if isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef)):
                in_function = True
        for name in names:
            target = _resolve(name)
            if target and target != module and target.split(".")[0] in PACKAGES:
                out.append((target, node.lineno, in_function))
    return out


GRAPH = {m: sorted({t for t, _, _ in _imports(m)}) for m in MODULES}


def _layer(module: str) -> int:
    best = None
    for i, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if module == p or module.startswith(p + ".") and p != "rag":
                if best is None or len(p) > len(best[1]):
                    best = (i, p)
    if best is None:
        raise AssertionError(f"{module} belongs to no layer: add its folder to LAYERS")
    return best[0]


def test_every_module_belongs_to_a_stage() -> None:
    assert all(_layer(m) >= 0 for m in MODULES)
    assert {"rag.answer.pipeline", "rag.ingest.chunk", "rag.generation.registry", "rag.cli.main"} <= set(MODULES)


def test_no_import_cycles_between_modules() -> None:
    """Function-level imports count too: a lazy import hides a cycle, it does not remove it."""
    cycles, state = [], {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = "active"
        for t in GRAPH[m]:
            if state.get(t) == "active":
                cycles.append(stack[stack.index(t):] + [t])
            elif t not in state:
                visit(t, stack + [t])
        state[m] = "done"

    for m in sorted(MODULES):
        if m not in state:
            visit(m, [m])
    # A package's __init__ importing its own submodules (rag.cli -> rag.cli.main) is how packages export.
    real = [c for c in cycles if not all(c[0] == x or x.startswith(c[0] + ".") for x in c) and
            not all(c[-1] == x or x.startswith(c[-1] + ".") or c[-1].startswith(x + ".") for x in c)]
    assert real == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_the_stages(module: str) -> None:
    """index uses only the shared records; rag stages import downward; only the CLI reaches the UI."""
    own = _layer(module)
    upward = [t for t in GRAPH[module] if _layer(t) > own and not (module == "rag" and t.startswith("rag."))]
    sideways = [t for t in GRAPH[module] if _layer(t) == own and t.split(".")[:2] != module.split(".")[:2]
                and own not in (0, 1, 9)]  # the base modules, index/ and ui/ may use their siblings
    assert (upward, sideways) == ([], [])


def test_index_uses_only_the_shared_records() -> None:
    used = {t for m in MODULES if m.startswith("index") for t in GRAPH[m] if not t.startswith("index")}
    assert used <= {"rag.types", "rag.errors"}


def test_nothing_imports_the_cli() -> None:
    assert [m for m in MODULES if not m.startswith("rag.cli") and any(t.startswith("rag.cli") for t in GRAPH[m])] == []


def test_function_level_project_imports_say_why() -> None:
    """A project import inside a function needs a comment saying why: on its line, or atop its block of imports."""

    def explained(lines: list[str], i: int) -> bool:
        if "#" in lines[i]:
            return True
        while i > 0 and lines[i - 1].strip().startswith(("from ", "import ", "#")):
            i -= 1
            if lines[i].strip().startswith("#"):
                return True
        return False

    silent = []
    for m, path in MODULES.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for _target, lineno, in_function in _imports(m):
            if in_function and not explained(lines, lineno - 1):
                silent.append(f"{path.relative_to(ROOT)}:{lineno}")
    assert silent == []
