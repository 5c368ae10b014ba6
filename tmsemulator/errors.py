"""The emulator's own errors and the exit codes of ``python -m tmsemulator``; nothing here is tmsclient's."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import ClassVar


class ExitCode(IntEnum):
    """What ``python -m tmsemulator`` (and its certificate maker) returns; listed in the ``--help`` epilog."""

    OK = 0
    USAGE = 2
    INPUT_FILE = 3
    OUTPUT_FILE = 6
    CONFIG = 7
    CONNECTION = 13  # the address cannot be bound


class EmulatorError(Exception):
    """Base class: a one-line message, an optional fix and detail lines. Never carries a password."""

    exit_code: ClassVar[ExitCode] = ExitCode.CONFIG

    def __init__(self, message: str, *, hint: str | None = None, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = tuple(details)

    def diagnostics(self) -> str:
        """The message (and fix) on one line, then indented detail lines."""
        line = self.message if not self.hint else f"{self.message}; {self.hint}"
        return "\n".join([line, *(f"  {d}" for d in self.details)])


class UsageError(EmulatorError):
    """Raised for a bad command line: an unknown flag, a bad value, flags that need each other."""

    exit_code = ExitCode.USAGE


class InputFileError(EmulatorError):
    """Raised when a users or sites file is missing or cannot be read as text."""

    exit_code = ExitCode.INPUT_FILE


class OutputFileError(EmulatorError):
    """Raised when a file the emulator writes (ready file, CA file, key, password file) cannot be written."""

    exit_code = ExitCode.OUTPUT_FILE


class ConfigError(EmulatorError):
    """Raised for an invalid setting: a knob, a profile name, a users or sites file's content."""

    exit_code = ExitCode.CONFIG


class ListenError(EmulatorError):
    """Raised when the emulator cannot listen on the address and port it was given."""

    exit_code = ExitCode.CONNECTION
