"""Windows authentication as on IIS: NTLM/Negotiate bound to the connection (pyspnego acceptor), or Basic."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import spnego
from spnego.channel_bindings import GssChannelBindings

from tmsemulator.config import User
from tmsemulator.files import write_atomically

try:
    # pyspnego's own hash functions (private: MD4 is missing from OpenSSL 3's default provider).
    from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1

    _NT_HASHES = True
except ImportError:  # a pyspnego that moved them: fall back to the documented plain form
    _NT_HASHES = False

log = logging.getLogger(__name__)

#: pyspnego's NTLM acceptor reads its users from the file named by $NTLM_USER_FILE, a process-wide setting;
#: several emulators in one process (tests) each set it around their own handshake steps under this lock.
_SPNEGO_LOCK = threading.Lock()

#: IIS's spelling of the schemes, keyed by the lower-case form clients may send.
SCHEMES = {"ntlm": "NTLM", "negotiate": "Negotiate", "basic": "Basic"}


@contextlib.contextmanager
def _ntlm_user_file(path: Path) -> Iterator[None]:
    with _SPNEGO_LOCK:
        previous = os.environ.get("NTLM_USER_FILE")
        os.environ["NTLM_USER_FILE"] = str(path)
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("NTLM_USER_FILE", None)
            else:
                os.environ["NTLM_USER_FILE"] = previous


def split_login(login: str) -> tuple[str | None, str]:
    """``DOMAIN\\user`` -> (DOMAIN, user); ``user@domain`` -> (domain, user); ``user`` -> (None, user)."""
    if "\\" in login:
        domain, _, name = login.partition("\\")
        return domain, name
    if "@" in login:
        name, _, domain = login.rpartition("@")
        return domain, name
    return None, login


class UserDirectory:
    """The accounts the emulator knows and which of them are Site Administrators (case-insensitive)."""

    def __init__(self, users: Sequence[User], admins: Sequence[str] | None) -> None:
        self.users = tuple(users)
        self._admins = None if admins is None else tuple(a.strip() for a in admins if a.strip())

    def lookup(self, login: str) -> User | None:
        domain, name = split_login(login)
        for user in self.users:
            if user.name.lower() != name.lower():
                continue
            if domain is None or user.domain.lower() == domain.lower():
                return user
        return None

    def is_admin(self, user: User) -> bool:
        if self._admins is None:
            return True
        for entry in self._admins:
            domain, name = split_login(entry)
            if name.lower() == user.name.lower() and (domain is None or domain.lower() == user.domain.lower()):
                return True
        return False

    def check_password(self, login: str, password: str) -> User | None:
        user = self.lookup(login)
        expected = user.password if user else "\x00unknown-user"
        ok = hmac.compare_digest(expected.encode("utf-8"), password.encode("utf-8"))
        return user if user and ok else None

    def write_ntlm_file(self, path: Path) -> None:
        """pyspnego's $NTLM_USER_FILE: ``DOMAIN\\user``, ``user@DOMAIN`` and ``user`` entries per account.

        The smbpasswd form (LM and NT hashes) keeps passwords off the disk and lets them hold colons, which
        the DOMAIN:USER:PASSWORD form cannot.
        """
        lines: list[str] = []
        bare_seen: set[str] = set()
        for user in self.users:
            names = [f"{user.domain}\\{user.name}", f"{user.name}@{user.domain}"] if user.domain else []
            if user.name.lower() not in bare_seen:  # a bare name logs in as the first account with that name
                bare_seen.add(user.name.lower())
                names.append(user.name)
            if not _NT_HASHES:
                lines.append(f"{user.domain}:{user.name}:{user.password}")
                if user.name.lower() in (n.lower() for n in names):
                    lines.append(f":{user.name}:{user.password}")
                continue
            hashes = f"{lmowfv1(user.password).hex().upper()}:{ntowfv1(user.password).hex().upper()}"
            lines.extend(f"{name}:1000:{hashes}:[U]:LCT-00000000" for name in names)
        write_atomically(path, ("\n".join(lines) + "\n").encode(), mode=0o600, what="NTLM user store")


@dataclass
class ConnectionAuth:
    """Per TCP connection, as IIS keeps it: a handshake in progress, then the authenticated user."""

    scheme: str | None = None  # of the handshake in progress
    context: Any = None
    user: User | None = None
    authenticated_at: float = 0.0
    requests_since_auth: int = 0
    generation: int = 0  # the emulator's session generation when this connection authenticated

    def forget(self) -> None:
        self.scheme = None
        self.context = None
        self.user = None


@dataclass(frozen=True)
class AuthResult:
    user: User | None  # set: the request is authenticated
    headers: tuple[str, ...] = field(default=())  # WWW-Authenticate values to send
    leg: str = "none"  # none | negotiate | authenticate | basic: what the request's Authorization carried
    scheme: str | None = None
    login: bool = False  # a login completed on this request
    failed: bool = False  # a login attempt failed on this request


def _is_first_token(token: bytes) -> bool:
    # An NTLM NEGOTIATE_MESSAGE (type 1) or a SPNEGO NegTokenInit ([APPLICATION 0]) starts a new handshake.
    return (token.startswith(b"NTLMSSP\x00") and token[8:12] == b"\x01\x00\x00\x00") or token[:1] == b"\x60"


class Authenticator:
    def __init__(
        self,
        mode: str,
        directory: UserDirectory,
        ntlm_file: Path,
        realm: str,
        channel_binding_hash: bytes | None = None,
    ) -> None:
        self.mode = mode
        self.directory = directory
        self.ntlm_file = ntlm_file
        self.realm = realm
        self.channel_binding_hash = channel_binding_hash
        if mode in ("ntlm", "negotiate"):
            directory.write_ntlm_file(ntlm_file)

    def challenge_headers(self) -> tuple[str, ...]:
        if self.mode == "basic":
            return (f'Basic realm="{self.realm}"',)
        if self.mode == "negotiate":
            # IIS with only the Negotiate provider (NTLM inside SPNEGO still works, as on Windows).
            return ("Negotiate",)
        return ("Negotiate", "NTLM")

    def authenticate(self, conn: ConnectionAuth, authorization: str | None) -> AuthResult:
        if not authorization:
            if conn.user is not None:
                return AuthResult(conn.user)
            return AuthResult(None, self.challenge_headers())
        scheme, _, token_text = authorization.strip().partition(" ")
        scheme = scheme.lower()
        if self.mode == "basic":
            if scheme != "basic":
                return AuthResult(None, self.challenge_headers(), leg=scheme, scheme=scheme, failed=True)
            return self._basic(token_text.strip())
        if scheme not in (offered.lower() for offered in self.challenge_headers()):
            return AuthResult(None, self.challenge_headers(), leg=scheme, scheme=scheme, failed=True)
        return self._spnego(conn, scheme, token_text.strip())

    def _basic(self, token_text: str) -> AuthResult:
        try:
            raw = base64.b64decode(token_text, validate=True)
        except (binascii.Error, ValueError):
            return AuthResult(None, self.challenge_headers(), leg="basic", scheme="basic", failed=True)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        login, _, password = text.partition(":")
        user = self.directory.check_password(login, password)
        if user is None:
            return AuthResult(None, self.challenge_headers(), leg="basic", scheme="basic", failed=True)
        return AuthResult(user, leg="basic", scheme="basic", login=True)

    def _new_context(self, scheme: str) -> Any:
        bindings = None
        if self.channel_binding_hash is not None:
            bindings = GssChannelBindings(application_data=b"tls-server-end-point:" + self.channel_binding_hash)
        if scheme == "ntlm":
            return spnego.server(protocol="ntlm", options=spnego.NegotiateOptions.use_ntlm, channel_bindings=bindings)
        return spnego.server(
            protocol="negotiate", options=spnego.NegotiateOptions.use_negotiate, channel_bindings=bindings
        )

    def _spnego(self, conn: ConnectionAuth, scheme: str, token_text: str) -> AuthResult:
        wire = SCHEMES[scheme]
        try:
            token = base64.b64decode(token_text, validate=True)
        except (binascii.Error, ValueError):
            token = b""
        if not token:
            conn.forget()
            return AuthResult(None, self.challenge_headers(), leg="negotiate", scheme=scheme, failed=True)
        first = _is_first_token(token)
        leg = "negotiate" if first else "authenticate"
        try:
            with _ntlm_user_file(self.ntlm_file):
                if first or conn.context is None or conn.scheme != scheme:
                    # A new handshake on an authenticated connection re-authenticates it, as on IIS.
                    conn.forget()
                    conn.scheme, conn.context = scheme, self._new_context(scheme)
                out = conn.context.step(token)
                complete = conn.context.complete
                principal = conn.context.client_principal if complete else None
        except Exception as exc:  # pyspnego raises SpnegoError, struct.error, ValueError... on bad tokens
            # Only the type is logged: a token's contents are crackable and never leave this function.
            log.debug("%s handshake refused (%s)", wire, type(exc).__name__)
            conn.forget()
            return AuthResult(None, self.challenge_headers(), leg=leg, scheme=scheme, failed=True)
        if not complete:
            return AuthResult(None, (f"{wire} {base64.b64encode(out or b'').decode()}",), leg=leg, scheme=scheme)
        conn.scheme = conn.context = None
        user = self.directory.lookup(principal or "")
        if user is None:  # pyspnego accepted a name our directory cannot map: refuse rather than guess
            conn.forget()
            return AuthResult(None, self.challenge_headers(), leg=leg, scheme=scheme, failed=True)
        conn.user = user
        conn.requests_since_auth = 0
        final = (f"{wire} {base64.b64encode(out).decode()}",) if out else ()
        return AuthResult(user, final, leg=leg, scheme=scheme, login=True)
