"""The staging stand-in itself, driven with plain requests + requests_ntlm + BeautifulSoup (not tmsclient):
real NTLM over real TLS, the WebForms pages of docs/tms-page-model.md, and Mono's X509Certificate2 on Save.

Where a test pins down what a third-party part does (Mono, gss-ntlmssp), the observed fact is also written up
in docs/staging.md; if one of these fails after a package upgrade, update both."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import socket
import ssl
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
import spnego
from bs4 import BeautifulSoup, Tag
from requests_ntlm import HttpNtlmAuth

from tests.helpers.html import attr, find
from tests.helpers.staging import ADMIN, OPERATOR, StagingStack
from tests.helpers.staging_webforms import Page, postback

pytestmark = pytest.mark.staging

P = "ctl00$uxContent$ctl01$"  # control-name prefix of the page body (docs/tms-page-model.md)
SAVE = P + "saveButton"
FILE = P + "ssoCertificate"
PASSWORD = P + "ssoCertificatePassword"


# ----------------------------------------------------------------------------------------------------
# test certificates, made with the openssl CLI as a TMS admin would
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pfx:
    path: Path
    password: str
    thumbprint: str  # upper-case SHA-1 hex of the certificate, as Windows shows it
    not_after: str  # "yyyy-MM-dd HH:mm:ssZ"
    subject_cn: str

    @property
    def data(self) -> bytes:
        return self.path.read_bytes()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest().upper()


def _openssl(*args: str) -> str:
    return subprocess.run(["openssl", *args], check=True, capture_output=True, text=True).stdout


def _label_after(control: Tag) -> str:
    """The text of the first <label> after ``control`` in document order."""
    label = control.find_next("label")
    assert isinstance(label, Tag), f"no label after {control}"
    return label.get_text()


@pytest.fixture(scope="session")
def pfx_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Pfx]:
    """legacy (RC2-40 certs, 3DES key, SHA-1 MAC: `-legacy`), aes (OpenSSL 3 default: AES-256, SHA-256 MAC),
    3des-sha256mac (3DES with a SHA-256 MAC), nokey (certificate only), each with its own certificate."""
    d = tmp_path_factory.mktemp("pfx")
    password = "Pfx-" + secrets.token_urlsafe(10)
    variants = {
        "legacy": ["-legacy"],
        "aes": [],
        "3des-sha256mac": ["-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha256"],
        "nokey": ["-legacy", "-nokeys"],
    }
    out = {}
    for name, extra in variants.items():
        key, crt, pfx = d / f"{name}.key", d / f"{name}.crt", d / f"{name}.pfx"
        cn = f"tms-{name}.example.com"
        _openssl(
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "360",
            "-subj",
            f"/CN={cn}",
            "-keyout",
            str(key),
            "-out",
            str(crt),
        )
        args = [
            "pkcs12",
            "-export",
            *extra,
            "-in",
            str(crt),
            "-out",
            str(pfx),
            "-passout",
            f"pass:{password}",
        ]
        if "-nokeys" not in extra:
            args += ["-inkey", str(key), "-name", "tms-cert-key"]
        _openssl(*args)
        fp = _openssl("x509", "-in", str(crt), "-noout", "-fingerprint", "-sha1").strip()
        end = _openssl("x509", "-in", str(crt), "-noout", "-enddate").strip().split("=", 1)[1]
        not_after = datetime.strptime(end, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=timezone.utc)
        out[name] = Pfx(
            pfx,
            password,
            fp.split("=", 1)[1].replace(":", "").upper(),
            not_after.strftime("%Y-%m-%d %H:%M:%SZ"),
            cn,
        )
    for name, data in {"empty": b"", "junk": b"not a PKCS#12 file"}.items():
        (d / f"{name}.pfx").write_bytes(data)
        out[name] = Pfx(d / f"{name}.pfx", password, "", "", "")
    return out


# ----------------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------------


def edit_links(page: Page) -> list[tuple[str, str, str]]:
    """(host name, site name, __doPostBack target) per row of the WebEx Sites grid."""
    grid = page.by_id("ctl00_uxContent_ctl01_siteGrid")
    assert grid is not None, "no WebEx Sites grid"
    rows = []
    for tr in grid.find_all("tr")[1:]:
        tds = tr.find_all("td")
        link = find(tr, "a", string="Edit")
        m = re.match(r"javascript:__doPostBack\('([^']+)',''\)", attr(link, "href"))
        assert m, link["href"]
        rows.append((tds[0].get_text(strip=True), tds[1].get_text(strip=True), m.group(1)))
    return rows


def open_site(stack: StagingStack, s: requests.Session, site_name: str = "tms") -> Page:
    page = Page.from_response(s.get(stack.webex_url))
    assert page.status == 200
    target = next(t for _, name, t in edit_links(page) if name == site_name)
    form = Page.from_response(postback(s, page, event_target=target))
    assert form.status == 200, form.text[:500]
    assert form.soup.find("h2", string="WebEx Site Configuration") is not None
    return form


def site(stack: StagingStack, site_name: str = "tms") -> dict:
    return next(x for x in stack.read_data()["Sites"] if x["SiteName"] == site_name)


def save_with(
    s: requests.Session,
    form: Page,
    pfx: Pfx | None,
    password: str | None = None,
    values: dict[str, str] | None = None,
) -> Page:
    vals = dict(values or {})
    files = None
    if pfx is not None:
        vals[PASSWORD] = pfx.password if password is None else password
        files = {FILE: (pfx.path.name, pfx.data)}
    return Page.from_response(postback(s, form, submitter=SAVE, values=vals, files=files))


def process_gone(pid: int) -> bool:
    """Exited (a zombie not yet reaped by init counts as exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def error_title(resp: requests.Response) -> str:
    """The exception line of a Mono error page (type and message), for assertion messages."""
    return BeautifulSoup(resp.text, "html.parser").get_text(" ", strip=True)[:300]


# ----------------------------------------------------------------------------------------------------
# the stack: ready file, TLS, NTLM
# ----------------------------------------------------------------------------------------------------


def test_ready_file_and_tls(staging_stack: StagingStack) -> None:
    r = staging_stack.ready
    assert re.fullmatch(r"https://127\.0\.0\.1:\d+/tms/", r["url"])
    assert Path(r["ca_file"]).is_file() and r["pid"] > 0
    port = int(r["url"].split(":")[2].split("/")[0])
    # the self-signed certificate verifies for 127.0.0.1 and localhost, even under X509_STRICT (Python 3.13's
    # default context)
    for host in ("127.0.0.1", "localhost"):
        ctx = ssl.create_default_context(cafile=r["ca_file"])
        ctx.verify_flags |= ssl.VERIFY_X509_STRICT
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            ctx.wrap_socket(raw, server_hostname=host) as tls,
        ):
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
    # and is refused without it
    with pytest.raises(requests.exceptions.SSLError):
        requests.Session().get(r["url"], verify=True, timeout=10)


