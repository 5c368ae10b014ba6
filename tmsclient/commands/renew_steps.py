"""The steps of `renew` that handle the certificate and TMS: read, check, build the .pfx, export the .cer, upload."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tmsclient.certs.chain import OrderedChain, order_chain, pick_leaf
from tmsclient.certs.checks import check_contents
from tmsclient.certs.compat import import_verdicts
from tmsclient.certs.loading import PfxBundle, load_pfx_bytes, load_pfx_file
from tmsclient.certs.parsing import find_private_key_blocks, load_certificates, load_private_key
from tmsclient.certs.pfxoptions import PfxEncryption, generate_password
from tmsclient.certs.pfxout import write_with_password
from tmsclient.certs.pfxwrite import serialize_pfx
from tmsclient.certs.summary import key_matches, summarize
from tmsclient.commands.bundle import KEY_PASSPHRASE
from tmsclient.commands.pool import Prepared, Selection, TargetOutcome, rows, run_one, run_targets
from tmsclient.commands.sources import WIN_ACME, RenewalSource
from tmsclient.credentials import PFX_PASSWORD, Secret, secret_flags_given
from tmsclient.errors import CertificateUnfitError, PasswordError, TmsClientError, UsageError
from tmsclient.files import ensure_writable, read_input_file, write_file_atomic
from tmsclient.tms.upload import UploadJob, summary_row, upload_to_target

if TYPE_CHECKING:
    from tmsclient.commands.context import Context

log = logging.getLogger(__name__)

DEFAULT_PFX_NAME = "tms-cert.pfx"
CER_SUFFIXES = (".cer", ".crt")


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


def outputs_of(args: argparse.Namespace) -> Outputs:
    """Refuse unusable output paths before any password is asked for or anything is read."""
    if args.warn_days < 0:
        raise UsageError(f"--warn-days {args.warn_days} is negative, expected 0 or more")
    pfx = ensure_writable(args.out, force=args.force, what="output .pfx") if args.out else None
    cer = None
    if args.cer_out:
        cer = Path(args.cer_out)
        if cer.suffix.lower() not in CER_SUFFIXES and not args.any_extension:
            raise UsageError(
                f"--cer-out {cer} has the extension {cer.suffix or '(none)'}, expected .cer or .crt",
                hint="name it like tms-cert.cer, or add --any-extension to write it anyway",
            )
        ensure_writable(cer, force=args.force, what="output certificate")
    gen = Path(args.generate_password) if args.generate_password else None
    if gen is not None:
        ensure_writable(gen, force=False, what="password file")
    named = [p.resolve() for p in (pfx, cer, gen) if p is not None]
    if len(set(named)) != len(named):
        raise UsageError("--out, --cer-out and --generate-password must name different files")
    return Outputs(pfx, cer, gen, args.force)


# ------------------------------------------------------------------------------------------------ input


@dataclass(frozen=True)
class KeyAndChain:
    """A private key, the certificate it belongs to, and the rest ordered leaf to root."""

    key: Any
    ordered: OrderedChain

    @property
    def leaf(self) -> x509.Certificate:
        return self.ordered.leaf

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        return self.ordered.chain


def read_pem_source(source: RenewalSource, passphrase: Callable[[], Secret]) -> KeyAndChain:
    """Load the key and every certificate of a PEM source; the leaf is the certificate of the key (the check
    step reports a key that belongs to none). ``passphrase`` is asked only when the key is encrypted."""
    assert source.cert is not None
    cert_data = read_input_file(source.cert, "certificate file")
    certs = list(load_certificates(cert_data, str(source.cert)))
    for extra in source.chain:
        certs += load_certificates(read_input_file(extra, "chain file"), str(extra))
    key_path = source.key or source.cert
    if source.key is None and not find_private_key_blocks(cert_data):
        raise UsageError(f"no --key given and {source.cert} holds no private key", hint="add --key KEY")
    key_data = cert_data if source.key is None else read_input_file(source.key, "private key file")
    key = load_private_key(key_data, str(key_path), passphrase)
    owners = [c for c in certs if key_matches(key, c)]
    # A key that belongs to none of them is for the check step to judge (KEY_MISMATCH), with the leaf the
    # certificates themselves point at.
    leaf = owners[0] if owners else pick_leaf(certs)
    log.debug(
        "the key in %s %s %s", key_path, "belongs to" if owners else "does not belong to", leaf.subject.rfc4514_string()
    )
    return KeyAndChain(key, order_chain(leaf, [c for c in certs if c is not leaf]))


def read_input(source: RenewalSource, args: argparse.Namespace, ctx: Context) -> tuple[Material, str]:
    """The input step: the key, certificate and chain of PEM files, or the contents of a .pfx."""
    if not source.is_pfx:
        passphrase = ctx.secrets.when_needed(
            KEY_PASSPHRASE, args, f"the private key of {source.description} is encrypted and no passphrase was given"
        )
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
    if (
        source.kind == WIN_ACME
        and not ctx.interactive
        and not secret_flags_given(args, PFX_PASSWORD)
        and PFX_PASSWORD.default_env not in ctx.environ
    ):
        return ctx.secrets.stdin.read_secret(f"{PFX_PASSWORD.what} (win-acme's {{CachePassword}})")
    secret = ctx.secrets.resolve(PFX_PASSWORD, args, allow_empty=True)
    assert secret is not None
    return secret


# ------------------------------------------------------------------------------------------------ check, build


def check(material: Material, warn_days: int, warnings: list[str]) -> tuple[None, str]:
    """The `check` rules on key, certificate and chain: an error stops the run before anything is written."""
    findings = check_contents(material.key, material.ordered.leaf, material.ordered, warn_days=warn_days)
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
    return None, (
        f"{s.subject}: valid until {s.not_after:%Y-%m-%d} ({s.days_left()} days left), key matches, "
        f"{noted} warning{'s' if noted != 1 else ''}"
    )


def build(material: Material, args: argparse.Namespace, ctx: Context, outputs: Outputs) -> tuple[Built, str]:
    """The compatible .pfx in memory (a .pfx that already imports everywhere goes as it is), read back."""
    password, note = _new_password(material, args, ctx, outputs)
    original = material.pfx
    keep = (
        original is not None
        and password is material.password
        and bool(password)
        and all(v.importable for v in import_verdicts(original.algorithms).values())
    )
    if keep:
        assert original is not None
        data = original.data
    else:
        chain = material.ordered.chain
        data = serialize_pfx(
            key=material.key,
            cert=material.ordered.leaf,
            cas=chain,
            password=password,
            name=args.name or None,
            ca_names=material.names if len(material.names) == len(chain) else None,
            encryption=PfxEncryption.COMPATIBLE,
        )
    where = str(outputs.pfx) if outputs.pfx else "the new .pfx (in memory)"
    back = load_pfx_bytes(data, password, source=where, path=outputs.pfx)
    write_with_password(outputs.pfx, data, force=outputs.force, password=password, password_file=outputs.password_file)
    form = (
        "already Windows-compatible, sent as it is"
        if keep
        else "3DES + SHA-1 MAC, 2048 iterations: imports on every Windows Server"
    )
    kept = f"written to {outputs.pfx} (mode 0600)" if outputs.pfx else "in memory only, not written"
    return Built(back, password, note, outputs.pfx, not keep), f"{form}; {kept}; password {note}"


def _new_password(material: Material, args: argparse.Namespace, ctx: Context, outputs: Outputs) -> tuple[Secret, str]:
    if outputs.password_file is not None:
        return generate_password(), f"generated, written to {outputs.password_file} (mode 0600)"
    if material.pfx is not None:
        if material.password:
            return material.password, f"kept from {material.password.source}"
    elif secret_flags_given(args, PFX_PASSWORD) or PFX_PASSWORD.default_env in ctx.environ:
        secret = ctx.secrets.new_password(PFX_PASSWORD, args)
        return secret, f"from {secret.source}"
    if outputs.pfx is not None:
        try:
            secret = ctx.secrets.new_password(PFX_PASSWORD, args)
        except PasswordError as err:
            raise PasswordError(
                f"{outputs.pfx} needs a password and none was given",
                hint="--generate-password FILE, or " + (err.hint or "a password flag"),
            ) from err
        return secret, f"from {secret.source}"
    return generate_password(), "generated for this upload and kept nowhere"


def export_cer(material: Material, outputs: Outputs) -> tuple[None, str]:
    assert outputs.cer is not None
    pem = material.ordered.leaf.public_bytes(serialization.Encoding.PEM)
    write_file_atomic(outputs.cer, pem, mode=0o644, force=outputs.force, what="output certificate")
    return None, f"wrote {outputs.cer} (Base64 PEM, no private key) for the WebEx team"


# ------------------------------------------------------------------------------------------------ TMS


def upload(
    args: argparse.Namespace, many: Selection | None, prepared: dict[str, Prepared[None] | TmsClientError], built: Built
) -> list[TargetOutcome]:
    """Upload (and verify) the built .pfx on each target resolved in the settings step."""
    job = UploadJob(
        pfx_name=built.path.name if built.path else DEFAULT_PFX_NAME,
        pfx_source=str(built.path) if built.path else "in memory",
        bundle=built.bundle,
        password=built.password,
        force=args.reupload,
        require_certificate=getattr(args, "require_certificate", False),
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


def certificate_facts(built: Built | None) -> dict[str, Any] | None:
    """What the report tells the WebEx team about the certificate sent."""
    if built is None:
        return None
    s = summarize(built.bundle.cert)
    return {
        "subject": s.subject,
        "thumbprint_sha1": s.thumbprint_sha1,
        "serial": s.serial,
        "not_after": s.not_after,
        "days_left": s.days_left(),
    }


def target_rows(outcomes: list[TargetOutcome]) -> list[dict[str, Any]]:
    return rows(outcomes, summary_row)
