"""Every page profile renders its labels, ids and layout, and saves; the profiles really differ."""

from __future__ import annotations

import pytest

from tests.helpers.emulator import Browser, control_for_label, edit_href, edit_target, value_for_label
from tests.helpers.html import attr, find
from tmsemulator import PROFILES, EmulatorConfig, get_profile
from tmsemulator.errors import ConfigError
from tmsemulator.pages import EMPTY_LIST_TEXT, shown_thumbprint
from tmsemulator.profiles import SITE_FIELD_KINDS, PageProfile

TAG_OF_KIND = {"text": "input", "password": "input", "file": "input", "select": "select", "yesno": ("span", "table")}


def field_name(profile: PageProfile, key: str) -> str:
    spec = profile.field(key)
    assert spec is not None, f"{profile.name} has no field {key}"
    return spec.name


def open_site_form(browser, profile, host):
    """Open a site as a person would on each shape of the sites pane: a grid's Edit, a host-name link, a
    repeater's Edit button."""
    settings = browser.page(profile.webex_page_id)
    assert settings.status == 200
    if profile.sites_style == "links":
        link = settings.soup.find("a", string=lambda s: s == host) or next(
            a for a in settings.soup.find_all("a") if a.get_text(strip=True) == host
        )
        return browser.get(link["href"])
    if profile.sites_style == "repeater":
        item = next(d for d in settings.soup.find_all("div", class_="SiteItem") if host in d.get_text())
        return browser.submit(settings, button=item.find("input", type="submit")["name"])
    if profile.site_page_id is None:
        return browser.submit(settings, event_target=edit_target(settings, host))
    return browser.get(edit_href(settings, host))


@pytest.mark.parametrize("name", list(PROFILES))
def test_profile_renders_every_label_next_to_its_control(emulator_factory, name):
    profile = get_profile(name)
    em = emulator_factory(page_profile=name)
    browser = Browser(em, em.admin)
    settings = browser.page(profile.webex_page_id)
    for spec in profile.global_fields:
        control = control_for_label(settings.soup, spec.label)
        assert control["id"] == (profile.settings_prefix + spec.name).replace("$", "_")
    page = open_site_form(browser, profile, "acme.webex.com")
    assert page.form["enctype"] == "multipart/form-data"
    for spec in profile.site_fields:
        control = control_for_label(page.soup, spec.label)
        full = profile.site_prefix + spec.name
        assert control["id"] == full.replace("$", "_"), spec.label
        expected_tag = TAG_OF_KIND[SITE_FIELD_KINDS[spec.key]]
        assert control.name in (expected_tag if isinstance(expected_tag, tuple) else (expected_tag,)), spec.label
        if control.name in ("input", "select"):
            assert control["name"] == full
    assert page.field_value(profile.site_prefix + field_name(profile, "host_name")) == "acme.webex.com"
    stored = em.state()["sites"][0]["certificate"]
    assert value_for_label(page.soup, profile.cert_labels[2]) == shown_thumbprint(profile, stored["thumbprint_sha1"])


@pytest.mark.parametrize("name", [n for n in PROFILES if not get_profile(n).import_error])
def test_profile_saves_a_certificate(emulator_factory, pfx, chain, name):
    profile = get_profile(name)
    em = emulator_factory(page_profile=name)
    browser = Browser(em, em.admin)
    page = open_site_form(browser, profile, "acme-eu.webex.com")
    assert value_for_label(page.soup, profile.cert_labels[3]) == profile.yes_no[1]
    prefix = profile.site_prefix
    saved = browser.submit(
        page,
        button=prefix + profile.save.name,
        files={prefix + field_name(profile, "certificate"): ("tms.pfx", pfx.data)},
        fields={
            prefix + field_name(profile, "password"): pfx.password,
            prefix + field_name(profile, "account_name"): f"sso-{name}@acme",
        },
    )
    assert saved.error == ""
    if profile.after_save == "redirect":
        # Post/Redirect/Get: the answer is the list; the form shows what was stored when opened again.
        assert saved.status == 200 and saved.url.endswith(f"pageId={profile.webex_page_id}")
        assert saved.info == ""
        saved = open_site_form(browser, profile, "acme-eu.webex.com")
    else:
        assert saved.info == profile.saved_text
    site = em.state()["sites"][1]
    assert site["certificate"]["thumbprint_sha1"] == pfx.thumbprint
    assert site["account_name"] == f"sso-{name}@acme"
    assert value_for_label(saved.soup, profile.cert_labels[2]) == shown_thumbprint(profile, pfx.thumbprint)
    if profile.cert_serial_label:
        assert value_for_label(saved.soup, profile.cert_serial_label) == site["certificate"]["serial"]
    expires = chain.leaf.cert.not_valid_after_utc.strftime(profile.expires_format)
    assert value_for_label(saved.soup, profile.cert_labels[1]) == expires