def test_unauthenticated_gets_401_offering_negotiate_and_ntlm(staging_stack: StagingStack) -> None:
    resp = staging_stack.session(None).get(staging_stack.url)
    assert resp.status_code == 401
    offers = [x.strip() for x in resp.headers["WWW-Authenticate"].split(",")]
    assert offers == ["Negotiate", "NTLM"]  # like IIS: two challenges, no Basic


def test_right_password_200(staging_stack: StagingStack) -> None:
    s = staging_stack.session(ADMIN)
    resp = s.get(staging_stack.url)
    assert resp.status_code == 200
    page = Page.from_response(resp)
    assert page.find("h2").get_text() == "Welcome to Cisco TMS"
    assert page.find(class_="User").get_text() == f"TMS\\{ADMIN}"
    assert "ASP.NET_SessionId" in s.cookies
    # the authenticated keep-alive connection is reused: no new handshake for the next request
    resp2 = s.get(staging_stack.webex_url)
    assert resp2.status_code == 200 and resp2.history == [] and "Authorization" not in resp2.request.headers


def test_wrong_password_401(staging_stack: StagingStack) -> None:
    resp = staging_stack.session(ADMIN, password="not-the-password").get(staging_stack.url)
    assert resp.status_code == 401


def test_gss_ntlmssp_account_name_matching(staging_stack: StagingStack) -> None:
    """Facts: gss-ntlmssp matches the domain case-sensitively (Windows would not) but the user name in any
    case, accepts an empty domain, and does not understand a UPN (user@DOMAIN)."""
    admin = staging_stack.users[ADMIN]
    cases = {
        f"TMS\\{ADMIN}": 200,
        ADMIN: 200,
        f"TMS\\{ADMIN.upper()}": 200,
        f"tms\\{ADMIN}": 401,
        f"Tms\\{ADMIN}": 401,
        f"{ADMIN}@TMS": 401,
    }
    seen = {}
    for login, _ in cases.items():
        s = staging_stack.session(None)
        s.auth = HttpNtlmAuth(login, admin.password)
        seen[login] = s.get(staging_stack.url).status_code
    assert seen == cases


