"""The verifier on hand-written pages: levels, got/expected lines, thumbprint and expiry formats."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.helpers.paths import PAGES
from tmsclient.errors import VerificationFailedError
from tmsclient.exitcodes import ExitCode
from tmsclient.tms.driver import SiteRow, read_site_form
from tmsclient.tms.pageprofile import DEFAULT_PROFILE, apply_overrides
from tmsclient.tms.verifier import CERTIFICATE, FIELDS_ONLY, Expectation, expiry_matches, verify_site
from tmsclient.tms.webforms import parse_page

BASE = "https://tms.example.com/tms/default.aspx?pageId=83"
P = "ctl00$uxContent$ctl01$"
UTC = dt.timezone.utc
TP = "3B7E0C5A9D41F26B8C0E1A7D5F3392C4E6B18A07"
EXPIRES = dt.datetime(2027, 11, 26, 12, 0, 0, tzinfo=UTC)


def view_of(name: str, host: str = "acme.webex.com", site: str = "acme", profile=DEFAULT_PROFILE):
    page = parse_page((PAGES / name).read_text(encoding="utf-8"), BASE)
    return read_site_form(page, SiteRow(host, site, None, None, None, None), profile)


def test_certificate_level_when_thumbprint_and_expiry_match():
    expected = Expectation(TP, EXPIRES, sso_on=True, fields={"partner_name": "tms.acme.example"})
    result = verify_site(view_of("tms15_site_form.html"), expected)
    assert result.ok and result.level == CERTIFICATE
    assert [c.what for c in result.checks] == [
        "page error",
        "Use Single Sign On",
        "SSO Partner Name",
        "certificate thumbprint",
        "certificate expiry",
    ]
    result.raise_for_mismatch("acme.webex.com/acme")  # no error


def test_a_different_certificate_is_a_mismatch_with_got_and_expected():
    other = "00" * 20
    result = verify_site(view_of("tms15_site_form.html"), Expectation(other, EXPIRES + dt.timedelta(days=30)))
    assert not result.ok and result.level == CERTIFICATE
    lines = [c.line() for c in result.mismatches]
    assert lines == [
        f"certificate thumbprint: got {TP}, expected {other}",
        "certificate expiry: got 2027-11-26 12:00:00Z, expected 2027-12-26 12:00:00Z",
    ]
    with pytest.raises(VerificationFailedError) as info:
        result.raise_for_mismatch("acme.webex.com/acme")
    err = info.value
    assert err.exit_code == ExitCode.VERIFY_FAILED
    assert err.message.startswith(
        "site acme.webex.com/acme does not show what was intended: certificate "
        f"thumbprint: got {TP}, expected {other} (and 1 more)"
    )
    assert err.details == tuple(lines)


def test_fields_only_when_the_page_shows_no_certificate_details():
    result = verify_site(view_of("tms15_site_form_installed.html"), Expectation(TP, EXPIRES))
    assert result.ok and result.level == FIELDS_ONLY
    assert "fields-only" in result.notes[0]


def test_no_certificate_installed_fails_even_fields_only():
    result = verify_site(
        view_of("tms15_site_form_no_cert.html", "acme-eu.webex.com", "acmeeu"), Expectation(TP, EXPIRES, sso_on=False)
    )
    assert not result.ok and result.level == FIELDS_ONLY
    assert [c.line() for c in result.mismatches] == ["certificate installed: got No, expected Yes"]


def test_sso_off_and_an_error_label_are_mismatches():
    off = verify_site(
        view_of("tms15_site_form_no_cert.html", "acme-eu.webex.com", "acmeeu"), Expectation(None, None, sso_on=True)
    )
    assert "Use Single Sign On: got No, expected Yes" in [c.line() for c in off.mismatches]
    error = verify_site(view_of("tms15_site_error.html"), Expectation(TP, EXPIRES))
    assert error.mismatches[0].line() == (
        "page error: got 'The specified network password is not correct.', expected none"
    )


def test_every_other_field_must_be_as_before():
    before = {P + "bandwidth": "Low", P + "tspAudio": "false", P + "gone": "x"}
    result = verify_site(view_of("tms15_site_form.html"), Expectation(TP, EXPIRES, unchanged=before))
    assert [c.line() for c in result.mismatches] == [
        "WebEx Participant Bandwidth: got 'High', expected 'Low' (as before)",
        f"{P}gone: got no such field, expected 'x'",
    ]


def test_thumbprint_in_lower_case_with_spaces_and_other_labels():
    profile = apply_overrides(
        DEFAULT_PROFILE,
        {
            "fields": {"host_name": "Host name", "site_name": "Site name", "use_sso": "Single Sign On enabled"},
            "certificate": {"thumbprint": "Thumbprint", "expires": "Valid until", "subject": "Subject"},
        },
        "labelfor",
    )
    view = view_of("label_for_site_form.html", "acme-eu.webex.com", "acmeeu", profile)
    result = verify_site(view, Expectation(TP, EXPIRES, sso_on=False))
    assert result.ok and result.level == CERTIFICATE
    assert result.certificate.thumbprint is not None and result.certificate.thumbprint.startswith("3b 7e")


def test_us_dates_without_a_zone_are_compared_with_slack():
    profile = apply_overrides(
        DEFAULT_PROFILE,
        {
            "fields": {"host_name": "Host Name:", "site_name": "Site Name:", "use_sso": "Use SSO:"},
            "certificate": {"thumbprint": "Thumbprint", "expires": "Expires"},
        },
        "cells",
    )
    result = verify_site(view_of("preceding_cell_site_form.html", profile=profile), Expectation(TP, EXPIRES))
    assert result.ok and result.level == CERTIFICATE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-11-26 12:00:00Z", True),
        ("2027-11-26T12:00:00Z", True),
        ("2027-11-26 12:00:01Z", False),
        ("2027-11-26 12:00:00 UTC", True),
        ("11/26/2027 12:00:00 PM", True),
        ("11/26/2027 6:00:00 AM", True),
        ("11/27/2027 12:00:00 PM", False),
        ("26/11/2027 12:00:00", True),
        ("26.11.2027 12:00:00", True),
        ("2027-11-26", True),
        ("2027-11-28", False),
        ("Friday, November 26, 2027 12:00:00 PM", True),
        ("2027-11-26T12:00:00+00:00", True),
        ("26 November 2027", True),
    ],
)
def test_expiry_formats(text, expected):
    assert expiry_matches(text, EXPIRES) is expected


@pytest.mark.parametrize("text", ["", "soon", "13/13/2027", "n/a"])
def test_unreadable_expiry_is_not_a_verdict(text):
    assert expiry_matches(text, EXPIRES) is None


def test_unreadable_expiry_is_noted_not_failed():
    page = (PAGES / "tms15_site_form.html").read_text().replace("2027-11-26 12:00:00Z", "in a while")
    view = read_site_form(
        parse_page(page, BASE), SiteRow("acme.webex.com", "acme", None, None, None, None), DEFAULT_PROFILE
    )
    result = verify_site(view, Expectation(TP, EXPIRES))
    assert result.ok and result.level == CERTIFICATE
    assert "not a date tmsclient reads" in result.notes[0]
