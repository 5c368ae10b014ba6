"""TmsSession against the emulator: HTTPS with real NTLM (pyspnego acceptor) or Basic, and its counters."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag

from tests.helpers.html import attr
from tmsclient.credentials import Secret
from tmsclient.errors import AuthenticationError, ConnectionFailedError, TLSError
from tmsclient.exitcodes import ExitCode
from tmsclient.settings import TargetSettings
from tmsclient.tms.session import HttpResult, PostInterruptedError, SessionExpiredError, TmsSession
from tmsemulator import RunningEmulator
from tmsemulator.certmaker import issue

DOMAIN, USER, PASSWORD = "TMSLAB", "alice", "Alice-Pw-0815"
WEBEX_PAGE = "default.aspx?pageId=83"
GLOBAL_SAVE = "ctl00$uxContent$ctl01$saveGlobalButton"


@pytest.fixture
def emu(emulator_factory: Callable[..., RunningEmulator]) -> Callable[..., RunningEmulator]:
    """An emulator whose one user is alice (a Site Administrator): the factory's fixture, known password."""
    return lambda **overrides: emulator_factory(users=[(DOMAIN, USER, PASSWORD)], **overrides)


def target(
    em: RunningEmulator, *, user: str = f"{DOMAIN}\\{USER}", password: str = PASSWORD, auth: str = "ntlm", **kw: Any
) -> TargetSettings:
    assert em.ca_file
    values: dict[str, Any] = {"ca_bundle": Path(em.ca_file), "timeout": 10.0, "upload_timeout": 10.0, **kw}
    return TargetSettings(url=em.url, username=user, password=Secret(password, "test"), auth=auth, **values)


def counters(em: RunningEmulator) -> dict[str, Any]:
    found: dict[str, Any] = em.state()["counters"]
    return found


def form_fields(page: HttpResult, *, button: str | None = None, event_target: str = "") -> list[tuple[str, str]]:
    """A browser's submission of the page's form (enough for these pages): inputs, checked radios, selects."""
    soup = BeautifulSoup(page.text, "html.parser")
    fields: list[tuple[str, str]] = []
    form = soup.find("form")
    assert isinstance(form, Tag), "the page has no form"
    for el in form.find_all(["input", "select"]):
        name, kind = attr(el, "name"), attr(el, "type", "text")
        if not name or el.has_attr("disabled"):
            continue
        if el.name == "select":
            chosen = el.find("option", selected=True) or el.find("option")
            fields.append((name, attr(chosen, "value", chosen.text) if chosen else ""))
        elif name == "__EVENTTARGET":
            fields.append((name, event_target))
        elif kind in ("hidden", "text", "password"):
            fields.append((name, attr(el, "value")))
        elif kind in ("radio", "checkbox") and el.has_attr("checked"):
            fields.append((name, attr(el, "value", "on")))
        elif kind == "submit" and name == button:
            fields.append((name, attr(el, "value")))
    return fields


def global_save_fields(page: HttpResult) -> list[tuple[str, str]]:
    """The WebEx Configuration part's Save."""
    return form_fields(page, button=GLOBAL_SAVE)


# ------------------------------------------------------------------------------------------ login


@pytest.mark.parametrize("login", [f"{DOMAIN}\\{USER}", f"{USER}@{DOMAIN}", USER])
def test_ntlm_login_with_each_user_name_form(emu, login):
    em = emu()
    with TmsSession(target(em, user=login)) as s:
        page = s.get("", what="the start page")
    assert page.status == 200
    assert f"{DOMAIN}\\{USER}" in page.text  # the page header names the logged-in account
    c = counters(em)
    assert (c["requests"], c["unauthorized"], c["logins"], c["connections"]) == (3, 2, 1, 1)
    assert (s.stats.requests, s.stats.responses_401) == (3, 2)
    assert s.auth_scheme == "ntlm"


