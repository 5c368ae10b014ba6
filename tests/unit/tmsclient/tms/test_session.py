"""TmsSession against a local HTTPS server (port 0, a thread): TLS, retries, timeouts, error mapping."""

from __future__ import annotations

import base64
import logging
import socket
import ssl
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tmsclient.credentials import Secret
from tmsclient.errors import (
    AuthenticationError,
    ConnectionFailedError,
    NotAdministratorError,
    PageNotUnderstoodError,
    RequestTimeoutError,
    ServerError,
    TLSError,
)
from tmsclient.exitcodes import ExitCode
from tmsclient.settings import TargetSettings
from tmsclient.tms.session import (
    HttpServerError,
    OffOriginError,
    PostInterruptedError,
    SessionExpiredError,
    TmsSession,
    aspnet_error_text,
)
from tmsemulator.certmaker import issue, make_chain

USER = "EXAMPLE\\alice"
PASSWORD = "Sesame-Str33t pw"

YSOD = """<html><head><title>Invalid postback or callback argument.  Event validation is enabled using
&lt;pages enableEventValidation=&quot;true&quot;/&gt; in configuration</title></head>
<body><span><H1>Server Error in '/tms' Application.<hr></H1><h2> <i>Invalid postback or callback argument.</i>
</h2></span></body></html>"""


# ------------------------------------------------------------------------------------------ the local server


@dataclass
class Seen:
    method: str
    path: str
    authorization: str | None
    body: bytes
    headers: dict[str, str]


@dataclass
class Knobs:
    """What the server does; tests change these before sending."""

    users: dict[str, str] = field(default_factory=lambda: {USER: PASSWORD})
    challenge: list[str] = field(default_factory=lambda: ['Basic realm="tms"'])
    status: dict[str, tuple[int, str]] = field(default_factory=dict)  # path -> (status, body)
    post_status: dict[str, tuple[int, str]] = field(default_factory=dict)
    drop_first: dict[str, int] = field(default_factory=dict)  # path -> connections to drop unanswered
    drop_posts: bool = False
    hang: set[str] = field(default_factory=set)
    redirect: dict[str, tuple[int, str]] = field(default_factory=dict)  # path -> (status, Location)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # failed TLS handshakes and dropped connections are what several tests provoke


class LocalTms:
    def __init__(self, *, tls: ssl.SSLContext | None) -> None:
        self.knobs = Knobs()
        self.seen: list[Seen] = []
        self.release = threading.Event()
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                owner.handle(self)

            def do_POST(self) -> None:
                owner.handle(self)

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True, do_handshake_on_connect=False)
        self.port = self.httpd.server_address[1]
        self.scheme = "https" if tls else "http"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/tms/"

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def requests_to(self, path: str, method: str | None = None) -> list[Seen]:
        return [s for s in self.seen if s.path == path and (method is None or s.method == method)]

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        k = self.knobs
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        path = h.path.split("?", 1)[0]
        with self.lock:
            self.seen.append(Seen(h.command, path, h.headers.get("Authorization"), body, dict(h.headers)))
            drop = k.drop_first.get(path, 0) > 0 or (h.command == "POST" and k.drop_posts)
            if k.drop_first.get(path, 0) > 0:
                k.drop_first[path] -= 1
        if drop:
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        if path in k.hang:
            self.release.wait(30)
        if not self.authorized(h.headers.get("Authorization")):
            self.send(
                h, 401, "<html><title>401 - Unauthorized</title></html>", [("WWW-Authenticate", c) for c in k.challenge]
            )
            return
        if path in k.redirect:
            code, location = k.redirect[path]
            self.send(h, code, "", [("Location", location)])
            return
        table = k.post_status if h.command == "POST" else k.status
        if path in table:
            code, text = table[path]
            self.send(h, code, text)
            return
        self.send(h, 200, f"<html><body>page {path} ok; got {len(body)} bytes</body></html>")

    def authorized(self, header: str | None) -> bool:
        if not self.knobs.challenge:
            return True
        if not any(c.startswith("Basic") for c in self.knobs.challenge):
            return False
        if not header or not header.startswith("Basic "):
            return False
        user, _, pw = base64.b64decode(header[6:]).decode("latin-1").partition(":")
        return self.knobs.users.get(user) == pw

    @staticmethod
    def send(h: BaseHTTPRequestHandler, code: int, text: str, headers: Sequence[tuple[str, str]] = ()) -> None:
        data = text.encode("utf-8")
        h.send_response(code)
        for name, value in headers:
            h.send_header(name, value)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    other_ca_file: Path
    cert_file: Path
    key_file: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    chain = make_chain("localhost", sans=["localhost", "127.0.0.1"])
    other = issue("Some Other Root CA", ca=True)
    (d / "ca.pem").write_bytes(chain.root.cert_pem())
    (d / "other-ca.pem").write_bytes(other.cert_pem())
    (d / "server.pem").write_bytes(chain.leaf.cert_pem() + chain.intermediate.cert_pem())
    (d / "server.key").write_bytes(chain.leaf.key_pem())
    return Pki(d / "ca.pem", d / "other-ca.pem", d / "server.pem", d / "server.key")


