"""The emulator serving a capture (tmsemulator/capture.py): its own view state, event validation and storage."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.emulator import Browser
from tests.helpers.paths import REPO
from tmsemulator.__main__ import main as emulator_main
from tmsemulator.capture import Replay, read_capture, tokenize
from tmsemulator.errors import ConfigError, InputFileError
from tmsemulator.forms import PostedForm, Upload
from tmsemulator.pages import ERROR_LABEL_ID, INFO_LABEL_ID
from tmsemulator.viewstate import Codec

CAPTURES = sorted((REPO / "fixtures" / "captures").glob("*.json"))
PFX_PASSWORD = "Pfx pw & more:1"
OLD_THUMBPRINT = "3b 7e 0c 5a 9d 41 f2 6b 8c 0e 1a 7d 5f 33 92 c4 e6 b1 8a 07"


def chrome(body: str, *, hidden: str = "") -> str:
    return f"""<!DOCTYPE html>
<html><body><form method="post" action="./default.aspx?pageId=83" id="aspnetForm" enctype="multipart/form-data">
<input type="hidden" name="__EVENTTARGET" id="__EVENTTARGET" value="" />
<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="[redacted __VIEWSTATE]" />
<input type="hidden" name="ctl00$other" value="[redacted ctl00$other]" />{hidden}
<span id="{ERROR_LABEL_ID}" class="ErrorLabel"></span><span id="{INFO_LABEL_ID}"></span>
{body}
<input type="hidden" name="__VIEWSTATEGENERATOR" id="__VIEWSTATEGENERATOR" value="[redacted __VIEWSTATEGENERATOR]" />
<input type="hidden" name="__EVENTVALIDATION" id="__EVENTVALIDATION" value="[redacted __EVENTVALIDATION]" />
</form><div>S/N: SN00000001 (tms2.example.invalid)</div></body></html>
"""


GRID = chrome(
    "<table><tr><th>Host Name</th><th>Site Name</th></tr><tr><td>site1.webex.example.invalid</td><td>site1</td>"
    "<td><a href=\"javascript:__doPostBack('grid$ctl02$edit','')\">Edit</a></td></tr></table>"
)
FORM = chrome(
    """<table>
<tr><td>Host Name</td><td><input name="f$host" type="text" value="site1.webex.example.invalid" /></td></tr>
<tr><td>Bandwidth</td><td><select name="f$bw"><option value="Low">Low</option>
<option selected="selected" value="High">High</option></select></td></tr>
<tr><td>Use SSO</td><td><input type="radio" name="f$sso" value="on" checked="checked" /><label>On</label>
<input type="radio" name="f$sso" value="off" /><label>Off</label></td></tr>
<tr><td>Certificate</td><td><input type="file" name="f$cert" /></td></tr>
<tr><td>Serial Number</td><td>4F1A0C3B9E2D7788</td></tr>
<tr><td>Subject</td><td>CN=tms.site1.example, O=ACME Corp</td></tr>
<tr><td>Expiration Date</td><td>26 November 2027 12:00:00</td></tr>
<tr><td>Thumbprint</td><td>"""
    + OLD_THUMBPRINT
    + """</td></tr>
