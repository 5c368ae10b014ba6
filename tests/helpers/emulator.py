"""Test helpers: a minimal WebForms browser (requests + requests-ntlm + BeautifulSoup) and .pfx builders.

Deliberately independent of tmsclient: these tests check the emulator, not the client, so the .pfx files here
are written with cryptography directly.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import requests
from bs4 import BeautifulSoup, Tag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import PrivateFormat, pkcs12
from requests.auth import HTTPBasicAuth
from requests_ntlm import HttpNtlmAuth

from tests.helpers.html import attr, find
from tmsemulator.certmaker import Chain, make_chain

UTC = dt.timezone.utc


def login_name(user: tuple[str, str, str], style: str = "backslash") -> str:
    domain, name, _ = user
    if style == "upn":
        return f"{name}@{domain}"
    if style == "bare":
        return name
    return f"{domain}\\{name}"


@dataclass(frozen=True)
class Target:
    """An emulator known only by its ready file (a subprocess)."""

    url: str
    ca_file: str | None


@dataclass
class Page:
    url: str
    status: int
    html: str
    soup: BeautifulSoup

    @property
    def error(self) -> str:
        label = self.soup.find(id="ctl00_uxContent_uxFeedback_uxErrorLabel")
        return label.get_text(strip=True) if label else ""

    @property
    def info(self) -> str:
        label = self.soup.find(id="ctl00_uxContent_uxFeedback_uxInfoLabel")
        return label.get_text(strip=True) if label else ""

    @property
    def form(self) -> Tag:
        form = self.soup.find("form", id="aspnetForm")
        assert isinstance(form, Tag), f"no server form on {self.url}"
        return form

    def find(self, name: str | None = None, **kwargs: Any) -> Tag:
        """The first element bs4's ``find`` gives for these arguments; the test fails when there is none."""
        return find(self.soup, name, **kwargs)

    def field_value(self, name: str) -> str | None:
        """What a browser would post for ``name`` (None: nothing)."""
        for key, value in successful_controls(self.form):
            if key == name:
                return value
        return None


def successful_controls(form: Tag, submit: str | None = None) -> list[tuple[str, str]]:
    """The form's name/value pairs in document order, as a browser builds them (HTML's form data set)."""
    pairs: list[tuple[str, str]] = []
    for el in form.find_all(["input", "select", "textarea"]):
        name = attr(el, "name")
        if not name or el.has_attr("disabled"):
            continue
        if el.name == "select":
            options = el.find_all("option")
            chosen = [o for o in options if o.has_attr("selected")] or options[:1]
            pairs.extend((name, attr(o, "value", o.get_text())) for o in chosen)
            continue
        if el.name == "textarea":
            pairs.append((name, el.get_text()))
            continue
        kind = (attr(el, "type") or "text").lower()
        if kind in ("radio", "checkbox"):
            if el.has_attr("checked"):
                pairs.append((name, attr(el, "value", "on")))
        elif kind in ("submit", "image", "button", "reset"):
            if kind == "submit" and name == submit:
                pairs.append((name, attr(el, "value")))
        elif kind == "file":
            continue  # files travel separately
        else:
            pairs.append((name, attr(el, "value")))
    return pairs


def file_inputs(form: Tag) -> list[str]:
    return [attr(el, "name") for el in form.find_all("input", attrs={"type": "file"}) if attr(el, "name")]


class Browser:
    """One requests.Session (one keep-alive connection per host) that fills and posts WebForms pages."""

    def __init__(
        self,
        emulator: Any,
        user: tuple[str, str, str] | None = None,
        *,
        style: str = "backslash",
        basic: bool = False,
        send_cbt: bool = True,
    ) -> None:
        self.emulator = emulator
        self.session = requests.Session()
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE must not override the emulator's CA
        if user is not None:
            login, password = login_name(user, style), user[2]
            self.session.auth = (
                HTTPBasicAuth(login, password) if basic else HttpNtlmAuth(login, password, send_cbt=send_cbt)
            )
        self.verify: str | bool = emulator.ca_file or True

    def get(self, path: str = "", **kwargs: Any) -> Page:
        url = urljoin(self.emulator.url, path)
        return self._page(self.session.get(url, verify=self.verify, **kwargs))

    def page(self, page_id: int, **params: Any) -> Page:
        query = "&".join([f"pageId={page_id}", *(f"{k}={v}" for k, v in params.items())])
        return self.get(f"default.aspx?{query}")

    def _page(self, response: requests.Response) -> Page:
        return Page(response.url, response.status_code, response.text, BeautifulSoup(response.text, "html.parser"))

    def submit(
        self,
        page: Page,
        *,
        button: str | None = None,
        event_target: str | None = None,
        fields: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes]] | None = None,
        **kwargs: Any,
    ) -> Page:
        """Post ``page``'s form: the chosen submit button or postback target, fields overridden by ``fields``."""
        form = page.form
        pairs = successful_controls(form, submit=button)
        overrides = dict(fields or {})
        if event_target is not None:
            overrides["__EVENTTARGET"] = event_target
        pairs = [(k, overrides.pop(k) if k in overrides else v) for k, v in pairs]
        pairs.extend(overrides.items())
        action = urljoin(page.url, attr(form, "action") or page.url)
        if attr(form, "enctype").lower() == "multipart/form-data":
            # Browsers send every file input, an empty part when no file was chosen.
            upload = {name: ("", b"", "application/octet-stream") for name in file_inputs(form)}
            for name, (filename, data) in (files or {}).items():
                upload[name] = (filename, data, "application/x-pkcs12")
            response = self.session.post(action, data=pairs, files=upload, verify=self.verify, **kwargs)
        else:
            assert not files, "the page's form is not multipart: it cannot carry a file"
            response = self.session.post(action, data=pairs, verify=self.verify, **kwargs)
        return self._page(response)

    def close(self) -> None:
        self.session.close()


