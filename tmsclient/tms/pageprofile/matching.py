"""Reading a page through a page profile: fields, messages and certificate details found by their labels."""

from __future__ import annotations

import fnmatch
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from tmsclient.errors import AmbiguousMatchError, PageNotUnderstoodError
from tmsclient.tms.pageprofile.model import CERT_DETAILS, FieldLocator, PageProfile
from tmsclient.tms.webforms.model import Field, Form, Page

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
class LocatedField:
    """A logical field found on a page: the form's field, and how it was found (for messages and discover)."""

    key: str
    field: Field
    how: str  # "label 'Host Name'" or "name '*$hostName'"


def describe_field(f: Field) -> str:
    label = display_label(f.labels[0]) if f.labels else "no label"
    return f"{label!r} ({f.kind} {f.name})"


def locate_field(
    form: Form, key: str, locator: FieldLocator, *, required: bool = True, where: str = "the page"
) -> LocatedField | None:
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
        # Label by label, in the profile's order: a broad label ("Password") counts only when no more
        # specific one ("Certificate Password") names a field, and two fields under one label are an error.
        for label in locator.labels:
            candidates = [
                f for f in form.fields if f.kind != "hidden" and any(label_matches(label, seen) for seen in f.labels)
            ]
            if candidates:
                how = f"label {label!r}"
                break
        else:
            how = "label " + " or ".join(repr(x) for x in locator.labels)
    if len(candidates) > 1:
        raise AmbiguousMatchError(
            f"{len(candidates)} fields on {where} match {key} ({how}): "
            + "; ".join(describe_field(f) for f in candidates),
            hint=f'make [fields].{key} in the page profile more specific (a name = "..." glob picks one)',
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
        is_error = (
            _glob_any(profile.error_ids, el.id)
            or _glob_any(profile.validation_summary_ids, el.id)
            or any(c in profile.error_classes for c in el.classes)
        )
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
    return tuple(
        dict.fromkeys(
            el.text for el in page.elements if not el.hidden and el.text and _glob_any(profile.info_ids, el.id)
        )
    )


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
    serial: str | None
    installed: str | None

    @property
    def shown(self) -> bool:
        """Details enough to verify a certificate: its thumbprint, serial number or expiry."""
        return bool(self.thumbprint or self.serial or self.expires)


def certificate_details(page: Page, profile: PageProfile) -> CertificateDetails:
    """The certificate rows of a site form, read under the profile's labels."""
    values: dict[str, str | None] = {}
    for key in CERT_DETAILS:
        labels = profile.certificate.get(key, ())
        hits: list[str] = []
        # Label by label, the most specific first: "Status" counts only when no "Certificate Installed" row is.
        for label in labels:
            hits = list(dict.fromkeys(p.value for p in page.properties if label_matches(label, p.label)))
            if hits:
                break
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


_SERIAL_FOOTER = re.compile(r"S/N:\s*(?P<serial>[A-Za-z0-9][A-Za-z0-9-]{0,63})\s*(?:\((?P<host>[^()]{1,253})\))?")


@dataclass(frozen=True)
class TmsIdentity:
    """Which TMS and which account a page shows: the footer "S/N: <serial> (<host>)" and the user name."""

    user: str | None
    serial_number: str | None
    server: str | None

    def to_json(self) -> dict[str, str | None] | None:
        if not (self.user or self.serial_number or self.server):
            return None
        return {"user": self.user, "serial_number": self.serial_number, "server": self.server}

    def line(self) -> str | None:
        """``as TMSLAB\\admin on TMS S/N 65A0B4C2 (TMS01)``, or None when the page shows neither."""
        parts = []
        if self.user:
            parts.append(f"as {self.user}")
        if self.serial_number:
            parts.append(f"on TMS S/N {self.serial_number}" + (f" ({self.server})" if self.server else ""))
        return " ".join(parts) or None


def page_identity(page: Page, profile: PageProfile) -> TmsIdentity:
    """The logged-in user and the server's serial number and name, as the page's chrome shows them."""
    user = next(
        (el.text for el in page.elements if not el.hidden and el.text and _glob_any(profile.user_ids, el.id)), None
    )
    if user is not None:
        user = re.sub(r"^(?:logged in as|user|signed in as)\s*:?\s*", "", user, flags=re.I).strip() or None
    m = _SERIAL_FOOTER.search(page.text)
    serial = m.group("serial") if m else None
    host = m.group("host").strip() if m and m.group("host") else None
    return TmsIdentity(user=user, serial_number=serial, server=host)
