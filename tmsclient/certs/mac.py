"""Test a password against a .pfx's integrity MAC (RFC 7292 appendix B), to tell a wrong password apart."""

from __future__ import annotations

import hashlib
import hmac

from asn1crypto import pkcs12

# cryptography answers a wrong password and an unreadable algorithm with the same ValueError and exposes no
# PKCS#12 key derivation, so this small one (hashlib only) settles which it was. It decrypts nothing.

#: Iteration counts above this are not computed here (a crafted file could otherwise keep us busy for
#: minutes); .NET refuses such files anyway.
MAX_MAC_ITERATIONS = 1_000_000

_MAC_KEY_ID = 3  # RFC 7292 B.3: ID byte 3 derives MAC keys
_DIGESTS = {"sha1", "sha224", "sha256", "sha384", "sha512", "md5"}


def pkcs12_kdf(hash_name: str, password: bytes, salt: bytes, id_byte: int, iterations: int, length: int) -> bytes:
    """RFC 7292 B.2; ``password`` is already BMPString-encoded (UTF-16BE plus two zero bytes)."""
    u = hashlib.new(hash_name).digest_size
    v = hashlib.new(hash_name).block_size

    def stretch(value: bytes) -> bytes:
        if not value:
            return b""
        size = v * -(-len(value) // v)
        return (value * (size // len(value) + 1))[:size]

    diversifier = bytes([id_byte]) * v
    block = bytearray(stretch(salt) + stretch(password))
    out = b""
    modulus = 1 << (v * 8)
    while True:
        a = hashlib.new(hash_name, diversifier + bytes(block)).digest()
        for _ in range(iterations - 1):
            a = hashlib.new(hash_name, a).digest()
        out += a
        if len(out) >= length:
            return out[:length]
        b = int.from_bytes((a * (v // u + 1))[:v], "big")
        for j in range(0, len(block), v):
            n = (int.from_bytes(block[j : j + v], "big") + b + 1) % modulus
            block[j : j + v] = n.to_bytes(v, "big")


def _password_encodings(password: str) -> list[bytes]:
    if password:
        return [password.encode("utf-16-be") + b"\x00\x00"]
    # OpenSSL writes an empty password either as an empty BMPString or as no password at all.
    return [b"\x00\x00", b""]


def mac_verifies(data: bytes, password: str) -> bool | None:
    """True if ``password`` verifies the file's MAC, False if not; None when it cannot be told (no MAC, an
    unknown digest, an absurd iteration count, or a structure we cannot read)."""
    try:
        pfx = pkcs12.Pfx.load(data)
        mac_data = pfx["mac_data"]
        if mac_data.native is None:
            return None
        digest_name = mac_data["mac"]["digest_algorithm"]["algorithm"].native
        expected = mac_data["mac"]["digest"].native
        salt = mac_data["mac_salt"].native
        iterations = mac_data["iterations"].native
        content = pfx["auth_safe"]["content"].native
    except Exception:  # asn1crypto raises many types on malformed input; the caller has its own diagnosis
        return None
    if digest_name not in _DIGESTS or not isinstance(content, bytes):
        return None
    if not isinstance(iterations, int) or not 1 <= iterations <= MAX_MAC_ITERATIONS:
        return None
    key_len = hashlib.new(digest_name).digest_size
    for encoded in _password_encodings(password):
        key = pkcs12_kdf(digest_name, encoded, salt, _MAC_KEY_ID, iterations, key_len)
        if hmac.compare_digest(hmac.new(key, content, digest_name).digest(), expected):
            return True
    return False
