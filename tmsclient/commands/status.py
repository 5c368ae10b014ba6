"""`tmsclient status`: days until the SSO certificate expires, as a monitoring plugin (exit 0/1/2/3)."""

from __future__ import annotations

import argparse
import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tmsclient.commands import metrics
from tmsclient.commands.prepared import CUTOVER_RECORD, ROLLBACK_RECORD, PreparedDir, open_dir, parse_iso
from tmsclient.credentials import PFX_PASSWORD, add_secret_arguments
from tmsclient.errors import TmsClientError, UsageError
from tmsclient.settings import add_target_arguments, resolve_target

if TYPE_CHECKING:
    from tmsclient.commands.context import Context
    from tmsclient.tms.pageprofile import CertificateDetails

NAME = "status"
#: A bad command line is UNKNOWN to a monitoring system, not CRITICAL (2); the CLI funnel reads this.
USAGE_EXIT_CODE = 3
HELP = "days until the SSO certificate expires (on TMS, read-only, or a local .pfx); monitoring-plugin exit codes"
DESCRIPTION = """\
A monitoring plugin (Nagios, Icinga, Zabbix, Checkmk...): how many days the WebEx SSO certificate has left.
Without --pfx/--cert it logs in to TMS and reads the expiry each site's form shows (read-only: nothing is
saved); with --site only that site. With --pfx FILE (password as for `upload`) or --cert FILE it reads the
local file and never contacts TMS.

The first line is the plugin line, e.g.
  TMSCLIENT WARNING - site acme.webex.com/acme: certificate expires 2025-07-01 12:00 UTC (20 days) | days_left=20;30;14
then one line per site. Unlike every other command, status exits with the monitoring-plugin codes:
0 OK, 1 WARNING (fewer than --warn-days days left), 2 CRITICAL (fewer than --crit-days, expired, or no
certificate on the chosen site), 3 UNKNOWN (TMS could not be read, or it does not show the expiry)."""

DEFAULT_WARN_DAYS = 30
DEFAULT_CRIT_DAYS = 14
PLUGIN = "TMSCLIENT"
UTC = dt.timezone.utc


class State(enum.IntEnum):
    """Monitoring-plugin states; the value is the exit code."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


def configure(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--pfx", metavar="FILE", help="read the local .pfx instead of TMS (password needed)")
    which.add_argument(
        "--cert", metavar="FILE", help="read a local certificate (.cer/.crt/.pem/.pfx without key) instead of TMS"
    )
    add_secret_arguments(parser, PFX_PASSWORD)
    parser.add_argument(
        "--warn-days",
        metavar="N",
        default=str(DEFAULT_WARN_DAYS),
        help=f"WARNING below N days left (default {DEFAULT_WARN_DAYS})",
    )
    parser.add_argument(
        "--crit-days",
        metavar="N",
        default=str(DEFAULT_CRIT_DAYS),
        help=f"CRITICAL below N days left (default {DEFAULT_CRIT_DAYS})",
    )
    parser.add_argument(
        "--prepared",
        metavar="DIR",
        help="also report the directory `tmsclient prepare` wrote: waiting for cutover since when, and a warning "
        "when the installed certificate expires before it is cut over",
    )
    add_target_arguments(parser)
    metrics.add_arguments(parser)


@dataclass(frozen=True)
class Reading:
    """One certificate's expiry: a site's as TMS shows it, or a local file's."""

    name: str  # "site acme.webex.com/acme" or "file tms.pfx"
    expires: dt.datetime | None  # None: no certificate, or none shown
    shown: str | None  # the expiry text as TMS shows it
    thumbprint: str | None
    problem: str | None = None  # why there is no expiry

    def days_left(self, now: dt.datetime) -> int | None:
        return None if self.expires is None else (self.expires - now) // dt.timedelta(days=1)


def judge(days_left: int | None, warn: int, crit: int) -> State:
    """The state for a number of days left (None: unknown)."""
    if days_left is None:
        return State.UNKNOWN
    if days_left < crit:
        return State.CRITICAL
    if days_left < warn:
        return State.WARNING
    return State.OK


def shown_expiry(readings: Sequence[tuple[dt.datetime, dt.datetime]]) -> dt.datetime | None:
    """The moment a shown expiry stands for, from its readings (tms.verifier.parse_expiry): the earliest of
    several (03/04/2027 is March or April), so a monitor warns early rather than late. None for no reading."""
    if not readings:
        return None
    return min(low + (high - low) / 2 for low, high in readings)


def site_reading(
    name: str, details: CertificateDetails, readings: Sequence[tuple[dt.datetime, dt.datetime]], *, none_installed: bool
) -> Reading:
    """A site's expiry from the certificate rows its form shows (``readings``: of the expiry shown)."""
    if details.expires:
        when = shown_expiry(readings)
        problem = None if when else f"the expiry shown ({details.expires!r}) is not a date tmsclient reads"
        return Reading(name, when, details.expires, details.thumbprint, problem)
    if none_installed:
        return Reading(name, None, None, None, "no certificate installed")
    return Reading(
        name,
        None,
        None,
        details.thumbprint,
        "TMS does not show the certificate's expiry on this page (check the uploaded file with --pfx FILE instead)",
    )


