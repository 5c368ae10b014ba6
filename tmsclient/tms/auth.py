"""Login schemes for the TMS web UI: NTLM (requests-ntlm), Kerberos (optional extra), Basic, and auto."""

from __future__ import annotations

import base64
import logging
import re
from typing import Any
from urllib.parse import urlsplit

import requests
import spnego
import spnego.channel_bindings
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from requests.auth import AuthBase
from requests_ntlm import HttpNtlmAuth

from tmsclient.credentials import Secret
from tmsclient.errors import ConfigError

try:
    import requests_kerberos
except ImportError:  # the kerberos extra is optional: kerberos_auth says how to install it
    requests_kerberos = None

log = logging.getLogger(__name__)

#: Schemes tmsclient can answer, as they appear (lower-cased) in ``WWW-Authenticate``.
KNOWN_SCHEMES: tuple[str, ...] = ("ntlm", "negotiate", "basic")

_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


def offered_schemes(header: str) -> tuple[str, ...]:
    """Scheme names in a (possibly comma-joined) ``WWW-Authenticate`` value, lower-cased, in order.

    ``requests`` joins repeated headers with ``, `` so ``Negotiate`` + ``NTLM`` arrive as one string; quoted
    parameters (``realm="a, b"``) and ``key=value`` parameters are not schemes.
    """
    found: list[str] = []
    for piece in _QUOTED.sub('""', header).split(","):
        word = piece.strip().split(" ", 1)[0].strip()
        if not word or "=" in word:
            continue
        scheme = word.lower()
        if scheme not in found:
            found.append(scheme)
    return tuple(found)


def choose_scheme(offered: tuple[str, ...]) -> str | None:
    """``auto``: NTLM when the server offers NTLM or Negotiate (requests-ntlm answers either), else Basic.

    Basic only when neither is offered: a server that offers Windows login never gets the password itself.
    """
    if "ntlm" in offered or "negotiate" in offered:
        return "ntlm"
    if "basic" in offered:
        return "basic"
    return None


class SecretNtlmAuth(HttpNtlmAuth):
    """requests-ntlm's handler, reading the password from a Secret only when a handshake needs it.

    Channel binding (``send_cbt``) stays on: over HTTPS the NTLM answer is bound to the server's certificate,
    which IIS "Extended Protection" requires and which defeats a relay through another TLS endpoint.
    """

    def __init__(self, username: str, secret: Secret) -> None:
        self._secret = secret
        super().__init__(username, None, send_cbt=True)

    @property
    def password(self) -> str | None:
        return self._secret.reveal()

    @password.setter
    def password(self, value: str | None) -> None:
        # HttpNtlmAuth.__init__ assigns None here; the value lives in the Secret instead.
        pass

    def __repr__(self) -> str:
        return f"SecretNtlmAuth(user={self.username!r}, password=<hidden>)"

    def _get_server_cert(self, response: requests.Response) -> bytes | None:
        # The session reads each 401 (bounded) before this handler sees it, so the socket is gone by then:
        # the binding was taken from that very connection first (remember_binding).
        if BINDING_ATTRIBUTE in vars(response):
            binding: bytes | None = vars(response)[BINDING_ATTRIBUTE]
            return binding if self.send_cbt else None
        return super()._get_server_cert(response)


def basic_header(username: str, secret: Secret) -> str:
    """``Basic base64(user:password)``: Latin-1 where it fits (what IIS decodes), else UTF-8."""
    raw = f"{username}:{secret.reveal()}"
    try:
        data = raw.encode("latin-1")
    except UnicodeEncodeError:
        data = raw.encode("utf-8")
    return "Basic " + base64.b64encode(data).decode("ascii")


class SecretBasicAuth(AuthBase):
    """Basic, sent with every request (no 401 round trip), built from the Secret at send time."""

    def __init__(self, username: str, secret: Secret) -> None:
        self.username = username
        self._secret = secret

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = basic_header(self.username, self._secret)
        return r

    def __repr__(self) -> str:
        return f"SecretBasicAuth(user={self.username!r}, password=<hidden>)"


