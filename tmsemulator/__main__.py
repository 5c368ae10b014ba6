"""``python -m tmsemulator``: run the TMS emulator in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, NoReturn

from tmsemulator.config import (
    AUTH_MODES,
    CERT_DETAILS_MODES,
    REDIRECT_KINDS,
    EmulatorConfig,
    read_data_file,
    read_users_file,
)
from tmsemulator.errors import EmulatorError, ExitCode, UsageError
from tmsemulator.faults import DROP_MODES, Faults
from tmsemulator.files import write_atomically
from tmsemulator.profiles import DEFAULT_PROFILE, PROFILES
from tmsemulator.server import start
from tmsemulator.windows import DEFAULT_SERVER_OS, WINDOWS_VERSIONS

PROG = "python -m tmsemulator"
DEFAULT_PORT = 8443

DESCRIPTION = """\
A stand-in for the Cisco TMS 15.x web UI (IIS + ASP.NET WebForms + Windows authentication) serving the
WebEx Settings pages under /tms/, for tests, demos and pipelines without a staging TMS.
It serves HTTPS with a certificate it makes at start (the CA file to trust is printed and written to the
ready file), authenticates with real NTLM/Negotiate (or Basic), and checks uploaded .pfx files as a Windows
host would. Test-only endpoints live under /__emulator/ (GET state, POST reset, POST faults, POST
expire-sessions). Passwords are never printed. See docs/emulator.md."""

EPILOG = """\
users file: one DOMAIN:USER:PASSWORD per line (an empty DOMAIN is allowed; # starts a comment). Users log in
as DOMAIN\\user, user@DOMAIN or user. Without --users one administrator TMSLAB\\admin is created with a random
password, written to a 0600 file whose path is printed.

exit: 0 after Ctrl-C or SIGTERM (a clean stop); 2 for a bad command line; 3 for an unreadable users, sites or
capture file; 6 when the ready file cannot be written; 7 for an invalid setting (or a file that is not a
capture); 13 when the address cannot be bound."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, hint=f"see `{PROG} --help`")


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    net = parser.add_argument_group("network")
    net.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1; loopback unless you say otherwise)",
    )
    net.add_argument(
        "--port",
        type=_non_negative_int,
        default=DEFAULT_PORT,
        help=f"port to listen on; 0 picks a free one (default: {DEFAULT_PORT})",
    )
    net.add_argument(
        "--http",
        action="store_true",
        help="serve plain HTTP instead of HTTPS (clients must allow http explicitly)",
    )
    net.add_argument(
        "--tls-san",
        action="append",
        default=[],
        metavar="NAME",
        help="extra DNS name or IP for the server certificate (repeatable; localhost, 127.0.0.1 and "
        "::1 are always in it)",
    )
    net.add_argument(
        "--max-request-kb",
        type=_non_negative_int,
        default=4096,
        metavar="KB",
        help="largest request body; bigger ones get ASP.NET's 'Maximum request length exceeded.' "
        "(default: 4096, ASP.NET's maxRequestLength)",
    )

    auth = parser.add_argument_group("authentication")
    auth.add_argument(
        "--auth",
        choices=AUTH_MODES,
        default="ntlm",
        help="ntlm: Windows authentication, NTLM and Negotiate bound to the connection (default); "
        "negotiate: only Negotiate offered; basic: HTTP Basic on every request",
    )
    auth.add_argument(
        "--redirect",
        action="append",
        default=[],
        choices=REDIRECT_KINDS,
        help="a same-origin redirect around the login (repeatable): start-page (/tms/ -> /tms/default.aspx "
        "after the login), trailing-slash (/tms -> /tms/ with 301), before-login (/tms/ redirected before "
        "the first 401)",
    )
    auth.add_argument(
        "--users",
        metavar="FILE",
        help="users file, DOMAIN:USER:PASSWORD per line (default: one generated administrator)",
    )
    auth.add_argument(
        "--admins",
        metavar="LIST",
        help="comma-separated Site Administrators (user or DOMAIN\\user); others get 'Access Denied' "
        "on Configuration pages (default: every user is one)",
    )
    auth.add_argument(
        "--extended-protection",
        action="store_true",
        help="require NTLM channel binding to the TLS certificate (IIS Extended Protection)",
    )

    pages = parser.add_argument_group("pages and data")
    pages.add_argument(
        "--page-profile",
        default=DEFAULT_PROFILE,
        choices=sorted(PROFILES),
        metavar="NAME",
        help=f"labels, ids and layout of the WebEx pages: {', '.join(PROFILES)} "
        f"(default: {DEFAULT_PROFILE}; see --list-profiles)",
    )
    pages.add_argument("--list-profiles", action="store_true", help="list the page profiles and exit")
    pages.add_argument(
        "--capture",
        metavar="FILE",
        help="serve the pages of a tmsclient capture (`tmsclient discover --capture FILE`) instead of a page "
        "profile's, with this emulator's own view state, event validation and storage",
    )
    pages.add_argument(
        "--webex-page-id",
        type=_non_negative_int,
        metavar="N",
        help="serve the WebEx Settings page under pageId N instead of the profile's",
    )
    pages.add_argument(
        "--server-os",
        choices=WINDOWS_VERSIONS,
        default=DEFAULT_SERVER_OS,
        help="Windows Server version whose .pfx import rules apply: 2012r2 and 2016 refuse "
        f"AES-256/PBES2 and SHA-256-MAC files (default: {DEFAULT_SERVER_OS})",
    )
    pages.add_argument(
        "--cert-details",
        choices=CERT_DETAILS_MODES,
        default="summary",
        help="what the site form shows of a stored certificate: summary (subject, expiry, SHA-1 "
        "thumbprint) or none (only whether one is installed) (default: summary)",
    )
    pages.add_argument(
        "--sites",
        metavar="FILE",
        help='initial data: a JSON list of sites, or {"sites": [...], "enable_webex": true, '
        '"add_webex_to_all": false} (default: three ACME sites, one without a certificate; see '
        "docs/emulator.md for the site fields)",
    )
    pages.add_argument(
        "--state-dir",
        metavar="DIR",
        help="where the CA file, TLS key and generated password go (default: a private temporary "
        "directory removed at exit)",
    )
    pages.add_argument(
        "--ready-file",
        metavar="PATH",
        help='once listening, write {"url", "ca_file", "pid", ...} as JSON to PATH; removed at exit',
    )

    faults = parser.add_argument_group("fault injection (also settable at run time: POST /__emulator/faults)")
    faults.add_argument(
        "--fault-save-500",
        action="store_true",
        help="answer every site Save with an ASP.NET error page, HTTP 500; nothing is stored",
    )
    faults.add_argument(
        "--fault-drop-after-save",
        choices=[m for m in DROP_MODES if m != "off"],
        help="read a Save's whole body, then close the connection without answering; 'applied' "
        "stores the Save first, 'not-applied' stores nothing",
    )
    faults.add_argument(
        "--fault-delay-ms",
        type=_non_negative_int,
        default=0,
        metavar="MS",
        help="hold every answer back MS milliseconds",
    )
    faults.add_argument(
        "--fault-session-expiry-requests",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help="after N authenticated requests on a connection, the next one gets a fresh 401 and must log in again",
    )
    faults.add_argument(
        "--fault-session-expiry-seconds",
        type=_non_negative_float,
        default=0.0,
        metavar="S",
        help="a connection authenticated more than S seconds ago gets a fresh 401",
    )
    faults.add_argument(
        "--fault-reauth-every-request",
        action="store_true",
        help="IIS authPersistSingleRequest: every request needs its own NTLM handshake",
    )
    faults.add_argument(
        "--fault-layout-change",
        metavar="PROFILE",
        choices=sorted(PROFILES),
        help="after the next GET of a WebEx page, switch to page profile PROFILE (once): a POST "
        "built from the old page then fails with HTTP 500 'Failed to load viewstate' if the "
        "control ids differ, or is answered with the new labels if only labels differ",
    )

    out = parser.add_argument_group("output")
    out.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log requests to stderr (-v: one access line per request, -vv: debug); never secrets",
    )
    return parser


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    users = read_users_file(args.users) if args.users else ()
    admins = tuple(a.strip() for a in args.admins.split(",") if a.strip()) if args.admins else None
    if admins is not None and not users:
        raise UsageError("--admins needs --users", hint="the generated user is always an administrator")
    faults = Faults(
        save_500=args.fault_save_500,
        drop_after_save=args.fault_drop_after_save or "off",
        delay_ms=args.fault_delay_ms,
        session_expiry_requests=args.fault_session_expiry_requests,
        session_expiry_seconds=args.fault_session_expiry_seconds,
        reauth_every_request=args.fault_reauth_every_request,
        layout_change=args.fault_layout_change or "",
    )
    return EmulatorConfig(
        host=args.host,
        port=args.port,
        tls=not args.http,
        auth=args.auth,
        users=users,
        admins=admins,
        page_profile=args.page_profile,
        webex_page_id=args.webex_page_id,
        server_os=args.server_os,
        cert_details=args.cert_details,
        **(read_data_file(args.sites) if args.sites else {}),
        faults=faults,
        state_dir=args.state_dir,
        tls_names=tuple(args.tls_san),
        extended_protection=args.extended_protection,
        max_request_bytes=args.max_request_kb * 1024,
        redirects=tuple(args.redirect),
        capture=args.capture,
    )


