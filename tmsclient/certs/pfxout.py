"""Writing a new .pfx for `bundle` and `convert`: its password, its options, the write and a read-back."""

from __future__ import annotations

import argparse
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tmsclient.certs.compat import DOTNET_ITERATION_LIMIT, ITERATION_WARN_ABOVE, import_verdicts
from tmsclient.certs.files import create_exclusive, ensure_writable, remove_quietly, write_file_atomic
from tmsclient.certs.loading import PfxBundle, load_pfx_bytes
from tmsclient.certs.pfxwrite import MIN_ITERATIONS, PfxEncryption, serialize_pfx
from tmsclient.certs.summary import public_key_der, sha1_thumbprint
from tmsclient.credentials import Secret, SecretResolver, SecretSpec
from tmsclient.errors import PasswordError, TmsClientError, UsageError

if TYPE_CHECKING:
    from cryptography import x509

log = logging.getLogger(__name__)

#: Generated passwords: 24 characters from [A-Za-z0-9_-], about 143 bits; easy to paste into the TMS form.
GENERATED_PASSWORD_BYTES = 18

MODERN_WARNING = (
    "--encryption modern writes AES-256 with a SHA-256 MAC: Windows Server 2012 R2 and 2016 cannot import it "
    "and "
    'answer "The specified network password is not correct."; use it only for a TMS on Server 2019 or later'
)


@dataclass(frozen=True)
class PfxOutputOptions:
    out: Path
    force: bool
    encryption: PfxEncryption
    iterations: int
    generate_password: Path | None


def output_options(args: argparse.Namespace, password_spec: SecretSpec) -> PfxOutputOptions:
    """Validate the shared options and fail before any password is asked for or any work is done.
    ``password_spec``: the new .pfx's password, which --generate-password replaces."""
    if not MIN_ITERATIONS <= args.iterations <= DOTNET_ITERATION_LIMIT:
        raise UsageError(
            f"--iterations {args.iterations} is out of range, expected {MIN_ITERATIONS} to "
            f"{DOTNET_ITERATION_LIMIT:,}",
            hint="leave it at the default 2048",
        )
    out = ensure_writable(args.out, force=args.force, what="output .pfx")
    gen = Path(args.generate_password) if args.generate_password else None
    if gen is not None:
        if gen.resolve() == out.resolve():
            raise UsageError("--generate-password must name a different file than --out")
        ensure_writable(gen, force=False, what="password file")
        if secret_flags_given(args, password_spec):
            flag = password_spec.flag
            raise UsageError(f"--generate-password conflicts with --{flag}-env/--{flag}-file/--{flag}-stdin")
    return PfxOutputOptions(out, args.force, PfxEncryption(args.encryption), args.iterations, gen)


def generate_password() -> Secret:
    return Secret(secrets.token_urlsafe(GENERATED_PASSWORD_BYTES), "generated")


def resolve_new_password(
    resolver: SecretResolver, spec: SecretSpec, args: argparse.Namespace | None
) -> Secret:
    """The password for a new .pfx; a typed one is asked twice. Never empty (Windows needs an exact match)."""
    secret = resolver.resolve(spec, args)
    assert secret is not None  # required=True never returns None
    if secret.source == "prompt":
        again = resolver.resolve(
            SecretSpec(f"{spec.what} (again)", f"{spec.flag}-again", None, f"{spec.prompt} (again)"),
            None,
        )
        if again != secret:
            raise PasswordError("the two passwords typed do not match", hint="run the command again")
    return secret


def secret_flags_given(args: argparse.Namespace, spec: SecretSpec) -> bool:
    return bool(
        getattr(args, f"{spec.dest}_env", None)
        or getattr(args, f"{spec.dest}_file", None)
        or getattr(args, f"{spec.dest}_stdin", False)
    )


