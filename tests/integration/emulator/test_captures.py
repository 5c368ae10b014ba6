"""Captures end to end: `discover --capture` of a live TMS, and every capture in fixtures/captures/ replayed by the
emulator (`--capture`) with discover, show, upload and verify, so that a user's capture is a test by adding a file."""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from tests.helpers.paths import REPO
from tmsclient.exitcodes import ExitCode
from tmsemulator.profiles import PROFILES

CAPTURES = sorted((REPO / "fixtures" / "captures").glob("*.json"))
_THUMBPRINT = re.compile(r">\s*(?:[0-9A-Fa-f]{2}[ :-]?){19}[0-9A-Fa-f]{2}\s*<")


def _profile_args(doc: dict[str, Any], tmp_path: Path) -> list[str]:
    """The page profile the capture was made with (a user's edited one), for the replay."""
    if not doc.get("page_profile"):
        return []
    path = tmp_path / "capture-profile.toml"
    path.write_text(doc["page_profile"], encoding="utf-8")
    return ["--page-profile", str(path)]


def _replay_passes(cli: Any, tms: Any, pfx: Any, capture: Path, tmp_path: Path) -> None:
    """discover, show, upload and verify against the emulator serving ``capture``; a Save stored in its state."""
    doc = json.loads(capture.read_text(encoding="utf-8"))
    profile = _profile_args(doc, tmp_path)
    t = tms(capture=str(capture))
    found = cli("discover", *t.target(), "--json", *profile, env=t.env)
    assert found.code == 0, found
    assert [(s["host_name"], s["site_name"]) for s in found.json["sites"]] == [
        (s["host_name"], s["site_name"]) for s in doc["sites"]
    ]
    assert cli("show", *t.target(), "--json", *profile, env=t.env).code == 0
    site = next(s for s in doc["sites"] if s["form"] is not None)
    good, other = pfx(name="good.pfx"), pfx(name="other.pfx")
    env = {**t.env, **good.env}
    up = cli("upload", *t.target(), "--site", site["host_name"], "--pfx", str(good.path), *profile, env=env)
    assert up.code == 0, up
    state = t.state()
    assert state["save_log"][-1]["outcome"] == "stored"
    stored = next(s for s in state["sites"] if s["id"] == site["form"])
    assert stored["certificate"]["thumbprint_sha1"] == good.thumbprint
    ok = cli("verify", *t.target(), "--site", site["host_name"], "--pfx", str(good.path), "--json", *profile, env=env)
    assert ok.code == 0, ok
    shows_thumbprint = _THUMBPRINT.search(doc["pages"][site["form"]]["body"]) is not None
    assert ok.json["verification"] == ("certificate" if shows_thumbprint else "fields-only")
    if shows_thumbprint:
        # The replay shows what was stored, not what was captured: another certificate does not match.
        bad = cli("verify", *t.target(), "--site", site["host_name"], "--pfx", str(other.path), *profile, env=env)
        assert bad.code == ExitCode.VERIFY_FAILED, bad
    assert t.counters()["saves_applied"] == 1


def test_there_are_captures_of_every_emulator_profile_and_of_staging():
    names = {p.name for p in CAPTURES}
    assert {f"emulator-{name}.json" for name in PROFILES} <= names, "run scripts/make-captures"
    assert "staging.json" in names


@pytest.mark.parametrize("capture", CAPTURES, ids=[p.stem for p in CAPTURES])
def test_every_capture_replays_with_discover_show_upload_and_verify(cli, tms, pfx, tmp_path, capture):
    _replay_passes(cli, tms, pfx, capture, tmp_path)


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_a_fresh_capture_of_every_profile_replays(cli, tms, pfx, page_profile, tmp_path, profile):
    """Not only the files in the repository: what discover writes today replays today."""
    live = tms(page_profile=profile)
    out = tmp_path / "capture.json"
    made = cli("discover", *live.target(), "--capture", str(out), "--anonymize", *page_profile(profile), env=live.env)
    assert made.code == 0, made
    assert live.counters()["saves_applied"] == 0 and live.counters()["saves_refused"] == 0
    _replay_passes(cli, tms, pfx, out, tmp_path)


