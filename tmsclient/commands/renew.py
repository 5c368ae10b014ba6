"""`tmsclient renew`: check, bundle or convert, export the .cer, upload, verify: one report, one exit code."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tmsclient.certs.pfxoptions import DEFAULT_FRIENDLY_NAME
from tmsclient.commands.bundle import KEY_PASSPHRASE
from tmsclient.commands.pool import (
    Prepared,
    Selection,
    TargetOutcome,
    exit_code,
    render_table,
    selection,
    shared_context,
)
from tmsclient.commands.pool import add_arguments as add_targets_arguments
from tmsclient.commands.sources import RenewalSource, add_source_arguments, source_from_args
from tmsclient.config import TARGET_OS_CHOICES
from tmsclient.credentials import PFX_PASSWORD, add_secret_arguments, scrub
from tmsclient.errors import TargetsFailedError, TmsClientError, VerificationFailedError
from tmsclient.exitcodes import ExitCode
from tmsclient.settings import resolve_target

if TYPE_CHECKING:
    from tmsclient.commands.context import Context
    from tmsclient.commands.renew_steps import Built, Outputs

NAME = "renew"
HELP = "after a renewal: check, bundle/convert, export the .cer, upload and verify; one report, one exit code"
DESCRIPTION = """\
The whole renewal in one step, from PEM files (--cert, --key, --chain), a .pfx (--pfx), or what an ACME
client hands its hook (--from-certbot, --from-lego, --from-win-acme CACHEFILE, --from-acme-sh ...):

  settings    resolve the TMS target(s): flag, environment, config profile (several targets: flag, profile,
              environment); nothing is sent yet
  input       read the key, certificate and chain (an encrypted key's passphrase: --key-passphrase-*)
  check       the `check` rules on key, certificate and chain; the first error stops the run here,
              before anything is written or sent to TMS
  bundle      (or convert) the Windows-compatible .pfx (3DES, SHA-1 MAC, 2048 iterations), in memory;
              --out FILE keeps it (mode 0600)
  export-cer  --cer-out FILE: the Base64 PEM .cer for the WebEx team
  upload      log in, Save the site's certificate once (`unchanged` when TMS already shows it, unless
              --reupload)
  verify      re-read the site and compare

Each step is reported with its status (ok, failed, skipped, not-run); the exit code is the first failure's
(24 when several targets ran and any failed). Files are never overwritten without --force.

The .pfx password: a .pfx keeps its own (--pfx-password-env/-file/-stdin, $TMSCLIENT_PFX_PASSWORD, prompt); from
PEM files, the one given the same way, else --generate-password FILE, else (without --out) a random one made
for this upload and kept nowhere. TMS credentials as for `upload` (never on the command line)."""

STEPS_BEFORE_TMS = ("settings", "input", "check", "bundle", "export-cer")
OK, FAILED, SKIPPED, NOT_RUN = "ok", "failed", "skipped", "not-run"


def configure(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    add_secret_arguments(parser, PFX_PASSWORD)
    add_secret_arguments(parser, KEY_PASSPHRASE)
    files = parser.add_argument_group("files written (never over an existing file without --force)")
    files.add_argument(
        "--out", "-o", metavar="OUT.p12", help="keep the compatible .pfx here (mode 0600); default: in memory only"
    )
    files.add_argument("--cer-out", metavar="OUT.cer", help="write the Base64 PEM .cer for the WebEx team here")
    files.add_argument(
        "--generate-password",
        metavar="FILE",
        help="give the new .pfx a generated password and write it to FILE (mode 0600)",
    )
    files.add_argument("--force", action="store_true", help="replace --out and --cer-out if they exist")
    files.add_argument(
        "--any-extension", action="store_true", help="write --cer-out even if its name does not end in .cer/.crt"
    )
    parser.add_argument(
        "--name", default=DEFAULT_FRIENDLY_NAME, help=f"friendly name in the new .pfx (default {DEFAULT_FRIENDLY_NAME})"
    )
    parser.add_argument(
        "--target-os",
        choices=TARGET_OS_CHOICES,
        default=None,
        help="Windows Server version of the TMS host (default 2016)",
    )
    parser.add_argument(
        "--warn-days",
        type=int,
        default=30,
        metavar="N",
        help="warn when the certificate expires within N days (default 30)",
    )
    parser.add_argument("--reupload", action="store_true", help="upload even when TMS already shows this certificate")
    parser.add_argument(
        "--require-certificate",
        action="store_true",
        help="fail (exit 23) unless TMS shows the stored certificate's thumbprint, serial or expiry and they match",
    )
    add_targets_arguments(parser)


# ------------------------------------------------------------------------- the steps (their work: renew_steps.py)


@dataclass
class Step:
    step: str
    status: str
    detail: str = ""
    target: str | None = None
    error: TmsClientError | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"step": self.step, "status": self.status, "detail": self.detail}
        if self.target is not None:
            out["target"] = self.target
        if self.error is not None:
            out["error"] = self.error.to_json()
        return out


class _Stop(Exception):
    """Raised by Recorder.run when a step failed (and was recorded): the run ends there, before the next step."""


@dataclass
class Recorder:
    """Runs the steps in order and records each one's status; the first failure stops the run."""

    steps: list[Step] = field(default_factory=list)
    first_error: TmsClientError | None = None

    def run(self, name: str, action: Callable[[], tuple[Any, str]]) -> Any:
        try:
            value, detail = action()
        except TmsClientError as err:
            self.fail(name, err)
            raise _Stop from err
        self.steps.append(Step(name, OK, detail))
        return value

    def fail(self, name: str, err: TmsClientError, *, target: str | None = None, decides: bool = True) -> None:
        """Record a failed step; ``decides``: its error is the run's exit code if it is the first."""
        self.steps.append(Step(name, FAILED, err.message, target=target, error=err))
        if decides and self.first_error is None:
            self.first_error = err

    def add(self, name: str, status: str, detail: str = "", *, target: str | None = None) -> None:
        self.steps.append(Step(name, status, detail, target=target))


