"""Issue 12, files and terminals: the one safe writer, page text escaped in the profile it goes into and on
the terminal it reaches."""

from __future__ import annotations

import html
import io
import json
import logging
import os
import stat
import sys
from collections.abc import Mapping
from typing import Any

import pytest

from tmsclient.errors import TmsClientError
from tmsclient.output import Output, configure_logging, restore_logging
from tmsclient.tms.pageprofile import DEFAULT_PROFILE, parse_profile_text, render_profile, suggest_profile
from tmsclient.tms.webforms.parsing import parse_page

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: What a hostile page puts in a value: a window-title sequence, clear screen, an 8-bit CSI, a right-to-left
#: override (which reorders what follows on the screen) and a carriage return.
HOSTILE = "evil\x1b]0;pwned\x07\x1b[2J\x9b31m\u202edetacifitrec\rthumbprint OK"
TERMINAL_CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e", "\r")


def _target(em: Any) -> tuple[list[str], dict[str, str]]:
    domain, user, password = em.admin
    argv = [
        "--url",
        str(em.url),
        "--username",
        f"{domain}\\{user}",
        "--ca-bundle",
        str(em.ca_file),
        "--non-interactive",
    ]
    return argv, {"TMSCLIENT_TMS_PASSWORD": password}


@pytest.fixture
def hostile_tms(emulator_factory: Any) -> Any:
    """An emulator whose one site holds terminal control sequences in its SSO fields."""
    return emulator_factory(
        sites=[
            {
                "host_name": "acme.webex.com",
                "site_name": "acme",
                "default_site": True,
                "partner_name": HOSTILE,
                "account_name": "tab\tkept",
            },
            {"host_name": "globex.webex.com", "site_name": "globex\x1b[2J\u202e"},
        ]
    )


# ------------------------------------------------------------------ terminals


def test_show_escapes_terminal_controls_from_tms_in_human_output(cli, hostile_tms):
    argv, env = _target(hostile_tms)
    result = cli("show", *argv, env=env)
    assert result.code == 0, result
    for control in TERMINAL_CONTROLS:
        assert control not in result.out, f"{control!r} reached the terminal"
    assert "SSO Partner Name: evil\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202edetacifitrec" in result.out
    assert "SSO Account Name: tab\tkept" in result.out  # a tab is harmless and kept


def test_show_json_keeps_the_exact_value_with_every_control_escaped(cli, hostile_tms):
    argv, env = _target(hostile_tms)
    result = cli("show", *argv, "--json", env=env)
    assert result.code == 0, result
    for control in TERMINAL_CONTROLS:
        assert control not in result.out, f"{control!r} raw in the JSON text"
    fields = {f["key"]: f["value"] for f in result.json["sites"][0]["fields"]}
    assert fields["partner_name"] == HOSTILE.replace("\r", "")  # the page parser drops CR from an input value


def test_discover_escapes_terminal_controls_in_human_output(cli, hostile_tms):
    argv, env = _target(hostile_tms)
    result = cli("discover", *argv, env=env)
    assert result.code == 0, result
    for control in TERMINAL_CONTROLS:
        assert control not in result.out, f"{control!r} reached the terminal"
    assert "globex.webex.com/globex\\x1b[2J\\u202e" in result.out  # the sites grid, shown as escapes


def test_errors_warnings_and_logs_escape_terminal_controls():
    out, err = io.StringIO(), io.StringIO()
    output = Output(out, err)
    output.error(TmsClientError("TMS said: \x1b[2Jgone", hint="\x9bhint"))
    output.warning("warned \u202e\x07")
    output.line("line\x1b]0;t\x07")
    installed = configure_logging(err, 1)
    try:
        logging.getLogger("tmsclient.test").info("logged %s", "\x1b[31mred\r")
    finally:
        restore_logging(installed)
    for control in TERMINAL_CONTROLS:
        assert control not in err.getvalue() + out.getvalue(), f"{control!r} reached the terminal"
    assert "TMS said: \\x1b[2Jgone" in err.getvalue() and "logged \\x1b[31mred\\x0d" in err.getvalue()


# ------------------------------------------------------------------ the page profile discover writes

