"""`tmsclient renew`: check, bundle or convert, export the .cer, upload, verify: one report, one exit code."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tmsclient.certs.pfxwrite import DEFAULT_FRIENDLY_NAME
from tmsclient.commands.bundle import KEY_PASSPHRASE
from tmsclient.commands.pool import add_arguments as add_targets_arguments
from tmsclient.commands.sources import add_source_arguments
from tmsclient.credentials import PFX_PASSWORD, add_secret_arguments
from tmsclient.settings import TARGET_OS_CHOICES

if TYPE_CHECKING:
    from collections.abc import Callable

    from tmsclient.certs.chain import OrderedChain
    from tmsclient.certs.loading import PfxBundle
    from tmsclient.cli import Context
    from tmsclient.commands.pool import Prepared, Selection, TargetOutcome
    from tmsclient.commands.sources import RenewalSource
    from tmsclient.credentials import Secret
    from tmsclient.errors import TmsClientError

NAME = "renew"
HELP = "after a renewal: check, bundle/convert, export the .cer, upload and verify; one report, one exit code"
DESCRIPTION = """\
The whole renewal in one step, from PEM files (--cert, --key, --chain), a .pfx (--pfx), or what an ACME
client hands its hook (--from-certbot, --from-win-acme CACHEFILE, --from-acme-sh ...):

  settings    resolve the TMS target(s): flag, environment, config profile (nothing is sent yet)
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
DEFAULT_PFX_NAME = "tms-cert.pfx"
CER_SUFFIXES = (".cer", ".crt")


