"""upload end to end through main(argv) against the emulator over HTTPS with NTLM, checked on its state."""

from __future__ import annotations

import pytest

from tests.helpers import emulated
from tmsclient.exitcodes import ExitCode
from tmsemulator import SiteData

PROFILES = ("tms15", "tms15-labelfor", "tms15-cells", "tms15-relabelled")


def upload(cli, t, f, *extra, site="acme", env=None):
    return emulated.upload(cli, t, f, "--json", *extra, site=site, env=env)


def without(state, site_name):
    """Every site and setting except one site's, for 'nothing else changed' comparisons."""
    return {"global": state["global"], "sites": [s for s in state["sites"] if s["site_name"] != site_name]}


def test_first_upload_costs_the_minimum_requests_and_sends_the_pfx_once(cli, tms, pfx):
    t = tms()
    f = pfx()
    before = t.state()
    result = upload(cli, t, f)
    assert result.code == 0, result
    out = result.json
    assert {"action", "verification", "thumbprint_sha1", "not_after", "requests", "bytes_sent", "elapsed_s"} <= set(out)
    assert out["action"] == "uploaded" and out["verification"] == "certificate"
    assert out["thumbprint_sha1"] == f.thumbprint
    assert out["site"] == {"host_name": "acme.webex.com", "site_name": "acme"}
    after = t.state()
    site = t.site("acme")
    assert site["certificate"]["thumbprint_sha1"] == f.thumbprint
    assert site["certificate"]["pfx_sha256"] == f.sha256
    # Only the certificate of the chosen site changed: every other field and site exactly as before.
    old = next(s for s in before["sites"] if s["site_name"] == "acme")
    assert {k: v for k, v in site.items() if k != "certificate"} == {k: v for k, v in old.items() if k != "certificate"}
    assert without(after, "acme") == without(before, "acme")
    counters = after["counters"]
    # start page (3: NTLM), settings page, Edit postback, Save, settings page, Edit postback.
    assert counters["requests"] == 3 + 5 == out["requests"]
    assert counters["unauthorized"] == 2 and counters["logins"] == 1 and counters["connections"] == 1
    files = t.files_received()
    assert [(x["filename"], x["sha256"]) for x in files] == [("tms-cert.pfx", f.sha256)]
    assert counters["saves_applied"] == 1
    assert out["bytes_sent"] > f.size and out["elapsed_s"] > 0
    assert out["not_after"].startswith(f.not_after.strftime("%Y-%m-%dT%H:%M:%S"))


@pytest.mark.parametrize("cert_details", ["summary", "none"])
@pytest.mark.parametrize("profile", PROFILES)
def test_every_page_profile_and_details_mode(cli, tms, pfx, page_profile, profile, cert_details):
    t = tms(page_profile=profile, cert_details=cert_details)
    f = pfx()
    before = t.state()
    result = upload(
        cli,
        t,
        f,
        "--enable-sso",
        "--partner-name",
        "tms.acme.example",
        "--account-name",
        "eu-sso@acme.example",
        *page_profile(profile),
        site="acme-eu.webex.com",
    )
    assert result.code == 0, result
    out = result.json
    assert out["action"] == "uploaded"
    assert out["verification"] == ("certificate" if cert_details == "summary" else "fields-only")
    site = t.site("acmeeu")
    assert site["certificate"]["thumbprint_sha1"] == f.thumbprint
    assert (site["use_sso"], site["partner_name"], site["account_name"]) == (
        True,
        "tms.acme.example",
        "eu-sso@acme.example",
    )
    old = next(s for s in before["sites"] if s["site_name"] == "acmeeu")
    untouched = ("host_name", "site_name", "bandwidth", "default_site", "use_global", "tsp_audio", "authn_context")
    assert {k: site[k] for k in untouched} == {k: old[k] for k in untouched}
    assert without(t.state(), "acmeeu") == without(before, "acmeeu")
    assert [x["sha256"] for x in t.files_received()] == [f.sha256]
    if cert_details == "none":
        assert any("fields-only" in note for note in out["notes"])


def test_hyperlink_profile_rereads_the_site_page_directly(cli, tms, pfx, page_profile):
    t = tms(page_profile="tms15-labelfor")
    result = upload(cli, t, pfx(), *page_profile("tms15-labelfor"))
    assert result.code == 0, result
    # start page (3), settings page, site page, Save, site page again.
    assert t.counters()["requests"] == 3 + 4 == result.json["requests"]


