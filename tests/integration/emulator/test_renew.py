"""`tmsclient renew` end to end against the emulator: every step reported, one exit code, nothing sent to TMS
before the certificate passed its checks."""

from __future__ import annotations

import hashlib
import stat

import pytest
from cryptography import x509

from tmsclient.certs.pkcs12_info import read_pkcs12_algorithms
from tmsclient.exitcodes import ExitCode

STEPS = ["settings", "input", "check", "bundle", "export-cer", "upload", "verify"]


def steps(result):
    return [(s["step"], s["status"]) for s in result.json["steps"]]


def write_pem(tmp_path, r, *, passphrase=None):
    cert, key, chain = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "chain.pem"
    cert.write_bytes(r.cert_pem())
    key.write_bytes(r.key_pem(passphrase))
    chain.write_bytes(r.chain_pem())
    return ["--cert", str(cert), "--key", str(key), "--chain", str(chain)]


def test_renew_from_pem_files_bundles_exports_uploads_and_verifies(cli, target, renewed, tmp_path):
    t = target()
    r = renewed()
    out, cer, pw = tmp_path / "tms.p12", tmp_path / "tms-cert.cer", tmp_path / "tms.pw"
    result = cli(
        "renew",
        *t.argv(),
        *write_pem(tmp_path, r),
        "--out",
        str(out),
        "--cer-out",
        str(cer),
        "--generate-password",
        str(pw),
        "--json",
        env={"TMSCLIENT_TMS_PASSWORD": t.password},
    )
    assert result.code == 0, result
    assert steps(result) == [(s, "ok") for s in STEPS]
    assert result.json["ok"] is True and result.json["exit_code"] == 0 and result.json["error"] is None
    assert t.thumbprint() == r.thumbprint == result.json["certificate"]["thumbprint_sha1"]
    assert result.json["targets"][0]["action"] == "uploaded"
    assert result.json["targets"][0]["verification"] == "certificate"
    # The .cer is the leaf alone, for the WebEx team; the kept .pfx is private and Windows-compatible.
    assert x509.load_pem_x509_certificate(cer.read_bytes()) == r.leaf
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and stat.S_IMODE(pw.stat().st_mode) == 0o600
    algorithms = read_pkcs12_algorithms(out.read_bytes())
    assert algorithms.mac_digest == "sha1" and algorithms.mac_iterations == 2048
    # The emulator (as Windows Server 2016) stored exactly the file kept in --out.
    assert t.state()["sites"][0]["certificate"]["pfx_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert t.counters()["saves_applied"] == 1


def test_renew_keeps_nothing_on_disk_without_out_and_says_so(cli, target, renewed, tmp_path):
    t = target()
    r = renewed()
    argv = write_pem(tmp_path, r)
    before = set(tmp_path.iterdir())
    result = cli("renew", *t.argv(), *argv, env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert result.code == 0, result
    written = set(tmp_path.iterdir()) - before
    assert written == set()
    assert "in memory only, not written" in result.out
    assert "export-cer  skipped" in result.out
    assert f"thumbprint {r.thumbprint}" in result.out
    assert t.thumbprint() == r.thumbprint


def test_second_renew_is_unchanged(cli, target, renewed, tmp_path):
    t = target()
    r = renewed()
    argv = ["renew", *t.argv(), *write_pem(tmp_path, r), "--json"]
    assert cli(*argv, env={"TMSCLIENT_TMS_PASSWORD": t.password}).code == 0
    again = cli(*argv, env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert again.code == 0, again
    assert again.json["targets"][0]["action"] == "unchanged"
    assert t.counters()["saves_applied"] == 1
    forced = cli(*argv, "--reupload", env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert forced.code == 0 and forced.json["targets"][0]["action"] == "uploaded"
    assert t.counters()["saves_applied"] == 2


def test_aes_pfx_is_converted_before_upload(cli, target, renewed, tmp_path, canaries):
    t = target(server_os="2016")
    r = renewed()
    password = canaries.secret("pfx-password")
    src = tmp_path / "exported.pfx"
    src.write_bytes(r.pfx(password, modern=True))
    result = cli(
        "renew",
        *t.argv(),
        "--pfx",
        str(src),
        "--json",
        env={"TMSCLIENT_TMS_PASSWORD": t.password, "TMSCLIENT_PFX_PASSWORD": password},
    )
    assert result.code == 0, result
    assert [s for s, _ in steps(result)][3] == "convert"
    assert result.json["pfx"]["reencoded"] is True
    assert t.thumbprint() == r.thumbprint
    assert [e["outcome"] for e in t.state()["save_log"]] == ["stored"]


def test_compatible_pfx_goes_as_it_is(cli, target, renewed, tmp_path, canaries):
    t = target()
    r = renewed()
    password = canaries.secret("pfx-password")
    src = tmp_path / "tms.pfx"
    src.write_bytes(r.pfx(password))
    result = cli(
        "renew",
        *t.argv(),
        "--pfx",
        str(src),
        "--pfx-password-env",
        "PFX_PW",
        "--json",
        env={"TMSCLIENT_TMS_PASSWORD": t.password, "PFX_PW": password},
    )
    assert result.code == 0, result
    assert result.json["pfx"]["reencoded"] is False
    assert t.state()["sites"][0]["certificate"]["pfx_sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()


def test_encrypted_key_takes_its_passphrase_from_the_environment(cli, target, renewed, tmp_path, canaries):
    t = target()
    r = renewed()
    passphrase = canaries.secret("key-passphrase")
    argv = write_pem(tmp_path, r, passphrase=passphrase.encode())
    missing = cli("renew", *t.argv(), *argv, "--json", env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert missing.code == ExitCode.BAD_PASSWORD
    assert steps(missing)[:3] == [("settings", "ok"), ("input", "failed"), ("check", "not-run")]
    assert t.counters()["requests"] == 0
    result = cli(
        "renew",
        *t.argv(),
        *argv,
        "--key-passphrase-env",
        "KEY_PW",
        env={"TMSCLIENT_TMS_PASSWORD": t.password, "KEY_PW": passphrase},
    )
    assert result.code == 0, result
    assert t.thumbprint() == r.thumbprint


# ------------------------------------------------------------------------------ stops before touching TMS


@pytest.mark.parametrize("problem", ["expired", "key-mismatch"])
def test_a_failed_check_stops_before_any_request_or_file(cli, target, renewed, tmp_path, problem):
    t = target()
    r = renewed(expired=problem == "expired")
    argv = write_pem(tmp_path, r)
    if problem == "key-mismatch":
        other = renewed(key="other")
        (tmp_path / "key.pem").write_bytes(other.key_pem())
    before = t.thumbprint()
    cer = tmp_path / "tms-cert.cer"
    result = cli(
        "renew",
        *t.argv(),
        *argv,
        "--cer-out",
        str(cer),
        "--out",
        str(tmp_path / "o.p12"),
        "--json",
        env={"TMSCLIENT_TMS_PASSWORD": t.password},
    )
    assert result.code == ExitCode.CERT_UNFIT, result
    got = dict(steps(result))
    assert (got["input"], got["check"]) == ("ok", "failed")
    assert all(got[s] == "not-run" for s in STEPS[3:])
    err = result.json["error"]
    assert err["code"] == "CERT_UNFIT"
    assert any(
        line.startswith("ERROR   " + ("EXPIRED" if problem == "expired" else "KEY_MISMATCH")) for line in err["details"]
    )
    # Zero requests: the emulator never saw a connection, and nothing was written.
    assert t.counters()["requests"] == 0 and t.counters()["connections"] == 0
    assert t.thumbprint() == before
    assert not cer.exists() and not (tmp_path / "o.p12").exists()
    assert result.err.startswith("tmsclient: error: ")


def test_wrong_pfx_password_stops_before_tms(cli, target, renewed, tmp_path, canaries):
    t = target()
    src = tmp_path / "tms.pfx"
    src.write_bytes(renewed().pfx(canaries.secret("pfx-password")))
    result = cli(
        "renew",
        *t.argv(),
        "--pfx",
        str(src),
        "--json",
        env={"TMSCLIENT_TMS_PASSWORD": t.password, "TMSCLIENT_PFX_PASSWORD": canaries.secret("wrong")},
    )
    assert result.code == ExitCode.BAD_PASSWORD
    assert dict(steps(result))["input"] == "failed"
    assert t.counters()["requests"] == 0


def test_existing_outputs_are_refused_before_anything_unless_forced(cli, target, renewed, tmp_path):
    t = target()
    r = renewed()
    cer = tmp_path / "tms-cert.cer"
    cer.write_text("the old certificate\n")
    argv = ["renew", *t.argv(), *write_pem(tmp_path, r), "--cer-out", str(cer)]
    refused = cli(*argv, env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert refused.code == ExitCode.OUTPUT_FILE
    assert "already exists" in refused.err and "--force" in refused.err
    assert cer.read_text() == "the old certificate\n" and t.counters()["requests"] == 0
    forced = cli(*argv, "--force", env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert forced.code == 0, forced
    assert cer.read_bytes() == r.cert_pem()


def test_a_tms_failure_is_the_exit_code_and_the_steps_before_it_are_done(cli, target, renewed, tmp_path, canaries):
    t = target()
    result = cli(
        "renew",
        *t.argv(),
        *write_pem(tmp_path, renewed()),
        "--json",
        env={"TMSCLIENT_TMS_PASSWORD": canaries.secret("wrong-tms-password")},
    )
    assert result.code == ExitCode.AUTH
    assert steps(result) == [
        ("settings", "ok"),
        ("input", "ok"),
        ("check", "ok"),
        ("bundle", "ok"),
        ("export-cer", "skipped"),
        ("upload", "failed"),
        ("verify", "not-run"),
    ]
    assert result.json["error"]["code"] == "AUTH"
    assert t.counters()["saves_applied"] == 0


def test_missing_site_fails_at_settings(cli, target, renewed, tmp_path):
    t = target()
    argv = [a for a in t.argv() if a not in ("--site", "acme")]
    result = cli("renew", *argv, *write_pem(tmp_path, renewed()), "--json", env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert result.code == ExitCode.CONFIG
    assert steps(result)[0] == ("settings", "failed") and all(s == "not-run" for _, s in steps(result)[1:])
    assert "no site given" in result.json["error"]["message"]


def test_human_report_names_every_step(cli, target, renewed, tmp_path):
    t = target()
    result = cli("renew", *t.argv(), *write_pem(tmp_path, renewed()), env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert lines[0] == "renew: ok (exit 0)"
    for step in STEPS:
        assert any(line.split()[:1] == [step] for line in lines), step
    assert "for the WebEx team:" in result.out


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "no certificate given"),
        (["--key", "k.pem"], "--key and --chain go with --cert"),
        (["--cert", "c.pem", "--pfx", "p.pfx"], "not allowed with argument"),
    ],
)
def test_usage_errors(cli, argv, message):
    result = cli("renew", "--url", "https://tms.invalid/tms/", "--non-interactive", *argv)
    assert result.code == ExitCode.USAGE
    assert message in result.err
