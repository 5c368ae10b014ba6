"""The client's page profile: tolerant labels, the TOML override file, and reading pages through it."""

from __future__ import annotations

import dataclasses

import pytest

from tests.helpers.paths import PAGES
from tmsclient.errors import AmbiguousMatchError, ConfigError, InputFileError, PageNotUnderstoodError
from tmsclient.tms.pageprofile import (
    DEFAULT_PROFILE,
    GLOBAL_FIELDS,
    SITE_FIELDS,
    FieldLocator,
    LocatedField,
    apply_overrides,
    bool_state,
    certificate_details,
    choice_value,
    display_label,
    is_access_denied,
    label_matches,
    load_profile,
    locate_field,
    normalize_label,
    page_errors,
    page_info,
    parse_profile_text,
    render_profile,
    suggest_profile,
)
from tmsclient.tms.webforms import Field, Form, Page, parse_page

BASE = "https://tms.example.com/tms/default.aspx?pageId=83"


def located(form: Form, key: str, locator: FieldLocator) -> LocatedField:
    """``locate_field`` with the field required: it finds one or raises."""
    found = locate_field(form, key, locator)
    assert found is not None, f"locate_field returned nothing for {key}"
    return found


def field(form: Form, name: str) -> Field:
    found = form.field(name)
    assert found is not None, f"no field {name}"
    return found


def load(name: str) -> Page:
    return parse_page((PAGES / name).read_text(encoding="utf-8"), BASE, status=200)


@pytest.mark.parametrize(
    "seen",
    [
        "Host Name",
        "host name",
        "HOST NAME:",
        "Host Name :",
        "* Host Name",
        "Host Name *",
        "Host\u00a0Name",
        "  Host \t\n Name  ",
        "Host\u200b Name",
        "\u200eHost Name\u200e",
        "Host Name\uff1a",
        "Ｈost Name",
    ],
)
def test_labels_match_tolerantly(seen):
    assert label_matches("Host Name", seen)
    assert label_matches(["Other", "Host Name:"], seen)


@pytest.mark.parametrize("seen", ["Host", "Host Names", "Hostname", "Site Name", "", "*", ":"])
def test_labels_do_not_match_other_words(seen):
    assert not label_matches("Host Name", seen)


def test_normalize_label():
    assert normalize_label(" *SSO  Certificate: ") == "sso certificate"


def test_every_default_field_is_found_on_the_tms15_page():
    form = load("tms15_site_form.html").forms[0]
    found = {
        key: located(form, key, DEFAULT_PROFILE.site_locator(key)).field.name.rsplit("$", 1)[1] for key in SITE_FIELDS
    }
    assert found == {
        "host_name": "hostName",
        "site_name": "siteName",
        "bandwidth": "bandwidth",
        "default_site": "defaultSite",
        "use_global": "useGlobal",
        "tsp_audio": "tspAudio",
        "use_sso": "useSso",
        "sso_certificate": "ssoCertificate",
        "certificate_password": "ssoCertificatePassword",
        "partner_name": "ssoPartnerName",
        "account_name": "ssoAccountName",
        "authn_context": "ssoAuthnContext",
    }
    settings = load("tms15_webex_settings.html").forms[0]
    for key in GLOBAL_FIELDS:
        assert locate_field(settings, key, DEFAULT_PROFILE.global_fields[key]) is not None


def test_a_label_matching_two_fields_lists_both():
    form = load("label_two_fields.html").forms[0]
    with pytest.raises(AmbiguousMatchError) as info:
        locate_field(form, "partner_name", DEFAULT_PROFILE.site_locator("partner_name"))
    assert "$ssoPartnerName)" in info.value.message and "$ssoPartnerName2)" in info.value.message
    assert "name =" in (info.value.hint or "")


def test_a_name_glob_picks_one_of_two_fields():
    form = load("label_two_fields.html").forms[0]
    found = located(form, "partner_name", FieldLocator(name="*$ssoPartnerName2"))
    assert found.field.name.endswith("ssoPartnerName2") and "name" in found.how
    by_id = located(form, "partner_name", FieldLocator(id="*_ssoPartnerName"))
    assert by_id.field.name.endswith("ssoPartnerName")


