"""Integrity-protected __VIEWSTATE and __EVENTVALIDATION, as ASP.NET's MAC-checked hidden fields behave."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: ASP.NET's ObjectStateFormatter output starts with 0xFF 0x01 and a type byte: a view state begins with
#: "/wEP", an event validation field with "/wEd".
_MAGIC = {b"viewstate": b"\xff\x01\x0f", b"eventvalidation": b"\xff\x01\x1d"}
_MAC_BYTES = 32  # HMAC-SHA256, ASP.NET 4.5's default validation algorithm


class ViewStateError(Exception):
    """The hidden field is missing, malformed or fails its MAC: ASP.NET answers HTTP 500."""


class EventValidationError(Exception):
    """A posted value, button or postback target the page did not render."""


@dataclass(frozen=True)
class EventValidation:
    """What the rendered page allows back: (control name, value) pairs and the names it restricts."""

    allowed: frozenset[str]  # digests of "name\0value"
    restricted: frozenset[str]  # digests of names whose values are checked

    def check(self, name: str, value: str) -> None:
        if _digest(name) in self.restricted and _digest(f"{name}\x00{value}") not in self.allowed:
            raise EventValidationError(name)

    def rendered(self, name: str) -> bool:
        """The page rendered a control (a button, a list) with this name."""
        return _digest(name) in self.restricted


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class Codec:
    """Signs and checks the hidden fields with one instance's machine key."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def _seal(self, purpose: bytes, payload: Any) -> str:
        body = _MAGIC[purpose] + json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
        mac = hmac.new(self._key, purpose + body, hashlib.sha256).digest()
        return base64.b64encode(body + mac).decode("ascii")

    def _open(self, purpose: bytes, text: str | None) -> Any:
        if not text:
            raise ViewStateError("missing")
        try:
            raw = base64.b64decode(text.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
            raise ViewStateError("not base64") from exc
        body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        expected = hmac.new(self._key, purpose + body, hashlib.sha256).digest()
        if len(raw) <= _MAC_BYTES or not hmac.compare_digest(mac, expected):
            raise ViewStateError("MAC check failed")
        return json.loads(body[len(_MAGIC[purpose]) :].decode("utf-8"))

    def encode_view_state(self, state: dict[str, Any]) -> str:
        return self._seal(b"viewstate", {**state, "n": secrets.token_hex(4)})

    def decode_view_state(self, text: str | None) -> dict[str, Any]:
        data = self._open(b"viewstate", text)
        if not isinstance(data, dict):
            raise ViewStateError("not a view state")
        return data

    def encode_event_validation(self, pairs: Iterable[tuple[str, str]]) -> str:
        pairs = list(pairs)
        return self._seal(
            b"eventvalidation",
            {
                "a": sorted({_digest(f"{n}\x00{v}") for n, v in pairs}),
                "r": sorted({_digest(n) for n, _ in pairs}),
            },
        )

    def decode_event_validation(self, text: str | None) -> EventValidation:
        data = self._open(b"eventvalidation", text)
        try:
            return EventValidation(frozenset(data["a"]), frozenset(data["r"]))
        except (KeyError, TypeError) as exc:
            raise ViewStateError("not an event validation field") from exc


def view_state_generator(page_path: str) -> str:
    """__VIEWSTATEGENERATOR: eight hex digits naming the page class (one front controller: one value)."""
    return hashlib.sha1(page_path.lower().encode(), usedforsecurity=False).hexdigest()[:8].upper()
