"""A hostile TMS for the origin tests: a TLS front of the emulator that, at one stage of a run, points one
thing at a sink on another origin; the sinks, which record everything they receive; and the logins."""

from __future__ import annotations

import base64
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import spnego
from requests.auth import AuthBase

from tests.helpers.tls_front import QuietServer, TlsFront, reply, serve

#: The WebEx Settings page; every foreign URL the hostile TMS serves is this path on the sink.
WEBEX = "/tms/default.aspx?pageId=83"
SAVE_BUTTON = b'name="ctl00$uxContent$ctl01$saveButton"'


# ------------------------------------------------------------------------------------------ the sinks


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
            disable_nagle_algorithm = True

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
        challenges = [("WWW-Authenticate", "Negotiate"), ("WWW-Authenticate", "NTLM")]
        reply(h, 401, b"<title>401 - Unauthorized</title>", [*challenges, ("WWW-Authenticate", 'Basic realm="sink"')])

    def reset(self) -> None:
        self.connections = 0
        self.received = []

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def assert_untouched(self) -> None:
        leaked = [(r.method, r.path, sorted(r.headers)) for r in self.received]
        assert self.connections == 0 and leaked == [], f"the sink got {self.connections} connections: {leaked}"


#: How the hostile TMS names a sink: the same host on another port, plain http, another host name.
FOREIGN_KINDS = ("other-port", "plain-http", "other-host")


def sink_url(kind: str, https: Sink, http: Sink) -> str:
    """The sink's origin as the hostile TMS writes it for one of FOREIGN_KINDS."""
    return {
        "other-port": f"https://127.0.0.1:{https.port}",
        "plain-http": f"http://127.0.0.1:{http.port}",
        "other-host": f"https://localhost:{https.port}",
    }[kind]


# ------------------------------------------------------------------------------------------ the hostile TMS

#: What the hostile TMS turns toward the sink, by stage: ``first`` (the very first request), ``login`` (the
#: first request carrying credentials: NTLM's negotiate leg, Basic's first), ``start`` (the start page),
#: ``settings`` (the WebEx Settings page), ``site`` (the site's form, opened by its Edit postback), ``save``
#: (the answer to the Save, which TMS applied), ``reread`` (the first answer after the Save). Apart from these,
#: ``relogin``: the Save refused with 401, and the POST that logs in again for it redirected.
STAGES = ("first", "login", "start", "settings", "site", "save", "reread")
#: Kinds: ``redirect302``/``redirect307`` replace the answer; ``link`` (the menu entry), ``action`` (the
#: page's form) and ``formaction`` (the Save button) point there; ``formaction+formmethod`` and
#: ``formaction+formenctype`` also make the Save a GET or text/plain.
ATTACKS: dict[str, tuple[str, ...]] = {
    "first": ("redirect302", "redirect307"),
    "login": ("redirect302", "redirect307"),
    "start": ("redirect302", "link"),
    "settings": ("redirect302", "action"),
    "site": ("redirect302", "action", "formaction", "formaction+formmethod", "formaction+formenctype"),
    "save": ("redirect302", "redirect307"),
    "reread": ("redirect302", "action"),
}


