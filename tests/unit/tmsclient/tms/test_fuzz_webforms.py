"""Fuzzing the page parser, the form builder and the page-profile matching with hypothesis.

The contract under test: whatever a server sends, every call of tmsclient's page code returns a result or
raises tmsclient's own error (a ``TmsClientError``); never anything else (a KeyError, an IndexError, an
AssertionError, a RecursionError, a UnicodeError ...), because anything else reaches the user as exit 70.

Inputs: WebForms-like pages built from a grammar (forms, nested and duplicate forms, controls with
duplicate names and odd types, broken nesting and stray end tags, weird attributes and URLs, entities,
NULs and lone surrogates), the real fixture pages mutated (slices deleted, duplicated, moved, truncated;
bytes flipped; decoded under odd encodings), pages with view states of up to 3 MB, and random page-profile
TOML. Each page goes through the parser, the form builder (``Submission.of``, ``Submission.set/check/
entries/changes``, ``encode_form``), the driver's pure functions (menu, sites grid, site match,
site form, plan) and the profile matching (labels, errors, access denied, certificate details, suggestions).

Hypothesis profiles, registered here and used by this module only (other suites keep their own settings):

- ``ci`` (the default): deterministic (``derandomize=True``), 40 examples per test, no deadline: seconds;
- ``long``: ``TMSCLIENT_FUZZ=long python -m pytest tests/evidence/test_fuzz_webforms.py``: random seeds,
  5,000 examples per test (500 for the huge view states), for a run on demand (tens of minutes).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.helpers.paths import PAGES
from tests.helpers.pfx import UTC
from tmsclient.credentials import Secret
from tmsclient.errors import PageNotUnderstoodError, TmsClientError
from tmsclient.tms import driver, pageprofile
from tmsclient.tms.driver import UploadIntent
from tmsclient.tms.pageprofile import (
    CERT_DETAILS,
    DEFAULT_PROFILE,
    GLOBAL_FIELDS,
    SITE_FIELDS,
    display_label,
    label_matches,
    normalize_label,
    parse_profile_text,
)
from tmsclient.tms.verifier import Expectation, verify_site
from tmsclient.tms.webforms import FileField, Submission, clean_text, encode_form, parse_page

FIXTURE_PAGES = {p.name: p.read_text(encoding="utf-8") for p in sorted(PAGES.glob("*.html"))}
URL = "https://tms.example.com/tms/default.aspx?pageId=83"
_HEALTH = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.large_base_example,
]
settings.register_profile(
    "ci", derandomize=True, max_examples=40, deadline=None, suppress_health_check=_HEALTH, print_blob=True
)
settings.register_profile(
    "long", derandomize=False, max_examples=5000, deadline=None, suppress_health_check=_HEALTH, print_blob=True
)
#: $TMSCLIENT_FUZZ picks the profile: ci (default) or long.
FUZZ_PROFILE = os.environ.get("TMSCLIENT_FUZZ") or "ci"
FUZZ = settings.get_profile(FUZZ_PROFILE)
#: The huge-view-state test parses megabytes per example: fewer of them.
FUZZ_HUGE = settings(FUZZ, max_examples=max(4, FUZZ.max_examples // 10))

T = TypeVar("T")


def ours(call: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """Run one call: a result, or None for tmsclient's own error; anything else propagates (and fails)."""
    try:
        return call(*args, **kwargs)
    except TmsClientError:
        return None


# ------------------------------------------------------------------------------------------- strategies

