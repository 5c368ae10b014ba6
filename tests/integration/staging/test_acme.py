"""ACME clients that really run the hooks: certbot and lego (Debian's packages) get certificates from pebble
(Let's Encrypt's test CA, run by staging/up) and run ``tmsclient renew`` as their hook, which uploads to the
stand-in; the stand-in's X509Certificate2 then holds the certificate the ACME client issued (its thumbprint,
read by Mono). A renewal runs the stored hook again and the stand-in holds the new certificate.

tmsclient runs here as the ACME client runs it: the installed ``tmsclient`` script in a subprocess, its TMS
settings from the environment (TMSCLIENT_*), the TMS password from TMSCLIENT_TMS_PASSWORD, never an argument.
acme.sh and win-acme are not packaged for this machine: tests/integration/emulator/test_hooks.py simulates them.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from tests.helpers.staging import ADMIN, DOMAIN, AcmeCa, StagingStack, StagingTarget

pytestmark = pytest.mark.staging

SITE = "example.webex.com"
CERT_DOMAIN = "tms.acme.test"
TMSCLIENT = Path(sys.executable).parent / "tmsclient"
ACME_TIMEOUT = 180


def leaf_thumbprint(pem_file: Path) -> str:
    """SHA-1 of the first certificate in a PEM file (a full chain starts with the leaf), upper-case hex."""
    cert = x509.load_pem_x509_certificates(pem_file.read_bytes())[0]
    return cert.fingerprint(hashes.SHA1()).hex().upper()


def stored_certificate(stack: StagingStack) -> dict[str, Any]:
    site = next(s for s in stack.read_data()["Sites"] if s["HostName"] == SITE)
    cert: dict[str, Any] = site["Certificate"]
    return cert


def hook_env(t: StagingTarget, home: Path, *, password: str | None = None) -> dict[str, str]:
    """The ACME client's environment: its own, plus the TMS settings tmsclient reads from it."""
    stack = t.stack
    return {
        "PATH": f"{TMSCLIENT.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),  # no config file: the settings below are all there is
        "LANG": "C.UTF-8",
        "TMSCLIENT_URL": stack.url,
        "TMSCLIENT_TMS_USERNAME": stack.users[ADMIN].login,
        "TMSCLIENT_CA_BUNDLE": stack.ca_file,
        "TMSCLIENT_SITE": SITE,
        "TMSCLIENT_TMS_PASSWORD": stack.users[ADMIN].password if password is None else password,
    }


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=ACME_TIMEOUT, check=False)


def report(path: Path) -> dict[str, Any]:
    assert path.exists(), f"the hook wrote no report {path}: it did not run"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def assert_secret_absent(secret: str, *paths: Path) -> None:
    for root in paths:
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for f in files:
            assert secret.encode() not in f.read_bytes(), f"the TMS password is in {f}"


# ------------------------------------------------------------------------------------------------------ certbot


class Certbot:
    """certbot with its config, work and logs dirs in the test's tmp dir, trusting pebble's HTTPS."""

    def __init__(self, acme: AcmeCa, base: Path, env: dict[str, str]) -> None:
        self.acme = acme
        self.base = base
        self.webroot = base / "www"
        self.webroot.mkdir(parents=True, exist_ok=True)
        self.env = {**env, "REQUESTS_CA_BUNDLE": str(acme.ca_file)}
        self.dirs = [
            "--config-dir",
            str(base / "le" / "config"),
            "--work-dir",
            str(base / "le" / "work"),
            "--logs-dir",
            str(base / "le" / "logs"),
        ]

    @property
    def live(self) -> Path:
        return self.base / "le" / "config" / "live" / CERT_DOMAIN

    def certonly(self, deploy_hook: str) -> subprocess.CompletedProcess[str]:
        return run(
            [
                "certbot",
                "certonly",
                "--non-interactive",
                "--agree-tos",
                "--register-unsafely-without-email",
                "--server",
                self.acme.directory,
                *self.dirs,
                "--webroot",
                "-w",
                str(self.webroot),
                "-d",
                CERT_DOMAIN,
                "--cert-name",
                CERT_DOMAIN,
                "--key-type",
                "rsa",
                "--rsa-key-size",
                "2048",
                "--deploy-hook",
                deploy_hook,
            ],
            self.env,
            self.base,
        )

    def renew(self) -> subprocess.CompletedProcess[str]:
        # --no-random-sleep-on-renew: without a terminal certbot waits up to 8 minutes first (kind to Let's
        # Encrypt, pointless against pebble)
        cmd = ["certbot", "renew", "--non-interactive", "--force-renewal", "--no-random-sleep-on-renew", *self.dirs]
        return run(cmd, self.env, self.base)


