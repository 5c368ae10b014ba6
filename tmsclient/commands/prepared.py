"""The prepared directory of a two-sided renewal: its files, its manifest, and how both are checked."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tmsclient.credentials import Secret, secret_of_file_bytes
from tmsclient.errors import OutputFileError, TmsClientError
from tmsclient.exitcodes import ExitCode
from tmsclient.files import read_bounded, write_file_atomic
from tmsclient.output import json_text, to_jsonable

FORMAT = "tmsclient-prepared/1"
MANIFEST = "manifest.json"
PFX = "tms-cert.pfx"
PFX_PASSWORD_FILE = "pfx-password"  # noqa: S105 (a file name)
CER = "tms-cert.cer"
HANDOFF_TEXT = "handoff.txt"
HANDOFF_JSON = "handoff.json"
PREVIOUS_PFX = "previous.pfx"
PREVIOUS_PASSWORD_FILE = "previous-pfx-password"  # noqa: S105 (a file name)
#: Written by `cutover` and `rollback` after they ran: what they did, for `status` and for the record.
CUTOVER_RECORD = "cutover.json"
ROLLBACK_RECORD = "rollback.json"
#: The files that hold a secret (a private key or a password).
SECRET_FILES = frozenset({PFX, PFX_PASSWORD_FILE, PREVIOUS_PFX, PREVIOUS_PASSWORD_FILE})
DIR_MODE = 0o700
FILE_MODE = 0o600
#: A manifest is a few KB; anything near this is not one.
MAX_MANIFEST_BYTES = 1024 * 1024
UTC = dt.timezone.utc


class PreparedDirError(TmsClientError):
    """Raised when a prepared directory cannot be used: no manifest, a manifest of another format, a file
    missing or changed since `prepare` wrote it (checksum), a secret file others may read, a target `prepare`
    did not preflight, or no previous .pfx for a rollback."""

    exit_code = ExitCode.PREPARED_CHANGED


class PageChangedError(TmsClientError):
    """Raised by `cutover` before the Save when the site's page no longer matches what `prepare`'s preflight
    read in a way that breaks the plan (a field not found or of another kind, another set of changes)."""

    exit_code = ExitCode.PAGE_CHANGED


def now_utc() -> dt.datetime:
    return dt.datetime.now(UTC).replace(microsecond=0)


def iso(value: dt.datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------------------------------ writing


def check_new_dir(path: str | os.PathLike[str], *, force: bool) -> Path:
    """Refuse a directory that cannot be prepared into, before anything is read or sent: an existing file,
    a missing parent, or an existing non-empty directory (unless ``force``)."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if os.path.lexists(p) and not p.is_dir():
        raise OutputFileError(f"cannot prepare into {p}: it exists and is not a directory")
    if p.is_symlink():
        raise OutputFileError(f"cannot prepare into {p}: it is a symbolic link", hint="give the directory itself")
    if not parent.is_dir():
        raise OutputFileError(f"cannot prepare into {p}: the directory {parent} does not exist")
    if p.is_dir() and any(p.iterdir()) and not force:
        raise OutputFileError(
            f"the directory {p} already exists and is not empty; refusing to prepare into it",
            hint="give a new directory, or --force to replace what a previous prepare wrote there",
        )
    return p


def create_dir(p: Path) -> None:
    """The directory, mode 0700 (an existing one, allowed by --force, is set to 0700 too)."""
    try:
        p.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(p, DIR_MODE)
    except OSError as exc:
        raise OutputFileError(f"cannot create the directory {p}: {exc.strerror or exc}") from exc


def write_member(directory: Path, name: str, data: bytes, *, force: bool) -> dict[str, Any]:
    """One file of the directory, mode 0600; its manifest entry (checksum and size)."""
    write_file_atomic(directory / name, data, mode=FILE_MODE, force=force, what=f"prepared file {name}")
    return {"sha256": sha256_hex(data), "bytes": len(data)}


def secret_line(secret: Secret) -> bytes:
    return (secret.reveal() + "\n").encode("utf-8")


def dump_json(data: Any) -> bytes:
    return (json_text(to_jsonable(data)) + "\n").encode("utf-8")


