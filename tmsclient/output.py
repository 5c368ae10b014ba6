"""Everything a command prints goes through Output: human text or JSON on stdout, diagnostics on stderr."""

from __future__ import annotations

import datetime as _dt
import enum
import json
import logging
import re
from dataclasses import asdict, is_dataclass
from pathlib import PurePath
from typing import IO, Any

from tmsclient.credentials import Secret, scrub
from tmsclient.errors import TmsClientError

# Characters a terminal acts on instead of showing: C0 controls (ESC starts colour, cursor and title
# sequences; CR and BS overwrite what was printed), DEL, the C1 controls (U+009B is CSI on some terminals) and
# the bidirectional overrides and isolates, which reorder what is shown. A TMS page, error text or header can
# carry any of them; human output shows them as escapes. The first set keeps tab and newline (text this tool
# lays out in lines), the second escapes them too (one value, one line).
_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_TERMINAL_UNSAFE_IN_A_VALUE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# What json.dumps(ensure_ascii=False) leaves raw: it escapes only C0, quote and backslash.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_text(text: str, *, one_line: bool = False) -> str:
    """``text`` with every character a terminal would act on shown as an escape (``\\x1b``, ``\\u202e``).
    ``one_line``: a line break is escaped too, so a value from a page cannot add lines to a report."""
    pattern = _TERMINAL_UNSAFE_IN_A_VALUE if one_line else _TERMINAL_UNSAFE
    return pattern.sub(_escape, text)


def terminal_safe(obj: Any) -> Any:
    """A copy of a report (dicts, lists, strings) with every string made one terminal-safe line: for the human
    text of page-derived data, built after the JSON report is kept as it is."""
    if isinstance(obj, str):
        return terminal_text(obj, one_line=True)
    if isinstance(obj, dict):
        return {k: terminal_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(terminal_safe(v) for v in obj)
    return obj


def json_text(data: Any) -> str:
    """JSON for stdout: every control and bidi character escaped (``\\u009b``), so the text is safe on a
    terminal and still parses to the same values."""
    text = json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def to_jsonable(obj: Any) -> Any:
    """Turn results (dataclasses, datetimes, enums, paths) into JSON types; a Secret is a bug, not data."""
    if isinstance(obj, Secret):
        raise TypeError("refusing to serialise a Secret")
    if is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, _dt.datetime):
        if obj.tzinfo is None:
            obj = obj.replace(tzinfo=_dt.timezone.utc)
        return obj.isoformat().replace("+00:00", "Z")
    if isinstance(obj, _dt.date):
        return obj.isoformat()
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, bytes):
        return obj.hex()
    return obj


class Output:
    """The single writer of stdout/stderr for a command run."""

    def __init__(self, stdout: IO[str], stderr: IO[str], *, json_mode: bool = False) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.json = json_mode

    def result(self, data: Any, human: str) -> None:
        """Print a command's report: ``data`` as JSON with ``--json``, else the human text."""
        text = json_text(to_jsonable(data)) if self.json else terminal_text(human)
        self.stdout.write(scrub(text).rstrip("\n") + "\n")
        self.stdout.flush()

    def line(self, text: str) -> None:
        """Progress or human detail for a person: stderr in JSON mode so stdout stays parseable."""
        stream = self.stderr if self.json else self.stdout
        stream.write(terminal_text(scrub(text)) + "\n")

    def warning(self, text: str) -> None:
        self.stderr.write(f"tmsclient: warning: {terminal_text(scrub(text))}\n")

    def error(self, err: TmsClientError) -> None:
        if self.json:
            payload = {"ok": False, "error": err.to_json()}
            self.stdout.write(scrub(json_text(payload)) + "\n")
        self.stderr.write(f"tmsclient: error: {terminal_text(scrub(err.diagnostics()))}\n")
        self.stderr.flush()


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.levelname = record.levelname.lower()
        return terminal_text(scrub(super().format(record)))


class _ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        return True


def configure_logging(stream: IO[str], verbosity: int) -> list[tuple[logging.Logger, logging.Handler, int]]:
    """Route tmsclient's log (and urllib3's at -vv) to ``stream``; returns what to undo afterwards."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    fmt = "tmsclient: %(levelname)s: %(message)s" if verbosity < 2 else "%(levelname)s %(name)s: %(message)s"
    installed: list[tuple[logging.Logger, logging.Handler, int]] = []
    names = ["tmsclient"] + (["urllib3"] if verbosity >= 2 else [])
    for name in names:
        logger = logging.getLogger(name)
        handler = logging.StreamHandler(stream)
        handler.setFormatter(_Formatter(fmt))
        handler.addFilter(_ScrubFilter())
        installed.append((logger, handler, logger.level))
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
    return installed


def restore_logging(installed: list[tuple[logging.Logger, logging.Handler, int]]) -> None:
    for logger, handler, old_level in installed:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = True
