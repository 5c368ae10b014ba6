"""`tmsclient cutover`: upload and verify exactly what `prepare` wrote, once the WebEx team holds the new .cer."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from tmsclient.commands.pool import TargetOutcome, exit_code, render_table, rows, summary_line
from tmsclient.commands.pool import add_arguments as add_targets_arguments
from tmsclient.commands.prepared import (
    CUTOVER_RECORD,
    PFX,
    PFX_PASSWORD_FILE,
    command_line,
    iso,
    open_dir,
)
from tmsclient.exitcodes import ExitCode

if TYPE_CHECKING:
    from tmsclient.commands.context import Context

#: Failures after which TMS may hold the new certificate: the report names the rollback.
AFTER_A_SAVE = frozenset({ExitCode.SERVER_ERROR, ExitCode.OUTCOME_UNKNOWN, ExitCode.VERIFY_FAILED})

NAME = "cutover"
HELP = "the second half of a renewal: upload and verify the .pfx `prepare` wrote (after the WebEx team's step)"
DESCRIPTION = """\
Run it when the WebEx team confirms they hold the new certificate (DIR/tms-cert.cer): uploads DIR/tms-cert.pfx
with its password from DIR to each target, exactly as prepared, and verifies it.

Refused before any login: a file of DIR that no longer matches the manifest (exit 25), a certificate that has
expired (exit 5), a target `prepare` did not preflight (exit 25). Refused before the Save: a page that changed
since the preflight in a way that breaks the plan, e.g. a field no longer found (exit 26). The report records
the certificate each site showed just before the Save, and prints the rollback command.

Several targets (--profile A --profile B, --all-profiles) go one at a time in the given order (the staged
rollout of `upload --stop-on-first-failure`): after the first that fails, the rest are left untouched."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", metavar="DIR", help="the directory `tmsclient prepare` wrote")
    add_targets_arguments(parser)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from tmsclient.commands import staged_steps
    from tmsclient.tms.upload import summary_row

    prepared = open_dir(args.dir)
    verified = prepared.verify_all()
    staged = staged_steps.switch_all(
        args,
        ctx,
        prepared,
        pfx=PFX,
        password_file=PFX_PASSWORD_FILE,
        expected=prepared.certificate,
        what="the prepared certificate",
        sso=prepared.manifest.get("upload", {}),
        compare=True,
        verified=verified,
    )
    many, outcomes, started = staged.many, staged.outcomes, staged.started
    flags = staged_steps.target_flags(args, outcomes)
    rollback = command_line("rollback", prepared.path, flags) if prepared.previous is not None else None
    table = rows(outcomes, lambda s: {**summary_row(s.result), "replaced": s.replaced, "notes": list(s.notes)})
    code = exit_code(outcomes)
    record = {
        "cut_over_at": iso(started),
        "ok": all(o.status == "ok" for o in outcomes),
        "certificate": prepared.certificate,
        "targets": [_record_row(r) for r in table],
        "rollback": rollback,
        "files_checked": list(verified),
    }
    prepared.write_record(CUTOVER_RECORD, record)
    if many is None and outcomes[0].status != "ok":
        err = outcomes[0].error
        assert err is not None
        if err.exit_code in AFTER_A_SAVE:
            ctx.out.stderr.write(_rollback_hint(rollback, prepared.path))
        raise err
    payload = {
        "ok": code == 0,
        "exit_code": code,
        "directory": str(prepared.path),
        "certificate": prepared.certificate,
        "targets": table,
        "record": str(prepared.path / CUTOVER_RECORD),
        "rollback": rollback,
    }
    ctx.out.result(payload, _human(payload, outcomes))
    return code


def _record_row(row: dict[str, Any]) -> dict[str, Any]:
    keep = ("target", "status", "url", "site", "exit_code", "action", "verification", "thumbprint_sha1", "replaced")
    out = {k: row.get(k) for k in keep}
    if "error" in row:
        out["error"] = row["error"]
    if row.get("notes"):
        out["notes"] = row["notes"]
    return out


def _rollback_hint(rollback: str | None, path: Any) -> str:
    if rollback:
        return f"tmsclient: to put the previous certificate back: {rollback}\n"
    return f"tmsclient: no previous .pfx was kept in {path}: a rollback needs `tmsclient upload --pfx OLD.pfx`\n"


def _human(p: dict[str, Any], outcomes: list[TargetOutcome]) -> str:
    lines = []
    for row in p["targets"]:
        if row["status"] != "ok":
            continue
        res = row["result"]
        site = f"{res['site']['host_name']}/{res['site']['site_name']}"
        rep = row["replaced"]
        if row["action"] == "unchanged":
            what = "TMS already showed this certificate: nothing uploaded"
        elif rep and rep.get("thumbprint"):
            what = f"replaced thumbprint {rep['thumbprint']} (expires {rep.get('expires') or 'not shown'})"
        else:
            what = "replaced a certificate TMS shows no details of" + (
                f" (installed: {rep['installed']})" if rep and rep.get("installed") else ""
            )
        lines.append(
            f"cut over {row['target']}: site {site} now holds thumbprint {row['thumbprint_sha1']} "
            f"(verification: {row['verification']}); {what}"
        )
        lines += [f"  note: {n}" for n in row.get("notes", [])]
        lines += [f"  warning: {w}" for w in res["warnings"]]
    if len(p["targets"]) > 1:
        lines += ["", render_table(p["targets"], [("action", "action"), ("verification", "verification")])]
        counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("ok", "failed", "skipped")}
        lines.append(summary_line(counts, int(p["exit_code"])))
    lines.append(f"recorded in {p['record']}")
    lines.append(
        f"to roll back: {p['rollback']}"
        if p["rollback"]
        else "no previous .pfx was kept: a rollback needs the old .pfx"
    )
    return "\n".join(lines)
