"""`tmsclient bundle`: inputs in every shape, chain ordering, the compatible output and how it is written."""

from __future__ import annotations

import io
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

import tmsclient.files as files_mod
from tests.helpers.canaries import Canaries
from tests.helpers.certs import PASS_ENV, der, key_pem, openssl, openssl_info, pem, write
from tmsclient.certs.facts import sha1_thumbprint
from tmsclient.certs.loading import load_pfx_file
from tmsclient.certs.summary import public_key_der
from tmsclient.cli import main
from tmsclient.credentials import Secret
from tmsclient.exitcodes import ExitCode
from tmsclient.settings import SecretResolver
from tmsemulator.certmaker import issue

PBES1_3DES = "pbeWithSHA1And3-KeyTripleDES-CBC"


@pytest.fixture
def pw(canaries: Canaries) -> str:
    return canaries.secret("pfx-password", extra=" &$#\"'")


@pytest.fixture
def files(tmp_path, chains):
    rsa = chains.rsa
    return {
        "cert": write(tmp_path / "cert.pem", pem(rsa.leaf.cert)),
        "key": write(tmp_path / "key.pem", key_pem(rsa.leaf.key)),
        "chain": write(tmp_path / "chain.pem", pem(rsa.root.cert) + pem(rsa.intermediate.cert)),  # root first
    }


def _thumbs(certs):
    return [sha1_thumbprint(c) for c in certs]


def _bundle(cli, *, cert, out, key=None, chain=(), extra=(), **kwargs):
    """`tmsclient bundle --cert CERT [--key KEY] [--chain CHAIN]... --out OUT [EXTRA...]`."""
    argv = ["bundle", "--cert", str(cert)]
    if key is not None:
        argv += ["--key", str(key)]
    for chain_file in chain:
        argv += ["--chain", str(chain_file)]
    return cli(*argv, "--out", str(out), *extra, **kwargs)


def _secret_from(source, secret, *, flag, default_env, env_var, file, newline="\n"):
    """(env, extra arguments, stdin) that hand ``secret`` to ``--FLAG-env/-file/-stdin`` or ``$DEFAULT_ENV``."""
    if source == "env":
        return {env_var: secret}, [f"--{flag}-env", env_var], None
    if source == "file":
        write(file, (secret + newline).encode())
        return {}, [f"--{flag}-file", str(file)], None
    if source == "stdin":
        return {}, [f"--{flag}-stdin"], secret + "\n"
    return {default_env: secret}, [], None


def _assert_same_contents(path, password, chain, *, name="tms-cert-key"):
    bundle = load_pfx_file(path, Secret(password, "test"))
    assert public_key_der(bundle.key) == public_key_der(chain.leaf.key)
    assert sha1_thumbprint(bundle.cert) == sha1_thumbprint(chain.leaf.cert)
    assert _thumbs(bundle.chain) == _thumbs([chain.intermediate.cert, chain.root.cert])
    assert bundle.friendly_name == name
    return bundle


def test_bundle_reads_back_in_openssl_as_3des_with_sha1_mac(cli, files, chains, pw, tmp_path):
    out = tmp_path / "tms.p12"
    result = _bundle(
        cli, cert=files["cert"], key=files["key"], chain=[files["chain"]], out=out, env={"TMSCLIENT_PFX_PASSWORD": pw}
    )
    assert result.code == 0, result
    info = openssl_info(out, pw)  # no -legacy needed: nothing in it is RC2
    assert info.ok, info.output
    assert info.mac_digest == "sha1"
    assert info.mac_iterations == 2048
    assert info.cert_encryption == (PBES1_3DES,)
    assert info.key_encryption == (PBES1_3DES,)
    assert set(info.iterations) == {2048}
    _assert_same_contents(out, pw, chains.rsa)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left behind
    assert "wrote" in result.out and sha1_thumbprint(chains.rsa.leaf.cert) in result.out
    # openssl extracts the same certificate and friendly name
    text = openssl("pkcs12", "-in", str(out), "-nokeys", "-passin", PASS_ENV, password=pw).stdout
    assert "friendlyName: tms-cert-key" in text
    assert pem(chains.rsa.leaf.cert).decode().strip() in text