def test_non_admin_is_denied_on_configuration_pages(staging_stack: StagingStack) -> None:
    s = staging_stack.session(OPERATOR)
    start = Page.from_response(s.get(staging_stack.url))
    assert start.status == 200 and start.find("h2").get_text() == "Welcome to Cisco TMS"
    for page_id in (staging_stack.webex_page_id, 116):
        page = Page.from_response(s.get(f"{staging_stack.url}default.aspx?pageId={page_id}"))
        assert page.status == 200
        assert page.find("h2").get_text() == "Access Denied"
        assert "You do not have permission to view this page." in page.text
        assert page.soup.find("input", attrs={"type": "file"}) is None
        assert page.by_id("ctl00_uxContent_ctl01_siteGrid") is None
    # a client-sent X-Remote-User is dropped by Apache before the app sees it
    forged = Page.from_response(s.get(staging_stack.webex_url, headers={"X-Remote-User": f"TMS\\{ADMIN}"}))
    assert forged.find("h2").get_text() == "Access Denied"
    # a non-configuration decoy page is open to any authenticated user
    assert (
        Page.from_response(s.get(f"{staging_stack.url}default.aspx?pageId=35")).find("h2").get_text()
        == "New Conference"
    )


def test_menu_leads_to_webex_settings(staging_stack: StagingStack) -> None:
    page = Page.from_response(staging_stack.session(ADMIN).get(staging_stack.url))
    menu = page.by_id("ctl00_uxMenu")
    assert menu is not None

    def child(ul, text):
        for li in ul.find_all("li", recursive=False):
            a = li.find("a", recursive=False)
            if a.get_text(strip=True) == text:
                return li, a
        raise AssertionError(f"no menu entry {text!r}")

    li, a = child(menu, "Administrative Tools")
    assert a["href"] == "#"
    li, a = child(li.find("ul", recursive=False), "Configuration")
    assert a["href"] == "#"
    entries = [x.find("a").get_text() for x in li.find("ul", recursive=False).find_all("li", recursive=False)]
    assert "WebEx Settings" in entries and len(entries) > 1  # decoys next to it
    _, a = child(li.find("ul", recursive=False), "WebEx Settings")
    assert a["href"] == f"default.aspx?pageId={staging_stack.webex_page_id}"
    top = [find(x, "a").get_text() for x in menu.find_all("li", recursive=False)]
    assert {"Booking", "Monitoring", "Systems", "Administrative Tools"} <= set(top)


