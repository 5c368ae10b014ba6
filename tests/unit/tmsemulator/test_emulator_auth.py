"""Windows authentication in the emulator: NTLM/Negotiate bound to the connection, Basic, administrators."""

from __future__ import annotations

import base64
import logging
import stat

import pytest
import requests
import spnego
from requests.auth import HTTPBasicAuth
from requests_ntlm import HttpNtlmAuth

from tests.helpers.emulator import Browser, login_name
from tmsemulator import EmulatorConfig, start
from tmsemulator import auth as emulator_auth


def _log(em):
    return em.state()["request_log"]


@pytest.mark.parametrize("style", ["backslash", "upn", "bare"])
def test_right_password_gets_200_in_every_login_form(tms_emulator, style):
    browser = Browser(tms_emulator, tms_emulator.admin, style=style)
    page = browser.get()
    assert page.status == 200
    assert page.find(id="ctl00_uxUserName").get_text() == "TMSLAB\\admin"
    assert tms_emulator.state()["counters"]["logins"] == 1


def test_login_is_case_insensitive_like_windows(tms_emulator):
    domain, name, password = tms_emulator.admin
    browser = Browser(tms_emulator, (domain.lower(), name.upper(), password))
    assert browser.get().status == 200


def test_wrong_password_and_unknown_user_get_401(tms_emulator):
    domain, name, password = tms_emulator.admin
    assert Browser(tms_emulator, (domain, name, password + "x")).get().status == 401
    assert Browser(tms_emulator, (domain, "nobody", password)).get().status == 401
    assert Browser(tms_emulator, ("OTHERDOM", name, password)).get().status == 401
    counters = tms_emulator.state()["counters"]
    assert counters["failed_logins"] == 3
    assert counters["logins"] == 0


def test_401_offers_negotiate_and_ntlm_and_keeps_the_connection(tms_emulator):
    response = requests.get(tms_emulator.url, verify=tms_emulator.ca_file)
    assert response.status_code == 401
    assert response.raw.headers.getlist("WWW-Authenticate") == ["Negotiate", "NTLM"]
    assert response.headers.get("Connection", "").lower() != "close"
    assert int(response.headers["Content-Length"]) == len(response.content)


def test_one_connection_costs_three_requests_for_ntlm_then_one_per_request(tms_emulator):
    browser = Browser(tms_emulator, tms_emulator.admin)
    for _ in range(3):
        assert browser.get().status == 200
    log = _log(tms_emulator)
    assert [(e["status"], e["leg"]) for e in log] == [
        (401, "none"),
        (401, "negotiate"),
        (200, "authenticate"),
        (200, "none"),
        (200, "none"),
    ]
    assert {e["connection"] for e in log} == {1}
    counters = tms_emulator.state()["counters"]
    assert counters["connections"] == 1
    assert counters["requests"] == 5
    assert counters["unauthorized"] == 2


def test_a_new_connection_must_authenticate_again(tms_emulator):
    browser = Browser(tms_emulator, tms_emulator.admin)
    browser.get()
    browser.session.close()  # drops the pooled connection
    browser.get()
    log = _log(tms_emulator)
    assert [e["status"] for e in log] == [401, 401, 200, 401, 401, 200]
    assert log[0]["connection"] != log[3]["connection"]


def test_negotiate_spnego_handshake_is_answered_in_negotiate(tms_emulator):
    domain, name, password = tms_emulator.admin
    client = spnego.client(f"{domain}\\{name}", password, hostname="127.0.0.1", service="http", protocol="negotiate")
    session = requests.Session()
    url, ca = tms_emulator.url, tms_emulator.ca_file

    def send(token):
        return session.get(url, verify=ca, headers={"Authorization": f"Negotiate {base64.b64encode(token).decode()}"})

    first = send(client.step())
    assert first.status_code == 401
    scheme, _, challenge = first.headers["WWW-Authenticate"].partition(" ")
    assert scheme == "Negotiate"
    second = send(client.step(base64.b64decode(challenge)))
    assert second.status_code == 200
    assert session.get(url, verify=ca).status_code == 200  # the connection stays authenticated
    assert [e["auth"] for e in _log(tms_emulator)] == ["negotiate", "negotiate", None]


