"""Target settings: the one order (flag, environment, config profile, prompt), config validation, secrets."""

from __future__ import annotations

import argparse
import io
import os
import re
import types
from pathlib import Path

import pytest

from tests.helpers.paths import DOCS
from tests.helpers.secrets import secret
from tmsclient import credentials
from tmsclient.cli import _Parser
from tmsclient.commands.context import Context
from tmsclient.config import (
    DEFAULT_TIMEOUT,
    DEFAULT_UPLOAD_TIMEOUT,
    SETTINGS,
    check_username,
    default_config_path,
    load_config,
    normalise_url,
)
from tmsclient.credentials import PFX_PASSWORD, StdinGate, add_secret_arguments
from tmsclient.errors import ConfigError, InputFileError, PasswordError, TLSError, UsageError
from tmsclient.exitcodes import ExitCode
from tmsclient.output import Output
from tmsclient.settings import SecretResolver, TargetSettings, add_target_arguments, find_config, resolve_target

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def parser() -> _Parser:
    p = _Parser(prog="tmsclient upload")
    add_target_arguments(p)
    p.add_argument("--pfx")
    p.add_argument("--target-os")
    add_secret_arguments(p, PFX_PASSWORD)
    return p


def make_ctx(
    env: dict[str, str] | None = None, *, interactive: bool = False, typed: str | None = None, stdin: str = ""
) -> Context:
    environ = {"HOME": "/nonexistent-home", **(env or {})}
    prompter = (lambda text: typed) if typed is not None else None
    gate = StdinGate(io.StringIO(stdin))
    return Context(
        out=Output(io.StringIO(), io.StringIO()),
        secrets=SecretResolver(environ=environ, stdin=gate, interactive=interactive, prompter=prompter),
        environ=environ,
        interactive=interactive,
        stdin=io.StringIO(stdin),
    )


