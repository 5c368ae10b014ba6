"""Several targets in one run: each its own session and credentials, a bounded pool, one report with a row per
target, exit 24 when any failed, and staged rollouts that leave production untouched after a failure."""

from __future__ import annotations

import threading

import pytest

from tmsclient.commands.pool import Prepared, Selection, run_targets
from tmsclient.exitcodes import ExitCode
from tmsclient.settings import TargetSettings


def write_pfx(tmp_path, r, canaries):
    password = canaries.secret("pfx-password")
    path = tmp_path / "tms.pfx"
    path.write_bytes(r.pfx(password))
    return path, password


def test_two_profiles_each_with_its_own_credentials(cli, target, config, renewed, tmp_path, canaries):
    staging, production = target("staging"), target("production")
    cfg = config(staging, production)
    r = renewed()
    pfx, password = write_pfx(tmp_path, r, canaries)
    # A generic TMS password in the environment must not reach either TMS: each profile names its own.
    env = {**cfg.env, "TMSCLIENT_PFX_PASSWORD": password, "TMSCLIENT_TMS_PASSWORD": canaries.secret("generic")}
    result = cli(
        "upload",
        "--config",
        str(cfg.path),
        "--profile",
        "staging",
        "--profile",
        "production",
        "--pfx",
        str(pfx),
        "--non-interactive",
        "--json",
        env=env,
    )
    assert result.code == 0, result
    out = result.json
    assert out["ok"] is True and out["exit_code"] == 0
    assert out["counts"] == {"ok": 2, "failed": 0, "skipped": 0}
    assert [row["target"] for row in out["targets"]] == ["staging", "production"]
    for row, t in zip(out["targets"], (staging, production), strict=True):
        assert row["status"] == "ok" and row["action"] == "uploaded" and row["verification"] == "certificate"
        assert row["url"] == t.em.url and row["exit_code"] == 0
        assert row["result"]["thumbprint_sha1"] == r.thumbprint
        assert t.thumbprint() == r.thumbprint
        # Its own session: one connection, one NTLM login, the .pfx once.
        counters = t.counters()
        assert counters["logins"] == 1 and counters["failed_logins"] == 0 and counters["saves_applied"] == 1


def test_all_profiles_one_failing_exits_24_with_a_row_each(cli, target, config, renewed, tmp_path, canaries):
    a, b, c = target("site-a"), target("site-b"), target("site-c")
    cfg = config(a, b, c)
    r = renewed()
    pfx, password = write_pfx(tmp_path, r, canaries)
    env = {**cfg.env, "TMS_PW_SITE_B": canaries.secret("wrong"), "TMSCLIENT_PFX_PASSWORD": password}
    result = cli("upload", "--config", str(cfg.path), "--all-profiles", "--pfx", str(pfx), "--json", env=env)
    assert result.code == ExitCode.TARGETS_FAILED
    rows = {row["target"]: row for row in result.json["targets"]}
    assert list(rows) == ["site-a", "site-b", "site-c"]
    assert rows["site-b"]["status"] == "failed" and rows["site-b"]["exit_code"] == ExitCode.AUTH
    assert rows["site-b"]["error"]["code"] == "AUTH"
    assert rows["site-a"]["status"] == rows["site-c"]["status"] == "ok"
    assert a.thumbprint() == c.thumbprint() == r.thumbprint and b.thumbprint() != r.thumbprint
    human = cli("upload", "--config", str(cfg.path), "--all-profiles", "--pfx", str(pfx), env=env)
    assert human.code == ExitCode.TARGETS_FAILED
    header, *lines = human.out.splitlines()
    assert header.split() == ["target", "status", "action", "verification", "exit", "time", "detail"]
    assert lines[0].split()[:3] == ["site-a", "ok", "unchanged"]
    assert lines[1].split()[:3] == ["site-b", "failed", "-"] and "refused the login" in lines[1]
    assert lines[-1] == "2 of 3 targets ok, 1 failed, 0 skipped: exit 24 (TARGETS_FAILED)"


