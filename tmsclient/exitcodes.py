"""Process exit codes: one per kind of failure, documented in the README table."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of every tmsclient command (``status`` alone uses monitoring-plugin codes)."""

    OK = 0
    USAGE = 2
    INPUT_FILE = 3
    BAD_PASSWORD = 4
    CERT_UNFIT = 5
    OUTPUT_FILE = 6
    CONFIG = 7
    AUTH = 10
    NOT_ADMIN = 11
    TLS = 12
    CONNECTION = 13
    TIMEOUT = 14
    PAGE_NOT_UNDERSTOOD = 15
    SITE_NOT_FOUND = 16
    AMBIGUOUS = 17
    REJECTED = 20
    SERVER_ERROR = 21
    OUTCOME_UNKNOWN = 22
    VERIFY_FAILED = 23
    TARGETS_FAILED = 24
    PREPARED_CHANGED = 25
    PAGE_CHANGED = 26
    KRB_NO_TICKET = 30
    KRB_TICKET_EXPIRED = 31
    KRB_CLOCK_SKEW = 32
    KRB_UNKNOWN_SERVICE = 33
    KRB_KDC_UNREACHABLE = 34
    KRB_MUTUAL_AUTH = 35
    INTERNAL = 70
    INTERRUPTED = 130


#: One line per code for the README table and ``tmsclient --help``.
DESCRIPTIONS: dict[ExitCode, str] = {
    ExitCode.OK: "success (for `check`: the file is fit, warnings allowed)",
    ExitCode.USAGE: "bad command line: unknown option, missing argument, conflicting flags",
    ExitCode.INPUT_FILE: "an input file is missing, unreadable, empty, too large or not the expected format",
    ExitCode.BAD_PASSWORD: "a password or passphrase is missing or wrong (.pfx password, key passphrase)",
    ExitCode.CERT_UNFIT: "the certificate/key is not fit for TMS (expired, no key, key mismatch, algorithms)",
    ExitCode.OUTPUT_FILE: "an output file exists (use --force) or cannot be written",
    ExitCode.CONFIG: "the config file or a setting is invalid, or a required setting is missing",
    ExitCode.AUTH: "TMS refused the user name or password (HTTP 401)",
    ExitCode.NOT_ADMIN: "logged in, but the user is not a TMS Site Administrator",
    ExitCode.TLS: "TLS failed: untrusted or invalid server certificate, or plain http refused",
    ExitCode.CONNECTION: "could not connect to TMS, or the connection broke",
    ExitCode.TIMEOUT: "TMS did not answer in time",
    ExitCode.PAGE_NOT_UNDERSTOOD: "a page, menu entry or labelled field was not found where expected",
    ExitCode.SITE_NOT_FOUND: "no WebEx site matches --site",
    ExitCode.AMBIGUOUS: "two or more sites or fields match; the message lists them",
    ExitCode.REJECTED: "TMS showed an error on Save (its own words are in the message)",
    ExitCode.SERVER_ERROR: "TMS answered HTTP 5xx or an ASP.NET error page",
    ExitCode.OUTCOME_UNKNOWN: "the Save may or may not have been applied and a re-read could not tell",
    ExitCode.VERIFY_FAILED: "the re-read page does not show what was intended (got X, expected Y)",
    ExitCode.TARGETS_FAILED: "several targets were run and at least one failed (see the per-target report)",
    ExitCode.PREPARED_CHANGED: (
        "a prepared directory no longer matches its manifest (a file changed or is missing), or has no previous "
        ".pfx to roll back to"
    ),
    ExitCode.PAGE_CHANGED: (
        "the site's page changed since `prepare`'s preflight in a way that breaks the plan; nothing was saved"
    ),
    ExitCode.KRB_NO_TICKET: "Kerberos: no ticket (kinit first, or give the user name and password)",
    ExitCode.KRB_TICKET_EXPIRED: "Kerberos: the ticket has expired (kinit again)",
    ExitCode.KRB_CLOCK_SKEW: "Kerberos: this machine's clock and the KDC's differ too much",
    ExitCode.KRB_UNKNOWN_SERVICE: "Kerberos: the KDC knows no service principal HTTP/<host> for the TMS host name",
    ExitCode.KRB_KDC_UNREACHABLE: "Kerberos: no KDC of the realm could be reached",
    ExitCode.KRB_MUTUAL_AUTH: "Kerberos: TMS did not prove it is the service the ticket was for (mutual auth)",
    ExitCode.INTERNAL: "a bug in tmsclient; rerun with -vv and report it",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
}