def certbot_hook(report_file: Path) -> str:
    # certbot runs a hook through the shell: the JSON report goes to a file monitoring can read
    return (
        f"{shlex.quote(str(TMSCLIENT))} renew --from-certbot --non-interactive --json > {shlex.quote(str(report_file))}"
    )


def test_certbot_deploy_hook_uploads_what_certbot_issued_and_renew_runs_it_again(staging_target, acme_ca, tmp_path):
    stack = staging_target.stack
    password = stack.users[ADMIN].password
    bot = Certbot(acme_ca, tmp_path, hook_env(staging_target, tmp_path))
    first_report = tmp_path / "renew-report.json"

    issued = bot.certonly(certbot_hook(first_report))
    assert issued.returncode == 0, issued.stdout + issued.stderr
    r = report(first_report)
    assert r["ok"] is True and r["exit_code"] == 0, r
    assert r["source"]["kind"] == "certbot" and f"domains {CERT_DOMAIN}" in r["source"]["description"]
    first = leaf_thumbprint(bot.live / "cert.pem")
    held = stored_certificate(stack)
    assert held["Thumbprint"] == first  # as Mono's X509Certificate2 read the uploaded .pfx
    assert held["Subject"] == f"CN={CERT_DOMAIN}"
    assert held["UploadedBy"] == f"{DOMAIN}\\{ADMIN}"
    renewal_conf = (tmp_path / "le" / "config" / "renewal" / f"{CERT_DOMAIN}.conf").read_text(encoding="utf-8")
    assert "renew --from-certbot" in renewal_conf  # certbot stored the hook for this lineage

    first_report.unlink()
    renewed = bot.renew()
    assert renewed.returncode == 0, renewed.stdout + renewed.stderr
    assert report(first_report)["ok"] is True
    second = leaf_thumbprint(bot.live / "cert.pem")
    assert second != first
    assert stored_certificate(stack)["Thumbprint"] == second
    assert_secret_absent(password, tmp_path / "le")


def test_a_failing_certbot_hook_reaches_the_report_though_certbot_exits_0(staging_target, acme_ca, tmp_path, canaries):
    stack = staging_target.stack
    before = stored_certificate(stack)
    wrong = canaries.secret("tms-password")
    bot = Certbot(acme_ca, tmp_path, hook_env(staging_target, tmp_path, password=wrong))
    report_file = tmp_path / "renew-report.json"
    issued = bot.certonly(certbot_hook(report_file))
    # certbot logs the failed deploy hook and exits 0 (certbot issue #8528): only the report tells
    assert issued.returncode == 0, issued.stdout + issued.stderr
    assert "Hook 'deploy-hook' reported error code 10" in issued.stderr
    r = report(report_file)
    assert r["ok"] is False and r["exit_code"] == 10 and r["code"] == "AUTH", r
    assert stored_certificate(stack) == before
    assert_secret_absent(wrong, tmp_path / "le", report_file)


# --------------------------------------------------------------------------------------------------------- lego


class Lego:
    def __init__(self, acme: AcmeCa, base: Path, env: dict[str, str]) -> None:
        self.acme = acme
        self.base = base
        self.webroot = base / "www"
        self.webroot.mkdir(parents=True, exist_ok=True)
        self.env = {**env, "LEGO_CA_CERTIFICATES": str(acme.ca_file)}
        self.common = [
            "lego",
            "--server",
            acme.directory,
            "--email",
            "ops@acme.test",
            "--accept-tos",
            "--domains",
            CERT_DOMAIN,
            "--http",
            "--http.webroot",
            str(self.webroot),
            "--path",
            str(base / ".lego"),
            "--key-type",
            "rsa2048",
        ]

    @property
    def cert(self) -> Path:
        return self.base / ".lego" / "certificates" / f"{CERT_DOMAIN}.crt"

    def run(self, hook: Path) -> subprocess.CompletedProcess[str]:
        return run([*self.common, "run", "--run-hook", str(hook)], self.env, self.base)

    def renew(self, hook: Path) -> subprocess.CompletedProcess[str]:
        # pebble's certificates live five years: more --days than that makes the renewal due now
        # --no-random-sleep: lego too waits a random while first when it renews unattended
        cmd = [*self.common, "renew", "--days", "3650", "--no-random-sleep", "--renew-hook", str(hook)]
        return run(cmd, self.env, self.base)


