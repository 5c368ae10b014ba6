"""The fault matrix: `tmsclient upload` against every emulator fault knob and every server-side rejection.

Each row states the exit code, a stable fragment of the one-line message, and what the emulator must hold
afterwards: the site ``unchanged``, or ``changed`` (the new certificate stored, and for exit 0 verified).
Every row is also held to the invariant, whatever the row says:

- exit 0 ("success") => TMS holds the certificate that was uploaded, and nothing else on TMS changed;
- exit != 0 and TMS changed => the report says the change may have happened (exit 22, or the message or a
  detail line says so). Never "failed" for a change that did happen without saying so.

Some faults must strike between the client's read of the form and its Save (a session that expires, a page
that changes, a Save that is slow); those rows wrap ``Driver.save`` to act on the emulator at that moment.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.helpers.emulated import Tms
from tmsclient.credentials import Secret
from tmsclient.exitcodes import ExitCode
from tmsclient.tms.driver import Driver
from tmsemulator import Faults, SiteData
from tmsemulator.config import default_sites

#: A hook around the Save: ``hook(tms, save, plan)`` must call ``save(plan)`` (or a changed plan) itself.
SaveHook = Callable[[Any, Callable[[Any], Any], Any], Any]


@dataclass(frozen=True)
class Row:
    id: str
    #: What it exercises: fault knobs (their Faults field names), emulator settings or rejections.
    covers: tuple[str, ...]
    code: ExitCode
    fragment: str  # in the one-line message on stderr (for exit 0: in the JSON report's warnings/notes)
    state: str  # "changed" or "unchanged"
    emulator: Mapping[str, Any] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    pfx: str = "good"
    site: str = "acme"
    user: str = "admin"  # admin, bob (no Site Administrator), wrong-password
    around_save: SaveHook | None = None
    setup: Callable[[Any], None] | None = None
    verification: str | None = None  # for exit 0: "certificate" or "fields-only"
    requests: int | None = None  # requests the emulator counted, where the row pins it
    xfail: str | None = None


# ----------------------------------------------------------------------------------------------- hooks


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll a condition on the emulator's state (synchronising on it, not on time)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def settled(t: Tms) -> bool:
    """Every request the emulator accepted has been answered (or dropped): nothing is still in flight."""
    state = t.em.state()
    return bool(len(state["request_log"]) >= state["counters"]["requests"])


def save_decided(t: Tms) -> bool:
    c = t.em.state()["counters"]
    return bool(c["saves_applied"] + c["saves_refused"] > 0)


def expire_sessions_before_save(t: Any, save: Callable[[Any], Any], plan: Any) -> Any:
    t.em.expire_sessions()
    return save(plan)


def clock_jumps_before_save(t: Any, save: Callable[[Any], Any], plan: Any) -> Any:
    t.clock[0] += 3600  # an hour passes between reading the form and saving it
    return save(plan)


def fake_clock(t: Any) -> None:
    t.clock = [1000.0]
    t.em.clock = lambda: t.clock[0]


def layout_switches_before_save(profile: str) -> SaveHook:
    def hook(t: Any, save: Callable[[Any], Any], plan: Any) -> Any:
        t.em.set_faults(layout_change=profile)
        t.em.layout_change_after_get()  # the one-shot switch, now: between the form's read and its Save
        assert t.em.state()["active_profile"] == profile
        return save(plan)

    hook.__name__ = f"switch_to_{profile.replace('-', '_')}"
    return hook


def tms_sees_another_password(t: Any, save: Callable[[Any], Any], plan: Any) -> Any:
    """TMS decodes the posted password differently from the client that opened the file with it (a charset
    mismatch, a proxy rewriting the body): what reaches TMS does not open the .pfx."""
    password = plan.view.require("certificate_password").field.name
    wrong = plan.submission.set(password, Secret("Not-the-pfx-password-7", "test"))
    return save(dataclasses.replace(plan, submission=wrong))


def slow_save_done_before_reread(t: Any, save: Callable[[Any], Any], plan: Any) -> Any:
    """The Save is answered after the client's --upload-timeout; TMS finishes it before the client re-reads."""
    t.em.set_faults(delay_ms=600)
    try:
        return save(plan)
    except BaseException:
        wait_until(lambda: save_decided(t), "the slow Save to be decided")
        raise
    finally:
        t.em.set_faults(delay_ms=0)


