"""Page shapes a person copes with (issue 13): menus of spans and real links, site lists and repeaters, the
empty-list text, label alternates, On/Off, deep control names, certificate details, error pages on Save, and the
footer, each on a hand-written page read with the built-in profile."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from tmsclient.credentials import Secret
from tmsclient.errors import AmbiguousMatchError, PageNotUnderstoodError, SiteNotFoundError
from tmsclient.tms.driver import (
    Driver,
    MenuNotFoundError,
    SiteRow,
    UploadIntent,
    build_plan,
    find_menu_link,
    find_sites,
    match_site,
    read_site_form,
    save_error_page,
)
from tmsclient.tms.pageprofile import DEFAULT_PROFILE, certificate_details, locate_field, page_identity
from tmsclient.tms.pageprofile.file import parse_profile_text, render_profile
from tmsclient.tms.verifier import CERTIFICATE, FIELDS_ONLY, Expectation, normalize_serial, verify_site
from tmsclient.tms.webforms import Page, parse_page

BASE = "https://tms.example.com/tms/default.aspx"
WRAP = """<html><head><title>Cisco TMS</title></head><body>
<form method="post" action="./default.aspx?pageId=130" id="aspnetForm" enctype="multipart/form-data">
<input type="hidden" name="__EVENTTARGET" value="" /><input type="hidden" name="__EVENTARGUMENT" value="" />
<input type="hidden" name="__VIEWSTATE" value="x" />
{body}
</form></body></html>"""


def page(body: str, url: str = BASE) -> Page:
    return parse_page(WRAP.format(body=body), url, status=200)


# ------------------------------------------------------------------------------------------------- menus

SPAN_MENU = """<ul id="ctl00_uxMenu">
<li><a href="default.aspx?pageId=35"><span><span>Booking</span></span></a><ul>
  <li><a href="default.aspx?pageId=35"><span>New Conference</span></a></li>
  <li><a href="default.aspx?pageId=36"><span>WebEx Settings</span></a></li></ul></li>
<li><a href="default.aspx?pageId=79"><span class="MenuText"><span>Systems</span></span></a><ul>
  <li><span>Configuration</span><ul><li><a href="default.aspx?pageId=90"><span>WebEx Settings</span></a></li></ul></li>
</ul></li>
<li><a href="default.aspx?pageId=116"><span class="MenuText"><span>Administrative Tools</span></span></a><ul>
  <li><span class="MenuItem"><span>Configuration</span></span><ul>
    <li><a href="default.aspx?pageId=116"><span>General Settings</span></a></li>
    <li><a href="default.aspx?pageId=130"><span class="x"><span>WebEx</span> <span>Settings</span></span></a></li>
    <li><a href="default.aspx?pageId=131"><span>WebEx Settings Help</span></a></li>
  </ul></li></ul></li>
</ul>"""


def test_menu_of_spans_with_real_top_level_links_leads_only_along_the_whole_path():
    link = find_menu_link(page(SPAN_MENU), DEFAULT_PROFILE)
    assert link.url == "https://tms.example.com/tms/default.aspx?pageId=130"
    assert link.menu_path == ("Administrative Tools", "Configuration", "WebEx Settings")


def test_entries_with_similar_words_elsewhere_are_never_followed():
    # The same leaf under Booking and under Systems > Configuration, and "WebEx Settings Help": none is it.
    menu = SPAN_MENU.replace('href="default.aspx?pageId=130"', 'href="#"').replace(
        '<span class="x"><span>WebEx</span> <span>Settings</span></span>', "<span>WebEx</span>"
    )
    with pytest.raises(MenuNotFoundError, match="no menu entry Administrative Tools > Configuration > WebEx"):
        find_menu_link(page(menu), DEFAULT_PROFILE)


def test_the_profile_page_url_is_the_fallback_when_the_menu_is_not_found():
    profile = parse_profile_text('page_url = "default.aspx?pageId=130"', "p.toml")
    assert profile.page_url == "default.aspx?pageId=130"
    assert 'page_url = "default.aspx?pageId=130"' in render_profile(profile)

    class Session:
        def __init__(self) -> None:
            self.urls: list[str] = []

        def url_for(self, url: str) -> str:
            return url

        def get(self, url: str, *, what: str, source: str | None = None) -> object:
            self.urls.append(url)
            body = "<p>Welcome</p>" if url == "" else "<h2>WebEx Sites</h2>"

            class R:
                status = 200
                text = WRAP.format(body=body)

            R.url = BASE + ("" if url == "" else "?pageId=130")  # type: ignore[attr-defined]
            return R

    session = Session()
    driver = Driver(session, profile)  # type: ignore[arg-type]
    settings = driver.settings_page()
    assert session.urls == ["", "default.aspx?pageId=130"]
    assert settings.url.endswith("pageId=130") and driver.settings_url == settings.url
    # Without it, the missing menu is the error (naming page_url as a way out).
    with pytest.raises(MenuNotFoundError) as info:
        Driver(Session(), DEFAULT_PROFILE).settings_page()  # type: ignore[arg-type]
    assert "page_url" in (info.value.hint or "")


# ------------------------------------------------------------------------------------------------ sites

LINKS = """<h2>WebEx Sites</h2><ul id="siteList">
<li><a href="default.aspx?pageId=79&amp;ConfId=17747&amp;View=true"><span>acme.webex.com</span></a>
 <span>acme</span> <span>(default)</span></li>
