"""-v, --json and --non-interactive work before the command name and after it, for every command."""

from __future__ import annotations

import getpass
import hashlib
import io
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from tests.helpers.cli import PFX_PASSWORD, Material
from tmsclient.cli import COMMAND_MODULES, main
from tmsclient.exitcodes import ExitCode

NAMES = [module.replace("_", "-") for module in COMMAND_MODULES]
SITE = "acme.webex.com"
DEBUG_LINE = re.compile(r"^debug tmsclient[.\w]*: ", re.M)


#: Per command, the arguments of a run that needs no server: a local command does its work, a TMS command
#: gets as far as the TLS handshake (which fails). ``out(suffix)`` names a fresh output file for each run.
SCENARIOS: dict[str, Callable[[Material, Callable[[str], str]], list[str]]] = {
    "inspect": lambda m, out: [str(m.pfx)],
    "check": lambda m, out: [str(m.pfx)],
    "bundle": lambda m, out: ["--cert", str(m.cert), "--key", str(m.key), "--out", out(".p12")],
    "convert": lambda m, out: [str(m.pfx), "--out", out(".p12")],
    "export-cer": lambda m, out: [str(m.pfx), "--out", out(".cer")],
    "upload": lambda m, out: ["--pfx", str(m.pfx)],
    "show": lambda m, out: [],
    "verify": lambda m, out: ["--pfx", str(m.pfx)],
    "discover": lambda m, out: [],
    "renew": lambda m, out: ["--cert", str(m.cert), "--key", str(m.key)],
    "status": lambda m, out: [],
    "prepare": lambda m, out: [out(""), "--cert", str(m.cert), "--key", str(m.key)],
    "cutover": lambda m, out: [_prepared_dir(m, out(""))],
    "rollback": lambda m, out: [_prepared_dir(m, out(""))],
}


