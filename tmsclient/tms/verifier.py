"""The verifier: re-read a site's form and judge it against what was intended, saying how much it could see."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tmsclient.certs.summary import ThumbprintError, normalize_thumbprint
from tmsclient.errors import UsageError, VerificationFailedError
from tmsclient.tms.pageprofile.matching import (
    CertificateDetails,
    bool_state,
    certificate_details,
    display_label,
    page_errors,
    yes_no,
)

CERTIFICATE = "certificate"
FIELDS_ONLY = "fields-only"
#: What a fields-only result must say, plainly: the file itself was not checked, and how to check it.
FIELDS_ONLY_NOTE = (
    "verification fields-only: TMS does not show the stored certificate's thumbprint, serial number or expiry "
    "on this page, so the certificate file itself could not be checked, only the fields around it; make a "
    "test booking with WebEx (or ask the WebEx team to confirm the SSO login) to be sure the new certificate "
    "is in use"
)
UTC = dt.timezone.utc

#: How far an expiry shown without a time zone may be from the real one (the server's local time).
_NO_ZONE_SLACK = dt.timedelta(hours=14)
_DATE_ONLY_SLACK = dt.timedelta(days=1)


@dataclass(frozen=True)
class Expectation:
    """What the re-read page must show."""

    thumbprint_sha1: str | None = None  # upper-case hex
    not_after: dt.datetime | None = None
    serial: str | None = None  # upper-case hex, as Windows shows it
    sso_on: bool = True
    #: Logical field -> the value it must have (raw option values for radios and selects).
    fields: Mapping[str, Any] = field(default_factory=dict)
    #: Control name -> the value it had before the Save, for every field the Save must leave alone.
    unchanged: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    what: str
    ok: bool
    got: str
    expected: str

    def line(self) -> str:
        return f"{self.what}: got {self.got}, expected {self.expected}"


@dataclass(frozen=True)
class Verification:
    level: str  # "certificate" or "fields-only"
    checks: tuple[Check, ...]
    certificate: CertificateDetails
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def mismatches(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "level": self.level,
            "checks": [{"what": c.what, "ok": c.ok, "got": c.got, "expected": c.expected} for c in self.checks],
            "certificate_shown": {
                "subject": self.certificate.subject,
                "expires": self.certificate.expires,
                "thumbprint": self.certificate.thumbprint,
                "serial": self.certificate.serial,
                "installed": self.certificate.installed,
            },
            "notes": list(self.notes),
        }

    def raise_for_mismatch(self, site: str) -> None:
        if self.ok:
            return
        bad = self.mismatches
        raise VerificationFailedError(
            f"site {site} does not show what was intended: {bad[0].line()}"
            + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""),
            hint="compare with `tmsclient show --site ...`; rerun upload (with --reupload) to save again",
            details=[c.line() for c in bad],
        )


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "checked" if value else "unchecked"
    if isinstance(value, tuple):
        return "[" + ", ".join(repr(v) for v in value) + "]"
    return repr(value)


def verify_site(view: Any, expected: Expectation) -> Verification:
    """Judge a re-read :class:`~tmsclient.tms.driver.SiteView` against ``expected``.

    Checks, in order: no error on the page; SSO on; each SSO field as intended; every other field as it was before
    the Save; and, where the page shows certificate details, the thumbprint (however formatted) and the expiry of
    the uploaded certificate. The level is ``certificate`` when the thumbprint or expiry could be compared, else
    ``fields-only``: a password box and a file input always come back empty, so without certificate details no
    re-read can confirm which certificate TMS holds, and the result says so instead of claiming more.
    """
    page, form, profile = view.page, view.form, view.profile
    checks: list[Check] = []
    notes: list[str] = []
    errors = page_errors(page, profile)
    checks.append(Check("page error", not errors, repr(errors[0]) if errors else "none", "none"))

    label_of = {key: (display_label(lf.field.labels[0]) if lf.field.labels else key) for key, lf in view.fields.items()}
    if expected.sso_on:
        sso = view.require("use_sso")
        state = bool_state(form, sso.field, profile)
        shown = {True: "Yes", False: "No", None: "no choice"}[state]
        checks.append(Check(label_of.get("use_sso", "Use Single Sign On"), state is True, shown, "Yes"))
    for key, want in expected.fields.items():
        if key == "use_sso":
            continue  # judged above, as Yes/No
        located = view.require(key)
        got = form.current_value(located.field.name)
        checks.append(Check(label_of.get(key, key), got == want, _show(got), _show(want)))
    for name, before in expected.unchanged.items():
        f = form.field(name)
        label = display_label(f.labels[0]) if f and f.labels else name
        if f is None:
            checks.append(Check(label, False, "no such field", _show(before)))
            continue
        got = form.current_value(name)
        checks.append(Check(label, got == before, _show(got), _show(before) + " (as before)"))

    details = certificate_details(page, profile)
    level = FIELDS_ONLY
    if details.thumbprint and expected.thumbprint_sha1:
        level = CERTIFICATE
        try:
            shown_tp = normalize_thumbprint(details.thumbprint)
        except (ThumbprintError, UsageError):
            shown_tp = details.thumbprint
        checks.append(
            Check(
                "certificate thumbprint",
                shown_tp == expected.thumbprint_sha1.upper(),
                shown_tp,
                expected.thumbprint_sha1.upper(),
            )
        )
    if details.serial and expected.serial:
        shown_serial = normalize_serial(details.serial)
        want_serial = normalize_serial(expected.serial) or expected.serial.upper()
        if shown_serial is None:
            notes.append(f"the serial number shown ({details.serial!r}) is not one tmsclient reads; not compared")
        else:
            level = CERTIFICATE
            checks.append(Check("certificate serial number", shown_serial == want_serial, shown_serial, want_serial))
    if details.expires and expected.not_after:
        verdict = expiry_matches(details.expires, expected.not_after)
        if verdict is None:
            notes.append(f"the expiry shown ({details.expires!r}) is not a date tmsclient reads; not compared")
        else:
            level = CERTIFICATE
            checks.append(
                Check(
                    "certificate expiry",
                    verdict,
                    str(details.expires),
                    expected.not_after.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
                )
            )
    if level == FIELDS_ONLY:
        installed = yes_no(profile, details.installed) if details.installed else None
        if installed is False:
            checks.append(Check("certificate installed", False, str(details.installed), "Yes"))
        notes.append(FIELDS_ONLY_NOTE)
    return Verification(level, tuple(checks), details, tuple(notes))


def normalize_serial(text: str) -> str | None:
    """A shown serial number as upper-case hex without leading zeros (spaces, colons and dashes dropped);
    None when it is not hex."""
    cleaned = re.sub(r"[\s:\-\u200e\u200f\ufeff]", "", text).upper()
    if not cleaned or not re.fullmatch(r"[0-9A-F]+", cleaned):
        return None
    return cleaned.lstrip("0") or "0"


# ---------------------------------------------------------------------------------------------- dates

_ZONE = re.compile(r"\s*(?:Z|UTC|GMT|\+00:?00)\s*$", re.I)
_FORMATS_TIME = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M:%S",
    "%A, %B %d, %Y %I:%M:%S %p",
    "%d %B %Y %H:%M:%S",
    "%b %d %H:%M:%S %Y",
)
_FORMATS_DATE = ("%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%d %B %Y", "%B %d, %Y", "%A, %B %d, %Y")


def parse_expiry(text: str) -> list[tuple[dt.datetime, dt.datetime]]:
    """Every reading of a shown date as an interval (earliest, latest) the real expiry may lie in.

    A time without seconds covers its minute, a date its day; without a time zone (the server's local time)
    the interval widens by 14 hours each way. US and European day/month orders both count."""
    raw = " ".join(text.split())
    zoned = bool(_ZONE.search(raw))
    core = _ZONE.sub("", raw)
    slack = dt.timedelta(0) if zoned else _NO_ZONE_SLACK
    readings: list[tuple[dt.datetime, dt.datetime]] = []
    for fmt in _FORMATS_TIME:
        try:
            moment = dt.datetime.strptime(core, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        width = dt.timedelta(0) if "%S" in fmt else dt.timedelta(seconds=59)
        readings.append((moment - slack, moment + width + slack))
    for fmt in _FORMATS_DATE:
        try:
            moment = dt.datetime.strptime(core, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        readings.append((moment - slack, moment + _DATE_ONLY_SLACK + slack))
    if not readings:
        try:
            moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return []
        moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
        readings.append((moment, moment))
    return readings


def expiry_matches(text: str, not_after: dt.datetime) -> bool | None:
    """Whether a shown expiry is ``not_after``; None when the text is not a date."""
    readings = parse_expiry(text)
    if not readings:
        return None
    target = not_after.astimezone(UTC).replace(microsecond=0)
    return any(low <= target <= high for low, high in readings)
