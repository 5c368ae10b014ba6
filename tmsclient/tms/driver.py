"""The form driver: find the WebEx Settings page and a site's form by the page profile, plan a change, save."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tmsclient.credentials import Secret
from tmsclient.errors import (
    AmbiguousMatchError,
    NotAdministratorError,
    OutcomeUnknownError,
    PageNotUnderstoodError,
    RejectedByTmsError,
    ServerError,
    SiteNotFoundError,
)
from tmsclient.tms.pageprofile.matching import (
    LocatedField,
    TmsIdentity,
    choice_value,
    display_label,
    is_access_denied,
    label_matches,
    locate_field,
    normalize_label,
    page_errors,
    page_identity,
    page_info,
)
from tmsclient.tms.pageprofile.model import GLOBAL_FIELDS, SITE_FIELDS, PageProfile
from tmsclient.tms.session import (
    HttpResult,
    HttpServerError,
    OffOriginError,
    PostRedirectFailedError,
    PostReplayRefusedError,
    SessionExpiredError,
    TmsSession,
)
from tmsclient.tms.webforms.model import Control, Form, Link, Page
from tmsclient.tms.webforms.parsing import parse_page
from tmsclient.tms.webforms.submission import FileField, Submission

log = logging.getLogger(__name__)

PFX_CONTENT_TYPE = "application/x-pkcs12"


# ------------------------------------------------------------------------------------------- the sites grid


@dataclass(frozen=True)
class SiteRow:
    """One row of the WebEx Sites grid and how to open its form."""

    host_name: str
    site_name: str
    default: str | None  # the "Default Site" cell as shown
    link: Link | None  # the Edit link: a hyperlink or a postback
    button: Control | None  # or an Edit button
    form_index: int | None  # the form holding the button

    @property
    def name(self) -> str:
        return f"{self.host_name}/{self.site_name}" if self.site_name else self.host_name

    @property
    def url(self) -> str:
        return f"https://{self.name}"


def find_menu_link(page: Page, profile: PageProfile) -> Link:
    """The link at the end of the profile's menu path, by visible text. Only the whole path counts: each entry
    of the path, outermost first, must be the text of the enclosing menu item (a link or a span), so an entry
    with the same words under another parent is never followed."""
    path = profile.menu_path
    exact = [
        link
        for link in page.links
        if len(link.menu_path) == len(path)
        and all(label_matches(w, s) for w, s in zip(path, link.menu_path, strict=True))
    ]
    usable = [link for link in exact if link.url or link.postback]
    targets = {(link.url, link.postback) for link in usable}
    if len(targets) > 1:
        raise AmbiguousMatchError(
            f"{len(targets)} menu entries on {page.url} match {' > '.join(path)}: "
            + "; ".join(" > ".join(link.menu_path) + f" ({link.url or link.postback})" for link in usable),
            hint="give the WebEx Settings page with --page-url, or a longer menu_path in the page profile",
        )
    if not usable:
        raise MenuNotFoundError(
            f"no menu entry {' > '.join(path)} on {page.url}",
            hint="give the WebEx Settings page with --page-url, or set menu_path (or page_url) in a page profile "
            f"(--page-profile); top-level entries seen: {_top_entries(page)}",
        )
    return usable[0]


class MenuNotFoundError(PageNotUnderstoodError):
    """Raised when the start page holds no menu entry at the end of the profile's whole menu path."""


def _top_entries(page: Page) -> str:
    top = sorted({link.menu_path[0] for link in page.links if link.menu_path and link.menu_path[0]})
    return ", ".join(repr(t) for t in top[:12]) or "none"


def find_sites(page: Page, profile: PageProfile) -> tuple[SiteRow, ...]:
    """The sites of the WebEx Sites pane, however it is drawn: a grid whose header names the host and site
    columns; else a list of links or a repeater (each entry a link or button with a host name near it); TMS's
    empty-list text ("No results found. ...") is no sites at all."""
    for table in page.tables:
        for r, row in enumerate(table.rows):
            texts = [c.text for c in row.cells]
            host_i = next((i for i, t in enumerate(texts) if label_matches(profile.host_column, t)), None)
            site_i = next((i for i, t in enumerate(texts) if label_matches(profile.site_column, t)), None)
            if host_i is None or site_i is None:
                continue
            default_i = next((i for i, t in enumerate(texts) if normalized_in(t, ("default",))), None)
            return tuple(_site_rows(page, table.rows[r + 1 :], host_i, site_i, default_i, profile))
    entries = _pane_entries(page, profile)
    if entries:
        return entries
    if shows_empty_list(page, profile):
        return ()
    raise PageNotUnderstoodError(
        f"no WebEx Sites pane on {page.url} (a grid with the columns "
        f"{' or '.join(repr(c) for c in profile.host_column)} and "
        f"{' or '.join(repr(c) for c in profile.site_column)}, or links or buttons next to host names, "
        "or TMS's empty-list text)",
        hint="check --page-url, or set host_column/site_column in a page profile (`tmsclient discover`)",
    )


