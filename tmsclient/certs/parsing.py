"""Parse certificates and private keys from PEM or DER, tolerating BOMs, CRLF and text around PEM blocks."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from tmsclient.credentials import Secret
from tmsclient.errors import InputFileError, PasswordError

log = logging.getLogger(__name__)

_PEM_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\n(.*?)-----END \1-----",
    re.DOTALL,
)
_CERT_LABELS = {b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"}
_PKCS7_LABELS = {b"PKCS7", b"CMS"}
_KEY_LABELS = {
    b"PRIVATE KEY",
    b"ENCRYPTED PRIVATE KEY",
    b"RSA PRIVATE KEY",
    b"EC PRIVATE KEY",
    b"DSA PRIVATE KEY",
}


@dataclass(frozen=True)
class PemBlock:
    label: str
    data: bytes  # the whole block, BEGIN to END line, LF line endings

    @property
    def encrypted(self) -> bool:
        return self.label == "ENCRYPTED PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in self.data


def normalize_text(data: bytes) -> bytes:
    """Undo what Windows editors do to a PEM file: a UTF-8 or UTF-16 byte order mark, CRLF or CR line ends."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            data = data.decode("utf-16").encode("ascii", errors="replace")
        except UnicodeDecodeError:
            return data
    data = data.removeprefix(b"\xef\xbb\xbf")
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def looks_like_pem(data: bytes) -> bool:
    return b"-----BEGIN " in normalize_text(data[: 64 * 1024])


def pem_blocks(data: bytes) -> list[PemBlock]:
    text = normalize_text(data)
    blocks = []
    for match in _PEM_BLOCK.finditer(text):
        # Indented or trailing-space lines (pasted from mail) trip the strict PEM readers.
        body = b"\n".join(line.strip() for line in match.group(2).split(b"\n"))
        label = match.group(1)
        block = b"-----BEGIN " + label + b"-----\n" + body.strip(b"\n") + b"\n-----END " + label + b"-----\n"
        blocks.append(PemBlock(label.decode("ascii"), block))
    return blocks


def pem_labels(data: bytes) -> list[str]:
    return [b.label for b in pem_blocks(data)]


def load_certificates(data: bytes, source: str) -> tuple[x509.Certificate, ...]:
    """Every certificate in a PEM file (certificates and PKCS#7 bundles) or a DER certificate or PKCS#7."""
    certs: list[x509.Certificate] = []
    if looks_like_pem(data):
        blocks = pem_blocks(data)
        for block in blocks:
            label = block.label.encode("ascii")
            try:
                if label in _CERT_LABELS:
                    if label == b"TRUSTED CERTIFICATE":
                        raise InputFileError(
                            f"{source} holds an OpenSSL TRUSTED CERTIFICATE block, which cannot be read",
                            hint="convert it with `openssl x509 -in FILE -out plain.pem`",
                        )
                    certs.append(x509.load_pem_x509_certificate(block.data))
                elif label in _PKCS7_LABELS:
                    certs.extend(pkcs7.load_pem_pkcs7_certificates(block.data))
            except InputFileError:
                raise
            except Exception as exc:
                raise InputFileError(
                    f"{source} holds a damaged {block.label} block",
                    details=[f"{type(exc).__name__}: {_first_line(exc)}"],
                ) from exc
        if not certs:
            found = ", ".join(dict.fromkeys(b.label for b in blocks)) or "no complete PEM block"
            raise InputFileError(f"{source} holds no certificate (found: {found})")
        return tuple(certs)
    try:
        return (x509.load_der_x509_certificate(data),)
    except Exception:
        log.debug("%s is not a DER certificate; trying DER PKCS#7", source)
    try:
        loaded = pkcs7.load_der_pkcs7_certificates(data)
    except Exception:
        loaded = []
    if loaded:
        return tuple(loaded)
    raise InputFileError(
        f"{source} is neither a PEM nor a DER certificate",
        hint="give the certificate as Base64 (PEM) or binary (DER) X.509",
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0][:200] if text else ""


PassphraseProvider = Callable[[], Secret]


def find_private_key_blocks(data: bytes) -> list[PemBlock]:
    return [b for b in pem_blocks(data) if b.label.encode("ascii") in _KEY_LABELS]


def load_private_key(data: bytes, source: str, passphrase: PassphraseProvider | None = None) -> Any:
    """The one private key in a PEM or DER file. ``passphrase`` is called only if the key is encrypted."""
    if looks_like_pem(data):
        blocks = find_private_key_blocks(data)
        if not blocks:
            found = ", ".join(dict.fromkeys(pem_labels(data))) or "no complete PEM block"
            if "OPENSSH PRIVATE KEY" in found:
                raise InputFileError(
                    f"{source} is an OpenSSH private key, which cannot be used for a certificate",
                    hint="give the PEM key that made the certificate signing request",
                )
            raise InputFileError(f"{source} holds no private key (found: {found})")
        if len(blocks) > 1:
            raise InputFileError(f"{source} holds {len(blocks)} private keys, expected 1")
        return _load_key(blocks[0].data, source, passphrase, pem=True, encrypted=blocks[0].encrypted)
    return _load_key(data, source, passphrase, pem=False, encrypted=None)


def _load_key(
    data: bytes, source: str, passphrase: PassphraseProvider | None, *, pem: bool, encrypted: bool | None
) -> Any:
    loader = serialization.load_pem_private_key if pem else serialization.load_der_private_key
    if not encrypted:
        try:
            return loader(data, None)
        except TypeError:
            encrypted = True  # "Password was not given but private key is encrypted"
        except UnsupportedAlgorithm as exc:
            raise InputFileError(f"the private key in {source} uses an unsupported algorithm: {exc}") from exc
        except ValueError as exc:
            if pem:
                raise InputFileError(
                    f"the private key in {source} cannot be read",
                    details=[_first_line(exc)],
                ) from exc
            raise InputFileError(
                f"{source} is neither a PEM nor a DER private key",
                hint="give the key file that made the certificate signing request",
            ) from exc
    if passphrase is None:
        raise PasswordError(f"the private key in {source} is encrypted and no passphrase can be asked for")
    secret = passphrase()
    try:
        key = loader(data, secret.encode())
    except UnsupportedAlgorithm as exc:
        raise InputFileError(f"the private key in {source} is encrypted with an unsupported cipher: {exc}") from exc
    except (ValueError, TypeError) as exc:
        raise PasswordError(
            f"the passphrase from {secret.source} does not decrypt the private key in {source}",
            hint="check the key passphrase (it is not the .pfx password)",
        ) from exc
    log.debug("decrypted the private key in %s with the passphrase from %s", source, secret.source)
    return key
