"""The two-sided renewal against the staging stand-in (Apache + NTLM + Mono ASP.NET): `prepare` stores nothing and
sends no Save (the stand-in's data file and Apache's access log say so), `cutover` uploads what was prepared and
Mono's X509Certificate2 imports it, `rollback` puts the previous .pfx back, and the refusals change nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes

from tests.helpers.pfx import make_pfx_bytes
from tests.helpers.staging import PfxFile, StagingTarget
from tmsclient.exitcodes import ExitCode

pytestmark = pytest.mark.staging

EXAMPLE = "example.webex.com"  # seeded: site name "tms"


def site_data(t: StagingTarget) -> dict[str, Any]:
    return next(s for s in t.stack.read_data()["Sites"] if s["HostName"] == EXAMPLE)


@pytest.fixture
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Prepared directories live outside ``tmp_path``: they hold their secrets by design (in 0600 files), which the
    canary watch of ``tmp_path`` would reject; the emulator tests check every other file of them."""
    return tmp_path_factory.mktemp("staging-prepared")


def prepare(cli: Any, t: StagingTarget, root: Path, f: PfxFile, *extra: str, env: dict[str, str] | None = None) -> Any:
    return cli(
        "prepare",
        str(root / "prepared"),
        *t.argv(),
        "--site",
        EXAMPLE,
        "--pfx",
        str(f.path),
        "--json",
        *extra,
        env={**t.env(), **f.env, **(env or {})},
    )


def switch(cli: Any, command: str, t: StagingTarget, root: Path) -> Any:
    return cli(command, str(root / "prepared"), *t.argv(), "--site", EXAMPLE, "--json", env=t.env())


def upload_old(cli: Any, t: StagingTarget, f: PfxFile) -> None:
    result = cli("upload", *t.argv(), "--site", EXAMPLE, "--pfx", str(f.path), env={**t.env(), **f.env})
    assert result.code == 0, result


def test_prepare_sends_no_save_and_cutover_uploads_what_was_prepared(
    cli: Any, staging_target: StagingTarget, staging_pfx: Any, root: Path
) -> None:
    stack = staging_target.stack
    old, new = staging_pfx(name="old.pfx"), staging_pfx(name="new.pfx")
    upload_old(cli, staging_target, old)
    stored = stack.data_file.read_bytes()
    mark = stack.access_mark()
    prep = prepare(
        cli, staging_target, root, new, "--previous-pfx", str(old.path), "--previous-pfx-password-env", "OLD_PW",
        env={"OLD_PW": old.password},
    )  # fmt: skip
    assert prep.code == 0, prep
    # Nothing stored, and Apache saw no Save: every POST is the Edit postback, none carried the file.
    assert stack.data_file.read_bytes() == stored
    accesses = stack.accesses_since(mark)
    posts = [a for a in accesses if a.method == "POST"]
    assert len(posts) == 1  # the Edit postback that opens the site
    saves_before = site_data(staging_target)["Saves"]
    pre = prep.json["targets"][0]["preflight"]
    assert pre["installed"]["thumbprint"] == old.thumbprint  # as the stand-in's page shows it
    assert {"sso_certificate", "certificate_password"} <= {r["field"] for r in pre["plan"]}
    assert prep.json["certificate"]["thumbprint_sha1"] == new.thumbprint

    cut = switch(cli, "cutover", staging_target, root)
    assert cut.code == 0, cut
    row = cut.json["targets"][0]
    assert row["action"] == "uploaded" and row["verification"] == "certificate"
    assert row["replaced"]["thumbprint"] == old.thumbprint
    assert site_data(staging_target)["Saves"] == saves_before + 1
    cert = site_data(staging_target)["Certificate"]
    prepared_pfx = (root / "prepared" / "tms-cert.pfx").read_bytes()
    assert cert["Thumbprint"] == new.thumbprint
    assert cert["PfxSha256"] == hashlib.sha256(prepared_pfx).hexdigest().upper()
    record = json.loads((root / "prepared" / "cutover.json").read_text())
    assert record["ok"] is True and record["targets"][0]["replaced"]["thumbprint"] == old.thumbprint

    back = switch(cli, "rollback", staging_target, root)
    assert back.code == 0, back
    assert back.json["targets"][0]["verification"] == "certificate"
    assert site_data(staging_target)["Certificate"]["Thumbprint"] == old.thumbprint


def test_refusals_change_nothing_on_the_stand_in(
    cli: Any, staging_target: StagingTarget, staging_pfx: Any, root: Path
) -> None:
    stack = staging_target.stack
    f = staging_pfx()
    assert prepare(cli, staging_target, root, f).code == 0
    directory = root / "prepared"
    stored = stack.data_file.read_bytes()
    mark = stack.access_mark()

    # No previous .pfx kept: rollback refuses before any request.
    assert switch(cli, "rollback", staging_target, root).code == ExitCode.PREPARED_CHANGED
    # A directory prepared long ago, whose certificate has expired since (the manifest agrees with the .pfx):
    # refused before any request.
    manifest_path = directory / "manifest.json"
    original = manifest_path.read_text()
    pfx = directory / "tms-cert.pfx"
    good = pfx.read_bytes()
    aged, cert = make_pfx_bytes("expired", (directory / "pfx-password").read_text().removesuffix("\n"))
    pfx.write_bytes(aged)
    manifest = json.loads(original)
    manifest["files"]["tms-cert.pfx"] = {"sha256": hashlib.sha256(aged).hexdigest(), "bytes": len(aged)}
    manifest["certificate"]["thumbprint_sha1"] = cert.fingerprint(hashes.SHA1()).hex().upper()
    manifest_path.write_text(json.dumps(manifest))
    expired = switch(cli, "cutover", staging_target, root)
    assert expired.code == ExitCode.CERT_UNFIT and "expired on" in expired.json["error"]["message"]
    manifest_path.write_text(original)
    pfx.write_bytes(good)
    # A tampered .pfx: refused before any request.
    pfx.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
    assert switch(cli, "cutover", staging_target, root).code == ExitCode.PREPARED_CHANGED
    pfx.write_bytes(good)
    assert [a for a in stack.accesses_since(mark)] == []

    # The page no longer fits the preflight (the preflight found the certificate box as another kind of
    # field than the stand-in's FileUpload renders now): refused after reading the page, before the Save.
    manifest = json.loads(original)
    manifest["targets"][0]["preflight"]["fields"]["sso_certificate"]["kind"] = "text"
    manifest_path.write_text(json.dumps(manifest))
    changed = switch(cli, "cutover", staging_target, root)
    assert changed.code == ExitCode.PAGE_CHANGED, changed
    assert "since the preflight" in changed.json["error"]["message"]
    accesses = stack.accesses_since(mark)
    assert accesses and [a.method for a in accesses if a.method == "POST"] == ["POST"]  # the Edit postback only
    assert stack.data_file.read_bytes() == stored
