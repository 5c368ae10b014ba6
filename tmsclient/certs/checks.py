"""The preflight rules: is this .pfx fit for TMS's WebEx SSO? Each finding has a stable code, a severity."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tmsclient.certs.compat import (
    DEFAULT_TARGET_OS,
    DOTNET_ITERATION_LIMIT,
    ITERATION_WARN_ABOVE,
    WINDOWS_VERSIONS,
    import_verdict,
)
from tmsclient.certs.facts import UTC
from tmsclient.certs.summary import key_fingerprint, key_info, key_matches, summarize
from tmsclient.errors import UsageError

if TYPE_CHECKING:
    from tmsclient.certs.chain import OrderedChain
    from tmsclient.certs.loading import PfxBundle
    from tmsclient.certs.pkcs12_info import Pkcs12Algorithms

ERROR, WARNING, INFO = "error", "warning", "info"

#: Every code ``check`` can report, its severity, and what it means (docs/certificates.md lists the same).
CODES: dict[str, tuple[str, str]] = {
    "BAD_PASSWORD": (ERROR, "the password does not open the .pfx"),
    "NO_PRIVATE_KEY": (ERROR, "the .pfx holds no private key"),
    "KEY_MISMATCH": (ERROR, "the private key does not belong to the certificate"),
    "EXPIRED": (ERROR, "the certificate's validity has ended"),
    "NOT_YET_VALID": (ERROR, "the certificate's validity has not begun"),
    "WEAK_KEY": (ERROR, "an RSA key shorter than 2048 bits"),
    "EC_KEY": (ERROR, "an elliptic-curve key; TMS signs SAML with RSA"),
    "UNSUPPORTED_KEY": (ERROR, "a key type other than RSA (DSA, Ed25519, ...)"),
    "WEAK_SIGNATURE": (ERROR, "the certificate is signed with MD5 or MD2"),
    "PFX_UNSUPPORTED_ON_TARGET": (ERROR, "the target Windows version cannot import the .pfx's algorithms"),
    "EXPIRES_SOON": (WARNING, "the certificate expires within --warn-days"),
    "SHA1_SIGNATURE": (WARNING, "the certificate is signed with SHA-1"),
    "CN_NOT_HOSTNAME": (WARNING, "the subject CN is not a fully qualified host name"),
    "HIGH_ITERATIONS": (WARNING, "key-derivation iterations far above Windows' own ~2,000"),
    "KEY_USAGE_NO_SIGNATURE": (WARNING, "the key usage extension does not allow digital signatures"),
    "CHAIN_BROKEN": (WARNING, "a chain certificate does not verify the one below it"),
    "CHAIN_UNRELATED": (WARNING, "the .pfx holds certificates that are not on the leaf's chain"),
    "CHAIN_INCOMPLETE": (INFO, "the chain does not reach a self-signed root"),
    "PFX_NEWER_WINDOWS_ONLY": (INFO, "the .pfx imports on the target but not on older Windows versions"),
}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # "error", "warning" or "info"
    message: str

    def line(self) -> str:
        return f"{self.severity.upper():7} {self.code}: {self.message}"

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity, "message": self.message}


@dataclass(frozen=True)
class CheckReport:
    ok: bool  # no error findings
    findings: tuple[Finding, ...]
    target_os: str = DEFAULT_TARGET_OS

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == WARNING)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.findings)

    def lines(self) -> list[str]:
        return [f.line() for f in self.findings]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "target_os": self.target_os,
            "findings": [f.to_json() for f in self.findings],
        }


def finding(code: str, message: str) -> Finding:
    return Finding(code, CODES[code][0], message)


def report(findings: list[Finding], target_os: str) -> CheckReport:
    order = {ERROR: 0, WARNING: 1, INFO: 2}
    ordered = sorted(findings, key=lambda f: order[f.severity])  # stable: rule order within a severity
    return CheckReport(ok=not any(f.severity == ERROR for f in ordered), findings=tuple(ordered), target_os=target_os)


def validate_target_os(target_os: str) -> str:
    value = target_os.lower().replace(" ", "").replace("windowsserver", "").replace("-", "")
    if value not in WINDOWS_VERSIONS:
        raise UsageError(f"unknown target OS {target_os!r}, expected one of {', '.join(WINDOWS_VERSIONS)}")
    return value


_OS_NAMES = {
    "2012r2": "Windows Server 2012 R2",
    "2016": "Windows Server 2016",
    "2019": "Windows Server 2019",
    "2022": "Windows Server 2022",
}


def os_name(target_os: str) -> str:
    return _OS_NAMES.get(target_os, target_os)


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# -- the rules, one group each ----------------------------------------------------------------------


def check_algorithms(algorithms: Pkcs12Algorithms, *, target_os: str = DEFAULT_TARGET_OS) -> list[Finding]:
    """What can be judged without the password: will the target Windows import the file?"""
    target_os = validate_target_os(target_os)
    out: list[Finding] = []
    verdict = import_verdict(algorithms, target_os)
    if not verdict.importable:
        out.append(
            finding(
                "PFX_UNSUPPORTED_ON_TARGET",
                f"{os_name(target_os)} cannot import this .pfx: {'; '.join(verdict.reasons)}; "
                "it would answer "
                '"The specified network password is not correct." (re-encode it with `tmsclient convert`)',
            )
        )
    else:
        older = [
            v
            for v in WINDOWS_VERSIONS[: WINDOWS_VERSIONS.index(target_os)]
            if not import_verdict(algorithms, v).importable
        ]
        if older:
            out.append(
                finding(
                    "PFX_NEWER_WINDOWS_ONLY",
                    f"this .pfx imports on {os_name(target_os)} but not on {', '.join(os_name(v) for v in older)}",
                )
            )
    most = algorithms.max_iterations
    if ITERATION_WARN_ABOVE < most <= DOTNET_ITERATION_LIMIT:
        out.append(
            finding(
                "HIGH_ITERATIONS",
                f"the .pfx uses {most:,} key-derivation iterations; Windows' own exports use about 2,000 "
                "and .NET "
                "refuses uncommonly high counts since 2023",
            )
        )
    return out


def check_key(key: Any, cert: Any) -> list[Finding]:
    if key is None:
        return [
            finding(
                "NO_PRIVATE_KEY",
                "the .pfx holds no private key; TMS needs the key to sign SAML "
                "(export the certificate with its private key)",
            )
        ]
    if not key_matches(key, cert):
        return [
            finding(
                "KEY_MISMATCH",
                f"the private key does not belong to the certificate: got a key with public-key fingerprint "
                f"{key_fingerprint(key)}, expected the certificate's {key_fingerprint(cert.public_key())}",
            )
        ]
    return []


def check_key_type(cert: Any) -> list[Finding]:
    key_type, size, curve = key_info(cert.public_key())
    if key_type == "RSA":
        if size is not None and size < 2048:
            return [finding("WEAK_KEY", f"the RSA key has {size} bits, expected 2048 or more")]
        return []
    if key_type == "EC":
        return [
            finding(
                "EC_KEY",
                f"the key is EC ({curve}); TMS 15.x signs SAML with RSA (Cisco's guide: RSA 2048), "
                "so request an RSA 2048 certificate",
            )
        ]
    return [finding("UNSUPPORTED_KEY", f"the key is {key_type}, expected RSA 2048 or more")]


def check_validity(cert: Any, *, warn_days: int = 30, now: dt.datetime | None = None) -> list[Finding]:
    now = now or dt.datetime.now(UTC)
    s = summarize(cert)
    if now < s.not_before:
        days = -((now - s.not_before) // dt.timedelta(days=1))
        return [
            finding(
                "NOT_YET_VALID",
                f"the certificate is valid only from {_when(s.not_before)} (in {days} day{'s' if days != 1 else ''})",
            )
        ]
    if now > s.not_after:
        days = (now - s.not_after) // dt.timedelta(days=1)
        return [
            finding(
                "EXPIRED",
                f"the certificate expired on {_when(s.not_after)} ({days} day{'s' if days != 1 else ''} ago)",
            )
        ]
    left = s.days_left(now)
    if left < warn_days:
        return [
            finding(
                "EXPIRES_SOON",
                f"the certificate expires on {_when(s.not_after)}, in {left} "
                f"day{'s' if left != 1 else ''} (--warn-days {warn_days})",
            )
        ]
    return []


def check_signature(cert: Any) -> list[Finding]:
    hash_name = summarize(cert).signature_hash
    if hash_name in ("md5", "md2"):
        return [
            finding(
                "WEAK_SIGNATURE",
                f"the certificate is signed with {hash_name.upper()}, which nothing accepts any more",
            )
        ]
    if hash_name == "sha1":
        return [
            finding(
                "SHA1_SIGNATURE",
                "the certificate is signed with SHA-1; WebEx and browsers may "
                "distrust it (ask for a SHA-256 signature)",
            )
        ]
    return []


_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_FQDN = re.compile(rf"^(\*\.)?({_LABEL}\.)+{_LABEL}$")


def hostname_problem(cn: str | None) -> str | None:
    """Why ``cn`` is not a fully qualified host name, or None if it is one."""
    if not cn:
        return "the subject has no common name (CN); Cisco's guide uses the TMS host's FQDN"
    try:
        ipaddress.ip_address(cn)
    except ValueError:
        pass
    else:
        return f"the CN {cn!r} is an IP address; Cisco's guide uses the TMS host's FQDN"
    if re.fullmatch(_LABEL, cn):
        return f"the CN {cn!r} is not fully qualified; Cisco's guide uses the TMS host's FQDN"
    if len(cn) > 253 or not _FQDN.match(cn):
        return f"the CN {cn!r} is not a host name; Cisco's guide uses the TMS host's FQDN"
    return None


def check_names(cert: Any) -> list[Finding]:
    s = summarize(cert)
    problem = hostname_problem(s.common_name)
    out = [finding("CN_NOT_HOSTNAME", problem)] if problem else []
    if s.key_usage and "digitalSignature" not in s.key_usage:
        out.append(
            finding(
                "KEY_USAGE_NO_SIGNATURE",
                f"the key usage ({', '.join(s.key_usage)}) does not include digitalSignature, which SAML signing needs",
            )
        )
    return out


def check_chain(ordered: OrderedChain) -> list[Finding]:
    out: list[Finding] = []
    links = ordered.links
    for i, link in enumerate(links):
        if link.verifies is False:
            above = links[i + 1].subject if not link.self_signed and i + 1 < len(links) else link.subject
            out.append(finding("CHAIN_BROKEN", f"{link.subject} does not verify against its issuer {above}"))
    if ordered.unrelated:
        names = "; ".join(c.subject.rfc4514_string() for c in ordered.unrelated)
        out.append(
            finding(
                "CHAIN_UNRELATED",
                f"{len(ordered.unrelated)} certificate(s) are not on the leaf's chain: {names}",
            )
        )
    if links and not links[-1].self_signed:
        out.append(
            finding(
                "CHAIN_INCOMPLETE",
                f"the chain ends at {links[-1].subject}, whose issuer {links[-1].issuer} is not in "
                "the file; TMS signs with the leaf, so this is usually fine",
            )
        )
    return out


def check_certificate(cert: Any, *, warn_days: int = 30, now: dt.datetime | None = None) -> list[Finding]:
    """The rules about the certificate alone (no key, no PKCS#12 container)."""
    return [
        *check_validity(cert, warn_days=warn_days, now=now),
        *check_key_type(cert),
        *check_signature(cert),
        *check_names(cert),
    ]


def check_contents(
    key: Any, cert: Any, ordered: OrderedChain, *, warn_days: int = 30, now: dt.datetime | None = None
) -> list[Finding]:
    """The rules about key, certificate and chain, without the PKCS#12 container (what `bundle` reports)."""
    return [
        *check_key(key, cert),
        *check_certificate(cert, warn_days=warn_days, now=now),
        *check_chain(ordered),
    ]


def check_bundle(
    bundle: PfxBundle,
    *,
    target_os: str = DEFAULT_TARGET_OS,
    warn_days: int = 30,
    now: dt.datetime | None = None,
) -> CheckReport:
    """Every rule of `tmsclient check` on an opened .pfx; ``ok`` is true when there is no error finding."""
    target_os = validate_target_os(target_os)
    findings = [
        *check_key(bundle.key, bundle.cert),
        *check_certificate(bundle.cert, warn_days=warn_days, now=now),
        *check_algorithms(bundle.algorithms, target_os=target_os),
        *check_chain(bundle.chain_order),
    ]
    return report(findings, target_os)


def bad_password_report(
    algorithms: Pkcs12Algorithms | None, message: str, *, target_os: str = DEFAULT_TARGET_OS
) -> CheckReport:
    """The report when the password does not open the file: what can still be judged, plus BAD_PASSWORD."""
    target_os = validate_target_os(target_os)
    findings = [finding("BAD_PASSWORD", message)]
    if algorithms is not None:
        findings += check_algorithms(algorithms, target_os=target_os)
    return report(findings, target_os)