def configure(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    add_secret_arguments(parser, PFX_PASSWORD)
    add_secret_arguments(parser, KEY_PASSPHRASE)
    files = parser.add_argument_group("files written (never over an existing file without --force)")
    files.add_argument("--out", "-o", metavar="OUT.p12",
                       help="keep the compatible .pfx here (mode 0600); default: in memory only")
    files.add_argument("--cer-out", metavar="OUT.cer", help="write the Base64 PEM .cer for the WebEx team here")
    files.add_argument("--generate-password", metavar="FILE",
                       help="give the new .pfx a generated password and write it to FILE (mode 0600)")
    files.add_argument("--force", action="store_true", help="replace --out and --cer-out if they exist")
    files.add_argument("--any-extension", action="store_true",
                       help="write --cer-out even if its name does not end in .cer/.crt")
    parser.add_argument("--name", default=DEFAULT_FRIENDLY_NAME,
                        help=f"friendly name in the new .pfx (default {DEFAULT_FRIENDLY_NAME})")
    parser.add_argument("--target-os", choices=TARGET_OS_CHOICES, default=None,
                        help="Windows Server version of the TMS host (default 2016)")
    parser.add_argument("--warn-days", type=int, default=30, metavar="N",
                        help="warn when the certificate expires within N days (default 30)")
    parser.add_argument("--reupload", action="store_true",
                        help="upload even when TMS already shows this certificate")
    add_targets_arguments(parser)


# ------------------------------------------------------------------------------------------------ the steps


@dataclass(frozen=True)
class Outputs:
    """The files this run may write, checked before anything else happens."""

    pfx: Path | None
    cer: Path | None
    password_file: Path | None
    force: bool


@dataclass(frozen=True)
class Material:
    """What the input step read: key, certificate and chain, plus the .pfx it came in (if any)."""

    key: Any = field(repr=False)
    ordered: OrderedChain = field(repr=False)
    pfx: PfxBundle | None = field(default=None, repr=False)
    password: Secret | None = None  # the input .pfx's
    names: tuple[str | None, ...] = ()  # chain friendly names of the input .pfx


@dataclass(frozen=True)
class Built:
    """The .pfx that goes to TMS, as read back, and its password."""

    bundle: PfxBundle = field(repr=False)
    password: Secret
    password_note: str
    path: Path | None
    reencoded: bool


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
    """A step failed: the run ends here, before the next step."""


@dataclass
class Recorder:
    """Runs the steps in order and records each one's status; the first failure stops the run."""

    steps: list[Step] = field(default_factory=list)
    first_error: TmsClientError | None = None

    def run(self, name: str, action: Callable[[], tuple[Any, str]]) -> Any:
        from tmsclient.errors import TmsClientError

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
    from tmsclient.commands.pool import selection, shared_context
    from tmsclient.commands.sources import source_from_args

    started = time.monotonic()
    source = source_from_args(args, ctx.environ)
    outputs = _outputs(args)
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
        material = rec.run("input", lambda: _read_input(source, args, rctx))
        rec.run("check", lambda: _check(material, args, warnings))
        built = rec.run(convert_step, lambda: _build(material, args, rctx, outputs))
        if outputs.cer is None:
            rec.add("export-cer", SKIPPED, "no --cer-out given; the thumbprint and expiry are in this report")
        else:
            rec.run("export-cer", lambda: _export_cer(material, outputs))
    except _Stop:
        pass
    if built is not None:
        outcomes = _run_targets(args, many, prepared, built)
        _record_targets(rec, outcomes, many=many is not None)
    payload = _payload(source, outputs, rec, built, outcomes, warnings, started, convert_step)
    ctx.out.result(payload, _human(payload))
    if payload["error"] is not None:
        from tmsclient.credentials import scrub

        err = rec.first_error if rec.first_error is not None else _targets_error(outcomes)
        ctx.out.stderr.write(f"tmsclient: error: {scrub(err.diagnostics())}\n")
    return int(payload["exit_code"])


def _outputs(args: argparse.Namespace) -> Outputs:
    """Refuse unusable output paths before any password is asked for or anything is read."""
    from tmsclient.certs.files import ensure_writable
    from tmsclient.errors import UsageError

    if args.warn_days < 0:
        raise UsageError(f"--warn-days {args.warn_days} is negative, expected 0 or more")
    pfx = ensure_writable(args.out, force=args.force, what="output .pfx") if args.out else None
    cer = None
    if args.cer_out:
        cer = Path(args.cer_out)
        if cer.suffix.lower() not in CER_SUFFIXES and not args.any_extension:
            raise UsageError(f"--cer-out {cer} has the extension {cer.suffix or '(none)'}, expected .cer or .crt",
                             hint="name it like tms-cert.cer, or add --any-extension to write it anyway")
        ensure_writable(cer, force=args.force, what="output certificate")
    gen = Path(args.generate_password) if args.generate_password else None
    if gen is not None:
        ensure_writable(gen, force=False, what="password file")
    named = [p.resolve() for p in (pfx, cer, gen) if p is not None]
    if len(set(named)) != len(named):
        raise UsageError("--out, --cer-out and --generate-password must name different files")
    return Outputs(pfx, cer, gen, args.force)


def _resolve_targets(args: argparse.Namespace, ctx: Context, many: Selection | None
                     ) -> tuple[dict[str, Prepared[None] | TmsClientError], str]:
    """Every target's settings and TMS password, before anything is read or written. One target: its error
    ends the run. Several: a target that cannot be resolved fails alone, the others go on."""
    from tmsclient.commands.pool import Prepared
    from tmsclient.errors import TmsClientError
    from tmsclient.settings import resolve_target

    if many is None:
        target = resolve_target(args, ctx, need_password=True)
        target.require("site")
        return {target.name: Prepared(target, None)}, f"target {target.name}: {target.url}, site {target.site}"
    out: dict[str, Prepared[None] | TmsClientError] = {}
    for name in many.names:
        try:
            target = resolve_target(args, ctx, profile=name, profile_first=True, need_password=True,
                                    config=many.config)
            target.require("site")
            out[name] = Prepared(target, None)
        except TmsClientError as err:
            out[name] = err
    bad = [n for n, p in out.items() if not isinstance(p, Prepared)]
    detail = f"{len(out) - len(bad)} of {len(out)} targets ready: {', '.join(many.names)}"
    if bad:
        detail += f" ({', '.join(bad)} failed: see their rows)"
    return out, detail


def _read_input(source: RenewalSource, args: argparse.Namespace, ctx: Context) -> tuple[Material, str]:
    from tmsclient.certs.loading import load_pfx_file
    from tmsclient.commands.sources import read_pem_source

    if not source.is_pfx:
        def passphrase() -> Secret:
            from tmsclient.errors import PasswordError

            try:
                secret = ctx.secrets.resolve(KEY_PASSPHRASE, args)
            except PasswordError as err:
                raise PasswordError(f"the private key of {source.description} is encrypted and no passphrase "
                                    "was given", hint=err.hint) from err
            assert secret is not None
            return secret

        pair = read_pem_source(source, passphrase)
        return Material(pair.key, pair.ordered), source.description
    assert source.pfx is not None
    password = _input_password(source, args, ctx)
    bundle = load_pfx_file(source.pfx, password)
    material = Material(bundle.key, bundle.chain_order, bundle, password, bundle.chain_friendly_names)
    return material, f"{source.description} (opened with the password from {password.source})"


def _input_password(source: RenewalSource, args: argparse.Namespace, ctx: Context) -> Secret:
    """A .pfx's password; win-acme's {CachePassword} comes on stdin unless a flag or the environment has it
    (and may be empty: win-acme can leave its cache unprotected)."""
    from tmsclient.certs.pfxout import secret_flags_given
    from tmsclient.commands.sources import WIN_ACME

    if (source.kind == WIN_ACME and not ctx.interactive and not secret_flags_given(args, PFX_PASSWORD)
            and PFX_PASSWORD.default_env not in ctx.environ):
        return ctx.secrets.stdin.read_secret(f"{PFX_PASSWORD.what} (win-acme's {{CachePassword}})")
    secret = ctx.secrets.resolve(PFX_PASSWORD, args, allow_empty=True)
    assert secret is not None
    return secret


def _check(material: Material, args: argparse.Namespace, warnings: list[str]) -> tuple[None, str]:
    from tmsclient.certs.checks import check_contents
    from tmsclient.certs.summary import summarize
    from tmsclient.errors import CertificateUnfitError

    findings = check_contents(material.key, material.ordered.leaf, material.ordered, warn_days=args.warn_days)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise CertificateUnfitError(
            f"the certificate is not fit for TMS: {errors[0].message}",
            hint="fix the input (see `tmsclient check`/`inspect`); nothing was written or sent to TMS",
            details=[f.line() for f in findings],
        )
    warnings += [f"{f.code}: {f.message}" for f in findings if f.severity == "warning"]
    s = summarize(material.ordered.leaf)
    noted = len([f for f in findings if f.severity == "warning"])
    return None, (f"{s.subject}: valid until {s.not_after:%Y-%m-%d} ({s.days_left()} days left), key matches, "
                  f"{noted} warning{'s' if noted != 1 else ''}")


def _build(material: Material, args: argparse.Namespace, ctx: Context, outputs: Outputs) -> tuple[Built, str]:
    """The compatible .pfx in memory (a .pfx that already imports everywhere goes as it is), read back."""
    from tmsclient.certs.compat import import_verdicts
    from tmsclient.certs.loading import load_pfx_bytes
    from tmsclient.certs.pfxout import write_with_password
    from tmsclient.certs.pfxwrite import PfxEncryption, serialize_pfx

    password, note = _new_password(material, args, ctx, outputs)
    original = material.pfx
    keep = (original is not None and password is material.password and bool(password)
            and all(v.importable for v in import_verdicts(original.algorithms).values()))
    if keep:
        assert original is not None
        data = original.data
    else:
        chain = material.ordered.chain
        data = serialize_pfx(key=material.key, cert=material.ordered.leaf, cas=chain, password=password,
                             name=args.name or None,
                             ca_names=material.names if len(material.names) == len(chain) else None,
                             encryption=PfxEncryption.COMPATIBLE)
    where = str(outputs.pfx) if outputs.pfx else "the new .pfx (in memory)"
    back = load_pfx_bytes(data, password, source=where, path=outputs.pfx)
    write_with_password(outputs.pfx, data, force=outputs.force, password=password,
                        password_file=outputs.password_file)
    form = ("already Windows-compatible, sent as it is" if keep
            else "3DES + SHA-1 MAC, 2048 iterations: imports on every Windows Server")
    kept = f"written to {outputs.pfx} (mode 0600)" if outputs.pfx else "in memory only, not written"
    return Built(back, password, note, outputs.pfx, not keep), f"{form}; {kept}; password {note}"


def _new_password(material: Material, args: argparse.Namespace, ctx: Context,
                  outputs: Outputs) -> tuple[Secret, str]:
    from tmsclient.certs.pfxout import generate_password, resolve_new_password, secret_flags_given

    if outputs.password_file is not None:
        return generate_password(), f"generated, written to {outputs.password_file} (mode 0600)"
    if material.pfx is not None:
        if material.password:
            return material.password, f"kept from {material.password.source}"
    elif secret_flags_given(args, PFX_PASSWORD) or PFX_PASSWORD.default_env in ctx.environ:
        secret = resolve_new_password(ctx.secrets, PFX_PASSWORD, args)
        return secret, f"from {secret.source}"
    if outputs.pfx is not None:
        from tmsclient.errors import PasswordError

        try:
            secret = resolve_new_password(ctx.secrets, PFX_PASSWORD, args)
        except PasswordError as err:
            raise PasswordError(f"{outputs.pfx} needs a password and none was given",
                                hint="--generate-password FILE, or " + (err.hint or "a password flag")) from err
        return secret, f"from {secret.source}"
    return generate_password(), "generated for this upload and kept nowhere"


def _export_cer(material: Material, outputs: Outputs) -> tuple[None, str]:
    from cryptography.hazmat.primitives import serialization

    from tmsclient.certs.files import write_file_atomic

    assert outputs.cer is not None
    pem = material.ordered.leaf.public_bytes(serialization.Encoding.PEM)
    write_file_atomic(outputs.cer, pem, mode=0o644, force=outputs.force, what="output certificate")
    return None, f"wrote {outputs.cer} (Base64 PEM, no private key) for the WebEx team"


# ------------------------------------------------------------------------------------------------ TMS


def _run_targets(args: argparse.Namespace, many: Selection | None,
                 prepared: dict[str, Prepared[None] | TmsClientError], built: Built) -> list[TargetOutcome]:
    from tmsclient.commands.pool import run_one, run_targets
    from tmsclient.tms.upload import UploadJob, upload_to_target

    job = UploadJob(
        pfx_name=built.path.name if built.path else DEFAULT_PFX_NAME,
        pfx_source=str(built.path) if built.path else "in memory",
        bundle=built.bundle, password=built.password, force=args.reupload,
    )

    def prepare(name: str) -> Prepared[None]:
        ready = prepared[name]
        if isinstance(ready, Exception):
            raise ready
        return ready

    def work(target: Any, _: None) -> Any:
        return upload_to_target(target, job)

    if many is None:
        (name,) = prepared
        return [run_one(name, prepare, work)]
    return run_targets(many, prepare, work)


def _record_targets(rec: Recorder, outcomes: list[TargetOutcome], *, many: bool) -> None:
    """The upload and verify steps of each target; with several targets their failures make exit 24, not
    their own codes (each row keeps its own)."""
    from tmsclient.errors import VerificationFailedError

    for o in outcomes:
        if o.status == OK:
            p = o.result.payload
            site = f"{p['site']['host_name']}/{p['site']['site_name']}"
            action = {"uploaded": f"uploaded to site {site}",
                      "unchanged": f"site {site} already has this certificate: nothing uploaded"}[p["action"]]
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
    from tmsclient.errors import TargetsFailedError

    bad = [f"{o.name} (exit {o.exit_code})" for o in outcomes if o.status == FAILED]
    return TargetsFailedError(f"{len(bad)} of {len(outcomes)} targets failed: {', '.join(bad)}",
                              hint="see the per-target report")


# ------------------------------------------------------------------------------------------------ the report


def _payload(source: RenewalSource, outputs: Outputs, rec: Recorder, built: Built | None,
             outcomes: list[TargetOutcome], warnings: list[str], started: float,
             convert_step: str) -> dict[str, Any]:
    from tmsclient.certs.summary import summarize
    from tmsclient.commands.pool import exit_code, rows
    from tmsclient.exitcodes import ExitCode
    from tmsclient.tms.upload import summary_row

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
    certificate = None
    if built is not None:
        s = summarize(built.bundle.cert)
        certificate = {"subject": s.subject, "thumbprint_sha1": s.thumbprint_sha1, "serial": s.serial,
                       "not_after": s.not_after, "days_left": s.days_left()}
    return {
        "ok": code == 0,
        "exit_code": code,
        "code": ExitCode(code).name if code in ExitCode._value2member_map_ else str(code),
        "source": source.to_json(),
        "certificate": certificate,
        "pfx": None if built is None else {"out": built.path, "reencoded": built.reencoded,
                                           "password": built.password_note},
        "cer": outputs.cer if any(s.step == "export-cer" and s.status == OK for s in steps) else None,
        "steps": [s.to_json() for s in steps],
        "targets": rows(outcomes, summary_row),
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
        from tmsclient.commands.pool import render_table

        lines += ["", *render_table(p["targets"], [("action", "action"), ("verification", "verification")])
                  .splitlines(), ""]
    c = p["certificate"]
    if c is not None:
        lines.append(f"for the WebEx team: {c['subject']}, thumbprint {c['thumbprint_sha1']}, serial {c['serial']}, "
                     f"expires {c['not_after']:%Y-%m-%d %H:%M} UTC ({c['days_left']} days left)")
    lines += [f"  warning: {w}" for w in p["warnings"]]
    lines.append(f"  {p['elapsed_s']:.2f} s")
    return "\n".join(lines)
