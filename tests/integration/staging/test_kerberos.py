"""Kerberos for real: tmsclient's ``--auth negotiate`` and ``--auth auto`` against the stand-in's MIT KDC and
Apache's mod_auth_gssapi (Negotiate with Kerberos next to NTLM), with tickets from ``kinit`` or from the
password, and each Kerberos failure a user meets made real: no ticket, an expired one (kinit under faketime
against the KDC whose clock is behind), clock skew (that KDC), an unknown service principal (the stand-in by
its IP address), an unreachable KDC (a krb5.conf naming a closed port). Mutual authentication is shown failing
against a fake TMS that accepts the ticket without proving it holds the service key.

Each result is judged on what Apache logged (who it authenticated, how many requests, what was sent), not only
on what tmsclient says."""

from __future__ import annotations

import base64
import http.server
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
import spnego

from tests.helpers.cli import closed_port
from tests.helpers.staging import ADMIN, DOMAIN, OPERATOR, Access, KerberosRealm, StagingStack, StagingTarget
from tests.helpers.tls_front import reply, serve, server_context
from tmsclient.exitcodes import ExitCode

pytestmark = pytest.mark.staging

EXAMPLE = "example.webex.com"


def negotiate_argv(stack: StagingStack, realm: KerberosRealm, *extra: str, url: str | None = None) -> list[str]:
    return [
        "--url",
        url or realm.url,
        "--auth",
        "negotiate",
        "--ca-bundle",
        stack.ca_file,
        "--non-interactive",
        *extra,
    ]


def show(
    cli: Any,
    stack: StagingStack,
    realm: KerberosRealm,
    *extra: str,
    env: dict[str, str] | None = None,
    url: str | None = None,
) -> Any:
    return cli("show", *negotiate_argv(stack, realm, *extra, url=url), env=env or {})


def ticket(
    realm: KerberosRealm,
    stack: StagingStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    user: str = ADMIN,
    **kinit: Any,
) -> Path:
    """kinit as ``user`` into a cache of this test's, named by KRB5CCNAME from now on."""
    ccache = tmp_path / f"krb5cc-{user}"
    realm.kinit(f"{user}@{realm.realm}", stack.users[user].password, ccache, **kinit)
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{ccache}")
    return ccache


def logged_in_as(accesses: list[Access]) -> set[str]:
    """Who Apache authenticated on the answered requests (the 401s of a handshake have no user)."""
    assert accesses and accesses[0].status == 401
    return {a.user for a in accesses if a.status != 401}


def only_unauthenticated(accesses: list[Access]) -> None:
    """The failure stopped at the first 401: nothing was sent with credentials of any scheme after it."""
    assert len(accesses) == 1, accesses
    assert accesses[0].status == 401 and accesses[0].user == "-", accesses


# --------------------------------------------------------------------------------------------- logging in


def test_a_ticket_from_kinit_logs_in_with_no_password_given(cli, staging_target, kerberos, tmp_path, monkeypatch):
    stack = staging_target.stack
    ticket(kerberos, stack, tmp_path, monkeypatch)
    mark = stack.access_mark()
    result = show(cli, stack, kerberos)  # no --username, no TMSCLIENT_TMS_PASSWORD
    assert result.code == 0, result
    assert EXAMPLE in result.out
    accesses = stack.accesses_since(mark)
    # 401, then the ticket answered on that connection; every later page on the authenticated connection
    assert accesses[0].status == 401 and accesses[0].user == "-"
    assert {a.user for a in accesses[1:]} == {f"{ADMIN}@{kerberos.realm}"}
    assert all(a.status == 200 for a in accesses[1:])
    assert sum(a.keepalive == 0 for a in accesses) == 1, "one connection, one Kerberos handshake"