def shows_empty_list(page: Page, profile: PageProfile) -> bool:
    """Whether the page shows TMS's text for an empty list."""
    text = normalize_label(page.text)
    return any(normalize_label(t) in text for t in profile.empty_list if t.strip())


_HOST = re.compile(
    r"^(?:https?://)?(?P<host>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)"
    r"(?::\d+)?(?:/(?P<site>[^/?#\s]+))?/?$",
    re.I,
)
_LABEL_WORDS = frozenset({"host", "name", "site", "default", "url", "webex", "yes", "no", "on", "off", "-", "|"})


def _host_of(text: str) -> tuple[str, str] | None:
    """``("acme.webex.com", "acme")`` from a host name, ``host/site`` or a site URL; None for other text."""
    m = _HOST.match(text.strip())
    if m is None or "." not in m.group("host"):
        return None
    host = m.group("host")
    # A bare dotted word such as "Settings.aspx" or a version number is not a host name.
    if host.rsplit(".", 1)[-1].isdigit() or host.casefold().endswith((".aspx", ".htm", ".html")):
        return None
    return host, m.group("site") or ""


def _entry_identity(own: str, context: str, profile: PageProfile) -> tuple[str, str] | None:
    """The host and site an entry of a list or repeater names: from its own text (a link on the host name or
    site URL), else from the text of its item; the site name from a URL, a "Site Name" label, or the word
    after the host name."""
    hit = _host_of(own)
    tokens = context.split()
    if hit is None:
        hosts = [h for h in (_host_of(t) for t in tokens) if h is not None]
        if len({h[0].casefold() for h in hosts}) != 1:
            return None  # no host, or an item holding several: not one site's entry
        hit = hosts[0]
    host, site = hit
    if site:
        return host, site
    words = [t.strip(":,;()[]") for t in tokens]
    for i in range(len(words) - 2):
        if label_matches(profile.site_column, f"{words[i]} {words[i + 1]}"):
            return host, words[i + 2]
    at = next((i for i, t in enumerate(words) if t.casefold() == host.casefold()), -1)
    ignore = {normalize_label(x) for x in (*profile.edit_labels, *profile.yes_labels, *profile.no_labels)}
    for word in words[at + 1 :] if at >= 0 else ():
        low = word.casefold()
        if not word or low in _LABEL_WORDS or normalize_label(word) in ignore or _host_of(word) is not None:
            continue
        if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", word):
            return host, word
        break
    return host, ""


def _pane_entries(page: Page, profile: PageProfile) -> tuple[SiteRow, ...]:
    """The entries of a sites pane drawn as a list of links or a repeater, inside the part of the page under
    the "WebEx Sites" heading when there is one."""
    bounds = _pane_bounds(page, profile)
    bounded = bounds is not None
    start, end = bounds or (0, _NO_END)
    rows: dict[str, SiteRow] = {}
    order: list[str] = []

    def add(host: str, site: str, link: Link | None, button: tuple[int, Control] | None) -> None:
        key = f"{host}/{site}".casefold()
        known = rows.get(key)
        if known is None:
            order.append(key)
            rows[key] = SiteRow(host, site, None, link, button[1] if button else None, button[0] if button else None)
            return
        # A person clicks the name or Edit; a link wins over a button, an Edit link over the name.
        if link is not None and (known.link is None or label_matches(profile.edit_labels, link.text)):
            rows[key] = dataclasses.replace(known, link=link, button=None, form_index=None)

    in_pane = [lk for lk in page.links if start <= lk.serial < end and (lk.url or lk.postback)]
    per_item: dict[str, int] = {}
    for link in in_pane:
        per_item[link.context] = per_item.get(link.context, 0) + 1
    for link in in_pane:
        if label_matches(profile.never_press, link.text):
            continue
        edit = label_matches(profile.edit_labels, link.text)
        own = link.text if not edit else ""
        # A link in words tmsclient does not know (another UI language) opens the site only inside the
        # "WebEx Sites" part of the page and only as its item's one link: never a guess between Edit and Delete.
        other = not edit and _host_of(link.text) is None
        if other and not (bounded and link.context and per_item[link.context] == 1):
            continue
        found = _entry_identity(own, link.context, profile)
        if found is not None:
            add(found[0], found[1], link, None)
    for fi, form in enumerate(page.forms):
        for control in form.submit_buttons():
            if not start <= control.serial < end or control.disabled:
                continue
            if not label_matches(profile.edit_labels, control.caption_text) and _host_of(control.caption_text) is None:
                continue
            own = "" if label_matches(profile.edit_labels, control.caption_text) else control.caption_text
            found = _entry_identity(own, control.context, profile)
            if found is not None:
                add(found[0], found[1], None, (fi, control))
    return tuple(rows[k] for k in order)


