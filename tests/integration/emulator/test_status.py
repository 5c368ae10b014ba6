"""`tmsclient status` as a monitoring plugin: the Nagios line, exit 0/1/2/3, read-only on TMS, or a local file."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tmsclient.commands.status import judge, shown_expiry
from tmsclient.tms.verifier import parse_expiry
from tmsemulator import SiteData, StoredCertificate

UTC = dt.timezone.utc
PLUGIN_LINE = re.compile(r"^TMSCLIENT (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+( \| days_left=-?\d+;\d+;\d+)?$")


def sites(*days_left, installed=True):
    """acme (+ acmeeu, training...) sites whose certificates expire in the given days (half a day more, so
    the whole-day count is exact), and one site without a certificate."""
    now = dt.datetime.now(UTC).replace(microsecond=0)
    names = ["acme", "training", "lab"]
    out = []
    for name, days in zip(names, days_left, strict=False):
        cert = StoredCertificate(
            subject="CN=tms.acme.example",
            issuer="CN=ACME CA",
            serial="01",
            not_before=now - dt.timedelta(days=300),
            not_after=now + dt.timedelta(days=days, hours=12),
            thumbprint_sha1=f"{days % 256:02X}" * 20,
        )
        out.append(
            SiteData(
                f"{name}.webex.com",
                name,
                use_sso=True,
                default_site=name == "acme",
                certificate=cert if installed else None,
            )
        )
    out.append(SiteData("acme-eu.webex.com", "acmeeu"))
    return tuple(out)


def status(cli, t, *extra, site="acme"):
    argv = [a for a in t.argv() if a not in ("--site", "acme")]
    if site:
        argv += ["--site", site]
    return cli("status", *argv, *extra, env={"TMSCLIENT_TMS_PASSWORD": t.password})


@pytest.mark.parametrize(
    "days, code, state", [(45, 0, "OK"), (20, 1, "WARNING"), (9, 2, "CRITICAL"), (-3, 2, "CRITICAL")]
)
def test_one_site_thresholds_and_the_plugin_line(cli, target, days, code, state):
    t = target(sites=sites(days))
    result = status(cli, t)
    assert result.code == code, result
    first = result.out.splitlines()[0]
    assert PLUGIN_LINE.match(first), first
    assert first.startswith(f"TMSCLIENT {state} - site acme.webex.com/acme: certificate ")
    assert first.endswith(f" ({days} days) | days_left={days};30;14")
    assert ("expired" in first) == (days < 0)


def test_status_is_read_only(cli, target):
    t = target(sites=sites(45))
    before = t.state()["sites"]
    assert status(cli, t).code == 0
    counters = t.counters()
    assert counters["saves_applied"] == 0
    assert all(body["content_type"] != "multipart/form-data" for body in counters["post_bodies"])
    assert t.state()["sites"] == before


def test_custom_thresholds(cli, target):
    t = target(sites=sites(20))
    assert status(cli, t, "--warn-days", "10", "--crit-days", "5").code == 0
    result = status(cli, t, "--warn-days", "60", "--crit-days", "25")
    assert result.code == 2
    assert result.out.splitlines()[0].endswith("| days_left=20;60;25")


def test_every_site_the_worst_one_decides(cli, target):
    t = target(sites=sites(200, 20, 90))
    result = status(cli, t, site=None)
    assert result.code == 1, result
    lines = result.out.splitlines()
    assert lines[0].startswith("TMSCLIENT WARNING - site training.webex.com/training: certificate expires")
    assert "3 certificates checked | days_left=20;30;14" in lines[0]
    assert "OK: site acme.webex.com/acme expires" in result.out
    assert "INFO: site acme-eu.webex.com/acmeeu: no certificate installed" in result.out


def test_a_chosen_site_without_a_certificate_is_critical(cli, target):
    t = target(sites=sites(45))
    result = status(cli, t, site="acmeeu")
    assert result.code == 2
    assert result.out.startswith("TMSCLIENT CRITICAL - site acme-eu.webex.com/acmeeu: no certificate installed")


def test_a_page_without_the_expiry_is_unknown(cli, target):
    t = target(sites=sites(45), cert_details="none")
    result = status(cli, t)
    assert result.code == 3
    assert result.out.startswith(
        "TMSCLIENT UNKNOWN - site acme.webex.com/acme: TMS does not show the certificate's expiry"
    )


def test_us_date_format_of_another_layout(cli, target, tmp_path):
    t = target(sites=sites(45), page_profile="tms15-cells")
    profile = tmp_path / "cells.toml"
    profile.write_text(
        '[fields]\nbandwidth = "Participant Bandwidth"\nuse_sso = "Use SSO"\n'
        'sso_certificate = "Certificate"\n[certificate]\nsubject = "Subject"\nexpires = "Expires"\n'
        'thumbprint = "Thumbprint"\ninstalled = "Installed"\n'
    )
    result = status(cli, t, "--page-profile", str(profile), "--json")
    assert result.code == 0, result
    cert = result.json["certificates"][0]
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d?:\d\d:\d\d [AP]M", cert["shown"])
    assert cert["days_left"] == 45 and result.json["state"] == "OK"


def test_a_failed_login_is_unknown_never_a_tmsclient_exit_code(cli, target, canaries):
    t = target(sites=sites(45))
    argv = [a for a in t.argv()]
    result = cli("status", *argv, env={"TMSCLIENT_TMS_PASSWORD": canaries.secret("wrong")})
    assert result.code == 3
    assert result.out.startswith("TMSCLIENT UNKNOWN - TMS refused the login")


def test_bad_thresholds_are_unknown(cli, target):
    t = target(sites=sites(45))
    result = status(cli, t, "--warn-days", "5", "--crit-days", "10")
    assert result.code == 3
    assert result.out.startswith("TMSCLIENT UNKNOWN - --crit-days 10 is above --warn-days 5")
    assert t.counters()["requests"] == 0


def test_json_report(cli, target):
    t = target(sites=sites(20))
    result = status(cli, t, "--json")
    assert result.code == 1
    out = result.json
    assert (out["state"], out["exit_code"], out["days_left"], out["warn_days"], out["crit_days"]) == (
        "WARNING",
        1,
        20,
        30,
        14,
    )
    assert out["message"].startswith("TMSCLIENT WARNING - ")
    assert out["certificates"][0]["thumbprint"] == "14" * 20


# ------------------------------------------------------------------------------------------ a local file


def test_local_pfx_never_contacts_tms(cli, renewed, tmp_path, canaries):
    password = canaries.secret("pfx-password")
    pfx = tmp_path / "tms.pfx"
    pfx.write_bytes(renewed(days=20).pfx(password))
    result = cli(
        "status",
        "--pfx",
        str(pfx),
        "--url",
        "https://tms.invalid/tms/",
        "--non-interactive",
        env={"TMSCLIENT_PFX_PASSWORD": password},
    )
    assert result.code == 1, result
    assert re.match(
        rf"^TMSCLIENT WARNING - file {re.escape(str(pfx))}: certificate expires .* \(19 days\) "
        r"\| days_left=19;30;14$",
        result.out.splitlines()[0],
    )


def test_local_certificate_expired_is_critical(cli, renewed, tmp_path):
    cer = tmp_path / "tms.cer"
    cer.write_bytes(renewed(days=30, expired=True).cert_pem())
    result = cli("status", "--cert", str(cer))
    assert result.code == 2
    assert "certificate expired" in result.out.splitlines()[0]


def test_local_pfx_wrong_password_is_unknown(cli, renewed, tmp_path, canaries):
    pfx = tmp_path / "tms.pfx"
    pfx.write_bytes(renewed().pfx(canaries.secret("pfx-password")))
    result = cli("status", "--pfx", str(pfx), env={"TMSCLIENT_PFX_PASSWORD": canaries.secret("wrong")})
    assert result.code == 3
    assert result.out.startswith("TMSCLIENT UNKNOWN - ")


def test_expiry_readings_pick_the_earliest_of_ambiguous_dates():
    def expiry(text: str) -> dt.datetime | None:
        return shown_expiry(parse_expiry(text))

    assert expiry("2027-11-26 12:00:00Z") == dt.datetime(2027, 11, 26, 12, tzinfo=UTC)
    # 03/04/2027 is March 4 (US) or April 3 (Europe): a monitor warns on the earlier one.
    when = expiry("03/04/2027 12:00:00 PM")
    assert when is not None and when.date() == dt.date(2027, 3, 4)
    assert expiry("soon") is None
    assert [judge(d, 30, 14) for d in (None, -1, 13, 14, 29, 30)] == [3, 2, 2, 1, 1, 0]


def test_a_bad_command_line_is_unknown_not_critical(cli):
    """Monitoring systems read 2 as CRITICAL: a usage error of `status` must be 3 (UNKNOWN)."""
    result = cli("status", "--no-such-option")
    assert result.code == 3, result
    assert "unrecognized arguments: --no-such-option" in result.err
    other = cli("check", "--no-such-option")
    assert other.code == 2, other
