"""Every certificate command at -vv, on success and on failure: no password and no key material may appear in
stdout, stderr (logs) or any file the tool wrote. The canaries fixture searches all of it at teardown; this
test also checks each run as it goes, so a leak names the command that leaked."""

from __future__ import annotations

from tests.helpers.certs import key_pem, pem, write
from tmsclient.certs.pfxoptions import PfxEncryption
from tmsclient.certs.pfxwrite import serialize_pfx
from tmsclient.credentials import Secret


def test_every_command_at_debug_level_leaks_nothing(cli, canaries, chains, tmp_path):
    rsa = chains.rsa
    pfx_pw = canaries.secret("pfx-password", extra=" &%$")
    new_pw = canaries.secret("new-pfx-password")
    key_pass = canaries.secret("key-passphrase")
    wrong = canaries.secret("wrong-password")
    canaries.register_key(rsa.leaf.key)  # also watched by the autouse fixture; explicit here

    cert = write(tmp_path / "cert.pem", pem(rsa.leaf.cert))
    chain = write(tmp_path / "chain.pem", pem(rsa.intermediate.cert) + pem(rsa.root.cert))
    enc_key = write(tmp_path / "key.enc.pem", key_pem(rsa.leaf.key, key_pass.encode()))
    trad_key = write(tmp_path / "key.trad.pem", key_pem(rsa.leaf.key, key_pass.encode(), traditional=True))
    plain_key = write(tmp_path / "key.pem", key_pem(rsa.leaf.key))
    combined = write(tmp_path / "combined.pem", pem(rsa.leaf.cert) + key_pem(rsa.leaf.key))
    kp_file = write(tmp_path / "kp.txt", key_pass.encode() + b"\n")
    aes_data = serialize_pfx(
        key=rsa.leaf.key, cert=rsa.leaf.cert, password=Secret(pfx_pw, "test"), encryption=PfxEncryption.MODERN
    )
    aes = write(tmp_path / "aes.pfx", aes_data)
    env = {"TMSCLIENT_PFX_PASSWORD": pfx_pw, "KP": key_pass, "NEW": new_pw, "WRONG": wrong}

    runs = [
        (
            "bundle",
            "--cert",
            str(cert),
            "--key",
            str(enc_key),
            "--chain",
            str(chain),
            "--out",
            str(tmp_path / "b1.p12"),
            "--key-passphrase-env",
            "KP",
        ),
        (
            "bundle",
            "--cert",
            str(cert),
            "--key",
            str(trad_key),
            "--out",
            str(tmp_path / "b2.p12"),
            "--key-passphrase-file",
            str(kp_file),
            "--json",
        ),
        (
            "bundle",
            "--cert",
            str(cert),
            "--key",
            str(plain_key),
            "--out",
            str(tmp_path / "b3.p12"),
            "--generate-password",
            str(tmp_path / "b3.pw"),
            "--encryption",
            "modern",
        ),
        (
            "bundle",
            "--cert",
            str(cert),
            "--key",
            str(enc_key),
            "--out",
            str(tmp_path / "bad.p12"),
            "--key-passphrase-env",
            "WRONG",
        ),  # wrong passphrase
        ("bundle", "--cert", str(cert), "--key", str(enc_key), "--out", str(tmp_path / "bad2.p12")),  # none
        ("inspect", str(tmp_path / "b1.p12")),
        ("inspect", str(tmp_path / "b1.p12"), "--json"),
        ("inspect", str(tmp_path / "b1.p12"), "--pfx-password-env", "WRONG", "--json"),
        ("inspect", str(combined), "--json"),
        ("inspect", str(enc_key)),
        ("check", str(tmp_path / "b1.p12"), "--json"),
        ("check", str(aes)),
        ("check", str(tmp_path / "b1.p12"), "--pfx-password-env", "WRONG", "--json"),
        ("convert", str(aes), "--out", str(tmp_path / "c1.p12")),
        ("convert", str(aes), "--out", str(tmp_path / "c2.p12"), "--out-password-env", "NEW", "--json"),
        ("convert", str(aes), "--out", str(tmp_path / "c3.p12"), "--in-password-env", "WRONG"),
        ("export-cer", str(tmp_path / "b1.p12"), "--out", str(tmp_path / "tms.cer")),
        ("export-cer", str(aes), "--out", str(tmp_path / "tms2.cer"), "--json"),
        ("export-cer", str(aes), "--out", str(tmp_path / "tms3.cer"), "--pfx-password-env", "WRONG"),
    ]
    commands_seen = set()
    for argv in runs:
        result = cli(*argv, "-vv", env=env)
        commands_seen.add(argv[0])
        assert "debug" in result.err, f"-vv produced no debug log: {result!r}"
        canaries.assert_clean(result.out, f"stdout of {' '.join(argv)}")
        canaries.assert_clean(result.err, f"stderr of {' '.join(argv)}")
    assert commands_seen == {"bundle", "inspect", "check", "convert", "export-cer"}
    # the runs did what they should, so the search covered real work and real failures
    codes = [r.code for r in cli.results]
    assert codes[:3] == [0, 0, 0] and codes[3:5] == [4, 4]
    assert codes[15] == 4 and codes[-1] == 4
    generated = (tmp_path / "b3.pw").read_text().strip()
    for result in cli.results:
        assert generated not in result.text
    # the canaries do see a secret when it is there: the search can fail
    assert canaries.find(f"oops {pfx_pw}") and canaries.find(plain_key.read_bytes())
