"""The sso_certificate_stage module in a real ansible-playbook run: prepare, cutover, a refused rollback, check mode."""

from __future__ import annotations

import importlib
import json
import os
from typing import Any

import pytest

import tmsclient.cli
from tests.integration.ansible.conftest import COLLECTIONS
from tests.integration.ansible.test_playbook import emulator_host, saves

pytestmark = pytest.mark.timeout(600)


def test_prepare_then_cutover_then_a_refused_rollback(playbook, target, pfx, tmp_path, canaries):
    f = pfx()
    t = target("one")
    hosts = [emulator_host("tms-one", t, f)]
    base = tmp_path / "renewal"
    base.mkdir()
    prepared = base / "tms-one"
    before = t.thumbprint()
    assert before != f.thumbprint

    prepare = playbook("stage.yml", hosts, extra_vars={"tms_step": "prepare", "tms_dir": str(base)})
    assert prepare.rc == 0, prepare
    assert prepare.recap()["tms-one"]["changed"] == 1
    assert saves(t) == []  # the preflight read the page; nothing was saved
    assert t.thumbprint() == before
    manifest = json.loads((prepared / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["certificate"]["thumbprint_sha1"] == f.thumbprint
    assert (prepared / "tms-cert.cer").is_file()
    assert f"prepared {prepared} (nothing saved on TMS), thumbprint {f.thumbprint}" in prepare.output

    cutover = playbook("stage.yml", hosts, extra_vars={"tms_step": "cutover", "tms_dir": str(base)})
    assert cutover.rc == 0, cutover
    assert cutover.recap()["tms-one"]["changed"] == 1
    assert len(saves(t)) == 1
    assert t.thumbprint() == f.thumbprint  # the emulator holds the prepared certificate
    record = json.loads((prepared / "cutover.json").read_text(encoding="utf-8"))
    assert record["ok"] and record["targets"][0]["action"] == "uploaded"

    again = playbook("stage.yml", hosts, extra_vars={"tms_step": "cutover", "tms_dir": str(base)})
    assert again.rc == 0, again
    assert again.recap()["tms-one"]["changed"] == 0  # TMS already shows it: nothing saved
    assert len(saves(t)) == 1

    rollback = playbook("stage.yml", hosts, extra_vars={"tms_step": "rollback", "tms_dir": str(base)})
    assert rollback.rc != 0, rollback
    (failure,) = rollback.failures()
    assert failure["host"] == "tms-one"
    assert (failure["code"], failure["exit_code"]) == ("PREPARED_CHANGED", 25)  # tmsclient's code and exit code
    assert "kept no previous .pfx" in failure["msg"]
    assert len(saves(t)) == 1
    assert t.thumbprint() == f.thumbprint
    assert not (prepared / "rollback.json").exists()  # refused before any login

    for run in (prepare, cutover, again, rollback):
        canaries.assert_clean(run.output, "ansible-playbook -vvv output")
        assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in run.output  # -vvv shows the arguments, secrets masked


def test_check_mode_writes_no_directory_and_saves_nothing(playbook, target, pfx, tmp_path, canaries):
    f = pfx()
    t = target("one")
    hosts = [emulator_host("tms-one", t, f)]
    base = tmp_path / "renewal"
    base.mkdir()
    before = t.thumbprint()

    prepare = playbook("stage.yml", hosts, "--check", extra_vars={"tms_step": "prepare", "tms_dir": str(base)})
    assert prepare.rc == 0, prepare
    assert prepare.recap()["tms-one"]["changed"] == 1
    assert f"would prepare {base / 'tms-one'} (preflight ok, nothing saved on TMS)" in prepare.output
    assert list(base.iterdir()) == []
    assert t.counters()["requests"] > 0  # the preflight ran against TMS
    assert saves(t) == []

    cutover = playbook("stage.yml", hosts, "--check", extra_vars={"tms_step": "cutover", "tms_dir": str(base)})
    assert cutover.rc == 0, cutover
    assert cutover.recap()["tms-one"]["changed"] == 1
    assert f"would cut over {base / 'tms-one'}" in cutover.output
    assert saves(t) == []
    assert t.thumbprint() == before

    for run in (prepare, cutover):
        canaries.assert_clean(run.output, "ansible-playbook -vvv output")


def test_a_wrong_tms_password_fails_prepare_with_tmsclients_code_and_writes_nothing(
    playbook, target, pfx, tmp_path, canaries
):
    f = pfx()
    t = target("one")
    host = emulator_host("tms-one", t, f)
    host.password = canaries.secret("tms-password")
    base = tmp_path / "renewal"
    base.mkdir()
    run = playbook("stage.yml", [host], extra_vars={"tms_step": "prepare", "tms_dir": str(base)})
    assert run.rc != 0, run
    (failure,) = run.failures()
    assert (failure["code"], failure["exit_code"]) == ("AUTH", 10)
    assert not (base / "tms-one" / "manifest.json").exists()
    canaries.assert_clean(run.output, "ansible-playbook -vvv output")


def test_rollback_puts_back_the_previous_pfx_that_prepare_kept(playbook, target, pfx, tmp_path, canaries):
    old, new = pfx(name="old.pfx"), pfx(name="tms-cert.pfx")  # one shared canary password
    assert old.thumbprint != new.thumbprint
    t = target("one")
    assert playbook("renew.yml", [emulator_host("tms-one", t, old)]).rc == 0
    assert t.thumbprint() == old.thumbprint
    hosts = [emulator_host("tms-one", t, new)]
    base = tmp_path / "renewal"
    base.mkdir()
    # the previous .pfx's password reaches Ansible through the environment too (the inventory's variable)
    previous = {"tms_previous_pfx": str(old.path), "tms_previous_pfx_password": "{{ tms_pfx_password }}"}

    prepare = playbook("stage.yml", hosts, extra_vars={"tms_step": "prepare", "tms_dir": str(base), **previous})
    assert prepare.rc == 0, prepare
    manifest = json.loads((base / "tms-one" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["previous"]["certificate"]["thumbprint_sha1"] == old.thumbprint
    cutover = playbook("stage.yml", hosts, extra_vars={"tms_step": "cutover", "tms_dir": str(base)})
    assert cutover.rc == 0, cutover
    assert t.thumbprint() == new.thumbprint

    rollback = playbook("stage.yml", hosts, extra_vars={"tms_step": "rollback", "tms_dir": str(base)})
    assert rollback.rc == 0, rollback
    assert rollback.recap()["tms-one"]["changed"] == 1
    assert t.thumbprint() == old.thumbprint
    assert len(saves(t)) == 3  # renew, cutover, rollback
    assert f"rolled back {base / 'tms-one'}, thumbprint {old.thumbprint}" in rollback.output

    for run in (prepare, cutover, rollback):
        canaries.assert_clean(run.output, "ansible-playbook -vvv output")


class FakeModule:
    """What run_tmsclient reads of an AnsibleModule."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        self.check_mode = False


def test_secrets_reach_tmsclient_only_through_the_environ_mapping(target, renewed, tmp_path, canaries, monkeypatch):
    monkeypatch.syspath_prepend(str(COLLECTIONS))
    stage = importlib.import_module("ansible_collections.tmsclient.tms.plugins.modules.sso_certificate_stage")
    t, r = target("one"), renewed()
    passphrase = canaries.secret("key-passphrase")
    (tmp_path / "cert.pem").write_bytes(r.cert_pem())
    (tmp_path / "chain.pem").write_bytes(r.chain_pem())
    (tmp_path / "key.pem").write_bytes(r.key_pem(passphrase.encode()))
    calls = []
    real_main = tmsclient.cli.main

    def spy(argv, **kwargs):
        calls.append((list(argv), dict(kwargs["environ"]), dict(os.environ)))
        return real_main(argv, **kwargs)

    monkeypatch.setattr(tmsclient.cli, "main", spy)
    params = {
        **{k: None for k in stage.SECRET_ENV},
        "url": t.em.url,
        "username": "TMSLAB\\admin",
        "password": t.password,
        "auth": "auto",
        "ca_bundle": t.em.ca_file,
        "validate_certs": True,
        "allow_http": False,
        "timeout": None,
        "upload_timeout": None,
        "page_profile": None,
        "page_url": None,
        "site": "acme",
        "pfx": None,
        "cert": str(tmp_path / "cert.pem"),
        "key": str(tmp_path / "key.pem"),
        "chain": [str(tmp_path / "chain.pem")],
        "key_passphrase": passphrase,
        "previous_pfx": None,
        "target_os": None,
        "force": False,
    }
    directory = str(tmp_path / "prepared")
    code, report, _, _ = stage.run_tmsclient(FakeModule(params), stage.prepare_argv(params, directory))
    assert code == 0, report
    assert report["written"] and report["saves_sent"] == 0
    assert report["certificate"]["thumbprint_sha1"] == r.thumbprint
    ((argv, environ, process_env),) = calls
    assert {"--json", "--non-interactive", "--tms-password-env", "--key-passphrase-env"} <= set(argv)
    for secret in (t.password, passphrase):
        assert secret not in " ".join(argv)
        assert secret in environ.values()
        assert secret not in process_env.values()
    assert not any(k.startswith("TMSCLIENT_ANSIBLE") for k in os.environ)