def _write_ready_file(path: Path, payload: dict[str, object]) -> None:
    # Atomic: a watcher never reads half a file.
    write_atomically(path, (json.dumps(payload, indent=2) + "\n").encode(), mode=0o644, what="ready file")


def _list_profiles(stdout: IO[str]) -> None:
    for profile in PROFILES.values():
        marker = " (default)" if profile.name == DEFAULT_PROFILE else ""
        stdout.write(f"{profile.name}{marker}\n  {profile.description}\n")


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Run until Ctrl-C, SIGTERM or ``stop`` is set; returns the exit code."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    stop = stop or threading.Event()
    handler: logging.Handler | None = None
    logger = logging.getLogger("tmsemulator")
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            args = build_parser().parse_args(argv)  # --help and usage text go to this run's streams
        if args.list_profiles:
            _list_profiles(stdout)
            return 0
        if args.verbose:
            handler = logging.StreamHandler(stderr)
            handler.setFormatter(logging.Formatter("tms-emulator: %(message)s"))
            logger.addHandler(handler)
            logger.setLevel(logging.INFO if args.verbose == 1 else logging.DEBUG)
        config = config_from_args(args)
        emulator = start(config)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except EmulatorError as err:
        stderr.write(f"tms-emulator: error: {err.diagnostics()}\n")
        return int(err.exit_code)
    ready = Path(args.ready_file) if args.ready_file else None
    code = int(ExitCode.OK)
    previous: dict[int, object] = {}
    if threading.current_thread() is threading.main_thread():
        # Handled explicitly: a shell starts background jobs with SIGINT ignored, and Ctrl-C must still stop.
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    try:
        if ready is not None:
            _write_ready_file(
                ready,
                {
                    "url": emulator.url,
                    "ca_file": emulator.ca_file,
                    "pid": os.getpid(),
                    "state_url": f"{emulator.base_url}/__emulator/state",
                    "admin_password_file": str(emulator.admin_password_file) if emulator.admin_password_file else None,
                    "users": [u.login for u in emulator.directory.users],
                },
            )
        scheme = "NTLM/Negotiate" if config.auth == "ntlm" else "Basic"
        serving = f"capture {config.capture}" if config.capture else f"page profile {config.page_profile}"
        stdout.write(
            f"TMS emulator ({serving}, Windows Server {config.server_os}, {scheme}) listening on {emulator.url}\n"
        )
        if emulator.ca_file:
            stdout.write(f"CA file: {emulator.ca_file}\n")
        if emulator.admin_password_file:
            where = f"password in {emulator.admin_password_file} (mode 0600)"
        else:
            where = f"password from {args.users}"
        for user in emulator.directory.users:
            role = "Site Administrator" if emulator.directory.is_admin(user) else "not an administrator"
            stdout.write(f"user {user.login} ({role}): {where}\n")
        # The ready file is written first: whoever waits for the last line may read it at once.
        stdout.write(f"test API: {emulator.base_url}/__emulator/state\nPress Ctrl-C to stop.\n")
        stdout.flush()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    except EmulatorError as err:
        stderr.write(f"tms-emulator: error: {err.diagnostics()}\n")
        code = int(err.exit_code)
    finally:
        emulator.stop()
        if ready is not None and code == ExitCode.OK:
            ready.unlink(missing_ok=True)
        for number, old in previous.items():
            signal.signal(number, old)  # type: ignore[arg-type]
        if handler is not None:
            logger.removeHandler(handler)
    stdout.write("TMS emulator stopped.\n")
    stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