def test_the_stand_in_proves_itself_with_an_answer_token(staging_stack, kerberos, tmp_path, monkeypatch):
    """What tmsclient's mutual-authentication check relies on: mod_auth_gssapi's 200 carries the AP-REP, and
    pyspnego's context completes with it."""
    ticket(kerberos, staging_stack, tmp_path, monkeypatch)
    s = requests.Session()
    s.trust_env = False
    s.verify = staging_stack.ca_file
    ctx = spnego.client(
        hostname=kerberos.host,
        service="HTTP",
        protocol="kerberos",
        context_req=spnego.ContextReq.mutual_auth | spnego.ContextReq.sequence_detect,
    )
    header = "Negotiate " + base64.b64encode(ctx.step() or b"").decode()
    r = s.get(kerberos.url, headers={"Authorization": header})
    assert r.status_code == 200
    scheme, token = r.headers["WWW-Authenticate"].split()
    assert scheme == "Negotiate"
    ctx.step(base64.b64decode(token))
    assert ctx.complete


def test_upload_with_a_ticket_saves_as_the_kerberos_user(
    cli, staging_target, kerberos, staging_pfx, tmp_path, monkeypatch
):
    stack = staging_target.stack
    ticket(kerberos, stack, tmp_path, monkeypatch)
    f = staging_pfx()
    mark = stack.access_mark()
    result = cli(
        "upload", *negotiate_argv(stack, kerberos), "--site", EXAMPLE, "--pfx", str(f.path), "--json", env=f.env
    )
    assert result.code == 0, result
    site = next(s for s in stack.read_data()["Sites"] if s["HostName"] == EXAMPLE)
    assert site["Certificate"]["Thumbprint"] == f.thumbprint
    assert site["Certificate"]["UploadedBy"] == f"{ADMIN}@{kerberos.realm}"
    posts = [a for a in stack.accesses_since(mark) if a.method == "POST"]
    assert posts and all(a.user == f"{ADMIN}@{kerberos.realm}" and a.keepalive > 0 for a in posts)


@pytest.mark.parametrize("login", ["admin@{realm}", "admin"])
def test_a_user_name_and_password_get_the_ticket_in_memory(cli, staging_target, kerberos, tmp_path, login):
    stack = staging_target.stack
    mark = stack.access_mark()
    result = show(cli, stack, kerberos, "--username", login.format(realm=kerberos.realm), env=staging_target.env(ADMIN))
    assert result.code == 0, result
    assert logged_in_as(stack.accesses_since(mark)) == {f"{ADMIN}@{kerberos.realm}"}
    assert not (tmp_path / "no-ticket-cache").exists(), "the ticket stays in memory: no cache file is written"


def test_a_kerberos_user_who_is_no_site_administrator_is_denied(cli, staging_target, kerberos, tmp_path, monkeypatch):
    stack = staging_target.stack
    ticket(kerberos, stack, tmp_path, monkeypatch, user=OPERATOR)
    result = show(cli, stack, kerberos)
    assert result.code == ExitCode.NOT_ADMIN, result


def test_a_wrong_password_is_refused_by_the_kdc_and_nothing_is_sent(cli, staging_target, kerberos, canaries):
    stack = staging_target.stack
    mark = stack.access_mark()
    wrong = canaries.secret("tms-password")
    result = show(
        cli, stack, kerberos, "--username", f"{ADMIN}@{kerberos.realm}", env={"TMSCLIENT_TMS_PASSWORD": wrong}
    )
    assert result.code == ExitCode.AUTH, result
    assert "Preauthentication failed" in result.err
    only_unauthenticated(stack.accesses_since(mark))


# ----------------------------------------------------------------------------------------- auto prefers Kerberos


def show_auto(
    cli: Any, target: StagingTarget, *, login: str | None = None, url: str | None = None
) -> tuple[Any, list[Access]]:
    """``show --auth auto`` as ADMIN with its password (``login`` overrides ``TMS\\admin``, ``url`` the stand-in's
    127.0.0.1 one), and what Apache logged for it."""
    stack = target.stack
    mark = stack.access_mark()
    at = ["--url", url] if url else []
    result = cli("show", *target.argv(ADMIN, login=login), *at, "--auth", "auto", env=target.env(ADMIN))
    return result, stack.accesses_since(mark)