class KeepAliveOnly(AuthBase):
    """For a POST on a connection that a GET already authenticated: no handshake, so no body replay."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Connection"] = "Keep-Alive"
        return r


def kerberos_auth(username: str | None) -> AuthBase:
    """``--auth negotiate``: SPNEGO/Kerberos from the ticket cache through requests-kerberos (optional)."""
    if requests_kerberos is None:
        raise ConfigError(
            "--auth negotiate needs the kerberos extra (requests-kerberos), which is not installed",
            hint="pip install 'tmsclient[kerberos]' and kinit; or use --auth ntlm, which also answers a "
            "server that offers only Negotiate",
        )
    # A UPN names the ticket-cache principal; DOMAIN\user is not a Kerberos principal, so the default is used.
    principal = username if username and "@" in username and "\\" not in username else None
    auth: AuthBase = requests_kerberos.HTTPKerberosAuth(
        mutual_authentication=requests_kerberos.OPTIONAL, principal=principal
    )
    return auth


def build_auth(scheme: str, username: str | None, password: Secret | None) -> AuthBase:
    """The requests auth handler for one explicit scheme (``ntlm``, ``basic``, ``negotiate``)."""
    if scheme == "negotiate":
        return kerberos_auth(username)
    if not username or password is None:
        raise ConfigError(f"--auth {scheme} needs a user name and a password")
    if scheme == "ntlm":
        return SecretNtlmAuth(username, password)
    if scheme == "basic":
        return SecretBasicAuth(username, password)
    raise ConfigError(f"unknown login scheme {scheme!r}, expected one of ntlm, negotiate, basic, auto")


class AutoAuth(AuthBase):
    """``--auth auto``: the first request goes without credentials; its 401 names the schemes on offer.

    The chosen handler then answers that very 401 on the same connection, so NTLM still costs three
    requests in all and Basic two; later requests use the chosen handler directly.
    """

    def __init__(self, username: str, password: Secret) -> None:
        self.username = username
        self._password = password
        self.scheme: str | None = None
        self.delegate: AuthBase | None = None
        self.offered: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"AutoAuth(user={self.username!r}, scheme={self.scheme!r})"

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.delegate is not None:
            return self.delegate(r)
        r.headers["Connection"] = "Keep-Alive"
        r.register_hook("response", self._on_response)
        return r

    def _on_response(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        if r.status_code != 401 or self.delegate is not None:
            return r
        self.offered = offered_schemes(r.headers.get("www-authenticate", ""))
        scheme = choose_scheme(self.offered)
        log.debug("auth auto: server offers %s; using %s", ", ".join(self.offered) or "nothing", scheme)
        if scheme is None:
            return r
        if scheme == "basic":
            log.warning(
                "--auth auto: TMS at %s offers only Basic login, so the password of '%s' goes with every "
                "request, protected only by TLS; enable Windows Authentication (NTLM) in IIS to avoid it",
                urlsplit(r.url).hostname,
                self.username,
            )
        self.scheme = scheme
        if scheme == "ntlm":
            ntlm = SecretNtlmAuth(self.username, self._password)
            self.delegate = ntlm
            return ntlm.response_hook(r, **kwargs)
        basic = SecretBasicAuth(self.username, self._password)
        self.delegate = basic
        return _resend_with(r, basic, kwargs)


def _resend_with(r: requests.Response, auth: AuthBase, kwargs: dict[str, Any]) -> requests.Response:
    """Answer a 401 once on the same connection (as requests' digest handler does)."""
    r.content  # noqa: B018 - drain so the connection can be reused
    r.raw.release_conn()
    prep = r.request.copy()
    prep = auth(prep)
    adapter = r.connection
    again: requests.Response = adapter.send(prep, **kwargs)
    again.history.append(r)
    again.request = prep
    return again


def session_auth(scheme: str, username: str | None, password: Secret | None) -> AuthBase:
    """The session-wide handler for ``--auth`` (auto included)."""
    if scheme == "auto":
        if not username or password is None:
            raise ConfigError(
                "--auth auto needs a user name and a password",
                hint="give --username and the TMS password, or use --auth negotiate with Kerberos",
            )
        return AutoAuth(username, password)
    return build_auth(scheme, username, password)


def post_auth(handler: AuthBase) -> AuthBase | None:
    """The handler for a POST: Basic keeps its header; connection-based schemes must not handshake again.

    Returns None when no scheme has been settled yet (auto before its first 401).
    """
    if isinstance(handler, AutoAuth):
        if handler.delegate is None:
            return None
        handler = handler.delegate
    if isinstance(handler, SecretBasicAuth):
        return handler
    return KeepAliveOnly()


def scheme_in_use(handler: AuthBase) -> str | None:
    """``ntlm``, ``basic``, ``negotiate``, or None for auto before it chose."""
    if isinstance(handler, AutoAuth):
        return handler.scheme
    if isinstance(handler, SecretNtlmAuth):
        return "ntlm"
    if isinstance(handler, SecretBasicAuth):
        return "basic"
    return "negotiate"


def certificate_binding_hash(certificate_der: bytes) -> bytes | None:
    """RFC 5929 ``tls-server-end-point``: the certificate hashed as it is signed (MD5/SHA-1: SHA-256)."""
    cert = x509.load_der_x509_certificate(certificate_der)
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return None
    if algorithm is None or algorithm.name in ("md5", "sha1"):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(certificate_der)
    return digest.finalize()


#: Where remember_binding keeps a response's channel-binding hash.
BINDING_ATTRIBUTE = "_tmsclient_binding"


def remember_binding(response: requests.Response) -> None:
    """Keep the channel-binding hash of a 401's connection on the response, before its body is read and
    the connection released (SecretNtlmAuth answers the 401 after that)."""
    vars(response)[BINDING_ATTRIBUTE] = peer_certificate_hash(response)


def peer_certificate_hash(response: requests.Response) -> bytes | None:
    """The channel-binding hash of the server certificate on the response's connection (None over http)."""
    try:
        sock = response.raw._fp.fp.raw._sock
        der = sock.getpeercert(True)
    except AttributeError:
        return None
    return certificate_binding_hash(der) if der else None


class NtlmPostHandshake:
    """An NTLM handshake carried by the POST itself, the body only on the last leg (as browsers do).

    For a deliberate re-post to a server that authenticates every request (IIS ``authPersistSingleRequest``):
    leg 1 is the POST with an empty body and the NEGOTIATE message (IIS answers 401 with a challenge before
    reading any form), leg 2 the POST with the body and the AUTHENTICATE message. The .pfx goes once.

    The AUTHENTICATE message is bound to the certificate of the connection that brought the challenge
    (``authenticate(..., cert_hash)``), as requests-ntlm binds its own handshake to the 401's connection: a
    certificate seen earlier, on another connection, would let a relay through another TLS endpoint pass.
    """

    def __init__(self, username: str, secret: Secret, hostname: str, scheme: str = "NTLM") -> None:
        self.scheme = scheme
        self._client = spnego.client(
            username,
            secret.reveal(),
            hostname=hostname,
            service="http",
            protocol="ntlm",
            options=spnego.NegotiateOptions.use_ntlm,
        )

    def negotiate(self) -> str:
        return f"{self.scheme} {base64.b64encode(self._client.step() or b'').decode()}"

    def authenticate(self, www_authenticate: str, cert_hash: bytes | None) -> str | None:
        """The AUTHENTICATE header for the challenge in a 401, or None when the 401 holds no challenge.

        ``cert_hash``: :func:`peer_certificate_hash` of the 401 that carried the challenge (None over http).
        """
        bindings = (
            spnego.channel_bindings.GssChannelBindings(application_data=b"tls-server-end-point:" + cert_hash)
            if cert_hash
            else None
        )
        prefix = f"{self.scheme.lower()} "
        for piece in www_authenticate.split(","):
            piece = piece.strip()
            if piece.lower().startswith(prefix) and len(piece) > len(prefix):
                challenge = base64.b64decode(piece[len(prefix) :])
                token = self._client.step(challenge, channel_bindings=bindings)
                return f"{self.scheme} {base64.b64encode(token or b'').decode()}"
        return None
