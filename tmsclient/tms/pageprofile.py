"""The client's page profile: where the WebEx Settings page is, and how its fields and messages are labelled.

Nobody here has seen a real TMS 15.x WebEx Settings page (docs/tms-page-model.md), so nothing is hard-coded in
the driver: it follows the profile's menu path, finds each logical field by the profile's labels (or a name/id
pattern), reads certificate details under the profile's labels, and recognises errors and access denial by the
profile's markers. The built-in profile (``tms15``) has the labels of the emulator's default profile. A user
whose TMS shows other labels writes a TOML page-profile file (``tmsclient discover --out FILE`` writes one to
start from) and overrides only what differs::

    menu_path = ["Administrative Tools", "Configuration", "WebEx Settings"]

    [fields]
    certificate_password = "Password"               # a label (or a list of labels)
    use_sso = { labels = ["Single Sign On"] }
    partner_name = { name = "*$uxPartnerName" }     # a glob on the control's name ...
    account_name = { id = "*_uxAccountName" }       # ... or on its id

    [certificate]
    thumbprint = ["Thumbprint"]

Each ``[fields]`` entry replaces the built-in one for that field; other sections replace their keys. Labels
match tolerantly (:func:`normalize_label`): case, surrounding colons, ``*`` required markers, whitespace
(including no-break and zero-width spaces) do not matter.
"""

from __future__ import annotations

import fnmatch
import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tmsclient.errors import AmbiguousMatchError, ConfigError, InputFileError, PageNotUnderstoodError
from tmsclient.tms.webforms import Field, Form, Page

#: Logical fields of a site's configuration form, in page order, with what the driver does with them.
SITE_FIELDS: tuple[str, ...] = (
    "host_name", "site_name", "bandwidth", "default_site", "use_global", "tsp_audio", "use_sso",
    "sso_certificate", "certificate_password", "partner_name", "account_name", "authn_context",
)
#: The SSO fields: the ones an upload may change.
SSO_FIELDS: tuple[str, ...] = (
    "use_sso", "sso_certificate", "certificate_password", "partner_name", "account_name", "authn_context",
)
#: Logical fields of the "WebEx Configuration" part.
GLOBAL_FIELDS: tuple[str, ...] = ("enable_webex", "add_webex_to_all")
#: Read-only certificate details a site form may show.
CERT_DETAILS: tuple[str, ...] = ("subject", "expires", "thumbprint", "installed")

MAX_PROFILE_BYTES = 256 * 1024

_MARKERS = re.compile(r"[*\u2217\uff0a]+")
_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff\u200c\u200d\u200e\u200f]+")


def normalize_label(text: str) -> str:
    """The form in which labels are compared: NFKC, case-folded, ``*`` markers and surrounding colons
    removed, whitespace (no-break, zero-width and direction marks included) collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = _MARKERS.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    text = text.strip(":\uff1a").strip()
    return _SPACES.sub(" ", text).casefold()


def display_label(text: str) -> str:
    """A label as a person would name the field in a sentence: without a trailing colon or ``*`` marker."""
    text = _SPACES.sub(" ", _MARKERS.sub(" ", text)).strip()
    return text.rstrip(":\uff1a").strip() or text


def label_matches(wanted: str | Iterable[str], seen: str | None) -> bool:
    """Whether a label on the page (``seen``) is one of the ``wanted`` labels, tolerantly."""
    if not seen:
        return False
    n = normalize_label(seen)
    if not n:
        return False
    candidates = (wanted,) if isinstance(wanted, str) else tuple(wanted)
    return any(normalize_label(w) == n for w in candidates)


@dataclass(frozen=True)
class FieldLocator:
    """How to find one logical field: by any of its labels, or by a glob on the control's name or id."""

    labels: tuple[str, ...] = ()
    name: str | None = None  # fnmatch glob on the control name, e.g. "*$ssoPartnerName"
    id: str | None = None  # fnmatch glob on the control id (for a radio list: the list's id)

    def describe(self) -> str:
        parts = []
        if self.labels:
            parts.append("label " + " or ".join(repr(x) for x in self.labels))
        if self.name:
            parts.append(f"name {self.name!r}")
        if self.id:
            parts.append(f"id {self.id!r}")
        return ", ".join(parts) or "nothing (empty locator)"

    def matches_name(self, name: str | None, control_id: str | None) -> bool:
        if self.name and name and fnmatch.fnmatchcase(name, self.name):
            return True
        return bool(self.id and control_id and fnmatch.fnmatchcase(control_id, self.id))


