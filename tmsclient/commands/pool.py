"""Several TMS targets in one run: each its own settings and session, a bounded pool, one report, one exit code."""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from tmsclient.config import Config
from tmsclient.credentials import Secret, StdinGate
from tmsclient.errors import ConfigError, TmsClientError, UsageError
from tmsclient.exitcodes import ExitCode
from tmsclient.settings import TargetSettings, add_target_arguments, find_config, requested_profiles

if TYPE_CHECKING:
    from tmsclient.commands.context import Context

log = logging.getLogger(__name__)

DEFAULT_MAX_PARALLEL = 4
#: Each target holds one TCP connection and a thread; more than this is a mistake, not a speed-up.
MAX_PARALLEL_LIMIT = 64

OK, FAILED, SKIPPED = "ok", "failed", "skipped"

J = TypeVar("J")
R = TypeVar("R")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The target flags with a repeatable ``--profile`` and ``--all-profiles``, and how several targets run."""
    add_target_arguments(parser, many=True)
    group = parser.add_argument_group("several targets (--profile A --profile B, or --all-profiles)")
    group.add_argument(
        "--max-parallel",
        type=int,
        metavar="N",
        default=None,
        help=f"run at most N targets at once (default {DEFAULT_MAX_PARALLEL})",
    )
    group.add_argument(
        "--stop-on-first-failure",
        action="store_true",
        help="staged rollout: one target at a time in the given order; after the first that "
        "fails (or does not verify) the rest are skipped, untouched",
    )


@dataclass(frozen=True)
class Selection:
    """Which profiles run, and how."""

    names: tuple[str, ...]
    max_parallel: int
    stop_on_first_failure: bool
    #: The config file, read once for every target (pass it to resolve_target as ``config=``).
    config: Config | None = None


def selection(args: argparse.Namespace, ctx: Context) -> Selection | None:
    """The targets of a many-target run, or None for the one-target run (no --all-profiles, one --profile)."""
    named = requested_profiles(args)
    every = bool(getattr(args, "all_profiles", False))
    limit = args.max_parallel
    if limit is not None and not 1 <= limit <= MAX_PARALLEL_LIMIT:
        raise UsageError(f"--max-parallel {limit} is out of range, expected 1 to {MAX_PARALLEL_LIMIT}")
    if every and named:
        raise UsageError("--all-profiles conflicts with --profile", hint="give one or the other")
    if not every and len(named) <= 1:
        return None
    config = find_config(args, ctx.environ)
    if every:
        names = config.names if config is not None else ()
        if not names:
            raise ConfigError(
                "--all-profiles found no profiles: there is no config file, or it defines no [profiles.NAME] table",
                hint="point --config (or $TMSCLIENT_CONFIG) at a file with profiles",
            )
    else:
        names = named
    if getattr(args, "url", None):
        raise UsageError(
            "--url names one TMS, but several targets were selected",
            hint="give each profile its own url in the config file",
        )
    stop = bool(args.stop_on_first_failure)
    if stop and limit not in (None, 1):
        raise UsageError(
            f"--stop-on-first-failure runs one target at a time; got --max-parallel {limit}",
            hint="drop --max-parallel, or drop --stop-on-first-failure to run them at once",
        )
    return Selection(tuple(names), 1 if stop else (limit or DEFAULT_MAX_PARALLEL), stop, config)


class _SharedStdin(StdinGate):
    """stdin read once and given to every target asking for the same secret (the same flag for all)."""

    def __init__(self, gate: StdinGate) -> None:
        super().__init__(gate.stream, gate.claimed_by)
        self._read: dict[str, Secret] = {}

    def read_secret(self, what: str) -> Secret:
        if what not in self._read:
            self._read[what] = super().read_secret(what)
        return self._read[what]


def shared_context(ctx: Context) -> Context:
    """The context for resolving many targets: a secret given once on stdin serves each target."""
    return dataclasses.replace(ctx, secrets=dataclasses.replace(ctx.secrets, stdin=_SharedStdin(ctx.secrets.stdin)))


@dataclass(frozen=True)
class Prepared(Generic[J]):
    """A target resolved (settings, secrets) and what to do there."""

    target: TargetSettings
    job: J


@dataclass(frozen=True)
class TargetOutcome:
    """How one target went; ``result`` is what the work returned, ``error`` why it failed."""

    name: str
    status: str  # ok, failed, skipped
    url: str | None = None
    site: str | None = None
    result: Any = None
    error: TmsClientError | None = None
    elapsed_s: float | None = None
    note: str | None = None

    @property
    def exit_code(self) -> int | None:
        if self.status == OK:
            return 0
        return int(self.error.exit_code) if self.error is not None else None


def run_targets(
    selection: Selection,
    prepare: Callable[[str], Prepared[J]],
    work: Callable[[TargetSettings, J], R],
) -> list[TargetOutcome]:
    """Resolve each target (here, in order: prompts and warnings stay on this thread), then run ``work`` for
    each on its own session. Staged (``stop_on_first_failure``): one at a time, and nothing after a failure.
    A failure is a row, never the end of the run; the outcomes come back in the selection's order."""
    if selection.stop_on_first_failure:
        return _staged(selection.names, prepare, work)
    outcomes: dict[str, TargetOutcome] = {}
    ready: list[tuple[str, Prepared[J]]] = []
    for name in selection.names:
        try:
            ready.append((name, prepare(name)))
        except TmsClientError as err:
            outcomes[name] = TargetOutcome(name, FAILED, error=err, note="settings")
    # Every target is resolved before the first starts: resolving is quick, and workers already busy with
    # TLS and NTLM would slow the resolving of the rest (measured: bench/many_targets.py).
    workers = max(1, min(selection.max_parallel, len(ready)))
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tmsclient-target")
    try:
        futures = [pool.submit(_attempt, name, prep, work) for name, prep in ready]
        for future in concurrent.futures.as_completed(futures):
            outcome = future.result()
            outcomes[outcome.name] = outcome
            log.info("target %s: %s", outcome.name, outcome.status)
    except BaseException:
        # Ctrl-C: targets not started stay untouched; running ones finish their request and are dropped.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [outcomes[name] for name in selection.names]


