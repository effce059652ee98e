"""The layout the README's "Architecture" section describes is the layout on disk, and stays
readable: small modules, short functions, a flat top of at most a dozen modules."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import REPO

PACKAGES = ("monitor", "storage")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 50
MAX_TOP_MODULES = 12


def _modules() -> list[Path]:
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "demo" in path.relative_to(REPO).parts[1:2]:
                continue  # the outlet simulator and its corpus: not part of the daemon's stages
            found.append(path)
    return found


def _architecture() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index("\n## Architecture")
    end = readme.index("\n## ", start + 1)
    return readme[start:end]


def test_every_module_the_architecture_names_exists_and_every_module_is_named() -> None:
    named = set(re.findall(r"`((?:monitor|storage)/[\w/]+\.py)`", _architecture()))
    assert named, "the Architecture section names no module"
    missing = sorted(p for p in named if not (REPO / p).is_file())
    assert missing == [], f"named in the README but absent: {missing}"
    unnamed = sorted(str(p.relative_to(REPO)) for p in _modules()
                     if p.name != "__init__.py" and str(p.relative_to(REPO)) not in named)
    assert unnamed == [], f"modules the Architecture section does not name: {unnamed}"


def test_every_stage_package_says_what_it_holds() -> None:
    for init in sorted((REPO / "monitor").glob("*/__init__.py")):
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), init


def test_modules_and_functions_stay_small() -> None:
    long_modules, long_functions = [], []
    for path in _modules():
        source = path.read_text(encoding="utf-8")
        if source.count("\n") > MAX_MODULE_LINES:
            long_modules.append(f"{path.relative_to(REPO)}: {source.count(chr(10))} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long_functions.append(f"{path.relative_to(REPO)}:{node.name}: {length}")
    assert long_modules == [] and long_functions == []


def test_the_top_of_monitor_holds_at_most_a_dozen_modules() -> None:
    top = sorted(p.name for p in (REPO / "monitor").glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, top