@pytest.fixture
def server(pki: Pki) -> Iterator[LocalTms]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.cert_file, pki.key_file)
    srv = LocalTms(tls=ctx)
    yield srv
    srv.close()


@pytest.fixture
def plain_server() -> Iterator[LocalTms]:
    srv = LocalTms(tls=None)
    yield srv
    srv.close()


def target_for(srv: LocalTms, pki: Pki | None = None, **kw: object) -> TargetSettings:
    base: dict[str, object] = {
        "url": srv.url,
        "username": USER,
        "password": Secret(PASSWORD, "test"),
        "auth": "basic",
        "ca_bundle": pki.ca_file if pki else None,
        "timeout": 5.0,
        "upload_timeout": 5.0,
    }
    base.update(kw)
    return TargetSettings(**base)  # type: ignore[arg-type]


def open_session(target: TargetSettings) -> TmsSession:
    return TmsSession(target, retry_backoff=0)


# ------------------------------------------------------------------------------------------ TLS


def test_verified_https_get_with_the_ca_bundle(server, pki):
    with open_session(target_for(server, pki)) as s:
        page = s.get("default.aspx", what="the start page")
    assert page.status == 200
    assert page.url == f"{server.url}default.aspx"
    assert "page /tms/default.aspx ok" in page.text
    assert s.stats.requests == 1  # explicit Basic: no 401 round trip


def test_untrusted_certificate_is_a_tls_error_with_a_ca_bundle_hint(server, pki):
    with open_session(target_for(server, None)) as s, pytest.raises(TLSError) as info:
        s.get("default.aspx", what="the start page")
    err = info.value
    assert err.exit_code == ExitCode.TLS
    assert "certificate verify failed" in err.message or "verif" in err.message
    assert "127.0.0.1" in err.message
    assert "--ca-bundle" in (err.hint or "")
    assert server.seen == []  # nothing crossed an unverified channel
    assert s.stats.retries == 0  # TLS failures are not retried


def test_wrong_ca_bundle_is_a_tls_error(server, pki):
    with open_session(target_for(server, pki, ca_bundle=pki.other_ca_file)) as s, pytest.raises(TLSError):
        s.get("default.aspx", what="the start page")


def test_requests_ca_bundle_in_the_environment_cannot_make_an_untrusted_server_trusted(server, pki, monkeypatch):
    # Without a per-request verify, requests would pick REQUESTS_CA_BUNDLE up and trust this server.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki.ca_file))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(pki.ca_file))
    assert requests.get(server.url, timeout=5).status_code == 401  # the environment alone would trust it
    with open_session(target_for(server, None)) as s, pytest.raises(TLSError) as info:
        s.get("default.aspx", what="the start page")
    assert "REQUESTS_CA_BUNDLE is ignored" in info.value.message