def _loc(*labels: str) -> FieldLocator:
    return FieldLocator(labels=labels)


@dataclass(frozen=True)
class PageProfile:
    """Everything page-specific the driver, the verifier and ``show`` rely on."""

    name: str
    source: str  # "built-in" or the file it came from
    menu_path: tuple[str, ...]
    #: Column headings of the sites grid, and the link or button text that opens a site's form.
    host_column: tuple[str, ...]
    site_column: tuple[str, ...]
    edit_labels: tuple[str, ...]
    #: Headings of the parts of the page (used to tell the parts apart and in ``show``).
    global_heading: tuple[str, ...]
    sites_heading: tuple[str, ...]
    site_form_heading: tuple[str, ...]
    site_fields: Mapping[str, FieldLocator]
    global_fields: Mapping[str, FieldLocator]
    save_labels: tuple[str, ...]
    certificate: Mapping[str, tuple[str, ...]]  # CERT_DETAILS key -> labels
    yes_labels: tuple[str, ...]
    no_labels: tuple[str, ...]
    access_denied: tuple[str, ...]  # headings or texts that mean "not a Site Administrator"
    error_ids: tuple[str, ...]  # element id globs whose text is a page error
    error_classes: tuple[str, ...]  # classes of elements whose text is a page error
    validation_summary_ids: tuple[str, ...]  # id globs of ASP.NET ValidationSummary controls
    info_ids: tuple[str, ...]  # element id globs of success messages
    overridden: tuple[str, ...] = field(default=())  # what a file changed, for -v and discover

    def site_locator(self, key: str) -> FieldLocator:
        return self.site_fields.get(key, FieldLocator())

    def with_overrides(self, data: Mapping[str, Any], source: str) -> PageProfile:
        return _apply(self, data, source)


DEFAULT_PROFILE = PageProfile(
    name="tms15",
    source="built-in",
    menu_path=("Administrative Tools", "Configuration", "WebEx Settings"),
    host_column=("Host Name",),
    site_column=("Site Name",),
    edit_labels=("Edit",),
    global_heading=("WebEx Configuration",),
    sites_heading=("WebEx Sites",),
    site_form_heading=("WebEx Site Configuration",),
    site_fields={
        "host_name": _loc("Host Name"),
        "site_name": _loc("Site Name"),
        "bandwidth": _loc("WebEx Participant Bandwidth"),
        "default_site": _loc("Default Site"),
        "use_global": _loc("Use Global Settings"),
        "tsp_audio": _loc("TSP Audio"),
        "use_sso": _loc("Use Single Sign On"),
        "sso_certificate": _loc("SSO Certificate"),
        "certificate_password": _loc("Certificate Password"),
        "partner_name": _loc("SSO Partner Name"),
        "account_name": _loc("SSO Account Name"),
        "authn_context": _loc("SSO AuthnContextClassRef"),
    },
    global_fields={
        "enable_webex": _loc("Enable WebEx"),
        "add_webex_to_all": _loc("Add WebEx to All Conferences"),
    },
    save_labels=("Save",),
    certificate={
        "subject": ("Certificate Subject",),
        "expires": ("Certificate Expires",),
        "thumbprint": ("Certificate Thumbprint",),
        "installed": ("Certificate Installed",),
    },
    yes_labels=("Yes", "On", "True", "Enabled"),
    no_labels=("No", "Off", "False", "Disabled"),
    access_denied=("Access Denied", "You do not have permission to view this page."),
    error_ids=("ctl00_uxContent_uxFeedback_uxErrorLabel", "*_uxErrorLabel", "*_ErrorLabel"),
    error_classes=("ErrorLabel", "errorMessage", "validation-summary-errors", "field-validation-error"),
    validation_summary_ids=("*ValidationSummary*",),
    info_ids=("ctl00_uxContent_uxFeedback_uxInfoLabel", "*_uxInfoLabel", "*_InfoLabel"),
)

