"""Encoding a form's entries into a request body, urlencoded or multipart, as a browser sends them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from urllib3.filepost import encode_multipart_formdata

from tmsclient.credentials import Secret
from tmsclient.tms.webforms.model import URLENCODED

#: A file part: (file name, content, content type).
FilePart = tuple[str, bytes, str]
FieldValue = str | Secret | FilePart


def encode_form(
    fields: Sequence[tuple[str, FieldValue]],
    files: Sequence[tuple[str, FilePart]] = (),
    *,
    multipart: bool,
) -> tuple[bytes, str]:
    """The request body and its Content-Type, as a browser sends a form; Secrets are revealed only here.

    ``fields`` keep their order; a file part may sit among them (document order), ``files`` follow them.
    """
    items: list[tuple[str, Any]] = []
    for name, value in [*fields, *files]:
        if isinstance(value, Secret):
            items.append((name, value.reveal()))
        elif isinstance(value, tuple):
            if not multipart:
                raise ValueError(f"file field {name!r} needs a multipart form")
            items.append((name, value))
        else:
            items.append((name, value))
    if multipart:
        body, content_type = encode_multipart_formdata(items)
        return body, content_type
    return urlencode(items, encoding="utf-8").encode("ascii"), URLENCODED
