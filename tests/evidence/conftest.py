"""Fixtures for the evidence suite: emulators whose passwords are secret canaries, and .pfx files."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from evidence_support import PfxFile, make_pfx_bytes, pfx_key

from tests.helpers.emulated import Tms


@pytest.fixture
def tms(emulator_factory: Callable[..., Any], canaries: Any) -> Callable[..., Tms]:
    """``tms(**emulator_settings) -> Tms``: an emulator with a Site Administrator (admin) and a plain user
    (bob) whose passwords are secret canaries (with a space and symbols, as real passwords have)."""

    def make(**overrides: Any) -> Tms:
        admin_pw = canaries.secret("tms-password", extra=" &#$%")
        return Tms.start(emulator_factory, admin_pw, canaries.secret("tms-password", extra="!x"), **overrides)

    return make


@pytest.fixture
def pfx(tmp_path: Path, canaries: Any) -> Callable[..., PfxFile]:
    """``pfx(kind="good", password=None) -> PfxFile``; the password (a canary by default) and keys are
    watched by the canaries."""
    for name in ("leaf", "other"):
        canaries.register_key(pfx_key(name))

    def make(kind: str = "good", password: str | None = None, name: str = "tms-cert.pfx") -> PfxFile:
        from cryptography.hazmat.primitives import hashes

        pw = password if password is not None else canaries.secret("pfx-password", extra=" \"%$")
        if password is not None:
            canaries.register(password, "pfx-password")
        data, cert = make_pfx_bytes(kind, pw)
        path = tmp_path / name
        path.write_bytes(data)
        return PfxFile(path, pw, cert.fingerprint(hashes.SHA1()).hex().upper(), hashlib.sha256(data).hexdigest())

    return make
