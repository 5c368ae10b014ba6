"""The default page profile (docs/tms-page-model.md) and ASP.NET WebForms behaviour: view state, event
validation, postbacks, Save, error pages."""

from __future__ import annotations

import hashlib
import re

import pytest
import requests

from tests.helpers.emulator import Browser, control_for_label, edit_target, value_for_label

P = "ctl00$uxContent$ctl01$"
SAVE, CANCEL = P + "saveButton", P + "cancelButton"
CERT, PASSWORD = P + "ssoCertificate", P + "ssoCertificatePassword"


def open_site(browser, host="acme.webex.com"):
    settings = browser.page(83)
    return browser.submit(settings, event_target=edit_target(settings, host))


def site_state(em, site_id):
    return next(s for s in em.state()["sites"] if s["id"] == site_id)


def test_page_has_the_webforms_chrome(admin_browser):
    page = admin_browser.page(83)
    form = page.form
    assert form["action"] == "./default.aspx?pageId=83"
    assert form["method"] == "post"
    assert not form.get("enctype")  # no file input on this view
    hidden = [i["name"] for i in form.find_all("input", attrs={"type": "hidden"})]
    assert hidden == ["__EVENTTARGET", "__EVENTARGUMENT", "__VIEWSTATE", "__VIEWSTATEGENERATOR", "__EVENTVALIDATION"]
    assert page.field_value("__VIEWSTATE").startswith("/wEP")
    assert re.fullmatch(r"[0-9A-F]{8}", page.field_value("__VIEWSTATEGENERATOR"))
    assert page.soup.find(id="ctl00_uxContent_uxFeedback_uxErrorLabel").get_text() == ""
    assert [h.get_text() for h in page.soup.find_all("h2")] == ["WebEx Configuration", "WebEx Sites"]


def test_menu_path_leads_to_webex_settings(admin_browser):
    menu = admin_browser.get().soup.find("ul", id="ctl00_uxMenu")
    top = {a.get_text(): a for a in menu.find_all("a", recursive=True) if a.find_parent("ul") is menu}
    assert set(top) == {"Booking", "Monitoring", "Systems", "Administrative Tools"}
    admin_tools = top["Administrative Tools"]
    assert admin_tools["href"] == "#"
    config = admin_tools.find_next_sibling("ul").find("a", string="Configuration")
    assert config["href"] == "#"
    entries = {a.get_text(): a["href"] for a in config.find_next_sibling("ul").find_all("a")}
    assert entries["WebEx Settings"] == "./default.aspx?pageId=83"
    assert {"General Settings", "Network Settings", "E-mail Settings"} <= set(entries)


def test_webex_configuration_and_sites_grid(admin_browser):
    page = admin_browser.page(83)
    enable = control_for_label(page.soup, "Enable WebEx")
    assert enable.name == "span" and enable["id"] == "ctl00_uxContent_ctl01_enableWebEx"
    assert page.field_value(P + "enableWebEx") == "true"
    assert page.field_value(P + "addWebExToAll") == "false"
    grid = page.soup.find("table", id="ctl00_uxContent_ctl01_siteGrid")
    rows = [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in grid.find_all("tr")[1:]]
    assert rows == [
        ["acme.webex.com", "acme", "Yes", "Edit"],
        ["acme-eu.webex.com", "acmeeu", "No", "Edit"],
        ["acme-training.webex.com", "training", "No", "Edit"],
    ]
    assert edit_target(page, "acme-eu.webex.com") == P + "siteGrid$ctl03$editLink"
    assert page.form.find("input", attrs={"name": P + "addSiteButton", "value": "Add Site"})


