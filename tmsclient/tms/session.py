"""One authenticated HTTP session per TMS target: TLS policy, timeouts, GET-only retries, errors mapped."""

from __future__ import annotations

import contextlib
import html
import logging
import re
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import requests.certs
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import InsecureRequestWarning, NameResolutionError

from tmsclient import __version__
from tmsclient.errors import (
    AuthenticationError,
    ConfigError,
    ConnectionFailedError,
    NotAdministratorError,
    PageNotUnderstoodError,
    RequestTimeoutError,
    ServerError,
    TLSError,
    TmsClientError,
)
from tmsclient.settings import TargetSettings, http_refused
from tmsclient.tms.auth import (
    KeepAliveOnly,
    NtlmPostHandshake,
    offered_schemes,
    peer_certificate_hash,
    post_auth,
    remember_binding,
    scheme_in_use,
    session_auth,
)
from tmsclient.tms.origin import Origin, origin_text, same_origin
from tmsclient.tms.webforms.encoding import FieldValue, FilePart, encode_form

log = logging.getLogger(__name__)

GET_RETRIES = 2
#: Challenges each scheme's handler answers (requests-ntlm answers Negotiate with NTLM too).
_ANSWERS = {"ntlm": ("ntlm", "negotiate"), "basic": ("basic",), "negotiate": ("negotiate",)}
RETRY_BACKOFF_S = 0.5
#: The largest answer read, counted both as it arrives (compressed) and as it decodes; a TMS page is tens of
#: kilobytes, and parse_page refuses more characters than this anyway.
MAX_BODY_BYTES = 16 * 1024 * 1024
#: Bodies of 401s and redirects nobody reads are drained up to this, so the connection can be reused;
#: a longer one drops the connection instead.
MAX_DRAIN_BYTES = 64 * 1024
_CHUNK = 64 * 1024


# --------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class HttpResult:
    """A page as the session read it: the final URL (after redirects), status, text and headers."""

    method: str
    url: str
    status: int
    text: str
    headers: Mapping[str, str]
    elapsed: float  # seconds for the whole call, handshake and redirects included
    redirected: bool = False  # a POST TMS answered with 301/302/303, followed with a GET to this page


@dataclass(frozen=True)
class SessionStats:
    """Counters for ``--json`` and benchmarks; every NTLM leg, redirect and retry is a request."""

    requests: int = 0
    responses_401: int = 0
    bytes_sent: int = 0  # request bodies only
    retries: int = 0
    elapsed: float = 0.0  # seconds spent inside get()/post()


class SessionExpiredError(AuthenticationError):
    """Raised when a POST gets 401 because the login from the GET did not carry over. Nothing was applied; the
    caller GETs and posts again."""

    body_may_have_arrived = False


class PostInterruptedError(ConnectionFailedError):
    """Raised when the connection fails during a POST. ``body_may_have_arrived`` says whether TMS may have
    applied it."""

    def __init__(
        self, message: str, *, body_may_have_arrived: bool, hint: str | None = None, timed_out: bool = False
    ) -> None:
        super().__init__(message, hint=hint)
        self.body_may_have_arrived = body_may_have_arrived
        #: TMS did not answer in time: it may still be working on the request when we re-read.
        self.timed_out = timed_out


