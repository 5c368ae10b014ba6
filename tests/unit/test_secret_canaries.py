"""The secret canaries catch leaks: stdout, stderr, log records of any logger at DEBUG, and written files,
for every in-process run of tmsclient.cli.main in the suite (tests/conftest.py's autouse ``cli_watch``, built on
tests/helpers/canaries.py).

Each leak test runs a deliberately leaking fake command under its own watch and its own canaries (so the
suite's autouse watch, whose canaries do not know these markers, stays quiet) and shows the check fails,
naming where the secret went.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

import tmsclient.cli as cli_mod
from tests.helpers.paths import REPO
from tmsclient.cli import main
from tmsclient.credentials import Secret


def leaky_command(channel: str, secret: str, out_file: Path | None = None) -> Any:
    """A command that leaks ``secret`` through one channel, then succeeds."""

    class Leaky:
        NAME, HELP = "leak", "leaks a secret on purpose"

        @staticmethod
        def configure(parser: Any) -> None:
            pass

        @staticmethod
        def run(args: Any, ctx: Any) -> int:
            if channel == "stdout":
                ctx.out.result({"ok": True}, f"done {secret}")
            elif channel == "stderr":
                ctx.out.warning(f"careful with {secret}")
            elif channel == "debug-log":
                # At -v0 nothing reaches stderr; the record itself still carries the secret.
                logging.getLogger("tmsclient.commands.leak").debug("using password %s", secret)
            elif channel == "library-log":
                logging.getLogger("urllib3.connectionpool").debug("header Authorization: %s", secret)
            elif channel == "scrubbed-log":
                # The tool's own log handler scrubs a known Secret from what it prints; the record raised with
                # the value is still a leak (any other handler, or a library user's logging, sees it).
                Secret(secret, "test")
                logging.getLogger("tmsclient").warning("password is %s", secret)
            elif channel == "exception-log":
                try:
                    raise ValueError(f"bad password {secret}")
                except ValueError:
                    logging.getLogger("tmsclient").debug("failed", exc_info=True)
            elif channel == "file":
                assert out_file is not None
                out_file.write_text(f"password = {secret}\n", encoding="utf-8")
            else:
                raise AssertionError(channel)
            return 0

    return Leaky


@pytest.fixture
def own_watch(tmp_path: Path, cli_watch: Any, canaries: Any) -> Iterator[tuple[Any, Any]]:
    """A watch with canaries of its own (tests/helpers/canaries.py's classes), stacked on the suite's autouse one."""
    marks = type(canaries)()
    watch = type(cli_watch)(marks, lambda: {tmp_path: True}).install()
    yield marks, watch
    watch.uninstall()


CHANNELS = ("stdout", "stderr", "debug-log", "library-log", "scrubbed-log", "exception-log", "file")
WHERE = {
    "stdout": "stdout of a tmsclient run",
    "stderr": "stderr of a tmsclient run",
    "debug-log": "a log record",
    "library-log": "a log record",
    "scrubbed-log": "a log record",
    "exception-log": "a log record",
    "file": "file written by the tool",
}


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_leak_through_each_channel_is_caught(channel: str, own_watch: Any, tmp_path: Path, monkeypatch: Any) -> None:
    marks, watch = own_watch
    secret = marks.secret("pfx-password", extra=" &#")
    monkeypatch.setattr(cli_mod, "_load_commands", lambda: [leaky_command(channel, secret, tmp_path / "out.txt")])
    out, err = io.StringIO(), io.StringIO()
    code = main(["leak"], stdout=out, stderr=err, stdin=io.StringIO(), environ={}, interactive=False)
    assert code == 0, err.getvalue()
    with pytest.raises(AssertionError, match="secret leaked into") as info:
        watch.check()
    assert WHERE[channel] in str(info.value)
    assert "pfx-password" in str(info.value)
    assert secret not in str(info.value)  # the failure names the kind, never the value


def test_the_log_capture_sees_debug_records_whatever_the_verbosity(own_watch: Any, monkeypatch: Any) -> None:
    marks, watch = own_watch
    secret = marks.secret("pfx-password")
    monkeypatch.setattr(cli_mod, "_load_commands", lambda: [leaky_command("debug-log", secret)])
    err = io.StringIO()
    assert main(["leak"], stdout=io.StringIO(), stderr=err, environ={}, interactive=False) == 0
    assert secret not in err.getvalue()  # -v0: stderr stays clean; the record was made all the same
    assert any(secret in text for text in watch.runs[-1].records)


def test_levels_and_handlers_are_restored_after_a_run(own_watch: Any, monkeypatch: Any) -> None:
    root, tms_logger = logging.getLogger(), logging.getLogger("tmsclient")
    before = (root.level, list(root.handlers), tms_logger.level, list(tms_logger.handlers), tms_logger.propagate)
    monkeypatch.setattr(cli_mod, "_load_commands", lambda: [leaky_command("stdout", "harmless-text")])
    main(["leak", "-vv"], stdout=io.StringIO(), stderr=io.StringIO(), environ={}, interactive=False)
    after = (root.level, list(root.handlers), tms_logger.level, list(tms_logger.handlers), tms_logger.propagate)
    assert after == before


def test_real_runs_are_watched_at_debug(cli: Any, cli_watch: Any, canaries: Any, tmp_path: Path) -> None:
    """A real command at -v0: the watch holds its debug records (the password's source line among them)."""
    password = canaries.secret("pfx-password")
    missing = tmp_path / "missing.pfx"
    result = cli("check", str(missing), env={"TMSCLIENT_PFX_PASSWORD": password})
    assert result.code == 3
    records = cli_watch.runs[-1].records
    assert any("exit 3" in r or "InputFileError" in r for r in records), records
    assert "debug" not in result.err


def test_the_cli_runner_still_reports_what_it_wrote(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "made.p12"
    result = cli("bundle", "--cert", str(tmp_path / "none.pem"), "--out", str(out))
    assert result.code != 0 and not out.exists()
    assert cli.written == set()


def test_a_run_with_streams_the_watch_cannot_read_is_refused(own_watch: Any, cli_watch: Any, monkeypatch: Any) -> None:
    """main() writing to the real sys.stdout (a test that bypasses the cli fixture and its StringIO) fails
    the check: nothing a test runs can escape the canaries unread."""
    _, watch = own_watch
    monkeypatch.setattr(cli_mod, "_load_commands", lambda: [leaky_command("stdout", "harmless-text")])

    class Unreadable(io.TextIOBase):
        def write(self, text: str) -> int:
            return len(text)

    main(["leak"], stdout=cast(Any, Unreadable()), stderr=io.StringIO(), environ={}, interactive=False)
    cli_watch.runs[-1].checked = True  # the suite's own watch would refuse this deliberate run too
    with pytest.raises(AssertionError, match="cannot read back"):
        watch.check()


def test_the_autouse_watch_covers_tests_that_bypass_the_cli_fixture(tmp_path: Path) -> None:
    """A separate pytest run, with the suite's conftest, of tests that call main() directly: a leak fails
    the test at teardown, a clean run passes, and a run on unreadable streams fails."""
    (tmp_path / "conftest.py").write_text(
        (REPO / "tests" / "conftest.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent("""
        import io, sys
        import tmsclient.cli as cli_mod
        from tmsclient.cli import main

        def _cmd(text):
            class C:
                NAME, HELP = "say", "says something"
                @staticmethod
                def configure(parser): pass
                @staticmethod
                def run(args, ctx):
                    ctx.out.result({}, text)
                    return 0
            return C

        def test_leaks_directly(canaries, monkeypatch):
            secret = canaries.secret("tms-password")
            monkeypatch.setattr(cli_mod, "_load_commands", lambda: [_cmd("pw=" + secret)])
            assert main(["say"], stdout=io.StringIO(), stderr=io.StringIO(), environ={}) == 0

        def test_clean_directly(canaries, monkeypatch):
            canaries.secret("tms-password")
            monkeypatch.setattr(cli_mod, "_load_commands", lambda: [_cmd("all fine")])
            assert main(["say"], stdout=io.StringIO(), stderr=io.StringIO(), environ={}) == 0

        def test_real_stdout(monkeypatch):
            monkeypatch.setattr(cli_mod, "_load_commands", lambda: [_cmd("all fine")])
            assert main(["say"], environ={}) == 0
    """),
        encoding="utf-8",
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},  # the conftest imports its classes from tests.helpers
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "ERROR at teardown of test_leaks_directly" in output, output
    assert "secret leaked into stdout of a tmsclient run: tms-password" in output, output
    assert "ERROR at teardown of test_real_stdout" in output and "cannot read back" in output, output
    assert "ERROR at teardown of test_clean_directly" not in output, output
    assert "3 passed, 2 errors" in output, output