def test_page_url_skips_the_menu(cli, tms, pfx):
    t = tms()
    result = upload(cli, t, pfx(), "--page-url", "default.aspx?pageId=83")
    assert result.code == 0, result
    assert t.counters()["requests"] == 3 + 4  # settings page (3: NTLM), Edit, Save, settings page, Edit
    paths = [e["path"] for e in t.state()["request_log"]]
    assert "/tms/" not in paths


def test_a_second_upload_is_unchanged_and_posts_nothing_unless_reuploaded(cli, tms, pfx):
    t = tms()
    f = pfx()
    assert upload(cli, t, f).code == 0
    saves = t.counters()["saves_applied"]
    again = upload(cli, t, f)
    assert again.code == 0, again
    assert again.json["action"] == "unchanged" and again.json["verification"] == "certificate"
    assert t.counters()["saves_applied"] == saves and len(t.files_received()) == 1
    # Only the Edit postback went out, never a multipart Save.
    assert [b["content_type"] for b in t.counters()["post_bodies"]].count("multipart/form-data") == 1
    human = cli("upload", *t.target(), "--site", "acme", "--pfx", str(f.path), env={**t.env, **f.env})
    assert human.code == 0 and "already has this certificate" in human.out and "--reupload" in human.out
    forced = upload(cli, t, f, "--reupload")
    assert forced.code == 0 and forced.json["action"] == "uploaded"
    assert t.counters()["saves_applied"] == saves + 1 and len(t.files_received()) == 2


def test_unchanged_needs_the_asked_for_fields_too(cli, tms, pfx):
    t = tms()
    f = pfx()
    assert upload(cli, t, f).code == 0
    result = upload(cli, t, f, "--partner-name", "other.example")
    assert result.code == 0 and result.json["action"] == "uploaded"
    assert t.site("acme")["partner_name"] == "other.example"


def test_fields_only_mode_cannot_tell_so_it_uploads_again(cli, tms, pfx):
    t = tms(cert_details="none")
    f = pfx()
    assert upload(cli, t, f).code == 0
    again = upload(cli, t, f)
    assert again.code == 0 and again.json["action"] == "uploaded"
    assert again.json["verification"] == "fields-only"


def test_dry_run_prints_the_redacted_plan_and_saves_nothing(cli, tms, pfx):
    t = tms()
    f = pfx()
    result = upload(cli, t, f, "--dry-run", "--enable-sso", "--partner-name", "p.example", site="acmeeu")
    assert result.code == 0, result
    out = result.json
    assert out["action"] == "dry-run" and out["verification"] is None
    assert out["changes"] == [
        {"field": "use_sso", "label": "Use Single Sign On", "before": "No (false)", "after": "Yes (true)"},
        {
            "field": "sso_certificate",
            "label": "SSO Certificate",
            "before": "(empty)",
            "after": f"<file tms-cert.pfx, {f.size} bytes>",
        },
        {"field": "certificate_password", "label": "Certificate Password", "before": "(empty)", "after": "<hidden>"},
        {"field": "partner_name", "label": "SSO Partner Name", "before": "(empty)", "after": "'p.example'"},
    ]
    assert t.files_received() == [] and t.counters()["saves_applied"] == 0
    human = cli(
        "upload", *t.target(), "--site", "acmeeu", "--pfx", str(f.path), "--dry-run", "-vv", env={**t.env, **f.env}
    )
    assert human.code == 0
    assert "Certificate Password: (empty) -> <hidden>" in human.out
    assert "SSO Certificate: (empty) -> <file tms-cert.pfx" in human.out
    assert t.site("acmeeu")["certificate"] is None


def test_verbose_runs_show_steps_and_no_secret(cli, tms, pfx):
    t = tms()
    result = upload(cli, t, pfx(), "-vv")
    assert result.code == 0, result
    assert "menu: Administrative Tools > Configuration > WebEx Settings" in result.err
    assert "password: <hidden>" in result.err
    # The canaries fixture fails the test if a TMS or .pfx password, or the key, shows anywhere.


# ------------------------------------------------------------------------------------------ failure paths


def one_line(result):
    line = result.err.strip().splitlines()[0]
    assert line.startswith("tmsclient: error: ")
    return line


def test_wrong_tms_password(cli, tms, pfx):
    t = tms()
    f = pfx()
    result = cli(
        "upload",
        *t.target(),
        "--site",
        "acme",
        "--pfx",
        str(f.path),
        env={"TMSCLIENT_TMS_PASSWORD": "Wrong-password-1", **f.env},
    )
    assert result.code == ExitCode.AUTH
    line = one_line(result)
    assert "refused the login of 'TMSLAB\\admin'" in line and "check the user name" in line
    assert t.counters()["saves_applied"] == 0


