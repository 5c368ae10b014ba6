#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tmsclient developers
# MIT License (see LICENSE in the tmsclient repository)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sso_certificate_stage
short_description: One step of the two-sided SSO certificate renewal on Cisco TMS (prepare, cutover, rollback)
description:
  - Runs C(tmsclient prepare), C(tmsclient cutover) or C(tmsclient rollback) for one TMS, in-process, with
    C(--json) and C(--non-interactive); every secret reaches tmsclient through the mapping it reads as its
    environment, never on a command line and never in the process environment.
  - V(prepare) builds the Windows-compatible .pfx, the .cer for the WebEx team and the hand-off note into O(dir)
    and runs a read-only preflight against TMS; nothing is saved on TMS. V(changed) when O(dir) was written.
  - V(cutover) uploads and verifies exactly what V(prepare) wrote, once the WebEx team holds the new .cer.
    V(changed) unless TMS already showed the certificate.
  - V(rollback) puts back the previous .pfx that V(prepare) kept (O(previous_pfx)); it fails with tmsclient's
    exit code 25 when none was kept.
  - Failures carry tmsclient's message, code and exit code.
version_added: 0.1.0
author: tmsclient developers (@tmsclient)
extends_documentation_fragment:
  - tmsclient.tms.target
  - tmsclient.tms.certificate
options:
  step:
    description:
      - Which step of the renewal to run.
    type: str
    required: true
    choices: [prepare, cutover, rollback]
  dir:
    description:
      - The directory V(prepare) writes (new or empty, unless O(force)) and V(cutover) and V(rollback) read.
    type: path
    required: true
  site:
    description:
      - The WebEx site, as TMS lists it; host name, site name or site URL. The same for every step.
    type: str
    required: true
  pfx:
    description:
      - With O(step=prepare), the PKCS#12 file (.pfx/.p12) of the renewed certificate. Mutually exclusive with
        O(cert).
  cert:
    description:
      - With O(step=prepare), the PEM file of the renewed certificate (it may hold the chain and the key too);
        the .pfx is built with a generated password. Mutually exclusive with O(pfx).
  previous_pfx:
    description:
      - With O(step=prepare), the .pfx TMS holds today, kept in O(dir) for a later O(step=rollback).
    type: path
  previous_pfx_password:
    description:
      - Password of O(previous_pfx). Never logged or shown.
    type: str
  target_os:
    description:
      - Windows Server version of the TMS host, for the preflight of V(prepare) (tmsclient's default is 2016).
  force:
    description:
      - With O(step=prepare), replace what an earlier V(prepare) wrote in O(dir). Without it, a O(dir) that is
        not empty fails the task.
    type: bool
    default: false
attributes:
  check_mode:
    description:
      - V(prepare) runs its read-only preflight into a temporary directory that is removed afterwards, so O(dir)
        is not written; it reports what would be prepared. V(cutover) and V(rollback) do not run and report
        V(changed) with the message C(would cut over DIR) (or C(would roll back DIR)).
    support: full
  diff_mode:
    description: Nothing to diff; the report of V(prepare) holds the plan of the cutover's Save.
    support: none
"""

EXAMPLES = r"""
- name: Prepare the renewal (nothing is saved on TMS)
  tmsclient.tms.sso_certificate_stage:
    step: prepare
    dir: /var/lib/tms-renewal/2026-12
    url: "{{ tms_url }}"
    username: 'EXAMPLE\svc-tms'
    password: "{{ vault_tms_password }}"
    site: "{{ tms_site }}"
    cert: files/cert.pem
    key: files/key.pem
    chain: [files/chain.pem]
    previous_pfx: files/current.pfx
    previous_pfx_password: "{{ vault_previous_pfx_password }}"

- name: Cut over once the WebEx team holds the new .cer
  tmsclient.tms.sso_certificate_stage:
    step: cutover
    dir: /var/lib/tms-renewal/2026-12
    url: "{{ tms_url }}"
    username: 'EXAMPLE\svc-tms'
    password: "{{ vault_tms_password }}"
    site: "{{ tms_site }}"
"""

RETURN = r"""
step:
  description: The step that ran.
  returned: success
  type: str
  sample: cutover
dir:
  description: The prepared directory.
  returned: success
  type: str
  sample: /var/lib/tms-renewal/2026-12
msg:
  description: One line on what was done (or would be done in check mode).
  returned: always
  type: str
  sample: cut over /var/lib/tms-renewal/2026-12
report:
  description:
    - tmsclient's C(--json) report of the step (the same keys as the command line's); null when a step did not
      run in check mode. A V(prepare) in check mode names a temporary directory that no longer exists.
  returned: success
  type: dict
  sample: {"ok": true, "exit_code": 0, "written": true, "saves_sent": 0}
