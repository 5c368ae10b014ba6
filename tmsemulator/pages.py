"""Render TMS pages from a page profile: WebForms chrome, the menu, the WebEx pages, ASP.NET error pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from tmsemulator.config import StoredCertificate
from tmsemulator.profiles import BANDWIDTH_OPTIONS, SITE_FIELD_KINDS, Button, FieldSpec, PageProfile
from tmsemulator.viewstate import Codec, view_state_generator

FRONT_CONTROLLER = "/tms/default.aspx"
START_PAGE_ID = 1
ERROR_LABEL_ID = "ctl00_uxContent_uxFeedback_uxErrorLabel"
INFO_LABEL_ID = "ctl00_uxContent_uxFeedback_uxInfoLabel"
PRODUCT = "Cisco TelePresence Management Suite"


@dataclass(frozen=True)
class MenuEntry:
    text: str
    page_id: int | None = None  # None for a parent (href="#")
    children: tuple[MenuEntry, ...] = ()


#: Decoy pages: id -> (title, is a Configuration page that needs a Site Administrator).
DECOY_PAGES: dict[int, tuple[str, bool]] = {
    35: ("New Conference", False),
    36: ("List Conferences", False),
    77: ("Conference Control Center", False),
    79: ("Navigator", False),
    116: ("General Settings", True),
    117: ("Network Settings", True),
    118: ("E-mail Settings", True),
}


def menu_tree(webex_page_id: int) -> tuple[MenuEntry, ...]:
    return (
        MenuEntry("Booking", None, (MenuEntry("New Conference", 35), MenuEntry("List Conferences", 36))),
        MenuEntry("Monitoring", None, (MenuEntry("Conference Control Center", 77),)),
        MenuEntry("Systems", None, (MenuEntry("Navigator", 79),)),
        MenuEntry(
            "Administrative Tools",
            None,
            (
                MenuEntry(
                    "Configuration",
                    None,
                    (
                        MenuEntry("General Settings", 116),
                        MenuEntry("Network Settings", 117),
                        MenuEntry("E-mail Settings", 118),
                        MenuEntry("WebEx Settings", webex_page_id),
                    ),
                ),
            ),
        ),
    )


@dataclass
class SiteForm:
    """What the site form shows: a stored site, or the user's posted values after a refused Save."""

    site_id: int  # 0: a new site ("Add Site")
    values: dict[str, Any]  # SITE_FIELD_KINDS keys (without file/password) -> str or bool
    certificate: StoredCertificate | None


@dataclass
class ValidationCollector:
    """Event validation entries of one rendered page: what may come back in its postback."""

    pairs: list[tuple[str, str]] = field(default_factory=lambda: [("__EVENTTARGET", "")])

    def allow(self, name: str, value: str) -> None:
        self.pairs.append((name, value))


def control_id(name: str) -> str:
    return name.replace("$", "_")


EMPTY_LIST_TEXT = "No results found. Try widening your search by using fewer criteria."


def page_href(profile: PageProfile, page_id: int, site_id: int | str | None = None, *, link: bool = False) -> str:
    """A page's URL as the profile writes it; ``link``: as the sites list links to a site (extra parameters)."""
    href = f"{profile.link_base}?pageId={page_id}"
    if site_id is None:
        return href
    return f"{href}&{profile.site_param}={site_id}" + (profile.site_link_extra if link else "")


def format_thumbprint(thumbprint: str, *, lower: bool = False, sep: str = "") -> str:
    """The hex digits in one case, in pairs joined by ``sep`` (none: one run, as Windows prints it)."""
    digits = thumbprint.lower() if lower else thumbprint.upper()
    return sep.join(digits[i : i + 2] for i in range(0, len(digits), 2)) if sep else digits


def shown_thumbprint(profile: PageProfile, thumbprint: str) -> str:
    if profile.thumbprint_style == "colons":
        return format_thumbprint(thumbprint, lower=True, sep=":")
    if profile.thumbprint_style == "spaced":
        return format_thumbprint(thumbprint, sep=" ")
    return format_thumbprint(thumbprint)