def test_a_missing_label_names_the_field_the_fix_and_the_labels_seen():
    form = load("label_for_site_form.html").forms[0]
    only = FieldLocator(labels=("Use Single Sign On",))
    assert locate_field(form, "use_sso", only, required=False) is None
    with pytest.raises(PageNotUnderstoodError) as info:
        locate_field(form, "use_sso", only)
    err = info.value
    assert "use_sso" in err.message and "'Use Single Sign On'" in err.message
    assert "--page-profile" in (err.hint or "") and "'Single Sign On enabled'" in (err.hint or "")


def test_profile_file_overrides_per_field_and_keeps_the_rest(tmp_path):
    path = tmp_path / "labelfor.toml"
    path.write_text(
        """
name = "labelfor"
[fields]
host_name = "Host name"
use_sso = ["Single Sign On enabled"]
sso_certificate = { labels = ["Certificate file (.pfx)"] }
certificate_password = { name = "*$uxCertificatePassword" }
partner_name = { id = "*_uxPartnerName" }
[certificate]
thumbprint = "Thumbprint"
expires = ["Valid until"]
subject = "Subject"
[page]
access_denied = ["Keine Berechtigung"]
""",
        encoding="utf-8",
    )
    profile = load_profile(path)
    assert profile.name == "labelfor" and profile.source == str(path)
    assert profile.site_locator("site_name") == DEFAULT_PROFILE.site_locator("site_name")
    assert profile.site_locator("host_name").labels == ("Host name",)
    assert profile.site_locator("certificate_password") == FieldLocator(name="*$uxCertificatePassword")
    assert profile.menu_path == DEFAULT_PROFILE.menu_path
    assert profile.access_denied == ("Keine Berechtigung",)
    assert "fields.use_sso" in profile.overridden and "certificate.thumbprint" in profile.overridden
    page = parse_page((PAGES / "label_for_site_form.html").read_text(), BASE)
    form = page.forms[0]
    for key in ("host_name", "site_name", "use_sso", "sso_certificate", "certificate_password", "partner_name"):
        assert locate_field(form, key, profile.site_locator(key)) is not None, key
    details = certificate_details(page, profile)
    assert details.thumbprint == "3b 7e 0c 5a 9d 41 f2 6b 8c 0e 1a 7d 5f 33 92 c4 e6 b1 8a 07"
    assert details.expires == "2027-11-26 12:00:00Z" and details.subject == "CN=tms.acme.example"
    assert details.shown


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("menu_path = []", "empty list"),
        ("bogus = 1", "unknown key 'bogus'"),
        ("[fields]\nnot_a_field = 'x'", "not a field tmsclient knows"),
        ("[fields]\nhost_name = 3", "got a number"),
        ("[fields]\nhost_name = { label = 'x', colour = 'red' }", "unknown key 'colour'"),
        ("[fields]\nhost_name = {}", "empty locator"),
        ("[certificate]\nissuer = 'x'", "not a certificate detail"),
        ("[page]\nerrors = []", "not a page setting"),
        ("name = ''", "non-empty string"),
        ("this is = not toml", "not valid TOML"),
    ],
)
def test_bad_profile_files_are_config_errors(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_profile_text(text, "p.toml")


def test_unreadable_profile_files_are_input_file_errors(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        load_profile(tmp_path / "missing.toml")
    with pytest.raises(InputFileError, match="directory"):
        load_profile(tmp_path)
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'name = "caf\xe9"')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_profile(bad)


def test_rendered_profile_loads_back_to_the_same_profile():
    custom = parse_profile_text(
        """
[fields]
partner_name = { labels = ["Partner \\"quoted\\" name"], name = "*$p" }
[certificate]
installed = []
""",
        "custom.toml",
    )
    text = render_profile(custom, comments={"partner_name": "seen: 'Partner name'"}, header=["made by a test"])
    assert text.startswith("# made by a test\n")
    assert "# seen: 'Partner name'" in text
    again = parse_profile_text(text, "again.toml")
    for attr in (
        "menu_path",
        "site_fields",
        "global_fields",
        "certificate",
        "save_labels",
        "yes_labels",
        "access_denied",
        "error_ids",
        "validation_summary_ids",
        "info_ids",
        "host_column",
    ):
        assert getattr(again, attr) == getattr(custom, attr), attr
    default_again = parse_profile_text(render_profile(DEFAULT_PROFILE), "d.toml")
    assert default_again.site_fields == DEFAULT_PROFILE.site_fields


def test_page_errors_from_the_error_label():
    page = load("tms15_site_error.html")
    assert page_errors(page, DEFAULT_PROFILE) == ("The specified network password is not correct.",)
    assert page_errors(load("tms15_site_form.html"), DEFAULT_PROFILE) == ()
    assert page_info(load("tms15_site_saved.html"), DEFAULT_PROFILE) == ("Settings saved.",)
    assert page_errors(load("tms15_site_saved.html"), DEFAULT_PROFILE) == ()


def test_page_errors_from_a_validation_summary_skip_hidden_ones_and_bare_markers():
    errors = page_errors(load("validation_summary.html"), DEFAULT_PROFILE)
    assert len(errors) == 1
    assert "Host Name is required." in errors[0]
    assert "A certificate password is required" in errors[0]
    assert "hidden summary text" not in " ".join(errors)
    assert "Site Name is required." not in " ".join(errors)


def test_page_errors_from_an_aspnet_error_page():
    (error,) = page_errors(load("aspnet_error_500.html"), DEFAULT_PROFILE)
    assert error.startswith("Invalid postback or callback argument.")
    assert "System.ArgumentException" in error


def test_access_denied_page_is_recognised_and_others_are_not():
    assert is_access_denied(load("access_denied.html"), DEFAULT_PROFILE)
    for name in ("tms15_webex_settings.html", "tms15_site_form.html", "tms15_start.html", "aspnet_error_500.html"):
        assert not is_access_denied(load(name), DEFAULT_PROFILE), name
    german = apply_overrides(DEFAULT_PROFILE, {"page": {"access_denied": ["Zugriff verweigert"]}}, "x")
    assert not is_access_denied(load("access_denied.html"), german)


def test_certificate_details_in_both_modes_and_layouts():
    summary = certificate_details(load("tms15_site_form.html"), DEFAULT_PROFILE)
    assert summary.thumbprint == "3B7E0C5A9D41F26B8C0E1A7D5F3392C4E6B18A07"
    assert summary.expires == "2027-11-26 12:00:00Z"
    assert summary.subject == "O=ACME Corp, CN=tms.acme.example"
    assert summary.installed is None and summary.shown
    installed = certificate_details(load("tms15_site_form_installed.html"), DEFAULT_PROFILE)
    assert (installed.thumbprint, installed.expires, installed.installed) == (None, None, "Yes")
    assert not installed.shown
    assert certificate_details(load("tms15_site_form_no_cert.html"), DEFAULT_PROFILE).installed == "No"
    cells = apply_overrides(
        DEFAULT_PROFILE,
        {"certificate": {"thumbprint": "Thumbprint", "expires": "Expires", "subject": "Subject"}},
        "cells",
    )
    got = certificate_details(load("preceding_cell_site_form.html"), cells)
    assert got.expires == "11/26/2027 12:00:00 PM" and got.thumbprint is not None and got.thumbprint.startswith("3B7E")


def test_two_certificate_rows_with_one_label_are_ambiguous():
    with pytest.raises(AmbiguousMatchError, match="'AA'; 'BB'"):
        certificate_details(load("label_two_fields.html"), DEFAULT_PROFILE)


def test_yes_no_choices_and_states():
    form = load("tms15_site_form.html").forms[0]
    sso = located(form, "use_sso", DEFAULT_PROFILE.site_locator("use_sso")).field
    assert choice_value(sso, True, DEFAULT_PROFILE) == "true"
    assert choice_value(sso, False, DEFAULT_PROFILE) == "false"
    assert bool_state(form, sso, DEFAULT_PROFILE) is True
    off = load("tms15_site_form_no_cert.html").forms[0]
    assert bool_state(off, field(off, sso.name), DEFAULT_PROFILE) is False
    bandwidth = field(form, "ctl00$uxContent$ctl01$bandwidth")
    with pytest.raises(PageNotUnderstoodError, match="offers no Yes choice"):
        choice_value(bandwidth, True, DEFAULT_PROFILE)
    boxes = parse_page(
        "<form method=post><input type=checkbox name=c checked>"
        "<select name=s><option value=0>Off</option><option value=1 selected>On</option></select>"
        "<input type=radio name=r value=1><input type=radio name=r value=0></form>",
        BASE,
    ).forms[0]
    assert bool_state(boxes, field(boxes, "c"), DEFAULT_PROFILE) is True
    assert bool_state(boxes, field(boxes, "s"), DEFAULT_PROFILE) is True
    assert bool_state(boxes, field(boxes, "r"), DEFAULT_PROFILE) is None
    assert choice_value(field(boxes, "r"), True, DEFAULT_PROFILE) == "1"  # by value when labels say nothing


def test_display_label_drops_colons_and_markers():
    assert display_label("Host Name: *") == "Host Name"
    assert display_label("Partner\u00a0Name:") == "Partner Name"
    assert display_label(":") == ":"


def test_suggested_profile_keeps_what_is_found_and_guesses_the_rest():
    page = load("label_for_site_form.html")
    # The built-in profile's alternates find most of this page; with only each field's first label the
    # suggestion has something to guess.
    narrow = dataclasses.replace(
        DEFAULT_PROFILE,
        site_fields={k: FieldLocator(labels=v.labels[:1]) for k, v in DEFAULT_PROFILE.site_fields.items()},
        certificate={k: v[:1] for k, v in DEFAULT_PROFILE.certificate.items()},
    )
    profile, notes = suggest_profile(narrow, site_page=page, site_form=page.forms[0])
    assert notes["host_name"].startswith("found: 'Host name'")
    assert profile.site_fields["host_name"] == narrow.site_fields["host_name"]
    assert notes["sso_certificate"].startswith("GUESSED from 'Certificate file (.pfx)'")
    assert profile.site_fields["sso_certificate"].labels == ("Certificate file (.pfx)",)
    assert profile.site_fields["certificate_password"].labels == ("Password",)  # the only password box
    assert profile.site_fields["use_sso"].labels == ("Single Sign On enabled",)  # from the name uxUseSso
    assert profile.site_fields["partner_name"].labels == ("Partner name",)
    assert notes["account_name"].startswith("NOT FOUND")
    assert profile.certificate["thumbprint"] == ("Thumbprint",)
    assert profile.certificate["expires"] == ("Valid until",)
    assert notes["certificate.installed"] == "not shown on the site's page"
    # The suggestion finds every field it guessed, on the page it came from.
    form = page.forms[0]
    for key in (
        "host_name",
        "site_name",
        "bandwidth",
        "use_sso",
        "sso_certificate",
        "certificate_password",
        "partner_name",
    ):
        assert locate_field(form, key, profile.site_locator(key)) is not None, key


def test_suggestion_uses_a_name_glob_when_the_label_is_not_unique():
    page = load("label_two_fields.html")
    profile, notes = suggest_profile(DEFAULT_PROFILE, site_page=page, site_form=page.forms[0])
    assert notes["partner_name"].startswith("AMBIGUOUS with the current labels: 2 fields")
    assert "GUESSED from 'SSO Partner Name' (text ctl00$uxContent$ctl01$ssoPartnerName)" in notes["partner_name"]
    assert profile.site_fields["partner_name"] == FieldLocator(name="*$ssoPartnerName")
    located = locate_field(page.forms[0], "partner_name", profile.site_locator("partner_name"))
    assert located is not None and located.field.name.endswith("$ssoPartnerName")