NAMES = st.sampled_from(
    [
        "a",
        "a",
        "x",
        "",
        "__EVENTTARGET",
        "__EVENTARGUMENT",
        "__VIEWSTATE",
        "__EVENTVALIDATION",
        "_charset_",
        "ctl00$uxContent$ctl01$hostName",
        "ctl00$uxContent$ctl01$siteName",
        "ctl00$uxContent$ctl01$saveButton",
        "ctl00$uxContent$ctl01$ssoCertificate",
        "ctl00$uxContent$ctl01$ssoCertificatePassword",
        "ctl00$uxContent$ctl01$useSso",
        "ctl00$uxContent$ctl01$bandwidth",
        "name with space",
        "ünï",
        "a.x",
    ]
)
TYPES = st.sampled_from(
    [
        "text",
        "hidden",
        "password",
        "file",
        "submit",
        "image",
        "reset",
        "button",
        "radio",
        "checkbox",
        "select",
        "TEXT",
        "Submit",
        "",
        "bogus",
        "number",
        "email",
        "search",
        "date",
        "datetime-local",
        "color",
        "range",
    ]
)
TEXTS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "Host Name",
            "Site Name",
            "SSO Certificate",
            "Certificate Password",
            "Use Single Sign On",
            "Save",
            "Edit",
            "Yes",
            "No",
            "Access Denied",
            "WebEx Settings",
            "Administrative Tools",
            "Configuration",
            "Certificate Thumbprint",
            "Certificate Expires",
            "&amp;",
            "&#0;",
            "&#x110000;",
            "&bogus;",
            "<",
            ">",
            "\x00",
            "\ud800",
            "\u200e",
            "\u00a0*:",
            "🔑",
            "a\r\nb",
            "]]>",
            "<!--",
        ]
    ),
)
URLS = st.sampled_from(
    [
        "",
        "#",
        "./default.aspx?pageId=83",
        "/tms/default.aspx?pageId=90&siteId=2",
        "javascript:void(0)",
        "javascript:__doPostBack('ctl00$uxContent$ctl01$siteGrid$ctl02$editLink','')",
        'javascript:__doPostBack("a","b")',
        "javascript:WebForm_DoPostBackWithOptions(new WebForm_PostBackOptions('x', '', true, '', '', false, true))",
        "http://[::1",
        "https://[zz]/x",
        "//evil.example/",
        "%zz",
        "https://a..b/",
        "mailto:x@y",
        "data:text/html,<form>",
        "http://tms.example.com:99999/",
        "\x00",
        "ftp://x",
    ]
)
ATTRS = st.dictionaries(
    st.sampled_from(
        [
            "name",
            "id",
            "type",
            "value",
            "for",
            "form",
            "disabled",
            "readonly",
            "checked",
            "selected",
            "multiple",
            "size",
            "hidden",
            "style",
            "class",
            "href",
            "action",
            "method",
            "enctype",
            "formaction",
            "formmethod",
            "formenctype",
            "formnovalidate",
            "dirname",
            "label",
            "src",
            "colspan",
            "rowspan",
            "onclick",
            "accept-charset",
            "NAME",
            "Type",
        ]
    ),
    st.one_of(
        NAMES,
        TYPES,
        TEXTS,
        URLS,
        st.sampled_from(
            [
                "display:none",
                "visibility: hidden !important",
                "multipart/form-data",
                "POST",
                "get",
                "dialog",
                "-1",
                "0",
                "99999999999999999999",
                "ErrorLabel",
                "ctl00_uxContent_uxFeedback_uxErrorLabel",
            ]
        ),
    ),
    max_size=6,
)
TAGS = st.sampled_from(
    [
        "form",
        "input",
        "select",
        "option",
        "optgroup",
        "textarea",
        "button",
        "label",
        "fieldset",
        "legend",
        "table",
        "tbody",
        "thead",
        "tr",
        "td",
        "th",
        "a",
        "span",
        "div",
        "h2",
        "h1",
        "script",
        "style",
        "datalist",
        "br",
        "p",
        "ul",
        "li",
        "img",
        "template",
        "noscript",
        "title",
        "head",
        "body",
        "html",
        "iframe",
        "base",
        "b",
        "font",
        "frameset",
        "svg",
        "math",
        "custom-el",
        "INPUT",
        "Form",
    ]
)


def _attr_text(attrs: dict[str, str]) -> str:
    parts = []
    for k, v in attrs.items():
        quote = '"' if '"' not in v else "'"
        parts.append(
            f" {k}" if v == "" and k in ("disabled", "checked", "selected", "multiple") else f" {k}={quote}{v}{quote}"
        )
    return "".join(parts)


@st.composite
def html_nodes(draw: st.DrawFn, depth: int = 0) -> str:
    """One node of a WebForms-ish document: text, or an element with children, its end tag maybe missing."""
    if depth > 6 or draw(st.integers(0, 4)) == 0:
        return draw(TEXTS)
    tag = draw(TAGS)
    attrs = draw(ATTRS)
    children = "".join(draw(st.lists(html_nodes(depth + 1), max_size=4)))
    end = draw(st.sampled_from([f"</{tag}>", f"</{tag}>", f"</{tag}>", "", "</form>", "</td></tr>", "</table>"]))
    return f"<{tag}{_attr_text(attrs)}>{children}{end}"