# --------------------------------------------------------------------------------------------- the file

_LIST_KEYS = {
    "menu_path": "menu_path", "host_column": "host_column", "site_column": "site_column",
    "edit_labels": "edit_labels", "global_heading": "global_heading", "sites_heading": "sites_heading",
    "site_form_heading": "site_form_heading", "save_labels": "save_labels", "yes_labels": "yes_labels",
    "no_labels": "no_labels",
}
_PAGE_KEYS = ("access_denied", "error_ids", "error_classes", "validation_summary_ids", "info_ids")
_TOP_KEYS = ("name", *_LIST_KEYS, "fields", "global_fields", "certificate", "page")


def load_profile(path: str | Path | None, base: PageProfile = DEFAULT_PROFILE) -> PageProfile:
    """The built-in profile, with a page-profile file's overrides applied when ``path`` is given."""
    if path is None:
        return base
    p = Path(path).expanduser()
    try:
        raw = p.read_bytes()
    except FileNotFoundError as exc:
        raise InputFileError(f"the page profile {p} does not exist",
                             hint="write one with `tmsclient discover --out FILE`") from exc
    except IsADirectoryError as exc:
        raise InputFileError(f"the page profile {p} is a directory, expected a TOML file") from exc
    except OSError as exc:
        raise InputFileError(f"cannot read the page profile {p}: {exc.strerror}") from exc
    if len(raw) > MAX_PROFILE_BYTES:
        raise InputFileError(f"the page profile {p} is {len(raw)} bytes; expected a small TOML file")
    return parse_profile_text(raw, str(p), base)


def parse_profile_text(raw: bytes | str, source: str, base: PageProfile = DEFAULT_PROFILE) -> PageProfile:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        data = tomllib.loads(text.removeprefix("\ufeff"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"the page profile {source} is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the page profile {source} is not valid TOML: {exc}",
                          hint="see `tmsclient discover --out FILE` for the format") from exc
    return _apply(base, data, source)


def _apply(base: PageProfile, data: Mapping[str, Any], source: str) -> PageProfile:
    unknown = sorted(set(data) - set(_TOP_KEYS))
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]!r}", hint=f"known keys: {', '.join(_TOP_KEYS)}")
    changes: dict[str, Any] = {}
    overridden: list[str] = list(base.overridden)
    if "name" in data:
        changes["name"] = _string(data["name"], f"{source}: name")
    for key, attr in _LIST_KEYS.items():
        if key in data:
            changes[attr] = _strings(data[key], f"{source}: {key}")
            overridden.append(key)
    for section, attr, known in (("fields", "site_fields", SITE_FIELDS),
                                 ("global_fields", "global_fields", GLOBAL_FIELDS)):
        if section not in data:
            continue
        table = _table(data[section], f"{source}: {section}")
        merged = dict(getattr(base, attr))
        for key, value in table.items():
            if key not in known:
                raise ConfigError(f"{source}: {section}.{key} is not a field tmsclient knows",
                                  hint=f"known fields: {', '.join(known)}")
            merged[key] = _locator(value, f"{source}: {section}.{key}")
            overridden.append(f"{section}.{key}")
        changes[attr] = merged
    if "certificate" in data:
        table = _table(data["certificate"], f"{source}: certificate")
        cert = dict(base.certificate)
        for key, value in table.items():
            if key not in CERT_DETAILS:
                raise ConfigError(f"{source}: certificate.{key} is not a certificate detail tmsclient reads",
                                  hint=f"known: {', '.join(CERT_DETAILS)}")
            cert[key] = _strings(value, f"{source}: certificate.{key}", allow_empty=True)
            overridden.append(f"certificate.{key}")
        changes["certificate"] = cert
    if "page" in data:
        table = _table(data["page"], f"{source}: page")
        for key, value in table.items():
            if key not in _PAGE_KEYS:
                raise ConfigError(f"{source}: page.{key} is not a page setting",
                                  hint=f"known: {', '.join(_PAGE_KEYS)}")
            changes[key] = _strings(value, f"{source}: page.{key}", allow_empty=True)
            overridden.append(f"page.{key}")
    if not changes.get("menu_path", base.menu_path):
        raise ConfigError(f"{source}: menu_path is empty", hint="give the menu entries, outermost first")
    return replace(base, source=source, overridden=tuple(dict.fromkeys(overridden)), **changes)