# ------------------------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class PreparedDir:
    """A prepared directory as read: its path and manifest (checked for its format, not yet its files)."""

    path: Path
    manifest: Mapping[str, Any]

    @property
    def prepared_at(self) -> dt.datetime:
        return parse_iso(str(self.manifest["prepared_at"]))

    @property
    def certificate(self) -> Mapping[str, Any]:
        cert: Mapping[str, Any] = self.manifest["certificate"]
        return cert

    @property
    def not_after(self) -> dt.datetime:
        return parse_iso(str(self.certificate["not_after"]))

    @property
    def targets(self) -> Sequence[Mapping[str, Any]]:
        targets: Sequence[Mapping[str, Any]] = self.manifest["targets"]
        return targets

    @property
    def previous(self) -> Mapping[str, Any] | None:
        prev: Mapping[str, Any] | None = self.manifest.get("previous")
        return prev

    def verified_bytes(self, name: str) -> bytes:
        """A file of the directory, refused when it is missing, others may read a secret in it, or it is not
        the file `prepare` wrote (its SHA-256 and size in the manifest)."""
        entry = self.manifest["files"].get(name)
        if entry is None:
            raise PreparedDirError(f"the manifest of {self.path} lists no {name}", hint="run `prepare` again")
        path = self.path / name
        data, st = read_bounded(
            path, f"prepared file {name}", error=PreparedDirError, hints={"missing": "run `prepare` again"}
        )
        if name in SECRET_FILES and os.name == "posix" and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise PreparedDirError(
                f"{path} holds a secret and others may read it (mode {stat.S_IMODE(st.st_mode):04o})",
                hint=f"chmod 600 {path} (and consider the secret exposed: prepare again)",
            )
        if sha256_hex(data) != entry["sha256"] or len(data) != entry["bytes"]:
            raise PreparedDirError(
                f"{path} is not the file `prepare` wrote on {self.manifest['prepared_at']}: its SHA-256 is "
                f"{sha256_hex(data)[:16]}..., the manifest says {str(entry['sha256'])[:16]}...",
                hint="nothing was sent to TMS; restore the file or run `prepare` again",
            )
        return data

    def verified_secret(self, name: str, what: str, data: bytes | None = None) -> Secret:
        """A password file of the directory, checked as `verified_bytes`; ``data``: its contents already checked."""
        return secret_of_file_bytes(self.verified_bytes(name) if data is None else data, self.path / name, what)

    def verify_all(self) -> dict[str, bytes]:
        """Every file the manifest lists, checked: its contents by name, in name order (read once, for the run
        to use as checked)."""
        return {name: self.verified_bytes(name) for name in sorted(self.manifest["files"])}

    def record(self, name: str) -> Mapping[str, Any] | None:
        """The record `cutover` or `rollback` left here, or None."""
        path = self.path / name
        if not path.exists():
            return None
        data, _ = read_bounded(path, f"record {name}", limit=MAX_MANIFEST_BYTES, error=PreparedDirError)
        try:
            loaded: Mapping[str, Any] = json.loads(data)
        except ValueError as exc:
            raise PreparedDirError(f"{path} is not JSON: {exc}") from exc
        return loaded

    def write_record(self, name: str, data: Mapping[str, Any]) -> Path:
        return write_file_atomic(self.path / name, dump_json(data), mode=FILE_MODE, force=True, what=f"record {name}")