def test_start_page_decoys_redirects_and_not_found(admin_browser, tms_emulator):
    assert admin_browser.get().soup.find("h2").get_text().startswith("Welcome")
    assert admin_browser.page(77).soup.find("h2").get_text() == "Conference Control Center"
    root = admin_browser.session.get(tms_emulator.base_url + "/", verify=tms_emulator.ca_file, allow_redirects=False)
    assert root.status_code == 302 and root.headers["Location"] == "/tms/"
    missing = admin_browser.page(999)
    assert missing.status == 404
    assert "The resource cannot be found." in missing.html
    assert admin_browser.get("other.aspx").status == 404


def test_edit_postback_opens_the_site_form_on_the_same_page(admin_browser, tms_emulator):
    page = open_site(admin_browser)
    assert page.status == 200
    assert page.form["action"] == "./default.aspx?pageId=83"
    assert page.form["enctype"] == "multipart/form-data"
    assert page.soup.find("h2").get_text() == "WebEx Site Configuration"
    expected = {
        "Host Name": ("input", "hostName"),
        "Site Name": ("input", "siteName"),
        "WebEx Participant Bandwidth": ("select", "bandwidth"),
        "Default Site": ("span", "defaultSite"),
        "Use Global Settings": ("span", "useGlobal"),
        "TSP Audio": ("span", "tspAudio"),
        "Use Single Sign On": ("span", "useSso"),
        "SSO Certificate": ("input", "ssoCertificate"),
        "Certificate Password": ("input", "ssoCertificatePassword"),
        "SSO Partner Name": ("input", "ssoPartnerName"),
        "SSO Account Name": ("input", "ssoAccountName"),
        "SSO AuthnContextClassRef": ("input", "ssoAuthnContext"),
    }
    for label, (tag, suffix) in expected.items():
        control = control_for_label(page.soup, label)
        assert control.name == tag, label
        assert control["id"] == "ctl00_uxContent_ctl01_" + suffix, label
    assert page.field_value(P + "hostName") == "acme.webex.com"
    assert page.field_value(P + "bandwidth") == "High"
    assert [o.get_text() for o in page.soup.find("select").find_all("option")] == ["Low", "Medium", "High"]
    assert page.field_value(P + "defaultSite") == "true"
    assert page.form.find("input", attrs={"type": "file"})["name"] == CERT
    assert not page.form.find("input", attrs={"type": "password"}).has_attr("value")
    stored = site_state(tms_emulator, 1)["certificate"]
    assert value_for_label(page.soup, "Certificate Thumbprint") == stored["thumbprint_sha1"]
    assert value_for_label(page.soup, "Certificate Expires") == stored["not_after"].replace("T", " ")
    assert value_for_label(page.soup, "Certificate Subject") == "CN=tms.acme.example, O=ACME Corp"
    assert page.form.find("input", attrs={"name": SAVE, "type": "submit", "value": "Save"})
    assert page.form.find("input", attrs={"name": CANCEL, "value": "Cancel"})


def test_full_save_postback_stores_the_certificate(admin_browser, tms_emulator, pfx, chain):
    form_page = open_site(admin_browser, "acme-eu.webex.com")  # the site without a certificate
    assert value_for_label(form_page.soup, "Certificate Installed") == "No"
    saved = admin_browser.submit(
        form_page,
        button=SAVE,
        files={CERT: ("tms.pfx", pfx.data)},
        fields={PASSWORD: pfx.password, P + "useSso": "true", P + "ssoPartnerName": "tms.acme.example"},
    )
    assert saved.status == 200
    assert saved.error == ""
    assert saved.info == "Settings saved."
    site = site_state(tms_emulator, 2)
    assert site["certificate"]["thumbprint_sha1"] == pfx.thumbprint
    assert site["certificate"]["not_after"] == chain.leaf.cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert site["certificate"]["pfx_sha256"] == hashlib.sha256(pfx.data).hexdigest()
    assert site["use_sso"] is True
    assert site["partner_name"] == "tms.acme.example"
    assert site["host_name"] == "acme-eu.webex.com"  # untouched fields keep their values
    # The re-read shows the new certificate; password and file come back empty.
    assert value_for_label(saved.soup, "Certificate Thumbprint") == pfx.thumbprint
    assert not saved.form.find("input", attrs={"type": "password"}).has_attr("value")
    assert not saved.form.find("input", attrs={"type": "file"}).has_attr("value")
    assert pfx.password not in saved.html
    # The .pfx bytes arrived exactly once (one connection, authenticated before the POST).
    bodies = tms_emulator.state()["counters"]["post_bodies"]
    carrying = [b for b in bodies for f in b["files"] if f["sha256"] == hashlib.sha256(pfx.data).hexdigest()]
    assert len(carrying) == 1
    assert carrying[0]["content_type"] == "multipart/form-data"
    assert tms_emulator.state()["save_log"][-1]["outcome"] == "stored"


