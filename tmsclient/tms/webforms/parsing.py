"""Parsing an ASP.NET WebForms page with BeautifulSoup into the read-only page model."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.builder import HTMLTreeBuilder
from bs4.element import PreformattedString

from tmsclient.errors import PageNotUnderstoodError
from tmsclient.tms.webforms.model import (
    BUTTON_TYPES,
    CHECKABLE,
    SUBMIT_TYPES,
    AspNetError,
    Cell,
    Control,
    Field,
    Form,
    Heading,
    Link,
    Option,
    Page,
    PostBack,
    Property,
    Row,
    Table,
    TextElement,
    form_enctype,
)

#: Pages larger than this are refused rather than parsed; a TMS page is tens of kilobytes.
MAX_PAGE_CHARS = 16 * 1024 * 1024
#: Pages with more elements, or elements nested deeper, are refused while parsing; a TMS page has a few
#: thousand elements, nested a few dozen deep.
MAX_ELEMENTS = 100_000
MAX_DEPTH = 256
#: How far back in the document a caption is searched for, in nodes.
_CAPTION_LOOKBACK = 400
#: Longest text kept for an element with an id or class (error labels, info labels, validation summaries).
_MAX_ELEMENT_TEXT = 4000
#: Input types whose value sanitization strips line breaks (HTML spec, "value sanitization algorithm").
_STRIP_NEWLINES = frozenset({"text", "search", "tel", "password", "url", "email"})
_KNOWN_INPUT_TYPES = frozenset(
    {
        "hidden",
        "text",
        "search",
        "tel",
        "url",
        "email",
        "password",
        "date",
        "month",
        "week",
        "time",
        "datetime-local",
        "number",
        "range",
        "color",
        "checkbox",
        "radio",
        "file",
        "submit",
        "image",
        "reset",
        "button",
    }
)
_CONTROL_TAGS = frozenset({"input", "select", "textarea", "button"})
#: Elements that hold one entry of a list, grid or repeater (for the text around a link or button).
_ITEM_TAGS = frozenset({"li", "tr", "dd", "p", "div", "article", "section"})
_LABELABLE = frozenset({"input", "select", "textarea", "button", "meter", "output", "progress"})
#: Elements whose text is not part of what a person reads as the page's text.
_NON_TEXT = frozenset({"script", "style", "template", "noscript", "title", "head"})
#: Elements whose text belongs to a control, not to the caption or label around it.
_CONTROL_TEXT = frozenset({"select", "option", "optgroup", "textarea", "button", "datalist"})
_BLOCKS = frozenset(
    {
        "td",
        "th",
        "div",
        "p",
        "li",
        "dt",
        "dd",
        "label",
        "legend",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "form",
        "fieldset",
        "section",
        "article",
        "body",
        "ul",
        "ol",
        "dl",
        "center",
        "caption",
        "header",
        "footer",
        "main",
        "nav",
        "aside",
        "blockquote",
        "pre",
    }
)
#: Elements that are not a "label, value" row of their own (tables are read by rows; lists by their items).
_PAIR_SKIP = frozenset(
    {
        "html",
        "head",
        "body",
        "form",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "td",
        "th",
        "ul",
        "ol",
        "dl",
        "select",
        "option",
        "optgroup",
        "script",
        "style",
        "title",
        "br",
        "hr",
        "img",
        "input",
        "textarea",
        "button",
        "colgroup",
        "col",
    }
)
#: Blocks that hold many things: their whole text is never one field's caption.
_CONTAINERS = frozenset(
    {
        "form",
        "body",
        "table",
        "fieldset",
        "section",
        "article",
        "ul",
        "ol",
        "dl",
        "main",
        "nav",
        "aside",
        "header",
        "footer",
        "center",
        "blockquote",
        "tr",
    }
)
#: A caption longer than this is a paragraph, not a label: only the nearest string is used then.
_MAX_CAPTION = 200
_WS = re.compile(r"[\s\u00a0\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff\u200e\u200f]+")
_POSTBACK = re.compile(r"""__doPostBack\(\s*(['"])(?P<target>.*?)\1\s*,\s*(['"])(?P<arg>.*?)\3\s*\)""", re.S)
_POSTBACK_OPTIONS = re.compile(
    r"""WebForm_PostBackOptions\(\s*(['"])(?P<target>.*?)\1\s*,\s*(['"])(?P<arg>.*?)\3""", re.S
)
_STYLE_HIDDEN = re.compile(
    r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\s*(?:!important)?\s*(?:;|$)", re.I
)


def clean_text(text: str) -> str:
    """Whitespace (including no-break and zero-width spaces) collapsed to single spaces, ends stripped."""
    return _WS.sub(" ", text).strip()


def parse_page(
    html: str | bytes,
    url: str,
    *,
    status: int | None = None,
    encoding: str | None = None,
) -> Page:
    """Parse a page: any input gives a :class:`Page` or a :class:`PageNotUnderstoodError`, nothing else.

    The HTML is read with BeautifulSoup's ``html.parser`` builder (no compiled dependency). Where that parser
    differs from a browser's (unclosed ``<option>``/``<td>`` nest instead of closing; ``<textarea>`` content is
    parsed as markup), the model reads each element's *own* text so the result matches what a browser shows.
    """
    try:
        if isinstance(html, (bytes, bytearray)):
            html = bytes(html).decode(encoding or "utf-8", errors="replace")
        if not isinstance(html, str):
            raise PageNotUnderstoodError(f"the page at {_short(url)} is not text")
        if len(html) > MAX_PAGE_CHARS:
            raise PageNotUnderstoodError(
                f"the page at {_short(url)} is too large: got {len(html)} characters, expected at most {MAX_PAGE_CHARS}"
            )
        return _Parser(html, url, status).page()
    except PageNotUnderstoodError:
        raise
    except (Exception, RecursionError) as exc:  # the contract: nothing but our error escapes a parse
        raise PageNotUnderstoodError(
            f"the page at {_short(url)} could not be parsed ({type(exc).__name__})",
            hint="rerun with -vv and report the page if it is a TMS page",
        ) from exc


def _short(url: str) -> str:
    return url if len(url) < 200 else url[:200] + "..."


class _PageTooLarge(Exception):
    """Raised by the census when a page passes MAX_ELEMENTS or MAX_DEPTH."""


#: Whether bs4's HTML builders treat an element as void (closed by its start tag).
_VOID = HTMLTreeBuilder().can_be_empty_element


class _Census(HTMLParser):
    """A first pass with the tokenizer bs4's ``html.parser`` builder feeds (the standard library's, as bs4
    configures it): counts the elements, follows their nesting as bs4 builds it (a void element closes at
    once, an end tag closes up to the nearest open element of its name, a stray one nothing), and notes each
    void element written without ``/>``. Stops at the first element past a limit, before bs4 builds anything.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)  # as bs4's builder configures it
        self._void = _VOID
        self.elements = 0
        self._open: list[str] = []
        self._open_count: dict[str, int] = {}
        #: (line, column, text) of each void start tag without "/>", as the tokenizer reports them.
        self.open_voids: list[tuple[int, int, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._count()
        if self._void(tag):
            line, column = self.getpos()
            self.open_voids.append((line, column, self.get_starttag_text() or ""))
            return
        if len(self._open) >= MAX_DEPTH:
            raise _PageTooLarge(f"elements nested more than {MAX_DEPTH} deep (a TMS page nests a few dozen)")
        self._open.append(tag)
        self._open_count[tag] = self._open_count.get(tag, 0) + 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._count()

    def handle_endtag(self, tag: str) -> None:
        if not self._open_count.get(tag):
            return
        while self._open:
            name = self._open.pop()
            self._open_count[name] -= 1
            if name == tag:
                return

    def _count(self) -> None:
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise _PageTooLarge(f"more than {MAX_ELEMENTS:,} elements (a TMS page has a few thousand)")


def bounded_markup(html: str) -> str:
    """``html`` checked against MAX_ELEMENTS and MAX_DEPTH (:class:`_PageTooLarge`), with every void start
    tag written as ``<tag ... />``.

    bs4 keeps each void element written without ``/>`` in a list it scans at every end tag (for a stray
    ``</input>`` to skip), which makes a page of many inputs cost quadratic time; written self-closing they
    never enter it, and the tree is the same (a stray end tag of a void then closes nothing, as before, and
    only splits the text around it). The edits are placed from the tokenizer's own positions, so nothing
    inside an attribute value, a comment or a script is touched.
    """
    census = _Census()
    census.feed(html)
    census.close()
    if not census.open_voids:
        return html
    line_starts = [0, *(m.end() for m in re.finditer("\n", html))]  # the tokenizer counts lines by "\n"
    out: list[str] = []
    done = 0
    for line, column, text in census.open_voids:
        start = line_starts[line - 1] + column
        end = start + len(text)
        if not text.endswith(">") or html[start:end] != text:
            return html  # not where the tokenizer said: parse the page as it is
        out += (html[done : end - 1], " />")
        done = end
    out.append(html[done:])
    return "".join(out)


class _Parser:
    """One parse: elements numbered in tree order, then a few linear passes derive everything.

    Per-element facts (hidden, in a disabled fieldset, form owner, enclosing cell/row/table/fieldset) are
    inherited top-down in one pass, so that deep or hostile documents cost linear time, not quadratic."""

    def __init__(self, html: str, url: str, status: int | None) -> None:
        self.url = url
        self.status = status
        try:
            self.soup = BeautifulSoup(
                bounded_markup(html), "html.parser", on_duplicate_attribute="ignore", multi_valued_attributes=None
            )
        except _PageTooLarge as exc:
            raise PageNotUnderstoodError(
                f"the page at {_short(url)} is too large to read: {exc}",
                hint="check --url and --page-url: this is not a TMS page tmsclient can read",
            ) from exc
        self.elements: list[Any] = list(self.soup.find_all(True))
        self.serial: dict[int, int] = {id(e): i for i, e in enumerate(self.elements)}
        self.base = self._base_url()
        self.first_by_id: dict[str, Any] = {}
        for e in self.elements:
            eid = _attr(e, "id")
            if eid and eid not in self.first_by_id:
                self.first_by_id[eid] = e
        self._inherit()
        self._texts: dict[tuple[int, bool, int, int], str] = {}  # _text's answers: the tree never changes

    def _inherit(self) -> None:
        self.hidden: dict[int, bool] = {}
        self.ctrl_text: dict[int, bool] = {}  # inside a select, option, textarea, button or datalist
        self.fs_disabled: dict[int, bool] = {}
        self.in_datalist: dict[int, bool] = {}
        self.form_of: dict[int, Any] = {}
        self.fieldset_of: dict[int, Any] = {}
        self.cell_of: dict[int, Any] = {}  # nearest td/th, the element itself included
        self.row_of: dict[int, Any] = {}  # nearest tr, itself included
        self.table_of: dict[int, Any] = {}  # nearest table, itself included
        self.li_of: dict[int, Any] = {}  # nearest li, itself included
        self.has_control: set[int] = set()  # elements holding a visible-kind control (not type=hidden)
        hidden, ctrl_text, fs_disabled, in_datalist = self.hidden, self.ctrl_text, self.fs_disabled, self.in_datalist
        form_of, fieldset_of, cell_of, row_of = self.form_of, self.fieldset_of, self.cell_of, self.row_of
        table_of, li_of, has_control, serial = self.table_of, self.li_of, self.has_control, self.serial
        search_hidden = _STYLE_HIDDEN.search
        for e in self.elements:
            p = e.parent
            pid = id(p)
            eid = id(e)
            name = e.name
            attrs = e.attrs
            if pid in serial:  # the parent is an element, not the document
                style = _attr(e, "style") or ""
                hidden[eid] = bool(hidden[pid] or "hidden" in attrs or search_hidden(style) or name in _NON_TEXT)
                ctrl_text[eid] = ctrl_text[pid] or name in _CONTROL_TEXT
                fsd = fs_disabled[pid]
                if p.name == "fieldset" and "disabled" in p.attrs:
                    legend = next((c for c in p.find_all(True, recursive=False) if c.name == "legend"), None)
                    if e is not legend:
                        fsd = True
                fs_disabled[eid] = fsd
                in_datalist[eid] = in_datalist[pid] or p.name == "datalist"
                owner = form_of[pid]
                fieldset_of[eid] = p if p.name == "fieldset" else fieldset_of[pid]
                cell_of[eid] = e if name in ("td", "th") else cell_of[pid]
                row_of[eid] = e if name == "tr" else row_of[pid]
                table_of[eid] = e if name == "table" else table_of[pid]
                li_of[eid] = e if name == "li" else li_of[pid]
            else:
                style = _attr(e, "style") or ""
                hidden[eid] = bool("hidden" in attrs or search_hidden(style) or name in _NON_TEXT)
                ctrl_text[eid] = name in _CONTROL_TEXT
                fs_disabled[eid] = False
                in_datalist[eid] = False
                owner = None
                fieldset_of[eid] = None
                cell_of[eid] = e if name in ("td", "th") else None
                row_of[eid] = e if name == "tr" else None
                table_of[eid] = e if name == "table" else None
                li_of[eid] = e if name == "li" else None
            if name == "form" and owner is None:
                owner = e  # a form inside a form is ignored, as an HTML parser ignores the nested tag
            form_of[eid] = owner
            if name in _CONTROL_TAGS and not _is_hidden_input(e):
                for a in e.parents:
                    if id(a) in has_control:
                        break
                    has_control.add(id(a))
        # The last serial inside each element: "a holds e" is then two comparisons, not a walk up.
        self.end: dict[int, int] = {id(e): i for i, e in enumerate(self.elements)}
        end = self.end
        for e in reversed(self.elements):
            pid = id(e.parent)
            if pid in end and end[id(e)] > end[pid]:
                end[pid] = end[id(e)]
        self._chains: dict[int, tuple[int, ...]] = {}

    def _holds(self, a: Any, e: Any) -> bool:
        """Whether element ``a`` is an ancestor of element ``e``."""
        sa, se = self.serial.get(id(a)), self.serial.get(id(e))
        return sa is not None and se is not None and sa < se <= self.end[id(a)]

    def _ancestors(self, e: Any) -> tuple[int, ...]:
        """Serials of the elements around ``e``, outermost first; built on the parent's, so each is made once."""
        pending = []
        p = e.parent
        while id(p) in self.serial and id(p) not in self._chains:
            pending.append(p)
            p = p.parent
        chain = self._chains.get(id(p), ())
        for a in reversed(pending):
            chain = self._chains[id(a)] = (*chain, self.serial[id(a)])
        return self._chains.get(id(e.parent), ())

    def _up(self, mapping: dict[int, Any], e: Any) -> Any:
        """The nearest mapped ancestor strictly above ``e``."""
        p = e.parent
        return mapping.get(id(p)) if p is not None else None

    def _base_url(self) -> str:
        base = next((e for e in self.elements if e.name == "base" and e.attrs.get("href") is not None), None)
        href = _attr(base, "href") if base is not None else None
        if href and href.strip():
            try:
                return urljoin(self.url, href.strip())
            except ValueError:
                return self.url
        return self.url

    def _first(self, name: str) -> Any:
        """``soup.find(name)``, from the element list."""
        return next((e for e in self.elements if e.name == name), None)

    def _resolve(self, href: str | None) -> str | None:
        if href is None:
            return None
        href = href.strip()
        if not href or href == "#" or href.lower().startswith(("javascript:", "mailto:", "data:")):
            return None
        try:
            resolved = urljoin(self.base, href)
            urlsplit(resolved)
        except ValueError:
            return None
        return resolved

    # ---- the page
    def page(self) -> Page:
        forms = self._forms()
        links = self._links()
        title_el = self._first("title")
        title = clean_text(title_el.get_text())[:_MAX_ELEMENT_TEXT] if title_el is not None else ""
        headings = tuple(
            Heading(int(e.name[1]), self._text(e), self.serial[id(e)])
            for e in self.elements
            if e.name in ("h1", "h2", "h3", "h4", "h5", "h6")
        )
        return Page(
            url=self.url,
            status=self.status,
            title=title,
            headings=headings,
            forms=forms,
            links=links,
            tables=self._tables(forms, links),
            properties=self._properties(),
            elements=self._text_elements(),
            text=self._text(self._first("body") or self.soup, limit=200_000),
            aspnet_error=self._aspnet_error(title, headings),
        )

    # ---- text
    def _visible(self, node: Any, *, control_text: bool) -> bool:
        """A string a person sees (not a comment, script, hidden element, or, unless asked, a control's)."""
        if isinstance(node, PreformattedString):
            return False
        parent = node.parent
        if parent is None or self.hidden.get(id(parent), False):
            return False
        return control_text or not self.ctrl_text.get(id(parent), False)

    def _text(self, root: Any, *, control_text: bool = True, cell: Any = None, limit: int = _MAX_ELEMENT_TEXT) -> str:
        """Visible text under ``root``; with ``cell``, only strings whose nearest cell is that cell (so a
        cell's text leaves out nested cells, which html.parser makes of unclosed ``<td>``s)."""
        key = (id(root), control_text, id(cell), limit)
        text = self._texts.get(key)
        if text is not None:
            return text
        parts: list[str] = []
        size = 0
        hidden, ctrl_text, cell_of = self.hidden, self.ctrl_text, self.cell_of
        for node in root.descendants:
            # What _visible says, inline: this loop runs for every string of the page, many times.
            if not isinstance(node, NavigableString) or isinstance(node, PreformattedString):
                continue
            parent = node.parent
            if (
                parent is None
                or hidden.get(id(parent), False)
                or (not control_text and ctrl_text.get(id(parent), False))
            ):
                continue
            if cell is not None and cell_of.get(id(parent)) is not cell:
                continue
            parts.append(str(node))
            size += len(node)
            if size > limit * 2:
                break
        text = self._texts[key] = clean_text(" ".join(parts))[:limit]
        return text

    def _cell_text(self, cell: Any) -> str:
        return self._text(cell, control_text=False, cell=cell)

    # ---- forms and controls
    def _forms(self) -> tuple[Form, ...]:
        form_elements = [e for e in self.elements if e.name == "form" and self.form_of.get(id(e)) is e]
        by_form: dict[int, list[Any]] = {id(f): [] for f in form_elements}
        for e in self.elements:
            if e.name not in _CONTROL_TAGS or self.in_datalist.get(id(e)):
                continue
            owner_attr = _attr(e, "form")
            if owner_attr is not None:
                target = self.first_by_id.get(owner_attr)
                owner = target if target is not None and id(target) in by_form else None
            else:
                owner = self.form_of.get(id(e))
            if owner is not None:
                by_form[id(owner)].append(e)
        labels = self._labels()
        forms = []
        for fi, f in enumerate(form_elements):
            first_of_name: dict[str, Any] = {}
            for e in by_form[id(f)]:
                first_of_name.setdefault(_attr(e, "name") or "", e)
            controls = _last_radio_wins(
                tuple(
                    self._control(i, e, labels, first_of_name.get(_attr(e, "name") or "", e))
                    for i, e in enumerate(by_form[id(f)])
                )
            )
            method = (_attr(f, "method") or "get").strip().lower()
            action_attr = _attr(f, "action")
            action = (
                self.url if not action_attr or not action_attr.strip() else (self._resolve(action_attr) or self.url)
            )
            forms.append(
                Form(
                    index=fi,
                    id=_attr(f, "id"),
                    name=_attr(f, "name"),
                    action=action,
                    method="post" if method == "post" else "get",
                    enctype=form_enctype(_attr(f, "enctype")),
                    controls=controls,
                    fields=_group_fields(controls),
                    serial=self.serial[id(f)],
                )
            )
        return tuple(forms)

    def _labels(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for lab in self.elements:
            if lab.name != "label":
                continue
            target = None
            for_id = _attr(lab, "for")
            if for_id is not None:
                cand = self.first_by_id.get(for_id)
                if cand is not None and cand.name in _LABELABLE and not _is_hidden_input(cand):
                    target = cand
            else:
                target = next((d for d in lab.find_all(list(_LABELABLE)) if not _is_hidden_input(d)), None)
            if target is None:
                continue
            text = self._text(lab, control_text=False)
            if text:
                out.setdefault(id(target), []).append(text)
        return out

    def _control(self, index: int, e: Any, labels: dict[int, list[str]], anchor: Any) -> Control:
        tag = e.name
        options: tuple[Option, ...] = ()
        value = ""
        text = ""
        if tag == "input":
            raw_type = (_attr(e, "type") or "text").strip().lower()
            ctype = raw_type if raw_type in _KNOWN_INPUT_TYPES else "text"
            value = _attr(e, "value") or ""
            if ctype in CHECKABLE and not e.has_attr("value"):
                value = "on"
            if ctype in _STRIP_NEWLINES:
                value = value.replace("\r", "").replace("\n", "")
            if ctype == "file":
                value = ""
            if ctype == "image":
                text = _attr(e, "alt") or ""
        elif tag == "select":
            multiple = e.has_attr("multiple")
            ctype = "select-multiple" if multiple else "select-one"
            options = self._options(e, multiple, _display_size(e, multiple))
        elif tag == "textarea":
            ctype = "textarea"
            raw = "".join(str(s) for s in e.strings)
            # An HTML parser drops one newline right after <textarea>; html.parser keeps it.
            value = raw[2:] if raw.startswith("\r\n") else raw[1:] if raw.startswith("\n") else raw
        else:
            btype = (_attr(e, "type") or "submit").strip().lower()
            ctype = "button-" + (btype if btype in ("submit", "reset", "button") else "submit")
            value = _attr(e, "value") or ""
            text = self._text(e)
        name = _attr(e, "name") or ""
        fieldset = self.fieldset_of.get(id(e))
        return Control(
            index=index,
            tag=tag,
            type=ctype,
            name=name,
            id=_attr(e, "id"),
            value=value,
            checked=ctype in CHECKABLE and e.has_attr("checked"),
            disabled=e.has_attr("disabled") or self.fs_disabled.get(id(e), False),
            readonly=e.has_attr("readonly") and tag in ("input", "textarea"),
            hidden=ctype == "hidden" or self.hidden.get(id(e), False),
            options=options,
            labels=tuple(dict.fromkeys(labels.get(id(e), []))),
            caption=None if ctype == "hidden" else self._caption(e if ctype not in CHECKABLE else anchor),
            legend=self._legend(fieldset, name) if fieldset is not None else None,
            aria_label=clean_text(_attr(e, "aria-label") or "") or None,
            title=clean_text(_attr(e, "title") or "") or None,
            text=clean_text(text),
            dirname=(_attr(e, "dirname") or None) if tag in ("input", "textarea") else None,
            formaction=_attr(e, "formaction"),
            formmethod=_attr(e, "formmethod"),
            formenctype=_attr(e, "formenctype"),
            ancestors=self._ancestors(e),
            serial=self.serial[id(e)],
            postback=_parse_postback(_attr(e, "onclick") or ""),
            context=self._item_text(e) if ctype in SUBMIT_TYPES or ctype == "button-submit" else "",
        )

    def _item_text(self, e: Any) -> str:
        """The text of the item an element sits in: its nearest list item, row, paragraph or div."""
        box = next((a for a in e.parents if getattr(a, "name", None) in _ITEM_TAGS), None)
        return self._text(box, control_text=False, limit=_MAX_CAPTION * 2) if box is not None else ""

    def _options(self, select: Any, multiple: bool, size: int) -> tuple[Option, ...]:
        raw: list[tuple[str, str, bool, bool]] = []
        for o in select.find_all("option"):
            if self.in_datalist.get(id(o)):
                continue
            # html.parser nests unclosed options: an option's own text stops at the next option.
            own = clean_text(
                "".join(
                    str(s)
                    for s in o.descendants
                    if isinstance(s, NavigableString)
                    and _nearest(s.parent, ("option",)) is o
                    and self._visible(s, control_text=True)
                )
            )
            value = _attr(o, "value")
            disabled = o.has_attr("disabled") or any(
                a.name == "optgroup" and a.has_attr("disabled") for a in _ancestors_until(o.parent, select)
            )
            raw.append((own if value is None else value, _attr(o, "label") or own, o.has_attr("selected"), disabled))
        selected = [r[2] for r in raw]
        if not multiple:
            # A single select shows one option: the last "selected" one; with none and a display size of 1,
            # the first enabled option (HTML spec, "selectedness setting algorithm").
            last = max((i for i, s in enumerate(selected) if s), default=None)
            selected = [i == last for i in range(len(raw))]
            if last is None and size == 1:
                first = next((i for i, r in enumerate(raw) if not r[3]), None)
                if first is not None:
                    selected[first] = True
        return tuple(Option(v, lab, sel, dis) for (v, lab, _s, dis), sel in zip(raw, selected, strict=True))

    def _legend(self, fieldset: Any, name: str) -> str | None:
        """A fieldset's legend labels a field only when the fieldset holds that field alone."""
        legend = next((c for c in fieldset.find_all(True, recursive=False) if c.name == "legend"), None)
        if legend is None:
            return None
        names = {
            (_attr(c, "name") or "")
            for c in fieldset.find_all(list(_CONTROL_TAGS))
            if not _is_hidden_input(c) and not _is_button(c)
        }
        if names != {name}:
            return None
        return self._text(legend) or None

    def _caption(self, anchor: Any) -> str | None:
        """The nearest visible text before a field, read as a person would.

        Walking back from the field's first control: the first string that can name a field decides. When its
        block (cell, div, label, paragraph...) lies before the control, the block's whole text is the caption
        (a ``PropertyName`` cell, a ``<label>``, a heading-like div). When the block holds the control itself
        (``<p>Host Name: <input></p>``), the caption is that block's text before the control. The walk stops
        at any other control, so a field never borrows the caption of the field before it."""
        name = _attr(anchor, "name")
        collected: list[str] = []
        block = None
        for steps, node in enumerate(anchor.previous_elements):
            if steps > _CAPTION_LOOKBACK:
                break
            if isinstance(node, NavigableString):
                if not self._visible(node, control_text=False):
                    continue
                if block is None:
                    if not _label_like(str(node)) or _nearest(node.parent, ("a",)) is not None:
                        continue  # link texts (Edit, menu entries) never name a field
                    lab = _nearest(node.parent, ("label",))
                    if lab is not None and not self._holds(lab, anchor) and self._labels_other(lab, name):
                        return None  # the text is another control's label
                    found = _nearest(node.parent, _BLOCKS)
                    if found is None or (found.name in _CONTAINERS and not self._holds(found, anchor)):
                        return clean_text(str(node)) or None
                    if not self._holds(found, anchor):
                        text = (
                            self._cell_text(found)
                            if found.name in ("td", "th")
                            else self._text(found, control_text=False)
                        )
                        return (text if len(text) <= _MAX_CAPTION else clean_text(str(node))) or None
                    block = found
                elif not _is_inside(node.parent, block):
                    break
                collected.append(str(node))
                continue
            if self._holds(node, anchor):
                if node is block or node.name == "form":
                    break
                continue
            if node.name == "form" or (node.name == "br" and block is not None):
                break
            if node.name in _CONTROL_TAGS and not _is_hidden_input(node) and not (name and _attr(node, "name") == name):
                break
        return clean_text(" ".join(reversed(collected))) or None

    def _labels_other(self, label: Any, name: str | None) -> bool:
        """Whether a <label> belongs to a control other than those named ``name``."""
        for_id = _attr(label, "for")
        target = (
            self.first_by_id.get(for_id)
            if for_id is not None
            else next((d for d in label.find_all(list(_LABELABLE)) if not _is_hidden_input(d)), None)
        )
        if target is None or target.name not in _LABELABLE:
            return False
        return not name or _attr(target, "name") != name

    # ---- links, tables, properties, text elements
    def _links(self) -> tuple[Link, ...]:
        links = []
        for e in self.elements:
            if e.name != "a":
                continue
            href = _attr(e, "href")
            postback = _parse_postback(href or "") or _parse_postback(_attr(e, "onclick") or "")
            text = (
                self._text(e)
                or clean_text(_attr(e, "title") or "")
                or clean_text(
                    " ".join(
                        _attr(img, "alt") or "" for img in e.descendants if isinstance(img, Tag) and img.name == "img"
                    )
                )
            )
            links.append(
                Link(
                    text=text,
                    href=href,
                    url=self._resolve(href),
                    postback=postback,
                    id=_attr(e, "id"),
                    menu_path=(*self._menu_ancestors(e), text),
                    serial=self.serial[id(e)],
                    title=_attr(e, "title"),
                    context=self._item_text(e),
                )
            )
        return tuple(links)

    def _menu_ancestors(self, a: Any) -> tuple[str, ...]:
        """Texts of the list items around a link's own item: each item's first link (or span) text."""
        path: list[str] = []
        li = self._up(self.li_of, self.li_of.get(id(a)) or a) if self.li_of.get(id(a)) is not None else None
        guard = 0
        while li is not None and guard < 64:
            guard += 1
            head = next((c for c in li.contents if isinstance(c, Tag) and c.name in ("a", "span", "div", "b")), None)
            text = (
                self._text(head)
                if head is not None
                else clean_text(next((str(s) for s in li.contents if isinstance(s, NavigableString) and s.strip()), ""))
            )
            path.append(text)
            li = self._up(self.li_of, li)
        return tuple(reversed(path))

    def _tables(self, forms: tuple[Form, ...], links: tuple[Link, ...]) -> tuple[Table, ...]:
        link_index = {link.serial: i for i, link in enumerate(links)}
        control_index = {c.serial: (f.index, c.index) for f in forms for c in f.controls}
        rows_of: dict[int, list[Any]] = {}
        cells_of: dict[int, list[Any]] = {}
        inner_of: dict[int, list[Any]] = {}
        for e in self.elements:
            if e.name == "tr":
                t = self._up(self.table_of, e)
                if t is not None:
                    rows_of.setdefault(id(t), []).append(e)
            elif e.name in ("td", "th"):
                r = self._up(self.row_of, e)
                if r is not None and self._up(self.table_of, e) is self.table_of.get(id(r)):
                    cells_of.setdefault(id(r), []).append(e)
            if e.name == "a" or e.name in _CONTROL_TAGS:
                c = self._up(self.cell_of, e)
                if c is not None:
                    inner_of.setdefault(id(c), []).append(e)
        tables = []
        for t in self.elements:
            if t.name != "table":
                continue
            rows = []
            for tr in rows_of.get(id(t), []):
                cells = []
                for cell in cells_of.get(id(tr), []):
                    inner = inner_of.get(id(cell), [])
                    cells.append(
                        Cell(
                            text=self._cell_text(cell),
                            header=cell.name == "th",
                            links=tuple(link_index[self.serial[id(d)]] for d in inner if d.name == "a"),
                            controls=tuple(
                                control_index[self.serial[id(d)]] for d in inner if self.serial[id(d)] in control_index
                            ),
                        )
                    )
                rows.append(Row(tuple(cells)))
            tables.append(Table(_attr(t, "id"), tuple(rows), self.serial[id(t)]))
        return tuple(tables)

    def _properties(self) -> tuple[Property, ...]:
        props: list[Property] = []
        cells_of: dict[int, list[Any]] = {}
        for e in self.elements:
            if e.name in ("td", "th"):
                r = self._up(self.row_of, e)
                if r is not None:
                    cells_of.setdefault(id(r), []).append(e)
        for tr in self.elements:
            if tr.name != "tr":
                continue
            texts = [(c, self._cell_text(c)) for c in cells_of.get(id(tr), [])]
            first = next((i for i, (_c, tx) in enumerate(texts) if tx), None)
            if first is None or first + 1 >= len(texts):
                continue
            (label_cell, label), (value_cell, value) = texts[first], texts[first + 1]
            if label_cell.name == "th" and value_cell.name == "th":
                continue  # a grid's header row, not a value
            if id(label_cell) not in self.has_control and id(value_cell) not in self.has_control:
                props.append(Property(label, value, self.serial[id(tr)]))
        for e in self.elements:
            # A row of two text elements: <div><span>Thumbprint</span> <span id=..>AB12..</span></div>.
            if e.name in _PAIR_SKIP or id(e) in self.has_control:
                continue
            kids = [c for c in e.contents if isinstance(c, Tag)]
            if len(kids) != 2 or any(k.name in _PAIR_SKIP for k in kids):
                continue
            if any(
                str(s).strip()
                for s in e.contents
                if isinstance(s, NavigableString) and self._visible(s, control_text=False)
            ):
                continue
            label, value = self._text(kids[0]), self._text(kids[1])
            if label and value:
                props.append(Property(label, value, self.serial[id(e)]))
        for dt_el in self.elements:
            if dt_el.name != "dt":
                continue
            dd = dt_el.find_next_sibling(["dd", "dt"])
            if dd is not None and dd.name == "dd" and id(dd) not in self.has_control:
                props.append(Property(self._text(dt_el), self._text(dd), self.serial[id(dt_el)]))
        for lab in self.elements:
            if lab.name != "label":
                continue
            target = self.first_by_id.get(_attr(lab, "for") or "")
            if target is not None and target.name not in _LABELABLE and id(target) not in self.has_control:
                props.append(Property(self._text(lab), self._text(target), self.serial[id(lab)]))
        return tuple(sorted((p for p in props if p.label), key=lambda p: p.serial))

    def _text_elements(self) -> tuple[TextElement, ...]:
        out = []
        skip = _NON_TEXT | _CONTROL_TAGS | {"form", "html", "body", "table", "tbody", "tr", "option", "head"}
        for e in self.elements:
            eid = _attr(e, "id")
            cls = _attr(e, "class")
            if (not eid and not cls) or e.name in skip:
                continue
            out.append(
                TextElement(
                    tag=e.name,
                    id=eid,
                    classes=tuple((cls or "").split()),
                    text=self._text(e, control_text=False),
                    hidden=self.hidden.get(id(e), False),
                    serial=self.serial[id(e)],
                )
            )
        return tuple(out)

    def _aspnet_error(self, title: str, headings: tuple[Heading, ...]) -> AspNetError | None:
        h1 = next((h.text for h in headings if h.level == 1 and h.text.startswith("Server Error in")), None)
        if h1 is None:
            return None
        message = next((h.text for h in headings if h.level == 2 and h.text), "") or title
        details = ""
        for b in (e for e in self.elements if e.name == "b"):
            label = clean_text(b.get_text())
            if not label.startswith(("Exception Details", "Description")):
                continue
            rest = []
            for sib in b.next_siblings:
                if getattr(sib, "name", None) in ("br", "p", "b"):
                    break
                rest.append(sib.get_text() if hasattr(sib, "get_text") else str(sib))
            details = clean_text(" ".join(rest))
            if label.startswith("Exception Details"):
                break
        return AspNetError(title=title or h1, message=message[:1000], details=details[:1000])


# ------------------------------------------------------------------------------------------------ helpers


def _attr(e: Any, name: str) -> str | None:
    if e is None:
        return None
    v = e.attrs.get(name)  # Tag.get, without its call
    if v is None or isinstance(v, str):
        return v
    return " ".join(v)


def _is_hidden_input(e: Any) -> bool:
    return e.name == "input" and (_attr(e, "type") or "").strip().lower() == "hidden"


def _is_button(e: Any) -> bool:
    if e.name == "button":
        return True
    return e.name == "input" and (_attr(e, "type") or "").strip().lower() in BUTTON_TYPES


def _display_size(select: Any, multiple: bool) -> int:
    try:
        size = int((_attr(select, "size") or "").strip())
    except ValueError:
        size = 0
    return size if size > 0 else (4 if multiple else 1)


def _ancestors_until(e: Any, root: Any) -> Iterator[Any]:
    while e is not None and e is not root:
        yield e
        e = e.parent


def _nearest(e: Any, names: Sequence[str] | frozenset[str]) -> Any:
    while e is not None:
        if getattr(e, "name", None) in names:
            return e
        e = e.parent
    return None


def _is_inside(e: Any, root: Any) -> bool:
    while e is not None:
        if e is root:
            return True
        e = e.parent
    return False


def _label_like(text: str) -> bool:
    """Text that can name a field: not blank and not only required-field markers or punctuation."""
    return bool(re.sub(r"[\s\u00a0*:\-|]+", "", text))


def _parse_postback(text: str) -> PostBack | None:
    m = _POSTBACK.search(text) or _POSTBACK_OPTIONS.search(text)
    if m is None:
        return None
    return PostBack(_js_unescape(m.group("target")), _js_unescape(m.group("arg")))


def _js_unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _last_radio_wins(controls: tuple[Control, ...]) -> tuple[Control, ...]:
    """Checking a radio unchecks the others of its group while the page loads: the last checked one stays."""
    last: dict[str, int] = {}
    for c in controls:
        if c.type == "radio" and c.checked and c.name:
            last[c.name] = c.index
    return tuple(
        replace(c, checked=False) if c.type == "radio" and c.checked and last.get(c.name) != c.index else c
        for c in controls
    )


def _group_fields(controls: Iterable[Control]) -> tuple[Field, ...]:
    groups: dict[str, list[Control]] = {}
    for c in controls:
        if not c.name or c.is_button:
            continue
        groups.setdefault(c.name, []).append(c)
    fields = []
    for name, group in groups.items():
        first = group[0]
        kind = first.type
        labels: list[str] = []
        options: tuple[Option, ...] = ()
        if kind == "radio":
            options = tuple(
                Option(c.value, (c.labels[0] if c.labels else c.value), c.checked, c.disabled) for c in group
            )
            for c in group:
                labels += [t for t in (c.aria_label, c.caption, c.legend, c.title) if t]
        else:
            if kind.startswith("select"):
                options = first.options
            for c in group:
                labels += list(c.labels)
            for c in group:
                labels += [t for t in (c.aria_label, c.caption, c.legend, c.title) if t]
        fid = first.id
        if kind == "radio" and fid and re.search(r"_\d+$", fid):
            fid = re.sub(r"_\d+$", "", fid)
        fields.append(
            Field(
                name=name,
                kind=kind,
                controls=tuple(c.index for c in group),
                labels=tuple(dict.fromkeys(labels)),
                options=options,
                id=fid,
                disabled=all(c.disabled for c in group),
                hidden=all(c.hidden for c in group),
            )
        )
    return tuple(fields)