def write_config(tmp_path: Path, text: str, *, mode: int = 0o600, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def resolve(argv: list[str], env: dict[str, str] | None = None, **kw) -> TargetSettings:
    args = parser().parse_args(argv)
    ctx_kw = {k: kw.pop(k) for k in ("interactive", "typed", "stdin") if k in kw}
    return resolve_target(args, make_ctx(env, **ctx_kw), **kw)


CONFIG = """\
default_profile = "staging"

[defaults]
username = "EXAMPLE\\\\svc-tms"
auth = "ntlm"

[profiles.staging]
url = "tms-staging.example.com"
password = "env:STAGING_PW"
site = "example-stage.webex.com"
timeout = 20

[profiles.production]
url = "https://tms.example.com/tms/"
password = "env:PROD_PW"
site = "example.webex.com"
auth = "auto"
"""


# ------------------------------------------------------------------------------------------ the order


@pytest.mark.parametrize(
    (
        "key",
        "flag",
        "env",
        "config_key",
        "flag_value",
        "env_value",
        "config_value",
        "expected_flag",
        "expected_env",
        "expected_config",
    ),
    [
        (
            "url",
            "--url",
            "TMSCLIENT_URL",
            "url",
            "https://flag.example/tms/",
            "https://env.example/tms/",
            "https://cfg.example/tms/",
            "https://flag.example/tms/",
            "https://env.example/tms/",
            "https://cfg.example/tms/",
        ),
        (
            "username",
            "--username",
            "TMSCLIENT_TMS_USERNAME",
            "username",
            "FLAG\\u",
            "env@example.com",
            "cfg",
            "FLAG\\u",
            "env@example.com",
            "cfg",
        ),
        (
            "site",
            "--site",
            "TMSCLIENT_SITE",
            "site",
            "flag.webex.com",
            "env.webex.com",
            "cfg.webex.com",
            "flag.webex.com",
            "env.webex.com",
            "cfg.webex.com",
        ),
        ("auth", "--auth", "TMSCLIENT_AUTH", "auth", "basic", "ntlm", "auto", "basic", "ntlm", "auto"),
        ("timeout", "--timeout", "TMSCLIENT_TIMEOUT", "timeout", "11", "12", "13", 11.0, 12.0, 13.0),
    ],
)
def test_flag_beats_environment_beats_config(
    tmp_path,
    key,
    flag,
    env,
    config_key,
    flag_value,
    env_value,
    config_value,
    expected_flag,
    expected_env,
    expected_config,
):
    base = {"url": "https://base.example/tms/", "username": "base"}
    base.pop(key, None)
    lines = [f'{k} = "{v}"' for k, v in base.items()]
    lines.append(f"{config_key} = {config_value}" if key == "timeout" else f'{config_key} = "{config_value}"')
    cfg = write_config(tmp_path, "[profiles.default]\n" + "\n".join(lines).replace("\\", "\\\\") + "\n")
    env_all = {"TMSCLIENT_TMS_PASSWORD": "pw-from-env", env: env_value}
    common = ["--config", str(cfg)]
    assert getattr(resolve([*common, flag, flag_value], env_all), key) == expected_flag
    got_env = resolve(common, env_all)
    assert getattr(got_env, key) == expected_env
    assert got_env.sources[key] == f"env:{env}"
    got_cfg = resolve(common, {"TMSCLIENT_TMS_PASSWORD": "pw-from-env"})
    assert getattr(got_cfg, key) == expected_config
    assert got_cfg.sources[key].startswith(f"config:{cfg}")


def test_defaults_apply_when_nothing_sets_a_value():
    t = resolve(["--url", "https://tms.example.com/tms/", "--username", "u"], {"TMSCLIENT_TMS_PASSWORD": "pw"})
    assert (t.auth, t.timeout, t.upload_timeout, t.insecure, t.allow_http, t.target_os) == (
        "auto",
        DEFAULT_TIMEOUT,
        DEFAULT_UPLOAD_TIMEOUT,
        False,
        False,
        "2016",
    )
    assert t.name == "default" and t.config_path is None and t.sources["auth"] == "default"


def test_password_order_flag_env_config_prompt(tmp_path):
    cfg = write_config(
        tmp_path, '[profiles.default]\nurl = "https://t.example/tms/"\nusername = "u"\npassword = "env:CFG_PW"\n'
    )
    env = {"MY_PW": "from-flag", "TMSCLIENT_TMS_PASSWORD": "from-env", "CFG_PW": "from-config"}
    c = ["--config", str(cfg)]
    assert secret(resolve([*c, "--tms-password-env", "MY_PW"], env).password).reveal() == "from-flag"
    assert secret(resolve(c, env).password).reveal() == "from-env"
    from_cfg = resolve(c, {"CFG_PW": "from-config"})
    assert secret(from_cfg.password).reveal() == "from-config"
    assert secret(from_cfg.password).source == "env:CFG_PW"
    cfg2 = write_config(
        tmp_path, '[profiles.default]\nurl = "https://t.example/tms/"\nusername = "u"\n', name="noprompt.toml"
    )
    typed = resolve(["--config", str(cfg2)], {}, interactive=True, typed="typed-pw")
    assert secret(typed.password).reveal() == "typed-pw" and secret(typed.password).source == "prompt"


def test_password_from_stdin_and_file_flags(tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("from-file\n")
    pw.chmod(0o600)
    base = ["--url", "https://t.example/tms/", "--username", "u"]
    assert secret(resolve([*base, "--tms-password-file", str(pw)]).password).reveal() == "from-file"
    assert secret(resolve([*base, "--tms-password-stdin"], stdin="from-stdin\n").password).reveal() == "from-stdin"


def test_a_stale_config_reference_is_not_followed_when_flag_or_environment_give_the_password(tmp_path):
    cfg = write_config(
        tmp_path, '[profiles.default]\nurl = "https://t.example/tms/"\nusername = "u"\npassword = "env:GONE"\n'
    )
    assert secret(resolve(["--config", str(cfg)], {"TMSCLIENT_TMS_PASSWORD": "pw"}).password).reveal() == "pw"
    with pytest.raises(PasswordError, match="GONE") as info:
        resolve(["--config", str(cfg)], {})
    assert "profiles.default.password" in info.value.message


def test_non_interactive_missing_password_names_every_way_to_give_it():
    with pytest.raises(PasswordError) as info:
        resolve(["--url", "https://t.example/tms/", "--username", "EXAMPLE\\bob"], {}, interactive=False)
    err = info.value
    assert err.exit_code == ExitCode.BAD_PASSWORD
    assert "EXAMPLE\\bob" in err.message
    for way in (
        "$TMSCLIENT_TMS_PASSWORD",
        "--tms-password-env",
        "--tms-password-file",
        "--tms-password-stdin",
        "`password`",
    ):
        assert way in (err.hint or "")


def test_interactive_without_a_terminal_still_fails_instead_of_prompting():
    # interactive, but no prompter and stdin is a StringIO: nothing to ask.
    with pytest.raises(PasswordError):
        resolve(["--url", "https://t.example/tms/", "--username", "u"], {}, interactive=True)


def test_missing_url_names_flag_environment_and_config_key():
    with pytest.raises(ConfigError) as info:
        resolve([], {"TMSCLIENT_TMS_PASSWORD": "pw"})
    err = info.value
    assert err.exit_code == ExitCode.CONFIG
    assert err.message == "no url given"
    assert "--url" in (err.hint or "") and "$TMSCLIENT_URL" in (err.hint or "") and "`url`" in (err.hint or "")


def test_missing_username_is_prompted_on_a_terminal_else_a_config_error():
    argv = ["--url", "https://t.example/tms/"]
    t = resolve(argv, {"TMSCLIENT_TMS_PASSWORD": "pw"}, interactive=True, line_prompter=lambda text: "EXAMPLE\\eve")
    assert t.username == "EXAMPLE\\eve" and t.sources["username"] == "prompt"
    with pytest.raises(ConfigError) as info:
        resolve(argv, {"TMSCLIENT_TMS_PASSWORD": "pw"}, interactive=False, line_prompter=lambda text: "x")
    assert "--username" in (info.value.hint or "") and "$TMSCLIENT_TMS_USERNAME" in (info.value.hint or "")


def test_negotiate_needs_no_user_and_no_password():
    t = resolve(["--url", "https://t.example/tms/", "--auth", "negotiate"], {})
    assert t.username is None and t.password is None


def test_negotiate_takes_a_given_password_for_the_ticket_and_never_prompts_for_one():
    argv = ["--url", "https://t.example/tms/", "--auth", "negotiate", "--username", "eve@EXAMPLE.COM"]
    t = resolve(argv, {"TMSCLIENT_TMS_PASSWORD": "kerb-pw"})
    assert t.password is not None and t.password.reveal() == "kerb-pw"
    t = resolve(argv, {}, interactive=True, typed="typed-pw")
    assert t.password is None  # not prompted for: the ticket cache's ticket then


def test_require_names_the_ways_to_set_a_missing_setting():
    t = TargetSettings(url="https://t.example/tms/", name="prod")
    with pytest.raises(ConfigError) as info:
        t.require("site")
    assert "--site" in (info.value.hint or "") and "$TMSCLIENT_SITE" in (info.value.hint or "")
    assert "config profile (prod)" in (info.value.hint or "")


def test_pfx_password_from_a_config_reference_only_when_asked(tmp_path):
    cfg = write_config(
        tmp_path,
        '[profiles.default]\nurl = "https://t.example/tms/"\nusername = "u"\n'
        'pfx = "certs/tms.pfx"\npfx_password = "env:PFX_PW"\n',
    )
    env = {"TMSCLIENT_TMS_PASSWORD": "pw", "PFX_PW": "pfx-secret"}
    t = resolve(["--config", str(cfg)], env)
    assert t.pfx_password is None and t.pfx == tmp_path / "certs" / "tms.pfx"
    t = resolve(["--config", str(cfg)], env, need_pfx_password=True)
    assert secret(t.pfx_password).reveal() == "pfx-secret"
    t = resolve(["--config", str(cfg), "--pfx-password-env", "OTHER"], {**env, "OTHER": "flag"}, need_pfx_password=True)
    assert secret(t.pfx_password).reveal() == "flag"


def test_command_owned_flags_pfx_and_target_os_take_part_in_the_order(tmp_path):
    cfg = write_config(
        tmp_path, '[profiles.default]\nurl = "t.example"\nusername = "u"\npfx = "from-config.pfx"\ntarget_os = "2019"\n'
    )
    t = resolve(["--config", str(cfg)], {"TMSCLIENT_TMS_PASSWORD": "p"})
    assert (t.pfx, t.target_os) == (tmp_path / "from-config.pfx", "2019")
    args = argparse.Namespace(config=str(cfg), pfx=Path("flag.pfx"), target_os="2012r2")
    t = resolve_target(args, make_ctx({"TMSCLIENT_TMS_PASSWORD": "p"}))
    assert (t.pfx, t.target_os, t.sources["pfx"]) == (Path("flag.pfx"), "2012r2", "--pfx")


def test_http_url_is_refused_before_any_prompt_unless_allowed():
    with pytest.raises(TLSError) as info:
        resolve(["--url", "http://t.example/tms/", "--username", "u"], {}, interactive=True, typed="never")
    assert info.value.exit_code == ExitCode.TLS and "--allow-http" in (info.value.hint or "")
    t = resolve(["--url", "http://t.example/tms/", "--username", "u", "--allow-http"], {"TMSCLIENT_TMS_PASSWORD": "p"})
    assert t.allow_http and t.url == "http://t.example/tms/"


def test_ca_bundle_must_exist_and_config_paths_are_relative_to_the_config_file(tmp_path):
    (tmp_path / "ca.pem").write_text("x")
    cfg = write_config(tmp_path, '[profiles.default]\nurl = "t.example"\nusername = "u"\nca_bundle = "ca.pem"\n')
    assert resolve(["--config", str(cfg)], {"TMSCLIENT_TMS_PASSWORD": "p"}).ca_bundle == tmp_path / "ca.pem"
    with pytest.raises(ConfigError, match=r"CA bundle .*missing\.pem \(from env:TMSCLIENT_CA_BUNDLE\)"):
        resolve(["--config", str(cfg)], {"TMSCLIENT_TMS_PASSWORD": "p", "TMSCLIENT_CA_BUNDLE": "missing.pem"})


def test_page_url_is_resolved_against_the_base_and_must_stay_on_the_host():
    base = ["--url", "https://t.example/tms/", "--username", "u"]
    t = resolve([*base, "--page-url", "default.aspx?pageId=83"], {"TMSCLIENT_TMS_PASSWORD": "p"})
    assert t.page_url == "https://t.example/tms/default.aspx?pageId=83"
    with pytest.raises(ConfigError, match="expected a page on the TMS"):
        resolve([*base, "--page-url", "https://evil.example/tms/x"], {"TMSCLIENT_TMS_PASSWORD": "p"})


def test_describe_shows_sources_and_hides_secrets():
    t = resolve(["--url", "t.example", "--username", "u"], {"TMSCLIENT_TMS_PASSWORD": "hunter2-secret"})
    text = "\n".join(t.describe())
    assert "hunter2-secret" not in text
    assert "password: <hidden> (from env:TMSCLIENT_TMS_PASSWORD)" in text
    assert "url: https://t.example/tms/ (from --url)" in text


# ------------------------------------------------------------------------------------------ profiles


def test_default_profile_and_defaults_table(tmp_path):
    cfg = write_config(tmp_path, CONFIG)
    t = resolve(["--config", str(cfg)], {"STAGING_PW": "s"})
    assert t.name == "staging"
    assert t.url == "https://tms-staging.example.com/tms/"
    assert t.username == "EXAMPLE\\svc-tms" and t.auth == "ntlm" and t.timeout == 20.0
    assert t.site == "example-stage.webex.com"
    assert secret(t.password).reveal() == "s"


def test_profile_by_flag_environment_or_argument(tmp_path):
    cfg = write_config(tmp_path, CONFIG)
    env = {"STAGING_PW": "s", "PROD_PW": "p", "TMSCLIENT_CONFIG": str(cfg)}
    assert resolve(["--profile", "production"], env).name == "production"
    assert resolve([], {**env, "TMSCLIENT_PROFILE": "production"}).site == "example.webex.com"
    prod = resolve(["--profile", "staging"], env, profile="production")
    assert (prod.name, prod.auth, secret(prod.password).reveal()) == ("production", "auto", "p")


def test_find_config_lists_the_profiles_in_file_order_and_load_config(tmp_path):
    cfg = write_config(tmp_path, CONFIG)
    found = find_config(parser().parse_args(["--config", str(cfg)]), make_ctx().environ)
    assert found is not None and found.names == ("staging", "production")
    config = load_config(cfg)
    assert config.default_profile == "staging"
    assert config.profile("production").values["site"] == "example.webex.com"
    assert find_config(parser().parse_args([]), make_ctx().environ) is None


def test_unknown_profile_lists_the_known_ones(tmp_path):
    cfg = write_config(tmp_path, CONFIG)
    with pytest.raises(ConfigError) as info:
        resolve(["--config", str(cfg), "--profile", "prod"], {})
    assert "'prod'" in info.value.message and str(cfg) in info.value.message
    assert "staging, production" in (info.value.hint or "")


def test_profiles_but_none_selected_suggests_choosing_one(tmp_path):
    cfg = write_config(tmp_path, CONFIG.replace('default_profile = "staging"\n', ""))
    with pytest.raises(ConfigError, match="no url given") as info:
        resolve(["--config", str(cfg)], {})
    assert (info.value.hint or "").startswith("choose a profile with --profile NAME")
    assert "staging, production" in (info.value.hint or "") and "--url" in (info.value.hint or "")


def test_profile_without_a_config_file(tmp_path):
    with pytest.raises(ConfigError, match="no config file at"):
        resolve(["--profile", "staging"], {"XDG_CONFIG_HOME": str(tmp_path)})


def test_default_config_location(tmp_path):
    assert default_config_path({"HOME": "/home/x"}) == Path("/home/x/.config/tmsclient/config.toml")
    assert default_config_path({"XDG_CONFIG_HOME": "/xdg"}) == Path("/xdg/tmsclient/config.toml")
    (tmp_path / "tmsclient").mkdir()
    write_config(tmp_path / "tmsclient", CONFIG)
    t = resolve([], {"XDG_CONFIG_HOME": str(tmp_path), "STAGING_PW": "s"})
    assert t.name == "staging" and t.config_path == tmp_path / "tmsclient" / "config.toml"


def test_named_config_file_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        resolve(["--config", str(tmp_path / "nope.toml")], {})
    with pytest.raises(ConfigError, match="does not exist"):
        resolve([], {"TMSCLIENT_CONFIG": str(tmp_path / "nope.toml")})


# ------------------------------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[profiles.a\nurl = 1", "is not valid TOML"),
        ('url = "https://x/tms/"\n', "unknown key url"),
        ('[profiles.a]\nurll = "https://x/tms/"\n', "unknown key profiles.a.urll"),
        ('[defaults]\nsight = "x"\n', "unknown key defaults.sight"),
        ('[profiles.a]\ntimeout = "slow"\n', "profiles.a.timeout: got string 'slow', expected a number of"),
        ("[profiles.a]\ntimeout = -1\n", "profiles.a.timeout: got number -1, expected a number of seconds above"),
        ('[profiles.a]\ninsecure = "yes"\n', "profiles.a.insecure: got string 'yes', expected true or false"),
        ("[profiles.a]\nurl = 443\n", "profiles.a.url: got number 443, expected a string"),
        ('[profiles.a]\nurl = "ftp://x"\n', "profiles.a.url: got 'ftp://x', expected an https:// URL"),
        ('[profiles.a]\nsite = ""\n', "profiles.a.site: got an empty string"),
        ('[profiles.a]\nauth = "kerberos"\n', "profiles.a.auth: got 'kerberos', expected one of auto, ntlm"),
        ('[profiles.a]\ntarget_os = "2008"\n', "profiles.a.target_os: got '2008', expected one of 2012r2"),
        ('[profiles.a]\nusername = "A\\\\B\\\\c"\n', "profiles.a.username: got 'A\\\\B\\\\c', expected DOMAIN"),
        ("[profiles.a]\npassword = 5\n", "profiles.a.password: got a number, expected a string"),
        ('[profiles.a]\npassword = "env:1BAD"\n', "expected env:NAME"),
        ('[profiles.a]\npassword = "env:"\n', "got env: with nothing after it"),
        ('[profiles.a]\npassword = "keyring:nouser"\n', "expected keyring:SERVICE/USER"),
        (
            'default_profile = "b"\n[profiles.a]\nsite = "s"\n',
            "default_profile: got 'b', expected one of the profiles (a)",
        ),
        ("default_profile = 3\n", "default_profile: got number 3"),
        ('profiles = "x"\n', "profiles: got string 'x', expected tables"),
        ("defaults = 1\n", "defaults: got number 1, expected a table"),
        ("[profiles]\na = 1\n", "profiles.a: got number 1, expected a table"),
        ('[profiles."a b"]\nsite = "s"\n', "got profile name 'a b'"),
    ],
)
def test_config_errors_name_the_file_and_the_key(tmp_path, text, fragment):
    cfg = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    assert info.value.exit_code == ExitCode.CONFIG
    assert str(cfg) in info.value.message
    assert fragment in info.value.message