def test_save_without_a_file_keeps_the_certificate(admin_browser, tms_emulator):
    before = site_state(tms_emulator, 1)
    page = open_site(admin_browser)
    saved = admin_browser.submit(page, button=SAVE, fields={P + "bandwidth": "Low", P + "ssoAccountName": "new@acme"})
    assert saved.info == "Settings saved."
    after = site_state(tms_emulator, 1)
    assert after["certificate"] == before["certificate"]
    assert (after["bandwidth"], after["account_name"]) == ("Low", "new@acme")
    assert saved.field_value(P + "bandwidth") == "Low"


def test_cancel_returns_to_the_settings_without_storing(admin_browser, tms_emulator):
    before = tms_emulator.state()["sites"]
    page = open_site(admin_browser)
    back = admin_browser.submit(page, button=CANCEL, fields={P + "hostName": "changed.webex.com"})
    assert [h.get_text() for h in back.soup.find_all("h2")] == ["WebEx Configuration", "WebEx Sites"]
    assert tms_emulator.state()["sites"] == before


def test_add_site_and_a_new_default_site(admin_browser, tms_emulator):
    blank = admin_browser.submit(admin_browser.page(83), button=P + "addSiteButton")
    assert blank.field_value(P + "hostName") == ""
    assert value_for_label(blank.soup, "Certificate Installed") == "No"
    saved = admin_browser.submit(
        blank, button=SAVE, fields={P + "hostName": "new.webex.com", P + "siteName": "new", P + "defaultSite": "true"}
    )
    assert saved.info == "Settings saved."
    sites = tms_emulator.state()["sites"]
    assert [s["host_name"] for s in sites][-1] == "new.webex.com"
    assert [s["default_site"] for s in sites] == [False, False, False, True]
    required = admin_browser.submit(
        admin_browser.submit(admin_browser.page(83), button=P + "addSiteButton"), button=SAVE
    )
    assert required.error == "Host Name and Site Name are required."
    assert len(tms_emulator.state()["sites"]) == 4


def test_global_settings_save(admin_browser, tms_emulator):
    page = admin_browser.page(83)
    saved = admin_browser.submit(page, button=P + "saveGlobalButton", fields={P + "addWebExToAll": "true"})
    assert saved.info == "Settings saved."
    assert tms_emulator.state()["global"] == {"enable_webex": True, "add_webex_to_all": True}
    assert saved.field_value(P + "addWebExToAll") == "true"


def _is_aspnet_error(page, text):
    assert page.status == 500
    assert page.soup.find("h1").get_text().startswith("Server Error in '/tms' Application.")
    assert text in page.soup.find("title").get_text()


