"""Every login scheme survives same-origin redirects during and after the handshake: the start page at
/tms/default.aspx, /tms without its slash, and a redirect answered before the first 401 (per scheme)."""

from __future__ import annotations

import pytest

from tests.helpers.emulated import Tms

#: (client --auth, emulator auth mode): NTLM and Negotiate offered together (IIS's default), only Negotiate
#: (answered with NTLM inside SPNEGO), Basic, and auto against each.
SCHEMES = [
    ("ntlm", "ntlm"),
    ("ntlm", "negotiate"),
    ("basic", "basic"),
    ("auto", "ntlm"),
    ("auto", "negotiate"),
    ("auto", "basic"),
]
REDIRECTS = ["start-page", "trailing-slash", "before-login", "all"]


def _url(t: Tms, redirect: str) -> list[str]:
    argv = t.target()
    if redirect in ("trailing-slash", "all"):
        i = argv.index("--url")
        argv[i + 1] = argv[i + 1].rstrip("/")  # https://host:port/tms: IIS answers 301 to /tms/
    return argv


@pytest.mark.parametrize("redirect", REDIRECTS)
@pytest.mark.parametrize(("client", "server"), SCHEMES)
def test_show_logs_in_through_redirects(cli, tms, client, server, redirect):
    kinds = ["start-page", "trailing-slash", "before-login"] if redirect == "all" else [redirect]
    t = tms(auth=server, redirects=kinds)
    result = cli("show", *_url(t, redirect), "--auth", client, "--site", "acme", "--json", env=t.env)
    assert result.code == 0, result
    assert [s["host_name"] for s in result.json["sites"]] == ["acme.webex.com"]
    counters = t.counters()
    assert counters["failed_logins"] == 0
    if server != "basic":
        # One handshake: a redirect never costs a second login (Basic logs in on every request).
        assert counters["logins"] == 1
    log = t.state()["request_log"]
    assert {e["status"] for e in log} <= {200, 301, 302, 401}
    if "start-page" in kinds or "before-login" in kinds:
        assert any(e["status"] == 302 for e in log)


@pytest.mark.parametrize(("client", "server"), SCHEMES)
def test_upload_after_a_redirect_on_the_start_page(cli, tms, pfx, client, server):
    """The bug of issue 13: --auth auto with a Basic-only server whose start page redirects after the login
    ended in "does not offer basic login ... (it offers Basic)"."""
    t = tms(auth=server, redirects=["start-page"])
    f = pfx()
    result = cli(
        "upload", *t.target(), "--auth", client, "--site", "acme", "--pfx", str(f.path), env={**t.env, **f.env}
    )
    assert result.code == 0, result
    assert "does not offer" not in result.err
    assert [x["sha256"] for x in t.files_received()] == [f.sha256]
    assert t.counters()["failed_logins"] == 0
