"""The baseline for bench/run.py: a minimal hand-written requests-ntlm upload, knowing the page by heart.

It does what `tmsclient upload --page-url ...` does on the wire and nothing more: GET the WebEx Settings page
(the NTLM login rides on it), POST the site's Edit postback, POST the Save with every field as rendered plus
the file and its password, then GET the page and POST the Edit postback again to read the thumbprint back.
No preflight, no page profile, no label matching: regular expressions and the standard library's HTML parser.

    TMS_PASSWORD=... PFX_PASSWORD=... python bench/reference_upload.py --page URL --user DOMAIN\\user \\
        --ca CA.pem --site-host acme.webex.com --pfx FILE --thumbprint HEX

Prints one JSON line: {"ok": bool, "requests": N, "bytes_sent": N, "elapsed_s": S}; exit 0 when the re-read
page shows the thumbprint.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest, Response
from requests_ntlm import HttpNtlmAuth


class CountingAdapter(HTTPAdapter):
    """Counts every request (each NTLM leg included) and the request body bytes."""

    requests = 0
    bytes_sent = 0

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        CountingAdapter.requests += 1
        body = request.body
        if isinstance(body, str):
            body = body.encode()
        CountingAdapter.bytes_sent += len(body) if isinstance(body, bytes) else 0
        return super().send(request, *args, **kwargs)


class FormFields(HTMLParser):
    """What a browser would submit from the page's form: inputs, checked radios, selected options."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, str]] = []
        self.file_name: str | None = None
        self.password_name: str | None = None
        self.buttons: list[tuple[str, str]] = []
        self.action = ""
        self._select: str | None = None
        self._select_value: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if tag == "form":
            self.action = a.get("action", "")
        elif tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text").lower()
            if kind == "file":
                self.file_name = name
            elif kind == "password":
                self.password_name = name
            elif kind in ("submit", "image", "button", "reset"):
                self.buttons.append((name, a.get("value", "")))
            elif kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
            else:
                self.fields.append((name, a.get("value", "")))
        elif tag == "select":
            self._select, self._select_value, self._first_option = name, None, None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                self._select_value = value
        elif tag == "textarea":
            self._textarea, self._text = name, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            value = self._select_value if self._select_value is not None else self._first_option
            if value is not None:
                self.fields.append((self._select, value))
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, "".join(self._text)))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text.append(data)


def form_of(html: str) -> FormFields:
    parser = FormFields()
    parser.feed(html)
    return parser


def edit_target(html: str, host: str) -> str:
    """The __doPostBack target of the Edit link in the grid row that shows ``host``."""
    for row in re.findall(r"<tr\b.*?</tr>", html, flags=re.S | re.I):
        if re.search(rf">\s*{re.escape(host)}\s*<", row, flags=re.I):
            m = re.search(r"__doPostBack\(\s*'([^']*editLink[^']*)'", unescape(row))
            if m:
                return m.group(1)
    raise SystemExit(f"no Edit link for {host}")


def postback(session: requests.Session, url: str, html: str, target: str) -> requests.Response:
    form = form_of(html)
    data = [(n, v) for n, v in form.fields if n not in ("__EVENTTARGET", "__EVENTARGUMENT")]
    data += [("__EVENTTARGET", target), ("__EVENTARGUMENT", "")]
    return session.post(urljoin(url, form.action), data=data, timeout=60)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--page", required=True, help="the WebEx Settings page URL")
    ap.add_argument("--user", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--site-host", required=True)
    ap.add_argument("--pfx", required=True)
    ap.add_argument("--thumbprint", required=True)
    args = ap.parse_args()
    started = time.monotonic()
    with open(args.pfx, "rb") as fh:
        pfx = fh.read()

    s = requests.Session()
    s.trust_env = False
    s.verify = args.ca
    s.auth = HttpNtlmAuth(args.user, os.environ["TMS_PASSWORD"])
    adapter = CountingAdapter()
    s.mount("https://", adapter)
    s.mount("http://", adapter)

    page = s.get(args.page, timeout=60)  # the NTLM login happens here (3 requests)
    page.raise_for_status()
    site_form = postback(s, args.page, page.text, edit_target(page.text, args.site_host))
    site_form.raise_for_status()

    form = form_of(site_form.text)
    assert form.file_name and form.password_name, "the site form has no file or password input"
    save = next((b for b in form.buttons if b[0].endswith("$saveButton")), None)
    assert save is not None, "no Save button"
    data = [*form.fields, (form.password_name, os.environ["PFX_PASSWORD"]), save]
    files = {form.file_name: (os.path.basename(args.pfx), pfx, "application/x-pkcs12")}
    saved = s.post(urljoin(args.page, form.action), data=data, files=files, timeout=300)
    saved.raise_for_status()

    again = s.get(args.page, timeout=60)
    reread = postback(s, args.page, again.text, edit_target(again.text, args.site_host))
    ok = args.thumbprint.upper() in reread.text.upper()
    print(
        json.dumps(
            {
                "ok": ok,
                "requests": CountingAdapter.requests,
                "bytes_sent": CountingAdapter.bytes_sent,
                "elapsed_s": round(time.monotonic() - started, 4),
            }
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