def test_the_default_emulators_accounts_log_in_with_spaces_and_symbols_in_their_passwords(tms_emulator):
    for domain, name, password in (tms_emulator.admin, tms_emulator.user):
        with TmsSession(target(tms_emulator, user=f"{domain}\\{name}", password=password)) as s:
            page = s.get(WEBEX_PAGE, what="the WebEx Settings page")
        assert page.status == 200 and f"{domain}\\{name}" in page.text
    assert counters(tms_emulator)["logins"] == 2 and counters(tms_emulator)["failed_logins"] == 0


def test_wrong_password_is_an_authentication_error_naming_the_user(emu, canaries):
    em = emu()
    wrong = canaries.secret("tms-password")
    with TmsSession(target(em, password=wrong)) as s, pytest.raises(AuthenticationError) as info:
        s.get("", what="the start page")
    err = info.value
    assert err.exit_code == ExitCode.AUTH
    assert f"'{DOMAIN}\\{USER}'" in err.message and "with ntlm" in err.message
    assert "password" in (err.hint or "")
    canaries.assert_clean(err.diagnostics(), "the error")
    c = counters(em)
    assert c["failed_logins"] == 1 and c["logins"] == 0
    assert c["requests"] == 3 and s.stats.retries == 0  # one handshake, never retried


def test_unknown_user_is_an_authentication_error(emu):
    em = emu()
    with TmsSession(target(em, user="TMSLAB\\mallory")) as s, pytest.raises(AuthenticationError, match="mallory"):
        s.get("", what="the start page")


def test_auto_picks_ntlm_from_the_servers_headers(emu):
    em = emu()
    with TmsSession(target(em, auth="auto")) as s:
        before = s.auth_scheme
        s.get("", what="the start page")
        assert before is None and s.auth_scheme == "ntlm"
        s.get(WEBEX_PAGE, what="the WebEx Settings page")
    c = counters(em)
    assert (c["requests"], c["logins"], c["connections"]) == (4, 1, 1)  # no extra request for choosing


def test_channel_binding_satisfies_extended_protection(emu):
    em = emu(extended_protection=True)
    with TmsSession(target(em)) as s:
        assert s.get("", what="the start page").status == 200
    assert counters(em)["logins"] == 1


def test_basic_when_the_emulator_runs_basic(emu):
    em = emu(auth="basic")
    with TmsSession(target(em, auth="basic")) as s:
        s.get("", what="the start page")
        s.get(WEBEX_PAGE, what="the WebEx Settings page")
    assert counters(em)["requests"] == 2 and counters(em)["unauthorized"] == 0
    em.reset()
    with TmsSession(target(em, auth="auto")) as s:
        s.get("", what="the start page")
        assert s.auth_scheme == "basic"
    assert counters(em)["requests"] == 2 and counters(em)["unauthorized"] == 1


def test_ntlm_against_a_basic_only_server_says_what_it_offers(emu):
    em = emu(auth="basic")
    with TmsSession(target(em)) as s, pytest.raises(AuthenticationError) as info:
        s.get("", what="the start page")
    assert "does not offer NTLM login" in info.value.message and "Basic" in info.value.message


def test_verify_holds_on_every_handshake_leg_whatever_requests_ca_bundle_says(emu, tmp_path, monkeypatch):
    em = emu()
    other = tmp_path / "other-ca.pem"
    other.write_bytes(issue("Unrelated CA", ca=True).cert_pem())
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
    with TmsSession(target(em)) as s:
        assert s.get("", what="the start page").status == 200  # all 3 legs verified against the emulator CA
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(em.ca_file))
    with TmsSession(target(em, ca_bundle=None)) as s, pytest.raises(TLSError):
        s.get("", what="the start page")


# ------------------------------------------------------------------------------------------ GET, then POST