<tr><td>Password</td><td><input type="password" name="f$pw" /></td></tr>
<tr><td>Partner Name</td><td><input name="f$partner" type="text" value="tms.site1.example" /></td></tr>
<tr><td><input type="submit" name="f$save" value="Save" />
<input type="submit" name="f$cancel" value="Cancel" /></td></tr>
</table>"""
)
CAPTURE: dict[str, Any] = {
    "format": "tmsclient-capture",
    "version": 1,
    "tool": "test",
    "anonymized": True,
    "sites": [{"host_name": "site1.webex.example.invalid", "site_name": "site1", "default": "Yes", "form": 2}],
    "pages": [
        {"method": "GET", "url": "/tms/", "status": 200, "headers": {}, "body": chrome("<h2>Welcome</h2>")},
        {"method": "GET", "url": "/tms/default.aspx?pageId=83", "status": 200, "headers": {}, "body": GRID},
        {
            "method": "POST",
            "url": "/tms/default.aspx?pageId=83",
            "status": 200,
            "headers": {},
            "body": FORM,
            "event_target": "grid$ctl02$edit",
            "field_names": ["__EVENTTARGET", "__VIEWSTATE"],
        },
    ],
}


@pytest.fixture
def replay() -> Replay:
    return Replay(json.loads(json.dumps(CAPTURE)), Codec(), "2016")


def hidden(page: str, name: str) -> str:
    m = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
    assert m is not None, name
    return m.group(1)


def post(
    replay: Replay,
    page: str,
    *fields: tuple[str, str],
    files: Sequence[tuple[str, Upload]] = (),
    url: str = "/tms/default.aspx?pageId=83",
) -> tuple[int, str, list[dict[str, Any]]]:
    given = {n for n, _ in fields}
    base = [(n, hidden(page, n)) for n in ("__EVENTTARGET", "__VIEWSTATE", "__EVENTVALIDATION") if n not in given]
    saves: list[dict[str, Any]] = []
    status, body, _ = replay.post(url, PostedForm((*base, *fields), tuple(files)), saves.append, save_500=False)
    return status, body, saves


def open_form(replay: Replay) -> str:
    grid = replay.get("/tms/default.aspx?pageId=83")[1]
    status, body, _ = post(replay, grid, ("__EVENTTARGET", "grid$ctl02$edit"))
    assert status == 200 and 'name="f$host"' in body
    return body


def field_value(page: str, name: str) -> str | None:
    m = re.search(rf'<input name="{re.escape(name)}" type="text" value="([^"]*)"', page)
    return str(m.group(1)) if m else None


@pytest.mark.parametrize("capture", CAPTURES, ids=[p.stem for p in CAPTURES])
def test_a_page_splits_into_tokens_that_join_back_into_it(capture):
    for page in read_capture(capture)["pages"]:
        assert "".join(t.raw for t in tokenize(page["body"])) == page["body"]


def test_pages_get_the_emulators_own_hidden_fields_and_keep_other_placeholders(replay):
    status, page, _ = replay.get("/TMS/Default.aspx?pageId=83")
    assert status == 200
    assert replay.codec.decode_view_state(hidden(page, "__VIEWSTATE"))["cap"] == 1
    replay.codec.decode_event_validation(hidden(page, "__EVENTVALIDATION"))
    assert re.fullmatch(r"[0-9A-F]{8}", hidden(page, "__VIEWSTATEGENERATOR"))
    assert hidden(page, "ctl00$other") == "[redacted ctl00$other]"
    assert replay.get("/tms/")[1].count("<h2>Welcome</h2>") == 1
    assert replay.get("/tms/default.aspx?pageId=99")[0] == 404


def test_a_tampered_view_state_or_an_unrendered_value_is_refused_as_aspnet_does(replay):
    grid = replay.get("/tms/default.aspx?pageId=83")[1]
    forged = grid.replace(hidden(grid, "__VIEWSTATE"), hidden(grid, "__VIEWSTATE")[:-4] + "AAAA")
    status, body, _ = post(replay, forged, ("__EVENTTARGET", "grid$ctl02$edit"))
    assert status == 500 and "Validation of viewstate MAC failed" in body
    status, body, _ = post(replay, grid, ("__EVENTTARGET", "grid$ctl09$edit"))
    assert status == 500 and "Invalid postback or callback argument" in body
    form = open_form(replay)
    status, body, _ = post(replay, form, ("f$sso", "maybe"), ("f$save", "Save"))
    assert status == 500 and "Invalid postback" in body


def test_a_save_with_a_certificate_is_checked_stored_and_shown_as_the_capture_shows_it(replay, pfx):
    form = open_form(replay)
    upload = Upload("new.pfx", "application/x-pkcs12", pfx.data)
    fields = [("f$host", "site1.webex.example.invalid"), ("f$bw", "Low"), ("f$sso", "off"), ("f$pw", PFX_PASSWORD)]
    status, saved, saves = post(
        replay, form, *fields, ("f$partner", "p2"), ("f$save", "Save"), files=[("f$cert", upload)]
    )
    assert status == 200 and saves[0]["outcome"] == "stored" and saves[0]["certificate_sent"] is True
    cert = pfx.chain.leaf.cert
    spaced = " ".join(pfx.thumbprint.lower()[i : i + 2] for i in range(0, 40, 2))
    for page in (saved, open_form(replay)):
        assert spaced in page and OLD_THUMBPRINT not in page
        assert cert.not_valid_after_utc.strftime("%d %B %Y %H:%M:%S") in page
        assert cert.serial_number.to_bytes(20, "big").hex().upper().lstrip("0") in page.upper()
        assert field_value(page, "f$partner") == "p2"
        assert '<option value="Low" selected="selected">' in page and 'value="High">' in page
        assert re.search(r'name="f\$sso" value="off" checked="checked"', page)
        assert '<input type="password" name="f$pw" />' in page and PFX_PASSWORD not in page
    assert f'<span id="{INFO_LABEL_ID}">Settings saved.</span>' in saved
    site = replay.sites_json()[0]
    assert site["certificate"]["thumbprint_sha1"] == pfx.thumbprint
    assert site["fields"]["f$partner"] == "p2" and site["fields"]["f$bw"] == "Low"


def test_a_form_showing_only_whether_a_certificate_is_installed_says_so_after_a_save(pfx):
    form = FORM.split("<tr><td>Serial Number</td>")[0] + "<tr><td>Installiert</td><td>Nein</td></tr>"
    form += '<tr><td>Kennwort</td><td><input type="password" name="f$pw" /></td></tr></table>'
    form = form.replace("</table>", '<input type="submit" name="f$save" value="Save" /></table>', 1)
    pages = [*CAPTURE["pages"][:2], {**CAPTURE["pages"][2], "body": chrome(form)}]
    replay = Replay({**CAPTURE, "pages": pages}, Codec(), "2016")
    before = open_form(replay)
    assert "<td>Nein</td>" in before
    upload = Upload("new.pfx", "application/x-pkcs12", pfx.data)
    status, saved, _ = post(replay, before, ("f$pw", PFX_PASSWORD), ("f$save", "Save"), files=[("f$cert", upload)])
    assert status == 200 and "<td>Ja</td>" in saved and "<td>Nein</td>" not in saved


def test_a_refused_save_stores_nothing_and_shows_the_windows_message(replay, pfx):
    form = open_form(replay)
    upload = Upload("new.pfx", "application/x-pkcs12", pfx.data)
    status, page, saves = post(
        replay, form, ("f$pw", "wrong"), ("f$partner", "p3"), ("f$save", "Save"), files=[("f$cert", upload)]
    )
    assert status == 200 and saves[0]["outcome"] == "refused" and saves[0]["check"] == "password"
    assert (
        f'<span id="{ERROR_LABEL_ID}" class="ErrorLabel">The specified network password is not correct.</span>' in page
    )
    assert field_value(page, "f$partner") == "p3"  # the user's input kept, as ASP.NET does
    assert replay.sites_json()[0]["certificate"] is None
    assert field_value(open_form(replay), "f$partner") == "tms.site1.example"
    replay.reset()


def test_a_page_without_event_validation_gets_one():
    page = chrome("<p>x</p>").replace(
        '<input type="hidden" name="__EVENTVALIDATION" id="__EVENTVALIDATION" value="[redacted __EVENTVALIDATION]" />',
        "",
    )
    capture = {**CAPTURE, "pages": [{"method": "GET", "url": "/tms/", "status": 200, "body": page}]}
    served = Replay(capture, Codec(), "2016").get("/tms/default.aspx")[1]
    assert served.count('name="__EVENTVALIDATION"') == 1


def test_a_file_that_is_not_a_capture_is_refused(tmp_path: Path):
    with pytest.raises(InputFileError, match="does not exist"):
        read_capture(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(InputFileError, match="not JSON"):
        read_capture(bad)
    bad.write_text('{"format": "something"}', encoding="utf-8")
    with pytest.raises(ConfigError, match="not a tmsclient capture"):
        read_capture(bad)
    bad.write_text('{"format": "tmsclient-capture", "pages": [{"method": "GET"}]}', encoding="utf-8")
    with pytest.raises(ConfigError, match="page 0 needs"):
        read_capture(bad)


def test_the_command_line_serves_a_capture_or_says_why_not(tmp_path: Path):
    err = io.StringIO()
    assert (
        emulator_main(["--capture", str(tmp_path / "none.json"), "--port", "0"], stdout=io.StringIO(), stderr=err) == 3
    )
    assert "the capture" in err.getvalue() and "does not exist" in err.getvalue()
    not_capture = tmp_path / "x.json"
    not_capture.write_text("[]", encoding="utf-8")
    err = io.StringIO()
    assert emulator_main(["--capture", str(not_capture), "--port", "0"], stdout=io.StringIO(), stderr=err) == 7


def test_the_server_serves_a_capture_at_any_path_under_tms_and_its_state_shows_it(emulator_factory, tmp_path: Path):
    pages = [*CAPTURE["pages"], {"method": "GET", "url": "/tms/Admin/WebEx.aspx", "status": 200, "body": GRID}]
    path = tmp_path / "capture.json"
    path.write_text(json.dumps({**CAPTURE, "pages": pages}), encoding="utf-8")
    em = emulator_factory(capture=str(path))
    browser = Browser(em, em.admin)
    try:
        page = browser.get("Admin/WebEx.aspx")
        assert page.status == 200 and "site1.webex.example.invalid" in page.html
        assert em.codec.decode_view_state(page.field_value("__VIEWSTATE"))["cap"] == 3
        assert browser.get("default.aspx?pageId=5").status == 404
    finally:
        browser.close()
    state = em.state()
    assert state["capture"]["pages"] == 4 and state["capture"]["site_forms"] == [2]
    assert [(s["id"], s["site_name"], s["certificate"]) for s in state["sites"]] == [(2, "site1", None)]
