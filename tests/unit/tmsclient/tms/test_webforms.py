"""The WebForms page model and the browser's form-to-request algorithm, on hand-written pages."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.paths import PAGES
from tmsclient.credentials import Secret
from tmsclient.errors import PageNotUnderstoodError
from tmsclient.tms.webforms import (
    MULTIPART,
    URLENCODED,
    FileField,
    FormValueError,
    Page,
    PostBack,
    Submission,
    clean_text,
    encode_form,
    parse_page,
)
from tmsclient.tms.webforms.parsing import _Parser

BASE = "https://tms.example.com/tms/default.aspx?pageId=83"
P = "ctl00$uxContent$ctl01$"
VIEWSTATE = "/wEPDwUKMTY1NDU2MTA1Mg9kFgJmD2QWAgIDDxYCHgdlbmN0eXBlBRNtdWx0aXBhcnQvZm9ybS1kYXRhZGRk+8t1yQm2Y0WwGg=="


def load(name: str, url: str = BASE) -> Page:
    return parse_page((PAGES / name).read_text(encoding="utf-8"), url, status=200)


def entries(sub: Submission) -> list[tuple[str, object]]:
    return [(e.name, e.value) for e in sub.entries()]


# ------------------------------------------------------------------------------------------ TMS pages


def test_tms15_site_form_fields_labels_and_values():
    page = load("tms15_site_form.html")
    (form,) = page.forms
    assert form.action == "https://tms.example.com/tms/default.aspx?pageId=83"
    assert form.method == "post" and form.enctype == MULTIPART
    by_label = {f.labels[0]: f for f in form.fields if f.labels}
    assert list(by_label) == [
        "Host Name",
        "Site Name",
        "WebEx Participant Bandwidth",
        "Default Site",
        "Use Global Settings",
        "TSP Audio",
        "Use Single Sign On",
        "SSO Certificate",
        "Certificate Password",
        "SSO Partner Name",
        "SSO Account Name",
        "SSO AuthnContextClassRef",
    ]
    assert by_label["Host Name"].name == P + "hostName"
    assert form.current_value(P + "hostName") == "acme.webex.com"
    assert form.current_value(P + "bandwidth") == "High"
    assert form.current_value(P + "useSso") == "true"
    assert form.current_value(P + "tspAudio") == "false"
    assert form.current_value(P + "ssoCertificate") is None
    sso = by_label["Use Single Sign On"]
    assert sso.kind == "radio" and sso.id == "ctl00_uxContent_ctl01_useSso"
    assert [(o.value, o.label, o.selected) for o in sso.options] == [("true", "Yes", True), ("false", "No", False)]
    assert by_label["Certificate Password"].is_secret
    assert [(p.label, p.value) for p in page.properties] == [
        ("Certificate Subject", "O=ACME Corp, CN=tms.acme.example"),
        ("Certificate Expires", "2027-11-26 12:00:00Z"),
        ("Certificate Thumbprint", "3B7E0C5A9D41F26B8C0E1A7D5F3392C4E6B18A07"),
    ]
    assert [h.text for h in page.headings] == ["WebEx Site Configuration"]
    assert page.title == "WebEx Settings"
    assert page.aspnet_error is None


def test_save_sends_every_field_as_rendered_plus_the_overrides_and_only_the_save_button():
    form = load("tms15_site_form.html").forms[0]
    secret = Secret("Cnry-pfx-pass-1", "test")
    pfx = FileField("renewed cert.pfx", b"\x30\x82PFX-BYTES")
    sub = (
        Submission.of(form, submitter=P + "saveButton")
        .set(P + "ssoCertificate", pfx)
        .set(P + "ssoCertificatePassword", secret)
        .set(P + "ssoPartnerName", "new partner")
    )
    assert sub.method == "POST" and sub.is_multipart and sub.url == form.action
    got = entries(sub)
    assert got == [
        ("__EVENTTARGET", ""),
        ("__EVENTARGUMENT", ""),
        ("__VIEWSTATE", VIEWSTATE),
        ("__VIEWSTATEGENERATOR", "CA0B0334"),
        ("__EVENTVALIDATION", "/wEdAAuMq3Bw3sVjY4H5s2Gd0f1a"),
        (P + "hostName", "acme.webex.com"),
        (P + "siteName", "acme"),
        (P + "bandwidth", "High"),
        (P + "defaultSite", "true"),
        (P + "useGlobal", "true"),
        (P + "tspAudio", "false"),
        (P + "useSso", "true"),
        (P + "ssoCertificate", pfx),
        (P + "ssoCertificatePassword", secret),
        (P + "ssoPartnerName", "new partner"),
        (P + "ssoAccountName", "tms-sso@acme.example"),
        (P + "ssoAuthnContext", "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"),
        (P + "saveButton", "Save"),
    ]
    # The secret goes out as the Secret object itself: only the session layer reveals it.
    assert any(value is secret for _name, value in got)
    names = [n for n, _ in got]
    assert P + "cancelButton" not in names and P + "saveGlobalButton" not in names


def test_postback_sets_event_target_and_sends_no_button():
    page = load("tms15_webex_settings.html")
    form = page.forms[0]
    link = next(link for link in page.links if link.text == "Edit")
    assert link.postback == PostBack(P + "siteGrid$ctl02$editLink", "")
    sub = Submission.of(form, postback=link.postback)
    got = dict(entries(sub))
    assert got["__EVENTTARGET"] == P + "siteGrid$ctl02$editLink"
    assert got["__EVENTARGUMENT"] == ""
    assert not any(n.endswith(("saveGlobalButton", "addSiteButton")) for n in got)
    assert sub.method == "POST" and not sub.is_multipart and sub.enctype == URLENCODED


def test_postback_without_event_target_field_is_refused():
    page = parse_page('<form method="post"><input name="a"></form>', BASE)
    with pytest.raises(PageNotUnderstoodError, match="__EVENTTARGET"):
        Submission.of(page.forms[0], postback=PostBack("x", ""))


def test_sites_grid_is_read_as_a_table_with_links_per_row():
    page = load("tms15_webex_settings.html")
    grid = next(t for t in page.tables if t.id == "ctl00_uxContent_ctl01_siteGrid")
    header, *rows = grid.rows
    assert [c.text for c in header.cells] == ["Host Name", "Site Name", "Default Site", ""]
    assert all(c.header for c in header.cells)
    assert [[c.text for c in r.cells[:3]] for r in rows] == [
        ["acme.webex.com", "acme", "Yes"],
        ["acme-eu.webex.com", "acmeeu", "No"],
        ["acme-training.webex.com", "training", "No"],
    ]
    edit = page.links[rows[1].cells[3].links[0]]
    assert edit.text == "Edit" and edit.postback is not None
    assert edit.postback.target == P + "siteGrid$ctl03$editLink"


def test_menu_paths_and_resolved_links():
    page = load("tms15_start.html", "https://tms.example.com/tms/default.aspx")
    webex = [link for link in page.links if link.menu_path[-1] == "WebEx Settings"]
    assert len(webex) == 1
    assert webex[0].menu_path == ("Administrative Tools", "Configuration", "WebEx Settings")
    assert webex[0].url == "https://tms.example.com/tms/default.aspx?pageId=83"
    parents = [link for link in page.links if link.text in ("Administrative Tools", "Configuration")]
    assert [p.url for p in parents] == [None, None]  # href="#" leads nowhere


def test_label_for_layout_and_div_property_rows():
    page = load("label_for_site_form.html", "https://tms.example.com/tms/default.aspx?pageId=91&siteId=2")
    form = page.forms[0]
    assert form.action == "https://tms.example.com/tms/default.aspx?pageId=91&siteId=2"
    labels = {f.labels[0]: f.name.rsplit("$", 1)[1] for f in form.fields if f.labels}
    assert labels == {
        "Host name": "uxHostName",
        "Site name": "uxSiteName",
        "Participant bandwidth": "uxBandwidth",
        "Single Sign On enabled": "uxUseSso",
        "Certificate file (.pfx)": "uxCertificateFile",
        "Password": "uxCertificatePassword",
        "Partner name": "uxPartnerName",
    }
    assert [(p.label, p.value) for p in page.properties] == [
        ("Subject", "CN=tms.acme.example"),
        ("Valid until", "2027-11-26 12:00:00Z"),
        ("Thumbprint", "3b 7e 0c 5a 9d 41 f2 6b 8c 0e 1a 7d 5f 33 92 c4 e6 b1 8a 07"),
    ]


def test_preceding_cell_layout_with_radio_tables_and_two_save_buttons():
    page = load("preceding_cell_site_form.html", "https://tms.example.com/tms/default.aspx?pageId=120")
    form = page.forms[0]
    labels = {f.labels[0]: f.kind for f in form.fields if f.labels}
    assert labels == {
        "Enable WebEx:": "radio",
        "Host Name:": "text",
        "Site Name:": "text",
        "Use SSO:": "radio",
        "Certificate:": "file",
        "Certificate Password:": "password",
        "Partner Name:": "text",
    }
    saves = [c.name.rsplit("$", 1)[1] for c in form.submit_buttons() if c.caption_text == "Save"]
    assert saves == ["SaveSettingsButton", "SaveButton"]
    props = {p.label: p.value for p in page.properties}
    assert props["Expires:"] == "11/26/2027 12:00:00 PM"
    assert "Host Name" not in props  # a grid's header row is not a value


def test_aspnet_yellow_error_page():
    page = load("aspnet_error_500.html")
    err = page.aspnet_error
    assert err is not None
    assert err.message.startswith("Invalid postback or callback argument.")
    assert err.details == "System.ArgumentException: Invalid postback or callback argument."
    assert page.forms == ()


def test_validation_summary_and_hidden_validators():
    page = load("validation_summary.html")
    summary = page.element_by_id("ctl00_uxContent_ValidationSummary1")
    assert summary is not None and not summary.hidden
    assert "Host Name is required." in summary.text
    for hidden in ("ctl00_uxContent_ValidationSummary2", "ctl00_uxContent_ctl01_siteNameRequiredValidator"):
        element = page.element_by_id(hidden)
        assert element is not None and element.hidden, hidden
    # The required marker does not become part of the field's label.
    assert page.forms[0].fields[-1].labels == ("Host Name *",)


# ------------------------------------------------------------------------------ the HTML spec, in detail


EDGE_URL = "https://tms.example.com/tms/default.aspx"


def test_edge_cases_entry_list_follows_the_html_spec():
    page = load("form_edge_cases.html", EDGE_URL)
    assert len(page.forms) == 2  # the nested <form> is ignored, as a browser's parser does
    form = page.forms[0]
    assert form.action == "https://tms.example.com/tms/submit.aspx?x=1&y=2"  # against <base href>
    assert form.method == "post" and form.enctype == MULTIPART
    got = entries(Submission.of(form, submitter="save"))
    assert got == [
        ("__EVENTTARGET", ""),
        ("__EVENTARGUMENT", ""),
        ("_charset_", "UTF-8"),
        ("q", "old query"),  # the search box's own button is not sent
        ("t1", "line1"),
        ("inlegend", "kept"),  # in a disabled fieldset, but inside its first legend
        ("cb1", "on"),
        ("cb3", "yes"),
        ("r2", "b"),  # two checked radios: the last one wins; r1 has none checked and is not sent
        ("s1", "x"),  # no selected option: the first
        ("s2", "W w"),  # the first enabled option, its text as value, whitespace collapsed
        ("s3", "m1"),
        ("s3", "m3"),
        ("s5", "q"),  # two "selected": the last one
        ("s6", "after"),  # options of a disabled optgroup are disabled
        ("ta", "first line\r\nsecond"),  # leading newline dropped, CRLF line breaks
        ("upload", FileField("", b"")),  # no file chosen: an empty part with an empty file name
        ("save", "Save"),
        ("dir", "d"),
        ("dir.dir", "ltr"),
        ("ro", "readonly"),
        ("pw", ""),
        ("weird", "wx"),  # an unknown type is a text box, whose value has no line breaks
        ("innested", "n"),
        ("outside", "owned-by-attr"),  # form= attribute, in tree order
    ]


def test_image_button_sends_coordinates_only_when_it_is_the_submitter():
    form = load("form_edge_cases.html", EDGE_URL).forms[0]
    got = entries(Submission.of(form, submitter="imgButton"))
    assert ("imgButton.x", "0") in got and ("imgButton.y", "0") in got
    assert "save" not in [n for n, _ in got]
    assert "imgButton.x" not in [n for n, _ in entries(Submission.of(form, submitter="save"))]


def test_button_element_is_a_submitter_but_never_sent_otherwise():
    form = load("form_edge_cases.html", EDGE_URL).forms[0]
    got = entries(Submission.of(form, submitter="btnPlain"))
    assert ("btnPlain", "bp") in got
    assert not {"save", "btnButton", "reset", "searchButton"} & {n for n, _ in got}
    no_button = entries(Submission.of(form))
    never = {"save", "btnPlain", "btnButton", "reset", "searchButton", "imgButton.x"}
    assert not never & {n for n, _ in no_button}


def test_non_submit_and_disabled_buttons_cannot_submit():
    form = load("form_edge_cases.html", EDGE_URL).forms[0]
    with pytest.raises(FormValueError, match="does not submit"):
        Submission.of(form, submitter="btnButton")
    with pytest.raises(FormValueError, match="does not submit"):
        Submission.of(form, submitter="reset")
    with pytest.raises(FormValueError, match="disabled"):
        Submission.of(form, submitter="save2")
    with pytest.raises(FormValueError, match="no button"):
        Submission.of(form, submitter="nope")


def test_submitter_overrides_action_method_and_enctype():
    form = load("form_edge_cases.html", EDGE_URL).forms[1]
    assert form.method == "get" and form.enctype == URLENCODED
    plain = Submission.of(form)
    assert plain.method == "GET" and plain.url == EDGE_URL
    alt = Submission.of(form, submitter="alt")
    assert alt.method == "POST" and alt.url == "https://tms.example.com/alt" and alt.enctype == "text/plain"
    assert entries(alt) == [("other", "o"), ("alt", "1")]


def test_file_in_a_urlencoded_form_sends_only_its_name():
    page = parse_page(
        '<form method="post" action="/x"><input type="file" name="f"><input type="submit" name="go" value="Go"></form>',
        EDGE_URL,
    )
    sub = Submission.of(page.forms[0], submitter="go")
    assert not sub.is_multipart
    assert entries(sub) == [("f", ""), ("go", "Go")]
    assert entries(sub.set("f", FileField("a.pfx", b"xx"))) == [("f", "a.pfx"), ("go", "Go")]


def test_radio_and_select_values_must_be_rendered():
    form = load("form_edge_cases.html", EDGE_URL).forms[0]
    sub = Submission.of(form, submitter="save")
    assert ("r1", "b") in entries(sub.set("r1", "b"))
    with pytest.raises(FormValueError, match=r"got 'c', expected one of 'a', 'b'"):
        sub.set("r1", "c")
    assert ("s1", "y") in entries(sub.set("s1", "y"))
    with pytest.raises(FormValueError, match="offers no option 'zz'"):
        sub.set("s1", "zz")
    with pytest.raises(FormValueError, match="offers no option 'og'"):
        sub.set("s6", "og")  # rendered, but disabled
    with pytest.raises(FormValueError, match="single select"):
        sub.set("s1", ["x", "y"])
    assert [v for n, v in entries(sub.set("s3", ["m2"])) if n == "s3"] == ["m2"]


def test_disabled_readonly_unknown_and_wrong_kind_fields_cannot_be_set():
    form = load("form_edge_cases.html", EDGE_URL).forms[0]
    sub = Submission.of(form, submitter="save")
    for name, value, message in (
        ("dis", "y", "disabled"),
        ("infs", "y", "disabled"),
        ("ro", "y", "read-only"),
        ("missing", "y", "no field named missing"),
        ("cb1", "y", "use check"),
        ("upload", "text", "file input"),
        ("t1", FileField("a", b""), "give text"),
        ("save", "x", "button"),
    ):
        with pytest.raises(FormValueError, match=message):
            sub.set(name, value)


def test_checkboxes_are_ticked_and_cleared():
    form = load("form_edge_cases.html", EDGE_URL).forms[0]
    sub = Submission.of(form, submitter="save").check("cb1", False).check("cb2")
    names = [(n, v) for n, v in entries(sub) if n.startswith("cb")]
    assert names == [("cb2", "v2"), ("cb3", "yes")]
    with pytest.raises(FormValueError, match="disabled"):
        Submission.of(form).check("cbdis", False)


def test_submission_is_immutable_and_the_page_is_read_only():
    page = load("tms15_site_form.html")
    form = page.forms[0]
    base = Submission.of(form, submitter=P + "saveButton")
    changed = base.set(P + "ssoPartnerName", "x")
    assert dict(entries(base))[P + "ssoPartnerName"] == "tms.acme.example"
    assert dict(entries(changed))[P + "ssoPartnerName"] == "x"
    assert form.current_value(P + "ssoPartnerName") == "tms.acme.example"
    with pytest.raises(dataclasses.FrozenInstanceError):
        form.controls[0].value = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        page.forms = ()  # type: ignore[misc]
    assert isinstance(form.controls, tuple) and isinstance(page.forms, tuple)


def test_repr_and_plan_hide_secrets_and_file_bytes():
    form = load("tms15_site_form.html").forms[0]
    secret = Secret("Cnry-do-not-print-7", "test")
    sub = (
        Submission.of(form, submitter=P + "saveButton")
        .set(P + "ssoCertificatePassword", secret)
        .set(P + "ssoCertificate", FileField("new.pfx", b"SECRETBYTES" * 10))
        .set(P + "useSso", "false")
        .set(P + "bandwidth", "High")
    )  # unchanged: not in the plan
    text = repr(sub) + str(sub) + repr(sub.entries()) + repr(sub.changes())
    assert "Cnry-do-not-print-7" not in text and "SECRETBYTES" not in text
    plan = {c.name.rsplit("$", 1)[1]: (c.before, c.after) for c in sub.changes()}
    assert plan == {
        "ssoCertificate": ("(empty)", "<file new.pfx, 110 bytes>"),
        "ssoCertificatePassword": ("(empty)", "<hidden>"),
        "useSso": ("Yes (true)", "No (false)"),
    }
    assert "bandwidth" not in plan


def test_two_text_controls_with_one_name_need_an_index():
    page = parse_page('<form method="post"><input name="a" value="1"><input name="a" value="2"></form>', BASE)
    form = page.forms[0]
    with pytest.raises(FormValueError, match="2 controls are named a"):
        Submission.of(form).set("a", "x")
    second = form.controls[1].index
    assert entries(Submission.of(form).set("a", "x", index=second)) == [("a", "1"), ("a", "x")]


def test_labels_wrapping_preceding_text_and_legend():
    html = """<form method="post">
      <p>Host Name: <input name="host"></p>
      <div><span class="Label">Site Name <span>*</span></span><input name="site"></div>
      <fieldset><legend>Use SSO</legend><input type="radio" name="sso" value="1"> Yes
        <input type="radio" name="sso" value="0"> No</fieldset>
      <label>Partner <input name="partner"></label>
      <input name="aria" aria-label="Account Name">
      <table><tr><th>Bandwidth</th><td><select name="bw"><option>Low</option></select></td></tr></table>
    </form>"""
    form = parse_page(html, BASE).forms[0]
    got = {f.name: f.labels for f in form.fields}
    assert got["host"] == ("Host Name:",)
    assert got["site"] == ("Site Name",)  # the required marker is not part of it
    assert "Use SSO" in got["sso"]
    assert got["partner"][0] == "Partner"
    assert got["aria"][0] == "Account Name"
    assert got["bw"] == ("Bandwidth",)


def test_a_field_never_borrows_the_label_of_the_field_before_it():
    html = """<form method="post"><table>
      <tr><td>Partner</td><td><input name="p" value="x"></td></tr>
      <tr><td></td><td><input type="checkbox" name="c"></td></tr>
      <tr><td><input type="checkbox" id="c2" name="c2"><label for="c2">Two</label></td>
          <td><input type="checkbox" name="c3"></td></tr></table></form>"""
    form = parse_page(html, BASE).forms[0]
    got = {f.name: f.labels for f in form.fields}
    assert got == {"p": ("Partner",), "c": (), "c2": ("Two",), "c3": ()}


def test_unclosed_options_and_cells_read_as_a_browser_shows_them():
    html = (
        "<form method=post><table><tr><td>Label A<td><select name=s><option value=1>One"
        "<option value=2 selected>Two</select></table></form>"
    )
    page = parse_page(html, BASE)
    field = page.forms[0].fields[0]
    assert [(o.value, o.label, o.selected) for o in field.options] == [("1", "One", False), ("2", "Two", True)]
    assert field.labels == ("Label A",)


def test_controls_outside_any_form_are_not_in_a_form():
    page = load("form_edge_cases.html", EDGE_URL)
    names = {c.name for f in page.forms for c in f.controls}
    assert "orphan" not in names and "indatalist" not in names
    assert "outside" in {c.name for c in page.forms[0].controls}


def test_hidden_text_and_scripts_are_not_page_text():
    page = load("tms15_site_form.html")
    assert "not text" not in page.text and "theForm" not in page.text
    assert "Cisco TelePresence Management Suite" in page.text


def test_clean_text_collapses_all_kinds_of_space():
    assert clean_text("  a\u00a0\u200b b\n\tc\u200e ") == "a b c"


# ------------------------------------------------------------------------------------- robustness


@pytest.mark.parametrize(
    "html",
    [
        "",
        "<",
        "<<<>>>",
        "<![if gte IE 9]>x<![endif]>",
        "<!",
        "<!-- unterminated",
        "</form></form>",
        "<form><form><form>",
        "<select><option>",
        "<table><tr><td><table>",
        "\x00\x01\x02<form>\x00",
        "<input type=radio name=a checked><input type=radio name=a checked>",
        "<a href='javascript:__doPostBack('>",
        "<a href='http://[::1'>x</a>",
        "<base href='http://[bad'>",
        "<form action='http://[bad'><input name=a>",
        "<select name=s size=-3 multiple><option selected>",
        "<textarea>" * 50,
        "&#xFFFFFFFF;&#0;&bogus;",
        "<div style='display:none'><form><input name=x></form></div>",
        "<label for=missing>x</label>",
        "<fieldset disabled><legend></legend></fieldset>",
        "<option>outside</option>",
        "<td>cell</td>",
    ],
)
def test_odd_inputs_parse_without_error(html):
    page = parse_page(html, BASE)
    for form in page.forms:
        Submission.of(form).entries()


def test_deep_nesting_and_bytes_are_handled():
    deep = "<div>" * 200 + "<form method=post><input name=a value=1></form>" + "</div>" * 200
    page = parse_page(deep.encode(), BASE)
    assert [(e.name, e.value) for e in Submission.of(page.forms[0]).entries()] == [("a", "1")]
    page = parse_page(b"<title>\xff\xfe caf\xc3\xa9</title>", BASE)
    assert page.title.endswith("café")


def test_non_text_and_oversized_input_is_a_page_error():
    with pytest.raises(PageNotUnderstoodError):
        parse_page(None, BASE)  # type: ignore[arg-type]
    with pytest.raises(PageNotUnderstoodError, match="too large"):
        parse_page("x" * (16 * 1024 * 1024 + 1), BASE)


def test_internal_failures_become_page_errors(monkeypatch):
    def boom(self, *a, **k):
        raise KeyError("surprise")

    monkeypatch.setattr(_Parser, "page", boom)
    with pytest.raises(PageNotUnderstoodError, match="could not be parsed"):
        parse_page("<p>x</p>", BASE)


_FRAGMENTS = [
    "<form method=post>",
    "</form>",
    "<input name=a>",
    "<input type=radio name=r value=1 checked>",
    "<select name=s>",
    "<option>",
    "</select>",
    "<table>",
    "<tr>",
    "<td>",
    "</td>",
    "<label for=x>",
    "</label>",
    "<fieldset disabled>",
    "<legend>",
    "</fieldset>",
    "<textarea name=t>",
    "</textarea>",
    "<a href=\"javascript:__doPostBack('t','')\">",
    "</a>",
    "<ul><li>",
    "</li></ul>",
    "<h1>Server Error in",
    "</h1>",
    "<div style=display:none>",
    "</div>",
    "<input type=file name=f>",
    "<button>",
    "</button>",
    "text",
    ":",
    "*",
    "&nbsp;",
    "<!--",
    "-->",
    "<script>",
    "</script>",
    "<base href=x>",
    "<input form=q>",
]


def test_fuzzed_fragments_parse_or_fail_cleanly():
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=8)), max_size=40))
    def check(parts):
        try:
            page = parse_page("".join(parts), BASE)
        except PageNotUnderstoodError:
            return
        for form in page.forms:
            Submission.of(form).entries()
            for f in form.fields:
                form.current_value(f.name)

    check()


def test_named_character_references_in_values_are_decoded():
    page = parse_page(
        '<html><body><form method="post" action="./x"><input name="a" value="x&nbsp;&eacute;&amp;'
        '"></form></body></html>',
        "https://tms.example.com/tms/",
        status=200,
    )
    assert page.forms[0].current_value("a") == "x\u00a0é&"


# ------------------------------------------------------------------------------------------ the encoding


def test_urlencoded_form_keeps_order_and_encodes_utf8():
    body, ctype = encode_form([("b", "2"), ("a$x", "ü & ="), ("pw", Secret("s3cret!", "t"))], multipart=False)
    assert ctype == "application/x-www-form-urlencoded"
    assert body == b"b=2&a%24x=%C3%BC+%26+%3D&pw=s3cret%21"


def test_a_file_needs_a_multipart_form():
    with pytest.raises(ValueError, match="multipart"):
        encode_form([("f", ("a.pfx", b"x", "application/x-pkcs12"))], multipart=False)