def _prepared_dir(m: Material, path: str) -> str:
    """A directory as `prepare` leaves it for the target at ``m.url`` (the .pfx also kept as the previous one)."""
    d = Path(path)
    d.mkdir(mode=0o700)
    cert = x509.load_pem_x509_certificate(m.cert.read_bytes())
    record = {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "thumbprint_sha1": cert.fingerprint(hashes.SHA1()).hex().upper(),
        "serial": format(cert.serial_number, "X"),
        "not_before": cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "not_after": cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    files = {}
    for name, data in (
        ("tms-cert.pfx", m.pfx.read_bytes()),
        ("pfx-password", (PFX_PASSWORD + "\n").encode()),
        ("previous.pfx", m.pfx.read_bytes()),
        ("previous-pfx-password", (PFX_PASSWORD + "\n").encode()),
    ):
        (d / name).write_bytes(data)
        (d / name).chmod(0o600)
        files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    preflight: dict[str, Any] = {
        "read_at": "2026-01-01T00:00:00Z",
        "site": SITE,
        "fields": {},
        "save": None,
        "plan": [],
    }
    manifest = {
        "format": "tmsclient-prepared/1",
        "prepared_at": "2026-01-01T00:00:00Z",
        "certificate": record,
        "files": files,
        "previous": {"file": "previous.pfx", "password_file": "previous-pfx-password", "certificate": record},
        "targets": [{"name": "default", "url": m.url, "site": SITE, "preflight": preflight}],
        "upload": {},
    }
    (d / "manifest.json").write_text(json.dumps(manifest))
    (d / "manifest.json").chmod(0o600)
    return str(d)


def test_every_command_has_a_scenario():
    assert sorted(SCENARIOS) == sorted(NAMES)


def _argv(name: str, tail: list[str], flags: list[str], position: str) -> list[str]:
    return [*flags, name, *tail] if position == "before" else [name, *tail, *flags]


def _env(tmp_path: Path, material: Material, *, secrets: bool = True) -> dict[str, str]:
    env = {"HOME": str(tmp_path), "TMSCLIENT_URL": material.url, "TMSCLIENT_SITE": SITE}
    if secrets:
        env |= {
            "TMSCLIENT_PFX_PASSWORD": PFX_PASSWORD,
            "TMSCLIENT_TMS_USERNAME": "TMSLAB\\admin",
            "TMSCLIENT_TMS_PASSWORD": "global-flags-tms-pw",
            "TMSCLIENT_TIMEOUT": "5",
        }
    return env


@pytest.fixture
def out(tmp_path: Path) -> Callable[[str], str]:
    made: list[str] = []

    def fresh(suffix: str) -> str:
        made.append(str(tmp_path / f"out{len(made)}{suffix}"))
        return made[-1]

    return fresh


def _is_json(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except json.JSONDecodeError:
        return False


@pytest.mark.parametrize("position", ["before", "after"])
@pytest.mark.parametrize("name", NAMES)
def test_json_gives_json_on_stdout(cli, tmp_path, material, out, name, position):
    tail = SCENARIOS[name](material, out)
    plain = cli(name, *SCENARIOS[name](material, out), env=_env(tmp_path, material))
    assert not _is_json(plain.out), f"{name} printed JSON without --json: {plain!r}"
    result = cli(*_argv(name, tail, ["--json"], position), env=_env(tmp_path, material))
    assert result.code not in (ExitCode.USAGE, ExitCode.INTERNAL), result
    assert _is_json(result.out), result
    assert result.code == plain.code, (plain, result)


@pytest.mark.parametrize("position", ["before", "after"])
@pytest.mark.parametrize("name", NAMES)
def test_vv_logs_debug_on_stderr(cli, tmp_path, material, out, name, position):
    quiet = cli(name, *SCENARIOS[name](material, out), env=_env(tmp_path, material))
    assert not DEBUG_LINE.search(quiet.err), quiet
    result = cli(*_argv(name, SCENARIOS[name](material, out), ["-vv"], position), env=_env(tmp_path, material))
    assert result.code not in (ExitCode.USAGE, ExitCode.INTERNAL), result
    assert DEBUG_LINE.search(result.err), result
    assert not DEBUG_LINE.search(result.out), result


def test_v_before_and_after_the_command_add_up(cli, tmp_path, material):
    once = cli("-v", "inspect", str(material.pfx), env=_env(tmp_path, material))
    assert not DEBUG_LINE.search(once.err), once
    twice = cli("-v", "inspect", str(material.pfx), "-v", env=_env(tmp_path, material))
    assert DEBUG_LINE.search(twice.err), twice


class Prompted(Exception):
    """The run tried to ask the person at the terminal."""


class TtyStream(io.StringIO):
    """A terminal nobody answers: it says it is a tty, and reading from it is a test failure."""

    def __init__(self, prompts: list[str]) -> None:
        super().__init__()
        self.prompts = prompts

    def isatty(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        self.prompts.append("read")
        raise Prompted("stdin was read")

    # typeshed types readline on io._IOBase as bytes; TextIOBase overrides it the same way.
    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        self.prompts.append("readline")
        raise Prompted("stdin was read")


def _terminal(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every way tmsclient prompts, pointed at a terminal that records the attempt and refuses it. Called in
    the test itself: pytest's output capture resets sys.stderr between a fixture and the test."""
    prompts: list[str] = []

    def no_getpass(prompt: str = "", stream: object = None) -> str:
        prompts.append(f"getpass {prompt}")
        raise Prompted(prompt)

    monkeypatch.setattr(getpass, "getpass", no_getpass)
    monkeypatch.setattr(sys, "stdin", TtyStream(prompts))
    monkeypatch.setattr(sys, "stderr", TtyStream(prompts))
    return prompts


def _run_on_terminal(argv: list[str], env: dict[str, str], prompts: list[str]) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(argv, stdout=stdout, stderr=stderr, stdin=TtyStream(prompts), environ=env, interactive=None)
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.mark.parametrize("name", NAMES)
def test_without_non_interactive_a_missing_secret_is_asked_for(tmp_path, material, out, monkeypatch, name):
    """The control for the test below: on a terminal, each scenario without its secrets prompts."""
    terminal = _terminal(monkeypatch)
    _run_on_terminal([name, *SCENARIOS[name](material, out)], _env(tmp_path, material, secrets=False), terminal)
    assert terminal, f"{name} did not try to prompt on a terminal"


@pytest.mark.parametrize("position", ["before", "after"])
@pytest.mark.parametrize("name", NAMES)
def test_non_interactive_never_prompts(tmp_path, material, out, monkeypatch, name, position):
    terminal = _terminal(monkeypatch)
    argv = _argv(name, SCENARIOS[name](material, out), ["--non-interactive"], position)
    code, stdout, stderr = _run_on_terminal(argv, _env(tmp_path, material, secrets=False), terminal)
    assert terminal == [], f"{' '.join(argv)} prompted: {terminal}"
    assert code not in (ExitCode.USAGE, ExitCode.INTERNAL), (code, stdout, stderr)
    if name != "inspect":  # inspect shows what it can without the password
        assert code != 0, (code, stdout, stderr)
        assert "given" in stdout + stderr, (code, stdout, stderr)
