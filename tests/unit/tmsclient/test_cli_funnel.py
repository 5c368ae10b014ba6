"""The CLI funnel: usage errors, help, JSON errors, exit codes; and the Secret value type."""

from __future__ import annotations

import argparse
import importlib
import io
import json
import logging
import pickle

import pytest

import tmsclient.cli as cli_mod
from tests.helpers.secrets import secret
from tmsclient.cli import COMMAND_MODULES, main
from tmsclient.credentials import PFX_PASSWORD, Secret, SecretRef, StdinGate, scrub
from tmsclient.errors import InputFileError, PasswordError, TmsClientError, UsageError
from tmsclient.exitcodes import DESCRIPTIONS, ExitCode
from tmsclient.settings import SecretResolver


def test_every_exit_code_is_described_and_unique():
    assert set(DESCRIPTIONS) == set(ExitCode)
    assert len({int(c) for c in ExitCode}) == len(ExitCode)


def test_every_error_class_maps_to_a_distinct_exit_code():
    classes = TmsClientError.__subclasses__()
    codes = [c.exit_code for c in classes]
    assert len(codes) == len(set(codes)), "two error classes share an exit code"
    assert ExitCode.INTERNAL not in codes


def test_help_exits_zero_and_lists_exit_codes(cli):
    result = cli("--help")
    assert result.code == 0
    assert "exit codes:" in result.out
    for code in ExitCode:
        assert f"{int(code):>3}  " in result.out


def test_no_command_is_a_usage_error(cli):
    result = cli()
    assert result.code == ExitCode.USAGE
    assert "no command given" in result.err
    flagged = cli("-v", "--json")
    assert flagged.code == ExitCode.USAGE
    assert flagged.json["error"]["message"] == "no command given"


def test_unknown_option_is_a_usage_error_in_json_too(cli):
    result = cli("--json", "--no-such-flag")
    assert result.code == ExitCode.USAGE
    payload = result.json
    assert payload["ok"] is False
    assert payload["error"]["code"] == "USAGE"
    assert "unrecognized arguments" in payload["error"]["message"]


def test_secret_never_shows_its_value():
    secret = Secret("hunter2-very-secret", "env:X")
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", "%s" % (secret,)):  # noqa: UP031 - %-formatting too
        assert "hunter2" not in text
        assert "<hidden>" in text
    assert secret.reveal() == "hunter2-very-secret"
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_scrub_replaces_known_secret_values():
    Secret("scrub-me-please", "test")
    assert scrub("a scrub-me-please b") == "a <hidden> b"


def _args(**kw):
    base = {"pfx_password_env": None, "pfx_password_file": None, "pfx_password_stdin": False}
    base.update(kw)
    return argparse.Namespace(**base)


def test_resolution_order_flag_env_then_default_env_then_config_then_prompt(tmp_path):
    f = tmp_path / "pw"
    f.write_text("from-file\n")
    env = {"MYVAR": "from-myvar", "TMSCLIENT_PFX_PASSWORD": "from-default"}
    r = SecretResolver(environ=env, interactive=False)
    assert secret(r.resolve(PFX_PASSWORD, _args(pfx_password_env="MYVAR"))).reveal() == "from-myvar"
    assert secret(r.resolve(PFX_PASSWORD, _args(pfx_password_file=str(f)))).reveal() == "from-file"
    assert secret(r.resolve(PFX_PASSWORD, _args())).reveal() == "from-default"
    in_profile = SecretRef("inline", "", "config.toml: profiles.p.pfx_password", Secret("cfg", "config"))
    assert secret(r.resolve(PFX_PASSWORD, _args(), profile_value=in_profile)).reveal() == "from-default"
    r2 = SecretResolver(environ={}, interactive=False)
    assert secret(r2.resolve(PFX_PASSWORD, _args(), profile_value=in_profile)).reveal() == "cfg"
    r3 = SecretResolver(environ={}, interactive=True, prompter=lambda text: "typed")
    assert secret(r3.resolve(PFX_PASSWORD, _args())).source == "prompt"


def test_several_targets_take_the_profile_before_the_shared_environment():
    env = {"MYVAR": "from-myvar", "TMSCLIENT_PFX_PASSWORD": "from-default", "PROFILE_PW": "from-profile"}
    r = SecretResolver(environ=env, interactive=False)
    in_profile = SecretRef("env", "PROFILE_PW", "config.toml: profiles.p.pfx_password")
    taken = r.resolve(PFX_PASSWORD, _args(), profile_value=in_profile, several_targets=True)
    assert secret(taken).reveal() == "from-profile"
    taken = r.resolve(PFX_PASSWORD, _args(pfx_password_env="MYVAR"), profile_value=in_profile, several_targets=True)
    assert secret(taken).reveal() == "from-myvar"  # the flag still comes first
    assert secret(r.resolve(PFX_PASSWORD, _args(), several_targets=True)).reveal() == "from-default"


def test_a_reference_is_followed_only_when_it_is_the_source_taken():
    stale = SecretRef("env", "GONE", "config.toml: profiles.p.pfx_password")
    r = SecretResolver(environ={"TMSCLIENT_PFX_PASSWORD": "from-default"}, interactive=False)
    assert secret(r.resolve(PFX_PASSWORD, _args(), profile_value=stale)).reveal() == "from-default"
    with pytest.raises(PasswordError, match="GONE"):
        r.resolve(PFX_PASSWORD, _args(), profile_value=stale, several_targets=True)


def test_non_interactive_missing_secret_is_a_password_error():
    r = SecretResolver(environ={}, interactive=False)
    with pytest.raises(PasswordError) as info:
        r.resolve(PFX_PASSWORD, _args())
    assert "TMSCLIENT_PFX_PASSWORD" in (info.value.hint or "")


