"""Fault knobs: how the emulator misbehaves on purpose, set at start and changed while it runs."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tmsemulator.errors import ConfigError

#: Values of ``Faults.drop_after_save``.
DROP_MODES = ("off", "applied", "not-applied")


@dataclass(frozen=True)
class Faults:
    """Every knob is off by default. See docs/emulator.md for what each one models."""

    #: Answer every Save postback with an ASP.NET error page (HTTP 500); nothing is stored.
    save_500: bool = False
    #: Read a Save postback's whole body, then close the connection without an answer; ``applied`` stores
    #: the Save first (the client cannot know it worked), ``not-applied`` stores nothing.
    drop_after_save: str = "off"
    #: Hold every answer (apart from the test API under /__emulator/) back this many milliseconds.
    delay_ms: int = 0
    #: After this many authenticated requests on one connection, the next one gets a fresh 401 (0: never).
    session_expiry_requests: int = 0
    #: An authenticated connection older than this many seconds gets a fresh 401 (0: never).
    session_expiry_seconds: float = 0.0
    #: IIS ``authPersistSingleRequest``: a handshake authenticates only the request that completes it.
    reauth_every_request: bool = False
    #: A page profile name: the next GET of a WebEx page is served as usual, then the emulator switches to
    #: this profile, so the POST that follows meets a changed page ("" = off). One-shot.
    layout_change: str = ""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            expected = _TYPES[f.name]
            # bool is an int in Python: a flag must not pass as a count, nor a count as a flag.
            if isinstance(value, bool) != (expected == (bool,)) or not isinstance(value, expected):
                names = " or ".join(t.__name__ for t in expected)
                raise ConfigError(f"fault knob {f.name}: got {type(value).__name__}, expected {names}")
        if self.drop_after_save not in DROP_MODES:
            raise ConfigError(
                f"unknown drop_after_save mode {self.drop_after_save!r}",
                hint=f"expected one of {', '.join(DROP_MODES)}",
            )
        if self.delay_ms < 0 or self.session_expiry_requests < 0 or self.session_expiry_seconds < 0:
            raise ConfigError("fault delays and expiry limits cannot be negative")

    def with_changes(self, changes: Mapping[str, Any]) -> Faults:
        """A copy with ``changes`` applied; unknown knob names are a ConfigError, not silently ignored."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ConfigError(
                f"unknown fault knob(s): {', '.join(unknown)}",
                hint=f"known knobs: {', '.join(sorted(known))}",
            )
        return dataclasses.replace(self, **dict(changes))

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_TYPES: dict[str, tuple[type, ...]] = {
    "save_500": (bool,),
    "drop_after_save": (str,),
    "delay_ms": (int,),
    "session_expiry_requests": (int,),
    "session_expiry_seconds": (int, float),
    "reauth_every_request": (bool,),
    "layout_change": (str,),
}