def _pane_bounds(page: Page, profile: PageProfile) -> tuple[int, int] | None:
    """Serial numbers between which the sites pane lies: from its heading to the next heading (or the page's
    end); None when no heading names it."""
    heading = next((h for h in page.headings if label_matches(profile.sites_heading, h.text)), None)
    if heading is None:
        return None
    after = [h.serial for h in page.headings if h.serial > heading.serial and h.level <= heading.level]
    return heading.serial, min(after) if after else _NO_END


_NO_END = 1 << 62


def normalized_in(text: str, words: Sequence[str]) -> bool:
    low = text.casefold()
    return any(w in low for w in words)


def _site_rows(
    page: Page, rows: Sequence[Any], host_i: int, site_i: int, default_i: int | None, profile: PageProfile
) -> list[SiteRow]:
    out = []
    for row in rows:
        cells = row.cells
        if len(cells) <= max(host_i, site_i):
            continue
        host, site = cells[host_i].text, cells[site_i].text
        if not host and not site:
            continue
        links = [page.links[i] for c in cells for i in c.links]
        buttons = [
            (fi, page.forms[fi].controls[ci])
            for c in cells
            for fi, ci in c.controls
            if page.forms[fi].controls[ci].is_submit_button
        ]
        link = next((lk for lk in links if label_matches(profile.edit_labels, lk.text)), None)
        if link is None:
            link = next((lk for lk in links if label_matches((host, site), lk.text)), None)
        if link is None and len(links) == 1 and not buttons:
            link = links[0]
        button = next(((fi, b) for fi, b in buttons if label_matches(profile.edit_labels, b.caption_text)), None)
        out.append(
            SiteRow(
                host_name=host,
                site_name=site,
                default=cells[default_i].text if default_i is not None and default_i < len(cells) else None,
                link=link if link is not None and (link.url or link.postback) else None,
                button=button[1] if button and link is None else None,
                form_index=button[0] if button and link is None else None,
            )
        )
    return out


def match_site(rows: Sequence[SiteRow], wanted: str) -> SiteRow:
    """The one row that ``wanted`` names: a host name, a site name, ``host/site`` or ``https://host/site``."""
    spec = wanted.strip()
    key = spec.casefold()
    if "://" in spec or "/" in spec:
        parts = urlsplit(spec if "://" in spec else "https://" + spec)
        host = (parts.hostname or "").casefold()
        site = parts.path.strip("/").split("/")[0].casefold()
        # A list that shows only host names leaves a row's site name unknown (""): the form tells later.
        hits = [
            r
            for r in rows
            if r.host_name.casefold() == host and (not site or not r.site_name or r.site_name.casefold() == site)
        ]
    else:
        hits = [r for r in rows if key in (r.host_name.casefold(), r.site_name.casefold())]
    if len(hits) == 1:
        return hits[0]
    listed = ", ".join(r.name for r in rows) or "none"
    if not hits:
        raise SiteNotFoundError(
            f"no WebEx site matches --site {spec!r}; sites on TMS: {listed}",
            hint="give a host name, a site name or the site URL exactly as listed",
        )
    raise AmbiguousMatchError(
        f"{len(hits)} WebEx sites match --site {spec!r}: {', '.join(r.name for r in hits)}",
        hint=f"give the host name or the site URL, e.g. --site {hits[0].url}",
    )


# --------------------------------------------------------------------------------------------- a site form


@dataclass(frozen=True)
class SiteView:
    """A site's configuration form as read: the page, its form, the logical fields found, the Save button."""

    row: SiteRow
    page: Page
    form: Form
    fields: Mapping[str, LocatedField]
    save: Control | None
    profile: PageProfile

    def require(self, key: str) -> LocatedField:
        """A logical field, or the "label not found" error that names the labels seen on the page."""
        found = self.fields.get(key)
        if found is not None:
            return found
        located = locate_field(
            self.form, key, self.profile.site_locator(key), required=True, where=f"the form of site {self.row.name}"
        )
        assert located is not None  # required=True raises instead
        return located

    def value(self, key: str) -> Any:
        located = self.fields.get(key)
        return None if located is None else self.form.current_value(located.field.name)


