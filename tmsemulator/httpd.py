"""The HTTP(S) side as IIS runs it: keep-alive connections, TLS, request bodies, authentication, the test API."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import secrets
import socket
import ssl
import string
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from tmsemulator.app import WebFormsApp, redirect
from tmsemulator.auth import AuthResult, ConnectionAuth
from tmsemulator.config import User
from tmsemulator.errors import ConfigError
from tmsemulator.faults import Faults
from tmsemulator.forms import FormError, content_type_of, parse_form
from tmsemulator.pages import INTERNAL, NOT_FOUND, REQUEST_TOO_LARGE, START_PAGE_ID, error_page

if TYPE_CHECKING:
    from tmsemulator.server import RunningEmulator

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT = 10.0
IDLE_TIMEOUT = 30.0  # seconds a keep-alive connection may sit idle (IIS: 120)
TEST_API = "/__emulator/"
DRAIN_LIMIT = 64 * 1024 * 1024  # an oversized body up to this size is read and discarded, larger ones cut
_SESSION_ALPHABET = string.ascii_lowercase + "012345"


class ConnectionDropped(Exception):
    """Raised to end a request by closing the connection without an answer."""


class EmulatorHttpServer(ThreadingHTTPServer):
    """One thread per connection; TLS is wrapped in that thread; stop() can cut every live socket."""

    daemon_threads = True
    block_on_close = True  # server_close() joins the handler threads, after stop() has cut their sockets
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: RunningEmulator) -> None:
        self.emulator = emulator
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.live: set[socket.socket] = set()
        self.live_lock = threading.Lock()
        super().__init__(address, RequestHandler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        conn = request
        try:
            if self.emulator.tls is not None:
                # The TLS handshake runs here, in the connection's own thread, so a stalled client cannot
                # block accept(); stop() cuts the raw socket if it stalls.
                with self.live_lock:
                    self.live.add(request)
                try:
                    request.settimeout(HANDSHAKE_TIMEOUT)
                    conn = self.emulator.ssl_context.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError) as exc:
                    log.debug("TLS handshake with %s failed: %s", client_address[0], type(exc).__name__)
                    return
                finally:
                    with self.live_lock:
                        self.live.discard(request)
            with self.live_lock:
                self.live.add(conn)
            self.RequestHandlerClass(conn, client_address, self)  # type: ignore[arg-type]
        finally:
            with self.live_lock:
                self.live.discard(conn)
            if conn is not request:
                conn.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address[0], exc_info=True)


class RequestHandler(BaseHTTPRequestHandler):
    """One TCP connection: HTTP/1.1 keep-alive, with the NTLM handshake state bound to it as on IIS."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT
    disable_nagle_algorithm = True  # headers and body go out in separate writes: no delayed-ACK stall between them
    server: EmulatorHttpServer

    def version_string(self) -> str:
        return "Microsoft-IIS/10.0"

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass  # _send logs an access line without anything secret

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s: " + format, self.client_address[0], *args)

    def setup(self) -> None:
        super().setup()
        self.em = self.server.emulator
        self.auth = ConnectionAuth()
        self.connection_id = 0
        self.connection_requests = 0

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    # ----- plumbing ------------------------------------------------------------------------------------
    def _read_body(self) -> bytes | None:
        """The whole body; None when it is larger than the limit (then read and thrown away, so the client
        gets to read the answer instead of a reset while it is still sending)."""
        limit = self.em.config.max_request_bytes
        chunks: list[bytes] = []
        total = 0
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                data = self.rfile.read(size)
                if total <= limit:
                    chunks.append(data)
                self.rfile.readline(1024)
                if total > DRAIN_LIMIT:
                    self.close_connection = True
                    return None
            return b"".join(chunks) if total <= limit else None
        try:
            length = max(0, int(self.headers.get("Content-Length") or 0))
        except ValueError:
            length = 0
        if length <= limit:
            return self.rfile.read(length) if length else b""
        if length > DRAIN_LIMIT:
            self.close_connection = True
            return None
        while length > 0:
            data = self.rfile.read(min(length, 1 << 16))
            if not data:
                break
            length -= len(data)
        return None

    def _send(
        self,
        status: int,
        body: bytes,
        *,
        headers: tuple[tuple[str, str], ...] = (),
        content_type: str = "text/html; charset=utf-8",
        entry: dict[str, Any] | None = None,
    ) -> None:
        if entry is not None:
            # Recorded before the answer leaves: a client that reads the state next must see this request.
            entry["status"] = status
            self.em.data.record_response(entry)
            log.info(
                '%s %s "%s %s" %d %d',
                self.client_address[0],
                entry.get("user") or "-",
                self.command,
                self.path,
                status,
                len(body),
            )
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "private")
        self.send_header("X-AspNet-Version", "4.0.30319")
        self.send_header("X-Powered-By", "ASP.NET")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def drop(self, entry: dict[str, Any]) -> None:
        self.close_connection = True
        entry["status"] = "dropped"
        self.em.data.count("dropped_connections")
        self.em.data.record_response(entry)
        log.info('%s %s "%s %s" dropped', self.client_address[0], entry.get("user") or "-", self.command, self.path)
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        raise ConnectionDropped

    # ----- one request ---------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        if url.path.startswith(TEST_API):
            self._test_api(url.path[len(TEST_API) :])
            return
        state = self.em.data
        if self.connection_requests == 0:
            state.count("connections")
            self.connection_id = self.em.next_connection_id()
        self.connection_requests += 1
        state.count("requests")
        faults = state.faults
        entry: dict[str, Any] = {"connection": self.connection_id, "method": self.command, "path": self.path}
        if faults.delay_ms:
            self.em.stopping.wait(faults.delay_ms / 1000)
        body = self._read_body()
        if self.command == "POST":
            self._record_post_body(body)
        try:
            redirects = self.em.config.redirects
            if "before-login" in redirects and url.path == "/tms/" and not self.auth.user and self.command == "GET":
                # A rule in front of the login (IIS URL Rewrite, httpRedirect): the first answer is a redirect.
                status, html, more = redirect("/tms/default.aspx")
                self._send(status, html.encode(), headers=more, entry=entry)
                return
            result = self._authenticate(faults)
            entry.update(auth=result.scheme, leg=result.leg, user=result.user.login if result.user else None)
            if result.user is None:
                self._send(
                    401,
                    _UNAUTHORIZED,
                    headers=tuple(("WWW-Authenticate", h) for h in result.headers),
                    entry=entry,
                )
                return
            extra = tuple(("WWW-Authenticate", h) for h in result.headers) + self._session_cookie()
            if body is None:
                self._send(500, error_page(REQUEST_TOO_LARGE).encode(), headers=extra, entry=entry)
                return
            status, html, more = self._route(url.path, url.query, body, result.user, entry)
            self._send(status, html.encode("utf-8"), headers=extra + more, entry=entry)
        except ConnectionDropped:
            return
        except (ConnectionError, ssl.SSLError, TimeoutError):
            # The client went away (a read timeout on its side, a closed session): nothing to answer.
            self.close_connection = True
        except Exception:  # an emulator bug must still look like an ASP.NET error, not a dead socket
            log.exception("internal error while answering %s %s", self.command, url.path)
            self.close_connection = True
            self._send(500, error_page(INTERNAL).encode(), entry=entry)

    def _record_post_body(self, body: bytes | None) -> None:
        entry: dict[str, Any] = {
            "connection": self.connection_id,
            "path": self.path,
            "content_type": content_type_of(self.headers.get("Content-Type", "")) or None,
            "bytes": len(body) if body is not None else int(self.headers.get("Content-Length") or 0),
            "sha256": hashlib.sha256(body).hexdigest() if body is not None else None,
            "authorization": (self.headers.get("Authorization") or " ").split(" ")[0] or None,
            "files": [],
            "fields": [],
        }
        if body is not None:
            try:
                form = parse_form(self.headers.get("Content-Type", ""), body)
                entry["files"] = [upload.summary(name) for name, upload in form.files]
                # Names only (values may be secrets): a test checks which buttons a client ever pressed.
                entry["fields"] = [name for name, _ in form.fields] + [name for name, _ in form.files]
            except FormError:
                pass
        self.em.data.record_post_body(entry)

    def _authenticate(self, faults: Faults) -> AuthResult:
        conn, state = self.auth, self.em.data
        if conn.user is not None:
            expired = (
                faults.reauth_every_request
                or conn.generation < state.generation
                or (faults.session_expiry_requests and conn.requests_since_auth >= faults.session_expiry_requests)
                or (
                    faults.session_expiry_seconds
                    and self.em.clock() - conn.authenticated_at >= faults.session_expiry_seconds
                )
            )
            if expired:
                conn.forget()
        result = self.em.authenticator.authenticate(conn, self.headers.get("Authorization"))
        if result.login:
            state.count("logins")
            conn.generation = state.generation
            conn.authenticated_at = self.em.clock()
        if result.failed:
            state.count("failed_logins")
        if result.user is not None:
            conn.requests_since_auth += 1
        return result

    def _session_cookie(self) -> tuple[tuple[str, str], ...]:
        cookies = self.headers.get("Cookie", "")
        for part in cookies.split(";"):
            name, _, value = part.strip().partition("=")
            if name == "ASP.NET_SessionId" and value in self.em.data.sessions:
                return ()
        session = "".join(secrets.choice(_SESSION_ALPHABET) for _ in range(24))
        self.em.data.sessions.add(session)
        return (("Set-Cookie", f"ASP.NET_SessionId={session}; path=/; HttpOnly; SameSite=Lax"),)

    # ----- to the application --------------------------------------------------------------------------
    def _route(
        self, path: str, query: str, body: bytes, user: User, entry: dict[str, Any]
    ) -> tuple[int, str, tuple[tuple[str, str], ...]]:
        lower = path.lower()
        if lower in ("/", "/tms"):
            return redirect("/tms/", 301 if "trailing-slash" in self.em.config.redirects else 302)
        if lower == "/tms/" and not query and "start-page" in self.em.config.redirects and self.command == "GET":
            return redirect("/tms/default.aspx")
        if self.em.replay is not None and lower.startswith("/tms/"):
            # A capture may hold pages at any path under /tms/: the replay routes them itself.
            return WebFormsApp(self.em, user, self).replay(body)
        if lower not in ("/tms/", "/tms/default.aspx"):
            return 404, error_page(NOT_FOUND), ()
        params = parse_qs(query)
        try:
            page_id = int(params.get("pageId", [str(START_PAGE_ID)])[0])
        except ValueError:
            return 404, error_page(NOT_FOUND), ()
        app = WebFormsApp(self.em, user, self)
        site_param = params.get(app.profile.site_param, [None])[0]
        return app.handle(page_id, site_param, body, entry)

    def _test_api(self, action: str) -> None:
        body = self._read_body() or b""
        em = self.em
        if action == "state" and self.command in ("GET", "HEAD"):
            payload: Any = em.state_json()
        elif action == "reset" and self.command == "POST":
            em.reset()
            payload = {"ok": True}
        elif action == "expire-sessions" and self.command == "POST":
            em.expire_sessions()
            payload = {"ok": True}
        elif action == "faults" and self.command == "POST":
            try:
                changes = json.loads(body or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("expected a JSON object")
                payload = em.set_faults(**changes).to_json()
            except (ValueError, ConfigError) as exc:
                text = exc.message if isinstance(exc, ConfigError) else str(exc)
                self._send(400, json.dumps({"error": text}).encode(), content_type="application/json")
                return
        else:
            self._send(
                404,
                json.dumps({"error": f"no test API action {action!r} for {self.command}"}).encode(),
                content_type="application/json",
            )
            return
        self._send(200, json.dumps(payload, indent=2).encode(), content_type="application/json")


_UNAUTHORIZED = (
    b"<!DOCTYPE html><html><head>"
    b"<title>401 - Unauthorized: Access is denied due to invalid credentials.</title>"
    b'</head><body><div id="header"><h1>Server Error</h1></div><div id="content"><fieldset>'
    b"<h2>401 - Unauthorized: Access is denied due to invalid credentials.</h2>"
    b"<h3>You do not have permission to view this directory or page using the credentials that you supplied."
    b"</h3></fieldset></div></body></html>"
)