def test_staged_rollout_leaves_production_untouched_after_staging_fails(
    cli, target, config, renewed, tmp_path, canaries
):
    staging = target("staging", faults={"save_500": True})
    production = target("production")
    cfg = config(staging, production)
    pfx, password = write_pfx(tmp_path, renewed(), canaries)
    before = production.state()
    result = cli(
        "upload",
        "--config",
        str(cfg.path),
        "--profile",
        "staging",
        "--profile",
        "production",
        "--stop-on-first-failure",
        "--pfx",
        str(pfx),
        "--json",
        env={**cfg.env, "TMSCLIENT_PFX_PASSWORD": password},
    )
    assert result.code == ExitCode.TARGETS_FAILED
    staged, prod = result.json["targets"]
    assert staged["status"] == "failed" and staged["exit_code"] == ExitCode.SERVER_ERROR
    assert prod["status"] == "skipped" and prod["exit_code"] is None
    assert "staging failed first" in prod["note"]
    # Production's emulator never saw a request and holds what it held.
    assert production.counters()["requests"] == 0
    assert production.state()["sites"] == before["sites"]


def test_staged_rollout_goes_on_when_staging_verifies(cli, target, config, renewed, tmp_path, canaries):
    staging, production = target("staging"), target("production")
    cfg = config(staging, production)
    r = renewed()
    pfx, password = write_pfx(tmp_path, r, canaries)
    result = cli(
        "upload",
        "--config",
        str(cfg.path),
        "--profile",
        "staging",
        "--profile",
        "production",
        "--stop-on-first-failure",
        "--pfx",
        str(pfx),
        "--json",
        env={**cfg.env, "TMSCLIENT_PFX_PASSWORD": password},
    )
    assert result.code == 0, result
    assert staging.thumbprint() == production.thumbprint() == r.thumbprint
    assert [(row["target"], row["status"]) for row in result.json["targets"]] == [
        ("staging", "ok"),
        ("production", "ok"),
    ]


def test_renew_to_all_profiles(cli, target, config, renewed, tmp_path):
    staging, production = target("staging"), target("production")
    cfg = config(staging, production)
    r = renewed()
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_bytes(r.cert_pem() + r.chain_pem())
    key.write_bytes(r.key_pem())
    result = cli(
        "renew",
        "--cert",
        str(cert),
        "--key",
        str(key),
        "--config",
        str(cfg.path),
        "--all-profiles",
        "--json",
        env=cfg.env,
    )
    assert result.code == 0, result
    ups = [(s["target"], s["status"]) for s in result.json["steps"] if s["step"] == "upload"]
    assert ups == [("staging", "ok"), ("production", "ok")]
    assert staging.thumbprint() == production.thumbprint() == r.thumbprint


def test_renew_staged_failure_exits_24_and_skips_production(cli, target, config, renewed, tmp_path, canaries):
    staging, production = target("staging"), target("production")
    cfg = config(staging, production)
    r = renewed()
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_bytes(r.cert_pem())
    key.write_bytes(r.key_pem())
    env = {**cfg.env, "TMS_PW_STAGING": canaries.secret("wrong")}
    result = cli(
        "renew",
        "--cert",
        str(cert),
        "--key",
        str(key),
        "--config",
        str(cfg.path),
        "--profile",
        "staging",
        "--profile",
        "production",
        "--stop-on-first-failure",
        "--json",
        env=env,
    )
    assert result.code == ExitCode.TARGETS_FAILED
    per_target = [(s["step"], s.get("target"), s["status"]) for s in result.json["steps"][5:]]
    assert per_target == [
        ("upload", "staging", "failed"),
        ("verify", "staging", "not-run"),
        ("upload", "production", "not-run"),
        ("verify", "production", "not-run"),
    ]
    assert production.counters()["requests"] == 0


def test_one_password_on_stdin_serves_every_target(cli, target, config, renewed, tmp_path, canaries):
    shared = canaries.secret("tms-password")
    a, b = target("a", password=shared), target("b", password=shared)
    cfg = config(a, b)
    cfg.path.write_text(
        cfg.path.read_text().replace('password = "env:TMS_PW_A"\n', "").replace('password = "env:TMS_PW_B"\n', "")
    )
    pfx, password = write_pfx(tmp_path, renewed(), canaries)
    result = cli(
        "upload",
        "--config",
        str(cfg.path),
        "--all-profiles",
        "--tms-password-stdin",
        "--pfx",
        str(pfx),
        "--json",
        env={"TMSCLIENT_PFX_PASSWORD": password},
        stdin=shared + "\n",
    )
    assert result.code == 0, result
    assert a.counters()["logins"] == b.counters()["logins"] == 1


