"""The read-only model of a parsed ASP.NET WebForms page: frozen dataclasses and tuples, nothing writable."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from tmsclient.errors import PageNotUnderstoodError

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
TEXT_PLAIN = "text/plain"

SUBMIT_TYPES = frozenset({"submit", "image"})
BUTTON_TYPES = frozenset({"submit", "image", "reset", "button"})
CHECKABLE = frozenset({"radio", "checkbox"})


def form_enctype(value: str | None) -> str:
    """An ``enctype``/``formenctype`` attribute as a browser reads it: one of the three, else urlencoded."""
    v = (value or "").strip().lower()
    return v if v in (URLENCODED, MULTIPART, TEXT_PLAIN) else URLENCODED


@dataclass(frozen=True)
class Option:
    """One ``<option>`` of a select, or one radio button of a group."""

    value: str
    label: str  # what a person sees: the option's text, or the radio's label
    selected: bool  # as rendered (after the select default for single selects)
    disabled: bool


@dataclass(frozen=True)
class Control:
    """One form-associated control as rendered. ``type`` is the input type, or ``select-one``,
    ``select-multiple``, ``textarea``, or the button type for ``<button>`` (``button-submit`` etc.)."""

    index: int  # position among the form's controls, in tree order
    tag: str
    type: str
    name: str
    id: str | None
    value: str  # rendered value: attribute, textarea text, button value; "" for selects and files
    checked: bool
    disabled: bool  # the attribute, or inside a disabled fieldset
    readonly: bool
    hidden: bool  # type=hidden, or not displayed (hidden attribute, display:none, visibility:hidden)
    options: tuple[Option, ...]  # selects only
    labels: tuple[str, ...]  # texts of <label> elements for this control
    caption: str | None  # nearest text before the control's field (a preceding cell, a heading, a span)
    legend: str | None  # legend of the innermost fieldset that holds no other field
    aria_label: str | None
    title: str | None
    text: str  # a <button>'s text content, an image button's alt text
    dirname: str | None
    formaction: str | None  # submitter overrides (HTML "formaction", "formmethod", "formenctype")
    formmethod: str | None
    formenctype: str | None
    ancestors: tuple[int, ...]  # serial numbers of enclosing elements, outermost first
    serial: int  # this element's position among all elements of the page
    postback: PostBack | None = None  # an onclick that posts back (LinkButton-like buttons)
    #: A button's item: the text of its nearest list item, row, paragraph or div (a repeater's entry).
    context: str = ""

    @property
    def is_button(self) -> bool:
        return self.type in BUTTON_TYPES or self.type.startswith("button-")

    @property
    def is_submit_button(self) -> bool:
        return self.type in SUBMIT_TYPES or self.type == "button-submit"

    @property
    def caption_text(self) -> str:
        """What a person reads on a button: its value, text or alt."""
        if self.tag == "button":
            return self.text
        if self.type == "image":
            return self.text or self.value
        return self.value


@dataclass(frozen=True)
class Field:
    """The controls of a form that share a name, and what labels them: a text box, a radio group, a select."""

    name: str
    kind: str  # the control type of its first control (radio, checkbox, select-one, text, file, ...)
    controls: tuple[int, ...]  # indices into Form.controls
    labels: tuple[str, ...]  # every text that labels the field, strongest first, de-duplicated
    options: tuple[Option, ...]  # select options or radio buttons, in order
    id: str | None  # id of the first control; for a radio group, the id prefix ASP.NET gives the list
    disabled: bool  # every control of the field is disabled
    hidden: bool  # every control is hidden

    @property
    def is_secret(self) -> bool:
        return self.kind == "password"


@dataclass(frozen=True)
class PostBack:
    """An ASP.NET postback: ``__doPostBack(target, argument)``."""

    target: str
    argument: str


@dataclass(frozen=True)
class Link:
    """An ``<a>`` element. ``menu_path`` is the texts of the enclosing list items' own links, outermost first,
    then this link's text: the path a person follows through a nested menu."""

    text: str
    href: str | None
    url: str | None  # href resolved against the page (None for javascript: and empty hrefs)
    postback: PostBack | None
    id: str | None
    menu_path: tuple[str, ...]
    serial: int
    title: str | None = None
    #: The link's item: the text of its nearest list item, row, paragraph or div (a list's or repeater's entry).
    context: str = ""