def test_not_a_site_administrator(cli, tms, pfx):
    t = tms()
    f = pfx()
    result = cli(
        "upload",
        *t.target(user=("TMSLAB", "bob")),
        "--site",
        "acme",
        "--pfx",
        str(f.path),
        env={"TMSCLIENT_TMS_PASSWORD": t.user_password, **f.env},
    )
    assert result.code == ExitCode.NOT_ADMIN
    line = one_line(result)
    assert "Access Denied" in line and "Site Administrator" in line


def test_untrusted_tls(cli, tms, pfx):
    t = tms()
    f = pfx()
    argv = t.target(ca=False)
    result = cli("upload", *argv, "--site", "acme", "--pfx", str(f.path), env={**t.env, **f.env})
    assert result.code == ExitCode.TLS
    line = one_line(result)
    assert "TLS verification of 127.0.0.1 failed" in line and "--ca-bundle" in line
    assert t.counters()["requests"] == 0


def test_plain_http_is_refused_before_connecting(cli, tms, pfx):
    t = tms()
    f = pfx()
    url = t.url.replace("https://", "http://")
    result = cli(
        "upload",
        "--url",
        url,
        "--username",
        "TMSLAB\\admin",
        "--site",
        "acme",
        "--pfx",
        str(f.path),
        env={**t.env, **f.env},
    )
    assert result.code == ExitCode.TLS
    assert "plain http refused" in one_line(result) and "--allow-http" in one_line(result)
    assert t.counters()["requests"] == 0


def test_site_not_found(cli, tms, pfx):
    t = tms()
    result = upload(cli, t, pfx(), site="nope.webex.com")
    assert result.code == ExitCode.SITE_NOT_FOUND
    assert result.json["error"]["message"].startswith("no WebEx site matches --site 'nope.webex.com'; sites on")
    assert t.counters()["saves_applied"] == 0


def test_two_sites_match(cli, tms, pfx):
    sites = (SiteData("acme.webex.com", "meet", default_site=True), SiteData("globex.webex.com", "meet"))
    t = tms(sites=sites)
    f = pfx()
    result = upload(cli, t, f, site="meet")
    assert result.code == ExitCode.AMBIGUOUS
    message = result.json["error"]["message"]
    assert message == "2 WebEx sites match --site 'meet': acme.webex.com/meet, globex.webex.com/meet"
    assert upload(cli, t, f, site="https://globex.webex.com/meet").code == 0
    assert t.state()["sites"][0]["certificate"] is None
    assert t.state()["sites"][1]["certificate"]["thumbprint_sha1"] == f.thumbprint


def test_label_not_found(cli, tms, pfx):
    t = tms(page_profile="tms15-relabelled")
    result = upload(cli, t, pfx())
    assert result.code == ExitCode.PAGE_NOT_UNDERSTOOD
    err = result.json["error"]
    # Another UI language: the built-in labels name nothing on the site's form, and the error lists what is there.
    assert err["message"] == "no field on the form of site acme.webex.com/acme matches host_name (label 'Host Name')"
    assert "--page-profile" in err["hint"] and "'SSO-Zertifikat'" in err["hint"]


def test_preflight_refuses_an_unfit_file_before_logging_in(cli, tms, pfx):
    t = tms()
    result = upload(cli, t, pfx("aes"))
    assert result.code == ExitCode.CERT_UNFIT
    assert "not fit for TMS on Windows Server 2016" in result.json["error"]["message"]
    assert t.counters()["requests"] == 0


@pytest.mark.parametrize(
    ("kind", "extra", "words"),
    [
        ("aes", ["--target-os", "2019"], "The specified network password is not correct."),
        ("nokey", ["--no-preflight"], "The certificate does not have a private key."),
        ("mismatch", ["--no-preflight"], "The private key does not match the certificate."),
        ("expired", ["--no-preflight"], "The certificate has expired."),
        ("future", ["--no-preflight"], "The certificate is not yet valid."),
    ],
)
def test_each_certificate_rejection_by_tms(cli, tms, pfx, kind, extra, words):
    t = tms(server_os="2016")
    before = t.state()
    result = upload(cli, t, pfx(kind), *extra)
    assert result.code == ExitCode.REJECTED, result
    err = result.json["error"]
    assert err["message"] == f"TMS refused the Save of site acme.webex.com/acme: {words}"
    assert err["hint"]
    assert t.state()["sites"] == before["sites"]


