"""The hook modes, each in the environment its ACME client gives it: the files laid out as the tool lays them
out, the hook command run through the CLI, the result read from the emulator's stored certificate."""

from __future__ import annotations

import json
import os

import pytest

from tmsclient.exitcodes import ExitCode

DOMAIN = "tms.acme.example"


def certbot_lineage(root, r):
    """/etc/letsencrypt as certbot leaves it after a renewal: numbered files in archive/, links in live/."""
    archive = root / "archive" / DOMAIN
    live = root / "live" / DOMAIN
    archive.mkdir(parents=True)
    live.mkdir(parents=True)
    files = {
        "cert": r.cert_pem(),
        "chain": r.chain_pem(),
        "fullchain": r.cert_pem() + r.chain_pem(),
        "privkey": r.key_pem(),
    }
    for name, data in files.items():
        (archive / f"{name}2.pem").write_bytes(data)
        os.symlink(f"../../archive/{DOMAIN}/{name}2.pem", live / f"{name}.pem")
    (archive / "privkey2.pem").chmod(0o600)
    (live / "README").write_text("This directory contains your keys and certificates.\n")
    return live


def test_certbot_deploy_hook_with_settings_from_the_default_config_file(cli, target, config, renewed, tmp_path):
    t = target("staging")
    cfg = config(t)
    xdg = tmp_path / "xdg"
    (xdg / "tmsclient").mkdir(parents=True)
    cfg.path.rename(xdg / "tmsclient" / "config.toml")
    r = renewed()
    live = certbot_lineage(tmp_path / "letsencrypt", r)
    # What certbot runs: `--deploy-hook "tmsclient renew --from-certbot --profile staging --non-interactive"`,
    # with RENEWED_LINEAGE and RENEWED_DOMAINS in the environment.
    env = {**cfg.env, "XDG_CONFIG_HOME": str(xdg), "RENEWED_LINEAGE": str(live), "RENEWED_DOMAINS": DOMAIN}
    result = cli("renew", "--from-certbot", "--profile", "staging", "--non-interactive", "--json", env=env)
    assert result.code == 0, result
    assert t.thumbprint() == r.thumbprint
    assert result.json["source"]["kind"] == "certbot"
    assert result.json["source"]["key"].endswith("live/tms.acme.example/privkey.pem")
    assert result.json["source"]["cert"].endswith("live/tms.acme.example/fullchain.pem")
    assert f"domains {DOMAIN}" in result.json["steps"][1]["detail"]


def test_certbot_deploy_hook_with_settings_from_the_environment(cli, target, renewed, tmp_path):
    t = target()
    r = renewed()
    live = certbot_lineage(tmp_path / "letsencrypt", r)
    env = {
        "TMSCLIENT_URL": t.em.url,
        "TMSCLIENT_TMS_USERNAME": "TMSLAB\\admin",
        "TMSCLIENT_CA_BUNDLE": t.em.ca_file,
        "TMSCLIENT_SITE": "acme",
        "TMSCLIENT_TMS_PASSWORD": t.password,
        "RENEWED_LINEAGE": str(live),
    }
    result = cli("renew", "--from-certbot", "--non-interactive", env=env)
    assert result.code == 0, result
    assert t.thumbprint() == r.thumbprint


@pytest.mark.parametrize(
    ("mode", "missing"),
    [
        ("--from-certbot", "$RENEWED_LINEAGE is not set"),
        ("--from-lego", "$LEGO_CERT_PATH and $LEGO_CERT_KEY_PATH not set"),
    ],
    ids=["certbot", "lego"],
)
def test_hook_mode_outside_its_tool_says_what_is_missing(cli, target, mode, missing):
    t = target()
    result = cli("renew", mode, *t.argv(), env={"TMSCLIENT_TMS_PASSWORD": t.password})
    assert result.code == ExitCode.USAGE
    assert missing in result.err
    assert t.counters()["requests"] == 0


def win_acme_cache(root, r, password):
    """win-acme's cache: %ProgramData%\\win-acme\\<server>\\Certificates\\<renewal>-cache.pfx (AES on
    newer Windows), protected by {CachePassword}."""
    folder = root / "ProgramData" / "win-acme" / "acme-v02.api.letsencrypt.org" / "Certificates"
    folder.mkdir(parents=True)
    cache = folder / "mXG-UsE1kP0Wc2c5g7RgA-cache.pfx"
    cache.write_bytes(r.pfx(password, modern=True))
    return cache


def win_acme_setup(target, config, renewed, tmp_path, canaries):
    """A production target, its config, a renewed certificate in win-acme's cache and the cache password."""
    t = target("production")
    cfg = config(t)
    r = renewed()
    cache_password = canaries.secret("cache-password")
    cache = win_acme_cache(tmp_path, r, cache_password)
    return t, cfg, r, cache, cache_password


def test_win_acme_script_step_password_on_stdin(cli, target, config, renewed, tmp_path, canaries):
    t, cfg, r, cache, cache_password = win_acme_setup(target, config, renewed, tmp_path, canaries)
    # The wrapper script pipes {CachePassword} in: PowerShell ends the line with CRLF.
    result = cli(
        "renew",
        "--from-win-acme",
        str(cache),
        "--config",
        str(cfg.path),
        "--profile",
        "production",
        "--non-interactive",
        "--json",
        env=cfg.env,
        stdin=cache_password + "\r\n",
    )
    assert result.code == 0, result
    assert cache_password not in result.argv
    assert t.thumbprint() == r.thumbprint
    # win-acme's AES cache was re-encoded for Windows Server 2016.
    assert result.json["steps"][3]["step"] == "convert" and result.json["pfx"]["reencoded"] is True