def test_unknown_key_hint_lists_the_known_keys(tmp_path):
    cfg = write_config(tmp_path, '[profiles.a]\nurll = "x"\n')
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    assert "url" in (info.value.hint or "") and "ca_bundle" in (info.value.hint or "")


def test_config_that_is_a_directory_or_not_utf8(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'[profiles.a]\nsite = "caf\xe9"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(bad)


@pytest.mark.parametrize(
    ("env", "value", "fragment"),
    [
        ("TMSCLIENT_TIMEOUT", "soon", "$TMSCLIENT_TIMEOUT: got string 'soon'"),
        ("TMSCLIENT_AUTH", "digest", "$TMSCLIENT_AUTH: got 'digest'"),
        ("TMSCLIENT_URL", "https://user:pw@t.example/", "holds a user name or password"),
        ("TMSCLIENT_TMS_USERNAME", "a/b", "cannot hold"),
    ],
)
def test_bad_environment_values_name_the_variable(env, value, fragment):
    with pytest.raises(ConfigError) as info:
        resolve(
            ["--url", "https://t.example/tms/", "--username", "u"]
            if env not in ("TMSCLIENT_URL", "TMSCLIENT_TMS_USERNAME")
            else [],
            {env: value, "TMSCLIENT_TMS_PASSWORD": "p"},
        )
    assert fragment in info.value.message


def test_empty_environment_variables_count_as_unset():
    t = resolve(
        ["--url", "https://t.example/tms/", "--username", "u"],
        {"TMSCLIENT_SITE": "", "TMSCLIENT_AUTH": " ", "TMSCLIENT_TMS_PASSWORD": "p"},
    )
    assert t.site is None and t.auth == "auto"


def test_bad_flags_are_usage_errors():
    with pytest.raises(UsageError, match="expected a number of seconds"):
        parser().parse_args(["--timeout", "abc"])
    with pytest.raises(UsageError, match="invalid choice"):
        parser().parse_args(["--auth", "digest"])
    with pytest.raises(UsageError, match="not allowed with"):
        parser().parse_args(["--tms-password-env", "A", "--tms-password-stdin"])


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("tms.example.com", "https://tms.example.com/tms/"),
        ("https://tms.example.com", "https://tms.example.com/tms/"),
        ("https://tms.example.com/", "https://tms.example.com/tms/"),
        ("https://TMS.example.com/tms", "https://tms.example.com/tms/"),
        ("https://tms.example.com/tms/default.aspx", "https://tms.example.com/tms/"),
        ("https://tms.example.com:8443/tms/", "https://tms.example.com:8443/tms/"),
        ("https://tms.example.com/other/", "https://tms.example.com/other/"),
        ("http://10.0.0.5/tms/", "http://10.0.0.5/tms/"),
    ],
)
def test_url_normalisation(given, expected):
    assert normalise_url(given, "--url") == expected


