"""Issue 12, bounded local reads: every file tmsclient reads is a regular file of bounded size, or refused."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tmsclient import files as files_mod
from tmsclient.config import MAX_CONFIG_BYTES, load_config
from tmsclient.credentials import read_secret_file
from tmsclient.errors import ConfigError, InputFileError
from tmsclient.exitcodes import ExitCode
from tmsclient.tms.pageprofile import load_profile

pytestmark = pytest.mark.skipif(os.name != "posix", reason="FIFOs and /dev/zero are POSIX")
resource = pytest.importorskip("resource")

NOWHERE = "https://127.0.0.1:9/tms/"
#: A run that reads /dev/zero without a bound would take all memory; in a child with this address-space limit
#: it fails instead, and the test with it.
CHILD_MEMORY = 1024 * 1024 * 1024


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    """A FIFO nobody writes to. Should a read block on it (the bug), a rescuer opens it for writing after a
    while and closes it, so the read ends with EOF and the test fails on its assertion instead of hanging."""
    path = tmp_path / "pipe.toml"
    os.mkfifo(path)
    done = threading.Event()

    def rescue() -> None:
        if not done.wait(10):
            with contextlib.suppress(OSError):  # ENXIO: nobody is blocked reading it
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    thread = threading.Thread(target=rescue, daemon=True)
    thread.start()
    yield path
    done.set()
    thread.join(15)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))


def _child(*argv: str) -> subprocess.CompletedProcess[str]:
    """``python ARGV`` in a child with bounded memory and time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TMSCLIENT_")}
    return subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_memory,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


# ------------------------------------------------------------------ the config file


def test_config_from_dev_zero_is_refused_at_once():
    result = _child(
        "-m", "tmsclient", "show", "--config", "/dev/zero", "--url", NOWHERE, "--username", "u", "--non-interactive"
    )
    assert result.returncode == ExitCode.CONFIG, result
    assert "the config file /dev/zero is not a regular file" in result.stderr


def test_config_from_a_fifo_is_refused_without_hanging(cli, fifo):
    result = cli("show", "--config", str(fifo), "--url", NOWHERE, "--username", "u", "--non-interactive")
    assert result.code == ExitCode.CONFIG, result
    assert f"the config file {fifo} is not a regular file (a FIFO, socket or device)" in result.err


def test_a_config_file_past_the_cap_is_refused(tmp_path):
    big = tmp_path / "big.toml"
    big.write_bytes(b"# a comment line of a valid TOML file\n" * (MAX_CONFIG_BYTES // 38 + 1))
    assert big.stat().st_size > MAX_CONFIG_BYTES
    with pytest.raises(ConfigError, match=r"is [\d,]+ bytes; expected at most 1,048,576") as info:
        load_config(big)
    assert "a few KB" in (info.value.hint or "")


# ------------------------------------------------------------------ the page profile


def test_a_page_profile_on_a_fifo_is_refused_without_hanging(fifo):
    with pytest.raises(InputFileError, match="not a regular file"):
        load_profile(fifo)


def test_a_page_profile_from_dev_zero_is_refused_at_once():
    result = _child("-c", "from tmsclient.tms.pageprofile import load_profile; load_profile('/dev/zero')")
    assert "InputFileError: the page profile /dev/zero is not a regular file" in result.stderr, result


def test_a_page_profile_named_in_settings_that_is_a_fifo_is_called_that(cli, fifo):
    result = cli(
        "show",
        "--url",
        NOWHERE,
        "--username",
        "u",
        "--page-profile",
        str(fifo),
        env={"TMSCLIENT_TMS_PASSWORD": "unused-pw-1"},
    )
    assert result.code == ExitCode.CONFIG, result
    assert "is not a regular file (a FIFO, socket or device)" in result.err  # it said "does not exist"


# ------------------------------------------------------------------ the CA bundle (read by TLS, checked here)


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_ca_bundle_that_is_not_a_regular_file_is_refused_before_connecting(cli, fifo, kind):
    path = str(fifo) if kind == "fifo" else "/dev/zero"
    result = cli(
        "show", "--url", NOWHERE, "--username", "u", "--ca-bundle", path, env={"TMSCLIENT_TMS_PASSWORD": "unused-pw-1"}
    )
    assert result.code == ExitCode.CONFIG, result
    assert f"the CA bundle {path} (from --ca-bundle) is not a regular file" in result.err
    directory = cli(
        "show",
        "--url",
        NOWHERE,
        "--username",
        "u",
        "--ca-bundle",
        str(fifo.parent),
        "--timeout",
        "2",
        env={"TMSCLIENT_TMS_PASSWORD": "unused-pw-1"},
    )
    assert directory.code == ExitCode.CONNECTION, directory  # a c_rehash directory passes, to the closed port


# ------------------------------------------------------------------ one reader for every file


def test_every_kind_of_input_file_goes_through_the_one_reader(tmp_path, monkeypatch):
    """The config, the page profile, a password file and a .pfx are each opened once, by read_bounded: without
    blocking and judged on the open descriptor."""
    config = tmp_path / "c.toml"
    config.write_text('[profiles.p]\nsite = "acme"\n')
    profile = tmp_path / "p.toml"
    profile.write_text('name = "mine"\n')
    password = tmp_path / "pw.txt"
    password.write_text("a-password\n")
    password.chmod(0o600)
    pfx = tmp_path / "x.pfx"
    pfx.write_bytes(b"0" * 64)

    opened: list[tuple[str, int]] = []
    real_open = files_mod.os.open

    def spy(path, flags, *args, **kwargs):
        opened.append((os.fspath(path), flags))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(files_mod.os, "open", spy)
    load_config(config)
    load_profile(profile)
    read_secret_file(password, ".pfx password", "--pfx-password-file")
    files_mod.read_input_file(pfx, "PKCS#12 file")
    nonblocking = {path for path, flags in opened if flags & os.O_NONBLOCK}
    assert {str(config), str(profile), str(password), str(pfx)} <= nonblocking, opened