<li><a href="default.aspx?pageId=79&amp;ConfId=17748&amp;View=true">acme-eu.webex.com</a> <span>acmeeu</span></li>
</ul><input type="submit" name="ctl00$x$addSiteButton" value="Add Site" /><h2>Other</h2>
<a href="default.aspx?pageId=5">tms.example.com</a>"""

REPEATER = """<h2>WebEx Sites</h2><div id="rep">
<div class="item"><span>acme.webex.com</span> <span>acme</span>
 <input type="submit" name="ctl00$uxContent$ctl01$rep$ctl00$editButton" value="Edit" /></div>
<div class="item"><span>Host Name:</span> <span>acme-eu.webex.com</span> <span>Site Name:</span> <span>acmeeu</span>
 <input type="submit" name="ctl00$uxContent$ctl01$rep$ctl01$editButton" value="Edit" /></div>
</div>"""


def test_a_list_of_links_opens_each_site_by_its_name_at_another_url_with_its_query():
    rows = find_sites(page(LINKS), DEFAULT_PROFILE)
    assert [(r.host_name, r.site_name) for r in rows] == [("acme.webex.com", "acme"), ("acme-eu.webex.com", "acmeeu")]
    assert rows[0].link is not None
    assert rows[0].link.url == "https://tms.example.com/tms/default.aspx?pageId=79&ConfId=17747&View=true"
    assert match_site(rows, "https://acme-eu.webex.com/acmeeu").link.url.endswith("ConfId=17748&View=true")  # type: ignore[union-attr]


def test_a_repeater_opens_each_site_with_its_edit_button():
    rows = find_sites(page(REPEATER), DEFAULT_PROFILE)
    assert [(r.host_name, r.site_name) for r in rows] == [("acme.webex.com", "acme"), ("acme-eu.webex.com", "acmeeu")]
    assert [r.button.name if r.button else None for r in rows] == [
        "ctl00$uxContent$ctl01$rep$ctl00$editButton",
        "ctl00$uxContent$ctl01$rep$ctl01$editButton",
    ]
    assert all(r.link is None for r in rows)


def test_tms_empty_list_text_means_no_sites_and_site_not_found_lists_none():
    empty = page(
        '<h2>WebEx Sites</h2><table id="grid"><tr><td colspan="4">'
        "No results found. Try widening your search by using fewer criteria.</td></tr></table>"
    )
    assert find_sites(empty, DEFAULT_PROFILE) == ()
    with pytest.raises(SiteNotFoundError, match="sites on TMS: none"):
        match_site((), "acme")
    with pytest.raises(PageNotUnderstoodError, match="no WebEx Sites pane"):
        find_sites(page("<h2>WebEx Sites</h2><p>Loading...</p>"), DEFAULT_PROFILE)


def test_a_list_of_host_names_only_takes_the_site_name_from_the_form():
    rows = find_sites(
        page('<h2>WebEx Sites</h2><ul><li><a href="x.aspx?id=1">acme.webex.com</a></li></ul>'), DEFAULT_PROFILE
    )
    assert [(r.host_name, r.site_name) for r in rows] == [("acme.webex.com", "")]
    assert match_site(rows, "acme.webex.com/acme") is rows[0]
    view = read_site_form(page(FORM), rows[0], DEFAULT_PROFILE)
    assert view.row.site_name == "acme"


# ------------------------------------------------------------------------------------------------ the form

D = "ctl00$uxContent$ctl01$folderPageHost$uxWebExModule$siteEditPage$"
ID = D.replace("$", "_")


def onoff(name: str, on: bool) -> str:
    checked = ('checked="checked"', "") if on else ("", 'checked="checked"')
    return (
        f'<span id="{ID}{name}"><input id="{ID}{name}_0" type="radio" name="{D}{name}" value="On" {checked[0]} />'
        f'<label for="{ID}{name}_0">On</label><input id="{ID}{name}_1" type="radio" name="{D}{name}" value="Off" '
        f'{checked[1]} /><label for="{ID}{name}_1">Off</label></span>'
    )


def row_(label: str, control: str) -> str:
    return f'<tr><td class="PropertyName">{label}</td><td class="PropertyValue">{control}</td></tr>'


FORM = (
    "<h2>WebEx Site Configuration</h2><table>"
    + row_("Host Name", f'<input type="text" name="{D}hostName" value="acme.webex.com" />')
    + row_("Site Name", f'<input type="text" name="{D}siteName" value="acme" />')
    + row_(
        "Bandwidth",
        f'<select name="{D}bw"><option value="512">512 kbps</option><option selected="selected" value="2048">'
        "2048 kbps</option></select>",
    )
    + row_("Use SSO", onoff("useSso", False))
    + row_("Enable Audio", f'<input type="checkbox" name="{D}audio" checked="checked" />')
    + row_("Certificate", f'<input type="file" name="{D}cert" />')
    + row_("Password", f'<input type="password" name="{D}pw" />')
    + row_("Partner Name", f'<input type="text" name="{D}partner" value="old" />')
    + row_("AuthnContextClassRef", f'<input type="text" name="{D}authn" value="" />')
    + "<tr><td>Serial Number</td><td>0A:1B:2C</td></tr>"
    + "<tr><td>Expiry Date</td><td>26 November 2027 12:00:00</td></tr>"
    + "<tr><td>Thumbprint</td><td>3b:7e:0c:5a:9d:41:f2:6b:8c:0e:1a:7d:5f:33:92:c4:e6:b1:8a:07</td></tr>"
    + "<tr><td>Status</td><td>Installed</td></tr>"
    + "</table>"
    + f'<input type="submit" name="{D}saveButton" value="Save" />'
    + f'<input type="submit" name="{D}cancelButton" value="Cancel" />'
    + f'<input type="submit" name="{D}deleteButton" value="Delete" />'
    + f'<input type="submit" name="{D}testButton" value="Test" />'
    + f'<input type="submit" name="{D}addButton" value="Add" />'
)

SITE = SiteRow("acme.webex.com", "acme", None, None, None, None)


def test_public_labels_on_off_and_deep_names_are_found_by_the_built_in_profile():
    view = read_site_form(page(FORM), SITE, DEFAULT_PROFILE)
    found = {k: v.field.name.removeprefix(D) for k, v in view.fields.items()}
    assert found == {
        "host_name": "hostName",
        "site_name": "siteName",
        "bandwidth": "bw",
        "use_sso": "useSso",
        "sso_certificate": "cert",
        "certificate_password": "pw",
        "partner_name": "partner",
        "authn_context": "authn",
    }
    details = certificate_details(view.page, DEFAULT_PROFILE)
    assert (details.serial, details.expires, details.installed) == (
        "0A:1B:2C",
        "26 November 2027 12:00:00",
        "Installed",
    )


def test_only_save_is_pressed_and_everything_unchanged_goes_back_as_rendered():
    view = read_site_form(page(FORM), SITE, DEFAULT_PROFILE)
    assert view.save is not None and view.save.name == D + "saveButton"
    intent = UploadIntent("t.pfx", b"PFX", Secret("pw", "t"), enable_sso=True, partner_name="new")
    entries = {e.name: e.value for e in build_plan(view, intent).submission.entries()}
    assert not [n for n in entries if n.endswith(("cancelButton", "deleteButton", "testButton", "addButton"))]
    assert entries[D + "saveButton"] == "Save"
    assert entries[D + "useSso"] == "On" and entries[D + "partner"] == "new"
    # A select whose options nobody knows (kbps), a checkbox and an empty text go back exactly as rendered.
    assert entries[D + "bw"] == "2048" and entries[D + "audio"] == "on" and entries[D + "authn"] == ""


def test_two_fields_under_one_label_are_an_error_listing_them_never_a_guess():
    doubled = FORM.replace(
        row_("Partner Name", f'<input type="text" name="{D}partner" value="old" />'),
        row_("Partner Name", f'<input type="text" name="{D}partner" value="old" />')
        + row_("Partner Name", f'<input type="text" name="{D}partner2" value="x" />'),
    )
    with pytest.raises(AmbiguousMatchError) as info:
        read_site_form(page(doubled), SITE, DEFAULT_PROFILE)
    assert D + "partner" in info.value.message and D + "partner2" in info.value.message


def test_a_broad_label_is_used_only_when_no_specific_one_names_a_field():
    both = FORM.replace(
        row_("Password", f'<input type="password" name="{D}pw" />'),
        row_("Password", f'<input type="password" name="{D}adminPw" />')
        + row_("Certificate Password", f'<input type="password" name="{D}pw" />'),
    )
    form = page(both).forms[0]
    found = locate_field(form, "certificate_password", DEFAULT_PROFILE.site_locator("certificate_password"))
    assert found is not None and found.field.name == D + "pw" and found.how == "label 'Certificate Password'"


@pytest.mark.parametrize(
    "shown",
    [
        "3b:7e:0c:5a:9d:41:f2:6b:8c:0e:1a:7d:5f:33:92:c4:e6:b1:8a:07",
        "3B 7E 0C 5A 9D 41 F2 6B 8C 0E 1A 7D 5F 33 92 C4 E6 B1 8A 07",
        "3b7e0c5a9d41f26b8c0e1a7d5f3392c4e6b18a07",
    ],
)
def test_thumbprint_in_any_case_with_or_without_spaces_or_colons_and_the_serial(shown):
    html = FORM.replace("3b:7e:0c:5a:9d:41:f2:6b:8c:0e:1a:7d:5f:33:92:c4:e6:b1:8a:07", shown)
    view = read_site_form(page(html), SITE, DEFAULT_PROFILE)
    want = Expectation(
        thumbprint_sha1="3B7E0C5A9D41F26B8C0E1A7D5F3392C4E6B18A07",
        not_after=dt.datetime(2027, 11, 26, 12, tzinfo=dt.timezone.utc),
        serial="0A1B2C",
        sso_on=False,
    )
    result = verify_site(view, want)
    assert result.level == CERTIFICATE and result.ok, result.mismatches
    wrong = verify_site(view, dataclasses.replace(want, serial="0A1B2D"))
    assert [c.what for c in wrong.mismatches] == ["certificate serial number"]
    assert normalize_serial("0a 1b 2c") == "A1B2C" == normalize_serial("00:0A:1B:2C")


def test_fields_only_says_the_file_could_not_be_checked_and_recommends_a_test_booking():
    bare = FORM.split("<tr><td>Serial Number</td>")[0] + "</table>" + FORM.split("</table>")[1]
    view = read_site_form(page(bare), SITE, DEFAULT_PROFILE)
    result = verify_site(view, Expectation(thumbprint_sha1="3B7E0C5A9D41F26B8C0E1A7D5F3392C4E6B18A07", sso_on=False))
    assert result.level == FIELDS_ONLY
    assert any("could not be checked" in n and "test booking" in n for n in result.notes)


# ------------------------------------------------------------------------------------------- outcomes

YELLOW = """<html><head><title>{msg}</title></head><body><span><h1>Server Error in '/tms' Application.</h1>
<h2><i>{msg}</i></h2></span><b> Description: </b>An unhandled exception occurred.<br />
<b> Exception Details: </b>System.Security.Cryptography.CryptographicException: {msg}<br /></body></html>"""


@pytest.mark.parametrize(
    ("message", "refused", "status"),
    [
        ("The specified network password is not correct.", True, 500),
        ("Keyset does not exist", False, 500),
        ("The system cannot find the file specified.", False, 200),
    ],
)
def test_asp_net_error_pages_on_save_are_read_for_tms_words(message, refused, status):
    answer = parse_page(YELLOW.format(msg=message), BASE, status=status)
    err = save_error_page(SITE, answer)
    assert err is not None
    assert err.words == message and err.refused is refused and err.status == status
    assert message in err.message and f"HTTP {status}" in err.message
    other = parse_page(YELLOW.format(msg="Timeout expired."), BASE, status=500)
    assert save_error_page(SITE, other) is None


def test_the_footer_and_the_user_say_which_tms_and_which_account():
    chrome = (
        '<div id="ctl00_uxHeader"><span id="ctl00_uxUserName">TMSLAB\\admin</span></div>'
        '<div class="Footer">Cisco TMS 15.13 | S/N: 65A0B4C2 (TMS01)</div>'
    )
    identity = page_identity(page(chrome), DEFAULT_PROFILE)
    assert (identity.user, identity.serial_number, identity.server) == ("TMSLAB\\admin", "65A0B4C2", "TMS01")
    assert identity.line() == "as TMSLAB\\admin on TMS S/N 65A0B4C2 (TMS01)"
    assert page_identity(page("<p>nothing</p>"), DEFAULT_PROFILE).to_json() is None
