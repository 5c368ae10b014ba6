"""The error hierarchy: every failure tmsclient reports is a TmsClientError with an exit code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from tmsclient.exitcodes import ExitCode


class TmsClientError(Exception):
    """Base class: a one-line message naming the cause, an optional fix, optional detail lines.

    Raised as itself only for an internal error (a bug, exit 70); every expected failure is a subclass whose
    exit code names its kind. Messages must never carry a secret: they are printed, logged and put in
    ``--json`` output.
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
    """Raised when the command line cannot run as given: an unknown or missing option, flags that conflict, a
    value out of range, or stdin claimed by two secrets. argparse's own complaints arrive as this too."""

    exit_code = ExitCode.USAGE


class InputFileError(TmsClientError):
    """Raised when an input file (certificate, key, .pfx, password file, page profile) is missing, unreadable,
    empty, too large, or not in a format tmsclient reads."""

    exit_code = ExitCode.INPUT_FILE


class PasswordError(TmsClientError):
    """Raised when a password or passphrase is missing (no flag, variable, profile value or prompt gave it), is
    empty, names an unset variable, or does not open the .pfx or private key it is for."""

    exit_code = ExitCode.BAD_PASSWORD


class CertificateUnfitError(TmsClientError):
    """Raised when the key, certificate or chain is not fit for TMS: the key does not match, no key, expired, a
    too-weak key, or a .pfx the target Windows Server cannot import (the `check` rules)."""

    exit_code = ExitCode.CERT_UNFIT


class OutputFileError(TmsClientError):
    """Raised when an output file exists (and --force is not given), its folder is missing, or it cannot be
    written."""

    exit_code = ExitCode.OUTPUT_FILE


class ConfigError(TmsClientError):
    """Raised when the config file or a setting is invalid (bad TOML, an unknown key, a value of the wrong form,
    an inline secret in a file others can read), a required setting is missing, or the OS keyring cannot be
    read."""

    exit_code = ExitCode.CONFIG


class AuthenticationError(TmsClientError):
    """Raised when TMS refuses the user name or password (HTTP 401 after the login handshake), or a later
    request finds the login gone."""

    exit_code = ExitCode.AUTH


class KerberosError(AuthenticationError):
    """Raised when a Kerberos login cannot start or is refused for a reason the Kerberos library names (a wrong
    password or unknown user at the KDC, or a failure without a code of its own below). The subclasses have
    their own exit codes; none of them is ever followed by another login scheme with the password."""


class KerberosNoTicketError(KerberosError):
    """Raised when ``--auth negotiate`` has no password and no ticket: the cache named by $KRB5CCNAME (or the
    default one) is missing or empty."""

    exit_code = ExitCode.KRB_NO_TICKET


class KerberosTicketExpiredError(KerberosError):
    """Raised when the ticket in the cache has expired (kinit again)."""

    exit_code = ExitCode.KRB_TICKET_EXPIRED


class KerberosClockSkewError(KerberosError):
    """Raised when the KDC refuses a request because this machine's clock and the KDC's differ by more than
    the realm allows (5 minutes by default), or a ticket is not valid yet for the same reason."""

    exit_code = ExitCode.KRB_CLOCK_SKEW


class KerberosUnknownServiceError(KerberosError):
    """Raised when the KDC has no service principal for the TMS host name (HTTP/<host>): the message shows the
    name asked for."""

    exit_code = ExitCode.KRB_UNKNOWN_SERVICE


class KerberosKdcUnreachableError(KerberosError):
    """Raised when no KDC of the realm answers (none configured, refused, timed out)."""

    exit_code = ExitCode.KRB_KDC_UNREACHABLE


class MutualAuthenticationError(KerberosError):
    """Raised when TMS accepts a Kerberos login without proving it is the service the ticket was for: no
    answer token, or one that does not verify. The page it sent is not used."""

    exit_code = ExitCode.KRB_MUTUAL_AUTH


class NotAdministratorError(TmsClientError):
    """Raised when the login works but TMS denies the pages a TMS Site Administrator sees."""

    exit_code = ExitCode.NOT_ADMIN


class TLSError(TmsClientError):
    """Raised when the TLS connection fails (an untrusted or invalid server certificate, a handshake error), or
    when a plain http:// URL is refused."""

    exit_code = ExitCode.TLS


class ConnectionFailedError(TmsClientError):
    """Raised when TMS cannot be reached (name resolution, refused connection) or the connection breaks."""

    exit_code = ExitCode.CONNECTION


class RequestTimeoutError(TmsClientError):
    """Raised when TMS does not answer a request within --timeout (or --upload-timeout for the Save)."""

    exit_code = ExitCode.TIMEOUT


class PageNotUnderstoodError(TmsClientError):
    """Raised when a page does not hold what the page profile expects: a menu entry, a form, a labelled field,
    or a link that leaves the TMS origin."""

    exit_code = ExitCode.PAGE_NOT_UNDERSTOOD


class SiteNotFoundError(TmsClientError):
    """Raised when no WebEx site on TMS matches --site."""

    exit_code = ExitCode.SITE_NOT_FOUND


class AmbiguousMatchError(TmsClientError):
    """Raised when two or more sites or fields match what was asked for; the message lists them."""

    exit_code = ExitCode.AMBIGUOUS


class RejectedByTmsError(TmsClientError):
    """Raised when TMS shows its own error text after a Save."""

    exit_code = ExitCode.REJECTED


class ServerError(TmsClientError):
    """Raised when TMS answers HTTP 5xx or an ASP.NET error page."""

    exit_code = ExitCode.SERVER_ERROR


class OutcomeUnknownError(TmsClientError):
    """Raised when the Save may have been applied and a re-read could not tell either way."""

    exit_code = ExitCode.OUTCOME_UNKNOWN


class VerificationFailedError(TmsClientError):
    """Raised when the re-read site does not show what was intended (got X, expected Y)."""

    exit_code = ExitCode.VERIFY_FAILED


class TargetsFailedError(TmsClientError):
    """The outcome of a run of several targets of which at least one failed (exit 24): `renew` reports it as the
    run's error, never raises it, and each target's row keeps its own error."""

    exit_code = ExitCode.TARGETS_FAILED