@pytest.mark.parametrize("bad", ["https://", "https://t/tms/?pageId=1", "https://t/#x", "https://t:99999/", "ftp://t/"])
def test_bad_urls(bad):
    with pytest.raises(ConfigError, match="--url"):
        normalise_url(bad, "--url")


@pytest.mark.parametrize("user", ["EXAMPLE\\alice", "alice@example.com", "alice", ".\\localadmin"])
def test_user_name_forms_are_accepted_as_given(user):
    assert check_username(user, "--username") == user


@pytest.mark.parametrize("user", ["", "\\alice", "EXAMPLE\\", "@example.com", "alice@", "A\\B\\c", "a:b"])
def test_bad_user_names(user):
    with pytest.raises(ConfigError, match="--username"):
        check_username(user, "--username")


# ------------------------------------------------------------------------------------------ secrets in config


@posix_only
def test_inline_password_in_a_file_others_can_read_is_refused(tmp_path):
    text = '[profiles.lab]\nurl = "t.example"\nusername = "u"\npassword = "inline-secret-pw"\n'
    cfg = write_config(tmp_path, text, mode=0o644)
    with pytest.raises(ConfigError) as info:
        load_config(cfg)
    err = info.value
    assert "profiles.lab.password is an inline secret" in err.message and "0644" in err.message
    assert f"chmod 600 {cfg}" in (err.hint or "") and "env:NAME" in (err.hint or "")
    assert "inline-secret-pw" not in err.diagnostics()
    cfg.chmod(0o640)
    with pytest.raises(ConfigError, match="other users can read"):
        load_config(cfg)
    cfg.chmod(0o600)
    t = resolve(["--config", str(cfg), "--profile", "lab"], {})
    assert secret(t.password).reveal() == "inline-secret-pw" and secret(t.password).source == "config"


