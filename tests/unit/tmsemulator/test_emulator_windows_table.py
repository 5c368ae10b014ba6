"""The emulator's own table of what each Windows Server imports, tried on files OpenSSL and cryptography write."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    KeySerializationEncryption,
    PrivateFormat,
    pkcs12,
)

from tmsemulator.certmaker import Chain, make_chain
from tmsemulator.pfxcheck import WRONG_PASSWORD, check_pfx
from tmsemulator.pfxread import Encryption, NotPkcs12Error, Protection, read_protection
from tmsemulator.windows import DOTNET_ITERATION_LIMIT, WINDOWS_IMPORTS, WINDOWS_VERSIONS, import_refusals

PW = "Table pw 1"
ALL = frozenset(WINDOWS_VERSIONS)
NEWER = frozenset({"2019", "2022"})
NONE: frozenset[str] = frozenset()


def _cryptography(chain: Chain, algorithm: pkcs12.PBES | None, mac: hashes.HashAlgorithm | None) -> bytes:
    protection: KeySerializationEncryption
    if algorithm is None:
        protection = BestAvailableEncryption(PW.encode())
    else:
        builder = PrivateFormat.PKCS12.encryption_builder().kdf_rounds(2048).key_cert_algorithm(algorithm)
        protection = builder.hmac_hash(mac or hashes.SHA1()).build(PW.encode())
    extra = [pkcs12.PKCS12Certificate(chain.intermediate.cert, None)]
    return pkcs12.serialize_key_and_certificates(b"tms", chain.leaf.key, chain.leaf.cert, extra, protection)


#: (writer, how, the Windows versions that import its file)
CRYPTOGRAPHY_FILES = [
    ("3DES, SHA-1 MAC", (pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC, hashes.SHA1()), ALL),
    ("3DES, SHA-256 MAC", (pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC, hashes.SHA256()), NEWER),
    ("AES-256, SHA-1 MAC", (pkcs12.PBES.PBESv2SHA256AndAES256CBC, hashes.SHA1()), NEWER),
    ("AES-256, SHA-256 MAC", (pkcs12.PBES.PBESv2SHA256AndAES256CBC, hashes.SHA256()), NEWER),
    ("BestAvailableEncryption", (None, None), NEWER),
]
OPENSSL_FILES = [
    ("OpenSSL 3 default (AES-256, SHA-256 MAC)", [], NEWER),
    ("-legacy (RC2-40 certificates, 3DES key, SHA-1 MAC)", ["-legacy"], ALL),
    ("3DES, SHA-1 MAC", ["-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1"], ALL),
    ("3DES, SHA-256 MAC", ["-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES"], NEWER),
    (
        "plain certificates, 3DES key, SHA-1 MAC",
        ["-certpbe", "NONE", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1"],
        ALL,
    ),
    (
        "RC2-128 key, RC2-40 certificates, SHA-1 MAC",
        ["-legacy", "-certpbe", "PBE-SHA1-RC2-40", "-keypbe", "PBE-SHA1-RC2-128", "-macalg", "sha1"],
        ALL,
    ),
    # Outside the documented table: refused everywhere.
    ("AES-128 (PBES2)", ["-certpbe", "AES-128-CBC", "-keypbe", "AES-128-CBC"], NONE),
    (
        "RC4-128 certificates",
        ["-legacy", "-certpbe", "PBE-SHA1-RC4-128", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1"],
        NONE,
    ),
    ("no MAC", ["-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-nomac"], NONE),
    (
        "3DES, SHA-1 MAC, 600,001 iterations",
        ["-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1", "-iter", "600001"],
        NONE,
    ),
]


@pytest.fixture(scope="module")
def chain() -> Chain:
    return make_chain("tms.acme.example", key_kind="ec", key_size=256)


@pytest.fixture(scope="module")
def pem_files(chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    where = tmp_path_factory.mktemp("openssl")
    cert, key, ca = where / "cert.pem", where / "key.pem", where / "ca.pem"
    cert.write_bytes(chain.leaf.cert_pem())
    key.write_bytes(chain.leaf.key_pem())
    ca.write_bytes(chain.intermediate.cert_pem())
    return cert, key, ca


def _openssl(pem_files: tuple[Path, Path, Path], flags: list[str]) -> bytes:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl CLI is not installed")
    cert, key, ca = pem_files
    out = cert.parent / "out.pfx"
    run = subprocess.run(
        [
            "openssl",
            "pkcs12",
            "-export",
            "-in",
            str(cert),
            "-inkey",
            str(key),
            "-certfile",
            str(ca),
            "-passout",
            f"pass:{PW}",
            "-out",
            str(out),
            *flags,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if run.returncode != 0 and "-legacy" in flags:
        pytest.skip(f"this OpenSSL has no legacy provider: {run.stderr.strip()[:120]}")
    assert run.returncode == 0, run.stderr
    return out.read_bytes()


def _assert_judged(data: bytes, importing: frozenset[str]) -> None:
    for version in WINDOWS_VERSIONS:
        verdict = check_pfx(data, PW, version)
        if version in importing:
            assert verdict.ok, (version, verdict.detail)
        else:
            assert verdict.check == "server-os", (version, verdict)
            assert verdict.message == WRONG_PASSWORD  # .NET says the same as for a wrong password
            assert verdict.detail  # the state log says why


@pytest.mark.parametrize(
    ("how", "importing"), [c[1:] for c in CRYPTOGRAPHY_FILES], ids=[c[0] for c in CRYPTOGRAPHY_FILES]
)
def test_cryptography_written_files_on_each_windows_version(chain, how, importing):
    _assert_judged(_cryptography(chain, *how), importing)


@pytest.mark.parametrize(("flags", "importing"), [c[1:] for c in OPENSSL_FILES], ids=[c[0] for c in OPENSSL_FILES])
def test_openssl_written_files_on_each_windows_version(pem_files, flags, importing):
    _assert_judged(_openssl(pem_files, flags), importing)


def test_the_table_covers_every_version_and_only_the_newer_ones_take_pbes2_and_sha256():
    assert set(WINDOWS_IMPORTS) == set(WINDOWS_VERSIONS)
    for version, rules in WINDOWS_IMPORTS.items():
        newer = version in NEWER
        assert ("sha256" in rules.mac_digests) is newer, version
        assert (("PBES2", "AES-256-CBC") in rules.ciphers) is newer, version
        assert "sha1" in rules.mac_digests and ("PKCS#12 PBE", "3DES") in rules.ciphers, version
        assert rules.iteration_limit == DOTNET_ITERATION_LIMIT == 600_000


def test_the_reader_sees_each_part_and_the_mac_of_an_openssl_file(pem_files):
    legacy = read_protection(_openssl(pem_files, ["-legacy"]))
    assert legacy.mac_digest == "sha1" and legacy.mac_iterations == 2048
    assert [(e.part, e.scheme, e.cipher, e.prf) for e in legacy.encryptions] == [
        ("certificates", "PKCS#12 PBE", "RC2-40", None),
        ("key", "PKCS#12 PBE", "3DES", None),
    ]
    modern = read_protection(_openssl(pem_files, []))
    assert modern.mac_digest == "sha256"
    assert {(e.scheme, e.cipher, e.prf, e.iterations) for e in modern.encryptions} == {
        ("PBES2", "AES-256-CBC", "sha256", 2048)
    }


@pytest.mark.parametrize("data", [b"", b"not a pfx", b"\x30\x03\x02\x01\x03"], ids=["empty", "text", "bare-version"])
def test_the_reader_refuses_what_is_not_pkcs12(data):
    with pytest.raises(NotPkcs12Error):
        read_protection(data)


def _protection(iterations: int, mac_iterations: int = 2048) -> Protection:
    key = Encryption("key", "PKCS#12 PBE", "3DES", None, iterations)
    return Protection("sha1", mac_iterations, (key,))


@pytest.mark.parametrize("version", WINDOWS_VERSIONS)
def test_the_dotnet_iteration_limit_holds_on_every_version(version):
    assert import_refusals(_protection(DOTNET_ITERATION_LIMIT), version) == ()
    assert "exceed" in " ".join(import_refusals(_protection(DOTNET_ITERATION_LIMIT + 1), version))
    assert "exceed" in " ".join(import_refusals(_protection(2048, DOTNET_ITERATION_LIMIT + 1), version))


def test_pbes2_with_an_unlisted_pbkdf2_hash_is_refused_even_where_aes_256_imports():
    aes = Encryption("key", "PBES2", "AES-256-CBC", "sha512", 2048)
    assert import_refusals(Protection("sha256", 2048, (aes,)), "2022") == (
        "Windows Server 2022 does not derive keys with PBKDF2-HMAC-SHA-512 (key)",
    )
