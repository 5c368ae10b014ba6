"""Helpers for the certificate toolkit tests: fixed dates, PEM/DER writers, the openssl CLI and a parser for
`openssl pkcs12 -info`, so every algorithm expectation is cross-checked against OpenSSL."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tmsemulator.certmaker import Issued

UTC = dt.timezone.utc

# Fixed dates: far enough from today that the tests do not change verdict as time passes.
VALID_FROM = dt.datetime(2024, 1, 1, tzinfo=UTC)
VALID_UNTIL = dt.datetime(2099, 1, 1, tzinfo=UTC)
EXPIRED_FROM = dt.datetime(2020, 1, 1, tzinfo=UTC)
EXPIRED_UNTIL = dt.datetime(2021, 1, 1, tzinfo=UTC)
FUTURE_FROM = dt.datetime(2090, 1, 1, tzinfo=UTC)
FUTURE_UNTIL = dt.datetime(2091, 1, 1, tzinfo=UTC)

#: One password for the session-wide openssl files; registered with the canaries of every test.
SESSION_PFX_PASSWORD = f"CnrySessionPfx{secrets.token_hex(6)} &$#"


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def key_pem(key, password: bytes | None = None, *, traditional: bool = False) -> bytes:
    return Issued(key, None).key_pem(password, traditional=traditional)  # type: ignore[arg-type]


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# -- the openssl CLI ------------------------------------------------------------------------

OPENSSL = shutil.which("openssl")


def openssl(*args: str, password: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run openssl with the password in the environment (never on its command line)."""
    if OPENSSL is None:
        pytest.fail("the openssl CLI is needed to cross-check PKCS#12 algorithms; install openssl")
    env = {**os.environ, "TMSCLIENT_TEST_OSSL_PW": password or ""}
    return subprocess.run([OPENSSL, *args], capture_output=True, text=True, env=env, check=check, timeout=60)


PASS_ENV = "env:TMSCLIENT_TEST_OSSL_PW"


@dataclass(frozen=True)
class OpensslInfo:
    """What `openssl pkcs12 -info -noout` prints about a file's protection."""

    mac_digest: str | None
    mac_iterations: int | None
    cert_encryption: tuple[str, ...]  # names of "PKCS7 Encrypted data" safes
    key_encryption: tuple[str, ...]  # names of "Shrouded Keybag" lines
    iterations: tuple[int, ...]
    plain_cert_bags: int
    ok: bool
    output: str


_ITER = re.compile(r",\s*Iteration (\d+)")


def _name_and_iterations(rest: str) -> tuple[str, int | None]:
    m = _ITER.search(rest)
    its = int(m.group(1)) if m else None
    return _ITER.sub("", rest).strip(), its


def openssl_info(path: Path, password: str, *, legacy: bool = False) -> OpensslInfo:
    args = ["pkcs12", "-info", "-noout", "-in", str(path), "-passin", PASS_ENV]
    if legacy:
        args.append("-legacy")
    result = openssl(*args, password=password, check=False)
    text = result.stdout + result.stderr
    mac_digest = mac_iterations = None
    certs, keys, its = [], [], []
    plain = 0
    in_plain_data = False
    for line in text.splitlines():
        if m := re.match(r"MAC: (\w+), Iteration (\d+)", line):
            mac_digest, mac_iterations = m.group(1).lower(), int(m.group(2))
        elif line.startswith("PKCS7 Encrypted data:"):
            name, n = _name_and_iterations(line.split(":", 1)[1])
            certs.append(name)
            its += [n] if n else []
            in_plain_data = False
        elif line.startswith("Shrouded Keybag:"):
            name, n = _name_and_iterations(line.split(":", 1)[1])
            keys.append(name)
            its += [n] if n else []
        elif line.strip() == "PKCS7 Data":
            in_plain_data = True
        elif line.strip() == "Certificate bag" and in_plain_data:
            plain += 1
    return OpensslInfo(
        mac_digest, mac_iterations, tuple(certs), tuple(keys), tuple(its), plain, result.returncode == 0, text
    )
