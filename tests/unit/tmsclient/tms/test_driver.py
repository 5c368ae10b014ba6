"""The form driver's pure parts on hand-written pages: menu, sites grid, site matching, the form, the plan."""

from __future__ import annotations

import pytest

from tests.helpers.paths import PAGES
from tmsclient.credentials import Secret
from tmsclient.errors import (
    AmbiguousMatchError,
    AuthenticationError,
    NotAdministratorError,
    OutcomeUnknownError,
    PageNotUnderstoodError,
    RejectedByTmsError,
    SiteNotFoundError,
)
from tmsclient.exitcodes import ExitCode
from tmsclient.tms.driver import (
    Driver,
    SiteRow,
    UploadIntent,
    build_plan,
    find_menu_link,
    find_sites,
    match_site,
    pick_save_button,
    read_site_form,
    rejection,
    submission_source,
)
from tmsclient.tms.pageprofile import DEFAULT_PROFILE, apply_overrides
from tmsclient.tms.session import HttpResult, OffOriginError, PostInterruptedError, SessionExpiredError
from tmsclient.tms.webforms import FileField, Page, Submission, parse_page

BASE = "https://tms.example.com/tms/default.aspx?pageId=83"
P = "ctl00$uxContent$ctl01$"


def load(name: str, url: str = BASE) -> Page:
    return parse_page((PAGES / name).read_text(encoding="utf-8"), url, status=200)


def row(host: str = "acme.webex.com", site: str = "acme") -> SiteRow:
    return SiteRow(host, site, "Yes", None, None, None)


def intent(**kw) -> UploadIntent:
    base = {"pfx_name": "tms-cert.pfx", "pfx_data": b"0\x82PFX", "pfx_password": Secret("Cnry-plan-pw-1", "t")}
    return UploadIntent(**{**base, **kw})


def test_menu_path_is_followed_to_the_webex_settings_link():
    link = find_menu_link(load("tms15_start.html", "https://tms.example.com/tms/"), DEFAULT_PROFILE)
    assert link.url == "https://tms.example.com/tms/default.aspx?pageId=83"
    assert link.menu_path == ("Administrative Tools", "Configuration", "WebEx Settings")


def test_a_missing_menu_entry_names_the_path_and_the_fix():
    profile = apply_overrides(DEFAULT_PROFILE, {"menu_path": ["Administrative Tools", "Setup", "WebEx"]}, "p")
    with pytest.raises(PageNotUnderstoodError) as info:
        find_menu_link(load("tms15_start.html"), profile)
    assert "Administrative Tools > Setup > WebEx" in info.value.message
    assert "--page-url" in (info.value.hint or "") and "'Booking'" in (info.value.hint or "")


def test_menu_entries_match_tolerantly_but_only_as_the_whole_path():
    profile = apply_overrides(
        DEFAULT_PROFILE, {"menu_path": ["administrative tools:", " configuration ", "WEBEX SETTINGS"]}, "p"
    )
    link = find_menu_link(load("tms15_start.html"), profile)
    assert link.url is not None and link.url.endswith("pageId=83")
    # A path that skips a level is not the path a person follows: never matched.
    short = apply_overrides(DEFAULT_PROFILE, {"menu_path": ["Administrative Tools", "WebEx Settings"]}, "p")
    with pytest.raises(PageNotUnderstoodError, match="no menu entry"):
        find_menu_link(load("tms15_start.html"), short)


def test_sites_grid_rows_with_their_edit_postbacks():
    rows = find_sites(load("tms15_webex_settings.html"), DEFAULT_PROFILE)
    assert [(r.host_name, r.site_name, r.default) for r in rows] == [
        ("acme.webex.com", "acme", "Yes"),
        ("acme-eu.webex.com", "acmeeu", "No"),
        ("acme-training.webex.com", "training", "No"),
    ]
    postbacks = [r.link.postback if r.link else None for r in rows]
    assert [p.target if p else None for p in postbacks] == [
        f"{P}siteGrid$ctl02$editLink",
        f"{P}siteGrid$ctl03$editLink",
        f"{P}siteGrid$ctl04$editLink",
    ]


def test_no_sites_grid_is_a_page_error_naming_the_columns():
    with pytest.raises(PageNotUnderstoodError, match=r"no WebEx Sites pane .*'Host Name'"):
        find_sites(load("tms15_start.html"), DEFAULT_PROFILE)