def test_der_inputs_and_custom_name(cli, chains, pw, tmp_path):
    cert = write(tmp_path / "cert.der", der(chains.rsa.leaf.cert))
    key = write(
        tmp_path / "key.der",
        chains.rsa.leaf.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
    inter = write(tmp_path / "inter.cer", der(chains.rsa.intermediate.cert))
    root = write(tmp_path / "root.cer", der(chains.rsa.root.cert))
    out = tmp_path / "out.pfx"
    result = _bundle(
        cli,
        cert=cert,
        key=key,
        chain=[root, inter],
        out=out,
        extra=["--name", "renewed 2025"],
        env={"TMSCLIENT_PFX_PASSWORD": pw},
    )
    assert result.code == 0, result
    _assert_same_contents(out, pw, chains.rsa, name="renewed 2025")


def test_cert_file_holding_the_chain_in_any_order_and_the_key(cli, chains, pw, tmp_path):
    rsa = chains.rsa
    combined = write(
        tmp_path / "all.pem",
        pem(rsa.root.cert) + key_pem(rsa.leaf.key) + pem(rsa.intermediate.cert) + pem(rsa.leaf.cert),
    )
    out = tmp_path / "out.p12"
    result = cli("bundle", "--cert", str(combined), "--out", str(out), "--json", env={"TMSCLIENT_PFX_PASSWORD": pw})
    assert result.code == 0, result
    _assert_same_contents(out, pw, rsa)
    assert result.json["chain"] == [
        rsa.intermediate.cert.subject.rfc4514_string(),
        rsa.root.cert.subject.rfc4514_string(),
    ]


def test_pkcs7_chain_file(cli, chains, pw, tmp_path, files):
    p7 = pkcs7.serialize_certificates([chains.rsa.root.cert, chains.rsa.intermediate.cert], serialization.Encoding.PEM)
    chain = write(tmp_path / "chain.p7b", p7)
    out = tmp_path / "out.p12"
    result = _bundle(
        cli, cert=files["cert"], key=files["key"], chain=[chain], out=out, env={"TMSCLIENT_PFX_PASSWORD": pw}
    )
    assert result.code == 0, result
    _assert_same_contents(out, pw, chains.rsa)


def test_crlf_line_endings_and_utf8_bom(cli, chains, pw, tmp_path, files):
    def windows(data: bytes) -> bytes:
        return b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n")

    cert = write(tmp_path / "cert-win.crt", windows(pem(chains.rsa.leaf.cert)))
    key = write(tmp_path / "key-win.key", windows(key_pem(chains.rsa.leaf.key)))
    chain = write(tmp_path / "chain-win.pem", windows(files["chain"].read_bytes()))
    out = tmp_path / "out.p12"
    result = _bundle(cli, cert=cert, key=key, chain=[chain], out=out, env={"TMSCLIENT_PFX_PASSWORD": pw})
    assert result.code == 0, result
    _assert_same_contents(out, pw, chains.rsa)


@pytest.mark.parametrize("traditional", [False, True], ids=["pkcs8", "traditional"])
@pytest.mark.parametrize("source", ["env", "file", "stdin", "default-env"])
def test_encrypted_key_with_passphrase_from_each_source(
    cli, canaries, chains, pw, tmp_path, files, traditional, source
):
    passphrase = canaries.secret("key-passphrase", extra=" x")
    key_bytes = key_pem(chains.rsa.leaf.key, passphrase.encode(), traditional=traditional)
    assert (b"Proc-Type: 4,ENCRYPTED" in key_bytes) is traditional
    assert (b"ENCRYPTED PRIVATE KEY" in key_bytes) is not traditional
    key = write(tmp_path / "enc.key", key_bytes)
    env, extra, stdin = _secret_from(
        source,
        passphrase,
        flag="key-passphrase",
        default_env="TMSCLIENT_KEY_PASSPHRASE",
        env_var="MY_KEY_PASS",
        file=tmp_path / "kp.txt",
    )
    out = tmp_path / "out.p12"
    result = _bundle(
        cli,
        cert=files["cert"],
        key=key,
        chain=[files["chain"]],
        out=out,
        extra=extra,
        env={"TMSCLIENT_PFX_PASSWORD": pw, **env},
        stdin=stdin,
    )
    assert result.code == 0, result
    _assert_same_contents(out, pw, chains.rsa)


def test_wrong_key_passphrase(cli, canaries, chains, pw, tmp_path, files):
    key = write(tmp_path / "enc.key", key_pem(chains.rsa.leaf.key, canaries.secret("key-passphrase").encode()))
    wrong = canaries.secret("wrong-passphrase")
    result = _bundle(
        cli,
        cert=files["cert"],
        key=key,
        out=tmp_path / "o.p12",
        extra=["--key-passphrase-env", "KP"],
        env={"TMSCLIENT_PFX_PASSWORD": pw, "KP": wrong},
    )
    assert result.code == ExitCode.BAD_PASSWORD, result
    assert "does not decrypt the private key" in result.err and "env:KP" in result.err


def test_mismatched_key_is_refused_and_names_the_key_that_does_match(cli, chains, pw, tmp_path, files):
    key = write(tmp_path / "inter.key", key_pem(chains.rsa.intermediate.key))
    result = _bundle(
        cli,
        cert=files["cert"],
        key=key,
        chain=[files["chain"]],
        out=tmp_path / "o.p12",
        env={"TMSCLIENT_PFX_PASSWORD": pw},
    )
    assert result.code == ExitCode.CERT_UNFIT, result
    assert "does not belong to the certificate" in result.err
    assert "it belongs to O=tmsclient test,CN=tmsclient Test Issuing CA from --chain" in result.err
    assert not (tmp_path / "o.p12").exists()


def test_chain_link_that_does_not_verify_is_reported(cli, chains, pw, tmp_path, files):
    # A certificate with the intermediate's name but another key: the leaf's signature does not verify.
    fake = issue("tmsclient Test Issuing CA", issuer=chains.rsa.root, ca=True)
    chain = write(tmp_path / "fake-chain.pem", pem(fake.cert) + pem(chains.rsa.root.cert))
    out = tmp_path / "out.p12"
    result = _bundle(
        cli,
        cert=files["cert"],
        key=files["key"],
        chain=[chain],
        out=out,
        extra=["--json"],
        env={"TMSCLIENT_PFX_PASSWORD": pw},
    )
    assert result.code == 0, result
    assert "chain link does not verify: O=tmsclient test,CN=tms.example.com is not signed" in result.err
    assert "CHAIN_BROKEN" in [f["code"] for f in result.json["findings"]]


def test_unrelated_chain_certificate_is_left_out_with_a_warning(cli, chains, pw, tmp_path, files):
    chain = write(tmp_path / "chain.pem", files["chain"].read_bytes() + pem(chains.ec.root.cert))
    out = tmp_path / "out.p12"
    result = _bundle(
        cli, cert=files["cert"], key=files["key"], chain=[chain], out=out, env={"TMSCLIENT_PFX_PASSWORD": pw}
    )
    assert result.code == 0, result
    assert "left out" in result.err
    _assert_same_contents(out, pw, chains.rsa)


def test_modern_encryption_warns_about_2012r2_and_2016(cli, chains, pw, tmp_path, files):
    out = tmp_path / "modern.p12"
    result = _bundle(
        cli,
        cert=files["cert"],
        key=files["key"],
        out=out,
        extra=["--encryption", "modern", "--json"],
        env={"TMSCLIENT_PFX_PASSWORD": pw},
    )
    assert result.code == 0, result
    assert "Windows Server 2012 R2 and 2016 cannot import it" in result.err
    info = openssl_info(out, pw)
    assert info.mac_digest == "sha256"
    assert info.key_encryption == ("PBES2, PBKDF2, AES-256-CBC, PRF hmacWithSHA256",)
    assert result.json["windows_import"] == {"2012r2": False, "2016": False, "2019": True, "2022": True}


@pytest.mark.parametrize("how", ["env", "file", "stdin", "default-env"])
def test_output_password_sources(cli, canaries, chains, tmp_path, files, how):
    pw = canaries.secret("pfx-password")
    env, extra, stdin = _secret_from(
        how,
        pw,
        flag="out-password",
        default_env="TMSCLIENT_PFX_PASSWORD",
        env_var="OUT_PW",
        file=tmp_path / "pw.txt",
        newline="\r\n",
    )
    out = tmp_path / "out.p12"
    result = _bundle(
        cli, cert=files["cert"], key=files["key"], chain=[files["chain"]], out=out, extra=extra, env=env, stdin=stdin
    )
    assert result.code == 0, result
    _assert_same_contents(out, pw, chains.rsa)


def test_empty_or_missing_output_password_is_refused(cli, tmp_path, files):
    args = (
        "bundle",
        "--cert",
        str(files["cert"]),
        "--key",
        str(files["key"]),
        "--out",
        str(tmp_path / "o.p12"),
    )
    empty = cli(*args, env={"TMSCLIENT_PFX_PASSWORD": ""})
    assert empty.code == ExitCode.BAD_PASSWORD and "is empty" in empty.err
    missing = cli(*args)
    assert missing.code == ExitCode.BAD_PASSWORD and "no new .pfx password given" in missing.err
    assert not (tmp_path / "o.p12").exists()


def test_prompted_password_is_asked_twice(chains, tmp_path, files, canaries, monkeypatch):
    pw = canaries.secret("pfx-password")
    answers = iter([pw, pw, pw, pw + "typo"])
    monkeypatch.setattr(SecretResolver, "_can_prompt", lambda self: True)
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    args = ["bundle", "--cert", str(files["cert"]), "--key", str(files["key"])]

    def run(out_name):
        stdout, stderr = io.StringIO(), io.StringIO()
        code = main(
            [*args, "--out", str(tmp_path / out_name)],
            stdout=stdout,
            stderr=stderr,
            environ={},
            interactive=True,
        )
        canaries.assert_clean(stdout.getvalue() + stderr.getvalue(), "prompted bundle output")
        return code, stderr.getvalue()

    assert run("ok.p12")[0] == 0
    assert load_pfx_file(tmp_path / "ok.p12", Secret(pw, "test")).key is not None
    code, err = run("typo.p12")
    assert code == ExitCode.BAD_PASSWORD and "do not match" in err
    assert not (tmp_path / "typo.p12").exists()


def test_generate_password_writes_it_0600_and_never_overwrites(cli, chains, tmp_path, files):
    out, pwfile = tmp_path / "out.p12", tmp_path / "out.password"
    args = [
        "bundle",
        "--cert",
        str(files["cert"]),
        "--key",
        str(files["key"]),
        "--chain",
        str(files["chain"]),
    ]
    result = cli(*args, "--out", str(out), "--generate-password", str(pwfile), "--json")
    assert result.code == 0, result
    assert stat.S_IMODE(pwfile.stat().st_mode) == 0o600
    generated = pwfile.read_text().rstrip("\n")
    assert len(generated) >= 24
    assert generated not in result.out and generated not in result.err
    assert result.json["password_source"] == "generated" and result.json["password_file"] == str(pwfile)
    _assert_same_contents(out, generated, chains.rsa)
    # a second run refuses to overwrite the password file, even with --force, and leaves both files alone
    before = (out.read_bytes(), pwfile.read_bytes())
    again = cli(*args, "--out", str(out), "--force", "--generate-password", str(pwfile))
    assert again.code == ExitCode.OUTPUT_FILE and "password file" in again.err
    assert (out.read_bytes(), pwfile.read_bytes()) == before


def test_generate_password_conflicts_with_a_given_password(cli, tmp_path, files):
    result = _bundle(
        cli,
        cert=files["cert"],
        key=files["key"],
        out=tmp_path / "o",
        extra=["--generate-password", str(tmp_path / "pw"), "--out-password-env", "X"],
        env={"X": "something"},
    )
    assert result.code == ExitCode.USAGE and "conflicts" in result.err


def test_existing_output_is_not_overwritten_without_force(cli, chains, pw, tmp_path, files):
    out = write(tmp_path / "tms.p12", b"precious")
    args = ["bundle", "--cert", str(files["cert"]), "--key", str(files["key"]), "--out", str(out)]
    result = cli(*args, env={"TMSCLIENT_PFX_PASSWORD": pw})
    assert result.code == ExitCode.OUTPUT_FILE and "already exists" in result.err and "--force" in result.err
    assert out.read_bytes() == b"precious"
    out.chmod(0o644)
    forced = cli(*args, "--force", env={"TMSCLIENT_PFX_PASSWORD": pw})
    assert forced.code == 0, forced
    assert load_pfx_file(out, Secret(pw, "test")).key is not None
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_output_in_a_missing_directory(cli, pw, tmp_path, files):
    result = _bundle(
        cli,
        cert=files["cert"],
        key=files["key"],
        out=tmp_path / "no" / "such" / "dir.p12",
        env={"TMSCLIENT_PFX_PASSWORD": pw},
    )
    assert result.code == ExitCode.OUTPUT_FILE and "does not exist" in result.err


def test_iterations_are_bounded(cli, pw, tmp_path, files):
    result = _bundle(
        cli,
        cert=files["cert"],
        key=files["key"],
        out=tmp_path / "o",
        extra=["--iterations", "5000000"],
        env={"TMSCLIENT_PFX_PASSWORD": pw},
    )
    assert result.code == ExitCode.USAGE and "out of range" in result.err


def test_ec_key_is_bundled_but_flagged(cli, chains, pw, tmp_path):
    ec = chains.ec
    cert = write(tmp_path / "ec.pem", pem(ec.leaf.cert))
    key = write(tmp_path / "ec.key", key_pem(ec.leaf.key, traditional=True))
    out = tmp_path / "ec.p12"
    result = _bundle(cli, cert=cert, key=key, out=out, extra=["--json"], env={"TMSCLIENT_PFX_PASSWORD": pw})
    assert result.code == 0, result
    assert "EC_KEY" in [f["code"] for f in result.json["findings"]]
    assert load_pfx_file(out, Secret(pw, "test")).key_matches is True


def test_atomic_write_leaves_no_partial_file_when_the_write_fails(cli, pw, tmp_path, files, monkeypatch):
    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files_mod.os, "link", broken_replace)
    out = tmp_path / "o.p12"
    result = _bundle(
        cli, cert=files["cert"], key=files["key"], out=out, extra=["--generate-password", str(tmp_path / "pw.txt")]
    )
    assert result.code == ExitCode.OUTPUT_FILE and "No space left" in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cert.pem", "chain.pem", "key.pem"]


def test_pfx_given_as_cert_points_to_convert(cli, openssl_files, pw, tmp_path, files):
    result = _bundle(
        cli, cert=openssl_files.legacy, key=files["key"], out=tmp_path / "o.p12", env={"TMSCLIENT_PFX_PASSWORD": pw}
    )
    assert result.code == ExitCode.INPUT_FILE and "tmsclient convert" in result.err


def test_no_key_anywhere(cli, pw, tmp_path, files):
    result = _bundle(cli, cert=files["cert"], out=tmp_path / "o.p12", env={"TMSCLIENT_PFX_PASSWORD": pw})
    assert result.code == ExitCode.USAGE and "holds no private key" in result.err