def read_site_form(page: Page, row: SiteRow, profile: PageProfile) -> SiteView:
    """Find the form with the site's fields on ``page`` and check it is the form of ``row``'s site."""
    where = f"the form of site {row.name}"
    best: tuple[Form, dict[str, LocatedField]] | None = None
    for form in page.forms:
        fields: dict[str, LocatedField] = {}
        for key in SITE_FIELDS:
            located = locate_field(form, key, profile.site_locator(key), required=False, where=where)
            if located is not None:
                fields[key] = located
        if "host_name" in fields and (best is None or len(fields) > len(best[1])):
            best = (form, fields)
    if best is None:
        if is_access_denied(page, profile):
            raise not_admin(page)
        errors = page_errors(page, profile)
        if errors:
            raise PageNotUnderstoodError(
                f"TMS did not open the form of site {row.name}: {errors[0]}",
                hint="rerun; if it repeats, open the site in a browser",
            )
        if not page.forms:
            raise PageNotUnderstoodError(
                f"the page opened for site {row.name} ({page.url}) holds no form",
                hint="check --page-url and the page profile",
            )
        locate_field(page.forms[0], "host_name", profile.site_locator("host_name"), where=where)
        raise AssertionError("unreachable: locate_field raises for a required field")  # pragma: no cover
    form, fields = best
    _only_of_kind(form, fields, "sso_certificate", "file", profile)
    _only_of_kind(form, fields, "certificate_password", "password", profile)
    host = str(form.current_value(fields["host_name"].field.name) or "")
    site_field = fields.get("site_name")
    site = str(form.current_value(site_field.field.name) or "") if site_field else row.site_name
    # A list that shows only host names leaves the site name to the form.
    other_site = site_field is not None and bool(row.site_name) and site.casefold() != row.site_name.casefold()
    if host.casefold() != row.host_name.casefold() or other_site:
        raise PageNotUnderstoodError(
            f"TMS opened the form of site {host}/{site}, got that, expected {row.name}",
            hint="rerun; if it repeats, check the sites grid columns in the page profile",
        )
    if not row.site_name and site:
        row = dataclasses.replace(row, site_name=site)
    anchor = fields.get("sso_certificate") or fields["host_name"]
    return SiteView(row, page, form, fields, pick_save_button(form, profile, anchor), profile)


def _only_of_kind(form: Form, fields: dict[str, LocatedField], key: str, kind: str, profile: PageProfile) -> None:
    """A field no built-in label found is the form's only input of its kind (the one file input is the
    certificate); a field a page-profile file names is found as it says, or not at all."""
    if key in fields or f"fields.{key}" in profile.overridden:
        return
    same = [f for f in form.fields if f.kind == kind and not f.disabled]
    if len(same) == 1:
        fields[key] = LocatedField(key, same[0], f"the form's only {kind} input")


def pick_save_button(form: Form, profile: PageProfile, anchor: LocatedField) -> Control | None:
    """The Save button of the site's part of the form: of the buttons labelled Save, the one that shares the
    innermost container with the certificate field (a page can hold a second Save for the global part)."""
    saves = [
        c
        for c in form.submit_buttons()
        if not c.disabled
        and label_matches(profile.save_labels, c.caption_text)
        and not label_matches(profile.never_press, c.caption_text)
    ]
    if len(saves) <= 1:
        return saves[0] if saves else None
    target = form.controls[anchor.field.controls[0]]

    def shared(c: Control) -> int:
        n = 0
        for a, b in zip(c.ancestors, target.ancestors, strict=False):
            if a != b:
                break
            n += 1
        return n

    depth = max(shared(c) for c in saves)
    best = [c for c in saves if shared(c) == depth]
    if len(best) > 1:
        # Still tied: the first Save after the field, as a form's own Save follows its fields.
        after = [c for c in best if c.serial > target.serial]
        best = after[:1] if after else best[-1:]
    return best[0]


def not_admin(page: Page) -> NotAdministratorError:
    return NotAdministratorError(
        f"TMS shows 'Access Denied' at {page.url}: the account is not a TMS Site Administrator",
        hint="log in with an account in TMS's Site Administrator group (or ask an admin to add it)",
    )


# ------------------------------------------------------------------------------------------------ the plan


@dataclass(frozen=True)
class UploadIntent:
    """What an upload changes. The password stays a Secret; the file's bytes never show in a repr."""

    pfx_name: str
    pfx_data: bytes = field(repr=False)
    pfx_password: Secret
    enable_sso: bool = False
    partner_name: str | None = None
    account_name: str | None = None
    authn_context: str | None = None

    def text_fields(self) -> dict[str, str]:
        values = {
            "partner_name": self.partner_name,
            "account_name": self.account_name,
            "authn_context": self.authn_context,
        }
        return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class PlanRow:
    key: str
    label: str
    before: str
    after: str

    def line(self) -> str:
        return f"{self.label}: {self.before} -> {self.after}"


@dataclass(frozen=True)
class Plan:
    """The Save as it will go out (``submission``), and what it changes, redacted, for a person."""

    view: SiteView
    submission: Submission
    rows: tuple[PlanRow, ...]
    #: Logical field -> the value the verifier must find afterwards (raw option values for radios/selects).
    expected: Mapping[str, Any]
    #: Control name -> value as rendered, for every field the Save must leave alone.
    unchanged: Mapping[str, Any]


