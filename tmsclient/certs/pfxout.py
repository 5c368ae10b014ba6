"""Writing a new .pfx for `bundle`, `convert` and `renew`: serialise, read back, then write it with its password."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from tmsclient.certs.compat import ITERATION_WARN_ABOVE, import_verdicts
from tmsclient.certs.facts import sha1_thumbprint
from tmsclient.certs.inspection import describe_encryption
from tmsclient.certs.loading import PfxBundle, load_pfx_bytes
from tmsclient.certs.pfxoptions import PfxEncryption, PfxOutputOptions
from tmsclient.certs.pfxwrite import serialize_pfx
from tmsclient.certs.summary import public_key_der, summarize
from tmsclient.credentials import Secret
from tmsclient.errors import TmsClientError
from tmsclient.files import create_exclusive, remove_quietly, write_file_atomic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WrittenPfx:
    path: Path
    bundle: PfxBundle  # the file as read back
    encryption: PfxEncryption
    password_source: str
    password_file: Path | None

    def to_json(self) -> dict[str, Any]:
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
        log.warning("%d iterations is far above Windows' own ~2,000; .NET may refuse the file", options.iterations)
    write_with_password(
        options.out, data, force=options.force, password=password, password_file=options.generate_password
    )
    log.info("wrote %s (%d bytes, %s encryption)", options.out, len(data), options.encryption.value)
    return WrittenPfx(options.out, back, options.encryption, password.source, options.generate_password)


def write_with_password(
    out: Path | None, data: bytes, *, force: bool, password: Secret, password_file: Path | None
) -> None:
    """Write a generated password (when ``password_file``) and then the .pfx (when ``out``): the password goes
    first so a .pfx never exists without it, and is removed again when the .pfx cannot be written."""
    if password_file is not None:
        create_exclusive(password_file, (password.reveal() + "\n").encode("utf-8"), mode=0o600, what="password file")
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
    names_in = dict(zip(wanted, chain_names if chain_names is not None else [None] * len(wanted), strict=True))
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