# ----------------------------------------------------------------------------------------------------
# the WebEx Settings page and the site form
# ----------------------------------------------------------------------------------------------------


def test_settings_page_structure(staging_stack: StagingStack) -> None:
    s = staging_stack.session(ADMIN)
    page = Page.from_response(s.get(staging_stack.webex_url))
    form = page.form
    assert form["id"] == "aspnetForm" and form["method"] == "post"
    assert form["action"] == f"./default.aspx?pageId={staging_stack.webex_page_id}"
    assert form.get("enctype") is None  # no file input on this view
    for hidden in (
        "__EVENTTARGET",
        "__EVENTARGUMENT",
        "__VIEWSTATE",
        "__VIEWSTATEGENERATOR",
        "__EVENTVALIDATION",
    ):
        assert page.soup.find("input", attrs={"type": "hidden", "name": hidden}) is not None, hidden
    assert [h.get_text() for h in page.soup.find_all("h2")] == ["WebEx Configuration", "WebEx Sites"]
    assert page.control_name("Enable WebEx") == P + "enableWebEx"
    assert page.control_name("Add WebEx to All Conferences") == P + "addWebExToAll"
    radios = page.property_rows()["Enable WebEx"].find_all("input", attrs={"type": "radio"})
    assert [(r["value"], _label_after(r)) for r in radios] == [
        ("true", "Yes"),
        ("false", "No"),
    ]
    assert page.soup.find("input", attrs={"name": P + "saveGlobalButton", "value": "Save"}) is not None
    assert page.soup.find("input", attrs={"name": P + "addSiteButton", "value": "Add Site"}) is not None
    header = [th.get_text(strip=True) for th in page.find(id="ctl00_uxContent_ctl01_siteGrid").find_all("th")]
    assert header == ["Host Name", "Site Name", "Default Site", ""]
    links = edit_links(page)
    assert len(links) >= 2
    assert links[0][2] == P + "siteGrid$ctl02$editLink" and links[1][2] == P + "siteGrid$ctl03$editLink"
    defaults = [
        tr.find_all("td")[2].get_text() for tr in page.find(id="ctl00_uxContent_ctl01_siteGrid").find_all("tr")[1:]
    ]
    assert defaults.count("Yes") == 1
    assert page.by_id("ctl00_uxContent_uxFeedback_uxErrorLabel") is not None


def test_site_form_structure(staging_stack: StagingStack) -> None:
    form = open_site(staging_stack, staging_stack.session(ADMIN))
    assert form.form["enctype"] == "multipart/form-data"
    labels = [lbl for lbl in form.property_rows() if lbl not in ("Enable WebEx", "Add WebEx to All Conferences")]
    expected = [
        "Host Name",
        "Site Name",
        "WebEx Participant Bandwidth",
        "Default Site",
        "Use Global Settings",
        "TSP Audio",
        "Use Single Sign On",
        "SSO Certificate",
    ]
    assert labels[: len(expected)] == expected
    after_cert = labels[len(expected) :]
    # certificate rows (Certificate Installed, or Subject/Expires/Thumbprint) sit between file and password
    assert after_cert[-4:] == [
        "Certificate Password",
        "SSO Partner Name",
        "SSO Account Name",
        "SSO AuthnContextClassRef",
    ]
    names = {
        "Host Name": "hostName",
        "Site Name": "siteName",
        "WebEx Participant Bandwidth": "bandwidth",
        "Default Site": "defaultSite",
        "Use Global Settings": "useGlobal",
        "TSP Audio": "tspAudio",
        "Use Single Sign On": "useSso",
        "SSO Certificate": "ssoCertificate",
        "Certificate Password": "ssoCertificatePassword",
        "SSO Partner Name": "ssoPartnerName",
        "SSO Account Name": "ssoAccountName",
        "SSO AuthnContextClassRef": "ssoAuthnContext",
    }
    for label, suffix in names.items():
        assert form.control_name(label) == P + suffix, label
    rows = form.property_rows()
    assert find(rows["SSO Certificate"], "input")["type"] == "file"
    pw = find(rows["Certificate Password"], "input")
    assert pw["type"] == "password" and not pw.get("value")
    options = [(o["value"], o.get_text()) for o in rows["WebEx Participant Bandwidth"].find_all("option")]
    assert options == [("Low", "Low"), ("Medium", "Medium"), ("High", "High")]
    assert find(rows["Host Name"], "input")["value"] == "example.webex.com"
    assert form.soup.find("input", attrs={"name": SAVE, "value": "Save", "type": "submit"}) is not None
    assert form.soup.find("input", attrs={"name": P + "cancelButton", "value": "Cancel"}) is not None


