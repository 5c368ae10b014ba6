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

For tmsclient's own commands against the stand-in: ``staging_target`` (the ``cli`` argv and environment for an
account, every password registered with the ``canaries``) and ``staging_pfx`` (.pfx files made with the
``openssl`` CLI as an admin would). At the end of a run the ``staging`` tests are counted by outcome, printed,
and written as JSON to ``$TMS_STAGING_SUMMARY_FILE`` when set (.ci/run fails on a skip or on none).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.staging import (
    ADMIN,
    DOMAIN,
    OPERATOR,
    STAGING,
    AcmeCa,
    KerberosRealm,
    PfxFile,
    StagingStack,
    StagingTarget,
    missing_packages,
    stack_from_ready,
)

UP_TIMEOUT = 180  # seconds staging/up may wait for the first .aspx compile

#: how the session's stand-in came about ("reused": TMS_STAGING_READY_FILE, "started": by the fixture), for
#: the summary: .ci/run starts one itself and checks that the fixture did not start a second one
_SESSION_STACK: dict[str, str] = {}


def _unavailable(reason: str) -> None:
    if os.environ.get("TMS_STAGING_REQUIRED") == "1":
        pytest.fail(f"staging stack required (TMS_STAGING_REQUIRED=1) but {reason}")
    pytest.skip(reason)


def _require_installed() -> None:
    missing = missing_packages()
    if missing:
        _unavailable(f"staging stack not installed (missing {', '.join(missing)}): run `sudo staging/install`")


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
        stack = stack_from_ready(ready)
        # Never start a second stand-in behind the caller's back: a dead one is an error of the caller's.
        if not Path(f"/proc/{stack.pid}").exists():
            pytest.fail(f"TMS_STAGING_READY_FILE={reuse} names Apache pid {stack.pid}, which is not running")
        missing = {ADMIN, OPERATOR} - set(stack.users)
        if missing:
            pytest.fail(f"the users file of TMS_STAGING_READY_FILE={reuse} lacks {', '.join(sorted(missing))}")
        _SESSION_STACK["how"] = "reused"
        yield stack
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
        _SESSION_STACK["how"] = "started"
        yield stack


@pytest.fixture
def staging_starter(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., AbstractContextManager[StagingStack]]]:
    """``with staging_starter("--cert-details", "off") as stack:`` starts one more stand-in."""

    def start(*up_args: str) -> AbstractContextManager[StagingStack]:
        return run_stack(tmp_path_factory.mktemp("staging-extra"), *up_args)

    yield start


# ----------------------------------------------------------------------------------------------------
# tmsclient against the stand-in
# ----------------------------------------------------------------------------------------------------


@pytest.fixture
def staging_target(staging_stack: StagingStack, canaries: Any) -> StagingTarget:
    for user in staging_stack.users.values():
        canaries.register(user.password, "tms-password")
    return StagingTarget(staging_stack)


@pytest.fixture
def kerberos(staging_stack: StagingStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> KerberosRealm:
    """The stand-in's realm. The Kerberos library reads the process environment (not the ``environ`` a ``cli``
    run is given): KRB5_CONFIG is the realm's and KRB5CCNAME an empty cache of this test's, until a test
    sets them otherwise."""
    if importlib.util.find_spec("gssapi") is None:
        # pyspnego logs in with Kerberos through python-gssapi, the kerberos extra (built against libkrb5-dev)
        _unavailable("the kerberos extra is not installed: pip install -e '.[kerberos]' (needs libkrb5-dev, gcc)")
    realm = staging_stack.kerberos
    if realm is None:
        pytest.fail("the stand-in's ready file has no Kerberos realm: started by an older staging/up")
    monkeypatch.setenv("KRB5_CONFIG", str(realm.krb5_config))
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'no-ticket-cache'}")
    monkeypatch.delenv("KRB5_KTNAME", raising=False)
    return realm


@pytest.fixture
def acme_ca(staging_stack: StagingStack) -> AcmeCa:
    ca = staging_stack.acme
    if ca is None:
        pytest.fail("the stand-in's ready file has no ACME CA: started by an older staging/up")
    return ca


#: `openssl pkcs12 -export` options per kind of file
PFX_KINDS = {
    "legacy": ["-legacy"],  # RC2-40 certificate bag, 3DES key bag, SHA-1 MAC: what Windows 2016 imports
    "aes": [],  # OpenSSL 3's default: PBES2 AES-256-CBC, SHA-256 MAC
    "3des-sha256mac": ["-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha256"],
}


