"""``python -m tmsemulator``: every knob documented, the ready file, a clean stop on Ctrl-C."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from urllib.parse import urlsplit

import pytest
import requests

from tests.helpers.emulator import Browser, Target
from tmsemulator import EmulatorConfig, Faults
from tmsemulator.__main__ import build_parser, config_from_args, main
from tmsemulator.errors import ExitCode

#: EmulatorConfig fields and the flag that sets each; None: in-process only, on purpose.
CONFIG_FLAGS = {
    "host": "--host",
    "port": "--port",
    "tls": "--http",
    "auth": "--auth",
    "users": "--users",
    "admins": "--admins",
    "page_profile": "--page-profile",
    "webex_page_id": "--webex-page-id",
    "server_os": "--server-os",
    "cert_details": "--cert-details",
    "sites": "--sites",
    "enable_webex": "--sites",
    "add_webex_to_all": "--sites",
    "faults": None,
    "state_dir": "--state-dir",
    "tls_names": "--tls-san",
    "extended_protection": "--extended-protection",
    "max_request_bytes": "--max-request-kb",
    "request_log_limit": None,
    "redirects": "--redirect",
    "capture": "--capture",
}


def _help() -> str:
    out = io.StringIO()
    assert main(["--help"], stdout=out) == 0
    return out.getvalue()


def test_help_documents_every_knob():
    text = _help()
    assert set(CONFIG_FLAGS) == {f.name for f in dataclasses.fields(EmulatorConfig)}
    for field, flag in CONFIG_FLAGS.items():
        if flag:
            assert flag in text, field
    for fault in dataclasses.fields(Faults):
        assert "--fault-" + fault.name.replace("_", "-") in text, fault.name
    for word in (
        "--ready-file",
        "--list-profiles",
        "--verbose",
        "DOMAIN:USER:PASSWORD",
        "Ctrl-C",
        "0600",
        "/__emulator/",
    ):
        assert word in text


def test_help_runs_from_the_command_line():
    result = subprocess.run([sys.executable, "-m", "tmsemulator", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "--fault-layout-change" in result.stdout


def test_flags_become_the_config(tmp_path):
    users = tmp_path / "users"
    users.write_text("# lab accounts\nTMSLAB:alice:pw:with:colons\n\n:bob:pw2\n")
    sites = tmp_path / "sites.json"
    sites.write_text(
        json.dumps(
            {
                "enable_webex": False,
                "sites": [{"host_name": "x.webex.com", "site_name": "x", "bandwidth": "Low", "default_site": True}],
            }
        )
    )
    args = build_parser().parse_args(
        [
            "--port",
            "0",
            "--http",
            "--auth",
            "basic",
            "--users",
            str(users),
            "--admins",
            "alice",
            "--page-profile",
            "tms15-cells",
            "--webex-page-id",
            "150",
            "--server-os",
            "2019",
            "--cert-details",
            "none",
            "--sites",
            str(sites),
            "--tls-san",
            "tms.lab",
            "--extended-protection",
            "--max-request-kb",
            "8",
            "--fault-save-500",
            "--fault-drop-after-save",
            "applied",
            "--fault-delay-ms",
            "5",
            "--fault-session-expiry-requests",
            "3",
            "--fault-session-expiry-seconds",
            "1.5",
            "--fault-reauth-every-request",
            "--fault-layout-change",
            "tms15-relabelled",
        ]
    )
    config = config_from_args(args)
    assert config.users == (("TMSLAB", "alice", "pw:with:colons"), ("", "bob", "pw2"))
    assert (config.tls, config.auth, config.admins, config.port) == (False, "basic", ("alice",), 0)
    assert (config.page_profile, config.webex_page_id, config.server_os, config.cert_details) == (
        "tms15-cells",
        150,
        "2019",
        "none",
    )
    assert config.sites is not None and config.sites[0].host_name == "x.webex.com"
    assert config.enable_webex is False
    assert config.tls_names == ("tms.lab",) and config.extended_protection and config.max_request_bytes == 8192
    assert config.faults == Faults(
        save_500=True,
        drop_after_save="applied",
        delay_ms=5,
        session_expiry_requests=3,
        session_expiry_seconds=1.5,
        reauth_every_request=True,
        layout_change="tms15-relabelled",
    )


def test_list_profiles():
    out = io.StringIO()
    assert main(["--list-profiles"], stdout=out) == 0
    for name in ("tms15 (default)", "tms15-labelfor", "tms15-cells", "tms15-relabelled"):
        assert name in out.getvalue()


@pytest.mark.parametrize(
    ("argv", "code", "text"),
    [
        (["--users", "/nonexistent/users"], ExitCode.INPUT_FILE, "does not exist"),
        (["--admins", "alice"], ExitCode.USAGE, "--admins needs --users"),
        (["--fault-delay-ms", "-3"], ExitCode.USAGE, "expected 0 or more"),
        (["--page-profile", "tms99"], ExitCode.USAGE, "invalid choice"),
    ],
)
def test_bad_command_lines(argv, code, text):
    err = io.StringIO()
    assert main(argv, stdout=io.StringIO(), stderr=err) == code
    assert text in err.getvalue()
    assert "Traceback" not in err.getvalue()


def test_bad_users_file_line_is_named_without_echoing_it(tmp_path):
    users = tmp_path / "users"
    users.write_text("TMSLAB:alice:Secret-One\nthis-line-has-Secret-Two\n")
    err = io.StringIO()
    assert main(["--users", str(users), "--port", "0"], stdout=io.StringIO(), stderr=err) == ExitCode.CONFIG
    assert "line 2" in err.getvalue()
    assert "Secret" not in err.getvalue()


def test_port_in_use_is_a_connection_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        err = io.StringIO()
        code = main(["--port", str(taken.getsockname()[1])], stdout=io.StringIO(), stderr=err)
    assert code == ExitCode.CONNECTION
    assert "cannot listen on 127.0.0.1" in err.getvalue()


def test_an_unwritable_ready_file_is_an_output_file_error(tmp_path):
    err = io.StringIO()
    code = main(
        ["--port", "0", "--ready-file", str(tmp_path / "missing" / "ready.json")], stdout=io.StringIO(), stderr=err
    )
    assert code == ExitCode.OUTPUT_FILE and code == 6
    assert "cannot write the ready file" in err.getvalue()
    assert "Traceback" not in err.getvalue()


def test_in_process_run_writes_and_removes_the_ready_file(tmp_path):
    ready = tmp_path / "ready.json"
    out, err = io.StringIO(), io.StringIO()
    stop = threading.Event()
    listening = threading.Event()

    class Watch(io.StringIO):
        def write(self, text):
            if "Press Ctrl-C" in text:
                listening.set()
            return out.write(text)

    worker = threading.Thread(
        target=lambda: results.append(
            main(
                ["--port", "0", "--ready-file", str(ready), "--state-dir", str(tmp_path / "st"), "-v"],
                stdout=Watch(),
                stderr=err,
                stop=stop,
            )
        )
    )
    results: list[int] = []
    worker.start()
    try:
        assert listening.wait(30)
        info = json.loads(ready.read_text())
        password = (tmp_path / "st" / "admin-password").read_text().strip()
        assert info["admin_password_file"] == str(tmp_path / "st" / "admin-password")
        target = Target(info["url"], info["ca_file"])
        assert Browser(target, ("TMSLAB", "admin", password)).page(83).status == 200
    finally:
        stop.set()
        worker.join(30)
    assert results == [0]
    assert not ready.exists()
    assert password not in out.getvalue() + err.getvalue()
    assert '"GET /tms/default.aspx?pageId=83" 200' in err.getvalue()  # -v: the access log
    assert out.getvalue().rstrip().endswith("TMS emulator stopped.")


def test_command_line_entry_starts_serves_and_stops_on_sigint(tmp_path):
    users = tmp_path / "users"
    users.write_text("TMSLAB:admin:Cli-Admin pw 1\nTMSLAB:operator:Cli-Op pw 2\n")
    ready = tmp_path / "ready.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tmsemulator",
            "--port",
            "0",
            "--ready-file",
            str(ready),
            "--users",
            str(users),
            "--admins",
            "TMSLAB\\admin",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:  # blocks until the emulator has printed its banner
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        banner = "".join(lines)
        info = json.loads(ready.read_text())
        assert info["pid"] == proc.pid
        assert f"listening on {info['url']}" in banner
        assert f"CA file: {info['ca_file']}" in banner
        assert "user TMSLAB\\operator (not an administrator)" in banner
        target = Target(info["url"], info["ca_file"])
        assert Browser(target, ("TMSLAB", "admin", "Cli-Admin pw 1")).page(83).status == 200
        assert Browser(target, ("TMSLAB", "admin", "wrong")).page(83).status == 401
        state = requests.get(info["state_url"], verify=info["ca_file"]).json()
        assert state["counters"]["logins"] == 1
        proc.send_signal(signal.SIGINT)
        rest, errors = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "TMS emulator stopped." in rest
    assert "Traceback" not in errors
    assert not ready.exists()
    assert "Cli-Admin pw 1" not in banner + rest + errors
    assert not os.path.exists(info["ca_file"])  # its private state directory went with it
    port = urlsplit(info["url"]).port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
