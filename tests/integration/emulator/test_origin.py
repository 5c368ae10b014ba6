"""The origin rule end to end: a hostile TMS points every stage at a sink on another origin, which gets nothing,
for every command that talks to TMS, every login and every kind of other origin; and channel binding."""

from __future__ import annotations

import base64
import hashlib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import requests
import spnego
import spnego.channel_bindings

import tmsclient.tms.session as session_module
from tests.helpers.canaries import Canaries
from tests.helpers.hostile import (
    ATTACKS,
    FOREIGN_KINDS,
    LOGINS,
    HostileTms,
    Login,
    Sink,
    negotiate_stand_in,
    sink_url,
)
from tests.helpers.tls_front import Pki, QuietServer, make_pki, reply, serve, server_context
from tmsclient.credentials import Secret
from tmsclient.exitcodes import ExitCode
from tmsclient.settings import TargetSettings
from tmsclient.tms.auth import NtlmPostHandshake, certificate_binding_hash, peer_certificate_hash
from tmsclient.tms.origin import Origin, origin_text, same_origin
from tmsclient.tms.session import OffOriginError, TmsSession
from tmsemulator.server import RunningEmulator, start

ADMIN = "TMSLAB\\admin"
#: The admin's password on both emulators of the module; a canary in every test (see ``run``).
ADMIN_PASSWORD = "Cnry-origin-admin &#$% pw"


# ------------------------------------------------------------------------------------------ one world per module


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("origin-pki"))


@dataclass
class World:
    """Two emulators (NTLM/Negotiate, Basic), three hostile fronts (NTLM and Negotiate, Negotiate only,
    Basic) and the two sinks (HTTPS with a certificate of the same CA, plain http), shared by the module."""

    pki: Pki
    emulators: dict[str, RunningEmulator]
    fronts: dict[str, HostileTms]
    https: Sink
    http: Sink


@pytest.fixture(scope="module")
def world(pki: Pki) -> Iterator[World]:
    users = [("TMSLAB", "admin", ADMIN_PASSWORD)]
    emulators = {auth: start(users=users, admins=["admin"], auth=auth) for auth in ("ntlm", "basic")}
    ntlm, basic = emulators["ntlm"], emulators["basic"]
    assert ntlm.ca_file is not None and basic.ca_file is not None
    fronts = {
        "ntlm": HostileTms(ntlm.url, ntlm.ca_file, pki.tms),
        "negotiate": HostileTms(ntlm.url, ntlm.ca_file, pki.tms, negotiate_only=True),
        "basic": HostileTms(basic.url, basic.ca_file, pki.tms),
    }
    made = World(pki, emulators, fronts, Sink(server_context(pki.sink)), Sink(None))
    yield made
    for front in fronts.values():
        front.close()
    made.https.close()
    made.http.close()
    for em in emulators.values():
        em.stop()


@dataclass
class Run:
    """One command against the armed hostile TMS: its result, the front, the emulator's counters after it."""

    result: Any
    front: HostileTms
    counters: dict[str, Any]
    foreign: str  # the sink's origin as a message names it


