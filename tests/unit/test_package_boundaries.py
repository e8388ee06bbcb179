"""The product's packages hold only the product: nothing under shop/ or site/sitegen/ imports
the benchmarks and load tests (bench/, which the wheel does not carry)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = (ROOT / "shop", ROOT / "site" / "sitegen")
HARNESS = "bench"
IMPORTERS = {"import_module", "__import__"}  # importlib.import_module("x"), __import__("x")


def imports_of_harness(source: str) -> list[int]:
    """The lines of `source` that import `bench` or a module of it."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if node.level == 0 else []  # relative: inside a package
        elif isinstance(node, ast.Call) and _called_name(node.func) in IMPORTERS and node.args:
            first = node.args[0]
            is_text = isinstance(first, ast.Constant) and isinstance(first.value, str)
            names = [first.value] if is_text else []
        else:
            continue
        if any(name == HARNESS or name.startswith(HARNESS + ".") for name in names):
            lines.append(node.lineno)
    return lines


def _called_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        ("import bench", [1]),
        ("import os\nimport bench.loadtest.stack as stack", [2]),
        ("from bench import PROJECT_ROOT", [1]),
        ("from bench.corpus import write_corpus", [1]),
        ("def f():\n    from bench.loadtest import seed", [2]),
        ("import importlib\nimportlib.import_module('bench.documents')", [2]),
        ("__import__('bench')", [1]),
        ("import benchmark\nfrom benchmarks import x", []),
        ("from . import bench\nfrom .bench import x", []),
        ("argv = ['python', '-m', 'bench.loadtest']", []),
    ],
)
def test_an_import_of_the_harness_is_found_on_its_line(source: str, lines: list[int]) -> None:
    assert imports_of_harness(source) == lines


def test_no_product_module_imports_the_benchmarks() -> None:
    sources = [path for package in PRODUCT for path in sorted(package.rglob("*.py"))]
    assert len(sources) > 50  # the walk reads the packages, not an empty folder
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sources
        for line in imports_of_harness(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "product modules import bench/: " + ", ".join(found)


def test_the_benchmarks_have_left_the_product_packages() -> None:
    left = [
        ROOT / "shop" / "loadtest",
        ROOT / "shop" / "documents" / "timing.py",
        ROOT / "site" / "sitegen" / "bench.py",
        ROOT / "site" / "sitegen" / "corpus.py",
    ]
    # A folder counts by its sources: a stale __pycache__ of an old checkout is no module.
    still = [path for path in left if path.is_file() or any(path.rglob("*.py"))]
    assert [str(path.relative_to(ROOT)) for path in still] == []
