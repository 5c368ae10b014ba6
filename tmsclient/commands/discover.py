"""`tmsclient discover`: what tmsclient sees on a TMS's WebEx pages, and a page profile to edit for it."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tmsclient.commands.show import field_display
from tmsclient.errors import PageNotUnderstoodError
from tmsclient.files import ensure_writable, write_file_atomic
from tmsclient.output import terminal_safe
from tmsclient.settings import add_target_arguments, resolve_target

if TYPE_CHECKING:
    from tmsclient.commands.context import Context
    from tmsclient.tms.webforms import Form, Page

NAME = "discover"
HELP = "show what tmsclient sees on the WebEx pages and write a page profile for this TMS"
DESCRIPTION = """\
Read-only: log in, follow the menu (or --page-url) to the WebEx Settings page, open one site's form (--site,
else the first), and print what tmsclient sees: the menu path it followed, each form, each field's label,
name, type and current value (never a password), the sites grid and the certificate rows. With --out FILE
it writes a page profile: what the current profile finds is kept, the rest is guessed from control names
and types and marked GUESSED or NOT FOUND in comments. Edit it, then pass it with --page-profile."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="FILE", help="write a page-profile file (TOML) here")
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    add_target_arguments(parser)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from tmsclient.tms.driver import Driver, find_sites, match_site
    from tmsclient.tms.pageprofile import load_profile, render_profile, suggest_profile
    from tmsclient.tms.session import TmsSession

    started = time.monotonic()
    out_path = Path(args.out) if args.out else None
    if out_path is not None:  # before the login, so a run that cannot write is not a wasted one
        ensure_writable(out_path, force=args.force, what="page profile")
    target = resolve_target(args, ctx, need_password=True)
    profile = load_profile(target.page_profile)
    problems: list[str] = []
    site_page: Page | None = None
    site_form: Form | None = None
    chosen = None
    with TmsSession(target) as session:
        driver = Driver(session, profile, page_url=target.page_url)
        settings = driver.settings_page()
        try:
            rows = find_sites(settings, profile)
        except PageNotUnderstoodError as err:
            problems.append(err.message)
            rows = ()
        if rows:
            chosen = match_site(rows, target.site) if target.site else rows[0]
            try:
                site_page = driver.open_site_page(settings, chosen)
            except PageNotUnderstoodError as err:
                problems.append(err.message)
        stats = session.stats
    if site_page is not None and chosen is not None:
        site_form = _site_form(site_page, chosen.host_name)
    suggested, comments = suggest_profile(
        profile, settings=settings, site_page=site_page, site_form=site_form, menu_path=driver.menu_path_followed
    )
    report: dict[str, Any] = {
        "ok": True,
        "url": target.url,
        "menu_path": list(driver.menu_path_followed),
        "settings_page": settings.url,
        "settings_forms": [_form_json(f) for f in settings.forms],
        "sites": [
            {"host_name": r.host_name, "site_name": r.site_name, "default": r.default, "opens_with": _opens_with(r)}
            for r in rows
        ],
        "site_opened": chosen.name if chosen else None,
        "site_page": site_page.url if site_page else None,
        "site_forms": [_form_json(f) for f in site_page.forms] if site_page else [],
        "certificate_rows": [{"label": p.label, "value": p.value} for p in site_page.properties] if site_page else [],
        "profile_notes": comments,
        "problems": problems,
        "profile_written": str(out_path) if out_path else None,
        "requests": stats.requests,
        "elapsed_s": round(time.monotonic() - started, 3),
    }
    if out_path is not None:
        text = render_profile(
            suggested,
            comments=comments,
            header=[
                f"written by `tmsclient discover` from {settings.url}",
                "entries marked GUESSED or NOT FOUND need a look before use",
            ],
        )
        # Not a secret (labels, control names, what TMS shows): readable like the .cer export.
        write_file_atomic(out_path, text.encode("utf-8"), mode=0o644, force=args.force, what="page profile")
    # Everything in the human text came from TMS pages: each value is one line without terminal controls.
    ctx.out.result(report, _human(terminal_safe(report)))
    return 0


def _site_form(page: Page, host: str) -> Form | None:
    """The form holding a text field whose value is the site's host name (else the page's first form)."""
    for form in page.forms:
        for f in form.fields:
            if f.kind == "text" and str(form.current_value(f.name) or "").casefold() == host.casefold():
                return form
    return page.forms[0] if page.forms else None


def _opens_with(row: Any) -> str:
    if row.link is not None and row.link.url:
        return f"link {row.link.url}"
    if row.link is not None and row.link.postback is not None:
        return f"postback {row.link.postback.target}"
    if row.button is not None:
        return f"button {row.button.name}"
    return "nothing found"


def _form_json(form: Form) -> dict[str, Any]:
    return {
        "id": form.id,
        "action": form.action,
        "method": form.method,
        "enctype": form.enctype,
        "fields": [
            {
                "label": f.labels[0] if f.labels else None,
                "name": f.name,
                "type": f.kind,
                "value": field_display(form, f),
                "options": [o.label for o in f.options],
            }
            for f in form.fields
            if f.kind != "hidden"
        ],
        "buttons": [{"text": c.caption_text, "name": c.name, "type": c.type} for c in form.controls if c.is_button],
    }


def _human(r: dict[str, Any]) -> str:
    lines = []
    if r["menu_path"]:
        lines.append(f"menu followed: {' > '.join(r['menu_path'])}")
    lines.append(f"WebEx Settings page: {r['settings_page']}")
    for form in r["settings_forms"]:
        lines += _form_lines(form)
    lines.append(f"sites ({len(r['sites'])}):")
    lines += [
        f"  {s['host_name']}/{s['site_name']} (default: {s['default'] or '?'}; opens with {s['opens_with']})"
        for s in r["sites"]
    ]
    if r["site_page"]:
        lines.append(f"form of site {r['site_opened']}: {r['site_page']}")
        for form in r["site_forms"]:
            lines += _form_lines(form)
        lines.append("  read-only rows:")
        lines += [f"    {c['label']}: {c['value']}" for c in r["certificate_rows"]]
    lines.append("page profile:")
    lines += [f"  {key}: {note}" for key, note in r["profile_notes"].items()]
    lines += [f"problem: {p}" for p in r["problems"]]
    if r["profile_written"]:
        lines.append(f"page profile written to {r['profile_written']}; use it with --page-profile")
    return "\n".join(lines)


def _form_lines(form: dict[str, Any]) -> list[str]:
    head = f"{form['method'].upper()} {form['action']} ({form['enctype']})"
    lines = [f"  form {form['id'] or '(no id)'}: {head}"]
    for f in form["fields"]:
        if f["type"] == "password":
            value = "(never shown)"
        elif f["type"] == "file":
            value = "(file input)"
        else:
            value = repr(f["value"])
        options = f" options {f['options']}" if f["options"] else ""
        lines.append(f"    {f['label'] or '(no label)'} [{f['type']} {f['name']}] = {value}{options}")
    lines += [f"    button {b['text']!r} [{b['type']} {b['name']}]" for b in form["buttons"]]
    return lines
