"""show, verify and discover end to end against the emulator (HTTPS, NTLM): read-only, and what they report."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

from tests.helpers.emulated import upload
from tmsclient.exitcodes import ExitCode

PROFILES = ("tms15", "tms15-labelfor", "tms15-cells", "tms15-relabelled")


def test_show_lists_global_settings_and_every_sites_fields_never_a_password(cli, tms):
    t = tms()
    result = cli("show", *t.target(), "--json", env=t.env)
    assert result.code == 0, result
    out = result.json
    assert out["menu_path"] == ["Administrative Tools", "Configuration", "WebEx Settings"]
    assert {g["key"]: g["value"] for g in out["global"]} == {"enable_webex": "Yes", "add_webex_to_all": "No"}
    assert [(s["host_name"], s["site_name"]) for s in out["sites"]] == [
        ("acme.webex.com", "acme"),
        ("acme-eu.webex.com", "acmeeu"),
        ("acme-training.webex.com", "training"),
    ]
    acme = out["sites"][0]
    fields = {f["key"]: f for f in acme["fields"]}
    assert fields["use_sso"]["value"] == "Yes" and fields["bandwidth"]["value"] == "High"
    assert fields["partner_name"]["value"] == "tms.acme.example"
    assert fields["certificate_password"]["value"] is None and fields["certificate_password"]["secret"]
    assert acme["certificate"]["thumbprint"] == "3B7E0C5A9D41F26B8C0E1A7D5F3392C4E6B18A07"
    assert acme["verification_possible"] == "certificate"
    assert out["sites"][1]["certificate"]["installed"] == "No"
    assert t.counters()["saves_applied"] == 0 and t.counters()["post_bodies"][0]["files"] == []
    human = cli("show", *t.target(), "--site", "acmeeu", env=t.env)
    assert human.code == 0
    assert "site acme-eu.webex.com/acmeeu" in human.out and "site acme.webex.com/acme" not in human.out
    assert "Certificate Password: (never shown)" in human.out
    assert "Use Single Sign On: No" in human.out


@pytest.mark.parametrize("profile", PROFILES)
def test_show_works_on_every_profile(cli, tms, page_profile, profile):
    t = tms(page_profile=profile, cert_details="none")
    result = cli("show", *t.target(), "--json", *page_profile(profile), env=t.env)
    assert result.code == 0, result
    sites = result.json["sites"]
    assert len(sites) == 3
    assert all(s["verification_possible"] == "fields-only" for s in sites)
    assert sites[0]["certificate"]["installed"] == ("Ja" if profile == "tms15-relabelled" else "Yes")


def test_verify_after_upload_and_against_another_certificate(cli, tms, pfx):
    t = tms()
    good, other = pfx(name="good.pfx"), pfx(name="other.pfx")
    env = {**t.env, **good.env}
    assert cli("upload", *t.target(), "--site", "acme", "--pfx", str(good.path), env=env).code == 0
    ok = cli("verify", *t.target(), "--site", "acme", "--pfx", str(good.path), "--json", env=env)
    assert ok.code == 0, ok
    assert ok.json["verification"] == "certificate" and ok.json["ok"] is True
    bad = cli("verify", *t.target(), "--site", "acme", "--pfx", str(other.path), "--json", env=env)
    assert bad.code == ExitCode.VERIFY_FAILED
    err = bad.json["error"]
    assert f"certificate thumbprint: got {good.thumbprint}, expected {other.thumbprint}" in err["details"]
    saves = t.counters()["saves_applied"]
    assert saves == 1 and len(t.files_received()) == 1  # verify never posts a file or saves


def test_verify_with_the_certificate_alone_needs_no_password(cli, tms, pfx, tmp_path):
    t = tms()
    f = pfx()
    assert cli("upload", *t.target(), "--site", "acme", "--pfx", str(f.path), env={**t.env, **f.env}).code == 0
    cert = pkcs12.load_key_and_certificates(f.path.read_bytes(), f.password.encode())[1]
    assert cert is not None
    cer = tmp_path / "tms.cer"
    cer.write_bytes(cert.public_bytes(Encoding.PEM))
    result = cli("verify", *t.target(), "--site", "acme", "--cert", str(cer), env=t.env)
    assert result.code == 0, result
    assert "verified (certificate)" in result.out


def test_verify_fields_only_and_require_certificate(cli, tms, pfx):
    t = tms(cert_details="none")
    f = pfx()
    env = {**t.env, **f.env}
    assert cli("upload", *t.target(), "--site", "acme", "--pfx", str(f.path), env=env).code == 0
    ok = cli("verify", *t.target(), "--site", "acme", "--pfx", str(f.path), "--json", env=env)
    assert ok.code == 0 and ok.json["verification"] == "fields-only"
    assert any("fields-only" in n for n in ok.json["notes"])
    strict = cli("verify", *t.target(), "--site", "acme", "--pfx", str(f.path), "--require-certificate", env=env)
    assert strict.code == ExitCode.VERIFY_FAILED
    assert "got fields-only, expected certificate" in strict.err


def test_verify_sso_off_and_fields(cli, tms, pfx):
    t = tms()
    f = pfx()
    env = {**t.env, **f.env}
    result = cli(
        "verify", *t.target(), "--site", "acmeeu", "--pfx", str(f.path), "--partner-name", "x", "--json", env=env
    )
    assert result.code == ExitCode.VERIFY_FAILED
    details = result.json["error"]["details"]
    assert "Use Single Sign On: got No, expected Yes" in details
    assert "SSO Partner Name: got '', expected 'x'" in details
    assert "certificate installed: got No, expected Yes" in details


@pytest.mark.parametrize("profile", ["tms15-labelfor", "tms15-cells", "tms15-relabelled"])
def test_discover_writes_a_profile_that_uploads(cli, tms, pfx, tmp_path, profile):
    t = tms(page_profile=profile)
    out = tmp_path / "mine.toml"
    found = cli("discover", *t.target(), "--out", str(out), "--json", env=t.env)
    assert found.code == 0, found
    report = found.json
    assert report["menu_path"] == ["Administrative Tools", "Configuration", "WebEx Settings"]
    assert report["site_opened"] == "acme.webex.com/acme"
    # The built-in profile's alternates find the labels of labelfor and cells; the other language is guessed.
    guessed = any("GUESSED" in note for note in report["profile_notes"].values())
    assert guessed == (profile == "tms15-relabelled")
    fields = [f for form in report["site_forms"] for f in form["fields"]]
    assert any(f["type"] == "password" and f["value"] is None for f in fields)
    text = out.read_text()
    assert "[fields]" in text and ("# GUESSED" in text) == guessed
    f = pfx()
    result = upload(cli, t, f, "--page-profile", str(out), "--json")
    assert result.code == 0, result
    assert result.json["verification"] == "certificate"
    assert t.site("acme")["certificate"]["thumbprint_sha1"] == f.thumbprint


def test_discover_keeps_what_the_builtin_profile_finds_and_never_overwrites(cli, tms, tmp_path):
    t = tms()
    out = tmp_path / "p.toml"
    first = cli("discover", *t.target(), "--out", str(out), env=t.env)
    assert first.code == 0, first
    assert "Host Name [text ctl00$uxContent$ctl01$hostName] = 'acme.webex.com'" in first.out
    assert "page profile written to" in first.out
    assert "# GUESSED" not in out.read_text()
    out.write_text("mine")
    again = cli("discover", *t.target(), "--out", str(out), env=t.env)
    assert again.code == ExitCode.OUTPUT_FILE and out.read_text() == "mine"
    forced = cli("discover", *t.target(), "--out", str(out), "--force", env=t.env)
    assert forced.code == 0 and out.read_text() != "mine"


def test_read_commands_fail_like_upload(cli, tms):
    t = tms()
    denied = cli("show", *t.target(user=("TMSLAB", "bob")), env={"TMSCLIENT_TMS_PASSWORD": t.user_password})
    assert denied.code == ExitCode.NOT_ADMIN
    wrong = cli("discover", *t.target(), env={"TMSCLIENT_TMS_PASSWORD": "Not-the-password-1"})
    assert wrong.code == ExitCode.AUTH
    missing = cli("verify", *t.target(), "--site", "acme", env=t.env)
    assert missing.code == ExitCode.CONFIG and "no pfx given; set it with --pfx" in missing.err