def open_dir(path: str | os.PathLike[str]) -> PreparedDir:
    """Read a prepared directory's manifest: refused when it is not one (no manifest, another format)."""
    p = Path(path)
    if not p.is_dir():
        raise PreparedDirError(
            f"{p} is not a directory",
            hint="give the directory `tmsclient prepare` wrote",
        )
    st = p.stat()
    if os.name == "posix" and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PreparedDirError(
            f"the prepared directory {p} is open to other users (mode {stat.S_IMODE(st.st_mode):04o})",
            hint=f"chmod 700 {p} (and consider its secrets exposed: prepare again)",
        )
    try:
        data, _ = read_bounded(p / MANIFEST, "manifest", limit=MAX_MANIFEST_BYTES, error=PreparedDirError)
    except PreparedDirError as err:
        raise PreparedDirError(
            f"{p} holds no readable {MANIFEST}: {err.message}", hint="give the directory `tmsclient prepare` wrote"
        ) from err
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise PreparedDirError(f"{p / MANIFEST} is not JSON: {exc}", hint="run `prepare` again") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        got = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise PreparedDirError(f"{p / MANIFEST} is of format {got!r}, expected {FORMAT!r}")
    for key in ("prepared_at", "certificate", "files", "targets"):
        if key not in manifest:
            raise PreparedDirError(f"{p / MANIFEST} has no {key!r}", hint="run `prepare` again")
    return PreparedDir(p, manifest)


def find_target(prepared: PreparedDir, url: str, site: str) -> Mapping[str, Any]:
    """The preflight of the target at ``url`` for ``site``, or a PreparedDirError naming those prepared."""
    for t in prepared.targets:
        if t["url"] == url and str(t["site"]).casefold() == site.casefold():
            return t
    listed = ", ".join(f"{t['name']} ({t['url']}, site {t['site']})" for t in prepared.targets) or "none"
    raise PreparedDirError(
        f"{url} (site {site}) is not a target `prepare` preflighted in {prepared.path}; prepared: {listed}",
        hint="cut over the targets that were prepared, or run `prepare` for this one",
    )


# ------------------------------------------------------------------------------------------------ the page


