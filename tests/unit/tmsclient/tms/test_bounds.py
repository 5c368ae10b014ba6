"""Bounded parsing: large forms in linear time, matched by name and label; too many or too deep elements refused."""

from __future__ import annotations

import time

import pytest

from tmsclient.errors import PageNotUnderstoodError
from tmsclient.tms.pageprofile.matching import locate_field
from tmsclient.tms.pageprofile.model import FieldLocator
from tmsclient.tms.webforms.parsing import MAX_DEPTH, MAX_ELEMENTS, parse_page

URL = "https://tms.example.com/tms/default.aspx?pageId=83"
GENEROUS_S = 10.0


def _form(n: int) -> str:
    body = "".join(
        f'<label for="f{i}">Field {i}</label><input type="text" name="f{i}" id="f{i}" value="v{i}"><br>'
        for i in range(n)
    )
    return f'<html><body><form method="post" action="x">{body}<input type="submit" name="save" value="Save"></form>'


def test_twenty_thousand_inputs_are_parsed_and_matched_in_linear_time():
    started = time.monotonic()
    page = parse_page(_form(20_000), URL)
    form = page.forms[0]
    values = {f.name: form.current_value(f.name) for f in form.fields}
    by_label = locate_field(form, "last", FieldLocator(labels=("Field 19999",)))
    by_name = locate_field(form, "first", FieldLocator(name="f0"))
    elapsed = time.monotonic() - started
    assert len(values) == 20_000 and values["f12345"] == "v12345"
    assert by_label is not None and by_label.field.name == "f19999"
    assert by_name is not None and by_name.field.name == "f0"
    assert all(form.has(f"f{i}") for i in range(0, 20_000, 7))
    assert elapsed < GENEROUS_S, f"20,000 inputs took {elapsed:.1f} s"


def test_a_hundred_thousand_inputs_are_refused_quickly_naming_the_limit():
    html = _form(100_000)  # three elements per input: past MAX_ELEMENTS
    started = time.monotonic()
    with pytest.raises(PageNotUnderstoodError, match=f"more than {MAX_ELEMENTS:,} elements"):
        parse_page(html, URL)
    assert time.monotonic() - started < GENEROUS_S


def test_a_million_nested_elements_are_refused_at_the_depth_limit():
    html = "<div>" * 1_000_000 + "x" + "</div>" * 1_000_000
    started = time.monotonic()
    with pytest.raises(PageNotUnderstoodError, match=f"nested more than {MAX_DEPTH} deep"):
        parse_page(html, URL)
    assert time.monotonic() - started < 2.0


def test_nesting_up_to_the_limit_is_read():
    depth = MAX_DEPTH - 10
    html = "<div>" * depth + "<form method=post><input name=a value=1></form>" + "</div>" * depth
    form = parse_page(html, URL).forms[0]
    assert form.current_value("a") == "1"
    assert len(form.controls[0].ancestors) == depth + 1  # the divs and the form (html.parser adds no html)


def test_many_inputs_deep_in_a_page_stay_linear():
    depth = MAX_DEPTH - 6
    inputs = "".join(f"<p><input name=f{i}></p>" for i in range(20_000))
    html = "<form method=post>" + "<div>" * depth + inputs + "</div>" * depth + "</form>"
    started = time.monotonic()
    form = parse_page(html, URL).forms[0]
    elapsed = time.monotonic() - started
    assert len(form.fields) == 20_000
    assert form.controls[-1].ancestors[: depth + 1] == form.controls[0].ancestors[: depth + 1]
    assert elapsed < GENEROUS_S, f"20,000 deep inputs took {elapsed:.1f} s"
