"""What protects an uploaded .pfx (its MAC, and how each part is encrypted), read from its ASN.1 without a password."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asn1crypto import pkcs12 as asn1_pkcs12

from tmsemulator.errors import EmulatorError

#: PKCS#12's own password-based encryptions (RFC 7292 appendix C), by asn1crypto's name, as the cipher they use.
_PKCS12_PBE_CIPHERS = {
    "pkcs12_sha1_tripledes_3key": "3DES",
    "pkcs12_sha1_tripledes_2key": "2-key 3DES",
    "pkcs12_sha1_rc2_128": "RC2-128",
    "pkcs12_sha1_rc2_40": "RC2-40",
    "pkcs12_sha1_rc4_128": "RC4-128",
    "pkcs12_sha1_rc4_40": "RC4-40",
}
#: PBES2 (RFC 8018) encryption schemes, by asn1crypto's name.
_PBES2_CIPHERS = {
    "aes128_cbc": "AES-128-CBC",
    "aes192_cbc": "AES-192-CBC",
    "aes256_cbc": "AES-256-CBC",
    "tripledes_3key": "3DES-CBC",
    "des": "DES-CBC",
    "rc2": "RC2-CBC",
}


class NotPkcs12Error(EmulatorError):
    """Raised by read_protection when the upload is not a PKCS#12 structure at all."""


@dataclass(frozen=True)
class Encryption:
    """How one part of the file is encrypted."""

    part: str  # "certificates" (an encrypted safe) or "key" (a shrouded key bag)
    scheme: str  # "PKCS#12 PBE", "PBES2", or the algorithm's own name when it is neither
    cipher: str  # "3DES", "RC2-40", "AES-256-CBC", ...; "" when the scheme is not understood
    prf: str | None  # the hash of PBES2's PBKDF2 ("sha256"); None for other schemes
    iterations: int

    def describe(self) -> str:
        prf = f", PBKDF2-HMAC-{self.prf.upper()}" if self.prf else ""
        return f"{self.scheme} {self.cipher}{prf}".strip()


@dataclass(frozen=True)
class Protection:
    """Everything about a .pfx's protection that is visible before the password is tried."""

    mac_digest: str | None  # the integrity MAC's hash ("sha1", "sha256", ...); None: the file has no MAC
    mac_iterations: int
    encryptions: tuple[Encryption, ...]  # parts stored in the clear (plain bags) are not listed

    @property
    def iteration_counts(self) -> tuple[int, ...]:
        """Every key derivation the import runs: the MAC's and each encrypted part's."""
        mac = (self.mac_iterations,) if self.mac_digest is not None else ()
        return mac + tuple(e.iterations for e in self.encryptions)


def _encryption(part: str, algorithm: Any) -> Encryption:
    name = algorithm["algorithm"].native
    if name in _PKCS12_PBE_CIPHERS:
        return Encryption(part, "PKCS#12 PBE", _PKCS12_PBE_CIPHERS[name], None, algorithm.kdf_iterations)
    if name == "pbes2":
        kdf = algorithm["parameters"]["key_derivation_func"]["algorithm"].native
        scheme = algorithm["parameters"]["encryption_scheme"]["algorithm"].native
        cipher = _PBES2_CIPHERS.get(scheme, str(scheme))
        if kdf != "pbkdf2":
            return Encryption(part, f"PBES2 with {kdf}", cipher, None, 0)
        return Encryption(part, "PBES2", cipher, algorithm.kdf_hmac, algorithm.kdf_iterations)
    return Encryption(part, str(name), "", None, 0)


def read_protection(data: bytes) -> Protection:
    """The MAC and the encryption of each part of ``data``; NotPkcs12Error when it is not a PKCS#12 file."""
    try:
        pfx = asn1_pkcs12.Pfx.load(data, strict=True)
        if pfx["version"].native not in ("v3", 3):
            raise ValueError(f"PFX version {pfx['version'].native}, expected 3")
        mac_digest: str | None = None
        mac_iterations = 0
        if pfx["mac_data"].native is not None:
            mac_digest = pfx["mac_data"]["mac"]["digest_algorithm"]["algorithm"].native
            mac_iterations = int(pfx["mac_data"]["iterations"].native)
        encryptions: list[Encryption] = []
        for content_info in pfx.authenticated_safe:
            kind = content_info["content_type"].native
            if kind == "encrypted_data":
                info = content_info["content"]["encrypted_content_info"]
                encryptions.append(_encryption("certificates", info["content_encryption_algorithm"]))
            elif kind == "data":
                for bag in asn1_pkcs12.SafeContents.load(content_info["content"].native):
                    if bag["bag_id"].native == "pkcs8_shrouded_key_bag":
                        encryptions.append(_encryption("key", bag["bag_value"]["encryption_algorithm"]))
            else:  # enveloped (public-key) protection, which a password import cannot open
                encryptions.append(Encryption("certificates", str(kind), "", None, 0))
    except Exception as exc:  # asn1crypto parses lazily: a malformed file raises many types, late
        raise NotPkcs12Error("not a PKCS#12 structure", details=[type(exc).__name__]) from exc
    return Protection(mac_digest, mac_iterations, tuple(encryptions))
