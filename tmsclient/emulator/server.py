"""The HTTP(S) server: IIS-like connections and authentication, the /tms/ front controller, the test API."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import secrets
import shutil
import socket
import ssl
import string
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tmsclient.certs.files import write_file_atomic
from tmsclient.emulator.auth import Authenticator, AuthResult, ConnectionAuth, UserDirectory
from tmsclient.emulator.config import EmulatorConfig, User
from tmsclient.emulator.faults import Faults
from tmsclient.emulator.forms import FormError, PostedForm, content_type_of, parse_form
from tmsclient.emulator.pages import (
    BAD_FORM,
    CONTROL_TREE_CHANGED,
    DECOY_PAGES,
    INTERNAL,
    INVALID_POSTBACK,
    NOT_FOUND,
    REQUEST_TOO_LARGE,
    SAVE_FAILED,
    START_PAGE_ID,
    VIEWSTATE_MAC_FAILED,
    Renderer,
    SiteForm,
    error_page,
    page_href,
)
from tmsclient.emulator.pfxcheck import check_pfx
from tmsclient.emulator.profiles import SITE_FIELD_KINDS, PageProfile
from tmsclient.emulator.state import EmulatorState, Site
from tmsclient.emulator.tls import TlsMaterial, make_tls_material
from tmsclient.emulator.viewstate import Codec, EventValidationError, ViewStateError
from tmsclient.errors import ConfigError, ConnectionFailedError

log = logging.getLogger("tmsclient.emulator")

DEFAULT_DOMAIN = "TMSLAB"
GENERATED_ADMIN = "admin"
HANDSHAKE_TIMEOUT = 10.0
IDLE_TIMEOUT = 30.0  # seconds a keep-alive connection may sit idle (IIS: 120)
TEST_API = "/__emulator/"
DRAIN_LIMIT = 64 * 1024 * 1024  # an oversized body up to this size is read and discarded, larger ones cut
_SESSION_ALPHABET = string.ascii_lowercase + "012345"


class _Dropped(Exception):
    """Raised to end a request by closing the connection without an answer."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = True  # server_close() joins the handler threads, after stop() has cut their sockets
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], emulator: RunningEmulator) -> None:
        self.emulator = emulator
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.live: set[socket.socket] = set()
        self.live_lock = threading.Lock()
        super().__init__(address, _Handler)

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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT
    disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms delayed-ACK stall
    server: _Server

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

    def _drop(self, entry: dict[str, Any]) -> None:
        self.close_connection = True
        entry["status"] = "dropped"
        self.em.data.count("dropped_connections")
        self.em.data.record_response(entry)
        log.info('%s %s "%s %s" dropped', self.client_address[0], entry.get("user") or "-", self.command, self.path)
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        raise _Dropped

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
        except _Dropped:
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
        }
        if body is not None:
            try:
                form = parse_form(self.headers.get("Content-Type", ""), body)
                entry["files"] = [upload.summary(name) for name, upload in form.files]
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

    # ----- the application -----------------------------------------------------------------------------
    def _route(
        self, path: str, query: str, body: bytes, user: User, entry: dict[str, Any]
    ) -> tuple[int, str, tuple[tuple[str, str], ...]]:
        lower = path.lower()
        if lower in ("/", "/tms"):
            return 302, _moved("/tms/"), (("Location", "/tms/"),)
        if lower not in ("/tms/", "/tms/default.aspx"):
            return 404, error_page(NOT_FOUND), ()
        params = parse_qs(query)
        try:
            page_id = int(params.get("pageId", [str(START_PAGE_ID)])[0])
        except ValueError:
            return 404, error_page(NOT_FOUND), ()
        site_param = params.get("siteId", [None])[0]
        app = _App(self.em, user, self)
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


def _moved(location: str) -> str:
    return (
        "<html><head><title>Object moved</title></head><body>"
        f'<h2>Object moved to <a href="{location}">here</a>.</h2></body></html>'
    )


