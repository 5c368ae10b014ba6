"""Load a .pfx/.p12 (or a certificate file) safely, with one specific message for each way it can be wrong."""

from __future__ import annotations

import base64
import binascii
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import pkcs12

from tmsclient.certs.chain import OrderedChain, order_chain, pick_leaf
from tmsclient.certs.mac import mac_verifies
from tmsclient.certs.parsing import find_private_key_blocks, load_certificates, looks_like_pem, pem_labels
from tmsclient.certs.pkcs12_info import BagEncryption, Pkcs12Algorithms, read_pkcs12_algorithms
from tmsclient.certs.summary import CertSummary, key_matches, summarize
from tmsclient.credentials import Secret
from tmsclient.errors import InputFileError, PasswordError
from tmsclient.files import MAX_INPUT_BYTES, read_input_file

log = logging.getLogger(__name__)

#: Largest .pfx we read (see files.MAX_INPUT_BYTES).
MAX_PFX_BYTES = MAX_INPUT_BYTES
#: Key-derivation counts beyond this are refused before any key is derived: a crafted file could
#: otherwise keep the process busy for hours, and Windows refuses anything above 600,000 anyway.
MAX_LOAD_ITERATIONS = 10_000_000

# Algorithms every common tool writes; anything else is named when a file cannot be opened.
_COMMON_PBES1 = frozenset({"3DES", "2DES", "RC2-40", "RC2-128", "RC4-40", "RC4-128"})
_COMMON_PBES2 = frozenset({"AES-128-CBC", "AES-192-CBC", "AES-256-CBC", "DES-EDE3-CBC"})


@dataclass(frozen=True)
class PfxBundle:
    """The contents of a PKCS#12 file opened with its password."""

    key: Any = field(repr=False)  # a cryptography private key, or None when the file holds none
    cert: x509.Certificate  # the leaf: the certificate of the key (or the end-entity one when there is no key)
    chain: tuple[x509.Certificate, ...]  # leaf excluded, ordered leaf -> root
    friendly_name: str | None  # of the leaf
    algorithms: Pkcs12Algorithms
    data: bytes = field(repr=False)  # the raw file
    path: Path | None
    source: str = ""  # how to name the file in messages
    chain_friendly_names: tuple[str | None, ...] = ()  # aligned with ``chain``
    extra_certs: tuple[x509.Certificate, ...] = ()  # certificates in the file that are not on the leaf's chain
    extra_friendly_names: tuple[str | None, ...] = ()  # aligned with ``extra_certs``
    ordered: OrderedChain | None = field(default=None, repr=False, compare=False)

    @property
    def has_key(self) -> bool:
        return self.key is not None

    @property
    def key_matches(self) -> bool | None:
        """None without a key."""
        return None if self.key is None else key_matches(self.key, self.cert)

    @property
    def summary(self) -> CertSummary:
        return summarize(self.cert)

    @property
    def chain_order(self) -> OrderedChain:
        return self.ordered if self.ordered is not None else order_chain(self.cert, self.chain)


