"""Login schemes for the TMS web UI: NTLM (requests-ntlm), Kerberos (pyspnego, optional extra), Basic, auto."""

from __future__ import annotations

import base64
import logging
import re
import sys
from collections.abc import Callable
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
from tmsclient.errors import (
    ConfigError,
    KerberosClockSkewError,
    KerberosError,
    KerberosKdcUnreachableError,
    KerberosNoTicketError,
    KerberosTicketExpiredError,
    KerberosUnknownServiceError,
    MutualAuthenticationError,
)

try:  # the kerberos extra (pyspnego[kerberos]: gssapi and krb5) is optional: kerberos_available() says so
    import gssapi
    import krb5  # noqa: F401 - pyspnego's password login (kinit into a memory cache) needs it

    HAVE_GSSAPI = True
except ImportError:
    HAVE_GSSAPI = False

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
    (AutoAuth tries Kerberos first where Negotiate is offered and a ticket can be had.)

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


# ------------------------------------------------------------------------------------------------ Kerberos

#: MIT krb5 error codes (com_err, as unsigned 32-bit: gssapi's minor codes) and Windows SSPI status codes
#: (untested here), by the error they are
_KRB5_CODES: dict[int, type[KerberosError]] = {
    0x96C73A20: KerberosTicketExpiredError,  # KRB5KRB_AP_ERR_TKT_EXPIRED "Ticket expired"
    0x96C73A21: KerberosClockSkewError,  # KRB5KRB_AP_ERR_TKT_NYV "Ticket not yet valid": the clocks differ
    0x96C73A25: KerberosClockSkewError,  # KRB5KRB_AP_ERR_SKEW "Clock skew too great"
    0x96C73A07: KerberosUnknownServiceError,  # KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN
    0x96C73A9C: KerberosKdcUnreachableError,  # KRB5_KDC_UNREACH "Cannot contact any KDC for realm"
    0x96C73AC3: KerberosNoTicketError,  # KRB5_FCC_NOFILE "No credentials cache found"
    0x96C73A8D: KerberosNoTicketError,  # KRB5_CC_NOTFOUND "Matching credential not found"
    0x80090324: KerberosClockSkewError,  # SEC_E_TIME_SKEW
    0x80090303: KerberosUnknownServiceError,  # SEC_E_TARGET_UNKNOWN
    0x80090311: KerberosKdcUnreachableError,  # SEC_E_NO_AUTHENTICATING_AUTHORITY
    0x8009030E: KerberosNoTicketError,  # SEC_E_NO_CREDENTIALS
}
_GSS_S_NO_CRED = 7 << 16
_GSS_S_CREDENTIALS_EXPIRED = 11 << 16
_MINOR = re.compile(r"Minor \(\d+\): (.*?)(?:, Context:|$)")


def kerberos_available() -> bool:
    """pyspnego does Kerberos through SSPI on Windows and through python-gssapi (the kerberos extra) elsewhere."""
    return sys.platform == "win32" or HAVE_GSSAPI


def kerberos_principal(username: str | None) -> str | None:
    """The client principal for a user name: a UPN as it is; ``DOMAIN\\user`` is no Kerberos name, so its user
    part in the default realm; None (the ticket cache's own, or on Windows the logged-on user) without one."""
    if not username:
        return None
    if "\\" in username:
        return username.rsplit("\\", 1)[1] or None
    return username


def _library_codes(exc: BaseException) -> tuple[int | None, int | None, str]:
    """(major, minor or krb5 code, the library's own words) of a pyspnego/gssapi/krb5 failure."""
    base: BaseException = getattr(exc, "base_error", None) or exc
    major = getattr(base, "maj_code", None)
    minor = getattr(base, "min_code", None)
    if minor is None:
        minor = getattr(base, "err_code", None) or getattr(base, "winerror", None)
    text = str(base)
    m = _MINOR.search(text)
    words = (m.group(1) if m else text).strip()
    return major, (minor & 0xFFFFFFFF if isinstance(minor, int) else None), words