def test_requests_ca_bundle_in_the_environment_cannot_replace_the_given_ca_bundle(server, pki, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki.other_ca_file))
    with open_session(target_for(server, pki)) as s:
        assert s.get("default.aspx", what="the start page").status == 200


def test_insecure_warns_once_and_silences_urllib3_only_for_this_host(server, pki, caplog):
    caplog.set_level(logging.WARNING, logger="tmsclient")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with open_session(target_for(server, None, insecure=True)) as s:
            assert s.get("default.aspx", what="the start page").status == 200
            assert s.verify is False
        # The same server under another name still warns: the silencing is per host.
        requests.get(server.url.replace("127.0.0.1", "localhost"), verify=False, timeout=5)
    insecure = [w for w in caught if w.category.__name__ == "InsecureRequestWarning"]
    assert len(insecure) == 1 and "'localhost'" in str(insecure[0].message)
    assert "TLS verification is OFF for 127.0.0.1" in caplog.text


def test_plain_http_is_refused_unless_allowed(plain_server, caplog):
    with pytest.raises(TLSError) as info:
        TmsSession(target_for(plain_server))
    assert info.value.exit_code == ExitCode.TLS
    assert "--allow-http" in (info.value.hint or "")
    assert plain_server.seen == []
    caplog.set_level(logging.WARNING, logger="tmsclient")
    with open_session(target_for(plain_server, allow_http=True)) as s:
        assert s.get("default.aspx", what="the start page").status == 200
    warned = [r for r in caplog.records if r.levelno == logging.WARNING and "--allow-http" in r.getMessage()]
    assert len(warned) == 1 and "unencrypted" in warned[0].getMessage()
    assert PASSWORD not in caplog.text


def test_a_redirect_to_the_same_origin_spelled_otherwise_is_followed(server, pki):
    server.knobs.redirect["/tms/a.aspx"] = (302, f"HTTPS://127.0.0.1:{server.port}/tms/b.aspx")
    with open_session(target_for(server, pki)) as s:
        assert s.get("a.aspx", what="a page").url.endswith("/tms/b.aspx")


def test_a_redirect_from_https_to_http_is_refused(server, plain_server, pki):
    server.knobs.redirect["/tms/default.aspx"] = (302, f"http://127.0.0.1:{plain_server.port}/tms/login")
    with open_session(target_for(server, pki)) as s, pytest.raises(OffOriginError) as info:
        s.get("default.aspx", what="the start page")
    assert info.value.exit_code == ExitCode.PAGE_NOT_UNDERSTOOD
    assert f"redirected the start page to http://127.0.0.1:{plain_server.port}, another origin" in info.value.message
    assert plain_server.seen == []


@pytest.mark.parametrize("where", ["localhost:{port}", "127.0.0.1:{other}", "LOCALHOST:{other}"])
def test_a_redirect_to_another_host_or_port_is_refused_before_any_credential_goes_there(
    server, plain_server, pki, where
):
    foreign = "https://" + where.format(port=server.port, other=plain_server.port)
    server.knobs.redirect["/tms/default.aspx"] = (302, f"{foreign}/tms/elsewhere")
    with open_session(target_for(server, pki)) as s, pytest.raises(OffOriginError) as info:
        s.get("default.aspx", what="the start page")
    assert info.value.origin == foreign.lower()
    assert f"to {foreign.lower()}, another origin than https://127.0.0.1:{server.port}" in info.value.message
    assert foreign.lower() not in (info.value.hint or "").lower()  # never offered as --url
    assert server.requests_to("/tms/elsewhere") == [] and plain_server.seen == []
    assert s.stats.requests == 1