def test_raw_ntlm_tokens_under_the_negotiate_scheme_are_accepted(tms_emulator):
    # What requests-ntlm sends to a server that offers only Negotiate.
    domain, name, password = tms_emulator.admin
    client = spnego.client(f"{domain}\\{name}", password, protocol="ntlm")
    session = requests.Session()

    def send(token):
        header = {"Authorization": "Negotiate " + base64.b64encode(token).decode()}
        return session.get(tms_emulator.url, verify=tms_emulator.ca_file, headers=header)

    r = send(client.step())
    assert r.status_code == 401
    assert send(client.step(base64.b64decode(r.headers["WWW-Authenticate"].split(" ", 1)[1]))).status_code == 200


def test_garbage_token_is_a_fresh_401_not_a_crash(tms_emulator):
    r = requests.get(tms_emulator.url, verify=tms_emulator.ca_file, headers={"Authorization": "NTLM bm90IG50bG0="})
    assert r.status_code == 401
    assert r.raw.headers.getlist("WWW-Authenticate") == ["Negotiate", "NTLM"]
    assert tms_emulator.state()["counters"]["failed_logins"] == 1


def test_basic_when_chosen(emulator_factory):
    em = emulator_factory(auth="basic")
    admin = em.admin
    ok = requests.get(em.url, auth=HTTPBasicAuth(login_name(admin), admin[2]), verify=em.ca_file)
    assert ok.status_code == 200
    upn = requests.get(em.url, auth=HTTPBasicAuth(login_name(admin, "upn"), admin[2]), verify=em.ca_file)
    assert upn.status_code == 200
    wrong = requests.get(em.url, auth=HTTPBasicAuth(login_name(admin), "nope"), verify=em.ca_file)
    assert wrong.status_code == 401
    assert wrong.raw.headers.getlist("WWW-Authenticate") == ['Basic realm="127.0.0.1"']
    # NTLM is not offered, so requests-ntlm gives up with the 401.
    ntlm = requests.get(em.url, auth=HttpNtlmAuth(login_name(admin), admin[2]), verify=em.ca_file)
    assert ntlm.status_code == 401


def test_basic_authenticates_each_request_not_the_connection(emulator_factory):
    em = emulator_factory(auth="basic")
    session = requests.Session()
    session.auth = HTTPBasicAuth(login_name(em.admin), em.admin[2])
    assert session.get(em.url, verify=em.ca_file).status_code == 200
    session.auth = None
    assert session.get(em.url, verify=em.ca_file).status_code == 401


def test_plain_http_only_when_asked(emulator_factory):
    em = emulator_factory(tls=False)
    assert em.url.startswith("http://")
    assert em.ca_file is None
    browser = Browser(em, em.admin)
    assert browser.get().status == 200
    https = emulator_factory()
    assert https.url.startswith("https://")
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(https.url, verify=True)  # the emulator's own CA is not in the system store


def test_non_administrator_is_denied_configuration_pages(tms_emulator, admin_browser):
    browser = Browser(tms_emulator, tms_emulator.user)
    start_page = browser.get()
    assert start_page.status == 200
    assert start_page.find("h2").get_text() != "Access Denied"
    for page_id in (83, 116):
        denied = browser.page(page_id)
        assert denied.status == 200
        assert denied.find("h2").get_text() == "Access Denied"
        assert "You do not have permission to view this page." in denied.html
        assert not denied.soup.find(id="ctl00_uxContent_ctl01_siteGrid")
    assert browser.page(35).find("h2").get_text() == "New Conference"


def test_non_administrator_cannot_save(tms_emulator, admin_browser):
    before = tms_emulator.state()["global"]
    page = admin_browser.page(83)
    other = Browser(tms_emulator, tms_emulator.user)
    other.get()
    # The administrator's page, posted with the operator's connection.
    answer = other.submit(
        page, button="ctl00$uxContent$ctl01$saveGlobalButton", fields={"ctl00$uxContent$ctl01$enableWebEx": "false"}
    )
    assert answer.find("h2").get_text() == "Access Denied"
    assert tms_emulator.state()["global"] == before