@st.composite
def grammar_pages(draw: st.DrawFn) -> str:
    body = "".join(draw(st.lists(html_nodes(), min_size=1, max_size=6)))
    if draw(st.booleans()):
        hidden = "".join(
            f'<input type="hidden" name="{n}" id="{n}" value="{draw(TEXTS)}" />'
            for n in ("__EVENTTARGET", "__EVENTARGUMENT", "__VIEWSTATE", "__EVENTVALIDATION")
        )
        body = f'<form method="post" action="{draw(URLS)}" id="aspnetForm">{hidden}{body}</form>'
    return f"<html><head><title>{draw(TEXTS)}</title></head><body>{body}</body></html>"


@st.composite
def mutated_pages(draw: st.DrawFn) -> str:
    """A real fixture page with a few slices deleted, duplicated, moved or replaced, or truncated."""
    text = FIXTURE_PAGES[draw(st.sampled_from(sorted(FIXTURE_PAGES)))]
    for _ in range(draw(st.integers(1, 6))):
        if not text:
            break
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 400)))
        op = draw(st.sampled_from(["delete", "duplicate", "insert", "move", "truncate", "replace"]))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif op == "insert":
            text = text[:i] + draw(html_nodes()) + text[i:]
        elif op == "move":
            piece, rest = text[i:j], text[:i] + text[j:]
            k = draw(st.integers(0, len(rest)))
            text = rest[:k] + piece + rest[k:]
        elif op == "truncate":
            text = text[:i]
        else:
            text = text[:i] + draw(TEXTS) + text[j:]
    return text


def _pages() -> st.SearchStrategy[str]:
    return st.one_of(grammar_pages(), mutated_pages(), st.sampled_from(sorted(FIXTURE_PAGES.values())))


# ------------------------------------------------------------------------------------------- exercising


def exercise_form_builder(page: Any, *, encode: bool = True) -> None:
    for form in page.forms[:3]:
        subs = [ours(Submission.of, form)]
        subs += [ours(Submission.of, form, submitter=b) for b in form.submit_buttons()[:3]]
        subs += [ours(Submission.of, form, postback=lk.postback) for lk in page.links[:3] if lk.postback]
        by_name = form.submit_buttons()[0].name if form.submit_buttons() else None
        if by_name:
            subs.append(ours(Submission.of, form, submitter=by_name))
        for sub in [s for s in subs if s is not None][:3]:
            for fld in form.fields[:12]:
                ours(form.current_value, fld.name)
                pfx = FileField("x.pfx", b"\x30\x82", "application/x-pkcs12")
                values: list[Any] = [o.value for o in fld.options[:3]] + [
                    "text",
                    "",
                    Secret("Fuzz-secret-1", "test"),
                    pfx,
                    None,
                    ["a", "b"],
                    ("Low",),
                ]
                for value in values:
                    changed = ours(sub.set, fld.name, value)
                    if changed is not None:
                        sub = changed
                ticked = ours(sub.check, fld.name, True)
                if ticked is not None:
                    sub = ticked
            entries = ours(sub.entries) or ()
            ours(sub.changes)
            repr(sub)
            fields = []
            for entry in entries:
                v = entry.value
                fields.append((entry.name, (v.filename, v.content, v.content_type) if isinstance(v, FileField) else v))
            if encode:
                ours(encode_form, fields, multipart=sub.is_multipart)
            _ = (sub.method, sub.url, sub.enctype)