def test_a_url_given_on_another_origin_is_refused_before_anything_is_sent(server, pki):
    with open_session(target_for(server, pki)) as s:
        with pytest.raises(OffOriginError) as info:
            s.get(
                f"https://127.0.0.1:{server.port + 1}/tms/x",
                what="the WebEx Settings page",
                source="the menu entry WebEx Settings",
            )
        assert info.value.message.startswith(
            f"the menu entry WebEx Settings points to https://127.0.0.1:"
            f"{server.port + 1}, another origin than the TMS at "
            f"https://127.0.0.1:{server.port}"
        )
        assert "redirect" not in info.value.message
        s.get("default.aspx", what="the form")
        with pytest.raises(OffOriginError, match=r"the form's action points to http://127\.0\.0\.1"):
            s.post(
                f"http://127.0.0.1:{server.port}/tms/",
                [("a", "1")],
                multipart=False,
                what="the Save",
                source="the form's action",
            )
    assert [x.method for x in server.seen] == ["GET"]  # only the form read; the POST never left


@pytest.mark.parametrize("status", [302, 303, 307, 308])
def test_a_redirect_to_another_origin_after_a_post_is_not_followed_and_may_have_applied(
    server, plain_server, pki, status
):
    server.knobs.redirect["/tms/save.aspx"] = (status, f"https://127.0.0.1:{plain_server.port}/tms/done")
    with open_session(target_for(server, pki)) as s:
        s.get("default.aspx", what="the form")
        with pytest.raises(OffOriginError) as info:
            s.post("save.aspx", [("a", "1")], multipart=False, what="the Save")
    assert info.value.body_may_have_arrived is True
    assert f"with {status} to https://127.0.0.1:{plain_server.port}, another origin" in info.value.message
    assert "tmsclient verify" in (info.value.hint or "")
    assert plain_server.seen == [] and len(server.requests_to("/tms/save.aspx")) == 1


def test_a_redirect_on_the_same_host_is_followed_and_counted(server, pki):
    server.knobs.redirect["/tms/"] = (302, "/tms/default.aspx?pageId=1")
    with open_session(target_for(server, pki)) as s:
        page = s.get("", what="the start page")
    assert page.url.endswith("/tms/default.aspx?pageId=1")
    assert s.stats.requests == 2


# ------------------------------------------------------------------------------------------ failures


def test_connection_refused_is_retried_for_a_get_then_reported(pki):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    target = TargetSettings(
        url=f"https://127.0.0.1:{port}/tms/",
        username=USER,
        password=Secret(PASSWORD, "test"),
        auth="basic",
        ca_bundle=pki.ca_file,
    )
    with open_session(target) as s, pytest.raises(ConnectionFailedError) as info:
        s.get("default.aspx", what="the start page")
    assert info.value.exit_code == ExitCode.CONNECTION
    assert f"127.0.0.1:{port} refused" in info.value.message
    assert s.stats.retries == 2 and s.stats.requests == 3


def test_unknown_host_is_a_connection_error_without_retries(pki):
    target = TargetSettings(
        url="https://tms.nonexistent.invalid/tms/", username=USER, password=Secret(PASSWORD, "test"), auth="basic"
    )
    with open_session(target) as s, pytest.raises(ConnectionFailedError, match="cannot resolve") as info:
        s.get("default.aspx", what="the start page")
    assert "check --url" in (info.value.hint or "")
    assert s.stats.retries == 0


def test_a_dropped_connection_is_retried_for_a_get(server, pki):
    server.knobs.drop_first["/tms/flaky.aspx"] = 1
    with open_session(target_for(server, pki)) as s:
        page = s.get("flaky.aspx", what="a flaky page")
    assert page.status == 200
    assert len(server.requests_to("/tms/flaky.aspx")) == 2
    assert s.stats.retries == 1 and s.stats.requests == 2