def test_save_legacy_pfx_stores_the_certificate(staging_stack: StagingStack, pfx_files: dict[str, Pfx]) -> None:
    pfx = pfx_files["legacy"]
    s = staging_stack.session(ADMIN)
    form = open_site(staging_stack, s)
    before = site(staging_stack)
    partner = "partner-" + secrets.token_hex(4)
    result = save_with(
        s, form, pfx, values={P + "ssoPartnerName": partner, P + "bandwidth": "High", P + "useSso": "true"}
    )
    assert result.status == 200
    assert result.error == ""
    assert result.info == "Settings saved."
    assert result.property_text("Certificate Subject") == f"CN={pfx.subject_cn}"
    assert result.property_text("Certificate Expires") == pfx.not_after
    assert result.property_text("Certificate Thumbprint") == pfx.thumbprint
    # the form re-renders for the same site, password and file empty
    rows = result.property_rows()
    assert find(rows["SSO Partner Name"], "input")["value"] == partner
    assert not find(rows["Certificate Password"], "input").get("value")

    after = site(staging_stack)
    cert = after["Certificate"]
    assert cert["Thumbprint"] == pfx.thumbprint
    assert cert["PfxSha256"] == pfx.sha256
    assert cert["HasPrivateKey"] is True
    assert cert["NotAfter"] == pfx.not_after
    assert cert["UploadedBy"] == f"TMS\\{ADMIN}"
    assert after["SsoPartnerName"] == partner and after["Bandwidth"] == "High" and after["UseSso"] is True
    assert after["CertificateUploads"] == before["CertificateUploads"] + 1
    assert after["Saves"] == before["Saves"] + 1
    # a fresh GET + Edit shows the stored details too
    again = open_site(staging_stack, s)
    assert again.property_text("Certificate Thumbprint") == pfx.thumbprint


def test_save_without_file_keeps_certificate(staging_stack: StagingStack, pfx_files: dict[str, Pfx]) -> None:
    s = staging_stack.session(ADMIN)
    save_with(s, open_site(staging_stack, s), pfx_files["legacy"])
    stored = site(staging_stack)["Certificate"]
    account = "acct-" + secrets.token_hex(4)
    result = save_with(s, open_site(staging_stack, s), None, values={P + "ssoAccountName": account})
    assert result.info == "Settings saved." and result.error == ""
    after = site(staging_stack)
    assert after["SsoAccountName"] == account
    assert after["Certificate"] == stored


def test_cancel_closes_the_form(staging_stack: StagingStack) -> None:
    s = staging_stack.session(ADMIN)
    form = open_site(staging_stack, s)
    before = stack_bytes(staging_stack)
    page = Page.from_response(
        postback(s, form, submitter=P + "cancelButton", values={P + "ssoPartnerName": "not-saved"})
    )
    assert page.status == 200
    assert page.soup.find("h2", string="WebEx Site Configuration") is None
    assert stack_bytes(staging_stack) == before


def stack_bytes(stack: StagingStack) -> bytes:
    return stack.data_file.read_bytes()


