"""Imports sit at the top of every tmsclient module; the one late import is inside a command's run(), for --help."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import tmsclient
from tmsclient.cli import COMMAND_MODULES

ROOT = Path(tmsclient.__file__).parent
#: Where a late import is allowed: the top-level run() of each command module (cli.py imports them all to
#: build the parser, so what they need of cryptography, requests or bs4 is imported when the command runs).
COMMAND_RUN = frozenset(f"tmsclient.commands.{name}" for name in COMMAND_MODULES)
#: What `tmsclient --help` must not load. (The optional keyring extra, where installed, is imported at the top of
#: credentials.py like any other module: an admin who installs it pays its import in every command.)
HEAVY = ("cryptography", "requests", "bs4", "asn1crypto")
_DYNAMIC_IMPORTS = {"import_module", "__import__"}


def _imported(node: ast.AST) -> list[str]:
    """The modules an import statement (or an importlib.import_module / __import__ call) names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        return ["." * node.level + (node.module or "")]
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if called in _DYNAMIC_IMPORTS and isinstance(node.args[0].value, str):
            return [node.args[0].value]
    return []


def late_imports(source: str, module: str) -> list[str]:
    """``module:line in function: import`` for every import inside a function body that the rule does not allow.

    Module level is free (``if TYPE_CHECKING:``, ``try: import x except ImportError``, a version check);
    inside a function only the top-level ``run`` of a command module may import, and nothing nested in it."""
    tree = ast.parse(source)
    bad: list[str] = []

    def visit(node: ast.AST, function: ast.AST | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, child)
                continue
            names = _imported(child) if function is not None else []
            if names:
                name = getattr(function, "name", "<lambda>")
                allowed_run = module in COMMAND_RUN and name == "run" and function in tree.body
                if not allowed_run:
                    bad.append(f"{module}:{getattr(child, 'lineno', '?')} in {name}(): {', '.join(names)}")
            visit(child, function)

    visit(tree, None)
    return bad


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = ["tmsclient", *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found.append((".".join(parts), path))
    return found


def test_no_module_imports_inside_a_function_but_a_command_run():
    bad = [line for module, path in modules() for line in late_imports(path.read_text(encoding="utf-8"), module)]
    assert bad == []


def test_the_walk_reads_every_module_and_the_exemption_is_used():
    found = dict(modules())
    assert len(found) >= 30 and {"tmsclient.settings", "tmsclient.certs.facts"} <= set(found)
    flagged_elsewhere = []
    for module in sorted(COMMAND_RUN):
        source = found[module].read_text(encoding="utf-8")
        assert late_imports(source, module) == []
        flagged_elsewhere += late_imports(source, "tmsclient.not_a_command")
    assert flagged_elsewhere  # the commands do import in run(), and only the exemption lets them


# A self-check on synthetic sources, so the test cannot pass by finding nothing.
LATE = [
    ("def f():\n    import cryptography\n", "tmsclient.settings"),
    ("def f():\n    from tmsclient.certs import summary\n", "tmsclient.certs.chain"),
    ("async def f():\n    import requests\n", "tmsclient.output"),
    ("class C:\n    def m(self):\n        from bs4 import BeautifulSoup\n", "tmsclient.cli"),
    ("def f():\n    if TYPE_CHECKING:\n        import x\n", "tmsclient.config"),
    ("def f():\n    try:\n        import x\n    except ImportError:\n        x = None\n", "tmsclient.config"),
    ("def f():\n    importlib.import_module('tmsclient.certs.loading')\n", "tmsclient.cli"),
    ("f = lambda: __import__('requests')\n", "tmsclient.output"),
    ("def helper(args):\n    import cryptography\n", "tmsclient.commands.inspect"),
    ("def run(args, ctx):\n    def inner():\n        import x\n", "tmsclient.commands.inspect"),
    ("class Cmd:\n    def run(self, args, ctx):\n        import x\n", "tmsclient.commands.inspect"),
    ("def run(args, ctx):\n    import x\n", "tmsclient.commands.pool"),  # a helper module, not a command
    ("def keyring_secret():\n    import keyring\n    import keyring.errors\n", "tmsclient.credentials"),
]
ALLOWED = [
    ("import cryptography\nfrom tmsclient.errors import ConfigError\n", "tmsclient.certs.summary"),
    ("if TYPE_CHECKING:\n    from cryptography import x509\n", "tmsclient.commands.bundle"),
    ("try:\n    import keyring\nexcept ImportError:\n    keyring = None\n", "tmsclient.credentials"),
    ("if sys.version_info >= (3, 11):\n    import tomllib\nelse:\n    import tomli as tomllib\n", "tmsclient.config"),
    ("def run(args, ctx):\n    from tmsclient.certs.loading import load_pfx_file\n", "tmsclient.commands.upload"),
    ("def f():\n    text = 'import cryptography'\n", "tmsclient.output"),
]


@pytest.mark.parametrize(("source", "module"), LATE)
def test_the_walk_catches_a_late_import(source, module):
    assert late_imports(source, module), source


@pytest.mark.parametrize(("source", "module"), ALLOWED)
def test_the_walk_allows_top_level_and_run_imports(source, module):
    assert late_imports(source, module) == []


_PROBE = """
import contextlib, io, json, runpy, sys
sys.argv = ["tmsclient", *json.loads(sys.argv[1])]
with contextlib.redirect_stdout(io.StringIO()):
    try:
        runpy.run_module("tmsclient", run_name="__main__")
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


@pytest.mark.parametrize("argv", [["--help"], ["upload", "--help"], ["renew", "--help"], ["inspect", "--help"]])
def test_help_loads_no_heavy_library(argv):
    """`python -m tmsclient --help` as a user runs it, in its own process: the parser only, no crypto or HTTP."""
    run = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(argv)], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["code"] in (0, None)
    loaded = set(report["modules"])
    assert "tmsclient.cli" in loaded and "tmsclient.commands.renew" in loaded  # the probe ran the parser
    assert [m for m in loaded if m.split(".")[0] in HEAVY] == []