@posix_only
def test_inline_pfx_password_in_defaults_is_refused_too(tmp_path):
    cfg = write_config(tmp_path, '[defaults]\npfx_password = "x1234"\n', mode=0o604)
    with pytest.raises(ConfigError, match=r"defaults\.pfx_password is an inline secret"):
        load_config(cfg)


@posix_only
def test_references_are_fine_in_a_readable_file(tmp_path):
    cfg = write_config(tmp_path, CONFIG, mode=0o644)
    assert load_config(cfg).names == ("staging", "production")


def test_inline_prefix_escapes_a_reference_prefix(tmp_path):
    cfg = write_config(
        tmp_path, '[profiles.default]\nurl = "t.example"\nusername = "u"\npassword = "inline:env:NOT_A_REFERENCE"\n'
    )
    assert secret(resolve(["--config", str(cfg)], {}).password).reveal() == "env:NOT_A_REFERENCE"


def test_file_reference_relative_to_the_config_file(tmp_path):
    secret_dir = tmp_path / "secrets"
    secret_dir.mkdir()
    (secret_dir / "tms.pw").write_text("pw-in-a-file\n")
    (secret_dir / "tms.pw").chmod(0o600)
    cfg = write_config(
        tmp_path, '[profiles.default]\nurl = "t.example"\nusername = "u"\npassword = "file:secrets/tms.pw"\n'
    )
    t = resolve(["--config", str(cfg)], {})
    assert secret(t.password).reveal() == "pw-in-a-file"
    assert secret(t.password).source == f"file:{secret_dir / 'tms.pw'}"
    (secret_dir / "tms.pw").unlink()
    with pytest.raises(InputFileError, match="does not exist"):
        resolve(["--config", str(cfg)], {})


