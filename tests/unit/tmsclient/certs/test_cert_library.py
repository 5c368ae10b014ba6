"""Library pieces: thumbprints, summaries, chain ordering, PEM/DER parsing, the careful file writer, and
opening .pfx files and reading their algorithms."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import stat
from typing import Any

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import pkcs12 as asn1_pkcs12
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import load_der_private_key, pkcs12
from hypothesis import given
from hypothesis import strategies as st

import tmsclient.files as files_mod
from tests.helpers.certs import SESSION_PFX_PASSWORD, UTC, der, key_pem, pem
from tests.helpers.paths import BAD_INPUTS
from tmsclient.certs.chain import order_chain, pick_leaf
from tmsclient.certs.facts import sha1_thumbprint
from tmsclient.certs.loading import load_pfx_bytes
from tmsclient.certs.mac import mac_verifies, pkcs12_kdf
from tmsclient.certs.parsing import load_certificates, load_private_key, normalize_text
from tmsclient.certs.pfxoptions import PfxEncryption
from tmsclient.certs.pfxwrite import serialize_pfx
from tmsclient.certs.pkcs12_info import read_pkcs12_algorithms
from tmsclient.certs.summary import ThumbprintError, normalize_thumbprint, public_key_der, summarize
from tmsclient.credentials import Secret
from tmsclient.errors import InputFileError, OutputFileError, PasswordError, UsageError
from tmsclient.files import create_exclusive, write_file_atomic
from tmsemulator.certmaker import issue

THUMB = "A909502DD82AE41433E6F83886B00D4277A32A7B"


@pytest.mark.parametrize(
    "pasted",
    [
        THUMB,
        THUMB.lower(),
        " a9 09 50 2d d8 2a e4 14 33 e6 f8 38 86 b0 0d 42 77 a3 2a 7b ",
        "A9:09:50:2D:D8:2A:E4:14:33:E6:F8:38:86:B0:0D:42:77:A3:2A:7B",
        "\u200ea9 09 50 2d d8 2a e4 14 33 e6 f8 38 86 b0 0d 42 77 a3 2a 7b",  # from the Windows dialog
        "\ufeff" + THUMB + "\r\n",
        THUMB[:20] + "\u00a0" + THUMB[20:],
    ],
)
def test_normalize_thumbprint_accepts_what_people_paste(pasted):
    assert normalize_thumbprint(pasted) == THUMB


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (THUMB[:-2], "has 38 hex digits, expected 40"),
        (THUMB + "00", "has 42 hex digits"),
        (THUMB[:-1] + "G", "'G'"),
        (THUMB[:-1] + "\u2603", "'☃'"),
        ("", "has 0 hex digits"),
    ],
)
def test_normalize_thumbprint_rejects_with_a_specific_message(bad, message):
    with pytest.raises(ThumbprintError, match=message) as err:
        normalize_thumbprint(bad)
    assert isinstance(err.value, UsageError) and isinstance(err.value, ValueError)


@given(
    st.binary(min_size=20, max_size=20),
    st.lists(st.tuples(st.sampled_from([" ", ":", "\u200e", "\u200f", "-", "\t"]), st.integers(0, 60)), max_size=6),
)
def test_normalize_thumbprint_round_trips_any_formatting(raw, insertions):
    text = raw.hex()
    for sep, pos in insertions:
        text = text[:pos] + sep + text[pos:]
    assert normalize_thumbprint(text) == raw.hex().upper()


def test_summary_fields(chains):
    s = summarize(chains.rsa.leaf.cert)
    assert s.thumbprint_sha1 == sha1_thumbprint(chains.rsa.leaf.cert) and s.thumbprint_sha1.isupper()
    assert len(s.thumbprint_sha1) == 40 and len(s.sha256_fingerprint) == 64
    assert int(s.serial, 16) == chains.rsa.leaf.cert.serial_number and len(s.serial) % 2 == 0
    assert s.not_before.tzinfo is not None and s.not_after == dt.datetime(2099, 1, 1, tzinfo=UTC)
    now = dt.datetime(2098, 12, 1, 12, tzinfo=UTC)
    assert s.days_left(now) == 30 and s.validity(now) == "valid"
    assert s.validity(dt.datetime(2100, 1, 1, tzinfo=UTC)) == "expired"
    assert s.days_left(dt.datetime(2099, 1, 3, tzinfo=UTC)) == -2
    assert s.key_description == "RSA 2048 bits" and not s.is_ca and not s.self_signed
    assert summarize(chains.rsa.root.cert).self_signed and summarize(chains.rsa.root.cert).is_ca
    assert summarize(chains.ec.leaf.cert).key_description == "EC secp256r1 (256 bits)"


def test_order_chain_from_any_order(chains):
    rsa = chains.rsa
    ordered = order_chain(rsa.leaf.cert, [rsa.root.cert, rsa.intermediate.cert, rsa.root.cert])  # with a duplicate
    assert [c.subject for c in ordered.chain] == [rsa.intermediate.cert.subject, rsa.root.cert.subject]
    assert ordered.complete and ordered.reaches_root and ordered.unrelated == ()
    assert [link.verifies for link in ordered.links] == [True, True, True]


def test_order_chain_prefers_the_certificate_that_verifies(chains):
    rsa = chains.rsa
    impostor = issue("tmsclient Test Issuing CA", issuer=rsa.root, ca=True)  # same name, other key
    ordered = order_chain(rsa.leaf.cert, [impostor.cert, rsa.root.cert, rsa.intermediate.cert])
    assert ordered.chain[0] == rsa.intermediate.cert and ordered.unrelated == (impostor.cert,)
    only_impostor = order_chain(rsa.leaf.cert, [impostor.cert, rsa.root.cert])
    assert only_impostor.links[0].verifies is False and not only_impostor.complete
    assert only_impostor.broken_links[0].subject == "O=tmsclient test,CN=tms.example.com"


def test_pick_leaf(chains):
    rsa = chains.rsa
    assert pick_leaf([rsa.root.cert, rsa.intermediate.cert, rsa.leaf.cert]) == rsa.leaf.cert


def test_parsing_tolerates_windows_text_and_mail_indentation(chains):
    text = pem(chains.rsa.leaf.cert)
    utf16 = text.decode().encode("utf-16")  # Notepad's "Unicode"
    indented = b"Bag Attributes\n    friendlyName: x\n" + b"\n".join(b"  " + line for line in text.splitlines())
    for variant in (
        b"\xef\xbb\xbf" + text.replace(b"\n", b"\r\n"),
        text.replace(b"\n", b"\r"),
        utf16,
        indented,
    ):
        assert load_certificates(variant, "x") == (chains.rsa.leaf.cert,)
    assert normalize_text(b"\xef\xbb\xbfa\r\nb\rc") == b"a\nb\nc"


def test_parsing_errors_are_specific(chains):
    with pytest.raises(InputFileError, match="holds no certificate"):
        load_certificates(key_pem(chains.rsa.leaf.key), "k.pem")
    with pytest.raises(InputFileError, match="neither a PEM nor a DER certificate"):
        load_certificates(b"\x00\x01garbage", "g.bin")
    with pytest.raises(InputFileError, match="damaged CERTIFICATE block"):
        load_certificates(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "d.pem")
    with pytest.raises(InputFileError, match="holds no private key"):
        load_private_key(pem(chains.rsa.leaf.cert), "c.pem")
    with pytest.raises(InputFileError, match="neither a PEM nor a DER private key"):
        load_private_key(der(chains.rsa.leaf.cert), "c.der")
    with pytest.raises(InputFileError, match="holds 2 private keys"):
        load_private_key(key_pem(chains.rsa.leaf.key) + key_pem(chains.other_key), "two.pem")
    encrypted = key_pem(chains.rsa.leaf.key, b"right-passphrase")
    with pytest.raises(PasswordError, match="does not decrypt"):
        load_private_key(encrypted, "e.pem", lambda: Secret("wrong-passphrase", "test"))
    asked = []

    def passphrase() -> Secret:
        asked.append(1)
        return Secret("right-passphrase", "test")

    key = load_private_key(encrypted, "e.pem", passphrase)
    assert asked == [1] and key.private_numbers() == chains.rsa.leaf.key.private_numbers()
    load_private_key(key_pem(chains.rsa.leaf.key), "plain.pem", lambda: pytest.fail("asked for a passphrase"))


def test_write_file_atomic_modes_and_no_clobber(tmp_path):
    target = tmp_path / "out.p12"
    write_file_atomic(target, b"one")
    assert target.read_bytes() == b"one" and stat.S_IMODE(target.stat().st_mode) == 0o600
    with pytest.raises(OutputFileError, match="already exists"):
        write_file_atomic(target, b"two")
    assert target.read_bytes() == b"one"
    write_file_atomic(target, b"three", force=True, mode=0o644)
    assert target.read_bytes() == b"three" and stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.p12"]


def test_write_file_atomic_does_not_clobber_a_file_that_appears_meanwhile(tmp_path, monkeypatch):
    target = tmp_path / "race.p12"
    real_mkstemp = files_mod.tempfile.mkstemp

    def mkstemp_then_someone_writes(**kwargs):
        result = real_mkstemp(**kwargs)
        target.write_bytes(b"written by someone else")
        return result

    monkeypatch.setattr(files_mod.tempfile, "mkstemp", mkstemp_then_someone_writes)
    with pytest.raises(OutputFileError, match="already exists"):
        write_file_atomic(target, b"ours")
    assert target.read_bytes() == b"written by someone else"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.p12"]


def test_create_exclusive(tmp_path):
    path = create_exclusive(tmp_path / "pw", b"secret\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(OutputFileError, match="refusing to overwrite"):
        create_exclusive(path, b"other\n")
    assert path.read_bytes() == b"secret\n"


# -- opening a .pfx and reading its algorithms ----------------------------------------------------

OPENSSL_VARIANTS = ("legacy", "default", "pbes2_3des", "pbes1_3des_sha256", "nomac", "nokeys", "camellia")


def _written(chains, encryption: PfxEncryption, *, name: str | None, chain: bool, kind: str = "rsa") -> bytes:
    c = chains.rsa if kind == "rsa" else chains.ec
    return serialize_pfx(
        key=c.leaf.key,
        cert=c.leaf.cert,
        cas=[c.intermediate.cert, c.root.cert] if chain else [],
        password=Secret(SESSION_PFX_PASSWORD, "test"),
        name=name,
        ca_names=["issuing-ca", None] if chain else None,
        encryption=encryption,
    )


@pytest.mark.parametrize("password", ["right", "wrong", "empty"])
def test_pfx_files_of_every_form_open_with_their_password_and_refuse_any_other(
    chains, openssl_files, canaries, password
):
    rsa, ec = chains.rsa, chains.ec
    # name: (the file, the chain it was made from, the leaf's friendly name, the chain's)
    files: dict[str, tuple[bytes, Any, str | None, tuple[str | None, ...]]] = {}
    for enc in PfxEncryption:
        files[f"{enc.value}-chain"] = (
            _written(chains, enc, name="tms-cert-key", chain=True),
            rsa,
            "tms-cert-key",
            ("issuing-ca", None),
        )
        files[f"{enc.value}-alone"] = (_written(chains, enc, name="tms-cert-key", chain=False), rsa, "tms-cert-key", ())
    files["unnamed"] = (
        _written(chains, PfxEncryption.COMPATIBLE, name=None, chain=True),
        rsa,
        None,
        ("issuing-ca", None),
    )
    files["ec"] = (
        _written(chains, PfxEncryption.COMPATIBLE, name="ec", chain=True, kind="ec"),
        ec,
        "ec",
        ("issuing-ca", None),
    )
    for variant in OPENSSL_VARIANTS:
        # Without a key, openssl gives the -caname names to the certificates in file order, the leaf first.
        names = (
            ("issuing-ca", ("root-ca", None)) if variant == "nokeys" else ("tms-cert-key", ("issuing-ca", "root-ca"))
        )
        files[f"openssl-{variant}"] = (getattr(openssl_files, variant).read_bytes(), rsa, *names)
    typed = {"right": SESSION_PFX_PASSWORD, "wrong": SESSION_PFX_PASSWORD + "x", "empty": ""}[password]
    canaries.register(typed, "pfx-password")
    for name, (data, c, leaf_name, chain_names) in files.items():
        secret = Secret(typed, "test")
        if password != "right":
            with pytest.raises(PasswordError, match=r"wrong password for f\.pfx") as err:
                load_pfx_bytes(data, secret, source="f.pfx")
            why = "the file has no MAC" if name == "openssl-nomac" else "integrity check"
            assert why in err.value.message, name
            continue
        try:
            bundle = load_pfx_bytes(data, secret, source="f.pfx")
        except InputFileError as err:  # an OpenSSL built without Camellia: named, never "wrong password"
            assert name == "openssl-camellia" and "CAMELLIA-256-CBC" in err.message, (name, err.message)
            continue
        if name == "openssl-nokeys":
            assert bundle.key is None and bundle.key_matches is None
        else:
            assert public_key_der(bundle.key) == public_key_der(c.leaf.key), name
            assert bundle.key_matches is True, name
        assert sha1_thumbprint(bundle.cert) == sha1_thumbprint(c.leaf.cert), name
        expected_chain = [c.intermediate.cert, c.root.cert] if chain_names else []
        assert [sha1_thumbprint(x) for x in bundle.chain] == [sha1_thumbprint(x) for x in expected_chain], name
        assert bundle.friendly_name == leaf_name, name
        assert bundle.chain_friendly_names == chain_names, name
        assert bundle.extra_certs == (), name


def _with_mac_iterations(data: bytes, password: str, iterations: int) -> bytes:
    """The same file with its MAC recomputed over ``iterations`` rounds (RFC 7292 appendix B)."""
    pfx = asn1_pkcs12.Pfx.load(data)
    mac_data = pfx["mac_data"]
    key = pkcs12_kdf("sha1", password.encode("utf-16-be") + b"\x00\x00", mac_data["mac_salt"].native, 3, iterations, 20)
    digest = hmac.new(key, pfx["auth_safe"]["content"].native, hashlib.sha1).digest()
    rebuilt = asn1_pkcs12.Pfx(
        {
            "version": "v3",
            "auth_safe": pfx["auth_safe"],
            "mac_data": {
                "mac": {"digest_algorithm": {"algorithm": "sha1"}, "digest": digest},
                "mac_salt": mac_data["mac_salt"].native,
                "iterations": iterations,
            },
        }
    )
    dumped: bytes = rebuilt.dump(force=True)
    return dumped


def test_a_mac_of_many_iterations_opens_reports_its_count_and_still_tells_a_wrong_password(chains):
    data = _with_mac_iterations(
        _written(chains, PfxEncryption.COMPATIBLE, name="n", chain=False), SESSION_PFX_PASSWORD, 50_000
    )
    bundle = load_pfx_bytes(data, Secret(SESSION_PFX_PASSWORD, "test"), source="f.pfx")
    assert bundle.key_matches is True
    assert bundle.algorithms.mac_iterations == 50_000
    with pytest.raises(PasswordError, match=r"integrity check \(sha1 MAC\) fails"):
        load_pfx_bytes(data, Secret(SESSION_PFX_PASSWORD + "x", "test"), source="f.pfx")


def _with_rsa_field(key: object, field: str, delta: int) -> object:
    """The key with one of its private values off by ``delta``: a key OpenSSL's consistency check refuses."""
    der_key = key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    parsed = asn1_keys.RSAPrivateKey.load(der_key)
    values = {
        name: parsed[name].native
        for name in (
            "version",
            "modulus",
            "public_exponent",
            "private_exponent",
            "prime1",
            "prime2",
            "exponent1",
            "exponent2",
            "coefficient",
        )
    }
    values[field] += delta
    # The test needs the broken key as a key object to write it into a .pfx; cryptography would refuse it.
    return load_der_private_key(asn1_keys.RSAPrivateKey(values).dump(), None, unsafe_skip_rsa_key_validation=True)


