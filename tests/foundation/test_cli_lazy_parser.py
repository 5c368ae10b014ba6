"""A run builds only its command's subparser: same help, parse results, errors and exit codes as the full parser."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import pytest

import tmsclient.cli as cli_mod
from tmsclient.cli import COMMAND_MODULES, build_parser
from tmsclient.exitcodes import ExitCode

NAMES = [module.replace("_", "-") for module in COMMAND_MODULES]

#: Representative command lines per command that parse; each is also tried with global options in front.
PARSES: dict[str, list[list[str]]] = {
    "inspect": [["a.pfx"], ["a.pfx", "--no-password"], ["--password-env", "PW", "a.pfx", "--json"]],
    "check": [["a.pfx"], ["a.pfx", "--target-os", "2012r2", "--warn-days", "9", "--password-file", "pw"]],
    "bundle": [["--cert", "c.pem", "--out", "o.p12"],
               ["-c", "c.pem", "--key", "k.pem", "--chain", "ch.pem", "-o", "o.p12", "--force",
                "--encryption", "modern", "--iterations", "2048", "--key-passphrase-env", "KP", "-v"]],
    "convert": [["in.pfx", "--out", "o.p12"],
                ["in.pfx", "-o", "o.p12", "--encryption", "compatible", "--name", "n", "--out-password-env", "X"]],
    "export-cer": [["a.pfx", "--out", "a.cer"], ["a.pfx", "-o", "a.cer", "--force", "--password-stdin"]],
    "upload": [[], ["--pfx", "a.pfx", "--site", "s", "--dry-run"],
               ["--pfx", "a.pfx", "--enable-sso", "--partner-name", "p", "--url", "https://tms/", "--auth", "ntlm",
                "--timeout", "5", "--profile", "a", "--profile", "b", "--max-parallel", "2", "--json"]],
    "show": [[], ["--url", "https://tms/", "--site", "s", "--insecure", "--tms-password-env", "T"]],
    "verify": [[], ["--cert", "a.cer", "--require-certificate", "--config", "c.toml"]],
    "discover": [[], ["--out", "p.toml", "--force", "--page-url", "https://tms/x"]],
    "renew": [[], ["--cert", "c.pem", "--key", "k.pem", "--out", "o.p12", "--reupload", "--warn-days", "20"],
              ["--from-certbot"], ["--from-acme-sh", "d", "k", "c", "ca", "fc", "--all-profiles"]],
    "status": [[], ["--pfx", "a.pfx", "--warn-days", "30", "--crit-days", "7", "-v"]],
}
GLOBALS: list[list[str]] = [[], ["-v"], ["-vv", "--json"], ["--non-interactive", "-v", "--verbose", "--json"]]


def _full_parse(argv: Sequence[str]) -> tuple[Any, str, str]:
    """(namespace or exit code, stdout, stderr) of the full parser, the reference."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            result: Any = build_parser().parse_args(list(argv))
        except SystemExit as exc:
            result = exc.code
    return result, out.getvalue(), err.getvalue()


def _lazy_modules(argv: Sequence[str]) -> list[str] | None:
    modules = cli_mod._command_modules(list(argv))
    return None if modules is None else [m.NAME for m in modules]


def _plain(ns: argparse.Namespace) -> dict[str, Any]:
    values = vars(ns).copy()
    module = values.pop("_module")
    return {**values, "_module": module.__name__}


def test_each_command_name_is_its_module_name_with_dashes():
    assert list(cli_mod._MODULE_BY_NAME.values()) == list(COMMAND_MODULES)
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(f"tmsclient.commands.{module_name}")
        name = module.NAME
        assert name == module_name.replace("_", "-"), f"got NAME {name!r} for {module_name}"
        assert cli_mod._MODULE_BY_NAME[name] == module_name
    assert "export-cer" in cli_mod._MODULE_BY_NAME  # the one name the derivation changes


def test_full_parser_still_lists_every_command_in_order(cli):
    result = cli("--help")
    assert result.code == 0
    section = result.out.split("\n  COMMAND\n", 1)[1].split("\n\noptions:", 1)[0]
    listed = [line.split()[0] for line in section.splitlines() if line[4] != " "]
    assert listed == NAMES
    flat = "".join(section.split())  # argparse wraps help, also after a hyphen
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(f"tmsclient.commands.{module_name}")
        assert "".join(f"{module.NAME} {module.HELP}".split()) in flat


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("prefix", [[], ["-v", "--json"], ["--non-interactive", "-vv"]], ids=["", "globals", "more"])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_command_help_is_byte_for_byte_the_full_parsers(cli, name, prefix, flag):
    argv = [*prefix, name, flag]
    assert _lazy_modules(argv) == [name], "the run should build only this command's subparser"
    code, ref_out, ref_err = _full_parse(argv)
    result = cli(*argv)
    assert (result.code, result.out, result.err) == (code, ref_out, ref_err)
    assert result.code == 0
    assert result.out.startswith(f"usage: tmsclient {name} ")