def test_named_env_var_missing_is_specific():
    r = SecretResolver(environ={}, interactive=False)
    with pytest.raises(PasswordError, match="NOPE"):
        r.resolve(PFX_PASSWORD, _args(pfx_password_env="NOPE"))


def test_password_file_keeps_spaces_and_strips_one_newline(tmp_path):
    f = tmp_path / "pw"
    f.write_bytes(b' spaced & # $ % " pw \r\n')
    r = SecretResolver(environ={}, interactive=False)
    assert secret(r.resolve(PFX_PASSWORD, _args(pfx_password_file=str(f)))).reveal() == ' spaced & # $ % " pw '


def test_password_file_errors_are_input_file_errors(tmp_path):
    r = SecretResolver(environ={}, interactive=False)
    with pytest.raises(InputFileError, match="does not exist"):
        r.resolve(PFX_PASSWORD, _args(pfx_password_file=str(tmp_path / "missing")))
    with pytest.raises(InputFileError, match="not a regular file"):
        r.resolve(PFX_PASSWORD, _args(pfx_password_file=str(tmp_path)))
    two = tmp_path / "two"
    two.write_text("a\nb\n")
    with pytest.raises(InputFileError, match="more than one line"):
        r.resolve(PFX_PASSWORD, _args(pfx_password_file=str(two)))


def test_stdin_supplies_only_one_secret():
    gate = StdinGate(io.StringIO("pw-from-stdin\n"))
    r = SecretResolver(environ={}, stdin=gate, interactive=False)
    assert secret(r.resolve(PFX_PASSWORD, _args(pfx_password_stdin=True))).reveal() == "pw-from-stdin"
    with pytest.raises(UsageError, match="stdin already supplies"):
        r.resolve(PFX_PASSWORD, _args(pfx_password_stdin=True))


def test_empty_secret_is_refused():
    r = SecretResolver(environ={"TMSCLIENT_PFX_PASSWORD": ""}, interactive=False)
    with pytest.raises(PasswordError, match="empty"):
        r.resolve(PFX_PASSWORD, _args())


def test_internal_errors_become_exit_70_without_traceback(monkeypatch):
    class Boom:
        NAME, HELP = "boom", "explodes"

        @staticmethod
        def configure(parser):
            pass

        @staticmethod
        def run(args, ctx):
            raise RuntimeError("kaboom")

    monkeypatch.setattr(cli_mod, "_load_commands", lambda: [Boom])
    out, err = io.StringIO(), io.StringIO()
    code = main(["boom"], stdout=out, stderr=err, environ={}, interactive=False)
    assert code == ExitCode.INTERNAL
    assert "Traceback" not in err.getvalue()
    assert "internal error: RuntimeError" in err.getvalue()
    assert logging.getLogger("tmsclient").handlers == []


def test_json_error_payload_is_parseable(monkeypatch):
    class Fails:
        NAME, HELP = "fails", "fails"

        @staticmethod
        def configure(parser):
            pass

        @staticmethod
        def run(args, ctx):
            raise InputFileError("the file x is empty", hint="give the .pfx")

    monkeypatch.setattr(cli_mod, "_load_commands", lambda: [Fails])
    out, err = io.StringIO(), io.StringIO()
    code = main(["fails", "--json"], stdout=out, stderr=err, environ={}, interactive=False)
    assert code == ExitCode.INPUT_FILE
    payload = json.loads(out.getvalue())
    assert payload == {
        "ok": False,
        "error": {
            "type": "InputFileError",
            "exit_code": 3,
            "code": "INPUT_FILE",
            "message": "the file x is empty",
            "hint": "give the .pfx",
            "details": [],
        },
    }
    assert err.getvalue().startswith("tmsclient: error: the file x is empty; give the .pfx")


NAMES = [module.replace("_", "-") for module in COMMAND_MODULES]


def test_help_lists_every_command_in_order_with_its_help(cli):
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
def test_command_help_exits_zero_with_its_usage(cli, name, prefix, flag):
    result = cli(*prefix, name, flag)
    assert result.code == 0, result
    assert result.out.startswith(f"usage: tmsclient {name} ")
    assert result.err == ""


def test_unknown_or_misspelled_command_lists_every_choice(cli):
    choices = ", ".join(f"'{name}'" for name in NAMES)
    for argv in (["uplaod"], ["--json", "-v", "uplaod", "--pfx", "x"], ["export_cer"], ["--", "upload"]):
        result = cli(*argv)
        assert result.code == ExitCode.USAGE and result.code == 2
        bad = argv[[a.startswith("-") and a != "--" for a in argv].index(False)]
        message = f"argument COMMAND: invalid choice: '{bad}' (choose from {choices})"
        if "--json" in argv:
            assert json.loads(result.out)["error"]["message"] == message
        else:
            assert result.err.startswith(f"tmsclient: error: {message}; see `tmsclient --help`")


def test_status_usage_errors_exit_3_and_other_commands_2(cli):
    for argv in (["status", "--bogus"], ["-v", "--json", "status", "--warn-days", "x"]):
        result = cli(*argv)
        assert result.code == 3, result
    assert cli("upload", "--bogus").code == 2
    assert cli("--json", "upload", "--bogus").json["error"]["code"] == "USAGE"


def test_an_unknown_option_before_the_command_is_a_usage_error(cli):
    for argv in (["--bogus", "upload"], ["--json=1", "upload"], ["-vx", "upload"]):
        result = cli(*argv)
        assert result.code == ExitCode.USAGE, result
        assert result.err.startswith("tmsclient: error: "), result