def exercise_driver_and_profile(page: Any, profile: Any) -> None:
    ours(pageprofile.page_errors, page, profile)
    ours(pageprofile.page_info, page, profile)
    ours(pageprofile.is_access_denied, page, profile)
    ours(pageprofile.certificate_details, page, profile)
    ours(driver.find_menu_link, page, profile)
    ours(
        pageprofile.suggest_profile,
        profile,
        settings=page,
        site_page=page,
        site_form=page.forms[0] if page.forms else None,
    )
    for form in page.forms[:3]:
        for key, locator in list(profile.site_fields.items()):
            located = ours(pageprofile.locate_field, form, key, locator, required=False)
            if located is not None:
                ours(pageprofile.bool_state, form, located.field, profile)
                ours(pageprofile.choice_value, located.field, True, profile)
    rows = ours(driver.find_sites, page, profile) or ()
    # ("https://[::1" is left out: match_site raises ValueError on it, pinned in test_bad_inputs.py.)
    for wanted in ("acme", "acme.webex.com", "https://acme.webex.com/acme", "", "/", "https://acme:99999/x"):
        ours(driver.match_site, rows, wanted)
    fake_row = driver.SiteRow("acme.webex.com", "acme", None, None, None, None)
    for row in (*rows[:3], fake_row):
        view = ours(driver.read_site_form, page, row, profile)
        if view is None:
            continue
        intent = UploadIntent(
            "tms.pfx",
            b"\x30\x82\x01",
            Secret("Fuzz-pfx-pw-2", "test"),
            enable_sso=True,
            partner_name="p.example",
            account_name="a",
            authn_context="c",
        )
        plan = ours(driver.build_plan, view, intent)
        expectation = Expectation(
            thumbprint_sha1="AB" * 20,
            not_after=dt.datetime(2030, 1, 1, tzinfo=UTC),
            fields=dict(plan.expected) if plan else {"partner_name": "p.example"},
            unchanged=dict(plan.unchanged) if plan else {},
        )
        ours(verify_site, view, expectation)


def exercise(html: str | bytes, *, encoding: str | None = None, profile: Any = None) -> None:
    page = ours(parse_page, html, URL, status=200, encoding=encoding)
    if page is None:
        return
    page.element_by_id("ctl00_uxContent_uxFeedback_uxErrorLabel")
    page.link_with_postback("ctl00$uxContent$ctl01$siteGrid$ctl02$editLink")
    # A lone surrogate can only be in a page given as str by the caller: the session decodes what TMS sends
    # with errors replaced, and bs4 maps &#xD800; to U+FFFD. Such a page is still parsed and matched, but its
    # values are not encoded into a request body (UTF-8 cannot encode them).
    surrogates = isinstance(html, str) and any("\ud800" <= ch <= "\udfff" for ch in html)
    exercise_form_builder(page, encode=not surrogates)
    exercise_driver_and_profile(page, profile or DEFAULT_PROFILE)


# ------------------------------------------------------------------------------------------------ tests


@FUZZ
@given(grammar_pages())
def test_grammar_pages(html: str) -> None:
    exercise(html)


@FUZZ
@given(mutated_pages())
def test_mutated_fixture_pages(html: str) -> None:
    exercise(html)


