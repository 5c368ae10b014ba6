"""Opening a .pfx with its key bag apart (no primality proofs) gives what the whole-file open gives, or defers to it."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import pkcs12 as asn1_pkcs12
from certs_support import SESSION_PFX_PASSWORD
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import load_der_private_key, pkcs12

from tmsclient.certs import loading
from tmsclient.certs.loading import load_pfx_bytes
from tmsclient.certs.mac import pkcs12_kdf
from tmsclient.certs.pfxwrite import PfxEncryption, serialize_pfx
from tmsclient.credentials import Secret
from tmsclient.errors import InputFileError, PasswordError, TmsClientError

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "bad-inputs"


def _outcome(data: bytes, password: Secret) -> tuple[object, ...]:
    """Everything load_pfx_bytes reports, in comparable form."""
    try:
        b = load_pfx_bytes(data, password, source="f.pfx")
    except TmsClientError as err:
        return ("error", type(err).__name__, str(err), err.hint, tuple(err.details))
    key = None
    if b.key is not None:
        key = b.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    return ("bundle", key, b.cert, b.chain, b.friendly_name, b.chain_friendly_names, b.extra_certs,
            b.extra_friendly_names, b.algorithms, b.key_matches)


def _whole(monkeypatch: pytest.MonkeyPatch, data: bytes, password: Secret) -> tuple[object, ...]:
    with monkeypatch.context() as m:
        m.setattr(loading, "_open_split", lambda *a: None)
        return _outcome(data, password)


class _Spy:
    """Records whether load_pkcs12 was handed the original file (the whole-file open)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.whole_opens = 0
        real = pkcs12.load_pkcs12

        def spy(data: bytes, password: bytes | None, *args: object) -> object:
            if data == self.original:
                self.whole_opens += 1
            return real(data, password, *args)

        self.original = b""
        monkeypatch.setattr(pkcs12, "load_pkcs12", spy)


def _written(chains, encryption: PfxEncryption, password: str, *, name: str | None, chain: bool,
             kind: str = "rsa") -> bytes:
    c = chains.rsa if kind == "rsa" else chains.ec
    return serialize_pfx(key=c.leaf.key, cert=c.leaf.cert,
                         cas=[c.intermediate.cert, c.root.cert] if chain else [],
                         password=Secret(password, "test"), name=name,
                         ca_names=["issuing-ca", None] if chain else None, encryption=encryption)


def _generated(chains) -> dict[str, bytes]:
    files = {}
    for enc in PfxEncryption:
        for chain in (True, False):
            files[f"{enc.value}-chain{chain}"] = _written(chains, enc, SESSION_PFX_PASSWORD, name="tms-cert-key",
                                                          chain=chain)
    files["compatible-unnamed"] = _written(chains, PfxEncryption.COMPATIBLE, SESSION_PFX_PASSWORD, name=None,
                                           chain=True)
    files["compatible-ec"] = _written(chains, PfxEncryption.COMPATIBLE, SESSION_PFX_PASSWORD, name="ec",
                                      chain=True, kind="ec")
    return files


PASSWORDS = {"right": SESSION_PFX_PASSWORD, "wrong": SESSION_PFX_PASSWORD + "x", "empty": ""}


@pytest.mark.parametrize("password", sorted(PASSWORDS))
def test_generated_and_openssl_files_open_the_same_either_way(monkeypatch, chains, openssl_files, canaries,
                                                               password):
    canaries.register(PASSWORDS[password], "pfx-password")
    files = _generated(chains)
    for variant in ("legacy", "default", "pbes2_3des", "pbes1_3des_sha256", "nomac", "nokeys", "camellia"):
        files[f"openssl-{variant}"] = getattr(openssl_files, variant).read_bytes()
    secret = Secret(PASSWORDS[password], "test")
    for name, data in files.items():
        assert _outcome(data, secret) == _whole(monkeypatch, data, secret), name


def test_corpus_files_open_the_same_either_way_with_every_corpus_password(monkeypatch, canaries):
    manifest = json.loads((CORPUS / "MANIFEST.json").read_text(encoding="utf-8"))
    passwords = [*manifest["passwords"].values(), "", SESSION_PFX_PASSWORD + "-not-it"]
    for p in passwords:
        canaries.register(p, "pfx-password")
    files = sorted(p for p in (CORPUS / "certs").iterdir() if p.suffix in (".pfx", ".p12"))
    assert len(files) >= 10
    opened = 0
    for path in files:
        for p in passwords:
            secret = Secret(p, "test")
            outcome = _outcome(path.read_bytes(), secret)
            assert outcome == _whole(monkeypatch, path.read_bytes(), secret), (path.name, passwords.index(p))
            opened += outcome[0] == "bundle"
    assert opened >= 5  # the comparison covered files that open, not only refusals


@pytest.mark.parametrize("variant", ["compatible", "modern", "ec", "openssl-legacy", "openssl-default"])
def test_the_split_open_is_what_runs_for_the_common_forms(monkeypatch, chains, openssl_files, variant):
    """The speed-up must not silently fall back: the usual files never reach the whole-file open."""
    data = {
        "compatible": lambda: _written(chains, PfxEncryption.COMPATIBLE, SESSION_PFX_PASSWORD, name="n", chain=True),
        "modern": lambda: _written(chains, PfxEncryption.MODERN, SESSION_PFX_PASSWORD, name="n", chain=True),
        "ec": lambda: _written(chains, PfxEncryption.COMPATIBLE, SESSION_PFX_PASSWORD, name="n", chain=False,
                               kind="ec"),
        "openssl-legacy": lambda: openssl_files.legacy.read_bytes(),
        "openssl-default": lambda: openssl_files.default.read_bytes(),
    }[variant]()
    spy = _Spy(monkeypatch)
    spy.original = data
    bundle = load_pfx_bytes(data, Secret(SESSION_PFX_PASSWORD, "test"), source="f.pfx")
    assert bundle.key is not None and bundle.key_matches is True
    assert spy.whole_opens == 0


