"""A running emulator as the CLI tests see it: the argv that reaches it, its stored state and its counters."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from tmsemulator import RunningEmulator

ADMIN = ("TMSLAB", "admin")
USER = ("TMSLAB", "bob")


@dataclass
class Tms:
    """One running emulator and what a CLI run needs to reach it."""

    em: RunningEmulator
    admin_password: str
    user_password: str
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def start(cls, emulator_factory: Any, admin_password: str, user_password: str, **overrides: Any) -> Tms:
        """An emulator from the plugin's ``emulator_factory`` with ADMIN as its Site Administrator and USER as a
        plain user; ``overrides`` are further emulator settings."""
        config: dict[str, Any] = {"users": [(*ADMIN, admin_password), (*USER, user_password)], "admins": ["admin"],
                                  **overrides}
        return cls(emulator_factory(**config), admin_password, user_password,
                   env={"TMSCLIENT_TMS_PASSWORD": admin_password})

    @property
    def url(self) -> str:
        return str(self.em.url)

    def target(self, *, user: tuple[str, str] = ADMIN, ca: bool = True) -> list[str]:
        argv = ["--url", self.url, "--username", "\\".join(user), "--non-interactive"]
        if ca and self.em.ca_file:
            argv += ["--ca-bundle", self.em.ca_file]
        return argv

    def state(self) -> dict[str, Any]:
        return copy.deepcopy(self.em.state())

    def site(self, site_name: str, state: dict[str, Any] | None = None) -> dict[str, Any]:
        return next(s for s in (state or self.state())["sites"] if s["site_name"] == site_name)

    def counters(self) -> dict[str, Any]:
        return self.state()["counters"]

    def files_received(self) -> list[dict[str, Any]]:
        return [f for body in self.counters()["post_bodies"] for f in body["files"]]
