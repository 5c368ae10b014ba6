"""`tmsclient convert` (re-encode a .pfx) and `tmsclient export-cer` (the .cer for the WebEx team)."""

from __future__ import annotations

import stat

import pytest
from cryptography import x509

from tests.helpers.certs import SESSION_PFX_PASSWORD, der, openssl, openssl_info, pem, write
from tmsclient.certs.facts import sha1_thumbprint
from tmsclient.certs.loading import load_pfx_file
from tmsclient.certs.summary import public_key_der, summarize
from tmsclient.credentials import Secret
from tmsclient.exitcodes import ExitCode

PBES1_3DES = "pbeWithSHA1And3-KeyTripleDES-CBC"


def _same_contents(original, converted) -> None:
    assert public_key_der(converted.key) == public_key_der(original.key)
    assert sha1_thumbprint(converted.cert) == sha1_thumbprint(original.cert)
    assert [sha1_thumbprint(c) for c in converted.chain] == [sha1_thumbprint(c) for c in original.chain]
    assert converted.friendly_name == original.friendly_name
    assert converted.chain_friendly_names == original.chain_friendly_names


@pytest.mark.parametrize("variant", ["default", "pbes2_3des", "pbes1_3des_sha256", "legacy", "nomac", "camellia"])
def test_convert_to_the_compatible_form_keeping_everything(cli, openssl_files, pw_env, tmp_path, variant):
    src = getattr(openssl_files, variant)
    out = tmp_path / "tms.p12"
    result = cli("convert", str(src), "--out", str(out), "--json", env=pw_env)
    assert result.code == 0, result
    info = openssl_info(out, SESSION_PFX_PASSWORD)  # same password as the input by default
    assert info.ok, info.output
    assert (info.mac_digest, info.cert_encryption, info.key_encryption) == (
        "sha1",
        (PBES1_3DES,),
        (PBES1_3DES,),
    )
    original = load_pfx_file(src, Secret(SESSION_PFX_PASSWORD, "test"))
    converted = load_pfx_file(out, Secret(SESSION_PFX_PASSWORD, "test"))
    _same_contents(original, converted)
    assert converted.chain_friendly_names == ("issuing-ca", "root-ca")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    j = result.json
    assert j["windows_import"] == {"2012r2": True, "2016": True, "2019": True, "2022": True}
    assert j["input"]["windows_import"]["2016"] is (variant == "legacy")
    assert j["password_source"] == "env:TMSCLIENT_PFX_PASSWORD"


def test_convert_with_a_new_password(cli, canaries, openssl_files, pw_env, tmp_path):
    new_pw = canaries.secret("new-pfx-password")
    out = tmp_path / "tms.p12"
    result = cli(
        "convert",
        str(openssl_files.default),
        "--out",
        str(out),
        "--out-password-env",
        "NEW",
        env={**pw_env, "NEW": new_pw},
    )
    assert result.code == 0, result
    assert load_pfx_file(out, Secret(new_pw, "test")).key is not None
    assert openssl_info(out, SESSION_PFX_PASSWORD).ok is False  # the old password no longer opens it


def test_convert_input_and_output_passwords_cannot_both_come_from_stdin(cli, openssl_files, tmp_path):
    result = cli(
        "convert",
        str(openssl_files.default),
        "--out",
        str(tmp_path / "o.p12"),
        "--in-password-stdin",
        "--out-password-stdin",
        stdin=SESSION_PFX_PASSWORD + "\n",
    )
    assert result.code == ExitCode.USAGE and "stdin already supplies" in result.err


def test_convert_with_a_generated_password_and_a_new_name(cli, openssl_files, pw_env, tmp_path):
    out, pwfile = tmp_path / "tms.p12", tmp_path / "tms.password"
    result = cli(
        "convert",
        str(openssl_files.default),
        "--out",
        str(out),
        "--generate-password",
        str(pwfile),
        "--name",
        "tms-2025",
        env=pw_env,
    )
    assert result.code == 0, result
    bundle = load_pfx_file(out, Secret(pwfile.read_text().strip(), "test"))
    assert bundle.friendly_name == "tms-2025" and bundle.chain_friendly_names == ("issuing-ca", "root-ca")


def test_convert_does_not_overwrite_without_force_and_can_convert_in_place(cli, openssl_files, pw_env, tmp_path):
    copy = write(tmp_path / "in.pfx", openssl_files.default.read_bytes())
    refused = cli("convert", str(copy), "--out", str(copy), env=pw_env)
    assert refused.code == ExitCode.OUTPUT_FILE and copy.read_bytes() == openssl_files.default.read_bytes()
    forced = cli("convert", str(copy), "--out", str(copy), "--force", env=pw_env)
    assert forced.code == 0, forced
    assert openssl_info(copy, SESSION_PFX_PASSWORD).mac_digest == "sha1"


