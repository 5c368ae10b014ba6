"""Captures: the pages a read-only walk fetched, redacted (and optionally anonymized) for a bug report."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

from tmsclient.credentials import scrub as scrub_secrets

FORMAT = "tmsclient-capture"
VERSION = 1
#: Response headers kept in a capture; every other one (cookies, authentication, anything unknown) is dropped.
KEPT_HEADERS = frozenset({"content-type", "server", "x-aspnet-version", "x-powered-by", "cache-control"})
#: The origin written for the TMS with --anonymize.
ANONYMOUS_ORIGIN = "https://tms.example.invalid"
#: Removed values shorter than this are not searched for elsewhere in the pages (they would match anything).
_MIN_SCRUB = 6

_INPUT = re.compile(r"<input\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.I)
_ATTR = re.compile(
    r"(?P<name>[^\s\"'>/=]+)(?:\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<uq>[^\s\"'=<>`]+)))?", re.S
)
#: TMS's footer on every page: "S/N: <serial> (<host>)".
_SERIAL = re.compile(r"S/N:\s*(?:&nbsp;|\s)*(?P<serial>[A-Za-z0-9][A-Za-z0-9-]*)\s*\((?P<host>[^()<>\s]+)\)")
_BOUNDARY_BEFORE = r"(?<![A-Za-z0-9_])"
_BOUNDARY_AFTER = r"(?![A-Za-z0-9_])"


def placeholder(name: str) -> str:
    """What a redacted hidden value becomes: it names the field, never the value."""
    return f"[redacted {name}]"


@dataclass(frozen=True)
class Fetched:
    """One page as the walk fetched it: the request (never its headers or values) and the answer."""

    method: str
    url: str  # absolute, after redirects for a GET; the URL posted to for a POST
    status: int
    headers: Mapping[str, str]
    body: str
    final_url: str = ""  # where a POST's answer came from (a redirect), else the same as url
    event_target: str | None = None  # a POST's __EVENTTARGET: the postback it made
    event_argument: str | None = None
    field_names: tuple[str, ...] = ()  # a POST's field names, in order (the values are never kept)
    what: str = ""


@dataclass(frozen=True)
class SiteSeen:
    """A row of the WebEx Sites list and the fetched page (index) that holds its form, if it was opened."""

    host_name: str
    site_name: str
    default: str | None
    form: int | None


@dataclass
class _Log:
    hidden: list[dict[str, Any]] = field(default_factory=list)
    emptied: list[dict[str, Any]] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)


def _attr_value(m: re.Match[str]) -> str | None:
    for group in ("dq", "sq", "uq"):
        if m.group(group) is not None:
            return m.group(group)
    return None


def redact_inputs(page: str, where: int, log: _Log) -> str:
    """Hidden inputs get a placeholder value; password and file inputs lose theirs. Only those tags change."""

    def one(tag: re.Match[str]) -> str:
        text = tag.group(0)
        attrs = list(_ATTR.finditer(text, 6))
        by_name = {m.group("name").lower(): m for m in attrs}
        kind = (_attr_value(by_name["type"]) or "text").lower() if "type" in by_name else "text"
        value_attr = by_name.get("value")
        value = html.unescape(_attr_value(value_attr) or "") if value_attr else ""
        name = html.unescape(_attr_value(by_name["name"]) or "") if "name" in by_name else ""
        if value_attr is None or not value:
            return text
        start, end = value_attr.span()
        if kind == "hidden":
            log.hidden.append({"page": where, "name": name, "characters": len(value)})
            log.removed.add(value)
            return text[:start] + f'value="{html.escape(placeholder(name))}"' + text[end:]
        if kind in ("password", "file"):
            log.emptied.append({"page": where, "name": name, "type": kind})
            log.removed.add(value)
            return text[:start].rstrip() + text[end:]
        return text

    return _INPUT.sub(one, page)


_ENCODINGS = (
    lambda v: v,
    lambda v: html.escape(v, quote=True),
    lambda v: html.escape(v, quote=True).replace("&#x27;", "&#39;"),
    lambda v: quote(v, safe=""),
    lambda v: quote(v, safe="/:@"),
    quote_plus,
    lambda v: v.replace("\\", "\\\\"),
    lambda v: json.dumps(v)[1:-1],
)


class Replacer:
    """Replaces strings consistently in each form a value takes in a page, a URL or a script: raw, HTML-escaped,
    URL-encoded, JS-escaped (``mapping``: original -> new)."""

    def __init__(self, mapping: Mapping[str, str], *, whole_words: bool, ignore_case: bool) -> None:
        self.table: dict[str, tuple[str, str]] = {}  # a form of an original -> (that form of the new, the new)
        alternatives: list[str] = []
        for original, new in mapping.items():
            for encode in _ENCODINGS:
                original_form, new_form = encode(original), encode(new)
                key = original_form.casefold() if ignore_case else original_form
                if original_form and key not in self.table:
                    self.table[key] = (new_form, new)
                    alternatives.append(original_form)
        # One alternation, longest first: a replacement is never scanned again, a longer name wins over a part.
        alternatives.sort(key=len, reverse=True)
        self.ignore_case = ignore_case
        self.counts: dict[str, int] = {}
        self._pattern: re.Pattern[str] | None = None
        if alternatives:
            body = "|".join(re.escape(a) for a in alternatives)
            if whole_words:
                body = f"{_BOUNDARY_BEFORE}(?:{body}){_BOUNDARY_AFTER}"
            self._pattern = re.compile(body, re.I if ignore_case else 0)

    def __call__(self, text: str) -> str:
        if self._pattern is None or not text:
            return text

        def swap(m: re.Match[str]) -> str:
            found = m.group(0)
            new_form, new = self.table[found.casefold() if self.ignore_case else found]
            self.counts[new] = self.counts.get(new, 0) + 1
            return new_form

        return self._pattern.sub(swap, text)


#: Words of TMS's own pages and URLs: a name equal to one is kept (replacing it would break every page).
PROTECTED_WORDS = frozenset({"tms", "default", "aspx", "webex", "site", "sites", "cisco", "admin tools"})


@dataclass(frozen=True)
class Identities:
    """What identifies a TMS and its owner: replaced with --anonymize."""

    hosts: tuple[str, ...]  # the TMS host, the host in the footer
    site_hosts: tuple[str, ...]
    site_names: tuple[str, ...]
    username: str | None  # as logged in: DOMAIN\user, user@domain or user
    serials: tuple[str, ...]

    def mapping(self) -> tuple[dict[str, str], list[dict[str, Any]]]:
        """original -> replacement, and the manifest entries (the replacement and its kind, never the original)."""
        table: dict[str, str] = {}
        kinds: list[dict[str, Any]] = []
        seen: set[str] = set()

        def put(kind: str, value: str, new: str) -> bool:
            value = value.strip()
            key = value.casefold()
            if not value or key in seen:
                return False
            seen.add(key)
            if key in PROTECTED_WORDS:
                kinds.append({"kind": kind, "replacement": None, "kept": "a word of TMS's own pages"})
                return False
            table[value] = new
            kinds.append({"kind": kind, "replacement": new})
            return True

        def add(kind: str, values: Iterable[str], make: Any) -> None:
            n = 0
            for value in values:
                if put(kind, value, make(n + 1)):
                    n += 1

        add("site host name", self.site_hosts, lambda n: f"site{n}.webex.example.invalid")
        add("TMS host name", self.hosts, lambda n: "tms.example.invalid" if n == 1 else f"tms{n}.example.invalid")
        add("serial number", self.serials, lambda n: f"SN{n:08d}")
        for kind, value, new in login_parts(self.username):
            put(kind, value, new)
        add("site name", self.site_names, lambda n: f"site{n}")
        return table, kinds


def login_parts(username: str | None) -> list[tuple[str, str, str]]:
    """A login and its parts as pages may show them (DOMAIN\\user, user@domain, user, domain), each with its
    replacement."""
    if not username:
        return []
    if "\\" in username:
        domain, _, user = username.partition("\\")
    elif "@" in username:
        user, _, domain = username.partition("@")
    else:
        user, domain = username, ""
    parts = [("user name", user, "user1")]
    if domain:
        parts = [
            ("user name", f"{domain}\\{user}", "EXAMPLE\\user1"),
            ("user name", f"{user}@{domain}", "user1@EXAMPLE"),
            *parts,
            ("domain", domain, "EXAMPLE"),
        ]
    return [p for p in parts if p[1]]


def serials_in(pages: Iterable[str]) -> tuple[list[str], list[str]]:
    """The serial numbers and host names of TMS's footer "S/N: <serial> (<host>)" in ``pages``."""
    serials: list[str] = []
    hosts: list[str] = []
    for page in pages:
        for m in _SERIAL.finditer(html.unescape(page)):
            if m["serial"] not in serials:
                serials.append(m["serial"])
            if m["host"] not in hosts:
                hosts.append(m["host"])
    return serials, hosts


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def build_capture(
    fetched: Sequence[Fetched],
    *,
    base_url: str,
    username: str | None,
    sites: Sequence[SiteSeen],
    anonymize: bool,
    page_profile: str | None = None,
    notes: Sequence[str] = (),
    tool: str = "tmsclient",
) -> dict[str, Any]:
    """The capture document (see :func:`capture_bytes`): every fetched page redacted, and what was redacted.

    Always: hidden input values become :func:`placeholder`, password and file inputs lose their value, every
    removed value is also replaced wherever else it appears (raw, HTML-escaped, URL-encoded), response headers
    other than :data:`KEPT_HEADERS` (cookies, authentication) are dropped, request headers and posted values are
    never kept. With ``anonymize``: the TMS host, site host names, site names, the login and the footer's serial
    number and host are replaced consistently everywhere, URLs, ``notes`` and the page profile included.
    """
    log = _Log()
    dropped: set[str] = set()
    pages: list[dict[str, Any]] = []
    for index, item in enumerate(fetched):
        headers = {}
        for name, value in item.headers.items():
            if name.lower() in KEPT_HEADERS:
                headers[name] = value
            else:
                dropped.add(name)
        pages.append(
            {
                "method": item.method,
                "url": _path_of(item.url),
                "final_url": _path_of(item.final_url or item.url),
                "status": item.status,
                "headers": headers,
                "event_target": item.event_target,
                "event_argument": item.event_argument,
                "field_names": list(item.field_names),
                "what": item.what,
                "body": redact_inputs(item.body, index, log),
            }
        )
    scrub = Replacer(
        {v: "[redacted]" for v in log.removed if len(v) >= _MIN_SCRUB}, whole_words=False, ignore_case=False
    )
    origin = _origin_of(base_url)
    replaced: list[dict[str, Any]] = []
    rename = Replacer({}, whole_words=True, ignore_case=True)
    if anonymize:
        serials, footer_hosts = serials_in(item.body for item in fetched)
        host = urlsplit(base_url).hostname or ""
        identities = Identities(
            hosts=(host, *footer_hosts),
            site_hosts=tuple(s.host_name for s in sites),
            site_names=tuple(s.site_name for s in sites),
            username=username,
            serials=tuple(serials),
        )
        table, replaced = identities.mapping()
        rename = Replacer(table, whole_words=True, ignore_case=True)
        origin = ANONYMOUS_ORIGIN

    def clean(text: str | None) -> str | None:
        # the process's own secrets too, wherever a page echoes one in its text, as every output does
        return None if text is None else rename(scrub(scrub_secrets(text)))

    for page in pages:
        for key in ("url", "final_url", "event_target", "event_argument", "what", "body"):
            page[key] = clean(page[key])
        page["headers"] = {k: clean(v) for k, v in page["headers"].items()}
        page["field_names"] = [clean(n) for n in page["field_names"]]
    base_path = _path_of(base_url)
    anonymized = [
        {**entry, "occurrences": rename.counts.get(entry["replacement"], 0)} if entry["replacement"] else entry
        for entry in replaced
    ]
    return {
        "format": FORMAT,
        "version": VERSION,
        "tool": tool,
        "target": {"origin": origin, "path": clean(base_path) or "/tms/"},
        "anonymized": anonymize,
        "page_profile": clean(page_profile),
        "notes": [clean(n) for n in notes],  # what the walk could not read, in tmsclient's words
        "sites": [
            {
                "host_name": clean(s.host_name),
                "site_name": clean(s.site_name),
                "default": clean(s.default),
                "form": s.form,
            }
            for s in sites
        ],
        "pages": pages,
        "manifest": {
            "hidden_values_replaced": log.hidden,
            "inputs_emptied": log.emptied,
            "values_scrubbed_elsewhere": scrub.counts.get("[redacted]", 0),
            "response_headers_dropped": sorted(dropped, key=str.lower),
            "response_headers_kept": sorted(KEPT_HEADERS),
            "not_recorded": [
                "request headers (cookies, Authorization)",
                "posted values (only field names and the postback target)",
                "the TMS password",
            ],
            "anonymized": anonymized,
            "check_before_sending": "free text on the pages (names in messages, certificate subjects, partner "
            "and account names) is kept; read the pages before attaching the file",
        },
    }


def capture_bytes(capture: Mapping[str, Any]) -> bytes:
    """The capture as the file holds it: one JSON document, UTF-8, keys in a stable order."""
    return (json.dumps(capture, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