@dataclass(frozen=True)
class Cell:
    text: str
    header: bool
    links: tuple[int, ...]  # indices into Page.links
    controls: tuple[tuple[int, int], ...]  # (form index, control index)


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Table:
    id: str | None
    rows: tuple[Row, ...]
    serial: int


@dataclass(frozen=True)
class Property:
    """A read-only ``label -> value`` pair the page shows: adjacent table cells, ``<dt>/<dd>``, or a
    ``<label for>`` naming a non-control element."""

    label: str
    value: str
    serial: int


@dataclass(frozen=True)
class TextElement:
    """An element with an id or class, and its text (error labels, info labels, validation summaries)."""

    tag: str
    id: str | None
    classes: tuple[str, ...]
    text: str
    hidden: bool
    serial: int


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    serial: int


@dataclass(frozen=True)
class AspNetError:
    """The ASP.NET "yellow screen": ``Server Error in '/app' Application.``"""

    title: str
    message: str  # the <h2> text, e.g. "Runtime Error" or "Invalid postback or callback argument. ..."
    details: str  # "Exception Details:" or "Description:" text, when shown


@dataclass(frozen=True)
class Form:
    """One ``<form>``: where it posts, how it encodes, and its controls in tree order."""

    index: int
    id: str | None
    name: str | None
    action: str  # resolved URL
    method: str  # "get" or "post"
    enctype: str
    controls: tuple[Control, ...]
    fields: tuple[Field, ...]
    serial: int

    @property
    def is_multipart(self) -> bool:
        return self.enctype == MULTIPART

    def field(self, name: str) -> Field | None:
        return self._fields_by_name.get(name)

    def has(self, name: str) -> bool:
        return name in self._control_names

    @cached_property
    def _fields_by_name(self) -> dict[str, Field]:
        # Built once, so that reading every field of a large form by name costs linear time.
        by_name: dict[str, Field] = {}
        for f in self.fields:
            by_name.setdefault(f.name, f)
        return by_name

    @cached_property
    def _control_names(self) -> frozenset[str]:
        return frozenset(c.name for c in self.controls)

    def submit_buttons(self) -> tuple[Control, ...]:
        return tuple(c for c in self.controls if c.is_submit_button)

    def current_value(self, name: str) -> str | tuple[str, ...] | bool | None:
        """The value the field shows now: text, the checked radio's value (None when none is), the selected
        option value(s), a single checkbox's checked state; None for files."""
        f = self.field(name)
        if f is None:
            raise PageNotUnderstoodError(f"the form has no field named {name}")
        return field_value(self, f)


def field_value(form: Form, f: Field) -> str | tuple[str, ...] | bool | None:
    first = form.controls[f.controls[0]]
    if f.kind == "radio":
        checked = [o.value for o in f.options if o.selected]
        return checked[-1] if checked else None
    if f.kind == "checkbox":
        if len(f.controls) == 1:
            return first.checked
        return tuple(form.controls[i].value for i in f.controls if form.controls[i].checked)
    if f.kind == "select-one":
        sel = [o.value for o in first.options if o.selected]
        return sel[0] if sel else None
    if f.kind == "select-multiple":
        return tuple(o.value for o in first.options if o.selected)
    if f.kind == "file":
        return None
    return first.value


@dataclass(frozen=True)
class Page:
    """A parsed page: everything the driver, verifier and ``discover`` read, and nothing writable."""

    url: str
    status: int | None
    title: str
    headings: tuple[Heading, ...]
    forms: tuple[Form, ...]
    links: tuple[Link, ...]
    tables: tuple[Table, ...]
    properties: tuple[Property, ...]
    elements: tuple[TextElement, ...]
    text: str  # the page's visible text, whitespace collapsed
    aspnet_error: AspNetError | None

    def element_by_id(self, element_id: str) -> TextElement | None:
        for e in self.elements:
            if e.id == element_id:
                return e
        return None

    def link_with_postback(self, target: str) -> Link | None:
        for link in self.links:
            if link.postback and link.postback.target == target:
                return link
        return None