@pytest.mark.parametrize("field", ["exponent1", "exponent2", "coefficient", "private_exponent"])
def test_an_inconsistent_rsa_key_is_refused_as_unreadable_not_as_a_wrong_password(chains, field):
    bad = _with_rsa_field(chains.rsa.leaf.key, field, 2)
    builder = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .build(SESSION_PFX_PASSWORD.encode())
    )
    data = pkcs12.serialize_key_and_certificates(b"n", bad, chains.rsa.leaf.cert, None, builder)  # type: ignore[arg-type]
    with pytest.raises(InputFileError, match="cannot be opened although the password is right") as caught:
        load_pfx_bytes(data, Secret(SESSION_PFX_PASSWORD, "test"), source="f.pfx")
    assert "Invalid private key" in " ".join(caught.value.details)


#: The corpus files that are PKCS#12 (the others are refused for what they are instead).
CORPUS_PKCS12 = {
    "3des-sha256-mac.p12",
    "aes.p12",
    "ec-p256.p12",
    "expired.pfx",
    "good.pfx",
    "high-iterations.p12",
    "mismatch.pfx",
    "nokey.p12",
    "not-yet-valid.pfx",
    "weak-1024.p12",
}


def test_algorithms_are_read_from_every_pkcs12_file_and_anything_else_is_refused(chains, openssl_files):
    corpus_password = json.loads((BAD_INPUTS / "MANIFEST.json").read_text(encoding="utf-8"))["passwords"]["pfx"]
    readable = set()
    for path in sorted((BAD_INPUTS / "certs").iterdir()):
        data = path.read_bytes()
        try:
            algorithms = read_pkcs12_algorithms(data)
        except InputFileError as err:
            assert "ASN.1 structure cannot be read" in err.message, path.name
            assert mac_verifies(data, corpus_password) is None, path.name
            continue
        readable.add(path.name)
        assert mac_verifies(data, corpus_password) is True, path.name
        assert mac_verifies(data, SESSION_PFX_PASSWORD) is False, path.name
        if path.name == "aes.p12":
            assert algorithms.cert_encryption_name == "PBES2, PBKDF2, AES-256-CBC, PRF hmacWithSHA256"
        else:
            assert algorithms.cert_encryption_name == "pbeWithSHA1And3-KeyTripleDES-CBC", path.name
        assert algorithms.mac_digest == ("sha1" if path.name not in ("aes.p12", "3des-sha256-mac.p12") else "sha256")
        assert algorithms.key_encryption_name == (None if path.name == "nokey.p12" else algorithms.cert_encryption_name)
    assert readable == CORPUS_PKCS12

    for variant in OPENSSL_VARIANTS:
        data = getattr(openssl_files, variant).read_bytes()
        read_pkcs12_algorithms(data)  # readable (what it reads: test_openssl_interop.py)
        assert mac_verifies(data, SESSION_PFX_PASSWORD) is (None if variant == "nomac" else True), variant
    good = _written(chains, PfxEncryption.COMPATIBLE, name="n", chain=True)
    for damaged in (good[: len(good) - 7], good + b"\x00"):
        with pytest.raises(InputFileError, match=r"ASN\.1 structure cannot be read"):
            read_pkcs12_algorithms(damaged)
    flipped = good[:40] + bytes([good[40] ^ 0xFF]) + good[41:]  # still parses, but no longer matches its MAC
    assert mac_verifies(good, SESSION_PFX_PASSWORD) is True
    assert mac_verifies(flipped, SESSION_PFX_PASSWORD) is False
