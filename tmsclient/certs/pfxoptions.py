"""The options of a new .pfx (its flags, encryption, iterations, generated password), light enough for --help."""

from __future__ import annotations

import argparse
import enum
import secrets
from dataclasses import dataclass
from pathlib import Path

from tmsclient.certs.compat import DOTNET_ITERATION_LIMIT
from tmsclient.credentials import Secret, SecretSpec, secret_flags_given
from tmsclient.errors import UsageError
from tmsclient.files import ensure_writable

#: Windows' own exports use about 2,000 rounds; .NET since 2023 refuses uncommonly high counts.
DEFAULT_ITERATIONS = 2048
MIN_ITERATIONS = 1000
DEFAULT_FRIENDLY_NAME = "tms-cert-key"
#: Generated passwords: 24 characters from [A-Za-z0-9_-], about 143 bits; easy to paste into the TMS form.
GENERATED_PASSWORD_BYTES = 18

MODERN_WARNING = (
    "--encryption modern writes AES-256 with a SHA-256 MAC: Windows Server 2012 R2 and 2016 cannot import it "
    "and "
    'answer "The specified network password is not correct."; use it only for a TMS on Server 2019 or later'
)


class PfxEncryption(str, enum.Enum):
    """``compatible``: 3DES (PBES1) for key and certificates, SHA-1 MAC; imports on every Windows Server.
    ``modern``: AES-256 (PBES2) with a SHA-256 MAC; Server 2019 and later only."""

    COMPATIBLE = "compatible"
    MODERN = "modern"


def add_pfx_output_arguments(parser: argparse.ArgumentParser) -> None:
    """--out, --force, --encryption, --iterations and --generate-password, shared by bundle and convert."""
    parser.add_argument("--out", "-o", required=True, metavar="OUT.p12", help="the .pfx/.p12 file to write")
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")
    parser.add_argument(
        "--encryption",
        choices=[e.value for e in PfxEncryption],
        default=PfxEncryption.COMPATIBLE.value,
        help="compatible (default): 3DES + SHA-1 MAC, imports on every Windows Server; "
        "modern: AES-256 + SHA-256 MAC, Server 2019 and later only",
    )
    parser.add_argument(
        "--iterations",
        type=int,
        default=DEFAULT_ITERATIONS,
        metavar="N",
        help=f"key-derivation iterations (default {DEFAULT_ITERATIONS}, like Windows' own exports; "
        f"{MIN_ITERATIONS} to {DOTNET_ITERATION_LIMIT:,})",
    )
    parser.add_argument(
        "--generate-password",
        metavar="FILE",
        help="generate a strong password for the new .pfx and write it to FILE (mode 0600; never overwritten)",
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
            f"--iterations {args.iterations} is out of range, expected {MIN_ITERATIONS} to {DOTNET_ITERATION_LIMIT:,}",
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
