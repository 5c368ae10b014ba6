"""`ansible-test sanity` on the collection, locally (no container): every test it has must pass, and it must fail
on a module that breaks Ansible's rules (here: a password option without no_log)."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.ansible.conftest import BIN, ansible_tool

pytestmark = pytest.mark.timeout(900)
HERE = Path(__file__).parent
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def pinned_pip() -> str:
    """The pip version ansible-test bootstraps into the venvs of its sanity tests."""
    spec = importlib.util.find_spec("ansible_test")
    assert spec is not None and spec.submodule_search_locations, "ansible-test is not installed"
    source = Path(next(iter(spec.submodule_search_locations)), "_internal", "python_requirements.py")
    m = re.search(r"pip='([0-9.]+)'", source.read_text(encoding="utf-8"))
    assert m, f"no pinned pip version in {source}"
    return m.group(1)


@pytest.fixture(scope="module")
def sanity_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A HOME for ansible-test (its venvs and cache), shared by this module's tests; the pip bootstrap it would
    download from a host outside the package index is get_pip.py here."""
    home = tmp_path_factory.mktemp("ansible-test-home")
    cache = home / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True)
    shutil.copy(HERE / "get_pip.py", cache / f"get_pip_{pinned_pip().replace('.', '_')}.py")
    return home


def sanity(collection: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOME": str(home),
        "LC_ALL": "C.UTF-8",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_NOCOLOR": "1",
    }
    return subprocess.run(
        [str(ansible_tool("ansible-test")), "sanity", "--local", "--python", PYTHON, "--color", "no", *args],
        cwd=collection,
        env=env,
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )


def test_sanity_passes(collection_copy, sanity_home):
    run = sanity(collection_copy, sanity_home)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-8000:]
    ran = re.findall(r'^Running sanity test "([a-z0-9-]+)"', out, re.MULTILINE)
    # the tests that judge the modules ran (not skipped for a missing requirement)
    assert {"validate-modules", "import", "pylint", "pep8", "yamllint", "ansible-doc", "compile"} <= set(ran), out
    assert "Skipping sanity test" not in out, out


def test_sanity_fails_on_a_password_option_without_no_log(collection_copy, sanity_home):
    module = collection_copy / "plugins" / "module_utils" / "tms_common.py"  # CERT_ARGS, both modules' spec
    text = module.read_text(encoding="utf-8")
    broken = text.replace('pfx_password=dict(type="str", no_log=True)', 'pfx_password=dict(type="str")')
    assert broken != text
    module.write_text(broken, encoding="utf-8")
    run = sanity(collection_copy, sanity_home, "--test", "validate-modules")
    out = run.stdout + run.stderr
    assert run.returncode != 0, out[-4000:]
    assert "no-log-needed" in out and "pfx_password" in out, out[-4000:]
