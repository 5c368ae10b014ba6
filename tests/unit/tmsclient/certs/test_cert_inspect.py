"""`tmsclient inspect`: every field in human and JSON form, with and without the .pfx password."""

from __future__ import annotations

import io
import json
import re

import pytest

from tests.helpers.certs import SESSION_PFX_PASSWORD, der, key_pem, openssl, pem, write
from tmsclient.certs.facts import sha1_thumbprint
from tmsclient.certs.pfxwrite import serialize_pfx
from tmsclient.cli import main
from tmsclient.credentials import Secret
from tmsclient.exitcodes import ExitCode
from tmsclient.settings import SecretResolver


def _openssl_x509(path, *args: str) -> str:
    return openssl("x509", "-in", str(path), "-noout", *args).stdout


def _openssl_fingerprint(path, digest: str) -> str:
    found = re.search(r"=([0-9A-F:]+)", _openssl_x509(path, "-fingerprint", digest))
    assert found is not None, f"openssl printed no {digest} fingerprint"
    return found.group(1)


def test_pfx_json_has_every_field_and_agrees_with_openssl(cli, openssl_files, pw_env, chains):
    result = cli("inspect", str(openssl_files.legacy), "--json", env=pw_env)
    assert result.code == 0, result
    j = result.json
    # thumbprint, serial and fingerprint as OpenSSL computes them
    sha1 = _openssl_fingerprint(openssl_files.cert, "-sha1")
    sha256 = _openssl_fingerprint(openssl_files.cert, "-sha256")
    serial = _openssl_x509(openssl_files.cert, "-serial").strip().split("=", 1)[1]
    assert j["thumbprint_sha1"] == sha1.replace(":", "")
    assert j["sha256_fingerprint"] == sha256.replace(":", "")
    assert j["serial"] == serial.upper().zfill(len(j["serial"]))
    assert j["not_after"] == "2099-01-01T00:00:00Z" and j["not_before"] == "2024-01-01T00:00:00Z"
    assert j["validity"] == "valid" and j["days_left"] > 365 * 50
    assert j["subject"] == "O=tmsclient test,CN=tms.example.com" and j["common_name"] == "tms.example.com"
    assert j["issuer"] == "O=tmsclient test,CN=tmsclient Test Issuing CA"
    assert (j["key_type"], j["key_size"], j["signature_hash"]) == ("RSA", 2048, "sha256")
    assert j["sans"] == ["DNS:tms.example.com"]
    assert j["key_usage"] == ["digitalSignature", "keyEncipherment"]
    assert j["extended_key_usage"] == ["serverAuth", "clientAuth"]
    assert j["friendly_name"] == "tms-cert-key"
    assert j["has_private_key"] is True and j["key_matches_certificate"] is True
    assert [(c["position"], c["verifies"], c["self_signed"]) for c in j["chain"]] == [
        (0, True, False),
        (1, True, False),
        (2, True, True),
    ]
    assert j["chain"][2]["status"] == "self-signed root"
    assert j["pkcs12"]["mac_digest"] == "sha1" and j["pkcs12"]["mac_iterations"] == 2048
    assert j["pkcs12"]["cert_encryption"] == "pbeWithSHA1And40BitRC2-CBC"
    assert j["pkcs12"]["key_encryption"] == "pbeWithSHA1And3-KeyTripleDES-CBC"
    assert j["windows_import"] == {"2012r2": True, "2016": True, "2019": True, "2022": True}
    assert j["certificate_read"] is True


def test_pfx_human_output(cli, openssl_files, pw_env, chains):
    result = cli("inspect", str(openssl_files.default), env=pw_env)
    assert result.code == 0, result
    out = result.out
    assert f"Thumbprint (SHA-1):  {sha1_thumbprint(chains.rsa.leaf.cert)}" in out
    assert "You have a private key that corresponds to this certificate." in out
    assert "Valid until:         2099-01-01 00:00:00 UTC" in out
    assert "Friendly name:       tms-cert-key" in out
    assert "MAC:                  sha256, 2,048 iterations" in out
    assert re.search(r"Windows Server 2016:\s+NO - MAC digest sha256", out)
    assert re.search(r"Windows Server 2019:\s+yes", out)
    assert "[2] O=tmsclient test,CN=tmsclient Test Root CA" in out


def test_pfx_without_password_shows_algorithms_and_says_the_rest_needs_it(cli, openssl_files):
    result = cli("inspect", str(openssl_files.default), "--json")
    assert result.code == 0, result
    j = result.json
    assert j["certificate_read"] is False and j["thumbprint_sha1"] is None and j["not_after"] is None
    assert j["has_private_key"] is True  # the key bag is visible without the password
    assert j["key_matches_certificate"] is None
    assert j["pkcs12"]["cert_encryption"] == "PBES2, PBKDF2, AES-256-CBC, PRF hmacWithSHA256"
    assert j["windows_import"]["2016"] is False and j["windows_import"]["2022"] is True
    assert any("need the .pfx password" in n for n in j["notes"])
    human = cli("inspect", str(openssl_files.nokeys))
    assert "Private key: unknown without the password" in human.out


