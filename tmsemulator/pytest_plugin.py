"""pytest fixtures: ``emulator_factory`` and ``tms_emulator`` (HTTPS + NTLM, a known admin and a known user)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tmsemulator.config import EmulatorConfig
from tmsemulator.server import RunningEmulator, start

DOMAIN = "TMSLAB"
ADMIN_NAME = "admin"
USER_NAME = "operator"


def known_users() -> tuple[tuple[str, str, str], ...]:
    """A Site Administrator and an ordinary user with fresh passwords (spaces and symbols included)."""
    return (
        (DOMAIN, ADMIN_NAME, f"Adm1n pw&{secrets.token_urlsafe(9)}"),
        (DOMAIN, USER_NAME, f"0perator#{secrets.token_urlsafe(9)}"),
    )


EmulatorFactory = Callable[..., RunningEmulator]


@pytest.fixture
def emulator_factory() -> Iterator[EmulatorFactory]:
    """``emulator_factory(page_profile="tms15-cells", server_os="2019", ...)`` -> a started RunningEmulator.

    Takes an EmulatorConfig and/or its fields as keywords. Without ``users`` it has the known pair:
    ``.admin`` (TMSLAB\\admin, a Site Administrator) and ``.user`` (TMSLAB\\operator, not one). Every
    emulator started is stopped at teardown.
    """
    started: list[RunningEmulator] = []

    def factory(config: EmulatorConfig | None = None, **overrides: Any) -> RunningEmulator:
        if (config is None or not config.users) and "users" not in overrides:
            overrides.setdefault("users", known_users())
            overrides.setdefault("admins", (f"{DOMAIN}\\{ADMIN_NAME}",))
        emulator = start(config, **overrides)
        started.append(emulator)
        return emulator

    yield factory
    for emulator in reversed(started):
        emulator.stop()


@pytest.fixture
def tms_emulator(emulator_factory: EmulatorFactory) -> RunningEmulator:
    """A default emulator: HTTPS, NTLM/Negotiate, page profile tms15, Windows Server 2016, three sites.

    ``.url`` (the /tms/ base), ``.ca_file``, ``.admin`` and ``.user`` as (domain, user, password).
    """
    return emulator_factory()


@pytest.fixture
def tms_emulator_ca_file(tms_emulator: RunningEmulator) -> str:
    """The CA file that verifies ``tms_emulator``'s HTTPS certificate."""
    assert tms_emulator.ca_file is not None
    return tms_emulator.ca_file
