"""tmsclient's PKCS#12 envelope types read every file as asn1crypto.pkcs12 does, without loading CMS and X.509."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest
from asn1crypto import cms as asn1_cms
from asn1crypto import pkcs12 as asn1_pkcs12
from certs_support import SESSION_PFX_PASSWORD

from tmsclient import certs
from tmsclient.certs.mac import mac_verifies
from tmsclient.certs.pfxwrite import PfxEncryption, serialize_pfx
from tmsclient.certs.pkcs12_info import read_pkcs12_algorithms, split_shrouded_key
from tmsclient.credentials import Secret
from tmsclient.errors import InputFileError

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "fixtures" / "bad-inputs" / "certs"

_ASN1CRYPTO = types.SimpleNamespace(Pfx=asn1_pkcs12.Pfx, SafeContents=asn1_pkcs12.SafeContents,
                                    AuthenticatedSafe=asn1_pkcs12.AuthenticatedSafe, ContentInfo=asn1_cms.ContentInfo)


def _read(data: bytes) -> object:
    try:
        return read_pkcs12_algorithms(data)
    except InputFileError as err:
        return ("error", str(err))


def _all(data: bytes, password: str) -> tuple[object, ...]:
    return _read(data), mac_verifies(data, password), split_shrouded_key(data)


def _files(chains, openssl_files) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in sorted(CORPUS.iterdir())}
    for variant in ("legacy", "default", "pbes2_3des", "pbes1_3des_sha256", "nomac", "nokeys", "camellia"):
        files[f"openssl-{variant}"] = getattr(openssl_files, variant).read_bytes()
    for enc in PfxEncryption:
        files[enc.value] = serialize_pfx(key=chains.rsa.leaf.key, cert=chains.rsa.leaf.cert,
                                         cas=[chains.rsa.intermediate.cert], password=Secret(SESSION_PFX_PASSWORD, "t"),
                                         name="n", encryption=enc)
    good = files["compatible"]
    files["truncated"] = good[: len(good) - 7]
    files["trailing"] = good + b"\x00"
    files["flipped"] = good[:40] + bytes([good[40] ^ 0xFF]) + good[41:]
    return files


def test_every_file_reads_the_same_as_with_asn1crypto_pkcs12(monkeypatch, chains, openssl_files):
    files = _files(chains, openssl_files)
    ours = {name: _all(data, SESSION_PFX_PASSWORD) for name, data in files.items()}
    monkeypatch.setattr(certs, "pkcs12_asn1", _ASN1CRYPTO)
    theirs = {name: _all(data, SESSION_PFX_PASSWORD) for name, data in files.items()}
    assert ours == theirs
    readable = [name for name, (algorithms, _, _) in ours.items() if not isinstance(algorithms, tuple)]
    assert len(readable) >= 12 and {"openssl-legacy", "compatible", "modern"} <= set(readable)
    assert sum(split is not None for _, _, split in ours.values()) >= 8


@pytest.mark.parametrize("name", ["openssl-legacy", "compatible", "modern", "openssl-camellia"])
def test_the_key_bag_and_the_rest_are_the_files_own_parts(chains, openssl_files, name):
    data = _files(chains, openssl_files)[name]
    split = split_shrouded_key(data)
    assert split is not None
    key, rest = split
    pfx = asn1_pkcs12.Pfx.load(data)
    bags = [bag for ci in pfx.authenticated_safe if ci["content_type"].native == "data"
            for bag in asn1_pkcs12.SafeContents.load(ci["content"].native)]
    key_bags = [bag for bag in bags if bag["bag_id"].native == "pkcs8_shrouded_key_bag"]
    assert [bag["bag_value"].untag().dump() for bag in key_bags] == [key]
    rebuilt = asn1_pkcs12.Pfx.load(rest)
    assert rebuilt["mac_data"].native is None
    kinds = [ci["content_type"].native for ci in rebuilt.authenticated_safe]
    assert kinds == [ci["content_type"].native for ci in pfx.authenticated_safe
                     if ci["content_type"].native != "data" or any(
                         bag["bag_id"].native != "pkcs8_shrouded_key_bag"
                         for bag in asn1_pkcs12.SafeContents.load(ci["content"].native))]


def test_opening_a_pfx_does_not_load_asn1crypto_cms_or_x509():
    code = textwrap.dedent("""
        import sys
        from tmsclient.certs.loading import load_pfx_bytes
        from tmsclient.certs.pfxwrite import serialize_pfx
        from tmsclient.credentials import Secret
        from tmsclient.testing.certs import issue
        cert = issue("tms.example.com")
        for name in [n for n in sys.modules if n.startswith("asn1crypto")]:
            del sys.modules[name]
        data = serialize_pfx(key=cert.key, cert=cert.cert, password=Secret("Pw-for-import-check", "t"))
        bundle = load_pfx_bytes(data, Secret("Pw-for-import-check", "t"), source="f.pfx")
        assert bundle.key_matches
        print(sorted(n for n in sys.modules if n.startswith("asn1crypto.")))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                            cwd=REPO)
    assert result.returncode == 0, result.stderr
    loaded = set(eval(result.stdout))
    assert "asn1crypto.algos" in loaded
    assert not loaded & {"asn1crypto.cms", "asn1crypto.x509", "asn1crypto.pkcs12", "asn1crypto.keys"}
