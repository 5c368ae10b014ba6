"""`status` readings as Prometheus text exposition, for a scrape or node_exporter's textfile collector."""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tmsclient.errors import OutputFileError, UsageError
from tmsclient.files import read_bounded, write_file_atomic
from tmsclient.output import Output

if TYPE_CHECKING:
    from tmsclient.commands.context import Context

PROMETHEUS = "prometheus"
FORMATS = ("plugin", PROMETHEUS)
#: The first line of every file this writes: a file that starts otherwise is someone else's and is never replaced
#: without --force.
HEADER = "# tmsclient status metrics (Prometheus text format 0.0.4); rewritten on every run"
#: Largest previous metrics file read back (for the last successful check): one line per site and metric.
MAX_METRICS_FILE_BYTES = 1024 * 1024

EXPIRY = "tmsclient_certificate_expiry_timestamp_seconds"
DAYS_LEFT = "tmsclient_certificate_days_left"
SUCCESS = "tmsclient_check_success"
LAST_SUCCESS = "tmsclient_last_success_timestamp_seconds"
CHECKED = "tmsclient_check_timestamp_seconds"

#: name -> HELP text, in the order they are written
FAMILIES: dict[str, str] = {
    EXPIRY: "When the site's SSO certificate expires, as TMS shows it (Unix time).",
    DAYS_LEFT: "Whole days until the site's SSO certificate expires (negative once expired), as `status` counts.",
    SUCCESS: "1 when the last check read the site's certificate expiry (or found none installed), else 0.",
    LAST_SUCCESS: "When a check last read the site's certificate expiry (Unix time).",
    CHECKED: "When the last check ran, whether or not it succeeded (Unix time).",
}

#: status's problem for a site with no certificate: not a failed check (a site without SSO needs none)
NO_CERTIFICATE = "no certificate installed"

_SAMPLE = re.compile(
    r'^(?P<name>tmsclient_[a-z_]+)\{target="(?P<target>(?:[^"\\]|\\.)*)",site="(?P<site>(?:[^"\\]|\\.)*)"\} '
    r"(?P<value>\S+)$"
)
_UNESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class SiteMetric:
    """One site's reading: ``expires`` None when TMS shows no expiry (``ok`` says whether that is a failure)."""

    site: str
    expires: dt.datetime | None
    ok: bool


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="plugin",
        help="plugin: the monitoring-plugin lines (default); prometheus: Prometheus text exposition on stdout",
    )
    parser.add_argument(
        "--metrics-file",
        metavar="FILE",
        help="also write the Prometheus metrics to FILE, atomically (for node_exporter's textfile collector); "
        "a file tmsclient wrote is replaced on every run, any other only with --force",
    )
    parser.add_argument("--force", action="store_true", help="replace --metrics-file if it exists")


def check_arguments(args: argparse.Namespace, json_mode: bool) -> None:
    if args.format == PROMETHEUS and json_mode:
        raise UsageError("--format prometheus and --json both choose the output; give one")


def label_value(text: str) -> str:
    """A label value as the text format writes it: control characters (a newline among them) and bidi or other
    format characters replaced by U+FFFD, so a page's text never reaches a parser or terminal raw; then the
    backslash and the quote escaped."""
    safe = "".join("\ufffd" if unicodedata.category(ch) in ("Cc", "Cf", "Cs") else ch for ch in text)
    return safe.replace("\\", "\\\\").replace('"', '\\"')


def target_label(url: str | None, profile: str | None) -> str:
    """The ``target`` label: the profile's name when one was chosen, else the TMS host (and port), never a path,
    query or login from the URL."""
    if profile:
        return profile
    if not url:
        return "unknown"
    try:
        parts = urlsplit(url if "://" in url else f"https://{url}")
        host = parts.hostname or "unknown"
        port = parts.port
    except ValueError:
        return "unknown"
    return f"{host}:{port}" if port else host


def site_label(reading_name: str) -> str:
    """The ``site`` label of a status reading named ``site HOST/NAME`` (the host name) or ``file PATH`` (its
    file name)."""
    kind, _, rest = reading_name.partition(" ")
    if kind == "site":
        return rest.partition("/")[0]
    return Path(rest).name


def previous_samples(text: str, target: str) -> dict[tuple[str, str], float]:
    """``(metric, site) -> value`` of ``target``'s samples in a file this module wrote before."""
    found: dict[tuple[str, str], float] = {}
    for line in text.splitlines():
        m = _SAMPLE.match(line)
        if m is None or _UNESCAPE.sub(_unescape, m["target"]) != target:
            continue
        try:
            value = float(m["value"])
        except ValueError:
            continue
        if math.isfinite(value):
            found[(m["name"], _UNESCAPE.sub(_unescape, m["site"]))] = value
    return found


