"""`tmsclient check` and `check_bundle`: each finding code, its severity, and the exit code it leads to."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from tests.helpers.certs import SESSION_PFX_PASSWORD, UTC, VALID_UNTIL, key_pem, openssl, write
from tests.helpers.paths import DOCS
from tmsclient.certs.checks import CODES, check_bundle, hostname_problem
from tmsclient.certs.loading import load_pfx_bytes, load_pfx_file
from tmsclient.certs.pfxoptions import PfxEncryption
from tmsclient.certs.pfxwrite import serialize_pfx
from tmsclient.credentials import Secret
from tmsclient.errors import UsageError
from tmsclient.exitcodes import ExitCode
from tmsemulator.certmaker import issue

PW = Secret(SESSION_PFX_PASSWORD, "test")


def _pfx(key, cert, cas=(), *, encryption=PfxEncryption.COMPATIBLE, iterations=2048) -> bytes:
    return serialize_pfx(
        key=key,
        cert=cert,
        cas=list(cas),
        password=PW,
        name="tms-cert-key",
        encryption=encryption,
        iterations=iterations,
    )


def _bundle(data: bytes):
    return load_pfx_bytes(data, PW, source="test.pfx")


def _codes(report) -> dict[str, str]:
    return {f.code: f.severity for f in report.findings}


def test_a_fit_bundle_has_no_errors_and_no_warnings(chains):
    rsa = chains.rsa
    report = check_bundle(_bundle(_pfx(rsa.leaf.key, rsa.leaf.cert, [rsa.intermediate.cert, rsa.root.cert])))
    assert report.ok is True
    assert report.findings == ()


def test_fit_file_exits_0_and_reports_json(cli, tmp_path, chains, pw_env):
    rsa = chains.rsa
    path = write(tmp_path / "ok.pfx", _pfx(rsa.leaf.key, rsa.leaf.cert, [rsa.intermediate.cert, rsa.root.cert]))
    result = cli("check", str(path), "--json", env=pw_env)
    assert result.code == 0, result
    payload = result.json
    assert payload["ok"] is True and payload["findings"] == [] and payload["target_os"] == "2016"
    assert payload["not_after"] == "2099-01-01T00:00:00Z"
    human = cli("check", str(path), env=pw_env)
    assert human.code == 0 and "FIT for TMS on Windows Server 2016 (0 errors, 0 warnings)" in human.out


def test_key_mismatch(chains):
    # cryptography refuses to write a mismatched key with its certificate, so put the certificate beside it.
    data = pkcs12.serialize_key_and_certificates(
        b"x",
        chains.other_key,
        None,
        [chains.rsa.leaf.cert],
        BestAvailableEncryption(SESSION_PFX_PASSWORD.encode()),
    )
    report = check_bundle(_bundle(data), target_os="2019")
    assert _codes(report)["KEY_MISMATCH"] == "error" and not report.ok
    message = next(f.message for f in report.findings if f.code == "KEY_MISMATCH")
    assert "got a key with public-key fingerprint" in message and "expected the certificate's" in message


def test_expired_and_not_yet_valid(chains):
    exp, fut = chains.expired, chains.future
    expired = check_bundle(_bundle(_pfx(exp.leaf.key, exp.leaf.cert)))
    assert _codes(expired)["EXPIRED"] == "error"
    assert "expired on 2021-01-01 00:00 UTC" in expired.findings[0].message
    future = check_bundle(_bundle(_pfx(fut.leaf.key, fut.leaf.cert)))
    assert _codes(future)["NOT_YET_VALID"] == "error"
    assert "valid only from 2090-01-01 00:00 UTC" in future.findings[0].message


def test_expires_soon_with_a_fixed_now(chains):
    rsa = chains.rsa
    bundle = _bundle(_pfx(rsa.leaf.key, rsa.leaf.cert))
    now = VALID_UNTIL - dt.timedelta(days=10, hours=1)
    report = check_bundle(bundle, now=now)
    assert _codes(report) == {"EXPIRES_SOON": "warning", "CHAIN_INCOMPLETE": "info"} and report.ok
    assert "in 10 days (--warn-days 30)" in report.findings[0].message
    assert "EXPIRES_SOON" not in _codes(check_bundle(bundle, now=now, warn_days=5))


def test_no_private_key(openssl_files):
    report = check_bundle(load_pfx_file(openssl_files.nokeys, PW), target_os="2022")
    assert _codes(report) == {"NO_PRIVATE_KEY": "error", "PFX_NEWER_WINDOWS_ONLY": "info"}


def test_pfx_unsupported_on_target_and_fit_on_2019(openssl_files):
    bundle = load_pfx_file(openssl_files.default, PW)
    on_2016 = check_bundle(bundle)
    assert _codes(on_2016) == {"PFX_UNSUPPORTED_ON_TARGET": "error"}
    assert "The specified network password is not correct." in on_2016.findings[0].message
    assert "tmsclient convert" in on_2016.findings[0].message
    on_2019 = check_bundle(bundle, target_os="2019")
    assert on_2019.ok and _codes(on_2019) == {"PFX_NEWER_WINDOWS_ONLY": "info"}


def test_3des_with_sha256_mac_fails_on_2016(openssl_files):
    report = check_bundle(load_pfx_file(openssl_files.pbes1_3des_sha256, PW), target_os="2012r2")
    assert not report.ok
    assert "MAC digest sha256" in report.findings[0].message


def test_weak_ec_and_other_key_types(chains):
    weak = check_bundle(_bundle(_pfx(chains.weak.key, chains.weak.cert)))
    assert _codes(weak)["WEAK_KEY"] == "error" and "1024 bits, expected 2048" in weak.findings[0].message
    ec = chains.ec
    ec_report = check_bundle(_bundle(_pfx(ec.leaf.key, ec.leaf.cert, [ec.intermediate.cert, ec.root.cert])))
    assert _codes(ec_report) == {"EC_KEY": "error"}
    assert "secp256r1" in ec_report.findings[0].message and "RSA" in ec_report.findings[0].message
    ed = issue("ed.example.com", key=ed25519.Ed25519PrivateKey.generate(), issuer=chains.rsa.intermediate)
    assert _codes(check_bundle(_bundle(_pfx(ed.key, ed.cert))))["UNSUPPORTED_KEY"] == "error"


def test_sha1_signature_is_a_warning(tmp_path):
    # cryptography refuses to sign with SHA-1 any more; OpenSSL still does.
    key, cert, out = tmp_path / "k.pem", tmp_path / "c.pem", tmp_path / "sha1.pfx"
    openssl(
        "req",
        "-x509",
        "-sha1",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(cert),
        "-subj",
        "/CN=tms.example.com",
        "-days",
        "3650",
    )
    openssl(
        "pkcs12",
        "-export",
        "-legacy",
        "-inkey",
        str(key),
        "-in",
        str(cert),
        "-out",
        str(out),
        "-passout",
        "env:TMSCLIENT_TEST_OSSL_PW",
        password=SESSION_PFX_PASSWORD,
    )
    report = check_bundle(load_pfx_file(out, PW))
    assert _codes(report) == {"SHA1_SIGNATURE": "warning"} and report.ok


@pytest.mark.parametrize(
    ("cn", "problem"),
    [
        ("tms.example.com", None),
        ("*.example.com", None),
        ("TMS01.corp.example.org", None),
        ("tms", "not fully qualified"),
        ("TMS SAML signing", "not a host name"),
        ("10.1.2.3", "is an IP address"),
        ("-bad-.example.com", "not a host name"),
        (None, "has no common name"),
    ],
)
def test_hostname_rule(cn, problem):
    result = hostname_problem(cn)
    assert (result is None) if problem is None else (problem in (result or ""))


def test_cn_not_hostname_and_key_usage_without_signature(chains):
    rsa = chains.rsa
    odd = issue("TMS SAML signing", issuer=rsa.intermediate, sans=["tms.example.com"])
    report = check_bundle(_bundle(_pfx(odd.key, odd.cert, [rsa.intermediate.cert, rsa.root.cert])))
    assert _codes(report) == {"CN_NOT_HOSTNAME": "warning"} and report.ok
    # a certificate whose key usage lacks digitalSignature
    builder = (
        x509.CertificateBuilder()
        .subject_name(odd.cert.subject)
        .issuer_name(rsa.intermediate.cert.subject)
        .public_key(odd.key.public_key())
        .serial_number(7)
        .not_valid_before(dt.datetime(2024, 1, 1, tzinfo=UTC))
        .not_valid_after(VALID_UNTIL)
        .add_extension(x509.KeyUsage(False, False, True, False, False, False, False, False, False), True)
    )
    cert = builder.sign(rsa.intermediate.key, hashes.SHA256())
    report = check_bundle(_bundle(_pfx(odd.key, cert, [rsa.intermediate.cert, rsa.root.cert])))
    assert _codes(report)["KEY_USAGE_NO_SIGNATURE"] == "warning"


def test_high_iterations_is_a_warning(chains):
    rsa = chains.rsa
    report = check_bundle(
        _bundle(_pfx(rsa.leaf.key, rsa.leaf.cert, [rsa.intermediate.cert, rsa.root.cert], iterations=50_000))
    )
    assert _codes(report) == {"HIGH_ITERATIONS": "warning"}
    assert "50,000" in report.findings[0].message


def test_chain_broken_unrelated_and_incomplete(chains):
    rsa = chains.rsa
    fake = issue("tmsclient Test Issuing CA", issuer=rsa.root, ca=True)
    broken = check_bundle(_bundle(_pfx(rsa.leaf.key, rsa.leaf.cert, [fake.cert, rsa.root.cert])))
    assert _codes(broken) == {"CHAIN_BROKEN": "warning"}
    assert broken.findings[0].message.startswith("O=tmsclient test,CN=tms.example.com does not verify")
    extra = check_bundle(
        _bundle(_pfx(rsa.leaf.key, rsa.leaf.cert, [rsa.intermediate.cert, rsa.root.cert, chains.ec.root.cert]))
    )
    assert _codes(extra) == {"CHAIN_UNRELATED": "warning"}
    partial = check_bundle(_bundle(_pfx(rsa.leaf.key, rsa.leaf.cert, [rsa.intermediate.cert])))
    assert _codes(partial) == {"CHAIN_INCOMPLETE": "info"} and partial.ok


def test_every_code_is_documented():

    doc = (DOCS / "certificates.md").read_text()
    for code, (severity, _) in CODES.items():
        assert f"`{code}`" in doc, code
        assert severity in ("error", "warning", "info")


def test_unknown_target_os_is_a_usage_error(chains):
    rsa = chains.rsa
    with pytest.raises(UsageError, match="unknown target OS"):
        check_bundle(_bundle(_pfx(rsa.leaf.key, rsa.leaf.cert)), target_os="2008")


# -- the command ------------------------------------------------------------------------


def test_check_exits_5_when_unfit_and_lists_findings(cli, openssl_files, pw_env):
    result = cli("check", str(openssl_files.default), env=pw_env)
    assert result.code == ExitCode.CERT_UNFIT, result
    assert "NOT FIT for TMS on Windows Server 2016 (1 error, 0 warnings)" in result.out
    assert "ERROR   PFX_UNSUPPORTED_ON_TARGET:" in result.out
    fit = cli("check", str(openssl_files.default), "--target-os", "2022", "--json", env=pw_env)
    assert fit.code == 0 and fit.json["ok"] is True and fit.json["target_os"] == "2022"


def test_check_warn_days(cli, tmp_path, chains, pw_env):
    rsa = chains.rsa
    path = write(tmp_path / "ok.pfx", _pfx(rsa.leaf.key, rsa.leaf.cert, [rsa.intermediate.cert, rsa.root.cert]))
    result = cli("check", str(path), "--warn-days", "100000", "--json", env=pw_env)
    assert result.code == 0, result
    assert [(f["code"], f["severity"]) for f in result.json["findings"]] == [("EXPIRES_SOON", "warning")]
    assert cli("check", str(path), "--warn-days", "-1", env=pw_env).code == ExitCode.USAGE


def test_check_expired_exits_5(cli, tmp_path, chains, pw_env):
    exp = chains.expired
    path = write(tmp_path / "old.pfx", _pfx(exp.leaf.key, exp.leaf.cert))
    result = cli("check", str(path), "--json", env=pw_env)
    assert result.code == ExitCode.CERT_UNFIT
    assert result.json["ok"] is False and "EXPIRED" in [f["code"] for f in result.json["findings"]]


def test_check_wrong_password_exits_4_with_bad_password_finding(cli, canaries, openssl_files):
    wrong = canaries.secret("wrong-password")
    result = cli("check", str(openssl_files.default), "--json", "--pfx-password-env", "PW", env={"PW": wrong})
    assert result.code == ExitCode.BAD_PASSWORD, result
    payload = result.json
    assert payload["ok"] is False
    codes = [f["code"] for f in payload["findings"]]
    # what can be judged without the password is still reported
    assert codes == ["BAD_PASSWORD", "PFX_UNSUPPORTED_ON_TARGET"]
    assert "wrong password" in result.err


def test_check_refuses_to_run_on_a_key_file(cli, tmp_path, chains, pw_env):
    path = write(tmp_path / "key.pem", key_pem(chains.rsa.leaf.key))
    result = cli("check", str(path), env=pw_env)
    assert result.code == ExitCode.INPUT_FILE and "holding PRIVATE KEY" in result.err


def test_round_trip_through_cryptography_pem_private_bytes_is_not_in_output(cli, openssl_files, pw_env, chains):
    # The key is in the file; none of its bytes may reach the report (the canaries check the output).
    result = cli("check", str(openssl_files.legacy), "--json", "-vv", env=pw_env)
    assert result.code in (0, 5)
    pem_key = chains.rsa.leaf.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert pem_key.decode().splitlines()[1] not in result.text
