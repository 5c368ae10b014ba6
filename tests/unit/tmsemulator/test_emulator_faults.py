"""Fault injection: each knob does what it says, from the config, in-process at run time, and over HTTP."""

from __future__ import annotations

import hashlib

import pytest
import requests

from tests.helpers.emulator import Browser, edit_target, value_for_label
from tmsemulator import Faults
from tmsemulator.errors import ConfigError

P = "ctl00$uxContent$ctl01$"
SAVE, CERT, PASSWORD = P + "saveButton", P + "ssoCertificate", P + "ssoCertificatePassword"


def _site_form(browser, host="acme-eu.webex.com"):
    settings = browser.page(83)
    return browser.submit(settings, event_target=edit_target(settings, host))


def _save(browser, page, pfx, **kwargs):
    return browser.submit(
        page, button=SAVE, files={CERT: ("tms.pfx", pfx.data)}, fields={PASSWORD: pfx.password}, **kwargs
    )


def _cert(em, site_id=2):
    return next(s for s in em.state()["sites"] if s["id"] == site_id)["certificate"]


def _statuses(em):
    return [e["status"] for e in em.state()["request_log"]]


def test_save_500_from_the_config(emulator_factory, pfx):
    em = emulator_factory(faults=Faults(save_500=True))
    browser = Browser(em, em.admin)
    page = _site_form(browser)  # other requests are unaffected
    assert page.status == 200
    answer = _save(browser, page, pfx)
    assert answer.status == 500
    assert "Timeout expired." in answer.soup.find("title").get_text()
    assert _cert(em) is None
    assert em.state()["save_log"][-1]["outcome"] == "fault-500"


def test_save_500_switched_on_and_off_at_run_time(tms_emulator, admin_browser, pfx):
    page = _site_form(admin_browser)
    tms_emulator.set_faults(save_500=True)
    assert _save(admin_browser, page, pfx).status == 500
    tms_emulator.set_faults(save_500=False)
    assert _save(admin_browser, _site_form(admin_browser), pfx).info == "Settings saved."
    assert _cert(tms_emulator)["thumbprint_sha1"] == pfx.thumbprint


@pytest.mark.parametrize("mode", ["applied", "not-applied"])
def test_connection_dropped_after_the_body_is_read(tms_emulator, admin_browser, pfx, mode):
    page = _site_form(admin_browser)
    tms_emulator.set_faults(drop_after_save=mode)
    with pytest.raises(requests.exceptions.ConnectionError):
        _save(admin_browser, page, pfx)
    state = tms_emulator.state()
    assert state["counters"]["dropped_connections"] == 1
    assert state["request_log"][-1]["status"] == "dropped"
    # The whole body arrived before the drop.
    pfx_hash = hashlib.sha256(pfx.data).hexdigest()
    assert [f["sha256"] for f in state["counters"]["post_bodies"][-1]["files"]] == [pfx_hash]
    if mode == "applied":
        assert _cert(tms_emulator)["thumbprint_sha1"] == pfx.thumbprint
        assert state["save_log"][-1]["outcome"] == "stored"
    else:
        assert _cert(tms_emulator) is None
        assert state["save_log"][-1]["outcome"] == "dropped-not-applied"
    # A re-read on a new connection (after a new login) shows what happened.
    tms_emulator.set_faults(drop_after_save="off")
    reread = _site_form(admin_browser)
    expected = pfx.thumbprint if mode == "applied" else None
    shown = value_for_label(reread.soup, "Certificate Thumbprint") if expected else None
    assert shown == expected


def test_slow_responses(tms_emulator, admin_browser):
    admin_browser.get()
    tms_emulator.set_faults(delay_ms=5000)
    with pytest.raises(requests.exceptions.ReadTimeout):
        admin_browser.get(timeout=0.2)
    fresh = Browser(tms_emulator, tms_emulator.admin)
    tms_emulator.set_faults(delay_ms=20)
    assert fresh.page(83).status == 200  # late, but complete and correct
    assert tms_emulator.state()["faults"]["delay_ms"] == 20


def test_the_delay_holds_back_every_answer_the_login_401_too_but_not_the_test_api(tms_emulator):
    # bench/run.py's latency row relies on this: a real TMS is slow on each NTLM leg, not only on pages.
    tms_emulator.set_faults(delay_ms=5000)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(tms_emulator.url, verify=tms_emulator.ca_file, timeout=0.3)  # anonymous: its answer is a 401
    api = requests.get(tms_emulator.base_url + "/__emulator/state", verify=tms_emulator.ca_file, timeout=2)
    assert api.status_code == 200 and api.json()["faults"]["delay_ms"] == 5000


def test_session_expiry_after_n_requests(emulator_factory):
    em = emulator_factory(faults={"session_expiry_requests": 2})
    browser = Browser(em, em.admin)
    for _ in range(3):
        assert browser.get().status == 200
    assert _statuses(em) == [401, 401, 200, 200, 401, 401, 200]
    assert {e["connection"] for e in em.state()["request_log"]} == {1}  # the same connection re-authenticated
    assert em.state()["counters"]["logins"] == 2