@dataclass(frozen=True)
class WrittenPfx:
    path: Path
    bundle: PfxBundle  # the file as read back
    encryption: PfxEncryption
    password_source: str
    password_file: Path | None

    def to_json(self) -> dict[str, Any]:
        from tmsclient.certs.summary import summarize

        s = summarize(self.bundle.cert)
        verdicts = import_verdicts(self.bundle.algorithms)
        return {
            "ok": True,
            "out": str(self.path),
            "encryption": self.encryption.value,
            "friendly_name": self.bundle.friendly_name,
            "subject": s.subject,
            "thumbprint_sha1": s.thumbprint_sha1,
            "serial": s.serial,
            "not_after": s.not_after,
            "chain": [c.subject.rfc4514_string() for c in self.bundle.chain],
            "chain_friendly_names": list(self.bundle.chain_friendly_names),
            "pkcs12": self.bundle.algorithms.to_json(),
            "windows_import": {k: v.importable for k, v in verdicts.items()},
            "password_source": self.password_source,
            "password_file": str(self.password_file) if self.password_file else None,
        }

    def text(self, finding_lines: list[str], *, verb: str = "wrote") -> str:
        """The human report of bundle and convert."""
        from tmsclient.certs.inspection import describe_encryption
        from tmsclient.certs.summary import summarize

        b = self.bundle
        s = summarize(b.cert)
        algs = b.algorithms
        ok_on = [os for os, v in import_verdicts(algs).items() if v.importable]
        chain = "; ".join(c.subject.rfc4514_string() for c in b.chain) or "none"
        if self.password_file:
            pw = f"generated, written to {self.password_file} (mode 0600)"
        else:
            pw = f"from {self.password_source}"
        lines = [
            f"{verb} {self.path} ({self.encryption.value} encryption)",
            f"  friendly name:      {b.friendly_name or '-'}",
            f"  subject:            {s.subject}",
            f"  thumbprint (SHA-1): {s.thumbprint_sha1}",
            f"  serial number:      {s.serial}",
            f"  expires:            {s.not_after:%Y-%m-%d %H:%M} UTC ({s.days_left()} days left)",
            f"  chain:              {chain}",
            f"  MAC:                {algs.mac_digest}, {algs.mac_iterations:,} iterations",
            f"  certificates:       {describe_encryption(algs.cert_encryption, algs.plain_cert_bags)}",
            f"  key:                {describe_encryption(algs.key_encryption)}",
            f"  Windows import:     {', '.join(ok_on) or 'none'}",
            f"  password:           {pw}",
        ]
        if finding_lines:
            lines.append("Findings (`tmsclient check` runs the full preflight):")
            lines += [f"  {line}" for line in finding_lines]
        return "\n".join(lines)


def build_and_write(
    *,
    key: Any,
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    name: str | None,
    chain_names: Sequence[str | None] | None,
    password: Secret,
    options: PfxOutputOptions,
) -> WrittenPfx:
    """Serialise, read the result back to prove it opens with the same contents, then write it (and the
    generated password first, so a .pfx never exists without its password)."""
    data = serialize_pfx(
        key=key,
        cert=cert,
        cas=list(chain),
        password=password,
        name=name,
        ca_names=chain_names,
        encryption=options.encryption,
        iterations=options.iterations,
    )
    back = load_pfx_bytes(data, password, source=str(options.out), path=options.out)
    _verify_round_trip(back, key, cert, chain, name, chain_names, options.encryption)
    if options.iterations > ITERATION_WARN_ABOVE:
        log.warning(
            "%d iterations is far above Windows' own ~2,000; .NET may refuse the file", options.iterations
        )
    write_with_password(options.out, data, force=options.force, password=password,
                        password_file=options.generate_password)
    log.info("wrote %s (%d bytes, %s encryption)", options.out, len(data), options.encryption.value)
    return WrittenPfx(options.out, back, options.encryption, password.source, options.generate_password)


def write_with_password(out: Path | None, data: bytes, *, force: bool, password: Secret,
                        password_file: Path | None) -> None:
    """Write a generated password (when ``password_file``) and then the .pfx (when ``out``): the password goes
    first so a .pfx never exists without it, and is removed again when the .pfx cannot be written."""
    if password_file is not None:
        create_exclusive(password_file, (password.reveal() + "\n").encode("utf-8"), mode=0o600,
                         what="password file")
    if out is None:
        return
    try:
        write_file_atomic(out, data, mode=0o600, force=force, what="output .pfx")
    except BaseException:
        if password_file is not None:
            remove_quietly(password_file)
        raise


def _verify_round_trip(
    back: PfxBundle,
    key: Any,
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    name: str | None,
    chain_names: Sequence[str | None] | None,
    encryption: PfxEncryption,
) -> None:
    problems = []
    if back.key is None or public_key_der(back.key) != public_key_der(key):
        problems.append("private key")
    if sha1_thumbprint(back.cert) != sha1_thumbprint(cert):
        problems.append("certificate")
    wanted = [sha1_thumbprint(c) for c in chain]
    got_chain = [sha1_thumbprint(c) for c in back.chain]
    got_all = got_chain + [sha1_thumbprint(c) for c in back.extra_certs]
    if sorted(got_all) != sorted(wanted) or got_chain != [t for t in wanted if t in got_chain]:
        problems.append("chain")
    names_in = dict(
        zip(wanted, chain_names if chain_names is not None else [None] * len(wanted), strict=True)
    )
    names_back = dict(zip(got_chain, back.chain_friendly_names, strict=True))
    if back.friendly_name != name or any(names_in[t] != n for t, n in names_back.items()):
        problems.append("friendly names")
    if encryption is PfxEncryption.COMPATIBLE and not all(
        v.importable for v in import_verdicts(back.algorithms).values()
    ):
        problems.append("Windows-compatible algorithms")
    if problems:
        raise TmsClientError(
            f"internal error: the new .pfx did not read back with the same {', '.join(problems)}",
            hint="nothing was written; report this as a bug",
        )