def test_a_get_gives_up_after_its_retries(server, pki):
    server.knobs.drop_first["/tms/dead.aspx"] = 10
    with open_session(target_for(server, pki)) as s, pytest.raises(ConnectionFailedError, match="broke"):
        s.get("dead.aspx", what="a dead page")
    assert len(server.requests_to("/tms/dead.aspx")) == 3


def test_a_timeout_is_its_own_error_and_not_retried(server, pki):
    server.knobs.hang.add("/tms/slow.aspx")
    with open_session(target_for(server, pki, timeout=0.3)) as s, pytest.raises(RequestTimeoutError) as info:
        s.get("slow.aspx", what="a slow page")
    assert info.value.exit_code == ExitCode.TIMEOUT
    assert "--timeout" in (info.value.hint or "")
    assert len(server.requests_to("/tms/slow.aspx")) == 1


def test_http_500_is_a_server_error_carrying_the_aspnet_title(server, pki):
    server.knobs.status["/tms/broken.aspx"] = (500, YSOD)
    with open_session(target_for(server, pki)) as s, pytest.raises(HttpServerError) as info:
        s.get("broken.aspx", what="the WebEx Settings page")
    err = info.value
    assert isinstance(err, ServerError) and err.exit_code == ExitCode.SERVER_ERROR
    assert err.status == 500
    assert err.tms_text == "Invalid postback or callback argument. Event validation is enabled using"
    assert err.message == f"TMS answered HTTP 500 for the WebEx Settings page: {err.tms_text}"
    assert err.result.status == 500 and "Server Error" in err.result.text
    assert len(server.requests_to("/tms/broken.aspx")) == 1  # a 5xx is not retried


def test_wrong_password_is_an_authentication_error_naming_the_user_and_never_retried(server, pki, canaries):
    wrong = canaries.secret("tms-password")
    with (
        open_session(target_for(server, pki, password=Secret(wrong, "test"))) as s,
        pytest.raises(AuthenticationError) as info,
    ):
        s.get("default.aspx", what="the start page")
    err = info.value
    assert err.exit_code == ExitCode.AUTH
    assert f"'{USER}'" in err.message
    canaries.assert_clean(err.diagnostics(), "the error message")
    assert len(server.seen) == 1 and s.stats.retries == 0 and s.stats.responses_401 == 1


def test_auto_picks_basic_when_the_server_offers_only_basic(server, pki, caplog):
    caplog.set_level(logging.WARNING, logger="tmsclient")
    with open_session(target_for(server, pki, auth="auto")) as s:
        assert s.get("default.aspx", what="the start page").status == 200
        assert s.auth_scheme == "basic"
        assert s.get("default.aspx", what="the start page").status == 200
    # 401 + answer on the first page; later requests carry Basic from the start.
    assert [x.authorization is not None for x in server.seen] == [False, True, True]
    assert s.stats.requests == 3 and s.stats.responses_401 == 1
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "offers only Basic" in warned[0] and PASSWORD not in caplog.text


@pytest.mark.parametrize("challenge", [["NTLM", 'Basic realm="tms"'], ['Basic realm="tms"', "Negotiate"]])
def test_auto_never_sends_basic_to_a_server_that_offers_windows_login(server, pki, caplog, challenge):
    # This server speaks only Basic underneath: the NTLM login fails, and auto must not try Basic instead.
    server.knobs.challenge = challenge
    with open_session(target_for(server, pki, auth="auto")) as s, pytest.raises(AuthenticationError):
        s.get("default.aspx", what="the start page")
    assert s.auth_scheme == "ntlm"
    sent = [x.authorization or "" for x in server.seen]
    assert sent and not any(a.startswith("Basic") for a in sent)
    assert any(a.startswith(("NTLM ", "Negotiate ")) for a in sent)