def slow_save_done_after_reread(t: Any, save: Callable[[Any], Any], plan: Any) -> Any:
    """The Save is answered after the client's --upload-timeout, and TMS is still importing the file when the
    client re-reads the site: the re-read shows the old certificate, the new one lands a moment later."""
    t.em.set_faults(delay_ms=1500)
    try:
        return save(plan)
    finally:
        t.em.set_faults(delay_ms=0)


def reread_times_out(t: Any, save: Callable[[Any], Any], plan: Any) -> Any:
    """After the Save, TMS becomes slower than the client's --timeout: the re-read cannot tell."""
    try:
        return save(plan)
    finally:
        t.em.set_faults(delay_ms=900)


# ------------------------------------------------------------------------------------------------ rows

ROWS: tuple[Row, ...] = (
    Row("baseline", ("none",), ExitCode.OK, "", "changed", verification="certificate", requests=8),
    # The .pfx's certificate is seeded in the site (_seed_certificate): nothing to do, no Save posted.
    Row("already-installed", ("idempotent",), ExitCode.OK, "", "unchanged", verification="certificate"),
    # -- a Save that fails on the server
    Row(
        "save-500",
        ("save_500",),
        ExitCode.SERVER_ERROR,
        "TMS answered HTTP 500 to the Save of site acme.webex.com/acme: Timeout",
        "unchanged",
        emulator={"faults": {"save_500": True}},
    ),
    Row(
        "save-500-reread-fails",
        ("save_500", "delay_ms"),
        ExitCode.SERVER_ERROR,
        "TMS answered HTTP 500 to the Save",
        "unchanged",
        emulator={"faults": {"save_500": True}},
        args=("--timeout", "0.4"),
        around_save=reread_times_out,
    ),
    Row(
        "request-too-large",
        ("max_request_bytes",),
        ExitCode.SERVER_ERROR,
        "Maximum request length exceeded",
        "unchanged",
        emulator={"max_request_bytes": 4000},
    ),
    # -- the connection breaks after the Save's body went out
    Row(
        "drop-applied",
        ("drop_after_save",),
        ExitCode.OK,
        "connection broke",
        "changed",
        emulator={"faults": {"drop_after_save": "applied"}},
        verification="certificate",
    ),
    Row(
        "drop-not-applied",
        ("drop_after_save",),
        ExitCode.CONNECTION,
        "TMS did not store the new certificate",
        "unchanged",
        emulator={"faults": {"drop_after_save": "not-applied"}},
    ),
    Row(
        "drop-applied-no-details",
        ("drop_after_save", "cert_details"),
        ExitCode.OUTCOME_UNKNOWN,
        "whether the Save was applied is unknown",
        "changed",
        emulator={"faults": {"drop_after_save": "applied"}, "cert_details": "none"},
    ),
    Row(
        "drop-not-applied-no-details",
        ("drop_after_save", "cert_details"),
        ExitCode.OUTCOME_UNKNOWN,
        "whether the Save was applied is unknown",
        "unchanged",
        emulator={"faults": {"drop_after_save": "not-applied"}, "cert_details": "none"},
    ),
    Row(
        "drop-applied-no-details-changed-field",
        ("drop_after_save", "cert_details"),
        ExitCode.OK,
        "use_sso",
        "changed",
        emulator={"faults": {"drop_after_save": "applied"}, "cert_details": "none"},
        args=("--enable-sso",),
        site="acmeeu",
        verification="fields-only",
    ),
    Row(
        "drop-applied-reread-fails",
        ("drop_after_save", "delay_ms"),
        ExitCode.OUTCOME_UNKNOWN,
        "TMS may or may not have stored the certificate",
        "changed",
        emulator={"faults": {"drop_after_save": "applied"}},
        args=("--timeout", "0.4"),
        around_save=reread_times_out,
    ),
    # -- slow answers
    Row(
        "slow-timeout-shorter",
        ("delay_ms",),
        ExitCode.TIMEOUT,
        "did not answer within 0.15 s",
        "unchanged",
        emulator={"faults": {"delay_ms": 400}},
        args=("--timeout", "0.15"),
    ),
    Row(
        "slow-timeout-longer",
        ("delay_ms",),
        ExitCode.OK,
        "",
        "changed",
        emulator={"faults": {"delay_ms": 40}},
        args=("--timeout", "5"),
        verification="certificate",
    ),
    Row(
        "slow-save-done-before-reread",
        ("delay_ms", "upload_timeout"),
        ExitCode.OK,
        "TMS stored it",
        "changed",
        args=("--upload-timeout", "0.2"),
        around_save=slow_save_done_before_reread,
        verification="certificate",
    ),
    Row(
        "slow-save-done-after-reread",
        ("delay_ms", "upload_timeout"),
        ExitCode.OUTCOME_UNKNOWN,
        "may",
        "changed",
        args=("--upload-timeout", "0.2"),
        around_save=slow_save_done_after_reread,
    ),
    # -- the login does not carry over from the form's read to its Save
    Row(
        "session-expiry-requests",
        ("session_expiry_requests",),
        ExitCode.OK,
        "answered a POST with 401",
        "changed",
        emulator={"faults": {"session_expiry_requests": 3}},
        verification="certificate",
    ),
    Row(
        "session-expiry-before-reread",
        ("session_expiry_requests",),
        ExitCode.OK,
        "",
        "changed",
        emulator={"faults": {"session_expiry_requests": 4}},
        verification="certificate",
    ),
    Row(
        "session-expiry-seconds",
        ("session_expiry_seconds",),
        ExitCode.OK,
        "answered a POST with 401",
        "changed",
        emulator={"faults": {"session_expiry_seconds": 60.0}},
        setup=fake_clock,
        around_save=clock_jumps_before_save,
        verification="certificate",
    ),
    Row(
        "sessions-expired-between-get-and-post",
        ("expire_sessions",),
        ExitCode.OK,
        "answered a POST with 401",
        "changed",
        around_save=expire_sessions_before_save,
        verification="certificate",
    ),
    Row(
        "reauth-every-request",
        ("reauth_every_request",),
        ExitCode.OK,
        "answered a POST with 401",
        "changed",
        emulator={"faults": {"reauth_every_request": True}},
        verification="certificate",
    ),
    # -- the page changes while the client walks it
    Row(
        "layout-relabelled-after-get",
        ("layout_change",),
        ExitCode.PAGE_NOT_UNDERSTOOD,
        "matches host_name",
        "unchanged",
        emulator={"faults": {"layout_change": "tms15-relabelled"}},
    ),
    Row(
        "layout-cells-after-get",
        ("layout_change",),
        ExitCode.SERVER_ERROR,
        "Failed to load viewstate",
        "unchanged",
        emulator={"faults": {"layout_change": "tms15-cells"}},
    ),
    Row(
        "layout-labelfor-after-get",
        ("layout_change",),
        ExitCode.SERVER_ERROR,
        "Failed to load viewstate",
        "unchanged",
        emulator={"faults": {"layout_change": "tms15-labelfor"}},
    ),
    Row(
        "layout-cells-before-save",
        ("layout_change",),
        ExitCode.SERVER_ERROR,
        "Failed to load viewstate",
        "unchanged",
        around_save=layout_switches_before_save("tms15-cells"),
    ),
    Row(
        "layout-relabelled-before-save",
        ("layout_change",),
        ExitCode.VERIFY_FAILED,
        "TMS accepted the Save",
        "changed",
        around_save=layout_switches_before_save("tms15-relabelled"),
    ),
    # -- TMS refuses the certificate on Save (its words in the message)
    Row(
        "tms-sees-wrong-password",
        ("password",),
        ExitCode.REJECTED,
        "The specified network password is not correct.",
        "unchanged",
        around_save=tms_sees_another_password,
    ),
    Row(
        "aes-on-2016",
        ("server_os",),
        ExitCode.REJECTED,
        "The specified network password is not correct.",
        "unchanged",
        pfx="aes",
        args=("--target-os", "2019"),
        emulator={"server_os": "2016"},
    ),
    Row(
        "aes-on-2019",
        ("server_os",),
        ExitCode.OK,
        "",
        "changed",
        pfx="aes",
        args=("--target-os", "2019"),
        emulator={"server_os": "2019"},
        verification="certificate",
    ),
    Row(
        "no-key",
        ("private-key",),
        ExitCode.REJECTED,
        "The certificate does not have a private key.",
        "unchanged",
        pfx="nokey",
        args=("--no-preflight",),
    ),
    Row(
        "key-mismatch",
        ("key-match",),
        ExitCode.REJECTED,
        "The private key does not match the certificate.",
        "unchanged",
        pfx="mismatch",
        args=("--no-preflight",),
    ),
    Row(
        "expired",
        ("expired",),
        ExitCode.REJECTED,
        "The certificate has expired.",
        "unchanged",
        pfx="expired",
        args=("--no-preflight",),
    ),
    Row(
        "not-yet-valid",
        ("not-yet-valid",),
        ExitCode.REJECTED,
        "The certificate is not yet valid.",
        "unchanged",
        pfx="future",
        args=("--no-preflight",),
    ),
    Row(
        "preflight-refuses-aes",
        ("preflight",),
        ExitCode.CERT_UNFIT,
        "not fit for TMS on Windows Server 2016",
        "unchanged",
        pfx="aes",
        requests=0,
    ),
    # -- who logs in
    Row("not-site-administrator", ("admins",), ExitCode.NOT_ADMIN, "Access Denied", "unchanged", user="bob"),
    Row("wrong-tms-password", ("users",), ExitCode.AUTH, "refused the login", "unchanged", user="wrong-password"),
    Row("basic-auth", ("auth",), ExitCode.OK, "", "changed", emulator={"auth": "basic"}, verification="certificate"),
    Row(
        "extended-protection",
        ("extended_protection",),
        ExitCode.OK,
        "",
        "changed",
        emulator={"extended_protection": True},
        verification="certificate",
    ),
    Row(
        "fields-only-details",
        ("cert_details",),
        ExitCode.OK,
        "fields-only",
        "changed",
        emulator={"cert_details": "none"},
        verification="fields-only",
    ),
    Row(
        "other-webex-page-id",
        ("webex_page_id",),
        ExitCode.OK,
        "",
        "changed",
        emulator={"webex_page_id": 4242},
        verification="certificate",
    ),
)