def test_500_on_save(cli, tms, pfx):
    t = tms(faults={"save_500": True})
    before = t.state()
    result = upload(cli, t, pfx())
    assert result.code == ExitCode.SERVER_ERROR
    err = result.json["error"]
    assert err["message"].startswith("TMS answered HTTP 500 to the Save of site acme.webex.com/acme: Timeout")
    assert err["details"] == [
        "a re-read shows the site unchanged (certificate thumbprint 3B7E0C5A9D41F26B8C0E1A7D5F3392C4E6B18A07)"
    ]
    assert t.state()["sites"] == before["sites"]


def test_dropped_connection_after_an_applied_save_is_verified_by_a_reread(cli, tms, pfx):
    t = tms(faults={"drop_after_save": "applied"})
    f = pfx()
    result = upload(cli, t, f)
    assert result.code == 0, result
    out = result.json
    assert out["action"] == "uploaded" and out["verification"] == "certificate"
    assert any("connection broke" in w for w in out["warnings"])
    assert t.site("acme")["certificate"]["thumbprint_sha1"] == f.thumbprint


def test_dropped_connection_before_the_save_applied_says_so(cli, tms, pfx):
    t = tms(faults={"drop_after_save": "not-applied"})
    result = upload(cli, t, pfx())
    assert result.code == ExitCode.CONNECTION
    assert "did not store the new certificate" in result.json["error"]["message"]


@pytest.mark.parametrize("mode", ["applied", "not-applied"])
def test_dropped_connection_without_certificate_details_is_outcome_unknown(cli, tms, pfx, mode):
    t = tms(cert_details="none", faults={"drop_after_save": mode})
    result = upload(cli, t, pfx())
    assert result.code == ExitCode.OUTCOME_UNKNOWN
    assert "whether the Save was applied is unknown" in result.json["error"]["message"]


def test_dropped_connection_fields_only_is_decided_by_a_changed_field(cli, tms, pfx):
    t = tms(cert_details="none", faults={"drop_after_save": "applied"})
    result = upload(cli, t, pfx(), "--enable-sso", site="acmeeu")
    assert result.code == 0, result
    assert result.json["verification"] == "fields-only"
    assert any("use_sso" in w for w in result.json["warnings"])


def test_session_expired_between_get_and_post_is_sent_once_more_with_its_own_login(cli, tms, pfx):
    # The Save is the 4th authenticated request on the connection; the emulator expires the login after 3.
    t = tms(faults={"session_expiry_requests": 3})
    f = pfx()
    result = upload(cli, t, f)
    assert result.code == 0, result
    out = result.json
    assert out["retried_after_401"] is True
    assert any("answered a POST with 401" in w for w in out["warnings"])
    assert t.site("acme")["certificate"]["thumbprint_sha1"] == f.thumbprint
    assert t.counters()["saves_applied"] == 1
    # The refused Save carried the file too (IIS reads the body before it answers 401): twice, never more.
    assert [x["sha256"] for x in t.files_received()] == [f.sha256, f.sha256]


def test_a_server_that_logs_in_every_request_still_gets_the_pfx_once(cli, tms, pfx):
    # IIS authPersistSingleRequest: the Edit postback's 401 teaches the client to log in on each POST.
    t = tms(faults={"reauth_every_request": True})
    f = pfx()
    result = upload(cli, t, f)
    assert result.code == 0, result
    assert result.json["retried_after_401"] is True
    assert [x["sha256"] for x in t.files_received()] == [f.sha256]
    assert t.site("acme")["certificate"]["thumbprint_sha1"] == f.thumbprint


@pytest.mark.parametrize(
    ("new_layout", "code", "words"),
    [
        ("tms15-relabelled", ExitCode.PAGE_NOT_UNDERSTOOD, "matches host_name"),
        ("tms15-cells", ExitCode.SERVER_ERROR, "Failed to load viewstate"),
    ],
)
def test_page_layout_changing_while_the_client_walks_it(cli, tms, pfx, new_layout, code, words):
    # The emulator switches profiles right after the first GET of the WebEx page: the next page differs.
    t = tms(faults={"layout_change": new_layout})
    result = upload(cli, t, pfx())
    assert result.code == code, result
    assert words in result.json["error"]["message"]
    assert t.counters()["saves_applied"] == 0 and t.files_received() == []