def test_expire_sessions_now(tms_emulator, admin_browser):
    admin_browser.get()
    admin_browser.get()
    tms_emulator.expire_sessions()
    assert admin_browser.get().status == 200  # requests-ntlm answers the fresh 401 by logging in again
    assert _statuses(tms_emulator) == [401, 401, 200, 200, 401, 401, 200]
    response = requests.post(tms_emulator.base_url + "/__emulator/expire-sessions", verify=tms_emulator.ca_file)
    assert response.status_code == 200
    admin_browser.get()
    assert tms_emulator.state()["counters"]["logins"] == 3


def test_session_expiry_after_seconds(emulator_factory):
    em = emulator_factory(faults={"session_expiry_seconds": 60})
    now = [1000.0]
    em.clock = lambda: now[0]
    browser = Browser(em, em.admin)
    browser.get()
    now[0] += 59
    browser.get()
    assert em.state()["counters"]["logins"] == 1
    now[0] += 2
    browser.get()
    assert em.state()["counters"]["logins"] == 2
    assert _statuses(em) == [401, 401, 200, 200, 401, 401, 200]


def test_reauthentication_on_every_request(emulator_factory, pfx):
    em = emulator_factory(faults={"reauth_every_request": True})
    browser = Browser(em, em.admin)
    page = _site_form(browser)  # GET + Edit postback: 3 requests each
    assert _statuses(em) == [401, 401, 200] * 2
    saved = _save(browser, page, pfx)
    assert saved.info == "Settings saved."
    bodies = em.state()["counters"]["post_bodies"]
    pfx_hash = hashlib.sha256(pfx.data).hexdigest()
    carrying = [b for b in bodies if any(f["sha256"] == pfx_hash for f in b["files"])]
    assert len(carrying) == 3  # the upload went out three times: no auth, NTLM negotiate, NTLM authenticate
    assert [b["authorization"] for b in carrying] == [None, "NTLM", "NTLM"]
    assert em.state()["counters"]["saves_applied"] == 1


def test_layout_change_to_other_control_ids_fails_the_postback(emulator_factory):
    em = emulator_factory(faults={"layout_change": "tms15-cells"})
    browser = Browser(em, em.admin)
    settings = browser.page(83)  # rendered with tms15
    assert em.state()["active_profile"] == "tms15-cells"
    assert em.state()["faults"]["layout_change"] == ""  # one-shot
    before = em.state()["sites"]
    answer = browser.submit(settings, event_target=edit_target(settings, "acme.webex.com"))
    assert answer.status == 500
    assert "Failed to load viewstate." in answer.find("title").get_text()
    assert em.state()["sites"] == before
    assert browser.page(120).find("div", class_="SectionHeader").get_text() == "WebEx Configuration"


def test_layout_change_to_other_labels_answers_with_the_new_labels(emulator_factory, pfx):
    em = emulator_factory(faults={"layout_change": "tms15-relabelled"})
    browser = Browser(em, em.admin)
    settings = browser.page(83)
    form_page = browser.submit(settings, event_target=edit_target(settings, "acme-eu.webex.com"))
    assert form_page.status == 200
    labels = [td.get_text() for td in form_page.soup.find_all("td", class_="PropertyName")]
    assert "SSO-Zertifikat" in labels and "SSO Certificate" not in labels
    assert _save(browser, form_page, pfx).info == "Settings saved."
    assert _cert(em)["thumbprint_sha1"] == pfx.thumbprint


def test_faults_over_http(tms_emulator):
    api = tms_emulator.base_url + "/__emulator/faults"
    ok = requests.post(api, json={"save_500": True, "delay_ms": 0}, verify=tms_emulator.ca_file)
    assert ok.status_code == 200 and ok.json()["save_500"] is True
    assert tms_emulator.state()["faults"]["save_500"] is True
    unknown = requests.post(api, json={"explode": True}, verify=tms_emulator.ca_file)
    assert unknown.status_code == 400 and "explode" in unknown.json()["error"]
    bad = requests.post(api, json={"drop_after_save": "sometimes"}, verify=tms_emulator.ca_file)
    assert bad.status_code == 400
    wrong_type = requests.post(api, json={"delay_ms": "lots"}, verify=tms_emulator.ca_file)
    assert wrong_type.status_code == 400 and "delay_ms" in wrong_type.json()["error"]
    assert tms_emulator.state()["faults"]["drop_after_save"] == "off"


def test_fault_values_are_checked():
    with pytest.raises(ConfigError, match="drop_after_save"):
        Faults(drop_after_save="sometimes")
    with pytest.raises(ConfigError, match="negative"):
        Faults(delay_ms=-1)
    with pytest.raises(ConfigError, match="delay_ms: got str, expected int"):
        Faults(delay_ms="5")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="save_500: got int, expected bool"):
        Faults(save_500=1)  # type: ignore[arg-type]
    assert Faults(session_expiry_seconds=2).session_expiry_seconds == 2


def test_unknown_layout_change_profile_is_refused(tms_emulator):
    with pytest.raises(ConfigError, match="unknown page profile"):
        tms_emulator.set_faults(layout_change="tms99")


def test_reset_restores_the_configured_faults_and_data(emulator_factory, pfx):
    em = emulator_factory(faults={"delay_ms": 1})
    browser = Browser(em, em.admin)
    _save(browser, _site_form(browser), pfx)
    em.set_faults(save_500=True, delay_ms=0)
    em.reset()
    state = em.state()
    assert state["faults"]["save_500"] is False and state["faults"]["delay_ms"] == 1
    assert _cert(em) is None
    assert state["counters"]["requests"] == 0 and state["save_log"] == []
