"""The certificate checks on Save, in their documented order, each with its own message, storing nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.helpers.emulator import (
    Browser,
    PfxEncryption,
    chain_valid_between,
    edit_target,
    good_pfx,
    pfx_3des_sha256_mac,
    pfx_key_only,
    pfx_with_foreign_key,
    pfx_without_key,
    value_for_label,
)
from tmsemulator.certmaker import new_key
from tmsemulator.pfxcheck import CHECKS, WRONG_PASSWORD, check_pfx

UTC = dt.timezone.utc
P = "ctl00$uxContent$ctl01$"
SAVE, CERT, PASSWORD = P + "saveButton", P + "ssoCertificate", P + "ssoCertificatePassword"
PW = "Check pw 1&2"
NOW = dt.datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def cases():
    valid = chain_valid_between(NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=365))
    expired = chain_valid_between(NOW - dt.timedelta(days=400), NOW - dt.timedelta(days=35))
    future = chain_valid_between(NOW + dt.timedelta(days=10), NOW + dt.timedelta(days=400))
    return {
        "good": good_pfx(valid, PW),
        "aes": good_pfx(valid, PW, encryption=PfxEncryption.MODERN),
        "sha256-mac": pfx_3des_sha256_mac(valid, PW),
        "no-key": pfx_without_key(valid, PW),
        "key-only": pfx_key_only(valid, PW),
        "foreign-key": pfx_with_foreign_key(valid, new_key("ec", 256), PW),
        "expired": good_pfx(expired, PW),
        "future": good_pfx(future, PW),
    }


def _upload(em, pfx_data, password, host="acme.webex.com", partner="typed.partner.example"):
    browser = Browser(em, em.admin)
    settings = browser.page(83)
    form_page = browser.submit(settings, event_target=edit_target(settings, host))
    return browser.submit(
        form_page,
        button=SAVE,
        files={CERT: ("upload.pfx", pfx_data)},
        fields={PASSWORD: password, P + "ssoPartnerName": partner, P + "bandwidth": "Low"},
    )


REFUSALS = [
    # (case, password, check that fires, message shown)
    ("good", "", "password-required", "A password is required to import the certificate."),
    ("garbage", PW, "pkcs12-format", "Cannot find the requested object."),
    ("aes", PW, "server-os", WRONG_PASSWORD),
    ("sha256-mac", PW, "server-os", WRONG_PASSWORD),
    ("good", PW + "x", "password", WRONG_PASSWORD),
    ("key-only", PW, "certificate-present", "The file does not contain a certificate."),
    ("no-key", PW, "private-key", "The certificate does not have a private key."),
    ("foreign-key", PW, "key-match", "The private key does not match the certificate."),
    ("future", PW, "not-yet-valid", "The certificate is not yet valid."),
    ("expired", PW, "expired", "The certificate has expired."),
]


@pytest.mark.parametrize(("case", "password", "check", "message"), REFUSALS, ids=[r[2] + "-" + r[0] for r in REFUSALS])
def test_each_check_refuses_with_its_message_and_stores_nothing(tms_emulator, cases, case, password, check, message):
    data = b"this is not a PKCS#12 file" if case == "garbage" else cases[case].data
    before = tms_emulator.state()["sites"]
    page = _upload(tms_emulator, data, password)
    assert page.status == 200
    assert page.error == message
    assert page.info == ""
    state = tms_emulator.state()
    assert state["sites"] == before  # nothing stored, not even the non-secret fields
    assert state["save_log"][-1]["outcome"] == "refused"
    assert state["save_log"][-1]["check"] == check
    # The form comes back with the user's non-secret inputs and empty secret ones.
    assert page.field_value(P + "ssoPartnerName") == "typed.partner.example"
    assert page.field_value(P + "bandwidth") == "Low"
    assert page.field_value(P + "hostName") == "acme.webex.com"
    assert not page.form.find("input", attrs={"type": "password"}).has_attr("value")
    assert not page.form.find("input", attrs={"type": "file"}).has_attr("value")
    if password:
        assert password not in page.html
    # The stored certificate is still the one shown.
    assert value_for_label(page.soup, "Certificate Thumbprint") == before[0]["certificate"]["thumbprint_sha1"]


def test_every_documented_check_is_exercised():
    assert {r[2] for r in REFUSALS} == {name for name, _ in CHECKS}


def test_aes_pfx_refused_on_2016_and_accepted_on_2019(emulator_factory, cases):
    aes = cases["aes"]
    for server_os, accepted in (("2012r2", False), ("2016", False), ("2019", True), ("2022", True)):
        em = emulator_factory(server_os=server_os)
        page = _upload(em, aes.data, aes.password)
        stored = em.state()["sites"][0]["certificate"]["thumbprint_sha1"]
        if accepted:
            assert page.error == "", server_os
            assert page.info == "Settings saved."
            assert stored == aes.thumbprint
        else:
            assert page.error == "The specified network password is not correct.", server_os
            assert stored != aes.thumbprint


def test_compatible_pfx_accepted_everywhere(emulator_factory, cases):
    good = cases["good"]
    for server_os in ("2012r2", "2016", "2019", "2022"):
        em = emulator_factory(server_os=server_os)
        assert _upload(em, good.data, good.password).info == "Settings saved."
        assert em.state()["sites"][0]["certificate"]["thumbprint_sha1"] == good.thumbprint


def test_sha256_mac_with_3des_passes_on_2019(emulator_factory, cases):
    em = emulator_factory(server_os="2019")
    case = cases["sha256-mac"]
    assert _upload(em, case.data, case.password).error == ""
    assert em.state()["sites"][0]["certificate"]["thumbprint_sha1"] == case.thumbprint


def test_a_refused_then_corrected_save_stores_once(tms_emulator, cases):
    good = cases["good"]
    assert _upload(tms_emulator, good.data, "wrong").error == WRONG_PASSWORD
    assert _upload(tms_emulator, good.data, good.password).info == "Settings saved."
    state = tms_emulator.state()
    assert [e["outcome"] for e in state["save_log"]] == ["refused", "stored"]
    assert state["counters"]["saves_applied"] == 1
    assert state["counters"]["saves_refused"] == 1
    assert state["sites"][0]["partner_name"] == "typed.partner.example"


# ----- the order, as a pure function --------------------------------------------------------------------


def test_order_password_first(cases):
    assert check_pfx(b"junk", "", "2016").check == "password-required"


def test_order_format_before_os_before_password(cases):
    assert check_pfx(b"junk", PW, "2016").check == "pkcs12-format"
    assert check_pfx(cases["aes"].data, "wrong", "2016").check == "server-os"
    assert check_pfx(cases["aes"].data, "wrong", "2019").check == "password"


def test_order_key_before_validity(cases):
    assert check_pfx(cases["no-key"].data, PW, "2016", now=NOW + dt.timedelta(days=5000)).check == "private-key"
    assert check_pfx(cases["good"].data, PW, "2016", now=NOW + dt.timedelta(days=5000)).check == "expired"


def test_accepted_file_is_described_like_windows(cases):
    verdict = check_pfx(cases["good"].data, PW, "2016")
    assert verdict.ok and verdict.message is None
    cert = verdict.certificate
    assert cert is not None and cert.thumbprint_sha1 == cases["good"].thumbprint
    # make_chain encodes CN before O; .NET (like RFC 4514) prints the last RDN first.
    assert cert.subject == "O=tmsclient test, CN=tms.acme.example"
    assert cert.issuer == "O=tmsclient test, CN=tmsclient Test Issuing CA"
    assert cert.not_after == cases["good"].chain.leaf.cert.not_valid_after_utc