class _App:
    """One request's view of the WebForms application (the TMS pages)."""

    def __init__(self, em: RunningEmulator, user: User, handler: _Handler) -> None:
        self.em = em
        self.user = user
        self.handler = handler
        self.profile = em.active_profile()
        self.render = Renderer(self.profile, em.codec, em.config.cert_details)
        self.is_admin = em.directory.is_admin(user)

    def handle(
        self, page_id: int, site_param: str | None, body: bytes, entry: dict[str, Any]
    ) -> tuple[int, str, tuple[tuple[str, str], ...]]:
        p = self.profile
        config_page = page_id in (p.webex_page_id, p.site_page_id) or DECOY_PAGES.get(page_id, ("", False))[1]
        known = page_id == START_PAGE_ID or page_id in DECOY_PAGES or page_id in (p.webex_page_id, p.site_page_id)
        if config_page and not self.is_admin:
            return 200, self.render.access_denied(page_id, self.user.login), ()
        form: PostedForm | None = None
        view: dict[str, Any] | None = None
        if self.handler.command == "POST":
            try:
                form = parse_form(self.handler.headers.get("Content-Type", ""), body)
            except FormError:
                return 500, error_page(BAD_FORM), ()
            checked = self._check_postback(page_id, form)
            if isinstance(checked, tuple):
                return 500, error_page(checked), ()
            view = checked
        if not known:
            return 404, error_page(NOT_FOUND), ()
        if page_id == p.webex_page_id:
            result = self._webex(form, view, entry)
        elif page_id == p.site_page_id:
            result = self._site_page(site_param, form, view, entry)
        elif page_id == START_PAGE_ID:
            result = 200, self.render.start_page(self.user.login), ()
        else:
            result = 200, self.render.decoy_page(page_id, self.user.login), ()
        if self.handler.command == "GET" and page_id in (p.webex_page_id, p.site_page_id) and result[0] == 200:
            self.em.layout_change_after_get()
        return result

    def _check_postback(self, page_id: int, form: PostedForm) -> dict[str, Any] | tuple[str, str]:
        """ASP.NET's order: view state MAC, then the control tree, then event validation."""
        codec = self.em.codec
        try:
            view = codec.decode_view_state(form.get("__VIEWSTATE"))
            validation = codec.decode_event_validation(form.get("__EVENTVALIDATION"))
        except ViewStateError:
            return VIEWSTATE_MAC_FAILED
        if view.get("p") != page_id or view.get("sig") != self.profile.control_tree_signature():
            return CONTROL_TREE_CHANGED
        buttons = self._button_names()
        try:
            for name, value in form.fields:
                if name in buttons:
                    if not validation.rendered(name):
                        raise EventValidationError(name)
                else:
                    validation.check(name, value)
        except EventValidationError:
            return INVALID_POSTBACK
        return view

    def _button_names(self) -> dict[str, str]:
        p = self.profile
        return {
            p.site_prefix + p.save.name: "save",
            p.site_prefix + p.cancel.name: "cancel",
            p.settings_prefix + p.save_global.name: "save_global",
            p.settings_prefix + p.add_site.name: "add_site",
        }

    def _pressed(self, form: PostedForm) -> str | None:
        buttons = self._button_names()
        for name, _ in form.fields:
            if name in buttons:
                return buttons[name]
        return None

    # ----- pages ---------------------------------------------------------------------------------------
    def _settings(self, *, form: SiteForm | None = None, error: str = "", info: str = "") -> str:
        state = self.em.data
        return self.render.webex_page(
            user=self.user.login,
            enable_webex=state.enable_webex,
            add_to_all=state.add_webex_to_all,
            sites=state.site_list(),
            form=form,
            error=error,
            info=info,
        )

    def _form_page(self, form: SiteForm, *, error: str = "", info: str = "") -> str:
        if self.profile.site_page_id is None:
            return self._settings(form=form, error=error, info=info)
        return self.render.site_page(user=self.user.login, form=form, error=error, info=info)

    def _redirect(self, page_id: int, site_id: int | str | None = None) -> tuple[int, str, tuple[tuple[str, str], ...]]:
        location = page_href(self.profile, page_id, site_id).replace("./", "/tms/", 1)
        return 302, _moved(location), (("Location", location),)

    def _webex(
        self, form: PostedForm | None, view: dict[str, Any] | None, entry: dict[str, Any]
    ) -> tuple[int, str, tuple[tuple[str, str], ...]]:
        p = self.profile
        if form is None or view is None:
            return 200, self._settings(), ()
        pressed = self._pressed(form)
        if pressed == "save_global":
            self._save_global(form)
            return 200, self._settings(info=p.saved_text), ()
        if pressed == "add_site":
            if p.site_page_id is not None:
                return self._redirect(p.site_page_id, "new")
            return 200, self._settings(form=_blank_form()), ()
        if pressed in ("save", "cancel") and view.get("v") == "site":
            if pressed == "cancel":
                return 200, self._settings(), ()
            return self._save(form, int(view.get("s") or 0), entry)
        target = form.get("__EVENTTARGET") or ""
        grid = p.settings_prefix + p.grid_name + "$ctl"
        if target.startswith(grid) and target.endswith("$" + p.edit_name):
            index = int(target[len(grid) :].split("$")[0]) - 2
            rows = view.get("rows") or []
            site = self.em.data.site(rows[index]) if 0 <= index < len(rows) else None
            if site is None:
                return 200, self._settings(error="The selected WebEx site no longer exists."), ()
            return 200, self._settings(form=_site_form(site)), ()
        # A postback without an event: the page as it was.
        if view.get("v") == "site":
            site = self.em.data.site(int(view.get("s") or 0))
            return 200, self._settings(form=_site_form(site) if site else _blank_form()), ()
        return 200, self._settings(), ()

    def _site_page(
        self,
        site_param: str | None,
        form: PostedForm | None,
        view: dict[str, Any] | None,
        entry: dict[str, Any],
    ) -> tuple[int, str, tuple[tuple[str, str], ...]]:
        p = self.profile
        assert p.site_page_id is not None
        if site_param == "new":
            site_id = 0
        else:
            try:
                site_id = int(site_param or "")
            except ValueError:
                site_id = -1
        site = self.em.data.site(site_id) if site_id > 0 else None
        if site_id != 0 and site is None:
            return (
                200,
                self.render.site_page(user=self.user.login, form=None, error="The selected WebEx site does not exist."),
                (),
            )
        if form is None or view is None:
            return 200, self._form_page(_site_form(site) if site else _blank_form()), ()
        if view.get("s") != site_id:
            return 500, error_page(CONTROL_TREE_CHANGED), ()
        pressed = self._pressed(form)
        if pressed == "cancel":
            return self._redirect(p.webex_page_id)
        if pressed == "save":
            return self._save(form, site_id, entry)
        return 200, self._form_page(_site_form(site) if site else _blank_form()), ()

    # ----- saving --------------------------------------------------------------------------------------
    def _save_global(self, form: PostedForm) -> None:
        p, state = self.profile, self.em.data
        with state.locked():
            for spec in p.global_fields:
                value = form.get(p.settings_prefix + spec.name)
                if value is not None:
                    setattr(state, spec.key, value == "true")

    def _posted_values(self, form: PostedForm, stored: Site | None) -> dict[str, Any]:
        """The non-secret fields as posted; one the post lacks (or the profile hides) keeps its value."""
        base = _site_form(stored).values if stored else _blank_form().values
        values = dict(base)
        for spec in self.profile.site_fields:
            kind = SITE_FIELD_KINDS[spec.key]
            if kind in ("file", "password"):
                continue
            raw = form.get(self.profile.site_prefix + spec.name)
            if raw is None:
                continue
            values[spec.key] = (raw == "true") if kind == "yesno" else raw
        return values

    def _save(
        self, form: PostedForm, site_id: int, entry: dict[str, Any]
    ) -> tuple[int, str, tuple[tuple[str, str], ...]]:
        p, em = self.profile, self.em
        faults = em.data.faults
        stored = em.data.site(site_id) if site_id else None
        if site_id and stored is None:
            return 200, self._settings(error="The selected WebEx site no longer exists."), ()
        values = self._posted_values(form, stored)
        upload = form.file(p.site_prefix + (p.field("certificate") or _missing("certificate")).name)
        password_spec = p.field("password")
        password = form.get(p.site_prefix + password_spec.name) if password_spec else None
        log_entry: dict[str, Any] = {
            "site_id": site_id or None,
            "user": self.user.login,
            "certificate_sent": bool(upload and upload.has_file),
        }
        if faults.save_500:
            em.data.record_save({**log_entry, "outcome": "fault-500"})
            return 500, error_page(SAVE_FAILED), ()
        if faults.drop_after_save == "not-applied":
            em.data.record_save({**log_entry, "outcome": "dropped-not-applied"})
            self.handler._drop(entry)
        refusal: tuple[str | None, str | None, str | None] | None = None
        certificate = stored.certificate if stored else None
        if not str(values["host_name"]).strip() or not str(values["site_name"]).strip():
            refusal = ("required-fields", "Host Name and Site Name are required.", None)
        elif upload is not None and upload.has_file:
            verdict = check_pfx(upload.data, password or "", em.config.server_os)
            if not verdict.ok:
                refusal = (verdict.check, verdict.message, verdict.detail)
            else:
                certificate = verdict.certificate
        if refusal is not None:
            check, message, detail = refusal
            em.data.record_save(
                {**log_entry, "outcome": "refused", "check": check, "message": message, "detail": detail}
            )
            # Nothing is stored; the form keeps the user's non-secret inputs, never the file or the password.
            shown = SiteForm(site_id, values, stored.certificate if stored else None)
            if faults.drop_after_save == "applied":
                self.handler._drop(entry)
            return 200, self._form_page(shown, error=str(message)), ()
        site = Site(id=site_id, certificate=certificate, **{k: values[k] for k in _SITE_VALUE_KEYS})
        saved = em.data.store_site(site)
        em.data.record_save(
            {
                **log_entry,
                "site_id": saved.id,
                "outcome": "stored",
                "thumbprint_sha1": certificate.thumbprint_sha1 if certificate else None,
            }
        )
        if faults.drop_after_save == "applied":
            self.handler._drop(entry)
        return 200, self._form_page(_site_form(saved), info=p.saved_text), ()


