"""Read a PKCS#12 file's MAC and bag encryption algorithms without its password (ASN.1 only)."""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import pkcs12

from tmsclient.errors import InputFileError

# OpenSSL's names, so a report can be compared line by line with `openssl pkcs12 -info`.
_PBES1_NAMES = {
    "pkcs12_sha1_rc4_128": ("pbeWithSHA1And128BitRC4", "RC4-128"),
    "pkcs12_sha1_rc4_40": ("pbeWithSHA1And40BitRC4", "RC4-40"),
    "pkcs12_sha1_tripledes_3key": ("pbeWithSHA1And3-KeyTripleDES-CBC", "3DES"),
    "pkcs12_sha1_tripledes_2key": ("pbeWithSHA1And2-KeyTripleDES-CBC", "2DES"),
    "pkcs12_sha1_rc2_128": ("pbeWithSHA1And128BitRC2-CBC", "RC2-128"),
    "pkcs12_sha1_rc2_40": ("pbeWithSHA1And40BitRC2-CBC", "RC2-40"),
}
_PBES2_CIPHERS = {
    ("aes", 16): "AES-128-CBC",
    ("aes", 24): "AES-192-CBC",
    ("aes", 32): "AES-256-CBC",
    ("tripledes", 24): "DES-EDE3-CBC",
    ("des", 8): "DES-CBC",
}
# PBES2 ciphers asn1crypto does not know, by OID, so a report can still name them.
_PBES2_CIPHER_OIDS = {
    "1.2.392.200011.61.1.1.1.2": "CAMELLIA-128-CBC",
    "1.2.392.200011.61.1.1.1.3": "CAMELLIA-192-CBC",
    "1.2.392.200011.61.1.1.1.4": "CAMELLIA-256-CBC",
    "1.2.410.200046.1.1.2": "ARIA-128-CBC",
    "1.2.410.200046.1.1.7": "ARIA-192-CBC",
    "1.2.410.200046.1.1.12": "ARIA-256-CBC",
    "1.2.156.10197.1.104.2": "SM4-CBC",
}


@dataclass(frozen=True)
class BagEncryption:
    """How one bag (or encrypted safe) is protected."""

    scheme: str  # "pbes1", "pbes2", "none" or "unknown"
    name: str  # OpenSSL's wording: "pbeWithSHA1And3-KeyTripleDES-CBC", "PBES2, PBKDF2, AES-256-CBC, ..."
    cipher: str | None  # "3DES", "RC2-40", "AES-256-CBC", ...
    prf: str | None  # hash of the key derivation: "sha1", "sha256", ...
    iterations: int | None


@dataclass(frozen=True)
class Pkcs12Algorithms:
    """Everything about a .pfx's protection that can be read without the password."""

    mac_digest: str | None  # "sha1", "sha256", ...; None when the file has no MAC
    mac_iterations: int | None
    cert_encryption: tuple[BagEncryption, ...]  # encrypted safes (where certificates normally live)
    key_encryption: tuple[BagEncryption, ...]  # shrouded key bags visible without the password
    plain_cert_bags: int  # certificate bags stored without encryption
    has_visible_key_bag: bool  # a key bag is visible without the password

    @property
    def cert_encryption_name(self) -> str | None:
        if self.cert_encryption:
            return "; ".join(sorted({e.name for e in self.cert_encryption}))
        return "none" if self.plain_cert_bags else None

    @property
    def key_encryption_name(self) -> str | None:
        if self.key_encryption:
            return "; ".join(sorted({e.name for e in self.key_encryption}))
        return None

    @property
    def max_iterations(self) -> int:
        counts = [e.iterations or 0 for e in (*self.cert_encryption, *self.key_encryption)]
        return max([self.mac_iterations or 0, *counts])

    def to_json(self) -> dict[str, object]:
        return {
            "mac_digest": self.mac_digest,
            "mac_iterations": self.mac_iterations,
            "cert_encryption": self.cert_encryption_name,
            "key_encryption": self.key_encryption_name,
            "cert_encryption_details": [vars_of(e) for e in self.cert_encryption],
            "key_encryption_details": [vars_of(e) for e in self.key_encryption],
        }


