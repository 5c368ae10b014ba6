"""Library pieces: thumbprints, summaries, chain ordering, PEM/DER parsing and the careful file writer."""

from __future__ import annotations

import datetime as dt
import stat

import pytest
from certs_support import UTC, der, key_pem, pem
from hypothesis import given
from hypothesis import strategies as st

from tmsclient.certs.chain import order_chain, pick_leaf
from tmsclient.certs.files import create_exclusive, write_file_atomic
from tmsclient.certs.parsing import load_certificates, load_private_key, normalize_text
from tmsclient.certs.summary import ThumbprintError, normalize_thumbprint, sha1_thumbprint, summarize
from tmsclient.credentials import Secret
from tmsclient.errors import InputFileError, OutputFileError, PasswordError, UsageError

THUMB = "A909502DD82AE41433E6F83886B00D4277A32A7B"


@pytest.mark.parametrize(
    "pasted",
    [
        THUMB,
        THUMB.lower(),
        " a9 09 50 2d d8 2a e4 14 33 e6 f8 38 86 b0 0d 42 77 a3 2a 7b ",
        "A9:09:50:2D:D8:2A:E4:14:33:E6:F8:38:86:B0:0D:42:77:A3:2A:7B",
        "\u200ea9 09 50 2d d8 2a e4 14 33 e6 f8 38 86 b0 0d 42 77 a3 2a 7b",  # from the Windows dialog
        "\ufeff" + THUMB + "\r\n",
        THUMB[:20] + "\u00a0" + THUMB[20:],
    ],
)
def test_normalize_thumbprint_accepts_what_people_paste(pasted):
    assert normalize_thumbprint(pasted) == THUMB


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (THUMB[:-2], "has 38 hex digits, expected 40"),
        (THUMB + "00", "has 42 hex digits"),
        (THUMB[:-1] + "G", "'G'"),
        (THUMB[:-1] + "\u2603", "'☃'"),
        ("", "has 0 hex digits"),
    ],
)
def test_normalize_thumbprint_rejects_with_a_specific_message(bad, message):
    with pytest.raises(ThumbprintError, match=message) as err:
        normalize_thumbprint(bad)
    assert isinstance(err.value, UsageError) and isinstance(err.value, ValueError)


@given(
    st.binary(min_size=20, max_size=20),
    st.lists(
        st.tuples(st.sampled_from([" ", ":", "\u200e", "\u200f", "-", "\t"]), st.integers(0, 60)), max_size=6
    ),
)
def test_normalize_thumbprint_round_trips_any_formatting(raw, insertions):
    text = raw.hex()
    for sep, pos in insertions:
        text = text[:pos] + sep + text[pos:]
    assert normalize_thumbprint(text) == raw.hex().upper()


def test_summary_fields(chains):
    s = summarize(chains.rsa.leaf.cert)
    assert s.thumbprint_sha1 == sha1_thumbprint(chains.rsa.leaf.cert) and s.thumbprint_sha1.isupper()
    assert len(s.thumbprint_sha1) == 40 and len(s.sha256_fingerprint) == 64
    assert int(s.serial, 16) == chains.rsa.leaf.cert.serial_number and len(s.serial) % 2 == 0
    assert s.not_before.tzinfo is not None and s.not_after == dt.datetime(2099, 1, 1, tzinfo=UTC)
    now = dt.datetime(2098, 12, 1, 12, tzinfo=UTC)
    assert s.days_left(now) == 30 and s.validity(now) == "valid"
    assert s.validity(dt.datetime(2100, 1, 1, tzinfo=UTC)) == "expired"
    assert s.days_left(dt.datetime(2099, 1, 3, tzinfo=UTC)) == -2
    assert s.key_description == "RSA 2048 bits" and not s.is_ca and not s.self_signed
    assert summarize(chains.rsa.root.cert).self_signed and summarize(chains.rsa.root.cert).is_ca
    assert summarize(chains.ec.leaf.cert).key_description == "EC secp256r1 (256 bits)"


def test_order_chain_from_any_order(chains):
    rsa = chains.rsa
    ordered = order_chain(
        rsa.leaf.cert, [rsa.root.cert, rsa.intermediate.cert, rsa.root.cert]
    )  # with a duplicate
    assert [c.subject for c in ordered.chain] == [rsa.intermediate.cert.subject, rsa.root.cert.subject]
    assert ordered.complete and ordered.reaches_root and ordered.unrelated == ()
    assert [link.verifies for link in ordered.links] == [True, True, True]


