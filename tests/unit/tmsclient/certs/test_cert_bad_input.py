"""Bad input: each case gets its own message and exit code, never a traceback (the cli fixture checks)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import tracemalloc

import pytest
from asn1crypto import pkcs12

from tests.helpers.certs import SESSION_PFX_PASSWORD, der, key_pem, pem, write
from tests.helpers.paths import BAD_INPUTS
from tmsclient import files as files_mod
from tmsclient.certs.loading import load_pfx_bytes, load_pfx_file
from tmsclient.certs.mac import pkcs12_kdf
from tmsclient.credentials import Secret
from tmsclient.errors import InputFileError, PasswordError
from tmsclient.exitcodes import ExitCode
from tmsclient.files import read_input_file

PFX_COMMANDS = ("inspect", "check", "convert", "export-cer")


def _argv(command: str, path, tmp_path) -> list[str]:
    if command == "convert":
        return [command, str(path), "--out", str(tmp_path / "converted.p12")]
    if command == "export-cer":
        return [command, str(path), "--out", str(tmp_path / "exported.cer")]
    return [command, str(path)]


def _assert_refused(result, code: ExitCode, *needles: str) -> None:
    assert result.code == code, result
    assert result.err.startswith("tmsclient: error: "), result
    for needle in needles:
        assert needle in result.err, result


@pytest.mark.parametrize("command", PFX_COMMANDS)
def test_empty_file(cli, tmp_path, pw_env, command):
    path = write(tmp_path / "empty.pfx", b"")
    _assert_refused(cli(*_argv(command, path, tmp_path), env=pw_env), ExitCode.INPUT_FILE, "is empty (0 bytes)")


@pytest.mark.parametrize("command", PFX_COMMANDS)
def test_truncated_pfx(cli, tmp_path, pw_env, openssl_files, command):
    data = openssl_files.legacy.read_bytes()
    path = write(tmp_path / "cut.pfx", data[: len(data) // 2])
    result = cli(*_argv(command, path, tmp_path), env=pw_env)
    _assert_refused(
        result, ExitCode.INPUT_FILE, "is truncated", f"got {len(data) // 2:,} bytes, expected {len(data):,}"
    )


@pytest.mark.parametrize("command", ["check", "convert"])
def test_pem_certificate_named_pfx(cli, tmp_path, pw_env, chains, command):
    path = write(tmp_path / "cert.pfx", pem(chains.rsa.leaf.cert))
    result = cli(*_argv(command, path, tmp_path), env=pw_env)
    _assert_refused(result, ExitCode.INPUT_FILE, "is a PEM text file (holding CERTIFICATE)", "tmsclient bundle")


def test_pem_certificate_named_pfx_is_shown_by_inspect_with_a_warning(cli, tmp_path, chains):
    path = write(tmp_path / "cert.pfx", pem(chains.rsa.leaf.cert))
    result = cli("inspect", str(path), "--json")
    assert result.code == 0, result
    assert "named like a .pfx but is a PEM certificate file" in result.err
    assert result.json["format"] == "pem"
    assert result.json["has_private_key"] is False


def test_der_certificate_named_pfx(cli, tmp_path, pw_env, chains):
    path = write(tmp_path / "cert.pfx", der(chains.rsa.leaf.cert))
    _assert_refused(cli("check", str(path), env=pw_env), ExitCode.INPUT_FILE, "is a DER certificate without")


def test_base64_encoded_pfx(cli, tmp_path, pw_env, openssl_files):
    path = write(tmp_path / "b64.pfx", base64.encodebytes(openssl_files.legacy.read_bytes()))
    _assert_refused(cli("check", str(path), env=pw_env), ExitCode.INPUT_FILE, "Base64-encoded .pfx", "base64 -d")


def test_random_bytes_are_not_pkcs12(cli, tmp_path, pw_env):
    path = write(tmp_path / "noise.pfx", os.urandom(3000).replace(b"\x30", b"\x31", 1))
    _assert_refused(cli("check", str(path), env=pw_env), ExitCode.INPUT_FILE, "not a PKCS#12")


def test_pfx_without_key(cli, pw_env, openssl_files, tmp_path):
    result = cli("check", str(openssl_files.nokeys), "--json", env=pw_env)
    assert result.code == ExitCode.CERT_UNFIT
    assert "NO_PRIVATE_KEY" in [f["code"] for f in result.json["findings"]]
    conv = cli("convert", str(openssl_files.nokeys), "--out", str(tmp_path / "x.p12"), env=pw_env)
    _assert_refused(conv, ExitCode.CERT_UNFIT, "holds no private key")
    assert not (tmp_path / "x.p12").exists()


@pytest.mark.parametrize("command", PFX_COMMANDS)
def test_wrong_password(cli, canaries, openssl_files, tmp_path, command):
    wrong = canaries.secret("wrong-password")
    result = cli(*_argv(command, openssl_files.legacy, tmp_path), env={"TMSCLIENT_PFX_PASSWORD": wrong})
    _assert_refused(result, ExitCode.BAD_PASSWORD, "wrong password", "integrity check (sha1 MAC)")


@pytest.mark.parametrize("command", ["check", "convert", "export-cer"])
def test_missing_password(cli, openssl_files, tmp_path, command):
    result = cli(*_argv(command, openssl_files.legacy, tmp_path))
    _assert_refused(result, ExitCode.BAD_PASSWORD, "no .pfx password given", "TMSCLIENT_PFX_PASSWORD")


def test_encrypted_key_without_passphrase(cli, canaries, chains, tmp_path, pw_env):
    passphrase = canaries.secret("key-passphrase")
    key = write(tmp_path / "key.pem", key_pem(chains.rsa.leaf.key, passphrase.encode()))
    cert = write(tmp_path / "cert.pem", pem(chains.rsa.leaf.cert))
    result = cli("bundle", "--cert", str(cert), "--key", str(key), "--out", str(tmp_path / "o.p12"), env=pw_env)
    _assert_refused(result, ExitCode.BAD_PASSWORD, "is encrypted and no passphrase was given", "--key-passphrase-env")
    assert not (tmp_path / "o.p12").exists()


def test_key_for_another_certificate(cli, chains, tmp_path, pw_env):
    key = write(tmp_path / "key.pem", key_pem(chains.other_key))
    cert = write(tmp_path / "cert.pem", pem(chains.rsa.leaf.cert))
    result = cli("bundle", "--cert", str(cert), "--key", str(key), "--out", str(tmp_path / "o.p12"), env=pw_env)
    _assert_refused(result, ExitCode.CERT_UNFIT, "does not belong to the certificate", "got a key with public-key")
    assert not (tmp_path / "o.p12").exists()


@pytest.mark.parametrize("command", PFX_COMMANDS)
def test_directory(cli, tmp_path, pw_env, command):
    d = tmp_path / "a-directory.pfx"
    d.mkdir()
    _assert_refused(cli(*_argv(command, d, tmp_path), env=pw_env), ExitCode.INPUT_FILE, "is a directory")


def test_missing_file(cli, tmp_path, pw_env):
    _assert_refused(cli("check", str(tmp_path / "nope.pfx"), env=pw_env), ExitCode.INPUT_FILE, "does not exist")


def test_fifo_is_refused_without_blocking(cli, tmp_path, pw_env):
    fifo = tmp_path / "pipe.pfx"
    os.mkfifo(fifo)
    _assert_refused(cli("inspect", str(fifo), env=pw_env), ExitCode.INPUT_FILE, "not a regular file")


def test_unreadable_file(cli, tmp_path, pw_env, openssl_files, monkeypatch):
    """Tests run as root, where chmod 000 does not stop reading: the open() of that one path is made to fail
    with the PermissionError a non-root user would get (EACCES)."""
    path = write(tmp_path / "locked.pfx", openssl_files.legacy.read_bytes())
    real_open = os.open

    def deny(p, flags, *args, **kwargs):
        if os.fspath(p) == str(path):
            raise PermissionError(13, "Permission denied", str(p))
        return real_open(p, flags, *args, **kwargs)

    monkeypatch.setattr(files_mod.os, "open", deny)
    for command in PFX_COMMANDS:
        result = cli(*_argv(command, path, tmp_path), env=pw_env)
        _assert_refused(result, ExitCode.INPUT_FILE, "permission denied")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads mode-000 files")
def test_unreadable_file_for_real(cli, tmp_path, pw_env, openssl_files):
    path = write(tmp_path / "locked.pfx", openssl_files.legacy.read_bytes())
    path.chmod(0)
    _assert_refused(cli("check", str(path), env=pw_env), ExitCode.INPUT_FILE, "permission denied")


@pytest.fixture(scope="module")
def huge_random_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("huge") / "huge.pfx"
    with path.open("wb") as f:
        for _ in range(50):
            f.write(os.urandom(1024 * 1024))
    return path


def test_50mb_random_file_is_refused_without_reading_it(huge_random_file, monkeypatch):
    read_bytes = []
    real_read = os.read

    def counting_read(fd, n):
        chunk = real_read(fd, n)
        read_bytes.append(len(chunk))
        return chunk

    monkeypatch.setattr(files_mod.os, "read", counting_read)
    tracemalloc.start()
    try:
        with pytest.raises(InputFileError, match=r"is 52,428,800 bytes; expected at most 1,048,576"):
            load_pfx_file(huge_random_file, Secret("irrelevant", "test"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sum(read_bytes) == 0  # refused from the size on the open descriptor
    assert peak < 1024 * 1024


@pytest.mark.parametrize("command", PFX_COMMANDS)
def test_50mb_random_file_via_every_command(cli, huge_random_file, tmp_path, pw_env, command):
    result = cli(*_argv(command, huge_random_file, tmp_path), env=pw_env)
    _assert_refused(result, ExitCode.INPUT_FILE, "52,428,800 bytes")


def test_read_input_file_stops_at_the_limit_for_a_growing_file(tmp_path, monkeypatch):
    # A file whose size was fine when checked but that grew: at most limit + 1 bytes are ever read.
    path = write(tmp_path / "grows.bin", b"x" * 10)
    real_fstat = os.fstat

    class SmallStat:
        def __init__(self, st):
            self._st = st

        def __getattr__(self, name):
            return 5 if name == "st_size" else getattr(self._st, name)

    monkeypatch.setattr(files_mod.os, "fstat", lambda fd: SmallStat(real_fstat(fd)))
    with pytest.raises(InputFileError, match="larger than 8 bytes"):
        read_input_file(path, limit=8)


def _swap_oid_and_fix_mac(data: bytes, old: bytes, new: bytes, password: str) -> bytes:
    """Rename an algorithm inside a .pfx and recompute its MAC, as a tool with another cipher would."""
    assert old in data
    data = data.replace(old, new)
    pfx = pkcs12.Pfx.load(data)
    mac = pfx["mac_data"]
    content = pfx["auth_safe"]["content"].native
    key = pkcs12_kdf(
        "sha1",
        password.encode("utf-16-be") + b"\0\0",
        mac["mac_salt"].native,
        3,
        mac["iterations"].native,
        20,
    )
    old_digest = mac["mac"]["digest"].native
    return data.replace(old_digest, hmac.new(key, content, hashlib.sha1).digest())


def test_unsupported_algorithm_with_the_right_password_is_not_called_a_wrong_password(openssl_files):
    # pbeWithSHA1And3-KeyTripleDES-CBC (1.2.840.113549.1.12.1.3) -> an unassigned sibling, .1.12.1.9
    tdes = bytes.fromhex("060a2a864886f70d010c0103")
    data = _swap_oid_and_fix_mac(openssl_files.legacy.read_bytes(), tdes, tdes[:-1] + b"\x09", SESSION_PFX_PASSWORD)
    with pytest.raises(InputFileError) as err:
        load_pfx_bytes(data, Secret(SESSION_PFX_PASSWORD, "test"), source="odd.pfx")
    assert "although the password is right (its MAC verifies)" in err.value.message
    assert "1.2.840.113549.1.12.1.9" in err.value.message
    assert err.value.exit_code == ExitCode.INPUT_FILE


def test_absurd_iteration_count_is_refused_before_deriving_keys(openssl_files):
    pfx = pkcs12.Pfx.load(openssl_files.legacy.read_bytes())
    pfx["mac_data"]["iterations"] = 2_000_000_000
    with pytest.raises(InputFileError, match="2,000,000,000 key-derivation iterations"):
        load_pfx_bytes(pfx.dump(force=True), Secret("x", "test"), source="slow.pfx")


#: The corpus's .pfx files that are not PKCS#12, and what they are called whatever the password.
CORPUS_NOT_PKCS12 = {
    "empty.pfx": "f.pfx is empty (0 bytes)",
    "truncated.pfx": "f.pfx is truncated: got 1,287 bytes, expected 2,574",
    "cert-pem-named.pfx": "f.pfx is a PEM text file (holding CERTIFICATE)",
    "cert-der-named.pfx": "f.pfx is a DER certificate without its private key",
    "base64.pfx": "f.pfx looks like a Base64-encoded .pfx",
    "noise.pfx": "f.pfx is not a PKCS#12 (.pfx/.p12) file: its structure cannot be read",
}
#: Whether the key of each corpus .pfx matches its certificate (None: no key); the others' keys do.
CORPUS_KEY_MATCHES = {"mismatch.pfx": False, "nokey.p12": None}


def test_every_corpus_pfx_opens_with_its_password_and_with_no_other(canaries):
    passwords = json.loads((BAD_INPUTS / "MANIFEST.json").read_text(encoding="utf-8"))["passwords"]
    tried = [*passwords.values(), "", SESSION_PFX_PASSWORD + "-not-it"]
    for p in tried:
        canaries.register(p, "pfx-password")
    files = sorted(p for p in (BAD_INPUTS / "certs").iterdir() if p.suffix in (".pfx", ".p12"))
    assert len(files) >= 10
    opened = 0
    for path in files:
        data = path.read_bytes()
        for p in tried:
            where = (path.name, tried.index(p))
            if path.name in CORPUS_NOT_PKCS12:
                with pytest.raises(InputFileError) as err:
                    load_pfx_bytes(data, Secret(p, "test"), source="f.pfx")
                assert err.value.message.startswith(CORPUS_NOT_PKCS12[path.name]), where
            elif p == passwords["pfx"]:
                bundle = load_pfx_bytes(data, Secret(p, "test"), source="f.pfx")
                assert bundle.key_matches is CORPUS_KEY_MATCHES.get(path.name, True), where
                opened += 1
            else:
                with pytest.raises(PasswordError) as refused:
                    load_pfx_bytes(data, Secret(p, "test"), source="f.pfx")
                assert "wrong password for f.pfx: the file's integrity check" in refused.value.message, where
    assert opened == len(files) - len(CORPUS_NOT_PKCS12)