@pytest.mark.parametrize("name", NAMES)
def test_parse_results_match_the_full_parser(name):
    for tail in PARSES[name]:
        for prefix in GLOBALS:
            argv = [*prefix, name, *tail]
            modules = cli_mod._command_modules(argv)
            assert modules is not None and [m.NAME for m in modules] == [name]
            reference, _, ref_err = _full_parse(argv)
            assert isinstance(reference, argparse.Namespace), f"{argv} does not parse: {ref_err}"
            lazy = build_parser(modules).parse_args(argv)
            assert _plain(lazy) == _plain(reference), argv
            assert lazy._module is reference._module


#: Command lines that end in a usage error, help or version: each must give what the full parser gives.
EDGES: list[list[str]] = [
    [], ["-v"], ["--json"], ["--help"], ["-h"], ["--version"], ["--help", "upload"], ["--version", "upload"],
    ["-vh", "upload"], ["uplaod"], ["uplaod", "--json"], ["UPLOAD"], ["export_cer", "--help"], ["--", "upload"],
    ["-", "upload"], ["-1", "upload"], ["", "upload"], ["--verb", "upload", "--help"], ["--bogus", "upload"],
    ["--json=1", "upload"], ["-vx", "upload"], ["upload", "--target-os", "nope"], ["upload", "stray"],
    ["upload", "upload"], ["upload", "--", "x"], ["-vv", "--json", "upload", "--bogus"], ["inspect"],
    ["--json", "bundle", "--out", "o"], ["renew", "--from-acme-sh", "d"], ["status", "--bogus"],
    ["--json", "status", "--bogus"], ["-v", "status", "--warn-days", "x"], ["--json", "--", "status"],
    *([name, "--bogus"] for name in NAMES),
]


@pytest.mark.parametrize("argv", EDGES, ids=lambda argv: " ".join(argv) or "(none)")
def test_errors_help_and_exit_codes_match_the_full_parser(cli, monkeypatch, argv):
    lazy = cli(*argv)
    monkeypatch.setattr(cli_mod, "_command_modules", lambda args_list: None)  # every subparser, as before
    full = cli(*argv)
    assert (lazy.code, lazy.out, lazy.err) == (full.code, full.out, full.err)


def test_unknown_or_misspelled_command_lists_every_choice(cli):
    choices = ", ".join(f"'{name}'" for name in NAMES)
    for argv in (["uplaod"], ["--json", "-v", "uplaod", "--pfx", "x"], ["export_cer"], ["--", "upload"]):
        assert _lazy_modules(argv) is None
        result = cli(*argv)
        assert result.code == ExitCode.USAGE == 2
        bad = argv[[a.startswith("-") and a != "--" for a in argv].index(False)]
        message = f"argument COMMAND: invalid choice: '{bad}' (choose from {choices})"
        if "--json" in argv:
            assert json.loads(result.out)["error"]["message"] == message
        else:
            assert result.err.startswith(f"tmsclient: error: {message}; see `tmsclient --help`")


def test_no_command_is_still_a_usage_error(cli):
    for argv in ([], ["-v", "--json"]):
        assert _lazy_modules(argv) is None
        result = cli(*argv)
        assert result.code == 2
        assert "no command given" in result.text


def test_status_usage_errors_still_exit_3(cli):
    for argv in (["status", "--bogus"], ["-v", "--json", "status", "--warn-days", "x"]):
        assert _lazy_modules(argv) == ["status"]
        result = cli(*argv)
        assert result.code == 3, result
    assert cli("upload", "--bogus").code == 2


def test_only_plain_flags_may_come_before_the_command():
    assert _lazy_modules(["-v", "-vvv", "--verbose", "--json", "--non-interactive", "upload"]) == ["upload"]
    for lead in (["-h"], ["--help"], ["--version"], ["--"], ["-"], ["--verb"], ["-vh"], ["--json=1"], ["--bogus"]):
        assert _lazy_modules([*lead, "upload", "--pfx", "x"]) is None, lead


def test_an_upload_run_imports_only_the_upload_command():
    code = (
        "import contextlib, io, sys\n"
        "from tmsclient.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    rc = main(['-v', 'upload', '--help'])\n"
        "assert rc == 0 and out.getvalue().startswith('usage: tmsclient upload'), (rc, out.getvalue()[:200])\n"
        "print(sorted(m for m in sys.modules if m.startswith('tmsclient.commands.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['tmsclient.commands.upload']"


def test_a_command_run_never_loads_every_command(cli, monkeypatch):
    def every_command() -> list[Any]:
        raise AssertionError("a run of one command built every subparser")

    monkeypatch.setattr(cli_mod, "_load_commands", every_command)
    for argv in (["upload", "--help"], ["-v", "--json", "export-cer", "-h"], ["status", "--bogus"]):
        result = cli(*argv)
        assert result.code in (0, 3), result
        assert "internal error" not in result.err
