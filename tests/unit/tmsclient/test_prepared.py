"""The prepared directory's pure parts: the refusals of a directory to prepare into or to read, the page
comparison that decides whether a cutover may Save, and the command lines and note it prints."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tmsclient.commands.prepared import (
    FORMAT,
    MANIFEST,
    PageChangedError,
    PreparedDirError,
    check_new_dir,
    command_line,
    compare_pages,
    create_dir,
    dump_json,
    handoff,
    handoff_text,
    open_dir,
    write_member,
)
from tmsclient.errors import OutputFileError
from tmsclient.exitcodes import ExitCode

READING: dict[str, Any] = {
    "read_at": "2026-12-01T10:00:00Z",
    "site": "acme.webex.com/acme",
    "fields": {
        "sso_certificate": {"name": "ctl00$c$cert", "kind": "file", "label": "SSO Certificate"},
        "certificate_password": {"name": "ctl00$c$pw", "kind": "password", "label": "Certificate Password"},
        "use_sso": {"name": "ctl00$c$sso", "kind": "radio", "label": "Use Single Sign On"},
    },
    "save": "ctl00$c$save",
    "plan": [
        {"field": "sso_certificate", "label": "SSO Certificate", "before": "(no file)", "after": "<file>"},
        {"field": "certificate_password", "label": "Certificate Password", "before": "''", "after": "<hidden>"},
    ],
    "installed": {"thumbprint": "AA", "expires": "2026-12-20"},
}


def changed(**parts):
    return {**json.loads(json.dumps(READING)), **parts}


def test_the_same_page_breaks_nothing():
    assert compare_pages(READING, changed()) == ([], [])


def test_a_field_gone_or_of_another_kind_breaks_the_plan():
    fields = dict(READING["fields"])
    del fields["use_sso"]
    breaks, _ = compare_pages(READING, changed(fields=fields))
    assert breaks == ["field use_sso ('Use Single Sign On') was found by the preflight and is not on the page now"]
    fields = {**READING["fields"], "sso_certificate": {**READING["fields"]["sso_certificate"], "kind": "text"}}
    breaks, _ = compare_pages(READING, changed(fields=fields))
    assert breaks == ["field sso_certificate: got a text field, the preflight found a file field"]


def test_another_set_of_changes_or_no_save_button_breaks_the_plan():
    plan = [*READING["plan"], {"field": "use_sso", "label": "Use Single Sign On", "before": "No", "after": "Yes"}]
    breaks, _ = compare_pages(READING, changed(plan=plan, save=None))
    assert "the Save button 'ctl00$c$save' is gone" in breaks
    assert any(b.startswith("the Save would change sso_certificate, certificate_password, use_sso") for b in breaks)


def test_renamed_controls_edited_values_and_another_certificate_are_notes():
    fields = {**READING["fields"], "use_sso": {**READING["fields"]["use_sso"], "name": "ctl00$new$sso"}}
    plan = [{**READING["plan"][0], "before": "(a file)"}, READING["plan"][1]]
    breaks, notes = compare_pages(READING, changed(fields=fields, plan=plan, installed={"thumbprint": "BB"}))
    assert breaks == []
    assert notes == [
        "field use_sso is now the control 'ctl00$new$sso' (was 'ctl00$c$sso')",
        "SSO Certificate now shows (a file) (the preflight read (no file))",
        "TMS shows another certificate than at the preflight: thumbprint BB (was AA)",
    ]


def test_the_errors_have_their_own_exit_codes():
    assert PreparedDirError("x").exit_code == ExitCode.PREPARED_CHANGED
    assert PageChangedError("x").exit_code == ExitCode.PAGE_CHANGED
    assert (int(ExitCode.PREPARED_CHANGED), int(ExitCode.PAGE_CHANGED)) == (25, 26)


def test_a_directory_to_prepare_into_must_be_new_or_empty(tmp_path):
    assert check_new_dir(tmp_path / "new", force=False) == tmp_path / "new"
    (tmp_path / "empty").mkdir()
    check_new_dir(tmp_path / "empty", force=False)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(OutputFileError, match="not empty"):
        check_new_dir(tmp_path / "full", force=False)
    check_new_dir(tmp_path / "full", force=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputFileError, match="not a directory"):
        check_new_dir(tmp_path / "file", force=True)
    with pytest.raises(OutputFileError, match="does not exist"):
        check_new_dir(tmp_path / "missing" / "dir", force=False)
    os.symlink(tmp_path / "empty", tmp_path / "link")
    with pytest.raises(OutputFileError, match="symbolic link"):
        check_new_dir(tmp_path / "link", force=True)


def _prepared(tmp_path):
    d = tmp_path / "p"
    create_dir(d)
    files = {"tms-cert.cer": write_member(d, "tms-cert.cer", b"cert\n", force=False)}
    manifest = {"format": FORMAT, "prepared_at": "2026-12-01T10:00:00Z", "certificate": {}, "files": files}
    write_member(d, MANIFEST, dump_json({**manifest, "targets": []}), force=False)
    return d


def test_a_prepared_directory_is_read_and_its_files_checked(tmp_path):
    d = _prepared(tmp_path)
    assert oct(d.stat().st_mode & 0o777) == "0o700"
    prepared = open_dir(d)
    assert list(prepared.verify_all()) == ["tms-cert.cer"]
    (d / "tms-cert.cer").write_bytes(b"other\n")
    with pytest.raises(PreparedDirError, match="is not the file `prepare` wrote"):
        prepared.verify_all()
    (d / "tms-cert.cer").unlink()
    with pytest.raises(PreparedDirError, match="does not exist"):
        prepared.verify_all()


@pytest.mark.parametrize(
    ("spoil", "words"),
    [
        (lambda d: (d / MANIFEST).unlink(), "holds no readable manifest.json"),
        (lambda d: (d / MANIFEST).write_text("{"), "is not JSON"),
        (lambda d: (d / MANIFEST).write_text('{"format": "other/9"}'), "of format 'other/9'"),
        (lambda d: d.chmod(0o755), "open to other users"),
    ],
)
def test_what_is_not_a_prepared_directory_is_refused(tmp_path, spoil, words):
    d = _prepared(tmp_path)
    spoil(d)
    with pytest.raises(PreparedDirError, match=words):
        open_dir(d)


def test_command_lines_are_quoted_for_a_shell():
    line = command_line("cutover", Path("/var/lib/x y"), ["--profile", "prod", "--username", "TMS\\admin"])
    assert line == "tmsclient cutover '/var/lib/x y' --profile prod --username 'TMS\\admin'"


def test_the_handoff_note_names_what_to_send_and_what_never(tmp_path):
    cert = {
        "subject": "CN=tms.example.com",
        "issuer": "CN=CA",
        "thumbprint_sha1": "AB" * 20,
        "serial": "01",
        "not_before": "2026-12-01T00:00:00Z",
        "not_after": "2027-12-01T00:00:00Z",
    }
    manifest = {
        "certificate": cert,
        "prepared_at": "2026-12-01T10:00:00Z",
        "previous": {"file": "previous.pfx"},
        "targets": [{"name": "prod", "url": "https://tms/tms/", "preflight": READING}],
        "commands": {"cutover": "tmsclient cutover D", "rollback": "tmsclient rollback D"},
    }
    note = handoff(manifest, tmp_path)
    assert note["send"] == ["tms-cert.cer"]
    assert note["never_send"] == ["tms-cert.pfx", "pfx-password", "previous.pfx", "previous-pfx-password"]
    assert note["sites"][0]["installed_today"]["thumbprint_sha1"] == "AA"
    text = handoff_text(note)
    assert "Attach: tms-cert.cer" in text and "AB" * 20 in text and "tmsclient rollback D" in text
    assert "acme.webex.com/acme on https://tms/tms/ (target prod): thumbprint AA" in text