def _type(value: Any) -> str:
    return {str: "a string", list: "a list", dict: "a table", bool: "a boolean", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: got {_type(value)}, expected a non-empty string")
    return value


def _strings(value: Any, where: str, *, allow_empty: bool = False) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: got {_type(value)}, expected a string or a list of non-empty strings")
    if not all(v.strip() for v in value):
        raise ConfigError(f"{where}: got an empty string, expected a label (or leave the key out)")
    if not value and not allow_empty:
        raise ConfigError(f"{where}: got an empty list, expected at least one string")
    return tuple(value)


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: got {_type(value)}, expected a table")
    return value


def _locator(value: Any, where: str) -> FieldLocator:
    if isinstance(value, (str, list)):
        return FieldLocator(labels=_strings(value, where))
    table = _table(value, where)
    unknown = sorted(set(table) - {"labels", "label", "name", "id"})
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}", hint="known keys: labels, name, id")
    labels = _strings(table.get("labels", table.get("label", [])), f"{where}.labels", allow_empty=True)
    name = _string(table["name"], f"{where}.name") if "name" in table else None
    control_id = _string(table["id"], f"{where}.id") if "id" in table else None
    if not labels and not name and not control_id:
        raise ConfigError(f"{where}: got an empty locator, expected labels, name or id")
    return FieldLocator(labels=labels, name=name, id=control_id)


# --------------------------------------------------------------------------------------------- writing


