"""Suggesting a page profile for the pages ``discover`` saw: keep what the base finds, guess the rest."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from tmsclient.errors import AmbiguousMatchError
from tmsclient.tms.pageprofile.matching import describe_field, label_matches, locate_field
from tmsclient.tms.pageprofile.model import CERT_DETAILS, GLOBAL_FIELDS, SITE_FIELDS, FieldLocator, PageProfile
from tmsclient.tms.webforms.model import Field, Form, Page

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
    # English, then the other languages of the TMS web interface where the word is known (German, French).
    "subject": r"subject|issued to|antragsteller|sujet",
    "expires": r"expir|valid ?(until|to)|not ?after|g(ü|ue)ltig bis|ablauf",
    "thumbprint": r"thumbprint|fingerprint|hash|fingerabdruck|empreinte",
    "serial": r"serial|seriennummer|num(é|e)ro de s(é|e)rie",
    "installed": r"installed|status|installiert|install(é|e)",
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


def _suggest_fields(
    form: Form | None, keys: Iterable[str], current: Mapping[str, FieldLocator], comments: dict[str, str]
) -> dict[str, FieldLocator]:
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
            comments[key] = "NOT FOUND: no field on the page looks like it; labels seen: " + (
                ", ".join(repr(s) for s in seen) or "none"
            )
            continue
        taken.add(guess.name)
        label = guess.labels[0] if guess.labels else None
        unique = (
            label is not None
            and sum(1 for f in form.fields if any(label_matches(label, seen) for seen in f.labels)) == 1
        )
        out[key] = (
            FieldLocator(labels=(label,))
            if unique and label
            else FieldLocator(name="*$" + re.split(r"[$]", guess.name)[-1])
        )
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
                comments[f"certificate.{key}"] = f"GUESSED from the row {hit.label!r} = {hit.value!r}: check it"
            else:
                comments[f"certificate.{key}"] = "not shown on the site's page"
    changes: dict[str, Any] = {"site_fields": site_fields, "global_fields": global_fields, "certificate": certificate}
    if menu_path:
        changes["menu_path"] = menu_path
    if settings is not None:
        for table in settings.tables:
            for row in table.rows[:1]:
                texts = [c.text for c in row.cells]
                host = next((t for t in texts if "host" in t.casefold()), None)
                site = next(
                    (
                        t
                        for t in texts
                        if "site" in t.casefold() and "host" not in t.casefold() and "default" not in t.casefold()
                    ),
                    None,
                )
                if (
                    host
                    and site
                    and not (label_matches(base.host_column, host) and label_matches(base.site_column, site))
                ):
                    changes["host_column"] = (host,)
                    changes["site_column"] = (site,)
                    comments["columns"] = f"GUESSED the sites grid's columns {host!r} and {site!r}"
    name = base.name if base.source != "built-in" else "my-tms"
    return replace(base, name=name, source="discover", **changes), comments