def _params() -> list[Any]:
    out = []
    for row in ROWS:
        marks = [pytest.mark.xfail(strict=True, reason=row.xfail)] if row.xfail else []
        out.append(pytest.param(row, id=row.id, marks=marks))
    return out


# ------------------------------------------------------------------------------------------------ helpers


def _seed_certificate(pfx_file: Any) -> list[Any]:
    """The default sites with ``acme`` already holding the .pfx's certificate (the idempotent case)."""
    cert = pkcs12.load_key_and_certificates(pfx_file.path.read_bytes(), pfx_file.password.encode())[1]
    assert cert is not None
    sites = []
    for site in default_sites():
        data = site.to_json()
        if site.site_name == "acme":
            data["certificate"] = {
                "subject": cert.subject.rfc4514_string(),
                "thumbprint_sha1": pfx_file.thumbprint,
                "not_after": cert.not_valid_after_utc.isoformat().replace("+00:00", "Z"),
            }
        sites.append(SiteData.from_json(data))
    return sites


def _sites_without(state: dict[str, Any], site_name: str) -> dict[str, Any]:
    return {"global": state["global"], "sites": [s for s in state["sites"] if s["site_name"] != site_name]}


def admits_possible_change(code: int, error: dict[str, Any]) -> bool:
    """Whether a failure report tells the user that TMS may have applied the Save after all."""
    if code == ExitCode.OUTCOME_UNKNOWN:
        return True
    words = " ".join([error.get("message") or "", error.get("hint") or "", *error.get("details", [])]).lower()
    denies = ("nothing was changed", "nothing was applied", "did not store", "was not applied", "nothing was sent")
    if any(w in words for w in denies):
        return False
    return any(
        w in words
        for w in ("may or may not", "may have", "may still", "anyway", "tms stored", "tms accepted", "tms applied")
    )


