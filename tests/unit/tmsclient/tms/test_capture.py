"""Captures (tmsclient/tms/capture.py): what a bug-report archive keeps, replaces and drops."""

from __future__ import annotations

import base64
import html
import json
from urllib.parse import quote, quote_plus

import pytest

from tests.helpers.canaries import Canaries
from tmsclient.credentials import Secret
from tmsclient.tms.capture import (
    ANONYMOUS_ORIGIN,
    Fetched,
    SiteSeen,
    build_capture,
    capture_bytes,
    placeholder,
    serials_in,
)

BASE = "https://tms01.corp.acme.example/tms/"
LOGIN = "ACMECORP\\jdoe"
SITES = [
    SiteSeen("acme.webex.com", "acmesite", "Yes", 2),
    SiteSeen("acme-eu.webex.com", "acmeeu", "No", None),
]


def encodings(value: str) -> dict[str, str]:
    """Every form a leaked value could take in a capture: raw, URL-encoded, HTML-escaped, and inside base64
    (as in a view state) at each of the three byte alignments."""
    forms = {
        "raw": value,
        "url-encoded": quote(value, safe=""),
        "url-encoded (plus)": quote_plus(value),
        "html-escaped": html.escape(value, quote=True),
        "json-escaped": json.dumps(value)[1:-1],
    }
    for shift in range(3):
        encoded = base64.b64encode(b"x" * shift + value.encode()).decode()
        # Drop the characters that depend on the bytes around the value.
        forms[f"base64+{shift}"] = encoded[4 if shift else 0 : -4]
    return forms


def assert_absent(document: bytes, value: str, what: str) -> None:
    text = document.decode("utf-8")
    for form, needle in encodings(value).items():
        if len(needle) >= 4:  # a shorter slice of base64 says nothing
            assert needle.casefold() not in text.casefold(), f"{what} ({form}) is in the capture"


def page(body: str, *, user: str = LOGIN, serial: str = "4A1B2C3D", vm: str = "TMSVM01") -> str:
    return f"""<html><head><title>TMS</title></head><body>
<form method="post" action="./default.aspx?pageId=83" id="aspnetForm" enctype="multipart/form-data">
<input type="hidden" name="__EVENTTARGET" id="__EVENTTARGET" value="" />
<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="/wEPDwULLTE2MTY2ODcyMjlkZA==" />
<span id="ctl00_uxUserName">{html.escape(user)}</span>
{body}
<input type="hidden" name="__VIEWSTATEGENERATOR" id="__VIEWSTATEGENERATOR" value="CA0B0334" />
<input type="hidden" name="__EVENTVALIDATION" id="__EVENTVALIDATION" value="/wEdAAKr9nY4pWQ0R1xz" />
</form><div class="Footer">S/N: {serial} ({vm})</div></body></html>"""


GRID = """<table id="grid"><tr><th>Host Name</th><th>Site Name</th></tr>
<tr><td>acme.webex.com</td><td>acmesite</td>
<td><a href="javascript:__doPostBack('grid$ctl02$edit','')">Edit</a></td></tr>
<tr><td>acme-eu.webex.com</td><td>acmeeu</td>
<td><a href="default.aspx?pageId=91&amp;host=acme-eu.webex.com">Edit</a></td></tr>
</table>"""

FORM = """<input name="hostName" type="text" value="acme.webex.com" />
<input name="siteName" type="text" value="acmesite" />
<input name="partner" type="text" value="https://acme.webex.com/acmesite" />
<input name="ssoCertificate" type="file" value="C:\\certs\\sso.pfx" />
<input name="ssoCertificatePassword" type="password" value="hunter2-rendered" />
<a href="https://tms01.corp.acme.example/tms/default.aspx?pageId=1">Home</a>"""


def fetched(**extra_headers: str) -> list[Fetched]:
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Set-Cookie": "ASP.NET_SessionId=abcdefghijklmnopqrstuvwx; path=/; HttpOnly",
        "WWW-Authenticate": "Negotiate oYG3MIG0oAMKAQChCwYJKoZIgvcSAQICooGf",
        "Persistent-Auth": "true",
        **extra_headers,
    }
    return [
        Fetched("GET", BASE, 200, headers, page("<h2>Welcome</h2>"), what="the start page"),
        Fetched("GET", BASE + "default.aspx?pageId=83", 200, headers, page(GRID), what="the WebEx Settings page"),
        Fetched(
            "POST",
            BASE + "default.aspx?pageId=83",
            200,
            headers,
            page(FORM),
            event_target="grid$ctl02$edit",
            event_argument="",
            field_names=("__EVENTTARGET", "__VIEWSTATE"),
            what="the form of site acme.webex.com/acmesite",
        ),
    ]


