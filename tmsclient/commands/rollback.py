"""`tmsclient rollback`: put back on TMS the previous .pfx that `prepare --previous-pfx` kept, and verify it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from tmsclient.commands.pool import add_arguments as add_targets_arguments
from tmsclient.commands.pool import exit_code, render_table, rows
from tmsclient.commands.prepared import (
    PREVIOUS_PASSWORD_FILE,
    PREVIOUS_PFX,
    ROLLBACK_RECORD,
    PreparedDirError,
    iso,
    open_dir,
)

if TYPE_CHECKING:
    from tmsclient.commands.context import Context

NAME = "rollback"
HELP = "put back the previous .pfx kept by `prepare --previous-pfx`, and verify it"
DESCRIPTION = """\
After a cutover that broke SSO (the WebEx side does not hold the new certificate yet, say): uploads the .pfx
that `prepare --previous-pfx` kept in DIR, with its password from DIR, and verifies it. The SSO fields a
cutover set stay as they are. Refused before any login when DIR kept no previous .pfx or a file of DIR no
longer matches the manifest (exit 25), or the previous certificate has expired (exit 5). Ask the WebEx team
to put the previous certificate back on their side too. Several targets: one at a time, as `cutover`."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", metavar="DIR", help="the directory `tmsclient prepare` wrote")
    add_targets_arguments(parser)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from tmsclient.commands import staged_steps
    from tmsclient.tms.upload import summary_row

    prepared = open_dir(args.dir)
    previous = prepared.previous
    if previous is None:
        raise PreparedDirError(
            f"{prepared.path} kept no previous .pfx to roll back to (prepare ran without --previous-pfx)",
            hint="nothing was sent to TMS; upload the old .pfx yourself: `tmsclient upload --pfx OLD.pfx ...`",
        )
    staged = staged_steps.switch_all(
        args,
        ctx,
        prepared,
        pfx=PREVIOUS_PFX,
        password_file=PREVIOUS_PASSWORD_FILE,
        expected=previous["certificate"],
        what="the previous certificate",
        sso={},
        compare=False,
    )
    many, outcomes, started = staged.many, staged.outcomes, staged.started
    table = rows(outcomes, lambda s: {**summary_row(s.result), "replaced": s.replaced})
    code = exit_code(outcomes)
    prepared.write_record(
        ROLLBACK_RECORD,
        {
            "rolled_back_at": iso(started),
            "ok": code == 0,
            "certificate": previous["certificate"],
            "targets": [
                {k: r.get(k) for k in ("target", "status", "url", "site", "exit_code", "action", "replaced", "error")}
                for r in table
            ],
        },
    )
    if many is None and outcomes[0].status != "ok":
        err = outcomes[0].error
        assert err is not None
        raise err
    payload = {
        "ok": code == 0,
        "exit_code": code,
        "directory": str(prepared.path),
        "certificate": previous["certificate"],
        "targets": table,
        "record": str(prepared.path / ROLLBACK_RECORD),
    }
    lines = [
        f"rolled back {r['target']}: site {r['result']['site']['host_name']}/{r['result']['site']['site_name']} "
        f"holds thumbprint {r['thumbprint_sha1']} again ({r['action']}, verification: {r['verification']})"
        for r in table
        if r["status"] == "ok"
    ]
    if len(table) > 1:
        lines += ["", render_table(table, [("action", "action"), ("verification", "verification")])]
    lines += [
        f"recorded in {payload['record']}",
        "ask the WebEx team to put the previous certificate back on their side too, if they replaced it",
    ]
    ctx.out.result(payload, "\n".join(lines))
    return code
