"""Building a form submission as a browser would: the overrides a person makes, and the entry list they give."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import urljoin, urlsplit

from tmsclient.credentials import Secret
from tmsclient.errors import PageNotUnderstoodError
from tmsclient.tms.webforms.model import CHECKABLE, MULTIPART, Control, Field, Form, PostBack, form_enctype


@dataclass(frozen=True)
class FileField:
    """A file to upload: its name kept as given (TMS checks the extension); its bytes never show in a repr."""

    filename: str
    content: bytes = field(repr=False)
    content_type: str = "application/octet-stream"

    def __repr__(self) -> str:
        return f"FileField(filename={self.filename!r}, {len(self.content)} bytes)"


#: What one entry of a submission carries: text, a secret (revealed only when the request is encoded), a file.
EntryValue = str | Secret | FileField


@dataclass(frozen=True)
class Entry:
    name: str
    value: EntryValue

    def __repr__(self) -> str:
        return f"Entry({self.name!r}, {display_value(self.value)})"


@dataclass(frozen=True)
class Change:
    """One field a submission changes, for a plan: values as a person may see them (secrets ``<hidden>``)."""

    name: str
    before: str
    after: str


class FormValueError(PageNotUnderstoodError):
    """Raised while a submission is built, before anything is sent, when a value is one the page does not offer
    (ASP.NET event validation would answer 500) or a field cannot be set (absent, disabled, read-only, the wrong
    kind)."""


class SubmissionKindError(PageNotUnderstoodError):
    """Raised before anything is sent when a submission that must carry a file is not a multipart/form-data
    POST (the form's method or enctype, or the submitter's formmethod or formenctype, says otherwise), so a
    browser, and tmsclient, would send only the file's name."""


_Override = str | Secret | FileField | bool | tuple[str, ...] | None