def test_auto_with_no_scheme_it_speaks_says_what_the_server_offers(server, pki):
    server.knobs.challenge = ['Digest realm="tms", nonce="abc, def"']
    with open_session(target_for(server, pki, auth="auto")) as s, pytest.raises(AuthenticationError) as info:
        s.get("default.aspx", what="the start page")
    assert "offers Digest" in info.value.message
    assert len(server.seen) == 1


def test_explicit_basic_against_a_server_without_basic_names_the_offered_schemes(server, pki):
    server.knobs.challenge = ["Negotiate", "NTLM"]
    with open_session(target_for(server, pki)) as s, pytest.raises(AuthenticationError) as info:
        s.get("default.aspx", what="the start page")
    assert "does not offer basic login" in info.value.message
    assert "(it offers Negotiate, NTLM)" in info.value.message
    assert "--auth auto" in (info.value.hint or "")


def test_403_is_not_an_administrator(server, pki):
    server.knobs.status["/tms/admin.aspx"] = (403, "<title>403 - Forbidden</title>")
    with open_session(target_for(server, pki)) as s, pytest.raises(NotAdministratorError) as info:
        s.get("admin.aspx", what="the configuration page")
    assert info.value.exit_code == ExitCode.NOT_ADMIN
    assert "Site Administrator" in (info.value.hint or "")


def test_404_comes_back_as_a_result_for_the_caller_to_judge(server, pki):
    server.knobs.status["/tms/none.aspx"] = (404, "<title>404</title>")
    with open_session(target_for(server, pki)) as s:
        assert s.get("none.aspx", what="a page").status == 404


# ------------------------------------------------------------------------------------------ POST


def test_post_before_get_is_refused(server, pki):
    with open_session(target_for(server, pki)) as s, pytest.raises(RuntimeError, match="before a successful get"):
        s.post("default.aspx", [("a", "b")], multipart=False, what="the Save")
    assert server.seen == []


def test_post_sends_the_body_once_and_reveals_secrets_only_in_the_request(server, pki, caplog, canaries):
    caplog.set_level(logging.DEBUG, logger="tmsclient")
    pfx_pw = canaries.secret("pfx-password")
    pfx = b"\x30\x82PFX" + bytes(range(256)) * 40
    with open_session(target_for(server, pki)) as s:
        s.get("default.aspx?pageId=83", what="the WebEx Settings page")
        page = s.post(
            "default.aspx?pageId=83",
            [
                ("__VIEWSTATE", "abc"),
                ("ctl00$uxContent$ctl01$ssoCertificate", ("tms.pfx", pfx, "application/x-pkcs12")),
                ("ctl00$uxContent$ctl01$ssoCertificatePassword", Secret(pfx_pw, "test")),
                ("ctl00$uxContent$ctl01$saveButton", "Save"),
            ],
            multipart=True,
            what="the Save",
        )
    assert page.status == 200 and page.method == "POST"
    posts = server.requests_to("/tms/default.aspx", "POST")
    assert len(posts) == 1
    body = posts[0].body
    assert pfx in body and pfx_pw.encode() in body
    # Document order: the file part sits where the page put it, between the view state and the password.
    assert body.index(b"__VIEWSTATE") < body.index(b'filename="tms.pfx"') < body.index(pfx_pw.encode())
    assert s.stats.bytes_sent == len(body)
    assert s.stats.requests == 2
    canaries.assert_clean(caplog.text, "the debug log")
    assert "Authorization" not in caplog.text and "Basic " not in caplog.text
    assert "POST https://127.0.0.1" in caplog.text and "-> 200" in caplog.text


def test_a_post_that_breaks_is_not_retried_and_says_the_body_may_have_arrived(server, pki):
    server.knobs.drop_posts = True
    with open_session(target_for(server, pki)) as s:
        s.get("default.aspx", what="the form")
        with pytest.raises(PostInterruptedError) as info:
            s.post("default.aspx", [("a", "1")], multipart=False, what="the Save")
    assert info.value.body_may_have_arrived is True
    assert isinstance(info.value, ConnectionFailedError)
    assert "may or may not have applied it" in info.value.message
    assert len(server.requests_to("/tms/default.aspx", "POST")) == 1
    assert s.stats.retries == 0


