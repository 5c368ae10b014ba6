"""The `inspect` report: every fact about a .pfx or certificate file, as JSON-ready data and as text."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from tmsclient.certs.chain import ChainLink, OrderedChain
from tmsclient.certs.checks import os_name
from tmsclient.certs.compat import WINDOWS_VERSIONS, ImportVerdict, import_verdicts
from tmsclient.certs.facts import UTC
from tmsclient.certs.loading import CertFile, PfxBundle
from tmsclient.certs.pkcs12_info import BagEncryption, Pkcs12Algorithms
from tmsclient.certs.summary import CertSummary, summarize

KEY_MATCH_TEXT = "You have a private key that corresponds to this certificate."


@dataclass(frozen=True)
class Inspection:
    file: str
    format: str  # "pkcs12", "pem" or "der"
    certificate: CertSummary | None  # None when a .pfx was not opened (no password)
    friendly_name: str | None = None
    has_private_key: bool | None = None  # None: cannot be told without the password
    key_matches_certificate: bool | None = None
    chain: tuple[ChainLink, ...] = ()  # leaf first
    unrelated: tuple[str, ...] = ()  # subjects of certificates not on the leaf's chain
    pkcs12: Pkcs12Algorithms | None = None
    windows_import: dict[str, ImportVerdict] | None = None
    notes: tuple[str, ...] = ()
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(UTC))

    @property
    def certificate_read(self) -> bool:
        return self.certificate is not None

    def to_json(self) -> dict[str, Any]:
        s = self.certificate
        cert_fields: dict[str, Any] = {
            "subject": None,
            "issuer": None,
            "common_name": None,
            "serial": None,
            "thumbprint_sha1": None,
            "sha256_fingerprint": None,
            "not_before": None,
            "not_after": None,
            "days_left": None,
            "validity": None,
            "key_type": None,
            "key_size": None,
            "key_curve": None,
            "signature_hash": None,
            "sans": [],
            "key_usage": [],
            "extended_key_usage": [],
            "is_ca": None,
            "self_signed": None,
        }
        if s is not None:
            cert_fields.update(
                {
                    "subject": s.subject,
                    "issuer": s.issuer,
                    "common_name": s.common_name,
                    "serial": s.serial,
                    "thumbprint_sha1": s.thumbprint_sha1,
                    "sha256_fingerprint": s.sha256_fingerprint,
                    "not_before": s.not_before,
                    "not_after": s.not_after,
                    "days_left": s.days_left(self.now),
                    "validity": s.validity(self.now),
                    "key_type": s.key_type,
                    "key_size": s.key_size,
                    "key_curve": s.key_curve,
                    "signature_hash": s.signature_hash,
                    "sans": list(s.sans),
                    "key_usage": list(s.key_usage),
                    "extended_key_usage": list(s.extended_key_usage),
                    "is_ca": s.is_ca,
                    "self_signed": s.self_signed,
                }
            )
        return {
            "file": self.file,
            "format": self.format,
            "certificate_read": self.certificate_read,
            **cert_fields,
            "friendly_name": self.friendly_name,
            "has_private_key": self.has_private_key,
            "key_matches_certificate": self.key_matches_certificate,
            "chain": [
                {
                    "position": i,
                    "subject": link.subject,
                    "issuer": link.issuer,
                    "thumbprint_sha1": link.thumbprint_sha1,
                    "self_signed": link.self_signed,
                    "verifies": link.verifies,
                    "status": link.status,
                }
                for i, link in enumerate(self.chain)
            ],
            "unrelated_certificates": list(self.unrelated),
            "pkcs12": self.pkcs12.to_json() if self.pkcs12 is not None else None,
            "windows_import": (
                {os: v.importable for os, v in self.windows_import.items()} if self.windows_import else None
            ),
            "windows_import_reasons": (
                {os: list(v.reasons) for os, v in self.windows_import.items()} if self.windows_import else None
            ),
            "notes": list(self.notes),
        }


def _chain_of(ordered: OrderedChain) -> tuple[tuple[ChainLink, ...], tuple[str, ...]]:
    return ordered.links, tuple(c.subject.rfc4514_string() for c in ordered.unrelated)


def from_bundle(bundle: PfxBundle, *, notes: tuple[str, ...] = (), now: dt.datetime | None = None) -> Inspection:
    links, unrelated = _chain_of(bundle.chain_order)
    return Inspection(
        file=bundle.source,
        format="pkcs12",
        certificate=summarize(bundle.cert),
        friendly_name=bundle.friendly_name,
        has_private_key=bundle.has_key,
        key_matches_certificate=bundle.key_matches,
        chain=links,
        unrelated=unrelated,
        pkcs12=bundle.algorithms,
        windows_import=import_verdicts(bundle.algorithms),
        notes=notes,
        now=now or dt.datetime.now(UTC),
    )


def from_locked_pfx(
    source: str, algorithms: Pkcs12Algorithms, *, notes: tuple[str, ...] = (), now: dt.datetime | None = None
) -> Inspection:
    """What a .pfx shows without its password: its algorithms and the Windows verdicts."""
    # A key bag outside the encrypted safe can be seen without the password; one inside it cannot.
    has_key = True if algorithms.has_visible_key_bag else None
    return Inspection(
        file=source,
        format="pkcs12",
        certificate=None,
        has_private_key=has_key,
        pkcs12=algorithms,
        windows_import=import_verdicts(algorithms),
        notes=notes,
        now=now or dt.datetime.now(UTC),
    )


def from_cert_file(
    cert_file: CertFile,
    *,
    key_matches: bool | None,
    has_key: bool,
    notes: tuple[str, ...] = (),
    now: dt.datetime | None = None,
) -> Inspection:
    links, unrelated = _chain_of(cert_file.ordered)
    return Inspection(
        file=cert_file.source,
        format=cert_file.format,
        certificate=summarize(cert_file.cert),
        has_private_key=has_key,
        key_matches_certificate=key_matches,
        chain=links,
        unrelated=unrelated,
        notes=notes,
        now=now or dt.datetime.now(UTC),
    )


# -- text ------------------------------------------------------------------------------------------


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _days(n: int) -> str:
    return f"{n} day{'s' if abs(n) != 1 else ''}"


def describe_encryption(encs: tuple[BagEncryption, ...], plain: int = 0) -> str:
    """One line for a bag's protection, e.g. "pbeWithSHA1And3-KeyTripleDES-CBC, 2,048 iterations"."""
    if not encs:
        return "none (stored in the clear)" if plain else "-"
    parts = []
    for enc in dict.fromkeys(encs):
        its = f", {enc.iterations:,} iterations" if enc.iterations else ""
        parts.append(f"{enc.name}{its}")
    return "; ".join(parts)