@dataclass(frozen=True)
class Waiting:
    """A prepared directory as `status` reports it: since when it waits for its cutover, or when it was cut over."""

    directory: str
    prepared_at: dt.datetime
    thumbprint: str
    not_after: dt.datetime
    cut_over_at: dt.datetime | None
    rolled_back_at: dt.datetime | None = None

    def judge(self, state: State, now: dt.datetime) -> tuple[State, str, str]:
        """(the state, what the plugin line adds, the report line). While it waits, an installed certificate
        at WARNING or CRITICAL is said to expire before the prepared one is cut over; a prepared certificate
        that expired while waiting is CRITICAL: it can no longer be cut over."""
        about = f"thumbprint {self.thumbprint}, valid until {self.not_after:%Y-%m-%d %H:%M} UTC"
        if self.rolled_back_at is not None:
            return (
                state,
                "",
                f"INFO: prepared {self.directory}: rolled back on {self.rolled_back_at:%Y-%m-%d %H:%M} UTC, TMS "
                f"holds the previous certificate again ({about} is not in use)",
            )
        if self.cut_over_at is not None:
            return (
                state,
                "",
                f"INFO: prepared {self.directory}: cut over on {self.cut_over_at:%Y-%m-%d %H:%M} UTC ({about})",
            )
        since = f"{self.prepared_at:%Y-%m-%d %H:%M} UTC"
        line = f"prepared {self.directory}: prepared, waiting for cutover since {since} ({about})"
        if self.not_after <= now:
            return (
                State.CRITICAL,
                f"; the prepared certificate in {self.directory} expired on {self.not_after:%Y-%m-%d} while waiting "
                "for cutover: prepare a new one",
                f"CRITICAL: {line}",
            )
        if State.WARNING <= state <= State.CRITICAL:
            return (
                state,
                f"; it expires before the certificate prepared in {self.directory} (waiting for cutover since "
                f"{since}) is cut over: hand it off and run `tmsclient cutover`",
                f"{state.name}: {line}",
            )
        return state, "", f"INFO: {line}"

    def to_json(self) -> dict[str, Any]:
        return {
            "directory": self.directory,
            "state": "rolled-back" if self.rolled_back_at else "cut-over" if self.cut_over_at else "waiting",
            "prepared_at": self.prepared_at,
            "cut_over_at": self.cut_over_at,
            "rolled_back_at": self.rolled_back_at,
            "thumbprint": self.thumbprint,
            "not_after": self.not_after,
        }