@dataclass(frozen=True)
class Submission:
    """A form plus what a person would change in it. Immutable: ``set``/``check`` return a new submission.

    The page model stays read-only: the overrides (typed text, chosen options, the file, the password as a
    :class:`~tmsclient.credentials.Secret`) live here, and ``entries()`` turns form plus overrides into the entry
    list of the HTML standard's "constructing the entry list" algorithm
    (https://html.spec.whatwg.org/#constructing-the-form-data-set):

    - controls in tree order, owned by the form (nested ``<form>`` tags are ignored as an HTML parser does, and
      the ``form=`` attribute is honoured);
    - disabled controls, and those inside a disabled ``<fieldset>`` (outside its first ``<legend>``), are
      skipped, as are controls inside a ``<datalist>`` and controls without a name;
    - radios and checkboxes only when checked, with the value ``on`` when they have no value attribute;
    - a ``<select>`` sends its selected, enabled options; a single select without a ``selected`` option selects
      its first enabled option (the spec's "selectedness setting algorithm");
    - buttons only when they are the submitter (``name=value``; an image button sends ``name.x``/``name.y``),
      so neither another Save button, an image button nor a search box's button ever goes out;
    - ``__EVENTTARGET``/``__EVENTARGUMENT`` carry the target of a ``__doPostBack`` postback;
    - a file input sends a file part only in a ``multipart/form-data`` form, otherwise its file name; without
      a file it sends a part with an empty file name and no content;
    - ``_charset_`` hidden fields send ``UTF-8``; ``dirname`` sends ``ltr``; newlines in values become CRLF.

    Values the page did not render (a select option, a radio value) are refused before anything is sent
    (:class:`FormValueError`), because ASP.NET's event validation would answer HTTP 500. ``method``, ``url``
    and ``enctype`` say how to send it. Secrets stay :class:`Secret` objects here; the repr shows only which
    fields are overridden.
    """

    form: Form
    submitter: int | None
    postback: PostBack | None
    overrides: tuple[tuple[int, _Override], ...]

    @classmethod
    def of(cls, form: Form, *, submitter: str | Control | None = None, postback: PostBack | None = None) -> Submission:
        """A submission of ``form`` as rendered: pressing ``submitter`` (by name or control), or a
        ``__doPostBack`` postback (no button sent), or an implicit submission with no button."""
        if submitter is not None and postback is not None:
            raise ValueError("a submission has a submitter or a postback, not both")
        button: int | None = None
        if submitter is not None:
            button = _resolve_submitter(form, submitter)
        if postback is not None:
            for hidden_name in ("__EVENTTARGET", "__EVENTARGUMENT"):
                if not any(c.name == hidden_name and not c.disabled for c in form.controls):
                    raise PageNotUnderstoodError(
                        f"the form has no {hidden_name} field, so it cannot post back to {postback.target}",
                        hint="the page is not an ASP.NET WebForms page as expected; check --page-url",
                    )
        return cls(form, button, postback, ())

    # ---- how to send it
    @property
    def _button(self) -> Control | None:
        return None if self.submitter is None else self.form.controls[self.submitter]

    @property
    def method(self) -> str:
        """The method a browser uses: the submitter's ``formmethod`` when it has the attribute at all (an
        empty or unknown value is the spec's invalid value default, GET), else the form's."""
        b = self._button
        m = (b.formmethod if b is not None and b.formmethod is not None else self.form.method).lower()
        return "POST" if m == "post" else "GET"

    @property
    def url(self) -> str:
        b = self._button
        if b and b.formaction:
            try:
                url = urljoin(self.form.action, b.formaction)
                urlsplit(url)
            except ValueError as exc:
                # A browser would not submit through such a button; nor do we.
                raise PageNotUnderstoodError(
                    f"the button {b.name!r} submits to {b.formaction!r}, which is not a URL",
                    hint="this is not the page tmsclient expects; run `tmsclient discover` and check --page-url",
                ) from exc
            return url
        return self.form.action

    @property
    def enctype(self) -> str:
        """The encoding a browser uses: the submitter's ``formenctype`` when it has the attribute (an empty
        or unknown value is urlencoded), else the form's."""
        b = self._button
        return form_enctype(b.formenctype) if b is not None and b.formenctype is not None else self.form.enctype

    @property
    def is_multipart(self) -> bool:
        return self.method == "POST" and self.enctype == MULTIPART

    @property
    def kind(self) -> str:
        """How it goes out, in words: ``GET`` or ``POST <enctype>``."""
        return "GET" if self.method == "GET" else f"POST {self.enctype}"

    def why_not_multipart(self) -> str | None:
        """None when this submission goes as a multipart/form-data POST (the only kind that carries a file's
        bytes); else what makes it something else, naming the attribute, for an error."""
        b = self._button
        button = f"the button {(b.caption_text or b.name)!r}" if b is not None else ""
        if self.method != "POST":
            if b is not None and b.formmethod is not None:
                return f"{button} has formmethod={b.formmethod!r}, so a browser sends the form with GET"
            return f"the form's method is {self.form.method.upper()}"
        if self.enctype != MULTIPART:
            if b is not None and b.formenctype is not None:
                return f"{button} has formenctype={b.formenctype!r}, so a browser sends the form as {self.enctype}"
            return f"the form's enctype is {self.enctype}"
        return None

    def require_file_carrying(self, what: str) -> None:
        """Refuse, before anything is sent, a submission that would reduce a file to its name."""
        why = self.why_not_multipart()
        if why is not None:
            raise SubmissionKindError(
                f"{what} would go as {self.kind}, not multipart/form-data ({why}), so it would send only the "
                "file's name and never its content; nothing was sent",
                hint="this is not the form tmsclient expects: look at the page in a browser (`tmsclient "
                "discover`), and check --page-url and any proxy in front of TMS",
            )

    def __repr__(self) -> str:
        names = sorted({self.form.controls[i].name for i, _ in self.overrides})
        if self.postback:
            by = "postback " + self.postback.target
        else:
            button = self._button
            by = f"button {button.name}" if button is not None else "no button"
        try:
            url = self.url
        except PageNotUnderstoodError:
            url = "<not a URL>"
        return f"Submission({self.method} {url}, {by}, overrides={names}, values=<hidden>)"

    __str__ = __repr__

    # ---- changing it
    def set(
        self, name: str, value: str | Secret | FileField | Sequence[str] | None, *, index: int | None = None
    ) -> Submission:
        """Set a field: text for text-like fields and textareas, a Secret for a password, a value for a radio
        group or a single select (a sequence for a multiple select), a FileField (or None) for a file input.

        The value must be one the page rendered for radios and selects, and the control must be enabled and
        not read-only. ``index`` picks one control when several text controls share a name."""
        controls = [c for c in self.form.controls if c.name == name]
        if not controls:
            raise FormValueError(f"the form has no field named {name}")
        kind = controls[0].type
        if kind == "radio":
            if not isinstance(value, str):
                raise FormValueError(f"field {name} is a radio group; give one of its values")
            enabled = [c for c in controls if c.value == value and not c.disabled]
            if not enabled:
                offered = [c.value for c in controls if not c.disabled]
                raise FormValueError(
                    f"field {name} offers no choice {value!r}; got {value!r}, expected one of "
                    f"{', '.join(repr(v) for v in offered) or 'nothing (all disabled)'}",
                    hint="TMS refuses values it did not render (HTTP 500); check the page profile",
                )
            chosen = enabled[0].index
            return self._with({c.index: c.index == chosen for c in controls})
        if kind == "checkbox":
            raise FormValueError(f"field {name} is a checkbox; use check()")
        if index is not None:
            controls = [c for c in controls if c.index == index]
            if not controls:
                raise FormValueError(f"control {index} is not named {name}")
        if len(controls) > 1:
            raise FormValueError(f"{len(controls)} controls are named {name}; say which one (index=)")
        control = controls[0]
        _require_editable(control)
        if control.type.startswith("select"):
            values = (value,) if isinstance(value, str) else (tuple(value) if isinstance(value, Sequence) else None)
            if values is None or any(not isinstance(v, str) for v in values):
                raise FormValueError(f"field {name} is a select; give an option value")
            if control.type == "select-one" and len(values) != 1:
                raise FormValueError(f"field {name} is a single select; give exactly one value")
            offered = [o.value for o in control.options if not o.disabled]
            for v in values:
                if v not in offered:
                    raise FormValueError(
                        f"field {name} offers no option {v!r}; got {v!r}, expected one of "
                        f"{', '.join(repr(o) for o in offered) or 'nothing'}",
                        hint="TMS refuses values it did not render (HTTP 500); check the page profile",
                    )
            return self._with({control.index: values})
        if control.type == "file":
            if value is not None and not isinstance(value, FileField):
                raise FormValueError(f"field {name} is a file input; give a file")
            return self._with({control.index: value})
        if control.is_button:
            raise FormValueError(f"field {name} is a button; press it with submitter=")
        if isinstance(value, FileField) or not isinstance(value, (str, Secret)):
            raise FormValueError(f"field {name} is a {control.type} field; give text")
        return self._with({control.index: value})

    def check(self, name: str, checked: bool = True, *, value: str | None = None) -> Submission:
        """Tick or clear a checkbox (the one with ``value`` when several share the name)."""
        controls = [c for c in self.form.controls if c.name == name and c.type == "checkbox"]
        if value is not None:
            controls = [c for c in controls if c.value == value]
        if not controls:
            raise FormValueError(
                f"the form has no checkbox named {name}" + (f" with value {value!r}" if value is not None else "")
            )
        if len(controls) > 1:
            raise FormValueError(f"{len(controls)} checkboxes are named {name}; say which one (value=)")
        _require_editable(controls[0])
        return self._with({controls[0].index: bool(checked)})

    def _with(self, new: dict[int, _Override]) -> Submission:
        merged = dict(self.overrides)
        merged.update(new)
        return replace(self, overrides=tuple(sorted(merged.items())))

    # ---- reading it
    def _override(self, control: Control) -> tuple[bool, _Override]:
        for i, v in self.overrides:
            if i == control.index:
                return True, v
        return False, None

    def value_of(self, control: Control) -> _Override:
        """The value this submission gives a control: its override, or what was rendered."""
        found, v = self._override(control)
        if found:
            return v
        if control.type in CHECKABLE:
            return control.checked
        if control.type.startswith("select"):
            return tuple(o.value for o in control.options if o.selected)
        if control.type == "file":
            return None
        return control.value

    def entries(self) -> tuple[Entry, ...]:
        """The entry list a browser would build (HTML spec, "constructing the entry list")."""
        out: list[Entry] = []
        multipart = self.is_multipart
        for c in self.form.controls:
            if c.disabled:
                continue
            if c.is_button:
                if self.submitter != c.index or not c.is_submit_button:
                    continue
                if c.type == "image":
                    prefix = f"{c.name}." if c.name else ""
                    out += [Entry(f"{prefix}x", "0"), Entry(f"{prefix}y", "0")]
                    continue
                if c.name:
                    out.append(Entry(c.name, _crlf(c.value)))
                continue
            if not c.name:
                continue
            if c.type in CHECKABLE:
                if self.value_of(c):
                    out.append(Entry(c.name, _crlf(c.value)))
                continue
            if c.type.startswith("select"):
                enabled = {o.value for o in c.options if not o.disabled}
                for v in self.value_of(c) or ():  # type: ignore[union-attr]
                    if v in enabled:
                        out.append(Entry(c.name, _crlf(v)))
                continue
            if c.type == "file":
                f = self.value_of(c)
                if multipart:
                    out.append(Entry(c.name, f if isinstance(f, FileField) else FileField("", b"")))
                else:
                    out.append(Entry(c.name, f.filename if isinstance(f, FileField) else ""))
                continue
            v = self.value_of(c)
            if c.name in ("__EVENTTARGET", "__EVENTARGUMENT") and self.postback is not None:
                v = self.postback.target if c.name == "__EVENTTARGET" else self.postback.argument
            elif c.type == "hidden" and c.name.lower() == "_charset_" and not self._override(c)[0]:
                v = "UTF-8"
            if isinstance(v, Secret):
                out.append(Entry(c.name, v))
            else:
                out.append(Entry(c.name, _crlf(str(v if v is not None else ""))))
            if c.dirname and c.type in ("text", "search", "textarea"):
                out.append(Entry(c.dirname, "ltr"))
        return tuple(out)

    def changes(self) -> tuple[Change, ...]:
        """Each overridden field whose value differs from what was rendered, for a plan."""
        result: list[Change] = []
        seen: set[str] = set()
        for i, _v in self.overrides:
            c = self.form.controls[i]
            if c.name in seen:
                continue
            seen.add(c.name)
            f = self.form.field(c.name)
            if f is None:
                continue
            before = _display_field(self.form, f, None)
            after = _display_field(self.form, f, self)
            if before != after or c.type in ("password", "file"):
                result.append(Change(c.name, before, after))
        return tuple(result)


