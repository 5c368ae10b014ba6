"""Bounded parsing: large forms in linear time, matched by name and label; too many or too deep elements refused."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tmsclient.errors import PageNotUnderstoodError
from tmsclient.tms.pageprofile.matching import locate_field
from tmsclient.tms.pageprofile.model import FieldLocator
from tmsclient.tms.webforms import parsing
from tmsclient.tms.webforms.parsing import MAX_DEPTH, MAX_ELEMENTS, bounded_markup, parse_page

URL = "https://tms.example.com/tms/default.aspx?pageId=83"
GENEROUS_S = 10.0
GENEROUS_BYTES = 200 * 2**20


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


def _peak_while_refused(html: str, match: str) -> int:
    """The peak of traced memory while parse_page refuses ``html`` with an error matching ``match``."""
    tracemalloc.start()
    try:
        with pytest.raises(PageNotUnderstoodError, match=match):
            parse_page(html, URL)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_hundred_thousand_inputs_are_refused_quickly_naming_the_limit():
    html = _form(100_000)  # three elements per input: past MAX_ELEMENTS
    started = time.monotonic()
    peak = _peak_while_refused(html, f"more than {MAX_ELEMENTS:,} elements")
    assert time.monotonic() - started < GENEROUS_S
    # Refused before bs4 builds a tree: the page's own copy (a few tens of MB of text) at most.
    assert peak < GENEROUS_BYTES, f"memory grew by {peak / 2**20:.0f} MiB"


def test_a_million_nested_elements_are_refused_at_the_depth_limit():
    html = "<div>" * 1_000_000 + "x" + "</div>" * 1_000_000
    started = time.monotonic()
    peak = _peak_while_refused(html, f"nested more than {MAX_DEPTH} deep")
    assert time.monotonic() - started < 2.0
    assert peak < GENEROUS_BYTES, f"memory grew by {peak / 2**20:.0f} MiB"  # it took 1.4 GB before the bound


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


def test_nesting_is_counted_as_bs4_builds_the_tree():
    # Closed and void elements do not nest; an end tag closes what it closes in bs4's tree, a stray one nothing.
    flat = "<form method=post>" + "<div></div><br><input name=a value=1>" * 2_000 + "</form>"
    assert parse_page(flat, URL).forms[0].current_value("a") == "1"
    closed_by_outer = "<div><b><i>" * 80 + "</div>" * 80 + "<form method=post><input name=b></form>"
    with pytest.raises(PageNotUnderstoodError, match=f"nested more than {MAX_DEPTH} deep"):
        parse_page("<option>" * (MAX_DEPTH + 1), URL)  # html.parser nests unclosed options
    assert parse_page(closed_by_outer * 3, URL).forms[0].has("b")
    stray = "</p></span>" * 1_000 + "<div>" * (MAX_DEPTH - 1) + "<form method=post><input name=c></form>"
    assert parse_page(stray, URL).forms[0].has("c")


TRICKY = [
    "<form method=post><input name=a value=\"<br>\"><input name=b value=x/><input name=c value='a>b'></form>",
    '<INPUT NAME=X VALUE=1><Br>\r\n<img src=a >  <hr\n class=x\n><input\n name="multi"\n value="line"\n>',
    '<script>document.write("<br><input name=fake>")</script><form><input name=real></form>',
    "<!-- <input name=commented> --><textarea name=t><input name=inside>x</textarea>",
    '<a title="x>y" href="#"><input title=\'a>b\'></a></input></input><br/><input/><input x=1/ >',
    "é€😀<input name=u>\n€<br>\n\n<meta charset=utf-8><link rel=x><![CDATA[<input>]]><?x <input> ?>",
    "<select name=s><option>a<option selected>b<input name=after></select><input name=end",
]


@pytest.mark.parametrize("html", TRICKY)
def test_void_elements_written_self_closing_leave_the_tree_as_bs4_builds_it(html):
    # The census rewrites `<input ...>` as `<input ... />` at the tokenizer's own positions; bs4's own parse of
    # the page as it is gives the same tree (attribute values, scripts, comments untouched).
    def tree(markup: str) -> str:
        return str(BeautifulSoup(markup, "html.parser", on_duplicate_attribute="ignore", multi_valued_attributes=None))

    rewritten = bounded_markup(html)
    assert rewritten != html or "<input" not in html.lower()
    assert tree(rewritten) == tree(html)


def test_the_page_parser_uses_no_private_bs4_api():
    source = Path(parsing.__file__).read_text(encoding="utf-8")
    assert "bs4.builder._" not in source and "_parser_class" not in source and "tagStack" not in source


def test_many_voids_before_many_end_tags_stay_linear():
    # bs4 scans its list of voids written without "/>" at every end tag: 49,000 of each would take it minutes.
    html = "<form method=post>" + "<br>" * 49_000 + "</p>" * 49_000 + "<input name=z value=1></form>"
    assert "<br>" not in bounded_markup(html) and bounded_markup(html).count("<br />") == 49_000
    started = time.monotonic()
    form = parse_page(html, URL).forms[0]
    elapsed = time.monotonic() - started
    assert form.current_value("z") == "1"
    assert elapsed < GENEROUS_S, f"49,000 voids and end tags took {elapsed:.1f} s"