def run(args: argparse.Namespace, ctx: Context) -> int:
    from tmsclient.commands import renew_steps as steps

    started = time.monotonic()
    source = source_from_args(args, ctx.environ)
    outputs = steps.outputs_of(args)
    many = selection(args, ctx)
    rctx = shared_context(ctx)  # one stdin for every secret of the run, the targets' included
    rec = Recorder()
    warnings: list[str] = []
    built: Built | None = None
    outcomes: list[TargetOutcome] = []
    convert_step = "convert" if source.is_pfx else "bundle"
    prepared: dict[str, Prepared[None] | TmsClientError] = {}
    try:
        prepared = rec.run("settings", lambda: _resolve_targets(args, rctx, many))
        material = rec.run("input", lambda: steps.read_input(source, args, rctx))
        rec.run("check", lambda: steps.check(material, args.warn_days, warnings))
        built = rec.run(convert_step, lambda: steps.build(material, args, rctx, outputs))
        if outputs.cer is None:
            rec.add("export-cer", SKIPPED, "no --cer-out given; the thumbprint and expiry are in this report")
        else:
            rec.run("export-cer", lambda: steps.export_cer(material, outputs))
    except _Stop:
        pass
    if built is not None:
        outcomes = steps.upload(args, many, prepared, built)
        _record_targets(rec, outcomes, many=many is not None)
    payload = _payload(
        source,
        outputs,
        rec,
        outcomes,
        warnings,
        started,
        convert_step,
        certificate=steps.certificate_facts(built),
        targets=steps.target_rows(outcomes),
        built=built,
    )
    ctx.out.result(payload, _human(payload))
    if payload["error"] is not None:
        err = rec.first_error if rec.first_error is not None else _targets_error(outcomes)
        ctx.out.stderr.write(f"tmsclient: error: {scrub(err.diagnostics())}\n")
    return int(payload["exit_code"])


def _resolve_targets(
    args: argparse.Namespace, ctx: Context, many: Selection | None
) -> tuple[dict[str, Prepared[None] | TmsClientError], str]:
    """Every target's settings and TMS password, before anything is read or written. One target: its error
    ends the run. Several: a target that cannot be resolved fails alone, the others go on."""
    if many is None:
        target = resolve_target(args, ctx, need_password=True)
        target.require("site")
        return {target.name: Prepared(target, None)}, f"target {target.name}: {target.url}, site {target.site}"
    out: dict[str, Prepared[None] | TmsClientError] = {}
    for name in many.names:
        try:
            target = resolve_target(
                args, ctx, profile=name, several_targets=True, need_password=True, config=many.config
            )
            target.require("site")
            out[name] = Prepared(target, None)
        except TmsClientError as err:
            out[name] = err
    bad = [n for n, p in out.items() if not isinstance(p, Prepared)]
    detail = f"{len(out) - len(bad)} of {len(out)} targets ready: {', '.join(many.names)}"
    if bad:
        detail += f" ({', '.join(bad)} failed: see their rows)"
    return out, detail


# ------------------------------------------------------------------------------------------------ the targets


