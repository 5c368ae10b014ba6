"""What the CLI tests share: the in-process runner, and a .pfx with its certificate and key next to a TMS
address where TLS fails at once."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from tests.helpers.canaries import Canaries, CliWatch
from tmsclient.cli import main

#: Environment variables a CLI run inherits by default; everything else is what the test passes.
_INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


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


class CliRunner:
    """Runs ``tmsclient.cli.main`` in-process. Every run's stdout, stderr, log records and newly written
    files are checked against the canaries when the test ends (by the ``cli_watch`` it reports to)."""

    def __init__(self, tmp_path: Path, canaries: Canaries, watch: CliWatch | None = None) -> None:
        self.tmp_path = tmp_path
        self.canaries = canaries
        self.watch = watch
        self.results: list[CliResult] = []
        self.written: set[Path] = set()
        self.base_env: dict[str, str] = {k: os.environ[k] for k in _INHERITED_ENV if k in os.environ}

    def __call__(
        self, *argv: str, env: Mapping[str, str] | None = None, stdin: str | None = None, cwd: Path | None = None
    ) -> CliResult:
        environ = {**self.base_env, **(env or {})}
        stdout, stderr = io.StringIO(), io.StringIO()
        own_watch = self.watch is None
        watch = self.watch or CliWatch(self.canaries, lambda: {self.tmp_path: True}).install()
        seen = len(watch.runs)
        old_cwd = Path.cwd()
        if cwd is not None:
            os.chdir(cwd)
        try:
            code = main(
                list(argv),
                stdout=stdout,
                stderr=stderr,
                stdin=io.StringIO(stdin or ""),
                environ=environ,
                interactive=False,
            )
        finally:
            os.chdir(old_cwd)
            if own_watch:
                watch.uninstall()
        for run in watch.runs[seen:]:
            self.written |= run.written
        if own_watch:
            self.watch = watch
        result = CliResult(code, stdout.getvalue(), stderr.getvalue(), tuple(argv))
        self.results.append(result)
        assert "Traceback (most recent call last)" not in result.text, f"traceback in output: {result!r}"
        return result

    def check_secrets(self) -> None:
        if self.watch is not None:
            self.watch.check()
        for result in self.results:
            self.canaries.assert_clean(result.out, f"stdout of {' '.join(result.argv)}")
            self.canaries.assert_clean(result.err, f"stderr of {' '.join(result.argv)}")


# ---------------------------------------------------------------------------------------------------- material

PFX_PASSWORD = "foundation-pfx-pw"


@dataclass(frozen=True)
class Material:
    """A .pfx, its certificate and key as PEM files, and a TMS address where no TLS handshake succeeds."""

    pfx: Path
    cert: Path
    key: Path
    url: str


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound for a moment by the OS, then let go)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def not_tls_server() -> Iterator[int]:
    """A port that answers every connection with plain text: the TLS handshake fails at once, and a TLS
    failure is never retried, so a TMS command ends there quickly."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)  # accept() wakes up to see the stop flag
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\nno TLS here\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def make_material(root: Path, port: int) -> Material:
    """A self-signed RSA certificate and key, as PEM files and as a .pfx every Windows Server imports."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tms.example.com")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("tms.example.com")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())
        .build(PFX_PASSWORD.encode())
    )
    pfx = root / "tms.pfx"
    pfx.write_bytes(pkcs12.serialize_key_and_certificates(b"tms-cert-key", key, cert, None, encryption))
    cert_pem, key_pem = root / "cert.pem", root / "key.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Material(pfx, cert_pem, key_pem, f"https://127.0.0.1:{port}/tms/")
