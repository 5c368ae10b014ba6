"""Everything a command prints goes through Output: human text or JSON on stdout, diagnostics on stderr."""

from __future__ import annotations

import datetime as _dt
import enum
import json
import logging
from dataclasses import asdict, is_dataclass
from pathlib import PurePath
from typing import IO, Any

from tmsclient.credentials import Secret, scrub
from tmsclient.errors import TmsClientError


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
        if self.json:
            text = json.dumps(to_jsonable(data), indent=2, sort_keys=False, ensure_ascii=False)
        else:
            text = human
        self.stdout.write(scrub(text).rstrip("\n") + "\n")
        self.stdout.flush()

    def line(self, text: str) -> None:
        """Progress or human detail for a person: stderr in JSON mode so stdout stays parseable."""
        stream = self.stderr if self.json else self.stdout
        stream.write(scrub(text) + "\n")

    def warning(self, text: str) -> None:
        self.stderr.write(f"tmsclient: warning: {scrub(text)}\n")

    def error(self, err: TmsClientError) -> None:
        if self.json:
            payload = {"ok": False, "error": err.to_json()}
            self.stdout.write(scrub(json.dumps(payload, indent=2, ensure_ascii=False)) + "\n")
        self.stderr.write(f"tmsclient: error: {scrub(err.diagnostics())}\n")
        self.stderr.flush()


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record.levelname = record.levelname.lower()
        return scrub(super().format(record))


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