def assert_invariant(result: Any, before: dict[str, Any], after: dict[str, Any], site: str, thumbprint: str) -> None:
    """Never changed while failure is reported without saying so; never unchanged while success is."""
    target_before = next(s for s in before["sites"] if s["site_name"] == site)
    target_after = next(s for s in after["sites"] if s["site_name"] == site)
    changed = before["sites"] != after["sites"] or before["global"] != after["global"]
    holds = (target_after["certificate"] or {}).get("thumbprint_sha1") == thumbprint
    if result.code == ExitCode.OK:
        assert holds, f"success reported, but TMS does not hold the certificate {thumbprint}: {result!r}"
        assert _sites_without(after, site) == _sites_without(before, site), "another site or setting changed"
        report = result.json
        if report["action"] == "uploaded":
            assert changed or target_before["certificate"] == target_after["certificate"] is not None, (
                f"'uploaded' reported but nothing on TMS changed: {result!r}"
            )
            assert after["counters"]["saves_applied"] > before["counters"]["saves_applied"], (
                "'uploaded' reported but TMS applied no Save"
            )
    else:
        assert result.json["ok"] is False
        if changed:
            assert admits_possible_change(result.code, result.json["error"]), (
                f"TMS changed, but the failure report does not say the Save may have been applied: {result!r}"
            )