KEYRING_CONFIG = '[profiles.default]\nurl = "t.example"\nusername = "u"\npassword = "keyring:tms/staging/EX\\\\svc"\n'


def _fake_keyring(store: dict[tuple[str, str], str]) -> types.ModuleType:
    module = types.ModuleType("keyring")
    errors = types.ModuleType("keyring.errors")

    class KeyringError(Exception):
        pass

    errors.KeyringError = KeyringError  # type: ignore[attr-defined]
    module.errors = errors  # type: ignore[attr-defined]
    module.get_password = lambda service, user: store.get((service, user))  # type: ignore[attr-defined]
    return module


def test_keyring_reference_splits_service_and_user_at_the_last_slash(tmp_path, monkeypatch):
    fake = _fake_keyring({("tms/staging", "EX\\svc"): "pw-from-keyring"})
    monkeypatch.setattr(credentials, "keyring", fake)
    cfg = write_config(tmp_path, KEYRING_CONFIG)
    t = resolve(["--config", str(cfg)], {})
    assert secret(t.password).reveal() == "pw-from-keyring"
    assert secret(t.password).source == "keyring:tms/staging/EX\\svc"
    fake.get_password = lambda service, user: None  # type: ignore[attr-defined]
    with pytest.raises(PasswordError, match="holds no TMS password for service 'tms/staging'") as info:
        resolve(["--config", str(cfg)], {})
    assert "keyring set tms/staging" in (info.value.hint or "")


