"""Settings, initial data, per-instance state, reset, TLS material and the in-process lifecycle."""

from __future__ import annotations

import socket

import pytest
import requests
from cryptography import x509

from tests.helpers.emulator import Browser, edit_target
from tmsemulator import EmulatorConfig, Faults, SiteData, start
from tmsemulator.config import default_sites, parse_users_text
from tmsemulator.errors import ConfigError


def test_users_text_format():
    users = parse_users_text("# comment\n\nTMSLAB:alice:a:b c\n:bob:pw\n", "users")
    assert users == (("TMSLAB", "alice", "a:b c"), ("", "bob", "pw"))
    with pytest.raises(ConfigError, match="line 1 is not DOMAIN:USER:PASSWORD") as info:
        parse_users_text("alice-Secret\n", "users")
    assert "Secret" not in str(info.value)
    with pytest.raises(ConfigError, match="password is empty"):
        parse_users_text("D:alice:\n", "users")
    with pytest.raises(ConfigError, match="holds no users"):
        parse_users_text("# nobody\n", "users")


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"auth": "kerberos"}, "unknown auth mode"),
        ({"server_os": "2008"}, "unknown server OS"),
        ({"cert_details": "full"}, "unknown cert details mode"),
        ({"port": 70000}, "out of range"),
        ({"users": [("TMS:LAB", "alice", "pw")]}, "cannot hold"),
        ({"users": [("TMSLAB", "", "pw")]}, "user name and a password"),
        ({"faults": {"save_501": True}}, "unknown fault knob"),
    ],
)
def test_config_is_validated(changes, text):
    with pytest.raises(ConfigError, match=text):
        EmulatorConfig(**changes)


def test_faults_may_be_given_as_a_mapping():
    # EmulatorConfig.faults is typed Faults; a mapping is what a config file gives, converted on purpose.
    assert EmulatorConfig(faults={"save_500": True}).faults == Faults(save_500=True)  # type: ignore[arg-type]


def test_unknown_override_is_refused():
    with pytest.raises(ConfigError, match="unknown emulator setting"):
        start(colour="blue")


def test_default_data_is_realistic():
    sites = default_sites()
    assert len(sites) >= 2
    assert sum(s.default_site for s in sites) == 1
    assert any(s.certificate is None for s in sites)
    assert all(s.host_name.endswith(".webex.com") for s in sites)


def test_sites_from_config_appear_in_the_grid(emulator_factory):
    em = emulator_factory(
        sites=[
            SiteData("one.webex.com", "one", default_site=True),
            {
                "host_name": "two.webex.com",
                "site_name": "two",
                "bandwidth": "Low",
                "certificate": {"subject": "CN=x", "not_after": "2030-01-01T00:00:00Z", "thumbprint_sha1": "ab" * 20},
            },
        ],
        enable_webex=False,
    )
    browser = Browser(em, em.admin)
    page = browser.page(83)
    assert page.field_value("ctl00$uxContent$ctl01$enableWebEx") == "false"
    form = browser.submit(page, event_target=edit_target(page, "two.webex.com"))
    assert form.field_value("ctl00$uxContent$ctl01$bandwidth") == "Low"
    assert "ABABABAB" in form.html
    assert "2030-01-01 00:00:00Z" in form.html
    with pytest.raises(ConfigError, match="unknown site field"):
        emulator_factory(sites=[{"host_name": "x", "site_name": "x", "colour": "red"}])


def test_state_is_per_instance_and_reset_restores_it(emulator_factory, pfx):
    first, second = emulator_factory(), emulator_factory()
    initial = first.state()["sites"]
    browser = Browser(first, first.admin)
    page = browser.page(83)
    form = browser.submit(page, event_target=edit_target(page, "acme-eu.webex.com"))
    saved = browser.submit(
        form,
        button="ctl00$uxContent$ctl01$saveButton",
        files={"ctl00$uxContent$ctl01$ssoCertificate": ("t.pfx", pfx.data)},
        fields={"ctl00$uxContent$ctl01$ssoCertificatePassword": pfx.password},
    )
    assert saved.info == "Settings saved."
    assert first.state()["sites"][1]["certificate"]["thumbprint_sha1"] == pfx.thumbprint
    assert second.state()["sites"][1]["certificate"] is None
    assert second.state()["counters"]["requests"] == 0
    reset = requests.post(first.base_url + "/__emulator/reset", verify=first.ca_file)
    assert reset.status_code == 200
    assert first.state()["sites"] == initial
    assert first.state()["counters"]["requests"] == 0


def test_tls_certificate_names_and_the_ca_file(emulator_factory):
    em = emulator_factory(tls_names=("tms.lab.example",))
    with open(em.ca_file, "rb") as fh:
        ca = x509.load_pem_x509_certificate(fh.read())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    leaf = x509.load_pem_x509_certificate((em.state_dir / "emulator-cert.pem").read_bytes())
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"localhost", "tms.lab.example"} <= set(sans.get_values_for_type(x509.DNSName))
    assert "127.0.0.1" in {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)}
    by_name = requests.get(f"https://localhost:{em.port}/tms/", verify=em.ca_file)
    assert by_name.status_code == 401  # TLS verified by name; authentication is next


def test_head_request_has_headers_but_no_body(tms_emulator, admin_browser):
    admin_browser.get()
    response = admin_browser.session.head(tms_emulator.url + "default.aspx?pageId=83", verify=tms_emulator.ca_file)
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) > 1000
    assert response.content == b""
    assert response.headers["Server"] == "Microsoft-IIS/10.0"
    assert response.headers["X-Powered-By"] == "ASP.NET"


def test_stop_closes_the_port_and_is_idempotent():
    em = start(EmulatorConfig(users=[("D", "u", "p")]))
    port, state_dir = em.port, em.state_dir
    browser = Browser(em, em.admin)
    browser.get()  # a live keep-alive connection must not keep stop() waiting
    em.stop()
    em.stop()
    assert not state_dir.exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_stop_cuts_a_slow_answer(emulator_factory):
    em = emulator_factory(faults={"delay_ms": 60_000})
    browser = Browser(em, em.admin)
    with pytest.raises(requests.exceptions.ReadTimeout):
        browser.get(timeout=0.2)
    em.stop()  # returns although a handler is still holding its answer back
    assert not em._thread.is_alive()