def edit_target(page: Page, host_name: str) -> str:
    """The __doPostBack target of the Edit link in the grid row of ``host_name``."""
    for row in page.soup.find_all("tr"):
        cells = row.find_all("td")
        if cells and cells[0].get_text(strip=True) == host_name:
            link = row.find("a", href=lambda h: h and "__doPostBack" in h)
            assert link is not None, f"no Edit postback link in the row of {host_name}"
            return attr(link, "href").split("'")[1]
    raise AssertionError(f"no grid row for {host_name}")


def edit_href(page: Page, host_name: str) -> str:
    for row in page.soup.find_all("tr"):
        cells = row.find_all("td")
        if cells and cells[0].get_text(strip=True) == host_name:
            link = row.find("a", href=lambda h: h and "siteId=" in h)
            assert link is not None, f"no Edit hyperlink in the row of {host_name}"
            return attr(link, "href")
    raise AssertionError(f"no grid row for {host_name}")


def control_for_label(soup: BeautifulSoup | Tag, label: str) -> Tag:
    """The control a label names: through ``<label for>``, else the control in the next cell."""
    for el in soup.find_all("label"):
        if el.get_text(strip=True) == label and el.get("for"):
            target = soup.find(id=el["for"])
            assert isinstance(target, Tag), f"label {label!r} points at a missing id {el['for']}"
            return target
    for cell in soup.find_all(["td", "th"]):
        if cell.get_text(strip=True) == label and not cell.find(["input", "select"]):
            following = cell.find_next_sibling(["td", "th"])
            if following is not None:
                control = following.find(["select", "input", "span", "table"])
                if isinstance(control, Tag):
                    return control
    raise AssertionError(f"no control labelled {label!r}")


def value_for_label(soup: BeautifulSoup | Tag, label: str) -> str:
    """A read-only value shown next to a label (a cell after the label's cell, or the next span)."""
    for el in soup.find_all(["td", "span"]):
        if el.get_text(strip=True) == label:
            nxt = el.find_next_sibling(["td", "span"])
            if nxt is not None:
                return nxt.get_text(strip=True)
    raise AssertionError(f"no value labelled {label!r}")


# ----- .pfx files -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PfxCase:
    data: bytes
    password: str
    chain: Chain | None

    @property
    def thumbprint(self) -> str:
        assert self.chain is not None
        return self.chain.leaf.cert.fingerprint(hashes.SHA1()).hex().upper()


class PfxEncryption(enum.Enum):
    """COMPATIBLE: 3DES with a SHA-1 MAC (imports everywhere); MODERN: AES-256 with a SHA-256 MAC (2019 and later)."""

    COMPATIBLE = "compatible"
    MODERN = "modern"


def good_pfx(chain: Chain, password: str, *, encryption: PfxEncryption = PfxEncryption.COMPATIBLE) -> PfxCase:
    """The leaf, its key and the issuing CA, 2,048 iterations like Windows' own exports."""
    mac: hashes.HashAlgorithm
    if encryption is PfxEncryption.COMPATIBLE:
        algorithm, mac = pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC, hashes.SHA1()
    else:
        algorithm, mac = pkcs12.PBES.PBESv2SHA256AndAES256CBC, hashes.SHA256()
    protection = PrivateFormat.PKCS12.encryption_builder().kdf_rounds(2048).key_cert_algorithm(algorithm).hmac_hash(mac)
    data = pkcs12.serialize_key_and_certificates(
        None,
        chain.leaf.key,
        chain.leaf.cert,
        [pkcs12.PKCS12Certificate(chain.intermediate.cert, None)],
        protection.build(password.encode()),
    )
    return PfxCase(data, password, chain)


def legacy_encryption(password: str, mac: hashes.HashAlgorithm) -> Any:
    return (
        PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(mac)
        .build(password.encode())
    )


def pfx_3des_sha256_mac(chain: Chain, password: str) -> PfxCase:
    data = pkcs12.serialize_key_and_certificates(
        b"tms", chain.leaf.key, chain.leaf.cert, None, legacy_encryption(password, hashes.SHA256())
    )
    return PfxCase(data, password, chain)


def pfx_without_key(chain: Chain, password: str) -> PfxCase:
    data = pkcs12.serialize_key_and_certificates(
        b"tms", None, chain.leaf.cert, None, legacy_encryption(password, hashes.SHA1())
    )
    return PfxCase(data, password, chain)


def pfx_with_foreign_key(chain: Chain, other_key: Any, password: str) -> PfxCase:
    """A key and a certificate that do not belong together (cryptography refuses to pair them directly)."""
    data = pkcs12.serialize_key_and_certificates(
        b"tms",
        other_key,
        None,
        [pkcs12.PKCS12Certificate(chain.leaf.cert, None)],
        legacy_encryption(password, hashes.SHA1()),
    )
    return PfxCase(data, password, chain)


def pfx_key_only(chain: Chain, password: str) -> PfxCase:
    data = pkcs12.serialize_key_and_certificates(
        b"tms", chain.leaf.key, None, None, legacy_encryption(password, hashes.SHA1())
    )
    return PfxCase(data, password, chain)


def chain_valid_between(not_before: dt.datetime, not_after: dt.datetime) -> Chain:
    return make_chain("tms.acme.example", not_before=not_before, not_after=not_after, key_kind="ec", key_size=256)