def run_one(name: str, prepare: Callable[[str], Prepared[J]], work: Callable[[TargetSettings, J], R]) -> TargetOutcome:
    """One target, here and now: a failure (settings or work) is the outcome, not an exception."""
    try:
        prep = prepare(name)
    except TmsClientError as err:
        return TargetOutcome(name, FAILED, error=err, note="settings")
    return _attempt(name, prep, work)


def _staged(
    names: Sequence[str], prepare: Callable[[str], Prepared[J]], work: Callable[[TargetSettings, J], R]
) -> list[TargetOutcome]:
    outcomes: list[TargetOutcome] = []
    for i, name in enumerate(names):
        outcome = run_one(name, prepare, work)
        outcomes.append(outcome)
        if outcome.status != OK:
            why = f"not run: target {name} failed first (--stop-on-first-failure)"
            outcomes += [TargetOutcome(rest, SKIPPED, note=why) for rest in names[i + 1 :]]
            break
    return outcomes


def _attempt(name: str, prep: Prepared[J], work: Callable[[TargetSettings, J], R]) -> TargetOutcome:
    target = prep.target
    started = time.monotonic()
    error: TmsClientError
    try:
        result = work(target, prep.job)
    except TmsClientError as err:
        log.info("target %s failed: %s", name, err.message)
        error = err
    except Exception as exc:  # one target's bug must not lose the other targets' report
        log.debug("target %s: internal error", name, exc_info=True)
        error = TmsClientError(
            f"internal error: {type(exc).__name__}", hint="rerun with -vv for details and report it as a bug"
        )
    else:
        return TargetOutcome(name, OK, target.url, target.site, result=result, elapsed_s=_since(started))
    return TargetOutcome(name, FAILED, target.url, target.site, error=error, elapsed_s=_since(started))


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)


def exit_code(outcomes: Sequence[TargetOutcome]) -> int:
    """0 when every target succeeded, else TARGETS_FAILED (each row carries its own code)."""
    return 0 if outcomes and all(o.status == OK for o in outcomes) else int(ExitCode.TARGETS_FAILED)


def rows(outcomes: Sequence[TargetOutcome], detail: Callable[[Any], dict[str, Any]]) -> list[dict[str, Any]]:
    """One JSON object per target; ``detail`` turns a successful result into the row's own fields."""
    out = []
    for o in outcomes:
        row: dict[str, Any] = {
            "target": o.name,
            "status": o.status,
            "url": o.url,
            "site": o.site,
            "exit_code": o.exit_code,
            "elapsed_s": o.elapsed_s,
        }
        if o.status == OK:
            row.update(detail(o.result))
        if o.error is not None:
            row["error"] = o.error.to_json()
        if o.note:
            row["note"] = o.note
        out.append(row)
    return out


def report(
    outcomes: Sequence[TargetOutcome], detail: Callable[[Any], dict[str, Any]], columns: Sequence[tuple[str, str]]
) -> tuple[dict[str, Any], str]:
    """The many-target report: ``(--json object, human table)``. ``columns`` adds (heading, row key) pairs
    from ``detail`` between the status and the time."""
    table_rows = rows(outcomes, detail)
    code = exit_code(outcomes)
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in (OK, FAILED, SKIPPED)}
    payload = {"ok": code == 0, "exit_code": code, "counts": counts, "targets": table_rows}
    return payload, render_table(table_rows, columns) + "\n" + summary_line(counts, code)


def summary_line(counts: dict[str, int], code: int) -> str:
    total = sum(counts.values())
    name = ExitCode(code).name if code in ExitCode._value2member_map_ else str(code)
    return (
        f"{counts[OK]} of {total} target{'s' if total != 1 else ''} ok, {counts[FAILED]} failed, "
        f"{counts[SKIPPED]} skipped: exit {code} ({name})"
    )


def render_table(table_rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    heads = ["target", "status", *(h for h, _ in columns), "exit", "time", "detail"]
    lines = []
    for row in table_rows:
        if row["status"] == OK:
            detail = row.get("summary", "")
        elif "error" in row:
            detail = row["error"]["message"]
        else:
            detail = row.get("note", "")
        time_s = f"{row['elapsed_s']:.2f}s" if row["elapsed_s"] is not None else "-"
        exit_s = "-" if row["exit_code"] is None else str(row["exit_code"])
        lines.append([row["target"], row["status"], *(_cell(row.get(k)) for _, k in columns), exit_s, time_s, detail])
    widths = [max(len(str(c)) for c in col) for col in zip(heads, *lines, strict=False)]
    fmt = [f"{h:<{w}}" for h, w in zip(heads[:-1], widths, strict=False)]
    out = ["  ".join([*fmt, heads[-1]])]
    for cells in lines:
        out.append("  ".join([*(f"{c!s:<{w}}" for c, w in zip(cells[:-1], widths, strict=False)), str(cells[-1])]))
    return "\n".join(line.rstrip() for line in out)


def _cell(value: Any) -> str:
    return "-" if value in (None, "") else str(value)
