"""Parse a posted form (urlencoded or multipart/form-data) into fields and uploaded files."""

from __future__ import annotations

import email.message
import email.utils
import hashlib
from dataclasses import dataclass, field
from urllib.parse import parse_qsl


class FormError(Exception):
    """The body cannot be read as the form its Content-Type claims."""


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes = field(repr=False)

    @property
    def has_file(self) -> bool:
        """ASP.NET's FileUpload.HasFile: a file name and at least one byte."""
        return bool(self.filename) and bool(self.data)

    def summary(self, name: str) -> dict[str, object]:
        return {
            "field": name,
            "filename": self.filename,
            "bytes": len(self.data),
            "sha256": hashlib.sha256(self.data).hexdigest(),
        }


@dataclass(frozen=True)
class PostedForm:
    fields: tuple[tuple[str, str], ...] = ()
    files: tuple[tuple[str, Upload], ...] = ()

    def get(self, name: str) -> str | None:
        """The first value posted under ``name`` (ASP.NET reads the first)."""
        for key, value in self.fields:
            if key == name:
                return value
        return None

    def file(self, name: str) -> Upload | None:
        for key, upload in self.files:
            if key == name:
                return upload
        return None


def _params(header_value: str, header: str = "content-type") -> email.message.Message:
    msg = email.message.Message()
    msg[header] = header_value
    return msg


def _param(msg: email.message.Message, name: str) -> str | None:
    value = msg.get_param(name, header="content-disposition")
    if isinstance(value, tuple):  # RFC 2231 (filename*=utf-8''...)
        return email.utils.collapse_rfc2231_value(value)
    return value if isinstance(value, str) else None


def content_type_of(header_value: str) -> str:
    return _params(header_value).get_content_type()


def parse_form(content_type: str, body: bytes) -> PostedForm:
    kind = content_type_of(content_type) if content_type else ""
    if kind == "multipart/form-data":
        boundary = _params(content_type).get_param("boundary")
        if not isinstance(boundary, str) or not boundary:
            raise FormError("multipart body without a boundary")
        return _parse_multipart(body, boundary.encode("latin-1"))
    if kind in ("application/x-www-form-urlencoded", ""):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FormError("urlencoded body is not UTF-8") from exc
        return PostedForm(fields=tuple(parse_qsl(text, keep_blank_values=True)))
    raise FormError(f"unsupported form content type {kind}")


def _parse_multipart(body: bytes, boundary: bytes) -> PostedForm:
    delimiter = b"--" + boundary
    # A body may carry a preamble before the first delimiter; parts end with CRLF before the next one.
    start = body.find(delimiter)
    if start < 0:
        raise FormError("multipart body without its boundary")
    chunks = (b"\r\n" + body[start:]).split(b"\r\n" + delimiter)
    fields: list[tuple[str, str]] = []
    files: list[tuple[str, Upload]] = []
    closed = False
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            closed = True
            break
        if not chunk.startswith(b"\r\n"):
            raise FormError("malformed multipart delimiter line")
        head, sep, data = chunk[2:].partition(b"\r\n\r\n")
        if not sep:
            raise FormError("multipart part without a header block")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        disposition = _params(headers.get("content-disposition", ""), "content-disposition")
        field_name = _param(disposition, "name")
        if field_name is None:
            raise FormError("multipart part without a field name")
        filename = _param(disposition, "filename")
        if filename is not None:
            files.append((field_name, Upload(filename, headers.get("content-type", ""), data)))
        else:
            fields.append((field_name, data.decode("utf-8", "replace")))
    if not closed:
        raise FormError("multipart body is not closed by its final boundary")
    return PostedForm(tuple(fields), tuple(files))
