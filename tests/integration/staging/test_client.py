"""tmsclient's own commands (show, upload, verify, discover) run in-process against the staging stand-in:
real NTLM (gss-ntlmssp) over real TLS, real ASP.NET WebForms (Mono's System.Web) and Mono's X509Certificate2
judging the uploaded .pfx. Each result is checked on what the stand-in itself stored (its data file), refused
(its import-failures file) and was sent (Apache's access log), not only on what tmsclient says.

The stack is shared by the session, so every test makes its own certificates (its own thumbprints) and
compares the stand-in's state before and after itself. Facts found here are written up in docs/staging.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import CliResult
from tests.helpers.staging import ADMIN, OPERATOR, Access, PfxFile, StagingStack, StagingTarget
from tmsclient.exitcodes import ExitCode

pytestmark = pytest.mark.staging

MENU = ["Administrative Tools", "Configuration", "WebEx Settings"]
EXAMPLE = "example.webex.com"  # seeded: site name "tms", the default site, Use Single Sign On: Yes
TRAINING = "training.webex.com"  # seeded: site name "training", Use Single Sign On: No


def site_data(stack: StagingStack, host: str) -> dict[str, Any]:
    return next(s for s in stack.read_data()["Sites"] if s["HostName"] == host)


def other_sites(data: dict[str, Any], host: str) -> list[dict[str, Any]]:
    return [s for s in data["Sites"] if s["HostName"] != host]


def upload(
    cli: Any,
    t: StagingTarget,
    f: PfxFile,
    *extra: str,
    site: str = EXAMPLE,
    user: str = ADMIN,
    env: dict[str, str] | None = None,
) -> Any:
    return cli(
        "upload",
        *t.argv(user),
        "--site",
        site,
        "--pfx",
        str(f.path),
        "--json",
        *extra,
        env={**t.env(user), **f.env, **(env or {})},
    )


def one_line_error(result: CliResult) -> str:
    lines = result.err.strip().splitlines()
    assert lines and lines[0].startswith("tmsclient: error: "), result
    return lines[0]


def posts(accesses: list[Access]) -> list[Access]:
    return [a for a in accesses if a.method == "POST"]


def posts_carrying(accesses: list[Access], size: int) -> list[Access]:
    """The POSTs that carried a file of ``size`` bytes: those at least that much bigger than the run's smallest
    POST (an Edit postback: the same form, view state and all, without the file)."""
    sent = posts(accesses)
    smallest = min((a.received for a in sent), default=0)
    return [a for a in sent if a.received - smallest >= size]


# ----------------------------------------------------------------------------------------------------
# success: upload, verify, show
# ----------------------------------------------------------------------------------------------------


def test_upload_stores_the_certificate_verify_and_show_confirm_it(
    cli: Any, staging_target: StagingTarget, staging_pfx: Any, canaries: Any
) -> None:
    stack = staging_target.stack
    f = staging_pfx()
    before = stack.read_data()
    mark = stack.access_mark()
    result = upload(cli, staging_target, f, "--enable-sso", "--partner-name", "tms.staging.example", site=TRAINING)
    assert result.code == 0, result
    out = result.json
    assert out["action"] == "uploaded" and out["verification"] == "certificate"
    assert out["site"] == {"host_name": TRAINING, "site_name": "training"}
    assert out["thumbprint_sha1"] == f.thumbprint and out["subject"] == f.subject
    assert out["tms_message"] == "Settings saved."
    assert {c["what"]: c["ok"] for c in out["checks"]}["certificate thumbprint"] is True
    assert out["warnings"] == []

    # What Mono's X509Certificate2 made of the upload, as the stand-in stored it.
    site = site_data(stack, TRAINING)
    old = next(s for s in before["Sites"] if s["HostName"] == TRAINING)
    cert = site["Certificate"]
    assert (cert["Thumbprint"], cert["Subject"], cert["NotAfter"]) == (f.thumbprint, f.subject, f.not_after)
    assert (cert["PfxSha256"], cert["PfxBytes"], cert["HasPrivateKey"]) == (f.sha256, f.size, True)
    assert cert["UploadedBy"] == "TMS\\admin"
    assert site["UseSso"] is True and site["SsoPartnerName"] == "tms.staging.example"
    assert site["CertificateUploads"] == old["CertificateUploads"] + 1 and site["Saves"] == old["Saves"] + 1
    unchanged = (
        "HostName",
        "SiteName",
        "Bandwidth",
        "DefaultSite",
        "UseGlobal",
        "TspAudio",
        "SsoAccountName",
        "SsoAuthnContext",
    )
    assert {k: site[k] for k in unchanged} == {k: old[k] for k in unchanged}
    after = stack.read_data()
    assert other_sites(after, TRAINING) == other_sites(before, TRAINING)
    assert (after["EnableWebEx"], after["AddWebExToAll"]) == (before["EnableWebEx"], before["AddWebExToAll"])

    # Apache's view: one connection (NTLM authenticates it once), the .pfx sent once, the client's count right.
    accesses = stack.accesses_since(mark)
    assert len(accesses) == out["requests"] == 8
    assert [a.keepalive for a in accesses] == list(range(8))
    assert [a.status for a in accesses] == [401, 401] + [200] * 6
    assert {a.user for a in accesses[2:]} == {"TMS\\admin"}
    # Edit postback, Save, Edit postback of the re-read; only the Save carried the file.
    assert len(posts(accesses)) == 3 and posts_carrying(accesses, f.size) == [posts(accesses)[1]]
    assert f.size < out["bytes_sent"] <= sum(a.received for a in posts(accesses))

    verified = cli(
        "verify",
        *staging_target.argv(),
        "--site",
        TRAINING,
        "--pfx",
        str(f.path),
        "--partner-name",
        "tms.staging.example",
        "--require-certificate",
        "--json",
        env={**staging_target.env(), **f.env},
    )
    assert verified.code == 0, verified
    assert verified.json["verification"] == "certificate" and verified.json["ok"] is True
    by_cert = cli(
        "verify", *staging_target.argv(), "--site", "training", "--cert", str(f.cert_path), env=staging_target.env()
    )
    assert by_cert.code == 0, by_cert
    assert f"site {TRAINING}/training verified (certificate)" in by_cert.out

    shown = cli("show", *staging_target.argv(), "--json", env=staging_target.env())
    assert shown.code == 0, shown
    report = shown.json
    assert report["menu_path"] == MENU
    assert report["settings_page"] == stack.webex_url
    data = stack.read_data()
    assert [(s["host_name"], s["site_name"]) for s in report["sites"]] == [
        (s["HostName"], s["SiteName"]) for s in data["Sites"]
    ]
    for s in report["sites"]:
        stored = next(x for x in data["Sites"] if x["HostName"] == s["host_name"])["Certificate"]
        if stored is None:
            assert s["certificate"]["installed"] == "No"
        else:
            assert s["certificate"] == {
                "subject": stored["Subject"],
                "expires": stored["NotAfter"],
                "thumbprint": stored["Thumbprint"],
                "serial": None,  # the stand-in shows no serial number
                "installed": None,
            }
            assert s["verification_possible"] == "certificate"
    training = next(s for s in report["sites"] if s["host_name"] == TRAINING)
    assert training["certificate"]["thumbprint"] == f.thumbprint
    fields = {x["key"]: x for x in training["fields"]}
    assert fields["use_sso"]["value"] == "Yes" and fields["partner_name"]["value"] == "tms.staging.example"
    assert fields["certificate_password"]["value"] is None and fields["certificate_password"]["secret"]
    assert stack.read_data() == data  # show and verify only read

    # Neither password reached the stand-in's logs or files (the canaries watch tmsclient's own output).
    for path in (stack.access_log, stack.error_log, stack.data_file):
        canaries.assert_clean(path.read_bytes(), f"the stand-in's {path.name}")


def test_verify_against_another_certificate_says_got_and_expected(
    cli: Any, staging_target: StagingTarget, staging_pfx: Any
) -> None:
    stored, other = staging_pfx(name="stored.pfx"), staging_pfx(name="other.pfx")
    assert upload(cli, staging_target, stored).code == 0
    result = cli(
        "verify",
        *staging_target.argv(),
        "--site",
        EXAMPLE,
        "--pfx",
        str(other.path),
        "--json",
        env={**staging_target.env(), **other.env},
    )
    assert result.code == ExitCode.VERIFY_FAILED, result
    details = result.json["error"]["details"]
    assert f"certificate thumbprint: got {stored.thumbprint}, expected {other.thumbprint}" in details
    assert site_data(staging_target.stack, EXAMPLE)["Certificate"]["Thumbprint"] == stored.thumbprint


def test_show_with_page_url_skips_the_menu(cli: Any, staging_target: StagingTarget) -> None:
    stack = staging_target.stack
    mark = stack.access_mark()
    result = cli(
        "show",
        *staging_target.argv(),
        "--site",
        "tms",
        "--page-url",
        f"default.aspx?pageId={stack.webex_page_id}",
        env=staging_target.env(),
    )
    assert result.code == 0, result
    assert f"site {EXAMPLE}/tms (default site)" in result.out and TRAINING not in result.out
    targets = [a.target for a in stack.accesses_since(mark)]
    assert "/tms/" not in targets and targets[0] == f"/tms/default.aspx?pageId={stack.webex_page_id}"


# ----------------------------------------------------------------------------------------------------
# idempotence and dry run
# ----------------------------------------------------------------------------------------------------


def test_a_second_upload_is_unchanged_and_posts_no_save(
    cli: Any, staging_target: StagingTarget, staging_pfx: Any
) -> None:
    stack = staging_target.stack
    f = staging_pfx()
    assert upload(cli, staging_target, f).code == 0
    counters = {k: site_data(stack, EXAMPLE)[k] for k in ("Saves", "CertificateUploads")}
    stored = stack.data_file.read_bytes()
    mark = stack.access_mark()
    again = upload(cli, staging_target, f)
    assert again.code == 0, again
    assert again.json["action"] == "unchanged" and again.json["verification"] == "certificate"
    assert again.json["changes"] == []
    assert stack.data_file.read_bytes() == stored
    accesses = stack.accesses_since(mark)
    # The start page, the settings page and the Edit postback, nothing else: no Save, the .pfx never sent.
    assert [a.method for a in accesses if a.status == 200] == ["GET", "GET", "POST"]
    assert len(accesses) == again.json["requests"]
    assert again.json["bytes_sent"] <= posts(accesses)[0].received  # one postback's body, no file

    forced = upload(cli, staging_target, f, "--reupload")
    assert forced.code == 0 and forced.json["action"] == "uploaded"
    assert {k: site_data(stack, EXAMPLE)[k] for k in counters} == {k: n + 1 for k, n in counters.items()}


def test_dry_run_stores_nothing_and_prints_the_plan(cli: Any, staging_target: StagingTarget, staging_pfx: Any) -> None:
    stack = staging_target.stack
    f = staging_pfx()
    stored = stack.data_file.read_bytes()
    failures = len(stack.read_import_failures())
    mark = stack.access_mark()
    result = upload(cli, staging_target, f, "--dry-run", "--partner-name", "never.example")
    assert result.code == 0, result
    out = result.json
    assert out["action"] == "dry-run" and out["verification"] is None
    changes = {c["field"]: c for c in out["changes"]}
    assert changes["sso_certificate"]["after"] == f"<file tms-cert.pfx, {f.size} bytes>"
    assert changes["certificate_password"]["after"] == "<hidden>"
    assert changes["partner_name"]["after"] == "'never.example'"
    assert stack.data_file.read_bytes() == stored
    assert len(stack.read_import_failures()) == failures
    assert len(posts(stack.accesses_since(mark))) == 1  # the Edit postback only: no Save


# ----------------------------------------------------------------------------------------------------
# logins: wrong TMS password, account names, not a Site Administrator
# ----------------------------------------------------------------------------------------------------


def test_wrong_tms_password_is_exit_10_and_changes_nothing(
    cli: Any, staging_target: StagingTarget, staging_pfx: Any, canaries: Any
) -> None:
    stack = staging_target.stack
    f = staging_pfx()
    wrong = canaries.secret("tms-password")
    stored = stack.data_file.read_bytes()
    mark = stack.access_mark()
    result = upload(cli, staging_target, f, env={"TMSCLIENT_TMS_PASSWORD": wrong})
    assert result.code == ExitCode.AUTH, result
    err = result.json["error"]
    assert err["message"].startswith("TMS refused the login of 'TMS\\admin' with ntlm (HTTP 401")
    assert "check the user name" in err["hint"]
    accesses = stack.accesses_since(mark)
    assert accesses and {a.status for a in accesses} == {401} and {a.user for a in accesses} == {"-"}
    assert stack.data_file.read_bytes() == stored


@pytest.mark.parametrize(
    ("login", "code"),
    [
        ("TMS\\admin", ExitCode.OK),
        ("admin", ExitCode.OK),  # no domain: gss-ntlmssp accepts an empty domain
        ("TMS\\ADMIN", ExitCode.OK),  # the user name matches in any case...
        ("tms\\admin", ExitCode.AUTH),  # ...the domain does not (Windows would accept it)
        ("admin@TMS", ExitCode.AUTH),  # no UPNs (a domain controller would accept it)
    ],
)
def test_account_name_forms_as_gss_ntlmssp_accepts_them(
    cli: Any, staging_target: StagingTarget, login: str, code: ExitCode
) -> None:
    result = cli("show", *staging_target.argv(login=login), "--site", "training", "--json", env=staging_target.env())
    assert result.code == code, result
    if code == ExitCode.OK:
        assert [s["host_name"] for s in result.json["sites"]] == [TRAINING]
    else:
        assert "TMS refused the login" in result.json["error"]["message"]


@pytest.mark.parametrize("command", ["upload", "show", "verify", "discover"])
def test_a_user_who_is_not_a_site_administrator_gets_exit_11(
    cli: Any, staging_target: StagingTarget, staging_pfx: Any, tmp_path: Path, command: str
) -> None:
    stack = staging_target.stack
    f = staging_pfx()
    extra = {
        "upload": ["--site", EXAMPLE, "--pfx", str(f.path)],
        "show": [],
        "verify": ["--site", EXAMPLE, "--pfx", str(f.path)],
        "discover": ["--out", str(tmp_path / "profile.toml")],
    }[command]
    stored = stack.data_file.read_bytes()
    mark = stack.access_mark()
    result = cli(
        command, *staging_target.argv(OPERATOR), *extra, "--json", env={**staging_target.env(OPERATOR), **f.env}
    )
    assert result.code == ExitCode.NOT_ADMIN, result
    err = result.json["error"]
    assert err["message"].startswith("TMS shows 'Access Denied' at ")
    assert "not a TMS Site Administrator" in err["message"]
    assert stack.data_file.read_bytes() == stored
    assert not (tmp_path / "profile.toml").exists()
    # The login worked (the stand-in knew the user), the configuration page said no.
    assert "TMS\\operator" in {a.user for a in stack.accesses_since(mark)}


# ----------------------------------------------------------------------------------------------------
# the .pfx password and the file's encryption: what tmsclient checks, what the stand-in answers
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("preflight", [[], ["--no-preflight"]])
def test_wrong_pfx_password_is_caught_locally_and_nothing_is_sent(
    cli: Any, staging_target: StagingTarget, staging_pfx: Any, canaries: Any, preflight: list[str]
) -> None:
    """tmsclient opens the .pfx with the password before it logs in, even with --no-preflight (which skips
    the algorithm rules only), so a wrong password never reaches TMS."""
    stack = staging_target.stack
    f = staging_pfx()
    mark = stack.access_mark()
    result = upload(cli, staging_target, f, *preflight, env={"TMSCLIENT_PFX_PASSWORD": canaries.secret("pfx-password")})
    assert result.code == ExitCode.BAD_PASSWORD, result
    assert result.json["error"]["message"].startswith(f"wrong password for {f.path}: ")
    assert stack.accesses_since(mark) == []


def test_a_password_that_mono_derives_differently_gets_the_wrong_password_answer(
    cli: Any, staging_target: StagingTarget, staging_pfx: Any
) -> None:
    """The stand-in's own answer to a wrong .pfx password, through tmsclient. tmsclient never sends a
    password that does not open the file, so this needs a password that opens it locally but not at the
    importer: a non-ASCII one. OpenSSL 3 (and Windows) turn the password's characters into the BMPString the
    key is derived from; Mono's BTLS import zero-extends the UTF-8 bytes instead (as OpenSSL 1.0 did), so it
    derives another key and answers exactly as to a wrong password. The form itself carries UTF-8 correctly
    (the partner name below arrives intact when a Save succeeds: see the next test)."""
    stack = staging_target.stack
    f = staging_pfx(password="Zürich-Kennwort-2027")
    check = cli("check", str(f.path), "--target-os", "2016", env=f.env)
    assert check.code == 0, check  # locally the password opens the file, and the file fits Windows 2016
    stored = stack.data_file.read_bytes()
    failures = len(stack.read_import_failures())
    result = upload(cli, staging_target, f)
    assert result.code == ExitCode.REJECTED, result
    err = result.json["error"]
    assert err["message"] == f"TMS refused the Save of site {EXAMPLE}/tms: Unable to decode certificate."
    assert stack.data_file.read_bytes() == stored
    refused = stack.read_import_failures()[failures:]
    assert [(r["file_sha256"], r["exception_type"], r["message"], r["inner_message"]) for r in refused] == [
        (
            f.sha256,
            "System.Security.Cryptography.CryptographicException",
            "Unable to decode certificate.",
            "`MonoBtlsPkcs12.Import` failed.",
        )
    ]
    assert f.password not in json.dumps(refused)


def test_passwords_with_spaces_and_form_characters_arrive_intact(
    cli: Any, staging_target: StagingTarget, staging_pfx: Any
) -> None:
    """ASCII punctuation that form encodings treat specially (space, & # % + = " ' ;) goes through the
    multipart body byte for byte: X509Certificate2 opens the file with it. Non-ASCII text in a text field is
    stored intact too (UTF-8 end to end)."""
    stack = staging_target.stack
    f = staging_pfx(password="a b&c#d%20e+f=g\"h'i;j")
    result = upload(cli, staging_target, f, "--partner-name", "Zürich € tms", site=TRAINING)
    assert result.code == 0, result
    site = site_data(stack, TRAINING)
    assert site["Certificate"]["Thumbprint"] == f.thumbprint
    assert site["SsoPartnerName"] == "Zürich € tms"


def test_aes_pfx_is_refused_by_the_preflight_for_windows_2016_before_any_request(
    cli: Any, staging_target: StagingTarget, staging_pfx: Any
) -> None:
    stack = staging_target.stack
    f = staging_pfx("aes")
    mark = stack.access_mark()
    result = upload(cli, staging_target, f)
    assert result.code == ExitCode.CERT_UNFIT, result
    assert "not fit for TMS on Windows Server 2016" in result.json["error"]["message"]
    assert stack.accesses_since(mark) == []


@pytest.mark.parametrize("how", [["--target-os", "2019"], ["--no-preflight"]])
def test_aes_pfx_sent_anyway_is_refused_by_monos_x509certificate2(
    cli: Any, staging_target: StagingTarget, staging_pfx: Any, how: list[str]
) -> None:
    """Fact: Mono's X509Certificate2 refuses OpenSSL 3's default AES-256/SHA-256-MAC file with the very words
    it uses for a wrong password, as Windows Server 2016 does with its own words. (Windows Server 2019 would
    import it: for --target-os 2019 the stand-in is stricter than the TMS host it stands for.)"""
    stack = staging_target.stack
    f = staging_pfx("aes")
    stored = stack.data_file.read_bytes()
    failures = len(stack.read_import_failures())
    result = upload(cli, staging_target, f, *how)
    assert result.code == ExitCode.REJECTED, result
    err = result.json["error"]
    assert err["message"] == f"TMS refused the Save of site {EXAMPLE}/tms: Unable to decode certificate."
    if how == ["--no-preflight"]:
        assert "fails the preflight (PFX_UNSUPPORTED_ON_TARGET" in result.err
    assert stack.data_file.read_bytes() == stored
    refused = stack.read_import_failures()[failures:]
    assert [(r["file_sha256"], r["exception_type"], r["message"]) for r in refused] == [
        (f.sha256, "System.Security.Cryptography.CryptographicException", "Unable to decode certificate.")
    ]


def test_3des_with_a_sha256_mac_is_refused_for_2016_but_mono_imports_it(
    cli: Any, staging_target: StagingTarget, staging_pfx: Any
) -> None:
    """tmsclient's preflight follows Windows Server 2016 (SHA-1 MAC only); Mono imports the file, so with
    --target-os 2019 it goes through on the stand-in."""
    stack = staging_target.stack
    f = staging_pfx("3des-sha256mac")
    refused = upload(cli, staging_target, f)
    assert refused.code == ExitCode.CERT_UNFIT, refused
    assert "MAC digest sha256" in refused.json["error"]["message"]
    result = upload(cli, staging_target, f, "--target-os", "2019")
    assert result.code == 0, result
    assert site_data(stack, EXAMPLE)["Certificate"]["Thumbprint"] == f.thumbprint


def test_a_password_that_asp_net_request_validation_refuses_is_named_before_the_save(
    cli: Any, staging_target: StagingTarget, staging_pfx: Any
) -> None:
    stack = staging_target.stack
    f = staging_pfx(password="Tms<cert>2027")
    stored = stack.data_file.read_bytes()
    result = upload(cli, staging_target, f)
    assert stack.data_file.read_bytes() == stored
    assert result.code == ExitCode.BAD_PASSWORD, result
    assert "request validation" in result.json["error"]["message"].casefold()


# ----------------------------------------------------------------------------------------------------
# discover
# ----------------------------------------------------------------------------------------------------


def test_discover_follows_the_menu_and_writes_a_profile_that_uploads(
    cli: Any, staging_target: StagingTarget, staging_pfx: Any, tmp_path: Path
) -> None:
    stack = staging_target.stack
    stored = stack.data_file.read_bytes()
    out = tmp_path / "staging.toml"
    found = cli("discover", *staging_target.argv(), "--out", str(out), "--json", env=staging_target.env())
    assert found.code == 0, found
    report = found.json
    assert report["menu_path"] == MENU and report["settings_page"] == stack.webex_url
    assert report["problems"] == []
    assert report["site_opened"] == f"{EXAMPLE}/tms"
    data = stack.read_data()
    assert [(s["host_name"], s["site_name"]) for s in report["sites"]] == [
        (s["HostName"], s["SiteName"]) for s in data["Sites"]
    ]
    assert report["sites"][0]["opens_with"] == "postback ctl00$uxContent$ctl01$siteGrid$ctl02$editLink"
    fields = {f["name"]: f for form in report["site_forms"] for f in form["fields"]}
    prefix = "ctl00$uxContent$ctl01$"
    assert fields[prefix + "ssoCertificatePassword"]["type"] == "password"
    assert fields[prefix + "ssoCertificatePassword"]["value"] is None
    assert fields[prefix + "ssoCertificate"]["type"] == "file"
    assert fields[prefix + "bandwidth"]["options"] == ["Low", "Medium", "High"]
    # Every field is found by the built-in labels: nothing guessed, nothing missing.
    assert all(
        note.startswith("found") for key, note in report["profile_notes"].items() if not key.startswith("certificate.")
    )
    text = out.read_text(encoding="utf-8")
    assert "# GUESSED" not in text and "# NOT FOUND" not in text
    assert 'menu_path = ["Administrative Tools", "Configuration", "WebEx Settings"]' in text
    assert stack.data_file.read_bytes() == stored  # discover only reads

    f = staging_pfx()
    result = upload(cli, staging_target, f, "--page-profile", str(out))
    assert result.code == 0, result
    assert result.json["page_profile"].startswith("my-tms (")
    assert result.json["verification"] == "certificate"
    assert site_data(stack, EXAMPLE)["Certificate"]["Thumbprint"] == f.thumbprint


def test_discover_finds_another_page_id_and_a_page_without_certificate_details(
    cli: Any, staging_starter: Any, staging_pfx: Any, canaries: Any, tmp_path: Path
) -> None:
    """A second stand-in whose WebEx Settings page has another pageId and shows only "Certificate Installed":
    the menu still leads there, and without a thumbprint on the page tmsclient verifies fields only and
    cannot tell that a second upload is the same certificate."""
    with staging_starter("--webex-page-id", "4242", "--cert-details", "off") as stack:
        admin = stack.users["admin"]
        canaries.register(admin.password, "tms-password")
        t = StagingTarget(stack)
        out = tmp_path / "p.toml"
        found = cli("discover", *t.argv(), "--out", str(out), "--json", env=t.env())
        assert found.code == 0, found
        assert found.json["menu_path"] == MENU
        assert found.json["settings_page"].endswith("/tms/default.aspx?pageId=4242")
        assert {"label": "Certificate Installed", "value": "No"} in found.json["certificate_rows"]

        f = staging_pfx()
        first = upload(cli, t, f, "--page-profile", str(out))
        assert first.code == 0, first
        assert first.json["action"] == "uploaded" and first.json["verification"] == "fields-only"
        assert any("fields-only" in n for n in first.json["notes"])
        assert site_data(stack, EXAMPLE)["Certificate"]["Thumbprint"] == f.thumbprint
        again = upload(cli, t, f)
        assert again.code == 0 and again.json["action"] == "uploaded"
        assert site_data(stack, EXAMPLE)["CertificateUploads"] == 2
        strict = cli(
            "verify", *t.argv(), "--site", EXAMPLE, "--cert", str(f.cert_path), "--require-certificate", env=t.env()
        )
        assert strict.code == ExitCode.VERIFY_FAILED
        assert "got fields-only, expected certificate" in strict.err
