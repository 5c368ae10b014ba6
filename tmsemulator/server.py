"""A running emulator in this process: its users, TLS material and state, its server thread, and its in-process API."""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tmsemulator.auth import Authenticator, UserDirectory
from tmsemulator.capture import Replay, load_replay
from tmsemulator.config import EmulatorConfig, User
from tmsemulator.errors import ConfigError, ListenError
from tmsemulator.faults import Faults
from tmsemulator.files import write_atomically
from tmsemulator.httpd import EmulatorHttpServer
from tmsemulator.profiles import PageProfile
from tmsemulator.state import EmulatorState
from tmsemulator.tls import TlsMaterial, make_tls_material
from tmsemulator.viewstate import Codec

DEFAULT_DOMAIN = "TMSLAB"
GENERATED_ADMIN = "admin"


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
            write_atomically(
                self.admin_password_file,
                (users[0].password + "\n").encode(),
                mode=0o600,
                what="generated password file",
            )
        self.directory = UserDirectory(users, admins)
        self.codec = Codec()
        self.data = EmulatorState(config)
        #: ``--capture``: the captured pages are served instead of the page profile's.
        self.replay: Replay | None = (
            load_replay(config.capture, self.codec, config.server_os) if config.capture else None
        )
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
            self._server = EmulatorHttpServer((config.host, config.port), self)
        except OSError as exc:
            raise ListenError(
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
        if self.replay is not None:
            snapshot["sites"] = self.replay.sites_json()
            snapshot["capture"] = self.replay.summary()
        return snapshot

    def state(self) -> dict[str, Any]:
        """The same JSON as GET /__emulator/state: settings, sites, stored certificates, counters, logs."""
        return self.state_json()

    def reset(self) -> None:
        """Back to the initial data, profile and faults; counters and logs cleared."""
        self.data.reset()
        if self.replay is not None:
            self.replay.reset()

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