@pytest.mark.parametrize("case", ["wrong-password", "aes", "junk", "empty", "nokey", "no-password"])
def test_failed_import_shows_error_and_stores_nothing(
    staging_stack: StagingStack, pfx_files: dict[str, Pfx], case: str
) -> None:
    """Facts (Mono 6.8's X509Certificate2): a wrong password and an OpenSSL 3 default (AES-256/PBES2,
    SHA-256 MAC) file both raise CryptographicException "Unable to decode certificate." (inner:
    "`MonoBtlsPkcs12.Import` failed."), indistinguishable, and so does a file that is no PKCS#12 at all. An
    empty file counts as a file in Mono's FileUpload (.NET's HasFile would be false) and X509Certificate2
    raises ArgumentException on it. A certificate-only file imports but HasPrivateKey is false."""
    s = staging_stack.session(ADMIN)
    form = open_site(staging_stack, s)
    pfx, password = {
        "wrong-password": (pfx_files["legacy"], "wrong-" + secrets.token_hex(4)),
        "aes": (pfx_files["aes"], None),
        "junk": (pfx_files["junk"], None),
        "empty": (pfx_files["empty"], None),
        "nokey": (pfx_files["nokey"], None),
        "no-password": (pfx_files["legacy"], ""),
    }[case]
    failures_before = len(staging_stack.read_import_failures())
    before = stack_bytes(staging_stack)
    partner = "never-" + secrets.token_hex(4)
    result = save_with(s, form, pfx, password, values={P + "ssoPartnerName": partner})
    assert result.status == 200
    expected = {
        "wrong-password": "Unable to decode certificate.",
        "aes": "Unable to decode certificate.",
        "junk": "Unable to decode certificate.",
        "empty": "Array cannot be empty or null. Parameter name: rawData",
        "nokey": "The certificate file does not contain a private key.",
        "no-password": "Certificate Password is required to import the certificate.",
    }[case]
    assert " ".join(result.error.split()) == expected
    assert result.info == ""
    assert stack_bytes(staging_stack) == before  # nothing stored, not even the other fields
    rows = result.property_rows()
    assert find(rows["SSO Partner Name"], "input")["value"] == partner  # the user's input is kept on the form
    assert not find(rows["Certificate Password"], "input").get("value")
    failures = staging_stack.read_import_failures()
    assert len(failures) == failures_before + 1
    last = failures[-1]
    assert last["file_sha256"] == pfx.sha256 and " ".join(last["message"].split()) == expected
    if case in ("wrong-password", "aes", "junk"):
        assert last["exception_type"] == "System.Security.Cryptography.CryptographicException"
        assert last["inner_message"] == "`MonoBtlsPkcs12.Import` failed."
    if case == "empty":
        assert last["exception_type"] == "System.ArgumentException"
    print(
        json.dumps(
            {
                "case": case,
                "page_error": result.error,
                "exception": last["exception_type"],
                "inner": last["inner_message"],
            }
        )
    )


@pytest.mark.parametrize(
    ("password", "refused"),
    [
        ("Tms<cert>2027", True),
        ("Tms&#65;2027", True),
        ("Tms<!2027", True),
        ("Tms</2027", False),
        ("Tms<?2027", False),
        ("Tms<1&2027", False),
    ],
)
def test_asp_net_request_validation_of_the_password(
    staging_stack: StagingStack, pfx_files: dict[str, Pfx], password: str, refused: bool
) -> None:
    """Fact (System.Web request validation, validateRequest on, the ASP.NET default): a posted value with
    '<' followed by a letter or '!', or with '&#', is refused with HttpRequestValidationException, HTTP 500,
    before any page code runs, the password box included; nothing is imported or stored. .NET 4.x refuses
    '</' and '<?' too (CrossSiteScriptingValidation.IsDangerousString); Mono lets them through."""
    pfx = pfx_files["legacy"]
    if not refused:  # a file with this password, to show the password arrives intact
        pfx = _export_with_password(pfx, password)
    s = staging_stack.session(ADMIN)
    form = open_site(staging_stack, s)
    before = stack_bytes(staging_stack)
    failures = len(staging_stack.read_import_failures())
    resp = postback(s, form, submitter=SAVE, values={PASSWORD: password}, files={FILE: (pfx.path.name, pfx.data)})
    if refused:
        assert resp.status_code == 500, error_title(resp)
        assert "System.Web.HttpRequestValidationException" in resp.text
        assert "A potentially dangerous Request.Form value was detected" in resp.text
        assert stack_bytes(staging_stack) == before
        assert len(staging_stack.read_import_failures()) == failures
    else:
        page = Page.from_response(resp)
        assert (page.status, page.error, page.info) == (200, "", "Settings saved.")
        assert site(staging_stack)["Certificate"]["Thumbprint"] == pfx.thumbprint