def _toml_str(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def _toml_locator(loc: FieldLocator) -> str:
    parts = [f"labels = {_toml_list(loc.labels)}"]
    if loc.name:
        parts.append(f"name = {_toml_str(loc.name)}")
    if loc.id:
        parts.append(f"id = {_toml_str(loc.id)}")
    return "{ " + ", ".join(parts) + " }"


def render_profile(profile: PageProfile, *, comments: Mapping[str, str] | None = None,
                   header: Iterable[str] = ()) -> str:
    """A complete page-profile file for ``profile``; ``comments`` adds a ``# ...`` line above a field's entry
    (``discover`` says there what it saw on the page). Loading the text gives back the same profile."""
    comments = comments or {}
    lines = [f"# {h}" for h in header]
    lines += [
        "# tmsclient page profile: how the WebEx Settings pages of one TMS are labelled.",
        "# Labels match ignoring case, colons, '*' markers and spaces. A field may instead be found by a",
        "# glob on its control name (name = \"*$ssoPartnerName\") or id (id = \"*_ssoPartnerName\").",
        "",
        f"name = {_toml_str(profile.name)}",
    ]
    for key in _LIST_KEYS:
        lines.append(f"{key} = {_toml_list(getattr(profile, key))}")
    for section, attr, known in (("fields", "site_fields", SITE_FIELDS),
                                 ("global_fields", "global_fields", GLOBAL_FIELDS)):
        lines += ["", f"[{section}]"]
        mapping = getattr(profile, attr)
        for key in known:
            if key in comments:
                lines.append(f"# {comments[key]}")
            loc = mapping.get(key)
            if loc is not None:
                lines.append(f"{key} = {_toml_locator(loc)}")
    lines += ["", "[certificate]"]
    for key in CERT_DETAILS:
        if f"certificate.{key}" in comments:
            lines.append(f"# {comments['certificate.' + key]}")
        lines.append(f"{key} = {_toml_list(profile.certificate.get(key, ()))}")
    lines += ["", "[page]"]
    for key in _PAGE_KEYS:
        lines.append(f"{key} = {_toml_list(getattr(profile, key))}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------- reading a page through it


@dataclass(frozen=True)
class LocatedField:
    """A logical field found on a page: the form's field, and how it was found (for messages and discover)."""

    key: str
    field: Field
    how: str  # "label 'Host Name'" or "name '*$hostName'"


def describe_field(f: Field) -> str:
    label = display_label(f.labels[0]) if f.labels else "no label"
    return f"{label!r} ({f.kind} {f.name})"


def locate_field(form: Form, key: str, locator: FieldLocator, *, required: bool = True,
                 where: str = "the page") -> LocatedField | None:
    """Find one logical field in a form: by name/id glob when the locator has one, else by label.

    None (or, when ``required``, a PageNotUnderstoodError listing the labels seen) when nothing matches; an
    AmbiguousMatchError listing the candidates when more than one field does."""
    candidates: list[Field] = []
    how = ""
    if locator.name or locator.id:
        for f in form.fields:
            ids = [form.controls[i].id for i in f.controls] + [f.id]
            if any(locator.matches_name(f.name, i) for i in ids) or locator.matches_name(f.name, None):
                candidates.append(f)
        how = locator.describe()
    if not candidates and locator.labels:
        candidates = [f for f in form.fields
                      if f.kind != "hidden" and any(label_matches(locator.labels, seen) for seen in f.labels)]
        how = "label " + " or ".join(repr(x) for x in locator.labels)
    if len(candidates) > 1:
        raise AmbiguousMatchError(
            f"{len(candidates)} fields on {where} match {key} ({how}): "
            + "; ".join(describe_field(f) for f in candidates),
            hint=f"make [fields].{key} in the page profile more specific (a name = \"...\" glob picks one)",
        )
    if candidates:
        return LocatedField(key, candidates[0], how)
    if not required:
        return None
    seen = sorted({f.labels[0] for f in form.fields if f.labels and f.kind != "hidden"})
    raise PageNotUnderstoodError(
        f"no field on {where} matches {key} ({locator.describe()})",
        hint=f"set [fields].{key} in a page profile (--page-profile FILE; `tmsclient discover --out FILE` "
             f"writes one); labels seen: {', '.join(repr(s) for s in seen) or 'none'}",
    )


def _glob_any(patterns: Iterable[str], value: str | None) -> bool:
    return bool(value) and any(fnmatch.fnmatchcase(value or "", p) for p in patterns)


def page_errors(page: Page, profile: PageProfile) -> tuple[str, ...]:
    """TMS's own error words on a page: an ASP.NET error page, the error label, a validation summary or a
    visible validator; each once, in page order."""
    found: list[str] = []
    if page.aspnet_error is not None:
        e = page.aspnet_error
        found.append(f"{e.message}: {e.details}" if e.details and e.details not in e.message else e.message)
    for el in page.elements:
        if el.hidden or not el.text or not _MARKERS.sub("", el.text).strip():
            continue
        is_error = (_glob_any(profile.error_ids, el.id) or _glob_any(profile.validation_summary_ids, el.id)
                    or any(c in profile.error_classes for c in el.classes))
        if is_error:
            found.append(el.text)
    unique: list[str] = []
    for text in found:
        if any(text in other for other in found if other is not text and len(other) > len(text)):
            continue
        if text not in unique:
            unique.append(text)
    return tuple(unique)


def page_info(page: Page, profile: PageProfile) -> tuple[str, ...]:
    return tuple(dict.fromkeys(el.text for el in page.elements
                               if not el.hidden and el.text and _glob_any(profile.info_ids, el.id)))


def is_access_denied(page: Page, profile: PageProfile) -> bool:
    """Whether the page is TMS's "not a Site Administrator" page, by the profile's markers."""
    texts = [page.title, *(h.text for h in page.headings)]
    body = normalize_label(page.text)
    for marker in profile.access_denied:
        if any(label_matches(marker, t) for t in texts):
            return True
        n = normalize_label(marker)
        if len(n) >= 20 and n in body:
            return True
    return False


@dataclass(frozen=True)
class CertificateDetails:
    """What a site form shows of the stored certificate; every value None when the page does not show it."""

    subject: str | None
    expires: str | None
    thumbprint: str | None
    installed: str | None

    @property
    def shown(self) -> bool:
        """Details enough to verify a certificate: its thumbprint or its expiry."""
        return bool(self.thumbprint or self.expires)


def certificate_details(page: Page, profile: PageProfile) -> CertificateDetails:
    """The certificate rows of a site form, read under the profile's labels."""
    values: dict[str, str | None] = {}
    for key in CERT_DETAILS:
        labels = profile.certificate.get(key, ())
        hits = list(dict.fromkeys(p.value for p in page.properties if label_matches(labels, p.label)))
        if len(hits) > 1:
            raise AmbiguousMatchError(
                f"{len(hits)} rows on {page.url} match the certificate {key} "
                f"({' or '.join(repr(x) for x in labels)}): {'; '.join(repr(h) for h in hits)}",
                hint=f"make [certificate].{key} in the page profile more specific",
            )
        values[key] = hits[0] if hits and hits[0] else None
    return CertificateDetails(**values)


def yes_no(profile: PageProfile, label: str) -> bool | None:
    """True/False for a Yes/No label or value, None when it is neither."""
    if label_matches(profile.yes_labels, label) or normalize_label(label) in ("true", "1", "yes", "on"):
        return True
    if label_matches(profile.no_labels, label) or normalize_label(label) in ("false", "0", "no", "off"):
        return False
    return None


def choice_value(f: Field, want: bool, profile: PageProfile) -> str:
    """The option value meaning Yes (``want``) or No in a radio group or select, by label then by value."""
    for option in f.options:
        if not option.disabled and yes_no(profile, option.label) is want:
            return option.value
    for option in f.options:
        if not option.disabled and yes_no(profile, option.value) is want:
            return option.value
    offered = ", ".join(f"{o.label!r}" for o in f.options) or "none"
    raise PageNotUnderstoodError(
        f"field {describe_field(f)} offers no {'Yes' if want else 'No'} choice (options: {offered})",
        hint="set yes_labels/no_labels in the page profile",
    )


def bool_state(form: Form, f: Field, profile: PageProfile) -> bool | None:
    """A Yes/No field's state now: a radio group or select by its chosen option, a checkbox by its tick."""
    if f.kind == "checkbox":
        return any(form.controls[i].checked for i in f.controls)
    chosen = [o for o in f.options if o.selected]
    if not chosen:
        return None
    state = yes_no(profile, chosen[-1].label)
    return state if state is not None else yes_no(profile, chosen[-1].value)


# ---------------------------------------------------------------------------- suggesting a profile (discover)

#: Words in a control's own name (the part after the last ``$``) that suggest a logical field.
_NAME_HINTS: tuple[tuple[str, str], ...] = (
    ("host_name", r"host"),
    ("site_name", r"site_?name|sitename"),
    ("bandwidth", r"bandwidth"),
    ("default_site", r"default"),
    ("use_global", r"global"),
    ("tsp_audio", r"tsp|audio"),
    ("use_sso", r"(use|enable).*(sso|singlesignon)|(sso|singlesignon).*(enable|use)|^sso$"),
    ("partner_name", r"partner"),
    ("account_name", r"account"),
    ("authn_context", r"authn|context"),
    ("enable_webex", r"enable.*webex|webex.*enable"),
    ("add_webex_to_all", r"(add.*all)|(all.*conf)|addto"),
)
_KIND_HINTS = {"sso_certificate": "file", "certificate_password": "password"}
_CERT_HINTS = {
    "subject": r"subject|issued to",
    "expires": r"expir|valid ?(until|to)|not ?after",
    "thumbprint": r"thumbprint|fingerprint|hash",
    "installed": r"installed",
}


def _own_name(name: str) -> str:
    return re.split(r"[$:]", name)[-1].casefold()


def _guess(form: Form, key: str, taken: set[str]) -> Field | None:
    pattern = dict(_NAME_HINTS).get(key)
    kind = _KIND_HINTS.get(key)
    for f in form.fields:
        if f.name in taken or f.kind == "hidden":
            continue
        if kind is not None:
            if f.kind == kind and sum(1 for g in form.fields if g.kind == kind) == 1:
                return f
            continue
        if pattern and re.search(pattern, _own_name(f.name)):
            return f
    return None


def _suggest_fields(form: Form | None, keys: Iterable[str], current: Mapping[str, FieldLocator],
                    comments: dict[str, str]) -> dict[str, FieldLocator]:
    out = dict(current)
    if form is None:
        return out
    taken: set[str] = set()
    pending: list[str] = []
    for key in keys:
        try:
            found = locate_field(form, key, current.get(key, FieldLocator()), required=False)
        except AmbiguousMatchError as err:
            comments[key] = f"AMBIGUOUS with the current labels: {err.message}"
            found = None
        if found is not None:
            taken.add(found.field.name)
            comments.setdefault(key, f"found: {describe_field(found.field)}")
        else:
            pending.append(key)
    for key in pending:
        guess = _guess(form, key, taken)
        if guess is None:
            seen = sorted({f.labels[0] for f in form.fields if f.labels and f.kind != "hidden"})
            comments[key] = ("NOT FOUND: no field on the page looks like it; labels seen: "
                             + (", ".join(repr(s) for s in seen) or "none"))
            continue
        taken.add(guess.name)
        label = guess.labels[0] if guess.labels else None
        unique = label is not None and sum(
            1 for f in form.fields if any(label_matches(label, seen) for seen in f.labels)) == 1
        out[key] = FieldLocator(labels=(label,)) if unique and label else FieldLocator(
            name="*$" + re.split(r"[$]", guess.name)[-1])
        earlier = f"{comments[key]}; " if key in comments else ""
        comments[key] = f"{earlier}GUESSED from {describe_field(guess)}: check it"
    return out


def suggest_profile(
    base: PageProfile,
    *,
    settings: Page | None = None,
    site_page: Page | None = None,
    site_form: Form | None = None,
    menu_path: tuple[str, ...] = (),
) -> tuple[PageProfile, dict[str, str]]:
    """A profile for the pages seen: what ``base`` finds is kept, the rest guessed from control names and
    types (the only file input is the certificate, the only password box its password) and from the texts
    of the certificate rows; ``comments`` says, per entry, what was found, guessed or missing."""
    comments: dict[str, str] = {}
    site_fields = _suggest_fields(site_form, SITE_FIELDS, base.site_fields, comments)
    settings_form = settings.forms[0] if settings is not None and settings.forms else None
    global_fields = _suggest_fields(settings_form, GLOBAL_FIELDS, base.global_fields, comments)
    certificate = dict(base.certificate)
    if site_page is not None:
        for key in CERT_DETAILS:
            labels = base.certificate.get(key, ())
            if any(label_matches(labels, p.label) for p in site_page.properties):
                comments[f"certificate.{key}"] = "found on the site's page"
                continue
            hit = next((p for p in site_page.properties if re.search(_CERT_HINTS[key], p.label, re.I)), None)
            if hit is not None:
                certificate[key] = (hit.label,)
                comments[f"certificate.{key}"] = (f"GUESSED from the row {hit.label!r} = {hit.value!r}: "
                                                  "check it")
            else:
                comments[f"certificate.{key}"] = "not shown on the site's page"
    changes: dict[str, Any] = {"site_fields": site_fields, "global_fields": global_fields,
                               "certificate": certificate}
    if menu_path:
        changes["menu_path"] = menu_path
    if settings is not None:
        for table in settings.tables:
            for row in table.rows[:1]:
                texts = [c.text for c in row.cells]
                host = next((t for t in texts if "host" in t.casefold()), None)
                site = next((t for t in texts if "site" in t.casefold() and "host" not in t.casefold()
                             and "default" not in t.casefold()), None)
                if host and site and not (label_matches(base.host_column, host)
                                          and label_matches(base.site_column, site)):
                    changes["host_column"] = (host,)
                    changes["site_column"] = (site,)
                    comments["columns"] = f"GUESSED the sites grid's columns {host!r} and {site!r}"
    name = base.name if base.source != "built-in" else "my-tms"
    return replace(base, name=name, source="discover", **changes), comments