def _der_total_length(data: bytes) -> int | None:
    """The length a DER SEQUENCE header announces (header included), or None if it is not one."""
    if len(data) < 2 or data[0] != 0x30:
        return None
    first = data[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(data) < 2 + count:
        return None  # indefinite (BER) or absurd
    return 2 + count + int.from_bytes(data[2 : 2 + count], "big")


def _looks_like_base64_pfx(data: bytes) -> bool:
    text = b"".join(data.split())
    if len(text) < 64 or len(text) % 4:
        return False
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return decoded[:1] == b"\x30"


def diagnose_not_pkcs12(data: bytes, source: str, cause: InputFileError | None = None) -> InputFileError:
    """The most specific explanation of why ``data`` is not a readable PKCS#12 file."""
    if not data:
        return InputFileError(f"{source} is empty (0 bytes)")
    if looks_like_pem(data):
        labels = list(dict.fromkeys(pem_labels(data)))
        held = ", ".join(labels) if labels else "an incomplete PEM block"
        has_key = bool(find_private_key_blocks(data))
        has_cert = any(label in ("CERTIFICATE", "X509 CERTIFICATE", "PKCS7") for label in labels)
        if has_key and has_cert:
            hint = "make a .pfx from it with `tmsclient bundle --cert FILE --out OUT.p12`"
        elif has_key:
            hint = "make a .pfx from it with `tmsclient bundle --cert CERT --key FILE --out OUT.p12`"
        else:
            hint = "make a .pfx from it with `tmsclient bundle --cert FILE --key KEY --out OUT.p12`"
        return InputFileError(
            f"{source} is a PEM text file (holding {held}), not a PKCS#12 (.pfx/.p12) file", hint=hint
        )
    announced = _der_total_length(data)
    if announced is not None and announced > len(data):
        return InputFileError(
            f"{source} is truncated: got {len(data):,} bytes, expected {announced:,} (the size its header announces)",
            hint="copy or download the file again (in binary mode)",
        )
    if announced is not None and announced < len(data):
        return InputFileError(
            f"{source} has {len(data) - announced:,} unexpected bytes after its {announced:,}-byte ASN.1 structure",
            hint="the file was damaged or concatenated; export it again",
        )
    if _is_der_certificate(data):
        return InputFileError(
            f"{source} is a DER certificate without its private key, not a PKCS#12 (.pfx/.p12) file",
            hint="export the certificate with its private key as a .pfx",
        )
    if _looks_like_base64_pfx(data):
        return InputFileError(
            f"{source} looks like a Base64-encoded .pfx rather than the binary file",
            hint="decode it first (`base64 -d FILE > OUT.pfx`)",
        )
    details = list(cause.details) if cause else []
    return InputFileError(f"{source} is not a PKCS#12 (.pfx/.p12) file: its structure cannot be read", details=details)


def _is_der_certificate(data: bytes) -> bool:
    try:
        x509.load_der_x509_certificate(data)
    except Exception:
        return False
    return True


def read_algorithms(data: bytes, source: str) -> Pkcs12Algorithms:
    """The file's MAC and encryption algorithms (no password needed), or a specific InputFileError."""
    if not data or looks_like_pem(data):
        raise diagnose_not_pkcs12(data, source)
    try:
        algorithms = read_pkcs12_algorithms(data)
    except InputFileError as exc:
        raise diagnose_not_pkcs12(data, source, exc) from exc
    log.debug(
        "%s: MAC %s (%s iterations), certificates: %s, key: %s",
        source,
        algorithms.mac_digest,
        algorithms.mac_iterations,
        algorithms.cert_encryption_name,
        algorithms.key_encryption_name,
    )
    return algorithms


def _unusual(algorithms: Pkcs12Algorithms) -> list[str]:
    names = []
    for enc in (*algorithms.cert_encryption, *algorithms.key_encryption):
        if not _is_common(enc):
            names.append(enc.name)
    if algorithms.mac_digest and algorithms.mac_digest not in {
        "sha1",
        "sha224",
        "sha256",
        "sha384",
        "sha512",
    }:
        names.append(f"MAC {algorithms.mac_digest}")
    return list(dict.fromkeys(names))


def _is_common(enc: BagEncryption) -> bool:
    if enc.scheme == "none":
        return True
    if enc.scheme == "pbes1":
        return enc.cipher in _COMMON_PBES1
    if enc.scheme == "pbes2":
        return enc.cipher in _COMMON_PBES2
    return False


def _open_failure(
    data: bytes, password: Secret, algorithms: Pkcs12Algorithms, source: str, exc: Exception
) -> Exception:
    """cryptography says "Invalid password or PKCS12 data" for both causes; the MAC and algorithms decide."""
    unusual = _unusual(algorithms)
    verdict = mac_verifies(data, password.reveal())
    if verdict is False:
        return PasswordError(
            f"wrong password for {source}: the file's integrity check ({algorithms.mac_digest} MAC) "
            "fails with the "
            f"password from {password.source}",
            hint="check the .pfx password; it must match exactly, including case and spaces",
        )
    if verdict is True:
        what = (
            f"it uses {', '.join(unusual)}, which this system's cryptography library cannot read"
            if unusual
            else "its contents cannot be decrypted or are damaged"
        )
        return InputFileError(
            f"{source} cannot be opened although the password is right (its MAC verifies): {what}",
            hint="re-export it as TripleDES-SHA1, or open it with `openssl pkcs12` and `tmsclient bundle` it",
            details=[f"cryptography: {exc}"],
        )
    # No MAC (or one we cannot compute): only the algorithms can tell.
    if unusual:
        return InputFileError(
            f"{source} cannot be opened: it uses {', '.join(unusual)}, which this system's cryptography "
            "library may not read; a wrong password would give the same error, and the file has no MAC "
            "to tell them apart",
            hint="check the password; if it is right, re-export the file as TripleDES-SHA1",
        )
    reason = "the file has no MAC" if algorithms.mac_digest is None else "its MAC could not be checked"
    return PasswordError(
        f"wrong password for {source}: the contents do not decrypt with the password from {password.source} "
        f"({reason}, so a damaged file would look the same)",
        hint="check the .pfx password; it must match exactly, including case and spaces",
    )


def _load(data: bytes, password: Secret) -> pkcs12.PKCS12KeyAndCertificates:
    """The file as cryptography opens it; OpenSSL writes an empty password either as empty or as none."""
    if password:
        return pkcs12.load_pkcs12(data, password.encode())
    try:
        return pkcs12.load_pkcs12(data, b"")
    except ValueError:
        return pkcs12.load_pkcs12(data, None)


def _name(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    return raw.decode("utf-8", errors="replace")


def load_pfx_bytes(data: bytes, password: Secret, *, source: str, path: Path | None = None) -> PfxBundle:
    """Open PKCS#12 bytes with ``password``. Raises InputFileError (not a .pfx, damaged, no certificate,
    unreadable algorithm) or PasswordError (wrong password)."""
    if len(data) > MAX_PFX_BYTES:
        raise InputFileError(f"{source} is {len(data):,} bytes; expected at most {MAX_PFX_BYTES:,}")
    algorithms = read_algorithms(data, source)
    if algorithms.max_iterations > MAX_LOAD_ITERATIONS:
        raise InputFileError(
            f"{source} asks for {algorithms.max_iterations:,} key-derivation iterations; refusing to open it "
            f"(at most {MAX_LOAD_ITERATIONS:,}, and Windows refuses more than 600,000)",
        )
    try:
        loaded = _load(data, password)
    except UnsupportedAlgorithm as exc:
        raise InputFileError(f"{source} uses an algorithm this system cannot read: {exc}") from exc
    except (ValueError, TypeError) as exc:
        raise _open_failure(data, password, algorithms, source, exc) from exc

    key = loaded.key
    entries = ([loaded.cert] if loaded.cert is not None else []) + list(loaded.additional_certs)
    if not entries:
        raise InputFileError(
            f"{source} holds no certificate" + (" (only a private key)" if key is not None else ""),
            hint="export the certificate together with its private key",
        )
    if loaded.cert is not None:
        leaf_entry = loaded.cert
    else:
        matching = [e for e in entries if key is not None and key_matches(key, e.certificate)]
        if matching:
            leaf_entry = matching[0]
        else:
            leaf_cert = pick_leaf([e.certificate for e in entries])
            leaf_entry = next(e for e in entries if e.certificate is leaf_cert)
    others = [e for e in entries if e is not leaf_entry]
    ordered = order_chain(leaf_entry.certificate, [e.certificate for e in others])
    names = {id(e.certificate): _name(e.friendly_name) for e in others}
    bundle = PfxBundle(
        key=key,
        cert=leaf_entry.certificate,
        chain=ordered.chain,
        friendly_name=_name(leaf_entry.friendly_name),
        algorithms=algorithms,
        data=data,
        path=path,
        source=source,
        chain_friendly_names=tuple(names.get(id(c)) for c in ordered.chain),
        extra_certs=ordered.unrelated,
        extra_friendly_names=tuple(names.get(id(c)) for c in ordered.unrelated),
        ordered=ordered,
    )
    log.debug(
        "%s: opened with the password from %s: key %s, %d chain certificate(s)",
        source,
        password.source,
        "present" if key is not None else "absent",
        len(ordered.chain),
    )
    return bundle


def load_pfx_file(path: str | os.PathLike[str], password: Secret) -> PfxBundle:
    """Read and open a .pfx/.p12 file (at most MAX_PFX_BYTES; see read_input_file for the file checks)."""
    p = Path(path)
    data = read_input_file(p, "PKCS#12 file", limit=MAX_PFX_BYTES)
    return load_pfx_bytes(data, password, source=str(p), path=p)


def read_pfx_algorithms_file(path: str | os.PathLike[str]) -> tuple[bytes, Pkcs12Algorithms]:
    """The bytes and the password-free algorithm report of a .pfx file."""
    p = Path(path)
    data = read_input_file(p, "PKCS#12 file", limit=MAX_PFX_BYTES)
    return data, read_algorithms(data, str(p))


# -- certificate files (PEM/DER/PKCS#7) ------------------------------------------------------------


@dataclass(frozen=True)
class CertFile:
    """A certificate file: its leaf, the rest ordered leaf -> root, and whether a private key rides along."""

    path: Path | None
    source: str
    format: str  # "pem" or "der"
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    extra_certs: tuple[x509.Certificate, ...]
    key_blocks: int  # PEM private key blocks in the same file
    key_encrypted: bool
    ordered: OrderedChain = field(repr=False, compare=False)


def load_cert_bytes(data: bytes, *, source: str, path: Path | None = None) -> CertFile:
    certs = load_certificates(data, source)
    pem = looks_like_pem(data)
    first = certs[0]
    # The usual order is leaf first; a file that starts with a CA (root first) gets its leaf found instead.
    first_issued_another = any(
        c is not first and c.issuer == first.subject and c.subject != first.subject for c in certs
    )
    leaf = pick_leaf(certs) if first_issued_another else first
    ordered = order_chain(leaf, [c for c in certs if c is not leaf])
    keys = find_private_key_blocks(data) if pem else []
    return CertFile(
        path=path,
        source=source,
        format="pem" if pem else "der",
        cert=leaf,
        chain=ordered.chain,
        extra_certs=ordered.unrelated,
        key_blocks=len(keys),
        key_encrypted=any(k.encrypted for k in keys),
        ordered=ordered,
    )


def load_cert_file(path: str | os.PathLike[str]) -> CertFile:
    p = Path(path)
    data = read_input_file(p, "certificate file")
    return load_cert_bytes(data, source=str(p), path=p)


def is_pkcs12(data: bytes) -> bool:
    """Whether ``data`` parses as PKCS#12 (no password needed)."""
    if not data or looks_like_pem(data):
        return False
    try:
        read_pkcs12_algorithms(data)
    except InputFileError:
        return False
    return True


def kind_of(data: bytes, path: Path) -> str:
    """``pkcs12`` or ``certificate``: by content; the extension says what a damaged file was meant to be."""
    if is_pkcs12(data):
        return "pkcs12"
    if looks_like_pem(data):
        return "certificate"
    if path.suffix.lower() in (".pfx", ".p12"):
        return "pkcs12"  # so a damaged .pfx gets the .pfx diagnosis (truncated, Base64, ...)
    return "certificate"