def test_auto_with_a_ticket_for_the_user_uses_kerberos(cli, staging_target, kerberos, tmp_path, monkeypatch):
    ticket(kerberos, staging_target.stack, tmp_path, monkeypatch)
    result, accesses = show_auto(cli, staging_target, login=f"{DOMAIN}\\{ADMIN}", url=kerberos.url)
    assert result.code == 0, result
    assert logged_in_as(accesses) == {f"{ADMIN}@{kerberos.realm}"}


def test_auto_with_a_upn_and_password_gets_a_ticket(cli, staging_target, kerberos):
    result, accesses = show_auto(cli, staging_target, login=f"{ADMIN}@{kerberos.realm}", url=kerberos.url)
    assert result.code == 0, result
    assert logged_in_as(accesses) == {f"{ADMIN}@{kerberos.realm}"}


def test_auto_without_a_ticket_uses_ntlm(cli, staging_target, kerberos):
    result, accesses = show_auto(cli, staging_target, url=kerberos.url)
    assert result.code == 0, result
    assert logged_in_as(accesses) == {f"{DOMAIN}\\{ADMIN}"}


def test_auto_with_a_ticket_of_another_user_uses_ntlm(cli, staging_target, kerberos, tmp_path, monkeypatch):
    ticket(kerberos, staging_target.stack, tmp_path, monkeypatch, user=OPERATOR)
    result, accesses = show_auto(cli, staging_target, url=kerberos.url)
    assert result.code == 0, result
    assert logged_in_as(accesses) == {f"{DOMAIN}\\{ADMIN}"}


def test_auto_when_the_kdc_has_no_service_principal_uses_ntlm(cli, staging_target, kerberos, tmp_path, monkeypatch):
    ticket(kerberos, staging_target.stack, tmp_path, monkeypatch)
    result, accesses = show_auto(cli, staging_target)  # 127.0.0.1
    assert result.code == 0, result
    assert logged_in_as(accesses) == {f"{DOMAIN}\\{ADMIN}"}


# ---------------------------------------------------------------------------- the errors, each with its code


def test_no_ticket(cli, staging_target, kerberos):
    stack = staging_target.stack
    mark = stack.access_mark()
    result = show(cli, stack, kerberos)
    assert result.code == ExitCode.KRB_NO_TICKET, result
    assert "no Kerberos ticket" in result.err and "kinit" in result.err
    only_unauthenticated(stack.accesses_since(mark))


def test_an_expired_ticket(cli, staging_target, kerberos, tmp_path, monkeypatch):
    stack = staging_target.stack
    # issued two days ago for one hour, by the KDC whose clock is two days behind, to a kinit whose clock is too
    ticket(kerberos, stack, tmp_path, monkeypatch, clock_offset="-2d", lifetime="1h")
    mark = stack.access_mark()
    result = show(cli, stack, kerberos)
    assert result.code == ExitCode.KRB_TICKET_EXPIRED, result
    assert "has expired" in result.err and "Ticket expired" in result.err
    only_unauthenticated(stack.accesses_since(mark))


def test_clock_skew_when_getting_a_ticket_with_the_password(cli, staging_target, kerberos, monkeypatch):
    stack = staging_target.stack
    monkeypatch.setenv("KRB5_CONFIG", str(kerberos.skewed_krb5_config))
    mark = stack.access_mark()
    result = show(cli, stack, kerberos, "--username", f"{ADMIN}@{kerberos.realm}", env=staging_target.env(ADMIN))
    assert result.code == ExitCode.KRB_CLOCK_SKEW, result
    assert "Clock skew too great" in result.err
    only_unauthenticated(stack.accesses_since(mark))


def test_clock_skew_with_a_ticket_from_the_cache(cli, staging_target, kerberos, tmp_path, monkeypatch):
    stack = staging_target.stack
    ticket(kerberos, stack, tmp_path, monkeypatch)  # a ticket of now, then a KDC two days behind for HTTP/...
    monkeypatch.setenv("KRB5_CONFIG", str(kerberos.skewed_krb5_config))
    mark = stack.access_mark()
    result = show(cli, stack, kerberos)
    assert result.code == ExitCode.KRB_CLOCK_SKEW, result
    assert "clock" in result.err
    only_unauthenticated(stack.accesses_since(mark))