def _unescape(m: re.Match[str]) -> str:
    return m.group(1)


def exposition(
    target: str,
    sites: Sequence[SiteMetric],
    *,
    now: dt.datetime,
    checked: bool,
    previous: Mapping[tuple[str, str], float] | None = None,
    site_wanted: str | None = None,
) -> str:
    """The text exposition of one check of one target. ``checked``: TMS (or the file) was read; when it was not,
    the sites of ``previous`` (this target's samples of the last file) keep their expiry and last success, with
    success 0, so an alert on a failing check and one on an old last success both fire."""
    previous = previous or {}
    stamp = now.timestamp()
    rows: dict[str, list[tuple[str, float]]] = {name: [] for name in FAMILIES}
    if checked:
        for s in sites:
            if s.expires is not None:
                rows[EXPIRY].append((s.site, s.expires.timestamp()))
                rows[DAYS_LEFT].append((s.site, float((s.expires - now) // dt.timedelta(days=1))))
            rows[SUCCESS].append((s.site, 1.0 if s.ok else 0.0))
            if s.ok:
                rows[LAST_SUCCESS].append((s.site, stamp))
            elif (LAST_SUCCESS, s.site) in previous:
                rows[LAST_SUCCESS].append((s.site, previous[(LAST_SUCCESS, s.site)]))
            rows[CHECKED].append((s.site, stamp))
    else:
        known = sorted({site for (_, site) in previous}) or [site_wanted or ""]
        for site in known:
            if (EXPIRY, site) in previous:
                expires = previous[(EXPIRY, site)]
                rows[EXPIRY].append((site, expires))
                rows[DAYS_LEFT].append((site, float((expires - stamp) // 86400)))
            rows[SUCCESS].append((site, 0.0))
            if (LAST_SUCCESS, site) in previous:
                rows[LAST_SUCCESS].append((site, previous[(LAST_SUCCESS, site)]))
            rows[CHECKED].append((site, stamp))
    return render(target, rows)


def render(target: str, rows: Mapping[str, Iterable[tuple[str, float]]]) -> str:
    lines = [HEADER]
    for name, help_text in FAMILIES.items():
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for site, value in rows.get(name, ()):
            lines.append(f'{name}{{target="{label_value(target)}",site="{label_value(site)}"}} {_number(value)}')
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def may_replace(existing: bytes | None, force: bool, path: str) -> None:
    """A metrics file is replaced on every run, but only one this wrote (or with --force)."""
    if existing is None or force or existing.startswith(HEADER.encode()):
        return
    raise OutputFileError(
        f"the metrics file {path} exists and was not written by tmsclient; refusing to replace it",
        hint="choose another file, or pass --force to replace it",
    )


def quiet(ctx: Context, args: argparse.Namespace) -> Context:
    """With --format prometheus stdout carries the exposition, so the plugin lines go to stderr."""
    if args.format != PROMETHEUS:
        return ctx
    return replace(ctx, out=Output(ctx.out.stderr, ctx.out.stderr))


def publish(
    ctx: Context,
    args: argparse.Namespace,
    *,
    target: str,
    readings: Iterable[tuple[str, dt.datetime | None, str | None]],
    now: dt.datetime,
    checked: bool,
) -> None:
    """Print the exposition (--format prometheus) and/or write it to --metrics-file; ``readings`` are `status`'s
    (name, expiry, problem), ``checked`` False when TMS could not be read."""
    if args.format != PROMETHEUS and not args.metrics_file:
        return
    sites = [
        SiteMetric(site_label(name), expires, problem is None or problem == NO_CERTIFICATE)
        for name, expires, problem in readings
    ]
    previous: dict[tuple[str, str], float] = {}
    path = args.metrics_file
    if path and os.path.lexists(path):
        data, _ = read_bounded(
            path, "metrics file", limit=MAX_METRICS_FILE_BYTES, error=OutputFileError, allow_empty=True
        )
        may_replace(data, args.force, path)
        previous = previous_samples(data.decode("utf-8", "replace"), target)
    site = getattr(args, "site", None)
    text = exposition(target, sites, now=now, checked=checked, previous=previous, site_wanted=site)
    if path:
        # Read by node_exporter, often another user; it holds no secret.
        write_file_atomic(path, text.encode("utf-8"), mode=0o644, force=True, what="metrics file")
    if args.format == PROMETHEUS:
        ctx.out.result({}, text)


def profile_of(args: argparse.Namespace, environ: Mapping[str, str]) -> str | None:
    """The profile named by --profile or $TMSCLIENT_PROFILE, for the ``target`` label (the same whether or not
    the check gets as far as resolving the target, so a failed check replaces the same series)."""
    given = getattr(args, "profile", None) or environ.get("TMSCLIENT_PROFILE") or None
    return str(given) if given else None