certificate:
  description: The certificate the step put (or prepared to put) on TMS - subject, thumbprint_sha1, serial, not_after.
  returned: success and the step ran
  type: dict
  sample: {"subject": "CN=tms.example.com", "thumbprint_sha1": "0123456789ABCDEF0123456789ABCDEF01234567"}
action:
  description: With V(cutover) and V(rollback), C(uploaded) or C(unchanged).
  returned: success and the step ran
  type: str
  sample: uploaded
code:
  description: tmsclient's name of the failure (for example C(AUTH), C(PREPARED_DIR)).
  returned: failure
  type: str
  sample: AUTH
exit_code:
  description: The exit code tmsclient's command line gave.
  returned: failure
  type: int
  sample: 25
hint:
  description: How to fix the failure, when tmsclient knows.
  returned: failure
  type: str
  sample: prepare again with previous_pfx
details:
  description: Detail lines of the failure.
  returned: failure
  type: list
  elements: str
  sample: []
"""

import io
import json
import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tmsclient.tms.plugins.module_utils.tms_common import (
    CERT_ARGS,
    INTERNAL_EXIT_CODE,
    TARGET_ARGS,
    require_tmsclient,
    run_or_fail,
)

try:
    from tmsclient import cli as tmsclient_cli
    from tmsclient.commands.prepared import check_new_dir
except ImportError:
    tmsclient_cli = check_new_dir = None

#: The names in the environment mapping given to tmsclient (never os.environ) that carry each secret
SECRET_ENV = dict(
    password=("--tms-password-env", "TMSCLIENT_ANSIBLE_TMS_PASSWORD"),
    pfx_password=("--pfx-password-env", "TMSCLIENT_ANSIBLE_PFX_PASSWORD"),
    key_passphrase=("--key-passphrase-env", "TMSCLIENT_ANSIBLE_KEY_PASSPHRASE"),
    previous_pfx_password=("--previous-pfx-password-env", "TMSCLIENT_ANSIBLE_PREVIOUS_PFX_PASSWORD"),
)
PREPARE_ONLY = ("pfx", "pfx_password", "cert", "key", "key_passphrase", "previous_pfx", "previous_pfx_password")


def target_argv(p):
    """The command line's target flags for the module's options (the TMS password goes through the mapping)."""
    argv = ["--url", p["url"], "--site", p["site"], "--auth", p["auth"]]
    for option, flag in (
        ("username", "--username"),
        ("ca_bundle", "--ca-bundle"),
        ("page_profile", "--page-profile"),
        ("page_url", "--page-url"),
    ):
        if p[option] is not None:
            argv += [flag, p[option]]
    for option, flag in (("timeout", "--timeout"), ("upload_timeout", "--upload-timeout")):
        if p[option] is not None:
            argv += [flag, repr(float(p[option]))]
    if not p["validate_certs"]:
        argv.append("--insecure")
    if p["allow_http"]:
        argv.append("--allow-http")
    return argv


def prepare_argv(p, directory):
    argv = ["prepare", directory]
    if p["pfx"] is not None:
        argv += ["--pfx", p["pfx"]]
    else:
        argv += ["--cert", p["cert"]]
        if p["key"] is not None:
            argv += ["--key", p["key"]]
        for chain in p["chain"]:
            argv += ["--chain", chain]
    if p["previous_pfx"] is not None:
        argv += ["--previous-pfx", p["previous_pfx"]]
    if p["target_os"] is not None:
        argv += ["--target-os", p["target_os"]]
    if p["force"]:
        argv.append("--force")
    return argv


def run_tmsclient(module, argv):
    """tmsclient's command line in-process: its exit code, its JSON report (or None) and its warnings."""
    p = module.params
    config_home = tempfile.mkdtemp(prefix="tmsclient-ansible-")
    # Only what the module was given: an empty config home keeps a tmsclient config file on the host out.
    environ = {"HOME": config_home, "XDG_CONFIG_HOME": config_home}
    argv = [*argv, "--json", "--non-interactive", *target_argv(p)]
    for option, (flag, name) in SECRET_ENV.items():
        if p[option] is not None:
            environ[name] = p[option]
            argv += [flag, name]
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        code = tmsclient_cli.main(argv, stdout=stdout, stderr=stderr, environ=environ, interactive=False)
    finally:
        shutil.rmtree(config_home, ignore_errors=True)
    try:
        report = json.loads(stdout.getvalue())
    except ValueError:
        report = None
    lines = stderr.getvalue().splitlines()
    errors = after_prefix(lines, "tmsclient: error: ")
    return code, report, after_prefix(lines, "tmsclient: warning: "), (errors or lines[-1:] or [""])[0]


