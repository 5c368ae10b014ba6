"""Serving a tmsclient capture: its pages, with this emulator's own view state, event validation and storage."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tmsemulator.config import StoredCertificate
from tmsemulator.errors import ConfigError, InputFileError
from tmsemulator.forms import PostedForm
from tmsemulator.pages import (
    CONTROL_TREE_CHANGED,
    ERROR_LABEL_ID,
    FRONT_CONTROLLER,
    INFO_LABEL_ID,
    INVALID_POSTBACK,
    NOT_FOUND,
    SAVE_FAILED,
    VIEWSTATE_MAC_FAILED,
    ValidationCollector,
    error_page,
    format_thumbprint,
)
from tmsemulator.pfxcheck import check_pfx
from tmsemulator.viewstate import Codec, EventValidationError, ViewStateError, view_state_generator

FORMAT = "tmsclient-capture"
MAX_CAPTURE_BYTES = 64 * 1024 * 1024
SAVED_TEXT = "Settings saved."
#: What a captured page's expiry date may look like; the first that reads the captured text is how a new
#: certificate's expiry is shown.
EXPIRY_FORMATS = (
    "%Y-%m-%d %H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%d %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M:%S",
    "%d %B %Y %H:%M:%S",
    "%d %b %Y %H:%M:%S",
    "%B %d, %Y %I:%M:%S %p",
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d %B %Y",
    "%B %d, %Y",
)
_EXPIRY_WORDS = ("expir", "valid", "not after", "end date", "gültig", "ablauf")
_THUMBPRINT = re.compile(r"(?:[0-9A-Fa-f]{2}([ :-]?)){19}[0-9A-Fa-f]{2}")
#: A distinguished name as Windows prints one: "CN=host, O=Org" (RDNs in either order).
_SUBJECT = re.compile(r"[A-Za-z]{1,8}=[^,=]+(?:,\s*[A-Za-z]{1,8}=[^,=]+)*")
_POSTBACK = re.compile(r"__doPostBack\(\s*['\"]([^'\"]*)['\"]")
#: The words a Yes/No text may use, in the languages TMS ships.
_YES_NO = (("Yes", "No"), ("True", "False"), ("Ja", "Nein"), ("Oui", "Non"), ("Sí", "No"))
_BUTTONS = frozenset({"submit", "image", "button"})
UTC = dt.timezone.utc


# ----- the file ---------------------------------------------------------------------------------------------


def read_capture(path: str | Path) -> dict[str, Any]:
    """The capture document of ``path``, checked for the parts this emulator serves."""
    p = Path(path)
    try:
        with p.open("rb") as handle:
            raw = handle.read(MAX_CAPTURE_BYTES + 1)
    except FileNotFoundError as exc:
        raise InputFileError(f"the capture {p} does not exist") from exc
    except OSError as exc:
        raise InputFileError(f"cannot read the capture {p}: {exc.strerror or exc}") from exc
    if len(raw) > MAX_CAPTURE_BYTES:
        raise InputFileError(f"the capture {p} is larger than {MAX_CAPTURE_BYTES:,} bytes")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"the capture {p} is not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"the capture {p} is not a tmsclient capture (format {FORMAT!r})")
    pages = data.get("pages")
    if not isinstance(pages, list) or not pages:
        raise ConfigError(f"the capture {p} holds no pages")
    for number, page in enumerate(pages):
        ok = (
            isinstance(page, dict)
            and page.get("method") in ("GET", "POST")
            and all(isinstance(page.get(k), str) for k in ("url", "body"))
            and isinstance(page.get("status"), int)
        )
        if not ok:
            raise ConfigError(f"the capture {p}: page {number} needs method, url, status and body")
    if not isinstance(data.get("sites", []), list):
        raise ConfigError(f"the capture {p}: sites must be a list")
    return data


# ----- pages as tokens --------------------------------------------------------------------------------------


@dataclass
class Token:
    kind: str  # "start", "startend", "end", "data", "raw"
    raw: str
    tag: str = ""
    attrs: list[tuple[str, str | None]] = field(default_factory=list)

    def attr(self, name: str) -> str | None:
        for key, value in self.attrs:
            if key == name:
                return value
        return None

    @property
    def text(self) -> str:
        return html.unescape(self.raw).strip() if self.kind == "data" else ""


class _Tokenizer(HTMLParser):
    """Splits a page into tokens that join back into the same text (end tags lower-cased)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.tokens: list[Token] = []

    def _data(self, raw: str) -> None:
        if self.tokens and self.tokens[-1].kind == "data":
            self.tokens[-1].raw += raw
        else:
            self.tokens.append(Token("data", raw))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tokens.append(Token("start", self.get_starttag_text() or f"<{tag}>", tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tokens.append(Token("startend", self.get_starttag_text() or f"<{tag} />", tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        self.tokens.append(Token("end", f"</{tag}>", tag))

    def handle_data(self, data: str) -> None:
        self._data(data)

    def handle_entityref(self, name: str) -> None:
        self._data(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._data(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self.tokens.append(Token("raw", f"<!--{data}-->"))

    def handle_decl(self, decl: str) -> None:
        self.tokens.append(Token("raw", f"<!{decl}>"))

    def handle_pi(self, data: str) -> None:
        self.tokens.append(Token("raw", f"<?{data}>"))

    def unknown_decl(self, data: str) -> None:
        self.tokens.append(Token("raw", f"<![{data}]>"))


def tokenize(page: str) -> list[Token]:
    parser = _Tokenizer()
    parser.feed(page)
    parser.close()
    return parser.tokens


def _tag(token: Token, attrs: Sequence[tuple[str, str | None]]) -> str:
    parts = [token.tag]
    for name, value in attrs:
        parts.append(name if value is None else f'{name}="{html.escape(value, quote=True)}"')
    return "<" + " ".join(parts) + (" />" if token.kind == "startend" else ">")


def _set(attrs: list[tuple[str, str | None]], name: str, value: str | None) -> list[tuple[str, str | None]]:
    """``attrs`` with ``name`` set to ``value`` (None removes it); a new one goes last."""
    out = [(k, v) for k, v in attrs if k != name]
    if value is not None:
        out.append((name, value))
    return out


# ----- one captured page ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """A text on a site form showing the stored certificate: what it shows and how."""

    what: str  # "subject", "expires", "thumbprint", "installed", "serial"
    style: str = ""  # the expiry's strftime, the thumbprint's separator, "Yes/No" words


def _option_value(tokens: Sequence[Token], i: int) -> str:
    value = tokens[i].attr("value")
    if value is not None:
        return value
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    return nxt.text if nxt is not None and nxt.kind == "data" else ""


def _has(token: Token, name: str) -> bool:
    return any(key == name for key, _ in token.attrs)


def _find_slots(tokens: Sequence[Token]) -> dict[int, Slot]:
    """The certificate texts of a form page, found by what they look like and the label before them: a
    thumbprint (40 hex digits), a subject (CN=...), the one date (of several, those after an expiry label),
    Yes/No after an "install..." label, hex after a "serial" label."""
    slots: dict[int, Slot] = {}
    dates: dict[int, Slot] = {}  # every date shown, and those after an expiry label
    labelled: set[int] = set()
    before: list[str] = []  # the last texts seen, lower-cased
    in_script = False
    for i, token in enumerate(tokens):
        if token.kind == "start" and token.tag in ("script", "style", "option", "textarea"):
            in_script = True
        elif token.kind == "end" and token.tag in ("script", "style", "option", "textarea"):
            in_script = False
        if token.kind != "data" or in_script or not token.text:
            continue
        text = token.text
        label = before[-1] if before else ""
        m = _THUMBPRINT.fullmatch(text)
        if m is not None and "serial" not in label:
            case = "lower" if text == text.lower() and text != text.upper() else "upper"
            slots[i] = Slot("thumbprint", f"{case}{m.group(1) or ''}")
        elif "CN=" in text and _SUBJECT.fullmatch(text):
            slots[i] = Slot("subject")
        elif "install" in label and any(text.casefold() in (y.casefold(), n.casefold()) for y, n in _YES_NO):
            yes, no = next((y, n) for y, n in _YES_NO if text.casefold() in (y.casefold(), n.casefold()))
            if text.islower():
                yes, no = yes.lower(), no.lower()
            slots[i] = Slot("installed", f"{yes}/{no}")
        elif "serial" in label and re.fullmatch(r"[0-9A-Fa-f :]+", text):
            slots[i] = Slot("serial")
        else:
            fmt = _expiry_format(text)
            if fmt is not None:
                dates[i] = Slot("expires", fmt)
                if any(w in lbl for lbl in before[-3:] for w in _EXPIRY_WORDS):
                    labelled.add(i)
        before.append(text.casefold())
    # The one date on a site's form is the certificate's expiry, whatever its label says.
    slots.update(dates if len(dates) == 1 else {i: s for i, s in dates.items() if i in labelled})
    return slots


def _expiry_format(text: str) -> str | None:
    for fmt in EXPIRY_FORMATS:
        try:
            dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return fmt
    return None


@dataclass
class Template:
    """A captured page, tokenized once: its controls, and (on a form page) its certificate texts."""

    index: int
    page: dict[str, Any]
    tokens: list[Token]
    slots: dict[int, Slot]
    initial: dict[str, str | None]  # control name -> value as captured (a check box unchecked: None)
    kinds: dict[str, str]  # control name -> input type, "select" or "textarea"
    buttons: dict[str, str]  # submit name -> caption

    @classmethod
    def of(cls, index: int, page: dict[str, Any]) -> Template:
        tokens = tokenize(str(page["body"]))
        initial: dict[str, str | None] = {}
        kinds: dict[str, str] = {}
        buttons: dict[str, str] = {}
        select: str | None = None
        for i, token in enumerate(tokens):
            if token.kind not in ("start", "startend"):
                if token.kind == "end" and token.tag == "select":
                    select = None
                continue
            name = token.attr("name") or ""
            if token.tag == "input" and name:
                kind = (token.attr("type") or "text").lower()
                kinds.setdefault(name, kind)
                if kind in _BUTTONS:
                    buttons[name] = token.attr("value") or ""
                elif kind in ("radio", "checkbox"):
                    if _has(token, "checked"):
                        initial[name] = token.attr("value") or "on"
                    else:
                        initial.setdefault(name, None)
                elif kind not in ("password", "file", "hidden"):
                    initial[name] = token.attr("value") or ""
            elif token.tag == "button" and name and (token.attr("type") or "submit").lower() == "submit":
                kinds.setdefault(name, "submit")
                buttons[name] = token.attr("value") or ""
            elif token.tag == "select" and name:
                select = name
                kinds[name] = "select"
                initial.setdefault(name, None)
            elif token.tag == "option" and select is not None:
                # The selected option, else the first: what a browser posts.
                if _has(token, "selected") or initial.get(select) is None:
                    initial[select] = _option_value(tokens, i)
            elif token.tag == "textarea" and name:
                kinds[name] = "textarea"
                nxt = tokens[i + 1] if i + 1 < len(tokens) else None
                initial[name] = html.unescape(nxt.raw) if nxt is not None and nxt.kind == "data" else ""
        is_form = "file" in kinds.values()
        return cls(index, page, tokens, _find_slots(tokens) if is_form else {}, initial, kinds, buttons)

    @property
    def is_site_form(self) -> bool:
        """A page with a file input: a site's form, where a Save stores."""
        return "file" in self.kinds.values()

    def file_input(self) -> str | None:
        return next((n for n, k in self.kinds.items() if k == "file"), None)

    def password_input(self) -> str | None:
        return next((n for n, k in self.kinds.items() if k == "password"), None)


# ----- rendering ------------------------------------------------------------------------------------------


@dataclass
class Stored:
    """What a site's form holds in this emulator: the values saved over the captured ones, the certificate."""

    values: dict[str, str | None] = field(default_factory=dict)
    certificate: StoredCertificate | None = None


def _cert_text(slot: Slot, cert: StoredCertificate) -> str:
    if slot.what == "subject":
        return cert.subject
    if slot.what == "expires":
        return cert.not_after.astimezone(UTC).strftime(slot.style)
    if slot.what == "thumbprint":
        return format_thumbprint(cert.thumbprint_sha1, lower=slot.style.startswith("lower"), sep=slot.style[5:])
    if slot.what == "serial":
        return cert.serial
    return slot.style.split("/")[0]


def render(
    template: Template,
    codec: Codec,
    values: dict[str, str | None],
    certificate: StoredCertificate | None,
    *,
    error: str = "",
    info: str = "",
) -> str:
    """The captured page with ``values`` in its controls, the certificate in its certificate texts, the
    message in the error or info label, and fresh hidden fields."""
    ev = ValidationCollector()
    out: list[str] = []
    tokens = template.tokens
    select: str | None = None
    skip_until: tuple[str, int] | None = None  # (tag, depth): the content of a label being replaced
    depth = 0
    labels_done: set[str] = set()
    form_seen = False
    hidden_present: set[str] = set()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if skip_until is not None:
            if token.kind == "start" and token.tag == skip_until[0]:
                depth += 1
            elif token.kind == "end" and token.tag == skip_until[0]:
                if depth == 0:
                    skip_until = None
                    out.append(token.raw)
                else:
                    depth -= 1
            continue
        if token.kind == "data":
            slot = template.slots.get(i - 1)
            out.append(html.escape(_cert_text(slot, certificate)) if slot and certificate else token.raw)
            continue
        if token.kind == "end" and token.tag == "select":
            select = None
        if token.kind not in ("start", "startend"):
            out.append(token.raw)
            continue
        attrs = list(token.attrs)
        changed = False
        for _, value in attrs:
            if value and "__doPostBack" in value:
                for target in _POSTBACK.findall(html.unescape(value)):
                    ev.allow("__EVENTTARGET", target)
        name = token.attr("name") or ""
        if token.tag == "input" and name:
            kind = (token.attr("type") or "text").lower()
            if kind == "hidden":
                hidden_present.add(name)
                if name in ("__VIEWSTATE", "__EVENTVALIDATION", "__VIEWSTATEGENERATOR"):
                    attrs, changed = _set(attrs, "value", "\x00" + name + "\x00"), True
                elif name in ("__EVENTTARGET", "__EVENTARGUMENT", "__LASTFOCUS"):
                    attrs, changed = _set(attrs, "value", ""), True
            elif kind in ("radio", "checkbox"):
                own = token.attr("value") or "on"
                ev.allow(name, own)
                if name in values:
                    attrs, changed = _set(attrs, "checked", "checked" if values[name] == own else None), True
            elif kind in _BUTTONS:
                ev.allow(name, token.attr("value") or "")
            elif kind in ("password", "file"):
                attrs, changed = _set(attrs, "value", None), True
            elif name in values:
                attrs, changed = _set(attrs, "value", values[name] or ""), True
        elif token.tag == "button" and name:
            ev.allow(name, token.attr("value") or "")
        elif token.tag == "select" and name:
            select = name
        elif token.tag == "option" and select is not None:
            own = _option_value(tokens, i - 1)
            ev.allow(select, own)
            if select in values:
                attrs, changed = _set(attrs, "selected", "selected" if values[select] == own else None), True
        elif token.tag == "textarea" and name and name in values:
            out.append(token.raw + html.escape(values[name] or ""))
            skip_until, depth = ("textarea", 0), 0
            continue
        elif token.tag == "form" and not form_seen:
            form_seen = True
            out.append(token.raw)
            out.append("\x00__MISSING__\x00")
            continue
        element_id = token.attr("id")
        message = {ERROR_LABEL_ID: error, INFO_LABEL_ID: info}.get(element_id or "")
        if element_id in (ERROR_LABEL_ID, INFO_LABEL_ID) and token.kind == "start":
            labels_done.add(element_id or "")
            out.append(token.raw + html.escape(message or ""))
            skip_until, depth = (token.tag, 0), 0
            continue
        out.append(_tag(token, attrs) if changed else token.raw)
    view_state = codec.encode_view_state({"cap": template.index})
    validation = codec.encode_event_validation(ev.pairs)
    hidden = {
        "__VIEWSTATE": view_state,
        "__EVENTVALIDATION": validation,
        "__VIEWSTATEGENERATOR": view_state_generator(FRONT_CONTROLLER),
    }
    missing = ""
    for name in ("__VIEWSTATE", "__EVENTVALIDATION"):
        if name not in hidden_present:
            missing += f'<input type="hidden" name="{name}" id="{name}" value="{hidden[name]}" />'
    for label_id, message in ((ERROR_LABEL_ID, error), (INFO_LABEL_ID, info)):
        if message and label_id not in labels_done:
            missing += f'<span id="{label_id}">{html.escape(message)}</span>'
    text = "".join(out).replace("\x00__MISSING__\x00", missing)
    for name, value in hidden.items():
        text = text.replace("\x00" + name + "\x00", value)
    return text


# ----- the application -------------------------------------------------------------------------------------


def _key(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A page's address as ASP.NET routes it: the path in any case, the query's parameters in any order."""
    parts = urlsplit(url)
    path = parts.path.lower()
    if path.endswith("/"):
        path += "default.aspx"
    query = tuple(sorted((k.lower(), v) for k, v in parse_qsl(parts.query, keep_blank_values=True)))
    return path, query


Answer = tuple[int, str, tuple[tuple[str, str], ...]]


class Replay:
    """The captured pages as a WebForms application: GETs and postbacks answered with the page the capture
    holds for them, Saves on a site's form checked and stored here."""

    def __init__(self, capture: dict[str, Any], codec: Codec, server_os: str, source: str = "") -> None:
        self.capture = capture
        self.source = source
        self.codec = codec
        self.server_os = server_os
        self.templates = [Template.of(i, page) for i, page in enumerate(capture["pages"])]
        self._lock = threading.Lock()
        self.stored: dict[int, Stored] = {t.index: Stored() for t in self.templates if t.is_site_form}

    def reset(self) -> None:
        with self._lock:
            self.stored = {index: Stored() for index in self.stored}

    # ----- answers
    def _page(
        self, index: int, *, values: dict[str, str | None] | None = None, error: str = "", info: str = ""
    ) -> Answer:
        template = self.templates[index]
        with self._lock:
            stored = self.stored.get(index, Stored())
            shown = dict(stored.values) if values is None else values
            certificate = stored.certificate
        headers = tuple(
            (k, v) for k, v in (template.page.get("headers") or {}).items() if k.lower() in ("cache-control",)
        )
        body = render(template, self.codec, shown, certificate, error=error, info=info)
        return int(template.page["status"]), body, headers

    def get(self, url: str) -> Answer:
        key = _key(url)
        for method in ("GET", "POST"):
            for t in self.templates:
                if t.page["method"] == method and _key(t.page.get("final_url") or t.page["url"]) == key:
                    return self._page(t.index)
        return 404, error_page(NOT_FOUND), ()

    def post(self, url: str, form: PostedForm, save: Callable[[dict[str, Any]], None], save_500: bool) -> Answer:
        try:
            view = self.codec.decode_view_state(form.get("__VIEWSTATE"))
            validation = self.codec.decode_event_validation(form.get("__EVENTVALIDATION"))
        except ViewStateError:
            return 500, error_page(VIEWSTATE_MAC_FAILED), ()
        index = view.get("cap")
        if not isinstance(index, int) or not 0 <= index < len(self.templates):
            return 500, error_page(CONTROL_TREE_CHANGED), ()
        try:
            for name, value in form.fields:
                validation.check(name, value)
        except EventValidationError:
            return 500, error_page(INVALID_POSTBACK), ()
        source = self.templates[index]
        pressed = next((name for name, _ in form.fields if name in source.buttons), None)
        caption = source.buttons.get(pressed or "", "").strip().casefold()
        if pressed is not None and source.is_site_form and caption == "save":
            if save_500:
                save({"site_id": index, "certificate_sent": bool(form.files), "outcome": "fault-500"})
                return 500, error_page(SAVE_FAILED), ()
            return self._save(source, form, save)
        target = form.get("__EVENTTARGET") or ""
        key = _key(url)
        for t in self.templates:
            p = t.page
            if p["method"] != "POST" or _key(p["url"]) != key or (p.get("event_target") or "") != target:
                continue
            if pressed is None or pressed in (p.get("field_names") or ()):
                return self._page(t.index)
        if caption == "cancel":
            return self.get(url)
        return self._page(index)

    def _save(self, source: Template, form: PostedForm, save: Callable[[dict[str, Any]], None]) -> Answer:
        values: dict[str, str | None] = {}
        for name, kind in source.kinds.items():
            if kind in ("password", "file", "hidden") or kind in _BUTTONS:
                continue
            posted = form.get(name)
            # An unchecked check box posts nothing: that is its value.
            if kind == "checkbox" or posted is not None:
                values[name] = posted
        file_name, password_name = source.file_input(), source.password_input()
        upload = form.file(file_name) if file_name else None
        entry: dict[str, Any] = {"site_id": source.index, "certificate_sent": bool(upload and upload.has_file)}
        with self._lock:
            stored = self.stored[source.index]
            certificate = stored.certificate
        if upload is not None and upload.has_file:
            password = (form.get(password_name) if password_name else None) or ""
            verdict = check_pfx(upload.data, password, self.server_os)
            if not verdict.ok:
                save({**entry, "outcome": "refused", "check": verdict.check, "message": verdict.message})
                shown = {**stored.values, **values}
                return self._page(source.index, values=shown, error=str(verdict.message))
            certificate = verdict.certificate
        with self._lock:
            stored = self.stored[source.index]
            stored.values.update(values)
            stored.certificate = certificate
        save(
            {
                **entry,
                "outcome": "stored",
                "thumbprint_sha1": certificate.thumbprint_sha1 if certificate else None,
            }
        )
        return self._page(source.index, info=SAVED_TEXT)

    # ----- the state view
    def sites_json(self) -> list[dict[str, Any]]:
        """Each captured site: its names, its form's values (captured, then saved), what a Save stored."""
        out = []
        with self._lock:
            for site in self.capture.get("sites") or []:
                if not isinstance(site, dict):
                    continue
                index = site.get("form")
                template = self.templates[index] if isinstance(index, int) and index < len(self.templates) else None
                stored = self.stored.get(index) if isinstance(index, int) else None
                fields = dict(template.initial) if template else {}
                if stored is not None:
                    fields.update(stored.values)
                out.append(
                    {
                        "id": index,
                        "host_name": site.get("host_name"),
                        "site_name": site.get("site_name"),
                        "fields": fields,
                        "certificate": stored.certificate.to_json() if stored and stored.certificate else None,
                    }
                )
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "file": self.source,
            "tool": self.capture.get("tool"),
            "anonymized": self.capture.get("anonymized"),
            "pages": len(self.templates),
            "site_forms": sorted(self.stored),
        }


def load_replay(path: str | Path, codec: Codec, server_os: str) -> Replay:
    return Replay(read_capture(path), codec, server_os, source=str(path))