def test_profiles_differ_in_labels_ids_layout_and_pages():
    tms15, labelfor, cells = (get_profile(n) for n in ("tms15", "tms15-labelfor", "tms15-cells"))
    for other in (labelfor, cells):
        assert {f.label for f in other.site_fields} != {f.label for f in tms15.site_fields}
        assert other.site_prefix != tms15.site_prefix
        assert {f.name for f in other.site_fields}.isdisjoint({f.name for f in tms15.site_fields})
        assert other.layout != tms15.layout
        assert other.webex_page_id != tms15.webex_page_id
        assert other.control_tree_signature() != tms15.control_tree_signature()
    assert tms15.site_page_id is None and labelfor.site_page_id is not None
    relabelled = get_profile("tms15-relabelled")
    assert relabelled.control_tree_signature() == tms15.control_tree_signature()
    assert [f.label for f in relabelled.site_fields] != [f.label for f in tms15.site_fields]


def test_labelfor_profile_uses_label_elements_and_its_own_site_page(emulator_factory):
    profile = get_profile("tms15-labelfor")
    em = emulator_factory(page_profile="tms15-labelfor")
    browser = Browser(em, em.admin)
    settings = browser.page(90)
    menu = settings.find("ul", id="ctl00_uxMenu")
    assert find(menu, "a", string="WebEx Settings")["href"] == "/tms/default.aspx?pageId=90"
    assert edit_href(settings, "acme-eu.webex.com") == "/tms/default.aspx?pageId=91&siteId=2"
    assert "__doPostBack" not in str(settings.soup.find("table", id="ctl00_uxContent_uxWebExSettings_uxSitesGrid"))
    page = browser.page(91, siteId=2)
    assert page.form["action"] == "/tms/default.aspx?pageId=91&siteId=2"
    assert not page.soup.find("td", class_="PropertyName")
    assert (
        page.find("label", attrs={"for": "ctl00_uxContent_uxWebExSite_uxCertificatePassword"}).get_text() == "Password"
    )
    assert not page.soup.find(string="WebEx Sites")  # only the site form on this page
    cancel = browser.submit(page, button=profile.site_prefix + profile.cancel.name)
    assert cancel.url.endswith("/tms/default.aspx?pageId=90")  # redirected back to the list
    add = browser.submit(browser.page(90), button=profile.settings_prefix + profile.add_site.name)
    assert add.url.endswith("pageId=91&siteId=new")
    assert add.field_value(profile.site_prefix + "uxHostName") == ""
    assert browser.page(91, siteId=99).error == "The selected WebEx site does not exist."
    assert browser.page(83).status == 404


def test_cells_profile_puts_labels_in_plain_cells_and_the_form_below_the_list(emulator_factory):
    profile = get_profile("tms15-cells")
    em = emulator_factory(page_profile="tms15-cells")
    browser = Browser(em, em.admin)
    page = open_site_form(browser, profile, "acme-eu.webex.com")
    headings = [d.get_text() for d in page.soup.find_all("div", class_="SectionHeader")]
    assert headings == ["WebEx Configuration", "WebEx Sites", "WebEx Site Configuration"]
    cell = page.soup.find("td", string="Host Name:")
    assert cell is not None and not cell.get("class")
    field_labels = {el.get_text() for el in page.soup.find_all("label")}
    assert field_labels == {"Yes", "No"}  # only the radio options have label elements
    assert page.soup.find("table", id="ctl00_ContentPlaceHolder1_WebExSettingsControl_UseSsoRadio")
    assert "Use Global Settings" not in page.html
    # Two Save buttons on one page: only the one pressed is posted, and the hidden row keeps its value.
    use_global_before = em.state()["sites"][1]["use_global"]
    saved = browser.submit(
        page,
        button=profile.site_prefix + profile.save.name,
        fields={profile.site_prefix + "SiteNameTextBox": "acme-eu"},
    )
    assert saved.info == "Settings saved."
    site = em.state()["sites"][1]
    assert site["site_name"] == "acme-eu" and site["use_global"] == use_global_before
    assert em.state()["global"] == {"enable_webex": True, "add_webex_to_all": False}