def test_an_unknown_service_principal_names_the_spn_asked_for(cli, staging_target, kerberos, tmp_path, monkeypatch):
    stack = staging_target.stack
    ticket(kerberos, stack, tmp_path, monkeypatch)
    mark = stack.access_mark()
    result = show(cli, stack, kerberos, url=stack.url)  # https://127.0.0.1:PORT/tms/: HTTP/127.0.0.1
    assert result.code == ExitCode.KRB_UNKNOWN_SERVICE, result
    assert "service principal HTTP/127.0.0.1" in result.err
    assert f"HTTP/127.0.0.1@{kerberos.realm} not found in Kerberos database" in result.err
    only_unauthenticated(stack.accesses_since(mark))


def dead_kdc_config(kerberos: KerberosRealm, tmp_path: Path) -> Path:
    text = kerberos.krb5_config.read_text(encoding="utf-8")
    port = closed_port()
    lines = [
        f"        kdc = 127.0.0.1:{port}" if line.strip().startswith("kdc =") else line for line in text.splitlines()
    ]
    path = tmp_path / "krb5-dead-kdc.conf"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_an_unreachable_kdc_with_the_password(cli, staging_target, kerberos, tmp_path, monkeypatch):
    stack = staging_target.stack
    monkeypatch.setenv("KRB5_CONFIG", str(dead_kdc_config(kerberos, tmp_path)))
    mark = stack.access_mark()
    result = show(cli, stack, kerberos, "--username", f"{ADMIN}@{kerberos.realm}", env=staging_target.env(ADMIN))
    assert result.code == ExitCode.KRB_KDC_UNREACHABLE, result
    assert "Cannot contact any KDC" in result.err
    only_unauthenticated(stack.accesses_since(mark))


def test_an_unreachable_kdc_with_a_ticket_from_the_cache(cli, staging_target, kerberos, tmp_path, monkeypatch):
    stack = staging_target.stack
    ticket(kerberos, stack, tmp_path, monkeypatch)  # the TGT only: the ticket for HTTP/... needs the KDC
    monkeypatch.setenv("KRB5_CONFIG", str(dead_kdc_config(kerberos, tmp_path)))
    mark = stack.access_mark()
    result = show(cli, stack, kerberos)
    assert result.code == ExitCode.KRB_KDC_UNREACHABLE, result
    only_unauthenticated(stack.accesses_since(mark))


# ------------------------------------------------------------------------------------- mutual authentication


