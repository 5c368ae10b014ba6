"""Settings for several targets: each profile's own values beat the one environment shared by all targets."""

from __future__ import annotations

import io

import pytest

from tests.helpers.secrets import secret
from tmsclient.cli import _Parser
from tmsclient.commands.context import Context
from tmsclient.credentials import StdinGate
from tmsclient.errors import UsageError
from tmsclient.output import Output
from tmsclient.settings import SecretResolver, add_target_arguments, requested_profiles, resolve_target

CONFIG = """
[defaults]
username = 'EXAMPLE\\svc'
site = "example.webex.com"

[profiles.staging]
url = "https://tms-staging.example.com/tms/"
password = "env:STAGING_PW"

[profiles.production]
url = "https://tms.example.com/tms/"
password = "env:PROD_PW"
timeout = 60
"""


def ctx(env):
    environ = {"HOME": "/nonexistent-home", **env}
    return Context(
        out=Output(io.StringIO(), io.StringIO()),
        secrets=SecretResolver(environ=environ, stdin=StdinGate(io.StringIO("")), interactive=False),
        environ=environ,
        interactive=False,
        stdin=io.StringIO(""),
    )


def parse(argv, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    path.chmod(0o600)
    parser = _Parser(prog="tmsclient upload")
    add_target_arguments(parser, many=True)
    parser.add_argument("--pfx")
    parser.add_argument("--target-os")
    return parser.parse_args(["--config", str(path), *argv])


def test_profile_beats_the_shared_environment_when_several_targets_run(tmp_path, canaries):
    s_pw, p_pw, generic = (canaries.secret("tms-password") for _ in range(3))
    args = parse(["--profile", "staging", "--profile", "production"], tmp_path)
    env = {
        "STAGING_PW": s_pw,
        "PROD_PW": p_pw,
        "TMSCLIENT_TMS_PASSWORD": generic,
        "TMSCLIENT_TIMEOUT": "5",
        "TMSCLIENT_URL": "https://elsewhere.example/tms/",
    }
    prod = resolve_target(args, ctx(env), profile="production", several_targets=True)
    assert prod.url == "https://tms.example.com/tms/" and secret(prod.password).reveal() == p_pw
    assert prod.timeout == 60.0  # the profile's own
    staging = resolve_target(args, ctx(env), profile="staging", several_targets=True)
    assert secret(staging.password).reveal() == s_pw and staging.timeout == 5.0  # not in the profile: environment
    assert staging.sources["timeout"] == "env:TMSCLIENT_TIMEOUT"
    # One target: the documented order is unchanged (environment before the profile).
    one = resolve_target(args, ctx(env), profile="production")
    assert secret(one.password).reveal() == generic and one.url == "https://elsewhere.example/tms/"


def test_flags_still_win_for_every_target(tmp_path, canaries):
    every = canaries.secret("tms-password")
    args = parse(["--all-profiles", "--timeout", "7", "--tms-password-env", "ALL_PW"], tmp_path)
    env = {"STAGING_PW": canaries.secret("tms-password"), "PROD_PW": canaries.secret("tms-password"), "ALL_PW": every}
    prod = resolve_target(args, ctx(env), profile="production", several_targets=True)
    assert prod.timeout == 7.0 and secret(prod.password).reveal() == every


def test_repeated_profile_in_a_one_target_resolution_is_a_usage_error(tmp_path, canaries):
    env = {"STAGING_PW": canaries.secret("tms-password")}
    args = parse(["--profile", "staging", "--profile", "production"], tmp_path)
    assert requested_profiles(args) == ("staging", "production")
    with pytest.raises(UsageError, match="--profile was given 2 times"):
        resolve_target(args, ctx(env))
    again = parse(["--profile", "staging", "--profile", "staging"], tmp_path)
    assert requested_profiles(again) == ("staging",)
    assert resolve_target(again, ctx(env)).name == "staging"