# ------------------------------------------------------------------------------------------------ the test


@pytest.mark.parametrize("row", _params())
def test_fault_matrix(row: Row, cli: Any, tms: Any, pfx: Any, canaries: Any, monkeypatch: Any) -> None:
    f = pfx(row.pfx)
    emulator = dict(row.emulator)
    if row.id == "already-installed":
        emulator["sites"] = _seed_certificate(f)
    t = tms(**emulator)
    if row.setup:
        row.setup(t)
    if row.around_save:
        original = Driver.save
        hook = row.around_save

        def save(self: Any, plan: Any) -> Any:
            return hook(t, lambda p: original(self, p), plan)

        monkeypatch.setattr(Driver, "save", save)

    env = {**t.env, **f.env}
    user = ("TMSLAB", "bob") if row.user == "bob" else ("TMSLAB", "admin")
    if row.user == "bob":
        env["TMSCLIENT_TMS_PASSWORD"] = t.user_password
    elif row.user == "wrong-password":
        env["TMSCLIENT_TMS_PASSWORD"] = canaries.secret("wrong-tms-password")
    url_args = t.target(user=user)
    if emulator.get("auth") == "basic":
        url_args += ["--auth", "basic"]
    before = t.state()
    result = cli("upload", *url_args, "--site", row.site, "--pfx", str(f.path), "--json", *row.args, env=env)
    wait_until(lambda: settled(t), "every request to be answered")
    after = t.state()

    # The invariant first (a row marked xfail fails here, for the reason it names), then the row's own
    # expectations: exit code, message, state.
    assert_invariant(result, before, after, row.site, f.thumbprint)
    assert result.code == row.code, result
    if row.code == ExitCode.OK:
        report = result.json
        assert report["ok"] is True
        assert report["verification"] == row.verification, result
        if row.fragment:
            said = " ".join([*report["warnings"], *report["notes"]])
            assert row.fragment in said, result
        expected_action = "unchanged" if row.state == "unchanged" else "uploaded"
        assert report["action"] == expected_action, result
    else:
        errors = [line for line in result.err.splitlines() if line.startswith("tmsclient: error: ")]
        assert len(errors) == 1, result  # one line (detail lines, if any, are indented under it)
        assert row.fragment in errors[0], result
        assert "Traceback" not in result.err
    target = t.site(row.site, after)
    if row.state == "changed":
        assert (target["certificate"] or {}).get("thumbprint_sha1") == f.thumbprint, after["save_log"]
        assert (target["certificate"] or {}).get("pfx_sha256") == f.sha256
    else:
        assert after["sites"] == before["sites"] and after["global"] == before["global"], after["save_log"]
    if row.requests is not None:
        assert after["counters"]["requests"] == row.requests


def test_every_fault_knob_has_a_row() -> None:
    knobs = {f.name for f in dataclasses.fields(Faults)}
    covered = {c for row in ROWS for c in row.covers}
    assert knobs <= covered, f"fault knobs without a row: {sorted(knobs - covered)}"
    assert len(ROWS) >= 12


@pytest.mark.parametrize(
    ("code", "error", "admits"),
    [
        (ExitCode.OUTCOME_UNKNOWN, {"message": "x"}, True),
        (
            ExitCode.CONNECTION,
            {"message": "the connection broke and TMS did not store it", "hint": "rerun; nothing was changed"},
            False,
        ),
        (
            ExitCode.SERVER_ERROR,
            {"message": "HTTP 500", "details": ["a re-read shows the new certificate anyway"]},
            True,
        ),
        (ExitCode.REJECTED, {"message": "TMS refused the Save", "hint": "fix it; nothing was changed"}, False),
        (ExitCode.AUTH, {"message": "TMS answered the Save with 401; nothing was applied"}, False),
        (ExitCode.VERIFY_FAILED, {"message": "TMS accepted the Save, but the re-read does not show it"}, True),
    ],
)
def test_the_invariant_can_fail(code: ExitCode, error: dict[str, Any], admits: bool) -> None:
    """The generic check is not a tautology: a failure that says nothing of a possible change is caught."""
    assert admits_possible_change(code, error) is admits