def _record_targets(rec: Recorder, outcomes: list[TargetOutcome], *, many: bool) -> None:
    """The upload and verify steps of each target; with several targets their failures make exit 24, not
    their own codes (each row keeps its own)."""
    for o in outcomes:
        if o.status == OK:
            p = o.result.payload
            site = f"{p['site']['host_name']}/{p['site']['site_name']}"
            action = {
                "uploaded": f"uploaded to site {site}",
                "unchanged": f"site {site} already has this certificate: nothing uploaded",
            }[p["action"]]
            rec.add("upload", OK, action, target=o.name)
            rec.add("verify", OK, f"{p['verification']}: " + _level(p["verification"]), target=o.name)
        elif o.status == SKIPPED:
            rec.add("upload", NOT_RUN, o.note or "", target=o.name)
            rec.add("verify", NOT_RUN, target=o.name)
        elif isinstance(o.error, VerificationFailedError):
            rec.add("upload", OK, "saved", target=o.name)
            rec.fail("verify", o.error, target=o.name, decides=not many)
        else:
            assert o.error is not None
            rec.fail("upload", o.error, target=o.name, decides=not many)
            rec.add("verify", NOT_RUN, target=o.name)


def _level(level: str) -> str:
    if level == "certificate":
        return "TMS shows the certificate's details and they match"
    return "TMS shows no certificate details; the fields were checked"


def _targets_error(outcomes: list[TargetOutcome]) -> TmsClientError:
    bad = [f"{o.name} (exit {o.exit_code})" for o in outcomes if o.status == FAILED]
    return TargetsFailedError(
        f"{len(bad)} of {len(outcomes)} targets failed: {', '.join(bad)}", hint="see the per-target report"
    )


# ------------------------------------------------------------------------------------------------ the report


def _payload(
    source: RenewalSource,
    outputs: Outputs,
    rec: Recorder,
    outcomes: list[TargetOutcome],
    warnings: list[str],
    started: float,
    convert_step: str,
    *,
    certificate: dict[str, Any] | None,
    targets: list[dict[str, Any]],
    built: Built | None,
) -> dict[str, Any]:
    ran = {(s.step, s.target) for s in rec.steps}
    steps = list(rec.steps)
    for name in (*STEPS_BEFORE_TMS[:3], convert_step, STEPS_BEFORE_TMS[4]):
        if (name, None) not in ran:
            steps.append(Step(name, NOT_RUN))
    if not outcomes:
        steps += [Step("upload", NOT_RUN), Step("verify", NOT_RUN)]
    error: dict[str, Any] | None
    if rec.first_error is not None:
        code, error = int(rec.first_error.exit_code), rec.first_error.to_json()
    else:  # one target's failure was the first error; several targets' failures make exit 24
        code = exit_code(outcomes)
        error = _targets_error(outcomes).to_json() if code else None
    return {
        "ok": code == 0,
        "exit_code": code,
        "code": ExitCode(code).name if code in ExitCode._value2member_map_ else str(code),
        "source": source.to_json(),
        "certificate": certificate,
        "pfx": None
        if built is None
        else {"out": built.path, "reencoded": built.reencoded, "password": built.password_note},
        "cer": outputs.cer if any(s.step == "export-cer" and s.status == OK for s in steps) else None,
        "steps": [s.to_json() for s in steps],
        "targets": targets,
        "warnings": warnings + [w for o in outcomes if o.status == OK for w in o.result.payload["warnings"]],
        "error": error,
        "elapsed_s": round(time.monotonic() - started, 3),
    }


def _human(p: dict[str, Any]) -> str:
    failed = next((s for s in p["steps"] if s["status"] == FAILED), None)
    head = "renew: ok" if p["ok"] else f"renew: FAILED at {failed['step'] if failed else 'a target'}"
    lines = [f"{head} (exit {p['exit_code']})"]
    width = max(len(s["step"]) for s in p["steps"])
    for s in p["steps"]:
        who = f"[{s['target']}] " if s.get("target") and len(p["targets"]) > 1 else ""
        lines.append(f"  {s['step']:<{width}}  {s['status']:<7}  {who}{s['detail']}".rstrip())
    if len(p["targets"]) > 1:
        lines += [
            "",
            *render_table(p["targets"], [("action", "action"), ("verification", "verification")]).splitlines(),
            "",
        ]
    c = p["certificate"]
    if c is not None:
        lines.append(
            f"for the WebEx team: {c['subject']}, thumbprint {c['thumbprint_sha1']}, serial {c['serial']}, "
            f"expires {c['not_after']:%Y-%m-%d %H:%M} UTC ({c['days_left']} days left)"
        )
    lines += [f"  warning: {w}" for w in p["warnings"]]
    lines.append(f"  {p['elapsed_s']:.2f} s")
    return "\n".join(lines)