@pytest.mark.parametrize(
    "spec",
    [
        "acme-eu.webex.com",
        "ACMEEU",
        "acmeeu",
        "https://acme-eu.webex.com/acmeeu",
        "acme-eu.webex.com/acmeeu",
        " https://ACME-EU.webex.com/acmeeu/ ",
        "https://acme-eu.webex.com",
    ],
)
def test_a_site_is_found_by_host_site_name_or_url(spec):
    rows = find_sites(load("tms15_webex_settings.html"), DEFAULT_PROFILE)
    assert match_site(rows, spec).host_name == "acme-eu.webex.com"


def test_an_unknown_site_lists_the_sites_there():
    rows = find_sites(load("tms15_webex_settings.html"), DEFAULT_PROFILE)
    with pytest.raises(SiteNotFoundError) as info:
        match_site(rows, "acme.webex")
    assert info.value.exit_code == ExitCode.SITE_NOT_FOUND
    listed = "acme.webex.com/acme, acme-eu.webex.com/acmeeu, acme-training.webex.com/training"
    assert listed in info.value.message
    with pytest.raises(SiteNotFoundError):
        match_site(rows, "https://acme.webex.com/other")


def test_two_sites_matching_is_an_error_listing_both():
    rows = find_sites(load("two_sites_match.html"), DEFAULT_PROFILE)
    with pytest.raises(AmbiguousMatchError) as info:
        match_site(rows, "meet")
    err = info.value
    assert err.exit_code == ExitCode.AMBIGUOUS
    assert "2 WebEx sites match --site 'meet': acme.webex.com/meet, globex.webex.com/meet" in err.message
    assert "https://acme.webex.com/meet" in (err.hint or "")
    assert match_site(rows, "https://globex.webex.com/meet").host_name == "globex.webex.com"


def test_the_site_form_is_read_and_checked_to_be_the_right_site():
    view = read_site_form(load("tms15_site_form.html"), row(), DEFAULT_PROFILE)
    assert set(view.fields) == {
        "host_name",
        "site_name",
        "bandwidth",
        "default_site",
        "use_global",
        "tsp_audio",
        "use_sso",
        "sso_certificate",
        "certificate_password",
        "partner_name",
        "account_name",
        "authn_context",
    }
    assert view.save is not None and view.save.name == P + "saveButton"
    assert view.value("partner_name") == "tms.acme.example"
    with pytest.raises(PageNotUnderstoodError, match=r"got that, expected acme-eu\.webex\.com/acmeeu"):
        read_site_form(load("tms15_site_form.html"), row("acme-eu.webex.com", "acmeeu"), DEFAULT_PROFILE)


def test_a_page_without_the_site_form_says_what_it_lacks():
    with pytest.raises(PageNotUnderstoodError, match="matches host_name"):
        read_site_form(load("tms15_webex_settings.html"), row(), DEFAULT_PROFILE)


def test_the_sites_save_button_is_chosen_over_the_global_one():
    profile = apply_overrides(
        DEFAULT_PROFILE,
        {
            "fields": {
                "host_name": "Host Name:",
                "site_name": "Site Name:",
                "sso_certificate": "Certificate:",
                "certificate_password": "Certificate Password:",
                "use_sso": "Use SSO:",
                "partner_name": "Partner Name:",
            }
        },
        "cells",
    )
    page = load("preceding_cell_site_form.html", "https://tms.example.com/tms/default.aspx?pageId=120")
    view = read_site_form(page, row(), profile)
    assert view.save is not None and view.save.name.endswith("$SaveButton")
    form = page.forms[0]
    for near in ("host_name", "sso_certificate"):
        save = pick_save_button(form, profile, view.fields[near])
        assert save is not None and save.name.endswith("$SaveButton"), near


