"""The page profile: where the WebEx Settings page is, and how its fields and messages are labelled."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field

#: Logical fields of a site's configuration form, in page order, with what the driver does with them.
SITE_FIELDS: tuple[str, ...] = (
    "host_name",
    "site_name",
    "bandwidth",
    "default_site",
    "use_global",
    "tsp_audio",
    "use_sso",
    "sso_certificate",
    "certificate_password",
    "partner_name",
    "account_name",
    "authn_context",
)
#: The SSO fields: the ones an upload may change.
SSO_FIELDS: tuple[str, ...] = (
    "use_sso",
    "sso_certificate",
    "certificate_password",
    "partner_name",
    "account_name",
    "authn_context",
)
#: Logical fields of the "WebEx Configuration" part.
GLOBAL_FIELDS: tuple[str, ...] = ("enable_webex", "add_webex_to_all")
#: Read-only certificate details a site form may show.
CERT_DETAILS: tuple[str, ...] = ("subject", "expires", "thumbprint", "serial", "installed")


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
    """Everything page-specific the driver, the verifier and ``show`` rely on.

    Nobody here has seen a real TMS 15.x WebEx Settings page (docs/tms-page-model.md), so nothing is hard-coded
    in the driver: it follows the profile's menu path, finds each logical field by the profile's labels (or a
    name/id pattern), reads certificate details under the profile's labels, and recognises errors and access
    denial by the profile's markers. The built-in profile (:data:`DEFAULT_PROFILE`, ``tms15``) has the labels of
    the emulator's default profile; a page-profile file overrides what differs on another TMS.
    """

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
    #: The WebEx Settings page's URL (relative to --url), used only when the menu path is not on the start page.
    page_url: str | None = None
    #: Texts TMS shows for a list without entries ([code]: its search results and lists).
    empty_list: tuple[str, ...] = (
        "No results found. Try widening your search by using fewer criteria.",
        "No results found",
        "No WebEx sites",
        "There are no WebEx sites",
    )
    #: Id globs of the element showing the logged-in user (bottom left on every TMS page [doc]).
    user_ids: tuple[str, ...] = ("*uxUserName*", "*_uxUser", "*LoggedInUser*", "*CurrentUser*", "*UserNameLabel*")
    #: Buttons that are never pressed, whatever else matches: only Save changes anything.
    never_press: tuple[str, ...] = ("Cancel", "Delete", "Remove", "Test", "Test Connection", "Add", "Add Site")
    overridden: tuple[str, ...] = field(default=())  # what a file changed, for -v and discover

    def site_locator(self, key: str) -> FieldLocator:
        return self.site_fields.get(key, FieldLocator())


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
    # Labels in order of preference: the most specific first, broad ones ("Password", "SSO") last, so a
    # broad label is used only when no specific one is on the page (docs/tms-page-model.md, "Labels").
    site_fields={
        "host_name": _loc("Host Name"),
        "site_name": _loc("Site Name"),
        "bandwidth": _loc("WebEx Participant Bandwidth", "Participant Bandwidth", "Bandwidth"),
        "default_site": _loc("Default Site", "Default"),
        "use_global": _loc("Use Global Settings"),
        "tsp_audio": _loc("TSP Audio"),
        "use_sso": _loc(
            "Use Single Sign On", "Use SSO", "Single Sign On", "Single Sign On enabled", "Enable SSO", "SSO"
        ),
        "sso_certificate": _loc(
            "SSO Certificate", "Certificate File", "Certificate file (.pfx)", "SSO Certificate File", "Certificate"
        ),
        "certificate_password": _loc("Certificate Password", "SSO Certificate Password", "Password"),
        "partner_name": _loc("SSO Partner Name", "Partner Name"),
        "account_name": _loc("SSO Account Name", "Account Name"),
        "authn_context": _loc("SSO AuthnContextClassRef", "AuthnContextClassRef", "Authn Context Class Ref"),
    },
    global_fields={
        "enable_webex": _loc("Enable WebEx"),
        "add_webex_to_all": _loc("Add WebEx to All Conferences"),
    },
    save_labels=("Save",),
    certificate={
        "subject": ("Certificate Subject", "Subject", "Issued To"),
        "expires": (
            "Certificate Expires",
            "Expires",
            "Expiry Date",
            "Expiration Date",
            "Valid To",
            "Valid until",
            "Valid Until",
        ),
        "thumbprint": ("Certificate Thumbprint", "Thumbprint"),
        "serial": ("Certificate Serial Number", "Serial Number"),
        "installed": ("Certificate Installed", "Installed", "Certificate Status", "Status"),
    },
    yes_labels=("Yes", "On", "True", "Enabled"),
    no_labels=("No", "Off", "False", "Disabled"),
    access_denied=("Access Denied", "You do not have permission to view this page."),
    error_ids=("ctl00_uxContent_uxFeedback_uxErrorLabel", "*_uxErrorLabel", "*_ErrorLabel"),
    error_classes=("ErrorLabel", "errorMessage", "validation-summary-errors", "field-validation-error"),
    validation_summary_ids=("*ValidationSummary*",),
    info_ids=("ctl00_uxContent_uxFeedback_uxInfoLabel", "*_uxInfoLabel", "*_InfoLabel"),
)