def _display_field(form: Form, f: Field, sub: Submission | None) -> str:
    controls = [form.controls[i] for i in f.controls]
    if f.kind == "radio":
        for c in controls:
            on = sub.value_of(c) if sub else c.checked
            if on:
                label = next((o.label for o in f.options if o.value == c.value), "")
                return f"{label} ({c.value})" if label and label != c.value else c.value
        return "(none)"
    if f.kind == "checkbox":
        states = [bool(sub.value_of(c) if sub else c.checked) for c in controls]
        if len(controls) == 1:
            return "checked" if states[0] else "unchecked"
        return ", ".join(c.value for c, s in zip(controls, states, strict=True) if s) or "(none)"
    c = controls[0]
    if f.kind.startswith("select"):
        values = sub.value_of(c) if sub else tuple(o.value for o in c.options if o.selected)
        texts = []
        for v in values or ():  # type: ignore[union-attr]
            label = next((o.label for o in c.options if o.value == v), "")
            texts.append(f"{label} ({v})" if label and label != v else v)
        return ", ".join(texts) or "(none)"
    value = sub.value_of(c) if sub else (None if c.type == "file" else c.value)
    return display_value(value, password=c.type == "password")


def display_value(value: object, *, password: bool = False) -> str:
    """A value as a plan or log may show it: secrets and password contents hidden, files by name and size."""
    if isinstance(value, Secret) or (password and value):
        return "<hidden>"
    if isinstance(value, FileField):
        return f"<file {value.filename}, {len(value.content)} bytes>"
    if value is None or value == "":
        return "(empty)"
    return repr(value) if isinstance(value, str) else str(value)


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def _require_editable(control: Control) -> None:
    if control.disabled:
        raise FormValueError(f"field {control.name} is disabled on the page; it cannot be changed")
    if control.readonly and control.type not in ("file",):
        raise FormValueError(f"field {control.name} is read-only on the page; it cannot be changed")


def _resolve_submitter(form: Form, submitter: str | Control) -> int:
    if isinstance(submitter, Control):
        candidates = [c for c in form.controls if c.index == submitter.index and c.serial == submitter.serial]
    else:
        candidates = [c for c in form.controls if c.name == submitter and c.is_button]
    if not candidates:
        raise FormValueError(f"the form has no button {getattr(submitter, 'name', submitter)}")
    if len(candidates) > 1:
        raise FormValueError(f"{len(candidates)} buttons are named {submitter}; pass the control itself")
    button = candidates[0]
    if not button.is_submit_button:
        raise FormValueError(f"{button.name or button.caption_text!r} is a {button.type} button; it does not submit")
    if button.disabled:
        raise FormValueError(f"button {button.name} is disabled on the page")
    return button.index