@pytest.mark.parametrize("tamper", ["flip", "missing", "foreign"])
def test_tampered_or_missing_view_state_is_a_500(admin_browser, tms_emulator, emulator_factory, tamper):
    page = open_site(admin_browser)
    before = tms_emulator.state()["sites"]
    view_state = page.field_value("__VIEWSTATE")
    if tamper == "flip":
        replacement = view_state[:10] + ("A" if view_state[10] != "A" else "B") + view_state[11:]
    elif tamper == "missing":
        replacement = ""
    else:  # a view state signed by another emulator's machine key
        other = emulator_factory()
        other_browser = Browser(other, other.admin)
        replacement = open_site(other_browser).field_value("__VIEWSTATE")
    answer = admin_browser.submit(page, button=SAVE, fields={"__VIEWSTATE": replacement, P + "hostName": "x.webex.com"})
    _is_aspnet_error(answer, "Validation of viewstate MAC failed.")
    assert tms_emulator.state()["sites"] == before


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (P + "bandwidth", "Ultra"),  # a select value the page never rendered
        (P + "useSso", "maybe"),  # a radio value the page never rendered
        ("__EVENTTARGET", P + "siteGrid$ctl09$editLink"),  # a grid row that does not exist
    ],
)
def test_unrendered_values_fail_event_validation(admin_browser, tms_emulator, name, value):
    page = open_site(admin_browser)
    before = tms_emulator.state()["sites"]
    answer = admin_browser.submit(page, button=SAVE, fields={name: value})
    _is_aspnet_error(answer, "Invalid postback or callback argument.")
    assert tms_emulator.state()["sites"] == before


def test_a_button_the_page_did_not_render_fails_event_validation(admin_browser, tms_emulator):
    settings = admin_browser.page(83)  # no site form, so no Save button on it
    answer = admin_browser.submit(settings, fields={SAVE: "Save"})
    _is_aspnet_error(answer, "Invalid postback or callback argument.")


def test_event_validation_from_another_page_view_is_refused(admin_browser):
    settings = admin_browser.page(83)
    form_page = open_site(admin_browser)
    # Save pressed with the settings view's event validation: the Save button was not in it.
    answer = admin_browser.submit(
        form_page, button=SAVE, fields={"__EVENTVALIDATION": settings.field_value("__EVENTVALIDATION")}
    )
    _is_aspnet_error(answer, "Invalid postback or callback argument.")


@pytest.mark.parametrize("mode", ["summary", "none"])
def test_certificate_details_switch(emulator_factory, mode):
    em = emulator_factory(cert_details=mode)
    browser = Browser(em, em.admin)
    with_cert = open_site(browser, "acme.webex.com")
    without = open_site(browser, "acme-eu.webex.com")
    assert value_for_label(without.soup, "Certificate Installed") == "No"
    if mode == "summary":
        assert (
            value_for_label(with_cert.soup, "Certificate Thumbprint")
            == site_state(em, 1)["certificate"]["thumbprint_sha1"]
        )
        assert "Certificate Installed" not in with_cert.html
    else:
        assert value_for_label(with_cert.soup, "Certificate Installed") == "Yes"
        assert site_state(em, 1)["certificate"]["thumbprint_sha1"] not in with_cert.html
        assert "Certificate Expires" not in with_cert.html


def test_oversized_request_is_refused_like_asp_net(emulator_factory):
    em = emulator_factory(max_request_bytes=10_000)
    browser = Browser(em, em.admin)
    page = open_site(browser)
    answer = browser.submit(page, button=SAVE, files={CERT: ("big.pfx", b"\x30" * 20_000)}, fields={PASSWORD: "x"})
    _is_aspnet_error(answer, "Maximum request length exceeded.")
    assert em.state()["save_log"] == []


def test_state_api_over_http_matches_in_process(tms_emulator, admin_browser):
    admin_browser.get()
    over_http = requests.get(tms_emulator.base_url + "/__emulator/state", verify=tms_emulator.ca_file).json()
    in_process = tms_emulator.state()
    assert over_http["sites"] == in_process["sites"]
    assert over_http["counters"]["requests"] == in_process["counters"]["requests"] == 3  # test API not counted
    assert over_http["emulator"]["url"] == tms_emulator.url
    for site in over_http["sites"]:
        assert set(site) >= {"id", "host_name", "site_name", "bandwidth", "default_site", "certificate"}