def _export_with_password(pfx: Pfx, password: str) -> Pfx:
    """The same key and certificate, re-exported (-legacy) with another password."""
    out = pfx.path.with_name(f"pw-{secrets.token_hex(4)}.pfx")
    pem = out.with_suffix(".pem")
    _openssl("pkcs12", "-in", str(pfx.path), "-nodes", "-legacy", "-passin", f"pass:{pfx.password}", "-out", str(pem))
    _openssl("pkcs12", "-export", "-legacy", "-in", str(pem), "-out", str(out), "-passout", f"pass:{password}")
    pem.unlink()
    return Pfx(out, password, pfx.thumbprint, pfx.not_after, pfx.subject_cn)


def test_3des_with_sha256_mac_imports_on_mono(staging_stack: StagingStack, pfx_files: dict[str, Pfx]) -> None:
    """Fact: Mono accepts 3DES with a SHA-256 MAC, which Windows Server 2012 R2/2016 refuse (tms-facts.md §2):
    here the stand-in is more lenient than an old TMS host."""
    pfx = pfx_files["3des-sha256mac"]
    s = staging_stack.session(ADMIN)
    result = save_with(s, open_site(staging_stack, s), pfx)
    assert result.error == "" and result.info == "Settings saved."
    assert site(staging_stack)["Certificate"]["Thumbprint"] == pfx.thumbprint


# ----------------------------------------------------------------------------------------------------
# WebForms integrity checks: HTTP 500
# ----------------------------------------------------------------------------------------------------


def test_tampered_viewstate_is_http_500(staging_stack: StagingStack) -> None:
    s = staging_stack.session(ADMIN)
    form = open_site(staging_stack, s)
    before = stack_bytes(staging_stack)
    vs = attr(form.find(id="__VIEWSTATE"), "value")
    i = len(vs) // 2
    tampered = vs[:i] + ("A" if vs[i] != "A" else "B") + vs[i + 1 :]
    resp = postback(s, form, submitter=SAVE, values={"__VIEWSTATE": tampered})
    assert resp.status_code == 500, error_title(resp)
    assert "Unable to validate data." in resp.text  # Mono's wording; .NET's differs: clients check the status
    assert stack_bytes(staging_stack) == before


def test_unrendered_select_value_is_http_500(staging_stack: StagingStack) -> None:
    s = staging_stack.session(ADMIN)
    form = open_site(staging_stack, s)
    before = stack_bytes(staging_stack)
    resp = postback(s, form, submitter=SAVE, values={P + "bandwidth": "Ultra"})
    assert resp.status_code == 500, error_title(resp)
    assert "Invalid postback or callback argument" in resp.text
    assert stack_bytes(staging_stack) == before


def test_unrendered_radio_value_is_not_validated_by_mono(staging_stack: StagingStack) -> None:
    """Fact: Mono's RadioButtonList does not run event validation on its posted value (.NET's does, giving
    HTTP 500); the stand-in then keeps the stored value."""
    s = staging_stack.session(ADMIN)
    form = open_site(staging_stack, s)
    stored = site(staging_stack)["UseSso"]
    resp = postback(s, form, submitter=SAVE, values={P + "useSso": "maybe"})
    assert resp.status_code == 200
    assert site(staging_stack)["UseSso"] == stored


