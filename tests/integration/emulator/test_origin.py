"""The origin rule end to end: a hostile TMS points every stage at a sink on another origin, which gets nothing."""

from __future__ import annotations

import base64
import hashlib
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import requests
import spnego
import spnego.channel_bindings

from tests.helpers.tls_front import Pki, QuietServer, TlsFront, make_pki, reply, serve, server_context
from tmsclient.credentials import Secret
from tmsclient.exitcodes import ExitCode
from tmsclient.settings import TargetSettings
from tmsclient.tms.auth import NtlmPostHandshake, certificate_binding_hash, peer_certificate_hash
from tmsclient.tms.origin import Origin, origin_text, same_origin
from tmsclient.tms.session import OffOriginError, TmsSession

ADMIN = "TMSLAB\\admin"
WEBEX = "/tms/default.aspx?pageId=83"


# ------------------------------------------------------------------------------------------ certificates


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("origin-pki"))


# ------------------------------------------------------------------------------------------ the sink


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Sink:
    """Another origin: records every connection and request, and asks for a login as TMS would (Negotiate,
    NTLM and Basic), so whatever a leaking client is willing to send, it sends here."""

    def __init__(self, tls: ssl.SSLContext | None) -> None:
        self.connections = 0
        self.received: list[Received] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def setup(self) -> None:
                owner.connections += 1
                super().setup()

            def do_GET(self) -> None:
                owner.handle(self)

            do_POST = do_GET

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True, do_handshake_on_connect=False)
        self.port = self.httpd.server_address[1]
        self.scheme = "https" if tls else "http"
        self.thread = serve(self.httpd)

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        self.received.append(Received(h.command, h.path, dict(h.headers), h.rfile.read(length) if length else b""))
        reply(
            h,
            401,
            b"<title>401 - Unauthorized</title>",
            [
                ("WWW-Authenticate", "Negotiate"),
                ("WWW-Authenticate", "NTLM"),
                ("WWW-Authenticate", 'Basic realm="sink"'),
            ],
        )

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def assert_untouched(self) -> None:
        leaked = [(r.method, r.path, sorted(r.headers)) for r in self.received]
        assert self.connections == 0 and leaked == [], f"the sink got {self.connections} connections: {leaked}"


@pytest.fixture
def sinks(pki: Pki) -> Iterator[dict[str, Sink]]:
    """An HTTPS sink (another certificate of the same CA) and a plain http one, both on other ports."""
    made = {"https": Sink(server_context(pki.sink)), "http": Sink(None)}
    yield made
    for sink in made.values():
        sink.close()


#: How the hostile TMS names the sink: the same host on another port, plain http, another host name.
SINK_URLS: dict[str, Callable[[dict[str, Sink]], tuple[Sink, str]]] = {
    "other-port": lambda s: (s["https"], f"https://127.0.0.1:{s['https'].port}"),
    "plain-http": lambda s: (s["http"], f"http://127.0.0.1:{s['http'].port}"),
    "other-host": lambda s: (s["https"], f"https://localhost:{s['https'].port}"),
}


# ------------------------------------------------------------------------------------------ the hostile TMS


class HostileTms(TlsFront):
    """A TLS front of the emulator, one upstream connection per client connection (so NTLM passes), that at
    one ``stage`` of the walk turns one thing toward ``sink``:

    * ``redirect302`` / ``redirect307``: the answer is a redirect to the sink (TMS's own answer dropped);
    * ``link``: the start page's WebEx Settings menu entry points to the sink;
    * ``action``: the page's form posts to the sink; ``formaction``: the Save button does.

    Stages: ``first`` (the very first request, before any login), ``start`` (the start page), ``settings``
    (the WebEx Settings page), ``site`` (the site's form, opened by the Edit postback), ``save`` (the answer
    to the Save, which TMS did apply), ``reread`` (the first request after the Save).
    """

    def __init__(
        self, upstream: str, upstream_ca: str, cert: tuple[Path, Path], sink: str, stage: str, kind: str
    ) -> None:
        self.sink, self.stage, self.kind = sink, stage, kind
        self.fired: list[str] = []
        self.seen = 0
        self.saved = False
        self.lock = threading.Lock()
        super().__init__(upstream, upstream_ca, cert)

    def _stage_of(self, method: str, path: str, body: bytes) -> str:
        if self.saved:
            return "reread"
        if method == "POST":
            return "save" if b"saveButton" in body else "site" if b"editLink" in body else "other"
        return "settings" if "pageId=83" in path else "start"

    def exchange(self, h: Any, body: bytes) -> None:
        with self.lock:
            first, self.seen = self.seen == 0, self.seen + 1
        stage = self._stage_of(h.command, h.path, body)
        if self.stage == "first" and first:
            return self._redirect(h)
        status, headers, data = self.forward(h, body)
        if stage == "save":
            self.saved = True
        if status != 200 or stage != self.stage or self.fired:
            return reply(h, status, data, headers)
        if self.kind.startswith("redirect"):
            return self._redirect(h)
        rewritten = self._rewrite(data)
        if rewritten != data:
            self.fired.append(f"{self.kind} at {stage}")
        reply(h, status, rewritten, headers)

    def _redirect(self, h: Any) -> None:
        self.fired.append(f"{self.kind} at {self.stage}")
        code = 307 if self.kind == "redirect307" else 302
        reply(h, code, b"", [("Location", self.sink + WEBEX)])

    def _rewrite(self, data: bytes) -> bytes:
        sink = (self.sink + WEBEX).encode()
        if self.kind == "link":
            return data.replace(b'href="./default.aspx?pageId=83"', b'href="' + sink + b'"')
        if self.kind == "action":
            return data.replace(b'action="./default.aspx?pageId=83"', b'action="' + sink + b'"')
        if self.kind == "formaction":
            name = b'name="ctl00$uxContent$ctl01$saveButton"'
            return data.replace(name, name + b' formaction="' + sink + b'"')
        raise AssertionError(self.kind)