def test_a_broken_profile_fails_alone(cli, target, config, renewed, tmp_path, canaries):
    good = target("good")
    cfg = config(good, extra="")
    cfg.path.write_text(cfg.path.read_text() + '\n[profiles.nourl]\npassword = "env:NOPE"\n')
    pfx, password = write_pfx(tmp_path, renewed(), canaries)
    result = cli(
        "upload",
        "--config",
        str(cfg.path),
        "--all-profiles",
        "--pfx",
        str(pfx),
        "--json",
        env={**cfg.env, "TMSCLIENT_PFX_PASSWORD": password},
    )
    assert result.code == ExitCode.TARGETS_FAILED
    rows = {row["target"]: row for row in result.json["targets"]}
    assert rows["good"]["status"] == "ok"
    assert rows["nourl"]["status"] == "failed" and rows["nourl"]["error"]["code"] == "CONFIG"
    assert rows["nourl"]["note"] == "settings"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--all-profiles", "--profile", "a"], "--all-profiles conflicts with --profile"),
        (["--profile", "a", "--profile", "b", "--url", "https://x.example/tms/"], "--url names one TMS"),
        (["--all-profiles", "--max-parallel", "0"], "--max-parallel 0 is out of range"),
        (["--all-profiles", "--stop-on-first-failure", "--max-parallel", "3"], "runs one target at a time"),
    ],
)
def test_usage_errors(cli, target, config, argv, message):
    cfg = config(target("a"), target("b"))
    result = cli("upload", "--config", str(cfg.path), *argv, "--pfx", "x.pfx", env=cfg.env)
    assert result.code == ExitCode.USAGE, result
    assert message in result.err


def test_all_profiles_without_profiles(cli, tmp_path):
    result = cli("upload", "--all-profiles", "--pfx", "x.pfx", env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert result.code == ExitCode.CONFIG
    assert "--all-profiles found no profiles" in result.err


# ------------------------------------------------------------------------------------------ the pool itself


def _settings(name):
    return TargetSettings(url=f"https://{name}.example/tms/", name=name, site="acme")


def test_the_pool_runs_targets_together_but_never_more_than_max_parallel():
    lock = threading.Lock()
    active, peak = [0], [0]
    # Two workers must be inside at once to pass the barrier: a pool that ran them one by one would break it.
    barrier = threading.Barrier(2, timeout=10)

    def work(target, _job):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        try:
            barrier.wait()
        finally:
            with lock:
                active[0] -= 1
        return target.name

    names = tuple(f"t{i}" for i in range(6))
    outcomes = run_targets(Selection(names, 2, False), lambda n: Prepared(_settings(n), None), work)
    assert [o.name for o in outcomes] == list(names)  # the report keeps the given order
    assert [o.status for o in outcomes] == ["ok"] * 6 and [o.result for o in outcomes] == list(names)
    assert peak[0] == 2


def test_a_bug_in_one_target_is_a_failed_row_not_a_lost_report():
    def work(target, _job):
        if target.name == "b":
            raise KeyError("boom")
        return "fine"

    outcomes = run_targets(Selection(("a", "b", "c"), 4, False), lambda n: Prepared(_settings(n), None), work)
    assert [o.status for o in outcomes] == ["ok", "failed", "ok"]
    error = outcomes[1].error
    assert outcomes[1].exit_code == ExitCode.INTERNAL and error is not None and "KeyError" in error.message


def test_an_unfit_pfx_fails_every_target_before_any_request(cli, target, config, renewed, tmp_path, canaries):
    a, b = target("a"), target("b")
    cfg = config(a, b)
    pfx, password = write_pfx(tmp_path, renewed(days=30, expired=True), canaries)
    result = cli(
        "upload",
        "--config",
        str(cfg.path),
        "--all-profiles",
        "--pfx",
        str(pfx),
        "--json",
        env={**cfg.env, "TMSCLIENT_PFX_PASSWORD": password},
    )
    assert result.code == ExitCode.TARGETS_FAILED
    assert [(r["status"], r["error"]["code"]) for r in result.json["targets"]] == [("failed", "CERT_UNFIT")] * 2
    assert a.counters()["requests"] == b.counters()["requests"] == 0
