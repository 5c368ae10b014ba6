"""The page-profile file: reading a TOML profile onto the built-in one, and writing a profile out as TOML."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from tmsclient.errors import ConfigError
from tmsclient.files import read_bounded
from tmsclient.tms.pageprofile.model import (
    CERT_DETAILS,
    DEFAULT_PROFILE,
    GLOBAL_FIELDS,
    SITE_FIELDS,
    FieldLocator,
    PageProfile,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

MAX_PROFILE_BYTES = 256 * 1024

_LIST_KEYS = {
    "menu_path": "menu_path",
    "host_column": "host_column",
    "site_column": "site_column",
    "edit_labels": "edit_labels",
    "global_heading": "global_heading",
    "sites_heading": "sites_heading",
    "site_form_heading": "site_form_heading",
    "save_labels": "save_labels",
    "yes_labels": "yes_labels",
    "no_labels": "no_labels",
    "empty_list": "empty_list",
}
_PAGE_KEYS = ("access_denied", "error_ids", "error_classes", "validation_summary_ids", "info_ids")
_TOP_KEYS = ("name", "page_url", *_LIST_KEYS, "fields", "global_fields", "certificate", "page")


def load_profile(path: str | Path | None, base: PageProfile = DEFAULT_PROFILE) -> PageProfile:
    """The built-in profile, with a page-profile file's overrides applied when ``path`` is given.

    A user whose TMS shows other labels writes a TOML page-profile file (``tmsclient discover --out FILE``
    writes one to start from) and overrides only what differs::

        menu_path = ["Administrative Tools", "Configuration", "WebEx Settings"]
        page_url = "default.aspx?pageId=83"              # used only when the menu path is not found

        [fields]
        certificate_password = "Password"               # a label (or a list of labels)
        use_sso = { labels = ["Single Sign On"] }
        partner_name = { name = "*$uxPartnerName" }     # a glob on the control's name ...
        account_name = { id = "*_uxAccountName" }       # ... or on its id

        [certificate]
        thumbprint = ["Thumbprint"]

    Each ``[fields]`` entry replaces the built-in one for that field; other sections replace their keys. Labels
    match tolerantly (:func:`~tmsclient.tms.pageprofile.matching.normalize_label`).
    """
    if path is None:
        return base
    p = Path(path).expanduser()
    raw, _ = read_bounded(
        p,
        "page profile",
        limit=MAX_PROFILE_BYTES,
        allow_empty=True,
        hints={
            "missing": "write one with `tmsclient discover --out FILE`",
            "directory": "give the TOML file itself",
            "too-large": "expected a small TOML file",
        },
    )
    return parse_profile_text(raw, str(p), base)


def parse_profile_text(raw: bytes | str, source: str, base: PageProfile = DEFAULT_PROFILE) -> PageProfile:
    """A profile from a page-profile file's text (UTF-8 bytes or str), applied onto ``base``."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        data = tomllib.loads(text.removeprefix("\ufeff"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"the page profile {source} is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"the page profile {source} is not valid TOML: {exc}",
            hint="see `tmsclient discover --out FILE` for the format",
        ) from exc
    return apply_overrides(base, data, source)