def build_plan(view: SiteView, intent: UploadIntent) -> Plan:
    """The Save submission: every field as rendered, plus the certificate, its password and the asked-for
    SSO fields. Fields the page does not offer, or that cannot take the value, are errors here, before any
    POST."""
    form = view.form
    if view.save is None:
        labels = " or ".join(repr(x) for x in view.profile.save_labels)
        raise PageNotUnderstoodError(
            f"no Save button ({labels}) in the form of site {view.row.name}",
            hint="set save_labels in a page profile (`tmsclient discover`)",
        )
    cert = view.require("sso_certificate")
    password = view.require("certificate_password")
    if cert.field.kind != "file":
        raise PageNotUnderstoodError(
            f"the field found for the SSO certificate ({cert.how}) is a {cert.field.kind} field, expected a file input",
            hint="fix [fields].sso_certificate in the page profile",
        )
    if password.field.kind not in ("password", "text"):
        raise PageNotUnderstoodError(
            f"the field found for the certificate password ({password.how}) is a "
            f"{password.field.kind} field, expected a password box",
            hint="fix [fields].certificate_password in the page profile",
        )
    sub = Submission.of(form, submitter=view.save)
    sub.require_file_carrying(f"the Save of site {view.row.name}")
    sub = sub.set(cert.field.name, FileField(intent.pfx_name, intent.pfx_data, PFX_CONTENT_TYPE))
    sub = sub.set(password.field.name, intent.pfx_password)
    expected: dict[str, Any] = {}
    changed_names = {cert.field.name, password.field.name}
    if intent.enable_sso:
        sso = view.require("use_sso")
        if sso.field.kind == "checkbox":
            sub = sub.check(sso.field.name, True)
            expected["use_sso"] = True
        else:
            value = choice_value(sso.field, True, view.profile)
            sub = sub.set(sso.field.name, value)
            expected["use_sso"] = value
        changed_names.add(sso.field.name)
    for key, value in intent.text_fields().items():
        located = view.require(key)
        if located.field.kind not in ("text", "textarea", "search", "url", "email"):
            raise PageNotUnderstoodError(
                f"the field found for {key} ({located.how}) is a {located.field.kind} field, expected a text box",
                hint=f"fix [fields].{key} in the page profile",
            )
        sub = sub.set(located.field.name, value)
        expected[key] = value
        changed_names.add(located.field.name)
    label_of = {
        lf.field.name: (key, display_label(lf.field.labels[0]) if lf.field.labels else key)
        for key, lf in view.fields.items()
    }
    rows = []
    for change in sub.changes():
        key, label = label_of.get(change.name, (change.name, change.name))
        rows.append(PlanRow(key, label, change.before, change.after))
    unchanged = {
        f.name: form.current_value(f.name)
        for f in form.fields
        if f.name not in changed_names and f.kind not in ("hidden", "password", "file")
    }
    return Plan(view, sub, tuple(rows), expected, unchanged)


# ------------------------------------------------------------------------------------------------ the I/O


