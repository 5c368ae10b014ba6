"""`tmsclient show`: the WebEx Configuration settings and each site's fields as TMS shows them (read-only)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tmsclient.output import terminal_safe
from tmsclient.settings import add_target_arguments, resolve_target

if TYPE_CHECKING:
    from tmsclient.commands.context import Context
    from tmsclient.tms.driver import SiteView
    from tmsclient.tms.pageprofile import CertificateDetails

NAME = "show"
HELP = "show the WebEx settings and each site's fields (SSO ones included) as TMS shows them"
DESCRIPTION = """\
Read-only: log in, open the WebEx Settings page and each site's form (or only --site), and print the
"WebEx Configuration" settings and every site field, the SSO ones included, with the stored certificate's
details where TMS shows them. A password is never shown (TMS never renders it either)."""


def configure(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from tmsclient.tms.driver import Driver, match_site
    from tmsclient.tms.pageprofile import GLOBAL_FIELDS, certificate_details, display_label, load_profile, locate_field
    from tmsclient.tms.session import TmsSession

    started = time.monotonic()
    target = resolve_target(args, ctx, need_password=True)
    profile = load_profile(target.page_profile)
    sites: list[dict[str, Any]] = []
    with TmsSession(target) as session:
        driver = Driver(session, profile, page_url=target.page_url)
        page = driver.settings_page()
        globals_ = driver.global_values(page)
        rows = driver.sites(page)
        chosen = [match_site(rows, target.site)] if target.site else list(rows)
        for i, row in enumerate(chosen):
            # A postback opens one site per page view, so every site after the first is opened afresh.
            view = driver.open_site(page, row) if i == 0 else driver.reopen(row)
            # The form repeats the WebEx Configuration fields, which "global" already shows.
            shared = {
                located.field.name
                for key in GLOBAL_FIELDS
                if (located := locate_field(view.form, key, view.profile.global_fields[key], required=False))
            }
            sites.append(
                describe_site(view, certificate_details(view.page, view.profile), skip=shared, label=display_label)
            )
        stats = session.stats
        identity = driver.identity()
    payload = {
        "ok": True,
        "url": target.url,
        "tms": identity.to_json(),
        "settings_page": driver.settings_url,
        "menu_path": list(driver.menu_path_followed),
        "page_profile": f"{profile.name} ({profile.source})",
        "global": [{"key": k, "label": label, "value": value} for k, (label, value) in globals_.items()],
        "sites": sites,
        "requests": stats.requests,
        "elapsed_s": round(time.monotonic() - started, 3),
    }
    # Everything in the human text came from TMS pages: each value is one line without terminal controls.
    ctx.out.result(payload, _human(terminal_safe(payload)))
    return 0


def describe_site(
    view: SiteView, details: CertificateDetails, *, skip: set[str], label: Callable[[str], str]
) -> dict[str, Any]:
    """A site's fields in page order (logical ones named by their key), never a password's value; ``skip``: the
    names of fields not to list, ``label``: a label on the page as a person would name the field."""
    form = view.form
    key_of = {lf.field.name: key for key, lf in view.fields.items()}
    fields = []
    for f in form.fields:
        if f.kind == "hidden" or f.name in skip:
            continue
        fields.append(
            {
                "key": key_of.get(f.name),
                "label": label(f.labels[0]) if f.labels else None,
                "name": f.name,
                "type": f.kind,
                "value": field_display(form, f),
                "secret": f.kind == "password",
            }
        )
    return {
        "host_name": view.row.host_name,
        "site_name": view.row.site_name,
        "default": view.row.default,
        "fields": fields,
        "certificate": {
            "subject": details.subject,
            "expires": details.expires,
            "thumbprint": details.thumbprint,
            "serial": details.serial,
            "installed": details.installed,
        },
        "verification_possible": "certificate" if details.shown else "fields-only",
    }


def field_display(form: Any, f: Any) -> Any:
    """What a person sees in a field: text, the chosen option's label, a tick; None for files, passwords."""
    if f.kind in ("password", "file"):
        return None
    value = form.current_value(f.name)
    if f.kind == "radio" or f.kind.startswith("select"):
        labels = {o.value: o.label for o in f.options}
        if isinstance(value, tuple):
            return [labels.get(v, v) for v in value]
        return labels.get(value, value) if value is not None else None
    return value


def _human(p: dict[str, Any]) -> str:
    lines = [f"WebEx Settings at {p['settings_page']}"]
    if p["menu_path"]:
        lines[0] += f" (menu: {' > '.join(p['menu_path'])})"
    if p.get("tms"):
        lines.append(f"  read {_acted_on(p['tms'])}")
    lines += [f"  {g['label']}: {_text(g['value'])}" for g in p["global"]]
    for site in p["sites"]:
        default = " (default site)" if (site["default"] or "").casefold() in ("yes", "true") else ""
        lines.append(f"site {site['host_name']}/{site['site_name']}{default}")
        for f in site["fields"]:
            label = f["label"] or f["name"]
            if f["secret"]:
                shown = "(never shown)"
            elif f["type"] == "file":
                shown = "(file input)"
            else:
                shown = _text(f["value"])
            lines.append(f"  {label}: {shown}")
        cert = site["certificate"]
        if site["verification_possible"] == "certificate":
            lines.append(
                f"  certificate: {cert['subject'] or '?'}, expires {cert['expires'] or '?'}, "
                f"thumbprint {cert['thumbprint'] or '?'}" + (f", serial {cert['serial']}" if cert.get("serial") else "")
            )
        else:
            installed = cert["installed"] or "not shown"
            lines.append(f"  certificate installed: {installed} (TMS shows no details)")
    return "\n".join(lines)


def _text(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "checked" if value else "unchecked"
    if isinstance(value, list):
        return ", ".join(value) or "(none)"
    return str(value) if value != "" else "(empty)"


def _acted_on(tms: dict[str, Any]) -> str:
    parts = []
    if tms.get("user"):
        parts.append(f"as {tms['user']}")
    if tms.get("serial_number"):
        parts.append(f"on TMS S/N {tms['serial_number']}" + (f" ({tms['server']})" if tms.get("server") else ""))
    return " ".join(parts)