def test_convert_modern_warns(cli, openssl_files, pw_env, tmp_path):
    result = cli(
        "convert",
        str(openssl_files.legacy),
        "--out",
        str(tmp_path / "m.p12"),
        "--encryption",
        "modern",
        env=pw_env,
    )
    assert result.code == 0 and "2012 R2 and 2016 cannot import it" in result.err
    assert openssl_info(tmp_path / "m.p12", SESSION_PFX_PASSWORD).mac_digest == "sha256"


def test_convert_refuses_an_empty_input_password_as_the_output_password(cli, tmp_path, chains):
    src = tmp_path / "empty-pw.pfx"
    key = write(tmp_path / "k.pem", chains.rsa.leaf.key_pem())
    cert = write(tmp_path / "c.pem", pem(chains.rsa.leaf.cert))
    openssl("pkcs12", "-export", "-inkey", str(key), "-in", str(cert), "-out", str(src), "-passout", "pass:")
    result = cli("convert", str(src), "--out", str(tmp_path / "o.p12"), env={"TMSCLIENT_PFX_PASSWORD": ""})
    assert result.code == ExitCode.BAD_PASSWORD and "empty password" in result.err and "--out-password" in result.err
    assert not (tmp_path / "o.p12").exists()


# -- export-cer --------------------------------------------------------------------------


def test_export_cer_from_pfx(cli, openssl_files, pw_env, tmp_path, chains):
    out = tmp_path / "tms-cert.cer"
    result = cli("export-cer", str(openssl_files.default), "--out", str(out), env=pw_env)
    assert result.code == 0, result
    data = out.read_bytes()
    assert data.startswith(b"-----BEGIN CERTIFICATE-----\n") and b"PRIVATE KEY" not in data
    assert x509.load_pem_x509_certificate(data) == chains.rsa.leaf.cert
    s = summarize(chains.rsa.leaf.cert)
    assert s.thumbprint_sha1 in result.out and s.serial in result.out and "2099-01-01" in result.out
    # OpenSSL reads it as the same certificate
    assert s.serial in openssl("x509", "-in", str(out), "-noout", "-serial").stdout.upper()


def test_export_cer_from_der_certificate_json(cli, tmp_path, chains):
    src = write(tmp_path / "leaf.der", der(chains.rsa.leaf.cert))
    out = tmp_path / "leaf.CRT"
    j = cli("export-cer", str(src), "--out", str(out), "--json").json
    assert j["ok"] is True and j["thumbprint_sha1"] == sha1_thumbprint(chains.rsa.leaf.cert)
    assert j["not_after"] == "2099-01-01T00:00:00Z"
    assert out.read_bytes() == pem(chains.rsa.leaf.cert)


def test_export_cer_refuses_other_extensions_unless_forced(cli, tmp_path, chains):
    src = write(tmp_path / "leaf.pem", pem(chains.rsa.leaf.cert))
    refused = cli("export-cer", str(src), "--out", str(tmp_path / "leaf.txt"))
    assert refused.code == ExitCode.USAGE and "expected .cer or .crt" in refused.err
    assert not (tmp_path / "leaf.txt").exists()
    forced = cli("export-cer", str(src), "--out", str(tmp_path / "leaf.txt"), "--any-extension")
    assert forced.code == 0 and (tmp_path / "leaf.txt").read_bytes() == pem(chains.rsa.leaf.cert)


def test_export_cer_does_not_overwrite_without_force(cli, tmp_path, chains):
    src = write(tmp_path / "leaf.pem", pem(chains.rsa.leaf.cert))
    out = write(tmp_path / "tms-cert.cer", b"old")
    refused = cli("export-cer", str(src), "--out", str(out))
    assert refused.code == ExitCode.OUTPUT_FILE and out.read_bytes() == b"old"
    assert cli("export-cer", str(src), "--out", str(out), "--force").code == 0
    assert out.read_bytes() == pem(chains.rsa.leaf.cert)


def test_export_cer_warns_for_an_expired_certificate(cli, tmp_path, chains):
    src = write(tmp_path / "old.pem", pem(chains.expired.leaf.cert))
    result = cli("export-cer", str(src), "--out", str(tmp_path / "old.cer"))
    assert result.code == 0 and "the certificate is expired" in result.err