@FUZZ
@given(
    _pages(),
    st.sampled_from(["utf-8", "utf-16", "utf-16-le", "latin-1", "cp1252", "ascii"]),
    st.sampled_from([None, "utf-8", "utf-16", "latin-1", "no-such-encoding", "", "utf-32"]),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8),
)
def test_odd_encodings_and_flipped_bytes(
    html: str, written_as: str, read_as: str | None, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(html.encode(written_as, errors="replace"))
    for pos, byte in flips:
        if data:
            data[pos % len(data)] = byte
    exercise(bytes(data), encoding=read_as)


@FUZZ_HUGE
@example(2_000_000, "A", False)
@example(3_000_000, "/wEP", True)
@given(
    st.sampled_from([200_000, 2_000_000, 3_000_000]),
    st.sampled_from(["A", "/wEP", "&amp;", "<", '"', "\u00e9"]),
    st.booleans(),
)
def test_huge_view_states(size: int, unit: str, broken_quote: bool) -> None:
    page = FIXTURE_PAGES["tms15_site_form.html"]
    start = page.index('id="__VIEWSTATE" value="') + len('id="__VIEWSTATE" value="')
    end = page.index('"', start)
    state = (unit * (size // len(unit) + 1))[:size]
    if broken_quote:
        state = state[: size // 2] + '"' + state[size // 2 :]  # the attribute ends early, the rest is junk
    exercise(page[:start] + state + page[end:])


@st.composite
def profile_tables(draw: st.DrawFn) -> dict[str, Any]:
    """Page-profile data: known and unknown keys, right and wrong types, empty and odd labels."""

    labels = st.one_of(TEXTS, st.lists(TEXTS, max_size=3))
    locator = st.one_of(
        labels,
        st.fixed_dictionaries(
            {},
            optional={
                "labels": labels,
                "label": TEXTS,
                "name": st.sampled_from(["*", "*$hostName", "", "[", "*$ssoCertificate"]),
                "id": st.sampled_from(["*", "ctl00_*", "", "?"]),
                "bogus": st.integers(),
            },
        ),
        st.integers(),
        st.booleans(),
    )
    keys = st.sampled_from([*SITE_FIELDS, "hostname", ""])
    data: dict[str, Any] = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "name": TEXTS,
                "menu_path": st.one_of(st.lists(TEXTS, max_size=4), TEXTS, st.integers()),
                "host_column": labels,
                "site_column": labels,
                "edit_labels": labels,
                "save_labels": labels,
                "yes_labels": labels,
                "no_labels": labels,
                "site_form_heading": labels,
                "fields": st.one_of(st.dictionaries(keys, locator, max_size=4), st.integers()),
                "global_fields": st.dictionaries(st.sampled_from([*GLOBAL_FIELDS, "x"]), locator, max_size=2),
                "certificate": st.dictionaries(st.sampled_from([*CERT_DETAILS, "x"]), labels, max_size=3),
                "page": st.dictionaries(
                    st.sampled_from(["access_denied", "error_ids", "error_classes", "info_ids", "x"]),
                    labels,
                    max_size=3,
                ),
                "unknown_key": st.integers(),
            },
        )
    )
    return data


def _toml(data: dict[str, Any]) -> str:
    """A small TOML writer: top-level scalars and arrays, then one table per dict (inline tables inside)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return str(v)
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {value(x)}" for k, x in v.items()) + "}"

    lines = [f"{json.dumps(k, ensure_ascii=False)} = {value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for k, v in data.items():
        if isinstance(v, dict):
            lines.append(f"[{json.dumps(k, ensure_ascii=False)}]")
            lines += [f"{json.dumps(kk, ensure_ascii=False)} = {value(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"


@FUZZ
@given(profile_tables(), st.sampled_from(sorted(FIXTURE_PAGES)), st.booleans())
def test_page_profiles_and_matching(data: dict[str, Any], page_name: str, mangle: bool) -> None:
    text = _toml(data)
    if mangle:
        text = text.replace("=", "", 1).replace("[", "[[", 1)
    for raw in (text, text.encode("utf-8", "surrogatepass"), text.encode("utf-16", "replace")):
        profile = ours(parse_profile_text, raw, "fuzz.toml")
        if profile is not None:
            exercise(FIXTURE_PAGES[page_name], profile=profile)


@FUZZ
@given(st.text(max_size=60), st.one_of(st.text(max_size=30), st.lists(st.text(max_size=10), max_size=3)))
def test_label_functions_never_raise(seen: str, wanted: Any) -> None:
    normalize_label(seen)
    display_label(seen)
    clean_text(seen)
    assert label_matches(wanted, seen) in (True, False)
    assert label_matches(seen, seen) == bool(normalize_label(seen))


def test_the_fuzzer_reaches_the_code_it_means_to() -> None:
    """A run of the exercise on a real site form does find a form, its fields and builds a plan: the
    strategies above are not silently testing nothing but parse errors."""

    page = parse_page(FIXTURE_PAGES["tms15_site_form.html"], URL, status=200)
    assert page.forms and len(page.forms[0].fields) > 10
    row = driver.SiteRow("acme.webex.com", "acme", None, None, None, None)
    view = driver.read_site_form(page, row, DEFAULT_PROFILE)
    plan = driver.build_plan(view, driver.UploadIntent("t.pfx", b"0", Secret("Fuzz-pw-3", "t")))
    assert any(e.name.endswith("ssoCertificate") for e in plan.submission.entries())
    assert FUZZ.max_examples >= 10 and FUZZ.deadline is None


# Found by the long fuzz: a formaction that is no URL made Submission.url (and repr) raise ValueError.
@pytest.mark.parametrize("formaction", ["A://[", "https://[]/x"])
def test_a_button_formaction_that_is_no_url(formaction: str) -> None:
    page = parse_page(
        f'<form method="post" action="./x"><input type="submit" name="s" value="Save" '
        f'formaction="{formaction}"></form>',
        URL,
        status=200,
    )
    sub = Submission.of(page.forms[0], submitter="s")
    with pytest.raises(PageNotUnderstoodError, match="not a URL"):
        _ = sub.url
    assert "<not a URL>" in repr(sub)