class _FakeTms(http.server.BaseHTTPRequestHandler):
    """Accepts any Negotiate header with a 200 and a TMS-looking page; its answer token is the server's
    ``answer`` (None: no WWW-Authenticate at all)."""

    answer: str | None = None
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        auth = self.headers.get("Authorization")
        self.seen.append(auth or "-")
        if not auth:
            reply(self, 401, b"", [("WWW-Authenticate", "Negotiate")])
            return
        answer = [] if self.answer is None else [("WWW-Authenticate", self.answer)]
        body = b"<html><body><h2>WebEx Settings</h2></body></html>"
        reply(self, 200, body, [*answer, ("Content-Type", "text/html; charset=utf-8")])

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def fake_tms(stack: StagingStack, answer: str | None) -> Iterator[tuple[str, list[str]]]:
    """A TLS server on localhost with the stand-in's own certificate: the ticket for HTTP/localhost is real,
    the server has no key to prove it."""
    seen: list[str] = []
    handler = type("Fake", (_FakeTms,), {"answer": answer, "seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    ctx = server_context((Path(stack.ca_file), stack.state_dir / "tls" / "server.key"))
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    serve(server)
    try:
        yield f"https://localhost:{server.server_address[1]}/tms/", seen
    finally:
        server.shutdown()
        server.server_close()


def a_real_answer_token(stack: StagingStack, kerberos: KerberosRealm) -> str:
    """The stand-in's genuine answer to another login: valid Kerberos, but not for the client's context."""
    ctx = spnego.client(
        hostname=kerberos.host, service="HTTP", protocol="kerberos", context_req=spnego.ContextReq.mutual_auth
    )
    r = requests.get(
        kerberos.url,
        headers={"Authorization": "Negotiate " + base64.b64encode(ctx.step() or b"").decode()},
        verify=stack.ca_file,
    )
    assert r.status_code == 200
    return str(r.headers["WWW-Authenticate"])


@pytest.mark.parametrize("answer", ["none", "garbage", "another-login's"])
def test_a_server_that_fails_mutual_authentication_is_refused(
    cli, staging_target, kerberos, tmp_path, monkeypatch, answer
):
    stack = staging_target.stack
    ticket(kerberos, stack, tmp_path, monkeypatch)
    header = {
        "none": None,
        "garbage": "Negotiate " + base64.b64encode(b"\x00not a kerberos token").decode(),
        "another-login's": a_real_answer_token(stack, kerberos) if answer == "another-login's" else None,
    }[answer]
    with fake_tms(stack, header) as (url, seen):
        result = show(cli, stack, kerberos, url=url)
    assert result.code == ExitCode.KRB_MUTUAL_AUTH, result
    assert "its answer was not used" in result.err or "mutual authentication" in result.err
    # the ticket went once; the 200 page was not used (no further request, no page error)
    assert seen[0] == "-" and seen[1].startswith("Negotiate ") and len(seen) == 2, seen


# ----------------------------------------------------------------------------------- redirects on the way in


def test_a_kerberos_login_follows_a_redirect_before_the_first_401(cli, staging_target, kerberos, tmp_path, monkeypatch):
    """`--url https://host/tms-moved/`: the stand-in answers 302 to /tms/ before any 401 (staging/conf); the
    Negotiate login then happens at /tms/ on the same origin and the walk goes on from the page reached, as a
    browser's does."""
    stack = staging_target.stack
    ticket(kerberos, stack, tmp_path, monkeypatch)
    mark = stack.access_mark()
    moved = kerberos.url.replace("/tms/", "/tms-moved/")
    result = show(cli, stack, kerberos, url=moved)
    assert result.code == 0, result
    assert EXAMPLE in result.out
    accesses = stack.accesses_since(mark)
    assert accesses[0].target == "/tms-moved/" and accesses[0].status == 302, accesses
    assert accesses[1].status == 401 and accesses[1].target.startswith("/tms/"), accesses
    assert {a.user for a in accesses if a.status == 200} == {f"{ADMIN}@{kerberos.realm}"}


def test_a_kerberos_login_follows_a_redirect_right_after_the_handshake(
    cli, staging_target, kerberos, tmp_path, monkeypatch
):
    """`--page-url ...&forward=1`: the stand-in's page answers the authenticated request with 302 to the page
    without it (staging/app/default.aspx); the client follows it on the same origin, on the connection the ticket
    authenticated, and reads the page reached."""
    stack = staging_target.stack
    ticket(kerberos, stack, tmp_path, monkeypatch)
    mark = stack.access_mark()
    page = f"default.aspx?pageId={stack.webex_page_id}"
    result = show(cli, stack, kerberos, "--page-url", f"{page}&forward=1")
    assert result.code == 0, result
    assert EXAMPLE in result.out
    accesses = stack.accesses_since(mark)
    assert (accesses[0].status, accesses[0].user) == (401, "-"), accesses
    assert accesses[1].status == 302 and accesses[1].target.endswith("&forward=1"), accesses
    assert accesses[2].status == 200 and accesses[2].target == f"/tms/{page}", accesses
    assert {a.user for a in accesses[1:]} == {f"{ADMIN}@{kerberos.realm}"}
    assert sum(a.keepalive == 0 for a in accesses) == 1, "one connection, one Kerberos handshake"
