"""PKCS#12 files written by the openssl CLI: what tmsclient reads from each, cross-checked against what
`openssl pkcs12 -info` prints for the same file."""

from __future__ import annotations

import pytest

from tests.helpers.certs import SESSION_PFX_PASSWORD, openssl_info
from tmsclient.certs.compat import import_verdicts
from tmsclient.certs.facts import sha1_thumbprint
from tmsclient.certs.loading import load_pfx_file, read_pfx_algorithms_file
from tmsclient.certs.mac import mac_verifies
from tmsclient.certs.summary import public_key_der
from tmsclient.credentials import Secret
from tmsclient.errors import PasswordError

RC2_40 = "pbeWithSHA1And40BitRC2-CBC"
PBES1_3DES = "pbeWithSHA1And3-KeyTripleDES-CBC"
PBES2_AES = "PBES2, PBKDF2, AES-256-CBC, PRF hmacWithSHA256"
PBES2_3DES = "PBES2, PBKDF2, DES-EDE3-CBC, PRF hmacWithSHA256"
PBES2_CAMELLIA = "PBES2, PBKDF2, CAMELLIA-256-CBC, PRF hmacWithSHA256"

# variant: (mac digest, certificate encryption, key encryption, Windows verdicts 2012r2/2016/2019/2022)
EXPECTED = {
    "legacy": ("sha1", (RC2_40,), (PBES1_3DES,), (True, True, True, True)),
    "default": ("sha256", (PBES2_AES,), (PBES2_AES,), (False, False, True, True)),
    "pbes2_3des": ("sha256", (PBES2_3DES,), (PBES2_3DES,), (False, False, True, True)),
    "pbes1_3des_sha256": ("sha256", (PBES1_3DES,), (PBES1_3DES,), (False, False, True, True)),
    "nomac": (None, (), (PBES2_AES,), (False, False, False, False)),
    "nokeys": ("sha256", (PBES2_AES,), (), (False, False, True, True)),
    "camellia": ("sha256", (PBES2_CAMELLIA,), (PBES2_CAMELLIA,), (False, False, False, False)),
}


@pytest.mark.parametrize("variant", sorted(EXPECTED))
def test_algorithms_match_openssl_info(openssl_files, variant):
    path = getattr(openssl_files, variant)
    mac, cert_enc, key_enc, verdicts = EXPECTED[variant]
    info = openssl_info(path, SESSION_PFX_PASSWORD, legacy=True)
    assert info.ok, info.output
    # Our expectation agrees with OpenSSL's own reading of the file...
    assert info.mac_digest == mac
    assert info.cert_encryption == cert_enc
    assert info.key_encryption == key_enc
    # ...and so does what tmsclient reads without the password.
    _, algs = read_pfx_algorithms_file(path)
    assert algs.mac_digest == info.mac_digest
    assert algs.mac_iterations == info.mac_iterations
    assert tuple(e.name for e in algs.cert_encryption) == info.cert_encryption
    assert tuple(e.name for e in algs.key_encryption) == info.key_encryption
    assert algs.plain_cert_bags == info.plain_cert_bags
    iterations = [e.iterations for e in (*algs.cert_encryption, *algs.key_encryption)]
    assert None not in iterations
    assert sorted(i for i in iterations if i is not None) == sorted(info.iterations)
    assert tuple(v.importable for v in import_verdicts(algs).values()) == verdicts


def test_nomac_file_has_no_mac_per_openssl(openssl_files):
    info = openssl_info(openssl_files.nomac, SESSION_PFX_PASSWORD)
    assert "MAC is absent" in info.output
    assert info.plain_cert_bags == 3  # OpenSSL 3.0 -nomac leaves the three certificates unencrypted
    _, algs = read_pfx_algorithms_file(openssl_files.nomac)
    assert algs.mac_digest is None and algs.cert_encryption_name == "none"


@pytest.mark.parametrize("variant", ["legacy", "default", "pbes2_3des", "pbes1_3des_sha256", "nomac", "camellia"])
def test_each_file_opens_with_key_certificate_chain_and_name(openssl_files, chains, variant):
    bundle = load_pfx_file(getattr(openssl_files, variant), Secret(SESSION_PFX_PASSWORD, "test"))
    rsa = chains.rsa
    assert public_key_der(bundle.key) == public_key_der(rsa.leaf.key)
    assert bundle.key_matches is True
    assert sha1_thumbprint(bundle.cert) == sha1_thumbprint(rsa.leaf.cert)
    assert [sha1_thumbprint(c) for c in bundle.chain] == [
        sha1_thumbprint(rsa.intermediate.cert),
        sha1_thumbprint(rsa.root.cert),
    ]
    assert bundle.friendly_name == "tms-cert-key"
    assert bundle.chain_friendly_names == ("issuing-ca", "root-ca")


def test_nokeys_file_opens_without_a_key(openssl_files, chains):
    bundle = load_pfx_file(openssl_files.nokeys, Secret(SESSION_PFX_PASSWORD, "test"))
    assert bundle.key is None and bundle.key_matches is None
    assert sha1_thumbprint(bundle.cert) == sha1_thumbprint(chains.rsa.leaf.cert)
    assert len(bundle.chain) == 2


@pytest.mark.parametrize("variant", ["legacy", "default", "pbes1_3des_sha256"])
def test_wrong_password_agrees_with_openssl(openssl_files, variant):
    path = getattr(openssl_files, variant)
    info = openssl_info(path, "not-the-password", legacy=True)
    assert not info.ok and "mac verify" in info.output.lower()
    with pytest.raises(PasswordError, match="wrong password") as err:
        load_pfx_file(path, Secret("not-the-password", "test"))
    assert "MAC" in err.value.message
    assert "not-the-password" not in err.value.diagnostics()


@pytest.mark.parametrize("variant", ["legacy", "default", "pbes2_3des", "pbes1_3des_sha256", "nokeys"])
def test_own_mac_check_agrees_with_openssl(openssl_files, variant):
    data = getattr(openssl_files, variant).read_bytes()
    assert mac_verifies(data, SESSION_PFX_PASSWORD) is True
    assert mac_verifies(data, SESSION_PFX_PASSWORD + "x") is False
    assert mac_verifies(openssl_files.nomac.read_bytes(), SESSION_PFX_PASSWORD) is None


def test_nomac_wrong_password_is_a_password_error_that_says_why_it_cannot_be_sure(openssl_files):
    with pytest.raises(PasswordError) as err:
        load_pfx_file(openssl_files.nomac, Secret("not-the-password", "test"))
    assert "no MAC" in err.value.message
