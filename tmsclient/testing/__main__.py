"""``python -m tmsclient.testing make-cert --out DIR``: a throw-away chain as PEM files, for demos and pipelines."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tmsclient.testing",
        description="Throw-away certificates for trying tmsclient against its emulator. Never for production.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("make-cert", help="write cert.pem, key.pem (unencrypted, mode 0600) and chain.pem")
    make.add_argument("--out", required=True, type=Path, help="directory to write into (created if missing)")
    make.add_argument("--cn", default="tms.example.com", help="the leaf's common name (default: %(default)s)")
    make.add_argument("--days", type=int, default=365, help="validity of the leaf in days (default: %(default)s)")
    make.add_argument("--force", action="store_true", help="overwrite existing files")
    args = parser.parse_args(argv)

    from tmsclient.testing.certs import make_chain

    names = ("cert.pem", "key.pem", "chain.pem")
    existing = [n for n in names if (args.out / n).exists()]
    if existing and not args.force:
        print(f"make-cert: {', '.join(existing)} already in {args.out}; use --force to overwrite", file=sys.stderr)
        return 6
    args.out.mkdir(parents=True, exist_ok=True)
    chain = make_chain(args.cn, days=args.days)
    (args.out / "cert.pem").write_bytes(chain.leaf.cert_pem())
    key_path = args.out / "key.pem"
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(chain.leaf.key_pem())
    (args.out / "chain.pem").write_bytes(chain.intermediate.cert_pem() + chain.root.cert_pem())
    print(f"wrote {args.out / 'cert.pem'}, {key_path} and {args.out / 'chain.pem'} (CN={args.cn})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
