"""The PKCS#12 envelope (RFC 7292) as asn1crypto types: the parts tmsclient reads, without the rest of CMS/X.509."""
# ruff: noqa: RUF012  (asn1crypto declares types through class attributes: _fields, _map, _oid_specs)

from __future__ import annotations

# asn1crypto.pkcs12 declares these too, but importing it loads asn1crypto's X.509, keys, CMS, CRL and OCSP
# modules (~6 ms of every upload, docs/benchmarks.md) for bag contents tmsclient never parses with asn1crypto:
# cryptography opens the keys and certificates. The declarations below follow asn1crypto.pkcs12 and
# asn1crypto.cms field for field, with the bag and content values left as raw Any where they are not read.
from asn1crypto.algos import DigestInfo, EncryptionAlgorithm
from asn1crypto.core import Any, Integer, ObjectIdentifier, OctetString, Sequence, SequenceOf, SetOf


class ContentType(ObjectIdentifier):
    _map = {
        "1.2.840.113549.1.7.1": "data",
        "1.2.840.113549.1.7.2": "signed_data",
        "1.2.840.113549.1.7.3": "enveloped_data",
        "1.2.840.113549.1.7.4": "signed_and_enveloped_data",
        "1.2.840.113549.1.7.5": "digested_data",
        "1.2.840.113549.1.7.6": "encrypted_data",
        "1.2.840.113549.1.9.16.1.2": "authenticated_data",
        "1.2.840.113549.1.9.16.1.9": "compressed_data",
        "1.2.840.113549.1.9.16.1.23": "authenticated_enveloped_data",
    }


class EncryptedContentInfo(Sequence):
    _fields = [
        ("content_type", ContentType),
        ("content_encryption_algorithm", EncryptionAlgorithm),
        ("encrypted_content", OctetString, {"implicit": 0, "optional": True}),
    ]


class EncryptedData(Sequence):
    _fields = [
        ("version", Integer),
        ("encrypted_content_info", EncryptedContentInfo),
        ("unprotected_attrs", Any, {"implicit": 1, "optional": True}),
    ]


class ContentInfo(Sequence):
    _fields = [
        ("content_type", ContentType),
        ("content", Any, {"explicit": 0, "optional": True}),
    ]
    _oid_pair = ("content_type", "content")
    _oid_specs = {"data": OctetString, "encrypted_data": EncryptedData}


class AuthenticatedSafe(SequenceOf):
    _child_spec = ContentInfo


class MacData(Sequence):
    _fields = [
        ("mac", DigestInfo),
        ("mac_salt", OctetString),
        ("iterations", Integer, {"default": 1}),
    ]


class Version(Integer):
    _map = {3: "v3"}


class Pfx(Sequence):
    _fields = [
        ("version", Version),
        ("auth_safe", ContentInfo),
        ("mac_data", MacData, {"optional": True}),
    ]

    @property
    def authenticated_safe(self) -> AuthenticatedSafe:
        """The safes of a password-integrity file (the only kind Windows and OpenSSL write); a file signed with
        a public key (``signed_data``) has no OctetString here and cannot be read."""
        return AuthenticatedSafe.load(self["auth_safe"]["content"].native)


class BagId(ObjectIdentifier):
    _map = {
        "1.2.840.113549.1.12.10.1.1": "key_bag",
        "1.2.840.113549.1.12.10.1.2": "pkcs8_shrouded_key_bag",
        "1.2.840.113549.1.12.10.1.3": "cert_bag",
        "1.2.840.113549.1.12.10.1.4": "crl_bag",
        "1.2.840.113549.1.12.10.1.5": "secret_bag",
        "1.2.840.113549.1.12.10.1.6": "safe_contents",
    }


class EncryptedPrivateKeyInfo(Sequence):
    _fields = [
        ("encryption_algorithm", EncryptionAlgorithm),
        ("encrypted_data", OctetString),
    ]


class Attributes(SetOf):
    _child_spec = Any


class SafeBag(Sequence):
    _fields = [
        ("bag_id", BagId),
        ("bag_value", Any, {"explicit": 0}),
        ("bag_attributes", Attributes, {"optional": True}),
    ]
    _oid_pair = ("bag_id", "bag_value")
    _oid_specs = {"pkcs8_shrouded_key_bag": EncryptedPrivateKeyInfo}


class SafeContents(SequenceOf):
    _child_spec = SafeBag