def test_no_password_flag_ignores_the_environment(cli, openssl_files, pw_env):
    result = cli("inspect", str(openssl_files.legacy), "--no-password", "--json", env=pw_env)
    assert result.code == 0 and result.json["certificate_read"] is False
    both = cli("inspect", str(openssl_files.legacy), "--no-password", "--pfx-password-env", "X", env={"X": "y"})
    assert both.code == ExitCode.USAGE


def test_pfx_wrong_password_still_shows_algorithms_and_exits_4(cli, canaries, openssl_files):
    wrong = canaries.secret("wrong-password")
    result = cli("inspect", str(openssl_files.default), "--json", env={"TMSCLIENT_PFX_PASSWORD": wrong})
    assert result.code == ExitCode.BAD_PASSWORD, result
    j = result.json
    assert j["error"]["code"] == "BAD_PASSWORD" and "wrong password" in j["error"]["message"]
    assert j["windows_import"]["2016"] is False
    assert "tmsclient: error: wrong password" in result.err


def test_ec_certificate_is_shown_fine(cli, tmp_path, chains, pw_env):
    ec = chains.ec
    data = serialize_pfx(
        key=ec.leaf.key,
        cert=ec.leaf.cert,
        cas=[ec.intermediate.cert, ec.root.cert],
        password=Secret(SESSION_PFX_PASSWORD, "test"),
        name="ec",
    )
    path = write(tmp_path / "ec.pfx", data)
    result = cli("inspect", str(path), "--json", env=pw_env)
    assert result.code == 0, result
    j = result.json
    assert (j["key_type"], j["key_size"], j["key_curve"]) == ("EC", 256, "secp256r1")
    assert j["key_matches_certificate"] is True
    assert all(c["verifies"] for c in j["chain"])


def test_expired_and_not_yet_valid_are_visible(cli, tmp_path, chains):
    old = write(tmp_path / "old.pem", pem(chains.expired.leaf.cert))
    j = cli("inspect", str(old), "--json").json
    assert j["validity"] == "expired" and j["days_left"] < 0
    assert "EXPIRED" in cli("inspect", str(old)).out
    fut = write(tmp_path / "future.crt", pem(chains.future.leaf.cert))
    assert cli("inspect", str(fut), "--json").json["validity"] == "not yet valid"


def test_pem_chain_file_with_key(cli, tmp_path, chains):
    rsa = chains.rsa
    path = write(
        tmp_path / "all.pem",
        pem(rsa.root.cert) + pem(rsa.leaf.cert) + key_pem(rsa.leaf.key) + pem(rsa.intermediate.cert),
    )
    j = cli("inspect", str(path), "--json").json
    assert j["format"] == "pem" and j["common_name"] == "tms.example.com"
    assert j["has_private_key"] is True and j["key_matches_certificate"] is True
    assert len(j["chain"]) == 3 and j["pkcs12"] is None and j["windows_import"] is None
    mismatched = write(tmp_path / "bad.pem", pem(rsa.leaf.cert) + key_pem(chains.other_key))
    assert cli("inspect", str(mismatched), "--json").json["key_matches_certificate"] is False
    assert "does NOT belong to this certificate" in cli("inspect", str(mismatched)).out


def test_der_certificate_and_broken_chain(cli, tmp_path, chains):
    path = write(tmp_path / "leaf.cer", der(chains.rsa.leaf.cert))
    j = cli("inspect", str(path), "--json").json
    assert j["format"] == "der" and j["has_private_key"] is False
    assert j["chain"][0]["verifies"] is None and j["chain"][0]["status"] == "issuer not in the file"


@pytest.mark.parametrize("name", ["notes.txt", "key.pem"])
def test_files_that_hold_no_certificate(cli, tmp_path, chains, name):
    data = b"hello\n" if name == "notes.txt" else key_pem(chains.rsa.leaf.key)
    result = cli("inspect", str(write(tmp_path / name, data)))
    assert result.code == ExitCode.INPUT_FILE
    assert ("neither a PEM nor a DER certificate" in result.err) or ("holds no certificate" in result.err)


def test_empty_password_from_the_environment_is_tried(cli, tmp_path, chains):
    key = write(tmp_path / "k.pem", key_pem(chains.rsa.leaf.key))
    cert = write(tmp_path / "c.pem", pem(chains.rsa.leaf.cert))
    src = tmp_path / "empty-pw.pfx"
    openssl("pkcs12", "-export", "-inkey", str(key), "-in", str(cert), "-out", str(src), "-passout", "pass:")
    j = cli("inspect", str(src), "--json", env={"TMSCLIENT_PFX_PASSWORD": ""}).json
    assert j["certificate_read"] is True and j["key_matches_certificate"] is True


def test_enter_at_the_prompt_skips_the_password(openssl_files, monkeypatch):
    monkeypatch.setattr(SecretResolver, "_can_prompt", lambda self: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt: "")
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(
        ["inspect", str(openssl_files.default), "--json"],
        stdout=stdout,
        stderr=stderr,
        environ={},
        interactive=True,
    )
    assert code == 0, stderr.getvalue()
    payload = json.loads(stdout.getvalue())
    assert payload["certificate_read"] is False and payload["windows_import"]["2022"] is True