def kerberos_failure(exc: BaseException, spn: str, host: str, principal: str | None) -> KerberosError:
    """The typed error for a failure to get or use a Kerberos ticket, with the library's words as detail."""
    major, minor, words = _library_codes(exc)
    kind = _KRB5_CODES.get(minor) if minor is not None else None
    if kind is None and major == _GSS_S_NO_CRED:
        kind = KerberosNoTicketError
    if kind is None and major == _GSS_S_CREDENTIALS_EXPIRED:
        kind = KerberosTicketExpiredError
    who = f"'{principal}'" if principal else "the ticket cache's user"
    details = [f"Kerberos says: {words}"] if words else []
    if kind is KerberosNoTicketError:
        return KerberosNoTicketError(
            f"no Kerberos ticket for {who} to log in to TMS at {host}",
            hint="run kinit first (the cache is $KRB5CCNAME or the default one), or give --username "
            "user@REALM and the TMS password so tmsclient gets the ticket itself",
            details=details,
        )
    if kind is KerberosTicketExpiredError:
        return KerberosTicketExpiredError(
            f"the Kerberos ticket of {who} has expired (logging in to TMS at {host})",
            hint="run kinit again, or give the password so tmsclient gets a new ticket itself",
            details=details,
        )
    if kind is KerberosClockSkewError:
        return KerberosClockSkewError(
            f"Kerberos refused the login to TMS at {host}: this machine's clock and the KDC's differ too much",
            hint="synchronise the clock (NTP/w32time with the domain controllers; 5 minutes apart at most), "
            "then kinit again",
            details=details,
        )
    if kind is KerberosUnknownServiceError:
        return KerberosUnknownServiceError(
            f"the KDC knows no service principal {spn} for TMS at {host}",
            hint=f"log in with the host name the SPN is registered for (setspn -Q {spn}), or register it "
            "for the account TMS's IIS application pool runs as; or use --auth ntlm",
            details=details,
        )
    if kind is KerberosKdcUnreachableError:
        return KerberosKdcUnreachableError(
            f"no Kerberos KDC could be reached to log in to TMS at {host}",
            hint="check the realm's KDCs in krb5.conf ($KRB5_CONFIG) or DNS, and the network path to them "
            "(TCP/UDP port 88)",
            details=details,
        )
    return KerberosError(
        f"Kerberos could not log {who} in to TMS at {host}: {words or type(exc).__name__}",
        hint="check the user name (user@REALM) and the password, or the ticket cache (klist)",
    )


def _negotiate_token(header: str) -> bytes | None:
    """The token of a ``Negotiate`` challenge or answer in a WWW-Authenticate value; None when it has none."""
    for piece in header.split(","):
        words = piece.strip().split()
        if len(words) == 2 and words[0].lower() == "negotiate":
            try:
                return base64.b64decode(words[1], validate=True)
            except ValueError:
                return b""  # present but not Base64: it cannot verify
    return None


