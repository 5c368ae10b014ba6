"""``python -m tmsemulator.certmaker``: the throw-away chain the demo uploads, and the files it writes."""

from __future__ import annotations

import stat
import subprocess
import sys

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key
from cryptography.x509.oid import NameOID

from tmsemulator.certmaker import main
from tmsemulator.errors import ExitCode
from tmsemulator.files import write_atomically


def test_make_cert_writes_a_leaf_its_key_and_its_chain(tmp_path, capsys):
    out = tmp_path / "certs"
    assert main(["--out", str(out), "--cn", "tms.acme.example", "--days", "30"]) == 0
    leaf = x509.load_pem_x509_certificate((out / "cert.pem").read_bytes())
    key = load_pem_private_key((out / "key.pem").read_bytes(), None)
    chain = x509.load_pem_x509_certificates((out / "chain.pem").read_bytes())
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "tms.acme.example"
    spki = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert key.public_key().public_bytes(*spki) == leaf.public_key().public_bytes(*spki)
    assert [c.subject for c in chain] == [leaf.issuer, chain[1].issuer]  # issuing CA, then its root
    assert (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days == 30
    assert stat.S_IMODE((out / "key.pem").stat().st_mode) == 0o600
    assert "CN=tms.acme.example" in capsys.readouterr().out


def test_make_cert_keeps_existing_files_unless_forced(tmp_path, capsys):
    assert main(["--out", str(tmp_path)]) == 0
    before = (tmp_path / "key.pem").read_bytes()
    assert main(["--out", str(tmp_path)]) == ExitCode.OUTPUT_FILE
    assert "use --force" in capsys.readouterr().err
    assert (tmp_path / "key.pem").read_bytes() == before
    assert main(["--out", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "key.pem").read_bytes() != before


def test_make_cert_runs_from_the_command_line(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "tmsemulator.certmaker", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cert.pem", "chain.pem", "key.pem"]


def test_atomic_write_replaces_the_file_with_its_mode_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "ready.json"
    target.write_text("old")
    write_atomically(target, b"new", mode=0o640, what="ready file")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["ready.json"]
