"""What each Windows Server version's .NET ``X509Certificate2`` imports from a .pfx: the emulator's own table.

Written from the documented behaviour (docs/emulator.md, "Which .pfx files a Windows host imports"), not from
tmsclient's preflight: a stand-in that shared the client's verdict could only ever agree with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tmsemulator.pfxread import Protection

#: Windows Server versions a TMS 15.x host runs on, oldest first.
WINDOWS_VERSIONS: tuple[str, ...] = ("2012r2", "2016", "2019", "2022")
DEFAULT_SERVER_OS = "2016"

#: The 2023 .NET hardening refuses a file whose key derivations run more iterations than this
#: (its default Pkcs12UnspecifiedPasswordIterationLimit); Windows' own exports use about 2,000.
DOTNET_ITERATION_LIMIT = 600_000

# The cipher families a host decrypts, as (scheme, cipher) of pfxread.Encryption.
PBE_3DES = ("PKCS#12 PBE", "3DES")
PBE_RC2_40 = ("PKCS#12 PBE", "RC2-40")
PBE_RC2_128 = ("PKCS#12 PBE", "RC2-128")
PBES2_AES_256 = ("PBES2", "AES-256-CBC")


@dataclass(frozen=True)
class HostRules:
    """One Windows Server version's PKCS#12 import."""

    mac_digests: frozenset[str]  # the integrity MACs it verifies
    ciphers: frozenset[tuple[str, str]]  # the (scheme, cipher) pairs it decrypts
    pbkdf2_hashes: frozenset[str]  # for PBES2 ciphers: the PBKDF2 hashes it derives keys with
    iteration_limit: int = DOTNET_ITERATION_LIMIT


#: 2012 R2 and 2016: only PKCS#12's own 3DES and RC2 encryption, under a SHA-1 MAC. 3DES under a SHA-256 MAC fails.
_PBES1_ONLY = HostRules(
    mac_digests=frozenset({"sha1"}),
    ciphers=frozenset({PBE_3DES, PBE_RC2_40, PBE_RC2_128}),
    pbkdf2_hashes=frozenset(),
)
#: 2019 and 2022: also AES-256 under PBES2 and SHA-256 MACs (what OpenSSL 3 and cryptography write by default).
_WITH_PBES2 = HostRules(
    mac_digests=frozenset({"sha1", "sha256"}),
    ciphers=_PBES1_ONLY.ciphers | {PBES2_AES_256},
    pbkdf2_hashes=frozenset({"sha1", "sha256"}),
)

WINDOWS_IMPORTS: dict[str, HostRules] = {
    "2012r2": _PBES1_ONLY,
    "2016": _PBES1_ONLY,
    "2019": _WITH_PBES2,
    "2022": _WITH_PBES2,
}


def _hash_name(name: str) -> str:
    return name.upper().replace("SHA", "SHA-", 1) if name.lower().startswith("sha") else name.upper()


def import_refusals(protection: Protection, server_os: str) -> tuple[str, ...]:
    """Why Windows Server ``server_os`` would not import a file protected so; empty when it would.

    On the host every one of these fails with the same text as a wrong password."""
    rules = WINDOWS_IMPORTS[server_os]
    host = f"Windows Server {server_os}"
    reasons: list[str] = []
    if protection.mac_digest is None:
        reasons.append("the file has no integrity MAC")
    elif protection.mac_digest not in rules.mac_digests:
        reasons.append(f"{host} does not verify a {_hash_name(protection.mac_digest)} MAC")
    for enc in protection.encryptions:
        family = (enc.scheme, enc.cipher)
        if family not in rules.ciphers:
            reasons.append(f"{host} does not decrypt the {enc.part} ({enc.describe() or 'unknown encryption'})")
        elif enc.prf is not None and enc.prf not in rules.pbkdf2_hashes:
            reasons.append(f"{host} does not derive keys with PBKDF2-HMAC-{_hash_name(enc.prf)} ({enc.part})")
    most = max(protection.iteration_counts, default=0)
    if most > rules.iteration_limit:
        reasons.append(f"{most} key-derivation iterations exceed .NET's limit of {rules.iteration_limit}")
    return tuple(dict.fromkeys(reasons))