EVIL_NAME = 'ctl00$uxContent$uxPartner"]\n[page]\nerror_ids = ["injected'
EVIL_HOST = 'acme.webex.com\n[certificate]\nthumbprint = ["injected"]'


def _site_page(partner_name: str, host_value: str) -> Any:
    return parse_page(
        f"""<html><body>
<form id="aspnetForm" method="post" action="default.aspx?pageId=91" enctype="multipart/form-data">
<table>
<tr><td><label for="h">Host Name</label></td>
    <td><input type="text" id="h" name="ctl00$uxContent$hostName" value="{html.escape(host_value)}"></td></tr>
<tr><td></td><td><input type="text" id="p" name="{html.escape(partner_name)}" value="x"></td></tr>
<tr><td>Thumbprint\n[fields]</td><td>{html.escape(EVIL_HOST)}</td></tr>
</table></form></body></html>""",
        "https://tms.example.com/tms/default.aspx?pageId=91",
    )


def _written(partner_name: str, host_value: str, header: str) -> str:
    page = _site_page(partner_name, host_value)
    profile, comments = suggest_profile(
        DEFAULT_PROFILE, site_page=page, site_form=page.forms[0], menu_path=("Administrative Tools", "Config\nuration")
    )
    return render_profile(profile, comments=comments, header=[header])


def _keys(table: Mapping[str, Any], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for key, value in table.items():
        found.add(prefix + key)
        if isinstance(value, dict):
            found |= _keys(value, f"{prefix}{key}.")
    return found


def test_a_control_name_with_a_newline_quote_and_bracket_round_trips_and_adds_no_keys():
    plain = tomllib.loads(_written("ctl00$uxContent$uxPartner", "acme.webex.com", "written from a page"))
    text = _written(EVIL_NAME, EVIL_HOST, 'written from https://tms/\n[page]\ninfo_ids = ["header"]')
    hostile = tomllib.loads(text)
    assert _keys(hostile) == _keys(plain)
    assert hostile["fields"]["partner_name"] == {"labels": [], "name": "*$" + EVIL_NAME.rpartition("$")[2]}
    assert hostile["menu_path"] == ["Administrative Tools", "Config\nuration"]
    assert "injected" not in json.dumps(hostile["page"]) + json.dumps(hostile["certificate"])
    assert "header" not in json.dumps(hostile["page"])
    loaded = parse_profile_text(text, "written.toml")  # the way --page-profile reads it back
    assert loaded.site_fields["partner_name"].name == "*$" + EVIL_NAME.rpartition("$")[2]


# ------------------------------------------------------------------ the one safe writer


def test_discover_out_never_writes_through_a_planted_link(cli, tms_emulator, tmp_path):
    argv, env = _target(tms_emulator)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "mine.toml"
    # The names the old writer used, and a few around them: a local user can guess them all.
    for pid in {os.getpid(), os.getpid() + 1, os.getppid()}:
        (tmp_path / f".{out.name}.tmp{pid}").symlink_to(victim)
    result = cli("discover", *argv, "--out", str(out), env=env)
    assert result.code == 0, result
    assert victim.read_text() == "precious"
    assert out.is_file() and not out.is_symlink() and "[fields]" in out.read_text()
    assert stat.S_IMODE(out.stat().st_mode) == 0o644  # labels and control names: nothing secret
    leftovers = {p.name for p in tmp_path.iterdir()} - {"victim.txt", "mine.toml"}
    assert all((tmp_path / name).is_symlink() for name in leftovers)  # only the planted links remain


def test_discover_out_refuses_an_existing_link_and_replaces_only_the_link_with_force(cli, tms_emulator, tmp_path):
    argv, env = _target(tms_emulator)
    out = tmp_path / "mine.toml"
    out.symlink_to(tmp_path / "not-there-yet.toml")  # dangling: "exists" says no, but the name is taken
    refused = cli("discover", *argv, "--out", str(out), env=env)
    assert refused.code == 6 and "already exists" in refused.err, refused
    assert not (tmp_path / "not-there-yet.toml").exists()
    assert tms_emulator.state()["counters"]["requests"] == 0  # refused before the login
    forced = cli("discover", *argv, "--out", str(out), "--force", env=env)
    assert forced.code == 0, forced
    assert not out.is_symlink() and not (tmp_path / "not-there-yet.toml").exists()