@dataclass
class Driver:
    """Navigation and the Save over one session. ``settings_url`` is remembered after the first visit so a
    re-read goes straight to the page.

    The walk a person would make, on one authenticated :class:`~tmsclient.tms.session.TmsSession`:

    1. the start page (``--url``), then the menu entry at the profile's ``menu_path`` (Administrative Tools >
       Configuration > WebEx Settings), or straight to ``--page-url``;
    2. the "WebEx Sites" grid: the row whose host name, site name or site URL is ``--site``;
    3. the row's Edit link (a hyperlink to the site's own page, or a ``__doPostBack`` postback) or button;
    4. the site form: each logical field located by the profile (label or name/id glob), the Save button;
    5. a plan: the submission as a browser would send it, with the certificate file, its password and the
       requested SSO fields changed and everything else exactly as rendered; shown redacted for ``--dry-run``;
    6. the Save, posted once, right after the form was read on the same connection; the answer read for TMS's own
       error words.

    Pure parts (:func:`find_menu_link`, :func:`find_sites`, :func:`match_site`, :func:`read_site_form`,
    :func:`build_plan`) take parsed pages, so they are tested on fixtures; :class:`Driver` adds the I/O.
    """

    session: TmsSession
    profile: PageProfile
    page_url: str | None = None
    settings_url: str | None = None
    menu_path_followed: tuple[str, ...] = ()
    #: Set once a POST got 401 (the login did not carry over from the GET): from then on every POST logs in
    #: on itself, so a server that authenticates each request still gets each form, the .pfx included, once.
    post_handshake: bool = False
    posts_refused_with_401: int = 0
    start_page: Page | None = None
    last_page: Page | None = None

    def _read(self, result: HttpResult, what: str) -> Page:
        page = parse_page(result.text, result.url, status=result.status)
        if result.status != 200:
            raise PageNotUnderstoodError(
                f"TMS answered HTTP {result.status} for {what} ({result.url})",
                hint="check --url and --page-url",
            )
        if is_access_denied(page, self.profile):
            raise not_admin(page)
        if page.aspnet_error is not None:
            raise PageNotUnderstoodError(
                f"TMS showed an error page for {what}: {page.aspnet_error.message}", hint="see the TMS event log"
            )
        self.last_page = page
        return page

    def get(self, url: str, what: str, source: str | None = None) -> Page:
        """GET a page; ``source`` names where its URL came from (a link) for an error off the origin."""
        log.info("GET %s (%s)", self.session.url_for(url), what)
        return self._read(self.session.get(url, what=what, source=source), what)

    def post(self, sub: Submission, what: str, *, changes_tms: bool = False) -> HttpResult:
        fields: list[tuple[str, Any]] = []
        for entry in sub.entries():
            value = entry.value
            if isinstance(value, FileField):
                fields.append((entry.name, (value.filename, value.content, value.content_type)))
            else:
                fields.append((entry.name, value))
        url, source = sub.url, submission_source(sub, what)
        log.info("POST %s (%s)", url, what)
        multipart = sub.is_multipart
        if self.post_handshake:
            return self.session.post(
                url, fields, multipart=multipart, what=what, handshake=True, source=source, changes_tms=changes_tms
            )
        try:
            return self.session.post(
                url, fields, multipart=multipart, what=what, source=source, changes_tms=changes_tms
            )
        except SessionExpiredError:
            # IIS refused it before the page ran, so nothing was applied: send it once more, logging in on the
            # POST itself. A second 401 is a login failure (AuthenticationError), never a third try.
            self.posts_refused_with_401 += 1
            self.post_handshake = True
            log.warning(
                "TMS answered %s with 401 (the login did not carry over from the page read); "
                "nothing was applied, sending it once more with its own login",
                what,
            )
            return self.session.post(
                url, fields, multipart=multipart, what=what, handshake=True, source=source, changes_tms=changes_tms
            )

    def identity(self) -> TmsIdentity:
        """Which account and which TMS the pages read show (the footer and the user name), when they do."""
        found = TmsIdentity(None, None, None)
        for page in (self.last_page, self.start_page):
            if page is None:
                continue
            seen = page_identity(page, self.profile)
            found = TmsIdentity(
                found.user or seen.user, found.serial_number or seen.serial_number, found.server or seen.server
            )
        return found

    # ---- navigation
    def settings_page(self) -> Page:
        """The WebEx Settings page: ``--page-url``, the remembered URL, or the menu from the start page."""
        url = self.page_url or self.settings_url
        if url is None:
            start = self.start_page = self.get("", "the TMS start page")
            try:
                link = find_menu_link(start, self.profile)
            except MenuNotFoundError:
                if not self.profile.page_url:
                    raise
                log.info("menu path not found; using the page profile's page_url %s", self.profile.page_url)
                page = self.get(self.profile.page_url, "the WebEx Settings page", source="the page profile's page_url")
                self.settings_url = page.url
                return page
            self.menu_path_followed = link.menu_path
            log.info("menu: %s", " > ".join(link.menu_path))
            if link.url:
                page = self.get(
                    link.url,
                    "the WebEx Settings page",
                    source=f"the menu entry {' > '.join(link.menu_path)} on the start page",
                )
            else:
                assert link.postback is not None
                form = _form_with(start, "__EVENTTARGET")
                result = self.post(Submission.of(form, postback=link.postback), "the WebEx Settings menu entry")
                page = self._read(result, "the WebEx Settings page")
        else:
            page = self.get(url, "the WebEx Settings page", source="--page-url" if self.page_url else None)
        self.settings_url = page.url
        return page

    def sites(self, page: Page) -> tuple[SiteRow, ...]:
        return find_sites(page, self.profile)

    def global_values(self, page: Page) -> dict[str, tuple[str, Any]]:
        """The WebEx Configuration part: logical key -> (label, value shown)."""
        out: dict[str, tuple[str, Any]] = {}
        for form in page.forms:
            for key in GLOBAL_FIELDS:
                located = locate_field(
                    form, key, self.profile.global_fields[key], required=False, where="the WebEx Settings page"
                )
                if located is not None and key not in out:
                    out[key] = (
                        display_label(located.field.labels[0]) if located.field.labels else key,
                        _shown(form, located),
                    )
        return out

    def open_site(self, page: Page, row: SiteRow) -> SiteView:
        """Open the row's form and find the site's fields in it."""
        return read_site_form(self.open_site_page(page, row), row, self.profile)

    def open_site_page(self, page: Page, row: SiteRow) -> Page:
        """The page the row's Edit opens: its hyperlink (GET), its postback or its button (POST)."""
        what = f"the form of site {row.name}"
        if row.link is not None and row.link.url:
            return self.get(row.link.url, what, source=f"the Edit link of site {row.name}")
        if row.link is not None and row.link.postback is not None:
            form = _form_with(page, "__EVENTTARGET")
            return self._read(self.post(Submission.of(form, postback=row.link.postback), what), what)
        if row.button is not None and row.form_index is not None:
            form = page.forms[row.form_index]
            return self._read(self.post(Submission.of(form, submitter=row.button), what), what)
        raise PageNotUnderstoodError(
            f"the row of site {row.name} has no Edit link or button",
            hint="set edit_labels in a page profile (`tmsclient discover` shows the grid)",
        )

    def reopen(self, row: SiteRow) -> SiteView:
        """A fresh read of the site's form: its own page when it has one, else the grid again and the row's
        postback (a postback belongs to the page view it was rendered in)."""
        if row.link is not None and row.link.url:
            page = self.get(row.link.url, f"the form of site {row.name}", source=f"the Edit link of site {row.name}")
            return read_site_form(page, row, self.profile)
        page = self.settings_page()
        fresh = match_site(self.sites(page), row.url)
        return self.open_site(page, fresh)

    def save(self, plan: Plan) -> Page:
        """POST the plan once and judge the answer: TMS's own error words on its page become a
        RejectedByTmsError; an answer after which TMS may have applied the Save without saying so (a redirect
        to another origin or to an error page, a 307/308, a non-200 status, an ASP.NET error page) becomes a
        SaveOutcomeUnknownError, never a claim that nothing was changed."""
        row = plan.view.row
        what = f"the Save of site {row.name}"
        # Judged again here, on what is actually sent: a multipart POST, or nothing.
        plan.submission.require_file_carrying(what)
        try:
            result = self.post(plan.submission, what, changes_tms=True)
        except (OffOriginError, PostReplayRefusedError) as err:
            if not err.body_may_have_arrived:
                raise
            raise unknown_save(row, self._answer_of(err)) from err
        except PostRedirectFailedError as err:
            raise unknown_save(row, err.answer) from err
        except HttpServerError as err:
            if err.result.method != "GET":
                failed = save_error_page(row, parse_page(err.result.text, err.result.url, status=err.status))
                if failed is not None:
                    raise failed from err
                raise
            # The 5xx came from the page TMS redirected the Save to, after the Save itself had run.
            said = f": {err.tms_text}" if err.tms_text else ""
            raise unknown_save(row, f"a redirect to an error page ({err.result.url}, HTTP {err.status}{said})") from err
        page = parse_page(result.text, result.url, status=result.status)
        if is_access_denied(page, self.profile):
            raise not_admin(page)
        failed = save_error_page(row, page)
        if failed is not None:
            raise failed
        errors = page_errors(page, self.profile)
        unclear = unclear_answer(result, page, errors)
        if unclear is not None:
            raise unknown_save(row, unclear)
        if errors:
            raise rejection(row, errors)
        info = page_info(page, self.profile)
        if info:
            log.info("TMS says: %s", info[0])
        return page

    def _answer_of(self, err: OffOriginError | PostReplayRefusedError) -> str:
        if isinstance(err, OffOriginError):
            return (
                f"a redirect to {err.origin}, another origin than the TMS at {self.session.origin} (--url); "
                "tmsclient did not follow it and sent nothing there"
            )
        return (
            f"{err.status} to {err.location}, which asks to send the form again; tmsclient never re-sends a "
            "POST by itself"
        )


