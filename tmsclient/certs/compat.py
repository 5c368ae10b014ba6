"""Which Windows Server versions' .NET X509Certificate2 will import a PKCS#12 file, and why not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: every command line imports this module, and pkcs12_info loads asn1crypto
    from tmsclient.certs.pkcs12_info import BagEncryption, Pkcs12Algorithms

#: Windows Server versions TMS 15.x runs on, oldest first.
WINDOWS_VERSIONS: tuple[str, ...] = ("2012r2", "2016", "2019", "2022")
DEFAULT_TARGET_OS = "2016"

#: Hosts without PBES2/AES or SHA-2 MAC support in their PKCS#12 import (tms-facts section 2).
_LEGACY_ONLY = frozenset({"2012r2", "2016"})
_PBES1_OK = frozenset({"3DES", "2DES", "RC2-40", "RC2-128", "RC4-40", "RC4-128"})
_PBES2_OK = frozenset({"AES-128-CBC", "AES-192-CBC", "AES-256-CBC", "DES-EDE3-CBC"})
_MAC_OK_MODERN = frozenset({"sha1", "sha256", "sha384", "sha512"})

#: .NET's 2023 hardening refuses files whose iteration counts exceed this
#: (Pkcs12UnspecifiedPasswordIterationLimit).
DOTNET_ITERATION_LIMIT = 600_000
#: Windows' own exports use about 2,000; above this we warn even where the import would work.
ITERATION_WARN_ABOVE = 10_000


@dataclass(frozen=True)
class ImportVerdict:
    os: str
    importable: bool
    reasons: tuple[str, ...]  # why not; empty when importable


def _bag_problem(enc: BagEncryption, legacy_only: bool, what: str) -> str | None:
    if enc.scheme == "none":
        return None
    if enc.scheme == "pbes1":
        return None if enc.cipher in _PBES1_OK else f"{what} encryption {enc.name} is not supported"
    if enc.scheme == "pbes2":
        if legacy_only:
            return f"{what} encryption {enc.cipher or enc.name} (PBES2) needs Windows Server 2019 or later"
        if enc.cipher not in _PBES2_OK or enc.prf not in _MAC_OK_MODERN:
            return f"{what} encryption {enc.name} is not supported"
        return None
    return f"{what} encryption {enc.name} is not recognised"


def import_verdict(algs: Pkcs12Algorithms, target: str) -> ImportVerdict:
    """Judge one host version. Unknown or absent protection is judged conservatively (not importable)."""
    legacy_only = target in _LEGACY_ONLY
    reasons: list[str] = []
    if algs.mac_digest is None:
        reasons.append("the file has no integrity MAC; Windows import of MAC-less files is not assured")
    elif legacy_only and algs.mac_digest != "sha1":
        reasons.append(f"MAC digest {algs.mac_digest} needs Windows Server 2019 or later (expected sha1)")
    elif not legacy_only and algs.mac_digest not in _MAC_OK_MODERN:
        reasons.append(f"MAC digest {algs.mac_digest} is not supported")
    for enc in algs.cert_encryption:
        problem = _bag_problem(enc, legacy_only, "certificate")
        if problem:
            reasons.append(problem)
    for enc in algs.key_encryption:
        problem = _bag_problem(enc, legacy_only, "key")
        if problem:
            reasons.append(problem)
    if algs.max_iterations > DOTNET_ITERATION_LIMIT:
        reasons.append(
            f"{algs.max_iterations} key-derivation iterations exceed .NET's limit of {DOTNET_ITERATION_LIMIT}"
        )
    return ImportVerdict(target, not reasons, tuple(dict.fromkeys(reasons)))


def import_verdicts(algs: Pkcs12Algorithms) -> dict[str, ImportVerdict]:
    return {os_name: import_verdict(algs, os_name) for os_name in WINDOWS_VERSIONS}