def render_text(ins: Inspection) -> str:
    rows: list[tuple[str, str]] = [("File", f"{ins.file} ({_FORMATS.get(ins.format, ins.format)})")]
    s = ins.certificate
    if s is not None:
        left = s.days_left(ins.now)
        state = s.validity(ins.now)
        if state == "expired":
            until = f"{_when(s.not_after)} (EXPIRED {_days(-left)} ago)"
        elif state == "not yet valid":
            until = f"{_when(s.not_after)} (NOT YET VALID)"
        else:
            until = f"{_when(s.not_after)} ({_days(left)} left)"
        rows += [
            ("Subject", s.subject),
            ("Issuer", s.issuer),
            ("Serial number", s.serial),
            ("Thumbprint (SHA-1)", s.thumbprint_sha1),
            ("SHA-256 fingerprint", s.sha256_fingerprint),
            ("Valid from", _when(s.not_before) + (" (NOT YET VALID)" if state == "not yet valid" else "")),
            ("Valid until", until),
            ("Key", s.key_description),
            ("Signature hash", s.signature_hash or "-"),
            ("Subject alt. names", ", ".join(s.sans) or "-"),
            ("Key usage", ", ".join(s.key_usage) or "-"),
            ("Extended key usage", ", ".join(s.extended_key_usage) or "-"),
        ]
    if ins.format == "pkcs12" and s is not None:
        rows.append(("Friendly name", ins.friendly_name or "-"))
    rows.append(("Private key", _key_text(ins)))
    width = max(len(k) for k, _ in rows) + 1
    lines = [f"{k + ':':<{width}} {v}" for k, v in rows]
    if ins.chain:
        lines.append("Chain (leaf first):")
        for i, link in enumerate(ins.chain):
            lines.append(f"  [{i}] {link.subject}")
            lines.append(f"      {link.thumbprint_sha1}  {link.status}")
    for subject in ins.unrelated:
        lines.append(f"  not on the leaf's chain: {subject}")
    if ins.pkcs12 is not None:
        algs = ins.pkcs12
        key_text = describe_encryption(algs.key_encryption) if algs.key_encryption else "not visible"
        mac = f"{algs.mac_digest}, {algs.mac_iterations:,} iterations" if algs.mac_digest else "none (no MAC)"
        lines += [
            "PKCS#12 (read without the password):",
            f"  MAC:                  {mac}",
            f"  certificate bag:      {describe_encryption(algs.cert_encryption, algs.plain_cert_bags)}",
            f"  key bag:              {key_text}",
        ]
    if ins.windows_import:
        lines.append("Windows import (.NET X509Certificate2):")
        for os_key in WINDOWS_VERSIONS:
            verdict = ins.windows_import[os_key]
            text = "yes" if verdict.importable else "NO - " + "; ".join(verdict.reasons)
            lines.append(f"  {os_name(os_key) + ':':<24}{text}")
    lines += [f"Note: {n}" for n in ins.notes]
    return "\n".join(lines)


_FORMATS = {"pkcs12": "PKCS#12", "pem": "PEM", "der": "DER"}


def _key_text(ins: Inspection) -> str:
    if ins.has_private_key is None:
        return "unknown without the password"
    if not ins.has_private_key:
        return "none"
    if ins.key_matches_certificate is True:
        return f"present. {KEY_MATCH_TEXT}"
    if ins.key_matches_certificate is False:
        return "present, but it does NOT belong to this certificate"
    if ins.certificate is None or ins.format == "pkcs12":
        return "present (checking it against the certificate needs the password)"
    return "present (not checked against the certificate)"