@pytest.mark.parametrize("case", ["wrong password", "no MAC", "no key"])
def test_files_the_split_open_does_not_take_go_to_the_whole_file_open(monkeypatch, chains, openssl_files, case):
    data, password = {
        "wrong password": (openssl_files.legacy.read_bytes(), SESSION_PFX_PASSWORD + "-wrong"),
        "no MAC": (openssl_files.nomac.read_bytes(), SESSION_PFX_PASSWORD),
        "no key": (openssl_files.nokeys.read_bytes(), SESSION_PFX_PASSWORD),
    }[case]
    spy = _Spy(monkeypatch)
    spy.original = data
    secret = Secret(password, "test")
    if case == "wrong password":
        with pytest.raises(PasswordError, match="wrong password"):
            load_pfx_bytes(data, secret, source="f.pfx")
    else:
        bundle = load_pfx_bytes(data, secret, source="f.pfx")
        assert (bundle.key is None) is (case == "no key")
    assert spy.whole_opens == 1


def _with_mac_iterations(data: bytes, password: str, iterations: int) -> bytes:
    """The same file with its MAC recomputed over ``iterations`` rounds (RFC 7292 appendix B)."""
    pfx = asn1_pkcs12.Pfx.load(data)
    mac_data = pfx["mac_data"]
    key = pkcs12_kdf("sha1", password.encode("utf-16-be") + b"\x00\x00", mac_data["mac_salt"].native, 3,
                     iterations, 20)
    digest = hmac.new(key, pfx["auth_safe"]["content"].native, hashlib.sha1).digest()
    rebuilt = asn1_pkcs12.Pfx({
        "version": "v3",
        "auth_safe": pfx["auth_safe"],
        "mac_data": {"mac": {"digest_algorithm": {"algorithm": "sha1"}, "digest": digest},
                     "mac_salt": mac_data["mac_salt"].native, "iterations": iterations},
    })
    return rebuilt.dump(force=True)


def test_a_file_with_a_costly_mac_is_opened_whole(monkeypatch, chains):
    """Above SPLIT_MAX_MAC_ITERATIONS, checking the MAC in Python would cost more than the split saves."""
    data = _written(chains, PfxEncryption.COMPATIBLE, SESSION_PFX_PASSWORD, name="n", chain=False)
    costly = _with_mac_iterations(data, SESSION_PFX_PASSWORD, loading.SPLIT_MAX_MAC_ITERATIONS + 1)
    cheap = _with_mac_iterations(data, SESSION_PFX_PASSWORD, loading.SPLIT_MAX_MAC_ITERATIONS)
    secret = Secret(SESSION_PFX_PASSWORD, "test")
    limit = loading.SPLIT_MAX_MAC_ITERATIONS
    for file, iterations, whole_opens in ((costly, limit + 1, 1), (cheap, limit, 0)):
        spy = _Spy(monkeypatch)
        spy.original = file
        bundle = load_pfx_bytes(file, secret, source="f.pfx")
        assert bundle.key_matches is True
        assert bundle.algorithms.mac_iterations == iterations
        assert spy.whole_opens == whole_opens


def _with_rsa_field(key: object, field: str, delta: int) -> object:
    der = key.private_bytes(serialization.Encoding.DER,  # type: ignore[attr-defined]
                            serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    parsed = asn1_keys.RSAPrivateKey.load(der)
    values = {name: parsed[name].native for name in (
        "version", "modulus", "public_exponent", "private_exponent", "prime1", "prime2", "exponent1", "exponent2",
        "coefficient")}
    values[field] += delta
    return load_der_private_key(asn1_keys.RSAPrivateKey(values).dump(), None, unsafe_skip_rsa_key_validation=True)


@pytest.mark.parametrize("field", ["exponent1", "exponent2", "coefficient", "private_exponent"])
def test_an_inconsistent_rsa_key_is_refused_as_before(monkeypatch, chains, field):
    """A key the split open cannot vouch for goes to load_pkcs12, which refuses it with the same message."""
    bad = _with_rsa_field(chains.rsa.leaf.key, field, 2)
    builder = (serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(2048)
               .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC).build(SESSION_PFX_PASSWORD.encode()))
    data = pkcs12.serialize_key_and_certificates(b"n", bad, chains.rsa.leaf.cert, None, builder)  # type: ignore[arg-type]
    secret = Secret(SESSION_PFX_PASSWORD, "test")
    assert loading._open_split(data, secret, loading.read_algorithms(data, "f.pfx")) is None
    with pytest.raises(InputFileError, match="cannot be opened although the password is right") as caught:
        load_pfx_bytes(data, secret, source="f.pfx")
    assert "Invalid private key" in " ".join(caught.value.details)
    assert _outcome(data, secret) == _whole(monkeypatch, data, secret)


def test_rsa_consistency_check_accepts_real_keys_and_refuses_each_broken_value(chains):
    assert loading._rsa_consistent(chains.rsa.leaf.key)
    assert loading._rsa_consistent(chains.weak.key)
    assert loading._rsa_consistent(chains.ec.leaf.key)  # not RSA: checked by cryptography as it loads
    for field in ("exponent1", "exponent2", "coefficient", "private_exponent"):
        assert not loading._rsa_consistent(_with_rsa_field(chains.rsa.leaf.key, field, 2)), field
