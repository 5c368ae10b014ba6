"""`tmsclient status --format prometheus` and `--metrics-file` against the emulator, parsed by prometheus_client."""

from __future__ import annotations

import datetime as dt
import stat

from prometheus_client.parser import text_string_to_metric_families

from tests.integration.emulator.test_status import sites, status
from tmsclient.commands.metrics import HEADER

UTC = dt.timezone.utc


def samples_of(text):
    return {
        (s.name, s.labels["site"]): (s.labels["target"], s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_prometheus_on_stdout_every_site(cli, target):
    t = target(sites=sites(45, 20))
    result = status(cli, t, "--format", "prometheus", site=None)
    assert result.code == 1, result  # the plugin's state still decides the exit code (WARNING: 20 days)
    got = samples_of(result.out)
    host = t.em.url.split("//")[1].split("/")[0]
    assert got[("tmsclient_certificate_days_left", "acme.webex.com")] == (host, 45)
    assert got[("tmsclient_certificate_days_left", "training.webex.com")] == (host, 20)
    assert got[("tmsclient_check_success", "acme-eu.webex.com")] == (host, 1)  # no certificate: not a failure
    expiry = got[("tmsclient_certificate_expiry_timestamp_seconds", "acme.webex.com")][1]
    assert abs(expiry - (dt.datetime.now(UTC) + dt.timedelta(days=45, hours=12)).timestamp()) < 600
    assert "TMSCLIENT WARNING" in result.err  # the plugin lines moved to stderr
    assert "TMSCLIENT" not in result.out


def test_metrics_file_written_atomically_and_a_failed_check_keeps_the_last_success(cli, target, tmp_path):
    t = target(sites=sites(45))
    path = tmp_path / "tmsclient.prom"
    first = status(cli, t, "--metrics-file", str(path))
    assert first.code == 0, first
    assert first.out.startswith("TMSCLIENT OK")  # the plugin line stays on stdout
    text = path.read_text(encoding="utf-8")
    assert text.startswith(HEADER)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmsclient.prom")] == []  # no temp file left
    ok = samples_of(text)
    assert ok[("tmsclient_check_success", "acme.webex.com")][1] == 1
    last = ok[("tmsclient_last_success_timestamp_seconds", "acme.webex.com")][1]

    t.em.stop()  # TMS is gone: the next check fails
    failed = status(cli, t, "--metrics-file", str(path))
    assert failed.code == 3, failed
    after = samples_of(path.read_text(encoding="utf-8"))
    assert after[("tmsclient_check_success", "acme.webex.com")][1] == 0
    assert after[("tmsclient_last_success_timestamp_seconds", "acme.webex.com")][1] == last
    assert after[("tmsclient_check_timestamp_seconds", "acme.webex.com")][1] > last


def test_someone_elses_file_is_not_replaced_without_force(cli, target, tmp_path):
    t = target(sites=sites(45))
    path = tmp_path / "other.prom"
    path.write_text("node_something 1\n", encoding="utf-8")
    refused = status(cli, t, "--metrics-file", str(path))
    assert refused.code == 6, refused
    assert path.read_text(encoding="utf-8") == "node_something 1\n"
    forced = status(cli, t, "--metrics-file", str(path), "--force")
    assert forced.code == 0, forced
    assert path.read_text(encoding="utf-8").startswith(HEADER)


def test_prometheus_and_json_conflict_as_unknown(cli, target):
    t = target(sites=sites(45))
    result = status(cli, t, "--format", "prometheus", "--json")
    assert result.code == 3, result