def test_discover_capture_of_a_live_tms_is_redacted_and_anonymized(cli, tms, tmp_path):
    t = tms(page_profile="tms15-evidence")
    profile = PROFILES["tms15-evidence"]
    out = tmp_path / "capture.json"
    result = cli("discover", *t.target(), "--capture", str(out), "--anonymize", "--json", env=t.env)
    assert result.code == 0, result
    assert result.json["capture"]["pages"] == 5 and result.json["capture_written"] == str(out)
    assert out.stat().st_mode & 0o777 == 0o600
    raw = out.read_bytes()
    doc = json.loads(raw)
    # The start page, the WebEx Settings page and each of the three sites' forms.
    assert [p["what"] for p in doc["pages"]][:2] == ["the TMS start page", "the WebEx Settings page"]
    assert [s["form"] for s in doc["sites"]] == [2, 3, 4]
    text = raw.decode("utf-8").casefold()
    identifying = [
        "acme.webex.com",
        "acme-eu.webex.com",
        "acme-training.webex.com",
        "acmeeu",
        "training",
        "TMSLAB",
        "tmslab\\\\admin",
        '"admin',
        "127.0.0.1",
        str(profile.footer_serial),
        profile.footer_host,
    ]
    for value in identifying:
        assert value.casefold() not in text, f"{value} is in the capture"
    assert "s/n: sn00000001 (tms2.example.invalid)" in text
    # The password the walk logged in with, in any form it could take (the canary watch sees the raw one).
    for form in (
        t.admin_password,
        quote(t.admin_password, safe=""),
        quote_plus(t.admin_password),
        html.escape(t.admin_password),
        base64.b64encode(t.admin_password.encode()).decode()[:-4],
    ):
        assert form.casefold() not in text
    names = {h["name"] for h in doc["manifest"]["hidden_values_replaced"]}
    assert {"__VIEWSTATE", "__EVENTVALIDATION", "__VIEWSTATEGENERATOR"} <= names
    assert "Set-Cookie" in doc["manifest"]["response_headers_dropped"]
    assert "asp.net_sessionid" not in text and "www-authenticate" not in text


def test_a_capture_without_anonymize_keeps_names_but_never_view_state(cli, tms, tmp_path):
    t = tms()
    out = tmp_path / "capture.json"
    assert cli("discover", *t.target(), "--capture", str(out), env=t.env).code == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["anonymized"] is False and doc["sites"][0]["host_name"] == "acme.webex.com"
    for page in doc["pages"]:
        values = re.findall(r'name="__(?:VIEWSTATE|EVENTVALIDATION)" id="[^"]*" value="([^"]*)"', page["body"])
        assert values and all(v.startswith("[redacted") for v in values)


def test_a_capture_is_never_overwritten_without_force_and_nothing_is_fetched(cli, tms, tmp_path):
    t = tms()
    out = tmp_path / "capture.json"
    out.write_text("mine\n", encoding="utf-8")
    refused = cli("discover", *t.target(), "--capture", str(out), env=t.env)
    assert refused.code == ExitCode.OUTPUT_FILE, refused
    assert out.read_text(encoding="utf-8") == "mine\n" and t.counters()["requests"] == 0
    assert cli("discover", *t.target(), "--capture", str(out), "--force", env=t.env).code == 0
    assert json.loads(out.read_text(encoding="utf-8"))["format"] == "tmsclient-capture"


def test_anonymize_without_capture_is_a_usage_error(cli, tms):
    t = tms()
    result = cli("discover", *t.target(), "--anonymize", env=t.env)
    assert result.code == ExitCode.USAGE and "--capture" in result.err
    assert t.counters()["requests"] == 0


def test_a_walk_that_fails_still_writes_the_pages_it_fetched(cli, tms, tmp_path):
    """The failure is when a report needs a capture most: a menu path this TMS does not have."""
    t = tms()
    profile = tmp_path / "other-menu.toml"
    profile.write_text('menu_path = ["Setup", "Conferencing", "WebEx"]\n', encoding="utf-8")
    out = tmp_path / "capture.json"
    result = cli("discover", *t.target(), "--page-profile", str(profile), "--capture", str(out), env=t.env)
    assert result.code == ExitCode.PAGE_NOT_UNDERSTOOD, result
    assert f"the 1 page(s) fetched before this are in the capture {out}" in result.err
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [p["what"] for p in doc["pages"]] == ["the TMS start page"] and doc["sites"] == []
    assert "Administrative Tools" in doc["pages"][0]["body"]
    assert doc["page_profile"] == profile.read_text(encoding="utf-8")
    assert doc["notes"] and "no menu entry Setup > Conferencing > WebEx" in doc["notes"][-1]