class Renderer:
    """Pure rendering: (profile, data) -> HTML; view state and event validation sealed with ``codec``."""

    def __init__(self, profile: PageProfile, codec: Codec, cert_details: str) -> None:
        self.p = profile
        self.layout = profile.layout
        self.codec = codec
        self.cert_details = cert_details

    # ----- controls -------------------------------------------------------------------------------------
    def _text(self, name: str, value: str) -> str:
        return f'<input name="{escape(name)}" type="text" value="{escape(value)}" id="{control_id(name)}" />'

    def _select(self, name: str, value: str, ev: ValidationCollector) -> str:
        options = []
        for option in BANDWIDTH_OPTIONS:
            ev.allow(name, option)
            selected = ' selected="selected"' if option == value else ""
            options.append(f'<option{selected} value="{escape(option)}">{escape(option)}</option>')
        return f'<select name="{escape(name)}" id="{control_id(name)}">{"".join(options)}</select>'

    def _yes_no(self, name: str, value: bool, ev: ValidationCollector) -> str:
        items = []
        for index, (wire, text) in enumerate(zip(("true", "false"), self.p.yes_no, strict=True)):
            ev.allow(name, wire)
            checked = ' checked="checked"' if value == (wire == "true") else ""
            items.append(
                self.layout.radio_item.format(
                    id=f"{control_id(name)}_{index}",
                    name=escape(name),
                    value=wire,
                    checked=checked,
                    text=escape(text),
                )
            )
        return self.layout.radio_list.format(id=control_id(name), items="".join(items))

    def _submit(self, prefix: str, button: Button, ev: ValidationCollector) -> str:
        name = prefix + button.name
        ev.allow(name, button.text)
        return f'<input type="submit" name="{escape(name)}" value="{escape(button.text)}" id="{control_id(name)}" />'

    def _control(self, spec: FieldSpec, name: str, value: Any, ev: ValidationCollector) -> str:
        kind = SITE_FIELD_KINDS.get(spec.key, "yesno")
        if kind == "text":
            return self._text(name, str(value or ""))
        if kind == "select":
            return self._select(name, str(value), ev)
        if kind == "yesno":
            return self._yes_no(name, bool(value), ev)
        if kind == "file":
            return f'<input type="file" name="{escape(name)}" id="{control_id(name)}" accept=".pfx,.p12" />'
        # A password box never renders its value, whatever was posted.
        return f'<input name="{escape(name)}" type="password" id="{control_id(name)}" />'

    def _row(self, label: str, name: str, control: str) -> str:
        return self.layout.row.format(label=escape(label), id=control_id(name), control=control)

    # ----- page parts -----------------------------------------------------------------------------------
    def _global_part(self, enable_webex: bool, add_to_all: bool, ev: ValidationCollector) -> str:
        values = {"enable_webex": enable_webex, "add_webex_to_all": add_to_all}
        rows = [
            self._row(
                spec.label,
                self.p.settings_prefix + spec.name,
                self._yes_no(self.p.settings_prefix + spec.name, values[spec.key], ev),
            )
            for spec in self.p.global_fields
        ]
        buttons = self.layout.buttons_row.format(buttons=self._submit(self.p.settings_prefix, self.p.save_global, ev))
        return (
            self.layout.heading.format(text=escape(self.p.headings[0]))
            + self.layout.table_open
            + "".join(rows)
            + buttons
            + self.layout.table_close
        )

    def _sites_part(self, sites: Sequence[Any], ev: ValidationCollector) -> str:
        lay = self.layout
        grid = self.p.settings_prefix + self.p.grid_name
        add = self._submit(self.p.settings_prefix, self.p.add_site, ev)
        heading = lay.heading.format(text=escape(self.p.headings[1]))
        actions = f'<div class="GridActions">{add}</div>'
        if not sites:
            # A GridView's EmptyDataText (and TMS's own lists) render one cell, no header [code].
            empty = f'<tr><td colspan="4">{escape(EMPTY_LIST_TEXT)}</td></tr>'
            if self.p.sites_style == "grid":
                return heading + lay.grid_open.format(id=control_id(grid)) + empty + "</table>" + actions
            return (
                heading + f'<div id="{control_id(grid)}"><p class="Empty">{escape(EMPTY_LIST_TEXT)}</p></div>' + actions
            )
        if self.p.sites_style == "links":
            return heading + self._site_links(sites, grid) + actions
        if self.p.sites_style == "repeater":
            return heading + self._site_repeater(sites, grid, ev) + actions
        header_cells = [lay.grid_header_cell.format(text=escape(t)) for t in self.p.grid_headers]
        header = lay.grid_row.format(cells="".join(header_cells) + lay.grid_header_cell.format(text="&nbsp;"))
        rows = [header]
        for index, site in enumerate(sites):
            if self.p.site_page_id is None:
                target = f"{grid}$ctl{index + 2:02d}${self.p.edit_name}"
                ev.allow("__EVENTTARGET", target)
                edit = lay.postback_link.format(target=escape(target), text=escape(self.p.edit_text))
            else:
                href = page_href(self.p, self.p.site_page_id, site.id)
                edit = lay.hyperlink.format(href=escape(href), text=escape(self.p.edit_text))
            cells = [
                lay.grid_cell.format(value=escape(v))
                for v in (site.host_name, site.site_name, self.p.yes_no[0 if site.default_site else 1])
            ]
            cells.append(lay.grid_cell.format(value=edit))
            rows.append(lay.grid_row.format(cells="".join(cells)))
        return heading + lay.grid_open.format(id=control_id(grid)) + "".join(rows) + "</table>" + actions

    def _site_links(self, sites: Sequence[Any], grid: str) -> str:
        """A list of links on the host names, each to the site's own page (opened the way a person would)."""
        assert self.p.site_page_id is not None
        items = []
        for index, site in enumerate(sites):
            href = page_href(self.p, self.p.site_page_id, site.id, link=True)
            link_id = control_id(f"{grid}$ctl{index:02d}${self.p.edit_name}")
            default = ' <span class="Default">(default)</span>' if site.default_site else ""
            items.append(
                f'<li><a id="{link_id}" href="{escape(href)}"><span>{escape(site.host_name)}</span></a> '
                f'<span class="SiteName">{escape(site.site_name)}</span>{default}</li>'
            )
        return f'<ul id="{control_id(grid)}" class="SiteList">{"".join(items)}</ul>'

    def _site_repeater(self, sites: Sequence[Any], grid: str, ev: ValidationCollector) -> str:
        """One block per site (a Repeater's ItemTemplate) with an Edit button that posts back."""
        blocks = []
        for index, site in enumerate(sites):
            name = f"{grid}$ctl{index:02d}${self.p.edit_name}"
            ev.allow(name, self.p.edit_text)
            button = (
                f'<input type="submit" name="{escape(name)}" value="{escape(self.p.edit_text)}" '
                f'id="{control_id(name)}" />'
            )
            blocks.append(
                f'<div class="SiteItem"><span class="Host">{escape(site.host_name)}</span> '
                f'<span class="Site">{escape(site.site_name)}</span> {button}</div>'
            )
        return f'<div id="{control_id(grid)}" class="SiteRepeater">{"".join(blocks)}</div>'

    def _cert_rows(self, cert: StoredCertificate | None) -> str:
        labels, ids = self.p.cert_labels, [control_id(self.p.site_prefix + i) for i in self.p.cert_value_ids]
        row = self.layout.readonly_row
        if cert is not None and self.cert_details == "summary":
            expires = cert.not_after.astimezone(dt.timezone.utc).strftime(self.p.expires_format)
            values = (cert.subject, expires, shown_thumbprint(self.p, cert.thumbprint_sha1))
            out = "".join(row.format(label=escape(labels[i]), id=ids[i], value=escape(values[i])) for i in range(3))
            if self.p.cert_serial_label:
                serial_id = control_id(self.p.site_prefix + "certSerialLabel")
                out += row.format(label=escape(self.p.cert_serial_label), id=serial_id, value=escape(cert.serial))
            return out
        installed = self.p.yes_no[0 if cert is not None else 1]
        return row.format(label=escape(labels[3]), id=ids[3], value=escape(installed))

    def _site_part(self, form: SiteForm, ev: ValidationCollector) -> str:
        rows = []
        for spec in self.p.site_fields:
            name = self.p.site_prefix + spec.name
            rows.append(self._row(spec.label, name, self._control(spec, name, form.values.get(spec.key), ev)))
            if spec.key == "certificate":
                rows.append(self._cert_rows(form.certificate))
        buttons = (
            self._submit(self.p.site_prefix, self.p.save, ev)
            + " "
            + self._submit(self.p.site_prefix, self.p.cancel, ev)
        )
        return (
            self.layout.heading.format(text=escape(self.p.headings[2]))
            + self.layout.table_open
            + "".join(rows)
            + self.layout.buttons_row.format(buttons=buttons)
            + self.layout.table_close
        )

    # ----- whole pages ----------------------------------------------------------------------------------
    def webex_page(
        self,
        *,
        user: str,
        enable_webex: bool,
        add_to_all: bool,
        sites: Sequence[Any],
        form: SiteForm | None,
        error: str = "",
        info: str = "",
    ) -> str:
        """The WebEx Settings page; with ``form`` (same-page profiles) the site form after an Edit click."""
        ev = ValidationCollector()
        parts = []
        if form is None or self.p.site_form_with_list:
            parts.append(self._global_part(enable_webex, add_to_all, ev))
            parts.append(self._sites_part(sites, ev))
        if form is not None:
            parts.append(self._site_part(form, ev))
        view = {
            "v": "site" if form else "settings",
            "s": form.site_id if form else None,
            "rows": [s.id for s in sites],
        }
        return self._document(
            "WebEx Settings",
            self.p.webex_page_id,
            None,
            user,
            "".join(parts),
            view,
            ev,
            multipart=form is not None,
            error=error,
            info=info,
        )

    def site_page(self, *, user: str, form: SiteForm | None, error: str = "", info: str = "") -> str:
        """The site form on its own page (profiles with a site_page_id)."""
        assert self.p.site_page_id is not None
        ev = ValidationCollector()
        body = self._site_part(form, ev) if form else ""
        site_id = form.site_id if form else None
        view: dict[str, Any] = {"v": "site", "s": site_id, "rows": []}
        return self._document(
            "WebEx Site Configuration",
            self.p.site_page_id,
            site_id if form else None,
            user,
            body,
            view,
            ev,
            multipart=form is not None,
            error=error,
            info=info,
        )

    def simple_page(self, *, page_id: int, title: str, user: str, body_html: str) -> str:
        return self._document(
            title, page_id, None, user, body_html, {"v": "static"}, ValidationCollector(), multipart=False
        )

    def start_page(self, user: str) -> str:
        body = (
            f"<h2>Welcome to {PRODUCT}</h2><p>Use the menu to book conferences, monitor systems and configure TMS.</p>"
        )
        return self.simple_page(page_id=START_PAGE_ID, title="Home", user=user, body_html=body)

    def decoy_page(self, page_id: int, user: str) -> str:
        title = DECOY_PAGES[page_id][0]
        body = f"<h2>{escape(title)}</h2><p>This page is not part of the emulation.</p>"
        return self.simple_page(page_id=page_id, title=title, user=user, body_html=body)

    def access_denied(self, page_id: int, user: str) -> str:
        body = "<h2>Access Denied</h2><p>You do not have permission to view this page.</p>"
        return self.simple_page(page_id=page_id, title="Access Denied", user=user, body_html=body)

    def _menu(self) -> str:
        if self.p.menu_style == "spans":
            return self._span_menu()

        def entries(items: Sequence[MenuEntry]) -> str:
            out = []
            for item in items:
                href = escape(page_href(self.p, item.page_id)) if item.page_id is not None else "#"
                sub = f"<ul>{entries(item.children)}</ul>" if item.children else ""
                out.append(f'<li><a href="{href}">{escape(item.text)}</a>{sub}</li>')
            return "".join(out)

        return f'<ul id="ctl00_uxMenu" class="Menu">{entries(menu_tree(self.p.webex_page_id))}</ul>'

    def _span_menu(self) -> str:
        """Top-level entries are links that navigate by themselves (to their first page), sub-menus are spans,
        each leaf a link around a span [code: scripts click //a[contains(.,'System')] and //span[text()=...]].
        A decoy "WebEx Settings" sits under Booking: only the whole path leads to the page."""

        def first_page(item: MenuEntry) -> int | None:
            if item.page_id is not None:
                return item.page_id
            return next((p for p in (first_page(c) for c in item.children) if p is not None), None)

        def entries(items: Sequence[MenuEntry], top: bool) -> str:
            out = []
            for item in items:
                text = f'<span class="MenuText"><span>{escape(item.text)}</span></span>'
                sub = f'<ul class="SubMenu">{entries(item.children, False)}</ul>' if item.children else ""
                target = item.page_id if item.page_id is not None else (first_page(item) if top else None)
                if target is not None:
                    head = f'<a href="{escape(page_href(self.p, target))}">{text}</a>'
                else:
                    head = f'<span class="MenuItem">{text}</span>'
                out.append(f"<li>{head}{sub}</li>")
            return "".join(out)

        tree = list(menu_tree(self.p.webex_page_id))
        booking = tree[0]
        tree[0] = MenuEntry(booking.text, booking.page_id, (*booking.children, MenuEntry("WebEx Settings", 36)))
        return f'<ul id="ctl00_uxMenu" class="Menu HoverMenu">{entries(tree, True)}</ul>'

    def _footer(self, user: str) -> str:
        if self.p.footer_serial is None:
            return ""
        return (
            f'<div id="ctl00_uxFooter" class="Footer"><span id="ctl00_uxFooter_uxUser" class="FooterUser">'
            f'{escape(user)}</span> | <span class="Serial">S/N: {escape(self.p.footer_serial)} '
            f"({escape(self.p.footer_host)})</span></div>"
        )

    def _document(
        self,
        title: str,
        page_id: int,
        site_id: int | None,
        user: str,
        body: str,
        view: dict[str, Any],
        ev: ValidationCollector,
        *,
        multipart: bool,
        error: str = "",
        info: str = "",
    ) -> str:
        view_state = self.codec.encode_view_state({**view, "p": page_id, "sig": self.p.control_tree_signature()})
        validation = self.codec.encode_event_validation(ev.pairs)
        action = escape(page_href(self.p, page_id, site_id))
        enctype = ' enctype="multipart/form-data"' if multipart else ""
        generator = view_state_generator(FRONT_CONTROLLER)
        return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" \
"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head><title>{PRODUCT} - {escape(title)}</title>
<meta http-equiv="X-UA-Compatible" content="IE=edge" /></head>
<body>
<form method="post" action="{action}" id="aspnetForm"{enctype}>
<div class="aspNetHidden">
<input type="hidden" name="__EVENTTARGET" id="__EVENTTARGET" value="" />
<input type="hidden" name="__EVENTARGUMENT" id="__EVENTARGUMENT" value="" />
<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="{view_state}" />
</div>
<script type="text/javascript">
//<![CDATA[
var theForm = document.forms['aspnetForm'];
if (!theForm) {{ theForm = document.aspnetForm; }}
function __doPostBack(eventTarget, eventArgument) {{
    if (!theForm.onsubmit || (theForm.onsubmit() != false)) {{
        theForm.__EVENTTARGET.value = eventTarget;
        theForm.__EVENTARGUMENT.value = eventArgument;
        theForm.submit();
    }}
}}
//]]>
</script>
<div id="ctl00_uxHeader" class="Header"><span class="Product">{PRODUCT}</span>
<span id="ctl00_uxUserName" class="UserName">{escape(user)}</span></div>
{self._menu()}
<div id="ctl00_uxContent" class="Content">
<div id="ctl00_uxContent_uxFeedback"><span id="{ERROR_LABEL_ID}" class="ErrorLabel">{escape(error)}</span>\
<span id="{INFO_LABEL_ID}" class="InfoLabel">{escape(info)}</span></div>
{body}
</div>
{self._footer(user)}
<div class="aspNetHidden">
<input type="hidden" name="__VIEWSTATEGENERATOR" id="__VIEWSTATEGENERATOR" value="{generator}" />
<input type="hidden" name="__EVENTVALIDATION" id="__EVENTVALIDATION" value="{validation}" />
</div>
</form>
</body>
</html>
"""


# ----- error pages (not WebForms pages: no form) ----------------------------------------------------------

#: ASP.NET's own texts for the failures the emulator models.
VIEWSTATE_MAC_FAILED = (
    "System.Web.HttpException",
    "Validation of viewstate MAC failed. If this application is hosted by a Web Farm or cluster, ensure that "
    "<machineKey> configuration specifies the same validationKey and validation algorithm. "
    "AutoGenerate cannot be used in a cluster.",
)
INVALID_POSTBACK = (
    "System.ArgumentException",
    "Invalid postback or callback argument.  Event validation is enabled using <pages "
    'enableEventValidation="true"/> in configuration or <%@ Page EnableEventValidation="true" %> in a page.  '
    "For security purposes, this feature verifies that arguments to postback or callback events originate "
    "from the server control that originally rendered them.  If the data is valid and expected, use the "
    "ClientScriptManager.RegisterForEventValidation method in order to register the postback or callback "
    "data for validation.",
)
CONTROL_TREE_CHANGED = (
    "System.Web.HttpException",
    "Failed to load viewstate.  The control tree into which viewstate is being loaded must match the control "
    "tree that was used to save viewstate during the previous request.  For example, when adding controls "
    "dynamically, the controls added during a post-back must match the type and position of the controls "
    "added during the initial request.",
)
SAVE_FAILED = (
    "System.Data.SqlClient.SqlException",
    "Timeout expired.  The timeout period elapsed prior to completion of the operation or the server is not "
    "responding.",
)
REQUEST_TOO_LARGE = ("System.Web.HttpException", "Maximum request length exceeded.")
BAD_FORM = ("System.Web.HttpException", "The request body could not be read as a form.")
INTERNAL = ("System.Exception", "An unexpected error occurred in the emulator.")
NOT_FOUND = ("System.Web.HttpException", "The resource cannot be found.")


def error_page(error: tuple[str, str]) -> str:
    """An ASP.NET "yellow screen" for a local request: the message as heading, the exception type below."""
    kind, message = error
    return f"""<!DOCTYPE html>
<html>
<head><title>{escape(message)}</title></head>
<body bgcolor="white">
<span><h1>Server Error in '/tms' Application.<hr width="100%" size="1" color="silver" /></h1>
<h2><i>{escape(message)}</i></h2></span>
<font face="Arial, Helvetica, Geneva, SunSans-Regular, sans-serif ">
<b> Description: </b>An unhandled exception occurred during the execution of the current web request. Please \
review the stack trace for more information about the error and where it originated in the code.<br /><br />
<b> Exception Details: </b>{escape(kind)}: {escape(message)}<br /><br />
<hr width="100%" size="1" color="silver" />
<b>Version Information:</b>&nbsp;Microsoft .NET Framework Version:4.0.30319; ASP.NET Version:4.8.4465.0
</font>
</body>
</html>
"""