def test_the_plan_changes_only_the_certificate_its_password_and_the_fields_asked_for():
    view = read_site_form(load("tms15_site_form_no_cert.html"), row("acme-eu.webex.com", "acmeeu"), DEFAULT_PROFILE)
    wanted = intent(enable_sso=True, partner_name="tms.acme.example")
    plan = build_plan(view, wanted)
    entries = [(e.name, e.value) for e in plan.submission.entries()]
    assert (P + "ssoCertificate", FileField("tms-cert.pfx", b"0\x82PFX", "application/x-pkcs12")) in entries
    assert (P + "ssoCertificatePassword", wanted.pfx_password) in entries
    assert (P + "useSso", "true") in entries and (P + "ssoPartnerName", "tms.acme.example") in entries
    assert (P + "saveButton", "Save") in entries and (P + "cancelButton", "Cancel") not in entries
    # Everything else goes back exactly as rendered.
    rendered = dict((e.name, e.value) for e in Submission.of(view.form, submitter=view.save).entries())
    for name, value in entries:
        changed = (P + "ssoCertificate", P + "ssoCertificatePassword", P + "useSso", P + "ssoPartnerName")
        if name not in changed:
            assert rendered[name] == value, name
    assert [r.line() for r in plan.rows] == [
        "Use Single Sign On: No (false) -> Yes (true)",
        "SSO Certificate: (empty) -> <file tms-cert.pfx, 5 bytes>",
        "Certificate Password: (empty) -> <hidden>",
        "SSO Partner Name: (empty) -> 'tms.acme.example'",
    ]
    assert plan.expected == {"use_sso": "true", "partner_name": "tms.acme.example"}
    assert P + "ssoPartnerName" not in plan.unchanged and P + "useSso" not in plan.unchanged
    assert plan.unchanged[P + "bandwidth"] == "Medium"
    assert plan.unchanged[P + "hostName"] == "acme-eu.webex.com"
    assert "Cnry-plan-pw-1" not in repr(plan) + repr(plan.submission) + repr(wanted)


def test_the_plan_refuses_what_the_page_cannot_take():
    page = load("tms15_site_form.html")
    view = read_site_form(page, row(), DEFAULT_PROFILE)
    not_multipart = parse_page(page_text("tms15_site_form.html").replace(' enctype="multipart/form-data"', ""), BASE)
    with pytest.raises(PageNotUnderstoodError, match="not multipart"):
        build_plan(read_site_form(not_multipart, row(), DEFAULT_PROFILE), intent())
    relabelled = apply_overrides(DEFAULT_PROFILE, {"fields": {"partner_name": "Partner"}}, "p")
    view2 = read_site_form(page, row(), relabelled)
    with pytest.raises(
        PageNotUnderstoodError, match=r"no field on the form of site acme\.webex\.com/acme matches partner_name"
    ):
        build_plan(view2, intent(partner_name="x"))
    wrong_kind = apply_overrides(
        DEFAULT_PROFILE, {"fields": {"sso_certificate": "Host Name", "host_name": {"name": "*$hostName"}}}, "p"
    )
    with pytest.raises(PageNotUnderstoodError, match="expected a file input"):
        build_plan(read_site_form(page, row(), wrong_kind), intent())
    no_save = apply_overrides(DEFAULT_PROFILE, {"save_labels": ["Apply"]}, "p")
    with pytest.raises(PageNotUnderstoodError, match="no Save button"):
        build_plan(read_site_form(page, row(), no_save), intent())
    assert build_plan(view, intent()).rows  # the default profile takes it


def page_text(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("The specified network password is not correct.", "AES-256"),
        ("The private key does not match the certificate.", "tmsclient bundle"),
        ("The certificate does not have a private key.", "with its private key"),
        ("The certificate has expired.", "renewed certificate"),
        ("Something TMS says", "nothing was changed"),
    ],
)
def test_rejections_carry_tms_words_and_a_fix(text, hint):
    err = rejection(row(), [text, "second line"])
    assert isinstance(err, RejectedByTmsError) and err.exit_code == ExitCode.REJECTED
    assert err.message == f"TMS refused the Save of site acme.webex.com/acme: {text}"
    assert hint in (err.hint or "") and err.details == ("TMS also says: second line",)


class FakeSession:
    """Answers POSTs from a script of results or exceptions, and records each call."""

    def __init__(self, *script):
        self.script = list(script)
        self.calls = []

    origin = "https://tms.example"

    def post(self, url, fields, files=(), *, multipart, what, handshake=False, source=None, changes_tms=False):
        self.calls.append(
            {"url": url, "fields": fields, "multipart": multipart, "handshake": handshake, "source": source}
        )
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def _save_plan():
    view = read_site_form(load("tms15_site_form.html"), row(), DEFAULT_PROFILE)
    return build_plan(view, intent())