class SaveOutcomeUnknownError(OutcomeUnknownError):
    """Raised when TMS answered the Save in a way that neither shows the page after a Save nor refuses it: TMS
    got the form and may have applied it. ``answer`` says what TMS answered, for a message after a re-read."""

    def __init__(self, message: str, *, answer: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.answer = answer


class SaveErrorPageError(ServerError):
    """Raised when TMS answered the Save with an ASP.NET error page whose message is a known failure to import
    the certificate: ``words`` are TMS's, ``refused`` says the file or its password was refused (exit 20)
    rather than the server failing, ``status`` is the page's HTTP status. ``upload`` turns it into a
    RejectedByTmsError (exit 20) or a ServerError (exit 21) once a re-read has said what TMS kept."""

    def __init__(self, message: str, *, words: str, refused: bool, status: int | None, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.words = words
        self.refused = refused
        self.status = status


#: The .NET messages of a failed PKCS#12 import that an unhandled exception shows on an error page [3P]:
#: (words, the file or password was refused, what to do).
_IMPORT_FAILURES: tuple[tuple[str, bool, str], ...] = (
    (
        "network password is not correct",
        True,
        "check the .pfx password; Windows Server 2012 R2/2016 also says this for an AES-256 or SHA-256-MAC .pfx: "
        "run `tmsclient check --target-os 2016 FILE` and re-export with `tmsclient convert`",
    ),
    (
        "unable to decode certificate",
        True,
        "check the .pfx password and format (`tmsclient check --target-os 2016 FILE`)",
    ),
    (
        "cannot find the requested object",
        True,
        "the file is not a PKCS#12 file TMS can read: check it with `tmsclient inspect`",
    ),
    (
        "keyset does not exist",
        False,
        "the TMS server could not store the private key: its IIS application pool identity needs access to the "
        "machine key store (C:\\ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys); ask the TMS administrator, "
        "then upload again",
    ),
    (
        "cannot find the file specified",
        False,
        "the TMS server could not import the key into a user profile: set 'Load User Profile' to True on the "
        "TMS application pool in IIS (ask the TMS administrator), then upload again",
    ),
    (
        "access is denied",
        False,
        "the TMS server was denied access while importing the certificate (key store permissions of the "
        "application pool identity); ask the TMS administrator, then upload again",
    ),
)


def save_error_page(row: SiteRow, page: Page) -> SaveErrorPageError | None:
    """The typed error for an ASP.NET error page answering a Save, read for a known import failure's words;
    None when the page is not one (other error pages stay "outcome unknown" or "server error")."""
    err = page.aspnet_error
    if err is None:
        return None
    text = f"{err.message} {err.details}".casefold()
    for key, refused, hint in _IMPORT_FAILURES:
        if key not in text:
            continue
        words = err.message if key in err.message.casefold() else err.details
        # "System.Security.Cryptography.CryptographicException: Keyset does not exist" -> TMS's words alone.
        words = re.sub(r"^[\w.]+Exception:\s*", "", words).strip() or err.message
        status = f"HTTP {page.status}" if page.status else "an error page"
        return SaveErrorPageError(
            f"TMS answered the Save of site {row.name} with an ASP.NET error page ({status}): {words}",
            words=words,
            refused=refused,
            status=page.status,
            hint=hint,
        )
    return None


def unknown_save(row: SiteRow, answer: str) -> SaveOutcomeUnknownError:
    """The error for a Save TMS answered with ``answer``: the change may have been applied; how to check."""
    return SaveOutcomeUnknownError(
        f"TMS answered the Save of site {row.name} with {answer}; the change may have been applied, and "
        "whether it was is unknown",
        answer=answer,
        hint=f"run `tmsclient verify --site {row.name} --pfx FILE` (same TMS and login) to see what TMS "
        "stored, before uploading again",
    )


def unclear_answer(result: HttpResult, page: Page, errors: Sequence[str]) -> str | None:
    """What makes TMS's answer to a Save neither its page after a Save nor its refusal, in words; None when it
    is one of those. TMS refuses on its own page (200, its error label); any other page may follow a Save it
    ran."""
    words = f": {errors[0]}" if errors else ""
    where = f"a redirect to {result.url}, which answered" if result.redirected else "a page with"
    if result.status != 200:
        return f"{where} HTTP {result.status}{words}"
    if page.aspnet_error is not None:
        return f"{where} an ASP.NET error page{words}"
    if result.redirected and (errors or "aspxerrorpath=" in result.url.lower()):
        return f"a redirect to an error page ({result.url}){words}"
    return None


def submission_source(sub: Submission, what: str) -> str:
    """Where a submission's URL comes from, for the origin error: the button's formaction, or the form's
    action (never called a redirect: the page itself points there)."""
    button = sub.form.controls[sub.submitter] if sub.submitter is not None else None
    if button is not None and button.formaction:
        label = button.caption_text or button.name
        return f"the formaction of the button {label!r} (for {what})"
    return f"the form's action (for {what})"


def _form_with(page: Page, name: str) -> Form:
    for form in page.forms:
        if form.has(name):
            return form
    raise PageNotUnderstoodError(
        f"the page {page.url} has no form with {name}, so its links cannot post back",
        hint="check --page-url; the page is not an ASP.NET WebForms page",
    )


def _shown(form: Form, located: LocatedField) -> Any:
    f = located.field
    value = form.current_value(f.name)
    if f.kind == "radio" or f.kind.startswith("select"):
        label = next((o.label for o in f.options if o.value == value), None)
        return label if label is not None else value
    return value


#: Hints for TMS's refusals we know the words of (Windows' own, and the emulator's guesses).
_REJECTION_HINTS: tuple[tuple[str, str], ...] = (
    (
        "network password is not correct",
        "check the .pfx password; Windows Server 2012 R2/2016 also says this for an AES-256 or SHA-256-MAC "
        ".pfx: run `tmsclient check --target-os 2016 FILE` and re-export with `tmsclient convert`",
    ),
    ("private key does not match", "bundle the certificate with the key that made its CSR (`tmsclient bundle`)"),
    (
        "does not have a private key",
        "export the .pfx with its private key (`tmsclient bundle` joins key and certificate)",
    ),
    ("has expired", "upload the renewed certificate, not the old one"),
    ("not yet valid", "wait until the certificate's start date, or check the TMS server's clock"),
    ("password is required", "give the .pfx password"),
    (
        "cannot find the requested object",
        "the file is not a PKCS#12 file TMS can read: check it with `tmsclient inspect`",
    ),
)


def rejection(row: SiteRow, errors: Sequence[str]) -> RejectedByTmsError:
    text = errors[0]
    hint = next(
        (h for key, h in _REJECTION_HINTS if key in text.casefold()),
        "fix what TMS reports, then rerun; nothing was changed",
    )
    return RejectedByTmsError(
        f"TMS refused the Save of site {row.name}: {text}",
        hint=hint,
        details=[f"TMS also says: {e}" for e in errors[1:]],
    )
