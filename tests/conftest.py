"""Shared fixtures: the in-process CLI runner and the secret canaries that watch every CLI run."""

from __future__ import annotations

import base64
import io
import json
import os
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tmsclient.cli import main

pytest_plugins = ["tmsclient.emulator.pytest_plugin"]

#: Environment variables a CLI run inherits by default; everything else is what the test passes.
_INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


@dataclass
class Canaries:
    """Unique markers standing for secrets. Any CLI output or tool-written file that contains one fails."""

    values: dict[str, str] = field(default_factory=dict)  # marker -> what it stands for

    def secret(self, kind: str, *, extra: str = "") -> str:
        """A fresh password-like marker; ``extra`` adds characters a password may hold (spaces, & # $ ...)."""
        marker = f"Cnry{kind.title().replace('-', '')}{secrets.token_hex(6)}{extra}"
        self.values[marker] = kind
        return marker

    def register(self, value: str | bytes, kind: str) -> None:
        """Watch an existing secret: a password, or key material (each PEM body line is watched)."""
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        if "-----BEGIN" in text:
            for line in text.splitlines():
                if line and not line.startswith("-----") and len(line) >= 16:
                    self.values[line] = kind
        elif len(text) >= 4:
            self.values[text] = kind

    def register_key(self, key: Any) -> None:
        """Watch a private key object: its PKCS#8 PEM lines and its DER in base64 and hex."""
        from cryptography.hazmat.primitives import serialization

        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        self.register(pem, "private-key")
        self.values[base64.b64encode(der).decode()[40:100]] = "private-key"
        self.values[der.hex()[80:200]] = "private-key"

    def find(self, text: str | bytes) -> list[str]:
        if isinstance(text, bytes):
            text = text.decode("latin-1")
        return [f"{kind} ({marker[:12]}...)" for marker, kind in self.values.items() if marker in text]

    def assert_clean(self, text: str | bytes, where: str) -> None:
        found = self.find(text)
        assert not found, f"secret leaked into {where}: {', '.join(found)}"


@pytest.fixture
def canaries() -> Canaries:
    return Canaries()


@dataclass
class CliResult:
    code: int
    out: str
    err: str
    argv: tuple[str, ...]

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.out)
        except json.JSONDecodeError as exc:  # pragma: no cover - a failing test shows the output
            raise AssertionError(f"stdout is not JSON: {exc}\n{self.out}") from exc

    @property
    def text(self) -> str:
        return self.out + self.err

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, argv={self.argv})\n--stdout--\n{self.out}\n--stderr--\n{self.err}"


def _snapshot(root: Path) -> dict[Path, tuple[int, int]]:
    snap = {}
    for path in root.rglob("*"):
        try:
            if path.is_file():
                st = path.stat()
                snap[path] = (st.st_mtime_ns, st.st_size)
        except OSError:
            continue
    return snap


class CliRunner:
    """Runs ``tmsclient.cli.main`` in-process. Every run's stdout, stderr and newly written files under the
    test's tmp_path are checked against the canaries when the test ends."""

    def __init__(self, tmp_path: Path, canaries: Canaries) -> None:
        self.tmp_path = tmp_path
        self.canaries = canaries
        self.results: list[CliResult] = []
        self.written: set[Path] = set()
        self.base_env: dict[str, str] = {k: os.environ[k] for k in _INHERITED_ENV if k in os.environ}

    def __call__(self, *argv: str, env: Mapping[str, str] | None = None, stdin: str | None = None,
                 cwd: Path | None = None) -> CliResult:
        environ = {**self.base_env, **(env or {})}
        stdout, stderr = io.StringIO(), io.StringIO()
        before = _snapshot(self.tmp_path)
        old_cwd = Path.cwd()
        if cwd is not None:
            os.chdir(cwd)
        try:
            code = main(list(argv), stdout=stdout, stderr=stderr, stdin=io.StringIO(stdin or ""),
                        environ=environ, interactive=False)
        finally:
            os.chdir(old_cwd)
        after = _snapshot(self.tmp_path)
        self.written |= {p for p, sig in after.items() if before.get(p) != sig}
        result = CliResult(code, stdout.getvalue(), stderr.getvalue(), tuple(argv))
        self.results.append(result)
        assert "Traceback (most recent call last)" not in result.text, f"traceback in output: {result!r}"
        return result

    def check_secrets(self) -> None:
        for result in self.results:
            self.canaries.assert_clean(result.out, f"stdout of {' '.join(result.argv)}")
            self.canaries.assert_clean(result.err, f"stderr of {' '.join(result.argv)}")
        for path in sorted(self.written):
            if path.exists() and path.stat().st_size < 50_000_000:
                self.canaries.assert_clean(path.read_bytes(), f"file written by the tool: {path}")


@pytest.fixture
def cli(tmp_path: Path, canaries: Canaries) -> Iterator[CliRunner]:
    """``cli("inspect", path, "--json")`` -> CliResult; secret canaries are checked at teardown."""
    runner = CliRunner(tmp_path, canaries)
    yield runner
    runner.check_secrets()