def after_prefix(lines, prefix):
    """The lines that start with ``prefix``, without it."""
    n = len(prefix)
    return [line[n:] for line in lines if line.startswith(prefix)]


def fail(module, code, report, stderr_line):
    error = report.get("error") if isinstance(report, dict) else None
    if error:
        module.fail_json(
            msg=error["message"],
            code=error["code"],
            exit_code=int(error["exit_code"]),
            hint=error.get("hint"),
            details=list(error.get("details") or []),
        )
    module.fail_json(
        msg=stderr_line or "tmsclient failed with exit code %d" % code,
        code="INTERNAL" if code == INTERNAL_EXIT_CODE else "EXIT_%d" % code,
        exit_code=code,
        hint=None,
        details=[],
    )


def step_prepare(module):
    p = module.params
    directory = p["dir"]
    scratch = None
    if module.check_mode:
        # the directory prepare would refuse, refused in check mode too
        run_or_fail(module, check_new_dir, directory, force=p["force"])
        scratch = tempfile.mkdtemp(prefix="tmsclient-prepare-check-")
        directory = os.path.join(scratch, "prepared")
    try:
        code, report, warnings, line = run_tmsclient(module, prepare_argv(p, directory))
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    if code != 0 or not isinstance(report, dict):
        fail(module, code, report, line)
    for warning in warnings + list(report.get("warnings") or []):
        module.warn(warning)
    if module.check_mode:
        msg = "would prepare %s (preflight ok, nothing saved on TMS)" % p["dir"]
        changed = True
    else:
        msg = "prepared %s (nothing saved on TMS)" % p["dir"]
        changed = bool(report.get("written"))
    module.exit_json(
        changed=changed,
        step="prepare",
        dir=p["dir"],
        msg=msg,
        report=report,
        certificate=report.get("certificate"),
    )


def step_switch(module, step):
    p = module.params
    verb = "cut over" if step == "cutover" else "roll back"
    if module.check_mode:
        module.exit_json(changed=True, step=step, dir=p["dir"], msg="would %s %s" % (verb, p["dir"]), report=None)
    code, report, warnings, line = run_tmsclient(module, [step, p["dir"]])
    if code != 0 or not isinstance(report, dict):
        fail(module, code, report, line)
    for warning in warnings:
        module.warn(warning)
    targets = report.get("targets") or []
    actions = [t.get("action") for t in targets]
    changed = any(a != "unchanged" for a in actions)
    module.exit_json(
        changed=changed,
        step=step,
        dir=p["dir"],
        msg="%s %s" % ("cut over" if step == "cutover" else "rolled back", p["dir"]),
        report=report,
        certificate=report.get("certificate"),
        action=actions[0] if actions else None,
    )


def main():
    argument_spec = dict(TARGET_ARGS, **CERT_ARGS)
    argument_spec.update(
        step=dict(type="str", required=True, choices=["prepare", "cutover", "rollback"]),
        dir=dict(type="path", required=True),
        site=dict(type="str", required=True),
        previous_pfx=dict(type="path"),
        previous_pfx_password=dict(type="str", no_log=True),
        force=dict(type="bool", default=False),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("pfx", "cert")],
        required_if=[("step", "prepare", ("pfx", "cert"), True)],
        required_by={"pfx": "pfx_password", "previous_pfx": "previous_pfx_password", "key_passphrase": "cert"},
    )
    require_tmsclient(module)
    p = module.params
    if p["step"] != "prepare":
        given = [o for o in PREPARE_ONLY if p[o] is not None] + (["chain"] if p["chain"] else [])
        if given:
            module.fail_json(
                msg="%s applies to step=prepare only" % ", ".join(given),
                code="USAGE",
                exit_code=2,
                hint="cutover and rollback read the certificate from dir",
                details=[],
            )
        step_switch(module, p["step"])
    step_prepare(module)


if __name__ == "__main__":
    main()
