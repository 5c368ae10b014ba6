"""The collection in a real ansible-playbook run: check mode, idempotence, diff, serial rollout, no secret at -vvv."""

from __future__ import annotations

import pytest

from tests.integration.ansible.conftest import Host
from tests.integration.staging.test_client import EXAMPLE

pytestmark = pytest.mark.timeout(600)


def emulator_host(name, t, f):
    return Host(
        name, t.em.url, "TMSLAB\\admin", t.password, t.em.ca_file, "acme", pfx=str(f.path), pfx_password=f.password
    )


def emulator_site(t):
    return next(s for s in t.state()["sites"] if s["site_name"] == "acme")


def saves(t):
    return [b for b in t.counters()["post_bodies"] if b["files"]]


@pytest.mark.staging
def test_check_mode_then_changed_then_ok_on_two_emulators_and_staging(
    playbook, target, staging_target, staging_pfx, canaries
):
    f = staging_pfx("legacy")  # imports on the emulators' Windows Server 2016 and on Mono alike
    one, two = target("one"), target("two")
    stack = staging_target.stack
    admin = stack.users["admin"]
    hosts = [
        emulator_host("tms-one", one, f),
        emulator_host("tms-two", two, f),
        Host("tms-staging", stack.url, admin.login, admin.password, stack.ca_file, EXAMPLE, str(f.path), f.password),
    ]
    staging_before = stack.read_data()

    check = playbook("renew.yml", hosts, "--check", "--diff")
    assert check.rc == 0, check
    assert {h: r["changed"] for h, r in check.recap().items()} == {"tms-one": 1, "tms-two": 1, "tms-staging": 1}
    assert saves(one) == saves(two) == []
    assert stack.read_data() == staging_before  # check mode stored nothing on the stand-in either
    assert "dry-run" in check.output
    # --diff: the redacted plan, field by field, the password hidden
    assert "+SSO Certificate: <file tms-cert.pfx" in check.output
    assert "-Certificate Password: (empty)" in check.output
    assert "+Certificate Password: <hidden>" in check.output

    first = playbook("renew.yml", hosts)
    assert first.rc == 0, first
    assert {h: r["changed"] for h, r in first.recap().items()} == {"tms-one": 1, "tms-two": 1, "tms-staging": 1}
    assert len(saves(one)) == len(saves(two)) == 1
    for t in (one, two):
        assert emulator_site(t)["certificate"]["thumbprint_sha1"] == f.thumbprint
    site = next(s for s in stack.read_data()["Sites"] if s["HostName"] == EXAMPLE)
    assert f.thumbprint in str(site)
    assert "uploaded, thumbprint " + f.thumbprint + ", verification certificate" in first.output

    second = playbook("renew.yml", hosts)
    assert second.rc == 0, second
    assert {h: r["changed"] for h, r in second.recap().items()} == {"tms-one": 0, "tms-two": 0, "tms-staging": 0}
    assert len(saves(one)) == len(saves(two)) == 1  # nothing posted the second time
    assert "unchanged" in second.output

    for run in (check, first, second):
        canaries.assert_clean(run.output, "ansible-playbook -vvv output")
        assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in run.output  # -vvv shows the arguments, secrets masked


def test_serial_one_a_failing_first_host_leaves_the_second_untouched(playbook, target, pfx, canaries):
    f = pfx()
    bad, good = target("bad"), target("good")
    wrong = canaries.secret("tms-password")
    hosts = [
        Host(
            "tms-bad",
            bad.em.url,
            "TMSLAB\\admin",
            wrong,
            bad.em.ca_file,
            "acme",
            pfx=str(f.path),
            pfx_password=f.password,
        ),
        emulator_host("tms-good", good, f),
    ]
    run = playbook("renew.yml", hosts, extra_vars={"tms_serial": 1})
    assert run.rc != 0, run
    (failure,) = run.failures()
    assert failure["host"] == "tms-bad"
    assert (failure["code"], failure["exit_code"]) == ("AUTH", 10)  # tmsclient's code and exit code
    assert "refused" in failure["msg"] or "401" in failure["msg"] or "password" in failure["msg"]
    assert good.counters()["requests"] == 0  # never contacted: the rollout stopped after the first host
    assert "tms-good" not in run.recap()
    canaries.assert_clean(run.output, "ansible-playbook -vvv output")


def test_an_unfit_pfx_fails_with_tmsclients_code_before_any_login(playbook, target, pfx, canaries):
    f = pfx("aes")  # AES-256: Windows Server 2016 cannot import it
    t = target("one")
    run = playbook("renew.yml", [emulator_host("tms-one", t, f)])
    assert run.rc != 0, run
    (failure,) = run.failures()
    assert (failure["code"], failure["exit_code"]) == ("CERT_UNFIT", 5)
    assert t.counters()["requests"] == 0
    canaries.assert_clean(run.output, "ansible-playbook -vvv output")


def test_the_info_module_reports_sites_and_days_left(playbook, target, pfx, canaries):
    f = pfx()
    t = target("one")
    hosts = [emulator_host("tms-one", t, f)]
    assert playbook("renew.yml", hosts).rc == 0
    posts = len(t.counters()["post_bodies"])
    run = playbook("report.yml", hosts, "--check")
    assert run.rc == 0, run
    assert run.recap()["tms-one"]["changed"] == 0
    assert "tms-one acme.webex.com: " in run.output
    assert f"thumbprint {f.thumbprint}" in run.output
    assert "days left" in run.output
    # read-only: the postbacks that open sites, but no Save
    assert [b for b in t.counters()["post_bodies"][posts:] if b["files"]] == []
    canaries.assert_clean(run.output, "ansible-playbook -vvv output")


def test_pem_files_with_an_encrypted_key(playbook, target, renewed, tmp_path, canaries):
    t, r = target("one"), renewed()
    (tmp_path / "cert.pem").write_bytes(r.cert_pem())
    (tmp_path / "chain.pem").write_bytes(r.chain_pem())
    passphrase = canaries.secret("key-passphrase")
    (tmp_path / "key.pem").write_bytes(r.key_pem(passphrase.encode()))
    host = Host(
        "tms-one",
        t.em.url,
        "TMSLAB\\admin",
        t.password,
        t.em.ca_file,
        "acme",
        cert=str(tmp_path / "cert.pem"),
        key=str(tmp_path / "key.pem"),
        chain=[str(tmp_path / "chain.pem")],
        key_passphrase=passphrase,
    )
    first = playbook("renew.yml", [host])
    assert first.rc == 0, first
    assert first.recap()["tms-one"]["changed"] == 1
    assert emulator_site(t)["certificate"]["thumbprint_sha1"] == r.thumbprint
    second = playbook("renew.yml", [host])
    assert second.rc == 0, second
    assert second.recap()["tms-one"]["changed"] == 0
    for run in (first, second):
        canaries.assert_clean(run.output, "ansible-playbook -vvv output")  # the key and its passphrase