@pytest.fixture
def run(world: World, cli: Any, pfx: Any, canaries: Canaries, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``run(command, login, stage, kind, foreign) -> Run``: the emulators reset, the sinks emptied, the
    front of ``login``'s server armed, then ``tmsclient COMMAND --json`` for site acme through it."""
    canaries.register(ADMIN_PASSWORD, "tms-password")

    def go(command: str, login: Login, stage: str, kind: str, foreign: str) -> Run:
        em = world.emulators[login.emulator_auth]
        em.reset()
        world.https.reset()
        world.http.reset()
        front = world.fronts[login.server]
        url = sink_url(foreign, world.https, world.http)
        front.arm(stage, kind, url)
        if login.client == "negotiate":
            real = session_module.session_auth
            monkeypatch.setattr(session_module, "session_auth", negotiate_stand_in(real, ADMIN, ADMIN_PASSWORD))
        argv = ["--url", front.url, "--username", ADMIN, "--non-interactive", "--ca-bundle", str(world.pki.ca_file)]
        argv += ["--auth", login.client, "--json", "--site", "acme"]
        env = {"TMSCLIENT_TMS_PASSWORD": ADMIN_PASSWORD}
        if command == "status":
            argv += ["--warn-days", "0", "--crit-days", "0"]  # OK while the site's certificate is valid
        if command in ("upload", "verify"):
            f = pfx()
            argv += ["--pfx", str(f.path)]
            env.update(f.env)
        result = cli(command, *argv, env=env)
        return Run(result, front, em.state()["counters"], str(Origin.of(url)))

    return go


# ------------------------------------------------------------------------------------------ the matrix

#: Commands that only read: what each answers when the attack is one they never act on (a form's action or
#: a Save button's formaction on the site's form, which they never submit).
READERS: dict[str, int] = {
    "show": ExitCode.OK,
    "verify": ExitCode.VERIFY_FAILED,  # the .pfx given is not the certificate the site holds
    "discover": ExitCode.OK,
    "status": 0,  # the monitoring plugin's OK: the site's certificate is valid
}
READ_STAGES = ("first", "login", "start", "settings", "site")
SAVE_ONLY = ("formaction+formmethod", "formaction+formenctype")


def outcome(command: str, stage: str, kind: str) -> str:
    """What the documented answer is (docs/security.md, "What each command answers")."""
    if command != "upload":
        if stage == "site" and kind in ("action", "formaction"):
            return "ignored"
        if command == "discover" and (stage, kind) in (("settings", "action"), ("site", "redirect302")):
            return "noted"  # discover lists a site form it could not open among its problems
        return "refused"
    if kind in SAVE_ONLY:
        return "not-file-carrying"
    return {"save": "proven", "reread": "reread-failed"}.get(stage, "refused")


def says_nothing_went_there(text: str) -> bool:
    return "nothing was sent there" in text or "sent nothing there" in text


def _cases() -> list[Any]:
    out = []
    for command in ("upload", *READERS):
        for stage, kinds in ATTACKS.items():
            if command != "upload" and stage not in READ_STAGES:
                continue
            for kind in kinds:
                if command != "upload" and kind in SAVE_ONLY:
                    continue
                for login in LOGINS:
                    for foreign in FOREIGN_KINDS:
                        case_id = f"{command}-{stage}-{kind}-{login.id}-{foreign}"
                        out.append(pytest.param(command, stage, kind, login, foreign, id=case_id))
    return out


CASES = _cases()


def test_the_matrix_is_every_stage_login_foreign_kind_and_command():
    per_login_and_foreign = len(LOGINS) * len(FOREIGN_KINDS)
    upload_attacks = sum(len(kinds) for kinds in ATTACKS.values())
    read_attacks = sum(len([k for k in ATTACKS[s] if k not in SAVE_ONLY]) for s in READ_STAGES)
    assert len(CASES) == per_login_and_foreign * (upload_attacks + len(READERS) * read_attacks)
    assert {c.values[3].client for c in CASES} == {"ntlm", "negotiate", "basic", "auto"}


@pytest.mark.parametrize(("command", "stage", "kind", "login", "foreign"), CASES)
def test_nothing_reaches_another_origin(run, world, command, stage, kind, login, foreign):
    done = run(command, login, stage, kind, foreign)
    result = done.result
    # The hostile page or answer was served, and the sinks got nothing at all: no connection, no request.
    assert done.front.fired == [f"{kind} at {stage}"], result
    world.https.assert_untouched()
    world.http.assert_untouched()
    expected = outcome(command, stage, kind)
    files = [f for body in done.counters["post_bodies"] for f in body["files"]]
    if expected in ("proven", "reread-failed"):
        assert done.counters["saves_applied"] == 1, result  # TMS took the Save on its own origin
    else:
        assert done.counters["saves_applied"] == 0 and files == [], result
    if expected == "ignored":
        assert result.code == READERS[command], result
        return
    if expected == "noted":
        assert result.code == ExitCode.OK and result.json["site_forms"] == [], result
        problems = " ".join(result.json["problems"])
        assert f"{done.foreign}, another origin" in problems and says_nothing_went_there(problems), problems
        return
    if expected == "proven":
        # TMS took the Save, then pointed elsewhere: the re-read on its own origin proves it stored it.
        assert result.code == ExitCode.OK, result
        warnings = " ".join(result.json["warnings"])
        assert f"{done.foreign}, another origin" in warnings and "the re-read shows it stored it" in warnings
        return
    error = result.json["error"]
    message, hint = error["message"], error["hint"] or ""
    assert f"--url {done.foreign}" not in result.text and "--url http" not in hint
    if expected == "not-file-carrying":
        assert result.code == ExitCode.PAGE_NOT_UNDERSTOOD, result
        attribute = "formmethod='get'" if kind.endswith("formmethod") else "formenctype='text/plain'"
        assert error["type"] == "SubmissionKindError" and attribute in message and "nothing was sent" in message
        return
    assert f"{done.foreign}, another origin" in message or f"{done.foreign} (" in message, error
    if not kind.startswith("redirect"):
        assert "redirect" not in message.lower(), error  # a page's own link or action is no redirect
    if expected == "reread-failed":
        # TMS applied the Save; only the re-read that verifies it was sent elsewhere.
        assert result.code == ExitCode.VERIFY_FAILED, result
        assert message.startswith("TMS accepted the Save of site acme.webex.com/acme")
        assert not any(c in message for c in ("nothing was changed", "not applied")) and "verify" in hint
        return
    if command == "status":
        assert result.code == 3 and result.json["state"] == "UNKNOWN", result  # the plugin's UNKNOWN
    else:
        assert result.code == ExitCode.PAGE_NOT_UNDERSTOOD, result
    assert error["code"] == "PAGE_NOT_UNDERSTOOD" and error["type"] == "OffOriginError", error
    assert says_nothing_went_there(message), error


@pytest.mark.parametrize("login", LOGINS, ids=[login.id for login in LOGINS])
@pytest.mark.parametrize("command", ["upload", *READERS])
def test_without_an_attack_the_front_passes_every_command_and_login_through(run, world, command, login):
    # The fronts are faithful proxies: the refusals above come from the attacks alone.
    done = run(command, login, "none", "none", "other-port")
    assert done.front.fired == [], done.result
    world.https.assert_untouched()
    assert done.result.code == (ExitCode.OK if command == "upload" else READERS[command]), done.result
    assert done.counters["saves_applied"] == (1 if command == "upload" else 0)
    assert done.counters["logins"] >= 1
    wire = {"ntlm": "ntlm", "negotiate": "negotiate", "basic": "basic"}[login.server]
    assert done.front.schemes == {wire}, done.front.schemes  # the login went as the server offers it


RELOGINS = [login for login in LOGINS if login.client in ("ntlm", "auto") and login.server != "basic"]


@pytest.mark.parametrize("foreign", FOREIGN_KINDS)
@pytest.mark.parametrize("login", RELOGINS, ids=[login.id for login in RELOGINS])
def test_a_save_that_logs_in_again_sends_nothing_to_another_origin(run, world, login, foreign):
    # TMS refuses the Save with 401 (the login did not carry over); the POST that logs in on itself (its
    # negotiate leg, with no body) is redirected away: nothing goes there, and the form was never sent.
    done = run("upload", login, "relogin", "redirect302", foreign)
    assert done.front.refused and done.front.fired == ["redirect302 at relogin"], done.result
    world.https.assert_untouched()
    world.http.assert_untouched()
    assert done.counters["saves_applied"] == 0 and done.result.code == ExitCode.PAGE_NOT_UNDERSTOOD, done.result
    error = done.result.json["error"]
    assert error["type"] == "OffOriginError" and f"{done.foreign}, another origin" in error["message"], error
    assert says_nothing_went_there(error["message"]), error


# ------------------------------------------------------------------------------------------ the rule itself


@pytest.mark.parametrize(
    ("url", "base", "same"),
    [
        ("https://tms.example/tms/x", "https://tms.example/tms/", True),
        ("https://TMS.Example:443/y", "https://tms.example/tms/", True),
        ("HTTPS://tms.example/", "https://tms.example:443/", True),
        ("http://tms.example:80/", "http://tms.example/", True),
        ("https://tms.example:8443/tms/", "https://tms.example/tms/", False),
        ("http://tms.example/tms/", "https://tms.example/tms/", False),
        ("http://tms.example:443/tms/", "https://tms.example/tms/", False),
        ("https://tms.example.evil/tms/", "https://tms.example/tms/", False),
        ("https://localhost/tms/", "https://127.0.0.1/tms/", False),
        ("https://user:pw@tms.example/tms/", "https://tms.example/tms/", True),
        ("/tms/relative", "https://tms.example/tms/", False),
        ("javascript:alert(1)", "https://tms.example/tms/", False),
        ("ftp://tms.example/", "https://tms.example/tms/", False),
        ("https://tms.example:99999/", "https://tms.example/tms/", False),
        ("https://[::1]:8443/", "https://[::1]:8443/tms/", True),
    ],
)
def test_same_origin_compares_scheme_host_and_effective_port(url, base, same):
    assert same_origin(url, base) is same


def test_origin_text_names_only_scheme_host_and_port():
    assert origin_text("https://user:secret@TMS.example:443/tms/x?token=abc") == "https://tms.example"
    assert origin_text("https://tms.example:8443/a") == "https://tms.example:8443"
    assert origin_text("http://[::1]:81/") == "http://[::1]:81"
    assert "secret" not in origin_text("gopher://user:secret@h/")


# ------------------------------------------------------------------------------------------ channel binding


def binding_of(der: bytes) -> spnego.channel_bindings.GssChannelBindings:
    """tls-server-end-point for a SHA-256-signed certificate, computed here apart from tmsclient's code."""
    return spnego.channel_bindings.GssChannelBindings(
        application_data=b"tls-server-end-point:" + hashlib.sha256(der).digest()
    )


@dataclass
class BindingLog:
    posts: list[tuple[int, bytes]] = field(default_factory=list)  # (connection number, body)
    failures: list[str] = field(default_factory=list)


class TwoCertificateTms:
    """One origin behind which every other connection gets another certificate (two backends of a balancer,
    or a relay): NTLM with Extended Protection, checked against the certificate of each connection. The
    connection closes after each authenticated answer, so the next request opens a new one."""

    def __init__(self, contexts: list[ssl.SSLContext], ders: list[bytes]) -> None:
        self.log = BindingLog()
        owner, count = self, [0]

        class Server(QuietServer):
            def get_request(self) -> tuple[Any, Any]:
                sock, addr = self.socket.accept()
                n = count[0]
                count[0] += 1
                wrapped = contexts[n % 2].wrap_socket(sock, server_side=True)
                wrapped.connection_number = n  # type: ignore[attr-defined]
                return wrapped, addr

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            ctx: Any = None

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                owner.handle(self, ders[self.connection.connection_number % 2])

            do_POST = do_GET

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = serve(self.httpd)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/tms/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def handle(self, h: Any, der: bytes) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        scheme, _, token = (h.headers.get("Authorization") or "").partition(" ")
        if scheme.upper() != "NTLM" or not token:
            return reply(h, 401, b"", [("WWW-Authenticate", "NTLM")])
        raw = base64.b64decode(token)
        if raw[8:12] == b"\x01\x00\x00\x00":
            h.ctx = spnego.server(protocol="ntlm")
            challenge = h.ctx.step(raw)
            return reply(h, 401, b"", [("WWW-Authenticate", "NTLM " + base64.b64encode(challenge).decode())])
        try:
            h.ctx.step(raw, channel_bindings=binding_of(der))
        except spnego.exceptions.SpnegoError as exc:
            self.log.failures.append(type(exc).__name__)
            return reply(h, 401, b"", [("WWW-Authenticate", "NTLM")])
        if h.command == "POST":
            self.log.posts.append((h.connection.connection_number, body))
        h.close_connection = True
        reply(h, 200, b"<html><body>ok</body></html>", [("Connection", "close")])


@pytest.fixture
def two_certificates(pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TwoCertificateTms]:
    user_file = tmp_path / "ntlm-users"
    user_file.write_text("TMSLAB:admin:Adm1n-pw\n", encoding="utf-8")
    monkeypatch.setenv("NTLM_USER_FILE", str(user_file))
    srv = TwoCertificateTms([server_context(pki.tms), server_context(pki.sink)], [pki.tms_der, pki.sink_der])
    yield srv
    srv.close()


def test_a_post_handshake_binds_to_the_certificate_of_its_own_connection(two_certificates, pki):
    srv = two_certificates
    target = TargetSettings(
        url=srv.url,
        username=ADMIN,
        password=Secret("Adm1n-pw", "test"),
        auth="ntlm",
        ca_bundle=pki.ca_file,
        timeout=10.0,
        upload_timeout=10.0,
    )
    with TmsSession(target) as s:
        # Connection 0 (the TMS certificate): requests-ntlm's login, bound to that connection's certificate.
        assert s.get("default.aspx", what="the form").status == 200
        # Connection 1 (the other certificate): the POST's own handshake must bind to this one, not to the
        # certificate seen on connection 0.
        saved = s.post("default.aspx", [("a", "1")], multipart=False, what="the Save", handshake=True)
    assert saved.status == 200
    assert srv.log.failures == []
    assert srv.log.posts == [(1, b"a=1")]


def test_the_binding_hash_is_that_of_the_responses_own_connection(pki):
    sink = Sink(server_context(pki.sink))
    try:
        response = requests.get(f"https://127.0.0.1:{sink.port}/", verify=str(pki.ca_file), stream=True, timeout=10)
        try:
            got = peer_certificate_hash(response)
        finally:
            response.close()
    finally:
        sink.close()
    assert got == hashlib.sha256(pki.sink_der).digest() == certificate_binding_hash(pki.sink_der)
    assert got != certificate_binding_hash(pki.tms_der)


def test_the_authenticate_message_carries_the_binding_it_is_given(pki, tmp_path, monkeypatch):
    (tmp_path / "users").write_text("TMSLAB:admin:pw\n", encoding="utf-8")
    monkeypatch.setenv("NTLM_USER_FILE", str(tmp_path / "users"))
    for given, checked, ok in ((pki.sink_der, pki.sink_der, True), (pki.sink_der, pki.tms_der, False)):
        hs = NtlmPostHandshake(ADMIN, Secret("pw", "test"), "127.0.0.1")
        server = spnego.server(protocol="ntlm")
        challenge = server.step(base64.b64decode(hs.negotiate().split(" ", 1)[1]))
        assert challenge is not None
        answer = hs.authenticate("NTLM " + base64.b64encode(challenge).decode(), certificate_binding_hash(given))
        assert answer is not None
        token = base64.b64decode(answer.split(" ", 1)[1])
        if ok:
            server.step(token, channel_bindings=binding_of(checked))
            assert server.complete
        else:
            with pytest.raises(spnego.exceptions.SpnegoError):
                server.step(token, channel_bindings=binding_of(checked))


def test_off_origin_error_is_page_not_understood():
    err = OffOriginError("x", origin="https://h:1")
    assert err.exit_code == ExitCode.PAGE_NOT_UNDERSTOOD and err.body_may_have_arrived is False