def test_webex_page_id_can_be_overridden(emulator_factory):
    em = emulator_factory(webex_page_id=200)
    browser = Browser(em, em.admin)
    start = browser.get()
    assert start.find("a", string="WebEx Settings")["href"] == "./default.aspx?pageId=200"
    assert browser.page(200).find("h2").get_text() == "WebEx Configuration"
    assert browser.page(83).status == 404
    assert em.state()["emulator"]["webex_page_id"] == 200


def test_page_id_clashing_with_another_page_is_refused():
    with pytest.raises(ConfigError, match="clashes"):
        EmulatorConfig(webex_page_id=116)
    with pytest.raises(ConfigError, match="unknown page profile"):
        EmulatorConfig(page_profile="tms14")


def save_certificate(emulator_factory, profile_name, pfx_data, password, **fields):
    """A new emulator with ``profile_name``; acme-eu's form saved with the file, its password and ``fields``."""
    profile = get_profile(profile_name)
    em = emulator_factory(page_profile=profile_name)
    browser = Browser(em, em.admin)
    page = open_site_form(browser, profile, "acme-eu.webex.com")
    prefix = profile.site_prefix
    posted = {prefix + field_name(profile, key): value for key, value in {"password": password, **fields}.items()}
    response = browser.submit(
        page,
        button=prefix + profile.save.name,
        files={prefix + field_name(profile, "certificate"): ("tms.pfx", pfx_data)},
        fields=posted,
    )
    return em, response


def test_refusals_as_error_pages_and_an_import_that_fails_after_storing_the_fields(emulator_factory, pfx):
    em, refused = save_certificate(emulator_factory, "tms15-repeater", pfx.data, "not-the-password")
    assert refused.status == 500
    assert "The specified network password is not correct." in find(refused.soup, "h2").get_text()
    assert em.state()["sites"][1]["certificate"] is None

    em2, failed = save_certificate(emulator_factory, "tms15-keyset", pfx.data, pfx.password, partner_name="kept")
    assert failed.status == 500 and "Keyset does not exist" in find(failed.soup, "h2").get_text()
    site = em2.state()["sites"][1]
    assert site["certificate"] is None and site["partner_name"] == "kept"
    assert em2.state()["save_log"][-1]["outcome"] == "fields-stored-import-failed"


@pytest.mark.parametrize("name", list(PROFILES))
def test_an_empty_site_list_shows_tms_empty_list_text(emulator_factory, name):
    profile = get_profile(name)
    em = emulator_factory(page_profile=name, sites=[])
    settings = Browser(em, em.admin).page(profile.webex_page_id)
    assert settings.status == 200 and EMPTY_LIST_TEXT in settings.soup.get_text()


def test_evidence_profile_menu_footer_on_off_and_deep_names(emulator_factory):
    profile = get_profile("tms15-evidence")
    em = emulator_factory(page_profile="tms15-evidence")
    browser = Browser(em, em.admin)
    start = browser.get("")
    menu = find(start.soup, id="ctl00_uxMenu")
    tops = [li for li in menu.find_all("li", recursive=False)]
    # Top-level entries are real links; the sub-menu "Configuration" is a span; leaves are links around spans.
    assert all(attr(find(li, "a", recursive=False), "href") != "#" for li in tops)
    admin = next(li for li in tops if "Administrative Tools" in li.get_text())
    assert find(find(find(admin, "ul"), "li"), "span", class_="MenuItem").get_text(strip=True) == "Configuration"
    leaf = next(a for a in admin.find_all("a") if a.get_text(strip=True) == "WebEx Settings")
    assert attr(leaf, "href").endswith(f"pageId={profile.webex_page_id}") and leaf.find("span") is not None
    footer = find(start.soup, id="ctl00_uxFooter").get_text(" ", strip=True)
    assert "S/N: 65A0B4C2 (TMSEMU01)" in footer and "TMSLAB\\admin" in footer
    settings = browser.page(profile.webex_page_id)
    link = next(a for a in settings.soup.find_all("a") if a.get_text(strip=True) == "acme.webex.com")
    assert link["href"] == f"default.aspx?pageId={profile.site_page_id}&Id=1&View=true"
    form = browser.get(link["href"])
    radios = form.soup.find_all("input", type="radio", attrs={"name": profile.site_prefix + "useSsoRadioList"})
    assert [r["value"] for r in radios] == ["true", "false"]
    assert [find(form.soup, "label", attrs={"for": attr(r, "id")}).get_text() for r in radios] == ["On", "Off"]
    assert profile.site_prefix.count("$") == 6