@pytest.fixture
def hostile(tms: Callable[..., Any], pki: Pki) -> Iterator[Callable[..., tuple[Any, HostileTms]]]:
    """``hostile(stage, kind, sink_url, auth="ntlm")`` -> (the emulator's Tms, the hostile front of it)."""
    fronts: list[HostileTms] = []

    def make(stage: str, kind: str, sink_url: str, *, auth: str = "ntlm") -> tuple[Any, HostileTms]:
        t = tms(auth=auth)
        front = HostileTms(t.url, t.em.ca_file, pki.tms, sink_url, stage, kind)
        fronts.append(front)
        return t, front

    yield make
    for front in fronts:
        front.close()


def argv(front: HostileTms, pki: Pki, scheme: str) -> list[str]:
    return [
        "--url",
        front.url,
        "--username",
        ADMIN,
        "--non-interactive",
        "--ca-bundle",
        str(pki.ca_file),
        "--auth",
        scheme,
        "--json",
    ]


#: (emulator auth, --auth): every way tmsclient logs in.
SCHEMES = [("ntlm", "ntlm"), ("ntlm", "auto"), ("basic", "basic"), ("basic", "auto")]
SCHEME_IDS = [f"{server}-server-{client}" for server, client in SCHEMES]

#: (stage, kind) -> the exit code of an upload, and whether the message may say "redirect".
CASES: dict[tuple[str, str], ExitCode] = {
    ("first", "redirect302"): ExitCode.PAGE_NOT_UNDERSTOOD,
    ("first", "redirect307"): ExitCode.PAGE_NOT_UNDERSTOOD,
    ("start", "redirect302"): ExitCode.PAGE_NOT_UNDERSTOOD,
    ("start", "link"): ExitCode.PAGE_NOT_UNDERSTOOD,
    ("settings", "redirect302"): ExitCode.PAGE_NOT_UNDERSTOOD,
    ("settings", "action"): ExitCode.PAGE_NOT_UNDERSTOOD,
    ("site", "redirect302"): ExitCode.PAGE_NOT_UNDERSTOOD,
    ("site", "action"): ExitCode.PAGE_NOT_UNDERSTOOD,
    ("site", "formaction"): ExitCode.PAGE_NOT_UNDERSTOOD,
    # TMS took the Save, then sent us elsewhere: it may have applied it, and the re-read (on the TMS origin)
    # proves it did, so the verifier's answer stands (the unknown outcome without proof: test_save_outcomes.py).
    ("save", "redirect302"): ExitCode.OK,
    ("save", "redirect307"): ExitCode.OK,
    # TMS took the Save and said so; only the re-read that verifies it was sent elsewhere.
    ("reread", "redirect302"): ExitCode.VERIFY_FAILED,
    ("reread", "action"): ExitCode.VERIFY_FAILED,
}
READ_ONLY_STAGES = ("first", "start", "settings", "site")


def check_refusal(result: Any, sink: Sink, sink_url: str, kind: str, code: ExitCode) -> None:
    """Nothing reached the sink; the documented exit code; a message naming the foreign origin that calls a
    page's own link or action no redirect and never offers the foreign address as --url."""
    sink.assert_untouched()
    assert result.code == code, result
    error = result.json["error"]
    assert error["code"] == code.name
    foreign = str(Origin.of(sink_url))
    assert foreign in error["message"]
    assert "another origin" in error["message"]
    if not kind.startswith("redirect"):
        assert "redirect" not in error["message"].lower()
    assert f"--url {foreign}" not in result.text and "--url http" not in (error["hint"] or "")


def check_proven_save(result: Any, sink: Sink, sink_url: str) -> None:
    """Nothing reached the sink; the re-read proved the Save, and a warning names where TMS pointed."""
    sink.assert_untouched()
    assert result.code == ExitCode.OK, result
    warnings = " ".join(result.json["warnings"])
    assert f"{Origin.of(sink_url)}, another origin" in warnings and "the re-read shows it stored it" in warnings


