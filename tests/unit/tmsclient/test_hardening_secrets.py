"""Issue 12, secrets: control characters refused where a secret is read, a funnel nothing escapes, no echo."""

from __future__ import annotations

import html
import io
import json
import logging
import os
import re
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

import tmsclient.cli as cli_mod
from tmsclient.cli import main
from tmsclient.credentials import TMS_PASSWORD, Secret, scrub
from tmsclient.errors import PasswordError
from tmsclient.exitcodes import ExitCode
from tmsclient.output import Output
from tmsclient.settings import SecretResolver
from tmsemulator.certmaker import make_chain

#: A TMS address nothing answers at: every case here must be refused before any connection is tried.
NOWHERE = "https://127.0.0.1:9/tms/"
PFX_PASSWORD_TEXT = "Right-pfx-pw-42"


@pytest.fixture(scope="module")
def pfx_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chain = make_chain("tms.example.com")
    data = pkcs12.serialize_key_and_certificates(
        b"tms", chain.leaf.key, chain.leaf.cert, None, BestAvailableEncryption(PFX_PASSWORD_TEXT.encode())
    )
    path = tmp_path_factory.mktemp("pfx") / "cert.pfx"
    path.write_bytes(data)
    return path


def _private(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def _refused(result, code: ExitCode, *fragments: str) -> None:
    assert result.code == code, result
    errors = [line for line in result.err.splitlines() if line.startswith("tmsclient: error: ")]
    assert len(errors) == 1, result
    for fragment in fragments:
        assert fragment in errors[0], result


# ------------------------------------------------------------------ control characters, refused when read


def test_a_nul_in_a_password_file_is_refused_with_exit_4_not_a_rust_panic(cli, canaries, tmp_path, pfx_file):
    value = b"CnryHead\x00pfxPwMiddle\x00Tail"
    for part in ("CnryHead", "pfxPwMiddle"):
        canaries.register(part, "pfx-password-part")
    pw = _private(tmp_path / "pw.txt", value + b"\n")
    result = cli("inspect", str(pfx_file), "--pfx-password-file", str(pw), "--json")
    _refused(result, ExitCode.BAD_PASSWORD, "holds a NUL", "it is not shown")
    assert result.json["error"]["code"] == "BAD_PASSWORD"  # --json still answers on stdout
    assert "[67, 110" not in result.text  # the panic's list of byte values


def test_a_utf16le_password_file_without_a_bom_says_saved_as_utf16(cli, canaries, tmp_path, pfx_file):
    canaries.register(PFX_PASSWORD_TEXT, "pfx-password")
    pw = _private(tmp_path / "pw.txt", (PFX_PASSWORD_TEXT + "\r\n").encode("utf-16-le"))
    result = cli("inspect", str(pfx_file), "--pfx-password-file", str(pw))
    _refused(result, ExitCode.BAD_PASSWORD, "saved as UTF-16?")


def test_a_utf16_password_file_with_a_bom_says_saved_as_utf16(cli, canaries, tmp_path, pfx_file):
    canaries.register(PFX_PASSWORD_TEXT, "pfx-password")
    pw = _private(tmp_path / "pw.txt", (PFX_PASSWORD_TEXT + "\r\n").encode("utf-16"))
    result = cli("inspect", str(pfx_file), "--pfx-password-file", str(pw))
    _refused(result, ExitCode.BAD_PASSWORD, "saved as UTF-16?")


def test_utf16_on_stdin_is_refused_with_exit_4(cli, canaries, pfx_file):
    canaries.register(PFX_PASSWORD_TEXT, "pfx-password")
    utf16_read_as_utf8 = (PFX_PASSWORD_TEXT + "\n").encode("utf-16-le").decode("utf-8")
    result = cli("inspect", str(pfx_file), "--pfx-password-stdin", stdin=utf16_read_as_utf8)
    _refused(result, ExitCode.BAD_PASSWORD, "from stdin holds a NUL", "saved as UTF-16?")


@pytest.mark.parametrize(
    "value", ["CnryEsc\x1b[2JPw", "CnryTab\tPw", "CnryDel\x7fPw", "CnryCsi\x9bPw", "CnryTwo\nLinesPw"]
)
def test_control_characters_in_the_environment_are_refused(cli, canaries, pfx_file, value):
    canaries.register(value[:7], "pfx-password-part")  # the part before the control character
    result = cli("inspect", str(pfx_file), env={"TMSCLIENT_PFX_PASSWORD": value})
    _refused(result, ExitCode.BAD_PASSWORD, "from env:TMSCLIENT_PFX_PASSWORD holds control characters")


def test_a_tms_password_with_a_nul_is_refused_before_any_connection(cli, canaries, tmp_path):
    canaries.register("CnryTmsPw", "tms-password")
    result = cli(
        "show",
        "--url",
        NOWHERE,
        "--username",
        "u",
        "--non-interactive",
        env={"TMSCLIENT_TMS_PASSWORD": "CnryTmsPw\x00x"},
    )
    _refused(result, ExitCode.BAD_PASSWORD, "TMS password from env:TMSCLIENT_TMS_PASSWORD holds a NUL")


def test_an_inline_config_password_with_a_nul_is_refused_naming_the_key(cli, canaries, tmp_path):
    canaries.register("CnryInlinePw", "tms-password")
    cfg = _private(
        tmp_path / "c.toml",
        b'[profiles.p]\nurl = "' + NOWHERE.encode() + b'"\nusername = "u"\npassword = "CnryInlinePw\\u0000x"\n',
    )
    result = cli("show", "--config", str(cfg), "--profile", "p", "--non-interactive")
    _refused(result, ExitCode.BAD_PASSWORD, "profiles.p.password holds a NUL")


def test_a_typed_password_with_a_control_character_is_refused():
    resolver = SecretResolver(environ={}, interactive=True, prompter=lambda text: "typed\x1b[Apw")
    with pytest.raises(PasswordError, match="holds control characters") as info:
        resolver.resolve(TMS_PASSWORD, None)
    assert "typed" not in info.value.diagnostics()


# ------------------------------------------------------------------ the funnel


def _command(body):
    class Command:
        NAME, HELP = "boom", "runs a test body"

        @staticmethod
        def configure(parser):
            pass

        @staticmethod
        def run(args, ctx):
            return body(args, ctx)

    return Command


def test_a_rust_panic_becomes_exit_70_without_a_traceback(monkeypatch, pfx_file):
    def run(args, ctx):
        pkcs12.load_pkcs12(pfx_file.read_bytes(), b"nul\x00inside")  # pyo3's PanicException, a BaseException
        return 0

    monkeypatch.setattr(cli_mod, "_load_commands", lambda: [_command(run)])
    out, err = io.StringIO(), io.StringIO()
    code = main(["boom", "--json"], stdout=out, stderr=err, environ={}, interactive=False)
    assert code == ExitCode.INTERNAL
    assert "Traceback" not in err.getvalue()
    assert "internal error: PanicException" in err.getvalue()
    assert json.loads(out.getvalue())["error"]["exit_code"] == 70
    assert logging.getLogger("tmsclient").handlers == []  # the funnel's finally still ran


def test_any_base_exception_is_caught_but_ctrl_c_and_exit_keep_their_meaning(monkeypatch):
    class Odd(BaseException):
        pass

    raised: list[BaseException] = []

    def run(args, ctx):
        raise raised[-1]

    monkeypatch.setattr(cli_mod, "_load_commands", lambda: [_command(run)])

    def call() -> tuple[int, str]:
        err = io.StringIO()
        return main(["boom"], stdout=io.StringIO(), stderr=err, environ={}, interactive=False), err.getvalue()

    raised.append(Odd("x"))
    assert call() == (
        ExitCode.INTERNAL,
        "tmsclient: error: internal error: Odd; rerun with -vv for details and report it as a bug\n",
    )
    raised.append(KeyboardInterrupt())
    assert call() == (ExitCode.INTERRUPTED, "tmsclient: interrupted\n")
    raised.append(SystemExit(9))
    with pytest.raises(SystemExit) as info:
        call()
    assert info.value.code == 9


# ------------------------------------------------------------------ no echo of what may be a secret


@pytest.mark.parametrize(
    "page_url",
    [
        "https://admin:{pw}@127.0.0.1:9/tms/default.aspx?pageId=83",
        "//admin:{pw}@127.0.0.1:9/tms/default.aspx?pageId=83",
        "https://{pw}@127.0.0.1:9/tms/default.aspx?pageId=83",
    ],
)
def test_a_page_url_with_user_info_is_refused_without_echo(cli, canaries, page_url):
    pw = canaries.secret("url-password")
    result = cli(
        "show",
        "--url",
        NOWHERE,
        "--username",
        "u",
        "--page-url",
        page_url.format(pw=pw),
        "-vv",
        env={"TMSCLIENT_TMS_PASSWORD": "unused-pw-1"},
    )
    _refused(result, ExitCode.CONFIG, "--page-url: the URL holds a user name or password (not shown)")


@pytest.mark.parametrize(
    ("flag", "value", "fragment"),
    [
        ("--url", "ftp://admin:{pw}@tms.example.com/tms/", "--url: the URL holds a user name or password"),
        ("--url", "https://admin:{pw}@[::1/tms/", "--url: got a value that is not a URL"),
        ("--url", "https://tms.example.com/tms/?token={pw}", "got 'https://tms.example.com' and more (not shown)"),
        ("--url", "https://tms.example.com:{pw}/tms/", "got 'https://tms.example.com': the port is not a number"),
        ("--site", "https://admin:{pw}@acme.webex.com/acme", "--site: the URL holds a user name or password"),
        ("--site", "https://admin:{pw}@[::1", "--site: got a value that is not a host name"),
        ("--page-url", "https://admin:{pw}@[::1/x", "--page-url: got a value that is not a URL"),
    ],
)
def test_urls_in_errors_show_only_a_safe_form(cli, canaries, flag, value, fragment):
    pw = canaries.secret("url-password")
    argv = ["show", "--url", NOWHERE, "--username", "u", flag, value.format(pw=pw)]
    result = cli(*argv, env={"TMSCLIENT_TMS_PASSWORD": "unused-pw-1"})
    _refused(result, ExitCode.CONFIG, fragment)


def test_a_password_given_where_a_variable_name_belongs_is_not_echoed(cli, canaries):
    pw = canaries.secret("tms-password", extra=" secret")
    result = cli("show", "--url", NOWHERE, "--username", "u", "--tms-password-env", pw)
    _refused(result, ExitCode.USAGE, "--tms-password-env: got a value that is not an environment variable name")
    lower = canaries.secret("tms-password")  # a valid name, but not one in the form variables are given
    result = cli("show", "--url", NOWHERE, "--username", "u", "--tms-password-env", lower)
    _refused(result, ExitCode.BAD_PASSWORD, "the environment variable named by --tms-password-env is not set")
    result = cli("show", "--url", NOWHERE, "--username", "u", "--tms-password-env", "NO_SUCH_TMS_PW")
    _refused(result, ExitCode.BAD_PASSWORD, "environment variable NO_SUCH_TMS_PW (named by --tms-password-env)")


def test_a_password_given_where_a_file_belongs_is_not_echoed(cli, canaries, tmp_path, pfx_file):
    pw = canaries.secret("pfx-password")
    result = cli("inspect", str(pfx_file), "--pfx-password-file", pw, cwd=tmp_path)
    _refused(result, ExitCode.INPUT_FILE, "the .pfx password file named by --pfx-password-file does not exist")


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ('password = "env:{pw} x"', "profiles.p.password: got env: with something that is not a variable name"),
        ('password = "keyring:{pw}"', "profiles.p.password: got keyring: with something that is not SERVICE/USER"),
        ('password = "file:{pw}"', "named by"),
        ('password = "env:{pw}"', "the environment variable named by"),
        ("password = 12345678", "profiles.p.password: got a number, expected a string"),
        ("password = 12345678.5", "profiles.p.password: got a number, expected a string"),
    ],
)
def test_config_values_that_may_be_passwords_are_not_echoed(cli, canaries, tmp_path, line, fragment):
    pw = canaries.secret("tms-password")
    canaries.register("12345678", "tms-password")
    cfg = _private(
        tmp_path / "c.toml", f'[profiles.p]\nurl = "{NOWHERE}"\nusername = "u"\n{line.format(pw=pw)}\n'.encode()
    )
    result = cli("show", "--config", str(cfg), "--profile", "p", "--non-interactive", "-vv")
    assert result.code in (ExitCode.CONFIG, ExitCode.BAD_PASSWORD, ExitCode.INPUT_FILE), result
    assert fragment in result.err, result


# ------------------------------------------------------------------ the scrubber knows the echoed forms


@pytest.mark.parametrize(
    "form",
    [
        lambda v: quote(v, safe=""),
        quote,
        quote_plus,
        html.escape,
        lambda v: html.escape(v, quote=False),
        lambda v: json.dumps(v)[1:-1],
        lambda v: re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote_plus(v)),  # .NET's UrlEncode
    ],
)
def test_a_secret_echoed_url_encoded_or_html_escaped_is_scrubbed(form):
    value = "Cnry pw&<x>\"y'/%+#" + os.urandom(4).hex()
    Secret(value, "test")
    echoed = form(value)
    assert scrub(f"TMS said: {echoed}.") == "TMS said: <hidden>."
    out, err = io.StringIO(), io.StringIO()
    Output(out, err).warning(f"page shows {echoed}")
    assert echoed not in err.getvalue() and "<hidden>" in err.getvalue()
