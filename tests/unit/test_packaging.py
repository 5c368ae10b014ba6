"""Installs that work where admins are: no install line installs `tmsclient` from the public index, the offline
bundle's requirement check judges markers for the target platform, and CI runs the packaging checks."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.helpers.paths import REPO

DOCS = [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("*.md"))]
#: `pip install` / `pipx install` naming the project by name (from an index), with or without extras or a version
_BY_NAME = re.compile(r"""(?:^|[\s`])['"]?tmsclient(?:\[[^\]]*\])?(?:[<>=!~]=?[^\s'"`]*)?['"]?(?=[\s`.,;)|]|$)""")


def install_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.search(r"\bpipx? install\b", line)]


def installs_from_the_index(line: str) -> bool:
    """A line that installs tmsclient by name, with an index to take it from (no --no-index)."""
    command = line.split("#", 1)[0]
    args = command.split("install", 1)[1]
    return bool(_BY_NAME.search(args)) and "--no-index" not in command


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_no_install_line_takes_tmsclient_from_the_public_index(doc):
    bad = [line.strip() for line in install_lines(doc.read_text(encoding="utf-8")) if installs_from_the_index(line)]
    assert bad == [], f"{doc.name}: there is no tmsclient on the public package index"


@pytest.mark.parametrize(
    "line, bad",
    [
        ("    - pip install tmsclient", True),
        ("pip install 'tmsclient[kerberos]'", True),
        ("pipx install tmsclient==0.1.0", True),
        ("pip install .", False),
        ("pip install '.[kerberos]'", False),
        ("pipx install dist/tmsclient-0.1.0-py3-none-any.whl", False),
        ("pip install --no-index --find-links wheelhouse-linux-x86_64-py3.11 tmsclient", False),
        ("pip install vendor/tmsclient-0.1.0-py3-none-any.whl", False),
        ("needs the extra: `pip install 'tmsclient[keyring]'`; where", True),
        ("`pip install '.[keyring]'` from a checkout", False),
    ],
)
def test_the_install_line_rule(line, bad):
    assert installs_from_the_index(line) is bad


def test_the_readme_recommends_pipx_and_the_offline_bundle():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    install = readme.split("## Install", 1)[1].split("\n## ", 1)[0]
    assert "pipx install" in install
    assert "scripts/build-offline" in install and "--no-index" in install


def _offline_requirements():
    spec = importlib.util.spec_from_file_location("offline_requirements", REPO / "scripts" / "offline_requirements.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _wheel(house: Path, name: str, *requires: str) -> None:
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(house / f"{name}-1.0-py3-none-any.whl", "w") as z:
        z.writestr(f"{name}-1.0.dist-info/METADATA", meta)


def test_offline_requirements_judges_markers_for_the_target(tmp_path):
    mod = _offline_requirements()
    _wheel(
        tmp_path,
        "app",
        "dep>=1",
        'winonly>=0.3; sys_platform == "win32"',
        'old>=2; python_version < "3.11"',
        'extra-only; extra == "docs"',
    )
    _wheel(tmp_path, "dep")
    assert mod.missing(tmp_path, "linux", "3.11") == []
    assert mod.missing(tmp_path, "windows", "3.11") == ["winonly>=0.3"]
    assert mod.missing(tmp_path, "linux", "3.10") == ["old>=2"]
    _wheel(tmp_path, "winonly")
    assert mod.missing(tmp_path, "windows", "3.11") == []


@pytest.mark.parametrize("argv", [["--platform", "macos"], ["--python", "3.9"], ["--bogus"]])
def test_build_offline_refuses_what_it_cannot_build(argv):
    run = subprocess.run([str(REPO / "scripts" / "build-offline"), *argv], capture_output=True, text=True, check=False)
    assert run.returncode == 2, run
    assert "build-offline:" in run.stderr


def test_ci_runs_the_packaging_checks():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^\.ci/packaging ", ci, re.MULTILINE)
    assert (REPO / ".ci" / "packaging").stat().st_mode & 0o111