def _openssl(*args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["openssl", *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(f"openssl {args[0]} failed: {proc.stderr.strip()[-500:]}")
    return proc.stdout


@pytest.fixture(scope="session")
def _staging_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("staging-key") / "key.pem"
    _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(path))
    return path


@pytest.fixture
def staging_pfx(tmp_path: Path, canaries: Any, _staging_key: Path) -> Callable[..., PfxFile]:
    """``staging_pfx(kind="legacy", password=None, name="tms-cert.pfx") -> PfxFile``: a new self-signed
    certificate (its own serial, so its own thumbprint) on a shared RSA 2048 key, bundled with
    ``openssl pkcs12 -export`` (kinds: PFX_KINDS). The password (a canary unless given) reaches openssl
    through the environment; the key and the password are watched by the canaries."""
    canaries.register(_staging_key.read_text(), "private-key")

    def make(kind: str = "legacy", password: str | None = None, name: str = "tms-cert.pfx") -> PfxFile:
        if password is None:
            password = canaries.secret("pfx-password")
        else:
            canaries.register(password, "pfx-password")
        cn = f"tms-{secrets.token_hex(3)}.example.com"
        crt, pfx = tmp_path / f"{Path(name).stem}.crt", tmp_path / name
        _openssl(
            "req", "-x509", "-new", "-key", str(_staging_key), "-subj", f"/CN={cn}", "-days", "360", "-out", str(crt)
        )
        _openssl(
            "pkcs12",
            "-export",
            *PFX_KINDS[kind],
            "-inkey",
            str(_staging_key),
            "-in",
            str(crt),
            "-name",
            "tms-cert-key",
            "-out",
            str(pfx),
            "-passout",
            "env:STAGING_PFX_PASSWORD",
            env={"STAGING_PFX_PASSWORD": password},
        )
        fingerprint = _openssl("x509", "-in", str(crt), "-noout", "-fingerprint", "-sha1").strip()
        end = _openssl("x509", "-in", str(crt), "-noout", "-enddate").strip().split("=", 1)[1]
        not_after = datetime.strptime(end, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=timezone.utc)
        data = pfx.read_bytes()
        return PfxFile(
            path=pfx,
            cert_path=crt,
            password=password,
            subject=f"CN={cn}",
            thumbprint=fingerprint.split("=", 1)[1].replace(":", "").upper(),
            not_after=not_after.strftime("%Y-%m-%d %H:%M:%SZ"),
            sha256=hashlib.sha256(data).hexdigest().upper(),
            size=len(data),
        )

    return make


# ----------------------------------------------------------------------------------------------------
# how many staging tests ran (for .ci/run)
# ----------------------------------------------------------------------------------------------------

#: the worst outcome of a test's phases wins
_OUTCOME_ORDER = ("error", "failed", "xpassed", "skipped", "xfailed", "passed")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Count the tests marked ``staging`` by outcome (whatever directory they are in), print the counts, and
    write them to ``$TMS_STAGING_SUMMARY_FILE`` as JSON."""
    seen: dict[str, set[str]] = {}
    seconds = 0.0
    for category, reports in terminalreporter.stats.items():
        for report in reports:
            if "staging" not in getattr(report, "keywords", {}) or not getattr(report, "nodeid", ""):
                continue
            outcome = category if category in _OUTCOME_ORDER else ("passed" if category == "" else None)
            if outcome is None:
                continue
            seen.setdefault(report.nodeid, set()).add(outcome)
            seconds += getattr(report, "duration", 0.0)
    counts: dict[str, Any] = dict.fromkeys(_OUTCOME_ORDER, 0)
    by_file: dict[str, dict[str, int]] = {}
    for nodeid, outcomes in seen.items():
        outcome = next(o for o in _OUTCOME_ORDER if o in outcomes)
        counts[outcome] += 1
        per_file = by_file.setdefault(Path(nodeid.split("::", 1)[0]).name, dict.fromkeys(_OUTCOME_ORDER, 0))
        per_file[outcome] += 1
    ran = sum(n for o, n in counts.items() if o != "skipped")
    line = ", ".join(f"{n} {o}" for o, n in counts.items() if n)
    terminalreporter.write_line(f"staging tests: {ran} ran ({line or 'none'}) in {seconds:.1f} s")
    path = os.environ.get("TMS_STAGING_SUMMARY_FILE")
    if path:
        summary = {
            "ran": ran,
            **counts,
            "collected": len(seen),
            "seconds": round(seconds, 1),
            "session_stack": _SESSION_STACK.get("how", "none"),
            "by_file": by_file,
        }
        Path(path).write_text(json.dumps(summary) + "\n", encoding="utf-8")