def compare_pages(before: Mapping[str, Any], now: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(what breaks the plan, what changed without breaking it) between the preflight's reading of a site's
    page and the reading just before the Save. Breaks: a field found then is gone or of another kind, the
    Save button is gone, the Save would change other fields. Notes: controls renamed, values edited, another
    certificate installed."""
    breaks: list[str] = []
    notes: list[str] = []
    fields_then: Mapping[str, Any] = before.get("fields", {})
    fields_now: Mapping[str, Any] = now.get("fields", {})
    for key, then in fields_then.items():
        seen = fields_now.get(key)
        if seen is None:
            breaks.append(f"field {key} ({then['label']!r}) was found by the preflight and is not on the page now")
        elif seen["kind"] != then["kind"]:
            breaks.append(f"field {key}: got a {seen['kind']} field, the preflight found a {then['kind']} field")
        elif seen["name"] != then["name"]:
            notes.append(f"field {key} is now the control {seen['name']!r} (was {then['name']!r})")
    if before.get("save") and not now.get("save"):
        breaks.append(f"the Save button {before['save']!r} is gone")
    planned_then = [r["field"] for r in before.get("plan", [])]
    planned_now = [r["field"] for r in now.get("plan", [])]
    if sorted(planned_then) != sorted(planned_now):
        breaks.append(
            f"the Save would change {', '.join(planned_now) or 'nothing'}, the preflight planned "
            f"{', '.join(planned_then) or 'nothing'}"
        )
    rows_then = {r["field"]: r for r in before.get("plan", [])}
    for r in now.get("plan", []):
        was = rows_then.get(r["field"])
        if was is not None and was["before"] != r["before"]:
            notes.append(f"{r['label']} now shows {r['before']} (the preflight read {was['before']})")
    tp_then = (before.get("installed") or {}).get("thumbprint")
    tp_now = (now.get("installed") or {}).get("thumbprint")
    if tp_then != tp_now:
        notes.append(
            f"TMS shows another certificate than at the preflight: thumbprint {tp_now or 'none'} "
            f"(was {tp_then or 'none'})"
        )
    return breaks, notes


# ------------------------------------------------------------------------------------------------ the hand-off


def handoff(manifest: Mapping[str, Any], directory: Path) -> dict[str, Any]:
    """The hand-off note as JSON: what to send to the WebEx team, about which sites, and what TMS shows today."""
    cert = manifest["certificate"]
    sites = []
    for t in manifest["targets"]:
        installed = t["preflight"].get("installed") or {}
        sites.append(
            {
                "target": t["name"],
                "tms": t["url"],
                "site": t["preflight"]["site"],
                "site_url": f"https://{t['preflight']['site']}",
                "installed_today": {
                    "thumbprint_sha1": installed.get("thumbprint"),
                    "expires": installed.get("expires"),
                    "subject": installed.get("subject"),
                    "installed": installed.get("installed"),
                },
            }
        )
    names = ", ".join(s["site"] for s in sites)
    team = (
        "the WebEx Cloud Services team (Cisco) that holds the site's Partner Delegated Authentication (SSO) "
        "partner certificate"
    )
    given = manifest.get("handoff_to")
    return {
        "to": f"{given} ({team})" if given else team,
        "send": [CER],
        "never_send": [PFX, PFX_PASSWORD_FILE]
        + ([PREVIOUS_PFX, PREVIOUS_PASSWORD_FILE] if manifest.get("previous") else []),
        "ask": [
            f"Replace the SSO partner certificate of WebEx site(s) {names} with the attached {CER}.",
            "WebEx holds one partner certificate at a time: agree on a time, and install it only then. "
            "We switch TMS to the new certificate right after you confirm (tmsclient cutover); until both sides "
            "hold the new certificate, SSO scheduling from TMS fails.",
            "Confirm when it is installed, quoting the thumbprint and serial below.",
        ],
        "certificate": {
            "subject": cert["subject"],
            "issuer": cert["issuer"],
            "thumbprint_sha1": cert["thumbprint_sha1"],
            "serial": cert["serial"],
            "not_before": cert["not_before"],
            "not_after": cert["not_after"],
        },
        "sites": sites,
        "prepared_at": manifest["prepared_at"],
        "directory": str(directory),
        "after_confirmation": manifest["commands"]["cutover"],
        "rollback": manifest["commands"].get("rollback"),
    }


def handoff_text(note: Mapping[str, Any]) -> str:
    """The hand-off note for a person: the e-mail to write, and the command for the day it is confirmed."""
    c = note["certificate"]
    lines = [
        "WebEx SSO certificate renewal: hand-off to the WebEx team",
        f"prepared {note['prepared_at']} in {note['directory']}",
        "",
        f"To: {note['to']}",
        f"Attach: {', '.join(note['send'])} (the public certificate only; it holds no private key)",
        f"Never send: {', '.join(note['never_send'])} (the private key and its password stay in this directory)",
        "",
        "Ask them:",
        *(f"  - {a}" for a in note["ask"]),
        "",
        "The new certificate:",
        f"  subject     {c['subject']}",
        f"  issuer      {c['issuer']}",
        f"  thumbprint  {c['thumbprint_sha1']} (SHA-1)",
        f"  serial      {c['serial']}",
        f"  valid       {c['not_before']} to {c['not_after']}",
        "",
        "What TMS shows today (the certificate WebEx should hold until the switch):",
    ]
    for s in note["sites"]:
        i = s["installed_today"]
        shown = (
            f"thumbprint {i['thumbprint_sha1']}, expires {i['expires'] or 'not shown'}"
            if i["thumbprint_sha1"]
            else ("no certificate details shown" + (f" (installed: {i['installed']})" if i["installed"] else ""))
        )
        lines.append(f"  {s['site']} on {s['tms']} (target {s['target']}): {shown}")
    lines += [
        "",
        "When they confirm the new certificate is installed, switch TMS right away:",
        f"  {note['after_confirmation']}",
    ]
    if note.get("rollback"):
        lines += ["If SSO fails afterwards, put the previous certificate back on TMS:", f"  {note['rollback']}"]
    lines.append("tmsclient sends no mail: send this yourself.")
    return "\n".join(lines) + "\n"


def command_line(command: str, directory: Path, target_flags: Iterable[str]) -> str:
    """A command line to print (quoted for a POSIX shell)."""
    return "tmsclient " + " ".join(_quote(a) for a in (command, str(directory), *target_flags))


def _quote(arg: str) -> str:
    safe = all(ch.isalnum() or ch in "-_./:=@%+," for ch in arg)
    return arg if arg and safe else "'" + arg.replace("'", "'\"'\"'") + "'"
