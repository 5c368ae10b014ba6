"""Where `renew` gets its certificate: PEM files, a .pfx, or what certbot, lego, win-acme or acme.sh give a hook."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tmsclient.errors import InputFileError, UsageError

PEM, PFX, CERTBOT, LEGO, WIN_ACME, ACME_SH = "pem", "pfx", "certbot", "lego", "win-acme", "acme.sh"
CERTBOT_KEY, CERTBOT_FULLCHAIN = "privkey.pem", "fullchain.pem"


@dataclass(frozen=True)
class RenewalSource:
    """The files a renewal starts from: a key with certificate (and chain) files, or one .pfx."""

    kind: str  # pem, pfx, certbot, lego, win-acme, acme.sh
    description: str  # one line for the report
    cert: Path | None = None
    key: Path | None = None
    chain: tuple[Path, ...] = ()
    pfx: Path | None = None

    @property
    def is_pfx(self) -> bool:
        return self.pfx is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "description": self.description,
            "cert": self.cert,
            "key": self.key,
            "chain": list(self.chain),
            "pfx": self.pfx,
        }


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """One source: --cert (with --key, --chain), --pfx, or one hook mode."""
    group = parser.add_argument_group("the renewed certificate (one of)")
    which = group.add_mutually_exclusive_group()
    which.add_argument(
        "--cert", "-c", metavar="CERT", help="the certificate (PEM or DER); may also hold the chain and the key"
    )
    which.add_argument("--pfx", metavar="FILE", help="a .pfx/.p12 with the key (converted if need be)")
    which.add_argument(
        "--from-certbot",
        nargs="?",
        const="",
        metavar="LINEAGE",
        help="certbot --deploy-hook: privkey.pem and fullchain.pem from LINEAGE "
        "(default: $RENEWED_LINEAGE, which certbot sets)",
    )
    which.add_argument(
        "--from-lego",
        nargs="?",
        const="",
        metavar="CERT",
        help="lego --run-hook/--renew-hook: the certificate (with its chain) and key from $LEGO_CERT_PATH and "
        "$LEGO_CERT_KEY_PATH, which lego sets; or name lego's certificates/DOMAIN.crt (the key: DOMAIN.key)",
    )
    which.add_argument(
        "--from-win-acme",
        metavar="CACHEFILE",
        help="win-acme script step: the {CacheFile} .pfx; its {CachePassword} comes on stdin "
        "(or --pfx-password-env VAR / $TMSCLIENT_PFX_PASSWORD), never as an argument",
    )
    which.add_argument(
        "--from-acme-sh",
        nargs=5,
        metavar=("DOMAIN", "KEY", "CERT", "CA", "FULLCHAIN"),
        help="acme.sh deploy hook: the five paths acme.sh passes to <name>_deploy",
    )
    group.add_argument(
        "--key",
        "-k",
        metavar="KEY",
        help="with --cert: the private key (PEM or DER, encrypted or not); default: the key in CERT",
    )
    group.add_argument(
        "--chain",
        action="append",
        default=[],
        metavar="CHAIN",
        help="with --cert: intermediate/root certificates; repeatable",
    )


def source_from_args(args: argparse.Namespace, environ: Mapping[str, str]) -> RenewalSource:
    """The one source the flags name; ``--key``/``--chain`` only with ``--cert``."""
    if (args.key or args.chain) and not args.cert:
        raise UsageError(
            "--key and --chain go with --cert", hint="a .pfx and the hook modes bring their own key and chain"
        )
    if args.cert:
        key = Path(args.key) if args.key else None
        return RenewalSource(
            PEM,
            f"PEM files {args.cert}" + (f" and {args.key}" if args.key else ""),
            cert=Path(args.cert),
            key=key,
            chain=tuple(Path(c) for c in args.chain),
        )
    if args.pfx:
        return RenewalSource(PFX, f".pfx file {args.pfx}", pfx=Path(args.pfx))
    if args.from_certbot is not None:
        return certbot_source(args.from_certbot or None, environ)
    if getattr(args, "from_lego", None) is not None:
        return lego_source(args.from_lego or None, environ)
    if args.from_win_acme:
        return win_acme_source(args.from_win_acme)
    if args.from_acme_sh:
        return acme_sh_source(args.from_acme_sh)
    raise UsageError(
        "no certificate given",
        hint="give --cert CERT --key KEY, --pfx FILE, or a hook mode: --from-certbot, --from-lego, "
        "--from-win-acme CACHEFILE, --from-acme-sh ...",
    )


def certbot_source(lineage: str | None, environ: Mapping[str, str]) -> RenewalSource:
    """certbot's renewed lineage: its ``privkey.pem`` and ``fullchain.pem`` (leaf first, then the chain)."""
    folder = lineage or environ.get("RENEWED_LINEAGE", "").strip()
    if not folder:
        raise UsageError(
            "--from-certbot: $RENEWED_LINEAGE is not set and no lineage folder was given",
            hint="run it as certbot's --deploy-hook, or name the folder: --from-certbot /etc/letsencrypt/live/NAME",
        )
    path = Path(folder)
    if not path.is_dir():
        raise InputFileError(
            f"the certbot lineage {path} is not a folder",
            hint="expected certbot's live/NAME folder holding privkey.pem and fullchain.pem",
        )
    domains = environ.get("RENEWED_DOMAINS", "").split()
    about = f"certbot lineage {path} ({CERTBOT_KEY}, {CERTBOT_FULLCHAIN})"
    if domains:
        about += f", domains {', '.join(domains)}"
    return RenewalSource(CERTBOT, about, cert=path / CERTBOT_FULLCHAIN, key=path / CERTBOT_KEY)


