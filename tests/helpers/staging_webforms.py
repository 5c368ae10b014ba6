"""A minimal browser for WebForms pages, for the staging tests only: parse a page's form with
BeautifulSoup and post it back as a browser would (document order, skip disabled, only the chosen submit
button, radios and checkboxes only when checked, files only for multipart forms). Deliberately independent
of tmsclient."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import requests
from bs4 import BeautifulSoup, Tag

from tests.helpers.html import attr, find


@dataclass
class Page:
    url: str
    status: int
    text: str
    soup: BeautifulSoup = field(repr=False)

    @classmethod
    def from_response(cls, resp: requests.Response) -> Page:
        return cls(resp.url, resp.status_code, resp.text, BeautifulSoup(resp.text, "html.parser"))

    @property
    def form(self) -> Tag:
        form = self.soup.find("form")
        assert isinstance(form, Tag), f"no form on {self.url}"
        return form

    def find(self, name: str | None = None, **kwargs: Any) -> Tag:
        """The first element bs4's ``find`` gives for these arguments; the test fails when there is none."""
        return find(self.soup, name, **kwargs)

    def by_id(self, element_id: str) -> Tag | None:
        return self.soup.find(id=element_id)

    def text_of(self, element_id: str) -> str:
        el = self.by_id(element_id)
        return el.get_text(strip=True) if el is not None else ""

    @property
    def error(self) -> str:
        return self.text_of("ctl00_uxContent_uxFeedback_uxErrorLabel")

    @property
    def info(self) -> str:
        return self.text_of("ctl00_uxContent_uxFeedback_uxInfoLabel")

    def property_rows(self) -> dict[str, Tag]:
        """label -> its <td class="PropertyValue"> cell, for every PropertyName/PropertyValue row."""
        rows = {}
        for name_td in self.soup.select("td.PropertyName"):
            value_td = name_td.find_next_sibling("td", class_="PropertyValue")
            if value_td is not None:
                rows[name_td.get_text(strip=True)] = value_td
        return rows

    def property_text(self, label: str) -> str:
        cell = self.property_rows().get(label)
        assert cell is not None, f"no row {label!r} on {self.url}"
        return cell.get_text(strip=True)

    def control_name(self, label: str) -> str:
        """The form-field name of the control in the row with this label."""
        cell = self.property_rows()[label]
        ctl = cell.find(["input", "select", "textarea"])
        assert ctl is not None and attr(ctl, "name"), f"no control in row {label!r}"
        return attr(ctl, "name")


def form_fields(form: Tag, submitter: str | None = None) -> list[tuple[str, str]]:
    """The name/value pairs a browser submits for this form (files excluded)."""
    fields: list[tuple[str, str]] = []
    for el in form.find_all(["input", "select", "textarea", "button"]):
        name = attr(el, "name")
        if not name or el.has_attr("disabled"):
            continue
        if el.name == "input":
            kind = (attr(el, "type") or "text").lower()
            if kind in ("submit", "image", "button", "reset"):
                if kind == "submit" and name == submitter:
                    fields.append((name, attr(el, "value")))
                continue
            if kind == "file":
                continue
            if kind in ("radio", "checkbox"):
                if el.has_attr("checked"):
                    fields.append((name, attr(el, "value", "on")))
                continue
            fields.append((name, attr(el, "value")))
        elif el.name == "select":
            options = el.find_all("option")
            chosen = [o for o in options if o.has_attr("selected")] or options[:1]
            for o in chosen:
                fields.append((name, attr(o, "value", o.get_text())))
        elif el.name == "textarea":
            fields.append((name, el.get_text()))
        elif el.name == "button" and name == submitter:
            fields.append((name, attr(el, "value")))
    return fields


def postback(
    session: requests.Session,
    page: Page,
    *,
    submitter: str | None = None,
    event_target: str | None = None,
    values: dict[str, str] | None = None,
    files: dict[str, tuple[str, bytes]] | None = None,
    **kwargs,
) -> requests.Response:
    """Submit the page's form: click ``submitter`` (a submit button's name) or fire
    ``__doPostBack(event_target)``, with ``values`` replacing (or adding) fields and ``files`` for file
    inputs."""
    form = page.form
    fields = form_fields(form, submitter)
    values = dict(values or {})
    if event_target is not None:
        values.setdefault("__EVENTTARGET", event_target)
        values.setdefault("__EVENTARGUMENT", "")
    out: list[tuple[str, str]] = []
    for name, value in fields:
        if name in values:
            if name not in {n for n, _ in out}:
                out.append((name, values[name]))
            continue
        out.append((name, value))
    for name, value in values.items():
        if name not in {n for n, _ in out}:
            out.append((name, value))
    action = urljoin(page.url, attr(form, "action") or page.url)
    multipart = attr(form, "enctype").lower() == "multipart/form-data"
    if multipart:
        parts: list[tuple[str, tuple]] = [(n, (None, v)) for n, v in out]
        for el in form.find_all("input", attrs={"type": "file"}):
            name = attr(el, "name")
            if not name:
                continue
            fname, data = (files or {}).get(name, ("", b""))
            parts.append((name, (fname, data, "application/x-pkcs12" if fname else "application/octet-stream")))
        return session.post(action, files=parts, **kwargs)
    assert not files, "files given but the form is not multipart/form-data"
    return session.post(action, data=out, **kwargs)