class HostileTms(TlsFront):
    """A TLS front of the emulator (one upstream connection per client connection, so NTLM passes) that, once
    armed with ``arm(stage, kind, sink)``, turns one thing at that stage toward ``sink``. With
    ``negotiate_only`` its 401s offer only Negotiate (IIS with the Negotiate provider alone). ``fired`` names
    what it served; a run in which it stays empty did not meet the attack."""

    def __init__(self, upstream: str, upstream_ca: str, cert: tuple[Path, Path], *, negotiate_only: bool = False):
        self.negotiate_only = negotiate_only
        self.lock = threading.Lock()
        self.arm("none", "none", "")
        super().__init__(upstream, upstream_ca, cert)

    def arm(self, stage: str, kind: str, sink: str) -> None:
        self.stage, self.kind, self.sink = stage, kind, sink
        self.fired: list[str] = []
        self.seen = 0
        self.credentials_seen = False
        self.saved = False
        self.refused = False
        self.schemes: set[str] = set()  # the schemes of the Authorization headers received

    def _stage_of(self, method: str, path: str, body: bytes) -> str:
        if self.saved:
            return "reread"
        if method == "POST":
            return "save" if b"saveButton" in body else "site" if b"editLink" in body else "other"
        return "settings" if "pageId=83" in path else "start"

    def exchange(self, h: Any, body: bytes) -> None:
        with self.lock:
            first, self.seen = self.seen == 0, self.seen + 1
            login = "Authorization" in h.headers and not self.credentials_seen
            if "Authorization" in h.headers:
                self.schemes.add(h.headers["Authorization"].split(" ", 1)[0].lower())
            self.credentials_seen = self.credentials_seen or login
        stage = self._stage_of(h.command, h.path, body)
        if (self.stage == "first" and first) or (self.stage == "login" and login):
            return self._redirect(h)
        if self.stage == "relogin" and h.command == "POST" and self._relogin(h, stage, "Authorization" in h.headers):
            return None
        status, headers, data = self.forward(h, body)
        if status == 401 and self.negotiate_only:
            headers = [(k, v) for k, v in headers if k.lower() != "www-authenticate" or v.startswith("Negotiate")]
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

    def _relogin(self, h: Any, stage: str, with_credentials: bool) -> bool:
        """Stage ``relogin``: the Save is refused with 401 (not forwarded, so not applied), as when the login
        did not carry over; the POST that logs in again is redirected to the sink. True if it answered."""
        if stage == "save" and not with_credentials and not self.refused:
            self.refused = True
            offered = ["Negotiate"] if self.negotiate_only else ["Negotiate", "NTLM"]
            reply(h, 401, b"", [("WWW-Authenticate", o) for o in offered])
            return True
        if self.refused and with_credentials and not self.fired:
            self._redirect(h)
            return True
        return False

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
        extra = {
            "formaction": b"",
            "formaction+formmethod": b' formmethod="get"',
            "formaction+formenctype": b' formenctype="text/plain"',
        }[self.kind]
        return data.replace(SAVE_BUTTON, SAVE_BUTTON + b' formaction="' + sink + b'"' + extra)


# ------------------------------------------------------------------------------------------ the logins


@dataclass(frozen=True)
class Login:
    """One way tmsclient logs in: what the server offers and what ``--auth`` says."""

    id: str
    server: str  # "ntlm" (Negotiate and NTLM), "negotiate" (Negotiate only), "basic"
    client: str  # --auth

    @property
    def emulator_auth(self) -> str:
        return "basic" if self.server == "basic" else "ntlm"


LOGINS = (
    Login("ntlm", "ntlm", "ntlm"),
    Login("negotiate", "negotiate", "negotiate"),
    Login("ntlm-in-negotiate", "negotiate", "ntlm"),
    Login("basic", "basic", "basic"),
    Login("auto-ntlm", "ntlm", "auto"),
    Login("auto-negotiate", "negotiate", "auto"),
    Login("auto-basic", "basic", "auto"),
)


class NegotiateStandIn(AuthBase):
    """What ``--auth negotiate`` hands requests (requests-kerberos): a handler that answers a 401 offering
    Negotiate with SPNEGO tokens on the same connection, leg after leg, through the session's adapter. Without
    a KDC here the SPNEGO tokens carry NTLM (pyspnego's fallback), which the emulator's Negotiate accepts;
    what matters to the origin rule is only where the tokens go."""

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.register_hook("response", self._on_response)
        return r

    def _on_response(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        if r.status_code != 401 or "negotiate" not in r.headers.get("WWW-Authenticate", "").lower():
            return r
        host = urlsplit(r.url).hostname or ""
        ctx = spnego.client(self.username, self.password, hostname=host, service="http", protocol="negotiate")
        token = ctx.step()
        while token is not None:
            r.content  # noqa: B018 - read, so the next leg goes on the same connection
            r.raw.release_conn()
            prep = r.request.copy()
            prep.headers["Authorization"] = "Negotiate " + base64.b64encode(token).decode()
            again: requests.Response = r.connection.send(prep, **kwargs)
            again.history.append(r)
            again.request = prep
            r = again
            offered = [p.strip() for p in r.headers.get("WWW-Authenticate", "").split(",")]
            challenge = next((p[len("Negotiate ") :] for p in offered if p.startswith("Negotiate ")), None)
            if r.status_code != 401 or not challenge or ctx.complete:
                return r
            token = ctx.step(base64.b64decode(challenge))
        return r


def negotiate_stand_in(real: Callable[..., AuthBase], username: str, password: str) -> Callable[..., AuthBase]:
    """A ``session_auth`` that gives :class:`NegotiateStandIn` for ``negotiate`` and ``real``'s handler else."""

    def make(scheme: str, user: str | None, secret: Any) -> AuthBase:
        return NegotiateStandIn(username, password) if scheme == "negotiate" else real(scheme, user, secret)

    return make
