"""One running emulator's data: settings, sites and their certificates, counters; reset restores it."""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tmsemulator.config import EmulatorConfig, SiteData, StoredCertificate
from tmsemulator.faults import Faults


@dataclass
class Site:
    id: int
    host_name: str
    site_name: str
    bandwidth: str
    default_site: bool
    use_global: bool
    tsp_audio: bool
    use_sso: bool
    partner_name: str
    account_name: str
    authn_context: str
    certificate: StoredCertificate | None

    @classmethod
    def from_data(cls, site_id: int, data: SiteData) -> Site:
        values = {f.name: getattr(data, f.name) for f in dataclasses.fields(data)}
        return cls(id=site_id, **values)

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "certificate"}
        data["certificate"] = self.certificate.to_json() if self.certificate else None
        return data


def _new_counters() -> dict[str, Any]:
    return {
        "requests": 0,  # every request outside /__emulator/, including each handshake leg
        "responses": {},  # status code (as text) -> count
        "unauthorized": 0,  # 401 answers
        "logins": 0,  # completed NTLM/Negotiate handshakes and accepted Basic requests
        "failed_logins": 0,
        "connections": 0,  # TCP connections that sent at least one request
        "saves_applied": 0,
        "saves_refused": 0,
        "dropped_connections": 0,
        "post_bodies": [],  # one entry per POST body received (a body re-sent in a handshake counts again)
    }


class EmulatorState:
    """Guarded by one lock; everything handed out is a copy."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self._initial_sites = config.initial_sites()  # once: the default data's dates are relative to now
        self._lock = threading.RLock()
        self.generation = 0  # bumped by expire_sessions(); connections authenticated earlier must log in again
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.sites = [Site.from_data(i, data) for i, data in enumerate(self._initial_sites, 1)]
            self.enable_webex = self._config.enable_webex
            self.add_webex_to_all = self._config.add_webex_to_all
            self.active_profile = self._config.page_profile
            self.faults = self._config.faults
            self.counters = _new_counters()
            self.request_log: list[dict[str, Any]] = []
            self.save_log: list[dict[str, Any]] = []
            self.sessions: set[str] = set()

    @contextmanager
    def locked(self) -> Iterator[EmulatorState]:
        with self._lock:
            yield self

    def site(self, site_id: int) -> Site | None:
        with self._lock:
            return next((dataclasses.replace(s) for s in self.sites if s.id == site_id), None)

    def site_list(self) -> list[Site]:
        with self._lock:
            return [dataclasses.replace(s) for s in self.sites]

    def store_site(self, site: Site) -> Site:
        """Insert (id 0: a new site) or replace a site; a new default site clears the others' flag."""
        with self._lock:
            if site.id == 0:
                site = dataclasses.replace(site, id=max((s.id for s in self.sites), default=0) + 1)
                self.sites.append(site)
            else:
                self.sites = [site if s.id == site.id else s for s in self.sites]
            if site.default_site:
                for other in self.sites:
                    if other.id != site.id:
                        other.default_site = False
            return dataclasses.replace(site)

    def set_faults(self, faults: Faults) -> None:
        with self._lock:
            self.faults = faults

    def count(self, key: str, amount: int = 1) -> None:
        with self._lock:
            self.counters[key] += amount

    def record_response(self, entry: dict[str, Any]) -> None:
        with self._lock:
            status = str(entry["status"])
            responses = self.counters["responses"]
            responses[status] = responses.get(status, 0) + 1
            if entry["status"] == 401:
                self.counters["unauthorized"] += 1
            self.request_log.append(entry)
            del self.request_log[: max(0, len(self.request_log) - self._config.request_log_limit)]

    def record_post_body(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.counters["post_bodies"].append(entry)

    def record_save(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.save_log.append(entry)
            self.counters["saves_applied" if entry["outcome"] == "stored" else "saves_refused"] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(
                {
                    "active_profile": self.active_profile,
                    "global": {"enable_webex": self.enable_webex, "add_webex_to_all": self.add_webex_to_all},
                    "sites": [s.to_json() for s in self.sites],
                    "counters": self.counters,
                    "request_log": self.request_log,
                    "save_log": self.save_log,
                    "faults": self.faults.to_json(),
                    "sessions": len(self.sessions),
                }
            )
