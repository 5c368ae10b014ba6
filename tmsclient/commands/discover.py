"""`tmsclient discover`: what tmsclient sees on a TMS's WebEx pages, and a page profile to edit for it."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tmsclient import __version__
from tmsclient.commands.show import field_display
from tmsclient.errors import PageNotUnderstoodError, TmsClientError, UsageError
from tmsclient.files import ensure_writable, read_bounded, write_file_atomic
from tmsclient.output import terminal_safe
from tmsclient.settings import add_target_arguments, resolve_target

# Light (the standard library only), so it may load with --help.
from tmsclient.tms.capture import Fetched, SiteSeen, build_capture, capture_bytes

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from tmsclient.commands.context import Context
    from tmsclient.settings import TargetSettings
    from tmsclient.tms.driver import SiteRow
    from tmsclient.tms.webforms import Form, Page

NAME = "discover"
HELP = "show what tmsclient sees on the WebEx pages and write a page profile for this TMS"
DESCRIPTION = """\
Read-only: log in, follow the menu (or --page-url) to the WebEx Settings page, open one site's form (--site,
else the first), and print what tmsclient sees: the menu path it followed, each form, each field's label,
name, type and current value (never a password), the sites grid and the certificate rows. With --out FILE
it writes a page profile: what the current profile finds is kept, the rest is guessed from control names
and types and marked GUESSED or NOT FOUND in comments. Edit it, then pass it with --page-profile.
With --capture FILE it opens every site's form and writes one JSON file of every page it fetched, safe to
attach to a bug report: view state, event validation and other hidden values replaced by placeholders,
password and file inputs emptied, cookies and authentication headers dropped, a manifest of what was
redacted; --anonymize also replaces host names, site names, the user name and the serial number."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="FILE", help="write a page-profile file (TOML) here")
    parser.add_argument(
        "--capture",
        metavar="FILE",
        help="write every page the walk fetched (each site's form too), redacted, as one JSON file for a bug report",
    )
    parser.add_argument(
        "--anonymize",
        action="store_true",
        help="with --capture: replace host names, site names, the user name and the serial number in it",
    )
    parser.add_argument("--force", action="store_true", help="overwrite --out and --capture if they exist")
    add_target_arguments(parser)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from tmsclient.tms.driver import Driver, find_sites, match_site
    from tmsclient.tms.pageprofile import load_profile, render_profile, suggest_profile
    from tmsclient.tms.recording import RecordingSession

    started = time.monotonic()
    out_path = Path(args.out) if args.out else None
    capture_path = Path(args.capture) if args.capture else None
    if args.anonymize and capture_path is None:
        raise UsageError("--anonymize needs --capture FILE", hint="add --capture FILE, or leave out --anonymize")
    # Before the login, so a run that cannot write is not a wasted one.
    if out_path is not None:
        ensure_writable(out_path, force=args.force, what="page profile")
    if capture_path is not None:
        ensure_writable(capture_path, force=args.force, what="capture")
    target = resolve_target(args, ctx, need_password=True)
    profile = load_profile(target.page_profile)
    problems: list[str] = []
    site_page: Page | None = None
    site_form: Form | None = None
    chosen = None
    forms_fetched: dict[int, int] = {}  # row index -> index of the fetched page with its form
    rows: tuple[SiteRow, ...] = ()
    with RecordingSession(target) as session:
        driver = Driver(session, profile, page_url=target.page_url)
        try:
            settings = driver.settings_page()
            try:
                rows = find_sites(settings, profile)
            except PageNotUnderstoodError as err:
                problems.append(err.message)
            if rows:
                chosen = match_site(rows, target.site) if target.site else rows[0]
                # A capture holds every site's form; the report shows the chosen one.
                for index, row in enumerate(rows):
                    if row is not chosen and capture_path is None:
                        continue
                    try:
                        page = driver.open_site_page(settings, row)
                    except PageNotUnderstoodError as err:
                        problems.append(err.message)
                        continue
                    forms_fetched[index] = len(session.fetched) - 1
                    if row is chosen:
                        site_page = page
        except TmsClientError as err:
            # A walk that fails is when a capture is wanted most: what was fetched so far is written.
            if capture_path is None or not session.fetched:
                raise
            summary = _write_capture(
                args, target, capture_path, session.fetched, rows, forms_fetched, [*problems, err.message]
            )
            err.details = (
                *err.details,
                f"the {summary['pages']} page(s) fetched before this are in the capture {capture_path}",
            )
            raise
        stats = session.stats
        fetched = list(session.fetched)
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
        "capture_written": str(capture_path) if capture_path else None,
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
    if capture_path is not None:
        report["capture"] = _write_capture(args, target, capture_path, fetched, rows, forms_fetched, problems)
    # Everything in the human text came from TMS pages: each value is one line without terminal controls.
    ctx.out.result(report, _human(terminal_safe(report)))
    return 0


def _write_capture(
    args: argparse.Namespace,
    target: TargetSettings,
    path: Path,
    fetched: Sequence[Fetched],
    rows: Sequence[SiteRow],
    forms_fetched: Mapping[int, int],
    notes: Sequence[str],
) -> dict[str, Any]:
    """Redact (and with --anonymize anonymize) the fetched pages and write them; what the report says of it."""
    capture = build_capture(
        fetched,
        base_url=target.url,
        username=target.username,
        sites=[SiteSeen(r.host_name, r.site_name, r.default, forms_fetched.get(i)) for i, r in enumerate(rows)],
        anonymize=args.anonymize,
        page_profile=_profile_text(target.page_profile),
        notes=notes,
        tool=f"tmsclient {__version__} discover",
    )
    # Private until the user has read it: without --anonymize it names hosts, sites and the user.
    write_file_atomic(path, capture_bytes(capture), mode=0o600, force=args.force, what="capture")
    manifest = capture["manifest"]
    return {
        "pages": len(capture["pages"]),
        "anonymized": args.anonymize,
        "hidden_values_replaced": len(manifest["hidden_values_replaced"]),
        "inputs_emptied": len(manifest["inputs_emptied"]),
        "response_headers_dropped": manifest["response_headers_dropped"],
    }


def _profile_text(path: Path | None) -> str | None:
    """The page-profile file the walk used, for the capture (labels and names, nothing secret)."""
    if path is None:
        return None
    return read_bounded(path, "page profile")[0].decode("utf-8", "replace")


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
    if r["capture_written"]:
        c = r["capture"]
        lines.append(
            f"capture written to {r['capture_written']}: {c['pages']} pages, {c['hidden_values_replaced']} hidden "
            f"values replaced, {c['inputs_emptied']} inputs emptied, headers dropped: "
            f"{', '.join(c['response_headers_dropped']) or 'none'}"
            + ("; host, site and user names replaced" if c["anonymized"] else "; read it before you attach it")
        )
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
