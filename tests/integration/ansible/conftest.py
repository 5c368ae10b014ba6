"""Fixtures of the Ansible tests: ansible-playbook from this venv against emulators (and the staging stand-in),
the collection found in the repository's ansible/ folder, and an inventory written per test."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.paths import REPO

# The emulator tests' fixtures: targets and .pfx files whose passwords are canaries.
from tests.integration.emulator.conftest import pfx, renewed, target  # noqa: F401

# The staging stand-in's fixtures, for the playbook that runs against it too (a session stand-in is reused).
from tests.integration.staging.conftest import _staging_key, staging_pfx, staging_stack, staging_target  # noqa: F401

COLLECTIONS = REPO / "ansible"
EXAMPLES = REPO / "ansible" / "examples"
BIN = Path(sys.executable).parent
#: PLAY RECAP line of one host
_RECAP = re.compile(
    r"^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+"
    r"failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)",
    re.MULTILINE,
)


def ansible_tool(name: str) -> Path:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: install the dev extra (`pip install -e '.[dev]'`), which brings ansible-core")
    return path


@dataclass(frozen=True)
class PlaybookRun:
    rc: int
    output: str  # stdout and stderr together, as a person sees them

    def recap(self) -> dict[str, dict[str, int]]:
        return {
            m["host"]: {k: int(v) for k, v in m.groupdict().items() if k != "host"}
            for m in _RECAP.finditer(self.output)
        }

    def failures(self) -> list[dict[str, Any]]:
        """The result of every failed task, as the default callback prints it (``fatal: [host]: FAILED! => {...}``)."""
        found = []
        for m in re.finditer(r"^fatal: \[(\S+)\]: FAILED! => (\{.*?^\})$", self.output, re.MULTILINE | re.DOTALL):
            found.append({"host": m.group(1), **json.loads(m.group(2))})
        return found

    def __repr__(self) -> str:
        return f"PlaybookRun(rc={self.rc}, output=...{self.output[-6000:]})"


@dataclass
class Host:
    """One inventory host: a TMS and what the playbook needs to reach it."""

    name: str
    url: str
    username: str
    password: str
    ca_bundle: str
    site: str
    pfx: str | None = None
    pfx_password: str | None = None
    cert: str | None = None  # PEM files instead of a .pfx
    key: str | None = None
    chain: list[str] | None = None
    key_passphrase: str | None = None


@pytest.fixture
def playbook(tmp_path: Path) -> Callable[..., PlaybookRun]:
    """``playbook("renew.yml", hosts, "--check", "--diff", extra_vars={...}) -> PlaybookRun``: the example
    playbook at -vvv, its inventory written here; every password reaches Ansible only through the environment
    (an ``env`` lookup in the inventory), as a vault would hand it over."""

    def run(name: str, hosts: list[Host], *flags: str, extra_vars: Mapping[str, Any] | None = None) -> PlaybookRun:
        env = {
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(tmp_path),
            "LC_ALL": "C.UTF-8",
            "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_STDOUT_CALLBACK": "default",
        }
        inventory: dict[str, Any] = {"tms_servers": {"hosts": {}, "vars": {"ansible_connection": "local"}}}
        inventory["tms_servers"]["vars"]["ansible_python_interpreter"] = sys.executable
        for i, h in enumerate(hosts):
            host: dict[str, Any] = {
                "tms_url": h.url,
                "tms_username": h.username,
                "tms_ca_bundle": h.ca_bundle,
                "tms_site": h.site,
            }
            host.update({f"tms_{k}": v for k, v in (("pfx", h.pfx), ("cert", h.cert), ("key", h.key)) if v})
            if h.chain:
                host["tms_chain"] = h.chain
            for key, value in (
                ("password", h.password),
                ("pfx_password", h.pfx_password),
                ("key_passphrase", h.key_passphrase),
            ):
                if value is not None:
                    var = f"SECRET_{key.upper()}_{i}"
                    env[var] = value
                    host[f"tms_{key}"] = f"{{{{ lookup('env', '{var}') }}}}"
            inventory["tms_servers"]["hosts"][h.name] = host
        inv = tmp_path / "inventory.json"
        inv.write_text(json.dumps(inventory), encoding="utf-8")
        argv = [str(ansible_tool("ansible-playbook")), "-i", str(inv), str(EXAMPLES / name), "-vvv", *flags]
        if extra_vars:
            argv += ["-e", json.dumps(dict(extra_vars))]
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False)
        return PlaybookRun(proc.returncode, proc.stdout + proc.stderr)

    return run


@pytest.fixture
def collection_copy(tmp_path: Path) -> Path:
    """The collection copied to ``tmp/ansible_collections/tmsclient/tms`` (ansible-test writes into the tree it
    tests; the checkout stays clean)."""
    src = COLLECTIONS / "ansible_collections" / "tmsclient" / "tms"
    dst = tmp_path / "ansible_collections" / "tmsclient" / "tms"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "output"))
    return dst
