"""Any page shape a person can use, tmsclient can use: upload, verify and show with the built-in page profile and no
per-target settings against every emulator profile; the button rule on every body sent; the empty list."""

from __future__ import annotations

import pytest

from tests.helpers.emulated import USER, upload
from tmsclient.exitcodes import ExitCode
from tmsemulator import PROFILES

#: Not run with the built-in profile: an import that always fails on the host (tested apart, below), and a UI
#: in another language, which needs a page profile (test_upload_e2e.py gives it one).
APART = {"tms15-keyset", "tms15-relabelled"}
WORKING = tuple(name for name in PROFILES if name not in APART)


@pytest.mark.parametrize("cert_details", ["summary", "none"])
@pytest.mark.parametrize("profile", WORKING)
def test_upload_verify_show_on_every_emulator_profile_with_the_built_in_profile(cli, tms, pfx, profile, cert_details):
    t = tms(page_profile=profile, cert_details=cert_details)
    f = pfx()
    env = {**t.env, **f.env}
    site = "acme-eu.webex.com"
    up = upload(cli, t, f, "--enable-sso", "--partner-name", "tms.acme.example", "--json", site=site)
    assert up.code == 0, up
    out = up.json
    assert out["action"] == "uploaded"
    assert out["verification"] == ("certificate" if cert_details == "summary" else "fields-only")
    stored = t.site("acmeeu")
    assert stored["certificate"]["thumbprint_sha1"] == f.thumbprint
    assert (stored["use_sso"], stored["partner_name"]) == (True, "tms.acme.example")
    assert [x["sha256"] for x in t.files_received()] == [f.sha256]
    if cert_details == "none":
        note = " ".join(out["notes"])
        assert "could not be checked" in note and "test booking" in note
    # The button rule, on every body the client sent: only the site's Save was ever pressed; never Cancel,
    # Add Site, or the Save of the global part.
    p = t.em.config.profile()
    never = {p.site_prefix + p.cancel.name, p.settings_prefix + p.add_site.name, p.settings_prefix + p.save_global.name}
    save = p.site_prefix + p.save.name
    bodies = t.counters()["post_bodies"]
    assert bodies and all(not never & set(body["fields"]) for body in bodies), [b["fields"] for b in bodies]
    assert sum(save in body["fields"] for body in bodies if body["files"]) == 1

    ver = cli("verify", *t.target(), "--site", site, "--pfx", str(f.path), "--json", env=env)
    assert ver.code == 0, ver
    assert ver.json["verification"] == out["verification"]
    shown = cli("show", *t.target(), "--site", site, "--json", env=t.env)
    assert shown.code == 0, shown
    assert [s["host_name"] for s in shown.json["sites"]] == [site]
    if t.em.config.profile().footer_serial:
        for payload in (out, ver.json, shown.json):
            assert payload["tms"]["serial_number"] == t.em.config.profile().footer_serial
            assert payload["tms"]["server"] == t.em.config.profile().footer_host
            assert payload["tms"]["user"] == "TMSLAB\\admin"


@pytest.mark.parametrize("profile", WORKING)
def test_an_empty_sites_list_is_no_sites_not_a_page_not_understood(cli, tms, pfx, profile):
    t = tms(page_profile=profile, sites=[])
    f = pfx()
    result = upload(cli, t, f)
    assert result.code == ExitCode.SITE_NOT_FOUND, result
    assert "sites on TMS: none" in result.err
    shown = cli("show", *t.target(), "--json", env=t.env)
    assert shown.code == 0, shown
    assert shown.json["sites"] == []


def test_sites_open_by_host_name_at_another_url_and_prg_after_save(cli, tms, pfx):
    t = tms(page_profile="tms15-evidence")
    f = pfx()
    result = upload(cli, t, f, "--json")
    assert result.code == 0, result
    log = t.state()["request_log"]
    gets = [e["path"] for e in log if e["method"] == "GET" and e["status"] == 200]
    # The site was opened by its host-name link, with the link's own query parameters, and re-read there
    # after the Save redirected to the list.
    assert sum("pageId=131&Id=1&View=true" in p for p in gets) == 2, gets
    posts = [e for e in log if e["method"] == "POST" and e["status"] != 401]
    assert [e["status"] for e in posts] == [302]
    # The decoy "Booking > WebEx Settings" (pageId 36) was never followed.
    assert not any("pageId=36" in p for p in gets)


def test_asp_net_error_page_on_save_is_reported_with_tms_words(cli, tms, pfx):
    t = tms(page_profile="tms15-repeater")
    f = pfx(password="right-one")
    good = upload(cli, t, f, "--no-preflight")
    assert good.code == 0, good
    # A file the host refuses (AES-256 on Server 2016): the import throws, ASP.NET shows its error page.
    aes = pfx(kind="aes", name="aes.pfx")
    bad = upload(cli, t, aes, "--no-preflight", site="acmeeu")
    assert bad.code == ExitCode.REJECTED, bad
    assert "The specified network password is not correct." in bad.err
    assert "error page" in bad.err
    assert t.site("acmeeu")["certificate"] is None


def test_keyset_does_not_exist_is_a_server_error_that_says_the_fields_were_stored(cli, tms, pfx):
    t = tms(page_profile="tms15-keyset")
    f = pfx()
    result = upload(cli, t, f, "--partner-name", "new.acme.example", site="acmeeu")
    assert result.code == ExitCode.SERVER_ERROR, result
    assert "Keyset does not exist" in result.err
    assert "stored" in result.err and "anyway" in result.err
    site = t.site("acmeeu")
    assert site["certificate"] is None and site["partner_name"] == "new.acme.example"


@pytest.mark.parametrize("command", ["upload", "verify"])
def test_require_certificate_makes_fields_only_exit_23(cli, tms, pfx, command):
    t = tms(cert_details="none")
    f = pfx()
    env = {**t.env, **f.env}
    result = cli(command, *t.target(), "--site", "acme", "--pfx", str(f.path), "--require-certificate", env=env)
    assert result.code == ExitCode.VERIFY_FAILED and int(ExitCode.VERIFY_FAILED) == 23, result
    assert "fields-only" in result.err


def test_not_a_site_administrator_only_when_the_page_says_so(cli, tms, pfx):
    t = tms()
    f = pfx()
    result = upload(cli, t, f, user=USER, env={"TMSCLIENT_TMS_PASSWORD": t.user_password})
    assert result.code == ExitCode.NOT_ADMIN, result
    assert "Access Denied" in result.err


def test_renew_with_require_certificate_fails_fields_only_with_exit_23(cli, target, renewed, tmp_path):
    t = target(cert_details="none")
    r = renewed()
    cert, key, chain = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "chain.pem"
    cert.write_bytes(r.cert_pem())
    key.write_bytes(r.key_pem(None))
    chain.write_bytes(r.chain_pem())
    argv = [*t.argv(), "--cert", str(cert), "--key", str(key), "--chain", str(chain)]
    argv += ["--out", str(tmp_path / "tms.p12"), "--generate-password", str(tmp_path / "tms.pw"), "--json"]
    result = cli("renew", *argv, "--require-certificate", env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert result.code == ExitCode.VERIFY_FAILED, result
    assert "fields-only" in result.out + result.err and "could not be checked" in result.out + result.err
    # The Save itself went through: the failure is the missing proof, not the upload.
    assert t.thumbprint() == r.thumbprint