def apply_overrides(base: PageProfile, data: Mapping[str, Any], source: str) -> PageProfile:
    """``base`` with a profile file's parsed table applied; ``source`` names the file in errors."""
    unknown = sorted(set(data) - set(_TOP_KEYS))
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]!r}", hint=f"known keys: {', '.join(_TOP_KEYS)}")
    changes: dict[str, Any] = {}
    overridden: list[str] = list(base.overridden)
    if "name" in data:
        changes["name"] = _string(data["name"], f"{source}: name")
    if "page_url" in data:
        changes["page_url"] = _string(data["page_url"], f"{source}: page_url")
        overridden.append("page_url")
    for key, attr in _LIST_KEYS.items():
        if key in data:
            changes[attr] = _strings(data[key], f"{source}: {key}")
            overridden.append(key)
    for section, attr, known in (
        ("fields", "site_fields", SITE_FIELDS),
        ("global_fields", "global_fields", GLOBAL_FIELDS),
    ):
        if section not in data:
            continue
        table = _table(data[section], f"{source}: {section}")
        merged = dict(getattr(base, attr))
        for key, value in table.items():
            if key not in known:
                raise ConfigError(
                    f"{source}: {section}.{key} is not a field tmsclient knows",
                    hint=f"known fields: {', '.join(known)}",
                )
            merged[key] = _locator(value, f"{source}: {section}.{key}")
            overridden.append(f"{section}.{key}")
        changes[attr] = merged
    if "certificate" in data:
        table = _table(data["certificate"], f"{source}: certificate")
        cert = dict(base.certificate)
        for key, value in table.items():
            if key not in CERT_DETAILS:
                raise ConfigError(
                    f"{source}: certificate.{key} is not a certificate detail tmsclient reads",
                    hint=f"known: {', '.join(CERT_DETAILS)}",
                )
            cert[key] = _strings(value, f"{source}: certificate.{key}", allow_empty=True)
            overridden.append(f"certificate.{key}")
        changes["certificate"] = cert
    if "page" in data:
        table = _table(data["page"], f"{source}: page")
        for key, value in table.items():
            if key not in _PAGE_KEYS:
                raise ConfigError(f"{source}: page.{key} is not a page setting", hint=f"known: {', '.join(_PAGE_KEYS)}")
            changes[key] = _strings(value, f"{source}: page.{key}", allow_empty=True)
            overridden.append(f"page.{key}")
    if not changes.get("menu_path", base.menu_path):
        raise ConfigError(f"{source}: menu_path is empty", hint="give the menu entries, outermost first")
    return replace(base, source=source, overridden=tuple(dict.fromkeys(overridden)), **changes)


def _type(value: Any) -> str:
    return {
        str: "a string",
        list: "a list",
        dict: "a table",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)


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
    """A TOML basic string holding exactly ``text``: quote, backslash and every control character escaped."""
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_comment(text: str) -> str:
    """A ``#`` comment line showing ``text``, which comes from a page: a line break or other control character
    in it is written as an escape, so a page cannot end the comment and add keys of its own."""
    shown = "".join(
        f"\\u{ord(ch):04x}" if (ord(ch) < 0x20 and ch != "\t") or 0x7F <= ord(ch) <= 0x9F else ch for ch in text
    )
    return f"# {shown}"


def _toml_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def _toml_locator(loc: FieldLocator) -> str:
    parts = [f"labels = {_toml_list(loc.labels)}"]
    if loc.name:
        parts.append(f"name = {_toml_str(loc.name)}")
    if loc.id:
        parts.append(f"id = {_toml_str(loc.id)}")
    return "{ " + ", ".join(parts) + " }"


def render_profile(
    profile: PageProfile, *, comments: Mapping[str, str] | None = None, header: Iterable[str] = ()
) -> str:
    """A complete page-profile file for ``profile``; ``comments`` adds a ``# ...`` line above a field's entry
    (``discover`` says there what it saw on the page). Loading the text gives back the same profile."""
    comments = comments or {}
    lines = [_toml_comment(h) for h in header]
    lines += [
        "# tmsclient page profile: how the WebEx Settings pages of one TMS are labelled.",
        "# Labels match ignoring case, colons, '*' markers and spaces. A field may instead be found by a",
        '# glob on its control name (name = "*$ssoPartnerName") or id (id = "*_ssoPartnerName").',
        "",
        f"name = {_toml_str(profile.name)}",
    ]
    if profile.page_url:
        lines += [
            "# The WebEx Settings page, used only when the menu path is not found on the start page.",
            f"page_url = {_toml_str(profile.page_url)}",
        ]
    for key in _LIST_KEYS:
        lines.append(f"{key} = {_toml_list(getattr(profile, key))}")
    for section, attr, known in (
        ("fields", "site_fields", SITE_FIELDS),
        ("global_fields", "global_fields", GLOBAL_FIELDS),
    ):
        lines += ["", f"[{section}]"]
        mapping = getattr(profile, attr)
        for key in known:
            if key in comments:
                lines.append(_toml_comment(comments[key]))
            loc = mapping.get(key)
            if loc is not None:
                lines.append(f"{key} = {_toml_locator(loc)}")
    lines += ["", "[certificate]"]
    for key in CERT_DETAILS:
        if f"certificate.{key}" in comments:
            lines.append(_toml_comment(comments["certificate." + key]))
        lines.append(f"{key} = {_toml_list(profile.certificate.get(key, ()))}")
    lines += ["", "[page]"]
    for key in _PAGE_KEYS:
        lines.append(f"{key} = {_toml_list(getattr(profile, key))}")
    return "\n".join(lines) + "\n"
