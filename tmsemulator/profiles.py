"""Page profiles: the labels, control ids, page ids and HTML layout templates of the WebEx Settings pages."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

from tmsemulator.errors import ConfigError

#: The site model's fields and their control kinds; a profile names, labels and orders them.
SITE_FIELD_KINDS: dict[str, str] = {
    "host_name": "text",
    "site_name": "text",
    "bandwidth": "select",
    "default_site": "yesno",
    "use_global": "yesno",
    "tsp_audio": "yesno",
    "use_sso": "yesno",
    "certificate": "file",
    "password": "password",
    "partner_name": "text",
    "account_name": "text",
    "authn_context": "text",
}
BANDWIDTH_OPTIONS = ("Low", "Medium", "High")


@dataclass(frozen=True)
class FieldSpec:
    key: str  # a SITE_FIELD_KINDS key, or "enable_webex" / "add_webex_to_all" for the global part
    label: str
    name: str  # control name suffix, after the page's prefix


@dataclass(frozen=True)
class Button:
    name: str  # suffix after the page's prefix
    text: str


@dataclass(frozen=True)
class Layout:
    """HTML templates (``str.format``). ``{label}``/``{value}`` arrive escaped, ``{control}`` is HTML."""

    heading: str
    table_open: str
    table_close: str
    row: str  # {label} {id} {control}
    readonly_row: str  # {label} {id} {value}
    buttons_row: str  # {buttons}
    radio_list: str  # {id} {items}
    radio_item: str  # {id} {name} {value} {checked} {text}
    grid_open: str  # {id}
    grid_header_cell: str  # {text}
    grid_row: str  # {cells}
    grid_cell: str  # {value}
    postback_link: str  # {target} {text}: a LinkButton
    hyperlink: str  # {href} {text}: a HyperLink


_RADIO_ITEM = '<input id="{id}" type="radio" name="{name}" value="{value}"{checked} /><label for="{id}">{text}</label>'

#: The table layout of docs/tms-page-model.md: label and control in one row, classed cells.
PROPERTY_TABLE = Layout(
    heading="<h2>{text}</h2>",
    table_open='<table class="PropertyTable" cellspacing="0">',
    table_close="</table>",
    row='<tr><td class="PropertyName">{label}</td><td class="PropertyValue">{control}</td></tr>',
    readonly_row='<tr><td class="PropertyName">{label}</td><td class="PropertyValue">{value}</td></tr>',
    buttons_row='<tr><td class="PropertyName"></td><td class="PropertyValue">{buttons}</td></tr>',
    radio_list='<span id="{id}">{items}</span>',
    radio_item=_RADIO_ITEM,
    grid_open='<table class="Grid" cellspacing="0" rules="all" border="1" id="{id}" style="border-collapse:collapse;">',
    grid_header_cell='<th scope="col">{text}</th>',
    grid_row="<tr>{cells}</tr>",
    grid_cell="<td>{value}</td>",
    postback_link="<a href=\"javascript:__doPostBack('{target}','')\">{text}</a>",
    hyperlink='<a href="{href}">{text}</a>',
)

#: ``<label for>`` elements in div rows inside a fieldset (ASP.NET Label with AssociatedControlID).
LABEL_FOR = Layout(
    heading='<h2 class="SectionTitle">{text}</h2>',
    table_open='<fieldset class="WebExForm">',
    table_close="</fieldset>",
    row='<div class="FormRow"><label for="{id}">{label}</label> {control}</div>',
    readonly_row='<div class="FormRow"><span class="FormLabel">{label}</span> <span id="{id}">{value}</span></div>',
    buttons_row='<div class="FormButtons">{buttons}</div>',
    radio_list='<span id="{id}">{items}</span>',
    radio_item=_RADIO_ITEM,
    grid_open='<table class="GridView" cellspacing="0" border="0" id="{id}">',
    grid_header_cell='<th scope="col">{text}</th>',
    grid_row="<tr>{cells}</tr>",
    grid_cell="<td>{value}</td>",
    postback_link='<a href="javascript:__doPostBack(&#39;{target}&#39;,&#39;&#39;)">{text}</a>',
    hyperlink='<a href="{href}">{text}</a>',
)

#: The label only as text in the cell before the control's cell: no classes, no label elements, radio
#: lists rendered as tables (RepeatLayout=Table).
PRECEDING_CELL = Layout(
    heading='<div class="SectionHeader"><span>{text}</span></div>',
    table_open='<table border="0" cellpadding="2">',
    table_close="</table>",
    row='<tr><td valign="top">{label}</td><td>{control}</td></tr>',
    readonly_row='<tr><td>{label}</td><td><span id="{id}">{value}</span></td></tr>',
    buttons_row='<tr><td colspan="2" align="right">{buttons}</td></tr>',
    radio_list='<table id="{id}" border="0"><tr>{items}</tr></table>',
    radio_item='<td><input id="{id}" type="radio" name="{name}" value="{value}"{checked} />'
    '<label for="{id}">{text}</label></td>',
    grid_open='<table cellspacing="0" cellpadding="3" rules="cols" border="1" id="{id}">',
    grid_header_cell='<th align="left" scope="col">{text}</th>',
    grid_row="<tr>{cells}</tr>",
    grid_cell="<td>{value}</td>",
    postback_link='<a href="javascript:__doPostBack(&#39;{target}&#39;,&#39;&#39;)">{text}</a>',
    hyperlink='<a href="{href}">{text}</a>',
)


@dataclass(frozen=True)
class PageProfile:
    """Everything that may differ between TMS versions or between our guesses and a real TMS."""

    name: str
    description: str
    layout: Layout
    webex_page_id: int
    #: None: the site form is the WebEx page itself after an Edit postback; else its own page,
    #: opened with ``default.aspx?pageId=N&siteId=ID`` links from the grid.
    site_page_id: int | None
    link_base: str  # how hrefs and the form action name the front controller
    settings_prefix: str  # control name prefix on the WebEx Settings part
    site_prefix: str  # control name prefix on the site form
    headings: tuple[str, str, str]  # global part, sites pane, site form
    global_fields: tuple[FieldSpec, ...]
    site_fields: tuple[FieldSpec, ...]  # in page order; a missing field is an optional row left out
    #: Read-only certificate rows after the certificate field: subject, expires, thumbprint, installed.
    cert_labels: tuple[str, str, str, str]
    cert_value_ids: tuple[str, str, str, str]  # id suffixes (site prefix) of those values
    expires_format: str  # strftime of the expiry shown
    save_global: Button
    add_site: Button
    save: Button
    cancel: Button
    grid_name: str
    grid_headers: tuple[str, str, str]  # host name, site name, default site
    edit_name: str  # the Edit LinkButton's suffix inside a grid row
    edit_text: str
    #: True: the site form shows below the global part and the sites grid (the same page).
    site_form_with_list: bool
    yes_no: tuple[str, str] = ("Yes", "No")
    saved_text: str = "Settings saved."
    #: The menu: ``anchors`` (every entry a link, parents ``href="#"``) or ``spans`` (top-level entries are
    #: real links to their first page, sub-menus are spans, each leaf a link around a span) [code].
    menu_style: str = "anchors"
    #: The WebEx Sites pane: ``grid`` (a GridView with Edit links), ``links`` (a list of links on the host
    #: names, to the site page) or ``repeater`` (one block per site with an Edit button that posts back).
    sites_style: str = "grid"
    #: The query parameter that names the site on its own page, and what follows it in the link [code:
    #: ``default.aspx?pageId=79&ConfId=17747&View=true``].
    site_param: str = "siteId"
    site_link_extra: str = ""
    #: After a successful Save: ``render`` the form again with the info label, or ``redirect`` to the list
    #: (Post/Redirect/Get).
    after_save: str = "render"
    #: How a certificate the import refuses is shown: ``label`` (the error label on the form) or
    #: ``error-page`` (an unhandled CryptographicException: ASP.NET's HTTP 500 error page, nothing stored).
    save_errors: str = "label"
    #: A Save whose file passes every check still fails to import with this .NET message (an application pool
    #: that cannot reach its key store or user profile); the other fields are stored first.
    import_error: str | None = None
    #: Extra certificate row: the serial number, under this label (None: not shown).
    cert_serial_label: str | None = None
    #: How the thumbprint is shown: ``upper`` (Windows), ``colons`` (lower-case pairs with colons) or
    #: ``spaced`` (upper-case pairs with spaces).
    thumbprint_style: str = "upper"
    #: The page footer "S/N: <serial> (<host>)" with the logged-in user [doc]; None: no footer.
    footer_serial: str | None = None
    footer_host: str = "TMSEMU01"

    def field(self, key: str) -> FieldSpec | None:
        for spec in (*self.global_fields, *self.site_fields):
            if spec.key == key:
                return spec
        return None

    def control_tree_signature(self) -> str:
        """Changes when any control name or page id changes, not when only labels or templates do."""
        names = [
            str(self.webex_page_id),
            str(self.site_page_id),
            self.settings_prefix,
            self.site_prefix,
            *(f"{f.key}={f.name}" for f in (*self.global_fields, *self.site_fields)),
            *(b.name for b in (self.save_global, self.add_site, self.save, self.cancel)),
            self.grid_name,
            self.edit_name,
            *self.cert_value_ids,
            self.sites_style,
            self.site_param,
        ]
        return hashlib.sha256("\x00".join(names).encode()).hexdigest()[:16]


#: The English headings (every profile's) and sites-grid column titles (most profiles').
_HEADINGS = ("WebEx Configuration", "WebEx Sites", "WebEx Site Configuration")
_GRID_HEADERS = ("Host Name", "Site Name", "Default Site")

_TMS15 = PageProfile(
    name="tms15",
    description="docs/tms-page-model.md: PropertyName/PropertyValue table rows, pageId 83, the site form "
    "after an Edit postback on the same page, controls ctl00$uxContent$ctl01$...",
    layout=PROPERTY_TABLE,
    webex_page_id=83,
    site_page_id=None,
    link_base="./default.aspx",
    settings_prefix="ctl00$uxContent$ctl01$",
    site_prefix="ctl00$uxContent$ctl01$",
    headings=_HEADINGS,
    global_fields=(
        FieldSpec("enable_webex", "Enable WebEx", "enableWebEx"),
        FieldSpec("add_webex_to_all", "Add WebEx to All Conferences", "addWebExToAll"),
    ),
    site_fields=(
        FieldSpec("host_name", "Host Name", "hostName"),
        FieldSpec("site_name", "Site Name", "siteName"),
        FieldSpec("bandwidth", "WebEx Participant Bandwidth", "bandwidth"),
        FieldSpec("default_site", "Default Site", "defaultSite"),
        FieldSpec("use_global", "Use Global Settings", "useGlobal"),
        FieldSpec("tsp_audio", "TSP Audio", "tspAudio"),
        FieldSpec("use_sso", "Use Single Sign On", "useSso"),
        FieldSpec("certificate", "SSO Certificate", "ssoCertificate"),
        FieldSpec("password", "Certificate Password", "ssoCertificatePassword"),
        FieldSpec("partner_name", "SSO Partner Name", "ssoPartnerName"),
        FieldSpec("account_name", "SSO Account Name", "ssoAccountName"),
        FieldSpec("authn_context", "SSO AuthnContextClassRef", "ssoAuthnContext"),
    ),
    cert_labels=(
        "Certificate Subject",
        "Certificate Expires",
        "Certificate Thumbprint",
        "Certificate Installed",
    ),
    cert_value_ids=("certSubject", "certExpires", "certThumbprint", "certInstalled"),
    expires_format="%Y-%m-%d %H:%M:%SZ",
    save_global=Button("saveGlobalButton", "Save"),
    add_site=Button("addSiteButton", "Add Site"),
    save=Button("saveButton", "Save"),
    cancel=Button("cancelButton", "Cancel"),
    grid_name="siteGrid",
    grid_headers=_GRID_HEADERS,
    edit_name="editLink",
    edit_text="Edit",
    site_form_with_list=False,
)

_LABELFOR = PageProfile(
    name="tms15-labelfor",
    description="<label for> elements in div rows, the site form on its own page (pageId 91, opened by "
    "hyperlinks from the grid on pageId 90), other labels, controls ctl00$uxContent$uxWebExSite$ux...",
    layout=LABEL_FOR,
    webex_page_id=90,
    site_page_id=91,
    link_base="/tms/default.aspx",
    settings_prefix="ctl00$uxContent$uxWebExSettings$",
    site_prefix="ctl00$uxContent$uxWebExSite$",
    headings=_HEADINGS,
    global_fields=(
        FieldSpec("enable_webex", "Enable WebEx", "uxEnableWebEx"),
        FieldSpec("add_webex_to_all", "Add WebEx to all conferences", "uxAddToAll"),
    ),
    site_fields=(
        FieldSpec("host_name", "Host name", "uxHostName"),
        FieldSpec("site_name", "Site name", "uxSiteName"),
        FieldSpec("bandwidth", "Participant bandwidth", "uxBandwidth"),
        FieldSpec("default_site", "Default site", "uxDefaultSite"),
        FieldSpec("use_global", "Use global settings", "uxUseGlobal"),
        FieldSpec("tsp_audio", "TSP audio", "uxTspAudio"),
        FieldSpec("use_sso", "Single Sign On enabled", "uxUseSso"),
        FieldSpec("certificate", "Certificate file (.pfx)", "uxCertificateFile"),
        FieldSpec("password", "Password", "uxCertificatePassword"),
        FieldSpec("partner_name", "Partner name", "uxPartnerName"),
        FieldSpec("account_name", "Account name", "uxAccountName"),
        FieldSpec("authn_context", "AuthnContextClassRef", "uxAuthnContext"),
    ),
    cert_labels=("Subject", "Valid until", "Thumbprint", "Certificate installed"),
    cert_value_ids=("uxCertSubject", "uxCertValidUntil", "uxCertThumbprint", "uxCertInstalled"),
    expires_format="%Y-%m-%d %H:%M:%SZ",
    save_global=Button("uxSaveSettings", "Save"),
    add_site=Button("uxAddSite", "Add Site"),
    save=Button("uxSaveButton", "Save"),
    cancel=Button("uxCancelButton", "Cancel"),
    grid_name="uxSitesGrid",
    grid_headers=("Host name", "Site name", "Default"),
    edit_name="uxEditLink",
    edit_text="Edit",
    site_form_with_list=False,
)

_CELLS = PageProfile(
    name="tms15-cells",
    description="the label only as text in a preceding cell (no classes, colons), radio lists as tables, no "
    "'Use Global Settings' row, the site form below the grid on the same page (pageId 120), US date format, "
    "controls ctl00$ContentPlaceHolder1$WebExSettingsControl$...",
    layout=PRECEDING_CELL,
    webex_page_id=120,
    site_page_id=None,
    link_base="/tms/default.aspx",
    settings_prefix="ctl00$ContentPlaceHolder1$WebExSettingsControl$",
    site_prefix="ctl00$ContentPlaceHolder1$WebExSettingsControl$",
    headings=_HEADINGS,
    global_fields=(
        FieldSpec("enable_webex", "Enable WebEx:", "EnableWebExRadio"),
        FieldSpec("add_webex_to_all", "Add WebEx to All Conferences:", "AddToAllRadio"),
    ),
    site_fields=(
        FieldSpec("host_name", "Host Name:", "HostNameTextBox"),
        FieldSpec("site_name", "Site Name:", "SiteNameTextBox"),
        FieldSpec("bandwidth", "Participant Bandwidth:", "BandwidthDropDown"),
        FieldSpec("default_site", "Default Site:", "DefaultSiteRadio"),
        FieldSpec("tsp_audio", "TSP Audio:", "TspAudioRadio"),
        FieldSpec("use_sso", "Use SSO:", "UseSsoRadio"),
        FieldSpec("certificate", "Certificate:", "CertificateUpload"),
        FieldSpec("password", "Certificate Password:", "CertificatePasswordTextBox"),
        FieldSpec("partner_name", "Partner Name:", "PartnerNameTextBox"),
        FieldSpec("account_name", "Account Name:", "AccountNameTextBox"),
        FieldSpec("authn_context", "AuthnContextClassRef:", "AuthnContextTextBox"),
    ),
    cert_labels=("Subject:", "Expires:", "Thumbprint:", "Installed:"),
    cert_value_ids=("SubjectLabel", "ExpiresLabel", "ThumbprintLabel", "InstalledLabel"),
    expires_format="%m/%d/%Y %I:%M:%S %p",
    save_global=Button("SaveSettingsButton", "Save"),
    add_site=Button("AddSiteButton", "Add Site"),
    save=Button("SaveButton", "Save"),
    cancel=Button("CancelButton", "Cancel"),
    grid_name="SitesGridView",
    grid_headers=_GRID_HEADERS,
    edit_name="EditButton",
    edit_text="Edit",
    site_form_with_list=True,
)


def _relabel(base: PageProfile, name: str, labels: dict[str, str]) -> PageProfile:
    return dataclasses.replace(
        base,
        name=name,
        description=f"{base.name} in another UI language (German labels, the same control ids; for the "
        "layout-change fault and for page profiles)",
        site_fields=tuple(dataclasses.replace(f, label=labels.get(f.key, f.label)) for f in base.site_fields),
        cert_labels=("Antragsteller", "Gültig bis", "Fingerabdruck", "Installiert"),
        grid_headers=("Hostname", "Sitename", "Standardsite"),
        edit_text="Bearbeiten",
        yes_no=("Ja", "Nein"),
    )


#: The UI language is each user's choice [doc], while control names stay the same: labels nobody's built-in
#: profile knows, so the client needs a page profile (or fails clearly).
_RELABELLED = _relabel(
    _TMS15,
    "tms15-relabelled",
    {
        "host_name": "Hostname",
        "site_name": "Sitename",
        "bandwidth": "Teilnehmerbandbreite",
        "default_site": "Standardsite",
        "use_global": "Globale Einstellungen verwenden",
        "tsp_audio": "TSP-Audio",
        "use_sso": "Single Sign-On verwenden",
        "certificate": "SSO-Zertifikat",
        "password": "Zertifikatkennwort",
        "partner_name": "SSO-Partnername",
        "account_name": "SSO-Kontoname",
        "authn_context": "SSO-AuthnContextClassRef",
    },
)

#: The shapes of section 1b of the facts (public code and documents that drive a real TMS): a menu of spans
#: whose top-level entries are real links, sites opened by their host name at another URL with query
#: parameters, Post/Redirect/Get after Save, On/Off choices, user controls nested several levels deep, the
#: footer with the user and the serial number, and the labels of public naming (serial number, expiry date,
#: a thumbprint in lower-case pairs).
_EVIDENCE = PageProfile(
    name="tms15-evidence",
    description="section 1b of the facts: span menus with real top-level links, sites opened by host name at "
    "pageId 131 with Id=N&View=true, Post/Redirect/Get after Save, On/Off radios, deep control names "
    "(...$folderPageHost$uxWebExModule$siteEditPage$...), the footer 'S/N: ... (HOST)', public labels",
    layout=PROPERTY_TABLE,
    webex_page_id=130,
    site_page_id=131,
    link_base="default.aspx",
    settings_prefix="ctl00$uxContent$ctl01$folderPageHost$uxWebExModule$",
    site_prefix="ctl00$uxContent$ctl01$folderPageHost$uxWebExModule$siteEditPage$",
    headings=_HEADINGS,
    global_fields=(
        FieldSpec("enable_webex", "Enable WebEx", "enableWebExRadioList"),
        FieldSpec("add_webex_to_all", "Add WebEx to All Conferences", "addWebExToAllRadioList"),
    ),
    site_fields=(
        FieldSpec("host_name", "Host Name", "hostNameTextBox"),
        FieldSpec("site_name", "Site Name", "siteNameTextBox"),
        FieldSpec("bandwidth", "WebEx Participant Bandwidth", "bandwidthDropDownList"),
        FieldSpec("default_site", "Default Site", "defaultSiteRadioList"),
        FieldSpec("use_global", "Use Global Settings", "useGlobalRadioList"),
        FieldSpec("tsp_audio", "TSP Audio", "tspAudioRadioList"),
        FieldSpec("use_sso", "Use SSO", "useSsoRadioList"),
        FieldSpec("certificate", "SSO Certificate", "ssoCertificateFileUpload"),
        FieldSpec("password", "Certificate Password", "ssoCertificatePasswordTextBox"),
        FieldSpec("partner_name", "Partner Name", "partnerNameTextBox"),
        FieldSpec("account_name", "SSO Account Name", "accountNameTextBox"),
        FieldSpec("authn_context", "AuthnContextClassRef", "authnContextTextBox"),
    ),
    cert_labels=("Issued To", "Expiry Date", "Thumbprint", "Status"),
    cert_value_ids=("certIssuedToLabel", "certExpiryLabel", "certThumbprintLabel", "certStatusLabel"),
    expires_format="%d %B %Y %H:%M:%S",
    save_global=Button("saveButton", "Save"),
    add_site=Button("addSiteButton", "Add Site"),
    save=Button("saveButton", "Save"),
    cancel=Button("cancelButton", "Cancel"),
    grid_name="siteList",
    grid_headers=_GRID_HEADERS,
    edit_name="hostNameLink",
    edit_text="Edit",
    site_form_with_list=False,
    yes_no=("On", "Off"),
    menu_style="spans",
    sites_style="links",
    site_param="Id",
    site_link_extra="&View=true",
    after_save="redirect",
    cert_serial_label="Serial Number",
    thumbprint_style="colons",
    footer_serial="65A0B4C2",
)

#: A repeater of sites with Edit buttons that post back, the site form on the same page, certificate
#: refusals as ASP.NET error pages (an unhandled CryptographicException), broad labels.
_REPEATER = PageProfile(
    name="tms15-repeater",
    description="the sites as a repeater (one block per site, an Edit button posting back), the site form "
    "on the same page (pageId 140), certificate refusals as ASP.NET's HTTP 500 error page, broad labels "
    "('Single Sign On', 'Password', 'Expiration Date', 'Status'), a spaced thumbprint, the footer",
    layout=LABEL_FOR,
    webex_page_id=140,
    site_page_id=None,
    link_base="/tms/default.aspx",
    settings_prefix="ctl00$uxContent$ctl01$uxWebEx$",
    site_prefix="ctl00$uxContent$ctl01$uxWebEx$uxSiteEditor$",
    headings=_HEADINGS,
    global_fields=(
        FieldSpec("enable_webex", "Enable WebEx", "uxEnableWebEx"),
        FieldSpec("add_webex_to_all", "Add WebEx to All Conferences", "uxAddToAll"),
    ),
    site_fields=(
        FieldSpec("host_name", "Host Name", "uxHostName"),
        FieldSpec("site_name", "Site Name", "uxSiteName"),
        FieldSpec("bandwidth", "Bandwidth", "uxBandwidth"),
        FieldSpec("default_site", "Default Site", "uxDefaultSite"),
        FieldSpec("use_global", "Use Global Settings", "uxUseGlobal"),
        FieldSpec("tsp_audio", "TSP Audio", "uxTspAudio"),
        FieldSpec("use_sso", "Single Sign On", "uxUseSso"),
        FieldSpec("certificate", "Certificate", "uxCertificate"),
        FieldSpec("password", "Password", "uxPassword"),
        FieldSpec("partner_name", "SSO Partner Name", "uxPartnerName"),
        FieldSpec("account_name", "Account Name", "uxAccountName"),
        FieldSpec("authn_context", "SSO AuthnContextClassRef", "uxAuthnContext"),
    ),
    cert_labels=("Subject", "Expiration Date", "Thumbprint", "Status"),
    cert_value_ids=("uxCertSubject", "uxCertExpiration", "uxCertThumbprint", "uxCertStatus"),
    expires_format="%Y-%m-%d %H:%M:%SZ",
    save_global=Button("uxSaveSettings", "Save"),
    add_site=Button("uxAddSite", "Add Site"),
    save=Button("uxSave", "Save"),
    cancel=Button("uxCancel", "Cancel"),
    grid_name="uxSiteRepeater",
    grid_headers=_GRID_HEADERS,
    edit_name="uxEditButton",
    edit_text="Edit",
    site_form_with_list=False,
    sites_style="repeater",
    save_errors="error-page",
    thumbprint_style="spaced",
    footer_serial="81C3D9E7",
    footer_host="TMS-LAB",
)

#: tms15 on a host whose application pool cannot store the imported key: every Save with a good file
#: stores the other fields, then ends in ASP.NET's error page "Keyset does not exist" [3P].
_KEYSET = dataclasses.replace(
    _TMS15,
    name="tms15-keyset",
    description="tms15 whose import fails after the fields are stored: ASP.NET's HTTP 500 error page "
    "'Keyset does not exist' (an application pool without access to the machine key store)",
    import_error="Keyset does not exist",
)

PROFILES: dict[str, PageProfile] = {
    p.name: p for p in (_TMS15, _LABELFOR, _CELLS, _RELABELLED, _EVIDENCE, _REPEATER, _KEYSET)
}
DEFAULT_PROFILE = "tms15"


def get_profile(name: str) -> PageProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(
            f"unknown page profile {name!r}",
            hint=f"expected one of {', '.join(PROFILES)}",
        ) from None