def test_order_chain_prefers_the_certificate_that_verifies(chains):
    from tmsclient.testing.certs import issue

    rsa = chains.rsa
    impostor = issue("tmsclient Test Issuing CA", issuer=rsa.root, ca=True)  # same name, other key
    ordered = order_chain(rsa.leaf.cert, [impostor.cert, rsa.root.cert, rsa.intermediate.cert])
    assert ordered.chain[0] == rsa.intermediate.cert and ordered.unrelated == (impostor.cert,)
    only_impostor = order_chain(rsa.leaf.cert, [impostor.cert, rsa.root.cert])
    assert only_impostor.links[0].verifies is False and not only_impostor.complete
    assert only_impostor.broken_links[0].subject == "O=tmsclient test,CN=tms.example.com"


def test_pick_leaf(chains):
    rsa = chains.rsa
    assert pick_leaf([rsa.root.cert, rsa.intermediate.cert, rsa.leaf.cert]) == rsa.leaf.cert


def test_parsing_tolerates_windows_text_and_mail_indentation(chains):
    text = pem(chains.rsa.leaf.cert)
    utf16 = text.decode().encode("utf-16")  # Notepad's "Unicode"
    indented = b"Bag Attributes\n    friendlyName: x\n" + b"\n".join(
        b"  " + line for line in text.splitlines()
    )
    for variant in (
        b"\xef\xbb\xbf" + text.replace(b"\n", b"\r\n"),
        text.replace(b"\n", b"\r"),
        utf16,
        indented,
    ):
        assert load_certificates(variant, "x") == (chains.rsa.leaf.cert,)
    assert normalize_text(b"\xef\xbb\xbfa\r\nb\rc") == b"a\nb\nc"


def test_parsing_errors_are_specific(chains):
    with pytest.raises(InputFileError, match="holds no certificate"):
        load_certificates(key_pem(chains.rsa.leaf.key), "k.pem")
    with pytest.raises(InputFileError, match="neither a PEM nor a DER certificate"):
        load_certificates(b"\x00\x01garbage", "g.bin")
    with pytest.raises(InputFileError, match="damaged CERTIFICATE block"):
        load_certificates(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "d.pem")
    with pytest.raises(InputFileError, match="holds no private key"):
        load_private_key(pem(chains.rsa.leaf.cert), "c.pem")
    with pytest.raises(InputFileError, match="neither a PEM nor a DER private key"):
        load_private_key(der(chains.rsa.leaf.cert), "c.der")
    with pytest.raises(InputFileError, match="holds 2 private keys"):
        load_private_key(key_pem(chains.rsa.leaf.key) + key_pem(chains.other_key), "two.pem")
    encrypted = key_pem(chains.rsa.leaf.key, b"right-passphrase")
    with pytest.raises(PasswordError, match="does not decrypt"):
        load_private_key(encrypted, "e.pem", lambda: Secret("wrong-passphrase", "test"))
    asked = []
    key = load_private_key(encrypted, "e.pem", lambda: asked.append(1) or Secret("right-passphrase", "test"))
    assert asked == [1] and key.private_numbers() == chains.rsa.leaf.key.private_numbers()
    load_private_key(key_pem(chains.rsa.leaf.key), "plain.pem", lambda: pytest.fail("asked for a passphrase"))


def test_write_file_atomic_modes_and_no_clobber(tmp_path):
    target = tmp_path / "out.p12"
    write_file_atomic(target, b"one")
    assert target.read_bytes() == b"one" and stat.S_IMODE(target.stat().st_mode) == 0o600
    with pytest.raises(OutputFileError, match="already exists"):
        write_file_atomic(target, b"two")
    assert target.read_bytes() == b"one"
    write_file_atomic(target, b"three", force=True, mode=0o644)
    assert target.read_bytes() == b"three" and stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.p12"]


def test_write_file_atomic_does_not_clobber_a_file_that_appears_meanwhile(tmp_path, monkeypatch):
    import tmsclient.certs.files as files_mod

    target = tmp_path / "race.p12"
    real_mkstemp = files_mod.tempfile.mkstemp

    def mkstemp_then_someone_writes(**kwargs):
        result = real_mkstemp(**kwargs)
        target.write_bytes(b"written by someone else")
        return result

    monkeypatch.setattr(files_mod.tempfile, "mkstemp", mkstemp_then_someone_writes)
    with pytest.raises(OutputFileError, match="already exists"):
        write_file_atomic(target, b"ours")
    assert target.read_bytes() == b"written by someone else"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.p12"]


def test_create_exclusive(tmp_path):
    path = create_exclusive(tmp_path / "pw", b"secret\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(OutputFileError, match="refusing to overwrite"):
        create_exclusive(path, b"other\n")
    assert path.read_bytes() == b"secret\n"
