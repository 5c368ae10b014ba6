"""Neither package imports the other: the emulator judges uploads by its own rules, never the client's code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tmsclient
import tmsemulator

PACKAGES = {"tmsclient": Path(tmsclient.__file__).parent, "tmsemulator": Path(tmsemulator.__file__).parent}
FORBIDDEN = {"tmsclient": "tmsemulator", "tmsemulator": "tmsclient"}
_DYNAMIC_IMPORTS = {"import_module", "__import__"}


def imported_names(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module ``source`` imports, anywhere in it (functions, classes, ``if`` branches included): ``import``,
    ``from ... import`` (relative ones resolved against ``module``) and ``importlib.import_module("...")``."""
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import submodule`
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if called in _DYNAMIC_IMPORTS and isinstance(node.args[0].value, str):
                names.add(node.args[0].value)
    return names


def modules_of(package: str) -> list[tuple[str, Path]]:
    root = PACKAGES[package]
    found: list[tuple[str, Path]] = []
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found.append((".".join(parts), path))
    return found


def crossings(package: str) -> list[str]:
    """``module -> import`` for every import of the other package by a module of ``package``."""
    other = FORBIDDEN[package]
    bad: list[str] = []
    for module, path in modules_of(package):
        names = imported_names(path.read_text(encoding="utf-8"), module, is_package=path.name == "__init__.py")
        bad.extend(f"{module} -> {name}" for name in sorted(names) if name.split(".")[0] == other)
    return bad


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_module_of_one_package_imports_the_other(package):
    assert crossings(package) == []


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_the_walk_reads_every_module(package):
    modules = dict(modules_of(package))
    assert package in modules and len(modules) >= 10  # the package itself and its modules, not an empty walk
    seen = set().union(*(imported_names(p.read_text(encoding="utf-8"), m) for m, p in modules.items()))
    assert any(name.startswith(f"{package}.") for name in seen)  # its own imports are found


# A self-check on synthetic sources: the walk must catch every way of writing the import.
CROSSING = [
    "import tmsclient",
    "import tmsclient.certs.compat as compat",
    "from tmsclient.errors import ConfigError",
    "from tmsclient import errors",
    "def f():\n    from tmsclient.certs import files\n",
    "class C:\n    def m(self):\n        import tmsclient.exitcodes\n",
    "try:\n    pass\nexcept ImportError:\n    from tmsclient import cli\n",
    "import importlib\nimportlib.import_module('tmsclient.certs.compat')\n",
    "__import__('tmsclient')\n",
]
NOT_CROSSING = [
    "import tmsclientx",
    "from tmsemulator.errors import ConfigError",
    "from . import errors",
    "from .windows import WINDOWS_VERSIONS",
    "text = 'import tmsclient'  # a string, not an import",
]


@pytest.mark.parametrize("source", CROSSING)
def test_the_walk_catches_an_import_of_the_other_package(source):
    names = imported_names(source, "tmsemulator.sub.mod")
    assert "tmsclient" in {name.split(".")[0] for name in names}, names


@pytest.mark.parametrize("source", NOT_CROSSING)
def test_the_walk_does_not_flag_other_names(source):
    names = imported_names(source, "tmsemulator.mod")
    assert "tmsclient" not in {name.split(".")[0] for name in names}, names


def test_relative_imports_resolve_inside_their_own_package():
    assert imported_names("from ..windows import HostRules", "tmsemulator.sub.mod") == {
        "tmsemulator.windows",
        "tmsemulator.windows.HostRules",
    }
    assert imported_names("from . import app", "tmsemulator", is_package=True) == {"tmsemulator", "tmsemulator.app"}