def waiting_of(prepared: PreparedDir) -> Waiting:
    """What a prepared directory's manifest and records say: a cutover that succeeded, and a rollback that
    succeeded after it."""

    def when(name: str, key: str) -> dt.datetime | None:
        record = prepared.record(name)
        if record is None or not record.get("ok"):
            return None
        return parse_iso(str(record[key]))

    cut = when(CUTOVER_RECORD, "cut_over_at")
    back = when(ROLLBACK_RECORD, "rolled_back_at")
    return Waiting(
        str(prepared.path),
        prepared.prepared_at,
        str(prepared.certificate["thumbprint_sha1"]),
        prepared.not_after,
        cut,
        back if back is not None and (cut is None or back >= cut) else None,
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    from tmsclient.certs.loading import load_cert_file, load_pfx_file
    from tmsclient.certs.summary import summarize
    from tmsclient.tms.driver import Driver, match_site
    from tmsclient.tms.pageprofile import certificate_details, load_profile, yes_no
    from tmsclient.tms.session import TmsSession
    from tmsclient.tms.verifier import parse_expiry

    now = dt.datetime.now(UTC)
    metrics.check_arguments(args, ctx.out.json)
    out = metrics.quiet(ctx, args)  # --format prometheus: the exposition on stdout, these lines on stderr
    label = metrics.target_label(args.url or ctx.environ.get("TMSCLIENT_URL"), metrics.profile_of(args, ctx.environ))
    try:
        warn, crit = _thresholds(args)
    except TmsClientError as err:
        return _unknown(out, err, None)
    readings: list[Reading] = []
    waiting: Waiting | None = None
    try:
        if args.prepared:
            waiting = waiting_of(open_dir(args.prepared))
        if args.pfx or args.cert:  # a local file: TMS is never contacted
            if args.pfx:
                password = ctx.secrets.resolve(PFX_PASSWORD, args, allow_empty=True)
                assert password is not None
                cert = load_pfx_file(args.pfx, password).cert
            else:
                cert = load_cert_file(args.cert).cert
            s = summarize(cert)
            readings.append(Reading(f"file {args.pfx or args.cert}", s.not_after, None, s.thumbprint_sha1))
            chosen, label = True, "file"
        else:  # each site's certificate rows (or only --site's), read with GETs and Edit postbacks only
            target = resolve_target(args, ctx, need_password=True)
            label = metrics.target_label(target.url, metrics.profile_of(args, ctx.environ))
            profile = load_profile(target.page_profile)
            with TmsSession(target) as session:
                driver = Driver(session, profile, page_url=target.page_url)
                page = driver.settings_page()
                rows = driver.sites(page)
                for i, row in enumerate([match_site(rows, target.site)] if target.site else list(rows)):
                    # A postback opens one site per page view, so every site after the first is opened afresh.
                    view = driver.open_site(page, row) if i == 0 else driver.reopen(row)
                    details = certificate_details(view.page, profile)
                    none_installed = yes_no(profile, details.installed) is False if details.installed else False
                    readings.append(
                        site_reading(
                            f"site {row.host_name}/{row.site_name}",
                            details,
                            parse_expiry(details.expires) if details.expires else [],
                            none_installed=none_installed,
                        )
                    )
            chosen = bool(target.site)
    except TmsClientError as err:
        metrics.publish(ctx, args, target=label, readings=[], now=now, checked=False)
        return _unknown(out, err, (warn, crit))
    metrics.publish(
        ctx, args, target=label, readings=[(r.name, r.expires, r.problem) for r in readings], now=now, checked=True
    )
    return _report(out, readings, chosen, warn, crit, now, waiting=waiting)


def _thresholds(args: argparse.Namespace) -> tuple[int, int]:
    values = []
    for flag, text in (("--warn-days", args.warn_days), ("--crit-days", args.crit_days)):
        try:
            number = int(text)
        except ValueError:
            raise UsageError(f"{flag}: got {text!r}, expected a whole number of days") from None
        if number < 0:
            raise UsageError(f"{flag}: got {number}, expected 0 or more")
        values.append(number)
    warn, crit = values
    if crit > warn:
        raise UsageError(f"--crit-days {crit} is above --warn-days {warn}, expected crit <= warn")
    return warn, crit


def _report(
    ctx: Context,
    readings: list[Reading],
    chosen: bool,
    warn: int,
    crit: int,
    now: dt.datetime,
    *,
    waiting: Waiting | None = None,
) -> int:
    """The worst state among the readings that count: every reading when one site or a file was chosen, else
    only the sites that hold a certificate (a site without SSO needs none)."""
    rows = []
    for r in readings:
        left = r.days_left(now)
        if left is not None:
            judged = judge(left, warn, crit)
        elif r.problem == "no certificate installed":
            judged = State.CRITICAL if chosen else State.OK
        else:
            judged = State.UNKNOWN
        rows.append((r, left, judged))
    counted = [x for x in rows if chosen or x[0].problem != "no certificate installed"]
    reading: Reading | None = None
    days: int | None = None
    state = State.UNKNOWN
    if counted:
        reading, days, state = max(counted, key=lambda x: (x[2], -(x[1] if x[1] is not None else 10**9)))
    if reading is None:
        summary = "no site on TMS holds a certificate"
    elif days is None:
        summary = f"{reading.name}: {reading.problem}"
    else:
        assert reading.expires is not None
        verb = "expired" if days < 0 else "expires"
        summary = f"{reading.name}: certificate {verb} {reading.expires:%Y-%m-%d %H:%M} UTC ({days} days)" + (
            f"; {len(counted)} certificates checked" if len(counted) > 1 else ""
        )
    prepared_line = None
    if waiting is not None:
        state, note, prepared_line = waiting.judge(state, now)
        summary += note
    perf = f" | days_left={days};{warn};{crit}" if days is not None else ""
    first = f"{PLUGIN} {state.name} - {summary}{perf}"
    lines = [first]
    for r, d, st in rows:
        if d is not None:
            lines.append(
                f"{st.name}: {r.name} expires {r.shown or f'{r.expires:%Y-%m-%d %H:%M} UTC'} "
                f"({d} days), thumbprint {r.thumbprint or 'not shown'}"
            )
        else:
            lines.append(f"{st.name if st != State.OK else 'INFO'}: {r.name}: {r.problem}")
    if prepared_line is not None:
        lines.append(prepared_line)
    payload: dict[str, Any] = {
        "state": state.name,
        "exit_code": int(state),
        "message": first,
        "days_left": days,
        "warn_days": warn,
        "crit_days": crit,
        "certificates": [
            {
                "name": r.name,
                "state": st.name,
                "days_left": d,
                "expires": r.expires,
                "shown": r.shown,
                "thumbprint": r.thumbprint,
                "problem": r.problem,
            }
            for r, d, st in rows
        ],
    }
    if waiting is not None:
        payload["prepared"] = waiting.to_json()
    ctx.out.result(payload, "\n".join(lines))
    return int(state)


def _unknown(ctx: Context, err: TmsClientError, thresholds: tuple[int, int] | None) -> int:
    """Any failure to read is UNKNOWN (3), reported on the plugin line, never a traceback or exit 10-24."""
    first = f"{PLUGIN} UNKNOWN - {err.message}"
    payload = {
        "state": State.UNKNOWN.name,
        "exit_code": int(State.UNKNOWN),
        "message": first,
        "days_left": None,
        "warn_days": thresholds[0] if thresholds else None,
        "crit_days": thresholds[1] if thresholds else None,
        "certificates": [],
        "error": err.to_json(),
    }
    ctx.out.result(payload, first + (f"\n{err.hint}" if err.hint else ""))
    return int(State.UNKNOWN)