class HttpServerError(ServerError):
    """Raised when TMS answers HTTP 5xx; carries ``status``, TMS's own words (``tms_text``, the error page's
    first line) and the page."""

    def __init__(
        self, message: str, *, status: int, tms_text: str | None, result: HttpResult, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.tms_text = tms_text
        self.result = result


class OffOriginError(PageNotUnderstoodError):
    """Raised before sending when a redirect, form action, formaction or link leads to another origin than
    ``--url``; nothing went there.

    ``origin`` is the foreign origin (scheme://host[:port], never the path). ``body_may_have_arrived`` is set
    when TMS itself answered a POST with the redirect: TMS got the form and may have applied it.
    """

    def __init__(
        self, message: str, *, origin: str, hint: str | None = None, body_may_have_arrived: bool = False
    ) -> None:
        super().__init__(message, hint=hint)
        self.origin = origin
        self.body_may_have_arrived = body_may_have_arrived


class PostRedirectFailedError(PostInterruptedError):
    """Raised, for a POST that may change what TMS stores (``post(..., changes_tms=True)``: the Save), when TMS
    answered it with a redirect on its own origin and reading the page it pointed to failed (the connection
    broke or timed out, TLS failed, a login or a limit failed): TMS ran the POST and may have applied it.
    ``answer`` says what TMS answered and what failed, for the caller's message; the GET's error is the cause.
    """

    def __init__(self, message: str, *, answer: str, hint: str | None = None) -> None:
        super().__init__(message, body_may_have_arrived=True, hint=hint)
        self.answer = answer


class PostReplayRefusedError(PageNotUnderstoodError):
    """Raised when TMS answers a POST with 307/308 (send the form again), which is never done: TMS got the form
    and may have applied it."""

    body_may_have_arrived = True

    def __init__(self, message: str, *, status: int, location: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.location = location


class _DeadlinePassed(requests.exceptions.ReadTimeout):
    """Raised inside the adapter when a request (connect, headers and body) runs past its deadline."""


class _BodyTooLarge(Exception):
    """Raised inside the adapter when an answer passes MAX_BODY_BYTES, compressed or decoded."""


class _OffTarget(Exception):
    """Raised inside the adapter when a request would leave the origin of ``--url``."""

    def __init__(self, url: str) -> None:
        super().__init__("another origin")
        self.url = url


# --------------------------------------------------------------------------------------------- pure helpers


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_H2_I = re.compile(r"<h2[^>]*>\s*<i>(.*?)</i>\s*</h2>", re.I | re.S)
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
MAX_TMS_TEXT = 300


def aspnet_error_text(page: str) -> str | None:
    """The first line of an ASP.NET/IIS error page's title (or heading), trimmed; None if there is none."""
    for pattern in (_TITLE, _H2_I, _H1):
        m = pattern.search(page)
        if m:
            text = _first_line(m.group(1))
            if text:
                return text
    return _first_line(_TAG.sub("\n", page))


def _first_line(fragment: str) -> str | None:
    text = html.unescape(_TAG.sub(" ", fragment))
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= MAX_TMS_TEXT else line[: MAX_TMS_TEXT - 3] + "..."
    return None


def _body_length(body: Any) -> int:
    if body is None:
        return 0
    if isinstance(body, str):
        return len(body.encode("utf-8"))
    if isinstance(body, (bytes, bytearray)):
        return len(body)
    return 0  # a stream: never used here


def _find(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """Walk an exception's args, causes and contexts (urllib3 nests them) for one of ``kind``."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        e = stack.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, kind):
            return e
        stack.extend([e.__cause__, e.__context__, getattr(e, "reason", None), *e.args])
    return None


# --------------------------------------------------------------------------------------------- transport


#: The deadline of the request this thread is sending, for the watchdog on the response headers.
_DEADLINE = threading.local()


def _cut(conn: HTTPConnection) -> None:
    """Shut the socket of a request past its deadline, so that a read blocked in it returns."""
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            # The plain socket's shutdown, also for TLS: SSLSocket.shutdown would unwrap under the reader.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _headers_by(conn: HTTPConnection, read: Any) -> Any:
    """``read()`` (the status line and headers), cut off at the thread's deadline: a socket timeout bounds
    each read only, and a server sending a byte at a time would never trip it."""
    deadline: float | None = getattr(_DEADLINE, "value", None)
    if deadline is None:
        return read()
    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _cut, (conn,))
    watchdog.daemon = True
    watchdog.start()
    try:
        response = read()
    finally:
        watchdog.cancel()
    if time.monotonic() >= deadline:
        # Cut mid-headers, http.client may still make a (broken) response of what had come: it is a timeout.
        response.close()
        raise TimeoutError("the status line and headers did not arrive in time")
    return response


class _DeadlineHTTPConnection(HTTPConnection):
    def getresponse(self) -> Any:
        return _headers_by(self, super().getresponse)


class _DeadlineHTTPSConnection(HTTPSConnection):
    def getresponse(self) -> Any:
        return _headers_by(self, super().getresponse)


class _DeadlineHTTPPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


def _set_socket_timeout(response: requests.Response, seconds: float) -> None:
    conn = getattr(response.raw, "_connection", None)
    sock = getattr(conn, "sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.001))


def read_body(response: requests.Response, deadline: float, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body of a streamed response, by ``deadline`` (monotonic) and within ``limit`` bytes both
    as received and as decoded; :class:`_DeadlinePassed` or :class:`_BodyTooLarge` (the connection dropped)
    otherwise."""
    chunks: list[bytes] = []
    size = 0
    raw = response.raw
    conn = getattr(raw, "_connection", None)
    # A read of a length waits for all of it, one byte per socket timeout if the server drips: the watchdog
    # cuts the connection at the deadline.
    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _cut, (conn,)) if conn is not None else None
    if watchdog is not None:
        watchdog.daemon = True
        watchdog.start()
    try:
        _set_socket_timeout(response, deadline - time.monotonic())
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > limit or raw.tell() > limit:
                raise _BodyTooLarge(f"more than {limit:,} bytes")
            chunks.append(chunk)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _DeadlinePassed("the answer did not arrive in time")
            _set_socket_timeout(response, remaining)
    except (_BodyTooLarge, _DeadlinePassed):
        response.close()
        raise
    except requests.exceptions.RequestException as exc:
        response.close()
        if time.monotonic() >= deadline or _find(exc, TimeoutError) is not None:
            raise _DeadlinePassed("the answer did not arrive in time") from exc
        raise
    finally:
        if watchdog is not None:
            watchdog.cancel()
    return b"".join(chunks)


def _drain(response: requests.Response, deadline: float) -> bytes:
    """The start of a body nobody reads (a 401's, a redirect's): up to MAX_DRAIN_BYTES, else the connection
    is dropped rather than read to its end."""
    try:
        return read_body(response, deadline, MAX_DRAIN_BYTES)
    except _BodyTooLarge:
        log.debug("dropped the connection: the body of HTTP %d is over %d bytes", response.status_code, MAX_DRAIN_BYTES)
        return b""


class _TargetAdapter(HTTPAdapter):
    """Every request of the session, NTLM legs included, passes here: policy, verify, timeout, counters."""

    def __init__(self, owner: TmsSession) -> None:
        super().__init__(max_retries=0)
        self._owner = owner

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _DeadlineHTTPPool, "https": _DeadlineHTTPSPool}

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        owner = self._owner
        owner._check_url(request.url or "")
        nbytes = _body_length(request.body)
        owner._count(requests=1, bytes_sent=nbytes)
        # One deadline for the whole request: connecting, the headers and the whole body.
        connect, total = timeout if isinstance(timeout, tuple) else owner._read_timeout
        deadline = time.monotonic() + total
        _DEADLINE.value = deadline
        try:
            # verify is the target's, whatever the caller or the environment (REQUESTS_CA_BUNDLE) says.
            response = super().send(
                request,
                stream=True,
                timeout=(min(connect, total), total),
                verify=owner.verify,
                cert=cert,
                proxies=proxies,
            )
            if not stream:
                # Read here, so the NTLM handler, which reads each 401 before its next leg, reads it bounded.
                status = response.status_code
                unread = status == 401 or (300 <= status < 400 and response.headers.get("Location"))
                if status == 401:
                    remember_binding(response)
                response._content = _drain(response, deadline) if unread else read_body(response, deadline)
                response._content_consumed = True
        except requests.exceptions.ConnectionError as exc:
            log.debug("%s %s -> %s (%d bytes sent)", request.method, request.url, type(exc).__name__, nbytes)
            if time.monotonic() >= deadline and not isinstance(exc, requests.exceptions.Timeout):
                raise _DeadlinePassed("the answer did not arrive in time") from exc
            raise
        except Exception as exc:
            log.debug("%s %s -> %s (%d bytes sent)", request.method, request.url, type(exc).__name__, nbytes)
            raise
        finally:
            _DEADLINE.value = None
        if request.method != "POST" and response.is_redirect:
            # Refused here, not only when requests follows it: a login handler's own legs are never followed,
            # and a redirect in place of an NTLM challenge would read as a broken handshake.
            location = _resolve(request.url or "", response.headers["Location"])
            if not same_origin(location, owner.target.url):
                response.close()
                raise _OffTarget(location)
        if response.status_code == 401:
            owner._count(responses_401=1)
            owner._offered = offered_schemes(response.headers.get("WWW-Authenticate", "")) or owner._offered
        log.debug(
            "%s %s -> %d (%d bytes sent, %s bytes received)",
            request.method,
            request.url,
            response.status_code,
            nbytes,
            response.headers.get("Content-Length", "?"),
        )
        return response


class TmsSession:
    """ONE requests.Session for one TMS target; a context manager.

    Contract for the form driver (and anyone else posting through a TmsSession):

    * **GET before POST.** ``post()`` refuses to run before a successful ``get()`` on the same session. NTLM
      authenticates the TCP connection, so the GET of the form logs in (3 requests: 401, challenge, answer) and
      the POST then travels on that authenticated keep-alive connection: the .pfx crosses the wire once.
    * **The session never re-sends a POST body by itself.** A POST goes without an NTLM/Negotiate handshake
      handler, with ``allow_redirects=False``, and is never retried.

      - TMS answers the POST with 401 (the connection closed or the login expired between GET and POST):
        :class:`SessionExpiredError` (an AuthenticationError). Nothing was applied: IIS refuses before the page
        runs. The caller may GET the form again (which logs in again) and post once more *deliberately*, with
        ``post(..., handshake=True)``: an NTLM session then logs in on the POST itself, the body only on the
        last leg (2 requests, body once), which also serves a server that authenticates every request (IIS
        ``authPersistSingleRequest``).
      - The connection breaks or the read times out after the body went out: :class:`PostInterruptedError`
        (a ConnectionFailedError) with ``body_may_have_arrived=True``. TMS may or may not have applied it: the
        caller must re-read the page and report what it finds (OutcomeUnknownError when it cannot tell).
        A failure to connect at all gives ``body_may_have_arrived=False``.
      - 301/302/303 after a POST (the post-redirect-get pattern) are followed with a GET; 307/308, which would
        make a client replay the body, are refused with PageNotUnderstoodError. A redirect to another origin
        is never followed: OffOriginError with ``body_may_have_arrived=True`` (TMS got the form).
    * **GETs are retried** (twice, with backoff) on connection errors only: never on a timeout, a TLS failure,
      a DNS failure or any HTTP status (never on a 401).
    * **The origin rule**: a request leaves only for the origin of ``--url`` (scheme, host in any case and
      effective port, :func:`tmsclient.tms.origin.same_origin`). ``get()``/``post()`` check the URL they are given
      (a link, a form's action, a button's formaction) before anything is sent, and the adapter checks every
      request again, so a redirect or an NTLM leg cannot leave either: :class:`OffOriginError` naming the
      foreign origin, nothing sent there, so no 401 from another origin is ever answered with credentials.
    * **Errors**: 401 after the handshake -> AuthenticationError (names the user, never the password);
      no NTLM challenge -> AuthenticationError with a scheme hint; 403 -> NotAdministratorError; untrusted TLS
      -> TLSError (hint --ca-bundle); http:// without allow_http -> TLSError; refused or
      unresolvable host -> ConnectionFailedError; timeout -> RequestTimeoutError; HTTP 5xx -> HttpServerError
      (a ServerError) with ``.status``, the ASP.NET error title (``.tms_text``) and the page (``.result``).
      Other statuses (200, 404, ...) come back as results for the caller to judge.
    * **TLS**: ``verify`` is forced on every request at the adapter (the CA bundle path, ``False`` for
      ``--insecure``, else requests' own certifi bundle as an explicit path), so ``REQUESTS_CA_BUNDLE`` and
      ``CURL_CA_BUNDLE`` can never change which certificates are trusted. NTLM channel binding comes from the
      peer certificate of the connection that carries the handshake, never from an earlier connection's.
    * **Bounds**: each request (every NTLM leg and redirect is one) ends by one deadline, ``--timeout``
      (``--upload-timeout`` for a POST), for connecting, the headers and the whole body; a body stops at
      MAX_BODY_BYTES as received and as decoded (PageNotUnderstoodError; after a POST, PostInterruptedError);
      the bodies of 401s and redirects are read up to MAX_DRAIN_BYTES, then the connection is dropped.
    * **Counters** (``stats``) are kept at the adapter, so every NTLM leg, redirect and retry counts.
    * **Logging** (debug): method, URL, status and byte counts; never headers or bodies.
    """

    def __init__(
        self, target: TargetSettings, *, get_retries: int = GET_RETRIES, retry_backoff: float = RETRY_BACKOFF_S
    ) -> None:
        self.target = target
        parts = urlsplit(target.url)
        if parts.scheme == "http" and not target.allow_http:
            raise http_refused(target.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"got {target.url!r} as the TMS URL, expected https://HOST/tms/")
        self._host = parts.hostname.lower()
        origin = Origin.of(target.url)
        assert origin is not None  # an http(s) URL with a host, checked above
        self.origin = origin
        self._get_retries = get_retries
        self._retry_backoff = retry_backoff
        self._read_timeout = (target.timeout, target.timeout)
        self._post_timeout = (target.timeout, target.upload_timeout)
        self.verify: bool | str = self._verify_setting(target)
        self._stats: dict[str, float] = {
            k: 0 for k in ("requests", "responses_401", "bytes_sent", "retries", "elapsed")
        }
        self._got_page = False
        self._offered: tuple[str, ...] = ()  # schemes in the last 401
        self._auth = session_auth(target.auth, target.username, target.password)
        if parts.scheme == "http" and target.username:
            log.warning(
                "--allow-http: the login of %s to %s crosses the network unencrypted (and with it any "
                ".pfx and its password); use https",
                self._user(),
                self.origin,
            )

        self._session = requests.Session()
        self._session.headers["User-Agent"] = f"tmsclient/{__version__} (python-requests)"
        self._session.auth = self._auth
        adapter = _TargetAdapter(self)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    @staticmethod
    def _verify_setting(target: TargetSettings) -> bool | str:
        if target.insecure:
            log.warning(
                "TLS verification is OFF for %s (--insecure): anyone on the network path can read "
                "the password and the .pfx; use --ca-bundle instead",
                target.host,
            )
            # Silence urllib3's per-request warning for this host only, and only because the user asked.
            host = re.escape(target.host)
            warnings.filterwarnings(
                "ignore",
                category=InsecureRequestWarning,
                message=rf"Unverified HTTPS request is being made to host '{host}'",
            )
            return False
        if target.ca_bundle is not None:
            return str(target.ca_bundle)
        return requests.certs.where()

    # -- context manager

    def __enter__(self) -> TmsSession:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    # -- public API

    @property
    def stats(self) -> SessionStats:
        s = self._stats
        return SessionStats(
            requests=int(s["requests"]),
            responses_401=int(s["responses_401"]),
            bytes_sent=int(s["bytes_sent"]),
            retries=int(s["retries"]),
            elapsed=s["elapsed"],
        )

    @property
    def auth_scheme(self) -> str | None:
        """The scheme in use (``ntlm``, ``basic``, ``negotiate``); None before auto has seen a 401."""
        return scheme_in_use(self._auth)

    def url_for(self, path: str) -> str:
        """``path`` resolved against the base URL (``default.aspx?pageId=83`` -> absolute)."""
        return urljoin(self.target.url, path)

    def get(self, url: str, *, what: str, source: str | None = None) -> HttpResult:
        """GET a page (relative to the base URL or absolute on its origin), logging in as needed.

        ``source`` names where the URL came from (``the menu entry ...``) for the error if it leaves the origin.
        """
        url = self.url_for(url)
        self.require_origin(url, what=what, source=source)
        started = time.monotonic()
        attempt = 0
        try:
            while True:
                try:
                    response = self._session.get(
                        url, timeout=self._read_timeout, verify=self.verify, allow_redirects=True
                    )
                    break
                except requests.exceptions.ConnectionError as exc:
                    final = isinstance(exc, (requests.exceptions.SSLError, requests.exceptions.Timeout))
                    if final or attempt >= self._get_retries or _is_dns_failure(exc):
                        raise
                    attempt += 1
                    self._count(retries=1)
                    log.info(
                        "retrying GET %s after %s (attempt %d of %d)",
                        url,
                        type(exc).__name__,
                        attempt + 1,
                        self._get_retries + 1,
                    )
                    time.sleep(self._retry_backoff * 2 ** (attempt - 1))
        except TmsClientError:
            raise
        except Exception as exc:
            raise self._map_exception(exc, url, what, "GET") from exc
        finally:
            self._count(elapsed=time.monotonic() - started)
        result = self._result(response, started)
        self._check_status(response, result, what)
        self._got_page = True
        return result

    def post(
        self,
        url: str,
        fields: Sequence[tuple[str, FieldValue]],
        files: Sequence[tuple[str, FilePart]] = (),
        *,
        multipart: bool,
        what: str,
        handshake: bool = False,
        source: str | None = None,
        changes_tms: bool = False,
    ) -> HttpResult:
        """POST a form once, on the connection the last GET authenticated; never retried or replayed.

        ``handshake=True`` (for a deliberate re-post after SessionExpiredError) makes an NTLM session log in
        on the POST itself, the body on the last leg only: 2 requests, the body once. ``changes_tms=True`` (the
        Save): when following TMS's redirect fails, the error is a PostRedirectFailedError, since TMS ran the
        POST before it answered.
        """
        url = self.url_for(url)
        self.require_origin(url, what=what, source=source)
        auth = post_auth(self._auth)
        if not self._got_page or auth is None:
            raise RuntimeError(
                "TmsSession.post() before a successful get(): the form must be read first "
                "so the POST travels on an authenticated connection"
            )
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        started = time.monotonic()
        try:
            if handshake and self.auth_scheme == "ntlm":
                headers["Authorization"] = self._post_handshake(url, what)
            body, headers["Content-Type"] = encode_form(fields, files, multipart=multipart)
            try:
                response = self._session.post(
                    url,
                    data=body,
                    headers=headers,
                    auth=auth,
                    timeout=self._post_timeout,
                    verify=self.verify,
                    allow_redirects=False,
                )
            finally:
                del body
        except TmsClientError:
            raise
        except Exception as exc:
            raise self._map_exception(exc, url, what, "POST") from exc
        finally:
            self._count(elapsed=time.monotonic() - started)
        if response.status_code == 401:
            if "Authorization" in headers:
                raise self._auth_failure(response, what)
            raise SessionExpiredError(
                f"TMS answered {what} with 401: the login of {self._user()} did not carry over from reading "
                "the page (connection closed, session expired, or IIS authenticates every request); "
                "nothing was applied",
                hint="read the form again and post once more (TmsSession.post(..., handshake=True))",
            )
        if response.status_code in (301, 302, 303, 307, 308):
            location = _resolve(response.url, response.headers.get("Location", ""))
            if not same_origin(location, self.target.url):
                response.close()
                foreign = origin_text(location)
                raise OffOriginError(
                    f"TMS answered {what} with {response.status_code} to {foreign}, another origin than "
                    f"{self.origin} (--url); tmsclient did not follow it and sent nothing there, so what TMS "
                    "did with the form is unknown",
                    origin=foreign,
                    body_may_have_arrived=True,
                    hint="run `tmsclient verify` (or look at the site in TMS) to see what TMS stored",
                )
        if response.status_code in (301, 302, 303):
            response.close()
            log.debug("POST answered %d; following to %s with GET", response.status_code, location)
            try:
                after = self.get(location, what=f"{what} (after its redirect)")
            except OffOriginError as exc:
                # TMS answered the POST before the redirects left the origin: it got the form.
                raise OffOriginError(exc.message, origin=exc.origin, hint=exc.hint, body_may_have_arrived=True) from exc
            except HttpServerError:
                raise  # the page TMS pointed to is an error page: the caller judges it (result.method is GET)
            except TmsClientError as exc:
                if not changes_tms:
                    raise
                answer = f"a redirect to {location}, and reading that page failed ({exc.message})"
                raise PostRedirectFailedError(
                    f"TMS answered {what} with {answer}; TMS may or may not have applied it",
                    answer=answer,
                    hint="re-read the page to see what TMS stored",
                ) from exc
            elapsed = time.monotonic() - started
            return HttpResult("POST", after.url, after.status, after.text, after.headers, elapsed, redirected=True)
        if response.status_code in (307, 308):
            location = response.headers.get("Location", "?")
            raise PostReplayRefusedError(
                f"TMS answered {what} with {response.status_code} to {location}, "
                "which asks to send the form again; tmsclient never re-sends a POST by itself",
                hint="check --url (use the address TMS redirects to), then rerun",
                status=response.status_code,
                location=location,
            )
        result = self._result(response, started)
        self._check_status(response, result, what)
        return result

    def require_origin(self, url: str, *, what: str, source: str | None = None) -> None:
        """Refuse ``url`` (absolute) unless it is on the origin of ``--url``; nothing is sent either way."""
        if same_origin(url, self.target.url):
            return
        foreign = origin_text(url)
        where = source or f"the address of {what}"
        raise OffOriginError(
            f"{where} points to {foreign}, another origin than the TMS at {self.origin} (--url); tmsclient "
            "sends nothing outside the scheme, host and port of --url, so nothing was sent there",
            origin=foreign,
            hint="this is not the page tmsclient expects from TMS: look at it in a browser, and check any "
            "proxy in front of TMS",
        )

    # -- internals

    def _post_handshake(self, url: str, what: str) -> str:
        """Leg 1 of a POST handshake: an empty POST with the NEGOTIATE message; returns leg 2's header."""
        scheme = "NTLM" if "ntlm" in self._offered or not self._offered else "Negotiate"
        user, password = self.target.username, self.target.password
        if not user or password is None:  # ntlm is only ever chosen with both
            raise RuntimeError("an NTLM POST handshake needs the user name and password")
        hs = NtlmPostHandshake(user, password, self._host, scheme)
        try:
            # Streamed, so the connection's socket is still there to name the certificate the binding is for.
            first = self._session.post(
                url,
                data=b"",
                headers={"Authorization": hs.negotiate(), "Content-Type": "application/x-www-form-urlencoded"},
                auth=KeepAliveOnly(),
                timeout=self._read_timeout,
                verify=self.verify,
                allow_redirects=False,
                stream=True,
            )
            binding = peer_certificate_hash(first)
            # Drained, so the body leg reuses this very connection.
            first._content = _drain(first, time.monotonic() + self.target.timeout)
            first._content_consumed = True
        except requests.exceptions.SSLError as exc:
            raise self._tls_error(exc, what) from exc
        except (requests.exceptions.RequestException, _BodyTooLarge) as exc:
            raise PostInterruptedError(
                f"the login on {what} failed before the form went out ({_short_reason(exc)}); nothing was sent",
                body_may_have_arrived=False,
                hint="check the connection to TMS, then rerun",
            ) from exc
        if first.is_redirect:
            location = _resolve(url, first.headers["Location"])
            if not same_origin(location, self.target.url):
                raise self._map_exception(_OffTarget(location), url, what, "POST")
        challenge = first.headers.get("WWW-Authenticate", "")
        answer = hs.authenticate(challenge, binding) if first.status_code == 401 else None
        if answer is None:
            raise AuthenticationError(
                f"TMS answered the NTLM negotiate message on {what} with HTTP {first.status_code} and no "
                "challenge; the form was not sent",
                hint="check that IIS Windows Authentication (NTLM) is on for /tms",
            )
        return answer

    def _count(self, **deltas: float) -> None:
        for key, value in deltas.items():
            self._stats[key] += value

    def _user(self) -> str:
        # Quoted as typed: repr() would double the backslash of DOMAIN\user.
        return f"'{self.target.username}'" if self.target.username else "the current Kerberos user"

    def _check_url(self, url: str) -> None:
        if not same_origin(url, self.target.url):
            raise _OffTarget(url)

    def _result(self, response: requests.Response, started: float) -> HttpResult:
        if "charset" not in response.headers.get("Content-Type", "").lower():
            response.encoding = "utf-8"  # ASP.NET pages are UTF-8; requests would assume ISO-8859-1
        return HttpResult(
            method=response.request.method or "GET",
            url=response.url,
            status=response.status_code,
            text=response.text,
            headers=CaseInsensitiveDict(response.headers),
            elapsed=time.monotonic() - started,
        )

    def _check_status(self, response: requests.Response, result: HttpResult, what: str) -> None:
        status = response.status_code
        if status == 401:
            raise self._auth_failure(response, what)
        if status == 403:
            raise NotAdministratorError(
                f"TMS answered 403 Forbidden to {self._user()} for {what}",
                hint="the account needs the TMS Site Administrator role (or IIS denies it this page)",
            )
        if status >= 500:
            text = aspnet_error_text(result.text)
            raise HttpServerError(
                f"TMS answered HTTP {status} for {what}" + (f": {text}" if text else ""),
                status=status,
                tms_text=text,
                result=result,
                hint="see the TMS server's event log; rerun with -vv to see the requests",
            )

    def _auth_failure(self, response: requests.Response, what: str) -> AuthenticationError:
        offered = offered_schemes(response.headers.get("WWW-Authenticate", ""))
        offered_text = ", ".join(s.upper() if s == "ntlm" else s.capitalize() for s in offered) or "no scheme"
        scheme = self.auth_scheme or self.target.auth
        tried = "Authorization" in response.request.headers
        if scheme == "auto":
            return AuthenticationError(
                f"TMS at {self._host} offers {offered_text} for {what}, none of which tmsclient speaks",
                hint="enable Windows Authentication (NTLM/Negotiate) or Basic in IIS for /tms",
            )
        if not tried or not any(o in offered for o in _ANSWERS[scheme]):
            return AuthenticationError(
                f"TMS at {self._host} does not offer {scheme.upper() if scheme == 'ntlm' else scheme} "
                f"login for {what} (it offers {offered_text})",
                hint="use --auth auto to pick from what the server offers",
            )
        return AuthenticationError(
            f"TMS refused the login of {self._user()} with {scheme} (HTTP 401 for {what})",
            hint="check the user name (DOMAIN\\user, user@domain or user) and the TMS password "
            "($TMSCLIENT_TMS_PASSWORD or --tms-password-*)",
        )

    def _map_exception(self, exc: BaseException, url: str, what: str, method: str) -> Exception:
        host = self._host
        if isinstance(exc, _OffTarget):
            # The caller's own URL was checked before sending, so what the adapter stops is a redirect.
            foreign = origin_text(exc.url)
            return OffOriginError(
                f"TMS redirected {what} to {foreign}, another origin than {self.origin} (--url); tmsclient "
                "does not follow it, and nothing was sent there",
                origin=foreign,
                hint="check that --url is the address TMS serves its pages at (scheme, host and port), and "
                "any proxy or load balancer in front of TMS",
            )
        if isinstance(exc, PermissionError):
            # requests-ntlm raises it when the answer to its NTLM negotiate message holds no challenge.
            return AuthenticationError(
                f"TMS at {host} did not answer the NTLM negotiate message with a challenge for {what}",
                hint="check that IIS Windows Authentication (NTLM provider) is on for /tms, or try --auth basic",
            )
        if isinstance(exc, KeyError) and str(exc).strip("'\"").lower() == "www-authenticate":
            return AuthenticationError(
                f"TMS at {host} broke off the NTLM handshake for {what} (no WWW-Authenticate in its answer)",
                hint="check that IIS Windows Authentication is on for /tms, or try --auth basic",
            )
        after_body = method == "POST"
        if isinstance(exc, requests.exceptions.SSLError):
            if after_body and _find(exc, ssl.SSLCertVerificationError) is None:
                # The POST goes on the connection its form was read on: TLS failing there may have failed
                # after the body went out.
                return PostInterruptedError(
                    f"TLS with {host} failed during {what} ({_short_reason(exc)}); TMS may or may not have applied it",
                    body_may_have_arrived=True,
                    hint="re-read the page to see what TMS stored",
                )
            return self._tls_error(exc, what)
        if isinstance(exc, _BodyTooLarge):
            if after_body:
                return PostInterruptedError(
                    f"TMS answered {what} with {exc} (the limit is {MAX_BODY_BYTES:,}); tmsclient stopped "
                    "reading, so whether TMS applied it is unknown",
                    body_may_have_arrived=True,
                    hint="re-read the page to see what TMS stored",
                )
            return PageNotUnderstoodError(
                f"TMS at {host} answered {what} with {exc}, more than the {MAX_BODY_BYTES:,} bytes of any TMS "
                "page; tmsclient stopped reading",
                hint="check --url and --page-url, and any proxy in front of TMS",
            )
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            if after_body:
                return PostInterruptedError(
                    f"connecting to {host} timed out before {what} was sent; nothing was sent",
                    body_may_have_arrived=False,
                    hint="check that TMS is up, then rerun",
                )
            return RequestTimeoutError(
                f"connecting to {host} timed out after {self.target.timeout:g} s while fetching {what}",
                hint="check the host and port, firewalls and proxies; or raise --timeout",
            )
        if isinstance(exc, requests.exceptions.Timeout):
            if after_body:
                return PostInterruptedError(
                    f"TMS did not answer {what} within {self.target.upload_timeout:g} s; it may or may not "
                    "have applied it",
                    body_may_have_arrived=True,
                    timed_out=True,
                    hint="re-read the page to see what TMS stored; raise --upload-timeout for a slow server",
                )
            return RequestTimeoutError(
                f"TMS at {host} did not answer within {self.target.timeout:g} s while fetching {what}",
                hint="raise --timeout (or `timeout` in the profile) if TMS is slow",
            )
        if isinstance(exc, requests.exceptions.ConnectionError):
            if _is_dns_failure(exc):
                return ConnectionFailedError(
                    f"cannot resolve the TMS host name {host} (fetching {what})", hint="check --url and DNS"
                )
            refused = _find(exc, ConnectionRefusedError) is not None
            port = urlsplit(url).port or (443 if url.startswith("https") else 80)
            if refused:
                msg = f"connection to {host}:{port} refused ({method} {what})"
                hint = "check --url (host and port) and that IIS is running on TMS"
                if after_body:
                    return PostInterruptedError(msg + "; nothing was sent", body_may_have_arrived=False, hint=hint)
                return ConnectionFailedError(msg, hint=hint)
            if after_body:
                return PostInterruptedError(
                    f"the connection to {host} broke during {what}; TMS may or may not have applied it",
                    body_may_have_arrived=True,
                    hint="re-read the page to see what TMS stored",
                )
            return ConnectionFailedError(
                f"the connection to {host}:{port} broke while fetching {what} ({_short_reason(exc)})",
                hint="check the network path and any proxy; rerun",
            )
        if isinstance(exc, requests.exceptions.TooManyRedirects):
            return ServerError(f"TMS redirected {what} in a loop ({url})", hint="check --url and --page-url")
        if isinstance(exc, requests.exceptions.InvalidURL) or type(exc).__name__ == "LocationParseError":
            return ConfigError(f"invalid URL {url} for {what}", hint="check --url and --page-url")
        if isinstance(exc, requests.exceptions.RequestException):
            if after_body:  # a broken chunked or compressed answer: the body went out
                return PostInterruptedError(
                    f"TMS's answer to {what} could not be read ({type(exc).__name__}); TMS may or may not have "
                    "applied it",
                    body_may_have_arrived=True,
                    hint="re-read the page to see what TMS stored",
                )
            return ConnectionFailedError(
                f"{method} {what} at {host} failed: {type(exc).__name__}", hint="rerun with -vv for details"
            )
        if type(exc).__module__.startswith("spnego"):
            return AuthenticationError(
                f"the NTLM handshake with {host} failed: {type(exc).__name__}",
                hint="check the user name form and the server's authentication settings",
            )
        return RuntimeError(f"{method} {what}: unexpected {type(exc).__name__}")

    def _tls_error(self, exc: BaseException, what: str) -> TLSError:
        host = self._host
        verr = _find(exc, ssl.SSLCertVerificationError)
        reason = getattr(verr, "verify_message", None) or (_short_reason(exc) if verr is None else str(verr))
        trusted = (
            f"the CA bundle {self.target.ca_bundle}"
            if self.target.ca_bundle
            else "the default CA bundle (certifi; REQUESTS_CA_BUNDLE is ignored)"
        )
        if verr is not None:
            return TLSError(
                f"TLS verification of {host} failed ({reason}) against {trusted} while fetching {what}",
                hint="give the CA that signed the TMS certificate with --ca-bundle FILE "
                "(or TMSCLIENT_CA_BUNDLE); --insecure skips the check, for a lab only",
            )
        return TLSError(
            f"TLS with {host} failed while fetching {what} ({reason})",
            hint="check that --url points at the HTTPS port of TMS",
        )


def _resolve(base: str, location: str) -> str:
    """A redirect's Location made absolute; an unparsable one is kept as it is (and so has no origin)."""
    try:
        return urljoin(base, location)
    except ValueError:
        return location


def _is_dns_failure(exc: BaseException) -> bool:
    return _find(exc, NameResolutionError) is not None or _find(exc, socket.gaierror) is not None


def _short_reason(exc: BaseException) -> str:
    """The innermost readable cause, one line, without URLs or object reprs."""
    inner = exc
    for _ in range(10):
        nxt = (
            getattr(inner, "reason", None)
            or inner.__cause__
            or (inner.args[0] if inner.args and isinstance(inner.args[0], BaseException) else None)
        )
        if not isinstance(nxt, BaseException):
            break
        inner = nxt
    text = str(inner).splitlines()[0] if str(inner) else type(inner).__name__
    text = re.sub(r"<[^>]*>: ", "", text)
    return text[:200]