def _upload_matrix() -> list[Any]:
    """Every case with every login up to the settings page (where the login happens); after it, the
    requests carry the same credentials however they were chosen, so one NTLM and one Basic way suffice."""
    out = []
    for (stage, kind), _code in CASES.items():
        for (server, client), sid in zip(SCHEMES, SCHEME_IDS, strict=True):
            if stage in ("first", "start", "settings") or (server, client) in (("ntlm", "auto"), ("basic", "basic")):
                out.append(pytest.param(stage, kind, server, client, id=f"{stage}-{kind}-{sid}"))
    return out


@pytest.mark.parametrize(("stage", "kind", "server_auth", "client_auth"), _upload_matrix())
def test_upload_sends_nothing_to_another_port(cli, hostile, sinks, pki, pfx, stage, kind, server_auth, client_auth):
    sink, sink_url = SINK_URLS["other-port"](sinks)
    t, front = hostile(stage, kind, sink_url, auth=server_auth)
    f = pfx()
    result = cli(
        "upload", *argv(front, pki, client_auth), "--site", "acme", "--pfx", str(f.path), env={**t.env, **f.env}
    )
    assert front.fired == [f"{kind} at {stage}"], result  # the hostile page or answer was served
    if stage == "save":
        check_proven_save(result, sink, sink_url)
        assert t.counters()["saves_applied"] == 1
        return
    check_refusal(result, sink, sink_url, kind, CASES[stage, kind])
    error = result.json["error"]
    if stage in ("save", "reread"):
        # TMS applied the Save: the error must not say otherwise, and says how to check.
        assert t.counters()["saves_applied"] == 1
        claims = ("nothing was changed", "nothing was applied", "not applied")
        assert not any(c in error["message"] for c in claims) and "verify" in (error["hint"] or "")
    else:
        assert t.counters()["saves_applied"] == 0 and t.files_received() == []


@pytest.mark.parametrize(
    ("server_auth", "client_auth"), [("ntlm", "ntlm"), ("basic", "auto")], ids=["ntlm", "auto-basic"]
)
@pytest.mark.parametrize(
    ("stage", "kind"),
    [c for c in CASES if c[0] in READ_ONLY_STAGES],
    ids=[f"{s}-{k}" for s, k in CASES if s in READ_ONLY_STAGES],
)
def test_show_sends_no_login_to_another_port(cli, hostile, sinks, pki, stage, kind, server_auth, client_auth):
    sink, sink_url = SINK_URLS["other-port"](sinks)
    t, front = hostile(stage, kind, sink_url, auth=server_auth)
    result = cli("show", *argv(front, pki, client_auth), env=t.env)
    assert front.fired == [f"{kind} at {stage}"], result
    if stage == "site" and kind != "redirect302":
        # show reads the site's form and never submits it: where its Save would go does not matter.
        sink.assert_untouched()
        assert result.code == 0, result
        return
    check_refusal(result, sink, sink_url, kind, ExitCode.PAGE_NOT_UNDERSTOOD)


@pytest.mark.parametrize("where", ["plain-http", "other-host"])
@pytest.mark.parametrize(
    ("server_auth", "client_auth"), [("ntlm", "ntlm"), ("basic", "auto")], ids=["ntlm", "auto-basic"]
)
@pytest.mark.parametrize(
    ("stage", "kind"),
    [
        ("first", "redirect302"),
        ("start", "link"),
        ("settings", "action"),
        ("site", "formaction"),
        ("save", "redirect307"),
    ],
    ids=["first-redirect302", "start-link", "settings-action", "site-formaction", "save-redirect307"],
)
def test_upload_sends_nothing_to_plain_http_or_another_host_name(
    cli, hostile, sinks, pki, pfx, stage, kind, server_auth, client_auth, where
):
    sink, sink_url = SINK_URLS[where](sinks)
    t, front = hostile(stage, kind, sink_url, auth=server_auth)
    f = pfx()
    result = cli(
        "upload", *argv(front, pki, client_auth), "--site", "acme", "--pfx", str(f.path), env={**t.env, **f.env}
    )
    assert front.fired == [f"{kind} at {stage}"], result
    if stage == "save":
        check_proven_save(result, sink, sink_url)
        return
    check_refusal(result, sink, sink_url, kind, CASES[stage, kind])


def test_without_a_hostile_stage_the_front_passes_an_upload_through(cli, hostile, sinks, pki, pfx):
    # The front itself is a faithful proxy: the refusals above come from the hostile part alone.
    sink, sink_url = SINK_URLS["other-port"](sinks)
    t, front = hostile("none", "link", sink_url)
    f = pfx()
    result = cli("upload", *argv(front, pki, "ntlm"), "--site", "acme", "--pfx", str(f.path), env={**t.env, **f.env})
    assert result.code == 0, result
    assert t.counters()["saves_applied"] == 1 and front.fired == []
    sink.assert_untouched()


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