_SITE_VALUE_KEYS = tuple(k for k, kind in SITE_FIELD_KINDS.items() if kind not in ("file", "password"))


def _missing(key: str) -> Any:
    raise RuntimeError(f"the page profile has no {key} field")


def _site_form(site: Site) -> SiteForm:
    return SiteForm(site.id, {k: getattr(site, k) for k in _SITE_VALUE_KEYS}, site.certificate)


def _blank_form() -> SiteForm:
    values: dict[str, Any] = {k: "" for k in _SITE_VALUE_KEYS}
    values.update(bandwidth="Medium", default_site=False, use_global=True, tsp_audio=False, use_sso=False)
    return SiteForm(0, values, None)


class RunningEmulator:
    """A started emulator. Use as a context manager, or call stop()."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._created_dir: Path | None = None
        if config.state_dir is None:
            self._created_dir = Path(tempfile.mkdtemp(prefix="tms-emulator-"))
            self.state_dir = self._created_dir
        else:
            self.state_dir = Path(config.state_dir)
            self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            self._setup()
        except BaseException:
            self._cleanup_dir()
            raise

    def _setup(self) -> None:
        config = self.config
        self.admin_password_file: Path | None = None
        if config.users:
            users = [User(*u) for u in config.users]
            admins = config.admins
        else:
            users = [User(DEFAULT_DOMAIN, GENERATED_ADMIN, secrets.token_urlsafe(18))]
            admins = None
            self.admin_password_file = self.state_dir / "admin-password"
            write_file_atomic(
                self.admin_password_file,
                (users[0].password + "\n").encode(),
                mode=0o600,
                force=True,
                what="generated password file",
            )
        self.directory = UserDirectory(users, admins)
        self.codec = Codec()
        self.data = EmulatorState(config)
        self.stopping = threading.Event()
        #: The clock session expiry reads; tests may replace it.
        self.clock: Callable[[], float] = time.monotonic
        self._connection_ids = 0
        self._id_lock = threading.Lock()
        self.tls: TlsMaterial | None = None
        if config.tls:
            names = [n for n in (config.host, *config.tls_names) if n not in ("0.0.0.0", "::", "")]  # noqa: S104
            self.tls = make_tls_material(self.state_dir, names)
            self.ssl_context = self.tls.server_context()
        realm = config.host if config.host not in ("0.0.0.0", "::") else "localhost"  # noqa: S104
        binding = self.tls.channel_binding_hash() if (self.tls and config.extended_protection) else None
        self.authenticator = Authenticator(config.auth, self.directory, self.state_dir / "ntlm-users", realm, binding)
        try:
            self._server = _Server((config.host, config.port), self)
        except OSError as exc:
            raise ConnectionFailedError(
                f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}",
                hint="choose another --port (0 picks a free one) or --host",
            ) from exc
        self.host = config.host
        self.port = int(self._server.server_address[1])
        url_host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(config.host, config.host)  # noqa: S104
        self._wake_host = url_host
        if ":" in url_host:
            url_host = f"[{url_host}]"
        self.base_url = f"{'https' if self.tls else 'http'}://{url_host}:{self.port}"
        self.url = f"{self.base_url}/tms/"
        self.ca_file: str | None = str(self.tls.ca_file) if self.tls else None
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.5},
            name=f"tms-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        self._stopped = False

    # ----- the in-process API --------------------------------------------------------------------------
    @property
    def users(self) -> tuple[tuple[str, str, str], ...]:
        return tuple(u.as_tuple() for u in self.directory.users)

    @property
    def admin(self) -> tuple[str, str, str] | None:
        """The first Site Administrator as (domain, user, password)."""
        return next((u.as_tuple() for u in self.directory.users if self.directory.is_admin(u)), None)

    @property
    def user(self) -> tuple[str, str, str] | None:
        """The first user who is not a Site Administrator, as (domain, user, password)."""
        return next((u.as_tuple() for u in self.directory.users if not self.directory.is_admin(u)), None)

    def active_profile(self) -> PageProfile:
        return self.config.profile(self.data.active_profile)

    def state_json(self) -> dict[str, Any]:
        snapshot = self.data.snapshot()
        snapshot["emulator"] = {
            "url": self.url,
            "ca_file": self.ca_file,
            "page_profile": self.config.page_profile,
            "webex_page_id": self.active_profile().webex_page_id,
            "site_page_id": self.active_profile().site_page_id,
            "server_os": self.config.server_os,
            "cert_details": self.config.cert_details,
            "auth": self.config.auth,
            "users": [{"login": u.login, "admin": self.directory.is_admin(u)} for u in self.directory.users],
        }
        return snapshot

    def state(self) -> dict[str, Any]:
        """The same JSON as GET /__emulator/state: settings, sites, stored certificates, counters, logs."""
        return self.state_json()

    def reset(self) -> None:
        """Back to the initial data, profile and faults; counters and logs cleared."""
        self.data.reset()

    def set_faults(self, faults: Faults | None = None, **changes: Any) -> Faults:
        """Replace the fault knobs (``faults``) or change some by name; returns the knobs now in force."""
        new = (faults or self.data.faults).with_changes(changes)
        if new.layout_change:
            self.config.profile(new.layout_change)
        self.data.set_faults(new)
        return new

    def expire_sessions(self) -> None:
        """Every connection authenticated so far gets a fresh 401 on its next request."""
        with self.data.locked():
            self.data.generation += 1

    def layout_change_after_get(self) -> None:
        with self.data.locked():
            target = self.data.faults.layout_change
            if target:
                self.data.active_profile = target
                self.data.faults = dataclasses.replace(self.data.faults, layout_change="")

    def next_connection_id(self) -> int:
        with self._id_lock:
            self._connection_ids += 1
            return self._connection_ids

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.stopping.set()
        closer = threading.Thread(target=self._server.shutdown)
        closer.start()
        # serve_forever() notices shutdown only when its select() returns: a connection wakes it now
        # instead of after the poll interval.
        with contextlib.suppress(OSError):
            socket.create_connection((self._wake_host, self.port), timeout=1).close()
        closer.join()
        with self._server.live_lock:
            live = list(self._server.live)
        for conn in live:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        self._thread.join(timeout=10)
        self._cleanup_dir()

    def _cleanup_dir(self) -> None:
        if self._created_dir is not None:
            shutil.rmtree(self._created_dir, ignore_errors=True)
            self._created_dir = None

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RunningEmulator(url={self.url!r}, profile={self.config.page_profile!r})"


def start(config: EmulatorConfig | None = None, **overrides: Any) -> RunningEmulator:
    """Start an emulator in this process (threads); ``overrides`` change fields of ``config``."""
    config = config or EmulatorConfig()
    if overrides:
        config = _with_overrides(config, overrides)
    return RunningEmulator(config)


def _with_overrides(config: EmulatorConfig, overrides: Mapping[str, Any]) -> EmulatorConfig:
    known = {f.name for f in dataclasses.fields(config)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(
            f"unknown emulator setting(s): {', '.join(unknown)}",
            hint=f"known settings: {', '.join(sorted(known))}",
        )
    return dataclasses.replace(config, **overrides)