@pytest.mark.parametrize("auth", ["ntlm", "auto"])
def test_get_then_post_costs_three_plus_one_requests_and_the_body_once(emu, auth):
    em = emu()
    with TmsSession(target(em, auth=auth)) as s:
        page = s.get(WEBEX_PAGE, what="the WebEx Settings page")
        fields = global_save_fields(page)
        saved = s.post(WEBEX_PAGE, fields, multipart=False, what="the Save")
    assert saved.status == 200
    c = counters(em)
    assert c["requests"] == 4 and c["unauthorized"] == 2 and c["connections"] == 1
    bodies = c["post_bodies"]
    assert len(bodies) == 1
    assert bodies[0]["bytes"] == s.stats.bytes_sent
    assert (s.stats.requests, s.stats.responses_401) == (4, 2)


def test_session_expired_between_get_and_post_is_not_replayed_and_a_deliberate_repost_works(emu):
    em = emu()
    with TmsSession(target(em)) as s:
        fields = global_save_fields(s.get(WEBEX_PAGE, what="the WebEx Settings page"))
        em.expire_sessions()
        with pytest.raises(SessionExpiredError) as info:
            s.post(WEBEX_PAGE, fields, multipart=False, what="the Save")
        assert info.value.exit_code == ExitCode.AUTH and "nothing was applied" in info.value.message
        assert len(counters(em)["post_bodies"]) == 1  # the refused body, sent once, not replayed
        # The driver's deliberate second try: read the form again (logs in again), post once more.
        fields = global_save_fields(s.get(WEBEX_PAGE, what="the WebEx Settings page"))
        assert s.post(WEBEX_PAGE, fields, multipart=False, what="the Save").status == 200
    c = counters(em)
    assert len(c["post_bodies"]) == 2 and c["logins"] == 2


@pytest.mark.parametrize("extended_protection", [False, True])
def test_a_server_that_authenticates_every_request_needs_the_post_handshake_body_once(emu, extended_protection):
    em = emu(faults={"reauth_every_request": True}, extended_protection=extended_protection)
    with TmsSession(target(em)) as s:
        fields = global_save_fields(s.get(WEBEX_PAGE, what="the WebEx Settings page"))
        with pytest.raises(SessionExpiredError) as info:
            s.post(WEBEX_PAGE, fields, multipart=False, what="the Save")
        assert "handshake=True" in (info.value.hint or "")
        fields = global_save_fields(s.get(WEBEX_PAGE, what="the WebEx Settings page"))
        before = s.stats
        saved = s.post(WEBEX_PAGE, fields, multipart=False, what="the Save", handshake=True)
        assert saved.status == 200
        assert s.stats.requests - before.requests == 2  # empty POST + NEGOTIATE, then the body + AUTHENTICATE
    bodies = counters(em)["post_bodies"]
    full = [b for b in bodies if b["bytes"] > 0]
    assert len(full) == 2  # the refused first try, then the handshake POST: the body once in it
    assert [b["bytes"] for b in bodies[-2:]] == [0, full[-1]["bytes"]]


def test_a_connection_dropped_after_the_save_says_the_body_may_have_arrived(emu):
    em = emu(faults={"drop_after_save": "applied"})
    with TmsSession(target(em)) as s:
        settings = s.get(WEBEX_PAGE, what="the WebEx Settings page")
        edit = form_fields(settings, event_target="ctl00$uxContent$ctl01$siteGrid$ctl02$editLink")
        site_form = s.post(WEBEX_PAGE, edit, multipart=True, what="the site's Edit link")
        assert "WebEx Site Configuration" in site_form.text
        save = form_fields(site_form, button="ctl00$uxContent$ctl01$saveButton")
        with pytest.raises(PostInterruptedError) as info:
            s.post(WEBEX_PAGE, save, multipart=True, what="the Save")
    err = info.value
    assert isinstance(err, ConnectionFailedError) and err.exit_code == ExitCode.CONNECTION
    assert err.body_may_have_arrived is True
    assert "may or may not have applied it" in err.message
    assert s.stats.retries == 0
    c = counters(em)
    assert len(c["post_bodies"]) == 2 and c["dropped_connections"] == 1  # the Save went once, never again
