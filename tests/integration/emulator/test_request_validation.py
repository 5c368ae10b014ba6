"""ASP.NET request validation: values TMS would answer with HTTP 500 are refused before any login."""

from __future__ import annotations

import pytest

from tests.helpers.emulated import upload
from tmsclient.certs.pfxwrite import serialize_pfx
from tmsclient.credentials import Secret
from tmsclient.exitcodes import ExitCode
from tmsclient.tms.aspnet import request_validation_trigger
from tmsemulator.certmaker import make_chain


@pytest.mark.parametrize(
    ("value", "trigger"),
    [
        ("Tms<cert>2027", "<c"),
        ("a<!b", "<!"),
        ("x</y", "</"),
        ("x<?y", "<?"),
        ("p&#39;", "&#"),
        ("a < b", None),
        ("a<1", None),
        ("<", None),
        ("&amp", None),
        ("& #", None),
        ("plain-Passw0rd!", None),
    ],
)
def test_the_rule_is_dotnets(value, trigger):
    assert request_validation_trigger(value) == trigger


def _pfx(tmp_path, password):
    chain = make_chain("tms.acme.example")
    path = tmp_path / "tms-cert.pfx"
    path.write_bytes(serialize_pfx(key=chain.leaf.key, cert=chain.leaf.cert, password=Secret(password, "t")))
    return path


def _upload(cli, t, path, password, *extra):
    return cli(
        "upload",
        *t.target(),
        "--site",
        "acme",
        "--pfx",
        str(path),
        "--json",
        *extra,
        env={**t.env, "TMSCLIENT_PFX_PASSWORD": password},
    )


def test_a_pfx_password_tms_would_refuse_stops_before_login(cli, tms, canaries, tmp_path):
    t = tms()
    password = canaries.secret("pfx-password", extra="<cert>")
    path = _pfx(tmp_path, password)
    before = t.state()
    result = _upload(cli, t, path, password)
    assert result.code == ExitCode.BAD_PASSWORD, result
    message = result.json["error"]["message"]
    assert "'<c'" in message and "request validation" in message
    assert "nothing was sent to TMS" in result.json["error"]["hint"]
    assert t.state()["counters"]["requests"] == before["counters"]["requests"]


def test_no_preflight_sends_it_anyway_with_a_warning(cli, tms, canaries, tmp_path):
    t = tms()
    password = canaries.secret("pfx-password", extra="&#x")
    path = _pfx(tmp_path, password)
    result = _upload(cli, t, path, password, "--no-preflight")
    # The emulator does not model request validation, so the upload goes through; the warning is what counts.
    assert result.code == 0, result
    assert any("'&#'" in w and "HTTP 500" in w for w in result.json["warnings"])


def test_an_sso_field_tms_would_refuse_is_a_usage_error(cli, tms, pfx):
    t = tms()
    f = pfx()
    result = upload(cli, t, f, "--partner-name", "<script>", "--json")
    assert result.code == ExitCode.USAGE, result
    assert result.json["error"]["message"].startswith("--partner-name holds '<s'")
    assert t.state()["counters"]["requests"] == 0
