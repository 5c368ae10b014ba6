"""Fixtures for the certificate toolkit: test chains with fixed dates, and .pfx files written by the openssl
CLI (the helpers are in tests/helpers/certs.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.certs import (
    EXPIRED_FROM,
    EXPIRED_UNTIL,
    FUTURE_FROM,
    FUTURE_UNTIL,
    PASS_ENV,
    SESSION_PFX_PASSWORD,
    VALID_FROM,
    VALID_UNTIL,
    key_pem,
    openssl,
    pem,
    write,
)
from tmsemulator.certmaker import Chain, Issued, issue, make_chain, new_key


@dataclass(frozen=True)
class Chains:
    rsa: Chain
    ec: Chain
    expired: Chain
    future: Chain
    other_key: object  # an RSA key that belongs to no certificate
    weak: Issued  # RSA 1024, self-signed


@pytest.fixture(scope="session")
def chains() -> Chains:
    return Chains(
        rsa=make_chain("tms.example.com", not_before=VALID_FROM, not_after=VALID_UNTIL),
        ec=make_chain("tms-ec.example.com", not_before=VALID_FROM, not_after=VALID_UNTIL, key_kind="ec", key_size=256),
        expired=make_chain("old.example.com", not_before=EXPIRED_FROM, not_after=EXPIRED_UNTIL),
        future=make_chain("future.example.com", not_before=FUTURE_FROM, not_after=FUTURE_UNTIL),
        other_key=new_key(),
        weak=issue("weak.example.com", key=new_key("rsa", 1024), not_before=VALID_FROM, not_after=VALID_UNTIL),
    )


_SESSION_MARKERS: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _watch_session_secrets(canaries, chains: Chains) -> None:
    """Every test watches the session's keys and password, whether or not it uses them."""
    if not _SESSION_MARKERS:  # serialising 14 keys per test would cost more than the tests themselves
        markers = type(canaries)()
        for chain in (chains.rsa, chains.ec, chains.expired, chains.future):
            for issued in (chain.root, chain.intermediate, chain.leaf):
                markers.register_key(issued.key)
        markers.register_key(chains.other_key)
        markers.register_key(chains.weak.key)
        markers.register(SESSION_PFX_PASSWORD, "pfx-password")
        _SESSION_MARKERS.update(markers.values)
    canaries.values.update(_SESSION_MARKERS)


@dataclass(frozen=True)
class OpensslFiles:
    """PKCS#12 files written by the openssl CLI from the RSA chain, all with SESSION_PFX_PASSWORD."""

    legacy: Path  # -legacy: RC2-40 certificates, 3DES key, SHA-1 MAC
    default: Path  # OpenSSL 3 defaults: AES-256 (PBES2), SHA-256 MAC
    pbes2_3des: Path  # -keypbe/-certpbe DES-EDE3-CBC: PBES2 with 3DES, SHA-256 MAC
    pbes1_3des_sha256: Path  # PBE-SHA1-3DES with a SHA-256 MAC
    nomac: Path  # -nomac
    nokeys: Path  # -nokeys: certificates only
    camellia: Path  # PBES2 with CAMELLIA-256-CBC: no Windows version imports it
    key: Path
    cert: Path
    chain: Path


@pytest.fixture(scope="session")
def openssl_files(tmp_path_factory, chains: Chains) -> OpensslFiles:
    d = tmp_path_factory.mktemp("openssl")
    rsa = chains.rsa
    key = write(d / "key.pem", key_pem(rsa.leaf.key))
    cert = write(d / "cert.pem", pem(rsa.leaf.cert))
    chain = write(d / "chain.pem", pem(rsa.intermediate.cert) + pem(rsa.root.cert))
    base = [
        "pkcs12",
        "-export",
        "-inkey",
        str(key),
        "-in",
        str(cert),
        "-certfile",
        str(chain),
        "-name",
        "tms-cert-key",
        "-caname",
        "issuing-ca",
        "-caname",
        "root-ca",
        "-passout",
        PASS_ENV,
    ]
    variants = {
        "legacy": ["-legacy"],
        "default": [],
        "pbes2_3des": ["-keypbe", "DES-EDE3-CBC", "-certpbe", "DES-EDE3-CBC"],
        "pbes1_3des_sha256": ["-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha256"],
        "nomac": ["-nomac"],
        "nokeys": ["-nokeys"],
        "camellia": ["-keypbe", "CAMELLIA-256-CBC", "-certpbe", "CAMELLIA-256-CBC"],
    }
    paths = {}
    for name, extra in variants.items():
        out = d / f"{name}.pfx"
        args = list(base)
        if name == "nokeys":
            args = [a for a in args if a not in ("-inkey", str(key))]
        openssl(*args, *extra, "-out", str(out), password=SESSION_PFX_PASSWORD)
        paths[name] = out
    return OpensslFiles(key=key, cert=cert, chain=chain, **paths)


@pytest.fixture
def pw_env() -> dict[str, str]:
    return {"TMSCLIENT_PFX_PASSWORD": SESSION_PFX_PASSWORD}