def lego_hook(base: Path, report_file: Path) -> Path:
    """lego runs a hook as one command split at spaces, without a shell: a script does the redirection."""
    script = base / "tms-hook.sh"
    script.write_text(
        f"#!/bin/sh\nexec {shlex.quote(str(TMSCLIENT))} renew --from-lego --non-interactive --json "
        f"> {shlex.quote(str(report_file))}\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


def test_lego_run_hook_uploads_what_lego_issued_and_renew_hook_uploads_the_new_one(staging_target, acme_ca, tmp_path):
    stack = staging_target.stack
    lego = Lego(acme_ca, tmp_path, hook_env(staging_target, tmp_path))
    report_file = tmp_path / "renew-report.json"
    hook = lego_hook(tmp_path, report_file)

    issued = lego.run(hook)
    assert issued.returncode == 0, issued.stdout + issued.stderr
    r = report(report_file)
    assert r["ok"] is True, r
    assert r["source"]["kind"] == "lego" and f"domain {CERT_DOMAIN}" in r["source"]["description"]
    first = leaf_thumbprint(lego.cert)
    assert stored_certificate(stack)["Thumbprint"] == first
    assert stored_certificate(stack)["Subject"] == f"CN={CERT_DOMAIN}"

    report_file.unlink()
    renewed = lego.renew(hook)
    assert renewed.returncode == 0, renewed.stdout + renewed.stderr
    assert report(report_file)["ok"] is True
    second = leaf_thumbprint(lego.cert)
    assert second != first
    assert stored_certificate(stack)["Thumbprint"] == second
    assert_secret_absent(stack.users[ADMIN].password, tmp_path / ".lego")


def test_a_failing_lego_hook_fails_lego(staging_target, acme_ca, tmp_path, canaries):
    stack = staging_target.stack
    before = stored_certificate(stack)
    wrong = canaries.secret("tms-password")
    lego = Lego(acme_ca, tmp_path, hook_env(staging_target, tmp_path, password=wrong))
    report_file = tmp_path / "renew-report.json"
    issued = lego.run(lego_hook(tmp_path, report_file))
    assert issued.returncode != 0, issued.stdout + issued.stderr  # lego reports the hook's failure itself
    r = report(report_file)
    assert r["ok"] is False and r["exit_code"] == 10, r
    assert stored_certificate(stack) == before
    assert wrong not in issued.stdout + issued.stderr


# ---------------------------------------------------------------- prepare mode: the hook prepares, cutover uploads


def cutover(t: StagingTarget, env: dict[str, str], prepared: Path) -> subprocess.CompletedProcess[str]:
    return run([str(TMSCLIENT), "cutover", str(prepared), "--non-interactive", "--json"], env, prepared.parent)


def assert_prepared_then_cut_over(
    t: StagingTarget, env: dict[str, str], prepared: Path, leaf: str, before: dict[str, Any]
) -> None:
    """The hook prepared (the .cer is the ACME client's certificate) and changed nothing on TMS; the cutover
    then uploads exactly that certificate."""
    assert (prepared / "manifest.json").is_file() and (prepared / "tms-cert.pfx").is_file()
    assert leaf_thumbprint(prepared / "tms-cert.cer") == leaf
    assert stored_certificate(t.stack) == before, "prepare must not change TMS"
    done = cutover(t, env, prepared)
    assert done.returncode == 0, done.stdout + done.stderr
    assert stored_certificate(t.stack)["Thumbprint"] == leaf


def test_certbot_deploy_hook_in_prepare_mode_then_cutover(staging_target, acme_ca, tmp_path):
    env = hook_env(staging_target, tmp_path)
    bot = Certbot(acme_ca, tmp_path, env)
    prepared, report_file = tmp_path / "prepared", tmp_path / "prepare-report.json"
    before = stored_certificate(staging_target.stack)
    hook = (
        f"{shlex.quote(str(TMSCLIENT))} prepare {shlex.quote(str(prepared))} --from-certbot --non-interactive "
        f"--json > {shlex.quote(str(report_file))}"
    )
    issued = bot.certonly(hook)
    assert issued.returncode == 0, issued.stdout + issued.stderr
    assert report(report_file)["ok"] is True
    assert_prepared_then_cut_over(staging_target, env, prepared, leaf_thumbprint(bot.live / "cert.pem"), before)


def test_lego_run_hook_in_prepare_mode_then_cutover(staging_target, acme_ca, tmp_path):
    env = hook_env(staging_target, tmp_path)
    lego = Lego(acme_ca, tmp_path, env)
    prepared, report_file = tmp_path / "prepared", tmp_path / "prepare-report.json"
    before = stored_certificate(staging_target.stack)
    script = tmp_path / "tms-prepare-hook.sh"
    script.write_text(
        f"#!/bin/sh\nexec {shlex.quote(str(TMSCLIENT))} prepare {shlex.quote(str(prepared))} --from-lego "
        f"--non-interactive --json > {shlex.quote(str(report_file))}\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    issued = lego.run(script)
    assert issued.returncode == 0, issued.stdout + issued.stderr
    assert report(report_file)["ok"] is True
    assert_prepared_then_cut_over(staging_target, env, prepared, leaf_thumbprint(lego.cert), before)