def capture(*, anonymize: bool, items: list[Fetched] | None = None) -> dict:
    return build_capture(
        items if items is not None else fetched(),
        base_url=BASE,
        username=LOGIN,
        sites=SITES,
        anonymize=anonymize,
    )


def test_hidden_values_become_placeholders_and_password_and_file_inputs_lose_theirs():
    doc = capture(anonymize=False)
    body = doc["pages"][2]["body"]
    assert f'value="{html.escape(placeholder("__VIEWSTATE"))}"' in body
    assert f'value="{html.escape(placeholder("__EVENTVALIDATION"))}"' in body
    assert f'value="{html.escape(placeholder("__VIEWSTATEGENERATOR"))}"' in body
    assert 'name="__EVENTTARGET" id="__EVENTTARGET" value=""' in body  # empty stays empty
    assert "/wEPDwULLTE2MTY2ODcyMjlkZA==" not in body and "/wEdAAKr9nY4pWQ0R1xz" not in body
    assert "CA0B0334" not in body
    assert '<input name="ssoCertificatePassword" type="password" />' in body
    assert '<input name="ssoCertificate" type="file" />' in body
    assert "hunter2-rendered" not in body and "sso.pfx" not in body
    # Everything else stays as TMS rendered it.
    assert '<input name="hostName" type="text" value="acme.webex.com" />' in body
    manifest = doc["manifest"]
    assert {(h["page"], h["name"]) for h in manifest["hidden_values_replaced"]} >= {
        (2, "__VIEWSTATE"),
        (2, "__EVENTVALIDATION"),
        (2, "__VIEWSTATEGENERATOR"),
    }
    assert {(e["name"], e["type"]) for e in manifest["inputs_emptied"]} == {
        ("ssoCertificate", "file"),
        ("ssoCertificatePassword", "password"),
    }
    assert doc["anonymized"] is False and doc["target"]["origin"] == "https://tms01.corp.acme.example"


@pytest.mark.parametrize(
    "name", ["__PREVIOUSPAGE", "__VIEWSTATE1", "__VIEWSTATEENCRYPTED", "__REQUESTDIGEST", "ctl00$uxToken"]
)
def test_every_hidden_value_is_replaced_and_scrubbed_where_else_it_appears(name):
    secret = "QmFzZTY0T3BhcXVlVmFsdWUxMjM0NTY3ODk="
    body = (
        f'<input type="hidden" name="{name}" value="{secret}" />'
        f"<script>var copy = '{secret}';</script>"
        f'<a href="default.aspx?state={quote(secret, safe="")}">again</a>'
    )
    item = Fetched("GET", BASE, 200, {}, page(body))
    doc = capture(anonymize=False, items=[item])
    out = capture_bytes(doc)
    assert_absent(out, secret, "a hidden value")
    assert html.escape(placeholder(name)) in doc["pages"][0]["body"]
    assert doc["manifest"]["values_scrubbed_elsewhere"] >= 2


def test_cookies_authentication_and_unknown_headers_are_dropped_and_listed():
    doc = capture(anonymize=False, items=fetched(**{"X-Internal-Node": "web-7"}))
    for p in doc["pages"]:
        assert set(p["headers"]) == {"Content-Type"}
    dropped = doc["manifest"]["response_headers_dropped"]
    assert dropped == ["Persistent-Auth", "Set-Cookie", "WWW-Authenticate", "X-Internal-Node"]
    out = capture_bytes(doc).decode()
    assert "abcdefghijklmnopqrstuvwx" not in out and "oYG3MIG0" not in out and "web-7" not in out


def test_posts_keep_the_postback_target_and_field_names_never_values():
    doc = capture(anonymize=False)
    post = doc["pages"][2]
    assert post["method"] == "POST" and post["url"] == "/tms/default.aspx?pageId=83"
    assert post["event_target"] == "grid$ctl02$edit" and post["field_names"] == ["__EVENTTARGET", "__VIEWSTATE"]
    assert "headers" not in json.dumps(doc["manifest"]["not_recorded"]) or doc["manifest"]["not_recorded"]


IDENTIFYING = {
    "the TMS host": "tms01.corp.acme.example",
    "a site host": "acme.webex.com",
    "another site host": "acme-eu.webex.com",
    "a site name": "acmesite",
    "another site name": "acmeeu",
    "the login": LOGIN,
    "the domain": "ACMECORP",
    "the user": "jdoe",
    "the serial number": "4A1B2C3D",
    "the footer's host": "TMSVM01",
}