def test_global_settings_save(staging_stack: StagingStack) -> None:
    s = staging_stack.session(ADMIN)
    page = Page.from_response(s.get(staging_stack.webex_url))
    data = staging_stack.read_data()
    flipped = "false" if data["AddWebExToAll"] else "true"
    result = Page.from_response(
        postback(s, page, submitter=P + "saveGlobalButton", values={P + "addWebExToAll": flipped})
    )
    assert result.info == "Settings saved."
    after = staging_stack.read_data()
    assert after["AddWebExToAll"] is (flipped == "true")
    assert after["GlobalSaves"] == data["GlobalSaves"] + 1
    assert after["Sites"] == data["Sites"]


def test_spnego_wrapped_ntlm_is_accepted(staging_stack: StagingStack) -> None:
    """Fact: besides raw NTLM tokens under either scheme name, mod_auth_gssapi accepts SPNEGO-wrapped NTLM
    (what a Negotiate client without Kerberos sends)."""
    admin = staging_stack.users[ADMIN]
    client = spnego.client(admin.login, admin.password, hostname="127.0.0.1", service="HTTP", protocol="negotiate")
    s = staging_stack.session(None)
    token = client.step()
    assert token is not None and token[:1] == b"\x60"  # a SPNEGO NegTokenInit, not a bare NTLMSSP message
    for _ in range(3):
        resp = s.get(staging_stack.url, headers={"Authorization": "Negotiate " + base64.b64encode(token).decode()})
        if resp.status_code != 401:
            break
        challenge = resp.headers["WWW-Authenticate"].split()
        assert challenge[0] == "Negotiate" and len(challenge) == 2
        token = client.step(base64.b64decode(challenge[1]))
        assert token is not None, "the client has no answer to the challenge"
    assert resp.status_code == 200


def test_up_options_generated_admin_page_id_and_no_cert_details(staging_starter, pfx_files: dict[str, Pfx]) -> None:
    """A second stand-in: no --users (one generated admin), another pageId, --cert-details off."""
    with staging_starter("--webex-page-id", "450", "--cert-details", "off") as stack:
        ready = stack.ready
        assert ready["users_generated"] is True and ready["admins"] == ["admin"]
        users_file = Path(ready["users_file"])
        assert users_file.parent == stack.state_dir and users_file.stat().st_mode & 0o777 == 0o600
        admin = stack.users["admin"]
        assert len(stack.users) == 1 and len(admin.password) >= 16
        assert admin.password not in json.dumps(ready)  # the ready file never holds a password
        assert stack.webex_page_id == 450 and stack.webex_url.endswith("pageId=450")
        # the seeded settings are in the data file as soon as the stack is ready, before any page view
        assert [x["SiteName"] for x in stack.read_data()["Sites"]] == ["tms", "training"]

        s = stack.session("admin")
        menu = Page.from_response(s.get(stack.url)).find(id="ctl00_uxMenu")
        assert find(menu, "a", string="WebEx Settings")["href"] == "default.aspx?pageId=450"
        form = open_site(stack, s)
        assert form.property_text("Certificate Installed") == "No"
        result = save_with(s, form, pfx_files["legacy"])
        assert result.info == "Settings saved."
        rows = result.property_rows()
        assert rows["Certificate Installed"].get_text(strip=True) == "Yes"
        assert "Certificate Thumbprint" not in rows and "Certificate Subject" not in rows
        assert site(stack)["Certificate"]["Thumbprint"] == pfx_files["legacy"].thumbprint
    # staging/down waited for Apache to exit, and kept what the app stored
    assert process_gone(stack.pid)
    assert (stack.state_dir / "worker-data" / "webex.json").exists() or stack.data_file.exists()