def lego_source(cert: str | None, environ: Mapping[str, str]) -> RenewalSource:
    """lego's hook environment: ``LEGO_CERT_PATH`` (the certificate with its issuer, as lego bundles it by
    default) and ``LEGO_CERT_KEY_PATH``; ``LEGO_CERT_DOMAIN`` names it. Given a CERT path instead (a rerun by
    hand), the key is lego's file next to it: DOMAIN.crt -> DOMAIN.key."""
    if cert:
        cert_path = Path(cert)
        key_path = cert_path.with_suffix(".key")
        domain = cert_path.stem
    else:
        cert_env = environ.get("LEGO_CERT_PATH", "").strip()
        key_env = environ.get("LEGO_CERT_KEY_PATH", "").strip()
        if not cert_env or not key_env:
            missing = " and ".join(
                n for n, v in (("$LEGO_CERT_PATH", cert_env), ("$LEGO_CERT_KEY_PATH", key_env)) if not v
            )
            raise UsageError(
                f"--from-lego: {missing} not set and no certificate was given",
                hint="run it as lego's --run-hook/--renew-hook, or name the file: "
                "--from-lego /path/.lego/certificates/DOMAIN.crt",
            )
        cert_path, key_path = Path(cert_env), Path(key_env)
        domain = environ.get("LEGO_CERT_DOMAIN", "").strip() or cert_path.stem
    return RenewalSource(
        LEGO, f"lego certificate {cert_path} and key {key_path}, domain {domain}", cert=cert_path, key=key_path
    )


def win_acme_source(cache_file: str) -> RenewalSource:
    """win-acme's script step: ``{CacheFile}`` is a .pfx; its ``{CachePassword}`` comes on stdin or in the
    environment (the wrapper script passes it on), never as an argument."""
    return RenewalSource(WIN_ACME, f"win-acme cache file {cache_file}", pfx=Path(cache_file))


def acme_sh_source(values: Sequence[str]) -> RenewalSource:
    """acme.sh's deploy arguments, in its order: domain, key, certificate, CA (the chain), full chain."""
    domain, key, cert, ca, _fullchain = values
    chain = (Path(ca),) if ca else ()
    return RenewalSource(ACME_SH, f"acme.sh deploy of {domain}", cert=Path(cert), key=Path(key), chain=chain)
