"""The staging stand-in (Apache + NTLM + Mono ASP.NET, see staging/ and docs/staging.md) as pytest fixtures.

``staging_stack`` (session scope) starts the stack with ``staging/up --port 0`` into a temporary state dir,
with a Site Administrator ``TMS\\admin`` and a plain user ``TMS\\operator`` (random passwords), and stops it
with ``staging/down`` at the end. ``staging_starter`` starts further stacks with other ``staging/up`` options
(stopped at the end of the test).

Where the Debian packages are not installed (``staging/install``) these fixtures skip with the reason, unless
``TMS_STAGING_REQUIRED=1`` is set (CI), where they fail instead. ``TMS_STAGING_READY_FILE=PATH`` makes
``staging_stack`` reuse a stack that is already running (started with ``staging/up --users F --admins admin
--ready-file PATH``; F needs the ``admin`` and ``operator`` accounts); it is then not stopped. Tests that use
these fixtures carry ``@pytest.mark.staging``.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from staging_support import ADMIN, DOMAIN, OPERATOR, STAGING, StagingStack, missing_packages, stack_from_ready

UP_TIMEOUT = 180  # seconds staging/up may wait for the first .aspx compile


def _unavailable(reason: str) -> None:
    if os.environ.get("TMS_STAGING_REQUIRED") == "1":
        pytest.fail(f"staging stack required (TMS_STAGING_REQUIRED=1) but {reason}")
    pytest.skip(reason)


def _require_installed() -> None:
    missing = missing_packages()
    if missing:
        _unavailable(
            f"staging stack not installed (missing {', '.join(missing)}): run `sudo staging/install`"
        )


@contextmanager
def run_stack(base: Path, *up_args: str) -> Iterator[StagingStack]:
    """``staging/up --port 0 --state-dir base/state --ready-file base/ready.json *up_args``, then
    ``staging/down``."""
    _require_installed()
    state_dir = base / "state"
    ready_file = base / "ready.json"
    down = [str(STAGING / "down"), "--state-dir", str(state_dir)]
    up = [str(STAGING / "up"), "--port", "0", "--state-dir", str(state_dir), "--ready-file", str(ready_file)]
    proc = subprocess.run(
        [*up, "--timeout", str(UP_TIMEOUT), *up_args],
        capture_output=True,
        text=True,
        timeout=UP_TIMEOUT + 60,
        check=False,
    )
    if proc.returncode != 0:
        subprocess.run(down, capture_output=True, timeout=60, check=False)
        pytest.fail(f"staging/up failed (rc={proc.returncode}):\n{proc.stderr[-4000:]}")
    try:
        yield stack_from_ready(json.loads(ready_file.read_text(encoding="utf-8")))
    finally:
        subprocess.run(down, capture_output=True, timeout=60, check=False)


@pytest.fixture(scope="session")
def staging_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StagingStack]:
    reuse = os.environ.get("TMS_STAGING_READY_FILE")
    if reuse:
        try:
            ready = json.loads(Path(reuse).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            _unavailable(f"TMS_STAGING_READY_FILE={reuse} is not readable: {exc}")
        yield stack_from_ready(ready)
        return

    _require_installed()
    base = tmp_path_factory.mktemp("staging")
    users_file = base / "users.txt"
    users_file.write_text(
        f"{DOMAIN}:{ADMIN}:{secrets.token_urlsafe(12)}\n{DOMAIN}:{OPERATOR}:{secrets.token_urlsafe(12)}\n",
        encoding="utf-8",
    )
    users_file.chmod(0o600)
    with run_stack(base, "--users", str(users_file), "--admins", ADMIN) as stack:
        yield stack


@pytest.fixture
def staging_starter(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., AbstractContextManager[StagingStack]]]:
    """``with staging_starter("--cert-details", "off") as stack:`` starts one more stand-in."""

    def start(*up_args: str) -> AbstractContextManager[StagingStack]:
        return run_stack(tmp_path_factory.mktemp("staging-extra"), *up_args)

    yield start