def test_keyring_reference_without_the_extra_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.setattr(credentials, "keyring", None)  # as when `import keyring` failed at start
    cfg = write_config(tmp_path, KEYRING_CONFIG)
    with pytest.raises(ConfigError, match="keyring package is not installed") as info:
        resolve(["--config", str(cfg)], {})
    assert "tmsclient[keyring]" in (info.value.hint or "")


def test_keyring_reference_with_the_real_keyring(tmp_path):
    keyring = pytest.importorskip("keyring")
    from keyring.backend import KeyringBackend

    class Memory(KeyringBackend):
        priority = 1

        def __init__(self) -> None:
            super().__init__()
            self.store: dict[tuple[str, str], str] = {}

        def get_password(self, service, username):
            return self.store.get((service, username))

        def set_password(self, service, username, password):
            self.store[(service, username)] = password

        def delete_password(self, service, username):
            self.store.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(Memory())
    try:
        keyring.set_password("tms/staging", "EX\\svc", "real-keyring-pw")
        cfg = write_config(tmp_path, KEYRING_CONFIG)
        assert secret(resolve(["--config", str(cfg)], {}).password).reveal() == "real-keyring-pw"
    finally:
        keyring.set_keyring(previous)


# ------------------------------------------------------------------------------------------ docs


def test_every_setting_is_in_the_documented_table():
    doc = (DOCS / "configuration.md").read_text(encoding="utf-8")
    # | setting | flag | environment | config key | default |  (a `\|` inside a cell is not a column break)
    rows = [re.split(r"(?<!\\)\|", line) for line in doc.splitlines() if line.startswith("| ")]
    for spec in SETTINGS:
        row = next((r for r in rows if len(r) == 7 and r[4].strip().startswith(f"`{spec.key}`")), None)
        assert row is not None, f"{spec.key} is not in the settings table"
        if spec.flag:
            assert f"`{spec.flag}" in row[2], spec.key
        assert (f"`{spec.env}`" if spec.env else "none") == row[3].strip(), spec.key
    for env in ("TMSCLIENT_TMS_PASSWORD", "TMSCLIENT_PFX_PASSWORD", "TMSCLIENT_CONFIG", "TMSCLIENT_PROFILE"):
        assert f"`{env}`" in doc