def test_admins_match_user_or_domain_user(emulator_factory):
    users = [("TMSLAB", "alice", "pw-alice-1"), ("TMSLAB", "bob", "pw-bob-1"), ("OTHER", "bob", "pw-bob-2")]
    em = emulator_factory(users=users, admins=("alice", "OTHER\\bob"))
    admins = {u["login"]: u["admin"] for u in em.state()["emulator"]["users"]}
    assert admins == {"TMSLAB\\alice": True, "TMSLAB\\bob": False, "OTHER\\bob": True}
    assert Browser(em, users[2]).page(83).find("h2").get_text() == "WebEx Configuration"
    assert Browser(em, users[1]).page(83).find("h2").get_text() == "Access Denied"


def test_session_cookie_is_issued_once(tms_emulator):
    browser = Browser(tms_emulator, tms_emulator.admin)
    first = browser.session.get(tms_emulator.url, verify=tms_emulator.ca_file)
    assert "ASP.NET_SessionId=" in first.headers["Set-Cookie"]
    assert "HttpOnly" in first.headers["Set-Cookie"]
    second = browser.session.get(tms_emulator.url, verify=tms_emulator.ca_file)
    assert "Set-Cookie" not in second.headers
    assert tms_emulator.state()["sessions"] == 1


def test_extended_protection_requires_channel_binding(emulator_factory):
    em = emulator_factory(extended_protection=True)
    assert Browser(em, em.admin).get().status == 200  # requests-ntlm sends the binding over HTTPS
    assert Browser(em, em.admin, send_cbt=False).get().status == 401
    relaxed = emulator_factory()
    assert Browser(relaxed, relaxed.admin, send_cbt=False).get().status == 200


def test_nothing_secret_is_logged(tms_emulator, caplog):
    caplog.set_level(logging.DEBUG, logger="tmsemulator")
    domain, name, password = tms_emulator.admin
    Browser(tms_emulator, (domain, name, password + "-wrong")).get()
    Browser(tms_emulator, tms_emulator.admin).get()
    Browser(tms_emulator, (domain, name, password), basic=True).get()  # Basic sent to an NTLM server
    assert "GET /tms/" in caplog.text  # the access log ran
    assert "handshake refused" in caplog.text
    assert password not in caplog.text
    assert base64.b64encode(f"{domain}\\{name}:{password}".encode()).decode() not in caplog.text


def test_generated_administrator_password_goes_to_a_private_file(tmp_path):
    with start(EmulatorConfig(state_dir=str(tmp_path / "state"))) as em:
        assert em.admin_password_file is not None
        assert stat.S_IMODE(em.admin_password_file.stat().st_mode) == 0o600
        password = em.admin_password_file.read_text().strip()
        assert em.admin == ("TMSLAB", "admin", password)
        assert len(password) >= 20
        assert Browser(em, em.admin).page(83).find("h2").get_text() == "WebEx Configuration"
        # The NTLM user store holds hashes, never the password itself.
        store = (tmp_path / "state" / "ntlm-users").read_text()
        assert password not in store
        assert stat.S_IMODE((tmp_path / "state" / "ntlm-users").stat().st_mode) == 0o600
    assert (tmp_path / "state" / "emulator-ca.pem").exists()  # a given state dir is kept


def test_passwords_may_hold_colons_spaces_and_non_ascii(emulator_factory):
    user = ("TMSLAB", "admin", "p:ss wörd:&#1")
    em = emulator_factory(users=[user])
    assert Browser(em, user).get().status == 200
    assert Browser(em, user, basic=False, style="upn").get().status == 200


def test_ntlm_login_works_when_pyspnego_hash_helpers_are_missing(emulator_factory, monkeypatch):
    """The user store falls back to pyspnego's plain DOMAIN:USER:PASSWORD form if its private helpers move."""
    monkeypatch.setattr(emulator_auth, "_NT_HASHES", False)  # as when their import raised ImportError
    emu = emulator_factory()
    domain, name, password = emu.admin
    assert f"{domain}:{name}:{password}\n" in (emu.state_dir / "ntlm-users").read_text()  # not smbpasswd hashes
    for login in (f"{domain}\\{name}", name):
        with requests.Session() as s:
            r = s.get(emu.url, auth=HttpNtlmAuth(login, password), verify=emu.ca_file, timeout=10)
            assert r.status_code == 200, login
        with requests.Session() as s:
            r = s.get(emu.url, auth=HttpNtlmAuth(login, password + "x"), verify=emu.ca_file, timeout=10)
            assert r.status_code == 401, login