def vars_of(enc: BagEncryption) -> dict[str, object]:
    return {"scheme": enc.scheme, "name": enc.name, "cipher": enc.cipher, "prf": enc.prf, "iterations": enc.iterations}


def _describe(alg: object) -> BagEncryption:
    algorithm = alg["algorithm"].native  # type: ignore[index]
    if algorithm in _PBES1_NAMES:
        name, cipher = _PBES1_NAMES[algorithm]
        return BagEncryption("pbes1", name, cipher, "sha1", alg.kdf_iterations)  # type: ignore[attr-defined]
    if algorithm == "pbes2":
        kdf = alg.kdf  # type: ignore[attr-defined]
        prf = alg.kdf_hmac if kdf == "pbkdf2" else None  # type: ignore[attr-defined]
        cipher_name: str | None
        try:
            cipher_name = _PBES2_CIPHERS.get((alg.encryption_cipher, alg.key_length))  # type: ignore[attr-defined]
        except (ValueError, KeyError):
            cipher_name = None
        if cipher_name is None:
            oid = alg["parameters"]["encryption_scheme"]["algorithm"].dotted  # type: ignore[index]
            cipher_name = _PBES2_CIPHER_OIDS.get(oid, f"unknown cipher {oid}")
        cipher = cipher_name
        prf_text = f", PRF hmacWith{prf.upper()}" if prf else ""
        name = f"PBES2, {str(kdf).upper()}, {cipher}{prf_text}"
        return BagEncryption("pbes2", name, cipher, prf, alg.kdf_iterations)  # type: ignore[attr-defined]
    return BagEncryption("unknown", str(algorithm), None, None, None)


def read_pkcs12_algorithms(data: bytes) -> Pkcs12Algorithms:
    """Parse the outer PKCS#12 structure. Raises InputFileError when ``data`` is not a PKCS#12 file."""
    try:
        pfx = pkcs12.Pfx.load(data, strict=True)
        if pfx["version"].native not in ("v3", 3):
            raise ValueError(f"PFX version {pfx['version'].native}")
        mac_digest = mac_iterations = None
        mac_data = pfx["mac_data"]
        if mac_data.native is not None:
            mac_digest = mac_data["mac"]["digest_algorithm"]["algorithm"].native
            mac_iterations = mac_data["iterations"].native
        cert_enc: list[BagEncryption] = []
        key_enc: list[BagEncryption] = []
        plain_certs = 0
        visible_key = False
        for content_info in pfx.authenticated_safe:
            kind = content_info["content_type"].native
            if kind == "encrypted_data":
                eci = content_info["content"]["encrypted_content_info"]
                cert_enc.append(_describe(eci["content_encryption_algorithm"]))
            elif kind == "data":
                safe = pkcs12.SafeContents.load(content_info["content"].native)
                for bag in safe:
                    bag_id = bag["bag_id"].native
                    if bag_id == "pkcs8_shrouded_key_bag":
                        visible_key = True
                        key_enc.append(_describe(bag["bag_value"]["encryption_algorithm"]))
                    elif bag_id == "key_bag":
                        visible_key = True
                        key_enc.append(BagEncryption("none", "none", None, None, None))
                    elif bag_id == "cert_bag":
                        plain_certs += 1
            else:
                cert_enc.append(BagEncryption("unknown", str(kind), None, None, None))
    except InputFileError:
        raise
    except Exception as exc:  # asn1crypto parses lazily and raises many types on malformed input
        raise InputFileError(
            "not a PKCS#12 (.pfx/.p12) file: its ASN.1 structure cannot be read",
            details=[f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"],
        ) from exc
    return Pkcs12Algorithms(
        mac_digest=mac_digest,
        mac_iterations=mac_iterations,
        cert_encryption=tuple(cert_enc),
        key_encryption=tuple(key_enc),
        plain_cert_bags=plain_certs,
        has_visible_key_bag=visible_key,
    )