class KerberosAuth(AuthBase):
    """``--auth negotiate``: Kerberos under the ``Negotiate`` scheme, through pyspnego.

    The ticket is the cache's (``kinit`` before; ``$KRB5CCNAME``), or with a password one pyspnego gets into
    a memory cache (nothing is written). Only a 401 that offers Negotiate is answered; the service principal
    is ``HTTP/<the host of the URL>``, as a browser asks for it. Mutual authentication is required: the answer
    to the ticket must carry the server's token and it must verify, else MutualAuthenticationError and the
    answer is not used. Channel binding (``tls-server-end-point``) is sent over HTTPS, as for NTLM. A failure
    to get a ticket is a KerberosError; nothing else is tried with the password.
    """

    def __init__(self, username: str | None, password: Secret | None) -> None:
        self.username = username
        self.principal = kerberos_principal(username)
        self._password = password if username else None
        self._ctx: Any = None
        self.spn: str | None = None

    def __repr__(self) -> str:
        return f"KerberosAuth(principal={self.principal!r}, password={'<hidden>' if self._password else None})"

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Connection"] = "Keep-Alive"
        r.register_hook("response", self._on_response)
        return r

    def first_token(self, response: requests.Response) -> str:
        """The ``Negotiate`` header answering ``response`` (a 401): a new context, the ticket for the SPN of
        its host. Raises KerberosError when no ticket can be had."""
        host = urlsplit(response.url).hostname or ""
        self.spn = f"HTTP/{host}"
        binding = vars(response).get(BINDING_ATTRIBUTE)
        bindings = (
            spnego.channel_bindings.GssChannelBindings(application_data=b"tls-server-end-point:" + binding)
            if binding
            else None
        )
        password = self._password.reveal() if self._password is not None else None
        try:
            self._ctx = spnego.client(
                self.principal,
                password,
                hostname=host,
                service="HTTP",
                channel_bindings=bindings,
                context_req=spnego.ContextReq.mutual_auth | spnego.ContextReq.sequence_detect,
                protocol="kerberos",
            )
            token = self._ctx.step()
        except Exception as exc:  # pyspnego, gssapi and krb5 each raise their own types
            self._ctx = None
            raise kerberos_failure(exc, self.spn, host, self.principal) from exc
        return "Negotiate " + base64.b64encode(token or b"").decode("ascii")

    def _on_response(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        if r.status_code != 401 or "Authorization" in r.request.headers:
            return r
        if "negotiate" not in offered_schemes(r.headers.get("www-authenticate", "")):
            return r  # the session reports that TMS does not offer it
        return self.answer(r, self.first_token(r), kwargs)

    def answer(self, r: requests.Response, header: str, kwargs: dict[str, Any]) -> requests.Response:
        """Send the ticket on the 401's connection and check the server's answer token."""

        def with_ticket(prep: requests.PreparedRequest) -> requests.PreparedRequest:
            prep.headers["Authorization"] = header
            prep.headers["Connection"] = "Keep-Alive"
            return prep

        again = _resend_with(r, with_ticket, kwargs)
        self._check_answer(again)
        return again

    def _check_answer(self, response: requests.Response) -> None:
        host = urlsplit(response.url).hostname or ""
        token = _negotiate_token(response.headers.get("www-authenticate", ""))
        if response.status_code == 401:
            # refused: an error token may say why (the server's clock, an unknown key); else the session's 401
            if token:
                try:
                    self._ctx.step(token)
                except Exception as exc:
                    failure = kerberos_failure(exc, self.spn or "", host, self.principal)
                    if type(failure) is not KerberosError:
                        raise failure from exc
            return
        if not token:
            raise MutualAuthenticationError(
                f"TMS at {host} accepted the Kerberos ticket for {self.spn} without proving it holds that "
                f"service's key (no answer token with HTTP {response.status_code}); its answer was not used",
                hint="something between tmsclient and TMS answers for it; check the address and any proxy "
                "or load balancer, or use --auth ntlm",
            )
        try:
            self._ctx.step(token)
            complete = bool(self._ctx.complete)
        except Exception as exc:
            raise MutualAuthenticationError(
                f"TMS at {host} answered the Kerberos ticket for {self.spn} with a token that does not verify; "
                "its answer was not used",
                hint="something between tmsclient and TMS answers for it; check the address and any proxy",
                details=[f"Kerberos says: {_library_codes(exc)[2]}"],
            ) from exc
        if not complete:
            raise MutualAuthenticationError(
                f"TMS at {host} did not complete the Kerberos mutual authentication for {self.spn}",
                hint="check the address and any proxy, or use --auth ntlm",
            )


def kerberos_auth(username: str | None, password: Secret | None = None) -> KerberosAuth:
    """``--auth negotiate``: Kerberos from the ticket cache, or from the user name and password."""
    if not kerberos_available():
        raise ConfigError(
            "--auth negotiate needs the kerberos extra (pyspnego[kerberos]: python-gssapi, krb5), which is not "
            "installed",
            hint="pip install 'tmsclient[kerberos]' (it builds against libkrb5-dev); or use --auth ntlm, which "
            "also answers a server that offers only Negotiate",
        )
    return KerberosAuth(username, password)


def ticket_cache_principal() -> str | None:
    """The default principal of the ticket cache ($KRB5CCNAME) when it holds a usable ticket, else None."""
    if not HAVE_GSSAPI:
        return None
    try:
        creds = gssapi.Credentials(usage="initiate")
        if creds.lifetime == 0:
            return None
        return str(creds.name)
    except Exception:  # no cache, an empty or expired one: no ticket to prefer
        return None


def _same_user(principal: str, username: str) -> bool:
    name = principal.split("@", 1)[0].lower()
    wanted = username.rsplit("\\", 1)[-1].lower()
    if "@" in wanted:
        return principal.lower() == wanted
    return name == wanted


def build_auth(scheme: str, username: str | None, password: Secret | None) -> AuthBase:
    """The requests auth handler for one explicit scheme (``ntlm``, ``basic``, ``negotiate``)."""
    if scheme == "negotiate":
        return kerberos_auth(username, password)
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

    def _kerberos(self, r: requests.Response) -> tuple[KerberosAuth, str] | None:
        """Kerberos when a ticket can be had: with a UPN user name and the password (got in memory), or from
        the ticket cache when its principal is this user; else None (NTLM then), saying why at -v."""
        if not kerberos_available():
            log.info("auth auto: no Kerberos (the kerberos extra is not installed); using NTLM")
            return None
        if "@" in self.username and "\\" not in self.username:
            kerberos = KerberosAuth(self.username, self._password)
        else:
            cached = ticket_cache_principal()
            if cached is None or not _same_user(cached, self.username):
                log.info("auth auto: no Kerberos ticket for '%s' in the cache; using NTLM", self.username)
                return None
            kerberos = KerberosAuth(cached, None)
        try:
            return kerberos, kerberos.first_token(r)
        except KerberosError as exc:
            log.info("auth auto: no Kerberos ticket (%s); using NTLM", exc.message)
            return None

    def _on_response(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        if r.status_code != 401:
            return r
        if self.delegate is not None:
            # requests re-sends a redirect of the first request from that request as it was before a scheme was
            # chosen, without the chosen scheme's header: answer its 401 with the chosen scheme, once.
            if "Authorization" in r.request.headers:
                return r
            if isinstance(self.delegate, SecretNtlmAuth):
                return self.delegate.response_hook(r, **kwargs)
            if isinstance(self.delegate, KerberosAuth):
                return self.delegate._on_response(r, **kwargs)
            return _resend_with(r, self.delegate, kwargs)
        self.offered = offered_schemes(r.headers.get("www-authenticate", ""))
        scheme = choose_scheme(self.offered)
        log.debug("auth auto: server offers %s; using %s", ", ".join(self.offered) or "nothing", scheme)
        if scheme is None:
            return r
        if "negotiate" in self.offered:
            kerberos = self._kerberos(r)
            if kerberos is not None:
                self.scheme, self.delegate = "negotiate", kerberos[0]
                return kerberos[0].answer(r, kerberos[1], kwargs)
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


def _resend_with(
    r: requests.Response,
    auth: Callable[[requests.PreparedRequest], requests.PreparedRequest],
    kwargs: dict[str, Any],
) -> requests.Response:
    """Answer a 401 once on the same connection (as requests' digest handler does); ``auth`` (a handler, or
    what sets the answer's header) prepares the copy of the request that is sent again."""
    r.content  # noqa: B018 - drain so the connection can be reused
    r.raw.release_conn()
    prep = auth(r.request.copy())
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
    return "negotiate"  # KerberosAuth


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