def test_a_401_on_a_post_is_sent_once_more_with_its_own_login_and_never_a_third_time():
    session = FakeSession(SessionExpiredError("401"), AuthenticationError("refused again"))
    driver = Driver(session, DEFAULT_PROFILE)  # type: ignore[arg-type]
    with pytest.raises(AuthenticationError, match="refused again"):
        driver.save(_save_plan())
    assert [c["handshake"] for c in session.calls] == [False, True]
    assert driver.posts_refused_with_401 == 1 and driver.post_handshake


def test_a_broken_connection_or_a_500_is_never_posted_again():
    session = FakeSession(PostInterruptedError("broke", body_may_have_arrived=True))
    driver = Driver(session, DEFAULT_PROFILE)  # type: ignore[arg-type]
    with pytest.raises(PostInterruptedError):
        driver.save(_save_plan())
    assert len(session.calls) == 1


def test_the_save_goes_out_as_multipart_with_the_file_as_a_part_in_document_order():
    page = (PAGES / "tms15_site_saved.html").read_text()
    session = FakeSession(HttpResult("POST", BASE, 200, page, {}, 0.01))
    driver = Driver(session, DEFAULT_PROFILE)  # type: ignore[arg-type]
    driver.save(_save_plan())
    (call,) = session.calls
    assert call["multipart"] is True and call["url"] == BASE
    names = [name for name, _ in call["fields"]]
    assert names.index(P + "ssoCertificate") < names.index(P + "ssoCertificatePassword")
    file_part = dict(call["fields"])[P + "ssoCertificate"]
    assert file_part == ("tms-cert.pfx", b"0\x82PFX", "application/x-pkcs12")
    assert isinstance(dict(call["fields"])[P + "ssoCertificatePassword"], Secret)


def test_tms_error_words_in_the_save_answer_are_a_rejection():
    page = (PAGES / "tms15_site_error.html").read_text()
    driver = Driver(FakeSession(HttpResult("POST", BASE, 200, page, {}, 0.01)), DEFAULT_PROFILE)  # type: ignore[arg-type]
    with pytest.raises(RejectedByTmsError, match="The specified network password is not correct"):
        driver.save(_save_plan())
    denied = (PAGES / "access_denied.html").read_text()
    driver = Driver(FakeSession(HttpResult("POST", BASE, 200, denied, {}, 0.01)), DEFAULT_PROFILE)  # type: ignore[arg-type]
    with pytest.raises(NotAdministratorError):
        driver.save(_save_plan())


def test_a_save_that_tms_redirects_to_another_origin_may_have_been_applied():
    sent_elsewhere = OffOriginError(
        "TMS answered the Save with 302", origin="https://tms.example:8443", body_may_have_arrived=True
    )
    driver = Driver(FakeSession(sent_elsewhere), DEFAULT_PROFILE)  # type: ignore[arg-type]
    with pytest.raises(OutcomeUnknownError) as info:
        driver.save(_save_plan())
    err = info.value
    assert err.exit_code == ExitCode.OUTCOME_UNKNOWN and err.__cause__ is sent_elsewhere
    assert "https://tms.example:8443, another origin" in err.message and "unknown" in err.message
    assert "tmsclient verify" in (err.hint or "") and "--url" not in (err.hint or "")
    # Refused before sending (the page's own action elsewhere): nothing reached TMS, so it stays that error.
    refused = OffOriginError("the form's action points to ...", origin="https://evil.example")
    driver = Driver(FakeSession(refused), DEFAULT_PROFILE)  # type: ignore[arg-type]
    with pytest.raises(OffOriginError) as again:
        driver.save(_save_plan())
    assert again.value is refused


def test_the_save_names_where_its_url_comes_from_for_the_origin_check():
    plan = _save_plan()
    page = (PAGES / "tms15_site_saved.html").read_text()
    session = FakeSession(HttpResult("POST", BASE, 200, page, {}, 0.01))
    Driver(session, DEFAULT_PROFILE).save(plan)  # type: ignore[arg-type]
    assert session.calls[0]["source"] == "the form's action (for the Save of site acme.webex.com/acme)"
    html = (
        (PAGES / "tms15_site_form.html")
        .read_text()
        .replace(f'name="{P}saveButton"', f'name="{P}saveButton" formaction="https://tms.example.com:8443/x"')
    )
    view = read_site_form(parse_page(html, BASE, status=200), row(), DEFAULT_PROFILE)
    sub = build_plan(view, intent()).submission
    assert sub.url == "https://tms.example.com:8443/x"
    assert submission_source(sub, "the Save") == "the formaction of the button 'Save' (for the Save)"
