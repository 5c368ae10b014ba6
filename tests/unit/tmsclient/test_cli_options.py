"""One meaning per option name across commands, and environment variables that name the secret they hold."""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from dataclasses import dataclass

import pytest

from tmsclient.cli import build_parser
from tmsclient.config import SETTINGS
from tmsclient.exitcodes import ExitCode

#: The help text add_secret_arguments writes: "read the WHAT from environment variable VAR (default: ...)".
SECRET_ENV_HELP = re.compile(
    r"^read the (?P<what>.+?) from environment variable VAR(?: \(default: (?P<default>.+)\))?$"
)
SECRET_SUFFIXES = ("-env", "-file", "-stdin")


@dataclass(frozen=True)
class Option:
    command: str
    string: str
    action: argparse.Action


def _options() -> dict[str, list[Option]]:
    """Every option string of every command -> where it is defined, as each command's parser has it."""
    parser = build_parser()
    (commands,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found: dict[str, list[Option]] = defaultdict(list)
    for name, sub in commands.choices.items():
        for action in sub._actions:
            for string in action.option_strings:
                found[string].append(Option(name, string, action))
    return found


OPTIONS = _options()


def _takes_value(action: argparse.Action) -> bool:
    return action.nargs != 0


@pytest.mark.parametrize("string", sorted(OPTIONS))
def test_an_option_has_one_dest_and_one_shape_everywhere(string):
    uses = OPTIONS[string]
    assert len({o.action.dest for o in uses}) == 1, [(o.command, o.action.dest) for o in uses]
    assert len({_takes_value(o.action) for o in uses}) == 1, [(o.command, o.action.nargs) for o in uses]
    if not _takes_value(uses[0].action):  # a flag: the same kind of flag everywhere (store_true, count, ...)
        assert len({type(o.action) for o in uses}) == 1, [(o.command, type(o.action)) for o in uses]


def test_force_means_replace_an_output_file_everywhere():
    uses = OPTIONS["--force"]
    assert {o.command for o in uses} == {"bundle", "convert", "export-cer", "discover", "renew", "prepare", "status"}
    for o in uses:
        assert re.fullmatch(r"(replace|overwrite) \S+( and \S+)? if (it|they) exists?", o.action.help or ""), (
            o.command,
            o.action.help,
        )


def test_every_command_that_writes_a_file_has_force():
    # prepare writes into its DIR argument, status to --metrics-file
    writers = {o.command for o in OPTIONS["--out"]} | {"prepare"} | {o.command for o in OPTIONS["--metrics-file"]}
    assert writers == {o.command for o in OPTIONS["--force"]}


def test_uploading_again_has_its_own_flag():
    uses = OPTIONS["--reupload"]
    assert {o.command for o in uses} == {"upload", "renew"}
    assert {o.action.help for o in uses} == {"upload even when TMS already shows this certificate"}
    for string, options in OPTIONS.items():
        if string != "--reupload":
            assert not any("already shows" in (o.action.help or "") for o in options), string


def _secret_flags() -> dict[str, list[tuple[str, str, str | None]]]:
    """Secret flag prefix (``--pfx-password``) -> (command, what, default env var) for each command using it."""
    out: dict[str, list[tuple[str, str, str | None]]] = defaultdict(list)
    for string, options in OPTIONS.items():
        if not string.endswith("-env"):
            continue
        for o in options:
            m = SECRET_ENV_HELP.match(o.action.help or "")
            if m is None:
                continue
            env = re.match(r"\$(\w+)", m["default"] or "")
            out[string.removesuffix("-env")].append((o.command, m["what"], env[1] if env else None))
    return out


SECRET_FLAGS = _secret_flags()


def test_every_secret_flag_comes_as_env_file_and_stdin():
    assert set(SECRET_FLAGS) == {
        "--pfx-password",
        "--in-password",
        "--out-password",
        "--key-passphrase",
        "--tms-password",
        "--previous-pfx-password",
    }
    for prefix, uses in SECRET_FLAGS.items():
        for suffix in SECRET_SUFFIXES:
            assert {o.command for o in OPTIONS[prefix + suffix]} == {command for command, _, _ in uses}


@pytest.mark.parametrize("prefix", sorted(SECRET_FLAGS))
def test_a_secret_flag_names_one_secret_everywhere(prefix):
    assert len({what for _, what, _ in SECRET_FLAGS[prefix]}) == 1, SECRET_FLAGS[prefix]


def test_a_command_with_two_pfx_passwords_says_which_is_which():
    for command in ("bundle", "convert"):
        prefixes = {p for p, uses in SECRET_FLAGS.items() if any(c == command for c, _, _ in uses)}
        assert "--pfx-password" not in prefixes, command
        assert "--out-password" in prefixes, command
    assert {c for c, _, _ in SECRET_FLAGS["--in-password"]} == {"convert"}


#: What each kind of secret is called in help texts, and the word its environment variable must carry.
KINDS = {"TMS": ("TMS password",), "PFX": (".pfx password",), "KEY": ("private key passphrase",)}


def _kind(what: str) -> str:
    (kind,) = (k for k, words in KINDS.items() if any(w in what for w in words))
    return kind


def test_an_environment_variable_holds_one_kind_of_secret_and_says_which():
    kinds: dict[str, set[str]] = defaultdict(set)
    for uses in SECRET_FLAGS.values():
        for _, what, env in uses:
            if env is not None:
                kinds[env].add(_kind(what))
    assert set(kinds) == {"TMSCLIENT_TMS_PASSWORD", "TMSCLIENT_PFX_PASSWORD", "TMSCLIENT_KEY_PASSPHRASE"}
    for env, found in kinds.items():
        assert len(found) == 1, (env, found)
        assert f"_{found.pop()}_" in env, env


def test_no_command_reads_two_secrets_from_one_environment_variable():
    per_command: dict[str, list[str]] = defaultdict(list)
    for uses in SECRET_FLAGS.values():
        for command, _, env in uses:
            if env is not None:
                per_command[command].append(env)
    for command, envs in per_command.items():
        assert len(envs) == len(set(envs)), (command, envs)


def test_the_tms_login_variables_say_they_are_for_tms():
    by_key = {s.key: s.env for s in SETTINGS}
    assert by_key["username"] == "TMSCLIENT_TMS_USERNAME"
    named = [s.env for s in SETTINGS if s.env]
    assert len(named) == len(set(named))
    helps = " ".join(o.action.help or "" for options in OPTIONS.values() for o in options)
    for old in ("TMSCLIENT_PASSWORD", "TMSCLIENT_USERNAME"):
        assert not re.search(rf"\${old}\b", helps), old


def test_force_replaces_a_file_but_does_not_allow_another_extension(cli, tmp_path, material):
    taken = tmp_path / "tms.cer"
    taken.write_text("someone else's file")
    refused = cli("export-cer", str(material.cert), "--out", str(taken))
    assert refused.code == ExitCode.OUTPUT_FILE and "--force" in refused.err
    assert cli("export-cer", str(material.cert), "--out", str(taken), "--force").code == 0
    assert taken.read_text().startswith("-----BEGIN CERTIFICATE-----")
    odd = tmp_path / "tms.txt"
    forced = cli("export-cer", str(material.cert), "--out", str(odd), "--force")
    assert forced.code == ExitCode.USAGE and "--any-extension" in forced.err and not odd.exists()
    assert cli("export-cer", str(material.cert), "--out", str(odd), "--any-extension").code == 0
    assert odd.read_text().startswith("-----BEGIN CERTIFICATE-----")
