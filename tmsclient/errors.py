"""The error hierarchy: every failure tmsclient reports is a TmsClientError with an exit code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from tmsclient.exitcodes import ExitCode


class TmsClientError(Exception):
    """Base class: a one-line message naming the cause, an optional fix, optional detail lines.

    Messages must never carry a secret: they are printed, logged and put in ``--json`` output.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.INTERNAL

    def __init__(self, message: str, *, hint: str | None = None, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = tuple(details)

    def diagnostics(self) -> str:
        """Human text: the message (and fix) on one line, then indented detail lines."""
        line = self.message if not self.hint else f"{self.message}; {self.hint}"
        return "\n".join([line, *(f"  {d}" for d in self.details)])

    def to_json(self) -> dict[str, Any]:
        return {
            "type": type(self).__name__,
            "exit_code": int(self.exit_code),
            "code": self.exit_code.name,
            "message": self.message,
            "hint": self.hint,
            "details": list(self.details),
        }


class UsageError(TmsClientError):
    exit_code = ExitCode.USAGE


class InputFileError(TmsClientError):
    exit_code = ExitCode.INPUT_FILE


class PasswordError(TmsClientError):
    """A password or passphrase is missing, or does not open the file."""

    exit_code = ExitCode.BAD_PASSWORD


class CertificateUnfitError(TmsClientError):
    exit_code = ExitCode.CERT_UNFIT


class OutputFileError(TmsClientError):
    exit_code = ExitCode.OUTPUT_FILE


class ConfigError(TmsClientError):
    exit_code = ExitCode.CONFIG


class AuthenticationError(TmsClientError):
    exit_code = ExitCode.AUTH


class NotAdministratorError(TmsClientError):
    exit_code = ExitCode.NOT_ADMIN


class TLSError(TmsClientError):
    exit_code = ExitCode.TLS


class ConnectionFailedError(TmsClientError):
    exit_code = ExitCode.CONNECTION


class RequestTimeoutError(TmsClientError):
    exit_code = ExitCode.TIMEOUT


class PageNotUnderstoodError(TmsClientError):
    exit_code = ExitCode.PAGE_NOT_UNDERSTOOD


class SiteNotFoundError(TmsClientError):
    exit_code = ExitCode.SITE_NOT_FOUND


class AmbiguousMatchError(TmsClientError):
    exit_code = ExitCode.AMBIGUOUS


class RejectedByTmsError(TmsClientError):
    """TMS showed its own error text after a Save."""

    exit_code = ExitCode.REJECTED


class ServerError(TmsClientError):
    exit_code = ExitCode.SERVER_ERROR


class OutcomeUnknownError(TmsClientError):
    """The Save may have been applied; a re-read could not tell either way."""

    exit_code = ExitCode.OUTCOME_UNKNOWN


class VerificationFailedError(TmsClientError):
    exit_code = ExitCode.VERIFY_FAILED


class TargetsFailedError(TmsClientError):
    exit_code = ExitCode.TARGETS_FAILED