def test_a_post_that_times_out_is_interrupted_not_retried(server, pki):
    server.knobs.hang.add("/tms/save.aspx")
    with open_session(target_for(server, pki, upload_timeout=0.3)) as s:
        s.get("default.aspx", what="the form")
        with pytest.raises(PostInterruptedError, match=r"did not answer the Save within 0\.3 s") as info:
            s.post("save.aspx", [("a", "1")], multipart=False, what="the Save")
    assert info.value.body_may_have_arrived is True
    assert len(server.requests_to("/tms/save.aspx", "POST")) == 1


def test_a_401_on_the_post_is_session_expired_and_not_replayed(server, pki):
    server.knobs.post_status["/tms/default.aspx"] = (401, "")
    with open_session(target_for(server, pki)) as s:
        s.get("default.aspx", what="the form")
        with pytest.raises(SessionExpiredError) as info:
            s.post("default.aspx", [("a", "1")], multipart=False, what="the Save")
    assert isinstance(info.value, AuthenticationError)
    assert "nothing was applied" in info.value.message
    assert len(server.requests_to("/tms/default.aspx", "POST")) == 1


def test_a_302_after_a_post_is_followed_with_a_get(server, pki):
    server.knobs.redirect["/tms/save.aspx"] = (302, "/tms/default.aspx?pageId=83&saved=1")
    with open_session(target_for(server, pki)) as s:
        s.get("default.aspx", what="the form")
        page = s.post("save.aspx", [("a", "1")], multipart=False, what="the Save")
    assert page.url.endswith("pageId=83&saved=1") and page.status == 200
    assert [(x.method, x.path) for x in server.seen][-2:] == [("POST", "/tms/save.aspx"), ("GET", "/tms/default.aspx")]


def test_a_307_after_a_post_is_refused_without_resending(server, pki):
    server.knobs.redirect["/tms/save.aspx"] = (307, "/tms/other.aspx")
    with open_session(target_for(server, pki)) as s:
        s.get("default.aspx", what="the form")
        with pytest.raises(PageNotUnderstoodError, match="never re-sends a POST"):
            s.post("save.aspx", [("a", "1")], multipart=False, what="the Save")
    assert server.requests_to("/tms/other.aspx") == []
    assert len([x for x in server.seen if x.method == "POST"]) == 1


def test_a_500_on_the_post_carries_tms_words(server, pki):
    server.knobs.post_status["/tms/save.aspx"] = (500, "<title>Unable to validate data.</title>")
    with open_session(target_for(server, pki)) as s:
        s.get("default.aspx", what="the form")
        with pytest.raises(HttpServerError) as info:
            s.post("save.aspx", [("a", "1")], multipart=False, what="the Save")
    assert info.value.tms_text == "Unable to validate data."


# ------------------------------------------------------------------------------------------ pure parts


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (YSOD, "Invalid postback or callback argument. Event validation is enabled using"),
        ("<html><h2> <i>Runtime Error</i> </h2></html>", "Runtime Error"),
        ("<html><title>\n\n</title><h1>Bad &amp; worse</h1></html>", "Bad & worse"),
        ("plain text\nsecond line", "plain text"),
        ("", None),
        ("<title>" + "x" * 400 + "</title>", "x" * 297 + "..."),
    ],
)
def test_aspnet_error_text(page, expected):
    assert aspnet_error_text(page) == expected


def test_target_settings_repr_hides_the_password():
    t = TargetSettings(url="https://tms/tms/", username=USER, password=Secret("do-not-show-me", "test"))
    assert "do-not-show-me" not in repr(t)
    assert "do-not-show-me" not in repr(replace(t, pfx_password=Secret("do-not-show-me", "t")))