def test_anonymize_replaces_every_identifying_string_in_every_form():
    doc = capture(anonymize=True)
    out = capture_bytes(doc)
    for what, value in IDENTIFYING.items():
        assert_absent(out, value, what)
    assert doc["target"]["origin"] == ANONYMOUS_ORIGIN and doc["anonymized"] is True
    # The manifest names what was replaced by what, never the original.
    kinds = {(e["kind"], e["replacement"]) for e in doc["manifest"]["anonymized"]}
    assert ("serial number", "SN00000001") in kinds and ("site name", "site1") in kinds
    assert all(e["occurrences"] >= 0 for e in doc["manifest"]["anonymized"])


def test_anonymize_is_consistent_across_pages_urls_and_the_sites_list():
    doc = capture(anonymize=True)
    grid, form = doc["pages"][1]["body"], doc["pages"][2]["body"]
    assert doc["sites"][0] == {
        "host_name": "site1.webex.example.invalid",
        "site_name": "site1",
        "default": "Yes",
        "form": 2,
    }
    assert "<td>site1.webex.example.invalid</td><td>site1</td>" in grid
    assert "host=site2.webex.example.invalid" in grid
    assert 'value="site1.webex.example.invalid"' in form and 'value="site1"' in form
    assert 'value="https://site1.webex.example.invalid/site1"' in form
    assert "https://tms.example.invalid/tms/default.aspx?pageId=1" in form
    assert "EXAMPLE\\user1" in form and "S/N: SN00000001 (tms2.example.invalid)" in form
    # TMS's own words survive: the page still reads as TMS's.
    assert "Host Name" in grid and doc["pages"][1]["url"] == "/tms/default.aspx?pageId=83"


def test_a_name_that_is_a_word_of_tms_pages_is_kept_not_breaking_every_url():
    items = [Fetched("GET", BASE, 200, {}, page('<a href="/tms/default.aspx?pageId=83">WebEx Settings</a>'))]
    doc = build_capture(items, base_url=BASE, username="TMS\\jdoe", sites=[], anonymize=True)
    body = doc["pages"][0]["body"]
    assert 'href="/tms/default.aspx?pageId=83"' in body and "jdoe" not in body
    kept = [e for e in doc["manifest"]["anonymized"] if e.get("kept")]
    assert kept == [{"kind": "domain", "replacement": None, "kept": "a word of TMS's own pages"}]


def test_without_anonymize_names_stay():
    out = capture_bytes(capture(anonymize=False)).decode()
    assert "acme.webex.com" in out and "4A1B2C3D" in out


def test_the_footer_serial_is_found():
    assert serials_in([page("")]) == (["4A1B2C3D"], ["TMSVM01"])
    assert serials_in(["<div>S/N:&nbsp;0A00-BC12 (tms-vm)</div>"]) == (["0A00-BC12"], ["tms-vm"])


def test_canary_secrets_never_reach_a_capture(canaries: Canaries):
    """The suite's canaries wherever a TMS page could carry them: in a hidden value, inside a view state's
    base64, in a password input, in a cookie and an authentication header."""
    tms_password = canaries.secret("tms-password", extra=" &#$%")
    pfx_password = canaries.secret("pfx-password", extra='"<>')
    session = canaries.secret("session-cookie")
    view_state = base64.b64encode(b"\xff\x01\x0f" + tms_password.encode() + b"\x00" + pfx_password.encode())
    body = (
        f'<input type="hidden" name="__VIEWSTATE" value="{view_state.decode()}" />'
        f'<input type="hidden" name="ctl00$secretKey" value="{html.escape(pfx_password)}" />'
        f'<input type="password" name="pw" value="{html.escape(tms_password)}" />'
    )
    headers = {"Set-Cookie": f"ASP.NET_SessionId={session}", "Authorization": f"NTLM {session}"}
    items = [Fetched("GET", BASE, 200, headers, page(body))]
    out = capture_bytes(build_capture(items, base_url=BASE, username=LOGIN, sites=[], anonymize=False))
    for secret in (tms_password, pfx_password, session):
        assert_absent(out, secret, "a canary")
    canaries.assert_clean(out, "the capture")


def test_a_secret_the_page_echoes_in_its_text_never_reaches_a_capture(canaries: Canaries):
    """Not in an input at all: a TMS error message that quotes the password back, raw and HTML-escaped."""
    pfx_password = canaries.secret("pfx-password", extra=" <&>")
    Secret(pfx_password, "test")  # as the client holds it while it walks the pages
    body = f"<p>The password {html.escape(pfx_password)} is not correct.</p><pre>{pfx_password}</pre>"
    items = [Fetched("GET", BASE, 500, {}, page(body))]
    out = capture_bytes(build_capture(items, base_url=BASE, username=LOGIN, sites=[], anonymize=False))
    assert_absent(out, pfx_password, "an echoed secret")
    canaries.assert_clean(out, "the capture")