def test_the_documented_example_config_loads(tmp_path):
    doc = (DOCS / "configuration.md").read_text(encoding="utf-8")
    example = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    config = load_config(write_config(tmp_path, example))
    assert config.names == ("staging", "production") and config.default_profile == "staging"
    prod = config.profile("production")
    assert prod.values["username"] == "EXAMPLE\\svc-tms-renew" and prod.values["auth"] == "ntlm"
    ref = prod.values["password"]
    assert ref.kind == "keyring" and ref.ref == "tmsclient/EXAMPLE\\svc-tms-renew"
    assert config.profile("staging").values["ca_bundle"] == tmp_path / "example-internal-ca.pem"


def test_required_settings_are_reported_before_any_secret_is_asked(tmp_path):
    """A missing --pfx is reported as that, not as a missing .pfx password, and no prompt is shown first."""
    asked: list[str] = []

    def prompter(text: str) -> str:
        asked.append(text)
        return "pw"

    ctx = Context(
        out=Output(io.StringIO(), io.StringIO()),
        secrets=SecretResolver(environ={}, interactive=True, prompter=prompter),
        environ={
            "TMSCLIENT_URL": "https://tms.example.com/tms/",
            "TMSCLIENT_TMS_USERNAME": "EX\\u",
            "TMSCLIENT_SITE": "example",
        },
        interactive=True,
    )
    args = argparse.Namespace(pfx=None)
    with pytest.raises(ConfigError, match="no pfx given"):
        resolve_target(args, ctx, need_password=True, need_pfx_password=True, required=("site", "pfx"))
    assert asked == []


def test_upload_verbose_log_shows_each_target_line_once(cli, tmp_path):
    """The settings are resolved once per run (the config file read once, each -v line once)."""
    pfx = tmp_path / "t.pfx"
    pfx.write_bytes(b"x")
    result = cli(
        "upload",
        "-v",
        "--url",
        "https://127.0.0.1:1/tms/",
        "--username",
        "EX\\u",
        "--site",
        "s",
        "--pfx",
        str(pfx),
        env={"TMSCLIENT_TMS_PASSWORD": "unused-pw-1", "TMSCLIENT_PFX_PASSWORD": "unused-pw-2"},
    )
    lines = [line for line in result.err.splitlines() if "target default: url:" in line]
    assert len(lines) == 1, result.err
