"""Order certificates leaf to root and say, link by link, whether each signature verifies."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509

from tmsclient.certs.facts import is_ca, sha1_thumbprint, signed_by

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChainLink:
    """One certificate of the ordered chain and whether the next one up (its issuer) signed it."""

    subject: str
    issuer: str
    thumbprint_sha1: str
    self_signed: bool
    #: True: the issuer's certificate is in the file and its signature verifies; False: the certificate that
    #: names itself the issuer does not verify it; None: the issuer's certificate is not in the file.
    verifies: bool | None

    @property
    def status(self) -> str:
        if self.self_signed:
            return "self-signed root" if self.verifies else "claims to be self-signed but does not verify"
        if self.verifies is None:
            return "issuer not in the file"
        return "verified by the next certificate" if self.verifies else "does NOT verify against its issuer"


@dataclass(frozen=True)
class OrderedChain:
    leaf: x509.Certificate
    chain: tuple[x509.Certificate, ...]  # leaf excluded, ordered leaf -> root
    unrelated: tuple[x509.Certificate, ...]  # certificates that are not on the leaf's path
    links: tuple[ChainLink, ...]  # leaf first, one per certificate of [leaf, *chain]

    @property
    def complete(self) -> bool:
        """The path ends in a self-signed root and every link verifies."""
        return bool(self.links) and self.links[-1].self_signed and all(link.verifies for link in self.links)

    @property
    def broken_links(self) -> tuple[ChainLink, ...]:
        return tuple(link for link in self.links if link.verifies is False)

    @property
    def reaches_root(self) -> bool:
        return bool(self.links) and self.links[-1].self_signed


def dedupe(certs: Iterable[x509.Certificate]) -> list[x509.Certificate]:
    seen: set[str] = set()
    out = []
    for cert in certs:
        thumb = sha1_thumbprint(cert)
        if thumb not in seen:
            seen.add(thumb)
            out.append(cert)
    return out


def order_chain(leaf: x509.Certificate, others: Sequence[x509.Certificate]) -> OrderedChain:
    """Walk from ``leaf`` up by issuer name, preferring a candidate whose signature verifies."""
    leaf_thumb = sha1_thumbprint(leaf)
    remaining = [c for c in dedupe(others) if sha1_thumbprint(c) != leaf_thumb]
    path = [leaf]
    current = leaf
    while remaining and current.subject != current.issuer:
        candidates = [c for c in remaining if c.subject == current.issuer]
        if not candidates:
            break
        verified = [c for c in candidates if signed_by(current, c)]
        chosen = (verified or candidates)[0]
        remaining.remove(chosen)
        path.append(chosen)
        current = chosen
    links = []
    for i, cert in enumerate(path):
        self_issued = cert.subject == cert.issuer
        issuer_cert = cert if self_issued else (path[i + 1] if i + 1 < len(path) else None)
        verifies = None if issuer_cert is None else signed_by(cert, issuer_cert)
        links.append(
            ChainLink(
                subject=cert.subject.rfc4514_string(),
                issuer=cert.issuer.rfc4514_string(),
                thumbprint_sha1=sha1_thumbprint(cert),
                self_signed=self_issued,
                verifies=verifies,
            )
        )
    if remaining:
        log.debug("%d certificate(s) are not on the leaf's chain", len(remaining))
    return OrderedChain(leaf=leaf, chain=tuple(path[1:]), unrelated=tuple(remaining), links=tuple(links))


def pick_leaf(certs: Sequence[x509.Certificate]) -> x509.Certificate:
    """The end-entity certificate of a set: one that issued none of the others, preferring a non-CA."""
    if len(certs) == 1:
        return certs[0]
    issuers = {c.issuer for c in certs if c.subject != c.issuer}
    ends = [c for c in certs if c.subject not in issuers]
    non_ca = [c for c in ends if not is_ca(c)]
    return (non_ca or ends or list(certs))[0]