def test_win_acme_script_step_password_in_the_environment(cli, target, config, renewed, tmp_path, canaries):
    t, cfg, r, cache, cache_password = win_acme_setup(target, config, renewed, tmp_path, canaries)
    result = cli(
        "renew",
        "--from-win-acme",
        str(cache),
        "--config",
        str(cfg.path),
        "--profile",
        "production",
        "--pfx-password-env",
        "WACS_CACHE_PASSWORD",
        env={**cfg.env, "WACS_CACHE_PASSWORD": cache_password},
    )
    assert result.code == 0, result
    assert t.thumbprint() == r.thumbprint


def test_win_acme_wrong_password_on_stdin_stops_before_tms(cli, target, config, renewed, tmp_path, canaries):
    t, cfg, _, cache, _ = win_acme_setup(target, config, renewed, tmp_path, canaries)
    result = cli(
        "renew",
        "--from-win-acme",
        str(cache),
        "--config",
        str(cfg.path),
        "--profile",
        "production",
        env=cfg.env,
        stdin=canaries.secret("wrong") + "\r\n",
    )
    assert result.code == ExitCode.BAD_PASSWORD
    assert t.counters()["requests"] == 0


def acme_sh_home(root, r):
    """~/.acme.sh/<domain>/ as acme.sh leaves it: <domain>.key, <domain>.cer, ca.cer, fullchain.cer."""
    folder = root / ".acme.sh" / DOMAIN
    folder.mkdir(parents=True)
    files = {
        f"{DOMAIN}.key": r.key_pem(),
        f"{DOMAIN}.cer": r.cert_pem(),
        "ca.cer": r.chain_pem(),
        "fullchain.cer": r.cert_pem() + r.chain_pem(),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / f"{DOMAIN}.key").chmod(0o600)
    return folder


def test_acme_sh_deploy_hook_passes_the_paths_as_arguments(cli, target, config, renewed, tmp_path):
    t = target("staging")
    cfg = config(t)
    r = renewed()
    home = acme_sh_home(tmp_path, r)
    # tmsclient_deploy() { tmsclient renew --from-acme-sh "$1" "$2" "$3" "$4" "$5" ...; }
    args = [
        DOMAIN,
        str(home / f"{DOMAIN}.key"),
        str(home / f"{DOMAIN}.cer"),
        str(home / "ca.cer"),
        str(home / "fullchain.cer"),
    ]
    result = cli(
        "renew",
        "--from-acme-sh",
        *args,
        "--config",
        str(cfg.path),
        "--profile",
        "staging",
        "--cer-out",
        str(tmp_path / "tms-cert.cer"),
        "--json",
        env=cfg.env,
    )
    assert result.code == 0, result
    assert t.thumbprint() == r.thumbprint
    assert result.json["source"]["kind"] == "acme.sh"
    assert (tmp_path / "tms-cert.cer").read_bytes() == r.cert_pem()


def lego_certificates(root, r):
    """lego's --path folder after `run`: certificates/<domain>.crt (the leaf and its issuer, lego's default
    bundle), .key, .issuer.crt and .json."""
    folder = root / ".lego" / "certificates"
    folder.mkdir(parents=True)
    (folder / f"{DOMAIN}.crt").write_bytes(r.cert_pem() + r.chain_pem())
    (folder / f"{DOMAIN}.issuer.crt").write_bytes(r.chain_pem())
    (folder / f"{DOMAIN}.key").write_bytes(r.key_pem())
    (folder / f"{DOMAIN}.key").chmod(0o600)
    (folder / f"{DOMAIN}.json").write_text(json.dumps({"domain": DOMAIN}) + "\n")
    return folder


def test_lego_run_hook_reads_the_lego_cert_environment(cli, target, config, renewed, tmp_path):
    t = target("staging")
    cfg = config(t)
    r = renewed()
    folder = lego_certificates(tmp_path, r)
    # What lego 4.x sets for --run-hook / --renew-hook
    env = {
        **cfg.env,
        "LEGO_CERT_DOMAIN": DOMAIN,
        "LEGO_CERT_PATH": str(folder / f"{DOMAIN}.crt"),
        "LEGO_CERT_KEY_PATH": str(folder / f"{DOMAIN}.key"),
        "LEGO_ACCOUNT_EMAIL": "ops@acme.example",
    }
    result = cli("renew", "--from-lego", "--config", str(cfg.path), "--profile", "staging", "--json", env=env)
    assert result.code == 0, result
    assert t.thumbprint() == r.thumbprint
    assert result.json["source"]["kind"] == "lego"
    assert f"domain {DOMAIN}" in result.json["source"]["description"]


def test_lego_mode_by_hand_names_the_certificate_and_finds_the_key(cli, target, config, renewed, tmp_path):
    t = target("staging")
    cfg = config(t)
    r = renewed()
    folder = lego_certificates(tmp_path, r)
    crt = str(folder / f"{DOMAIN}.crt")
    result = cli("renew", "--from-lego", crt, "--config", str(cfg.path), "--profile", "staging", env=cfg.env)
    assert result.code == 0, result
    assert t.thumbprint() == r.thumbprint
