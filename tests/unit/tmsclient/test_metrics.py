"""The Prometheus exposition of `status` readings, judged by prometheus_client's own text parser."""

from __future__ import annotations

import datetime as dt

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tmsclient.commands import metrics
from tmsclient.errors import OutputFileError

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


def parsed(text):
    """{(metric, target, site): value}, and {metric: type} of every family, as prometheus_client reads them."""
    samples, types = {}, {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for s in family.samples:
            assert set(s.labels) == {"target", "site"}, s
            samples[(s.name, s.labels["target"], s.labels["site"])] = s.value
    return samples, types


def test_one_check_parses_with_the_naming_conventions():
    expires = NOW + dt.timedelta(days=20, hours=5)
    sites = [
        metrics.SiteMetric("acme.webex.com", expires, True),
        metrics.SiteMetric("lab.webex.com", None, True),  # no certificate installed: not a failed check
        metrics.SiteMetric("eu.webex.com", None, False),  # TMS shows no expiry
    ]
    samples, types = parsed(metrics.exposition("tms.example.com", sites, now=NOW, checked=True))
    assert set(types.values()) == {"gauge"}
    assert set(types) == {
        "tmsclient_certificate_expiry_timestamp_seconds",
        "tmsclient_certificate_days_left",
        "tmsclient_check_success",
        "tmsclient_last_success_timestamp_seconds",
        "tmsclient_check_timestamp_seconds",
    }
    t = "tms.example.com"
    assert samples[("tmsclient_certificate_expiry_timestamp_seconds", t, "acme.webex.com")] == expires.timestamp()
    assert samples[("tmsclient_certificate_days_left", t, "acme.webex.com")] == 20
    assert samples[("tmsclient_check_success", t, "acme.webex.com")] == 1
    assert samples[("tmsclient_check_success", t, "lab.webex.com")] == 1
    assert samples[("tmsclient_check_success", t, "eu.webex.com")] == 0
    assert samples[("tmsclient_last_success_timestamp_seconds", t, "acme.webex.com")] == NOW.timestamp()
    assert ("tmsclient_last_success_timestamp_seconds", t, "eu.webex.com") not in samples
    assert ("tmsclient_certificate_expiry_timestamp_seconds", t, "lab.webex.com") not in samples
    assert samples[("tmsclient_check_timestamp_seconds", t, "eu.webex.com")] == NOW.timestamp()


def test_an_expired_certificate_has_negative_days():
    samples, _ = parsed(
        metrics.exposition(
            "t", [metrics.SiteMetric("a", NOW - dt.timedelta(days=2, hours=1), True)], now=NOW, checked=True
        )
    )
    assert samples[("tmsclient_certificate_days_left", "t", "a")] == -3


@pytest.mark.parametrize(
    "site",
    ['quo"te', "back\\slash", "new\nline", "esc\x1b[31m", "bidi\u202eevil", "ünïcode.webex.com", 'a\\"b'],
)
def test_label_values_are_escaped_so_the_parser_reads_them_back(site):
    text = metrics.exposition("tms", [metrics.SiteMetric(site, NOW, True)], now=NOW, checked=True)
    samples, _ = parsed(text)
    sites = {k[2] for k in samples}
    assert len(sites) == 1
    (got,) = sites
    expected = site.replace("\x1b", "\ufffd").replace("\u202e", "\ufffd").replace("\n", "\ufffd")
    assert got == expected
    # one sample line per family: an injected newline never starts a line of its own
    assert all(line.startswith(("#", "tmsclient_")) for line in text.splitlines())


def test_a_failed_check_keeps_the_last_success_and_expiry_of_the_previous_file():
    before = NOW - dt.timedelta(hours=6)
    expires = NOW + dt.timedelta(days=40)
    first = metrics.exposition("tms-a", [metrics.SiteMetric("acme.webex.com", expires, True)], now=before, checked=True)
    other = metrics.exposition("tms-b", [metrics.SiteMetric("b.webex.com", expires, True)], now=before, checked=True)
    previous = metrics.previous_samples(first + other, "tms-a")
    assert {site for _, site in previous} == {"acme.webex.com"}
    samples, _ = parsed(metrics.exposition("tms-a", [], now=NOW, checked=False, previous=previous))
    assert samples[("tmsclient_check_success", "tms-a", "acme.webex.com")] == 0
    assert samples[("tmsclient_last_success_timestamp_seconds", "tms-a", "acme.webex.com")] == before.timestamp()
    assert samples[("tmsclient_check_timestamp_seconds", "tms-a", "acme.webex.com")] == NOW.timestamp()
    assert samples[("tmsclient_certificate_days_left", "tms-a", "acme.webex.com")] == 40


def test_a_failed_first_check_is_a_failure_without_sites():
    samples, _ = parsed(metrics.exposition("tms-a", [], now=NOW, checked=False, site_wanted="acme"))
    assert samples == {
        ("tmsclient_check_success", "tms-a", "acme"): 0,
        ("tmsclient_check_timestamp_seconds", "tms-a", "acme"): NOW.timestamp(),
    }


@pytest.mark.parametrize(
    "url, profile, label",
    [
        ("https://user:Secr3t@tms.example.com:8443/tms/?x=1", None, "tms.example.com:8443"),
        ("tms.example.com", None, "tms.example.com"),
        ("https://tms.example.com/tms/", "production", "production"),
        (None, None, "unknown"),
        ("https://[::1/", None, "unknown"),
    ],
)
def test_the_target_label_is_a_host_or_a_profile_never_a_login_or_path(url, profile, label):
    assert metrics.target_label(url, profile) == label


def test_site_label_from_status_reading_names():
    assert metrics.site_label("site acme.webex.com/acme") == "acme.webex.com"
    assert metrics.site_label("file /etc/tms/tms-cert.pfx") == "tms-cert.pfx"


def test_a_file_tmsclient_did_not_write_is_not_replaced():
    metrics.may_replace(None, False, "f")
    metrics.may_replace(metrics.HEADER.encode() + b"\nold\n", False, "f")
    metrics.may_replace(b"someone else's", True, "f")
    with pytest.raises(OutputFileError, match="not written by tmsclient"):
        metrics.may_replace(b"someone else's", False, "f")
