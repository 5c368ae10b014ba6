"""The README's promises that code can check: the exit-code table and the first commands."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.paths import REPO
from tmsclient.exitcodes import DESCRIPTIONS, ExitCode

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_exit_code_table_matches_the_enum():
    rows = dict(re.findall(r"^\| (\d+) \| `(\w+)` \|", README, flags=re.M))
    assert rows == {str(int(code)): code.name for code in ExitCode}
    for code, text in DESCRIPTIONS.items():
        assert f"| {int(code)} | `{code.name}` | {text} |" in README


def test_readme_first_commands_name_the_demo_and_the_test_command():
    block = README.split("## First commands", 1)[1].split("```", 2)[1]
    assert "scripts/demo" in block
    assert "python -m pytest" in block
    assert (REPO / "scripts" / "demo").stat().st_mode & 0o111


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pytest" in ci


def test_demo_script_runs_the_whole_renewal(tmp_path):
    """The README's first command, on the current interpreter's environment (it would create .venv otherwise)."""
    venv = Path(sys.prefix)
    if not (venv / "bin" / "tmsclient").exists():
        pytest.skip("the tests do not run inside a venv holding the tmsclient script")
    env = {**os.environ, "TMSCLIENT_VENV": str(venv), "TMPDIR": str(tmp_path)}
    proc = subprocess.run([str(REPO / "scripts" / "demo")], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "wrote tms-cert-key.p12 (compatible encryption)" in out
    assert "verification: certificate" in out
    assert "already has this certificate: nothing uploaded" in out
    assert "Traceback" not in out + proc.stderr
    # the password files are never echoed
    work = next(tmp_path.glob("tmsclient-demo.*"))
    for secret_file in ("pfx-password", "emu/admin-password"):
        secret = (work / secret_file).read_text().strip()
        assert secret not in out + proc.stderr
